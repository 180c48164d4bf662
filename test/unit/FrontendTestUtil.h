//===- FrontendTestUtil.h - Building ONNX models in tests -------*- C++ -*-===//
//
// Helpers shared by the frontend's unit tests: a builder of small ONNX
// models (written to a temporary directory and imported), attribute
// setters, and accessors for the resulting graph and errors.
//
//===----------------------------------------------------------------------===//
#ifndef TIDAL_TEST_UNIT_FRONTENDTESTUTIL_H
#define TIDAL_TEST_UNIT_FRONTENDTESTUTIL_H

#include "compiler/Diagnostics.h"
#include "frontend/OnnxImporter.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include <catch2/catch.hpp>
#include <fstream>
#include <onnx/onnx_pb.h>

namespace tidal {
namespace frontendtest {
/// A temporary directory removed (with its files) at the end of a test.
struct TempDir {
  std::string Path;
  TempDir() {
    llvm::SmallString<128> P;
    if (llvm::sys::fs::createUniqueDirectory("tidal-frontend-test", P))
      FAIL("cannot create a temporary directory");
    Path = P.str().str();
  }
  ~TempDir() { llvm::sys::fs::remove_directories(Path); }
  std::string file(const std::string &Name) const { return Path + "/" + Name; }
};

/// Builds a model: inputs, initializers, nodes, outputs.
struct ModelBuilder {
  onnx::ModelProto M;
  TempDir Dir;

  explicit ModelBuilder(int64_t Opset) {
    M.set_ir_version(8);
    M.set_producer_name("frontend-test");
    auto *O = M.add_opset_import();
    O->set_domain("");
    O->set_version(Opset);
  }
  onnx::GraphProto &graph() { return *M.mutable_graph(); }

  /// A graph input; a dimension of -1 is symbolic ("N").
  void input(const std::string &Name, std::vector<int64_t> Dims,
             int Elem = onnx::TensorProto::FLOAT) {
    auto *I = graph().add_input();
    I->set_name(Name);
    auto *T = I->mutable_type()->mutable_tensor_type();
    T->set_elem_type(Elem);
    auto *S = T->mutable_shape();
    for (int64_t D : Dims) {
      auto *Dim = S->add_dim();
      if (D < 0)
        Dim->set_dim_param("N");
      else
        Dim->set_dim_value(D);
    }
  }
  void output(const std::string &Name) { graph().add_output()->set_name(Name); }

  onnx::TensorProto &initializer(const std::string &Name, int Elem,
                                 std::vector<int64_t> Dims) {
    auto *T = graph().add_initializer();
    T->set_name(Name);
    T->set_data_type(Elem);
    for (int64_t D : Dims)
      T->add_dims(D);
    return *T;
  }
  void ints(const std::string &Name, std::vector<int64_t> V) {
    auto &T = initializer(Name, onnx::TensorProto::INT64,
                          {static_cast<int64_t>(V.size())});
    for (int64_t X : V)
      T.add_int64_data(X);
  }
  void floats(const std::string &Name, std::vector<int64_t> Dims,
              std::vector<float> V) {
    auto &T = initializer(Name, onnx::TensorProto::FLOAT, Dims);
    for (float X : V)
      T.add_float_data(X);
  }
  /// Zeros of a shape, for weights whose values do not matter.
  void zeros(const std::string &Name, std::vector<int64_t> Dims) {
    int64_t N = 1;
    for (int64_t D : Dims)
      N *= D;
    floats(Name, Dims, std::vector<float>(N, 0.0f));
  }

  onnx::NodeProto &node(const std::string &Op, std::vector<std::string> Ins,
                        std::vector<std::string> Outs,
                        const std::string &Name = "") {
    auto *N = graph().add_node();
    N->set_op_type(Op);
    N->set_name(Name);
    for (auto &I : Ins)
      N->add_input(I);
    for (auto &O : Outs)
      N->add_output(O);
    return *N;
  }

  std::string write() {
    std::string Path = Dir.file("model.onnx");
    std::ofstream OS(Path, std::ios::binary);
    M.SerializeToOstream(&OS);
    return Path;
  }
  llvm::Expected<std::unique_ptr<Graph>> import(ImportOptions Opts = {}) {
    return importOnnxModel(write(), Opts);
  }
};

inline onnx::AttributeProto &attr(onnx::NodeProto &N, const std::string &Name,
                                  onnx::AttributeProto::AttributeType T) {
  auto *A = N.add_attribute();
  A->set_name(Name);
  A->set_type(T);
  return *A;
}
inline void attrInt(onnx::NodeProto &N, const std::string &Name, int64_t V) {
  attr(N, Name, onnx::AttributeProto::INT).set_i(V);
}
inline void attrFloat(onnx::NodeProto &N, const std::string &Name, float V) {
  attr(N, Name, onnx::AttributeProto::FLOAT).set_f(V);
}
inline void attrString(onnx::NodeProto &N, const std::string &Name,
                       const std::string &V) {
  attr(N, Name, onnx::AttributeProto::STRING).set_s(V);
}
inline void attrInts(onnx::NodeProto &N, const std::string &Name,
                     std::vector<int64_t> V) {
  auto &A = attr(N, Name, onnx::AttributeProto::INTS);
  for (int64_t X : V)
    A.add_ints(X);
}

/// The graph, or a test failure showing the errors.
inline std::unique_ptr<Graph> ok(llvm::Expected<std::unique_ptr<Graph>> G) {
  if (!G) {
    std::string Msg = llvm::toString(G.takeError());
    FAIL(Msg);
  }
  return std::move(*G);
}

/// Every error message, and whether all were ModelErrors.
inline std::vector<std::string> errors(llvm::Expected<std::unique_ptr<Graph>> G,
                                       bool *AllModelErrors = nullptr) {
  std::vector<std::string> Msgs;
  if (G) {
    FAIL("the import should have failed");
    return Msgs;
  }
  bool AllModel = true;
  llvm::handleAllErrors(
      G.takeError(), [&](const ModelError &E) { Msgs.push_back(E.message()); },
      [&](const llvm::ErrorInfoBase &E) {
        AllModel = false;
        Msgs.push_back(E.message());
      });
  if (AllModelErrors)
    *AllModelErrors = AllModel;
  return Msgs;
}

/// The one error message of B's model, whose import must fail with exactly
/// one error.
inline std::string onlyError(ModelBuilder &B) {
  auto E = errors(B.import());
  REQUIRE(E.size() == 1);
  return E[0];
}

/// The value of an Expected, or a test failure showing the error.
template <typename T> T value(llvm::Expected<T> E) {
  if (!E) {
    std::string Msg = llvm::toString(E.takeError());
    FAIL(Msg);
  }
  return std::move(*E);
}

inline bool contains(const std::string &S, const std::string &Part) {
  return S.find(Part) != std::string::npos;
}

/// The non-Constant nodes of a graph, in order.
inline std::vector<const Node *> ops(const Graph &G) {
  std::vector<const Node *> R;
  for (const auto &N : G.Nodes)
    if (N->Kind != OpKind::Constant)
      R.push_back(N.get());
  return R;
}

inline const std::vector<int64_t> &ints(const Node *N, const char *A) {
  return N->getInts(A);
}

} // namespace frontendtest
} // namespace tidal

#endif
