//===- PlanMemory.cpp - The plan-memory pass ------------------------------===//
//
// Gives every temporary (StorageKind::Temp) a 64-byte aligned offset in the
// one workspace and rewrites its bindings to StorageKind::Workspace.
//
// A temporary is live from the first call that names it to the last one,
// both included, so two temporaries that one call uses together (one read,
// one written) never share bytes. Temporaries are placed largest first (ties
// by index, so the plan is deterministic), each at the best-fitting aligned
// gap left by the already placed temporaries whose lifetimes overlap its own,
// or else past the last of them. The arena starts after whatever workspace
// the program already used; WorkspaceSize becomes the arena's end rounded up
// to 64, and TempSizes is cleared because no Temp binding remains.
//
// Assumes the program verifies: every Temp binding names a temporary.
//
//===----------------------------------------------------------------------===//

#include "passes/PassRegistry.h"
#include <algorithm>
#include <limits>

using namespace tidal;

namespace {

constexpr int64_t Align = 64;

int64_t alignUp(int64_t V) { return (V + Align - 1) / Align * Align; }

struct TempPlan {
  int64_t Index = 0;
  int64_t Size = 0; // rounded up to Align
  int64_t First = std::numeric_limits<int64_t>::max(), Last = -1;
  int64_t Offset = 0;
  bool overlapsInTime(const TempPlan &O) const {
    return First <= O.Last && O.First <= Last;
  }
};

/// Liveness of every temporary over the call sequence.
std::vector<TempPlan> computeLiveness(const Program &P) {
  std::vector<TempPlan> Temps(P.TempSizes.size());
  for (size_t I = 0; I < Temps.size(); ++I) {
    Temps[I].Index = I;
    Temps[I].Size = alignUp(P.TempSizes[I]);
  }
  for (size_t C = 0; C < P.Calls.size(); ++C)
    for (const BufferBinding &B : P.Calls[C].Args) {
      if (B.Storage != StorageKind::Temp)
        continue;
      assert(B.Index >= 0 && B.Index < static_cast<int64_t>(Temps.size()) &&
             "temp binding out of range");
      TempPlan &T = Temps[B.Index];
      T.First = std::min<int64_t>(T.First, C);
      T.Last = std::max<int64_t>(T.Last, C);
    }
  return Temps;
}

/// The offset (relative to the arena) at which T fits best among the
/// placed temporaries that are live at the same time.
int64_t bestFit(const TempPlan &T, const std::vector<const TempPlan *> &Placed) {
  std::vector<std::pair<int64_t, int64_t>> Busy; // [begin, end)
  for (const TempPlan *O : Placed)
    if (O->overlapsInTime(T))
      Busy.push_back({O->Offset, O->Offset + O->Size});
  std::sort(Busy.begin(), Busy.end());
  int64_t Best = -1, BestGap = std::numeric_limits<int64_t>::max();
  int64_t Cursor = 0;
  for (const auto &[Begin, End] : Busy) {
    int64_t Gap = Begin - Cursor;
    if (Gap >= T.Size && Gap < BestGap) {
      Best = Cursor;
      BestGap = Gap;
    }
    Cursor = std::max(Cursor, End);
  }
  return Best >= 0 ? Best : Cursor;
}

/// Places every used temporary; returns the arena size.
int64_t placeAll(std::vector<TempPlan> &Temps) {
  std::vector<TempPlan *> Order;
  for (TempPlan &T : Temps)
    if (T.Last >= 0)
      Order.push_back(&T);
  std::stable_sort(Order.begin(), Order.end(),
                   [](const TempPlan *A, const TempPlan *B) {
                     return A->Size > B->Size;
                   });
  std::vector<const TempPlan *> Placed;
  int64_t End = 0;
  for (TempPlan *T : Order) {
    T->Offset = bestFit(*T, Placed);
    End = std::max(End, T->Offset + T->Size);
    Placed.push_back(T);
  }
  return End;
}

} // namespace

llvm::Error tidal::planMemory(Module &M, const PassOptions &) {
  if (!M.P)
    return llvm::Error::success();
  Program &P = *M.P;
  std::vector<TempPlan> Temps = computeLiveness(P);
  int64_t Base = alignUp(P.WorkspaceSize);
  int64_t ArenaSize = placeAll(Temps);
  for (KernelCall &C : P.Calls)
    for (BufferBinding &B : C.Args)
      if (B.Storage == StorageKind::Temp)
        B = BufferBinding{StorageKind::Workspace, 0,
                          Base + Temps[B.Index].Offset + B.Offset};
  P.WorkspaceSize = alignUp(Base + ArenaSize);
  P.TempSizes.clear();
  return llvm::Error::success();
}
