//===- OpShapesImpl.h - Helpers shared by the type rules --------*- C++ -*-===//
//
// Internal to OpShapes.cpp, OpShapesNN.cpp and OpShapesExtra.cpp: a reader
// that checks a node's attributes against its normalized form (docs/ir.md)
// and rejects unknown ones, element-type and axis checks, and the
// per-family rules.
//
//===----------------------------------------------------------------------===//
#ifndef TIDAL_COMPILER_OPSHAPESIMPL_H
#define TIDAL_COMPILER_OPSHAPESIMPL_H

#include "compiler/Graph.h"
#include <set>
#include <string>
#include <vector>

namespace tidal {
namespace shapes {

using Types = std::vector<TensorType>;
using Result = llvm::Expected<Types>;

/// Reads the attributes of one node. Each getter records the first problem
/// (missing or mistyped attribute) and returns a harmless default, so a rule
/// reads all it needs and then asks finish() for the verdict, which also
/// rejects attributes the op does not have. FusionGroupAttr (the fusion
/// group id, an int64) is allowed on every op.
class AttrReader {
public:
  explicit AttrReader(const AttrMap &Attrs) : Attrs(Attrs) {}

  int64_t getInt(llvm::StringRef Name);
  float getFloat(llvm::StringRef Name);
  std::optional<float> getOptFloat(llvm::StringRef Name);
  std::string getString(llvm::StringRef Name);
  std::vector<int64_t> getInts(llvm::StringRef Name);
  const Tensor *getTensor(llvm::StringRef Name);
  /// An int64 that must be 0 or 1.
  bool getBool(llvm::StringRef Name);

  /// Records a problem found by the rule itself (first one wins).
  void fail(const llvm::Twine &Reason);
  bool failed() const { return !Error.empty(); }
  /// The first problem, or an unknown attribute, as an error.
  llvm::Error finish();

private:
  const Attribute *find(llvm::StringRef Name, bool Required);

  const AttrMap &Attrs;
  std::set<std::string> Known;
  std::string Error;
};

bool isNumeric(ElemType E);
/// Fails unless Axis is one of X's axes ("axis 3 is out of range for ...").
llvm::Error checkAxis(int64_t Axis, const TensorType &X);
/// Gather and GatherElements (Ops: data, indices): reads `axis`, their only
/// attribute, which must be one of the data's axes, and checks that the
/// indices are i32 or i64.
llvm::Expected<int64_t> readGatherAxis(AttrReader &A, const Types &Ops);

/// Rules per family; each returns the result types or an error.
Result inferElementwise(OpKind K, const Types &Ops, AttrReader &A);
Result inferInjective(OpKind K, const Types &Ops, AttrReader &A,
                      const Types &Given);
Result inferReduction(OpKind K, const Types &Ops, AttrReader &A);
Result inferContraction(OpKind K, const Types &Ops, AttrReader &A);

/// Rules of the operations added after the first release (OpShapesExtra.cpp):
/// GatherElements, ArgMax / ArgMin, CumSum / CumProd and ConvTranspose.
Result inferGatherElements(const Types &Ops, AttrReader &A);
Result inferArgReduce(const TensorType &X, AttrReader &A);
Result inferCumSum(const TensorType &X, AttrReader &A);
Result inferConvTranspose(const Types &Ops, AttrReader &A);

} // namespace shapes
} // namespace tidal

#endif
