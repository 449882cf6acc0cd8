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
#include <sys/resource.h>
#if defined(__linux__)
/* BLKGETSIZE64 from the C library's header, not the kernel's linux/fs.h,
 * which musl's toolchain does not see (nor linux/magic.h: the filesystem
 * magic numbers below are written out). */
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

#include "os/alloc.h"
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

int mmf__os_open(const char *path, unsigned how, mmf__file *f, int *created,
                 int *oserr) {
  int flags = ((how & MMF__OPEN_WRITE) ? O_RDWR : O_RDONLY) | O_CLOEXEC |
              O_NOCTTY | ((how & MMF__OPEN_NONBLOCK) ? O_NONBLOCK : 0);
  int fd, tries;
  f->h = MMF__NO_FILE;
  *created = 0;
  for (tries = 0;; tries++) {
    if (!(how & MMF__OPEN_EXCLUSIVE)) {
      fd = open_retry(path, flags, 0);
      if (fd >= 0)
        break;
      if (errno != ENOENT || !(how & MMF__OPEN_CREATE))
        return fail(oserr, errno);
    }
    /* Create exclusively so that we know whether this call made the file
     * (its directory entry then needs an fsync for MMF_FLUSH_FULL, and a
     * failed open removes it again). */
    fd = open_retry(path, flags | O_CREAT | O_EXCL, 0666);
    if (fd >= 0) {
      *created = 1;
      break;
    }
    if (errno != EEXIST || (how & MMF__OPEN_EXCLUSIVE))
      return fail(oserr, errno);
    /* EEXIST right after ENOENT: another process made the file (the next
     * plain open finds it), or path is a symbolic link whose target is
     * missing, which O_EXCL never follows and plain open never finds: that
     * would go round forever. The second time, create through the link as
     * open(2) with O_CREAT does. The file made there is not counted as
     * created: removing `path` after a failure would remove the link. */
    if (tries >= 1) {
      fd = open_retry(path, flags | O_CREAT, 0666);
      if (fd < 0)
        return fail(oserr, errno);
      break;
    }
  }
  f->h = fd;
  return 0;
}

int mmf__os_remove(const char *path, int *oserr) {
  if (mmf__sys.unlink(path) != 0)
    return fail(oserr, errno);
  return 0;
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
  /* No byte lies at or past 2^63 - 1; the kernel would call a read
   * reaching there invalid (EINVAL) instead of ending it. */
  if (off >= 0 && n > (uint64_t)(INT64_MAX - off))
    n = (size_t)(INT64_MAX - off);
  if (n == 0)
    return 0;
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

int mmf__os_skip(mmf__file f, uint64_t n, int *oserr) {
  if (n > (uint64_t)INT64_MAX)
    return fail(oserr, EOVERFLOW);
  /* Pipes, sockets and terminals say ESPIPE; a few devices refuse
   * SEEK_CUR otherwise. Either way the caller reads instead. */
  if (mmf__sys.lseek((int)f.h, (off_t)n, SEEK_CUR) < 0) {
    if (oserr)
      *oserr = errno;
    return MMF_ENOTSUP;
  }
  return 0;
}

int mmf__os_keep_position(mmf__file f, uint64_t *pos) {
  (void)f;
  *pos = 0;
  return 0; /* pread does not move it */
}

void mmf__os_put_position(mmf__file f, uint64_t pos) { (void)f, (void)pos; }

int mmf__os_tell(mmf__file f, uint64_t *pos, int *oserr) {
  off_t at = mmf__sys.lseek((int)f.h, 0, SEEK_CUR);
  *pos = 0;
  if (at < 0)
    return fail(oserr, errno);
  *pos = (uint64_t)at;
  return 0;
}

/* Holes, and on most file systems allocated-but-unwritten extents that
 * nothing has written through the page cache, read as zeros; SEEK_DATA
 * and SEEK_HOLE find them without reading a byte. Where the file system
 * cannot tell (the generic answer is one stretch of data up to the end)
 * or a call fails, the answer is size: every byte may be data. A file
 * with very many stretches is not worth walking: size as well. */
uint64_t mmf__os_data_end(mmf__file f, uint64_t from, uint64_t size) {
#if defined(SEEK_DATA) && defined(SEEK_HOLE)
  uint64_t end = from, at = from;
  int stretches = 0;
  if (size > (uint64_t)INT64_MAX)
    return size;
  while (at < size) {
    off_t data = mmf__sys.lseek((int)f.h, (off_t)at, SEEK_DATA), hole;
    if (data < 0)
      return errno == ENXIO ? end : size; /* ENXIO: no data after at */
    hole = mmf__sys.lseek((int)f.h, data, SEEK_HOLE);
    if (hole < 0 || hole <= data || ++stretches > 64)
      return size;
    at = (uint64_t)hole;
    end = at < size ? at : size;
  }
  return end;
#else
  (void)f;
  (void)from;
  return size;
#endif
}

/*
 * Growing a file past RLIMIT_FSIZE makes the kernel send SIGXFSZ, whose
 * default action kills the process: a library must not kill its caller.
 * So a growth past the limit is refused first with EFBIG, what the call
 * itself returns when SIGXFSZ is ignored. Only growth is limited: the
 * kernel lets a file above the limit shrink.
 */
static int past_size_limit(mmf__file f, uint64_t end) {
  struct rlimit rl;
  struct stat st;
  if (mmf__sys.getrlimit(RLIMIT_FSIZE, &rl) != 0 ||
      rl.rlim_cur == RLIM_INFINITY || end <= (uint64_t)rl.rlim_cur)
    return 0;
  if (mmf__sys.fstat((int)f.h, &st) != 0)
    return 1; /* cannot tell: refusing is safer than being killed */
  return end > (uint64_t)st.st_size;
}

int mmf__os_set_size(mmf__file f, uint64_t size, int *oserr) {
  int r;
  if (size > (uint64_t)INT64_MAX || past_size_limit(f, size))
    return fail(oserr, EFBIG);
  do
    r = mmf__sys.ftruncate((int)f.h, (off_t)size);
  while (r != 0 && errno == EINTR);
  return r == 0 ? 0 : fail(oserr, errno);
}

int mmf__os_preallocate(mmf__file f, uint64_t off, uint64_t len, int *oserr) {
  int e;
  if (off > (uint64_t)INT64_MAX || len > (uint64_t)INT64_MAX - off ||
      past_size_limit(f, off + len))
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
  int rc;
  if (!slash)
    dir = mmf__strndup(".", 1);
  else {
    n = slash == path ? 1 : (size_t)(slash - path);
    dir = mmf__strndup(path, n);
  }
  if (!dir)
    return mmf__alloc_failed(oserr);
  rc = mmf__os_sync_dir(dir, oserr);
  mmf__alloc.free(dir);
  return rc;
}

/*
 * Pseudo filesystems make up a size: sysfs attributes say 4096 whatever
 * they hold, most /proc files say 0, some /proc and debugfs files give a
 * number unrelated to what reading returns. Their size is a guess, so
 * reading ending before it is the end, not a truncation.
 */
int mmf__os_size_is_exact(mmf__file f) {
#if defined(__linux__)
  /* Magic numbers are 32 bits (f_type is a 32-bit int on 32-bit
   * systems); the kernel's names (<linux/magic.h>) in the comments. */
  static const uint32_t guessing[] = {
      0x9fa0u,     /* PROC_SUPER_MAGIC */
      0x62656572u, /* SYSFS_MAGIC */
      0x64626720u, /* DEBUGFS_MAGIC */
      0x74726163u, /* TRACEFS_MAGIC */
      0x62656570u, /* configfs (not in <linux/magic.h>) */
      0x73636673u, /* SECURITYFS_MAGIC */
      0x27e0ebu,   /* CGROUP_SUPER_MAGIC */
      0x63677270u, /* CGROUP2_SUPER_MAGIC */
      0xcafe4a11u, /* BPF_FS_MAGIC */
      0xde5e81e4u, /* EFIVARFS_MAGIC */
      0x6165676cu  /* PSTOREFS_MAGIC */
  };
  long type;
  if (mmf__sys.fs_type((int)f.h, &type) != 0)
    return 1;
  for (size_t i = 0; i < sizeof guessing / sizeof guessing[0]; i++)
    if ((uint32_t)type == guessing[i])
      return 0;
#else
  (void)f;
#endif
  return 1;
}

int mmf__os_fs_full(mmf__file f) {
  struct statvfs st;
  if (mmf__sys.fstatvfs((int)f.h, &st) != 0)
    return 0;
  return st.f_bavail == 0 || st.f_bfree == 0;
}
