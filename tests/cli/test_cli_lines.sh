# test_cli_lines.sh - `mmf lines` against `wc -l`, byte for byte.
# Each test_NAME function is one CTest test (cli.lines.NAME).

test_shapes() {
  make_shapes
  for f in $SHAPES; do
    same_output "wc -l $f" "\$MMF lines $f" || return 1
  done
}

test_shapes_small_windows() {
  # The smallest windows and read buffers the library takes (two
  # granularity units: MMF_CLI_WINDOW below that is raised to it), mapped
  # and read: every file but the smallest spans several.
  make_shapes
  for io in map read direct; do
    for w in $(pick "4096 1 20000" "1"); do
      for f in $SHAPES; do
        same_output "wc -l $f" \
          "MMF_CLI_IO=$io MMF_CLI_WINDOW=$w \$MMF lines $f" || return 1
      done
    done
  done
}

test_several_files_width() {
  make_shapes
  # The count column's width comes from the sum of the file sizes.
  same_output "wc -l $SHAPES" "\$MMF lines $SHAPES" || return 1
  same_output "wc -l empty nonl" "\$MMF lines empty nonl" || return 1
  same_output "wc -l random.txt empty" "\$MMF lines random.txt empty" ||
    return 1
}

test_stdin() {
  make_shapes
  same_output "cat random.txt | wc -l" "cat random.txt | \$MMF lines" ||
    return 1
  same_output "cat crlf | wc -l - newlines" \
    "cat crlf | \$MMF lines - newlines" || return 1
  same_output "cat binary | wc -l -" "cat binary | \$MMF lines -" || return 1
}

test_stdin_file() {
  make_shapes
  same_output "wc -l <random.txt" "\$MMF lines <random.txt" || return 1
  same_output "wc -l - crlf <newlines" "\$MMF lines - crlf <newlines" ||
    return 1
  # stdin already partly read by the shell: count from its position.
  same_output "(head -c 0 >/dev/null; read x; wc -l) <random.txt" \
    "(read x; \$MMF lines) <random.txt" || return 1
}

test_proc_and_fifo() {
  same_output "wc -l /proc/version" "\$MMF lines /proc/version" || return 1
  same_output "wc -l /proc/self/maps </dev/null | sed 's/[0-9]* //'" \
    "\$MMF lines /proc/self/maps </dev/null | sed 's/[0-9]* //'" || return 1
  mkfifo fifo || return 1
  (printf 'a\nb\nc\n' >fifo) &
  $MMF lines fifo >out || return 1
  [ "$(cat out)" = "3 fifo" ] || fail "fifo: $(cat out)"
}

test_system_files() {
  for f in /etc/passwd /usr/include/stdio.h /etc/services; do
    [ -r "$f" ] || continue
    same_output "wc -l $f" "\$MMF lines $f" || return 1
  done
  same_output "wc -l /etc/passwd /usr/include/stdio.h" \
    "\$MMF lines /etc/passwd /usr/include/stdio.h" || return 1
}

test_utf8_names() {
  # Names are UTF-8 in the arguments and the output. A Windows build takes
  # its arguments in UTF-16 (wmain) and opens files by UTF-16 names;
  # Wine converts the host's arguments by the host's locale, so the tool
  # runs in a UTF-8 one.
  [ "$(LC_ALL=C.UTF-8 locale charmap 2>/dev/null)" = UTF-8 ] ||
    skip "no C.UTF-8 locale"
  name='fïlé ✓ ü.txt'
  printf 'a\nb\n' >"$name"
  mkdir 'dïr' && printf 'x\n' >'dïr/ñ' || return 1
  same_output "wc -l '$name' dïr/ñ" \
    "LC_ALL=C.UTF-8 \$MMF lines '$name' dïr/ñ" || return 1
  same_output "grep -oaF b '$name' | wc -l" \
    "LC_ALL=C.UTF-8 \$MMF find -c b '$name'" || return 1
  LC_ALL=C.UTF-8 $MMF info --json "$name" >out || return 1
  grep -q "^{\"file\":\"$name\"," out || fail "info: $(cat out)"
  expect_error 2 "mïssing: No such file" env LC_ALL=C.UTF-8 $MMF lines mïssing
}

test_long_path() {
  # Past MAX_PATH (260 characters): Windows takes such paths only in the
  # extended form (\\?\C:\...), which the tool makes of them.
  d=.
  for i in 1 2 3 4 5 6 7 8; do
    d=$d/a_directory_with_a_long_name_number_$i
  done
  mkdir -p "$d" && printf 'a\nb\n' >"$d/file.txt" || return 1
  [ "${#d}" -gt 300 ] || fail "path too short: ${#d}" || return 1
  same_output "wc -l $d/file.txt" "\$MMF lines $d/file.txt" || return 1
  same_output "grep -oaF b $d/file.txt | wc -l" \
    "\$MMF find -c b $d/file.txt" || return 1
  $MMF info --json "$d/file.txt" >out || return 1
  [ "$(sed -n 's/.*"size":\([0-9]*\).*/\1/p' out)" = 4 ] ||
    fail "info: $(cat out)"
}

test_directory() {
  mkdir dir
  printf 'a\n' >f
  # wc prints an error and a 0 line for a directory; so does mmf.
  wc -l f dir >peer.out 2>/dev/null
  expect_error 2 "dir: is a directory" $MMF lines f dir || return 1
  cmp -s peer.out rc.out || fail "stdout differs from wc: $(cat rc.out)"
}

test_missing() {
  printf 'a\n' >f
  wc -l f missing >peer.out 2>/dev/null
  expect_error 2 "missing: No such file" $MMF lines f missing || return 1
  cmp -s peer.out rc.out || fail "stdout differs from wc: $(cat rc.out)"
}

test_unreadable() {
  printf 'b\n' >secret
  chmod 000 secret
  as_user=""
  if [ "$(id -u)" -eq 0 ]; then
    # root reads anything: try as nobody.
    command -v setpriv >/dev/null 2>&1 ||
      skip "running as root and no setpriv"
    skip_under_wine "running as root, and a Wine prefix serves only its" \
      "owner: the tool cannot run as nobody"
    as_user="setpriv --reuid=65534 --regid=65534 --clear-groups"
    chmod 755 .
    skip_unless_runs_as_nobody "$MMF"
  fi
  for c in "lines" "find x" "dump" "peek" "info" "touch" "evict" "lock" \
    "bench"; do
    offset=""
    [ "$c" = peek ] && offset=0
    # shellcheck disable=SC2086
    expect_error 2 "$PWD/secret: Permission denied" \
      $as_user $MMF $c "$PWD/secret" $offset || return 1
  done
}

test_sparse_5g() {
  make_sparse big || skip "cannot make a 5 GiB sparse file here"
  # wc reads the 5 GiB once; both runs are compared with its answer.
  # Under Wine, where reading 5 GiB costs seconds more, the answer is the
  # one the file was made with (two newlines at its end), and only the
  # default windows (1 GiB, the last starting at 4 GiB) are run.
  if on_wine; then
    echo "2 big" >want
  else
    wc -l big >want || return 1
  fi
  same_output "cat want" "\$MMF lines big" || return 1
  if ! on_wine; then
    same_output "cat want" "MMF_CLI_WINDOW=1000M \$MMF lines big" ||
      return 1
  fi
  rm -f big
}

test_truncated_while_counting() {
  # The file is cut while the library's count walks its mapping: the
  # guard turns the fault into MMF_ETRUNCATED, and the tool prints the
  # error and, as wc does when a read fails, the count so far: that of
  # the windows (with threads: the pieces) before the one that met the
  # cut, at most the 8192 newlines the file starts with. Exit 2, never
  # SIGBUS. Mapped on purpose (MMF_CLI_IO=map): the sparse file is not in
  # the page cache, so by default it would be read around the cache.
  head -c 8192 /dev/zero | tr '\0' '\n' >head || return 1
  make_sparse_tail f head || skip "cannot make a 64 GiB sparse file here"
  for j in 1 4; do
    make_sparse_tail f head || return 1
    cut_while_scanning f env MMF_CLI_IO=map $MMF lines -j $j f || return 1
    [ "$rc" -eq 2 ] || { cat err >&2; fail "exit $rc, expected 2"; return 1; }
    grep -q "^mmf: f: file was truncated" err ||
      fail "message: $(cat err)" || return 1
    n=$(sed -n 's/^\([0-9]*\) f$/\1/p' out)
    [ -n "$n" ] && [ "$n" -le 8192 ] ||
      fail "count so far with -j $j: '$(cat out)'" || return 1
  done
}

test_bad_options() {
  expect_error 2 "unknown or ambiguous option '--nope'" $MMF lines --nope ||
    return 1
  expect_error 2 "unknown option '-z'" $MMF lines -z || return 1
  $MMF lines --help | grep -q "^Usage: mmf lines" || fail "--help"
}

test_stream_memory_bounded() {
  # A stream goes through the window cursor's reused buffer: 1 GiB through
  # a pipe must not be copied into memory.
  [ -x /usr/bin/time ] || skip "no /usr/bin/time"
  head -c 1G /dev/zero | tr '\0' '\n' |
    /usr/bin/time -f "%M" -o rss $MMF lines >out || return 1
  [ "$(cat out)" = 1073741824 ] || fail "count: $(cat out)"
  kb=$(tail -1 rss)
  [ "$kb" -lt 262144 ] || fail "max RSS $kb KiB for a 1 GiB stream"
}

test_width_when_a_file_is_missing() {
  # wc leaves files it cannot stat out of the width, wherever they stand:
  # "nonexist small.txt" is as wide as small.txt's size says.
  printf 'a\nb\n' >small.txt
  head -c 123456 /dev/zero | tr '\0' '\n' >big.txt
  for args in "nonexist small.txt" "small.txt nonexist" \
    "nonexist big.txt small.txt" "nonexist nonexist2"; do
    # shellcheck disable=SC2086
    wc -l $args >peer.out 2>/dev/null
    # shellcheck disable=SC2086
    $MMF lines $args >mmf.out 2>/dev/null
    cmp -s peer.out mmf.out ||
      fail "$args: '$(cat mmf.out)', wc: '$(cat peer.out)'" || return 1
  done
}

test_names_with_newlines_quoted_as_wc() {
  skip_under_wine "Windows file names cannot hold newlines or control" \
    "characters"
  # wc quotes a name holding a newline (shell-escape style, as ls
  # --quoting-style=shell-escape); every other name stands as it is.
  set -- "$(printf 'new\nline')" "$(printf "it's\nquoted")" \
    "$(printf '\nlead')" "$(printf 'a\n\tb\001\177')" \
    "$(printf 'bad\377\376\nx')" "$(printf 'back\\\\slash\nx')" \
    "$(printf 'tab\there')" "sp ace" "$(printf 'ends\n\n')x"
  for n in "$@"; do
    printf 'one\ntwo\n' >"$n" || return 1
  done
  wc -l -- "$@" >peer.out || return 1
  $MMF lines -- "$@" >mmf.out || return 1
  cmp -s peer.out mmf.out || { diff peer.out mmf.out >&2; fail "C locale"; } ||
    return 1
  # In a UTF-8 locale printable characters stand, invalid bytes are
  # escaped.
  [ "$(LC_ALL=C.UTF-8 locale charmap 2>/dev/null)" = UTF-8 ] ||
    skip "no C.UTF-8 locale"
  n2=$(printf 'fïlé\n✓\377')
  printf 'x\n' >"$n2"
  LC_ALL=C.UTF-8 wc -l -- "$@" "$n2" >peer.out || return 1
  LC_ALL=C.UTF-8 $MMF lines -- "$@" "$n2" >mmf.out || return 1
  cmp -s peer.out mmf.out || { diff peer.out mmf.out >&2; fail "UTF-8"; }
}

test_small_address_space() {
  # Under ulimit -v 100000 (about 98 MiB) a 200 MB file cannot be mapped
  # whole: the scan takes smaller windows, and touch smaller maps. The
  # control: lock, which must hold the whole file mapped, is refused.
  skip_under_wine "no RLIMIT_AS under Windows"
  [ -z "${MMF_CLI_SANITIZED:-}" ] ||
    skip "AddressSanitizer needs terabytes of address space"
  [ -z "${MMF_CLI_EMULATED:-}" ] ||
    skip "the emulator needs more address space itself (qemu-user's code buffer is 128 MiB)"
  truncate -s 200M big.bin || return 1
  printf 'x\nlast\n' >>big.bin
  wc -l big.bin >want
  expect_rc 0 sh -c "ulimit -v 100000; exec $MMF lines big.bin" || return 1
  cmp -s want rc.out || fail "lines: $(cat rc.out), wc: $(cat want)" ||
    return 1
  expect_rc 0 sh -c "ulimit -v 100000; exec $MMF find -c last big.bin" ||
    return 1
  [ "$(cat rc.out)" = 1 ] || fail "find -c: $(cat rc.out)" || return 1
  expect_rc 0 sh -c "ulimit -v 100000; exec $MMF touch -q big.bin" ||
    return 1
  expect_error 2 "big.bin: out of memory or address space" \
    sh -c "ulimit -v 100000; exec $MMF lock big.bin"
}

# Many files: sizes from 0 up, some without a trailing newline, and one
# large enough (17 MiB) that -j splits it over threads.
make_many() {
  make_shapes
  i=0
  while [ $i -lt 60 ]; do
    head -c $((i * i * 37)) random.txt >many$i
    [ $((i % 3)) -eq 0 ] && printf 'tail' >>many$i
    i=$((i + 1))
  done
  MANY="$SHAPES $(i=0; while [ $i -lt 60 ]; do printf 'many%d ' $i; i=$((i + 1)); done)"
}

test_threads_many_files_as_wc() {
  # -j over many files: output in argument order, byte for byte wc -l's
  # and -j 1's, with every number of threads.
  make_many
  for j in 1 2 3 8; do
    same_output "wc -l $MANY" "\$MMF lines -j $j $MANY" || return 1
    same_output "\$MMF lines -j 1 $MANY" "\$MMF lines --threads=$j $MANY" ||
      return 1
  done
}

test_threads_errors_in_order() {
  # A missing file and a directory among them: the same stdout, stderr
  # and exit status as -j 1, errors in argument order.
  make_many
  mkdir adir || return 1
  args="many1 missing many2 adir many3 random.txt"
  $MMF lines -j 1 $args >one.out 2>one.err
  rc1=$?
  $MMF lines -j 4 $args >four.out 2>four.err
  rc4=$?
  [ $rc1 -eq 2 ] && [ $rc4 -eq 2 ] ||
    { fail "exit $rc1 and $rc4, expected 2"; return 1; }
  cmp one.out four.out && cmp one.err four.err ||
    { fail "-j 4 differs from -j 1"; return 1; }
  same_output "wc -l $args 2>/dev/null" "\$MMF lines -j 4 $args 2>/dev/null" 2
}

test_threads_one_large_file() {
  # One file of 17 MiB, split over 1 to 4 threads, mapped and read, with
  # the last line unterminated.
  make_shapes
  i=0
  : >large
  while [ $i -lt 20 ]; do cat random.txt >>large; i=$((i + 1)); done
  truncate -s 17M large || return 1
  printf 'end' >>large
  for io in auto map read direct; do
    for j in 1 2 4; do
      same_output "wc -l large" "MMF_CLI_IO=$io \$MMF lines -j $j large" ||
        return 1
    done
  done
}

test_threads_stdin_among_files() {
  # Standard input among the files: read where it stands, in order.
  make_many
  same_output "wc -l many5 - many7 <random.txt" \
    "\$MMF lines -j 4 many5 - many7 <random.txt" || return 1
}

test_threads_bad_values() {
  expect_error 2 "threads must be at least 1" $MMF lines -j 0 x || return 1
  expect_error 2 "invalid threads" $MMF lines -j many x || return 1
  expect_error 2 "invalid threads" $MMF lines --threads=65 x || return 1
}
