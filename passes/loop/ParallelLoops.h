//===- ParallelLoops.h - Which loops may run in parallel --------*- C++ -*-===//
//
// The legality test behind `parallel` and the GPU schedule: how many loops
// at the top of a perfect nest may run as independent threads, one per
// iteration (GPU threads, or ranges of iterations on the CPU's thread
// pool). The GPU default schedule fuses them and binds the fused loop to
// blocks and threads; the CPU default schedule runs the outermost loop of a
// kernel's statement on the pool; apply-schedule checks every `parallel`
// directive with the same rule. The loops inside stay serial in each thread.
//
//===----------------------------------------------------------------------===//
#ifndef TIDAL_PASSES_LOOP_PARALLELLOOPS_H
#define TIDAL_PASSES_LOOP_PARALLELLOOPS_H

#include "compiler/Loop.h"
#include <string>
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
///
/// For a single loop v of coefficient c > 0 over E iterations there is a
/// second rule, for blocks of columns of a row-major matrix (a register
/// tile's column loop): for some row length H >= c * E (tried: c * E and
/// every coefficient and constant offset at least that long), every access
/// of the buffer must be  q * H + c * v + r  where q * H collects the terms
/// whose coefficients are multiples of H and the constant's multiple of H,
/// and the rests r of all accesses lie in one window narrower than c.
/// Inner loop variables with known ranges stay symbols in the forms, so
/// that their coefficients can be told apart from the rest.
/// Buffers that are only loaded are unconstrained. The caller must make
/// sure that no two parameters of the kernel share storage when one of them
/// is written (then nothing may run in parallel).
unsigned parallelPrefix(const std::vector<const StmtNode *> &Nest);

/// Whether running the perfect nest Nest (whose loops, outermost first, are
/// Old; Enclosing are the loops around it) with its loops in the order New
/// keeps every dependence: for each buffer it stores to, distinct values
/// of the loops (of Enclosing and the nest) that index the buffer must
/// touch distinct elements (the rule of parallelPrefix), and the nest's
/// loops that do not index it, which carry its dependences (a reduction's
/// loops), must keep their relative order, so that every element sees its
/// reads and writes in the same order. Buffers only loaded are
/// unconstrained. Judged on flat addresses (loop::flattenAccesses).
bool reorderKeepsDependences(const std::vector<const StmtNode *> &Enclosing,
                             const Stmt &Nest,
                             const std::vector<std::string> &Old,
                             const std::vector<std::string> &New);

/// Whether some call of K binds a written parameter and another parameter
/// to storage that may overlap (then nothing of K may run in parallel).
bool writtenParamMayAlias(const Program &P, const Kernel &K);

} // namespace loop
} // namespace tidal

#endif
