#!/usr/bin/python3
"""A compiled object keeps the firmware contract (ARCHITECTURE.md): the only
symbols it needs are the runtime's (tidal_*), memcpy and memset, and the
only global symbol it defines is <name>_run.

    nm_undefined.py [--models ic_resnet8,kws_dscnn] [--target T]
"""
import argparse
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tidal_test as tt  # noqa: E402

ALLOWED_UNDEFINED = re.compile(r"^(tidal_\w+|memcpy|memset)$")


def nm(args, obj, flags):
    r = tt.run(["nm"] + flags + [obj])
    if r.rc != 0:
        tt.fail("nm %s failed: %s" % (obj, r.err))
    return [l.split()[-1] for l in r.out.splitlines() if l.strip()]


def check(args, label, model, work):
    obj = os.path.join(work, label + ".o")
    r = tt.run([args.tidalc, "compile", model, "-o", obj, "--name", "net"]
               + tt.target_args(args), timeout=600)
    if r.rc != 0:
        tt.fail("compiling %s failed (exit %s):\n%s" % (model, r.rc, r.err))
    bad = [s for s in nm(args, obj, ["-u"]) if not ALLOWED_UNDEFINED.match(s)]
    if bad:
        tt.fail("%s needs symbols outside the runtime: %s" % (label, ", ".join(bad)))
    defined = nm(args, obj, ["-g", "--defined-only"])
    if defined != ["net_run"]:
        tt.fail("%s defines global symbols %s, expected only net_run" % (label, defined))
    print("ok   %s: needs %s" % (label, " ".join(nm(args, obj, ["-u"])) or "nothing"))


def main():
    p = argparse.ArgumentParser(description=__doc__)
    tt.add_common_args(p)
    p.add_argument("--models-dir", default=tt.DEFAULT_MODELS_DIR)
    p.add_argument("--models", default="ic_resnet8,kws_dscnn")
    p.add_argument("--work", default=None)
    args = p.parse_args()
    work = tt.work_dir(args.work, "nm")
    check(args, "example", os.path.join(tt.REPO, "examples", "classifier.onnx"), work)
    for name in args.models.split(","):
        check(args, name, os.path.join(args.models_dir, name, "model.onnx"), work)


if __name__ == "__main__":
    main()
