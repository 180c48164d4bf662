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
import concurrent.futures
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tidal_test as tt  # noqa: E402
import nvptx_emulation as emu  # noqa: E402

import onnx  # noqa: E402

CASE = re.compile(r"^\| ((?:node|pytorch-converted|pytorch-operator|simple)/\S+) "
                  r"\| (pass(?: \(bound\))?) \|")


def parse_args():
    p = tt.parser(__doc__)
    tt.add_common_args(p, target=False, work=True)
    p.add_argument("--suite-dir", default=tt.SUITE_DIR)
    p.add_argument("--report", default=os.path.join(tt.REPO, "docs", "ops.md"),
                   help="the x86-64 conformance table that says which cases pass")
    p.add_argument("--filter", default=None)
    p.add_argument("--sample", type=int, default=0)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--clang", default=tt.DEFAULT_CLANG)
    p.add_argument("--ptxas", default=tt.DEFAULT_PTXAS)
    return p.parse_args()


def passing_cases(args):
    cases = []
    with open(args.report) as f:
        for line in f:
            m = CASE.match(line)
            if m and (not args.filter or re.search(args.filter, m.group(1))):
                cases.append((m.group(1), m.group(2) != "pass"))
    return tt.sample(cases, args.sample, args.seed)


class Runner:
    def __init__(self, args, work, mock):
        self.args, self.work, self.mock = args, work, mock

    def graph_inputs(self, model):
        m = onnx.load(model, load_external_data=False)
        inits = {i.name for i in m.graph.initializer}
        return [i for i in m.graph.input if i.name not in inits]

    def bound_names(self, model, data):
        """The inputs `tidalc run --bind-shape-inputs` binds (it prints them)."""
        r, _ = emu.run_on_mock(self.args.tidalc, model, data, self.mock,
                               flags=["--bind-shape-inputs"], timeout=600)
        bound = tt.bound_inputs(r.out)
        return [n.strip() for n in bound.split(",")] if bound else []

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
        model, data = tt.case_files(os.path.join(self.args.suite_dir, case))
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
        r, calls = emu.run_on_mock(self.args.tidalc, model, data, self.mock, kernels,
                                   os.path.join(work, "driver.log"),
                                   ["--compare"] + (["--bind-shape-inputs"] if bound else []),
                                   timeout=600)
        errors = emu.driver_errors(calls)
        if r.rc != 0 or errors:
            return case, "exit %s: %s" % (r.rc, tt.scrub(r.out + r.err).strip()[-500:]
                                           + " ".join(errors))
        return case, None


def main():
    args = parse_args()
    emu.skip_without_clang(args.clang)
    cases = passing_cases(args)
    work = tt.work_dir(args.work, "nvptx-conformance")
    runner = Runner(args, work, emu.build_mock(work))
    failed = []
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        for case, why in pool.map(lambda c: runner.check(*c), cases):
            tt.print_outcome(why is None, case, [] if why is None else [why])
            if why is not None:
                failed.append(case)
    tt.finish("nvptx (emulated, ptxas sm_80): %d of %d conformance cases pass"
              % (len(cases) - len(failed), len(cases)), failed)


if __name__ == "__main__":
    main()
