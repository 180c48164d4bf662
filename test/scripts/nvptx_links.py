#!/usr/bin/python3
"""An nvptx model from a user's side, on a machine that may have no GPU.

ic_resnet8 is compiled for --target nvptx as `net`; the object must define
only net_run and need only tidal_cuda_run. A strict C99 program that knows
the model through net.h is linked with $(tidalc link-flags --target nvptx)
(the header must also compile as C++). It runs net_run twice on the test
input and writes the output. Then:

 1. With the machine's own driver: where libcuda.so.1 cannot be loaded,
    net_run must return TIDAL_CUDA_ERROR_NO_DRIVER (-1), and `tidalc run
    --target nvptx` must exit 3 saying so. With a driver but no GPU,
    TIDAL_CUDA_ERROR_NO_DEVICE (-2) is accepted. With a GPU, net_run must
    return 0 and the output must match PyTorch's (rtol 1e-3, atol 1e-4).
 2. With a stand-in driver that runs no kernel (mock_libcuda.c): net_run
    returns 0; the PTX is loaded once and the weights copied once over the
    two runs (they stay resident); every launch names an entry of the PTX
    with arguments inside device buffers; inputs go up and outputs come
    down on every run.
 3. With the stand-in driver running the device code on the host (kernels
    in reverse thread order, see nvptx_emulation.py): the output matches
    PyTorch's.

    nvptx_links.py [--models-dir build/models] [--work DIR] [--clang PATH]
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tidal_test as tt  # noqa: E402
import nvptx_emulation as emu  # noqa: E402

import numpy as np  # noqa: E402

NO_DRIVER, NO_DEVICE = -1, -2
MODEL = "ic_resnet8"

PROGRAM = r"""/* Uses only what net.h declares. */
#define _POSIX_C_SOURCE 200112L
#include "net.h"
#include <stdio.h>
#include <stdlib.h>

typedef char output_is_f32[NET_OUTPUT0_TYPE == TIDAL_TYPE_F32 ? 1 : -1];
typedef char nvptx_model[NET_TARGET_NVPTX == 1 ? 1 : -1];

int main(int argc, char **argv) {
  void *input = malloc(NET_INPUT0_SIZE);
  float *output = malloc(NET_OUTPUT0_SIZE);
  FILE *f;
  int rc, run;
  if (argc != 3 || !input || !output || !(f = fopen(argv[1], "rb")) ||
      fread(input, 1, NET_INPUT0_SIZE, f) != NET_INPUT0_SIZE) {
    fprintf(stderr, "usage: %s INPUT OUTPUT (input of %d bytes)\n", argv[0],
            (int)NET_INPUT0_SIZE);
    return 2;
  }
  fclose(f);
  for (run = 0; run < 2; ++run) {
    const void *const inputs[NET_NUM_INPUTS] = {input};
    void *const outputs[NET_NUM_OUTPUTS] = {output};
    /* The workspace lives on the GPU: NULL is allowed. */
    rc = net_run(inputs, outputs, NULL);
    printf("net_run %d: %d (%s; last driver error %d)\n", run, rc,
           tidal_cuda_error_string(rc), tidal_cuda_last_driver_error());
    if (rc != 0)
      return 0;
  }
  if (!(f = fopen(argv[2], "wb")) ||
      fwrite(output, 1, NET_OUTPUT0_SIZE, f) != NET_OUTPUT0_SIZE || fclose(f))
    return 2;
  return 0;
}
"""


def parse_args():
    p = tt.parser(__doc__)
    tt.add_common_args(p, target=False, work=True)
    tt.add_models_args(p, export=True)
    p.add_argument("--clang", default=tt.DEFAULT_CLANG,
                   help="the clang of the LLVM tidalc uses (for step 3)")
    return p.parse_args()


def build(args, work):
    """Compiles the model and links the program; returns its path."""
    obj = os.path.join(work, "net.o")
    model, _ = tt.reference(args.models_dir, MODEL)
    tt.compile_model(args.tidalc, model, obj, ["--target", "nvptx", "--name", "net"],
                     timeout=900)
    undefined = tt.symbols(obj, ["--undefined-only"])
    defined = tt.symbols(obj, ["--extern-only", "--defined-only"])
    if undefined != ["tidal_cuda_run"] or defined != ["net_run"]:
        tt.fail("net.o needs %s and defines %s; expected tidal_cuda_run and net_run"
                % (undefined, defined))
    src, exe = os.path.join(work, "main.c"), os.path.join(work, "program")
    tt.write_text(src, PROGRAM)
    flags = tt.link_flags(args.tidalc, "nvptx")
    tt.checked(["cc"] + tt.STRICT_C99 + ["-I", work, src, obj] + flags + ["-o", exe],
               "linking the program", timeout=300)
    tt.check_headers_compile_as_cxx(work, ["net.h"], "NET_NUM_INPUTS - 1")
    print("ok   %s compiled for nvptx and linked with $(tidalc link-flags "
          "--target nvptx): %s" % (MODEL, " ".join(flags)))
    return exe


def run_program(args, exe, work, env=None):
    """Runs the program on the test input; returns (return codes, output)."""
    _, data = tt.reference(args.models_dir, MODEL)
    tensor = tt.load_tensor(os.path.join(data, "input_0.pb"))
    raw_in, raw_out = os.path.join(work, "input.bin"), os.path.join(work, "output.bin")
    tensor.astype(np.float32).tofile(raw_in)
    if os.path.exists(raw_out):
        os.remove(raw_out)
    r = tt.run([exe, raw_in, raw_out], timeout=900, env=env)
    if r.rc != 0:
        tt.fail("the program failed (exit %s):\n%s%s" % (r.rc, r.out, r.err))
    codes = [int(l.split()[2].rstrip(":")) for l in r.out.splitlines()
             if l.startswith("net_run")]
    output = np.fromfile(raw_out, dtype=np.float32) if os.path.exists(raw_out) else None
    return codes, output, r.out.strip()


def check_numbers(args, output, label):
    _, data = tt.reference(args.models_dir, MODEL)
    want = tt.load_tensor(os.path.join(data, "output_0.pb")).astype(np.float32).ravel()
    if output is None or output.shape != want.shape:
        tt.fail("%s: no output of %d values" % (label, want.size))
    tt.expect_close(output, want, 1e-3, 1e-4, label)
    print("ok   %s: %d values match PyTorch (rtol 1e-3, atol 1e-4)" % (label, want.size))


def check_own_driver(args, exe, work):
    codes, output, text = run_program(args, exe, work)
    if not emu.has_cuda_driver():
        if codes != [NO_DRIVER]:
            tt.fail("without libcuda.so.1 net_run must return %d, got:\n%s" % (NO_DRIVER, text))
        print("ok   no libcuda.so.1 here: net_run returned %d (TIDAL_CUDA_ERROR_NO_DRIVER)"
              % NO_DRIVER)
        check_tidalc_run(args, "no CUDA driver")
    elif codes == [NO_DEVICE]:
        print("ok   a CUDA driver but no GPU here: net_run returned %d "
              "(TIDAL_CUDA_ERROR_NO_DEVICE)" % NO_DEVICE)
        check_tidalc_run(args, "no CUDA device")
    elif codes == [0, 0]:
        check_numbers(args, output, "on the GPU")
    else:
        tt.fail("net_run on this machine's driver:\n" + text)


def check_tidalc_run(args, why):
    model, data = tt.reference(args.models_dir, MODEL)
    r = tt.run([args.tidalc, "run", model, "--inputs", data, "--compare", "--target", "nvptx"],
               timeout=900)
    if r.rc != tt.EXIT_USAGE or why not in r.err:
        tt.fail("tidalc run --target nvptx should exit 3 with '%s', got exit %s:\n%s%s"
                % (why, r.rc, r.out, r.err))
    print("ok   tidalc run --target nvptx exits 3: %s"
          % [l for l in r.err.splitlines() if why in l][0].strip())


def check_mock(args, exe, work, mock):
    log = os.path.join(work, "mock.log")
    codes, _, text = run_program(args, exe, work, emu.mock_env(mock, log=log))
    if codes != [0, 0]:
        tt.fail("with the stand-in driver net_run must return 0 twice, got:\n" + text)
    calls = emu.read_log(log)
    errors = emu.driver_errors(calls)
    if errors:
        tt.fail("the stand-in driver found errors: " + "; ".join(errors))
    count = lambda kind: sum(1 for c in calls if c[0] == kind)  # noqa: E731
    header = open(os.path.join(work, "net.h")).read()
    weights = int(header.split("NET_WEIGHTS_SIZE")[1].split()[0].rstrip("LL"))
    htod = [int(c[1]) for c in calls if c[0] == "htod"]
    launches = count("launch")
    if count("load") != 1 or htod.count(weights) != 1 or launches == 0 or \
            launches % 2 or count("dtoh") != 2 or count("sync") != 2 or \
            len(htod) != 3:
        tt.fail("unexpected driver calls for two runs: %d loads, copies up %s "
                "(weights %d bytes), %d launches, %d copies down, %d syncs"
                % (count("load"), htod, weights, launches, count("dtoh"), count("sync")))
    print("ok   stand-in driver: PTX loaded once, %d bytes of weights copied once, "
          "%d launches per run, inputs up and outputs down each run"
          % (weights, launches // 2))


def check_emulated(args, exe, work, mock):
    if not os.access(args.clang, os.X_OK):
        tt.skip_part("emulated kernels: no clang at %s" % args.clang)
        return
    model, _ = tt.reference(args.models_dir, MODEL)
    kernels = emu.device_library(args.tidalc, args.clang, model, work, MODEL)
    log = os.path.join(work, "emulated.log")
    codes, output, text = run_program(args, exe, work, emu.mock_env(mock, kernels, log))
    errors = emu.driver_errors(emu.read_log(log))
    if codes != [0, 0] or errors:
        tt.fail("emulated run failed:\n%s\n%s" % (text, "; ".join(errors)))
    check_numbers(args, output, "device code emulated on the host")


def main():
    args = parse_args()
    tt.export_models(args.shared_dir, args.models_dir)
    work = tt.work_dir(args.work, "nvptx-links")
    exe = build(args, work)
    check_own_driver(args, exe, work)
    mock = emu.build_mock(work)
    check_mock(args, exe, work, mock)
    check_emulated(args, exe, work, mock)
    tt.end_skipped_parts()


if __name__ == "__main__":
    main()
