# test_cli_find.sh - `mmf find` against grep: `-c` equals
# `grep -oaF STRING FILE | wc -l`, offsets equal `grep -oabF`.

# grep_offsets STRING FILE: the offsets grep -b -o reports, one a line.
grep_offsets() {
  grep -oabF -- "$1" "$2" | sed 's/:.*//'
}

test_counts_match_grep() {
  make_shapes
  for f in $SHAPES; do
    for s in e line "line 1" a aa "ext" "of text" zzzz "$(printf '\r')" \
      "$(printf 'x\001')"; do
      # Under Wine, a sample of the strings (see pick in lib.sh).
      if on_wine; then
        case $s in e | "line 1" | "$(printf '\r')") ;; *) continue ;; esac
      fi
      same_output "grep -oaF -- '$s' $f | wc -l" \
        "\$MMF find -c -- '$s' $f" 1 || return 1
    done
  done
}

test_offsets_match_grep() {
  make_shapes
  for f in random.txt text4097 crlf binary; do
    for s in a ab line "e o" "$(printf '\r')"; do
      grep_offsets "$s" "$f" >peer.out
      $MMF find -- "$s" "$f" >mmf.out
      cmp -s peer.out mmf.out || fail "offsets of '$s' in $f differ" ||
        return 1
    done
  done
}

test_line_numbers() {
  make_shapes
  for f in random.txt text8193; do
    for s in ab line qq; do
      grep -naboF -- "$s" "$f" | awk -F: '{ print $1 ":" $2 }' >peer.out
      $MMF find -n -- "$s" "$f" >mmf.out
      cmp -s peer.out mmf.out || fail "-n '$s' in $f differs" || return 1
      MMF_CLI_IO=map MMF_CLI_WINDOW=1 $MMF find -n -- "$s" "$f" >mmf.out
      cmp -s peer.out mmf.out || fail "-n '$s' in $f, windows" || return 1
      MMF_CLI_IO=read MMF_CLI_WINDOW=1 $MMF find -n -- "$s" "$f" >mmf.out
      cmp -s peer.out mmf.out || fail "-n '$s' in $f, buffers" || return 1
    done
  done
}

test_across_windows_and_pipes() {
  make_shapes
  # Occurrences straddle window and buffer boundaries: the smallest
  # windows and buffers the library takes, mapped and read; counted (-c)
  # and listed.
  for io in map read; do
    for s in a "line 1" "of text" "ne 12 of"; do
      for f in random.txt text8193; do
        same_output "grep -oaF -- '$s' $f | wc -l" \
          "MMF_CLI_IO=$io MMF_CLI_WINDOW=1 \$MMF find -c -- '$s' $f" 1 ||
          return 1
        same_output "grep -oabF -- '$s' $f | sed 's/:.*//'" \
          "MMF_CLI_IO=$io MMF_CLI_WINDOW=1 \$MMF find -- '$s' $f" 1 ||
          return 1
      done
    done
  done
  # A pipe that delivers a few bytes at a time.
  printf 'abcabcab' >tiny
  (for i in 1 2 3 4 5 6 7 8 9 10; do cat tiny; sleep 0.01; done) |
    $MMF find -c abca >out || return 1
  printf 'abcabcab%.0s' 1 2 3 4 5 6 7 8 9 10 | grep -oaF abca | wc -l >want
  cmp -s want out || fail "pipe: $(cat out), want $(cat want)"
  (printf 'xyzab'; sleep 0.1; printf 'c'; sleep 0.1; printf 'dexy') |
    $MMF find abcd >out || return 1
  [ "$(cat out)" = "3" ] || fail "straddling pipe: $(cat out)"
}

test_several_files_and_stdin() {
  make_shapes
  grep -oaF line text4095 | wc -l >n1
  $MMF find -c line text4095 crlf >out || return 1
  [ "$(sed -n 1p out)" = "text4095:$(cat n1)" ] || fail "several: $(cat out)"
  [ "$(sed -n 2p out)" = "crlf:0" ] || fail "several: $(cat out)"
  same_output "grep -oaF -- line random.txt | wc -l" \
    "cat random.txt | \$MMF find -c line" || return 1
  same_output "grep -oaF -- o /proc/version | wc -l" \
    "\$MMF find -c o /proc/version" || return 1
}

test_stdin_file() {
  make_shapes
  same_output "grep -oaF -- line random.txt | wc -l" \
    "\$MMF find -c line <random.txt" || return 1
  same_output "grep -oabF -- ab random.txt | sed 's/:.*//'" \
    "\$MMF find ab <random.txt" || return 1
}

test_max_count() {
  make_shapes
  $MMF find -m 3 line text4097 >out || return 1
  grep_offsets line text4097 | head -3 >want
  cmp -s want out || fail "-m 3: $(cat out)"
  $MMF find -c -m 5 line text4097 >out || return 1
  [ "$(cat out)" = 5 ] || fail "-c -m 5: $(cat out)"
  expect_rc 1 $MMF find -m 0 line text4097 || return 1
}

test_exit_codes() {
  printf 'hello world\n' >f
  expect_rc 0 $MMF find world f || return 1
  expect_rc 1 $MMF find absent f || return 1
  expect_rc 1 $MMF find -c absent f || return 1
  [ "$(cat rc.out)" = 0 ] || fail "count of absent: $(cat rc.out)"
  expect_error 2 "missing: No such file" $MMF find world f missing ||
    return 1
  mkdir dir
  expect_error 2 "dir: is a directory" $MMF find world dir || return 1
  expect_error 2 "STRING must not be empty" $MMF find '' f || return 1
  expect_error 2 "missing STRING" $MMF find || return 1
  expect_error 2 "invalid count '-2'" $MMF find -m -2 x f || return 1
  : >empty
  expect_rc 1 $MMF find x empty || return 1
}

test_system_files() {
  for f in /etc/passwd /usr/include/stdio.h; do
    [ -r "$f" ] || continue
    for s in root int "extern " FILE ":"; do
      same_output "grep -oaF -- '$s' $f | wc -l" \
        "\$MMF find -c -- '$s' $f" 1 || return 1
    done
  done
}

test_truncated_while_finding() {
  # The file is cut while the library walks its mapping: the occurrence
  # before the cut is printed, then the error; exit 2, never SIGBUS. The
  # same for -c (the library's count).
  printf '....x' >head
  make_sparse_tail f head || skip "cannot make a 64 GiB sparse file here"
  cut_while_scanning f $MMF find x f || return 1
  [ "$rc" -eq 2 ] || { cat err >&2; fail "exit $rc, expected 2"; return 1; }
  grep -q "^mmf: f: file was truncated" err || fail "message: $(cat err)" ||
    return 1
  [ "$(cat out)" = 4 ] || fail "output: '$(cat out)'" || return 1
  make_sparse_tail f head || return 1
  cut_while_scanning f $MMF find -c x f || return 1
  [ "$rc" -eq 2 ] || { cat err >&2; fail "-c: exit $rc, expected 2"; return 1; }
  grep -q "^mmf: f: file was truncated" err || fail "-c: $(cat err)"
}

test_slow_pipe_occurrence_over_three_reads() {
  # An occurrence whose bytes arrive in three reads of a slow pipe.
  { printf '....HEL'; sleep 0.3; printf 'LO_'; sleep 0.3; printf 'WORLD\n'; } |
    $MMF find -c HELLO_WORLD >out || return 1
  [ "$(cat out)" = 1 ] || fail "-c: $(cat out)" || return 1
  { printf '....HEL'; sleep 0.3; printf 'LO_'; sleep 0.3; printf 'WORLD\n'; } |
    $MMF find HELLO_WORLD >out || return 1
  [ "$(cat out)" = 4 ] || fail "offsets: $(cat out)" || return 1
  # Random text trickled a few bytes at a time: counts and offsets as
  # grep finds them in the whole.
  make_shapes
  head -c 400 random.txt >part
  for s in "ab" "abc" "qwerty"; do
    grep -oaF -- "$s" part | wc -l >want
    awk 'BEGIN { RS = "\001" } { n = length($0); i = 1; srand(3)
        while (i <= n) { k = 1 + int(rand() * 5)
          printf "%s", substr($0, i, k); fflush(); i += k
          system("sleep 0.002") } }' part |
      $MMF find -c -- "$s" >out
    [ "$(cat out)" = "$(cat want | tr -d ' ')" ] ||
      fail "'$s': $(cat out), want $(cat want)" || return 1
  done
}

test_count_lines_is_grep_c() {
  # -c counts occurrences; --count-lines counts the lines holding one,
  # which is what grep -c counts.
  printf 'ERROR ERROR\n' >f
  $MMF find -c ERROR f >out || return 1
  [ "$(cat out)" = 2 ] || fail "-c: $(cat out)" || return 1
  same_output "grep -cF ERROR f" "\$MMF find --count-lines ERROR f" ||
    return 1
  make_shapes
  for f in random.txt text4097 crlf binary nonl empty; do
    for s in a ab line "e o" zzzz "$(printf '\r')"; do
      same_output "grep -caF -- '$s' $f" \
        "\$MMF find --count-lines -- '$s' $f" 1 || return 1
      same_output "grep -caF -m 3 -- '$s' $f" \
        "\$MMF find --count-lines -m 3 -- '$s' $f" 1 || return 1
    done
  done
  same_output "cat random.txt | grep -caF ab" \
    "cat random.txt | \$MMF find --count-lines ab" || return 1
  expect_error 2 "exclude each other" $MMF find -c --count-lines x f
}

test_long_path_keeps_its_separator() {
  # A path of 4,095 bytes (the most PATH_MAX allows) prefixed to its
  # lines in full, with its ':'.
  skip_under_wine "Wine opens host files by absolute path, which a" \
    "relative path of 4,095 bytes makes longer than PATH_MAX"
  p=.
  while [ ${#p} -lt 3800 ]; do
    p=$p/$(printf '%0200d' 0)
  done
  mkdir -p "$p" || return 1
  while [ $((${#p} + 1 + 200)) -lt 4095 ]; do
    p=$p/$(printf '%0200d' 1)
    mkdir "$p" || return 1
  done
  f=$p/$(printf '%0*d' $((4095 - ${#p} - 1)) 2)
  [ ${#f} -eq 4095 ] || fail "path of ${#f} bytes" || return 1
  printf 'hello\n' >"$f" || return 1
  printf 'hello\n' >small.txt
  grep -cF hello "$f" small.txt >peer.out
  $MMF find -c hello "$f" small.txt >mmf.out || return 1
  cmp -s peer.out mmf.out || fail "$(tail -c 300 mmf.out)" || return 1
  $MMF find hello "$f" small.txt >out || return 1
  [ "$(sed -n 1p out)" = "$f:0" ] || fail "offset line: $(tail -c 100 out)"
}

test_swapped_arguments_hint() {
  printf 'ERROR here\n' >app.log
  expect_error 2 "ERROR: No such file" $MMF find app.log ERROR || return 1
  grep -q "^mmf: find: hint: STRING comes before FILE; did you mean \
'mmf find ERROR app.log'?" rc.err || fail "no hint: $(cat rc.err)" ||
    return 1
  # No hint when the string names no file.
  expect_error 2 "nofile: No such file" $MMF find zzz nofile || return 1
  if grep -q hint rc.err; then
    fail "a hint without reason: $(cat rc.err)"
    return 1
  fi
}

test_threads_count_as_grep() {
  # -c with -j over a 17 MiB file (split over the threads) and small ones:
  # grep -oaF | wc -l's count, and -j 1's output; self-overlapping
  # strings ("aa", "aba") counted left to right across the split points.
  make_shapes
  awk 'BEGIN { srand(3); for (i = 0; i < 40000; i++) {
      n = int(rand() * 80); s = "";
      for (j = 0; j < n; j++) s = s (rand() < 0.7 ? "a" : "b");
      print s } }' >ab.txt
  : >large
  while [ "$(wc -c <large)" -lt 17825792 ]; do cat ab.txt >>large; done
  for s in a aa aaa aba abab; do
    for j in 2 4; do
      same_output "grep -oaF -- '$s' large | wc -l" \
        "\$MMF find -j $j -c -- '$s' large" 1 || return 1
      same_output "\$MMF find -c -- '$s' large random.txt crlf" \
        "\$MMF find --threads=$j -c -- '$s' large random.txt crlf" 1 ||
        return 1
    done
  done
  # A string across lines (grep takes a newline as two patterns).
  same_output "\$MMF find -c -- 'b
a' large" "\$MMF find -j 3 -c -- 'b
a' large" || return 1
  same_output "grep -caF -- ab large" "\$MMF find -j 2 --count-lines ab large"
  expect_error 2 "threads must be at least 1" $MMF find -j 0 -c a large
}
