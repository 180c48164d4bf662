//===- Selftest.cpp - The test vector of tidalc compile --emit-selftest ---===//
//
// `--emit-selftest FILE` writes a C file that firmware links to check the
// model on the device (codegen/EmitSelftest.cpp writes it). This file
// chooses what it checks: the inputs come from `--selftest-data DIR`
// (input_K.pb, as `tidalc run --inputs` reads them) or are pseudo-random;
// the expected outputs come from DIR's output_K.pb (the user's framework)
// or, without them, from running the model on the compiling machine,
// compiled for x86-64 with default options and driven as `tidalc run`
// drives it (Run.cpp), so that the device is checked against the host.
//
// The random inputs use SplitMix64, not <random>'s distributions, whose
// results the C++ standard leaves to each library: the same command line
// must write the same bytes everywhere (docs/cli.md).
//
//===----------------------------------------------------------------------===//

#include "tools/tidalc/Tidalc.h"
#include "compiler/Diagnostics.h"
#include "llvm/Support/raw_ostream.h"

using namespace tidal;

static llvm::Error checkNoBits(const Program &P) {
  for (const auto &[What, IOs] :
       {std::pair{"input", &P.Inputs}, std::pair{"output", &P.Outputs}})
    for (size_t K = 0; K < IOs->size(); ++K)
      if ((*IOs)[K].Type.Elem == ElemType::Bit)
        return makeError("--emit-selftest: " + llvm::Twine(What) + " " +
                         llvm::Twine(K) + " ('" + (*IOs)[K].Name +
                         "') is a 1-bit tensor, which a selftest cannot hold");
  return llvm::Error::success();
}

/// SplitMix64 (Steele, Lea and Flood, 2014): the next number of State.
static uint64_t splitMix64(uint64_t &State) {
  uint64_t Z = (State += 0x9e3779b97f4a7c15ull);
  Z = (Z ^ (Z >> 30)) * 0xbf58476d1ce4e5b9ull;
  Z = (Z ^ (Z >> 27)) * 0x94d049bb133111ebull;
  return Z ^ (Z >> 31);
}

/// Input K uniform in [-1, 1): the top 24 bits of SplitMix64 seeded with K,
/// times 2^-23, minus 1 (exact in f32 and f64; f16 rounds to nearest).
/// Integer and boolean inputs have no such default: their valid values
/// depend on the model (indices, lengths, masks).
static llvm::Expected<std::vector<Tensor>> randomInputs(const Program &P) {
  std::vector<Tensor> Inputs;
  for (size_t K = 0; K < P.Inputs.size(); ++K) {
    const IOInfo &IO = P.Inputs[K];
    if (!isFloat(IO.Type.Elem))
      return makeError(
          "--emit-selftest: input " + llvm::Twine(K) + " ('" + IO.Name +
          "') is " + IO.Type.str() +
          ": random test inputs are floats only, since the valid values of "
          "an integer or boolean input depend on the model; give them with "
          "--selftest-data DIR (input_" +
          llvm::Twine(K) + ".pb)");
    Tensor T(IO.Type);
    uint64_t State = K;
    for (int64_t I = 0; I < T.Type.numElements(); ++I)
      T.setDouble(I, double(splitMix64(State) >> 40) * 0x1p-23 - 1.0);
    Inputs.push_back(std::move(T));
  }
  return Inputs;
}

static llvm::Error checkExpected(const Program &P,
                                 const std::vector<Tensor> &Want,
                                 llvm::StringRef Dir) {
  if (Want.size() != P.Outputs.size())
    return makeError("--selftest-data: the model has " +
                     llvm::Twine(P.Outputs.size()) + " outputs but '" + Dir +
                     "' holds " + llvm::Twine(Want.size()) + " (output_K.pb)");
  for (size_t K = 0; K < Want.size(); ++K) {
    const TensorType &T = P.Outputs[K].Type, &W = Want[K].Type;
    if (T.Elem != W.Elem || T.Shape != W.Shape)
      return makeError("--selftest-data: output " + llvm::Twine(K) + " ('" +
                       P.Outputs[K].Name + "') of the model is " + T.str() +
                       " but output_" + llvm::Twine(K) + ".pb is " + W.str());
  }
  return llvm::Error::success();
}

/// The outputs of the model compiled for this machine (x86-64, its default
/// CPU and options: only what defines the model's function is kept, the
/// input shapes and bound inputs) on Inputs. A --schedule, -O or --winograd
/// of the device's compile is thus checked against the default code.
static llvm::Expected<std::vector<Tensor>>
expectedOnHost(const Program &P, const CompileOptions &C,
               const std::vector<Tensor> &Inputs) {
  RunOptions R;
  R.Compile.ModelPath = C.ModelPath;
  R.Compile.InputShapes = C.InputShapes;
  R.Compile.BoundInputs = C.BoundInputs;
  llvm::Expected<std::unique_ptr<Program>> Host =
      compileToProgram(R.Compile, "model");
  if (!Host)
    return Host.takeError();
  std::vector<Tensor> Shapes;
  for (const IOInfo &IO : (*Host)->Outputs)
    Shapes.emplace_back(IO.Type);
  if (llvm::Error E = checkExpected(P, Shapes, "the x86-64 compile"))
    return makeError("internal error: " + toString(std::move(E)));
  llvm::Expected<std::vector<Tensor>> Outputs = buildAndRun(R, **Host, Inputs);
  if (!Outputs)
    return makeError("--emit-selftest: computing the expected outputs on "
                     "this machine failed: " +
                     toString(Outputs.takeError()));
  return Outputs;
}

/// Reads the inputs, and the expected outputs where DIR has them, into V.
static llvm::Error readData(const Program &P, const CompileOptions &C,
                            llvm::StringRef Dir, SelftestVector &V,
                            std::vector<std::string> *ReadFiles) {
  llvm::Expected<std::vector<Tensor>> Read =
      readTensorFiles(Dir, "input_", ReadFiles);
  if (!Read)
    return Read.takeError();
  llvm::Expected<std::vector<Tensor>> Fed =
      checkTestInputs(P, std::move(*Read), C, Dir);
  if (!Fed)
    return makeError("--selftest-data: " + toString(Fed.takeError()));
  V.Inputs = std::move(*Fed);
  V.InputsFrom = "input_K.pb of --selftest-data";
  llvm::Expected<std::vector<Tensor>> Want =
      readTensorFiles(Dir, "output_", ReadFiles);
  if (!Want)
    return Want.takeError();
  if (Want->empty())
    return llvm::Error::success();
  if (llvm::Error E = checkExpected(P, *Want, Dir))
    return E;
  V.Expected = std::move(*Want);
  V.ExpectedFrom = "output_K.pb of --selftest-data";
  return llvm::Error::success();
}

llvm::Expected<SelftestVector>
tidal::makeSelftestVector(const Program &P, const CompileOptions &C,
                          const SelftestOptions &S,
                          std::vector<std::string> *ReadFiles) {
  if (llvm::Error E = checkNoBits(P))
    return std::move(E);
  SelftestVector V;
  V.RTol = S.RTol;
  V.ATol = S.ATol;
  if (!S.DataDir.empty()) {
    if (llvm::Error E = readData(P, C, S.DataDir, V, ReadFiles))
      return std::move(E);
  } else {
    llvm::Expected<std::vector<Tensor>> Inputs = randomInputs(P);
    if (!Inputs)
      return Inputs.takeError();
    V.Inputs = std::move(*Inputs);
    V.InputsFrom = "pseudo-random, uniform in [-1, 1) (SplitMix64, seed K "
                   "for input K)";
  }
  if (V.ExpectedFrom.empty()) {
    llvm::Expected<std::vector<Tensor>> Want = expectedOnHost(P, C, V.Inputs);
    if (!Want)
      return Want.takeError();
    V.Expected = std::move(*Want);
    V.ExpectedFrom = "computed on the compiling machine (x86-64)";
  }
  return V;
}
