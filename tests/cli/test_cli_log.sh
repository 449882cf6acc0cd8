# test_cli_log.sh - `mmf log`: append, cat, tail (-f), check, info.

test_log_lines_round_trip() {
  make_shapes
  for f in random.txt crlf newlines newline; do
    [ -f "$f" ] || continue
    rm -rf "log-$f"
    $MMF log append "log-$f" <"$f" || { fail "append $f"; return 1; }
    same_output "cat $f" "\$MMF log cat log-$f" || return 1
  done
  # A last line without its newline becomes a record all the same.
  printf 'a\nb' | $MMF log append -l async nonl.log || return 1
  same_output "printf 'a\\nb\\n'" "\$MMF log cat nonl.log" || return 1
}

test_log_appends_continue() {
  seq 1 1000 | $MMF log append -b 7 -l full -S 64K l || return 1
  seq 1001 5000 | $MMF log append -b 100 l || return 1
  same_output "seq 1 5000" "\$MMF log cat l" || return 1
  same_output "seq 1 5000 | tail -n 10" "\$MMF log tail l" || return 1
  same_output "seq 1 5000 | tail -n 3" "\$MMF log tail -n 3 l" || return 1
  same_output "seq 1 5000 | tail -n +4001" "\$MMF log cat -s 4000 l" ||
    return 1
  same_output "seq 1 5000 | awk '{ printf \"%d\\t%s\\n\", NR - 1, \$0 }'" \
    "\$MMF log cat -N l" || return 1
  same_output "seq 1 5000 | tr '\\n' '\\000'" "\$MMF log cat -z l" || return 1
  $MMF log info l >info.out || return 1
  grep -q '^records: *5000$' info.out || { cat info.out; fail "records"; }
  grep -q '^segment size: *65536$' info.out || { cat info.out; fail "size"; }
  grep -q '^last record: *4999$' info.out || { cat info.out; fail "last"; }
  segs=$(sed -n 's/^segments: *//p' info.out)
  [ "$segs" -ge 2 ] || fail "one segment for 5000 records of 64 KiB"
}

test_log_check_finds_damage() {
  # expect_rc shows the append's stderr if it fails (it failed once under
  # Wine with no message at all).
  seq 1 3000 | expect_rc 0 $MMF log append -S 64K l || return 1
  expect_rc 0 $MMF log check l || return 1
  grep -q '3000 records (0 to 2999)' rc.out || { cat rc.out; fail "check"; }
  # Flip a byte inside the payload of the first frames of segment 0.
  printf 'X' | dd of=l/0000000000000000.seg bs=1 seek=4200 conv=notrunc \
    2>/dev/null
  expect_error 2 "fails its checks" $MMF log check l || return 1
  # cat stops in front of the bad record, having written only good ones.
  expect_rc 2 $MMF log cat l || return 1
  seq 1 3000 | head -n "$(wc -l <rc.out)" | cmp -s - rc.out ||
    fail "cat wrote something else than the records before the damage"
}

# Followers never outlive their case, however it ends: a failed check, an
# early return (run.sh's cleanup_background kills them) or a signal from a
# test timeout (the traps); each is killed and then reaped, so none is left
# running in a directory that is about to be removed.
FOLLOWERS=""
stop_followers() {
  for p in $FOLLOWERS; do
    kill "$p" 2>/dev/null
    wait "$p" 2>/dev/null
  done
  FOLLOWERS=""
}

# follow DIR OUT ERR: `mmf log tail -f -n 1 DIR` in the background, its pid
# in FOLLOWER.
follow() {
  trap stop_followers EXIT
  trap 'stop_followers; exit 143' HUP INT TERM
  $MMF log tail -f -n 1 "$1" >"$2" 2>"$3" &
  FOLLOWER=$!
  FOLLOWERS="$FOLLOWERS $FOLLOWER"
  BG_PIDS="$BG_PIDS $FOLLOWER"
}

test_log_tail_follows() {
  skip_under_wine "a background follower started from the host"
  printf 'first\n' | $MMF log append l || return 1
  follow l follow.out follow.err
  wait_for_file follow.out '^first$' || return 1
  seq 1 500 | $MMF log append -b 3 -l async l || return 1
  wait_for_file follow.out '^500$' || return 1
  stop_followers
  { echo first; seq 1 500; } | cmp -s - follow.out ||
    fail "tail -f wrote something else"
}

test_log_tail_ends_when_its_log_is_removed() {
  skip_under_wine "background followers started from the host"
  printf 'first\n' | $MMF log append gone || return 1
  printf 'first\n' | $MMF log append kept || return 1
  follow kept kept.out kept.err
  kept=$FOLLOWER
  follow gone gone.out gone.err
  gone=$FOLLOWER
  wait_for_file kept.out '^first$' || return 1
  wait_for_file gone.out '^first$' || return 1
  rm -rf gone
  # The follower checks once a second that its log is there: five seconds
  # are plenty.
  n=50
  while [ "$n" -gt 0 ] && kill -0 "$gone" 2>/dev/null; do
    sleep 0.1
    n=$((n - 1))
  done
  if kill -0 "$gone" 2>/dev/null; then
    fail "tail -f still runs 5 s after its log was removed"
    return 1
  fi
  wait "$gone"
  rc=$?
  [ "$rc" -eq 2 ] || fail "tail -f of a removed log ended with status $rc"
  grep -q 'gone: No such file or directory' gone.err ||
    { cat gone.err >&2; fail "no error naming the removed log"; }
  # The control: the follower of the log still there still follows.
  kill -0 "$kept" 2>/dev/null || fail "tail -f of a log still there ended"
  printf 'second\n' | $MMF log append kept || return 1
  wait_for_file kept.out '^second$' || return 1
  stop_followers
}

test_log_errors() {
  expect_error 2 "missing: No such file or directory" $MMF log cat missing ||
    return 1
  expect_error 2 "missing what to do" $MMF log || return 1
  expect_error 2 "unknown 'frobnicate'" $MMF log frobnicate l || return 1
  expect_error 2 "needs exactly one DIR" $MMF log cat || return 1
  expect_error 2 "invalid level 'fast'" $MMF log append -l fast l ||
    return 1
  expect_error 2 "invalid batch '0'" $MMF log append -b 0 l || return 1
  printf x >file
  expect_error 2 "file: Not a directory" $MMF log append file </dev/null ||
    return 1
  printf 'a\n' | $MMF log append l || return 1
  expect_error 2 "invalid argument" $MMF log append -S 1000 m \
    </dev/null || return 1
  $MMF log --help | grep -q '^Usage: mmf log append' || fail "help"
}
