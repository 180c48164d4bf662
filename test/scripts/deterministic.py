#!/usr/bin/python3
"""Compiling the same model twice gives byte-identical object and header
files, and the same selftest (--emit-selftest, whose expected outputs are
computed on this machine; ARCHITECTURE.md: no time stamps, no pointer or
hash order). The two
compiles write to different folders from different working directories,
one with absolute paths and one with relative ones, so a path leaking into
the output shows up as a difference too; and neither detects the host's
CPU, which is only used with --mcpu native (docs/targets.md). Checked for
examples/classifier.onnx and each model of --names.

    deterministic.py [--names ic_resnet8,kws_dscnn] [--target T]
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tidal_test as tt  # noqa: E402


def compile_into(args, model, folder, relative):
    """Compiles model as `net` into folder, from the repository's root with
    absolute paths or, where relative, from folder with the model's path
    relative to it; returns net.o and net.h there."""
    os.makedirs(folder, exist_ok=True)
    cmd = [os.path.abspath(args.tidalc), "compile"]
    if relative:
        cmd += [os.path.relpath(model, folder), "-o", "net.o"]
    else:
        cmd += [os.path.abspath(model), "-o", os.path.join(folder, "net.o")]
    files = ["net.o", "net.h", "net_selftest.c"]
    cmd += ["--emit-selftest", files[2] if relative else os.path.join(folder, files[2])]
    r = tt.run(cmd + ["--name", "net"] + tt.target_args(args), timeout=600,
               cwd=folder if relative else tt.REPO)
    if r.rc != 0:
        tt.fail("compiling %s in %s failed: %s" % (model, folder, r.err))
    return [os.path.join(folder, f) for f in files]


def check(args, label, model, work):
    first = compile_into(args, model, os.path.abspath(os.path.join(work, label, "a")), False)
    second = compile_into(args, model, os.path.abspath(os.path.join(work, label, "b")), True)
    for a, b in zip(first, second):
        with open(a, "rb") as fa, open(b, "rb") as fb:
            if fa.read() != fb.read():
                tt.fail("%s: %s and %s differ" % (label, a, b))
    print("ok   %s: %s identical" % (label, ", ".join(os.path.basename(f) for f in first)))


def main():
    tt.check_example_and_models(__doc__, "deterministic", check)


if __name__ == "__main__":
    main()
