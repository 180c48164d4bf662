#!/usr/bin/python3
"""ONNX conformance cases through the nvptx target, without a GPU.

Takes the cases docs/ops.md lists as passing on x86-64 ("pass" and
"pass (bound)"), and for each: compiles it with --target nvptx to PTX and
assembles that with ptxas for sm_80 (when ptxas is installed), then runs it
with `tidalc run --target nvptx --compare` (plus --bind-shape-inputs for the
bound cases) with the stand-in driver executing the device code on the host
in reverse thread order (nvptx_emulation.py). Inputs with symbolic shapes
get the test data's shapes, as tidalc run gives them; bound inputs are
bound to the same files. Exits non-zero on any failure.

    nvptx_conformance.py [--filter REGEX] [--sample N --seed S] [--jobs 2]
"""
import argparse
import concurrent.futures
import os
import random
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tidal_test as tt  # noqa: E402
import nvptx_emulation as emu  # noqa: E402

import onnx  # noqa: E402

CASE = re.compile(r"^\| ((?:node|pytorch-converted|pytorch-operator|simple)/\S+) "
                  r"\| (pass(?: \(bound\))?) \|")


def parse_args():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    tt.add_common_args(p, target=False)
    p.add_argument("--suite-dir", default=os.path.join(tt.SHARED, "onnx-tests"))
    p.add_argument("--report", default=os.path.join(tt.REPO, "docs", "ops.md"),
                   help="the x86-64 conformance table that says which cases pass")
    p.add_argument("--filter", default=None)
    p.add_argument("--sample", type=int, default=0)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--work", default=None)
    p.add_argument("--clang", default="/usr/lib/llvm-19/bin/clang")
    p.add_argument("--ptxas", default="/usr/local/cuda/bin/ptxas")
    return p.parse_args()


def passing_cases(args):
    cases = []
    with open(args.report) as f:
        for line in f:
            m = CASE.match(line)
            if m and (not args.filter or re.search(args.filter, m.group(1))):
                cases.append((m.group(1), m.group(2) != "pass"))
    if args.sample and args.sample < len(cases):
        cases = sorted(random.Random(args.seed).sample(cases, args.sample))
    return cases


class Runner:
    def __init__(self, args, work, mock):
        self.args, self.work, self.mock = args, work, mock

    def graph_inputs(self, model):
        m = onnx.load(model, load_external_data=False)
        inits = {i.name for i in m.graph.initializer}
        return [i for i in m.graph.input if i.name not in inits]

    def bound_names(self, model, data):
        """The inputs `tidalc run --bind-shape-inputs` binds (it prints them)."""
        r = tt.run([self.args.tidalc, "run", model, "--inputs", data, "--target", "nvptx",
                    "--bind-shape-inputs"], timeout=600, env=emu.mock_env(self.mock))
        for line in r.out.splitlines():
            if line.startswith("bound inputs: "):
                return [n.strip() for n in line[len("bound inputs: "):].split(",")]
        return []

    def compile_flags(self, model, data, bound):
        """--input-shape for symbolic inputs, --bind-input for bound ones."""
        flags = []
        for k, i in enumerate(self.graph_inputs(model)):
            pb = os.path.join(data, "input_%d.pb" % k)
            if i.name in bound:
                flags += ["--bind-input", "%s=%s" % (i.name, pb)]
                continue
            t = i.type.tensor_type
            if not t.HasField("shape") or any(not d.HasField("dim_value") for d in t.shape.dim):
                dims = onnx.load_tensor(pb).dims
                flags += ["--input-shape", "%s=%s" % (i.name, ",".join(map(str, dims)))]
        return flags

    def check(self, case, bound):
        """(case, None) when it passed, else (case, why)."""
        label = case.replace("/", "_")
        work = os.path.join(self.work, label)
        os.makedirs(work, exist_ok=True)
        model = os.path.join(self.args.suite_dir, case, "model.onnx")
        data = os.path.join(self.args.suite_dir, case, "test_data_set_0")
        names = self.bound_names(model, data) if bound else []
        flags = self.compile_flags(model, data, names)
        if os.access(self.args.ptxas, os.X_OK):
            ptx = os.path.join(work, "model.ptx")
            r = tt.run([self.args.tidalc, "compile", model, "--target", "nvptx", "--emit",
                        "ptx", "-o", ptx, "--header", ptx + ".h"] + flags, timeout=600)
            if r.rc != 0:
                return case, "--emit ptx failed: " + tt.first_error(r.err)
            r = tt.run([self.args.ptxas, "-arch=sm_80", ptx, "-o", ptx + ".cubin"],
                       timeout=600)
            if r.rc != 0:
                return case, "ptxas failed: " + r.err.strip()
        kernels = emu.device_library(self.args.tidalc, self.args.clang, model, work,
                                     label, flags)
        log = os.path.join(work, "driver.log")
        cmd = [self.args.tidalc, "run", model, "--inputs", data, "--compare",
               "--target", "nvptx"] + (["--bind-shape-inputs"] if bound else [])
        r = tt.run(cmd, timeout=600, env=emu.mock_env(self.mock, kernels, log))
        errors = [" ".join(c) for c in emu.read_log(log) if c[0] == "error"]
        if r.rc != 0 or errors:
            return case, "exit %s: %s" % (r.rc, tt.scrub(r.out + r.err).strip()[-500:]
                                           + " ".join(errors))
        return case, None


def main():
    args = parse_args()
    if not os.access(args.clang, os.X_OK):
        print("SKIPPED: no clang at %s to build the emulated kernels" % args.clang)
        return
    cases = passing_cases(args)
    work = tt.work_dir(args.work, "nvptx-conformance")
    runner = Runner(args, work, emu.build_mock(work))
    failed = []
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        for case, why in pool.map(lambda c: runner.check(*c), cases):
            print("%-4s %s%s" % ("ok" if why is None else "FAIL", case,
                                  "" if why is None else "\n     " + why), flush=True)
            if why is not None:
                failed.append(case)
    print("nvptx (emulated, ptxas sm_80): %d of %d conformance cases pass"
          % (len(cases) - len(failed), len(cases)))
    if failed:
        tt.fail("failed: " + ", ".join(failed))


if __name__ == "__main__":
    main()
