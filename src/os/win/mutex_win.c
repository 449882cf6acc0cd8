/*
 * mutex_win.c - the robust mutex's kernel object on Windows.
 *
 * A named mutex per (region, offset) (name_win.c): the kernel excludes,
 * and when the owning thread ends without releasing it (its process was
 * killed, or the thread returned), the next waiter gets WAIT_ABANDONED,
 * which is MMF_EOWNERDEAD. The object lives while some handle to it is
 * open, so the owner keeps its handle until it unlocks. Each thread lists
 * the objects it holds, in a fiber-local slot: a Windows mutex is owned
 * by a thread and is recursive, so the list is how a second lock by the
 * owner is told (MMF_EDEADLK) and how an unlock finds its handle. When a
 * thread ends holding mutexes, the slot's destructor closes their
 * handles: the kernel abandons them, and if that was the last handle the
 * object is gone, which the bytes still tell the next locker (they name
 * an owner that no longer holds anything).
 */
#include <stdlib.h>
#include <wchar.h>

#include "os/alloc.h"
#include "os/win/name_win.h"

typedef struct held_mutex {
  struct held_mutex *next;
  HANDLE h;
  wchar_t name[MMF__WIN_NAME_MAX];
} held_mutex;

static INIT_ONCE slot_once = INIT_ONCE_STATIC_INIT;
static DWORD slot = FLS_OUT_OF_INDEXES;

static VOID WINAPI forget_thread(PVOID list) {
  held_mutex *e = list, *next;
  for (; e; e = next) {
    next = e->next;
    (void)CloseHandle(e->h);
    mmf__alloc.free(e);
  }
}

static BOOL CALLBACK make_slot(PINIT_ONCE once, PVOID param, PVOID *ctx) {
  (void)once;
  (void)param;
  (void)ctx;
  slot = FlsAlloc(forget_thread);
  return TRUE;
}

/* The calling thread's list (NULL when empty or no slot). */
static held_mutex *list_get(void) {
  (void)InitOnceExecuteOnce(&slot_once, make_slot, NULL, NULL);
  return slot == FLS_OUT_OF_INDEXES ? NULL : FlsGetValue(slot);
}

static void list_set(held_mutex *list) {
  if (slot != FLS_OUT_OF_INDEXES)
    (void)FlsSetValue(slot, list);
}

static held_mutex *find(const wchar_t *name) {
  held_mutex *e;
  for (e = list_get(); e; e = e->next)
    if (wcscmp(e->name, name) == 0)
      return e;
  return NULL;
}

int mmf__os_mutex_held(const mmf__place *p, void **held, int *oserr) {
  wchar_t name[MMF__WIN_NAME_MAX];
  int rc = mmf__win_object_name(p, "mutex", "", name, oserr);
  *held = rc ? NULL : find(name);
  return rc;
}

int mmf__os_mutex_acquire(const mmf__place *p, int64_t timeout_ns,
                          int *abandoned, void **held, int *oserr) {
  held_mutex *e;
  DWORD r;
  int rc;
  *abandoned = 0;
  *held = NULL;
  e = mmf__alloc.malloc(sizeof *e);
  if (!e)
    return mmf__alloc_failed(oserr);
  rc = mmf__win_object_name(p, "mutex", "", e->name, oserr);
  if (rc == 0 && find(e->name))
    rc = MMF_EDEADLK;
  if (rc) {
    mmf__alloc.free(e);
    return rc;
  }
  e->h = mmf__sys.CreateMutexW(NULL, FALSE, e->name);
  if (!e->h) {
    rc = mmf__win_fail_last(oserr);
    mmf__alloc.free(e);
    return rc;
  }
  r = mmf__sys.WaitForSingleObject(e->h, mmf__win_timeout_ms(timeout_ns));
  if (r == WAIT_OBJECT_0 || r == WAIT_ABANDONED) {
    *abandoned = r == WAIT_ABANDONED;
    e->next = list_get();
    list_set(e);
    *held = e;
    return 0;
  }
  rc = r == WAIT_TIMEOUT ? MMF_ETIMEDOUT : mmf__win_fail_last(oserr);
  (void)mmf__sys.CloseHandle(e->h);
  mmf__alloc.free(e);
  return rc;
}

int mmf__os_mutex_release(void *held, int *oserr) {
  held_mutex *e = held, **pos, *first = list_get();
  int rc = 0;
  if (!e)
    return MMF_EPERM;
  for (pos = &first; *pos && *pos != e; pos = &(*pos)->next) {
  }
  if (*pos)
    *pos = e->next;
  list_set(first);
  if (!mmf__sys.ReleaseMutex(e->h))
    rc = mmf__win_fail_last(oserr);
  (void)mmf__sys.CloseHandle(e->h);
  mmf__alloc.free(e);
  return rc;
}
