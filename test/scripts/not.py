#!/usr/bin/env python3
"""A stand-in for LLVM's `not`, used by test/lit when LLVM's is missing:
runs the command and succeeds only when it exits with a non-zero status (and
was not killed by a signal, so that a crash never passes as an error)."""
import subprocess
import sys

if len(sys.argv) < 2:
    sys.exit("usage: not.py COMMAND [ARG...]")
rc = subprocess.call(sys.argv[1:])
sys.exit(0 if rc > 0 else 1)
