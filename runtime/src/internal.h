/* internal.h - helpers shared by the runtime's math sources.
 *
 * Bit access goes through unions (no memcpy: the runtime calls nothing).
 * The double-double helpers need exact IEEE double arithmetic: the runtime
 * is compiled with -ffp-contract=off so that no a*b+c is fused behind our
 * back, and targets without excess precision (SSE2, AArch64).
 */
#ifndef TIDALRT_INTERNAL_H
#define TIDALRT_INTERNAL_H

#include "tidalrt.h"
#include <stdint.h>

static inline uint64_t tidal_bits(double x) {
  union { double f; uint64_t i; } u;
  u.f = x;
  return u.i;
}
static inline double tidal_from_bits(uint64_t i) {
  union { double f; uint64_t i; } u;
  u.i = i;
  return u.f;
}
static inline uint32_t tidal_bitsf(float x) {
  union { float f; uint32_t i; } u;
  u.f = x;
  return u.i;
}

#define TIDAL_INF tidal_from_bits(0x7ff0000000000000ull)
#define TIDAL_NAN tidal_from_bits(0x7ff8000000000000ull)

static inline int tidal_isnan(double x) {
  return (tidal_bits(x) & 0x7fffffffffffffffull) > 0x7ff0000000000000ull;
}
static inline double tidal_fabs(double x) {
  return tidal_from_bits(tidal_bits(x) & 0x7fffffffffffffffull);
}
static inline double tidal_copysign(double x, double s) {
  return tidal_from_bits((tidal_bits(x) & 0x7fffffffffffffffull) |
                         (tidal_bits(s) & 0x8000000000000000ull));
}

/* x * 2^n without double rounding in the subnormal range. */
double tidal__scalbn(double x, int n);
/* exp(x) - 1, accurate for small |x| (|x| <= 1.5 is all the runtime uses). */
double tidal__expm1(double x);
/* x reduced by multiples of pi/2: returns n (mod 8 at least) with
 * x = n*pi/2 + *hi + *lo, |*hi + *lo| <= ~pi/4. */
int tidal__rem_pio2(double x, double *hi, double *lo);

/* Double-double arithmetic (value = hi + lo, |lo| <= ulp(hi)/2). */
typedef struct { double hi, lo; } tidal_dd;

static inline tidal_dd tidal_two_sum(double a, double b) {
  tidal_dd r;
  double bb;
  r.hi = a + b;
  bb = r.hi - a;
  r.lo = (a - (r.hi - bb)) + (b - bb);
  return r;
}
static inline tidal_dd tidal_quick_two_sum(double a, double b) { /* |a|>=|b| */
  tidal_dd r;
  r.hi = a + b;
  r.lo = b - (r.hi - a);
  return r;
}
static inline tidal_dd tidal_two_prod(double a, double b) {
  const double Split = 134217729.0; /* 2^27 + 1 */
  double t, ah, al, bh, bl;
  tidal_dd r;
  t = Split * a;
  ah = t - (t - a);
  al = a - ah;
  t = Split * b;
  bh = t - (t - b);
  bl = b - bh;
  r.hi = a * b;
  r.lo = ((ah * bh - r.hi) + ah * bl + al * bh) + al * bl;
  return r;
}
static inline tidal_dd tidal_dd_mul(tidal_dd a, tidal_dd b) {
  tidal_dd p = tidal_two_prod(a.hi, b.hi);
  p.lo += a.hi * b.lo + a.lo * b.hi;
  return tidal_quick_two_sum(p.hi, p.lo);
}
static inline tidal_dd tidal_dd_add(tidal_dd a, tidal_dd b) {
  tidal_dd s = tidal_two_sum(a.hi, b.hi);
  s.lo += a.lo + b.lo;
  return tidal_quick_two_sum(s.hi, s.lo);
}
static inline tidal_dd tidal_dd_make(double hi, double lo) {
  tidal_dd r;
  r.hi = hi;
  r.lo = lo;
  return r;
}

#endif /* TIDALRT_INTERNAL_H */
