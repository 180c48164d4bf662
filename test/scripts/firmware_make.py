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
   The image is laid out by examples/firmware/firmware.ld: read from its
   section table and nm, every allocated section lies in one of the
   script's MEMORY regions, the read-only ones in FLASH and the writable
   ones in RAM; the weights (output section .tidal.weights, the header's
   CLASSIFIER_WEIGHTS_SIZE bytes, 64-aligned, holding classifier_weights)
   in FLASH; __stack_top in RAM. Built again with TIDAL_FLAGS=--align 4096,
   it prints the same and its weights are 4096-aligned. The runtime code
   the image links (.text from libtidalrt.a in firmware.map) is at most
   4 KiB (issue 8); an image whose model calls powf must show pow.o and
   exp_log.o in the same count, so the map is read.
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
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import abi_contract  # noqa: E402
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


def memory_regions(script):
    """name -> (origin, length) of the MEMORY regions of a linker script
    (lengths in bytes, K or M)."""
    scale = {"": 1, "K": 1 << 10, "M": 1 << 20}
    regions = {}
    for m in re.finditer(r"^\s*(\w+)\s*\([a-z!]*\)\s*:\s*ORIGIN\s*=\s*(\w+)\s*,"
                         r"\s*LENGTH\s*=\s*(\d+)([KM]?)\s*$", read_text(script), re.M):
        regions[m.group(1)] = (int(m.group(2), 0), int(m.group(3)) * scale[m.group(4)])
    if set(regions) != {"FLASH", "RAM"}:
        tt.fail("%s: MEMORY regions %s, expected FLASH and RAM" % (script, sorted(regions)))
    return regions


def region_of(regions, start, size):
    """The region holding [start, start + size), or None."""
    for name, (origin, length) in sorted(regions.items()):
        if origin <= start and start + size <= origin + length:
            return name
    return None


def header_macro(header, name):
    m = re.search(r"^#define %s\s+(\d+)" % name, read_text(header), re.M)
    if not m:
        tt.fail("%s does not define %s" % (header, name))
    return int(m.group(1))


def check_layout(folder, align=64):
    """The image's sections and symbols lie where firmware.ld puts them;
    the weights are aligned to align."""
    regions = memory_regions(os.path.join(folder, "firmware.ld"))
    image = os.path.join(folder, "firmware")
    elf = abi_contract.Elf(image)
    for sec in elf.sections:
        if not sec["flags"] & abi_contract.SHF_ALLOC or sec["size"] == 0:
            continue
        want = "RAM" if sec["flags"] & abi_contract.SHF_WRITE else "FLASH"
        got = region_of(regions, sec["addr"], sec["size"])
        if got != want:
            tt.fail("section %s (%s, 0x%x, %d bytes) is in %s, expected %s" % (
                sec["name"], abi_contract.flag_letters(sec["flags"]), sec["addr"], sec["size"],
                got or "no region", want))
    weights = [s for s in elf.sections if s["name"] == ".tidal.weights"]
    if len(weights) != 1:
        tt.fail("the image has no section .tidal.weights (sections: %s)"
                % ", ".join(s["name"] for s in elf.sections if s["name"]))
    w = weights[0]
    size = header_macro(os.path.join(folder, "classifier.h"), "CLASSIFIER_WEIGHTS_SIZE")
    if w["size"] != size or w["addr"] % align or w["flags"] & abi_contract.SHF_WRITE:
        tt.fail(".tidal.weights: %d bytes at 0x%x, flags %s; expected %d bytes (the header's "
                "CLASSIFIER_WEIGHTS_SIZE), %d-aligned, read-only" % (
                    w["size"], w["addr"], abi_contract.flag_letters(w["flags"]), size, align))
    out = tt.checked(["aarch64-linux-gnu-nm", image], "nm " + image).out
    addr = {line.split()[2]: int(line.split()[0], 16)
            for line in out.splitlines() if len(line.split()) == 3}
    if addr.get("classifier_weights") != w["addr"]:
        tt.fail("classifier_weights is at %s, not at the start of .tidal.weights (0x%x)"
                % (hex(addr["classifier_weights"]) if "classifier_weights" in addr
                   else "nowhere", w["addr"]))
    top = addr.get("__stack_top")
    if top is None or top % 16 or region_of(regions, top - 1, 1) != "RAM":
        tt.fail("__stack_top is %s; expected a 16-aligned address in RAM" % top)
    print("firmware.ld: sections in FLASH and RAM as placed, %d bytes of weights at 0x%x "
          "(FLASH, %d-aligned), the stack's top at 0x%x (RAM)" % (size, w["addr"], align, top))


def runtime_code(map_path):
    """Bytes of code (.text*) the link took from libtidalrt.a, by member,
    read from a GNU ld map: `.text  ADDR  SIZE  .../libtidalrt.a(exp_log.o)`,
    the section's name on the line before when it is long."""
    code, pending = {}, None
    for line in read_text(map_path).splitlines():
        parts = line.split()
        section, pending = pending, None
        if len(parts) == 1 and parts[0].startswith("."):
            pending = parts[0]
            continue
        if len(parts) == 4 and parts[0].startswith("."):
            section, parts = parts[0], parts[1:]
        if (len(parts) == 3 and section and section.startswith(".text")
                and parts[0].startswith("0x") and "libtidalrt.a(" in parts[2]):
            member = parts[2][parts[2].index("(") + 1:-1]
            code[member] = code.get(member, 0) + int(parts[1], 16)
    return code


def check_runtime_code(args, folder, work):
    """Issue 8's bound: the runtime code the example firmware links is at
    most 4 KiB. The same count of an image whose model calls powf (pow.o
    and exp_log.o) shows that the map is read."""
    code = runtime_code(os.path.join(folder, "firmware.map"))
    total = sum(code.values())
    if total > 4096:
        tt.fail("the firmware links %d bytes of runtime code (%s), more than 4 KiB"
                % (total, code))
    from onnx import TensorProto, helper
    import onnx
    pow_dir = tt.fresh_dir(os.path.join(work, "runtime-pow"))
    graph = helper.make_graph(
        [helper.make_node("Pow", ["x", "x"], ["y"])], "pow",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [16])])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]),
              os.path.join(pow_dir, "pow.onnx"))
    tt.compile_model(args.tidalc, os.path.join(pow_dir, "pow.onnx"),
                     os.path.join(pow_dir, "pow.o"), ["--target", "cortex-a53"])
    tt.write_text(os.path.join(pow_dir, "main.c"),
                  '#include "pow.h"\nstatic float x[16], y[16];\n'
                  'void _start(void) {\n  const void *const in[] = {x};\n'
                  '  void *const out[] = {y};\n  pow_run(in, out, 0);\n  for (;;) {}\n}\n')
    runtime = os.path.join(os.path.dirname(tt.link_flags(args.tidalc, "cortex-a53")[0]),
                           "..", "cortex-a53-baremetal", "libtidalrt.a")
    tt.checked(["aarch64-linux-gnu-gcc", "-O2", "-ffreestanding", "-nostdlib", "-static",
                "-I", pow_dir, os.path.join(pow_dir, "main.c"), os.path.join(pow_dir, "pow.o"),
                runtime, "-o", os.path.join(pow_dir, "image"),
                "-Wl,-Map," + os.path.join(pow_dir, "image.map")], "linking the powf image")
    pow_code = runtime_code(os.path.join(pow_dir, "image.map"))
    if "pow.o" not in pow_code or "exp_log.o" not in pow_code:
        tt.fail("the powf image's map shows runtime code %s, expected pow.o and exp_log.o"
                % pow_code)
    print("runtime code linked: the firmware %d bytes (at most 4096); a model calling "
          "powf %d bytes (%s)" % (total, sum(pow_code.values()),
                                  ", ".join("%s %d" % kv for kv in sorted(pow_code.items()))))


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


def copy_firmware(work, name):
    """examples/firmware copied into work/name, the model in its models/."""
    folder = os.path.join(work, name)
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(FIRMWARE, folder)
    os.makedirs(os.path.join(folder, "models"))
    external_model(tt.EXAMPLE_MODEL, os.path.join(folder, "models"))
    return folder


def check_aligned(args, work):
    """The firmware with --align 4096: the weights on their own page."""
    folder = copy_firmware(work, "firmware-align")
    make(args, folder, "TIDAL_FLAGS=--align 4096")
    example.check(make(args, folder, "--no-print-directory", "-s", "run").out)
    check_layout(folder, align=4096)


def check_firmware(args, work):
    folder = copy_firmware(work, "firmware")
    make(args, folder)
    example.check(make(args, folder, "--no-print-directory", "-s", "run").out)
    check_layout(folder)
    check_runtime_code(args, folder, work)
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
    check_aligned(args, work)
    check_external_weights(args, work)
    check_depfile_flags(args, work)


if __name__ == "__main__":
    main()
