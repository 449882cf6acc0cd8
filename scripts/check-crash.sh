#!/bin/sh
# Power-loss harness of the log: a virtual machine writes a log on a virtio
# disk and acknowledges each commit on its serial console; the host kills
# the machine with kill -9 after a random number of acknowledgements
# (everything in the guest's page cache is lost, as in a power cut), then
# checks the disk image: every acknowledged record must be there, whole.
#
# Usage: scripts/check-crash.sh [--skip-ok]
#   --skip-ok  exit 0 instead of 77 when something needed is missing
#
# Environment:
#   MMF_CRASH_BUILD  build directory (default: build-crash)
#   MMF_CRASH_RUNS   rounds with SYNC commits (default 20; at least 20)
#   MMF_CRASH_CONTROL rounds of the negative control (default 4)
#   MMF_CRASH_KERNEL a vmlinuz to use instead of downloading one; then
#                    MMF_CRASH_MODULES names the directory of its
#                    kernel/drivers tree (virtio modules), if not built in
#   JOBS             parallel jobs for the build (default 2)
#
# How:
#  - The guest is a Debian cloud kernel, fetched once with
#    `apt-get download` and unpacked with `dpkg -x` into the build
#    directory (its virtio drivers are modules: init loads them), and an
#    initramfs of busybox (static), those modules, tests/crash/init.sh and
#    tests/crash/crash_guest.c linked statically against the library.
#  - Each round starts from a freshly formatted 64 MiB ext4 image, boots
#    qemu-system-x86_64 (KVM when /dev/kvm really runs a guest, else TCG)
#    with the image as a virtio disk,
#    cache=writeback (the guest sees a volatile write cache and must
#    flush), and the serial console in a file the host watches.
#  - After a random number of acknowledgements (1 to 400), and a random
#    pause of 0 to 40 ms, the host kills qemu with kill -9. Writes the
#    guest had not handed to the disk die with it.
#  - The host replays the ext4 journal with e2fsck (what mounting after a
#    reboot does), copies the log out with debugfs, and runs crash_guest
#    check over it with the host build: the writer's recovery, then every
#    record read and compared. Reading the image on the host instead of
#    booting again halves the time per round and needs no loop device or
#    mount privileges.
#  - The negative control commits with MMF_FLUSH_ASYNC and acknowledges the
#    same way: it must lose acknowledged records, which shows the check can
#    fail.
set -eu

skip_code=77
for arg in "$@"; do
  case $arg in
  --skip-ok) skip_code=0 ;;
  *)
    echo "usage: $0 [--skip-ok]" >&2
    exit 2
    ;;
  esac
done

cd "$(dirname "$0")/.."
root=$(pwd)
build=${MMF_CRASH_BUILD:-build-crash}
case $build in /*) ;; *) build=$root/$build ;; esac
runs=${MMF_CRASH_RUNS:-20}
control=${MMF_CRASH_CONTROL:-4}
jobs=${JOBS:-2}

skip() {
  echo "check-crash skipped: $1"
  exit "$skip_code"
}

[ "$(uname -s)" = Linux ] || skip "needs a Linux host"
[ "$(uname -m)" = x86_64 ] || skip "needs an x86-64 host"
for t in qemu-system-x86_64 busybox mkfs.ext4 e2fsck debugfs gzip cmake; do
  command -v "$t" >/dev/null 2>&1 || skip "$t not found (apt-get install \
qemu-system-x86 busybox-static e2fsprogs)"
done
file -L "$(command -v busybox)" 2>/dev/null | grep -q 'statically linked' ||
  skip "busybox is not statically linked (apt-get install busybox-static)"

mkdir -p "$build"
work=$build/crash-work
rm -rf "$work"
mkdir -p "$work"

# ---- The kernel --------------------------------------------------------------
kdir=$build/kernel
if [ -n "${MMF_CRASH_KERNEL:-}" ]; then
  vmlinuz=$MMF_CRASH_KERNEL
  moddir=${MMF_CRASH_MODULES:-}
else
  vmlinuz=$(ls "$kdir"/x/boot/vmlinuz-* 2>/dev/null | head -n 1 || true)
  if [ -z "$vmlinuz" ]; then
    command -v apt-get >/dev/null 2>&1 || skip "no apt-get to fetch a kernel"
    pkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null |
      sed -n 's/^ *Depends: \(linux-image-[0-9].*\)$/\1/p' | head -n 1)
    [ -n "$pkg" ] || skip "apt-cache knows no linux-image-cloud-amd64 \
(run apt-get update)"
    echo "check-crash: fetching $pkg"
    mkdir -p "$kdir"
    (cd "$kdir" && apt-get download "$pkg" >/dev/null 2>&1) ||
      skip "apt-get download $pkg failed"
    dpkg -x "$kdir"/linux-image-*.deb "$kdir/x"
    rm -f "$kdir"/linux-image-*.deb
    vmlinuz=$(ls "$kdir"/x/boot/vmlinuz-* | head -n 1)
  fi
  moddir=$(ls -d "$kdir"/x/lib/modules/*/kernel 2>/dev/null | head -n 1)
fi
[ -r "$vmlinuz" ] || skip "no kernel at $vmlinuz"

# ---- The programs ------------------------------------------------------------
echo "check-crash: building the library and crash_guest (static)"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DMMF_WERROR=ON \
  -DMMF_BUILD_TESTS=OFF -DMMF_BUILD_EXAMPLES=OFF >/dev/null
cmake --build "$build" -j"$jobs" --target mmf_static >/dev/null
cc=${CC:-cc}
"$cc" -O2 -static -I"$root/include" -o "$build/crash_guest" \
  "$root/tests/crash/crash_guest.c" "$build/libmmf.a" -lpthread ||
  skip "cannot link a static program (libc static archive missing?)"

# ---- The initramfs -----------------------------------------------------------
ird=$work/initramfs
mkdir -p "$ird/bin" "$ird/modules" "$ird/proc" "$ird/sys" "$ird/dev" "$ird/mnt"
cp "$(command -v busybox)" "$ird/bin/busybox"
ln -s busybox "$ird/bin/sh"
cp "$build/crash_guest" "$ird/crash_guest"
cp "$root/tests/crash/init.sh" "$ird/init"
chmod +x "$ird/init"
if [ -n "$moddir" ]; then
  for m in drivers/virtio/virtio drivers/virtio/virtio_ring \
    drivers/virtio/virtio_pci_modern_dev drivers/virtio/virtio_pci_legacy_dev \
    drivers/virtio/virtio_pci drivers/block/virtio_blk; do
    for ext in .ko .ko.xz .ko.zst; do
      [ -f "$moddir/$m$ext" ] || continue
      case $ext in
      .ko) cp "$moddir/$m$ext" "$ird/modules/" ;;
      .ko.xz) xz -dc "$moddir/$m$ext" >"$ird/modules/$(basename "$m").ko" ;;
      .ko.zst) zstd -qdc "$moddir/$m$ext" >"$ird/modules/$(basename "$m").ko" ;;
      esac
    done
  done
fi
(cd "$ird" && find . | busybox cpio -o -H newc 2>/dev/null | gzip -1) >"$work/initrd.gz"

# ---- One round ---------------------------------------------------------------
# Kernel options that shorten an emulated boot: no speculation-bug
# patching, no clock calibration or watchdogs, PCI interrupts without ACPI
# tables.
kargs="console=ttyS0 quiet panic=-1 mitigations=off tsc=reliable \
no_timer_check lpj=4600000 nowatchdog pci=noacpi"

# KVM when /dev/kvm exists and really runs a guest (nested virtualisation
# may offer the device and never run a guest): the kernel must print
# something within 5 s.
accel=tcg,thread=single
if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
  probe=$work/kvm-probe.log
  : >"$probe"
  qemu-system-x86_64 -accel kvm -cpu host -m 256 -nodefaults -display none \
    -no-reboot -kernel "$vmlinuz" -append "console=ttyS0 panic=-1" \
    -serial "file:$probe" >/dev/null 2>&1 &
  ppid=$!
  n=0
  while [ ! -s "$probe" ] && [ "$n" -lt 50 ]; do
    sleep 0.1
    n=$((n + 1))
  done
  kill -9 "$ppid" 2>/dev/null || true
  wait "$ppid" 2>/dev/null || true
  [ -s "$probe" ] && accel=kvm
fi
cpu=max
[ "$accel" = kvm ] && cpu=host
image=$work/disk.img
template=$work/template.img
truncate -s 64M "$template"
mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 "$template"

rand() { # rand N: 0..N-1
  od -An -N4 -tu4 /dev/urandom | awk -v n="$1" '{ print $1 % n }'
}

# round LEVEL: prints "acked LAST lost L wrong W records N"; returns 0
# when the round ran (whatever it found), 1 when it could not run.
round() {
  level=$1
  cp "$template" "$image"
  serial=$work/serial.log
  : >"$serial"
  target=$(($(rand 400) + 1))
  qemu-system-x86_64 -accel "$accel" -cpu "$cpu" -m 256 -smp 1 -nodefaults \
    -display none -no-reboot \
    -kernel "$vmlinuz" -initrd "$work/initrd.gz" \
    -append "$kargs mmf.level=$level" \
    -serial "file:$serial" \
    -drive "file=$image,format=raw,if=virtio,cache=writeback" &
  qpid=$!
  t=0
  while :; do
    acks=$(grep -c '^ACK ' "$serial" 2>/dev/null || true)
    [ "$acks" -ge "$target" ] && break
    if grep -q 'GUEST-ERROR' "$serial" || ! kill -0 "$qpid" 2>/dev/null; then
      kill -9 "$qpid" 2>/dev/null || true
      wait "$qpid" 2>/dev/null || true
      echo "check-crash: the guest failed:" >&2
      tail -n 20 "$serial" >&2
      return 1
    fi
    t=$((t + 1))
    if [ "$t" -gt 2400 ]; then # 120 s: an emulated boot on a busy host
      kill -9 "$qpid" 2>/dev/null || true
      wait "$qpid" 2>/dev/null || true
      echo "check-crash: no acknowledgements within 120 s" >&2
      tail -n 20 "$serial" >&2
      return 1
    fi
    sleep 0.05
  done
  sleep "0.0$(rand 4)$(rand 10)"
  kill -9 "$qpid"
  wait "$qpid" 2>/dev/null || true
  # The last complete acknowledgement line the guest printed.
  # The console ends lines with CR LF; a line cut by the kill has no
  # end and does not count.
  cr=$(printf '\r')
  last=$(grep -a "^ACK [0-9][0-9]*$cr\$" "$serial" | tail -n 1 |
    tr -d '\r' | cut -d' ' -f2)
  [ -n "$last" ] || last=-1
  # Replay the journal as a reboot would, then copy the log out.
  e2fsck -fy "$image" >/dev/null 2>&1 || true
  out=$work/log-out
  rm -rf "$out"
  mkdir -p "$out"
  debugfs -R "rdump /log $out" "$image" >/dev/null 2>&1 || true
  if [ ! -d "$out/log" ]; then
    echo "acked $last lost $((last + 1)) wrong 0 records 0 (no log)"
    return 0
  fi
  res=$("$build/crash_guest" check "$out/log" "$last" || true)
  case $res in
  records*) ;;
  *)
    echo "check-crash: check failed: $res" >&2
    return 1
    ;;
  esac
  echo "acked $last $(echo "$res" | awk '{ print "lost", $6, "wrong", $4, "records", $2 }')"
}

echo "check-crash: $runs rounds with SYNC commits, $control with ASYNC" \
  "(negative control); qemu accel=$accel, kernel $(basename "$vmlinuz")"
start=$(date +%s)
# series LEVEL ROUNDS: run the rounds; sets acked, lost and wrong (totals).
series() {
  acked=0
  lost=0
  wrong=0
  i=0
  while [ "$i" -lt "$2" ]; do
    i=$((i + 1))
    r=$(round "$1") || {
      echo "check-crash: FAILED ($1 round $i did not run)"
      exit 1
    }
    echo "check-crash: $1 round $i: $r"
    # shellcheck disable=SC2086
    set -- "$1" "$2" $r
    acked=$((acked + $4 + 1))
    lost=$((lost + $6))
    wrong=$((wrong + $8))
  done
}
series sync "$runs"
sync_acked=$acked
sync_lost=$lost
sync_wrong=$wrong
series async "$control"
ctl_lost=$lost
ctl_wrong=$wrong
secs=$(($(date +%s) - start))
echo "check-crash: SYNC: $runs rounds, $sync_acked acknowledged, $sync_lost" \
  "acknowledged but lost, $sync_wrong wrong records"
echo "check-crash: ASYNC control: $control rounds, $ctl_lost acknowledged" \
  "but lost, $ctl_wrong wrong records"
echo "check-crash: $secs s"
status=0
if [ "$sync_lost" -ne 0 ] || [ "$sync_wrong" -ne 0 ] || [ "$ctl_wrong" -ne 0 ]; then
  echo "check-crash: FAILED: records lost or wrong"
  status=1
fi
if [ "$control" -gt 0 ] && [ "$ctl_lost" -eq 0 ]; then
  echo "check-crash: FAILED: the negative control lost nothing, so the" \
    "harness cannot tell a loss"
  status=1
fi
[ "$status" -eq 0 ] && echo "check-crash: passed"
exit "$status"
