#!/usr/bin/python3
"""Graph inputs bound at compile time (docs/cli.md, --bind-input and
--bind-shape-inputs):

1. The ONNX case node/test_reshape_negative_dim, whose Reshape shape is a
   graph input, is rejected (exit 2) by `tidalc run`, and passes with
   `--bind-shape-inputs`, which says `bound inputs: shape`.
2. A model whose shape inputs come before and between its data inputs
   (starts, x, shape, y): `run --bind-shape-inputs` binds starts and shape
   from input_0.pb and input_2.pb and feeds input_1.pb and input_3.pb to x
   and y; Sub(x, y) makes a swap visible. The expected output is computed
   with numpy.
3. `tidalc compile --bind-input NAME=FILE.pb` writes a header with the two
   remaining inputs only; `run --bind-input` matches too.
4. Binding a name that is not an input, or a value of the wrong shape, is
   refused (exit 2, naming the input); an unreadable file is exit 3.

    bind_inputs.py [--tidalc build/bin/tidalc] [--work DIR]
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tidal_test as tt  # noqa: E402

import numpy as np  # noqa: E402
import onnx  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402


def run(args, *cmd):
    return tt.run([args.tidalc] + list(cmd), timeout=300)


def check_conformance_case(args):
    model, data = tt.case_files(os.path.join(args.suite_dir, "node",
                                             "test_reshape_negative_dim"))
    r = run(args, "run", model, "--inputs", data, "--compare")
    tt.expect(r.rc == tt.EXIT_REJECTED and "must be a constant" in r.err,
              "without binding: exit %s, expected 2 (shape must be a constant)\n%s"
              % (r.rc, r.err))
    r = run(args, "run", model, "--inputs", data, "--compare", "--bind-shape-inputs")
    tt.expect(r.rc == tt.EXIT_OK, "--bind-shape-inputs: exit %s, expected 0\n%s%s"
              % (r.rc, r.out, r.err))
    tt.expect("bound inputs: shape\n" in r.out, "no `bound inputs: shape` line:\n" + r.out)
    print("ok   test_reshape_negative_dim: rejected (2) unbound, passes with "
          "--bind-shape-inputs")


def save(folder, name, array):
    with open(os.path.join(folder, name), "wb") as f:
        f.write(numpy_helper.from_array(array).SerializeToString())


def interleaved_model(work):
    """out = Slice(Reshape(x, shape) - y, starts, [4], axes=[0]); the graph
    inputs are starts, x, shape, y in that order."""
    ins = [helper.make_tensor_value_info("starts", TensorProto.INT64, [1]),
           helper.make_tensor_value_info("x", TensorProto.FLOAT, [12]),
           helper.make_tensor_value_info("shape", TensorProto.INT64, [2]),
           helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, 3])]
    out = helper.make_tensor_value_info("out", TensorProto.FLOAT, None)
    inits = [numpy_helper.from_array(np.array([4], np.int64), "ends"),
             numpy_helper.from_array(np.array([0], np.int64), "axes")]
    nodes = [helper.make_node("Reshape", ["x", "shape"], ["r"], name="reshape"),
             helper.make_node("Sub", ["r", "y"], ["d"], name="sub"),
             helper.make_node("Slice", ["d", "starts", "ends", "axes"], ["out"],
                              name="slice")]
    g = helper.make_graph(nodes, "interleaved", ins, [out], inits)
    model = os.path.join(work, "interleaved.onnx")
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), model)
    data = tt.fresh_dir(os.path.join(work, "interleaved_data"))
    rng = np.random.default_rng(7)
    x = rng.standard_normal(12).astype(np.float32)
    y = rng.standard_normal((4, 3)).astype(np.float32)
    starts, shape = np.array([1], np.int64), np.array([4, 3], np.int64)
    for k, a in enumerate([starts, x, shape, y]):
        save(data, "input_%d.pb" % k, a)
    save(data, "output_0.pb", (x.reshape(4, 3) - y)[1:4])
    return model, data


def check_interleaved(args, work):
    model, data = interleaved_model(work)
    r = run(args, "run", model, "--inputs", data, "--compare")
    tt.expect(r.rc == tt.EXIT_REJECTED and "'reshape'" in r.err,
              "unbound: exit %s, expected 2 naming 'reshape'\n%s" % (r.rc, r.err))
    r = run(args, "run", model, "--inputs", data, "--compare", "--bind-shape-inputs")
    tt.expect(r.rc == tt.EXIT_OK, "--bind-shape-inputs: exit %s, expected 0\n%s%s"
              % (r.rc, r.out, r.err))
    tt.expect("bound inputs: starts, shape\n" in r.out,
              "no `bound inputs: starts, shape` line:\n" + r.out)
    print("ok   inputs starts, x, shape, y: starts and shape bound, x and y fed")

    binds = ["--bind-input", "starts=" + os.path.join(data, "input_0.pb"),
             "--bind-input", "shape=" + os.path.join(data, "input_2.pb")]
    obj = os.path.join(work, "bound.o")
    r = run(args, "compile", model, "-o", obj, *binds)
    tt.expect(r.rc == tt.EXIT_OK, "compile --bind-input: exit %s\n%s" % (r.rc, r.err))
    with open(os.path.join(work, "bound.h")) as f:
        header = f.read()
    tt.expect(re.search(r"#define BOUND_NUM_INPUTS\s+2\b", header),
              "the header does not declare 2 inputs:\n" + header)
    tt.expect('"x"' in header and '"y"' in header and '"shape"' not in header
              and '"starts"' not in header,
              "the header's inputs are not x and y:\n" + header)
    r = run(args, "run", model, "--inputs", data, "--compare", *binds)
    tt.expect(r.rc == tt.EXIT_OK and "bound inputs: starts, shape\n" in r.out,
              "run --bind-input: exit %s\n%s%s" % (r.rc, r.out, r.err))
    print("ok   compile --bind-input: the header lists x and y only; run matches")


def check_errors(args, work):
    model, data = os.path.join(work, "interleaved.onnx"), os.path.join(work, "interleaved_data")
    obj = os.path.join(work, "bad.o")
    starts = os.path.join(data, "input_0.pb")
    for bind, rc, want in [("nosuch=" + starts, tt.EXIT_REJECTED, "'nosuch'"),
                           ("shape=" + starts, tt.EXIT_REJECTED, "input 'shape'"),
                           ("shape=" + os.path.join(work, "missing.pb"), tt.EXIT_USAGE,
                            "missing.pb"),
                           ("shape", tt.EXIT_USAGE, "NAME=FILE.pb")]:
        r = run(args, "compile", model, "-o", obj, "--bind-input", bind)
        tt.expect(r.rc == rc and want in r.err and r.err.startswith("error: "),
                  "--bind-input %s: exit %s, expected %d naming %s\n%s"
                  % (bind, r.rc, rc, want, r.err))
        tt.expect(not os.path.exists(obj), "a failed compile left " + obj)
        shown = bind.split("=")[0] + ("=" + os.path.basename(bind) if "=" in bind else "")
        print("ok   --bind-input %s: exit %d, %s" % (shown, rc, r.err.strip().splitlines()[0]))


def main():
    p = tt.parser(__doc__)
    tt.add_common_args(p, target=False, work=True)
    p.add_argument("--suite-dir", default=tt.SUITE_DIR)
    args = p.parse_args()
    work = tt.work_dir(args.work, "bind")
    check_conformance_case(args)
    check_interleaved(args, work)
    check_errors(args, work)


if __name__ == "__main__":
    main()
