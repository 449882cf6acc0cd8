/*
 * test_main.c - the runner and helpers behind test.h.
 *
 * The portable parts come first; each helper that asks the OS has a POSIX
 * and a Windows version, kept next to each other.
 */
#include "test.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#ifdef _WIN32
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>
#include <io.h>
#include <winioctl.h>
#else
#include <dirent.h>
#include <ftw.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#endif

#ifndef PATH_MAX
#define PATH_MAX 4096
#endif
/* Room for test paths: the directory plus a long name (test_open makes a
 * 400-byte one) in UTF-8. */
#define TEST_PATH_MAX (PATH_MAX + 1024)

#ifdef _WIN32
/* run_crashing_child() and the runner encode how a Windows "child" ended
 * the way a POSIX wait status does: exit code in bits 8-15, or a signal
 * number in bits 0-6 (SIGSEGV for an access violation, SIGBUS for an
 * in-page error). */
#define WIFEXITED(st) (((st)&0x7f) == 0)
#define WEXITSTATUS(st) (((st) >> 8) & 0xff)
#define WIFSIGNALED(st) (((st)&0x7f) != 0)
#define WTERMSIG(st) ((st)&0x7f)
static const char *strsignal(int sig) {
  return sig == SIGSEGV  ? "access violation"
         : sig == SIGBUS ? "in-page error"
                         : "exception";
}
#endif

/* ------------------------------------------------------------------------ */
/* Registry                                                                  */
/* ------------------------------------------------------------------------ */

#define MAX_TESTS 512
#define MAX_CHILDREN 64

typedef struct test_entry {
  const char *name;
  test_fn fn;
  const char *file;
} test_entry;

typedef struct child_entry {
  const char *name;
  test_child_fn fn;
} child_entry;

static test_entry tests[MAX_TESTS];
static int n_tests;
static child_entry children[MAX_CHILDREN];
static int n_children;

void test_register(const char *name, test_fn fn, const char *file) {
  if (n_tests == MAX_TESTS) {
    fprintf(stderr, "test_main: more than %d tests\n", MAX_TESTS);
    exit(1);
  }
  tests[n_tests].name = name;
  tests[n_tests].fn = fn;
  tests[n_tests].file = file;
  n_tests++;
}

void test_register_child(const char *name, test_child_fn fn) {
  if (n_children == MAX_CHILDREN) {
    fprintf(stderr, "test_main: more than %d children\n", MAX_CHILDREN);
    exit(1);
  }
  children[n_children].name = name;
  children[n_children].fn = fn;
  n_children++;
}

static test_child_fn find_child(const char *name) {
  for (int i = 0; i < n_children; i++)
    if (strcmp(children[i].name, name) == 0)
      return children[i].fn;
  return NULL;
}

/* ------------------------------------------------------------------------ */
/* Windows: UTF-8 and UTF-16                                                 */
/* ------------------------------------------------------------------------ */

#ifdef _WIN32
/* The calls below end the test on failure, so they may allocate freely:
 * the process is short-lived. */
static wchar_t *widen(const char *s) {
  int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, NULL, 0);
  if (n <= 0)
    FAIL("path is not valid UTF-8: %s", s);
  wchar_t *w = malloc((size_t)n * sizeof *w);
  if (w == NULL)
    FAIL("out of memory");
  MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, w, n);
  return w;
}

/* A UTF-8 path as the wide API wants it: paths of MAX_PATH - 12 characters
 * or more are made absolute and given the \\?\ prefix, so they are not
 * cut at MAX_PATH. */
static wchar_t *wpath(const char *path) {
  wchar_t *w = widen(path);
  if (wcslen(w) < MAX_PATH - 12 || wcsncmp(w, L"\\\\", 2) == 0)
    return w;
  DWORD n = GetFullPathNameW(w, 0, NULL, NULL);
  wchar_t *full = malloc(((size_t)n + 8) * sizeof *full);
  if (n == 0 || full == NULL)
    FAIL("GetFullPathName %s failed", path);
  wcscpy(full, L"\\\\?\\");
  if (GetFullPathNameW(w, n, full + 4, NULL) == 0)
    FAIL("GetFullPathName %s failed", path);
  free(w);
  return full;
}

static char *narrow(const wchar_t *w) {
  int n = WideCharToMultiByte(CP_UTF8, 0, w, -1, NULL, 0, NULL, NULL);
  char *s = malloc(n > 0 ? (size_t)n : 1);
  if (s == NULL)
    FAIL("out of memory");
  if (n <= 0)
    s[0] = '\0';
  else
    WideCharToMultiByte(CP_UTF8, 0, w, -1, s, n, NULL, NULL);
  return s;
}

/* "message (code)" for a GetLastError() value, in a static buffer. */
static const char *win_error(DWORD e) {
  static char buf[512];
  char msg[400];
  DWORD n =
      FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS,
                     NULL, e, 0, msg, sizeof msg, NULL);
  while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r' ||
                   msg[n - 1] == ' ' || msg[n - 1] == '.'))
    n--;
  msg[n] = '\0';
  snprintf(buf, sizeof buf, "%s (error %lu)", n ? msg : "unknown error",
           (unsigned long)e);
  return buf;
}
#endif

/* ------------------------------------------------------------------------ */
/* Temporary directory and ending a test                                     */
/* ------------------------------------------------------------------------ */

static char tmp_dir[TEST_PATH_MAX];

#ifdef _WIN32

/* Set in a process started by test_spawn(). */
static bool in_child;

bool test_in_main_process(void) { return !in_child; }

static void remove_tree(const wchar_t *dir) {
  size_t len = wcslen(dir);
  wchar_t *pattern = malloc((len + 3) * sizeof *pattern);
  if (pattern == NULL)
    return;
  memcpy(pattern, dir, len * sizeof *pattern);
  memcpy(pattern + len, L"\\*", 3 * sizeof *pattern);
  WIN32_FIND_DATAW fd;
  HANDLE h = FindFirstFileW(pattern, &fd);
  free(pattern);
  if (h != INVALID_HANDLE_VALUE) {
    do {
      if (wcscmp(fd.cFileName, L".") == 0 || wcscmp(fd.cFileName, L"..") == 0)
        continue;
      size_t n = wcslen(fd.cFileName);
      wchar_t *child = malloc((len + n + 2) * sizeof *child);
      if (child == NULL)
        break;
      memcpy(child, dir, len * sizeof *child);
      child[len] = L'\\';
      memcpy(child + len + 1, fd.cFileName, (n + 1) * sizeof *child);
      SetFileAttributesW(child, FILE_ATTRIBUTE_NORMAL);
      if ((fd.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) &&
          !(fd.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT)) {
        remove_tree(child);
      } else if (fd.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) {
        RemoveDirectoryW(child);
      } else {
        DeleteFileW(child);
      }
      free(child);
    } while (FindNextFileW(h, &fd));
    FindClose(h);
  }
  RemoveDirectoryW(dir);
}

static void remove_tmp_dir(void) {
  if (tmp_dir[0] == '\0' || !test_in_main_process())
    return;
  wchar_t *w = widen(tmp_dir);
  tmp_dir[0] = '\0';
  remove_tree(w);
  free(w);
}

const char *test_dir(void) {
  if (tmp_dir[0] != '\0')
    return tmp_dir;
  if (!test_in_main_process()) {
    /* A child works in its parent's directory (see test_spawn). */
    const char *d = getenv("MMF_TEST_DIR");
    if (d == NULL || d[0] == '\0')
      test_fail(__FILE__, __LINE__, "child without MMF_TEST_DIR");
    snprintf(tmp_dir, sizeof tmp_dir, "%s", d);
    return tmp_dir;
  }
  wchar_t wbase[MAX_PATH + 1];
  DWORD n = GetTempPathW(MAX_PATH + 1, wbase);
  if (n == 0 || n > MAX_PATH)
    test_fail(__FILE__, __LINE__, "GetTempPath: %s", win_error(GetLastError()));
  while (n > 0 && (wbase[n - 1] == L'\\' || wbase[n - 1] == L'/'))
    wbase[--n] = L'\0';
  char *base = narrow(wbase);
  for (unsigned i = 0;; i++) {
    snprintf(tmp_dir, sizeof tmp_dir, "%s\\mmf-test-%lu-%lu-%u", base,
             (unsigned long)GetCurrentProcessId(),
             (unsigned long)GetTickCount(), i);
    wchar_t *w = widen(tmp_dir);
    BOOL ok = CreateDirectoryW(w, NULL);
    DWORD e = GetLastError();
    free(w);
    if (ok)
      break;
    if (e != ERROR_ALREADY_EXISTS || i == 1000) {
      tmp_dir[0] = '\0';
      test_fail(__FILE__, __LINE__, "CreateDirectory under %s: %s", base,
                win_error(e));
    }
  }
  free(base);
  return tmp_dir;
}

const char *test_path(const char *name) {
  static char bufs[16][TEST_PATH_MAX];
  static unsigned next;
  char *b = bufs[next++ % 16];
  if (snprintf(b, TEST_PATH_MAX, "%s\\%s", test_dir(), name) >= TEST_PATH_MAX)
    FAIL("test_path: name too long");
  return b;
}

static void end_test(int code) {
  fflush(stdout);
  fflush(stderr);
  remove_tmp_dir(); /* only in the main process */
  exit(code);
}

static long self_id(void) { return (long)GetCurrentProcessId(); }

#else /* POSIX */

static pid_t owner_pid;

bool test_in_main_process(void) { return getpid() == owner_pid; }

static int remove_entry(const char *path, const struct stat *st, int flag,
                        struct FTW *ftw) {
  (void)st;
  (void)flag;
  (void)ftw;
  if (remove(path) != 0) {
    /* A test may leave a directory without write permission behind. */
    chmod(path, 0700);
    remove(path);
  }
  return 0;
}

static void remove_tmp_dir(void) {
  if (tmp_dir[0] == '\0' || !test_in_main_process())
    return;
  chmod(tmp_dir, 0700);
  nftw(tmp_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
  tmp_dir[0] = '\0';
}

const char *test_dir(void) {
  if (tmp_dir[0] == '\0') {
    const char *base = getenv("TMPDIR");
    if (base == NULL || base[0] == '\0')
      base = "/tmp";
    snprintf(tmp_dir, sizeof tmp_dir, "%s/mmf-test-XXXXXX", base);
    if (mkdtemp(tmp_dir) == NULL) {
      int e = errno;
      tmp_dir[0] = '\0';
      test_fail(__FILE__, __LINE__, "mkdtemp under %s: %s", base, strerror(e));
    }
  }
  return tmp_dir;
}

const char *test_path(const char *name) {
  static char bufs[16][TEST_PATH_MAX];
  static unsigned next;
  char *b = bufs[next++ % 16];
  if (snprintf(b, TEST_PATH_MAX, "%s/%s", test_dir(), name) >= TEST_PATH_MAX)
    FAIL("test_path: name too long");
  return b;
}

static void end_test(int code) {
  fflush(stdout);
  fflush(stderr);
  if (test_in_main_process()) {
    remove_tmp_dir();
    exit(code);
  }
  /* A forked child: no cleanup, no exit handlers of the parent's state. */
  _exit(code);
}

static long self_id(void) { return (long)getpid(); }

#endif

static char context[1024];

void test_context(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(context, sizeof context, fmt, ap);
  va_end(ap);
}

void test_context_clear(void) { context[0] = '\0'; }

void test_fail(const char *file, int line, const char *fmt, ...) {
  va_list ap;
  fflush(stdout);
  fprintf(stderr, "%s:%d: ", file, line);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  if (!test_in_main_process())
    fprintf(stderr, " (in child %ld)", self_id());
  fputc('\n', stderr);
  if (context[0] != '\0')
    fprintf(stderr, "  while: %s\n", context);
  end_test(1);
  abort(); /* not reached */
}

void test_skip(const char *fmt, ...) {
  va_list ap;
  printf("SKIP: ");
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  printf("\n");
  end_test(77);
  abort(); /* not reached */
}

void test_note(const char *fmt, ...) {
  va_list ap;
  printf("# ");
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  printf("\n");
  fflush(stdout);
}

/* ------------------------------------------------------------------------ */
/* Assertion helpers                                                         */
/* ------------------------------------------------------------------------ */

bool test_is_mmf_error(int code) {
#define TEST__IS(name, value, text)                                            \
  if (code == (value))                                                         \
    return true;
  MMF_ERRNO_MAP(TEST__IS)
#undef TEST__IS
  return false;
}

void test_assert_memeq(const char *file, int line, const char *ea,
                       const char *eb, const void *a, const void *b, size_t n) {
  const unsigned char *pa = a, *pb = b;
  if (n == 0)
    return;
  if (pa == NULL || pb == NULL)
    test_fail(file, line, "ASSERT_MEMEQ(%s, %s, %zu) failed: %p vs %p", ea, eb,
              n, a, b);
  for (size_t i = 0; i < n; i++)
    if (pa[i] != pb[i])
      test_fail(file, line,
                "ASSERT_MEMEQ(%s, %s, %zu) failed at byte %zu: 0x%02x vs "
                "0x%02x",
                ea, eb, n, i, pa[i], pb[i]);
}

void test_assert_pat(const char *file, int line, const char *expr,
                     const void *p, uint64_t off, size_t n) {
  const unsigned char *b = p;
  if (n == 0)
    return;
  if (b == NULL)
    test_fail(file, line, "ASSERT_PAT(%s, %" PRIu64 ", %zu): NULL pointer",
              expr, off, n);
  for (size_t i = 0; i < n; i++)
    if (b[i] != pat(off + i))
      test_fail(file, line,
                "ASSERT_PAT(%s, %" PRIu64 ", %zu) failed at byte %zu (file "
                "offset %" PRIu64 "): 0x%02x, expected 0x%02x",
                expr, off, n, i, off + i, b[i], pat(off + i));
}

void test_assert_zero(const char *file, int line, const char *expr,
                      const void *p, size_t n) {
  const unsigned char *b = p;
  if (n == 0)
    return;
  if (b == NULL)
    test_fail(file, line, "ASSERT_ZERO(%s, %zu): NULL pointer", expr, n);
  for (size_t i = 0; i < n; i++)
    if (b[i] != 0)
      test_fail(file, line, "ASSERT_ZERO(%s, %zu) failed at byte %zu: 0x%02x",
                expr, n, i, b[i]);
}

static void describe_status(char *buf, size_t n, int st) {
  if (WIFEXITED(st))
    snprintf(buf, n, "exit %d", WEXITSTATUS(st));
  else if (WIFSIGNALED(st))
    snprintf(buf, n, "signal %d (%s)", WTERMSIG(st), strsignal(WTERMSIG(st)));
  else
    snprintf(buf, n, "status 0x%x", (unsigned)st);
}

void test_assert_exited(const char *file, int line, const char *expr, int st,
                        int code) {
  if (!WIFEXITED(st) || WEXITSTATUS(st) != code) {
    char got[128];
    describe_status(got, sizeof got, st);
    test_fail(file, line, "ASSERT_EXITED(%s, %d) failed: child ended with %s",
              expr, code, got);
  }
}

void test_assert_signaled(const char *file, int line, const char *expr, int st,
                          int sig) {
  if (!WIFSIGNALED(st) || WTERMSIG(st) != sig) {
    char got[128];
    describe_status(got, sizeof got, st);
    test_fail(file, line,
              "ASSERT_SIGNALED(%s, %d) failed: child ended with %s, expected "
              "signal %d (%s)",
              expr, sig, got, sig, strsignal(sig));
  }
}

/* ------------------------------------------------------------------------ */
/* Files                                                                     */
/* ------------------------------------------------------------------------ */

void fill_pat(void *buf, uint64_t off, size_t n) {
  unsigned char *b = buf;
  for (size_t i = 0; i < n; i++)
    b[i] = pat(off + i);
}

#ifdef _WIN32

/* Open path with the sharing mmf itself uses (read, write, delete), so the
 * helpers work on files the test has mapped. */
static HANDLE open_handle(const char *path, DWORD access, DWORD disposition) {
  wchar_t *w = wpath(path);
  HANDLE h = CreateFileW(w, access,
                         FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                         NULL, disposition, FILE_ATTRIBUTE_NORMAL, NULL);
  DWORD e = GetLastError();
  free(w);
  if (h == INVALID_HANDLE_VALUE)
    FAIL("open %s: %s", path, win_error(e));
  return h;
}

static void set_end(HANDLE h, const char *path, uint64_t size) {
  FILE_END_OF_FILE_INFO eof;
  eof.EndOfFile.QuadPart = (LONGLONG)size;
  if (!SetFileInformationByHandle(h, FileEndOfFileInfo, &eof, sizeof eof))
    FAIL("set the size of %s to %" PRIu64 ": %s", path, size,
         win_error(GetLastError()));
}

static void write_all(HANDLE h, const char *path, const void *data, size_t n,
                      uint64_t off) {
  const unsigned char *p = data;
  while (n > 0) {
    OVERLAPPED ov;
    memset(&ov, 0, sizeof ov);
    ov.Offset = (DWORD)off;
    ov.OffsetHigh = (DWORD)(off >> 32);
    DWORD chunk = n > (1u << 30) ? (1u << 30) : (DWORD)n, w = 0;
    if (!WriteFile(h, p, chunk, &w, &ov) || w == 0)
      FAIL("write %s: %s", path, win_error(GetLastError()));
    p += w;
    off += w;
    n -= w;
  }
}

void write_file(const char *path, const void *data, size_t n) {
  HANDLE h = open_handle(path, GENERIC_WRITE, CREATE_ALWAYS);
  if (data == NULL)
    set_end(h, path, n);
  else
    write_all(h, path, data, n, 0);
  CloseHandle(h);
}

void write_pattern(const char *path, uint64_t size) {
  unsigned char buf[65536];
  HANDLE h = open_handle(path, GENERIC_WRITE, CREATE_ALWAYS);
  for (uint64_t off = 0; off < size; off += sizeof buf) {
    size_t n = size - off < sizeof buf ? (size_t)(size - off) : sizeof buf;
    fill_pat(buf, off, n);
    write_all(h, path, buf, n, off);
  }
  CloseHandle(h);
}

void make_sparse(const char *path, uint64_t size) {
  HANDLE h = open_handle(path, GENERIC_WRITE, CREATE_ALWAYS);
  DWORD got;
  /* Not every file system has sparse files (FAT, Wine's Unix files are
   * sparse anyway); an extended file reads as zeros either way. */
  (void)DeviceIoControl(h, FSCTL_SET_SPARSE, NULL, 0, NULL, 0, &got, NULL);
  set_end(h, path, size);
  CloseHandle(h);
}

uint64_t file_size(const char *path) {
  WIN32_FILE_ATTRIBUTE_DATA a;
  wchar_t *w = wpath(path);
  BOOL ok = GetFileAttributesExW(w, GetFileExInfoStandard, &a);
  DWORD e = GetLastError();
  free(w);
  if (!ok)
    FAIL("stat %s: %s", path, win_error(e));
  return ((uint64_t)a.nFileSizeHigh << 32) | a.nFileSizeLow;
}

void read_at(const char *path, uint64_t off, void *buf, size_t n) {
  HANDLE h = open_handle(path, GENERIC_READ, OPEN_EXISTING);
  unsigned char *p = buf;
  while (n > 0) {
    OVERLAPPED ov;
    memset(&ov, 0, sizeof ov);
    ov.Offset = (DWORD)off;
    ov.OffsetHigh = (DWORD)(off >> 32);
    DWORD chunk = n > (1u << 30) ? (1u << 30) : (DWORD)n, r = 0;
    BOOL ok = ReadFile(h, p, chunk, &r, &ov);
    if (!ok || r == 0)
      FAIL("read %s at %" PRIu64 ": %s", path, off,
           ok || GetLastError() == ERROR_HANDLE_EOF
               ? "end of file"
               : win_error(GetLastError()));
    p += r;
    off += r;
    n -= r;
  }
  CloseHandle(h);
}

void write_at(const char *path, uint64_t off, const void *buf, size_t n) {
  HANDLE h = open_handle(path, GENERIC_WRITE, OPEN_EXISTING);
  write_all(h, path, buf, n, off);
  CloseHandle(h);
}

void test_truncate(const char *path, uint64_t size) {
  HANDLE h = open_handle(path, GENERIC_WRITE, OPEN_EXISTING);
  set_end(h, path, size);
  CloseHandle(h);
}

/* kernel32's wine_get_unix_file_name: the Unix path of a DOS path, in a
 * buffer from the process heap. Only Wine has it. */
typedef char *(__cdecl *unix_name_fn)(const wchar_t *dos);

static unix_name_fn wine_unix_name(void) {
  return (unix_name_fn)(void (*)(void))GetProcAddress(
      GetModuleHandleW(L"kernel32.dll"), "wine_get_unix_file_name");
}

void test_need_truncate_mapped(void) {
  if (wine_unix_name() == NULL)
    SKIP("Windows does not let any program shrink a mapped file "
         "(ERROR_USER_MAPPED_FILE); this test runs under Wine, where the "
         "host's truncate can");
}

/* Wine 8 leaks a handle when CreateProcess starts a host program: its
 * executable file, here /usr/bin/truncate (and leaves PROCESS_INFORMATION
 * zeroed). Tests count their handles, so close it. No handle of the test's
 * own names that file. */
static bool is_host_truncate(HANDLE h) {
  static const wchar_t tail[] = L"\\usr\\bin\\truncate";
  const size_t tn = sizeof tail / sizeof tail[0] - 1;
  wchar_t name[128];
  if (GetFileType(h) != FILE_TYPE_DISK)
    return false;
  DWORD n = GetFinalPathNameByHandleW(h, name, 128, FILE_NAME_NORMALIZED);
  return n >= tn && n < 128 && _wcsicmp(name + n - tn, tail) == 0;
}

static void close_host_truncate_handles(HANDLE likely) {
  if (likely != NULL && is_host_truncate(likely)) {
    CloseHandle(likely);
    return;
  }
  /* Another thread took the slot first: look at every handle (as
   * scan_handles does). */
  int misses = 0;
  for (uintptr_t v = 4; misses < 512 && v < ((uintptr_t)1 << 24); v += 4) {
    DWORD flags;
    if (!GetHandleInformation((HANDLE)v, &flags)) {
      misses++;
      continue;
    }
    misses = 0;
    if (is_host_truncate((HANDLE)v))
      CloseHandle((HANDLE)v);
  }
}

/* Serialises the host truncates of threads (the race test truncates from
 * several), so one's search for leaked handles never meets another's. */
static SRWLOCK host_truncate_lock = SRWLOCK_INIT;

/* Shrink path to size with the host's /usr/bin/truncate and wait until it
 * has finished. */
static void truncate_from_host(const char *path, uint64_t size) {
  static volatile LONG serial;
  unix_name_fn unix_name = wine_unix_name();
  test_need_truncate_mapped();
  wchar_t *w = wpath(path);
  char *upath = unix_name(w);
  free(w);
  if (upath == NULL)
    FAIL("wine_get_unix_file_name %s failed", path);
  /* Wine does not wait for host programs (there is no process handle to
   * wait on), and the new size shows before the truncation has finished:
   * Linux sets the size, drops the page cache past it, and only then the
   * modification time, which fault classification compares. So truncate
   * also makes a marker file, which it does only once done with path. */
  char suffix[64], done[TEST_PATH_MAX + 64], cmd[2 * TEST_PATH_MAX + 256];
  snprintf(suffix, sizeof suffix, ".truncated-%lu-%ld",
           (unsigned long)GetCurrentProcessId(),
           (long)InterlockedIncrement(&serial));
  snprintf(done, sizeof done, "%s%s", path, suffix);
  snprintf(cmd, sizeof cmd, "/usr/bin/truncate -s %" PRIu64 " \"%s\" \"%s%s\"",
           size, upath, upath, suffix);
  HeapFree(GetProcessHeap(), 0, upath);
  STARTUPINFOA si;
  PROCESS_INFORMATION pi;
  memset(&si, 0, sizeof si);
  memset(&pi, 0, sizeof pi);
  si.cb = sizeof si;
  AcquireSRWLockExclusive(&host_truncate_lock);
  /* Handles are given out lowest free value first: the one a handle made
   * and closed now had is where the leaked one will most likely go. */
  HANDLE slot = NULL;
  if (DuplicateHandle(GetCurrentProcess(), GetCurrentProcess(),
                      GetCurrentProcess(), &slot, 0, FALSE,
                      DUPLICATE_SAME_ACCESS))
    CloseHandle(slot);
  BOOL started =
      CreateProcessA(NULL, cmd, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi);
  DWORD e = GetLastError();
  if (started) {
    if (pi.hThread != NULL)
      CloseHandle(pi.hThread);
    if (pi.hProcess != NULL)
      CloseHandle(pi.hProcess);
    close_host_truncate_handles(slot);
  }
  ReleaseSRWLockExclusive(&host_truncate_lock);
  if (!started)
    FAIL("cannot start the host's truncate to shrink mapped %s: %s", path,
         win_error(e));
  /* The truncate takes a few milliseconds. Poll without sleeping only
   * briefly: on a busy machine spinning takes the CPU the truncate needs. */
  ULONGLONG start = GetTickCount64();
  for (int i = 0; !test_exists(done); i++) {
    if (GetTickCount64() - start > 10000)
      FAIL("the host's truncate -s %" PRIu64 " %s has not finished in 10 s",
           size, path);
    Sleep(i < 10 ? 0 : 1);
  }
  test_unlink(done);
  if (file_size(path) != size)
    FAIL("the host's truncate -s %" PRIu64 " left %s at %" PRIu64 " bytes",
         size, path, file_size(path));
}

void test_truncate_mapped(const char *path, uint64_t size) {
  HANDLE h = open_handle(path, GENERIC_WRITE, OPEN_EXISTING);
  FILE_END_OF_FILE_INFO eof;
  eof.EndOfFile.QuadPart = (LONGLONG)size;
  BOOL ok = SetFileInformationByHandle(h, FileEndOfFileInfo, &eof, sizeof eof);
  DWORD e = GetLastError();
  CloseHandle(h);
  if (ok)
    return;
  if (e != ERROR_USER_MAPPED_FILE)
    FAIL("set the size of %s to %" PRIu64 ": %s", path, size, win_error(e));
  truncate_from_host(path, size);
}

void test_unlink(const char *path) {
  wchar_t *w = wpath(path);
  BOOL ok = DeleteFileW(w);
  DWORD e = GetLastError();
  free(w);
  if (!ok && e != ERROR_FILE_NOT_FOUND && e != ERROR_PATH_NOT_FOUND)
    FAIL("remove %s: %s", path, win_error(e));
}

bool test_exists(const char *path) {
  wchar_t *w = wpath(path);
  DWORD a = GetFileAttributesW(w);
  free(w);
  return a != INVALID_FILE_ATTRIBUTES;
}

void test_mkdir(const char *path) {
  wchar_t *w = wpath(path);
  BOOL ok = CreateDirectoryW(w, NULL);
  DWORD e = GetLastError();
  free(w);
  if (!ok)
    FAIL("mkdir %s: %s", path, win_error(e));
}

uint64_t file_allocated(const char *path) {
  HANDLE h = open_handle(path, FILE_READ_ATTRIBUTES, OPEN_EXISTING);
  FILE_STANDARD_INFO info;
  if (!GetFileInformationByHandleEx(h, FileStandardInfo, &info, sizeof info))
    FAIL("file information of %s: %s", path, win_error(GetLastError()));
  CloseHandle(h);
  return (uint64_t)info.AllocationSize.QuadPart;
}

int test_open(const char *path, int flags) {
  wchar_t *w = wpath(path);
  int fd = _wopen(w, flags | _O_BINARY | _O_NOINHERIT, _S_IREAD | _S_IWRITE);
  int e = errno;
  free(w);
  errno = e;
  return fd;
}

#else /* POSIX */

static void write_all(int fd, const char *path, const void *data, size_t n,
                      uint64_t off) {
  const unsigned char *p = data;
  while (n > 0) {
    ssize_t w = pwrite(fd, p, n, (off_t)off);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      FAIL("write %s: %s", path, strerror(errno));
    p += w;
    off += (uint64_t)w;
    n -= (size_t)w;
  }
}

void write_file(const char *path, const void *data, size_t n) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    FAIL("open %s: %s", path, strerror(errno));
  if (data == NULL) {
    if (ftruncate(fd, (off_t)n) != 0)
      FAIL("ftruncate %s: %s", path, strerror(errno));
  } else {
    write_all(fd, path, data, n, 0);
  }
  close(fd);
}

void write_pattern(const char *path, uint64_t size) {
  unsigned char buf[65536];
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    FAIL("open %s: %s", path, strerror(errno));
  for (uint64_t off = 0; off < size; off += sizeof buf) {
    size_t n = size - off < sizeof buf ? (size_t)(size - off) : sizeof buf;
    fill_pat(buf, off, n);
    write_all(fd, path, buf, n, off);
  }
  close(fd);
}

void make_sparse(const char *path, uint64_t size) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    FAIL("open %s: %s", path, strerror(errno));
  if (ftruncate(fd, (off_t)size) != 0)
    FAIL("ftruncate %s to %" PRIu64 ": %s", path, size, strerror(errno));
  close(fd);
}

uint64_t file_size(const char *path) {
  struct stat st;
  if (stat(path, &st) != 0)
    FAIL("stat %s: %s", path, strerror(errno));
  return (uint64_t)st.st_size;
}

void read_at(const char *path, uint64_t off, void *buf, size_t n) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    FAIL("open %s: %s", path, strerror(errno));
  unsigned char *p = buf;
  while (n > 0) {
    ssize_t r = pread(fd, p, n, (off_t)off);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      FAIL("pread %s at %" PRIu64 ": %s", path, off,
           r == 0 ? "end of file" : strerror(errno));
    p += r;
    off += (uint64_t)r;
    n -= (size_t)r;
  }
  close(fd);
}

void write_at(const char *path, uint64_t off, const void *buf, size_t n) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    FAIL("open %s: %s", path, strerror(errno));
  write_all(fd, path, buf, n, off);
  close(fd);
}

void test_truncate(const char *path, uint64_t size) {
  if (truncate(path, (off_t)size) != 0)
    FAIL("truncate %s to %" PRIu64 ": %s", path, size, strerror(errno));
}

void test_truncate_mapped(const char *path, uint64_t size) {
  test_truncate(path, size);
}

void test_need_truncate_mapped(void) {}

void test_unlink(const char *path) {
  if (unlink(path) != 0 && errno != ENOENT)
    FAIL("unlink %s: %s", path, strerror(errno));
}

bool test_exists(const char *path) { return access(path, F_OK) == 0; }

void test_mkdir(const char *path) {
  if (mkdir(path, 0755) != 0)
    FAIL("mkdir %s: %s", path, strerror(errno));
}

uint64_t file_allocated(const char *path) {
  struct stat st;
  if (stat(path, &st) != 0)
    FAIL("stat %s: %s", path, strerror(errno));
  return (uint64_t)st.st_blocks * 512;
}

int test_open(const char *path, int flags) {
  return open(path, flags | O_CLOEXEC, 0644);
}

#endif

/* ------------------------------------------------------------------------ */
/* Process state                                                             */
/* ------------------------------------------------------------------------ */

#if defined(__SANITIZE_ADDRESS__)
#define TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_ASAN 1
#endif
#endif

bool test_under_asan(void) {
#ifdef TEST_ASAN
  return true;
#else
  return false;
#endif
}

#ifdef _WIN32

size_t test_page_size(void) {
  SYSTEM_INFO si;
  GetSystemInfo(&si);
  return si.dwPageSize;
}

void test_sleep_ms(unsigned ms) { Sleep(ms); }

/* Count the open handles of this process by asking GetHandleInformation
 * about every handle value (multiples of 4) up to 512 values past the last
 * open one: handle tables hand out low values, reusing freed ones, so a
 * test process's handles are packed at the bottom. */
static int scan_handles(bool inheritable_only) {
  int n = 0, misses = 0;
  for (uintptr_t v = 4; misses < 512 && v < ((uintptr_t)1 << 24); v += 4) {
    DWORD flags;
    if (!GetHandleInformation((HANDLE)v, &flags)) {
      misses++;
      continue;
    }
    misses = 0;
    if (!inheritable_only || (flags & HANDLE_FLAG_INHERIT))
      n++;
  }
  return n;
}

int count_open_fds(void) {
  DWORD n = 0;
  /* Wine answers 0 here. (Its system handle table,
   * NtQuerySystemInformation(SystemExtendedHandleInformation), would have
   * the count, but asking for it while other processes come and go
   * crashes the Wine 8 wineserver.) */
  if (GetProcessHandleCount(GetCurrentProcess(), &n) && n > 0)
    return (int)n;
  return scan_handles(false);
}

int count_inheritable_fds(void) { return scan_handles(true); }

bool test_under_wine(void) {
  return GetProcAddress(GetModuleHandleW(L"ntdll.dll"), "wine_get_version") !=
         NULL;
}

typedef DWORD(WINAPI *mapped_name_fn)(HANDLE process, void *addr, wchar_t *name,
                                      DWORD size);

/* Lower-case ASCII, '/' as '\'. */
static void fold_path(char *s) {
  for (; *s; s++) {
    if (*s == '/')
      *s = '\\';
    else if (*s >= 'A' && *s <= 'Z')
      *s = (char)(*s - 'A' + 'a');
  }
}

/* Walk the address space by allocation; count them all (needle NULL) or
 * the file views whose name holds needle. */
static int scan_allocations(const char *needle) {
  mapped_name_fn mapped_name = NULL;
  char want[TEST_PATH_MAX];
  if (needle != NULL) {
    mapped_name = (mapped_name_fn)(void (*)(void))GetProcAddress(
        GetModuleHandleW(L"kernel32.dll"), "K32GetMappedFileNameW");
    if (mapped_name == NULL)
      FAIL("no K32GetMappedFileNameW to name mappings with");
    /* Mapped names are NT paths (\Device\HarddiskVolume1\..., or
     * \??\C:\... under Wine): compare without the drive letter. */
    if (needle[0] != '\0' && needle[1] == ':')
      needle += 2;
    snprintf(want, sizeof want, "%s", needle);
    fold_path(want);
  }
  int n = 0;
  void *last_base = NULL;
  MEMORY_BASIC_INFORMATION mbi;
  for (const char *p = NULL; VirtualQuery(p, &mbi, sizeof mbi) == sizeof mbi;) {
    if (mbi.State != MEM_FREE && mbi.AllocationBase != last_base) {
      last_base = mbi.AllocationBase;
      if (needle == NULL) {
        n++;
      } else if (mbi.Type == MEM_MAPPED) {
        wchar_t name[TEST_PATH_MAX];
        if (mapped_name(GetCurrentProcess(), mbi.AllocationBase, name,
                        TEST_PATH_MAX) > 0) {
          char *s = narrow(name);
          fold_path(s);
          n += strstr(s, want) != NULL;
          free(s);
        }
      }
    }
    const char *next = (const char *)mbi.BaseAddress + mbi.RegionSize;
    if (next <= p)
      break;
    p = next;
  }
  return n;
}

int count_mappings(void) { return scan_allocations(NULL); }

int count_mappings_of(const char *needle) { return scan_allocations(needle); }

long proc_status_kb(const char *key) {
  (void)key;
  return -1;
}

const char *test_proc_copied(const char *path) {
  (void)path;
  return NULL;
}

bool test_populate_ignored(void) { return false; }

bool test_mincore_refuses_prot_none(void) { return false; }

bool test_rlimit_as_ignored(void) { return false; }

bool test_blocked_fault_hangs(void) { return false; }

#else /* POSIX */

size_t test_page_size(void) { return (size_t)sysconf(_SC_PAGESIZE); }

void test_sleep_ms(unsigned ms) {
  struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

int count_open_fds(void) {
  DIR *d = opendir("/proc/self/fd");
  if (d == NULL)
    FAIL("opendir /proc/self/fd: %s", strerror(errno));
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL)
    if (e->d_name[0] != '.')
      n++;
  closedir(d);
  return n - 1; /* the directory's own descriptor */
}

int count_inheritable_fds(void) {
  int n = 0;
  for (int fd = 0; fd < 4096; fd++) {
    int flags = fcntl(fd, F_GETFD);
    if (flags >= 0 && !(flags & FD_CLOEXEC))
      n++;
  }
  return n;
}

bool test_under_wine(void) { return false; }

/* AddressSanitizer's allocator maps memory inside its own reserved range
 * whenever it likes (x86-64: 0x600000000000 to 0x640000000000), which would
 * make mapping counts noisy; its lines are not counted. */
static bool sanitizer_line(const char *line) {
#if defined(TEST_ASAN) && defined(__x86_64__)
  unsigned long long lo = strtoull(line, NULL, 16);
  return lo >= 0x600000000000ull && lo < 0x640000000000ull;
#else
  (void)line;
  return false;
#endif
}

/* musl's allocator (mallocng) maps a fresh private anonymous region for a
 * small allocation whenever its groups are empty, and unmaps it again as
 * soon as the last block in it is freed, so even a warmed-up open/close
 * changes the count. Under a C library other than glibc such lines (rw-p,
 * no inode, no name) are not counted: file maps and placement
 * reservations (---p) still are, and the glibc legs count private
 * anonymous memory too. */
static bool allocator_line(const char *line) {
#if defined(__linux__) && !defined(__GLIBC__)
  char perms[8] = "";
  unsigned long inode = 1;
  int name = -1;
  if (sscanf(line, "%*s %7s %*s %*s %lu %n", perms, &inode, &name) < 2)
    return false;
  return strcmp(perms, "rw-p") == 0 && inode == 0 &&
         (name < 0 || line[name] == '\0');
#else
  (void)line;
  return false;
#endif
}

/* Reads /proc/self/maps with read() into a stack buffer, so counting does
 * not allocate (an allocation could itself add a mapping). */
static int scan_maps(const char *needle) {
  int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    FAIL("open /proc/self/maps: %s", strerror(errno));
  char buf[8192];
  char line[4096 + 1];
  size_t len = 0;
  int lines = 0;
  ssize_t r;
  while ((r = read(fd, buf, sizeof buf)) > 0) {
    for (ssize_t i = 0; i < r; i++) {
      if (buf[i] != '\n') {
        if (len < sizeof line - 1)
          line[len++] = buf[i];
        continue;
      }
      line[len] = '\0';
      if (needle == NULL ? !sanitizer_line(line) && !allocator_line(line)
                         : strstr(line, needle) != NULL)
        lines++;
      len = 0;
    }
  }
  close(fd);
  return lines;
}

int count_mappings(void) { return scan_maps(NULL); }

int count_mappings_of(const char *needle) { return scan_maps(needle); }

long proc_status_kb(const char *key) {
  char buf[16384];
  int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  size_t len = 0;
  ssize_t r;
  while (len < sizeof buf - 1 &&
         (r = read(fd, buf + len, sizeof buf - 1 - len)) > 0)
    len += (size_t)r;
  close(fd);
  buf[len] = '\0';
  size_t klen = strlen(key);
  for (char *p = buf; p != NULL && *p != '\0';) {
    if (strncmp(p, key, klen) == 0 && p[klen] == ':')
      return strtol(p + klen + 1, NULL, 10);
    p = strchr(p, '\n');
    if (p != NULL)
      p++;
  }
  return -1;
}

const char *test_proc_copied(const char *path) {
  static char why[256];
  struct stat st;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return NULL;
  int r = fstat(fd, &st);
  close(fd);
  if (r != 0 || !S_ISREG(st.st_mode) || st.st_size == 0)
    return NULL;
  snprintf(why, sizeof why,
           "%s opens as a regular file of %lld bytes here, a copy the "
           "emulator (qemu-user) wrote, not the kernel's size-0 file",
           path, (long long)st.st_size);
  return why;
}

/* Resident pages of the 16-page anonymous mapping at p. */
static int resident_pages(void *p) {
  unsigned char vec[16];
  int n = 0;
  if (mincore(p, 16 * test_page_size(), (void *)vec) != 0)
    return -1;
  for (int i = 0; i < 16; i++)
    n += vec[i] & 1;
  return n;
}

bool test_populate_ignored(void) {
#ifdef MAP_POPULATE
  size_t len = 16 * test_page_size();
  void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  if (p == MAP_FAILED)
    return false;
  int n = resident_pages(p);
  munmap(p, len);
  return n >= 0 && n < 16;
#else
  return false;
#endif
}

bool test_mincore_refuses_prot_none(void) {
  size_t len = 16 * test_page_size();
  void *p = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED)
    return false;
  bool refused = resident_pages(p) < 0 && errno == ENOMEM;
  munmap(p, len);
  return refused;
}

/* Runs fn in a child; its exit status, or 128 + the signal that ended it. */
static int probe_in_child(int (*fn)(void)) {
  int st;
  pid_t pid = fork();
  if (pid < 0)
    return -1;
  if (pid == 0)
    _exit(fn());
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* 1 when a 1 GiB RLIMIT_AS still lets a 2 GiB reservation through. */
static int reserve_past_rlimit_as(void) {
  struct rlimit rl = {(rlim_t)1 << 30, (rlim_t)1 << 30};
  if (setrlimit(RLIMIT_AS, &rl) != 0)
    return 2;
  return mmap(NULL, (size_t)1 << 31, PROT_NONE,
              MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0) != MAP_FAILED;
}

bool test_rlimit_as_ignored(void) {
  return probe_in_child(reserve_past_rlimit_as) == 1;
}

/* Reads a page its file no longer holds with every signal but SIGALRM
 * blocked: the kernel ends the process with SIGBUS; the alarm ends a
 * hang. */
static int fault_while_blocked(void) {
  size_t ps = test_page_size();
  sigset_t all;
  volatile unsigned char *p;
  int fd = open(test_path("blocked-fault-probe"), O_RDWR | O_CREAT, 0600);
  if (fd < 0 || ftruncate(fd, (off_t)(2 * ps)) != 0)
    return 2;
  p = mmap(NULL, 2 * ps, PROT_READ, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED || ftruncate(fd, 0) != 0)
    return 2;
  sigfillset(&all);
  sigdelset(&all, SIGALRM);
  pthread_sigmask(SIG_BLOCK, &all, NULL);
  alarm(3);
  return p[ps];
}

bool test_blocked_fault_hangs(void) {
  bool hangs = probe_in_child(fault_while_blocked) == 128 + SIGALRM;
  unlink(test_path("blocked-fault-probe"));
  return hangs;
}

#endif

/* ------------------------------------------------------------------------ */
/* Child processes                                                           */
/* ------------------------------------------------------------------------ */

int test_run_child(const char *name, ...) {
  const char *args[64];
  int n = 0;
  va_list ap;
  va_start(ap, name);
  for (const char *a; (a = va_arg(ap, const char *)) != NULL;) {
    if (n == 63)
      FAIL("test_run_child %s: more than 63 arguments", name);
    args[n++] = a;
  }
  va_end(ap);
  args[n] = NULL;
  return test_wait(test_spawn(name, args));
}

#ifdef _WIN32

/* Append s to the command line at *w as one argument, quoted the way the C
 * runtime (and parse_command_line below) split it: backslashes are literal
 * except before a quote. */
static void append_arg(wchar_t **w, const wchar_t *s) {
  wchar_t *o = *w;
  *o++ = L' ';
  *o++ = L'"';
  for (;; s++) {
    size_t bs = 0;
    while (*s == L'\\') {
      bs++;
      s++;
    }
    if (*s == L'\0') {
      for (size_t i = 0; i < 2 * bs; i++)
        *o++ = L'\\';
      break;
    }
    if (*s == L'"') {
      for (size_t i = 0; i < 2 * bs + 1; i++)
        *o++ = L'\\';
    } else {
      for (size_t i = 0; i < bs; i++)
        *o++ = L'\\';
    }
    *o++ = *s;
  }
  *o++ = L'"';
  *o = L'\0';
  *w = o;
}

/* Split the wide command line into UTF-8 arguments (the C runtime's argv is
 * in the ANSI code page, which cannot hold every path). */
static char **parse_command_line(int *argc) {
  const wchar_t *p = GetCommandLineW();
  size_t cap = wcslen(p) + 1;
  char **argv = calloc(cap + 1, sizeof *argv);
  wchar_t *arg = malloc(cap * sizeof *arg);
  if (argv == NULL || arg == NULL)
    FAIL("out of memory");
  int n = 0;
  for (;;) {
    while (*p == L' ' || *p == L'\t')
      p++;
    if (*p == L'\0')
      break;
    size_t len = 0;
    bool quoted = false;
    for (;;) {
      size_t bs = 0;
      while (*p == L'\\') {
        bs++;
        p++;
      }
      if (*p == L'"') {
        for (size_t i = 0; i < bs / 2; i++)
          arg[len++] = L'\\';
        if (bs % 2) {
          arg[len++] = L'"';
        } else {
          quoted = !quoted;
        }
        p++;
        continue;
      }
      for (size_t i = 0; i < bs; i++)
        arg[len++] = L'\\';
      if (*p == L'\0' || (!quoted && (*p == L' ' || *p == L'\t')))
        break;
      arg[len++] = *p++;
    }
    arg[len] = L'\0';
    argv[n++] = narrow(arg);
  }
  free(arg);
  *argc = n;
  return argv;
}

test_proc test_spawn(const char *name, const char *const *args) {
  if (find_child(name) == NULL)
    FAIL("test_spawn: no child named %s", name);
  /* The child uses this directory (test_dir() in the child). */
  wchar_t *dir = widen(test_dir());
  SetEnvironmentVariableW(L"MMF_TEST_DIR", dir);
  free(dir);

  static wchar_t exe[32768];
  DWORD n = GetModuleFileNameW(NULL, exe, 32768);
  if (n == 0 || n >= 32768)
    FAIL("GetModuleFileName: %s", win_error(GetLastError()));
  size_t len = 3 * (n + 8);
  wchar_t *wname = widen(name);
  len += 3 * (wcslen(wname) + 4);
  wchar_t **wargs = calloc(65, sizeof *wargs);
  for (int i = 0; args != NULL && args[i] != NULL; i++) {
    if (i == 64)
      FAIL("test_spawn %s: more than 64 arguments", name);
    wargs[i] = widen(args[i]);
    len += 2 * wcslen(wargs[i]) + 4;
  }
  wchar_t *cmd = malloc((len + 16) * sizeof *cmd), *w = cmd;
  if (cmd == NULL)
    FAIL("out of memory");
  *w = L'\0';
  append_arg(&w, exe);
  append_arg(&w, L"--child");
  append_arg(&w, wname);
  for (int i = 0; wargs[i] != NULL; i++) {
    append_arg(&w, wargs[i]);
    free(wargs[i]);
  }
  free(wargs);
  free(wname);

  /* The child writes to our stdout and stderr (CTest shows its messages);
   * those handles are inheritable, the library's and test_open's are not. */
  STARTUPINFOW si;
  memset(&si, 0, sizeof si);
  si.cb = sizeof si;
  si.dwFlags = STARTF_USESTDHANDLES;
  si.hStdInput = GetStdHandle(STD_INPUT_HANDLE);
  si.hStdOutput = GetStdHandle(STD_OUTPUT_HANDLE);
  si.hStdError = GetStdHandle(STD_ERROR_HANDLE);
  PROCESS_INFORMATION pi;
  fflush(stdout);
  fflush(stderr);
  if (!CreateProcessW(exe, cmd + 1, NULL, NULL, TRUE, 0, NULL, NULL, &si, &pi))
    FAIL("CreateProcess for child %s: %s", name, win_error(GetLastError()));
  free(cmd);
  CloseHandle(pi.hThread);
  return (test_proc){(intptr_t)pi.hProcess};
}

int test_wait(test_proc p) {
  HANDLE h = (HANDLE)p.id;
  /* CTest's timeout would end only this process and leave the child. */
  if (WaitForSingleObject(h, 120000) != WAIT_OBJECT_0) {
    TerminateProcess(h, 124);
    CloseHandle(h);
    FAIL("child did not end within 120 s");
  }
  DWORD code = 0;
  GetExitCodeProcess(h, &code);
  CloseHandle(h);
  if (code >= 0xC0000000u)
    FAIL("child died of exception 0x%08lx", (unsigned long)code);
  return (int)code;
}

void test_kill(test_proc p) {
  HANDLE h = (HANDLE)p.id;
  TerminateProcess(h, 137);
  WaitForSingleObject(h, INFINITE);
  CloseHandle(h);
}

pid_t start_child(int (*fn)(void *arg), void *arg) {
  (void)fn;
  (void)arg;
  SKIP("needs fork(), which Windows does not have");
}

int wait_child(pid_t pid) {
  (void)pid;
  SKIP("needs fork(), which Windows does not have");
}

int run_in_child(int (*fn)(void *arg), void *arg) {
  (void)fn;
  (void)arg;
  SKIP("needs fork(), which Windows does not have");
}

/* run_crashing_child: fn runs here; a vectored handler catches its access
 * violation or in-page error and resumes the thread in probe_land(), below
 * the faulting frame (the way src/os/win/guard_win.c does), which jumps
 * back into run_crashing_child. */
static void *probe_jump[5]; /* __builtin_setjmp's buffer */
static volatile LONG probe_armed;
static volatile DWORD probe_thread;
static volatile DWORD probe_code;
static PVOID probe_handler_handle;

static __attribute__((noinline, noreturn)) void probe_land(void) {
  __builtin_longjmp(probe_jump, 1);
}

static LONG CALLBACK probe_handler(EXCEPTION_POINTERS *ep) {
  DWORD code = ep->ExceptionRecord->ExceptionCode;
  if (!probe_armed || GetCurrentThreadId() != probe_thread)
    return EXCEPTION_CONTINUE_SEARCH;
  if (code != EXCEPTION_ACCESS_VIOLATION && code != EXCEPTION_IN_PAGE_ERROR)
    return EXCEPTION_CONTINUE_SEARCH;
  probe_armed = 0;
  probe_code = code;
  CONTEXT *ctx = ep->ContextRecord;
#if defined(__x86_64__)
  ctx->Rsp = ((ctx->Rsp - 256) & ~(DWORD64)15) - 8;
  ctx->Rip = (DWORD64)(uintptr_t)probe_land;
#elif defined(__i386__)
  ctx->Esp = ((ctx->Esp - 256) & ~(DWORD)15) - 4;
  ctx->Eip = (DWORD)(uintptr_t)probe_land;
#elif defined(__aarch64__)
  ctx->Sp = (ctx->Sp - 256) & ~(DWORD64)15;
  ctx->Pc = (DWORD64)(uintptr_t)probe_land;
#else
#error "run_crashing_child: unknown Windows architecture"
#endif
  return EXCEPTION_CONTINUE_EXECUTION;
}

int run_crashing_child(int (*fn)(void *arg), void *arg) {
  fflush(stdout);
  fflush(stderr);
  /* Last in the chain: mmf's guard, wherever it stands, sees faults first
   * and keeps those inside its guarded calls, as a forked child's signal
   * handlers would; only what nobody claims "kills" fn. */
  if (probe_handler_handle == NULL)
    probe_handler_handle = AddVectoredExceptionHandler(0, probe_handler);
  if (probe_handler_handle == NULL)
    FAIL("AddVectoredExceptionHandler failed");
  probe_code = 0;
  probe_thread = GetCurrentThreadId();
  if (__builtin_setjmp(probe_jump) == 0) {
    probe_armed = 1;
    int rc = fn(arg);
    probe_armed = 0;
    return (rc & 0xff) << 8;
  }
  return probe_code == EXCEPTION_IN_PAGE_ERROR ? SIGBUS : SIGSEGV;
}

#else /* POSIX */

test_proc test_spawn(const char *name, const char *const *args) {
  test_child_fn fn = find_child(name);
  if (fn == NULL)
    FAIL("test_spawn: no child named %s", name);
  (void)test_dir(); /* made here, so the child shares it */
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid < 0)
    FAIL("fork: %s", strerror(errno));
  if (pid == 0) {
    char *argv[66];
    int argc = 0;
    argv[argc++] = (char *)name;
    for (int i = 0; args != NULL && args[i] != NULL && argc < 65; i++)
      argv[argc++] = (char *)args[i];
    argv[argc] = NULL;
    end_test(fn(argc, argv));
  }
  return (test_proc){(intptr_t)pid};
}

int test_wait(test_proc p) {
  int st;
  while (waitpid((pid_t)p.id, &st, 0) < 0) {
    if (errno != EINTR)
      FAIL("waitpid %ld: %s", (long)p.id, strerror(errno));
  }
  if (WIFSIGNALED(st))
    FAIL("child died of signal %d (%s)", WTERMSIG(st), strsignal(WTERMSIG(st)));
  return WEXITSTATUS(st);
}

void test_kill(test_proc p) {
  int st;
  kill((pid_t)p.id, SIGKILL);
  while (waitpid((pid_t)p.id, &st, 0) < 0 && errno == EINTR) {
  }
}

pid_t start_child(int (*fn)(void *arg), void *arg) {
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid < 0)
    FAIL("fork: %s", strerror(errno));
  if (pid == 0)
    _exit(fn(arg));
  return pid;
}

int wait_child(pid_t pid) {
  int st;
  while (waitpid(pid, &st, 0) < 0) {
    if (errno != EINTR)
      FAIL("waitpid %ld: %s", (long)pid, strerror(errno));
  }
  return st;
}

int run_in_child(int (*fn)(void *arg), void *arg) {
  return wait_child(start_child(fn, arg));
}

int run_crashing_child(int (*fn)(void *arg), void *arg) {
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid < 0)
    FAIL("fork: %s", strerror(errno));
  if (pid == 0) {
    /* AddressSanitizer reports a SIGSEGV and exits 1; the test wants the
     * signal. Without it the program's handlers stay, so a fault outside
     * any guard must still kill through them. */
    if (test_under_asan()) {
      signal(SIGSEGV, SIG_DFL);
      signal(SIGBUS, SIG_DFL);
    }
    _exit(fn(arg));
  }
  return wait_child(pid);
}

#endif

/* ------------------------------------------------------------------------ */
/* Streams: FIFOs and pipes                                                  */
/* ------------------------------------------------------------------------ */

#ifdef _WIN32

/* The writer: serve one reader on the pipe argv[1], then write argv[2]
 * bytes of pat() into it and wait until they were read. */
TEST_CHILD(fifo_writer) {
  ASSERT_EQ(argc, 3);
  wchar_t *name = widen(argv[1]);
  const uint64_t n = strtoull(argv[2], NULL, 10);
  /* Duplex, so a reader asking for write access gets the pipe and can be
   * told it is a stream (MMF_WRITE on it is MMF_ENODEV, as on a FIFO). */
  HANDLE h = CreateNamedPipeW(name, PIPE_ACCESS_DUPLEX,
                              PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT,
                              1, 65536, 65536, 0, NULL);
  if (h == INVALID_HANDLE_VALUE)
    FAIL("CreateNamedPipe %s: %s", argv[1], win_error(GetLastError()));
  if (!ConnectNamedPipe(h, NULL) && GetLastError() != ERROR_PIPE_CONNECTED)
    return 3;
  unsigned char buf[4096];
  for (uint64_t off = 0; off < n;) {
    DWORD k = n - off < sizeof buf ? (DWORD)(n - off) : (DWORD)sizeof buf, w;
    fill_pat(buf, off, k);
    if (!WriteFile(h, buf, k, &w, NULL))
      return 4; /* the reader went away */
    off += w;
  }
  /* Wait until the reader has read everything, then close as a FIFO's
   * writer does: the reader sees ERROR_BROKEN_PIPE, the end of input.
   * (DisconnectNamedPipe would give it ERROR_PIPE_NOT_CONNECTED.) */
  FlushFileBuffers(h);
  CloseHandle(h);
  return 0;
}

void test_fifo_start(test_fifo *f, const char *name, uint64_t n) {
  static unsigned seq;
  char count[32];
  snprintf(f->path, sizeof f->path, "\\\\.\\pipe\\mmf-test-%lu-%u-%s",
           (unsigned long)GetCurrentProcessId(), seq++, name);
  snprintf(count, sizeof count, "%" PRIu64, n);
  const char *args[] = {f->path, count, NULL};
  f->writer = test_spawn("fifo_writer", args);
  /* WaitNamedPipe fails at once while the pipe does not exist yet. */
  wchar_t *w = widen(f->path);
  for (int i = 0; !WaitNamedPipeW(w, 100); i++) {
    if (i == 300)
      FAIL("the pipe %s did not appear within 30 s", f->path);
    if (WaitForSingleObject((HANDLE)f->writer.id, 0) == WAIT_OBJECT_0)
      FAIL("the writer of %s ended early", f->path);
    Sleep(10);
  }
  free(w);
}

void test_pipe(int fds[2]) {
  if (_pipe(fds, 65536, _O_BINARY | _O_NOINHERIT) != 0)
    FAIL("_pipe: %s", strerror(errno));
}

#else /* POSIX */

/* The writer: open the FIFO argv[1] (which waits for a reader) and write
 * argv[2] bytes of pat() into it. */
TEST_CHILD(fifo_writer) {
  ASSERT_EQ(argc, 3);
  const uint64_t n = strtoull(argv[2], NULL, 10);
  unsigned char buf[4096];
  int fd = open(argv[1], O_WRONLY);
  if (fd < 0)
    return 3;
  for (uint64_t off = 0; off < n;) {
    size_t k = n - off < sizeof buf ? (size_t)(n - off) : sizeof buf;
    fill_pat(buf, off, k);
    ssize_t r = write(fd, buf, k);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0)
      return errno == EPIPE ? 4 : 3;
    off += (uint64_t)r;
  }
  close(fd);
  return 0;
}

void test_fifo_start(test_fifo *f, const char *name, uint64_t n) {
  char count[32];
  snprintf(f->path, sizeof f->path, "%s", test_path(name));
  test_unlink(f->path);
  if (mkfifo(f->path, 0600) != 0)
    FAIL("mkfifo %s: %s", f->path, strerror(errno));
  snprintf(count, sizeof count, "%" PRIu64, n);
  const char *args[] = {f->path, count, NULL};
  f->writer = test_spawn("fifo_writer", args);
}

void test_pipe(int fds[2]) {
  if (pipe(fds) != 0)
    FAIL("pipe: %s", strerror(errno));
  fcntl(fds[0], F_SETFD, FD_CLOEXEC);
  fcntl(fds[1], F_SETFD, FD_CLOEXEC);
}

#endif

int test_fifo_wait(test_fifo *f) { return test_wait(f->writer); }

void test_fifo_stop(test_fifo *f) { test_kill(f->writer); }

/* ------------------------------------------------------------------------ */
/* Threads                                                                   */
/* ------------------------------------------------------------------------ */

#ifdef _WIN32

typedef struct thread_start {
  void *(*fn)(void *arg);
  void *arg;
} thread_start;

static DWORD WINAPI thread_main(void *p) {
  thread_start s = *(thread_start *)p;
  free(p);
  s.fn(s.arg);
  return 0;
}

test_thread test_thread_start(void *(*fn)(void *arg), void *arg) {
  thread_start *s = malloc(sizeof *s);
  if (s == NULL)
    FAIL("out of memory");
  s->fn = fn;
  s->arg = arg;
  HANDLE h = CreateThread(NULL, 0, thread_main, s, 0, NULL);
  if (h == NULL)
    FAIL("CreateThread: %s", win_error(GetLastError()));
  return (test_thread){(intptr_t)h};
}

void test_thread_join(test_thread t) {
  WaitForSingleObject((HANDLE)t.id, INFINITE);
  CloseHandle((HANDLE)t.id);
}

#else /* POSIX */

test_thread test_thread_start(void *(*fn)(void *arg), void *arg) {
  pthread_t t;
  int e = pthread_create(&t, NULL, fn, arg);
  if (e != 0)
    FAIL("pthread_create: %s", strerror(e));
  /* pthread_t is an integer or a pointer on every system the tests run. */
  return (test_thread){(intptr_t)t};
}

void test_thread_join(test_thread t) {
  int e = pthread_join((pthread_t)t.id, NULL);
  if (e != 0)
    FAIL("pthread_join: %s", strerror(e));
}

#endif

/* ------------------------------------------------------------------------ */
/* Runner                                                                    */
/* ------------------------------------------------------------------------ */

static int run_one(const test_entry *t) {
#ifdef _WIN32
  /* mmf keeps the last OS error in a thread-local variable; mingw-w64
   * emulates those with a lock, a handle, made on first use in the
   * process. Make it now, so descriptor counts see only mmf's own. */
  (void)mmf_last_os_error(NULL);
#else
  owner_pid = getpid();
#endif
  tmp_dir[0] = '\0';
  t->fn();
  fflush(stdout);
  remove_tmp_dir();
  return 0;
}

#ifdef _WIN32

/* A test's own process: this program run with the test's name. Returns
 * the status in the encoding of describe_status(). */
static int run_test_process(const char *name) {
  static wchar_t exe[32768];
  DWORD n = GetModuleFileNameW(NULL, exe, 32768);
  wchar_t *wname = widen(name);
  wchar_t *cmd = malloc((3 * (n + wcslen(wname)) + 16) * sizeof *cmd), *w = cmd;
  if (cmd == NULL)
    return 1 << 8;
  append_arg(&w, exe);
  append_arg(&w, wname);
  free(wname);
  STARTUPINFOW si;
  memset(&si, 0, sizeof si);
  si.cb = sizeof si;
  si.dwFlags = STARTF_USESTDHANDLES;
  si.hStdInput = GetStdHandle(STD_INPUT_HANDLE);
  si.hStdOutput = GetStdHandle(STD_OUTPUT_HANDLE);
  si.hStdError = GetStdHandle(STD_ERROR_HANDLE);
  PROCESS_INFORMATION pi;
  fflush(stdout);
  BOOL ok =
      CreateProcessW(exe, cmd + 1, NULL, NULL, TRUE, 0, NULL, NULL, &si, &pi);
  free(cmd);
  if (!ok) {
    fprintf(stderr, "CreateProcess: %s\n", win_error(GetLastError()));
    return 1 << 8;
  }
  CloseHandle(pi.hThread);
  DWORD code = 124;
  if (WaitForSingleObject(pi.hProcess, 120000) != WAIT_OBJECT_0)
    TerminateProcess(pi.hProcess, 124);
  else
    GetExitCodeProcess(pi.hProcess, &code);
  CloseHandle(pi.hProcess);
  if (code == (DWORD)EXCEPTION_IN_PAGE_ERROR)
    return SIGBUS;
  if (code >= 0xC0000000u)
    return SIGSEGV;
  return (int)(code & 0xff) << 8;
}

#endif

static int run_all(const char *prog) {
  int passed = 0, failed = 0, skipped = 0;
  for (int i = 0; i < n_tests; i++) {
    int st;
#ifdef _WIN32
    st = run_test_process(tests[i].name);
#else
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
      perror("fork");
      return 1;
    }
    if (pid == 0) {
      alarm(120);
      exit(run_one(&tests[i]));
    }
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
#endif
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
      passed++;
      printf("ok   %s\n", tests[i].name);
    } else if (WIFEXITED(st) && WEXITSTATUS(st) == 77) {
      skipped++;
      printf("skip %s\n", tests[i].name);
    } else {
      char how[128];
      failed++;
      describe_status(how, sizeof how, st);
      printf("FAIL %s (%s; rerun: %s %s)\n", tests[i].name, how, prog,
             tests[i].name);
    }
  }
  printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
  return failed == 0 ? 0 : 1;
}

#ifdef _WIN32

/* A crash outside run_crashing_child: say what and where, then end with
 * the exception code (no Wine debugger, no error box). */
static LONG WINAPI report_crash(EXCEPTION_POINTERS *ep) {
  const EXCEPTION_RECORD *r = ep->ExceptionRecord;
  fflush(stdout);
  fprintf(stderr, "unhandled exception 0x%08lx at %p",
          (unsigned long)r->ExceptionCode, r->ExceptionAddress);
  if ((r->ExceptionCode == EXCEPTION_ACCESS_VIOLATION ||
       r->ExceptionCode == EXCEPTION_IN_PAGE_ERROR) &&
      r->NumberParameters >= 2)
    fprintf(stderr, " (%s %p)",
            r->ExceptionInformation[0] == 1 ? "writing" : "reading",
            (void *)r->ExceptionInformation[1]);
  fprintf(stderr, "%s\n", test_in_main_process() ? "" : " in a child");
  fflush(stderr);
  TerminateProcess(GetCurrentProcess(), r->ExceptionCode);
  return EXCEPTION_EXECUTE_HANDLER;
}

/* prog --child NAME ARGS...: a child started by test_spawn(). */
static int run_child_mode(void) {
  int argc;
  char **argv = parse_command_line(&argc);
  in_child = true;
  /* argv: prog --child NAME args... */
  test_child_fn fn = argc >= 3 ? find_child(argv[2]) : NULL;
  if (fn == NULL) {
    fprintf(stderr, "no child named %s\n", argc >= 3 ? argv[2] : "(none)");
    return 1;
  }
  end_test(fn(argc - 2, argv + 2));
  return 1; /* not reached */
}

#endif

int main(int argc, char **argv) {
#ifdef _WIN32
  SetErrorMode(SEM_FAILCRITICALERRORS | SEM_NOGPFAULTERRORBOX |
               SEM_NOOPENFILEERRORBOX);
  SetUnhandledExceptionFilter(report_crash);
  /* msvcrt treats line buffering as full buffering. */
  setvbuf(stdout, NULL, _IONBF, 0);
  if (argc >= 2 && strcmp(argv[1], "--child") == 0)
    return run_child_mode();
#else
  /* Tests write to files the kernel may refuse to extend; they want the
   * error code, not the signal. */
  signal(SIGXFSZ, SIG_IGN);
  /* A child writing into a FIFO whose reader left gets EPIPE instead. */
  signal(SIGPIPE, SIG_IGN);
  setvbuf(stdout, NULL, _IOLBF, 0);
#endif

  if (argc == 1)
    return run_all(argv[0]);
  if (argc == 2 && strcmp(argv[1], "--list") == 0) {
    for (int i = 0; i < n_tests; i++)
      printf("%s\n", tests[i].name);
    return 0;
  }
  if (argc == 2) {
    for (int i = 0; i < n_tests; i++)
      if (strcmp(tests[i].name, argv[1]) == 0)
        return run_one(&tests[i]);
    fprintf(stderr, "%s: no test named %s\n", argv[0], argv[1]);
    return 1;
  }
  fprintf(stderr, "usage: %s [--list | TEST]\n", argv[0]);
  return 1;
}
