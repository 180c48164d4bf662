#!/usr/bin/python3
"""The example firmware (examples/firmware) builds with plain make, runs,
and rebuilds only what a change touches; tidalc's depfile says what a
compile read.

1. examples/firmware/ is copied into a clean folder with the example model
   (examples/classifier.onnx) saved with its weights as external data
   ("weights data.bin", a name with a space), and built with `make`
   (TIDAL_ROOT: this repository, TIDALC: the tidalc under test) for
   Cortex-A53 through tools/tidal.mk; `make run` runs it under qemu and it
   must print examples/expected_output.txt within 2e-5.
2. `make -q` says all is up to date; after touching the weights file, and
   then the model, `make` must rebuild classifier.o, classifier.h, main.o
   (which includes the header) and the image, and not board.o.
3. The depfile: exactly the object and header as targets, the model and
   its data file as prerequisites (the space escaped), a phony target for
   the data file (-MP); a --bind-input tensor and a --schedule file are
   listed too; -MF names it; a compile that fails leaves no depfile, and
   -MD without a file to name (-o /dev/null) is a usage error (exit 3).
4. `make classifier.bin TIDAL_FLAGS=--weights\ external` writes the weights
   file with the object and header (one grouped rule), the depfile names
   all three, and touching the model makes it again.

    firmware_make.py [--work DIR]
"""
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import example  # noqa: E402
import tidal_test as tt  # noqa: E402

FIRMWARE = os.path.join(tt.REPO, "examples", "firmware")
DATA = "weights data.bin"


def read_text(path):
    with open(path) as f:
        return f.read()


def external_model(src, folder):
    """src saved in folder as classifier.onnx with every initializer's bytes
    in DATA."""
    import onnx
    m = onnx.load(src)
    onnx.save_model(m, os.path.join(folder, "classifier.onnx"), save_as_external_data=True,
                    all_tensors_to_one_file=True, location=DATA, size_threshold=0)


def make(args, folder, *targets, check=True):
    cmd = ["make", "-C", folder, "TIDAL_ROOT=" + tt.REPO, "TIDALC=" + os.path.abspath(args.tidalc),
           "MODELS=" + os.path.join(folder, "models")] + list(targets)
    r = tt.run(cmd, timeout=600)
    if check and r.rc != 0:
        tt.fail("%s failed (exit %s):\n%s%s" % (" ".join(cmd), r.rc, r.out, r.err))
    return r


def mtimes(folder, names):
    return {n: os.stat(os.path.join(folder, n)).st_mtime_ns for n in names}


def touch_later(path):
    """Moves path's modification time a minute ahead, past any coarse
    time stamp of the files built from it."""
    t = os.stat(path).st_mtime + 60
    os.utime(path, (t, t))


def check_rebuild(args, folder, touched):
    built = ["classifier.o", "classifier.h", "main.o", "firmware"]
    before = mtimes(folder, built + ["board.o"])
    touch_later(touched)
    make(args, folder)
    after = mtimes(folder, built + ["board.o"])
    stale = [n for n in built if after[n] == before[n]]
    if stale:
        tt.fail("after touching %s, make did not rebuild %s" % (os.path.basename(touched),
                                                               ", ".join(stale)))
    if after["board.o"] != before["board.o"]:
        tt.fail("after touching %s, make rebuilt board.o, which does not depend on "
                "the model" % os.path.basename(touched))
    print("touching %s rebuilt %s and not board.o" % (os.path.basename(touched),
                                                     ", ".join(built)))


def check_firmware(args, work):
    folder = os.path.join(work, "firmware")
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(FIRMWARE, folder)
    os.makedirs(os.path.join(folder, "models"))
    external_model(tt.EXAMPLE_MODEL, os.path.join(folder, "models"))
    make(args, folder)
    example.check(make(args, folder, "--no-print-directory", "-s", "run").out)
    if make(args, folder, "-q", check=False).rc != 0:
        tt.fail("make -q: the firmware is not up to date right after make")
    check_rebuild(args, folder, os.path.join(folder, "models", DATA))
    check_rebuild(args, folder, os.path.join(folder, "models", "classifier.onnx"))
    want = ("./classifier.o ./classifier.h: \\\n  %s \\\n  %s\n\n%s:\n" % (
        os.path.join(folder, "models", "classifier.onnx"),
        os.path.join(folder, "models", DATA.replace(" ", "\\ ")),
        os.path.join(folder, "models", DATA.replace(" ", "\\ "))))
    got = read_text(os.path.join(folder, "classifier.d"))
    if got != want:
        tt.fail("classifier.d is\n%s\nexpected\n%s" % (got, want))


def check_external_weights(args, work):
    """Step 4, in the folder step 1 built."""
    folder = os.path.join(work, "firmware")
    flags = "TIDAL_FLAGS=--weights external"
    make(args, folder, flags, "classifier.bin")
    weights = os.path.join(folder, "classifier.bin")
    if not os.path.exists(weights):
        tt.fail("make classifier.bin with --weights external wrote no classifier.bin")
    if not read_text(os.path.join(folder, "classifier.d")).startswith(
            "./classifier.o ./classifier.h ./classifier.bin:"):
        tt.fail("the depfile does not name classifier.bin:\n"
                + read_text(os.path.join(folder, "classifier.d")))
    before = mtimes(folder, ["classifier.bin"])
    touch_later(os.path.join(folder, "models", "classifier.onnx"))
    make(args, folder, flags, "classifier.bin")
    if mtimes(folder, ["classifier.bin"]) == before:
        tt.fail("touching the model did not make classifier.bin again")
    print("--weights external through tidal.mk: classifier.bin made with the object and "
          "header, named by the depfile, made again after touching the model")


def check_depfile_flags(args, work):
    folder = tt.fresh_dir(os.path.join(work, "depfile"))
    model = os.path.join(folder, "m.onnx")
    shutil.copy(tt.EXAMPLE_MODEL, model)
    sched = os.path.join(folder, "s.sched")
    tt.write_text(sched, "")
    obj, dep = os.path.join(folder, "m.o"), os.path.join(folder, "deps.d")
    r = tt.run([args.tidalc, "compile", model, "-o", obj, "-MF", dep,
                "--schedule", sched])
    if r.rc != 0:
        tt.fail("tidalc compile -MF failed: %s" % r.err)
    want = "%s %s: \\\n  %s \\\n  %s\n" % (obj, os.path.join(folder, "m.h"), model, sched)
    if read_text(dep) != want:
        tt.fail("-MF %s is\n%s\nexpected\n%s" % (dep, read_text(dep), want))
    bad = os.path.join(folder, "bad.onnx")
    tt.write_text(bad, "not a model")
    bad_dep = os.path.join(folder, "bad.d")
    r = tt.run([args.tidalc, "compile", bad, "-o", os.path.join(folder, "bad.o"), "-MD"])
    if r.rc != 2 or os.path.exists(bad_dep):
        tt.fail("a failed compile with -MD: exit %s (want 2), depfile left: %s"
                % (r.rc, os.path.exists(bad_dep)))
    r = tt.run([args.tidalc, "compile", model, "-o", os.devnull, "-MD"])
    if r.rc != 3 or "needs -o to name a file" not in r.err:
        tt.fail("-MD with -o /dev/null: exit %s (want 3): %s" % (r.rc, r.err))
    print("depfile: -MF, --schedule, failed compiles and -o /dev/null as documented")


def main():
    p = tt.parser(__doc__)
    tt.add_common_args(p, target=False, work=True)
    args = p.parse_args()
    for tool in ("make", "aarch64-linux-gnu-gcc", "qemu-aarch64"):
        if not shutil.which(tool):
            tt.skip("%s is not installed (tools/setup/install-deps.sh installs it)" % tool)
    work = tt.work_dir(args.work, "firmware-make")
    check_firmware(args, work)
    check_external_weights(args, work)
    check_depfile_flags(args, work)


if __name__ == "__main__":
    main()
