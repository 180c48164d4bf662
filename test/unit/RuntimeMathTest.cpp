//===- RuntimeMathTest.cpp - The runtime's math functions against libm ----===//
//
// libtidalrt's tidal_* functions (runtime/, plain C) measured in ulps
// against the host libm over random arguments (uniform in the interesting
// range, and raw random bit patterns covering the whole range, subnormals,
// infinities and NaNs), plus the C99 special cases of pow and fmod stated
// explicitly. The bounds are the ones docs/runtime.md promises.
//
//===----------------------------------------------------------------------===//

#include "runtime/include/tidalrt.h"
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

namespace {

struct Rng {
  uint64_t State = 0x9e3779b97f4a7c15ull;
  uint64_t next() {
    State ^= State << 13;
    State ^= State >> 7;
    State ^= State << 17;
    return State;
  }
  double uniform(double Lo, double Hi) {
    return Lo + (Hi - Lo) * double(next() >> 11) * 0x1p-53;
  }
  double anyDouble() {
    uint64_t B = next();
    double D;
    std::memcpy(&D, &B, 8);
    return D;
  }
  float anyFloat() {
    uint32_t B = uint32_t(next());
    float F;
    std::memcpy(&F, &B, 4);
    return F;
  }
};

/// Distance in units of the last place of Want (infinite when the classes
/// differ: NaN vs number, signed zeros, infinities).
template <typename T> double ulps(T Got, T Want) {
  constexpr int Mant = std::numeric_limits<T>::digits;
  constexpr int MinExp = std::numeric_limits<T>::min_exponent;
  if (std::isnan(Want))
    return std::isnan(Got) ? 0 : INFINITY;
  if (Got == Want)
    return std::signbit(Got) == std::signbit(Want) ? 0 : INFINITY;
  if (std::isnan(Got) || std::isinf(Got) || std::isinf(Want))
    return INFINITY;
  int E;
  std::frexp(Want, &E);
  E = std::max(E, MinExp);
  return std::fabs(double(Got) - double(Want)) / std::ldexp(1.0, E - Mant);
}

template <typename T, typename Mine, typename Ref, typename Gen>
void sweep(const char *Name, Mine M, Ref R, Gen G, double Bound, int N = 40000) {
  Rng Random;
  double Worst = 0;
  T WorstX = 0;
  for (int I = 0; I < N; ++I) {
    T X = G(Random, I);
    double U = ulps<T>(M(X), T(R(X)));
    if (U > Worst) {
      Worst = U;
      WorstX = X;
    }
  }
  INFO(Name << ": worst " << Worst << " ulp at " << double(WorstX));
  CHECK(Worst <= Bound);
}

template <typename T> auto inRange(double Lo, double Hi) {
  return [=](Rng &R, int I) -> T {
    if (I % 4 == 0) {
      if constexpr (sizeof(T) == 4)
        return R.anyFloat();
      else
        return R.anyDouble();
    }
    return T(R.uniform(Lo, Hi));
  };
}

double refSigmoid(double X) { return 1.0 / (1.0 + std::exp(-X)); }
long double refSigmoidL(long double X) { return 1.0L / (1.0L + std::exp(-X)); }

} // namespace

TEST_CASE("runtime: f64 functions are within a few ulp of libm", "[runtime]") {
  sweep<double>("exp", tidal_exp, [](double X) { return std::exp(X); },
                inRange<double>(-750, 710), 1);
  sweep<double>("log", tidal_log, [](double X) { return std::log(X); },
                inRange<double>(0, 10), 1);
  sweep<double>("erf", tidal_erf, [](double X) { return std::erf(X); },
                inRange<double>(-7, 7), 3);
  sweep<double>("tanh", tidal_tanh, [](double X) { return std::tanh(X); },
                inRange<double>(-5, 5), 3);
  sweep<double>("sigmoid", tidal_sigmoid,
                [](double X) { return double(refSigmoidL(X)); },
                inRange<double>(-40, 40), 3);
  sweep<double>("sin", tidal_sin, [](double X) { return std::sin(X); },
                inRange<double>(-10, 10), 1);
  sweep<double>("cos", tidal_cos, [](double X) { return std::cos(X); },
                inRange<double>(-1e7, 1e7), 1);
  sweep<double>("sin (huge)", tidal_sin, [](double X) { return std::sin(X); },
                inRange<double>(-1e300, 1e300), 1);
}

TEST_CASE("runtime: f32 functions are within 2 ulp of libm", "[runtime]") {
  sweep<float>("expf", tidal_expf, [](float X) { return std::exp(X); },
               inRange<float>(-104, 89), 1);
  sweep<float>("logf", tidal_logf, [](float X) { return std::log(X); },
               inRange<float>(0, 10), 1);
  sweep<float>("erff", tidal_erff, [](float X) { return std::erf(X); },
               inRange<float>(-5, 5), 1);
  sweep<float>("tanhf", tidal_tanhf, [](float X) { return std::tanh(X); },
               inRange<float>(-10, 10), 2);
  sweep<float>("sigmoidf", tidal_sigmoidf,
               [](float X) { return float(refSigmoid(X)); },
               inRange<float>(-90, 90), 1);
  sweep<float>("sinf", tidal_sinf, [](float X) { return std::sin(X); },
               inRange<float>(-100, 100), 1);
  sweep<float>("cosf", tidal_cosf, [](float X) { return std::cos(X); },
               inRange<float>(-1e6, 1e6), 1);
}

TEST_CASE("runtime: pow is within 1 ulp of libm", "[runtime]") {
  Rng R;
  double Worst = 0, WorstF = 0;
  for (int I = 0; I < 40000; ++I) {
    double X = I % 4 == 0 ? R.anyDouble() : R.uniform(0, 10);
    double Y = I % 4 == 0 ? R.anyDouble() : R.uniform(-40, 40);
    if (I % 8 == 1) { // negative bases with integer exponents
      X = -X;
      Y = std::trunc(Y);
    }
    Worst = std::max(Worst, ulps(tidal_pow(X, Y), std::pow(X, Y)));
    float XF = float(X), YF = float(Y);
    WorstF = std::max(WorstF, ulps(tidal_powf(XF, YF), std::pow(XF, YF)));
  }
  CHECK(Worst <= 1);
  CHECK(WorstF <= 1);
}

TEST_CASE("runtime: pow follows C99's special cases", "[runtime]") {
  const double Inf = INFINITY, NaN = NAN;
  struct Case {
    double X, Y, Want;
  } Cases[] = {
      {NaN, 0.0, 1.0},     {NaN, -0.0, 1.0},   {1.0, NaN, 1.0},
      {-1.0, Inf, 1.0},    {-1.0, -Inf, 1.0},  {0.0, 0.0, 1.0},
      {0.0, -3.0, Inf},    {-0.0, -3.0, -Inf}, {-0.0, -2.0, Inf},
      {-0.0, -2.5, Inf},   {-0.0, 3.0, -0.0},  {-0.0, 2.0, 0.0},
      {0.0, -Inf, Inf},    {0.5, -Inf, Inf},   {2.0, -Inf, 0.0},
      {0.5, Inf, 0.0},     {2.0, Inf, Inf},    {-Inf, -3.0, -0.0},
      {-Inf, -2.0, 0.0},   {-Inf, 3.0, -Inf},  {-Inf, 2.0, Inf},
      {Inf, -1.0, 0.0},    {Inf, 0.5, Inf},    {-2.0, 3.0, -8.0},
      {-2.0, -3.0, -0.125}, {-2.0, 2.0, 4.0},  {-8.0, 1.0 / 3, NaN},
      {2.0, 0.5, 1.4142135623730951}, {10.0, -2.0, 0.01},
      {2.0, 1024.0, Inf},  {2.0, -1074.0, 0x1p-1074}, {2.0, -1080.0, 0.0},
      {-1.0, 1e300, 1.0},  {1.0000001, 1e300, Inf}};
  for (const Case &C : Cases) {
    INFO("pow(" << C.X << ", " << C.Y << ") = " << tidal_pow(C.X, C.Y)
                << ", want " << C.Want);
    CHECK(ulps(tidal_pow(C.X, C.Y), C.Want) <= 1);
    CHECK(ulps(tidal_powf(float(C.X), float(C.Y)), float(C.Want)) <= 1);
  }
}

TEST_CASE("runtime: fmod is exact", "[runtime]") {
  Rng R;
  for (int I = 0; I < 40000; ++I) {
    double X = I % 2 ? R.anyDouble() : R.uniform(-1e4, 1e4);
    double Y = I % 2 ? R.anyDouble() : R.uniform(-10, 10);
    INFO("fmod(" << X << ", " << Y << ")");
    REQUIRE(ulps(tidal_fmod(X, Y), std::fmod(X, Y)) == 0);
    float XF = float(X), YF = float(Y);
    REQUIRE(ulps(tidal_fmodf(XF, YF), std::fmod(XF, YF)) == 0);
  }
  CHECK(std::signbit(tidal_fmod(-4.0, 2.0)));
  CHECK(std::isnan(tidal_fmod(1.0, 0.0)));
  CHECK(std::isnan(tidal_fmod(INFINITY, 1.0)));
  CHECK(tidal_fmod(3.0, INFINITY) == 3.0);
  CHECK(tidal_fmod(0x1p-1074 * 7, 0x1p-1074 * 2) == 0x1p-1074);
}

TEST_CASE("runtime: special values", "[runtime]") {
  const double Inf = INFINITY;
  CHECK(tidal_exp(-Inf) == 0.0);
  CHECK(tidal_exp(Inf) == Inf);
  CHECK(tidal_exp(710.0) == Inf);
  CHECK(tidal_exp(-746.0) == 0.0);
  CHECK(std::isnan(tidal_exp(NAN)));
  CHECK(tidal_log(0.0) == -Inf);
  CHECK(tidal_log(-0.0) == -Inf);
  CHECK(std::isnan(tidal_log(-1.0)));
  CHECK(tidal_log(Inf) == Inf);
  CHECK(tidal_log(1.0) == 0.0);
  CHECK(ulps(tidal_log(0x1p-1074), std::log(0x1p-1074)) <= 1);
  CHECK(tidal_erf(Inf) == 1.0);
  CHECK(tidal_erf(-Inf) == -1.0);
  CHECK(std::signbit(tidal_erf(-0.0)));
  CHECK(tidal_tanh(-Inf) == -1.0);
  CHECK(std::signbit(tidal_tanh(-0.0)));
  CHECK(tidal_sigmoid(-Inf) == 0.0);
  CHECK(tidal_sigmoid(Inf) == 1.0);
  CHECK(tidal_sigmoid(0.0) == 0.5);
  CHECK(std::isnan(tidal_sin(Inf)));
  CHECK(std::isnan(tidal_cos(-Inf)));
  CHECK(std::signbit(tidal_sin(-0.0)));
  CHECK(tidal_cos(0.0) == 1.0);
  CHECK(std::isnan(tidal_sinf(NAN)));
  CHECK(tidal_expf(89.0f) == INFINITY);
  CHECK(tidal_expf(-104.0f) == 0.0f);
  CHECK(tidal_sigmoidf(-100.0f) > 0.0f); // subnormal, not flushed
  CHECK(std::signbit(tidal_erff(-0.0f)));
}
