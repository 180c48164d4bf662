//===- NodeImporter.cpp - Typed access to one ONNX node -------------------===//
//
// Inputs, outputs and attributes of the node being imported. Attribute
// getters check the attribute's declared type and fail the node (keeping
// the default) when it is wrong, so an importer reads all its attributes
// first and lets emit() refuse to build anything from a failed node.
//
//===----------------------------------------------------------------------===//

#include "compiler/Evaluate.h"
#include "frontend/ImporterImpl.h"
#include "llvm/Support/raw_ostream.h"
#include <algorithm>

using namespace tidal;
using namespace tidal::onnximport;

void NodeImporter::fail(const llvm::Twine &Reason) {
  if (!Failure)
    Failure = Reason.str();
}

//===----------------------------------------------------------------------===//
// Inputs and outputs
//===----------------------------------------------------------------------===//

bool NodeImporter::hasInput(unsigned I) const {
  return I < numInputs() && !Proto.input(I).empty();
}

Value *NodeImporter::input(unsigned I) {
  ReadInputs.insert(I);
  if (!hasInput(I))
    return nullptr;
  auto It = M.Values.find(Proto.input(I));
  return It == M.Values.end() ? nullptr : It->second;
}

Value *NodeImporter::requiredInput(unsigned I) {
  Value *V = input(I);
  if (!V)
    fail("input " + llvm::Twine(I) + " is required but missing");
  return V;
}

std::vector<Value *> NodeImporter::requiredInputs() {
  std::vector<Value *> Ins;
  for (unsigned I = 0; I < numInputs(); ++I)
    if (Value *V = requiredInput(I))
      Ins.push_back(V);
  if (!failed() && Ins.empty())
    fail("needs at least one input");
  return Ins;
}

const Tensor *NodeImporter::constInput(unsigned I) {
  Value *V = input(I);
  return V ? V->constantData() : nullptr;
}

std::optional<std::vector<int64_t>>
NodeImporter::constInts(unsigned I, llvm::StringRef Role) {
  Value *V = input(I);
  if (!V) {
    fail("the " + Role + " input is missing");
    return std::nullopt;
  }
  const Tensor *T = V->constantData();
  if (!T) {
    needConstant(I);
    fail("the " + Role + " input '" + Proto.input(I) +
         "' must be a constant, but it is computed at run time (Tidal "
         "compiles static shapes only)");
    return std::nullopt;
  }
  if (T->Type.Elem != ElemType::I64 && T->Type.Elem != ElemType::I32) {
    fail("the " + Role + " input must be int64 or int32, not " +
         elemTypeName(T->Type.Elem));
    return std::nullopt;
  }
  if (T->Type.rank() > 1) {
    fail("the " + Role + " input must be a 1-D tensor, not " + T->Type.str());
    return std::nullopt;
  }
  std::vector<int64_t> R;
  for (int64_t K = 0, E = T->Type.numElements(); K < E; ++K)
    R.push_back(T->getInt(K));
  return R;
}

std::optional<double> NodeImporter::constScalar(unsigned I,
                                                llvm::StringRef Role) {
  Value *V = input(I);
  const Tensor *T = V ? V->constantData() : nullptr;
  if (!T) {
    needConstant(I);
    fail("the " + Role + " input '" + (hasInput(I) ? Proto.input(I) : "") +
         "' must be a constant, but it is computed at run time");
    return std::nullopt;
  }
  if (T->Type.numElements() != 1) {
    fail("the " + Role + " input must hold one value, not " + T->Type.str());
    return std::nullopt;
  }
  return T->getDouble(0);
}

// Walks back from the input through the operations that would fold if
// their operands were constants; the graph inputs reached are what a caller
// can bind to make the input constant. An operation the evaluator cannot
// compute ends the walk: binding its operands would not help.
void NodeImporter::needConstant(unsigned I) {
  auto It = M.Values.find(hasInput(I) ? Proto.input(I) : "");
  if (!hasInput(I) || It == M.Values.end())
    return;
  std::vector<const Value *> Work = {It->second};
  std::set<const Value *> Seen;
  while (!Work.empty()) {
    const Value *V = Work.back();
    Work.pop_back();
    if (!Seen.insert(V).second)
      continue;
    auto Input = M.InputNames.find(V);
    if (Input != M.InputNames.end()) {
      M.CompileTimeInputs.insert(Input->second);
      continue;
    }
    const Node *Def = V->Def;
    if (!Def || !canEvaluate(Def->Kind))
      continue;
    Work.insert(Work.end(), Def->Operands.begin(), Def->Operands.end());
  }
}

void NodeImporter::checkUnreadInputs() {
  for (unsigned I = 0; I < numInputs(); ++I)
    if (hasInput(I) && !ReadInputs.count(I))
      return fail("unexpected input " + llvm::Twine(I) + " ('" +
                  Proto.input(I) + "'): " + Proto.op_type() + " in opset " +
                  llvm::Twine(Opset) + " takes fewer inputs");
}

bool NodeImporter::outputUsed(unsigned I) const {
  return I < numOutputs() && !Proto.output(I).empty() &&
         M.Used.count(Proto.output(I));
}

void NodeImporter::setOutput(unsigned I, Value *V) {
  if (V && !failed())
    Outputs[I] = V;
}

Value *NodeImporter::output(unsigned I) const {
  auto It = Outputs.find(I);
  return It == Outputs.end() ? nullptr : It->second;
}

//===----------------------------------------------------------------------===//
// Attributes
//===----------------------------------------------------------------------===//

const onnx::AttributeProto *NodeImporter::findAttr(llvm::StringRef A) const {
  for (const auto &P : Proto.attribute())
    if (P.name() == A)
      return &P;
  return nullptr;
}

bool NodeImporter::hasAttr(llvm::StringRef A) const {
  return findAttr(A) != nullptr;
}

bool NodeImporter::requireAttr(llvm::StringRef A) {
  if (hasAttr(A))
    return true;
  fail("attribute '" + A + "' is required");
  return false;
}

namespace {
using AP = onnx::AttributeProto;
// Whether P holds a value of type T; attributes of old models may lack the
// type field, then the field that is set decides.
bool isType(const AP &P, AP::AttributeType T) {
  if (P.type() != AP::UNDEFINED)
    return P.type() == T;
  switch (T) {
  case AP::INT: return P.has_i();
  case AP::FLOAT: return P.has_f();
  case AP::STRING: return P.has_s();
  case AP::TENSOR: return P.has_t();
  case AP::INTS: return P.ints_size() > 0;
  case AP::FLOATS: return P.floats_size() > 0;
  default: return false;
  }
}
} // namespace

int64_t NodeImporter::attrInt(llvm::StringRef A, int64_t Default) {
  const AP *P = findAttr(A);
  if (!P)
    return Default;
  if (isType(*P, AP::INT))
    return P->i();
  fail("attribute '" + A + "' must be an int");
  return Default;
}

float NodeImporter::attrFloat(llvm::StringRef A, float Default) {
  const AP *P = findAttr(A);
  if (!P)
    return Default;
  if (isType(*P, AP::FLOAT))
    return P->f();
  if (isType(*P, AP::INT))
    return static_cast<float>(P->i());
  fail("attribute '" + A + "' must be a float");
  return Default;
}

std::string NodeImporter::attrString(llvm::StringRef A,
                                     llvm::StringRef Default) {
  const AP *P = findAttr(A);
  if (!P)
    return Default.str();
  if (isType(*P, AP::STRING))
    return P->s();
  fail("attribute '" + A + "' must be a string");
  return Default.str();
}

std::vector<int64_t> NodeImporter::attrInts(llvm::StringRef A,
                                            std::vector<int64_t> Default) {
  const AP *P = findAttr(A);
  if (!P)
    return Default;
  if (isType(*P, AP::INTS) ||
      (P->type() == AP::UNDEFINED && !P->has_i() && !P->has_f() && !P->has_s()))
    return std::vector<int64_t>(P->ints().begin(), P->ints().end());
  fail("attribute '" + A + "' must be a list of ints");
  return Default;
}

std::vector<float> NodeImporter::attrFloats(llvm::StringRef A) {
  const AP *P = findAttr(A);
  if (!P)
    return {};
  if (isType(*P, AP::FLOATS) || P->type() == AP::UNDEFINED)
    return std::vector<float>(P->floats().begin(), P->floats().end());
  fail("attribute '" + A + "' must be a list of floats");
  return {};
}

const onnx::TensorProto *NodeImporter::attrTensor(llvm::StringRef A) {
  const AP *P = findAttr(A);
  if (!P)
    return nullptr;
  if (isType(*P, AP::TENSOR))
    return &P->t();
  fail("attribute '" + A + "' must be a tensor");
  return nullptr;
}

std::optional<int64_t> NodeImporter::normalizeAxis(int64_t Axis, int64_t Rank,
                                                   llvm::StringRef What) {
  if (Axis < -Rank || Axis >= Rank) {
    fail(What + " " + llvm::Twine(Axis) + " is out of range for rank " +
         llvm::Twine(Rank));
    return std::nullopt;
  }
  return Axis < 0 ? Axis + Rank : Axis;
}

std::optional<std::vector<int64_t>>
NodeImporter::normalizeAxes(std::vector<int64_t> Axes, int64_t Rank) {
  for (int64_t &A : Axes) {
    auto Norm = normalizeAxis(A, Rank, "axes value");
    if (!Norm)
      return std::nullopt;
    A = *Norm;
  }
  std::sort(Axes.begin(), Axes.end());
  if (std::adjacent_find(Axes.begin(), Axes.end()) != Axes.end()) {
    fail("axes contain a duplicate");
    return std::nullopt;
  }
  return Axes;
}
