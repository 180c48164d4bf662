"""Running nvptx models without a GPU, for the nvptx tests.

A stand-in CUDA driver (mock_libcuda.c, built here as libcuda.so.1 and found
through LD_LIBRARY_PATH) lets the real runtime launcher and the real host
object run. With MOCK_CUDA_KERNELS it also runs the kernels: the device
code that becomes PTX (`tidalc compile --target nvptx --emit llvm`: the
optimized NVPTX module, math library linked in) is recompiled for the host
after four textual changes, and each launch calls the entry once per
(block, thread), in reverse order. What this checks: the schedule (which
loops run as threads, the guard, the fused indices), the launch list and
the argument bindings of the descriptor, the weights' residency and the
copies. What it cannot check: the PTX itself (ptx_assembles.py does, with
ptxas) and the real GPU.
"""
import ctypes
import os
import re

import tidal_test as tt

HERE = os.path.dirname(os.path.abspath(__file__))

EMU_IDS = """/* The block and thread indices of the emulated launch. */
static unsigned Block, Thread;
unsigned emu_ctaid_x(void) { return Block; }
unsigned emu_tid_x(void) { return Thread; }
void emu_set(unsigned b, unsigned t) { Block = b; Thread = t; }
"""


def has_cuda_driver():
    """Whether this machine can load the real libcuda.so.1."""
    try:
        ctypes.CDLL("libcuda.so.1")
        return True
    except OSError:
        return False


def skip_without_clang(clang):
    """Ends the test as skipped (tt.skip) when there is no clang to build the
    emulated kernels with."""
    if not os.access(clang, os.X_OK):
        tt.skip("no clang at %s to build the emulated kernels" % clang)


def build_mock(work):
    """Builds the stand-in driver; returns the folder holding libcuda.so.1."""
    folder = os.path.join(work, "mock")
    os.makedirs(folder, exist_ok=True)
    tt.checked(["cc", "-shared", "-fPIC", "-O1", "-Wall", "-Wextra", "-Werror",
                os.path.join(HERE, "mock_libcuda.c"), "-ldl",
                "-o", os.path.join(folder, "libcuda.so.1")],
               "building the mock CUDA driver", timeout=300)
    return folder


def host_ir(device_ir):
    """The device module's IR, made compilable for the host: no NVPTX triple
    or data layout, the special-register reads become calls to emu_*, no
    ptx_kernel calling convention, no sm_XX target attributes."""
    ll = re.sub(r"^target (triple|datalayout) = .*$", "", device_ir, flags=re.M)
    ll = ll.replace("@llvm.nvvm.read.ptx.sreg.ctaid.x", "@emu_ctaid_x")
    ll = ll.replace("@llvm.nvvm.read.ptx.sreg.tid.x", "@emu_tid_x")
    ll = ll.replace("define ptx_kernel ", "define ")
    ll = re.sub(r' "target-(cpu|features)"="[^"]*"', "", ll)
    if re.search(r"@llvm\.nvvm\.", ll):
        tt.fail("the device IR uses NVVM intrinsics the emulation lacks: %s"
                % sorted(set(re.findall(r"@llvm\.nvvm\.[\w.]+", ll))))
    return ll


def device_library(tidalc, clang, model, work, label, extra=()):
    """Compiles model's device code for the host as a shared library."""
    ir = os.path.join(work, label + ".device.ll")
    tt.compile_model(tidalc, model, ir, ["--target", "nvptx", "--emit", "llvm",
                                         "--header", ir + ".h"] + list(extra), timeout=900)
    with open(ir) as f:
        text = host_ir(f.read())
    host = os.path.join(work, label + ".host.ll")
    tt.write_text(host, text)
    ids = os.path.join(work, "emu_ids.c")
    tt.write_text(ids, EMU_IDS)
    obj = os.path.join(work, label + ".host.o")
    lib = os.path.join(work, label + ".kernels.so")
    tt.checked([clang, "-target", "x86_64-linux-gnu", "-O1", "-fPIC",
                "-Wno-override-module", "-c", host, "-o", obj],
               "%s: compiling the emulated kernels" % label, timeout=900)
    # -lm: llvm.floor & co. become libm calls on a plain x86-64.
    tt.checked(["cc", "-shared", "-fPIC", obj, ids, "-lm", "-o", lib],
               "%s: linking the emulated kernels" % label, timeout=900)
    return lib


def mock_env(mock_dir, kernels=None, log=None):
    """The environment that makes programs use the mock driver."""
    env = dict(os.environ)
    env["LD_LIBRARY_PATH"] = mock_dir + (
        ":" + env["LD_LIBRARY_PATH"] if env.get("LD_LIBRARY_PATH") else "")
    env.pop("MOCK_CUDA_KERNELS", None)
    env.pop("MOCK_CUDA_LOG", None)
    if kernels:
        env["MOCK_CUDA_KERNELS"] = kernels
    if log:
        env["MOCK_CUDA_LOG"] = log
        if os.path.exists(log):
            os.remove(log)
    return env


def read_log(log):
    """The mock's log as a list of word lists."""
    if not os.path.exists(log):
        return []
    with open(log) as f:
        return [l.split() for l in f if l.strip()]


def driver_errors(calls):
    """The errors the mock found (its `error ...` lines), as strings."""
    return [" ".join(c) for c in calls if c[0] == "error"]


def run_on_mock(tidalc, model, data, mock_dir, kernels=None, log=None, flags=(),
                timeout=900):
    """`tidalc run MODEL --inputs DATA --target nvptx FLAGS...` with the mock
    driver (running kernels, when given); returns the Result and the calls
    the mock logged."""
    r = tt.run([tidalc, "run", model, "--inputs", data, "--target", "nvptx"] + list(flags),
               timeout=timeout, env=mock_env(mock_dir, kernels, log))
    return r, read_log(log) if log else []
