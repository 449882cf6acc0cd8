/*
 * ipc_flag - one process raises a flag, another sleeps until it does: no
 * spinning.
 *
 *   ipc_flag                 over named shared memory, then over a file
 *   ipc_flag shm | file      one of the two
 *
 * The classic version of this program spins on a volatile flag, burning a
 * core while it waits. Here the waiting process sleeps in the kernel with
 * mmf_wait() until the flag's word changes and the raiser calls
 * mmf_wake(). The waiter reports how long it slept and how little CPU
 * time that cost. Named shared memory (mmf_shm_open) needs no file; a
 * file mapped MMF_WRITE by both processes works the same way.
 */
#include "example_proc.h"

#include <limits.h>
#include <stdatomic.h>

#define FLAG 0
#define READY 4
#define REGION_SIZE 4096
#define WAIT_MS 300

static _Atomic uint32_t *word(mmf_map *m, uint64_t off) {
  return (_Atomic uint32_t *)((unsigned char *)mmf_data(m) + off);
}

static int open_shared(mmf_map **m, const char *kind, const char *where,
                       int create) {
  mmf_options o = {0};
  if (create) {
    o.size = REGION_SIZE;
    o.flags = MMF_CREATE;
  }
  if (strcmp(kind, "shm") == 0)
    return mmf_shm_open(m, where, MMF_WRITE, &o);
  return mmf_open(m, where, MMF_WRITE, &o);
}

/* ipc_flag --waiter KIND WHERE */
static int waiter(const char *kind, const char *where) {
  mmf_map *m = NULL;
  int rc = open_shared(&m, kind, where, 0);
  if (rc != 0)
    return ex_fail(where, rc);
  double t0 = ex_now_ms(), cpu0 = ex_cpu_ms();
  atomic_store(word(m, READY), 1);
  mmf_wake(m, READY, INT_MAX);
  /* Sleep while the flag is 0. A wait may end early (a signal): loop. */
  while (atomic_load(word(m, FLAG)) == 0) {
    rc = mmf_wait(m, FLAG, 0, -1);
    if (rc != 0)
      break;
  }
  double slept = ex_now_ms() - t0, cpu = ex_cpu_ms() - cpu0;
  uint32_t flag = atomic_load(word(m, FLAG));
  mmf_close(m);
  if (rc != 0)
    return ex_fail("mmf_wait", rc);
  printf("  waiter: flag is %u after %.0f ms asleep, %.1f ms of CPU used "
         "meanwhile\n",
         flag, slept, cpu);
  return 0;
}

static int demo(const char *self, const char *kind) {
  char where[1024];
  mmf_map *m = NULL;
  int rc;
  if (strcmp(kind, "shm") == 0) {
    snprintf(where, sizeof where, "mmf-ipc-flag-%ld", (long)ex_now_ms());
    rc = open_shared(&m, kind, where, 1);
    printf("over named shared memory \"%s\":\n", where);
    fflush(stdout);
  } else {
    if (ex_temp_file(where, sizeof where, "ipc-flag", "", 0) != 0)
      return 1;
    rc = open_shared(&m, kind, where, 1);
    printf("over a file:\n");
    fflush(stdout);
  }
  if (rc != 0)
    return ex_fail(where, rc);
  ex_proc p;
  const char *args[] = {"--waiter", kind, where, NULL};
  if (ex_spawn(self, args, &p) != 0) {
    rc = 1;
  } else {
    while (atomic_load(word(m, READY)) == 0)
      mmf_wait(m, READY, 0, -1);
    printf("  raiser: the waiter sleeps; raising the flag in %d ms\n", WAIT_MS);
    fflush(stdout);
    ex_sleep_ms(WAIT_MS);
    atomic_store(word(m, FLAG), 1); /* change the word, then wake */
    rc = mmf_wake(m, FLAG, INT_MAX);
    if (rc != 0)
      ex_fail("mmf_wake", rc);
    if (ex_wait(p) != 0)
      rc = 1;
  }
  mmf_close(m);
  if (strcmp(kind, "shm") == 0)
    mmf_shm_unlink(where); /* POSIX regions live until unlinked */
  else
    remove(where);
  return rc;
}

int main(int argc, char **argv) {
  if (argc == 4 && strcmp(argv[1], "--waiter") == 0)
    return waiter(argv[2], argv[3]);
  if (argc > 2 || (argc == 2 && strcmp(argv[1], "shm") != 0 &&
                   strcmp(argv[1], "file") != 0)) {
    fprintf(stderr, "usage: ipc_flag [shm | file]\n");
    return 2;
  }
  if (argc == 2)
    return demo(argv[0], argv[1]);
  return demo(argv[0], "shm") || demo(argv[0], "file");
}
