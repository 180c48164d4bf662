//===- NVPTXLoops.cpp - GPU-bound loops inside a launch -------------------===//
//
// A gpu_block or gpu_thread loop at the top of a launch is not a loop on
// the device: the launch runs its body once per block (thread), and the
// variable is the loop's min plus the block (thread) index, read from the
// special registers %ctaid.x (%tid.x). The launch's grid and block are the
// loops' extents (NVPTXLaunches.cpp checks the shape), so every iteration
// runs exactly once.
//
//===----------------------------------------------------------------------===//

#include "codegen/KernelEmitter.h"
#include "llvm/IR/IntrinsicsNVPTX.h"

using namespace tidal;

void KernelEmitter::emitGpuLoop(const StmtNode &S) {
  llvm::Value *Min = emitExpr(S.Min);
  if (Failed)
    return;
  llvm::Intrinsic::ID ID = S.Loop == ForKind::GpuBlock
                               ? llvm::Intrinsic::nvvm_read_ptx_sreg_ctaid_x
                               : llvm::Intrinsic::nvvm_read_ptx_sreg_tid_x;
  llvm::Value *Index =
      B.CreateZExt(B.CreateIntrinsic(ID, {}, {}), B.getInt64Ty());
  llvm::Value *V = B.CreateAdd(Min, Index, S.Name, false, /*HasNSW=*/true);
  Vars.push_back({S.Name, V});
  emitStmt(S.Body);
  Vars.pop_back();
}
