/*
 * test_leaks.c - no descriptor and no mapping outlives its map, on any path:
 * open and close of every kind of map, and every error an open can return.
 *
 * Each check runs the operation a few times after a warm-up run (which lets
 * the allocator make its own mappings once), counting /proc/self/fd entries
 * and /proc/self/maps lines before and after (Windows: handles and
 * allocations, see count_open_fds() and count_mappings() in test.h).
 */
#include "test.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#define ROUNDS 5

static uint64_t page(void) { return (uint64_t)test_page_size(); }

typedef void (*op_fn)(void);

static void check_no_leak(const char *what, op_fn op) {
  op(); /* warm-up */
  int fds = count_open_fds();
  int maps = count_mappings();
  for (int i = 0; i < ROUNDS; i++)
    op();
  int fds2 = count_open_fds();
  int maps2 = count_mappings();
  if (fds2 != fds)
    FAIL("%s: %d descriptors before, %d after %d rounds", what, fds, fds2,
         ROUNDS);
  if (maps2 != maps)
    FAIL("%s: %d mappings before, %d after %d rounds", what, maps, maps2,
         ROUNDS);
}

#define CHECK_NO_LEAK(op) check_no_leak(#op, op)

/* ------------------------------------------------------------------------ */
/* Successful opens                                                          */
/* ------------------------------------------------------------------------ */

static void setup_files(void) {
  write_pattern(test_path("f"), 5 * page() + 3);
  write_file(test_path("empty"), NULL, 0);
  make_sparse(test_path("big"), 16 << 20);
}

static void open_close(const char *name, int mode, mmf_options o) {
  mmf_map *m = NULL;
  int r = mmf_open(&m, test_path(name), mode, &o);
  if (r != 0)
    FAIL("open %s mode %d: %s", name, mode, mmf_errname(r));
  ASSERT_OK(mmf_close(m));
}

static void op_read(void) { open_close("f", MMF_READ, (mmf_options){0}); }
static void op_write(void) { open_close("f", MMF_WRITE, (mmf_options){0}); }
static void op_copy(void) { open_close("f", MMF_COPY, (mmf_options){0}); }
static void op_offset(void) {
  open_close("f", MMF_READ, (mmf_options){.offset = page() + 1, .length = 9});
}
static void op_empty(void) {
  open_close("empty", MMF_READ, (mmf_options){.flags = MMF_NO_FALLBACK});
  open_close("empty", MMF_WRITE, (mmf_options){0});
}
static void op_offset_at_end(void) {
  open_close("f", MMF_COPY, (mmf_options){.offset = 5 * page() + 3});
}
static void op_large_placed(void) {
  open_close("big", MMF_READ,
             (mmf_options){.offset = 4096 + 123, .length = 8 << 20});
  open_close("big", MMF_WRITE, (mmf_options){.offset = 1});
}
static void op_flags(void) {
  open_close("f", MMF_READ,
             (mmf_options){.flags = MMF_POPULATE | MMF_SEQUENTIAL | MMF_HUGE |
                                    MMF_LOCKED});
  open_close("f", MMF_COPY, (mmf_options){.flags = MMF_RANDOM});
  open_close("f", MMF_WRITE,
             (mmf_options){.flags = MMF_PREALLOCATE | MMF_SYNC_ON_CLOSE});
}
static void op_create(void) {
  test_unlink(test_path("new"));
  open_close("new", MMF_WRITE,
             (mmf_options){.flags = MMF_CREATE, .size = 3 * page()});
  /* A created file keeps its path until the first full flush. */
  mmf_map *m = NULL;
  test_unlink(test_path("new"));
  ASSERT_OK(mmf_open(&m, test_path("new"), MMF_WRITE,
                     &(mmf_options){.flags = MMF_CREATE, .size = 10}));
  ASSERT_OK(mmf_flush(m, 0, 0, MMF_FLUSH_FULL));
  ASSERT_OK(mmf_close(m));
}
static void op_grow_on_open(void) {
  open_close("f", MMF_WRITE,
             (mmf_options){.offset = 6 * page(), .length = 100});
  test_truncate(test_path("f"), 5 * page() + 3);
}
static void op_open_fd(void) {
  int fd = test_open(test_path("f"), O_RDWR);
  ASSERT_GE(fd, 0);
  static const int modes[] = {MMF_READ, MMF_WRITE, MMF_COPY};
  for (int i = 0; i < 3; i++) {
    mmf_map *m = NULL;
    ASSERT_OK(mmf_open_fd(&m, fd, modes[i], NULL));
    ASSERT_OK(mmf_close(m));
  }
  close(fd);
}
static void op_anon(void) {
  static const unsigned flags[] = {0, MMF_SHARED, MMF_POPULATE, MMF_HUGE,
                                   MMF_LOCKED};
  for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
    mmf_map *m = NULL;
    ASSERT_OK(mmf_anon(&m, 3 * page(), flags[i]));
    ASSERT_OK(mmf_close(m));
    ASSERT_OK(mmf_anon(&m, 4 << 20, flags[i] & ~(unsigned)MMF_LOCKED));
    ASSERT_OK(mmf_close(m));
  }
  mmf_map *m = NULL;
  ASSERT_OK(mmf_anon(&m, 0, 0));
  ASSERT_OK(mmf_close(m));
}
static void op_resize(void) {
  mmf_map *m = NULL;
  ASSERT_OK(mmf_open(&m, test_path("f"), MMF_WRITE, NULL));
  ASSERT_OK(mmf_resize(m, 20 * page()));
  ASSERT_OK(mmf_resize(m, 3 << 20));
  ASSERT_OK(mmf_resize(m, 0));
  ASSERT_OK(mmf_resize(m, 5 * page() + 3));
  ASSERT_OK(mmf_close(m));
  ASSERT_OK(mmf_anon(&m, page(), 0));
  ASSERT_OK(mmf_resize(m, 5 << 20));
  ASSERT_OK(mmf_resize(m, 1));
  ASSERT_OK(mmf_close(m));
  ASSERT_OK(
      mmf_open(&m, test_path("big"), MMF_READ, &(mmf_options){.length = 1}));
  ASSERT_OK(mmf_resize(m, 9 << 20));
  ASSERT_OK(mmf_close(m));
}
static void op_control(void) {
  mmf_map *m = NULL;
  uint64_t bytes;
  ASSERT_OK(mmf_open(&m, test_path("f"), MMF_WRITE, NULL));
  ASSERT_OK(mmf_flush(m, 0, 0, MMF_FLUSH_FULL));
  ASSERT_OK(mmf_advise(m, 0, 0, MMF_ADV_DONTNEED));
  ASSERT_OK(mmf_protect(m, page(), 1, MMF_PROT_NONE));
  ASSERT_OK(mmf_lock_memory(m, 0, page()));
  /* The second page is PROT_NONE, which qemu-user's mincore refuses. */
  if (test_mincore_refuses_prot_none())
    ASSERT_ERR(mmf_resident(m, 0, 0, &bytes), MMF_ENOMEM);
  else
    ASSERT_OK(mmf_resident(m, 0, 0, &bytes));
  ASSERT_OK(mmf_close(m));
}

TEST(no_leak_file_maps) {
  setup_files();
  CHECK_NO_LEAK(op_read);
  CHECK_NO_LEAK(op_write);
  CHECK_NO_LEAK(op_copy);
  CHECK_NO_LEAK(op_offset);
  CHECK_NO_LEAK(op_empty);
  CHECK_NO_LEAK(op_offset_at_end);
  CHECK_NO_LEAK(op_large_placed);
  CHECK_NO_LEAK(op_flags);
  CHECK_NO_LEAK(op_create);
  CHECK_NO_LEAK(op_grow_on_open);
  CHECK_NO_LEAK(op_open_fd);
}

TEST(no_leak_anon_resize_control) {
  setup_files();
  CHECK_NO_LEAK(op_anon);
  CHECK_NO_LEAK(op_resize);
  CHECK_NO_LEAK(op_control);
}

/* ------------------------------------------------------------------------ */
/* Fallback copies                                                           */
/* ------------------------------------------------------------------------ */

static void op_fifo(void) {
  test_fifo f;
  test_fifo_start(&f, "fifo", 40 * 4096);
  mmf_map *m = NULL;
  ASSERT_OK(mmf_open(&m, f.path, MMF_READ, NULL));
  ASSERT_EQ_U(mmf_size(m), 40 * 4096);
  ASSERT_OK(mmf_close(m));
  ASSERT_EQ(test_fifo_wait(&f), 0);
}
static void op_fifo_enodev(void) {
  test_fifo f;
  test_fifo_start(&f, "fifo", 40 * 4096);
  mmf_map *m = NULL;
  ASSERT_ERR(
      mmf_open(&m, f.path, MMF_READ, &(mmf_options){.flags = MMF_NO_FALLBACK}),
      MMF_ENODEV);
  test_fifo_stop(&f);
  /* A new one: a named pipe serves one reader. */
  test_fifo_start(&f, "fifo", 40 * 4096);
  ASSERT_ERR(mmf_open(&m, f.path, MMF_WRITE, NULL), MMF_ENODEV);
  test_fifo_stop(&f);
}
static void op_fifo_erange(void) {
  test_fifo f;
  test_fifo_start(&f, "fifo", 40 * 4096);
  mmf_map *m = NULL;
  ASSERT_ERR(mmf_open(&m, f.path, MMF_READ, &(mmf_options){.offset = 200000}),
             MMF_ERANGE);
  test_fifo_stop(&f);
}
#ifndef _WIN32
static void op_proc(void) {
  mmf_map *m = NULL;
  ASSERT_OK(mmf_open(&m, "/proc/self/status", MMF_READ, NULL));
  ASSERT_OK(mmf_close(m));
  ASSERT_ERR(mmf_open(&m, "/proc/self/status", MMF_READ,
                      &(mmf_options){.flags = MMF_NO_FALLBACK}),
             MMF_ENODEV);
  ASSERT_ERR(mmf_open(&m, "/proc/self/status", MMF_READ,
                      &(mmf_options){.offset = 1 << 20}),
             MMF_ERANGE);
}
static void op_dev(void) {
  mmf_map *m = NULL;
  ASSERT_OK(
      mmf_open(&m, "/dev/zero", MMF_COPY, &(mmf_options){.length = 1 << 20}));
  ASSERT_ERR(mmf_resize(m, 10), MMF_ENOTSUP);
  ASSERT_OK(mmf_close(m));
  ASSERT_OK(mmf_open(&m, "/dev/null", MMF_READ, NULL));
  ASSERT_OK(mmf_close(m));
  ASSERT_ERR(mmf_open(&m, "/dev/null", MMF_READ, &(mmf_options){.length = 10}),
             MMF_ERANGE);
  ASSERT_ERR(mmf_open(&m, "/dev/zero", MMF_WRITE, &(mmf_options){.length = 10}),
             MMF_ENODEV);
}
#else
/* The character device Windows has. */
static void op_dev(void) {
  mmf_map *m = NULL;
  ASSERT_OK(mmf_open(&m, "NUL", MMF_READ, NULL));
  ASSERT_ERR(mmf_resize(m, 10), MMF_ENOTSUP);
  ASSERT_OK(mmf_close(m));
  ASSERT_ERR(mmf_open(&m, "NUL", MMF_READ, &(mmf_options){.length = 10}),
             MMF_ERANGE);
  ASSERT_ERR(mmf_open(&m, "NUL", MMF_WRITE, &(mmf_options){.length = 10}),
             MMF_ENODEV);
}
#endif
static void op_pipe(void) {
  int fds[2];
  test_pipe(fds);
  ASSERT_EQ(write(fds[1], "hello", 5), 5);
  close(fds[1]);
  mmf_map *m = NULL;
  ASSERT_OK(mmf_open_fd(&m, fds[0], MMF_READ, NULL));
  ASSERT_OK(mmf_close(m));
  close(fds[0]);
}

TEST(no_leak_fallback) {
  CHECK_NO_LEAK(op_fifo);
  CHECK_NO_LEAK(op_fifo_enodev);
  CHECK_NO_LEAK(op_fifo_erange);
#ifndef _WIN32
  CHECK_NO_LEAK(op_proc); /* Windows has no /proc */
#endif
  CHECK_NO_LEAK(op_dev);
  CHECK_NO_LEAK(op_pipe);
}

/* ------------------------------------------------------------------------ */
/* Error paths                                                               */
/* ------------------------------------------------------------------------ */

static void op_errors_args(void) {
  mmf_map *m = NULL;
  ASSERT_ERR(mmf_open(&m, NULL, MMF_READ, NULL), MMF_EINVAL);
  ASSERT_ERR(mmf_open(&m, test_path("f"), 9, NULL), MMF_EINVAL);
  ASSERT_ERR(mmf_open(&m, test_path("f"), MMF_READ,
                      &(mmf_options){.flags = MMF_CREATE}),
             MMF_EINVAL);
  ASSERT_ERR(mmf_anon(&m, 10, MMF_CREATE), MMF_EINVAL);
  ASSERT_ERR(mmf_open(&m, test_path("f"), MMF_READ,
                      &(mmf_options){.offset = UINT64_MAX, .length = 2}),
             MMF_EOVERFLOW);
}
static void op_errors_path(void) {
  mmf_map *m = NULL;
  ASSERT_ERR(mmf_open(&m, test_path("missing"), MMF_READ, NULL), MMF_ENOENT);
#ifdef _WIN32
  /* ERROR_PATH_NOT_FOUND: Windows does not say "not a directory". */
  ASSERT_ERR(mmf_open(&m, test_path("f/x"), MMF_READ, NULL), MMF_ENOENT);
#else
  ASSERT_ERR(mmf_open(&m, test_path("f/x"), MMF_READ, NULL), MMF_ENOTDIR);
#endif
  ASSERT_ERR(mmf_open(&m, test_dir(), MMF_READ, NULL), MMF_EISDIR);
  ASSERT_ERR(mmf_open(&m, test_dir(), MMF_WRITE, NULL), MMF_EISDIR);
  ASSERT_ERR(mmf_open(&m, test_dir(), MMF_COPY, NULL), MMF_EISDIR);
}
static void op_errors_range(void) {
  mmf_map *m = NULL;
  const uint64_t size = 5 * page() + 3;
  ASSERT_ERR(mmf_open(&m, test_path("f"), MMF_READ,
                      &(mmf_options){.offset = size + 1}),
             MMF_ERANGE);
  ASSERT_ERR(mmf_open(&m, test_path("f"), MMF_COPY,
                      &(mmf_options){.offset = 1, .length = size}),
             MMF_ERANGE);
  ASSERT_ERR(mmf_open(&m, test_path("f"), MMF_WRITE,
                      &(mmf_options){.offset = size + 1}),
             MMF_ERANGE);
  ASSERT_ERR(mmf_open(&m, test_path("f"), MMF_WRITE,
                      &(mmf_options){.length = 1ull << 60}),
             MMF_EOVERFLOW);
  ASSERT_ERR(mmf_anon(&m, 1ull << 62, 0), MMF_EOVERFLOW);
  ASSERT_EQ_U(file_size(test_path("f")), size);
}
static void op_errors_fd(void) {
  mmf_map *m = NULL;
  int fd = test_open(test_path("f"), O_RDONLY);
  ASSERT_ERR(mmf_open_fd(&m, fd, MMF_WRITE, NULL), MMF_EACCES);
  close(fd);
  fd = test_open(test_path("f"), O_WRONLY);
  ASSERT_ERR(mmf_open_fd(&m, fd, MMF_READ, NULL), MMF_EACCES);
  close(fd);
#ifndef _WIN32 /* the C runtime cannot open a directory */
  fd = open(test_dir(), O_RDONLY | O_DIRECTORY);
  ASSERT_ERR(mmf_open_fd(&m, fd, MMF_READ, NULL), MMF_EISDIR);
  close(fd);
#endif
}
static void op_errors_handle(void) {
  mmf_map *m = NULL;
  uint64_t bytes;
  ASSERT_OK(mmf_open(&m, test_path("f"), MMF_READ, NULL));
  ASSERT_ERR(mmf_resize(m, 1ull << 40), MMF_ERANGE);
  ASSERT_ERR(mmf_protect(m, 0, 0, MMF_PROT_WRITE), MMF_EACCES);
  ASSERT_ERR(mmf_flush(m, 0, 0, 0), MMF_EINVAL);
  ASSERT_ERR(mmf_resident(m, 1ull << 40, 0, &bytes), MMF_ERANGE);
  ASSERT_OK(mmf_close(m));
  ASSERT_OK(mmf_open(&m, test_path("f"), MMF_WRITE, NULL));
  ASSERT_ERR(mmf_resize(m, 1ull << 62), MMF_EOVERFLOW);
  ASSERT_OK(mmf_close(m));
}

TEST(no_leak_error_paths) {
  setup_files();
  CHECK_NO_LEAK(op_errors_args);
  CHECK_NO_LEAK(op_errors_path);
  CHECK_NO_LEAK(op_errors_range);
  CHECK_NO_LEAK(op_errors_fd);
  CHECK_NO_LEAK(op_errors_handle);
}

/* The counters themselves see a leak (so the checks above can fail). */
TEST(leak_counters_see_leaks) {
  setup_files();
  int fds = count_open_fds();
  int fd = test_open(test_path("f"), O_RDONLY);
  ASSERT_EQ(count_open_fds(), fds + 1);
  close(fd);
  ASSERT_EQ(count_open_fds(), fds);
  mmf_map *m = NULL;
  ASSERT_OK(mmf_open(&m, test_path("f"), MMF_READ, NULL));
  ASSERT_OK(mmf_close(m));
  int maps = count_mappings();
  ASSERT_OK(mmf_open(&m, test_path("f"), MMF_READ, NULL));
  ASSERT_EQ(count_mappings(), maps + 1);
  ASSERT_EQ(count_mappings_of(test_dir()), 1);
  ASSERT_OK(mmf_close(m));
  ASSERT_EQ(count_mappings(), maps);
  ASSERT_EQ(count_mappings_of(test_dir()), 0);
}
