#!/bin/sh
# Cross-build mmf for 64-bit ARM Linux (Debian's gcc-aarch64-linux-gnu) and
# run the whole CTest suite under qemu-user (qemu-aarch64-static, with the
# target's C library from libc6-dev-arm64-cross / libc6-arm64-cross).
#
# Usage: scripts/check-aarch64.sh [--skip-ok]
#   --skip-ok  exit 0 instead of 77 when the cross compiler or qemu is
#              missing
#
# Environment:
#   MMF_AARCH64_BUILD  build directory (default: build-aarch64)
#   AARCH64_PREFIX     compiler triplet (default: aarch64-linux-gnu)
#   QEMU_AARCH64       emulator (default: qemu-aarch64-static, else
#                      qemu-aarch64)
#   JOBS               parallel jobs for build and ctest (default: 2)
#   CMAKE_ARGS         extra -D options for the configure step
#   CTEST_ARGS         extra ctest options; the default -E '^format$'
#                      leaves out the formatting check of the tree (the same
#                      on every platform: `make check-format`)
#
# CTest starts every test program, example and the tool's shell tests
# through CMAKE_CROSSCOMPILING_EMULATOR. What qemu-user does not emulate
# (MAP_POPULATE, RLIMIT_AS, mincore over PROT_NONE pages, the kernel's
# /proc/self/maps) is probed by the tests, which skip or adapt with the
# reason; the fault guard's SIGBUS and SIGSEGV are delivered as on hardware.
set -eu

leg=aarch64
. "$(dirname "$0")/leg.sh"
leg_args "$@"

cd "$(dirname "$0")/.."
root=$(pwd)
build=${MMF_AARCH64_BUILD:-build-aarch64}
triplet=${AARCH64_PREFIX:-aarch64-linux-gnu}
sysroot=/usr/$triplet

command -v cmake >/dev/null 2>&1 || leg_skip "cmake not found"
command -v "$triplet-gcc" >/dev/null 2>&1 ||
  leg_skip "$triplet-gcc not found (apt-get install gcc-aarch64-linux-gnu)"
qemu=${QEMU_AARCH64:-}
if [ -z "$qemu" ]; then
  for q in qemu-aarch64-static qemu-aarch64; do
    if command -v "$q" >/dev/null 2>&1; then
      qemu=$(command -v "$q")
      break
    fi
  done
fi
[ -n "$qemu" ] ||
  leg_skip "qemu-aarch64-static not found (apt-get install qemu-user-static)"

probe=$(mktemp -d "${TMPDIR:-/tmp}/mmf-aarch64.XXXXXX")
trap 'rm -rf "$probe"' EXIT
printf '#include <pthread.h>\nint main(void) { return pthread_self() == 0; }\n' \
  >"$probe/p.c"
if ! "$triplet-gcc" -o "$probe/p" "$probe/p.c" -lpthread >"$probe/log" 2>&1; then
  leg_skip "'$triplet-gcc' cannot link ($(head -n 1 "$probe/log"));" \
    "apt-get install libc6-dev-arm64-cross"
fi
"$qemu" -L "$sysroot" "$probe/p" ||
  leg_skip "$qemu cannot run an aarch64 program"

echo "check-aarch64: $("$triplet-gcc" --version | head -n 1)"
echo "check-aarch64: $("$qemu" --version | head -n 1) -L $sysroot"
# shellcheck disable=SC2086
cmake -S "$root" -B "$build" \
  -DCMAKE_TOOLCHAIN_FILE="$root/cmake/toolchain-aarch64.cmake" \
  -DAARCH64_PREFIX="$triplet" \
  -DCMAKE_BUILD_TYPE=Release -DMMF_WERROR=ON \
  "-DCMAKE_CROSSCOMPILING_EMULATOR=$qemu;-L;$sysroot" \
  ${CMAKE_ARGS:-}
cmake --build "$build" -j"$leg_jobs"
# shellcheck disable=SC2086
leg_ctest "$build" ${CTEST_ARGS:--E ^format\$}
