//===- OpImportersNN.cpp - Convolution, pooling, normalization, products --===//
//
// Conv, MaxPool, AveragePool, the global pools, BatchNormalization
// (inference), LRN, Gemm, MatMul, Softmax and LogSoftmax.
//
// Windowed operations get every attribute explicit: strides, dilations and
// pads (begins then ends) per spatial axis. auto_pad SAME_UPPER/SAME_LOWER/
// VALID is resolved into pads. A pool's ceil_mode is resolved into extra end
// padding (windows that would start in the right padding are dropped, as
// ONNX and PyTorch do); for AveragePool with count_include_pad=1 that extra
// padding must not count, so the explicit padding becomes a Pad node with
// zeros and the pool then excludes its own (ceil) padding.
//
// Opset differences: Softmax/LogSoftmax before 13 flatten the input to 2-D
// at `axis` (default 1) and normalize over the whole second part, lowered as
// Reshape -> Softmax(axis=1) -> Reshape; from 13 they normalize over one
// axis (default -1). AveragePool has count_include_pad from 7, pools have
// ceil_mode from 10, dilations from 10 (MaxPool) and 19 (AveragePool).
// BatchNormalization before 9 has `spatial` (only spatial=1 is supported),
// from 14 `training_mode` (only 0). MatMul's 1-D operands are reshaped to
// 2-D so that the graph op always sees matrices.
//
//===----------------------------------------------------------------------===//

#include "frontend/ImporterImpl.h"
#include "llvm/ADT/STLExtras.h"

using namespace tidal;
using namespace tidal::onnximport;

namespace {

/// The normalized window of a convolution or pool.
struct Window {
  std::vector<int64_t> Kernel, Strides, Dilations, Pads, Out;
  /// End padding that ceil_mode added to Pads, per spatial axis.
  std::vector<int64_t> CeilExtra;
};

// Resolves auto_pad, pads, and (for pools) ceil_mode into explicit pads and
// output sizes. In holds the input's spatial sizes; W.Kernel is set.
bool resolveWindow(NodeImporter &N, const std::vector<int64_t> &In, Window &W,
                   bool CeilMode) {
  size_t R = In.size();
  W.Strides = windowList(N, "strides", R, 1, 1);
  W.Dilations = windowList(N, "dilations", R, 1, 1);
  std::string AutoPad = autoPadAttr(N);
  W.Pads = AutoPad == "NOTSET" ? windowList(N, "pads", 2 * R, 0, 0)
                               : std::vector<int64_t>(2 * R, 0);
  if (N.failed())
    return false;
  W.Out.assign(R, 0);
  W.CeilExtra.assign(R, 0);
  for (size_t I = 0; I < R; ++I) {
    int64_t S = W.Strides[I];
    int64_t Extent = (W.Kernel[I] - 1) * W.Dilations[I] + 1;
    if (AutoPad == "SAME_UPPER" || AutoPad == "SAME_LOWER") {
      W.Out[I] = (In[I] + S - 1) / S;
      int64_t Total = std::max<int64_t>(0, (W.Out[I] - 1) * S + Extent - In[I]);
      int64_t Small = Total / 2, Big = Total - Small;
      W.Pads[I] = AutoPad == "SAME_UPPER" ? Small : Big;
      W.Pads[I + R] = AutoPad == "SAME_UPPER" ? Big : Small;
      continue;
    }
    int64_t Span = In[I] + W.Pads[I] + W.Pads[I + R] - Extent;
    if (Span < 0) {
      N.fail("the window (extent " + llvm::Twine(Extent) +
             ") is larger than the padded input (" +
             llvm::Twine(In[I] + W.Pads[I] + W.Pads[I + R]) + ") on axis " +
             llvm::Twine(I));
      return false;
    }
    W.Out[I] = Span / S + 1;
    if (CeilMode && AutoPad == "NOTSET") {
      W.Out[I] = (Span + S - 1) / S + 1;
      // The last window must start inside the input or the left padding.
      if ((W.Out[I] - 1) * S >= In[I] + W.Pads[I])
        --W.Out[I];
      W.CeilExtra[I] = std::max<int64_t>(
          0, (W.Out[I] - 1) * S + Extent - (In[I] + W.Pads[I] + W.Pads[I + R]));
      W.Pads[I + R] += W.CeilExtra[I];
    }
  }
  return true;
}

AttrMap windowAttrs(const Window &W) {
  AttrMap A;
  A["strides"] = W.Strides;
  A["pads"] = W.Pads;
  A["dilations"] = W.Dilations;
  return A;
}

std::vector<int64_t> spatial(const std::vector<int64_t> &Shape) {
  return std::vector<int64_t>(Shape.begin() + 2, Shape.end());
}

} // namespace

std::vector<int64_t> onnximport::windowList(NodeImporter &N, llvm::StringRef A,
                                            size_t Size, int64_t Default,
                                            int64_t Min) {
  std::vector<int64_t> V = N.attrInts(A, std::vector<int64_t>(Size, Default));
  if (V.size() != Size)
    N.fail("attribute '" + A + "' must have " + llvm::Twine(Size) +
           " values, not " + llvm::Twine(V.size()));
  for (int64_t X : V)
    if (X < Min || X > (int64_t(1) << 31))
      N.fail("attribute '" + A + "' has the invalid value " + llvm::Twine(X));
  return V;
}

std::string onnximport::autoPadAttr(NodeImporter &N) {
  std::string AutoPad = N.attrString("auto_pad", "NOTSET");
  if (AutoPad.empty())
    AutoPad = "NOTSET";
  if (AutoPad != "NOTSET" && AutoPad != "SAME_UPPER" &&
      AutoPad != "SAME_LOWER" && AutoPad != "VALID")
    N.fail("unknown auto_pad '" + AutoPad + "'");
  return AutoPad;
}

//===----------------------------------------------------------------------===//
// Conv
//===----------------------------------------------------------------------===//

void onnximport::importConv(NodeImporter &N) {
  Value *X = N.requiredInput(0), *W = N.requiredInput(1), *B = N.input(2);
  if (!X || !W)
    return;
  const auto &SX = X->Type.Shape, &SW = W->Type.Shape;
  if (SX.size() < 3 || SW.size() != SX.size())
    return N.fail("input " + X->Type.str() + " and weights " + W->Type.str() +
                  " must have the same rank, at least 3");
  ElemType E = X->Type.Elem;
  if (!isFloat(E) || W->Type.Elem != E || (B && B->Type.Elem != E))
    return N.fail("input, weights and bias must have the same float type");
  int64_t Group = N.attrInt("group", 1);
  if (Group < 1 || SX[1] != SW[1] * Group || SW[0] % Group != 0)
    return N.fail("weights " + W->Type.str() + " do not fit input " +
                  X->Type.str() + " with group " + llvm::Twine(Group));
  if (B && B->Type.Shape != std::vector<int64_t>{SW[0]})
    return N.fail("bias " + B->Type.str() + " must have shape [" +
                  llvm::Twine(SW[0]) + "]");
  Window Win;
  Win.Kernel = spatial(SW);
  if (N.hasAttr("kernel_shape") && N.attrInts("kernel_shape") != Win.Kernel)
    return N.fail("kernel_shape does not match the weights " + W->Type.str());
  if (!resolveWindow(N, spatial(SX), Win, /*CeilMode=*/false))
    return;
  AttrMap A = windowAttrs(Win);
  A["group"] = Group;
  std::vector<int64_t> Out = {SX[0], SW[0]};
  Out.insert(Out.end(), Win.Out.begin(), Win.Out.end());
  std::vector<Value *> Ops = {X, W};
  if (B)
    Ops.push_back(B);
  N.setOutput(0, N.emit(OpKind::Conv, Ops, std::move(A), TensorType(E, Out)));
}

//===----------------------------------------------------------------------===//
// Pools
//===----------------------------------------------------------------------===//

namespace {
std::vector<int64_t> poolShape(const std::vector<int64_t> &SX,
                               const std::vector<int64_t> &Out) {
  std::vector<int64_t> S = {SX[0], SX[1]};
  S.insert(S.end(), Out.begin(), Out.end());
  return S;
}

// AveragePool counting padding, with ceil_mode padding that must not count:
// the explicit padding becomes real zeros.
Value *padForCountIncludePad(NodeImporter &N, Value *X,
                             const std::vector<int64_t> &Explicit) {
  size_t R = X->Type.rank(), S = Explicit.size() / 2;
  std::vector<int64_t> Pads(2 * R, 0), Shape = X->Type.Shape;
  for (size_t I = 0; I < S; ++I) {
    Pads[2 + I] = Explicit[I];
    Pads[R + 2 + I] = Explicit[S + I];
    Shape[2 + I] += Explicit[I] + Explicit[S + I];
  }
  AttrMap A;
  A["pads"] = Pads;
  A["mode"] = std::string("constant");
  A["value"] = 0.0f;
  return N.emit(OpKind::Pad, {X}, std::move(A),
                TensorType(X->Type.Elem, Shape));
}
} // namespace

void onnximport::importPool(NodeImporter &N) {
  bool IsMax = N.Proto.op_type() == "MaxPool";
  Value *X = N.requiredInput(0);
  if (!X || !N.requireAttr("kernel_shape"))
    return;
  const auto &SX = X->Type.Shape;
  ElemType E = X->Type.Elem;
  if (SX.size() < 3)
    return N.fail("input " + X->Type.str() + " must have rank 3 or more");
  if (!(isFloat(E) || (IsMax && (E == ElemType::I8 || E == ElemType::U8))))
    return N.fail(N.Proto.op_type() + " is not defined for element type " +
                  elemTypeName(E));
  if (IsMax && N.outputUsed(1))
    return N.fail("the Indices output of MaxPool is not supported");
  Window Win;
  Win.Kernel = windowList(N, "kernel_shape", SX.size() - 2, 1, 1);
  bool Ceil = N.attrInt("ceil_mode", 0) != 0;
  if (N.failed() || !resolveWindow(N, spatial(SX), Win, Ceil))
    return;
  AttrMap A = windowAttrs(Win);
  A["kernel_shape"] = Win.Kernel;
  TensorType Result(E, poolShape(SX, Win.Out));
  if (IsMax)
    return N.setOutput(0, N.emit(OpKind::MaxPool, {X}, std::move(A), Result));
  int64_t CountPad = N.attrInt("count_include_pad", 0) != 0;
  bool CeilPadded = llvm::any_of(Win.CeilExtra, [](int64_t P) { return P; });
  if (CountPad && CeilPadded) {
    // The explicit padding counts, ceil mode's does not: the explicit part
    // becomes real zeros and the pool counts no padding.
    size_t R = Win.CeilExtra.size();
    std::vector<int64_t> Explicit = Win.Pads;
    for (size_t I = 0; I < R; ++I)
      Explicit[R + I] -= Win.CeilExtra[I];
    if (llvm::any_of(Explicit, [](int64_t P) { return P; }))
      X = padForCountIncludePad(N, X, Explicit);
    std::vector<int64_t> Rest(R, 0);
    Rest.insert(Rest.end(), Win.CeilExtra.begin(), Win.CeilExtra.end());
    A["pads"] = Rest;
    CountPad = 0;
  }
  A["count_include_pad"] = CountPad;
  N.setOutput(0, N.emit(OpKind::AveragePool, {X}, std::move(A), Result));
}

void onnximport::importGlobalPool(NodeImporter &N) {
  Value *X = N.requiredInput(0);
  if (!X)
    return;
  if (X->Type.rank() < 3 || !isFloat(X->Type.Elem))
    return N.fail("input must be a float tensor of rank 3 or more, not " +
                  X->Type.str());
  std::vector<int64_t> Out(X->Type.rank(), 1);
  Out[0] = X->Type.Shape[0];
  Out[1] = X->Type.Shape[1];
  OpKind K = N.Proto.op_type() == "GlobalMaxPool" ? OpKind::GlobalMaxPool
                                                  : OpKind::GlobalAveragePool;
  N.setOutput(0, N.emit(K, {X}, {}, TensorType(X->Type.Elem, Out)));
}

//===----------------------------------------------------------------------===//
// Normalizations
//===----------------------------------------------------------------------===//

void onnximport::importBatchNorm(NodeImporter &N) {
  std::vector<Value *> Ops;
  for (unsigned I = 0; I < 5; ++I)
    Ops.push_back(N.requiredInput(I));
  if (N.failed())
    return;
  Value *X = Ops[0];
  if (X->Type.rank() < 2 || !isFloat(X->Type.Elem))
    return N.fail("input must be a float tensor of rank 2 or more, not " +
                  X->Type.str());
  if (N.attrInt("training_mode", 0))
    return N.fail("training mode is not supported (inference only)");
  for (unsigned I = 1; I < N.numOutputs(); ++I)
    if (N.outputUsed(I))
      return N.fail("the training outputs (running or saved mean and "
                    "variance) are not supported (inference only)");
  if (N.Opset < 9 && N.attrInt("spatial", 1) == 0 && X->Type.rank() > 2)
    return N.fail("spatial=0 (per-activation statistics) is not supported");
  std::vector<int64_t> C = {X->Type.Shape[1]};
  for (unsigned I = 1; I < 5; ++I)
    if (Ops[I]->Type.Shape != C || Ops[I]->Type.Elem != X->Type.Elem)
      return N.fail("parameter " + llvm::Twine(I) + " is " +
                    Ops[I]->Type.str() + ", expected " +
                    elemTypeName(X->Type.Elem) + shapeStr(C));
  AttrMap A;
  A["epsilon"] = N.attrFloat("epsilon", 1e-5f);
  N.setOutput(0,
              N.emit(OpKind::BatchNormalization, Ops, std::move(A), X->Type));
}

void onnximport::importLRN(NodeImporter &N) {
  Value *X = N.requiredInput(0);
  if (!X || !N.requireAttr("size"))
    return;
  if (X->Type.rank() < 2 || !isFloat(X->Type.Elem))
    return N.fail("input must be a float tensor of rank 2 or more, not " +
                  X->Type.str());
  AttrMap A;
  A["alpha"] = N.attrFloat("alpha", 1e-4f);
  A["beta"] = N.attrFloat("beta", 0.75f);
  A["bias"] = N.attrFloat("bias", 1.0f);
  int64_t Size = N.attrInt("size", 1);
  if (Size < 1)
    return N.fail("size must be positive");
  A["size"] = Size;
  N.setOutput(0, N.emit(OpKind::LRN, {X}, std::move(A), X->Type));
}

//===----------------------------------------------------------------------===//
// Products
//===----------------------------------------------------------------------===//

void onnximport::importGemm(NodeImporter &N) {
  Value *A = N.requiredInput(0), *B = N.requiredInput(1), *C = N.input(2);
  if (!A || !B)
    return;
  ElemType E = A->Type.Elem;
  if (A->Type.rank() != 2 || B->Type.rank() != 2)
    return N.fail("A " + A->Type.str() + " and B " + B->Type.str() +
                  " must be matrices");
  if (B->Type.Elem != E || (C && C->Type.Elem != E) || E == ElemType::Bool)
    return N.fail("A, B and C must have the same numeric type");
  int64_t TA = N.attrInt("transA", 0) != 0, TB = N.attrInt("transB", 0) != 0;
  const auto &SA = A->Type.Shape, &SB = B->Type.Shape;
  int64_t M = TA ? SA[1] : SA[0], K = TA ? SA[0] : SA[1];
  int64_t K2 = TB ? SB[1] : SB[0], Cols = TB ? SB[0] : SB[1];
  if (K != K2)
    return N.fail("inner dimensions differ: A " + A->Type.str() + ", B " +
                  B->Type.str() + " (transA=" + llvm::Twine(TA) +
                  ", transB=" + llvm::Twine(TB) + ")");
  std::vector<int64_t> Out = {M, Cols};
  if (C && broadcast(C->Type.Shape, Out) != Out)
    return N.fail("C " + C->Type.str() + " does not broadcast to " +
                  shapeStr(Out));
  AttrMap Attrs;
  Attrs["alpha"] = N.attrFloat("alpha", 1.0f);
  Attrs["beta"] = N.attrFloat("beta", 1.0f);
  Attrs["transA"] = TA;
  Attrs["transB"] = TB;
  std::vector<Value *> Ops = {A, B};
  if (C)
    Ops.push_back(C);
  N.setOutput(0,
              N.emit(OpKind::Gemm, Ops, std::move(Attrs), TensorType(E, Out)));
}

void onnximport::importMatMul(NodeImporter &N) {
  Value *A = N.requiredInput(0), *B = N.requiredInput(1);
  if (!A || !B)
    return;
  ElemType E = A->Type.Elem;
  if (B->Type.Elem != E || E == ElemType::Bool)
    return N.fail("operands must have the same numeric type");
  if (A->Type.rank() == 0 || B->Type.rank() == 0)
    return N.fail("operands must not be scalars");
  bool VecA = A->Type.rank() == 1, VecB = B->Type.rank() == 1;
  if (VecA)
    A = N.reshape(A, {1, A->Type.Shape[0]});
  if (VecB)
    B = N.reshape(B, {B->Type.Shape[0], 1});
  if (!A || !B)
    return;
  const auto &SA = A->Type.Shape, &SB = B->Type.Shape;
  size_t RA = SA.size(), RB = SB.size();
  if (SA[RA - 1] != SB[RB - 2])
    return N.fail("inner dimensions differ: " + A->Type.str() + " and " +
                  B->Type.str());
  auto Batch = broadcast(std::vector<int64_t>(SA.begin(), SA.end() - 2),
                         std::vector<int64_t>(SB.begin(), SB.end() - 2));
  if (!Batch)
    return N.fail("batch dimensions of " + A->Type.str() + " and " +
                  B->Type.str() + " do not broadcast");
  std::vector<int64_t> Out = *Batch;
  Out.push_back(SA[RA - 2]);
  Out.push_back(SB[RB - 1]);
  Value *R = N.emit(OpKind::MatMul, {A, B}, {}, TensorType(E, Out));
  // Drop the dimensions the 1-D operands were given.
  std::vector<int64_t> Final(Out.begin(), Out.end() - 2);
  if (!VecA)
    Final.push_back(Out[Out.size() - 2]);
  if (!VecB)
    Final.push_back(Out.back());
  N.setOutput(0, N.reshape(R, Final));
}

void onnximport::importSoftmax(NodeImporter &N) {
  OpKind K =
      N.Proto.op_type() == "Softmax" ? OpKind::Softmax : OpKind::LogSoftmax;
  Value *X = N.requiredInput(0);
  if (!X)
    return;
  if (!isFloat(X->Type.Elem))
    return N.fail("input must be a float tensor, not " + X->Type.str());
  int64_t Rank = X->Type.rank();
  auto Axis = N.normalizeAxis(N.attrInt("axis", N.Opset < 13 ? 1 : -1), Rank);
  if (!Axis)
    return;
  AttrMap A;
  if (N.Opset >= 13 || *Axis == Rank - 1) {
    A["axis"] = *Axis;
    return N.setOutput(0, N.emit(K, {X}, std::move(A), X->Type));
  }
  // Before opset 13: normalize over all axes from `axis` on, as a 2-D
  // matrix.
  const auto &S = X->Type.Shape;
  Value *Flat = N.reshape(X, {product(S, 0, *Axis), product(S, *Axis)});
  A["axis"] = int64_t(1);
  Value *R = Flat ? N.emit(K, {Flat}, std::move(A), Flat->Type) : nullptr;
  N.setOutput(0, N.reshape(R, S));
}
