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
#include <vector>

namespace tidal {
namespace loop {

/// An inclusive range of i64 values, its ends as expressions.
struct Interval {
  Expr Lo, Hi;
};
/// The intervals of the variables that range; other variables are
/// themselves.
using Ranges = std::map<std::string, Interval>;

/// The ranges of the loops among Loops whose bounds are constants (and
/// that run at least once).
Ranges loopRanges(const std::vector<const StmtNode *> &Loops);

/// The values E takes when the variables of R range over their intervals;
/// none when E is not built from what interval arithmetic handles (+, -,
/// * by a constant, min, max, variables and integer constants).
std::optional<Interval> bounds(const Expr &E, const Ranges &R);

/// The region of buffer Buf, of Rank dimensions, that S reads (and with
/// Stores, also writes): per dimension, the interval its indices take over
/// the loops and lets inside S (variables bound outside S stay themselves).
/// Empty when S does not touch Buf; none, with Why, when an access is flat
/// or an index is out of reach of interval arithmetic (or, without Stores,
/// S writes Buf).
std::optional<std::vector<Interval>> accessRegion(const Stmt &S,
                                                  const std::string &Buf,
                                                  size_t Rank, bool Stores,
                                                  std::string &Why);

/// B - A when it is a constant: when B and A, written as sums of terms
/// times constants (sums, differences and products by constants expanded),
/// differ only in their constants.
std::optional<int64_t> difference(const Expr &A, const Expr &B);

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
