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

/// Res[m, j] = Init(m) + sum over k of A(m, k) * B(k, j) for m < Rows,
/// j < Cols and k < Depth, each result element handed to Store once.
/// B(k, j) should be affine in j with stride 1 (a contiguous row of B), so
/// that its vectors are plain loads.
struct Product {
  int64_t Rows = 0, Cols = 0, Depth = 0;
  std::function<Expr(Expr M, Expr K)> A;
  std::function<Expr(Expr K, Expr J)> B;
  std::function<Expr(Expr M)> Init;
  std::function<Stmt(Expr M, Expr J, Expr Value)> Store;
};

/// The register-blocked nest of P for elements of type T: tiles of at most
/// Tile.Rows rows by Tile.columns() columns, column blocks outermost when
/// there are at least four of them, else row blocks (the outer loop is the
/// one the default schedule runs on threads).
Stmt tiledProduct(KernelBuilder &B, ScalarType T, const Product &P,
                  const RegisterTile &Tile);

/// The index of position X (0 <= X < product(Shape)) in Shape, row-major:
/// KernelBuilder::flatIndex joins it back into X.
std::vector<Expr> unflatten(Expr X, llvm::ArrayRef<int64_t> Shape);

/// Writes the im2col matrix of one image and channel group into Col:
/// Col[(c * Taps + t) * P + p] = X(c, input position of output p and
/// kernel position t), or 0 where that position is padding; c < Channels,
/// t ranges over the kernel positions of Axes (row-major), p over the
/// output positions. InputAt(c, In) loads the input at channel c and
/// spatial index In.
Stmt im2col(KernelBuilder &B, ScalarType T, const std::string &Col,
            const std::vector<nest::WindowAxis> &Axes, int64_t Channels,
            const std::function<Expr(Expr C, const std::vector<Expr> &In)>
                &InputAt);

} // namespace lower
} // namespace tidal

#endif
