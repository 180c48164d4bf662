//===- OpImportersShape.cpp - Shapes and data movement --------------------===//
//
// Reshape, Flatten, Squeeze, Unsqueeze (all become Reshape), Transpose,
// Concat, Slice, Gather, Expand, Tile and Upsample (nearest, integer
// scales) as Reshape -> Expand -> Reshape, Split (one Slice per output) and
// Pad.
//
// Every operand that determines a shape (Reshape's shape, Expand's shape,
// Slice's starts/ends/axes/steps, Pad's pads, Squeeze/Unsqueeze axes, Tile's
// repeats, Split's sizes) must be a constant once the importer has folded
// what it can; a run-time one rejects the node. Operations that change
// nothing (a Reshape to the same shape, an identity Transpose or Slice, a
// Pad by zero) forward their input.
//
// Opset differences: Reshape takes its shape as an attribute before 5 and
// `allowzero` from 14; Squeeze/Unsqueeze take axes as attributes before 13,
// inputs after; Slice takes starts/ends/axes as attributes before 10, and
// steps from 10; Split's sizes are an attribute from 2 to 12, an input from
// 13, and `num_outputs` from 18; Pad takes `paddings` (1) or `pads` (2-10)
// as attributes and as inputs from 11, `axes` from 18 and `wrap` from 19;
// Concat's axis defaults to 1 in opset 1; Upsample takes scales as an
// attribute in 7, an input in 9, and is gone from 10; negative axes are
// accepted everywhere (ONNX added them in 11).
//
//===----------------------------------------------------------------------===//

#include "frontend/ImporterImpl.h"
#include "llvm/ADT/STLExtras.h"
#include <algorithm>
#include <cmath>

using namespace tidal;
using namespace tidal::onnximport;

void onnximport::importReshape(NodeImporter &N) {
  Value *X = N.requiredInput(0);
  if (!X)
    return;
  std::optional<std::vector<int64_t>> Spec;
  if (N.Opset < 5) {
    if (N.requireAttr("shape"))
      Spec = N.attrInts("shape");
  } else {
    Spec = N.constInts(1, "shape");
  }
  bool AllowZero = N.Opset >= 14 && N.attrInt("allowzero", 0) != 0;
  if (!Spec || N.failed())
    return;
  const auto &In = X->Type.Shape;
  std::vector<int64_t> Out(Spec->size());
  std::optional<size_t> Infer;
  int64_t Known = 1;
  for (size_t I = 0; I < Spec->size(); ++I) {
    int64_t D = (*Spec)[I];
    if (D == 0 && !AllowZero) {
      if (I >= In.size())
        return N.fail("shape value 0 at position " + llvm::Twine(I) +
                      " has no input dimension to copy");
      D = In[I];
    }
    if (D == -1) {
      if (Infer)
        return N.fail("shape has more than one -1");
      Infer = I;
      continue;
    }
    if (D < 0)
      return N.fail("shape value " + llvm::Twine(D) + " is invalid");
    Out[I] = D;
    Known *= D;
  }
  int64_t Total = X->Type.numElements();
  if (Infer) {
    if (Known == 0 || Total % Known != 0)
      return N.fail("cannot infer the -1 of shape " + shapeStr(*Spec) +
                    " for input " + X->Type.str());
    Out[*Infer] = Total / Known;
  }
  if (product(Out) != Total)
    return N.fail("cannot reshape " + X->Type.str() + " to " + shapeStr(*Spec));
  N.setOutput(0, N.reshape(X, Out));
}

void onnximport::importFlatten(NodeImporter &N) {
  Value *X = N.requiredInput(0);
  if (!X)
    return;
  int64_t Rank = X->Type.rank();
  int64_t Axis = N.attrInt("axis", 1);
  if (Axis < -Rank || Axis > Rank)
    return N.fail("axis " + llvm::Twine(Axis) + " is out of range for rank " +
                  llvm::Twine(Rank));
  if (Axis < 0)
    Axis += Rank;
  const auto &S = X->Type.Shape;
  N.setOutput(0, N.reshape(X, {product(S, 0, Axis), product(S, Axis)}));
}

namespace {
// Squeeze/Unsqueeze axes: an attribute before opset 13, an input after.
std::optional<std::vector<int64_t>> squeezeAxes(NodeImporter &N) {
  if (N.Opset < 13)
    return N.attrInts("axes");
  if (!N.hasInput(1))
    return std::vector<int64_t>();
  return N.constInts(1, "axes");
}
} // namespace

void onnximport::importSqueeze(NodeImporter &N) {
  Value *X = N.requiredInput(0);
  if (!X)
    return;
  auto Axes = squeezeAxes(N);
  if (!Axes || N.failed())
    return;
  int64_t Rank = X->Type.rank();
  const auto &S = X->Type.Shape;
  std::vector<bool> Drop(Rank, Axes->empty());
  if (Axes->empty())
    for (int64_t I = 0; I < Rank; ++I)
      Drop[I] = S[I] == 1;
  for (int64_t A : *Axes) {
    auto Norm = N.normalizeAxis(A, Rank, "axes value");
    if (!Norm)
      return;
    if (S[*Norm] != 1)
      return N.fail("cannot squeeze axis " + llvm::Twine(A) + " of " +
                    X->Type.str() + ": its size is not 1");
    Drop[*Norm] = true;
  }
  std::vector<int64_t> Out;
  for (int64_t I = 0; I < Rank; ++I)
    if (!Drop[I])
      Out.push_back(S[I]);
  N.setOutput(0, N.reshape(X, Out));
}

void onnximport::importUnsqueeze(NodeImporter &N) {
  Value *X = N.requiredInput(0);
  if (!X)
    return;
  if (N.Opset < 13 && !N.requireAttr("axes"))
    return;
  if (N.Opset >= 13 && !N.hasInput(1))
    return N.fail("the axes input is required");
  auto Axes = squeezeAxes(N);
  if (!Axes || N.failed())
    return;
  int64_t OutRank = X->Type.rank() + Axes->size();
  std::vector<bool> New(OutRank, false);
  for (int64_t A : *Axes) {
    auto Norm = N.normalizeAxis(A, OutRank, "axes value");
    if (!Norm)
      return;
    if (New[*Norm])
      return N.fail("axes contain a duplicate");
    New[*Norm] = true;
  }
  std::vector<int64_t> Out;
  size_t Next = 0;
  for (int64_t I = 0; I < OutRank; ++I)
    Out.push_back(New[I] ? 1 : X->Type.Shape[Next++]);
  N.setOutput(0, N.reshape(X, Out));
}

void onnximport::importTranspose(NodeImporter &N) {
  Value *X = N.requiredInput(0);
  if (!X)
    return;
  int64_t Rank = X->Type.rank();
  std::vector<int64_t> Reverse;
  for (int64_t I = Rank - 1; I >= 0; --I)
    Reverse.push_back(I);
  std::vector<int64_t> Perm = N.attrInts("perm", Reverse);
  std::vector<int64_t> Sorted = Perm;
  std::sort(Sorted.begin(), Sorted.end());
  std::vector<int64_t> Identity(Reverse.rbegin(), Reverse.rend());
  if (Sorted != Identity)
    return N.fail("perm " + shapeStr(Perm) + " is not a permutation of " +
                  llvm::Twine(Rank) + " axes");
  N.setOutput(0, build::transpose(N, X, Perm));
}

void onnximport::importConcat(NodeImporter &N) {
  std::vector<Value *> Ins = N.requiredInputs();
  if (N.failed())
    return;
  if (N.Opset >= 4 && !N.requireAttr("axis"))
    return;
  int64_t Rank = Ins[0]->Type.rank();
  auto Axis = N.normalizeAxis(N.attrInt("axis", 1), Rank);
  if (!Axis)
    return;
  std::vector<int64_t> Out = Ins[0]->Type.Shape;
  Out[*Axis] = 0;
  std::vector<Value *> NonEmpty;
  for (Value *V : Ins) {
    const auto &S = V->Type.Shape;
    bool Fits = V->Type.Elem == Ins[0]->Type.Elem &&
                static_cast<int64_t>(S.size()) == Rank;
    for (int64_t D = 0; Fits && D < Rank; ++D)
      Fits = D == *Axis || S[D] == Out[D];
    if (!Fits)
      return N.fail("inputs " + Ins[0]->Type.str() + " and " + V->Type.str() +
                    " cannot be concatenated on axis " + llvm::Twine(*Axis));
    Out[*Axis] += S[*Axis];
    if (S[*Axis] != 0)
      NonEmpty.push_back(V);
  }
  // Inputs of size 0 along the axis contribute nothing.
  if (NonEmpty.empty())
    NonEmpty.push_back(Ins[0]);
  if (NonEmpty.size() == 1)
    return N.setOutput(0, NonEmpty[0]);
  AttrMap A;
  A["axis"] = *Axis;
  N.setOutput(0, N.emit(OpKind::Concat, NonEmpty, std::move(A),
                        TensorType(Ins[0]->Type.Elem, Out)));
}

//===----------------------------------------------------------------------===//
// Slice and Split
//===----------------------------------------------------------------------===//

namespace {

/// A slice in normalized form: per dimension, clamped start, exclusive end
/// (-1 only with a negative step, meaning "through index 0") and step.
struct SliceSpec {
  std::vector<int64_t> Starts, Ends, Steps, Out;
};

SliceSpec fullSlice(const std::vector<int64_t> &Shape) {
  SliceSpec S;
  S.Starts.assign(Shape.size(), 0);
  S.Ends = Shape;
  S.Steps.assign(Shape.size(), 1);
  S.Out = Shape;
  return S;
}

int64_t sliceLength(int64_t Start, int64_t End, int64_t Step) {
  if (Step > 0)
    return End > Start ? (End - Start + Step - 1) / Step : 0;
  return Start > End ? (Start - End - Step - 1) / -Step : 0;
}

// Clamps one axis of a slice as ONNX does.
void clampAxis(SliceSpec &S, int64_t Axis, int64_t Dim, int64_t Start,
               int64_t End, int64_t Step) {
  if (Start < 0)
    Start += Dim;
  if (End < 0)
    End += Dim;
  if (Step > 0) {
    Start = std::clamp<int64_t>(Start, 0, Dim);
    End = std::clamp<int64_t>(End, 0, Dim);
  } else {
    Start = std::clamp<int64_t>(Start, 0, std::max<int64_t>(Dim - 1, 0));
    End = std::clamp<int64_t>(End, -1, Dim - 1);
  }
  S.Starts[Axis] = Start;
  S.Ends[Axis] = End;
  S.Steps[Axis] = Step;
  S.Out[Axis] = Dim == 0 ? 0 : sliceLength(Start, End, Step);
}

Value *emitSlice(NodeImporter &N, Value *X, const SliceSpec &S) {
  if (S.Out == X->Type.Shape &&
      llvm::all_of(S.Steps, [](int64_t St) { return St == 1; }))
    return X;
  AttrMap A;
  A["starts"] = S.Starts;
  A["ends"] = S.Ends;
  A["steps"] = S.Steps;
  return N.emit(OpKind::Slice, {X}, std::move(A),
                TensorType(X->Type.Elem, S.Out));
}

struct SliceArgs {
  std::vector<int64_t> Starts, Ends, Axes, Steps;
};

// Slice's arguments: attributes before opset 10, constant inputs after.
bool readSliceArgs(NodeImporter &N, int64_t Rank, SliceArgs &A) {
  if (N.Opset < 10) {
    if (!N.requireAttr("starts") || !N.requireAttr("ends"))
      return false;
    A.Starts = N.attrInts("starts");
    A.Ends = N.attrInts("ends");
    A.Axes = N.attrInts("axes");
  } else {
    // All four are read before giving up, so that every run-time one is
    // recorded (compileTimeInputs()); the first problem is the one reported.
    auto S = N.constInts(1, "starts");
    auto E = N.constInts(2, "ends");
    std::optional<std::vector<int64_t>> Ax, St;
    if (N.hasInput(3))
      Ax = N.constInts(3, "axes");
    if (N.hasInput(4))
      St = N.constInts(4, "steps");
    if (!S || !E || (N.hasInput(3) && !Ax) || (N.hasInput(4) && !St))
      return false;
    A.Starts = *S;
    A.Ends = *E;
    if (Ax)
      A.Axes = *Ax;
    if (St)
      A.Steps = *St;
  }
  if (A.Axes.empty() && !(N.Opset >= 10 && N.hasInput(3)))
    for (size_t I = 0; I < A.Starts.size(); ++I)
      A.Axes.push_back(I);
  if (A.Steps.empty())
    A.Steps.assign(A.Starts.size(), 1);
  if (A.Ends.size() != A.Starts.size() || A.Axes.size() != A.Starts.size() ||
      A.Steps.size() != A.Starts.size() ||
      A.Starts.size() > static_cast<size_t>(Rank)) {
    N.fail("starts, ends, axes and steps must have the same length, at most "
           "the rank " +
           llvm::Twine(Rank));
    return false;
  }
  return !N.failed();
}

} // namespace

void onnximport::importSlice(NodeImporter &N) {
  Value *X = N.requiredInput(0);
  if (!X)
    return;
  int64_t Rank = X->Type.rank();
  SliceArgs Args;
  if (!readSliceArgs(N, Rank, Args))
    return;
  SliceSpec S = fullSlice(X->Type.Shape);
  std::vector<bool> Seen(Rank, false);
  for (size_t K = 0; K < Args.Starts.size(); ++K) {
    auto Axis = N.normalizeAxis(Args.Axes[K], Rank, "axes value");
    if (!Axis)
      return;
    if (Seen[*Axis])
      return N.fail("axes contain a duplicate");
    Seen[*Axis] = true;
    if (Args.Steps[K] == 0)
      return N.fail("steps must not be 0");
    clampAxis(S, *Axis, X->Type.Shape[*Axis], Args.Starts[K], Args.Ends[K],
              Args.Steps[K]);
  }
  N.setOutput(0, emitSlice(N, X, S));
}

namespace {
// Split's sizes, from the attribute, the input, num_outputs or evenly.
std::optional<std::vector<int64_t>> splitSizes(NodeImporter &N, int64_t Dim) {
  int64_t Parts = N.numOutputs();
  std::optional<std::vector<int64_t>> Sizes;
  if (N.Opset >= 13 || (N.Opset < 2 && N.hasInput(1))) {
    if (N.hasInput(1))
      Sizes = N.constInts(1, "split");
    else
      Sizes = std::vector<int64_t>();
    if (!Sizes)
      return std::nullopt;
  } else {
    Sizes = N.attrInts("split");
  }
  if (N.Opset >= 18 && N.hasAttr("num_outputs")) {
    if (!Sizes->empty()) {
      N.fail("split and num_outputs must not both be given");
      return std::nullopt;
    }
    Parts = N.attrInt("num_outputs", Parts);
    if (Parts != N.numOutputs() || Parts < 1) {
      N.fail("num_outputs differs from the number of outputs");
      return std::nullopt;
    }
    int64_t Chunk = (Dim + Parts - 1) / Parts;
    for (int64_t I = 0; I < Parts; ++I)
      Sizes->push_back(std::min(Chunk, Dim - I * Chunk));
  } else if (Sizes->empty()) {
    if (Parts < 1 || Dim % Parts != 0) {
      N.fail("dimension " + llvm::Twine(Dim) + " cannot be split evenly into " +
             llvm::Twine(Parts) + " parts");
      return std::nullopt;
    }
    Sizes->assign(Parts, Dim / Parts);
  }
  int64_t Sum = 0;
  for (int64_t S : *Sizes) {
    if (S < 0) {
      N.fail("split sizes must not be negative");
      return std::nullopt;
    }
    Sum += S;
  }
  if (Sum != Dim || static_cast<int64_t>(Sizes->size()) != N.numOutputs()) {
    N.fail("split sizes " + shapeStr(*Sizes) + " do not divide dimension " +
           llvm::Twine(Dim) + " into " + llvm::Twine(N.numOutputs()) +
           " outputs");
    return std::nullopt;
  }
  return Sizes;
}
} // namespace

void onnximport::importSplit(NodeImporter &N) {
  Value *X = N.requiredInput(0);
  if (!X)
    return;
  auto Axis = N.normalizeAxis(N.attrInt("axis", 0), X->Type.rank());
  if (!Axis)
    return;
  auto Sizes = splitSizes(N, X->Type.Shape[*Axis]);
  if (!Sizes || N.failed())
    return;
  int64_t Offset = 0;
  for (size_t I = 0; I < Sizes->size(); ++I) {
    SliceSpec S = fullSlice(X->Type.Shape);
    S.Starts[*Axis] = Offset;
    S.Ends[*Axis] = Offset + (*Sizes)[I];
    S.Out[*Axis] = (*Sizes)[I];
    Offset += (*Sizes)[I];
    if (!N.Proto.output(I).empty())
      N.setOutput(I, emitSlice(N, X, S));
  }
}

//===----------------------------------------------------------------------===//
// Gather, Expand, Tile, Pad
//===----------------------------------------------------------------------===//

void onnximport::importGather(NodeImporter &N) {
  Value *X = N.requiredInput(0), *Idx = N.requiredInput(1);
  if (!X || !Idx)
    return;
  if (Idx->Type.Elem != ElemType::I64 && Idx->Type.Elem != ElemType::I32)
    return N.fail("indices must be int64 or int32");
  auto Axis = N.normalizeAxis(N.attrInt("axis", 0), X->Type.rank());
  if (!Axis)
    return;
  int64_t Dim = X->Type.Shape[*Axis];
  // Constant indices are checked and made non-negative here; run-time ones
  // are the generated code's business.
  if (const Tensor *T = Idx->constantData()) {
    Tensor Fixed(TensorType(ElemType::I64, T->Type.Shape));
    bool Changed = T->Type.Elem != ElemType::I64;
    for (int64_t I = 0, E = T->Type.numElements(); I < E; ++I) {
      int64_t V = T->getInt(I);
      if (V < -Dim || V >= Dim)
        return N.fail("index " + llvm::Twine(V) +
                      " is out of range for axis "
                      "of size " +
                      llvm::Twine(Dim));
      Changed |= V < 0;
      Fixed.data<int64_t>()[I] = V < 0 ? V + Dim : V;
    }
    if (Changed)
      Idx = N.constant(std::move(Fixed));
  }
  const auto &S = X->Type.Shape;
  std::vector<int64_t> Out(S.begin(), S.begin() + *Axis);
  Out.insert(Out.end(), Idx->Type.Shape.begin(), Idx->Type.Shape.end());
  Out.insert(Out.end(), S.begin() + *Axis + 1, S.end());
  AttrMap A;
  A["axis"] = *Axis;
  N.setOutput(0, N.emit(OpKind::Gather, {X, Idx}, std::move(A),
                        TensorType(X->Type.Elem, Out)));
}

void onnximport::importExpand(NodeImporter &N) {
  Value *X = N.requiredInput(0);
  if (!X)
    return;
  auto Shape = N.constInts(1, "shape");
  if (!Shape)
    return;
  auto Out = broadcast(X->Type.Shape, *Shape);
  if (!Out)
    return N.fail(X->Type.str() + " cannot be expanded to " + shapeStr(*Shape));
  if (*Out == X->Type.Shape)
    return N.setOutput(0, X);
  N.setOutput(0,
              N.emit(OpKind::Expand, {X}, {}, TensorType(X->Type.Elem, *Out)));
}

namespace {
/// Tile and Upsample repeat elements with Reshape -> Expand -> Reshape: X
/// reshaped to Split (a 1 beside each axis), expanded to Expanded (the
/// repeat count in the 1's place) and reshaped to Out. X itself when Out is
/// X's shape.
Value *repeatByExpand(NodeImporter &N, Value *X,
                      const std::vector<int64_t> &Split,
                      const std::vector<int64_t> &Expanded,
                      const std::vector<int64_t> &Out) {
  if (Out == X->Type.Shape)
    return X;
  Value *V = N.emit(OpKind::Expand, {N.reshape(X, Split)}, {},
                    TensorType(X->Type.Elem, Expanded));
  return N.reshape(V, Out);
}
} // namespace

void onnximport::importTile(NodeImporter &N) {
  if (N.Opset < 6)
    return N.fail("Tile before opset 6 (tiles and axis inputs) is not "
                  "supported");
  Value *X = N.requiredInput(0);
  if (!X)
    return;
  auto Repeats = N.constInts(1, "repeats");
  if (!Repeats)
    return;
  const auto &S = X->Type.Shape;
  if (Repeats->size() != S.size())
    return N.fail("repeats has " + llvm::Twine(Repeats->size()) +
                  " values for rank " + llvm::Twine(S.size()));
  std::vector<int64_t> Split, Expanded, Out;
  for (size_t I = 0; I < S.size(); ++I) {
    int64_t R = (*Repeats)[I];
    if (R < 0 || R > MaxElements)
      return N.fail("repeats must be between 0 and 2^40");
    Split.insert(Split.end(), {1, S[I]});
    Expanded.insert(Expanded.end(), {R, S[I]});
    Out.push_back(R * S[I]);
  }
  // x[d0,d1] -> [1,d0,1,d1] -> expand [r0,d0,r1,d1] -> [r0*d0, r1*d1].
  N.setOutput(0, repeatByExpand(N, X, Split, Expanded, Out));
}

namespace {
// Pad's pads, one begin and one end per axis, from the attribute or the
// constant input (with optional axes from opset 18).
std::optional<std::vector<int64_t>> padAmounts(NodeImporter &N, int64_t Rank) {
  std::optional<std::vector<int64_t>> Pads;
  if (N.Opset < 11) {
    const char *Name = N.Opset < 2 ? "paddings" : "pads";
    if (!N.requireAttr(Name))
      return std::nullopt;
    Pads = N.attrInts(Name);
  } else {
    Pads = N.constInts(1, "pads");
    if (!Pads && N.Opset >= 18 && N.hasInput(3))
      N.constInts(3, "axes"); // records a run-time axes input too
  }
  if (!Pads)
    return std::nullopt;
  if (N.Opset >= 18 && N.hasInput(3)) {
    auto Axes = N.constInts(3, "axes");
    if (!Axes)
      return std::nullopt;
    if (Pads->size() != 2 * Axes->size()) {
      N.fail("pads must have two values per axis");
      return std::nullopt;
    }
    std::vector<int64_t> Full(2 * Rank, 0);
    for (size_t K = 0; K < Axes->size(); ++K) {
      auto A = N.normalizeAxis((*Axes)[K], Rank, "axes value");
      if (!A)
        return std::nullopt;
      Full[*A] = (*Pads)[K];
      Full[*A + Rank] = (*Pads)[K + Axes->size()];
    }
    return Full;
  }
  if (static_cast<int64_t>(Pads->size()) != 2 * Rank) {
    N.fail("pads has " + llvm::Twine(Pads->size()) + " values for rank " +
           llvm::Twine(Rank));
    return std::nullopt;
  }
  return Pads;
}

std::optional<float> padValue(NodeImporter &N, ElemType E) {
  if (N.Opset < 11)
    return N.attrFloat("value", 0.0f);
  if (!N.hasInput(2))
    return 0.0f;
  Value *V = N.input(2);
  if (V && V->Type.Elem != E) {
    N.fail("constant_value must have the input's type");
    return std::nullopt;
  }
  auto D = N.constScalar(2, "constant_value");
  if (!D)
    return std::nullopt;
  if (!exactAsFloat(*D)) {
    N.fail("constant_value " + std::to_string(*D) +
           " cannot be represented exactly as a float");
    return std::nullopt;
  }
  return static_cast<float>(*D);
}
} // namespace

void onnximport::importPad(NodeImporter &N) {
  Value *X = N.requiredInput(0);
  if (!X)
    return;
  int64_t Rank = X->Type.rank();
  std::string Mode = N.attrString("mode", "constant");
  if (Mode != "constant" && Mode != "reflect" && Mode != "edge" &&
      !(Mode == "wrap" && N.Opset >= 19))
    return N.fail("unknown mode '" + Mode + "'");
  auto Pads = padAmounts(N, Rank);
  if (Pads && llvm::any_of(*Pads, [](int64_t P) {
        return P > MaxElements || P < -MaxElements;
      }))
    return N.fail("pads are too large");
  // Read even when the pads failed, to record a run-time constant_value.
  auto Value_ = padValue(N, X->Type.Elem);
  if (!Pads || !Value_ || N.failed())
    return;
  // Negative pads crop: a Slice first, then padding by the rest.
  SliceSpec Crop = fullSlice(X->Type.Shape);
  std::vector<int64_t> Out = X->Type.Shape;
  for (int64_t D = 0; D < Rank; ++D) {
    int64_t &B = (*Pads)[D], &E = (*Pads)[D + Rank];
    int64_t Dim = X->Type.Shape[D];
    if (B < 0 || E < 0) {
      int64_t Start = std::min(-std::min<int64_t>(B, 0), Dim);
      int64_t End = std::max(Start, Dim + std::min<int64_t>(E, 0));
      Crop.Starts[D] = Start;
      Crop.Ends[D] = End;
      Crop.Out[D] = End - Start;
      B = std::max<int64_t>(B, 0);
      E = std::max<int64_t>(E, 0);
    }
    Out[D] = Crop.Out[D] + B + E;
    if (Mode != "constant" && (B || E) &&
        (Crop.Out[D] == 0 ||
         (Mode == "reflect" && std::max(B, E) >= Crop.Out[D])))
      return N.fail(Mode + " padding of " + llvm::Twine(std::max(B, E)) +
                    " is too large for an axis of size " +
                    llvm::Twine(Crop.Out[D]));
  }
  Value *V = emitSlice(N, X, Crop);
  if (!V || llvm::all_of(*Pads, [](int64_t P) { return P == 0; }))
    return N.setOutput(0, V);
  AttrMap A;
  A["pads"] = *Pads;
  A["mode"] = Mode;
  A["value"] = *Value_;
  N.setOutput(
      0, N.emit(OpKind::Pad, {V}, std::move(A), TensorType(X->Type.Elem, Out)));
}

void onnximport::importUpsample(NodeImporter &N) {
  if (N.Opset >= 10)
    return N.fail("Upsample is deprecated from opset 10 (use Resize)");
  Value *X = N.requiredInput(0);
  if (!X)
    return;
  std::string Mode = N.attrString("mode", "nearest");
  std::vector<double> Scales;
  if (N.Opset < 9) {
    if (!N.requireAttr("scales"))
      return;
    for (float F : N.attrFloats("scales"))
      Scales.push_back(F);
  } else {
    const Tensor *T = N.constInput(1);
    if (!T) {
      N.needConstant(1);
      return N.fail("the scales input must be a constant");
    }
    for (int64_t I = 0, E = T->Type.numElements(); I < E; ++I)
      Scales.push_back(T->getDouble(I));
  }
  if (N.failed())
    return;
  if (Mode != "nearest")
    return N.fail("only mode 'nearest' is supported, not '" + Mode + "'");
  const auto &S = X->Type.Shape;
  if (Scales.size() != S.size())
    return N.fail("scales must have one value per axis");
  // Nearest with integer scales repeats each element: x[d0,d1] ->
  // [d0,1,d1,1] -> expand [d0,s0,d1,s1] -> [d0*s0, d1*s1].
  std::vector<int64_t> Split, Expanded, Out;
  for (size_t I = 0; I < S.size(); ++I) {
    if (!(Scales[I] >= 1 && Scales[I] <= 65536) ||
        Scales[I] != std::floor(Scales[I]))
      return N.fail("only integer scales from 1 to 65536 are supported");
    int64_t K = static_cast<int64_t>(Scales[I]);
    Split.insert(Split.end(), {S[I], 1});
    Expanded.insert(Expanded.end(), {S[I], K});
    Out.push_back(S[I] * K);
  }
  N.setOutput(0, repeatByExpand(N, X, Split, Expanded, Out));
}
