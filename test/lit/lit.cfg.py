# -*- Python -*-
# lit configuration of Tidal's golden IR tests (docs/testing.md).
#
# Each test is a text file (.ir, .ll or .test) whose RUN lines pipe a tool
# (tidal-opt, tidalc) into FileCheck. The tools come from the build folder:
# lit's parameter tidal_build_dir, else $TIDAL_BUILD_DIR, else <repo>/build.
# Test outputs go under <build>/test/lit, never into the source tree.
#
#   /usr/lib/llvm-19/build/utils/lit/lit.py -sv test/lit
#   /usr/lib/llvm-19/build/utils/lit/lit.py -sv --param tidal_build_dir=/tmp/b test/lit

import os
import sys

import lit.formats
from lit.llvm.subst import ToolSubst

config.name = "Tidal"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".ir", ".ll", ".test"]
config.excludes = ["Inputs", "Output", "lit.cfg.py"]
config.test_source_root = os.path.dirname(os.path.abspath(__file__))

repo_root = os.path.dirname(os.path.dirname(config.test_source_root))
build_dir = lit_config.params.get(
    "tidal_build_dir",
    os.environ.get("TIDAL_BUILD_DIR", os.path.join(repo_root, "build")))
build_dir = os.path.abspath(build_dir)
config.test_exec_root = os.path.join(build_dir, "test", "lit")

bin_dir = os.path.join(build_dir, "bin")
llvm_bin = lit_config.params.get("llvm_bin_dir", "/usr/lib/llvm-19/bin")


def not_command():
    """LLVM's `not`, or the stand-in in test/scripts when it is missing."""
    path = os.path.join(llvm_bin, "not")
    if os.path.exists(path):
        return path
    return "%s %s" % (sys.executable,
                      os.path.join(repo_root, "test", "scripts", "not.py"))


tools = [
    ("tidal-opt", os.path.join(bin_dir, "tidal-opt")),
    ("tidalc", os.path.join(bin_dir, "tidalc")),
    ("FileCheck", os.path.join(llvm_bin, "FileCheck")),
    ("not", not_command()),
]
for name, command in tools:
    if not os.path.exists(command.split(" ")[0]):
        lit_config.warning("%s not found at %s" % (name, command))
    # Word-bounded, so that e.g. `not` inside a path or a flag is untouched.
    config.substitutions.append((ToolSubst(name).regex, command))

# Tests that run a tool without a substitution still find Tidal's first.
config.environment["PATH"] = os.pathsep.join(
    [bin_dir, llvm_bin, config.environment.get("PATH", "")])
