//===- FuseElementwise.cpp - The "fuse-elementwise" pass ------------------===//
//
// Groups each node (the anchor) with the chain of elementwise nodes that
// follows it, so that lower-to-loops makes one kernel per group and the
// intermediate results never reach memory: the anchor's loop nest applies
// the chain as an epilogue to each element before storing it (see
// passes/lower/Lowering.h). Every member of a group of two or more nodes
// gets the int64 attribute FusionGroupAttr (`fusion_group`; not `group`,
// which is Conv's group count), numbered 0, 1, 2, ... in the graph order of
// the anchors; a node left alone gets no such attribute.
//
// Nodes are visited in graph order; the first node not yet in a group that
// is not a Constant becomes an anchor (elementwise nodes too: in Add then
// Relu, the Add is the anchor and the Relu is fused). The chain then grows
// from the last member L to the next node U while all of this holds:
//   - L's result is not a graph output and has exactly one user, U, which
//     uses it in exactly one operand position (Mul(x, x) is not fused: the
//     epilogue gets one running value, and the other position would have
//     to load an intermediate that is never stored);
//   - U is elementwise (Unary, Binary or Ternary category) with one result,
//     and not already in an earlier group (Add(conv1, conv2): the Add joins
//     conv1's group, and conv2 stays alone);
//   - U's result shape equals the anchor's result shape, so broadcasting
//     never enlarges the iteration space of the anchor's loop nest (the
//     element type may change: Cast, comparisons).
// U's other operands are defined before U (SSA), and no node outside the
// group can use a non-final member's result (its only user is the next
// member), so running the whole group at the position of its last member
// is correct.
//
// Assumes a verified graph in topological order. Existing `fusion_group`
// attributes are removed first, so running the pass twice gives the same
// graph.
//
//===----------------------------------------------------------------------===//

#include "passes/PassRegistry.h"
#include "llvm/ADT/STLExtras.h"
#include <set>

using namespace tidal;

namespace {

/// The node that may be fused after Last in a group whose anchor's result
/// has shape Shape, or null. Nodes in Grouped already belong to a group.
Node *nextChainNode(const Graph &G, const Node &Last,
                    const std::vector<int64_t> &Shape,
                    const std::set<const Node *> &Grouped) {
  if (Last.Results.size() != 1)
    return nullptr;
  const Value *R = Last.result();
  if (G.isGraphOutput(R))
    return nullptr;
  std::vector<Node *> Users = G.users(R);
  if (Users.size() != 1)
    return nullptr;
  Node *U = Users[0];
  if (Grouped.count(U) || !isElementwise(U->Kind) || U->Results.size() != 1 ||
      llvm::count(U->Operands, R) != 1 || U->result()->Type.Shape != Shape)
    return nullptr;
  return U;
}

/// The group anchored at Anchor: the anchor, then its chain.
std::vector<Node *> growGroup(const Graph &G, Node *Anchor,
                              const std::set<const Node *> &Grouped) {
  std::vector<Node *> Members{Anchor};
  if (Anchor->Results.size() != 1)
    return Members;
  const std::vector<int64_t> &Shape = Anchor->result()->Type.Shape;
  while (Node *U = nextChainNode(G, *Members.back(), Shape, Grouped))
    Members.push_back(U);
  return Members;
}

} // namespace

llvm::Error tidal::fuseElementwise(Module &M, const PassOptions &) {
  assert(M.G && "fuse-elementwise runs on the graph IR");
  Graph &G = *M.G;
  for (auto &N : G.Nodes)
    N->Attrs.erase(FusionGroupAttr);
  // Only queried, never iterated: pointer order does not reach the output.
  std::set<const Node *> Grouped;
  int64_t NextGroup = 0;
  for (auto &N : G.Nodes) {
    if (N->Kind == OpKind::Constant || Grouped.count(N.get()))
      continue;
    std::vector<Node *> Members = growGroup(G, N.get(), Grouped);
    Grouped.insert(Members.begin(), Members.end());
    if (Members.size() < 2)
      continue;
    for (Node *Member : Members)
      Member->Attrs[FusionGroupAttr] = NextGroup;
    ++NextGroup;
  }
  return llvm::Error::success();
}
