/* special.c - erf, tanh and sigmoid.
 *
 * erf: for |x| < 1.25 the alternating Taylor series (little cancellation
 * there); beyond, 1 - erfc(x) with erfc from its continued fraction,
 * evaluated backwards with enough terms for the range, and e^(-x^2) with
 * x^2 split exactly into two doubles so that it keeps full precision.
 * The f32 version stops earlier (2^-32 instead of 2^-57).
 * tanh: 1 - 2/(e^(2|x|) + 1) for |x| >= 0.55, t/(t + 2) with
 * t = expm1(2|x|) below (no cancellation). sigmoid: 1/(1 + e^-x) for
 * x >= 0 and e^x/(1 + e^x) below, so neither side overflows.
 */
#include "internal.h"

static const double TwoOverSqrtPi = 0x1.20dd750429b6dp+0;
static const double InvSqrtPi = 0x1.20dd750429b6dp-1;

static double erf_taylor(double a, double tol) {
  double a2 = a * a, term = a, sum = a;
  int n;
  for (n = 1; n < 60; ++n) {
    double t;
    term *= -a2 / n; /* (-1)^n a^(2n+1) / n! */
    t = term / (2 * n + 1);
    sum += t;
    if (tidal_fabs(t) <= tol * tidal_fabs(sum))
      break;
  }
  return TwoOverSqrtPi * sum;
}

/* erfc(a) for a >= 1.25, by the continued fraction
 * erfc(a) = e^(-a^2)/sqrt(pi) / (a + (1/2)/(a + 1/(a + (3/2)/(a + ...)))). */
static double erfc_cf(double a, int terms) {
  tidal_dd a2 = tidal_two_prod(a, a);
  double f = a;
  int k;
  for (k = terms; k >= 1; --k)
    f = a + (0.5 * k) / f;
  return tidal_exp(-a2.hi) * (1.0 - a2.lo) * InvSqrtPi / f;
}

/* Terms of the continued fraction that reach 2^-54 (f64) or 2^-26 (f32)
 * relative to erf(a), measured against a reference. */
static int erfc_terms(double a, int f32) {
  if (f32)
    return a < 1.5 ? 45 : a < 2.0 ? 30 : 20;
  return a < 1.5 ? 130 : a < 2.0 ? 90 : a < 2.5 ? 60 : 45;
}

static double erf_impl(double x, int f32) {
  double a = tidal_fabs(x), r;
  if (tidal_isnan(x))
    return x + x;
  if (a < 0x1p-28)
    return x + x * (TwoOverSqrtPi - 1.0);
  if (a < 1.25)
    r = erf_taylor(a, f32 ? 0x1p-32 : 0x1p-57);
  else if (a < (f32 ? 4.0 : 6.0))
    r = 1.0 - erfc_cf(a, erfc_terms(a, f32));
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
