/*
 * wait.c - mmf_wait and mmf_wake: sleeping on a 32-bit word of a shared
 * map until another thread or process changes it and wakes the sleepers.
 *
 * The word is read here, under the fault guard, before the backend is
 * asked to sleep: a word that already differs costs no system call, and a
 * word in a page cut off its file is an error code instead of SIGBUS.
 */
#include <stdatomic.h>

#include "share/share.h"

typedef struct word_check {
  mmf_map *m;
  _Atomic uint32_t *word;
  uint32_t expected;
} word_check;

static int load_compare(void *ctx) {
  word_check *c = ctx;
  return atomic_load_explicit(c->word, memory_order_acquire) == c->expected;
}

/* 1 while the word holds expected, 0 once it does not, or a fault code. */
static int still_expected(void *ctx) {
  word_check *c = ctx;
  return mmf__share_guarded(c->m, (void *)c->word, sizeof(uint32_t), 0,
                            load_compare, c);
}

int mmf_wait(mmf_map *m, uint64_t off, uint32_t expected, int64_t timeout_ns) {
  word_check c;
  mmf__place pl;
  void *p;
  int rc, oserr = 0;
  rc = mmf__share_bytes(m, off, sizeof(uint32_t), sizeof(uint32_t), &p);
  if (rc)
    return mmf__share_fail(rc, 0);
  c.m = m;
  c.word = p;
  c.expected = expected;
  rc = still_expected(&c);
  if (rc <= 0)
    return mmf__share_fail(rc, 0);
  if (timeout_ns == 0)
    return mmf__share_fail(MMF_ETIMEDOUT, 0);
  mmf__share_place(m, p, &pl);
  rc = mmf__os_wait(&pl, expected, timeout_ns, still_expected, &c, &oserr);
  return mmf__share_fail(rc, rc ? oserr : 0);
}

int mmf_wake(mmf_map *m, uint64_t off, int count) {
  word_check c;
  mmf__place pl;
  void *p;
  int rc, oserr = 0;
  rc = mmf__share_bytes(m, off, sizeof(uint32_t), sizeof(uint32_t), &p);
  if (rc == 0 && count < 1)
    rc = MMF_EINVAL;
  if (rc)
    return mmf__share_fail(rc, 0);
  mmf__share_place(m, p, &pl);
  rc = mmf__os_wake(&pl, count, &oserr);
  if (rc) {
    /* The kernel could not reach the page: a fault says why. */
    c.m = m;
    c.word = p;
    c.expected = 0;
    int probe = still_expected(&c);
    if (probe < 0)
      return mmf__share_fail(probe, 0);
  }
  return mmf__share_fail(rc, rc ? oserr : 0);
}
