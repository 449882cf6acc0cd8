#!/bin/sh
# run.sh - build tests/consumer/consumer_lang.c in one dialect with one
# compiler against a built library, and run it.
#
#   sh tests/consumer/run.sh LANG STD COMPILER LIBRARY INCLUDE WORK [EMULATOR]
#
# LANG is c or c++, STD the -std= value (c99, c11, c++11), COMPILER the
# program (gcc, clang++, ...), LIBRARY the static library to link, INCLUDE
# the directory holding mmf.h, WORK a scratch directory. EMULATOR (split at
# spaces) runs the program when it is built for another system.
# Environment: MMF_CONSUMER_CFLAGS (flags the build itself uses: -m32,
# sanitizers, -static), MMF_CONSUMER_LIBS (default: -lpthread).
#
# Exit status: 0 pass, 1 fail (the header does not compile cleanly, or the
# program does not link or run), 77 skipped: COMPILER is not installed, or
# cannot build a program with the build's flags (say g++ -m32 without a
# 32-bit C++ runtime), with the reason printed.
set -u
if [ $# -lt 6 ]; then
  echo "usage: sh run.sh LANG STD COMPILER LIBRARY INCLUDE WORK [EMULATOR]" >&2
  exit 2
fi
lang=$1 std=$2 cc=$3 lib=$4 inc=$5 work=$6
emulator=${7:-}
here=$(cd "$(dirname "$0")" && pwd) || exit 1
flags=${MMF_CONSUMER_CFLAGS:-}
libs=${MMF_CONSUMER_LIBS:--lpthread}

command -v "$cc" >/dev/null 2>&1 || {
  echo "SKIP: $cc is not installed"
  exit 77
}
for p in lib inc; do # relative names would break once in WORK
  eval "v=\$$p"
  case $v in
  /*) ;;
  *) eval "$p=\$(pwd)/\$v" ;;
  esac
done
rm -rf "$work"
mkdir -p "$work" || exit 1
cd "$work" || exit 1

# Can this compiler build and link any program with the build's flags?
if [ "$lang" = c++ ]; then
  printf '#include <cstdio>\nint main() { std::puts("x"); }\n' >probe.cc
  src=probe.cc
else
  printf '#include <stdio.h>\nint main(void) { return puts("x") < 0; }\n' \
    >probe.c
  src=probe.c
fi
# shellcheck disable=SC2086
if ! "$cc" $flags -o probe "$src" >probe.log 2>&1; then
  echo "SKIP: $cc $flags cannot link a $lang program here: $(head -n 1 probe.log)"
  exit 77
fi

# The program: C++ compilers take the .c file as C++ with -x c++.
set -x
# shellcheck disable=SC2086
"$cc" -x "$lang" -std="$std" -Wall -Wextra -pedantic -Werror $flags \
  -I"$inc" -c "$here/consumer_lang.c" -o consumer.o || exit 1
# shellcheck disable=SC2086
"$cc" $flags -o consumer consumer.o "$lib" $libs || exit 1
# Negative control: the header's compile-time check is not a no-op in
# this dialect (a false one fails the compile).
# shellcheck disable=SC2086
if "$cc" -x "$lang" -std="$std" -Wall -Wextra -pedantic -Werror $flags \
  -I"$inc" -DCONSUMER_FALSE_ASSERT -c "$here/consumer_lang.c" \
  -o false.o 2>false.log; then
  echo "FAIL: a false MMF__STATIC_ASSERT compiled"
  exit 1
fi
set +x
# A Windows compiler names the program consumer.exe, which Wine must be
# given by that name.
prog=./consumer
[ -f consumer.exe ] && prog=./consumer.exe
# shellcheck disable=SC2086
out=$($emulator $prog) || {
  echo "FAIL: $prog exited with $?: $out"
  exit 1
}
echo "$out"
case $out in
"consumer ok: "*) exit 0 ;;
*) exit 1 ;;
esac
