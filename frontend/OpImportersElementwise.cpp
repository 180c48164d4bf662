//===- OpImportersElementwise.cpp - Elementwise ONNX operators ------------===//
//
// Unary activations and math, binary arithmetic and comparisons with numpy
// broadcasting, the variadic Sum/Max/Min/Mean (chains of binary operations),
// Clip, Where, Cast and CastLike.
//
// Opset differences handled here:
//   - binary operators before opset 7 broadcast only with broadcast=1, B
//     aligned at `axis` (default: trailing); B is reshaped so that numpy
//     broadcasting means the same thing;
//   - Sum/Max/Min/Mean broadcast only from opset 8;
//   - Clip takes min/max as attributes before 11, as constant inputs after;
//   - Cast's `to` is a type name string before opset 6;
//   - Pow allows an exponent of another type from opset 12 (a float base
//     casts the exponent to its type, an integer base keeps a float
//     exponent).
//
//===----------------------------------------------------------------------===//

#include "frontend/ImporterImpl.h"
#include <cfloat>

using namespace tidal;
using namespace tidal::onnximport;

namespace {

bool floatOnly(OpKind K) {
  switch (K) {
  case OpKind::Relu:
  case OpKind::Neg:
  case OpKind::Abs:
  case OpKind::Sign:
  case OpKind::Not: return false;
  default: return true;
  }
}

// The attributes of unary operations, with ONNX's defaults filled in.
AttrMap unaryAttrs(NodeImporter &N, OpKind K) {
  AttrMap A;
  switch (K) {
  case OpKind::LeakyRelu: A["alpha"] = N.attrFloat("alpha", 0.01f); break;
  case OpKind::Elu:
  case OpKind::Celu:
  case OpKind::ThresholdedRelu: A["alpha"] = N.attrFloat("alpha", 1.0f); break;
  case OpKind::Selu:
    A["alpha"] = N.attrFloat("alpha", 1.67326319217681884765625f);
    A["gamma"] = N.attrFloat("gamma", 1.05070102214813232421875f);
    break;
  case OpKind::HardSigmoid:
    A["alpha"] = N.attrFloat("alpha", 0.2f);
    A["beta"] = N.attrFloat("beta", 0.5f);
    break;
  case OpKind::Gelu: {
    std::string Approx = N.attrString("approximate", "none");
    if (Approx != "none" && Approx != "tanh")
      N.fail("approximate must be 'none' or 'tanh', not '" + Approx + "'");
    A["approximate"] = Approx;
    break;
  }
  default: break;
  }
  return A;
}

} // namespace

void onnximport::importUnary(NodeImporter &N) {
  OpKind K = *parseOpName(N.Proto.op_type());
  Value *X = N.requiredInput(0);
  if (!X)
    return;
  ElemType E = X->Type.Elem;
  bool Ok = K == OpKind::Not ? E == ElemType::Bool
            : floatOnly(K)   ? isFloat(E)
            : K == OpKind::Relu || K == OpKind::Neg
                ? isFloat(E) || isSignedInt(E)
                : E != ElemType::Bool;
  if (!Ok)
    return N.fail(N.Proto.op_type() + " is not defined for element type " +
                  elemTypeName(E));
  AttrMap A = unaryAttrs(N, K);
  N.setOutput(0, N.emit(K, {X}, std::move(A), X->Type));
}

//===----------------------------------------------------------------------===//
// Binary operations
//===----------------------------------------------------------------------===//

namespace {

// Before opset 7: B broadcasts to A only with broadcast=1, its dimensions
// aligned with A's starting at `axis`. Returns B reshaped for numpy
// broadcasting, or null after fail().
Value *legacyBroadcast(NodeImporter &N, Value *A, Value *B) {
  const auto &SA = A->Type.Shape, &SB = B->Type.Shape;
  if (!N.attrInt("broadcast", 0)) {
    if (SA != SB)
      N.fail("shapes " + shapeStr(SA) + " and " + shapeStr(SB) +
             " differ and broadcast=0 (opset < 7)");
    return N.failed() ? nullptr : B;
  }
  int64_t RA = SA.size(), RB = SB.size();
  int64_t Axis = N.attrInt("axis", RA - RB);
  if (Axis < 0)
    Axis += RA;
  bool Ok = RB <= RA && Axis >= 0 && Axis + RB <= RA;
  for (int64_t I = 0; Ok && I < RB; ++I)
    Ok = SB[I] == SA[Axis + I] || SB[I] == 1;
  if (!Ok) {
    N.fail("shape " + shapeStr(SB) + " does not broadcast to " + shapeStr(SA) +
           " at axis " + llvm::Twine(Axis) + " (opset < 7 broadcasting)");
    return nullptr;
  }
  std::vector<int64_t> Shape(Axis, 1);
  Shape.insert(Shape.end(), SB.begin(), SB.end());
  Shape.resize(RA, 1);
  return N.reshape(B, Shape);
}

// PRelu before opset 7: a slope of one element, of X's shape, or one per
// channel.
Value *legacySlope(NodeImporter &N, Value *X, Value *Slope) {
  const auto &SX = X->Type.Shape, &SS = Slope->Type.Shape;
  if (Slope->Type.numElements() == 1)
    return N.reshape(Slope, {});
  if (SS == SX)
    return Slope;
  if (SS.size() == 1 && SX.size() >= 2 && SS[0] == SX[1]) {
    std::vector<int64_t> Shape(SX.size() - 1, 1);
    Shape[0] = SS[0];
    return N.reshape(Slope, Shape);
  }
  N.fail("slope of shape " + shapeStr(SS) + " does not fit input " +
         shapeStr(SX));
  return nullptr;
}

// Pow's exponent may have another type. A float base casts it to its own
// type; an integer base with a float exponent is computed in f64 and
// truncated back to the base's type, as ONNX's reference does.
Value *intPowFloat(NodeImporter &N, Value *A, Value *B) {
  Value *P = build::binary(N, OpKind::Pow, build::cast(N, A, ElemType::F64),
                           build::cast(N, B, ElemType::F64));
  return build::cast(N, P, A->Type.Elem);
}

bool checkBinaryTypes(NodeImporter &N, OpKind K, ElemType EA, ElemType EB) {
  if (K != OpKind::Pow && EA != EB) {
    N.fail(llvm::Twine("operands have different element types (") +
           elemTypeName(EA) + " and " + elemTypeName(EB) + ")");
    return false;
  }
  if (isLogical(K) && EA != ElemType::Bool) {
    N.fail("operands must be bool");
    return false;
  }
  if (!isLogical(K) && K != OpKind::Equal && EA == ElemType::Bool) {
    N.fail(N.Proto.op_type() + " is not defined for bool");
    return false;
  }
  return true;
}

} // namespace

void onnximport::importBinary(NodeImporter &N) {
  OpKind K = *parseOpName(N.Proto.op_type());
  Value *A = N.requiredInput(0);
  Value *B = N.requiredInput(1);
  if (!A || !B || !checkBinaryTypes(N, K, A->Type.Elem, B->Type.Elem))
    return;
  if (N.Opset < 7)
    B = K == OpKind::PRelu ? legacySlope(N, A, B) : legacyBroadcast(N, A, B);
  if (K == OpKind::Pow && B && A->Type.Elem != B->Type.Elem) {
    if (!isFloat(A->Type.Elem) && isFloat(B->Type.Elem))
      return N.setOutput(0, intPowFloat(N, A, B));
    B = build::cast(N, B, A->Type.Elem);
  }
  if (!B)
    return;
  // The slope must broadcast *to* X (a shape that merely broadcasts with it
  // is left to build::binary's message).
  auto Shape = broadcast(A->Type.Shape, B->Type.Shape);
  if (K == OpKind::PRelu && Shape && *Shape != A->Type.Shape)
    return N.fail("slope of shape " + shapeStr(B->Type.Shape) +
                  " does not broadcast to the input's " +
                  shapeStr(A->Type.Shape));
  N.setOutput(0, build::binary(N, K, A, B));
}

void onnximport::importVariadic(NodeImporter &N) {
  llvm::StringRef Op = N.Proto.op_type();
  OpKind K = Op == "Max"   ? OpKind::Max
             : Op == "Min" ? OpKind::Min
                           : OpKind::Add;
  std::vector<Value *> Ins = N.requiredInputs();
  if (N.failed())
    return;
  ElemType E = Ins[0]->Type.Elem;
  if (E == ElemType::Bool || (Op == "Mean" && !isFloat(E)))
    return N.fail(Op + " is not defined for element type " + elemTypeName(E));
  Value *Acc = Ins[0];
  for (size_t I = 1; I < Ins.size() && Acc; ++I) {
    Value *B = Ins[I];
    if (B->Type.Elem != E)
      return N.fail("inputs have different element types");
    auto Shape = broadcast(Acc->Type.Shape, B->Type.Shape);
    if (!Shape || (N.Opset < 8 && Acc->Type.Shape != B->Type.Shape))
      return N.fail("input shapes " + shapeStr(Acc->Type.Shape) + " and " +
                    shapeStr(B->Type.Shape) + " do not broadcast" +
                    (N.Opset < 8 ? " (no broadcasting before opset 8)" : ""));
    Acc = N.emit(K, {Acc, B}, {}, TensorType(E, *Shape));
  }
  if (Op == "Mean" && Ins.size() > 1 && Acc) {
    Tensor Count(TensorType(E, {}));
    Count.setDouble(0, static_cast<double>(Ins.size()));
    Acc =
        N.emit(OpKind::Div, {Acc, N.constant(std::move(Count))}, {}, Acc->Type);
  }
  N.setOutput(0, Acc);
}

//===----------------------------------------------------------------------===//
// Clip, Where, Cast
//===----------------------------------------------------------------------===//

namespace {
// A Clip bound from input I (opset >= 11) into the float attribute Attr.
void clipBoundInput(NodeImporter &N, unsigned I, llvm::StringRef Attr,
                    ElemType E, AttrMap &A) {
  if (!N.hasInput(I))
    return;
  Value *V = N.input(I);
  if (V && V->Type.Elem != E)
    return N.fail("the " + Attr + " input must have the input's type");
  std::optional<double> B = N.constScalar(I, Attr);
  if (!B)
    return;
  if (!exactAsFloat(*B))
    return N.fail("the " + Attr + " bound " + std::to_string(*B) +
                  " cannot be represented exactly as a float");
  A[Attr.str()] = static_cast<float>(*B);
}
} // namespace

void onnximport::importClip(NodeImporter &N) {
  Value *X = N.requiredInput(0);
  if (!X)
    return;
  if (X->Type.Elem == ElemType::Bool)
    return N.fail("Clip is not defined for bool");
  AttrMap A;
  if (N.Opset < 11) {
    A["min"] = N.attrFloat("min", -FLT_MAX);
    A["max"] = N.attrFloat("max", FLT_MAX);
  } else {
    clipBoundInput(N, 1, "min", X->Type.Elem, A);
    clipBoundInput(N, 2, "max", X->Type.Elem, A);
  }
  if (N.failed())
    return;
  if (A.empty())
    return N.setOutput(0, X);
  N.setOutput(0, N.emit(OpKind::Clip, {X}, std::move(A), X->Type));
}

void onnximport::importWhere(NodeImporter &N) {
  Value *C = N.requiredInput(0), *X = N.requiredInput(1),
        *Y = N.requiredInput(2);
  if (!C || !X || !Y)
    return;
  if (C->Type.Elem != ElemType::Bool)
    return N.fail("the condition must be bool");
  if (X->Type.Elem != Y->Type.Elem)
    return N.fail("X and Y have different element types");
  auto S = broadcast(C->Type.Shape, X->Type.Shape);
  if (S)
    S = broadcast(*S, Y->Type.Shape);
  if (!S)
    return N.fail("shapes " + shapeStr(C->Type.Shape) + ", " +
                  shapeStr(X->Type.Shape) + " and " + shapeStr(Y->Type.Shape) +
                  " do not broadcast");
  N.setOutput(
      0, N.emit(OpKind::Where, {C, X, Y}, {}, TensorType(X->Type.Elem, *S)));
}

void onnximport::importCast(NodeImporter &N) {
  Value *X = N.requiredInput(0);
  if (!X || !N.requireAttr("to"))
    return;
  int64_t To;
  if (N.Opset < 6) {
    std::string Name = N.attrString("to", "");
    onnx::TensorProto::DataType Parsed;
    if (!onnx::TensorProto::DataType_Parse(Name, &Parsed))
      return N.fail("unknown type '" + Name + "' in attribute 'to'");
    To = Parsed;
  } else {
    To = N.attrInt("to", 0);
  }
  if (N.failed())
    return;
  std::optional<ElemType> E = elemTypeFromOnnx(static_cast<int32_t>(To));
  if (!E)
    return N.fail("casting to " + onnxTypeName(static_cast<int32_t>(To)) +
                  " is not supported");
  N.setOutput(0, build::cast(N, X, *E));
}

void onnximport::importCastLike(NodeImporter &N) {
  Value *X = N.requiredInput(0), *Like = N.requiredInput(1);
  if (X && Like)
    N.setOutput(0, build::cast(N, X, Like->Type.Elem));
}
