//===- CompareTest.cpp - The comparator behind `tidalc run --compare` -----===//
//
// Every model and conformance test rests on compareTensors()'s verdict, so
// it is tested on wrong answers here, against its rule (docs/cli.md): an
// element matches when |got - want| <= atol + rtol * |want|, NaN matches
// only NaN, an infinity only the same infinity, integers and booleans use
// the same formula with an exact difference, and element types and shapes
// must be equal. Expected verdicts are worked out from that rule: boundary
// values are chosen so that the arithmetic is exact (powers of two, the next
// representable value past a boundary), f16 values are written as bit
// patterns, and the printed line is checked for the worst element, the one
// whose difference is the largest multiple of what it is allowed.
//
//===----------------------------------------------------------------------===//

#include "TensorTestUtil.h"
#include "tools/tidalc/Tidalc.h"
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <limits>

using namespace tidal;
using tidal::test::make;

namespace {

const double Inf = std::numeric_limits<double>::infinity();
const double NaN = std::numeric_limits<double>::quiet_NaN();


/// One-element tensors, the shape most rules are checked on.
Tensor f64(double V) { return make<double>(ElemType::F64, {1}, {V}); }
Tensor f32(float V) { return make<float>(ElemType::F32, {1}, {V}); }
/// F16 from its bit pattern, so that the values are known exactly.
Tensor f16(uint16_t Bits) { return make<uint16_t>(ElemType::F16, {1}, {Bits}); }
Tensor i64(int64_t V) { return make<int64_t>(ElemType::I64, {1}, {V}); }
Tensor u64(uint64_t V) { return make<uint64_t>(ElemType::U64, {1}, {V}); }

bool matches(const Tensor &Got, const Tensor &Want, double RTol, double ATol) {
  return compareTensors(Got, Want, RTol, ATol).Match;
}

/// The defaults of `tidalc run` (--rtol 1e-3, --atol 1e-4).
bool matchesByDefault(const Tensor &Got, const Tensor &Want) {
  return matches(Got, Want, 1e-3, 1e-4);
}

double up(double V) { return std::nextafter(V, Inf); }
double down(double V) { return std::nextafter(V, -Inf); }

// F16 bit patterns.
const uint16_t H1 = 0x3C00, H4 = 0x4400, H4_5 = 0x4480, H4_5Up = 0x4481,
               HMax = 0x7BFF, HMinusMax = 0xFBFF, HInf = 0x7C00,
               HMinusInf = 0xFC00, HNaN = 0x7E00, HZero = 0x0000,
               HMinusZero = 0x8000;

} // namespace

//===----------------------------------------------------------------------===//
// The tolerance rule
//===----------------------------------------------------------------------===//

TEST_CASE("atol alone: |got - want| <= atol, inclusive", "[compare]") {
  // want 1, atol 0.5: [0.5, 1.5] matches.
  CHECK(matches(f64(1.5), f64(1), 0, 0.5));
  CHECK(matches(f64(0.5), f64(1), 0, 0.5));
  CHECK_FALSE(matches(f64(up(1.5)), f64(1), 0, 0.5));
  CHECK_FALSE(matches(f64(down(0.5)), f64(1), 0, 0.5));
  // With want 0 only atol counts, whatever rtol is.
  CHECK(matches(f64(0.25), f64(0), 1000, 0.25));
  CHECK_FALSE(matches(f64(up(0.25)), f64(0), 1000, 0.25));
}

TEST_CASE("rtol alone: |got - want| <= rtol * |want|, inclusive",
          "[compare]") {
  // want -4, rtol 0.25: allowed 1, so [-5, -3] matches.
  CHECK(matches(f64(-5), f64(-4), 0.25, 0));
  CHECK(matches(f64(-3), f64(-4), 0.25, 0));
  CHECK_FALSE(matches(f64(down(-5)), f64(-4), 0.25, 0));
  CHECK_FALSE(matches(f64(up(-3)), f64(-4), 0.25, 0));
  // want 0 with atol 0: nothing but 0 (of either sign) matches.
  CHECK_FALSE(matches(f64(1e-300), f64(0), 0.25, 0));
}

TEST_CASE("atol and rtol add up", "[compare]") {
  // want 8, rtol 0.25, atol 0.5: allowed 2.5, so [5.5, 10.5] matches.
  CHECK(matches(f64(10.5), f64(8), 0.25, 0.5));
  CHECK(matches(f64(5.5), f64(8), 0.25, 0.5));
  CHECK_FALSE(matches(f64(up(10.5)), f64(8), 0.25, 0.5));
  CHECK_FALSE(matches(f64(down(5.5)), f64(8), 0.25, 0.5));
}

TEST_CASE("rtol is relative to want, not to got", "[compare]") {
  // |5.25 - 4| = 1.25: allowed 0.25 * 4 = 1 (relative to got it would be
  // 1.3125 and match).
  CHECK_FALSE(matches(f64(5.25), f64(4), 0.25, 0));
  // Swapped: allowed 0.25 * 5.25 = 1.3125 (relative to got: 1, no match).
  CHECK(matches(f64(4), f64(5.25), 0.25, 0));
}

TEST_CASE("both tolerances zero: only equal values match", "[compare]") {
  CHECK(matches(f64(1), f64(1), 0, 0));
  CHECK_FALSE(matches(f64(up(1)), f64(1), 0, 0));
  CHECK_FALSE(matches(f64(down(1)), f64(1), 0, 0));
  CHECK(matches(f32(0.1f), f32(0.1f), 0, 0));
  CHECK_FALSE(matches(f32(std::nextafter(0.1f, 1.0f)), f32(0.1f), 0, 0));
}

TEST_CASE("f32 and f16 elements follow the same rule", "[compare]") {
  // want 4, atol 0.5: 4.5 matches, the next value of the type does not.
  CHECK(matches(f32(4.5f), f32(4), 0, 0.5));
  CHECK_FALSE(matches(f32(std::nextafter(4.5f, 5.0f)), f32(4), 0, 0.5));
  CHECK(matches(f16(H4_5), f16(H4), 0, 0.5));
  CHECK_FALSE(matches(f16(H4_5Up), f16(H4), 0, 0.5)); // 4.50390625
  CHECK(matches(f16(H4_5), f16(H4), 0.125, 0));        // allowed 0.5
  CHECK_FALSE(matches(f16(H4_5Up), f16(H4), 0.125, 0));
  CHECK_FALSE(matchesByDefault(f16(H4), f16(H1)));
  // The extremes of f16: 65504 - (-65504) = 131008.
  CHECK(matches(f16(HMax), f16(HMinusMax), 0, 131008));
  CHECK_FALSE(matches(f16(HMax), f16(HMinusMax), 0, 131007));
}

//===----------------------------------------------------------------------===//
// NaN, infinities, signed zeros
//===----------------------------------------------------------------------===//

TEST_CASE("NaN matches NaN and nothing else", "[compare]") {
  CHECK(matches(f64(NaN), f64(NaN), 0, 0));
  CHECK(matches(f64(-NaN), f64(NaN), 0, 0));
  CHECK(matches(f32(NAN), f32(NAN), 0, 0));
  CHECK(matches(f16(HNaN), f16(HNaN), 0, 0));
  // Not even with tolerances that would cover any finite difference.
  CHECK_FALSE(matches(f64(NaN), f64(1), 1e300, 1e300));
  CHECK_FALSE(matches(f64(1), f64(NaN), 1e300, 1e300));
  CHECK_FALSE(matches(f32(NAN), f32(0), 1e300, 1e300));
  CHECK_FALSE(matches(f32(0), f32(NAN), 1e300, 1e300));
  CHECK_FALSE(matches(f16(HNaN), f16(H1), 1e300, 1e300));
  CHECK_FALSE(matches(f16(H1), f16(HNaN), 1e300, 1e300));
  CHECK_FALSE(matches(f64(NaN), f64(Inf), 1e300, 1e300));
  CHECK_FALSE(matches(f64(Inf), f64(NaN), 1e300, 1e300));
}

TEST_CASE("an infinity matches only the same infinity", "[compare]") {
  CHECK(matches(f64(Inf), f64(Inf), 0, 0));
  CHECK(matches(f64(-Inf), f64(-Inf), 0, 0));
  CHECK(matches(f32(INFINITY), f32(INFINITY), 0, 0));
  CHECK(matches(f16(HInf), f16(HInf), 0, 0));
  CHECK(matches(f16(HMinusInf), f16(HMinusInf), 0, 0));
  CHECK_FALSE(matches(f64(Inf), f64(-Inf), 1e300, 1e300));
  CHECK_FALSE(matches(f64(-Inf), f64(Inf), 1e300, 1e300));
  CHECK_FALSE(matches(f16(HInf), f16(HMinusInf), 1e300, 1e300));
  // Against a finite value, both ways, whatever the tolerances.
  double Max = std::numeric_limits<double>::max();
  CHECK_FALSE(matches(f64(Inf), f64(Max), 1e300, 1e300));
  CHECK_FALSE(matches(f64(Max), f64(Inf), 1e300, 1e300));
  CHECK_FALSE(matches(f64(-Inf), f64(0), 1e300, 1e300));
  CHECK_FALSE(matches(f32(INFINITY), f32(3.0e38f), 1, 1e300));
  CHECK_FALSE(matches(f16(HInf), f16(HMax), 1, 1e300));
  CHECK_FALSE(matches(f16(HMax), f16(HInf), 1, 1e300));
}

TEST_CASE("-0 and +0 are the same number", "[compare]") {
  CHECK(matches(f64(-0.0), f64(0.0), 0, 0));
  CHECK(matches(f64(0.0), f64(-0.0), 0, 0));
  CHECK(matches(f32(-0.0f), f32(0.0f), 0, 0));
  CHECK(matches(f32(0.0f), f32(-0.0f), 0, 0));
  CHECK(matches(f16(HMinusZero), f16(HZero), 0, 0));
  CHECK(matches(f16(HZero), f16(HMinusZero), 0, 0));
}

//===----------------------------------------------------------------------===//
// Types and shapes
//===----------------------------------------------------------------------===//

TEST_CASE("a different shape is a mismatch, even with the same elements",
          "[compare]") {
  std::vector<float> Six = {1, 2, 3, 4, 5, 6};
  Tensor Want = make(ElemType::F32, {2, 3}, Six);
  CompareResult R = compareTensors(make(ElemType::F32, {3, 2}, Six), Want, 1, 1);
  CHECK_FALSE(R.Match);
  CHECK(R.Line.find("f32[3,2]") != std::string::npos);
  CHECK(R.Line.find("f32[2,3]") != std::string::npos);
  CHECK_FALSE(matches(make(ElemType::F32, {6}, Six), Want, 1, 1));
  CHECK_FALSE(matches(make(ElemType::F32, {1, 2, 3}, Six), Want, 1, 1));
  // Two empty tensors of different shapes.
  CHECK_FALSE(matches(make<float>(ElemType::F32, {0, 3}, {}),
                      make<float>(ElemType::F32, {3, 0}, {}), 1, 1));
  // A scalar and a one-element tensor.
  CHECK_FALSE(matches(make<float>(ElemType::F32, {}, {1}), f32(1), 1, 1));
}

TEST_CASE("a different element type is a mismatch, even with equal values",
          "[compare]") {
  CompareResult R = compareTensors(f64(1), f32(1), 1, 1);
  CHECK_FALSE(R.Match);
  CHECK(R.Line.find("f64[1]") != std::string::npos);
  CHECK(R.Line.find("f32[1]") != std::string::npos);
  CHECK_FALSE(matches(f16(H1), f32(1), 1, 1));
  CHECK_FALSE(matches(make<int32_t>(ElemType::I32, {1}, {1}), i64(1), 1, 1));
  CHECK_FALSE(matches(u64(1), i64(1), 1, 1));
  CHECK_FALSE(matches(make<uint8_t>(ElemType::U8, {1}, {1}),
                      make<uint8_t>(ElemType::Bool, {1}, {1}), 1, 1));
  CHECK_FALSE(matches(make<int8_t>(ElemType::I8, {1}, {1}),
                      make<uint8_t>(ElemType::U8, {1}, {1}), 1, 1));
}

TEST_CASE("rank-0 tensors compare their one element", "[compare]") {
  Tensor Want = make<float>(ElemType::F32, {}, {2});
  CompareResult Ok = compareTensors(make<float>(ElemType::F32, {}, {2}), Want, 0, 0);
  CHECK(Ok.Match);
  CHECK(Ok.Line.rfind("ok f32[]", 0) == 0);
  CompareResult Bad = compareTensors(make<float>(ElemType::F32, {}, {3}), Want, 0, 0.5);
  CHECK_FALSE(Bad.Match);
  CHECK(Bad.Line.find("1 of 1 elements") != std::string::npos);
  CHECK(Bad.Line.find("worst at 0 []: got 3 want 2") != std::string::npos);
}

TEST_CASE("empty tensors match", "[compare]") {
  for (ElemType E : {ElemType::F32, ElemType::I64, ElemType::Bool}) {
    Tensor A(TensorType(E, {2, 0})), B(TensorType(E, {2, 0}));
    CompareResult R = compareTensors(A, B, 0, 0);
    CHECK(R.Match);
    CHECK(R.Line.find("no elements") != std::string::npos);
  }
}

//===----------------------------------------------------------------------===//
// Every element type
//===----------------------------------------------------------------------===//

namespace {

/// Checks an integer type at its extremes: the difference Max - Min is
/// exact, matches an atol of exactly that and not one less, and two
/// neighbours differ by exactly 1.
template <typename T> void checkIntegerType(ElemType E) {
  INFO("element type " << elemTypeName(E).str());
  T Min = std::numeric_limits<T>::min(), Max = std::numeric_limits<T>::max();
  double Span = static_cast<double>(Max) - static_cast<double>(Min);
  auto One = [&](T V) { return make<T>(E, {1}, {V}); };
  CHECK(matches(One(Min), One(Min), 0, 0));
  CHECK(matches(One(Max), One(Max), 0, 0));
  CHECK_FALSE(matches(One(Max), One(Min), 0, 0));
  CHECK_FALSE(matchesByDefault(One(Min), One(Max)));
  CHECK(matches(One(Max), One(Min), 0, Span));
  CHECK_FALSE(matches(One(Max), One(Min), 0, Span - 1));
  CHECK(matches(One(Min), One(Max), 0, Span));
  CHECK_FALSE(matches(One(Min), One(Max), 0, Span - 1));
  CHECK_FALSE(matches(One(Max - 1), One(Max), 0, 0));
  CHECK(matches(One(Max - 1), One(Max), 0, 1));
  CHECK_FALSE(matches(One(Max - 1), One(Max), 0, 0.99));
  // rtol is relative to want: 1 is within 2 / Max of Max, and not within
  // 2 / Max of 1 (2 / Max < 1).
  double Rel = 2.0 / static_cast<double>(Max);
  CHECK(matches(One(Max - 1), One(Max), Rel, 0));
  CHECK_FALSE(matches(One(2), One(1), Rel, 0));
}

} // namespace

TEST_CASE("8-, 16- and 32-bit integers, signed and unsigned", "[compare]") {
  checkIntegerType<int8_t>(ElemType::I8);
  checkIntegerType<int16_t>(ElemType::I16);
  checkIntegerType<int32_t>(ElemType::I32);
  checkIntegerType<uint8_t>(ElemType::U8);
  checkIntegerType<uint16_t>(ElemType::U16);
  checkIntegerType<uint32_t>(ElemType::U32);
}

TEST_CASE("i64 extremes do not overflow into a match", "[compare]") {
  int64_t Min = INT64_MIN, Max = INT64_MAX;
  CHECK(matches(i64(Min), i64(Min), 0, 0));
  CHECK(matches(i64(Max), i64(Max), 0, 0));
  // Max - Min wraps to -1 in int64; the true difference is 2^64 - 1.
  CHECK_FALSE(matches(i64(Max), i64(Min), 0, 1));
  CHECK_FALSE(matches(i64(Min), i64(Max), 0, 1));
  CHECK_FALSE(matchesByDefault(i64(Min), i64(Max)));
  CHECK(matches(i64(Max), i64(Min), 0, 0x1p64));
  // The largest double below 2^64 is 2^64 - 2048 < 2^64 - 1.
  CHECK_FALSE(matches(i64(Max), i64(Min), 0, 0x1p64 - 2048));
  CHECK(matches(i64(Max - 1), i64(Max), 0, 1));
  CHECK_FALSE(matches(i64(Max - 1), i64(Max), 0, 0));
  CHECK(matches(i64(Min + 1), i64(Min), 0, 1));
  CHECK_FALSE(matches(i64(Min + 1), i64(Min), 0, 0));
  // rtol relative to |INT64_MIN| = 2^63: 2^-10 of it is 2^53.
  CHECK(matches(i64(Min + (int64_t(1) << 53)), i64(Min), 0x1p-10, 0));
  CHECK_FALSE(matches(i64(Min + (int64_t(1) << 53) + 1), i64(Min), 0x1p-10, 0));
}

TEST_CASE("integer differences are exact past 2^53", "[compare]") {
  // 2^53 + 1 is no double; the difference must not round onto the allowance.
  int64_t P53 = int64_t(1) << 53;
  CHECK(matches(i64(P53), i64(0), 0, 0x1p53));
  CHECK_FALSE(matches(i64(P53 + 1), i64(0), 0, 0x1p53));
  CHECK_FALSE(matches(i64(-P53 - 1), i64(0), 0, 0x1p53));
  CHECK_FALSE(matches(u64(uint64_t(P53) + 1), u64(0), 0, 0x1p53));
}

TEST_CASE("u64 values past INT64_MAX keep their value", "[compare]") {
  uint64_t Max = UINT64_MAX;
  CHECK(matches(u64(Max), u64(Max), 0, 0));
  // 2^64 - 1 apart, not 1 (as they would be if read as int64 -1 and 0).
  CHECK_FALSE(matches(u64(Max), u64(0), 0, 1));
  CHECK_FALSE(matches(u64(0), u64(Max), 0, 1));
  CHECK(matches(u64(Max), u64(0), 0, 0x1p64));
  CHECK_FALSE(matches(u64(Max - 1), u64(Max), 0, 0));
  CHECK(matches(u64(Max - 1), u64(Max), 0, 1));
  // rtol relative to want = 2^64 - 1: 1e-3 of it is about 1.8e16.
  CHECK(matches(u64(Max - 1000000000000000ull), u64(Max), 1e-3, 0));
  CHECK_FALSE(matches(u64(Max - 100000000000000000ull), u64(Max), 1e-3, 0));
  // Across 2^63, where int64 changes sign.
  uint64_t P63 = uint64_t(1) << 63;
  CHECK(matches(u64(P63), u64(P63 - 1), 0, 1));
  CHECK_FALSE(matches(u64(P63 + 1), u64(P63 - 1), 0, 1));
}

TEST_CASE("booleans compare as 0 and 1", "[compare]") {
  auto B = [](std::vector<uint8_t> V) {
    int64_t N = static_cast<int64_t>(V.size());
    return make<uint8_t>(ElemType::Bool, {N}, std::move(V));
  };
  CHECK(matches(B({0, 1}), B({0, 1}), 0, 0));
  CHECK_FALSE(matches(B({1}), B({0}), 0, 0));
  CHECK_FALSE(matchesByDefault(B({0}), B({1})));
  CHECK_FALSE(matches(B({0}), B({1}), 0.99, 0)); // |0 - 1| > 0.99 * |1|
  CHECK(matches(B({0}), B({1}), 1, 0));
  CHECK(matches(B({1}), B({0}), 0, 1)); // The formula, as for integers.
  // Any nonzero byte is true.
  CHECK(matches(B({2, 255}), B({1, 1}), 0, 0));
}

TEST_CASE("packed bits compare element by element", "[compare]") {
  // Ten 1-bit elements, bit i of byte i / 8; element 9 differs.
  Tensor Want(TensorType(ElemType::Bit, {10})), Got(TensorType(ElemType::Bit, {10}));
  Want.Bytes = {0x0F, 0x02};
  Got.Bytes = {0x0F, 0x00};
  CompareResult R = compareTensors(Got, Want, 0, 0);
  CHECK_FALSE(R.Match);
  CHECK(R.Line.find("1 of 10 elements") != std::string::npos);
  CHECK(R.Line.find("worst at 9 [9]: got 0 want 1") != std::string::npos);
  CHECK(matches(Want, Want, 0, 0));
}

//===----------------------------------------------------------------------===//
// The printed line
//===----------------------------------------------------------------------===//

TEST_CASE("the line names the worst element: the largest multiple of its "
          "allowance, not the largest difference",
          "[compare]") {
  // rtol 0.5, atol 0: element 1 is off by 30 of 50 allowed (0.6x), element
  // 2 by 2 of 0.5 (4x), element 4 by 6 of 2 (3x).
  Tensor Want = make<float>(ElemType::F32, {2, 3}, {1, 100, 1, 1, 4, 1});
  Tensor Got = make<float>(ElemType::F32, {2, 3}, {1, 130, 3, 1, 10, 1});
  CompareResult R = compareTensors(Got, Want, 0.5, 0);
  CHECK_FALSE(R.Match);
  INFO(R.Line);
  CHECK(R.Line.rfind("MISMATCH f32[2,3], 2 of 6 elements outside tolerance", 0) == 0);
  CHECK(R.Line.find("worst at 2 [0,2]: got 3 want 1") != std::string::npos);
  CHECK(R.Line.find("|diff| 2, allowed 0.5") != std::string::npos);
}

TEST_CASE("a matching output's line names its worst element too",
          "[compare]") {
  // f32[2,3,4], every element within atol 1; flat element 23, [1,2,3], is
  // the furthest off.
  std::vector<float> W(24, 1.0f), G(24, 1.0f);
  G[5] = 1.25f;
  G[23] = 0.5f;
  CompareResult R = compareTensors(make(ElemType::F32, {2, 3, 4}, G),
                                   make(ElemType::F32, {2, 3, 4}, W), 0, 1);
  CHECK(R.Match);
  INFO(R.Line);
  CHECK(R.Line.rfind("ok f32[2,3,4]; worst at 23 [1,2,3]: got 0.5 want 1", 0) == 0);
}

TEST_CASE("the line prints integer extremes exactly", "[compare]") {
  CompareResult U = compareTensors(u64(UINT64_MAX), u64(0), 1e-3, 1e-4);
  INFO(U.Line);
  CHECK(U.Line.find("got 18446744073709551615 want 0") != std::string::npos);
  CompareResult I = compareTensors(i64(INT64_MIN), i64(INT64_MAX), 1e-3, 1e-4);
  INFO(I.Line);
  CHECK(I.Line.find("got -9223372036854775808 want 9223372036854775807") !=
        std::string::npos);
  CHECK(I.Line.find("|diff| 1.84e+19") != std::string::npos);
}
