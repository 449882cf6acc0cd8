# test_cli_misc.sh - what every subcommand shares: --help, --version,
# usage errors, NO_COLOR, exit codes; and `mmf bench`.

COMMANDS="lines find dump peek poke info touch evict lock bench shm locks"

test_help() {
  for c in $COMMANDS; do
    expect_rc 0 $MMF $c --help || return 1
    grep -q "^Usage: mmf $c" rc.out || fail "$c --help: $(head -1 rc.out)"
    expect_rc 0 $MMF $c -h || return 1
    expect_rc 0 $MMF help $c || return 1
    grep -q "^Usage: mmf $c" rc.out || fail "help $c"
  done
  expect_rc 0 $MMF --help || return 1
  for c in $COMMANDS; do
    grep -q "^  $c " rc.out || fail "--help does not list $c"
  done
  expect_rc 2 $MMF || return 1
  grep -q "^Usage: mmf COMMAND" rc.err || fail "no usage without arguments"
}

test_version() {
  expect_rc 0 $MMF --version || return 1
  grep -Eq "^mmf [0-9]+\.[0-9]+\.[0-9]+ \(library [0-9.]+\)$" rc.out ||
    fail "--version: $(cat rc.out)"
}

test_usage_errors() {
  expect_error 2 "unknown command 'frobnicate'" $MMF frobnicate || return 1
  expect_error 2 "unknown command 'nope'" $MMF help nope || return 1
  for c in $COMMANDS; do
    expect_error 2 "$c: unknown or ambiguous option '--bogus'" \
      $MMF $c --bogus x || return 1
    grep -q "^Try 'mmf $c --help'.$" rc.err || fail "$c: no hint"
  done
}

test_no_color() {
  skip_under_wine "Wine's console rewrites what reaches the terminal" \
    "(cursor sequences around every character), so colour cannot be told" \
    "apart there"
  need script
  printf 'x' >f
  script -qec "$MMF lines missing" /dev/null >tty.out 2>&1 ||
    true
  grep -q "$(printf '\033')\[31m" tty.out ||
    skip "script gives no terminal here"
  NO_COLOR=1 script -qec "$MMF lines missing" /dev/null >tty.out 2>&1
  if grep -q "$(printf '\033')" tty.out; then
    fail "colour despite NO_COLOR: $(od -c tty.out | head -3)"
    return 1
  fi
}

test_no_color_off_terminal() {
  # Never colour into a file or pipe.
  $MMF lines missing 2>err
  if grep -q "$(printf '\033')" err; then
    fail "colour into a file"
    return 1
  fi
  $MMF lines missing 2>&1 | cat >err
  if grep -q "$(printf '\033')" err; then
    fail "colour into a pipe"
    return 1
  fi
}

test_errors_format() {
  # Every error is "mmf: FILE: message" on stderr, nothing on stdout.
  for c in "lines missing" "find x missing" "dump missing" "peek missing 0" \
    "poke missing 0 -s x" "info missing" "touch missing" "evict missing" \
    "lock missing" "bench missing"; do
    # shellcheck disable=SC2086
    expect_rc 2 $MMF $c || return 1
    [ "$(cat rc.err)" = "mmf: missing: No such file or directory" ] ||
      fail "$c: stderr '$(cat rc.err)'" || return 1
    [ ! -s rc.out ] || fail "$c: stdout '$(cat rc.out)'" || return 1
  done
}

test_bench_table() {
  # Under Wine each open and map is a round trip to the wineserver: a
  # larger file makes bench run fewer of them (64 MiB a run, see bench).
  n=$(pick 50000 600000)
  awk "BEGIN { for (i = 0; i < $n; i++) print \"bench line\", i }" >f
  expect_rc 0 $MMF bench -r 2 f || return 1
  lines=$(wc -l <f)
  grep -q " $lines lines" rc.out || fail "line count: $(cat rc.out)"
  for s in "mmap " "mmap+populate" "window 64M" "read 64K" "read 4M"; do
    grep -q "^$s" rc.out || fail "no row '$s': $(cat rc.out)"
  done
  [ "$(grep -c ' \*$' rc.out)" -eq 1 ] || fail "one best row: $(cat rc.out)"
  if on_wine; then
    # Windows cannot drop one file from the cache: --cold says so.
    expect_error 2 "f: --cold: cannot drop it from the page cache: \
Operation not supported" $MMF bench -r 1 --cold f || return 1
  else
    expect_rc 0 $MMF bench -r 1 --cold f || return 1
    grep -q "^cold cache" rc.out || fail "--cold: $(cat rc.out)"
  fi
}

test_bench_empty() {
  skip_under_wine "bench times 1000 runs of each strategy on a file of" \
    "0 bytes: 10,000 opens and maps, a wineserver round trip each, take" \
    "over 10 s under Wine (bench_table covers bench)"
  : >empty
  expect_rc 0 $MMF bench -r 1 empty || return 1
  grep -q "^file empty: 0 bytes (0), 0 lines$" rc.out ||
    fail "empty: $(cat rc.out)"
}

test_bench_errors() {
  mkdir dir
  printf 'x\n' >f
  expect_error 2 "dir: is a directory" $MMF bench dir || return 1
  expect_error 2 "not a regular file" timeout 10 $MMF bench /dev/null ||
    return 1
  expect_error 2 "invalid runs '0x'" $MMF bench -r 0x f || return 1
  expect_error 2 "at least 1" $MMF bench -r 0 f || return 1
  expect_error 2 "invalid runs '5000': too large" $MMF bench -r 5000 f ||
    return 1
  expect_error 2 "give one FILE" $MMF bench || return 1
}

test_help_says_what_find_counts() {
  # find -c counts occurrences, which grep -c does not: the summary must
  # not say "as grep -c", and find --help names --count-lines for that.
  expect_rc 0 $MMF --help || return 1
  if grep -q "grep -c" rc.out; then
    fail "--help: $(grep find rc.out)"
    return 1
  fi
  expect_rc 0 $MMF find --help || return 1
  grep -q -- "--count-lines" rc.out || fail "find --help: $(cat rc.out)"
}

test_bench_refuses_what_it_cannot_measure() {
  # Files of size 0 that hold bytes: bench cannot time them (pagemap would
  # be read for minutes); it says so at once.
  skip_under_wine "no /proc under Windows"
  for f in /proc/self/pagemap /proc/version; do
    expect_error 2 "$f: cannot be measured: its size is 0 but it is not \
empty" timeout 10 $MMF bench -r 1 $f || return 1
  done
}

test_messages_say_what_is_wrong() {
  # A file that refuses reads of some sizes or offsets (pagemap takes
  # only multiples of 8 bytes) is named with what that means, not a bare
  # "invalid argument".
  skip_under_wine "no /proc under Windows"
  [ -r /proc/self/pagemap ] || skip "no /proc/self/pagemap"
  for c in "dump -s 1 -n 8" "peek -x"; do
    off=
    [ "$c" = "peek -x" ] && off="3 1"
    # shellcheck disable=SC2086
    expect_error 2 "/proc/self/pagemap: the system refused to read it \
\(invalid argument\): it takes only reads of certain sizes or at certain \
offsets" timeout 10 $MMF $c /proc/self/pagemap $off || return 1
  done
}
