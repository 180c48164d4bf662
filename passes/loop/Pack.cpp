//===- Pack.cpp - Compile-time layouts of constant operands ---------------===//
//
// See Pack.h. The index split: an index i of the packed dimension is cut
// into the terms whose coefficients are multiples of F (the block) and the
// rest (the offset); when the offset's bounds, over the loops around the
// read, lie in [0, F), the block and offset are those two pieces (so
// `(%co * 16) + %ci` with %ci in [0, 16) reads block %co at offset %ci,
// contiguous in %ci); otherwise they are i / F and i % F, exact for every
// index inside the buffer.
//
//===----------------------------------------------------------------------===//

#include "passes/loop/Pack.h"
#include "passes/loop/Bounds.h"
#include "passes/loop/LoopUtils.h"
#include <algorithm>
#include <cstring>
#include <map>

using namespace tidal;
using namespace tidal::loop;

namespace {

/// E as Block * F + Offset, Offset holding the terms whose coefficients are
/// not multiples of F; Offset is null when there is none.
void cut(const Expr &E, int64_t F, Expr &Block, Expr &Offset) {
  auto AddTo = [](Expr &Sum, const Expr &T) { Sum = Sum ? plus(Sum, T) : T; };
  if (std::optional<int64_t> C = constInt(E)) {
    if (*C >= 0) {
      AddTo(Block, intImm(*C / F));
      if (*C % F)
        AddTo(Offset, intImm(*C % F));
      return;
    }
  } else if (E->Kind == ExprKind::Binary && E->Op == BinaryOp::Add) {
    cut(E->Operands[0], F, Block, Offset);
    cut(E->Operands[1], F, Block, Offset);
    return;
  } else if (E->Kind == ExprKind::Binary && E->Op == BinaryOp::Mul) {
    std::optional<int64_t> C = constInt(E->Operands[1]);
    if (C && *C % F == 0) {
      AddTo(Block, times(E->Operands[0], *C / F));
      return;
    }
  }
  AddTo(Offset, E);
}

/// Rewrites the reads of one packed buffer, with the ranges of the loops
/// around each read.
class Packer : public IRMutator {
public:
  Packer(const BufferDecl &B, int64_t Dim, int64_t F, int64_t Pos)
      : B(B), Dim(Dim), F(F), Pos(Pos) {}
  std::string Why;

  using IRMutator::mutate;
  Stmt mutate(const Stmt &S) override {
    if (!S)
      return S;
    if (S->Kind == StmtKind::Store && S->Name == B.Name)
      Why = "it is stored to";
    if (S->Kind == StmtKind::Prefetch && S->Name == B.Name)
      Why = "it is prefetched (pack before prefetching)";
    if (S->Kind != StmtKind::For)
      return IRMutator::mutate(S);
    auto Lo = bounds(S->Min, R), Ext = bounds(S->Extent, R);
    if (Lo && Ext)
      R[S->Name] = {Lo->Lo, plus(Lo->Hi, minus(Ext->Hi, intImm(1)))};
    Stmt New = IRMutator::mutate(S);
    R.erase(S->Name);
    return New;
  }

  Expr mutate(const Expr &E) override {
    Expr New = IRMutator::mutate(E);
    if (!New || New->Kind != ExprKind::Load || New->Name != B.Name)
      return New;
    if (New->Operands.size() != B.Shape.size()) {
      Why = "it is read at a flat index, not one per dimension";
      return New;
    }
    std::vector<Expr> Idx = New->Operands;
    Expr I = Idx[Dim], Block, Offset;
    cut(I, F, Block, Offset);
    if (!Block)
      Block = intImm(0);
    if (!Offset)
      Offset = intImm(0);
    std::optional<Interval> In = bounds(Offset, R);
    std::optional<int64_t> Lo = In ? constInt(In->Lo) : std::nullopt,
                           Hi = In ? constInt(In->Hi) : std::nullopt;
    if (!Lo || !Hi || *Lo < 0 || *Hi >= F) {
      Block = I / F;
      Offset = I % F;
    }
    Idx.erase(Idx.begin() + Dim);
    Idx.insert(Idx.begin() + Pos, Block);
    Idx.push_back(Offset);
    return load(New->Name, New->Type, std::move(Idx));
  }

private:
  const BufferDecl &B;
  int64_t Dim, F, Pos;
  Ranges R;
};

} // namespace

/// The packed shape of Shape, by Dim, Factor, Pos.
static std::vector<int64_t> packedShape(std::vector<int64_t> Shape, int64_t Dim,
                                        int64_t Factor, int64_t Pos) {
  int64_t Blocks = Shape[Dim] / Factor;
  Shape.erase(Shape.begin() + Dim);
  Shape.insert(Shape.begin() + Pos, Blocks);
  Shape.push_back(Factor);
  return Shape;
}

std::string loop::packAccesses(Stmt &Body, BufferDecl &B, int64_t Dim,
                               int64_t Factor, int64_t Pos) {
  if (B.Shape.empty())
    return "'%" + B.Name + "' has no shape (it is addressed flat)";
  if (!B.ReadOnly)
    return "'%" + B.Name + "' is not a read-only parameter";
  for (int64_t D : {Dim, Pos})
    if (D < 0 || D >= int64_t(B.Shape.size()))
      return "'%" + B.Name + "' has no dimension " + std::to_string(D);
  if (B.Shape[Dim] % Factor != 0)
    return "factor " + std::to_string(Factor) + " does not divide dimension " +
           std::to_string(Dim) + " of '%" + B.Name + "' (" +
           std::to_string(B.Shape[Dim]) + ")";
  Packer Pk(B, Dim, Factor, Pos);
  Stmt New = Pk.mutate(Body);
  if (!Pk.Why.empty())
    return "cannot pack '%" + B.Name + "': " + Pk.Why;
  Body = New;
  B.Shape = packedShape(B.Shape, Dim, Factor, Pos);
  return "";
}

bool loop::packBindable(const Program &P, const std::string &K, size_t Param) {
  bool Called = false;
  for (const KernelCall &C : P.Calls)
    if (C.Kernel == K) {
      Called = true;
      if (Param >= C.Args.size() ||
          C.Args[Param].Storage != StorageKind::Weights)
        return false;
    }
  return Called;
}

void loop::packWeights(Program &P, const std::string &K, size_t Param,
                       ScalarType Elem, const std::vector<int64_t> &Shape,
                       int64_t Dim, int64_t Factor, int64_t Pos) {
  int64_t Bytes = scalarBits(Elem) / 8, Elems = 1;
  for (int64_t D : Shape)
    Elems *= D;
  std::vector<int64_t> Packed = packedShape(Shape, Dim, Factor, Pos);
  std::vector<int64_t> Strides = rowMajorStrides(Shape),
                       PackedStrides = rowMajorStrides(Packed);
  // The packed position of element I: its index with dimension Dim's
  // block moved to Pos and its offset last.
  auto PackedAt = [&](int64_t I) {
    std::vector<int64_t> Idx;
    for (size_t D = 0; D < Shape.size(); ++D)
      Idx.push_back(I / Strides[D] % Shape[D]);
    int64_t X = Idx[Dim];
    Idx.erase(Idx.begin() + Dim);
    Idx.insert(Idx.begin() + Pos, X / Factor);
    Idx.push_back(X % Factor);
    int64_t J = 0;
    for (size_t D = 0; D < Idx.size(); ++D)
      J += Idx[D] * PackedStrides[D];
    return J;
  };
  std::map<int64_t, int64_t> Moved; // old offset -> new offset
  for (KernelCall &C : P.Calls) {
    if (C.Kernel != K)
      continue;
    BufferBinding &Bd = C.Args[Param];
    auto It = Moved.find(Bd.Offset);
    if (It == Moved.end()) {
      int64_t At = (int64_t(P.Weights.size()) + 63) / 64 * 64;
      std::vector<uint8_t> Bytes8(Elems * Bytes);
      for (int64_t I = 0; I < Elems; ++I)
        std::memcpy(&Bytes8[PackedAt(I) * Bytes],
                    &P.Weights[Bd.Offset + I * Bytes], Bytes);
      P.Weights.resize(At, 0);
      P.Weights.insert(P.Weights.end(), Bytes8.begin(), Bytes8.end());
      It = Moved.emplace(Bd.Offset, At).first;
    }
    Bd.Offset = It->second;
  }
}

void loop::compactWeights(Program &P) {
  // The byte ranges bound, merged where they overlap or touch.
  std::map<int64_t, int64_t> Ranges; // begin -> end
  for (const KernelCall &C : P.Calls) {
    const Kernel *K = P.findKernel(C.Kernel);
    for (size_t I = 0; K && I < C.Args.size(); ++I)
      if (C.Args[I].Storage == StorageKind::Weights) {
        int64_t Begin = C.Args[I].Offset;
        int64_t &End = Ranges[Begin];
        End = std::max(End, Begin + K->Params[I].sizeInBytes());
      }
  }
  std::vector<std::pair<int64_t, int64_t>> Merged;
  for (const auto &[Begin, End] : Ranges)
    if (!Merged.empty() && Begin <= Merged.back().second)
      Merged.back().second = std::max(Merged.back().second, End);
    else
      Merged.push_back({Begin, End});
  // Each merged range moves to the next offset with its own offset modulo
  // 64, so that what was aligned stays aligned.
  std::vector<uint8_t> Out;
  std::vector<std::pair<int64_t, int64_t>> Moves; // old begin -> new begin
  for (const auto &[Begin, End] : Merged) {
    int64_t At = (int64_t(Out.size()) + 63) / 64 * 64 + Begin % 64;
    Out.resize(At, 0);
    Out.insert(Out.end(), P.Weights.begin() + Begin, P.Weights.begin() + End);
    Moves.push_back({Begin, At});
  }
  for (KernelCall &C : P.Calls)
    for (BufferBinding &B : C.Args)
      if (B.Storage == StorageKind::Weights) {
        auto It = std::upper_bound(
            Moves.begin(), Moves.end(), B.Offset,
            [](int64_t O, const std::pair<int64_t, int64_t> &M) {
              return O < M.first;
            });
        B.Offset += std::prev(It)->second - std::prev(It)->first;
      }
  P.Weights = std::move(Out);
}
