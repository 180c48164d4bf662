//===- EmitSelftest.cpp - The on-target self-check of a compiled model ----===//
//
// Writes the C99 file of `tidalc compile --emit-selftest` (docs/abi.md,
// "On-target self-check"): a test vector, its expected outputs and
// `<name>_selftest`, which runs `<name>_run` on the vector and compares.
// Firmware links it to check the model on the device itself.
//
// The file must build wherever the model's object links, bare-metal images
// included, so it uses nothing but <stdint.h> (a freestanding header): no
// libc, no libm, no allocation, no writable globals. Every value is stored
// as the unsigned integer of its element's width, floats by their bit
// pattern, so that NaN payloads, signed zeros and every last bit survive
// the trip through C text, which decimal literals do not promise. Helpers
// are emitted only for the element types the model's outputs have: an
// unused static function would be a warning, and firmware builds with
// -Werror.
//
//===----------------------------------------------------------------------===//

#include "codegen/Selftest.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"
#include <cassert>
#include <set>

using namespace tidal;

namespace {

/// How an output's elements are compared.
enum class Check { F16, F32, F64, Bits8, Bits16, Bits32, Bits64 };

Check checkFor(ElemType T) {
  switch (T) {
  case ElemType::F16:
    return Check::F16;
  case ElemType::F32:
    return Check::F32;
  case ElemType::F64:
    return Check::F64;
  case ElemType::I8:
  case ElemType::U8:
  case ElemType::Bool:
    return Check::Bits8;
  case ElemType::I16:
  case ElemType::U16:
    return Check::Bits16;
  case ElemType::I32:
  case ElemType::U32:
    return Check::Bits32;
  case ElemType::I64:
  case ElemType::U64:
    return Check::Bits64;
  case ElemType::Bit:
    break;
  }
  llvm_unreachable("the selftest has no 1-bit tensors (checked by tidalc)");
}

/// The C type that holds one element's bits.
const char *wordType(ElemType T) {
  switch (elemBits(T)) {
  case 8:
    return "unsigned char";
  case 16:
    return "uint16_t";
  case 32:
    return "uint32_t";
  default:
    return "uint64_t";
  }
}

/// Element I of T as an unsigned literal of its width.
std::string wordLiteral(const Tensor &T, int64_t I) {
  unsigned Bytes = elemBits(T.Type.Elem) / 8;
  uint64_t V = 0;
  for (unsigned B = 0; B < Bytes; ++B) // Tensor bytes are little-endian.
    V |= uint64_t(T.Bytes[I * Bytes + B]) << (8 * B);
  std::string S;
  llvm::raw_string_ostream(S)
      << "0x" << llvm::format_hex_no_prefix(V, Bytes * 2)
      << (Bytes == 8 ? "ull" : "u");
  return S;
}

/// Name as it may stand in a C comment: no `*/` or `/*`, no trigraph, no
/// backslash-newline, nothing unprintable.
std::string commentSafe(llvm::StringRef Name) {
  std::string S;
  for (char C : Name) {
    bool Plain = C >= 0x20 && C < 0x7f && !llvm::StringRef("*/?\\").contains(C);
    S += Plain ? C : '_';
  }
  return S;
}

std::string arrayName(const Program &P, const char *What, size_t K) {
  return P.Name + "_selftest_" + What + std::to_string(K);
}

/// `static const uint32_t net_selftest_input0[N] = {...};`. C has no empty
/// array, so a tensor without elements gets one unused zero.
void emitArray(llvm::raw_ostream &OS, const std::string &Name,
               const std::string &Label, const IOInfo &IO, const Tensor &T) {
  assert(T.Type.Elem == IO.Type.Elem && T.Type.Shape == IO.Type.Shape &&
         "the test vector does not fit the model");
  int64_t N = T.Type.numElements();
  OS << "/* " << Label << " (" << commentSafe(IO.Name) << "): " << IO.Type.str()
     << " */\n"
     << "static const " << wordType(T.Type.Elem) << " " << Name << "["
     << std::max<int64_t>(N, 1) << "] = {";
  unsigned Bytes = elemBits(T.Type.Elem) / 8;
  // "0x", the digits, the suffix and ", ": as many as fit in 80 columns.
  unsigned PerLine = 76 / (2 + 2 * Bytes + (Bytes == 8 ? 3 : 1) + 2);
  for (int64_t I = 0; I < N; ++I)
    OS << (I % PerLine ? " " : "\n    ") << wordLiteral(T, I)
       << (I + 1 < N ? "," : "");
  if (N == 0)
    OS << "0";
  OS << "\n};\n\n";
}

/// Text with every `@KEY@` of Subst replaced by its value.
std::string
fill(llvm::StringRef Template,
     std::initializer_list<std::pair<llvm::StringRef, std::string>> Subst) {
  std::string S = Template.str();
  for (const auto &[Key, Value] : Subst) {
    std::string Token = ("@" + Key + "@").str();
    for (size_t At = S.find(Token); At != std::string::npos;
         At = S.find(Token, At + Value.size()))
      S.replace(At, Token.size(), Value);
  }
  return S;
}

const char NearHelper[] =
    R"(/* Whether got matches want: |got - want| <= ATOL + RTOL * |want| in
 * double, without libm; NaN matches only NaN, an infinity only itself. */
static int selftest_near(double got, double want) {
  double diff, scale;
  if (got != got || want != want)
    return got != got && want != want;
  if (got - got != 0 || want - want != 0) /* an infinity */
    return got == want;
  diff = got < want ? want - got : got - want;
  scale = want < 0 ? -want : want;
  return diff <= @UPPER@_SELFTEST_ATOL + @UPPER@_SELFTEST_RTOL * scale;
}

)";

const char HalfHelper[] = R"(/* The value of an IEEE half's bits, exactly. */
static double selftest_half(uint16_t h) {
  union { uint32_t u; float f; } v;
  uint32_t e = (h >> 10) & 31u, m = h & 1023u;
  if (e == 0) { /* zero or subnormal: m * 2^-24 */
    double d = (double)m / 16777216.0;
    return (h & 0x8000u) ? -d : d;
  }
  v.u = ((uint32_t)(h & 0x8000u) << 16) | (m << 13) |
        (e == 31 ? 0x7f800000u : (e + 112u) << 23);
  return v.f;
}

static int
selftest_f16(const void *out, const uint16_t *want, unsigned long n) {
  const uint16_t *got = (const uint16_t *)out;
  unsigned long i;
  for (i = 0; i < n; ++i)
    if (!selftest_near(selftest_half(got[i]), selftest_half(want[i])))
      return 0;
  return 1;
}

)";

/// f32 and f64: the expected values' bits (WORD) read as floats (TYPE).
const char FloatHelper[] = R"(static int
selftest_@NAME@(const void *out, const @WORD@ *want, unsigned long n) {
  const @TYPE@ *got = (const @TYPE@ *)out;
  unsigned long i;
  for (i = 0; i < n; ++i) {
    union { @WORD@ u; @TYPE@ f; } w;
    w.u = want[i];
    if (!selftest_near(got[i], w.f))
      return 0;
  }
  return 1;
}

)";

/// Integers and booleans: equal bits are equal values.
const char ExactHelper[] = R"(static int
selftest_@NAME@(const void *out, const @WORD@ *want, unsigned long n) {
  const @WORD@ *got = (const @WORD@ *)out;
  unsigned long i;
  for (i = 0; i < n; ++i)
    if (got[i] != want[i])
      return 0;
  return 1;
}

)";

const char *checkName(Check C) {
  static const char *Names[] = {"f16",    "f32",    "f64",   "bits8",
                                "bits16", "bits32", "bits64"};
  return Names[static_cast<int>(C)];
}

/// The helper for one Check: returns 1 when n elements at out match want.
std::string checkHelper(Check C) {
  auto Exact = [&](const char *Word) {
    return fill(ExactHelper, {{"NAME", checkName(C)}, {"WORD", Word}});
  };
  switch (C) {
  case Check::F16:
    return HalfHelper;
  case Check::F32:
    return fill(FloatHelper,
                {{"NAME", "f32"}, {"WORD", "uint32_t"}, {"TYPE", "float"}});
  case Check::F64:
    return fill(FloatHelper,
                {{"NAME", "f64"}, {"WORD", "uint64_t"}, {"TYPE", "double"}});
  case Check::Bits8:
    return Exact("unsigned char");
  case Check::Bits16:
    return Exact("uint16_t");
  case Check::Bits32:
    return Exact("uint32_t");
  case Check::Bits64:
    return Exact("uint64_t");
  }
  llvm_unreachable("unknown check");
}

const char PoisonHelper[] =
    R"(/* Fills an output with the complement of its expected bytes, so that an
 * element the run does not write cannot match: an integer's complement
 * differs, a float's has the other sign and a magnitude of at least 1 on
 * one side (or is NaN, infinite, zero where the other is not), which
 * matches only when ATOL + RTOL >= 1. */
static void selftest_poison(void *out, const void *want, unsigned long bytes) {
  unsigned char *o = (unsigned char *)out;
  const unsigned char *w = (const unsigned char *)want;
  unsigned long i;
  for (i = 0; i < bytes; ++i)
    o[i] = (unsigned char)~w[i];
}

)";

/// A double literal that reads back to V (17 significant digits).
std::string doubleLiteral(double V) {
  std::string S;
  llvm::raw_string_ostream(S) << llvm::format("%.17g", V);
  if (S.find_first_of(".e") == std::string::npos)
    S += ".0";
  return S;
}

const char Preamble[] =
    R"(/* @NAME@_selftest: the on-target self-check of the model '@NAME@',
 * generated by tidalc --emit-selftest. Do not edit.
 *
 *   int @NAME@_selftest(void *const outputs[], void *workspace);
 *
 * runs @NAME@_run on the test inputs below, into the caller's outputs
 * (outputs[k]: @UPPER@_OUTPUTk_SIZE bytes) and workspace
 * (@UPPER@_WORKSPACE_SIZE bytes aligned to @UPPER@_WORKSPACE_ALIGN), and
 * compares each output with its expected values: floats within
 * @UPPER@_SELFTEST_ATOL + @UPPER@_SELFTEST_RTOL * |want| (NaN matches NaN, an
 * infinity only itself), integers and booleans exactly. Returns 0 when
 * every output matches; @NAME@_run's status when it is nonzero; else 1 + the
 * index of the first output that does not match.
 *
 * Inputs: @INPUTS@.
 * Expected outputs: @EXPECTED@.
 * See docs/abi.md, "On-target self-check". */
#include <stdint.h>
#include "@HEADER@"

#define @UPPER@_SELFTEST_RTOL @RTOL@
#define @UPPER@_SELFTEST_ATOL @ATOL@

int @NAME@_selftest(void *const outputs[], void *workspace);

)";

void emitHelpers(llvm::raw_ostream &OS, const Program &P) {
  std::set<Check> Used;
  for (const IOInfo &IO : P.Outputs)
    Used.insert(checkFor(IO.Type.Elem));
  if (Used.count(Check::F16) || Used.count(Check::F32) ||
      Used.count(Check::F64))
    OS << fill(NearHelper, {{"UPPER", llvm::StringRef(P.Name).upper()}});
  for (Check C : Used) // std::set: in the enum's order, deterministic.
    OS << checkHelper(C);
  if (!P.Outputs.empty())
    OS << PoisonHelper;
}

void emitFunction(llvm::raw_ostream &OS, const Program &P) {
  OS << "int " << P.Name
     << "_selftest(void *const outputs[], void *workspace) {\n";
  // C has no empty initializer list: a model without run-time inputs (all
  // bound) passes one null pointer that it never reads.
  OS << "  const void *const inputs[" << std::max<size_t>(P.Inputs.size(), 1)
     << "] = {";
  for (size_t K = 0; K < P.Inputs.size(); ++K)
    OS << (K ? ", " : "") << arrayName(P, "input", K);
  OS << (P.Inputs.empty() ? "0};\n" : "};\n") << "  int status;\n";
  for (size_t K = 0; K < P.Outputs.size(); ++K)
    OS << "  selftest_poison(outputs[" << K << "], "
       << arrayName(P, "output", K) << ", " << P.Outputs[K].Type.sizeInBytes()
       << "ul);\n";
  if (P.Outputs.empty())
    OS << "  (void)outputs;\n";
  OS << "  status = " << P.Name << "_run(inputs, outputs, workspace);\n"
     << "  if (status != 0)\n    return status;\n";
  for (size_t K = 0; K < P.Outputs.size(); ++K)
    OS << "  if (!selftest_" << checkName(checkFor(P.Outputs[K].Type.Elem))
       << "(outputs[" << K << "], " << arrayName(P, "output", K) << ", "
       << P.Outputs[K].Type.numElements() << "ul))\n    return " << K + 1
       << ";\n";
  OS << "  return 0;\n}\n";
}

} // namespace

void tidal::emitSelftest(const Program &P, llvm::StringRef HeaderName,
                         const SelftestVector &V, llvm::raw_ostream &OS) {
  assert(V.Inputs.size() == P.Inputs.size() &&
         V.Expected.size() == P.Outputs.size() && "a vector for another model");
  // The header's name last: a user's file name is not searched for keys.
  OS << fill(Preamble, {{"NAME", P.Name},
                        {"UPPER", llvm::StringRef(P.Name).upper()},
                        {"RTOL", doubleLiteral(V.RTol)},
                        {"ATOL", doubleLiteral(V.ATol)},
                        {"INPUTS", V.InputsFrom},
                        {"EXPECTED", V.ExpectedFrom},
                        {"HEADER", HeaderName.str()}});
  for (size_t K = 0; K < P.Inputs.size(); ++K)
    emitArray(OS, arrayName(P, "input", K), "input " + std::to_string(K),
              P.Inputs[K], V.Inputs[K]);
  for (size_t K = 0; K < P.Outputs.size(); ++K)
    emitArray(OS, arrayName(P, "output", K),
              "expected output " + std::to_string(K), P.Outputs[K],
              V.Expected[K]);
  emitHelpers(OS, P);
  emitFunction(OS, P);
}
