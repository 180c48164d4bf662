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
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tidal_test as tt  # noqa: E402
import nvptx_emulation as emu  # noqa: E402


def parse_args():
    p = tt.parser(__doc__)
    tt.add_common_args(p, target=False, work=True)
    tt.add_models_args(p, names=",".join(tt.REFERENCE_MODELS), export=True)
    p.add_argument("--clang", default=tt.DEFAULT_CLANG,
                   help="the clang of the LLVM tidalc uses")
    return p.parse_args()


def check(args, name, work, mock):
    model, data = tt.reference(args.models_dir, name)
    kernels = emu.device_library(args.tidalc, args.clang, model, work, name)
    r, calls = emu.run_on_mock(args.tidalc, model, data, mock, kernels,
                               os.path.join(work, name + ".log"),
                               ["--compare", "--repeat", "1"], timeout=1800)
    errors = emu.driver_errors(calls)
    launches = sum(1 for c in calls if c[0] == "launch") // 2
    ok = r.rc == tt.EXIT_OK and not errors
    # The latency line is the host's time: meaningless here.
    lines = [l for l in (r.out + r.err).splitlines() if not l.startswith("latency:")]
    tt.print_outcome(ok, "%s (exit %s, %d launches per run)" % (name, r.rc, launches),
                     lines + errors)
    return ok


def main():
    args = parse_args()
    emu.skip_without_clang(args.clang)
    tt.export_models(args.shared_dir, args.models_dir)
    work = tt.work_dir(args.work, "nvptx-emulated")
    mock = emu.build_mock(work)
    names = tt.model_names(args)
    failed = [n for n in names if not check(args, n, work, mock)]
    tt.finish("nvptx (emulated): %d of %d models match" % (len(names) - len(failed), len(names)),
              failed)


if __name__ == "__main__":
    main()
