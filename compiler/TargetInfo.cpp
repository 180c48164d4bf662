//===- TargetInfo.cpp - What a target offers the schedules ----------------===//
//
// The generic descriptions of the three targets and the printed form. The
// cache sizes are the documented ones of each target's reference part
// (docs/targets.md): 32 KiB of L1 data and 1 MiB of L2 per core for x86-64
// (Skylake-SP and later server cores), 32 KiB and 512 KiB for Cortex-A53
// (a common configuration; the core allows 128 KiB to 2 MiB of L2).
//
// The prefetch distance of x86-64 is measured (docs/design.md, "Software
// prefetch of weight panels"): on Zen 4, ResNet-50 ran 11-15% faster with
// 2 to 6 KiB ahead, 8-10% with 1 KiB. Cortex-A53 and nvptx get none: the A53's
// timing cannot be measured here (qemu counts instructions, and a
// prefetch only adds some), and GPU loads are not served that way.
//
//===----------------------------------------------------------------------===//

#include "compiler/TargetInfo.h"
#include "compiler/Diagnostics.h"

using namespace tidal;

llvm::Expected<TargetInfo> TargetInfo::generic(llvm::StringRef Name) {
  TargetInfo T;
  T.Name = Name.str();
  if (Name == "x86-64")
    return T; // The defaults describe x86-64-v3.
  if (Name == "cortex-a53") {
    T.CPU = "cortex-a53";
    T.VectorBits = 128;
    T.VectorRegisters = 32;
    T.NEON = true;
    T.L2Bytes = 512 * 1024;
    T.PrefetchBytes = 0;
    return T;
  }
  if (Name == "nvptx") {
    T.CPU = "sm_80";
    T.VectorBits = 128;
    T.VectorRegisters = 0;
    T.L1DataBytes = T.L2Bytes = T.PrefetchBytes = 0;
    return T;
  }
  return makeError("unknown target '" + Name +
                   "' (expected x86-64, cortex-a53 or nvptx)");
}

std::string TargetInfo::str() const {
  std::string S = Name + " cpu=" + CPU + " vector-bits=" +
                  std::to_string(VectorBits) +
                  " vector-registers=" + std::to_string(VectorRegisters);
  for (auto [On, Word] : {std::pair{FMA, "fma"},
                          {AVX512, "avx512"},
                          {VNNI, "vnni"},
                          {VPOPCNTDQ, "vpopcntdq"},
                          {NEON, "neon"},
                          {DotProd, "dotprod"}})
    if (On)
      S += std::string(" ") + Word;
  S += " l1d=" + std::to_string(L1DataBytes) + " l2=" + std::to_string(L2Bytes);
  if (PrefetchBytes)
    S += " prefetch=" + std::to_string(PrefetchBytes);
  return S;
}

/// The time of tiles of R rows over M rows, the last shifted inwards.
static int64_t shiftedCost(int64_t M, int64_t R, int64_t Rows) {
  return (M + R - 1) / R * std::max(R, (2 * Rows + 2) / 3);
}

int64_t TargetInfo::Tile::shiftedRowsFor(int64_t M) const {
  if (M <= Rows)
    return M;
  int64_t Best = Rows;
  for (int64_t R = Rows - 1; R * 2 >= Rows && R > 1; --R)
    if (shiftedCost(M, R, Rows) < shiftedCost(M, Best, Rows))
      Best = R;
  return Best;
}
