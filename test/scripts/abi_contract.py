#!/usr/bin/python3
"""Compiled objects keep the firmware contract of docs/abi.md, read from
their ELF section and symbol tables (parsed here with struct, for x86-64
and AArch64 alike; no tool needed).

For examples/classifier.onnx (compiled as `classifier`) and every model of
--names (default: the eight reference models, each compiled under its own
name N), on --target, the object must be a relocatable ELF for the target's
machine, and:

  writable   no allocated section of nonzero size is writable (flag W,
             whatever its name: no .data, .bss, .data.rel.ro) and there are
             no COMMON symbols;
  sections   every allocated section of nonzero size is code or read-only
             data (PROGBITS, NOTE or x86-64 UNWIND), never NOBITS;
  ctors      no constructors or destructors: no INIT_ARRAY, FINI_ARRAY or
             PREINIT_ARRAY section, none named .init_array, .fini_array,
             .preinit_array, .ctors, .dtors, .init or .fini;
  tls        no thread-local storage: no section flagged T, no TLS symbol;
  textrel    no absolute relocation into a read-only section (it would
             make the loader write there: PIC keeps read-only data read-only);
  undefined  undefined symbols only tidal_*, memcpy and memset (nvptx:
             only tidal_cuda_run); with --weights external also
             N_load_weights, exactly when N_WEIGHTS_SIZE is not 0;
  global     the global (or weak) defined symbols are exactly the entry
             points, functions in an executable section: N_run, and on the
             CPU targets N_run_threaded (nvptx: N_run only);
  weights    the section .tidal.weights.N exists when the header's
             N_WEIGHTS_SIZE is not 0 (else not): flags A only, PROGBITS,
             aligned to 64 bytes (or a multiple), N_WEIGHTS_SIZE bytes long,
             holding the local object N_weights; no other .tidal.weights.*.
             With --weights external: no .tidal.weights.* section and no
             N_weights symbol at all.

First the checker checks itself: a small C file with an initialized global
int, a zeroed static, a constructor, a __thread variable, a call to printf,
a read-only pointer table compiled without PIC and 16-aligned weights,
compiled with the target's C compiler (cc where that is missing), must be
reported on every one of those counts, and a clean one (PIC, weights
64-aligned, calling memcpy) on none; with external weights, the clean
object is reported for its weights section and for lacking the hook, and
one that calls net_load_weights instead passes.

    abi_contract.py [--target x86-64|cortex-a53|nvptx] [--names ic_resnet8] [--work DIR]
                    [--weights external]
"""
import os
import re
import shutil
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tidal_test as tt  # noqa: E402

EM = {"x86-64": 62, "cortex-a53": 183, "nvptx": 62}  # EM_X86_64, EM_AARCH64
ET_REL = 1
SHT_PROGBITS, SHT_SYMTAB, SHT_NOTE, SHT_RELA, SHT_REL = 1, 2, 7, 4, 9
SHT_INIT_ARRAY, SHT_FINI_ARRAY, SHT_PREINIT_ARRAY = 14, 15, 16
SHT_X86_64_UNWIND = 0x70000001
SHF_WRITE, SHF_ALLOC, SHF_EXECINSTR, SHF_TLS = 0x1, 0x2, 0x4, 0x400
STB_LOCAL, STT_OBJECT, STT_FUNC, STT_TLS = 0, 1, 2, 6
SHN_UNDEF, SHN_COMMON = 0, 0xfff2
CTOR_NAME = re.compile(r"^\.(init_array|fini_array|preinit_array|ctors|dtors|init|fini)(\..*)?$")
# Relocations that store an absolute address (R_X86_64_64, _32, _32S;
# R_AARCH64_ABS64/32/16, MOVW_UABS_G0..G3_NC): in a read-only section the
# loader of a PIE or shared object would have to write it.
ABSOLUTE_RELOCS = {62: {1, 10, 11}, 183: {257, 258, 259} | set(range(263, 271))}
ALLOWED_UNDEFINED = {"cpu": re.compile(r"^(tidal_\w+|memcpy|memset)$"),
                     "nvptx": re.compile(r"^tidal_cuda_run$")}


class Elf:
    """The sections and symbols of a 64-bit little-endian ELF file."""

    def __init__(self, path):
        with open(path, "rb") as f:
            data = f.read()
        if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
            raise ValueError("%s is not a 64-bit little-endian ELF file" % path)
        (self.type, self.machine, _, _, _, shoff, _, _, _, _, shentsize, shnum,
         shstrndx) = struct.unpack_from("<HHIQQQIHHHHHH", data, 16)
        first = struct.unpack_from("<IIQQQQIIQQ", data, shoff)
        shnum = shnum or first[5]                         # extended numbering
        shstrndx = first[6] if shstrndx == 0xffff else shstrndx
        fields = ("name", "type", "flags", "addr", "offset", "size", "link", "info",
                  "align", "entsize")
        self.sections = [dict(zip(fields, struct.unpack_from("<IIQQQQIIQQ", data,
                                                             shoff + i * shentsize)))
                         for i in range(shnum)]
        names = self.sections[shstrndx]
        for s in self.sections:
            s["name"] = self._string(data, names, s["name"])
        self.symbols = []
        for tab in (s for s in self.sections if s["type"] == SHT_SYMTAB):
            strings = self.sections[tab["link"]]
            for off in range(tab["offset"] + 24, tab["offset"] + tab["size"], 24):
                name, info, other, shndx, value, size = struct.unpack_from("<IBBHQQ", data, off)
                self.symbols.append({"name": self._string(data, strings, name),
                                     "bind": info >> 4, "type": info & 15,
                                     "visibility": other & 3, "shndx": shndx})
        self.relocations = []  # (section patched, relocation type)
        for rel in (s for s in self.sections if s["type"] in (SHT_RELA, SHT_REL)):
            size = 24 if rel["type"] == SHT_RELA else 16
            for off in range(rel["offset"], rel["offset"] + rel["size"], size):
                info = struct.unpack_from("<Q", data, off + 8)[0]
                self.relocations.append((self.sections[rel["info"]], info & 0xffffffff))

    @staticmethod
    def _string(data, table, offset):
        start = table["offset"] + offset
        return data[start:data.index(b"\0", start)].decode("utf-8", "replace")


def flag_letters(flags):
    return "".join(c for bit, c in ((SHF_WRITE, "W"), (SHF_ALLOC, "A"), (SHF_EXECINSTR, "X"),
                                    (SHF_TLS, "T")) if flags & bit) or "-"


def problems(path, name, target, weights_size, external=False):
    """[(kind, message)] for every way the object at path breaks the
    contract, for model name on target, whose header says weights_size;
    external: compiled with --weights external."""
    elf, found = Elf(path), []

    def bad(kind, msg):
        found.append((kind, msg))

    if elf.type != ET_REL or elf.machine != EM[target]:
        bad("elf", "ELF type %d machine %d, expected a relocatable object (1) for machine %d"
            % (elf.type, elf.machine, EM[target]))
    for s in elf.sections:
        where = "section %s (flags %s)" % (s["name"], flag_letters(s["flags"]))
        alloc = s["flags"] & SHF_ALLOC and s["size"] > 0  # (gcc leaves empty .data, .bss)
        if alloc and s["flags"] & SHF_WRITE:
            bad("writable", where + " is writable")
        if alloc and s["type"] not in (SHT_PROGBITS, SHT_NOTE, SHT_X86_64_UNWIND):
            bad("sections", "%s has type %#x: not code or read-only data" % (where, s["type"]))
        if s["type"] in (SHT_INIT_ARRAY, SHT_FINI_ARRAY, SHT_PREINIT_ARRAY) \
                or CTOR_NAME.match(s["name"]):
            bad("ctors", where + " holds constructors or destructors")
        if s["flags"] & SHF_TLS:
            bad("tls", where + " is thread-local")
    for s, kind in elf.relocations:
        if s["flags"] & SHF_ALLOC and not s["flags"] & SHF_WRITE \
                and kind in ABSOLUTE_RELOCS.get(elf.machine, ()):
            bad("textrel", "read-only section %s has an absolute relocation (type %d)"
                % (s["name"], kind))

    allowed = ALLOWED_UNDEFINED["nvptx" if target == "nvptx" else "cpu"]
    for sym in elf.symbols:
        if sym["type"] == STT_TLS:
            bad("tls", "symbol %s is thread-local" % sym["name"])
        if sym["shndx"] == SHN_COMMON:
            bad("writable", "symbol %s is COMMON (writable data)" % sym["name"])
        if sym["shndx"] == SHN_UNDEF and sym["name"] and not allowed.match(sym["name"]) \
                and not (external and sym["name"] == name + "_load_weights"):
            bad("undefined", "needs %s, not a runtime symbol" % sym["name"])
    hook = any(s["name"] == name + "_load_weights" and s["shndx"] == SHN_UNDEF
               for s in elf.symbols)
    if external and hook != (weights_size > 0):
        bad("undefined", "%s_load_weights is %sundefined, with %d bytes of weights"
            % (name, "" if hook else "not ", weights_size))
    defined = [s for s in elf.symbols if s["bind"] != STB_LOCAL and s["shndx"] != SHN_UNDEF]
    entries = [name + "_run"] + ([] if target == "nvptx" else [name + "_run_threaded"])
    if sorted(s["name"] for s in defined) != sorted(entries):
        bad("global", "global symbols %s, expected only %s"
            % ([s["name"] for s in defined], ", ".join(entries)))
    for s in defined:
        if s["type"] != STT_FUNC or s["shndx"] >= len(elf.sections) \
                or not elf.sections[s["shndx"]]["flags"] & SHF_EXECINSTR:
            bad("global", "%s is not a function in an executable section" % s["name"])

    if external:
        for s in elf.sections:
            if s["name"].startswith(".tidal.weights."):
                bad("weights", "section %s, but the weights are external" % s["name"])
        if any(s["name"] == name + "_weights" for s in elf.symbols):
            bad("weights", "symbol %s_weights, but the weights are external" % name)
        return found
    section = ".tidal.weights." + name
    weights = [s for s in elf.sections if s["name"] == section]
    for s in elf.sections:
        if s["name"].startswith(".tidal.weights.") and s["name"] != section:
            bad("weights", "section %s does not carry the model's name %s" % (s["name"], name))
    if weights_size == 0:
        if weights:
            bad("weights", "%s exists, but the header says there are no weights" % section)
    elif len(weights) != 1:
        bad("weights", "%d sections %s, expected one" % (len(weights), section))
    else:
        w = weights[0]
        if w["flags"] & (SHF_ALLOC | SHF_WRITE | SHF_EXECINSTR | SHF_TLS) != SHF_ALLOC \
                or w["type"] != SHT_PROGBITS:
            bad("weights", "%s has flags %s type %d, expected A, PROGBITS"
                % (section, flag_letters(w["flags"]), w["type"]))
        if w["align"] % 64:
            bad("weights", "%s is aligned to %d bytes, not 64" % (section, w["align"]))
        if w["size"] != weights_size:
            bad("weights", "%s holds %d bytes, the header says %d"
                % (section, w["size"], weights_size))
        index = elf.sections.index(w)
        if not any(s["name"] == name + "_weights" and s["bind"] == STB_LOCAL
                   and s["type"] == STT_OBJECT and s["shndx"] == index for s in elf.symbols):
            bad("weights", "no local object %s_weights in %s" % (name, section))
    return found


def header_weights_size(header, name):
    with open(header) as f:
        m = re.search(r"^#define %s_WEIGHTS_SIZE\s+(\d+)" % name.upper(), f.read(), re.M)
    if not m:
        tt.fail("%s defines no %s_WEIGHTS_SIZE" % (header, name.upper()))
    return int(m.group(1))


# --- The checker checks itself ----------------------------------------------

BROKEN_C = r"""
#include <stdio.h>
int counter = 1;                                    /* writable (.data) */
static int zeroed;                                  /* sections (.bss: NOBITS) */
__thread int per_thread;                            /* tls */
static void setup(void) __attribute__((constructor)); /* ctors */
static void setup(void) { counter = 2 + zeroed++; }
int *const table[] = {&counter};                    /* textrel (no PIC), global */
__attribute__((section(".tidal.weights.net"), aligned(16), used))
static const float net_weights[16] = {1};           /* weights: 16-aligned */
int net_run(const void *const in[], void *const out[], void *ws) {
  (void)in; (void)out; (void)ws;
  printf("%d\n", per_thread);                       /* undefined */
  return counter;
}
"""
BROKEN_KINDS = {"writable", "sections", "tls", "ctors", "textrel", "global", "weights",
                "undefined"}
CLEAN_C = r"""
#include <string.h>
__attribute__((section(".tidal.weights.net"), aligned(64), used))
static const float net_weights[16] = {1, 2, 3};
int net_run(const void *const in[], void *const out[], void *ws) {
  (void)ws;
  memcpy(out[0], in[0], 16);
  memcpy(out[1], net_weights, sizeof net_weights);
  return 0;
}
struct tidal_pool;
int net_run_threaded(struct tidal_pool *pool, const void *const in[],
                     void *const out[], void *ws) {
  (void)pool;
  return net_run(in, out, ws);
}
"""


CLEAN_EXTERNAL_C = r"""
#include <string.h>
const void *net_load_weights(void);
int net_run(const void *const in[], void *const out[], void *ws) {
  const void *w = net_load_weights();
  (void)ws;
  if (!w)
    return 1;
  memcpy(out[0], in[0], 16);
  memcpy(out[1], w, 64);
  return 0;
}
struct tidal_pool;
int net_run_threaded(struct tidal_pool *pool, const void *const in[],
                     void *const out[], void *ws) {
  (void)pool;
  return net_run(in, out, ws);
}
"""


def self_check(args, work):
    """The checker reports each broken promise of BROKEN_C, and nothing in
    CLEAN_C, compiled with the target's C compiler; with external weights
    CLEAN_C's weights section and its lack of the hook, and nothing in
    CLEAN_EXTERNAL_C (whose hook, embedded, is an undefined symbol)."""
    cc = tt.c_compiler(args.target)[0][0]
    if not shutil.which(cc):
        cc = "cc"
    target = "x86-64" if cc == "cc" else args.target
    external = args.weights == "external"
    cases = [("broken", BROKEN_C, ["-fno-pic", "-fno-common"], BROKEN_KINDS),
             ("clean", CLEAN_C, ["-fPIC"], {"weights", "undefined"} if external else set())]
    if args.target != "nvptx":
        cases.append(("clean-external", CLEAN_EXTERNAL_C, ["-fPIC"],
                      set() if external else {"weights", "undefined"}))
    for label, source, flags, want in cases:
        src, obj = os.path.join(work, label + ".c"), os.path.join(work, label + ".o")
        tt.write_text(src, source)
        tt.checked([cc, "-c", "-O1", "-w", src, "-o", obj] + flags, "%s -c %s" % (cc, src))
        found = problems(obj, "net", target, 64, external)
        kinds = {kind for kind, _ in found}
        if kinds != want:
            tt.fail("the checker on %s (%s) reports %s, expected %s:\n  %s"
                    % (label, cc, sorted(kinds), sorted(want),
                       "\n  ".join(m for _, m in found)))
    print("ok   self-check (%s%s): a broken object is reported on all of %s; a clean one passes"
          % (cc, ", external weights" if external else "", ", ".join(sorted(BROKEN_KINDS))))


def check(args, name, model, work):
    """Compiles model as name; prints what it found; True if it keeps the
    contract."""
    obj = os.path.join(work, name + ".o")
    tt.compile_model(args.tidalc, model, obj, ["--name", name, "--weights", args.weights]
                     + tt.target_args(args))
    weights = header_weights_size(os.path.join(work, name + ".h"), name)
    found = problems(obj, name, args.target, weights, args.weights == "external")
    elf = Elf(obj)
    needs = sorted(s["name"] for s in elf.symbols if s["shndx"] == SHN_UNDEF and s["name"])
    allocated = " ".join("%s(%s)" % (s["name"], flag_letters(s["flags"]))
                         for s in elf.sections if s["flags"] & SHF_ALLOC)
    tt.print_outcome(not found, "%s: sections %s; needs %s; %d bytes of weights"
                     % (name, allocated, " ".join(needs) or "nothing", weights),
                     ["%s: %s" % f for f in found])
    return not found


def main():
    p = tt.parser(__doc__)
    tt.add_common_args(p, work=True)
    tt.add_models_args(p, names=",".join(tt.REFERENCE_MODELS))
    p.add_argument("--weights", default="embedded", choices=["embedded", "external"],
                   help="compile with --weights external and check that contract")
    args = p.parse_args()
    work = tt.work_dir(args.work, "abi")
    self_check(args, work)
    models = [("classifier", tt.EXAMPLE_MODEL)] + [
        (n, tt.reference(args.models_dir, n)[0]) for n in tt.model_names(args)]
    failed = [n for n, model in models if not check(args, n, model, work)]
    tt.finish("%d of %d objects keep the contract of docs/abi.md on %s"
              % (len(models) - len(failed), len(models), args.target), failed)


if __name__ == "__main__":
    main()
