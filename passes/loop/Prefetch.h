//===- Prefetch.h - Software prefetch of streamed operands ------*- C++ -*-===//
//
// The prefetch directive of apply-schedule (Prefetch.cpp says what it
// inserts and where).
//
//===----------------------------------------------------------------------===//
#ifndef TIDAL_PASSES_LOOP_PREFETCH_H
#define TIDAL_PASSES_LOOP_PREFETCH_H

#include "compiler/Loop.h"
#include <optional>
#include <string>

namespace tidal {
namespace loop {

/// Bytes of a cache line on every target Tidal emits code for (x86-64 and
/// Cortex-A53; 128 on some other Arm cores, where a prefetch per 64 bytes
/// only repeats itself).
constexpr int64_t CacheLineBytes = 64;

/// Prefetches, at the top of each iteration of loop Loop, the elements of
/// buffer B (a read-only parameter) that the iteration Distance iterations
/// later loads. Returns an empty string on success (Body rewritten), else
/// why not.
std::string prefetchAhead(Stmt &Body, const BufferDecl &B,
                          const std::string &Loop, int64_t Distance);

/// The elements by which the loads of buffer Buf that prefetchAhead would
/// prefetch in loop L move on per iteration of L, when they all move by the
/// same constant; none when they do not, or when there are no such loads.
std::optional<int64_t> streamStride(const StmtNode &L, const std::string &Buf);

} // namespace loop
} // namespace tidal

#endif
