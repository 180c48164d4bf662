// STUB: replaced by its owner.
#include "passes/lower/Lowering.h"
#include "compiler/Diagnostics.h"

using namespace tidal;

lower::KernelBuilder::KernelBuilder(std::string KernelName, const Node &Anchor, std::vector<const Node *> Epilogue, const PassOptions &Opts) : Name(KernelName), Anchor(Anchor), Epilogue(Epilogue), Opts(Opts) {}
llvm::Expected<Stmt> lower::lowerNode(const Node &N, KernelBuilder &) { return modelError(N.Name, opName(N.Kind), 0, "not lowered yet"); }
