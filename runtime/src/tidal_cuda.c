/* tidal_cuda.c - the GPU launcher of models compiled with --target nvptx.
 *
 * Hosted builds only (dlopen, pthreads, malloc). See tidal_cuda.h for the
 * contract. The CUDA driver is loaded with dlopen("libcuda.so.1") at the
 * first run and its functions looked up by their ABI names (the _v2 ones
 * where cuda.h maps the API name to a _v2 symbol); the few driver types are
 * declared here, so building needs no CUDA headers and linking no CUDA
 * library. The primary context of the device is used (cuCtxCreate changed
 * its signature in CUDA 13; the primary context API did not).
 *
 * Per model (keyed by the descriptor's address) a small list keeps: the
 * loaded module and its functions, the weights (copied once), the device
 * workspace, one device buffer per input and output, and the argument
 * arrays of every launch, which never change because the buffers do not.
 * A model that fails to load is not kept: the next run tries again.
 * The runtime never prints; every failure is a return code.
 */
#define _POSIX_C_SOURCE 200809L

#include "tidal_cuda.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* The layout generated code relies on (codegen/NVPTXHost.cpp): a wrong
 * offset fails the build here (C99 has no _Static_assert). The references
 * inside the descriptor are self-relative offsets (tidal_cuda.h), read
 * with TIDAL_CUDA_FIELD, never pointers. */
#define TIDAL_CHECK_OFFSET(T, F, N) \
  typedef char tidal_check_##T##_##F[offsetof(T, F) == (N) ? 1 : -1]
TIDAL_CHECK_OFFSET(tidal_cuda_arg, offset, 8);
TIDAL_CHECK_OFFSET(tidal_cuda_launch, grid, 8);
TIDAL_CHECK_OFFSET(tidal_cuda_launch, num_args, 16);
TIDAL_CHECK_OFFSET(tidal_cuda_launch, args, 24);
TIDAL_CHECK_OFFSET(tidal_cuda_launch, reserved, 20);
TIDAL_CHECK_OFFSET(tidal_cuda_model, ptx, 16);
TIDAL_CHECK_OFFSET(tidal_cuda_model, weights_size, 32);
TIDAL_CHECK_OFFSET(tidal_cuda_model, input_sizes, 48);
TIDAL_CHECK_OFFSET(tidal_cuda_model, launches, 64);

/* The driver API types used here (cuda.h). */
typedef int CUresult;
typedef int CUdevice;
typedef unsigned long long CUdeviceptr;
typedef struct CUctx_st *CUcontext;
typedef struct CUmod_st *CUmodule;
typedef struct CUfunc_st *CUfunction;
typedef struct CUstream_st *CUstream;
#define CUDA_SUCCESS 0
#define CUDA_ERROR_OUT_OF_MEMORY 2

struct driver {
  CUresult (*init)(unsigned int);
  CUresult (*deviceGetCount)(int *);
  CUresult (*deviceGet)(CUdevice *, int);
  CUresult (*primaryCtxRetain)(CUcontext *, CUdevice);
  CUresult (*ctxSetCurrent)(CUcontext);
  CUresult (*moduleLoadData)(CUmodule *, const void *);
  CUresult (*moduleUnload)(CUmodule);
  CUresult (*moduleGetFunction)(CUfunction *, CUmodule, const char *);
  CUresult (*memAlloc)(CUdeviceptr *, size_t);
  CUresult (*memFree)(CUdeviceptr);
  CUresult (*memcpyHtoD)(CUdeviceptr, const void *, size_t);
  CUresult (*memcpyDtoH)(void *, CUdeviceptr, size_t);
  CUresult (*launchKernel)(CUfunction, unsigned int, unsigned int,
                           unsigned int, unsigned int, unsigned int,
                           unsigned int, unsigned int, CUstream, void **,
                           void **);
  CUresult (*ctxSynchronize)(void);
  CUcontext context;
  int status; /* TIDAL_CUDA_OK once loaded, else why not */
};

static struct driver Driver;
static pthread_once_t DriverOnce = PTHREAD_ONCE_INIT;
static int LastDriverError;

static void noteDriverError(CUresult r) {
  __atomic_store_n(&LastDriverError, (int)r, __ATOMIC_RELAXED);
}

int tidal_cuda_last_driver_error(void) {
  return __atomic_load_n(&LastDriverError, __ATOMIC_RELAXED);
}

/* Looks up Name in Lib into *Slot (a function pointer); 0 if missing. */
static int resolve(void *lib, const char *name, void *slot) {
  void *sym = dlsym(lib, name);
  if (!sym)
    return 0;
  /* POSIX guarantees that a function pointer survives this round trip. */
  memcpy(slot, &sym, sizeof sym);
  return 1;
}

static int resolveAll(void *lib) {
  struct driver *d = &Driver;
  return resolve(lib, "cuInit", &d->init) &&
         resolve(lib, "cuDeviceGetCount", &d->deviceGetCount) &&
         resolve(lib, "cuDeviceGet", &d->deviceGet) &&
         resolve(lib, "cuDevicePrimaryCtxRetain", &d->primaryCtxRetain) &&
         resolve(lib, "cuCtxSetCurrent", &d->ctxSetCurrent) &&
         resolve(lib, "cuModuleLoadData", &d->moduleLoadData) &&
         resolve(lib, "cuModuleUnload", &d->moduleUnload) &&
         resolve(lib, "cuModuleGetFunction", &d->moduleGetFunction) &&
         resolve(lib, "cuMemAlloc_v2", &d->memAlloc) &&
         resolve(lib, "cuMemFree_v2", &d->memFree) &&
         resolve(lib, "cuMemcpyHtoD_v2", &d->memcpyHtoD) &&
         resolve(lib, "cuMemcpyDtoH_v2", &d->memcpyDtoH) &&
         resolve(lib, "cuLaunchKernel", &d->launchKernel) &&
         resolve(lib, "cuCtxSynchronize", &d->ctxSynchronize);
}

/* The device number from TIDAL_CUDA_DEVICE (default 0), or -1 if bad. */
static int deviceNumber(void) {
  const char *s = getenv("TIDAL_CUDA_DEVICE");
  char *end;
  long n;
  if (!s || !*s)
    return 0;
  n = strtol(s, &end, 10);
  return *end || n < 0 || n > 1024 ? -1 : (int)n;
}

static int startDevice(void) {
  struct driver *d = &Driver;
  int count = 0, number = deviceNumber();
  CUdevice dev;
  CUresult r = d->init(0);
  if (r == CUDA_SUCCESS)
    r = d->deviceGetCount(&count);
  if (r != CUDA_SUCCESS) {
    noteDriverError(r);
    return TIDAL_CUDA_ERROR_NO_DEVICE;
  }
  if (number < 0 || number >= count)
    return TIDAL_CUDA_ERROR_NO_DEVICE;
  r = d->deviceGet(&dev, number);
  if (r == CUDA_SUCCESS)
    r = d->primaryCtxRetain(&d->context, dev);
  if (r != CUDA_SUCCESS) {
    noteDriverError(r);
    return TIDAL_CUDA_ERROR_NO_DEVICE;
  }
  return TIDAL_CUDA_OK;
}

static void loadDriver(void) {
  /* RTLD_LOCAL: the driver's symbols stay out of the program's namespace.
   * The library is never closed: the driver outlives every model. */
  void *lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!lib || !resolveAll(lib)) {
    Driver.status = TIDAL_CUDA_ERROR_NO_DRIVER;
    return;
  }
  Driver.status = startDevice();
}

/* What a failed driver call means for the caller. */
static int fail(CUresult r, int code) {
  noteDriverError(r);
  return r == CUDA_ERROR_OUT_OF_MEMORY ? TIDAL_CUDA_ERROR_MEMORY : code;
}

/*===------------------------------------------------------------------===*
 * Per-model state
 *===------------------------------------------------------------------===*/

struct model {
  const tidal_cuda_model *desc;
  struct model *next;
  pthread_mutex_t lock; /* held during a run */
  CUmodule module;
  CUfunction *functions;   /* per launch */
  CUdeviceptr weights, workspace;
  CUdeviceptr *inputs, *outputs;
  CUdeviceptr *argValues;  /* every launch's arguments, in order */
  void **argPointers;      /* &argValues[i], as cuLaunchKernel wants them */
};

static struct model *Models;
static pthread_mutex_t ModelsLock = PTHREAD_MUTEX_INITIALIZER;

/* A device buffer of n bytes (at least one, so that it has an address). */
static int deviceAlloc(CUdeviceptr *p, uint64_t n) {
  CUresult r = Driver.memAlloc(p, n ? (size_t)n : 1);
  if (r != CUDA_SUCCESS) {
    *p = 0;
    return fail(r, TIDAL_CUDA_ERROR_MEMORY);
  }
  return TIDAL_CUDA_OK;
}

static void freeModel(struct model *m) {
  uint32_t i;
  if (m->inputs)
    for (i = 0; i < m->desc->num_inputs; ++i)
      if (m->inputs[i])
        Driver.memFree(m->inputs[i]);
  if (m->outputs)
    for (i = 0; i < m->desc->num_outputs; ++i)
      if (m->outputs[i])
        Driver.memFree(m->outputs[i]);
  if (m->weights)
    Driver.memFree(m->weights);
  if (m->workspace)
    Driver.memFree(m->workspace);
  if (m->module)
    Driver.moduleUnload(m->module);
  free(m->functions);
  free(m->inputs);
  free(m->outputs);
  free(m->argValues);
  free(m->argPointers);
  free(m);
}

static int allocBuffers(struct model *m) {
  const tidal_cuda_model *d = m->desc;
  const uint64_t *inputSizes = TIDAL_CUDA_FIELD(d, input_sizes);
  const uint64_t *outputSizes = TIDAL_CUDA_FIELD(d, output_sizes);
  uint32_t i;
  int rc;
  m->inputs = calloc(d->num_inputs + 1, sizeof *m->inputs);
  m->outputs = calloc(d->num_outputs + 1, sizeof *m->outputs);
  if (!m->inputs || !m->outputs)
    return TIDAL_CUDA_ERROR_MEMORY;
  for (i = 0; i < d->num_inputs; ++i)
    if ((rc = deviceAlloc(&m->inputs[i], inputSizes[i])) != 0)
      return rc;
  for (i = 0; i < d->num_outputs; ++i)
    if ((rc = deviceAlloc(&m->outputs[i], outputSizes[i])) != 0)
      return rc;
  if ((rc = deviceAlloc(&m->workspace, d->workspace_size)) != 0 ||
      (rc = deviceAlloc(&m->weights, d->weights_size)) != 0)
    return rc;
  if (d->weights_size) {
    CUresult r = Driver.memcpyHtoD(m->weights, TIDAL_CUDA_FIELD(d, weights),
                                   (size_t)d->weights_size);
    if (r != CUDA_SUCCESS)
      return fail(r, TIDAL_CUDA_ERROR_COPY);
  }
  return TIDAL_CUDA_OK;
}

/* The device address of one argument; 0 for a bad descriptor. */
static CUdeviceptr argAddress(const struct model *m, const tidal_cuda_arg *a) {
  const tidal_cuda_model *d = m->desc;
  switch (a->kind) {
  case TIDAL_CUDA_ARG_INPUT:
    return a->index < d->num_inputs ? m->inputs[a->index] : 0;
  case TIDAL_CUDA_ARG_OUTPUT:
    return a->index < d->num_outputs ? m->outputs[a->index] : 0;
  case TIDAL_CUDA_ARG_WEIGHTS:
    return a->offset <= d->weights_size ? m->weights + a->offset : 0;
  case TIDAL_CUDA_ARG_WORKSPACE:
    return a->offset <= d->workspace_size ? m->workspace + a->offset : 0;
  }
  return 0;
}

static int prepareLaunches(struct model *m) {
  const tidal_cuda_model *d = m->desc;
  const tidal_cuda_launch *launches = TIDAL_CUDA_FIELD(d, launches);
  size_t total = 0, k = 0;
  uint32_t i, j;
  for (i = 0; i < d->num_launches; ++i)
    total += launches[i].num_args;
  m->functions = calloc(d->num_launches + 1, sizeof *m->functions);
  m->argValues = calloc(total + 1, sizeof *m->argValues);
  m->argPointers = calloc(total + 1, sizeof *m->argPointers);
  if (!m->functions || !m->argValues || !m->argPointers)
    return TIDAL_CUDA_ERROR_MEMORY;
  for (i = 0; i < d->num_launches; ++i) {
    const tidal_cuda_launch *l = &launches[i];
    const tidal_cuda_arg *args = TIDAL_CUDA_FIELD(l, args);
    CUresult r = Driver.moduleGetFunction(&m->functions[i], m->module,
                                          TIDAL_CUDA_FIELD(l, entry));
    if (r != CUDA_SUCCESS)
      return fail(r, TIDAL_CUDA_ERROR_PTX);
    for (j = 0; j < l->num_args; ++j, ++k) {
      m->argValues[k] = argAddress(m, &args[j]);
      if (!m->argValues[k])
        return TIDAL_CUDA_ERROR_DESCRIPTOR;
      m->argPointers[k] = &m->argValues[k];
    }
  }
  return TIDAL_CUDA_OK;
}

static int loadModel(const tidal_cuda_model *d, struct model **out) {
  struct model *m = calloc(1, sizeof *m);
  CUresult r;
  int rc;
  if (!m)
    return TIDAL_CUDA_ERROR_MEMORY;
  m->desc = d;
  if (pthread_mutex_init(&m->lock, NULL) != 0) {
    free(m);
    return TIDAL_CUDA_ERROR_MEMORY;
  }
  /* A model without launches (its outputs are constants or empty) needs
   * no module. */
  r = d->num_launches
          ? Driver.moduleLoadData(&m->module, TIDAL_CUDA_FIELD(d, ptx))
          : CUDA_SUCCESS;
  if (r != CUDA_SUCCESS) {
    m->module = NULL;
    rc = fail(r, TIDAL_CUDA_ERROR_PTX);
  } else if ((rc = allocBuffers(m)) == TIDAL_CUDA_OK) {
    rc = prepareLaunches(m);
  }
  if (rc != TIDAL_CUDA_OK) {
    pthread_mutex_destroy(&m->lock);
    freeModel(m);
    return rc;
  }
  *out = m;
  return TIDAL_CUDA_OK;
}

/* The state of the model d, loaded on first use. */
static int findModel(const tidal_cuda_model *d, struct model **out) {
  struct model *m;
  int rc = TIDAL_CUDA_OK;
  pthread_mutex_lock(&ModelsLock);
  for (m = Models; m && m->desc != d; m = m->next)
    ;
  if (!m) {
    CUresult r = Driver.ctxSetCurrent(Driver.context);
    rc = r != CUDA_SUCCESS ? fail(r, TIDAL_CUDA_ERROR_NO_DEVICE)
                           : loadModel(d, &m);
    if (rc == TIDAL_CUDA_OK) {
      m->next = Models;
      Models = m;
    }
  }
  pthread_mutex_unlock(&ModelsLock);
  *out = m;
  return rc;
}

/*===------------------------------------------------------------------===*
 * Running
 *===------------------------------------------------------------------===*/

static int copyInputs(struct model *m, const void *const inputs[]) {
  const uint64_t *sizes = TIDAL_CUDA_FIELD(m->desc, input_sizes);
  uint32_t i;
  for (i = 0; i < m->desc->num_inputs; ++i) {
    size_t n = (size_t)sizes[i];
    CUresult r = n ? Driver.memcpyHtoD(m->inputs[i], inputs[i], n) : CUDA_SUCCESS;
    if (r != CUDA_SUCCESS)
      return fail(r, TIDAL_CUDA_ERROR_COPY);
  }
  return TIDAL_CUDA_OK;
}

static int launchAll(struct model *m) {
  const tidal_cuda_model *d = m->desc;
  const tidal_cuda_launch *launches = TIDAL_CUDA_FIELD(d, launches);
  size_t k = 0;
  uint32_t i;
  CUresult r;
  for (i = 0; i < d->num_launches; ++i) {
    const tidal_cuda_launch *l = &launches[i];
    r = Driver.launchKernel(m->functions[i], l->grid, 1, 1, l->block, 1, 1, 0,
                            NULL, &m->argPointers[k], NULL);
    if (r != CUDA_SUCCESS)
      return fail(r, TIDAL_CUDA_ERROR_LAUNCH);
    k += l->num_args;
  }
  /* Faults inside a kernel are reported here. */
  r = Driver.ctxSynchronize();
  return r == CUDA_SUCCESS ? TIDAL_CUDA_OK : fail(r, TIDAL_CUDA_ERROR_LAUNCH);
}

static int copyOutputs(struct model *m, void *const outputs[]) {
  const uint64_t *sizes = TIDAL_CUDA_FIELD(m->desc, output_sizes);
  uint32_t i;
  for (i = 0; i < m->desc->num_outputs; ++i) {
    size_t n = (size_t)sizes[i];
    CUresult r = n ? Driver.memcpyDtoH(outputs[i], m->outputs[i], n) : CUDA_SUCCESS;
    if (r != CUDA_SUCCESS)
      return fail(r, TIDAL_CUDA_ERROR_COPY);
  }
  return TIDAL_CUDA_OK;
}

static int runLocked(struct model *m, const void *const inputs[],
                     void *const outputs[]) {
  /* The current context belongs to the calling thread: set it each time. */
  CUresult r = Driver.ctxSetCurrent(Driver.context);
  int rc;
  if (r != CUDA_SUCCESS)
    return fail(r, TIDAL_CUDA_ERROR_NO_DEVICE);
  if ((rc = copyInputs(m, inputs)) != TIDAL_CUDA_OK ||
      (rc = launchAll(m)) != TIDAL_CUDA_OK)
    return rc;
  return copyOutputs(m, outputs);
}

int tidal_cuda_run(const tidal_cuda_model *model, const void *const inputs[],
                   void *const outputs[], void *workspace) {
  struct model *m;
  int rc;
  (void)workspace; /* the workspace lives on the device */
  if (!model || model->abi_version != TIDAL_CUDA_ABI_VERSION)
    return TIDAL_CUDA_ERROR_DESCRIPTOR;
  pthread_once(&DriverOnce, loadDriver);
  if (Driver.status != TIDAL_CUDA_OK)
    return Driver.status;
  if ((rc = findModel(model, &m)) != TIDAL_CUDA_OK)
    return rc;
  pthread_mutex_lock(&m->lock);
  rc = runLocked(m, inputs, outputs);
  pthread_mutex_unlock(&m->lock);
  return rc;
}

const char *tidal_cuda_error_string(int code) {
  switch (code) {
  case TIDAL_CUDA_OK:
    return "success";
  case TIDAL_CUDA_ERROR_NO_DRIVER:
    return "no CUDA driver: libcuda.so.1 cannot be loaded or lacks a function";
  case TIDAL_CUDA_ERROR_NO_DEVICE:
    return "no CUDA device: cuInit failed, no GPU is present, or "
           "TIDAL_CUDA_DEVICE names none";
  case TIDAL_CUDA_ERROR_PTX:
    return "the CUDA driver rejected the model's PTX";
  case TIDAL_CUDA_ERROR_LAUNCH:
    return "a kernel launch or a kernel failed on the GPU";
  case TIDAL_CUDA_ERROR_MEMORY:
    return "out of GPU or host memory";
  case TIDAL_CUDA_ERROR_COPY:
    return "a copy between host and GPU failed";
  case TIDAL_CUDA_ERROR_DESCRIPTOR:
    return "the model object does not match this runtime (rebuild it with "
           "the same tidalc)";
  }
  return "unknown error code";
}
