#!/bin/sh
# demo.sh - run every mmf example, with headings, so a person sees what mmf
# does.
#
#   sh examples/demo.sh BUILD_DIR
#
# The programs are taken from BUILD_DIR/examples and run in a fresh
# temporary directory, which is removed afterwards. Exits 1 if any example
# fails (an example that is shown failing on purpose must fail as expected).

set -u

if [ $# -ne 1 ]; then
  echo "usage: sh examples/demo.sh BUILD_DIR" >&2
  exit 2
fi
if [ ! -d "$1/examples" ]; then
  echo "demo: $1/examples does not exist; build first (cmake --build $1)" >&2
  exit 2
fi
bin=$(cd "$1/examples" && pwd) || exit 2

work=$(mktemp -d "${TMPDIR:-/tmp}/mmf-demo.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
cd "$work" || exit 1
TMPDIR=$work # the examples' own temporary files land here too
export TMPDIR

failures=""

heading() {
  printf '\n=== %s ===\n' "$1"
}

# run STATUS PROGRAM [ARG...]: show the command, run it (stderr shown
# inline), and record a failure unless it exits with STATUS.
run() {
  want=$1
  prog=$2
  shift 2
  printf '$ %s' "$prog"
  [ $# -gt 0 ] && printf ' %s' "$@"
  printf '\n'
  exe=$bin/$prog
  [ -x "$exe" ] || exe=$bin/$prog.exe
  if [ ! -x "$exe" ]; then
    echo "!! $bin/$prog is missing"
    failures="$failures $prog"
    return
  fi
  "$exe" "$@" 2>&1
  got=$?
  if [ "$got" -ne "$want" ]; then
    echo "!! $prog exited with status $got, expected $want"
    failures="$failures $prog"
  fi
}

printf 'mmf example input\nline two\nan error on line three\nline four\n' \
  >sample.txt
echo "Working in a temporary directory holding sample.txt:"
sed 's/^/    | /' sample.txt

heading "mmapdemo: map one byte at any offset"
run 0 mmapdemo sample.txt 4
echo "# an offset past the end is refused (MMF_ERANGE), exit status 1:"
run 1 mmapdemo sample.txt 1000

heading "count_lines: count '\\n' with mmf_count_byte"
run 0 count_lines sample.txt
if [ -r /proc/self/status ]; then
  echo "# a /proc file cannot be mapped; mmf reads it into memory instead:"
  run 0 count_lines /proc/self/status
fi

heading "find_word: find a word with mmf_find"
run 0 find_word sample.txt
run 0 find_word sample.txt four

heading "records: update fixed-size records in place, then flush"
run 0 records accounts.dat
echo "# again: the balances were stored in the file"
run 0 records accounts.dat

heading "cow: private copy-on-write edits never reach the file"
run 0 cow sample.txt

heading "anon_fork: anonymous memory shared with a child process"
run 0 anon_fork

heading "grow: extend a file with mmf_resize, then write the new space"
run 0 grow log.txt
run 0 grow log.txt
echo "# log.txt now holds:"
sed 's/^/    | /' log.txt

heading "journal and tail: a crash-safe log, followed by another process"
run 0 journal
tailx=$bin/tail
[ -x "$tailx" ] || tailx=$bin/tail.exe
journalx=$bin/journal
[ -x "$journalx" ] || journalx=$bin/journal.exe
if [ -x "$tailx" ] && [ -x "$journalx" ]; then
  echo "# a writer commits entries durably until it is killed with kill -9;"
  echo "# a reader in another process follows it, woken by each commit"
  "$journalx" write journal.log 1 >/dev/null # the log exists before tail
  "$tailx" journal.log >tail.out 2>&1 &
  tail_pid=$!
  "$journalx" write journal.log 0 >acks.out 2>&1 &
  writer=$!
  sleep 1
  kill -9 "$writer" 2>/dev/null
  wait "$writer" 2>/dev/null
  last=$(sed -n 's/^committed //p' acks.out | tail -n 1)
  echo "\$ kill -9 <journal write>   (its last line: committed $last)"
  run 0 journal verify journal.log "$last"
  sleep 0.5
  kill "$tail_pid" 2>/dev/null
  wait "$tail_pid" 2>/dev/null
  echo "# the follower printed $(grep -c ': entry ' tail.out) entries, the last:"
  grep ': entry ' tail.out | tail -n 1 | sed 's/^/    | /'
fi

heading "shared_dict: N processes map one dictionary; memory is used once"
run 0 shared_dict 4

heading "ipc_flag: one process sleeps until another raises a flag (no spinning)"
run 0 ipc_flag

heading "counter: two processes x 1,000,000 increments, with a lock and without"
run 0 counter
echo "# without a lock, the same run loses updates:"
run 0 counter --no-lock

heading "toggle: a shared and a private map of a file another process changes"
run 0 toggle

echo
if [ -n "$failures" ]; then
  echo "demo: FAILED:$failures"
  exit 1
fi
echo "demo: all examples ran as expected."
