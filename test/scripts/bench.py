#!/usr/bin/python3
"""`make bench`: Tidal's speed against ONNX Runtime (the peer,
../shared/peer), OpenBLAS and the core's peak, measured in one run.

- Models: every reference model compiled by Tidal against ONNX Runtime on
  the same input (Tidal with --mcpu native on x86-64, unless --mcpu says
  otherwise), for each thread count of --threads (both sides on the
  same number of threads); --rounds rounds alternate Tidal and ORT (A B A B
  ...), each a median of --runs runs, and the median of the rounds is
  reported, with ratio = ort_ms / tidal_ms (above 1: Tidal is faster), the
  geometric mean per thread count, and the time `tidalc compile` takes.
  On x86-64 each model is compiled, linked and checked against PyTorch's
  output once (tidalc run --compare --keep) and its driver timed in every
  round; a model whose numbers are wrong is n/a.
- Unseen models (--unseen-dir, exported by export_unseen.py): torchvision
  graphs outside the reference set, at other opsets, the same way on one
  thread: what no schedule was tuned on.
- SGEMM 1024^3 on one thread: a MatMul model (A an input, B a constant)
  compiled by Tidal against numpy's OpenBLAS (OPENBLAS_CORETYPE unset,
  OPENBLAS_NUM_THREADS=1), both as GFLOP/s, and the measured fp32 FMA peak
  of one core (a C loop of 16 independent vector FMA chains, clang -O2
  -march=native). resnet50's GFLOP/s (2 x its multiply-adds of Conv, Gemm
  and MatMul over Tidal's one-thread latency) against the same peak.
- Cortex-A53: executed instructions per run under qemu-aarch64 with
  libinsn (built once by ../shared/tools/build-qemu-plugins.sh) for five
  models, compiled by default and with --winograd off (the direct products
  of the design before Winograd convolutions).

With --report FILE it writes the tables, the machine and the date as
Markdown (make bench writes docs/performance.md). Absolute times drift
with the machine's load; only the ratios of one run are comparable. Timing
never fails this script, and it never runs in CI: a measurement that
fails is shown as n/a.

    bench.py [--names resnet18,ic_resnet8] [--threads 1,2] [--runs 50]
             [--rounds 3] [--report docs/performance.md] [--unseen-dir DIR]
"""
import datetime
import math
import os
import platform
import re
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import export_unseen  # noqa: E402
import tidal_test as tt  # noqa: E402

MEDIAN = re.compile(r"median_ms=([0-9.]+)")

PEAK_C = r"""
#include <stdio.h>
#include <time.h>
typedef float v16 __attribute__((vector_size(64)));
int main(void) {
  v16 acc[16], a, b;
  for (int i = 0; i < 16; ++i) { a[i] = 1.0f + 1e-7f * i; b[i] = 1e-7f; }
  for (int i = 0; i < 16; ++i) acc[i] = a * (float)i;
  long iters = 20000000;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (long n = 0; n < iters; ++n)
    for (int i = 0; i < 16; ++i) {
      acc[i] = acc[i] * a + b;
      __asm__ volatile("" : "+v"(acc[i]));
    }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  float s = 0;
  for (int i = 0; i < 16; ++i) s += acc[i][0];
  double sec = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9;
  printf("%f %f\n", 2.0 * 16 * 16 * iters / sec / 1e9, s);
  return 0;
}
"""

OPENBLAS_PY = r"""
import time, numpy as np
n = 1024
a = np.random.default_rng(1).standard_normal((n, n)).astype(np.float32)
b = np.random.default_rng(2).standard_normal((n, n)).astype(np.float32)
a @ b
ts = []
for _ in range(15):
    t0 = time.perf_counter(); a @ b; ts.append(time.perf_counter() - t0)
ts.sort()
print(2.0 * n ** 3 / ts[len(ts) // 2] / 1e9)
"""


def parse_args():
    p = tt.parser(__doc__)
    tt.add_common_args(p, work=True)
    tt.add_models_args(p, names=",".join(tt.REFERENCE_MODELS), export=True)
    p.add_argument("--runs", type=int, default=50)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--threads", default="1,2")
    p.add_argument("--report", default=None, help="write the results here (Markdown)")
    p.add_argument("--unseen-dir", default=None,
                   help="export the unseen models (export_unseen.py) here and bench them")
    return p.parse_args()


def median_of(r, prefix):
    for line in r.out.splitlines():
        m = MEDIAN.search(line)
        if line.startswith(prefix) and m:
            return float(m.group(1))
    return None


def tidal_build(args, case, work):
    """Compiles, links and checks case once (tidalc run --keep): the folder
    holding its driver, or None. Only for the host's target (x86-64); other
    targets' drivers run under qemu, which tidalc run sets up each time."""
    if args.target != "x86-64":
        return None
    d = os.path.join(work, "run_" + os.path.basename(case))
    model, data = tt.case_files(case)
    r = tt.run([args.tidalc, "run", model, "--inputs", data, "--compare", "--keep", d]
               + tt.target_args(args), timeout=1800)
    if r.rc != 0:
        print("  tidal failed on %s: %s" % (os.path.basename(case),
              tt.first_error(r.err + r.out) or "exit %s" % r.rc), file=sys.stderr)
    return d if r.rc == 0 else None


def numbered(folder, prefix):
    """folder's files prefix_K.bin in the order of K."""
    names = [n for n in os.listdir(folder) if re.fullmatch(prefix + r"_\d+\.bin", n)]
    names.sort(key=lambda n: int(n[len(prefix) + 1:-4]))
    return [os.path.join(folder, n) for n in names]


def tidal_ms(args, case, threads, built):
    """Median latency of --runs runs: the driver in folder built, or a whole
    `tidalc run` when built is None."""
    if built:
        cmd = [os.path.join(built, "driver"), str(args.runs), str(threads)]
        cmd += numbered(built, "input") + numbered(built, "output")
    else:
        model, data = tt.case_files(case)
        cmd = [args.tidalc, "run", model, "--inputs", data, "--repeat", str(args.runs),
               "--threads", str(threads)] + tt.target_args(args)
    r = tt.run(cmd, timeout=1800)
    ms = median_of(r, "latency:") if r.rc == 0 else None
    if ms is None:
        print("  tidal failed on %s: %s" % (os.path.basename(case),
              tt.first_error(r.err) or "exit %s" % r.rc), file=sys.stderr)
    return ms


def ort_ms(args, case, threads):
    script = os.path.join(args.shared_dir, "peer", "ort_bench.js")
    r = tt.run(["node", script, os.path.join(case, "model.onnx"), "--threads", str(threads),
                "--runs", str(args.runs)], timeout=1800,
               cwd=os.path.join(args.shared_dir, "peer"))
    ms = median_of(r, "ort ") if r.rc == 0 else None
    if ms is None:
        print("  ort failed on %s: %s" % (os.path.basename(case), r.err.strip()[:300]),
              file=sys.stderr)
    return ms


def compile_seconds(args, case, work):
    obj = os.path.join(work, os.path.basename(case) + ".o")
    t0 = time.perf_counter()
    r = tt.run([args.tidalc, "compile", os.path.join(case, "model.onnx"), "-o", obj]
               + tt.target_args(args), timeout=1800)
    return time.perf_counter() - t0 if r.rc == 0 else None


def interleaved(args, case, threads, built):
    """Median over the rounds of (tidal, ort) medians, alternating."""
    ts, os_ = [], []
    for _ in range(args.rounds):
        ts.append(tidal_ms(args, case, threads, built))
        os_.append(ort_ms(args, case, threads))
    good = lambda xs: [x for x in xs if x is not None]  # noqa: E731
    return (statistics.median(good(ts)) if good(ts) else None,
            statistics.median(good(os_)) if good(os_) else None)


def geomean(xs):
    xs = [x for x in xs if x]
    return math.exp(sum(map(math.log, xs)) / len(xs)) if xs else None


def fmt(x, spec):
    return spec % x if x is not None else "n/a"


def pct(x, y):
    """x as a percentage of y, or n/a when either is missing."""
    return "%.0f%%" % (100 * x / y) if x and y else "n/a"


def bench_models(args, work, models_dir, names, thread_counts):
    rows = []
    print("%-15s %8s %10s %10s %8s %10s" % ("model", "threads", "tidal_ms", "ort_ms",
                                             "speedup", "compile_s"))
    for name in names:
        case = os.path.join(models_dir, name)
        compile_s = compile_seconds(args, case, work)
        built = tidal_build(args, case, work)
        if args.target == "x86-64" and not built:
            rows.append((name, thread_counts[0], None, None, None, compile_s))
            continue
        for threads in thread_counts:
            t, o = interleaved(args, case, threads, built)
            ratio = o / t if t and o else None
            rows.append((name, threads, t, o, ratio, compile_s))
            print("%-15s %8d %10s %10s %8s %10s" % (
                name, threads, fmt(t, "%.4f"), fmt(o, "%.4f"), fmt(ratio, "%.2fx"),
                fmt(compile_s, "%.2f")), flush=True)
    for threads in thread_counts:
        g = geomean([r[4] for r in rows if r[1] == threads])
        print("threads %d: geometric mean speedup %s" % (threads, fmt(g, "%.2fx")))
    return rows


def sgemm_model(work, n=1024):
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    folder = tt.fresh_dir(os.path.join(work, "sgemm"))
    data = tt.fresh_dir(os.path.join(folder, "test_data_set_0"))
    rng = np.random.default_rng(3)
    a = rng.standard_normal((n, n)).astype(np.float32)
    b = rng.standard_normal((n, n)).astype(np.float32)
    g = helper.make_graph(
        [helper.make_node("MatMul", ["a", "b"], ["y"], name="sgemm")], "sgemm",
        [helper.make_tensor_value_info("a", TensorProto.FLOAT, [n, n])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [n, n])],
        [numpy_helper.from_array(b, "b")])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]),
              os.path.join(folder, "model.onnx"))
    with open(os.path.join(data, "input_0.pb"), "wb") as f:
        f.write(numpy_helper.from_array(a).SerializeToString())
    with open(os.path.join(data, "output_0.pb"), "wb") as f:
        f.write(numpy_helper.from_array(a @ b).SerializeToString())
    return folder


def core_peak(work):
    src, exe = os.path.join(work, "peak.c"), os.path.join(work, "peak")
    tt.write_text(src, PEAK_C)
    clang = "/usr/lib/llvm-19/bin/clang"
    r = tt.run([clang, "-O2", "-march=native", src, "-o", exe])
    if r.rc != 0:
        return None
    r = tt.run([exe], timeout=120)
    return float(r.out.split()[0]) if r.rc == 0 else None


def openblas_gflops():
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    env.pop("OPENBLAS_CORETYPE", None)
    r = subprocess.run(["/usr/bin/python3", "-c", OPENBLAS_PY], capture_output=True,
                       text=True, env=env, timeout=300)
    return float(r.stdout.strip()) if r.returncode == 0 else None


def model_gflop(model):
    """2 x the multiply-adds of the model's Conv, Gemm and MatMul nodes."""
    import onnx
    from onnx import shape_inference
    m = shape_inference.infer_shapes(onnx.load(model))
    shapes = {}
    for v in list(m.graph.value_info) + list(m.graph.input) + list(m.graph.output):
        shapes[v.name] = [d.dim_value for d in v.type.tensor_type.shape.dim]
    for t in m.graph.initializer:
        shapes[t.name] = list(t.dims)
    macs = 0
    for n in m.graph.node:
        if n.op_type == "Conv":
            w, y = shapes[n.input[1]], shapes[n.output[0]]
            macs += math.prod(y) * math.prod(w[1:])
        elif n.op_type in ("Gemm", "MatMul"):
            a, y = shapes[n.input[0]], shapes[n.output[0]]
            trans = n.op_type == "Gemm" and any(
                at.name == "transA" and at.i for at in n.attribute)
            macs += math.prod(y) * (a[-2] if trans else a[-1])
    return 2.0 * macs / 1e9


def bench_kernels(args, work, rows):
    peak = core_peak(work)
    blas = openblas_gflops()
    case = sgemm_model(work)
    t = tidal_ms(args, case, 1, tidal_build(args, case, work))
    tidal = 2.0 * 1024 ** 3 / (t / 1e3) / 1e9 if t else None
    r50 = [r for r in rows if r[0] == "resnet50" and r[1] == 1]
    r50_gflops = None
    if r50 and r50[0][2]:
        r50_gflops = model_gflop(tt.reference(args.models_dir, "resnet50")[0]) / (r50[0][2] / 1e3)
    print("core fp32 peak %s GFLOP/s; SGEMM 1024^3, one thread: Tidal %s GFLOP/s, "
          "OpenBLAS %s GFLOP/s (Tidal at %s of OpenBLAS, %s of peak); resnet50 %s "
          "GFLOP/s (%s of peak)" % (fmt(peak, "%.0f"), fmt(tidal, "%.0f"), fmt(blas, "%.0f"),
                                   pct(tidal, blas), pct(tidal, peak), fmt(r50_gflops, "%.0f"),
                                   pct(r50_gflops, peak)))
    return {"peak": peak, "blas": blas, "tidal": tidal, "r50": r50_gflops}


QEMU_MODELS = ["kws_dscnn", "ic_resnet8", "ad_autoencoder", "mobilenet_v2", "resnet18"]
INSNS = re.compile(r"insns: (\d+)")


def qemu_plugin(args, work):
    """libinsn.so for Debian's qemu-user, built once into work (the shared
    build-qemu-plugins.sh), or None."""
    out = os.path.join(work, "qemu-plugins")
    lib = os.path.join(out, "libinsn.so")
    if not os.path.exists(lib):
        script = os.path.join(args.shared_dir, "tools", "build-qemu-plugins.sh")
        r = tt.run(["bash", script, out], timeout=1800)
        if r.rc != 0:
            print("  qemu plugins not built: %s" % r.err.strip()[-300:], file=sys.stderr)
    return lib if os.path.exists(lib) else None


def a53_insns(built, plugin, repeat):
    """Guest instructions of the cortex-a53 driver in built doing repeat runs."""
    cmd = ["qemu-aarch64", "-cpu", "cortex-a53", "-L", "/usr/aarch64-linux-gnu",
           "-plugin", plugin, "-d", "plugin", os.path.join(built, "driver"),
           str(repeat), "1"] + numbered(built, "input") + numbered(built, "output")
    r = tt.run(cmd, timeout=1800)
    m = INSNS.search(r.out + r.err) if r.rc == 0 else None
    return int(m.group(1)) if m else None


def bench_qemu(args, work):
    """Executed instructions per run on Cortex-A53 (qemu's libinsn): each
    model compiled as by default and with --winograd off (the direct
    products of the design before Winograd), one run being the difference
    between a driver timing 2 runs and one timing 1 (so the setup cancels)."""
    plugin = qemu_plugin(args, work)
    rows = []
    if not plugin:
        return rows
    for name in QEMU_MODELS:
        model, data = tt.reference(args.models_dir, name)
        counts = []
        for variant, flags in (("default", []), ("direct", ["--winograd", "off"])):
            d = os.path.join(work, "a53_%s_%s" % (name, variant))
            r = tt.run([args.tidalc, "run", model, "--inputs", data, "--keep", d,
                        "--target", "cortex-a53"] + flags, timeout=1800)
            one = a53_insns(d, plugin, 1) if r.rc == 0 else None
            two = a53_insns(d, plugin, 2) if one else None
            counts.append(two - one if two and one else None)
        rows.append((name, counts[0], counts[1]))
        print("cortex-a53 %-16s %s instructions per run (direct products: %s)"
              % (name, fmt(counts[0], "%d"), fmt(counts[1], "%d")))
    return rows


def machine():
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return "%s, %d cores, %s" % (cpu, os.cpu_count() or 0, platform.platform())


def model_table(rows, thread_counts):
    """Markdown lines: one row per model and thread count, then the
    geometric mean of the speedups per thread count."""
    lines = ["| model | threads | Tidal ms | ORT ms | speedup | compile s |",
             "|---|---:|---:|---:|---:|---:|"]
    for name, threads, t, o, ratio, cs in rows:
        lines.append("| %s | %d | %s | %s | %s | %s |" % (
            name, threads, fmt(t, "%.3f"), fmt(o, "%.3f"), fmt(ratio, "%.2fx"), fmt(cs, "%.1f")))
    lines.append("")
    for threads in thread_counts:
        g = geomean([r[4] for r in rows if r[1] == threads])
        lines.append("- %d thread%s: geometric mean speedup %s over %d models."
                     % (threads, "" if threads == 1 else "s", fmt(g, "%.2fx"),
                        len([r for r in rows if r[1] == threads and r[4]])))
    return lines


def write_report(path, args, rows, unseen, k, q):
    lines = ["# Performance", "",
             "Written by `make bench` (test/scripts/bench.py) on %s, on %s. Latencies "
             "are medians of %d rounds, each the median of %d runs, Tidal and ONNX Runtime "
             "%s alternating; speedup = ort_ms / tidal_ms (above 1: Tidal is faster). Both "
             "run on the same number of threads. Absolute times move with the machine's "
             "load; compare ratios of one run only. Benchmarks never run in CI."
             % (datetime.date.today().isoformat(), machine(), args.rounds, args.runs,
                "1.30 (../shared/peer)"), ""]
    lines += model_table(rows, args.thread_counts)
    if unseen:
        lines += ["", "Models no schedule was tuned on (test/scripts/export_unseen.py: "
                  "torchvision graphs outside the reference set, opsets 9 to 17), one "
                  "thread, each checked against PyTorch's output before it is timed "
                  "(n/a: not run or wrong):", ""]
        lines += model_table(unseen, [1])
    lines += ["", "| one core, fp32 | GFLOP/s | share |", "|---|---:|---:|",
              "| peak (16 independent FMA chains) | %s | 100%% |" % fmt(k["peak"], "%.0f"),
              "| OpenBLAS SGEMM 1024^3 | %s | %s of peak |" % (fmt(k["blas"], "%.0f"),
                                                           pct(k["blas"], k["peak"])),
              "| Tidal SGEMM 1024^3 | %s | %s of OpenBLAS |" % (fmt(k["tidal"], "%.0f"),
                                                           pct(k["tidal"], k["blas"])),
              "| Tidal resnet50 (Conv/Gemm MACs x 2 / latency) | %s | %s of peak |"
              % (fmt(k["r50"], "%.0f"), pct(k["r50"], k["peak"])), ""]
    if q:
        lines += ["Cortex-A53, executed instructions per run (qemu-aarch64 with "
                  "libinsn, ../shared/tools/build-qemu-plugins.sh), as compiled by default "
                  "and with `--winograd off` (direct products only, the design before "
                  "Winograd convolutions):", "",
                  "| model | default | direct | direct / default |", "|---|---:|---:|---:|"]
        for name, d, o in q:
            lines.append("| %s | %s | %s | %s |" % (
                name, fmt(d, "%d"), fmt(o, "%d"),
                fmt(o / d if d and o else None, "%.2fx")))
        lines.append("")
    tt.write_text(path, "\n".join(lines))
    print("wrote " + path)


def main():
    args = parse_args()
    # node runs in the peer's folder: every path handed to it is absolute.
    args.shared_dir = os.path.abspath(args.shared_dir)
    args.models_dir = os.path.abspath(args.models_dir)
    args.thread_counts = [int(t) for t in args.threads.split(",")]
    # ONNX Runtime uses every instruction the machine has; so does Tidal
    # with --mcpu native (its default CPU is the fixed x86-64-v3).
    if args.target == "x86-64" and not args.mcpu:
        args.mcpu = "native"
    work = tt.work_dir(args.work, "bench")
    tt.export_models(args.shared_dir, args.models_dir)
    rows = bench_models(args, work, args.models_dir, tt.model_names(args),
                        args.thread_counts)
    unseen = []
    if args.unseen_dir:
        unseen_dir = os.path.abspath(args.unseen_dir)
        tt.export_models(args.shared_dir, unseen_dir, script=os.path.join(
            os.path.dirname(os.path.abspath(__file__)), "export_unseen.py"),
            names=export_unseen.NAMES)
        unseen = bench_models(args, work, unseen_dir, export_unseen.NAMES, [1])
    k = bench_kernels(args, work, rows)
    q = bench_qemu(args, work)
    if args.report:
        write_report(args.report, args, rows, unseen, k, q)


if __name__ == "__main__":
    main()
