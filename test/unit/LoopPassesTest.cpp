//===- LoopPassesTest.cpp - The loop passes keep kernels' meaning ---------===//
//
// LoopInterpreter.h's checking interpreter runs a kernel on pseudo-random
// buffers before and after the loop passes (default-schedule or a given
// schedule, apply-schedule, vectorize, simplify); the buffers must end
// bit-identical, with every element stored as often as before, since none
// of the passes may reorder or refold float arithmetic or repeat a store.
// Each kernel's structure after the passes is checked too, so the test
// would notice a pass that silently did nothing.
//
//===----------------------------------------------------------------------===//

#include "LoopInterpreter.h"
#include "compiler/PassManager.h"
#include "passes/PassRegistry.h"
#include "passes/loop/Bounds.h"
#include "passes/loop/LoopUtils.h"
#include "llvm/Support/raw_ostream.h"
#include <catch2/catch.hpp>
#include <algorithm>
#include <cstring>
#include <map>

using namespace tidal;

namespace {

std::string errorText(llvm::Error E) {
  return E ? llvm::toString(std::move(E)) : "";
}

using looptest::Buffer;

/// Pseudo-random contents for every parameter of a kernel.
std::map<std::string, Buffer> inputs(const Kernel &K) {
  std::map<std::string, Buffer> M;
  uint32_t S = 7;
  for (const BufferDecl &P : K.Params) {
    std::vector<double> V;
    for (int64_t I = 0; I < P.Size; ++I) {
      S = S * 1664525u + 1013904223u;
      V.push_back(isFloat(P.Elem)
                      ? (static_cast<int>(S >> 16) % 2001 - 1000) / 97.0
                      : static_cast<int>(S >> 16) % 200 - 100);
    }
    M[P.Name] = Buffer::of(P.Elem, V);
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
/// Runs the loop passes over the first kernel of Text and checks that it
/// computes the same bits as before. SameStores: each element is also
/// stored as often (not so for schedules that recompute or cache).
std::string checkPasses(const std::string &Text, PassOptions Opts = {},
                        bool Default = true, bool SameStores = true) {
  auto Parsed = parseProgram(Text);
  if (!Parsed)
    FAIL(llvm::toString(Parsed.takeError()));
  REQUIRE(errorText(verifyProgram(**Parsed)) == "");
  Module M;
  M.P = std::make_unique<Program>(**Parsed);
  const Kernel Before = M.P->Kernels[0];
  std::vector<const char *> Names = {"apply-schedule", "unroll", "flatten",
                                     "vectorize", "simplify"};
  if (Default)
    Names.insert(Names.begin(), "default-schedule");
  for (const char *Name : Names) {
    REQUIRE(errorText(lookupPass(Name)->Run(M, Opts)) == "");
    std::string V = errorText(verifyProgram(*M.P));
    if (!V.empty())
      FAIL("after " << Name << ": " << V << "\n" << str(*M.P));
  }
  std::map<std::string, Buffer> A = inputs(Before), B = A;
  looptest::runKernel(Before, A);
  looptest::runKernel(M.P->Kernels[0], B);
  for (const auto &[Name, Buf] : A) {
    // A buffer the schedule made local (store_at) is no longer an output.
    const std::vector<BufferDecl> &After = M.P->Kernels[0].Params;
    if (std::none_of(After.begin(), After.end(),
                     [&](const BufferDecl &D) { return D.Name == Name; }))
      continue;
    INFO("buffer %" << Name << " after the passes:\n" << str(*M.P));
    CHECK(sameBits(Buf.F, B[Name].F));
    CHECK(Buf.I == B[Name].I);
    if (SameStores)
      CHECK(Buf.Stores == B[Name].Stores);
  }
  return str(*M.P);
}

bool has(const std::string &Text, const std::string &Part) {
  return Text.find(Part) != std::string::npos;
}

} // namespace

TEST_CASE("loop passes: elementwise kernels vectorize with tails", "[loop-passes]") {
  // The remainder of 7 columns in vectors of 4 is one more vector shifted
  // inwards (columns 3..6, 3 stored twice), not a scalar loop.
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
})", {}, true, /*SameStores=*/false);
  CHECK(has(Out, "f32x4"));
  CHECK(has(Out, "min((%c.o * 4), 3)"));
  CHECK(!has(Out, "%c.tail"));
  // A body that reads what it stores must not run an iteration twice: its
  // remainder stays a scalar loop.
  Out = checkPasses(R"(program @p {
  kernel @k(%x: f32[70] readonly, %y: f32[70]) {
    for %r from 0 extent 10 serial {
      for %c from 0 extent 7 serial {
        %y[((%r * 7) + %c)] = (load %y[((%r * 7) + %c)]:f32 + load %x[((%r * 7) + %c)]:f32)
      }
    }
  }
})");
  CHECK(has(Out, "for %c.tail from 0 extent 3 serial"));
}

TEST_CASE("loop passes: wide loops, casts and integer buffers", "[loop-passes]") {
  PassOptions Opts;
  Opts.Target.VectorBits = 512;
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

TEST_CASE("loop passes: schedules of a canonical kernel keep the meaning",
          "[loop-passes]") {
  // A matrix product in its canonical form (an init stage and an update
  // stage, indexed per dimension), under register tiles made of split,
  // reorder, cache_write and unroll, tails of every kind, and compute_at.
  const char *Body = R"(program @p {
  temp 0 : 160
  kernel @k(%w: f32[6,8] readonly, %x: f32[8,5] readonly, %t: f32[8,5], %y: f32[6,5]) {
    for %a from 0 extent 8 serial {
      for %b from 0 extent 5 serial {
        %t[%a, %b] = (load %x[%a, %b]:f32 * 0.5:f32)
      }
    }
    for %o from 0 extent 6 serial {
      for %n from 0 extent 5 serial {
        %y[%o, %n] = 0.0:f32
      }
    }
    for %o2 from 0 extent 6 serial {
      for %n2 from 0 extent 5 serial {
        for %k from 0 extent 8 serial {
          %y[%o2, %n2] = (load %y[%o2, %n2]:f32 + (load %w[%o2, %k]:f32 * load %t[%k, %n2]:f32))
        }
      }
    }
  } schedule {
%s  }
  call @k(input 0, input 1, temp 0, output 0)
  input 0 "w" : f32[6,8]
  input 1 "x" : f32[8,5]
  output 0 "y" : f32[6,5]
})";
  const char *Schedules[] = {
      "split %o2, %ob, %oi by 2\n reorder %ob, %n2, %k, %oi\n"
      " cache_write %y, %n2\n unroll %oi\n",
      "split %n2, %nb, %ni by 2 tail guard\n cache_write %y, %nb\n",
      "split %n, %nb, %ni by 4 tail shift\n vectorize %ni\n"
      " split %b, %bb, %bi by 2 tail shift\n",
      "reorder %n2, %o2\n reorder %o, %n\n",
      "compute_at %a, %n2\n",
      "compute_at %a, %o2\n cache_write %y, %o2\n",
      "compute_at %a, %n2\n store_at %t, %n2\n",
      "compute_at %a, %n2\n store_at %t, %o2\n parallel %o2\n"};
  for (const char *Sched : Schedules) {
    std::string Text = Body;
    Text.replace(Text.find("%s"), 2, Sched);
    INFO("schedule: " << Sched);
    checkPasses(Text, {}, /*Default=*/false, /*SameStores=*/false);
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

TEST_CASE("loop passes: several stores to one buffer vectorize when disjoint",
          "[loop-passes]") {
  // A row of 2x2 tiles written by one iteration per tile: four stores of
  // stride 2 whose offsets (0, 1, 12, 13) are not multiples of 2 or reach
  // past the 6 iterations. The loop vectorizes, and the bits are the same.
  std::string Out = checkPasses(R"(program @p {
  kernel @k(%x: f32[24] readonly, %y: f32[24]) {
    for %t from 0 extent 6 serial {
      let %v = load %x[(%t * 2)]:f32 {
        %y[(%t * 2)] = %v:f32
        %y[((%t * 2) + 1)] = (%v:f32 * 2.0:f32)
        %y[(((%t * 2) + 12) + 0)] = (%v:f32 * 3.0:f32)
        %y[(13 + (%t * 2))] = (%v:f32 * 4.0:f32)
      }
    }
  }
})", {}, true, /*SameStores=*/false);
  CHECK(has(Out, "f32x4"));
  // Offsets 2 and 4 with stride 2 are iterations 1 and 2 apart: the second
  // store of iteration t writes what the first writes at t + 1, so the
  // loop must stay serial (the last write of each element is the serial
  // one: checkPasses compares the bits).
  std::string Why;
  auto Parsed = parseProgram(R"(program @p {
  kernel @k(%y: f32[24]) {
    for %t from 0 extent 6 serial {
      %y[(%t * 2)] = 1.0:f32
      %y[((%t * 2) + 2)] = 2.0:f32
    }
  }
})");
  if (!Parsed)
    FAIL(llvm::toString(Parsed.takeError()));
  const Stmt &Loop = (*Parsed)->Kernels[0].Body;
  CHECK(!loop::canVectorizeLoop(*Loop, &Why));
  CHECK(Why == "'%y' is stored at two indices that may overlap");
  Out = checkPasses(str(**Parsed));
  CHECK(!has(Out, "f32x"));
}

TEST_CASE("bounds: differences of linear index expressions",
          "[loop-passes]") {
  Expr X = var("x"), Y = var("y");
  CHECK(loop::difference(X * 3 + (X + 1) * 2, X * 5 + 7) == 5);
  CHECK(loop::difference((X * 4 + Y) * 6, Y * 6 + X * 24 + 1) == 1);
  CHECK(loop::difference(X - Y, intImm(0) - Y + X) == 0);
  CHECK(!loop::difference(X * 2, X * 3));
  CHECK(!loop::difference(X * Y, Y * X + 1)); // products of terms: not linear
  CHECK(loop::difference(intImm(3), intImm(10)) == 7);
}
