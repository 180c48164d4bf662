//===- OpImportersConvTranspose.cpp - ConvTranspose -----------------------===//
//
// ConvTranspose becomes the graph operation of the same name with explicit
// strides, dilations, group and pads (begins then ends). ONNX's other ways
// of sizing the output are folded into the pads:
//   - output_padding adds elements at the end of each axis: it is
//     subtracted from the end pad (which may then be negative: output
//     elements that no input reaches hold only the bias);
//   - auto_pad SAME_UPPER / SAME_LOWER make the output in * stride (or
//     output_shape when given) and split the total padding
//       total = stride * (in - 1) + output_padding + (k - 1) * dilation + 1
//               - out
//     as the operator's definition says: SAME_UPPER puts floor(total / 2)
//     at the begin, SAME_LOWER at the end. VALID means no padding;
//   - output_shape without SAME: ONNX's definition puts
//     total - floor(total / 2) at the begin, but its reference
//     implementation and ONNX Runtime place it otherwise, so only the totals
//     on which they all agree (0 and -1: nothing, or one more element at the
//     end) are accepted; others are rejected rather than guessed.
// A negative total with SAME is rejected for the same reason.
//
// Opset differences: none in semantics (11 and 22 only clarified the text
// and added types).
//
//===----------------------------------------------------------------------===//

#include "frontend/OpImportersExtra.h"

using namespace tidal;
using namespace tidal::onnximport;

namespace {

/// The window of a ConvTranspose: normalized pads and the output sizes.
struct TWindow {
  std::vector<int64_t> Strides, Dilations, Pads, Out;
};

bool checkOperands(NodeImporter &N, Value *X, Value *W, Value *B) {
  const auto &SX = X->Type.Shape, &SW = W->Type.Shape;
  if (SX.size() < 3 || SW.size() != SX.size()) {
    N.fail("input " + X->Type.str() + " and weights " + W->Type.str() +
           " must have the same rank, at least 3");
    return false;
  }
  ElemType E = X->Type.Elem;
  if (!isFloat(E) || W->Type.Elem != E || (B && B->Type.Elem != E)) {
    N.fail("input, weights and bias must have the same float type");
    return false;
  }
  int64_t Group = N.attrInt("group", 1);
  if (Group < 1 || SW[0] != SX[1] || SX[1] % Group != 0) {
    N.fail("weights " + W->Type.str() + " do not fit input " + X->Type.str() +
           " with group " + llvm::Twine(Group) +
           " (W is [C, M/group, kernel...])");
    return false;
  }
  if (B && B->Type.Shape != std::vector<int64_t>{SW[1] * Group}) {
    N.fail("bias " + B->Type.str() + " must have shape [" +
           llvm::Twine(SW[1] * Group) + "]");
    return false;
  }
  std::vector<int64_t> Kernel(SW.begin() + 2, SW.end());
  if (N.hasAttr("kernel_shape") && N.attrInts("kernel_shape") != Kernel) {
    N.fail("kernel_shape does not match the weights " + W->Type.str());
    return false;
  }
  return !N.failed();
}

/// The total padding's split for SAME_UPPER / SAME_LOWER (Python's floor
/// division, as ONNX's definition), or for output_shape.
bool splitTotal(NodeImporter &N, const std::string &AutoPad, int64_t Total,
                int64_t &Begin, int64_t &End) {
  bool Same = AutoPad == "SAME_UPPER" || AutoPad == "SAME_LOWER";
  if (Same && Total < 0) {
    N.fail("auto_pad " + AutoPad + " needs negative padding (" +
           llvm::Twine(Total) +
           "), which ONNX's implementations place differently");
    return false;
  }
  if (!Same && Total != 0 && Total != -1) {
    N.fail("output_shape needs a total padding of " + llvm::Twine(Total) +
           " on an axis; ONNX's definition, reference and ONNX Runtime "
           "place such padding differently, so only 0 and -1 are supported");
    return false;
  }
  int64_t Half = Total >= 0 ? Total / 2 : -((-Total + 1) / 2); // floor
  if (AutoPad == "SAME_UPPER") {
    Begin = Half;
    End = Total - Half;
  } else {
    Begin = Total - Half;
    End = Half;
  }
  return true;
}

bool resolveWindow(NodeImporter &N, const std::vector<int64_t> &In,
                   const std::vector<int64_t> &Kernel, TWindow &W) {
  size_t R = In.size();
  W.Strides = windowList(N, "strides", R, 1, 1);
  W.Dilations = windowList(N, "dilations", R, 1, 1);
  std::vector<int64_t> OutPad = windowList(N, "output_padding", R, 0, 0);
  std::string AutoPad = autoPadAttr(N);
  bool HasShape = N.hasAttr("output_shape");
  std::vector<int64_t> Shape = N.attrInts("output_shape");
  if (HasShape && Shape.size() != R)
    N.fail("output_shape must have one value per spatial axis (" +
           llvm::Twine(R) + "), not " + llvm::Twine(Shape.size()));
  bool Same = AutoPad == "SAME_UPPER" || AutoPad == "SAME_LOWER";
  W.Pads = AutoPad == "NOTSET" && !HasShape ? windowList(N, "pads", 2 * R, 0, 0)
                                            : std::vector<int64_t>(2 * R, 0);
  if (N.failed())
    return false;
  W.Out.assign(R, 0);
  for (size_t I = 0; I < R; ++I) {
    int64_t S = W.Strides[I];
    if (OutPad[I] >= S && OutPad[I] >= W.Dilations[I]) {
      N.fail("output_padding " + llvm::Twine(OutPad[I]) +
             " must be less than the stride or the dilation");
      return false;
    }
    int64_t Natural =
        S * (In[I] - 1) + OutPad[I] + (Kernel[I] - 1) * W.Dilations[I] + 1;
    if (HasShape || Same) {
      int64_t Want = HasShape ? Shape[I] : In[I] * S;
      if (!splitTotal(N, AutoPad, Natural - Want, W.Pads[I], W.Pads[I + R]))
        return false;
    }
    // output_padding: more elements at the end.
    W.Pads[I + R] -= OutPad[I];
    W.Out[I] = Natural - OutPad[I] - W.Pads[I] - W.Pads[I + R];
    if (W.Out[I] < 1 || In[I] < 1) {
      N.fail("spatial axis " + llvm::Twine(I) + " gives no output");
      return false;
    }
  }
  return true;
}

} // namespace

void onnximport::importConvTranspose(NodeImporter &N) {
  Value *X = N.requiredInput(0), *W = N.requiredInput(1), *B = N.input(2);
  if (!X || !W || !checkOperands(N, X, W, B))
    return;
  const auto &SX = X->Type.Shape, &SW = W->Type.Shape;
  std::vector<int64_t> In(SX.begin() + 2, SX.end()),
      Kernel(SW.begin() + 2, SW.end());
  TWindow Win;
  if (!resolveWindow(N, In, Kernel, Win))
    return;
  int64_t Group = N.attrInt("group", 1);
  AttrMap A;
  A["strides"] = Win.Strides;
  A["dilations"] = Win.Dilations;
  A["pads"] = Win.Pads;
  A["group"] = Group;
  std::vector<int64_t> Out = {SX[0], SW[1] * Group};
  Out.insert(Out.end(), Win.Out.begin(), Win.Out.end());
  std::vector<Value *> Ops = {X, W};
  if (B)
    Ops.push_back(B);
  N.setOutput(0, N.emit(OpKind::ConvTranspose, Ops, std::move(A),
                        TensorType(X->Type.Elem, Out)));
}
