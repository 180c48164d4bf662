#!/usr/bin/python3
"""Reentrancy (docs/abi.md): two threads running one model, each with its
own workspace and outputs, give the same outputs as a single thread.

Each model of --names is compiled as `net` for --target and linked into a
strict C99 program (-pthread) that knows it only through net.h. The program
first runs the model once single-threaded on input A (the exported
test_data_set_0/input_0.pb) and once on input B (a different, seeded random
input), then starts two threads, released together by a barrier, each with
its own workspace (NET_WORKSPACE_SIZE bytes aligned to NET_WORKSPACE_ALIGN,
refilled with garbage before every run) and its own output buffer (poisoned
before every run): thread A runs the model --runs times on input A, thread
B on input B, and every output must be bit-identical (memcmp) to the
single-threaded one for that input. A's and B's outputs must differ (or the
check could not tell them apart), and A's single-threaded output must match
the exported output_0.pb within rtol 1e-3, atol 1e-4. For cortex-a53 the
program is linked -static and runs under qemu-aarch64 -cpu cortex-a53; the
test is skipped (exit 77) where that toolchain is missing.

    reentrant.py [--target x86-64|cortex-a53] [--names ic_resnet8] [--runs 20] [--work DIR]
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tidal_test as tt  # noqa: E402

import numpy as np  # noqa: E402

PROGRAM = r"""/* Uses only what net.h declares. */
#define _POSIX_C_SOURCE 200112L
#include "net.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* C99 has no _Static_assert: a negative array size fails the build. */
typedef char one_input_one_f32_output[NET_NUM_INPUTS == 1 && NET_NUM_OUTPUTS == 1 &&
                                      NET_OUTPUT0_TYPE == TIDAL_TYPE_F32 ? 1 : -1];

struct Job {
  const char *label;
  const void *input;
  const unsigned char *want; /* the single-threaded output for input */
  unsigned char *output;
  void *workspace;
  int runs, garbage, failures;
  pthread_barrier_t *start;
};

static void *alloc(size_t align, size_t size) {
  void *p = NULL;
  return posix_memalign(&p, align, size ? size : 1) == 0 ? p : NULL;
}

static int run_once(const void *input, void *output, void *workspace) {
  const void *const inputs[1] = {input};
  void *const outputs[1] = {output};
  return net_run(inputs, outputs, workspace);
}

static void *read_input(const char *path) {
  void *data = alloc(64, NET_INPUT0_SIZE);
  FILE *f = fopen(path, "rb");
  int ok = data && f && fread(data, 1, NET_INPUT0_SIZE, f) == NET_INPUT0_SIZE;
  if (f)
    fclose(f);
  return ok ? data : NULL;
}

static void *worker(void *arg) {
  struct Job *job = arg;
  int i, rc;
  pthread_barrier_wait(job->start);
  for (i = 0; i < job->runs; ++i) {
    memset(job->output, 0xff, NET_OUTPUT0_SIZE);
    memset(job->workspace, job->garbage + i, NET_WORKSPACE_SIZE);
    rc = run_once(job->input, job->output, job->workspace);
    if (rc != 0 || memcmp(job->output, job->want, NET_OUTPUT0_SIZE) != 0) {
      if (job->failures++ == 0)
        fprintf(stderr, "thread %s: run %d %s\n", job->label, i,
                rc ? "returned nonzero" : "differs from the single-threaded output");
    }
  }
  return NULL;
}

int main(int argc, char **argv) {
  const void *in_a, *in_b;
  unsigned char *want_a = alloc(64, NET_OUTPUT0_SIZE), *want_b = alloc(64, NET_OUTPUT0_SIZE);
  void *workspace = alloc(NET_WORKSPACE_ALIGN, NET_WORKSPACE_SIZE);
  struct Job jobs[2];
  pthread_t threads[2];
  pthread_barrier_t start;
  FILE *f;
  int runs, t;
  if (argc != 5) {
    fprintf(stderr, "usage: %s INPUT_A INPUT_B RUNS OUTPUT_A\n", argv[0]);
    return 2;
  }
  in_a = read_input(argv[1]);
  in_b = read_input(argv[2]);
  runs = atoi(argv[3]);
  if (!in_a || !in_b || !want_a || !want_b || !workspace) {
    fprintf(stderr, "cannot read the inputs or allocate\n");
    return 2;
  }
  if (run_once(in_a, want_a, workspace) != 0 || run_once(in_b, want_b, workspace) != 0) {
    fprintf(stderr, "net_run returned nonzero\n");
    return 1;
  }
  if (memcmp(want_a, want_b, NET_OUTPUT0_SIZE) == 0) {
    fprintf(stderr, "inputs A and B give the same output: the check would be blind\n");
    return 1;
  }
  f = fopen(argv[4], "wb");
  if (!f || fwrite(want_a, 1, NET_OUTPUT0_SIZE, f) != NET_OUTPUT0_SIZE || fclose(f) != 0) {
    fprintf(stderr, "cannot write %s\n", argv[4]);
    return 2;
  }

  pthread_barrier_init(&start, NULL, 2);
  for (t = 0; t < 2; ++t) {
    struct Job *job = &jobs[t];
    job->label = t ? "B" : "A";
    job->input = t ? in_b : in_a;
    job->want = t ? want_b : want_a;
    job->output = alloc(64, NET_OUTPUT0_SIZE);
    job->workspace = alloc(NET_WORKSPACE_ALIGN, NET_WORKSPACE_SIZE);
    job->runs = runs;
    job->garbage = t ? 0x5a : 0xa5;
    job->failures = 0;
    job->start = &start;
    if (!job->output || !job->workspace ||
        pthread_create(&threads[t], NULL, worker, job) != 0) {
      fprintf(stderr, "cannot start thread %s\n", job->label);
      return 2;
    }
  }
  for (t = 0; t < 2; ++t)
    pthread_join(threads[t], NULL);
  for (t = 0; t < 2; ++t)
    printf("thread %s: %d runs, %d differ\n", jobs[t].label, runs, jobs[t].failures);
  return jobs[0].failures || jobs[1].failures;
}
"""


def check_model(args, name, work):
    work = tt.fresh_dir(os.path.join(work, name))
    model, data = tt.reference(args.models_dir, name)
    obj = os.path.join(work, "net.o")
    tt.compile_model(args.tidalc, model, obj, ["--name", "net"] + tt.target_args(args))
    src, exe = os.path.join(work, "main.c"), os.path.join(work, "program")
    tt.write_text(src, PROGRAM)
    cc, ldflags, runner = tt.c_compiler(args.target)
    tt.checked(cc + tt.STRICT_C99 + ["-pthread", "-I", work, src, obj]
               + tt.link_flags(args.tidalc, args.target) + ldflags + ["-o", exe],
               "building the threaded program", timeout=300)

    a = tt.load_tensor(os.path.join(data, "input_0.pb"))
    if a.dtype != np.float32:
        tt.fail("%s: input 0 is %s; the check makes f32 inputs only" % (name, a.dtype))
    b = np.random.default_rng(6).normal(a.mean(), a.std() + 1e-3, a.shape).astype(np.float32)
    paths = [os.path.join(work, f) for f in ("input_a.bin", "input_b.bin", "output_a.bin")]
    a.tofile(paths[0])
    b.tofile(paths[1])
    r = tt.run(runner + [exe, paths[0], paths[1], str(args.runs), paths[2]], timeout=600)
    if r.rc != 0:
        tt.fail("%s: the threaded program exited with %s:\n%s%s" % (name, r.rc, r.out, r.err))
    if len(re.findall(r"^thread [AB]: %d runs, 0 differ$" % args.runs, r.out, re.M)) != 2:
        tt.fail("%s: unexpected output of the threaded program:\n%s" % (name, r.out))
    want = tt.load_tensor(os.path.join(data, "output_0.pb"))
    got = np.fromfile(paths[2], dtype=np.float32)
    if got.size != want.size:
        tt.fail("%s: %d output values, expected %d" % (name, got.size, want.size))
    tt.expect_close(got, want, 1e-3, 1e-4, name)
    print("ok   %s (%s): 2 threads x %d runs, each with its own workspace, bit-identical "
          "to one thread; input A matches the reference (%d values)"
          % (name, args.target, args.runs, want.size))


def main():
    p = tt.parser(__doc__)
    tt.add_common_args(p, work=True)
    tt.add_models_args(p, names="ic_resnet8,kws_dscnn")
    p.add_argument("--runs", type=int, default=20, help="runs of each thread")
    args = p.parse_args()
    if args.target == "nvptx":
        tt.fail("reentrant.py checks the CPU targets (x86-64, cortex-a53)")
    tt.require_target_tools(args.target)
    work = tt.work_dir(args.work, "reentrant")
    for name in tt.model_names(args):
        check_model(args, name, work)


if __name__ == "__main__":
    main()
