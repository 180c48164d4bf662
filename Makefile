# Tidal's verbs (docs/testing.md):
#   make         install missing packages, configure, build, run the example
#   make test    build, then every test layer through ctest
#   make bench   latency of the reference models as ratios against ONNX Runtime
#   make clean   remove the build folder
# Variables: BUILD (build folder), PYTHON (needs onnx, numpy, torch), SHARED
# (the shared folder with onnx-tests/, models/, peer/), NINJAFLAGS, CTESTFLAGS.

BUILD      ?= build
PYTHON     ?= /usr/bin/python3
SHARED     ?= ../shared
BUILD_TYPE ?= Release
NINJAFLAGS ?=
CTESTFLAGS ?=
TIDALC     := $(BUILD)/bin/tidalc
PEER       := $(SHARED)/peer

.PHONY: all deps configure build example test bench clean

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

example: build
	@echo "examples/main.c with examples/classifier.onnx compiled by $(TIDALC):"
	@$(PYTHON) test/scripts/example.py --tidalc $(TIDALC) --work $(BUILD)/example

test: build
	ctest --test-dir $(BUILD) --output-on-failure $(CTESTFLAGS)

# The peer (onnxruntime-node) is installed once, as $(PEER)/README.md says.
bench: build
	@if [ ! -d $(PEER)/node_modules/onnxruntime-node ]; then \
	  command -v npm >/dev/null || { echo "make bench needs node and npm"; exit 1; }; \
	  echo "installing ONNX Runtime (the peer) in $(PEER)"; \
	  (cd $(PEER) && ONNXRUNTIME_NODE_INSTALL=skip npm install --no-audit --no-fund --silent); \
	fi
	@$(PYTHON) test/scripts/bench.py --tidalc $(TIDALC) --shared-dir $(SHARED) \
	  --models-dir $(BUILD)/models

clean:
	rm -rf $(BUILD)
