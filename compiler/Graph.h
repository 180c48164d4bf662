//===- Graph.h - The graph IR -----------------------------------*- C++ -*-===//
//
// The graph IR: a function of statically shaped tensors in SSA form. A Graph
// owns its input Values and its Nodes (kept in a topological order); every
// non-input Value is a result of exactly one Node. Constants are Constant
// nodes carrying their data as a tensor attribute. Attributes are kept in
// sorted maps so that printing and iteration are deterministic.
//
// The IR prints as text (GraphPrinter.cpp) and parses back (GraphParser.cpp)
// to the same bytes; verifyGraph() checks structure and, through
// inferResultTypes(), every operation's types and attributes.
//
//===----------------------------------------------------------------------===//
#ifndef TIDAL_COMPILER_GRAPH_H
#define TIDAL_COMPILER_GRAPH_H

#include "compiler/Types.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include <cstring>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

namespace llvm {
class raw_ostream;
}

namespace tidal {

/// Every graph operation, from Ops.def.
enum class OpKind : uint16_t {
#define TIDAL_OP(Id, MinOps, MaxOps, Cat) Id,
#include "compiler/Ops.def"
};

enum class OpCategory : uint8_t {
  Source, Unary, Binary, Ternary, Injective, Reduction, Contraction, Opaque
};

llvm::StringRef opName(OpKind K);
std::optional<OpKind> parseOpName(llvm::StringRef Name);
OpCategory opCategory(OpKind K);
int opMinOperands(OpKind K);
/// -1 when variadic.
int opMaxOperands(OpKind K);
inline bool isElementwise(OpKind K) {
  OpCategory C = opCategory(K);
  return C == OpCategory::Unary || C == OpCategory::Binary ||
         C == OpCategory::Ternary;
}
/// Equal, Less, LessOrEqual, Greater, GreaterOrEqual: their result is bool
/// whatever their operands' element type. One predicate for the type rules,
/// the evaluator and the frontend, so that they cannot disagree.
inline bool isComparison(OpKind K) {
  return K == OpKind::Equal || K == OpKind::Less || K == OpKind::LessOrEqual ||
         K == OpKind::Greater || K == OpKind::GreaterOrEqual;
}
/// And, Or, Xor: bool operands and a bool result.
inline bool isLogical(OpKind K) {
  return K == OpKind::And || K == OpKind::Or || K == OpKind::Xor;
}

/// Dense tensor data, row-major, little-endian, as stored in the weights.
struct Tensor {
  TensorType Type;
  std::vector<uint8_t> Bytes;

  Tensor() = default;
  Tensor(TensorType T) : Type(std::move(T)), Bytes(Type.sizeInBytes()) {}
  Tensor(TensorType T, std::vector<uint8_t> B)
      : Type(std::move(T)), Bytes(std::move(B)) {}

  template <typename T> T *data() { return reinterpret_cast<T *>(Bytes.data()); }
  template <typename T> const T *data() const {
    return reinterpret_cast<const T *>(Bytes.data());
  }
  /// Element I converted to double / int64 (any numeric element type).
  double getDouble(int64_t I) const;
  int64_t getInt(int64_t I) const;
  /// Sets element I from a double / int64, converting to the element type.
  void setDouble(int64_t I, double V);
  void setInt(int64_t I, int64_t V);
  bool operator==(const Tensor &O) const {
    return Type == O.Type && Bytes == O.Bytes;
  }
};

/// An attribute value. Float attributes are float32 in ONNX and stay so.
using Attribute = std::variant<int64_t, float, std::string,
                               std::vector<int64_t>, std::vector<float>, Tensor>;
using AttrMap = std::map<std::string, Attribute>;

class Node;

/// An SSA value: a graph input or a node's result.
class Value {
public:
  Value(std::string Name, TensorType Type, Node *Def = nullptr,
        unsigned ResultNo = 0)
      : Name(std::move(Name)), Type(std::move(Type)), Def(Def),
        ResultNo(ResultNo) {}

  /// The name printed after '%'; unique within a graph.
  std::string Name;
  TensorType Type;
  /// Null for graph inputs.
  Node *Def;
  unsigned ResultNo;

  bool isGraphInput() const { return Def == nullptr; }
  /// The constant data when defined by a Constant node, else null.
  const Tensor *constantData() const;
};

/// One operation.
class Node {
public:
  Node(OpKind Kind, std::string Name) : Kind(Kind), Name(std::move(Name)) {}

  OpKind Kind;
  /// The ONNX node's name (or a made-up one), used in every diagnostic.
  std::string Name;
  std::vector<Value *> Operands;
  std::vector<std::unique_ptr<Value>> Results;
  AttrMap Attrs;

  Value *result(unsigned I = 0) const { return Results[I].get(); }
  bool hasAttr(llvm::StringRef A) const { return Attrs.count(A.str()); }
  /// Typed attribute accessors; asserting on a missing or mistyped attribute
  /// is a compiler bug (the verifier has checked them).
  int64_t getInt(llvm::StringRef A) const;
  float getFloat(llvm::StringRef A) const;
  const std::string &getString(llvm::StringRef A) const;
  const std::vector<int64_t> &getInts(llvm::StringRef A) const;
  const std::vector<float> &getFloats(llvm::StringRef A) const;
  const Tensor &getTensor(llvm::StringRef A) const;
  int64_t getInt(llvm::StringRef A, int64_t Default) const;
  float getFloat(llvm::StringRef A, float Default) const;
};

/// A function over tensors.
class Graph {
public:
  std::string Name = "main";
  std::vector<std::unique_ptr<Value>> Inputs;
  std::vector<Value *> Outputs;
  /// In topological order.
  std::list<std::unique_ptr<Node>> Nodes;

  Value *addInput(std::string Name, TensorType Type);
  /// Appends a node (or inserts it before Before) with results of the given
  /// types. Result names are made unique from the node name when empty.
  Node *createNode(OpKind Kind, std::string Name, std::vector<Value *> Operands,
                   std::vector<TensorType> ResultTypes, AttrMap Attrs = {},
                   Node *Before = nullptr);
  /// A Constant node holding T, inserted before Before (or appended).
  Value *createConstant(std::string Name, Tensor T, Node *Before = nullptr);
  /// Every use of From (operands and graph outputs) now uses To.
  void replaceAllUsesWith(Value *From, Value *To);
  /// Removes a node whose results are unused.
  void erase(Node *N);
  /// Nodes that use V as an operand, in graph order (a node using V twice
  /// appears once).
  std::vector<Node *> users(const Value *V) const;
  bool isGraphOutput(const Value *V) const;
  /// A value name not yet used in this graph, derived from Hint.
  std::string uniqueName(llvm::StringRef Hint);

private:
  std::set<std::string> TakenNames;
};

/// The int64 attribute that marks the members of a fused group: set by the
/// fuse-elementwise pass, read by lower-to-loops, checked by verifyGraph().
/// It is not `group`, which is Conv's group count.
inline constexpr const char FusionGroupAttr[] = "fusion_group";

/// Infers the result types of an operation of kind K from its operand types
/// and attributes. This is the single statement of each operation's type
/// rules, used by the frontend after it normalizes a node and by the
/// verifier. For ops whose result shape is not a function of operand types
/// (Reshape, Expand, Cast) Given holds the result types to check.
llvm::Expected<std::vector<TensorType>>
inferResultTypes(OpKind K, const std::vector<TensorType> &Operands,
                 const AttrMap &Attrs, const std::vector<TensorType> &Given);

/// Whether the elementwise operation K (Unary, Binary or Ternary category,
/// Copy, Cast) accepts operands of element type E: for Where its x and y,
/// for Pow both base and exponent. This is the element-type part of
/// inferResultTypes(), exposed so that the lowering checks what it can
/// compute against the same rule instead of restating it.
bool elementwiseAcceptsType(OpKind K, ElemType E);

/// Broadcasts two shapes numpy-style; an error names the two shapes.
llvm::Expected<std::vector<int64_t>>
broadcastShapes(const std::vector<int64_t> &A, const std::vector<int64_t> &B);

/// Checks the graph: SSA (every operand defined before use), unique names,
/// operand counts, and each node's types against inferResultTypes(). Errors
/// name the node.
llvm::Error verifyGraph(const Graph &G);

/// Options of the graph printer.
struct GraphPrintOptions {
  /// Print constants bigger than this many elements as `dense<...elided...>`
  /// (the text then no longer parses back). 0 prints everything.
  int64_t ElideConstantsAbove = 0;
};
void printGraph(const Graph &G, llvm::raw_ostream &OS,
                const GraphPrintOptions &Opts = {});
llvm::Expected<std::unique_ptr<Graph>> parseGraph(llvm::StringRef Text);

} // namespace tidal

#endif
