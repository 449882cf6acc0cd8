#!/bin/sh
# Build the library and the tests that use threads or processes with
# ThreadSanitizer (-DMMF_TSAN=ON, build-tsan/) and run them: every data
# race, lock-order inversion or signal-unsafe call TSan sees fails the
# test (exit code 66), so the leg passes only with 0 reports.
#
# Usage: scripts/check-tsan.sh [--skip-ok]
#   --skip-ok  exit 0 instead of 77 when the compiler cannot build or run
#              -fsanitize=thread programs here
#
# Environment:
#   MMF_TSAN_BUILD  build directory (default: build-tsan)
#   CC              compiler (default: cc; clang or gcc)
#   JOBS            parallel jobs for build and ctest (default: 2)
#   CMAKE_ARGS      extra -D options for the configure step
#   CTEST_ARGS      extra ctest options (e.g. -R test_fault_race)
#
# Which programs: MMF_TSAN_PROGRAMS in tests/CMakeLists.txt.
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
build=${MMF_TSAN_BUILD:-build-tsan}
jobs=${JOBS:-2}
cc=${CC:-cc}

skip() {
  echo "check-tsan skipped: $1"
  exit "$skip_code"
}

command -v cmake >/dev/null 2>&1 || skip "cmake not found"
command -v "$cc" >/dev/null 2>&1 || skip "$cc not found"

# Can we build a threaded program with TSan, and does it run here? (TSan
# needs its runtime, and refuses some address-space layouts.)
probe=$(mktemp -d "${TMPDIR:-/tmp}/mmf-tsan.XXXXXX")
trap 'rm -rf "$probe"' EXIT
cat >"$probe/p.c" <<'PROBE'
#include <pthread.h>
static int shared;
static void *run(void *arg) { (void)arg; shared++; return 0; }
int main(void) {
  pthread_t t;
  if (pthread_create(&t, 0, run, 0) != 0) return 1;
  pthread_join(t, 0);
  return shared != 1;
}
PROBE
if ! "$cc" -fsanitize=thread -g -o "$probe/p" "$probe/p.c" -lpthread \
  >"$probe/log" 2>&1; then
  why=$(head -n 1 "$probe/log")
  skip "'$cc -fsanitize=thread' cannot build${why:+ ($why)}; install the compiler's TSan runtime (gcc: libtsan, clang: libclang-rt-dev)"
fi
"$probe/p" >"$probe/run" 2>&1 ||
  skip "TSan programs do not run here ($(head -n 1 "$probe/run"))"

echo "check-tsan: $("$cc" --version | head -n 1)"
# shellcheck disable=SC2086
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMMF_WERROR=ON \
  -DMMF_TSAN=ON -DCMAKE_C_COMPILER="$cc" ${CMAKE_ARGS:-}
cmake --build "$build" -j"$jobs"
# halt_on_error: the first report ends the test with exitcode 66, which
# CTest counts as a failure; second_deadlock_stack: both stacks of a
# lock-order inversion; handle_segv/handle_sigbus=0: a crash the tests
# provoke on purpose stays death by the signal (TSan would report it and
# exit 66). The tree checks (format, alloc_table) ran in the other legs,
# and so did the bound on the CPU time of a polling sleeper, which
# measures the library's polling, not the instrumentation (that makes
# every poll several times dearer).
TSAN_OPTIONS="halt_on_error=1:exitcode=66:second_deadlock_stack=1:handle_segv=0:handle_sigbus=0${TSAN_OPTIONS:+:$TSAN_OPTIONS}"
export TSAN_OPTIONS
# shellcheck disable=SC2086
ctest --test-dir "$build" --output-on-failure -j"$jobs" --timeout 600 \
  -E '^(format|alloc_table|test_wait\.blocked_polling_waiter_uses_little_cpu)$' \
  ${CTEST_ARGS:-}
