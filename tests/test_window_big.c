/*
 * test_window_big.c - the window cursor over files larger than the address
 * space can take at once: offsets beyond 4 GiB (the 32-bit build runs these
 * too), a 64 GiB file under RLIMIT_AS = 1 GiB, and window placement.
 *
 * The files are sparse: they cost no disk, and their holes read as zeros.
 */
#include "test.h"

#include <stdio.h>
#ifndef _WIN32
#include <sys/resource.h>
#endif
#include <unistd.h>

#define MIB ((uint64_t)1 << 20)
#define GIB ((uint64_t)1 << 30)

static mmf_window *open_w(const char *path, uint64_t budget, int delim,
                          unsigned flags) {
  mmf_window_options o = MMF_WINDOW_OPTIONS_INIT;
  mmf_window *w = NULL;
  o.budget = budget;
  o.delimiter = delim < 0 ? 0 : delim;
  o.flags = flags | (delim < 0 ? 0u : (unsigned)MMF_WINDOW_RECORDS);
  ASSERT_OK(mmf_window_open(&w, path, &o));
  return w;
}

typedef struct copy_job {
  void *dst;
  const void *src;
  size_t n;
} copy_job;

static int do_copy(void *ctx) {
  copy_job *j = ctx;
  memcpy(j->dst, j->src, j->n);
  return 0;
}

/* Copy n bytes from a span pointer under the cursor's guard. */
static void guarded_copy(mmf_window *w, void *dst, const void *src, size_t n) {
  copy_job j = {dst, src, n};
  ASSERT_OK(mmf_window_guard(w, do_copy, &j));
}

/* Whole-file mapping of a file this large is refused cleanly where the
 * address space cannot hold it. */
static void whole_open_refused_or_fine(const char *path) {
  mmf_map *m = (mmf_map *)(uintptr_t)1;
  int rc = mmf_open(&m, path, MMF_READ, NULL);
  if (sizeof(void *) < 8) {
    ASSERT_TRUE(rc == MMF_EOVERFLOW || rc == MMF_ENOMEM);
    ASSERT_NULL(m);
  } else if (rc == 0) {
    ASSERT_OK(mmf_close(m));
  }
}

TEST(seek_and_at_beyond_4gib) {
  const char *path = test_path("six");
  uint64_t size = 6 * GIB, budget = 64 * MIB;
  /* Marks across 4 GiB, just past it, across a window boundary (5 GiB is
   * a multiple of 64 MiB), at an odd place, and at the very end. */
  static const uint64_t at_gib[][2] = {{4, (uint64_t)-3},
                                       {4, 12345},
                                       {5, (uint64_t)-4},
                                       {5, 777777},
                                       {6, (uint64_t)-8}};
  uint64_t offs[5];
  char marks[5][9];
  make_sparse(path, size);
  for (int i = 0; i < 5; i++) {
    offs[i] = at_gib[i][0] * GIB + at_gib[i][1];
    snprintf(marks[i], sizeof marks[i], "MARK%04d", i * 1111);
  }
  whole_open_refused_or_fine(path);

  /* The cursor writes the marks... */
  mmf_window *w = open_w(path, budget, -1, MMF_WINDOW_WRITE);
  ASSERT_EQ_U(mmf_window_total(w), size);
  for (int i = 0; i < 5; i++) {
    void *p;
    ASSERT_OK(mmf_window_at(w, offs[i], 8, &p));
    guarded_copy(w, p, marks[i], 8);
  }
  ASSERT_OK(mmf_window_close(w));
  for (int i = 0; i < 5; i++) {
    char got[8];
    read_at(path, offs[i], got, 8);
    ASSERT_MEMEQ(got, marks[i], 8);
  }

  /* ...and reads them back, by random access and by seeking. */
  w = open_w(path, budget, -1, 0);
  for (int k = 4; k >= 0; k--) {
    void *p;
    char got[8];
    ASSERT_OK(mmf_window_at(w, offs[k], 8, &p));
    guarded_copy(w, got, p, 8);
    ASSERT_MEMEQ(got, marks[k], 8);
    /* A range of the limit that ends with the mark. */
    uint64_t lim = mmf_window_limit(w);
    ASSERT_OK(mmf_window_at(w, offs[k] + 8 - lim, (size_t)lim, &p));
    guarded_copy(w, got, (unsigned char *)p + lim - 8, 8);
    ASSERT_MEMEQ(got, marks[k], 8);
  }
  for (int k = 0; k < 5; k++) {
    void *p;
    size_t len;
    char got[8];
    ASSERT_OK(mmf_window_seek(w, offs[k]));
    ASSERT_EQ_U(mmf_window_tell(w), offs[k]);
    ASSERT_OK(mmf_window_next(w, &p, &len));
    ASSERT_GE_U(len, 8);
    guarded_copy(w, got, p, 8);
    ASSERT_MEMEQ(got, marks[k], 8);
    ASSERT_EQ_U(mmf_window_tell(w), offs[k] + len);
  }
  /* Walk the last 200 MiB in spans: contiguous up to the end. */
  void *p;
  size_t len;
  uint64_t pos = size - 200 * MIB;
  ASSERT_OK(mmf_window_seek(w, pos));
  while (mmf_window_next(w, &p, &len) == 0 && len > 0) {
    ASSERT_LE_U(len, budget);
    pos += len;
    ASSERT_EQ_U(mmf_window_tell(w), pos);
  }
  ASSERT_EQ_U(pos, size);
  ASSERT_ERR(mmf_window_seek(w, size + 1), MMF_ERANGE);
  ASSERT_ERR(mmf_window_at(w, size - 7, 8, &p), MMF_ERANGE);
  ASSERT_OK(mmf_window_close(w));
}

/* ------------------------------------------------------------------------ */
/* 64 GiB under RLIMIT_AS = 1 GiB                                            */
/* ------------------------------------------------------------------------ */

#if !defined(TEST_ASAN) && !defined(_WIN32) /* see rlimit_as_64gib_file */

#define N_MARKS 10

typedef struct big_file {
  const char *path;
  uint64_t size;
  uint64_t offs[N_MARKS];
} big_file;

static void mark_text(int i, char out[8]) {
  char tmp[16];
  snprintf(tmp, sizeof tmp, "big%05d", i * 7919);
  memcpy(out, tmp, 8);
}

typedef struct nonzero_job {
  const unsigned char *p;
  size_t n;
  uint64_t count;
} nonzero_job;

static int count_nonzero(void *ctx) {
  nonzero_job *j = ctx;
  for (size_t i = 0; i < j->n; i++)
    j->count += j->p[i] != 0;
  return 0;
}

static int under_rlimit(void *arg) {
  const big_file *f = arg;
  const uint64_t budget = 64 * MIB, tail = 256 * MIB;
  struct rlimit rl = {(rlim_t)GIB, (rlim_t)GIB};
  if (setrlimit(RLIMIT_AS, &rl) != 0)
    FAIL("setrlimit(RLIMIT_AS, 1 GiB) failed");
  /* The first allocation creates the heap: make it before counting. */
  ASSERT_OK(mmf_window_close(open_w(f->path, 0, -1, 0)));
  int maps = count_mappings(), fds = count_open_fds();

  /* Mapping the whole file fails cleanly. */
  mmf_map *m = (mmf_map *)(uintptr_t)1;
  int rc = mmf_open(&m, f->path, MMF_READ, NULL);
  ASSERT_TRUE(rc == MMF_ENOMEM || rc == MMF_EOVERFLOW);
  ASSERT_NULL(m);
  /* A cursor whose budget the limit cannot hold takes the windows it can
   * get: smaller than the budget, and still whole spans. */
  mmf_window *w = open_w(f->path, 2 * GIB, -1, 0);
  void *p;
  size_t len;
  ASSERT_OK(mmf_window_next(w, &p, &len));
  ASSERT_GT(len, 0);
  ASSERT_LT(len, GIB);
  ASSERT_EQ_U(mmf_window_tell(w), len);
  ASSERT_OK(mmf_window_close(w));
  /* With records, a record that needs the full reach of the budget gets
   * it or MMF_ENOMEM; one that fits a smaller window comes whole. */
  w = open_w(f->path, 2 * GIB, 'X', 0);
  rc = mmf_window_next(w, &p, &len);
  ASSERT_TRUE(rc == MMF_ENOMEM || (rc == 0 && len < GIB));
  ASSERT_OK(mmf_window_close(w));

  /* A 64 MiB cursor walks all of it. Spans are not touched except where a
   * mark lies (the walk maps and unmaps 1,024 windows). */
  w = open_w(f->path, budget, -1, 0);
  uint64_t pos = 0, spans = 0;
  int found = 0;
  while ((rc = mmf_window_next(w, &p, &len)) == 0 && len > 0) {
    ASSERT_LE_U(len, budget);
    for (int i = 0; i < N_MARKS; i++) {
      if (f->offs[i] < pos || f->offs[i] + 8 > pos + len)
        continue;
      char want[8], got[8];
      mark_text(i, want);
      guarded_copy(w, got, (unsigned char *)p + (f->offs[i] - pos), 8);
      ASSERT_MEMEQ(got, want, 8);
      found++;
    }
    pos += len;
    spans++;
    ASSERT_EQ_U(mmf_window_tell(w), pos);
  }
  ASSERT_OK(rc);
  ASSERT_EQ_U(pos, f->size);
  ASSERT_EQ_U(spans, f->size / budget);
  /* Each mark lies wholly inside one span but the one crossing a window
   * boundary: it is read by mmf_window_at below. */
  ASSERT_EQ(found, N_MARKS - 1);

  /* Every mark by random access. */
  for (int i = N_MARKS - 1; i >= 0; i--) {
    char want[8], got[8];
    mark_text(i, want);
    ASSERT_OK(mmf_window_at(w, f->offs[i], 8, &p));
    guarded_copy(w, got, p, 8);
    ASSERT_MEMEQ(got, want, 8);
  }

  /* Every byte of the last 256 MiB, holes and marks, read under the
   * guard: the bytes that are not zero are exactly the marks'. */
  uint64_t nonzero = 0, expect = 0;
  ASSERT_OK(mmf_window_seek(w, f->size - tail));
  while ((rc = mmf_window_next(w, &p, &len)) == 0 && len > 0) {
    nonzero_job j = {p, len, 0};
    ASSERT_OK(mmf_window_guard(w, count_nonzero, &j));
    nonzero += j.count;
  }
  ASSERT_OK(rc);
  for (int i = 0; i < N_MARKS; i++)
    if (f->offs[i] >= f->size - tail)
      expect += 8;
  ASSERT_GT(expect, 0);
  ASSERT_EQ_U(nonzero, expect);
  ASSERT_OK(mmf_window_close(w));

  ASSERT_EQ(count_mappings(), maps);
  ASSERT_EQ(count_open_fds(), fds);
  return 0;
}

#endif /* !TEST_ASAN && !_WIN32 */

/*
 * Why the full walk does not touch every byte: reading 64 GiB of holes
 * measures how fast the kernel hands out zeroed page-cache pages (minutes,
 * and 64 GiB of cache churned through a machine with less RAM), not the
 * cursor. What the test must show is that the cursor reaches every offset
 * of the file, in order, within the address-space limit, and reads real
 * bytes where they are: the walk covers all 64 GiB span by span and reads
 * the marks inside the spans, mmf_window_at reads each mark, and a full
 * read of a 256 MiB region (holes plus marks) checks every byte there.
 */
TEST(rlimit_as_64gib_file) {
#ifdef TEST_ASAN
  SKIP("AddressSanitizer reserves terabytes of address space");
#elif defined(_WIN32)
  SKIP("Windows has no RLIMIT_AS (setrlimit) to bound the address space, "
       "and no fork() to apply it in a child");
#else
  if (test_rlimit_as_ignored())
    SKIP("setrlimit(RLIMIT_AS) succeeds but bounds nothing here "
         "(qemu-user ignores it)");
  big_file f;
  f.path = test_path("sixty-four");
  f.size = 64 * GIB;
  make_sparse(f.path, f.size);
  for (int i = 0; i < N_MARKS - 3; i++)
    f.offs[i] = (uint64_t)i * 9 * GIB + (uint64_t)i * 4097 + 1000;
  f.offs[N_MARKS - 3] = 32 * GIB - 4; /* across a window boundary */
  f.offs[N_MARKS - 2] = f.size - 100 * MIB + 3;
  f.offs[N_MARKS - 1] = f.size - 8; /* the last byte */
  for (int i = 0; i < N_MARKS; i++) {
    char t[8];
    mark_text(i, t);
    write_at(f.path, f.offs[i], t, 8);
  }
  ASSERT_EXITED(run_in_child(under_rlimit, &f), 0);
#endif
}

/* ------------------------------------------------------------------------ */
/* Placement                                                                 */
/* ------------------------------------------------------------------------ */

TEST(windows_are_2mib_congruent) {
  const char *path = test_path("f");
  uint64_t size = 300 * MIB + 12345, budget = 64 * MIB;
  make_sparse(path, size);
  mmf_window *w = open_w(path, budget, -1, 0);
  void *p;
  size_t len;
  uint64_t pos = 0;
  /* Sequential windows start at 2 MiB boundaries: whole budgets. */
  while (mmf_window_next(w, &p, &len) == 0 && len > 0) {
    ASSERT_EQ_U(((uintptr_t)p - pos) % (2 * MIB), 0);
    if (pos + len < size)
      ASSERT_EQ_U(len, budget);
    pos += len;
  }
  ASSERT_EQ_U(pos, size);
  /* Random access and seeks at odd offsets keep the congruence. */
  for (uint64_t off = 3; off < size - MIB; off += 37 * MIB + 4095) {
    ASSERT_OK(mmf_window_at(w, off, (size_t)MIB, &p));
    ASSERT_EQ_U(((uintptr_t)p - off) % (2 * MIB), 0);
    ASSERT_OK(mmf_window_seek(w, off));
    ASSERT_OK(mmf_window_next(w, &p, &len));
    ASSERT_EQ_U(((uintptr_t)p - off) % (2 * MIB), 0);
    /* Windows start and end at 2 MiB boundaries (or the file's end). */
    ASSERT_GE_U(len, MIB);
    ASSERT_TRUE(off + len == size || (off + len) % (2 * MIB) == 0);
  }
  ASSERT_OK(mmf_window_close(w));
}
