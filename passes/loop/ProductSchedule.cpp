//===- ProductSchedule.cpp - Register tiles for canonical products --------===//
//
// A canonical product is three top-level loop nests over a scratch result
// %res (lower-to-loops' canonicalProduct), possibly among other stages of
// the kernel (a convolution's padded planes before it, the copy of its
// outputs after; default-schedule schedules those as any statement): an
// init stage storing every element (loops ..., %mi, %ni), an update stage
// storing it again from a reduction (..., %mu, %nu, %k: %res[.., %mu, %nu]
// = fma(a, b, %res[..])), and an epilogue stage reading it (..., %m, %n),
// with the same batch loops in front of each. Its default schedule is the
// register-blocked micro-kernel of MLAS and OpenBLAS, written with the
// directives:
//
//   tile %m, %n, %m.o, %n.o, %m.i, %n.i by R, C tail shift
//   reorder %k, %mu, %nu       (the reduction outside the tile's elements;
//                              a convolution's %ic, %kh, %kw for %k)
//   compute_at %mi, %n.o       (the init stage and its update stage)
//   store_at %res, %n.o        (R x C accumulators, local to the tile)
//   unroll %mu; split %nu, %nu.o, %nu.i by L; unroll %nu.o; vectorize %nu.i
//   pack %b by 1, C, 0 [tail shift]  (a constant B in panels of C columns)
//   pack %a by 0, R, 0 [tail shift]  (a constant A in panels of R rows)
//   prefetch %a, %k by D       (D steps PrefetchBytes ahead)
//   (then the same for the init and the epilogue's tile loops)
//
// R x C is TargetInfo::registerTile() (R rows of 2 vectors of L lanes),
// R lowered where that takes less time in all (Tile::shiftedRowsFor),
// each at most the extent; the shifted tails make the last tile of a row
// or column overlap the one before instead of leaving a narrower one.
// Column tiles go outermost when there are at least four of them (a block
// of B, K x C, then stays in cache while every row tile passes over it),
// else row tiles. After unroll and vectorize every accumulator is one
// vector at a constant offset of the local %res, which LLVM keeps in a
// register.
//
//===----------------------------------------------------------------------===//

#include "passes/loop/ProductSchedule.h"
#include "passes/loop/LoopUtils.h"

using namespace tidal;
using namespace tidal::loop;

namespace {

/// The constant extent of L, or 0.
int64_t extentOf(const StmtNode *L) {
  std::optional<int64_t> Min = constInt(L->Min), E = constInt(L->Extent);
  return Min == 0 && E ? *E : 0;
}

/// The innermost store of a nest, when its body is a single store.
const StmtNode *onlyStore(const std::vector<const StmtNode *> &Chain) {
  const Stmt &B = Chain.back()->Body;
  return B && B->Kind == StmtKind::Store ? B.get() : nullptr;
}

/// Whether the store's indices end with the variables Rows, Cols.
bool indexedBy(const StmtNode *S, const StmtNode *Rows, const StmtNode *Cols) {
  size_t N = S->Indices.size();
  return N >= 2 && S->Indices[N - 2]->Kind == ExprKind::Var &&
         S->Indices[N - 2]->Name == Rows->Name &&
         S->Indices[N - 1]->Kind == ExprKind::Var &&
         S->Indices[N - 1]->Name == Cols->Name;
}

/// Appends the directives that unroll Rows (of extent Height) and
/// vectorize Cols (of extent Width) in pieces of at most Lanes lanes.
void unrollAndVectorize(const std::string &Rows, const std::string &Cols,
                        int64_t Height, int64_t Width, int64_t Lanes,
                        std::set<std::string> &Names, Schedule &S) {
  if (Height > 1)
    S.push_back({Directive::Unroll, {Rows}, {}});
  while (Lanes > Width)
    Lanes /= 2;
  if (Lanes < 2)
    return;
  if (Lanes == Width) {
    S.push_back({Directive::Vectorize, {Cols}, {}});
    return;
  }
  std::string O = freshName(Cols + ".o", Names),
              I = freshName(Cols + ".i", Names);
  S.push_back({Directive::Split, {Cols, O, I}, {Lanes}});
  S.push_back({Directive::Unroll, {O}, {}});
  S.push_back({Directive::Vectorize, {I}, {}});
}

/// Operand Op of the update's fma (0: A, 1: B) when it is a constant read
/// at the loop Var in one dimension, at reduction loops (Red) in others,
/// each in one, and at 0 in the rest, and the dimension Var indexes.
/// Packed in panels of a tile's rows (A) or columns (B), each panel is one
/// contiguous stream of the reduction's steps, instead of a few elements
/// per step at the matrix's stride (which, at strides of a power of two, maps a panel onto
/// a few cache sets): 1024^3 SGEMM 25% faster; 3x3 convolutions of 512
/// channels 10-14%, 1x1 ones 11% (docs/design.md).
std::optional<std::pair<std::string, int64_t>>
packable(const Kernel &K, const StmtNode *Update, unsigned Op,
         const std::set<std::string> &Red, const std::string &Var,
         const std::function<bool(const std::string &)> &IsConstant) {
  const Expr &V = Update->Value;
  if (V->Kind != ExprKind::Call || V->Name != "fma" || V->Operands.size() != 3)
    return std::nullopt;
  const Expr &L = V->Operands[Op];
  if (L->Kind != ExprKind::Load || L->Operands.size() < 2 ||
      !IsConstant(L->Name))
    return std::nullopt;
  auto Decl =
      std::find_if(K.Params.begin(), K.Params.end(),
                   [&](const BufferDecl &P) { return P.Name == L->Name; });
  if (Decl == K.Params.end() || Decl->Shape.size() != L->Operands.size())
    return std::nullopt;
  std::optional<int64_t> Dim;
  std::set<std::string> Reduced;
  for (size_t D = 0; D < L->Operands.size(); ++D) {
    const Expr &I = L->Operands[D];
    bool IsVar = I->Kind == ExprKind::Var;
    if (IsVar && I->Name == Var && !Dim)
      Dim = D;
    else if (IsVar && Red.count(I->Name) && Reduced.insert(I->Name).second)
      continue;
    else if (constInt(I) != 0)
      return std::nullopt;
  }
  if (!Dim || Reduced.empty())
    return std::nullopt;
  return std::make_pair(L->Name, *Dim);
}

/// The schedule of the product whose three stages are Top[First..First+2],
/// if they are one.
std::optional<ProductSchedule>
scheduleStages(const Kernel &K, const std::vector<Stmt> &Top, size_t First,
               const TargetInfo &T,
               const std::function<bool(const std::string &)> &IsConstant) {
  std::vector<const StmtNode *> Init = perfectNest(Top[First]),
                                Upd = perfectNest(Top[First + 1]),
                                Out = perfectNest(Top[First + 2]);
  if (Init.size() < 2 || Upd.size() <= Init.size() || Out.size() != Init.size())
    return std::nullopt;
  const StmtNode *InitStore = onlyStore(Init), *UpdStore = onlyStore(Upd);
  size_t D = Init.size();
  const StmtNode *Mi = Init[D - 2], *Ni = Init[D - 1], *Mu = Upd[D - 2],
                 *Nu = Upd[D - 1], *M = Out[D - 2], *N = Out[D - 1];
  if (!InitStore || !UpdStore || InitStore->Name != UpdStore->Name ||
      !indexedBy(InitStore, Mi, Ni) || !indexedBy(UpdStore, Mu, Nu))
    return std::nullopt;
  const std::string &Res = InitStore->Name;
  auto Decl = std::find_if(K.Params.begin(), K.Params.end(),
                           [&](const BufferDecl &B) { return B.Name == Res; });
  if (Decl == K.Params.end())
    return std::nullopt;
  int64_t Rows = extentOf(M), Cols = extentOf(N);
  if (!Rows || !Cols || extentOf(Mi) != Rows || extentOf(Ni) != Cols ||
      extentOf(Mu) != Rows || extentOf(Nu) != Cols)
    return std::nullopt;
  // The reduction's loops (one `k`, or a convolution's `ic`, `kh`, `kw`).
  std::vector<std::string> Reduction;
  for (size_t I = D; I < Upd.size(); ++I) {
    if (extentOf(Upd[I]) < 2) // compute_at would replace a loop of one
      return std::nullopt;
    Reduction.push_back(Upd[I]->Name);
  }
  std::set<std::string> Reduced(Reduction.begin(), Reduction.end());
  const std::string &Red = Reduction.back();
  TargetInfo::Tile Tile = T.registerTile(scalarBits(Decl->Elem));
  if (Tile.Lanes < 2)
    return std::nullopt;

  std::set<std::string> Names;
  collectLoopNames(K.Body, Names);
  int64_t R = Tile.shiftedRowsFor(Rows);
  int64_t C = std::min(Tile.Lanes * Tile.Vectors, Cols);
  auto Fresh = [&](const std::string &Name) { return freshName(Name, Names); };
  std::string MO = Fresh(M->Name + ".o"), NO = Fresh(N->Name + ".o"),
              MI = Fresh(M->Name + ".i"), NI = Fresh(N->Name + ".i");
  ProductSchedule P;
  Schedule &S = P.Sched;
  Directive TileD{Directive::Tile, {M->Name, N->Name, MO, NO, MI, NI}, {R, C}};
  std::string TileLoop = NO;
  if (Cols >= 4 * C) {
    // Column tiles outermost.
    S.push_back({Directive::Reorder, {N->Name, M->Name}, {}});
    TileD = {Directive::Tile, {N->Name, M->Name, NO, MO, NI, MI}, {C, R}};
    TileLoop = MO;
  }
  TileD.Tail = Directive::TailShift;
  S.push_back(TileD);
  std::vector<std::string> Order = Reduction;
  Order.push_back(Mu->Name);
  Order.push_back(Nu->Name);
  S.push_back({Directive::Reorder, Order, {}});
  S.push_back({Directive::ComputeAt, {Init.front()->Name, TileLoop}, {}});
  S.push_back({Directive::StoreAt, {Res, TileLoop}, {}});
  // compute_at replaces a loop clamped to one row or column by its index.
  unrollAndVectorize(Mu->Name, Nu->Name, R, C, Tile.Lanes, Names, S);
  // After the column split, so that B's column index reads as the tile's
  // panel plus an offset inside it.
  // The last panel ends at the last row or column, like the last tile.
  auto Pack = [&](const std::pair<std::string, int64_t> &Op, int64_t Width,
                  int64_t Extent) {
    S.push_back({Directive::Pack, {Op.first}, {Op.second, Width, 0}});
    if (Extent % Width)
      S.back().Tail = Directive::TailShift;
  };
  if (auto BP = packable(K, UpdStore, 1, Reduced, Nu->Name, IsConstant);
      BP && C < Cols && C > Tile.Lanes)
    Pack(*BP, C, Cols);
  if (auto AP = packable(K, UpdStore, 0, Reduced, Mu->Name, IsConstant);
      AP && R > 1) {
    Pack(*AP, R, Rows);
    // Each step of the reduction reads R elements of A's panel, which
    // the hardware prefetchers bring too late from memory (docs/design.md,
    // "Software prefetch of weight panels"): prefetched PrefetchBytes
    // ahead where the panel is larger than L1.
    int64_t Step = R * int64_t(scalarBits(Decl->Elem) / 8);
    auto A =
        std::find_if(K.Params.begin(), K.Params.end(),
                     [&](const BufferDecl &B) { return B.Name == AP->first; });
    if (T.PrefetchBytes && Step <= 64 &&
        uint64_t(A->sizeInBytes()) > T.L1DataBytes)
      S.push_back({Directive::Prefetch,
                   {AP->first, Red},
                   {(int64_t(T.PrefetchBytes) + Step - 1) / Step}});
  }
  unrollAndVectorize(Mi->Name, Ni->Name, R, C, Tile.Lanes, Names, S);
  unrollAndVectorize(MI, NI, R, C, Tile.Lanes, Names, S);
  P.Outer = D > 2 ? Out.front()->Name : (Cols >= 4 * C ? NO : MO);
  P.First = First;
  return P;
}

} // namespace

std::optional<ProductSchedule> loop::productSchedule(
    const Kernel &K, const TargetInfo &T,
    const std::function<bool(const std::string &)> &IsConstant) {
  if (!K.Body || K.Body->Kind != StmtKind::Seq || K.Body->Stmts.size() < 3)
    return std::nullopt;
  const std::vector<Stmt> &Top = K.Body->Stmts;
  for (size_t First = 0; First + 3 <= Top.size(); ++First)
    if (auto P = scheduleStages(K, Top, First, T, IsConstant))
      return P;
  return std::nullopt;
}
