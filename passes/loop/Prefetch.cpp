//===- Prefetch.cpp - Software prefetch of streamed operands --------------===//
//
// `prefetch %w, %k by D`: in every iteration of %k, before its body, a
// `prefetch %w[...]` of what the iteration D iterations later loads from
// %w. It is for operands that stream through a loop faster than the
// hardware prefetchers fetch them from memory: the packed weight panel a
// register-tiled product reads one column of per reduction step (a 2.4 MB
// to 17 MB panel per convolution in ResNet-50, read once per run).
//
// The loads prefetched are those in %k's body (at any depth) whose indices
// use only %k, the variables bound outside %k and constants, so that the
// index of the later iteration is the same index with %k + D for %k; an
// `unrolled` loop inside counts as the copies the unroll pass makes of its
// body (a register tile's rows, each reading its row of a weight panel). Loads
// whose indices differ by constants (in the last dimension, the others
// equal) share cache lines: of each such group one prefetch is made per
// CacheLineBytes of the span the group covers, from its lowest element.
// An iteration that reads 12 consecutive floats (48 bytes) thus gets one
// prefetch; as every iteration moves on by 48 bytes, the lines in between
// are prefetched by the iterations around it.
//
// A prefetch is a hint: it changes no value, so it is legal anywhere. The
// directive still refuses what would make it meaningless or break another
// directive: a buffer that is not a read-only parameter (cache_write and
// store_at move written buffers into local storage), a vectorized loop (its
// body becomes vector code), a loop whose body loads nothing of the buffer
// at such an index. Past the last iteration the prefetches point beyond
// the elements read, or past the end of the buffer, which codegen allows
// (KernelEmitter::emitPrefetch: a prefetch never faults).
//
//===----------------------------------------------------------------------===//

#include "passes/loop/Prefetch.h"
#include "passes/loop/Bounds.h"
#include "passes/loop/LoopUtils.h"
#include <set>

using namespace tidal;
using namespace tidal::loop;

namespace {

/// The index lists of the loads of one buffer in a loop body that use no
/// variable bound inside the body.
class LoadFinder {
public:
  explicit LoadFinder(const std::string &Buf) : Buf(Buf) {}
  std::vector<std::vector<Expr>> Found;

  void visit(const Stmt &S) {
    if (!S)
      return;
    // An unrolled loop of constant extent will be copies of its body, one
    // per value of its variable.
    std::optional<int64_t> E = constInt(S->Extent);
    if (S->Kind == StmtKind::For && S->Loop == ForKind::Unrolled && E &&
        *E <= MaxExpanded) {
      visit(S->Min);
      for (int64_t K = 0; K < *E; ++K)
        visit(substitute(S->Body, S->Name, plus(S->Min, intImm(K))));
      return;
    }
    for (const Expr &E : {S->Min, S->Extent, S->Value, S->Cond})
      visit(E);
    for (const Expr &E : S->Indices)
      visit(E);
    bool Binds = S->Kind == StmtKind::For || S->Kind == StmtKind::Let;
    if (Binds)
      Bound.push_back(S->Name);
    visit(S->Body);
    visit(S->Else);
    for (const Stmt &X : S->Stmts)
      visit(X);
    if (Binds)
      Bound.pop_back();
  }

private:
  void visit(const Expr &E) {
    if (!E)
      return;
    for (const Expr &Op : E->Operands)
      visit(Op);
    if (E->Kind != ExprKind::Load || E->Name != Buf || E->Type.isVector())
      return;
    for (const std::string &V : Bound)
      for (const Expr &I : E->Operands)
        if (usesVar(I, V))
          return;
    Found.push_back(E->Operands);
  }

  /// The unroll pass's limit (Unroll.cpp).
  static constexpr int64_t MaxExpanded = 64;
  const std::string &Buf;
  std::vector<std::string> Bound;
};

/// How far B's last index lies past A's when all other indices are equal.
std::optional<int64_t> offset(const std::vector<Expr> &A,
                              const std::vector<Expr> &B) {
  if (A.size() != B.size())
    return std::nullopt;
  for (size_t D = 0; D + 1 < A.size(); ++D)
    if (difference(A[D], B[D]) != 0)
      return std::nullopt;
  return difference(A.back(), B.back());
}

/// Loads grouped by shared lines: a first index list and the span of
/// last-dimension offsets from it.
struct Group {
  std::vector<Expr> First;
  int64_t Lo = 0, Hi = 0;
};

} // namespace

std::optional<int64_t> loop::streamStride(const StmtNode &L,
                                          const std::string &Buf) {
  LoadFinder F(Buf);
  F.visit(L.Body);
  Expr Next = var(L.Name, DataType(ScalarType::I64)) + intImm(1);
  std::optional<int64_t> Stride;
  for (const std::vector<Expr> &Idx : F.Found) {
    std::vector<Expr> After;
    for (const Expr &I : Idx)
      After.push_back(substitute(I, L.Name, Next));
    std::optional<int64_t> S = offset(Idx, After);
    if (!S || (Stride && *S != *Stride))
      return std::nullopt;
    Stride = S;
  }
  return Stride;
}

std::string loop::prefetchAhead(Stmt &Body, const BufferDecl &B,
                                const std::string &Loop, int64_t Distance) {
  if (!B.ReadOnly)
    return "'%" + B.Name + "' is not a read-only parameter";
  std::vector<const StmtNode *> Path = loopsTo(Body, Loop);
  if (Path.empty())
    return "unknown loop '%" + Loop + "'";
  const StmtNode &L = *Path.back();
  if (L.Loop == ForKind::Vectorized)
    return "loop '%" + Loop + "' is vectorized";
  LoadFinder F(B.Name);
  F.visit(L.Body);
  if (F.Found.empty())
    return "loop '%" + Loop + "' loads no element of '%" + B.Name +
           "' at an index that only it and the loops around it fix";
  std::vector<Group> Groups;
  for (const std::vector<Expr> &Idx : F.Found) {
    bool Placed = false;
    for (Group &G : Groups)
      if (std::optional<int64_t> Off = offset(G.First, Idx)) {
        G.Lo = std::min(G.Lo, *Off);
        G.Hi = std::max(G.Hi, *Off);
        Placed = true;
        break;
      }
    if (!Placed)
      Groups.push_back({Idx});
  }
  int64_t LineElems =
      std::max<int64_t>(1, CacheLineBytes * 8 / scalarBits(B.Elem));
  Expr Ahead = var(L.Name, DataType(ScalarType::I64)) + intImm(Distance);
  std::vector<Stmt> Stmts;
  for (const Group &G : Groups)
    for (int64_t Off = G.Lo; Off <= G.Hi; Off += LineElems) {
      std::vector<Expr> Idx;
      for (const Expr &I : G.First)
        Idx.push_back(substitute(I, L.Name, Ahead));
      Idx.back() = plus(Idx.back(), intImm(Off));
      Stmts.push_back(prefetch(B.Name, std::move(Idx)));
    }
  Stmts.push_back(L.Body);
  Body = withLoopBody(Body, Loop, seq(std::move(Stmts)));
  return "";
}
