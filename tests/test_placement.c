/*
 * test_placement.c - large maps are placed so that the address and the
 * file offset are congruent modulo 2 MiB (so the kernel can map 2 MiB
 * page-cache folios whole), also at unaligned offsets and after
 * mmf_resize() growth.
 */
#include "test.h"

#include <errno.h>

#ifdef _WIN32
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#else
#include <sys/mman.h>
#include <unistd.h>
#endif

#if !defined(_WIN32) && !defined(MAP_FIXED_NOREPLACE)
/* Linux 4.17's flag; elsewhere the address is only a hint, which a system
 * honours when the range is free: the callers check what they got. */
#define MAP_FIXED_NOREPLACE 0
#endif

#define MIB (1ull << 20)
#define HUGE (2 * MIB)

static uint64_t page(void) { return (uint64_t)test_page_size(); }

/* (address of data - file offset of data) mod 2 MiB. */
static uint64_t skew(const mmf_map *m) {
  return ((uint64_t)(uintptr_t)mmf_data(m) - mmf_offset(m)) % HUGE;
}

/* Occupy the address space right after [p, p + len), so the mapping there
 * cannot grow in place; NULL if something is there already (which blocks
 * just as well). Windows never grows a view in place (a view cannot change
 * size), so nothing needs blocking there. */
static void *block_after(const void *p, uint64_t len) {
#ifdef _WIN32
  (void)p;
  (void)len;
  return NULL;
#else
  uintptr_t next = ((uintptr_t)p + len + page() - 1) & ~(uintptr_t)(page() - 1);
  void *b = mmap((void *)next, page(), PROT_NONE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (b == MAP_FAILED) {
    if (errno != EEXIST)
      FAIL("mmap blocker: %s", strerror(errno));
    return NULL;
  }
  if (b != (void *)next) { /* a hint not taken: the range was in use */
    munmap(b, page());
    return NULL;
  }
  return b;
#endif
}

static void unblock(void *b) {
#ifndef _WIN32
  if (b != NULL)
    munmap(b, page());
#else
  (void)b;
#endif
}

#define ASSERT_CONGRUENT(m)                                                    \
  do {                                                                         \
    if (skew(m) != 0)                                                          \
      FAIL("data %p at file offset %" PRIu64 " is %" PRIu64                    \
           " bytes off 2 MiB congruence",                                      \
           mmf_data(m), mmf_offset(m), skew(m));                               \
  } while (0)

TEST(large_map_congruent_at_unaligned_offsets) {
  const uint64_t size = 24 * MIB + 333;
  make_sparse(test_path("f"), size);
  const uint64_t offsets[] = {
      0, 1, 4096 + 123, page() - 1, MIB + 5, 3 * MIB + 4097, 2 * MIB, HUGE - 1};
  static const int modes[] = {MMF_READ, MMF_WRITE, MMF_COPY};
  for (int mi = 0; mi < 3; mi++)
    for (size_t i = 0; i < sizeof offsets / sizeof offsets[0]; i++) {
      /* Several at once, so the kernel's own choice cannot be lucky every
       * time. */
      mmf_map *m[4] = {NULL, NULL, NULL, NULL};
      for (int k = 0; k < 4; k++) {
        ASSERT_OK(mmf_open(
            &m[k], test_path("f"), modes[mi],
            &(mmf_options){.offset = offsets[i], .length = 8 * MIB + 17 * k}));
        ASSERT_EQ_U(mmf_offset(m[k]), offsets[i]);
        ASSERT_CONGRUENT(m[k]);
      }
      for (int k = 0; k < 4; k++)
        ASSERT_OK(mmf_close(m[k]));
    }
}

TEST(large_map_to_eof_congruent) {
  const uint64_t size = 16 * MIB + 1;
  write_pattern(test_path("f"), size);
  mmf_map *m = NULL;
  ASSERT_OK(mmf_open(&m, test_path("f"), MMF_READ,
                     &(mmf_options){.offset = 4096 + 123}));
  ASSERT_CONGRUENT(m);
  ASSERT_EQ_U(mmf_size(m), size - 4096 - 123);
  ASSERT_PAT(mmf_data(m), 4096 + 123, mmf_size(m));
  ASSERT_OK(mmf_close(m));
}

TEST(large_map_congruent_after_resize_growth) {
  make_sparse(test_path("f"), 4096);
  mmf_map *m = NULL;
  ASSERT_OK(mmf_open(&m, test_path("f"), MMF_WRITE,
                     &(mmf_options){.offset = 4096 + 123, .length = 8 * MIB}));
  ASSERT_CONGRUENT(m);
  unsigned char *p = mmf_data(m);
  p[0] = 'a';
  p[8 * MIB - 1] = 'b';

  /* Make growing in place impossible: occupy the pages right after the
   * mapping, so mmf_resize has to move it. */
  void *blocker = block_after(p, 8 * MIB);

  ASSERT_OK(mmf_resize(m, 40 * MIB + 5));
  ASSERT_TRUE(mmf_data(m) != (void *)p); /* it had to move */
  ASSERT_CONGRUENT(m);
  p = mmf_data(m);
  ASSERT_EQ(p[0], 'a');
  ASSERT_EQ(p[8 * MIB - 1], 'b');
  ASSERT_ZERO(p + 8 * MIB, 4096);
  p[40 * MIB + 4] = 'c';
  ASSERT_EQ_U(file_size(test_path("f")), 4096 + 123 + 40 * MIB + 5);

  /* Growing again (in place or not) keeps it. */
  ASSERT_OK(mmf_resize(m, 64 * MIB));
  ASSERT_CONGRUENT(m);
  ASSERT_EQ(((unsigned char *)mmf_data(m))[40 * MIB + 4], 'c');
  ASSERT_OK(mmf_close(m));
  unblock(blocker);
}

TEST(small_map_grown_large_congruent) {
  /* A map that starts small (placed anywhere) and grows past 2 MiB. */
  make_sparse(test_path("f"), 64 * MIB);
  static const int modes[] = {MMF_READ, MMF_WRITE, MMF_COPY};
  for (size_t mi = 0; mi < sizeof modes / sizeof modes[0]; mi++) {
    mmf_map *m = NULL;
    ASSERT_OK(mmf_open(&m, test_path("f"), modes[mi],
                       &(mmf_options){.offset = 77777, .length = 100}));
    /* Block in-place growth. */
    void *blocker = block_after(mmf_data(m), 100);
    ASSERT_OK(mmf_resize(m, 16 * MIB));
    ASSERT_CONGRUENT(m);
    ASSERT_ZERO((unsigned char *)mmf_data(m) + 16 * MIB - 4096, 4096);
    ASSERT_OK(mmf_close(m));
    unblock(blocker);
  }
}

TEST(large_anon_aligned) {
  /* Anonymous memory: file offset 0, so 2 MiB aligned (huge pages). */
  mmf_map *m[4];
  for (int k = 0; k < 4; k++) {
    ASSERT_OK(mmf_anon(&m[k], 4 * MIB + 4096 * k, k % 2 ? MMF_SHARED : 0));
    ASSERT_CONGRUENT(m[k]);
  }
  for (int k = 0; k < 4; k++)
    ASSERT_OK(mmf_close(m[k]));
}

TEST(placement_leaves_no_reservation) {
  /* The spare address space reserved for placement is returned. */
  make_sparse(test_path("f"), 32 * MIB);
  mmf_map *m = NULL;
  ASSERT_OK(mmf_open(&m, test_path("f"), MMF_READ,
                     &(mmf_options){.offset = 4096 + 123, .length = 8 * MIB}));
  ASSERT_OK(mmf_close(m)); /* warm up allocator mappings */
  int before = count_mappings();
  ASSERT_OK(mmf_open(&m, test_path("f"), MMF_READ,
                     &(mmf_options){.offset = 4096 + 123, .length = 8 * MIB}));
  /* Exactly one new mapping: the file (the kernel may merge nothing). */
  ASSERT_EQ(count_mappings_of(test_dir()), 1);
  ASSERT_LE(count_mappings(), before + 1);
  ASSERT_OK(mmf_close(m));
  ASSERT_EQ(count_mappings(), before);
}
