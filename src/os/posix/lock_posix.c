/*
 * lock_posix.c - byte-range locks owned by the open file, not the
 * process.
 *
 * Classic fcntl (F_SETLK) locks belong to the process, and any close() of
 * any descriptor of the file drops them all: a library that opens and
 * closes the file the program locked loses the program's locks without a
 * word (measured here; SQLite keeps a table of inodes to survive it).
 * Linux's open-file-description locks (F_OFD_SETLK, since 3.15; POSIX
 * 2024) belong to the open file instead: each map's own descriptor holds
 * its locks, two maps of one process exclude each other, an unrelated
 * close() changes nothing, and the kernel drops them when the last
 * descriptor of that open file closes or the process dies.
 *
 * Where OFD locks are missing (macOS, the BSDs) flock() gives the same
 * ownership but only for the whole file: any range locks the whole file,
 * and unlocking any range unlocks it (docs/sharing.md). Tests run that
 * path on Linux by clearing the fcntl_lock entry of the call table.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>

#include "os/os.h"
#include "os/posix/sys_posix.h"

static int fail(int *oserr, int e) {
  if (oserr)
    *oserr = e;
  return mmf__os_error(e);
}

static int busy(int e) {
  return e == EAGAIN || e == EACCES || e == EWOULDBLOCK;
}

static int ofd(mmf__file f, short type, uint64_t off, uint64_t len, int wait,
               int *oserr) {
#if defined(F_OFD_SETLK)
  struct flock fl;
  int r;
  if (off > (uint64_t)INT64_MAX || len > (uint64_t)INT64_MAX - off)
    return fail(oserr, EOVERFLOW);
  memset(&fl, 0, sizeof fl); /* l_pid must be 0 */
  fl.l_type = type;
  fl.l_whence = SEEK_SET;
  fl.l_start = (off_t)off;
  fl.l_len = (off_t)len;
  do
    r = mmf__sys.fcntl_lock((int)f.h, wait ? F_OFD_SETLKW : F_OFD_SETLK, &fl);
  while (r != 0 && errno == EINTR);
  if (r == 0)
    return 0;
  if (!wait && busy(errno)) {
    if (oserr)
      *oserr = errno;
    return MMF_EBUSY;
  }
  /* A write lock needs a descriptor open for writing (a MMF_READ map). */
  if (errno == EBADF && type == F_WRLCK) {
    if (oserr)
      *oserr = EBADF;
    return MMF_EACCES;
  }
  return fail(oserr, errno);
#else
  (void)f;
  (void)type;
  (void)off;
  (void)len;
  (void)wait;
  return fail(oserr, ENOSYS);
#endif
}

static int whole_file(mmf__file f, int op, int *oserr) {
  int r;
  do
    r = mmf__sys.flock((int)f.h, op);
  while (r != 0 && errno == EINTR);
  if (r == 0)
    return 0;
  if ((op & LOCK_NB) && busy(errno)) {
    if (oserr)
      *oserr = errno;
    return MMF_EBUSY;
  }
  return fail(oserr, errno);
}

int mmf__os_lock_range(mmf__file f, uint64_t off, uint64_t len, int exclusive,
                       int nowait, int *oserr) {
  if (mmf__sys.fcntl_lock)
    return ofd(f, exclusive ? F_WRLCK : F_RDLCK, off, len, !nowait, oserr);
  return whole_file(f, (exclusive ? LOCK_EX : LOCK_SH) | (nowait ? LOCK_NB : 0),
                    oserr);
}

int mmf__os_unlock_range(mmf__file f, uint64_t off, uint64_t len, int *oserr) {
  if (mmf__sys.fcntl_lock)
    return ofd(f, F_UNLCK, off, len, 0, oserr);
  return whole_file(f, LOCK_UN, oserr);
}
