#!/bin/sh
# init.sh - /init of the power-loss harness's virtual machine (busybox sh).
# Loads the virtio block driver, mounts the test disk and runs the writer,
# whose acknowledgements go to the serial console, until the host kills
# the machine. Kernel command line: mmf.level=sync|async.
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sys /sys
/bin/busybox mount -t devtmpfs dev /dev
# Which of these needs which changes between kernel versions (6.1.0-57's
# virtio needs virtio_ring's symbols, older ones the other way round):
# three passes load them in any order of dependence.
for pass in 1 2 3; do
  for m in virtio virtio_ring virtio_pci_modern_dev virtio_pci_legacy_dev \
    virtio_pci virtio_blk; do
    /bin/busybox insmod "/modules/$m.ko" 2>/dev/null
  done
done
level=sync
for arg in $(/bin/busybox cat /proc/cmdline); do
  case $arg in mmf.level=*) level=${arg#mmf.level=} ;; esac
done
n=0
while [ ! -b /dev/vda ] && [ $n -lt 100 ]; do
  /bin/busybox sleep 0.05
  n=$((n + 1))
done
/bin/busybox mkdir -p /mnt
if ! /bin/busybox mount -t ext4 /dev/vda /mnt; then
  echo "GUEST-ERROR cannot mount /dev/vda"
  /bin/busybox poweroff -f
fi
echo "GUEST-READY $level"
/crash_guest write /mnt/log "$level"
echo "GUEST-ERROR the writer stopped"
/bin/busybox poweroff -f
