/*
 * mutex_win.c - the robust mutex's kernel object on Windows.
 *
 * A named mutex per (region, offset) (name_win.c): the kernel excludes,
 * and when the owning thread ends without releasing it (its process was
 * killed, or it returned), the next waiter gets WAIT_ABANDONED, which is
 * MMF_EOWNERDEAD. The object lives while some handle to it is open, so
 * the owner keeps its handle until it unlocks; each thread lists the
 * objects it holds (a Windows mutex is owned by a thread, and is
 * recursive: the list is also how a second lock by the owner is told, for
 * MMF_EDEADLK). A thread that ends holding mutexes leaves its list (a few
 * bytes each) and its handles to the end of the process; the handles keep
 * the abandoned objects alive, so the next locker learns of the death.
 */
#include <stdlib.h>
#include <wchar.h>

#include "os/win/name_win.h"

typedef struct held_mutex {
  struct held_mutex *next;
  HANDLE h;
  wchar_t name[MMF__WIN_NAME_MAX];
} held_mutex;

static _Thread_local held_mutex *held_list;

static held_mutex **find(const wchar_t *name) {
  held_mutex **e;
  for (e = &held_list; *e; e = &(*e)->next)
    if (wcscmp((*e)->name, name) == 0)
      return e;
  return NULL;
}

int mmf__os_mutex_objects(void) { return 1; }

int mmf__os_mutex_held(const mmf__place *p) {
  wchar_t name[MMF__WIN_NAME_MAX];
  return mmf__win_object_name(p, "mutex", "", name, NULL) == 0 &&
         find(name) != NULL;
}

int mmf__os_mutex_acquire(const mmf__place *p, int64_t timeout_ns,
                          int *abandoned, int *oserr) {
  held_mutex *e;
  DWORD r;
  int rc;
  *abandoned = 0;
  e = malloc(sizeof *e);
  if (!e)
    return mmf__win_fail(oserr, ERROR_NOT_ENOUGH_MEMORY);
  rc = mmf__win_object_name(p, "mutex", "", e->name, oserr);
  if (rc == 0 && find(e->name))
    rc = MMF_EDEADLK;
  if (rc) {
    free(e);
    return rc;
  }
  e->h = mmf__sys.CreateMutexW(NULL, FALSE, e->name);
  if (!e->h) {
    rc = mmf__win_fail_last(oserr);
    free(e);
    return rc;
  }
  r = mmf__sys.WaitForSingleObject(e->h, mmf__win_timeout_ms(timeout_ns));
  if (r == WAIT_OBJECT_0 || r == WAIT_ABANDONED) {
    *abandoned = r == WAIT_ABANDONED;
    e->next = held_list;
    held_list = e;
    return 0;
  }
  rc = r == WAIT_TIMEOUT ? MMF_ETIMEDOUT : mmf__win_fail_last(oserr);
  (void)mmf__sys.CloseHandle(e->h);
  free(e);
  return rc;
}

int mmf__os_mutex_release(const mmf__place *p, int *oserr) {
  wchar_t name[MMF__WIN_NAME_MAX];
  held_mutex **pos, *e;
  int rc = mmf__win_object_name(p, "mutex", "", name, oserr);
  if (rc)
    return rc;
  pos = find(name);
  if (!pos)
    return MMF_EPERM;
  e = *pos;
  *pos = e->next;
  /* Forget it whatever happens: a failed release leaves nothing to
   * retry (the thread no longer owns it, or never can let it go). */
  if (!mmf__sys.ReleaseMutex(e->h))
    rc = mmf__win_fail_last(oserr);
  (void)mmf__sys.CloseHandle(e->h);
  free(e);
  return rc;
}
