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

  /// The largest register tile of a product of ElemBits-bit elements:
  /// Rows x Vectors accumulator vectors of Lanes lanes, kept in registers
  /// across the reduction. Two vectors of columns; the registers left after
  /// the accumulators hold those two B vectors, A's broadcast and one spare
  /// for the scheduler. At most 12 rows: more gain nothing on any target we
  /// know (MLAS uses 12 on AVX-512, 6 on AVX2; Arm kernels 8).
  struct Tile {
    int64_t Rows, Lanes, Vectors;
    /// The rows of the tiles of a product with M rows: Rows when M is
    /// large (the edge tile is then a small part of the work, and the full
    /// tile's accumulators make the most of the registers: SGEMM 1024^3
    /// ran 20% faster with 12 rows than with 8 on AVX-512 in the
    /// lowering's tiles, which read A row by row); for small M
    /// the largest count from Rows down to half of it that divides M, so
    /// that no edge tile is left (row blocks of one size share out evenly
    /// among threads). Rows when none does.
    int64_t rowsFor(int64_t M) const {
      if (M >= 64)
        return Rows;
      for (int64_t R = Rows; R * 2 >= Rows && R > 1; --R)
        if (M % R == 0)
          return R;
      return Rows;
    }
    /// The rows of the tiles of a product with M rows whose last tile is
    /// shifted inwards to end at the last row (the default schedule of a
    /// canonical product, ProductSchedule.cpp): the count from Rows down
    /// to half of it that takes the least time in all, the larger on a
    /// tie, where a tile of fewer than two thirds of Rows rows takes as
    /// long as one of two thirds (measured, SGEMM 1024^3 on x86-64: tiles
    /// of 8 rows as fast as 12, of 6 rows 8% slower). So 256 rows go in 32
    /// tiles of 8 rather than 22 of 12 (a 1x1 convolution of 256 output
    /// channels on 56x56 positions 7% faster), 7 rows by at most 6 in two
    /// of 4.
    int64_t shiftedRowsFor(int64_t M) const;
  };
  Tile registerTile(unsigned ElemBits) const {
    int64_t Lanes = VectorBits / ElemBits, Vectors = 2;
    int64_t Rows = (int64_t(VectorRegisters) - Vectors - 2) / Vectors;
    return {Rows < 1 ? 1 : Rows > 12 ? 12 : Rows, Lanes, Vectors};
  }

  /// Whether the target computes a byte dot product of Lanes i32 lanes
  /// (compiler/Tensorize.h) in one instruction: vpdpbusd with VNNI, on
  /// 128 or 256 bits, or 512 with AVX-512, at most the vector width.
  bool hasByteDot(int64_t Lanes) const {
    return VNNI && Lanes * 32 <= int64_t(VectorBits) &&
           (Lanes == 4 || Lanes == 8 || (Lanes == 16 && AVX512));
  }

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
