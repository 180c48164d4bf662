"""Helpers shared by Tidal's test runners (test/scripts/*.py).

Every runner takes the compiler as --tidalc (default build/bin/tidalc) and
the target as --target, so that a cortex-a53 or nvptx variant of a test is
the same script with another argument.
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.path.normpath(os.path.join(REPO, "..", "shared"))
DEFAULT_TIDALC = os.path.join(REPO, "build", "bin", "tidalc")
DEFAULT_MODELS_DIR = os.path.join(REPO, "build", "models")
TARGETS = ["x86-64", "cortex-a53", "nvptx"]
REFERENCE_MODELS = ["resnet18", "resnet50", "mobilenet_v2", "squeezenet1_1",
                    "kws_dscnn", "ic_resnet8", "ad_autoencoder", "bert_tiny_enc"]
# Exit statuses of tidalc (docs/cli.md).
EXIT_OK, EXIT_MISMATCH, EXIT_REJECTED, EXIT_USAGE = 0, 1, 2, 3


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


def add_common_args(parser, target=True):
    parser.add_argument("--tidalc", default=DEFAULT_TIDALC, help="the compiler")
    if target:
        parser.add_argument("--target", default="x86-64", choices=TARGETS)
        parser.add_argument("--mcpu", default=None, help="passed to tidalc")


def target_args(args):
    """The tidalc flags selecting args' target."""
    flags = ["--target", args.target]
    if getattr(args, "mcpu", None):
        flags += ["--mcpu", args.mcpu]
    return flags


def fresh_dir(path):
    """An empty folder at path (made, or emptied)."""
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


def work_dir(path, name):
    """path if given, else a new temporary folder."""
    return fresh_dir(path) if path else tempfile.mkdtemp(prefix="tidal-%s-" % name)


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


def models_ready(models_dir, names=REFERENCE_MODELS):
    return all(os.path.exists(os.path.join(models_dir, n, "test_data_set_0", "output_0.pb"))
               and os.path.exists(os.path.join(models_dir, n, "model.onnx")) for n in names)


def export_models(shared_dir, models_dir, python="/usr/bin/python3"):
    """Exports the reference set once; a stamp file marks a finished export."""
    stamp = os.path.join(models_dir, ".exported")
    if os.path.exists(stamp) and models_ready(models_dir):
        return
    os.makedirs(models_dir, exist_ok=True)
    script = os.path.join(shared_dir, "models", "export.py")
    r = run([python, script, models_dir], timeout=1800)
    if r.rc != 0 or not models_ready(models_dir):
        fail("exporting the reference models failed:\n%s%s" % (r.out, r.err))
    open(stamp, "w").close()


def first_error(text):
    """The first `error: ...` line of tidalc's stderr, without the prefix,
    else its first non-empty line."""
    lines = [l.strip() for l in text.splitlines() if l.strip()]
    for l in lines:
        if l.startswith("error: "):
            return l[len("error: "):]
    return lines[0] if lines else ""


TMP_PATH = re.compile(r"/[^\s'\"]*tidalc-run-[^\s'\"/]*")


def scrub(text):
    """Removes what differs between runs (temporary folders) from a message."""
    return TMP_PATH.sub("<tmp>", text)


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)
