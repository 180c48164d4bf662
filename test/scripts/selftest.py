#!/usr/bin/python3
"""The on-target self-check (`tidalc compile --emit-selftest`, docs/abi.md).

For --target x86-64 or cortex-a53 each model is compiled as `net` with a
selftest, which is compiled on its own as strict freestanding C99
(-std=c99 -pedantic -Wall -Wextra -Werror -ffreestanding: an object with
no writable section and no undefined symbol but net_run), and linked with
a main.c that calls net_selftest twice, with output buffers and a
workspace sized by the header's macros, and exits with its result; the
program runs under qemu-aarch64 -cpu cortex-a53 for cortex-a53. Checked:

- examples/classifier.onnx with the default test vector (random inputs,
  expected outputs computed on this machine): exits 0; the inputs parsed
  back from the C file are uniform in [-1, 1), and the expected outputs in
  it match numpy's evaluation of the model on them (examples/make_model.py;
  Debian's onnx 1.12 has no onnx.reference). On
  cortex-a53 also linked into a bare-metal image (examples/firmware's
  board.c and firmware.ld, -nostdlib, the bare-metal runtime) that exits 0
  under qemu.
- a small model with f32, i64 (ArgMax) and bool (Greater) outputs: exits 0
  with the default vector, and its expected outputs match numpy's; with
  --selftest-data whose i64 output is off by one it exits 2, whose bool
  output has one element flipped it exits 3 (1 + the output's index).
- each reference model of --names: exits 0 with --selftest-data
  test_data_set_0 (PyTorch's outputs), with the default vector, and with
  the data's inputs only (then the expected outputs embedded, computed on
  this machine, must match PyTorch's within rtol 1e-3, atol 1e-4). With
  output_0.pb changed in one element by five times its allowance, or set
  to NaN there, it exits 1. The first model also: every expected value 1%
  off exits 1, and passes with --selftest-rtol 0.02.
- a compile whose --selftest-data does not fit the model exits 3 and
  leaves no object, header or selftest (not even older ones); with -MD the
  depfile names the selftest as a target and the data files as
  prerequisites.

With --target nvptx the program is built for the host and net_run runs on
the stand-in CUDA driver with the device code emulated on the host
(nvptx_emulation.py; skipped without --clang): 0 for the example and the
first model of --names with the default vector and with PyTorch's data, 1
with one element off; and without a driver net_run's -1 comes back (exit
255).

    selftest.py [--target cortex-a53] [--names kws_dscnn,ic_resnet8] [--work DIR]
"""
import os
import re
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nvptx_emulation as emu  # noqa: E402
import tidal_test as tt  # noqa: E402

import numpy as np  # noqa: E402
import onnx  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

BOARD = os.path.join(tt.REPO, "examples", "firmware", "board.c")
DTYPES = {"f32": np.float32, "f16": np.float16, "f64": np.float64, "i64": np.int64,
          "i32": np.int32, "i16": np.int16, "i8": np.int8, "u8": np.uint8,
          "u16": np.uint16, "u32": np.uint32, "u64": np.uint64, "bool": np.bool_}
RTOL, ATOL = 1e-3, 1e-4

MAIN = r"""/* Runs net_selftest twice (the second run checks that outputs left over
 * from the first cannot pass) and exits with its result. No C library. */
#include "net.h"

int net_selftest(void *const outputs[], void *workspace);

%(buffers)s
static unsigned char workspace[NET_WORKSPACE_SIZE ? NET_WORKSPACE_SIZE : 1]
    __attribute__((aligned(NET_WORKSPACE_ALIGN)));

int main(void) {
  void *const outputs[NET_NUM_OUTPUTS] = {%(names)s};
  int rc = net_selftest(outputs, workspace);
  return rc != 0 ? rc : net_selftest(outputs, workspace);
}
"""


def parse_args():
    p = tt.parser(__doc__)
    tt.add_common_args(p, work=True)
    tt.add_models_args(p, names="kws_dscnn,ic_resnet8")
    p.add_argument("--clang", default=tt.DEFAULT_CLANG,
                   help="nvptx: the clang that builds the emulated kernels")
    return p.parse_args()


def save(path, array):
    with open(path, "wb") as f:
        f.write(numpy_helper.from_array(array).SerializeToString())


class Target:
    """Builds and runs selftest programs for one target."""

    def __init__(self, args):
        self.args, self.target = args, args.target
        self.cc, self.link_flags, self.runner = tt.c_compiler(self.target)
        self.nm = "aarch64-linux-gnu-nm" if self.target == "cortex-a53" else "nm"
        # nvptx: the environment that runs net_run on the stand-in driver.
        self.env = None

    def compile(self, model, folder, flags=(), expect_rc=0):
        """`tidalc compile MODEL -o folder/net.o --emit-selftest
        folder/net_selftest.c FLAGS`; returns the Result."""
        tt.fresh_dir(folder)
        cmd = [self.args.tidalc, "compile", model, "-o", os.path.join(folder, "net.o"),
               "--name", "net", "--emit-selftest", os.path.join(folder, "net_selftest.c")]
        r = tt.run(cmd + tt.target_args(self.args) + list(flags), timeout=900)
        if r.rc != expect_rc:
            tt.fail("exit %s, expected %d: %s\n%s%s" % (r.rc, expect_rc, " ".join(cmd + list(flags)),
                                                        r.out, r.err))
        return r

    def selftest_object(self, folder):
        """Compiles net_selftest.c alone, strictly; checks what the object
        holds and needs."""
        obj = os.path.join(folder, "net_selftest.o")
        tt.checked(self.cc + tt.STRICT_C99 + ["-ffreestanding", "-c", "-I", folder,
                                              os.path.join(folder, "net_selftest.c"), "-o", obj],
                   "compiling net_selftest.c as strict freestanding C99")
        undefined = tt.symbols(obj, ["--undefined-only"], nm=self.nm)
        if undefined != ["net_run"]:
            tt.fail("net_selftest.o needs %s; expected net_run only" % undefined)
        sections = tt.checked(["readelf", "-S", "-W", obj], "readelf -S").out
        for line in sections.splitlines():
            m = re.match(r"\s*\[\s*\d+\]\s+(\S+)\s+\S+\s+\S+\s+\S+\s+([0-9a-f]+)\s+\S+\s+(\S*)", line)
            if m and "W" in m.group(3) and int(m.group(2), 16) > 0:
                tt.fail("net_selftest.o has a writable section: " + line.strip())
        return obj

    def write_main(self, folder):
        header = open(os.path.join(folder, "net.h")).read()
        count = int(re.search(r"#define NET_NUM_OUTPUTS\s+(\d+)", header).group(1))
        buffers = "".join("static unsigned char out%d[NET_OUTPUT%d_SIZE ? NET_OUTPUT%d_SIZE : 1]"
                          " __attribute__((aligned(64)));\n" % (k, k, k) for k in range(count))
        names = ", ".join("out%d" % k for k in range(count))
        src = os.path.join(folder, "main.c")
        tt.write_text(src, MAIN % {"buffers": buffers, "names": names})
        return src

    def run_selftest(self, folder):
        """Builds the program and returns its exit status."""
        obj = self.selftest_object(folder)
        exe = os.path.join(folder, "program")
        tt.checked(self.cc + self.link_flags + ["-std=c99", "-O2", "-Wall", "-Wextra", "-Werror",
                                                 "-I", folder, self.write_main(folder), obj,
                                                 os.path.join(folder, "net.o")]
                   + tt.link_flags(self.args.tidalc, self.target) + ["-o", exe],
                   "linking the selftest program")
        r = tt.run(self.runner + [exe], timeout=600, env=self.env)
        if r.rc is None or r.rc < 0 or r.err.strip():
            tt.fail("the selftest program crashed (%s):\n%s%s" % (r.rc, r.out, r.err))
        return r.rc

    def run_baremetal(self, folder):
        """cortex-a53: the selftest in a bare-metal image (no C library, the
        bare-metal runtime); returns its exit status under qemu."""
        archives = [f for f in tt.link_flags(self.args.tidalc, self.target) if f.endswith(".a")]
        runtime = os.path.join(os.path.dirname(os.path.dirname(archives[0])),
                               "cortex-a53-baremetal", "libtidalrt.a")
        exe = os.path.join(folder, "firmware")
        tt.checked(["aarch64-linux-gnu-gcc", "-std=c11", "-O2", "-Wall", "-Werror",
                    "-ffreestanding", "-mcpu=cortex-a53", "-nostdlib", "-static",
                    "-I", folder, "-I", os.path.dirname(BOARD), self.write_main(folder), BOARD,
                    os.path.join(folder, "net_selftest.c"), os.path.join(folder, "net.o"),
                    runtime, "-T", os.path.join(os.path.dirname(BOARD), "firmware.ld"),
                    "-o", exe], "linking the bare-metal image")
        r = tt.run(["qemu-aarch64", "-cpu", "cortex-a53", exe], timeout=600)
        return r.rc

    def expect_status(self, folder, want, label):
        rc = self.run_selftest(folder)
        if rc != want:
            tt.fail("%s: net_selftest returned %s, expected %d" % (label, rc, want))
        print("ok   %s: net_selftest returns %d" % (label, want))


def embedded(folder):
    """The inputs and expected outputs of net_selftest.c, as numpy arrays of
    the header's types, in order."""
    text = open(os.path.join(folder, "net_selftest.c")).read()
    header = open(os.path.join(folder, "net.h")).read()
    arrays = {"input": [], "output": []}
    for m in re.finditer(r"static const [\w ]+ net_selftest_(input|output)(\d+)\[\d+\] = "
                         r"\{(.*?)\};", text, re.S):
        kind, k = m.group(1), int(m.group(2))
        dtype = DTYPES[re.search(r"#define NET_%s%d_TYPE_NAME\s+\"(\w+)\"" % (kind.upper(), k),
                                 header).group(1)]
        dims = [int(d) for d in re.search(r"#define NET_%s%d_DIMS\s+\{([^}]*)\}"
                                          % (kind.upper(), k), header).group(1).split(",")]
        words = [int(w.strip().rstrip("ul"), 16) for w in m.group(3).split(",")]
        bits = np.array(words, dtype="u%d" % np.dtype(dtype).itemsize)
        arrays[kind].append(bits.view(dtype).reshape(dims))
    return arrays["input"], arrays["output"]


def check_defaults(folder):
    text = open(os.path.join(folder, "net_selftest.c")).read()
    for line in ("#define NET_SELFTEST_RTOL 0.001", "#define NET_SELFTEST_ATOL 0.0001",
                 '#include "net.h"'):
        if line not in text:
            tt.fail("net_selftest.c lacks %r" % line)


def check_classifier(t, work):
    folder = os.path.join(work, "classifier")
    t.compile(tt.EXAMPLE_MODEL, folder)
    check_defaults(folder)
    t.expect_status(folder, 0, "classifier, default test vector")
    inputs, expected = embedded(folder)
    x = inputs[0]
    if x.min() < -1 or x.max() >= 1 or abs(x.mean()) > 0.1 or abs(x.std() - 0.577) > 0.05:
        tt.fail("the random input is not uniform in [-1, 1): min %g max %g mean %g std %g"
                % (x.min(), x.max(), x.mean(), x.std()))
    # examples/make_model.py's numpy evaluation, on the model file's weights.
    sys.path.insert(0, os.path.dirname(tt.EXAMPLE_MODEL))
    import make_model
    weights = {t.name: numpy_helper.to_array(t)
               for t in onnx.load(tt.EXAMPLE_MODEL).graph.initializer}
    want = make_model.reference(x, *(weights[n] for n in ("conv_w", "conv_b", "fc_w", "fc_b")))
    tt.expect_close(expected[0], want, RTOL, ATOL, "classifier's expected output")
    print("ok   classifier: %d random inputs in [-1, 1) (mean %.3f), expected outputs "
          "match numpy's evaluation (examples/make_model.py)" % (x.size, x.mean()))
    if t.target == "cortex-a53":
        rc = t.run_baremetal(folder)
        if rc != 0:
            tt.fail("the bare-metal selftest image exited %s" % rc)
        print("ok   classifier: net_selftest returns 0 in a bare-metal image under qemu")


def small_model(path):
    """y = Relu(x * w + b) (f32), idx = ArgMax(y, axis 1) (i64), pos =
    Greater(y, 0.5) (bool)."""
    w = np.array([[1.5, -2, 0.5], [3, 1, -1]], np.float32)
    b = np.array([0.25, 0.5, 0.125], np.float32)
    nodes = [helper.make_node("Mul", ["x", "w"], ["xw"]),
             helper.make_node("Add", ["xw", "b"], ["s"]),
             helper.make_node("Relu", ["s"], ["y"]),
             helper.make_node("ArgMax", ["y"], ["idx"], axis=1),
             helper.make_node("Greater", ["y", "half"], ["pos"])]
    g = helper.make_graph(
        nodes, "small", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3]),
         helper.make_tensor_value_info("idx", TensorProto.INT64, [2, 1]),
         helper.make_tensor_value_info("pos", TensorProto.BOOL, [2, 3])],
        [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b"),
         numpy_helper.from_array(np.array(0.5, np.float32), "half")])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), path)

    def evaluate(x):
        y = np.maximum(x * w + b, 0)
        return [y, np.argmax(y, axis=1).reshape(2, 1).astype(np.int64), y > 0.5]
    return evaluate


def check_small_model(t, work):
    model = os.path.join(work, "small.onnx")
    evaluate = small_model(model)
    folder = os.path.join(work, "small")
    t.compile(model, folder)
    t.expect_status(folder, 0, "f32, i64 and bool outputs, default test vector")
    inputs, expected = embedded(folder)
    for k, (got, want) in enumerate(zip(expected, evaluate(inputs[0]))):
        if got.dtype != want.dtype or got.shape != want.shape or \
                not np.allclose(got, want, rtol=RTOL, atol=ATOL):
            tt.fail("expected output %d of the small model is %r, numpy says %r" % (k, got, want))
    print("ok   the embedded expected f32, i64 and bool outputs match numpy's")
    x = np.array([[1, 0.5, 2], [1.25, 3, -1]], np.float32)
    for k, label in ((1, "an i64 output off by one"), (2, "a bool output flipped")):
        data = tt.fresh_dir(os.path.join(work, "small-data-%d" % k))
        outputs = evaluate(x)
        outputs[k].flat[1] = 1 - outputs[k].flat[1] if k == 2 else outputs[k].flat[1] + 1
        save(os.path.join(data, "input_0.pb"), x)
        for j, o in enumerate(outputs):
            save(os.path.join(data, "output_%d.pb" % j), o)
        folder = os.path.join(work, "small-%d" % k)
        t.compile(model, folder, ["--selftest-data", data])
        t.expect_status(folder, k + 1, label)


def data_copy(work, name, source, change=None):
    """A copy of the test data folder source, output_0.pb changed by
    change(array) where given (None: inputs only)."""
    folder = tt.fresh_dir(os.path.join(work, "data-" + name))
    shutil.copy(os.path.join(source, "input_0.pb"), folder)
    if change is not None:
        want = tt.load_tensor(os.path.join(source, "output_0.pb")).copy()
        change(want)
        save(os.path.join(folder, "output_0.pb"), want)
    return folder


def one_off(want):
    i = want.size // 3
    v = want.flat[i]
    want.flat[i] = v + 5 * (ATOL + RTOL * abs(v))


def nan_at(want):
    want.flat[want.size // 2] = np.nan


def one_percent_off(want):
    want *= np.float32(1.01)


def check_depfile(folder, model, data):
    """-MD: the selftest is a target, the test data files prerequisites."""
    want = "%s %s %s: \\\n  %s \\\n  %s \\\n  %s\n" % tuple(
        [os.path.join(folder, f) for f in ("net.o", "net.h", "net_selftest.c")]
        + [model] + [os.path.join(data, f) for f in ("input_0.pb", "output_0.pb")])
    got = open(os.path.join(folder, "net.d")).read()
    if got != want:
        tt.fail("the depfile is\n%s\nexpected\n%s" % (got, want))
    print("ok   -MD: the depfile's targets include the selftest, its prerequisites "
          "the test data")


def check_reference_model(t, work, name, first):
    model, data = tt.reference(t.args.models_dir, name)
    base = os.path.join(work, name)

    def status(label, want, flags=()):
        folder = os.path.join(base, re.sub(r"[^\w]+", "-", label))
        t.compile(model, folder, flags)
        t.expect_status(folder, want, "%s, %s" % (name, label))
        return folder

    folder = status("pytorch outputs", 0, ["--selftest-data", data, "-MD"])
    check_depfile(folder, model, data)
    status("default test vector", 0)
    folder = status("inputs only, expected outputs computed here", 0,
                    ["--selftest-data", data_copy(base, "inputs-only", data)])
    pytorch = tt.load_tensor(os.path.join(data, "output_0.pb"))
    tt.expect_close(embedded(folder)[1][0], pytorch, RTOL, ATOL,
                    "%s: expected output computed here vs PyTorch's" % name)
    print("ok   %s: the expected output computed here matches PyTorch's" % name)
    status("one element off by 5x its allowance", 1,
           ["--selftest-data", data_copy(base, "one-off", data, one_off)])
    status("NaN expected in one element", 1,
           ["--selftest-data", data_copy(base, "nan", data, nan_at)])
    if first:
        off = data_copy(base, "one-percent", data, one_percent_off)
        status("every element 1% off", 1, ["--selftest-data", off])
        status("every element 1% off, --selftest-rtol 0.02", 0,
               ["--selftest-data", off, "--selftest-rtol", "0.02"])


def check_atomic(t, work):
    """A failed compile removes the object, the header and the selftest."""
    folder = os.path.join(work, "atomic")
    t.compile(tt.EXAMPLE_MODEL, folder)
    bad = tt.fresh_dir(os.path.join(work, "bad-data"))
    save(os.path.join(bad, "input_0.pb"), np.zeros([1, 2], np.float32))
    r = tt.run([t.args.tidalc, "compile", tt.EXAMPLE_MODEL, "-o", os.path.join(folder, "net.o"),
                "--name", "net", "--emit-selftest", os.path.join(folder, "net_selftest.c"),
                "--selftest-data", bad], timeout=600)
    left = sorted(os.listdir(folder))
    if r.rc != tt.EXIT_USAGE or "input_0.pb" not in r.err or left:
        tt.fail("--selftest-data that does not fit: exit %s (expected 3), %s left behind:\n%s"
                % (r.rc, left, r.err))
    print("ok   --selftest-data that does not fit: exit 3 (%s), nothing left behind"
          % tt.first_error(r.err))


def check_nvptx(t, work):
    """The host program calls net_selftest as on the CPU targets; net_run
    runs on the stand-in CUDA driver with the device code emulated on the
    host (nvptx_emulation.py), for the example and the first model of
    --names; without a driver, net_run's status comes back."""
    emu.skip_without_clang(t.args.clang)
    mock = emu.build_mock(work)
    name = tt.model_names(t.args)[0]
    model, data = tt.reference(t.args.models_dir, name)
    for label, path in (("classifier", tt.EXAMPLE_MODEL), (name, model)):
        t.env = emu.mock_env(mock, emu.device_library(t.args.tidalc, t.args.clang, path,
                                                      work, label))
        folder = os.path.join(work, label)
        t.compile(path, folder)
        t.expect_status(folder, 0, "%s, default test vector, emulated device" % label)
    folder = os.path.join(work, name + "-pytorch")
    t.compile(model, folder, ["--selftest-data", data])
    t.expect_status(folder, 0, "%s, pytorch outputs, emulated device" % name)
    folder = os.path.join(work, name + "-one-off")
    t.compile(model, folder, ["--selftest-data", data_copy(work, "one-off", data, one_off)])
    t.expect_status(folder, 1, "%s, one element off by 5x its allowance, emulated device" % name)
    if emu.has_cuda_driver():
        tt.skip_part("a CUDA driver is installed: the no-driver status is not checked")
    else:
        t.env = None  # -1, TIDAL_CUDA_ERROR_NO_DRIVER: the program exits 255
        t.expect_status(folder, 255, "%s, no CUDA driver (net_run's status -1)" % name)
    tt.end_skipped_parts()


def main():
    args = parse_args()
    work = tt.work_dir(args.work, "selftest")
    t = Target(args)
    if args.target == "nvptx":
        check_nvptx(t, work)
        return
    tt.require_target_tools(args.target)
    check_classifier(t, work)
    check_small_model(t, work)
    for i, name in enumerate(tt.model_names(args)):
        check_reference_model(t, work, name, i == 0)
    check_atomic(t, work)


if __name__ == "__main__":
    main()
