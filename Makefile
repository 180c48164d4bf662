# Tidal's verbs (docs/testing.md):
#   make         install missing packages, configure, build, run the example
#   make test    build, then every test layer through ctest; lists skipped tests
#   make update-conformance
#                re-run the conformance suites on every target and record the
#                outcomes (test/conformance/*.tsv) and docs/ops*.md: the only
#                verb that writes the records `make test` holds each case to
#   make bench   the reference models against ONNX Runtime (1 and 2 threads),
#                twelve unseen ones (1 thread), SGEMM against OpenBLAS and
#                the core's peak; writes
#                docs/performance.md
#   make install tidalc, the runtimes, tools/tidal.mk and the CMake package
#                (find_package(Tidal), docs/build.md) under PREFIX
#   make docs    regenerate docs/cli-reference.md from tidalc's help (the
#                ctest cli-reference fails while it is stale)
#   make clean   remove the build folder
# Variables: BUILD (build folder), PYTHON (needs onnx, numpy, torch), SHARED
# (the shared folder with onnx-tests/, models/, peer/), NINJAFLAGS, CTESTFLAGS.

BUILD      ?= build
PREFIX     ?= /usr/local
PYTHON     ?= /usr/bin/python3
SHARED     ?= ../shared
BUILD_TYPE ?= Release
NINJAFLAGS ?=
CTESTFLAGS ?=
TIDALC     := $(BUILD)/bin/tidalc
PEER       := $(SHARED)/peer

.PHONY: all deps configure build example test update-conformance bench install docs clean

all: example

deps:
	@tools/setup/install-deps.sh

# Configured once; afterwards ninja re-runs CMake itself when a CMakeLists.txt
# or a globbed folder changes.
configure: deps
	@if [ ! -f $(BUILD)/build.ninja ]; then \
	  echo "configuring $(BUILD)/ ($(BUILD_TYPE))"; \
	  cmake -G Ninja -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) \
	    -DTIDAL_SHARED_DIR=$(abspath $(SHARED)) --log-level=WARNING; \
	fi

build: configure
	@ninja -C $(BUILD) --quiet $(NINJAFLAGS)

install: build
	@cmake --install $(BUILD) --prefix $(PREFIX)

# The CLI reference is tidalc's own help (test/scripts/cli_reference.py).
docs: build
	@$(PYTHON) test/scripts/cli_reference.py --tidalc $(TIDALC)

example: build
	@echo "examples/main.c with examples/classifier.onnx compiled by $(TIDALC):"
	@$(PYTHON) test/scripts/example.py --tidalc $(TIDALC) --work $(BUILD)/example

# ctest's JUnit file keeps every test's output, so the tests it skipped
# (exit 77) can be listed with their reasons; ctest's status is kept.
test: build
	@ctest --test-dir $(BUILD) --output-on-failure \
	  --output-junit $(abspath $(BUILD))/ctest-results.xml $(CTESTFLAGS); \
	  status=$$?; $(PYTHON) test/scripts/ctest_skipped.py $(BUILD)/ctest-results.xml; \
	  exit $$status

# The conformance records change only here, deliberately (docs/testing.md).
SUITE := $(SHARED)/onnx-tests
update-conformance: build
	$(PYTHON) test/scripts/conformance.py --update --target x86-64 --tidalc $(TIDALC) \
	  --suite-dir $(SUITE)
	$(PYTHON) test/scripts/conformance.py --update --target cortex-a53 --tidalc $(TIDALC) \
	  --suite-dir $(SUITE)
	$(PYTHON) test/scripts/nvptx_conformance.py --update --tidalc $(TIDALC) \
	  --suite-dir $(SUITE) --work $(BUILD)/test/work/update-conformance-nvptx

# The peer (onnxruntime-node) is installed once, as $(PEER)/README.md says.
bench: build
	@if [ ! -d $(PEER)/node_modules/onnxruntime-node ]; then \
	  command -v npm >/dev/null || { echo "make bench needs node and npm"; exit 1; }; \
	  echo "installing ONNX Runtime (the peer) in $(PEER)"; \
	  (cd $(PEER) && ONNXRUNTIME_NODE_INSTALL=skip npm install --no-audit --no-fund --silent); \
	fi
	@tools/setup/install-deps.sh bench
	@$(PYTHON) test/scripts/bench.py --tidalc $(TIDALC) --shared-dir $(SHARED) \
	  --models-dir $(BUILD)/models --unseen-dir $(BUILD)/models-unseen \
	  --work $(BUILD)/bench --report docs/performance.md

clean:
	rm -rf $(BUILD)
