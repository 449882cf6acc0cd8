/*
 * test_anon.c - mmf_anon: sizes, flags, zero fill, errors.
 */
#include "test.h"

#include <unistd.h>

#define SENTINEL ((mmf_map *)(uintptr_t)0x1234)

static uint64_t page(void) { return (uint64_t)test_page_size(); }

TEST(anon_sizes_zero_filled_writable) {
  const uint64_t sizes[] = {1,          7,       page() - 1,   page(),
                            page() + 1, 1 << 20, (1 << 20) + 3};
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    mmf_map *m = NULL;
    ASSERT_OK(mmf_anon(&m, sizes[i], 0));
    ASSERT_EQ_U(mmf_size(m), sizes[i]);
    ASSERT_EQ_U(mmf_offset(m), 0);
    ASSERT_TRUE(mmf_is_mapped(m));
    ASSERT_EQ(mmf_mode(m), MMF_WRITE);
    ASSERT_TRUE(mmf_data(m) != NULL);
    ASSERT_ZERO(mmf_data(m), sizes[i]);
    memset(mmf_data(m), 0x5c, sizes[i]);
    ASSERT_OK(mmf_close(m));
  }
}

TEST(anon_zero_length_is_empty) {
  static const unsigned flags[] = {0, MMF_SHARED, MMF_POPULATE};
  for (size_t i = 0; i < 3; i++) {
    mmf_map *m = SENTINEL;
    ASSERT_OK(mmf_anon(&m, 0, flags[i]));
    ASSERT_TRUE(m != NULL && m != SENTINEL);
    ASSERT_EQ_U(mmf_size(m), 0);
    ASSERT_TRUE(mmf_is_mapped(m));
    ASSERT_OK(mmf_close(m));
  }
}

TEST(anon_allowed_flags) {
  static const unsigned flags[] = {MMF_SHARED,
                                   MMF_POPULATE,
                                   MMF_HUGE,
                                   MMF_LOCKED,
                                   MMF_SHARED | MMF_POPULATE | MMF_HUGE,
                                   MMF_SHARED | MMF_LOCKED};
  const uint64_t size = 4 << 20; /* room for a huge page */
  for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
    mmf_map *m = NULL;
    uint64_t len = (flags[i] & MMF_LOCKED) ? 16 * page() : size;
    int r = mmf_anon(&m, len, flags[i]);
    if ((flags[i] & MMF_LOCKED) &&
        (r == MMF_ENOMEM || r == MMF_EAGAIN || r == MMF_EACCES))
      continue; /* the memory-lock limit may not allow it */
    if (r != 0)
      FAIL("flags 0x%x: %s", flags[i], mmf_errname(r));
    ASSERT_EQ_U(mmf_size(m), len);
    ASSERT_ZERO(mmf_data(m), len);
    unsigned char *p = mmf_data(m);
    p[0] = 1;
    p[len - 1] = 2;
    if (flags[i] & MMF_POPULATE) {
      uint64_t bytes = 0;
      ASSERT_OK(mmf_resident(m, 0, 0, &bytes));
      ASSERT_EQ_U(bytes, len);
    }
    ASSERT_OK(mmf_close(m));
  }
}

TEST(anon_bad_flags_einval) {
  static const unsigned bad[] = {
      MMF_CREATE,     MMF_PREALLOCATE, MMF_SYNC_ON_CLOSE, MMF_NO_FALLBACK,
      MMF_SEQUENTIAL, MMF_RANDOM,      1u << 12,          1u << 31};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    mmf_map *m = SENTINEL;
    int r = mmf_anon(&m, 4096, bad[i]);
    if (r != MMF_EINVAL)
      FAIL("flags 0x%x: %s, expected MMF_EINVAL", bad[i], mmf_errname(r));
    ASSERT_NULL(m);
  }
}

TEST(anon_too_large_eoverflow) {
  const uint64_t lens[] = {UINT64_MAX, 1ull << 63, 1ull << 62,
                           UINT64_MAX - 4095};
  for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
    mmf_map *m = SENTINEL;
    int r = mmf_anon(&m, lens[i], 0);
    if (r != MMF_EOVERFLOW)
      FAIL("length 0x%" PRIx64 ": %s, expected MMF_EOVERFLOW", lens[i],
           mmf_errname(r));
    ASSERT_NULL(m);
  }
}

TEST(anon_huge_placement) {
  /* With MMF_HUGE a large map can hold 2 MiB pages; the bytes behave the
   * same either way. */
  mmf_map *m = NULL;
  ASSERT_OK(mmf_anon(&m, 8 << 20, MMF_HUGE));
  unsigned char *p = mmf_data(m);
  for (uint64_t i = 0; i < (8 << 20); i += 4096)
    p[i] = (unsigned char)(i >> 12);
  for (uint64_t i = 0; i < (8 << 20); i += 4096)
    ASSERT_EQ(p[i], (unsigned char)(i >> 12));
  ASSERT_OK(mmf_close(m));
}

TEST(anon_independent_maps) {
  mmf_map *a = NULL, *b = NULL;
  ASSERT_OK(mmf_anon(&a, page(), 0));
  ASSERT_OK(mmf_anon(&b, page(), 0));
  ASSERT_TRUE(mmf_data(a) != mmf_data(b));
  memset(mmf_data(a), 1, page());
  ASSERT_ZERO(mmf_data(b), page());
  ASSERT_OK(mmf_close(a));
  ASSERT_ZERO(mmf_data(b), page());
  ASSERT_OK(mmf_close(b));
}
