//===- DefaultSchedule.cpp - The default-schedule pass --------------------===//
//
// Attaches each kernel's default schedule for the target; a kernel that
// already carries a schedule keeps it. At -O0 it attaches nothing. From -O1
// on, every innermost loop (a For with no For inside) of constant extent E
// whose body holds only stores and lets, at least one store, and which the
// vectorizer can turn into vector code (canVectorizeLoop: no ifs, affine
// store indices, no loop-carried dependence) is vectorized with
// L = VectorBits / (bits of the widest element type stored in the body)
// lanes: `split %i, %i.o, %i.i by L` then `vectorize %i.i`, or just
// `vectorize %i` when E == L. When E < L, L becomes the largest power of two
// not above E; loops for which that is below 2 are left alone. When L does
// not divide E, the remainder is one more vector shifted inwards (`tail
// shift`, overlapping the last full one) where the body reads nothing it
// writes and the loop is not a top-level one (whose outer piece may run on
// threads, which would both write the overlap); else a scalar tail loop.
// Loops the vectorizer would reject (reductions into one element, bodies
// with ifs) get no directive, so no useless split is made. Loops that are
// not serial when the pass runs (the lowering vectorized them itself) get
// none either.
//
// A canonical matrix product (Gemm, MatMul and pointwise Conv: init,
// update and epilogue stages) gets the register-tile schedule of
// ProductSchedule.cpp instead, and `parallel` for its outermost loop of
// tiles (or batch) under the same count of stores. The kernel's other
// top-level statements (a convolution's padded planes and the copy of its
// outputs) are scheduled as below.
//
// Then threads: the outermost loop of each top-level statement of a CPU
// kernel runs on the thread pool (`parallel`, of the loop's outer piece when
// it was split for vectorizing) when its iterations provably write
// different elements (parallelPrefix, ParallelLoops.h), no call binds a
// written parameter and another one to the same storage, and the statement
// executes at least MinParallelStores stores (fewer do not pay for the
// data that moves between cores), or, in a kernel whose statements execute
// MinParallelStores in all, MinParallelAccessesInThreadedKernel loads and
// stores.
//
// Then software prefetch, where TargetInfo::PrefetchBytes is not 0: the
// reduction loop of a register tile (a serial loop whose body holds only
// vectorized loops, at least one) that reads a read-only parameter larger
// than the L1 data cache at indices fixed by the loop, moving on by a
// constant of at most a cache line per iteration (the packed weight panel
// whose elements each row broadcasts), gets `prefetch %w, %k by D`, D
// iterations being PrefetchBytes ahead (Prefetch.cpp). A model's weights
// are read once per run and do not stay in any cache from one run to the
// next, so even a panel that fits L2 comes from memory on its first pass;
// the hardware prefetchers alone fetch it too late. Measured on Zen 4
// (docs/design.md): ResNet-50 11% faster on one thread, 14% on two; the
// panels between the L1 and L2 sizes are part of that.
//
// For --target nvptx (PassOptions::Target) the schedule is a GPU one
// instead. Codegen launches every top-level statement of a kernel's body as
// one GPU kernel. For a statement that is a loop nest, the longest run of
// loops at its top that may run as independent threads (parallelPrefix in
// ParallelLoops.h: perfectly nested, constant bounds, and the buffers it
// stores to are touched by different iterations at provably different
// elements) is fused into one loop of extent T (`fuse`, when there are two
// or more) and split into blocks and threads (`gpu_split` by min(T, 256)).
// The loops inside stay serial in each thread. A statement without such a
// loop, and every statement of a kernel some call of which binds a written
// parameter and another parameter to overlapping storage, gets no
// directive: it runs as a single GPU thread (correct, slow). Nothing is
// vectorized for nvptx; at -O0 nothing is attached either.
//
// Assumes loop names are unique in each kernel (the lowering makes them so,
// the verifier checks it); the new names are made unique too.
//
//===----------------------------------------------------------------------===//

#include "passes/PassRegistry.h"
#include "passes/loop/LoopUtils.h"
#include "passes/loop/Pack.h"
#include "passes/loop/ParallelLoops.h"
#include "passes/loop/Prefetch.h"
#include "passes/loop/ProductSchedule.h"

using namespace tidal;
using namespace tidal::loop;

namespace {

/// Stores (element updates) below which a loop nest stays on one thread.
/// Starting a parallel loop costs about a microsecond, but a small kernel
/// loses more to data moving between the cores' caches (each thread reads
/// what the previous, differently split kernel wrote) than it gains:
/// measured, ic_resnet8 ran twice as slow on two threads at 2^20.
constexpr double MinParallelStores = 1 << 22;
/// The same for a statement of a kernel that does at least
/// MinParallelStores stores in all: its data moves between the cores
/// anyway (the kernel's other statements run on threads), so only the cost
/// of starting the loop counts. An im2col matrix of 2^18 elements written
/// on two threads made 3x3 convolutions of 28x28 and 14x14 outputs 17%
/// faster on two threads; Winograd output transforms of 2^16 to 2^18
/// elements (28x28 and 56x56 outputs, 128 and 64 channels) on two threads
/// made resnet18 15% faster on two threads. Counted as loads and stores:
/// an output transform's stores are few for its work (36 loads for 4
/// stores of a 2x2 tile at the edge of a 7x7 output).
constexpr double MinParallelAccessesInThreadedKernel = 1 << 16;

/// Element types of the buffers in scope.
struct BufferTypes {
  std::vector<std::pair<std::string, ScalarType>> Scope;
  std::optional<ScalarType> lookup(llvm::StringRef Name) const {
    for (auto It = Scope.rbegin(); It != Scope.rend(); ++It)
      if (It->first == Name)
        return It->second;
    return std::nullopt;
  }
};

/// True if S holds only stores, lets and ifs (and sequences of them).
bool isStraightLine(const Stmt &S) {
  if (!S)
    return true;
  switch (S->Kind) {
  case StmtKind::For:
  case StmtKind::Allocate:
    return false;
  case StmtKind::Store:
    return true;
  default:
    break;
  }
  if (!isStraightLine(S->Body) || !isStraightLine(S->Else))
    return false;
  for (const Stmt &X : S->Stmts)
    if (!isStraightLine(X))
      return false;
  return true;
}

/// The widest element size in bits that S stores (0 if it stores nothing).
unsigned widestStore(const Stmt &S, const BufferTypes &Types) {
  if (!S)
    return 0;
  unsigned Bits = 0;
  if (S->Kind == StmtKind::Store)
    if (auto T = Types.lookup(S->Name))
      Bits = scalarBits(*T);
  for (const Stmt *Sub : {&S->Body, &S->Else})
    Bits = std::max(Bits, widestStore(*Sub, Types));
  for (const Stmt &X : S->Stmts)
    Bits = std::max(Bits, widestStore(X, Types));
  return Bits;
}

/// Walks a kernel and appends directives for its innermost loops.
class Scheduler {
public:
  Scheduler(const Kernel &K, unsigned VectorBits)
      : VectorBits(VectorBits) {
    for (const BufferDecl &B : K.Params)
      Types.Scope.push_back({B.Name, B.Elem});
    collectLoopNames(K.Body, Names);
  }
  void visit(const Stmt &S);
  /// Keeps Name from the names the scheduler makes up.
  void reserve(const std::string &Name) { Names.insert(Name); }
  Schedule Sched;
  /// Loops split for vectorizing, to the name of their outer piece.
  std::map<std::string, std::string> SplitOuter;
  /// Loops vectorized whole.
  std::set<std::string> Vectorized;
  /// The loops that are top-level statements of the kernel.
  std::set<std::string> TopLevel;

private:
  void visitLoop(const StmtNode &L);
  unsigned VectorBits;
  BufferTypes Types;
  std::set<std::string> Names;
};

void Scheduler::visit(const Stmt &S) {
  if (!S)
    return;
  if (S->Kind == StmtKind::For) {
    visitLoop(*S);
    return;
  }
  bool Alloc = S->Kind == StmtKind::Allocate;
  if (Alloc)
    Types.Scope.push_back({S->Name, S->Elem});
  visit(S->Body);
  visit(S->Else);
  for (const Stmt &X : S->Stmts)
    visit(X);
  if (Alloc)
    Types.Scope.pop_back();
}

void Scheduler::visitLoop(const StmtNode &L) {
  // A loop the lowering already gave a kind (a register tile's vector
  // lanes) keeps it.
  if (L.Loop != ForKind::Serial)
    return;
  if (!isStraightLine(L.Body)) {
    visit(L.Body); // not innermost (or holds an allocate): look inside
    return;
  }
  std::optional<int64_t> E = constInt(L.Extent);
  unsigned Bits = widestStore(L.Body, Types);
  if (!E || Bits == 0 || !canVectorizeLoop(L))
    return;
  int64_t Lanes = VectorBits / Bits;
  if (*E < Lanes) {
    Lanes = 1;
    while (Lanes * 2 <= *E)
      Lanes *= 2;
  }
  if (Lanes < 2)
    return;
  if (*E == Lanes) {
    Sched.push_back({Directive::Vectorize, {L.Name}, {}});
    Vectorized.insert(L.Name);
    return;
  }
  std::string Outer = freshName(L.Name + ".o", Names);
  std::string Inner = freshName(L.Name + ".i", Names);
  Directive Split{Directive::Split, {L.Name, Outer, Inner}, {Lanes}};
  // A remainder is one more vector shifted inwards, overlapping the last
  // full one, where running iterations twice is harmless; else a scalar
  // loop. Not for a top-level loop, whose outer piece may run on threads:
  // two threads would write the overlap.
  if (*E % Lanes && !TopLevel.count(L.Name) && !readsWhatItWrites(L.Body))
    Split.Tail = Directive::TailShift;
  SplitOuter[L.Name] = Outer;
  Sched.push_back(Split);
  Sched.push_back({Directive::Vectorize, {Inner}, {}});
}

/// The loads in E.
double loadsIn(const Expr &E) {
  if (!E)
    return 0;
  double N = E->Kind == ExprKind::Load;
  for (const Expr &Op : E->Operands)
    N += loadsIn(Op);
  return N;
}

/// Estimated stores executed by S, and with Loads also the loads (of
/// stored values and of lets): loops of unknown extent count 16 times.
double accessesIn(const Stmt &S, bool Loads) {
  if (!S)
    return 0;
  switch (S->Kind) {
  case StmtKind::Store:
    return 1 + (Loads ? loadsIn(S->Value) : 0);
  case StmtKind::For: {
    std::optional<int64_t> E = constInt(S->Extent);
    return (E ? double(*E) : 16.0) * accessesIn(S->Body, Loads);
  }
  case StmtKind::If:
    return std::max(accessesIn(S->Body, Loads), accessesIn(S->Else, Loads));
  case StmtKind::Seq: {
    double N = 0;
    for (const Stmt &X : S->Stmts)
      N += accessesIn(X, Loads);
    return N;
  }
  case StmtKind::Let:
    return (Loads ? loadsIn(S->Value) : 0) + accessesIn(S->Body, Loads);
  default:
    return accessesIn(S->Body, Loads);
  }
}

/// True if S holds loops, all of them vectorized (and none inside those).
bool onlyVectorLoops(const Stmt &S, bool &Found) {
  if (!S)
    return true;
  if (S->Kind == StmtKind::For) {
    Found = true;
    return S->Loop == ForKind::Vectorized;
  }
  if (!onlyVectorLoops(S->Body, Found) || !onlyVectorLoops(S->Else, Found))
    return false;
  for (const Stmt &X : S->Stmts)
    if (!onlyVectorLoops(X, Found))
      return false;
  return true;
}

/// Appends `prefetch` for the streamed operands of register tiles (the
/// rule in the file comment), visiting S's loops.
void addPrefetches(const Stmt &S, const Kernel &K, const TargetInfo &T,
                   Schedule &Sched) {
  if (!S)
    return;
  bool HasLoops = false;
  if (S->Kind == StmtKind::For && S->Loop == ForKind::Serial &&
      onlyVectorLoops(S->Body, HasLoops) && HasLoops) {
    for (const BufferDecl &P : K.Params) {
      int64_t Bytes = scalarBits(P.Elem) / 8;
      if (!P.ReadOnly || !Bytes || uint64_t(P.sizeInBytes()) <= T.L1DataBytes)
        continue;
      std::optional<int64_t> Stride = streamStride(*S, P.Name);
      if (!Stride || *Stride <= 0 || *Stride * Bytes > CacheLineBytes)
        continue;
      int64_t Step = *Stride * Bytes;
      Sched.push_back({Directive::Prefetch,
                       {P.Name, S->Name},
                       {(int64_t(T.PrefetchBytes) + Step - 1) / Step}});
    }
    return;
  }
  addPrefetches(S->Body, K, T, Sched);
  addPrefetches(S->Else, K, T, Sched);
  for (const Stmt &X : S->Stmts)
    addPrefetches(X, K, T, Sched);
}

/// The top-level statements of a kernel's body.
std::vector<Stmt> topStatements(const Stmt &Body) {
  return Body->Kind == StmtKind::Seq ? Body->Stmts : std::vector<Stmt>{Body};
}

/// Appends `parallel` for the outermost loop of each statement of Top (K's
/// top-level statements, or some of them) that does enough work and whose
/// iterations provably write different elements (ParallelLoops.h); a loop
/// split for vectorizing is parallelized by its outer piece, one vectorized
/// whole is left alone.
void addParallelLoops(Kernel &K, const std::vector<Stmt> &Top,
                      const std::map<std::string, std::string> &SplitOuter,
                      const std::set<std::string> &Vectorized) {
  bool Threaded = accessesIn(K.Body, false) >= MinParallelStores;
  for (const Stmt &S : Top) {
    if (S->Kind != StmtKind::For || Vectorized.count(S->Name) ||
        (Threaded ? accessesIn(S, true) < MinParallelAccessesInThreadedKernel
                  : accessesIn(S, false) < MinParallelStores))
      continue;
    std::optional<int64_t> Min = constInt(S->Min), E = constInt(S->Extent);
    if (!Min || !E || *E < 2 || parallelPrefix({S.get()}) != 1)
      continue;
    auto It = SplitOuter.find(S->Name);
    K.Sched.push_back({Directive::Parallel,
                       {It == SplitOuter.end() ? S->Name : It->second},
                       {}});
  }
}

/// The GPU schedule of one top-level statement, appended to Sched.
void scheduleLaunch(const Stmt &S, std::set<std::string> &Names,
                    Schedule &Sched) {
  std::vector<const StmtNode *> Nest = constantPerfectNest(S);
  unsigned N = parallelPrefix(Nest);
  if (N == 0)
    return;
  std::vector<std::string> Loops;
  std::string Joined;
  int64_t Threads = 1;
  for (unsigned I = 0; I < N; ++I) {
    Loops.push_back(Nest[I]->Name);
    Joined += (I ? "." : "") + Nest[I]->Name;
    Threads *= *constInt(Nest[I]->Extent);
  }
  std::string Loop = Loops.front();
  if (N > 1) {
    Loop = freshName(Joined, Names);
    Loops.push_back(Loop);
    Sched.push_back({Directive::Fuse, Loops, {}});
  }
  std::string Block = freshName(Loop + ".b", Names);
  std::string Thread = freshName(Loop + ".t", Names);
  Sched.push_back({Directive::GpuSplit, {Loop, Block, Thread},
                   {std::min<int64_t>(Threads, 256)}});
}

/// The GPU schedule of a kernel: one fuse + gpu_split per top-level loop
/// nest that has loops to run in parallel.
Schedule gpuSchedule(const Program &P, const Kernel &K) {
  Schedule Sched;
  if (!K.Body || writtenParamMayAlias(P, K))
    return Sched;
  std::set<std::string> Names;
  collectLoopNames(K.Body, Names);
  if (K.Body->Kind != StmtKind::Seq)
    scheduleLaunch(K.Body, Names, Sched);
  else
    for (const Stmt &S : K.Body->Stmts)
      scheduleLaunch(S, Names, Sched);
  return Sched;
}

} // namespace

llvm::Error tidal::defaultSchedule(Module &M, const PassOptions &Opts) {
  if (!M.P)
    return llvm::Error::success();
  if (Opts.OptLevel == 0)
    return llvm::Error::success();
  for (Kernel &K : M.P->Kernels) {
    if (!K.Sched.empty())
      continue;
    // The schedule names loops, which flattening keeps; the tests of what
    // may be vectorized or run in parallel read addresses, so they look at
    // the kernel flattened, as codegen will see it.
    Kernel Flat = K;
    Flat.Body = flattenAccesses(K.Params, K.Body);
    if (Opts.Target.isGPU()) {
      K.Sched = gpuSchedule(*M.P, Flat);
      continue;
    }
    auto IsConstant = [&](const std::string &Name) {
      for (size_t I = 0; I < K.Params.size(); ++I)
        if (K.Params[I].Name == Name)
          return packBindable(*M.P, K.Name, I);
      return false;
    };
    bool MayAlias = writtenParamMayAlias(*M.P, K);
    std::vector<Stmt> Top = topStatements(Flat.Body);
    Scheduler S(Flat, Opts.Target.VectorBits);
    if (std::optional<ProductSchedule> PS =
            productSchedule(K, Opts.Target, IsConstant)) {
      Flat.Sched = std::move(PS->Sched);
      if (!MayAlias && accessesIn(Flat.Body, false) >= MinParallelStores)
        Flat.Sched.push_back({Directive::Parallel, {PS->Outer}, {}});
      // The kernel's other statements as any others, below.
      Top.erase(Top.begin() + PS->First, Top.begin() + PS->First + 3);
      for (const Directive &D : Flat.Sched)
        for (const std::string &Name : D.Loops)
          S.reserve(Name);
    }
    for (const Stmt &T : Top)
      if (T->Kind == StmtKind::For)
        S.TopLevel.insert(T->Name);
    for (const Stmt &T : Top)
      S.visit(T);
    Flat.Sched.insert(Flat.Sched.end(), S.Sched.begin(), S.Sched.end());
    if (!MayAlias)
      addParallelLoops(Flat, Top, S.SplitOuter, S.Vectorized);
    if (Opts.Target.PrefetchBytes)
      for (const Stmt &T : Top)
        addPrefetches(T, Flat, Opts.Target, Flat.Sched);
    K.Sched = std::move(Flat.Sched);
  }
  return llvm::Error::success();
}
