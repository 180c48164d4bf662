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
#include <functional>
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
  Packer(const BufferDecl &B, const PackLayout &L)
      : B(B), Dim(L.Dim), F(L.Factor), Pos(L.Pos), Shift(L.Shift) {}
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
    if (std::optional<int64_t> E = constInt(S->Extent))
      Starts[S->Name] = {S->Min, *E};
    Stmt New = IRMutator::mutate(S);
    R.erase(S->Name);
    Starts.erase(S->Name);
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
    if (inBlock(I, Block, Offset)) {
      Idx.erase(Idx.begin() + Dim);
      Idx.insert(Idx.begin() + Pos, Block);
      Idx.push_back(Offset);
      return load(New->Name, New->Type, std::move(Idx));
    }
    if (Shift) {
      Why = "an index of dimension " + std::to_string(Dim) +
            " is not inside one shifted block of " + std::to_string(F);
      return New;
    }
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
  /// The block and offset of index I when it is a sum of a block's start
  /// (blockOfStart: %o * F, or min(%o * F, E - F) for a shifted block, E
  /// the dimension's extent) and terms whose range lies in [0, F): block
  /// %o, at the sum of those terms.
  bool inBlock(const Expr &I, Expr &Block, Expr &Offset) {
    std::vector<Expr> Terms;
    // Over a loop that starts at a block's start (compute_at clamps the
    // stages of a tile so), the offset is the loop's own.
    std::optional<int64_t> Span;
    std::function<void(const Expr &)> Collect = [&](const Expr &E) {
      auto It = E->Kind == ExprKind::Var ? Starts.find(E->Name) : Starts.end();
      if (E->Kind == ExprKind::Binary && E->Op == BinaryOp::Add) {
        Collect(E->Operands[0]);
        Collect(E->Operands[1]);
      } else if (It != Starts.end() && !Span &&
                 blockOfStart(It->second.first)) {
        Terms.push_back(It->second.first);
        Terms.push_back(minus(E, It->second.first));
        Span = It->second.second - 1;
      } else {
        Terms.push_back(E);
      }
    };
    Collect(I);
    for (size_t T = 0; T < Terms.size(); ++T) {
      Expr Of = blockOfStart(Terms[T]);
      if (!Of)
        continue;
      Expr Rest = intImm(0);
      for (size_t U = 0; U < Terms.size(); ++U)
        if (U != T)
          Rest = plus(Rest, Terms[U]);
      std::optional<int64_t> First, Last;
      if (Span) {
        if (Terms.size() != 2) // the loop's offset and nothing else
          return false;
        First = 0, Last = Span;
      } else if (std::optional<Interval> In = bounds(Rest, R)) {
        First = constInt(In->Lo);
        Last = constInt(In->Hi);
      }
      if (!First || !Last || *First < 0 || *Last >= F)
        return false;
      Block = Of;
      Offset = Rest;
      return true;
    }
    return false;
  }

  /// Whether E is the start of a block: %o * F, or with Shift also
  /// min(%o * F, E - F); and then %o.
  Expr blockOfStart(const Expr &E) const {
    const Expr *Start = &E;
    if (Shift && E->Kind == ExprKind::Binary && E->Op == BinaryOp::Min &&
        constInt(E->Operands[1]) == B.Shape[Dim] - F)
      Start = &E->Operands[0];
    if ((*Start)->Kind == ExprKind::Binary && (*Start)->Op == BinaryOp::Mul &&
        constInt((*Start)->Operands[1]) == F)
      return (*Start)->Operands[0];
    return nullptr;
  }

  const BufferDecl &B;
  int64_t Dim, F, Pos;
  bool Shift;
  Ranges R;
  /// The loops of constant extent around the read: start, extent.
  std::map<std::string, std::pair<Expr, int64_t>> Starts;
};

} // namespace

/// The packed shape of Shape in layout L.
static std::vector<int64_t> packedShape(std::vector<int64_t> Shape,
                                        const PackLayout &L) {
  int64_t Blocks = (Shape[L.Dim] + L.Factor - 1) / L.Factor;
  Shape.erase(Shape.begin() + L.Dim);
  Shape.insert(Shape.begin() + L.Pos, Blocks);
  Shape.push_back(L.Factor);
  return Shape;
}

std::string loop::packAccesses(Stmt &Body, BufferDecl &B, const PackLayout &L) {
  if (B.Shape.empty())
    return "'%" + B.Name + "' has no shape (it is addressed flat)";
  if (!B.ReadOnly)
    return "'%" + B.Name + "' is not a read-only parameter";
  for (int64_t D : {L.Dim, L.Pos})
    if (D < 0 || D >= int64_t(B.Shape.size()))
      return "'%" + B.Name + "' has no dimension " + std::to_string(D);
  int64_t Extent = B.Shape[L.Dim];
  if (L.Shift ? L.Factor > Extent : Extent % L.Factor != 0)
    return "factor " + std::to_string(L.Factor) +
           (L.Shift ? " exceeds" : " does not divide") + " dimension " +
           std::to_string(L.Dim) + " of '%" + B.Name + "' (" +
           std::to_string(Extent) + ")";
  Packer Pk(B, L);
  Stmt New = Pk.mutate(Body);
  if (!Pk.Why.empty())
    return "cannot pack '%" + B.Name + "': " + Pk.Why;
  Body = New;
  B.Shape = packedShape(B.Shape, L);
  B.Size = 1;
  for (int64_t D : B.Shape)
    B.Size *= D;
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
                       const PackLayout &L) {
  int64_t Bytes = scalarBits(Elem) / 8;
  std::vector<int64_t> Packed = packedShape(Shape, L);
  int64_t PackedElems = 1;
  for (int64_t D : Packed)
    PackedElems *= D;
  std::vector<int64_t> Strides = rowMajorStrides(Shape),
                       PackedStrides = rowMajorStrides(Packed);
  int64_t Extent = Shape[L.Dim];
  // The element of the original at packed position J: J's index with the
  // block and offset joined back into dimension Dim (a shifted last block
  // starts at Extent - Factor).
  auto Source = [&](int64_t J) {
    std::vector<int64_t> Idx;
    for (size_t D = 0; D < Packed.size(); ++D)
      Idx.push_back(J / PackedStrides[D] % Packed[D]);
    int64_t Offset = Idx.back(), Block = Idx[L.Pos];
    Idx.pop_back();
    Idx.erase(Idx.begin() + L.Pos);
    int64_t Start = Block * L.Factor;
    if (L.Shift)
      Start = std::min(Start, Extent - L.Factor);
    Idx.insert(Idx.begin() + L.Dim, Start + Offset);
    int64_t I = 0;
    for (size_t D = 0; D < Idx.size(); ++D)
      I += Idx[D] * Strides[D];
    return I;
  };
  std::map<int64_t, int64_t> Moved; // old offset -> new offset
  for (KernelCall &C : P.Calls) {
    if (C.Kernel != K)
      continue;
    BufferBinding &Bd = C.Args[Param];
    auto It = Moved.find(Bd.Offset);
    if (It == Moved.end()) {
      int64_t At = (int64_t(P.Weights.size()) + 63) / 64 * 64;
      std::vector<uint8_t> Out(PackedElems * Bytes);
      for (int64_t J = 0; J < PackedElems; ++J)
        std::memcpy(&Out[J * Bytes], &P.Weights[Bd.Offset + Source(J) * Bytes],
                    Bytes);
      P.Weights.resize(At, 0);
      P.Weights.insert(P.Weights.end(), Out.begin(), Out.end());
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
