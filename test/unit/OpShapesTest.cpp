//===- OpShapesTest.cpp - The type rules of graph operations --------------===//
//
// Each expectation is worked out by hand from the ONNX operator spec (and
// numpy's broadcasting and matmul rules), never copied from Tidal's output.
//
//===----------------------------------------------------------------------===//

#include "compiler/Graph.h"
#include <catch2/catch.hpp>

using namespace tidal;

namespace {

using Shape = std::vector<int64_t>;

TensorType f32(Shape S) { return TensorType(ElemType::F32, std::move(S)); }
TensorType i64(Shape S) { return TensorType(ElemType::I64, std::move(S)); }
TensorType boolT(Shape S) { return TensorType(ElemType::Bool, std::move(S)); }

/// The single result type, or a failure with the error's text.
TensorType inferOne(OpKind K, std::vector<TensorType> Ops, AttrMap Attrs = {},
                    std::vector<TensorType> Given = {}) {
  auto R = inferResultTypes(K, Ops, Attrs, Given);
  if (!R)
    FAIL(llvm::toString(R.takeError()));
  REQUIRE(R->size() == 1);
  return (*R)[0];
}

/// The error text of an inference that must fail.
std::string inferError(OpKind K, std::vector<TensorType> Ops,
                       AttrMap Attrs = {}, std::vector<TensorType> Given = {}) {
  auto R = inferResultTypes(K, Ops, Attrs, Given);
  if (R)
    FAIL("expected an error, got " << (*R)[0].str());
  return llvm::toString(R.takeError());
}

Shape broadcast(Shape A, Shape B) {
  auto R = broadcastShapes(A, B);
  if (!R)
    FAIL(llvm::toString(R.takeError()));
  return *R;
}

AttrMap convAttrs(Shape Strides, Shape Pads, Shape Dilations, int64_t Group) {
  return {{"strides", Strides}, {"pads", Pads}, {"dilations", Dilations},
          {"group", Group}};
}

AttrMap poolAttrs(Shape Kernel, Shape Strides, Shape Pads, Shape Dilations) {
  return {{"kernel_shape", Kernel}, {"strides", Strides}, {"pads", Pads},
          {"dilations", Dilations}};
}

} // namespace

TEST_CASE("broadcastShapes follows numpy", "[opshapes]") {
  CHECK(broadcast({2, 3}, {3}) == Shape{2, 3});
  CHECK(broadcast({1}, {4, 1, 5}) == Shape{4, 1, 5});
  CHECK(broadcast({8, 1, 6, 1}, {7, 1, 5}) == Shape{8, 7, 6, 5});
  CHECK(broadcast({}, {2, 2}) == Shape{2, 2});
  CHECK(broadcast({0, 1}, {1, 3}) == Shape{0, 3});
  CHECK(broadcast({1}, {0}) == Shape{0});
  auto Bad = broadcastShapes({2, 3}, {4});
  REQUIRE(!Bad);
  std::string Msg = llvm::toString(Bad.takeError());
  CHECK(Msg.find("[2,3]") != std::string::npos);
  CHECK(Msg.find("[4]") != std::string::npos);
  auto Zero = broadcastShapes({0}, {2});
  CHECK(!Zero);
  llvm::consumeError(Zero.takeError());
}

TEST_CASE("elementwise types", "[opshapes]") {
  CHECK(inferOne(OpKind::Add, {f32({2, 1, 4}), f32({3, 1})}) == f32({2, 3, 4}));
  CHECK(inferOne(OpKind::Less, {f32({2, 3}), f32({})}) == boolT({2, 3}));
  CHECK(inferOne(OpKind::Equal, {boolT({2}), boolT({2})}) == boolT({2}));
  CHECK(inferOne(OpKind::And, {boolT({2, 1}), boolT({3})}) == boolT({2, 3}));
  CHECK(inferOne(OpKind::Where, {boolT({3, 1}), f32({4}), f32({1})}) ==
        f32({3, 4}));
  CHECK(inferOne(OpKind::Relu, {i64({5})}) == i64({5}));
  CHECK(inferOne(OpKind::LeakyRelu, {f32({5})}, {{"alpha", 0.01f}}) == f32({5}));
  CHECK(inferOne(OpKind::Cast, {f32({2, 2})}, {{"to", std::string("i32")}}) ==
        TensorType(ElemType::I32, {2, 2}));
  CHECK(inferOne(OpKind::Clip, {f32({3})}, {{"max", 6.0f}}) == f32({3}));
  // Clip bounds are floats, also for integer tensors.
  CHECK(inferOne(OpKind::Clip, {i64({3})}, {{"min", 0.0f}}) == i64({3}));
  inferError(OpKind::Clip, {i64({3})}, {{"min", int64_t(0)}});
  // Pow's exponent may have its own type; the result has the base's.
  CHECK(inferOne(OpKind::Pow, {i64({2, 1}), f32({3})}) == i64({2, 3}));
  CHECK(inferOne(OpKind::PRelu, {f32({1, 3, 4}), f32({3, 1})}) ==
        f32({1, 3, 4}));

  CHECK(inferError(OpKind::Add, {f32({2}), i64({2})}).find("element types") !=
        std::string::npos);
  CHECK(inferError(OpKind::Add, {f32({2}), f32({3})}).find("broadcast") !=
        std::string::npos);
  CHECK(inferError(OpKind::Where, {f32({2}), f32({2}), f32({2})})
            .find("bool") != std::string::npos);
  CHECK(inferError(OpKind::And, {f32({2}), f32({2})}).find("bool") !=
        std::string::npos);
  CHECK(inferError(OpKind::Sigmoid, {i64({2})}).find("floating") !=
        std::string::npos);
  // The slope must broadcast to X, not X to the slope.
  inferError(OpKind::PRelu, {f32({3}), f32({2, 3})});
  // Normalized attributes are required, typed, and nothing else is allowed.
  CHECK(inferError(OpKind::LeakyRelu, {f32({2})}).find("alpha") !=
        std::string::npos);
  CHECK(inferError(OpKind::LeakyRelu, {f32({2})}, {{"alpha", int64_t(1)}})
            .find("float") != std::string::npos);
  CHECK(inferError(OpKind::Relu, {f32({2})}, {{"axis", int64_t(1)}})
            .find("unexpected attribute 'axis'") != std::string::npos);
  CHECK(inferOne(OpKind::Relu, {f32({2})}, {{FusionGroupAttr, int64_t(3)}}) ==
        f32({2}));
  inferError(OpKind::Gelu, {f32({2})}, {{"approximate", std::string("fast")}});
  inferError(OpKind::Cast, {f32({2})}, {{"to", std::string("float")}});
  // Operand counts.
  CHECK(inferError(OpKind::Add, {f32({2})}).find("operands") !=
        std::string::npos);
}

TEST_CASE("reshape, expand and transpose", "[opshapes]") {
  CHECK(inferOne(OpKind::Reshape, {f32({2, 3, 4})}, {}, {f32({6, 4})}) ==
        f32({6, 4}));
  inferError(OpKind::Reshape, {f32({2, 3})}, {}, {f32({5})});
  inferError(OpKind::Reshape, {f32({2, 3})}, {}, {i64({6})});
  inferError(OpKind::Reshape, {f32({2, 3})}, {});
  CHECK(inferOne(OpKind::Expand, {f32({3, 1})}, {}, {f32({2, 3, 4})}) ==
        f32({2, 3, 4}));
  // ONNX Expand may keep the input's larger size: [3,4] with shape [1,4]
  // gives [3,4]; a result of [1,4] would be wrong.
  inferError(OpKind::Expand, {f32({3, 4})}, {}, {f32({1, 4})});
  CHECK(inferOne(OpKind::Transpose, {f32({2, 3, 4})},
                 {{"perm", Shape{2, 0, 1}}}) == f32({4, 2, 3}));
  inferError(OpKind::Transpose, {f32({2, 3, 4})}, {{"perm", Shape{0, 0, 1}}});
  inferError(OpKind::Transpose, {f32({2, 3, 4})}, {{"perm", Shape{1, 0}}});
}

TEST_CASE("concat", "[opshapes]") {
  CHECK(inferOne(OpKind::Concat, {f32({2, 3}), f32({2, 5}), f32({2, 0})},
                 {{"axis", int64_t(1)}}) == f32({2, 8}));
  CHECK(inferOne(OpKind::Concat, {f32({4})}, {{"axis", int64_t(0)}}) ==
        f32({4}));
  inferError(OpKind::Concat, {f32({2, 3}), f32({3, 3})}, {{"axis", int64_t(1)}});
  inferError(OpKind::Concat, {f32({2, 3}), f32({2})}, {{"axis", int64_t(0)}});
  inferError(OpKind::Concat, {f32({2, 3})}, {{"axis", int64_t(2)}});
  inferError(OpKind::Concat, {f32({2, 3})}, {{"axis", int64_t(-1)}});
  inferError(OpKind::Concat, {f32({2}), i64({2})}, {{"axis", int64_t(0)}});
}

TEST_CASE("slice", "[opshapes]") {
  auto Slice = [](Shape Starts, Shape Ends, Shape Steps) {
    return AttrMap{{"starts", Starts}, {"ends", Ends}, {"steps", Steps}};
  };
  // x[1:9:3] of 10 -> 1, 4, 7.
  CHECK(inferOne(OpKind::Slice, {f32({10})}, Slice({1}, {9}, {3})) ==
        f32({3}));
  // x[8:1:-3] of 10 -> 8, 5, 2; x[::-1] of 5 is start 4, end -1.
  CHECK(inferOne(OpKind::Slice, {f32({10, 5})},
                 Slice({8, 4}, {1, -1}, {-3, -1})) == f32({3, 5}));
  // Empty results.
  CHECK(inferOne(OpKind::Slice, {f32({4})}, Slice({3}, {1}, {1})) == f32({0}));
  CHECK(inferOne(OpKind::Slice, {f32({4})}, Slice({4}, {4}, {1})) == f32({0}));
  CHECK(inferOne(OpKind::Slice, {f32({4})}, Slice({0}, {3}, {-1})) ==
        f32({0}));
  // Huge steps do not overflow.
  CHECK(inferOne(OpKind::Slice, {f32({4})}, Slice({0}, {4}, {INT64_MAX})) ==
        f32({1}));
  // Not clamped, zero step, wrong length.
  inferError(OpKind::Slice, {f32({4})}, Slice({0}, {5}, {1}));
  inferError(OpKind::Slice, {f32({4})}, Slice({0}, {-6}, {-1}));
  inferError(OpKind::Slice, {f32({4})}, Slice({4}, {0}, {-1}));
  inferError(OpKind::Slice, {f32({4})}, Slice({0}, {4}, {0}));
  inferError(OpKind::Slice, {f32({4, 4})}, Slice({0}, {4}, {1}));
}

TEST_CASE("gather", "[opshapes]") {
  AttrMap Axis1{{"axis", int64_t(1)}};
  CHECK(inferOne(OpKind::Gather, {f32({2, 5, 3}), i64({4, 2})}, Axis1) ==
        f32({2, 4, 2, 3}));
  // Scalar indices remove the axis.
  CHECK(inferOne(OpKind::Gather, {f32({2, 5, 3}), i64({})}, Axis1) ==
        f32({2, 3}));
  CHECK(inferOne(OpKind::Gather,
                 {f32({5}), TensorType(ElemType::I32, {3})},
                 {{"axis", int64_t(0)}}) == f32({3}));
  inferError(OpKind::Gather, {f32({2, 5}), f32({2})}, Axis1);
  inferError(OpKind::Gather, {f32({2}), i64({2})}, Axis1);
}

TEST_CASE("pad", "[opshapes]") {
  AttrMap A{{"pads", Shape{1, 0, 2, 3}},
            {"mode", std::string("constant")},
            {"value", 0.0f}};
  CHECK(inferOne(OpKind::Pad, {f32({2, 2})}, A) == f32({5, 5}));
  AttrMap Crop{{"pads", Shape{0, -1, 0, -1}}, {"mode", std::string("edge")}};
  CHECK(inferOne(OpKind::Pad, {f32({2, 4})}, Crop) == f32({2, 2}));
  AttrMap TooMuch{{"pads", Shape{0, -3}}, {"mode", std::string("edge")}};
  inferError(OpKind::Pad, {f32({2})}, TooMuch);
  AttrMap NoValue{{"pads", Shape{0, 1}}, {"mode", std::string("constant")}};
  inferError(OpKind::Pad, {f32({2})}, NoValue);
  AttrMap BadMode{{"pads", Shape{0, 1}}, {"mode", std::string("mirror")}};
  inferError(OpKind::Pad, {f32({2})}, BadMode);
}

TEST_CASE("reductions and softmax", "[opshapes]") {
  AttrMap Keep{{"axes", Shape{1, 3}}, {"keepdims", int64_t(1)}};
  AttrMap Drop{{"axes", Shape{1, 3}}, {"keepdims", int64_t(0)}};
  CHECK(inferOne(OpKind::ReduceSum, {f32({2, 3, 4, 5})}, Keep) ==
        f32({2, 1, 4, 1}));
  CHECK(inferOne(OpKind::ReduceMean, {f32({2, 3, 4, 5})}, Drop) ==
        f32({2, 4}));
  AttrMap All{{"axes", Shape{0, 1}}, {"keepdims", int64_t(0)}};
  CHECK(inferOne(OpKind::ReduceMax, {i64({2, 3})}, All) == i64({}));
  AttrMap Unsorted{{"axes", Shape{3, 1}}, {"keepdims", int64_t(1)}};
  inferError(OpKind::ReduceSum, {f32({2, 3, 4, 5})}, Unsorted);
  AttrMap Negative{{"axes", Shape{-1}}, {"keepdims", int64_t(1)}};
  inferError(OpKind::ReduceSum, {f32({2, 3})}, Negative);
  AttrMap BadKeep{{"axes", Shape{0}}, {"keepdims", int64_t(2)}};
  inferError(OpKind::ReduceSum, {f32({2, 3})}, BadKeep);

  CHECK(inferOne(OpKind::Softmax, {f32({2, 3})}, {{"axis", int64_t(1)}}) ==
        f32({2, 3}));
  inferError(OpKind::Softmax, {f32({2, 3})}, {{"axis", int64_t(2)}});
  inferError(OpKind::LogSoftmax, {i64({2, 3})}, {{"axis", int64_t(1)}});
}

TEST_CASE("pool output sizes", "[opshapes]") {
  // floor((32 + 1 + 1 - 3) / 2) + 1 = 16.
  CHECK(inferOne(OpKind::MaxPool, {f32({1, 8, 32, 32})},
                 poolAttrs({3, 3}, {2, 2}, {1, 1, 1, 1}, {1, 1})) ==
        f32({1, 8, 16, 16}));
  // Dilation 2 makes a 3-wide kernel span 5: floor((7 - 5) / 1) + 1 = 3.
  CHECK(inferOne(OpKind::MaxPool, {f32({1, 1, 7})},
                 poolAttrs({3}, {1}, {0, 0}, {2})) == f32({1, 1, 3}));
  // Asymmetric pads (ceil_mode resolved into pad_end): (5 + 0 + 1 - 2)/2+1.
  AttrMap Avg = poolAttrs({2}, {2}, {0, 1}, {1});
  Avg["count_include_pad"] = int64_t(0);
  CHECK(inferOne(OpKind::AveragePool, {f32({1, 2, 5})}, Avg) ==
        f32({1, 2, 3}));
  // The window must fit.
  inferError(OpKind::MaxPool, {f32({1, 1, 2})},
             poolAttrs({3}, {1}, {0, 0}, {1}));
  inferError(OpKind::MaxPool, {f32({1, 1, 4})},
             poolAttrs({2}, {0}, {0, 0}, {1}));
  inferError(OpKind::MaxPool, {f32({1, 1, 4, 4})},
             poolAttrs({2, 2}, {1, 1}, {0, 0}, {1, 1}));
  // AveragePool needs count_include_pad.
  inferError(OpKind::AveragePool, {f32({1, 2, 5})},
             poolAttrs({2}, {2}, {0, 1}, {1}));
  CHECK(inferOne(OpKind::GlobalAveragePool, {f32({2, 3, 7, 9})}) ==
        f32({2, 3, 1, 1}));
  inferError(OpKind::GlobalMaxPool, {f32({2, 3})});
}

TEST_CASE("conv output sizes", "[opshapes]") {
  // 3x3, pad 1, stride 1 keeps 8x8.
  CHECK(inferOne(OpKind::Conv, {f32({1, 3, 8, 8}), f32({4, 3, 3, 3}), f32({4})},
                 convAttrs({1, 1}, {1, 1, 1, 1}, {1, 1}, 1)) ==
        f32({1, 4, 8, 8}));
  // Stride 2, no pad: floor((224 - 7) / 2) + 1 = 109; with pads 3: 112.
  CHECK(inferOne(OpKind::Conv, {f32({2, 3, 224, 224}), f32({64, 3, 7, 7})},
                 convAttrs({2, 2}, {3, 3, 3, 3}, {1, 1}, 1)) ==
        f32({2, 64, 112, 112}));
  CHECK(inferOne(OpKind::Conv, {f32({2, 3, 224, 224}), f32({64, 3, 7, 7})},
                 convAttrs({2, 2}, {0, 0, 0, 0}, {1, 1}, 1)) ==
        f32({2, 64, 109, 109}));
  // Depthwise: group = C = M, W[1] = 1. Dilation 2: extent 5 -> 10 - 5 + 1.
  CHECK(inferOne(OpKind::Conv, {f32({1, 6, 10}), f32({6, 1, 3})},
                 convAttrs({1}, {0, 0}, {2}, 6)) == f32({1, 6, 6}));
  // Grouped: C = 4 = W[1] * 2, M = 6 divisible by 2.
  CHECK(inferOne(OpKind::Conv, {f32({1, 4, 5, 5}), f32({6, 2, 1, 1})},
                 convAttrs({1, 1}, {0, 0, 0, 0}, {1, 1}, 2)) ==
        f32({1, 6, 5, 5}));
  inferError(OpKind::Conv, {f32({1, 4, 5, 5}), f32({6, 4, 1, 1})},
             convAttrs({1, 1}, {0, 0, 0, 0}, {1, 1}, 2));
  inferError(OpKind::Conv, {f32({1, 4, 5, 5}), f32({5, 2, 1, 1})},
             convAttrs({1, 1}, {0, 0, 0, 0}, {1, 1}, 2));
  // Bias of the wrong size, pads of the wrong length, missing group.
  inferError(OpKind::Conv, {f32({1, 3, 8, 8}), f32({4, 3, 3, 3}), f32({3})},
             convAttrs({1, 1}, {1, 1, 1, 1}, {1, 1}, 1));
  inferError(OpKind::Conv, {f32({1, 3, 8, 8}), f32({4, 3, 3, 3})},
             convAttrs({1, 1}, {1, 1}, {1, 1}, 1));
  AttrMap NoGroup = convAttrs({1, 1}, {1, 1, 1, 1}, {1, 1}, 1);
  NoGroup.erase("group");
  CHECK(inferError(OpKind::Conv, {f32({1, 3, 8, 8}), f32({4, 3, 3, 3})},
                   NoGroup)
            .find("group") != std::string::npos);
}

TEST_CASE("gemm and matmul", "[opshapes]") {
  AttrMap G{{"alpha", 1.0f}, {"beta", 1.0f}, {"transA", int64_t(0)},
            {"transB", int64_t(1)}};
  CHECK(inferOne(OpKind::Gemm, {f32({2, 3}), f32({5, 3}), f32({5})}, G) ==
        f32({2, 5}));
  CHECK(inferOne(OpKind::Gemm, {f32({2, 3}), f32({5, 3}), f32({2, 1})}, G) ==
        f32({2, 5}));
  G["transA"] = int64_t(1);
  CHECK(inferOne(OpKind::Gemm, {f32({3, 2}), f32({5, 3})}, G) == f32({2, 5}));
  inferError(OpKind::Gemm, {f32({3, 2}), f32({5, 2})}, G);
  inferError(OpKind::Gemm, {f32({3, 2}), f32({5, 3}), f32({3, 5})}, G);

  CHECK(inferOne(OpKind::MatMul, {f32({2, 3}), f32({3, 4})}) == f32({2, 4}));
  // 1-D operands: the added axis is dropped.
  CHECK(inferOne(OpKind::MatMul, {f32({3}), f32({3, 4})}) == f32({4}));
  CHECK(inferOne(OpKind::MatMul, {f32({2, 3}), f32({3})}) == f32({2}));
  CHECK(inferOne(OpKind::MatMul, {f32({3}), f32({3})}) == f32({}));
  CHECK(inferOne(OpKind::MatMul, {f32({5, 2, 3}), f32({3})}) == f32({5, 2}));
  CHECK(inferOne(OpKind::MatMul, {f32({3}), f32({7, 3, 4})}) == f32({7, 4}));
  // Batch axes broadcast.
  CHECK(inferOne(OpKind::MatMul, {f32({2, 1, 4, 3}), f32({5, 3, 6})}) ==
        f32({2, 5, 4, 6}));
  CHECK(inferOne(OpKind::MatMul, {f32({4, 3}), f32({8, 3, 2})}) ==
        f32({8, 4, 2}));
  inferError(OpKind::MatMul, {f32({2, 3}), f32({4, 5})});
  inferError(OpKind::MatMul, {f32({2, 2, 3}), f32({3, 3, 4})});
  inferError(OpKind::MatMul, {f32({}), f32({3})});
  inferError(OpKind::MatMul, {f32({2, 3}), i64({3, 4})});
}

TEST_CASE("normalization and constants", "[opshapes]") {
  AttrMap Eps{{"epsilon", 1e-5f}};
  CHECK(inferOne(OpKind::BatchNormalization,
                 {f32({2, 3, 4, 4}), f32({3}), f32({3}), f32({3}), f32({3})},
                 Eps) == f32({2, 3, 4, 4}));
  inferError(OpKind::BatchNormalization,
             {f32({2, 3, 4, 4}), f32({4}), f32({3}), f32({3}), f32({3})}, Eps);
  AttrMap Lrn{{"alpha", 1e-4f}, {"beta", 0.75f}, {"bias", 1.0f},
              {"size", int64_t(5)}};
  CHECK(inferOne(OpKind::LRN, {f32({1, 8, 3, 3})}, Lrn) == f32({1, 8, 3, 3}));

  Tensor T(TensorType(ElemType::I32, {2, 2}));
  CHECK(inferOne(OpKind::Constant, {}, {{"value", T}}) ==
        TensorType(ElemType::I32, {2, 2}));
  Tensor Short(TensorType(ElemType::I32, {2, 2}), {1, 2, 3});
  CHECK(inferError(OpKind::Constant, {}, {{"value", Short}}).find("bytes") !=
        std::string::npos);
  inferError(OpKind::Constant, {f32({1})}, {{"value", T}});
}
