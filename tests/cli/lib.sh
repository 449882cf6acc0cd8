# lib.sh - helpers for the CLI integration tests (sourced by run.sh).
#
# Every helper prints what went wrong and returns 1, so a test reads as a
# list of checks joined with `|| return 1`.

BG_PIDS=""

# fail MESSAGE...: print the failure and return 1. The case fails even when
# it goes on after a check written `check || fail "..."` (run.sh looks at
# CASE_FAILED), so a failed check is never lost to a later one that passes.
fail() {
  echo "FAIL: $*" >&2
  CASE_FAILED=1
  return 1
}

skip() {
  echo "SKIP: $*" >&2
  exit 77
}

# need TOOL...: skip the test unless every TOOL is installed.
need() {
  for t in "$@"; do
    command -v "$t" >/dev/null 2>&1 || skip "$t is not installed"
  done
}

# same_output "PEER COMMAND" "MMF COMMAND" [MAX_RC]: both run by sh;
# stdout must be byte-identical and mmf must exit 0 (or at most MAX_RC:
# find exits 1 when it finds nothing).
same_output() {
  sh -c "$1" >peer.out 2>peer.err
  prc=$?
  sh -c "$2" >mmf.out 2>mmf.err
  mrc=$?
  if ! cmp -s peer.out mmf.out; then
    echo "--- $1 (exit $prc)" >&2
    head -c 2000 peer.out >&2
    echo "--- $2 (exit $mrc)" >&2
    head -c 2000 mmf.out >&2
    echo "--- stderr:" >&2
    cat mmf.err >&2
    diff peer.out mmf.out | head -20 >&2
    fail "outputs differ: '$1' vs '$2'"
    return 1
  fi
  [ "$mrc" -le "${3:-0}" ] ||
    { cat mmf.err >&2; fail "'$2' exited $mrc"; return 1; }
  return 0
}

# expect_rc WANT CMD...: run CMD, check its exit status; stdout goes to
# rc.out and stderr to rc.err.
expect_rc() {
  want=$1
  shift
  "$@" >rc.out 2>rc.err
  got=$?
  if [ "$got" -ne "$want" ]; then
    echo "stderr:" >&2
    cat rc.err >&2
    fail "'$*' exited $got, expected $want"
    return 1
  fi
  return 0
}

# expect_error WANT PATTERN CMD...: exit status WANT, stderr matching the
# extended regex PATTERN on one line starting "mmf: ", nothing on stdout,
# and no crash (a signal would show as status > 128).
expect_error() {
  want=$1
  pattern=$2
  shift 2
  expect_rc "$want" "$@" || return 1
  grep -Eq "^mmf: .*$pattern" rc.err ||
    { cat rc.err >&2; fail "'$*': no error matching '$pattern'"; return 1; }
  return 0
}

# Shapes of generated files, in the current directory.
make_shapes() {
  ps=$(getconf PAGESIZE)
  : >empty
  printf 'no trailing newline' >nonl
  printf 'one\r\ntwo\r\n\r\nthree\r\n' >crlf
  printf '\n' >newline
  printf '\n\n\n\n\n' >newlines
  # Binary with NULs, random bytes, and runs that hexdump squeezes.
  head -c 3000 /dev/urandom >binary
  head -c 4096 /dev/zero >>binary
  printf 'a\000b\000\nc\000' >>binary
  head -c 1000 /dev/urandom >>binary
  # Text around the page size.
  for n in $((ps - 1)) $ps $((ps + 1)) $((2 * ps - 1)) $((2 * ps + 1)); do
    awk 'BEGIN { for (i = 0; i < 100000; i++) printf "line %d of text\n", i }' |
      head -c "$n" >"text$n"
  done
  awk 'BEGIN { srand(7); for (i = 0; i < 20000; i++) {
      n = int(rand() * 120); s = "";
      for (j = 0; j < n; j++) s = s sprintf("%c", 97 + int(rand() * 26));
      print s } }' >random.txt
  SHAPES="empty nonl crlf newline newlines binary text$((ps - 1)) text$ps \
text$((ps + 1)) text$((2 * ps - 1)) text$((2 * ps + 1)) random.txt"
}

# make_sparse NAME: a 5 GiB sparse file whose last 12 bytes are text.
make_sparse() {
  truncate -s 5G "$1" || return 1
  printf 'x\nlast line\n' |
    dd of="$1" bs=1 seek=$((5 * 1024 * 1024 * 1024 - 12)) conv=notrunc \
      2>/dev/null
}

# bg CMD...: start CMD in the background; cleanup_background kills it.
bg() {
  "$@" &
  BG_PIDS="$BG_PIDS $!"
}

cleanup_background() {
  for p in $BG_PIDS; do
    kill "$p" 2>/dev/null
  done
  BG_PIDS=""
}

# wait_for_file FILE PATTERN [TENTHS]: wait until FILE has a line matching
# PATTERN (default 100 tenths of a second).
wait_for_file() {
  n=${3:-100}
  while [ "$n" -gt 0 ]; do
    grep -q "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
    n=$((n - 1))
  done
  fail "no '$2' in $1"
}

# skip_unless_runs_as_nobody TOOL: skip the case unless the user nobody
# (uid 65534), which root drops to for checks root would pass, can start
# TOOL. It cannot when a directory above the build tree is closed to
# other users (a clone under a mktemp -d directory, mode 0700), which is
# where the clone lives and not what the case tests.
skip_unless_runs_as_nobody() {
  setpriv --reuid=65534 --regid=65534 --clear-groups "$1" --version \
    >/dev/null 2>&1 ||
    skip "the user nobody cannot start $1 (a directory above it is" \
      "closed to other users)"
}

# ---------------------------------------------------------------------------
# The Windows build under Wine (run.sh sets MMF_CLI_WINE): $MMF starts
# mmf.exe through Wine, the peer tools run on the host, and every file is
# a host file that both see.
# ---------------------------------------------------------------------------

# on_wine: true when the tool under test is the Windows build under Wine.
on_wine() {
  [ -n "${MMF_CLI_WINE:-}" ]
}

# skip_under_wine REASON: skip the case under Wine: it needs REASON, which
# Windows lacks or which cannot be set up from the host.
skip_under_wine() {
  on_wine && skip "Windows build under Wine: $*"
  return 0
}

# pick FULL REDUCED: the list FULL, or under an emulator (Wine, qemu-user)
# the shorter REDUCED. Under Wine every start of the tool costs tens of
# milliseconds and every map a round trip to the wineserver, and qemu-user
# translates the whole tool at every start, so long loops take a sample
# there; each check is the same.
pick() {
  if on_wine || [ -n "${MMF_CLI_EMULATED:-}" ]; then
    printf '%s\n' "$2"
  else
    printf '%s\n' "$1"
  fi
}

# cut_while_mapped FILE CMD...: run CMD (stdout to out, stderr to err) with
# the tool's test hook, which writes "mapped" to the file `mapped` once it
# has mapped a window and then waits 1.5 s, and empty FILE meanwhile. Sets
# rc to CMD's exit status. Waiting for the mark, not a fixed time, keeps
# it right when the tool starts slowly (Wine, a loaded machine).
cut_while_mapped() {
  cut_file=$1
  shift
  rm -f mapped
  MMF_CLI_TEST_DELAY_MS=1500 MMF_CLI_TEST_MARK=mapped "$@" >out 2>err &
  cut_pid=$!
  if ! wait_for_file mapped mapped 300; then
    kill "$cut_pid" 2>/dev/null
    wait "$cut_pid"
    cat err >&2
    rc=1
    return 1
  fi
  : >"$cut_file"
  wait "$cut_pid"
  rc=$?
  return 0
}

# cut_while_scanning FILE CMD...: run CMD (stdout to out, stderr to err) in
# the background, wait until it has FILE mapped (its /proc/PID/maps names
# FILE), then empty FILE. Sets rc to CMD's exit status. For commands whose
# reading is the library's own (lines, find), which have no test hook:
# FILE must be large enough (a sparse file of many GiB) that the command
# is still inside it when the cut comes. Skips where /proc/PID/maps is
# missing.
cut_while_scanning() {
  cut_file=$1
  shift
  [ -r /proc/self/maps ] || skip "no /proc/PID/maps to see the map in"
  "$@" >out 2>err &
  cut_pid=$!
  n=1000
  until grep -q " $PWD/$cut_file\$" "/proc/$cut_pid/maps" 2>/dev/null; do
    n=$((n - 1))
    if [ "$n" -eq 0 ] || ! kill -0 "$cut_pid" 2>/dev/null; then
      kill "$cut_pid" 2>/dev/null
      wait "$cut_pid"
      cat err >&2
      rc=1
      fail "the command never mapped $cut_file"
      return 1
    fi
    sleep 0.02
  done
  : >"$cut_file"
  wait "$cut_pid"
  rc=$?
  return 0
}

# make_sparse_tail NAME HEAD: a 64 GiB sparse file that starts with the
# bytes of the file HEAD.
make_sparse_tail() {
  cp "$2" "$1" && truncate -s 64G "$1"
}
