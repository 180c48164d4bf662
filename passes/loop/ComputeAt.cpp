//===- ComputeAt.cpp - compute_at with bounds inference ------------------===//
//
// `compute_at %p, %c`: the stage whose outermost loop is %p (a statement at
// the top of the kernel) is computed at the top of the body of loop %c (in
// a later top-level statement), for only the elements one iteration of %c
// reads, as Halide's compute_at does. A kernel whose stages are written
// one after the other (a producer filling a scratch buffer, a consumer
// reading it) thereby becomes one that produces each piece just before it
// is used, while it is still in cache.
//
// A stage may have update stages, as a reduction has (Halide's update
// definitions, TVM's init and update blocks): the top-level statements right
// after the producer that store the same buffer at one of their loops per
// dimension and read it only at the element they store (`res[m, n] =
// res[m, n] + a[m, k] * b[k, n]`). They are computed at %c with it, in
// order, each clamped to the same region; their other loops (the
// reduction's) keep their ranges. So a product's accumulators, computed at
// the loop over tiles of its consumer and stored there (store_at), become a
// register tile.
//
// Bounds inference: the region of the produced buffer that the body of %c
// reads is an interval per dimension, found from the consumer's indices by
// interval arithmetic over the loops and lets inside %c (+, -, * by a
// constant, min, max); its ends are expressions of %c and the loops around
// it. The producer's loops that index those dimensions are clamped to it;
// one clamped to a single iteration is replaced by its index.
//
// Legality, each answered with an error naming what stands in the way:
// - the producer is a perfect nest whose every store goes to one buffer B
//   at one index per dimension, each a distinct loop of the nest (so the
//   clamped loops produce exactly the region); it does not read B (a
//   region produced again for a later iteration of %c overlaps earlier
//   ones, so recomputing must not depend on B); its update stages read B
//   only at the element they store, so each region's result depends only
//   on the producer's values for that region;
// - nothing but the consumer's loop %c reads B, nothing writes it but the
//   producer, and B is private to the kernel (an element never read is
//   never computed);
// - nothing from the producer's old place to the consumer writes a buffer
//   the producer reads, so it still reads the same values;
// - neither %c nor a loop around it runs in parallel or on the GPU (the
//   pieces of B would be written by several threads at once).
//
//===----------------------------------------------------------------------===//

#include "passes/loop/ComputeAt.h"
#include "passes/loop/Bounds.h"
#include "passes/loop/LoopUtils.h"
#include <functional>

using namespace tidal;
using namespace tidal::loop;

namespace {

/// The one buffer the producer nest stores to and, per dimension, the
/// loop of the nest that indexes it; an error message otherwise.
std::string producedBuffer(const std::vector<const StmtNode *> &Chain,
                           std::string &Buf, std::vector<std::string> &Dims) {
  std::string Err;
  std::set<std::string> Locals; // the producer's own, private to it
  std::function<void(const Stmt &)> Walk = [&](const Stmt &S) {
    if (!S || !Err.empty())
      return;
    if (S->Kind == StmtKind::Allocate)
      Locals.insert(S->Name);
    if (S->Kind == StmtKind::Store && !Locals.count(S->Name)) {
      std::vector<std::string> Idx;
      for (const Expr &I : S->Indices)
        Idx.push_back(I->Kind == ExprKind::Var ? I->Name : "");
      if (!Buf.empty() && (S->Name != Buf || Idx != Dims)) {
        Err = "the producer stores to more than one buffer or index";
        return;
      }
      Buf = S->Name;
      Dims = Idx;
      return;
    }
    Walk(S->Body);
    Walk(S->Else);
    for (const Stmt &X : S->Stmts)
      Walk(X);
  };
  Walk(Chain.back()->Body);
  if (!Err.empty())
    return Err;
  if (Buf.empty())
    return "the producer stores nothing";
  std::set<std::string> Seen;
  for (const std::string &D : Dims) {
    bool InChain = std::any_of(Chain.begin(), Chain.end(),
                               [&](const StmtNode *L) { return L->Name == D; });
    if (D.empty() || !InChain || !Seen.insert(D).second)
      return "the producer's store to '%" + Buf +
             "' is not indexed by one of its loops per dimension";
  }
  return "";
}

/// Whether every load of Buf is at exactly the indices Dims (loop
/// variables): an update stage reads only the element it stores.
class ReadsOnlyAt : public IRMutator {
public:
  ReadsOnlyAt(const std::string &Buf, const std::vector<std::string> &Dims)
      : Buf(Buf), Dims(Dims) {}
  bool Ok = true;
  using IRMutator::mutate;
  Expr mutate(const Expr &E) override {
    if (E && E->Kind == ExprKind::Load && E->Name == Buf) {
      bool Same = E->Operands.size() == Dims.size();
      for (size_t D = 0; Same && D < Dims.size(); ++D)
        Same = E->Operands[D]->Kind == ExprKind::Var &&
               E->Operands[D]->Name == Dims[D];
      Ok &= Same;
    }
    return IRMutator::mutate(E);
  }

private:
  const std::string &Buf;
  const std::vector<std::string> &Dims;
};

/// One stage computed at the consumer: its nest and the loop indexing each
/// dimension of the produced buffer.
struct Stage {
  size_t Index;
  std::vector<const StmtNode *> Chain;
  std::vector<std::string> Dims;
};

} // namespace

std::string loop::computeAt(Stmt &Body, const std::vector<BufferDecl> &Params,
                            const std::string &Producer,
                            const std::string &Consumer,
                            const std::function<bool(const std::string &)>
                                &IsPrivate,
                            std::string &Produced) {
  std::vector<Stmt> Top =
      Body->Kind == StmtKind::Seq ? Body->Stmts : std::vector<Stmt>{Body};
  size_t P = Top.size(), C = Top.size();
  std::vector<const StmtNode *> Path;
  for (size_t I = 0; I < Top.size(); ++I) {
    if (Top[I]->Kind == StmtKind::For && Top[I]->Name == Producer)
      P = I;
    std::vector<const StmtNode *> Found = loopsTo(Top[I], Consumer);
    if (!Found.empty()) {
      C = I;
      Path = Found;
    }
  }
  if (P == Top.size())
    return "loop '%" + Producer + "' is not a statement at the top of the kernel";
  if (C == Top.size())
    return "unknown loop '%" + Consumer + "'";
  if (C <= P)
    return "loop '%" + Consumer + "' does not come after the producer";
  for (const StmtNode *L : Path)
    if (L->Loop != ForKind::Serial && L->Loop != ForKind::Unrolled &&
        L->Loop != ForKind::Vectorized)
      return "loop '%" + L->Name + "' runs " + forKindName(L->Loop).str() +
             ": the produced pieces would be shared between threads";

  // The producer: a perfect nest storing one buffer, one loop per dimension.
  std::vector<Stage> Stages = {{P, perfectNest(Top[P]), {}}};
  std::string Buf;
  std::string Err = producedBuffer(Stages[0].Chain, Buf, Stages[0].Dims);
  if (!Err.empty())
    return Err;
  auto Decl = std::find_if(Params.begin(), Params.end(),
                           [&](const BufferDecl &B) { return B.Name == Buf; });
  if (Decl == Params.end() || !IsPrivate(Buf))
    return "'%" + Buf + "' is not a buffer private to this kernel";
  std::set<std::string> ProducerLoads, ProducerStores;
  collectAccesses(Top[P], ProducerLoads, ProducerStores);
  if (ProducerLoads.count(Buf))
    return "the producer reads '%" + Buf + "', which it writes";
  // Its update stages: the statements after it that store Buf alone, at
  // one of their loops per dimension, reading it only there.
  for (size_t I = P + 1; I < C && Top[I]->Kind == StmtKind::For; ++I) {
    Stage U{I, perfectNest(Top[I]), {}};
    std::string Stored;
    if (!producedBuffer(U.Chain, Stored, U.Dims).empty() || Stored != Buf)
      break;
    ReadsOnlyAt Reads(Buf, U.Dims);
    Reads.mutate(Top[I]);
    if (!Reads.Ok)
      break;
    collectAccesses(Top[I], ProducerLoads, ProducerStores);
    Stages.push_back(std::move(U));
  }
  ProducerLoads.erase(Buf);
  size_t Last = Stages.back().Index;

  // Who else touches what.
  for (size_t I = 0; I < Top.size(); ++I) {
    if (I >= P && I <= Last)
      continue;
    std::set<std::string> Loaded, Stored;
    collectAccesses(I == C ? Path.back()->Body : Top[I], Loaded, Stored);
    if (I != C && (Loaded.count(Buf) || Stored.count(Buf)))
      return "statement " + std::to_string(I) + " of the kernel uses '%" +
             Buf + "'";
    if (I > Last && I <= C)
      for (const std::string &B : ProducerLoads)
        if (Stored.count(B))
          return "'%" + B + "', which the producer reads, is written before "
                 "loop '%" + Consumer + "'";
  }
  std::set<std::string> InStmt, Unused;
  collectAccesses(Top[C], InStmt, Unused);
  std::set<std::string> InLoop;
  collectAccesses(Path.back()->Body, InLoop, Unused);
  if (InStmt.count(Buf) && !InLoop.count(Buf))
    return "'%" + Buf + "' is read outside loop '%" + Consumer + "'";

  // Bounds inference: what one iteration of the consumer reads.
  std::string Why;
  std::optional<std::vector<Interval>> Region = accessRegion(
      Path.back()->Body, Buf, Stages[0].Dims.size(), /*Stores=*/false, Why);
  if (!Region)
    return "cannot infer the region of '%" + Buf + "' that loop '%" +
           Consumer + "' reads: " + Why;
  if (Region->empty())
    return "loop '%" + Consumer + "' does not read '%" + Buf + "'";

  // The loops from the consumer's statement down to %c, over their ranges.
  Ranges Around = loopRanges(Path);
  // Whether the constant V is at least (AtLeast) or at most the constant
  // Bound.
  auto within = [](const Expr &V, const Expr &Bound, bool AtLeast) {
    if (!V)
      return false;
    std::optional<int64_t> X = constInt(V), B = constInt(Bound);
    return X && B && (AtLeast ? *X >= *B : *X <= *B);
  };

  // The stages, their loops clamped to the region, at the top of %c.
  std::vector<Stmt> Produce;
  for (const Stage &St : Stages) {
    Stmt Inner = St.Chain.back()->Body;
    for (size_t I = St.Chain.size(); I-- > 0;) {
      const StmtNode *L = St.Chain[I];
      Expr Min = L->Min, Extent = L->Extent;
      auto D = std::find(St.Dims.begin(), St.Dims.end(), L->Name);
      if (D != St.Dims.end()) {
        const Interval &R = (*Region)[D - St.Dims.begin()];
        // The stage's range, clamped to the region; a clamp is left out
        // where the region provably stays inside the range, over the
        // loops around the consumer.
        Expr End = plus(L->Min, L->Extent), RegionEnd = plus(R.Hi, intImm(1));
        std::optional<Interval> Lo = bounds(R.Lo, Around),
                                Hi = bounds(RegionEnd, Around);
        Min = within(Lo ? Lo->Lo : nullptr, L->Min, true) ? R.Lo
                                                          : upper(L->Min, R.Lo);
        Expr End2 = within(Hi ? Hi->Hi : nullptr, End, false)
                        ? RegionEnd
                        : lower(End, RegionEnd);
        Extent = minus(End2, Min);
      }
      // A loop clamped to one iteration is its index.
      if (constInt(Extent) == 1)
        Inner = substitute(Inner, L->Name, Min);
      else
        Inner = forLoop(L->Name, Min, Extent, L->Loop, Inner);
    }
    Produce.push_back(Inner);
  }
  Produce.push_back(Path.back()->Body);
  Top[C] = withLoopBody(Top[C], Consumer, seq(std::move(Produce)));
  Top.erase(Top.begin() + P, Top.begin() + Last + 1);
  Body = seq(std::move(Top));
  Produced = Buf;
  return "";
}
