/*
 * sys_posix.c - the real system calls behind mmf__sys.
 *
 * Each entry is a thin wrapper with the table's exact signature, so a test
 * can swap one for a failing version and restore it from mmf__sys_real.
 */
#define _GNU_SOURCE
#include "os/posix/sys_posix.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <unistd.h>
#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#endif

static int sys_open(const char *path, int flags, mode_t mode) {
  return open(path, flags, mode);
}

static int sys_dupfd(int fd) { return fcntl(fd, F_DUPFD_CLOEXEC, 0); }

static int sys_getfl(int fd) { return fcntl(fd, F_GETFL); }

/* posix_fallocate returns the error instead of setting errno. */
static int sys_fallocate(int fd, off_t off, off_t len) {
  return posix_fallocate(fd, off, len);
}

#if defined(__linux__)
static void *sys_mremap(void *old, size_t old_len, size_t new_len, int flags,
                        void *new_addr) {
  return mremap(old, old_len, new_len, flags, new_addr);
}
#define MMF__MREMAP sys_mremap
#else
#define MMF__MREMAP NULL
#endif

static int sys_mincore(void *addr, size_t len, unsigned char *vec) {
#if defined(__APPLE__) || defined(__FreeBSD__)
  return mincore(addr, len, (char *)vec);
#else
  return mincore(addr, len, vec);
#endif
}

static int sys_getrlimit(int resource, struct rlimit *rl) {
  return getrlimit(resource, rl);
}

static int sys_fs_type(int fd, long *type) {
#if defined(__linux__)
  struct statfs st;
  if (fstatfs(fd, &st) != 0)
    return -1;
  *type = (long)st.f_type;
  return 0;
#else
  (void)fd;
  *type = 0;
  errno = ENOSYS;
  return -1;
#endif
}

#if defined(__linux__)
/* A 32-bit process built with a 64-bit time_t must use the time64 call,
 * which reads the timespec it was given. */
static long futex_call(uint32_t *addr, int op, uint32_t val,
                       const struct timespec *ts, uint32_t val3) {
#if defined(SYS_futex_time64)
  if (sizeof ts->tv_sec > sizeof(long))
    return syscall(SYS_futex_time64, addr, op, val, ts, NULL, val3);
#endif
  return syscall(SYS_futex, addr, op, val, ts, NULL, val3);
}

/* No FUTEX_PRIVATE_FLAG: the word is shared with other processes, and
 * the kernel keys it on the file (or shared memory) and offset behind the
 * address. WAIT_BITSET takes an absolute CLOCK_MONOTONIC deadline, so a
 * wait interrupted by a signal resumes with the same deadline. */
static int sys_futex_wait(uint32_t *addr, uint32_t val,
                          const struct timespec *deadline) {
  return (int)futex_call(addr, FUTEX_WAIT_BITSET, val, deadline,
                         FUTEX_BITSET_MATCH_ANY);
}

static int sys_futex_wake(uint32_t *addr, int count) {
  return (int)futex_call(addr, FUTEX_WAKE, (uint32_t)count, NULL, 0);
}
#define MMF__FUTEX_WAIT sys_futex_wait
#define MMF__FUTEX_WAKE sys_futex_wake
#else
#define MMF__FUTEX_WAIT NULL
#define MMF__FUTEX_WAKE NULL
#endif

#if defined(F_OFD_SETLK)
static int sys_fcntl_lock(int fd, int cmd, struct flock *fl) {
  return fcntl(fd, cmd, fl);
}
#define MMF__FCNTL_LOCK sys_fcntl_lock
#else
#define MMF__FCNTL_LOCK NULL
#endif

static pid_t sys_gettid(void) {
#if defined(__linux__)
  return (pid_t)syscall(SYS_gettid);
#else
  return 0;
#endif
}

/* Both tables start from the same list: the live one is what tests
 * change, the real one what they restore. */
#define MMF__SYS_REAL_ENTRIES                                                  \
  {                                                                            \
    sys_open, close, fstat, sys_dupfd, sys_getfl, read, pread, ftruncate,      \
        sys_fallocate, fsync, fstatvfs, mmap, munmap, MMF__MREMAP, msync,      \
        madvise, mprotect, sys_mincore, mlock, munlock, sys_getrlimit, lseek,  \
        unlink, sys_fs_type, MMF__FUTEX_WAIT, MMF__FUTEX_WAKE, clock_gettime,  \
        nanosleep, sys_gettid, getpid, kill, MMF__FCNTL_LOCK, flock, shm_open, \
        shm_unlink                                                             \
  }

const mmf__syscalls mmf__sys_real = MMF__SYS_REAL_ENTRIES;

mmf__syscalls mmf__sys = MMF__SYS_REAL_ENTRIES;
