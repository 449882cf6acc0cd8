/*
 * test_input.c - what an input is and how it is opened: the decisions of
 * the input layer (src/input.h), seen through every entry point (mmf_open,
 * the window cursor, the scans, the line iterator).
 *
 * Creating: a dangling symbolic link, MMF_EXCLUSIVE, MMF_TRUNCATE, and a
 * failed create that must leave no file behind. Special inputs: a FIFO
 * nobody writes to, /dev/zero sought 2^60 bytes ahead, a pipe sought
 * forward, /sys files whose size is a guess, offsets no file reaches.
 * Hangs are turned into failures by alarm() in a child process.
 */
#include "test.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifndef _WIN32
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "os/posix/sys_posix.h"
#endif

/* A non-NULL value out-parameters must be cleared from. */
#define SENTINEL ((void *)(uintptr_t)0x1234)

/* ------------------------------------------------------------------------ */
/* Creating                                                                  */
/* ------------------------------------------------------------------------ */

#ifndef _WIN32
static int create_through_dangling(void *arg) {
  (void)arg;
  /* The open used to go round forever: ENOENT, then EEXIST from the
   * exclusive create (which never follows a link), then ENOENT again. */
  alarm(10);
  mmf_map *m = SENTINEL;
  ASSERT_ERR(mmf_open(&m, test_path("dangling"), MMF_WRITE,
                      &(mmf_options){.size = 4096, .flags = MMF_CREATE}),
             MMF_ENOENT);
  ASSERT_NULL(m);
  /* A link whose target's directory exists: created through the link, as
   * open(2) with O_CREAT does. */
  ASSERT_OK(mmf_open(&m, test_path("link"), MMF_WRITE,
                     &(mmf_options){.size = 4096, .flags = MMF_CREATE}));
  ASSERT_OK(mmf_close(m));
  return 0;
}
#endif

TEST(create_through_dangling_link) {
#ifdef _WIN32
  SKIP("symbolic links need a privilege on Windows");
#else
  ASSERT_EQ(symlink("/nonexistent-mmf-dir/target", test_path("dangling")), 0);
  ASSERT_EQ(symlink(test_path("target"), test_path("link")), 0);
  ASSERT_EXITED(run_in_child(create_through_dangling, NULL), 0);
  ASSERT_EQ_U(file_size(test_path("target")), 4096);
  struct stat st;
  ASSERT_EQ(lstat(test_path("link"), &st), 0);
  ASSERT_TRUE(S_ISLNK(st.st_mode));
#endif
}

TEST(create_exclusive) {
  mmf_map *m = SENTINEL;
  mmf_options o = MMF_OPTIONS_INIT;
  o.size = 100;
  o.flags = MMF_CREATE | MMF_EXCLUSIVE;
  ASSERT_OK(mmf_open(&m, test_path("f"), MMF_WRITE, &o));
  memset(mmf_data(m), 'x', 100);
  ASSERT_OK(mmf_close(m));
  m = SENTINEL;
  o.size = 200;
  ASSERT_ERR(mmf_open(&m, test_path("f"), MMF_WRITE, &o), MMF_EEXIST);
  ASSERT_NULL(m);
  ASSERT_EQ_U(file_size(test_path("f")), 100); /* untouched */
  /* Without MMF_CREATE it means nothing: refused, as is a read mode. */
  o.flags = MMF_EXCLUSIVE;
  ASSERT_ERR(mmf_open(&m, test_path("f"), MMF_WRITE, &o), MMF_EINVAL);
  o.flags = MMF_CREATE | MMF_EXCLUSIVE;
  ASSERT_ERR(mmf_open(&m, test_path("g"), MMF_READ, &o), MMF_EINVAL);
  ASSERT_FALSE(test_exists(test_path("g")));
}

TEST(truncate_on_create) {
  unsigned char back[64];
  write_pattern(test_path("f"), 10000);
  mmf_map *m = NULL;
  /* Without MMF_TRUNCATE, regenerating over a longer file keeps its
   * tail: the trap the flag is for. */
  ASSERT_OK(mmf_open(&m, test_path("f"), MMF_WRITE,
                     &(mmf_options){.size = 100, .flags = MMF_CREATE}));
  ASSERT_EQ_U(mmf_size(m), 10000);
  ASSERT_OK(mmf_close(m));
  ASSERT_OK(mmf_open(
      &m, test_path("f"), MMF_WRITE,
      &(mmf_options){.size = 100, .flags = MMF_CREATE | MMF_TRUNCATE}));
  ASSERT_EQ_U(mmf_size(m), 100);
  ASSERT_ZERO(mmf_data(m), 100); /* none of the old bytes */
  ASSERT_OK(mmf_close(m));
  ASSERT_EQ_U(file_size(test_path("f")), 100);
  read_at(test_path("f"), 0, back, sizeof back);
  ASSERT_ZERO(back, sizeof back);
  ASSERT_ERR(mmf_open(&m, test_path("f"), MMF_READ,
                      &(mmf_options){.flags = MMF_TRUNCATE}),
             MMF_EINVAL);
  ASSERT_EQ_U(file_size(test_path("f")), 100);
}

TEST(failed_create_leaves_no_file) {
  mmf_map *m = SENTINEL;
  /* More than any address space: refused before the file is made. */
  ASSERT_ERR(
      mmf_open(&m, test_path("a"), MMF_WRITE,
               &(mmf_options){.length = 1ull << 50, .flags = MMF_CREATE}),
      MMF_EOVERFLOW);
  ASSERT_NULL(m);
  ASSERT_FALSE(test_exists(test_path("a")));
  /* A size the filesystem refuses (ext4: 16 TiB), after the file is made:
   * removed again. Filesystems that take it (tmpfs, xfs) skip this. */
  int rc = mmf_open(&m, test_path("b"), MMF_WRITE,
                    &(mmf_options){.size = 1ull << 44, .flags = MMF_CREATE});
  if (rc == 0) {
    test_note("this filesystem holds a 16 TiB sparse file");
    ASSERT_OK(mmf_close(m));
  } else {
    test_note("16 TiB file -> %s", mmf_errname(rc));
    ASSERT_NULL(m);
    ASSERT_FALSE(test_exists(test_path("b")));
  }
  /* Space the disk does not have (MMF_PREALLOCATE refused with ENOSPC) is
   * staged through the call table in the next test: a real preallocation
   * larger than the free space fills the disk (ext4 keeps the blocks it
   * found until the file is removed), and every other writer on it fails
   * meanwhile. */
  /* A file that existed stays, at its size, whatever failed. */
  write_pattern(test_path("d"), 1000);
  ASSERT_ERR(mmf_open(&m, test_path("d"), MMF_WRITE,
                      &(mmf_options){.size = 1ull << 42,
                                     .flags = MMF_CREATE | MMF_PREALLOCATE,
                                     .length = 1ull << 50}),
             MMF_EOVERFLOW);
  ASSERT_EQ_U(file_size(test_path("d")), 1000);
}

#ifndef _WIN32
/* The size change a creating open makes, refused by the filesystem. */
static int refuse_ftruncate(int fd, off_t size) {
  (void)fd;
  (void)size;
  errno = EIO;
  return -1;
}

/* A preallocation the disk has no room for (the entry returns the
 * error, as posix_fallocate does). */
static int refuse_fallocate(int fd, off_t off, off_t len) {
  (void)fd;
  (void)off;
  (void)len;
  return ENOSPC;
}
#endif

TEST(failed_create_removes_file_on_any_error) {
#ifdef _WIN32
  SKIP("the staged failure uses the POSIX system-call table");
#else
  mmf_map *m = SENTINEL;
  mmf__sys.ftruncate = refuse_ftruncate;
  int rc = mmf_open(&m, test_path("f"), MMF_WRITE,
                    &(mmf_options){.size = 4096, .flags = MMF_CREATE});
  mmf__sys = mmf__sys_real;
  ASSERT_ERR(rc, MMF_EIO);
  ASSERT_EQ(mmf_last_os_error(NULL), EIO);
  ASSERT_NULL(m);
  ASSERT_FALSE(test_exists(test_path("f")));
  m = SENTINEL;
  mmf__sys.fallocate = refuse_fallocate;
  rc = mmf_open(&m, test_path("f"), MMF_WRITE,
                &(mmf_options){.size = 1ull << 30,
                               .flags = MMF_CREATE | MMF_PREALLOCATE});
  mmf__sys = mmf__sys_real;
  ASSERT_ERR(rc, MMF_ENOSPC);
  ASSERT_NULL(m);
  ASSERT_FALSE(test_exists(test_path("f")));
  /* The negative control: the same failure on a file that was there
   * removes nothing. */
  write_file(test_path("g"), "kept", 4);
  mmf__sys.ftruncate = refuse_ftruncate;
  rc = mmf_open(&m, test_path("g"), MMF_WRITE,
                &(mmf_options){.size = 4096, .flags = MMF_CREATE});
  mmf__sys = mmf__sys_real;
  ASSERT_ERR(rc, MMF_EIO);
  ASSERT_EQ_U(file_size(test_path("g")), 4);
#endif
}

/* ------------------------------------------------------------------------ */
/* A FIFO without a writer                                                   */
/* ------------------------------------------------------------------------ */

#ifndef _WIN32
static int refuse_fifo(void *arg) {
  const char *path = arg;
  mmf_scan_options so = MMF_SCAN_OPTIONS_INIT;
  mmf_window_options wo = MMF_WINDOW_OPTIONS_INIT;
  mmf_map *m = SENTINEL;
  mmf_window *w = SENTINEL;
  mmf_lines *it = SENTINEL;
  uint64_t v = 5;
  alarm(10); /* these used to block in open() for ever */
  ASSERT_ERR(
      mmf_open(&m, path, MMF_READ, &(mmf_options){.flags = MMF_NO_FALLBACK}),
      MMF_ENODEV);
  ASSERT_NULL(m);
  ASSERT_ERR(mmf_open(&m, path, MMF_WRITE, NULL), MMF_ENODEV);
  wo.flags = MMF_NO_FALLBACK;
  ASSERT_ERR(mmf_window_open(&w, path, &wo), MMF_ENODEV);
  ASSERT_NULL(w);
  so.flags = MMF_NO_FALLBACK;
  ASSERT_ERR(mmf_count_byte_path(path, &so, '\n', &v), MMF_ENODEV);
  ASSERT_EQ_U(v, 0);
  ASSERT_ERR(mmf_lines_open(&it, path, &so), MMF_ENODEV);
  ASSERT_NULL(it);
  return 0;
}

/* Without MMF_NO_FALLBACK a FIFO waits for its writer, as `wc` does. */
static int wait_for_writer(void *arg) {
  mmf_map *m = NULL;
  alarm(1);
  (void)mmf_open(&m, arg, MMF_READ, NULL);
  return 3; /* not reached while nobody writes */
}
#endif

TEST(fifo_without_writer_refused_at_once) {
#ifdef _WIN32
  SKIP("Windows has no FIFOs (mkfifo)");
#else
  ASSERT_EQ(mkfifo(test_path("p"), 0600), 0);
  ASSERT_EXITED(run_in_child(refuse_fifo, (void *)test_path("p")), 0);
  int st = run_in_child(wait_for_writer, (void *)test_path("p"));
  ASSERT_SIGNALED(st, SIGALRM);
#endif
}

/* ------------------------------------------------------------------------ */
/* Seeking streams                                                           */
/* ------------------------------------------------------------------------ */

#ifndef _WIN32
static int seek_dev_zero(void *arg) {
  (void)arg;
  mmf_window *w = NULL;
  void *p;
  size_t len;
  alarm(10); /* reading 2^60 bytes would take years */
  ASSERT_OK(mmf_window_open(&w, "/dev/zero", NULL));
  ASSERT_OK(mmf_window_seek(w, 1ull << 60));
  ASSERT_EQ_U(mmf_window_tell(w), 1ull << 60);
  ASSERT_OK(mmf_window_next(w, &p, &len));
  ASSERT_GT(len, 0);
  ASSERT_EQ_U(mmf_window_offset(w), 1ull << 60);
  ASSERT_ZERO(p, len);
  ASSERT_ERR(mmf_window_seek(w, 5), MMF_ENOTSUP); /* no way back */
  ASSERT_OK(mmf_window_close(w));
  return 0;
}
#endif

TEST(stream_seek_jumps_where_the_device_can) {
#ifdef _WIN32
  SKIP("Windows has no /dev/zero");
#else
  if (access("/dev/zero", R_OK) != 0)
    SKIP("no /dev/zero");
  ASSERT_EXITED(run_in_child(seek_dev_zero, NULL), 0);
#endif
}

TEST(stream_seek_reads_a_pipe_forward) {
  const uint64_t n = 3u << 20;
  test_fifo fifo;
  mmf_window *w = NULL;
  mmf_window_options wo = MMF_WINDOW_OPTIONS_INIT;
  void *p;
  size_t len;
  wo.budget = 4 * mmf_granularity(); /* a small buffer: skips read on */
  test_fifo_start(&fifo, "p", n);
  ASSERT_OK(mmf_window_open(&w, fifo.path, &wo));
  ASSERT_OK(mmf_window_seek(w, 100000));
  ASSERT_OK(mmf_window_next(w, &p, &len));
  ASSERT_EQ_U(mmf_window_offset(w), 100000);
  ASSERT_PAT(p, 100000, len);
  /* Within what is buffered, then beyond it. */
  uint64_t at = 100000 + len / 2;
  ASSERT_ERR(mmf_window_seek(w, at), MMF_ENOTSUP); /* behind: no way back */
  at = mmf_window_tell(w) + 7;
  ASSERT_OK(mmf_window_seek(w, at));
  ASSERT_OK(mmf_window_next(w, &p, &len));
  ASSERT_PAT(p, at, len);
  at = 2u << 20;
  ASSERT_OK(mmf_window_seek(w, at));
  ASSERT_OK(mmf_window_next(w, &p, &len));
  ASSERT_PAT(p, at, len);
  /* Past the end: MMF_ERANGE, and the cursor stays at the end. */
  ASSERT_ERR(mmf_window_seek(w, n + 10), MMF_ERANGE);
  ASSERT_OK(mmf_window_next(w, &p, &len));
  ASSERT_EQ_U(len, 0);
  ASSERT_EQ_U(mmf_window_total(w), n);
  ASSERT_OK(mmf_window_close(w));
  ASSERT_EXITED(test_fifo_wait(&fifo), 0);
}

/* ------------------------------------------------------------------------ */
/* Offsets and sizes that are not what they seem                             */
/* ------------------------------------------------------------------------ */

static void offsets_past_every_file(const char *path) {
  mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
  uint64_t v = 5;
  const uint64_t past[] = {1ull << 63, UINT64_MAX - 1, UINT64_MAX,
                           (uint64_t)INT64_MAX};
  for (size_t i = 0; i < sizeof past / sizeof past[0]; i++) {
    test_context("%s offset 0x%llx", path, (unsigned long long)past[i]);
    o.offset = past[i];
    ASSERT_ERR(mmf_count_lines_path(path, &o, &v), MMF_ERANGE);
    ASSERT_EQ_U(v, 0);
    ASSERT_ERR(mmf_find_path(path, &o, "a", 1, &v), MMF_ERANGE);
    ASSERT_EQ_U(v, MMF_NPOS);
    for (int io = MMF_SCAN_AUTO; io <= MMF_SCAN_MAP; io++) {
      o.io = io;
      ASSERT_ERR(mmf_count_byte_path(path, &o, 'a', &v), MMF_ERANGE);
    }
    o.io = MMF_SCAN_AUTO;
    mmf_map *m = SENTINEL;
    ASSERT_ERR(mmf_open(&m, path, MMF_READ, &(mmf_options){.offset = past[i]}),
               MMF_ERANGE);
    ASSERT_NULL(m);
    /* With a length, the end does not fit in a file offset at all. */
    o.length = 1;
    ASSERT_ERR(mmf_count_byte_path(path, &o, 'a', &v), MMF_EOVERFLOW);
    o.length = 0;
  }
  test_context_clear();
}

TEST(offsets_past_every_file_are_erange) {
  write_pattern(test_path("f"), 5000);
  offsets_past_every_file(test_path("f"));
#ifndef _WIN32
  if (access("/proc/self/status", R_OK) == 0)
    offsets_past_every_file("/proc/self/status");
#endif
}

/* /sys files say 4096 bytes whatever they hold: that size is a guess, and
 * reading that ends before it is the end, not a truncation. */
TEST(sysfs_size_is_a_guess) {
#ifdef _WIN32
  SKIP("Windows has no /sys");
#else
  const char *path = "/sys/devices/system/cpu/online";
  char want[4096];
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    SKIP("no %s", path);
  ssize_t n = read(fd, want, sizeof want);
  close(fd);
  ASSERT_GT(n, 1);
  ASSERT_EQ_U(file_size(path), 4096);
  /* The line iterator. */
  mmf_lines *it = NULL;
  const char *line;
  size_t len, total = 0;
  ASSERT_OK(mmf_lines_open(&it, path, NULL));
  while (mmf_lines_next(it, &line, &len) == 0 && line) {
    ASSERT_MEMEQ(line, want + total, len);
    total += len + 1;
  }
  ASSERT_EQ_U(total, (size_t)n);
  ASSERT_OK(mmf_lines_close(it));
  /* Counts from offset 1, read and mapped. */
  mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
  uint64_t expect = 0, v;
  for (ssize_t i = 1; i < n; i++)
    expect += want[i] == '\n';
  o.offset = 1;
  for (int io = MMF_SCAN_AUTO; io <= MMF_SCAN_MAP; io++) {
    o.io = io;
    test_context("io %d", io);
    ASSERT_OK(mmf_count_byte_path(path, &o, '\n', &v));
    ASSERT_EQ_U(v, expect);
  }
  test_context_clear();
  /* A whole map and a window cursor see the same bytes. */
  mmf_map *m = NULL;
  ASSERT_OK(mmf_open(&m, path, MMF_READ, NULL));
  ASSERT_EQ_U(mmf_size(m), (size_t)n);
  ASSERT_MEMEQ(mmf_data(m), want, (size_t)n);
  ASSERT_OK(mmf_close(m));
  mmf_window *w = NULL;
  void *p;
  ASSERT_OK(mmf_window_open(&w, path, NULL));
  ASSERT_OK(mmf_window_seek(w, 1));
  ASSERT_OK(mmf_window_next(w, &p, &len));
  ASSERT_EQ_U(len, (size_t)n - 1);
  ASSERT_MEMEQ(p, want + 1, len);
  ASSERT_OK(mmf_window_close(w));
#endif
}

/* ------------------------------------------------------------------------ */
/* The file-size limit                                                       */
/* ------------------------------------------------------------------------ */

#ifndef _WIN32
#include <sys/resource.h>

/* The runner ignores SIGXFSZ for every test; a program does not. */
static int limit_file_size(void) {
  struct rlimit rl = {4096, 4096};
  signal(SIGXFSZ, SIG_DFL);
  return setrlimit(RLIMIT_FSIZE, &rl);
}

static int grow_past_limit(void *arg) {
  (void)arg;
  mmf_map *m = SENTINEL;
  if (limit_file_size() != 0)
    return 77;
  /* Growing past RLIMIT_FSIZE would raise SIGXFSZ, whose default action
   * ends the process: each is an error code instead. */
  ASSERT_ERR(mmf_open(&m, test_path("new"), MMF_WRITE,
                      &(mmf_options){.size = 5000, .flags = MMF_CREATE}),
             MMF_EFBIG);
  ASSERT_NULL(m);
  ASSERT_FALSE(test_exists(test_path("new")));
  ASSERT_ERR(mmf_open(&m, test_path("f"), MMF_WRITE,
                      &(mmf_options){.offset = 4000, .length = 1000}),
             MMF_EFBIG);
  ASSERT_ERR(mmf_open(&m, test_path("f"), MMF_WRITE,
                      &(mmf_options){.size = 4096,
                                     .length = 8192,
                                     .flags = MMF_PREALLOCATE}),
             MMF_EFBIG);
  ASSERT_EQ_U(file_size(test_path("f")), 100);
  /* Up to the limit is fine, and a map there cannot grow past it. */
  ASSERT_OK(
      mmf_open(&m, test_path("f"), MMF_WRITE, &(mmf_options){.size = 4096}));
  ASSERT_ERR(mmf_resize(m, 8192), MMF_EFBIG);
  ASSERT_EQ_U(mmf_size(m), 4096);
  ASSERT_OK(mmf_resize(m, 100)); /* shrinking is never limited */
  ASSERT_OK(mmf_close(m));
  ASSERT_EQ_U(file_size(test_path("f")), 100);
  return 0;
}

/* The negative control: the same growth with the raw call. */
static int raw_grow_past_limit(void *arg) {
  (void)arg;
  if (limit_file_size() != 0)
    return 77;
  int fd = open(test_path("f"), O_RDWR | O_CLOEXEC);
  if (fd < 0)
    return 3;
  (void)ftruncate(fd, 5000);
  return 0; /* not reached: SIGXFSZ ends the process */
}
#endif

TEST(file_size_limit_is_efbig_not_a_signal) {
#ifdef _WIN32
  SKIP("Windows has no file-size limit (RLIMIT_FSIZE)");
#else
  write_pattern(test_path("f"), 100);
  int st = run_in_child(grow_past_limit, NULL);
  if (WIFEXITED(st) && WEXITSTATUS(st) == 77)
    SKIP("setrlimit(RLIMIT_FSIZE) refused here");
  ASSERT_EXITED(st, 0);
  ASSERT_SIGNALED(run_in_child(raw_grow_past_limit, NULL), SIGXFSZ);
#endif
}
