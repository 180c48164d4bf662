//===- ShapeFolding.cpp - Emitting nodes, folding constant ones -----------===//
//
// Every graph operation the importer builds goes through emit(): the
// importer states the result type it computed from ONNX's rules, and
// inferResultTypes() (the single statement of Tidal's type rules) must agree,
// so a disagreement is caught at import rather than miscompiled. When all
// operands are constants and the evaluator supports the operation, the node
// is computed at once and becomes a Constant: this is what turns the
// Shape -> Gather -> Unsqueeze -> Concat sub-graphs that exporters emit into
// the constant shapes that Reshape, Expand, Slice and the others need.
//
// Folding is skipped when it would make a constant much larger than its
// operands (an Expand of a scalar to an activation's shape), to keep weights
// small; such a node stays in the graph with constant operands and the
// fold-constants pass decides later.
//
// The build:: helpers (ImporterImpl.h) emit the common operations with the
// result type computed from their operands, for importers that decompose
// an ONNX operator into several graph operations.
//
//===----------------------------------------------------------------------===//

#include "compiler/Evaluate.h"
#include "frontend/ImporterImpl.h"
#include "llvm/Support/raw_ostream.h"
#include <algorithm>
#include <cmath>

using namespace tidal;
using namespace tidal::onnximport;

namespace {
// Results up to this many elements are always folded.
constexpr int64_t AlwaysFoldElements = 1 << 16;
} // namespace

Value *NodeImporter::tryFold(OpKind K, const std::vector<Value *> &Operands,
                             const AttrMap &Attrs, const TensorType &Result) {
  if (!canEvaluate(K) || K == OpKind::Constant)
    return nullptr;
  std::vector<const Tensor *> Data;
  int64_t OperandElements = 0;
  for (Value *V : Operands) {
    const Tensor *T = V->constantData();
    if (!T)
      return nullptr;
    Data.push_back(T);
    OperandElements += T->Type.numElements();
  }
  if (Result.numElements() > std::max(AlwaysFoldElements, OperandElements))
    return nullptr;
  Node Tmp(K, Name);
  Tmp.Operands = Operands;
  Tmp.Attrs = Attrs;
  Tmp.Results.push_back(std::make_unique<Value>(Name, Result, &Tmp, 0));
  auto R = evaluateNode(Tmp, Data);
  if (!R) {
    llvm::consumeError(R.takeError()); // left for the generated code
    return nullptr;
  }
  return constant(std::move((*R)[0]));
}

Value *NodeImporter::emit(OpKind K, std::vector<Value *> Operands,
                          AttrMap Attrs, TensorType Result) {
  if (failed())
    return nullptr;
  std::vector<TensorType> OperandTypes;
  for (Value *V : Operands) {
    if (!V)
      return nullptr;
    OperandTypes.push_back(V->Type);
  }
  if (!reasonableShape(Result.Shape)) {
    fail("the result " + Result.str() + " is too large or malformed");
    return nullptr;
  }
  auto Types = inferResultTypes(K, OperandTypes, Attrs, {Result});
  if (!Types) {
    fail(llvm::toString(Types.takeError()));
    return nullptr;
  }
  if (Types->size() != 1 || (*Types)[0] != Result) {
    fail("internal error: the frontend computed " + Result.str() + " for " +
         opName(K) + " but inferResultTypes() gives " +
         (Types->empty() ? std::string("nothing") : (*Types)[0].str()));
    return nullptr;
  }
  if (Value *Folded = tryFold(K, Operands, Attrs, Result))
    return Folded;
  Node *N =
      M.G.createNode(K, Name, std::move(Operands), {Result}, std::move(Attrs));
  Created.insert(N->result());
  return N->result();
}

Value *NodeImporter::constant(Tensor T) {
  if (failed())
    return nullptr;
  Value *V = M.G.createConstant(Name, std::move(T));
  Created.insert(V);
  return V;
}

Value *NodeImporter::constantI64(const std::vector<int64_t> &V) {
  Tensor T(TensorType(ElemType::I64, {static_cast<int64_t>(V.size())}));
  for (size_t I = 0; I < V.size(); ++I)
    T.data<int64_t>()[I] = V[I];
  return constant(std::move(T));
}

Value *NodeImporter::reshape(Value *V, std::vector<int64_t> Shape) {
  if (!V)
    return nullptr;
  if (V->Type.Shape == Shape)
    return V;
  if (product(Shape) != V->Type.numElements()) {
    fail("cannot reshape " + V->Type.str() + " to " + shapeStr(Shape));
    return nullptr;
  }
  return emit(OpKind::Reshape, {V}, {}, TensorType(V->Type.Elem, Shape));
}

//===----------------------------------------------------------------------===//
// Node-building helpers
//===----------------------------------------------------------------------===//

Value *build::cast(NodeImporter &N, Value *V, ElemType To) {
  if (!V || V->Type.Elem == To)
    return V;
  AttrMap A;
  A["to"] = elemTypeName(To).str();
  return N.emit(OpKind::Cast, {V}, std::move(A), TensorType(To, V->Type.Shape));
}

Value *build::scalar(NodeImporter &N, ElemType E, double V) {
  Tensor T(TensorType(E, {}));
  T.setDouble(0, V);
  return N.constant(std::move(T));
}

Value *build::unary(NodeImporter &N, OpKind K, Value *X, AttrMap A) {
  if (!X)
    return nullptr;
  return N.emit(K, {X}, std::move(A), X->Type);
}

Value *build::binary(NodeImporter &N, OpKind K, Value *A, Value *B,
                     AttrMap Attrs) {
  if (!A || !B)
    return nullptr;
  auto Shape = broadcast(A->Type.Shape, B->Type.Shape);
  if (!Shape) {
    N.fail("shapes " + shapeStr(A->Type.Shape) + " and " +
           shapeStr(B->Type.Shape) + " do not broadcast");
    return nullptr;
  }
  bool ToBool = isComparison(K) || isLogical(K);
  return N.emit(K, {A, B}, std::move(Attrs),
                TensorType(ToBool ? ElemType::Bool : A->Type.Elem, *Shape));
}

Value *build::where(NodeImporter &N, Value *C, Value *X, Value *Y) {
  if (!C || !X || !Y)
    return nullptr;
  auto S = broadcast(C->Type.Shape, X->Type.Shape);
  if (S)
    S = broadcast(*S, Y->Type.Shape);
  if (!S) {
    N.fail("shapes of Where do not broadcast");
    return nullptr;
  }
  return N.emit(OpKind::Where, {C, X, Y}, {}, TensorType(X->Type.Elem, *S));
}

Value *build::reduce(NodeImporter &N, OpKind K, Value *X,
                     const std::vector<int64_t> &Axes, bool KeepDims) {
  if (!X)
    return nullptr;
  std::vector<int64_t> Out;
  for (int64_t D = 0; D < static_cast<int64_t>(X->Type.rank()); ++D) {
    bool Reduced = std::find(Axes.begin(), Axes.end(), D) != Axes.end();
    if (!Reduced)
      Out.push_back(X->Type.Shape[D]);
    else if (KeepDims)
      Out.push_back(1);
  }
  AttrMap A;
  A["axes"] = Axes;
  A["keepdims"] = int64_t(KeepDims);
  return N.emit(K, {X}, std::move(A), TensorType(X->Type.Elem, Out));
}

Value *build::transpose(NodeImporter &N, Value *V,
                        const std::vector<int64_t> &Perm) {
  if (!V)
    return nullptr;
  bool Identity = true;
  std::vector<int64_t> Out;
  for (size_t I = 0; I < Perm.size(); ++I) {
    Identity &= Perm[I] == static_cast<int64_t>(I);
    Out.push_back(V->Type.Shape[Perm[I]]);
  }
  if (Identity)
    return V;
  AttrMap A;
  A["perm"] = Perm;
  return N.emit(OpKind::Transpose, {V}, std::move(A),
                TensorType(V->Type.Elem, Out));
}

//===----------------------------------------------------------------------===//
// Shape helpers
//===----------------------------------------------------------------------===//

std::optional<std::vector<int64_t>>
onnximport::broadcast(const std::vector<int64_t> &A,
                      const std::vector<int64_t> &B) {
  auto Shape = broadcastShapes(A, B);
  if (!Shape) {
    llvm::consumeError(Shape.takeError()); // the caller words the message
    return std::nullopt;
  }
  return std::move(*Shape);
}

int64_t onnximport::product(const std::vector<int64_t> &S, size_t From,
                            size_t To) {
  int64_t P = 1;
  for (size_t I = From; I < std::min(To, S.size()); ++I)
    P *= S[I];
  return P;
}

bool onnximport::reasonableShape(const std::vector<int64_t> &S) {
  int64_t N = 1;
  for (int64_t D : S) {
    if (D < 0 || (D > 0 && N > MaxElements / D))
      return false;
    N *= D;
  }
  return true;
}

bool onnximport::exactAsFloat(double V) {
  return std::isnan(V) || static_cast<double>(static_cast<float>(V)) == V;
}
