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
 * The descriptor holds no pointer: every reference (to the PTX, the
 * weights, a table, an entry name) is a tidal_cuda_offset, the signed
 * distance in bytes from the address of the struct that holds the field to
 * what it designates (0: nothing, e.g. an empty table). Offsets need no
 * relocation at load time, so the descriptor is read-only data (.rodata)
 * in a position-independent object and the firmware contract of
 * docs/abi.md holds: no writable section. Read them with
 * TIDAL_CUDA_FIELD.
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

/* 2: self-relative offsets instead of pointers. */
#define TIDAL_CUDA_ABI_VERSION 2

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

/* A reference inside the descriptor: bytes from the address of the struct
 * holding the field (not from the field) to the data it designates; 0
 * designates nothing. Generated code writes the difference of two
 * addresses, which the static linker resolves (a PC-relative relocation),
 * so nothing is left for the loader to write. */
typedef int64_t tidal_cuda_offset;

/* The address that offset designates, counted from holder (the address of
 * the struct that holds the field), or NULL for 0. TIDAL_CUDA_FIELD(p, f)
 * resolves the field f of *p, e.g. TIDAL_CUDA_FIELD(model, launches). */
static inline const void *tidal_cuda_resolve(const void *holder,
                                             tidal_cuda_offset offset) {
  return offset ? (const void *)((const char *)holder + offset) : 0;
}
#define TIDAL_CUDA_FIELD(holder, f) tidal_cuda_resolve((holder), (holder)->f)

typedef struct tidal_cuda_arg {
  uint32_t kind;   /* TIDAL_CUDA_ARG_* */
  uint32_t index;  /* input / output number */
  uint64_t offset; /* bytes, for weights and workspace (not a reference) */
} tidal_cuda_arg;

/* One kernel launch: grid x 1 x 1 blocks of block x 1 x 1 threads. The
 * offsets are from this element's own address in the launches table. */
typedef struct tidal_cuda_launch {
  tidal_cuda_offset entry; /* the PTX entry's name, NUL-terminated */
  uint32_t grid;
  uint32_t block;
  uint32_t num_args;
  uint32_t reserved; /* 0 */
  tidal_cuda_offset args; /* num_args tidal_cuda_arg */
} tidal_cuda_launch;

/* The model. The offsets are from the address of this struct. */
typedef struct tidal_cuda_model {
  uint32_t abi_version; /* TIDAL_CUDA_ABI_VERSION */
  uint32_t num_inputs;
  uint32_t num_outputs;
  uint32_t num_launches;
  tidal_cuda_offset ptx;     /* NUL-terminated PTX text */
  tidal_cuda_offset weights; /* weights_size bytes */
  uint64_t weights_size;
  uint64_t workspace_size; /* bytes of the device workspace */
  tidal_cuda_offset input_sizes;  /* uint64_t bytes of each input */
  tidal_cuda_offset output_sizes; /* uint64_t bytes of each output */
  tidal_cuda_offset launches;     /* num_launches tidal_cuda_launch */
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
