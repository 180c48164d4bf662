//===- TargetInfo.h - What a target offers the schedules --------*- C++ -*-===//
//
// The facts about a target that default schedules are derived from: vector
// width and register count (the register tile), fused multiply-add, the
// x86 extensions that int8 and binary kernels need (AVX-512, VNNI,
// VPOPCNTDQ), NEON and its dot product, and cache sizes (tile sizes).
// codegen/ reads the vector and feature facts off LLVM's subtarget for the
// chosen CPU (targetInfo() in codegen/Codegen.h); generic() gives a fixed
// description of each target without LLVM, for tidal-opt and tests.
// Cache sizes are fixed per target, never read from the host, so that a
// compile does not depend on the machine it runs on.
//
//===----------------------------------------------------------------------===//
#ifndef TIDAL_COMPILER_TARGETINFO_H
#define TIDAL_COMPILER_TARGETINFO_H

#include "llvm/Support/Error.h"
#include <cstdint>
#include <string>

namespace tidal {

/// One target and CPU, as the passes see it. Plain data: copy it freely.
struct TargetInfo {
  /// The tidalc target: "x86-64", "cortex-a53" or "nvptx".
  std::string Name = "x86-64";
  /// The CPU (or GPU architecture) code is generated for.
  std::string CPU = "x86-64-v3";
  /// The widest vector register in bits (512 with AVX-512, 256 with AVX,
  /// 128 with SSE or NEON).
  unsigned VectorBits = 256;
  /// Vector registers a register tile may use (32 with AVX-512 or NEON).
  unsigned VectorRegisters = 16;
  /// A fused multiply-add instruction (FMA3, NEON fmla, PTX fma).
  bool FMA = true;
  bool AVX512 = false;
  /// AVX-512 VNNI or AVX-VNNI: vpdpbusd, u8 x i8 dot products into i32.
  bool VNNI = false;
  /// AVX-512 VPOPCNTDQ: vector popcount, for xnor-popcount kernels.
  bool VPOPCNTDQ = false;
  bool NEON = false;
  /// NEON sdot/udot (Armv8.2 dot product; Cortex-A53 has none).
  bool DotProd = false;
  /// Per core; 0 where the target has no such cache model (nvptx).
  uint64_t L1DataBytes = 32 * 1024;
  uint64_t L2Bytes = 1024 * 1024;
  /// How far ahead (bytes) the default schedule prefetches a constant
  /// operand that a register-tiled product streams from memory; 0: no
  /// software prefetch.
  uint64_t PrefetchBytes = 4096;

  bool isGPU() const { return Name == "nvptx"; }

  /// The fixed description of target Name when no CPU is chosen: x86-64 as
  /// x86-64-v3 (AVX2, FMA), cortex-a53, nvptx as sm_80. Errors on an
  /// unknown name.
  static llvm::Expected<TargetInfo> generic(llvm::StringRef Name);

  /// One line: `x86-64 cpu=znver4 vector-bits=512 vector-registers=32 fma
  /// avx512 vnni vpopcntdq l1d=32768 l2=1048576 prefetch=4096` (no
  /// prefetch= when it is 0).
  std::string str() const;
};

} // namespace tidal

#endif
