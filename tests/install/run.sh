#!/bin/sh
# Install test: install a build of mmf into a scratch prefix, then build and
# run consumer.c against that install the ways an outside project would:
#
#   1. CMake: find_package(mmf) with mmf::mmf and mmf::mmf_static;
#   2. pkg-config --cflags --libs mmf (shared library);
#   3. pkg-config --static with the static library;
#   4. the README's plain cc commands for a prefix the loader does not
#      search: -Wl,-rpath, or LD_LIBRARY_PATH (Linux).
#
# Usage: run.sh BUILD_DIR [WORK_DIR]
# Environment (all optional): CC, CMAKE, CMAKE_GENERATOR, MMF_INSTALL_CONFIG
# (the configuration to install, multi-config generators),
# MMF_CONSUMER_CFLAGS (flags the consumer needs too, e.g. sanitizers).
# Exit status: 0 pass, 1 fail, 77 when pkg-config is missing (after the
# CMake part passed).
set -eu

build=${1:?usage: run.sh BUILD_DIR [WORK_DIR]}
work=${2:-$build/install-test}
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$build" && pwd)
CC=${CC:-cc}
CMAKE=${CMAKE:-cmake}
config=${MMF_INSTALL_CONFIG:-}
cflags=${MMF_CONSUMER_CFLAGS:-}

step() { printf '\n== install test: %s\n' "$*"; }
fail() {
  printf 'install test FAILED: %s\n' "$*" >&2
  exit 1
}

rm -rf "$work"
mkdir -p "$work"
prefix=$work/prefix

step "cmake --install into $prefix"
if [ -n "$config" ]; then
  "$CMAKE" --install "$build" --prefix "$prefix" --config "$config"
else
  "$CMAKE" --install "$build" --prefix "$prefix"
fi

pc=$(find "$prefix" -name mmf.pc -path '*/pkgconfig/*' | head -n 1)
[ -n "$pc" ] || fail "mmf.pc was not installed"
pcdir=$(dirname "$pc")
libdir=$(dirname "$pcdir")
[ -f "$prefix/include/mmf.h" ] || fail "mmf.h was not installed"
[ -f "$libdir/libmmf.a" ] || fail "libmmf.a was not installed in $libdir"
[ -f "$libdir/cmake/mmf/mmfConfig.cmake" ] ||
  fail "mmfConfig.cmake was not installed"

# ELF checks: the SONAME, and that only the public mmf_* API is exported.
so=$libdir/libmmf.so.0.1.0
if [ -f "$so" ] && command -v readelf >/dev/null 2>&1; then
  step "SONAME and exported symbols of $(basename "$so")"
  readelf -d "$so" | grep -q 'SONAME.*\[libmmf\.so\.0\]' ||
    fail "SONAME of $so is not libmmf.so.0"
  [ -L "$libdir/libmmf.so.0" ] && [ -L "$libdir/libmmf.so" ] ||
    fail "libmmf.so.0 / libmmf.so symlinks missing"
  if command -v nm >/dev/null 2>&1; then
    bad=$(nm -D --defined-only "$so" | awk '{ print $NF }' |
      grep -E '^mmf__|^[A-Za-z]' | grep -v -E '^mmf_[a-z]' || true)
    [ -z "$bad" ] || fail "symbols exported beyond the API: $bad"
    nm -D --defined-only "$so" | grep -q ' mmf_version_string$' ||
      fail "mmf_version_string is not exported"
  fi
fi

# LD_LIBRARY_PATH for ELF systems, DYLD_LIBRARY_PATH for macOS.
run_shared() {
  LD_LIBRARY_PATH=$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} \
    DYLD_LIBRARY_PATH=$libdir "$@"
}

# Finds a built program in a single- or multi-config build tree.
exe() {
  for f in "$1/$2" "$1/Release/$2"; do
    if [ -x "$f" ]; then
      printf '%s\n' "$f"
      return 0
    fi
  done
  fail "$2 was not built in $1"
}

step "CMake consumer: find_package(mmf)"
"$CMAKE" -S "$here" -B "$work/cmake" \
  -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF \
  -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_C_COMPILER="$CC" \
  -DCMAKE_C_FLAGS="$cflags"
grep -q "^mmf_DIR:PATH=$prefix/" "$work/cmake/CMakeCache.txt" ||
  fail "find_package found an mmf outside $prefix"
"$CMAKE" --build "$work/cmake" --config Release
run_shared "$(exe "$work/cmake" consumer)"
"$(exe "$work/cmake" consumer_static)"

# The README's commands for a prefix the loader does not search: an rpath
# in the program, or LD_LIBRARY_PATH when it runs. (ELF systems; macOS
# has its own loader variables.)
if [ "$(uname -s)" = Linux ]; then
  step "README: a non-system prefix, with an rpath or LD_LIBRARY_PATH"
  # shellcheck disable=SC2086
  "$CC" $cflags "$here/consumer.c" -I"$prefix/include" -L"$libdir" -lmmf \
    -Wl,-rpath,"$libdir" -o "$work/app-rpath"
  env -u LD_LIBRARY_PATH "$work/app-rpath"
  # shellcheck disable=SC2086
  "$CC" $cflags "$here/consumer.c" -I"$prefix/include" -L"$libdir" -lmmf \
    -o "$work/app-plain"
  if env -u LD_LIBRARY_PATH "$work/app-plain" >/dev/null 2>&1; then
    fail "libmmf was found without rpath or LD_LIBRARY_PATH: the rpath" \
      "check above shows nothing"
  fi
  LD_LIBRARY_PATH=$libdir "$work/app-plain"
fi

if ! command -v pkg-config >/dev/null 2>&1; then
  echo "pkg-config not installed: pkg-config part skipped"
  exit 77
fi
PKG_CONFIG_PATH=$pcdir
export PKG_CONFIG_PATH

step "pkg-config consumer, shared"
[ "$(pkg-config --modversion mmf)" = 0.1.0 ] ||
  fail "pkg-config --modversion mmf: $(pkg-config --modversion mmf)"
# Word splitting of the flags is intended.
# shellcheck disable=SC2046
"$CC" $cflags -o "$work/consumer-pc" "$here/consumer.c" \
  $(pkg-config --cflags --libs mmf)
run_shared "$work/consumer-pc"

step "pkg-config consumer, static"
# -lmmf would pick the shared library; name the archive instead.
static_libs=
for w in $(pkg-config --static --libs mmf); do
  [ "$w" = -lmmf ] && w=$libdir/libmmf.a
  static_libs="$static_libs $w"
done
# shellcheck disable=SC2046,SC2086
"$CC" $cflags -o "$work/consumer-pc-static" "$here/consumer.c" \
  $(pkg-config --cflags mmf) $static_libs
if command -v readelf >/dev/null 2>&1; then
  if readelf -d "$work/consumer-pc-static" | grep -q 'NEEDED.*libmmf'; then
    fail "static consumer depends on the shared libmmf"
  fi
fi
"$work/consumer-pc-static"

echo
echo "install test passed"
