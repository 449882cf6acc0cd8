/*
 * test_main.c - the runner and helpers behind test.h.
 */
#include "test.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ------------------------------------------------------------------------ */
/* Registry                                                                  */
/* ------------------------------------------------------------------------ */

#define MAX_TESTS 512

typedef struct test_entry {
  const char *name;
  test_fn fn;
  const char *file;
} test_entry;

static test_entry tests[MAX_TESTS];
static int n_tests;

void test_register(const char *name, test_fn fn, const char *file) {
  if (n_tests == MAX_TESTS) {
    fprintf(stderr, "test_main: more than %d tests\n", MAX_TESTS);
    _exit(1);
  }
  tests[n_tests].name = name;
  tests[n_tests].fn = fn;
  tests[n_tests].file = file;
  n_tests++;
}

/* ------------------------------------------------------------------------ */
/* Temporary directory and ending a test                                     */
/* ------------------------------------------------------------------------ */

static pid_t owner_pid;
static char tmp_dir[PATH_MAX];

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
  static char bufs[16][PATH_MAX];
  static unsigned next;
  char *b = bufs[next++ % 16];
  snprintf(b, PATH_MAX, "%s/%s", test_dir(), name);
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
    fprintf(stderr, " (in child %ld)", (long)getpid());
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

/* ------------------------------------------------------------------------ */
/* Process state                                                             */
/* ------------------------------------------------------------------------ */

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

#if defined(__SANITIZE_ADDRESS__)
#define TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_ASAN 1
#endif
#endif

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

bool test_under_asan(void) {
#ifdef TEST_ASAN
  return true;
#else
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
      if (needle == NULL ? !sanitizer_line(line) : strstr(line, needle) != NULL)
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

/* ------------------------------------------------------------------------ */
/* Runner                                                                    */
/* ------------------------------------------------------------------------ */

static int run_one(const test_entry *t) {
  owner_pid = getpid();
  tmp_dir[0] = '\0';
  t->fn();
  fflush(stdout);
  remove_tmp_dir();
  return 0;
}

static int run_all(const char *prog) {
  int passed = 0, failed = 0, skipped = 0;
  for (int i = 0; i < n_tests; i++) {
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
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
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

int main(int argc, char **argv) {
  /* Tests write to files the kernel may refuse to extend; they want the
   * error code, not the signal. */
  signal(SIGXFSZ, SIG_IGN);
  /* A child writing into a FIFO whose reader left gets EPIPE instead. */
  signal(SIGPIPE, SIG_IGN);
  setvbuf(stdout, NULL, _IOLBF, 0);

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
