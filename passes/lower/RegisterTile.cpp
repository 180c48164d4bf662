//===- RegisterTile.cpp - Register-blocked matrix products ----------------===//
//
// See RegisterTile.h. A tile of R rows and W columns is
//
//   allocate acc[R*W]:
//     acc[r*W + c] = Init(m0 + r, j0 + c)                (every r, c)
//     for k:  let a_r = A(m0 + r, k):                    (every r)
//               acc[r*W + c] = fma(a_r, B(k, j0 + c), acc[r*W + c])
//     Store(m0 + r, j0 + c, acc[r*W + c])                (every r, c)
//
// with the rows written out one by one (unrolled here, in Tidal's IR, so
// that every accumulator index is a constant) and the columns as vectorized
// loops of at most Lanes lanes: after the vectorize pass each accumulator is
// one vector at a constant offset of `acc`, which LLVM's SROA keeps in a
// register, and the B vector of a column piece is the same load in every
// row, which LLVM loads once.
//
//===----------------------------------------------------------------------===//

#include "passes/lower/RegisterTile.h"
#include <algorithm>
#include <cstring>

using namespace tidal;
using namespace tidal::lower;
using namespace tidal::lower::nest;

namespace {

/// Lanes [Offset, Offset + Lanes) of a tile row.
struct Piece {
  int64_t Offset, Lanes;
};

/// A - B for i64 expressions, folded when both are constants (so that loop
/// extents made of constant bounds stay constants, which vectorizing needs).
Expr minus(Expr A, Expr B) {
  if (A->Kind == ExprKind::IntImm && B->Kind == ExprKind::IntImm)
    return intImm(A->IntValue - B->IntValue);
  return A - B;
}

/// One tile: Rows rows from M0, Width columns from J0.
Stmt emitTile(KernelBuilder &B, ScalarType T, const Product &P, Expr M0,
              int64_t Rows, Expr J0, int64_t Width, int64_t Lanes) {
  DataType DT(T);
  std::vector<Piece> Pieces;
  for (int64_t Off = 0; Off < Width; Off += Lanes)
    Pieces.push_back({Off, std::min(Lanes, Width - Off)});
  LocalBuf Acc = newBuf(B, "acc", T);
  // F(row, accumulator index, result column) for every element of the tile.
  auto OverTile = [&](const std::function<Stmt(int64_t, Expr, Expr)> &F) {
    std::vector<Stmt> Stmts;
    for (int64_t R = 0; R < Rows; ++R)
      for (const Piece &Pc : Pieces)
        Stmts.push_back(overLanes(B, Pc.Lanes, [&](Expr L) {
          Expr Col = add(intImm(Pc.Offset), L);
          return F(R, add(intImm(R * Width), Col), add(J0, Col));
        }));
    return seq(Stmts);
  };
  Stmt Init = OverTile([&](int64_t R, Expr I, Expr J) {
    return Acc.set(I, P.Init(add(M0, intImm(R)), J));
  });
  Stmt Update = loopOver(B, "k", P.Depth, [&](Expr K) {
    std::vector<Stmt> PerRow;
    for (int64_t R = 0; R < Rows; ++R) {
      std::string A = B.freshName("a");
      // Panel element (k, r) of the panel from row M0, Rows wide.
      Expr AV = P.PackedA
                    ? P.PackedA(add(affine(M0, P.Depth, 0), affine(K, Rows, R)))
                    : P.A(add(M0, intImm(R)), K);
      std::vector<Stmt> Row;
      for (const Piece &Pc : Pieces)
        Row.push_back(overLanes(B, Pc.Lanes, [&](Expr L) {
          Expr I = add(intImm(R * Width + Pc.Offset), L);
          Expr BV = P.PackedB
                        ? P.PackedB(add(affine(J0, P.Depth, 0),
                                        add(affine(K, Width, Pc.Offset), L)))
                        : P.B(K, add(J0, add(intImm(Pc.Offset), L)));
          return Acc.set(I, call("fma", DT, {var(A, DT), BV, Acc.at(I)}));
        }));
      PerRow.push_back(letStmt(A, AV, seq(Row)));
    }
    return seq(PerRow);
  });
  Stmt Out = OverTile([&](int64_t R, Expr I, Expr J) {
    return P.Store(add(M0, intImm(R)), J, Acc.at(I));
  });
  return allocate(Acc.Name, T, Rows * Width, seq({Init, Update, Out}));
}

} // namespace

std::optional<RegisterTile> lower::registerTile(const PassOptions &Opts,
                                                ScalarType T) {
  if (Opts.OptLevel == 0 || Opts.Target.isGPU() ||
      (T != ScalarType::F32 && T != ScalarType::F64))
    return std::nullopt;
  TargetInfo::Tile Shape = Opts.Target.registerTile(scalarBits(T));
  if (Shape.Lanes < 2)
    return std::nullopt;
  RegisterTile Tile;
  Tile.Lanes = Shape.Lanes;
  Tile.Vectors = Shape.Vectors;
  Tile.Rows = Shape.Rows;
  return Tile;
}

int64_t PanelLayout::offset(int64_t I, int64_t K) const {
  int64_t First = I / Width * Width;
  return First * Depth + K * std::min(Width, N - First) + (I - First);
}

Tensor lower::packPanels(
    const Tensor &Src, int64_t Groups, const PanelLayout &L,
    const std::function<int64_t(int64_t, int64_t, int64_t)> &SrcIndex) {
  int64_t PerGroup = L.N * L.Depth;
  Tensor R(TensorType(Src.Type.Elem, {Groups, PerGroup}));
  size_t Size = Src.Bytes.size() / size_t(Src.Type.numElements());
  for (int64_t G = 0; G < Groups; ++G)
    for (int64_t I = 0; I < L.N; ++I)
      for (int64_t K = 0; K < L.Depth; ++K)
        std::memcpy(&R.Bytes[(G * PerGroup + L.offset(I, K)) * Size],
                    &Src.Bytes[SrcIndex(G, I, K) * Size], Size);
  return R;
}

int64_t lower::productTileRows(int64_t Rows, const RegisterTile &Tile) {
  return TargetInfo::Tile{Tile.Rows, Tile.Lanes, Tile.Vectors}.rowsFor(Rows);
}

Stmt lower::tiledProduct(KernelBuilder &B, ScalarType T, const Product &P,
                         const RegisterTile &MaxTile) {
  RegisterTile Tile = MaxTile;
  Tile.Rows = productTileRows(P.Rows, MaxTile);
  int64_t Cols = Tile.columns();
  // Blocks along one dimension (full ones in a loop, then the edge block),
  // Inner(first index, size) inside each.
  auto Blocks = [&](llvm::StringRef Name, int64_t Extent, int64_t Size,
                    const std::function<Stmt(Expr, int64_t)> &Inner) {
    int64_t Full = Extent / Size, Rest = Extent % Size;
    Stmt Main = loopOver(B, Name, Full, [&](Expr O) {
      return Inner(affine(O, Size, 0), Size);
    });
    return Rest ? seq({Main, Inner(intImm(Full * Size), Rest)}) : Main;
  };
  // Column blocks outermost when there are enough of them to share out:
  // a block of B (Depth x Cols) then stays in cache while every row block
  // passes over it. Otherwise row blocks outermost.
  if (P.Cols >= 4 * Cols)
    return Blocks("j", P.Cols, Cols, [&](Expr J0, int64_t Width) {
      return Blocks("m", P.Rows, Tile.Rows, [&](Expr M0, int64_t Rows) {
        return emitTile(B, T, P, M0, Rows, J0, Width, Tile.Lanes);
      });
    });
  return Blocks("m", P.Rows, Tile.Rows, [&](Expr M0, int64_t Rows) {
    return Blocks("j", P.Cols, Cols, [&](Expr J0, int64_t Width) {
      return emitTile(B, T, P, M0, Rows, J0, Width, Tile.Lanes);
    });
  });
}

Stmt lower::im2col(
    KernelBuilder &B, ScalarType T, const std::string &Col, Expr Base,
    const std::vector<WindowAxis> &Axes, int64_t Channels,
    const std::function<Expr(Expr, const std::vector<Expr> &)> &InputAt,
    std::optional<OutputRows> Rows) {
  DataType DT(T);
  if (Axes.size() < 2)
    Rows.reset();
  std::vector<int64_t> OuterKernel, OuterOut;
  int64_t Taps = 1, Positions = 1;
  for (size_t A = 0; A < Axes.size(); ++A) {
    int64_t Out = A == 0 && Rows ? Rows->Count : Axes[A].Out;
    Taps *= Axes[A].Kernel;
    Positions *= Out;
    if (A + 1 < Axes.size()) {
      OuterKernel.push_back(Axes[A].Kernel);
      OuterOut.push_back(Out);
    }
  }
  const WindowAxis &Last = Axes.back();
  auto Zeros = [&](Expr Row, Expr Lo, Expr Extent) {
    return loopOver(B, "p", Lo, Extent, [&](Expr O) {
      return store(Col, add(Row, O), constant(DT, 0));
    });
  };
  return loopOver(B, "c", Channels, [&](Expr C) {
    return loopBlock(B, OuterKernel, "t", [&](const std::vector<Expr> &TO,
                                              Expr TFlat) {
      return loopBlock(B, OuterOut, "o", [&](const std::vector<Expr> &OO,
                                             Expr OFlat) {
        // The outer axes' input coordinates, and whether all are inside.
        std::vector<Expr> In;
        Expr Inside;
        for (size_t A = 0; A < OO.size(); ++A) {
          const WindowAxis &W = Axes[A];
          Expr O = A == 0 && Rows ? add(Rows->First, OO[A]) : OO[A];
          In.push_back(add(affine(O, W.Stride, -W.PadBegin),
                           affine(TO[A], W.Dilation, 0)));
          Expr Ok = logicalAnd(ge(In.back(), intImm(0)),
                               lt(In.back(), intImm(W.In)));
          Inside = Inside ? logicalAnd(Inside, Ok) : Ok;
        }
        // One row of Col per last-axis kernel position KV, whose inputs
        // are inside for the outputs [First, End); its input coordinate
        // is O * Stride + Offset.
        auto RowOf = [&](Expr KV, Expr First, Expr End, Expr Offset) {
          Expr Tap = add(affine(TFlat, Last.Kernel, 0), KV);
          Expr Row =
              add(Base, add(affine(add(affine(C, Taps, 0), Tap), Positions, 0),
                            affine(OFlat, Last.Out, 0)));
          Stmt Copy = loopOver(B, "p", First, minus(End, First), [&](Expr O) {
            std::vector<Expr> Idx = In;
            Idx.push_back(add(affine(O, Last.Stride, 0), Offset));
            return store(Col, add(Row, O), InputAt(C, Idx));
          });
          Stmt Inner = seq({Zeros(Row, intImm(0), First), Copy,
                            Zeros(Row, End, minus(intImm(Last.Out), End))});
          if (!Inside)
            return Inner;
          return ifThen(Inside, Inner,
                        Zeros(Row, intImm(0), intImm(Last.Out)));
        };
        if (Last.Kernel <= MaxUnrolledKernel) {
          // Constant bounds, so that every run is a vectorizable loop.
          std::vector<Stmt> Rows;
          for (int64_t KP = 0; KP < Last.Kernel; ++KP) {
            // The outputs whose input is inside, within [0, Out): with more
            // padding than input, a position can land inside for outputs
            // past the last one.
            auto [First, End] = Last.outputRange(KP);
            First = std::min(First, Last.Out);
            End = std::clamp(End, First, Last.Out);
            Rows.push_back(RowOf(intImm(KP), intImm(First), intImm(End),
                                 intImm(KP * Last.Dilation - Last.PadBegin)));
          }
          return seq(Rows);
        }
        return loopOver(B, "t", Last.Kernel, [&](Expr KV) {
          Expr Offset = affine(KV, Last.Dilation, -Last.PadBegin);
          Expr First = min(intImm(Last.Out),
                           ceilDivClamped(intImm(0) - Offset, Last.Stride));
          Expr End = max(First, min(intImm(Last.Out),
                                    ceilDivClamped(intImm(Last.In) - Offset,
                                                   Last.Stride)));
          return RowOf(KV, First, End, Offset);
        });
      });
    });
  });
}
