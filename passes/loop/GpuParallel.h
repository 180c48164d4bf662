//===- GpuParallel.h - Which loops may run as GPU threads -------*- C++ -*-===//
//
// The legality test behind the GPU default schedule (default-schedule with
// --target nvptx): how many loops at the top of a perfect nest may run as
// independent GPU threads, one thread per iteration of those loops. The
// schedule fuses them and binds the fused loop to blocks and threads; the
// loops inside stay serial in each thread.
//
//===----------------------------------------------------------------------===//
#ifndef TIDAL_PASSES_LOOP_GPUPARALLEL_H
#define TIDAL_PASSES_LOOP_GPUPARALLEL_H

#include "compiler/Loop.h"
#include <vector>

namespace tidal {
namespace loop {

/// The loops at the top of the nest S that form a perfect nest (each the
/// whole body of the one before) with constant mins and extents of at least
/// 1, outermost first, while the product of their extents stays at most
/// 2^31 - 1. Empty when S is not such a loop.
std::vector<const StmtNode *> constantPerfectNest(const Stmt &S);

/// The largest K such that the first K loops of Nest (from
/// constantPerfectNest) may run in parallel, one thread per iteration, or 0.
///
/// The rule: every buffer that the nest stores to, other than the local
/// buffers it allocates itself (private to each iteration), must be
/// accessed (loaded and stored) inside the nest only at indices of the
/// form  sum(c_v * v) + r,  where v ranges over the K loop variables, the
/// c_v are the same constants at every access of that buffer, and r is an
/// integer whose range [lo, hi] (over every access of the buffer, every
/// iteration and every value of the inner loops and lets) is known. With the
/// loops of more than one iteration sorted by |c_v|, each |c_v| must exceed
/// (hi - lo) plus the sum of |c_u| * (extent_u - 1) over the smaller ones.
/// Then two different iterations never touch the same element of a stored
/// buffer, so the iterations are independent whatever their order.
/// Buffers that are only loaded are unconstrained. The caller must make
/// sure that no two parameters of the kernel share storage when one of them
/// is written (then nothing may run in parallel).
unsigned parallelPrefix(const std::vector<const StmtNode *> &Nest);

} // namespace loop
} // namespace tidal

#endif
