//===- EvaluateImpl.h - Internals shared by the evaluator's files -*- C++
//-*-===//
//
// Helpers of the reference interpreter (Evaluate.cpp for elementwise
// operations, EvaluateData.cpp for data movement and reductions). Not part of
// the interface: include compiler/Evaluate.h instead.
//
//===----------------------------------------------------------------------===//
#ifndef TIDAL_COMPILER_EVALUATEIMPL_H
#define TIDAL_COMPILER_EVALUATEIMPL_H

#include "compiler/Graph.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/Support/Error.h"
#include <optional>
#include <vector>

namespace tidal {
namespace eval {

/// The arithmetic in which elements of a type are computed: double, int64
/// or uint64 (unsigned integers and bool), all with wrap-around for ints.
enum class Domain { Float, Signed, Unsigned };
Domain domainOf(ElemType T);

/// Element I of T as uint64 (the unsigned domain; exact for u64 too).
uint64_t getUnsigned(const Tensor &T, int64_t I);

/// The "cannot evaluate" error, naming the node.
llvm::Error cannot(const Node &N, const llvm::Twine &Why);

/// Strides for reading a tensor of shape Shape at the positions of a tensor
/// of shape Out it broadcasts to: 0 along broadcast dimensions.
std::vector<int64_t> broadcastStrides(const std::vector<int64_t> &Shape,
                                      const std::vector<int64_t> &Out);
/// Whether Shape broadcasts (numpy-style) to exactly Out.
bool broadcastsTo(const std::vector<int64_t> &Shape,
                  const std::vector<int64_t> &Out);

/// Calls Fn(I, Offsets) for every element I of a row-major tensor of shape
/// OutShape, where Offsets[K] is the element offset given by Strides[K].
void forEachIndex(
    const std::vector<int64_t> &OutShape,
    const std::vector<std::vector<int64_t>> &Strides,
    llvm::function_ref<void(int64_t, const std::vector<int64_t> &)> Fn);

/// Attributes of the expected type, or none when absent or mistyped.
const std::vector<int64_t> *intsAttr(const Node &N, llvm::StringRef A);
std::optional<int64_t> intAttr(const Node &N, llvm::StringRef A);
std::optional<float> floatAttr(const Node &N, llvm::StringRef A);

/// Data movement: Reshape, Expand, Transpose, Concat, Slice, Gather, Pad.
llvm::Expected<Tensor> evalInjective(const Node &N,
                                     const std::vector<const Tensor *> &Ops,
                                     const TensorType &RT);

/// Whether evalReduction() handles K (the Reduce* family and the softmaxes).
bool isEvaluableReduction(OpKind K);
llvm::Expected<Tensor> evalReduction(const Node &N, const Tensor &X,
                                     const TensorType &RT);

} // namespace eval
} // namespace tidal

#endif
