//===- DeadCodeElimination.cpp - The "dce" pass ---------------------------===//
//
// Removes every node none of whose results is used, either as an operand of
// a node that stays or as a graph output, up to the fixed point: a node that
// only fed removed nodes is removed too. Graph operations have no side
// effects, so a node is needed only through its results. Graph inputs are
// never removed, used or not: they are part of the compiled model's calling
// convention.
//
// Assumes the node list is in topological order (the verifier checks it).
// Then one walk from the last node to the first reaches the fixed point:
// when a node is visited, every node that could use its results has already
// been decided. Surviving nodes keep their order.
//
//===----------------------------------------------------------------------===//

#include "passes/PassRegistry.h"
#include <set>

using namespace tidal;

namespace {

/// Whether any result of N is in Live.
bool hasLiveResult(const Node &N, const std::set<const Value *> &Live) {
  for (const auto &R : N.Results)
    if (Live.count(R.get()))
      return true;
  return false;
}

/// Removes the dead nodes of G; returns how many were removed. The set is
/// only queried, never iterated, so pointer order does not leak into the
/// output.
unsigned removeDeadNodes(Graph &G) {
  std::set<const Value *> Live(G.Outputs.begin(), G.Outputs.end());
  unsigned Removed = 0;
  for (auto It = G.Nodes.end(); It != G.Nodes.begin();) {
    --It;
    if (hasLiveResult(**It, Live)) {
      Live.insert((*It)->Operands.begin(), (*It)->Operands.end());
      continue;
    }
    It = G.Nodes.erase(It);
    ++Removed;
  }
  return Removed;
}

} // namespace

llvm::Error tidal::eliminateDeadCode(Module &M, const PassOptions &) {
  assert(M.G && "dce runs on the graph IR");
  removeDeadNodes(*M.G);
  return llvm::Error::success();
}
