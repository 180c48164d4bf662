/* tidal_cuda.h - the GPU launcher of models compiled with --target nvptx.
 *
 * A model compiled for nvptx is a host (x86-64) object whose <name>_run
 * calls tidal_cuda_run with a constant descriptor: the model's PTX text,
 * its weights, and the list of kernel launches with, for every argument,
 * where its buffer lives. The launcher (runtime/src/tidal_cuda.c, in the
 * host libtidalrt.a) loads the CUDA driver, libcuda.so.1, with dlopen at
 * the first call, so nothing here needs CUDA at build or link time, and
 * keeps per model (keyed by the descriptor's address) the loaded module,
 * the weights on the device and the device buffers, so weights are copied
 * once and stay resident across runs. Every run copies the inputs to the
 * device, launches the kernels in order on the default stream, waits, and
 * copies the outputs back. Runs of one model are serialized by a lock.
 *
 * Generated code depends on this layout: a change must bump
 * TIDAL_CUDA_ABI_VERSION (and codegen/NVPTXHost.cpp with it).
 */
#ifndef TIDAL_CUDA_H
#define TIDAL_CUDA_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TIDAL_CUDA_ABI_VERSION 1

/* Return values of tidal_cuda_run and of <name>_run for nvptx models.
 * The same list is written into every nvptx model header. */
#define TIDAL_CUDA_OK                  0
#define TIDAL_CUDA_ERROR_NO_DRIVER   (-1) /* no libcuda.so.1, or it lacks a function */
#define TIDAL_CUDA_ERROR_NO_DEVICE   (-2) /* cuInit failed, or no (such) GPU */
#define TIDAL_CUDA_ERROR_PTX         (-3) /* the driver rejected the PTX */
#define TIDAL_CUDA_ERROR_LAUNCH      (-4) /* a launch or a kernel failed */
#define TIDAL_CUDA_ERROR_MEMORY      (-5) /* out of device or host memory */
#define TIDAL_CUDA_ERROR_COPY        (-6) /* a host <-> device copy failed */
#define TIDAL_CUDA_ERROR_DESCRIPTOR  (-7) /* the object and the runtime differ */

/* Where a kernel argument lives. */
enum {
  TIDAL_CUDA_ARG_INPUT = 0,     /* index-th input of the model */
  TIDAL_CUDA_ARG_OUTPUT = 1,    /* index-th output of the model */
  TIDAL_CUDA_ARG_WEIGHTS = 2,   /* offset bytes into the weights */
  TIDAL_CUDA_ARG_WORKSPACE = 3  /* offset bytes into the device workspace */
};

typedef struct tidal_cuda_arg {
  uint32_t kind;   /* TIDAL_CUDA_ARG_* */
  uint32_t index;  /* input / output number */
  uint64_t offset; /* bytes, for weights and workspace */
} tidal_cuda_arg;

/* One kernel launch: grid x 1 x 1 blocks of block x 1 x 1 threads. */
typedef struct tidal_cuda_launch {
  const char *entry; /* the PTX entry's name */
  uint32_t grid;
  uint32_t block;
  uint32_t num_args;
  uint32_t reserved; /* 0 */
  const tidal_cuda_arg *args;
} tidal_cuda_launch;

typedef struct tidal_cuda_model {
  uint32_t abi_version; /* TIDAL_CUDA_ABI_VERSION */
  uint32_t num_inputs;
  uint32_t num_outputs;
  uint32_t num_launches;
  const char *ptx; /* NUL-terminated PTX text */
  const void *weights;
  uint64_t weights_size;
  uint64_t workspace_size; /* bytes of the device workspace */
  const uint64_t *input_sizes;  /* bytes of each input */
  const uint64_t *output_sizes; /* bytes of each output */
  const tidal_cuda_launch *launches;
} tidal_cuda_model;

/* Runs the model on the GPU (device TIDAL_CUDA_DEVICE from the environment,
 * default 0). The host workspace is not used: the workspace lives on the
 * device. Returns TIDAL_CUDA_OK or a TIDAL_CUDA_ERROR_* code; it never
 * prints. Thread-safe. */
int tidal_cuda_run(const tidal_cuda_model *model, const void *const inputs[],
                   void *const outputs[], void *workspace);

/* A sentence describing a return value of tidal_cuda_run. */
const char *tidal_cuda_error_string(int code);

/* The CUresult of the last driver call that failed (0 if none), for
 * diagnostics, e.g. 222 CUDA_ERROR_UNSUPPORTED_PTX_VERSION. */
int tidal_cuda_last_driver_error(void);

#ifdef __cplusplus
}
#endif

#endif /* TIDAL_CUDA_H */
