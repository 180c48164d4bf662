//===- Compare.cpp - Checking outputs against expected tensors ------------===//
//
// The rule of the ONNX backend tests (numpy's assert_allclose with
// equal_nan): an element matches when |got - want| <= atol + rtol * |want|;
// NaN matches only NaN and an infinity only the same infinity. Integers and
// booleans go through the same formula. The allowance is computed in
// double; the difference is compared with it exactly, for floats and for
// integers (u64 values past INT64_MAX included), so that a value just past
// the boundary never rounds onto it.
// The line printed for an output names its worst element: the one whose
// difference is the largest multiple of its allowance.
//
//===----------------------------------------------------------------------===//

#include "tools/tidalc/Tidalc.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"
#include <cassert>
#include <cmath>
#include <limits>

using namespace tidal;

namespace {
/// One element's verdict: Excess is |diff| / allowance (infinite when no
/// difference is allowed and there is one, or for a NaN/inf mismatch).
struct ElementCheck {
  bool Ok;
  double Diff;
  double Allowed;
  double Excess;
};

struct Worst {
  int64_t Index = -1;
  ElementCheck Check{true, 0, 0, -1};
  int64_t Bad = 0;
};
} // namespace

/// Whether |Got - Want| <= Allowed for finite Got and Want, with the
/// difference taken exactly. Rounded, a difference just past the allowance
/// can land on it (1 - (0.5 - 2^-54) rounds to 0.5); Knuth's two-sum gives
/// the rounding error, whose sign settles that case. Rounding is monotone,
/// so a rounded difference off the boundary is on the right side of it.
static bool withinExactly(double Got, double Want, double Allowed) {
  double S = Got - Want;
  double Abs = std::fabs(S);
  if (std::isinf(Allowed) || Abs != Allowed)
    return Abs <= Allowed;
  double V = S - Got;
  double Err = (Got - (S - V)) + (-Want - V); // Exactly (Got - Want) - S.
  return Err == 0 || std::signbit(Err) != std::signbit(S);
}

static ElementCheck checkFloat(double Got, double Want, double RTol,
                               double ATol) {
  double Inf = std::numeric_limits<double>::infinity();
  double Allowed = ATol + RTol * std::fabs(Want);
  if (std::isnan(Got) || std::isnan(Want)) {
    bool Both = std::isnan(Got) && std::isnan(Want);
    return {Both, Both ? 0 : Inf, Allowed, Both ? 0 : Inf};
  }
  if (std::isinf(Got) || std::isinf(Want)) {
    bool Same = Got == Want;
    return {Same, Same ? 0 : Inf, Allowed, Same ? 0 : Inf};
  }
  double Diff = std::fabs(Got - Want);
  double Excess = Allowed > 0 ? Diff / Allowed : (Diff > 0 ? Inf : 0);
  return {withinExactly(Got, Want, Allowed), Diff, Allowed, Excess};
}

/// Element I of an integer, boolean or bit tensor, exactly: a u64 past
/// INT64_MAX keeps its value instead of wrapping to a negative int64.
static __int128 exactInt(const Tensor &T, int64_t I) {
  if (T.Type.Elem == ElemType::U64)
    return T.data<uint64_t>()[I];
  return T.getInt(I);
}

static ElementCheck checkInt(__int128 Got, __int128 Want, double RTol,
                             double ATol) {
  // The difference is exact even where int64 would overflow (INT64_MIN vs
  // INT64_MAX) and is compared exactly too: an integer is within Allowed
  // when it is within floor(Allowed). As a double it could round down onto
  // the boundary (2^53 + 1 becomes 2^53).
  __int128 D = Got - Want;
  __int128 Abs = D < 0 ? -D : D;
  double WantAbs = std::fabs(static_cast<double>(Want));
  double Allowed = ATol + RTol * WantAbs;
  // |D| < 2^65: a larger allowance covers any difference (and, past 2^127,
  // would not convert to __int128).
  bool Ok = Allowed >= 0x1p65 ||
            Abs <= static_cast<__int128>(std::floor(Allowed));
  double Diff = static_cast<double>(Abs);
  double Excess = Allowed > 0 ? Diff / Allowed
                              : (Abs != 0 ? std::numeric_limits<double>::infinity()
                                          : 0);
  return {Ok, Diff, Allowed, Excess};
}

static std::string formatValue(const Tensor &T, int64_t I) {
  std::string S;
  llvm::raw_string_ostream OS(S);
  if (isFloat(T.Type.Elem))
    OS << llvm::format("%.9g", T.getDouble(I));
  else if (T.Type.Elem == ElemType::U64)
    OS << T.data<uint64_t>()[I];
  else
    OS << T.getInt(I);
  return OS.str();
}

/// `[0,3,1]`: the multi-index of flat index I.
static std::string multiIndex(const std::vector<int64_t> &Shape, int64_t I) {
  std::vector<int64_t> Strides = rowMajorStrides(Shape);
  std::string S = "[";
  for (size_t D = 0; D < Shape.size(); ++D) {
    S += (D ? "," : "") + std::to_string(Strides[D] ? I / Strides[D] % Shape[D] : 0);
  }
  return S + "]";
}

static Worst scan(const Tensor &Got, const Tensor &Want, double RTol,
                  double ATol) {
  Worst W;
  bool Float = isFloat(Want.Type.Elem);
  int64_t N = Want.Type.numElements();
  for (int64_t I = 0; I < N; ++I) {
    ElementCheck C =
        Float ? checkFloat(Got.getDouble(I), Want.getDouble(I), RTol, ATol)
              : checkInt(exactInt(Got, I), exactInt(Want, I), RTol, ATol);
    if (!C.Ok)
      ++W.Bad;
    // Strictly greater: the first of equally bad elements is reported.
    if (C.Excess > W.Check.Excess) {
      W.Index = I;
      W.Check = C;
    }
  }
  return W;
}

CompareResult tidal::compareTensors(const Tensor &Got, const Tensor &Want,
                                    double RTol, double ATol) {
  assert(RTol >= 0 && ATol >= 0 && std::isfinite(RTol) &&
         std::isfinite(ATol) && "tidalc checks the tolerances it is given");
  CompareResult R;
  llvm::raw_string_ostream OS(R.Line);
  if (Got.Type.Elem != Want.Type.Elem || Got.Type.Shape != Want.Type.Shape) {
    R.Match = false;
    OS << "MISMATCH: result is " << Got.Type.str() << " but expected "
       << Want.Type.str();
    return R;
  }
  int64_t N = Want.Type.numElements();
  Worst W = scan(Got, Want, RTol, ATol);
  R.Match = W.Bad == 0;
  OS << (R.Match ? "ok" : "MISMATCH") << " " << Want.Type.str();
  if (!R.Match)
    OS << ", " << W.Bad << " of " << N << " elements outside tolerance";
  if (W.Index < 0) {
    OS << " (no elements)";
    return R;
  }
  OS << "; worst at " << W.Index << " " << multiIndex(Want.Type.Shape, W.Index)
     << ": got " << formatValue(Got, W.Index) << " want "
     << formatValue(Want, W.Index)
     << llvm::format(" (|diff| %.3g, allowed %.3g)", W.Check.Diff,
                     W.Check.Allowed);
  return R;
}
