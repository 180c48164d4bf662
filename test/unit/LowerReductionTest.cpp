//===- LowerReductionTest.cpp - Reductions, softmax, LRN, BatchNorm -------===//
//
// The numbers of LowerReduction.cpp's lowerings: each case lowers one node,
// runs it in LowerNumericsUtil.h's interpreter, and compares it with the
// operation computed here by naive loops from its ONNX definition (every
// subset of reduced axes, the empty-set identities, integer and bool
// reductions, softmax over every axis, Standardize over any axes, LRN
// windows, BatchNormalization),
// plus the rejection of unsupported element types.
//
//===----------------------------------------------------------------------===//

#include "LowerNumericsUtil.h"
#include <map>

using namespace tidal;
using namespace tidal::lowertest;

namespace {

/// The reference of a Reduce* kind over Axes.
double reduceRef(OpKind K, const std::vector<double> &V) {
  double Sum = 0, Max = -INFINITY, Min = INFINITY, Prod = 1, Sq = 0, L1 = 0;
  for (double X : V) {
    Sum += X, Max = std::max(Max, X), Min = std::min(Min, X), Prod *= X;
    Sq += X * X, L1 += std::fabs(X);
  }
  switch (K) {
  case OpKind::ReduceSum:
    return Sum;
  case OpKind::ReduceMean:
    return Sum / V.size(); // NaN when empty
  case OpKind::ReduceMax:
    return Max;
  case OpKind::ReduceMin:
    return Min;
  case OpKind::ReduceProd:
    return Prod;
  case OpKind::ReduceSumSquare:
    return Sq;
  case OpKind::ReduceL1:
    return L1;
  case OpKind::ReduceL2:
    return std::sqrt(Sq);
  default: {
    double E = 0;
    for (double X : V)
      E += std::exp(X);
    return std::log(E); // -inf when empty
  }
  }
}

Data reduceAll(OpKind K, const Shape &XS, const Data &X,
               const std::vector<bool> &Red, bool Keep, Shape &YS) {
  Shape Kept;
  YS.clear();
  for (size_t D = 0; D < XS.size(); ++D) {
    if (!Red[D])
      Kept.push_back(XS[D]);
    if (!Red[D] || Keep)
      YS.push_back(Red[D] ? 1 : XS[D]);
  }
  std::vector<Data> Groups(count(Kept));
  forEach(XS, [&](const Shape &I) {
    Shape KI;
    for (size_t D = 0; D < XS.size(); ++D)
      if (!Red[D])
        KI.push_back(I[D]);
    Groups[flat(Kept, KI)].push_back(X[flat(XS, I)]);
  });
  Data Y;
  for (const Data &G : Groups)
    Y.push_back(reduceRef(K, G));
  return Y;
}

TEST_CASE("Reductions over every subset of axes", "[lowering][reduce]") {
  const OpKind Kinds[] = {
      OpKind::ReduceSum, OpKind::ReduceMean, OpKind::ReduceMax,
      OpKind::ReduceMin, OpKind::ReduceProd, OpKind::ReduceSumSquare,
      OpKind::ReduceL1,  OpKind::ReduceL2,   OpKind::ReduceLogSumExp};
  Shape XS = {2, 3, 4};
  for (OpKind K : Kinds)
    for (int Mask = 0; Mask < 8; ++Mask)
      for (int Keep = 0; Keep < 2; ++Keep) {
        INFO(opName(K).str() << " mask " << Mask << " keepdims " << Keep);
        std::vector<bool> Red(3);
        std::vector<int64_t> Axes;
        for (int D = 0; D < 3; ++D)
          if ((Red[D] = Mask >> D & 1))
            Axes.push_back(D);
        Case T;
        Value *X = T.input(TensorType(ElemType::F32, XS));
        Shape YS;
        Data Want = reduceAll(K, XS, T.Inputs[0], Red, Keep, YS);
        T.node(K, {X}, TensorType(ElemType::F32, YS),
               {{"axes", Axes}, {"keepdims", int64_t(Keep)}});
        expectClose(T.run(), Want);
      }
}

TEST_CASE("Reductions over an empty set give ONNX's identities",
          "[lowering][reduce]") {
  const std::pair<OpKind, double> Expected[] = {
      {OpKind::ReduceSum, 0},
      {OpKind::ReduceMean, NAN},
      {OpKind::ReduceMax, -INFINITY},
      {OpKind::ReduceMin, INFINITY},
      {OpKind::ReduceProd, 1},
      {OpKind::ReduceSumSquare, 0},
      {OpKind::ReduceL1, 0},
      {OpKind::ReduceL2, 0},
      {OpKind::ReduceLogSumExp, -INFINITY}};
  for (auto [K, Want] : Expected) {
    INFO(opName(K).str());
    Case T;
    Value *X = T.input(TensorType(ElemType::F32, {2, 0, 3}));
    T.node(K, {X}, TensorType(ElemType::F32, {2, 3}),
           {{"axes", std::vector<int64_t>{1}}, {"keepdims", int64_t(0)}});
    expectClose(T.run(), Data(6, Want));
  }
}

TEST_CASE("Integer and bool reductions", "[lowering][reduce]") {
  Shape XS = {3, 4};
  for (ElemType E : {ElemType::I8, ElemType::U8, ElemType::I32, ElemType::I64})
    for (OpKind K : {OpKind::ReduceMax, OpKind::ReduceMin, OpKind::ReduceSum}) {
      INFO(opName(K).str() << " " << elemTypeName(E).str());
      Case T;
      Value *X = T.input(TensorType(E, XS));
      Shape YS;
      Data Want = reduceAll(K, XS, T.Inputs[0], {false, true}, false, YS);
      for (double &V : Want)
        V = roundAs(scalarTypeOf(E), V);
      T.node(K, {X}, TensorType(E, YS),
             {{"axes", std::vector<int64_t>{1}}, {"keepdims", int64_t(0)}});
      expectClose(T.run(), Want);
    }
  SECTION("integer ReduceMean truncates toward zero") {
    Case T;
    Value *X = T.input(TensorType(ElemType::I32, {2, 3}));
    T.Inputs[0] = {-7, 1, 1, 8, 0, 0};
    T.node(OpKind::ReduceMean, {X}, TensorType(ElemType::I32, {2}),
           {{"axes", std::vector<int64_t>{1}}, {"keepdims", int64_t(0)}});
    expectClose(T.run(), {-1, 2});
  }
  SECTION("bool ReduceMax is any, ReduceMin is all") {
    for (OpKind K : {OpKind::ReduceMax, OpKind::ReduceMin}) {
      Case T;
      Value *X = T.input(TensorType(ElemType::Bool, {3, 2}));
      T.Inputs[0] = {0, 0, 0, 1, 1, 1};
      T.node(K, {X}, TensorType(ElemType::Bool, {3}),
             {{"axes", std::vector<int64_t>{1}}, {"keepdims", int64_t(0)}});
      expectClose(T.run(),
                  K == OpKind::ReduceMax ? Data{0, 1, 1} : Data{0, 0, 1});
    }
  }
}

TEST_CASE("Softmax and LogSoftmax over every axis", "[lowering][softmax]") {
  Shape XS = {2, 3, 4};
  for (bool Log : {false, true})
    for (int64_t Axis = 0; Axis < 3; ++Axis) {
      INFO((Log ? "LogSoftmax" : "Softmax") << " axis " << Axis);
      Case T;
      Value *X = T.input(TensorType(ElemType::F32, XS));
      for (double &V : T.Inputs[0])
        V *= 30; // large enough that exp without the max shift overflows f32
      T.node(Log ? OpKind::LogSoftmax : OpKind::Softmax, {X},
             TensorType(ElemType::F32, XS), {{"axis", Axis}});
      Data Want(count(XS));
      forEach(XS, [&](const Shape &I) {
        double Max = -INFINITY, Sum = 0;
        Shape J = I;
        for (J[Axis] = 0; J[Axis] < XS[Axis]; ++J[Axis])
          Max = std::max(Max, T.Inputs[0][flat(XS, J)]);
        for (J[Axis] = 0; J[Axis] < XS[Axis]; ++J[Axis])
          Sum += std::exp(T.Inputs[0][flat(XS, J)] - Max);
        double V = T.Inputs[0][flat(XS, I)] - Max;
        Want[flat(XS, I)] = Log ? V - std::log(Sum) : std::exp(V) / Sum;
      });
      expectClose(T.run(), Want);
    }
}

TEST_CASE("Softmax over rows long enough for vector lanes",
          "[lowering][softmax]") {
  // 37 = two vectors of 16 lanes and a tail; the exponentials go through a
  // scratch, which the harness fills with NaNs.
  Shape XS = {3, 37};
  Case T;
  Value *X = T.input(TensorType(ElemType::F32, XS));
  T.node(OpKind::Softmax, {X}, TensorType(ElemType::F32, XS),
         {{"axis", int64_t(1)}});
  Data Want(count(XS));
  for (int64_t R = 0; R < XS[0]; ++R) {
    double Max = -INFINITY, Sum = 0;
    for (int64_t C = 0; C < XS[1]; ++C)
      Max = std::max(Max, T.Inputs[0][R * XS[1] + C]);
    for (int64_t C = 0; C < XS[1]; ++C)
      Sum += std::exp(T.Inputs[0][R * XS[1] + C] - Max);
    for (int64_t C = 0; C < XS[1]; ++C)
      Want[R * XS[1] + C] = std::exp(T.Inputs[0][R * XS[1] + C] - Max) / Sum;
  }
  expectClose(T.run(), Want);
}

TEST_CASE("Standardize over trailing, inner and all axes", "[lowering][norm]") {
  struct Form {
    Shape XS;
    std::vector<int64_t> Axes;
  };
  // Rows of 40 take the vector lanes; {1} of [2,5,3] keeps a block of 3
  // after the reduced axis; an empty set of axes gives 0 / sqrt(eps).
  const Form Forms[] = {{{2, 3, 40}, {2}},
                        {{2, 3, 4, 5}, {2, 3}},
                        {{2, 5, 3}, {1}},
                        {{4, 6}, {0, 1}},
                        {{3, 2}, {}}};
  for (const Form &F : Forms)
    for (bool Divide : {false, true}) {
      INFO("shape " << F.XS.size() << "-d, " << F.Axes.size()
                    << " axes, divide " << Divide);
      const float Eps = 0.01f;
      Case T;
      Value *X = T.input(TensorType(ElemType::F32, F.XS));
      for (double &V : T.Inputs[0])
        V = 3 * V + 5; // a mean far from 0
      T.node(OpKind::Standardize, {X}, TensorType(ElemType::F32, F.XS),
             {{"axes", F.Axes}, {"epsilon", Eps}, {"divide", int64_t(Divide)}});
      // Reference: group elements by their index on the kept axes.
      auto Key = [&](const Shape &I) {
        Shape K = I;
        for (int64_t A : F.Axes)
          K[A] = 0;
        return flat(F.XS, K);
      };
      std::map<int64_t, double> Sum, Sq, N;
      forEach(F.XS, [&](const Shape &I) {
        Sum[Key(I)] += T.Inputs[0][flat(F.XS, I)];
        N[Key(I)] += 1;
      });
      forEach(F.XS, [&](const Shape &I) {
        double D = T.Inputs[0][flat(F.XS, I)] - Sum[Key(I)] / N[Key(I)];
        Sq[Key(I)] += D * D;
      });
      Data Want(count(F.XS));
      forEach(F.XS, [&](const Shape &I) {
        int64_t K = Key(I);
        double D = T.Inputs[0][flat(F.XS, I)] - Sum[K] / N[K];
        Want[flat(F.XS, I)] = D / std::sqrt(Sq[K] / N[K] + Eps);
      });
      expectClose(T.run(), Want);
    }
}

TEST_CASE("LRN and BatchNormalization", "[lowering][norm]") {
  Shape XS = {2, 7, 2, 3};
  for (int64_t Size : {1, 3, 4}) {
    INFO("LRN size " << Size);
    Case T;
    Value *X = T.input(TensorType(ElemType::F32, XS));
    T.node(OpKind::LRN, {X}, TensorType(ElemType::F32, XS),
           {{"alpha", 0.01f}, {"beta", 0.6f}, {"bias", 2.0f}, {"size", Size}});
    Data Want(count(XS));
    forEach(XS, [&](const Shape &I) {
      double Sq = 0;
      Shape J = I;
      int64_t Lo = std::max<int64_t>(0, I[1] - (Size - 1) / 2);
      int64_t Hi = std::min<int64_t>(XS[1] - 1, I[1] + Size / 2);
      for (J[1] = Lo; J[1] <= Hi; ++J[1])
        Sq += T.Inputs[0][flat(XS, J)] * T.Inputs[0][flat(XS, J)];
      Want[flat(XS, I)] =
          T.Inputs[0][flat(XS, I)] /
          std::pow(2.0 + double(0.01f) / Size * Sq, double(0.6f));
    });
    expectClose(T.run(), Want);
  }
  SECTION("BatchNormalization") {
    Case T;
    Value *X = T.input(TensorType(ElemType::F32, XS));
    std::vector<Value *> Ops = {X};
    for (int I = 0; I < 4; ++I)
      Ops.push_back(T.input(TensorType(ElemType::F32, {XS[1]})));
    for (double &V : T.Inputs[4])
      V = std::fabs(V) + 0.1; // variance
    T.node(OpKind::BatchNormalization, Ops, TensorType(ElemType::F32, XS),
           {{"epsilon", 1e-3f}});
    Data Want(count(XS));
    forEach(XS, [&](const Shape &I) {
      int64_t C = I[1];
      Want[flat(XS, I)] = (T.Inputs[0][flat(XS, I)] - T.Inputs[3][C]) /
                              std::sqrt(T.Inputs[4][C] + double(1e-3f)) *
                              T.Inputs[1][C] +
                          T.Inputs[2][C];
    });
    expectClose(T.run(), Want);
  }
}

TEST_CASE("Unsupported element types are rejected, naming the node",
          "[lowering][reduce]") {
  Case T;
  Value *X = T.input(TensorType(ElemType::I32, {2, 3}));
  T.node(OpKind::ReduceL2, {X}, TensorType(ElemType::I32, {2}),
         {{"axes", std::vector<int64_t>{1}}, {"keepdims", int64_t(0)}});
  CHECK(T.error() == "node 'n' (ReduceL2): element type i32 is not supported");
  Case H;
  Value *Y = H.input(TensorType(ElemType::F16, {1, 4}));
  H.node(OpKind::Softmax, {Y}, TensorType(ElemType::F16, {1, 4}),
         {{"axis", int64_t(1)}});
  CHECK(H.error() == "node 'n' (Softmax): element type f16 is not supported");
}

} // namespace
