#!/usr/bin/python3
"""Compiling the same model twice gives byte-identical object and header
files (ARCHITECTURE.md: no time stamps, no pointer or hash order). The two
compiles write to different folders, so a path leaking into the output
shows up as a difference too.

    deterministic.py [--models ic_resnet8,kws_dscnn] [--target T]
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tidal_test as tt  # noqa: E402


def compile_into(args, model, folder):
    os.makedirs(folder, exist_ok=True)
    out = os.path.join(folder, "net.o")
    r = tt.run([args.tidalc, "compile", model, "-o", out, "--name", "net"]
               + tt.target_args(args), timeout=600)
    if r.rc != 0:
        tt.fail("compiling %s failed (exit %s):\n%s" % (model, r.rc, r.err))
    return [os.path.join(folder, f) for f in ("net.o", "net.h")]


def check(args, label, model, work):
    first = compile_into(args, model, os.path.join(work, label, "a"))
    second = compile_into(args, model, os.path.join(work, label, "b"))
    for a, b in zip(first, second):
        with open(a, "rb") as fa, open(b, "rb") as fb:
            if fa.read() != fb.read():
                tt.fail("%s: %s and %s differ" % (label, a, b))
    print("ok   %s: %s identical" % (label, ", ".join(os.path.basename(f) for f in first)))


def main():
    p = argparse.ArgumentParser(description=__doc__)
    tt.add_common_args(p)
    p.add_argument("--models-dir", default=tt.DEFAULT_MODELS_DIR)
    p.add_argument("--models", default="ic_resnet8,kws_dscnn")
    p.add_argument("--work", default=None)
    args = p.parse_args()
    work = tt.work_dir(args.work, "deterministic")
    check(args, "example", os.path.join(tt.REPO, "examples", "classifier.onnx"), work)
    for name in args.models.split(","):
        check(args, name, os.path.join(args.models_dir, name, "model.onnx"), work)


if __name__ == "__main__":
    main()
