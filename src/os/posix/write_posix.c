/*
 * write_posix.c - positioned writes, data syncs and the writer lock (the
 * log's whole-file calls; mapped writes are in map_posix.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>

#include "os/os.h"
#include "os/posix/sys_posix.h"

static int fail(int *oserr, int e) {
  if (oserr)
    *oserr = e;
  return mmf__os_error(e);
}

int mmf__os_write(mmf__file f, uint64_t off, const void *buf, size_t n,
                  int *oserr) {
  const unsigned char *p = buf;
  if (off > (uint64_t)INT64_MAX || n > (uint64_t)INT64_MAX - off)
    return fail(oserr, EFBIG);
  while (n) {
    size_t chunk = n > SSIZE_MAX ? SSIZE_MAX : n;
    ssize_t r = mmf__sys.pwrite((int)f.h, p, chunk, (off_t)off);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0)
      return fail(oserr, errno);
    if (r == 0) /* a write of nothing would loop forever */
      return fail(oserr, EIO);
    p += r;
    off += (uint64_t)r;
    n -= (size_t)r;
  }
  return 0;
}

int mmf__os_sync_data(mmf__file f, int *oserr) {
  return mmf__sys.fdatasync((int)f.h) == 0 ? 0 : fail(oserr, errno);
}

int mmf__os_try_lock(mmf__file f, int *oserr) {
  int r;
  do
    r = mmf__sys.lock_nowait((int)f.h);
  while (r != 0 && errno == EINTR);
  if (r == 0)
    return 0;
  /* Held by another open file. */
  if (errno == EAGAIN || errno == EACCES || errno == EWOULDBLOCK) {
    if (oserr)
      *oserr = errno;
    return MMF_EBUSY;
  }
  return fail(oserr, errno);
}
