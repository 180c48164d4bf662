//===- NVPTXHost.cpp - The host object of the nvptx target ----------------===//
//
// For --target nvptx the object a user links is an x86-64 object (generic
// x86-64 CPU, PIC) that holds no GPU code of its own:
//  - the PTX text of the kernels, a NUL-terminated constant string;
//  - the weights, in the section `.tidal.weights.<name>` as on the CPUs;
//  - an internal constant `<name>.model` of type tidal_cuda_model
//    (runtime/include/tidal_cuda.h): the PTX, the weights and their size,
//    the device workspace's size, the inputs' and outputs' byte sizes, and
//    the launches (entry name, grid, block, and where each argument lives);
//  - `int <name>_run(inputs, outputs, workspace)`, which returns
//    tidal_cuda_run(&<name>.model, inputs, outputs, workspace).
// There is no mutable global: the runtime keeps the per-model state (the
// loaded module, the resident weights, the device buffers) keyed by the
// descriptor's address. The only undefined symbol is tidal_cuda_run.
//
// The LLVM types below mirror the C structs of tidal_cuda.h field by field;
// the x86-64 data layout gives them the same offsets as the C compiler
// (tidal_cuda.c checks the offsets it relies on at compile time).
//
//===----------------------------------------------------------------------===//

#include "codegen/Backend.h"
#include "codegen/ModuleEmitter.h"
#include "codegen/NVPTXCodegen.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/IRBuilder.h"

using namespace tidal;

namespace {

/// Must match TIDAL_CUDA_ABI_VERSION and TIDAL_CUDA_ARG_* in tidal_cuda.h.
constexpr uint32_t AbiVersion = 1;
enum ArgKind : uint32_t { ArgInput = 0, ArgOutput = 1, ArgWeights = 2, ArgWorkspace = 3 };

/// Builds the host module's constants. They are created in a fixed order
/// (per launch its arguments, then its entry name; then the launch list,
/// the PTX, the weights, the input and output sizes): the order of the
/// globals is the order of the object's data.
class HostBuilder {
public:
  HostBuilder(llvm::Module &M, const Program &P)
      : M(M), Ctx(M.getContext()), P(P), I32(llvm::Type::getInt32Ty(Ctx)),
        I64(llvm::Type::getInt64Ty(Ctx)), Ptr(llvm::PointerType::get(Ctx, 0)),
        Null(llvm::ConstantPointerNull::get(llvm::PointerType::get(Ctx, 0))) {
    ArgTy = llvm::StructType::create(Ctx, {I32, I32, I64}, "tidal_cuda_arg");
    LaunchTy = llvm::StructType::create(Ctx, {Ptr, I32, I32, I32, I32, Ptr},
                                        "tidal_cuda_launch");
    ModelTy = llvm::StructType::create(
        Ctx, {I32, I32, I32, I32, Ptr, Ptr, I64, I64, Ptr, Ptr, Ptr},
        "tidal_cuda_model");
  }
  llvm::Expected<llvm::GlobalVariable *>
  model(const std::string &PTX,
        const std::vector<std::vector<GpuLaunch>> &Launches);

private:
  llvm::Constant *privateConstant(const llvm::Twine &Name, llvm::Constant *Init);
  llvm::Constant *string(const llvm::Twine &Name, llvm::StringRef S);
  /// A private constant array, or null when it has no elements.
  llvm::Constant *array(const llvm::Twine &Name, llvm::Type *Elem,
                        llvm::ArrayRef<llvm::Constant *> Elems);
  llvm::Constant *sizes(const llvm::Twine &Name, const std::vector<IOInfo> &IOs);
  llvm::Constant *weights();
  llvm::Expected<llvm::Constant *> arg(const KernelCall &C,
                                       const BufferDecl &D,
                                       const BufferBinding &B);
  llvm::Expected<llvm::Constant *> launch(const KernelCall &C,
                                          const GpuLaunch &L, size_t Number);

  llvm::Module &M;
  llvm::LLVMContext &Ctx;
  const Program &P;
  llvm::Type *I32, *I64, *Ptr;
  llvm::Constant *Null;
  llvm::StructType *ArgTy, *LaunchTy, *ModelTy;
};

llvm::Constant *HostBuilder::privateConstant(const llvm::Twine &Name,
                                             llvm::Constant *Init) {
  return new llvm::GlobalVariable(M, Init->getType(), /*isConstant=*/true,
                                  llvm::GlobalValue::PrivateLinkage, Init,
                                  P.Name + "." + Name);
}

llvm::Constant *HostBuilder::string(const llvm::Twine &Name, llvm::StringRef S) {
  return privateConstant(Name, llvm::ConstantDataArray::getString(Ctx, S));
}

llvm::Constant *HostBuilder::array(const llvm::Twine &Name, llvm::Type *Elem,
                                   llvm::ArrayRef<llvm::Constant *> Elems) {
  if (Elems.empty())
    return Null;
  return privateConstant(
      Name, llvm::ConstantArray::get(llvm::ArrayType::get(Elem, Elems.size()),
                                     Elems));
}

llvm::Constant *HostBuilder::sizes(const llvm::Twine &Name,
                                   const std::vector<IOInfo> &IOs) {
  std::vector<llvm::Constant *> Bytes;
  for (const IOInfo &IO : IOs)
    Bytes.push_back(llvm::ConstantInt::get(I64, IO.Type.sizeInBytes()));
  return array(Name, I64, Bytes);
}

/// The weights exactly as the CPU targets place them.
llvm::Constant *HostBuilder::weights() {
  if (llvm::GlobalVariable *G = emitWeights(M, P))
    return G;
  return Null;
}

llvm::Expected<llvm::Constant *> HostBuilder::arg(const KernelCall &C,
                                                  const BufferDecl &D,
                                                  const BufferBinding &B) {
  if (llvm::Error E = checkBinding(P, C, D, B))
    return std::move(E);
  uint32_t Kind = B.Storage == StorageKind::Input     ? ArgInput
                  : B.Storage == StorageKind::Output  ? ArgOutput
                  : B.Storage == StorageKind::Weights ? ArgWeights
                                                      : ArgWorkspace;
  bool Indexed = Kind == ArgInput || Kind == ArgOutput;
  return llvm::ConstantStruct::get(
      ArgTy, {llvm::ConstantInt::get(I32, Kind),
              llvm::ConstantInt::get(I32, Indexed ? B.Index : 0),
              llvm::ConstantInt::get(I64, Indexed ? 0 : B.Offset)});
}

llvm::Expected<llvm::Constant *>
HostBuilder::launch(const KernelCall &C, const GpuLaunch &L, size_t Number) {
  const Kernel &K = P.Kernels[L.Kernel];
  std::vector<llvm::Constant *> Args;
  for (size_t I = 0; I < K.Params.size(); ++I) {
    llvm::Expected<llvm::Constant *> A = arg(C, K.Params[I], C.Args[I]);
    if (!A)
      return A.takeError();
    Args.push_back(*A);
  }
  llvm::Constant *ArgArray = array("args." + llvm::Twine(Number), ArgTy, Args);
  return llvm::ConstantStruct::get(
      LaunchTy, {string("entry." + llvm::Twine(Number), L.Entry),
                 llvm::ConstantInt::get(I32, L.Grid),
                 llvm::ConstantInt::get(I32, L.Block),
                 llvm::ConstantInt::get(I32, Args.size()),
                 llvm::ConstantInt::get(I32, 0), ArgArray});
}

llvm::Expected<llvm::GlobalVariable *>
HostBuilder::model(const std::string &PTX,
                   const std::vector<std::vector<GpuLaunch>> &Launches) {
  std::vector<llvm::Constant *> List;
  for (const KernelCall &C : P.Calls) {
    llvm::Expected<const Kernel *> K = calledKernel(P, C);
    if (!K)
      return K.takeError();
    for (const GpuLaunch &L : Launches[*K - P.Kernels.data()]) {
      llvm::Expected<llvm::Constant *> C1 = launch(C, L, List.size());
      if (!C1)
        return C1.takeError();
      List.push_back(*C1);
    }
  }
  llvm::Constant *LaunchArray = array("launches", LaunchTy, List);
  llvm::Constant *Fields[] = {
      llvm::ConstantInt::get(I32, AbiVersion),
      llvm::ConstantInt::get(I32, P.Inputs.size()),
      llvm::ConstantInt::get(I32, P.Outputs.size()),
      llvm::ConstantInt::get(I32, List.size()),
      string("ptx", PTX),
      weights(),
      llvm::ConstantInt::get(I64, P.Weights.size()),
      llvm::ConstantInt::get(I64, std::max<int64_t>(P.WorkspaceSize, 0)),
      sizes("input_sizes", P.Inputs),
      sizes("output_sizes", P.Outputs),
      LaunchArray};
  auto *G = new llvm::GlobalVariable(
      M, ModelTy, /*isConstant=*/true, llvm::GlobalValue::InternalLinkage,
      llvm::ConstantStruct::get(ModelTy, Fields), P.Name + ".model");
  G->setAlignment(llvm::Align(8));
  return G;
}

/// `int <name>_run(inputs, outputs, workspace)`: the runtime does the rest.
void emitRun(llvm::Module &M, const Program &P, llvm::GlobalVariable *Model,
             const TargetSetup &T) {
  llvm::Function *Run = declareRun(M, P);
  Run->addFnAttr(llvm::Attribute::NoUnwind);
  setTargetAttributes(*Run, T);
  llvm::IRBuilder<> B(llvm::BasicBlock::Create(M.getContext(), "entry", Run));
  llvm::Type *Ptr = B.getPtrTy();
  llvm::FunctionCallee Launcher = M.getOrInsertFunction(
      "tidal_cuda_run",
      llvm::FunctionType::get(B.getInt32Ty(), {Ptr, Ptr, Ptr, Ptr}, false));
  B.CreateRet(B.CreateCall(Launcher, {Model, Run->getArg(0), Run->getArg(1),
                                      Run->getArg(2)}));
}

} // namespace

llvm::Error tidal::emitNVPTXObject(const Program &P, const CodegenOptions &Opts,
                                   llvm::raw_pwrite_stream &OS) {
  llvm::Expected<std::vector<std::vector<GpuLaunch>>> Launches =
      planLaunches(P);
  if (!Launches)
    return Launches.takeError();
  llvm::Expected<std::string> PTX = compilePTX(P, Opts);
  if (!PTX)
    return PTX.takeError();
  CodegenOptions HostOpts;
  HostOpts.Target = "x86-64";
  HostOpts.CPU = "x86-64"; // generic: the object runs on any x86-64 host
  HostOpts.OptLevel = Opts.OptLevel;
  auto T = setupTarget(HostOpts);
  if (!T)
    return T.takeError();
  CodegenContext Ctx;
  std::unique_ptr<llvm::Module> M = createModule(P, **T, Ctx.get());
  llvm::Expected<llvm::GlobalVariable *> Model =
      HostBuilder(*M, P).model(*PTX, *Launches);
  if (!Model)
    return Model.takeError();
  emitRun(*M, P, *Model, **T);
  if (llvm::Error E = verifyGenerated(*M))
    return E;
  // Nothing to optimize: the module is constants and one call.
  if (llvm::Error E = emitCode(*M, **T, OS, llvm::CodeGenFileType::ObjectFile))
    return E;
  return Ctx.errors();
}
