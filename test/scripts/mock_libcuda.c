/* mock_libcuda.c - a stand-in for libcuda.so.1, for machines without a GPU.
 *
 * nvptx_links.py builds it as libcuda.so.1 and puts its folder first in
 * LD_LIBRARY_PATH, so that the runtime's launcher (runtime/src/
 * tidal_cuda.c) and a model's host object run for real: device memory is
 * host memory (filled with 0xFF bytes, NaN as f32, when allocated, so that
 * reading memory nothing wrote shows), copies are memcpy, and every driver
 * call is checked and written, one line each, to the file named by
 * MOCK_CUDA_LOG (if set):
 *
 *   load <bytes of PTX>            cuModuleLoadData (PTX with .version, .entry)
 *   function <name>                cuModuleGetFunction (an .entry of the PTX)
 *   alloc <bytes>                  cuMemAlloc_v2
 *   htod <bytes>                   cuMemcpyHtoD_v2 (into one allocation)
 *   dtoh <bytes>                   cuMemcpyDtoH_v2 (from one allocation)
 *   launch <name> <grid> <block> <args>   cuLaunchKernel (every argument a
 *                                  pointer into an allocation)
 *   sync                           cuCtxSynchronize
 *   error <what>                   a check failed (the call fails too)
 *
 * Kernels do nothing unless MOCK_CUDA_KERNELS names a shared library that
 * holds the device code compiled for the host (nvptx_links.py makes it from
 * `tidalc compile --emit llvm`, with the %ctaid.x / %tid.x reads replaced
 * by calls to emu_ctaid_x / emu_tid_x and emu_set(block, thread) to set
 * them). Then each launch calls the entry once per (block, thread), the
 * blocks and the threads in reverse order unless MOCK_CUDA_ORDER=forward,
 * so that a schedule that wrongly made dependent iterations parallel shows
 * up as wrong numbers.
 *
 * Only the driver ABI as tidal_cuda.c uses it is mimicked.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int CUresult;
typedef unsigned long long CUdeviceptr;

#define MAX_ALLOCS 4096
#define MAX_FUNCS 4096
#define MAX_ARGS 64

/* An entry called with more arguments than it declares ignores the rest
 * (SysV x86-64 / AArch64: the caller owns the stack), so one type fits all. */
#define P4 void *, void *, void *, void *
#define P16 P4, P4, P4, P4
typedef void (*EntryFn)(P16, P16, P16, P16);

struct function {
  char *name;
  EntryFn fn; /* null when kernels are not emulated */
  int params;
};

static struct {
  char *base;
  size_t size;
} Allocs[MAX_ALLOCS];
static int NumAllocs;
static const char *Ptx;
static struct function Funcs[MAX_FUNCS];
static int NumFuncs;
static int Context, Module;
static void *Kernels; /* the MOCK_CUDA_KERNELS library */
static void (*SetIds)(unsigned, unsigned);

static void say(const char *fmt, ...) {
  const char *path = getenv("MOCK_CUDA_LOG");
  FILE *f = path ? fopen(path, "a") : NULL;
  va_list ap;
  if (!f)
    return;
  va_start(ap, fmt);
  vfprintf(f, fmt, ap);
  va_end(ap);
  fclose(f);
}

/* Whether [p, p + n) lies in one allocation. */
static int inAlloc(CUdeviceptr p, size_t n) {
  int i;
  for (i = 0; i < NumAllocs; ++i) {
    CUdeviceptr b = (CUdeviceptr)(size_t)Allocs[i].base;
    if (p >= b && p + n <= b + Allocs[i].size)
      return 1;
  }
  return 0;
}

/* The number of parameters of `.entry NAME(...)` in the PTX, or -1. */
static int entryParams(const char *name) {
  const char *s = Ptx, *end;
  size_t n = strlen(name);
  int count = 0;
  while (s && (s = strstr(s, ".entry ")) != NULL) {
    s += 7;
    if (strncmp(s, name, n) != 0 || s[n] != '(')
      continue;
    end = strchr(s, ')');
    for (s += n; end && (s = strstr(s, ".param ")) != NULL && s < end; ++s)
      ++count;
    return count;
  }
  return -1;
}

CUresult cuInit(unsigned int flags) { return flags == 0 ? 0 : 1; }
CUresult cuDeviceGetCount(int *n) {
  *n = 1;
  return 0;
}
CUresult cuDeviceGet(int *d, int ordinal) {
  *d = ordinal;
  return ordinal == 0 ? 0 : 101;
}
CUresult cuDevicePrimaryCtxRetain(void **ctx, int dev) {
  (void)dev;
  *ctx = &Context;
  return 0;
}
CUresult cuCtxSetCurrent(void *ctx) { return ctx == &Context ? 0 : 201; }

static int loadKernels(void) {
  const char *path = getenv("MOCK_CUDA_KERNELS");
  void *sym;
  if (!path || Kernels)
    return 1;
  Kernels = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  sym = Kernels ? dlsym(Kernels, "emu_set") : NULL;
  if (!sym) {
    say("error cannot load %s: %s\n", path, dlerror());
    return 0;
  }
  memcpy(&SetIds, &sym, sizeof sym);
  return 1;
}

CUresult cuModuleLoadData(void **module, const void *image) {
  Ptx = image;
  say("load %zu\n", strlen(Ptx));
  if (!strstr(Ptx, ".entry ") || !strstr(Ptx, ".version ")) {
    say("error the image is not PTX with entries\n");
    return 218; /* CUDA_ERROR_INVALID_PTX */
  }
  if (!loadKernels())
    return 218;
  *module = &Module;
  return 0;
}

CUresult cuModuleUnload(void *module) { return module == &Module ? 0 : 400; }

CUresult cuModuleGetFunction(void **f, void *module, const char *name) {
  struct function *fn = &Funcs[NumFuncs];
  say("function %s\n", name);
  fn->params = entryParams(name);
  if (module != &Module || fn->params < 0 || NumFuncs == MAX_FUNCS) {
    say("error no entry named %s\n", name);
    return 500; /* CUDA_ERROR_NOT_FOUND */
  }
  if (Kernels) {
    void *sym = dlsym(Kernels, name);
    if (!sym || fn->params > MAX_ARGS) {
      say("error cannot emulate %s\n", name);
      return 500;
    }
    memcpy(&fn->fn, &sym, sizeof sym);
  }
  fn->name = strdup(name);
  *f = fn;
  ++NumFuncs;
  return 0;
}

CUresult cuMemAlloc_v2(CUdeviceptr *p, size_t n) {
  say("alloc %zu\n", n);
  if (n == 0 || NumAllocs == MAX_ALLOCS)
    return 1;
  Allocs[NumAllocs].base = malloc(n);
  Allocs[NumAllocs].size = n;
  if (!Allocs[NumAllocs].base)
    return 2;
  memset(Allocs[NumAllocs].base, 0xFF, n);
  *p = (CUdeviceptr)(size_t)Allocs[NumAllocs++].base;
  return 0;
}

CUresult cuMemFree_v2(CUdeviceptr p) {
  (void)p;
  return 0;
}

CUresult cuMemcpyHtoD_v2(CUdeviceptr dst, const void *src, size_t n) {
  say("htod %zu\n", n);
  if (!inAlloc(dst, n)) {
    say("error htod outside an allocation\n");
    return 1;
  }
  memcpy((void *)(size_t)dst, src, n);
  return 0;
}

CUresult cuMemcpyDtoH_v2(void *dst, CUdeviceptr src, size_t n) {
  say("dtoh %zu\n", n);
  if (!inAlloc(src, n)) {
    say("error dtoh outside an allocation\n");
    return 1;
  }
  memcpy(dst, (const void *)(size_t)src, n);
  return 0;
}

/* Runs every (block, thread) of the launch, in reverse order by default. */
static void emulate(const struct function *fn, unsigned grid, unsigned block,
                    void **params) {
  void *a[MAX_ARGS] = {0};
  const char *order = getenv("MOCK_CUDA_ORDER");
  int forward = order && strcmp(order, "forward") == 0;
  unsigned i, b, t;
  for (i = 0; i < (unsigned)fn->params; ++i)
    a[i] = (void *)(size_t) * (CUdeviceptr *)params[i];
  for (i = 0; i < grid; ++i)
    for (t = 0; t < block; ++t) {
      b = forward ? i : grid - 1 - i;
      SetIds(b, forward ? t : block - 1 - t);
      fn->fn(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9],
             a[10], a[11], a[12], a[13], a[14], a[15], a[16], a[17], a[18],
             a[19], a[20], a[21], a[22], a[23], a[24], a[25], a[26], a[27],
             a[28], a[29], a[30], a[31], a[32], a[33], a[34], a[35], a[36],
             a[37], a[38], a[39], a[40], a[41], a[42], a[43], a[44], a[45],
             a[46], a[47], a[48], a[49], a[50], a[51], a[52], a[53], a[54],
             a[55], a[56], a[57], a[58], a[59], a[60], a[61], a[62], a[63]);
    }
}

CUresult cuLaunchKernel(void *f, unsigned gx, unsigned gy, unsigned gz,
                        unsigned bx, unsigned by, unsigned bz, unsigned shmem,
                        void *stream, void **params, void **extra) {
  const struct function *fn = f;
  int i;
  if (fn < Funcs || fn >= Funcs + NumFuncs || gy != 1 || gz != 1 ||
      by != 1 || bz != 1 || shmem || stream || extra || gx == 0 || bx == 0 ||
      bx > 1024 || (fn->params > 0 && !params)) {
    say("error bad launch %u %u\n", gx, bx);
    return 1;
  }
  for (i = 0; i < fn->params; ++i)
    if (!inAlloc(*(CUdeviceptr *)params[i], 1)) {
      say("error argument %d of %s outside an allocation\n", i, fn->name);
      return 1;
    }
  say("launch %s %u %u %d\n", fn->name, gx, bx, fn->params);
  if (fn->fn)
    emulate(fn, gx, bx, params);
  return 0;
}

CUresult cuCtxSynchronize(void) {
  say("sync\n");
  return 0;
}
