#!/usr/bin/python3
"""Models tidalc cannot compile are refused cleanly (docs/cli.md):

1. A model with two unsupported nodes (data-dependent output shapes, which a
   static compiler cannot have) exits 2 and the message names both nodes:
   every unsupported node is reported at once.
2. Files that hold no model (tt.broken_model_files: garbage, a truncated
   model, an empty file, a TensorProto, a graphless ModelProto) exit
   exactly 2 (a file that holds no model is a model that cannot be
   compiled) with an error message naming the file, without a crash, and
   leave no output file behind, not even a stale one from an earlier
   compile.
3. `tidalc run` on the unsupported model exits 2 as well.

    rejects_unsupported.py [--tidalc build/bin/tidalc] [--work DIR]
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tidal_test as tt  # noqa: E402

import numpy as np  # noqa: E402
import onnx  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402


def unsupported_model(path):
    """x -> Unique ('odd_unique') and x -> NonZero ('odd_nonzero'), both
    with data-dependent result shapes; a supported Relu in between."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [6])
    nodes = [
        helper.make_node("Relu", ["x"], ["r"], name="fine_relu"),
        helper.make_node("Unique", ["r"], ["u"], name="odd_unique", sorted=1),
        helper.make_node("NonZero", ["r"], ["nz"], name="odd_nonzero"),
    ]
    outs = [helper.make_tensor_value_info("u", TensorProto.FLOAT, None),
            helper.make_tensor_value_info("nz", TensorProto.INT64, None)]
    g = helper.make_graph(nodes, "unsupported", [x], outs)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    onnx.save(m, path)


def write_inputs(folder):
    os.makedirs(folder, exist_ok=True)
    t = numpy_helper.from_array(np.array([1, 0, 2, 0, 3, 1], np.float32), "x")
    with open(os.path.join(folder, "input_0.pb"), "wb") as f:
        f.write(t.SerializeToString())


def small_valid_model(path):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 64])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 16])
    w = numpy_helper.from_array(np.arange(64 * 16, dtype=np.float32).reshape(64, 16) / 1000, "w")
    g = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")],
                          "small", [x], [y], [w])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), path)


def check_two_nodes(args, work):
    model = os.path.join(work, "unsupported.onnx")
    unsupported_model(model)
    out = os.path.join(work, "unsupported.o")
    r = tt.run([args.tidalc, "compile", model, "-o", out], timeout=120)
    tt.expect(r.rc == tt.EXIT_REJECTED,
              "unsupported model: exit %s, expected 2\n%s" % (r.rc, r.err))
    for node in ("odd_unique", "odd_nonzero"):
        tt.expect(node in r.err, "the error does not name node '%s':\n%s" % (node, r.err))
    tt.expect("fine_relu" not in r.err, "the error names the supported node:\n" + r.err)
    tt.expect(not os.path.exists(out), "a rejected compile left " + out)
    print("ok   two unsupported nodes, both named:\n     " + r.err.strip().replace("\n", "\n     "))
    data = os.path.join(work, "unsupported_data")
    write_inputs(data)
    r = tt.run([args.tidalc, "run", model, "--inputs", data, "--compare"], timeout=120)
    tt.expect(r.rc == tt.EXIT_REJECTED, "tidalc run: exit %s, expected 2\n%s" % (r.rc, r.err))
    print("ok   tidalc run exits 2 too")


def check_broken(args, work, label, model):
    out = os.path.join(work, label + ".o")
    header = os.path.join(work, label + ".h")
    for stale in (out, header):  # An earlier compile's outputs must go.
        with open(stale, "w") as f:
            f.write("stale")
    r = tt.run([args.tidalc, "compile", model, "-o", out], timeout=120)
    tt.expect(r.rc == tt.EXIT_REJECTED,
              "%s: exit %s, expected 2\n%s" % (label, r.rc, r.err))
    tt.expect(r.err.startswith("error: "), "%s: no error message:\n%s" % (label, r.err))
    tt.expect(os.path.basename(model) in r.err,
              "%s: the error does not name the file:\n%s" % (label, r.err))
    for f in (out, header):
        tt.expect(not os.path.exists(f), "%s: %s left behind" % (label, f))
    leftovers = [f for f in os.listdir(work) if f.endswith(".tmp")]
    tt.expect(not leftovers, "%s: temporary files left: %s" % (label, leftovers))
    print("ok   %s: exit %d, %s" % (label, r.rc, r.err.strip().splitlines()[0]))


def main():
    p = tt.parser(__doc__)
    tt.add_common_args(p, target=False, work=True)
    args = p.parse_args()
    work = tt.work_dir(args.work, "rejects")
    check_two_nodes(args, work)
    valid = os.path.join(work, "valid.onnx")
    small_valid_model(valid)
    for label, model in tt.broken_model_files(work, valid).items():
        check_broken(args, work, label, model)


if __name__ == "__main__":
    main()
