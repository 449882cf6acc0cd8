/*
 * test_scan.c - the scan kernels (src/scan/scan.h): every variant this build
 * has and this CPU runs gives the same results as a naive byte loop, on
 * random data, at every alignment 0..63 and tail length 0..130, with no
 * read outside the buffer; plus the edge cases and an adversarial needle.
 */
#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "scan/scan.h"
#include "scan_reference.h"

#ifdef TEST_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define CHECK(cond, ...)                                                       \
  do {                                                                         \
    if (!(cond))                                                               \
      FAIL(__VA_ARGS__);                                                       \
  } while (0)

/* ------------------------------------------------------------------------ */
/* Variants, references, data                                                */
/* ------------------------------------------------------------------------ */

static const mmf__scan_kernels *variants[MMF__SCAN_ISA_COUNT];
static int n_variants;

static void load_variants(void) {
  n_variants = 0;
  for (int i = 0; i < MMF__SCAN_ISA_COUNT; i++) {
    const mmf__scan_kernels *k = mmf__scan_kernels_for((mmf__scan_isa)i);
    if (k)
      variants[n_variants++] = k;
  }
}

/* Bytes that make matches common: 'a', 'b', '\n', and any byte. */
static unsigned char rnd_byte(void) {
  unsigned r = (unsigned)(test_rand() % 10);
  return r < 4 ? 'a' : r < 6 ? 'b' : r < 7 ? '\n' : (unsigned char)test_rand();
}

static void fill_random(unsigned char *p, size_t n) {
  for (size_t i = 0; i < n; i++)
    p[i] = rnd_byte();
}

/*
 * A buffer of n bytes at p with p % 64 == align, whose neighbours are
 * poisoned under AddressSanitizer so that a read outside [p, p+n) fails.
 */
typedef struct tbuf {
  unsigned char *base, *p;
  size_t size, n;
} tbuf;

static tbuf tbuf_make(size_t align, size_t n) {
  tbuf b;
  b.size = n + 256;
  b.base = malloc(b.size);
  ASSERT_TRUE(b.base != NULL);
  b.p = b.base + 64 + ((align - (uintptr_t)(b.base + 64)) & 63);
  b.n = n;
  fill_random(b.p, n);
  POISON(b.base, (size_t)(b.p - b.base));
  POISON(b.p + n, b.size - (size_t)(b.p - b.base) - n);
  return b;
}

static void tbuf_free(tbuf *b) {
  UNPOISON(b->base, b->size);
  free(b->base);
}

/* Lengths checked at every alignment: every tail 0..130 on its own and
 * behind a body long enough for the unrolled main loops. */
#define TAIL_MAX 130
#define BODY 1024

static size_t case_len(size_t t) {
  return t <= TAIL_MAX ? t : BODY + (t - TAIL_MAX - 1);
}
#define N_CASES (2 * (TAIL_MAX + 1))

/* ------------------------------------------------------------------------ */
/* Per-kernel checks                                                         */
/* ------------------------------------------------------------------------ */

static void check_positions(const mmf__scan_kernels *k, const unsigned char *p,
                            size_t n, unsigned char c, size_t cap,
                            size_t align) {
  uint32_t *pos = malloc((cap ? cap : 1) * sizeof *pos);
  size_t off = 0, want = 0, got;
  ASSERT_TRUE(pos != NULL);
  if (cap == 0) {
    size_t scanned = 99;
    got = k->positions(p, n, c, pos, 0, &scanned);
    CHECK(got == 0 && scanned == 0, "%s positions cap 0: %zu, scanned %zu",
          k->name, got, scanned);
    free(pos);
    return;
  }
  for (;;) {
    size_t scanned = SIZE_MAX;
    got = k->positions(p + off, n - off, c, pos, cap, &scanned);
    CHECK(got <= cap, "%s positions: %zu > cap %zu", k->name, got, cap);
    if (got == cap)
      CHECK(scanned == pos[cap - 1] + (size_t)1,
            "%s positions align %zu len %zu cap %zu: scanned %zu, last %u",
            k->name, align, n, cap, scanned, pos[cap - 1]);
    else
      CHECK(scanned == n - off,
            "%s positions align %zu len %zu cap %zu: scanned %zu of %zu",
            k->name, align, n, cap, scanned, n - off);
    for (size_t t = 0; t < got; t++) {
      size_t expect = ref_find_byte(p + want, n - want, c);
      CHECK(expect != SIZE_MAX && off + pos[t] == want + expect,
            "%s positions align %zu len %zu cap %zu: entry %zu at %zu, "
            "expected %zu",
            k->name, align, n, cap, t, off + pos[t], want + expect);
      want += expect + 1;
    }
    off += scanned;
    if (off == n)
      break;
    CHECK(scanned > 0, "%s positions: no progress", k->name);
  }
  CHECK(ref_find_byte(p + want, n - want, c) == SIZE_MAX,
        "%s positions align %zu len %zu cap %zu: missed one at %zu", k->name,
        align, n, cap, want + ref_find_byte(p + want, n - want, c));
  free(pos);
}

/* find and count_str of every variant against one naive search. */
static void check_needle(const unsigned char *h, size_t n,
                         const unsigned char *x, size_t m, size_t align) {
  size_t ef = ref_find_from(h, n, 0, x, m);
  uint64_t ec = ref_matches(h, n, x, m, NULL);
  for (int v = 0; v < n_variants; v++) {
    const mmf__scan_kernels *k = variants[v];
    size_t f = k->find(h, n, x, m);
    uint64_t c = k->count_str(h, n, x, m);
    CHECK(f == ef, "%s find align %zu len %zu m %zu: %zu, expected %zu",
          k->name, align, n, m, f, ef);
    CHECK(c == ec,
          "%s count_str align %zu len %zu m %zu: %" PRIu64
          ", expected %" PRIu64,
          k->name, align, n, m, c, ec);
  }
}

static const unsigned char probe_bytes[] = {'\n', 'a', 'b', 0x00, 0xff, 0x80};

/* Every kernel of every variant over [p, p+n). */
static void check_all(const unsigned char *p, size_t n, size_t align) {
  static const size_t caps[] = {0, 1, 2, 7, 63, 64, 65, 200};
  unsigned char needle[128];
  for (size_t b = 0; b < sizeof probe_bytes; b++) {
    unsigned char c = probe_bytes[b];
    uint64_t ecnt = ref_count(p, n, c);
    size_t efb = ref_find_byte(p, n, c);
    for (int v = 0; v < n_variants; v++) {
      const mmf__scan_kernels *k = variants[v];
      uint64_t cnt = k->count_byte(p, n, c);
      size_t fb = k->find_byte(p, n, c);
      CHECK(cnt == ecnt,
            "%s count_byte(0x%02x) align %zu len %zu: %" PRIu64
            ", expected %" PRIu64,
            k->name, c, align, n, cnt, ecnt);
      CHECK(fb == efb,
            "%s find_byte(0x%02x) align %zu len %zu: %zu, expected %zu",
            k->name, c, align, n, fb, efb);
    }
  }
  for (int v = 0; v < n_variants; v++) {
    for (size_t ci = 0; ci < sizeof caps / sizeof caps[0]; ci++)
      check_positions(variants[v], p, n, '\n', caps[ci], align);
    check_positions(variants[v], p, n, 'a', 64, align);
  }
  /* Needles cut from the data (present), and made up (mostly absent). */
  for (size_t m = 1; m <= 18 && m <= n; m++)
    check_needle(p, n, p + (size_t)(test_rand() % (n - m + 1)), m, align);
  for (size_t m = 1; m <= 70; m += 23) {
    for (size_t i = 0; i < m; i++)
      needle[i] = rnd_byte();
    check_needle(p, n, needle, m, align);
  }
  if (n > 0)
    check_needle(p, n, p, n, align); /* the whole buffer */
  check_needle(p, n, (const unsigned char *)"ab", 0, align);
}

/* ------------------------------------------------------------------------ */
/* Tests                                                                     */
/* ------------------------------------------------------------------------ */

TEST(variants) {
  load_variants();
  ASSERT_GE(n_variants, 1);
  ASSERT_EQ(variants[0]->isa, MMF__SCAN_GENERIC);
  for (int v = 0; v < n_variants; v++)
    test_note("variant %s", variants[v]->name);
  ASSERT_TRUE(mmf__scan_kernels_best() == variants[n_variants - 1] ||
              getenv("MMF_SCAN_ISA") != NULL);
#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__) &&        \
    !(defined(_WIN32) && !defined(__clang__) && __GNUC__ < 12) &&              \
    !defined(__APPLE__)
  /* The build must have compiled each variant this CPU runs (a missing
   * per-file flag in cmake/simd.cmake would silently drop one; only
   * mingw-w64 GCC before 12 goes without AVX on purpose). Not on macOS,
   * where the toolchain this is cross-built with (Zig) links no
   * __cpu_model for __builtin_cpu_supports. */
  ASSERT_TRUE(mmf__scan_kernels_for(MMF__SCAN_SSE2) != NULL);
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi"))
    ASSERT_TRUE(mmf__scan_kernels_for(MMF__SCAN_AVX2) != NULL);
  if (__builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vbmi2") && __builtin_cpu_supports("bmi"))
    ASSERT_TRUE(mmf__scan_kernels_for(MMF__SCAN_AVX512) != NULL);
#endif
#if defined(__aarch64__) && !defined(__AARCH64EB__)
  /* NEON is baseline on AArch64: always built, always chosen unless
   * MMF_SCAN_ISA says otherwise. */
  ASSERT_TRUE(mmf__scan_kernels_for(MMF__SCAN_NEON) != NULL);
  ASSERT_TRUE(mmf__scan_kernels_best()->isa == MMF__SCAN_NEON ||
              getenv("MMF_SCAN_ISA") != NULL);
#else
  ASSERT_NULL(mmf__scan_kernels_for(MMF__SCAN_NEON));
#endif
  ASSERT_EQ(mmf__scan_isa_from_name("neon"), MMF__SCAN_NEON);
  ASSERT_EQ(mmf__scan_isa_from_name("avx2"), MMF__SCAN_AVX2);
  ASSERT_EQ(mmf__scan_isa_from_name("generic"), MMF__SCAN_GENERIC);
  ASSERT_EQ(mmf__scan_isa_from_name("avx3"), MMF__SCAN_ISA_COUNT);
  ASSERT_EQ(mmf__scan_isa_from_name(NULL), MMF__SCAN_ISA_COUNT);
}

/* MMF_SCAN_ISA picks the variant (this test's process has not chosen yet). */
TEST(env_forces_variant) {
#ifdef _WIN32
  ASSERT_EQ(_putenv_s("MMF_SCAN_ISA", "generic"), 0);
#else
  ASSERT_EQ(setenv("MMF_SCAN_ISA", "generic", 1), 0);
#endif
  ASSERT_EQ(mmf__scan_kernels_best()->isa, MMF__SCAN_GENERIC);
  ASSERT_EQ_U(mmf__count_byte("a\nb\n", 4, '\n'), 2);
}

TEST(alignments_and_tails) {
  load_variants();
  for (size_t align = 0; align < 64; align++) {
    for (size_t t = 0; t < N_CASES; t++) {
      tbuf b = tbuf_make(align, case_len(t));
      check_all(b.p, b.n, align);
      tbuf_free(&b);
    }
  }
}

/* Runs of one byte: the delimiter-only and nothing-but-matches cases. */
TEST(uniform_buffers) {
  load_variants();
  for (size_t align = 0; align < 64; align += 7) {
    for (size_t t = 0; t < N_CASES; t += 3) {
      tbuf b = tbuf_make(align, case_len(t));
      memset(b.p, '\n', b.n);
      check_all(b.p, b.n, align);
      memset(b.p, 'a', b.n);
      check_all(b.p, b.n, align);
      tbuf_free(&b);
    }
  }
}

/* Long buffers: the byte counters of the unrolled loops wrap at 256 and
 * must be flushed in time (every byte a match is the worst case). */
TEST(long_buffers) {
  load_variants();
  const size_t n = (3u << 20) + 77;
  tbuf b = tbuf_make(5, n);
  for (int v = 0; v < n_variants; v++) {
    const mmf__scan_kernels *k = variants[v];
    memset(b.p, '\n', n);
    ASSERT_EQ_U(k->count_byte(b.p, n, '\n'), n);
    ASSERT_EQ_U(k->count_byte(b.p + 1, n - 1, '\n'), n - 1);
    ASSERT_EQ_U(k->count_byte(b.p, n, 'a'), 0);
    ASSERT_EQ_U(k->count_str(b.p, n, (const unsigned char *)"\n\n", 2), n / 2);
    fill_random(b.p, n);
    for (size_t i = 0; i < sizeof probe_bytes; i++)
      CHECK(k->count_byte(b.p, n, probe_bytes[i]) ==
                ref_count(b.p, n, probe_bytes[i]),
            "%s count_byte long", k->name);
    ASSERT_EQ_U(k->count_str(b.p, n, (const unsigned char *)"ab\na", 4),
                ref_matches(b.p, n, (const unsigned char *)"ab\na", 4, NULL));
    ASSERT_EQ_U(
        k->find(b.p, n, (const unsigned char *)"\n\n\n\n\n\n", 6),
        ref_find_from(b.p, n, 0, (const unsigned char *)"\n\n\n\n\n\n", 6));
    check_positions(k, b.p, n, '\n', 4096, 5);
    check_positions(k, b.p, n, 'a', 100000, 5);
  }
  tbuf_free(&b);
}

TEST(edge_cases) {
  load_variants();
  const unsigned char *aaaa = (const unsigned char *)"aaaa";
  const unsigned char *x = (const unsigned char *)"xaaaaaaay";
  uint32_t pos[4];
  size_t scanned;
  for (int v = 0; v < n_variants; v++) {
    const mmf__scan_kernels *k = variants[v];
    /* Empty input, NULL pointer allowed. */
    ASSERT_EQ_U(k->count_byte(NULL, 0, 'a'), 0);
    ASSERT_EQ_U(k->find_byte(NULL, 0, 'a'), SIZE_MAX);
    ASSERT_EQ_U(k->find(NULL, 0, aaaa, 1), SIZE_MAX);
    ASSERT_EQ_U(k->find(NULL, 0, NULL, 0), 0);
    ASSERT_EQ_U(k->count_str(NULL, 0, aaaa, 2), 0);
    ASSERT_EQ_U(k->positions(NULL, 0, 'a', pos, 4, &scanned), 0);
    ASSERT_EQ_U(scanned, 0);
    /* Empty needle: found at 0, counted never. */
    ASSERT_EQ_U(k->find(aaaa, 4, aaaa, 0), 0);
    ASSERT_EQ_U(k->count_str(aaaa, 4, aaaa, 0), 0);
    /* Needle longer than the haystack. */
    ASSERT_EQ_U(k->find(aaaa, 3, aaaa, 4), SIZE_MAX);
    ASSERT_EQ_U(k->count_str(aaaa, 3, aaaa, 4), 0);
    /* One-byte needles. */
    ASSERT_EQ_U(k->find(x, 9, (const unsigned char *)"y", 1), 8);
    ASSERT_EQ_U(k->count_str(x, 9, (const unsigned char *)"a", 1), 7);
    /* Overlapping patterns count non-overlapping, left to right. */
    ASSERT_EQ_U(k->count_str(aaaa, 4, aaaa, 2), 2);
    ASSERT_EQ_U(k->count_str(aaaa, 3, aaaa, 2), 1);
    ASSERT_EQ_U(k->count_str(x, 9, aaaa, 3), 2);
    ASSERT_EQ_U(k->count_str(x, 9, aaaa, 2), 3);
    ASSERT_EQ_U(k->find(x, 9, aaaa, 4), 1);
    ASSERT_EQ_U(k->count_str((const unsigned char *)"abababa", 7,
                             (const unsigned char *)"aba", 3),
                2);
    /* Delimiter-only buffer, positions in batches of 4. */
    ASSERT_EQ_U(k->positions((const unsigned char *)"\n\n\n\n\n\n", 6, '\n',
                             pos, 4, &scanned),
                4);
    ASSERT_EQ_U(scanned, 4);
    ASSERT_EQ_U(pos[3], 3);
    ASSERT_EQ_U(
        k->positions((const unsigned char *)"\n\n", 2, '\n', pos, 4, &scanned),
        2);
    ASSERT_EQ_U(scanned, 2);
  }
  /* The shorthands go through the chosen variant. */
  ASSERT_EQ_U(mmf__count_byte("a\nb\n", 4, '\n'), 2);
  ASSERT_EQ_U(mmf__find_byte("a\nb\n", 4, 'b'), 2);
  ASSERT_EQ_U(mmf__find("hello world", 11, "world", 5), 6);
  ASSERT_EQ_U(mmf__count_str("aaaa", 4, "aa", 2), 2);
  ASSERT_EQ_U(mmf__byte_positions("a\nb\n", 4, '\n', pos, 4, &scanned), 2);
  ASSERT_EQ_U(pos[1], 3);
}

/* Haystacks full of copies of the needle with one byte changed, each byte
 * position in turn, then one true copy: no verification shortcut may skip
 * a byte. */
TEST(near_misses) {
  load_variants();
  unsigned char x[80], h[4096];
  for (size_t m = 2; m <= sizeof x; m++) {
    for (size_t i = 0; i < m; i++)
      x[i] = rnd_byte();
    size_t n = 0;
    for (size_t bad = 0; n + 2 * m + 3 < sizeof h; bad = (bad + 1) % m) {
      memcpy(h + n, x, m);
      h[n + bad] ^= 0x20;
      n += m;
      h[n++] = (unsigned char)(test_rand() % 3); /* a gap of 0 or 1 byte */
      n -= h[n - 1] == 0;
    }
    memcpy(h + n, x, m);
    n += m;
    for (int v = 0; v < n_variants; v++) {
      const mmf__scan_kernels *k = variants[v];
      size_t want = ref_find_from(h, n, 0, x, m);
      CHECK(k->find(h, n, x, m) == want, "%s near_misses m %zu: %zu vs %zu",
            k->name, m, k->find(h, n, x, m), want);
      CHECK(k->count_str(h, n, x, m) == ref_matches(h, n, x, m, NULL),
            "%s near_misses count m %zu", k->name, m);
    }
  }
}

/*
 * A needle whose first and last bytes match everywhere and whose middle
 * almost matches: a filter-and-memcmp search is quadratic here (about
 * 5e10 byte compares). Two-Way must take over and finish at once.
 */
TEST(adversarial_needle) {
  load_variants();
  const size_t n = 8u << 20, half = 3000, m = 2 * half + 1;
  unsigned char *h = malloc(n), *x = malloc(m);
  ASSERT_TRUE(h && x);
  memset(h, 'a', n);
  memset(x, 'a', m);
  x[half] = 'b';
  for (int v = 0; v < n_variants; v++) {
    const mmf__scan_kernels *k = variants[v];
    clock_t t0 = clock();
    ASSERT_EQ_U(k->find(h, n, x, m), SIZE_MAX);
    ASSERT_EQ_U(k->count_str(h, n, x, m), 0);
    memcpy(h + n - m, x, m);
    ASSERT_EQ_U(k->find(h, n, x, m), n - m);
    ASSERT_EQ_U(k->count_str(h, n, x, m), 1);
    memset(h + n - m, 'a', m);
    double s = (double)(clock() - t0) / CLOCKS_PER_SEC;
    test_note("%s: %.3f s", k->name, s);
    CHECK(s < 5.0, "%s: adversarial needle took %.1f s", k->name, s);
  }
  free(h);
  free(x);
}

/* Two-Way on its own, against the naive search, on a two-letter alphabet
 * (periodic needles, many partial matches). */
TEST(twoway) {
  unsigned char h[300], x[16];
  for (int iter = 0; iter < 200000; iter++) {
    size_t n = (size_t)(test_rand() % sizeof h),
           m = 1 + (size_t)(test_rand() % sizeof x);
    unsigned alpha = 2 + (unsigned)(test_rand() % 2);
    for (size_t i = 0; i < n; i++)
      h[i] = (unsigned char)('a' + test_rand() % alpha);
    for (size_t i = 0; i < m; i++)
      x[i] = (unsigned char)('a' + test_rand() % alpha);
    if (n >= m && test_rand() % 2) /* plant one */
      memcpy(h + test_rand() % (n - m + 1), x, m);
    size_t f = mmf__scan_twoway_find(h, n, x, m);
    uint64_t c = mmf__scan_twoway_count(h, n, x, m);
    CHECK(f == ref_find_from(h, n, 0, x, m), "twoway find n %zu m %zu: %zu", n,
          m, f);
    CHECK(c == ref_matches(h, n, x, m, NULL), "twoway count n %zu m %zu", n, m);
  }
}

/* Buffers that end (or start) right at an inaccessible page: any read
 * outside them faults, also in code the sanitizers do not see (intrinsics
 * under GCC). */
TEST(no_read_outside) {
  load_variants();
  const size_t page = mmf_page_size();
  mmf_map *m;
  ASSERT_OK(mmf_anon(&m, 3 * page, 0));
  unsigned char *mid = (unsigned char *)mmf_data(m) + page;
  fill_random(mid, page);
  ASSERT_OK(mmf_protect(m, 0, page, MMF_PROT_NONE));
  ASSERT_OK(mmf_protect(m, 2 * page, page, MMF_PROT_NONE));
  for (size_t n = 0; n <= 300; n++) {
    check_all(mid + page - n, n, (size_t)(uintptr_t)(mid + page - n) & 63);
    check_all(mid, n, 0);
  }
  ASSERT_OK(mmf_close(m));
}
