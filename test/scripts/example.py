#!/usr/bin/python3
"""Builds and runs the bundled example (examples/): compiles
examples/classifier.onnx with tidalc, links examples/main.c with it and the
runtime exactly as README.md tells a user to, runs it and prints its output.
With --check, the printed probabilities must match
examples/expected_output.txt (computed by examples/make_model.py with numpy)
within 2e-5, and the predicted class must be the same; and the code the
user documentation quotes from the examples (a block introduced by
"(from examples/...):" in docs/guide.md and docs/firmware.md) must be
lines of that file as they are.

    example.py [--work build/example] [--check] [--target cortex-a53]
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tidal_test as tt  # noqa: E402

EXAMPLES = os.path.join(tt.REPO, "examples")
LINE = re.compile(r"^class (\d+): ([-+0-9.eE]+)$")
# A quoted excerpt: "(from examples/FILE):", a blank line, an indented block.
QUOTE = re.compile(r"\(from (examples/[\w./-]+)\):\n\n((?:    .*\n|\n)+)")
QUOTING_DOCS = ("guide.md", "firmware.md")


def build(args, work):
    obj = os.path.join(work, "classifier.o")
    tt.compile_model(args.tidalc, tt.EXAMPLE_MODEL, obj, tt.target_args(args), timeout=300)
    cc, ldflags, _ = tt.c_compiler(args.target)
    exe = os.path.join(work, "classifier")
    cmd = cc + ["-std=c11", "-O2", "-Wall", "-I", work, os.path.join(EXAMPLES, "main.c"),
                obj] + tt.link_flags(args.tidalc, args.target) + ldflags + ["-o", exe]
    tt.checked(cmd, "linking the example", timeout=300)
    return exe


def parse(text):
    probs = {int(m.group(1)): float(m.group(2))
             for m in map(LINE.match, text.splitlines()) if m}
    best = re.search(r"^predicted class: (\d+)$", text, re.M)
    return probs, best.group(1) if best else None


def check(output):
    with open(os.path.join(EXAMPLES, "expected_output.txt")) as f:
        want, want_best = parse(f.read())
    got, got_best = parse(output)
    if sorted(got) != sorted(want):
        tt.fail("the example printed classes %s, expected %s" % (sorted(got), sorted(want)))
    for k in sorted(want):
        if abs(got[k] - want[k]) > 2e-5:
            tt.fail("class %d: got %.6f, expected %.6f" % (k, got[k], want[k]))
    if got_best != want_best:
        tt.fail("predicted class %s, expected %s" % (got_best, want_best))
    print("example: output matches examples/expected_output.txt")


def check_quotes():
    """Every excerpt the docs quote from an example is a run of that
    file's lines, unchanged."""
    count = 0
    for doc in QUOTING_DOCS:
        with open(os.path.join(tt.REPO, "docs", doc)) as f:
            text = f.read()
        for m in QUOTE.finditer(text):
            quoted = [line[4:] for line in m.group(2).rstrip("\n").split("\n")]
            with open(os.path.join(tt.REPO, m.group(1))) as f:
                lines = f.read().split("\n")
            if not any(lines[i:i + len(quoted)] == quoted for i in range(len(lines))):
                tt.fail("docs/%s quotes %s, but these lines are not in it as quoted:\n%s"
                        % (doc, m.group(1), "\n".join(quoted)))
            count += 1
    if count == 0:
        tt.fail("no excerpt of examples/ found in docs/%s" % ", docs/".join(QUOTING_DOCS))
    print("docs: %d excerpts of examples/ quoted as they are" % count)


def main():
    p = tt.parser(__doc__)
    tt.add_common_args(p, work=True)
    p.add_argument("--check", action="store_true")
    args = p.parse_args()
    work = tt.work_dir(args.work, "example")
    exe = build(args, work)
    _, _, runner = tt.c_compiler(args.target)
    r = tt.run(runner + [exe], timeout=120)
    sys.stdout.write(r.out)
    if r.rc != 0:
        tt.fail("the example exited with %s:\n%s" % (r.rc, r.err))
    if args.check:
        check(r.out)
        check_quotes()


if __name__ == "__main__":
    main()
