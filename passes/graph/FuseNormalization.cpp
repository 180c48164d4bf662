//===- FuseNormalization.cpp - The "fuse-normalization" pass --------------===//
//
// Replaces the standardization at the heart of layer, instance and group
// normalization, written as graph operations, with one Standardize node,
// which lowers to one kernel that reads each row three times while it is in
// the cache (passes/lower/LowerReduction.cpp). As separate nodes it takes
// five kernels, four of which write a tensor of the input's size. The
// frontend's LayerNormalization, InstanceNormalization and
// GroupNormalization give the first form, PyTorch's exports of LayerNorm
// at opsets before 17 (and TensorFlow's) the second:
//
//   M = ReduceMean(X)   D = Sub(X, M)   V = ReduceMean(Mul(D, D))
//   Y = Mul(D, Reciprocal(Sqrt(Add(V, eps))))             (divide = 0)
//
//   M = ReduceMean(X)   D = Sub(X, M)   V = ReduceMean(Pow(D, 2))
//   Y = Div(D, Sqrt(Add(V, eps)))                         (divide = 1)
//
// Both ReduceMeans reduce the same axes with keepdims = 1; Mul may take its
// operands in either order, Add too; eps is a constant with one value that
// is a float32 (the attribute's type) and does not broadcast V to a larger
// shape. Every value inside the pattern has only the users drawn above and
// is not a graph output (LayerNormalization's Mean and InvStdDev outputs,
// when used, keep the nodes). Y keeps its name; the new node takes the
// name of the first ReduceMean. Pow(D, 2) computes D * D exactly as
// Mul(D, D) does (passes/lower/LowerElementwise.cpp), so each form's
// numbers stay the same bits.
//
// Assumes a verified graph with normalized attributes (docs/ir.md). The
// replaced nodes are erased; the eps constant is left for "dce".
//
//===----------------------------------------------------------------------===//

#include "passes/PassRegistry.h"
#include <cmath>

using namespace tidal;

namespace {

/// The only user of V when it has exactly one and is not a graph output.
Node *soleUser(const Graph &G, const Value *V) {
  std::vector<Node *> Users = G.users(V);
  if (Users.size() != 1 || G.isGraphOutput(V))
    return nullptr;
  return Users[0];
}

/// The single value every element of constant V holds, if it has one.
std::optional<double> uniformConstant(const Value *V) {
  const Tensor *T = V->constantData();
  if (!T || T->Type.Quant || !isFloat(T->Type.Elem) ||
      T->Type.numElements() == 0)
    return std::nullopt;
  double First = T->getDouble(0);
  for (int64_t I = 1; I < T->Type.numElements(); ++I)
    if (T->getDouble(I) != First)
      return std::nullopt;
  return First;
}

/// The operand of binary N that is not V (N uses V exactly once), or null.
Value *otherOperand(const Node &N, const Value *V) {
  if (N.Operands.size() != 2 || (N.Operands[0] == V) == (N.Operands[1] == V))
    return nullptr;
  return N.Operands[0] == V ? N.Operands[1] : N.Operands[0];
}

bool isMeanOver(const Node &N, const std::vector<int64_t> &Axes) {
  return N.Kind == OpKind::ReduceMean && N.getInt("keepdims", 1) == 1 &&
         N.getInts("axes") == Axes;
}

/// The nodes of one match, in graph order, and what the new node needs.
struct Match {
  std::vector<Node *> Nodes;
  float Epsilon = 0;
  bool Divide = false;
};

/// D * D or Pow(D, 2).
bool isSquareOf(const Node &N, const Value *D) {
  if (N.Kind == OpKind::Mul)
    return N.Operands[0] == D && N.Operands[1] == D;
  return N.Kind == OpKind::Pow && N.Operands[0] == D && N.Operands[1] != D &&
         uniformConstant(N.Operands[1]) == 2.0;
}

/// The match rooted at Mean = ReduceMean(X), or nothing.
std::optional<Match> matchAt(const Graph &G, Node &Mean) {
  if (Mean.Kind != OpKind::ReduceMean || Mean.getInt("keepdims", 1) != 1 ||
      !Mean.hasAttr("axes"))
    return std::nullopt;
  const std::vector<int64_t> &Axes = Mean.getInts("axes");
  Value *X = Mean.Operands[0];
  const TensorType &XT = X->Type;
  if (!isFloat(XT.Elem) || XT.Quant)
    return std::nullopt;
  Node *Sub = soleUser(G, Mean.result());
  if (!Sub || Sub->Kind != OpKind::Sub || Sub->Operands[0] != X ||
      Sub->Operands[1] != Mean.result() || Sub->result()->Type != XT)
    return std::nullopt;
  Value *D = Sub->result();
  std::vector<Node *> DUsers = G.users(D);
  if (DUsers.size() != 2 || G.isGraphOutput(D))
    return std::nullopt;
  // The squaring comes first in graph order in both forms (the variance is
  // needed before the division), but do not rely on it.
  Node *Square = isSquareOf(*DUsers[0], D) ? DUsers[0] : DUsers[1];
  Node *Scale = Square == DUsers[0] ? DUsers[1] : DUsers[0];
  if (!isSquareOf(*Square, D))
    return std::nullopt;
  Node *Var = soleUser(G, Square->result());
  if (!Var || !isMeanOver(*Var, Axes) || Var->Operands[0] != Square->result())
    return std::nullopt;
  Node *AddEps = soleUser(G, Var->result());
  if (!AddEps || AddEps->Kind != OpKind::Add ||
      AddEps->result()->Type != Var->result()->Type)
    return std::nullopt;
  Value *Eps = otherOperand(*AddEps, Var->result());
  std::optional<double> EpsV = Eps ? uniformConstant(Eps) : std::nullopt;
  if (!EpsV || double(float(*EpsV)) != *EpsV)
    return std::nullopt;
  Node *Sqrt = soleUser(G, AddEps->result());
  if (!Sqrt || Sqrt->Kind != OpKind::Sqrt)
    return std::nullopt;
  Match M;
  M.Epsilon = float(*EpsV);
  M.Nodes = {&Mean, Sub, Square, Var, AddEps, Sqrt};
  Node *Last = soleUser(G, Sqrt->result());
  if (!Last)
    return std::nullopt;
  if (Last->Kind == OpKind::Reciprocal) {
    M.Nodes.push_back(Last);
    Node *Mul = soleUser(G, Last->result());
    if (!Mul || Mul != Scale || Mul->Kind != OpKind::Mul ||
        otherOperand(*Mul, Last->result()) != D)
      return std::nullopt;
  } else if (Last != Scale || Last->Kind != OpKind::Div ||
             Last->Operands[0] != D || Last->Operands[1] != Sqrt->result()) {
    return std::nullopt;
  } else {
    M.Divide = true;
  }
  if (Scale->result()->Type != XT)
    return std::nullopt;
  M.Nodes.push_back(Scale);
  return M;
}

/// Replaces the match's nodes with one Standardize node.
void replace(Graph &G, const Match &M) {
  Node &Mean = *M.Nodes.front(), &Scale = *M.Nodes.back();
  Value *Y = Scale.result();
  AttrMap Attrs{{"axes", Mean.getInts("axes")},
                {"epsilon", M.Epsilon},
                {"divide", int64_t(M.Divide)}};
  Node *S = G.createNode(OpKind::Standardize, Mean.Name, {Mean.Operands[0]},
                         {Y->Type}, std::move(Attrs), &Scale);
  std::string Name = Y->Name;
  G.replaceAllUsesWith(Y, S->result());
  for (size_t I = M.Nodes.size(); I-- > 0;)
    G.erase(M.Nodes[I]);
  S->result()->Name = std::move(Name);
}

} // namespace

llvm::Error tidal::fuseNormalization(Module &M, const PassOptions &) {
  assert(M.G && "fuse-normalization runs on the graph IR");
  Graph &G = *M.G;
  std::vector<Match> Matches;
  for (auto &N : G.Nodes)
    if (std::optional<Match> Found = matchAt(G, *N))
      Matches.push_back(std::move(*Found));
  // Matches never share a node: each is rooted at its own ReduceMean and
  // every other member is the sole user of a value inside the match.
  for (const Match &Found : Matches)
    replace(G, Found);
  return llvm::Error::success();
}
