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
#include <sys/mman.h>
#include <unistd.h>
#if defined(__linux__)
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

const mmf__syscalls mmf__sys_real = {
    sys_open, close,       fstat,         sys_dupfd, sys_getfl, read,
    pread,    ftruncate,   sys_fallocate, fsync,     fstatvfs,  mmap,
    munmap,   MMF__MREMAP, msync,         madvise,   mprotect,  sys_mincore,
    mlock,    munlock,     sys_getrlimit, lseek,     unlink,    sys_fs_type};

/* A copy, not a reference, so tests can change entries. */
mmf__syscalls mmf__sys = {
    sys_open, close,       fstat,         sys_dupfd, sys_getfl, read,
    pread,    ftruncate,   sys_fallocate, fsync,     fstatvfs,  mmap,
    munmap,   MMF__MREMAP, msync,         madvise,   mprotect,  sys_mincore,
    mlock,    munlock,     sys_getrlimit, lseek,     unlink,    sys_fs_type};
