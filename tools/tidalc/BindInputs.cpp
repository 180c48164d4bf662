//===- BindInputs.cpp - Graph inputs compiled in as constants -------------===//
//
// Tidal compiles static shapes, so a model whose Reshape shape, Slice starts
// or Reduce axes come from a graph input compiles only for one value of that
// input. `--bind-input NAME=FILE.pb` gives that value (the frontend turns
// the input into a constant, ImportOptions::BoundInputs); `tidalc run
// --bind-shape-inputs` binds every input the model needs at compile time to
// its test value. The bound inputs are no longer inputs of the compiled
// model, so the files of DIR (input_K.pb: the K-th graph input of the
// original model, initializers excluded) are mapped onto the remaining ones
// here.
//
//===----------------------------------------------------------------------===//

#include "tools/tidalc/Tidalc.h"
#include "compiler/Diagnostics.h"
#include "frontend/OnnxImporter.h"

using namespace tidal;

llvm::Error tidal::parseBindInput(llvm::StringRef Arg,
                                  std::map<std::string, Tensor> &Bound) {
  size_t Eq = Arg.find('=');
  if (Eq == llvm::StringRef::npos || Eq == 0 || Eq + 1 == Arg.size())
    return makeError("--bind-input '" + Arg +
                     "': expected NAME=FILE.pb (a serialized TensorProto)");
  llvm::StringRef Name = Arg.substr(0, Eq), File = Arg.substr(Eq + 1);
  llvm::Expected<Tensor> T = readTensorProtoFile(File);
  if (!T)
    return makeError("--bind-input '" + Arg +
                     "': " + toString(T.takeError()));
  if (Bound.count(Name.str()))
    return makeError("--bind-input binds '" + Name + "' twice");
  Bound.emplace(Name.str(), std::move(*T));
  return llvm::Error::success();
}

/// The import options of C that decide what the model needs.
static ImportOptions importOptions(const CompileOptions &C) {
  ImportOptions IO;
  IO.InputShapes = C.InputShapes;
  IO.BoundInputs = C.BoundInputs;
  return IO;
}

/// Binds Names to their test values; returns how many were new.
static size_t bindFromTestData(CompileOptions &C,
                               const std::vector<std::string> &Names,
                               const std::vector<DeclaredInput> &Declared,
                               const std::vector<Tensor> &Inputs) {
  size_t New = 0;
  for (const std::string &Name : Names)
    for (size_t K = 0; K < Declared.size() && K < Inputs.size(); ++K)
      if (Declared[K].Name == Name && !C.BoundInputs.count(Name)) {
        C.BoundInputs.emplace(Name, Inputs[K]);
        ++New;
      }
  return New;
}

void tidal::bindShapeInputs(CompileOptions &C,
                            const std::vector<Tensor> &Inputs) {
  // A model that cannot be read binds nothing; the compile says why.
  llvm::Expected<std::vector<DeclaredInput>> Declared =
      declaredInputs(C.ModelPath);
  if (!Declared)
    return llvm::consumeError(Declared.takeError());
  // Each round binds at least one more input, or stops.
  for (size_t Round = 0; Round <= Declared->size(); ++Round) {
    llvm::Expected<std::vector<std::string>> Names =
        compileTimeInputs(C.ModelPath, importOptions(C));
    if (!Names)
      return llvm::consumeError(Names.takeError());
    if (bindFromTestData(C, *Names, *Declared, Inputs) == 0)
      return;
  }
}

std::vector<std::string> tidal::boundInputNames(const CompileOptions &C) {
  std::vector<std::string> Names;
  llvm::Expected<std::vector<DeclaredInput>> Declared =
      declaredInputs(C.ModelPath);
  if (Declared) {
    for (const DeclaredInput &D : *Declared)
      if (C.BoundInputs.count(D.Name))
        Names.push_back(D.Name);
  } else {
    llvm::consumeError(Declared.takeError());
  }
  // Then any others (initializers listed as inputs), by name.
  for (const auto &[Name, T] : C.BoundInputs)
    if (!llvm::is_contained(Names, Name))
      Names.push_back(Name);
  return Names;
}

llvm::Expected<std::vector<size_t>>
tidal::runtimeInputIndices(const CompileOptions &C, size_t &NumDeclared) {
  llvm::Expected<std::vector<DeclaredInput>> Declared =
      declaredInputs(C.ModelPath);
  if (!Declared)
    return Declared.takeError();
  NumDeclared = Declared->size();
  std::vector<size_t> Indices;
  for (size_t K = 0; K < Declared->size(); ++K)
    if (!C.BoundInputs.count((*Declared)[K].Name))
      Indices.push_back(K);
  return Indices;
}
