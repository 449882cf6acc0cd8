# test_cli_peek.sh - `mmf peek` and `mmf poke`.

test_peek_matches_tail_head() {
  make_shapes
  for f in binary text4097 crlf nonl; do
    size=$(wc -c <"$f")
    for o in $(pick "0 1 5 $((size - 1)) $((size / 2))" "5 $((size / 2))"); do
      for l in $(pick "1 2 7 $((size - o))" "7 $((size - o))"); do
        [ $((o + l)) -le "$size" ] || continue
        same_output "tail -c +$((o + 1)) $f | head -c $l" \
          "\$MMF peek $f $o $l" || return 1
        same_output "tail -c +$((o + 1)) $f | head -c $l | od -An -v -tx1 \
| tr -d ' \\n'; echo" "\$MMF peek -x $f $o $l" || return 1
      done
    done
  done
  same_output "head -c 1 binary" "\$MMF peek binary 0" || return 1
  same_output "tail -c +4095 binary | head -c 100" \
    "MMF_CLI_WINDOW=4096 \$MMF peek binary 4094 100" || return 1
}

test_peek_streams() {
  make_shapes
  same_output "tail -c +11 binary | head -c 20" \
    "cat binary | \$MMF peek - 10 20" || return 1
  same_output "tail -c +5001 binary | head -c 20" \
    "cat binary | \$MMF peek - 5000 20" || return 1
  same_output "head -c 5 /proc/version" "\$MMF peek /proc/version 0 5" ||
    return 1
}

test_peek_stdin_file() {
  make_shapes
  same_output "tail -c +5001 binary | head -c 20" \
    "\$MMF peek - 5000 20 <binary" || return 1
}

test_peek_errors() {
  printf 'abcd' >f
  : >empty
  mkdir dir
  expect_error 2 "past the end" $MMF peek f 4 || return 1
  expect_error 2 "past the end" $MMF peek f 2 3 || return 1
  [ ! -s rc.out ] || fail "output despite the error: $(cat rc.out)"
  expect_error 2 "past the end" $MMF peek f 9223372036854775807 ||
    return 1
  expect_error 2 "past the end" $MMF peek empty 0 || return 1
  expect_error 2 "past the end" sh -c "printf abc | $MMF peek - 5" ||
    return 1
  expect_error 2 "invalid offset '-1': negative" $MMF peek f -- -1 ||
    return 1
  expect_error 2 "invalid offset '-1': negative" $MMF peek f -1 || return 1
  expect_error 2 "invalid offset 'x1'" $MMF peek f x1 || return 1
  expect_error 2 "invalid length '18446744073709551616': too large" \
    $MMF peek f 0 18446744073709551616 || return 1
  expect_error 2 "invalid offset '9223372036854775808': too large" \
    $MMF peek f 9223372036854775808 || return 1
  expect_error 2 "dir: is a directory" $MMF peek dir 0 || return 1
  expect_error 2 "missing OFFSET" $MMF peek f || return 1
  # Offset equal to the size with length 0: nothing, fine.
  expect_rc 0 $MMF peek f 4 0 || return 1
}

test_poke_roundtrip() {
  printf 'hello world\n' >f
  $MMF poke f 6 -s WORLD || return 1
  [ "$(cat f)" = "hello WORLD" ] || fail "poke -s: $(cat f)"
  $MMF poke f 0 -x '48 45' || return 1
  [ "$(cat f)" = "HEllo WORLD" ] || fail "poke -x: $(cat f)"
  $MMF poke f 0x0b -x 21 || return 1
  [ "$(cat f)" = "HEllo WORLD!" ] || fail "poke at the end: $(cat f)"
  [ "$(wc -c <f)" -eq 12 ] || fail "size changed"
  $MMF peek -x f 0 2 >out || return 1
  $MMF poke f 2 -x "$(cat out)" || return 1
  [ "$(cat f)" = "HEHEo WORLD!" ] || fail "peek -x | poke -x: $(cat f)"
}

test_poke_past_end() {
  printf 'abcd' >f
  expect_error 2 "past the end of the file; use --grow" $MMF poke f 3 -s xy ||
    return 1
  expect_error 2 "past the end" $MMF poke f 10 -s x || return 1
  [ "$(cat f)" = "abcd" ] || fail "file changed: $(cat f)"
  [ "$(wc -c <f)" -eq 4 ] || fail "size changed"
  $MMF poke --grow f 6 -s xy || return 1
  printf 'abcd\000\000xy' >want
  cmp -s want f || fail "--grow: $(od -c f)"
  : >empty
  $MMF poke -g empty 0 -s z || return 1
  [ "$(cat empty)" = z ] || fail "--grow empty"
}

test_poke_errors() {
  printf 'abcd' >f
  mkdir dir
  mkfifo fifo
  expect_error 2 "dir: is a directory" $MMF poke dir 0 -s x || return 1
  # A FIFO is refused before it is opened (opening would block).
  expect_error 2 "fifo: not a regular file" $MMF poke fifo 0 -s x ||
    return 1
  expect_error 2 "missing: No such file" $MMF poke missing 0 -s x ||
    return 1
  expect_error 2 "exactly one of" $MMF poke f 0 || return 1
  expect_error 2 "exactly one of" $MMF poke f 0 -s a -x 61 || return 1
  expect_error 2 "invalid HEX 'abc'" $MMF poke f 0 -x abc || return 1
  expect_error 2 "invalid HEX 'zz'" $MMF poke f 0 -x zz || return 1
  expect_error 2 "nothing to write" $MMF poke f 0 -s '' || return 1
  expect_error 2 "invalid offset '-3'" $MMF poke f -s x -- -3 || return 1
  expect_error 2 "offset plus length is too large" \
    $MMF poke -g f 9223372036854775807 -s xy || return 1
  chmod 444 f
  if [ "$(id -u)" -ne 0 ]; then
    expect_error 2 "f: " $MMF poke f 0 -s x || return 1
  fi
  expect_error 2 "/proc/version: " $MMF poke /proc/version 0 -s x ||
    return 1
  [ "$(cat f)" = "abcd" ] || fail "file changed"
}

test_peek_seeks_on_devices() {
  skip_under_wine "no /dev/zero under Windows"
  timeout 10 $MMF peek -x /dev/zero 1E 4 >out || fail "exit $?" || return 1
  [ "$(cat out)" = 00000000 ] || fail "peek: $(cat out)"
}

test_peek_negative_and_swapped() {
  printf 'abcd' >f
  # A negative number where a number goes is explained the same way,
  # with or without -- before it.
  for args in "f -1" "f -- -1" "-x f -1" "f 0 -2"; do
    # shellcheck disable=SC2086
    expect_error 2 "invalid (offset|length) '-[12]': negative numbers are \
not allowed" $MMF peek $args || return 1
  done
  expect_error 2 "invalid offset '-3': negative" $MMF poke f -3 -s x ||
    return 1
  [ "$(cat f)" = abcd ] || fail "poke wrote: $(cat f)" || return 1
  # FILE and OFFSET swapped: a hint.
  expect_error 2 "invalid offset 'f': not a number" $MMF peek 347 f ||
    return 1
  grep -q "^mmf: peek: hint: FILE comes before OFFSET; did you mean \
'mmf peek f 347'?" rc.err || fail "no hint: $(cat rc.err)"
}

test_poke_on_a_full_filesystem() {
  # On a full filesystem poke fails and leaves the file as it was: the
  # blocks are allocated before a byte is written, and what was grown is
  # shrunk back. Negative control: dd writing the same bytes the plain
  # way changes the file partly before failing. The 1 MiB tmpfs lives in
  # a mount namespace of the test's own, so it goes away with it.
  skip_under_wine "the tmpfs would be mounted for the host's processes" \
    "only, not for Wine's server, which opens the files"
  [ "$(id -u)" -eq 0 ] || skip "mounting a tmpfs needs root"
  need unshare
  unshare -m sh -c ". '$here/lib.sh'; . '$script'; poke_full_filesystem"
}

poke_full_filesystem() {
  mkdir fs || return 1
  mount -t tmpfs -o size=1m tmpfs fs 2>/dev/null ||
    skip "mount -t tmpfs refused here"
  printf 'hello' >fs/d
  truncate -s 100000 fs/sparse
  head -c 30000 /dev/urandom | tr '\000' x >bytes
  # Full but for 16 KiB: room for part of the 30,000 bytes.
  head -c 16384 /dev/zero >fs/reserve
  head -c 2000000 /dev/zero >fs/fill 2>/dev/null
  rm fs/reserve
  [ "$(df -k --output=avail fs | tail -1)" -lt 30 ] ||
    skip "could not fill the tmpfs"
  cp fs/d d.before && cp fs/sparse sparse.before || return 1
  expect_error 2 "fs/d: no space left on device" \
    $MMF poke --grow fs/d 10 -s "$(cat bytes)" || return 1
  cmp -s d.before fs/d ||
    fail "--grow changed the file: $(wc -c <fs/d) bytes" || return 1
  expect_error 2 "fs/sparse: no space left on device" \
    $MMF poke fs/sparse 0 -s "$(cat bytes)" || return 1
  cmp -s sparse.before fs/sparse || fail "the sparse file changed" ||
    return 1
  # The control: without the allocation first, bytes do land.
  if dd if=bytes of=fs/sparse conv=notrunc 2>/dev/null; then
    fail "control: dd found room for all the bytes"
    return 1
  fi
  if cmp -s sparse.before fs/sparse; then
    fail "control: dd changed nothing; the test cannot fail"
    return 1
  fi
}

test_poke_past_the_file_size_limit() {
  # Growing past RLIMIT_FSIZE (ulimit -f) is an error with a message, the
  # file left as it was; never death by SIGXFSZ. Negative control: dd
  # writing past the limit is killed by the signal.
  skip_under_wine "no RLIMIT_FSIZE under Windows"
  printf 'abc' >f
  expect_error 2 "f: file too large" \
    sh -c "ulimit -f 1; exec $MMF poke --grow f 5000 -s X" || return 1
  [ "$(cat f)" = abc ] || fail "file changed: $(wc -c <f) bytes" || return 1
  sh -c 'ulimit -f 1; exec dd if=/dev/zero of=g bs=1 count=1 seek=5000' \
    2>/dev/null
  rc=$?
  [ "$rc" -gt 128 ] || fail "control: dd exited $rc, not by a signal"
}

test_sys_file_shorter_than_its_size() {
  # A /sys attribute reports 4,096 bytes and holds a few: that size is a
  # guess, not a promise, and reading to its real end is no truncation.
  skip_under_wine "no /sys under Windows"
  f=/sys/kernel/mm/transparent_hugepage/enabled
  [ -r "$f" ] || skip "no $f"
  need hexdump
  same_output "hexdump -C -s 30 $f" "\$MMF dump -s 30 $f" || return 1
  same_output "hexdump -C $f" "\$MMF dump $f" || return 1
  expect_error 2 "$f: offset 30 length 1 is past the end of the input" \
    $MMF peek $f 30 || return 1
  same_output "head -c 4 $f" "\$MMF peek $f 0 4"
}
