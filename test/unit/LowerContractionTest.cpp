//===- LowerContractionTest.cpp - Conv, pools, Gemm, MatMul ---------------===//
//
// The numbers of LowerContraction.cpp's and LowerPool.cpp's lowerings: each
// case lowers one node, runs it in LowerNumericsUtil.h's interpreter, and
// compares it with the operation computed here by naive loops from its ONNX
// definition. The configurations cover 1-D to 3-D windows, groups
// (depthwise, with a multiplier), strides, dilations, asymmetric pads,
// pads wider than the kernel, pointwise planes (the lowering's tiles and
// the canonical product), stride-1 products over padded planes, kernels wider
// than the unroll limit, ceil_mode end pads and both AveragePool divisors,
// Gemm's transposes and C shapes, and MatMul's broadcasting and 1-D operands.
//
//===----------------------------------------------------------------------===//

#include "LowerNumericsUtil.h"

using namespace tidal;
using namespace tidal::lowertest;

namespace {

/// A sliding window over the spatial axes (after N and C).
struct Window {
  Shape Kernel, Strides, Pads, Dils;
  size_t rank() const { return Kernel.size(); }
  Shape outShape(const Shape &X, int64_t Channels) const {
    Shape O = {X[0], Channels};
    for (size_t J = 0; J < rank(); ++J)
      O.push_back((X[2 + J] + Pads[J] + Pads[rank() + J] -
                   ((Kernel[J] - 1) * Dils[J] + 1)) /
                      Strides[J] +
                  1);
    return O;
  }
  AttrMap attrs(bool WithKernel) const {
    AttrMap A;
    A["strides"] = Strides;
    A["pads"] = Pads;
    A["dilations"] = Dils;
    if (WithKernel)
      A["kernel_shape"] = Kernel;
    return A;
  }
  /// Visits the input position of every kernel position of output O that
  /// lies inside [Lo, Hi) on every axis (Lo/Hi relative to the input).
  void visit(const Shape &X, const Shape &O, bool PadToo,
             const std::function<void(const Shape &, const Shape &)> &F) const {
    forEach(Kernel, [&](const Shape &K) {
      Shape In;
      for (size_t J = 0; J < rank(); ++J) {
        int64_t P = O[2 + J] * Strides[J] - Pads[J] + K[J] * Dils[J];
        int64_t Lo = PadToo ? -Pads[J] : 0;
        int64_t Hi = X[2 + J] + (PadToo ? Pads[rank() + J] : 0);
        if (P < Lo || P >= Hi)
          return;
        In.push_back(P);
      }
      F(K, In);
    });
  }
};

bool inside(const Shape &X, const Shape &In) {
  for (size_t J = 0; J < In.size(); ++J)
    if (In[J] < 0 || In[J] >= X[2 + J])
      return false;
  return true;
}

Data convRef(const Shape &XS, const Data &X, const Shape &WS, const Data &W,
             const Data *B, int64_t Group, const Window &Win) {
  Shape YS = Win.outShape(XS, WS[0]);
  int64_t Cg = WS[1], Mg = WS[0] / Group;
  Data Y(count(YS));
  forEach(YS, [&](const Shape &O) {
    double Sum = B ? (*B)[O[1]] : 0;
    int64_t G = O[1] / Mg;
    for (int64_t IC = 0; IC < Cg; ++IC)
      Win.visit(XS, O, false, [&](const Shape &K, const Shape &In) {
        Shape XI = {O[0], G * Cg + IC}, WI = {O[1], IC};
        XI.insert(XI.end(), In.begin(), In.end());
        WI.insert(WI.end(), K.begin(), K.end());
        Sum += X[flat(XS, XI)] * W[flat(WS, WI)];
      });
    Y[flat(YS, O)] = Sum;
  });
  return Y;
}

Data poolRef(const Shape &XS, const Data &X, const Window &Win, bool Avg,
             bool IncludePad) {
  Shape YS = Win.outShape(XS, XS[1]);
  Data Y(count(YS));
  forEach(YS, [&](const Shape &O) {
    double Acc = Avg ? 0 : -INFINITY;
    int64_t Count = 0;
    Win.visit(XS, O, Avg && IncludePad, [&](const Shape &, const Shape &In) {
      ++Count;
      if (!inside(XS, In))
        return; // padding: counted, adds 0
      Shape XI = {O[0], O[1]};
      XI.insert(XI.end(), In.begin(), In.end());
      Acc = Avg ? Acc + X[flat(XS, XI)] : std::max(Acc, X[flat(XS, XI)]);
    });
    Y[flat(YS, O)] = Avg ? Acc / Count : Acc;
  });
  return Y;
}

//===----------------------------------------------------------------------===//
// Tests
//===----------------------------------------------------------------------===//

TEST_CASE("Conv: groups, strides, dilations and pads in 1 to 3 spatial axes",
          "[lowering][conv]") {
  struct Config {
    Shape X, W;
    int64_t Group;
    Window Win;
    bool Bias;
  };
  std::vector<Config> Configs = {
      {{1, 2, 9}, {3, 2, 3}, 1, {{3}, {2}, {1, 2}, {1}}, true},
      {{2, 4, 6, 7},
       {6, 2, 3, 3},
       2,
       {{3, 3}, {2, 1}, {0, 1, 1, 0}, {1, 1}},
       false},
      {{1, 3, 7, 8},
       {3, 1, 3, 3},
       3,
       {{3, 3}, {1, 1}, {1, 1, 1, 1}, {1, 1}},
       true}, // depthwise
      {{2, 4, 6, 9},
       {4, 1, 5, 3},
       4,
       {{5, 3}, {1, 1}, {3, 0, 1, 2}, {1, 2}},
       false}, // depthwise, stride 1: padded planes
      {{2, 4, 9, 11},
       {4, 1, 3, 3},
       4,
       {{3, 3}, {2, 1}, {1, 0, 2, 1}, {2, 1}},
       true}, // depthwise, strides 2 x 1: phases of padded planes
      {{1, 3, 8, 9},
       {3, 1, 3, 2},
       3,
       {{3, 2}, {2, 2}, {1, 1, 0, 1}, {1, 2}},
       false}, // depthwise, stride 2, dilated columns
      {{1, 2, 3, 4},
       {2, 1, 2, 2},
       2,
       {{2, 2}, {1, 1}, {0, 0, 0, 0}, {1, 1}},
       true}, // depthwise without pads
      {{1, 3, 4, 4},
       {3, 1, 3, 3},
       3,
       {{3, 3}, {1, 1}, {4, 5, 3, 4}, {1, 1}},
       true}, // depthwise, pads wider than the kernel
      {{1, 2, 6, 6},
       {6, 1, 3, 3},
       2,
       {{3, 3}, {2, 2}, {2, 2, 2, 2}, {1, 1}},
       true}, // multiplier 3
      {{1, 2, 9, 11},
       {2, 2, 3, 3},
       1,
       {{3, 3}, {2, 3}, {3, 0, 3, 4}, {3, 2}},
       true}, // dilated
      {{1, 1, 3, 3},
       {1, 1, 2, 2},
       1,
       {{2, 2}, {1, 1}, {4, 4, 4, 4}, {1, 1}},
       false}, // pads > kernel
      {{1, 4, 5, 6},
       {3, 4, 1, 1},
       1,
       {{1, 1}, {1, 1}, {0, 0, 0, 0}, {1, 1}},
       true}, // pointwise
      {{2, 5, 4, 8},
       {7, 5, 1, 1},
       1,
       {{1, 1}, {1, 1}, {0, 0, 0, 0}, {1, 1}},
       true}, // pointwise as a canonical product, two images
      {{1, 3, 16}, {4, 3, 1}, 1, {{1}, {1}, {0, 0}, {1}}, false},
      {{1, 2, 3, 4},
       {2, 2, 1, 1},
       1,
       {{1, 1}, {2, 1}, {0, 0, 0, 0}, {1, 1}},
       false}, // strided 1x1
      {{1, 2, 40},
       {2, 2, 20},
       1,
       {{20}, {3}, {5, 6}, {1}},
       true}, // wide kernel
      {{1, 4, 4, 5, 6},
       {6, 2, 3, 2, 3},
       2,
       {{3, 2, 3}, {2, 1, 2}, {1, 0, 1, 1, 1, 0}, {1, 2, 1}},
       true},
  };
  for (const Config &C : Configs) {
    INFO("X " << C.X.size() << "-D, group " << C.Group);
    Case T;
    Value *X = T.input(TensorType(ElemType::F32, C.X));
    Value *W = T.input(TensorType(ElemType::F32, C.W));
    std::vector<Value *> Ops = {X, W};
    if (C.Bias)
      Ops.push_back(T.input(TensorType(ElemType::F32, {C.W[0]})));
    AttrMap A = C.Win.attrs(false);
    A["group"] = C.Group;
    Shape YS = C.Win.outShape(C.X, C.W[0]);
    T.node(OpKind::Conv, Ops, TensorType(ElemType::F32, YS), A);
    Data Want = convRef(C.X, T.Inputs[0], C.W, T.Inputs[1],
                        C.Bias ? &T.Inputs[2] : nullptr, C.Group, C.Win);
    expectClose(T.run(), Want);
  }
}

TEST_CASE("Conv: padded planes against the definition", "[lowering][conv]") {
  // Dense convolutions of stride 1 whose wide positions fill the tiles
  // (planesProduct): pads on all sides, two images, a dilated 3x1 kernel
  // (no kw loop) with pads on one side, a 5x5 kernel; each must lower to
  // the padded planes (a %wide scratch), and the 8x8 output, whose wide
  // positions would waste a third of the tiles, to im2col.
  struct Config {
    Shape X, W;
    Window Win;
    bool Planes;
  };
  std::vector<Config> Configs = {
      {{1, 3, 3, 62},
       {5, 3, 3, 3},
       {{3, 3}, {1, 1}, {1, 1, 1, 1}, {1, 1}},
       true},
      {{2, 2, 6, 64},
       {3, 2, 3, 1},
       {{3, 1}, {1, 1}, {2, 0, 1, 0}, {2, 1}},
       true},
      {{1, 2, 4, 126},
       {4, 2, 5, 5},
       {{5, 5}, {1, 1}, {2, 2, 2, 2}, {1, 1}},
       true},
      {{1, 2, 8, 8},
       {4, 2, 3, 3},
       {{3, 3}, {1, 1}, {1, 1, 1, 1}, {1, 1}},
       false},
      // Of stride 2 (im2col: convTiled).
      {{1, 2, 5, 126},
       {5, 2, 3, 3},
       {{3, 3}, {2, 2}, {1, 1, 1, 1}, {1, 1}},
       false},
  };
  for (const Config &C : Configs) {
    INFO("X [" << C.X[0] << "," << C.X[1] << "," << C.X[2] << "," << C.X[3]
               << "], kernel " << C.W[2] << "x" << C.W[3]);
    Case T;
    Value *X = T.input(TensorType(ElemType::F32, C.X));
    Value *W = T.input(TensorType(ElemType::F32, C.W));
    Value *B = T.input(TensorType(ElemType::F32, {C.W[0]}));
    AttrMap A = C.Win.attrs(false);
    A["group"] = int64_t(1);
    T.node(OpKind::Conv, {X, W, B},
           TensorType(ElemType::F32, C.Win.outShape(C.X, C.W[0])), A);
    Kernel K = T.lower();
    bool Wide =
        std::any_of(K.Params.begin(), K.Params.end(),
                    [](const BufferDecl &P) { return P.Name == "wide"; });
    CHECK(Wide == C.Planes);
    expectClose(T.run(), convRef(C.X, T.Inputs[0], C.W, T.Inputs[1],
                                 &T.Inputs[2], 1, C.Win));
  }
}

TEST_CASE("Conv: Winograd F(2x2) and F(4x4) against the definition",
          "[lowering][conv][winograd]") {
  // Constant 3x3 weights, stride 1: odd output sizes (partial tiles on
  // both edges), asymmetric pads, pads past the input, no pads, batch 2,
  // with and without bias; each with both tile sizes forced and with the
  // automatic choice (which may keep the direct product).
  struct Config {
    Shape X;
    int64_t M;
    Shape Pads;
    bool Bias;
  };
  std::vector<Config> Configs = {
      {{1, 3, 5, 6}, 5, {1, 1, 1, 1}, true},
      {{2, 4, 9, 11}, 6, {2, 0, 1, 3}, false},
      {{1, 2, 3, 4}, 2, {4, 3, 2, 5}, true},
      {{1, 2, 8, 8}, 3, {0, 0, 0, 0}, true},
      {{1, 2, 3, 3}, 1, {0, 0, 0, 0}, false}, // a single output
  };
  for (const Config &C : Configs)
    for (int Winograd : {2, 4, -1}) {
      INFO("X [" << C.X[0] << "," << C.X[1] << "," << C.X[2] << "," << C.X[3]
                 << "], winograd " << Winograd);
      Case T;
      T.Opts.Winograd = Winograd;
      Value *X = T.input(TensorType(ElemType::F32, C.X));
      Shape WS = {C.M, C.X[1], 3, 3};
      Data WData, BData;
      std::vector<Value *> Ops = {X, T.constant(TensorType(ElemType::F32, WS),
                                                WData)};
      if (C.Bias)
        Ops.push_back(T.constant(TensorType(ElemType::F32, {C.M}), BData));
      Window Win{{3, 3}, {1, 1}, C.Pads, {1, 1}};
      AttrMap A = Win.attrs(false);
      A["group"] = int64_t(1);
      T.node(OpKind::Conv, Ops, TensorType(ElemType::F32, Win.outShape(C.X, C.M)),
             A);
      Data Want = convRef(C.X, T.Inputs[0], WS, WData, C.Bias ? &BData : nullptr,
                          1, Win);
      expectClose(T.run(), Want);
      bool Used = std::find(T.ParamNames.begin(), T.ParamNames.end(),
                            "k1_winograd") != T.ParamNames.end();
      CHECK(Used == (Winograd > 0));
    }
}

TEST_CASE("Conv: the Winograd tile comes from the shapes",
          "[lowering][conv][winograd]") {
  // The default target (256-bit vectors: 8 lanes of f32). The transformed
  // weights are [(m+2)^2, M * C]: 16 rows for F(2x2), 36 for F(4x4), none
  // for the direct product.
  struct Config {
    int64_t C, M, Size, Rows;
  };
  std::vector<Config> Configs = {
      {32, 32, 16, 36},  // 16 tiles of 4x4 fill a vector: F(4x4)
      {32, 32, 8, 16},   // 4 tiles of 4x4 do not, 16 of 2x2 do: F(2x2)
      {32, 32, 4, 0},    // 4 tiles of 2x2: direct
      {16, 64, 16, 0},   // too few input channels for the transforms
      {64, 64, 256, 0},  // its untiled scratch would pass 32 MB: direct
  };
  for (const Config &C : Configs) {
    INFO("C " << C.C << ", M " << C.M << ", " << C.Size << "x" << C.Size);
    Case T;
    Shape XS = {1, C.C, C.Size, C.Size};
    Value *X = T.input(TensorType(ElemType::F32, XS));
    Data WData;
    Value *W = T.constant(TensorType(ElemType::F32, {C.M, C.C, 3, 3}), WData);
    Window Win{{3, 3}, {1, 1}, {1, 1, 1, 1}, {1, 1}};
    T.node(OpKind::Conv, {X, W}, TensorType(ElemType::F32, Win.outShape(XS, C.M)),
           Win.attrs(false));
    Kernel K = T.lower();
    int64_t Rows = 0;
    for (const BufferDecl &D : K.Params)
      if (D.Name == "k1_winograd")
        Rows = D.Size / (C.M * C.C);
    CHECK(Rows == C.Rows);
  }
}

TEST_CASE("MaxPool and AveragePool windows and divisors", "[lowering][pool]") {
  struct Config {
    Shape X;
    Window Win;
  };
  // The last two have end pads as the frontend writes ceil_mode.
  std::vector<Config> Configs = {
      {{1, 2, 10}, {{3}, {2}, {1, 1}, {1}}},
      {{1, 1, 4, 4}, {{3, 3}, {2, 2}, {0, 0, 1, 1}, {1, 1}}},
      {{2, 3, 9, 10}, {{3, 2}, {2, 3}, {1, 1, 1, 1}, {1, 1}}},
      {{1, 2, 7, 7}, {{2, 3}, {1, 2}, {0, 1, 2, 1}, {2, 2}}},
      {{1, 1, 5, 6, 7}, {{2, 3, 2}, {2, 2, 3}, {1, 0, 1, 1, 1, 1}, {1, 1, 2}}},
      {{1, 2, 50}, {{20}, {3}, {7, 7}, {2}}},
  };
  for (const Config &C : Configs)
    for (int Mode = 0; Mode < 3; ++Mode) {
      bool Avg = Mode > 0, IncludePad = Mode == 2;
      INFO("X rank " << C.X.size() << ", mode " << Mode);
      Case T;
      Value *X = T.input(TensorType(ElemType::F32, C.X));
      AttrMap A = C.Win.attrs(true);
      if (Avg)
        A["count_include_pad"] = int64_t(IncludePad);
      T.node(Avg ? OpKind::AveragePool : OpKind::MaxPool, {X},
             TensorType(ElemType::F32, C.Win.outShape(C.X, C.X[1])), A);
      expectClose(T.run(), poolRef(C.X, T.Inputs[0], C.Win, Avg, IncludePad));
    }
  SECTION("int8 MaxPool starts from -128") {
    Window Win{{3, 3}, {2, 2}, {1, 1, 1, 1}, {1, 1}};
    Case T;
    Value *X = T.input(TensorType(ElemType::I8, {1, 2, 5, 5}));
    T.node(OpKind::MaxPool, {X},
           TensorType(ElemType::I8, Win.outShape({1, 2, 5, 5}, 2)),
           Win.attrs(true));
    expectClose(T.run(), poolRef({1, 2, 5, 5}, T.Inputs[0], Win, false, false));
  }
}

TEST_CASE("Gemm with transposes, alpha, beta and broadcast C",
          "[lowering][gemm]") {
  int64_t M = 3, K = 5, N = 4;
  for (int TA = 0; TA < 2; ++TA)
    for (int TB = 0; TB < 2; ++TB)
      for (Shape CS : {Shape{}, Shape{N}, Shape{M, 1}, Shape{M, N}}) {
        INFO("transA " << TA << " transB " << TB << " C rank " << CS.size());
        Case T;
        Value *A =
            T.input(TensorType(ElemType::F32, TA ? Shape{K, M} : Shape{M, K}));
        Value *B =
            T.input(TensorType(ElemType::F32, TB ? Shape{N, K} : Shape{K, N}));
        Value *C = T.input(TensorType(ElemType::F32, CS));
        T.node(OpKind::Gemm, {A, B, C}, TensorType(ElemType::F32, {M, N}),
               {{"alpha", 0.5f},
                {"beta", 2.0f},
                {"transA", int64_t(TA)},
                {"transB", int64_t(TB)}});
        Data Want;
        for (int64_t I = 0; I < M; ++I)
          for (int64_t J = 0; J < N; ++J) {
            double S = 0;
            for (int64_t P = 0; P < K; ++P)
              S += T.Inputs[0][TA ? P * M + I : I * K + P] *
                   T.Inputs[1][TB ? J * K + P : P * N + J];
            double CV = CS.empty()       ? T.Inputs[2][0]
                        : CS.size() == 1 ? T.Inputs[2][J]
                        : CS[1] == 1     ? T.Inputs[2][I]
                                         : T.Inputs[2][I * N + J];
            Want.push_back(0.5 * S + 2.0 * CV);
          }
        expectClose(T.run(), Want);
      }
}

TEST_CASE("MatMul: batch broadcasting, 1-D operands, wide rows",
          "[lowering][gemm]") {
  struct Config {
    Shape A, B, Y;
  };
  std::vector<Config> Configs = {
      {{2, 1, 3, 4}, {3, 4, 5}, {2, 3, 3, 5}},
      {{4}, {2, 4, 3}, {2, 3}},
      {{2, 3, 4}, {4}, {2, 3}},
      {{5}, {5}, {}},
      {{2, 3}, {3, 5000}, {2, 5000}}, // columns in blocks
  };
  for (const Config &C : Configs) {
    INFO("A rank " << C.A.size() << " B rank " << C.B.size());
    Case T;
    Value *A = T.input(TensorType(ElemType::F32, C.A));
    Value *B = T.input(TensorType(ElemType::F32, C.B));
    T.node(OpKind::MatMul, {A, B}, TensorType(ElemType::F32, C.Y));
    // numpy: promote 1-D operands, broadcast the batch, drop added axes.
    Shape AS = C.A.size() == 1 ? Shape{1, C.A[0]} : C.A;
    Shape BS = C.B.size() == 1 ? Shape{C.B[0], 1} : C.B;
    int64_t M = AS[AS.size() - 2], K = AS.back(), N = BS.back();
    size_t Rank = std::max(AS.size(), BS.size());
    AS.insert(AS.begin(), Rank - AS.size(), 1);
    BS.insert(BS.begin(), Rank - BS.size(), 1);
    Shape Batch;
    for (size_t D = 0; D + 2 < Rank; ++D)
      Batch.push_back(std::max(AS[D], BS[D]));
    Data Want;
    forEach(Batch, [&](const Shape &BI) {
      Shape AI, BJ;
      for (size_t D = 0; D < BI.size(); ++D) {
        AI.push_back(AS[D] == 1 ? 0 : BI[D]);
        BJ.push_back(BS[D] == 1 ? 0 : BI[D]);
      }
      int64_t ABase = flat(Shape(AS.begin(), AS.end() - 2), AI) * M * K;
      int64_t BBase = flat(Shape(BS.begin(), BS.end() - 2), BJ) * K * N;
      for (int64_t I = 0; I < M; ++I)
        for (int64_t J = 0; J < N; ++J) {
          double S = 0;
          for (int64_t P = 0; P < K; ++P)
            S +=
                T.Inputs[0][ABase + I * K + P] * T.Inputs[1][BBase + P * N + J];
          Want.push_back(S);
        }
    });
    if (C.Y.empty())
      Want.resize(1);
    expectClose(T.run(), Want);
  }
}

} // namespace
