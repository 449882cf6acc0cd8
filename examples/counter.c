/*
 * counter - two processes add to one counter in a shared file, taking
 * turns with a lock; without one, updates are lost.
 *
 *   counter [N]              2 x N increments (default 1,000,000), once
 *                            under mmf_lock_file and once under
 *                            mmf_mutex_lock
 *   counter --no-lock [N]    the same without a lock: updates are lost
 *
 * Each process maps the same file with MMF_WRITE and runs, N times:
 * read the counter, add 1, write it back. Two processes doing that at
 * once overwrite each other's work: both read 41, both write 42, one
 * increment is gone. A lock makes the read and the write one step:
 *  - mmf_lock_file: a byte-range lock on the counter's bytes in the file,
 *    owned by the map and released by the OS if its process dies;
 *  - mmf_mutex_lock: a robust mutex in the first 64 bytes of the file
 *    itself (zero bytes are an unlocked mutex: nothing to initialise),
 *    which tells the next locker if its holder died holding it.
 * The workers start together: each raises a "ready" count and sleeps in
 * mmf_wait until the parent sets "go" and wakes them all.
 */
#include "example_proc.h"

#include <limits.h>
#include <stdatomic.h>

/* The shared file: the mutex, the counter, two control words. */
#define MUTEX 0
#define COUNTER 64
#define GO 128
#define READY 132
#define FILE_SIZE 4096

static _Atomic uint32_t *word(mmf_map *m, uint64_t off) {
  return (_Atomic uint32_t *)((unsigned char *)mmf_data(m) + off);
}

static int take(mmf_map *m, char how) {
  if (how == 'f')
    return mmf_lock_file(m, COUNTER, 8, MMF_LOCK_EXCLUSIVE);
  if (how == 'm')
    return mmf_mutex_lock(m, MUTEX, -1);
  return 0;
}

static int give(mmf_map *m, char how) {
  if (how == 'f')
    return mmf_unlock_file(m, COUNTER, 8);
  if (how == 'm')
    return mmf_mutex_unlock(m, MUTEX);
  return 0;
}

/* counter --worker HOW FILE N: one of the two processes. */
static int worker(char how, const char *path, long n) {
  mmf_map *m = NULL;
  int rc = mmf_open(&m, path, MMF_WRITE, NULL);
  if (rc != 0)
    return ex_fail(path, rc);
  volatile uint64_t *counter =
      (volatile uint64_t *)((unsigned char *)mmf_data(m) + COUNTER);
  /* Ready; then sleep (no spinning) until the parent says go. */
  atomic_fetch_add(word(m, READY), 1);
  mmf_wake(m, READY, INT_MAX);
  while (atomic_load(word(m, GO)) == 0)
    mmf_wait(m, GO, 0, -1);
  for (long i = 0; i < n && rc == 0; i++) {
    rc = take(m, how);
    if (rc != 0)
      break;
    uint64_t v = *counter; /* read ... */
    for (volatile int k = 0; k < 20; k++) {
    }                 /* ... a little work ... */
    *counter = v + 1; /* ... write back */
    rc = give(m, how);
  }
  mmf_close(m);
  return rc ? ex_fail("lock", rc) : 0;
}

/* Run two workers with HOW over a fresh file; the final counter value in
 * *total. */
static int run(const char *self, const char *path, char how, long n,
               uint64_t *total, double *ms) {
  mmf_map *m = NULL;
  int rc = mmf_open(
      &m, path, MMF_WRITE,
      &(mmf_options){.size = FILE_SIZE, .flags = MMF_CREATE | MMF_TRUNCATE});
  if (rc != 0)
    return ex_fail(path, rc);
  char how_s[2] = {how, '\0'}, n_s[32];
  snprintf(n_s, sizeof n_s, "%ld", n);
  const char *args[] = {"--worker", how_s, path, n_s, NULL};
  ex_proc w[2];
  int started = 0;
  for (; started < 2; started++)
    if (ex_spawn(self, args, &w[started]) != 0)
      break;
  /* Wait (asleep) until the started workers are ready, then wake them
   * together. */
  uint32_t ready;
  while ((ready = atomic_load(word(m, READY))) < (uint32_t)started)
    mmf_wait(m, READY, ready, -1);
  double t0 = ex_now_ms();
  atomic_store(word(m, GO), 1);
  mmf_wake(m, GO, INT_MAX);
  int bad = started < 2;
  for (int i = 0; i < started; i++)
    bad |= ex_wait(w[i]) != 0;
  *ms = ex_now_ms() - t0;
  rc = mmf_read(m, COUNTER, total, sizeof *total);
  mmf_close(m);
  if (rc != 0)
    return ex_fail("mmf_read", rc);
  if (bad) {
    fprintf(stderr, "error: a worker failed\n");
    return 1;
  }
  return 0;
}

static void show(const char *what, long n, uint64_t total, double ms) {
  uint64_t want = 2 * (uint64_t)n;
  printf("%-16s 2 x %ld increments: counter = %llu", what, n,
         (unsigned long long)total);
  if (total == want)
    printf(" (none lost)");
  else
    printf(" (%llu lost)", (unsigned long long)(want - total));
  printf("  [%.0f ms]\n", ms);
}

int main(int argc, char **argv) {
  if (argc == 5 && strcmp(argv[1], "--worker") == 0)
    return worker(argv[2][0], argv[3], strtol(argv[4], NULL, 10));
  int no_lock = argc > 1 && strcmp(argv[1], "--no-lock") == 0;
  long n = argc > 1 + no_lock ? strtol(argv[1 + no_lock], NULL, 10) : 1000000;
  if (n <= 0) {
    fprintf(stderr, "usage: counter [--no-lock] [N]\n");
    return 2;
  }
  char path[1024];
  if (ex_temp_file(path, sizeof path, "counter", "", 0) != 0)
    return 1;
  uint64_t total = 0;
  double ms = 0;
  int rc = 0;
  if (no_lock) {
    rc = run(argv[0], path, 'n', n, &total, &ms);
    if (rc == 0)
      show("no lock:", n, total, ms);
  } else {
    rc = run(argv[0], path, 'f', n, &total, &ms);
    if (rc == 0) {
      show("mmf_lock_file:", n, total, ms);
      rc = total != 2 * (uint64_t)n;
    }
    if (rc == 0)
      rc = run(argv[0], path, 'm', n, &total, &ms);
    if (rc == 0) {
      show("mmf_mutex_lock:", n, total, ms);
      rc = total != 2 * (uint64_t)n;
    }
  }
  remove(path);
  return rc;
}
