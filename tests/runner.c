/*
 * runner.c - the portable half of the test framework behind test.h:
 * registration, ending a test, the assertion helpers, the test's scratch
 * directory, running each test in a process of its own, the summary and
 * main(). What asks the OS lives in runner_posix.c or runner_win.c, behind
 * runner.h.
 */
#include "runner.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

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
    fprintf(stderr, "runner: more than %d tests\n", MAX_TESTS);
    exit(1);
  }
  tests[n_tests].name = name;
  tests[n_tests].fn = fn;
  tests[n_tests].file = file;
  n_tests++;
}

void test_register_child(const char *name, test_child_fn fn) {
  if (n_children == MAX_CHILDREN) {
    fprintf(stderr, "runner: more than %d children\n", MAX_CHILDREN);
    exit(1);
  }
  children[n_children].name = name;
  children[n_children].fn = fn;
  n_children++;
}

test_child_fn runner_find_child(const char *name) {
  for (int i = 0; i < n_children; i++)
    if (strcmp(children[i].name, name) == 0)
      return children[i].fn;
  return NULL;
}

/* ------------------------------------------------------------------------ */
/* The test's process and its scratch directory                              */
/* ------------------------------------------------------------------------ */

/* The process running the test (0 before a test runs, and in a child that
 * test_spawn started as a new program); a forked child has another id. */
static long owner_pid;

bool test_in_main_process(void) {
  return owner_pid != 0 && runner_os_pid() == owner_pid;
}

static char tmp_dir[TEST_PATH_MAX];

static void remove_tmp_dir(void) {
  static char dir[TEST_PATH_MAX];
  if (tmp_dir[0] == '\0' || !test_in_main_process())
    return;
  /* Forget it first: a failure while removing must not come back here. */
  memcpy(dir, tmp_dir, sizeof dir);
  tmp_dir[0] = '\0';
  runner_os_remove_dir(dir);
}

const char *test_dir(void) {
  if (tmp_dir[0] != '\0')
    return tmp_dir;
  /* A child that is a program of its own works in its parent's directory
   * (see test_spawn); a forked one already has it. */
  const char *d = test_in_main_process() ? NULL : getenv("MMF_TEST_DIR");
  if (d != NULL && d[0] != '\0')
    snprintf(tmp_dir, sizeof tmp_dir, "%s", d);
  else
    runner_os_make_dir(tmp_dir, sizeof tmp_dir);
  return tmp_dir;
}

const char *test_path(const char *name) {
  static char bufs[16][TEST_PATH_MAX];
  static unsigned next;
  char *b = bufs[next++ % 16];
  if (snprintf(b, TEST_PATH_MAX, "%s%c%s", test_dir(), runner_os_separator,
               name) >= TEST_PATH_MAX)
    FAIL("test_path: name too long");
  return b;
}

void runner_end(int code) {
  fflush(stdout);
  fflush(stderr);
  if (!test_in_main_process())
    runner_os_exit_child(code);
  runner_os_end_children();
  remove_tmp_dir();
  exit(code);
}

/* ------------------------------------------------------------------------ */
/* Ending a test                                                             */
/* ------------------------------------------------------------------------ */

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
    fprintf(stderr, " (in child %ld)", runner_os_pid());
  fputc('\n', stderr);
  if (context[0] != '\0')
    fprintf(stderr, "  while: %s\n", context);
  runner_end(1);
  abort(); /* not reached */
}

void test_skip(const char *fmt, ...) {
  va_list ap;
  printf("SKIP: ");
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  printf("\n");
  runner_end(77);
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
  int code, sig;
  runner_os_decode_status(st, &code, &sig);
  if (code >= 0)
    snprintf(buf, n, "exit %d", code);
  else if (sig >= 0)
    snprintf(buf, n, "signal %d (%s)", sig, runner_os_signal_name(sig));
  else
    snprintf(buf, n, "status 0x%x", (unsigned)st);
}

void test_assert_exited(const char *file, int line, const char *expr, int st,
                        int code) {
  int got_code, got_sig;
  runner_os_decode_status(st, &got_code, &got_sig);
  if (got_code != code) {
    char got[128];
    describe_status(got, sizeof got, st);
    test_fail(file, line, "ASSERT_EXITED(%s, %d) failed: child ended with %s",
              expr, code, got);
  }
}

void test_assert_signaled(const char *file, int line, const char *expr, int st,
                          int sig) {
  int got_code, got_sig;
  runner_os_decode_status(st, &got_code, &got_sig);
  if (got_sig != sig) {
    char got[128];
    describe_status(got, sizeof got, st);
    test_fail(file, line,
              "ASSERT_SIGNALED(%s, %d) failed: child ended with %s, expected "
              "signal %d (%s)",
              expr, sig, got, sig, runner_os_signal_name(sig));
  }
}

void fill_pat(void *buf, uint64_t off, size_t n) {
  unsigned char *b = buf;
  for (size_t i = 0; i < n; i++)
    b[i] = pat(off + i);
}

/* ------------------------------------------------------------------------ */
/* Build and children                                                        */
/* ------------------------------------------------------------------------ */

bool test_under_asan(void) {
#ifdef TEST_ASAN
  return true;
#else
  return false;
#endif
}

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

int test_fifo_wait(test_fifo *f) { return test_wait(f->writer); }

void test_fifo_stop(test_fifo *f) { test_kill(f->writer); }

/* ------------------------------------------------------------------------ */
/* Runner                                                                    */
/* ------------------------------------------------------------------------ */

/* Run test name here, in the process that is the test's own. */
static int run_here(const char *name) {
  const test_entry *t = NULL;
  for (int i = 0; i < n_tests && t == NULL; i++)
    if (strcmp(tests[i].name, name) == 0)
      t = &tests[i];
  if (t == NULL) {
    fprintf(stderr, "no test named %s\n", name);
    return 1;
  }
  runner_os_before_test();
  owner_pid = runner_os_pid();
  tmp_dir[0] = '\0';
  t->fn();
  fflush(stdout);
  remove_tmp_dir();
  return 0;
}

static int run_all(const char *prog) {
  int passed = 0, failed = 0, skipped = 0;
  for (int i = 0; i < n_tests; i++) {
    int st = runner_os_run_alone(tests[i].name, run_here), code, sig;
    runner_os_decode_status(st, &code, &sig);
    if (code == 0) {
      passed++;
      printf("ok   %s\n", tests[i].name);
    } else if (code == 77) {
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

/* prog --child NAME ARGS...: a child that test_spawn started as a program
 * of its own (Windows, which has no fork()). */
static int run_child(int argc, char **argv) {
  test_child_fn fn = runner_find_child(argv[2]);
  if (fn == NULL) {
    fprintf(stderr, "no child named %s\n", argv[2]);
    return 1;
  }
  runner_end(fn(argc - 2, argv + 2));
}

int main(int argc, char **argv) {
  argv = runner_os_start(&argc, argv);
  if (argc >= 3 && strcmp(argv[1], "--child") == 0)
    return run_child(argc, argv);
  if (argc == 1)
    return run_all(argv[0]);
  if (argc == 2 && strcmp(argv[1], "--list") == 0) {
    for (int i = 0; i < n_tests; i++)
      printf("%s\n", tests[i].name);
    return 0;
  }
  if (argc == 2)
    return run_here(argv[1]);
  fprintf(stderr, "usage: %s [--list | TEST]\n", argv[0]);
  return 1;
}

int count_threads_settled(int at_most) {
  int n = count_threads();
  for (int i = 0; i < 2000 && n > at_most; i++) {
    test_sleep_ms(1);
    n = count_threads();
  }
  return n;
}

/* ------------------------------------------------------------------------ */
/* Random inputs and fed pipes                                               */
/* ------------------------------------------------------------------------ */

uint64_t test_rand_next(uint64_t *state) {
  uint64_t x = *state;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return *state = x;
}

uint64_t test_rand(void) {
  static uint64_t state = 0x9E3779B97F4A7C15u;
  return test_rand_next(&state);
}

static void *feed_pipe(void *arg) {
  test_fed_pipe *f = arg;
  uint64_t r = 0x1234567u + f->n;
  size_t i = 0, k;
  long wr;
  while (i < f->n) {
    k = 1 + (size_t)(test_rand_next(&r) % f->max_chunk);
    if (k > f->n - i)
      k = f->n - i;
    wr = (long)write(f->fd, f->data + i, (unsigned)k);
    if (wr < 0 && errno == EINTR)
      continue;
    if (wr <= 0)
      break; /* the reader closed its end: the test has what it wanted */
    i += (size_t)wr;
    if (f->pause_ms)
      test_sleep_ms(f->pause_ms);
  }
  close(f->fd);
  return NULL;
}

int test_fed_pipe_start(test_fed_pipe *f, const void *data, size_t n,
                        size_t max_chunk, unsigned pause_ms) {
  int fds[2];
  test_pipe(fds);
  f->fd = fds[1];
  f->data = data;
  f->n = n;
  f->max_chunk = max_chunk ? max_chunk : 1;
  f->pause_ms = pause_ms;
  f->writer = test_thread_start(feed_pipe, f);
  return fds[0];
}

void test_fed_pipe_join(test_fed_pipe *f) { test_thread_join(f->writer); }
