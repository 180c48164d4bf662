//===- NestUtils.h - Pieces shared by the reducing lowerings ----*- C++ -*-===//
//
// Helpers of the lowerings that accumulate (reductions, softmax, pools,
// LRN, convolution, matrix products, arg-reductions, running sums):
// element-type checks, local accumulator buffers, the split of an input's
// axes into looped and accumulated ones, loops that vanish when trivial,
// and the index
// arithmetic of sliding windows (which kernel positions of an output read
// inside the input, and which outputs a kernel position reaches), so that
// window loops carry their bounds instead of testing every element.
//
//===----------------------------------------------------------------------===//
#ifndef TIDAL_PASSES_LOWER_NESTUTILS_H
#define TIDAL_PASSES_LOWER_NESTUTILS_H

#include "passes/lower/Lowering.h"
#include "llvm/ADT/ArrayRef.h"
#include <functional>

namespace tidal {
namespace lower {
namespace nest {

/// The most elements a lowering puts in one local accumulator. Allocate may
/// live on a small stack (firmware), so larger blocks fall back to smaller
/// accumulators and more loops.
constexpr int64_t MaxAccElems = 4096;

/// Kernel extents up to this are unrolled in windows, so that every output
/// loop of a kernel position has constant bounds.
constexpr int64_t MaxUnrolledKernel = 16;

/// Float element types every float lowering accepts.
extern const ElemType FloatElems[2];

/// The storage scalar type of V's elements.
ScalarType elemOf(const Value *V);

/// Fails unless V's element type is one of Allowed ("element type X is not
/// supported", naming N) and V is unquantized.
llvm::Error checkElem(const Node &N, const Value *V,
                      llvm::ArrayRef<ElemType> Allowed);
/// checkElem for every operand and result of N. With KeepsQuant (max and
/// min, whose result is one of the stored integers), a per-tensor
/// quantization is accepted when every operand and the result share it.
llvm::Error checkAllElems(const Node &N, llvm::ArrayRef<ElemType> Allowed,
                          bool KeepsQuant = false);

/// Makes the kernel parameters of Values (nulls skipped) in this order, so
/// that a kernel's parameters follow its node's operands rather than the
/// order in which the nest happens to be built.
void declareOperands(KernelBuilder &B,
                     std::initializer_list<const Value *> Values);

/// A buffer made by Allocate: the accumulators of a lowering.
struct LocalBuf {
  std::string Name;
  ScalarType Elem;
  Expr at(Expr I) const { return load(Name, DataType(Elem), std::move(I)); }
  Stmt set(Expr I, Expr V) const {
    return store(Name, std::move(I), std::move(V));
  }
};

/// A fresh LocalBuf named from Hint.
LocalBuf newBuf(KernelBuilder &B, llvm::StringRef Hint, ScalarType Elem);

/// The index of position X (0 <= X < product(Shape)) in Shape, row-major:
/// KernelBuilder::flatIndex joins it back into X.
std::vector<Expr> unflatten(Expr X, llvm::ArrayRef<int64_t> Shape);

/// The number of elements of Shape (1 for rank 0).
int64_t product(llvm::ArrayRef<int64_t> Shape);
/// Row-major flat index of Idx in Shape; the constant 0 for rank 0.
Expr flatIndex(llvm::ArrayRef<int64_t> Shape, const std::vector<Expr> &Idx);

/// How an accumulating nest loops over its input's axes: the outer axes one
/// index at a time, the reduced axes, and the block [BlockBegin, rank) at
/// once in local accumulators, so that the innermost loops run over
/// contiguous elements. A block of more than MaxAccElems elements joins the
/// outer loops instead.
struct AxisSplit {
  std::vector<int64_t> Shape;
  std::vector<bool> Reduced;
  size_t BlockBegin = 0;

  AxisSplit(std::vector<int64_t> S, std::vector<bool> R, size_t Begin)
      : Shape(std::move(S)), Reduced(std::move(R)), BlockBegin(Begin) {
    if (product(blockShape()) > MaxAccElems)
      BlockBegin = Shape.size();
  }
  std::vector<int64_t> outerShape() const { return pick(false, true); }
  std::vector<int64_t> reducedShape() const { return pick(true, false); }
  std::vector<int64_t> blockShape() const {
    return std::vector<int64_t>(Shape.begin() + BlockBegin, Shape.end());
  }
  /// The input index made of the outer, reduced and block indices.
  std::vector<Expr> inputIndex(const std::vector<Expr> &O,
                               const std::vector<Expr> &R,
                               const std::vector<Expr> &Blk) const {
    std::vector<Expr> Idx;
    size_t NO = 0, NR = 0;
    for (size_t A = 0; A < Shape.size(); ++A)
      Idx.push_back(Reduced[A]       ? R[NR++]
                    : A < BlockBegin ? O[NO++]
                                     : Blk[A - BlockBegin]);
    return Idx;
  }

private:
  std::vector<int64_t> pick(bool Red, bool BeforeBlock) const {
    std::vector<int64_t> S;
    for (size_t A = 0; A < Shape.size(); ++A)
      if (Reduced[A] == Red && (!BeforeBlock || A < BlockBegin))
        S.push_back(Shape[A]);
    return S;
  }
};

/// The split of the operations that run along one axis (softmax, ArgMax,
/// CumSum, ...): that axis is the reduced one and the block is every axis
/// after it.
AxisSplit splitAround(const std::vector<int64_t> &Shape, int64_t Axis);

/// N's `axis` attribute (Default when absent), which must be an axis of X;
/// fails, naming N, otherwise.
llvm::Expected<int64_t> readAxis(const Node &N, const Value *X,
                                 int64_t Default);

/// A serial loop of Extent iterations from Min, its variable named from
/// Hint. A constant extent of 1 gives Body(Min) without a loop, and a
/// constant extent of 0 or less gives an empty statement, so that loop
/// names in kernels are only those of real loops.
Stmt loopOver(KernelBuilder &B, llvm::StringRef Hint, Expr Min, Expr Extent,
              const std::function<Stmt(Expr)> &Body);
Stmt loopOver(KernelBuilder &B, llvm::StringRef Hint, int64_t Extent,
              const std::function<Stmt(Expr)> &Body);
/// Body(lane) in a loop of Lanes lanes that the lowering marks vectorized
/// itself (no loop for one lane).
Stmt overLanes(KernelBuilder &B, int64_t Lanes,
               const std::function<Stmt(Expr)> &Body);
/// Loops over every index of Shape (KernelBuilder::loopNest: size-1 axes
/// make no loop); Body also gets the flat row-major index.
Stmt loopBlock(
    KernelBuilder &B, llvm::ArrayRef<int64_t> Shape, llvm::StringRef Hint,
    const std::function<Stmt(const std::vector<Expr> &, Expr)> &Body);

/// Identities of max and min: -inf / +inf for floats, the type's limits for
/// integers, false / true for bool.
Expr lowestValue(ScalarType T);
Expr highestValue(ScalarType T);
/// |X| for any numeric type (a select for integers).
Expr absValue(Expr X);

/// ceil(A / D) for A >= 0, D > 0.
int64_t ceilDivPos(int64_t A, int64_t D);
/// ceil(max(A, 0) / D) as an i64 expression, D > 0.
Expr ceilDivClamped(Expr A, int64_t D);
/// A + B for i64 expressions, folding constants and leaving out zeros.
Expr add(Expr A, Expr B);
/// X * Scale + Offset, leaving out a unit scale and a zero offset, folded
/// when X is a constant.
Expr affine(Expr X, int64_t Scale, int64_t Offset);

/// One spatial axis of a sliding window: output o, kernel position k read
/// input position o*Stride - PadBegin + k*Dilation.
struct WindowAxis {
  int64_t In = 1, Out = 1, Kernel = 1, Stride = 1, PadBegin = 0, PadEnd = 0,
          Dilation = 1;

  /// The kernel positions [first, end) of output O landing inside [Lo, Hi)
  /// of the input coordinates (unpadded: [0, In)).
  std::pair<int64_t, int64_t> kernelRange(int64_t O, int64_t Lo,
                                          int64_t Hi) const;
  /// The outputs [first, end) whose kernel position K lands inside
  /// [0, In).
  std::pair<int64_t, int64_t> outputRange(int64_t K) const;
};

/// Reads the window attributes of a pool or convolution over X (N, C,
/// spatial...) producing Y: kernel_shape (or KernelShape when given: the
/// weights' spatial dims), strides, pads (begins then ends) and dilations,
/// defaulting to 1, 0 and 1. Fails, naming N, on inconsistent attributes.
llvm::Expected<std::vector<WindowAxis>>
readWindow(const Node &N, const Value *X, const Value *Y,
           const std::vector<int64_t> *KernelShape = nullptr);

/// The body of a window: gets the kernel index per axis, the input index
/// per spatial axis, and the last axis' output index.
using WindowBody =
    std::function<Stmt(const std::vector<Expr> &Kernel,
                       const std::vector<Expr> &Input, Expr LastOut)>;

/// Visits every (kernel position, last-axis output) pair of the output row
/// OuterOut (the output index of every spatial axis but the last) whose
/// input element lies inside the input. Outer axes loop over their valid
/// kernel range; the last axis loops over the valid outputs of each kernel
/// position, unrolled over kernel positions when the kernel is small, so
/// the innermost loop runs over contiguous outputs without a padding test.
Stmt windowRow(KernelBuilder &B, const std::vector<WindowAxis> &Axes,
               const std::vector<Expr> &OuterOut, const WindowBody &Body);

/// The kernel positions of output O on axis A that land inside [Lo, Hi),
/// as a loop's {min, extent}: constants where they are the same for every
/// output (the usual case away from padding), else clamped expressions.
std::pair<Expr, Expr> kernelSpan(const WindowAxis &A, Expr O, int64_t Lo,
                                 int64_t Hi);

/// The number of kernel positions of output O on axis A that land inside
/// [Lo, Hi): a constant when it is the same for every output.
Expr windowCount(const WindowAxis &A, Expr O, int64_t Lo, int64_t Hi);

} // namespace nest
} // namespace lower
} // namespace tidal

#endif
