#!/bin/sh
# run.sh - run one case of a CLI integration test script.
#
#   sh tests/cli/run.sh SCRIPT CASE MMF RUN_DIR
#
# Sources tests/cli/lib.sh and SCRIPT, then runs the function test_CASE
# inside a fresh RUN_DIR (removed afterwards when the case passes) with
# $MMF naming the tool. Exit status: 0 pass, 1 fail, 77 skipped.

set -u
if [ $# -ne 4 ]; then
  echo "usage: sh run.sh SCRIPT CASE MMF RUN_DIR" >&2
  exit 2
fi
script=$1
case=$2
MMF=$3
run_dir=$4
export MMF

here=$(cd "$(dirname "$0")" && pwd) || exit 1
rm -rf "$run_dir"
mkdir -p "$run_dir" || exit 1
cd "$run_dir" || exit 1
TMPDIR=$run_dir
export TMPDIR
# Peer tools must speak the C locale: hexdump's ASCII column, sort order.
LC_ALL=C
export LC_ALL
unset NO_COLOR MMF_CLI_WINDOW MMF_CLI_TEST_DELAY_MS MMF_CLI_PROGRESS

. "$here/lib.sh"
. "$script"

"test_$case"
status=$?
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
