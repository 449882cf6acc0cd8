/*
 * owner_win.c - who owns a robust mutex, on Windows.
 *
 * The kernel's named mutex knows its owner and tells the next locker when
 * that owner died (WAIT_ABANDONED), so nobody here has to judge whether
 * an owner still runs. The bytes record the owner all the same (its
 * thread id, and the process id as the tag), for mmf_mutex_consistent's
 * checks and for tools.
 */
#include "os/win/util_win.h"

#define ID_MASK 0x3FFFFFFFu

static _Thread_local mmf__owner self;

const mmf__owner *mmf__os_owner_self(void) {
  if (!self.id) {
    DWORD tid = GetCurrentThreadId();
    self.id = (uint32_t)tid & ID_MASK;
    if (!self.id)
      self.id = 1;
    self.pid = (uint32_t)GetCurrentProcessId();
    self.tag = self.pid;
    self.ns = 0;
  }
  return &self;
}

int mmf__os_owner_alive(uint32_t id, uint32_t tag, uint32_t ns) {
  (void)id;
  (void)tag;
  (void)ns;
  return 1; /* the kernel object reports a dead owner itself */
}

int mmf__os_owner_gone(uint32_t id, uint32_t tag, uint32_t ns) {
  (void)id;
  (void)tag;
  (void)ns;
  return 0;
}

int mmf__os_monotonic_ns(int64_t *now, int *oserr) {
  LARGE_INTEGER f, c;
  (void)oserr;
  QueryPerformanceFrequency(&f);
  QueryPerformanceCounter(&c);
  *now = (int64_t)(c.QuadPart / f.QuadPart * 1000000000 +
                   c.QuadPart % f.QuadPart * 1000000000 / f.QuadPart);
  return 0;
}
