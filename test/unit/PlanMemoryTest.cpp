//===- PlanMemoryTest.cpp - The plan-memory pass --------------------------===//
//
// The memory plan's invariants on hand-made and pseudo-random call
// sequences: temporaries live at the same time (including two used by one
// call) never share a byte, dead ones are reused, every offset and the
// workspace size are 64-byte aligned, everything fits in the workspace,
// and the plan is the same every time.
//
//===----------------------------------------------------------------------===//

#include "compiler/PassManager.h"
#include "passes/PassRegistry.h"
#include <catch2/catch.hpp>
#include <map>

using namespace tidal;

namespace {

std::string errorText(llvm::Error E) {
  return E ? llvm::toString(std::move(E)) : "";
}

/// A program whose calls each use the listed temporaries (plus an input),
/// through one kernel per arity whose parameters are all 1-byte buffers.
Program makeProgram(const std::vector<int64_t> &Sizes,
                    const std::vector<std::vector<int64_t>> &Calls) {
  Program P;
  P.Inputs.push_back({"x", TensorType(ElemType::U8, {1})});
  P.TempSizes = Sizes;
  std::map<size_t, std::string> Kernels;
  for (const std::vector<int64_t> &Temps : Calls) {
    size_t N = Temps.size() + 1;
    if (!Kernels.count(N)) {
      Kernel K;
      K.Name = "k" + std::to_string(N);
      K.Params.push_back({"in", ScalarType::U8, 1, true});
      for (size_t I = 1; I < N; ++I)
        K.Params.push_back({"t" + std::to_string(I), ScalarType::U8, 1, false});
      K.Body = seq({});
      P.Kernels.push_back(K);
      Kernels[N] = K.Name;
    }
    KernelCall C{Kernels[N], {{StorageKind::Input, 0, 0}}};
    for (int64_t T : Temps)
      C.Args.push_back({StorageKind::Temp, T, 0});
    P.Calls.push_back(C);
  }
  return P;
}

Program plan(const Program &In) {
  Module M;
  M.P = std::make_unique<Program>(In);
  PassOptions Opts;
  CHECK(errorText(planMemory(M, Opts)) == "");
  CHECK(errorText(verifyProgram(*M.P)) == "");
  return *M.P;
}

struct Placed {
  int64_t Offset = -1;
  int64_t First = -1, Last = -1;
};

/// The offset and live range of each temporary, read back from the planned
/// calls (matched by position with the unplanned ones).
std::map<int64_t, Placed> placements(const Program &Before,
                                     const Program &After) {
  std::map<int64_t, Placed> Out;
  for (size_t C = 0; C < Before.Calls.size(); ++C)
    for (size_t A = 0; A < Before.Calls[C].Args.size(); ++A) {
      const BufferBinding &B = Before.Calls[C].Args[A];
      if (B.Storage != StorageKind::Temp)
        continue;
      const BufferBinding &N = After.Calls[C].Args[A];
      REQUIRE(N.Storage == StorageKind::Workspace);
      Placed &P = Out[B.Index];
      if (P.Offset < 0) {
        P.Offset = N.Offset;
        P.First = C;
      }
      CHECK(P.Offset == N.Offset); // one offset per temporary
      P.Last = C;
    }
  return Out;
}

/// Checks every invariant of the plan; returns the workspace size.
int64_t checkPlan(const Program &Before) {
  Program After = plan(Before);
  CHECK(After.TempSizes.empty());
  CHECK(After.WorkspaceSize % 64 == 0);
  std::map<int64_t, Placed> Map = placements(Before, After);
  for (const auto &[T, P] : Map) {
    CHECK(P.Offset % 64 == 0);
    CHECK(P.Offset + Before.TempSizes[T] <= After.WorkspaceSize);
    for (const auto &[U, Q] : Map) {
      if (U <= T)
        continue;
      bool LiveTogether = P.First <= Q.Last && Q.First <= P.Last;
      bool Overlap = P.Offset < Q.Offset + Before.TempSizes[U] &&
                     Q.Offset < P.Offset + Before.TempSizes[T];
      INFO("temps " << T << " and " << U);
      CHECK(!(LiveTogether && Overlap));
    }
  }
  // Deterministic: the same input gives the same plan.
  Program Again = plan(Before);
  for (size_t C = 0; C < After.Calls.size(); ++C)
    CHECK(After.Calls[C].Args == Again.Calls[C].Args);
  CHECK(After.WorkspaceSize == Again.WorkspaceSize);
  return After.WorkspaceSize;
}

} // namespace

TEST_CASE("plan-memory: a chain of temporaries reuses dead ones", "[plan-memory]") {
  // t0 -> t1 -> t2 -> t3: at most two are live at once.
  Program P = makeProgram({1000, 1000, 1000, 1000},
                          {{0}, {0, 1}, {1, 2}, {2, 3}, {3}});
  int64_t Size = checkPlan(P);
  CHECK(Size == 2 * 1024);
}

TEST_CASE("plan-memory: temporaries one call uses together never overlap", "[plan-memory]") {
  // t0's last use is the call that writes t1: they must not share bytes,
  // even though t0 is dead right after.
  Program P = makeProgram({64, 64}, {{0}, {0, 1}, {1}});
  Program After = plan(P);
  CHECK(After.Calls[1].Args[1].Offset != After.Calls[1].Args[2].Offset);
  CHECK(After.WorkspaceSize == 128);
}

TEST_CASE("plan-memory: offsets and the workspace are 64-byte aligned", "[plan-memory]") {
  Program P = makeProgram({1, 65, 3, 130}, {{0, 1, 2, 3}});
  CHECK(checkPlan(P) == 64 + 128 + 64 + 192);
}

TEST_CASE("plan-memory: a temporary that no call uses takes no space", "[plan-memory]") {
  Program P = makeProgram({100000, 8}, {{1}});
  CHECK(checkPlan(P) == 64);
}

TEST_CASE("plan-memory: workspace already in use is kept", "[plan-memory]") {
  Program P = makeProgram({8}, {{0}});
  P.WorkspaceSize = 100;
  Program After = plan(P);
  CHECK(After.Calls[0].Args[1] == BufferBinding{StorageKind::Workspace, 0, 128});
  CHECK(After.WorkspaceSize == 192);
}

TEST_CASE("plan-memory: a program without temporaries is unchanged", "[plan-memory]") {
  Program P = makeProgram({}, {{}, {}});
  Program After = plan(P);
  CHECK(After.WorkspaceSize == 0);
  CHECK(After.Calls[0].Args == P.Calls[0].Args);
}

TEST_CASE("plan-memory: best fit picks the smallest gap that holds the temporary",
          "[plan-memory]") {
  // t0 (256) and t1 (128) and t2 (64) are live at calls 0-2; t1 dies at
  // call 1, t0 lives on. t3 (64) arrives at call 2 with t0 and t2 live and
  // fits in t1's old place.
  Program P = makeProgram({256, 128, 64, 64},
                          {{0, 1, 2}, {1}, {0, 2, 3}});
  Program After = plan(P);
  int64_t T1 = After.Calls[0].Args[2].Offset;
  int64_t T3 = After.Calls[2].Args[3].Offset;
  CHECK(T3 == T1);
  CHECK(After.WorkspaceSize == 256 + 128 + 64);
  checkPlan(P);
}

TEST_CASE("plan-memory: random call sequences give valid plans", "[plan-memory]") {
  uint32_t S = 2024;
  auto Next = [&](uint32_t N) {
    S = S * 1664525u + 1013904223u;
    return (S >> 8) % N;
  };
  for (int Round = 0; Round < 200; ++Round) {
    size_t NumTemps = 1 + Next(12);
    std::vector<int64_t> Sizes;
    for (size_t I = 0; I < NumTemps; ++I)
      Sizes.push_back(1 + Next(Next(2) ? 300 : 5000));
    std::vector<std::vector<int64_t>> Calls(1 + Next(15));
    for (auto &C : Calls)
      for (size_t K = Next(4); K > 0; --K)
        C.push_back(Next(NumTemps));
    Program P = makeProgram(Sizes, Calls);
    INFO("round " << Round);
    int64_t Size = checkPlan(P);
    int64_t Sum = 0;
    for (int64_t Sz : Sizes)
      Sum += (Sz + 63) / 64 * 64;
    CHECK(Size <= Sum);
  }
}
