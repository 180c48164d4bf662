#!/usr/bin/python3
"""Compiling the same model twice gives byte-identical object and header
files (ARCHITECTURE.md: no time stamps, no pointer or hash order). The two
compiles write to different folders, so a path leaking into the output
shows up as a difference too. Checked for examples/classifier.onnx and each
model of --names.

    deterministic.py [--names ic_resnet8,kws_dscnn] [--target T]
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tidal_test as tt  # noqa: E402


def compile_into(args, model, folder):
    """Compiles model as `net` into folder; returns net.o and net.h there."""
    os.makedirs(folder, exist_ok=True)
    tt.compile_model(args.tidalc, model, os.path.join(folder, "net.o"),
                     ["--name", "net"] + tt.target_args(args))
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
    tt.check_example_and_models(__doc__, "deterministic", check)


if __name__ == "__main__":
    main()
