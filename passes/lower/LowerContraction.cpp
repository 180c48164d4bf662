//===- LowerContraction.cpp - Conv, Gemm and MatMul -----------------------===//
//
// Lowers the contractions. On the CPU targets (where registerTile() gives a
// tile: f32 and f64 from -O1 on) every Conv, Gemm and MatMul is a
// register-tiled matrix product (RegisterTile.h): a convolution per image
// and group, over its im2col matrix in a scratch buffer (or its input, when
// pointwise); Gemm and MatMul directly. Otherwise (the GPU, -O0, integer
// types) they are the loop nests below, whose innermost loop runs over
// contiguous output elements held in a local row accumulator, which the
// default schedule vectorizes.
//
// Conv (N-d, grouped, depthwise, strided, dilated, padded, optional bias):
//
//   for n, g, mo:  (m = g*Mg + mo; input channels c = g*Cg + ic)
//     for o1..o(k-1):  allocate acc[Ok]:
//       for ok: acc[ok] = bias[m] (or 0)
//       for ic, k1..k(k-1) in their valid ranges, each kk (unrolled):
//         for ok in kk's valid range: acc[ok] += x[n, c, ...] * w[m, ic, ...]
//       for ok: storeResult(acc[ok])
//
// Padding is handled by loop bounds (NestUtils' windowRow): padded
// elements are zeros that add nothing, so no read leaves the input and no
// element is tested. A pointwise convolution (1x1..., stride 1, no pads)
// is a matrix product per image: its accumulator covers the whole output
// plane and its innermost loop runs over all spatial positions at once.
//
// Gemm and MatMul compute each output row i in the order k, j:
//   for k: let a = A[i, k]:  for j: acc[j] += a * B[k, j]
// with rows wider than nest::MaxAccElems done in column blocks. MatMul
// follows numpy: a 1-D A is a row [1, K] and a 1-D B a column [K, 1], both
// dropped from the result, and batch axes broadcast. Gemm applies alpha,
// beta, transA, transB and broadcasts C to [M, N] (C may be absent);
// beta = 0 ignores C, as the ONNX reference does.
//
// Assumes the frontend's normalization: Conv's explicit `pads` (auto_pad
// resolved), `group` >= 1 (default 1); attributes absent mean ONNX's
// defaults.
//
//===----------------------------------------------------------------------===//

#include "passes/lower/Lowering.h"
#include "passes/lower/NestUtils.h"
#include "passes/lower/RegisterTile.h"
#include "passes/lower/Winograd.h"

using namespace tidal;
using namespace tidal::lower;
using namespace tidal::lower::nest;

namespace {

/// Fails unless every present operand and the result share one type.
llvm::Error checkSameElem(const Node &N) {
  for (const Value *V : N.Operands)
    if (V && V->Type.Elem != N.result()->Type.Elem)
      return nodeError(N, "operand %" + V->Name + " has element type " +
                              elemTypeName(V->Type.Elem) + ", expected " +
                              elemTypeName(N.result()->Type.Elem));
  return llvm::Error::success();
}

const Value *optionalOperand(const Node &N, unsigned I) {
  return I < N.Operands.size() ? N.Operands[I] : nullptr;
}

//===----------------------------------------------------------------------===//
// Conv
//===----------------------------------------------------------------------===//

/// The operand shapes of a Conv and its group sizes.
struct ConvShape {
  int64_t Batch, C, M, Groups, Cg, Mg;
  std::vector<int64_t> Kernel, OutSpatial;
};

llvm::Expected<ConvShape> convShape(const Node &N) {
  const Value *X = N.Operands[0], *W = N.Operands[1], *Y = N.result();
  const Value *Bias = optionalOperand(N, 2);
  const auto &XS = X->Type.Shape, &WS = W->Type.Shape, &YS = Y->Type.Shape;
  ConvShape S;
  S.Groups = N.getInt("group", 1);
  if (XS.size() < 3 || WS.size() != XS.size() || YS.size() != XS.size())
    return nodeError(
        N, "expected input, weights and result of one rank >= 3, got " +
               X->Type.str() + ", " + W->Type.str() + " and " + Y->Type.str());
  S.Batch = XS[0];
  S.C = XS[1];
  S.M = WS[0];
  if (S.Groups < 1 || S.C % S.Groups || S.M % S.Groups ||
      WS[1] * S.Groups != S.C)
    return nodeError(N, "group " + llvm::Twine(S.Groups) +
                            " does not divide input " + X->Type.str() +
                            " and weights " + W->Type.str());
  if (YS[0] != S.Batch || YS[1] != S.M)
    return nodeError(N, "result type " + Y->Type.str() + " does not match");
  if (Bias && Bias->Type.Shape != std::vector<int64_t>{S.M})
    return nodeError(N, "bias type " + Bias->Type.str() + " is not [" +
                            llvm::Twine(S.M) + "]");
  S.Cg = S.C / S.Groups;
  S.Mg = S.M / S.Groups;
  S.Kernel.assign(WS.begin() + 2, WS.end());
  S.OutSpatial.assign(YS.begin() + 2, YS.end());
  return S;
}

/// True when every window is a single element at the output's position.
bool isPointwise(const std::vector<WindowAxis> &Axes) {
  for (const WindowAxis &A : Axes)
    if (A.Kernel != 1 || A.Stride != 1 || A.PadBegin || A.In != A.Out)
      return false;
  return true;
}

/// The values of one (n, m) pair of a convolution.
struct ConvCtx {
  KernelBuilder &B;
  const Node &N;
  const ConvShape &S;
  const std::vector<WindowAxis> &Axes;
  ScalarType T;
  Expr Batch, Group, OutChan;

  Expr inChan(Expr IC) const { return add(affine(Group, S.Cg, 0), IC); }
  Expr bias() const {
    const Value *Bias = optionalOperand(N, 2);
    return Bias ? B.loadAt(Bias, {OutChan}) : constant(DataType(T), 0);
  }
};

/// The whole output plane of (n, m) in one accumulator (pointwise only).
Stmt convPlane(const ConvCtx &Cx) {
  KernelBuilder &B = Cx.B;
  const Value *X = Cx.N.Operands[0], *W = Cx.N.Operands[1];
  int64_t P = product(Cx.S.OutSpatial);
  LocalBuf Acc = newBuf(B, "acc", Cx.T);
  std::string XBuf = B.buffer(X);
  Stmt Init =
      loopOver(B, "j", P, [&](Expr J) { return Acc.set(J, Cx.bias()); });
  Stmt Update = loopOver(B, "c", Cx.S.Cg, [&](Expr IC) {
    std::vector<Expr> WIdx = {Cx.OutChan, IC};
    WIdx.resize(2 + Cx.Axes.size(), intImm(0));
    std::string WV = B.freshName("wv");
    Expr Row = affine(add(affine(Cx.Batch, Cx.S.C, 0), Cx.inChan(IC)), P, 0);
    Expr WLoad = B.loadAt(W, WIdx);
    Stmt Plane = loopOver(B, "j", P, [&](Expr J) {
      Expr XV = load(XBuf, DataType(Cx.T), add(Row, J));
      return Acc.set(J, Acc.at(J) + XV * var(WV, DataType(Cx.T)));
    });
    return letStmt(WV, WLoad, Plane);
  });
  Stmt Store = loopBlock(B, Cx.S.OutSpatial, "j",
                         [&](const std::vector<Expr> &Sp, Expr F) {
                           std::vector<Expr> Idx = {Cx.Batch, Cx.OutChan};
                           Idx.insert(Idx.end(), Sp.begin(), Sp.end());
                           return B.storeResult(Idx, Acc.at(F));
                         });
  return allocate(Acc.Name, Cx.T, P, seq({Init, Update, Store}));
}

/// One output row of (n, m) at a time.
Stmt convRows(const ConvCtx &Cx) {
  KernelBuilder &B = Cx.B;
  const Value *X = Cx.N.Operands[0], *W = Cx.N.Operands[1];
  const std::vector<int64_t> &OS = Cx.S.OutSpatial;
  int64_t Row = OS.back();
  std::vector<int64_t> Outer(OS.begin(), OS.end() - 1);
  LocalBuf Acc = newBuf(B, "acc", Cx.T);
  return loopBlock(B, Outer, "y", [&](const std::vector<Expr> &OO, Expr) {
    Stmt Init =
        loopOver(B, "j", Row, [&](Expr J) { return Acc.set(J, Cx.bias()); });
    Stmt Update = loopOver(B, "c", Cx.S.Cg, [&](Expr IC) {
      Expr Chan = Cx.inChan(IC);
      return windowRow(
          B, Cx.Axes, OO,
          [&](const std::vector<Expr> &K, const std::vector<Expr> &In,
              Expr OL) {
            std::vector<Expr> XIdx = {Cx.Batch, Chan}, WIdx = {Cx.OutChan, IC};
            XIdx.insert(XIdx.end(), In.begin(), In.end());
            WIdx.insert(WIdx.end(), K.begin(), K.end());
            Expr XV = B.loadAt(X, XIdx);
            Expr WV = B.loadAt(W, WIdx);
            return Acc.set(OL, Acc.at(OL) + XV * WV);
          });
    });
    Stmt Store = loopOver(B, "j", Row, [&](Expr J) {
      std::vector<Expr> Idx = {Cx.Batch, Cx.OutChan};
      Idx.insert(Idx.end(), OO.begin(), OO.end());
      Idx.push_back(J);
      return B.storeResult(Idx, Acc.at(J));
    });
    return allocate(Acc.Name, Cx.T, Row, seq({Init, Update, Store}));
  });
}

/// The output rows per chunk of a chunked convolution (convTiled): rows of
/// the outermost spatial axis (Out of them, RowPositions output positions
/// and RowBytes bytes of im2col matrix each), or 0 for no chunks.
///
/// A chunk must keep at least four tiles of Cols positions, or its edge
/// tiles would waste lanes (measured: 7x7 outputs in chunks of 21 and 7
/// positions ran 23% slower than whole), and there must be two chunks at
/// least. Where the whole matrix would take more than half of the L2
/// cache, a chunk's part must fit that budget: the largest such chunk. Where
/// it fits but is rewritten for several images or groups (depthwise
/// convolutions), chunks are only what runs on threads: the smallest, so
/// that many share out evenly. Otherwise no chunks. A count that divides
/// Out is preferred, so that every chunk is alike.
int64_t chunkRows(int64_t Out, int64_t RowPositions, int64_t RowBytes,
                  int64_t Cols, bool Repeated, uint64_t L2Bytes) {
  int64_t Budget = int64_t(L2Bytes / 2);
  bool Fits = RowBytes * Out <= Budget;
  int64_t Min = ceilDivPos(4 * Cols, RowPositions), Max = Out / 2;
  if (!Budget || (Fits && !Repeated))
    return 0;
  if (!Fits)
    Max = std::min(Max, Budget / RowBytes);
  if (Min > Max)
    return 0;
  for (int64_t I = 0; I <= Max - Min; ++I) {
    int64_t R = Fits ? Min + I : Max - I;
    if (Out % R == 0)
      return R;
  }
  return Fits ? Min : Max;
}

/// The fraction of the lanes of Lanes-wide vectors that N columns use.
double laneUse(int64_t N, int64_t Lanes) {
  return double(N) / double(ceilDivPos(N, Lanes) * Lanes);
}

/// Whether a convolution of Positions output positions and Channels
/// output channels per group, with constant weights, fills the vectors of
/// Lanes lanes better transposed (convTiled): its positions fill at most
/// half of them and its channels more (one output position fills 1 of 16
/// lanes, 512 output channels all of them).
bool prefersTransposed(int64_t Positions, int64_t Channels, int64_t Lanes) {
  return laneUse(Positions, Lanes) <= 0.5 &&
         laneUse(Channels, Lanes) > laneUse(Positions, Lanes);
}

/// The zero-padded input planes of a convolution over two spatial axes
/// (convDepthwise, planesProduct), cut by the strides SH x SW into phases
/// (as space-to-depth does): phase (rp, cp) holds the padded input's
/// elements (SH h + rp, SW w + cp) at (h, w), Hq x Wq of them, so that
/// each kernel tap reads one phase at the output's position plus a
/// constant, a contiguous run of "wide" positions q = oh * Wq + ow. Of
/// stride 1, one phase: the padded plane.
struct Planes {
  int64_t KH, KW, DH, DW, SH, SW, Hq, Wq, OH, OW;
  /// A phase's elements: Hq x Wq, then the zeros past them that the last
  /// taps of the last wide positions read.
  int64_t Size;
  /// The OH x Wq wide positions.
  int64_t Wide;
  explicit Planes(const std::vector<WindowAxis> &Axes)
      : KH(Axes[0].Kernel), KW(Axes[1].Kernel), DH(Axes[0].Dilation),
        DW(Axes[1].Dilation), SH(Axes[0].Stride), SW(Axes[1].Stride),
        Hq(ceilDivPos(padded(Axes[0]), SH)),
        Wq(ceilDivPos(padded(Axes[1]), SW)), OH(Axes[0].Out), OW(Axes[1].Out),
        Size(Hq * Wq + (KW - 1) * DW / SW), Wide(OH * Wq) {}
  int64_t phases() const { return SH * SW; }
  /// The phase and the offset in it that kernel tap (KH, KW) reads for
  /// wide position Q.
  std::pair<Expr, Expr> tap(Expr Q, Expr KHV, Expr KWV) const {
    auto Split = [](Expr K, int64_t D, int64_t S) {
      Expr Pos = affine(K, D, 0);
      return S == 1 ? std::make_pair(intImm(0), Pos)
                    : std::make_pair(Pos % intImm(S), Pos / intImm(S));
    };
    auto [RP, RowShift] = Split(KHV, DH, SH);
    auto [CP, ColShift] = Split(KWV, DW, SW);
    Expr Phase = SW == 1 ? RP : add(affine(RP, SW, 0), CP);
    return {Phase, add(Q, add(affine(RowShift, Wq, 0), ColShift))};
  }

private:
  static int64_t padded(const WindowAxis &A) {
    return A.In + A.PadBegin + A.PadEnd;
  }
};

/// The phases of the zero-padded input planes of a convolution (Planes)
/// that its taps read, row by row: the input's elements and zeros around
/// and past them. Store(phase, offset in it, value) writes them; In(r, i)
/// is the input element of row r, column i.
Stmt paddedPlane(KernelBuilder &B, const std::vector<WindowAxis> &Axes,
                 ScalarType T,
                 const std::function<Stmt(int64_t, Expr, Expr)> &Store,
                 const std::function<Expr(Expr, Expr)> &In) {
  DataType DT(T);
  const WindowAxis &AY = Axes[0], &AX = Axes[1];
  Planes PL(Axes);
  // The phase indices [first, end) that hold input elements of phase P of
  // an axis, and whether some tap reads phase P.
  auto Inside = [](const WindowAxis &A, int64_t S, int64_t Q, int64_t P) {
    int64_t First =
        std::min(Q, ceilDivPos(std::max<int64_t>(A.PadBegin - P, 0), S));
    int64_t Last = A.In - 1 + A.PadBegin - P;
    int64_t End = Last < 0 ? First : std::min(Q, Last / S + 1);
    return std::make_pair(First, std::max(First, End));
  };
  auto Read = [](int64_t K, int64_t D, int64_t S, int64_t P) {
    for (int64_t I = 0; I < K; ++I)
      if (I * D % S == P)
        return true;
    return false;
  };
  std::vector<Stmt> Phases;
  for (int64_t RP = 0; RP < PL.SH; ++RP)
    for (int64_t CP = 0; CP < PL.SW; ++CP) {
      if (!Read(PL.KH, PL.DH, PL.SH, RP) || !Read(PL.KW, PL.DW, PL.SW, CP))
        continue;
      int64_t Phase = RP * PL.SW + CP;
      auto Zeros = [&](Expr Base, int64_t Count) {
        return loopOver(B, "z", Count, [&](Expr I) {
          return Store(Phase, add(Base, I), constant(DT, 0));
        });
      };
      auto [H0, H1] = Inside(AY, PL.SH, PL.Hq, RP);
      auto [W0, W1] = Inside(AX, PL.SW, PL.Wq, CP);
      Stmt Top = Zeros(intImm(0), H0 * PL.Wq);
      Stmt Rows = loopOver(B, "r", H1 - H0, [&](Expr R) {
        Expr Row = affine(R, PL.Wq, H0 * PL.Wq);
        Expr InRow = affine(R, PL.SH, PL.SH * H0 + RP - AY.PadBegin);
        Stmt Copy = loopOver(B, "x", W1 - W0, [&](Expr I) {
          Expr InCol = affine(I, PL.SW, PL.SW * W0 + CP - AX.PadBegin);
          return Store(Phase, add(Row, add(I, intImm(W0))), In(InRow, InCol));
        });
        return seq(
            {Zeros(Row, W0), Copy, Zeros(add(Row, intImm(W1)), PL.Wq - W1)});
      });
      Stmt Bottom = Zeros(intImm(H1 * PL.Wq), PL.Size - H1 * PL.Wq);
      Phases.push_back(seq({Top, Rows, Bottom}));
    }
  return seq(Phases);
}

/// The channel chunks of a depthwise convolution (convDepthwise), each
/// with its own scratch slice, that run on threads: the largest count up to
/// MaxDepthwiseChunks dividing the channels. Two threads take two chunks
/// each, four one each; a slice per channel instead would grow the
/// workspace by the planes of every channel (kws_dscnn's 2.3 times).
constexpr int64_t MaxDepthwiseChunks = 4;

/// A depthwise convolution (one input and one output channel per group) of
/// stride 1 or 2 over two spatial axes, without im2col: per image and channel,
/// the input plane is copied into a zero-padded plane Pad of Hp x Wp (its
/// borders the pads), and the outputs are a one-row register-tiled product
/// (RegisterTile.h) over the "wide" positions q = oh * Wp + ow of that
/// plane, ow < Wp: Wide[q] = bias + sum over kernel positions (kh, kw) of
/// W[c, kh, kw] * Pad[q + kh * dh * Wp + kw * dw], each tap a contiguous
/// run of Pad. The wide positions with ow >= OW are computed and dropped:
/// the outputs are copied from Wide through the epilogue. Per output, one
/// store to Pad, where im2col makes KH x KW (3x3 convolutions of 192
/// channels on 28x28 outputs 1.8x faster, of 576 on 14x14 2.7x). Of
/// stride 2, Pad holds the plane's 2 x 2 phases and a tap reads one of
/// them (Planes::tap). The channels go in chunks (MaxDepthwiseChunks),
/// outermost, each with its slice of Pad and Wide, so that the chunk loop
/// runs on threads.
Stmt convDepthwise(KernelBuilder &B, const Node &N, const ConvShape &S,
                   const std::vector<WindowAxis> &Axes, ScalarType T,
                   const RegisterTile &Tile) {
  const Value *X = N.Operands[0], *W = N.Operands[1];
  const Value *Bias = optionalOperand(N, 2);
  DataType DT(T);
  Planes PL(Axes);
  int64_t PlaneSize = PL.phases() * PL.Size, WideSize = PL.Wide;
  int64_t Chunks = MaxDepthwiseChunks;
  while (S.Groups % Chunks)
    --Chunks;
  int64_t PerChunk = S.Groups / Chunks;
  B.buffer(X);
  B.buffer(W);
  if (Bias)
    B.buffer(Bias);
  std::string Pad = B.scratch("pad", T, Chunks * PlaneSize);
  std::string Wide = B.scratch("wide", T, Chunks * WideSize);
  return loopOver(B, "chunk", Chunks, [&](Expr Q) {
    Expr PadBase = affine(Q, PlaneSize, 0), WideBase = affine(Q, WideSize, 0);
    // Offset Off of phase Phase in the chunk's slice of Pad.
    auto InPad = [&](Expr Phase, Expr Off) {
      if (Phase->Kind == ExprKind::IntImm && Phase->IntValue == 0)
        return add(PadBase, Off);
      return add(PadBase, add(affine(Phase, PL.Size, 0), Off));
    };
    return loopOver(B, "n", S.Batch, [&](Expr NV) {
      return loopOver(B, "c", PerChunk, [&](Expr CI) {
        Expr C = add(affine(Q, PerChunk, 0), CI);
        Stmt Plane = paddedPlane(
            B, Axes, T,
            [&](int64_t Phase, Expr Off, Expr V) {
              return store(Pad, InPad(intImm(Phase), Off), V);
            },
            [&](Expr R, Expr I) {
              return B.loadAt(X, {NV, C, R, I});
            });
        Product P;
        P.Rows = 1;
        P.Cols = WideSize;
        P.Depth = PL.KH * PL.KW;
        P.A = [&](Expr, Expr K) {
          return B.loadAt(W,
                          {C, intImm(0), K / intImm(PL.KW), K % intImm(PL.KW)});
        };
        P.B = [&](Expr K, Expr J) {
          auto [Phase, Off] = PL.tap(J, K / intImm(PL.KW), K % intImm(PL.KW));
          return load(Pad, DT, InPad(Phase, Off));
        };
        P.Init = [&](Expr, Expr) {
          return Bias ? B.loadAt(Bias, {C}) : constant(DT, 0);
        };
        P.Store = [&](Expr, Expr J, Expr V) {
          return store(Wide, add(WideBase, J), V);
        };
        Stmt Product = tiledProduct(B, T, P, Tile);
        Stmt Out = loopOver(B, "oh", PL.OH, [&](Expr OHV) {
          return loopOver(B, "ow", PL.OW, [&](Expr OWV) {
            return B.storeResult(
                {NV, C, OHV, OWV},
                load(Wide, DT, add(WideBase, add(affine(OHV, PL.Wq, 0), OWV))));
          });
        });
        return seq({Plane, Product, Out});
      });
    });
  });
}

/// The convolution as register-tiled matrix products (RegisterTile.h), one
/// per image and group: Res[m, p] = sum over k of W[m, k] * Col[k, p], with
/// k running over (input channel, kernel position) and p over the output
/// positions. Col is the image's im2col matrix in a scratch buffer, or the
/// input itself for a pointwise convolution.
///
/// Where the whole matrix would not fit in the L2 cache, or is rewritten
/// for several images or groups (depthwise convolutions), the output is cut
/// into chunks of rows of its outermost spatial axis (chunkRows). The chunk
/// loop is outermost; in it, each image and group computes the chunk's
/// part of Col just before its product reads it (im2col computed at the
/// chunk loop): the part is still in cache, and the chunks are independent
/// (each writes its own part of Col and its own output columns), so the
/// default schedule runs the chunk loop on threads.
///
/// Constant weights are packed at compile time in the panels the tiles read
/// (PanelLayout). Where the output channels also fill the vectors better
/// than the output positions, which fill at most half of them (one output
/// position fills 1 of 16 lanes; 512 channels all of them), the product is
/// transposed: Res^T[p, m] = sum over k of Col[k, p] * W^T[k, m], tiles of
/// positions by vectors of channels. Its stores are scatters, one per tile
/// row and vector after the whole reduction.
Stmt convTiled(KernelBuilder &B, const Node &N, const ConvShape &S,
               const std::vector<WindowAxis> &Axes, ScalarType T,
               const RegisterTile &Tile) {
  const Value *X = N.Operands[0], *W = N.Operands[1];
  const Value *Bias = optionalOperand(N, 2);
  DataType DT(T);
  int64_t Positions = product(S.OutSpatial);
  std::vector<int64_t> Reduced = {S.Cg};
  Reduced.insert(Reduced.end(), S.Kernel.begin(), S.Kernel.end());
  int64_t Depth = product(Reduced);
  bool Direct = isPointwise(Axes);
  int64_t RowPositions = Positions / S.OutSpatial[0];
  int64_t Chunk = Direct || Axes.size() < 2
                      ? 0
                      : chunkRows(S.OutSpatial[0], RowPositions,
                                  Depth * RowPositions * (scalarBits(T) / 8),
                                  Tile.columns(), S.Batch * S.Groups > 1,
                                  B.options().Target.L2Bytes);
  const Tensor *WData = W->constantData();
  bool Transposed =
      !Chunk && WData && prefersTransposed(Positions, S.Mg, Tile.Lanes);
  PanelLayout WLayout{
      S.Mg, Depth, Transposed ? Tile.columns() : productTileRows(S.Mg, Tile)};
  B.buffer(X);
  std::string WP =
      WData ? B.derivedConstant(
                  W->Name + "_panels",
                  packPanels(*WData, S.Groups, WLayout,
                             [&](int64_t G, int64_t M, int64_t K) {
                               return (G * S.Mg + M) * Depth + K;
                             }))
            : B.buffer(W);
  if (Bias)
    B.buffer(Bias);
  std::string Col = Direct ? "" : B.scratch("col", T, Depth * Positions);
  auto Prefixed = [](Expr A, Expr B, std::vector<Expr> Rest) {
    Rest.insert(Rest.begin(), {A, B});
    return Rest;
  };
  // Image NV and group G at the output positions [First, First + Count),
  // whose im2col columns (when Rows says which output rows those are)
  // start at element Base of Col.
  auto ImageGroup = [&](Expr NV, Expr G, Expr First, int64_t Count, Expr Base,
                        std::optional<OutputRows> Rows) {
    Expr FirstOut = affine(G, S.Mg, 0), FirstIn = affine(G, S.Cg, 0);
    auto Packed = [&](Expr I) {
      return load(WP, DT, add(affine(G, Depth * S.Mg, 0), I));
    };
    auto Weight = [&](Expr M, Expr K) {
      std::vector<Expr> Idx = unflatten(K, Reduced);
      Idx.insert(Idx.begin(), add(FirstOut, M));
      return B.loadAt(W, Idx);
    };
    auto BiasAt = [&](Expr M) {
      return Bias ? B.loadAt(Bias, {add(FirstOut, M)}) : constant(DT, 0);
    };
    auto In = [&](Expr K, Expr J) {
      if (Direct)
        return B.loadAt(
            X, Prefixed(NV, add(FirstIn, K), unflatten(J, S.OutSpatial)));
      return load(Col, DT, add(Base, add(affine(K, Count, 0), J)));
    };
    auto Out = [&](Expr M, Expr J, Expr V) {
      return B.storeResult(Prefixed(NV, add(FirstOut, M),
                                    unflatten(add(First, J), S.OutSpatial)),
                           V);
    };
    Product P;
    P.Depth = Depth;
    if (Transposed) {
      P.Rows = Count;
      P.Cols = S.Mg;
      P.A = [&](Expr J, Expr K) { return In(K, J); };
      P.PackedB = Packed;
      P.Init = [&](Expr, Expr M) { return BiasAt(M); };
      P.Store = [&](Expr J, Expr M, Expr V) { return Out(M, J, V); };
    } else {
      P.Rows = S.Mg;
      P.Cols = Count;
      P.A = Weight;
      if (WData)
        P.PackedA = Packed;
      P.B = In;
      P.Init = [&](Expr M, Expr) { return BiasAt(M); };
      P.Store = Out;
    }
    Stmt Product = tiledProduct(B, T, P, Tile);
    if (Direct)
      return Product;
    Stmt Cols = im2col(
        B, T, Col, Base, Axes, S.Cg,
        [&](Expr C, const std::vector<Expr> &In) {
          return B.loadAt(X, Prefixed(NV, add(FirstIn, C), In));
        },
        Rows);
    return seq({Cols, Product});
  };
  // Every image and group, with Body(n, g) inside.
  auto EachImageGroup = [&](const std::function<Stmt(Expr, Expr)> &Body) {
    return loopOver(B, "n", S.Batch, [&](Expr NV) {
      return loopOver(B, "g", S.Groups, [&](Expr G) { return Body(NV, G); });
    });
  };
  if (!Chunk)
    return EachImageGroup([&](Expr NV, Expr G) {
      return ImageGroup(NV, G, intImm(0), Positions, intImm(0), std::nullopt);
    });
  // The chunk of Rows output rows from Row.
  auto ChunkAt = [&](Expr Row, int64_t Rows) {
    Expr First = affine(Row, RowPositions, 0);
    Expr Base = affine(Row, RowPositions * Depth, 0);
    return EachImageGroup([&](Expr NV, Expr G) {
      return ImageGroup(NV, G, First, Rows * RowPositions, Base,
                        OutputRows{Row, Rows});
    });
  };
  int64_t Full = S.OutSpatial[0] / Chunk, Rest = S.OutSpatial[0] % Chunk;
  Stmt Chunks = loopOver(B, "chunk", Full, [&](Expr C) {
    return ChunkAt(affine(C, Chunk, 0), Chunk);
  });
  if (!Rest)
    return Chunks;
  return seq({Chunks, ChunkAt(intImm(Full * Chunk), Rest)});
}

//===----------------------------------------------------------------------===//
// Matrix products
//===----------------------------------------------------------------------===//

/// One output row of a matrix product with K terms and Cols columns:
///   for j: acc[j] = 0;  for k: let a = LoadA(k): for j: acc[j] += a * LoadB(k,
///   j) for j: Store(j, acc[j])
/// in column blocks of at most MaxAccElems.
Stmt productRow(KernelBuilder &B, ScalarType T, int64_t K, int64_t Cols,
                const std::function<Expr(Expr)> &LoadA,
                const std::function<Expr(Expr, Expr)> &LoadB,
                const std::function<Stmt(Expr, Expr)> &Store) {
  DataType DT(T);
  int64_t Width = std::min(Cols, MaxAccElems);
  LocalBuf Acc = newBuf(B, "acc", T);
  auto Block = [&](Expr J0, Expr BlockWidth) {
    auto OverCols = [&](const std::function<Stmt(Expr, Expr)> &F) {
      return loopOver(B, "j", intImm(0), BlockWidth,
                      [&](Expr JJ) { return F(JJ, add(J0, JJ)); });
    };
    Stmt Init =
        OverCols([&](Expr JJ, Expr) { return Acc.set(JJ, constant(DT, 0)); });
    Stmt Update = loopOver(B, "k", K, [&](Expr KV) {
      // Sequenced, so that parameters and names come in a fixed order.
      std::string A = B.freshName("av");
      Expr AV = LoadA(KV);
      Stmt Row = OverCols([&](Expr JJ, Expr J) {
        return Acc.set(JJ, Acc.at(JJ) + var(A, DT) * LoadB(KV, J));
      });
      return letStmt(A, AV, Row);
    });
    Stmt Out = OverCols([&](Expr JJ, Expr J) { return Store(J, Acc.at(JJ)); });
    return seq({Init, Update, Out});
  };
  Stmt Body;
  if (Cols <= Width)
    Body = Block(intImm(0), intImm(Cols));
  else
    Body = loopOver(B, "jb", ceilDivPos(Cols, Width), [&](Expr JB) {
      Expr J0 = affine(JB, Width, 0);
      return Block(J0, min(intImm(Width), intImm(Cols) - J0));
    });
  return allocate(Acc.Name, T, Width, Body);
}

/// The batch index of an operand or result of a product: BV without or
/// with the row and column indices.
using BatchIndex = std::vector<Expr>;
using ProductLoad = std::function<Expr(const BatchIndex &, Expr, Expr)>;
using ProductStore = std::function<Stmt(const BatchIndex &, Expr, Expr, Expr)>;
/// The reduction index of a product over several reduction dimensions (a
/// convolution's input channel and kernel positions), one per dimension.
using ReductionIndex = std::vector<Expr>;
using ReductionLoad =
    std::function<Expr(const BatchIndex &, Expr, const ReductionIndex &)>;
/// A reduction dimension: its loop's role name and its extent.
struct ReductionAxis {
  llvm::StringRef Role;
  int64_t Extent;
};

/// The canonical definition of a batch of matrix products (Batch, possibly
/// empty, outermost), for the targets with a register tile: a scratch
/// result %res of shape Batch x [Rows, Cols] and three stages,
///
///   for b_init0.., m_init, n_init:  res[b.., m_init, n_init] = 0
///   for b_upd0.., m_upd, n_upd, k..:
///     res[b.., m_upd, n_upd] = fma(A(b, m_upd, k..), B(b, k.., n_upd),
///                                  res[..])
///   for b0.., m, n:                 Store(b, m, n, res[b.., m, n])
///
/// with one loop per dimension named by its role, a reduction over the
/// dimensions Reduction (one `k` for a matrix product; `ic`, `kh`, `kw` for
/// a convolution). The default schedule of the gemm family tiles it into
/// register-blocked micro-kernels (ProductSchedule.cpp); left unscheduled
/// it is still right. LoadA(b, m, k..) and LoadB(b, k.., n) read the
/// operands at a reduction index (one expression per reduction axis).
Stmt canonicalProduct(
    KernelBuilder &B, ScalarType T, const std::vector<int64_t> &Batch,
    int64_t Rows, const std::vector<ReductionAxis> &Reduction, int64_t Cols,
    const ReductionLoad &LoadA,
    const std::function<Expr(const BatchIndex &, const ReductionIndex &, Expr)>
        &LoadB,
    const ProductStore &Store) {
  DataType DT(T);
  // %res has the batch axes that have loops (not those of size 1).
  std::vector<int64_t> Shape;
  for (int64_t D : Batch)
    if (D != 1)
      Shape.push_back(D);
  Shape.push_back(Rows);
  Shape.push_back(Cols);
  std::string Res = B.scratch("res", T, product(Shape), Shape);
  auto At = [&](const BatchIndex &BV, Expr M, Expr N) {
    std::vector<Expr> Idx;
    for (size_t D = 0; D < Batch.size(); ++D)
      if (Batch[D] != 1)
        Idx.push_back(BV[D]);
    Idx.push_back(M);
    Idx.push_back(N);
    return Idx;
  };
  // One stage: its batch loops (Hint0, Hint1, ...) around Inner(batch
  // index).
  auto Stage = [&](llvm::StringRef Hint,
                   const std::function<Stmt(const BatchIndex &)> &Inner) {
    return B.loopNest(Batch, Hint, Inner);
  };
  auto Loop = [&](llvm::StringRef Name, int64_t Extent,
                  const std::function<Stmt(Expr)> &Inner) {
    std::string V = B.freshName(Name);
    return forRange(V, Extent, Inner(var(V)));
  };
  Stmt Init = Stage("b_init", [&](const BatchIndex &BV) {
    return Loop("m_init", Rows, [&](Expr M) {
      return Loop("n_init", Cols, [&](Expr N) {
        return store(Res, At(BV, M, N), constant(DT, 0));
      });
    });
  });
  // The reduction's loops, outermost first, around the update's store.
  std::function<Stmt(const BatchIndex &, Expr, Expr, ReductionIndex)> Reduce =
      [&](const BatchIndex &BV, Expr M, Expr N, ReductionIndex K) {
        if (K.size() == Reduction.size()) {
          Expr Acc = load(Res, DT, At(BV, M, N));
          return store(
              Res, At(BV, M, N),
              call("fma", DT, {LoadA(BV, M, K), LoadB(BV, K, N), Acc}));
        }
        // No loop for a dimension of one (a 3x1 kernel's kw): the
        // schedule names only loops that stay.
        const ReductionAxis &Axis = Reduction[K.size()];
        auto Inner = [&](Expr KV) {
          ReductionIndex Deeper = K;
          Deeper.push_back(KV);
          return Reduce(BV, M, N, Deeper);
        };
        return Axis.Extent == 1 ? Inner(intImm(0))
                                : Loop(Axis.Role, Axis.Extent, Inner);
      };
  Stmt Update = Stage("b_upd", [&](const BatchIndex &BV) {
    return Loop("m_upd", Rows, [&](Expr M) {
      return Loop("n_upd", Cols, [&](Expr N) { return Reduce(BV, M, N, {}); });
    });
  });
  Stmt Out = Stage("b", [&](const BatchIndex &BV) {
    return Loop("m", Rows, [&](Expr M) {
      return Loop("n", Cols, [&](Expr N) {
        return Store(BV, M, N, load(Res, DT, At(BV, M, N)));
      });
    });
  });
  return seq({Init, Update, Out});
}

/// The canonical product with one reduction dimension `k` of K terms.
Stmt canonicalProduct(KernelBuilder &B, ScalarType T,
                      const std::vector<int64_t> &Batch, int64_t Rows,
                      int64_t K, int64_t Cols, const ProductLoad &LoadA,
                      const ProductLoad &LoadB, const ProductStore &Store) {
  return canonicalProduct(
      B, T, Batch, Rows, {{"k", K}}, Cols,
      [&](const BatchIndex &BV, Expr M, const ReductionIndex &KV) {
        return LoadA(BV, M, KV[0]);
      },
      [&](const BatchIndex &BV, const ReductionIndex &KV, Expr N) {
        return LoadB(BV, KV[0], N);
      },
      Store);
}

/// Res[i, j] = sum over k < K of LoadA(i, k) * LoadB(k, j), for i < Rows
/// and j < Cols, each element handed to Store(i, j, value), one row at a
/// time (productRow): the targets without a register tile.
Stmt rowProduct(KernelBuilder &B, ScalarType T, int64_t Rows, int64_t K,
                int64_t Cols, const std::function<Expr(Expr, Expr)> &LoadA,
                const std::function<Expr(Expr, Expr)> &LoadB,
                const std::function<Stmt(Expr, Expr, Expr)> &Store) {
  return loopOver(B, "i", Rows, [&](Expr I) {
    return productRow(
        B, T, K, Cols, [&](Expr KV) { return LoadA(I, KV); }, LoadB,
        [&](Expr J, Expr Acc) { return Store(I, J, Acc); });
  });
}

const ElemType ProductElems[] = {ElemType::F32, ElemType::F64, ElemType::I32,
                                 ElemType::I64, ElemType::U32, ElemType::U64};

/// The index of a MatMul operand's batch axes (Batch) within the result's
/// batch index BV: aligned right, size-1 axes read index 0.
std::vector<Expr> batchIndex(llvm::ArrayRef<int64_t> Batch,
                             const std::vector<Expr> &BV) {
  std::vector<Expr> Idx;
  size_t Skip = BV.size() - Batch.size();
  for (size_t I = 0; I < Batch.size(); ++I)
    Idx.push_back(Batch[I] == 1 ? intImm(0) : BV[Skip + I]);
  return Idx;
}

/// Whether the canonical product's column tiles, the last shifted inwards
/// (ProductSchedule.cpp), compute more than 1/16 more columns for Cols
/// columns than the Positions output positions they stand for; convTiled's
/// last tile is narrower and does no more than the positions. Measured on
/// x86-64, single convolutions against convTiled: pointwise, 7x7 outputs
/// (49 positions in two tiles of 32) 12% slower, 14x14 (196 in 7) 9%,
/// 28x28 (784 in 25) even; over padded planes (planesProduct, 3x3
/// kernels), 4-6% more columns 5-11% faster, 10-14% more -9% to +10%,
/// a third more 22-37% slower.
bool redoesTooMuch(int64_t Cols, int64_t Positions, const RegisterTile &Tile) {
  int64_t C = std::min(Tile.columns(), Cols);
  return (Cols + C - 1) / C * C * 16 > Positions * 17;
}

/// The largest stride of a depthwise convolution over padded planes: its
/// input is cut into stride x stride phases (Planes), all of which a 3x3
/// kernel reads at stride 2; past that, taps skip whole phases.
constexpr int64_t MaxPlaneStride = 2;

/// The largest scratch a convolution over padded planes may take, the
/// planes and the wide outputs together: past it, the chunked im2col of
/// convTiled (as Winograd's whole-image buffers, docs/design.md).
constexpr int64_t MaxPlanesBytes = int64_t(32) << 20;

/// A dense convolution (one group) of stride 1 over two spatial axes as
/// the gemm family's canonical product over zero-padded planes, no im2col:
///
///   pad[n, c, i]        each input plane padded (paddedPlane), Hp x Wp
///   res[n, m, q]      = sum over ic, kh, kw of W[m, ic, kh, kw] *
///                       pad[n, ic, q + kh * dh * Wp + kw * dw]
///                       (canonicalProduct: init, update and epilogue,
///                       which stores res to wide[n, m, q]; the
///                       reduction's three loops named by role)
///   y[n, m, oh, ow]   = wide[n, m, oh * Wp + ow] + bias[m], through the
///                       fused epilogue
///
/// for the OH x Wp "wide" positions q = oh * Wp + ow of a plane: each
/// kernel tap is a contiguous run of the plane from q on, so the product's
/// column tiles load vectors of it directly, as they would the rows of an
/// im2col matrix, which is never written (convDepthwise does the same per
/// channel). The Wp - OW wide columns past each output row are computed
/// and dropped by the copy. Of stride 2 it would read the planes' phases
/// (Planes), as convDepthwise does: measured and not kept
/// (docs/design.md). None where the reduction is shorter than the
/// output channels (3x3 kernels over 3 input channels: 7-12% slower than
/// im2col), the columns computed would pass the outputs by too much
/// (redoesTooMuch), the scratch would pass MaxPlanesBytes, or the product
/// would rather be transposed (convTiled).
std::optional<Stmt> planesProduct(KernelBuilder &B, const Node &N,
                                  const ConvShape &S,
                                  const std::vector<WindowAxis> &Axes,
                                  ScalarType T, const RegisterTile &Tile) {
  if (S.Groups != 1 || Axes.size() != 2 || Axes[0].Stride != 1 ||
      Axes[1].Stride != 1)
    return std::nullopt;
  Planes PL(Axes);
  int64_t PlaneSize = PL.Size, Wide = PL.Wide;
  const Value *X = N.Operands[0], *W = N.Operands[1];
  int64_t Bytes =
      (S.C * PlaneSize + S.M * Wide) * S.Batch * int64_t(scalarBits(T) / 8);
  // Per output position, the planes' last stage copies M outputs where
  // im2col writes C x KH x KW elements: planes pay where the copy is the
  // smaller (measured above).
  if (S.C * PL.KH * PL.KW < S.M || Bytes > MaxPlanesBytes ||
      redoesTooMuch(Wide, PL.OH * PL.OW, Tile) ||
      (W->constantData() && prefersTransposed(PL.OH * PL.OW, S.M, Tile.Lanes)))
    return std::nullopt;
  const Value *Bias = optionalOperand(N, 2);
  DataType DT(T);
  B.buffer(X);
  std::string Pad =
      B.scratch("pad", T, S.Batch * S.C * PlaneSize, {S.Batch, S.C, PlaneSize});
  Stmt Padded = loopOver(B, "n", S.Batch, [&](Expr NV) {
    return loopOver(B, "c", S.C, [&](Expr C) {
      return paddedPlane(
          B, Axes, T,
          [&](int64_t, Expr Off, Expr V) {
            return store(Pad, {NV, C, Off}, V);
          },
          [&](Expr R, Expr I) {
            return B.loadAt(X, {NV, C, R, I});
          });
    });
  });
  std::string WideRes =
      B.scratch("wide", T, S.Batch * S.M * Wide, {S.Batch, S.M, Wide});
  Stmt Product = canonicalProduct(
      B, T, {S.Batch}, S.M, {{"ic", S.C}, {"kh", PL.KH}, {"kw", PL.KW}}, Wide,
      [&](const BatchIndex &, Expr M, const ReductionIndex &K) {
        return B.loadAt(W, {M, K[0], K[1], K[2]});
      },
      [&](const BatchIndex &BV, const ReductionIndex &K, Expr J) {
        Expr Off = PL.tap(J, K[1], K[2]).second; // one phase
        return load(Pad, DT, {BV[0], K[0], Off});
      },
      [&](const BatchIndex &BV, Expr M, Expr J, Expr V) {
        return store(WideRes, {BV[0], M, J}, V);
      });
  Stmt Out = loopOver(B, "n", S.Batch, [&](Expr NV) {
    return loopOver(B, "m", S.M, [&](Expr M) {
      return loopOver(B, "oh", PL.OH, [&](Expr OHV) {
        return loopOver(B, "ow", PL.OW, [&](Expr OWV) {
          Expr V = load(WideRes, DT, {NV, M, add(affine(OHV, PL.Wq, 0), OWV)});
          if (Bias)
            V = V + B.loadAt(Bias, {M});
          return B.storeResult({NV, M, OHV, OWV}, V);
        });
      });
    });
  });
  return seq({Padded, Product, Out});
}

/// A pointwise convolution of one group as the canonical product of the
/// gemm family, per image n: Y[n] = W * X[n] + bias over views that merge
/// the spatial axes (W as [M, C], X as [N, C, P], the result as [N, M, P],
/// P output positions), so that the default schedule tiles it like a Gemm
/// (ProductSchedule.cpp). None where the group's epilogue cannot be read
/// through the view, where convTiled would transpose the product, and
/// where the schedule's column tiles would redo too much (redoesTooMuch).
std::optional<Stmt> pointwiseProduct(KernelBuilder &B, const Node &N,
                                     const ConvShape &S, ScalarType T,
                                     const RegisterTile &Tile) {
  int64_t P = product(S.OutSpatial);
  const Value *X = N.Operands[0], *W = N.Operands[1];
  if (S.Groups != 1 ||
      (W->constantData() && prefersTransposed(P, S.M, Tile.Lanes)) ||
      redoesTooMuch(P, P, Tile) || !B.viewResult({S.Batch, S.M, P}))
    return std::nullopt;
  const Value *Bias = optionalOperand(N, 2);
  std::vector<int64_t> XView = {S.Batch, S.C, P}, WView = {S.M, S.C};
  return canonicalProduct(
      B, T, {S.Batch}, S.M, S.C, P,
      [&](const BatchIndex &, Expr M, Expr K) {
        return B.loadAt(W, WView, {M, K});
      },
      [&](const BatchIndex &BV, Expr K, Expr J) {
        return B.loadAt(X, XView, {BV[0], K, J});
      },
      [&](const BatchIndex &BV, Expr M, Expr J, Expr V) {
        if (Bias)
          V = V + B.loadAt(Bias, {M});
        return B.storeResult({BV[0], M, J}, V);
      });
}

} // namespace

llvm::Expected<Stmt> lower::lowerConv(const Node &N, KernelBuilder &B) {
  if (llvm::Error E = checkAllElems(N, FloatElems))
    return std::move(E);
  if (llvm::Error E = checkSameElem(N))
    return std::move(E);
  auto S = convShape(N);
  if (!S)
    return S.takeError();
  auto Axes = readWindow(N, N.Operands[0], N.result(), &S->Kernel);
  if (!Axes)
    return Axes.takeError();
  ScalarType T = elemOf(N.result());
  // Every convolution, depthwise ones included, is a register-tiled product
  // per group on the CPUs: even a one-row product (depthwise) vectorizes
  // along all output positions at once, where the row nest below could only
  // use an output row (5 wide in kws_dscnn; 5x faster tiled).
  if (auto Tile = registerTile(B.options(), T)) {
    if (Axes->size() == 2) {
      const WindowAxis &Y = (*Axes)[0], &X = (*Axes)[1];
      WinogradConv WS{S->Batch, S->C,  S->M,         Y.In,
                      X.In,     Y.Out, X.Out,        Y.PadBegin,
                      X.PadBegin};
      if (int64_t M = winogradTileSize(N, WS, *Axes, B.options()))
        return convWinograd(B, N, WS, M, T, *Tile);
    }
    // A pointwise convolution that is no canonical product reads its
    // input in place (convTiled): a padded copy would only add work.
    std::optional<Stmt> P = isPointwise(*Axes)
                                ? pointwiseProduct(B, N, *S, T, *Tile)
                                : planesProduct(B, N, *S, *Axes, T, *Tile);
    if (P)
      return *P;
    if (S->Groups > 1 && S->Cg == 1 && S->Mg == 1 && Axes->size() == 2 &&
        (*Axes)[0].Stride <= MaxPlaneStride &&
        (*Axes)[1].Stride <= MaxPlaneStride)
      return convDepthwise(B, N, *S, *Axes, T, *Tile);
    return convTiled(B, N, *S, *Axes, T, *Tile);
  }
  declareOperands(B, {N.Operands[0], N.Operands[1], optionalOperand(N, 2)});
  bool Plane = isPointwise(*Axes) && product(S->OutSpatial) <= MaxAccElems;
  return loopOver(B, "n", S->Batch, [&](Expr NV) {
    return loopOver(B, "g", S->Groups, [&](Expr G) {
      return loopOver(B, "m", S->Mg, [&](Expr MO) {
        ConvCtx Cx{B, N, *S, *Axes, T, NV, G, add(affine(G, S->Mg, 0), MO)};
        return Plane ? convPlane(Cx) : convRows(Cx);
      });
    });
  });
}

llvm::Expected<Stmt> lower::lowerGemm(const Node &N, KernelBuilder &B) {
  if (llvm::Error E = checkAllElems(N, ProductElems))
    return std::move(E);
  if (llvm::Error E = checkSameElem(N))
    return std::move(E);
  const Value *A = N.Operands[0], *BM = N.Operands[1],
              *C = optionalOperand(N, 2);
  const Value *Y = N.result();
  bool TransA = N.getInt("transA", 0), TransB = N.getInt("transB", 0);
  float Alpha = N.getFloat("alpha", 1.0f), Beta = N.getFloat("beta", 1.0f);
  if (Beta == 0.0f)
    C = nullptr;
  const auto &AS = A->Type.Shape, &BS = BM->Type.Shape;
  if (AS.size() != 2 || BS.size() != 2 || Y->Type.rank() != 2)
    return nodeError(N, "expected 2-D A, B and result, got " + A->Type.str() +
                            ", " + BM->Type.str() + " and " + Y->Type.str());
  int64_t M = AS[TransA], K = AS[!TransA], K2 = BS[TransB], Cols = BS[!TransB];
  if (K != K2 || Y->Type.Shape != std::vector<int64_t>{M, Cols})
    return nodeError(N, "shapes " + A->Type.str() + " and " + BM->Type.str() +
                            " do not multiply to " + Y->Type.str());
  if (C) {
    const auto &CS = C->Type.Shape;
    bool Ok = CS.size() <= 2;
    for (size_t I = 0; Ok && I < CS.size(); ++I)
      Ok = CS[I] == 1 || CS[I] == Y->Type.Shape[2 - CS.size() + I];
    if (!Ok)
      return nodeError(N, "C of type " + C->Type.str() +
                              " does not broadcast to " + Y->Type.str());
  }
  ScalarType T = elemOf(Y);
  DataType DT(T);
  if (!isFloat(T) && (Alpha != 1.0f || (C && Beta != 1.0f)))
    return nodeError(N, "alpha and beta other than 1 are not supported for "
                        "element type " +
                            elemTypeName(Y->Type.Elem));
  B.buffer(A);
  B.buffer(BM);
  if (C)
    B.buffer(C);
  auto LoadA = [&](Expr I, Expr KV) {
    return B.loadAt(A, TransA ? std::vector<Expr>{KV, I}
                              : std::vector<Expr>{I, KV});
  };
  auto LoadB = [&](Expr KV, Expr J) {
    return B.loadAt(BM, TransB ? std::vector<Expr>{J, KV}
                               : std::vector<Expr>{KV, J});
  };
  auto Store = [&](Expr I, Expr J, Expr Acc) {
    Expr V = Alpha == 1.0f ? Acc : constant(DT, Alpha) * Acc;
    if (C) {
      Expr CV = B.loadBroadcast(C, {I, J});
      V = V + (Beta == 1.0f ? CV : constant(DT, Beta) * CV);
    }
    return B.storeResult({I, J}, V);
  };
  if (!registerTile(B.options(), T))
    return rowProduct(B, T, M, K, Cols, LoadA, LoadB, Store);
  return canonicalProduct(
      B, T, {}, M, K, Cols,
      [&](const BatchIndex &, Expr I, Expr KV) { return LoadA(I, KV); },
      [&](const BatchIndex &, Expr KV, Expr J) { return LoadB(KV, J); },
      [&](const BatchIndex &, Expr I, Expr J, Expr V) {
        return Store(I, J, V);
      });
}

llvm::Expected<Stmt> lower::lowerMatMul(const Node &N, KernelBuilder &B) {
  if (llvm::Error E = checkAllElems(N, ProductElems))
    return std::move(E);
  if (llvm::Error E = checkSameElem(N))
    return std::move(E);
  const Value *A = N.Operands[0], *BM = N.Operands[1], *Y = N.result();
  const auto &AS = A->Type.Shape, &BS = BM->Type.Shape;
  if (AS.empty() || BS.empty())
    return nodeError(N, "operands must have rank >= 1");
  bool RowA = AS.size() == 1, ColB = BS.size() == 1;
  int64_t M = RowA ? 1 : AS[AS.size() - 2], K = AS.back();
  int64_t K2 = ColB ? BS[0] : BS[BS.size() - 2], Cols = ColB ? 1 : BS.back();
  llvm::ArrayRef<int64_t> BatchA(AS.data(), RowA ? 0 : AS.size() - 2);
  llvm::ArrayRef<int64_t> BatchB(BS.data(), ColB ? 0 : BS.size() - 2);
  // The broadcast batch shape, then the expected result shape.
  std::vector<int64_t> Batch(std::max(BatchA.size(), BatchB.size()), 1);
  bool Ok = K == K2;
  for (llvm::ArrayRef<int64_t> Op : {BatchA, BatchB})
    for (size_t I = 0; I < Op.size(); ++I) {
      int64_t &D = Batch[Batch.size() - Op.size() + I];
      Ok &= D == 1 || Op[I] == 1 || Op[I] == D;
      D = D == 1 ? Op[I] : D;
    }
  std::vector<int64_t> Expected = Batch;
  if (!RowA)
    Expected.push_back(M);
  if (!ColB)
    Expected.push_back(Cols);
  if (!Ok || Y->Type.Shape != Expected)
    return nodeError(N, "shapes " + A->Type.str() + " and " + BM->Type.str() +
                            " do not multiply to " + Y->Type.str());
  ScalarType T = elemOf(Y);
  B.buffer(A);
  B.buffer(BM);
  auto LoadA = [&](const BatchIndex &BV, Expr I, Expr KV) {
    std::vector<Expr> Idx = batchIndex(BatchA, BV);
    if (!RowA)
      Idx.push_back(I);
    Idx.push_back(KV);
    return B.loadAt(A, Idx);
  };
  auto LoadB = [&](const BatchIndex &BV, Expr KV, Expr J) {
    std::vector<Expr> Idx = batchIndex(BatchB, BV);
    Idx.push_back(KV);
    if (!ColB)
      Idx.push_back(J);
    return B.loadAt(BM, Idx);
  };
  auto Store = [&](const BatchIndex &BV, Expr I, Expr J, Expr Acc) {
    std::vector<Expr> Idx = BV;
    if (!RowA)
      Idx.push_back(I);
    if (!ColB)
      Idx.push_back(J);
    return B.storeResult(Idx, Acc);
  };
  if (registerTile(B.options(), T)) {
    if (BatchB.empty() && !RowA && product(Batch) > 1) {
      // B is shared by every batch, whose rows of A and of the result lie
      // one after another: one product of product(Batch) * M rows, so that
      // tiles of rows span batches (a batch of one-row products would
      // leave all but one row of each register tile empty).
      auto Split = [&](Expr I) {
        if (M == 1)
          return std::make_pair(unflatten(I, Batch), intImm(0));
        return std::make_pair(unflatten(I / intImm(M), Batch), I % intImm(M));
      };
      return canonicalProduct(
          B, T, {}, product(Batch) * M, K, Cols,
          [&](const BatchIndex &, Expr I, Expr KV) {
            auto [BV, Row] = Split(I);
            return LoadA(BV, Row, KV);
          },
          [&](const BatchIndex &, Expr KV, Expr J) { return LoadB({}, KV, J); },
          [&](const BatchIndex &, Expr I, Expr J, Expr V) {
            auto [BV, Row] = Split(I);
            return Store(BV, Row, J, V);
          });
    }
    return canonicalProduct(B, T, Batch, M, K, Cols, LoadA, LoadB, Store);
  }
  return loopBlock(B, Batch, "b", [&](const std::vector<Expr> &BV, Expr) {
    return rowProduct(
        B, T, M, K, Cols, [&](Expr I, Expr KV) { return LoadA(BV, I, KV); },
        [&](Expr KV, Expr J) { return LoadB(BV, KV, J); },
        [&](Expr I, Expr J, Expr V) { return Store(BV, I, J, V); });
  });
}
