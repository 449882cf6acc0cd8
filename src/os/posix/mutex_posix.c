/*
 * mutex_posix.c - POSIX has no kernel mutex object that tells the next
 * locker its owner died and that every process can find by name (robust
 * pthread mutexes exist on Linux, but their bytes are the C library's and
 * differ between glibc and musl, 32 and 64 bits; macOS has none). So on
 * POSIX the mutex is its 64 bytes alone (src/share/mutex.c), waiters sleep
 * on its lock word, and owner death is found by asking whether the owner
 * still runs (owner_posix.c).
 */
#include "os/os.h"

int mmf__os_mutex_acquire(const mmf__place *p, int64_t timeout_ns,
                          int *abandoned, void **held, int *oserr) {
  (void)p;
  (void)timeout_ns;
  (void)oserr;
  *abandoned = 0;
  *held = NULL;
  return MMF_ENOTSUP;
}

int mmf__os_mutex_held(const mmf__place *p, void **held, int *oserr) {
  (void)p;
  (void)oserr;
  *held = NULL;
  return 0;
}

int mmf__os_mutex_release(void *held, int *oserr) {
  (void)held;
  (void)oserr;
  return MMF_ENOTSUP;
}
