/*
 * thread_posix.c - the scans' worker threads on POSIX (os.h, "Threads").
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <string.h>

#include "os/os.h"
#include "os/posix/sys_posix.h"

_Static_assert(sizeof(pthread_t) <= sizeof(intptr_t),
               "a pthread_t fits the thread record");

static int fail(int *oserr, int e) {
  if (oserr)
    *oserr = e;
  return mmf__os_error(e);
}

/*
 * The worker blocks the asynchronous signals first thing: a program that
 * handles SIGINT or SIGCHLD on its own threads must not find its handler
 * running on a thread of ours. (Blocking them in the creator around
 * pthread_create would close the short window before this, but a failure
 * to restore the creator's mask would then be the caller's problem.) If
 * blocking fails the worker runs with the creator's mask, as a thread the
 * program made would.
 */
static void *trampoline(void *arg) {
  mmf__thread *t = arg;
  sigset_t set;
  sigfillset(&set);
  sigdelset(&set, SIGBUS);
  sigdelset(&set, SIGSEGV);
  sigdelset(&set, SIGFPE);
  sigdelset(&set, SIGILL);
  (void)mmf__sys.thread_sigmask(SIG_BLOCK, &set, NULL);
  t->fn(t->arg);
  return NULL;
}

int mmf__os_thread_start(mmf__thread *t, void (*fn)(void *arg), void *arg,
                         int *oserr) {
  pthread_t id;
  int e;
  t->fn = fn;
  t->arg = arg;
  t->h = 0;
  e = mmf__sys.thread_create(&id, trampoline, t);
  if (e)
    return fail(oserr, e);
  memcpy(&t->h, &id, sizeof id);
  return 0;
}

int mmf__os_thread_join(mmf__thread *t, int *oserr) {
  pthread_t id;
  int e;
  memcpy(&id, &t->h, sizeof id);
  e = mmf__sys.thread_join(id);
  return e ? fail(oserr, e) : 0;
}

void mmf__os_thread_yield(void) { (void)sched_yield(); }
