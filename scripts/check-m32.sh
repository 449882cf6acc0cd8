#!/bin/sh
# Build mmf and its whole test suite as 32-bit programs (gcc -m32, with
# 64-bit file offsets) and run the CTest suite: the leg that proves files
# larger than 4 GiB work in a 4 GiB address space.
#
# Usage: scripts/check-m32.sh [--skip-ok]
#   --skip-ok  exit 0 instead of 77 when the compiler cannot build and run
#              32-bit programs
#
# Environment:
#   MMF_M32_BUILD  build directory (default: build-m32)
#   CC             compiler (default: gcc)
#   JOBS           parallel jobs for build and ctest (default: 2)
#   CMAKE_ARGS     extra -D options for the configure step
#   CTEST_ARGS     extra ctest options (e.g. -R test_window)
#
# -D_FILE_OFFSET_BITS=64 makes off_t 64-bit in the library and the tests,
# so offsets past 4 GiB reach the system calls intact; without it a 32-bit
# glibc build would silently use 32-bit offsets.
set -eu

skip_code=77
for arg in "$@"; do
  case $arg in
  --skip-ok) skip_code=0 ;;
  *)
    echo "usage: $0 [--skip-ok]" >&2
    exit 2
    ;;
  esac
done

cd "$(dirname "$0")/.."
build=${MMF_M32_BUILD:-build-m32}
jobs=${JOBS:-2}
cc=${CC:-gcc}
flags="-m32 -D_FILE_OFFSET_BITS=64"

skip() {
  echo "check-m32 skipped: $1"
  exit "$skip_code"
}

command -v cmake >/dev/null 2>&1 || skip "cmake not found"
command -v "$cc" >/dev/null 2>&1 || skip "$cc not found"

# Can we link a 32-bit program with threads, and can this kernel run it?
probe=$(mktemp -d "${TMPDIR:-/tmp}/mmf-m32.XXXXXX")
trap 'rm -rf "$probe"' EXIT
printf '#include <pthread.h>\nint main(void) { return pthread_self() == 0; }\n' \
  >"$probe/p.c"
# shellcheck disable=SC2086
if ! "$cc" $flags -o "$probe/p" "$probe/p.c" -lpthread >"$probe/log" 2>&1; then
  why=$(head -n 1 "$probe/log")
  # gcc-multilib would do too, but Debian lets it conflict with the aarch64
  # cross compiler.
  skip "'$cc -m32' cannot link${why:+ ($why)}; on Debian/Ubuntu: apt-get install libc6-dev-i386 lib32gcc-<gcc version>-dev"
fi
"$probe/p" || skip "this system cannot run 32-bit programs"

# Can it compile against the kernel's headers? <errno.h> and friends include
# <asm/...>, the kernel's uapi headers, which Debian keeps per architecture
# (/usr/include/x86_64-linux-gnu/asm). gcc-multilib adds /usr/include/asm
# pointing at the 64-bit ones, which serve i386 too (they switch on
# __i386__); libc6-dev-i386 alone does not. Without it, give the build the
# same link in a directory of its own.
printf '%s\n' '#include <errno.h>' '#include <sys/mman.h>' \
  'int main(void) { return errno; }' >"$probe/h.c"
# shellcheck disable=SC2086
if ! "$cc" $flags -c -o "$probe/h.o" "$probe/h.c" >"$probe/log" 2>&1; then
  asm=/usr/include/$("$cc" -print-multiarch 2>/dev/null)/asm
  [ -d "$asm" ] ||
    skip "'$cc -m32' cannot compile <errno.h> ($(grep -m 1 error "$probe/log"))"
  include=$(pwd)/$build/m32-include
  mkdir -p "$include" && ln -sfn "$asm" "$include/asm" || exit 1
  flags="$flags -isystem $include"
  # shellcheck disable=SC2086
  "$cc" $flags -c -o "$probe/h.o" "$probe/h.c" >"$probe/log" 2>&1 ||
    skip "'$cc -m32' cannot compile <errno.h> ($(grep -m 1 error "$probe/log"))"
fi

echo "check-m32: configuring $build with CMAKE_C_FLAGS='$flags'"
# shellcheck disable=SC2086
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DMMF_WERROR=ON \
  -DCMAKE_C_COMPILER="$cc" "-DCMAKE_C_FLAGS=$flags" ${CMAKE_ARGS:-}
cmake --build "$build" -j"$jobs"
# shellcheck disable=SC2086
ctest --test-dir "$build" --output-on-failure -j"$jobs" --timeout 600 \
  ${CTEST_ARGS:-}
