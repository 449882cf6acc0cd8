/*
 * test_fault_race.c - a file truncated and extended again and again while
 * two threads read it through their own maps.
 *
 * The truncating thread toggles the file between its full size and half of
 * it; each reader reads random ranges (mmf_read, mmf_count_byte) and, when
 * the map was clamped by a truncation, grows it back with mmf_resize once
 * the file is long again. Every call must return 0, MMF_ETRUNCATED or
 * MMF_ERANGE (never MMF_EIO, never a poisoned handle), and every byte read
 * must be the file's pattern or, in the half that was cut, zero.
 *
 * The run lasts MMF_RACE_SECONDS (default 3) seconds. How many faults it
 * sees depends on the machine; the pass criterion does not: each reader
 * also takes one fault on a file state it controls before it stops.
 *
 * The same source is built with -fsanitize=thread (test_fault_race_tsan)
 * together with the library sources, where the compiler supports it.
 *
 * On Windows it runs under Wine: test_truncate_mapped() grows the file
 * directly and shrinks it with the host's truncate (a Windows program
 * cannot shrink a mapped file), a process start of several milliseconds
 * per cut. So there the same seconds hold a hundred or so cycles rather
 * than tens of thousands; the pass criterion, which does not count cycles,
 * is the same.
 */
#include "test.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#ifdef _WIN32
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>
#else
#include <time.h>
#endif

enum { READERS = 2, RACE_PAGES = 64, MAX_READ = 3 * 4096 };

typedef struct reader {
  test_thread th;
  int index;
  const char *path;
  uint64_t size, half;
  atomic_int *stop;
  /* results */
  long calls, ok, truncated, erange, resized, other, bad_bytes;
  int other_rc;
  uint64_t bad_at;
  int final_fault;
} reader;

static uint64_t page(void) { return (uint64_t)test_page_size(); }

static uint64_t xorshift(uint64_t *s) {
  *s ^= *s >> 12;
  *s ^= *s << 25;
  *s ^= *s >> 27;
  return *s * 0x2545F4914F6CDD1Du;
}

/* Bytes of the first half are never cut: always the pattern. Bytes of the
 * second half are the pattern until the first cut, zeros after. */
static void check_bytes(reader *r, const unsigned char *b, uint64_t off,
                        size_t n) {
  for (size_t i = 0; i < n; i++) {
    unsigned char want = pat(off + i);
    if (b[i] == want || (off + i >= r->half && b[i] == 0))
      continue;
    if (r->bad_bytes++ == 0)
      r->bad_at = off + i;
  }
}

static void note_rc(reader *r, int rc) {
  r->calls++;
  if (rc == 0)
    r->ok++;
  else if (rc == MMF_ETRUNCATED)
    r->truncated++;
  else if (rc == MMF_ERANGE)
    r->erange++;
  else if (r->other++ == 0)
    r->other_rc = rc;
}

static void *read_loop(void *arg) {
  reader *r = arg;
  unsigned char *buf = malloc(MAX_READ);
  uint64_t seed = 0x9E3779B97F4A7C15u * (uint64_t)(r->index + 1);
  mmf_map *m = NULL;
  /* mmf_open measures the file, then maps it. POSIX maps past the end, so
   * a cut in between shows later, as a fault; Windows cannot map past the
   * end of a file, so there the open itself says MMF_ERANGE (the range is
   * past the end by then). The file grows back at once: open again. */
  int rc = mmf_open(&m, r->path, MMF_READ, NULL);
  for (int tries = 0; rc == MMF_ERANGE && tries < 100000; tries++)
    rc = mmf_open(&m, r->path, MMF_READ, NULL);
  if (rc || !buf) {
    note_rc(r, rc ? rc : MMF_ENOMEM);
    free(buf);
    return NULL;
  }
  while (!atomic_load(r->stop)) {
    uint64_t x = xorshift(&seed);
    uint64_t n = 1 + x % MAX_READ;
    uint64_t off = (x >> 20) % (r->size - n + 1);
    if (mmf_size(m) < r->size) {
      /* Clamped by an earlier fault: grow back once the file is long
       * again (MMF_ERANGE while it is short). */
      rc = mmf_resize(m, r->size);
      if (rc == 0)
        r->resized++;
      else if (rc != MMF_ERANGE)
        note_rc(r, rc);
    }
    if (x % 16 == 0) {
      uint64_t count;
      rc = mmf_count_byte(m, 0, 0, 0, &count);
      note_rc(r, rc);
    } else {
      rc = mmf_read(m, off, buf, (size_t)n);
      note_rc(r, rc);
      if (rc == 0)
        check_bytes(r, buf, off, (size_t)n);
    }
    if (r->other)
      break;
  }
  /* One fault whatever the timing: this reader's own map of a file it
   * controls, cut under it. */
  {
    char path[4096];
    mmf_map *own = NULL;
    snprintf(path, sizeof path, "%s.own%d", r->path, r->index);
    write_file(path, NULL, 4 * page());
    r->final_fault = mmf_open(&own, path, MMF_READ, NULL);
    if (r->final_fault == 0) {
      test_truncate_mapped(path, page());
      r->final_fault = mmf_read(own, 2 * page(), buf, 1);
    }
    mmf_close(own);
  }
  mmf_close(m);
  free(buf);
  return NULL;
}

static double seconds_now(void) {
#ifdef _WIN32
  LARGE_INTEGER f, t;
  QueryPerformanceFrequency(&f);
  QueryPerformanceCounter(&t);
  return (double)t.QuadPart / (double)f.QuadPart;
#else
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
#endif
}

TEST(truncate_extend_race_two_readers) {
  const uint64_t size = RACE_PAGES * page(), half = size / 2;
  const char *path = test_path("f");
  const char *env = getenv("MMF_RACE_SECONDS");
  double seconds = env ? atof(env) : 3.0;
  reader readers[READERS];
  atomic_int stop;
  long cycles = 0;

  test_need_truncate_mapped();
  write_pattern(path, size);
  atomic_init(&stop, 0);
  for (int i = 0; i < READERS; i++) {
    memset(&readers[i], 0, sizeof readers[i]);
    readers[i].index = i;
    readers[i].path = path;
    readers[i].size = size;
    readers[i].half = half;
    readers[i].stop = &stop;
    readers[i].th = test_thread_start(read_loop, &readers[i]);
  }
  /* The truncating thread is this one. */
  double end = seconds_now() + seconds;
  while (seconds_now() < end) {
    for (int k = 0; k < 64; k++) {
      test_truncate_mapped(path, half);
      test_truncate_mapped(path, size);
      cycles++;
    }
  }
  atomic_store(&stop, 1);
  long calls = 0, ok = 0, truncated = 0, erange = 0, resized = 0, other = 0,
       bad = 0;
  for (int i = 0; i < READERS; i++) {
    reader *r = &readers[i];
    test_thread_join(r->th);
    calls += r->calls;
    ok += r->ok;
    truncated += r->truncated;
    erange += r->erange;
    resized += r->resized;
    other += r->other;
    bad += r->bad_bytes;
    if (r->other)
      test_note("reader %d: unexpected %s after %ld calls", i,
                mmf_errname(r->other_rc), r->calls);
    if (r->bad_bytes)
      test_note("reader %d: wrong byte at file offset %" PRIu64, i, r->bad_at);
  }
  test_note("%.1f s, %ld truncate/extend cycles, %d readers: %ld calls -> "
            "%ld ok, %ld MMF_ETRUNCATED, %ld MMF_ERANGE (clamped), %ld "
            "re-grown, %ld other; %ld wrong bytes; 0 crashes",
            seconds, cycles, READERS, calls, ok, truncated, erange, resized,
            other, bad);
  ASSERT_EQ(other, 0);
  ASSERT_EQ(bad, 0);
  for (int i = 0; i < READERS; i++)
    ASSERT_ERR(readers[i].final_fault, MMF_ETRUNCATED);
}
