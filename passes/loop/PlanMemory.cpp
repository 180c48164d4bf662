//===- PlanMemory.cpp - The plan-memory pass ------------------------------===//
//
// Gives every temporary (StorageKind::Temp) a 64-byte aligned offset in the
// one workspace and rewrites its bindings to StorageKind::Workspace.
//
// A temporary is live from the first call that names it to the last one,
// both included, so two temporaries that one call uses together (one read,
// one written) never share bytes. Temporaries are placed one after another,
// each at the best-fitting aligned gap left by the already placed
// temporaries whose lifetimes overlap its own, or else past the last of
// them; several orders are tried (placeAll) and the smallest arena kept,
// deterministically. The arena starts after whatever workspace
// the program already used; WorkspaceSize becomes the arena's end rounded up
// to 64, and TempSizes is cleared because no Temp binding remains.
//
// The plan and its lower bound (the most bytes live during one call) go to
// Module::Report for `tidalc info`.
//
// Assumes the program verifies: every Temp binding names a temporary.
//
//===----------------------------------------------------------------------===//

#include "passes/PassRegistry.h"
#include <algorithm>
#include <limits>
#include <random>

using namespace tidal;

namespace {

constexpr int64_t Align = 64;

int64_t alignUp(int64_t V) { return (V + Align - 1) / Align * Align; }

struct TempPlan {
  int64_t Index = 0;
  int64_t Bytes = 0; // as the lowering asked for them
  int64_t Size = 0;  // rounded up to Align
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
    Temps[I].Bytes = P.TempSizes[I];
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

/// Places the temporaries Order lists, in that order, each at its best
/// fit among those placed before; returns the arena's end.
int64_t placeInOrder(std::vector<TempPlan> &Temps,
                     const std::vector<size_t> &Order) {
  std::vector<const TempPlan *> Placed;
  int64_t End = 0;
  for (size_t I : Order) {
    TempPlan &T = Temps[I];
    T.Offset = bestFit(T, Placed);
    End = std::max(End, T.Offset + T.Size);
    Placed.push_back(&T);
  }
  return End;
}

/// The most bytes live during one call, each temporary counted as
/// SizeOf(T); PeakCall, where given, is set to that call.
template <typename SizeFn>
int64_t peakLive(const std::vector<TempPlan> &Temps, size_t NumCalls,
                 SizeFn SizeOf, int64_t *PeakCall = nullptr) {
  std::vector<int64_t> Live(NumCalls + 1, 0); // differences
  for (const TempPlan &T : Temps)
    if (T.Last >= 0) {
      Live[T.First] += SizeOf(T);
      Live[T.Last + 1] -= SizeOf(T);
    }
  int64_t Peak = 0, Bytes = 0;
  for (size_t C = 0; C < NumCalls; ++C) {
    Bytes += Live[C];
    if (Bytes > Peak) {
      Peak = Bytes;
      if (PeakCall)
        *PeakCall = C;
    }
  }
  return Peak;
}

/// The orders placeAll tries: largest first, then largest lifetime, then
/// largest area (bytes x calls), then largest first with sizes weighted by
/// pseudo-random factors from 1 to 3, a fixed sequence so that the plan is
/// deterministic. Ties keep index order.
std::vector<size_t> orderFor(const std::vector<TempPlan> &Temps,
                             const std::vector<size_t> &Used, unsigned Round,
                             std::mt19937 &Rng) {
  std::vector<int64_t> Key(Temps.size());
  for (size_t I : Used) {
    const TempPlan &T = Temps[I];
    int64_t Calls = T.Last - T.First + 1;
    switch (Round) {
    case 0:
      Key[I] = T.Size;
      break;
    case 1:
      Key[I] = Calls;
      break;
    case 2:
      Key[I] = T.Size * Calls;
      break;
    default:
      Key[I] = T.Size * int64_t(64 + Rng() % 129);
    }
  }
  std::vector<size_t> Order = Used;
  std::stable_sort(Order.begin(), Order.end(),
                   [&](size_t A, size_t B) { return Key[A] > Key[B]; });
  return Order;
}

/// Places every used temporary; returns the arena size. Greedy best fit
/// depends on the order: largest first alone left resnet-like chains of
/// equal buffers alternating between two offsets so that a small one
/// between them needed a third (ad_autoencoder: 1088 bytes for a bound of
/// 1024), and concatenations in place fragment the arena (densenet121,
/// shufflenet). So several orders are tried, within a budget of pairs
/// compared, and the smallest arena is kept; the search stops early at the
/// aligned peak, which no order can beat.
int64_t placeAll(std::vector<TempPlan> &Temps, size_t NumCalls) {
  std::vector<size_t> Used;
  for (size_t I = 0; I < Temps.size(); ++I)
    if (Temps[I].Last >= 0)
      Used.push_back(I);
  // The most aligned bytes live during one call: no order can end below it.
  int64_t Bound =
      peakLive(Temps, NumCalls, [](const TempPlan &T) { return T.Size; });
  constexpr int64_t PairBudget = 20'000'000;
  int64_t N = static_cast<int64_t>(Used.size());
  unsigned Rounds = static_cast<unsigned>(
      std::clamp<int64_t>(PairBudget / std::max<int64_t>(N * N, 1), 1, 64));
  std::mt19937 Rng(1); // the same sequence on every host
  std::vector<int64_t> BestOffsets;
  int64_t Best = std::numeric_limits<int64_t>::max();
  for (unsigned Round = 0; Round < Rounds && Best > Bound; ++Round) {
    int64_t End = placeInOrder(Temps, orderFor(Temps, Used, Round, Rng));
    if (End < Best) {
      Best = End;
      BestOffsets.clear();
      for (const TempPlan &T : Temps)
        BestOffsets.push_back(T.Offset);
    }
  }
  for (size_t I = 0; I < Temps.size(); ++I)
    Temps[I].Offset = BestOffsets[I];
  return Used.empty() ? 0 : Best;
}

/// `kernel.param` of the first call's parameter bound to temporary T.
std::string labelOf(const Program &P, const TempPlan &T) {
  const KernelCall &C = P.Calls[T.First];
  const Kernel *K = P.findKernel(C.Kernel);
  for (size_t I = 0; I < C.Args.size(); ++I)
    if (C.Args[I].Storage == StorageKind::Temp && C.Args[I].Index == T.Index)
      return C.Kernel + "." +
             (K && I < K->Params.size() ? K->Params[I].Name
                                        : std::to_string(I));
  return C.Kernel;
}

/// The plan as `tidalc info` shows it; Base is where the arena starts.
MemoryReport report(const Program &P, const std::vector<TempPlan> &Temps,
                    int64_t Base) {
  MemoryReport R;
  for (const TempPlan &T : Temps)
    if (T.Last >= 0)
      R.Buffers.push_back(
          {labelOf(P, T), Base + T.Offset, T.Size, T.First, T.Last});
  // Sizes as the lowering asked for them, before alignment: no placement
  // of these lifetimes can use less.
  R.LowerBound =
      Base + peakLive(
                 Temps, P.Calls.size(),
                 [](const TempPlan &T) { return T.Bytes; }, &R.PeakCall);
  return R;
}

} // namespace

llvm::Error tidal::planMemory(Module &M, const PassOptions &) {
  if (!M.P)
    return llvm::Error::success();
  Program &P = *M.P;
  std::vector<TempPlan> Temps = computeLiveness(P);
  int64_t Base = alignUp(P.WorkspaceSize);
  int64_t ArenaSize = placeAll(Temps, P.Calls.size());
  M.Report.Memory = report(P, Temps, Base);
  for (KernelCall &C : P.Calls)
    for (BufferBinding &B : C.Args)
      if (B.Storage == StorageKind::Temp)
        B = BufferBinding{StorageKind::Workspace, 0,
                          Base + Temps[B.Index].Offset + B.Offset};
  P.WorkspaceSize = alignUp(Base + ArenaSize);
  M.Report.Memory.WorkspaceSize = P.WorkspaceSize;
  P.TempSizes.clear();
  return llvm::Error::success();
}
