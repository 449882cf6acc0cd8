/*
 * test_windows.c - the Windows traps: offsets against the 64 KiB
 * allocation granularity, shrinking a mapped file, empty files, a view
 * shared between two processes, the fault guard when the file is
 * truncated under a read, and non-ASCII paths.
 *
 * Each test runs on every platform: the traps are Windows', the promises
 * are the same everywhere. Where Windows differs by design (shrinking a
 * file another map still views is MMF_EBUSY; a mapped file cannot be
 * truncated from Windows at all) the test says which outcome it expects
 * where. Under Wine the truncation comes from a host program.
 */
#include "test.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#ifdef _WIN32
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#else
#include <dirent.h>
#endif

static const int modes[] = {MMF_READ, MMF_WRITE, MMF_COPY};
static const char *mode_name(int mode) {
  return mode == MMF_READ ? "READ" : mode == MMF_WRITE ? "WRITE" : "COPY";
}

/* ------------------------------------------------------------------------ */
/* Offsets against the allocation granularity                                */
/* ------------------------------------------------------------------------ */

/* Any byte offset: the view starts at the offset rounded down to the
 * granularity and mmf_data() points at the offset itself. */
TEST(odd_offsets_against_granularity) {
  const uint64_t g = mmf_granularity();
#ifdef _WIN32
  ASSERT_EQ_U(g, 65536);
#endif
  const uint64_t size = 3 * g + 1234;
  write_pattern(test_path("f"), size);
  const uint64_t offsets[] = {1,     4095,      4096,      4097,  g - 1,   g,
                              g + 1, 2 * g - 1, 2 * g + 3, 3 * g, size - 1};
  for (int mi = 0; mi < 3; mi++)
    for (size_t i = 0; i < sizeof offsets / sizeof offsets[0]; i++) {
      const uint64_t off = offsets[i];
      /* To the end of the file, one byte, and across the next boundary. */
      const uint64_t lens[] = {0, 1, g + 2};
      for (int li = 0; li < 3; li++) {
        const uint64_t len = lens[li];
        if (off + len > size)
          continue;
        test_context("%s offset %" PRIu64 " length %" PRIu64,
                     mode_name(modes[mi]), off, len);
        mmf_map *m = NULL;
        ASSERT_OK(mmf_open(&m, test_path("f"), modes[mi],
                           &(mmf_options){.offset = off, .length = len}));
        const uint64_t n = len ? len : size - off;
        ASSERT_EQ_U(mmf_size(m), n);
        ASSERT_EQ_U(mmf_offset(m), off);
        /* The slack below the offset is hidden, not lost: the address
         * keeps the offset's place in its granularity unit. */
        ASSERT_EQ_U(((uintptr_t)mmf_data(m) - off) % g, 0);
        ASSERT_PAT(mmf_data(m), off, n);
        unsigned char b[2];
        ASSERT_OK(mmf_read(m, n - 1, b, 1));
        ASSERT_EQ(b[0], pat(off + n - 1));
        ASSERT_ERR(mmf_read(m, n, b, 1), MMF_ERANGE);
        if (modes[mi] != MMF_READ) {
          b[0] = 'A';
          b[1] = 'Z';
          ASSERT_OK(mmf_write(m, 0, &b[0], 1));
          ASSERT_OK(mmf_write(m, n - 1, &b[1], 1));
          ASSERT_EQ(((unsigned char *)mmf_data(m))[0], n == 1 ? 'Z' : 'A');
          ASSERT_OK(mmf_flush(m, 0, 0, MMF_FLUSH_SYNC));
        }
        ASSERT_OK(mmf_close(m));
        /* WRITE stores reach the file at the offset; COPY ones never. */
        unsigned char first, last;
        read_at(test_path("f"), off, &first, 1);
        read_at(test_path("f"), off + n - 1, &last, 1);
        if (modes[mi] == MMF_WRITE) {
          ASSERT_EQ(first, n == 1 ? 'Z' : 'A');
          ASSERT_EQ(last, 'Z');
          write_at(test_path("f"), off, (unsigned char[]){pat(off)}, 1);
          write_at(test_path("f"), off + n - 1,
                   (unsigned char[]){pat(off + n - 1)}, 1);
        } else {
          ASSERT_EQ(first, pat(off));
          ASSERT_EQ(last, pat(off + n - 1));
        }
      }
    }
  test_context_clear();
  ASSERT_EQ_U(file_size(test_path("f")), size);
}

/* Growing a map that starts just below a boundary moves it across. */
TEST(resize_across_granularity_boundary) {
  const uint64_t g = mmf_granularity();
  write_pattern(test_path("f"), 2 * g);
  for (int mi = 0; mi < 3; mi++) {
    mmf_map *m = NULL;
    ASSERT_OK(mmf_open(&m, test_path("f"), modes[mi],
                       &(mmf_options){.offset = g - 1, .length = 2}));
    if (modes[mi] != MMF_READ)
      ((unsigned char *)mmf_data(m))[0] = 'q';
    ASSERT_OK(mmf_resize(m, g + 1));
    ASSERT_EQ_U(mmf_size(m), g + 1);
    ASSERT_EQ_U(mmf_offset(m), g - 1);
    const unsigned char *p = mmf_data(m);
    ASSERT_EQ(p[0], modes[mi] == MMF_READ ? pat(g - 1) : 'q');
    ASSERT_PAT(p + 1, g, g);
    ASSERT_OK(mmf_close(m));
    if (modes[mi] == MMF_WRITE)
      write_at(test_path("f"), g - 1, (unsigned char[]){pat(g - 1)}, 1);
  }
}

/* ------------------------------------------------------------------------ */
/* Shrinking a mapped file                                                   */
/* ------------------------------------------------------------------------ */

/* Windows refuses to shrink a file while any view of it exists; mmf
 * unmaps, shrinks and maps again. */
TEST(shrink_write_map) {
  const uint64_t g = mmf_granularity();
  write_pattern(test_path("f"), 5 * g + 7);
  mmf_map *m = NULL;
  ASSERT_OK(
      mmf_open(&m, test_path("f"), MMF_WRITE, &(mmf_options){.offset = 3}));
  unsigned char *p = mmf_data(m);
  p[10] = 's';
  ASSERT_OK(mmf_resize(m, g / 2));
  ASSERT_EQ_U(mmf_size(m), g / 2);
  ASSERT_EQ_U(file_size(test_path("f")), 3 + g / 2);
  p = mmf_data(m);
  ASSERT_PAT(p, 3, 10);
  ASSERT_EQ(p[10], 's');
  ASSERT_PAT(p + 11, 14, g / 2 - 11);
  /* To nothing, and back with zeros. */
  ASSERT_OK(mmf_resize(m, 0));
  ASSERT_EQ_U(mmf_size(m), 0);
  ASSERT_EQ_U(file_size(test_path("f")), 3);
  ASSERT_OK(mmf_resize(m, 2 * g + 1));
  ASSERT_EQ_U(file_size(test_path("f")), 3 + 2 * g + 1);
  ASSERT_ZERO(mmf_data(m), 2 * g + 1);
  ((unsigned char *)mmf_data(m))[2 * g] = 'e';
  ASSERT_OK(mmf_close(m));
  unsigned char b;
  read_at(test_path("f"), 3 + 2 * g, &b, 1);
  ASSERT_EQ(b, 'e');
}

/* Another map of the file in this process: Windows cannot shrink the file
 * under it, so the shrink is MMF_EBUSY and the map stays as it was. POSIX
 * shrinks (the other map then ends past the end of the file). */
TEST(shrink_with_second_map) {
  const uint64_t g = mmf_granularity();
  const uint64_t size = 3 * g + 5;
  write_pattern(test_path("f"), size);
  mmf_map *m = NULL, *other = NULL;
  ASSERT_OK(mmf_open(&m, test_path("f"), MMF_WRITE, NULL));
  ASSERT_OK(mmf_open(&other, test_path("f"), MMF_READ,
                     &(mmf_options){.offset = 7, .length = 100}));
  ((unsigned char *)mmf_data(m))[1] = 'w';
#ifdef _WIN32
  ASSERT_ERR(mmf_resize(m, g), MMF_EBUSY);
  /* Unchanged: size, file, bytes, and still writable. */
  ASSERT_EQ_U(mmf_size(m), size);
  ASSERT_EQ_U(file_size(test_path("f")), size);
  unsigned char *p = mmf_data(m);
  ASSERT_EQ(p[1], 'w');
  ASSERT_PAT(p + 2, 2, size - 2);
  p[size - 1] = 'l';
  ASSERT_OK(mmf_write(m, 0, "v", 1));
  ASSERT_OK(mmf_flush(m, 0, 0, MMF_FLUSH_SYNC));
  ASSERT_PAT(mmf_data(other), 7, 100);
  /* Growing is fine meanwhile. */
  ASSERT_OK(mmf_resize(m, size + g));
  ASSERT_EQ_U(file_size(test_path("f")), size + g);
  ASSERT_EQ(((unsigned char *)mmf_data(m))[size - 1], 'l');
  /* Once the other map is gone the shrink works. */
  ASSERT_OK(mmf_close(other));
  other = NULL;
  ASSERT_OK(mmf_resize(m, g));
  ASSERT_EQ_U(file_size(test_path("f")), g);
  ASSERT_EQ(((unsigned char *)mmf_data(m))[0], 'v');
#else
  ASSERT_OK(mmf_resize(m, g));
  ASSERT_EQ_U(file_size(test_path("f")), g);
  ASSERT_EQ(((unsigned char *)mmf_data(m))[1], 'w');
#endif
  ASSERT_OK(mmf_close(other));
  ASSERT_OK(mmf_close(m));
}

/* A child that maps argv[1] read-only, touches it, makes the file argv[2]
 * to say so, and holds the map until the file argv[3] appears. */
TEST_CHILD(hold_map) {
  ASSERT_EQ(argc, 4);
  mmf_map *m = NULL;
  ASSERT_OK(mmf_open(&m, argv[1], MMF_READ, NULL));
  volatile unsigned char first = ((unsigned char *)mmf_data(m))[0];
  (void)first;
  write_file(argv[2], "ready", 5);
  for (int i = 0; !test_exists(argv[3]); i++) {
    if (i == 3000)
      FAIL("no release file after 30 s");
    test_sleep_ms(10);
  }
  ASSERT_OK(mmf_close(m));
  return 0;
}

static void wait_for_file(const char *path) {
  for (int i = 0; !test_exists(path); i++) {
    if (i == 3000)
      FAIL("%s did not appear within 30 s", path);
    test_sleep_ms(10);
  }
}

/* The same with the other map in another process. */
TEST(shrink_with_map_in_other_process) {
  const uint64_t g = mmf_granularity();
  const uint64_t size = 2 * g + 9;
  write_pattern(test_path("f"), size);
  mmf_map *m = NULL;
  ASSERT_OK(mmf_open(&m, test_path("f"), MMF_WRITE, NULL));
  const char *args[] = {test_path("f"), test_path("ready"), test_path("go"),
                        NULL};
  test_proc child = test_spawn("hold_map", args);
  wait_for_file(test_path("ready"));
#ifdef _WIN32
  ASSERT_ERR(mmf_resize(m, 100), MMF_EBUSY);
  ASSERT_EQ_U(mmf_size(m), size);
  ASSERT_EQ_U(file_size(test_path("f")), size);
  ASSERT_PAT(mmf_data(m), 0, size);
#else
  ASSERT_OK(mmf_resize(m, 100));
#endif
  write_file(test_path("go"), NULL, 0);
  ASSERT_EQ(test_wait(child), 0);
  ASSERT_OK(mmf_resize(m, 100));
  ASSERT_EQ_U(file_size(test_path("f")), 100);
  ASSERT_PAT(mmf_data(m), 0, 100);
  ASSERT_OK(mmf_close(m));
}

/* ------------------------------------------------------------------------ */
/* Empty files                                                               */
/* ------------------------------------------------------------------------ */

static int return_seven(void *ctx) {
  (void)ctx;
  return 7;
}

/* Windows cannot make a section of an empty file; mmf maps it as size 0
 * with no section, and every call accepts the map. */
TEST(empty_file_every_mode) {
  write_file(test_path("empty"), NULL, 0);
  for (int mi = 0; mi < 3; mi++) {
    static const unsigned flags[] = {0, MMF_NO_FALLBACK, MMF_POPULATE};
    for (int fi = 0; fi < 3; fi++) {
      test_context("%s flags 0x%x", mode_name(modes[mi]), flags[fi]);
      mmf_map *m = NULL;
      ASSERT_OK(mmf_open(&m, test_path("empty"), modes[mi],
                         &(mmf_options){.flags = flags[fi]}));
      ASSERT_EQ_U(mmf_size(m), 0);
      ASSERT_TRUE(mmf_is_mapped(m));
      unsigned char b = 0;
      uint64_t n = 9, pos = 9;
      ASSERT_OK(mmf_read(m, 0, &b, 0));
      ASSERT_ERR(mmf_read(m, 0, &b, 1), MMF_ERANGE);
      ASSERT_OK(mmf_count_byte(m, 0, 0, 'x', &n));
      ASSERT_EQ_U(n, 0);
      ASSERT_OK(mmf_find(m, 0, 0, "x", 1, &pos));
      ASSERT_EQ_U(pos, MMF_NPOS);
      ASSERT_EQ(mmf_guard(m, return_seven, NULL), 7);
      ASSERT_OK(mmf_flush(m, 0, 0, MMF_FLUSH_FULL));
      ASSERT_OK(mmf_advise(m, 0, 0, MMF_ADV_WILLNEED));
      ASSERT_OK(mmf_resident(m, 0, 0, &n));
      ASSERT_EQ_U(n, 0);
      if (modes[mi] == MMF_WRITE)
        ASSERT_ERR(mmf_write(m, 0, "x", 1), MMF_ERANGE);
      else
        ASSERT_ERR(mmf_resize(m, 1), MMF_ERANGE);
      ASSERT_OK(mmf_close(m));
    }
  }
  test_context_clear();
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

/* An empty MMF_WRITE map grows into a real mapping and shrinks back. */
TEST(empty_file_grows_and_shrinks) {
  const uint64_t g = mmf_granularity();
  write_file(test_path("empty"), NULL, 0);
  mmf_map *m = NULL;
  ASSERT_OK(mmf_open(&m, test_path("empty"), MMF_WRITE, NULL));
  ASSERT_OK(mmf_resize(m, g + 3));
  ASSERT_EQ_U(file_size(test_path("empty")), g + 3);
  ASSERT_ZERO(mmf_data(m), g + 3);
  ASSERT_OK(mmf_write(m, g + 2, "!", 1));
  ASSERT_OK(mmf_flush(m, 0, 0, MMF_FLUSH_SYNC));
  unsigned char b;
  read_at(test_path("empty"), g + 2, &b, 1);
  ASSERT_EQ(b, '!');
  ASSERT_OK(mmf_resize(m, 0));
  ASSERT_EQ_U(mmf_size(m), 0);
  ASSERT_EQ_U(file_size(test_path("empty")), 0);
  ASSERT_OK(mmf_close(m));

  /* MMF_CREATE of a new empty file, and an offset equal to the size. */
  ASSERT_OK(mmf_open(&m, test_path("new"), MMF_WRITE,
                     &(mmf_options){.flags = MMF_CREATE}));
  ASSERT_EQ_U(mmf_size(m), 0);
  ASSERT_OK(mmf_close(m));
  ASSERT_EQ_U(file_size(test_path("new")), 0);
  write_pattern(test_path("f"), g + 1);
  for (int mi = 0; mi < 3; mi++) {
    ASSERT_OK(mmf_open(&m, test_path("f"), modes[mi],
                       &(mmf_options){.offset = g + 1}));
    ASSERT_EQ_U(mmf_size(m), 0);
    ASSERT_EQ_U(mmf_offset(m), g + 1);
    ASSERT_OK(mmf_close(m));
  }
}

/* ------------------------------------------------------------------------ */
/* A view shared between two processes                                       */
/* ------------------------------------------------------------------------ */

/* Child: map argv[1] MMF_WRITE at offset argv[2], store argv[3] at map
 * offset 0, say so with the file argv[4], and keep the view until the file
 * argv[5] appears; then check that the parent's store "parent" is visible
 * at map offset 100 (exit 2 if not). No flush anywhere. */
TEST_CHILD(share_view) {
  ASSERT_EQ(argc, 6);
  mmf_map *m = NULL;
  ASSERT_OK(mmf_open(
      &m, argv[1], MMF_WRITE,
      &(mmf_options){.offset = strtoull(argv[2], NULL, 10), .length = 4096}));
  memcpy(mmf_data(m), argv[3], strlen(argv[3]));
  write_file(argv[4], "ready", 5);
  for (int i = 0; !test_exists(argv[5]); i++) {
    if (i == 3000)
      FAIL("no release file after 30 s");
    test_sleep_ms(10);
  }
  int rc = memcmp((unsigned char *)mmf_data(m) + 100, "parent", 6) ? 2 : 0;
  ASSERT_OK(mmf_close(m));
  return rc;
}

TEST(view_shared_between_processes) {
  const uint64_t g = mmf_granularity();
  const uint64_t off = g + 333; /* odd, in the second granularity unit */
  write_pattern(test_path("f"), 3 * g);
  static const int parent_modes[] = {MMF_WRITE, MMF_READ};
  for (int k = 0; k < 2; k++) {
    char o[32], ready[32], go[32];
    snprintf(o, sizeof o, "%" PRIu64, off);
    snprintf(ready, sizeof ready, "ready%d", k);
    snprintf(go, sizeof go, "go%d", k);
    /* The parent's view starts elsewhere: the views overlap in part. */
    mmf_map *m = NULL;
    ASSERT_OK(mmf_open(&m, test_path("f"), parent_modes[k],
                       &(mmf_options){.offset = off - 5}));
    const char *msg = k ? "from the child, again" : "from the child";
    const char *args[] = {test_path("f"), o,   msg, test_path(ready),
                          test_path(go),  NULL};
    test_proc child = test_spawn("share_view", args);
    wait_for_file(test_path(ready));
    /* The child's store shows in our view while its view lives. */
    unsigned char *p = mmf_data(m);
    ASSERT_PAT(p, off - 5, 5);
    ASSERT_MEMEQ(p + 5, msg, strlen(msg));
    if (parent_modes[k] == MMF_WRITE)
      memcpy(p + 5 + 100, "parent", 6);
    else
      write_at(test_path("f"), off + 100, "parent", 6);
    write_file(test_path(go), NULL, 0);
    ASSERT_EQ(test_wait(child), 0);
    ASSERT_OK(mmf_close(m));
    char buf[64];
    read_at(test_path("f"), off, buf, strlen(msg));
    ASSERT_MEMEQ(buf, msg, strlen(msg));
  }
}

/* ------------------------------------------------------------------------ */
/* The guard when the file is truncated under a read                         */
/* ------------------------------------------------------------------------ */

static int read_far_byte(void *ctx) {
  const volatile unsigned char *p = ctx;
  return p[0] == 0xff ? 5 : 6;
}

TEST(guard_truncate_under_read) {
  const uint64_t size = 1 << 20;
  write_pattern(test_path("f"), size);
  mmf_map *r = NULL, *w = NULL;
  ASSERT_OK(mmf_open(&r, test_path("f"), MMF_READ, NULL));
  ASSERT_OK(
      mmf_open(&w, test_path("f"), MMF_WRITE, &(mmf_options){.offset = 70001}));
  /* Touch every page first: the truncation must hit pages already seen. */
  uint64_t count = 0;
  ASSERT_OK(mmf_count_byte(r, 0, 0, pat(5), &count));
  ASSERT_GT(count, 0);
#ifdef _WIN32
  {
    /* A Windows program cannot do it (Wine agrees). */
    wchar_t wpath[1024];
    MultiByteToWideChar(CP_UTF8, 0, test_path("f"), -1, wpath, 1024);
    HANDLE h =
        CreateFileW(wpath, GENERIC_WRITE, 7, NULL, OPEN_EXISTING, 0, NULL);
    ASSERT_TRUE(h != INVALID_HANDLE_VALUE);
    FILE_END_OF_FILE_INFO eof;
    eof.EndOfFile.QuadPart = 4096;
    ASSERT_FALSE(
        SetFileInformationByHandle(h, FileEndOfFileInfo, &eof, sizeof eof));
    ASSERT_EQ(GetLastError(), ERROR_USER_MAPPED_FILE);
    CloseHandle(h);
  }
#endif
  test_truncate_mapped(test_path("f"), 4096);

  /* Raw reads of the caller under mmf_guard: an error, not a crash. */
  const unsigned char *p = mmf_data(r);
  ASSERT_ERR(mmf_guard(r, read_far_byte, (void *)(p + 600000)), MMF_ETRUNCATED);
  ASSERT_EQ_U(mmf_size(r), 4096);
  /* The bytes that remain still read. */
  ASSERT_EQ(mmf_guard(r, read_far_byte, (void *)(p + 100)),
            p[100] == 0xff ? 5 : 6);
  unsigned char buf[16];
  ASSERT_OK(mmf_read(r, 4000, buf, 16));
  ASSERT_PAT(buf, 4000, 16);
  ASSERT_ERR(mmf_read(r, 600000, buf, 16), MMF_ERANGE);

  /* The library's own accesses on the other map: a write past the new
   * end. */
  ASSERT_ERR(mmf_write(w, 100000, "x", 1), MMF_ETRUNCATED);
  ASSERT_EQ_U(mmf_size(w), 0); /* the map starts past the end now */
  ASSERT_OK(mmf_close(w));
  ASSERT_OK(mmf_close(r));
  ASSERT_EQ_U(file_size(test_path("f")), 4096);
}

/* ------------------------------------------------------------------------ */
/* Non-ASCII paths                                                           */
/* ------------------------------------------------------------------------ */

/* "dïr-日本語" and "é-中文-файл.bin" in UTF-8. */
#define DIR_NAME "d\xc3\xafr-\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e"
#define FILE_NAME                                                              \
  "\xc3\xa9-\xe4\xb8\xad\xe6\x96\x87-\xd1\x84\xd0\xb0\xd0\xb9\xd0\xbb.bin"
#define FILE_NAME_W L"\u00e9-\u4e2d\u6587-\u0444\u0430\u0439\u043b.bin"

/* The directory at path holds exactly one entry, named FILE_NAME (on
 * Windows compared in UTF-16: the name reached the file system as Unicode,
 * not through a code page). */
static void check_name_on_disk(const char *dir) {
#ifdef _WIN32
  wchar_t wdir[1024], pattern[1100];
  ASSERT_GT(MultiByteToWideChar(CP_UTF8, 0, dir, -1, wdir, 1024), 0);
  /* Long paths need the \\?\ prefix, which wants an absolute path. */
  wcscpy(pattern, L"\\\\?\\");
  ASSERT_GT(GetFullPathNameW(wdir, 1000, pattern + 4, NULL), 0);
  wcscat(pattern, L"\\*");
  WIN32_FIND_DATAW fd;
  HANDLE h = FindFirstFileW(pattern, &fd);
  ASSERT_TRUE(h != INVALID_HANDLE_VALUE);
  int found = 0, others = 0;
  do {
    if (wcscmp(fd.cFileName, L".") == 0 || wcscmp(fd.cFileName, L"..") == 0)
      continue;
    if (wcscmp(fd.cFileName, FILE_NAME_W) == 0)
      found++;
    else
      others++;
  } while (FindNextFileW(h, &fd));
  FindClose(h);
#else
  DIR *d = opendir(dir);
  ASSERT_TRUE(d != NULL);
  int found = 0, others = 0;
  for (struct dirent *e; (e = readdir(d)) != NULL;) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    if (strcmp(e->d_name, FILE_NAME) == 0)
      found++;
    else
      others++;
  }
  closedir(d);
#endif
  ASSERT_EQ(found, 1);
  ASSERT_EQ(others, 0);
}

static void map_at_path(const char *dir, const char *path) {
  mmf_map *m = NULL;
  ASSERT_OK(mmf_open(
      &m, path, MMF_WRITE,
      &(mmf_options){.flags = MMF_CREATE, .offset = 3, .length = 70000}));
  fill_pat(mmf_data(m), 3, 70000);
  ASSERT_OK(mmf_close(m));
  check_name_on_disk(dir);
  ASSERT_EQ_U(file_size(path), 70003);
  static const int read_modes[] = {MMF_READ, MMF_COPY};
  for (int i = 0; i < 2; i++) {
    ASSERT_OK(mmf_open(&m, path, read_modes[i], &(mmf_options){.offset = 3}));
    ASSERT_PAT(mmf_data(m), 3, 70000);
    ASSERT_OK(mmf_close(m));
  }
  int fd = test_open(path, O_RDONLY);
  ASSERT_GE(fd, 0);
  ASSERT_OK(mmf_open_fd(&m, fd, MMF_READ, NULL));
  close(fd);
  ASSERT_EQ_U(mmf_size(m), 70003);
  ASSERT_OK(mmf_close(m));
}

TEST(non_ascii_paths) {
  char dir[1024], path[1100];
  snprintf(dir, sizeof dir, "%s", test_path(DIR_NAME));
  test_mkdir(dir);
  snprintf(path, sizeof path, "%s/%s", dir, FILE_NAME);
  map_at_path(dir, path);

  /* Another name of the same script is another file. */
  mmf_map *m = NULL;
  char other[1100];
  snprintf(other, sizeof other, "%s/%s", dir,
           "\xc3\xa8-\xe4\xb8\xad\xe6\x96\x87-\xd1\x84\xd0\xb0\xd0\xb9\xd0\xbb"
           ".bin"); /* è instead of é */
  ASSERT_ERR(mmf_open(&m, other, MMF_READ, NULL), MMF_ENOENT);
  ASSERT_NULL(m);

  /* Bytes that are not UTF-8: Windows cannot name such a file
   * (MMF_EINVAL); on POSIX a name is bytes, and this one does not exist. */
  snprintf(other, sizeof other, "%s/bad-\xff\xfe.bin", dir);
#ifdef _WIN32
  ASSERT_ERR(mmf_open(&m, other, MMF_READ, NULL), MMF_EINVAL);
#else
  ASSERT_ERR(mmf_open(&m, other, MMF_READ, NULL), MMF_ENOENT);
#endif
  ASSERT_NULL(m);
}

/* A non-ASCII path longer than MAX_PATH (260) characters. */
TEST(non_ascii_long_path) {
  char dir[2048];
  snprintf(dir, sizeof dir, "%s", test_dir());
  for (int i = 0; i < 6; i++) {
    size_t n = strlen(dir);
    /* 10 x "dïr-日本語": 80 characters, 150 bytes of UTF-8. */
    snprintf(dir + n, sizeof dir - n, "/%d", i);
    for (int k = 0; k < 10; k++) {
      n = strlen(dir);
      snprintf(dir + n, sizeof dir - n, "%s", DIR_NAME);
    }
    test_mkdir(dir);
  }
  char path[2100];
  snprintf(path, sizeof path, "%s/%s", dir, FILE_NAME);
  test_note("path of %zu bytes", strlen(path));
  map_at_path(dir, path);
}
