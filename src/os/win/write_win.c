/*
 * write_win.c - positioned writes, data syncs and the writer lock (the
 * log's whole-file calls; mapped writes are in map_win.c).
 */
#include <string.h>

#include "os/win/util_win.h"

/* WriteFile takes a DWORD count; stay well below it. */
#define WRITE_CHUNK ((DWORD)1 << 30)

int mmf__os_write(mmf__file f, uint64_t off, const void *buf, size_t n,
                  int *oserr) {
  const unsigned char *p = buf;
  while (n) {
    OVERLAPPED ov;
    DWORD chunk = n > WRITE_CHUNK ? WRITE_CHUNK : (DWORD)n, done = 0;
    memset(&ov, 0, sizeof ov);
    ov.Offset = (DWORD)off;
    ov.OffsetHigh = (DWORD)(off >> 32);
    if (!mmf__sys.WriteFile((HANDLE)f.h, p, chunk, &done, &ov))
      return mmf__win_fail_last(oserr);
    if (done == 0)
      return mmf__win_fail(oserr, ERROR_WRITE_FAULT);
    p += done;
    off += done;
    n -= done;
  }
  return 0;
}

int mmf__os_sync_data(mmf__file f, int *oserr) {
  return mmf__sys.FlushFileBuffers((HANDLE)f.h) ? 0 : mmf__win_fail_last(oserr);
}

int mmf__os_try_lock(mmf__file f, int *oserr) {
  OVERLAPPED ov;
  DWORD e;
  memset(&ov, 0, sizeof ov);
  /* The whole file, as far as any offset goes; LockFileEx locks belong to
   * the handle and end with it (or with the process). */
  if (mmf__sys.LockFileEx((HANDLE)f.h,
                          LOCKFILE_EXCLUSIVE_LOCK | LOCKFILE_FAIL_IMMEDIATELY,
                          0, MAXDWORD, MAXDWORD, &ov))
    return 0;
  e = GetLastError();
  if (e == ERROR_LOCK_VIOLATION || e == ERROR_IO_PENDING) {
    if (oserr)
      *oserr = (int)e;
    return MMF_EBUSY;
  }
  return mmf__win_fail(oserr, e);
}
