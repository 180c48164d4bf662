#!/usr/bin/python3
"""The PTX of every reference model assembles with NVIDIA's ptxas for sm_80
and sm_90 (`tidalc compile --target nvptx --mcpu SM --emit ptx`, then
`ptxas -arch=SM`). Each PTX file must also name its own target, and the
sm_90 PTX of the first model must be refused for sm_80 (so --mcpu really
reaches the backend). Where ptxas is not installed the test says it is
skipped, and why, and passes: nothing here needs a GPU.

    ptx_assembles.py [--ptxas /usr/local/cuda/bin/ptxas] [--names a,b]
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tidal_test as tt  # noqa: E402

ARCHS = ["sm_80", "sm_90"]


def parse_args():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    tt.add_common_args(p, target=False)
    p.add_argument("--ptxas", default="/usr/local/cuda/bin/ptxas")
    p.add_argument("--shared-dir", default=tt.SHARED)
    p.add_argument("--models-dir", default=tt.DEFAULT_MODELS_DIR)
    p.add_argument("--names", default=",".join(tt.REFERENCE_MODELS))
    p.add_argument("--work", default=None)
    return p.parse_args()


def emit_ptx(args, name, arch, work):
    """Compiles one model to PTX for arch; returns the file or fails."""
    out = os.path.join(work, "%s.%s.ptx" % (name, arch))
    model = os.path.join(args.models_dir, name, "model.onnx")
    r = tt.run([args.tidalc, "compile", model, "--target", "nvptx", "--mcpu", arch,
                "--emit", "ptx", "-o", out, "--header", out + ".h"], timeout=900)
    if r.rc != 0:
        tt.fail("%s: tidalc --emit ptx for %s failed (exit %s):\n%s"
                % (name, arch, r.rc, r.err))
    with open(out) as f:
        text = f.read()
    if ".target %s\n" % arch not in text or ".entry " not in text:
        tt.fail("%s: %s does not target %s or has no entry" % (name, out, arch))
    return out


def ptxas(args, ptx, arch):
    return tt.run([args.ptxas, "-arch=" + arch, ptx, "-o", ptx + "." + arch + ".cubin"],
                  timeout=900)


def main():
    args = parse_args()
    if not os.access(args.ptxas, os.X_OK):
        print("SKIPPED: ptxas not found at %s (install the CUDA toolkit or pass "
              "--ptxas); the PTX was not checked" % args.ptxas)
        return
    tt.export_models(args.shared_dir, args.models_dir)
    work = tt.work_dir(args.work, "ptx-assembles")
    names = args.names.split(",")
    good = 0
    for name in names:
        ok = True
        for arch in ARCHS:
            ptx = emit_ptx(args, name, arch, work)
            r = ptxas(args, ptx, arch)
            if r.rc != 0:
                ok = False
                print("FAIL %s %s: ptxas exit %s\n%s" % (name, arch, r.rc, r.err.strip()))
        print("%-4s %s" % ("ok" if ok else "FAIL", name))
        good += ok
    sm90 = os.path.join(work, "%s.sm_90.ptx" % names[0])
    if ptxas(args, sm90, "sm_80").rc == 0:
        tt.fail("the sm_90 PTX of %s assembles for sm_80: --mcpu did not reach "
                "the backend" % names[0])
    print("%d/%d models assemble for %s" % (good, len(names), " and ".join(ARCHS)))
    if good != len(names):
        tt.fail("some PTX does not assemble")


if __name__ == "__main__":
    main()
