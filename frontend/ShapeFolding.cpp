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
//===----------------------------------------------------------------------===//

#include "compiler/Evaluate.h"
#include "frontend/ImporterImpl.h"
#include "llvm/Support/raw_ostream.h"
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
// Shape helpers
//===----------------------------------------------------------------------===//

std::optional<std::vector<int64_t>>
onnximport::broadcast(const std::vector<int64_t> &A,
                      const std::vector<int64_t> &B) {
  size_t R = std::max(A.size(), B.size());
  std::vector<int64_t> Out(R);
  for (size_t I = 0; I < R; ++I) {
    int64_t DA = I < R - A.size() ? 1 : A[I - (R - A.size())];
    int64_t DB = I < R - B.size() ? 1 : B[I - (R - B.size())];
    if (DA != DB && DA != 1 && DB != 1)
      return std::nullopt;
    Out[I] = DA == 1 ? DB : DA;
  }
  return Out;
}

std::string onnximport::shapeStr(const std::vector<int64_t> &S) {
  std::string R = "[";
  for (size_t I = 0; I < S.size(); ++I)
    R += (I ? "," : "") + std::to_string(S[I]);
  return R + "]";
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
