//===- Compare.cpp - Checking outputs against expected tensors ------------===//
//
// The rule of the ONNX backend tests (numpy's assert_allclose with
// equal_nan): an element matches when |got - want| <= atol + rtol * |want|;
// NaN matches only NaN and an infinity only the same infinity. Integers and
// booleans go through the same formula, with the difference taken exactly.
// The line printed for an output names its worst element: the one whose
// difference is the largest multiple of its allowance.
//
//===----------------------------------------------------------------------===//

#include "tools/tidalc/Tidalc.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"
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
  return {Diff <= Allowed, Diff, Allowed, Excess};
}

static ElementCheck checkInt(int64_t Got, int64_t Want, double RTol,
                             double ATol) {
  // Exact difference, even where it would overflow int64.
  __int128 D = static_cast<__int128>(Got) - static_cast<__int128>(Want);
  double Diff = static_cast<double>(D < 0 ? -D : D);
  double Allowed = ATol + RTol * std::fabs(static_cast<double>(Want));
  bool Ok = D == 0 || Diff <= Allowed;
  double Excess = Allowed > 0 ? Diff / Allowed
                              : (D != 0 ? std::numeric_limits<double>::infinity()
                                        : 0);
  return {Ok, Diff, Allowed, Excess};
}

static std::string formatValue(const Tensor &T, int64_t I) {
  std::string S;
  llvm::raw_string_ostream OS(S);
  if (isFloat(T.Type.Elem))
    OS << llvm::format("%.9g", T.getDouble(I));
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
              : checkInt(Got.getInt(I), Want.getInt(I), RTol, ATol);
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
