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
//    it and its tables refer to each other by self-relative offsets
//    (target - holder), never pointers, so that the descriptor needs no
//    load-time relocation and is `.rodata`, not the writable
//    `.data.rel.ro` of pointers in PIC (the firmware contract, docs/abi.md);
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
constexpr uint32_t AbiVersion = 2;
enum ArgKind : uint32_t { ArgInput = 0, ArgOutput = 1, ArgWeights = 2, ArgWorkspace = 3 };

/// What one launch refers to, made before the launch table that holds it
/// (its offsets need the table's address).
struct LaunchParts {
  llvm::Constant *Entry;
  llvm::Constant *Args; ///< null without arguments
  uint32_t Grid, Block, NumArgs;
};

/// Builds the host module's constants. They are created in a fixed order
/// (per launch its arguments, then its entry name; then the launch list,
/// the PTX, the weights, the input and output sizes, the model): the order
/// of the globals is the order of the object's data. A reference between
/// them is a tidal_cuda_offset: `ptrtoint target - ptrtoint holder`, where
/// the holder (the struct holding the field) is in the field's section, so
/// the assembler resolves it or leaves a PC-relative relocation for the
/// static linker; a missing target is 0.
class HostBuilder {
public:
  HostBuilder(llvm::Module &M, const Program &P, const TargetSetup &T)
      : M(M), Ctx(M.getContext()), P(P), T(T), I32(llvm::Type::getInt32Ty(Ctx)),
        I64(llvm::Type::getInt64Ty(Ctx)) {
    ArgTy = llvm::StructType::create(Ctx, {I32, I32, I64}, "tidal_cuda_arg");
    LaunchTy = llvm::StructType::create(Ctx, {I64, I32, I32, I32, I32, I64},
                                        "tidal_cuda_launch");
    ModelTy = llvm::StructType::create(
        Ctx, {I32, I32, I32, I32, I64, I64, I64, I64, I64, I64, I64},
        "tidal_cuda_model");
  }
  llvm::Expected<llvm::GlobalVariable *>
  model(const std::string &PTX,
        const std::vector<std::vector<GpuLaunch>> &Launches);

private:
  llvm::GlobalVariable *privateConstant(const llvm::Twine &Name,
                                        llvm::Constant *Init);
  llvm::Constant *string(const llvm::Twine &Name, llvm::StringRef S);
  /// A private constant array, or null when it has no elements.
  llvm::Constant *array(const llvm::Twine &Name, llvm::Type *Elem,
                        llvm::ArrayRef<llvm::Constant *> Elems);
  llvm::Constant *sizes(const llvm::Twine &Name, const std::vector<IOInfo> &IOs);
  llvm::Constant *weights();
  llvm::Constant *offset(llvm::Constant *Target, llvm::Constant *Holder);
  llvm::Expected<llvm::Constant *> arg(const KernelCall &C,
                                       const BufferDecl &D,
                                       const BufferBinding &B);
  llvm::Expected<LaunchParts> launchParts(const KernelCall &C,
                                          const GpuLaunch &L, size_t Number);
  llvm::Expected<std::vector<LaunchParts>>
  allLaunchParts(const std::vector<std::vector<GpuLaunch>> &Launches);
  llvm::Constant *launchTable(llvm::ArrayRef<LaunchParts> Parts);

  llvm::Module &M;
  llvm::LLVMContext &Ctx;
  const Program &P;
  const TargetSetup &T;
  llvm::Type *I32, *I64;
  llvm::StructType *ArgTy, *LaunchTy, *ModelTy;
};

llvm::GlobalVariable *HostBuilder::privateConstant(const llvm::Twine &Name,
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
    return nullptr;
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
llvm::Constant *HostBuilder::weights() { return emitWeights(M, P, T); }

/// The tidal_cuda_offset from Holder to Target (0 for no target). Both are
/// local to the module, so LLVM counts the difference as needing no
/// dynamic relocation and keeps the holding constant in `.rodata`.
llvm::Constant *HostBuilder::offset(llvm::Constant *Target,
                                    llvm::Constant *Holder) {
  if (!Target)
    return llvm::ConstantInt::get(I64, 0);
  return llvm::ConstantExpr::getSub(
      llvm::ConstantExpr::getPtrToInt(Target, I64),
      llvm::ConstantExpr::getPtrToInt(Holder, I64));
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

llvm::Expected<LaunchParts> HostBuilder::launchParts(const KernelCall &C,
                                                     const GpuLaunch &L,
                                                     size_t Number) {
  const Kernel &K = P.Kernels[L.Kernel];
  std::vector<llvm::Constant *> Args;
  for (size_t I = 0; I < K.Params.size(); ++I) {
    llvm::Expected<llvm::Constant *> A = arg(C, K.Params[I], C.Args[I]);
    if (!A)
      return A.takeError();
    Args.push_back(*A);
  }
  llvm::Constant *ArgArray = array("args." + llvm::Twine(Number), ArgTy, Args);
  return LaunchParts{string("entry." + llvm::Twine(Number), L.Entry), ArgArray,
                     L.Grid, L.Block, static_cast<uint32_t>(Args.size())};
}

/// Every launch of the program, in call order.
llvm::Expected<std::vector<LaunchParts>> HostBuilder::allLaunchParts(
    const std::vector<std::vector<GpuLaunch>> &Launches) {
  std::vector<LaunchParts> List;
  for (const KernelCall &C : P.Calls) {
    llvm::Expected<const Kernel *> K = calledKernel(P, C);
    if (!K)
      return K.takeError();
    for (const GpuLaunch &L : Launches[*K - P.Kernels.data()]) {
      llvm::Expected<LaunchParts> Parts = launchParts(C, L, List.size());
      if (!Parts)
        return Parts.takeError();
      List.push_back(*Parts);
    }
  }
  return List;
}

/// The table of launches, or null when there is none. Each element's
/// offsets count from that element, so the table is created first and its
/// elements refer to themselves through it.
llvm::Constant *HostBuilder::launchTable(llvm::ArrayRef<LaunchParts> Parts) {
  if (Parts.empty())
    return nullptr;
  auto *TableTy = llvm::ArrayType::get(LaunchTy, Parts.size());
  llvm::GlobalVariable *Table =
      privateConstant("launches", llvm::Constant::getNullValue(TableTy));
  std::vector<llvm::Constant *> Elems;
  for (size_t I = 0; I < Parts.size(); ++I) {
    const LaunchParts &L = Parts[I];
    llvm::Constant *Self = llvm::ConstantExpr::getInBoundsGetElementPtr(
        TableTy, Table,
        llvm::ArrayRef<llvm::Constant *>{llvm::ConstantInt::get(I64, 0),
                                         llvm::ConstantInt::get(I64, I)});
    Elems.push_back(llvm::ConstantStruct::get(
        LaunchTy, {offset(L.Entry, Self), llvm::ConstantInt::get(I32, L.Grid),
                   llvm::ConstantInt::get(I32, L.Block),
                   llvm::ConstantInt::get(I32, L.NumArgs),
                   llvm::ConstantInt::get(I32, 0), offset(L.Args, Self)}));
  }
  Table->setInitializer(llvm::ConstantArray::get(TableTy, Elems));
  return Table;
}

llvm::Expected<llvm::GlobalVariable *>
HostBuilder::model(const std::string &PTX,
                   const std::vector<std::vector<GpuLaunch>> &Launches) {
  llvm::Expected<std::vector<LaunchParts>> Parts = allLaunchParts(Launches);
  if (!Parts)
    return Parts.takeError();
  llvm::Constant *LaunchArray = launchTable(*Parts);
  llvm::Constant *PTXText = string("ptx", PTX);
  llvm::Constant *Weights = weights();
  llvm::Constant *InputSizes = sizes("input_sizes", P.Inputs);
  llvm::Constant *OutputSizes = sizes("output_sizes", P.Outputs);
  // Created last, as before, so that the data keep their order; its
  // initializer refers to its own address.
  auto *G = new llvm::GlobalVariable(
      M, ModelTy, /*isConstant=*/true, llvm::GlobalValue::InternalLinkage,
      llvm::Constant::getNullValue(ModelTy), P.Name + ".model");
  G->setAlignment(llvm::Align(8));
  llvm::Constant *Fields[] = {
      llvm::ConstantInt::get(I32, AbiVersion),
      llvm::ConstantInt::get(I32, P.Inputs.size()),
      llvm::ConstantInt::get(I32, P.Outputs.size()),
      llvm::ConstantInt::get(I32, Parts->size()),
      offset(PTXText, G),
      offset(Weights, G),
      llvm::ConstantInt::get(I64, P.Weights.size()),
      llvm::ConstantInt::get(I64, std::max<int64_t>(P.WorkspaceSize, 0)),
      offset(InputSizes, G),
      offset(OutputSizes, G),
      offset(LaunchArray, G)};
  G->setInitializer(llvm::ConstantStruct::get(ModelTy, Fields));
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
  HostOpts.WeightsSection = Opts.WeightsSection;
  HostOpts.Align = Opts.Align;
  auto T = setupTarget(HostOpts);
  if (!T)
    return T.takeError();
  CodegenContext Ctx;
  std::unique_ptr<llvm::Module> M = createModule(P, **T, Ctx.get());
  llvm::Expected<llvm::GlobalVariable *> Model =
      HostBuilder(*M, P, **T).model(*PTX, *Launches);
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
