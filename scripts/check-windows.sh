#!/bin/sh
# Cross-build mmf for 64-bit Windows with mingw-w64 and run the CTest suite
# under Wine.
#
# Usage: scripts/check-windows.sh [--skip-ok]
#   --skip-ok  exit 0 instead of 77 when mingw-w64 or Wine is missing
#
# Environment:
#   MMF_WIN_BUILD   build directory (default: build-win)
#   MMF_WINEPREFIX  Wine prefix (default: <build dir>/wineprefix); one prefix
#                   serves the whole run
#   MINGW_PREFIX    compiler triplet (default: x86_64-w64-mingw32)
#   JOBS            parallel jobs for build and ctest (default: 2)
#   CMAKE_ARGS      extra -D options for the configure step
#   CTEST_ARGS      extra ctest options (e.g. -R test_open); the default
#                   -E '^format$' leaves out the formatting check of the
#                   tree (the same on every platform: `make check-format`)
#
# The tool's integration tests (tests/cli, label "cli") run too: mmf.exe
# through Wine, the peer tools they compare it with (wc, grep, hexdump,
# fincore, ...) on this host, and the cases that need what Windows lacks
# (evict, FIFOs as such, /proc residency, ulimit) skipped with the reason
# (see tests/cli/lib.sh). CTEST_ARGS='-L cli' runs only them.
#
# A build failure does not stop the run: the build goes on with the other
# targets (-k), ctest runs what was built (tests of a program that did not
# build fail as "not run"), and the script fails at the end.
#
# Every test program starts a Wine process. A cold start (prefix creation,
# then wineserver and its helper services) takes seconds, so the script
# creates the prefix once and keeps one wineserver running for the whole
# run ("warm"), and stops it at the end.
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
root=$(pwd)
build=${MMF_WIN_BUILD:-build-win}
jobs=${JOBS:-2}
triplet=${MINGW_PREFIX:-x86_64-w64-mingw32}

skip() {
  echo "check-windows skipped: $1"
  exit "$skip_code"
}

command -v "$triplet-gcc" >/dev/null 2>&1 ||
  skip "$triplet-gcc not found (apt-get install gcc-mingw-w64-x86-64)"
command -v cmake >/dev/null 2>&1 || skip "cmake not found"

# The 64-bit loader: wine64 on PATH (Debian/Ubuntu before Wine 9 keep it in
# /usr/lib/wine), or a "wine" that runs 64-bit programs (Wine 9+, WoW64).
wine=
for w in "$(command -v wine64 2>/dev/null || true)" /usr/lib/wine/wine64 \
  /usr/lib64/wine/wine64 /opt/wine-stable/bin/wine64 \
  "$(command -v wine 2>/dev/null || true)"; do
  if [ -n "$w" ] && [ -x "$w" ]; then
    wine=$w
    break
  fi
done
[ -n "$wine" ] || skip "wine64 not found (apt-get install wine64)"

wineserver=
for s in "$(dirname "$wine")/wineserver" \
  "$(command -v wineserver 2>/dev/null || true)" /usr/lib/wine/wineserver; do
  if [ -n "$s" ] && [ -x "$s" ]; then
    wineserver=$s
    break
  fi
done
[ -n "$wineserver" ] || skip "wineserver not found next to $wine"

# Every Wine process starts with address randomisation off. Linux places
# the loader's brk heap at a random page in the hundreds of MiB above the
# loader (0x7d000000), and about one start in 4,000 put it on 0x7ffe0000,
# where Wine must map the Windows shared user data page: that process
# printed nothing and exited 1 ("failed to map the shared user data",
# hidden by WINEDEBUG=-all), and a test failed for it. Without
# randomisation the heap follows the loader and never reaches that page.
# The personality is inherited, so the processes the tests start get it
# too. Where setarch cannot set it (a sandbox that forbids personality),
# Wine runs as it is.
norand=
emulator=$wine
if setarch "$(uname -m)" -R true 2>/dev/null; then
  norand="setarch $(uname -m) -R"
  emulator="setarch;$(uname -m);-R;$wine"
else
  echo "check-windows: setarch -R is refused here: Wine runs with address" \
    "randomisation, and about one start in 4,000 may fail"
fi

case $build in
/*) ;;
*) build=$root/$build ;;
esac
mkdir -p "$build"

WINEPREFIX=${MMF_WINEPREFIX:-$build/wineprefix}
# No debug chatter on stderr (tests compare output), no Mono/Gecko
# installers, no windows.
WINEDEBUG=-all
WINEDLLOVERRIDES="mscoree,mshtml=;winemenubuilder.exe=d"
WINEARCH=win64
# Programs outside the build root find libmmf.dll through WINEPATH (the
# examples also get a copy next to them; the tests link the static
# library); drive Z: is the host's root in every Wine prefix.
WINEPATH="Z:$(printf '%s' "$build" | sed 's|/|\\|g')"
export WINEPREFIX WINEDEBUG WINEDLLOVERRIDES WINEARCH WINEPATH
unset DISPLAY WAYLAND_DISPLAY 2>/dev/null || true

echo "check-windows: $("$triplet-gcc" --version | head -n 1)"
echo "check-windows: $("$wine" --version 2>/dev/null || echo wine) ($wine), prefix $WINEPREFIX"

# One persistent wineserver for the run; stopped on exit, whatever happens.
# (-k stops only the server of this WINEPREFIX.) A server someone already
# keeps running for this prefix (-p fails then) is used and left running.
if [ ! -f "$WINEPREFIX/system.reg" ]; then
  echo "check-windows: creating the Wine prefix (once)"
fi
mkdir -p "$WINEPREFIX"
if "$wineserver" -p 2>/dev/null; then
  trap '"$wineserver" -k 2>/dev/null || true' EXIT INT TERM
else
  echo "check-windows: using the wineserver already running for this prefix"
fi
# shellcheck disable=SC2086
$norand "$wine" wineboot --init >/dev/null 2>&1 || true

# shellcheck disable=SC2086
cmake -S "$root" -B "$build" \
  -DCMAKE_TOOLCHAIN_FILE="$root/cmake/toolchain-mingw64.cmake" \
  -DMINGW_PREFIX="$triplet" \
  -DCMAKE_BUILD_TYPE=Release -DMMF_WERROR=ON \
  -DCMAKE_CROSSCOMPILING_EMULATOR="$emulator" \
  ${CMAKE_ARGS:-}
# Keep going past a target that does not build, so the rest is tested.
case $(sed -n 's/^CMAKE_GENERATOR:INTERNAL=//p' "$build/CMakeCache.txt") in
Ninja*) keep_going="-k 0" ;;
*Makefiles*) keep_going=-k ;;
*) keep_going= ;;
esac
build_ok=1
# shellcheck disable=SC2086
cmake --build "$build" -j"$jobs" -- $keep_going || build_ok=0

log=$build/ctest-windows.log
set +e
# shellcheck disable=SC2086
ctest --test-dir "$build" --output-on-failure -j"$jobs" --timeout 600 \
  ${CTEST_ARGS:--E ^format\$} 2>&1 | tee "$log"
# POSIX sh has no pipefail: the status is read back from the log below.
set -e

total=$(sed -n 's/.*tests failed out of \([0-9][0-9]*\).*/\1/p' "$log" | tail -n 1)
failed=$(sed -n 's/.*, \([0-9][0-9]*\) tests failed out of.*/\1/p' "$log" | tail -n 1)
skipped=$(grep -c '(Skipped)$' "$log" || true)
if [ -z "$total" ]; then
  if grep -q 'No tests were found' "$log" && [ "$build_ok" -eq 1 ]; then
    echo "check-windows: no tests found"
    exit 0
  fi
  echo "check-windows: FAILED (ctest did not finish; see $log)"
  exit 1
fi
# Logs across OSes. Every build reads the committed log of a Linux writer
# (tests/data/log-v1, run above). With a Linux build at hand (MMF_HOST_BUILD,
# default build/, as `make check` leaves it), the Windows build writes a
# log the Linux build reads, and the other way round.
host=${MMF_HOST_BUILD:-$root/build}/tests/test_log
wtest=$build/tests/test_log.exe
exchange=skipped
if [ -x "$host" ] && [ -f "$wtest" ]; then
  winpath() { printf 'Z:%s' "$1" | sed 's|/|\\|g'; }
  rm -rf "$build/log-from-windows" "$build/log-from-linux"
  # shellcheck disable=SC2086
  if MMF_LOG_FIXTURE_OUT=$(winpath "$build/log-from-windows") \
    $norand "$wine" "$wtest" fixture_write_for_another_platform &&
    MMF_LOG_FIXTURE=$build/log-from-windows "$host" \
      fixture_read_from_another_platform &&
    MMF_LOG_FIXTURE_OUT=$build/log-from-linux "$host" \
      fixture_write_for_another_platform &&
    MMF_LOG_FIXTURE=$(winpath "$build/log-from-linux") \
      $norand "$wine" "$wtest" fixture_read_from_another_platform; then
    exchange=passed
    echo "check-windows: logs exchanged with the Linux build ($host): read both ways"
  else
    exchange=failed
    echo "check-windows: FAILED: a log written on one OS is not read on the other"
  fi
else
  echo "check-windows: no Linux build at $host: the exchange of fresh logs" \
    "is skipped (the committed Linux log was read)"
fi

passed=$((total - failed - skipped))
echo "check-windows: $total tests: $passed passed, $skipped skipped, $failed failed"
if [ "$build_ok" -eq 0 ]; then
  echo "check-windows: FAILED: some targets did not build (see the build output)"
  exit 1
fi
[ "$exchange" != failed ] || exit 1
[ "$failed" -eq 0 ]
