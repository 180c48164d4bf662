//===- CacheWrite.cpp - Buffers in local storage --------------------------===//
//
// `cache_write %y, %l`: inside each iteration of loop %l, the accesses to
// parameter %y go to a local buffer `%y_acc` that holds the region of %y the
// iteration touches (bounds inference, Bounds.h), copied in from %y before
// the body and written back after it. This is how a register tile keeps
// its accumulators out of memory across a reduction: cache the output
// block at the loop above the reduction, unroll the block's loops, and the
// local buffer's elements are read and written at constant indices, which
// LLVM keeps in registers.
//
// The region's extent must be constant per dimension and at most
// MaxCached elements. Copying in makes the local copy start from %y's
// values, so bodies that accumulate into %y keep their meaning; copying
// back the whole region writes unchanged elements back unchanged. Copies
// of a region that interval arithmetic could not keep inside %y (its ends
// are not constants) test each element's index. Refused where a call binds
// %y and another parameter to overlapping storage (the body would read the
// other name's stale copy), and inside loops that run in parallel or on the
// GPU (neighbouring iterations' write-backs could overlap).
//
// `store_at %t, %l`: the scratch buffer %t, whose producer compute_at
// placed at %l or inside it, gets local storage in %l's body sized to the
// region one iteration touches, and no longer needs its parameter (the
// kernel's workspace shrinks). No copies: each iteration writes what it
// reads first. Allowed inside parallel loops, where the local storage is
// private to each iteration. apply-schedule checks the compute_at.
//
//===----------------------------------------------------------------------===//

#include "passes/loop/CacheWrite.h"
#include "passes/loop/Bounds.h"
#include "passes/loop/LoopUtils.h"

using namespace tidal;
using namespace tidal::loop;

namespace {

/// The most elements a cached region may hold (it lives on the stack).
constexpr int64_t MaxCached = 4096;

/// Redirects the accesses of Buf to the local Acc at index - Lo.
class Redirect : public IRMutator {
public:
  Redirect(const std::string &Buf, const std::string &Acc,
           const std::vector<Interval> &Region,
           const std::vector<int64_t> &Extents)
      : Buf(Buf), Acc(Acc), Region(Region), Extents(Extents) {}
  using IRMutator::mutate;
  Expr mutate(const Expr &E) override {
    Expr New = IRMutator::mutate(E);
    if (!New || New->Kind != ExprKind::Load || New->Name != Buf)
      return New;
    return load(Acc, New->Type, local(New->Operands));
  }
  Stmt mutate(const Stmt &S) override {
    Stmt New = IRMutator::mutate(S);
    if (!New || New->Kind != StmtKind::Store || New->Name != Buf)
      return New;
    return store(Acc, local(New->Indices), New->Value);
  }
  Expr local(const std::vector<Expr> &Indices) const {
    std::vector<Expr> Rel;
    for (size_t D = 0; D < Indices.size(); ++D)
      Rel.push_back(minus(Indices[D], Region[D].Lo));
    return rowMajorIndex(Extents, Rel);
  }

private:
  const std::string &Buf, &Acc;
  const std::vector<Interval> &Region;
  const std::vector<int64_t> &Extents;
};


/// The region of Buf that one iteration of loop Loop touches, for local
/// storage: constant extents (at most MaxCached elements), and whether it
/// provably lies inside the buffer.
struct LocalRegion {
  const BufferDecl *Decl = nullptr;
  const StmtNode *L = nullptr;
  std::vector<int64_t> Dims, Extents;
  std::vector<Interval> Region;
  int64_t Elems = 1;
  bool Inside = true;
};

std::string localRegion(const Stmt &Body, const std::vector<BufferDecl> &Params,
                        const std::string &Buf, const std::string &Loop,
                        bool InParallel, LocalRegion &LR) {
  auto Decl = std::find_if(Params.begin(), Params.end(),
                           [&](const BufferDecl &B) { return B.Name == Buf; });
  if (Decl == Params.end())
    return "unknown parameter '%" + Buf + "'";
  if (Decl->ReadOnly)
    return "'%" + Buf + "' is read-only";
  LR.Decl = &*Decl;
  std::vector<const StmtNode *> Path = loopsTo(Body, Loop);
  if (Path.empty())
    return "unknown loop '%" + Loop + "'";
  for (const StmtNode *L : Path)
    if (!InParallel &&
        (L->Loop == ForKind::Parallel || L->Loop == ForKind::GpuBlock ||
         L->Loop == ForKind::GpuThread))
      return "loop '%" + L->Name + "' runs " + forKindName(L->Loop).str() +
             ": write-backs of its iterations could overlap";
  LR.Dims = Decl->Shape.empty() ? std::vector<int64_t>{Decl->Size} : Decl->Shape;
  std::string Why;
  LR.L = Path.back();
  std::optional<std::vector<Interval>> Region =
      accessRegion(LR.L->Body, Buf, LR.Dims.size(), /*Stores=*/true, Why);
  if (!Region)
    return "cannot infer the region of '%" + Buf + "' in loop '%" + Loop +
           "': " + Why;
  if (Region->empty())
    return "loop '%" + Loop + "' does not access '%" + Buf + "'";
  LR.Region = *Region;
  // The loops around the region's ends range over their bounds, to tell
  // whether the region lies inside the buffer.
  Ranges Around = loopRanges(Path);
  for (size_t D = 0; D < LR.Dims.size(); ++D) {
    const Interval &R = LR.Region[D];
    std::optional<int64_t> E = difference(R.Lo, R.Hi);
    if (!E || *E < 0)
      return "the region of '%" + Buf + "' in loop '%" + Loop +
             "' has no constant size in dimension " + std::to_string(D);
    LR.Extents.push_back(*E + 1);
    LR.Elems *= *E + 1;
    if (LR.Elems > MaxCached)
      return "the region of '%" + Buf + "' in loop '%" + Loop + "' holds " +
             "more than " + std::to_string(MaxCached) + " elements";
    std::optional<Interval> Lo = bounds(R.Lo, Around);
    std::optional<int64_t> First = Lo ? constInt(Lo->Lo) : std::nullopt;
    std::optional<int64_t> Last = Lo ? constInt(Lo->Hi) : std::nullopt;
    LR.Inside &= First && Last && *First >= 0 && *Last + *E < LR.Dims[D];
  }
  return "";
}

} // namespace

std::string loop::cacheWrite(Stmt &Body, const std::vector<BufferDecl> &Params,
                             const std::string &Buf, const std::string &Loop,
                             std::set<std::string> &Names) {
  LocalRegion LR;
  std::string Err = localRegion(Body, Params, Buf, Loop, false, LR);
  if (!Err.empty())
    return Err;
  const std::vector<int64_t> &Dims = LR.Dims, &Extents = LR.Extents;
  std::string Acc = freshName(Buf + "_acc", Names);
  Redirect Rd(Buf, Acc, LR.Region, Extents);
  DataType T(LR.Decl->Elem);
  // Copies between the region of Buf and Acc, one loop per dimension.
  auto Copy = [&](bool In) {
    std::vector<std::string> Vars;
    std::vector<Expr> Global, Rel;
    Expr InBuffer;
    for (size_t D = 0; D < Dims.size(); ++D) {
      Vars.push_back(freshName(Buf + (In ? "_in" : "_out") + std::to_string(D),
                               Names));
      Rel.push_back(var(Vars.back()));
      Global.push_back(plus(LR.Region[D].Lo, Rel.back()));
      Expr Ok = logicalAnd(ge(Global.back(), intImm(0)),
                           lt(Global.back(), intImm(Dims[D])));
      InBuffer = InBuffer ? logicalAnd(InBuffer, Ok) : Ok;
    }
    Expr At = rowMajorIndex(Extents, Rel);
    Expr G = Global.size() == 1 ? Global[0] : nullptr;
    Stmt S = In ? store(Acc, At, G ? load(Buf, T, G) : load(Buf, T, Global))
                : (G ? store(Buf, G, load(Acc, T, At))
                     : store(Buf, Global, load(Acc, T, At)));
    if (!LR.Inside)
      S = ifThen(InBuffer, S);
    for (size_t D = Dims.size(); D-- > 0;)
      S = forRange(Vars[D], Extents[D], S);
    return S;
  };
  Body = withLoopBody(
      Body, Loop,
      allocate(Acc, LR.Decl->Elem, LR.Elems,
               seq({Copy(true), Rd.mutate(LR.L->Body), Copy(false)})));
  return "";
}

std::string loop::storeAt(Stmt &Body, const std::vector<BufferDecl> &Params,
                          const std::string &Buf, const std::string &Loop,
                          std::set<std::string> &Names) {
  LocalRegion LR;
  std::string Err = localRegion(Body, Params, Buf, Loop, true, LR);
  if (!Err.empty())
    return Err;
  std::string Local = freshName(Buf + "_local", Names);
  Redirect Rd(Buf, Local, LR.Region, LR.Extents);
  Body = withLoopBody(Body, Loop,
                      allocate(Local, LR.Decl->Elem, LR.Elems,
                               Rd.mutate(LR.L->Body)));
  return "";
}
