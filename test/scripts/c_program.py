#!/usr/bin/python3
"""The firmware contract from a user's side: a C program that knows two
compiled models only through their headers' macros and <name>_run.

ic_resnet8 is compiled as `net` and the example classifier as `clf`; one
strict C99 program (-std=c99 -pedantic -Werror) includes both headers, links
both objects (no symbol clash) with $(tidalc link-flags), reads each input
from a raw file, runs each model with a workspace of the advertised size and
alignment, and prints the outputs. Their numbers are checked here with numpy
against PyTorch's expected output (rtol 1e-3, atol 1e-4) and against
examples/expected_output.txt. The headers must also compile as C++.

    c_program.py [--models-dir build/models] [--work DIR] [--target T]
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tidal_test as tt  # noqa: E402

import numpy as np  # noqa: E402

PROGRAM = r"""/* Uses only what net.h and clf.h declare. */
#define _POSIX_C_SOURCE 200112L
#include "net.h"
#include "clf.h"
#include <stdio.h>
#include <stdlib.h>

/* C99 has no _Static_assert: a negative array size fails the build. */
typedef char net_output_is_f32[NET_OUTPUT0_TYPE == TIDAL_TYPE_F32 ? 1 : -1];
typedef char clf_output_is_f32[CLF_OUTPUT0_TYPE == TIDAL_TYPE_F32 ? 1 : -1];
typedef char one_input_each[NET_NUM_INPUTS == 1 && CLF_NUM_INPUTS == 1 ? 1 : -1];

typedef int (*RunFn)(const void *const[], void *const[], void *);

struct Model {
  const char *label, *output_name;
  RunFn run;
  size_t input_size, workspace_size, workspace_align;
  long output_count;
  int rank;
  const long long *dims;
};

static void *alloc(size_t align, size_t size) {
  void *p = NULL;
  return posix_memalign(&p, align, size ? size : 1) == 0 ? p : NULL;
}

static int run_model(const struct Model *m, const char *input_path) {
  void *input = alloc(64, m->input_size);
  float *output = alloc(64, (size_t)m->output_count * sizeof(float));
  void *workspace = alloc(m->workspace_align, m->workspace_size);
  FILE *f = fopen(input_path, "rb");
  if (!input || !output || !workspace || !f ||
      fread(input, 1, m->input_size, f) != m->input_size) {
    fprintf(stderr, "%s: cannot read %s\n", m->label, input_path);
    return 1;
  }
  fclose(f);
  {
    const void *const inputs[1] = {input};
    void *const outputs[1] = {output};
    int rc = m->run(inputs, outputs, workspace);
    long i;
    int d;
    if (rc != 0) {
      fprintf(stderr, "%s: run returned %d\n", m->label, rc);
      return 1;
    }
    printf("%s %s dims", m->label, m->output_name);
    for (d = 0; d < m->rank; ++d)
      printf(" %lld", m->dims[d]);
    printf("\n%s values", m->label);
    for (i = 0; i < m->output_count; ++i)
      printf(" %.9g", output[i]);
    printf("\n");
  }
  free(input);
  free(output);
  free(workspace);
  return 0;
}

static const long long net_dims[] = NET_OUTPUT0_DIMS;
static const long long clf_dims[] = CLF_OUTPUT0_DIMS;

int main(int argc, char **argv) {
  struct Model net = {"net", NET_OUTPUT0_NAME, net_run, NET_INPUT0_SIZE,
                      NET_WORKSPACE_SIZE, NET_WORKSPACE_ALIGN,
                      NET_OUTPUT0_NUM_ELEMENTS, NET_OUTPUT0_RANK, net_dims};
  struct Model clf = {"clf", CLF_OUTPUT0_NAME, clf_run, CLF_INPUT0_SIZE,
                      CLF_WORKSPACE_SIZE, CLF_WORKSPACE_ALIGN,
                      CLF_OUTPUT0_NUM_ELEMENTS, CLF_OUTPUT0_RANK, clf_dims};
  if (argc != 3) {
    fprintf(stderr, "usage: %s NET_INPUT CLF_INPUT\n", argv[0]);
    return 2;
  }
  return run_model(&net, argv[1]) || run_model(&clf, argv[2]);
}
"""


def build(args, work, objs):
    """Links the program from objs; checks the headers as C++ too."""
    src, exe = os.path.join(work, "main.c"), os.path.join(work, "program")
    tt.write_text(src, PROGRAM)
    cc, ldflags, _ = tt.c_compiler(args.target)
    tt.checked(cc + tt.STRICT_C99 + ["-I", work, src] + objs
               + tt.link_flags(args.tidalc, args.target) + ldflags + ["-o", exe],
               "building the C program", timeout=300)
    tt.check_headers_compile_as_cxx(work, ["net.h", "clf.h"], "NET_NUM_INPUTS - 1")
    return exe


def parse(output, label):
    dims = re.search(r"^%s \S+ dims((?: \d+)*)$" % label, output, re.M)
    values = re.search(r"^%s values((?: \S+)*)$" % label, output, re.M)
    if not dims or not values:
        tt.fail("the program printed no %s output:\n%s" % (label, output))
    shape = [int(d) for d in dims.group(1).split()]
    return np.array([float(v) for v in values.group(1).split()]), shape


def check(got, shape, want, rtol, atol, label):
    if list(want.shape) != shape or got.size != want.size:
        tt.fail("%s: output dims %s (%d values), expected %s" % (label, shape, got.size,
                                                                 list(want.shape)))
    tt.expect_close(got, want, rtol, atol, label)
    print("ok   %s: %d values match" % (label, got.size))


def example_expected():
    with open(os.path.join(tt.REPO, "examples", "expected_output.txt")) as f:
        probs = re.findall(r"^class \d+: (\S+)$", f.read(), re.M)
    return np.array([[float(p) for p in probs]])


def main():
    p = tt.parser(__doc__)
    tt.add_common_args(p, work=True)
    tt.add_models_args(p)
    p.add_argument("--model", default="ic_resnet8", help="the reference model run as `net`")
    args = p.parse_args()
    work = tt.work_dir(args.work, "c-program")
    model, data = tt.reference(args.models_dir, args.model)
    flags = tt.target_args(args)
    objs = [os.path.join(work, "net.o"), os.path.join(work, "clf.o")]
    tt.compile_model(args.tidalc, model, objs[0], ["--name", "net"] + flags)
    tt.compile_model(args.tidalc, tt.EXAMPLE_MODEL, objs[1], ["--name", "clf"] + flags)
    exe = build(args, work, objs)

    net_in = os.path.join(work, "net_input.bin")
    tt.load_tensor(os.path.join(data, "input_0.pb")).tofile(net_in)
    clf_in = os.path.join(work, "clf_input.bin")
    i = np.arange(64)
    (((i * 37) % 17) / 16.0 - 0.5).astype(np.float32).tofile(clf_in)

    _, _, runner = tt.c_compiler(args.target)
    r = tt.run(runner + [exe, net_in, clf_in], timeout=300)
    if r.rc != 0:
        tt.fail("the C program exited with %s:\n%s%s" % (r.rc, r.out, r.err))
    got, shape = parse(r.out, "net")
    check(got, shape, tt.load_tensor(os.path.join(data, "output_0.pb")),
          1e-3, 1e-4, "net (%s)" % args.model)
    got, shape = parse(r.out, "clf")
    check(got, shape, example_expected(), 0, 2e-5, "clf (examples/classifier.onnx)")


if __name__ == "__main__":
    main()
