//===- OpImportersNorm.cpp - Layer, instance, group, RMS, Lp norms --------===//
//
// LayerNormalization, InstanceNormalization, GroupNormalization,
// RMSNormalization, LpNormalization and MeanVarianceNormalization, each
// decomposed into graph operations exactly as ONNX's function bodies define
// them (so the numbers are the reference's):
//
//   Mean = ReduceMean(X, axes, keepdims)      D = X - Mean
//   Var = ReduceMean(D * D, axes, keepdims)   InvStdDev = 1 / sqrt(Var + eps)
//   Normalized = D * InvStdDev                Y = Normalized * Scale + B
//
// over axes [axis, rank) for LayerNormalization, the spatial axes for
// InstanceNormalization, and each group of channels (X reshaped to
// [N, groups, rest]) for GroupNormalization. RMSNormalization divides X by
// sqrt(ReduceMean(X * X) + eps). With `stash_type` 1 (float, the only value
// supported) the first stage runs in f32 and Normalized is cast back to
// X's type; LayerNormalization's optional Mean and InvStdDev outputs are
// the f32 values of that stage.
//
// Opset differences: GroupNormalization 18 has one scale and bias per group
// (shape [num_groups]), 21 one per channel (shape [C]) and a stash_type.
// LpNormalization 22 defines a zero norm to give zeros; Tidal gives zeros
// for opset 1 too (where 0/0 was left undefined).
//
//===----------------------------------------------------------------------===//

#include "frontend/OpImportersExtra.h"

using namespace tidal;
using namespace tidal::onnximport;

namespace {

/// The stage-one results: Normalized (in the stash type), Mean and
/// InvStdDev (keepdims shapes).
struct Stage {
  Value *Normalized = nullptr, *Mean = nullptr, *InvStdDev = nullptr;
};

/// ONNX's stash_type; only 1 (float) is supported. Returns the type stage
/// one computes in, or none after fail().
std::optional<ElemType> stashType(NodeImporter &N) {
  int64_t Stash = N.attrInt("stash_type", 1);
  if (Stash != 1) {
    N.fail("stash_type " + llvm::Twine(Stash) +
           " is not supported (only 1, float)");
    return std::nullopt;
  }
  return ElemType::F32;
}

/// (X - mean) / sqrt(var + eps) over Axes, mean and variance kept.
Stage standardize(NodeImporter &N, Value *X, const std::vector<int64_t> &Axes,
                  float Epsilon) {
  Stage S;
  S.Mean = build::reduce(N, OpKind::ReduceMean, X, Axes, true);
  Value *D = build::binary(N, OpKind::Sub, X, S.Mean);
  Value *Var = build::reduce(N, OpKind::ReduceMean,
                             build::binary(N, OpKind::Mul, D, D), Axes, true);
  if (!Var)
    return S;
  Value *Eps = build::scalar(N, Var->Type.Elem, Epsilon);
  Value *StdDev =
      build::unary(N, OpKind::Sqrt, build::binary(N, OpKind::Add, Var, Eps));
  S.InvStdDev = build::unary(N, OpKind::Reciprocal, StdDev);
  S.Normalized = build::binary(N, OpKind::Mul, D, S.InvStdDev);
  return S;
}

std::vector<int64_t> axesFrom(int64_t First, int64_t Rank) {
  std::vector<int64_t> Axes;
  for (int64_t A = First; A < Rank; ++A)
    Axes.push_back(A);
  return Axes;
}

/// Scale (or bias) V must broadcast to X's shape (unidirectionally) and
/// have X's type.
bool checkAffine(NodeImporter &N, Value *V, Value *X, llvm::StringRef Role) {
  if (!V)
    return !N.failed();
  if (V->Type.Elem != X->Type.Elem) {
    N.fail(Role + " " + V->Type.str() + " must have the input's type " +
           elemTypeName(X->Type.Elem));
    return false;
  }
  if (broadcast(V->Type.Shape, X->Type.Shape) != X->Type.Shape) {
    N.fail(Role + " " + V->Type.str() + " does not broadcast to the input " +
           X->Type.str());
    return false;
  }
  return true;
}

/// Y = Normalized * Scale (+ Bias), with Normalized back in T.
Value *scaleShift(NodeImporter &N, Value *Normalized, ElemType T, Value *Scale,
                  Value *Bias) {
  Value *Y =
      build::binary(N, OpKind::Mul, build::cast(N, Normalized, T), Scale);
  return Bias ? build::binary(N, OpKind::Add, Y, Bias) : Y;
}

/// A per-channel [C] parameter shaped [C, 1, ...] to broadcast over
/// X [N, C, spatial...].
Value *perChannel(NodeImporter &N, Value *P, int64_t Rank) {
  if (!P)
    return nullptr;
  std::vector<int64_t> Shape(Rank - 1, 1);
  Shape[0] = P->Type.numElements();
  return N.reshape(P, Shape);
}

} // namespace

void onnximport::importLayerNorm(NodeImporter &N) {
  Value *X = N.requiredInput(0), *Scale = N.requiredInput(1), *B = N.input(2);
  if (!X || !Scale)
    return;
  if (!isFloat(X->Type.Elem) || X->Type.rank() == 0)
    return N.fail("the input must be a float tensor of rank 1 or more, not " +
                  X->Type.str());
  int64_t Rank = X->Type.rank();
  auto Axis = N.normalizeAxis(N.attrInt("axis", -1), Rank);
  float Eps = N.attrFloat("epsilon", 1e-5f);
  auto Stash = stashType(N);
  if (!Axis || !Stash || !checkAffine(N, Scale, X, "scale") ||
      !checkAffine(N, B, X, "bias"))
    return;
  Stage S =
      standardize(N, build::cast(N, X, *Stash), axesFrom(*Axis, Rank), Eps);
  N.setOutput(0, scaleShift(N, S.Normalized, X->Type.Elem, Scale, B));
  N.setOutput(1, S.Mean);
  N.setOutput(2, S.InvStdDev);
}

void onnximport::importInstanceNorm(NodeImporter &N) {
  Value *X = N.requiredInput(0), *Scale = N.requiredInput(1),
        *B = N.requiredInput(2);
  if (!X || !Scale || !B)
    return;
  int64_t Rank = X->Type.rank();
  if (Rank < 3 || !isFloat(X->Type.Elem))
    return N.fail("the input must be a float tensor of rank 3 or more, not " +
                  X->Type.str());
  std::vector<int64_t> C = {X->Type.Shape[1]};
  for (Value *P : {Scale, B})
    if (P->Type.Shape != C || P->Type.Elem != X->Type.Elem)
      return N.fail("scale and bias must be " + elemTypeName(X->Type.Elem) +
                    shapeStr(C) + ", not " + P->Type.str());
  float Eps = N.attrFloat("epsilon", 1e-5f);
  if (N.failed())
    return;
  Stage S = standardize(N, X, axesFrom(2, Rank), Eps);
  N.setOutput(0,
              scaleShift(N, S.Normalized, X->Type.Elem,
                         perChannel(N, Scale, Rank), perChannel(N, B, Rank)));
}

void onnximport::importGroupNorm(NodeImporter &N) {
  Value *X = N.requiredInput(0), *Scale = N.requiredInput(1),
        *B = N.requiredInput(2);
  if (!X || !Scale || !B || !N.requireAttr("num_groups"))
    return;
  int64_t Rank = X->Type.rank();
  if (Rank < 2 || !isFloat(X->Type.Elem))
    return N.fail("the input must be a float tensor of rank 2 or more, not " +
                  X->Type.str());
  int64_t G = N.attrInt("num_groups", 1), C = X->Type.Shape[1];
  float Eps = N.attrFloat("epsilon", 1e-5f);
  bool PerGroup = N.Opset < 21;
  auto Stash = PerGroup ? std::optional<ElemType>(X->Type.Elem) : stashType(N);
  if (!Stash || N.failed())
    return;
  if (G < 1 || C % G != 0)
    return N.fail("num_groups " + llvm::Twine(G) +
                  " does not divide the channels " + llvm::Twine(C));
  std::vector<int64_t> PShape = {PerGroup ? G : C};
  for (Value *P : {Scale, B})
    if (P->Type.Shape != PShape || P->Type.Elem != X->Type.Elem)
      return N.fail("scale and bias must be " + elemTypeName(X->Type.Elem) +
                    shapeStr(PShape) +
                    (PerGroup ? " (opset < 21: one per "
                                "group)"
                              : "") +
                    ", not " + P->Type.str());
  const std::vector<int64_t> &S = X->Type.Shape;
  Value *Grouped =
      N.reshape(build::cast(N, X, *Stash), {S[0], G, product(S, 1) / G});
  Stage St = standardize(N, Grouped, {2}, Eps);
  if (PerGroup) {
    Value *Y = scaleShift(N, St.Normalized, X->Type.Elem,
                          N.reshape(Scale, {G, 1}), N.reshape(B, {G, 1}));
    return N.setOutput(0, N.reshape(Y, S));
  }
  Value *Norm = N.reshape(St.Normalized, S);
  N.setOutput(0, scaleShift(N, Norm, X->Type.Elem, perChannel(N, Scale, Rank),
                            perChannel(N, B, Rank)));
}

void onnximport::importRMSNorm(NodeImporter &N) {
  Value *X = N.requiredInput(0), *Scale = N.requiredInput(1);
  if (!X || !Scale)
    return;
  if (!isFloat(X->Type.Elem))
    return N.fail("the input must be a float tensor, not " + X->Type.str());
  int64_t Rank = X->Type.rank();
  auto Axis = N.normalizeAxis(N.attrInt("axis", -1), Rank);
  float Eps = N.attrFloat("epsilon", 1e-5f);
  auto Stash = stashType(N);
  if (!Axis || !Stash || !checkAffine(N, Scale, X, "scale"))
    return;
  Value *Xs = build::cast(N, X, *Stash);
  Value *MeanSq = build::reduce(N, OpKind::ReduceMean,
                                build::binary(N, OpKind::Mul, Xs, Xs),
                                axesFrom(*Axis, Rank), true);
  Value *Rms = build::unary(
      N, OpKind::Sqrt,
      build::binary(N, OpKind::Add, MeanSq, build::scalar(N, *Stash, Eps)));
  Value *Normalized = build::binary(N, OpKind::Div, Xs, Rms);
  N.setOutput(0, scaleShift(N, Normalized, X->Type.Elem, Scale, nullptr));
}

void onnximport::importLpNorm(NodeImporter &N) {
  Value *X = N.requiredInput(0);
  if (!X)
    return;
  if (!isFloat(X->Type.Elem) || X->Type.rank() == 0)
    return N.fail("the input must be a float tensor of rank 1 or more, not " +
                  X->Type.str());
  auto Axis = N.normalizeAxis(N.attrInt("axis", -1), X->Type.rank());
  int64_t P = N.attrInt("p", 2);
  if (!Axis || N.failed())
    return;
  if (P != 1 && P != 2)
    return N.fail("p must be 1 or 2, not " + llvm::Twine(P));
  ElemType E = X->Type.Elem;
  Value *Norm = build::reduce(N, P == 1 ? OpKind::ReduceL1 : OpKind::ReduceL2,
                              X, {*Axis}, true);
  // A zero norm (all elements zero) gives zeros: divide by 1 instead.
  Value *Zero = build::binary(N, OpKind::Equal, Norm, build::scalar(N, E, 0));
  Value *Safe = build::where(N, Zero, build::scalar(N, E, 1), Norm);
  N.setOutput(0, build::binary(N, OpKind::Div, X, Safe));
}

void onnximport::importMeanVarianceNorm(NodeImporter &N) {
  Value *X = N.requiredInput(0);
  if (!X)
    return;
  if (!isFloat(X->Type.Elem))
    return N.fail("the input must be a float tensor, not " + X->Type.str());
  int64_t Rank = X->Type.rank();
  auto Sorted = N.normalizeAxes(N.attrInts("axes", {0, 2, 3}), Rank);
  if (!Sorted || N.failed())
    return;
  const std::vector<int64_t> &Axes = *Sorted;
  // ONNX's function: (X - E[X]) / (sqrt(E[X^2] - E[X]^2) + 1e-9).
  Value *Mean = build::reduce(N, OpKind::ReduceMean, X, Axes, true);
  Value *MeanSq = build::reduce(
      N, OpKind::ReduceMean, build::binary(N, OpKind::Mul, X, X), Axes, true);
  Value *Var = build::binary(N, OpKind::Sub, MeanSq,
                             build::binary(N, OpKind::Mul, Mean, Mean));
  Value *Den = build::binary(N, OpKind::Add, build::unary(N, OpKind::Sqrt, Var),
                             build::scalar(N, X->Type.Elem, 1e-9));
  N.setOutput(0, build::binary(N, OpKind::Div,
                               build::binary(N, OpKind::Sub, X, Mean), Den));
}
