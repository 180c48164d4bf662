# TidalConfig.cmake - find_package(Tidal) for projects that compile ONNX
# models with tidalc (docs/build.md). Installed by `cmake --install` into
# <prefix>/lib/cmake/Tidal; everything is found relative to this file, so
# the installed tree may be moved.
#
#   find_package(Tidal REQUIRED)
#   tidal_add_model(TARGET net MODEL net.onnx [TARGET_ARCH cortex-a53]
#                   [BAREMETAL] [OPTIONS -O3 --input-shape x=1x3x32x32 ...])
#   target_link_libraries(app PRIVATE net)
#
# tidal_add_model makes the static library target `net` holding the model's
# object, carrying the directory of its header net.h (include "net.h"), the
# runtime's headers (tidalrt.h, for <name>_run_threaded's thread pool) and
# the runtime the object needs, for the target architecture (BAREMETAL, with
# TARGET_ARCH cortex-a53: the runtime without an operating system, for a
# firmware image linked -nostdlib; docs/firmware.md). The model is
# recompiled when it, its external data, or tidalc changes (tidalc's
# depfile). With OPTIONS --weights external, the command also writes the
# weights file <target>.bin beside the header, whose path is the target's
# property TIDAL_WEIGHTS_FILE (the firmware loads it and defines
# <target>_load_weights; docs/abi.md). Defines the imported executable
# Tidal::tidalc.

get_filename_component(_TIDAL_PREFIX "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)
if(NOT TARGET Tidal::tidalc)
  add_executable(Tidal::tidalc IMPORTED)
  set_target_properties(Tidal::tidalc PROPERTIES
    IMPORTED_LOCATION "${_TIDAL_PREFIX}/bin/tidalc")
endif()
set(Tidal_TIDALC "${_TIDAL_PREFIX}/bin/tidalc")

function(tidal_add_model)
  cmake_parse_arguments(PARSE_ARGV 0 ARG "BAREMETAL" "TARGET;MODEL;TARGET_ARCH"
                        "OPTIONS")
  if(NOT ARG_TARGET OR NOT ARG_MODEL)
    message(FATAL_ERROR "tidal_add_model: TARGET and MODEL are required")
  endif()
  if(NOT ARG_TARGET_ARCH)
    set(ARG_TARGET_ARCH x86-64)
  endif()
  if(ARG_BAREMETAL AND NOT ARG_TARGET_ARCH STREQUAL "cortex-a53")
    message(FATAL_ERROR "tidal_add_model: BAREMETAL needs TARGET_ARCH "
                        "cortex-a53 (the only bare-metal runtime)")
  endif()
  get_filename_component(Model "${ARG_MODEL}" ABSOLUTE)
  set(Dir "${CMAKE_CURRENT_BINARY_DIR}/tidal/${ARG_TARGET}")
  set(Obj "${Dir}/${ARG_TARGET}.o")
  set(Header "${Dir}/${ARG_TARGET}.h")
  set(Outputs "${Obj}" "${Header}")
  string(REPLACE ";" " " Joined "${ARG_OPTIONS}")
  if(Joined MATCHES "(^| )--weights[ =]external( |$)")
    set(Weights "${Dir}/${ARG_TARGET}.bin")
    list(APPEND Outputs "${Weights}")
  endif()
  add_custom_command(
    OUTPUT ${Outputs}
    COMMAND "${CMAKE_COMMAND}" -E make_directory "${Dir}"
    COMMAND Tidal::tidalc compile "${Model}" -o "${Obj}" --header "${Header}"
            --name "${ARG_TARGET}" --target "${ARG_TARGET_ARCH}"
            -MD -MF "${Dir}/${ARG_TARGET}.d" ${ARG_OPTIONS}
    DEPENDS "${Model}" "${Tidal_TIDALC}"
    DEPFILE "${Dir}/${ARG_TARGET}.d"
    COMMENT "Compiling ${ARG_MODEL} with tidalc (${ARG_TARGET_ARCH})"
    VERBATIM)
  set_source_files_properties("${Obj}" PROPERTIES EXTERNAL_OBJECT TRUE GENERATED TRUE)
  add_library(${ARG_TARGET} STATIC "${Obj}" "${Header}")
  set_target_properties(${ARG_TARGET} PROPERTIES LINKER_LANGUAGE C)
  target_include_directories(${ARG_TARGET} INTERFACE "${Dir}"
                             "${_TIDAL_PREFIX}/include")
  if(Weights)
    set_target_properties(${ARG_TARGET} PROPERTIES TIDAL_WEIGHTS_FILE "${Weights}")
  endif()
  # What a link needs after the object: the runtime for the architecture.
  if(ARG_BAREMETAL)
    target_link_libraries(${ARG_TARGET} INTERFACE
      "${_TIDAL_PREFIX}/lib/cortex-a53-baremetal/libtidalrt.a")
    return()
  endif()
  execute_process(
    COMMAND "${Tidal_TIDALC}" link-flags --target "${ARG_TARGET_ARCH}"
    OUTPUT_VARIABLE Flags OUTPUT_STRIP_TRAILING_WHITESPACE
    RESULT_VARIABLE Status)
  if(NOT Status EQUAL 0)
    message(FATAL_ERROR "tidal_add_model: tidalc link-flags --target "
                        "${ARG_TARGET_ARCH} failed")
  endif()
  separate_arguments(Flags UNIX_COMMAND "${Flags}")
  target_link_libraries(${ARG_TARGET} INTERFACE ${Flags})
endfunction()
