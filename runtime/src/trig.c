/* trig.c - sin and cos.
 *
 * Argument reduction x = n*pi/2 + y: for |x| < 2^20 pi/2 with pi/2 in
 * three 33-bit pieces (Cody-Waite, one to three steps depending on the
 * cancellation, as fdlibm's rem_pio2 does); beyond, Payne-Hanek: the
 * fraction of x*2/pi is taken from a 224-bit window of 2/pi multiplied
 * exactly by the 53-bit mantissa of x, which leaves more than 150 correct
 * fraction bits, enough for the worst cancellation of any double. The
 * kernels are the fdlibm minimax polynomials on [-pi/4, pi/4] with the
 * tail y folded in. The f32 versions evaluate the f64 ones.
 */
#include "internal.h"

static const double InvPio2 = 0x1.45f306dc9c883p-1;
static const double Pio2_1 = 0x1.921fb54400000p+0;
static const double Pio2_1t = 0x1.0b4611a626331p-34;
static const double Pio2_2 = 0x1.0b4611a600000p-34;
static const double Pio2_2t = 0x1.3198a2e037073p-69;
static const double Pio2_3 = 0x1.3198a2e000000p-69;
static const double Pio2_3t = 0x1.b839a252049c1p-104;
static const tidal_dd Pio2 = {0x1.921fb54442d18p+0, 0x1.1a62633145c07p-54};

/* The bits of 2/pi after the binary point, 32 per word, most significant
 * first. */
static const uint32_t TwoOverPi[48] = {
    0xa2f9836eu, 0x4e441529u, 0xfc2757d1u, 0xf534ddc0u, 0xdb629599u,
    0x3c439041u, 0xfe5163abu, 0xdebbc561u, 0xb7246e3au, 0x424dd2e0u,
    0x06492eeau, 0x09d1921cu, 0xfe1deb1cu, 0xb129a73eu, 0xe88235f5u,
    0x2ebb4484u, 0xe99c7026u, 0xb45f7e41u, 0x3991d639u, 0x835339f4u,
    0x9c845f8bu, 0xbdf9283bu, 0x1ff897ffu, 0xde05980fu, 0xef2f118bu,
    0x5a0a6d1fu, 0x6d367ecfu, 0x27cb09b7u, 0x4f463f66u, 0x9e5fea2du,
    0x7527bac7u, 0xebe5f17bu, 0x3d0739f7u, 0x8a5292eau, 0x6bfb5fb1u,
    0x1f8d5d08u, 0x56033046u, 0xfc7b6babu, 0xf0cfbc20u, 0x9af4361du,
    0xa9e39161u, 0x5ee61b08u, 0x6599855fu, 0x14a06840u, 0x8dffd880u,
    0x4d732731u, 0x06061556u, 0xca73a8c9u};

/* 32 bits of 2/pi starting at bit Pos (bit 1 is the first after the
 * point). */
static uint32_t two_over_pi_bits(int Pos) {
  int W = (Pos - 1) >> 5, O = (Pos - 1) & 31;
  uint32_t R = TwoOverPi[W] << O;
  if (O)
    R |= TwoOverPi[W + 1] >> (32 - O);
  return R;
}

/* Count bits of the little-endian number P starting at bit Lo. */
static uint64_t product_bits(const uint32_t *P, int Lo, int Count) {
  uint64_t R = 0;
  int B;
  for (B = Count - 1; B >= 0; --B) {
    int Pos = Lo + B;
    uint32_t Bit = (Pos >= 0 && Pos < 9 * 32) ? (P[Pos >> 5] >> (Pos & 31)) & 1 : 0;
    R = (R << 1) | Bit;
  }
  return R;
}

static int clz64(uint64_t V) {
  int N = 0;
  while (!(V >> 63)) {
    V <<= 1;
    ++N;
  }
  return N;
}

/* Payne-Hanek reduction for |x| >= 2^20 pi/2. */
static int rem_pio2_large(double x, double *hi, double *lo) {
  uint64_t ix = tidal_bits(x) & 0x7fffffffffffffffull;
  uint64_t M = (ix & 0x000fffffffffffffull) | (1ull << 52);
  int E = (int)(ix >> 52) - 1075; /* |x| = M * 2^E */
  int I0 = E - 2 < 1 ? 1 : E - 2, S, J, K, N, Shift, Wrapped;
  uint32_t V[7], P[9] = {0, 0, 0, 0, 0, 0, 0, 0, 0}, Mw[2];
  uint64_t A, B;
  double Fh, Fl;
  tidal_dd F, Y;
  /* V: bits I0 .. I0+223 of 2/pi, little-endian words. */
  for (K = 0; K < 7; ++K)
    V[6 - K] = two_over_pi_bits(I0 + 32 * K);
  Mw[0] = (uint32_t)M;
  Mw[1] = (uint32_t)(M >> 32);
  for (J = 0; J < 2; ++J) {
    uint64_t Carry = 0;
    for (K = 0; K < 7; ++K) {
      uint64_t T = (uint64_t)V[K] * Mw[J] + P[K + J] + Carry;
      P[K + J] = (uint32_t)T;
      Carry = T >> 32;
    }
    P[7 + J] = (uint32_t)Carry;
  }
  /* The product is M*V * 2^(E - I0 - 223): S fraction bits. Bits of 2/pi
   * before I0 only add multiples of 8 to the integer part. */
  S = I0 + 223 - E;
  N = (int)product_bits(P, S, 3);
  A = product_bits(P, S - 64, 64);
  B = product_bits(P, S - 128, 64);
  Wrapped = (int)(A >> 63);
  if (Wrapped) { /* fraction >= 1/2: use fraction - 1 */
    ++N;
    B = ~B + 1;
    A = ~A + (B == 0);
  }
  Shift = A ? clz64(A) : 64 + clz64(B | 1);
  if (Shift >= 64) {
    A = B;
    B = 0;
    Shift -= 64;
  }
  if (Shift) {
    A = (A << Shift) | (B >> (64 - Shift));
    B <<= Shift;
  }
  Fh = (double)(A >> 11) * 0x1p-53;
  Fl = (double)(A & 0x7ff) * 0x1p-64 + (double)(B >> 11) * 0x1p-117;
  F = tidal_quick_two_sum(Fh, Fl);
  F.hi = tidal__scalbn(F.hi, -Shift);
  F.lo = tidal__scalbn(F.lo, -Shift);
  if (A == 0 && B == 0)
    F.hi = F.lo = 0.0;
  Y = tidal_dd_mul(F, Pio2);
  if (Wrapped) {
    Y.hi = -Y.hi;
    Y.lo = -Y.lo;
  }
  if (tidal_bits(x) >> 63) { /* reduce |x|, then negate */
    Y.hi = -Y.hi;
    Y.lo = -Y.lo;
    N = -N;
  }
  *hi = Y.hi;
  *lo = Y.lo;
  return N;
}

/* One more Cody-Waite step: subtracts Fn times the next piece P of pi/2
 * (with Pt, the rest of pi/2 after it) from the reduced argument *R - *W.
 * Updates both and returns their new difference. */
static double cody_waite_step(double Fn, double P, double Pt, double *R,
                              double *W) {
  double T = *R;
  *W = Fn * P;
  *R = T - *W;
  *W = Fn * Pt - ((T - *R) - *W);
  return *R - *W;
}

int tidal__rem_pio2(double x, double *hi, double *lo) {
  uint32_t Hx = (uint32_t)(tidal_bits(x) >> 32) & 0x7fffffff;
  double Fn, R, W, Y0;
  int N, J, I;
  if (Hx <= 0x3fe921fb) { /* |x| ~<= pi/4 */
    *hi = x;
    *lo = 0;
    return 0;
  }
  if (Hx >= 0x413921fb) /* |x| >= 2^20 pi/2 */
    return rem_pio2_large(x, hi, lo);
  Fn = x * InvPio2;
  Fn = (double)(int64_t)(Fn + (Fn < 0 ? -0.5 : 0.5));
  N = (int)Fn;
  R = x - Fn * Pio2_1; /* exact */
  W = Fn * Pio2_1t;
  Y0 = R - W;
  J = (int)(Hx >> 20);
  I = J - (int)((tidal_bits(Y0) >> 52) & 0x7ff);
  if (I > 16) { /* cancellation: second step, good to 118 bits */
    Y0 = cody_waite_step(Fn, Pio2_2, Pio2_2t, &R, &W);
    I = J - (int)((tidal_bits(Y0) >> 52) & 0x7ff);
    if (I > 49) /* third step, 151 bits */
      Y0 = cody_waite_step(Fn, Pio2_3, Pio2_3t, &R, &W);
  }
  *hi = Y0;
  *lo = (R - Y0) - W;
  return N;
}

static const double S1 = -1.66666666666666324348e-01;
static const double S2 = 8.33333333332248946124e-03;
static const double S3 = -1.98412698298579493134e-04;
static const double S4 = 2.75573137070700676789e-06;
static const double S5 = -2.50507602534068634195e-08;
static const double S6 = 1.58969099521155010221e-10;
static const double C1 = 4.16666666666666019037e-02;
static const double C2 = -1.38888888888741095749e-03;
static const double C3 = 2.48015872894767294178e-05;
static const double C4 = -2.75573143513906633035e-07;
static const double C5 = 2.08757232129817482790e-09;
static const double C6 = -1.13596475577881948265e-11;

/* sin(x + y) for |x| <= pi/4, y a tail much smaller than x. */
static double kernel_sin(double x, double y) {
  double z = x * x, w = z * z, v = z * x;
  double r = S2 + z * (S3 + z * S4) + z * w * (S5 + z * S6);
  return x - ((z * (0.5 * y - v * r) - y) - v * S1);
}

/* cos(x + y) for |x| <= pi/4. */
static double kernel_cos(double x, double y) {
  double z = x * x, w = z * z, hz, r;
  r = z * (C1 + z * (C2 + z * C3)) + w * w * (C4 + z * (C5 + z * C6));
  hz = 0.5 * z;
  w = 1.0 - hz;
  return w + (((1.0 - w) - hz) + (z * r - x * y));
}

/* sin(x + Quadrant * pi/2) for finite x. */
static double sin_quadrant(double x, int Quadrant) {
  double Hi, Lo;
  int N = tidal__rem_pio2(x, &Hi, &Lo) + Quadrant;
  switch (N & 3) {
  case 0:
    return kernel_sin(Hi, Lo);
  case 1:
    return kernel_cos(Hi, Lo);
  case 2:
    return -kernel_sin(Hi, Lo);
  default:
    return -kernel_cos(Hi, Lo);
  }
}

double tidal_sin(double x) {
  uint32_t Hx = (uint32_t)(tidal_bits(x) >> 32) & 0x7fffffff;
  if (Hx >= 0x7ff00000)
    return tidal_isnan(x) ? x + x : TIDAL_NAN;
  if (Hx < 0x3e500000) /* |x| < 2^-26: sin x = x */
    return x;
  return sin_quadrant(x, 0);
}

/* cos x = sin(x + pi/2): the same reduction of x, one quadrant on. */
double tidal_cos(double x) {
  uint32_t Hx = (uint32_t)(tidal_bits(x) >> 32) & 0x7fffffff;
  if (Hx >= 0x7ff00000)
    return tidal_isnan(x) ? x + x : TIDAL_NAN;
  if (Hx < 0x3e46a09e) /* |x| < 2^-27 sqrt(2): cos x = 1 */
    return 1.0;
  return sin_quadrant(x, 1);
}

float tidal_sinf(float x) { return (float)tidal_sin((double)x); }
float tidal_cosf(float x) { return (float)tidal_cos((double)x); }
