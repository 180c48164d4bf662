//===- LowerConvTranspose.cpp - Transposed convolution --------------------===//
//
// Lowers ConvTranspose (N-d, grouped, strided, dilated, with pads that may be
// negative: the frontend folds output_padding and output_shape into them).
// Input element i along a spatial axis, through kernel position k, lands on
// output o = i*stride + k*dilation - pad_begin. Each output row (all indices
// but the last spatial one) gets a row accumulator:
//
//   for n, g, mo:  (m = g*Mg + mo; input channels c = g*Cg + ic)
//     for o1..o(k-1):  allocate acc[s * ceil(Ok / s)]:  (phase-major, below)
//       for each slot: acc[slot] = bias[m] (or 0)
//       for ic, k1..k(k-1):
//         if every t_j = o_j + pad_j - k_j*d_j is a multiple of s_j with
//            t_j / s_j inside the input (i_j = t_j / s_j):
//           for each kk (unrolled when small), for i in the inputs whose
//             output i*s + kk*d - pad lies in the row:
//               acc[slot(i*s + kk*d - pad)] += x[n, c, i1.., i] * w[c, mo,
//               k1.., kk]
//       for ok: storeResult(acc[slot(ok)])
//
// so no read leaves the input and the innermost loop has no test. The row
// accumulator is phase-major: output o = q*s + p has slot p*ceil(Ok/s) + q,
// so the outputs of one kernel position (which step by s) are contiguous
// slots and the innermost loop reads and writes contiguous elements. W is
// [C, M/group, kernel...] (ONNX's layout: input channels first).
//
//===----------------------------------------------------------------------===//

#include "passes/lower/Lowering.h"
#include "passes/lower/NestUtils.h"

using namespace tidal;
using namespace tidal::lower;
using namespace tidal::lower::nest;

namespace {

/// One spatial axis of a transposed convolution.
struct TAxis {
  int64_t In, Out, Kernel, Stride, PadBegin, Dilation;
};

/// The shapes of a ConvTranspose and its group sizes.
struct TShape {
  int64_t Batch, C, M, Groups, Cg, Mg;
  std::vector<TAxis> Axes;
};

llvm::Expected<TShape> readShape(const Node &N) {
  const Value *X = N.Operands[0], *W = N.Operands[1], *Y = N.result();
  const auto &XS = X->Type.Shape, &WS = W->Type.Shape, &YS = Y->Type.Shape;
  if (XS.size() < 3 || WS.size() != XS.size() || YS.size() != XS.size())
    return nodeError(N, "expected input, weights and result of one rank >= 3");
  size_t K = XS.size() - 2;
  const auto &Strides = N.getInts("strides"), &Pads = N.getInts("pads"),
             &Dil = N.getInts("dilations");
  if (Strides.size() != K || Dil.size() != K || Pads.size() != 2 * K)
    return nodeError(N, "strides, pads or dilations do not fit the input");
  TShape S;
  S.Batch = XS[0];
  S.C = XS[1];
  S.Groups = N.getInt("group");
  S.Mg = WS[1];
  S.M = S.Mg * S.Groups;
  if (S.Groups < 1 || S.C % S.Groups || WS[0] != S.C || YS[0] != S.Batch ||
      YS[1] != S.M)
    return nodeError(N, "input " + X->Type.str() + ", weights " +
                            W->Type.str() + " and result " + Y->Type.str() +
                            " do not fit group " + llvm::Twine(S.Groups));
  S.Cg = S.C / S.Groups;
  for (size_t I = 0; I < K; ++I) {
    TAxis A{XS[2 + I], YS[2 + I], WS[2 + I], Strides[I], Pads[I], Dil[I]};
    if (A.Stride < 1 || A.Dilation < 1 ||
        A.Out != A.Stride * (A.In - 1) + (A.Kernel - 1) * A.Dilation + 1 -
                     A.PadBegin - Pads[K + I])
      return nodeError(N, "the result " + Y->Type.str() +
                              " does not match the window attributes");
    S.Axes.push_back(A);
  }
  return S;
}

/// The values of one (n, group, output channel) of the nest.
struct Ctx {
  KernelBuilder &B;
  const Node &N;
  const TShape &S;
  ScalarType T;
  Expr Batch, Group, OutChanInGroup, OutChan;
};

/// The condition that output O of an outer axis is reached through kernel
/// position K (a multiple of the stride inside the input), and that input
/// index.
std::pair<Expr, Expr> reach(const TAxis &A, Expr O, Expr K) {
  Expr Shifted = affine(O, 1, A.PadBegin);
  Expr Tv = K->Kind == ExprKind::IntImm
                ? affine(O, 1, A.PadBegin - K->IntValue * A.Dilation)
                : Shifted - affine(K, A.Dilation, 0);
  Expr I = A.Stride == 1 ? Tv : Tv / A.Stride;
  Expr Cond = ge(Tv, intImm(0));
  if (A.Stride != 1)
    Cond = logicalAnd(Cond, eq(Tv % A.Stride, intImm(0)));
  Cond = logicalAnd(Cond, lt(I, intImm(A.In)));
  return {Cond, I};
}

/// The row accumulator is phase-major: output o = q*s + p (0 <= p < s)
/// lives in slot p*Q + q, Q = ceil(Out / s), so that the inputs of one
/// kernel position, whose outputs step by s, add into contiguous slots.
int64_t phaseLen(const TAxis &A) { return ceilDivPos(A.Out, A.Stride); }

/// The slot of output O of the last axis.
Expr slotOf(const TAxis &A, Expr O) {
  if (A.Stride == 1)
    return O;
  return add(affine(O % A.Stride, phaseLen(A), 0), O / A.Stride);
}

/// The slot of output i*s + Base minus i, for the kernel position whose
/// outputs start at Base (a constant or an expression).
Expr phaseOffset(const TAxis &A, Expr Base) {
  int64_t S = A.Stride, Q = phaseLen(A);
  if (S == 1)
    return Base;
  if (Base->Kind == ExprKind::IntImm) {
    int64_t P = ((Base->IntValue % S) + S) % S;
    return intImm(P * Q + (Base->IntValue - P) / S);
  }
  Expr P = ((Base % S) + S) % S;
  return add(affine(P, Q, 0), (Base - P) / S);
}

/// The last axis: for kernel position KV, every input i whose output
/// i*s + KV*d - pad lies in [0, Out) adds into the row accumulator.
Stmt lastAxis(const Ctx &Cx, const LocalBuf &Acc, Expr Chan,
              const std::vector<Expr> &OuterIn,
              const std::vector<Expr> &OuterK) {
  KernelBuilder &B = Cx.B;
  const TAxis &A = Cx.S.Axes.back();
  const Value *X = Cx.N.Operands[0], *W = Cx.N.Operands[1];
  auto Update = [&](Expr KV, Expr Base, Expr Lo, Expr Extent) {
    Expr Offset = phaseOffset(A, Base);
    return loopOver(B, "i", Lo, Extent, [&](Expr I) {
      std::vector<Expr> XIdx = {Cx.Batch, Chan},
                        WIdx = {Chan, Cx.OutChanInGroup};
      XIdx.insert(XIdx.end(), OuterIn.begin(), OuterIn.end());
      XIdx.push_back(I);
      WIdx.insert(WIdx.end(), OuterK.begin(), OuterK.end());
      WIdx.push_back(KV);
      Expr Slot = add(Offset, I);
      return Acc.set(Slot,
                     Acc.at(Slot) + B.loadAt(X, XIdx) * B.loadAt(W, WIdx));
    });
  };
  if (A.Kernel <= MaxUnrolledKernel) {
    std::vector<Stmt> Parts;
    for (int64_t KP = 0; KP < A.Kernel; ++KP) {
      int64_t Base = KP * A.Dilation - A.PadBegin;
      int64_t Lo = ceilDivPos(std::max<int64_t>(-Base, 0), A.Stride);
      int64_t Hi = std::min(
          A.In, ceilDivPos(std::max<int64_t>(A.Out - Base, 0), A.Stride));
      if (Hi > Lo)
        Parts.push_back(
            Update(intImm(KP), intImm(Base), intImm(Lo), intImm(Hi - Lo)));
    }
    return seq(Parts);
  }
  return loopOver(B, "k", A.Kernel, [&](Expr KV) {
    Expr Base = affine(KV, A.Dilation, -A.PadBegin);
    Expr Lo = ceilDivClamped(intImm(0) - Base, A.Stride);
    Expr Hi = min(intImm(A.In), ceilDivClamped(intImm(A.Out) - Base, A.Stride));
    return Update(KV, Base, Lo, max(Hi - Lo, intImm(0)));
  });
}

/// The outer spatial axes from J on: kernel loops guarded by reach().
Stmt outerAxes(const Ctx &Cx, const LocalBuf &Acc, Expr Chan,
               const std::vector<Expr> &OuterOut, size_t J,
               std::vector<Expr> &OuterIn, std::vector<Expr> &OuterK) {
  if (J + 1 == Cx.S.Axes.size())
    return lastAxis(Cx, Acc, Chan, OuterIn, OuterK);
  const TAxis &A = Cx.S.Axes[J];
  return loopOver(Cx.B, "k", A.Kernel, [&](Expr KV) {
    auto [Cond, I] = reach(A, OuterOut[J], KV);
    OuterIn.push_back(I);
    OuterK.push_back(KV);
    Stmt Inner = outerAxes(Cx, Acc, Chan, OuterOut, J + 1, OuterIn, OuterK);
    OuterIn.pop_back();
    OuterK.pop_back();
    return ifThen(Cond, Inner);
  });
}

Stmt outputRow(const Ctx &Cx, const std::vector<Expr> &OuterOut) {
  KernelBuilder &B = Cx.B;
  const TAxis &Last = Cx.S.Axes.back();
  int64_t Row = Last.Out, Slots = Last.Stride * phaseLen(Last);
  const Value *Bias = Cx.N.Operands.size() > 2 ? Cx.N.Operands[2] : nullptr;
  LocalBuf Acc = newBuf(B, "acc", Cx.T);
  Stmt Init = loopOver(B, "j", Slots, [&](Expr J) {
    return Acc.set(J, Bias ? B.loadAt(Bias, {Cx.OutChan})
                           : constant(DataType(Cx.T), 0));
  });
  Stmt Update = loopOver(B, "c", Cx.S.Cg, [&](Expr IC) {
    Expr Chan = add(affine(Cx.Group, Cx.S.Cg, 0), IC);
    std::vector<Expr> OuterIn, OuterK;
    return outerAxes(Cx, Acc, Chan, OuterOut, 0, OuterIn, OuterK);
  });
  Stmt Store = loopOver(B, "j", Row, [&](Expr J) {
    std::vector<Expr> Idx = {Cx.Batch, Cx.OutChan};
    Idx.insert(Idx.end(), OuterOut.begin(), OuterOut.end());
    Idx.push_back(J);
    return B.storeResult(Idx, Acc.at(slotOf(Last, J)));
  });
  return allocate(Acc.Name, Cx.T, Slots, seq({Init, Update, Store}));
}

} // namespace

llvm::Expected<Stmt> lower::lowerConvTranspose(const Node &N,
                                               KernelBuilder &B) {
  if (llvm::Error E = checkAllElems(N, FloatElems))
    return std::move(E);
  for (const Value *V : N.Operands)
    if (V->Type.Elem != N.result()->Type.Elem)
      return nodeError(N, "operands and result must share one element type");
  auto S = readShape(N);
  if (!S)
    return S.takeError();
  ScalarType T = elemOf(N.result());
  const Value *Bias = N.Operands.size() > 2 ? N.Operands[2] : nullptr;
  declareOperands(B, {N.Operands[0], N.Operands[1], Bias});
  std::vector<int64_t> OuterShape;
  for (size_t I = 0; I + 1 < S->Axes.size(); ++I)
    OuterShape.push_back(S->Axes[I].Out);
  return loopOver(B, "n", S->Batch, [&](Expr NV) {
    return loopOver(B, "g", S->Groups, [&](Expr G) {
      return loopOver(B, "m", S->Mg, [&](Expr MO) {
        Ctx Cx{B, N, *S, T, NV, G, MO, add(affine(G, S->Mg, 0), MO)};
        return loopBlock(B, OuterShape, "y",
                         [&](const std::vector<Expr> &OO, Expr) {
                           return outputRow(Cx, OO);
                         });
      });
    });
  });
}
