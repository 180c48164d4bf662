#!/usr/bin/python3
"""Hostile models: mutated conformance models never crash tidalc.

Takes the conformance cases that pass on x86-64 (test/conformance/x86-64.tsv)
and, with a fixed seed, damages --count of them the ways broken exporters
and hand-edited files do: attributes set to out-of-range, negative, huge,
NaN or mistyped values; inputs dropped or added; declared dims, ranks and
element types changed; the operator swapped for another; opsets that do
not exist; a node reading its own output; nodes out of order; initializers
with the wrong size; an output that nothing produces. Each is compiled with
`tidalc compile`, which must exit 0 (the damage was harmless) or 2 (the
model was rejected), print only `error: ` lines on stderr, an error line
when it exits 2, and leave no object behind when it fails. A crash, a
signal, a timeout, exit 1 or 3 fails the test, and the damaged model is
kept in --work for the bug report.

    hostile_models.py [--count 300] [--seed 1] [--work DIR]
"""
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tidal_test as tt  # noqa: E402
import conformance_record as record  # noqa: E402

import onnx  # noqa: E402
from onnx import AttributeProto, TensorProto, helper  # noqa: E402

OPS = ["Conv", "Gemm", "MatMul", "Reshape", "Softmax", "Add", "Concat", "Slice",
       "Gather", "Transpose", "BatchNormalization", "MaxPool", "Resize"]


def damage_attribute(m, rng):
    nodes = [n for n in m.graph.node if n.attribute]
    if not nodes:
        return damage_dims(m, rng)
    n = rng.choice(nodes)
    a = rng.choice(n.attribute)
    if a.type == AttributeProto.INT:
        a.i = rng.choice([-1, 0, 7, 1000, 2 ** 40, -2 ** 40])
    elif a.type == AttributeProto.INTS:
        a.ints[:] = [rng.choice([-1, 0, 1, 3, 2 ** 33]) for _ in range(rng.randrange(6))]
    elif a.type == AttributeProto.FLOAT:
        a.f = rng.choice([float("nan"), float("inf"), -1e30, 0.0])
    else:
        a.type, a.i = AttributeProto.INT, 3  # The wrong kind of value.
    return "attribute %s of %s" % (a.name, n.op_type)


def damage_inputs(m, rng):
    if not m.graph.node:
        return damage_dims(m, rng)
    n = rng.choice(m.graph.node)
    if n.input and rng.random() < 0.5:
        del n.input[-1]
        return "an input of %s dropped" % n.op_type
    n.input.append(rng.choice([i.name for i in m.graph.input] or ["missing"]))
    return "an input added to %s" % n.op_type


def value_info(m, rng):
    return rng.choice(list(m.graph.input) + list(m.graph.output))  # ONNX needs an output


def damage_dims(m, rng):
    vi = value_info(m, rng)
    dims = vi.type.tensor_type.shape.dim
    if rng.random() < 0.3:
        if dims:
            del dims[-1]
        else:
            dims.add().dim_value = 4
        return "rank of %s" % vi.name
    for d in dims:
        d.dim_value = rng.choice([0, 1, 3, 100000, 2 ** 31])
    return "dims of %s" % vi.name


def damage_type(m, rng):
    vi = value_info(m, rng)
    vi.type.tensor_type.elem_type = rng.choice([0, 2, 3, 5, 6, 7, 9, 10, 11, 12, 13, 16, 17, 40])
    return "element type of %s" % vi.name


def damage_operator(m, rng):
    if not m.graph.node:
        return damage_dims(m, rng)
    n = rng.choice(m.graph.node)
    old, n.op_type = n.op_type, rng.choice(OPS)
    return "%s became %s" % (old, n.op_type)


def damage_opset(m, rng):
    m.opset_import[0].version = rng.choice([-1, 0, 1, 5, 7, 9, 11, 99])
    return "opset %d" % m.opset_import[0].version


def damage_order(m, rng):
    if not m.graph.node:
        return damage_dims(m, rng)
    n = rng.choice(m.graph.node)
    if n.input and n.output and rng.random() < 0.5:
        n.input[0] = n.output[0]
        return "%s reads its own output" % n.op_type
    nodes = list(m.graph.node)
    rng.shuffle(nodes)
    del m.graph.node[:]
    m.graph.node.extend(nodes)
    return "nodes shuffled"


def damage_initializer(m, rng):
    name = rng.choice([i.name for i in m.graph.input] or ["w"])
    t = helper.make_tensor(name, TensorProto.FLOAT, [2, 3], [1.0] * 6)
    if rng.random() < 0.5:
        del t.float_data[:]
        t.raw_data = b"\0" * 3  # Too few bytes for six floats.
    m.graph.initializer.append(t)
    return "initializer %s" % name


def damage_output(m, rng):
    m.graph.output[0].name = "produced_by_nothing"
    return "an output nothing produces"


DAMAGE = [damage_attribute, damage_inputs, damage_dims, damage_type, damage_operator,
          damage_opset, damage_order, damage_initializer, damage_output]


def problem(r, obj):
    """Why tidalc's answer to a damaged model is wrong, or None."""
    if r.timed_out:
        return "timed out"
    if r.rc not in (tt.EXIT_OK, tt.EXIT_REJECTED):
        return "exit %d" % r.rc
    lines = [l for l in r.err.splitlines() if l.strip()]
    if any(not l.startswith("error: ") for l in lines):
        return "stderr line without `error: `: " + next(l for l in lines
                                                       if not l.startswith("error: "))
    if r.rc == tt.EXIT_REJECTED and not lines:
        return "exit 2 without an error line"
    if r.rc == tt.EXIT_REJECTED and os.path.exists(obj):
        return "a rejected compile left " + obj
    return None


def main():
    p = tt.parser(__doc__)
    tt.add_common_args(p, target=False, work=True)
    p.add_argument("--suite-dir", default=tt.SUITE_DIR)
    p.add_argument("--count", type=int, default=300)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    cases = sorted(c for c, (result, _) in record.load(record.record_path("x86-64")).items()
                   if result == "pass")
    if not cases or args.count < 1:
        tt.fail("no cases to damage")
    work = tt.work_dir(args.work, "hostile")
    rng = random.Random(args.seed)
    failed, outcomes = [], {tt.EXIT_OK: 0, tt.EXIT_REJECTED: 0}
    for i in range(args.count):
        case = rng.choice(cases)
        m = onnx.load(os.path.join(args.suite_dir, case, "model.onnx"))
        what = "; ".join(rng.choice(DAMAGE)(m, rng) for _ in range(rng.randrange(1, 3)))
        model, obj = os.path.join(work, "m.onnx"), os.path.join(work, "m.o")
        onnx.save(m, model)
        if os.path.exists(obj):
            os.remove(obj)
        r = tt.run([args.tidalc, "compile", model, "-o", obj], timeout=120)
        why = problem(r, obj)
        if why is None:
            outcomes[r.rc] += 1
            continue
        kept = os.path.join(work, "hostile_%d.onnx" % i)
        os.replace(model, kept)
        tt.print_outcome(False, "%s (%s): %s" % (case, what, why), [kept] + r.err.splitlines()[:3])
        failed.append("%s #%d" % (case, i))
    tt.finish("hostile models: %d damaged models, %d compiled, %d rejected cleanly, %d wrong"
              % (args.count, outcomes[tt.EXIT_OK], outcomes[tt.EXIT_REJECTED], len(failed)),
              failed)


if __name__ == "__main__":
    main()
