#!/bin/sh
# demo.sh - show the mmf tool next to the standard tools it matches.
#
#   sh cli/demo.sh BUILD_DIR
#
# Runs BUILD_DIR/cli/mmf in a fresh temporary directory (removed
# afterwards). Exits 1 if a command does not behave as shown. `make demo`
# runs it after the examples.

set -u

if [ $# -ne 1 ]; then
  echo "usage: sh cli/demo.sh BUILD_DIR" >&2
  exit 2
fi
mmf=$(cd "$1/cli" 2>/dev/null && pwd)/mmf
if [ ! -x "$mmf" ]; then
  echo "demo: $1/cli/mmf does not exist; build first" >&2
  exit 2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/mmf-cli-demo.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
cd "$work" || exit 1
LC_ALL=C
export LC_ALL

failures=""

heading() {
  printf '\n=== %s ===\n' "$1"
}

# run STATUS ARG...: show `mmf ARG...`, run it, check its exit status.
run() {
  want=$1
  shift
  printf '$ mmf %s\n' "$*"
  "$mmf" "$@" 2>&1
  got=$?
  if [ "$got" -ne "$want" ]; then
    echo "!! exited with status $got, expected $want"
    failures="$failures '$*'"
  fi
}

# same LABEL PEER_CMD MMF_ARGS...: the peer's output and mmf's must match.
same() {
  label=$1
  peer=$2
  shift 2
  # A fresh machine may lack the peer (hexdump is in bsdextrautils): show
  # mmf's output and say the comparison was skipped.
  if ! command -v "${peer%% *}" >/dev/null 2>&1; then
    "$mmf" "$@"
    echo "# (${peer%% *} is not installed: comparison skipped)"
    return
  fi
  if sh -c "$peer" >peer.out 2>/dev/null && "$mmf" "$@" >mmf.out 2>&1 &&
    cmp -s peer.out mmf.out; then
    echo "# identical to \`$peer\` ($label)"
  else
    echo "!! differs from \`$peer\`"
    failures="$failures '$*'"
  fi
}

printf 'mmf example input\nline two\nan error on line three\nline four\n' \
  >sample.txt
awk 'BEGIN { for (i = 1; i <= 100000; i++) printf "log line %d%s\n", i,
  (i % 997 == 0 ? " ERROR disk" : "") }' >app.log
echo "Working in a temporary directory with sample.txt and app.log."

heading "lines: wc -l, byte for byte"
run 0 lines sample.txt app.log
same "column widths, total line" "wc -l sample.txt app.log" \
  lines sample.txt app.log
echo "# a pipe and a /proc file go through the window cursor:"
printf 'one\ntwo\n' | "$mmf" lines
run 0 lines /proc/self/status

heading "find: offsets, line numbers, counts (grep -c)"
run 0 find error sample.txt
run 0 find -n -m 3 ERROR app.log
run 0 find -c ERROR app.log
same "-c" "grep -oaF ERROR app.log | wc -l" find -c ERROR app.log
echo "# nothing found: exit status 1, as grep"
run 1 find -c missing sample.txt

heading "dump: hexdump -C, byte for byte"
run 0 dump -n 48 sample.txt
same "-s 5 -n 40" "hexdump -C -s 5 -n 40 sample.txt" dump -s 5 -n 40 \
  sample.txt

heading "peek and poke: bytes at an offset, written durably"
run 0 peek -x sample.txt 0 3
run 0 poke sample.txt 0 -s MMF
run 0 peek sample.txt 0 17
echo
echo "# past the end: refused (exit 2), the file is unchanged"
run 2 poke sample.txt 70 -s x
run 0 poke --grow sample.txt 70 -s '!'

heading "info, evict, touch: the page cache"
run 0 evict -q app.log
run 0 info app.log
run 0 touch app.log
run 0 info --json app.log

heading "errors: never a crash"
mkdir dir
run 2 lines dir
run 2 peek sample.txt -- -1
run 2 dump -s 99999999999999999999 sample.txt
run 2 info missing

heading "bench: the fastest way to read this file here"
run 0 bench -r 3 app.log

echo
if [ -n "$failures" ]; then
  echo "cli demo: FAILED:$failures"
  exit 1
fi
echo "cli demo: every command behaved as shown."
