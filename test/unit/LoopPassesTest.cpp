//===- LoopPassesTest.cpp - The loop passes keep kernels' meaning ---------===//
//
// A small reference interpreter of the loop IR (scalars and vectors, lane
// by lane, f32 results rounded to float) runs a kernel on pseudo-random
// buffers before and after the loop passes (default-schedule or a given
// schedule, apply-schedule, vectorize, simplify); the output buffers must
// be bit-identical, since none of the passes may reorder or refold float
// arithmetic. Each kernel's structure after the passes is checked too, so
// the test would notice a pass that silently did nothing.
//
//===----------------------------------------------------------------------===//

#include "compiler/PassManager.h"
#include "passes/PassRegistry.h"
#include "llvm/Support/raw_ostream.h"
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <map>

using namespace tidal;

namespace {

std::string errorText(llvm::Error E) {
  return E ? llvm::toString(std::move(E)) : "";
}

/// One value: Lanes lanes, held as doubles (floats) or int64 (the rest).
struct Val {
  DataType T;
  std::vector<double> F;
  std::vector<int64_t> I;
  bool isF() const { return isFloat(T.Scalar); }
  double f(unsigned L) const { return F.size() == 1 ? F[0] : F[L]; }
  int64_t i(unsigned L) const { return I.size() == 1 ? I[0] : I[L]; }
};

struct Buffer {
  ScalarType Elem;
  std::vector<double> F;
  std::vector<int64_t> I;
};

double roundTo(ScalarType T, double V) {
  return T == ScalarType::F32 ? static_cast<double>(static_cast<float>(V)) : V;
}

/// Evaluates kernels; any out-of-bounds access fails the test.
class Interp {
public:
  std::map<std::string, Buffer> Buffers;
  void run(const Stmt &S);

private:
  Val eval(const Expr &E);
  Val binary(BinaryOp Op, const Val &A, const Val &B, DataType T);
  Buffer &buf(const std::string &Name) {
    REQUIRE(Buffers.count(Name));
    return Buffers[Name];
  }
  std::map<std::string, Val> Env;
};

int64_t intOp(BinaryOp Op, int64_t A, int64_t B) {
  switch (Op) {
  case BinaryOp::Add: return A + B;
  case BinaryOp::Sub: return A - B;
  case BinaryOp::Mul: return A * B;
  case BinaryOp::Div: REQUIRE(B != 0); return A / B;
  case BinaryOp::Mod: REQUIRE(B != 0); return A % B;
  case BinaryOp::Min: return std::min(A, B);
  case BinaryOp::Max: return std::max(A, B);
  case BinaryOp::LT: return A < B;
  case BinaryOp::LE: return A <= B;
  case BinaryOp::GT: return A > B;
  case BinaryOp::GE: return A >= B;
  case BinaryOp::EQ: return A == B;
  case BinaryOp::NE: return A != B;
  case BinaryOp::And: return A & B;
  case BinaryOp::Or: return A | B;
  case BinaryOp::Xor: return A ^ B;
  case BinaryOp::Shl: return A << B;
  case BinaryOp::Shr: return A >> B;
  }
  return 0;
}

double floatOp(BinaryOp Op, double A, double B) {
  switch (Op) {
  case BinaryOp::Add: return A + B;
  case BinaryOp::Sub: return A - B;
  case BinaryOp::Mul: return A * B;
  case BinaryOp::Div: return A / B;
  case BinaryOp::Mod: return std::fmod(A, B);
  case BinaryOp::Min: return std::fmin(A, B);
  case BinaryOp::Max: return std::fmax(A, B);
  case BinaryOp::LT: return A < B;
  case BinaryOp::LE: return A <= B;
  case BinaryOp::GT: return A > B;
  case BinaryOp::GE: return A >= B;
  case BinaryOp::EQ: return A == B;
  case BinaryOp::NE: return A != B;
  default: FAIL("bad float op"); return 0;
  }
}

Val Interp::binary(BinaryOp Op, const Val &A, const Val &B, DataType T) {
  Val R{T, {}, {}};
  bool Compare = Op >= BinaryOp::LT && Op <= BinaryOp::NE;
  for (unsigned L = 0; L < T.Lanes; ++L) {
    if (A.isF()) {
      double V = floatOp(Op, A.f(L), B.f(L));
      if (Compare)
        R.I.push_back(static_cast<int64_t>(V));
      else
        R.F.push_back(roundTo(T.Scalar, V));
    } else {
      R.I.push_back(intOp(Op, A.i(L), B.i(L)));
    }
  }
  return R;
}

double callOp(const std::string &Name, const std::vector<double> &A) {
  if (Name == "exp") return std::exp(A[0]);
  if (Name == "sqrt") return std::sqrt(A[0]);
  if (Name == "tanh") return std::tanh(A[0]);
  if (Name == "fma") return std::fma(A[0], A[1], A[2]);
  FAIL("unknown intrinsic " << Name);
  return 0;
}

Val Interp::eval(const Expr &E) {
  DataType T = E->Type;
  Val R{T, {}, {}};
  switch (E->Kind) {
  case ExprKind::IntImm:
    R.I = {E->IntValue};
    return R;
  case ExprKind::FloatImm:
    R.F = {roundTo(T.Scalar, E->FloatValue)};
    return R;
  case ExprKind::Var:
    REQUIRE(Env.count(E->Name));
    return Env[E->Name];
  case ExprKind::Binary:
    return binary(E->Op, eval(E->Operands[0]), eval(E->Operands[1]), T);
  case ExprKind::Not: {
    Val A = eval(E->Operands[0]);
    for (unsigned L = 0; L < T.Lanes; ++L)
      R.I.push_back(T.Scalar == ScalarType::Bool ? !A.i(L) : ~A.i(L));
    return R;
  }
  case ExprKind::Select: {
    Val C = eval(E->Operands[0]), A = eval(E->Operands[1]),
        B = eval(E->Operands[2]);
    for (unsigned L = 0; L < T.Lanes; ++L) {
      if (R.isF())
        R.F.push_back(C.i(L) ? A.f(L) : B.f(L));
      else
        R.I.push_back(C.i(L) ? A.i(L) : B.i(L));
    }
    return R;
  }
  case ExprKind::Load: {
    Val Idx = eval(E->Operands[0]);
    Buffer &B = buf(E->Name);
    for (unsigned L = 0; L < T.Lanes; ++L) {
      int64_t At = Idx.i(L);
      size_t Size = isFloat(B.Elem) ? B.F.size() : B.I.size();
      REQUIRE(At >= 0);
      REQUIRE(static_cast<size_t>(At) < Size);
      if (R.isF())
        R.F.push_back(B.F[At]);
      else
        R.I.push_back(B.I[At]);
    }
    return R;
  }
  case ExprKind::Cast: {
    Val A = eval(E->Operands[0]);
    for (unsigned L = 0; L < T.Lanes; ++L) {
      if (R.isF())
        R.F.push_back(roundTo(T.Scalar, A.isF() ? A.f(L) : double(A.i(L))));
      else
        R.I.push_back(A.isF() ? static_cast<int64_t>(A.f(L)) : A.i(L));
    }
    return R;
  }
  case ExprKind::Call: {
    std::vector<Val> Args;
    for (const Expr &Op : E->Operands)
      Args.push_back(eval(Op));
    for (unsigned L = 0; L < T.Lanes; ++L) {
      std::vector<double> A;
      for (const Val &V : Args)
        A.push_back(V.f(L));
      R.F.push_back(roundTo(T.Scalar, callOp(E->Name, A)));
    }
    return R;
  }
  case ExprKind::Ramp: {
    Val B = eval(E->Operands[0]), S = eval(E->Operands[1]);
    for (unsigned L = 0; L < T.Lanes; ++L)
      R.I.push_back(B.i(0) + S.i(0) * L);
    return R;
  }
  case ExprKind::Broadcast: {
    Val A = eval(E->Operands[0]);
    R.F.assign(A.isF() ? T.Lanes : 0, A.isF() ? A.f(0) : 0);
    R.I.assign(A.isF() ? 0 : T.Lanes, A.isF() ? 0 : A.i(0));
    return R;
  }
  }
  FAIL("bad expression");
  return R;
}

void Interp::run(const Stmt &S) {
  if (!S)
    return;
  switch (S->Kind) {
  case StmtKind::For: {
    int64_t Min = eval(S->Min).i(0), Ext = eval(S->Extent).i(0);
    for (int64_t V = Min; V < Min + Ext; ++V) {
      Env[S->Name] = Val{DataType(ScalarType::I64), {}, {V}};
      run(S->Body);
    }
    Env.erase(S->Name);
    return;
  }
  case StmtKind::Store: {
    Val Idx = eval(S->Index), V = eval(S->Value);
    Buffer &B = buf(S->Name);
    for (unsigned L = 0; L < V.T.Lanes; ++L) {
      int64_t At = Idx.i(L);
      size_t Size = isFloat(B.Elem) ? B.F.size() : B.I.size();
      REQUIRE(At >= 0);
      REQUIRE(static_cast<size_t>(At) < Size);
      if (V.isF())
        B.F[At] = V.f(L);
      else
        B.I[At] = V.i(L);
    }
    return;
  }
  case StmtKind::Let:
    Env[S->Name] = eval(S->Value);
    run(S->Body);
    Env.erase(S->Name);
    return;
  case StmtKind::Allocate: {
    Buffer B{S->Elem, {}, {}};
    (isFloat(S->Elem) ? B.F.assign(S->Size, 0) : B.I.assign(S->Size, 0));
    Buffers[S->Name] = B;
    run(S->Body);
    Buffers.erase(S->Name);
    return;
  }
  case StmtKind::If:
    if (eval(S->Cond).i(0))
      run(S->Body);
    else
      run(S->Else);
    return;
  case StmtKind::Seq:
    for (const Stmt &X : S->Stmts)
      run(X);
    return;
  }
}

/// Pseudo-random buffers for a kernel's parameters.
std::map<std::string, Buffer> inputs(const Kernel &K) {
  std::map<std::string, Buffer> M;
  uint32_t S = 7;
  for (const BufferDecl &P : K.Params) {
    Buffer B{P.Elem, {}, {}};
    for (int64_t I = 0; I < P.Size; ++I) {
      S = S * 1664525u + 1013904223u;
      if (isFloat(P.Elem))
        B.F.push_back(roundTo(P.Elem, (static_cast<int>(S >> 16) % 2001 - 1000) / 97.0));
      else
        B.I.push_back(static_cast<int>(S >> 16) % 200 - 100);
    }
    M[P.Name] = B;
  }
  return M;
}

bool sameBits(const std::vector<double> &A, const std::vector<double> &B) {
  return A.size() == B.size() &&
         (A.empty() || std::memcmp(A.data(), B.data(), A.size() * sizeof(double)) == 0);
}

std::string str(const Program &P) {
  std::string S;
  llvm::raw_string_ostream OS(S);
  printProgram(P, OS);
  return OS.str();
}

/// Runs the passes on a one-kernel program text and checks that every
/// buffer ends the same; returns the kernel's text after the passes.
std::string checkPasses(const std::string &Text, PassOptions Opts = {},
                        bool Default = true) {
  auto Parsed = parseProgram(Text);
  if (!Parsed)
    FAIL(llvm::toString(Parsed.takeError()));
  REQUIRE(errorText(verifyProgram(**Parsed)) == "");
  Module M;
  M.P = std::make_unique<Program>(**Parsed);
  const Kernel Before = M.P->Kernels[0];
  std::vector<const char *> Names = {"apply-schedule", "vectorize", "simplify"};
  if (Default)
    Names.insert(Names.begin(), "default-schedule");
  for (const char *Name : Names) {
    REQUIRE(errorText(lookupPass(Name)->Run(M, Opts)) == "");
    std::string V = errorText(verifyProgram(*M.P));
    if (!V.empty())
      FAIL("after " << Name << ": " << V << "\n" << str(*M.P));
  }
  Interp A, B;
  A.Buffers = inputs(Before);
  B.Buffers = A.Buffers;
  A.run(Before.Body);
  B.run(M.P->Kernels[0].Body);
  for (const auto &[Name, Buf] : A.Buffers) {
    INFO("buffer %" << Name << " after the passes:\n" << str(*M.P));
    CHECK(sameBits(Buf.F, B.Buffers[Name].F));
    CHECK(Buf.I == B.Buffers[Name].I);
  }
  return str(*M.P);
}

bool has(const std::string &Text, const std::string &Part) {
  return Text.find(Part) != std::string::npos;
}

} // namespace

TEST_CASE("loop passes: elementwise kernels vectorize with tails", "[loop-passes]") {
  std::string Out = checkPasses(R"(program @p {
  kernel @k(%x: f32[70] readonly, %b: f32[7] readonly, %y: f32[70]) {
    for %r from 0 extent 10 serial {
      for %c from 0 extent 7 serial {
        let %v = (load %x[((%r * 7) + %c)]:f32 + load %b[%c]:f32) {
          %y[((%r * 7) + %c)] = select(lt(%v:f32, 0.0:f32), (%v:f32 * 0.1:f32), call @tanh(%v:f32):f32)
        }
      }
    }
  }
})");
  CHECK(has(Out, "f32x4"));
  CHECK(has(Out, "for %c.tail from 0 extent 3 serial"));
}

TEST_CASE("loop passes: wide loops, casts and integer buffers", "[loop-passes]") {
  PassOptions Opts;
  Opts.VectorBits = 512;
  std::string Out = checkPasses(R"(program @p {
  kernel @k(%x: f32[100] readonly, %q: i32[100], %y: f64[100]) {
    for %i from 0 extent 100 serial {
      %q[%i] = max(cast(load %x[%i]:f32):i32, (cast(%i):i32 - 50:i32))
      %y[%i] = (cast(load %x[(99 - %i)]:f32):f64 / 3.0:f64)
    }
  }
})", Opts);
  CHECK(has(Out, "f64x8")); // the widest stored type is f64: 512 / 64 lanes
  CHECK(has(Out, "ramp((99 - (%i.o * 8)), -1, 8)"));
}

TEST_CASE("loop passes: padding with a guarded gather", "[loop-passes]") {
  std::string Out = checkPasses(R"(program @p {
  kernel @k(%x: f32[36] readonly, %y: f32[64]) {
    for %h from 0 extent 8 serial {
      for %w from 0 extent 8 serial {
        %y[((%h * 8) + %w)] = select(and(and(ge((%h - 1), 0), lt((%h - 1), 6)), and(ge((%w - 1), 0), lt((%w - 1), 6))), load %x[((min(max((%h - 1), 0), 5) * 6) + min(max((%w - 1), 0), 5))]:f32, 0.0:f32)
      }
    }
  }
})");
  CHECK(has(Out, "f32x8"));
  CHECK(!has(Out, "for %w"));
}

TEST_CASE("loop passes: reductions stay serial and stay right", "[loop-passes]") {
  std::string Out = checkPasses(R"(program @p {
  kernel @k(%a: f32[48] readonly, %b: f32[24] readonly, %y: f32[16]) {
    for %m from 0 extent 8 serial {
      for %n from 0 extent 2 serial {
        allocate %acc: f32[1] {
          %acc[0] = 0.0:f32
          for %k from 0 extent 6 serial {
            %acc[0] = (load %acc[0]:f32 + (load %a[((%m * 6) + %k)]:f32 * load %b[((%k * 4) + %n)]:f32))
          }
          %y[((%m * 2) + %n)] = load %acc[0]:f32
        }
      }
    }
  }
})");
  CHECK(has(Out, "for %k from 0 extent 6 serial"));
  CHECK(!has(Out, "schedule"));
}

TEST_CASE("loop passes: hand-written schedules keep the meaning", "[loop-passes]") {
  const char *Body = R"(program @p {
  kernel @k(%x: f32[143] readonly, %y: f32[143]) {
    for %i from 0 extent 11 serial {
      for %j from 0 extent 13 serial {
        %y[((%i * 13) + %j)] = (load %x[((%j * 11) + %i)]:f32 * 2.0:f32)
      }
    }
  } schedule {
%s  }
})";
  const char *Schedules[] = {
      "split %j, %jo, %ji by 4\n vectorize %ji\n",
      "split %i, %io, %ii by 3\n split %j, %jo, %ji by 5\n vectorize %ji\n",
      "reorder %j, %i\n vectorize %i\n",
      "tile %i, %j, %io, %jo, %ii, %ji by 11, 13\n vectorize %ji\n unroll %ii\n",
      "split %j, %jo, %ji by 16\n vectorize %ji\n parallel %i\n",
      "split %i, %io, %ii by 2\n reorder %ii, %j\n vectorize %ii\n"};
  for (const char *Sched : Schedules) {
    std::string Text = Body;
    Text.replace(Text.find("%s"), 2, Sched);
    INFO("schedule: " << Sched);
    std::string Out = checkPasses(Text, {}, /*Default=*/false);
    CHECK(!has(Out, "vectorized"));
  }
}

TEST_CASE("loop passes: lets, non-zero minimums and strided stores", "[loop-passes]") {
  std::string Out = checkPasses(R"(program @p {
  kernel @k(%x: f32[40] readonly, %y: f32[80]) {
    for %i from 3 extent 16 vectorized {
      let %t = (%i * 2) {
        let %v = load %x[(%i + 4)]:f32 {
          %y[(%t + 1)] = call @fma(%v:f32, %v:f32, 1.0:f32):f32
        }
      }
    }
  }
})"
                                    , {}, false);
  CHECK(has(Out, "%y[ramp(7, 2, 16)]"));
}
