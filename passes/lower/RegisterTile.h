//===- RegisterTile.h - Register-blocked matrix products ---------*- C++ -*-===//
//
// The matrix product every contraction reduces to on the CPU targets,
// written as a register-blocked micro-kernel (as MLAS, OpenBLAS and
// XNNPACK do): the result is computed in tiles of Rows rows by Vectors
// vectors of Lanes columns, whose Rows x Vectors accumulators stay in
// vector registers across the whole reduction. Each step of the reduction
// loads Vectors vectors of B once, broadcasts one element of A per row, and
// issues Rows x Vectors fused multiply-adds; nothing touches memory for the
// accumulators. Tiles at the right and bottom edges are the same kernel with
// fewer rows or narrower vectors, so no element is tested.
//
// The tile's shape comes from the target (TargetInfo: vector width and
// register count), in one place: registerTile().
//
// And im2col, which turns a convolution into such a product: the input
// windows of every output position laid out as the columns of a [K, P]
// matrix (K = channels x kernel positions, P = output positions), padding
// written as zeros, in contiguous runs with no test per element.
//
//===----------------------------------------------------------------------===//
#ifndef TIDAL_PASSES_LOWER_REGISTERTILE_H
#define TIDAL_PASSES_LOWER_REGISTERTILE_H

#include "passes/lower/NestUtils.h"
#include <optional>

namespace tidal {
namespace lower {

/// The shape of a register tile: Rows x (Vectors x Lanes) accumulators.
struct RegisterTile {
  int64_t Rows = 1, Lanes = 1, Vectors = 1;
  int64_t columns() const { return Lanes * Vectors; }
};

/// The tile for products of element type T on the options' target, or none
/// where products keep their plain nests: the GPU (whose schedule wants
/// independent outer loops), -O0, element types without fused
/// multiply-add (integers), and targets with vectors of fewer than 2 lanes.
std::optional<RegisterTile> registerTile(const PassOptions &Opts, ScalarType T);

/// Res[m, j] = Init(m, j) + sum over k of A(m, k) * B(k, j) for m < Rows,
/// j < Cols and k < Depth, each result element handed to Store once.
/// B(k, j) should be affine in j with stride 1 (a contiguous row of B), so
/// that its vectors are plain loads.
struct Product {
  int64_t Rows = 0, Cols = 0, Depth = 0;
  std::function<Expr(Expr M, Expr K)> A;
  std::function<Expr(Expr K, Expr J)> B;
  std::function<Expr(Expr M, Expr J)> Init;
  std::function<Stmt(Expr M, Expr J, Expr Value)> Store;
  /// Where set, A (or B) is read from a copy packed in panels (PanelLayout)
  /// of the tile's rows (productTileRows) or columns (the tile's columns()):
  /// PackedA(I) loads element I of the packed copy, and A (or B)
  /// is not used. One panel is what a tile reads over the whole reduction,
  /// in the order it reads it, so a tile's operands are one contiguous
  /// stream each instead of one per row (A) or a row of B per step at the
  /// matrix's stride (which, at strides of a power of two, maps whole
  /// panels onto a few cache sets).
  std::function<Expr(Expr I)> PackedA, PackedB;
};

/// The panel layout of an operand with Depth reduction steps and N rows (of
/// A) or columns (of B), taken Width at a time by the tiles: panel q holds
/// rows (columns) [q * Width, q * Width + w), w = min(Width, N - q * Width),
/// as Depth x w row-major, the panels one after another. So element (k, i)
/// is at q * Width * Depth + k * w + (i - q * Width).
struct PanelLayout {
  int64_t N, Depth, Width;
  int64_t offset(int64_t I, int64_t K) const;
};

/// Src's elements (g, i, k) for g < Groups, i < L.N and k < L.Depth, each at
/// element SrcIndex(g, i, k) of Src, packed in the panels of L one group
/// after the other: a tensor [Groups, N * Depth] of Src's element type.
Tensor packPanels(const Tensor &Src, int64_t Groups, const PanelLayout &L,
                  const std::function<int64_t(int64_t G, int64_t I, int64_t K)>
                      &SrcIndex);

/// The rows of the tiles of a product with Rows rows (at most Tile.Rows).
int64_t productTileRows(int64_t Rows, const RegisterTile &Tile);

/// The register-blocked nest of P for elements of type T: tiles of at most
/// Tile.Rows rows by Tile.columns() columns, column blocks outermost when
/// there are at least four of them, else row blocks (the outer loop is the
/// one the default schedule runs on threads).
Stmt tiledProduct(KernelBuilder &B, ScalarType T, const Product &P,
                  const RegisterTile &Tile);

/// The outputs of the outermost spatial axis whose im2col columns a call
/// of im2col() writes: Count of them from First.
struct OutputRows {
  Expr First;
  int64_t Count;
};

/// Writes the im2col matrix of one image and channel group, for the output
/// positions of Rows (every output position when Rows is absent or the
/// window has one axis), into Col from element Base:
/// Col[Base + (c * Taps + t) * P + p] = X(c, input position of output p and
/// kernel position t), or 0 where that position is padding; c < Channels,
/// t ranges over the kernel positions of Axes (row-major), p over the P
/// output positions written, counted from the first of them. InputAt(c,
/// In) loads the input at channel c and spatial index In.
Stmt im2col(
    KernelBuilder &B, ScalarType T, const std::string &Col, Expr Base,
    const std::vector<nest::WindowAxis> &Axes, int64_t Channels,
    const std::function<Expr(Expr C, const std::vector<Expr> &In)> &InputAt,
    std::optional<OutputRows> Rows = std::nullopt);

} // namespace lower
} // namespace tidal

#endif
