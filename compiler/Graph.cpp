//===- Graph.cpp - The graph IR data structure ----------------------------===//
//
// Construction and editing of graphs. The type rules (OpShapes.cpp), the
// verifier, the printer and the parser live in their own files.
//
//===----------------------------------------------------------------------===//

#include "compiler/Graph.h"
#include "llvm/ADT/STLExtras.h"
#include <algorithm>
#include <cassert>
#include <cmath>

using namespace tidal;

namespace {
struct OpInfo {
  const char *Name;
  int MinOps, MaxOps;
  OpCategory Cat;
};
const OpInfo Ops[] = {
#define TIDAL_OP(Id, MinOps, MaxOps, Cat) {#Id, MinOps, MaxOps, OpCategory::Cat},
#include "compiler/Ops.def"
};
const OpInfo &info(OpKind K) { return Ops[static_cast<unsigned>(K)]; }
} // namespace

llvm::StringRef tidal::opName(OpKind K) { return info(K).Name; }
OpCategory tidal::opCategory(OpKind K) { return info(K).Cat; }
int tidal::opMinOperands(OpKind K) { return info(K).MinOps; }
int tidal::opMaxOperands(OpKind K) { return info(K).MaxOps; }

std::optional<OpKind> tidal::parseOpName(llvm::StringRef Name) {
  for (unsigned I = 0; I < std::size(Ops); ++I)
    if (Name == Ops[I].Name)
      return static_cast<OpKind>(I);
  return std::nullopt;
}

//===----------------------------------------------------------------------===//
// Tensor
//===----------------------------------------------------------------------===//

namespace {
// Half-precision conversion, round to nearest even.
float halfToFloat(uint16_t H) {
  uint32_t Sign = (H >> 15) & 1, Exp = (H >> 10) & 0x1f, Man = H & 0x3ff;
  float V;
  if (Exp == 0)
    V = std::ldexp(static_cast<float>(Man), -24);
  else if (Exp == 31)
    V = Man ? NAN : INFINITY;
  else
    V = std::ldexp(static_cast<float>(Man | 0x400), static_cast<int>(Exp) - 25);
  return Sign ? -V : V;
}

uint16_t floatToHalf(float F) {
  uint32_t X;
  std::memcpy(&X, &F, 4);
  uint32_t Sign = (X >> 16) & 0x8000;
  uint32_t Abs = X & 0x7fffffff;
  if (Abs > 0x7f800000)
    return Sign | 0x7e00;
  if (Abs >= 0x477ff000) // rounds to >= 65520: infinity
    return Sign | 0x7c00;
  if (Abs < 0x38800000) { // subnormal half
    float A;
    std::memcpy(&A, &Abs, 4);
    return Sign | static_cast<uint16_t>(std::nearbyint(A * 16777216.0f));
  }
  uint32_t Rounded = Abs + 0xfff + ((Abs >> 13) & 1);
  return Sign | static_cast<uint16_t>((Rounded - 0x38000000) >> 13);
}
} // namespace

double Tensor::getDouble(int64_t I) const {
  switch (Type.Elem) {
  case ElemType::F32: return data<float>()[I];
  case ElemType::F64: return data<double>()[I];
  case ElemType::F16: return halfToFloat(data<uint16_t>()[I]);
  default: return static_cast<double>(getInt(I));
  }
}

int64_t Tensor::getInt(int64_t I) const {
  switch (Type.Elem) {
  case ElemType::F32:
  case ElemType::F64:
  case ElemType::F16: return static_cast<int64_t>(getDouble(I));
  case ElemType::I64: return data<int64_t>()[I];
  case ElemType::I32: return data<int32_t>()[I];
  case ElemType::I16: return data<int16_t>()[I];
  case ElemType::I8: return data<int8_t>()[I];
  case ElemType::U8: return data<uint8_t>()[I];
  case ElemType::U16: return data<uint16_t>()[I];
  case ElemType::U32: return data<uint32_t>()[I];
  case ElemType::U64: return static_cast<int64_t>(data<uint64_t>()[I]);
  case ElemType::Bool: return data<uint8_t>()[I] != 0;
  case ElemType::Bit: return (Bytes[I / 8] >> (I % 8)) & 1;
  }
  llvm_unreachable("bad element type");
}

void Tensor::setDouble(int64_t I, double V) {
  switch (Type.Elem) {
  case ElemType::F32: data<float>()[I] = static_cast<float>(V); return;
  case ElemType::F64: data<double>()[I] = V; return;
  case ElemType::F16: data<uint16_t>()[I] = floatToHalf(static_cast<float>(V)); return;
  case ElemType::Bool: data<uint8_t>()[I] = V != 0; return;
  default: setInt(I, static_cast<int64_t>(V)); return;
  }
}

void Tensor::setInt(int64_t I, int64_t V) {
  switch (Type.Elem) {
  case ElemType::F32:
  case ElemType::F64:
  case ElemType::F16: setDouble(I, static_cast<double>(V)); return;
  case ElemType::I64: data<int64_t>()[I] = V; return;
  case ElemType::I32: data<int32_t>()[I] = static_cast<int32_t>(V); return;
  case ElemType::I16: data<int16_t>()[I] = static_cast<int16_t>(V); return;
  case ElemType::I8: data<int8_t>()[I] = static_cast<int8_t>(V); return;
  case ElemType::U8: data<uint8_t>()[I] = static_cast<uint8_t>(V); return;
  case ElemType::U16: data<uint16_t>()[I] = static_cast<uint16_t>(V); return;
  case ElemType::U32: data<uint32_t>()[I] = static_cast<uint32_t>(V); return;
  case ElemType::U64: data<uint64_t>()[I] = static_cast<uint64_t>(V); return;
  case ElemType::Bool: data<uint8_t>()[I] = V != 0; return;
  case ElemType::Bit:
    if (V & 1)
      Bytes[I / 8] |= 1u << (I % 8);
    else
      Bytes[I / 8] &= ~(1u << (I % 8));
    return;
  }
}

//===----------------------------------------------------------------------===//
// Value and Node
//===----------------------------------------------------------------------===//

const Tensor *Value::constantData() const {
  if (!Def || Def->Kind != OpKind::Constant)
    return nullptr;
  return &Def->getTensor("value");
}

template <typename T>
static const T &getAttr(const AttrMap &Attrs, llvm::StringRef Name) {
  auto It = Attrs.find(Name.str());
  assert(It != Attrs.end() && "missing attribute");
  assert(std::holds_alternative<T>(It->second) && "attribute of another type");
  return std::get<T>(It->second);
}

int64_t Node::getInt(llvm::StringRef A) const { return getAttr<int64_t>(Attrs, A); }
float Node::getFloat(llvm::StringRef A) const { return getAttr<float>(Attrs, A); }
const std::string &Node::getString(llvm::StringRef A) const {
  return getAttr<std::string>(Attrs, A);
}
const std::vector<int64_t> &Node::getInts(llvm::StringRef A) const {
  return getAttr<std::vector<int64_t>>(Attrs, A);
}
const std::vector<float> &Node::getFloats(llvm::StringRef A) const {
  return getAttr<std::vector<float>>(Attrs, A);
}
const Tensor &Node::getTensor(llvm::StringRef A) const {
  return getAttr<Tensor>(Attrs, A);
}
int64_t Node::getInt(llvm::StringRef A, int64_t Default) const {
  return hasAttr(A) ? getInt(A) : Default;
}
float Node::getFloat(llvm::StringRef A, float Default) const {
  return hasAttr(A) ? getFloat(A) : Default;
}

//===----------------------------------------------------------------------===//
// Graph
//===----------------------------------------------------------------------===//

std::string Graph::uniqueName(llvm::StringRef Hint) {
  std::string Base = Hint.empty() ? "v" : Hint.str();
  std::string Name = Base;
  for (unsigned I = 1; TakenNames.count(Name); ++I)
    Name = Base + "_" + std::to_string(I);
  TakenNames.insert(Name);
  return Name;
}

Value *Graph::addInput(std::string Name, TensorType Type) {
  Inputs.push_back(std::make_unique<Value>(uniqueName(Name), std::move(Type)));
  return Inputs.back().get();
}

Node *Graph::createNode(OpKind Kind, std::string Name,
                        std::vector<Value *> Operands,
                        std::vector<TensorType> ResultTypes, AttrMap Attrs,
                        Node *Before) {
  auto N = std::make_unique<Node>(Kind, std::move(Name));
  N->Operands = std::move(Operands);
  N->Attrs = std::move(Attrs);
  for (unsigned I = 0; I < ResultTypes.size(); ++I) {
    std::string Hint = N->Name.empty() ? opName(Kind).lower() : N->Name;
    if (ResultTypes.size() > 1)
      Hint += "." + std::to_string(I);
    N->Results.push_back(
        std::make_unique<Value>(uniqueName(Hint), ResultTypes[I], N.get(), I));
  }
  Node *Raw = N.get();
  auto Pos = Nodes.end();
  if (Before)
    Pos = llvm::find_if(Nodes, [&](const auto &P) { return P.get() == Before; });
  Nodes.insert(Pos, std::move(N));
  return Raw;
}

Value *Graph::createConstant(std::string Name, Tensor T, Node *Before) {
  TensorType Type = T.Type;
  AttrMap Attrs;
  Attrs["value"] = std::move(T);
  return createNode(OpKind::Constant, std::move(Name), {}, {Type},
                    std::move(Attrs), Before)
      ->result();
}

void Graph::replaceAllUsesWith(Value *From, Value *To) {
  for (auto &N : Nodes)
    for (Value *&Op : N->Operands)
      if (Op == From)
        Op = To;
  for (Value *&Out : Outputs)
    if (Out == From)
      Out = To;
}

void Graph::erase(Node *N) {
  auto It = llvm::find_if(Nodes, [&](const auto &P) { return P.get() == N; });
  assert(It != Nodes.end() && "node not in graph");
  Nodes.erase(It);
}

std::vector<Node *> Graph::users(const Value *V) const {
  std::vector<Node *> Result;
  for (const auto &N : Nodes)
    if (llvm::is_contained(N->Operands, V))
      Result.push_back(N.get());
  return Result;
}

bool Graph::isGraphOutput(const Value *V) const {
  return llvm::is_contained(Outputs, V);
}
