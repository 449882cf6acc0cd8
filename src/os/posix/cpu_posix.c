/*
 * cpu_posix.c - what the CPU runs, where only the OS can tell.
 *
 * ARM cores do not let a program read their feature registers (the
 * kernel traps and emulates the reads on Linux, not everywhere), so the
 * answer comes from the kernel: Linux hands each process its CPU features
 * in the auxiliary vector (AT_HWCAP), read through the call table so tests
 * can say "no CRC32".
 */
#define _GNU_SOURCE
#include "os/os.h"
#include "os/posix/sys_posix.h"

#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
/* The Linux arm64 ABI's bit (asm/hwcap.h), for C libraries whose headers
 * leave it out. */
#ifndef HWCAP_CRC32
#define HWCAP_CRC32 (1ul << 7)
#endif
#endif

int mmf__os_cpu_arm_crc32(void) {
#if defined(__aarch64__) && defined(__linux__)
  return mmf__sys.hwcap && (mmf__sys.hwcap() & HWCAP_CRC32) != 0;
#elif defined(__aarch64__) && defined(__APPLE__)
  /* Every Apple arm64 CPU implements ARMv8.4 or later, where the CRC32
   * instructions are mandatory. */
  return 1;
#else
  /* Other CPUs, and ARM systems whose way of telling is not wired here:
   * the table version. */
  return 0;
#endif
}
