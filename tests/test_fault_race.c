/*
 * test_fault_race.c - a file truncated and extended again and again while
 * threads use it through handles of their own: two readers of maps, and
 * then one thread of each kind of handle (a read map, a write map storing
 * the pattern back, a window cursor, a line iterator, whole-file scans by
 * path, mapped and read).
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
 * Both run in the ThreadSanitizer leg (make check-tsan) too, where they
 * must give no report: handles share nothing but the process-wide fault
 * guard and the file.
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
  int kind;      /* enum handle_kind (the every-kind race) */
  uint64_t seed; /* its random numbers */
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

/* Start n threads running fn on path (index, kind and seed from their
 * place in rs). */
static void start_threads(reader *rs, int n, void *(*fn)(void *),
                          const char *path, uint64_t size, atomic_int *stop) {
  for (int i = 0; i < n; i++) {
    memset(&rs[i], 0, sizeof rs[i]);
    rs[i].index = i;
    rs[i].kind = i;
    rs[i].seed = 0x9E3779B97F4A7C15u * (uint64_t)(i + 1);
    rs[i].path = path;
    rs[i].size = size;
    rs[i].half = size / 2;
    rs[i].stop = stop;
    rs[i].th = test_thread_start(fn, &rs[i]);
  }
}

/* Cut path to half its size and extend it back until seconds have passed;
 * then tell the threads to stop. Returns the cycles. */
static long cut_and_extend(const char *path, uint64_t size, double seconds,
                           atomic_int *stop) {
  long cycles = 0;
  double end = seconds_now() + seconds;
  while (seconds_now() < end) {
    for (int k = 0; k < 64; k++) {
      test_truncate_mapped(path, size / 2);
      test_truncate_mapped(path, size);
      cycles++;
    }
  }
  atomic_store(stop, 1);
  return cycles;
}

TEST(truncate_extend_race_two_readers) {
  const uint64_t size = RACE_PAGES * page();
  const char *path = test_path("f");
  const char *env = getenv("MMF_RACE_SECONDS");
  double seconds = env ? atof(env) : 3.0;
  reader readers[READERS];
  atomic_int stop;
  long cycles = 0;

  test_need_truncate_mapped();
  write_pattern(path, size);
  atomic_init(&stop, 0);
  start_threads(readers, READERS, read_loop, path, size, &stop);
  /* The truncating thread is this one. */
  cycles = cut_and_extend(path, size, seconds, &stop);
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

/* ------------------------------------------------------------------------ */
/* Every kind of handle                                                      */
/* ------------------------------------------------------------------------ */

enum handle_kind {
  READ_MAP,
  WRITE_MAP,
  CURSOR,
  LINES,
  SCAN_MAPPED,
  SCAN_READ,
  HANDLE_KINDS
};

static const char *const kind_names[HANDLE_KINDS] = {
    "read map",      "write map",   "window cursor",
    "line iterator", "mapped scan", "read scan"};

/* A map of the whole file, read or written. */
static void use_map(reader *r, int mode) {
  unsigned char buf[MAX_READ];
  mmf_map *m = NULL;
  while (!atomic_load(r->stop) && !r->other) {
    uint64_t x = xorshift(&r->seed);
    size_t n = 1 + (size_t)(x % MAX_READ);
    uint64_t off = (x >> 20) % (r->size - n + 1);
    int rc;
    if (!m) {
      rc = mmf_open(&m, r->path, mode, NULL);
      note_rc(r, rc);
      continue;
    }
    if (mmf_size(m) < r->size) {
      /* Opened short, or clamped by a cut. A read map grows back once the
       * file is long again (MMF_ERANGE meanwhile); a write map would grow
       * the file itself, undoing a cut in the middle of the cutting
       * thread's work: it is opened again instead. */
      if (mode == MMF_WRITE) {
        note_rc(r, mmf_close(m));
        m = NULL;
        continue;
      }
      rc = mmf_resize(m, r->size);
      if (rc != MMF_ERANGE)
        note_rc(r, rc);
      continue;
    }
    if (mode == MMF_WRITE && x % 4 == 0) {
      /* Store what is there anyway, so readers see the pattern or zeros;
       * a store into a cut page is MMF_ETRUNCATED. */
      fill_pat(buf, off, n);
      rc = mmf_write(m, off, buf, n);
      if (rc == 0 && x % 64 == 0)
        rc = mmf_flush(m, off, n, MMF_FLUSH_ASYNC);
      note_rc(r, rc);
    } else if (x % 8 == 1) {
      uint64_t count;
      note_rc(r, mmf_count_byte(m, 0, 0, pat(off), &count));
    } else {
      rc = mmf_read(m, off, buf, n);
      note_rc(r, rc);
      if (rc == 0)
        check_bytes(r, buf, off, n);
    }
  }
  mmf_close(m);
}

/* For the cursor's guard: copy span bytes out. */
typedef struct span_copy {
  unsigned char *dst;
  const void *src;
  size_t n;
} span_copy;

static int copy_span(void *ctx) {
  span_copy *c = ctx;
  memcpy(c->dst, c->src, c->n);
  return 0;
}

/* Walks of the whole file in small windows, reading the head of each span
 * under the cursor's guard. A cut lowers the cursor's total: the next walk
 * opens a new one. */
static void use_cursor(reader *r) {
  while (!atomic_load(r->stop) && !r->other) {
    mmf_window_options o = MMF_WINDOW_OPTIONS_INIT;
    mmf_window *w = NULL;
    unsigned char head[64];
    int rc;
    o.budget = 4 * mmf_granularity();
    rc = mmf_window_open(&w, r->path, &o);
    note_rc(r, rc);
    while (rc == 0 && !atomic_load(r->stop)) {
      uint64_t at = mmf_window_tell(w);
      void *p;
      size_t len;
      rc = mmf_window_next(w, &p, &len);
      note_rc(r, rc);
      if (rc || len == 0)
        break;
      span_copy c = {head, p, len < sizeof head ? len : sizeof head};
      rc = mmf_window_guard(w, copy_span, &c);
      note_rc(r, rc);
      if (rc == 0)
        check_bytes(r, head, at, c.n);
    }
    mmf_window_close(w);
  }
}

/* Line walks, mapped or read, in small windows and buffers. */
static void use_lines(reader *r) {
  while (!atomic_load(r->stop) && !r->other) {
    mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
    mmf_lines *it = NULL;
    const char *line;
    size_t len;
    int rc;
    o.io = xorshift(&r->seed) % 2 ? MMF_SCAN_MAP : MMF_SCAN_READ;
    o.budget = 4 * mmf_granularity();
    o.flags = MMF_SCAN_SPLIT_LONG;
    rc = mmf_lines_open(&it, r->path, &o);
    note_rc(r, rc);
    while (rc == 0 && !atomic_load(r->stop)) {
      rc = mmf_lines_next(it, &line, &len);
      note_rc(r, rc);
      if (rc || !line)
        break;
    }
    mmf_lines_close(it);
  }
}

/* Counts and finds over the whole file by path. */
static void use_scans(reader *r, int io) {
  while (!atomic_load(r->stop) && !r->other) {
    mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
    unsigned char needle[3];
    uint64_t v, x = xorshift(&r->seed);
    o.io = io;
    o.budget = 4 * mmf_granularity();
    fill_pat(needle, x % r->half, sizeof needle);
    if (x % 2)
      note_rc(r, mmf_count_byte_path(r->path, &o, (int)(x >> 8 & 255), &v));
    else
      note_rc(r, mmf_find_path(r->path, &o, needle, sizeof needle, &v));
  }
}

static void *use_handle(void *arg) {
  reader *r = arg;
  switch (r->kind) {
  case READ_MAP:
    use_map(r, MMF_READ);
    break;
  case WRITE_MAP:
    use_map(r, MMF_WRITE);
    break;
  case CURSOR:
    use_cursor(r);
    break;
  case LINES:
    use_lines(r);
    break;
  case SCAN_MAPPED:
    use_scans(r, MMF_SCAN_MAP);
    break;
  default:
    use_scans(r, MMF_SCAN_READ);
    break;
  }
  return NULL;
}

/* Every call returns 0, MMF_ETRUNCATED (a cut met inside a mapping) or
 * MMF_ERANGE (a map or range measured while the file was short), never
 * MMF_EIO, a poisoned handle or a crash; every byte read is the pattern or,
 * in the half that is cut, zero. */
TEST(truncate_extend_race_every_handle_kind) {
  const uint64_t size = RACE_PAGES * page();
  const char *path = test_path("f");
  const char *env = getenv("MMF_RACE_SECONDS");
  double seconds = env ? atof(env) : 2.0;
  reader workers[HANDLE_KINDS];
  atomic_int stop;
  long cycles = 0, other = 0, bad = 0, truncated = 0;

  test_need_truncate_mapped();
  write_pattern(path, size);
  atomic_init(&stop, 0);
  start_threads(workers, HANDLE_KINDS, use_handle, path, size, &stop);
  /* The cutting thread is this one. */
  cycles = cut_and_extend(path, size, seconds, &stop);
  for (int i = 0; i < HANDLE_KINDS; i++) {
    reader *w = &workers[i];
    test_thread_join(w->th);
    test_note("%-13s %7ld calls: %7ld ok, %6ld MMF_ETRUNCATED, %6ld "
              "MMF_ERANGE, %ld other, %ld wrong bytes",
              kind_names[i], w->calls, w->ok, w->truncated, w->erange, w->other,
              w->bad_bytes);
    if (w->other)
      test_note("%s: unexpected %s", kind_names[i], mmf_errname(w->other_rc));
    if (w->bad_bytes)
      test_note("%s: wrong byte at file offset %" PRIu64, kind_names[i],
                w->bad_at);
    other += w->other;
    bad += w->bad_bytes;
    truncated += w->truncated;
  }
  test_note("%.1f s, %ld truncate/extend cycles, %ld MMF_ETRUNCATED in all",
            seconds, cycles, truncated);
  ASSERT_EQ(other, 0);
  ASSERT_EQ(bad, 0);
  ASSERT_GT(cycles, 0);
}
