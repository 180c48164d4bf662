# tidal.mk - compile ONNX models with tidalc from GNU make.
#
# Include it, list the objects, and make builds each NAME.o and NAME.h from
# NAME.onnx with one tidalc call; the depfile tidalc writes beside them
# (NAME.d: the model, its external data files, --bind-input tensors and
# --schedule files) makes a change to any of them rebuild the model, and
# only what depends on it:
#
#   TIDALC       ?= tidalc
#   TIDAL_TARGET := cortex-a53
#   include $(TIDAL_ROOT)/tools/tidal.mk
#
#   firmware: main.o net.o
#           $(CC) $^ $(TIDAL_LINK_FLAGS) -o $@
#   main.o: net.h
#   -include net.d
#
# Variables (set them before or after the include; they are read when a
# rule runs):
#   TIDALC        the compiler (default: tidalc on PATH)
#   TIDAL_TARGET  x86-64 (default), cortex-a53 or nvptx
#   TIDAL_MCPU    the CPU, passed as --mcpu when set
#   TIDAL_FLAGS   any other `tidalc compile` flags (-O2, --input-shape ...);
#                 with --weights external the rule also writes NAME.bin, the
#                 weights the firmware loads (a target of the same rule)
#   TIDAL_LINK_FLAGS  what the link needs after the objects: the runtime
#                 (`tidalc link-flags --target $(TIDAL_TARGET)`)
#
# For objects in another folder than their models, write the same recipe
# under your own pattern, e.g. `build/%.o build/%.h build/%.bin: models/%.onnx`:
# $(TIDAL_COMPILE) names its outputs after the target's folder and the stem.

TIDALC ?= tidalc
TIDAL_TARGET ?= x86-64
TIDAL_MCPU ?=
TIDAL_FLAGS ?=
TIDAL_LINK_FLAGS = $(shell $(TIDALC) link-flags --target $(TIDAL_TARGET))

# One call writes the object, the header, the depfile and, with --weights
# external, the weights file (a grouped pattern rule: make runs it once for
# all its targets; without external weights nothing asks for NAME.bin).
# $(@D)/$(*F) is the output path without its extension, whichever of the
# targets make asked for.
TIDAL_COMPILE = $(TIDALC) compile $< -o $(@D)/$(*F).o \
  --header $(@D)/$(*F).h -MD -MP -MF $(@D)/$(*F).d \
  --target $(TIDAL_TARGET) $(if $(TIDAL_MCPU),--mcpu $(TIDAL_MCPU)) \
  $(TIDAL_FLAGS)

%.o %.h %.bin: %.onnx
	$(TIDAL_COMPILE)
