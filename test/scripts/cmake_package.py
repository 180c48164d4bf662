#!/usr/bin/python3
"""The installed CMake package: `cmake --install` of this build into a
fresh prefix, then a CMake project outside the repository that finds it
(find_package(Tidal) with CMAKE_PREFIX_PATH) and links two models into one
program with tidal_add_model:

    tidal_add_model(TARGET classifier MODEL classifier.onnx OPTIONS --weights external)
    tidal_add_model(TARGET affine MODEL affine.onnx OPTIONS -O3)
    target_link_libraries(app PRIVATE classifier affine)

classifier is examples/classifier.onnx with its weights in classifier.bin,
which the program reads from the target's TIDAL_WEIGHTS_FILE and returns
from classifier_load_weights; its printed probabilities must match
examples/expected_output.txt within 2e-5. affine computes y = 2 x + 1 on
5 numbers, run on a thread pool of the installed tidalrt.h and checked by
the program. Then touching affine.onnx
must rebuild affine's object and the program and not classifier's object
(the depfile, through the custom command's DEPFILE), and a removed
classifier.bin must be made again (an output of the command).

Last, examples/firmware's image is built by a CMake project for Cortex-A53
without an operating system (tidal_add_model(... TARGET_ARCH cortex-a53
BAREMETAL), aarch64-linux-gnu-gcc, -nostdlib, firmware.ld) and must print
examples/expected_output.txt under qemu.

    cmake_package.py --build-dir build [--work DIR]
"""
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import example  # noqa: E402
import tidal_test as tt  # noqa: E402

PROJECT = r"""cmake_minimum_required(VERSION 3.20)
project(TwoModels C)
find_package(Tidal REQUIRED)
tidal_add_model(TARGET classifier MODEL ${CMAKE_SOURCE_DIR}/classifier.onnx
                OPTIONS --weights external)
tidal_add_model(TARGET affine MODEL ${CMAKE_SOURCE_DIR}/affine.onnx OPTIONS -O3)
add_executable(app main.c)
target_link_libraries(app PRIVATE classifier affine)
target_compile_definitions(app PRIVATE
    "CLASSIFIER_BIN=\"$<TARGET_PROPERTY:classifier,TIDAL_WEIGHTS_FILE>\"")
"""

MAIN = r"""#include "affine.h"
#include "classifier.h"
#include "tidalrt.h"
#include <stdio.h>
#include <stdlib.h>

static void *weights; /* classifier.bin, as a firmware would load it */
const void *classifier_load_weights(void) { return weights; }

static int load_weights(void) {
  size_t rounded = (CLASSIFIER_WEIGHTS_SIZE + CLASSIFIER_WEIGHTS_ALIGN - 1) /
                   CLASSIFIER_WEIGHTS_ALIGN * CLASSIFIER_WEIGHTS_ALIGN;
  FILE *f = fopen(CLASSIFIER_BIN, "rb");
  weights = aligned_alloc(CLASSIFIER_WEIGHTS_ALIGN, rounded);
  int ok = f && weights &&
           fread(weights, 1, CLASSIFIER_WEIGHTS_SIZE, f) == CLASSIFIER_WEIGHTS_SIZE;
  if (f)
    fclose(f);
  return ok;
}

static float image[CLASSIFIER_INPUT0_NUM_ELEMENTS];
static float probs[CLASSIFIER_OUTPUT0_NUM_ELEMENTS];
static _Alignas(CLASSIFIER_WORKSPACE_ALIGN) unsigned char
    ws1[CLASSIFIER_WORKSPACE_SIZE > 0 ? CLASSIFIER_WORKSPACE_SIZE : 1];
static _Alignas(AFFINE_WORKSPACE_ALIGN) unsigned char
    ws2[AFFINE_WORKSPACE_SIZE > 0 ? AFFINE_WORKSPACE_SIZE : 1];

int main(void) {
  for (int i = 0; i < CLASSIFIER_INPUT0_NUM_ELEMENTS; ++i)
    image[i] = (float)((i * 37) % 17) / 16.0f - 0.5f;
  const void *const in1[] = {image};
  void *const out1[] = {probs};
  if (!load_weights() || classifier_run(in1, out1, ws1) != 0)
    return 1;
  int best = 0;
  for (int k = 0; k < CLASSIFIER_OUTPUT0_NUM_ELEMENTS; ++k) {
    printf("class %d: %.6f\n", k, probs[k]);
    if (probs[k] > probs[best])
      best = k;
  }
  printf("predicted class: %d\n", best);
  float x[AFFINE_INPUT0_NUM_ELEMENTS], y[AFFINE_OUTPUT0_NUM_ELEMENTS];
  for (int i = 0; i < AFFINE_INPUT0_NUM_ELEMENTS; ++i)
    x[i] = (float)i - 2.0f;
  const void *const in2[] = {x};
  void *const out2[] = {y};
  /* The installed tidalrt.h: the affine model on a pool of two threads. */
  static void *pool_memory[4096];
  struct tidal_pool *pool =
      tidal_pool_create(pool_memory, sizeof pool_memory, 2);
  if (!pool || tidal_pool_size(2) > sizeof pool_memory ||
      affine_run_threaded(pool, in2, out2, ws2) != 0)
    return 1;
  tidal_pool_destroy(pool);
  for (int i = 0; i < AFFINE_OUTPUT0_NUM_ELEMENTS; ++i)
    if (y[i] != 2.0f * x[i] + 1.0f) {
      printf("affine: y[%d] = %g, want %g\n", i, y[i], 2.0f * x[i] + 1.0f);
      return 1;
    }
  printf("affine ok\n");
  return 0;
}
"""


# examples/firmware's image, built by CMake: the model through
# tidal_add_model with the bare-metal runtime, no C library, firmware.ld.
FIRMWARE_PROJECT = r"""cmake_minimum_required(VERSION 3.20)
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
project(Firmware C)
find_package(Tidal REQUIRED)
tidal_add_model(TARGET classifier MODEL ${CMAKE_SOURCE_DIR}/classifier.onnx
                TARGET_ARCH cortex-a53 BAREMETAL)
add_executable(firmware main.c board.c)
target_compile_options(firmware PRIVATE -std=c11 -O2 -ffreestanding -mcpu=cortex-a53)
target_link_options(firmware PRIVATE -nostdlib -static -T ${CMAKE_SOURCE_DIR}/firmware.ld)
target_link_libraries(firmware PRIVATE classifier)
"""


def check_firmware(prefix, work):
    """examples/firmware built with CMake for Cortex-A53 without an
    operating system (tidal_add_model ... BAREMETAL): it runs under qemu
    and prints examples/expected_output.txt."""
    if not shutil.which("aarch64-linux-gnu-gcc") or not shutil.which("qemu-aarch64"):
        tt.skip_part("the bare-metal CMake build needs aarch64-linux-gnu-gcc and qemu-aarch64")
        return
    proj = tt.fresh_dir(os.path.join(work, "firmware"))
    firmware = os.path.join(tt.REPO, "examples", "firmware")
    for f in ("main.c", "board.c", "board.h", "firmware.ld"):
        shutil.copy(os.path.join(firmware, f), proj)
    shutil.copy(tt.EXAMPLE_MODEL, os.path.join(proj, "classifier.onnx"))
    tt.write_text(os.path.join(proj, "CMakeLists.txt"), FIRMWARE_PROJECT)
    build = os.path.join(proj, "build")
    cmake("-S", proj, "-B", build, "-DCMAKE_PREFIX_PATH=" + prefix)
    cmake("--build", build)
    r = tt.run(["qemu-aarch64", "-cpu", "cortex-a53", os.path.join(build, "firmware")],
               timeout=60)
    if r.rc != 0:
        tt.fail("the bare-metal image built by CMake failed (exit %s):\n%s%s"
                % (r.rc, r.out, r.err))
    example.check(r.out)
    print("cmake package: examples/firmware built with tidal_add_model(... BAREMETAL) "
          "runs under qemu")


def affine_model(path):
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    g = helper.make_graph(
        [helper.make_node("Mul", ["x", "two"], ["t"]), helper.make_node("Add", ["t", "one"], ["y"])],
        "affine", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [5])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [5])],
        [numpy_helper.from_array(np.array(2, np.float32), "two"),
         numpy_helper.from_array(np.array(1, np.float32), "one")])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), path)


def cmake(*args):
    r = tt.run(["cmake"] + list(args), timeout=900)
    if r.rc != 0:
        tt.fail("cmake %s failed (exit %s):\n%s%s" % (" ".join(args), r.rc, r.out, r.err))
    return r


def main():
    p = tt.parser(__doc__)
    tt.add_common_args(p, target=False, work=True)
    p.add_argument("--build-dir", required=True, help="the configured build to install")
    args = p.parse_args()
    if not shutil.which("cmake") or not shutil.which("cc"):
        tt.skip("cmake or cc is not installed")
    work = tt.work_dir(args.work, "cmake-package")
    prefix, proj = os.path.join(work, "prefix"), os.path.join(work, "project")
    for d in (prefix, proj):
        shutil.rmtree(d, ignore_errors=True)
    cmake("--install", args.build_dir, "--prefix", prefix)
    os.makedirs(proj)
    shutil.copy(tt.EXAMPLE_MODEL, os.path.join(proj, "classifier.onnx"))
    affine_model(os.path.join(proj, "affine.onnx"))
    tt.write_text(os.path.join(proj, "CMakeLists.txt"), PROJECT)
    tt.write_text(os.path.join(proj, "main.c"), MAIN)
    build = os.path.join(proj, "build")
    cmake("-S", proj, "-B", build, "-DCMAKE_PREFIX_PATH=" + prefix, "-DCMAKE_BUILD_TYPE=Release")
    cmake("--build", build)
    r = tt.run([os.path.join(build, "app")], timeout=60)
    if r.rc != 0 or "affine ok" not in r.out:
        tt.fail("the program of two models failed (exit %s):\n%s%s" % (r.rc, r.out, r.err))
    example.check(r.out)
    objs = {n: os.path.join(build, "tidal", n, n + ".o") for n in ("classifier", "affine")}
    before = {n: os.stat(o).st_mtime_ns for n, o in objs.items()}
    t = os.stat(os.path.join(proj, "affine.onnx")).st_mtime + 60
    os.utime(os.path.join(proj, "affine.onnx"), (t, t))
    cmake("--build", build)
    after = {n: os.stat(o).st_mtime_ns for n, o in objs.items()}
    if after["affine"] == before["affine"] or after["classifier"] != before["classifier"]:
        tt.fail("touching affine.onnx: affine.o %s, classifier.o %s (want rebuilt, kept)"
                % ("rebuilt" if after["affine"] != before["affine"] else "kept",
                   "rebuilt" if after["classifier"] != before["classifier"] else "kept"))
    weights = os.path.join(build, "tidal", "classifier", "classifier.bin")
    os.remove(weights)
    cmake("--build", build)
    if not os.path.exists(weights):
        tt.fail("removing classifier.bin: the build did not make it again")
    print("cmake package: two models in one program after cmake --install, one with "
          "external weights; touching one model rebuilt only it; a removed .bin is rebuilt")
    check_firmware(prefix, work)
    tt.end_skipped_parts()


if __name__ == "__main__":
    main()
