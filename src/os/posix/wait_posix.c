/*
 * wait_posix.c - sleeping on a shared 32-bit word until another process
 * wakes us.
 *
 * Linux: a futex without FUTEX_PRIVATE_FLAG, so the kernel keys the word
 * on the file or shared memory behind the address and a wake from any
 * process that maps the same bytes finds the sleeper. The kernel compares
 * the word with the expected value atomically with going to sleep, which
 * is what makes a wake that follows a change impossible to lose.
 *
 * Elsewhere (macOS, the BSDs) no public call sleeps on a word shared
 * between processes, so the waiter polls: it looks at the word, sleeps 50
 * us, looks again, and doubles the sleep up to 5 ms. A blocked waiter then
 * wakes at most 200 times a second (under 1 % of a core) and sees a
 * change at most 5 ms late; wake has nothing to do. Tests use the same
 * path on Linux by clearing the futex entries of the call table.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <time.h>

#include "os/os.h"
#include "os/posix/sys_posix.h"

#define POLL_FIRST_NS 50000
#define POLL_MAX_NS 5000000
#define NS_PER_S 1000000000
/* A timeout this long (36 years) is no limit; it also keeps the deadline
 * inside a 32-bit time_t. */
#define FOREVER_NS ((int64_t)1 << 60)

static int fail(int *oserr, int e) {
  if (oserr)
    *oserr = e;
  return mmf__os_error(e);
}

static int monotonic_now(struct timespec *ts, int *oserr) {
  if (mmf__sys.clock_gettime(CLOCK_MONOTONIC, ts) != 0)
    return fail(oserr, errno);
  return 0;
}

static void add_ns(struct timespec *ts, int64_t ns) {
  ts->tv_sec += (time_t)(ns / NS_PER_S);
  ts->tv_nsec += (long)(ns % NS_PER_S);
  if (ts->tv_nsec >= NS_PER_S) {
    ts->tv_sec++;
    ts->tv_nsec -= NS_PER_S;
  }
}

/* Nanoseconds from a to b (negative when b is earlier). */
static int64_t ns_between(const struct timespec *a, const struct timespec *b) {
  return (int64_t)(b->tv_sec - a->tv_sec) * NS_PER_S +
         (b->tv_nsec - a->tv_nsec);
}

static int wait_futex(const mmf__place *p, uint32_t expected,
                      const struct timespec *deadline, int (*check)(void *),
                      void *ctx, int *oserr) {
  int c;
  for (;;) {
    if (mmf__sys.futex_wait((uint32_t *)p->addr, expected, deadline) == 0)
      return 0;
    switch (errno) {
    case EAGAIN: /* the word no longer held expected */
      return 0;
    case EINTR: /* a signal; a wake is never lost to it: sleep again */
      continue;
    case ETIMEDOUT:
      return MMF_ETIMEDOUT;
    case EFAULT:
      /* The page could not be read: a fault the guard can classify. */
      c = check(ctx);
      if (c <= 0)
        return c;
      return fail(oserr, EFAULT);
    default:
      return fail(oserr, errno);
    }
  }
}

static int wait_poll(const struct timespec *deadline, int (*check)(void *),
                     void *ctx, int *oserr) {
  int64_t nap_ns = POLL_FIRST_NS, left;
  struct timespec now, nap;
  int c, rc;
  for (;;) {
    c = check(ctx);
    if (c <= 0)
      return c;
    left = nap_ns;
    if (deadline) {
      rc = monotonic_now(&now, oserr);
      if (rc)
        return rc;
      left = ns_between(&now, deadline);
      if (left <= 0)
        return MMF_ETIMEDOUT;
      if (left > nap_ns)
        left = nap_ns;
    }
    nap.tv_sec = (time_t)(left / NS_PER_S);
    nap.tv_nsec = (long)(left % NS_PER_S);
    if (mmf__sys.nanosleep(&nap, NULL) != 0 && errno != EINTR)
      return fail(oserr, errno);
    if (nap_ns < POLL_MAX_NS)
      nap_ns = nap_ns * 2 > POLL_MAX_NS ? POLL_MAX_NS : nap_ns * 2;
  }
}

int mmf__os_wait(const mmf__place *p, uint32_t expected, int64_t timeout_ns,
                 int (*check)(void *ctx), void *ctx, int *oserr) {
  struct timespec deadline, *dl = NULL;
  int rc;
  if (timeout_ns >= 0 && timeout_ns < FOREVER_NS) {
    rc = monotonic_now(&deadline, oserr);
    if (rc)
      return rc;
    add_ns(&deadline, timeout_ns);
    dl = &deadline;
  }
  if (mmf__sys.futex_wait)
    return wait_futex(p, expected, dl, check, ctx, oserr);
  return wait_poll(dl, check, ctx, oserr);
}

int mmf__os_monotonic_ns(int64_t *now, int *oserr) {
  struct timespec ts;
  int rc = monotonic_now(&ts, oserr);
  *now = rc ? 0 : (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
  return rc;
}

int mmf__os_wake(const mmf__place *p, int count, int *oserr) {
  if (!mmf__sys.futex_wake)
    return 0; /* pollers see the change by themselves */
  if (mmf__sys.futex_wake((uint32_t *)p->addr, count) < 0)
    return fail(oserr, errno);
  return 0;
}
