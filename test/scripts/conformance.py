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

With --report, writes a Markdown summary (counts, a per-operator table and a
per-case table, no dates, so the file changes only when results do). Exits
non-zero if any case mismatched or crashed.

    conformance.py --target x86-64 --report docs/ops.md
    conformance.py --target cortex-a53 --sample 300 --seed 1
    conformance.py --filter 'test_relu|test_add' -v
"""
import collections
import concurrent.futures
import os
import re
import shutil
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tidal_test as tt  # noqa: E402

FOLDERS = ["node", "pytorch-converted", "pytorch-operator", "simple"]
ORDER = ["pass", "pass (bound)", "rejected", "mismatch", "crash"]  # worst last


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
    p.add_argument("--report", default=None, help="write the Markdown table here")
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


def operators(case):
    """The operator types of a case's model (domain-qualified outside ONNX)."""
    try:
        import onnx
        m = onnx.load(os.path.join(case, "model.onnx"), load_external_data=False)
    except Exception:  # noqa: BLE001 - an unreadable model has no operators
        return ["(unreadable)"]
    ops = set()
    for n in m.graph.node:
        ops.add(n.op_type if n.domain in ("", "ai.onnx") else n.domain + "." + n.op_type)
    return sorted(ops) or ["(no nodes)"]


def md(text):
    return text.replace("|", "\\|").replace("\n", " ")[:200]


def write_report(path, args, results, cases):
    counts = collections.Counter(r for _, r, _ in results)
    per_op = collections.defaultdict(collections.Counter)
    case_dirs = dict(cases)
    for name, result, _ in results:
        for op in operators(case_dirs[name]):
            per_op[op][result] += 1
    lines = ["# ONNX conformance on %s" % args.target, "",
             "Generated by `test/scripts/conformance.py` (`make test` runs it); do not edit.",
             ("Every case of `../shared/onnx-tests/{%s}` goes through" % args.folders
              if not args.sample else
              "A fixed sample (`--sample %d --seed %d`) of the cases of "
              "`../shared/onnx-tests/{%s}` goes through" % (args.sample, args.seed, args.folders)),
             "`tidalc run --compare --bind-shape-inputs --rtol %s --atol %s`, once per" % (
                 args.rtol, args.atol),
             "data set;",
             "a case's result is the worst of its data sets. **pass**: compiled, ran",
             "and matched; **pass (bound)**: the same, but the model's shape inputs were",
             "fixed to the test's values at compile time (`tidalc run --bind-shape-inputs`);",
             "the data inputs stay run-time inputs (Tidal compiles static shapes, so a",
             "Reshape's shape or a Slice's starts must be known when compiling);",
             "**rejected**: refused at compile time with a clear error",
             "(honest); **mismatch**: wrong numbers (a bug); **crash**: anything else,",
             "including a timeout (a bug). docs/testing.md explains the runner.", "",
             "| folder | %s | cases |" % " | ".join(ORDER),
             "|---|---|---|---|---|---|---|"]
    per_folder = collections.defaultdict(collections.Counter)
    for name, result, _ in results:
        per_folder[name.split("/")[0]][result] += 1
    for folder, c in sorted(per_folder.items()) + [("**total**", counts)]:
        lines.append("| %s | %s | %d |" % (folder, " | ".join(str(c[r]) for r in ORDER),
                                          sum(c.values())))
    lines += ["", "## Per operator", "",
              "A case counts once for every operator type its model contains.", "",
              "| operator | %s |" % " | ".join(ORDER), "|---|---|---|---|---|---|"]
    for op in sorted(per_op):
        c = per_op[op]
        lines.append("| %s | %s |" % (md(op), " | ".join(str(c[r]) for r in ORDER)))
    lines += ["", "## Per case", "", "| case | result | reason |", "|---|---|---|"]
    for name, result, reason in results:
        lines.append("| %s | %s | %s |" % (name, result, md(reason)))
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def main():
    args = parse_args()
    cases = list_cases(args)
    if not os.path.exists(args.tidalc):
        tt.fail("no tidalc at " + args.tidalc)
    runner = Runner(args)
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
            results = list(pool.map(runner.run_case, cases))
    finally:
        shutil.rmtree(runner.tmp_root, ignore_errors=True)
    if args.report:
        write_report(args.report, args, results, cases)
    counts = collections.Counter(r for _, r, _ in results)
    print("conformance %s: %d cases: %s" % (args.target, len(results),
          ", ".join("%d %s" % (counts[r], r) for r in ORDER)))
    sys.exit(1 if counts["mismatch"] or counts["crash"] else 0)


if __name__ == "__main__":
    main()
