/*
 * test_scan_buffers.c - the buffers a scan reads into (src/scan/
 * source_read.c, source_direct.c): sized to a small input, never a full
 * read chunk or direct piece for a file of a few KiB; and read in chunks
 * of any size (mmf__scan_read_chunk, which the fuzz targets lower), the
 * scans give the naive references' results, with needles and lines across
 * every chunk boundary and a needle kept across chunks of less than twice
 * its length.
 */
#include "scan_reference.h"

#include <stdlib.h>
#include <string.h>

#include "os/alloc.h"
#include "scan/source.h"

#ifndef _WIN32
#include <sys/mman.h>

#include "os/posix/sys_posix.h"
#ifndef MAP_ANONYMOUS
#define MAP_ANONYMOUS MAP_ANON
#endif
#endif

#define READ_CHUNK ((size_t)256 << 10) /* source_read.c */
#define DIRECT_CHUNK ((size_t)4 << 20) /* source_direct.c */

/* 'a', 'b', '\n' and other bytes, with the long needle planted every 150
 * bytes (so across chunk boundaries of every size below). */
static const char long_needle[] = "0123456789-the-needle-that-is-40-bytes-";

static unsigned char *text(size_t n) {
  unsigned char *p = malloc(n);
  uint64_t s = 0x9E3779B97F4A7C15u;
  size_t m = strlen(long_needle);
  ASSERT_TRUE(p != NULL);
  for (size_t i = 0; i < n; i++) {
    s = s * 6364136223846793005u + 1442695040888963407u;
    unsigned r = (unsigned)(s >> 60);
    p[i] = r < 7    ? 'a'
           : r < 10 ? 'b'
           : r < 12 ? '\n'
                    : (unsigned char)(s >> 40);
  }
  for (size_t at = 100; at + m <= n; at += 150)
    memcpy(p + at, long_needle, m);
  return p;
}

/* The text of n bytes, also written to the file f. */
static unsigned char *text_file(size_t n) {
  unsigned char *c = text(n);
  write_file(test_path("f"), c, n);
  return c;
}

/* The largest block the library asked for while counting path's bytes. */
static size_t largest_malloc;
static void *sizing_malloc(size_t n) {
  if (n > largest_malloc)
    largest_malloc = n;
  return mmf__alloc_real.malloc(n);
}
static void *sizing_realloc(void *p, size_t n) {
  if (n > largest_malloc)
    largest_malloc = n;
  return mmf__alloc_real.realloc(p, n);
}

static size_t read_buffer_for(size_t n) {
  unsigned char *c = text_file(n);
  mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
  uint64_t v = 0;
  o.io = MMF_SCAN_READ;
  largest_malloc = 0;
  mmf__alloc.malloc = sizing_malloc;
  mmf__alloc.realloc = sizing_realloc;
  ASSERT_OK(mmf_count_byte_path(test_path("f"), &o, 'a', &v));
  mmf__alloc = mmf__alloc_real;
  ASSERT_EQ_U(v, ref_count(c, n, 'a'));
  free(c);
  return largest_malloc;
}

TEST(read_buffer_fits_a_small_file) {
  /* A file past the first small read (8 KiB) and well below a chunk is
   * read into a buffer of its size; the control shows a file larger than
   * a chunk taking a whole chunk, so that the measure sees the buffer. */
  size_t small = read_buffer_for(12000), large = read_buffer_for(300000);
  test_note("largest block: %zu for 12000 bytes, %zu for 300000", small, large);
  ASSERT_LE_U(small, 12000);
  ASSERT_GE_U(large, READ_CHUNK);
}

#ifndef _WIN32
/* The largest anonymous map the library made. */
static size_t largest_anon;
static void *sizing_mmap(void *addr, size_t len, int prot, int flags, int fd,
                         off_t off) {
  if ((flags & MAP_ANONYMOUS) && len > largest_anon)
    largest_anon = len;
  return mmf__sys_real.mmap(addr, len, prot, flags, fd, off);
}

static size_t direct_buffer_for(size_t n) {
  unsigned char *c = text_file(n);
  mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
  uint64_t v = 0;
  o.io = MMF_SCAN_DIRECT;
  largest_anon = 0;
  mmf__sys.mmap = sizing_mmap;
  ASSERT_OK(mmf_count_matches_path(test_path("f"), &o, "ab", 2, &v));
  mmf__sys = mmf__sys_real;
  ASSERT_EQ_U(v, ref_matches(c, n, "ab", 2, NULL));
  free(c);
  return largest_anon;
}
#endif

TEST(direct_buffer_fits_a_small_range) {
  /* A range of 10000 bytes read around the cache takes a buffer of about
   * its size, not a 4 MiB piece (whose first touch cleared a 2 MiB huge
   * page); the control shows a larger file taking the whole piece. */
#ifdef _WIN32
  SKIP("the POSIX call table is the one watched here");
#else
  size_t large = direct_buffer_for(DIRECT_CHUNK + 4097);
  size_t small = direct_buffer_for(10000);
  test_note("largest anonymous map: %zu for 10000 bytes, %zu for %zu", small,
            large, DIRECT_CHUNK + 4097);
  if (large < DIRECT_CHUNK)
    SKIP("no uncached reads here: the file is read through the cache");
  ASSERT_LT_U(small, (size_t)1 << 20);
#endif
}

/* Every scan of c[0, n) in path against the references, read in chunks
 * of the current size. */
static void check_read(const char *path, const unsigned char *c, size_t n,
                       unsigned threads) {
  const char *needles[] = {"a", "ab", "b\nb", "aaa", long_needle};
  mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
  uint64_t v;
  o.io = MMF_SCAN_READ;
  o.threads = threads;
  ASSERT_OK(mmf_count_byte_path(path, &o, '\n', &v));
  ASSERT_EQ_U(v, ref_count(c, n, '\n'));
  ASSERT_OK(mmf_count_lines_path(path, &o, &v));
  ASSERT_EQ_U(v, ref_lines(c, n));
  for (size_t k = 0; k < sizeof needles / sizeof needles[0]; k++) {
    size_t m = strlen(needles[k]), at = ref_find_from(c, n, 0, needles[k], m);
    test_context("needle %zu", k);
    ASSERT_OK(mmf_find_path(path, &o, needles[k], m, &v));
    ASSERT_EQ_U(v, at == SIZE_MAX ? MMF_NPOS : at);
    ASSERT_OK(mmf_count_matches_path(path, &o, needles[k], m, &v));
    ASSERT_EQ_U(v, ref_matches(c, n, needles[k], m, NULL));
  }
  test_context_clear();
}

/* The lines of c[0, n) one by one, read in chunks of the current size. */
static void check_lines(const char *path, const unsigned char *c, size_t n) {
  mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
  mmf_lines *it = NULL;
  const char *line;
  size_t len, at = 0;
  o.io = MMF_SCAN_READ;
  ASSERT_OK(mmf_lines_open(&it, path, &o));
  while (at < n) {
    const unsigned char *nl = memchr(c + at, '\n', n - at);
    size_t want = nl ? (size_t)(nl - (c + at)) : n - at;
    ASSERT_OK(mmf_lines_next(it, &line, &len));
    ASSERT_EQ_U(len, want);
    ASSERT_MEMEQ(line, c + at, len);
    at += want + (nl != NULL);
  }
  ASSERT_OK(mmf_lines_next(it, &line, &len));
  ASSERT_NULL(line);
  ASSERT_OK(mmf_lines_close(it));
}

TEST(small_read_chunks_match_the_references) {
  /* Chunks of 1 byte, of less than twice the long needle (the buffer then
   * holds what is kept besides a chunk), odd and page sizes. */
  static const size_t chunks[] = {1, 64, 79, 100, 4096, 4105};
  const size_t usual = mmf__scan_read_chunk, n = 20000;
  const char *path = test_path("f");
  unsigned char *c = text_file(n);
  ASSERT_EQ_U(usual, READ_CHUNK);
  for (size_t k = 0; k < sizeof chunks / sizeof chunks[0]; k++) {
    mmf__scan_read_chunk = chunks[k];
    test_note("chunk %zu", chunks[k]);
    check_read(path, c, n, 1);
    check_lines(path, c, n);
  }
  mmf__scan_read_chunk = usual;
  free(c);
}
