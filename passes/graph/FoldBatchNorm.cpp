//===- FoldBatchNorm.cpp - The "fold-batchnorm" pass ----------------------===//
//
// Folds an inference-mode BatchNormalization into the Conv or Gemm that
// produces its input. BN computes, per channel c (dimension 1 of X),
//   y = (x - mean[c]) * s[c] + B[c],   s[c] = scale[c] / sqrt(var[c] + eps),
// which is affine per channel, so it moves into the producer's weights:
//   Conv: W'[c,...] = W[c,...] * s[c];   b'[c] = (b[c] - mean[c]) * s[c] + B[c]
//         (output channel c is row c of W; an absent bias is 0);
//   Gemm: Y = alpha * A' * B' + beta * C, output feature n is column n of Y,
//         i.e. row n of B when transB = 1 and column n when transB = 0:
//         B'[.., n] = B[.., n] * s[n];  C'[n] = (beta * C[n] - mean[n]) * s[n]
//         + B[n], and beta becomes 1 (alpha is kept).
// The new values are computed in double and rounded once to f32. New
// Constant nodes hold them, inserted just before the producer (the old
// weights may be shared with other nodes, so they are never changed in
// place; "dce" removes them when they become unused). The BN node is
// erased, its uses now use the producer's result, and that result takes the
// BN result's name, so graph outputs keep their names.
//
// A fold happens only when all of this holds, otherwise the graph is left
// unchanged: the producer's result has the BN as its only user and is not a
// graph output; the weights (W / B) are f32 Constants, unquantized, and the
// bias (b / C) is absent or an f32 Constant; scale, B, mean and var are
// Constants (any float type) with one value per channel; the producer's
// result type equals the BN's result type; for Gemm, C does not vary along
// the rows (shape [], [1], [N], [1,1], [1,N]). MatMul is not folded.
//
// Assumes a verified graph with normalized attributes (docs/ir.md): BN has
// `epsilon`, Conv's W is [M, C/group, k...] and its result [N, M, ...], Gemm
// has alpha, beta, transA, transB and a 2-D result.
//
//===----------------------------------------------------------------------===//

#include "passes/PassRegistry.h"
#include <cmath>

using namespace tidal;

namespace {

/// BN's per-channel affine map y = (x - Mean[c]) * Mul[c] + Shift[c], with
/// Mul = scale / sqrt(var + epsilon) and Shift = BN's B operand.
struct ChannelAffine {
  std::vector<double> Mul, Mean, Shift;
  /// Channel c of the producer's bias b, mapped through the BN.
  double bias(int64_t C, double B) const {
    return (B - Mean[C]) * Mul[C] + Shift[C];
  }
};

bool isPlainF32(const TensorType &T) {
  return T.Elem == ElemType::F32 && !T.Quant;
}

bool isPlainFloat(const TensorType &T) { return isFloat(T.Elem) && !T.Quant; }

/// The constant operand I of N when it is a plain f32 tensor, else null.
const Tensor *f32Constant(const Node &N, unsigned I) {
  const Tensor *T = N.Operands[I]->constantData();
  return T && isPlainF32(T->Type) ? T : nullptr;
}

/// BN's parameters as a per-channel affine map for Channels channels, or
/// nothing when they are not constants of the right size.
std::optional<ChannelAffine> bnAffine(const Node &BN, int64_t Channels) {
  const Tensor *P[4];
  for (unsigned I = 0; I < 4; ++I) {
    P[I] = BN.Operands[I + 1]->constantData();
    if (!P[I] || !isPlainFloat(P[I]->Type) ||
        P[I]->Type.numElements() != Channels)
      return std::nullopt;
  }
  double Eps = BN.getFloat("epsilon", 1e-5f);
  ChannelAffine A;
  for (int64_t C = 0; C < Channels; ++C) {
    A.Mul.push_back(P[0]->getDouble(C) / std::sqrt(P[3]->getDouble(C) + Eps));
    A.Mean.push_back(P[2]->getDouble(C));
    A.Shift.push_back(P[1]->getDouble(C));
  }
  return A;
}

/// The node producing BN's X when it may absorb the BN: a Conv or Gemm
/// whose result only the BN uses.
Node *foldableProducer(const Graph &G, const Node &BN) {
  Value *X = BN.Operands[0];
  Node *P = X->Def;
  if (!P || (P->Kind != OpKind::Conv && P->Kind != OpKind::Gemm))
    return nullptr;
  if (P->Results.size() != 1 || G.isGraphOutput(X) || G.users(X).size() != 1)
    return nullptr;
  if (X->Type != BN.result()->Type || !isPlainF32(X->Type) ||
      X->Type.rank() < 2)
    return nullptr;
  return P;
}

/// A new f32 constant named after Hint, placed before N.
Value *newConstant(Graph &G, Node &N, const std::string &Hint,
                   std::vector<int64_t> Shape, const std::vector<double> &V) {
  Tensor T(TensorType(ElemType::F32, std::move(Shape)));
  for (size_t I = 0; I < V.size(); ++I)
    T.setDouble(I, V[I]);
  return G.createConstant(Hint, std::move(T), &N);
}

/// Sets operand I of N (appending it when N has only I operands).
void setOperand(Node &N, unsigned I, Value *V) {
  if (I == N.Operands.size())
    N.Operands.push_back(V);
  else
    N.Operands[I] = V;
}

/// Conv: returns whether it folded.
bool foldIntoConv(Graph &G, Node &Conv, const Node &BN) {
  const Tensor *W = f32Constant(Conv, 1);
  if (!W || W->Type.rank() < 1)
    return false;
  const Tensor *Bias =
      Conv.Operands.size() > 2 ? f32Constant(Conv, 2) : nullptr;
  if (Conv.Operands.size() > 2 && !Bias)
    return false;
  int64_t M = W->Type.Shape[0];
  if (Conv.result()->Type.Shape[1] != M ||
      (Bias && Bias->Type.numElements() != M))
    return false;
  std::optional<ChannelAffine> A = bnAffine(BN, M);
  if (!A)
    return false;
  int64_t PerChannel = W->Type.numElements() / std::max<int64_t>(M, 1);
  std::vector<double> NewW(W->Type.numElements()), NewB(M);
  for (int64_t I = 0; I < W->Type.numElements(); ++I)
    NewW[I] = W->getDouble(I) * A->Mul[I / PerChannel];
  for (int64_t C = 0; C < M; ++C)
    NewB[C] = A->bias(C, Bias ? Bias->getDouble(C) : 0.0);
  setOperand(Conv, 1,
             newConstant(G, Conv, Conv.Name + "_bn_w", W->Type.Shape, NewW));
  setOperand(Conv, 2, newConstant(G, Conv, Conv.Name + "_bn_b", {M}, NewB));
  return true;
}

/// Gemm's C as one value per output feature (of N), or nothing when C
/// varies along the rows. An absent C is 0.
std::optional<std::vector<double>> gemmBiasPerFeature(const Node &Gemm,
                                                      int64_t N) {
  if (Gemm.Operands.size() < 3)
    return std::vector<double>(N, 0.0);
  const Tensor *C = f32Constant(Gemm, 2);
  if (!C)
    return std::nullopt;
  const std::vector<int64_t> &S = C->Type.Shape;
  if (S.size() > 2 || (S.size() == 2 && S[0] != 1))
    return std::nullopt;
  bool PerFeature = !S.empty() && S.back() != 1;
  if (PerFeature && S.back() != N)
    return std::nullopt;
  double Beta = Gemm.getFloat("beta", 1.0f);
  std::vector<double> Result(N);
  for (int64_t I = 0; I < N; ++I)
    Result[I] = Beta * C->getDouble(PerFeature ? I : 0);
  return Result;
}

/// Gemm: returns whether it folded.
bool foldIntoGemm(Graph &G, Node &Gemm, const Node &BN) {
  const Tensor *B = f32Constant(Gemm, 1);
  if (!B || B->Type.rank() != 2 || Gemm.result()->Type.rank() != 2)
    return false;
  bool TransB = Gemm.getInt("transB", 0) != 0;
  int64_t N = Gemm.result()->Type.Shape[1];
  if (B->Type.Shape[TransB ? 0 : 1] != N)
    return false;
  std::optional<std::vector<double>> C = gemmBiasPerFeature(Gemm, N);
  std::optional<ChannelAffine> A = bnAffine(BN, N);
  if (!C || !A)
    return false;
  int64_t Cols = B->Type.Shape[1];
  std::vector<double> NewB(B->Type.numElements()), NewC(N);
  for (int64_t I = 0; I < B->Type.numElements(); ++I)
    NewB[I] = B->getDouble(I) * A->Mul[TransB ? I / Cols : I % Cols];
  for (int64_t F = 0; F < N; ++F)
    NewC[F] = A->bias(F, (*C)[F]);
  setOperand(Gemm, 1,
             newConstant(G, Gemm, Gemm.Name + "_bn_w", B->Type.Shape, NewB));
  setOperand(Gemm, 2, newConstant(G, Gemm, Gemm.Name + "_bn_b", {N}, NewC));
  Gemm.Attrs["beta"] = 1.0f;
  return true;
}

/// Folds BN into its producer if it can; returns whether it did.
bool foldBatchNormNode(Graph &G, Node &BN) {
  Node *P = foldableProducer(G, BN);
  if (!P)
    return false;
  bool Folded = P->Kind == OpKind::Conv ? foldIntoConv(G, *P, BN)
                                        : foldIntoGemm(G, *P, BN);
  if (!Folded)
    return false;
  Value *X = P->result();
  Value *Y = BN.result();
  std::string Name = Y->Name;
  G.replaceAllUsesWith(Y, X);
  G.erase(&BN);
  X->Name = std::move(Name);
  return true;
}

} // namespace

llvm::Error tidal::foldBatchNorm(Module &M, const PassOptions &) {
  assert(M.G && "fold-batchnorm runs on the graph IR");
  Graph &G = *M.G;
  std::vector<Node *> BNs;
  for (auto &N : G.Nodes)
    if (N->Kind == OpKind::BatchNormalization)
      BNs.push_back(N.get());
  for (Node *BN : BNs)
    foldBatchNormNode(G, *BN);
  return llvm::Error::success();
}
