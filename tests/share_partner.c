/*
 * share_partner.c - the other process of the tests that share a mutex
 * between a 32-bit and a 64-bit program (test_mutex.c). Built in every
 * build; scripts/check-m32.sh hands the 32-bit tests the path of the
 * 64-bit build's copy in MMF_SHARE_PARTNER.
 *
 *   share_partner bits                print the pointer size in bits
 *   share_partner add PATH N [none]   map PATH, wait until its word at
 *                                     192 is 1, then N times: lock the
 *                                     mutex at 0, add 1 to the 64-bit
 *                                     counter at 128, unlock ("none":
 *                                     without the lock)
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mmf.h"

static int fail(const char *what, int rc) {
  fprintf(stderr, "share_partner: %s: %s\n", what, mmf_errname(rc));
  return 1;
}

int main(int argc, char **argv) {
  mmf_map *m = NULL;
  long n;
  int rc, lock;
  if (argc == 2 && strcmp(argv[1], "bits") == 0) {
    printf("%d\n", (int)(sizeof(void *) * 8));
    return 0;
  }
  if (argc < 4 || strcmp(argv[1], "add") != 0) {
    fprintf(stderr, "usage: share_partner bits | add PATH N [none]\n");
    return 2;
  }
  n = strtol(argv[3], NULL, 10);
  lock = argc < 5 || strcmp(argv[4], "none") != 0;
  rc = mmf_open(&m, argv[2], MMF_WRITE, NULL);
  if (rc)
    return fail("open", rc);
  unsigned char *p = mmf_data(m);
  volatile uint64_t *counter = (volatile uint64_t *)(p + 128);
  atomic_fetch_add((_Atomic uint32_t *)(p + 196), 1);
  while (atomic_load((_Atomic uint32_t *)(p + 192)) == 0) {
  }
  for (long i = 0; i < n; i++) {
    if (lock && (rc = mmf_mutex_lock(m, 0, -1)) != 0)
      return fail("lock", rc);
    /* Read, a little work, write: as test_mutex.c's own side does. */
    uint64_t v = *counter;
    for (volatile int k = 0; k < 20; k++) {
    }
    *counter = v + 1;
    if (lock && (rc = mmf_mutex_unlock(m, 0)) != 0)
      return fail("unlock", rc);
  }
  return mmf_close(m) ? 1 : 0;
}
