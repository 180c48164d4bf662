//===- EmitHeader.cpp - The C header of a compiled model ------------------===//
//
// Writes the C99 header of the firmware contract (docs/abi.md): counts,
// workspace size and alignment, the weights' size, alignment and place (a
// section, or with --weights external the file, its CRC-32 and the hook
// that loads it), per input and output its name, index by name, element
// type, rank, dims, element count, size in bytes, alignment and
// quantization, and the prototype of `<name>_run` (on the CPU targets also
// `<name>_run_threaded`, which takes a thread pool). Macros are prefixed
// with the upper-cased model name, so headers of several models can be
// included together; the shared TIDAL_TYPE_* codes are identical in every
// header and guarded. The nvptx header adds its target's declarations
// (NVPTXHeader.cpp).
//
//===----------------------------------------------------------------------===//

#include "codegen/Codegen.h"
#include "codegen/NVPTXCodegen.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/CRC.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"
#include <cmath>

using namespace tidal;

namespace {

const ElemType AllTypes[] = {ElemType::F32, ElemType::F16, ElemType::F64,
                             ElemType::I64, ElemType::I32, ElemType::I16,
                             ElemType::I8,  ElemType::U8,  ElemType::U16,
                             ElemType::U32, ElemType::U64, ElemType::Bool,
                             ElemType::Bit};

std::string typeMacro(ElemType T) {
  return "TIDAL_TYPE_" + llvm::StringRef(elemTypeName(T)).upper();
}

/// A C string literal of S.
std::string cString(llvm::StringRef S) {
  std::string R = "\"";
  for (unsigned char C : S) {
    if (C == '"' || C == '\\') {
      R += '\\';
      R += char(C);
    } else if (C >= 0x20 && C < 0x7f && C != '?') { // '?': no trigraphs
      R += char(C);
    } else {
      char Buf[8];
      snprintf(Buf, sizeof Buf, "\\%03o", C);
      R += Buf;
    }
  }
  return R + "\"";
}

/// A float constant that reads back to the same float (always has a '.' or
/// an exponent, so the 'f' suffix is valid C).
std::string floatLiteral(float V) {
  if (std::isnan(V))
    return "(0.0f/0.0f)";
  if (std::isinf(V))
    return V > 0 ? "(1.0f/0.0f)" : "(-1.0f/0.0f)";
  char Buf[32];
  snprintf(Buf, sizeof Buf, "%.9g", double(V));
  std::string S = Buf;
  if (S.find_first_of(".e") == std::string::npos)
    S += ".0";
  return S + "f";
}

std::string intLiteral(int64_t V) {
  // INT64_MIN has no literal of its own.
  if (V == INT64_MIN)
    return "(-9223372036854775807LL - 1)";
  return std::to_string(V) + (V > 2147483647 || V < -2147483647 ? "LL" : "");
}

template <typename T, typename F>
std::string initializer(const std::vector<T> &Values, F Format) {
  std::string S = "{";
  for (size_t I = 0; I < Values.size(); ++I)
    S += (I ? ", " : "") + Format(Values[I]);
  return S + "}";
}

void define(llvm::raw_ostream &OS, const std::string &Name,
            const std::string &Value) {
  OS << "#define " << Name;
  for (size_t N = Name.size(); N < 32; ++N)
    OS << ' ';
  OS << ' ' << Value << "\n";
}

void emitTypeCodes(llvm::raw_ostream &OS) {
  OS << "/* Element type codes, the same in every Tidal header. */\n"
        "#ifndef TIDAL_TYPE_CODES_DEFINED\n"
        "#define TIDAL_TYPE_CODES_DEFINED\n";
  for (unsigned I = 0; I < std::size(AllTypes); ++I)
    define(OS, typeMacro(AllTypes[I]), std::to_string(I));
  OS << "#endif\n\n";
}

void emitQuantization(llvm::raw_ostream &OS, const std::string &P,
                      const Quantization &Q) {
  define(OS, P + "_QUANTIZED", "1");
  define(OS, P + "_QUANT_AXIS", std::to_string(Q.Axis));
  define(OS, P + "_NUM_SCALES", std::to_string(Q.Scales.size()));
  define(OS, P + "_SCALES", initializer(Q.Scales, floatLiteral));
  define(OS, P + "_ZERO_POINTS", initializer(Q.ZeroPoints, intLiteral));
  if (Q.Axis < 0 && Q.Scales.size() == 1 && Q.ZeroPoints.size() == 1) {
    define(OS, P + "_SCALE", floatLiteral(Q.Scales[0]));
    define(OS, P + "_ZERO_POINT", intLiteral(Q.ZeroPoints[0]));
  }
}

/// The suffix of the macro `<NAME>_INPUT_<suffix>` (or OUTPUT) that gives
/// the index of each of IOs by name: its name upper-cased, where the name
/// is a C identifier without `__` (reserved in C++) and no other name of
/// IOs upper-cases to the same; empty otherwise. These macros never clash
/// with the others, whose INPUT or OUTPUT is followed by a digit.
std::vector<std::string> indexSuffixes(const std::vector<IOInfo> &IOs) {
  std::vector<std::string> Suffixes;
  llvm::StringMap<unsigned> Count;
  for (const IOInfo &IO : IOs) {
    llvm::StringRef N = IO.Name;
    bool Usable =
        !N.empty() && llvm::isAlpha(N[0]) && !N.contains("__") &&
        llvm::all_of(N, [](char C) { return llvm::isAlnum(C) || C == '_'; });
    Suffixes.push_back(Usable ? N.upper() : "");
    ++Count[Suffixes.back()];
  }
  for (std::string &S : Suffixes)
    if (Count[S] > 1)
      S.clear();
  return Suffixes;
}

void emitIO(llvm::raw_ostream &OS, const std::string &Prefix, const char *What,
            size_t Index, const IOInfo &IO, const std::string &IndexSuffix,
            uint64_t Align) {
  std::string P = Prefix + "_" + What + std::to_string(Index);
  const TensorType &T = IO.Type;
  OS << "/* " << llvm::StringRef(What).lower() << " " << Index << ": "
     << T.str() << " */\n";
  if (!IndexSuffix.empty())
    define(OS, Prefix + "_" + What + "_" + IndexSuffix, std::to_string(Index));
  define(OS, P + "_NAME", cString(IO.Name));
  define(OS, P + "_TYPE", typeMacro(T.Elem));
  define(OS, P + "_TYPE_NAME", cString(elemTypeName(T.Elem)));
  define(OS, P + "_RANK", std::to_string(T.rank()));
  // C99 has no empty initializer: a scalar lists the single dimension 1.
  std::vector<int64_t> Dims = T.Shape.empty() ? std::vector<int64_t>{1} : T.Shape;
  define(OS, P + "_DIMS", initializer(Dims, intLiteral));
  define(OS, P + "_NUM_ELEMENTS", intLiteral(T.numElements()));
  define(OS, P + "_SIZE", intLiteral(T.sizeInBytes()));
  define(OS, P + "_ALIGN", std::to_string(Align));
  if (T.Quant)
    emitQuantization(OS, P, *T.Quant);
  else
    define(OS, P + "_QUANTIZED", "0");
  OS << "\n";
}

void emitIOs(llvm::raw_ostream &OS, const Program &P, const std::string &Upper,
             StorageKind Storage) {
  bool In = Storage == StorageKind::Input;
  const std::vector<IOInfo> &IOs = In ? P.Inputs : P.Outputs;
  std::vector<std::string> Suffixes = indexSuffixes(IOs);
  for (size_t I = 0; I < IOs.size(); ++I)
    emitIO(OS, Upper, In ? "INPUT" : "OUTPUT", I, IOs[I], Suffixes[I],
           bufferAlignment(P, Storage, I));
}

/// The weights' macros: where they are (a section of the object, or a file
/// and its checksum), and with external weights the error codes of
/// `<name>_run`.
void emitWeightsMacros(llvm::raw_ostream &OS, const Program &P,
                       const CodegenOptions &Opts, const std::string &Upper) {
  define(OS, Upper + "_WEIGHTS_SIZE", intLiteral(int64_t(P.Weights.size())));
  if (!Opts.ExternalWeights)
    define(OS, Upper + "_WEIGHTS_SECTION",
           "\"" + weightsSection(P, Opts.WeightsSection) + "\"");
  define(OS, Upper + "_WEIGHTS_ALIGN", std::to_string(Opts.Align));
  define(OS, Upper + "_WEIGHTS_EXTERNAL", Opts.ExternalWeights ? "1" : "0");
  if (!Opts.ExternalWeights)
    return;
  define(OS, Upper + "_WEIGHTS_FILE", cString(Opts.WeightsFile));
  char CRC[16];
  snprintf(CRC, sizeof CRC, "0x%08xu", unsigned(llvm::crc32(P.Weights)));
  define(OS, Upper + "_WEIGHTS_CRC32", CRC);
  define(OS, Upper + "_ERROR_NO_WEIGHTS", std::to_string(RunErrorNoWeights));
  define(OS, Upper + "_ERROR_WEIGHTS_ALIGN",
         std::to_string(RunErrorWeightsAlign));
}

/// The hook that external weights come from, which the firmware defines.
void emitLoadWeights(llvm::raw_ostream &OS, const Program &P,
                     const std::string &U) {
  OS << "/* External weights: the firmware defines this hook. " << P.Name
     << "_run and\n * " << P.Name
     << "_run_threaded call it once per call, before any kernel (never\n"
     << " * when " << U << "_WEIGHTS_SIZE is 0). It returns the address of "
     << U << "_WEIGHTS_SIZE\n * bytes holding the file " << U
     << "_WEIGHTS_FILE (CRC-32 " << U << "_WEIGHTS_CRC32),\n * aligned to " << U
     << "_WEIGHTS_ALIGN and unchanged until the call returns. NULL\n"
     << " * makes the call return " << U
     << "_ERROR_NO_WEIGHTS, a misaligned address\n * " << U
     << "_ERROR_WEIGHTS_ALIGN, with the outputs untouched. */\n"
     << "const void *" << loadWeightsSymbol(P) << "(void);\n\n";
}

} // namespace

/// The header of P, with Extras (declarations of the target) at the end of
/// the `extern "C"` block.
static void writeHeader(const Program &P, const CodegenOptions &Opts,
                        llvm::StringRef Extras, llvm::raw_ostream &OS) {
  std::string Upper = llvm::StringRef(P.Name).upper();
  std::string Guard = "TIDAL_MODEL_" + Upper + "_H";
  OS << "/* " << P.Name << ".h: the interface of the model '" << P.Name
     << "', generated by tidalc. Do not edit.\n"
     << " * Inputs and outputs are dense row-major buffers in graph order;\n"
     << " * the workspace (" << Upper << "_WORKSPACE_SIZE bytes, aligned to "
     << Upper << "_WORKSPACE_ALIGN) belongs\n"
     << " * to the caller, one per concurrent call.\n"
     << " * See docs/abi.md. */\n";
  OS << "#ifndef " << Guard << "\n#define " << Guard << "\n\n";
  OS << "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n";
  emitTypeCodes(OS);
  define(OS, Upper + "_NUM_INPUTS", std::to_string(P.Inputs.size()));
  define(OS, Upper + "_NUM_OUTPUTS", std::to_string(P.Outputs.size()));
  define(OS, Upper + "_WORKSPACE_SIZE", intLiteral(P.WorkspaceSize));
  define(OS, Upper + "_WORKSPACE_ALIGN", std::to_string(Opts.Align));
  emitWeightsMacros(OS, P, Opts, Upper);
  OS << "\n";
  emitIOs(OS, P, Upper, StorageKind::Input);
  emitIOs(OS, P, Upper, StorageKind::Output);
  OS << "/* Runs the model: inputs[k] and outputs[k] point to the k-th input "
        "and\n * output buffer, workspace to "
     << Upper << "_WORKSPACE_SIZE bytes. Returns 0 on success.\n"
     << " * Reentrant: concurrent calls need distinct workspaces and outputs. "
        "*/\n";
  OS << "int " << P.Name
     << "_run(const void *const inputs[], void *const outputs[], void "
        "*workspace);\n\n";
  if (Opts.ExternalWeights)
    emitLoadWeights(OS, P, Upper);
  OS << Extras;
  OS << "#ifdef __cplusplus\n}\n#endif\n\n#endif /* " << Guard << " */\n";
}

/// The CPU targets' second entry point, which runs parallel loops on a
/// thread pool (runtime/include/tidalrt.h).
static std::string threadedEntry(const Program &P) {
  return "struct tidal_pool;\n/* Runs the model as " + P.Name +
         "_run does, with its parallel loops on the\n * threads of pool "
         "(tidal_pool_create in tidalrt.h; NULL: on the caller's\n * "
         "thread). Outputs are bit-identical whatever the thread count. One "
         "run\n * at a time per pool. */\nint " +
         P.Name +
         "_run_threaded(struct tidal_pool *pool, const void *const "
         "inputs[],\n    void *const outputs[], void *workspace);\n\n";
}

void tidal::emitHeader(const Program &P, llvm::raw_ostream &OS) {
  writeHeader(P, CodegenOptions(), threadedEntry(P), OS);
}

void tidal::emitHeader(const Program &P, const CodegenOptions &Opts,
                       llvm::raw_ostream &OS) {
  writeHeader(P, Opts,
              Opts.Target == "nvptx" ? nvptxHeaderExtras(P) : threadedEntry(P),
              OS);
}
