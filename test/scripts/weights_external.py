#!/usr/bin/python3
"""`tidalc compile --weights external` (docs/abi.md, "External weights").

For examples/classifier.onnx, a model without weights (y = Relu(x)) and
each model of --names, compiled as `net` for --target (cortex-a53 programs
run under qemu-aarch64):

  files       the external compile writes net.o, net.h and net.bin, and
              -MD names all three as the depfile's targets; compiling again
              into another folder (relative paths) gives the same bytes of
              all three;
  bin         net.bin is NET_WEIGHTS_SIZE bytes, its CRC-32 (zlib's) is
              NET_WEIGHTS_CRC32, and it holds exactly the bytes of the
              weights section of the embedded compile's object; the header
              says NET_WEIGHTS_EXTERNAL 1 (0 embedded), NET_WEIGHTS_FILE
              "net.bin", NET_WEIGHTS_ALIGN 64;
  abi         the object keeps the contract of abi_contract.py with external
              weights: no weights section or symbol, and its undefined
              symbols are the runtime's and net_load_weights, exactly when
              there are weights;
  run         a strict C99 program reads net.bin into a buffer aligned to
              NET_WEIGHTS_ALIGN and defines net_load_weights: a NULL from
              the hook makes net_run return NET_ERROR_NO_WEIGHTS, and a
              misaligned address NET_ERROR_WEIGHTS_ALIGN (net_run_threaded
              too), each with the hook called once and the outputs
              untouched; then net_run and net_run_threaded return 0, each
              calling the hook once (never without weights);
  outputs     the outputs are bit-identical to those of the same program
              linked with the embedded compile, and match the reference
              (PyTorch's output_0.pb, rtol 1e-3 / atol 1e-4;
              examples/expected_output.txt within 2e-5; numpy's Relu).

Then: a compile that fails (a garbage model) leaves no net.o, net.h or
net.bin behind, not even those of an earlier compile, and no temporary
file; and `tidalc run --weights external --compare` passes on the first
model of --names.

    weights_external.py [--target x86-64|cortex-a53] [--names kws_dscnn] [--work DIR]
"""
import os
import re
import sys
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tidal_test as tt  # noqa: E402
import abi_contract  # noqa: E402

import numpy as np  # noqa: E402

EXAMPLES = os.path.join(tt.REPO, "examples")

# Knows the model only through net.h. `prog [WEIGHTS] IN... OUT...`.
PROGRAM = r"""#define _POSIX_C_SOURCE 200112L
#include "net.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const size_t in_size[] = {%(in_sizes)s 0};
static const size_t out_size[] = {%(out_sizes)s 0};

static void *alloc(size_t align, size_t size) {
  void *p = NULL;
  return posix_memalign(&p, align, size ? size : 1) == 0 ? p : NULL;
}

static int read_file(const char *path, void *buf, size_t size) {
  FILE *f = fopen(path, "rb");
  int ok = f && (size == 0 || fread(buf, 1, size, f) == size) && fgetc(f) == EOF;
  if (f)
    fclose(f);
  if (!ok)
    fprintf(stderr, "cannot read %%lu bytes (exactly) from %%s\n",
            (unsigned long)size, path);
  return ok;
}

#if NET_WEIGHTS_EXTERNAL
static const void *hook_result;
static int hook_calls;
const void *net_load_weights(void) {
  ++hook_calls;
  return hook_result;
}

/* Runs with the hook returning result; the status must be want, the hook
 * called once (with weights), and on failure the outputs untouched. */
static int expect_run(const char *what, int threaded, const void *result,
                      int want, const void *const *in, void *const *out,
                      void *ws) {
  int i, rc, calls = hook_calls;
  hook_result = result;
  for (i = 0; i < NET_NUM_OUTPUTS; ++i)
    memset(out[i], 0xA5, out_size[i]);
  rc = threaded ? net_run_threaded(NULL, in, out, ws) : net_run(in, out, ws);
  if (rc != want) {
    fprintf(stderr, "%%s: returned %%d, expected %%d\n", what, rc, want);
    return 0;
  }
  if (hook_calls - calls != (NET_WEIGHTS_SIZE > 0)) {
    fprintf(stderr, "%%s: the hook was called %%d times\n", what, hook_calls - calls);
    return 0;
  }
  for (i = 0; want != 0 && i < NET_NUM_OUTPUTS; ++i) {
    size_t k;
    for (k = 0; k < out_size[i]; ++k)
      if (((unsigned char *)out[i])[k] != 0xA5) {
        fprintf(stderr, "%%s: output %%d was written\n", what, i);
        return 0;
      }
  }
  return 1;
}
#endif

int main(int argc, char **argv) {
  const void *in[NET_NUM_INPUTS];
  void *out[NET_NUM_OUTPUTS], *again[NET_NUM_OUTPUTS];
  void *ws = alloc(NET_WORKSPACE_ALIGN, NET_WORKSPACE_SIZE);
  int i, first = 1, ok = 1;
#if NET_WEIGHTS_EXTERNAL
  /* Room for a misaligned copy too. */
  unsigned char *weights = alloc(NET_WEIGHTS_ALIGN, NET_WEIGHTS_SIZE + NET_WEIGHTS_ALIGN);
  if (argc != 2 + NET_NUM_INPUTS + NET_NUM_OUTPUTS || !weights ||
      !read_file(argv[1], weights, NET_WEIGHTS_SIZE))
    return 2;
  first = 2;
#else
  if (argc != 1 + NET_NUM_INPUTS + NET_NUM_OUTPUTS)
    return 2;
#endif
  for (i = 0; i < NET_NUM_INPUTS; ++i) {
    void *b = alloc(64, in_size[i]);
    if (!b || !read_file(argv[first + i], b, in_size[i]))
      return 2;
    in[i] = b;
  }
  for (i = 0; i < NET_NUM_OUTPUTS; ++i)
    if (!(out[i] = alloc(64, out_size[i])) || !(again[i] = alloc(64, out_size[i])))
      return 2;
#if NET_WEIGHTS_EXTERNAL
#if NET_WEIGHTS_SIZE > 0
  memmove(weights + NET_WEIGHTS_ALIGN / 2, weights, NET_WEIGHTS_SIZE);
  ok &= expect_run("misaligned, run", 0, weights + NET_WEIGHTS_ALIGN / 2,
                   NET_ERROR_WEIGHTS_ALIGN, in, out, ws);
  ok &= expect_run("misaligned, run_threaded", 1, weights + NET_WEIGHTS_ALIGN / 2,
                   NET_ERROR_WEIGHTS_ALIGN, in, out, ws);
  memmove(weights, weights + NET_WEIGHTS_ALIGN / 2, NET_WEIGHTS_SIZE);
  ok &= expect_run("NULL, run", 0, NULL, NET_ERROR_NO_WEIGHTS, in, out, ws);
  ok &= expect_run("NULL, run_threaded", 1, NULL, NET_ERROR_NO_WEIGHTS, in, out, ws);
#endif
  ok &= expect_run("run_threaded", 1, weights, 0, in, again, ws);
  ok &= expect_run("run", 0, weights, 0, in, out, ws);
  for (i = 0; ok && i < NET_NUM_OUTPUTS; ++i)
    if (memcmp(out[i], again[i], out_size[i]) != 0) {
      fprintf(stderr, "run and run_threaded differ in output %%d\n", i);
      ok = 0;
    }
  if (!ok)
    return 1;
  printf("hook calls %%d\n", hook_calls);
#else
  (void)again;
  if (net_run(in, out, ws) != 0 || !ok)
    return 1;
#endif
  for (i = 0; i < NET_NUM_OUTPUTS; ++i) {
    FILE *f = fopen(argv[first + NET_NUM_INPUTS + i], "wb");
    if (!f || fwrite(out[i], 1, out_size[i], f) != out_size[i] || fclose(f) != 0)
      return 2;
  }
  return 0;
}
"""


def macros(header):
    """NAME -> value text of every #define in header."""
    with open(header) as f:
        return dict(re.findall(r"^#define (\w+) +(.*?)\s*$", f.read(), re.M))


def compile_net(args, model, folder, mode, extra=(), cwd=None):
    """Compiles model as `net` into folder (from cwd, with relative paths,
    when given); returns the folder's net.o, net.h and net.bin paths."""
    os.makedirs(folder, exist_ok=True)
    out = os.path.join(folder, "net.o")
    if cwd:
        model, out = os.path.relpath(model, cwd), os.path.relpath(out, cwd)
    cmd = [os.path.abspath(args.tidalc), "compile", model, "-o", out, "--name", "net",
           "--weights", mode] + tt.target_args(args) + list(extra)
    r = tt.run(cmd, timeout=900, cwd=cwd)
    if r.rc != 0:
        tt.fail("%s failed (exit %s):\n%s" % (" ".join(cmd), r.rc, r.err))
    return [os.path.join(folder, "net" + e) for e in (".o", ".h", ".bin")]


def read(path):
    with open(path, "rb") as f:
        return f.read()


def weights_section(obj):
    """The bytes of the object's .tidal.weights.net section (b"" if none)."""
    elf, data = abi_contract.Elf(obj), read(obj)
    for s in elf.sections:
        if s["name"] == ".tidal.weights.net":
            return data[s["offset"]:s["offset"] + s["size"]]
    return b""


def build_program(args, folder, header):
    """Links folder/net.o into folder/prog with PROGRAM."""
    m = macros(header)
    sizes = {k: "".join("NET_%s%d_SIZE, " % (k, i) for i in range(int(m["NET_NUM_%sS" % k])))
             for k in ("INPUT", "OUTPUT")}
    src = os.path.join(folder, "prog.c")
    tt.write_text(src, PROGRAM % {"in_sizes": sizes["INPUT"], "out_sizes": sizes["OUTPUT"]})
    cc, ldflags, _ = tt.c_compiler(args.target)
    prog = os.path.join(folder, "prog")
    tt.checked(cc + ldflags + tt.STRICT_C99 + ["-I", folder, src, os.path.join(folder, "net.o")]
               + tt.link_flags(args.tidalc, args.target) + ["-o", prog], "linking " + prog)
    return prog


def run_program(args, prog, inputs, num_outputs, weights=None):
    """Runs prog on the input arrays; returns its output files' bytes and
    its stdout."""
    folder = os.path.dirname(prog)
    paths = []
    for k, a in enumerate(inputs):
        paths.append(os.path.join(folder, "input_%d.bin" % k))
        with open(paths[-1], "wb") as f:
            f.write(np.ascontiguousarray(a).tobytes())
    outs = [os.path.join(folder, "output_%d.bin" % k) for k in range(num_outputs)]
    runner = tt.c_compiler(args.target)[2]
    r = tt.checked(runner + [prog] + ([weights] if weights else []) + paths + outs,
                   "running " + prog, timeout=900)
    return [read(p) for p in outs], r.out


def check_files(target, label, emb, ext, again, dep):
    """The files, bin and abi checks of the docstring."""
    for a, b in zip(ext, again):
        tt.expect(read(a) == read(b), "%s: %s and %s differ" % (label, a, b))
    me, mx = macros(emb[1]), macros(ext[1])
    size, blob = int(mx["NET_WEIGHTS_SIZE"]), read(ext[2])
    tt.expect(len(blob) == size, "%s: net.bin holds %d bytes, the header says %d"
              % (label, len(blob), size))
    tt.expect(int(mx["NET_WEIGHTS_CRC32"].rstrip("uU"), 16) == zlib.crc32(blob),
              "%s: NET_WEIGHTS_CRC32 %s, zlib's CRC-32 of net.bin %#010x"
              % (label, mx["NET_WEIGHTS_CRC32"], zlib.crc32(blob)))
    tt.expect(blob == weights_section(emb[0]),
              "%s: net.bin is not the embedded object's weights section" % label)
    want = {"NET_WEIGHTS_EXTERNAL": "1", "NET_WEIGHTS_FILE": '"net.bin"',
            "NET_WEIGHTS_ALIGN": "64"}
    got = {k: mx.get(k) for k in want}
    tt.expect(got == want and me.get("NET_WEIGHTS_EXTERNAL") == "0",
              "%s: header says %s (embedded: NET_WEIGHTS_EXTERNAL %s), expected %s"
              % (label, got, me.get("NET_WEIGHTS_EXTERNAL"), want))
    targets = "%s %s %s:" % tuple(ext)
    tt.expect(read(dep).decode().startswith(targets),
              "%s: the depfile's targets are not %s\n%s" % (label, targets, read(dep).decode()))
    found = abi_contract.problems(ext[0], "net", target, size, external=True)
    tt.expect(not found, "%s: the external object breaks the contract:\n  %s"
              % (label, "\n  ".join("%s: %s" % f for f in found)))
    return size


def check(args, label, model, inputs, want, tol, work):
    """Everything of the docstring for one model; prints one line."""
    folder = os.path.join(work, label)
    emb = compile_net(args, model, os.path.join(folder, "embedded"), "embedded")
    ext = compile_net(args, model, os.path.join(folder, "external"), "external", ["-MD"])
    again_dir = os.path.join(folder, "again")
    os.makedirs(again_dir, exist_ok=True)
    again = compile_net(args, os.path.abspath(model), os.path.abspath(again_dir), "external",
                        cwd=os.path.abspath(again_dir))
    size = check_files(args.target, label, emb, ext, again,
                       os.path.join(folder, "external", "net.d"))
    n_out = len(want)
    got_emb, _ = run_program(args, build_program(args, os.path.dirname(emb[0]), emb[1]),
                             inputs, n_out)
    got_ext, out = run_program(args, build_program(args, os.path.dirname(ext[0]), ext[1]),
                               inputs, n_out, weights=ext[2])
    calls = 6 if size else 0  # 4 refused runs and 2 good ones; none without weights
    tt.expect("hook calls %d" % calls in out, "%s: %s, expected hook calls %d"
              % (label, out.strip(), calls))
    for k, (a, b) in enumerate(zip(got_emb, got_ext)):
        tt.expect(a == b, "%s: output %d differs between embedded and external weights"
                  % (label, k))
        got = np.frombuffer(b, dtype=want[k].dtype)
        tt.expect(got.size == want[k].size, "%s: output %d has %d values, expected %d"
                  % (label, k, got.size, want[k].size))
        tt.expect_close(got, want[k], tol[0], tol[1], "%s output %d" % (label, k))
    print("ok   %s: %d bytes of weights in net.bin (CRC-32 ok, = the embedded section); "
          "outputs bit-identical to embedded and match the reference; %s; same bytes twice"
          % (label, size, "NULL and misaligned hooks refused" if size else "hook never called"))
    return ext


def example_case():
    """The classifier's input of examples/main.c and expected output."""
    image = np.array([((i * 37) % 17) / 16.0 - 0.5 for i in range(64)], np.float32)
    with open(os.path.join(EXAMPLES, "expected_output.txt")) as f:
        probs = [float(m) for m in re.findall(r"^class \d+: ([-\d.]+)", f.read(), re.M)]
    return [image], [np.array(probs, np.float32)], (0.0, 2e-5)


def no_weights_model(work):
    """y = Relu(x) over f32[2,8]: no weights at all."""
    import onnx
    from onnx import TensorProto, helper
    path = os.path.join(work, "relu.onnx")
    g = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "relu",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 8])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 8])])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), path)
    x = np.linspace(-2, 2, 16, dtype=np.float32).reshape(2, 8)
    return path, [x], [np.maximum(x, 0)], (0.0, 0.0)


def check_failed_compile(args, ext, work):
    """A failed compile over an earlier external one removes its outputs."""
    folder = os.path.dirname(ext[0])
    garbage = tt.broken_model_files(work, tt.EXAMPLE_MODEL)["garbage"]
    r = tt.run([args.tidalc, "compile", garbage, "-o", ext[0], "--name", "net",
                "--weights", "external"] + tt.target_args(args))
    left = [f for f in ("net.o", "net.h", "net.bin") if os.path.exists(os.path.join(folder, f))]
    temps = [f for f in os.listdir(folder) if f.endswith(".tmp")]
    tt.expect(r.rc == tt.EXIT_REJECTED and not left and not temps,
              "a failed compile (exit %s) left %s" % (r.rc, left + temps))
    print("ok   a failed compile leaves no net.o, net.h or net.bin (nor a temporary file)")


def check_tidalc_run(args, name):
    model, data = tt.reference(args.models_dir, name)
    r = tt.run([args.tidalc, "run", model, "--inputs", data, "--compare", "--weights",
                "external"] + tt.target_args(args), timeout=900)
    tt.expect(r.rc == tt.EXIT_OK, "tidalc run --weights external --compare on %s: exit %s\n%s%s"
              % (name, r.rc, r.out, r.err))
    print("ok   tidalc run --weights external --compare: %s matches" % name)


def main():
    p = tt.parser(__doc__)
    tt.add_common_args(p, work=True)
    tt.add_models_args(p, names="kws_dscnn,ic_resnet8,mobilenet_v2")
    args = p.parse_args()
    if args.target == "nvptx":
        tt.fail("nvptx refuses --weights external (exit-codes checks that)")
    tt.require_target_tools(args.target)
    work = os.path.abspath(tt.work_dir(args.work, "weights-external"))
    image, probs, tol = example_case()
    ext = check(args, "example", tt.EXAMPLE_MODEL, image, probs, tol, work)
    relu, x, y, tol = no_weights_model(work)
    check(args, "no-weights", relu, x, y, tol, work)
    names = tt.model_names(args)
    for name in names:
        model, data = tt.reference(args.models_dir, name)
        inputs = [tt.load_tensor(os.path.join(data, f)) for f in sorted(os.listdir(data))
                  if f.startswith("input_")]
        outputs = [tt.load_tensor(os.path.join(data, f)) for f in sorted(os.listdir(data))
                   if f.startswith("output_")]
        check(args, name, model, inputs, outputs, (1e-3, 1e-4), work)
    check_failed_compile(args, ext, work)
    check_tidalc_run(args, names[0])
    print("--weights external on %s: the example, a model without weights and %s"
          % (args.target, ", ".join(names)))


if __name__ == "__main__":
    main()
