#!/bin/sh
# Build mmf, its tests, examples and tool with musl (Debian's musl-gcc
# wrapper, from musl-tools), link every program statically, and run the
# whole CTest suite natively.
#
# Usage: scripts/check-musl.sh [--skip-ok]
#   --skip-ok  exit 0 instead of 77 when musl-gcc is missing or cannot
#              build a static program
#
# Environment:
#   MMF_MUSL_BUILD  build directory (default: build-musl)
#   MUSL_CC         compiler (default: musl-gcc)
#   JOBS            parallel jobs for build and ctest (default: 2)
#   CMAKE_ARGS      extra -D options for the configure step
#   CTEST_ARGS      extra ctest options (e.g. -R test_window)
#
# Static linking is the point: a musl program that ran with glibc's
# loader, or picked up a glibc library, would not test musl. The examples
# then link the static library too (examples/CMakeLists.txt).
set -eu

leg=musl
. "$(dirname "$0")/leg.sh"
leg_args "$@"

cd "$(dirname "$0")/.."
build=${MMF_MUSL_BUILD:-build-musl}
cc=${MUSL_CC:-musl-gcc}

command -v cmake >/dev/null 2>&1 || leg_skip "cmake not found"
command -v "$cc" >/dev/null 2>&1 ||
  leg_skip "$cc not found (apt-get install musl-tools)"

probe=$(mktemp -d "${TMPDIR:-/tmp}/mmf-musl.XXXXXX")
trap 'rm -rf "$probe"' EXIT
printf '#include <pthread.h>\nint main(void) { return pthread_self() == 0; }\n' \
  >"$probe/p.c"
if ! "$cc" -static -o "$probe/p" "$probe/p.c" -lpthread >"$probe/log" 2>&1; then
  leg_skip "'$cc -static' cannot link ($(head -n 1 "$probe/log"))"
fi
"$probe/p" || leg_skip "a static musl program does not run here"

echo "check-musl: $cc ($(command -v "$cc")), gcc $("$cc" -dumpversion)"
# shellcheck disable=SC2086
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DMMF_WERROR=ON \
  -DCMAKE_C_COMPILER="$cc" -DCMAKE_EXE_LINKER_FLAGS=-static ${CMAKE_ARGS:-}
cmake --build "$build" -j"$leg_jobs"
# shellcheck disable=SC2086
leg_ctest "$build" ${CTEST_ARGS:-}
