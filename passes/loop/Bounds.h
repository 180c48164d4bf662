//===- Bounds.h - Interval arithmetic on index expressions ------*- C++ -*-===//
//
// Symbolic intervals of i64 index expressions: the values an expression
// takes while some variables range over intervals whose ends are
// expressions of the others. compute_at infers the region a loop reads
// with them; pack splits an index into a block and an offset with them.
//
//===----------------------------------------------------------------------===//
#ifndef TIDAL_PASSES_LOOP_BOUNDS_H
#define TIDAL_PASSES_LOOP_BOUNDS_H

#include "compiler/Loop.h"
#include <map>
#include <optional>
#include <string>

namespace tidal {
namespace loop {

/// An inclusive range of i64 values, its ends as expressions.
struct Interval {
  Expr Lo, Hi;
};
/// The intervals of the variables that range; other variables are
/// themselves.
using Ranges = std::map<std::string, Interval>;

/// The values E takes when the variables of R range over their intervals;
/// none when E is not built from what interval arithmetic handles (+, -,
/// * by a constant, min, max, variables and integer constants).
std::optional<Interval> bounds(const Expr &E, const Ranges &R);

/// A + B, A - B and A * C with constants folded, so that inferred bounds
/// stay readable.
Expr plus(const Expr &A, const Expr &B);
Expr minus(const Expr &A, const Expr &B);
Expr times(const Expr &A, int64_t C);
/// The smaller and the larger of A and B: one of them when they differ by
/// a constant, else a min or max.
Expr lower(const Expr &A, const Expr &B);
Expr upper(const Expr &A, const Expr &B);

} // namespace loop
} // namespace tidal

#endif
