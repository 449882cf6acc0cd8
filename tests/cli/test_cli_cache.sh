# test_cli_cache.sh - `mmf touch`, `evict` and `lock`, checked with fincore.

# resident FILE: resident pages according to fincore.
resident() {
  fincore --bytes --noheadings --raw -o PAGES "$1"
}

# drop_cache FILE: drop FILE from the page cache with the host's tools, the
# peers of `mmf evict` (which Windows builds cannot do): GNU sync writes
# its dirty pages back, then dd's nocache flag (POSIX_FADV_DONTNEED) drops
# them. Skips the case if pages stay (a file system that keeps them).
drop_cache() {
  sync "$1" 2>/dev/null || sync
  dd if="$1" iflag=nocache count=0 status=none 2>/dev/null
  [ "$(resident "$1")" -eq 0 ] ||
    skip "the host's dd cannot drop $1 from the page cache here"
}

# page_cache FILE: "CACHED EVICTED" from cachestat(2) (Linux 6.5 and later):
# the pages of FILE in the page cache, and those the kernel has evicted
# since they were loaded (eviction leaves a shadow entry in their place;
# dropping pages on purpose, as evict and dd's nocache do, leaves none).
# Prints "unknown" where the system cannot tell. Asked through perl's
# syscall(), since fincore (util-linux before 2.40) does not show evictions.
page_cache() {
  [ "$(uname -s)" = Linux ] && command -v perl >/dev/null 2>&1 &&
    perl -e '
      open(my $fh, "<", $ARGV[0]) or exit 2;
      my ($range, $stat) = (pack("QQ", 0, 0), "\0" x 40);
      syscall(451, fileno($fh), $range, $stat, 0) == 0 or exit 3;
      my @v = unpack("Q5", $stat);
      print "$v[0] $v[3]\n";' "$1" 2>/dev/null ||
    echo unknown
}

# loaded_since BEFORE: how many pages of f have been loaded since
# page_cache printed BEFORE, when none was cached. The kernel may evict
# clean, unmapped pages at any moment, also between a touch and the count
# (the development VMs page out idle page cache within seconds), so a
# loaded page is one that is resident or that the kernel has evicted since:
# cachestat counts both, and a page nobody read is neither. Where cachestat
# cannot tell, or shadow entries from before would hide a page nobody read,
# only resident pages count.
loaded_since() {
  after=$(page_cache f)
  if [ "$1" != "0 0" ] || [ "$after" = unknown ]; then
    resident f
    return
  fi
  cached=${after% *}
  evicted=${after#* }
  [ "$evicted" -eq 0 ] ||
    echo "note: the kernel evicted $evicted loaded pages before the count" >&2
  echo $((cached + evicted))
}

# touch_all TOTAL COMMAND...: run a touch COMMAND (its output goes to out)
# on f, none of whose pages is cached, and check that it loaded all TOTAL
# pages.
touch_all() {
  total=$1
  shift
  before=$(page_cache f)
  "$@" >out || return 1
  loaded=$(loaded_since "$before")
  [ "$loaded" -eq "$total" ] && return 0
  fail "touch loaded $loaded of $total pages"
  return 1
}

test_touch_and_evict() {
  skip_under_wine "evict: Windows cannot drop a file from the page cache" \
    "(test_errors checks that it says so; test_touch_after_drop covers touch)"
  need fincore
  ps=$(getconf PAGESIZE)
  head -c $((5000 * ps + 7)) /dev/urandom >f || return 1
  total=5001
  $MMF evict f >out || return 1
  grep -q "^ *Evicted Pages: $total " out || fail "evict summary: $(cat out)"
  [ "$(resident f)" -eq 0 ] || fail "evict left $(resident f) pages"
  touch_all $total $MMF touch f || return 1
  grep -q "^ *Touched Pages: $total " out || fail "touch summary: $(cat out)"
  grep -q "^ *Files: 1$" out || fail "touch summary: $(cat out)"
  $MMF evict -q f >out || return 1
  [ ! -s out ] || fail "-q printed: $(cat out)"
  [ "$(resident f)" -eq 0 ] || fail "evict left $(resident f) pages"
  # Windows smaller than the file.
  touch_all $total env MMF_CLI_WINDOW=4M $MMF touch -q f
}

test_touch_after_drop() {
  need fincore
  ps=$(getconf PAGESIZE)
  head -c $((3000 * ps + 5)) /dev/urandom >f || return 1
  total=3001
  drop_cache f
  touch_all $total $MMF touch f || return 1
  grep -q "^ *Touched Pages: $total " out || fail "touch summary: $(cat out)"
  grep -q "^ *Files: 1$" out || fail "touch summary: $(cat out)"
  drop_cache f
  touch_all $total env MMF_CLI_WINDOW=4M $MMF touch -q f || return 1
  [ ! -s out ] || fail "-q printed: $(cat out)"
  # The count catches a reader that stops short (one page, and what the
  # kernel reads ahead of it).
  drop_cache f
  before=$(page_cache f)
  dd if=f of=/dev/null bs="$ps" count=1 2>/dev/null
  [ "$(loaded_since "$before")" -lt $total ] ||
    fail "reading 1 of $total pages counts as loading them all"
}

test_evict_dirty_pages() {
  skip_under_wine "evict: Windows cannot drop a file from the page cache"
  need fincore
  # Freshly written pages are dirty; evict writes them back first.
  head -c 4000000 /dev/urandom >f || return 1
  $MMF evict -q f || return 1
  [ "$(resident f)" -eq 0 ] || fail "dirty pages stayed: $(resident f)"
}

test_no_progress_bar_off_terminal() {
  head -c $((80 << 20)) /dev/zero >f || return 1
  $MMF touch f >out 2>err || return 1
  [ ! -s err ] || fail "stderr not empty off a terminal: $(od -c err | head)"
  MMF_CLI_PROGRESS=always $MMF touch f >out 2>err || return 1
  grep -q "100%" err || fail "forced bar: $(od -c err | head)"
}

test_progress_bar_on_terminal() {
  need script
  head -c $((80 << 20)) /dev/zero >f || return 1
  script -qec "$MMF touch f" /dev/null >typescript 2>&1 ||
    skip "script cannot run a terminal here"
  grep -q "%" typescript || fail "no progress bar on a terminal"
}

# lock_f: start `mmf lock f` in the background (pid in $pid) and wait for
# its summary; skips the case if the lock limit is too low.
lock_f() {
  $MMF lock f >out 2>err &
  pid=$!
  BG_PIDS="$BG_PIDS $pid"
  if ! wait_for_file out "Locked Pages" 100; then
    cat err >&2
    grep -q "cannot lock" err && skip "RLIMIT_MEMLOCK too low here"
    return 1
  fi
}

test_lock_until_signal() {
  need fincore
  head -c 3000000 /dev/urandom >f || return 1
  drop_cache f
  lock_f || return 1
  pages=$(( (3000000 + $(getconf PAGESIZE) - 1) / $(getconf PAGESIZE) ))
  [ "$(resident f)" -eq $pages ] || fail "locked but $(resident f) resident"
  # Under Wine, SIGINT reaches the program as a Ctrl-C event.
  kill -INT "$pid"
  wait "$pid"
  rc=$?
  [ "$rc" -eq 0 ] || fail "lock exited $rc after SIGINT"
}

test_lock_survives_evict() {
  skip_under_wine "evict: Windows cannot drop a file from the page cache" \
    "(nor does Wine's VirtualLock lock anything)"
  need fincore
  head -c 3000000 /dev/urandom >f || return 1
  $MMF evict -q f
  lock_f || return 1
  pages=$(( (3000000 + $(getconf PAGESIZE) - 1) / $(getconf PAGESIZE) ))
  [ "$(resident f)" -eq $pages ] || fail "locked but $(resident f) resident"
  # Locked pages survive eviction.
  $MMF evict f >ev || return 1
  [ "$(resident f)" -eq $pages ] || fail "evict dropped locked pages"
  grep -q "Still Resident: $pages" ev || fail "evict summary: $(cat ev)"
  kill -INT "$pid"
  wait "$pid"
  rc=$?
  [ "$rc" -eq 0 ] || fail "lock exited $rc after SIGINT"
  $MMF evict -q f
  [ "$(resident f)" -eq 0 ] || fail "still resident after unlock"
}

test_lock_over_limit() {
  skip_under_wine "ulimit -l does not bound VirtualLock (the minimum" \
    "working set does, which mmf lock raises), and Wine's VirtualLock" \
    "neither locks nor refuses"
  [ -z "${MMF_CLI_SANITIZED:-}" ] ||
    skip "AddressSanitizer makes mlock a no-op that always succeeds"
  [ "$(id -u)" -ne 0 ] || {
    # root ignores RLIMIT_MEMLOCK for mlock; drop to nobody if possible.
    command -v setpriv >/dev/null 2>&1 || skip "root and no setpriv"
  }
  head -c $((8 << 20)) /dev/zero >f || return 1
  chmod 644 f
  if [ "$(id -u)" -eq 0 ]; then
    # nobody must reach the tool and the file: the build tree may sit in a
    # directory only root can enter (a mktemp -d clone), so stage both in
    # a world-readable scratch directory under /tmp (the runner points
    # TMPDIR into the build tree).
    pub=$(mktemp -d /tmp/mmf-lock.XXXXXX) || return 1
    chmod 755 "$pub" && cp "$MMF" "$pub/mmf" && mv f "$pub/f" || return 1
    # An emulator's wrapper still points into the build tree.
    (skip_unless_runs_as_nobody "$pub/mmf") || { rm -rf "$pub"; exit 77; }
    cmd="setpriv --reuid=65534 --regid=65534 --clear-groups sh -c \
'ulimit -l 64; exec $pub/mmf lock $pub/f'"
  else
    pub=
    cmd="ulimit -l 64; exec $MMF lock f"
  fi
  expect_error 2 "cannot lock 8M in memory: .*RLIMIT_MEMLOCK is 64K" \
    timeout 20 sh -c "$cmd"
  rc=$?
  [ -z "$pub" ] || rm -rf "$pub"
  return $rc
}

test_errors() {
  mkdir dir
  mkfifo fifo
  for c in touch evict lock; do
    expect_error 2 "dir: is a directory" $MMF $c dir || return 1
    expect_error 2 "fifo: not a regular file" timeout 10 $MMF $c fifo ||
      return 1
    expect_error 2 "missing: No such file" $MMF $c missing || return 1
    expect_error 2 "missing FILE" $MMF $c || return 1
  done
  # Empty and /proc files: nothing to do, no error.
  : >empty
  expect_rc 0 $MMF touch empty /proc/version || return 1
  grep -q "Files: 2" rc.out || fail "touch: $(cat rc.out)"
  if on_wine; then
    # Windows has no per-file way to drop cached pages: each file is an
    # error, and nothing is printed on stdout.
    expect_error 2 "empty: cannot drop it from the page cache: \
Operation not supported" $MMF evict empty || return 1
    [ "$(grep -c "not supported" rc.err)" -eq 1 ] || fail "$(cat rc.err)"
    printf x >f
    expect_error 2 "f: cannot drop it from the page cache" \
      $MMF evict empty f || return 1
    [ "$(grep -c "not supported" rc.err)" -eq 2 ] || fail "$(cat rc.err)"
    [ ! -s rc.out ] || fail "evict printed: $(cat rc.out)"
  else
    expect_rc 0 $MMF evict empty || return 1
  fi
}

test_truncated_while_touching() {
  head -c 40000000 /dev/zero >f || return 1
  cut_while_mapped f $MMF touch f || return 1
  [ "$rc" -eq 2 ] || { cat err >&2; fail "exit $rc, expected 2"; return 1; }
  grep -q "^mmf: f: file was truncated" err || fail "message: $(cat err)"
}

test_lock_ten_thousand_files() {
  # mmf lock keeps a map, and so a descriptor, per file: it raises its
  # soft RLIMIT_NOFILE to the hard limit to hold 10,000. Negative control:
  # with the hard limit at 1,024 it fails with "Too many open files".
  skip_under_wine "Wine's VirtualLock locks nothing, and Windows has no" \
    "descriptor limit to raise"
  [ "$(ulimit -Hn)" = unlimited ] || [ "$(ulimit -Hn)" -ge 10100 ] ||
    skip "the hard RLIMIT_NOFILE is $(ulimit -Hn), below 10,100"
  if [ "$(id -u)" -ne 0 ] && [ "$(ulimit -l)" != unlimited ] &&
    [ "$(ulimit -l)" -lt 50000 ]; then
    skip "RLIMIT_MEMLOCK too low to lock 10,000 pages"
  fi
  mkdir many || return 1
  i=0
  while [ $i -lt 10000 ]; do
    printf 'x' >many/$i
    i=$((i + 1))
  done
  cd many || return 1
  # shellcheck disable=SC2046
  set -- $(ls)
  sh -c 'ulimit -Sn 1024; exec "$@"' sh $MMF lock "$@" >../out 2>../err &
  pid=$!
  BG_PIDS="$BG_PIDS $pid"
  cd .. || return 1
  if ! wait_for_file out "Locked Pages" 600; then
    cat err >&2
    grep -q "cannot lock" err && skip "RLIMIT_MEMLOCK too low here"
    return 1
  fi
  grep -q "Files: 10000" out || fail "summary: $(cat out)" || return 1
  kill -INT "$pid"
  wait "$pid" || fail "lock exited $? after SIGINT" || return 1
  # The control: no room above 1,024 descriptors.
  (
    cd many || exit 1
    ulimit -n 1024
    exec $MMF lock "$@"
  ) >out 2>err &
  pid=$!
  BG_PIDS="$BG_PIDS $pid"
  wait "$pid"
  rc=$?
  [ "$rc" -eq 2 ] || fail "control: exit $rc, expected 2" || return 1
  grep -q "Too many open files" err || fail "control: $(head -3 err)"
}
