/*
 * test_fallback.c - inputs that cannot be mapped (FIFOs, pipes, character
 * devices, size-0 /proc files) are read into memory, unless
 * MMF_NO_FALLBACK, which gives MMF_ENODEV. On Windows the FIFO is a named
 * pipe, the pipes are the C runtime's and the character device is NUL;
 * /dev/zero, /dev/urandom and /proc tests are skipped there.
 */
#include "test.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#ifdef _WIN32
#include <io.h>
/* The character device every Windows has: reads as empty. */
#define NULL_DEVICE "NUL"
#define ZERO_DEVICE "NUL"
#else
#define NULL_DEVICE "/dev/null"
#define ZERO_DEVICE "/dev/zero"
#endif

#define SENTINEL ((mmf_map *)(uintptr_t)0x1234)

/* ------------------------------------------------------------------------ */
/* A FIFO (Windows: a named pipe) with a writer child                        */
/* ------------------------------------------------------------------------ */

TEST(fifo_read_into_memory) {
  const size_t n = 300000; /* several pipe buffers */
  test_fifo f;
  test_fifo_start(&f, "fifo", n);
  mmf_map *m = NULL;
  ASSERT_OK(mmf_open(&m, f.path, MMF_READ, NULL));
  ASSERT_EQ(test_fifo_wait(&f), 0);
  ASSERT_FALSE(mmf_is_mapped(m));
  ASSERT_EQ_U(mmf_size(m), n);
  ASSERT_EQ_U(mmf_offset(m), 0);
  ASSERT_EQ(mmf_mode(m), MMF_READ);
  ASSERT_PAT(mmf_data(m), 0, n);
  ASSERT_OK(mmf_close(m));
}

TEST(fifo_offset_and_length) {
  test_fifo f;
  test_fifo_start(&f, "fifo", 100000);
  mmf_map *m = NULL;
  ASSERT_OK(mmf_open(&m, f.path, MMF_READ,
                     &(mmf_options){.offset = 70001, .length = 5003}));
  test_fifo_stop(&f);
  ASSERT_FALSE(mmf_is_mapped(m));
  ASSERT_EQ_U(mmf_size(m), 5003);
  ASSERT_EQ_U(mmf_offset(m), 70001);
  ASSERT_PAT(mmf_data(m), 70001, 5003);
  ASSERT_OK(mmf_close(m));
}

TEST(fifo_past_end_erange) {
  test_fifo f;
  test_fifo_start(&f, "fifo", 1000);
  mmf_map *m = SENTINEL;
  ASSERT_ERR(mmf_open(&m, f.path, MMF_READ,
                      &(mmf_options){.offset = 500, .length = 501}),
             MMF_ERANGE);
  ASSERT_NULL(m);
  test_fifo_stop(&f);
  test_fifo_start(&f, "fifo", 1000);
  m = SENTINEL;
  ASSERT_ERR(mmf_open(&m, f.path, MMF_READ, &(mmf_options){.offset = 1001}),
             MMF_ERANGE);
  ASSERT_NULL(m);
  test_fifo_stop(&f);
}

TEST(fifo_copy_mode_writable) {
  test_fifo f;
  test_fifo_start(&f, "fifo", 5000);
  mmf_map *m = NULL;
  ASSERT_OK(mmf_open(&m, f.path, MMF_COPY, NULL));
  test_fifo_stop(&f);
  ASSERT_FALSE(mmf_is_mapped(m));
  ASSERT_EQ_U(mmf_size(m), 5000);
  unsigned char *p = mmf_data(m);
  p[4999] = 'x';
  ASSERT_EQ(p[4999], 'x');
  ASSERT_PAT(p, 0, 4999);
  ASSERT_OK(mmf_close(m));
}

static int store_byte(void *arg) {
  *(volatile unsigned char *)arg = 1;
  return 0;
}

TEST(fallback_read_mode_is_read_only) {
  test_fifo f;
  test_fifo_start(&f, "fifo", 5000);
  mmf_map *m = NULL;
  ASSERT_OK(mmf_open(&m, f.path, MMF_READ, NULL));
  test_fifo_stop(&f);
  ASSERT_SIGNALED(run_crashing_child(store_byte, mmf_data(m)), SIGSEGV);
  ASSERT_OK(mmf_close(m));
}

TEST(fifo_no_fallback_enodev) {
  test_fifo f;
  test_fifo_start(&f, "fifo", 1000);
  mmf_map *m = SENTINEL;
  ASSERT_ERR(
      mmf_open(&m, f.path, MMF_READ, &(mmf_options){.flags = MMF_NO_FALLBACK}),
      MMF_ENODEV);
  ASSERT_NULL(m);
  test_fifo_stop(&f);
  test_fifo_start(&f, "fifo", 1000);
  m = SENTINEL;
  ASSERT_ERR(
      mmf_open(&m, f.path, MMF_COPY, &(mmf_options){.flags = MMF_NO_FALLBACK}),
      MMF_ENODEV);
  ASSERT_NULL(m);
  test_fifo_stop(&f);
}

TEST(fifo_write_mode_enodev) {
  test_fifo f;
  test_fifo_start(&f, "fifo", 1000);
  mmf_map *m = SENTINEL;
  /* Opening a FIFO read-write does not block on Linux (nor a duplex named
   * pipe on Windows). */
  ASSERT_ERR(mmf_open(&m, f.path, MMF_WRITE, NULL), MMF_ENODEV);
  ASSERT_NULL(m);
  test_fifo_stop(&f);
}

TEST(fallback_keeps_no_descriptor) {
  test_fifo f;
  test_fifo_start(&f, "fifo", 1000);
  int before = count_open_fds();
  mmf_map *m = NULL;
  ASSERT_OK(mmf_open(&m, f.path, MMF_READ, NULL));
  ASSERT_EQ(count_open_fds(), before);
  ASSERT_OK(mmf_close(m));
  ASSERT_EQ(count_open_fds(), before);
  /* Last: on Windows the writer's process handle is one of ours. */
  test_fifo_stop(&f);
}

/* ------------------------------------------------------------------------ */
/* Pipes by descriptor                                                       */
/* ------------------------------------------------------------------------ */

TEST(pipe_fd_from_current_position) {
  int fds[2];
  test_pipe(fds);
  unsigned char buf[1000];
  fill_pat(buf, 0, sizeof buf);
  ASSERT_EQ(write(fds[1], buf, sizeof buf), (ssize_t)sizeof buf);
  close(fds[1]);
  unsigned char first[10];
  ASSERT_EQ(read(fds[0], first, 10), 10);
  mmf_map *m = NULL;
  ASSERT_OK(mmf_open_fd(&m, fds[0], MMF_READ, NULL));
  ASSERT_FALSE(mmf_is_mapped(m));
  ASSERT_EQ_U(mmf_size(m), 990);
  ASSERT_PAT(mmf_data(m), 10, 990);
  ASSERT_OK(mmf_close(m));
  /* The descriptor is still the caller's. */
#ifdef _WIN32
  ASSERT_NE(_get_osfhandle(fds[0]), -1);
#else
  ASSERT_GE(fcntl(fds[0], F_GETFD), 0);
#endif
  close(fds[0]);
}

TEST(pipe_fd_no_fallback_enodev) {
  int fds[2];
  test_pipe(fds);
  ASSERT_EQ(write(fds[1], "abc", 3), 3);
  mmf_map *m = SENTINEL;
  ASSERT_ERR(mmf_open_fd(&m, fds[0], MMF_READ,
                         &(mmf_options){.flags = MMF_NO_FALLBACK}),
             MMF_ENODEV);
  ASSERT_NULL(m);
  /* Nothing was consumed. */
  char b[3];
  ASSERT_EQ(read(fds[0], b, 3), 3);
  ASSERT_MEMEQ(b, "abc", 3);
  close(fds[0]);
  close(fds[1]);
}

TEST(empty_pipe_maps_empty) {
  int fds[2];
  test_pipe(fds);
  close(fds[1]);
  mmf_map *m = NULL;
  ASSERT_OK(mmf_open_fd(&m, fds[0], MMF_READ, NULL));
  ASSERT_EQ_U(mmf_size(m), 0);
  ASSERT_OK(mmf_close(m));
  close(fds[0]);
}

/* ------------------------------------------------------------------------ */
/* Character devices                                                         */
/* ------------------------------------------------------------------------ */

TEST(dev_zero_with_length) {
#ifdef _WIN32
  SKIP("Windows has no /dev/zero");
#endif
  mmf_map *m = NULL;
  ASSERT_OK(
      mmf_open(&m, "/dev/zero", MMF_READ, &(mmf_options){.length = 1 << 20}));
  ASSERT_FALSE(mmf_is_mapped(m));
  ASSERT_EQ_U(mmf_size(m), 1 << 20);
  ASSERT_ZERO(mmf_data(m), 1 << 20);
  ASSERT_OK(mmf_close(m));
  /* With an offset too. */
  ASSERT_OK(mmf_open(&m, "/dev/zero", MMF_COPY,
                     &(mmf_options){.offset = 12345, .length = 4097}));
  ASSERT_FALSE(mmf_is_mapped(m));
  ASSERT_EQ_U(mmf_size(m), 4097);
  ASSERT_ZERO(mmf_data(m), 4097);
  ASSERT_OK(mmf_close(m));
}

TEST(dev_zero_no_fallback_enodev) {
  /* Windows: the NUL device, also a character device. */
  mmf_map *m = SENTINEL;
  ASSERT_ERR(mmf_open(&m, ZERO_DEVICE, MMF_READ,
                      &(mmf_options){.length = 4096, .flags = MMF_NO_FALLBACK}),
             MMF_ENODEV);
  ASSERT_NULL(m);
}

TEST(dev_urandom_with_length) {
#ifdef _WIN32
  SKIP("Windows has no /dev/urandom");
#endif
  mmf_map *m = NULL;
  ASSERT_OK(
      mmf_open(&m, "/dev/urandom", MMF_READ, &(mmf_options){.length = 100000}));
  ASSERT_FALSE(mmf_is_mapped(m));
  ASSERT_EQ_U(mmf_size(m), 100000);
  /* Random bytes are not all zero. */
  const unsigned char *p = mmf_data(m);
  size_t zeros = 0;
  for (size_t i = 0; i < 100000; i++)
    zeros += p[i] == 0;
  ASSERT_LT_U(zeros, 10000);
  ASSERT_OK(mmf_close(m));
}

TEST(dev_null_maps_empty) {
  mmf_map *m = NULL;
  ASSERT_OK(mmf_open(&m, NULL_DEVICE, MMF_READ, NULL));
  ASSERT_FALSE(mmf_is_mapped(m));
  ASSERT_EQ_U(mmf_size(m), 0);
  ASSERT_OK(mmf_close(m));
  m = SENTINEL;
  ASSERT_ERR(mmf_open(&m, NULL_DEVICE, MMF_READ, &(mmf_options){.length = 1}),
             MMF_ERANGE);
  ASSERT_NULL(m);
}

TEST(char_device_write_enodev) {
  mmf_map *m = SENTINEL;
  ASSERT_ERR(
      mmf_open(&m, ZERO_DEVICE, MMF_WRITE, &(mmf_options){.length = 4096}),
      MMF_ENODEV);
  ASSERT_NULL(m);
}

/* ------------------------------------------------------------------------ */
/* Size-0 files that hold bytes                                              */
/* ------------------------------------------------------------------------ */

#ifndef _WIN32
/* Read a whole small file with read(). */
static size_t slurp(const char *path, char *buf, size_t cap) {
  int fd = open(path, O_RDONLY);
  if (fd < 0)
    FAIL("open %s: %s", path, strerror(errno));
  size_t n = 0;
  ssize_t r;
  while (n < cap && (r = read(fd, buf + n, cap - n)) > 0)
    n += (size_t)r;
  close(fd);
  return n;
}
#endif

TEST(proc_self_status) {
#ifdef _WIN32
  SKIP("Windows has no /proc");
#else
  struct stat st;
  ASSERT_EQ(stat("/proc/self/status", &st), 0);
  if (st.st_size != 0)
    SKIP("/proc/self/status has a size here");
  mmf_map *m = NULL;
  ASSERT_OK(mmf_open(&m, "/proc/self/status", MMF_READ, NULL));
  ASSERT_FALSE(mmf_is_mapped(m));
  ASSERT_GT(mmf_size(m), 100);
  /* Its content is about us. */
  char want[64];
  int n = snprintf(want, sizeof want, "\nPid:\t%ld\n", (long)getpid());
  const char *p = mmf_data(m);
  ASSERT_TRUE(memmem(p, mmf_size(m), want, (size_t)n) != NULL);
  ASSERT_TRUE(memcmp(p, "Name:\t", 6) == 0);
  ASSERT_OK(mmf_close(m));
#endif
}

TEST(proc_file_exact_bytes) {
#ifdef _WIN32
  SKIP("Windows has no /proc");
#else
  /* /proc/self/cmdline does not change while we run; /proc/self/environ
   * neither, where an emulator copies the first (test_proc_copied). */
  const char *proc = test_proc_copied("/proc/self/cmdline")
                         ? "/proc/self/environ"
                         : "/proc/self/cmdline";
  char want[65536];
  size_t n = slurp(proc, want, sizeof want);
  ASSERT_GT(n, 0);
  mmf_map *m = NULL;
  ASSERT_OK(mmf_open(&m, proc, MMF_READ, NULL));
  ASSERT_FALSE(mmf_is_mapped(m));
  ASSERT_EQ_U(mmf_size(m), n);
  ASSERT_MEMEQ(mmf_data(m), want, n);
  ASSERT_OK(mmf_close(m));
  /* With an offset and a length. */
  ASSERT_OK(mmf_open(&m, proc, MMF_READ,
                     &(mmf_options){.offset = 1, .length = n - 2}));
  ASSERT_EQ_U(mmf_size(m), n - 2);
  ASSERT_MEMEQ(mmf_data(m), want + 1, n - 2);
  ASSERT_OK(mmf_close(m));
  /* offset == size: empty; past it: MMF_ERANGE. */
  ASSERT_OK(mmf_open(&m, proc, MMF_READ, &(mmf_options){.offset = n}));
  ASSERT_EQ_U(mmf_size(m), 0);
  ASSERT_OK(mmf_close(m));
  m = SENTINEL;
  ASSERT_ERR(mmf_open(&m, proc, MMF_READ, &(mmf_options){.offset = n + 1}),
             MMF_ERANGE);
  ASSERT_NULL(m);
  m = SENTINEL;
  ASSERT_ERR(mmf_open(&m, proc, MMF_READ, &(mmf_options){.length = n + 1}),
             MMF_ERANGE);
  ASSERT_NULL(m);
#endif
}

TEST(proc_file_no_fallback_enodev) {
#ifdef _WIN32
  SKIP("Windows has no /proc");
#else
  mmf_map *m = SENTINEL;
  ASSERT_ERR(mmf_open(&m, "/proc/self/status", MMF_READ,
                      &(mmf_options){.flags = MMF_NO_FALLBACK}),
             MMF_ENODEV);
  ASSERT_NULL(m);
  m = SENTINEL;
  ASSERT_ERR(mmf_open(&m, "/proc/self/status", MMF_COPY,
                      &(mmf_options){.flags = MMF_NO_FALLBACK}),
             MMF_ENODEV);
  ASSERT_NULL(m);
#endif
}

TEST(proc_file_by_fd) {
#ifdef _WIN32
  SKIP("Windows has no /proc");
#else
  const char *proc = test_proc_copied("/proc/self/cmdline")
                         ? "/proc/self/environ"
                         : "/proc/self/cmdline";
  char want[65536];
  size_t n = slurp(proc, want, sizeof want);
  int fd = open(proc, O_RDONLY);
  ASSERT_GE(fd, 0);
  mmf_map *m = NULL;
  ASSERT_OK(mmf_open_fd(&m, fd, MMF_READ, NULL));
  ASSERT_FALSE(mmf_is_mapped(m));
  ASSERT_EQ_U(mmf_size(m), n);
  ASSERT_MEMEQ(mmf_data(m), want, n);
  ASSERT_OK(mmf_close(m));
  close(fd);
#endif
}

/* ------------------------------------------------------------------------ */
/* What the other calls do with a fallback copy                              */
/* ------------------------------------------------------------------------ */

/* A fallback copy of n zero bytes, MMF_COPY: from /dev/zero, or on
 * Windows from a pipe. */
static void open_zero_copy(mmf_map **m, size_t n) {
#ifdef _WIN32
  static const unsigned char zeros[16384];
  int fds[2];
  ASSERT_LE_U(n, sizeof zeros);
  test_pipe(fds);
  ASSERT_EQ(write(fds[1], zeros, n), (int)n);
  close(fds[1]);
  ASSERT_OK(mmf_open_fd(m, fds[0], MMF_COPY, NULL));
  close(fds[0]);
#else
  ASSERT_OK(mmf_open(m, "/dev/zero", MMF_COPY, &(mmf_options){.length = n}));
#endif
}

TEST(fallback_calls) {
  mmf_map *m = NULL;
  open_zero_copy(&m, 3 * 4096 + 5);
  ASSERT_FALSE(mmf_is_mapped(m));
  const uint64_t size = mmf_size(m);
  for (int l = MMF_FLUSH_ASYNC; l <= MMF_FLUSH_FULL; l++)
    ASSERT_OK(mmf_flush(m, 0, 0, l));
  ASSERT_ERR(mmf_flush(m, size + 1, 0, MMF_FLUSH_SYNC), MMF_ERANGE);
  ASSERT_OK(mmf_advise(m, 0, 0, MMF_ADV_WILLNEED));
  uint64_t bytes = 0;
  memset(mmf_data(m), 1, size);
  ASSERT_OK(mmf_resident(m, 0, 0, &bytes));
  ASSERT_EQ_U(bytes, size); /* just written: in RAM */
  ASSERT_ERR(mmf_resident(m, 0, size + 1, &bytes), MMF_ERANGE);
  ASSERT_ERR(mmf_resize(m, size * 2), MMF_ENOTSUP);
  ASSERT_ERR(mmf_resize(m, 1), MMF_ENOTSUP);
  ASSERT_EQ_U(mmf_size(m), size);
  ASSERT_OK(mmf_close(m));
}
