//===- ProductSchedule.h - Register tiles for canonical products -*- C++
//-*-===//
//
// The default schedule of a canonical matrix product (lower-to-loops'
// canonicalProduct: an init stage and an update stage storing a scratch
// result, and an epilogue stage reading it), made of the checked directives
// only. See ProductSchedule.cpp.
//
//===----------------------------------------------------------------------===//
#ifndef TIDAL_PASSES_LOOP_PRODUCTSCHEDULE_H
#define TIDAL_PASSES_LOOP_PRODUCTSCHEDULE_H

#include "compiler/Loop.h"
#include "compiler/TargetInfo.h"
#include <functional>
#include <optional>

namespace tidal {
namespace loop {

/// A register-tile schedule and the loop over tiles (or batch) that runs
/// outermost, which may run on threads.
struct ProductSchedule {
  Schedule Sched;
  std::string Outer;
  /// The product's init stage is the kernel's top-level statement First
  /// (its update and epilogue the next two); the others are not scheduled.
  size_t First = 0;
};

/// The register-tile schedule of the first canonical product among K's
/// top-level statements (three in a row), or none when there is none or
/// the target has no tile for its element type.
/// IsConstant tells the parameters every call binds to the weights, whose
/// layout the schedule may choose (pack).
std::optional<ProductSchedule>
productSchedule(const Kernel &K, const TargetInfo &T,
                const std::function<bool(const std::string &)> &IsConstant);

} // namespace loop
} // namespace tidal

#endif
