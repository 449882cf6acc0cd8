/*
 * toggle - one process toggles a byte of a file; another maps the file
 * twice, shared and private, and prints what each map sees.
 *
 *   toggle                   (takes no arguments)
 *
 * A shared map (MMF_WRITE or MMF_READ) is the file: another process's
 * stores show through at once. A private map (MMF_COPY) is a copy-on-write
 * view: until this process writes a page, Linux and Windows show it the
 * file's current bytes (POSIX leaves that open); from the first write on,
 * the page is this process's own and the file's changes no longer show.
 * The two processes take turns with mmf_wait / mmf_wake on a round number
 * in the same file, so the output comes in order.
 */
#include "example_proc.h"

#include <limits.h>
#include <stdatomic.h>

#define BYTE 0   /* the byte toggled */
#define ROUND 64 /* u32: the toggler's round */
#define SEEN 68  /* u32: the last round the watcher printed */
#define ROUNDS 5
#define PRIVATE_WRITE_ROUND 3

static _Atomic uint32_t *word(mmf_map *m, uint64_t off) {
  return (_Atomic uint32_t *)((unsigned char *)mmf_data(m) + off);
}

/* Sleep until the word at off reaches at least n. */
static void wait_for(mmf_map *m, uint64_t off, uint32_t n) {
  uint32_t v;
  while ((v = atomic_load(word(m, off))) < n)
    mmf_wait(m, off, v, -1);
}

/* toggle --watcher FILE */
static int watcher(const char *path) {
  mmf_map *shared = NULL, *priv = NULL;
  int rc = mmf_open(&shared, path, MMF_WRITE, NULL);
  if (rc == 0)
    rc = mmf_open(&priv, path, MMF_COPY, NULL);
  if (rc != 0)
    return ex_fail(path, rc);
  volatile unsigned char *s = mmf_data(shared), *p = mmf_data(priv);
  for (uint32_t r = 1; r <= ROUNDS; r++) {
    wait_for(shared, ROUND, r);
    printf("  round %u: shared map sees '%c', private map sees '%c'\n", r,
           s[BYTE], p[BYTE]);
    if (r == PRIVATE_WRITE_ROUND) {
      p[BYTE] = '*';
      printf("           (the watcher writes '*' into its private map: "
             "that page is now its own)\n");
    }
    fflush(stdout);
    atomic_store(word(shared, SEEN), r);
    mmf_wake(shared, SEEN, INT_MAX);
  }
  mmf_close(priv);
  mmf_close(shared);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "--watcher") == 0)
    return watcher(argv[2]);
  char path[1024];
  if (ex_temp_file(path, sizeof path, "toggle", "", 0) != 0)
    return 1;
  mmf_map *m = NULL;
  int rc = mmf_open(&m, path, MMF_WRITE,
                    &(mmf_options){.size = 4096, .flags = MMF_CREATE});
  if (rc != 0) {
    remove(path);
    return ex_fail(path, rc);
  }
  unsigned char *b = mmf_data(m);
  b[BYTE] = 'A';
  printf("the toggler flips byte 0 of a file between 'A' and 'B'; the "
         "watcher maps the file shared and private:\n");
  ex_proc p;
  const char *args[] = {"--watcher", path, NULL};
  rc = ex_spawn(argv[0], args, &p);
  for (uint32_t r = 1; rc == 0 && r <= ROUNDS; r++) {
    b[BYTE] = b[BYTE] == 'A' ? 'B' : 'A';
    atomic_store(word(m, ROUND), r);
    mmf_wake(m, ROUND, INT_MAX);
    wait_for(m, SEEN, r);
  }
  if (rc == 0 && ex_wait(p) != 0)
    rc = 1;
  mmf_close(m);
  remove(path);
  return rc;
}
