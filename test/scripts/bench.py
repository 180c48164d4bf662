#!/usr/bin/python3
"""`make bench`: the latency of each reference model compiled by Tidal, as a
ratio against ONNX Runtime (the peer, ../shared/peer) measured in the same
run, model by model, both single-threaded. Absolute times drift with the
machine's load; only the ratios of one run are comparable. Timing never
fails this script: a model that does not compile or run is shown as n/a.

    bench.py [--names resnet18,ic_resnet8] [--runs 50] [--target x86-64]
"""
import math
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tidal_test as tt  # noqa: E402

MEDIAN = re.compile(r"median_ms=([0-9.]+)")


def parse_args():
    p = tt.parser(__doc__)
    tt.add_common_args(p)
    tt.add_models_args(p, names=",".join(tt.REFERENCE_MODELS), export=True)
    p.add_argument("--runs", type=int, default=50)
    return p.parse_args()


def median_of(r, prefix):
    for line in r.out.splitlines():
        m = MEDIAN.search(line)
        if line.startswith(prefix) and m:
            return float(m.group(1))
    return None


def tidal_ms(args, case):
    model, data = tt.case_files(case)
    cmd = [args.tidalc, "run", model, "--inputs", data, "--repeat", str(args.runs),
           "--threads", "1"] + tt.target_args(args)
    r = tt.run(cmd, timeout=1800)
    ms = median_of(r, "latency:") if r.rc == 0 else None
    if ms is None:
        print("  tidal failed on %s: %s" % (os.path.basename(case),
              tt.first_error(r.err) or "exit %s" % r.rc), file=sys.stderr)
    return ms


def ort_ms(args, case):
    script = os.path.join(args.shared_dir, "peer", "ort_bench.js")
    r = tt.run(["node", script, os.path.join(case, "model.onnx"), "--threads", "1",
                "--runs", str(args.runs)], timeout=1800,
               cwd=os.path.join(args.shared_dir, "peer"))
    ms = median_of(r, "ort ") if r.rc == 0 else None
    if ms is None:
        print("  ort failed on %s: %s" % (os.path.basename(case), r.err.strip()[:300]),
              file=sys.stderr)
    return ms


def fmt(x, spec):
    return spec % x if x is not None else "n/a"


def main():
    args = parse_args()
    # node runs in the peer's folder: every path handed to it is absolute.
    args.shared_dir = os.path.abspath(args.shared_dir)
    args.models_dir = os.path.abspath(args.models_dir)
    tt.export_models(args.shared_dir, args.models_dir)
    print("%-15s %12s %12s %14s" % ("model", "tidal_ms", "ort_ms", "speedup"))
    speedups = []
    for name in tt.model_names(args):
        case = os.path.join(args.models_dir, name)
        t, o = tidal_ms(args, case), ort_ms(args, case)
        ratio = o / t if t and o else None
        if ratio:
            speedups.append(ratio)
        print("%-15s %12s %12s %14s" % (name, fmt(t, "%.4f"), fmt(o, "%.4f"),
                                        fmt(ratio, "%.2fx")), flush=True)
    if speedups:
        geo = math.exp(sum(map(math.log, speedups)) / len(speedups))
        print("speedup = ort_ms / tidal_ms (above 1: Tidal is faster); "
              "geometric mean %.2fx over %d models" % (geo, len(speedups)))


if __name__ == "__main__":
    main()
