//===- Winograd.cpp - Winograd convolutions -------------------------------===//
//
// F(m x m, 3 x 3) for m = 2 and 4 (Winograd.h), as three statements:
//
//   input:   Pad[n, c] = the input plane with its padding written as zeros,
//            grown to the tile grid (TH*m + 2 rows, TW*m + 2 columns), so
//            that every input tile is whole and no element is tested; then
//            V[xi, c, (n, t)] = (B^T d B)[xi] for every tile t's input d;
//   product: Mres[xi] = U[xi] V[xi] for each of the (m+2)^2 xi, register-
//            tiled (RegisterTile.h) with U = G g G^T computed at compile
//            time (in double) and packed in the panels the tiles read;
//   output:  Y[n, o, tile] = A^T Mres[., o, (n, t)] A + bias, stored through
//            storeResult (the epilogue fuses), edge tiles cut to the output.
//
// Each statement's outermost loop runs over independent work (channels,
// the (m+2)^2 products, output channels), so the default schedule runs
// each on threads, and the transforms' innermost loops run over the tiles
// of a row (stride m in the input, stride 1 in V and Mres), which it
// vectorizes. Batch images are more columns of the products.
//
// The transform matrices are Lavin and Gray's (points 0, +-1 for F(2x2);
// 0, +-1, +-2, +-1/2 for F(4x4)). Accuracy: F(2x2)'s transforms are exact
// in floating point (coefficients 0, +-1, 1/2); F(4x4)'s error grows with
// the larger coefficients (up to 8 in A, 5 in B), which is why the size is
// a choice (PassOptions::Winograd).
//
//===----------------------------------------------------------------------===//

#include "passes/lower/Winograd.h"

using namespace tidal;
using namespace tidal::lower;
using namespace tidal::lower::nest;

namespace {

/// B^T (Alpha x Alpha), G (Alpha x 3) and A^T (M x Alpha) of F(M x M, 3x3).
struct Transforms {
  int64_t M, Alpha;
  const double *BT, *G, *AT;
  double bt(int64_t I, int64_t J) const { return BT[I * Alpha + J]; }
  double g(int64_t I, int64_t J) const { return G[I * 3 + J]; }
  double at(int64_t I, int64_t J) const { return AT[I * Alpha + J]; }
};

constexpr double BT2[] = {1, 0, -1, 0, 0, 1, 1, 0, 0, -1, 1, 0, 0, 1, 0, -1};
constexpr double G2[] = {1, 0, 0, .5, .5, .5, .5, -.5, .5, 0, 0, 1};
constexpr double AT2[] = {1, 1, 1, 0, 0, 1, -1, -1};

constexpr double BT4[] = {4, 0, -5, 0,  1, 0, 0, -4, -4, 1,  1, 0,
                          0, 4, -4, -1, 1, 0, 0, -2, -1, 2,  1, 0,
                          0, 2, -1, -2, 1, 0, 0, 4,  0,  -5, 0, 1};
constexpr double G4[] = {1. / 4,  0,        0,       -1. / 6, -1. / 6, -1. / 6,
                         -1. / 6, 1. / 6,   -1. / 6, 1. / 24, 1. / 12, 1. / 6,
                         1. / 24, -1. / 12, 1. / 6,  0,       0,       1};
constexpr double AT4[] = {1, 1, 1, 1, 1, 0, 0, 1, -1, 2, -2, 0,
                          0, 1, 1, 4, 4, 0, 0, 1, -1, 8, -8, 1};

Transforms transforms(int64_t M) {
  assert((M == 2 || M == 4) && "no Winograd transforms for this tile size");
  if (M == 2)
    return {2, 4, BT2, G2, AT2};
  return {4, 6, BT4, G4, AT4};
}

/// Sum over I of Coef(I) * Terms[I], leaving out zero coefficients and
/// multiplications by +-1 (most of the transforms' coefficients), and
/// starting from a positive term where there is one (a - b, not -b + a).
Expr combine(DataType DT, const std::vector<Expr> &Terms,
             const std::function<double(int64_t)> &Coef) {
  int64_t N = Terms.size(), First = 0;
  while (First < N && Coef(First) <= 0)
    ++First;
  if (First == N)
    First = 0;
  Expr Sum;
  for (int64_t J = 0; J < N; ++J) {
    int64_t I = (First + J) % N;
    double C = Coef(I), Mag = std::abs(C);
    if (C == 0)
      continue;
    Expr Term = Mag == 1 ? Terms[I] : constant(DT, Mag) * Terms[I];
    if (!Sum)
      Sum = C > 0 ? Term : constant(DT, C) * Terms[I];
    else
      Sum = C > 0 ? Sum + Term : Sum - Term;
  }
  return Sum ? Sum : constant(DT, 0);
}

/// Binds each of Values to a fresh variable named from Hint, around the
/// statement Body makes of those variables.
Stmt bindAll(KernelBuilder &B, DataType DT, llvm::StringRef Hint,
             const std::vector<Expr> &Values,
             const std::function<Stmt(const std::vector<Expr> &)> &Body) {
  std::vector<std::string> Names;
  std::vector<Expr> Vars;
  for (size_t I = 0; I < Values.size(); ++I) {
    Names.push_back(B.freshName(Hint));
    Vars.push_back(var(Names.back(), DT));
  }
  Stmt S = Body(Vars);
  for (size_t I = Values.size(); I-- > 0;)
    S = letStmt(Names[I], Values[I], S);
  return S;
}

/// U = G g G^T of every (output, input) channel pair: a tensor [Alpha^2,
/// M, C] computed in double from the f32 weights [M, C, 3, 3].
Tensor transformWeights(const Tensor &W, const WinogradConv &S,
                        const Transforms &F) {
  assert(W.Type.Elem == ElemType::F32 && "Winograd weights are f32");
  int64_t A = F.Alpha, Plane = S.M * S.C;
  Tensor U(TensorType(ElemType::F32, {A * A, S.M, S.C}));
  const float *G = W.data<float>();
  float *Out = U.data<float>();
  for (int64_t P = 0; P < Plane; ++P, G += 9) {
    // T = G g (Alpha x 3), then U = T G^T.
    double T[6][3] = {};
    for (int64_t I = 0; I < A; ++I)
      for (int64_t J = 0; J < 3; ++J)
        for (int64_t K = 0; K < 3; ++K)
          T[I][J] += F.g(I, K) * double(G[K * 3 + J]);
    for (int64_t I = 0; I < A; ++I)
      for (int64_t J = 0; J < A; ++J) {
        double Sum = 0;
        for (int64_t K = 0; K < 3; ++K)
          Sum += T[I][K] * F.g(J, K);
        Out[(I * A + J) * Plane + P] = float(Sum);
      }
  }
  return U;
}

/// The lowering's sizes and buffer names.
struct Plan {
  Plan(const WinogradConv &S, int64_t TileSize, ScalarType T)
      : S(S), F(transforms(TileSize)), DT(T), TH(ceilDivPos(S.OH, F.M)),
        TW(ceilDivPos(S.OW, F.M)), Tiles(TH * TW), Cols(S.Batch * Tiles),
        PH(TH * F.M + 2), PW(TW * F.M + 2) {}

  const WinogradConv &S;
  Transforms F;
  DataType DT;
  /// Tile rows and columns, tiles per image, tiles of the batch (the
  /// products' columns), padded rows and columns.
  int64_t TH, TW, Tiles, Cols, PH, PW;
  std::string Pad, V, Res, U;

  /// The elements of one Xi's matrix of V (Rows = channels) or Mres (Rows
  /// = output channels), Rows x Cols, and one cache line more: the
  /// transforms touch all (m+2)^2 matrices at once, and at a distance of a
  /// multiple of 4 KiB (56 x 56 outputs, 64 channels) those accesses all
  /// map to the same sets of the L1 cache.
  int64_t matrixElems(int64_t Rows) const {
    return Rows * Cols + SkewBytes / int64_t(scalarBits(DT.Scalar) / 8);
  }
  /// Element (Row, Col) of Xi's matrix.
  Expr at(Expr Xi, int64_t Rows, Expr Row, Expr Col) const {
    return add(affine(Xi, matrixElems(Rows), 0),
               add(affine(Row, Cols, 0), Col));
  }
  static constexpr int64_t SkewBytes = 64;
  /// The first element of Pad's plane of image N, channel C.
  Expr plane(Expr N, Expr C) const {
    return affine(add(affine(N, S.C, 0), C), PH * PW, 0);
  }
  /// The column of tile (TR, TC) of image N.
  Expr column(Expr N, Expr TR, Expr TC) const {
    return add(affine(N, Tiles, 0), add(affine(TR, TW, 0), TC));
  }
};

/// Pad[n, c] = the input plane (NV, C) with zeros around it: rows [0,
/// PadTop) and from PadTop + H zero, the others zeros, the input row, zeros.
Stmt padPlane(KernelBuilder &B, const Node &N, const Plan &P, Expr C, Expr NV) {
  const WinogradConv &S = P.S;
  const Value *X = N.Operands[0];
  auto Zeros = [&](Expr From, int64_t Count) {
    return loopOver(B, "z", Count, [&](Expr I) {
      return store(P.Pad, add(From, I), constant(P.DT, 0));
    });
  };
  Expr Plane = P.plane(NV, C);
  int64_t Right = P.PW - S.PadLeft - S.W;
  int64_t Below = P.PH - S.PadTop - S.H;
  Stmt Rows = loopOver(B, "y", S.H, [&](Expr Y) {
    Expr Row = add(Plane, affine(Y, P.PW, S.PadTop * P.PW));
    Stmt Copy = loopOver(B, "x", S.W, [&](Expr XV) {
      return store(P.Pad, add(Row, affine(XV, 1, S.PadLeft)),
                   B.loadAt(X, {NV, C, Y, XV}));
    });
    return seq({Zeros(Row, S.PadLeft), Copy,
                Zeros(add(Row, intImm(S.PadLeft + S.W)), Right)});
  });
  return seq(
      {Zeros(Plane, S.PadTop * P.PW), Rows,
       Zeros(add(Plane, intImm((S.PadTop + S.H) * P.PW)), Below * P.PW)});
}

/// V[xi, c, column of (n, t)] = (B^T d B)[xi] for the input tile d of every
/// tile t of every image, each input plane padded just before its tiles
/// read it (while it is in cache).
Stmt inputTransform(KernelBuilder &B, const Node &N, const Plan &P) {
  const Transforms &F = P.F;
  int64_t A = F.Alpha;
  return loopOver(B, "c", P.S.C, [&](Expr C) {
    return loopOver(B, "n", P.S.Batch, [&](Expr NV) {
      Stmt Tiles = loopOver(B, "tr", P.TH, [&](Expr TR) {
        return loopOver(B, "tc", P.TW, [&](Expr TC) {
          Expr Corner = add(P.plane(NV, C),
                            add(affine(TR, F.M * P.PW, 0), affine(TC, F.M, 0)));
          std::vector<Expr> D;
          for (int64_t I = 0; I < A; ++I)
            for (int64_t J = 0; J < A; ++J)
              D.push_back(load(P.Pad, P.DT, add(Corner, intImm(I * P.PW + J))));
          return bindAll(B, P.DT, "d", D, [&](const std::vector<Expr> &DV) {
            // d B, row by row: Rows[i * A + j] = sum over k of d[i][k] B[k][j].
            std::vector<Expr> Rows;
            for (int64_t I = 0; I < A; ++I)
              for (int64_t J = 0; J < A; ++J)
                Rows.push_back(combine(
                    P.DT, {DV.begin() + I * A, DV.begin() + (I + 1) * A},
                    [&](int64_t K) { return F.bt(J, K); }));
            return bindAll(
                B, P.DT, "db", Rows, [&](const std::vector<Expr> &RV) {
                  std::vector<Stmt> Stores;
                  Expr Col = P.column(NV, TR, TC);
                  for (int64_t I = 0; I < A; ++I)
                    for (int64_t J = 0; J < A; ++J) {
                      std::vector<Expr> Column;
                      for (int64_t K = 0; K < A; ++K)
                        Column.push_back(RV[K * A + J]);
                      Expr Value = combine(
                          P.DT, Column, [&](int64_t K) { return F.bt(I, K); });
                      Stores.push_back(store(
                          P.V, P.at(intImm(I * A + J), P.S.C, C, Col), Value));
                    }
                  return seq(Stores);
                });
          });
        });
      });
      return seq({padPlane(B, N, P, C, NV), Tiles});
    });
  });
}

/// Mres[xi] = U[xi] V[xi] for every xi: [M, C] x [C, Cols] products.
Stmt products(KernelBuilder &B, const Plan &P, ScalarType T,
              const RegisterTile &Tile) {
  int64_t A2 = P.F.Alpha * P.F.Alpha;
  return loopOver(B, "xi", A2, [&](Expr Xi) {
    Product Pr;
    Pr.Rows = P.S.M;
    Pr.Cols = P.Cols;
    Pr.Depth = P.S.C;
    Pr.PackedA = [&](Expr I) {
      return load(P.U, P.DT, add(affine(Xi, P.S.M * P.S.C, 0), I));
    };
    Pr.B = [&](Expr K, Expr J) {
      return load(P.V, P.DT, P.at(Xi, P.S.C, K, J));
    };
    Pr.Init = [&](Expr, Expr) { return constant(P.DT, 0); };
    Pr.Store = [&](Expr O, Expr J, Expr Value) {
      return store(P.Res, P.at(Xi, P.S.M, O, J), Value);
    };
    return tiledProduct(B, T, Pr, Tile);
  });
}

/// Y = A^T Mres A + bias for every output tile, each cut to the output:
/// tiles in the last row (column) keep only the output's remaining rows
/// (columns), so full tiles need no test.
Stmt outputTransform(KernelBuilder &B, const Node &N, const Plan &P) {
  const WinogradConv &S = P.S;
  const Transforms &F = P.F;
  int64_t A = F.Alpha, M = F.M;
  const Value *Bias = N.Operands.size() > 2 ? N.Operands[2] : nullptr;
  // Tile (TR, TC) of image NV and output channel O, Rows x Cols of it.
  auto TileAt = [&](Expr O, Expr NV, Expr TR, Expr TC, int64_t Rows,
                    int64_t Cols) {
    Expr Col = P.column(NV, TR, TC);
    std::vector<Expr> X;
    for (int64_t I = 0; I < A * A; ++I)
      X.push_back(load(P.Res, P.DT, P.at(intImm(I), S.M, O, Col)));
    return bindAll(B, P.DT, "x", X, [&](const std::vector<Expr> &XV) {
      // X A, row by row: Z[i * Cols + s] = sum over k of X[i][k] A[k][s].
      std::vector<Expr> Z;
      for (int64_t I = 0; I < A; ++I)
        for (int64_t Sc = 0; Sc < Cols; ++Sc)
          Z.push_back(combine(P.DT,
                              {XV.begin() + I * A, XV.begin() + (I + 1) * A},
                              [&](int64_t K) { return F.at(Sc, K); }));
      return bindAll(B, P.DT, "xa", Z, [&](const std::vector<Expr> &ZV) {
        std::vector<Stmt> Stores;
        for (int64_t R = 0; R < Rows; ++R)
          for (int64_t Sc = 0; Sc < Cols; ++Sc) {
            std::vector<Expr> Column;
            for (int64_t K = 0; K < A; ++K)
              Column.push_back(ZV[K * Cols + Sc]);
            Expr Value =
                combine(P.DT, Column, [&](int64_t K) { return F.at(R, K); });
            if (Bias)
              Value = Value + B.loadAt(Bias, {O});
            Stores.push_back(B.storeResult(
                {NV, O, affine(TR, M, R), affine(TC, M, Sc)}, Value));
          }
        return seq(Stores);
      });
    });
  };
  int64_t FullRows = S.OH / M, LastRows = S.OH % M;
  int64_t FullCols = S.OW / M, LastCols = S.OW % M;
  // One row of tiles, Rows output rows each.
  auto TileRow = [&](Expr O, Expr NV, Expr TR, int64_t Rows) {
    Stmt Full = loopOver(B, "tc", FullCols, [&](Expr TC) {
      return TileAt(O, NV, TR, TC, Rows, M);
    });
    if (!LastCols)
      return Full;
    return seq({Full, TileAt(O, NV, TR, intImm(FullCols), Rows, LastCols)});
  };
  return loopOver(B, "o", S.M, [&](Expr O) {
    return loopOver(B, "n", S.Batch, [&](Expr NV) {
      Stmt Full = loopOver(B, "tr", FullRows,
                           [&](Expr TR) { return TileRow(O, NV, TR, M); });
      if (!LastRows)
        return Full;
      return seq({Full, TileRow(O, NV, intImm(FullRows), LastRows)});
    });
  });
}

/// Output channels and input channels below which the transforms, whose
/// cost per tile grows with one of them where the products' grows with
/// both, take more than they save (measured on 56x56 and 28x28 outputs:
/// 32 channels gain 1.6x, 16 lose 1.2x).
constexpr int64_t MinChannels = 32;

/// Bounds on the transformed input and products of one convolution (a
/// 56x56 output of 64 channels takes 3.6 MB, 224x224 of 64 channels 57 MB)
/// and on its transformed weights (F(4x4) of 512 channels: 38 MB).
constexpr int64_t MaxScratchBytes = int64_t(32) << 20;
constexpr int64_t MaxWeightBytes = int64_t(64) << 20;

} // namespace

int64_t lower::winogradTileSize(const Node &N, const WinogradConv &S,
                                const std::vector<WindowAxis> &Axes,
                                const PassOptions &Opts) {
  ScalarType T = elemOf(N.result());
  auto Tile = registerTile(Opts, T);
  if (Opts.Winograd == 0 || !Tile || T != ScalarType::F32 ||
      !N.Operands[1]->constantData() || Axes.size() != 2 ||
      N.getInt("group", 1) != 1)
    return 0;
  for (const WindowAxis &W : Axes)
    if (W.Kernel != 3 || W.Stride != 1 || W.Dilation != 1)
      return 0;
  if (Opts.Winograd > 0)
    return Opts.Winograd;
  if (std::min(S.C, S.M) < MinChannels)
    return 0;
  // The largest tile whose products still fill one vector of columns
  // (tiles): with fewer, lanes idle and the transformed weights, (m+2)^2/9
  // times the size of the weights, are read for too few columns (measured
  // with 512 channels: 7x7 outputs, 4 tiles of 4x4, ran 1.2x slower than
  // direct; 16 tiles of 2x2 1.5x faster). And one whose buffers stay
  // within bounds: the transformed input and products are not cut into
  // chunks yet, so a large image takes the direct product, which is.
  for (int64_t M : {4, 2}) {
    int64_t Cols = S.Batch * ceilDivPos(S.OH, M) * ceilDivPos(S.OW, M);
    int64_t A2 = (M + 2) * (M + 2);
    if (Cols >= Tile->Lanes && A2 * (S.C + S.M) * Cols * 4 <= MaxScratchBytes &&
        A2 * S.M * S.C * 4 <= MaxWeightBytes)
      return M;
  }
  return 0;
}

Stmt lower::convWinograd(KernelBuilder &B, const Node &N, const WinogradConv &S,
                         int64_t TileSize, ScalarType T,
                         const RegisterTile &Tile) {
  const Value *X = N.Operands[0], *W = N.Operands[1];
  Plan P(S, TileSize, T);
  int64_t A2 = P.F.Alpha * P.F.Alpha;
  B.buffer(X);
  Tensor U = transformWeights(*W->constantData(), S, P.F);
  PanelLayout L{S.M, S.C, productTileRows(S.M, Tile)};
  P.U = B.derivedConstant(
      W->Name + "_winograd",
      packPanels(U, A2, L, [&](int64_t G, int64_t O, int64_t C) {
        return (G * S.M + O) * S.C + C;
      }));
  if (N.Operands.size() > 2 && N.Operands[2])
    B.buffer(N.Operands[2]);
  P.Pad = B.scratch("pad", T, S.Batch * S.C * P.PH * P.PW);
  P.V = B.scratch("wv", T, A2 * P.matrixElems(S.C));
  P.Res = B.scratch("wm", T, A2 * P.matrixElems(S.M));
  return seq({inputTransform(B, N, P), products(B, P, T, Tile),
              outputTransform(B, N, P)});
}
