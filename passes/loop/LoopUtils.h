//===- LoopUtils.h - Helpers shared by the loop-level passes ----*- C++ -*-===//
//
// Tree rewriting (a mutator that rebuilds only what changed), variable
// substitution, structural equality, loop-name bookkeeping and the legality
// test for vectorizing a loop. default-schedule uses the same legality test
// as vectorize so that it only asks for vectorization where it will happen.
//
//===----------------------------------------------------------------------===//
#ifndef TIDAL_PASSES_LOOP_LOOPUTILS_H
#define TIDAL_PASSES_LOOP_LOOPUTILS_H

#include "compiler/Loop.h"
#include "llvm/ADT/ArrayRef.h"
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace tidal {
namespace loop {

/// Rewrites trees bottom-up. Subclasses override visit functions and call
/// mutateChildren() for the default; unchanged subtrees keep their pointers.
class IRMutator {
public:
  virtual ~IRMutator() = default;
  virtual Expr mutate(const Expr &E) { return E ? mutateChildren(E) : E; }
  virtual Stmt mutate(const Stmt &S) { return S ? mutateChildren(S) : S; }

protected:
  Expr mutateChildren(const Expr &E);
  Stmt mutateChildren(const Stmt &S);
};

/// The value of an integer immediate, if E is one.
std::optional<int64_t> constInt(const Expr &E);
/// True if E reads the variable Name.
bool usesVar(const Expr &E, llvm::StringRef Name);
/// True if S reads the variable Name (free occurrences only).
bool usesVar(const Stmt &S, llvm::StringRef Name);
/// E with every free occurrence of variable Name replaced by Repl.
Expr substitute(const Expr &E, llvm::StringRef Name, const Expr &Repl);
/// S with every free occurrence of variable Name replaced by Repl.
Stmt substitute(const Stmt &S, llvm::StringRef Name, const Expr &Repl);

/// Adds the names of every For in S to Names.
void collectLoopNames(const Stmt &S, std::set<std::string> &Names);
/// A name made from Hint that is not in Used; it is added to Used.
std::string freshName(const std::string &Hint, std::set<std::string> &Used);
/// A copy of S in which every For gets a fresh name (made from its old one
/// plus Suffix), with the uses of its variable renamed too.
Stmt renameLoops(const Stmt &S, llvm::StringRef Suffix,
                 std::set<std::string> &Used);

/// The loops from S down to the loop named Name, outermost first, that
/// loop last; empty when S holds no such loop.
std::vector<const StmtNode *> loopsTo(const Stmt &S, const std::string &Name);

/// The loops of the perfect nest at the top of S (each the whole body of
/// the one before), outermost first; empty when S is not a loop.
std::vector<const StmtNode *> perfectNest(const Stmt &S);

/// Body with the body of the loop named Loop replaced by New.
Stmt withLoopBody(const Stmt &Body, const std::string &Loop, Stmt New);

/// Adds the buffers S loads from, stores to and allocates to the sets.
void collectAccesses(const Stmt &S, std::set<std::string> &Loaded,
                     std::set<std::string> &Stored,
                     std::set<std::string> *Allocated = nullptr);

/// Whether S loads a buffer that it stores to, other than the buffers it
/// allocates itself: a loop whose body does not may run an iteration twice
/// (a split's tail shifted inwards).
bool readsWhatItWrites(const Stmt &S);

/// Whether the loop L (a For) can become vector code of Lanes lanes:
/// its body is straight-line (stores and lets only, no vector values),
/// every store index is affine in the loop variable with a non-zero
/// stride, and each buffer it stores to is accessed at one index only.
/// On failure Why says what stands in the way.
bool canVectorizeLoop(const StmtNode &L, std::string *Why = nullptr);

/// The flat row-major index of Idx in Shape (Flatten.cpp): size-1
/// dimensions and zero terms left out, and adjacent indices `X / S`,
/// `X % S` (S the inner extent) joined back into X, so that an index a
/// lowering unflattened is affine again (truncating division and remainder
/// satisfy (X / S) * S + X % S == X for every X).
Expr rowMajorIndex(llvm::ArrayRef<int64_t> Shape, llvm::ArrayRef<Expr> Idx);
/// S with every access indexed per dimension of a buffer in Params
/// rewritten to its flat row-major index: what the flatten pass does to a
/// kernel, and the view in which legality tests read addresses.
Stmt flattenAccesses(const std::vector<BufferDecl> &Params, const Stmt &S);

} // namespace loop
} // namespace tidal

#endif
