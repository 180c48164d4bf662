#!/usr/bin/env bash
# Installs, from Debian's packages only, whatever Tidal's build and tests need
# and this machine lacks. Safe to run again: it installs nothing when all is
# present. Called by the top-level Makefile before the first build; with the
# argument `bench`, by `make bench` for what only the benchmarks need
# (OpenBLAS, the SGEMM yardstick; qemu's plugin sources' build needs).
set -euo pipefail

pkgs=(
  # compiler build
  llvm-19-dev clang-19 lld-19 llvm-19-tools libzstd-dev
  libonnx-dev libprotobuf-dev protobuf-compiler libcli11-dev catch2
  cmake ninja-build libjemalloc-dev
  # model tests (reference set export, conformance data)
  python3-onnx python3-torch python3-torchvision python3-numpy
  # cortex-a53 target: cross runtime, cross link, emulation
  gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user
)
if [ "${1:-}" = bench ]; then
  # OpenBLAS; what ../shared/tools/build-qemu-plugins.sh needs (instruction
  # counts on Cortex-A53)
  pkgs=(libopenblas0-pthread libglib2.0-dev pkg-config dpkg-dev xz-utils gcc)
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
