//===- Pack.h - Compile-time layouts of constant operands -------*- C++ -*-===//
//
// The pack directive of apply-schedule: `pack %w by D, F` gives the
// constant parameter %w a blocked layout. Dimension D is split into blocks
// of F and the offset inside a block becomes a new innermost dimension:
// [O, I, H, W] packed by 0, 16 is [O/16, I, H, W, 16], the weight panels a
// register tile of 16 output channels streams through; [N, C, H, W]
// packed by 1, 16 is NCHW16c. `pack %w by D, F, P` puts the blocks at
// dimension P instead: [K, N] packed by 1, 16, 0 is [N/16, K, 16], the
// column panels of a matrix product's B, each one contiguous stream of
// the K steps' 16 columns. The kernel's reads follow (each index i of
// dimension D becomes i / F and i % F, written as the block and offset
// they are when i is block * F + offset with the offset's range inside
// [0, F)), and the bytes are rearranged in the weights section at compile
// time.
//
//===----------------------------------------------------------------------===//
#ifndef TIDAL_PASSES_LOOP_PACK_H
#define TIDAL_PASSES_LOOP_PACK_H

#include "compiler/Loop.h"
#include <string>

namespace tidal {
namespace loop {

/// A packed layout: dimension Dim cut into blocks of Factor, the blocks at
/// dimension Pos, the offset in a block innermost. With Shift, the last
/// block is shifted inwards to end at the extent (it repeats elements of
/// the one before), as the blocks of a split with a shifted tail are, so
/// that Factor need not divide the dimension.
struct PackLayout {
  int64_t Dim, Factor, Pos;
  bool Shift = false;
};

/// Rewrites the reads of buffer B in Body for B packed by L and gives B its
/// packed shape. Returns an empty string on success, else why
/// not (Body and B unchanged): B must have a shape, Dim and Pos must be
/// among its dimensions and Factor must divide dimension Dim (without
/// Shift; with it, Factor must not exceed it and every read must be of a
/// block's element: an index whose range starts at min(%o * F, E - F) and
/// spans at most F), and every access
/// of B must be a read indexed per dimension.
std::string packAccesses(Stmt &Body, BufferDecl &B, const PackLayout &L);

/// Rearranges, for every call of kernel K, the bytes that its parameter
/// Param (of shape Shape, elements of Elem) is bound to in the weights
/// section, into the layout L, appended to the section
/// (64-byte aligned), and binds the parameter there. Every such binding
/// must be to the weights (packBindable).
void packWeights(Program &P, const std::string &K, size_t Param,
                 ScalarType Elem, const std::vector<int64_t> &Shape,
                 const PackLayout &L);

/// Drops the bytes of the weights section that no call binds any more (the
/// originals of packed weights), keeping every bound range at its offset
/// modulo 64.
void compactWeights(Program &P);

/// Whether every call of K binds parameter Param to the weights section.
bool packBindable(const Program &P, const std::string &K, size_t Param);

} // namespace loop
} // namespace tidal

#endif
