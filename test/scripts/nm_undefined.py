#!/usr/bin/python3
"""A compiled object keeps the firmware contract (ARCHITECTURE.md): the only
symbols it needs are the runtime's (tidal_*), memcpy and memset, and the
only global symbol it defines is <name>_run. Checked for
examples/classifier.onnx and each model of --names, compiled as `net`.

    nm_undefined.py [--names ic_resnet8,kws_dscnn] [--target T]
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tidal_test as tt  # noqa: E402

ALLOWED_UNDEFINED = re.compile(r"^(tidal_\w+|memcpy|memset)$")


def check(args, label, model, work):
    obj = os.path.join(work, label + ".o")
    tt.compile_model(args.tidalc, model, obj, ["--name", "net"] + tt.target_args(args))
    undefined = tt.symbols(obj, ["--undefined-only"])
    bad = [s for s in undefined if not ALLOWED_UNDEFINED.match(s)]
    if bad:
        tt.fail("%s needs symbols outside the runtime: %s" % (label, ", ".join(bad)))
    defined = tt.symbols(obj, ["--extern-only", "--defined-only"])
    if defined != ["net_run"]:
        tt.fail("%s defines global symbols %s, expected only net_run" % (label, defined))
    print("ok   %s: needs %s" % (label, " ".join(undefined) or "nothing"))


def main():
    tt.check_example_and_models(__doc__, "nm", check)


if __name__ == "__main__":
    main()
