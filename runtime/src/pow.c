/* pow.c - pow and powf.
 *
 * Special cases follow C99 Annex F exactly (pow(x, +-0) = 1 even for NaN
 * x, pow(1, y) = 1, negative bases with integer exponents, zeros and
 * infinities). The general case computes log2|x| in double-double
 * arithmetic (about 100 bits), multiplies by y in double-double, and
 * evaluates 2^(n + r) = 2^n * e^(r ln2) with |r| <= 1/2: the exponent
 * error stays below 2^-64 even for |y log2 x| near 1075, so the result is
 * within about 1 ulp. powf evaluates pow in double and rounds once.
 */
#include "internal.h"

static const tidal_dd TwoThirds = {0x1.5555555555555p-1, 0x1.5555555555555p-55};
static const tidal_dd TwoFifths = {0x1.999999999999ap-2, -0x1.999999999999ap-56};
static const tidal_dd InvLn2 = {0x1.71547652b82fep+0, 0x1.777d0ffda0d24p-56};
static const tidal_dd Ln2 = {0x1.62e42fefa39efp-1, 0x1.abc9e3b39803fp-56};

/* 0: not an integer, 1: odd integer, 2: even integer (finite y only). */
static int integer_kind(double y) {
  double a = tidal_fabs(y);
  int64_t i;
  if (a >= 0x1p53)
    return 2;
  i = (int64_t)a;
  if ((double)i != a)
    return 0;
  return (i & 1) ? 1 : 2;
}

/* log2(x) for finite x > 0, in double-double. */
static tidal_dd log2_dd(double x) {
  uint64_t ix = tidal_bits(x);
  int k = 0;
  double m, f, sh, sl, r, z, tail;
  tidal_dd den, p, s, s2, s3, s5, ln;
  if ((ix >> 52) == 0) { /* subnormal */
    x *= 0x1p54;
    ix = tidal_bits(x);
    k = -54;
  }
  k += (int)(ix >> 52) - 1023;
  m = tidal_from_bits((ix & 0x000fffffffffffffull) | 0x3ff0000000000000ull);
  if (m > 0x1.6a09e667f3bcdp+0) { /* sqrt(2) */
    m *= 0.5;
    k += 1;
  }
  f = m - 1.0; /* exact */
  /* s = f / (2 + f) in double-double. */
  den = tidal_two_sum(2.0, f);
  sh = f / den.hi;
  p = tidal_two_prod(sh, den.hi);
  r = ((f - p.hi) - p.lo) - sh * den.lo;
  sl = r / den.hi;
  s = tidal_quick_two_sum(sh, sl);
  /* ln(m) = 2 atanh(s) = 2s + 2s^3/3 + 2s^5/5 + s^7 (2/7 + 2s^2/9 + ...). */
  s2 = tidal_dd_mul(s, s);
  s3 = tidal_dd_mul(s2, s);
  s5 = tidal_dd_mul(s3, s2);
  z = s2.hi;
  tail = 2.0 / 25;
  tail = 2.0 / 23 + z * tail;
  tail = 2.0 / 21 + z * tail;
  tail = 2.0 / 19 + z * tail;
  tail = 2.0 / 17 + z * tail;
  tail = 2.0 / 15 + z * tail;
  tail = 2.0 / 13 + z * tail;
  tail = 2.0 / 11 + z * tail;
  tail = 2.0 / 9 + z * tail;
  tail = 2.0 / 7 + z * tail;
  tail *= s5.hi * z;
  ln = tidal_dd_add(tidal_dd_make(2 * s.hi, 2 * s.lo), tidal_dd_mul(TwoThirds, s3));
  ln = tidal_dd_add(ln, tidal_dd_mul(TwoFifths, s5));
  ln = tidal_dd_add(ln, tidal_dd_make(tail, 0.0));
  return tidal_dd_add(tidal_dd_make((double)k, 0.0), tidal_dd_mul(ln, InvLn2));
}

/* 2^(hi + lo) for |hi| <= ~1100. */
static double exp2_dd(tidal_dd e) {
  double n, q, th;
  tidal_dd r, t;
  if (e.hi > 1100.0)
    return TIDAL_INF;
  if (e.hi < -1100.0)
    return 0.0;
  n = (double)(int64_t)(e.hi + (e.hi < 0 ? -0.5 : 0.5));
  r = tidal_two_sum(e.hi - n, e.lo);
  t = tidal_dd_mul(r, Ln2); /* |t| <= 0.35 */
  th = t.hi;
  q = 1.0 / 87178291200.0;
  q = 1.0 / 6227020800.0 + th * q;
  q = 1.0 / 479001600.0 + th * q;
  q = 1.0 / 39916800.0 + th * q;
  q = 1.0 / 3628800.0 + th * q;
  q = 1.0 / 362880.0 + th * q;
  q = 1.0 / 40320.0 + th * q;
  q = 1.0 / 5040.0 + th * q;
  q = 1.0 / 720.0 + th * q;
  q = 1.0 / 120.0 + th * q;
  q = 1.0 / 24.0 + th * q;
  q = 1.0 / 6.0 + th * q;
  q = 0.5 + th * q;
  q = th + th * th * q; /* e^th - 1 */
  return tidal__scalbn(1.0 + (q + t.lo * (1.0 + q)), (int)n);
}

double tidal_pow(double x, double y) {
  int yk, negate = 0;
  double ax = tidal_fabs(x), r;
  if (y == 0.0 || x == 1.0)
    return 1.0;
  if (tidal_isnan(x) || tidal_isnan(y))
    return x + y;
  if (tidal_fabs(y) == TIDAL_INF) {
    if (ax == 1.0)
      return 1.0;
    return ((ax < 1.0) == (y > 0)) ? 0.0 : TIDAL_INF;
  }
  yk = integer_kind(y);
  if (x == 0.0 || ax == TIDAL_INF) {
    /* Zero and infinity swap roles with the sign of y. */
    int big = (x == 0.0) == (y < 0);
    negate = (tidal_bits(x) >> 63) && yk == 1;
    r = big ? TIDAL_INF : 0.0;
    return negate ? -r : r;
  }
  if (tidal_fabs(y) > 0x1p64) { /* |y log2|x|| > 2^11: overflow or underflow */
    if (ax == 1.0) /* x = -1, y even */
      return 1.0;
    return ((ax > 1.0) == (y > 0)) ? TIDAL_INF : 0.0;
  }
  if (x < 0) {
    if (yk == 0)
      return TIDAL_NAN;
    negate = yk == 1;
  }
  if (y == 1.0)
    r = ax;
  else if (y == 2.0)
    r = ax * ax;
  else if (y == -1.0)
    r = 1.0 / ax;
  else {
    tidal_dd l = log2_dd(ax);
    tidal_dd p = tidal_two_prod(l.hi, y);
    p.lo += l.lo * y;
    r = exp2_dd(tidal_quick_two_sum(p.hi, p.lo));
  }
  return negate ? -r : r;
}

float tidal_powf(float x, float y) {
  return (float)tidal_pow((double)x, (double)y);
}
