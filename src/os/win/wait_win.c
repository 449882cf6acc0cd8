/*
 * wait_win.c - sleeping on a shared 32-bit word until another process
 * wakes us.
 *
 * WaitOnAddress and WakeByAddress* wake only threads of the same process,
 * so a waiter sleeps on a semaphore named after the word (see name_win.c)
 * and counts itself in a one-word section of the same name. The count is
 * what makes it race-free:
 *
 *   waiter: count += 1, then read the word (sleep only if it still holds
 *           the expected value), then wait on the semaphore;
 *   waker:  change the word, then take k = min(count, n) off the count
 *           and release the semaphore k times.
 *
 * Both sides do a full barrier between their two steps, so either the
 * waiter sees the new word or the waker sees the waiter counted. A waiter
 * that times out takes itself off the count; if a waker already took it
 * off, a token is on its way and the waiter takes that instead, so no
 * token is left behind to wake a later waiter for nothing. A waker that
 * dies between its two steps (killed) never sends that token: the waiter
 * looks for it for LEAVE_TOKEN_TRIES ms at most and then returns as woken,
 * so its timeout still holds. The objects live while somebody has them
 * open: nobody waiting, nothing exists.
 */
#include "os/win/name_win.h"

typedef struct wait_objects {
  HANDLE section;
  volatile LONG *count;
  HANDLE sem;
} wait_objects;

static void close_objects(wait_objects *o) {
  if (o->count)
    (void)mmf__sys.UnmapViewOfFile((LPCVOID)o->count);
  if (o->section)
    (void)mmf__sys.CloseHandle(o->section);
  if (o->sem)
    (void)mmf__sys.CloseHandle(o->sem);
}

/* Open (create: or create) the count and the semaphore of the word at p.
 * Returns 0, 1 when !create and nobody waits (no count exists), or a
 * code. */
static int open_objects(const mmf__place *p, int create, wait_objects *o,
                        int *oserr) {
  wchar_t name[MMF__WIN_NAME_MAX];
  int rc;
  o->section = NULL;
  o->count = NULL;
  o->sem = NULL;
  rc = mmf__win_object_name(p, "wait", "-n", name, oserr);
  if (rc)
    return rc;
  if (create)
    o->section = mmf__sys.CreateFileMappingW(
        INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, sizeof(LONG), name);
  else
    o->section =
        mmf__sys.OpenFileMappingW(FILE_MAP_READ | FILE_MAP_WRITE, FALSE, name);
  if (!o->section) {
    DWORD e = GetLastError();
    if (!create && e == ERROR_FILE_NOT_FOUND)
      return 1;
    return mmf__win_fail(oserr, e);
  }
  o->count = mmf__sys.MapViewOfFileEx(
      o->section, FILE_MAP_READ | FILE_MAP_WRITE, 0, 0, sizeof(LONG), NULL);
  if (!o->count)
    goto fail;
  rc = mmf__win_object_name(p, "wait", "-s", name, oserr);
  if (rc) {
    close_objects(o);
    return rc;
  }
  o->sem = mmf__sys.CreateSemaphoreW(NULL, 0, MAXLONG, name);
  if (!o->sem)
    goto fail;
  return 0;
fail:
  rc = mmf__win_fail_last(oserr);
  close_objects(o);
  return rc;
}

/* How many 1 ms looks a waiter that a waker took off the count gives the
 * waker's token (or its giving back of the place) to arrive. The waker
 * sends it right after taking the count; 100 ms covers a waker that lost
 * its CPU in between on a loaded machine. */
#define LEAVE_TOKEN_TRIES 100

/* Take this waiter off the count. Returns 1 if a waker had already taken
 * it off (the waiter was woken: its token is consumed here if it arrives
 * within LEAVE_TOKEN_TRIES ms; one that comes later wakes a later waiter
 * early, which mmf_wait allows as a spurious wake-up), else 0. */
static int leave(wait_objects *o) {
  int tries = 0;
  for (;;) {
    LONG c = *o->count;
    if (c > 0) {
      if (InterlockedCompareExchange(o->count, c - 1, c) == c)
        return 0;
      continue;
    }
    /* A waker counted us and is releasing (or giving back) our token. */
    if (mmf__sys.WaitForSingleObject(o->sem, 1) == WAIT_OBJECT_0 ||
        ++tries >= LEAVE_TOKEN_TRIES)
      return 1;
  }
}

int mmf__os_wait(const mmf__place *p, uint32_t expected, int64_t timeout_ns,
                 int (*check)(void *ctx), void *ctx, int *oserr) {
  wait_objects o;
  DWORD r, e;
  int rc, c;
  (void)expected; /* check() compares */
  rc = open_objects(p, 1, &o, oserr);
  if (rc)
    return rc;
  InterlockedIncrement(o.count); /* a full barrier */
  c = check(ctx);
  if (c != 1) {
    (void)leave(&o);
    close_objects(&o);
    return c;
  }
  r = mmf__sys.WaitForSingleObject(o.sem, mmf__win_timeout_ms(timeout_ns));
  if (r == WAIT_OBJECT_0) {
    rc = 0;
  } else if (r == WAIT_TIMEOUT) {
    rc = leave(&o) ? 0 : MMF_ETIMEDOUT;
  } else {
    e = GetLastError();
    rc = leave(&o) ? 0 : mmf__win_fail(oserr, e);
  }
  close_objects(&o);
  return rc;
}

int mmf__os_wake(const mmf__place *p, int count, int *oserr) {
  wait_objects o;
  LONG c, k;
  int rc = open_objects(p, 0, &o, oserr);
  if (rc == 1)
    return 0; /* nobody waits */
  if (rc)
    return rc;
  for (;;) {
    c = *o.count;
    k = c < count ? c : (LONG)count;
    if (k == 0 || InterlockedCompareExchange(o.count, c - k, c) == c)
      break;
  }
  if (k > 0 && !mmf__sys.ReleaseSemaphore(o.sem, k, NULL)) {
    /* Give the places back: the waiters time out as if never woken. */
    rc = mmf__win_fail_last(oserr);
    InterlockedExchangeAdd(o.count, k);
  }
  close_objects(&o);
  return rc;
}
