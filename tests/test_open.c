/*
 * test_open.c - mmf_open, mmf_open_fd and the accessors: arguments, modes,
 * flags, MMF_CREATE, descriptors, path errors.
 */
#include "test.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#ifdef _WIN32
#define WIN32_LEAN_AND_MEAN
#include <io.h>
#include <windows.h>
#endif

#define SENTINEL ((mmf_map *)(uintptr_t)0x1234)

static size_t page(void) { return test_page_size(); }

TEST(page_size_and_granularity) {
  ASSERT_EQ_U(mmf_page_size(), test_page_size());
#ifdef _WIN32
  /* Views start at multiples of the allocation granularity (64 KiB). */
  SYSTEM_INFO si;
  GetSystemInfo(&si);
  ASSERT_EQ_U(mmf_granularity(), si.dwAllocationGranularity);
#else
  ASSERT_EQ_U(mmf_granularity(), mmf_page_size());
#endif
  /* A power of two. */
  ASSERT_EQ_U(mmf_page_size() & (mmf_page_size() - 1), 0);
}

TEST(null_handle_accessors) {
  ASSERT_NULL(mmf_data(NULL));
  ASSERT_EQ_U(mmf_size(NULL), 0);
  ASSERT_EQ_U(mmf_offset(NULL), 0);
  ASSERT_FALSE(mmf_is_mapped(NULL));
  ASSERT_EQ(mmf_mode(NULL), 0);
  ASSERT_OK(mmf_close(NULL));
}

TEST(null_handle_calls_einval) {
  uint64_t bytes = 77;
  ASSERT_ERR(mmf_flush(NULL, 0, 0, MMF_FLUSH_SYNC), MMF_EINVAL);
  ASSERT_ERR(mmf_advise(NULL, 0, 0, MMF_ADV_NORMAL), MMF_EINVAL);
  ASSERT_ERR(mmf_protect(NULL, 0, 0, MMF_PROT_READ), MMF_EINVAL);
  ASSERT_ERR(mmf_lock_memory(NULL, 0, 0), MMF_EINVAL);
  ASSERT_ERR(mmf_unlock_memory(NULL, 0, 0), MMF_EINVAL);
  ASSERT_ERR(mmf_resident(NULL, 0, 0, &bytes), MMF_EINVAL);
  ASSERT_EQ_U(bytes, 0); /* out-parameter cleared */
  ASSERT_ERR(mmf_resize(NULL, 10), MMF_EINVAL);
}

TEST(null_out_pointers_einval) {
  write_pattern(test_path("f"), 100);
  ASSERT_ERR(mmf_open(NULL, test_path("f"), MMF_READ, NULL), MMF_EINVAL);
  ASSERT_ERR(mmf_anon(NULL, 100, 0), MMF_EINVAL);
  int fd = test_open(test_path("f"), O_RDONLY);
  ASSERT_GE(fd, 0);
  ASSERT_ERR(mmf_open_fd(NULL, fd, MMF_READ, NULL), MMF_EINVAL);
  close(fd);
  mmf_map *m = NULL;
  ASSERT_OK(mmf_open(&m, test_path("f"), MMF_READ, NULL));
  ASSERT_ERR(mmf_resident(m, 0, 0, NULL), MMF_EINVAL);
  ASSERT_OK(mmf_close(m));
}

TEST(null_path_einval) {
  mmf_map *m = SENTINEL;
  ASSERT_ERR(mmf_open(&m, NULL, MMF_READ, NULL), MMF_EINVAL);
  ASSERT_NULL(m);
  m = SENTINEL;
  int r = mmf_open(&m, "", MMF_READ, NULL);
  ASSERT_TRUE(r == MMF_ENOENT || r == MMF_EINVAL);
  ASSERT_NULL(m);
}

TEST(bad_mode_einval) {
  write_pattern(test_path("f"), 100);
  /* A combination of modes is not a mode: MMF_READ | MMF_WRITE must not
   * open a private copy that silently drops every store. */
  static const int bad[] = {0,
                            MMF_READ | MMF_WRITE,
                            MMF_READ | MMF_COPY,
                            MMF_WRITE | MMF_COPY,
                            MMF_READ | MMF_WRITE | MMF_COPY,
                            8,
                            -1,
                            0x100};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    mmf_map *m = SENTINEL;
    ASSERT_ERR(mmf_open(&m, test_path("f"), bad[i], NULL), MMF_EINVAL);
    ASSERT_NULL(m);
    int fd = test_open(test_path("f"), O_RDWR);
    m = SENTINEL;
    ASSERT_ERR(mmf_open_fd(&m, fd, bad[i], NULL), MMF_EINVAL);
    ASSERT_NULL(m);
    close(fd);
  }
}

TEST(bad_flag_combinations_einval) {
  write_pattern(test_path("f"), 100);
  struct {
    int mode;
    unsigned flags;
  } bad[] = {
      {MMF_READ, MMF_CREATE},
      {MMF_COPY, MMF_CREATE},
      {MMF_READ, MMF_PREALLOCATE},
      {MMF_COPY, MMF_PREALLOCATE},
      {MMF_READ, MMF_SYNC_ON_CLOSE},
      {MMF_COPY, MMF_SYNC_ON_CLOSE},
      {MMF_READ, MMF_SHARED},
      {MMF_WRITE, MMF_SHARED},
      {MMF_COPY, MMF_SHARED},
      {MMF_READ, MMF_SEQUENTIAL | MMF_RANDOM},
      {MMF_WRITE, MMF_SEQUENTIAL | MMF_RANDOM},
      {MMF_READ, 1u << 10},
      {MMF_WRITE, 1u << 20},
      {MMF_COPY, 1u << 31},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    mmf_map *m = SENTINEL;
    mmf_options o = {0};
    o.flags = bad[i].flags;
    int r = mmf_open(&m, test_path("f"), bad[i].mode, &o);
    if (r != MMF_EINVAL)
      FAIL("mode %d flags 0x%x: got %s, expected MMF_EINVAL", bad[i].mode,
           bad[i].flags, mmf_errname(r));
    ASSERT_NULL(m);
  }
  /* The file was not touched by any of them. */
  ASSERT_EQ_U(file_size(test_path("f")), 100);
}

TEST(create_only_by_path) {
  write_pattern(test_path("f"), 100);
  int fd = test_open(test_path("f"), O_RDWR);
  ASSERT_GE(fd, 0);
  mmf_options o = {0};
  o.flags = MMF_CREATE;
  mmf_map *m = SENTINEL;
  ASSERT_ERR(mmf_open_fd(&m, fd, MMF_WRITE, &o), MMF_EINVAL);
  ASSERT_NULL(m);
  close(fd);
}

TEST(bad_fd) {
  mmf_map *m = SENTINEL;
  ASSERT_MMF_ERROR(mmf_open_fd(&m, -1, MMF_READ, NULL));
  ASSERT_NULL(m);
  write_file(test_path("f"), "x", 1);
  int fd = test_open(test_path("f"), O_RDONLY);
  ASSERT_GE(fd, 0);
  close(fd); /* now a closed descriptor */
  m = SENTINEL;
  ASSERT_MMF_ERROR(mmf_open_fd(&m, fd, MMF_READ, NULL));
  ASSERT_NULL(m);
}

TEST(open_modes_report_mode) {
  write_pattern(test_path("f"), 1000);
  static const int modes[] = {MMF_READ, MMF_WRITE, MMF_COPY};
  for (int i = 0; i < 3; i++) {
    mmf_map *m = NULL;
    ASSERT_OK(mmf_open(&m, test_path("f"), modes[i], NULL));
    ASSERT_EQ(mmf_mode(m), modes[i]);
    ASSERT_TRUE(mmf_is_mapped(m));
    ASSERT_EQ_U(mmf_size(m), 1000);
    ASSERT_EQ_U(mmf_offset(m), 0);
    ASSERT_PAT(mmf_data(m), 0, 1000);
    ASSERT_OK(mmf_close(m));
  }
}

TEST(null_options_whole_file) {
  write_pattern(test_path("f"), 3 * page() + 17);
  mmf_map *m = NULL;
  ASSERT_OK(mmf_open(&m, test_path("f"), MMF_READ, NULL));
  ASSERT_EQ_U(mmf_size(m), 3 * page() + 17);
  ASSERT_PAT(mmf_data(m), 0, 3 * page() + 17);
  ASSERT_OK(mmf_close(m));
  /* Zeroed options mean the same. */
  mmf_options o = {0};
  ASSERT_OK(mmf_open(&m, test_path("f"), MMF_READ, &o));
  ASSERT_EQ_U(mmf_size(m), 3 * page() + 17);
  ASSERT_OK(mmf_close(m));
}

TEST(missing_file_enoent) {
  static const int modes[] = {MMF_READ, MMF_WRITE, MMF_COPY};
  for (int i = 0; i < 3; i++) {
    mmf_map *m = SENTINEL;
    ASSERT_ERR(mmf_open(&m, test_path("missing"), modes[i], NULL), MMF_ENOENT);
    ASSERT_NULL(m);
  }
  /* MMF_WRITE without MMF_CREATE did not create it. */
  ASSERT_FALSE(test_exists(test_path("missing")));
  mmf_map *m = SENTINEL;
  ASSERT_ERR(mmf_open(&m, test_path("nodir/file"), MMF_WRITE,
                      &(mmf_options){.flags = MMF_CREATE}),
             MMF_ENOENT);
  ASSERT_NULL(m);
}

TEST(path_errors) {
  mmf_map *m = SENTINEL;
  write_file(test_path("file"), "abc", 3);
#ifdef _WIN32
  /* Windows says ERROR_PATH_NOT_FOUND when a component is a file, as when
   * a directory is missing. */
  ASSERT_ERR(mmf_open(&m, test_path("file/x"), MMF_READ, NULL), MMF_ENOENT);
#else
  ASSERT_ERR(mmf_open(&m, test_path("file/x"), MMF_READ, NULL), MMF_ENOTDIR);
#endif
  ASSERT_NULL(m);

  char longname[400];
  memset(longname, 'a', sizeof longname - 1);
  longname[sizeof longname - 1] = '\0';
  m = SENTINEL;
#ifdef _WIN32
  /* A component longer than the file system allows: Windows says
   * ERROR_FILENAME_EXCED_RANGE or ERROR_INVALID_NAME, Wine "not found". */
  int r = mmf_open(&m, test_path(longname), MMF_READ, NULL);
  if (r != MMF_ENAMETOOLONG && r != MMF_EINVAL &&
      !(r == MMF_ENOENT && test_under_wine()))
    FAIL("a 399-byte name: %s", mmf_errname(r));
#else
  ASSERT_ERR(mmf_open(&m, test_path(longname), MMF_READ, NULL),
             MMF_ENAMETOOLONG);
#endif
  ASSERT_NULL(m);

#ifdef _WIN32
  test_note("symbolic link loops not tried: making links needs a privilege "
            "on Windows");
#else
  ASSERT_EQ(symlink("loop2", test_path("loop1")), 0);
  ASSERT_EQ(symlink("loop1", test_path("loop2")), 0);
  m = SENTINEL;
  ASSERT_ERR(mmf_open(&m, test_path("loop1"), MMF_READ, NULL), MMF_ELOOP);
  ASSERT_NULL(m);
#endif
}

TEST(permission_denied_eacces) {
#ifdef _WIN32
  /* The read-only attribute is enforced for everyone on Windows; Wine makes
   * it a Unix mode, which root bypasses. */
  write_pattern(test_path("f"), 100);
  ASSERT_EQ(chmod(test_path("f"), _S_IREAD), 0);
  int fd = test_open(test_path("f"), O_RDWR);
  if (fd >= 0) {
    close(fd);
    SKIP("a read-only file opens for writing here (Wine run as root)");
  }
#else
  if (geteuid() == 0)
    SKIP("running as root: file permissions are not enforced");
  write_pattern(test_path("f"), 100);
  ASSERT_EQ(chmod(test_path("f"), 0444), 0);
#endif
  mmf_map *m = SENTINEL;
  ASSERT_ERR(mmf_open(&m, test_path("f"), MMF_WRITE, NULL), MMF_EACCES);
  ASSERT_NULL(m);
  ASSERT_OK(mmf_open(&m, test_path("f"), MMF_READ, NULL));
  ASSERT_OK(mmf_close(m));
}

TEST(directory_eisdir) {
  static const int modes[] = {MMF_READ, MMF_WRITE, MMF_COPY};
  for (int i = 0; i < 3; i++) {
    mmf_map *m = SENTINEL;
    ASSERT_ERR(mmf_open(&m, test_dir(), modes[i], NULL), MMF_EISDIR);
    ASSERT_NULL(m);
    m = SENTINEL;
    ASSERT_ERR(mmf_open(&m, test_dir(), modes[i],
                        &(mmf_options){.flags = MMF_NO_FALLBACK}),
               MMF_EISDIR);
    ASSERT_NULL(m);
  }
  mmf_map *m = SENTINEL;
  ASSERT_ERR(
      mmf_open(&m, test_dir(), MMF_WRITE, &(mmf_options){.flags = MMF_CREATE}),
      MMF_EISDIR);
  ASSERT_NULL(m);
#ifdef _WIN32
  test_note("directory descriptors not tried: the C runtime cannot open a "
            "directory");
#else
  int fd = open(test_dir(), O_RDONLY | O_DIRECTORY);
  ASSERT_GE(fd, 0);
  m = SENTINEL;
  ASSERT_ERR(mmf_open_fd(&m, fd, MMF_READ, NULL), MMF_EISDIR);
  ASSERT_NULL(m);
  m = SENTINEL;
  ASSERT_ERR(mmf_open_fd(&m, fd, MMF_COPY, NULL), MMF_EISDIR);
  ASSERT_NULL(m);
  close(fd);
#endif
}

TEST(fd_read_only_write_eacces) {
  write_pattern(test_path("f"), 5000);
  int fd = test_open(test_path("f"), O_RDONLY);
  ASSERT_GE(fd, 0);
  mmf_map *m = SENTINEL;
  ASSERT_ERR(mmf_open_fd(&m, fd, MMF_WRITE, NULL), MMF_EACCES);
  ASSERT_NULL(m);
  /* Also when the write would grow the file. */
  m = SENTINEL;
  ASSERT_ERR(mmf_open_fd(&m, fd, MMF_WRITE, &(mmf_options){.size = 100000}),
             MMF_EACCES);
  ASSERT_NULL(m);
  ASSERT_EQ_U(file_size(test_path("f")), 5000);
  /* Read and private copy are fine on a read-only descriptor. */
  ASSERT_OK(mmf_open_fd(&m, fd, MMF_READ, NULL));
  ASSERT_PAT(mmf_data(m), 0, 5000);
  ASSERT_OK(mmf_close(m));
  ASSERT_OK(mmf_open_fd(&m, fd, MMF_COPY, NULL));
  ((unsigned char *)mmf_data(m))[10] ^= 0xff;
  ASSERT_OK(mmf_close(m));
  close(fd);
}

TEST(fd_write_only_read_eacces) {
  write_pattern(test_path("f"), 5000);
  int fd = test_open(test_path("f"), O_WRONLY);
  ASSERT_GE(fd, 0);
  static const int modes[] = {MMF_READ, MMF_WRITE, MMF_COPY};
  for (int i = 0; i < 3; i++) {
    mmf_map *m = SENTINEL;
    ASSERT_ERR(mmf_open_fd(&m, fd, modes[i], NULL), MMF_EACCES);
    ASSERT_NULL(m);
  }
  close(fd);
}

TEST(fd_stays_callers) {
  write_pattern(test_path("f"), 3 * page());
  int fd = test_open(test_path("f"), O_RDWR);
  ASSERT_GE(fd, 0);
  off_t pos = lseek(fd, 123, SEEK_SET);
  ASSERT_EQ(pos, 123);
  mmf_map *m = NULL;
  ASSERT_OK(mmf_open_fd(&m, fd, MMF_WRITE, NULL));
  ASSERT_EQ_U(mmf_size(m), 3 * page()); /* a file maps whole, not from pos */
  ASSERT_PAT(mmf_data(m), 0, 3 * page());
  ASSERT_OK(mmf_close(m));
  /* Still open, same position. */
#ifdef _WIN32
  ASSERT_NE(_get_osfhandle(fd), -1);
#else
  ASSERT_GE(fcntl(fd, F_GETFD), 0);
#endif
  ASSERT_EQ(lseek(fd, 0, SEEK_CUR), 123);

  /* The caller may close fd at once; the map works on its own duplicate. */
  ASSERT_OK(mmf_open_fd(&m, fd, MMF_WRITE, NULL));
  close(fd);
  unsigned char *p = mmf_data(m);
  p[5] = 0x5a;
  ASSERT_OK(mmf_flush(m, 0, 0, MMF_FLUSH_SYNC));
  ASSERT_OK(mmf_resize(m, 4 * page()));
  ASSERT_EQ_U(file_size(test_path("f")), 4 * page());
  ASSERT_OK(mmf_close(m));
  unsigned char b;
  read_at(test_path("f"), 5, &b, 1);
  ASSERT_EQ(b, 0x5a);
}

TEST(fd_with_options) {
  write_pattern(test_path("f"), 3 * page());
  int fd = test_open(test_path("f"), O_RDONLY);
  mmf_map *m = NULL;
  mmf_options o = {0};
  o.offset = page() + 3;
  o.length = 100;
  ASSERT_OK(mmf_open_fd(&m, fd, MMF_READ, &o));
  ASSERT_EQ_U(mmf_size(m), 100);
  ASSERT_EQ_U(mmf_offset(m), page() + 3);
  ASSERT_PAT(mmf_data(m), page() + 3, 100);
  ASSERT_OK(mmf_close(m));
  o.offset = 3 * page() + 1;
  o.length = 0;
  m = SENTINEL;
  ASSERT_ERR(mmf_open_fd(&m, fd, MMF_READ, &o), MMF_ERANGE);
  ASSERT_NULL(m);
  close(fd);
}

/* Descriptors: a file map keeps exactly one, close-on-exec (Windows: not
 * inheritable), for its life; empty maps keep one too. */
TEST(file_map_keeps_one_cloexec_descriptor) {
  write_pattern(test_path("f"), 5000);
  write_file(test_path("empty"), NULL, 0);
  int before = count_open_fds();
  int inheritable = count_inheritable_fds();
  mmf_map *m = NULL;
  ASSERT_OK(mmf_open(&m, test_path("f"), MMF_READ, NULL));
  ASSERT_EQ(count_open_fds(), before + 1);
  ASSERT_EQ(count_inheritable_fds(), inheritable);
#ifndef _WIN32
  /* Find it and check FD_CLOEXEC. */
  int found = 0;
  for (int fd = 0; fd < 1024; fd++) {
    char link[64], target[4096];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, target, sizeof target - 1);
    if (n <= 0)
      continue;
    target[n] = '\0';
    if (strcmp(target, test_path("f")) == 0) {
      found++;
      ASSERT_TRUE(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    }
  }
  ASSERT_EQ(found, 1);
#endif
  ASSERT_OK(mmf_close(m));
  ASSERT_EQ(count_open_fds(), before);

  /* An empty file map keeps its descriptor too: mmf_resize() and fault
   * classification need the file once the map grows. */
  ASSERT_OK(mmf_open(&m, test_path("empty"), MMF_READ, NULL));
  ASSERT_EQ(count_open_fds(), before + 1);
  ASSERT_OK(mmf_close(m));
  ASSERT_EQ(count_open_fds(), before);
}

TEST(create_new_file) {
  mmf_map *m = NULL;
  mmf_options o = {0};
  o.flags = MMF_CREATE;
  o.size = 10000;
  ASSERT_OK(mmf_open(&m, test_path("new"), MMF_WRITE, &o));
  ASSERT_EQ_U(file_size(test_path("new")), 10000);
  ASSERT_EQ_U(mmf_size(m), 10000);
  ASSERT_ZERO(mmf_data(m), 10000);
  memset(mmf_data(m), 'q', 10000);
  ASSERT_OK(mmf_close(m));
  unsigned char buf[10000], want[10000];
  read_at(test_path("new"), 0, buf, sizeof buf);
  memset(want, 'q', sizeof want);
  ASSERT_MEMEQ(buf, want, sizeof buf);
}

TEST(create_empty_file) {
  mmf_map *m = NULL;
  mmf_options o = {0};
  o.flags = MMF_CREATE;
  ASSERT_OK(mmf_open(&m, test_path("new"), MMF_WRITE, &o));
  ASSERT_EQ_U(mmf_size(m), 0);
  ASSERT_TRUE(mmf_is_mapped(m));
  ASSERT_EQ_U(file_size(test_path("new")), 0);
  ASSERT_OK(mmf_close(m));
}

TEST(create_keeps_existing_file) {
  write_pattern(test_path("f"), 3000);
  mmf_map *m = NULL;
  mmf_options o = {0};
  o.flags = MMF_CREATE;
  ASSERT_OK(mmf_open(&m, test_path("f"), MMF_WRITE, &o));
  ASSERT_EQ_U(mmf_size(m), 3000);
  ASSERT_PAT(mmf_data(m), 0, 3000);
  ASSERT_OK(mmf_close(m));
  ASSERT_EQ_U(file_size(test_path("f")), 3000);
}

TEST(create_mode_follows_umask) {
#ifdef _WIN32
  SKIP("Windows files have no mode bits: MMF_CREATE uses the directory's "
       "default security");
#else
  mode_t old = umask(027);
  mmf_map *m = NULL;
  mmf_options o = {0};
  o.flags = MMF_CREATE;
  o.size = 10;
  ASSERT_OK(mmf_open(&m, test_path("new"), MMF_WRITE, &o));
  ASSERT_OK(mmf_close(m));
  umask(old);
  struct stat st;
  ASSERT_EQ(stat(test_path("new"), &st), 0);
  ASSERT_EQ(st.st_mode & 0777, 0640);
#endif
}

TEST(create_with_offset_and_length) {
  mmf_map *m = NULL;
  mmf_options o = {0};
  o.flags = MMF_CREATE;
  o.offset = 1000;
  o.length = 50;
  ASSERT_OK(mmf_open(&m, test_path("new"), MMF_WRITE, &o));
  ASSERT_EQ_U(file_size(test_path("new")), 1050);
  ASSERT_EQ_U(mmf_size(m), 50);
  ASSERT_EQ_U(mmf_offset(m), 1000);
  memcpy(mmf_data(m), "hello", 5);
  ASSERT_OK(mmf_close(m));
  char buf[5];
  read_at(test_path("new"), 1000, buf, 5);
  ASSERT_MEMEQ(buf, "hello", 5);
}

/* Every flag that opens a file works and maps the right bytes. */
TEST(open_flags_each) {
  write_pattern(test_path("f"), 4 * page() + 9);
  static const unsigned read_flags[] = {0,
                                        MMF_POPULATE,
                                        MMF_SEQUENTIAL,
                                        MMF_RANDOM,
                                        MMF_HUGE,
                                        MMF_LOCKED,
                                        MMF_NO_FALLBACK,
                                        MMF_POPULATE | MMF_LOCKED | MMF_HUGE |
                                            MMF_SEQUENTIAL};
  static const int modes[] = {MMF_READ, MMF_WRITE, MMF_COPY};
  for (int mi = 0; mi < 3; mi++)
    for (size_t i = 0; i < sizeof read_flags / sizeof read_flags[0]; i++) {
      mmf_map *m = NULL;
      mmf_options o = {0};
      o.offset = 5;
      o.flags = read_flags[i];
      int r = mmf_open(&m, test_path("f"), modes[mi], &o);
      if (r != 0)
        FAIL("mode %d flags 0x%x: %s", modes[mi], read_flags[i],
             mmf_errname(r));
      ASSERT_EQ_U(mmf_size(m), 4 * page() + 4);
      ASSERT_PAT(mmf_data(m), 5, 4 * page() + 4);
      ASSERT_TRUE(mmf_is_mapped(m));
      ASSERT_OK(mmf_close(m));
    }
  static const unsigned write_flags[] = {
      MMF_CREATE, MMF_PREALLOCATE, MMF_SYNC_ON_CLOSE,
      MMF_CREATE | MMF_PREALLOCATE | MMF_SYNC_ON_CLOSE | MMF_POPULATE};
  for (size_t i = 0; i < sizeof write_flags / sizeof write_flags[0]; i++) {
    mmf_map *m = NULL;
    mmf_options o = {0};
    o.flags = write_flags[i];
    int r = mmf_open(&m, test_path("f"), MMF_WRITE, &o);
    if (r != 0)
      FAIL("MMF_WRITE flags 0x%x: %s", write_flags[i], mmf_errname(r));
    ASSERT_PAT(mmf_data(m), 0, 4 * page() + 9);
    ASSERT_OK(mmf_close(m));
  }
}

/* A MMF_READ map is read-only: a store through the pointer faults. */
static int store_first_byte(void *arg) {
  *(volatile unsigned char *)arg = 1;
  return 0;
}

TEST(read_map_is_read_only) {
  write_pattern(test_path("f"), 100);
  mmf_map *m = NULL;
  ASSERT_OK(mmf_open(&m, test_path("f"), MMF_READ, NULL));
  int st = run_crashing_child(store_first_byte, mmf_data(m));
  ASSERT_SIGNALED(st, SIGSEGV);
  ASSERT_OK(mmf_close(m));
  unsigned char b;
  read_at(test_path("f"), 0, &b, 1);
  ASSERT_EQ(b, pat(0));
}

TEST(preallocate_allocates_blocks) {
  mmf_map *m = NULL;
  mmf_options o = {0};
  o.flags = MMF_CREATE | MMF_PREALLOCATE;
  o.size = 1 << 20;
  ASSERT_OK(mmf_open(&m, test_path("new"), MMF_WRITE, &o));
  ASSERT_EQ_U(file_size(test_path("new")), 1 << 20);
  /* The blocks exist before any page was touched. */
  if (test_under_wine())
    test_note("allocation not checked: Wine does not implement "
              "FileAllocationInformation (docs/windows.md)");
  else
    ASSERT_GE_U(file_allocated(test_path("new")), 1 << 20);
  ASSERT_ZERO(mmf_data(m), 1 << 20);
  ASSERT_OK(mmf_close(m));

#ifndef _WIN32
  /* Without it the file stays sparse. (NTFS allocates the clusters of a
   * file extended with SetEndOfFile: there is no such check there.) */
  ASSERT_OK(mmf_open(&m, test_path("sparse"), MMF_WRITE,
                     &(mmf_options){.flags = MMF_CREATE, .size = 1 << 20}));
  ASSERT_OK(mmf_close(m));
  ASSERT_LT_U(file_allocated(test_path("sparse")), 1 << 20);
#endif
}
