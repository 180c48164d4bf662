//===- LayoutConstants.cpp - The "layout-constants" pass ------------------===//
//
// Gives constant operands, at compile time, the layout their consumer's
// kernel reads fastest, so that no kernel pays for a transposition at run
// time. The matrix products of the CPU targets (passes/lower/RegisterTile.h)
// read rows of B as vectors; a Gemm with transB = 1 (how PyTorch exports
// every Linear layer) would read B's columns instead, one element at a
// time. So a Gemm whose B is a Constant with transB = 1 gets a new Constant
// holding B transposed and transB = 0. The old constant is left for "dce"
// (other nodes may share it).
//
// Assumes a verified graph with normalized attributes (docs/ir.md): Gemm
// has transB and a 2-D B.
//
//===----------------------------------------------------------------------===//

#include "passes/PassRegistry.h"
#include <cstring>

using namespace tidal;

namespace {

/// T's 2-D matrix transposed; the element bytes are moved, not converted.
Tensor transposed(const Tensor &T) {
  int64_t Rows = T.Type.Shape[0], Cols = T.Type.Shape[1];
  Tensor R(TensorType(T.Type.Elem, {Cols, Rows}));
  R.Type.Quant = T.Type.Quant;
  size_t Size = T.Bytes.size() / std::max<int64_t>(Rows * Cols, 1);
  for (int64_t I = 0; I < Rows; ++I)
    for (int64_t J = 0; J < Cols; ++J)
      std::memcpy(&R.Bytes[(J * Rows + I) * Size], &T.Bytes[(I * Cols + J) * Size],
                  Size);
  return R;
}

bool isTransposedConstant(const Node &N) {
  if (N.Kind != OpKind::Gemm || !N.getInt("transB", 0))
    return false;
  const Tensor *B = N.Operands[1]->constantData();
  // Bit tensors pack 8 elements per byte: not moved here.
  return B && B->Type.rank() == 2 && B->Type.Elem != ElemType::Bit &&
         B->Type.numElements() > 0 &&
         int64_t(B->Bytes.size()) == B->Type.sizeInBytes();
}

} // namespace

llvm::Error tidal::layoutConstants(Module &M, const PassOptions &) {
  assert(M.G && "layout-constants runs on the graph IR");
  Graph &G = *M.G;
  std::vector<Node *> Gemms;
  for (auto &N : G.Nodes)
    if (isTransposedConstant(*N))
      Gemms.push_back(N.get());
  for (Node *N : Gemms) {
    const Value *B = N->Operands[1];
    N->Operands[1] =
        G.createConstant(B->Name + "_t", transposed(*B->constantData()), N);
    N->Attrs["transB"] = int64_t(0);
  }
  return llvm::Error::success();
}
