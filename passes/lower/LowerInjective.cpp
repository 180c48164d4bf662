//===- LowerInjective.cpp - Data-movement operations ----------------------===//
//
// Reshape, Expand, Transpose, Concat, Slice, Gather and Pad. Each loops over
// its result (Concat: over each operand, writing that operand's slab) and
// computes which input element lands at each output index; every element
// goes out through KernelBuilder::storeResult(), so elementwise epilogues
// fuse into data movement too.
//
// Attributes are the normalized ones of Ops.def, with result types checked
// by the verifier. Reads never leave their buffer, whatever the indices:
// Gather clamps out-of-range indices (after wrapping negative ones), and
// constant Pad loads from a clamped index before selecting the pad value.
//
//===----------------------------------------------------------------------===//

#include "passes/lower/Lowering.h"
#include "passes/loop/LoopUtils.h"
#include "llvm/Support/ErrorHandling.h"
#include <cassert>

using namespace tidal;
using namespace tidal::lower;

namespace {

DataType elemType(const Value *V) {
  return DataType(scalarTypeOf(V->Type.Elem));
}

/// Clamps an i64 index expression into [0, Dim - 1].
Expr clampIndex(Expr I, int64_t Dim) {
  return min(max(I, intImm(0)), intImm(Dim - 1));
}

/// A pad value attribute (float, int or scalar tensor) as a constant of T.
Expr padValue(const Node &N, DataType T) {
  auto It = N.Attrs.find("value");
  if (It == N.Attrs.end())
    return constant(T, 0);
  if (T.Scalar == ScalarType::Bool) {
    double V = 0;
    if (auto *I = std::get_if<int64_t>(&It->second))
      V = *I;
    else if (auto *F = std::get_if<float>(&It->second))
      V = *F;
    else if (auto *Ten = std::get_if<Tensor>(&It->second))
      V = Ten->getDouble(0);
    return intImm(V != 0, T);
  }
  if (auto *I = std::get_if<int64_t>(&It->second))
    return isFloat(T.Scalar) ? constant(T, static_cast<double>(*I))
                             : intImm(*I, T);
  if (auto *F = std::get_if<float>(&It->second))
    return constant(T, *F);
  if (auto *Ten = std::get_if<Tensor>(&It->second))
    return isFloat(T.Scalar) ? constant(T, Ten->getDouble(0))
                             : intImm(Ten->getInt(0), T);
  llvm_unreachable("pad value of an unexpected attribute type");
}

} // namespace

llvm::Expected<Stmt> lower::lowerReshape(const Node &N, KernelBuilder &B) {
  const Value *In = N.Operands[0];
  const std::vector<int64_t> &Shape = N.result()->Type.Shape;
  return B.loopNest(Shape, "i", [&](const std::vector<Expr> &Idx) {
    // The operand's buffer has another shape: index it flat.
    Expr V =
        load(B.buffer(In), elemType(In), loop::rowMajorIndex(Shape, Idx));
    return B.storeResult(Idx, V);
  });
}

llvm::Expected<Stmt> lower::lowerExpand(const Node &N, KernelBuilder &B) {
  const Value *In = N.Operands[0];
  if (In->Type.rank() > N.result()->Type.rank())
    return nodeError(N, "the result has a lower rank than the operand");
  return B.loopNest(N.result()->Type.Shape, "i",
                    [&](const std::vector<Expr> &Idx) {
                      return B.storeResult(Idx, B.loadBroadcast(In, Idx));
                    });
}

llvm::Expected<Stmt> lower::lowerTranspose(const Node &N, KernelBuilder &B) {
  const Value *In = N.Operands[0];
  size_t Rank = In->Type.rank();
  std::vector<int64_t> Perm;
  if (N.hasAttr("perm")) {
    Perm = N.getInts("perm");
  } else {
    for (size_t D = Rank; D-- > 0;)
      Perm.push_back(D);
  }
  if (Perm.size() != Rank)
    return nodeError(N, "perm does not have one entry per dimension");
  return B.loopNest(N.result()->Type.Shape, "i",
                    [&](const std::vector<Expr> &Idx) {
                      // Output dimension D reads input dimension Perm[D].
                      std::vector<Expr> InIdx(Rank);
                      for (size_t D = 0; D < Rank; ++D)
                        InIdx[Perm[D]] = Idx[D];
                      return B.storeResult(Idx, B.loadAt(In, InIdx));
                    });
}

llvm::Expected<Stmt> lower::lowerConcat(const Node &N, KernelBuilder &B) {
  int64_t Axis = N.getInt("axis");
  if (Axis < 0 || Axis >= static_cast<int64_t>(N.result()->Type.rank()))
    return nodeError(N, "axis out of range");
  // Parameters: the operands, then the result.
  for (const Value *In : N.Operands)
    if (In->Type.numElements() > 0)
      B.buffer(In);
  std::vector<Stmt> Slabs;
  int64_t Offset = 0;
  for (const Value *In : N.Operands) {
    int64_t Extent = In->Type.Shape[Axis];
    if (Extent == 0)
      continue;
    Slabs.push_back(
        B.loopNest(In->Type.Shape, "i", [&](const std::vector<Expr> &Idx) {
          std::vector<Expr> OutIdx = Idx;
          if (Offset != 0)
            OutIdx[Axis] = Idx[Axis] + Offset;
          return B.storeResult(OutIdx, B.loadAt(In, Idx));
        }));
    Offset += Extent;
  }
  if (Offset != N.result()->Type.Shape[Axis])
    return nodeError(N, "operand extents do not add up to the result's");
  return seq(std::move(Slabs));
}

llvm::Expected<Stmt> lower::lowerSlice(const Node &N, KernelBuilder &B) {
  const Value *In = N.Operands[0];
  const std::vector<int64_t> &InShape = In->Type.Shape;
  const std::vector<int64_t> &OutShape = N.result()->Type.Shape;
  size_t Rank = InShape.size();
  const std::vector<int64_t> &Starts = N.getInts("starts");
  std::vector<int64_t> Steps =
      N.hasAttr("steps") ? N.getInts("steps") : std::vector<int64_t>(Rank, 1);
  if (Starts.size() != Rank || Steps.size() != Rank)
    return nodeError(N, "starts and steps need one entry per dimension");
  std::vector<int64_t> Start(Rank);
  for (size_t D = 0; D < Rank; ++D) {
    int64_t Dim = InShape[D], S = Starts[D], Step = Steps[D];
    if (Step == 0)
      return nodeError(N, "a step is 0");
    // ONNX's clamping, a no-op on already normalized starts.
    if (S < 0)
      S += Dim;
    S = std::max<int64_t>(0, std::min(S, Step > 0 ? Dim : Dim - 1));
    int64_t Last = S + (OutShape[D] - 1) * Step;
    if (OutShape[D] > 0 && (S >= Dim || Last < 0 || Last >= Dim))
      return nodeError(N, "the slice reads outside its operand in dimension " +
                              llvm::Twine(D));
    Start[D] = S;
  }
  return B.loopNest(OutShape, "i", [&](const std::vector<Expr> &Idx) {
    std::vector<Expr> InIdx(Rank);
    for (size_t D = 0; D < Rank; ++D) {
      if (Steps[D] == -1) {
        InIdx[D] = intImm(Start[D]) - Idx[D];
        continue;
      }
      Expr I = Steps[D] == 1 ? Idx[D] : Idx[D] * Steps[D];
      InIdx[D] = Start[D] == 0 ? I : I + Start[D];
    }
    return B.storeResult(Idx, B.loadAt(In, InIdx));
  });
}

llvm::Expected<Stmt> lower::lowerGather(const Node &N, KernelBuilder &B) {
  const Value *Data = N.Operands[0], *Indices = N.Operands[1];
  int64_t Axis = N.getInt("axis", 0);
  size_t Q = Indices->Type.rank();
  if (Axis < 0 || Axis >= static_cast<int64_t>(Data->Type.rank()))
    return nodeError(N, "axis out of range");
  ElemType IE = Indices->Type.Elem;
  if (IE != ElemType::I64 && IE != ElemType::I32)
    return nodeError(N, "indices of element type " + elemTypeName(IE) +
                            " are not supported (i64 or i32 needed)");
  B.buffer(Data);
  B.buffer(Indices);
  int64_t Dim = Data->Type.Shape[Axis];
  if (Dim == 0 && N.result()->Type.numElements() > 0)
    return nodeError(N, "gathers from an empty axis");
  return B.loopNest(
      N.result()->Type.Shape, "i", [&](const std::vector<Expr> &Idx) {
        std::vector<Expr> IndIdx(Idx.begin() + Axis, Idx.begin() + Axis + Q);
        std::string Name = B.freshName("idx");
        Expr I = var(Name);
        // Negative indices count from the end; anything still
        // out of range is clamped to stay inside the buffer.
        Expr At = clampIndex(select(lt(I, intImm(0)), I + Dim, I), Dim);
        std::vector<Expr> DataIdx(Idx.begin(), Idx.begin() + Axis);
        DataIdx.push_back(At);
        DataIdx.insert(DataIdx.end(), Idx.begin() + Axis + Q, Idx.end());
        Stmt S = B.storeResult(Idx, B.loadAt(Data, DataIdx));
        return letStmt(
            Name, cast(DataType(ScalarType::I64), B.loadAt(Indices, IndIdx)),
            S);
      });
}

namespace {

/// One dimension of a Pad. The crop of negative pads applies first, then
/// the positive pads (as the ONNX reference does): Kept elements of the
/// operand survive, from CropBegin on.
struct PadDim {
  int64_t CropBegin, PadBegin, PadEnd, Kept;
};

/// The operand index that output index O of one dimension reads; always
/// inside the operand (for constant mode, the padding reads a clamped
/// index and the caller selects the pad value).
Expr padSourceIndex(const PadDim &P, Expr O, llvm::StringRef Mode) {
  Expr J = P.PadBegin ? O - P.PadBegin : O; // index into the cropped range
  int64_t K = P.Kept;
  if (P.PadBegin == 0 && P.PadEnd == 0) {
    // Not padded: J is always inside.
  } else if (Mode == "reflect" && K > 1) {
    int64_t Period = 2 * (K - 1);
    J = ((J % Period) + Period) % Period;
    J = select(ge(J, intImm(K)), intImm(Period) - J, J);
  } else if (Mode == "wrap") {
    J = ((J % K) + K) % K;
  } else {
    // Edge, reflect of one element, and the load of constant mode.
    if (P.PadBegin)
      J = max(J, intImm(0));
    if (P.PadEnd)
      J = min(J, intImm(K - 1));
  }
  return P.CropBegin ? J + P.CropBegin : J;
}

/// For constant mode: whether output index O of one dimension is inside
/// the operand (null when it always is).
Expr padInside(const PadDim &P, Expr O) {
  Expr J = P.PadBegin ? O - P.PadBegin : O;
  Expr Inside;
  if (P.PadBegin)
    Inside = ge(J, intImm(0));
  if (P.PadEnd) {
    Expr Below = lt(J, intImm(P.Kept));
    Inside = Inside ? logicalAnd(Inside, Below) : Below;
  }
  return Inside;
}

} // namespace

llvm::Expected<Stmt> lower::lowerPad(const Node &N, KernelBuilder &B) {
  const Value *In = N.Operands[0];
  const std::vector<int64_t> &InShape = In->Type.Shape;
  size_t Rank = InShape.size();
  const std::vector<int64_t> &Pads = N.getInts("pads");
  std::string Mode = N.hasAttr("mode") ? N.getString("mode") : "constant";
  if (Pads.size() != 2 * Rank)
    return nodeError(N, "pads need two entries per dimension");
  if (Mode != "constant" && Mode != "reflect" && Mode != "edge" &&
      Mode != "wrap")
    return nodeError(N, "mode '" + Mode + "' is not supported");
  if (Mode == "constant" && In->Type.Quant)
    return nodeError(N, "constant padding of a quantized tensor is not "
                        "supported");
  std::vector<PadDim> Dims;
  bool AnyKeptEmpty = false;
  for (size_t D = 0; D < Rank; ++D) {
    int64_t Begin = Pads[D], End = Pads[Rank + D];
    int64_t CropBegin = std::max<int64_t>(-Begin, 0);
    int64_t CropEnd = std::max<int64_t>(-End, 0);
    PadDim P{CropBegin, std::max<int64_t>(Begin, 0), std::max<int64_t>(End, 0),
             InShape[D] - CropBegin - CropEnd};
    if (P.Kept < 0 && Mode != "constant")
      return nodeError(N, "mode '" + Mode +
                              "' cannot pad an axis cropped "
                              "away entirely");
    if (P.Kept <= 0 && Mode != "constant" && (Begin > 0 || End > 0))
      return nodeError(N, "mode '" + Mode + "' cannot pad an empty axis");
    AnyKeptEmpty |= P.Kept <= 0;
    Dims.push_back(P);
  }
  DataType T = elemType(In);
  Expr Value = padValue(N, T);
  return B.loopNest(N.result()->Type.Shape, "i",
                    [&](const std::vector<Expr> &Idx) {
                      // Nothing of the operand survives: all padding.
                      if (AnyKeptEmpty)
                        return B.storeResult(Idx, Value);
                      std::vector<Expr> InIdx;
                      Expr Inside;
                      for (size_t D = 0; D < Rank; ++D) {
                        const PadDim &P = Dims[D];
                        InIdx.push_back(padSourceIndex(P, Idx[D], Mode));
                        Expr InDim = padInside(P, Idx[D]);
                        if (Mode == "constant" && InDim)
                          Inside = Inside ? logicalAnd(Inside, InDim) : InDim;
                      }
                      Expr V = B.loadAt(In, InIdx);
                      if (Inside)
                        V = select(Inside, V, Value);
                      return B.storeResult(Idx, V);
                    });
}
