#!/usr/bin/python3
"""Runs the ONNX backend conformance cases through `tidalc run --compare`.

Each case folder (model.onnx + test_data_set_N/) is run once per data set;
the case's result is the worst of its data sets:

    pass       tidalc exited 0: compiled, ran and matched
    pass (bound)  the same, with the model's shape inputs fixed to the
               test's values at compile time (every run passes
               --bind-shape-inputs; tidalc printed `bound inputs: ...`)
    rejected   exit 2: the model was refused with a clear error (honest)
    mismatch   exit 1: wrong numbers (a bug)
    crash      anything else: exit 3, a signal or the timeout (a bug)

Every result is held to the record test/conformance/TARGET.tsv (the
ratchet, conformance_record.py): the run fails, naming the cases, when any
case mismatches, crashes or does worse than recorded (a pass now rejected,
a rejection for another reason); cases that do better are listed. With
--update (`make update-conformance`) it records the results instead and
writes the Markdown report docs/ops.md (docs/ops-TARGET.md); --report PATH
writes the report elsewhere without touching the record.

    conformance.py --target x86-64
    conformance.py --target cortex-a53 --sample 300 --seed 1
    conformance.py --filter 'test_relu|test_add' -v
    conformance.py --target x86-64 --update
"""
import concurrent.futures
import os
import re
import shutil
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tidal_test as tt  # noqa: E402
import conformance_record as record  # noqa: E402
from conformance_record import ORDER  # noqa: E402

FOLDERS = ["node", "pytorch-converted", "pytorch-operator", "simple"]


def parse_args():
    p = tt.parser(__doc__)
    tt.add_common_args(p)
    p.add_argument("--suite-dir", default=tt.SUITE_DIR)
    p.add_argument("--folders", default=",".join(FOLDERS))
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--timeout", type=int, default=None,
                   help="seconds per run (default 120; 600 for cortex-a53)")
    p.add_argument("--rtol", default="1e-3")
    p.add_argument("--atol", default="1e-7")
    p.add_argument("--sample", type=int, default=0, help="run N random cases")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--filter", default=None, help="regex on folder/case")
    record.add_args(p)
    p.add_argument("-v", "--verbose", action="store_true")
    args = p.parse_args()
    # Normalized, so that messages naming a model's path can drop its prefix.
    args.suite_dir = os.path.abspath(args.suite_dir)
    return args


def list_cases(args):
    cases = []
    for folder in args.folders.split(","):
        root = os.path.join(args.suite_dir, folder)
        if not os.path.isdir(root):
            tt.fail("no conformance folder " + root)
        for name in sorted(os.listdir(root)):
            case = os.path.join(root, name)
            if os.path.exists(os.path.join(case, "model.onnx")):
                cases.append((folder + "/" + name, case))
    if args.filter:
        cases = [c for c in cases if re.search(args.filter, c[0])]
    return tt.sample(cases, args.sample, args.seed)


def data_sets(case):
    sets = [d for d in os.listdir(case) if re.fullmatch(r"test_data_set_\d+", d)]
    return [os.path.join(case, d) for d in sorted(sets, key=lambda d: int(d.split("_")[-1]))]


def classify(r, timeout):
    """(result, reason) of one tidalc run."""
    if r.timed_out:
        return "crash", "timed out after %d s" % timeout
    bound = tt.bound_inputs(r.out)
    if r.rc == tt.EXIT_OK:
        return ("pass (bound)", "bound: " + bound) if bound else ("pass", "")
    result, reason = classify_failure(r)
    if bound:
        reason = "(bound: %s) %s" % (bound, reason)
    return result, reason


def classify_failure(r):
    """(result, reason) of a tidalc run that did not pass."""
    if r.rc == tt.EXIT_REJECTED:
        return "rejected", tt.first_error(r.err)
    if r.rc == tt.EXIT_MISMATCH:
        bad = [l for l in r.out.splitlines() if "MISMATCH" in l]
        return "mismatch", bad[0] if bad else tt.first_error(r.err)
    if r.rc < 0:
        return "crash", "tidalc killed by signal %d" % -r.rc
    return "crash", "exit %d: %s" % (r.rc, tt.first_error(r.err))


class Runner:
    def __init__(self, args):
        self.args = args
        self.timeout = args.timeout or (600 if args.target == "cortex-a53" else 120)
        self.tmp_root = tempfile.mkdtemp(prefix="tidal-conformance-")
        self.lock = threading.Lock()

    def run_set(self, case, data_set):
        # A private TMPDIR per run: a killed run leaves nothing behind.
        tmp = tempfile.mkdtemp(dir=self.tmp_root)
        env = dict(os.environ, TMPDIR=tmp)
        cmd = [self.args.tidalc, "run", os.path.join(case, "model.onnx"),
               "--inputs", data_set, "--compare", "--rtol", self.args.rtol,
               "--atol", self.args.atol, "--bind-shape-inputs"] + tt.target_args(self.args)
        r = tt.run(cmd, timeout=self.timeout, env=env)
        shutil.rmtree(tmp, ignore_errors=True)
        return classify(r, self.timeout)

    def run_case(self, item):
        name, case = item
        sets = data_sets(case)
        outcomes = []
        for ds in sets:
            res, why = self.run_set(case, ds)
            if len(sets) > 1 and res in ("mismatch", "crash"):
                why = "%s: %s" % (os.path.basename(ds), why)
            outcomes.append((res, why))
            if res == "rejected":
                break  # Compiling again would say the same.
        if not outcomes:
            outcomes = [("crash", "no test_data_set_N folder")]
        # The worst outcome; of equally bad ones, the first data set's.
        result, reason = max(outcomes, key=lambda o: ORDER.index(o[0]))
        reason = tt.scrub(reason).replace(self.args.suite_dir + "/", "")
        self.progress(name, result, reason)
        return name, result, reason

    def progress(self, name, result, reason):
        if result in ("mismatch", "crash") or self.args.verbose:
            with self.lock:
                print("%-9s %s  %s" % (result, name, reason), flush=True)


def how(args):
    """The report's paragraph on what each case went through."""
    which = ("Every case of `../shared/onnx-tests/{%s}`" % args.folders if not args.sample else
             "A fixed sample (`--sample %d --seed %d`) of the cases of "
             "`../shared/onnx-tests/{%s}`" % (args.sample, args.seed, args.folders))
    return [which + " goes through",
            "`tidalc run --target %s --compare --bind-shape-inputs --rtol %s --atol %s`,"
            % (args.target, args.rtol, args.atol), "once per data set."]


def main():
    args = parse_args()
    cases = list_cases(args)
    if not cases:
        tt.fail("no conformance cases in %s (folders %s, filter %s)"
                % (args.suite_dir, args.folders, args.filter))
    if not os.path.exists(args.tidalc):
        tt.fail("no tidalc at " + args.tidalc)
    tt.require_target_tools(args.target)
    runner = Runner(args)
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
            results = list(pool.map(runner.run_case, cases))
    finally:
        shutil.rmtree(runner.tmp_root, ignore_errors=True)
    record.finish(args, args.target, results, cases, how(args))


if __name__ == "__main__":
    main()
