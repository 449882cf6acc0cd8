# test_cli_dump.sh - `mmf dump` against `hexdump -C`, byte for byte.

test_shapes() {
  need hexdump
  make_shapes
  for f in $SHAPES; do
    same_output "hexdump -C $f" "\$MMF dump $f" || return 1
  done
}

test_skip_and_length() {
  need hexdump
  make_shapes
  skips=$(pick "0 1 7 15 16 17 100 4095 4096 8000 8192 999999 0x10 010 1K" \
    "0 17 4095 999999 1K")
  for f in $(pick "binary text4095 crlf nonl empty" "binary empty"); do
    for s in $skips; do
      # "all": no -n.
      for n in $(pick "all 0 1 15 16 17 33 1000" "all 0 1000"); do
        nopt="-n $n"
        [ "$n" != all ] || nopt=
        same_output "hexdump -C -s $s $nopt $f" \
          "\$MMF dump -s $s $nopt $f" || return 1
      done
    done
  done
}

test_squeeze() {
  need hexdump
  # Runs of equal lines become one '*'; a partial last line equal to the
  # start of the previous one is still printed; a run may end the input.
  head -c 4096 /dev/zero >zeros
  { head -c 64 /dev/zero; printf 'x'; head -c 64 /dev/zero; } >mixed
  { printf '0123456789abcdef0123456789abcdef0123456789abcdef0123'; } >rep
  { head -c 48 /dev/zero; printf '\000\000\000'; } >zeros_tail
  printf 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAxAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' \
    >again
  for f in zeros mixed rep zeros_tail again; do
    same_output "hexdump -C $f" "\$MMF dump $f" || return 1
    same_output "hexdump -C -s 3 $f" "\$MMF dump -s 3 $f" || return 1
    same_output "hexdump -C -v $f" "\$MMF dump -v $f" || return 1
    same_output "hexdump -C -n 40 $f" "\$MMF dump -n 40 $f" || return 1
  done
}

test_small_windows() {
  need hexdump
  make_shapes
  for f in binary random.txt; do
    same_output "hexdump -C $f" "MMF_CLI_WINDOW=4096 \$MMF dump $f" ||
      return 1
    same_output "hexdump -C -s 4000 -n 300 $f" \
      "MMF_CLI_WINDOW=4096 \$MMF dump -s 4000 -n 300 $f" || return 1
    # (Under Wine, 1,200 maps of random.txt would take seconds.)
    [ "$f" = binary ] || ! on_wine || continue
    same_output "hexdump -C -s 5 $f" "MMF_CLI_WINDOW=1000 \$MMF dump -s 5 $f" ||
      return 1
  done
}

test_stdin_and_proc() {
  need hexdump
  make_shapes
  same_output "hexdump -C <binary" "cat binary | \$MMF dump" || return 1
  same_output "hexdump -C -n 100 binary" "cat binary | \$MMF dump -n 100" ||
    return 1
  # hexdump cannot skip in a pipe; mmf reads past the skipped bytes.
  same_output "hexdump -C -s 5000 binary" "cat binary | \$MMF dump -s 5000" ||
    return 1
  same_output "hexdump -C /proc/version" "\$MMF dump /proc/version" ||
    return 1
}

test_stdin_file() {
  need hexdump
  make_shapes
  same_output "hexdump -C <binary" "\$MMF dump <binary" || return 1
  same_output "hexdump -C -s 5000 -n 64 binary" \
    "\$MMF dump -s 5000 -n 64 <binary" || return 1
}

test_system_files() {
  need hexdump
  for f in /etc/passwd /usr/include/stdio.h; do
    [ -r "$f" ] || continue
    same_output "hexdump -C $f" "\$MMF dump $f" || return 1
    same_output "hexdump -C -s 100 -n 200 $f" "\$MMF dump -s 100 -n 200 $f" ||
      return 1
  done
}

test_sparse_5g() {
  need hexdump
  make_sparse big || skip "cannot make a 5 GiB sparse file here"
  end=$((5 * 1024 * 1024 * 1024))
  for s in $((end - 12)) $((end - 100)) $((end - 4097)) $end $((end + 5)) \
    0x13ffffff0 4G; do
    same_output "hexdump -C -s $s big" "\$MMF dump -s $s big" || return 1
  done
  same_output "hexdump -C -s 4G -n 100 big" "\$MMF dump -s 4G -n 100 big" ||
    return 1
  rm -f big
}

test_errors() {
  printf 'abc\n' >f
  mkdir dir
  expect_error 2 "dir: is a directory" $MMF dump dir || return 1
  expect_error 2 "missing: No such file" $MMF dump missing || return 1
  expect_error 2 "invalid offset '-1': negative" $MMF dump -s -1 f ||
    return 1
  expect_error 2 "invalid offset 'abc': not a number" $MMF dump -s abc f ||
    return 1
  expect_error 2 "invalid offset '99999999999999999999': too large" \
    $MMF dump -s 99999999999999999999 f || return 1
  expect_error 2 "invalid offset '9223372036854775808': too large" \
    $MMF dump -s 9223372036854775808 f || return 1
  expect_error 2 "invalid length '1X'" $MMF dump -n 1X f || return 1
  expect_error 2 "option '-s' needs a value" $MMF dump f -s || return 1
  expect_error 2 "one FILE at most" $MMF dump f f || return 1
  # Past the end is not an error for hexdump: it prints the size.
  expect_rc 0 $MMF dump -s 9223372036854775807 f || return 1
  [ "$(cat rc.out)" = "00000004" ] || fail "past EOF: $(cat rc.out)"
}

test_truncated_while_dumping() {
  head -c 30000000 /dev/urandom >f || return 1
  cut_while_mapped f $MMF dump f || return 1
  [ "$rc" -eq 2 ] || { cat err >&2; fail "exit $rc, expected 2"; return 1; }
  grep -q "^mmf: f: file was truncated" err || fail "message: $(cat err)"
}

test_skip_seeks_on_devices() {
  # -s on a character device seeks, as hexdump does: 2^60 bytes of
  # /dev/zero are not read (the timeout would end a reading dump).
  skip_under_wine "no /dev/zero under Windows"
  need hexdump
  same_output "hexdump -C -s 1E -n 16 /dev/zero" \
    "timeout 10 \$MMF dump -s 1E -n 16 /dev/zero" || return 1
  same_output "hexdump -C -s 0x7ffffffffffffff0 -n 40 /dev/zero" \
    "timeout 10 \$MMF dump -s 0x7ffffffffffffff0 -n 40 /dev/zero"
}

# cut_to_while_mapped SIZE FILE CMD...: cut_while_mapped, cutting FILE
# to SIZE bytes instead of emptying it.
cut_to_while_mapped() {
  cut_size=$1
  cut_file=$2
  shift 2
  rm -f mapped
  MMF_CLI_TEST_DELAY_MS=1500 MMF_CLI_TEST_MARK=mapped "$@" >out 2>err &
  cut_pid=$!
  wait_for_file mapped mapped 300 || { kill "$cut_pid"; wait "$cut_pid"; return 1; }
  truncate -s "$cut_size" "$cut_file" || return 1
  wait "$cut_pid"
  rc=$?
}

test_cut_inside_the_last_page() {
  # The file is cut to 4,500 bytes, inside its second page, while dump
  # holds its mapping: the rest of that page then reads as zeros with no
  # fault (a 5,000-byte file: the copy reads no later page), or the copy
  # faults on the third page (a 30,000-byte file). Either way nothing past
  # the new end may be printed, and nothing before it lost: the first
  # 4,500 bytes as hexdump shows them, then the error.
  need hexdump
  for size in 5000 30000; do
    head -c 80000 /dev/urandom | tr '\000' x | head -c $size >f || return 1
    head -c 4500 f >want
    cut_to_while_mapped 4500 f $MMF dump f || return 1
    [ "$rc" -eq 2 ] || { cat err >&2; fail "$size: exit $rc"; return 1; }
    grep -q "^mmf: f: file was truncated" err ||
      fail "$size: message: $(cat err)" || return 1
    hexdump -C want | sed '$d' >want.out
    cmp -s want.out out || { diff want.out out | tail -5 >&2; fail "$size"; } ||
      return 1
  done
}
