#!/usr/bin/python3
"""Lists the tests ctest skipped, each with the reason it printed.

`make test` runs ctest with --output-junit and then this script on that
file. A test skips by exiting 77 (SKIP_RETURN_CODE, tidal_test.skip) after
printing `SKIPPED: <why>`; ctest counts it as neither passed nor failed, and
this makes the skip visible at the end of the run instead of one line among
many. Prints nothing when nothing was skipped; always exits 0 (ctest's own
status is the verdict).

    ctest_skipped.py build/ctest-results.xml
"""
import os
import sys
import xml.etree.ElementTree as ET


def reasons(case):
    out = case.findtext("system-out") or ""
    lines = [l.strip() for l in out.splitlines() if l.strip().startswith("SKIPPED")]
    return lines or ["(no reason printed)"]


def main():
    if len(sys.argv) != 2 or not os.path.exists(sys.argv[1]):
        print("ctest_skipped.py: no ctest JUnit file given; skipped tests not listed")
        return
    skipped = [c for c in ET.parse(sys.argv[1]).getroot().iter("testcase")
               if c.find("skipped") is not None or c.get("status") == "notrun"]
    if not skipped:
        return
    print("\n%d tests skipped (they did not run, so they did not pass):" % len(skipped))
    for case in skipped:
        print("  %s: %s" % (case.get("name"), "; ".join(reasons(case))))


if __name__ == "__main__":
    main()
