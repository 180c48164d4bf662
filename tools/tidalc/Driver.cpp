//===- Driver.cpp - The C program `tidalc run` links with a model ---------===//
//
// The driver is plain C (C11 + POSIX) so that it builds with the target's C
// compiler and runs under qemu unchanged. It includes the model's header,
// so a header that is not valid C fails `tidalc run` too. Its command line:
//
//     driver REPEAT THREADS [WEIGHTS] IN_0 ... IN_n-1 OUT_0 ... OUT_m-1
//
// Inputs and outputs are raw row-major files of exactly the sizes the model
// declares. The first call to <name>_run is the warm-up; with REPEAT > 0
// REPEAT more calls are timed with CLOCK_MONOTONIC and one line
// `latency: runs=N median_ms=M min_ms=A max_ms=B` is printed. The outputs
// written are those of the last call, which checks that the same workspace
// can be reused. The workspace and the outputs start filled with 0xFF bytes
// (NaN as f32), so a kernel reading memory it never wrote shows up as a
// mismatch rather than as a lucky zero. On the CPU targets THREADS > 1 runs
// the model through <name>_run_threaded on a pool of that many threads
// (runtime/src/pool.c), created once before the first call; nvptx ignores
// it. When an nvptx model's run fails, the driver also prints the runtime's
// description of the error code.
//
// A model compiled with --weights external also takes its WEIGHTS file,
// which the driver reads into a buffer aligned as the header asks and
// returns from <name>_load_weights, as a firmware would.
//
//===----------------------------------------------------------------------===//

#include "tools/tidalc/Tidalc.h"
#include "llvm/Support/raw_ostream.h"

using namespace tidal;

static const char DriverBody[] = R"(
static void *alloc64(size_t n) {
  void *p = NULL;
  if (n == 0)
    n = 64;
  n = (n + 63) / 64 * 64;
  if (posix_memalign(&p, 64, n) != 0)
    return NULL;
  memset(p, 0xFF, n);
  return p;
}

static int readRaw(const char *path, void *buf, size_t n) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "driver: cannot open %s\n", path);
    return 1;
  }
  size_t got = n ? fread(buf, 1, n, f) : 0;
  int extra = fgetc(f) != EOF;
  fclose(f);
  if (got != n || extra) {
    fprintf(stderr, "driver: %s is not %zu bytes\n", path, n);
    return 1;
  }
  return 0;
}

static int writeRaw(const char *path, const void *buf, size_t n) {
  FILE *f = fopen(path, "wb");
  if (!f || (n && fwrite(buf, 1, n, f) != n)) {
    fprintf(stderr, "driver: cannot write %s\n", path);
    if (f)
      fclose(f);
    return 1;
  }
  return fclose(f) != 0;
}

static double nowMs(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int byValue(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

#ifdef MODEL_RUN_THREADED /* CPU targets: tidalrt.h's thread pool */
size_t tidal_pool_size(int threads);
struct tidal_pool *tidal_pool_create(void *memory, size_t bytes, int threads);
void tidal_pool_destroy(struct tidal_pool *pool);
static struct tidal_pool *Pool;
#define CALL_MODEL(in, out, ws) MODEL_RUN_THREADED(Pool, in, out, ws)
#else
#define CALL_MODEL(in, out, ws) MODEL_RUN(in, out, ws)
#endif

#ifdef MODEL_LOAD_WEIGHTS /* --weights external: the firmware's hook */
static void *Weights;
const void *MODEL_LOAD_WEIGHTS(void) { return Weights; }
#define WEIGHTS_ARGS 1
#else
#define WEIGHTS_ARGS 0
#endif

static int runOnce(const void *const *in, void *const *out, void *ws) {
  int rc = CALL_MODEL(in, out, ws);
  if (rc != 0)
    fprintf(stderr, "driver: " MODEL_RUN_NAME " returned %d\n", rc);
#ifdef TIDAL_CUDA_ERRORS_DEFINED /* nvptx models say why */
  if (rc != 0)
    fprintf(stderr, "driver: %s (last CUDA driver error: %d)\n",
            tidal_cuda_error_string(rc), tidal_cuda_last_driver_error());
#endif
  return rc;
}

static int timeRuns(long repeat, const void *const *in, void *const *out,
                    void *ws) {
  double *t = malloc((size_t)repeat * sizeof *t);
  if (!t)
    return 1;
  for (long i = 0; i < repeat; ++i) {
    double t0 = nowMs();
    if (runOnce(in, out, ws) != 0)
      return 1;
    t[i] = nowMs() - t0;
  }
  qsort(t, (size_t)repeat, sizeof *t, byValue);
  double median = repeat % 2 ? t[repeat / 2]
                             : (t[repeat / 2 - 1] + t[repeat / 2]) / 2;
  printf("latency: runs=%ld median_ms=%.4f min_ms=%.4f max_ms=%.4f\n", repeat,
         median, t[0], t[repeat - 1]);
  free(t);
  return 0;
}

int main(int argc, char **argv) {
  const void *in[NUM_IN + 1];
  void *out[NUM_OUT + 1];
  if (argc != 3 + WEIGHTS_ARGS + NUM_IN + NUM_OUT) {
    fprintf(stderr, "usage: %s REPEAT THREADS %sINPUTS... OUTPUTS...\n",
            argv[0], WEIGHTS_ARGS ? "WEIGHTS " : "");
    return 2;
  }
  long repeat = strtol(argv[1], NULL, 10);
  long threads = strtol(argv[2], NULL, 10);
#ifdef MODEL_RUN_THREADED
  void *poolMemory = NULL;
  if (threads > 1) {
    size_t bytes = tidal_pool_size((int)threads);
    poolMemory = alloc64(bytes);
    Pool = poolMemory ? tidal_pool_create(poolMemory, bytes, (int)threads) : NULL;
    if (!Pool) {
      fprintf(stderr, "driver: cannot start %ld threads\n", threads);
      return 3;
    }
  }
#else
  (void)threads; /* nvptx: the GPU runs the model */
#endif
#ifdef MODEL_LOAD_WEIGHTS
  if (posix_memalign(&Weights, WEIGHTS_ALIGN, WEIGHTS_BYTES + 1) != 0 ||
      readRaw(argv[3], Weights, WEIGHTS_BYTES) != 0)
    return 2;
#endif
  for (int i = 0; i < NUM_IN; ++i) {
    void *b = alloc64(InBytes[i]);
    if (!b || readRaw(argv[3 + WEIGHTS_ARGS + i], b, InBytes[i]) != 0)
      return 2;
    in[i] = b;
  }
  for (int i = 0; i < NUM_OUT; ++i)
    if (!(out[i] = alloc64(OutBytes[i])))
      return 2;
  void *ws = alloc64(WORKSPACE_BYTES);
  if (!ws || runOnce(in, out, ws) != 0)
    return 3;
  if (repeat > 0 && timeRuns(repeat, in, out, ws) != 0)
    return 3;
  for (int i = 0; i < NUM_OUT; ++i)
    if (writeRaw(argv[3 + WEIGHTS_ARGS + NUM_IN + i], out[i], OutBytes[i]) != 0)
      return 2;
#ifdef MODEL_RUN_THREADED
  tidal_pool_destroy(Pool);
  free(poolMemory);
#endif
  return 0;
}
)";

static void writeSizes(llvm::raw_ostream &OS, llvm::StringRef Array,
                       const std::vector<IOInfo> &IOs) {
  OS << "static const size_t " << Array << "[] = {";
  for (const IOInfo &IO : IOs)
    OS << IO.Type.sizeInBytes() << "u, ";
  OS << "0u};\n";
}

std::string tidal::generateDriver(const Program &P, llvm::StringRef HeaderName,
                                  bool Threaded, bool ExternalWeights) {
  std::string S;
  llvm::raw_string_ostream OS(S);
  OS << "/* Generated by tidalc run. See tools/tidalc/Driver.cpp. */\n"
     << "#define _POSIX_C_SOURCE 200809L\n"
     << "#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n"
     << "#include <time.h>\n"
     << "#include \"" << HeaderName << "\"\n\n"
     << "#define MODEL_RUN " << P.Name << "_run\n"
     << "#define MODEL_RUN_NAME \"" << P.Name << "_run\"\n";
  if (Threaded)
    OS << "#define MODEL_RUN_THREADED " << P.Name << "_run_threaded\n";
  if (ExternalWeights) {
    std::string Upper = llvm::StringRef(P.Name).upper();
    OS << "#define MODEL_LOAD_WEIGHTS " << P.Name << "_load_weights\n"
       << "#define WEIGHTS_ALIGN " << Upper << "_WEIGHTS_ALIGN\n"
       << "#define WEIGHTS_BYTES ((size_t)" << Upper << "_WEIGHTS_SIZE)\n";
  }
  OS
     << "#define NUM_IN " << P.Inputs.size() << "\n"
     << "#define NUM_OUT " << P.Outputs.size() << "\n"
     << "#define WORKSPACE_BYTES ((size_t)" << P.WorkspaceSize << "u)\n";
  writeSizes(OS, "InBytes", P.Inputs);
  writeSizes(OS, "OutBytes", P.Outputs);
  OS << DriverBody;
  return OS.str();
}
