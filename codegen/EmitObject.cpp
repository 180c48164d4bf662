// STUB: replaced by its owner.
#include "codegen/Codegen.h"
#include "compiler/Diagnostics.h"

using namespace tidal;

llvm::Expected<unsigned> tidal::targetVectorBits(const CodegenOptions &) { return 256u; }
llvm::Error tidal::emitObject(const Program &, const CodegenOptions &, llvm::raw_pwrite_stream &) { return makeError("not implemented yet"); }
llvm::Error tidal::emitLLVMIR(const Program &, const CodegenOptions &, llvm::raw_ostream &) { return makeError("not implemented yet"); }
