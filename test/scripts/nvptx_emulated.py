#!/usr/bin/python3
"""The reference models through the whole nvptx path, numbers checked,
without a GPU: for each model the device code (the optimized NVPTX module
that becomes the PTX) is recompiled for the host, and `tidalc run --target
nvptx --compare` runs with the stand-in driver that executes each launch
block by block and thread by thread, in reverse order (nvptx_emulation.py,
mock_libcuda.c). A match within rtol 1e-3 / atol 1e-4 of PyTorch's output
checks the GPU schedule (including that the iterations it runs as threads
are independent), the launches, the bindings and the runtime; the PTX is
checked by ptx_assembles.py, the GPU itself by nothing here.

    nvptx_emulated.py [--names a,b] [--clang PATH] [--work DIR]
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tidal_test as tt  # noqa: E402
import nvptx_emulation as emu  # noqa: E402


def parse_args():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    tt.add_common_args(p, target=False)
    p.add_argument("--shared-dir", default=tt.SHARED)
    p.add_argument("--models-dir", default=tt.DEFAULT_MODELS_DIR)
    p.add_argument("--names", default=",".join(tt.REFERENCE_MODELS))
    p.add_argument("--work", default=None)
    p.add_argument("--clang", default="/usr/lib/llvm-19/bin/clang",
                   help="the clang of the LLVM tidalc uses")
    return p.parse_args()


def check(args, name, work, mock):
    case = os.path.join(args.models_dir, name)
    kernels = emu.device_library(args.tidalc, args.clang,
                                 os.path.join(case, "model.onnx"), work, name)
    log = os.path.join(work, name + ".log")
    r = tt.run([args.tidalc, "run", os.path.join(case, "model.onnx"), "--inputs",
                os.path.join(case, "test_data_set_0"), "--compare", "--target", "nvptx",
                "--repeat", "1"], timeout=1800, env=emu.mock_env(mock, kernels, log))
    calls = emu.read_log(log)
    errors = [" ".join(c) for c in calls if c[0] == "error"]
    launches = sum(1 for c in calls if c[0] == "launch") // 2
    ok = r.rc == tt.EXIT_OK and not errors
    print("%-4s %s (exit %s, %d launches per run)" % ("ok" if ok else "FAIL", name, r.rc,
                                                       launches))
    for line in (r.out + r.err).splitlines() + errors:
        if not line.startswith("latency:"):  # the host's time, meaningless
            print("     " + tt.scrub(line))
    sys.stdout.flush()
    return ok


def main():
    args = parse_args()
    if not os.access(args.clang, os.X_OK):
        print("SKIPPED: no clang at %s to build the emulated kernels" % args.clang)
        return
    tt.export_models(args.shared_dir, args.models_dir)
    work = tt.work_dir(args.work, "nvptx-emulated")
    mock = emu.build_mock(work)
    names = args.names.split(",")
    failed = [n for n in names if not check(args, n, work, mock)]
    print("nvptx (emulated): %d of %d models match" % (len(names) - len(failed), len(names)))
    if failed:
        tt.fail("failed: " + ", ".join(failed))


if __name__ == "__main__":
    main()
