//===- GraphPassesTest.cpp - Numerics of the graph-level passes -----------===//
//
// fold-batchnorm changes weights, so its test is numeric: a Conv (or Gemm)
// followed by a BatchNormalization is computed directly in this file from
// the original weights, then the pass folds the graph and the folded
// producer is computed directly again from its new constant weights; the
// two must agree. The structural rules of the graph passes are tested by
// the golden tests in test/lit/.
//
//===----------------------------------------------------------------------===//

#include "compiler/PassManager.h"
#include "passes/PassRegistry.h"
#include <catch2/catch.hpp>
#include <cmath>
#include <optional>

using namespace tidal;

namespace {

/// Deterministic pseudo-random values in [Lo, Hi).
std::vector<float> values(size_t N, unsigned Seed, float Lo, float Hi) {
  std::vector<float> V(N);
  uint32_t S = Seed * 2654435761u + 1;
  for (float &X : V) {
    S = S * 1664525u + 1013904223u;
    X = Lo + (Hi - Lo) * static_cast<float>(S >> 8) / 16777216.0f;
  }
  return V;
}

Tensor f32Tensor(std::vector<int64_t> Shape, const std::vector<float> &V) {
  Tensor T(TensorType(ElemType::F32, std::move(Shape)));
  REQUIRE(static_cast<size_t>(T.Type.numElements()) == V.size());
  for (size_t I = 0; I < V.size(); ++I)
    T.setDouble(I, V[I]);
  return T;
}

std::vector<double> asDoubles(const Tensor &T) {
  std::vector<double> V(T.Type.numElements());
  for (size_t I = 0; I < V.size(); ++I)
    V[I] = T.getDouble(I);
  return V;
}

/// The shape of a 2-D convolution: input [N, C, H, W], weights
/// [M, C/Group, KH, KW], the same stride and the same begin/end padding
/// (PadT rows, PadL columns) on both sides, output [N, M, OH, OW].
struct ConvParams {
  int64_t N, C, H, W, M, KH, KW, Group, Stride, PadT, PadL, OH, OW;
};

/// Direct 2-D convolution, NCHW, with groups, in double. B may be empty.
std::vector<double> conv2d(const ConvParams &P, const std::vector<double> &X,
                           const std::vector<double> &W,
                           const std::vector<double> &B) {
  std::vector<double> Y(P.N * P.M * P.OH * P.OW);
  int64_t CPerG = P.C / P.Group, MPerG = P.M / P.Group;
  for (int64_t N = 0; N < P.N; ++N)
    for (int64_t M = 0; M < P.M; ++M)
      for (int64_t OY = 0; OY < P.OH; ++OY)
        for (int64_t OX = 0; OX < P.OW; ++OX) {
          double Sum = B.empty() ? 0.0 : B[M];
          int64_t G = M / MPerG;
          for (int64_t CI = 0; CI < CPerG; ++CI)
            for (int64_t KY = 0; KY < P.KH; ++KY)
              for (int64_t KX = 0; KX < P.KW; ++KX) {
                int64_t IY = OY * P.Stride - P.PadT + KY;
                int64_t IX = OX * P.Stride - P.PadL + KX;
                if (IY < 0 || IY >= P.H || IX < 0 || IX >= P.W)
                  continue;
                int64_t C = G * CPerG + CI;
                Sum += X[((N * P.C + C) * P.H + IY) * P.W + IX] *
                       W[((M * CPerG + CI) * P.KH + KY) * P.KW + KX];
              }
          Y[((N * P.M + M) * P.OH + OY) * P.OW + OX] = Sum;
        }
  return Y;
}

/// Inference BatchNormalization over dimension 1 of a tensor whose
/// dimensions after 1 hold Inner elements, straight from the ONNX formula.
std::vector<double> batchNorm(std::vector<double> X, int64_t Channels,
                              int64_t Inner, const std::vector<float> &Scale,
                              const std::vector<float> &Bias,
                              const std::vector<float> &Mean,
                              const std::vector<float> &Var, float Eps) {
  for (size_t I = 0; I < X.size(); ++I) {
    int64_t C = (I / Inner) % Channels;
    X[I] =
        (X[I] - Mean[C]) / std::sqrt(double(Var[C]) + double(Eps)) * Scale[C] +
        Bias[C];
  }
  return X;
}

struct BNParams {
  std::vector<float> Scale, Bias, Mean, Var;
  float Eps = 1e-3f;
  explicit BNParams(int64_t C)
      : Scale(values(C, 11, 0.5f, 2.0f)), Bias(values(C, 12, -1.0f, 1.0f)),
        Mean(values(C, 13, -0.5f, 0.5f)), Var(values(C, 14, 0.1f, 3.0f)) {}
};

/// Appends BN(X) with constant parameters and makes it the graph output.
Node *addBatchNorm(Graph &G, Value *X, const BNParams &P) {
  int64_t C = P.Scale.size();
  Value *Ops[4];
  const std::vector<float> *Data[4] = {&P.Scale, &P.Bias, &P.Mean, &P.Var};
  const char *Names[4] = {"scale", "shift", "mean", "var"};
  for (unsigned I = 0; I < 4; ++I)
    Ops[I] = G.createConstant(Names[I], f32Tensor({C}, *Data[I]));
  Node *BN = G.createNode(OpKind::BatchNormalization, "bn",
                          {X, Ops[0], Ops[1], Ops[2], Ops[3]}, {X->Type},
                          {{"epsilon", P.Eps}});
  G.Outputs.push_back(BN->result());
  return BN;
}

bool hasBatchNorm(const Graph &G) {
  for (const auto &N : G.Nodes)
    if (N->Kind == OpKind::BatchNormalization)
      return true;
  return false;
}

void requireClose(const std::vector<double> &Got,
                  const std::vector<double> &Want) {
  REQUIRE(Got.size() == Want.size());
  for (size_t I = 0; I < Got.size(); ++I)
    REQUIRE(Got[I] == Approx(Want[I]).epsilon(1e-5).margin(1e-5));
}

/// Fails the test with the verifier's message when G is invalid.
void requireValid(const Graph &G) {
  llvm::Error E = verifyGraph(G);
  std::string Msg = E ? llvm::toString(std::move(E)) : "";
  INFO(Msg);
  REQUIRE(Msg.empty());
}

/// Runs the pass called Name over G, checking the graph before and after.
Module runPass(std::unique_ptr<Graph> G, const char *Name) {
  requireValid(*G);
  Module M;
  M.G = std::move(G);
  const PassInfo *P = lookupPass(Name);
  REQUIRE(P);
  llvm::Error E = P->Run(M, PassOptions());
  REQUIRE(!E);
  requireValid(*M.G);
  return M;
}

/// Builds x -> Conv -> BN, folds it and compares with the direct result.
void checkConvFold(const ConvParams &P, bool WithBias) {
  auto G = std::make_unique<Graph>();
  Value *X = G->addInput("x", TensorType(ElemType::F32, {P.N, P.C, P.H, P.W}));
  int64_t CPerG = P.C / P.Group;
  std::vector<float> W = values(P.M * CPerG * P.KH * P.KW, 1, -1.0f, 1.0f);
  std::vector<float> B = values(P.M, 2, -1.0f, 1.0f);
  std::vector<Value *> Ops{
      X, G->createConstant("w", f32Tensor({P.M, CPerG, P.KH, P.KW}, W))};
  if (WithBias)
    Ops.push_back(G->createConstant("b", f32Tensor({P.M}, B)));
  AttrMap Attrs{{"strides", std::vector<int64_t>{P.Stride, P.Stride}},
                {"pads", std::vector<int64_t>{P.PadT, P.PadL, P.PadT, P.PadL}},
                {"dilations", std::vector<int64_t>{1, 1}},
                {"group", P.Group}};
  Node *Conv =
      G->createNode(OpKind::Conv, "conv", Ops,
                    {TensorType(ElemType::F32, {P.N, P.M, P.OH, P.OW})}, Attrs);
  BNParams BN(P.M);
  addBatchNorm(*G, Conv->result(), BN);
  std::string OutName = G->Outputs[0]->Name;

  std::vector<float> XF = values(P.N * P.C * P.H * P.W, 3, -2.0f, 2.0f);
  std::vector<double> XV(XF.begin(), XF.end());
  std::vector<double> Want =
      batchNorm(conv2d(P, XV, std::vector<double>(W.begin(), W.end()),
                       WithBias ? std::vector<double>(B.begin(), B.end())
                                : std::vector<double>()),
                P.M, P.OH * P.OW, BN.Scale, BN.Bias, BN.Mean, BN.Var, BN.Eps);

  Module M = runPass(std::move(G), "fold-batchnorm");
  REQUIRE(!hasBatchNorm(*M.G));
  REQUIRE(M.G->Outputs[0] == Conv->result());
  REQUIRE(M.G->Outputs[0]->Name == OutName);
  REQUIRE(Conv->Operands.size() == 3);
  const Tensor *NewW = Conv->Operands[1]->constantData();
  const Tensor *NewB = Conv->Operands[2]->constantData();
  REQUIRE(NewW);
  REQUIRE(NewB);
  REQUIRE(NewW->Type == TensorType(ElemType::F32, {P.M, CPerG, P.KH, P.KW}));
  REQUIRE(NewB->Type == TensorType(ElemType::F32, {P.M}));
  requireClose(conv2d(P, XV, asDoubles(*NewW), asDoubles(*NewB)), Want);
}

} // namespace

TEST_CASE("fold-batchnorm folds BN into a Conv with bias", "[graph-passes]") {
  checkConvFold({1, 2, 5, 5, 3, 3, 3, 1, 1, 1, 1, 5, 5}, /*WithBias=*/true);
}

TEST_CASE("fold-batchnorm folds BN into a Conv without bias",
          "[graph-passes]") {
  checkConvFold({2, 3, 6, 6, 4, 3, 3, 1, 2, 0, 0, 2, 2}, /*WithBias=*/false);
}

TEST_CASE("fold-batchnorm folds BN into a grouped Conv", "[graph-passes]") {
  checkConvFold({1, 4, 4, 4, 6, 1, 1, 2, 1, 0, 0, 4, 4}, /*WithBias=*/true);
}

namespace {

/// Builds a -> Gemm -> BN (1-D, over the Gemm's output features), folds it
/// and compares with the direct result. CShape absent: no C operand.
void checkGemmFold(bool TransB, std::optional<std::vector<int64_t>> CShape,
                   float Alpha, float Beta) {
  const int64_t M = 3, K = 4, N = 5;
  auto G = std::make_unique<Graph>();
  Value *A = G->addInput("a", TensorType(ElemType::F32, {M, K}));
  std::vector<float> BV = values(K * N, 4, -1.0f, 1.0f);
  std::vector<int64_t> BShape =
      TransB ? std::vector<int64_t>{N, K} : std::vector<int64_t>{K, N};
  std::vector<Value *> Ops{A, G->createConstant("wb", f32Tensor(BShape, BV))};
  std::vector<float> CV;
  if (CShape) {
    CV = values(TensorType(ElemType::F32, *CShape).numElements(), 5, -1.0f,
                1.0f);
    Ops.push_back(G->createConstant("wc", f32Tensor(*CShape, CV)));
  }
  AttrMap Attrs{{"alpha", Alpha},
                {"beta", Beta},
                {"transA", int64_t(0)},
                {"transB", int64_t(TransB)}};
  Node *Gemm = G->createNode(OpKind::Gemm, "gemm", Ops,
                             {TensorType(ElemType::F32, {M, N})}, Attrs);
  BNParams BN(N);
  addBatchNorm(*G, Gemm->result(), BN);

  std::vector<float> AF = values(M * K, 6, -2.0f, 2.0f);
  // Y = Alpha * A * op(B) + Beta * C, C broadcast from one value or one per
  // output feature.
  auto gemm = [&](const std::vector<double> &B, bool TB, double Al,
                  const std::vector<double> &C, double Be) {
    std::vector<double> Y(M * N);
    for (int64_t I = 0; I < M; ++I)
      for (int64_t J = 0; J < N; ++J) {
        double S = 0;
        for (int64_t L = 0; L < K; ++L)
          S += AF[I * K + L] * (TB ? B[J * K + L] : B[L * N + J]);
        double CElem = C.empty() ? 0.0 : C.size() == 1 ? C[0] : C[J];
        Y[I * N + J] = Al * S + Be * CElem;
      }
    return Y;
  };
  std::vector<double> Want =
      batchNorm(gemm(std::vector<double>(BV.begin(), BV.end()), TransB, Alpha,
                     std::vector<double>(CV.begin(), CV.end()), Beta),
                N, 1, BN.Scale, BN.Bias, BN.Mean, BN.Var, BN.Eps);

  Module Folded = runPass(std::move(G), "fold-batchnorm");
  REQUIRE(!hasBatchNorm(*Folded.G));
  REQUIRE(Folded.G->Outputs[0] == Gemm->result());
  REQUIRE(Gemm->Operands.size() == 3);
  const Tensor *NewB = Gemm->Operands[1]->constantData();
  const Tensor *NewC = Gemm->Operands[2]->constantData();
  REQUIRE(NewB);
  REQUIRE(NewC);
  REQUIRE(NewB->Type.Shape == BShape);
  REQUIRE(NewC->Type == TensorType(ElemType::F32, {N}));
  requireClose(gemm(asDoubles(*NewB), Gemm->getInt("transB") != 0,
                    Gemm->getFloat("alpha"), asDoubles(*NewC),
                    Gemm->getFloat("beta")),
               Want);
}

} // namespace

TEST_CASE("fold-batchnorm folds 1-D BN into a Gemm", "[graph-passes]") {
  SECTION("transB = 1, C per feature") {
    checkGemmFold(true, std::vector<int64_t>{5}, 1.0f, 1.0f);
  }
  SECTION("transB = 0, C [1, N], alpha and beta") {
    checkGemmFold(false, std::vector<int64_t>{1, 5}, 0.5f, 2.0f);
  }
  SECTION("scalar C") {
    checkGemmFold(true, std::vector<int64_t>{}, 1.5f, 0.25f);
  }
  SECTION("no C") { checkGemmFold(false, std::nullopt, 1.0f, 1.0f); }
}

TEST_CASE("fold-batchnorm leaves a Conv result with two users alone",
          "[graph-passes]") {
  auto G = std::make_unique<Graph>();
  Value *X = G->addInput("x", TensorType(ElemType::F32, {1, 2, 3, 3}));
  Value *W =
      G->createConstant("w", f32Tensor({2, 2, 1, 1}, values(4, 1, -1, 1)));
  AttrMap Attrs{{"strides", std::vector<int64_t>{1, 1}},
                {"pads", std::vector<int64_t>{0, 0, 0, 0}},
                {"dilations", std::vector<int64_t>{1, 1}},
                {"group", int64_t(1)}};
  Node *Conv = G->createNode(OpKind::Conv, "conv", {X, W}, {X->Type}, Attrs);
  addBatchNorm(*G, Conv->result(), BNParams(2));
  G->Outputs.push_back(Conv->result());
  Module M = runPass(std::move(G), "fold-batchnorm");
  REQUIRE(hasBatchNorm(*M.G));
  REQUIRE(Conv->Operands.size() == 2);
  REQUIRE(Conv->Operands[1] == W);
}
