//===- NVPTXLaunches.cpp - Kernels to GPU launches ------------------------===//
//
// Every top-level statement of a kernel's body is one launch, so the order
// of the statements is kept by the order of the launches on one stream, and
// a statement's GPU loops (set by the schedule: gpu_split makes
// `for gpu_block { for gpu_thread { ... } }`) give its grid and block.
// Only that shape is accepted: a GPU loop deeper inside a statement would
// need a synchronization the launch cannot express, so it is an error.
//
//===----------------------------------------------------------------------===//

#include "codegen/NVPTXCodegen.h"
#include "compiler/Diagnostics.h"
#include "llvm/ADT/StringExtras.h"

using namespace tidal;

namespace {

bool isGpuLoop(const Stmt &S) {
  return S && S->Kind == StmtKind::For &&
         (S->Loop == ForKind::GpuBlock || S->Loop == ForKind::GpuThread);
}

/// The first GPU-bound loop in S, or null.
const StmtNode *findGpuLoop(const Stmt &S) {
  if (!S)
    return nullptr;
  if (isGpuLoop(S))
    return S.get();
  for (const Stmt *Sub : {&S->Body, &S->Else})
    if (const StmtNode *L = findGpuLoop(*Sub))
      return L;
  for (const Stmt &X : S->Stmts)
    if (const StmtNode *L = findGpuLoop(X))
      return L;
  return nullptr;
}

/// A C identifier made of Name (PTX identifiers follow the same rules).
std::string sanitize(llvm::StringRef Name) {
  std::string S;
  for (char C : Name)
    S += llvm::isAlnum(C) ? C : '_';
  return S;
}

llvm::Error launchError(const Kernel &K, const llvm::Twine &Why) {
  return makeError("codegen of kernel '" + K.Name + "' for nvptx: " + Why);
}

/// The constant extent of a GPU loop, checked against Limit.
llvm::Expected<uint32_t> gpuExtent(const Kernel &K, const StmtNode &L,
                                   int64_t Limit) {
  if (L.Extent->Kind != ExprKind::IntImm)
    return launchError(K, "loop '%" + L.Name + "' (" + forKindName(L.Loop) +
                              ") has no constant extent");
  int64_t E = L.Extent->IntValue;
  if (E < 0 || E > Limit)
    return launchError(K, "loop '%" + L.Name + "' (" + forKindName(L.Loop) +
                              ") has extent " + llvm::Twine(E) +
                              ", more than the GPU allows (" +
                              llvm::Twine(Limit) + ")");
  return uint32_t(E);
}

/// Fills in L's grid and block from the GPU loops at the top of S.
llvm::Error shapeLaunch(const Kernel &K, const Stmt &S, GpuLaunch &L) {
  Stmt Inner = S;
  if (isGpuLoop(Inner) && Inner->Loop == ForKind::GpuBlock) {
    llvm::Expected<uint32_t> G = gpuExtent(K, *Inner, INT32_MAX);
    if (!G)
      return G.takeError();
    L.Grid = *G;
    Inner = Inner->Body;
  }
  if (isGpuLoop(Inner) && Inner->Loop == ForKind::GpuThread) {
    llvm::Expected<uint32_t> B = gpuExtent(K, *Inner, 1024);
    if (!B)
      return B.takeError();
    L.Block = *B;
    Inner = Inner->Body;
  }
  if (const StmtNode *G = findGpuLoop(Inner))
    return launchError(K, "loop '%" + G->Name + "' (" + forKindName(G->Loop) +
                              ") is not at the top of a launch (a gpu_block "
                              "loop around a gpu_thread loop, at the top "
                              "level of the kernel)");
  return llvm::Error::success();
}

} // namespace

llvm::Expected<std::vector<std::vector<GpuLaunch>>>
tidal::planLaunches(const Program &P) {
  std::vector<std::vector<GpuLaunch>> All(P.Kernels.size());
  for (size_t KI = 0; KI < P.Kernels.size(); ++KI) {
    const Kernel &K = P.Kernels[KI];
    std::vector<Stmt> Stmts;
    if (K.Body && K.Body->Kind == StmtKind::Seq)
      Stmts = K.Body->Stmts;
    else if (K.Body)
      Stmts.push_back(K.Body);
    for (size_t SI = 0; SI < Stmts.size(); ++SI) {
      GpuLaunch L;
      L.Kernel = KI;
      L.Body = Stmts[SI];
      // The kernel index keeps entries unique whatever the names sanitize to.
      L.Entry = "t" + std::to_string(KI) + "_" + std::to_string(SI) + "_" +
                sanitize(K.Name);
      if (llvm::Error E = shapeLaunch(K, Stmts[SI], L))
        return std::move(E);
      if (L.Grid > 0 && L.Block > 0)
        All[KI].push_back(std::move(L));
    }
  }
  return All;
}
