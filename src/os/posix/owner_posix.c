/*
 * owner_posix.c - who owns a robust mutex, and whether that owner still
 * runs.
 *
 * A mutex's bytes name its owner by an id and a tag. A waiter that has
 * seen the same owner hold the lock for a while asks whether it still
 * runs; the answer must never be "dead" for a live owner (two threads
 * would then hold the lock), and must be "dead" soon after it died, also
 * while its parent has not reaped it (a zombie has exited: it will never
 * unlock).
 *
 * Linux. The id is the owner's thread id (TID, below 2^22), the tag the
 * low 32 bits of the thread's start time (clock ticks since boot, from
 * /proc/TID/task/TID/stat) mixed with a hash of this boot's id. That file
 * tells a waiter all it needs: no such entry, a state of Z (zombie) or X
 * (dead), or another start time means the owner is gone. A TID the kernel
 * hands out again is therefore never taken for the dead owner: the kernel
 * allocates ids cyclically, so the same TID comes back only after every
 * other free id (pid_max is 32768 or more) was handed out, and with the
 * same start time only if that happened within one clock tick (10 ms):
 * over three million thread creations a second. The boot hash keeps a
 * mutex left locked in a file across a reboot from matching a thread that
 * happens to have the same TID and start time after it. The thread is the
 * owner, not the process: a thread that exits holding the mutex is dead
 * to the next locker, as with the kernel's own robust futexes.
 *
 * What cannot be judged is reported alive: a /proc we cannot read (not
 * mounted, hidepid) leaves kill(TID, 0), which says "gone" only when no
 * such task exists; an owner in another PID namespace (whose TIDs mean
 * other things here) is never judged at all: the namespace is recorded
 * next to the owner for that (the ns field). Processes in different time
 * namespaces (rare: checkpoint/restore) see different start times and
 * must not share a mutex.
 *
 * Elsewhere (macOS, the BSDs: no /proc, and no id of another process's
 * thread) the owner is a process: the tag is its PID and the id a serial
 * number of the thread within it; it is dead once kill(PID, 0) finds no
 * such process, that is once it was reaped (docs/sharing.md).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "os/os.h"
#include "os/posix/sys_posix.h"

#define ID_MASK 0x3FFFFFFFu

/* The calling thread, filled on first use; cleared in the child after a
 * fork, where the one thread left has another TID. os.h reads it inline
 * (mmf__os_owner_self). */
_Thread_local mmf__owner MMF__TLS_MODEL mmf__owner_self;
/* Set while the thread's namespaces could not be learnt: look again
 * before judging. */
static _Thread_local int ns_retry MMF__TLS_MODEL;
static pthread_once_t fork_hook_once = PTHREAD_ONCE_INIT;

static void forget_self(void) {
  memset(&mmf__owner_self, 0, sizeof mmf__owner_self);
  ns_retry = 0;
}

static void install_fork_hook(void) {
  (void)pthread_atfork(NULL, NULL, forget_self);
}

#if defined(__linux__)

/* Read a small file (a /proc entry) into buf, NUL-terminated. 0 or an
 * errno value. */
static int read_small(const char *path, char *buf, size_t n) {
  size_t got = 0;
  ssize_t r;
  int e = 0, fd = mmf__sys.open(path, O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0)
    return errno;
  while (got < n - 1) {
    r = mmf__sys.read(fd, buf + got, n - 1 - got);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0)
      e = errno;
    if (r <= 0)
      break;
    got += (size_t)r;
  }
  mmf__sys.close(fd);
  buf[got] = '\0';
  return e;
}

/* The state (field 3) and start time (field 22) of thread ID, from
 * /proc/ID/task/ID/stat: the same bytes as /proc/ID/stat, but a path an
 * emulator does not stand in for (qemu-user writes its own /proc/PID/stat
 * for the process it runs, with a start time of 0, so the owner's own tag
 * would never match what other processes read). 0 or an errno value. The
 * command name (field 2) may hold spaces and ')': the fields are counted
 * from the last ')'. */
static int task_stat(uint32_t id, char *state, uint64_t *start) {
  char path[64], buf[1024], *p;
  int e, field;
  snprintf(path, sizeof path, "/proc/%u/task/%u/stat", (unsigned)id,
           (unsigned)id);
  e = read_small(path, buf, sizeof buf);
  if (e)
    return e;
  p = strrchr(buf, ')');
  if (!p || p[1] != ' ' || !p[2])
    return EINVAL;
  p += 2;
  *state = *p;
  for (field = 3; field < 22; field++) {
    p = strchr(p, ' ');
    if (!p)
      return EINVAL;
    p++;
  }
  *start = strtoull(p, NULL, 10);
  return 0;
}

static uint32_t fnv1a(const char *s, uint32_t h) {
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 16777619u;
  return h;
}

/* A hash of this boot's random id (0 when unknown); the same in every
 * process until the next boot, so computed once. */
static uint32_t boot_hash(void) {
  static _Atomic uint32_t cached; /* 0: not yet */
  char buf[64];
  uint32_t h = atomic_load_explicit(&cached, memory_order_relaxed);
  if (h)
    return h == 1 ? 0 : h;
  h = 1;
  if (read_small("/proc/sys/kernel/random/boot_id", buf, sizeof buf) == 0)
    h = fnv1a(buf, 2166136261u) | 2u; /* never 0 or 1 */
  atomic_store_explicit(&cached, h, memory_order_relaxed);
  return h == 1 ? 0 : h;
}

static uint32_t tag_of(uint64_t start) {
  uint32_t tag = (uint32_t)start ^ boot_hash();
  return tag ? tag : 1;
}

/* The PID namespace of this thread (the inode of /proc/self/ns/pid
 * folded to a nonzero 32 bits), or 0 when it cannot be learnt now. A
 * wrong number would be worse than none (owners in "other" namespaces are
 * never judged), so a failed look gives 0 and is retried before the next
 * judgement (ns_retry). */
static uint32_t namespaces(void) {
  struct stat st;
  uint32_t h = 0;
  int fd = mmf__sys.open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC, 0);
  ns_retry = 1;
  if (fd < 0)
    return 0;
  if (mmf__sys.fstat(fd, &st) == 0) {
    h = (uint32_t)((uint64_t)st.st_ino ^ ((uint64_t)st.st_ino >> 32));
    h = h ? h : 1;
    ns_retry = 0;
  }
  mmf__sys.close(fd);
  return h;
}

static void learn_self(void) {
  char state;
  uint64_t start;
  mmf__owner_self.pid = (uint32_t)mmf__sys.getpid();
  mmf__owner_self.id = (uint32_t)mmf__sys.gettid() & ID_MASK;
  if (!mmf__owner_self.id)
    mmf__owner_self.id = mmf__owner_self.pid & ID_MASK;
  mmf__owner_self.tag =
      task_stat(mmf__owner_self.id, &state, &start) == 0 ? tag_of(start) : 0;
  mmf__owner_self.ns = namespaces();
}

int mmf__os_owner_alive(uint32_t id, uint32_t tag, uint32_t ns) {
  const mmf__owner *me = mmf__os_owner_self();
  char state;
  uint64_t start;
  int e;
  if (ns_retry)
    ((mmf__owner *)me)->ns = namespaces();
  if (ns && me->ns && ns != me->ns)
    return 1; /* its TIDs and times mean other things here */
  e = task_stat(id, &state, &start);
  if (e == 0) {
    if (state == 'Z' || state == 'X' || state == 'x')
      return 0;
    return !(tag && tag_of(start) != tag);
  }
  /* No entry may also mean a /proc we cannot see into: only a task that
   * does not exist at all is gone. */
  if (mmf__sys.kill((pid_t)id, 0) != 0 && errno == ESRCH)
    return 0;
  return 1;
}

int mmf__os_owner_gone(uint32_t id, uint32_t tag, uint32_t ns) {
  const mmf__owner *me = mmf__os_owner_self();
  (void)tag;
  if (ns && me->ns && ns != me->ns)
    return 0;
  return mmf__sys.kill((pid_t)id, 0) != 0 && errno == ESRCH;
}

#else /* no /proc: the owner is a process */

static _Atomic uint32_t thread_serial;

static void learn_self(void) {
  uint32_t id;
  do
    id = (atomic_fetch_add(&thread_serial, 1) + 1) & ID_MASK;
  while (!id);
  mmf__owner_self.id = id;
  mmf__owner_self.pid = (uint32_t)mmf__sys.getpid();
  mmf__owner_self.tag = mmf__owner_self.pid;
  mmf__owner_self.ns = 0;
}

int mmf__os_owner_alive(uint32_t id, uint32_t tag, uint32_t ns) {
  (void)id;
  (void)ns;
  if (tag && mmf__sys.kill((pid_t)tag, 0) != 0 && errno == ESRCH)
    return 0;
  return 1;
}

int mmf__os_owner_gone(uint32_t id, uint32_t tag, uint32_t ns) {
  return !mmf__os_owner_alive(id, tag, ns);
}

#endif

const mmf__owner *mmf__os_owner_learn(void) {
  /* The uncontended lock and unlock take a known owner for a ready guard
   * too (one check instead of two), so ready it first; it cannot fail on
   * POSIX. */
  (void)mmf__os_guard_thread_init();
  (void)pthread_once(&fork_hook_once, install_fork_hook);
  learn_self();
  return &mmf__owner_self;
}
