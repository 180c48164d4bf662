//===- OpImportersResize.cpp - Resize -------------------------------------===//
//
// Resize is separable: along each resized axis, output o is a weighted sum
// of a few input elements (taps) whose indices and weights depend only on
// o, the sizes and the attributes, all known at compile time. So each axis
// becomes, at import,
//   nearest:         Gather(x, index[o], axis)          (exact, any type)
//   linear, cubic:   sum over taps t of Gather(x, index_t[o], axis) * w_t[o]
// with constant index and weight tensors. The taps are computed exactly as
// ONNX's reference implementation computes them (reference/ops/op_resize.py,
// in double): the coordinate transformation, the ratio in (0, 1], the
// coefficients (nearest per nearest_mode, linear, cubic with cubic_coeff_a,
// their antialias variants), the n nearest indices of the edge-padded input
// (ties to the smaller), exclude_outside. tf_crop_and_resize gives
// extrapolation_value wherever some axis' coordinate leaves the input,
// applied once at the end (a Where with a constant mask). Linear and cubic
// run in f32 for f16 inputs (cast back at the end) and are defined for
// float inputs only.
//
// Opset differences: 10 has only X and scales, modes nearest and linear,
// and no coordinate_transformation_mode; Tidal reads it as Upsample does
// (asymmetric coordinates, nearest rounding down), which is what ONNX
// Runtime and PyTorch's exports mean. 11 adds roi, sizes, the coordinate
// modes (tf_half_pixel_for_nn only until 12), cubic, nearest_mode; 13 makes
// roi and scales optional; 18 adds antialias, axes and
// keep_aspect_ratio_policy; 19 adds half_pixel_symmetric. Scales and sizes
// (and roi for tf_crop_and_resize) must be constants. tf_crop_and_resize
// with scales is rejected (ONNX's definition and reference size its output
// differently).
//
//===----------------------------------------------------------------------===//

#include "frontend/OpImportersExtra.h"
#include <algorithm>
#include <cmath>

using namespace tidal;
using namespace tidal::onnximport;

namespace {

/// The attributes of one Resize, with ONNX's defaults filled in.
struct ResizeAttrs {
  std::string Mode, Coord, Nearest, Policy;
  double CubicA = -0.75, Extrapolation = 0;
  bool ExcludeOutside = false, Antialias = false;
};

/// The taps of one output coordinate along one axis.
struct Taps {
  std::vector<int64_t> Index; // into the unpadded input, maybe outside
  std::vector<double> Weight;
  bool Outside = false; // tf_crop_and_resize: the extrapolation value
};

/// One axis to resize.
struct AxisPlan {
  int64_t Axis, In, Out;
  double Scale, RoiStart = 0, RoiEnd = 1;
};

std::vector<double> nearestCoeffs(double Ratio, const std::string &Mode) {
  if (Ratio == std::floor(Ratio))
    return {0, 1};
  if (Mode == "round_prefer_floor")
    return {double(Ratio <= 0.5), double(Ratio > 0.5)};
  if (Mode == "round_prefer_ceil")
    return {double(Ratio < 0.5), double(Ratio >= 0.5)};
  if (Mode == "floor")
    return {1, 0};
  return {0, 1}; // ceil
}

double cubicKernel(double X, double A) {
  X = std::fabs(X);
  double X2 = X * X, X3 = X * X2;
  if (X <= 1)
    return (A + 2) * X3 - (A + 3) * X2 + 1;
  if (X < 2)
    return A * X3 - 5 * A * X2 + 8 * A * X - 4 * A;
  return 0;
}

std::vector<double> normalized(std::vector<double> C) {
  double Sum = 0;
  for (double V : C)
    Sum += V;
  for (double &V : C)
    V /= Sum;
  return C;
}

std::vector<double> coeffs(const ResizeAttrs &R, double Ratio, double Scale) {
  if (R.Mode == "nearest")
    return nearestCoeffs(Ratio, R.Nearest);
  double A = R.CubicA;
  if (R.Mode == "linear" && !R.Antialias)
    return {1 - Ratio, Ratio};
  if (R.Mode == "cubic" && !R.Antialias) {
    double P = Ratio + 1, Q = 1 - Ratio, Q1 = Q + 1;
    return {((A * P - 5 * A) * P + 8 * A) * P - 4 * A,
            ((A + 2) * Ratio - (A + 3)) * Ratio * Ratio + 1,
            ((A + 2) * Q - (A + 3)) * Q * Q + 1,
            ((A * Q1 - 5 * A) * Q1 + 8 * A) * Q1 - 4 * A};
  }
  double S = std::min(Scale, 1.0);
  std::vector<double> C;
  if (R.Mode == "linear") {
    int64_t Start = static_cast<int64_t>(std::floor(-1 / S) + 1);
    int64_t Footprint = 2 - 2 * Start;
    for (int64_t I = Start; I < Start + Footprint; ++I)
      C.push_back(std::clamp(1 - std::fabs((I - Ratio) * S), 0.0, 1.0));
    return normalized(C);
  }
  int64_t Start = static_cast<int64_t>(std::floor(-2 / S) + 1);
  for (int64_t I = Start; I < 2 - Start; ++I)
    C.push_back(cubicKernel(S * (I - Ratio), A));
  return normalized(C);
}

/// The input coordinate of output X (ONNX's coordinate transformation);
/// sets Outside for tf_crop_and_resize coordinates beyond the input.
double sourceCoord(const ResizeAttrs &R, const AxisPlan &P, int64_t X,
                   bool &Outside) {
  double In = double(P.In), Width = P.Scale * In, XD = double(X);
  const std::string &M = R.Coord;
  if (M == "align_corners")
    return Width == 1 ? 0 : XD * (In - 1) / (Width - 1);
  if (M == "asymmetric")
    return XD / P.Scale;
  if (M == "tf_half_pixel_for_nn")
    return (XD + 0.5) / P.Scale;
  if (M == "tf_crop_and_resize") {
    double Span = P.RoiEnd - P.RoiStart;
    double V =
        Width == 1 ? Span * (In - 1) / 2 : XD * Span * (In - 1) / (Width - 1);
    V += P.RoiStart * (In - 1);
    Outside = V < 0 || V > In - 1;
    return V;
  }
  if (M == "pytorch_half_pixel")
    return Width == 1 ? -0.5 : (XD + 0.5) / P.Scale - 0.5;
  if (M == "half_pixel_symmetric") {
    double Adjustment = double(P.Out) / Width;
    double Offset = In / 2 * (1 - Adjustment);
    return Offset + (XD + 0.5) / P.Scale - 0.5;
  }
  return (XD + 0.5) / P.Scale - 0.5; // half_pixel
}

/// The N indices of [0, Limit) nearest to X, ties to the smaller, sorted.
std::vector<int64_t> nearestIndices(double X, int64_t N, int64_t Limit) {
  int64_t Lo = 0, Hi = Limit;
  if (X >= 0 && X <= double(Limit - 1)) {
    // The N nearest lie within distance N of X.
    Lo = std::max<int64_t>(0, static_cast<int64_t>(std::floor(X)) - N - 1);
    Hi = std::min<int64_t>(Limit, static_cast<int64_t>(std::ceil(X)) + N + 2);
  }
  std::vector<int64_t> Cand;
  for (int64_t I = Lo; I < Hi; ++I)
    Cand.push_back(I);
  std::stable_sort(Cand.begin(), Cand.end(), [&](int64_t A, int64_t B) {
    double DA = std::fabs(X - double(A)), DB = std::fabs(X - double(B));
    return DA < DB || (DA == DB && A < B);
  });
  Cand.resize(std::min<size_t>(Cand.size(), N));
  std::sort(Cand.begin(), Cand.end());
  return Cand;
}

Taps tapsOf(const ResizeAttrs &R, const AxisPlan &P, int64_t X) {
  Taps T;
  double XOri = sourceCoord(R, P, X, T.Outside);
  if (T.Outside)
    return T;
  double Floor = std::floor(XOri);
  double Ratio = XOri == Floor ? 1.0 : XOri - Floor;
  T.Weight = coeffs(R, Ratio, P.Scale);
  int64_t N = T.Weight.size(), Pad = (N + 1) / 2;
  for (int64_t I : nearestIndices(XOri + double(Pad), N, P.In + 2 * Pad))
    T.Index.push_back(I - Pad);
  if (R.ExcludeOutside) {
    for (size_t I = 0; I < T.Index.size(); ++I)
      if (T.Index[I] < 0 || T.Index[I] >= P.In)
        T.Weight[I] = 0;
    T.Weight = normalized(T.Weight);
  }
  for (int64_t &I : T.Index)
    I = std::clamp<int64_t>(I, 0, P.In - 1);
  return T;
}

/// An i64 constant [Out] of indices.
Value *indexConst(NodeImporter &N, const std::vector<int64_t> &Idx) {
  return N.constantI64(Idx);
}

/// A constant [Out, 1, ...] of E broadcasting along Axis of a rank-Rank
/// tensor.
Value *alongAxis(NodeImporter &N, ElemType E, const std::vector<double> &V,
                 int64_t Axis, int64_t Rank) {
  std::vector<int64_t> Shape(Rank - Axis, 1);
  Shape[0] = V.size();
  Tensor T(TensorType(E, Shape));
  for (size_t I = 0; I < V.size(); ++I)
    T.setDouble(I, V[I]);
  return N.constant(std::move(T));
}

Value *gatherAxis(NodeImporter &N, Value *V, const std::vector<int64_t> &Idx,
                  int64_t Axis) {
  if (!V)
    return nullptr;
  bool Identity = static_cast<int64_t>(Idx.size()) == V->Type.Shape[Axis];
  for (size_t I = 0; Identity && I < Idx.size(); ++I)
    Identity = Idx[I] == static_cast<int64_t>(I);
  if (Identity)
    return V;
  std::vector<int64_t> Out = V->Type.Shape;
  Out[Axis] = Idx.size();
  AttrMap A;
  A["axis"] = Axis;
  return N.emit(OpKind::Gather, {V, indexConst(N, Idx)}, std::move(A),
                TensorType(V->Type.Elem, Out));
}

/// Resizes V along one axis. Outside collects tf_crop_and_resize's mask.
Value *resizeAxis(NodeImporter &N, const ResizeAttrs &R, Value *V,
                  const AxisPlan &P, std::vector<bool> &Outside) {
  std::vector<Taps> All;
  size_t NumTaps = 0;
  for (int64_t O = 0; O < P.Out; ++O) {
    All.push_back(tapsOf(R, P, O));
    Outside.push_back(All.back().Outside);
    NumTaps = std::max(NumTaps, All.back().Index.size());
  }
  if (R.Mode == "nearest") {
    std::vector<int64_t> Idx;
    for (const Taps &T : All)
      Idx.push_back(T.Outside ? 0 : T.Weight[0] == 1 ? T.Index[0] : T.Index[1]);
    return gatherAxis(N, V, Idx, P.Axis);
  }
  // Taps whose weight is exactly 1 everywhere make a plain gather.
  Value *Acc = nullptr;
  for (size_t K = 0; K < NumTaps && V; ++K) {
    std::vector<int64_t> Idx;
    std::vector<double> W;
    bool AllZero = true, AllOne = true;
    for (const Taps &T : All) {
      bool Has = !T.Outside && K < T.Index.size();
      Idx.push_back(Has ? T.Index[K] : 0);
      W.push_back(Has ? T.Weight[K] : 0);
      AllZero &= W.back() == 0;
      AllOne &= W.back() == 1;
    }
    if (AllZero)
      continue;
    Value *G = gatherAxis(N, V, Idx, P.Axis);
    if (!AllOne)
      G = build::binary(N, OpKind::Mul, G,
                        alongAxis(N, V->Type.Elem, W, P.Axis, V->Type.rank()));
    Acc = Acc ? build::binary(N, OpKind::Add, Acc, G) : G;
  }
  if (!Acc) // every output outside (tf_crop_and_resize): any values do
    Acc = gatherAxis(N, V, std::vector<int64_t>(P.Out, 0), P.Axis);
  return Acc;
}

} // namespace

namespace {

/// Reads the attributes valid at the node's opset.
bool readAttrs(NodeImporter &N, ResizeAttrs &R) {
  R.Mode = N.attrString("mode", "nearest");
  R.Coord = N.Opset >= 11
                ? N.attrString("coordinate_transformation_mode", "half_pixel")
                : "asymmetric";
  R.Nearest = N.Opset >= 11 ? N.attrString("nearest_mode", "round_prefer_floor")
                            : "floor";
  R.CubicA = N.attrFloat("cubic_coeff_a", -0.75f);
  R.ExcludeOutside = N.attrInt("exclude_outside", 0) != 0;
  R.Extrapolation = N.attrFloat("extrapolation_value", 0.0f);
  R.Antialias = N.Opset >= 18 && N.attrInt("antialias", 0) != 0;
  R.Policy =
      N.Opset >= 18 ? N.attrString("keep_aspect_ratio_policy", "stretch") : "";
  if (N.failed())
    return false;
  static const char *Coords[] = {"half_pixel",          "pytorch_half_pixel",
                                 "align_corners",       "asymmetric",
                                 "tf_crop_and_resize",  "half_pixel_symmetric",
                                 "tf_half_pixel_for_nn"};
  bool KnownCoord = llvm::is_contained(Coords, R.Coord) &&
                    (R.Coord != "half_pixel_symmetric" || N.Opset >= 19) &&
                    (R.Coord != "tf_half_pixel_for_nn" || N.Opset < 13);
  if (!KnownCoord)
    N.fail("coordinate_transformation_mode '" + R.Coord +
           "' is not defined in opset " + llvm::Twine(N.Opset));
  else if (R.Mode != "nearest" && R.Mode != "linear" &&
           (R.Mode != "cubic" || N.Opset < 11))
    N.fail("mode '" + R.Mode + "' is not defined in opset " +
           llvm::Twine(N.Opset));
  else if (R.Nearest != "round_prefer_floor" &&
           R.Nearest != "round_prefer_ceil" && R.Nearest != "floor" &&
           R.Nearest != "ceil")
    N.fail("unknown nearest_mode '" + R.Nearest + "'");
  else if (R.Antialias && R.Mode == "nearest")
    N.fail("antialias is not defined for mode 'nearest'");
  else if (!R.Policy.empty() && R.Policy != "stretch" &&
           R.Policy != "not_larger" && R.Policy != "not_smaller")
    N.fail("unknown keep_aspect_ratio_policy '" + R.Policy + "'");
  return !N.failed();
}

/// A constant float input (scales, roi); none when absent or empty.
std::optional<std::vector<double>>
floatInput(NodeImporter &N, unsigned I, llvm::StringRef Role, bool &Present) {
  Present = false;
  if (!N.hasInput(I))
    return std::vector<double>();
  Value *V = N.input(I);
  if (!V)
    return std::nullopt;
  const Tensor *T = V->constantData();
  if (!T) {
    if (V->Type.numElements() == 0)
      return std::vector<double>();
    N.needConstant(I);
    N.fail("the " + Role + " input '" + N.Proto.input(I) +
           "' must be a constant, but it is computed at run time (Tidal "
           "compiles static shapes only)");
    return std::nullopt;
  }
  std::vector<double> R;
  for (int64_t K = 0, E = T->Type.numElements(); K < E; ++K)
    R.push_back(T->getDouble(K));
  Present = !R.empty();
  return R;
}

/// The resized axes (sorted by the `axes` attribute's order) with their
/// scales and output sizes, as ONNX's reference derives them.
std::optional<std::vector<AxisPlan>> planAxes(NodeImporter &N,
                                              const ResizeAttrs &R, Value *X) {
  int64_t Rank = X->Type.rank();
  std::vector<int64_t> Axes;
  if (N.Opset >= 18 && N.hasAttr("axes")) {
    for (int64_t A : N.attrInts("axes")) {
      auto Norm = N.normalizeAxis(A, Rank, "axes value");
      if (!Norm)
        return std::nullopt;
      if (llvm::is_contained(Axes, *Norm)) {
        N.fail("axes contain a duplicate");
        return std::nullopt;
      }
      Axes.push_back(*Norm);
    }
  } else {
    for (int64_t A = 0; A < Rank; ++A)
      Axes.push_back(A);
  }
  bool HasScales = false, HasSizes = false, HasRoi = false;
  unsigned ScalesIn = N.Opset >= 11 ? 2 : 1;
  auto Scales = floatInput(N, ScalesIn, "scales", HasScales);
  std::optional<std::vector<int64_t>> Sizes = std::vector<int64_t>();
  if (N.Opset >= 11 && N.hasInput(3)) {
    Sizes = N.constInts(3, "sizes");
    HasSizes = Sizes && !Sizes->empty();
  }
  std::optional<std::vector<double>> Roi = std::vector<double>();
  if (N.Opset >= 11 && R.Coord == "tf_crop_and_resize")
    Roi = floatInput(N, 1, "roi", HasRoi);
  else if (N.Opset >= 11)
    N.ignoreInput(1); // roi matters only to tf_crop_and_resize
  if (!Scales || !Sizes || !Roi || N.failed())
    return std::nullopt;
  if (HasScales == HasSizes) {
    N.fail("exactly one of scales and sizes must be given");
    return std::nullopt;
  }
  size_t Want = Axes.size();
  if ((HasScales && Scales->size() != Want) ||
      (HasSizes && Sizes->size() != Want) ||
      (HasRoi && Roi->size() != 2 * Want)) {
    N.fail("scales, sizes and roi need one value (roi: two) per resized axis");
    return std::nullopt;
  }
  if (R.Coord == "tf_crop_and_resize" && (!HasSizes || !HasRoi)) {
    N.fail("tf_crop_and_resize is supported with sizes and roi only");
    return std::nullopt;
  }
  const std::vector<int64_t> &S = X->Type.Shape;
  std::vector<AxisPlan> Plan;
  for (size_t I = 0; I < Want; ++I) {
    AxisPlan P{Axes[I], S[Axes[I]], 0, 0};
    if (P.In < 1) {
      N.fail("cannot resize an empty axis");
      return std::nullopt;
    }
    if (HasScales) {
      P.Scale = (*Scales)[I];
      if (!(P.Scale > 0) || P.Scale > 65536) {
        N.fail("scales must be positive, not " + std::to_string(P.Scale));
        return std::nullopt;
      }
      P.Out = static_cast<int64_t>(std::floor(P.Scale * double(P.In)));
    } else {
      P.Out = (*Sizes)[I];
      P.Scale = double(P.Out) / double(P.In);
    }
    if (HasRoi) {
      P.RoiStart = (*Roi)[I];
      P.RoiEnd = (*Roi)[Want + I];
    }
    Plan.push_back(P);
  }
  if (HasSizes && R.Policy != "stretch" && !R.Policy.empty()) {
    double Scale = Plan[0].Scale;
    for (const AxisPlan &P : Plan)
      Scale = R.Policy == "not_larger" ? std::min(Scale, P.Scale)
                                       : std::max(Scale, P.Scale);
    for (AxisPlan &P : Plan) {
      P.Scale = Scale;
      P.Out = static_cast<int64_t>(Scale * double(P.In) + 0.5);
    }
  }
  for (const AxisPlan &P : Plan)
    if (P.Out < 1 || P.Out > (int64_t(1) << 30)) {
      N.fail("the output size " + llvm::Twine(P.Out) + " of axis " +
             llvm::Twine(P.Axis) + " is not supported");
      return std::nullopt;
    }
  return Plan;
}

} // namespace

void onnximport::importResize(NodeImporter &N) {
  Value *X = N.requiredInput(0);
  ResizeAttrs R;
  if (!X || !readAttrs(N, R))
    return;
  if (X->Type.rank() == 0)
    return N.fail("the input must have rank 1 or more");
  auto Plan = planAxes(N, R, X);
  if (!Plan)
    return;
  ElemType E = X->Type.Elem;
  bool Weighted = R.Mode != "nearest";
  if (Weighted && !isFloat(E))
    return N.fail("mode '" + R.Mode +
                  "' is supported for float inputs only, "
                  "not " +
                  elemTypeName(E));
  // Interpolate in f32 for f16, so that each axis does not round to half.
  ElemType Compute = E == ElemType::F16 ? ElemType::F32 : E;
  Value *V = Weighted ? build::cast(N, X, Compute) : X;
  int64_t Rank = X->Type.rank();
  // Shrinking axes first keeps the intermediate tensors small.
  std::stable_sort(Plan->begin(), Plan->end(),
                   [](const AxisPlan &A, const AxisPlan &B) {
                     return A.Out * B.In < B.Out * A.In;
                   });
  Value *Mask = nullptr;
  for (const AxisPlan &P : *Plan) {
    std::vector<bool> Outside;
    V = resizeAxis(N, R, V, P, Outside);
    if (llvm::is_contained(Outside, true)) {
      std::vector<double> M(Outside.begin(), Outside.end());
      Value *AxisMask = build::cast(
          N, alongAxis(N, ElemType::U8, M, P.Axis, Rank), ElemType::Bool);
      Mask = Mask ? build::binary(N, OpKind::Or, Mask, AxisMask) : AxisMask;
    }
  }
  if (Mask)
    V = build::where(
        N, Mask, build::scalar(N, V ? V->Type.Elem : E, R.Extrapolation), V);
  N.setOutput(0, Weighted ? build::cast(N, V, E) : V);
}
