#!/bin/sh
# run.sh - run one case of a CLI integration test script.
#
#   sh tests/cli/run.sh SCRIPT CASE MMF RUN_DIR [EMULATOR]
#
# Sources tests/cli/lib.sh and SCRIPT, then runs the function test_CASE
# inside a fresh RUN_DIR (removed afterwards when the case passes) with
# $MMF naming the tool. Exit status: 0 pass, 1 fail, 77 skipped.
#
# EMULATOR (split at spaces) runs MMF, a build of the tool for another
# system, on this host: $MMF is then a wrapper that starts it through
# EMULATOR, and MMF_CLI_EMULATED=1 makes long loops take a sample (pick in
# lib.sh). qemu-user (a Linux build for another CPU) needs nothing more.
# For Wine (/usr/lib/wine/wine64, a Windows build), MMF_CLI_WINE=1 tells
# the cases (they skip what needs POSIX-only things: see skip_under_wine in
# lib.sh), and Wine's debug messages are off unless WINEDEBUG says
# otherwise. The peer tools (wc, grep, hexdump, ...) run on the host.

set -u
if [ $# -ne 4 ] && [ $# -ne 5 ]; then
  echo "usage: sh run.sh SCRIPT CASE MMF RUN_DIR [EMULATOR]" >&2
  exit 2
fi
script=$1
case=$2
MMF=$3
run_dir=$4
emulator=${5:-}
unset MMF_CLI_WINE MMF_CLI_EMULATED

here=$(cd "$(dirname "$0")" && pwd) || exit 1
# Relative names would break once in RUN_DIR.
script=$(cd "$(dirname "$script")" && pwd)/$(basename "$script") || exit 1
case $MMF in
/*) ;;
*/*) MMF=$(cd "$(dirname "$MMF")" && pwd)/$(basename "$MMF") || exit 1 ;;
esac
rm -rf "$run_dir"
mkdir -p "$run_dir" || exit 1
cd "$run_dir" || exit 1
run_dir=$(pwd)
if [ -n "$emulator" ]; then
  # The wrapper lives in the scratch directory, out of the cases' way. It
  # gives Wine back the caller's TMPDIR (the cases get RUN_DIR): Wine finds
  # its running wineserver through a directory under TMPDIR, so with
  # another one every case would start a wineserver of its own on the same
  # prefix, slowly and racing the others.
  mkdir .tool || exit 1
  if [ -n "${TMPDIR+set}" ]; then
    keep_tmp="TMPDIR='$TMPDIR'; export TMPDIR"
  else
    keep_tmp="unset TMPDIR"
  fi
  printf '#!/bin/sh\n%s\nexec %s "%s" "$@"\n' "$keep_tmp" "$emulator" \
    "$MMF" >.tool/mmf || exit 1
  chmod +x .tool/mmf || exit 1
  MMF=$run_dir/.tool/mmf
  MMF_CLI_EMULATED=1
  export MMF_CLI_EMULATED
  case $emulator in
  *wine*)
    MMF_CLI_WINE=1
    WINEDEBUG=${WINEDEBUG:--all}
    export MMF_CLI_WINE WINEDEBUG
    ;;
  esac
fi
TMPDIR=$run_dir
export TMPDIR
# Peer tools must speak the C locale: hexdump's ASCII column, sort order.
LC_ALL=C
export LC_ALL
export MMF
unset NO_COLOR MMF_CLI_WINDOW MMF_CLI_TEST_DELAY_MS MMF_CLI_PROGRESS

. "$here/lib.sh"
. "$script"

CASE_FAILED=
"test_$case"
status=$?
[ -z "$CASE_FAILED" ] || status=1
cleanup_background
if [ "$status" -eq 0 ]; then
  cd / && rm -rf "$run_dir"
  echo "PASS $case"
elif [ "$status" -eq 77 ]; then
  cd / && rm -rf "$run_dir"
  echo "SKIP $case"
else
  echo "FAIL $case (files kept in $run_dir)"
  status=1
fi
exit "$status"
