# test_cli_share.sh - `mmf shm` (named shared memory) and `mmf locks`
# (who holds which byte ranges, compared with what lslocks reports).

# A region name of this case's own.
shm_name() {
  echo "mmf-cli-$$-$1"
}

test_shm_create_list_info_rm() {
  skip_under_wine "a Windows region ends with its last map (and Windows" \
    "has no list of regions)"
  [ -d /dev/shm ] || skip "no /dev/shm: regions cannot be listed here"
  name=$(shm_name a)
  expect_rc 0 $MMF shm create "$name" 5000 || return 1
  grep -q "^$name: 5000 bytes$" rc.out || fail "create: $(cat rc.out)"
  expect_rc 0 $MMF shm list || return 1
  grep -Eq "^ +5000  $name$" rc.out || fail "list: $(cat rc.out)"
  [ -f "/dev/shm/$name" ] || fail "no /dev/shm/$name"
  expect_rc 0 $MMF shm info "$name" || return 1
  grep -q "^size: *5000 bytes$" rc.out || fail "info: $(cat rc.out)"
  # An existing region is left as it is; -x refuses it.
  expect_rc 0 $MMF shm create "$name" 100 || return 1
  grep -q "^$name: 5000 bytes$" rc.out || fail "re-create: $(cat rc.out)"
  expect_error 2 "$name: File exists" $MMF shm create -x "$name" 100 || return 1
  expect_rc 0 $MMF shm rm "$name" || return 1
  [ ! -e "/dev/shm/$name" ] || fail "/dev/shm/$name still there"
  expect_rc 0 $MMF shm list || return 1
  grep -q " $name$" rc.out && fail "list after rm: $(cat rc.out)"
  expect_error 2 "$name: No such file or directory" $MMF shm info "$name" || return 1
  expect_error 2 "$name: No such file or directory" $MMF shm rm "$name"
}

test_shm_list_in_an_empty_or_mixed_directory() {
  # The list of regions taken from a /dev/shm of the test's own (a tmpfs
  # mounted over it in a mount namespace that goes away with the test):
  # empty, it lists nothing and succeeds; mixed, it lists only regions
  # mmf could open, sorted by name.
  skip_under_wine "Windows has no list of regions"
  [ -d /dev/shm ] || skip "no /dev/shm: regions cannot be listed here"
  [ "$(id -u)" -eq 0 ] || skip "mounting a tmpfs needs root"
  need unshare
  unshare -m sh -c ". '$here/lib.sh'; . '$script'; list_own_shm_dir"
}

list_own_shm_dir() {
  mount -t tmpfs -o size=1m tmpfs /dev/shm 2>/dev/null ||
    skip "mount -t tmpfs over /dev/shm refused here"
  expect_rc 0 $MMF shm list || return 1
  [ ! -s rc.out ] || fail "list of an empty directory: $(cat rc.out)" ||
    return 1
  for name in zeta alpha mid; do
    expect_rc 0 $MMF shm create "$name" 4096 || return 1
  done
  # Not regions mmf_shm_open would open: a directory, a POSIX semaphore,
  # a name with a character outside the region alphabet.
  mkdir /dev/shm/dir && : >/dev/shm/sem.lock && : >'/dev/shm/a b' ||
    return 1
  expect_rc 0 $MMF shm list || return 1
  printf '%12s  %s\n' 4096 alpha 4096 mid 4096 zeta >want
  cmp -s want rc.out || fail "list: $(cat rc.out)"
}

# Windows: a region held by one mmf lives while it holds it.
test_shm_hold() {
  name=$(shm_name hold)
  bg $MMF shm create --hold "$name" 65537 >hold.out 2>hold.err
  wait_for_file hold.out "holding it" || return 1
  expect_rc 0 $MMF shm info "$name" || return 1
  grep -q "^size: *65537 bytes$" rc.out || fail "info: $(cat rc.out)"
  cleanup_background
  wait 2>/dev/null
  on_wine || $MMF shm rm "$name"
}

test_shm_usage() {
  for bad in 'a/b' '.' '..' "$(printf 'caf\303\251')" 'a b'; do
    expect_error 2 "invalid argument" $MMF shm create "$bad" 10 || return 1
    expect_error 2 "invalid argument" $MMF shm info "$bad" || return 1
  done
  expect_error 2 "shm: missing list, create, rm or info" $MMF shm || return 1
  expect_error 2 "shm: unknown action 'frob'" $MMF shm frob || return 1
  expect_error 2 "shm: create takes NAME and SIZE" $MMF shm create x ||
    return 1
  expect_error 2 "shm: a region needs a size above 0" $MMF shm create x 0 ||
    return 1
  expect_error 2 "shm: -x and --hold go with create" $MMF shm -x rm x ||
    return 1
  expect_error 2 "shm: invalid size" $MMF shm create x 12q
}

# A lock held by a process of its own, of each kind, as lslocks (and
# /proc/locks) show it.
hold_locks() {
  need python3
  : >locked
  python3 -c '
import fcntl, os, struct, sys, time
fd = os.open("locked", os.O_RDWR)
fl = lambda t, start, n: struct.pack("hhqqi", t, 0, start, n, 0)
fcntl.fcntl(fd, fcntl.F_OFD_SETLK, fl(fcntl.F_WRLCK, 10, 20))
fd2 = os.open("locked", os.O_RDWR)
fcntl.fcntl(fd2, fcntl.F_OFD_SETLK, fl(fcntl.F_RDLCK, 100, 0))
fd3 = os.open("locked", os.O_RDWR)
fcntl.fcntl(fd3, fcntl.F_SETLK, fl(fcntl.F_WRLCK, 50, 10))
print("held", flush=True)
time.sleep(30)' >holder.out 2>holder.err &
  holder=$!
  BG_PIDS="$BG_PIDS $holder"
  wait_for_file holder.out held
}

test_locks_lists_holders() {
  skip_under_wine "Windows keeps no list of file locks a program can read"
  [ -r /proc/locks ] || skip "no /proc/locks"
  hold_locks || return 1
  expect_rc 0 $MMF locks locked || return 1
  for want in "OFDLCK +WRITE +10 +29" "OFDLCK +READ +100 +EOF" \
    "POSIX +WRITE +50 +59"; do
    grep -Eq "^$holder +python3 +$want$" rc.out ||
      fail "no '$holder python3 $want' in: $(cat rc.out)"
  done
  # The classic lock as lslocks shows it (PID, type, mode, range).
  if command -v lslocks >/dev/null 2>&1; then
    lslocks -n -o PID,TYPE,MODE,START,END -p "$holder" >peer.out 2>/dev/null
    grep -Eq "^ *$holder +POSIX +WRITE +50 +59" peer.out ||
      fail "lslocks shows otherwise: $(cat peer.out)"
  fi
  cleanup_background
  wait 2>/dev/null
  expect_rc 0 $MMF locks locked || return 1
  grep -q "^(no locks)$" rc.out || fail "after the holder ended: $(cat rc.out)"
}

test_locks_usage() {
  expect_error 2 "locks: missing FILE" $MMF locks || return 1
  if on_wine; then
    : >f
    expect_error 2 "no list of file locks" $MMF locks f
    return
  fi
  expect_error 2 "missing-file: [Nn]o such file or directory" \
    $MMF locks missing-file
}
