//===- Evaluate.h - Reference interpreter for graph operations --*- C++ -*-===//
//
// Computes a graph operation on constant tensors, with ONNX's semantics
// exactly (numpy broadcasting, truncating integer division, integer Pow,
// half-to-even Round, NaN-propagating Max/Min, ...). The frontend uses it to
// fold the shape sub-graphs exporters emit (Shape -> Gather -> Concat ->
// Reshape) while importing, and the fold-constants pass uses it to fold
// whatever has only constant operands.
//
// Not every operation is supported: pools, convolutions, matrix products,
// normalizations and LRN are left to the generated code. For those, and for
// any value that cannot be computed exactly (an integer division by zero, a
// float out of the range of the integer type it is cast to), evaluateNode
// returns an error and the caller simply does not fold.
//
//===----------------------------------------------------------------------===//
#ifndef TIDAL_COMPILER_EVALUATE_H
#define TIDAL_COMPILER_EVALUATE_H

#include "compiler/Graph.h"
#include "llvm/Support/Error.h"
#include <vector>

namespace tidal {

/// Whether evaluateNode() handles operations of kind K at all, so that a
/// caller can skip gathering operands for a node that can never fold.
bool canEvaluate(OpKind K);

/// Computes the results of N applied to Operands (one tensor per operand of
/// N, in order). N's result types must be set, as in a verified graph: they
/// give the shape of Reshape and Expand and the element type of Cast, and
/// each returned tensor has exactly its result's type. Returns an error
/// ("cannot evaluate ...") when the operation or an element type is not
/// supported, or when a value cannot be computed exactly.
llvm::Expected<std::vector<Tensor>>
evaluateNode(const Node &N, const std::vector<const Tensor *> &Operands);

} // namespace tidal

#endif
