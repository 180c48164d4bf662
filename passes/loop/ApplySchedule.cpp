//===- ApplySchedule.cpp - The apply-schedule pass ------------------------===//
//
// Applies each kernel's schedule (Kernel::Sched) in order and clears it.
//
//   split %x, %xo, %xi by F   %x becomes %xo (extent E/F, %x's kind) around
//                             %xi (extent F, serial), with %x = min + %xo*F +
//                             %xi. When E is not a multiple of F (or not a
//                             constant), a serial tail loop `%x.tail` runs the
//                             remaining E%F iterations after the main nest;
//                             loops inside the tail's copy of the body are
//                             renamed (suffix `.t`) to keep names unique.
//   split ... by F tail guard %xo runs ceil(E/F) blocks and the body is
//                             under `if (%xo*F + %xi) < E` (no tail loop).
//   split ... by F tail shift %xo runs ceil(E/F) blocks, the last one
//                             shifted inwards to end at E: %x = min +
//                             min(%xo*F, E-F) + %xi. It redoes up to F-1
//                             iterations, so it needs a constant E >= F and
//                             a body that loads no buffer it stores to
//                             (other than buffers it allocates): then
//                             redoing an iteration stores the values it
//                             stored before, and the last store to each
//                             element is still the one of the last
//                             iteration that writes it.
//   reorder %a, %b, ...       the named loops of one perfect nest take the
//                             listed order (outermost first); loops of the
//                             nest that are not named keep their places;
//                             the new order must keep every dependence
//                             (reorderKeepsDependences in ParallelLoops.h).
//   tile %x, %y, %xo, %yo, %xi, %yi by FX, FY
//                             two splits, then the outer pieces are moved
//                             above the inner ones (keeping x/y's order).
//   vectorize, unroll, parallel, gpu_block, gpu_thread %x
//                             set the loop's kind; vectorize needs a constant
//                             extent. parallel needs constant bounds and
//                             iterations that provably write different
//                             elements (ParallelLoops.h: checked on the loop
//                             alone, so indices may use only its variable,
//                             the loops and lets inside it and constants),
//                             and no call of the kernel may bind a written
//                             parameter and another to the same storage.
//   store_at %t, %l           %t, computed at %l or inside it, gets local
//                             storage in %l's body (CacheWrite.cpp).
//   cache_write %y, %l        %l's body works on a local copy of the region
//                             of %y one iteration touches (CacheWrite.cpp).
//   pack %w by D, F [, P]     a constant parameter's dimension D blocked by
//     [tail shift]            F at compile time, the blocks at dimension P
//                             (D by default), the last block shifted
//                             inwards to end at the extent (Pack.h).
//   prefetch %w, %l by D      each iteration of %l starts by prefetching
//                             what the iteration D later loads of %w, a
//                             read-only parameter (Prefetch.cpp).
//   compute_at %p, %c         the top-level stage whose outer loop is %p is
//                             computed at the top of %c's body, for the
//                             region %c reads (ComputeAt.cpp: bounds
//                             inference and when it is legal).
//   tensorize %j              %j becomes `tensorized` where its nest is a
//                             pattern that one instruction of the target
//                             computes (compiler/Tensorize.h).
//   fuse %a, %b, ..., %f      the perfect nest %a { %b { ... } } (two or more
//                             loops, outermost first, constant mins and
//                             extents) becomes one loop %f from 0 with the
//                             product of the extents as extent and %a's
//                             kind; each old variable is recovered as
//                             min + (%f / S) % E, S being the product of
//                             the extents inside it (no `%` for the
//                             outermost, no `/` for the innermost).
//   gpu_split %x, %b, %t by F the GPU form of split: %b (gpu_block, extent
//                             ceil(E/F)) around %t (gpu_thread, extent F),
//                             %x = min + %b*F + %t, and instead of a tail
//                             loop a guard `if (%b*F + %t) < E` around the
//                             body, left out when F divides a constant E.
//
// An illegal directive (unknown loop, wrong arity, factor <= 0, a name
// already in use, a non-constant extent where one is needed, a reorder of
// loops that are not one perfect nest, a parallel loop not proven
// race-free) is an llvm::Error naming the kernel and the directive; the
// kernel is then left as it was.
//
// A kernel named in PassOptions::UserSchedules (`tidalc compile --schedule
// FILE`) gets that schedule instead of the one it carries; when one of its
// directives is illegal, the pass records a warning (Module::Warnings)
// naming the kernel, the directive and why, and applies the kernel's own
// schedule instead. A user schedule naming no kernel is a warning too. Assumes
// loop names are unique in each kernel (the verifier checks it).
//
//===----------------------------------------------------------------------===//

#include "compiler/Diagnostics.h"
#include "compiler/Tensorize.h"
#include "passes/PassRegistry.h"
#include "passes/loop/CacheWrite.h"
#include "passes/loop/ComputeAt.h"
#include "passes/loop/LoopUtils.h"
#include "passes/loop/Pack.h"
#include "passes/loop/ParallelLoops.h"
#include "passes/loop/Prefetch.h"
#include "llvm/Support/raw_ostream.h"
#include <functional>
#include <map>

using namespace tidal;
using namespace tidal::loop;

namespace {

/// Replaces the For named Name by what Fn makes of it.
class LoopReplacer : public IRMutator {
public:
  LoopReplacer(llvm::StringRef Name,
               std::function<Stmt(const StmtNode &)> Fn)
      : Name(Name), Fn(std::move(Fn)) {}
  using IRMutator::mutate;
  Stmt mutate(const Stmt &S) override {
    if (S && S->Kind == StmtKind::For && S->Name == Name)
      return Fn(*S);
    return IRMutator::mutate(S);
  }

private:
  llvm::StringRef Name;
  std::function<Stmt(const StmtNode &)> Fn;
};

/// The For named Name in S, or null.
const StmtNode *findLoop(const Stmt &S, llvm::StringRef Name) {
  if (!S)
    return nullptr;
  if (S->Kind == StmtKind::For && S->Name == Name)
    return S.get();
  for (const Stmt *Sub : {&S->Body, &S->Else})
    if (const StmtNode *L = findLoop(*Sub, Name))
      return L;
  for (const Stmt &X : S->Stmts)
    if (const StmtNode *L = findLoop(X, Name))
      return L;
  return nullptr;
}

/// The directive as the printer writes it, for messages.
std::string describe(const Directive &D) {
  std::string S;
  llvm::raw_string_ostream OS(S);
  OS << directiveName(D.Kind);
  for (size_t I = 0; I < D.Loops.size(); ++I)
    OS << (I ? ", %" : " %") << D.Loops[I];
  for (size_t I = 0; I < D.Factors.size(); ++I)
    OS << (I ? ", " : " by ") << D.Factors[I];
  if (D.Tail != Directive::TailLoop)
    OS << " tail " << tailName(D.Tail);
  return OS.str();
}

/// Why nothing may be reordered, cached or run in parallel in a kernel whose
/// written parameter may share storage with another one.
const char *const AliasedParams =
    "a call binds a written parameter and another one to the same storage";

/// Applies directives to a copy of one kernel's body.
class Applier {
public:
  /// ParamsMayAlias: some call binds two of the kernel's parameters, one of
  /// them written, to overlapping storage (nothing may run in parallel).
  /// Private: the parameters no other kernel or graph output sees.
  /// Constant: those every call binds to the weights.
  Applier(const Kernel &K, const TargetInfo &Target, bool ParamsMayAlias,
          std::set<std::string> Private, std::set<std::string> Constant)
      : Body(K.Body), Params(K.Params), Target(Target),
        ParamsMayAlias(ParamsMayAlias), Private(std::move(Private)),
        Constant(std::move(Constant)) {
    collectLoopNames(this->Body, Names);
    for (const BufferDecl &B : this->Params)
      Names.insert(B.Name);
  }
  /// Returns an empty string on success, else what is wrong.
  std::string apply(const Directive &D);
  Stmt Body;
  /// The parameters, with the shapes packing gives them.
  std::vector<BufferDecl> Params;
  /// The parameters store_at made local (dropped from the kernel and its
  /// calls when the schedule is accepted).
  std::set<std::string> Dropped;
  /// A pack to carry out on the weights when the schedule is accepted.
  struct PendingPack {
    std::string Param;
    std::vector<int64_t> Shape;
    PackLayout Layout;
  };
  std::vector<PendingPack> Packs;

private:
  std::string checkArity(const Directive &D);
  std::string split(const std::string &Loop, const std::string &Outer,
                    const std::string &Inner, int64_t Factor,
                    Directive::TailT Tail = Directive::TailLoop);
  std::string reorder(const std::vector<std::string> &Order,
                      bool CheckDependences = true);
  std::string tile(const Directive &D);
  std::string fuse(const std::vector<std::string> &Loops);
  std::string gpuSplit(const std::string &Loop, const std::string &Block,
                       const std::string &Thread, int64_t Factor);
  std::string setKind(const std::string &Loop, ForKind K, bool NeedConst);
  std::string parallel(const std::string &Loop);
  std::string tensorize(const std::string &Loop);
  const StmtNode *replaceByTwo(const std::string &Loop, const std::string &A,
                               const std::string &B, const char *Pair,
                               std::string &Err);

  std::string pack(const std::string &Buffer, const PackLayout &L);
  std::string storeAt(const std::string &Buffer, const std::string &Loop);
  std::string prefetch(const std::string &Buffer, const std::string &Loop,
                       int64_t Distance);

  /// The loop at which compute_at placed each buffer's producer.
  std::map<std::string, std::string> ComputedAt;
  /// The outer loops of shifted splits: each block's start,
  /// min(%o * F, E - F), the start without the shift, %o * F, and F.
  struct ShiftedSplit {
    Expr Start, Unshifted;
    int64_t Factor;
  };
  std::map<std::string, ShiftedSplit> Shifted;

  std::set<std::string> Names;
  const TargetInfo &Target;
  bool ParamsMayAlias;
  std::set<std::string> Private, Constant;
};

std::string Applier::checkArity(const Directive &D) {
  size_t Loops = 1, Factors = 0;
  switch (D.Kind) {
  case Directive::Split:
    Loops = 3, Factors = 1;
    break;
  case Directive::Tile:
    Loops = 6, Factors = 2;
    break;
  case Directive::Reorder:
    if (D.Loops.size() < 2 || !D.Factors.empty())
      return "reorder needs two or more loops and no factors";
    return "";
  case Directive::ComputeAt:
  case Directive::CacheWrite:
  case Directive::StoreAt:
    Loops = 2;
    break;
  case Directive::Prefetch:
    Loops = 2, Factors = 1;
    break;
  case Directive::Fuse:
    if (D.Loops.size() < 3 || !D.Factors.empty())
      return "fuse needs two or more loops, the fused loop's name and no "
             "factors";
    return "";
  case Directive::GpuSplit:
    Loops = 3, Factors = 1;
    break;
  case Directive::Pack:
    if (D.Loops.size() != 1 || D.Factors.size() < 2 || D.Factors.size() > 3 ||
        D.Factors[0] < 0 || D.Factors[1] <= 0 ||
        (D.Factors.size() == 3 && D.Factors[2] < 0))
      return "pack needs a buffer, a dimension, a positive factor and "
             "optionally the blocks' dimension";
    return D.Tail == Directive::TailGuard ? "pack takes a shifted tail or none"
                                          : "";
  default:
    break;
  }
  if (D.Loops.size() != Loops || D.Factors.size() != Factors)
    return (llvm::Twine(directiveName(D.Kind)) + " needs " +
            llvm::Twine(Loops) + " loop names and " + llvm::Twine(Factors) +
            " factors")
        .str();
  for (int64_t F : D.Factors)
    if (F <= 0)
      return "factor " + std::to_string(F) + " is not positive";
  if (D.Tail != Directive::TailLoop && D.Kind != Directive::Split &&
      D.Kind != Directive::Tile)
    return "only split and tile take a tail";
  return "";
}

std::string Applier::apply(const Directive &D) {
  std::string Err = checkArity(D);
  if (!Err.empty())
    return Err;
  const std::vector<std::string> &L = D.Loops;
  switch (D.Kind) {
  case Directive::Split:
    return split(L[0], L[1], L[2], D.Factors[0], D.Tail);
  case Directive::Reorder:
    return reorder(L);
  case Directive::Tile:
    return tile(D);
  case Directive::Vectorize:
    return setKind(L[0], ForKind::Vectorized, /*NeedConst=*/true);
  case Directive::Unroll:
    return setKind(L[0], ForKind::Unrolled, false);
  case Directive::Parallel:
    return parallel(L[0]);
  case Directive::GpuBlock:
    return setKind(L[0], ForKind::GpuBlock, false);
  case Directive::GpuThread:
    return setKind(L[0], ForKind::GpuThread, false);
  case Directive::ComputeAt: {
    std::string Produced;
    std::string Err =
        computeAt(Body, Params, L[0], L[1],
                  [&](const std::string &B) { return Private.count(B) != 0; },
                  Produced);
    if (Err.empty())
      ComputedAt[Produced] = L[1];
    return Err;
  }
  case Directive::StoreAt:
    return storeAt(L[0], L[1]);
  case Directive::Fuse:
    return fuse(L);
  case Directive::GpuSplit:
    return gpuSplit(L[0], L[1], L[2], D.Factors[0]);
  case Directive::Pack:
    return pack(L[0], {D.Factors[0], D.Factors[1],
                       D.Factors.size() == 3 ? D.Factors[2] : D.Factors[0],
                       D.Tail == Directive::TailShift});
  case Directive::Prefetch:
    return prefetch(L[0], L[1], D.Factors[0]);
  case Directive::Tensorize:
    return tensorize(L[0]);
  case Directive::CacheWrite:
    if (ParamsMayAlias)
      return AliasedParams;
    return cacheWrite(Body, Params, L[0], L[1], Names);
  }
  return "unknown directive";
}

/// split and gpu_split replace Loop by two nested loops A and B (Pair
/// names them in messages): Loop must exist and A and B be two names not in
/// use (Loop's own may be reused). Takes the names and returns the loop, or
/// returns null with Err set.
const StmtNode *Applier::replaceByTwo(const std::string &Loop,
                                      const std::string &A,
                                      const std::string &B, const char *Pair,
                                      std::string &Err) {
  const StmtNode *L = findLoop(Body, Loop);
  if (!L) {
    Err = "unknown loop '%" + Loop + "'";
    return nullptr;
  }
  if (A == B) {
    Err = std::string("the ") + Pair + " loops need different names";
    return nullptr;
  }
  for (const std::string *N : {&A, &B})
    if (*N != Loop && Names.count(*N)) {
      Err = "loop name '%" + *N + "' is already in use";
      return nullptr;
    }
  Names.erase(Loop);
  Names.insert(A);
  Names.insert(B);
  return L;
}

/// Replaces every occurrence of one expression by another.
class ExprReplacer : public IRMutator {
public:
  ExprReplacer(Expr From, Expr To) : From(std::move(From)), To(std::move(To)) {}
  using IRMutator::mutate;
  Expr mutate(const Expr &E) override {
    if (E && exprEqual(E, From))
      return To;
    return IRMutator::mutate(E);
  }

private:
  Expr From, To;
};

/// E + Min, folded when both are constants or Min is 0.
Expr plusMin(Expr E, const Expr &Min) {
  if (constInt(Min) == 0)
    return E;
  if (constInt(E) && constInt(Min))
    return intImm(*constInt(E) + *constInt(Min));
  return E + Min;
}

std::string Applier::split(const std::string &Loop, const std::string &Outer,
                           const std::string &Inner, int64_t Factor,
                           Directive::TailT Tail) {
  std::string Err;
  const StmtNode *Found = findLoop(Body, Loop);
  if (Found && Tail == Directive::TailShift) {
    std::optional<int64_t> E = constInt(Found->Extent);
    if (!E || *E < Factor)
      return "a shifted tail needs a constant extent of at least the factor";
    if (readsWhatItWrites(Found->Body))
      return "a shifted tail redoes iterations, but loop '%" + Loop +
             "' loads a buffer it stores to";
  }
  const StmtNode *L = replaceByTwo(Loop, Outer, Inner, "outer and inner", Err);
  if (!L)
    return Err;
  std::optional<int64_t> E = constInt(L->Extent);
  Expr F = intImm(Factor);
  bool NeedTail = !E || *E % Factor != 0;
  // With a guard or a shift, the blocks cover the tail: ceil(E / F) of them.
  bool TailInBlocks = NeedTail && Tail != Directive::TailLoop;
  Expr Blocks = E ? intImm(TailInBlocks ? (*E + Factor - 1) / Factor
                                        : *E / Factor)
                  : (TailInBlocks ? (L->Extent + (Factor - 1)) / F
                                  : L->Extent / F);
  std::string TailName = NeedTail && !TailInBlocks
                             ? freshName(Loop + ".tail", Names)
                             : "";
  Body = LoopReplacer(Loop, [&](const StmtNode &S) {
           Expr Offset = var(Outer) * F;
           if (TailInBlocks && Tail == Directive::TailShift) {
             Shifted[Outer] = {min(Offset, intImm(*E - Factor)), Offset,
                               Factor};
             Offset = Shifted[Outer].Start;
           }
           Expr Index = plusMin(Offset + var(Inner), S.Min);
           Stmt Inside = substitute(S.Body, Loop, Index);
           if (TailInBlocks && Tail == Directive::TailGuard)
             Inside = ifThen(lt(var(Outer) * F + var(Inner), S.Extent), Inside);
           Stmt Main =
               forLoop(Outer, intImm(0), Blocks, S.Loop,
                       forLoop(Inner, intImm(0), F, ForKind::Serial, Inside));
           if (TailName.empty())
             return Main;
           Expr TailExtent = E ? intImm(*E % Factor) : S.Extent % F;
           Expr Start = plusMin(E ? intImm(*E / Factor * Factor) : Blocks * F,
                                S.Min);
           Stmt Copy = renameLoops(S.Body, ".t", Names);
           Expr TailIndex = constInt(Start) == 0 ? var(TailName)
                                                  : var(TailName) + Start;
           Stmt TailLoop = forLoop(TailName, intImm(0), TailExtent,
                                   ForKind::Serial,
                                   substitute(Copy, Loop, TailIndex));
           return seq({Main, TailLoop});
         }).mutate(Body);
  return "";
}

/// The chain of perfectly nested loops from the outermost named one down to
/// the last named one, or a message.
std::string findNest(const Stmt &Body, const std::vector<std::string> &Order,
                     std::vector<const StmtNode *> &Chain) {
  std::set<std::string> Wanted(Order.begin(), Order.end());
  if (Wanted.size() != Order.size())
    return "a loop is named twice";
  for (const std::string &N : Order)
    if (!findLoop(Body, N))
      return "unknown loop '%" + N + "'";
  // The outermost named loop is the one that contains all the others.
  const StmtNode *Top = nullptr;
  for (const std::string &N : Order) {
    const StmtNode *L = findLoop(Body, N);
    bool All = true;
    for (const std::string &O : Order)
      All &= O == N || findLoop(L->Body, O) != nullptr;
    if (All)
      Top = L;
  }
  if (!Top)
    return "the loops are not nested in one another";
  size_t Found = 0;
  for (const StmtNode *L = Top;; L = L->Body.get()) {
    Chain.push_back(L);
    Found += Wanted.count(L->Name);
    if (Found == Wanted.size())
      return "";
    if (!L->Body || L->Body->Kind != StmtKind::For)
      return "the loops are not a perfect nest (loop '%" + L->Name +
             "' holds more than one loop)";
  }
}

std::string Applier::reorder(const std::vector<std::string> &Order,
                             bool CheckDependences) {
  std::vector<const StmtNode *> Chain;
  std::string Err = findNest(Body, Order, Chain);
  if (!Err.empty())
    return Err;
  // Named positions in the chain get the named loops in the new order.
  std::vector<const StmtNode *> NewChain = Chain;
  size_t Next = 0;
  for (const StmtNode *&Slot : NewChain)
    if (std::count(Order.begin(), Order.end(), Slot->Name))
      Slot = findLoop(Body, Order[Next++]);
  // A loop's bounds may only use loops that stay outside it.
  for (size_t I = 0; I < NewChain.size(); ++I)
    for (size_t J = I; J < NewChain.size(); ++J) {
      const StmtNode *L = NewChain[I], *O = NewChain[J];
      if (usesVar(L->Min, O->Name) || usesVar(L->Extent, O->Name))
        return "the bounds of loop '%" + L->Name + "' depend on loop '%" +
               O->Name + "'";
    }
  std::vector<std::string> Old, New;
  for (size_t I = 0; I < Chain.size(); ++I) {
    Old.push_back(Chain[I]->Name);
    New.push_back(NewChain[I]->Name);
  }
  if (Old != New && CheckDependences) {
    if (ParamsMayAlias)
      return AliasedParams;
    // The loops around the nest (loopsTo ends with the nest's first loop).
    std::vector<const StmtNode *> Enclosing =
        loopsTo(Body, Chain.front()->Name);
    Enclosing.pop_back();
    Stmt Flat =
        flattenAccesses(Params, std::make_shared<StmtNode>(*Chain.front()));
    if (!reorderKeepsDependences(Enclosing, Flat, Old, New))
      return "cannot prove that the new order keeps every dependence (each "
             "element's reads and writes in the same order)";
  }
  Stmt Inner = Chain.back()->Body;
  for (size_t I = NewChain.size(); I-- > 0;) {
    const StmtNode *L = NewChain[I];
    Inner = forLoop(L->Name, L->Min, L->Extent, L->Loop, Inner);
  }
  Body = LoopReplacer(Chain.front()->Name,
                      [&](const StmtNode &) { return Inner; })
             .mutate(Body);
  return "";
}

std::string Applier::tile(const Directive &D) {
  const std::vector<std::string> &L = D.Loops;
  const StmtNode *X = findLoop(Body, L[0]), *Y = findLoop(Body, L[1]);
  if (!X || !Y)
    return "unknown loop '%" + (X ? L[1] : L[0]) + "'";
  bool XOuter = findLoop(X->Body, L[1]) != nullptr;
  if (!XOuter && !findLoop(Y->Body, L[0]))
    return "the loops are not nested in one another";
  // With a guarded or shifted tail the tiles' indices are clamped or
  // tested, which the dependence test cannot follow; tiling is legal
  // exactly when the two loops may be interchanged (the band is
  // permutable: Irigoin and Triolet), which is checked on them as they
  // are. A shifted tail redoes iterations, which split allows only where
  // that changes nothing.
  bool Checked = D.Tail != Directive::TailLoop;
  if (Checked) {
    const StmtNode *Outer = XOuter ? X : Y;
    if (!Outer->Body || Outer->Body.get() != (XOuter ? Y : X))
      return "a tile with a guarded or shifted tail needs the two loops "
             "directly nested";
    Stmt Saved = Body;
    std::string Err = reorder({XOuter ? L[1] : L[0], XOuter ? L[0] : L[1]});
    Body = Saved;
    if (!Err.empty())
      return Err;
  }
  std::string Err = split(L[0], L[2], L[4], D.Factors[0], D.Tail);
  if (Err.empty())
    Err = split(L[1], L[3], L[5], D.Factors[1], D.Tail);
  if (!Err.empty())
    return Err;
  if (XOuter)
    return reorder({L[2], L[3], L[4], L[5]}, !Checked);
  return reorder({L[3], L[2], L[5], L[4]}, !Checked);
}

/// The chain of loops named Loops, each the whole body of the one before,
/// or a message.
std::string perfectChain(const Stmt &Body, const std::vector<std::string> &Loops,
                         std::vector<const StmtNode *> &Chain) {
  const StmtNode *L = findLoop(Body, Loops.front());
  if (!L)
    return "unknown loop '%" + Loops.front() + "'";
  for (size_t I = 0;; ++I) {
    Chain.push_back(L);
    if (I + 1 == Loops.size())
      return "";
    const Stmt &Next = L->Body;
    if (!Next || Next->Kind != StmtKind::For || Next->Name != Loops[I + 1])
      return "loop '%" + Loops[I + 1] + "' is not the whole body of loop '%" +
             L->Name + "'";
    L = Next.get();
  }
}

std::string Applier::fuse(const std::vector<std::string> &Named) {
  std::vector<std::string> Loops(Named.begin(), Named.end() - 1);
  const std::string &Fused = Named.back();
  if (Names.count(Fused))
    return "loop name '%" + Fused + "' is already in use";
  std::vector<const StmtNode *> Chain;
  std::string Err = perfectChain(Body, Loops, Chain);
  if (!Err.empty())
    return Err;
  // Strides[I]: the product of the extents inside loop I.
  std::vector<int64_t> Strides(Chain.size(), 1);
  int64_t Total = 1;
  for (size_t I = Chain.size(); I-- > 0;) {
    std::optional<int64_t> Min = constInt(Chain[I]->Min);
    std::optional<int64_t> E = constInt(Chain[I]->Extent);
    if (!Min || !E || *E < 0)
      return "loop '%" + Chain[I]->Name + "' has no constant bounds";
    Strides[I] = Total;
    if (__builtin_mul_overflow(Total, *E, &Total))
      return "the fused extent overflows";
  }
  Stmt Inner = Chain.back()->Body;
  for (size_t I = 0; I < Chain.size(); ++I) {
    Expr V = var(Fused);
    if (Strides[I] != 1)
      V = V / Strides[I];
    if (I > 0)
      V = V % *constInt(Chain[I]->Extent);
    Inner = substitute(Inner, Chain[I]->Name, plusMin(V, Chain[I]->Min));
  }
  Stmt New = forLoop(Fused, intImm(0), intImm(Total), Chain.front()->Loop, Inner);
  Body = LoopReplacer(Loops.front(), [&](const StmtNode &) { return New; })
             .mutate(Body);
  for (const std::string &N : Loops)
    Names.erase(N);
  Names.insert(Fused);
  return "";
}

std::string Applier::gpuSplit(const std::string &Loop, const std::string &Block,
                              const std::string &Thread, int64_t Factor) {
  std::string Err;
  const StmtNode *L =
      replaceByTwo(Loop, Block, Thread, "block and thread", Err);
  if (!L)
    return Err;
  std::optional<int64_t> E = constInt(L->Extent);
  Expr F = intImm(Factor);
  Expr Blocks = E ? intImm(*E / Factor + (*E % Factor != 0))
                  : (L->Extent + (Factor - 1)) / F;
  bool Guard = !E || *E % Factor != 0;
  Body = LoopReplacer(Loop, [&](const StmtNode &S) {
           Expr Flat = var(Block) * F + var(Thread);
           Stmt Inner = substitute(S.Body, Loop, plusMin(Flat, S.Min));
           if (Guard)
             Inner = ifThen(lt(Flat, S.Extent), Inner);
           return forLoop(Block, intImm(0), Blocks, ForKind::GpuBlock,
                          forLoop(Thread, intImm(0), F, ForKind::GpuThread,
                                  Inner));
         }).mutate(Body);
  return "";
}

std::string Applier::setKind(const std::string &Loop, ForKind K,
                             bool NeedConst) {
  const StmtNode *L = findLoop(Body, Loop);
  if (!L)
    return "unknown loop '%" + Loop + "'";
  if (NeedConst && !constInt(L->Extent))
    return "loop '%" + Loop + "' has no constant extent";
  Body = LoopReplacer(Loop, [&](const StmtNode &S) {
           return forLoop(S.Name, S.Min, S.Extent, K, S.Body);
         }).mutate(Body);
  return "";
}

std::string Applier::tensorize(const std::string &Loop) {
  const StmtNode *L = findLoop(Body, Loop);
  if (!L)
    return "unknown loop '%" + Loop + "'";
  if (L->Loop != ForKind::Serial)
    return "loop '%" + Loop + "' is already " + forKindName(L->Loop).str();
  std::string Why;
  std::optional<ByteDot> D = matchByteDot(*L, Params, Why);
  if (!D)
    return "loop '%" + Loop + "' is not a byte dot product, the one " +
           "pattern tensorize knows: " + Why;
  if (!Target.hasByteDot(D->Width))
    return "target " + Target.Name + " (" + Target.CPU +
           ") has no instruction for a byte dot product of " +
           std::to_string(D->Width) +
           " lanes (vpdpbusd: VNNI, 4 or 8 lanes, 16 with AVX-512)";
  return setKind(Loop, ForKind::Tensorized, false);
}

std::string Applier::pack(const std::string &Buffer, const PackLayout &L) {
  auto It = std::find_if(Params.begin(), Params.end(),
                         [&](const BufferDecl &B) { return B.Name == Buffer; });
  if (It == Params.end())
    return "unknown parameter '%" + Buffer + "'";
  if (!Constant.count(Buffer))
    return "'%" + Buffer + "' is not bound to the weights by every call";
  std::vector<int64_t> Shape = It->Shape;
  std::string Err = packAccesses(Body, *It, L);
  if (Err.empty())
    Packs.push_back({Buffer, Shape, L});
  return Err;
}

std::string Applier::prefetch(const std::string &Buffer,
                              const std::string &Loop, int64_t Distance) {
  auto It = std::find_if(Params.begin(), Params.end(),
                         [&](const BufferDecl &B) { return B.Name == Buffer; });
  if (It == Params.end())
    return "unknown parameter '%" + Buffer + "'";
  return prefetchAhead(Body, *It, Loop, Distance);
}

std::string Applier::storeAt(const std::string &Buffer,
                             const std::string &Loop) {
  auto It = ComputedAt.find(Buffer);
  const StmtNode *L = findLoop(Body, Loop);
  if (It == ComputedAt.end() || !L ||
      (It->second != Loop && !findLoop(L->Body, It->second)))
    return "store_at needs '%" + Buffer +
           "' computed at loop '%" + Loop + "' or inside it (compute_at)";
  std::string Err = loop::storeAt(Body, Params, Buffer, Loop, Names);
  if (!Err.empty())
    return Err;
  Params.erase(std::find_if(Params.begin(), Params.end(),
                            [&](const BufferDecl &B) { return B.Name == Buffer; }));
  Dropped.insert(Buffer);
  return "";
}

std::string Applier::parallel(const std::string &Loop) {
  const StmtNode *L = findLoop(Body, Loop);
  if (!L)
    return "unknown loop '%" + Loop + "'";
  if (ParamsMayAlias)
    return AliasedParams;
  if (!constInt(L->Min) || !constInt(L->Extent))
    return "loop '%" + Loop + "' has no constant bounds";
  // Addresses are judged flat, as codegen will see them.
  Stmt Flat = flattenAccesses(Params, std::make_shared<StmtNode>(*L));
  // The blocks of a shifted split are judged unshifted where the body reads
  // no buffer it writes but its own local ones: the last block then redoes
  // part of the one before, writing the same values, as Halide's
  // ShiftInwards does under `parallel`. Unshifted, the last block's indices
  // run up to F - 1 past the dimension's end, so the indices per dimension
  // are joined as if every dimension were F longer: distinct elements of
  // that larger box are distinct elements of the buffer (indices per
  // dimension stay inside their dimension).
  auto Shift = Shifted.find(Loop);
  if (Shift != Shifted.end() && !readsWhatItWrites(L->Body)) {
    std::vector<BufferDecl> Padded = Params;
    for (BufferDecl &B : Padded)
      for (int64_t &D : B.Shape)
        D += Shift->second.Factor;
    Stmt Unshifted = ExprReplacer(Shift->second.Start, Shift->second.Unshifted)
                         .mutate(std::make_shared<StmtNode>(*L));
    Flat = flattenAccesses(Padded, Unshifted);
  }
  if (parallelPrefix({Flat.get()}) != 1)
    return "cannot prove that iterations of loop '%" + Loop +
           "' write different elements";
  return setKind(Loop, ForKind::Parallel, false);
}

/// The parameters of K that every call binds to a temporary that nothing
/// else binds: scratch space no other kernel and no graph output sees.
std::set<std::string> privateParams(const Program &P, const Kernel &K) {
  std::map<int64_t, int> TempUses;
  for (const KernelCall &C : P.Calls)
    for (const BufferBinding &B : C.Args)
      if (B.Storage == StorageKind::Temp)
        ++TempUses[B.Index];
  std::set<std::string> Private;
  bool Called = false;
  for (size_t I = 0; I < K.Params.size(); ++I)
    Private.insert(K.Params[I].Name);
  for (const KernelCall &C : P.Calls) {
    if (C.Kernel != K.Name || C.Args.size() != K.Params.size())
      continue;
    Called = true;
    for (size_t I = 0; I < C.Args.size(); ++I)
      if (C.Args[I].Storage != StorageKind::Temp ||
          TempUses[C.Args[I].Index] != 1)
        Private.erase(K.Params[I].Name);
  }
  return Called ? Private : std::set<std::string>();
}

/// Applies Sched to K's body; on success K takes the result, on an illegal
/// directive K is unchanged and the error names the kernel and directive.
llvm::Error applyKernelSchedule(Program &P, Kernel &K, const Schedule &Sched,
                                const TargetInfo &Target) {
  std::set<std::string> Constant;
  for (size_t I = 0; I < K.Params.size(); ++I)
    if (packBindable(P, K.Name, I))
      Constant.insert(K.Params[I].Name);
  Applier A(K, Target, writtenParamMayAlias(P, K), privateParams(P, K),
            Constant);
  for (size_t I = 0; I < Sched.size(); ++I) {
    std::string Err = A.apply(Sched[I]);
    if (!Err.empty())
      return makeError("kernel '" + K.Name + "': schedule directive " +
                       llvm::Twine(I) + " (" + describe(Sched[I]) +
                       "): " + Err);
  }
  K.Body = A.Body;
  for (KernelCall &C : P.Calls)
    if (C.Kernel == K.Name)
      for (size_t I = K.Params.size(); I-- > 0;)
        if (A.Dropped.count(K.Params[I].Name))
          C.Args.erase(C.Args.begin() + I);
  K.Params = A.Params;
  for (const Applier::PendingPack &Pk : A.Packs) {
    size_t I = 0;
    while (K.Params[I].Name != Pk.Param)
      ++I;
    packWeights(P, K.Name, I, K.Params[I].Elem, Pk.Shape, Pk.Layout);
  }
  return llvm::Error::success();
}

} // namespace

llvm::Error tidal::applySchedule(Module &M, const PassOptions &Opts) {
  if (!M.P)
    return llvm::Error::success();
  std::set<std::string> Used;
  bool Packed = false; // the weights then hold originals nothing reads
  auto Packs = [](const Schedule &S) {
    return std::any_of(S.begin(), S.end(), [](const Directive &D) {
      return D.Kind == Directive::Pack;
    });
  };
  auto Record = [&M](const Kernel &K, const Schedule &S, bool IsUser) {
    KernelReport &R = M.Report.Kernels[K.Name];
    R.Schedule.clear();
    for (const Directive &D : S)
      R.Schedule.push_back(describe(D));
    R.UserSchedule = IsUser;
  };
  for (Kernel &K : M.P->Kernels) {
    const KernelSchedule *User = nullptr;
    for (const KernelSchedule &S : Opts.UserSchedules)
      if (S.Kernel == K.Name)
        User = &S;
    if (User) {
      Used.insert(K.Name);
      llvm::Error E = applyKernelSchedule(*M.P, K, User->Sched, Opts.Target);
      if (!E) {
        Record(K, User->Sched, true);
        Packed |= Packs(User->Sched);
        K.Sched.clear();
        continue;
      }
      M.Warnings.push_back(llvm::toString(std::move(E)) +
                           "; the default schedule is kept");
    }
    if (llvm::Error E = applyKernelSchedule(*M.P, K, K.Sched, Opts.Target))
      return E;
    Record(K, K.Sched, false);
    Packed |= Packs(K.Sched);
    K.Sched.clear();
  }
  if (Packed)
    compactWeights(*M.P);
  for (const KernelSchedule &S : Opts.UserSchedules)
    if (!Used.count(S.Kernel))
      M.Warnings.push_back("schedule for kernel '" + S.Kernel +
                           "': the program has no kernel of that name");
  return llvm::Error::success();
}
