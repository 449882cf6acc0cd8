/*
 * test_share.c - private versus shared semantics seen from a second
 * process: MMF_COPY stores never reach the file, MMF_WRITE stores are seen
 * by another process's read() and maps, and anonymous memory is shared
 * across fork() only with MMF_SHARED. The other process is a TEST_CHILD,
 * so all but the fork() tests run on Windows too.
 */
#include "test.h"

#include <stdio.h>
#include <stdlib.h>

static size_t page(void) { return test_page_size(); }

/* Hex of n bytes, for passing them to a child (static buffer). */
static const char *hex(const void *p, size_t n) {
  static char buf[2 * 256 + 1];
  const unsigned char *b = p;
  ASSERT_LE_U(n, 256);
  for (size_t i = 0; i < n; i++)
    snprintf(buf + 2 * i, 3, "%02x", b[i]);
  buf[2 * n] = '\0';
  return buf;
}

/* Child: read n bytes at off of path with a descriptor of its own and
 * compare them with want: "pat" (pattern bytes) or hex. Exit 0 if equal, 2
 * if different (1 on an I/O error). */
TEST_CHILD(read_compare) {
  ASSERT_EQ(argc, 5);
  const uint64_t off = strtoull(argv[2], NULL, 10);
  const size_t n = (size_t)strtoull(argv[3], NULL, 10);
  const char *want = argv[4];
  unsigned char buf[65536];
  ASSERT_LE_U(n, sizeof buf);
  read_at(argv[1], off, buf, n);
  for (size_t i = 0; i < n; i++) {
    unsigned w = pat(off + i);
    if (strcmp(want, "pat") != 0 && sscanf(want + 2 * i, "%2x", &w) != 1)
      return 2;
    if (buf[i] != w)
      return 2;
  }
  return 0;
}

/* Run read_compare on [off, off + n) of path against the pattern. */
static int other_reads_pat(const char *path, uint64_t off, size_t n) {
  char o[32], len[32];
  snprintf(o, sizeof o, "%" PRIu64, off);
  snprintf(len, sizeof len, "%zu", n);
  return test_run_child("read_compare", path, o, len, "pat", NULL);
}

/* Run read_compare on [off, off + n) of path against bytes. */
static int other_reads(const char *path, uint64_t off, const void *bytes,
                       size_t n) {
  char o[32], len[32];
  snprintf(o, sizeof o, "%" PRIu64, off);
  snprintf(len, sizeof len, "%zu", n);
  return test_run_child("read_compare", path, o, len, hex(bytes, n), NULL);
}

TEST(copy_writes_never_reach_file) {
  const size_t size = 3 * page() + 11;
  write_pattern(test_path("f"), size);

  mmf_map *m = NULL;
  ASSERT_OK(mmf_open(&m, test_path("f"), MMF_COPY, NULL));
  unsigned char *p = mmf_data(m);
  memset(p, 0xee, size);
  ASSERT_EQ(p[size - 1], 0xee);

  /* Another process reading the file sees the original bytes. */
  ASSERT_EQ(other_reads_pat(test_path("f"), 0, size), 0);

  /* A second private map of the file sees the original bytes too. */
  mmf_map *m2 = NULL;
  ASSERT_OK(mmf_open(&m2, test_path("f"), MMF_READ, NULL));
  ASSERT_PAT(mmf_data(m2), 0, size);
  ASSERT_OK(mmf_close(m2));

  /* Flushing a private map writes nothing. */
  ASSERT_OK(mmf_flush(m, 0, 0, MMF_FLUSH_SYNC));
  ASSERT_OK(mmf_flush(m, 0, 0, MMF_FLUSH_FULL));
  ASSERT_EQ(other_reads_pat(test_path("f"), 0, size), 0);
  ASSERT_OK(mmf_close(m));

  /* Nor does closing it. */
  ASSERT_EQ(other_reads_pat(test_path("f"), 0, size), 0);
  ASSERT_EQ_U(file_size(test_path("f")), size);
}

TEST(copy_sees_own_writes_at_offset) {
  write_pattern(test_path("f"), 2 * page());
  mmf_map *m = NULL;
  ASSERT_OK(mmf_open(&m, test_path("f"), MMF_COPY,
                     &(mmf_options){.offset = page() - 1, .length = 3}));
  unsigned char *p = mmf_data(m);
  p[0] = 'a';
  p[1] = 'b';
  p[2] = 'c';
  ASSERT_MEMEQ(p, "abc", 3);
  ASSERT_OK(mmf_close(m));
  unsigned char buf[3];
  read_at(test_path("f"), page() - 1, buf, 3);
  ASSERT_PAT(buf, page() - 1, 3);
}

TEST(write_visible_to_other_process_read) {
  const size_t size = 2 * page() + 3;
  write_pattern(test_path("f"), size);
  mmf_map *m = NULL;
  ASSERT_OK(mmf_open(&m, test_path("f"), MMF_WRITE, NULL));
  unsigned char *p = mmf_data(m);
  static const char msg[] = "written through the map";
  memcpy(p + page() - 5, msg, sizeof msg);
  memcpy(p + size - 3, "end", 3);

  /* No flush: the shared page cache already holds the bytes. */
  ASSERT_EQ(other_reads(test_path("f"), page() - 5, msg, sizeof msg), 0);
  ASSERT_EQ(other_reads(test_path("f"), size - 3, "end", 3), 0);

  /* And after the map is closed. */
  ASSERT_OK(mmf_close(m));
  ASSERT_EQ(other_reads(test_path("f"), page() - 5, msg, sizeof msg), 0);
  ASSERT_EQ(other_reads(test_path("f"), size - 3, "end", 3), 0);
}

/* The check can fail: a child comparing with the wrong bytes exits 2. */
TEST(child_read_compare_detects_difference) {
  write_pattern(test_path("f"), 100);
  ASSERT_EQ(other_reads(test_path("f"), 0, "xxxx", 4), 2);
  ASSERT_EQ(other_reads_pat(test_path("f"), 1, 99), 0);
}

/* Child: map path MMF_WRITE on its own and store "child" at argv[2]. */
TEST_CHILD(writes_through_map) {
  ASSERT_EQ(argc, 3);
  mmf_map *m = NULL;
  if (mmf_open(&m, argv[1], MMF_WRITE, NULL) != 0)
    return 3;
  memcpy((unsigned char *)mmf_data(m) + strtoull(argv[2], NULL, 10), "child",
         5);
  return mmf_close(m) == 0 ? 0 : 4;
}

static int other_writes_through_map(const char *path, uint64_t off) {
  char o[32];
  snprintf(o, sizeof o, "%" PRIu64, off);
  return test_run_child("writes_through_map", path, o, NULL);
}

TEST(write_map_sees_other_process_writes) {
  write_pattern(test_path("f"), 3 * page());
  mmf_map *m = NULL;
  ASSERT_OK(mmf_open(&m, test_path("f"), MMF_READ,
                     &(mmf_options){.offset = page() + 1}));
  ASSERT_EQ(other_writes_through_map(test_path("f"), 2 * page() - 2), 0);
  /* The parent's read-only map shows the child's store at once. */
  ASSERT_MEMEQ((unsigned char *)mmf_data(m) + page() - 3, "child", 5);
  ASSERT_OK(mmf_close(m));
}

TEST(copy_map_private_from_other_process_writes_to_own_pages) {
  write_pattern(test_path("f"), 2 * page());
  mmf_map *m = NULL;
  ASSERT_OK(mmf_open(&m, test_path("f"), MMF_COPY, NULL));
  unsigned char *p = mmf_data(m);
  p[10] = 'P'; /* page 0 is now the parent's private copy */
  ASSERT_EQ(other_writes_through_map(test_path("f"), 5), 0);
  /* The parent's private page keeps its own bytes. */
  ASSERT_PAT(p, 0, 10);
  ASSERT_EQ(p[10], 'P');
  ASSERT_OK(mmf_close(m));
  /* The file has the child's bytes, not the parent's. */
  unsigned char buf[11];
  read_at(test_path("f"), 0, buf, sizeof buf);
  ASSERT_MEMEQ(buf + 5, "child", 5);
  ASSERT_EQ(buf[10], pat(10));
}

static int child_write_anon(void *arg) {
  unsigned char *p = arg;
  /* Pre-fork bytes are visible in the child in both kinds. */
  if (p[0] != 'A')
    return 2;
  memcpy(p + 1, "from child", 10);
  p[3 * 4096 - 1] = 'Z';
  return 0;
}

TEST(anon_shared_across_fork) {
#ifdef _WIN32
  SKIP("MMF_SHARED shares anonymous memory with fork() children; Windows "
       "has no fork()");
#endif
  mmf_map *m = NULL;
  ASSERT_OK(mmf_anon(&m, 3 * 4096, MMF_SHARED));
  ASSERT_TRUE(mmf_is_mapped(m));
  unsigned char *p = mmf_data(m);
  p[0] = 'A';
  ASSERT_EXITED(run_in_child(child_write_anon, p), 0);
  ASSERT_MEMEQ(p + 1, "from child", 10);
  ASSERT_EQ(p[3 * 4096 - 1], 'Z');
  ASSERT_OK(mmf_close(m));
}

TEST(anon_private_not_shared_across_fork) {
#ifdef _WIN32
  SKIP("needs fork(), which Windows does not have");
#endif
  mmf_map *m = NULL;
  ASSERT_OK(mmf_anon(&m, 3 * 4096, 0));
  unsigned char *p = mmf_data(m);
  p[0] = 'A';
  ASSERT_EXITED(run_in_child(child_write_anon, p), 0);
  ASSERT_ZERO(p + 1, 10);
  ASSERT_EQ(p[3 * 4096 - 1], 0);
  ASSERT_OK(mmf_close(m));
}
