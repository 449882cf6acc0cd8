/*
 * thread_win.c - the scans' worker threads on Windows (os.h, "Threads").
 *
 * CreateThread rather than _beginthreadex: the library links the C
 * runtime as a DLL, which frees a thread's runtime data when the thread
 * ends, and the workers use nothing of the runtime beyond memcpy. Windows
 * has no signals to keep away from them.
 */
#include "os/win/util_win.h"

/* A small stack, as on POSIX: a worker needs a few KiB. */
#define WORKER_STACK ((SIZE_T)256 << 10)

static DWORD WINAPI trampoline(LPVOID arg) {
  mmf__thread *t = arg;
  t->fn(t->arg);
  return 0;
}

int mmf__os_thread_start(mmf__thread *t, void (*fn)(void *arg), void *arg,
                         int *oserr) {
  HANDLE h;
  t->fn = fn;
  t->arg = arg;
  t->h = 0;
  h = mmf__sys.CreateThread(NULL, WORKER_STACK, trampoline, t,
                            STACK_SIZE_PARAM_IS_A_RESERVATION, NULL);
  if (!h)
    return mmf__win_fail_last(oserr);
  t->h = (intptr_t)h;
  return 0;
}

int mmf__os_thread_join(mmf__thread *t, int *oserr) {
  HANDLE h = (HANDLE)t->h;
  int rc = 0;
  if (mmf__sys.WaitForSingleObject(h, INFINITE) != WAIT_OBJECT_0)
    rc = mmf__win_fail_last(oserr);
  (void)mmf__sys.CloseHandle(h);
  return rc;
}

void mmf__os_thread_yield(void) { (void)SwitchToThread(); }
