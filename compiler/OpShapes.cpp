//===- OpShapes.cpp - The type rules of every graph operation -------------===//
//
// inferResultTypes() is the single statement of each operation's operand
// counts, element types, attributes and result types (docs/ir.md lists them).
// The frontend calls it on every node it builds, and the verifier compares
// each node's result types against it, so a rule here is exactly as strict
// as the IR: attributes are expected in their normalized form (all present,
// axes non-negative, pads as all begins then all ends) and an attribute the
// op does not have is an error. Errors are plain reasons; callers add the
// node's name.
//
// This file holds the dispatcher, the attribute reader, broadcasting, and
// the elementwise and data-movement rules; OpShapesNN.cpp holds reductions,
// pooling, normalization and the contractions.
//
//===----------------------------------------------------------------------===//

#include "compiler/Diagnostics.h"
#include "compiler/Graph.h"
#include "compiler/OpShapesImpl.h"
#include "llvm/Support/raw_ostream.h"
#include <algorithm>

using namespace tidal;
using namespace tidal::shapes;

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

bool shapes::isNumeric(ElemType E) {
  return E != ElemType::Bool && E != ElemType::Bit;
}

llvm::Error shapes::checkAxis(int64_t Axis, const TensorType &X) {
  if (Axis >= 0 && Axis < static_cast<int64_t>(X.rank()))
    return llvm::Error::success();
  return makeError("axis " + llvm::Twine(Axis) + " is out of range for " +
                   X.str());
}

llvm::Expected<int64_t> shapes::readGatherAxis(AttrReader &A,
                                               const Types &Ops) {
  int64_t Axis = A.getInt("axis");
  if (llvm::Error E = A.finish())
    return std::move(E);
  if (llvm::Error E = checkAxis(Axis, Ops[0]))
    return std::move(E);
  if (Ops[1].Elem != ElemType::I64 && Ops[1].Elem != ElemType::I32)
    return makeError("indices must be i32 or i64, not " + Ops[1].str());
  return Axis;
}

const Attribute *AttrReader::find(llvm::StringRef Name, bool Required) {
  Known.insert(Name.str());
  auto It = Attrs.find(Name.str());
  if (It == Attrs.end()) {
    if (Required)
      fail("missing attribute '" + Name + "'");
    return nullptr;
  }
  return &It->second;
}

void AttrReader::fail(const llvm::Twine &Reason) {
  if (Error.empty())
    Error = Reason.str();
}

template <typename T>
static const T *getAs(const Attribute *A, AttrReader &R, llvm::StringRef Name,
                      llvm::StringRef Kind) {
  if (!A)
    return nullptr;
  if (const T *V = std::get_if<T>(A))
    return V;
  R.fail("attribute '" + Name + "' must be " + Kind);
  return nullptr;
}

int64_t AttrReader::getInt(llvm::StringRef Name) {
  const int64_t *V = getAs<int64_t>(find(Name, true), *this, Name, "an integer");
  return V ? *V : 0;
}

bool AttrReader::getBool(llvm::StringRef Name) {
  int64_t V = getInt(Name);
  if (V != 0 && V != 1)
    fail("attribute '" + Name + "' must be 0 or 1, not " + llvm::Twine(V));
  return V == 1;
}

float AttrReader::getFloat(llvm::StringRef Name) {
  const float *V = getAs<float>(find(Name, true), *this, Name, "a float");
  return V ? *V : 0.0f;
}

std::optional<float> AttrReader::getOptFloat(llvm::StringRef Name) {
  const float *V = getAs<float>(find(Name, false), *this, Name, "a float");
  return V ? std::optional<float>(*V) : std::nullopt;
}

std::string AttrReader::getString(llvm::StringRef Name) {
  const std::string *V =
      getAs<std::string>(find(Name, true), *this, Name, "a string");
  return V ? *V : std::string();
}

std::vector<int64_t> AttrReader::getInts(llvm::StringRef Name) {
  const auto *V = getAs<std::vector<int64_t>>(find(Name, true), *this, Name,
                                              "a list of integers");
  return V ? *V : std::vector<int64_t>();
}

const Tensor *AttrReader::getTensor(llvm::StringRef Name) {
  return getAs<Tensor>(find(Name, true), *this, Name, "a tensor");
}

llvm::Error AttrReader::finish() {
  if (!Error.empty())
    return makeError(Error);
  for (const auto &[Name, A] : Attrs) {
    if (Name == FusionGroupAttr) {
      if (!std::holds_alternative<int64_t>(A))
        return makeError(llvm::Twine("attribute '") + FusionGroupAttr +
                         "' must be an integer");
      continue;
    }
    if (Name == "group" && !Known.count(Name))
      return makeError(llvm::Twine("unexpected attribute 'group' (only Conv "
                                   "has one, its group count; the fusion "
                                   "group id is '") +
                       FusionGroupAttr + "')");
    if (!Known.count(Name))
      return makeError("unexpected attribute '" + Name + "'");
  }
  return llvm::Error::success();
}

llvm::Expected<std::vector<int64_t>>
tidal::broadcastShapes(const std::vector<int64_t> &A,
                       const std::vector<int64_t> &B) {
  size_t Rank = std::max(A.size(), B.size());
  std::vector<int64_t> R(Rank);
  for (size_t I = 0; I < Rank; ++I) {
    int64_t DA = I < Rank - A.size() ? 1 : A[I - (Rank - A.size())];
    int64_t DB = I < Rank - B.size() ? 1 : B[I - (Rank - B.size())];
    if (DA != DB && DA != 1 && DB != 1)
      return makeError("cannot broadcast shapes " + shapeStr(A) + " and " +
                       shapeStr(B));
    R[I] = DA == 1 ? DB : DA;
  }
  return R;
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

namespace {

enum class Allowed {
  Any, Float, FloatOrSigned, Numeric, NumericOrBool, Bool, Integer, Unsigned
};

bool allows(Allowed A, ElemType E) {
  switch (A) {
  case Allowed::Any: return true;
  case Allowed::Float: return isFloat(E);
  case Allowed::FloatOrSigned: return isFloat(E) || isSignedInt(E);
  case Allowed::Numeric: return isNumeric(E);
  case Allowed::NumericOrBool: return E != ElemType::Bit;
  case Allowed::Bool: return E == ElemType::Bool;
  case Allowed::Integer: return isNumeric(E) && !isFloat(E);
  case Allowed::Unsigned: return isNumeric(E) && !isFloat(E) && !isSignedInt(E);
  }
  return false;
}

const char *describe(Allowed A) {
  switch (A) {
  case Allowed::Any: return "any type";
  case Allowed::Float: return "a floating-point type";
  case Allowed::FloatOrSigned: return "a floating-point or signed integer type";
  case Allowed::Numeric: return "a numeric type";
  case Allowed::NumericOrBool: return "a numeric or bool type";
  case Allowed::Bool: return "bool";
  case Allowed::Integer: return "an integer type";
  case Allowed::Unsigned: return "an unsigned integer type";
  }
  return "";
}

/// The element types an elementwise op accepts (for Where: of x and y).
Allowed allowedTypes(OpKind K) {
  switch (K) {
  case OpKind::Copy:
  case OpKind::Cast:
  case OpKind::Where: return Allowed::Any;
  case OpKind::Relu:
  case OpKind::Neg: return Allowed::FloatOrSigned;
  case OpKind::Clip:
  case OpKind::Abs:
  case OpKind::Sign:
  case OpKind::Add:
  case OpKind::Sub:
  case OpKind::Mul:
  case OpKind::Div:
  case OpKind::Pow:
  case OpKind::Max:
  case OpKind::Min:
  case OpKind::PRelu:
  case OpKind::Less:
  case OpKind::LessOrEqual:
  case OpKind::Greater:
  case OpKind::GreaterOrEqual:
  case OpKind::Mod:
  case OpKind::Shrink: return Allowed::Numeric;
  case OpKind::BitwiseNot:
  case OpKind::BitwiseAnd:
  case OpKind::BitwiseOr:
  case OpKind::BitwiseXor: return Allowed::Integer;
  case OpKind::BitShift: return Allowed::Unsigned;
  case OpKind::Equal: return Allowed::NumericOrBool;
  case OpKind::Not:
  case OpKind::And:
  case OpKind::Or:
  case OpKind::Xor: return Allowed::Bool;
  default: return Allowed::Float;
  }
}

/// Reads the attributes of a one-operand op (Cast's `to` is read apart).
void readUnaryAttrs(OpKind K, AttrReader &A) {
  switch (K) {
  case OpKind::LeakyRelu:
  case OpKind::Elu:
  case OpKind::Celu:
  case OpKind::ThresholdedRelu:
    A.getFloat("alpha");
    return;
  case OpKind::Selu:
    A.getFloat("alpha");
    A.getFloat("gamma");
    return;
  case OpKind::HardSigmoid:
    A.getFloat("alpha");
    A.getFloat("beta");
    return;
  case OpKind::Shrink:
    A.getFloat("lambd");
    A.getFloat("bias");
    return;
  case OpKind::Gelu: {
    std::string Approx = A.getString("approximate");
    if (!A.failed() && Approx != "none" && Approx != "tanh")
      A.fail("attribute 'approximate' must be \"none\" or \"tanh\", not \"" +
             Approx + "\"");
    return;
  }
  case OpKind::Clip:
    // Float even for integer tensors: the frontend rejects a bound that a
    // float cannot hold exactly.
    A.getOptFloat("min");
    A.getOptFloat("max");
    return;
  default:
    return;
  }
}

Result inferCast(const TensorType &X, AttrReader &A) {
  std::string To = A.getString("to");
  if (llvm::Error E = A.finish())
    return std::move(E);
  std::optional<ElemType> Elem = parseElemType(To);
  if (!Elem)
    return makeError("attribute 'to' names no element type: \"" + To + "\"");
  return Types{TensorType(*Elem, X.Shape)};
}

Result inferUnary(OpKind K, const TensorType &X, AttrReader &A) {
  if (K == OpKind::Cast)
    return inferCast(X, A);
  readUnaryAttrs(K, A);
  if (llvm::Error E = A.finish())
    return std::move(E);
  return Types{X};
}

/// Reads the attributes of a two-operand op: Mod's `fmod` (0, Python's
/// sign-of-divisor remainder, is defined on integers only) and BitShift's
/// `direction`.
void readBinaryAttrs(OpKind K, const TensorType &X, AttrReader &A) {
  if (K == OpKind::Mod) {
    bool Fmod = A.getBool("fmod");
    if (!A.failed() && !Fmod && isFloat(X.Elem))
      A.fail("fmod = 0 is defined on integers only, not " + X.str());
  } else if (K == OpKind::BitShift) {
    std::string Dir = A.getString("direction");
    if (!A.failed() && Dir != "LEFT" && Dir != "RIGHT")
      A.fail("attribute 'direction' must be \"LEFT\" or \"RIGHT\", not \"" +
             Dir + "\"");
  }
}

Result inferBinary(OpKind K, const TensorType &X, const TensorType &Y) {
  if (!(X.Quant == Y.Quant) && K != OpKind::Pow)
    return makeError("operands have different quantization: " + X.str() +
                     " and " + Y.str());
  auto Shape = broadcastShapes(X.Shape, Y.Shape);
  if (!Shape)
    return Shape.takeError();
  if (isComparison(K))
    return Types{TensorType(ElemType::Bool, *Shape)};
  if (K == OpKind::PRelu && *Shape != X.Shape)
    return makeError("slope " + Y.str() + " does not broadcast to the input " +
                     X.str());
  TensorType R = X;
  R.Shape = *Shape;
  return Types{R};
}

Result inferWhere(const Types &Ops) {
  if (Ops[0].Elem != ElemType::Bool)
    return makeError("condition must be bool, not " + Ops[0].str());
  if (Ops[1].Elem != Ops[2].Elem || !(Ops[1].Quant == Ops[2].Quant))
    return makeError("x and y have different types: " + Ops[1].str() +
                     " and " + Ops[2].str());
  auto XY = broadcastShapes(Ops[1].Shape, Ops[2].Shape);
  if (!XY)
    return XY.takeError();
  auto Shape = broadcastShapes(Ops[0].Shape, *XY);
  if (!Shape)
    return Shape.takeError();
  TensorType R = Ops[1];
  R.Shape = *Shape;
  return Types{R};
}

} // namespace

bool tidal::elementwiseAcceptsType(OpKind K, ElemType E) {
  return allows(allowedTypes(K), E);
}

Result shapes::inferElementwise(OpKind K, const Types &Ops, AttrReader &A) {
  Allowed Allow = allowedTypes(K);
  size_t First = K == OpKind::Where ? 1 : 0;
  for (size_t I = First; I < Ops.size(); ++I)
    if (!allows(Allow, Ops[I].Elem))
      return makeError("operand " + llvm::Twine(I) + " is " + Ops[I].str() +
                       " but must be " + describe(Allow));
  if (Ops.size() == 1)
    return inferUnary(K, Ops[0], A);
  readBinaryAttrs(K, Ops[0], A);
  if (llvm::Error E = A.finish())
    return std::move(E);
  if (K == OpKind::Where)
    return inferWhere(Ops);
  // ONNX Pow's exponent has its own type (2^0.5 on an integer base is not
  // 2^0), so it is the one op whose operands may differ.
  if (Ops[0].Elem != Ops[1].Elem && K != OpKind::Pow)
    return makeError("operands have different element types: " +
                     Ops[0].str() + " and " + Ops[1].str());
  return inferBinary(K, Ops[0], Ops[1]);
}

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

namespace {

/// Reshape and Expand: the result type comes from the node, checked here.
Result inferGiven(OpKind K, const TensorType &X, const Types &Given) {
  if (Given.size() != 1)
    return makeError("needs exactly one result type to check, got " +
                     llvm::Twine(Given.size()));
  const TensorType &R = Given[0];
  if (R.Elem != X.Elem || !(R.Quant == X.Quant))
    return makeError("result type " + R.str() +
                     " has another element type than the input " + X.str());
  for (int64_t D : R.Shape)
    if (D < 0)
      return makeError("result shape " + shapeStr(R.Shape) +
                       " has a negative dimension");
  if (K == OpKind::Reshape) {
    if (R.numElements() != X.numElements())
      return makeError("cannot reshape " + X.str() + " (" +
                       llvm::Twine(X.numElements()) + " elements) to " +
                       R.str());
    if (X.Quant && X.Quant->Axis >= 0 && R.Shape != X.Shape)
      return makeError("cannot reshape a per-channel quantized tensor");
    return Types{R};
  }
  auto Shape = broadcastShapes(X.Shape, R.Shape);
  if (!Shape)
    return Shape.takeError();
  if (*Shape != R.Shape)
    return makeError("input " + X.str() + " expanded to " + R.str() +
                     " gives shape " + shapeStr(*Shape));
  return Types{R};
}

Result inferTranspose(const TensorType &X, AttrReader &A) {
  std::vector<int64_t> Perm = A.getInts("perm");
  if (llvm::Error E = A.finish())
    return std::move(E);
  size_t Rank = X.rank();
  std::vector<int64_t> Sorted = Perm;
  std::sort(Sorted.begin(), Sorted.end());
  bool IsPerm = Perm.size() == Rank;
  for (size_t I = 0; IsPerm && I < Rank; ++I)
    IsPerm = Sorted[I] == static_cast<int64_t>(I);
  if (!IsPerm)
    return makeError("perm " + shapeStr(Perm) + " is not a permutation of the " +
                     llvm::Twine(Rank) + " axes of " + X.str());
  if (X.Quant && X.Quant->Axis >= 0)
    return makeError("cannot transpose a per-channel quantized tensor");
  TensorType R = X;
  for (size_t I = 0; I < Rank; ++I)
    R.Shape[I] = X.Shape[Perm[I]];
  return Types{R};
}

Result inferConcat(const Types &Ops, AttrReader &A) {
  int64_t Axis = A.getInt("axis");
  if (llvm::Error E = A.finish())
    return std::move(E);
  const TensorType &X = Ops[0];
  if (llvm::Error E = checkAxis(Axis, X))
    return std::move(E);
  TensorType R = X;
  R.Shape[Axis] = 0;
  for (size_t I = 0; I < Ops.size(); ++I) {
    const TensorType &T = Ops[I];
    bool Match = T.Elem == X.Elem && T.Quant == X.Quant && T.rank() == X.rank();
    for (size_t D = 0; Match && D < X.rank(); ++D)
      Match = D == static_cast<size_t>(Axis) || T.Shape[D] == X.Shape[D];
    if (!Match)
      return makeError("operand " + llvm::Twine(I) + " " + T.str() +
                       " does not match operand 0 " + X.str() +
                       " outside axis " + llvm::Twine(Axis));
    R.Shape[Axis] += T.Shape[Axis];
  }
  return Types{R};
}

/// Checks one axis of a normalized Slice and returns its result size.
llvm::Expected<int64_t> sliceDim(size_t D, int64_t Dim, int64_t Start,
                                 int64_t End, int64_t Step) {
  auto Bad = [&](const char *What) {
    return makeError("axis " + llvm::Twine(D) + " (size " + llvm::Twine(Dim) +
                     "): " + What + " (start " + llvm::Twine(Start) + ", end " +
                     llvm::Twine(End) + ", step " + llvm::Twine(Step) + ")");
  };
  if (Step == 0)
    return Bad("step is 0");
  if (Step > 0) {
    if (Start < 0 || Start > Dim || End < 0 || End > Dim)
      return Bad("start and end must be clamped to [0, size]");
    return End > Start ? (End - Start - 1) / Step + 1 : 0;
  }
  if (Start < -1 || Start > Dim - 1 || End < -1 || End > Dim - 1)
    return Bad("with a negative step, start and end must be clamped to "
               "[-1, size-1]");
  if (Step == INT64_MIN)
    return Bad("step is too large");
  return Start > End ? (Start - End - 1) / -Step + 1 : 0;
}

Result inferSlice(const TensorType &X, AttrReader &A) {
  std::vector<int64_t> Starts = A.getInts("starts");
  std::vector<int64_t> Ends = A.getInts("ends");
  std::vector<int64_t> Steps = A.getInts("steps");
  if (llvm::Error E = A.finish())
    return std::move(E);
  size_t Rank = X.rank();
  if (Starts.size() != Rank || Ends.size() != Rank || Steps.size() != Rank)
    return makeError("starts, ends and steps need one entry per axis of " +
                     X.str());
  TensorType R = X;
  for (size_t D = 0; D < Rank; ++D) {
    auto Size = sliceDim(D, X.Shape[D], Starts[D], Ends[D], Steps[D]);
    if (!Size)
      return Size.takeError();
    R.Shape[D] = *Size;
  }
  if (X.Quant && X.Quant->Axis >= 0 && R.Shape != X.Shape)
    return makeError("cannot slice a per-channel quantized tensor");
  return Types{R};
}

Result inferGather(const Types &Ops, AttrReader &A) {
  llvm::Expected<int64_t> Axis = readGatherAxis(A, Ops);
  if (!Axis)
    return Axis.takeError();
  const TensorType &Data = Ops[0], &Indices = Ops[1];
  if (Data.Quant && Data.Quant->Axis >= 0)
    return makeError("cannot gather from a per-channel quantized tensor");
  TensorType R = Data;
  R.Shape.assign(Data.Shape.begin(), Data.Shape.begin() + *Axis);
  R.Shape.insert(R.Shape.end(), Indices.Shape.begin(), Indices.Shape.end());
  R.Shape.insert(R.Shape.end(), Data.Shape.begin() + *Axis + 1,
                 Data.Shape.end());
  return Types{R};
}

Result inferPad(const TensorType &X, AttrReader &A) {
  std::vector<int64_t> Pads = A.getInts("pads");
  std::string Mode = A.getString("mode");
  // The fill value means something only to constant padding.
  if (Mode == "constant")
    A.getFloat("value");
  else
    A.getOptFloat("value");
  if (llvm::Error E = A.finish())
    return std::move(E);
  if (Mode != "constant" && Mode != "reflect" && Mode != "edge" &&
      Mode != "wrap")
    return makeError("mode must be constant, reflect, edge or wrap, not \"" +
                     Mode + "\"");
  size_t Rank = X.rank();
  if (Pads.size() != 2 * Rank)
    return makeError("pads " + shapeStr(Pads) + " need " +
                     llvm::Twine(2 * Rank) + " entries for " + X.str());
  TensorType R = X;
  for (size_t D = 0; D < Rank; ++D) {
    R.Shape[D] = X.Shape[D] + Pads[D] + Pads[Rank + D];
    if (R.Shape[D] < 0)
      return makeError("pads " + shapeStr(Pads) + " remove more than axis " +
                       llvm::Twine(D) + " of " + X.str() + " holds");
  }
  if (X.Quant && X.Quant->Axis >= 0 && R.Shape != X.Shape)
    return makeError("cannot pad a per-channel quantized tensor");
  return Types{R};
}

} // namespace

Result shapes::inferInjective(OpKind K, const Types &Ops, AttrReader &A,
                              const Types &Given) {
  switch (K) {
  case OpKind::Reshape:
  case OpKind::Expand:
    if (llvm::Error E = A.finish())
      return std::move(E);
    return inferGiven(K, Ops[0], Given);
  case OpKind::Transpose: return inferTranspose(Ops[0], A);
  case OpKind::Concat: return inferConcat(Ops, A);
  case OpKind::Slice: return inferSlice(Ops[0], A);
  case OpKind::Gather: return inferGather(Ops, A);
  case OpKind::Pad: return inferPad(Ops[0], A);
  case OpKind::GatherElements: return inferGatherElements(Ops, A);
  default: llvm_unreachable("not a data-movement op");
  }
}

//===----------------------------------------------------------------------===//
// Dispatcher
//===----------------------------------------------------------------------===//

static Result inferConstant(AttrReader &A) {
  const Tensor *T = A.getTensor("value");
  if (llvm::Error E = A.finish())
    return std::move(E);
  for (int64_t D : T->Type.Shape)
    if (D < 0)
      return makeError("value has a negative dimension: " + T->Type.str());
  if (static_cast<int64_t>(T->Bytes.size()) != T->Type.sizeInBytes())
    return makeError("value holds " + llvm::Twine(T->Bytes.size()) +
                     " bytes but " + T->Type.str() + " needs " +
                     llvm::Twine(T->Type.sizeInBytes()));
  return Types{T->Type};
}

llvm::Expected<std::vector<TensorType>>
tidal::inferResultTypes(OpKind K, const std::vector<TensorType> &Operands,
                        const AttrMap &Attrs,
                        const std::vector<TensorType> &Given) {
  int Min = opMinOperands(K), Max = opMaxOperands(K);
  int N = static_cast<int>(Operands.size());
  if (N < Min || (Max >= 0 && N > Max)) {
    std::string Want = Min == Max ? std::to_string(Min)
                       : Max < 0  ? "at least " + std::to_string(Min)
                                  : std::to_string(Min) + " to " +
                                       std::to_string(Max);
    return makeError("takes " + Want + " operands, not " + llvm::Twine(N));
  }
  for (const TensorType &T : Operands)
    for (int64_t D : T.Shape)
      if (D < 0)
        return makeError("operand " + T.str() + " has a dynamic dimension");
  AttrReader A(Attrs);
  switch (opCategory(K)) {
  case OpCategory::Source: return inferConstant(A);
  case OpCategory::Unary:
  case OpCategory::Binary:
  case OpCategory::Ternary: return inferElementwise(K, Operands, A);
  case OpCategory::Injective: return inferInjective(K, Operands, A, Given);
  case OpCategory::Reduction:
  case OpCategory::Opaque: return inferReduction(K, Operands, A);
  case OpCategory::Contraction: return inferContraction(K, Operands, A);
  }
  llvm_unreachable("bad op category");
}
