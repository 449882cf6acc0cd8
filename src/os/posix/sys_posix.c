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
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
/* The futex operations, from the kernel's ABI (<linux/futex.h>, which
 * musl's toolchain does not see). */
#ifndef FUTEX_WAKE
#define FUTEX_WAKE 1
#endif
#ifndef FUTEX_WAIT_BITSET
#define FUTEX_WAIT_BITSET 9
#endif
#ifndef FUTEX_BITSET_MATCH_ANY
#define FUTEX_BITSET_MATCH_ANY 0xffffffffu
#endif
#endif

static int sys_open(const char *path, int flags, mode_t mode) {
  return open(path, flags, mode);
}

static int sys_dupfd(int fd) { return fcntl(fd, F_DUPFD_CLOEXEC, 0); }

static int sys_getfl(int fd) { return fcntl(fd, F_GETFL); }

#if defined(__APPLE__)
/*
 * macOS has no posix_fallocate. F_PREALLOCATE reserves blocks past the
 * file's allocated end (F_PEOFPOSMODE: its length counts from there), so
 * ask for what [0, off+len) needs beyond the blocks the file has: one
 * contiguous extent if the volume has it, else any. It does not change the
 * file's size; the caller has set that. Returns an errno, like
 * posix_fallocate.
 */
static int sys_fallocate(int fd, off_t off, off_t len) {
  struct stat st;
  fstore_t store;
  off_t have, want = off + len;
  if (fstat(fd, &st) != 0)
    return errno;
  have = (off_t)st.st_blocks * 512;
  if (want <= have)
    return 0;
  memset(&store, 0, sizeof store);
  store.fst_flags = F_ALLOCATECONTIG | F_ALLOCATEALL;
  store.fst_posmode = F_PEOFPOSMODE;
  store.fst_length = want - have;
  if (fcntl(fd, F_PREALLOCATE, &store) == 0)
    return 0;
  store.fst_flags = F_ALLOCATEALL;
  return fcntl(fd, F_PREALLOCATE, &store) == 0 ? 0 : errno;
}
#else
/* posix_fallocate returns the error instead of setting errno. */
static int sys_fallocate(int fd, off_t off, off_t len) {
  return posix_fallocate(fd, off, len);
}
#endif

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

/* macOS has no fdatasync declaration (and its fsync does not reach the
 * drive anyway; F_FULLFSYNC does, see mmf__os_sync_file). */
static int sys_fdatasync(int fd) {
#if defined(__APPLE__)
  return fsync(fd);
#else
  return fdatasync(fd);
#endif
}

/* Open-file-description locks (Linux 3.15+) belong to the open file, so
 * closing another descriptor of the same file in this process does not
 * drop them, as it drops classic fcntl locks. Elsewhere flock(), which has
 * the same ownership on BSD and macOS. */
static int sys_lock_nowait(int fd) {
#if defined(F_OFD_SETLK)
  struct flock fl;
  memset(&fl, 0, sizeof fl);
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  if (fcntl(fd, F_OFD_SETLK, &fl) == 0)
    return 0;
  if (errno != EINVAL)
    return -1;
  /* A kernel older than 3.15: flock, also owned by the open file. */
  return flock(fd, LOCK_EX | LOCK_NB);
#else
  return flock(fd, LOCK_EX | LOCK_NB);
#endif
}

static int sys_mkdir(const char *path, mode_t mode) {
  return mkdir(path, mode);
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

/* shm_open is variadic on macOS: the table's entry has fixed arguments. */
static int sys_shm_open(const char *name, int flags, mode_t mode) {
  return shm_open(name, flags, mode);
}

static pid_t sys_gettid(void) {
#if defined(__linux__)
  return (pid_t)syscall(SYS_gettid);
#else
  return 0;
#endif
}

/* A worker's stack is small: a scan's worker needs a few KiB (its span
 * source), and the default (the stack limit, 8 MiB here) times 64
 * workers is a fair part of a 32-bit address space. */
#define WORKER_STACK ((size_t)256 << 10)

static int sys_thread_create(pthread_t *t, void *(*fn)(void *arg), void *arg) {
  pthread_attr_t attr;
  int e = pthread_attr_init(&attr);
  if (e)
    return e;
  (void)pthread_attr_setstacksize(&attr, WORKER_STACK);
  e = pthread_create(t, &attr, fn, arg);
  pthread_attr_destroy(&attr);
  return e;
}

static int sys_thread_join(pthread_t t) { return pthread_join(t, NULL); }

#if defined(__linux__)
static unsigned long sys_hwcap(void) { return getauxval(AT_HWCAP); }
#define MMF__HWCAP sys_hwcap
#else
#define MMF__HWCAP NULL
#endif

#if defined(__APPLE__) && defined(F_NOCACHE) && defined(F_GETPATH)
static int sys_nocache(int fd) { return fcntl(fd, F_NOCACHE, 1); }
static int sys_fd_path(int fd, char *buf) { return fcntl(fd, F_GETPATH, buf); }
#define MMF__NOCACHE sys_nocache
#define MMF__FD_PATH sys_fd_path
#else
#define MMF__NOCACHE NULL
#define MMF__FD_PATH NULL
#endif

/* Designated, so that a new entry is one line wherever it goes. */
#define MMF__SYS_ENTRIES                                                       \
  {                                                                            \
    .open = sys_open, .close = close, .fstat = fstat,                          \
    .fcntl_dupfd = sys_dupfd, .fcntl_getfl = sys_getfl, .read = read,          \
    .pread = pread, .ftruncate = ftruncate, .fallocate = sys_fallocate,        \
    .fsync = fsync, .fstatvfs = fstatvfs, .mmap = mmap, .munmap = munmap,      \
    .mremap = MMF__MREMAP, .msync = msync, .madvise = madvise,                 \
    .mprotect = mprotect, .mincore = sys_mincore, .mlock = mlock,              \
    .munlock = munlock, .getrlimit = sys_getrlimit, .lseek = lseek,            \
    .unlink = unlink, .fs_type = sys_fs_type, .futex_wait = MMF__FUTEX_WAIT,   \
    .futex_wake = MMF__FUTEX_WAKE, .clock_gettime = clock_gettime,             \
    .nanosleep = nanosleep, .pwrite = pwrite, .fdatasync = sys_fdatasync,      \
    .mkdir = sys_mkdir, .rename = rename, .opendir = opendir,                  \
    .readdir = readdir, .closedir = closedir, .lock_nowait = sys_lock_nowait,  \
    .gettid = sys_gettid, .getpid = getpid, .kill = kill,                      \
    .fcntl_lock = MMF__FCNTL_LOCK, .flock = flock, .shm_open = sys_shm_open,   \
    .shm_unlink = shm_unlink, .thread_create = sys_thread_create,              \
    .thread_join = sys_thread_join, .thread_sigmask = pthread_sigmask,         \
    .hwcap = MMF__HWCAP, .nocache = MMF__NOCACHE, .fd_path = MMF__FD_PATH,     \
  }

const mmf__syscalls mmf__sys_real = MMF__SYS_ENTRIES;

/* A copy, not a reference, so tests can change entries. */
mmf__syscalls mmf__sys = MMF__SYS_ENTRIES;
