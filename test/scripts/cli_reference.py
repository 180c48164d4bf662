#!/usr/bin/python3
"""docs/cli-reference.md, generated from tidalc's own help.

Runs `tidalc --help`, finds the subcommands in its "Subcommands:" list
(and theirs, should a subcommand have any), runs `tidalc SUBCOMMAND
--help` for each in the order listed, and writes every help text verbatim
in a code block under a short generated header. CLI11 formats help at a
fixed width, and tidalc runs with COLUMNS and LINES removed and LC_ALL=C,
so the text depends only on tidalc. A help text that names this
repository's folder or tidalc's absolute path fails: the page must be the
same from any checkout.

With --check the file is not written: it must equal what would be, or the
script prints a diff and the command that regenerates it, and fails.

    cli_reference.py [--tidalc build/bin/tidalc] [--output docs/cli-reference.md] [--check]

`make docs` regenerates the page; the ctest cli-reference runs --check.
"""
import difflib
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tidal_test as tt  # noqa: E402

DEFAULT_OUTPUT = os.path.join(tt.REPO, "docs", "cli-reference.md")
REGENERATE = "make docs  (or: test/scripts/cli_reference.py --tidalc build/bin/tidalc)"
HEADER = """\
# `tidalc` command-line reference

Generated from tidalc's own help by `make docs`
(test/scripts/cli_reference.py); do not edit by hand. `make test` fails
(ctest `cli-reference`) when this page and the help differ. The meaning
of each flag, the exit statuses and the promises behind them are in
[cli.md](cli.md), the hand-written contract.
"""
# A subcommand line of CLI11's help: two spaces, the name, then spaces and
# its description (or nothing, when the name is too long for the column).
SUBCOMMAND = re.compile(r"^  ([A-Za-z0-9][A-Za-z0-9_-]*)(?:\s|$)")


def help_env():
    """The environment tidalc's help runs in: no terminal size, the C locale."""
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env["LC_ALL"] = "C"
    return env


def help_text(tidalc, words):
    """The stdout of `tidalc WORDS... --help`, which must exit 0 and name no
    absolute path of this machine."""
    r = tt.run([tidalc] + words + ["--help"], timeout=60, env=help_env())
    shown = " ".join(["tidalc"] + words + ["--help"])
    if r.rc != 0:
        tt.fail("`%s` exited %s:\n%s%s" % (shown, r.rc, r.out, r.err))
    if not r.out.strip():
        tt.fail("`%s` printed nothing" % shown)
    for path in (tt.REPO, os.path.dirname(os.path.abspath(tidalc))):
        if len(path) > 1 and path in r.out:
            tt.fail("`%s` names the absolute path %s; the reference must not" % (shown, path))
    return r.out.rstrip("\n")


def subcommands(text):
    """The names in the "Subcommands:" section of a help text, in order."""
    names, inside = [], False
    for line in text.splitlines():
        if line.rstrip() == "Subcommands:":
            inside = True
        elif inside and not line.strip():
            inside = False
        elif inside:
            m = SUBCOMMAND.match(line)
            if m:
                names.append(m.group(1))
    return names


def collect(tidalc, words=()):
    """[(words, help text)] for tidalc WORDS and, depth first, every
    subcommand below it."""
    text = help_text(tidalc, list(words))
    found = [(list(words), text)]
    for name in subcommands(text):
        found += collect(tidalc, list(words) + [name])
    return found


def render(helps):
    parts = [HEADER]
    for words, text in helps:
        parts.append("## `%s`\n\n```text\n%s\n```\n" % (" ".join(["tidalc"] + words + ["--help"]),
                                                      text))
    return "\n".join(parts)


def main():
    p = tt.parser(__doc__)
    tt.add_common_args(p, target=False)
    p.add_argument("--output", default=DEFAULT_OUTPUT, help="the page to write or check")
    p.add_argument("--check", action="store_true",
                   help="fail, with a diff, when the page differs from the help")
    args = p.parse_args()
    helps = collect(args.tidalc)
    if len(helps) < 2:
        tt.fail("`tidalc --help` lists no subcommands")
    text = render(helps)
    if not args.check:
        tt.write_text(args.output, text)
        print("wrote %s: %d help texts" % (args.output, len(helps)))
        return
    try:
        with open(args.output) as f:
            old = f.read()
    except OSError as e:
        tt.fail("cannot read %s (%s); regenerate it with: %s" % (args.output, e, REGENERATE))
    if old != text:
        diff = "".join(difflib.unified_diff(old.splitlines(True), text.splitlines(True),
                                            args.output, "tidalc's help"))
        tt.fail("%s is stale; regenerate it with: %s\n%s" % (args.output, REGENERATE, diff))
    print("ok %s matches tidalc's help (%d help texts: %s)" % (
        os.path.relpath(args.output, tt.REPO), len(helps),
        ", ".join(" ".join(["tidalc"] + w) for w, _ in helps)))


if __name__ == "__main__":
    main()
