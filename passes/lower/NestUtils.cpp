//===- NestUtils.cpp - Pieces shared by the reducing lowerings ------------===//
//
// See NestUtils.h. The window arithmetic works on clamped numerators only
// (ceilDivPos of values >= 0), because the loop IR's integer division
// truncates toward zero and would round negative quotients the wrong way.
//
//===----------------------------------------------------------------------===//

#include "passes/lower/NestUtils.h"
#include <cassert>
#include <cmath>
#include <limits>

using namespace tidal;
using namespace tidal::lower;
using namespace tidal::lower::nest;

const ElemType nest::FloatElems[2] = {ElemType::F32, ElemType::F64};

ScalarType nest::elemOf(const Value *V) { return scalarTypeOf(V->Type.Elem); }

static llvm::Error unsupported(const Node &N, const llvm::Twine &What) {
  return nodeError(N, What + " is not supported");
}

llvm::Error nest::checkElem(const Node &N, const Value *V,
                            llvm::ArrayRef<ElemType> Allowed) {
  if (!llvm::is_contained(Allowed, V->Type.Elem))
    return unsupported(N, "element type " + elemTypeName(V->Type.Elem));
  if (V->Type.Quant)
    return unsupported(N, "quantized operand %" + V->Name);
  return llvm::Error::success();
}

llvm::Error nest::checkAllElems(const Node &N, llvm::ArrayRef<ElemType> Allowed,
                                bool KeepsQuant) {
  const std::optional<Quantization> &Quant = N.result()->Type.Quant;
  bool SharedQuant = KeepsQuant && Quant && Quant->Axis < 0;
  for (const Value *V : N.Operands)
    SharedQuant &= !V || V->Type.Quant == Quant;
  std::vector<const Value *> All(N.Operands.begin(), N.Operands.end());
  for (const auto &R : N.Results)
    All.push_back(R.get());
  for (const Value *V : All) {
    if (!V)
      continue;
    if (!SharedQuant) {
      if (llvm::Error E = checkElem(N, V, Allowed))
        return E;
    } else if (!llvm::is_contained(Allowed, V->Type.Elem)) {
      return unsupported(N, "element type " + elemTypeName(V->Type.Elem));
    }
  }
  return llvm::Error::success();
}

void nest::declareOperands(KernelBuilder &B,
                           std::initializer_list<const Value *> Values) {
  for (const Value *V : Values)
    if (V)
      B.buffer(V);
}

LocalBuf nest::newBuf(KernelBuilder &B, llvm::StringRef Hint, ScalarType Elem) {
  return LocalBuf{B.freshName(Hint), Elem};
}

int64_t nest::product(llvm::ArrayRef<int64_t> Shape) {
  int64_t P = 1;
  for (int64_t D : Shape)
    P *= D;
  return P;
}

Expr nest::flatIndex(llvm::ArrayRef<int64_t> Shape,
                     const std::vector<Expr> &Idx) {
  assert(Shape.size() == Idx.size() && "index rank differs from shape rank");
  Expr Flat = intImm(0);
  for (size_t I = 0; I < Shape.size(); ++I)
    Flat = add(affine(Flat, Shape[I], 0), Idx[I]);
  return Flat;
}

AxisSplit nest::splitAround(const std::vector<int64_t> &Shape, int64_t Axis) {
  std::vector<bool> Reduced(Shape.size(), false);
  Reduced[Axis] = true;
  return AxisSplit(Shape, Reduced, Axis + 1);
}

llvm::Expected<int64_t> nest::readAxis(const Node &N, const Value *X,
                                       int64_t Default) {
  int64_t Axis = N.getInt("axis", Default);
  if (Axis < 0 || Axis >= static_cast<int64_t>(X->Type.rank()))
    return nodeError(N, "axis " + llvm::Twine(Axis) + " is out of range for " +
                            X->Type.str());
  return Axis;
}

Expr nest::add(Expr A, Expr B) {
  if (A->Kind == ExprKind::IntImm && B->Kind == ExprKind::IntImm &&
      A->Type == B->Type)
    return intImm(A->IntValue + B->IntValue, A->Type);
  if (A->Kind == ExprKind::IntImm && A->IntValue == 0)
    return B;
  if (B->Kind == ExprKind::IntImm && B->IntValue == 0)
    return A;
  return A + B;
}

static bool isConst(const Expr &E, int64_t V) {
  return E->Kind == ExprKind::IntImm && E->IntValue == V;
}

Stmt nest::loopOver(KernelBuilder &B, llvm::StringRef Hint, Expr Min,
                    Expr Extent, const std::function<Stmt(Expr)> &Body) {
  if (Extent->Kind == ExprKind::IntImm && Extent->IntValue <= 0)
    return seq({});
  if (isConst(Extent, 1))
    return Body(Min);
  std::string Name = B.freshName(Hint);
  return forLoop(Name, Min, Extent, ForKind::Serial, Body(var(Name)));
}

Stmt nest::loopOver(KernelBuilder &B, llvm::StringRef Hint, int64_t Extent,
                    const std::function<Stmt(Expr)> &Body) {
  return loopOver(B, Hint, intImm(0), intImm(Extent), Body);
}

Stmt nest::loopBlock(
    KernelBuilder &B, llvm::ArrayRef<int64_t> Shape, llvm::StringRef Hint,
    const std::function<Stmt(const std::vector<Expr> &, Expr)> &Body) {
  return B.loopNest(Shape.vec(), Hint, [&](const std::vector<Expr> &Idx) {
    return Body(Idx, flatIndex(Shape, Idx));
  });
}

template <typename T> static Expr limit(ScalarType S, bool Highest) {
  return intImm(static_cast<int64_t>(Highest ? std::numeric_limits<T>::max()
                                             : std::numeric_limits<T>::min()),
                DataType(S));
}

static Expr extreme(ScalarType T, bool Highest) {
  switch (T) {
  case ScalarType::F32:
  case ScalarType::F16:
  case ScalarType::F64:
    return floatImm(Highest ? INFINITY : -INFINITY, DataType(T));
  case ScalarType::I64:
    return limit<int64_t>(T, Highest);
  case ScalarType::I32:
    return limit<int32_t>(T, Highest);
  case ScalarType::I16:
    return limit<int16_t>(T, Highest);
  case ScalarType::I8:
    return limit<int8_t>(T, Highest);
  case ScalarType::U8:
    return limit<uint8_t>(T, Highest);
  case ScalarType::U16:
    return limit<uint16_t>(T, Highest);
  case ScalarType::U32:
    return limit<uint32_t>(T, Highest);
  // The bit pattern of the u64 maximum, as IntImm holds 64 bits.
  case ScalarType::U64:
    return intImm(Highest ? -1 : 0, DataType(T));
  case ScalarType::Bool:
    return intImm(Highest ? 1 : 0, DataType(T));
  }
  llvm_unreachable("unknown scalar type");
}

Expr nest::lowestValue(ScalarType T) { return extreme(T, false); }
Expr nest::highestValue(ScalarType T) { return extreme(T, true); }

Expr nest::absValue(Expr X) {
  DataType T = X->Type;
  if (isFloat(T.Scalar))
    return call("abs", T, {X});
  if (!isSigned(T.Scalar))
    return X;
  Expr Zero = intImm(0, T);
  return select(lt(X, Zero), Zero - X, X);
}

int64_t nest::ceilDivPos(int64_t A, int64_t D) {
  assert(A >= 0 && D > 0);
  return (A + D - 1) / D;
}

Expr nest::ceilDivClamped(Expr A, int64_t D) {
  Expr Clamped = max(A, intImm(0));
  return D == 1 ? Clamped : (Clamped + (D - 1)) / D;
}

Expr nest::affine(Expr X, int64_t Scale, int64_t Offset) {
  if (X->Kind == ExprKind::IntImm)
    return intImm(X->IntValue * Scale + Offset, X->Type);
  if (Scale != 1)
    X = X * Scale;
  if (Offset > 0)
    X = X + Offset;
  else if (Offset < 0)
    X = X - (-Offset);
  return X;
}

std::pair<int64_t, int64_t> WindowAxis::kernelRange(int64_t O, int64_t Lo,
                                                    int64_t Hi) const {
  int64_t Base = O * Stride - PadBegin;
  int64_t First = ceilDivPos(std::max<int64_t>(Lo - Base, 0), Dilation);
  int64_t End =
      std::min(Kernel, ceilDivPos(std::max<int64_t>(Hi - Base, 0), Dilation));
  return {First, std::max(First, End)};
}

std::pair<int64_t, int64_t> WindowAxis::outputRange(int64_t K) const {
  int64_t C = K * Dilation - PadBegin;
  int64_t First = ceilDivPos(std::max<int64_t>(-C, 0), Stride);
  int64_t End = std::min(Out, ceilDivPos(std::max<int64_t>(In - C, 0), Stride));
  return {First, std::max(First, End)};
}

static std::vector<int64_t> intsOr(const Node &N, llvm::StringRef Name,
                                   size_t Size, int64_t Default) {
  if (N.hasAttr(Name))
    return N.getInts(Name);
  return std::vector<int64_t>(Size, Default);
}

llvm::Expected<std::vector<WindowAxis>>
nest::readWindow(const Node &N, const Value *X, const Value *Y,
                 const std::vector<int64_t> *KernelShape) {
  auto Fail = [&](const llvm::Twine &Why) { return nodeError(N, Why); };
  const auto &XS = X->Type.Shape, &YS = Y->Type.Shape;
  if (XS.size() < 3 || YS.size() != XS.size())
    return Fail("expected input and result of rank >= 3 (N, C, spatial...), "
                "got " +
                X->Type.str() + " and " + Y->Type.str());
  size_t K = XS.size() - 2;
  std::vector<int64_t> Kernel =
      KernelShape ? *KernelShape : intsOr(N, "kernel_shape", 0, 0);
  if (KernelShape && N.hasAttr("kernel_shape") &&
      N.getInts("kernel_shape") != *KernelShape)
    return Fail("kernel_shape does not match the weights' shape");
  std::vector<int64_t> Strides = intsOr(N, "strides", K, 1);
  std::vector<int64_t> Pads = intsOr(N, "pads", 2 * K, 0);
  std::vector<int64_t> Dil = intsOr(N, "dilations", K, 1);
  if (Kernel.size() != K || Strides.size() != K || Pads.size() != 2 * K ||
      Dil.size() != K)
    return Fail("kernel_shape, strides, pads or dilations do not match the "
                "input's " +
                llvm::Twine(K) + " spatial axes");
  std::vector<WindowAxis> Axes(K);
  for (size_t I = 0; I < K; ++I) {
    WindowAxis &A = Axes[I];
    A = {XS[2 + I], YS[2 + I],   Kernel[I], Strides[I],
         Pads[I],   Pads[K + I], Dil[I]};
    if (A.Kernel < 1 || A.Stride < 1 || A.Dilation < 1 || A.PadBegin < 0 ||
        A.PadEnd < 0)
      return Fail("kernel_shape, strides and dilations must be positive and "
                  "pads non-negative");
  }
  return Axes;
}

Stmt nest::windowRow(KernelBuilder &B, const std::vector<WindowAxis> &Axes,
                     const std::vector<Expr> &OuterOut,
                     const WindowBody &Body) {
  assert(OuterOut.size() + 1 == Axes.size());
  std::vector<Expr> KIdx, InIdx;
  std::function<Stmt(size_t)> Axis = [&](size_t J) -> Stmt {
    const WindowAxis &A = Axes[J];
    if (J + 1 < Axes.size()) {
      // An outer axis: loop over the kernel positions reading inside.
      auto [Min, Extent] = kernelSpan(A, OuterOut[J], 0, A.In);
      Expr Base = affine(OuterOut[J], A.Stride, -A.PadBegin);
      return loopOver(B, "k", Min, Extent, [&](Expr KV) {
        KIdx.push_back(KV);
        InIdx.push_back(add(Base, affine(KV, A.Dilation, 0)));
        Stmt S = Axis(J + 1);
        KIdx.pop_back();
        InIdx.pop_back();
        return S;
      });
    }
    // The last axis: per kernel position, the outputs whose input is inside.
    auto Emit = [&](Expr KV, Expr Min, Expr Extent,
                    const std::function<Expr(Expr)> &In) {
      return loopOver(B, "o", Min, Extent, [&](Expr O) {
        KIdx.push_back(KV);
        InIdx.push_back(In(O));
        Stmt S = Body(KIdx, InIdx, O);
        KIdx.pop_back();
        InIdx.pop_back();
        return S;
      });
    };
    if (A.Kernel <= MaxUnrolledKernel) {
      std::vector<Stmt> Parts;
      for (int64_t KP = 0; KP < A.Kernel; ++KP) {
        auto [First, End] = A.outputRange(KP);
        int64_t C = KP * A.Dilation - A.PadBegin;
        Parts.push_back(Emit(intImm(KP), intImm(First), intImm(End - First),
                             [&](Expr O) { return affine(O, A.Stride, C); }));
      }
      return seq(Parts);
    }
    return loopOver(B, "k", A.Kernel, [&](Expr KV) {
      Expr C = affine(KV, A.Dilation, -A.PadBegin);
      Expr Min = ceilDivClamped(intImm(0) - C, A.Stride);
      Expr End = min(intImm(A.Out), ceilDivClamped(intImm(A.In) - C, A.Stride));
      return Emit(KV, Min, max(End - Min, intImm(0)),
                  [&](Expr O) { return add(affine(O, A.Stride, 0), C); });
    });
  };
  return Axis(0);
}

std::pair<Expr, Expr> nest::kernelSpan(const WindowAxis &A, Expr O, int64_t Lo,
                                       int64_t Hi) {
  if (O->Kind == ExprKind::IntImm) {
    auto [First, End] = A.kernelRange(O->IntValue, Lo, Hi);
    return {intImm(First), intImm(End - First)};
  }
  // Which bounds are the same for every output, and whether some range is
  // empty (then the extent needs clamping at 0).
  auto Bounds = [&](int64_t OV) {
    int64_t Base = OV * A.Stride - A.PadBegin;
    return std::make_pair(
        ceilDivPos(std::max<int64_t>(Lo - Base, 0), A.Dilation),
        std::min(A.Kernel,
                 ceilDivPos(std::max<int64_t>(Hi - Base, 0), A.Dilation)));
  };
  auto [First0, End0] = Bounds(0);
  bool SameFirst = true, SameEnd = true, AnyEmpty = false;
  for (int64_t OV = 0; OV < A.Out; ++OV) {
    auto [First, End] = Bounds(OV);
    SameFirst &= First == First0;
    SameEnd &= End == End0;
    AnyEmpty |= End < First;
  }
  // Lo - (o*Stride - PadBegin), with the constants folded.
  Expr Scaled = affine(O, A.Stride, 0);
  Expr First =
      SameFirst ? intImm(First0)
                : ceilDivClamped(intImm(Lo + A.PadBegin) - Scaled, A.Dilation);
  Expr End =
      SameEnd
          ? intImm(End0)
          : min(intImm(A.Kernel),
                ceilDivClamped(intImm(Hi + A.PadBegin) - Scaled, A.Dilation));
  if (SameFirst && SameEnd)
    return {First, intImm(std::max<int64_t>(End0 - First0, 0))};
  Expr Extent = First->Kind == ExprKind::IntImm && First->IntValue == 0
                    ? End
                    : End - First;
  return {First, AnyEmpty ? max(Extent, intImm(0)) : Extent};
}

Expr nest::windowCount(const WindowAxis &A, Expr O, int64_t Lo, int64_t Hi) {
  return kernelSpan(A, O, Lo, Hi).second;
}

std::vector<Expr> nest::unflatten(Expr X, llvm::ArrayRef<int64_t> Shape) {
  std::vector<Expr> Idx(Shape.size());
  for (size_t D = Shape.size(); D-- > 0;) {
    if (Shape[D] == 1) {
      Idx[D] = intImm(0);
      continue;
    }
    // The outermost axis that is not size 1 takes the whole quotient.
    bool Outermost = true;
    for (size_t E = 0; E < D; ++E)
      Outermost &= Shape[E] == 1;
    if (Outermost) {
      Idx[D] = X;
      continue;
    }
    Idx[D] = X % Shape[D];
    X = X / Shape[D];
  }
  return Idx;
}

Stmt nest::overLanes(KernelBuilder &B, int64_t Lanes,
                     const std::function<Stmt(Expr)> &Body) {
  if (Lanes == 1)
    return Body(intImm(0));
  std::string Name = B.freshName("l");
  return forLoop(Name, intImm(0), intImm(Lanes), ForKind::Vectorized,
                 Body(var(Name)));
}
