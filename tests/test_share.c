/*
 * test_share.c - private versus shared semantics seen from a second
 * process: MMF_COPY stores never reach the file, MMF_WRITE stores are seen
 * by another process's read() and maps, and anonymous memory is shared
 * across fork() only with MMF_SHARED.
 */
#include "test.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

static size_t page(void) { return (size_t)sysconf(_SC_PAGESIZE); }

typedef struct expect {
  const char *path;
  uint64_t off;
  const void *bytes;
  size_t n;
} expect;

/* Child: read() the file (a new descriptor of its own) and compare. Exit 0
 * if equal, 2 if different, 3 on I/O error. */
static int child_read_compare(void *arg) {
  const expect *e = arg;
  unsigned char buf[65536];
  if (e->n > sizeof buf)
    return 3;
  int fd = open(e->path, O_RDONLY);
  if (fd < 0 || lseek(fd, (off_t)e->off, SEEK_SET) < 0)
    return 3;
  size_t got = 0;
  while (got < e->n) {
    ssize_t r = read(fd, buf + got, e->n - got);
    if (r <= 0)
      return 3;
    got += (size_t)r;
  }
  close(fd);
  return memcmp(buf, e->bytes, e->n) == 0 ? 0 : 2;
}

TEST(copy_writes_never_reach_file) {
  const size_t size = 3 * page() + 11;
  write_pattern(test_path("f"), size);
  unsigned char orig[3 * 65536];
  ASSERT_LE_U(size, sizeof orig);
  fill_pat(orig, 0, size);

  mmf_map *m = NULL;
  ASSERT_OK(mmf_open(&m, test_path("f"), MMF_COPY, NULL));
  unsigned char *p = mmf_data(m);
  memset(p, 0xee, size);
  ASSERT_EQ(p[size - 1], 0xee);

  /* Another process reading the file sees the original bytes. */
  expect e = {test_path("f"), 0, orig, size};
  ASSERT_EXITED(run_in_child(child_read_compare, &e), 0);

  /* A second private map of the file sees the original bytes too. */
  mmf_map *m2 = NULL;
  ASSERT_OK(mmf_open(&m2, test_path("f"), MMF_READ, NULL));
  ASSERT_PAT(mmf_data(m2), 0, size);
  ASSERT_OK(mmf_close(m2));

  /* Flushing a private map writes nothing. */
  ASSERT_OK(mmf_flush(m, 0, 0, MMF_FLUSH_SYNC));
  ASSERT_OK(mmf_flush(m, 0, 0, MMF_FLUSH_FULL));
  ASSERT_EXITED(run_in_child(child_read_compare, &e), 0);
  ASSERT_OK(mmf_close(m));

  /* Nor does closing it. */
  ASSERT_EXITED(run_in_child(child_read_compare, &e), 0);
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
  expect e1 = {test_path("f"), page() - 5, msg, sizeof msg};
  ASSERT_EXITED(run_in_child(child_read_compare, &e1), 0);
  expect e2 = {test_path("f"), size - 3, "end", 3};
  ASSERT_EXITED(run_in_child(child_read_compare, &e2), 0);

  /* And after the map is closed. */
  ASSERT_OK(mmf_close(m));
  ASSERT_EXITED(run_in_child(child_read_compare, &e1), 0);
  ASSERT_EXITED(run_in_child(child_read_compare, &e2), 0);
}

/* The check can fail: a child comparing with the wrong bytes exits 2. */
TEST(child_read_compare_detects_difference) {
  write_pattern(test_path("f"), 100);
  expect e = {test_path("f"), 0, "xxxx", 4};
  ASSERT_EXITED(run_in_child(child_read_compare, &e), 2);
}

typedef struct child_map_write {
  const char *path;
  uint64_t off;
} child_map_write;

/* Child: map the file MMF_WRITE on its own and store "child" at off. */
static int child_writes_through_map(void *arg) {
  const child_map_write *c = arg;
  mmf_map *m = NULL;
  if (mmf_open(&m, c->path, MMF_WRITE, NULL) != 0)
    return 3;
  memcpy((unsigned char *)mmf_data(m) + c->off, "child", 5);
  return mmf_close(m) == 0 ? 0 : 4;
}

TEST(write_map_sees_other_process_writes) {
  write_pattern(test_path("f"), 3 * page());
  mmf_map *m = NULL;
  ASSERT_OK(mmf_open(&m, test_path("f"), MMF_READ,
                     &(mmf_options){.offset = page() + 1}));
  child_map_write c = {test_path("f"), 2 * page() - 2};
  ASSERT_EXITED(run_in_child(child_writes_through_map, &c), 0);
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
  child_map_write c = {test_path("f"), 5};
  ASSERT_EXITED(run_in_child(child_writes_through_map, &c), 0);
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
  mmf_map *m = NULL;
  ASSERT_OK(mmf_anon(&m, 3 * 4096, 0));
  unsigned char *p = mmf_data(m);
  p[0] = 'A';
  ASSERT_EXITED(run_in_child(child_write_anon, p), 0);
  ASSERT_ZERO(p + 1, 10);
  ASSERT_EQ(p[3 * 4096 - 1], 0);
  ASSERT_OK(mmf_close(m));
}
