/* fmod.c - fmod and fmodf, exact.
 *
 * The classic shift-and-subtract long division on the integer mantissas:
 * the remainder of x by y is exact in floating point, so the result needs
 * no rounding. The sign is x's; fmod(x, 0), fmod(inf, y) and NaNs give
 * NaN; fmod(x, inf) is x. fmodf uses the f64 version, whose result is
 * exactly representable in f32.
 */
#include "internal.h"

/* The integer mantissa, implicit bit included, of the finite nonzero
 * double with bits u and biased exponent *e. A subnormal's (*e = 0) is
 * normalized, and *e lowered to match. */
static uint64_t mantissa(uint64_t u, int *e) {
  uint64_t i;
  if (*e)
    return (u & 0x000fffffffffffffull) | (1ull << 52);
  for (i = u << 12; !(i >> 63); i <<= 1)
    --*e;
  return u << (1 - *e);
}

double tidal_fmod(double x, double y) {
  uint64_t ux = tidal_bits(x), uy = tidal_bits(y);
  uint64_t sx = ux & 0x8000000000000000ull, mx, my, i;
  int ex = (int)(ux >> 52 & 0x7ff), ey = (int)(uy >> 52 & 0x7ff);
  if ((uy << 1) == 0 || tidal_isnan(y) || ex == 0x7ff)
    return tidal_isnan(x) || tidal_isnan(y) ? x + y : TIDAL_NAN;
  if ((ux << 1) <= (uy << 1)) {
    if ((ux << 1) == (uy << 1))
      return tidal_from_bits(sx); /* +-0 */
    return x;                     /* |x| < |y| (also y infinite) */
  }
  mx = mantissa(ux, &ex);
  my = mantissa(uy, &ey);
  for (;; --ex) { /* |x| > |y|: ex >= ey; one quotient bit per step */
    i = mx - my;
    if (!(i >> 63)) {
      if (i == 0)
        return tidal_from_bits(sx);
      mx = i;
    }
    if (ex == ey)
      break;
    mx <<= 1;
  }
  for (; !(mx >> 52); mx <<= 1)
    --ex;
  if (ex > 0)
    mx = (mx - (1ull << 52)) | ((uint64_t)ex << 52);
  else
    mx >>= 1 - ex;
  return tidal_from_bits(mx | sx);
}

float tidal_fmodf(float x, float y) {
  return (float)tidal_fmod((double)x, (double)y);
}
