/*
 * direct_posix.c - reading a file around the page cache, and how much of
 * it the cache holds (os.h, "Reading around the page cache").
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "os/os.h"
#include "os/posix/sys_posix.h"

#ifndef PATH_MAX
#define PATH_MAX 4096
#endif

static int fail(int *oserr, int e) {
  if (oserr)
    *oserr = e;
  return mmf__os_error(e);
}

#if defined(O_DIRECT)
#define UNCACHED_FLAG O_DIRECT
#else
#define UNCACHED_FLAG 0
#endif

/* A path that opens the file `like` again (a new open file, not a
 * duplicate: the cache setting belongs to the open file, and the caller's
 * must not change). 0, or MMF_ENOTSUP where there is none. */
static int path_of(mmf__file like, char *buf, int *oserr) {
#if defined(__linux__)
  (void)oserr;
  (void)snprintf(buf, PATH_MAX, "/proc/self/fd/%d", (int)like.h);
  return 0;
#else
  if (!mmf__sys.fd_path)
    return fail(oserr, ENOTSUP);
  if (mmf__sys.fd_path((int)like.h, buf) != 0)
    return fail(oserr, errno);
  return 0;
#endif
}

/* Whether a and b are the same file: a path may name another file by
 * now (renamed over), and reading that one would be a wrong answer. */
static int same_file(int a, int b, int *oserr) {
  struct stat sa, sb;
  if (mmf__sys.fstat(a, &sa) != 0 || mmf__sys.fstat(b, &sb) != 0)
    return fail(oserr, errno);
  if (sa.st_dev != sb.st_dev || sa.st_ino != sb.st_ino)
    return fail(oserr, ENOTSUP);
  return 0;
}

int mmf__os_open_uncached(const char *path, mmf__file like, mmf__file *f,
                          size_t *align, int *oserr) {
  char buf[PATH_MAX];
  int fd, rc;
  f->h = MMF__NO_FILE;
  *align = mmf__os_page_size();
  if (UNCACHED_FLAG == 0 && !mmf__sys.nocache)
    return fail(oserr, ENOTSUP);
  if (!path) {
    rc = path_of(like, buf, oserr);
    if (rc)
      return rc;
    path = buf;
  }
  do
    fd =
        mmf__sys.open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | UNCACHED_FLAG, 0);
  while (fd < 0 && errno == EINTR);
  if (fd < 0)
    return fail(oserr, errno); /* EINVAL: the file system refuses */
  rc = same_file(fd, (int)like.h, oserr);
  if (rc == 0 && UNCACHED_FLAG == 0 && mmf__sys.nocache(fd) != 0)
    rc = fail(oserr, errno);
  if (rc) {
    mmf__sys.close(fd);
    return rc;
  }
  f->h = fd;
  return 0;
}

/* A 32-bit process looks at no more than this much of a file. */
#define CACHED_MAX_MAP ((uint64_t)512 << 20)

int mmf__os_cached(mmf__file f, uint64_t off, uint64_t len, unsigned samples,
                   unsigned *hits, int *oserr) {
  size_t ps = mmf__os_page_size(), maplen, pages;
  uint64_t start = off - off % ps, span = len + (off - start);
  unsigned char *p, v;
  unsigned i;
  int rc = 0;
  *hits = 0;
  if (sizeof(size_t) < 8 && span > CACHED_MAX_MAP)
    span = CACHED_MAX_MAP;
  if (span == 0 || samples < 2 || start > (uint64_t)INT64_MAX)
    return fail(oserr, EINVAL);
  maplen = (size_t)span;
  pages = (maplen + ps - 1) / ps;
  p = mmf__sys.mmap(NULL, maplen, PROT_READ, MAP_SHARED, (int)f.h,
                    (off_t)start);
  if (p == MAP_FAILED)
    return fail(oserr, errno);
  for (i = 0; i < samples; i++) {
    size_t page = (size_t)((uint64_t)(pages - 1) * i / (samples - 1));
    if (mmf__sys.mincore(p + page * ps, ps, &v) != 0) {
      rc = fail(oserr, errno);
      break;
    }
    *hits += v & 1;
  }
  if (mmf__sys.munmap(p, maplen) != 0 && rc == 0)
    rc = fail(oserr, errno);
  if (rc)
    *hits = 0;
  return rc;
}
