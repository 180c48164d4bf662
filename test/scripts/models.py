#!/usr/bin/python3
"""Compiles, runs and compares the reference model set (../shared/models).

The set is exported once into --models-dir (export.py with seeded weights;
a stamp file, .exported, marks a finished export) and reused. Every model
must compile and match PyTorch's output within rtol 1e-3 / atol 1e-4: here
a rejection is a failure too, since these are the models Tidal exists for.

With --sensitivity, each model is also run with its logits (the input of
a final Softmax, else the output itself) multiplied by 1.01, and the same
comparison must fail (exit 1): the reference data and the tolerances can
see a 1% error in the network. export.py spreads the classifier heads of
kws_dscnn and ic_resnet8 so that their softmax outputs are not nearly
uniform, which would hide such an error.

    models.py --export-only
    models.py --target x86-64
    models.py --target cortex-a53 --names ic_resnet8,kws_dscnn
    models.py --sensitivity --names kws_dscnn
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tidal_test as tt  # noqa: E402


def parse_args():
    p = tt.parser(__doc__)
    tt.add_common_args(p)
    tt.add_models_args(p, names=",".join(tt.REFERENCE_MODELS), export=True)
    p.add_argument("--export-only", action="store_true")
    p.add_argument("--sensitivity", action="store_true",
                   help="also check that a 1%% error in the logits fails")
    p.add_argument("--work", default=None, help="folder for the perturbed models")
    p.add_argument("--rtol", default="1e-3")
    p.add_argument("--atol", default="1e-4")
    p.add_argument("--timeout", type=int, default=None,
                   help="seconds per model (default 600; 3000 for cortex-a53)")
    return p.parse_args()


def compare(args, model, data):
    """`tidalc run MODEL --compare` against the expected outputs in data."""
    timeout = args.timeout or (3000 if args.target == "cortex-a53" else 600)
    return tt.run([args.tidalc, "run", model, "--inputs", data, "--compare",
                   "--rtol", args.rtol, "--atol", args.atol] + tt.target_args(args),
                  timeout=timeout)


def status(r):
    return "timed out" if r.timed_out else "exit %d" % r.rc


def check(args, name):
    """True when the model compiled, ran and matched; prints its lines."""
    model, data = tt.reference(args.models_dir, name)
    r = compare(args, model, data)
    ok = r.rc == tt.EXIT_OK
    tt.print_outcome(ok, "%s (%s)" % (name, status(r)), (r.out + r.err).splitlines())
    return ok


def scale_logits(model, path, factor=1.01):
    """Writes model with its logits scaled by factor: a Mul in front of a
    final Softmax/LogSoftmax, else behind each graph output."""
    import onnx
    from onnx import TensorProto, helper
    m = onnx.load(model)
    g = m.graph
    g.initializer.append(helper.make_tensor("perturb_k", TensorProto.FLOAT, [], [factor]))
    nodes = list(g.node)
    for out in g.output:
        i = next(k for k, n in enumerate(nodes) if out.name in n.output)
        node = nodes[i]
        if node.op_type in ("Softmax", "LogSoftmax"):
            mul = helper.make_node("Mul", [node.input[0], "perturb_k"], ["perturb_logits"])
            node.input[0] = "perturb_logits"
            nodes.insert(i, mul)
        else:
            node.output[list(node.output).index(out.name)] = out.name + "_unperturbed"
            nodes.insert(i + 1, helper.make_node(
                "Mul", [out.name + "_unperturbed", "perturb_k"], [out.name]))
    del g.node[:]
    g.node.extend(nodes)
    onnx.save(m, path)


def check_sensitivity(args, name, work):
    """True when a 1% error in name's logits makes the comparison fail."""
    model, data = tt.reference(args.models_dir, name)
    perturbed = os.path.join(work, name + ".logits_x1.01.onnx")
    scale_logits(model, perturbed)
    r = compare(args, perturbed, data)
    ok = r.rc == tt.EXIT_MISMATCH
    lines = [l for l in (r.out + r.err).splitlines() if "MISMATCH" in l or not ok]
    tt.print_outcome(ok, "%s with its logits x1.01 is caught (%s, expected exit 1)"
                     % (name, status(r)), lines)
    return ok


def main():
    args = parse_args()
    tt.export_models(args.shared_dir, args.models_dir)
    if args.export_only:
        print("reference models ready in " + args.models_dir)
        return
    names = tt.model_names(args)
    tt.require_target_tools(args.target)
    failed = [n for n in names if not check(args, n)]
    summary = "models %s: %d of %d passed" % (args.target, len(names) - len(failed), len(names))
    if args.sensitivity:
        work = tt.work_dir(args.work, "models")
        blind = [n for n in names if not check_sensitivity(args, n, work)]
        summary += "; a 1%% logit error caught in %d of %d" % (len(names) - len(blind),
                                                                len(names))
        failed += [n + " (1% logit error not caught)" for n in blind]
    tt.finish(summary, failed)


if __name__ == "__main__":
    main()
