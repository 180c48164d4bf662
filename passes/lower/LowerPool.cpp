//===- LowerPool.cpp - MaxPool and AveragePool ----------------------------===//
//
// Lowers MaxPool and AveragePool over 1 to N spatial axes. Each output row
// (all indices but the last spatial one) gets a row accumulator; the
// window's kernel positions are visited with bounds that keep every read
// inside the input (NestUtils' windowRow), so padding is never read and
// never tested per element:
//
//   for n, c, o1..o(k-1):  allocate acc[Ok]:
//     for ok: acc[ok] = init            (-inf / type minimum, or 0)
//     for k1..k(k-1) in their valid ranges, for each kk (unrolled):
//       for ok in the valid range of kk: acc[ok] = max/+ (acc[ok], x[...])
//     for ok: storeResult(acc[ok])      (AveragePool: / divisor)
//
// Assumes the frontend's normalization: explicit `pads` (begins then
// ends; auto_pad resolved), and the result type already reflecting
// ceil_mode. Windows may then run past the input and its padding; they
// only ever see input elements. AveragePool's divisor counts the window
// positions inside the input when count_include_pad is 0, and inside the
// input plus its explicit pads when it is 1 (positions past the end
// padding, reached only through ceil_mode, never count), as ONNX's
// reference implementation and test_averagepool_2d_ceil* do.
//
//===----------------------------------------------------------------------===//

#include "passes/lower/Lowering.h"
#include "passes/lower/NestUtils.h"

using namespace tidal;
using namespace tidal::lower;
using namespace tidal::lower::nest;

namespace {

/// The divisor of AveragePool at output (Outer..., Last), as T.
Expr avgDivisor(const std::vector<WindowAxis> &Axes,
                const std::vector<Expr> &Outer, Expr Last, bool IncludePad,
                DataType T) {
  int64_t Const = 1;
  Expr Var;
  for (size_t J = 0; J < Axes.size(); ++J) {
    const WindowAxis &A = Axes[J];
    int64_t Lo = IncludePad ? -A.PadBegin : 0;
    int64_t Hi = IncludePad ? A.In + A.PadEnd : A.In;
    Expr C = windowCount(A, J < Outer.size() ? Outer[J] : Last, Lo, Hi);
    if (C->Kind == ExprKind::IntImm)
      Const *= C->IntValue;
    else
      Var = Var ? Var * C : C;
  }
  if (!Var)
    return constant(T, double(Const));
  return cast(T, Const == 1 ? Var : Var * Const);
}

llvm::Expected<Stmt> lowerPool(const Node &N, KernelBuilder &B, bool Avg) {
  static const ElemType MaxElems[] = {ElemType::F32, ElemType::F64,
                                      ElemType::I8, ElemType::U8};
  if (llvm::Error E = Avg ? checkAllElems(N, FloatElems)
                          : checkAllElems(N, MaxElems, /*KeepsQuant=*/true))
    return std::move(E);
  const Value *X = N.Operands[0], *Y = N.result();
  auto Axes = readWindow(N, X, Y);
  if (!Axes)
    return Axes.takeError();
  const std::vector<int64_t> &In = X->Type.Shape, &Out = Y->Type.Shape;
  if (Out[0] != In[0] || Out[1] != In[1])
    return nodeError(N, "result type " + Y->Type.str() +
                            " does not keep the input's N and C of " +
                            X->Type.str());
  ScalarType T = elemOf(X);
  bool IncludePad = N.getInt("count_include_pad", 0) != 0;
  int64_t Row = Out.back();
  std::vector<int64_t> Outer(Out.begin(), Out.end() - 1);
  LocalBuf Acc = newBuf(B, "acc", T);

  return loopBlock(B, Outer, "i", [&](const std::vector<Expr> &O, Expr) {
    std::vector<Expr> OuterOut(O.begin() + 2, O.end());
    Stmt Init = loopOver(B, "j", Row, [&](Expr J) {
      return Acc.set(J, Avg ? constant(DataType(T), 0) : lowestValue(T));
    });
    Stmt Update = windowRow(B, *Axes, OuterOut,
                            [&](const std::vector<Expr> &,
                                const std::vector<Expr> &InIdx, Expr OL) {
                              std::vector<Expr> Idx = {O[0], O[1]};
                              Idx.insert(Idx.end(), InIdx.begin(), InIdx.end());
                              Expr XV = B.loadAt(X, Idx);
                              return Acc.set(OL, Avg ? Acc.at(OL) + XV
                                                     : max(Acc.at(OL), XV));
                            });
    Stmt Store = loopOver(B, "j", Row, [&](Expr J) {
      std::vector<Expr> Idx = O;
      Idx.push_back(J);
      Expr V = Acc.at(J);
      if (Avg)
        V = V / avgDivisor(*Axes, OuterOut, J, IncludePad, DataType(T));
      return B.storeResult(Idx, V);
    });
    return allocate(Acc.Name, T, Row, seq({Init, Update, Store}));
  });
}

} // namespace

llvm::Expected<Stmt> lower::lowerMaxPool(const Node &N, KernelBuilder &B) {
  return lowerPool(N, B, /*Avg=*/false);
}

llvm::Expected<Stmt> lower::lowerAveragePool(const Node &N, KernelBuilder &B) {
  return lowerPool(N, B, /*Avg=*/true);
}
