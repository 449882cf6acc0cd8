/*
 * test_rules.c - the mapping rules of DESIGN.md: any byte offset,
 * empty files, offset == size, length 0, ranges past end of file, growth by
 * MMF_WRITE, overflow, files of every small size and a sparse 5 GiB file.
 */
#include "test.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#define SENTINEL ((mmf_map *)(uintptr_t)0x1234)

static const int modes[] = {MMF_READ, MMF_WRITE, MMF_COPY};
static const char *mode_name(int mode) {
  return mode == MMF_READ ? "READ" : mode == MMF_WRITE ? "WRITE" : "COPY";
}

static uint64_t page(void) { return (uint64_t)test_page_size(); }

/* Open path with offset/length and check the map shows exactly the pattern
 * bytes [offset, offset + want_size). */
static void check_map(const char *path, int mode, uint64_t offset,
                      uint64_t length, uint64_t want_size) {
  mmf_map *m = NULL;
  mmf_options o = {0};
  o.offset = offset;
  o.length = length;
  int r = mmf_open(&m, path, mode, &o);
  if (r != 0)
    FAIL("%s offset %" PRIu64 " length %" PRIu64 ": %s", mode_name(mode),
         offset, length, mmf_errname(r));
  if (mmf_size(m) != want_size)
    FAIL("%s offset %" PRIu64 " length %" PRIu64
         ": size %zu, expected %" PRIu64,
         mode_name(mode), offset, length, mmf_size(m), want_size);
  ASSERT_EQ_U(mmf_offset(m), offset);
  ASSERT_TRUE(mmf_is_mapped(m));
  ASSERT_PAT(mmf_data(m), offset, want_size);
  if (want_size > 0) {
    /* Writable modes: the first and last byte can be stored to. */
    if (mode != MMF_READ) {
      unsigned char *p = mmf_data(m);
      p[0] = pat(offset);
      p[want_size - 1] = pat(offset + want_size - 1);
    }
  }
  ASSERT_OK(mmf_close(m));
}

TEST(any_byte_offset) {
  const uint64_t pg = page();
  const uint64_t size = 5 * pg + 77;
  write_pattern(test_path("f"), size);
  const uint64_t offsets[] = {0,      1,          2,          7,
                              pg - 1, pg,         pg + 1,     2 * pg + 3,
                              12345,  3 * pg - 1, 4 * pg + 5, size - 1};
  for (int mi = 0; mi < 3; mi++)
    for (size_t i = 0; i < sizeof offsets / sizeof offsets[0]; i++) {
      uint64_t off = offsets[i];
      /* length 0: to the end of the file. */
      check_map(test_path("f"), modes[mi], off, 0, size - off);
      /* One byte, odd lengths, and up to exactly the end. */
      check_map(test_path("f"), modes[mi], off, 1, 1);
      if (size - off >= 333)
        check_map(test_path("f"), modes[mi], off, 333, 333);
      if (size - off >= pg + 1)
        check_map(test_path("f"), modes[mi], off, pg + 1, pg + 1);
      check_map(test_path("f"), modes[mi], off, size - off, size - off);
    }
  /* Nothing was changed. */
  ASSERT_EQ_U(file_size(test_path("f")), size);
  unsigned char buf[4096];
  read_at(test_path("f"), size - sizeof buf, buf, sizeof buf);
  ASSERT_PAT(buf, size - sizeof buf, sizeof buf);
}

TEST(small_file_sizes) {
  const uint64_t pg = page();
  const uint64_t sizes[] = {1, 2, pg - 1, pg, pg + 1, 2 * pg, 2 * pg + 1};
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    write_pattern(test_path("f"), sizes[i]);
    for (int mi = 0; mi < 3; mi++) {
      check_map(test_path("f"), modes[mi], 0, 0, sizes[i]);
      check_map(test_path("f"), modes[mi], sizes[i] - 1, 0, 1);
      check_map(test_path("f"), modes[mi], sizes[i], 0, 0);
    }
    ASSERT_EQ_U(file_size(test_path("f")), sizes[i]);
  }
}

/* Bytes past the end of a 1-byte file inside the last page are not part of
 * the map and cannot be read from it. */
TEST(one_byte_file) {
  write_file(test_path("f"), "Z", 1);
  for (int mi = 0; mi < 3; mi++) {
    mmf_map *m = NULL;
    ASSERT_OK(mmf_open(&m, test_path("f"), modes[mi], NULL));
    ASSERT_EQ_U(mmf_size(m), 1);
    ASSERT_EQ(((unsigned char *)mmf_data(m))[0], 'Z');
    ASSERT_ERR(mmf_flush(m, 1, 1, MMF_FLUSH_ASYNC), MMF_ERANGE);
    ASSERT_ERR(mmf_flush(m, 0, 2, MMF_FLUSH_ASYNC), MMF_ERANGE);
    ASSERT_OK(mmf_flush(m, 0, 1, MMF_FLUSH_ASYNC));
    ASSERT_OK(mmf_close(m));
  }
}

TEST(empty_file_maps_size_zero) {
  write_file(test_path("empty"), NULL, 0);
  static const unsigned flags[] = {0, MMF_NO_FALLBACK, MMF_POPULATE,
                                   MMF_NO_FALLBACK | MMF_POPULATE};
  for (int mi = 0; mi < 3; mi++)
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
      mmf_map *m = SENTINEL;
      mmf_options o = {0};
      o.flags = flags[i];
      int r = mmf_open(&m, test_path("empty"), modes[mi], &o);
      if (r != 0)
        FAIL("%s flags 0x%x on an empty file: %s", mode_name(modes[mi]),
             flags[i], mmf_errname(r));
      ASSERT_TRUE(m != NULL && m != SENTINEL);
      ASSERT_EQ_U(mmf_size(m), 0);
      ASSERT_EQ_U(mmf_offset(m), 0);
      ASSERT_TRUE(mmf_is_mapped(m));
      ASSERT_EQ(mmf_mode(m), modes[mi]);
      ASSERT_OK(mmf_close(m));
    }
  ASSERT_EQ_U(file_size(test_path("empty")), 0);

  /* By descriptor too. */
  int fd = test_open(test_path("empty"), O_RDWR);
  ASSERT_GE(fd, 0);
  for (int mi = 0; mi < 3; mi++) {
    mmf_map *m = NULL;
    ASSERT_OK(mmf_open_fd(&m, fd, modes[mi],
                          &(mmf_options){.flags = MMF_NO_FALLBACK}));
    ASSERT_EQ_U(mmf_size(m), 0);
    ASSERT_TRUE(mmf_is_mapped(m));
    ASSERT_OK(mmf_close(m));
  }
  close(fd);
}

TEST(empty_file_offset_past_end_erange) {
  write_file(test_path("empty"), NULL, 0);
  for (int mi = 0; mi < 3; mi++) {
    if (modes[mi] == MMF_WRITE)
      continue;
    mmf_map *m = SENTINEL;
    ASSERT_ERR(mmf_open(&m, test_path("empty"), modes[mi],
                        &(mmf_options){.offset = 1}),
               MMF_ERANGE);
    ASSERT_NULL(m);
    m = SENTINEL;
    ASSERT_ERR(mmf_open(&m, test_path("empty"), modes[mi],
                        &(mmf_options){.length = 1}),
               MMF_ERANGE);
    ASSERT_NULL(m);
  }
}

TEST(offset_equal_to_size_maps_empty) {
  const uint64_t sizes[] = {1, 100, page(), page() + 1, 3 * page()};
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    write_pattern(test_path("f"), sizes[i]);
    for (int mi = 0; mi < 3; mi++) {
      mmf_map *m = NULL;
      mmf_options o = {0};
      o.offset = sizes[i];
      o.flags = MMF_NO_FALLBACK;
      ASSERT_OK(mmf_open(&m, test_path("f"), modes[mi], &o));
      ASSERT_EQ_U(mmf_size(m), 0);
      ASSERT_EQ_U(mmf_offset(m), sizes[i]);
      ASSERT_TRUE(mmf_is_mapped(m));
      ASSERT_OK(mmf_close(m));
    }
    ASSERT_EQ_U(file_size(test_path("f")), sizes[i]);
  }
}

TEST(offset_past_eof_erange) {
  const uint64_t size = 2 * page() + 10;
  write_pattern(test_path("f"), size);
  const uint64_t offsets[] = {size + 1, size + page(), 1ull << 40,
                              (1ull << 62)};
  for (int mi = 0; mi < 3; mi++)
    for (size_t i = 0; i < sizeof offsets / sizeof offsets[0]; i++) {
      mmf_map *m = SENTINEL;
      int r = mmf_open(&m, test_path("f"), modes[mi],
                       &(mmf_options){.offset = offsets[i]});
      if (r != MMF_ERANGE)
        FAIL("%s offset %" PRIu64 " past EOF %" PRIu64 ": %s, expected "
             "MMF_ERANGE",
             mode_name(modes[mi]), offsets[i], size, mmf_errname(r));
      ASSERT_NULL(m);
    }
  /* MMF_WRITE with length 0 does not grow the file. */
  ASSERT_EQ_U(file_size(test_path("f")), size);
}

TEST(length_past_eof_erange_read_copy) {
  const uint64_t size = 2 * page() + 10;
  write_pattern(test_path("f"), size);
  struct {
    uint64_t offset, length;
  } cases[] = {
      {0, size + 1},        {1, size},       {size - 1, 2},     {size, 1},
      {page(), 2 * page()}, {0, 1ull << 40}, {page() + 1, size}};
  for (int mi = 0; mi < 3; mi++) {
    if (modes[mi] == MMF_WRITE)
      continue;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
      mmf_map *m = SENTINEL;
      mmf_options o = {0};
      o.offset = cases[i].offset;
      o.length = cases[i].length;
      int r = mmf_open(&m, test_path("f"), modes[mi], &o);
      if (r != MMF_ERANGE)
        FAIL("%s offset %" PRIu64 " length %" PRIu64 " (file %" PRIu64
             "): %s, expected MMF_ERANGE",
             mode_name(modes[mi]), o.offset, o.length, size, mmf_errname(r));
      ASSERT_NULL(m);
    }
  }
  ASSERT_EQ_U(file_size(test_path("f")), size);
}

TEST(write_grows_to_offset_plus_length) {
  const uint64_t size = page() + 10;
  write_pattern(test_path("f"), size);
  mmf_map *m = NULL;
  mmf_options o = {0};
  o.offset = page() - 3;
  o.length = 3 * page();
  ASSERT_OK(mmf_open(&m, test_path("f"), MMF_WRITE, &o));
  ASSERT_EQ_U(file_size(test_path("f")), o.offset + o.length);
  ASSERT_EQ_U(mmf_size(m), 3 * page());
  unsigned char *p = mmf_data(m);
  /* Old bytes kept, new bytes zero. */
  ASSERT_PAT(p, o.offset, size - o.offset);
  ASSERT_ZERO(p + (size - o.offset), o.offset + o.length - size);
  p[3 * page() - 1] = 0xab;
  ASSERT_OK(mmf_close(m));
  unsigned char b;
  read_at(test_path("f"), o.offset + o.length - 1, &b, 1);
  ASSERT_EQ(b, 0xab);
}

TEST(write_offset_past_eof_with_length_grows) {
  write_pattern(test_path("f"), 100);
  mmf_map *m = NULL;
  mmf_options o = {0};
  o.offset = 5000;
  o.length = 7;
  ASSERT_OK(mmf_open(&m, test_path("f"), MMF_WRITE, &o));
  ASSERT_EQ_U(file_size(test_path("f")), 5007);
  ASSERT_EQ_U(mmf_size(m), 7);
  ASSERT_ZERO(mmf_data(m), 7);
  ASSERT_OK(mmf_close(m));
}

TEST(write_grows_to_options_size) {
  write_pattern(test_path("f"), 100);
  mmf_map *m = NULL;
  mmf_options o = {0};
  o.size = 3 * page() + 1;
  /* length 0: the map covers the grown file. */
  ASSERT_OK(mmf_open(&m, test_path("f"), MMF_WRITE, &o));
  ASSERT_EQ_U(file_size(test_path("f")), 3 * page() + 1);
  ASSERT_EQ_U(mmf_size(m), 3 * page() + 1);
  ASSERT_PAT(mmf_data(m), 0, 100);
  ASSERT_ZERO((unsigned char *)mmf_data(m) + 100, 3 * page() + 1 - 100);
  ASSERT_OK(mmf_close(m));

  /* size larger than offset + length: the file gets size, the map length. */
  o.offset = 10;
  o.length = 20;
  o.size = 5 * page();
  ASSERT_OK(mmf_open(&m, test_path("f"), MMF_WRITE, &o));
  ASSERT_EQ_U(file_size(test_path("f")), 5 * page());
  ASSERT_EQ_U(mmf_size(m), 20);
  ASSERT_PAT(mmf_data(m), 10, 20);
  ASSERT_OK(mmf_close(m));

  /* offset + length larger than size: offset + length wins. */
  o.offset = 6 * page();
  o.length = 10;
  o.size = 5 * page() + 1;
  ASSERT_OK(mmf_open(&m, test_path("f"), MMF_WRITE, &o));
  ASSERT_EQ_U(file_size(test_path("f")), 6 * page() + 10);
  ASSERT_OK(mmf_close(m));

  /* Offset past the old end but inside size, length 0: map to the end. */
  o.offset = 7 * page() + 3;
  o.length = 0;
  o.size = 8 * page();
  ASSERT_OK(mmf_open(&m, test_path("f"), MMF_WRITE, &o));
  ASSERT_EQ_U(file_size(test_path("f")), 8 * page());
  ASSERT_EQ_U(mmf_size(m), page() - 3);
  ASSERT_OK(mmf_close(m));
}

TEST(write_size_never_shrinks) {
  write_pattern(test_path("f"), 10000);
  mmf_map *m = NULL;
  ASSERT_OK(mmf_open(&m, test_path("f"), MMF_WRITE,
                     &(mmf_options){.size = 10, .length = 20}));
  ASSERT_EQ_U(mmf_size(m), 20);
  ASSERT_OK(mmf_close(m));
  ASSERT_EQ_U(file_size(test_path("f")), 10000);
  unsigned char buf[10000];
  read_at(test_path("f"), 0, buf, sizeof buf);
  ASSERT_PAT(buf, 0, sizeof buf);
}

TEST(read_copy_ignore_size_option) {
  /* opts.size is for MMF_WRITE: READ and COPY never change the file. */
  write_pattern(test_path("f"), 1000);
  for (int mi = 0; mi < 3; mi++) {
    if (modes[mi] == MMF_WRITE)
      continue;
    mmf_map *m = NULL;
    int r =
        mmf_open(&m, test_path("f"), modes[mi], &(mmf_options){.size = 100000});
    if (r == 0) {
      ASSERT_EQ_U(mmf_size(m), 1000);
      ASSERT_OK(mmf_close(m));
    } else {
      ASSERT_ERR(r, MMF_EINVAL);
    }
    ASSERT_EQ_U(file_size(test_path("f")), 1000);
  }
}

TEST(offset_plus_length_overflow) {
  write_pattern(test_path("f"), 1000);
  struct {
    uint64_t offset, length;
  } cases[] = {{UINT64_MAX, 1},
               {1, UINT64_MAX},
               {UINT64_MAX, UINT64_MAX},
               {1ull << 63, 1},
               {(1ull << 62), (1ull << 62)},
               {(1ull << 63) - 1, 1},
               {10, (1ull << 63) - 5}};
  for (int mi = 0; mi < 3; mi++)
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
      mmf_map *m = SENTINEL;
      mmf_options o = {0};
      o.offset = cases[i].offset;
      o.length = cases[i].length;
      int r = mmf_open(&m, test_path("f"), modes[mi], &o);
      if (r != MMF_EOVERFLOW)
        FAIL("%s offset 0x%" PRIx64 " length 0x%" PRIx64
             ": %s, expected MMF_EOVERFLOW",
             mode_name(modes[mi]), o.offset, o.length, mmf_errname(r));
      ASSERT_NULL(m);
    }
  /* Same through opts.size for MMF_WRITE. */
  mmf_map *m = SENTINEL;
  ASSERT_ERR(mmf_open(&m, test_path("f"), MMF_WRITE,
                      &(mmf_options){.size = UINT64_MAX}),
             MMF_EOVERFLOW);
  ASSERT_NULL(m);
  ASSERT_EQ_U(file_size(test_path("f")), 1000);
}

TEST(map_larger_than_address_space_eoverflow) {
  make_sparse(test_path("f"), 4096);
  mmf_map *m = SENTINEL;
  /* 1 EiB fits in a file offset but in no 64-bit address space. */
  ASSERT_ERR(mmf_open(&m, test_path("f"), MMF_WRITE,
                      &(mmf_options){.length = 1ull << 60}),
             MMF_EOVERFLOW);
  ASSERT_NULL(m);
  m = SENTINEL;
  ASSERT_ERR(mmf_open(&m, test_path("f"), MMF_WRITE,
                      &(mmf_options){.offset = 100, .length = 1ull << 61}),
             MMF_EOVERFLOW);
  ASSERT_NULL(m);
  m = SENTINEL;
  ASSERT_ERR(mmf_anon(&m, 1ull << 62, 0), MMF_EOVERFLOW);
  ASSERT_NULL(m);
  m = SENTINEL;
  ASSERT_ERR(mmf_anon(&m, UINT64_MAX, MMF_SHARED), MMF_EOVERFLOW);
  ASSERT_NULL(m);
}

#define GIB (1ull << 30)

TEST(sparse_5gib_file) {
  if (sizeof(size_t) < 8)
    SKIP("a 5 GiB map needs a 64-bit address space");
  const uint64_t size = 5 * GIB;
  make_sparse(test_path("big"), size);
  /* A byte near the end, written before mapping. */
  write_at(test_path("big"), size - 3, "E", 1);

  mmf_map *m = NULL;
  ASSERT_OK(mmf_open(&m, test_path("big"), MMF_READ, NULL));
  ASSERT_EQ_U(mmf_size(m), size);
  const unsigned char *p = mmf_data(m);
  ASSERT_EQ(p[0], 0);
  ASSERT_EQ(p[4 * GIB], 0);
  ASSERT_EQ(p[size - 3], 'E');
  ASSERT_EQ(p[size - 1], 0);
  ASSERT_OK(mmf_close(m));

  /* Past 4 GiB at an odd offset. */
  ASSERT_OK(mmf_open(&m, test_path("big"), MMF_READ,
                     &(mmf_options){.offset = size - 4096 - 13}));
  ASSERT_EQ_U(mmf_size(m), 4096 + 13);
  ASSERT_EQ(((unsigned char *)mmf_data(m))[4096 + 13 - 3], 'E');
  ASSERT_OK(mmf_close(m));

  /* Write a mark near 5 GiB through a MMF_WRITE map of the whole file. */
  ASSERT_OK(mmf_open(&m, test_path("big"), MMF_WRITE, NULL));
  ASSERT_EQ_U(mmf_size(m), size);
  memcpy((unsigned char *)mmf_data(m) + size - 100, "mark", 4);
  ASSERT_OK(mmf_flush(m, size - 100, 4, MMF_FLUSH_SYNC));
  char buf[4];
  read_at(test_path("big"), size - 100, buf, 4);
  ASSERT_MEMEQ(buf, "mark", 4);
  ASSERT_OK(mmf_close(m));
  ASSERT_EQ_U(file_size(test_path("big")), size);

  /* Growing a sparse file past 5 GiB through offset + length. */
  ASSERT_OK(mmf_open(&m, test_path("big"), MMF_WRITE,
                     &(mmf_options){.offset = size + 1, .length = 10}));
  ASSERT_EQ_U(file_size(test_path("big")), size + 11);
  ASSERT_ZERO(mmf_data(m), 10);
  ASSERT_OK(mmf_close(m));

  /* Read past the end of it: MMF_ERANGE. */
  m = SENTINEL;
  ASSERT_ERR(mmf_open(&m, test_path("big"), MMF_READ,
                      &(mmf_options){.offset = size, .length = 12}),
             MMF_ERANGE);
  ASSERT_NULL(m);
}

TEST(length_zero_means_to_eof) {
  const uint64_t size = 3 * page() + 50;
  write_pattern(test_path("f"), size);
  for (int mi = 0; mi < 3; mi++) {
    mmf_map *m = NULL;
    ASSERT_OK(mmf_open(&m, test_path("f"), modes[mi],
                       &(mmf_options){.offset = page() + 1, .length = 0}));
    ASSERT_EQ_U(mmf_size(m), size - page() - 1);
    ASSERT_PAT(mmf_data(m), page() + 1, size - page() - 1);
    ASSERT_OK(mmf_close(m));
  }
}

/* A length of 0 means "to the end of the map" in every range call. */
TEST(length_zero_means_to_end_in_range_calls) {
  const uint64_t size = 4 * page() + 50;
  write_pattern(test_path("f"), size);
  mmf_map *m = NULL;
  ASSERT_OK(
      mmf_open(&m, test_path("f"), MMF_WRITE, &(mmf_options){.offset = 7}));
  const uint64_t msize = mmf_size(m);
  const uint64_t offs[] = {0, 1, page(), msize - 1};
  for (size_t i = 0; i < sizeof offs / sizeof offs[0]; i++) {
    uint64_t off = offs[i], bytes = 0;
    ASSERT_OK(mmf_flush(m, off, 0, MMF_FLUSH_ASYNC));
    ASSERT_OK(mmf_advise(m, off, 0, MMF_ADV_WILLNEED));
    ASSERT_OK(mmf_protect(m, off, 0, MMF_PROT_WRITE));
    ASSERT_OK(mmf_lock_memory(m, off, 0));
    /* Locked: every byte from off to the end is resident. */
    ASSERT_OK(mmf_resident(m, off, 0, &bytes));
    ASSERT_EQ_U(bytes, msize - off);
    ASSERT_OK(mmf_unlock_memory(m, off, 0));
  }
  /* The protection set with length 0 reached the last byte. */
  ASSERT_OK(mmf_protect(m, 0, 0, MMF_PROT_READ));
  ASSERT_OK(mmf_protect(m, msize - 1, 0, MMF_PROT_NONE));
  uint64_t bytes = 0;
  if (test_mincore_refuses_prot_none()) {
    /* The system's answer, translated (qemu-user). */
    ASSERT_ERR(mmf_resident(m, 0, 0, &bytes), MMF_ENOMEM);
  } else {
    ASSERT_OK(mmf_resident(m, 0, 0, &bytes));
    ASSERT_LE_U(bytes, msize);
  }
  ASSERT_OK(mmf_protect(m, 0, 0, MMF_PROT_WRITE));
  ((unsigned char *)mmf_data(m))[msize - 1] = 1;
  ASSERT_OK(mmf_close(m));
}

/* Range calls reject ranges that leave the map. */
TEST(range_calls_past_end_erange) {
  const uint64_t size = 2 * page() + 5;
  write_pattern(test_path("f"), size);
  mmf_map *m = NULL;
  ASSERT_OK(mmf_open(&m, test_path("f"), MMF_WRITE, NULL));
  struct {
    uint64_t off, len;
  } bad[] = {{size + 1, 0},   {0, size + 1},   {size, 1},       {1, size},
             {UINT64_MAX, 1}, {1, UINT64_MAX}, {UINT64_MAX, 0}, {size - 1, 2}};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    uint64_t off = bad[i].off, len = bad[i].len, bytes = 99;
    ASSERT_ERR(mmf_flush(m, off, len, MMF_FLUSH_SYNC), MMF_ERANGE);
    ASSERT_ERR(mmf_advise(m, off, len, MMF_ADV_NORMAL), MMF_ERANGE);
    ASSERT_ERR(mmf_protect(m, off, len, MMF_PROT_READ), MMF_ERANGE);
    ASSERT_ERR(mmf_lock_memory(m, off, len), MMF_ERANGE);
    ASSERT_ERR(mmf_unlock_memory(m, off, len), MMF_ERANGE);
    ASSERT_ERR(mmf_resident(m, off, len, &bytes), MMF_ERANGE);
    ASSERT_EQ_U(bytes, 0);
  }
  /* The map is unchanged and still writable (nothing was protected). */
  ASSERT_EQ_U(mmf_size(m), size);
  ((unsigned char *)mmf_data(m))[size - 1] = 1;
  ASSERT_OK(mmf_close(m));
}
