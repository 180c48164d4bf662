//===- ComputeAt.h - compute_at with bounds inference -----------*- C++ -*-===//
//
// The compute_at directive of apply-schedule (ComputeAt.cpp says what it
// does and when it is legal).
//
//===----------------------------------------------------------------------===//
#ifndef TIDAL_PASSES_LOOP_COMPUTEAT_H
#define TIDAL_PASSES_LOOP_COMPUTEAT_H

#include "compiler/Loop.h"
#include <functional>
#include <string>

namespace tidal {
namespace loop {

/// Moves the top-level stage whose outermost loop is Producer to the top
/// of the body of loop Consumer, clamped to the region of its buffer that
/// one iteration of Consumer reads. IsPrivate says whether a parameter is
/// private to the kernel (no other kernel and no graph output sees it).
/// Returns an empty string on success (Body rewritten, Produced naming the
/// stage's buffer), else why not (Body unchanged).
std::string computeAt(Stmt &Body, const std::vector<BufferDecl> &Params,
                      const std::string &Producer, const std::string &Consumer,
                      const std::function<bool(const std::string &)> &IsPrivate,
                      std::string &Produced);

} // namespace loop
} // namespace tidal

#endif
