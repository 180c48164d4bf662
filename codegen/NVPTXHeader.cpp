//===- NVPTXHeader.cpp - The C header of an nvptx model -------------------===//
//
// The header of an nvptx model is the common one (EmitHeader.cpp) plus the
// error codes its `<name>_run` may return and the runtime functions that
// describe them, which EmitHeader.cpp inserts before the header's closing
// `extern "C"` and guard. The codes are shared by every nvptx header (and
// equal to runtime/include/tidal_cuda.h), so they are guarded like the type
// codes.
//
//===----------------------------------------------------------------------===//

#include "codegen/NVPTXCodegen.h"
#include "llvm/ADT/StringExtras.h"

using namespace tidal;

std::string tidal::nvptxHeaderExtras(const Program &P) {
  std::string Upper = llvm::StringRef(P.Name).upper();
  return "/* nvptx: " + P.Name +
         "_run runs the model on the GPU through the CUDA driver\n"
         " * (libcuda.so.1, loaded at run time; TIDAL_CUDA_DEVICE selects the "
         "device,\n"
         " * default 0). The weights are copied to the GPU at the first call "
         "and stay\n"
         " * there; the workspace lives on the GPU, so the workspace argument "
         "is not\n"
         " * used (it may be NULL). Calls are serialized. Besides 0, " +
         P.Name + "_run returns: */\n"
         "#ifndef TIDAL_CUDA_ERRORS_DEFINED\n"
         "#define TIDAL_CUDA_ERRORS_DEFINED\n"
         "#define TIDAL_CUDA_ERROR_NO_DRIVER   (-1) /* no libcuda.so.1, or "
         "it lacks a function */\n"
         "#define TIDAL_CUDA_ERROR_NO_DEVICE   (-2) /* cuInit failed, or no "
         "(such) GPU */\n"
         "#define TIDAL_CUDA_ERROR_PTX         (-3) /* the driver rejected the "
         "PTX */\n"
         "#define TIDAL_CUDA_ERROR_LAUNCH      (-4) /* a launch or a kernel "
         "failed */\n"
         "#define TIDAL_CUDA_ERROR_MEMORY      (-5) /* out of device or host "
         "memory */\n"
         "#define TIDAL_CUDA_ERROR_COPY        (-6) /* a host <-> device copy "
         "failed */\n"
         "#define TIDAL_CUDA_ERROR_DESCRIPTOR  (-7) /* the object and the "
         "runtime differ */\n"
         "/* A sentence describing a return value of a model's _run. */\n"
         "const char *tidal_cuda_error_string(int code);\n"
         "/* The CUresult of the last failed CUDA driver call (0 if none). */\n"
         "int tidal_cuda_last_driver_error(void);\n"
         "#endif\n"
         "#define " +
         Upper + "_TARGET_NVPTX 1\n\n";
}
