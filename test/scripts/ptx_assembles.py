#!/usr/bin/python3
"""The PTX of every reference model assembles with NVIDIA's ptxas for sm_80
and sm_90 (`tidalc compile --target nvptx --mcpu SM --emit ptx`, then
`ptxas -arch=SM`). Each PTX file must also name its own target, and the
sm_90 PTX of the first model must be refused for sm_80 (so --mcpu really
reaches the backend). Where ptxas is not installed the test says it is
skipped (exit 77, which ctest reports as skipped), and why: nothing
here needs a GPU.

    ptx_assembles.py [--ptxas /usr/local/cuda/bin/ptxas] [--names a,b]
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tidal_test as tt  # noqa: E402

ARCHS = ["sm_80", "sm_90"]


def parse_args():
    p = tt.parser(__doc__)
    tt.add_common_args(p, target=False, work=True)
    tt.add_models_args(p, names=",".join(tt.REFERENCE_MODELS), export=True)
    p.add_argument("--ptxas", default=tt.DEFAULT_PTXAS)
    return p.parse_args()


def emit_ptx(args, name, arch, work):
    """Compiles one model to PTX for arch; returns the file or fails."""
    out = os.path.join(work, "%s.%s.ptx" % (name, arch))
    model, _ = tt.reference(args.models_dir, name)
    tt.compile_model(args.tidalc, model, out, ["--target", "nvptx", "--mcpu", arch,
                                               "--emit", "ptx", "--header", out + ".h"],
                     timeout=900)
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
        tt.skip("ptxas not found at %s (install the CUDA toolkit or pass --ptxas); "
                "the PTX was not checked" % args.ptxas)
    tt.export_models(args.shared_dir, args.models_dir)
    work = tt.work_dir(args.work, "ptx-assembles")
    names = tt.model_names(args)
    failed = []
    for name in names:
        errors = []
        for arch in ARCHS:
            r = ptxas(args, emit_ptx(args, name, arch, work), arch)
            if r.rc != 0:
                errors.append("%s: ptxas exit %s\n%s" % (arch, r.rc, r.err.strip()))
        tt.print_outcome(not errors, name, "\n".join(errors).splitlines())
        if errors:
            failed.append(name)
    sm90 = os.path.join(work, "%s.sm_90.ptx" % names[0])
    if ptxas(args, sm90, "sm_80").rc == 0:
        tt.fail("the sm_90 PTX of %s assembles for sm_80: --mcpu did not reach "
                "the backend" % names[0])
    tt.finish("%d/%d models assemble for %s" % (len(names) - len(failed), len(names),
                                                " and ".join(ARCHS)), failed)


if __name__ == "__main__":
    main()
