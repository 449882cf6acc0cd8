/*
 * file_posix.c - opening, sizing, reading and syncing files.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#if defined(__linux__)
/* BLKGETSIZE64 from the C library's header, not the kernel's linux/fs.h,
 * which musl's toolchain does not see. */
#include <sys/ioctl.h>
#include <sys/mount.h>
/* glibc declares ioctl's request unsigned long, musl int (as POSIX does):
 * the constant is converted for the one that needs it. */
#if defined(__GLIBC__)
#define BLK_SIZE_REQUEST BLKGETSIZE64
#else
#define BLK_SIZE_REQUEST (int)BLKGETSIZE64
#endif
#endif

#include "os/os.h"
#include "os/posix/sys_posix.h"

static int fail(int *oserr, int e) {
  if (oserr)
    *oserr = e;
  return mmf__os_error(e);
}

static int open_retry(const char *path, int flags, mode_t mode) {
  int fd;
  do
    fd = mmf__sys.open(path, flags, mode);
  while (fd < 0 && errno == EINTR);
  return fd;
}

int mmf__os_open(const char *path, int writable, int create, mmf__file *f,
                 int *created, int *oserr) {
  int flags = (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NOCTTY;
  f->h = MMF__NO_FILE;
  *created = 0;
  for (;;) {
    int fd = open_retry(path, flags, 0);
    if (fd >= 0) {
      f->h = fd;
      return 0;
    }
    if (errno != ENOENT || !create)
      return fail(oserr, errno);
    /* Create exclusively so that we know whether this call made the file
     * (its directory entry then needs an fsync for MMF_FLUSH_FULL). If
     * another process wins the race, open the file it made. */
    fd = open_retry(path, flags | O_CREAT | O_EXCL, 0666);
    if (fd >= 0) {
      f->h = fd;
      *created = 1;
      return 0;
    }
    if (errno != EEXIST)
      return fail(oserr, errno);
  }
}

int mmf__os_dup(int fd, int writable, mmf__file *f, int *oserr) {
  int fl, acc, nfd;
  f->h = MMF__NO_FILE;
  fl = mmf__sys.fcntl_getfl(fd);
  if (fl < 0)
    return fail(oserr, errno);
  acc = fl & O_ACCMODE;
  if (acc == O_WRONLY || (writable && acc != O_RDWR)) {
    if (oserr)
      *oserr = EACCES;
    return MMF_EACCES;
  }
  nfd = mmf__sys.fcntl_dupfd(fd);
  if (nfd < 0)
    return fail(oserr, errno);
  f->h = nfd;
  return 0;
}

void mmf__os_close(mmf__file *f) {
  if (f->h != MMF__NO_FILE) {
    /* close() is not retried on EINTR: on Linux the descriptor is gone. */
    mmf__sys.close((int)f->h);
    f->h = MMF__NO_FILE;
  }
}

int mmf__os_stat(mmf__file f, int *kind, uint64_t *size, int *oserr) {
  struct stat st;
  *kind = 0;
  *size = 0;
  if (mmf__sys.fstat((int)f.h, &st) != 0)
    return fail(oserr, errno);
  if (S_ISREG(st.st_mode)) {
    *kind = MMF__KIND_REGULAR;
    *size = st.st_size > 0 ? (uint64_t)st.st_size : 0;
  } else if (S_ISDIR(st.st_mode)) {
    *kind = MMF__KIND_DIRECTORY;
  } else if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode) ||
             S_ISSOCK(st.st_mode)) {
    *kind = MMF__KIND_STREAM;
  } else {
    *kind = MMF__KIND_OTHER;
    *size = st.st_size > 0 ? (uint64_t)st.st_size : 0;
#if defined(__linux__) && defined(BLKGETSIZE64)
    /* Block devices report size 0 in st_size. */
    if (S_ISBLK(st.st_mode)) {
      uint64_t bytes = 0;
      if (ioctl((int)f.h, BLK_SIZE_REQUEST, &bytes) == 0)
        *size = bytes;
    }
#endif
  }
  return 0;
}

int mmf__os_change_stamp(mmf__file f, mmf__stamp *stamp, int *oserr) {
  struct stat st;
  stamp->change_time = 0;
  stamp->size = 0;
  if (mmf__sys.fstat((int)f.h, &st) != 0)
    return fail(oserr, errno);
#if defined(__APPLE__)
  stamp->change_time = (uint64_t)st.st_ctimespec.tv_sec * 1000000000u +
                       (uint64_t)st.st_ctimespec.tv_nsec;
#else
  stamp->change_time =
      (uint64_t)st.st_ctim.tv_sec * 1000000000u + (uint64_t)st.st_ctim.tv_nsec;
#endif
  stamp->size = (uint64_t)st.st_size;
  return 0;
}

int mmf__os_read(mmf__file f, int64_t off, void *buf, size_t n, size_t *got,
                 int *oserr) {
  ssize_t r;
  *got = 0;
  if (n > SSIZE_MAX)
    n = SSIZE_MAX;
  do {
    if (off >= 0)
      r = mmf__sys.pread((int)f.h, buf, n, (off_t)off);
    else
      r = mmf__sys.read((int)f.h, buf, n);
  } while (r < 0 && errno == EINTR);
  if (r < 0)
    return fail(oserr, errno);
  *got = (size_t)r;
  return 0;
}

int mmf__os_set_size(mmf__file f, uint64_t size, int *oserr) {
  int r;
  if (size > (uint64_t)INT64_MAX)
    return fail(oserr, EFBIG);
  do
    r = mmf__sys.ftruncate((int)f.h, (off_t)size);
  while (r != 0 && errno == EINTR);
  return r == 0 ? 0 : fail(oserr, errno);
}

int mmf__os_preallocate(mmf__file f, uint64_t off, uint64_t len, int *oserr) {
  int e;
  if (off > (uint64_t)INT64_MAX || len > (uint64_t)INT64_MAX - off)
    return fail(oserr, EFBIG);
  do
    e = mmf__sys.fallocate((int)f.h, (off_t)off, (off_t)len);
  while (e == EINTR);
  return e == 0 ? 0 : fail(oserr, e);
}

int mmf__os_sync_file(mmf__file f, int full, int *oserr) {
#if defined(__APPLE__) && defined(F_FULLFSYNC)
  /* fsync on macOS only reaches the drive's cache; F_FULLFSYNC asks the
   * drive to write it out. Some filesystems refuse it: fall back. */
  if (full && fcntl((int)f.h, F_FULLFSYNC) == 0)
    return 0;
#else
  (void)full;
#endif
  if (mmf__sys.fsync((int)f.h) != 0)
    return fail(oserr, errno);
  return 0;
}

int mmf__os_sync_parent_dir(const char *path, int *oserr) {
  char *dir;
  const char *slash = strrchr(path, '/');
  size_t n;
  int fd, rc = 0;
  if (!slash)
    dir = strdup(".");
  else {
    n = slash == path ? 1 : (size_t)(slash - path);
    dir = malloc(n + 1);
    if (dir) {
      memcpy(dir, path, n);
      dir[n] = '\0';
    }
  }
  if (!dir)
    return fail(oserr, ENOMEM);
  fd = open_retry(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
  free(dir);
  if (fd < 0)
    return fail(oserr, errno);
  /* Some filesystems do not support fsync on directories (EINVAL); the
   * entry is then as durable as that filesystem can make it. */
  if (mmf__sys.fsync(fd) != 0 && errno != EINVAL)
    rc = fail(oserr, errno);
  mmf__sys.close(fd);
  return rc;
}

int mmf__os_fs_full(mmf__file f) {
  struct statvfs st;
  if (mmf__sys.fstatvfs((int)f.h, &st) != 0)
    return 0;
  return st.f_bavail == 0 || st.f_bfree == 0;
}
