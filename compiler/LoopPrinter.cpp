// STUB: replaced by its owner.
#include "compiler/Loop.h"

using namespace tidal;

void tidal::printExpr(const Expr &, llvm::raw_ostream &) {}
void tidal::printStmt(const Stmt &, llvm::raw_ostream &, unsigned) {}
void tidal::printKernel(const Kernel &, llvm::raw_ostream &) {}
void tidal::printProgram(const Program &, llvm::raw_ostream &, const LoopPrintOptions &) {}
