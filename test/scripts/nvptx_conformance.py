#!/usr/bin/python3
"""ONNX conformance cases through the nvptx target, without a GPU.

For every case of the suite (or --filter / --sample of them): `tidalc run
--target nvptx --bind-shape-inputs` with the stand-in driver tells whether
the model is rejected (exit 2) and which inputs it binds; a model that
compiles is compiled to PTX and assembled with ptxas for sm_80 (when ptxas
is installed), then run with `tidalc run --target nvptx --compare` with the
stand-in driver executing the device code on the host in reverse thread
order (nvptx_emulation.py). Inputs with symbolic shapes get the test data's
shapes, as tidalc run gives them; bound inputs are bound to the same files.
Only test_data_set_0 is run.

Results (pass, pass (bound), rejected, mismatch, crash) are held to the
record test/conformance/nvptx.tsv exactly as conformance.py holds the CPU
targets to theirs (conformance_record.py); --update (`make
update-conformance`) records them and writes docs/ops-nvptx.md.

    nvptx_conformance.py [--filter REGEX] [--sample N --seed S] [--jobs 2]
    nvptx_conformance.py --update
"""
import concurrent.futures
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tidal_test as tt  # noqa: E402
import nvptx_emulation as emu  # noqa: E402
import conformance_record as record  # noqa: E402
from conformance import FOLDERS, classify, list_cases  # noqa: E402

import onnx  # noqa: E402


def parse_args():
    p = tt.parser(__doc__)
    tt.add_common_args(p, target=False, work=True)
    p.add_argument("--suite-dir", default=tt.SUITE_DIR)
    p.add_argument("--folders", default=",".join(FOLDERS))
    record.add_args(p)
    p.add_argument("--filter", default=None)
    p.add_argument("--sample", type=int, default=0)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--clang", default=tt.DEFAULT_CLANG)
    p.add_argument("--ptxas", default=tt.DEFAULT_PTXAS)
    p.add_argument("-v", "--verbose", action="store_true")
    args = p.parse_args()
    args.suite_dir = os.path.abspath(args.suite_dir)
    return args


class Runner:
    def __init__(self, args, work, mock):
        self.args, self.work, self.mock = args, work, mock
        self.ptxas = os.access(args.ptxas, os.X_OK)

    def graph_inputs(self, model):
        m = onnx.load(model, load_external_data=False)
        inits = {i.name for i in m.graph.initializer}
        return [i for i in m.graph.input if i.name not in inits]

    def probe(self, model, data):
        """`tidalc run --bind-shape-inputs` on the stand-in driver without
        device code: (None, bound input names) when the model compiles,
        else (the rejection's (result, reason), None)."""
        r, _ = emu.run_on_mock(self.args.tidalc, model, data, self.mock,
                               flags=["--bind-shape-inputs"], timeout=600)
        if r.timed_out or r.rc == tt.EXIT_REJECTED:
            return classify(r, 600), None
        bound = tt.bound_inputs(r.out)
        return None, [n.strip() for n in bound.split(",")] if bound else []

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

    def check(self, item):
        """(case, result, reason) of one case (conformance_record.ORDER)."""
        case, folder = item
        try:
            result, reason = self.classify(case, folder)
        except SystemExit:  # A helper's tt.fail: it printed why.
            result, reason = "crash", "building the emulated kernels failed"
        reason = tt.scrub(reason).replace(self.args.suite_dir + "/", "")
        if result not in record.RECORDABLE or self.args.verbose:
            print("%-9s %s  %s" % (result, case, reason), flush=True)
        return case, result, reason

    def classify(self, case, folder):
        label = case.replace("/", "_")
        work = os.path.join(self.work, label)
        os.makedirs(work, exist_ok=True)
        model, data = tt.case_files(folder)
        rejected, names = self.probe(model, data)
        if rejected:
            return rejected
        flags = self.compile_flags(model, data, names)
        if self.ptxas:
            failed = self.assemble(model, work, flags)
            if failed:
                return failed
        kernels = emu.device_library(self.args.tidalc, self.args.clang, model, work,
                                     label, flags)
        r, calls = emu.run_on_mock(self.args.tidalc, model, data, self.mock, kernels,
                                   os.path.join(work, "driver.log"),
                                   ["--compare", "--bind-shape-inputs"], timeout=600)
        errors = emu.driver_errors(calls)
        if r.rc == tt.EXIT_OK and not errors:
            return ("pass (bound)", "bound: " + ", ".join(names)) if names else ("pass", "")
        why = "exit %s: %s" % (r.rc, tt.scrub(r.out + r.err).strip()[-500:] + " ".join(errors))
        return ("mismatch" if r.rc == tt.EXIT_MISMATCH and not errors else "crash"), why

    def assemble(self, model, work, flags):
        """None when the model's PTX assembles for sm_80, else (result, reason)."""
        ptx = os.path.join(work, "model.ptx")
        r = tt.run([self.args.tidalc, "compile", model, "--target", "nvptx", "--emit",
                    "ptx", "-o", ptx, "--header", ptx + ".h"] + flags, timeout=600)
        if r.rc == tt.EXIT_REJECTED:
            return "rejected", tt.first_error(r.err)
        if r.rc != 0:
            return "crash", "--emit ptx: exit %s: %s" % (r.rc, tt.first_error(r.err))
        r = tt.run([self.args.ptxas, "-arch=sm_80", ptx, "-o", ptx + ".cubin"], timeout=600)
        if r.rc != 0:
            return "crash", "ptxas failed: " + r.err.strip()
        return None


def how(args):
    """The report's paragraph on what each case went through."""
    return ["Every case of `../shared/onnx-tests/{%s}` goes through" % args.folders,
            "`tidalc run --target nvptx --compare --bind-shape-inputs` (rtol 1e-3,",
            "atol 1e-4) on test_data_set_0, with its PTX assembled by ptxas for sm_80",
            "and its device code run on the host by the stand-in CUDA driver",
            "(`test/scripts/nvptx_conformance.py`; no GPU)."]


def main():
    args = parse_args()
    emu.skip_without_clang(args.clang)
    cases = list_cases(args)
    if not cases:
        tt.fail("no conformance cases in %s (folders %s, filter %s)"
                % (args.suite_dir, args.folders, args.filter))
    work = tt.work_dir(args.work, "nvptx-conformance")
    runner = Runner(args, work, emu.build_mock(work))
    if not runner.ptxas:
        tt.skip_part("ptxas not found at %s: the PTX was not assembled" % args.ptxas)
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        results = list(pool.map(runner.check, cases))
    record.finish(args, "nvptx", results, cases, how(args))
    tt.end_skipped_parts()


if __name__ == "__main__":
    main()
