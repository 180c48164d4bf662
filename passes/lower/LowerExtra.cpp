//===- LowerExtra.cpp - ArgMax, ArgMin, CumSum, GatherElements ------------===//
//
// Lowers the operations that run along one axis of their input: ArgMax and
// ArgMin (the index of the first or last extreme), CumSum and CumProd
// (running sums and products),
// and GatherElements (an element per index, along one axis). ConvTranspose
// lives in LowerConvTranspose.cpp.
//
// The axis-wise nests split the input's axes into the outer axes (before
// `axis`, looped one index at a time), the axis itself, and the block (the
// axes after it), which is handled at once in local accumulators so that
// the innermost loops run over contiguous elements; a block larger than
// nest::MaxAccElems joins the outer loops instead:
//
//   for outer...:  allocate acc[block]:
//     for b: acc[b] = init
//     for r along the axis: for b: acc[b] = update(acc[b], x[outer, r, b])
//     for b: storeResult(...)            (CumSum stores inside the r loop)
//
// ArgMax / ArgMin follow numpy (ONNX's reference): a NaN counts as the
// extreme, so the first NaN wins (the last one with select_last_index).
// GatherElements wraps negative indices and clamps out-of-range ones (ONNX
// leaves them undefined) so that no read leaves the data buffer.
//
//===----------------------------------------------------------------------===//

#include "passes/lower/Lowering.h"
#include "passes/lower/NestUtils.h"

using namespace tidal;
using namespace tidal::lower;
using namespace tidal::lower::nest;

namespace {

const ElemType NumericElems[] = {ElemType::F32, ElemType::F64, ElemType::F16,
                                 ElemType::I8,  ElemType::U8,  ElemType::I16,
                                 ElemType::U16, ElemType::I32, ElemType::U32,
                                 ElemType::I64, ElemType::U64};

/// Whether V replaces the current extreme Best (at an earlier index).
Expr replacesBest(Expr V, Expr Best, bool Max, bool Last) {
  auto Beats = [&](Expr A, Expr B) {
    return Last ? (Max ? ge(A, B) : le(A, B)) : (Max ? gt(A, B) : lt(A, B));
  };
  if (!isFloat(V->Type.Scalar))
    return Beats(V, Best);
  Expr VNaN = ne(V, V), BestNaN = ne(Best, Best);
  // First index: a NaN best stays; a NaN value wins over a number.
  if (!Last)
    return logicalAnd(logicalNot(BestNaN), logicalOr(VNaN, Beats(V, Best)));
  // Last index: every NaN wins; a number beats only a number.
  return logicalOr(VNaN, logicalAnd(logicalNot(BestNaN), Beats(V, Best)));
}

llvm::Expected<Stmt> lowerArg(const Node &N, KernelBuilder &B, bool Max) {
  const Value *X = N.Operands[0], *Y = N.result();
  if (llvm::Error E = checkElem(N, X, NumericElems))
    return std::move(E);
  auto Axis = readAxis(N, X, 0);
  if (!Axis)
    return Axis.takeError();
  bool Keep = N.getInt("keepdims", 1) != 0;
  bool Last = N.getInt("select_last_index", 0) != 0;
  const std::vector<int64_t> &In = X->Type.Shape;
  if (Y->Type.Elem != ElemType::I64 || In[*Axis] == 0 ||
      Y->Type.rank() != (Keep ? In.size() : In.size() - 1))
    return nodeError(N, "result " + Y->Type.str() + " does not fit input " +
                            X->Type.str());
  ScalarType T = elemOf(X);
  AxisSplit Split = splitAround(In, *Axis);
  std::vector<int64_t> Outer = Split.outerShape(), Block = Split.blockShape();
  int64_t Size = product(Block);
  LocalBuf Best = newBuf(B, "best", T),
           Index = newBuf(B, "index", ScalarType::I64);
  B.buffer(X);
  return loopBlock(B, Outer, "i", [&](const std::vector<Expr> &O, Expr) {
    auto OverBlock =
        [&](const std::function<Stmt(const std::vector<Expr> &, Expr)> &F) {
          return loopBlock(B, Block, "j", F);
        };
    Stmt Init = OverBlock([&](const std::vector<Expr> &Blk, Expr F) {
      return seq(
          {Best.set(F, B.loadAt(X, Split.inputIndex(O, {intImm(0)}, Blk))),
           Index.set(F, intImm(0))});
    });
    Stmt Scan =
        loopOver(B, "r", intImm(1), intImm(In[*Axis] - 1), [&](Expr R) {
          return OverBlock([&](const std::vector<Expr> &Blk, Expr F) {
            std::string VName = B.freshName("v"), UName = B.freshName("upd");
            Expr V = var(VName, DataType(T));
            Expr Upd = var(UName, DataType(ScalarType::Bool));
            Stmt Body = seq({Best.set(F, select(Upd, V, Best.at(F))),
                             Index.set(F, select(Upd, R, Index.at(F)))});
            Body = letStmt(UName, replacesBest(V, Best.at(F), Max, Last), Body);
            return letStmt(VName, B.loadAt(X, Split.inputIndex(O, {R}, Blk)),
                           Body);
          });
        });
    Stmt Store = OverBlock([&](const std::vector<Expr> &Blk, Expr F) {
      std::vector<Expr> Idx = Split.inputIndex(O, {intImm(0)}, Blk);
      if (!Keep)
        Idx.erase(Idx.begin() + *Axis);
      return B.storeResult(Idx, Index.at(F));
    });
    return allocate(
        Best.Name, T, Size,
        allocate(Index.Name, ScalarType::I64, Size, seq({Init, Scan, Store})));
  });
}

} // namespace

llvm::Expected<Stmt> lower::lowerArgMax(const Node &N, KernelBuilder &B) {
  return lowerArg(N, B, /*Max=*/true);
}

llvm::Expected<Stmt> lower::lowerArgMin(const Node &N, KernelBuilder &B) {
  return lowerArg(N, B, /*Max=*/false);
}

namespace {
/// CumSum / CumProd: a running sum (product) along the axis, visited
/// backwards with `reverse`; `exclusive` stores before combining the
/// element.
llvm::Expected<Stmt> lowerCumulative(const Node &N, KernelBuilder &B,
                                     bool Product) {
  const Value *X = N.Operands[0];
  if (llvm::Error E = checkAllElems(N, NumericElems))
    return std::move(E);
  auto Axis = readAxis(N, X, 0);
  if (!Axis)
    return Axis.takeError();
  if (N.result()->Type != X->Type)
    return nodeError(N, "result " + N.result()->Type.str() + " differs from " +
                            X->Type.str());
  bool Exclusive = N.getInt("exclusive", 0) != 0;
  bool Reverse = N.getInt("reverse", 0) != 0;
  ScalarType T = elemOf(X);
  AxisSplit Split = splitAround(X->Type.Shape, *Axis);
  std::vector<int64_t> Outer = Split.outerShape(), Block = Split.blockShape();
  int64_t Extent = X->Type.Shape[*Axis];
  LocalBuf Acc = newBuf(B, "acc", T);
  B.buffer(X);
  return loopBlock(B, Outer, "i", [&](const std::vector<Expr> &O, Expr) {
    Stmt Init =
        loopBlock(B, Block, "j", [&](const std::vector<Expr> &, Expr F) {
          return Acc.set(F, constant(DataType(T), Product ? 1 : 0));
        });
    Stmt Scan = loopOver(B, "r", Extent, [&](Expr R) {
      Expr At = Reverse ? intImm(Extent - 1) - R : R;
      return loopBlock(
          B, Block, "j", [&](const std::vector<Expr> &Blk, Expr F) {
            std::vector<Expr> Idx = Split.inputIndex(O, {At}, Blk);
            Expr XV = B.loadAt(X, Idx);
            Stmt Add = Acc.set(F, Product ? Acc.at(F) * XV : Acc.at(F) + XV);
            Stmt Out = B.storeResult(Idx, Acc.at(F));
            return Exclusive ? seq({Out, Add}) : seq({Add, Out});
          });
    });
    return allocate(Acc.Name, T, product(Block), seq({Init, Scan}));
  });
}
} // namespace

llvm::Expected<Stmt> lower::lowerCumSum(const Node &N, KernelBuilder &B) {
  return lowerCumulative(N, B, /*Product=*/false);
}

llvm::Expected<Stmt> lower::lowerCumProd(const Node &N, KernelBuilder &B) {
  return lowerCumulative(N, B, /*Product=*/true);
}

/// GatherElements: out[i] = data[i with i[axis] replaced by indices[i]].
llvm::Expected<Stmt> lower::lowerGatherElements(const Node &N,
                                                KernelBuilder &B) {
  const Value *Data = N.Operands[0], *Indices = N.Operands[1];
  auto Axis = readAxis(N, Data, 0);
  if (!Axis)
    return Axis.takeError();
  ElemType IE = Indices->Type.Elem;
  if (IE != ElemType::I64 && IE != ElemType::I32)
    return nodeError(N, "indices of element type " + elemTypeName(IE) +
                            " are not supported (i64 or i32 needed)");
  if (Data->Type.Elem == ElemType::Bit || Data->Type.Quant)
    return nodeError(N, "data " + Data->Type.str() + " is not supported");
  int64_t Dim = Data->Type.Shape[*Axis];
  if (Dim == 0 && N.result()->Type.numElements() > 0)
    return nodeError(N, "gathers from an empty axis");
  declareOperands(B, {Data, Indices});
  return B.loopNest(
      N.result()->Type.Shape, "i", [&](const std::vector<Expr> &Idx) {
        std::string Name = B.freshName("idx");
        Expr I = var(Name);
        // Negative indices count from the end; anything still out of
        // range is clamped to stay inside the buffer.
        Expr At = min(max(select(lt(I, intImm(0)), I + Dim, I), intImm(0)),
                      intImm(Dim - 1));
        std::vector<Expr> DataIdx = Idx;
        DataIdx[*Axis] = At;
        Stmt S = B.storeResult(Idx, B.loadAt(Data, DataIdx));
        return letStmt(
            Name, cast(DataType(ScalarType::I64), B.loadAt(Indices, Idx)), S);
      });
}
