#!/usr/bin/python3
"""The f32 exp, sigmoid, tanh and erf that kernels compute inline
(codegen/KernelVectorMath.cpp), over their whole range, against float64
references: a model with one node per function reads 2^17 inputs (a dense
sweep of the interesting ranges, every power of two from the smallest
subnormal to the largest float and their negatives, random values, and
0, -0, +-inf, NaN) and `tidalc run --compare` requires every element within
4 f32 ulp (rtol 4.8e-7) of the reference, or 1e-44 for results that are
subnormal; infinities and NaNs must match exactly. The same elements run
through the vector body and the scalar tail of the loop (the input count is
not a multiple of the vector width).

    math_accuracy.py [--target cortex-a53] [--work DIR]
"""
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tidal_test as tt  # noqa: E402

import numpy as np  # noqa: E402
import onnx  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

FUNCTIONS = {
    "Exp": np.exp,
    "Sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x)),
    "Tanh": np.tanh,
    "Erf": np.vectorize(math.erf, otypes=[np.float64]),
}


def inputs():
    sweep = np.concatenate([np.linspace(-110, 100, 40001), np.linspace(-5, 5, 40001),
                            np.linspace(-0.7, 0.7, 20001)])
    powers = [2.0 ** e for e in range(-149, 128)]
    specials = [0.0, -0.0, np.inf, -np.inf, np.nan, 88.72283, 88.72284,
                -103.97208, -103.97209, 0.625, 0.55, 1.0, 1.75, 2.75, 4.0]
    rng = np.random.default_rng(11)
    rand = rng.standard_normal(20000) * 10
    x = np.concatenate([sweep, powers, [-p for p in powers], specials, rand])
    return x.astype(np.float32)


def write_case(work, x):
    n = len(x)
    ins = [helper.make_tensor_value_info("x", TensorProto.FLOAT, [n])]
    outs = [helper.make_tensor_value_info(op.lower(), TensorProto.FLOAT, [n])
            for op in FUNCTIONS]
    nodes = [helper.make_node(op, ["x"], [op.lower()], name=op.lower())
             for op in FUNCTIONS]
    g = helper.make_graph(nodes, "math", ins, outs)
    model = os.path.join(work, "math.onnx")
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), model)
    data = tt.fresh_dir(os.path.join(work, "math_data"))
    with np.errstate(over="ignore", under="ignore"):
        wide = x.astype(np.float64)
        refs = [f(wide).astype(np.float32) for f in FUNCTIONS.values()]
    for name, array in [("input_0.pb", x)] + [("output_%d.pb" % k, r)
                                              for k, r in enumerate(refs)]:
        with open(os.path.join(data, name), "wb") as f:
            f.write(numpy_helper.from_array(array).SerializeToString())
    return model, data


def main():
    p = tt.parser(__doc__)
    tt.add_common_args(p, work=True)
    args = p.parse_args()
    tt.require_target_tools(args.target)
    work = tt.work_dir(args.work, "math-accuracy")
    x = inputs()
    tt.expect(len(x) % 16 != 0, "the input count must leave a scalar tail")
    model, data = write_case(work, x)
    r = tt.run([args.tidalc, "run", model, "--inputs", data, "--compare",
                "--rtol", "4.8e-7", "--atol", "1e-44"] + tt.target_args(args),
               timeout=600)
    print(r.out, end="")
    tt.expect(r.rc == tt.EXIT_OK, "exit %s, expected 0 (every element within "
              "4 ulp)\n%s" % (r.rc, r.err))
    print("ok   exp, sigmoid, tanh, erf on %d inputs (%s): within 4 ulp"
          % (len(x), args.target))


if __name__ == "__main__":
    main()
