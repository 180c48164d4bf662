//===- Tensorize.h - Loop nests that one target instruction computes -*- C++
//-*-===//
//
// `tensorize %j` (apply-schedule) marks a loop nest that computes exactly
// what one instruction of the target computes: the loop becomes
// `tensorized`, and codegen emits the instruction for the whole nest where
// the target has it and the nest's own loops elsewhere. The nest stays the
// instruction's reference semantics, so the verifier, the interpreter and
// every target agree on what it computes, and a later pass that broke the
// pattern is caught by the verifier.
//
// One pattern so far, the 4-way dot product of bytes into 32-bit lanes that
// int8 products are built on (x86's vpdpbusd: AVX512-VNNI, AVX-VNNI):
//
//   for %j from J0 extent L tensorized {         // L lanes of i32
//     for %r from R0 extent 4 serial {
//       %c[C] = (load %c[C]:i32 + (cast(load %a[A]:u8):i32 *
//                                  cast(load %b[B]:i8):i32))
//     }
//   }
//
// with the two products' factors in either order and either side of the
// +; C (the flat element index) moves by 1 per %j and not with %r; A and B
// move by 1 per %r and by 4 or 0 per %j (lane j reads bytes 4j..4j+3, or
// every lane the same four bytes, broadcast). The instruction adds the
// four products to the lane at once; the loops add them one by one. Both
// wrap modulo 2^32, so the results are the same bits.
//
//===----------------------------------------------------------------------===//
#ifndef TIDAL_COMPILER_TENSORIZE_H
#define TIDAL_COMPILER_TENSORIZE_H

#include "compiler/Loop.h"
#include "llvm/ADT/ArrayRef.h"
#include <optional>
#include <string>

namespace tidal {

/// A matched byte dot product: the nest's parts.
struct ByteDot {
  const StmtNode *Lanes = nullptr, *Steps = nullptr, *Store = nullptr;
  /// The loads of the u8 and i8 factors.
  const ExprNode *Unsigned = nullptr, *Signed = nullptr;
  /// Whether every lane reads the same four bytes of that factor.
  bool UnsignedSplat = false, SignedSplat = false;
  int64_t Width = 0; // lanes
};

/// The byte dot product that loop L computes, or none, with the reason in
/// Why. Params gives the shapes of accesses indexed per dimension (their
/// strides are judged row-major, as `flatten` will write them).
std::optional<ByteDot> matchByteDot(const StmtNode &L,
                                    llvm::ArrayRef<BufferDecl> Params,
                                    std::string &Why);

} // namespace tidal

#endif
