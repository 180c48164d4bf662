//===- Loop.h - The loop IR -------------------------------------*- C++ -*-===//
//
// The loop IR: one Kernel per fused group of graph operations, written as
// statements over buffers, and a Program that says in which order the
// kernels run and where each of their buffers lives (a graph input or
// output, the weights section, or the workspace).
//
// Expressions and statements are immutable trees shared by pointer (as in
// Halide): passes build new trees rather than editing old ones. Every
// expression has a DataType (scalar type and lane count); index arithmetic
// is i64.
//
// A buffer carries its shape. Lowering writes the canonical definition of
// a kernel: loads and stores with one index per dimension of the buffer
// (`%x[%n, %c, %h, %w]`), so that schedules see the algorithm's axes; the
// flatten pass (passes/loop/Flatten.cpp) later rewrites every access to one
// row-major element index, the only form vectorize and codegen accept. An
// access with a single index is flat on any buffer: lowerings that compute
// their own addressing (packed panels, im2col) write flat accesses
// directly.
//
// Both levels print as text and parse back (LoopPrinter.cpp, LoopParser.cpp);
// verifyKernel()/verifyProgram() check scoping and types.
//
//===----------------------------------------------------------------------===//
#ifndef TIDAL_COMPILER_LOOP_H
#define TIDAL_COMPILER_LOOP_H

#include "compiler/Types.h"
#include "llvm/Support/Error.h"
#include <cassert>
#include <memory>
#include <string>
#include <vector>

namespace llvm {
class raw_ostream;
}

namespace tidal {

/// Scalar types of the loop IR. Bit-packed data is held in integer words.
enum class ScalarType : uint8_t {
  F32, F16, F64, I64, I32, I16, I8, U8, U16, U32, U64, Bool
};
llvm::StringRef scalarTypeName(ScalarType T);
std::optional<ScalarType> parseScalarType(llvm::StringRef Name);
unsigned scalarBits(ScalarType T); // Bool is 8 in memory, i1 in registers
bool isFloat(ScalarType T);
bool isSigned(ScalarType T);
/// The storage scalar type of a graph element type (Bit has none: asserts).
ScalarType scalarTypeOf(ElemType T);

/// A scalar type and a lane count (1 = scalar).
struct DataType {
  ScalarType Scalar = ScalarType::I64;
  unsigned Lanes = 1;
  DataType() = default;
  DataType(ScalarType S, unsigned L = 1) : Scalar(S), Lanes(L) {}
  bool isVector() const { return Lanes > 1; }
  DataType withLanes(unsigned L) const { return DataType(Scalar, L); }
  bool operator==(const DataType &O) const {
    return Scalar == O.Scalar && Lanes == O.Lanes;
  }
  bool operator!=(const DataType &O) const { return !(*this == O); }
  /// `f32` or `f32x8`.
  std::string str() const;
};

enum class ExprKind : uint8_t {
  IntImm, FloatImm, Var, Binary, Not, Select, Load, Cast, Call, Ramp, Broadcast
};

enum class BinaryOp : uint8_t {
  Add, Sub, Mul,
  Div,  // float division; for integers, truncating (C semantics)
  Mod,  // integers: C remainder; floats: fmod
  Min, Max,
  LT, LE, GT, GE, EQ, NE, // result is Bool with the operands' lanes
  And, Or, Xor,           // Bool or integers
  Shl, Shr                // integers; Shr is arithmetic for signed types
};
llvm::StringRef binaryOpName(BinaryOp Op);
std::optional<BinaryOp> parseBinaryOp(llvm::StringRef Name);

struct ExprNode;
using Expr = std::shared_ptr<const ExprNode>;

/// One expression node. Which fields are meaningful depends on Kind:
///   IntImm     IntValue              FloatImm  FloatValue
///   Var        Name                  Binary    Op, Operands[0..1]
///   Not        Operands[0]           Select    Operands = {cond, then, else}
///   Load       Name (buffer), Operands = indices: one flat index (scalar i64
///              or a Ramp), or one scalar i64 per dimension of the buffer
///   Cast       Operands[0], converted to Type
///   Call       Name (intrinsic, see below), Operands = arguments
///   Ramp       Operands = {base, stride}, Type.Lanes lanes
///   Broadcast  Operands[0] (scalar), Type.Lanes lanes
/// Intrinsics: sqrt exp log erf tanh sigmoid pow sin cos floor ceil round
/// (half to even) abs fma popcount. Math intrinsics on floats become calls to
/// the runtime's tidal_* math functions or to inline instructions; codegen
/// decides.
struct ExprNode {
  ExprKind Kind;
  DataType Type;
  int64_t IntValue = 0;
  double FloatValue = 0;
  BinaryOp Op = BinaryOp::Add;
  std::string Name;
  std::vector<Expr> Operands;
};

// Constructors. They assert on type mismatches (compiler bugs); the parser
// checks types itself before calling them.
Expr intImm(int64_t V, DataType T = DataType(ScalarType::I64));
Expr floatImm(double V, DataType T = DataType(ScalarType::F32));
/// A constant of type T (int or float) holding V.
Expr constant(DataType T, double V);
Expr var(const std::string &Name, DataType T = DataType(ScalarType::I64));
Expr binary(BinaryOp Op, Expr A, Expr B);
Expr logicalNot(Expr A);
Expr select(Expr Cond, Expr Then, Expr Else);
Expr load(const std::string &Buffer, DataType T, Expr Index);
/// A load at one scalar index per dimension of the buffer (two or more).
Expr load(const std::string &Buffer, DataType T, std::vector<Expr> Indices);
Expr cast(DataType T, Expr A);
Expr call(const std::string &Intrinsic, DataType T, std::vector<Expr> Args);
Expr ramp(Expr Base, Expr Stride, unsigned Lanes);
Expr broadcast(Expr Scalar, unsigned Lanes);

/// Whether A and B are the same tree (floats compared by value, NaNs equal).
bool exprEqual(const Expr &A, const Expr &B);

// Arithmetic sugar for lowering code. Integer immediates mix with i64 exprs.
Expr operator+(Expr A, Expr B);
Expr operator-(Expr A, Expr B);
Expr operator*(Expr A, Expr B);
Expr operator/(Expr A, Expr B);
Expr operator%(Expr A, Expr B);
Expr operator+(Expr A, int64_t B);
Expr operator-(Expr A, int64_t B);
Expr operator*(Expr A, int64_t B);
Expr operator/(Expr A, int64_t B);
Expr operator%(Expr A, int64_t B);
Expr min(Expr A, Expr B);
Expr max(Expr A, Expr B);
Expr lt(Expr A, Expr B);
Expr le(Expr A, Expr B);
Expr gt(Expr A, Expr B);
Expr ge(Expr A, Expr B);
Expr eq(Expr A, Expr B);
Expr ne(Expr A, Expr B);
Expr logicalAnd(Expr A, Expr B);
Expr logicalOr(Expr A, Expr B);

/// How a loop runs. Set by the schedule; codegen and later passes act on it.
enum class ForKind : uint8_t {
  Serial,
  Parallel,
  Vectorized,
  Unrolled,
  GpuBlock,
  GpuThread,
  /// A nest that computes what one target instruction does
  /// (compiler/Tensorize.h); codegen emits the instruction where the
  /// target has it, the loops elsewhere.
  Tensorized
};
llvm::StringRef forKindName(ForKind K);
std::optional<ForKind> parseForKind(llvm::StringRef Name);

enum class StmtKind : uint8_t { For, Store, Let, Allocate, If, Seq, Prefetch };

struct StmtNode;
using Stmt = std::shared_ptr<const StmtNode>;

/// One statement node. Fields by Kind:
///   For       Name (loop var, i64), Min, Extent, Loop, Body
///   Store     Name (buffer), Indices (as a Load's), Value
///   Let       Name (var), Value, Body    (the var is Value's type)
///   Allocate  Name (buffer), Elem, Size (elements), Body: a local buffer
///   If        Cond, Body (then), Else (may be null)
///   Seq       Stmts, in order
///   Prefetch  Name (buffer), Indices (as a scalar Load's): a hint that the
///             element will be read soon, to bring its cache line in. It
///             reads and writes nothing, so the index may lie outside the
///             buffer (past its end, when it looks some iterations ahead)
struct StmtNode {
  StmtKind Kind;
  std::string Name;
  ForKind Loop = ForKind::Serial;
  ScalarType Elem = ScalarType::F32;
  int64_t Size = 0;
  Expr Min, Extent, Value, Cond;
  std::vector<Expr> Indices;
  Stmt Body, Else;
  std::vector<Stmt> Stmts;

  /// A flat store's element index.
  const Expr &index() const {
    assert(Kind == StmtKind::Store && Indices.size() == 1 &&
           "not a flat store");
    return Indices[0];
  }
};

Stmt forLoop(const std::string &Var, Expr Min, Expr Extent, ForKind K, Stmt Body);
/// A serial loop from 0 to Extent.
Stmt forRange(const std::string &Var, int64_t Extent, Stmt Body);
Stmt store(const std::string &Buffer, Expr Index, Expr Value);
/// A store at one scalar index per dimension of the buffer (two or more).
Stmt store(const std::string &Buffer, std::vector<Expr> Indices, Expr Value);
Stmt letStmt(const std::string &Var, Expr Value, Stmt Body);
/// A prefetch of one element (one scalar i64 index per dimension, or one
/// flat index).
Stmt prefetch(const std::string &Buffer, std::vector<Expr> Indices);
Stmt allocate(const std::string &Buffer, ScalarType Elem, int64_t Size, Stmt Body);
Stmt ifThen(Expr Cond, Stmt Then, Stmt Else = nullptr);
/// A sequence; nested sequences are flattened and a single statement is
/// returned as is.
Stmt seq(std::vector<Stmt> Stmts);

/// A kernel parameter: a buffer of Size elements.
struct BufferDecl {
  std::string Name;
  ScalarType Elem = ScalarType::F32;
  int64_t Size = 0;
  /// Inputs are read-only; codegen marks them noalias/readonly.
  bool ReadOnly = true;
  /// Its dimensions, row-major, when it has two or more (their product is
  /// Size); empty for a buffer that is only ever addressed flat.
  std::vector<int64_t> Shape;
  /// Bytes of its storage (a Bool is one byte).
  int64_t sizeInBytes() const { return Size * int64_t(scalarBits(Elem) / 8); }
};

/// One scheduling directive, keyed by loop name. Directives apply in order.
///   Split      Loops = {loop, outer, inner}, Factor: inner extent; Tail
///              says how an extent that is not a multiple is finished
///   Reorder    Loops = new order of the named loops (outermost first)
///   Tile       Loops = {x, y, xo, yo, xi, yi}, Factors = {fx, fy}; Tail
///              as for Split, applied to both
///   Vectorize  Loops = {loop}; the loop's extent is the lane count
///   Unroll     Loops = {loop}
///   Parallel   Loops = {loop}
///   GpuBlock   Loops = {loop}         GpuThread  Loops = {loop}
///   ComputeAt  Loops = {producer loop, consumer loop}; the producer's
///              update stages (a reduction's) come with it
///   Fuse       Loops = {outer, ..., inner, fused}: a perfect nest of two or
///              more loops of constant bounds becomes one loop `fused`
///   GpuSplit   Loops = {loop, block, thread}, Factor: threads per block; a
///              split whose outer loop is GpuBlock and inner loop GpuThread,
///              with a guard instead of a tail loop
///   Pack       Loops = {buffer}, Factors = {dimension, factor[, position]}:
///              a constant parameter's dimension is blocked by factor, the
///              block's offset moved innermost and the blocks to position
///              (the dimension's own by default): a layout such as NCHW16c
///              or weight panels, its bytes rearranged at compile time;
///              Tail: TailShift shifts the last block inwards
///   CacheWrite Loops = {buffer, loop}: the loop's body works on a local
///              copy of the region of the buffer one iteration touches
///   StoreAt    Loops = {buffer, loop}: a buffer computed at the loop gets
///              local storage there instead of its parameter
///   Prefetch   Loops = {buffer, loop}, Factors = {distance}: each iteration
///              of the loop first prefetches what the iteration `distance`
///              later reads of the buffer (a read-only parameter)
///   Tensorize  Loops = {loop}: the nest computes what one instruction of
///              the target does (compiler/Tensorize.h); the loop becomes
///              Tensorized
struct Directive {
  enum KindT : uint8_t {
    Split,
    Reorder,
    Tile,
    Vectorize,
    Unroll,
    Parallel,
    GpuBlock,
    GpuThread,
    ComputeAt,
    Fuse,
    GpuSplit,
    Pack,
    CacheWrite,
    StoreAt,
    Prefetch,
    Tensorize
  } Kind;
  static constexpr KindT LastKind = Tensorize;
  std::vector<std::string> Loops;
  std::vector<int64_t> Factors;
  /// How a split finishes the iterations past the last whole block
  /// (`split ... by F tail guard`):
  ///   TailLoop   a separate loop after the blocks (the default)
  ///   TailGuard  one more block, its body under `if (index < extent)`
  ///   TailShift  one more block shifted inwards to end at the extent: it
  ///              redoes some iterations, so apply-schedule accepts it only
  ///              where that cannot change the result
  enum TailT : uint8_t { TailLoop, TailGuard, TailShift } Tail = TailLoop;
};
llvm::StringRef directiveName(Directive::KindT K);
llvm::StringRef tailName(Directive::TailT T);
std::optional<Directive::TailT> parseTailName(llvm::StringRef Name);
using Schedule = std::vector<Directive>;

/// A kernel: a function of its buffers.
struct Kernel {
  std::string Name;
  /// What it computes, from its anchor operation (kernelFamily() in
  /// passes/lower): conv2d, depthwise, gemm, pool, reduce, softmax,
  /// elementwise, ... Default schedules choose by it. Printed after the
  /// parameters; empty for a hand-written kernel that names none.
  std::string Family;
  std::vector<BufferDecl> Params;
  Stmt Body;
  /// The schedule waiting to be applied by the schedule pass (cleared then).
  Schedule Sched;
};

/// Where a kernel argument lives at run time.
enum class StorageKind : uint8_t {
  Input,     // Index-th graph input (the user's buffer)
  Output,    // Index-th graph output (the user's buffer)
  Weights,   // Offset bytes into the weights section
  Workspace, // Offset bytes into the workspace (after memory planning)
  Temp       // Offset bytes into the Index-th temporary (before planning)
};
llvm::StringRef storageKindName(StorageKind K);

struct BufferBinding {
  StorageKind Storage;
  int64_t Index = 0;
  int64_t Offset = 0;
  bool operator==(const BufferBinding &O) const {
    return Storage == O.Storage && Index == O.Index && Offset == O.Offset;
  }
};

struct KernelCall {
  std::string Kernel;
  std::vector<BufferBinding> Args;
};

/// A graph input or output as the C header declares it.
struct IOInfo {
  std::string Name;
  TensorType Type;
};

/// The whole lowered model.
struct Program {
  std::string Name = "model";
  std::vector<IOInfo> Inputs, Outputs;
  /// The weights section's bytes; every weight starts 64-byte aligned.
  std::vector<uint8_t> Weights;
  /// Bytes of each temporary (StorageKind::Temp, by index).
  std::vector<int64_t> TempSizes;
  /// Bytes of the workspace, set by memory planning.
  int64_t WorkspaceSize = 0;
  std::vector<Kernel> Kernels;
  /// In execution order.
  std::vector<KernelCall> Calls;

  const Kernel *findKernel(llvm::StringRef Name) const;
};

/// Whether S holds an access indexed per dimension (not yet flattened).
bool hasMultiDimAccess(const Stmt &S);

llvm::Error verifyKernel(const Kernel &K);
llvm::Error verifyProgram(const Program &P);

struct LoopPrintOptions {
  /// Print the weights as `weights <N bytes elided>` (no longer parses).
  bool ElideWeights = false;
};
void printExpr(const Expr &E, llvm::raw_ostream &OS);
void printStmt(const Stmt &S, llvm::raw_ostream &OS, unsigned Indent = 0);
void printKernel(const Kernel &K, llvm::raw_ostream &OS);
void printProgram(const Program &P, llvm::raw_ostream &OS,
                  const LoopPrintOptions &Opts = {});
llvm::Expected<std::unique_ptr<Program>> parseProgram(llvm::StringRef Text);

/// A schedule for the kernel named Kernel (`tidalc compile --schedule`).
struct KernelSchedule {
  std::string Kernel;
  Schedule Sched;
};
/// Parses a schedule file: `kernel @name { directive* }` any number of
/// times, directives written as in a kernel's `schedule` block
/// (docs/loop-ir.md); `//` comments. Arity and legality are
/// apply-schedule's to check.
llvm::Expected<std::vector<KernelSchedule>> parseSchedules(llvm::StringRef Text);

} // namespace tidal

#endif
