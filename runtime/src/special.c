/* special.c - erf, tanh and sigmoid.
 *
 * erf: for |x| < 1 the alternating Taylor series (little cancellation
 * there); beyond, 1 - erfc(x) with erfc from its continued fraction,
 * evaluated backwards with enough terms for the range, and e^(-x^2) with
 * x^2 split exactly into two doubles so that it keeps full precision.
 * The f32 version uses fewer Taylor terms (error 2^-32 instead of 2^-60)
 * and polynomial fits of erfc(x) e^(x^2) instead of the continued fraction.
 * tanh: 1 - 2/(e^(2|x|) + 1) for |x| >= 0.55, t/(t + 2) with
 * t = expm1(2|x|) below (no cancellation). sigmoid: 1/(1 + e^-x) for
 * x >= 0 and e^x/(1 + e^x) below, so neither side overflows.
 */
#include "internal.h"

static const double TwoOverSqrtPi = 0x1.20dd750429b6dp+0;
static const double InvSqrtPi = 0x1.20dd750429b6dp-1;

/* erf(a)/a = sum c_n a^(2n), c_n = 2/sqrt(pi) (-1)^n / (n! (2n+1)),
 * correctly rounded; 21 terms reach 2^-60 at a = 1. */
static const double ErfTaylor[21] = {
    0x1.20dd750429b6dp+0,
    -0x1.812746b0379e7p-2,
    0x1.ce2f21a042be2p-4,
    -0x1.b82ce31288b51p-6,
    0x1.565bcd0e6a53fp-8,
    -0x1.c02db40040b86p-11,
    0x1.f9a326f9b89b7p-14,
    -0x1.f4d25c3e0c2ebp-17,
    0x1.b9e6c9dc651a3p-20,
    -0x1.5f742ec43e71ap-23,
    0x1.fcc5720624c1cp-27,
    -0x1.51d7181c5d36dp-30,
    0x1.9e6ad5e55a730p-34,
    -0x1.d8453cb0c46eap-38,
    0x1.f683ae4a97007p-42,
    -0x1.f56f071a885cfp-46,
    0x1.d70b3537f4765p-50,
    -0x1.a2007af3447f6p-54,
    0x1.5f7919bc67b8cp-58,
    -0x1.18cc8a061c479p-62,
    0x1.ab5cc31489f29p-67,
};

static double erf_taylor(double a, int terms) {
  double z = a * a, p = 0.0;
  int n;
  for (n = terms - 1; n >= 0; --n)
    p = ErfTaylor[n] + z * p;
  return a * p;
}

/* erfc(a) for a >= 1, by the continued fraction
 * erfc(a) = e^(-a^2)/sqrt(pi) / (a + (1/2)/(a + 1/(a + (3/2)/(a + ...)))). */
static double erfc_cf(double a, int terms) {
  tidal_dd a2 = tidal_two_prod(a, a);
  double f = a;
  int k;
  for (k = terms; k >= 1; --k)
    f = a + (0.5 * k) / f;
  return tidal_exp(-a2.hi) * (1.0 - a2.lo) * InvSqrtPi / f;
}

/* f32 only: erfc(a) e^(a^2) on [1, 4) as three degree-7 polynomials in
 * (a - center) / half-width (Chebyshev fits; relative error < 5e-9, far
 * below an f32 ulp of erf). */
static const struct {
  double Center, InvHalfWidth, P[8];
} ErfcFit[3] = {
  {0x1.6000000000000p+0, 0x1.5555555555555p+1, {-0x1.0d9d73561039bp-20, 0x1.f22208b82ab1cp-18, -0x1.a721467bbb7f4p-15, 0x1.621a97661394bp-12, -0x1.17f5b7ddbf3fbp-9, 0x1.9e15f12aaf385p-7, -0x1.1b1bcaad5c38fp-4, 0x1.5f88f51db8fe1p-2}}, /* [1, 1.75): 3.2e-09 */
  {0x1.2000000000000p+1, 0x1.0000000000000p+1, {-0x1.c05ccf8636ad8p-21, 0x1.7d42b469ba89dp-18, -0x1.2ba6305aa7fe1p-15, 0x1.da09ba6cfe10cp-13, -0x1.68844063b70b2p-10, 0x1.0615a6f0e7f17p-7, -0x1.6a70d2a98035cp-5, 0x1.d94446b6316a4p-3}}, /* [1.75, 2.75): 4.2e-09 */
  {0x1.b000000000000p+1, 0x1.999999999999ap+0, {-0x1.adcf07acefb9ep-22, 0x1.713c898babe7ep-19, -0x1.28ab5d72a6ec2p-16, 0x1.e56af8033dac0p-14, -0x1.8339e90356bdcp-11, 0x1.2c3c343a0d1e2p-8, -0x1.c3c8827daa3afp-6, 0x1.48f8f0f34bdedp-3}}, /* [2.75, 4): 2.9e-09 */
};

static double erfc_fit(double a) {
  int I = a < 1.75 ? 0 : a < 2.75 ? 1 : 2, K;
  double t = (a - ErfcFit[I].Center) * ErfcFit[I].InvHalfWidth, p = 0.0;
  tidal_dd a2 = tidal_two_prod(a, a);
  for (K = 0; K < 8; ++K)
    p = p * t + ErfcFit[I].P[K];
  return tidal_exp(-a2.hi) * (1.0 - a2.lo) * p;
}

/* Terms of the continued fraction that reach 2^-54 relative to erf(a),
 * measured against a reference. */
static int erfc_terms(double a) {
  return a < 1.25 ? 200 : a < 1.5 ? 130 : a < 2.0 ? 90 : a < 2.5 ? 60 : 45;
}

static double erf_impl(double x, int f32) {
  double a = tidal_fabs(x), r;
  if (tidal_isnan(x))
    return x + x;
  if (a < 0x1p-28)
    return x + x * (TwoOverSqrtPi - 1.0);
  if (a < 1.0)
    r = erf_taylor(a, f32 ? 12 : 21);
  else if (f32 && a < 4.0)
    r = 1.0 - erfc_fit(a);
  else if (!f32 && a < 6.0)
    r = 1.0 - erfc_cf(a, erfc_terms(a));
  else
    r = 1.0;
  return tidal_copysign(r, x);
}

double tidal_erf(double x) { return erf_impl(x, 0); }
float tidal_erff(float x) { return (float)erf_impl((double)x, 1); }

double tidal_tanh(double x) {
  double a = tidal_fabs(x), r;
  if (tidal_isnan(x))
    return x + x;
  if (a > 22.0)
    return tidal_copysign(1.0, x);
  if (a < 0x1p-28)
    return x;
  if (a >= 0.55) {
    r = 1.0 - 2.0 / (tidal_exp(2.0 * a) + 1.0);
  } else {
    double t = tidal__expm1(2.0 * a);
    r = t / (t + 2.0);
  }
  return tidal_copysign(r, x);
}

float tidal_tanhf(float x) { return (float)tidal_tanh((double)x); }

double tidal_sigmoid(double x) {
  if (x >= 0)
    return 1.0 / (1.0 + tidal_exp(-x));
  {
    double e = tidal_exp(x); /* NaN lands here and stays NaN */
    return e / (1.0 + e);
  }
}

float tidal_sigmoidf(float x) { return (float)tidal_sigmoid((double)x); }
