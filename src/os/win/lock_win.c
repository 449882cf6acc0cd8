/*
 * lock_win.c - byte-range locks with LockFileEx.
 *
 * Windows locks belong to the file object behind the map's handle and to
 * the process: closing another handle of the same file leaves them alone,
 * and closing the map's handle or ending the process releases them (the
 * system may take a moment to do so). They are mandatory for other
 * handles' ReadFile and WriteFile but, as everywhere, ignored by mapped
 * views. Windows neither merges nor splits ranges: an unlock must name a
 * range exactly as it was locked (else ERROR_NOT_LOCKED, MMF_EINVAL).
 */
#include "os/win/util_win.h"

static int lock_call(mmf__file f, uint64_t off, uint64_t len, DWORD flags,
                     int unlock, int *oserr) {
  OVERLAPPED ov;
  BOOL ok;
  ZeroMemory(&ov, sizeof ov);
  ov.Offset = (DWORD)off;
  ov.OffsetHigh = (DWORD)(off >> 32);
  if (unlock)
    ok = mmf__sys.UnlockFileEx((HANDLE)f.h, 0, (DWORD)len, (DWORD)(len >> 32),
                               &ov);
  else
    ok = mmf__sys.LockFileEx((HANDLE)f.h, flags, 0, (DWORD)len,
                             (DWORD)(len >> 32), &ov);
  if (ok)
    return 0;
  return mmf__win_fail_last(oserr);
}

int mmf__os_lock_range(mmf__file f, uint64_t off, uint64_t len, int exclusive,
                       int nowait, int *oserr) {
  DWORD flags = (exclusive ? LOCKFILE_EXCLUSIVE_LOCK : 0) |
                (nowait ? LOCKFILE_FAIL_IMMEDIATELY : 0);
  int rc = lock_call(f, off, len, flags, 0, oserr);
  /* ERROR_LOCK_VIOLATION: held elsewhere. */
  return rc == MMF_EAGAIN && nowait ? MMF_EBUSY : rc;
}

int mmf__os_unlock_range(mmf__file f, uint64_t off, uint64_t len, int *oserr) {
  return lock_call(f, off, len, 0, 1, oserr);
}
