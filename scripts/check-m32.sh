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
#   MMF_SHARE_PARTNER  the 64-bit share_partner program (default:
#                  build/tests/share_partner, from `make build`)
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
  skip "'$cc -m32' cannot link${why:+ ($why)}; on Debian/Ubuntu: apt-get install lib32gcc-12-dev libc6-dev-i386 (or gcc-multilib, which conflicts with gcc-aarch64-linux-gnu)"
fi
"$probe/p" || skip "this system cannot run 32-bit programs"

# Debian's libc6-dev-i386 without gcc-multilib (which conflicts with the
# aarch64 cross compiler) leaves <asm/...> unreachable for -m32: <errno.h>
# then fails. The x86 asm headers serve both word sizes; point at them.
printf '#include <errno.h>\nint main(void) { return errno; }\n' >"$probe/e.c"
# shellcheck disable=SC2086
if ! "$cc" $flags -o "$probe/e" "$probe/e.c" >/dev/null 2>&1; then
  for asm in /usr/include/x86_64-linux-gnu/asm /usr/include/i386-linux-gnu/asm; do
    if [ -d "$asm" ]; then
      mkdir -p "$build/m32-include"
      ln -sfn "$asm" "$build/m32-include/asm"
      flags="$flags -isystem $(cd "$build/m32-include" && pwd)"
      break
    fi
  done
fi

# The tests that share a mutex between a 32-bit and a 64-bit process run
# the 64-bit build's partner program (test_mutex.c); `make check` builds
# build/ before this leg.
partner=${MMF_SHARE_PARTNER:-$(pwd)/${MMF_BUILD:-build}/tests/share_partner}
if [ -x "$partner" ]; then
  MMF_SHARE_PARTNER=$partner
  export MMF_SHARE_PARTNER
  echo "check-m32: 64-bit partner $partner"
else
  echo "check-m32: no 64-bit partner at $partner (build build/ first); the 32/64-bit mutex test will skip"
fi

echo "check-m32: configuring $build with CMAKE_C_FLAGS='$flags'"
# shellcheck disable=SC2086
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DMMF_WERROR=ON \
  -DCMAKE_C_COMPILER="$cc" "-DCMAKE_C_FLAGS=$flags" ${CMAKE_ARGS:-}
cmake --build "$build" -j"$jobs"
# shellcheck disable=SC2086
ctest --test-dir "$build" --output-on-failure -j"$jobs" --timeout 600 \
  ${CTEST_ARGS:-}

# Logs across word sizes. Every build reads the committed log of a 64-bit
# writer (tests/data/log-v1, test_log.reads_the_committed_log_of_version_1,
# run above). With a 64-bit build at hand (MMF_HOST_BUILD, default build/,
# as `make check` leaves it), the two also exchange fresh logs: the 32-bit
# writer's for the 64-bit reader and the other way round.
host=${MMF_HOST_BUILD:-build}/tests/test_log
if [ -x "$host" ] && [ -x "$build/tests/test_log" ]; then
  rm -rf "$build/log-from-m32" "$build/log-from-host"
  MMF_LOG_FIXTURE_OUT=$build/log-from-m32 "$build/tests/test_log" \
    fixture_write_for_another_platform
  MMF_LOG_FIXTURE=$build/log-from-m32 "$host" \
    fixture_read_from_another_platform
  MMF_LOG_FIXTURE_OUT=$build/log-from-host "$host" \
    fixture_write_for_another_platform
  MMF_LOG_FIXTURE=$build/log-from-host "$build/tests/test_log" \
    fixture_read_from_another_platform
  echo "check-m32: logs exchanged with the 64-bit build ($host): read both ways"
else
  echo "check-m32: no 64-bit build at $host: the exchange of fresh logs is" \
    "skipped (the committed 64-bit log was read)"
fi
