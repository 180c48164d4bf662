//===- TensorTestUtil.h - Building tensors in unit tests --------*- C++ -*-===//
//
// Shared by the tests that state expected tensors element by element (the
// constant evaluator, the comparator of `tidalc run --compare`).
//
//===----------------------------------------------------------------------===//
#ifndef TIDAL_TEST_UNIT_TENSORTESTUTIL_H
#define TIDAL_TEST_UNIT_TENSORTESTUTIL_H

#include "compiler/Graph.h"
#include <catch2/catch.hpp>
#include <vector>

namespace tidal::test {

/// A tensor of element type E and Shape whose storage, of C type T, holds
/// Values in row-major order (their count must match the shape).
template <typename T>
Tensor make(ElemType E, std::vector<int64_t> Shape, std::vector<T> Values) {
  Tensor R(TensorType(E, std::move(Shape)));
  REQUIRE(static_cast<int64_t>(Values.size()) == R.Type.numElements());
  for (size_t I = 0; I < Values.size(); ++I)
    R.template data<T>()[I] = Values[I];
  return R;
}

} // namespace tidal::test

#endif
