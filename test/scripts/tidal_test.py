"""Helpers shared by Tidal's test runners (test/scripts/*.py).

Every runner takes the compiler as --tidalc (default build/bin/tidalc) and
the target as --target, so that a cortex-a53 or nvptx variant of a test is
the same script with another argument. What more than one runner does the
same way lives here: running a command with a timeout, the common options,
compiling a model, reading nm's symbols, comparing numbers, exporting the
reference models, failing with a message.
"""
import argparse
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.path.normpath(os.path.join(REPO, "..", "shared"))
SUITE_DIR = os.path.join(SHARED, "onnx-tests")
DEFAULT_TIDALC = os.path.join(REPO, "build", "bin", "tidalc")
DEFAULT_MODELS_DIR = os.path.join(REPO, "build", "models")
DEFAULT_CLANG = "/usr/lib/llvm-19/bin/clang"
DEFAULT_PTXAS = "/usr/local/cuda/bin/ptxas"
EXAMPLE_MODEL = os.path.join(REPO, "examples", "classifier.onnx")
TARGETS = ["x86-64", "cortex-a53", "nvptx"]
REFERENCE_MODELS = ["resnet18", "resnet50", "mobilenet_v2", "squeezenet1_1",
                    "kws_dscnn", "ic_resnet8", "ad_autoencoder", "bert_tiny_enc"]
# Exit statuses of tidalc (docs/cli.md).
EXIT_OK, EXIT_MISMATCH, EXIT_REJECTED, EXIT_USAGE = 0, 1, 2, 3
# The exit status of a test that could not run (test/CMakeLists.txt gives
# every test SKIP_RETURN_CODE 77, so ctest reports it as skipped, not passed).
EXIT_SKIPPED = 77
# The line `tidalc run` prints when it bound graph inputs at compile time.
BOUND_PREFIX = "bound inputs: "


class Result:
    """What a command did: its exit status (negative: killed by that
    signal; None: timed out), stdout and stderr."""

    def __init__(self, rc, out, err):
        self.rc, self.out, self.err = rc, out, err

    @property
    def timed_out(self):
        return self.rc is None


def run(cmd, timeout=None, env=None, cwd=None):
    """Runs cmd in a session of its own so that a timeout kills its children
    too (tidalc run starts the compiled driver, maybe qemu)."""
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=env, cwd=cwd, start_new_session=True)
    try:
        out, err = p.communicate(timeout=timeout)
        rc = p.returncode
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, err = p.communicate()
        rc = None
    return Result(rc, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"))


def checked(cmd, what, timeout=600, env=None):
    """Runs cmd and fails the test, showing the command and its output,
    unless it exits 0; returns its Result."""
    r = run(cmd, timeout=timeout, env=env)
    if r.rc != 0:
        status = "timed out after %d s" % timeout if r.timed_out else "exit %s" % r.rc
        fail("%s failed (%s):\n%s\n%s%s" % (what, status, " ".join(cmd), r.out, r.err))
    return r


def compile_model(tidalc, model, out, flags=(), timeout=600):
    """`tidalc compile MODEL -o OUT FLAGS...`, which must succeed."""
    return checked([tidalc, "compile", model, "-o", out] + list(flags),
                   "compiling " + model, timeout=timeout)


# --- Options --------------------------------------------------------------


def parser(doc):
    """An argument parser whose --help shows the script's docstring as written."""
    return argparse.ArgumentParser(description=doc,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)


def add_common_args(parser, target=True, work=False):
    """--tidalc; --target and --mcpu unless target is False; --work (the
    folder for the test's files, default a new temporary one) if work."""
    parser.add_argument("--tidalc", default=DEFAULT_TIDALC, help="the compiler")
    if target:
        parser.add_argument("--target", default="x86-64", choices=TARGETS)
        parser.add_argument("--mcpu", default=None, help="passed to tidalc")
    if work:
        parser.add_argument("--work", default=None,
                            help="folder for the test's files (default: a temporary one)")


def add_models_args(parser, names=None, export=False):
    """--models-dir (the exported reference set); --names (also spelled
    --models), comma-separated, defaulting to names, unless names is None;
    --shared-dir if the script exports the set itself (export_models)."""
    if export:
        parser.add_argument("--shared-dir", default=SHARED,
                            help="the shared folder (its models/export.py)")
    parser.add_argument("--models-dir", default=DEFAULT_MODELS_DIR,
                        help="the exported reference models")
    if names is not None:
        parser.add_argument("--names", "--models", default=names,
                            help="comma-separated reference models (default %(default)s)")


def model_names(args):
    """The models of --names, as a list; fails when it names none (a runner
    given nothing to check must not pass)."""
    names = [n.strip() for n in args.names.split(",") if n.strip()]
    if not names:
        fail("--names lists no models")
    return names


def target_args(args):
    """The tidalc flags selecting args' target."""
    flags = ["--target", args.target]
    if getattr(args, "mcpu", None):
        flags += ["--mcpu", args.mcpu]
    return flags


# --- Files and folders ----------------------------------------------------


def fresh_dir(path):
    """An empty folder at path (made, or emptied)."""
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


def work_dir(path, name):
    """path if given, else a new temporary folder."""
    return fresh_dir(path) if path else tempfile.mkdtemp(prefix="tidal-%s-" % name)


def write_text(path, text):
    with open(path, "w") as f:
        f.write(text)


def broken_model_files(work, good):
    """label -> a file in work that holds no model: garbage bytes, the
    model file good cut short, an empty file, a TensorProto, a ModelProto
    without a graph. tidalc must reject each with exit 2 (docs/cli.md)."""
    import onnx
    from onnx import numpy_helper
    import numpy as np
    files = {k: os.path.join(work, k + ".onnx")
             for k in ("garbage", "truncated", "empty", "tensor-not-model", "graphless")}
    with open(files["garbage"], "wb") as f:
        f.write(bytes((i * 97 + 13) % 256 for i in range(4096)))
    with open(good, "rb") as f, open(files["truncated"], "wb") as g:
        data = f.read()
        g.write(data[:len(data) * 2 // 3])
    open(files["empty"], "wb").close()
    with open(files["tensor-not-model"], "wb") as f:
        f.write(numpy_helper.from_array(np.arange(6, dtype=np.float32), "x")
                .SerializeToString())
    # Parses as a ModelProto, but holds no graph.
    with open(files["graphless"], "wb") as f:
        f.write(onnx.ModelProto(ir_version=8, producer_name="tidal tests")
                .SerializeToString())
    return files


def case_files(folder):
    """model.onnx and test_data_set_0/ of a case in the ONNX test layout."""
    return os.path.join(folder, "model.onnx"), os.path.join(folder, "test_data_set_0")


def reference(models_dir, name):
    """model.onnx and test_data_set_0/ of the reference model name."""
    return case_files(os.path.join(models_dir, name))


def load_tensor(path):
    """A serialized TensorProto (input_K.pb, output_K.pb) as a numpy array."""
    import onnx
    from onnx import numpy_helper
    return numpy_helper.to_array(onnx.load_tensor(path))


def sample(items, count, seed):
    """A fixed random subset of count items (sorted), given the seed; all of
    them when count is 0 or not smaller."""
    if count and count < len(items):
        return sorted(random.Random(seed).sample(items, count))
    return items


# --- Building and running programs ----------------------------------------


def link_flags(tidalc, target="x86-64"):
    r = run([tidalc, "link-flags", "--target", target])
    if r.rc != 0:
        fail("tidalc link-flags failed: " + r.err.strip())
    return r.out.split()


def c_compiler(target):
    """The C compiler and the flags that link a program for target, and the
    prefix that runs it."""
    if target == "cortex-a53":
        return (["aarch64-linux-gnu-gcc"], ["-static"],
                ["qemu-aarch64", "-cpu", "cortex-a53", "-L", "/usr/aarch64-linux-gnu"])
    return (["cc"], [], [])


def require_target_tools(target):
    """Skips the test (skip) when target's programs cannot be built or run
    here: cortex-a53 needs the aarch64 cross gcc and qemu-aarch64, which
    tools/setup/install-deps.sh installs."""
    cc, _, runner = c_compiler(target)
    missing = [t for t in cc + runner[:1] if not shutil.which(t)]
    if missing:
        skip("%s needs %s, not found (make installs them)" % (target, ", ".join(missing)))


# The flags of the C programs that stand for a user's strict C99 code.
STRICT_C99 = ["-std=c99", "-pedantic", "-Wall", "-Wextra", "-Werror", "-O2"]


def check_headers_compile_as_cxx(work, headers, expression):
    """The headers in work compile as C++11 too (-Wall -Werror), in a
    program returning expression."""
    src = os.path.join(work, "check.cpp")
    write_text(src, "".join('#include "%s"\n' % h for h in headers)
               + "int main() { return %s; }\n" % expression)
    r = run(["c++", "-std=c++11", "-Wall", "-Werror", "-fsyntax-only", "-I", work, src])
    if r.rc != 0:
        fail("%s: not valid C++:\n%s" % (", ".join(headers), r.err))


def symbols(path, flags, nm="nm"):
    """The symbol names `nm --format=posix FLAGS path` lists, in its order
    (for an archive, of every member)."""
    out = checked([nm, "--format=posix"] + flags + [path], "nm " + path).out
    return [line.split()[0] for line in out.splitlines()
            if line.strip() and not line.endswith(":")]


# --- Checking results -----------------------------------------------------


def expect(cond, msg):
    if not cond:
        fail(msg)


def expect_close(got, want, rtol, atol, label):
    """Fails unless every value of got is within atol + rtol * |want| of the
    one of want (NaN never is; an infinity only the same one). Both are
    flattened; the caller checks their shapes."""
    import numpy as np
    got, want = np.asarray(got).ravel(), np.asarray(want).ravel()
    bad = ~np.isclose(got, want, rtol=rtol, atol=atol)
    if bad.any():
        i = int(np.argmax(bad))
        fail("%s: %d of %d values differ; first at %d: got %g want %g"
             % (label, int(bad.sum()), want.size, i, got[i], want[i]))


def first_error(text):
    """The first `error: ...` line of tidalc's stderr, without the prefix,
    else its first non-empty line."""
    lines = [l.strip() for l in text.splitlines() if l.strip()]
    for l in lines:
        if l.startswith("error: "):
            return l[len("error: "):]
    return lines[0] if lines else ""


def bound_inputs(out):
    """The inputs `tidalc run --bind-shape-inputs` bound ("a, b"), or ""."""
    for line in out.splitlines():
        if line.startswith(BOUND_PREFIX):
            return line[len(BOUND_PREFIX):].strip()
    return ""


TMP_PATH = re.compile(r"/[^\s'\"]*tidalc-run-[^\s'\"/]*")


def scrub(text):
    """Removes what differs between runs (temporary folders) from a message."""
    return TMP_PATH.sub("<tmp>", text)


def print_outcome(ok, title, lines=()):
    """`ok   TITLE` or `FAIL TITLE`, then lines indented (scrubbed)."""
    print("%-4s %s" % ("ok" if ok else "FAIL", title))
    for line in lines:
        print("     " + scrub(line))
    sys.stdout.flush()


def finish(summary, failed):
    """Prints the summary line; fails, naming them, if anything failed."""
    print(summary)
    if failed:
        fail("failed: " + ", ".join(failed))


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def skip(why):
    """Ends a test that cannot run here (a tool is missing) as skipped:
    ctest reports it so, and `make test` lists it with this reason."""
    print("SKIPPED: " + why, flush=True)
    sys.exit(EXIT_SKIPPED)


_SKIPPED_PARTS = []


def skip_part(why):
    """Notes that part of a test cannot run here; the rest still runs and
    may fail, but a test that passes with a part skipped ends as skipped
    (end_skipped_parts), never as passed."""
    print("SKIPPED (part): " + why, flush=True)
    _SKIPPED_PARTS.append(why)


def end_skipped_parts():
    """Called last by a test that passed: skipped if any part was."""
    if _SKIPPED_PARTS:
        skip("; ".join(_SKIPPED_PARTS))


# --- The reference models and the example ----------------------------------


def check_example_and_models(doc, name, check, names="ic_resnet8,kws_dscnn"):
    """main() of the scripts that check compiled objects (deterministic.py):
    parses --tidalc, --target, --mcpu, --models-dir, --names and --work,
    then calls check(args, label, model, work) for
    examples/classifier.onnx (label `example`) and each model of --names."""
    p = parser(doc)
    add_common_args(p, work=True)
    add_models_args(p, names=names)
    args = p.parse_args()
    work = work_dir(args.work, name)
    check(args, "example", EXAMPLE_MODEL, work)
    for model in model_names(args):
        check(args, model, reference(args.models_dir, model)[0], work)


def models_ready(models_dir, names=REFERENCE_MODELS):
    return all(os.path.exists(os.path.join(models_dir, n, "test_data_set_0", "output_0.pb"))
               and os.path.exists(os.path.join(models_dir, n, "model.onnx")) for n in names)


def export_script_digest(script):
    import hashlib
    with open(script, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def export_models(shared_dir, models_dir, python="/usr/bin/python3", script=None,
                  names=REFERENCE_MODELS):
    """Exports the reference set (or names, by script) once; a stamp file
    holding the digest of the script marks a finished export, so a changed
    script (new weights, new expected outputs) exports again."""
    stamp = os.path.join(models_dir, ".exported")
    script = script or os.path.join(shared_dir, "models", "export.py")
    digest = export_script_digest(script)
    if os.path.exists(stamp) and models_ready(models_dir, names):
        with open(stamp) as f:
            if f.read().strip() == digest:
                return
    os.makedirs(models_dir, exist_ok=True)
    r = run([python, script, models_dir], timeout=1800)
    if r.rc != 0 or not models_ready(models_dir, names):
        fail("exporting the models of %s failed:\n%s%s" % (script, r.out, r.err))
    write_text(stamp, digest + "\n")
