# test_cli_info.sh - `mmf info` against fincore.

# json_field NAME: the value of "NAME" in the JSON object on stdin.
json_field() {
  sed -n "s/.*\"$1\":\([^,}]*\).*/\1/p"
}

# same_as_fincore FILE: resident pages and size agree with fincore, both
# taken right after each other.
same_as_fincore() {
  fincore --bytes --noheadings --raw -o PAGES,SIZE "$1" >peer.out ||
    { fail "fincore $1"; return 1; }
  $MMF info --json "$1" >mmf.json || { fail "mmf info $1"; return 1; }
  got="$(json_field resident_pages <mmf.json) $(json_field size <mmf.json)"
  [ "$got" = "$(cat peer.out)" ] ||
    { fail "$1: mmf says '$got', fincore '$(cat peer.out)'"; return 1; }
}

test_resident_matches_fincore() {
  skip_under_wine "Windows cannot tell which pages of a file are cached:" \
    "info says unknown (test_fields checks that)"
  need fincore
  make_shapes
  head -c 20000000 /dev/urandom >big || return 1
  for f in $SHAPES big /etc/passwd /usr/include/stdio.h /proc/version; do
    [ -e "$f" ] || continue
    same_as_fincore "$f" || return 1
  done
  # Cached, evicted, partly read back.
  cat big >/dev/null
  same_as_fincore big || return 1
  $MMF evict -q big || return 1
  same_as_fincore big || return 1
  dd if=big of=/dev/null bs=4096 skip=1000 count=3 2>/dev/null
  same_as_fincore big || return 1
  MMF_CLI_WINDOW=4M same_as_fincore big || return 1
}

test_fields() {
  ps=$(getconf PAGESIZE)
  head -c $((3 * ps + 1)) /dev/zero >f
  $MMF info --json f >out || return 1
  [ "$(json_field pages <out)" = 4 ] || fail "pages: $(cat out)"
  [ "$(json_field page_size <out)" = "$ps" ] || fail "page_size: $(cat out)"
  [ "$(json_field size <out)" = $((3 * ps + 1)) ] || fail "size: $(cat out)"
  if on_wine; then
    # Windows: the working set of a fresh map says nothing about the
    # cache; so no residency, and no 2 MiB page detection.
    grep -q '"resident_pages":null,"resident_percent":null,' out &&
      grep -q '"huge_pages":null,"pmd_mapped_bytes":null}$' out ||
      fail "Windows residency: $(cat out)"
  fi
  $MMF info f >out || return 1
  grep -q "^pages: *4$" out || fail "text: $(cat out)"
  if on_wine; then
    grep -q "^resident: *unknown$" out || fail "text: $(cat out)"
    grep -q "^2 MiB pages: *unknown$" out || fail "text: $(cat out)"
  else
    grep -q "^resident: *[0-9]* pages ([0-9.]*%)$" out ||
      fail "text: $(cat out)"
    grep -q "^2 MiB pages: *\(yes\|no\|unknown\)" out ||
      fail "text: $(cat out)"
  fi
  if [ "$(uname -s)" = Linux ] && ! on_wine; then
    # No whole 2 MiB block in 4 pages: none mapped with a 2 MiB entry,
    # known without reading /proc/self/smaps.
    $MMF info --json f >out || return 1
    grep -q '"huge_pages":false,"pmd_mapped_bytes":0}$' out ||
      fail "a small file's 2 MiB pages: $(cat out)"
  fi
  # Several files: one JSON object per line.
  $MMF info --json f f >out || return 1
  [ "$(wc -l <out)" -eq 2 ] || fail "two objects: $(cat out)"
}

test_json_escaping() {
  skip_under_wine 'the names JSON escapes (with ", \ or control' \
    "characters) are not valid Windows file names"
  printf x >f
  # A name that needs escaping stays valid JSON.
  cp f 'we"ird\name'
  $MMF info --json 'we"ird\name' | grep -q '"file":"we\\"ird\\\\name"' ||
    fail "escaping"
  cp f 'tab	name'
  $MMF info --json 'tab	name' | grep -q '"file":"tab\\u0009name"' ||
    fail "escaping a tab"
}

test_huge_pages_reported() {
  skip_under_wine "2 MiB page detection is Linux only"
  [ "$(uname -s)" = Linux ] || skip "2 MiB page detection is Linux only"
  [ -r /proc/self/smaps ] || skip "no /proc/self/smaps"
  head -c $((16 << 20)) /dev/urandom >f || return 1
  $MMF evict -q f && cat f >/dev/null
  $MMF info --json f >out || return 1
  v=$(json_field huge_pages <out)
  case $v in
  true | false) echo "huge_pages: $v ($(json_field pmd_mapped_bytes <out))" ;;
  *) fail "huge_pages should be known on Linux: $(cat out)" ;;
  esac
}

test_errors() {
  mkdir dir
  mkfifo fifo
  printf x >f
  expect_error 2 "dir: is a directory" $MMF info dir || return 1
  # Must not wait for a writer.
  expect_error 2 "fifo: not a regular file" timeout 10 $MMF info fifo ||
    return 1
  expect_error 2 "missing: No such file" $MMF info f missing || return 1
  grep -q '^file: *f$' rc.out || fail "the good file is still shown"
  expect_error 2 "not a regular file" $MMF info /dev/null || return 1
  expect_error 2 "missing FILE" $MMF info || return 1
}

test_truncated_while_measuring() {
  head -c 20000000 /dev/zero >f || return 1
  cut_while_mapped f $MMF info f || return 1
  # mincore on pages past the new end is no fault; the 2 MiB probe is
  # guarded. Either it measures what is left or reports the truncation.
  [ "$rc" -eq 0 ] || [ "$rc" -eq 2 ] ||
    { cat err >&2; fail "exit $rc"; return 1; }
  [ "$rc" -eq 0 ] || grep -q "^mmf: f: " err || fail "message: $(cat err)"
}

test_json_names_not_utf8() {
  skip_under_wine "Windows file names are UTF-16: invalid UTF-8 cannot" \
    "name a file there"
  # Each byte that is not part of valid UTF-8 is written \ufffd, so the
  # output is JSON whatever the name; valid UTF-8 stands as it is.
  printf x >"$(printf 'bad\377')"
  printf x >"$(printf 'over\300\257long')"
  printf x >"$(printf 'sur\355\240\200rogate')"
  printf x >"$(printf 'cut\342\202')"
  printf x >"$(printf 'ok\303\251')"
  $MMF info --json "$(printf 'bad\377')" "$(printf 'over\300\257long')" \
    "$(printf 'sur\355\240\200rogate')" "$(printf 'cut\342\202')" \
    "$(printf 'ok\303\251')" >out || return 1
  for want in '"file":"bad\ufffd"' '"file":"over\ufffd\ufffdlong"' \
    '"file":"sur\ufffd\ufffd\ufffdrogate"' '"file":"cut\ufffd\ufffd"' \
    "\"file\":\"$(printf 'ok\303\251')\""; do
    grep -qF "$want" out || fail "no $want in: $(cat out)" || return 1
  done
  if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import json, sys
for line in sys.stdin.buffer:
    json.loads(line.decode("utf-8"))' <out || fail "not JSON: $(cat out)"
  fi
}
