#!/usr/bin/python3
"""tidalc's exit statuses, each pinned exactly (docs/cli.md, Exit status):

0  `run --compare` of a small model (Add, Mul, Relu) against numpy's
   outputs; also with the expected output off by 0.05% (inside the default
   rtol 1e-3), off by 1% with --rtol 0.02, and with --weights external.
   `info` on a good model and on one the frontend rejects; --help and
   --version (on stdout).
1  the same run with the expected output off by 1%: every element, or one
   element only (the line must name that element). This is the end-to-end
   test of the comparator: a 1% error in an expected output is caught.
2  models that cannot be compiled: an unsupported node (compile, run and
   info --layers, which compiles),
   and files that hold no model (garbage, a truncated model, an empty file,
   a TensorProto instead of a model, a ModelProto without a graph), from
   compile, run and info; the message names the file.
3  usage and environment errors: a missing model file (compile, run, info)
   or a folder given as one, an unknown flag, a missing -o, a missing
   --inputs, a missing --inputs folder, a bad --target, a bad -O level, a
   negative or NaN or infinite tolerance, --threads 0, a negative --repeat,
   an unknown or missing subcommand, an info --memory-map file that cannot
   be written; --emit-selftest with --emit llvm, with -o /dev/null, over
   the object, with a negative or NaN tolerance, or for a model with an
   integer input and no --selftest-data (the message names the input), and
   --selftest-data without --emit-selftest or naming no folder; --weights
   neither embedded nor external, --weights external with
   --weights-section, for nvptx (compile and run) or with -o /dev/null and
   no --weights-file, --weights-file without --weights external or naming
   the header, a weights file that is the model's external data (which
   stays as it was).

Every failing case must print at least one line to stderr, and every
stderr line of every case must start with `error: `; 0 and 1 print nothing
to stderr.

    exit_codes.py [--tidalc build/bin/tidalc] [--work DIR]
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tidal_test as tt  # noqa: E402

import numpy as np  # noqa: E402
import onnx  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

SHAPE = [2, 3]


def save_tensor(path, array, name=""):
    with open(path, "wb") as f:
        f.write(numpy_helper.from_array(array, name).SerializeToString())


def good_model(path):
    """y = Relu(x * w + b): a model every target compiles."""
    w = numpy_helper.from_array(np.array([[1.5, -2, 0.5], [3, 1, -1]], np.float32), "w")
    b = numpy_helper.from_array(np.array([0.25, 4, 2], np.float32), "b")
    nodes = [helper.make_node("Mul", ["x", "w"], ["xw"], name="mul"),
             helper.make_node("Add", ["xw", "b"], ["s"], name="add"),
             helper.make_node("Relu", ["s"], ["y"], name="relu")]
    g = helper.make_graph(nodes, "good",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, SHAPE)],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, SHAPE)],
                          [w, b])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), path)
    return numpy_helper.to_array(w), numpy_helper.to_array(b)


def test_data(folder, w, b, scale=1.0, element=None):
    """input_0.pb and output_0.pb; the expected output is multiplied by
    scale (at flat index element only, if given). Every expected value is
    at least 1, so a relative error is an error of the same size."""
    os.makedirs(folder, exist_ok=True)
    x = np.array([[1, 0.5, 2], [1.25, 3, -1]], np.float32)
    y = np.maximum(x * w + b, 0).astype(np.float32)
    assert y.min() >= 1, y
    flat = y.reshape(-1)
    if element is None:
        flat *= np.float32(scale)
    else:
        flat[element] *= np.float32(scale)
    save_tensor(os.path.join(folder, "input_0.pb"), x, "x")
    save_tensor(os.path.join(folder, "output_0.pb"), y, "y")
    return folder


def int_input_model(path):
    """y = Cast(n): an integer input, whose valid values only the model knows."""
    g = helper.make_graph([helper.make_node("Cast", ["n"], ["y"], to=TensorProto.FLOAT)],
                          "int_input",
                          [helper.make_tensor_value_info("n", TensorProto.INT64, [3])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [3])])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), path)


def unsupported_model(path):
    """NonZero's result shape depends on the data: no static compiler can."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [6])
    nz = helper.make_tensor_value_info("nz", TensorProto.INT64, None)
    g = helper.make_graph([helper.make_node("NonZero", ["x"], ["nz"], name="odd_nonzero")],
                          "unsupported", [x], [nz])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), path)


class Checker:
    """Runs tidalc and checks its exit status and stderr; collects failures
    so that one run reports every wrong case."""

    def __init__(self, tidalc):
        self.tidalc, self.failed, self.count = tidalc, [], 0

    def check(self, label, want_rc, args, out_has=None, err_has=None):
        r = tt.run([self.tidalc] + args, timeout=300)
        self.count += 1
        problems = []
        if r.rc != want_rc:
            problems.append("exit %s, expected %d" % (r.rc, want_rc))
        lines = [line for line in r.err.splitlines() if line.strip()]
        if want_rc in (tt.EXIT_OK, tt.EXIT_MISMATCH) and lines:
            problems.append("stderr is not empty")
        if want_rc not in (tt.EXIT_OK, tt.EXIT_MISMATCH) and not lines:
            problems.append("no error message")
        bad = [line for line in lines if not line.startswith("error: ")]
        if bad:
            problems.append("stderr lines without `error: `: %r" % bad)
        for text, stream, name in ((out_has, r.out, "stdout"), (err_has, r.err, "stderr")):
            if text is not None and text not in stream:
                problems.append("%s lacks %r" % (name, text))
        shown = [tt.scrub(l) for l in (lines[:1] if lines else r.out.splitlines()[:1])]
        tt.print_outcome(not problems, "%d  %s" % (want_rc, label),
                         problems + ["tidalc " + " ".join(args)] + shown
                         if problems else shown)
        if problems:
            self.failed.append(label)
        return r


def check_runs(c, work, model, w, b):
    def data(name, **kw):
        return test_data(os.path.join(work, name), w, b, **kw)

    run = ["run", model, "--compare", "--inputs"]
    c.check("run --compare, expected from numpy", tt.EXIT_OK,
            run + [data("exact")], out_has="output 0 (y): ok f32[2,3]")
    c.check("run --compare, expected off by 0.05% (rtol 1e-3)", tt.EXIT_OK,
            run + [data("off-0.05pct", scale=1.0005)])
    c.check("run --compare, expected off by 1%", tt.EXIT_MISMATCH,
            run + [data("off-1pct", scale=1.01)],
            out_has="MISMATCH f32[2,3], 6 of 6 elements outside tolerance")
    c.check("run --compare, one element off by 1%", tt.EXIT_MISMATCH,
            run + [data("one-off-1pct", scale=1.01, element=4)],
            out_has="1 of 6 elements outside tolerance; worst at 4 [1,1]")
    c.check("run --compare --rtol 0.02, expected off by 1%", tt.EXIT_OK,
            run + [data("off-1pct"), "--rtol", "0.02"])
    c.check("run --compare --weights external", tt.EXIT_OK,
            run + [data("exact"), "--weights", "external"])


def check_rejected(c, work, good, exact):
    unsupported = os.path.join(work, "unsupported.onnx")
    unsupported_model(unsupported)
    out = os.path.join(work, "out.o")
    c.check("compile, unsupported node", tt.EXIT_REJECTED,
            ["compile", unsupported, "-o", out], err_has="odd_nonzero")
    data = os.path.join(work, "unsupported-data")
    os.makedirs(data, exist_ok=True)
    save_tensor(os.path.join(data, "input_0.pb"), np.arange(6, dtype=np.float32), "x")
    c.check("run, unsupported node", tt.EXIT_REJECTED,
            ["run", unsupported, "--inputs", data, "--compare"], err_has="odd_nonzero")
    c.check("info, unsupported node (described)", tt.EXIT_OK, ["info", unsupported])
    c.check("info, good model", tt.EXIT_OK, ["info", good])
    c.check("info --layers, unsupported node (compiled)", tt.EXIT_REJECTED,
            ["info", unsupported, "--layers"], err_has="odd_nonzero")
    c.check("info --layers, good model", tt.EXIT_OK, ["info", good, "--layers"],
            out_has="lower bound")
    for label, path in tt.broken_model_files(work, good).items():
        name = os.path.basename(path)
        c.check("compile, %s file" % label, tt.EXIT_REJECTED,
                ["compile", path, "-o", out], err_has=name)
        c.check("run, %s file" % label, tt.EXIT_REJECTED,
                ["run", path, "--inputs", exact, "--compare"], err_has=name)
        c.check("info, %s file" % label, tt.EXIT_REJECTED, ["info", path], err_has=name)


def check_usage(c, work, good, exact):
    out = os.path.join(work, "out.o")
    missing = os.path.join(work, "no-such-model.onnx")
    run = ["run", good, "--compare", "--inputs", exact]
    cases = [
        ("compile, missing model file", ["compile", missing, "-o", out], missing),
        ("run, missing model file", ["run", missing, "--inputs", exact], missing),
        ("info, missing model file", ["info", missing], missing),
        ("compile, a folder as the model", ["compile", work, "-o", out], work),
        ("compile, unknown flag", ["compile", good, "-o", out, "--no-such-flag"],
         "--no-such-flag"),
        ("compile, missing -o", ["compile", good], "-o"),
        ("compile, bad --target", ["compile", good, "-o", out, "--target", "x86"],
         "--target"),
        ("link-flags, bad --target", ["link-flags", "--target", "x86"], "--target"),
        ("compile, bad -O level", ["compile", good, "-o", out, "-O7"], "opt-level"),
        ("compile, writable --weights-section",
         ["compile", good, "-o", out, "--weights-section", ".data"], "--weights-section"),
        ("compile, --align not a power of two",
         ["compile", good, "-o", out, "--align", "96"], "--align 96"),
        ("compile, --align below 64", ["compile", good, "-o", out, "--align", "32"],
         "--align 32"),
        ("compile, bad --weights", ["compile", good, "-o", out, "--weights", "flash"],
         "--weights"),
        ("compile, --weights external with --weights-section",
         ["compile", good, "-o", out, "--weights", "external", "--weights-section", ".w"],
         "--weights-section"),
        ("compile, --weights external for nvptx",
         ["compile", good, "-o", out, "--weights", "external", "--target", "nvptx"],
         "nvptx"),
        ("run, --weights external for nvptx",
         run + ["--weights", "external", "--target", "nvptx"], "nvptx"),
        ("compile, --weights-file without --weights external",
         ["compile", good, "-o", out, "--weights-file", out + ".bin"], "--weights-file"),
        ("compile, --weights external with -o /dev/null",
         ["compile", good, "-o", os.devnull, "--weights", "external"], "--weights-file"),
        ("compile, --weights-file naming the header",
         ["compile", good, "-o", out, "--weights", "external", "--weights-file",
          os.path.join(work, "out.h")], "weights file"),
        ("compile, -MD with -o /dev/null", ["compile", good, "-o", os.devnull, "-MD"],
         "depfile"),
        ("info, --memory-map into a missing folder",
         ["info", good, "--memory-map", os.path.join(work, "no-such-folder", "m.svg")],
         "no-such-folder"),
        ("info, bad --target", ["info", good, "--layers", "--target", "x86"], "--target"),
        ("run, missing --inputs", ["run", good, "--compare"], "--inputs"),
        ("run, missing --inputs folder",
         ["run", good, "--inputs", os.path.join(work, "no-such-folder")], "--inputs"),
        ("run, negative --rtol", run + ["--rtol", "-0.1"], "--rtol"),
        ("run, NaN --atol", run + ["--atol", "nan"], "--atol"),
        ("run, infinite --atol", run + ["--atol", "inf"], "--atol"),
        ("run, negative --atol", run + ["--atol", "-1e-4"], "--atol"),
        ("run, --threads 0", run + ["--threads", "0"], "--threads"),
        ("run, negative --repeat", run + ["--repeat", "-1"], "--repeat"),
        ("unknown subcommand", ["frobnicate", good], "frobnicate"),
        ("no subcommand", [], "subcommand"),
    ]
    for label, args, err_has in cases + selftest_cases(work, good, out):
        c.check(label, tt.EXIT_USAGE, args, err_has=err_has)
    # The default weights file out.bin is the model's own external data.
    shared = os.path.join(work, "shared-data.onnx")
    onnx.save_model(onnx.load(good), shared, save_as_external_data=True,
                    location="out.bin", size_threshold=0)
    with open(os.path.join(work, "out.bin"), "rb") as f:
        data = f.read()
    c.check("compile, --weights external over the model's external data", tt.EXIT_USAGE,
            ["compile", shared, "-o", out, "--weights", "external"], err_has="would overwrite")
    with open(os.path.join(work, "out.bin"), "rb") as f:
        if f.read() != data:
            c.failed.append("the model's external data out.bin was changed")
    c.check("--version", tt.EXIT_OK, ["--version"], out_has="tidalc ")
    c.check("--help", tt.EXIT_OK, ["--help"], out_has="compile")
    c.check("run --help", tt.EXIT_OK, ["run", "--help"], out_has="--rtol")


def selftest_cases(work, good, out):
    """Usage errors of `compile --emit-selftest` (label, args, stderr has)."""
    int_model = os.path.join(work, "int_input.onnx")
    int_input_model(int_model)
    c = ["compile", good, "-o", out, "--emit-selftest", os.path.join(work, "st.c")]
    return [
        ("compile --emit-selftest, --emit llvm", c + ["--emit", "llvm"], "--emit llvm"),
        ("compile --emit-selftest, -o /dev/null",
         ["compile", good, "-o", os.devnull, "--emit-selftest", os.path.join(work, "st.c")],
         "-o to name a file"),
        ("compile --emit-selftest over the object",
         ["compile", good, "-o", out, "--emit-selftest", out], "would overwrite"),
        ("compile --emit-selftest, negative --selftest-rtol", c + ["--selftest-rtol", "-1"],
         "--selftest-rtol"),
        ("compile --emit-selftest, NaN --selftest-atol", c + ["--selftest-atol", "nan"],
         "--selftest-atol"),
        ("compile --emit-selftest, integer input and no --selftest-data",
         ["compile", int_model, "-o", out, "--emit-selftest", os.path.join(work, "st.c")],
         "input 0 ('n') is i64[3]"),
        ("compile --selftest-data without --emit-selftest",
         ["compile", good, "-o", out, "--selftest-data", work], "--emit-selftest"),
        ("compile --selftest-data, missing folder",
         c + ["--selftest-data", os.path.join(work, "no-such-folder")], "--selftest-data"),
    ]


def main():
    p = tt.parser(__doc__)
    tt.add_common_args(p, target=False, work=True)
    args = p.parse_args()
    work = tt.work_dir(args.work, "exit-codes")
    good = os.path.join(work, "good.onnx")
    w, b = good_model(good)
    c = Checker(args.tidalc)
    check_runs(c, work, good, w, b)
    exact = os.path.join(work, "exact")
    check_rejected(c, work, good, exact)
    check_usage(c, work, good, exact)
    tt.finish("%d cases, %d failed" % (c.count, len(c.failed)), c.failed)


if __name__ == "__main__":
    main()
