#!/usr/bin/python3
"""Compiles, runs and compares the reference model set (../shared/models).

The set is exported once into --models-dir (export.py with seeded weights;
a stamp file, .exported, marks a finished export) and reused. Every model
must compile and match PyTorch's output within rtol 1e-3 / atol 1e-4: here
a rejection is a failure too, since these are the models Tidal exists for.

    models.py --export-only
    models.py --target x86-64
    models.py --target cortex-a53 --names ic_resnet8,kws_dscnn
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
    p.add_argument("--rtol", default="1e-3")
    p.add_argument("--atol", default="1e-4")
    p.add_argument("--timeout", type=int, default=None,
                   help="seconds per model (default 600; 3000 for cortex-a53)")
    return p.parse_args()


def check(args, name):
    """True when the model compiled, ran and matched; prints its lines."""
    model, data = tt.reference(args.models_dir, name)
    timeout = args.timeout or (3000 if args.target == "cortex-a53" else 600)
    r = tt.run([args.tidalc, "run", model, "--inputs", data, "--compare",
                "--rtol", args.rtol, "--atol", args.atol] + tt.target_args(args),
               timeout=timeout)
    ok = r.rc == tt.EXIT_OK
    status = "timed out" if r.timed_out else "exit %d" % r.rc
    tt.print_outcome(ok, "%s (%s)" % (name, status), (r.out + r.err).splitlines())
    return ok


def main():
    args = parse_args()
    tt.export_models(args.shared_dir, args.models_dir)
    if args.export_only:
        print("reference models ready in " + args.models_dir)
        return
    names = args.names.split(",")
    failed = [n for n in names if not check(args, n)]
    tt.finish("models %s: %d of %d passed" % (args.target, len(names) - len(failed),
                                              len(names)), failed)


if __name__ == "__main__":
    main()
