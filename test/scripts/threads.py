#!/usr/bin/python3
"""Threads (docs/runtime.md): a model run on the thread pool gives outputs
bit-identical to a single-threaded run, whatever the thread count.

Each model of --names is run with `tidalc run --compare --threads T
--output-dir DIR` for every T of --threads (the first must be 1): every run
must match the exported outputs (rtol 1e-3, atol 1e-4), and every output
file of a run with T > 1 must equal, byte for byte, the single-threaded
one. So that the check cannot pass vacuously, the object of at least one
model must call the runtime's tidal_parallel_for (it has parallel loops).
For cortex-a53 the runs go through qemu-aarch64 (which runs threads); the
test is skipped (exit 77) where that toolchain is missing.

    threads.py [--target x86-64|cortex-a53] [--names resnet18] [--threads 1,2,3]
"""
import filecmp
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tidal_test as tt  # noqa: E402


def run(args, model, data, threads, out_dir):
    r = tt.run([args.tidalc, "run", model, "--inputs", data, "--compare",
                "--threads", str(threads), "--output-dir", tt.fresh_dir(out_dir)]
               + tt.target_args(args), timeout=1800)
    return r.rc == tt.EXIT_OK, (r.out + r.err).strip()


def has_parallel_loops(args, model, work, name):
    obj = os.path.join(work, name + ".o")
    tt.compile_model(args.tidalc, model, obj, tt.target_args(args))
    return "tidal_parallel_for" in tt.symbols(obj, ["-u"])


def check(args, name, work):
    model, data = tt.reference(args.models_dir, name)
    outputs = {}
    for t in args.thread_counts:
        ok, text = run(args, model, data, t, os.path.join(work, "%s-%d" % (name, t)))
        if not ok:
            return False, "--threads %d: %s" % (t, text)
        outputs[t] = sorted(os.listdir(os.path.join(work, "%s-%d" % (name, t))))
    base = os.path.join(work, "%s-1" % name)
    for t in args.thread_counts[1:]:
        other = os.path.join(work, "%s-%d" % (name, t))
        _, diff, missing = filecmp.cmpfiles(base, other, outputs[1], shallow=False)
        if diff or missing or outputs[t] != outputs[1]:
            return False, "--threads %d: outputs differ from one thread's: %s" % (
                t, ", ".join(diff + missing) or "other files")
    return True, "%d outputs bit-identical on %s threads" % (
        len(outputs[1]), ", ".join(map(str, args.thread_counts)))


def main():
    p = tt.parser(__doc__)
    tt.add_common_args(p, work=True)
    tt.add_models_args(p, names=",".join(tt.REFERENCE_MODELS))
    p.add_argument("--threads", default="1,2,3")
    args = p.parse_args()
    tt.require_target_tools(args.target)
    args.thread_counts = [int(t) for t in args.threads.split(",")]
    tt.expect(args.thread_counts[0] == 1 and len(args.thread_counts) > 1,
              "--threads must start with 1 and list another count")
    work = tt.work_dir(args.work, "threads")
    names = tt.model_names(args)
    parallel = [n for n in names
                if has_parallel_loops(args, tt.reference(args.models_dir, n)[0], work, n)]
    tt.expect(parallel, "no model of %s has a parallel loop: the check would "
              "prove nothing" % ", ".join(names))
    print("ok   parallel loops in: " + ", ".join(parallel))
    failed = []
    for name in names:
        ok, text = check(args, name, work)
        tt.print_outcome(ok, "%s: %s" % (name, text) if ok else name, [] if ok else [text])
        if not ok:
            failed.append(name)
    tt.finish("%d of %d models bit-identical across thread counts on %s"
              % (len(names) - len(failed), len(names), args.target), failed)


if __name__ == "__main__":
    main()
