/*
 * shared_dict - N processes look words up in one mapped dictionary; the
 * memory is used once, not N times.
 *
 *   shared_dict [N]          N worker processes (default 4)
 *
 * The parent writes a sorted dictionary of fixed-width records to a file.
 * Each worker maps the file read-only (MMF_READ | MMF_POPULATE), so its
 * pages are the page cache's pages, shared by every process that maps
 * the file, and looks words up by binary search. Reading the file into
 * malloc'd buffers instead would cost N copies.
 *
 * While all workers are alive (each sleeps in mmf_wait until the parent
 * says "done"), the parent adds up their proportional set size from
 * /proc/PID/smaps_rollup: each shared page counts 1/k in each of the k
 * processes that map it, so the sum is the memory they use together. It
 * prints that next to the file size and to what N copies would take.
 * (Without /proc, on Windows or macOS, the lookups still run.)
 */
#include "example_proc.h"

#include <limits.h>
#include <stdatomic.h>

#define RECORD 32
#define WORDS 400000 /* 12.8 MB of dictionary */
#define LOOKUPS 200000
#define READY 0
#define DONE 4

static _Atomic uint32_t *word(mmf_map *m, uint64_t off) {
  return (_Atomic uint32_t *)((unsigned char *)mmf_data(m) + off);
}

/* The i-th word: "w" and i in base 26 as letters, padded: sorted by i. */
static void make_word(uint32_t i, char rec[RECORD]) {
  memset(rec, 0, RECORD);
  rec[0] = 'w';
  for (int k = 6; k >= 1; k--, i /= 26)
    rec[k] = (char)('a' + i % 26);
}

/* The lookup runs under mmf_guard: a dictionary cut under us would be an
 * error code, not SIGBUS. */
struct lookup {
  const char *dict;
  size_t n;
  uint32_t seed;
  long found;
};

static int lookups(void *ctx) {
  struct lookup *l = ctx;
  char want[RECORD];
  for (long q = 0; q < LOOKUPS; q++) {
    l->seed = l->seed * 1103515245u + 12345u;
    make_word((l->seed >> 8) % (WORDS + WORDS / 10), want); /* some miss */
    size_t lo = 0, hi = l->n;
    while (lo < hi) {
      size_t mid = lo + (hi - lo) / 2;
      int c = memcmp(l->dict + mid * RECORD, want, RECORD);
      if (c == 0) {
        l->found++;
        break;
      }
      if (c < 0)
        lo = mid + 1;
      else
        hi = mid;
    }
  }
  return 0;
}

/* shared_dict --worker DICT CONTROL SEED */
static int worker(const char *dict_path, const char *ctl_path, uint32_t seed) {
  mmf_map *dict = NULL, *ctl = NULL;
  int rc = mmf_open(&dict, dict_path, MMF_READ,
                    &(mmf_options){.flags = MMF_POPULATE | MMF_RANDOM});
  if (rc == 0)
    rc = mmf_open(&ctl, ctl_path, MMF_WRITE, NULL);
  if (rc != 0)
    return ex_fail("worker", rc);
  struct lookup l = {mmf_data(dict), mmf_size(dict) / RECORD, seed, 0};
  rc = mmf_guard(dict, lookups, &l);
  if (rc != 0)
    return ex_fail("lookups", rc);
  printf("  worker %u: %d lookups, %ld found\n", seed, LOOKUPS, l.found);
  fflush(stdout);
  /* Stay alive, asleep, until the parent has measured. */
  atomic_fetch_add(word(ctl, READY), 1);
  mmf_wake(ctl, READY, INT_MAX);
  while (atomic_load(word(ctl, DONE)) == 0)
    mmf_wait(ctl, DONE, 0, -1);
  mmf_close(ctl);
  mmf_close(dict);
  return 0;
}

/* The "Pss:" line of /proc/PID/smaps_rollup in KiB, or -1. */
static long pss_kib(intptr_t pid) {
  char path[64], line[256];
  long kib = -1;
  snprintf(path, sizeof path, "/proc/%ld/smaps_rollup", (long)pid);
  FILE *f = fopen(path, "r");
  if (!f)
    return -1;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "Pss: %ld kB", &kib) == 1)
      break;
  fclose(f);
  return kib;
}

static int make_dictionary(const char *path) {
  FILE *f = fopen(path, "wb");
  char rec[RECORD];
  if (!f)
    return -1;
  for (uint32_t i = 0; i < WORDS; i++) {
    make_word(i, rec);
    if (fwrite(rec, RECORD, 1, f) != 1) {
      fclose(f);
      return -1;
    }
  }
  return fclose(f);
}

int main(int argc, char **argv) {
  if (argc == 5 && strcmp(argv[1], "--worker") == 0)
    return worker(argv[2], argv[3], (uint32_t)strtoul(argv[4], NULL, 10));
  int n = argc > 1 ? atoi(argv[1]) : 4;
  if (n < 1 || n > 8) {
    fprintf(stderr, "usage: shared_dict [N]   (1 to 8 workers)\n");
    return 2;
  }
  char dict[1024], ctl_path[1024];
  if (ex_temp_file(dict, sizeof dict, "dict", "", 0) != 0)
    return 1;
  if (ex_temp_file(ctl_path, sizeof ctl_path, "dict-ctl", "", 0) != 0) {
    remove(dict);
    return 1;
  }
  int rc = make_dictionary(dict) == 0 ? 0 : 1;
  mmf_map *ctl = NULL;
  if (rc == 0)
    rc = mmf_open(&ctl, ctl_path, MMF_WRITE, &(mmf_options){.size = 4096});
  if (rc != 0) {
    remove(dict);
    remove(ctl_path);
    return rc == 1 ? 1 : ex_fail(ctl_path, rc);
  }
  const double dict_mb = (double)WORDS * RECORD / 1e6;
  printf("dictionary: %d words, %.1f MB; %d workers map it read-only:\n", WORDS,
         dict_mb, n);
  ex_proc w[8];
  int started = 0;
  char seed[8][16];
  for (; started < n; started++) {
    snprintf(seed[started], sizeof seed[0], "%d", started + 1);
    const char *args[] = {"--worker", dict, ctl_path, seed[started], NULL};
    if (ex_spawn(argv[0], args, &w[started]) != 0)
      break;
  }
  uint32_t ready;
  while ((ready = atomic_load(word(ctl, READY))) < (uint32_t)started)
    mmf_wait(ctl, READY, ready, -1);
  /* All workers hold the whole dictionary mapped now. */
  long total = 0;
  for (int i = 0; i < started && total >= 0; i++) {
    long k = pss_kib(w[i].id);
    total = k < 0 ? -1 : total + k;
  }
  if (total >= 0)
    printf("memory of the %d workers together (proportional set size): "
           "%.1f MB, for a %.1f MB dictionary (%d copies: %.1f MB)\n",
           started, (double)total * 1024 / 1e6, dict_mb, started,
           started * dict_mb);
  else
    printf("(proportional set size needs /proc/PID/smaps_rollup: not "
           "measured here)\n");
  atomic_store(word(ctl, DONE), 1);
  mmf_wake(ctl, DONE, INT_MAX);
  for (int i = 0; i < started; i++)
    if (ex_wait(w[i]) != 0)
      rc = 1;
  if (started < n)
    rc = 1;
  mmf_close(ctl);
  remove(dict);
  remove(ctl_path);
  return rc;
}
