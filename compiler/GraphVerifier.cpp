//===- GraphVerifier.cpp - Checking a graph's invariants ------------------===//
//
// verifyGraph() checks what every pass may assume of a graph:
//   - value names are non-empty and unique; each result knows its node;
//   - SSA order: every operand and graph output is a graph input or the
//     result of an earlier node, and is never null;
//   - each node's operand count is in its op's range and its result types
//     equal what inferResultTypes() gives (for a Constant: the type of its
//     `value`), which also checks its attributes;
//   - fusion groups (nodes with the same int64 FusionGroupAttr id, set by
//     fuse-elementwise): the first member in graph order, the anchor, is
//     not a Constant; every other member is elementwise, takes the previous
//     member's result as an operand, and has the anchor's result shape;
//     every member but the last has one result, used only by the next
//     member and not a graph output.
// Problems are reported for every node at once; each names its node.
//
//===----------------------------------------------------------------------===//

#include "compiler/Diagnostics.h"
#include "compiler/Graph.h"
#include "llvm/ADT/STLExtras.h"
#include <map>
#include <set>

using namespace tidal;

namespace {

llvm::Error nodeError(const Node &N, const llvm::Twine &Reason) {
  return modelError(N.Name, opName(N.Kind), 0, Reason);
}

/// Checks the node's results against its op's type rules.
llvm::Error checkTypes(const Node &N) {
  std::vector<TensorType> OperandTypes, ResultTypes;
  for (const Value *V : N.Operands)
    OperandTypes.push_back(V->Type);
  for (const auto &R : N.Results)
    ResultTypes.push_back(R->Type);
  auto Want = inferResultTypes(N.Kind, OperandTypes, N.Attrs, ResultTypes);
  if (!Want)
    return nodeError(N, llvm::toString(Want.takeError()));
  if (Want->size() != ResultTypes.size())
    return nodeError(N, "has " + llvm::Twine(ResultTypes.size()) +
                            " results but the op gives " +
                            llvm::Twine(Want->size()));
  for (size_t I = 0; I < ResultTypes.size(); ++I)
    if (ResultTypes[I] != (*Want)[I])
      return nodeError(N, "result %" + N.Results[I]->Name + " has type " +
                              ResultTypes[I].str() + " but the op gives " +
                              (*Want)[I].str());
  return llvm::Error::success();
}

/// The structural checks of one node; Defined holds the values defined so
/// far (queried only, so pointer order never matters).
llvm::Error checkStructure(const Node &N, std::set<const Value *> &Defined) {
  int Min = opMinOperands(N.Kind), Max = opMaxOperands(N.Kind);
  int Count = static_cast<int>(N.Operands.size());
  if (Count < Min || (Max >= 0 && Count > Max))
    return nodeError(N, "has " + llvm::Twine(Count) + " operands; the op takes " +
                            llvm::Twine(Min) +
                            (Max < 0 ? " or more"
                                     : Max == Min ? ""
                                                  : " to " + std::to_string(Max)));
  for (size_t I = 0; I < N.Operands.size(); ++I) {
    const Value *V = N.Operands[I];
    if (!V)
      return nodeError(N, "operand " + llvm::Twine(I) + " is null");
    if (!Defined.count(V))
      return nodeError(N, "operand " + llvm::Twine(I) + " %" + V->Name +
                              " is not defined before its use");
  }
  if (N.Results.empty())
    return nodeError(N, "has no results");
  for (size_t I = 0; I < N.Results.size(); ++I) {
    const Value *R = N.Results[I].get();
    if (!R || R->Def != &N || R->ResultNo != I)
      return nodeError(N, "result " + llvm::Twine(I) +
                              " does not point back to its node");
    Defined.insert(R);
  }
  return llvm::Error::success();
}

/// Value names must be non-empty and unique over the whole graph.
void checkNames(const Graph &G, ErrorCollector &Errors) {
  std::set<std::string> Seen;
  auto Check = [&](const Value *V, const Node *N) {
    if (!V->Name.empty() && Seen.insert(V->Name).second)
      return;
    std::string Reason = V->Name.empty()
                             ? "a value has an empty name"
                             : "value name %" + V->Name + " is used twice";
    Errors.add(N ? nodeError(*N, Reason) : makeError(Reason));
  };
  for (const auto &In : G.Inputs)
    Check(In.get(), nullptr);
  for (const auto &N : G.Nodes)
    for (const auto &R : N->Results)
      if (R)
        Check(R.get(), N.get());
}

//===----------------------------------------------------------------------===//
// Fusion groups
//===----------------------------------------------------------------------===//

using UserMap = std::map<const Value *, std::vector<const Node *>>;

/// Checks member I (> 0) of a group against its predecessor and the anchor.
llvm::Error checkMember(const Graph &G, const std::vector<const Node *> &M,
                        size_t I, const UserMap &Users) {
  const Node &N = *M[I], &Prev = *M[I - 1], &Anchor = *M[0];
  if (!isElementwise(N.Kind))
    return nodeError(N, "is in the fusion group of '" + Anchor.Name +
                            "' but is not elementwise");
  if (Prev.Results.size() != 1)
    return nodeError(Prev, "is followed in its fusion group but has " +
                               llvm::Twine(Prev.Results.size()) + " results");
  const Value *PrevResult = Prev.result();
  if (!llvm::is_contained(N.Operands, PrevResult))
    return nodeError(N, "does not use %" + PrevResult->Name +
                            ", the result of the previous member '" +
                            Prev.Name + "' of its fusion group");
  auto It = Users.find(PrevResult);
  if (G.isGraphOutput(PrevResult) || It == Users.end() ||
      It->second.size() != 1)
    return nodeError(Prev, "is fused into '" + N.Name + "' but its result %" +
                               PrevResult->Name +
                               " has other users or is a graph output");
  if (N.Results.empty() ||
      N.result()->Type.Shape != Anchor.result()->Type.Shape)
    return nodeError(N, "result shape differs from the shape of its fusion "
                        "group's anchor '" +
                            Anchor.Name + "'");
  return llvm::Error::success();
}

void checkFusionGroups(const Graph &G, ErrorCollector &Errors) {
  std::map<int64_t, std::vector<const Node *>> Groups;
  UserMap Users;
  for (const auto &N : G.Nodes) {
    for (const Value *V : N->Operands)
      if (Users[V].empty() || Users[V].back() != N.get())
        Users[V].push_back(N.get());
    auto It = N->Attrs.find(FusionGroupAttr);
    if (It != N->Attrs.end())
      if (const int64_t *Id = std::get_if<int64_t>(&It->second))
        Groups[*Id].push_back(N.get());
  }
  for (const auto &[Id, Members] : Groups) {
    if (Members[0]->Kind == OpKind::Constant) {
      Errors.add(nodeError(*Members[0], "a Constant cannot anchor fusion "
                                        "group " + llvm::Twine(Id)));
      continue;
    }
    for (size_t I = 1; I < Members.size(); ++I)
      if (llvm::Error E = checkMember(G, Members, I, Users)) {
        Errors.add(std::move(E));
        break;
      }
  }
}

} // namespace

llvm::Error tidal::verifyGraph(const Graph &G) {
  ErrorCollector Errors;
  checkNames(G, Errors);
  std::set<const Value *> Defined;
  for (const auto &In : G.Inputs) {
    if (In->Def)
      Errors.add(makeError("graph input %" + In->Name + " has a defining node"));
    Defined.insert(In.get());
  }
  bool StructureOk = true;
  for (const auto &N : G.Nodes) {
    if (llvm::Error E = checkStructure(*N, Defined)) {
      Errors.add(std::move(E));
      StructureOk = false;
      continue;
    }
    Errors.add(checkTypes(*N));
  }
  for (size_t I = 0; I < G.Outputs.size(); ++I) {
    const Value *V = G.Outputs[I];
    if (!V || !Defined.count(V)) {
      Errors.add(makeError("graph output " + llvm::Twine(I) +
                           (V ? " %" + V->Name : std::string(" (null)")) +
                           " is not defined in the graph"));
      StructureOk = false;
    }
  }
  if (StructureOk)
    checkFusionGroups(G, Errors);
  return Errors.take();
}
