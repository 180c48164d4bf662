"""The conformance ratchet: the recorded outcome of every ONNX conformance
case on each target (test/conformance/<target>.tsv), the check of a run
against it, and the Markdown report (docs/ops*.md) written with it. Used by
conformance.py (x86-64, cortex-a53) and nvptx_conformance.py.

A record line is `case<TAB>result<TAB>reason`, sorted by case; result is
`pass`, `pass (bound)` or `rejected`, never `mismatch` or `crash` (those are
bugs, and a record with them cannot be written). A run does worse than the
record when a case's result is lower in ORDER, or when a rejected case is
now rejected for another reason (the lowering that used to fail second may
now fail first: that must be looked at, not absorbed). It does better when
a case's result is higher. The record changes only through
`make update-conformance` (the runners' --update), which also writes the
Markdown report docs/ops*.md from the same results; `make test` writes
nothing tracked.
"""
import collections
import os
import sys

import tidal_test as tt

ORDER = ["pass", "pass (bound)", "rejected", "mismatch", "crash"]  # worst last
RECORDABLE = ORDER[:3]
RECORD_DIR = os.path.join(tt.REPO, "test", "conformance")
UPDATE_HINT = ("if the change is intended, run `make update-conformance` and "
               "commit test/conformance/ and docs/ops*.md with it")


def record_path(target):
    return os.path.join(RECORD_DIR, target + ".tsv")


def load(path):
    """case -> (result, reason) of a record file."""
    record = {}
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            parts = line.split("\t")
            if len(parts) != 3 or parts[1] not in RECORDABLE:
                tt.fail("%s:%d: not `case<TAB>result<TAB>reason`: %r" % (path, n, line))
            record[parts[0]] = (parts[1], parts[2])
    return record


def save(path, target, results):
    """Writes the record of results [(case, result, reason)]; refuses
    (fails) when any case mismatched or crashed."""
    bad = [name for name, result, _ in results if result not in RECORDABLE]
    if bad:
        tt.fail("not recording %d cases that mismatch or crash (bugs, not "
                "outcomes): %s" % (len(bad), ", ".join(bad)))
    lines = ["# Expected ONNX conformance outcomes on %s: case, result, reason." % target,
             "# Written by `make update-conformance`; `make test` fails on any case",
             "# that does worse (test/scripts/conformance_record.py)."]
    lines += ["%s\t%s\t%s" % (n, r, one_line(why)) for n, r, why in sorted(results)]
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tt.write_text(path, "\n".join(lines) + "\n")


def one_line(text):
    return " ".join(text.replace("\t", " ").split())


class Verdict:
    """How a run compares with its record: the regressions (worse), the
    improvements (better) and the cases the record does not know (new to
    the suite). Recorded cases that were not run are not counted: --filter
    and --sample run a part on purpose."""

    def __init__(self):
        self.worse, self.better, self.new = [], [], []


def compare(record, results):
    """The Verdict of results [(case, result, reason)] against record."""
    v = Verdict()
    for name, result, reason in results:
        if name not in record:
            v.new.append((name, result, reason))
            continue
        was, why = record[name]
        change = (name, was, why, result, reason)
        if ORDER.index(result) > ORDER.index(was):
            v.worse.append(change)
        elif ORDER.index(result) < ORDER.index(was):
            v.better.append(change)
        elif result == "rejected" and one_line(reason) != why:
            v.worse.append(change)
    return v


def describe(change):
    name, was, why, now, reason = change
    if was == now:
        return "%s: still rejected, but now: %s (was: %s)" % (name, reason, why)
    return "%s: was %s, now %s%s" % (name, was, now, ": " + reason if reason else "")


def report(v, path):
    """Prints the verdict; returns True when nothing did worse."""
    rel = os.path.relpath(path, tt.REPO)
    if v.better:
        print("%d cases do better than %s records (%s):" % (len(v.better), rel, UPDATE_HINT))
        for c in v.better:
            print("  " + describe(c))
    if v.new:
        print("%d cases are not in %s (new to the suite; %s):" % (len(v.new), rel, UPDATE_HINT))
        for name, result, reason in v.new:
            print("  %s: %s%s" % (name, result, ": " + reason if reason else ""))
    if v.worse:
        print("FAIL: %d cases do worse than %s records (%s):" % (len(v.worse), rel, UPDATE_HINT))
        for c in v.worse:
            print("  " + describe(c))
    return not v.worse


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


def write_report(path, target, how, results, cases):
    """Writes the Markdown report (docs/ops*.md) of results [(case, result,
    reason)]: counts per folder, per operator and the per-case table. how is
    the paragraph saying what each case went through; cases maps a case to
    its folder. No dates, no temporary paths: it changes when results do."""
    counts = collections.Counter(r for _, r, _ in results)
    per_op = collections.defaultdict(collections.Counter)
    case_dirs = dict(cases)
    for name, result, _ in results:
        for op in operators(case_dirs[name]):
            per_op[op][result] += 1
    lines = ["# ONNX conformance on %s" % target, "",
             "Generated by `make update-conformance` from the same run as",
             "`test/conformance/%s.tsv`, the record `make test` holds every case to; do" % target,
             "not edit."] + how + [
             "A case's result is the worst of its data sets. **pass**: compiled, ran",
             "and matched; **pass (bound)**: the same, but the model's shape inputs were",
             "fixed to the test's values at compile time (`tidalc run --bind-shape-inputs`);",
             "the data inputs stay run-time inputs (Tidal compiles static shapes, so a",
             "Reshape's shape or a Slice's starts must be known when compiling);",
             "**rejected**: refused at compile time with a clear error",
             "(honest); **mismatch**: wrong numbers (a bug); **crash**: anything else,",
             "including a timeout (a bug). docs/testing.md explains the runners.", "",
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
    for name, result, reason in sorted(results):
        lines.append("| %s | %s | %s |" % (name, result, md(reason)))
    tt.write_text(path, "\n".join(lines) + "\n")


def counts(results):
    c = collections.Counter(r for _, r, _ in results)
    return ", ".join("%d %s" % (c[r], r) for r in ORDER)


def add_args(parser):
    """--record, --update and --report, as both runners take them."""
    parser.add_argument("--record", default=None,
                        help="the expected outcomes (default test/conformance/TARGET.tsv)")
    parser.add_argument("--update", action="store_true",
                        help="write the record and the report instead of checking "
                             "(what `make update-conformance` runs)")
    parser.add_argument("--report", default=None,
                        help="write the Markdown report here (with --update the default "
                             "is docs/ops.md for x86-64, else docs/ops-TARGET.md)")


def default_report(target):
    name = "ops.md" if target == "x86-64" else "ops-%s.md" % target
    return os.path.join(tt.REPO, "docs", name)


def finish(args, target, results, cases, how):
    """Ends a runner: with --update records results (and writes the report),
    else holds them to the record. Exits 1 when a case mismatched or
    crashed, or did worse than recorded."""
    bugs = [name for name, result, _ in results if result not in RECORDABLE]
    path = args.record or record_path(target)
    ok = True
    if args.update:
        if args.sample or args.filter:
            tt.fail("--update records every case: no --sample or --filter")
        save(path, target, results)
        print("recorded %d cases in %s" % (len(results), os.path.relpath(path, tt.REPO)))
    elif not os.path.exists(path):
        tt.fail("no record %s (run `make update-conformance` to write it)" % path)
    else:
        ok = report(compare(load(path), results), path)
    report_path = args.report or (default_report(target) if args.update else None)
    if report_path:
        write_report(report_path, target, how, results, cases)
    print("conformance %s: %d cases: %s" % (target, len(results), counts(results)))
    if bugs:
        tt.fail("%d cases mismatch or crash: %s" % (len(bugs), ", ".join(bugs)))
    if not ok:
        sys.exit(1)
