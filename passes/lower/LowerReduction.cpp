//===- LowerReduction.cpp - Reductions, softmax, LRN, BatchNorm -----------===//
//
// Lowers the operations that combine many input elements along some axes
// into loop nests: the Reduce* family (and GlobalAveragePool /
// GlobalMaxPool, which are ReduceMean / ReduceMax over the spatial axes),
// Softmax and LogSoftmax, Standardize (the core of layer, instance and
// group normalization), LRN, and inference BatchNormalization.
//
// Every reducing nest has the same shape. The input's axes split into
// outer axes (looped one index at a time), reduced axes, and a block: the
// trailing run of kept axes after the last reduced one. The block is
// handled at once in a local accumulator (Allocate), so the innermost
// loops run over contiguous input and output elements whenever a reduction
// is not over the last axis; when the block would be large it joins the
// outer loops instead. The reduced axes' loops sit between the outer loops
// and the block loops:
//
//   for outer...:  allocate acc[block]:
//     for b: acc[b] = init
//     for reduced...: for b: acc[b] = combine(acc[b], f(x[...]))
//     for b: storeResult(out[...], finish(acc[b]))
//
// When the block is one element and the reduced elements of a row are
// contiguous (a reduction over the innermost axes, Softmax over the last
// one), the row is reduced in vector lanes instead: one partial result per
// lane in a vectorized loop, the lanes joined at the end (laneReduce). The
// order of a sum's additions changes with it (within rounding); a maximum
// does not. On the CPUs from -O1 on; the GPU keeps one thread per row.
//
// It assumes the frontend's normalization (docs/ir.md): `axes` strictly
// increasing in [0, rank) and listing exactly the reduced axes (the
// frontend expands ONNX's "empty means all" and turns noop_with_empty_axes
// into Copy), so an empty `axes` reduces nothing and each output is f of
// one element (ReduceSumSquare squares, ReduceL1 takes |x|); `keepdims` 0
// or 1; Softmax's `axis` in [0, rank). Reductions over an empty set (a
// reduced axis of size 0) give ReduceSum 0, ReduceProd 1, ReduceMax -inf
// (the type's minimum for integers, false for bool), ReduceMin +inf,
// ReduceMean NaN (0 for integers), ReduceSumSquare / L1 / L2 0 and
// ReduceLogSumExp -inf. ReduceMax / ReduceMin and GlobalMaxPool accept
// per-tensor quantized operands whose result keeps the quantization: the
// maximum of the stored integers is the stored maximum.
//
//===----------------------------------------------------------------------===//

#include "passes/lower/Lowering.h"
#include "passes/lower/NestUtils.h"
#include <cmath>

using namespace tidal;
using namespace tidal::lower;
using namespace tidal::lower::nest;

namespace {

enum class Red { Sum, Mean, Max, Min, Prod, SumSquare, L1, L2, LogSumExp };

const ElemType AllInts[] = {ElemType::I8,  ElemType::U8,  ElemType::I16,
                            ElemType::U16, ElemType::I32, ElemType::U32,
                            ElemType::I64, ElemType::U64};

/// The element types each reduction supports: floats everywhere, integers
/// where the result stays exact in the element type, bool for max / min.
std::vector<ElemType> allowedElems(Red K) {
  std::vector<ElemType> A(std::begin(FloatElems), std::end(FloatElems));
  switch (K) {
  case Red::Max:
  case Red::Min:
    A.push_back(ElemType::Bool);
    [[fallthrough]];
  case Red::Sum:
  case Red::Prod:
    A.insert(A.end(), std::begin(AllInts), std::end(AllInts));
    break;
  case Red::Mean:
  case Red::SumSquare:
  case Red::L1:
    A.insert(A.end(),
             {ElemType::I32, ElemType::I64, ElemType::U32, ElemType::U64});
    break;
  case Red::L2:
  case Red::LogSumExp:
    break;
  }
  return A;
}

/// The split of a reduction: the block starts after the last reduced axis.
AxisSplit reductionSplit(const std::vector<int64_t> &Shape,
                         const std::vector<bool> &Reduced) {
  size_t Begin = 0;
  for (size_t A = 0; A < Shape.size(); ++A)
    if (Reduced[A])
      Begin = A + 1;
  return AxisSplit(Shape, Reduced, Begin);
}

Expr initValue(Red K, ScalarType T) {
  switch (K) {
  case Red::Max:
    return lowestValue(T);
  case Red::Min:
    return highestValue(T);
  case Red::Prod:
    return constant(DataType(T), 1);
  case Red::LogSumExp: // a sum of exponentials
  default:
    return constant(DataType(T), 0);
  }
}

/// The element's contribution before combining (LogSumExp: already
/// shifted by the maximum).
Expr mapValue(Red K, Expr X) {
  switch (K) {
  case Red::SumSquare:
  case Red::L2:
    return X * X;
  case Red::L1:
    return absValue(X);
  case Red::LogSumExp:
    return call("exp", X->Type, {X});
  default:
    return X;
  }
}

Expr combine(Red K, Expr Acc, Expr X) {
  bool IsBool = Acc->Type.Scalar == ScalarType::Bool;
  switch (K) {
  case Red::Max:
    return IsBool ? logicalOr(Acc, X) : max(Acc, X);
  case Red::Min:
    return IsBool ? logicalAnd(Acc, X) : min(Acc, X);
  case Red::Prod:
    return Acc * X;
  default:
    return Acc + X;
  }
}

/// The result from the accumulator; Shift is LogSumExp's maximum.
Expr finish(Red K, Expr Acc, int64_t Count, Expr Shift) {
  DataType T = Acc->Type;
  switch (K) {
  case Red::Mean:
    if (isFloat(T.Scalar))
      return Acc / constant(T, double(Count));
    return Count ? Acc / constant(T, double(Count)) : Acc;
  case Red::L2:
    return call("sqrt", T, {Acc});
  case Red::LogSumExp:
    return call("log", T, {Acc}) + Shift;
  default:
    return Acc;
  }
}

/// The lanes in which a contiguous row of Count elements of T is reduced
/// (laneReduce): the target's vector lanes on the CPU for rows of at least
/// two vectors. 1 where rows stay scalar: shorter rows, the GPU (whose
/// threads take rows), -O0, and bool (whose reductions are logical).
int64_t rowLanes(const KernelBuilder &B, ScalarType T, int64_t Count) {
  const PassOptions &Opts = B.options();
  if (Opts.Target.isGPU() || Opts.OptLevel == 0 || T == ScalarType::Bool)
    return 1;
  int64_t Lanes = Opts.Target.VectorBits / scalarBits(T);
  return Lanes > 1 && Count >= 2 * Lanes ? Lanes : 1;
}

/// Buf[Slot] = Update(Buf[Slot], Load(r)) for r < Count, with the updates
/// spread over Lanes partial results (lane l takes r = l mod Lanes) in a
/// vectorized loop, each starting from Identity, combined in lane order
/// with Combine at the end; the last Count mod Lanes updates go straight to
/// Buf[Slot]. For associative updates: a maximum is exactly the same, a sum
/// the same within rounding (its order changes).
Stmt laneReduce(KernelBuilder &B, ScalarType T, int64_t Count, int64_t Lanes,
                Expr Identity, const LocalBuf &Buf, Expr Slot,
                const std::function<Expr(Expr R)> &Load,
                const std::function<Expr(Expr Acc, Expr X)> &Update,
                const std::function<Expr(Expr, Expr)> &Combine) {
  LocalBuf Part = newBuf(B, "part", T);
  Stmt Init =
      overLanes(B, Lanes, [&](Expr L) { return Part.set(L, Identity); });
  int64_t Full = Count / Lanes;
  Stmt Main = loopOver(B, "r", Full, [&](Expr R0) {
    return overLanes(B, Lanes, [&](Expr L) {
      return Part.set(L, Update(Part.at(L), Load(add(affine(R0, Lanes, 0), L))));
    });
  });
  Stmt Tail = loopOver(B, "r", intImm(Full * Lanes), intImm(Count % Lanes),
                       [&](Expr R) {
                         return Buf.set(Slot, Update(Buf.at(Slot), Load(R)));
                       });
  Expr Total = Part.at(intImm(0));
  for (int64_t L = 1; L < Lanes; ++L)
    Total = Combine(Total, Part.at(intImm(L)));
  Stmt Fold = Buf.set(Slot, Combine(Buf.at(Slot), Total));
  return allocate(Part.Name, T, Lanes, seq({Init, Main, Tail, Fold}));
}

/// The nest of one reduction (see the file comment).
class ReduceNest {
public:
  ReduceNest(const Node &N, KernelBuilder &B, Red K,
             const std::vector<bool> &Reduced, bool KeepDims)
      : B(B), K(K), X(N.Operands[0]), T(elemOf(X)), Reduced(Reduced),
        KeepDims(KeepDims), Split(reductionSplit(X->Type.Shape, Reduced)),
        Count(product(Split.reducedShape())), Acc(newBuf(B, "acc", T)),
        Max(newBuf(B, "max", T)) {}

  Stmt build() {
    return loopBlock(B, Split.outerShape(), "i",
                     [&](const std::vector<Expr> &O, Expr) { return row(O); });
  }

protected:
  using BlockFn = std::function<Stmt(const std::vector<Expr> &, Expr)>;
  using UpdateFn = std::function<Expr(Expr Acc, Expr X, Expr Flat)>;

  /// Everything for the outer index O: the accumulators' whole life.
  Stmt row(const std::vector<Expr> &O) {
    std::vector<Stmt> Body;
    if (K == Red::LogSumExp)
      Body.push_back(maxShift(O));
    Body.push_back(overBlock([&](const std::vector<Expr> &, Expr F) {
      return Acc.set(F, initValue(K, T));
    }));
    Body.push_back(accumulate(
        O, Acc,
        [&](Expr A, Expr XV, Expr F) {
          if (K == Red::LogSumExp)
            XV = XV - Max.at(F);
          return combine(K, A, mapValue(K, XV));
        },
        initValue(K, T), [&](Expr A, Expr V) { return combine(K, A, V); }));
    Body.push_back(overBlock([&](const std::vector<Expr> &Blk, Expr F) {
      Expr Shift = K == Red::LogSumExp ? Max.at(F) : nullptr;
      return B.storeResult(outIndex(O, Blk),
                           finish(K, Acc.at(F), Count, Shift));
    }));
    int64_t Size = product(Split.blockShape());
    Stmt S = seq(Body);
    if (K == Red::LogSumExp)
      S = allocate(Max.Name, T, Size, S);
    return allocate(Acc.Name, T, Size, S);
  }

  /// LogSumExp's shift: the maximum, or 0 where it is infinite, so that all
  /// -inf inputs (or an empty set) give -inf rather than NaN.
  Stmt maxShift(const std::vector<Expr> &O) {
    Stmt Init = overBlock([&](const std::vector<Expr> &, Expr F) {
      return Max.set(F, lowestValue(T));
    });
    auto Max2 = [](Expr A, Expr XV) { return max(A, XV); };
    Stmt Reduce = accumulate(
        O, Max, [&](Expr A, Expr XV, Expr) { return Max2(A, XV); },
        lowestValue(T), Max2);
    Stmt Finite = overBlock([&](const std::vector<Expr> &, Expr F) {
      Expr M = Max.at(F), Zero = constant(DataType(T), 0);
      Expr Inf = floatImm(INFINITY, DataType(T));
      return Max.set(F, select(eq(absValue(M), Inf), Zero, M));
    });
    return seq({Init, Reduce, Finite});
  }

  /// Buf[b] = Update(Buf[b], x, b) over the reduced axes, for each block b.
  /// A contiguous row (one block element, the reduced axes innermost) is
  /// reduced in vector lanes (laneReduce) from Identity, the lanes joined
  /// with Combine.
  Stmt accumulate(const std::vector<Expr> &O, const LocalBuf &Buf,
                  const UpdateFn &Update, Expr Identity,
                  const std::function<Expr(Expr, Expr)> &Combine) {
    if (Count == 0) // An empty set: nothing to read.
      return seq({});
    int64_t Lanes = rowLanes(B, T, Count);
    if (Lanes > 1 && contiguousRows())
      return laneReduce(
          B, T, Count, Lanes, Identity, Buf, intImm(0),
          [&](Expr R) {
            // The block is size-1 axes only: index 0 on each.
            std::vector<Expr> Blk(Split.blockShape().size(), intImm(0));
            return B.loadAt(X, Split.inputIndex(
                                   O, unflatten(R, Split.reducedShape()), Blk));
          },
          [&](Expr A, Expr XV) { return Update(A, XV, intImm(0)); }, Combine);
    return loopBlock(
        B, Split.reducedShape(), "r", [&](const std::vector<Expr> &R, Expr) {
          return overBlock([&](const std::vector<Expr> &Blk, Expr F) {
            Expr XV = B.loadAt(X, Split.inputIndex(O, R, Blk));
            return Buf.set(F, Update(Buf.at(F), XV, F));
          });
        });
  }

  Stmt overBlock(const BlockFn &F) {
    return loopBlock(B, Split.blockShape(), "j", F);
  }

  /// Whether the reduced elements of one outer index are contiguous: every
  /// axis from the first reduced one on is reduced or of size 1.
  bool contiguousRows() const {
    const std::vector<int64_t> &Shape = X->Type.Shape;
    size_t First = std::find(Reduced.begin(), Reduced.end(), true) -
                   Reduced.begin();
    for (size_t A = First; A < Shape.size(); ++A)
      if (!Reduced[A] && Shape[A] != 1)
        return false;
    return true;
  }

  /// The result index of outer index O and block index Blk.
  std::vector<Expr> outIndex(const std::vector<Expr> &O,
                             const std::vector<Expr> &Blk) const {
    size_t NumRed = Split.reducedShape().size();
    std::vector<Expr> Idx =
        Split.inputIndex(O, std::vector<Expr>(NumRed, intImm(0)), Blk);
    std::vector<Expr> Out;
    for (size_t A = 0; A < Idx.size(); ++A)
      if (!Reduced[A] || KeepDims)
        Out.push_back(Idx[A]);
    return Out;
  }

  KernelBuilder &B;
  Red K;
  const Value *X;
  ScalarType T;
  std::vector<bool> Reduced;
  bool KeepDims;
  AxisSplit Split;
  int64_t Count;
  LocalBuf Acc, Max;
};

/// Standardize: per outer index, over the reduced axes,
///   mean = sum(x) / n;  var = sum((x - mean)^2) / n;  sd = sqrt(var + eps)
///   out = (x - mean) / sd   (`divide`), or (x - mean) * (1 / sd)
/// each step rounded as the unfused graph rounds it (ReduceMean, Sub, Mul,
/// ReduceMean, Add, Sqrt, then Div or Reciprocal and Mul), the sums in the
/// same lanes, so the numbers are the same bits. A row is read three times
/// in one kernel, while it is in the cache, instead of by five kernels
/// that each write a tensor of the input's size.
class StandardizeNest : public ReduceNest {
public:
  StandardizeNest(const Node &N, KernelBuilder &B,
                  const std::vector<bool> &Reduced)
      : ReduceNest(N, B, Red::Mean, Reduced, /*KeepDims=*/true),
        Eps(N.getFloat("epsilon")), Divide(N.getInt("divide") != 0),
        Sd(newBuf(B, "sd", T)) {}

  Stmt build() {
    return loopBlock(B, Split.outerShape(), "i",
                     [&](const std::vector<Expr> &O, Expr) { return row(O); });
  }

private:
  Stmt row(const std::vector<Expr> &O) {
    DataType DT(T);
    const LocalBuf &Mean = Acc;
    auto Add2 = [](Expr A, Expr V) { return A + V; };
    auto Dev = [&](Expr XV, Expr F) { return XV - Mean.at(F); };
    std::vector<Stmt> Body;
    Body.push_back(overBlock([&](const std::vector<Expr> &, Expr F) {
      return Mean.set(F, constant(DT, 0));
    }));
    Body.push_back(accumulate(
        O, Mean, [&](Expr A, Expr XV, Expr) { return A + XV; }, constant(DT, 0),
        Add2));
    Body.push_back(overBlock([&](const std::vector<Expr> &, Expr F) {
      return Mean.set(F, finish(Red::Mean, Mean.at(F), Count, nullptr));
    }));
    Body.push_back(overBlock([&](const std::vector<Expr> &, Expr F) {
      return Sd.set(F, constant(DT, 0));
    }));
    Body.push_back(accumulate(
        O, Sd,
        [&](Expr A, Expr XV, Expr F) { return A + Dev(XV, F) * Dev(XV, F); },
        constant(DT, 0), Add2));
    Body.push_back(overBlock([&](const std::vector<Expr> &, Expr F) {
      Expr Var = finish(Red::Mean, Sd.at(F), Count, nullptr);
      Expr SdV = call("sqrt", DT, {Var + constant(DT, Eps)});
      return Sd.set(F, Divide ? SdV : constant(DT, 1) / SdV);
    }));
    Body.push_back(loopBlock(
        B, Split.reducedShape(), "r", [&](const std::vector<Expr> &R, Expr) {
          return overBlock([&](const std::vector<Expr> &Blk, Expr F) {
            std::vector<Expr> Idx = Split.inputIndex(O, R, Blk);
            Expr D = Dev(B.loadAt(X, Idx), F);
            return B.storeResult(Idx, Divide ? D / Sd.at(F) : D * Sd.at(F));
          });
        }));
    int64_t Size = product(Split.blockShape());
    return allocate(Mean.Name, T, Size, allocate(Sd.Name, T, Size, seq(Body)));
  }

  double Eps;
  bool Divide;
  LocalBuf Sd;
};

/// Reduces N's operand over the Reduced axes; KeepDims says whether the
/// result keeps them as size-1 axes.
llvm::Expected<Stmt> lowerReduce(const Node &N, KernelBuilder &B, Red K,
                                 const std::vector<bool> &Reduced,
                                 bool KeepDims) {
  bool KeepsQuant = K == Red::Max || K == Red::Min;
  if (llvm::Error E = checkAllElems(N, allowedElems(K), KeepsQuant))
    return std::move(E);
  const Value *X = N.Operands[0], *Y = N.result();
  size_t Rank = X->Type.rank();
  size_t NumRed = std::count(Reduced.begin(), Reduced.end(), true);
  if (Y->Type.rank() != (KeepDims ? Rank : Rank - NumRed) ||
      Y->Type.Elem != X->Type.Elem)
    return nodeError(N, "result type " + Y->Type.str() +
                            " does not match the reduction of " +
                            X->Type.str());
  return ReduceNest(N, B, K, Reduced, KeepDims).build();
}

/// The reduced axes of a Reduce* node: exactly those `axes` lists.
llvm::Expected<std::vector<bool>> reducedAxes(const Node &N) {
  size_t Rank = N.Operands[0]->Type.rank();
  std::vector<bool> Reduced(Rank, false);
  if (!N.hasAttr("axes"))
    return Reduced;
  for (int64_t A : N.getInts("axes")) {
    if (A < 0 || A >= int64_t(Rank) || Reduced[A])
      return nodeError(N, "axes must be unique and in [0, " +
                              llvm::Twine(Rank) + ") after normalization");
    Reduced[A] = true;
  }
  return Reduced;
}

llvm::Expected<Stmt> lowerReduceNode(const Node &N, KernelBuilder &B, Red K) {
  auto Reduced = reducedAxes(N);
  if (!Reduced)
    return Reduced.takeError();
  return lowerReduce(N, B, K, *Reduced, N.getInt("keepdims", 1) != 0);
}

/// GlobalAveragePool / GlobalMaxPool: over every axis after (N, C).
llvm::Expected<Stmt> lowerGlobalPool(const Node &N, KernelBuilder &B, Red K) {
  size_t Rank = N.Operands[0]->Type.rank();
  if (Rank < 3)
    return nodeError(N,
                     "expected an input of rank >= 3 (N, C, spatial...), got " +
                         N.Operands[0]->Type.str());
  std::vector<bool> Reduced(Rank, true);
  Reduced[0] = Reduced[1] = false;
  return lowerReduce(N, B, K, Reduced, /*KeepDims=*/true);
}

/// Softmax (or LogSoftmax) over one axis, subtracting the maximum first:
///   max[b] = max over the axis;
///   Softmax: e = exp(x - max[b]) (kept in a scratch); sum[b] = sum of e;
///            out = e * (1 / sum[b])
///   LogSoftmax: sum[b] = sum of exp(x - max[b]);
///               out = x - (max[b] + log(sum[b]))
llvm::Expected<Stmt> lowerSoftmaxLike(const Node &N, KernelBuilder &B,
                                      bool Log) {
  if (llvm::Error E = checkAllElems(N, FloatElems))
    return std::move(E);
  const Value *X = N.Operands[0];
  ScalarType T = elemOf(X);
  DataType DT(T);
  const std::vector<int64_t> &In = X->Type.Shape;
  auto Axis = readAxis(N, X, int64_t(In.size()) - 1);
  if (!Axis)
    return Axis.takeError();
  AxisSplit Split = splitAround(In, *Axis);
  std::vector<int64_t> BlockShape = Split.blockShape();
  LocalBuf Max = newBuf(B, "max", T), Sum = newBuf(B, "sum", T);
  // Softmax keeps each exponential, computed once (the dearest part), in a
  // scratch of the input's size for the last pass to scale; a row of it
  // per outer index, so rows on different threads never share one.
  std::string Exps = Log ? "" : B.scratch("exp", T, product(In));
  int64_t Lanes = rowLanes(B, T, In[*Axis]);
  bool LaneRows = product(BlockShape) == 1 && Lanes > 1;

  return loopBlock(
      B, Split.outerShape(), "i", [&](const std::vector<Expr> &O, Expr) {
        // Reads element Idx of the input, or of the exponentials.
        using Loader = std::function<Expr(const std::vector<Expr> &)>;
        Loader FromX = [&](const std::vector<Expr> &Idx) {
          return B.loadAt(X, Idx);
        };
        Loader FromExps = [&](const std::vector<Expr> &Idx) {
          return load(Exps, DT, flatIndex(In, Idx));
        };
        // Visit(v, flat block index, input index) for every element v of
        // the row that Load reads.
        auto OverAxis =
            [&](const Loader &Load,
                const std::function<Stmt(Expr, Expr, const std::vector<Expr> &)>
                    &Visit) {
              return loopOver(B, "r", In[*Axis], [&](Expr R) {
                return loopBlock(B, BlockShape, "j",
                                 [&](const std::vector<Expr> &Blk, Expr F) {
                                   std::vector<Expr> Idx =
                                       Split.inputIndex(O, {R}, Blk);
                                   return Visit(Load(Idx), F, Idx);
                                 });
              });
            };
        auto OverBlock = [&](const std::function<Stmt(Expr)> &Visit) {
          return loopBlock(
              B, BlockShape, "j",
              [&](const std::vector<Expr> &, Expr F) { return Visit(F); });
        };
        // Buf[F] = Update(Buf[F], v, F) over the row that Load reads, for
        // each block element F; a contiguous row (one block element, F = 0)
        // in vector lanes from Identity, joined with Combine.
        auto Reduce = [&](const Loader &Load, const LocalBuf &Buf,
                          Expr Identity,
                          const std::function<Expr(Expr, Expr, Expr)> &Update,
                          const std::function<Expr(Expr, Expr)> &Combine) {
          if (!LaneRows)
            return OverAxis(Load,
                            [&](Expr XV, Expr F, const std::vector<Expr> &) {
                              return Buf.set(F, Update(Buf.at(F), XV, F));
                            });
          std::vector<Expr> Blk(BlockShape.size(), intImm(0));
          return laneReduce(
              B, T, In[*Axis], Lanes, Identity, Buf, intImm(0),
              [&](Expr R) { return Load(Split.inputIndex(O, {R}, Blk)); },
              [&](Expr A, Expr XV) { return Update(A, XV, intImm(0)); },
              Combine);
        };
        auto Max2 = [](Expr A, Expr V) { return max(A, V); };
        auto Add2 = [](Expr A, Expr V) { return A + V; };
        auto Exp = [&](Expr XV, Expr F) {
          return call("exp", DT, {XV - Max.at(F)});
        };
        std::vector<Stmt> Body;
        Body.push_back(
            OverBlock([&](Expr F) { return Max.set(F, lowestValue(T)); }));
        Body.push_back(Reduce(
            FromX, Max, lowestValue(T),
            [&](Expr A, Expr XV, Expr) { return Max2(A, XV); }, Max2));
        Body.push_back(
            OverBlock([&](Expr F) { return Sum.set(F, constant(DT, 0)); }));
        if (Log) {
          Body.push_back(Reduce(
              FromX, Sum, constant(DT, 0),
              [&](Expr A, Expr XV, Expr F) { return A + Exp(XV, F); }, Add2));
          Body.push_back(OverBlock([&](Expr F) {
            return Sum.set(F, Max.at(F) + call("log", DT, {Sum.at(F)}));
          }));
          Body.push_back(OverAxis(
              FromX, [&](Expr XV, Expr F, const std::vector<Expr> &Idx) {
                return B.storeResult(Idx, XV - Sum.at(F));
              }));
        } else {
          Body.push_back(OverAxis(
              FromX, [&](Expr XV, Expr F, const std::vector<Expr> &Idx) {
                return store(Exps, flatIndex(In, Idx), Exp(XV, F));
              }));
          Body.push_back(Reduce(
              FromExps, Sum, constant(DT, 0),
              [&](Expr A, Expr E, Expr) { return A + E; }, Add2));
          Body.push_back(OverBlock(
              [&](Expr F) { return Sum.set(F, constant(DT, 1) / Sum.at(F)); }));
          Body.push_back(OverAxis(
              FromExps, [&](Expr E, Expr F, const std::vector<Expr> &Idx) {
                return B.storeResult(Idx, E * Sum.at(F));
              }));
        }
        int64_t Size = product(BlockShape);
        return allocate(Max.Name, T, Size,
                        allocate(Sum.Name, T, Size, seq(Body)));
      });
}

} // namespace

#define TIDAL_REDUCE(Op, Kind)                                                 \
  llvm::Expected<Stmt> lower::lower##Op(const Node &N, KernelBuilder &B) {     \
    return lowerReduceNode(N, B, Red::Kind);                                   \
  }
TIDAL_REDUCE(ReduceSum, Sum)
TIDAL_REDUCE(ReduceMean, Mean)
TIDAL_REDUCE(ReduceMax, Max)
TIDAL_REDUCE(ReduceMin, Min)
TIDAL_REDUCE(ReduceProd, Prod)
TIDAL_REDUCE(ReduceSumSquare, SumSquare)
TIDAL_REDUCE(ReduceL1, L1)
TIDAL_REDUCE(ReduceL2, L2)
TIDAL_REDUCE(ReduceLogSumExp, LogSumExp)
#undef TIDAL_REDUCE

llvm::Expected<Stmt> lower::lowerGlobalAveragePool(const Node &N,
                                                   KernelBuilder &B) {
  return lowerGlobalPool(N, B, Red::Mean);
}

llvm::Expected<Stmt> lower::lowerGlobalMaxPool(const Node &N,
                                               KernelBuilder &B) {
  return lowerGlobalPool(N, B, Red::Max);
}

llvm::Expected<Stmt> lower::lowerStandardize(const Node &N, KernelBuilder &B) {
  if (llvm::Error E = checkAllElems(N, FloatElems))
    return std::move(E);
  auto Reduced = reducedAxes(N);
  if (!Reduced)
    return Reduced.takeError();
  return StandardizeNest(N, B, *Reduced).build();
}

llvm::Expected<Stmt> lower::lowerSoftmax(const Node &N, KernelBuilder &B) {
  return lowerSoftmaxLike(N, B, /*Log=*/false);
}

llvm::Expected<Stmt> lower::lowerLogSoftmax(const Node &N, KernelBuilder &B) {
  return lowerSoftmaxLike(N, B, /*Log=*/true);
}

/// LRN: out = x / (bias + alpha / size * square_sum) ^ beta, where
/// square_sum adds x^2 over the channels [c - floor((size - 1) / 2),
/// c + ceil((size - 1) / 2)] that exist. The spatial block is accumulated
/// together, one channel of the window at a time.
llvm::Expected<Stmt> lower::lowerLRN(const Node &N, KernelBuilder &B) {
  if (llvm::Error E = checkAllElems(N, FloatElems))
    return std::move(E);
  const Value *X = N.Operands[0];
  ScalarType T = elemOf(X);
  DataType DT(T);
  const std::vector<int64_t> &In = X->Type.Shape;
  int64_t Size = N.getInt("size", 0);
  if (In.size() < 2 || Size < 1)
    return nodeError(N, "expected an input of rank >= 2 and a positive size");
  int64_t Before = (Size - 1) / 2, After = Size - 1 - Before, C = In[1];
  Expr Coef = constant(DT, double(N.getFloat("alpha", 1e-4f)) / double(Size));
  Expr Bias = constant(DT, N.getFloat("bias", 1.0f));
  Expr Beta = constant(DT, N.getFloat("beta", 0.75f));
  AxisSplit Split(In, std::vector<bool>(In.size(), false), 2);
  std::vector<int64_t> BlockShape = Split.blockShape();
  LocalBuf Acc = newBuf(B, "acc", T);

  return loopBlock(
      B, Split.outerShape(), "i", [&](const std::vector<Expr> &O, Expr) {
        Expr Ch = O[1];
        auto Elem = [&](Expr Channel, const std::vector<Expr> &Blk) {
          std::vector<Expr> Idx = Split.inputIndex(O, {}, Blk);
          Idx[1] = Channel;
          return Idx;
        };
        Expr First = max(affine(Ch, 1, -Before), intImm(0));
        Expr End = min(affine(Ch, 1, After + 1), intImm(C));
        std::vector<Stmt> Body;
        Body.push_back(loopBlock(B, BlockShape, "j",
                                 [&](const std::vector<Expr> &, Expr F) {
                                   return Acc.set(F, constant(DT, 0));
                                 }));
        Body.push_back(loopOver(B, "r", First, End - First, [&](Expr R) {
          return loopBlock(B, BlockShape, "j",
                           [&](const std::vector<Expr> &Blk, Expr F) {
                             Expr XV = B.loadAt(X, Elem(R, Blk));
                             return Acc.set(F, Acc.at(F) + XV * XV);
                           });
        }));
        Body.push_back(loopBlock(
            B, BlockShape, "j", [&](const std::vector<Expr> &Blk, Expr F) {
              std::vector<Expr> Idx = Elem(Ch, Blk);
              Expr Den = call("pow", DT, {Bias + Coef * Acc.at(F), Beta});
              return B.storeResult(Idx, B.loadAt(X, Idx) / Den);
            }));
        return allocate(Acc.Name, T, product(BlockShape), seq(Body));
      });
}

/// Inference BatchNormalization over channel axis 1:
///   out = (x - mean[c]) * (scale[c] / sqrt(var[c] + epsilon)) + B[c].
llvm::Expected<Stmt> lower::lowerBatchNormalization(const Node &N,
                                                    KernelBuilder &B) {
  if (llvm::Error E = checkAllElems(N, FloatElems))
    return std::move(E);
  if (N.Results.size() != 1)
    return nodeError(N, "training-mode outputs (running mean and variance) are "
                        "not supported");
  const Value *X = N.Operands[0];
  ScalarType T = elemOf(X);
  DataType DT(T);
  const std::vector<int64_t> &In = X->Type.Shape;
  if (In.size() < 2)
    return nodeError(N, "expected an input of rank >= 2, got " + X->Type.str());
  for (unsigned I = 1; I < 5; ++I)
    if (N.Operands[I]->Type.Shape != std::vector<int64_t>{In[1]})
      return nodeError(N, "operand " + llvm::Twine(I) + " has type " +
                              N.Operands[I]->Type.str() + ", expected [" +
                              llvm::Twine(In[1]) + "]");
  Expr Eps = constant(DT, N.getFloat("epsilon", 1e-5f));
  declareOperands(
      B, {X, N.Operands[1], N.Operands[2], N.Operands[3], N.Operands[4]});
  std::vector<int64_t> Spatial(In.begin() + 2, In.end());

  return loopBlock(
      B, {In[0], In[1]}, "i", [&](const std::vector<Expr> &NC, Expr) {
        auto Param = [&](unsigned I) {
          return cast(DT, B.loadAt(N.Operands[I], {NC[1]}));
        };
        std::string Scale = B.freshName("scale"), Shift = B.freshName("shift"),
                    Mean = B.freshName("mean");
        Stmt Inner =
            loopBlock(B, Spatial, "j", [&](const std::vector<Expr> &S, Expr) {
              std::vector<Expr> Idx = NC;
              Idx.insert(Idx.end(), S.begin(), S.end());
              Expr XV = B.loadAt(X, Idx);
              return B.storeResult(Idx, (XV - var(Mean, DT)) * var(Scale, DT) +
                                            var(Shift, DT));
            });
        // Sequenced, so that the parameters come in operand order.
        Expr ScaleP = Param(1), ShiftP = Param(2), MeanP = Param(3),
             VarP = Param(4);
        Expr ScaleV = ScaleP / call("sqrt", DT, {VarP + Eps});
        return letStmt(Scale, ScaleV,
                       letStmt(Mean, MeanP, letStmt(Shift, ShiftP, Inner)));
      });
}
