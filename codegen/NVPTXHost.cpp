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

#include "codegen/NVPTXCodegen.h"
#include "codegen/KernelEmitter.h"
#include "compiler/Diagnostics.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Verifier.h"
#include "llvm/Support/raw_ostream.h"

using namespace tidal;

namespace {

/// Must match TIDAL_CUDA_ABI_VERSION and TIDAL_CUDA_ARG_* in tidal_cuda.h.
constexpr uint32_t AbiVersion = 1;
enum ArgKind : uint32_t { ArgInput = 0, ArgOutput = 1, ArgWeights = 2, ArgWorkspace = 3 };

/// Builds the host module's constants.
class HostBuilder {
public:
  HostBuilder(llvm::Module &M, const Program &P)
      : M(M), Ctx(M.getContext()), P(P), I32(llvm::Type::getInt32Ty(Ctx)),
        I64(llvm::Type::getInt64Ty(Ctx)), Ptr(llvm::PointerType::get(Ctx, 0)) {
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

llvm::Constant *HostBuilder::sizes(const llvm::Twine &Name,
                                   const std::vector<IOInfo> &IOs) {
  std::vector<uint64_t> Bytes;
  for (const IOInfo &IO : IOs)
    Bytes.push_back(uint64_t(IO.Type.sizeInBytes()));
  if (Bytes.empty())
    return llvm::ConstantPointerNull::get(llvm::PointerType::get(Ctx, 0));
  return privateConstant(Name, llvm::ConstantDataArray::get(Ctx, Bytes));
}

/// The weights, exactly as the CPU targets place them (ModuleEmitter.cpp).
llvm::Constant *HostBuilder::weights() {
  if (P.Weights.empty())
    return llvm::ConstantPointerNull::get(llvm::PointerType::get(Ctx, 0));
  llvm::Constant *Init =
      llvm::ConstantDataArray::get(Ctx, llvm::ArrayRef<uint8_t>(P.Weights));
  auto *G = new llvm::GlobalVariable(M, Init->getType(), /*isConstant=*/true,
                                     llvm::GlobalValue::InternalLinkage, Init,
                                     P.Name + "_weights");
  G->setAlignment(llvm::Align(64));
  G->setSection(".tidal.weights." + P.Name);
  G->setExternallyInitialized(true);
  return G;
}

llvm::Expected<llvm::Constant *> HostBuilder::arg(const KernelCall &C,
                                                  const BufferDecl &D,
                                                  const BufferBinding &B) {
  uint64_t Bytes = uint64_t(D.Size) * elementBytes(D.Elem);
  auto bad = [&](const llvm::Twine &Why) {
    return makeError("call of kernel '" + C.Kernel + "': argument '" + D.Name +
                     "' " + Why);
  };
  auto fits = [&](int64_t Offset, uint64_t Limit) {
    return Offset >= 0 && uint64_t(Offset) <= Limit &&
           Bytes <= Limit - uint64_t(Offset);
  };
  uint32_t Kind;
  switch (B.Storage) {
  case StorageKind::Input:
    if (B.Index < 0 || size_t(B.Index) >= P.Inputs.size() || !D.ReadOnly ||
        !fits(0, P.Inputs[B.Index].Type.sizeInBytes()))
      return bad("is not a read-only view of an input");
    Kind = ArgInput;
    break;
  case StorageKind::Output:
    if (B.Index < 0 || size_t(B.Index) >= P.Outputs.size() ||
        !fits(0, P.Outputs[B.Index].Type.sizeInBytes()))
      return bad("does not fit its output");
    Kind = ArgOutput;
    break;
  case StorageKind::Weights:
    if (!D.ReadOnly || !fits(B.Offset, P.Weights.size()))
      return bad("is not a read-only view of the weights");
    Kind = ArgWeights;
    break;
  case StorageKind::Workspace:
    if (!fits(B.Offset, uint64_t(std::max<int64_t>(P.WorkspaceSize, 0))))
      return bad("lies outside the workspace");
    Kind = ArgWorkspace;
    break;
  default:
    return bad("is still a temporary (memory planning must run before "
               "codegen)");
  }
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
  llvm::Constant *ArgArray =
      Args.empty() ? llvm::ConstantPointerNull::get(llvm::PointerType::get(Ctx, 0))
                   : privateConstant("args." + llvm::Twine(Number),
                                     llvm::ConstantArray::get(
                                         llvm::ArrayType::get(ArgTy, Args.size()),
                                         Args));
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
    const Kernel *K = P.findKernel(C.Kernel);
    if (!K)
      return makeError("call of unknown kernel '" + C.Kernel + "'");
    if (C.Args.size() != K->Params.size())
      return makeError("call of kernel '" + C.Kernel + "' has " +
                       llvm::Twine(C.Args.size()) + " arguments, expected " +
                       llvm::Twine(K->Params.size()));
    for (const GpuLaunch &L : Launches[K - P.Kernels.data()]) {
      llvm::Expected<llvm::Constant *> C1 = launch(C, L, List.size());
      if (!C1)
        return C1.takeError();
      List.push_back(*C1);
    }
  }
  llvm::Constant *LaunchArray =
      List.empty() ? llvm::ConstantPointerNull::get(llvm::PointerType::get(Ctx, 0))
                   : privateConstant("launches",
                                     llvm::ConstantArray::get(
                                         llvm::ArrayType::get(LaunchTy, List.size()),
                                         List));
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
  llvm::LLVMContext &Ctx = M.getContext();
  llvm::Type *Ptr = llvm::PointerType::get(Ctx, 0);
  llvm::Type *I32 = llvm::Type::getInt32Ty(Ctx);
  auto *FT = llvm::FunctionType::get(I32, {Ptr, Ptr, Ptr}, false);
  auto *Run = llvm::Function::Create(FT, llvm::GlobalValue::ExternalLinkage,
                                     P.Name + "_run", M);
  Run->addFnAttr(llvm::Attribute::NoUnwind);
  Run->addFnAttr("target-cpu", T.CPU);
  const char *Names[] = {"inputs", "outputs", "workspace"};
  for (unsigned I = 0; I < 3; ++I)
    Run->getArg(I)->setName(Names[I]);
  llvm::FunctionCallee Launcher = M.getOrInsertFunction(
      "tidal_cuda_run", llvm::FunctionType::get(I32, {Ptr, Ptr, Ptr, Ptr}, false));
  llvm::IRBuilder<> B(llvm::BasicBlock::Create(Ctx, "entry", Run));
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
  HostOpts.CPU = "x86-64";
  HostOpts.OptLevel = Opts.OptLevel;
  auto T = setupTarget(HostOpts);
  if (!T)
    return T.takeError();
  llvm::LLVMContext Ctx;
  llvm::Module M(P.Name, Ctx);
  M.setSourceFileName(P.Name);
  M.setTargetTriple((*T)->Triple);
  M.setDataLayout((*T)->TM->createDataLayout());
  llvm::Expected<llvm::GlobalVariable *> Model =
      HostBuilder(M, P).model(*PTX, *Launches);
  if (!Model)
    return Model.takeError();
  emitRun(M, P, *Model, **T);
  std::string Msg;
  llvm::raw_string_ostream VOS(Msg);
  if (llvm::verifyModule(M, &VOS))
    return makeError("codegen produced invalid LLVM IR (a Tidal bug): " +
                     VOS.str());
  llvm::legacy::PassManager PM;
  if ((*T)->TM->addPassesToEmitFile(PM, OS, nullptr,
                                    llvm::CodeGenFileType::ObjectFile))
    return makeError("the x86-64 backend cannot emit objects");
  PM.run(M);
  return llvm::Error::success();
}
