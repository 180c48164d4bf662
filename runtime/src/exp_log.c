/* exp_log.c - exp, expm1 and log.
 *
 * exp: the classic argument reduction x = k*ln2 + r, |r| <= ln2/2, with ln2
 * split so that k*ln2_hi is exact, and a rational approximation
 * exp(r) = 1 + 2r/(2 - R(r)) where R is a degree-10 even minimax
 * polynomial (the fdlibm scheme, < 1 ulp). log: x = 2^k * m with m in
 * [sqrt(2)/2, sqrt(2)), f = m - 1, s = f/(2+f), log(m) = f - f^2/2 +
 * s*(f^2/2 + R(s^2)) with a degree-14 minimax R (< 1 ulp). The f32
 * versions evaluate the f64 ones: the result is the correctly rounded f32
 * except in astronomically rare double-rounding cases.
 */
#include "internal.h"

static const double Ln2Hi = 6.93147180369123816490e-01;  /* 0x3fe62e42fee00000 */
static const double Ln2Lo = 1.90821492927058770002e-10;  /* 0x3dea39ef35793c76 */
static const double InvLn2 = 1.44269504088896338700e+00;
static const double ExpOver = 7.09782712893383973096e+02;
static const double ExpUnder = -7.45133219101941108420e+02;
static const double P1 = 1.66666666666666019037e-01;
static const double P2 = -2.77777777770155933842e-03;
static const double P3 = 6.61375632143793436117e-05;
static const double P4 = -1.65339022054652515390e-06;
static const double P5 = 4.13813679705723846039e-08;

double tidal__scalbn(double x, int n) {
  if (n > 1023) {
    x *= 0x1p1023;
    n -= 1023;
    if (n > 1023) {
      x *= 0x1p1023;
      n -= 1023;
      if (n > 1023)
        n = 1023;
    }
  } else if (n < -1022) {
    /* Scale by 2^-1022 * 2^53 first so the last multiply rounds once. */
    x *= 0x1p-1022 * 0x1p53;
    n += 1022 - 53;
    if (n < -1022) {
      x *= 0x1p-1022 * 0x1p53;
      n += 1022 - 53;
      if (n < -1022)
        n = -1022;
    }
  }
  return x * tidal_from_bits((uint64_t)(0x3ff + n) << 52);
}

double tidal_exp(double x) {
  uint32_t hx = (uint32_t)(tidal_bits(x) >> 32) & 0x7fffffff;
  double hi = 0, lo = 0, t, c, y;
  int k = 0;
  if (hx >= 0x40862e42) { /* |x| >= 709.78, or NaN */
    if (tidal_isnan(x))
      return x + x;
    if (x > ExpOver)
      return TIDAL_INF;
    if (x < ExpUnder)
      return 0.0;
  }
  if (hx > 0x3fd62e42) { /* |x| > ln2/2 */
    k = (int)(InvLn2 * x + (x < 0 ? -0.5 : 0.5));
    hi = x - k * Ln2Hi; /* exact */
    lo = k * Ln2Lo;
    x = hi - lo;
  } else if (hx < 0x3e300000) { /* |x| < 2^-28 */
    return 1.0 + x;
  }
  t = x * x;
  c = x - t * (P1 + t * (P2 + t * (P3 + t * (P4 + t * P5))));
  if (k == 0)
    return 1.0 - ((x * c) / (c - 2.0) - x);
  y = 1.0 - ((lo - (x * c) / (2.0 - c)) - hi);
  return tidal__scalbn(y, k);
}

float tidal_expf(float x) { return (float)tidal_exp((double)x); }

/* 1/n! for n = 2..26, correctly rounded. */
static const double InvFact[25] = {
  0x1.0000000000000p-1, /* 1/2! */
  0x1.5555555555555p-3, /* 1/3! */
  0x1.5555555555555p-5, /* 1/4! */
  0x1.1111111111111p-7, /* 1/5! */
  0x1.6c16c16c16c17p-10, /* 1/6! */
  0x1.a01a01a01a01ap-13, /* 1/7! */
  0x1.a01a01a01a01ap-16, /* 1/8! */
  0x1.71de3a556c734p-19, /* 1/9! */
  0x1.27e4fb7789f5cp-22, /* 1/10! */
  0x1.ae64567f544e4p-26, /* 1/11! */
  0x1.1eed8eff8d898p-29, /* 1/12! */
  0x1.6124613a86d09p-33, /* 1/13! */
  0x1.93974a8c07c9dp-37, /* 1/14! */
  0x1.ae7f3e733b81fp-41, /* 1/15! */
  0x1.ae7f3e733b81fp-45, /* 1/16! */
  0x1.952c77030ad4ap-49, /* 1/17! */
  0x1.6827863b97d97p-53, /* 1/18! */
  0x1.2f49b46814157p-57, /* 1/19! */
  0x1.e542ba4020225p-62, /* 1/20! */
  0x1.71b8ef6dcf572p-66, /* 1/21! */
  0x1.0ce396db7f853p-70, /* 1/22! */
  0x1.761b41316381ap-75, /* 1/23! */
  0x1.f2cf01972f578p-80, /* 1/24! */
  0x1.3f3ccdd165fa9p-84, /* 1/25! */
  0x1.88e85fc6a4e5ap-89, /* 1/26! */
};

/* exp(x) - 1: a Taylor polynomial on |x| <= 1.125 (the leading x is
 * exact, so the relative error stays near 1 ulp), exp(x) - 1 beyond. */
double tidal__expm1(double x) {
  double p = 0.0;
  int n;
  if (!(tidal_fabs(x) <= 1.125))
    return tidal_exp(x) - 1.0;
  for (n = 24; n >= 0; --n) /* p = sum_{n>=2} x^(n-2)/n! */
    p = InvFact[n] + x * p;
  return x + x * x * p;
}

static const double Lg1 = 6.666666666666735130e-01;
static const double Lg2 = 3.999999999940941908e-01;
static const double Lg3 = 2.857142874366239149e-01;
static const double Lg4 = 2.222219843214978396e-01;
static const double Lg5 = 1.818357216161805012e-01;
static const double Lg6 = 1.531383769920937332e-01;
static const double Lg7 = 1.479819860511658591e-01;

double tidal_log(double x) {
  uint64_t ix = tidal_bits(x);
  uint32_t hx = (uint32_t)(ix >> 32);
  int k = 0;
  double f, hfsq, s, z, w, t1, t2, r, dk;
  if (hx < 0x00100000 || (hx >> 31)) {
    if ((ix << 1) == 0)
      return -TIDAL_INF; /* log(+-0) */
    if (hx >> 31)
      return tidal_isnan(x) ? x + x : TIDAL_NAN; /* log(negative) */
    k -= 54; /* subnormal: scale up */
    x *= 0x1p54;
    ix = tidal_bits(x);
    hx = (uint32_t)(ix >> 32);
  } else if (hx >= 0x7ff00000) {
    return x + x; /* inf or NaN */
  } else if (ix == 0x3ff0000000000000ull) {
    return 0.0;
  }
  /* Reduce x to m in [sqrt(2)/2, sqrt(2)). */
  hx += 0x3ff00000 - 0x3fe6a09e;
  k += (int)(hx >> 20) - 0x3ff;
  hx = (hx & 0x000fffff) + 0x3fe6a09e;
  x = tidal_from_bits((uint64_t)hx << 32 | (ix & 0xffffffffull));
  f = x - 1.0;
  hfsq = 0.5 * f * f;
  s = f / (2.0 + f);
  z = s * s;
  w = z * z;
  t1 = w * (Lg2 + w * (Lg4 + w * Lg6));
  t2 = z * (Lg1 + w * (Lg3 + w * (Lg5 + w * Lg7)));
  r = t2 + t1;
  dk = k;
  return s * (hfsq + r) + dk * Ln2Lo - hfsq + f + dk * Ln2Hi;
}

float tidal_logf(float x) { return (float)tidal_log((double)x); }
