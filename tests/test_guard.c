/*
 * test_guard.c - the fault guard living with the rest of the program.
 *
 * A fault the guard does not own must reach whatever the program had
 * before mmf, exactly as that expects: a real crash stays a crash (NULL
 * dereference, SIGBUS outside any guard, kill -BUS), an SA_SIGINFO handler
 * gets the original siginfo and context, a plain handler gets the signal,
 * SIG_IGN ignores sent signals, SIG_DFL kills. A handler installed after
 * mmf chains to it. mmf_guard() catches only faults in its own map, guards
 * nest, and the guard works on small thread stacks and with an
 * application's sigaltstack.
 *
 * Every test that expects a death, or installs handlers, does so in a
 * forked child, so that the test's own process stays clean.
 *
 * Windows. The guard is a vectored exception handler, so what concerns
 * signal dispositions, sigaltstack and signals sent by kill() or raise()
 * skips there, each test saying why. The rest runs: nesting, threads, small
 * stacks, and the foreign faults that must still kill, in "children" that
 * run_crashing_child emulates in this process (see crashing_child below).
 * Windows has its own tests of how mmf's handler shares the chain with the
 * application's vectored handlers (veh_*, skipping on POSIX); they add
 * their handlers in the test's own process, which serves one test. A map
 * "cut" under its user is one whose file a host program truncates: no
 * Windows program can shrink a mapped file, but under Wine a host one can,
 * and Wine reports the fault as an access violation (Windows itself would
 * raise an in-page error; the tests that need a cut map skip there).
 */
#include "test.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _WIN32
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <malloc.h> /* _get_heap_handle */
/* A relic of 16-bit Windows (windef.h defines it as nothing); here it is a
 * field name. */
#undef far
#else
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

/* AddressSanitizer installs its own SIGSEGV/SIGBUS handlers, which report
 * and exit instead of dying by the signal; these tests are about what the
 * program had before mmf, so ask ASan not to take the signals. */
#ifdef TEST_ASAN
const char *__asan_default_options(void);
const char *__asan_default_options(void) {
  return "handle_segv=0:handle_sigbus=0:allow_user_segv_handler=1";
}
#endif

static size_t page(void) { return test_page_size(); }

/* Each test keeps its TEST() line on every platform (see test.h). A test
 * about POSIX signals skips on Windows, saying why. */
#ifdef _WIN32
#define POSIX_ONLY(fn, why) SKIP(why)
#else
#define POSIX_ONLY(fn, why) fn()
#endif

/* ------------------------------------------------------------------------ */
/* Portable bits                                                             */
/* ------------------------------------------------------------------------ */

static void yield_cpu(void) {
#ifdef _WIN32
  SwitchToThread();
#else
  sched_yield();
#endif
}

/* A barrier for n threads that needs neither pthread_barrier_t nor
 * Windows' synchronization barriers. */
typedef struct start_line {
  atomic_int arrived;
  int n;
} start_line;

static void start_line_wait(start_line *s) {
  atomic_fetch_add(&s->arrived, 1);
  while (atomic_load(&s->arrived) < s->n)
    yield_cpu();
}

/* ------------------------------------------------------------------------ */
/* Fixtures                                                                  */
/* ------------------------------------------------------------------------ */

#ifdef _WIN32
/* What a child leaves mapped. A child process takes it along when it
 * dies; on Windows, where the "child" is a thread of this process (see
 * crashing_child), the test releases it once the child has died: a file
 * still mapped would keep the test's directory from being removed. A
 * child that needs more than that done first (a thread of its own to
 * stop) sets child_cleanup. */
enum { MAX_LEFTOVERS = 8 };
static volatile int in_crash_child;
static mmf_map *child_maps[MAX_LEFTOVERS];
static void *child_views[MAX_LEFTOVERS];
static int child_nmaps, child_nviews;
static void (*child_cleanup)(void);

static void keep_child_map(mmf_map *m) {
  if (in_crash_child && child_nmaps < MAX_LEFTOVERS)
    child_maps[child_nmaps++] = m;
}

static void keep_child_view(void *p) {
  if (in_crash_child && child_nviews < MAX_LEFTOVERS)
    child_views[child_nviews++] = p;
}

static void release_child_leftovers(void) {
  if (child_cleanup != NULL)
    child_cleanup();
  child_cleanup = NULL;
  for (int i = 0; i < child_nmaps; i++)
    ASSERT_OK(mmf_close(child_maps[i]));
  for (int i = 0; i < child_nviews; i++)
    ASSERT_TRUE(UnmapViewOfFile(child_views[i]));
  child_nmaps = child_nviews = 0;
}

typedef char *(__cdecl *unix_name_fn)(const wchar_t *dos);

/* Shrink path to size under whoever maps it. A Windows program cannot
 * shrink a mapped file (ERROR_USER_MAPPED_FILE); under Wine a host program
 * can, so run the host's truncate(1), which Wine does not wait for: watch
 * the size instead. On Windows itself the test skips. */
static void cut_file(const char *path, uint64_t size) {
  unix_name_fn unix_name = (unix_name_fn)(void (*)(void))GetProcAddress(
      GetModuleHandleW(L"kernel32.dll"), "wine_get_unix_file_name");
  if (unix_name == NULL)
    SKIP("needs a file truncated under its map, which Windows lets no "
         "program do (Wine lets a host program do it)");
  wchar_t wpath[1024];
  ASSERT_GT(MultiByteToWideChar(CP_UTF8, 0, path, -1, wpath, 1024), 0);
  char *upath = unix_name(wpath);
  ASSERT_TRUE(upath != NULL);
  char cmd[2048];
  snprintf(cmd, sizeof cmd, "/usr/bin/truncate -s %" PRIu64 " \"%s\"", size,
           upath);
  HeapFree(GetProcessHeap(), 0, upath);
  STARTUPINFOA si;
  PROCESS_INFORMATION pi;
  memset(&si, 0, sizeof si);
  si.cb = sizeof si;
  if (!CreateProcessA(NULL, cmd, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi))
    SKIP("cannot start the host's truncate (error %lu)",
         (unsigned long)GetLastError());
  CloseHandle(pi.hThread);
  CloseHandle(pi.hProcess);
  for (int i = 0; file_size(path) != size; i++) {
    if (i == 1000)
      FAIL("%s still has %" PRIu64 " bytes 10 s after the host's truncate",
           path, file_size(path));
    Sleep(10);
  }
}

/* What a raw load from a page past the end of a cut file dies of:
 * run_crashing_child's SIGSEGV, since Wine reports it as an access
 * violation. */
#define CUT_SIGNAL SIGSEGV
#else
static void cut_file(const char *path, uint64_t size) {
  if (truncate(path, (off_t)size) != 0)
    FAIL("truncate %s: %s", path, strerror(errno));
}

#define CUT_SIGNAL SIGBUS
#endif

/* A 4-page file mapped MMF_READ, then truncated to 1 page: far points
 * into the mapping, 2 pages past the file's end, and SIGBUSes (under Wine:
 * an access violation). (The first such fault lowers mmf_size(), so later
 * ones are reached through mmf_guard(), which arms the whole mapping.) */
typedef struct cut_map {
  mmf_map *m;
  unsigned char *far;
  const char *path;
} cut_map;

/* A map whose first page is MMF_PROT_NONE: mmf_read() of it SIGSEGVs
 * (raises an access violation), as often as asked. */
static mmf_map *make_noaccess_map(const char *name) {
  const char *path = test_path(name);
  write_pattern(path, 2 * page());
  mmf_map *m = NULL;
  ASSERT_OK(mmf_open(&m, path, MMF_READ, NULL));
  ASSERT_OK(mmf_protect(m, 0, page(), MMF_PROT_NONE));
  return m;
}

static cut_map make_cut_map(const char *name) {
  cut_map c;
  c.path = test_path(name);
  write_pattern(c.path, 4 * page());
  c.m = NULL;
  ASSERT_OK(mmf_open(&c.m, c.path, MMF_READ, NULL));
  c.far = (unsigned char *)mmf_data(c.m) + 3 * page();
#ifdef _WIN32
  keep_child_map(c.m);
#endif
  cut_file(c.path, page());
  return c;
}

/* A raw mapping not made by mmf whose last page lies past the file's end:
 * SIGBUS (under Wine an access violation) at *raw_bus_far with no guard
 * interested. */
static unsigned char *raw_bus_far(const char *name) {
  const char *path = test_path(name);
  write_pattern(path, 2 * page());
#ifdef _WIN32
  wchar_t wpath[1024];
  ASSERT_GT(MultiByteToWideChar(CP_UTF8, 0, path, -1, wpath, 1024), 0);
  HANDLE f = CreateFileW(wpath, GENERIC_READ,
                         FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                         NULL, OPEN_EXISTING, 0, NULL);
  ASSERT_TRUE(f != INVALID_HANDLE_VALUE);
  HANDLE s = CreateFileMappingW(f, NULL, PAGE_READONLY, 0, 0, NULL);
  ASSERT_TRUE(s != NULL);
  void *p = MapViewOfFile(s, FILE_MAP_READ, 0, 0, 0);
  ASSERT_TRUE(p != NULL);
  CloseHandle(s);
  CloseHandle(f);
  keep_child_view(p);
#else
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  void *p = mmap(NULL, 2 * page(), PROT_READ, MAP_SHARED, fd, 0);
  ASSERT_TRUE(p != MAP_FAILED);
  close(fd);
#endif
  cut_file(path, 1);
  return (unsigned char *)p + page();
}

/* A page of the program's own that faults with SIGSEGV (an access
 * violation). */
static unsigned char *raw_segv_page(void) {
#ifdef _WIN32
  void *p = VirtualAlloc(NULL, page(), MEM_RESERVE | MEM_COMMIT, PAGE_NOACCESS);
  ASSERT_TRUE(p != NULL);
#else
  void *p = mmap(NULL, page(), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_TRUE(p != MAP_FAILED);
#endif
  return p;
}

static int touch(void *ctx) {
  volatile unsigned char *p = ctx;
  return *p;
}

/* Make mmf install its handlers: any guarded access does. */
static void arm_mmf(void) {
  unsigned char b;
  const char *path = test_path("arm");
  write_pattern(path, 100);
  mmf_map *m = NULL;
  ASSERT_OK(mmf_open(&m, path, MMF_READ, NULL));
  ASSERT_OK(mmf_read(m, 5, &b, 1));
  ASSERT_OK(mmf_close(m));
}

/* Undefined-behaviour sanitizers would report the NULL load before the
 * CPU faults; the test wants the CPU's fault. */
#if defined(__clang__) || (defined(__GNUC__) && __GNUC__ >= 8)
#define TEST_NO_UBSAN __attribute__((no_sanitize("undefined")))
#else
#define TEST_NO_UBSAN
#endif

static volatile unsigned char *volatile null_pointer;

TEST_NO_UBSAN static int load_null(void) { return *null_pointer; }

/* Children that are meant to die should not leave core files. */
static void no_core(void) {
#ifndef _WIN32
  struct rlimit rl = {0, 0};
  setrlimit(RLIMIT_CORE, &rl);
#endif
}

/* Set by a child just before the access that is meant to kill it. On
 * Windows, where the "child" shares this process's memory, expect_death
 * checks it: the child died of that access and not of an earlier one (say
 * a guarded fault that should have come back as a code). */
static volatile int death_point;

#ifdef _WIN32
/*
 * Windows has no fork(): run_crashing_child runs fn in this process, under
 * a vectored handler of the test framework that claims every access
 * violation of its thread while fn runs. That handler must be behind
 * mmf's in the chain, or it would take the guarded faults that mmf turns
 * into codes. mmf adds its handler at the front at its first guarded call,
 * so a first, harmless run adds the framework's before anything here makes
 * a guarded call, which puts it behind mmf's at whichever end of the chain
 * the framework adds it; a guarded fault in a first "child", which must
 * come back as a code, checks the order.
 *
 * Each child runs on a thread of its own: a fault that ends the child
 * abandons the mmf_guard() calls it was inside, and the guard's
 * per-thread record of them must go with the thread, as it goes with a
 * child process on POSIX.
 */
typedef struct crash_run {
  int (*fn)(void *);
  void *arg;
  int status;
} crash_run;

static void *crash_thread(void *arg) {
  crash_run *r = arg;
  in_crash_child = 1;
  r->status = run_crashing_child(r->fn, r->arg);
  in_crash_child = 0;
  return NULL;
}

static int crash_on_new_thread(int (*fn)(void *), void *arg) {
  crash_run r = {fn, arg, -1};
  test_thread_join(test_thread_start(crash_thread, &r));
  return r.status;
}

static int return_zero(void *arg) {
  (void)arg;
  return 0;
}

static int guarded_fault_comes_back(void *arg) {
  unsigned char b;
  (void)arg;
  mmf_map *m = make_noaccess_map("order");
  int rc = mmf_read(m, 0, &b, 1);
  ASSERT_OK(mmf_close(m));
  return rc == MMF_EACCES ? 0 : 3;
}

static int crashing_child(int (*fn)(void *), void *arg) {
  static int order_checked;
  if (!order_checked) {
    ASSERT_EXITED(crash_on_new_thread(return_zero, NULL), 0);
    int st = crash_on_new_thread(guarded_fault_comes_back, NULL);
    if (st != 0)
      FAIL("a guarded fault in a child did not come back as MMF_EACCES "
           "(status 0x%x): mmf's handler is behind run_crashing_child's; "
           "did the test make a guarded call before its first child?",
           (unsigned)st);
    order_checked = 1;
  }
  int st = crash_on_new_thread(fn, arg);
  release_child_leftovers();
  return st;
}
#else
/* Children put their files in the test's directory, which only the test's
 * own process removes: make it before forking. */
static int in_child(int (*fn)(void *), void *arg) {
  (void)test_dir();
  return run_in_child(fn, arg);
}
#endif

/* Run fn in a child that must die by sig (on Windows: of the exception
 * that sig stands for, see run_crashing_child). */
static void expect_death(int (*fn)(void *), void *arg, int sig,
                         const char *what) {
  death_point = 0;
#ifdef _WIN32
  int st = crashing_child(fn, arg);
  test_context("%s", what);
  ASSERT_SIGNALED(st, sig);
  if (!death_point)
    FAIL("%s: the child died before the access meant to kill it", what);
  test_context_clear();
#else
  int st = in_child(fn, arg);
  if (WIFEXITED(st))
    FAIL("%s: child exited with %d, expected death by signal %d (%s)", what,
         WEXITSTATUS(st), sig, strsignal(sig));
  ASSERT_SIGNALED(st, sig);
#endif
}

/* ------------------------------------------------------------------------ */
/* mmf's disposition                                                         */
/* ------------------------------------------------------------------------ */

#ifndef _WIN32
static void handlers_installed_siginfo_onstack_run(void) {
  struct sigaction before, after;
  ASSERT_EQ(sigaction(SIGBUS, NULL, &before), 0);
  arm_mmf();
  ASSERT_EQ(sigaction(SIGBUS, NULL, &after), 0);
  ASSERT_TRUE(after.sa_flags & SA_SIGINFO);
  ASSERT_TRUE(after.sa_flags & SA_ONSTACK);
  ASSERT_EQ(sigaction(SIGSEGV, NULL, &after), 0);
  ASSERT_TRUE(after.sa_flags & SA_SIGINFO);
  ASSERT_TRUE(after.sa_flags & SA_ONSTACK);
  /* Plain reads of maps without faults leave nothing else changed. */
  sigset_t mask;
  ASSERT_EQ(sigprocmask(SIG_BLOCK, NULL, &mask), 0);
  ASSERT_FALSE(sigismember(&mask, SIGBUS));
  ASSERT_FALSE(sigismember(&mask, SIGSEGV));
}
#endif

TEST(handlers_installed_siginfo_onstack) {
  POSIX_ONLY(handlers_installed_siginfo_onstack_run,
             "Windows has no sigaction: mmf adds a vectored exception handler, "
             "which has no flags and runs on the faulting thread's stack");
}

/* ------------------------------------------------------------------------ */
/* Foreign faults still kill                                                 */
/* ------------------------------------------------------------------------ */

static int child_null_deref(void *arg) {
  (void)arg;
  no_core();
  arm_mmf();
  death_point = 1;
  return load_null() + 100;
}

static int child_raw_sigbus_mmf_map(void *arg) {
  (void)arg;
  no_core();
  cut_map c = make_cut_map("f");
  unsigned char b;
  /* The guard is armed and catches this one... */
  if (mmf_read(c.m, 3 * page(), &b, 1) != MMF_ETRUNCATED)
    return 2;
  /* ...but not a raw load through the borrowed pointer. */
  death_point = 1;
  return touch(c.far) + 100;
}

static int child_raw_sigbus_other_map(void *arg) {
  (void)arg;
  no_core();
  arm_mmf();
  unsigned char *far = raw_bus_far("raw");
  death_point = 1;
  return touch(far) + 100;
}

TEST(foreign_null_deref_kills) {
  expect_death(child_null_deref, NULL, SIGSEGV, "NULL dereference");
  test_note("NULL dereference after mmf armed: killed by SIGSEGV");
}

/* Windows: the death is an access violation (Wine's report of the host's
 * SIGBUS). */
TEST(foreign_sigbus_outside_guard_kills) {
  expect_death(child_raw_sigbus_mmf_map, NULL, CUT_SIGNAL,
               "raw load past EOF through mmf_data()");
  expect_death(child_raw_sigbus_other_map, NULL, CUT_SIGNAL,
               "raw load past EOF of a map mmf does not own");
#ifdef _WIN32
  test_note("fault past EOF outside any guard (mmf map and foreign map): "
            "killed by an access violation (Wine's report of the host's "
            "SIGBUS)");
#else
  test_note("SIGBUS outside any guard (mmf map and foreign map): killed by "
            "SIGBUS");
#endif
}

/* ------------------------------------------------------------------------ */
/* Threads that block SIGBUS                                                 */
/* ------------------------------------------------------------------------ */

#ifndef _WIN32
typedef struct blocked_job {
  cut_map c;
  int warm;    /* make a guarded call before blocking the signals */
  int rc;      /* what mmf_read said */
  int bus_now; /* SIGBUS still blocked after the read */
} blocked_job;

/* A thread that blocks every signal, as threads of a program that takes
 * its signals with sigwait() do, then reads past the cut. */
static void *blocked_reader(void *arg) {
  blocked_job *j = arg;
  sigset_t all, now;
  unsigned char b;
  if (j->warm)
    (void)mmf_read(j->c.m, 0, &b, 1);
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, NULL);
  death_point = 1;
  j->rc = mmf_read(j->c.m, 3 * page(), &b, 1);
  pthread_sigmask(SIG_BLOCK, NULL, &now);
  j->bus_now = sigismember(&now, SIGBUS);
  return NULL;
}

static int child_blocked_thread(void *arg) {
  blocked_job j;
  memset(&j, 0, sizeof j);
  j.warm = arg != NULL;
  no_core();
  j.c = make_cut_map("f");
  test_thread_join(test_thread_start(blocked_reader, &j));
  return j.rc == MMF_ETRUNCATED && !j.bus_now ? 0 : 3;
}
#endif

/* The kernel gives a thread that blocks SIGBUS no handler on a fault: it
 * ends the process. A thread's first guarded access unblocks SIGBUS and
 * SIGSEGV there, so the usual case works; a thread that blocks them after
 * its first guarded access is on its own (the negative control). */
#ifndef _WIN32
static void blocked_sigbus_thread_run(void) {
  if (test_blocked_fault_hangs())
    SKIP("a fault whose signal the thread blocks hangs here instead of "
         "ending the process (qemu-user), so the negative control cannot "
         "die");
  ASSERT_EXITED(in_child(child_blocked_thread, NULL), 0);
  expect_death(child_blocked_thread, (void *)1, SIGBUS,
               "SIGBUS blocked after the thread's first guarded access");
  test_note("thread blocking every signal: mmf_read past the cut -> "
            "MMF_ETRUNCATED; blocking them after its first guarded call: "
            "killed by SIGBUS, as documented");
}
#endif

TEST(thread_blocking_sigbus_gets_codes) {
  POSIX_ONLY(blocked_sigbus_thread_run,
             "Windows has no signal masks: exceptions always reach mmf");
}

#ifndef _WIN32
static int child_raise(void *arg) {
  no_core();
  arm_mmf();
  raise(*(int *)arg);
  return 100;
}

static int child_kill_self(void *arg) {
  no_core();
  arm_mmf();
  kill(getpid(), *(int *)arg);
  return 100;
}

static void foreign_raise_and_kill_self_kill_run(void) {
  int bus = SIGBUS, segv = SIGSEGV;
  expect_death(child_raise, &bus, SIGBUS, "raise(SIGBUS)");
  expect_death(child_raise, &segv, SIGSEGV, "raise(SIGSEGV)");
  expect_death(child_kill_self, &bus, SIGBUS, "kill(getpid(), SIGBUS)");
  expect_death(child_kill_self, &segv, SIGSEGV, "kill(getpid(), SIGSEGV)");
}
#endif

TEST(foreign_raise_and_kill_self_kill) {
  POSIX_ONLY(
      foreign_raise_and_kill_self_kill_run,
      "sent signals are POSIX: Windows has no kill(), and raise(SIGSEGV) "
      "calls the C runtime's signal handler directly, raising no exception "
      "for mmf's vectored handler to see");
}

#ifndef _WIN32
/* kill -BUS from another process, while the child sits in a guard-free
 * pause and while it is inside a guarded call. */
typedef struct waiter {
  int ready[2];
  int in_guard;
} waiter;

static int wait_forever(void *ctx) {
  int *fd = ctx;
  if (write(*fd, "r", 1) != 1)
    return 3;
  for (;;)
    pause();
}

static int child_wait_for_kill(void *arg) {
  waiter *w = arg;
  no_core();
  close(w->ready[0]);
  if (w->in_guard) {
    cut_map c = make_cut_map("f");
    return mmf_guard(c.m, wait_forever, &w->ready[1]) + 1000;
  }
  arm_mmf();
  return wait_forever(&w->ready[1]);
}

static void foreign_kill_bus_from_other_process_run(void) {
  for (int in_guard = 0; in_guard < 2; in_guard++) {
    waiter w;
    char c;
    w.in_guard = in_guard;
    ASSERT_EQ(pipe(w.ready), 0);
    (void)test_dir();
    pid_t pid = start_child(child_wait_for_kill, &w);
    close(w.ready[1]);
    ASSERT_EQ(read(w.ready[0], &c, 1), 1);
    close(w.ready[0]);
    ASSERT_EQ(kill(pid, SIGBUS), 0);
    ASSERT_SIGNALED(wait_child(pid), SIGBUS);
  }
  test_note("kill -BUS from another process (outside and inside a guard): "
            "killed by SIGBUS");
}
#endif

TEST(foreign_kill_bus_from_other_process) {
  POSIX_ONLY(foreign_kill_bus_from_other_process_run,
             "Windows has no kill(): another process cannot send this one a "
             "fault, only end it (TerminateProcess)");
}

/* A guard is per thread: another thread's fault in a range this thread
 * has armed is not this thread's to catch. */
typedef struct two_threads {
  cut_map c;
  atomic_int armed;
  atomic_int release; /* set on Windows once the child has died */
  test_thread holder;
} two_threads;

static int hold_guard(void *ctx) {
  two_threads *t = ctx;
  atomic_store(&t->armed, 1);
  while (!atomic_load(&t->release))
    test_sleep_ms(1);
  return 0;
}

static void *guard_holder(void *arg) {
  two_threads *t = arg;
  (void)mmf_guard(t->c.m, hold_guard, t);
  return NULL;
}

#ifdef _WIN32
static two_threads *other_thread_job;

static void stop_guard_holder(void) {
  atomic_store(&other_thread_job->release, 1);
  test_thread_join(other_thread_job->holder);
  free(other_thread_job);
}
#endif

static int child_other_thread_fault(void *arg) {
  (void)arg;
  no_core();
  two_threads *t = calloc(1, sizeof *t);
  if (t == NULL)
    return 2;
  t->c = make_cut_map("f");
  atomic_init(&t->armed, 0);
  atomic_init(&t->release, 0);
  t->holder = test_thread_start(guard_holder, t);
#ifdef _WIN32
  other_thread_job = t;
  child_cleanup = stop_guard_holder;
#endif
  while (!atomic_load(&t->armed))
    yield_cpu();
  death_point = 1;
  return touch(t->c.far) + 100;
}

TEST(foreign_fault_in_other_threads_guard_kills) {
  expect_death(child_other_thread_fault, NULL, CUT_SIGNAL,
               "raw load in a range another thread has armed");
}

#ifndef _WIN32

/* ------------------------------------------------------------------------ */
/* Chaining to what the program had before mmf                               */
/* ------------------------------------------------------------------------ */

static sigjmp_buf app_jump;
static volatile sig_atomic_t app_calls, app_sig, app_code, app_had_context;
static void *volatile app_addr;

static void app_siginfo_handler(int sig, siginfo_t *si, void *uc) {
  app_calls++;
  app_sig = sig;
  app_code = si->si_code;
  app_addr = si->si_addr;
  app_had_context = uc != NULL;
  if (si->si_code > 0) /* a fault: returning would repeat it */
    siglongjmp(app_jump, 1);
}

static void app_plain_handler(int sig) {
  app_calls++;
  app_sig = sig;
}

/* The plain handler cannot tell a fault from a sent signal: it is told
 * which one to expect. */
static volatile sig_atomic_t plain_escape;

static void app_plain_escaping_handler(int sig) {
  app_plain_handler(sig);
  if (plain_escape)
    siglongjmp(app_jump, 1);
}

static void install_plain(int sig, void (*handler)(int)) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = handler;
  sigemptyset(&sa.sa_mask);
  ASSERT_EQ(sigaction(sig, &sa, NULL), 0);
}

static void install_siginfo(int sig, void (*fn)(int, siginfo_t *, void *)) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = fn;
  sa.sa_flags = SA_SIGINFO;
  sigemptyset(&sa.sa_mask);
  ASSERT_EQ(sigaction(sig, &sa, NULL), 0);
}

/* Guarded faults must not reach the application's handler. */
static void guarded_faults_stay_inside(cut_map *c, int calls_before) {
  for (int i = 0; i < 10; i++)
    ASSERT_ERR(mmf_guard(c->m, touch, c->far), MMF_ETRUNCATED);
  ASSERT_EQ(app_calls, calls_before);
}

static int child_chain_siginfo_before(void *arg) {
  (void)arg;
  unsigned char *segv_page = raw_segv_page();
  unsigned char *bus_far = raw_bus_far("raw");
  install_siginfo(SIGSEGV, app_siginfo_handler);
  install_siginfo(SIGBUS, app_siginfo_handler);
  cut_map c = make_cut_map("f");
  guarded_faults_stay_inside(&c, 0);

  /* A foreign SIGSEGV: the application's handler with the real siginfo. */
  if (!sigsetjmp(app_jump, 1))
    (void)touch(segv_page);
  ASSERT_EQ(app_calls, 1);
  ASSERT_EQ(app_sig, SIGSEGV);
  ASSERT_EQ_PTR(app_addr, segv_page);
  ASSERT_EQ(app_code, SEGV_ACCERR);
  ASSERT_TRUE(app_had_context);

  /* A foreign SIGBUS, in a map mmf does not own and in mmf's own map
   * touched without a guard. */
  if (!sigsetjmp(app_jump, 1))
    (void)touch(bus_far);
  ASSERT_EQ(app_calls, 2);
  ASSERT_EQ(app_sig, SIGBUS);
  ASSERT_EQ_PTR(app_addr, bus_far);
  ASSERT_EQ(app_code, BUS_ADRERR);
  if (!sigsetjmp(app_jump, 1))
    (void)touch(c.far);
  ASSERT_EQ(app_calls, 3);
  ASSERT_EQ_PTR(app_addr, c.far);

  /* A NULL dereference. */
  if (!sigsetjmp(app_jump, 1))
    (void)load_null();
  ASSERT_EQ(app_calls, 4);
  ASSERT_EQ(app_sig, SIGSEGV);
  ASSERT_NULL(app_addr);

  /* Sent signals: the handler sees si_code <= 0 and returns. */
  raise(SIGBUS);
  ASSERT_EQ(app_calls, 5);
  ASSERT_EQ(app_sig, SIGBUS);
  ASSERT_LE(app_code, 0);
  kill(getpid(), SIGSEGV);
  ASSERT_EQ(app_calls, 6);
  ASSERT_EQ(app_sig, SIGSEGV);

  /* And mmf still works after all that. */
  guarded_faults_stay_inside(&c, 6);
  return 0;
}

static void chain_siginfo_handler_installed_before_run(void) {
  ASSERT_EXITED(in_child(child_chain_siginfo_before, NULL), 0);
  test_note("SA_SIGINFO handler before mmf: 4 foreign faults and 2 sent "
            "signals reached it with their siginfo; 20 guarded faults did "
            "not");
}

static int child_chain_plain_before(void *arg) {
  (void)arg;
  unsigned char *segv_page = raw_segv_page();
  unsigned char *bus_far = raw_bus_far("raw");
  install_plain(SIGSEGV, app_plain_escaping_handler);
  install_plain(SIGBUS, app_plain_escaping_handler);
  cut_map c = make_cut_map("f");
  guarded_faults_stay_inside(&c, 0);

  plain_escape = 1;
  if (!sigsetjmp(app_jump, 1))
    (void)touch(segv_page);
  ASSERT_EQ(app_calls, 1);
  ASSERT_EQ(app_sig, SIGSEGV);
  if (!sigsetjmp(app_jump, 1))
    (void)touch(bus_far);
  ASSERT_EQ(app_calls, 2);
  ASSERT_EQ(app_sig, SIGBUS);

  plain_escape = 0;
  raise(SIGBUS);
  ASSERT_EQ(app_calls, 3);
  kill(getpid(), SIGSEGV);
  ASSERT_EQ(app_calls, 4);
  ASSERT_EQ(app_sig, SIGSEGV);

  guarded_faults_stay_inside(&c, 4);
  return 0;
}

static void chain_plain_handler_installed_before_run(void) {
  ASSERT_EXITED(in_child(child_chain_plain_before, NULL), 0);
}

/* SIG_IGN: sent signals are ignored as before; real faults cannot be
 * ignored (the kernel would not let them be) and kill. */
static int child_ign_sent(void *arg) {
  (void)arg;
  no_core();
  signal(SIGBUS, SIG_IGN);
  signal(SIGSEGV, SIG_IGN);
  cut_map c = make_cut_map("f");
  ASSERT_ERR(mmf_guard(c.m, touch, c.far), MMF_ETRUNCATED);
  raise(SIGBUS);
  kill(getpid(), SIGBUS);
  raise(SIGSEGV);
  kill(getpid(), SIGSEGV);
  ASSERT_ERR(mmf_guard(c.m, touch, c.far), MMF_ETRUNCATED);
  return 0;
}

static int child_ign_fault(void *arg) {
  no_core();
  signal(SIGBUS, SIG_IGN);
  signal(SIGSEGV, SIG_IGN);
  cut_map c = make_cut_map("f");
  ASSERT_ERR(mmf_guard(c.m, touch, c.far), MMF_ETRUNCATED);
  if (*(int *)arg == SIGSEGV)
    return load_null() + 100;
  return touch(c.far) + 100;
}

static void chain_sig_ign_installed_before_run(void) {
  int bus = SIGBUS, segv = SIGSEGV;
  ASSERT_EXITED(in_child(child_ign_sent, NULL), 0);
  expect_death(child_ign_fault, &segv, SIGSEGV, "NULL load under SIG_IGN");
  expect_death(child_ign_fault, &bus, SIGBUS, "raw SIGBUS under SIG_IGN");
  test_note("SIG_IGN before mmf: 4 sent signals ignored; real faults still "
            "kill (SIGSEGV, SIGBUS)");
}

/* SIG_DFL set explicitly before mmf. */
static int child_dfl(void *arg) {
  int how = *(int *)arg;
  no_core();
  signal(SIGBUS, SIG_DFL);
  signal(SIGSEGV, SIG_DFL);
  cut_map c = make_cut_map("f");
  ASSERT_ERR(mmf_guard(c.m, touch, c.far), MMF_ETRUNCATED);
  switch (how) {
  case 0:
    return load_null() + 100;
  case 1:
    return touch(c.far) + 100;
  default:
    kill(getpid(), SIGBUS);
    return 100;
  }
}

static void chain_sig_dfl_installed_before_run(void) {
  int how[3] = {0, 1, 2};
  expect_death(child_dfl, &how[0], SIGSEGV, "NULL load under SIG_DFL");
  expect_death(child_dfl, &how[1], SIGBUS, "raw SIGBUS under SIG_DFL");
  expect_death(child_dfl, &how[2], SIGBUS, "kill -BUS under SIG_DFL");
}

/* An application handler installed after mmf, chaining to the previous
 * disposition it got from sigaction() (mmf's), the way well-behaved
 * libraries do. It runs for every fault; mmf's guard still turns guarded
 * ones into codes, every time, and foreign ones still kill. */
static struct sigaction chained_bus, chained_segv;
static volatile sig_atomic_t after_calls;

static void app_after_handler(int sig, siginfo_t *si, void *uc) {
  const struct sigaction *prev = sig == SIGBUS ? &chained_bus : &chained_segv;
  after_calls++;
  if (prev->sa_flags & SA_SIGINFO)
    prev->sa_sigaction(sig, si, uc);
  else if (prev->sa_handler != SIG_DFL && prev->sa_handler != SIG_IGN)
    prev->sa_handler(sig);
  else
    signal(sig, SIG_DFL);
}

static void install_after(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = app_after_handler;
  sa.sa_flags = SA_SIGINFO; /* no SA_NODEFER: the signal is blocked while
                               it runs, as in most programs */
  sigemptyset(&sa.sa_mask);
  ASSERT_EQ(sigaction(SIGBUS, &sa, &chained_bus), 0);
  ASSERT_EQ(sigaction(SIGSEGV, &sa, &chained_segv), 0);
}

typedef struct after_report {
  int guarded_ok; /* guarded faults that came back as codes */
  int calls;      /* app handler calls seen before the foreign fault */
  int mask_ok;    /* SIGBUS/SIGSEGV unblocked after every guarded fault */
} after_report;

static int child_chain_after(void *arg) {
  after_report *r = arg;
  sigset_t mask;
  unsigned char b;
  no_core();
  cut_map c = make_cut_map("f");
  mmf_map *noaccess = make_noaccess_map("g");
  ASSERT_OK(mmf_read(c.m, 0, &b, 1)); /* mmf installs its handlers */
  install_after();
  r->mask_ok = 1;
  for (int i = 0; i < 200; i++) {
    int rc =
        i < 100 ? mmf_guard(c.m, touch, c.far) : mmf_read(noaccess, 3, &b, 1);
    r->guarded_ok += rc == (i < 100 ? MMF_ETRUNCATED : MMF_EACCES);
    sigprocmask(SIG_BLOCK, NULL, &mask);
    if (sigismember(&mask, SIGBUS) || sigismember(&mask, SIGSEGV))
      r->mask_ok = 0;
    r->calls = after_calls;
  }
  return load_null() + 100;
}

static void chain_handler_installed_after_run(void) {
  after_report *r = mmap(NULL, sizeof *r, PROT_READ | PROT_WRITE,
                         MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  ASSERT_TRUE(r != MAP_FAILED);
  memset(r, 0, sizeof *r);
  int st = in_child(child_chain_after, r);
  test_note("handler installed after mmf, chaining: %d of 200 guarded "
            "faults -> code, %d handler calls, fault signals %s after "
            "them",
            r->guarded_ok, r->calls, r->mask_ok ? "unblocked" : "BLOCKED");
  if (WIFSIGNALED(st) && r->guarded_ok < 200)
    FAIL("guarded fault %d killed the process with signal %d: the jump "
         "out of a chained handler left the signal blocked",
         r->guarded_ok + 1, WTERMSIG(st));
  ASSERT_EQ(r->guarded_ok, 200);
  ASSERT_EQ(r->calls, 200);
  ASSERT_TRUE(r->mask_ok);
  ASSERT_SIGNALED(st, SIGSEGV);
}

#endif /* !_WIN32 */

TEST(chain_siginfo_handler_installed_before) {
  POSIX_ONLY(chain_siginfo_handler_installed_before_run,
             "Windows has no sigaction and no siginfo handlers; "
             "veh_behind_mmf_gets_foreign_faults is the vectored-handler "
             "counterpart");
}

TEST(chain_plain_handler_installed_before) {
  POSIX_ONLY(
      chain_plain_handler_installed_before_run,
      "Windows has no sigaction: a C runtime signal(SIGSEGV) handler is "
      "called from the unhandled-exception filter, the last stop after every "
      "vectored handler (mmf's included), and the test runner installs a "
      "filter of its own; veh_behind_mmf_gets_foreign_faults checks that mmf "
      "passes foreign faults on");
}

TEST(chain_sig_ign_installed_before) {
  POSIX_ONLY(
      chain_sig_ign_installed_before_run,
      "Windows has no sigaction: SIG_IGN for SIGSEGV is the C runtime's, "
      "applied by its unhandled-exception filter after every vectored handler "
      "(mmf's included) has passed the fault on, and the test runner installs "
      "a filter of its own");
}

TEST(chain_sig_dfl_installed_before) {
  POSIX_ONLY(
      chain_sig_dfl_installed_before_run,
      "Windows has no sigaction: an access violation that no handler takes "
      "ends the process, which foreign_null_deref_kills and "
      "guard_fault_outside_map_kills check");
}

TEST(chain_handler_installed_after) {
  POSIX_ONLY(chain_handler_installed_after_run,
             "Windows has no sigaction to chain through; "
             "veh_in_front_of_mmf_sees_guarded_faults is the "
             "vectored-handler counterpart");
}

/* ------------------------------------------------------------------------ */
/* Windows: the application's vectored handlers                              */
/* ------------------------------------------------------------------------ */

/* mmf adds its handler at the front of the chain at its first guarded
 * call. A handler the application added before that is behind it: it must
 * get every fault mmf does not claim, with the original exception record,
 * and none that mmf does. One added in front of mmf's afterwards sees
 * every fault first; if it passes mmf's on, mmf still turns them into
 * codes. */

#ifdef _WIN32
static DWORD veh_thread; /* the thread whose faults veh_app counts */
static volatile LONG veh_calls;
static volatile DWORD veh_code, veh_last_error;
static volatile ULONG_PTR veh_dir; /* ExceptionInformation[0] */
static void *volatile veh_addr;
/* A page of the application's own that veh_app makes readable and
 * writable when it faults, and a map whose first page it makes readable
 * (what lazy loaders and garbage collectors do). */
static unsigned char *volatile veh_own_page;
static mmf_map *volatile veh_own_map;

static LONG CALLBACK veh_app(EXCEPTION_POINTERS *ep) {
  const EXCEPTION_RECORD *r = ep->ExceptionRecord;
  DWORD err = GetLastError();
  if (GetCurrentThreadId() != veh_thread ||
      (r->ExceptionCode != EXCEPTION_ACCESS_VIOLATION &&
       r->ExceptionCode != EXCEPTION_IN_PAGE_ERROR) ||
      r->NumberParameters < 2)
    return EXCEPTION_CONTINUE_SEARCH;
  const unsigned char *a = (const unsigned char *)r->ExceptionInformation[1];
  veh_calls++;
  veh_code = r->ExceptionCode;
  veh_dir = r->ExceptionInformation[0];
  veh_addr = (void *)(uintptr_t)a;
  veh_last_error = err;
  unsigned char *own = veh_own_page;
  DWORD old;
  if (own != NULL && a >= own && a < own + page() &&
      VirtualProtect(own, page(), PAGE_READWRITE, &old))
    return EXCEPTION_CONTINUE_EXECUTION;
  mmf_map *m = veh_own_map;
  const unsigned char *d = m ? mmf_data(m) : NULL;
  if (d != NULL && a >= d && a < d + page() &&
      mmf_protect(m, 0, page(), MMF_PROT_READ) == 0)
    return EXCEPTION_CONTINUE_EXECUTION;
  return EXCEPTION_CONTINUE_SEARCH;
}

/* 10 guarded faults of each kind: all must come back as codes. */
static int guarded_faults(cut_map *c, mmf_map *noaccess) {
  unsigned char b;
  int ok = 0;
  for (int i = 0; i < 10; i++) {
    ok += mmf_guard(c->m, touch, c->far) == MMF_ETRUNCATED;
    ok += mmf_read(noaccess, 7, &b, 1) == MMF_EACCES;
  }
  return ok;
}

static void veh_behind_mmf_gets_foreign_faults_run(void) {
  veh_thread = GetCurrentThreadId();
  unsigned char *own = raw_segv_page();
  /* Before mmf's first guarded call: mmf's handler goes in front. */
  PVOID h = AddVectoredExceptionHandler(1, veh_app);
  ASSERT_TRUE(h != NULL);
  cut_map c = make_cut_map("f");
  mmf_map *g = make_noaccess_map("g");
  ASSERT_EQ(guarded_faults(&c, g), 20);
  ASSERT_EQ(veh_calls, 0);

  /* The application's own page, read then written, outside any guard:
   * its handler gets the record as the CPU made it, and the thread's last
   * error as it was. */
  veh_own_page = own;
  SetLastError(12345);
  ASSERT_EQ(touch(own), 0);
  ASSERT_EQ(veh_calls, 1);
  ASSERT_EQ_U(veh_code, EXCEPTION_ACCESS_VIOLATION);
  ASSERT_EQ_PTR(veh_addr, own);
  ASSERT_EQ_U(veh_dir, 0);
  ASSERT_EQ_U(veh_last_error, 12345);
  DWORD old;
  ASSERT_TRUE(VirtualProtect(own, page(), PAGE_READONLY, &old));
  ((volatile unsigned char *)own)[5] = 7;
  ASSERT_EQ(veh_calls, 2);
  ASSERT_EQ_PTR(veh_addr, own + 5);
  ASSERT_EQ_U(veh_dir, 1);
  ASSERT_EQ(own[5], 7);

  /* mmf's own map, touched raw through mmf_data(): not mmf's to claim. */
  veh_own_map = g;
  unsigned char *d = mmf_data(g);
  ASSERT_EQ(touch(d + 9), pat(9));
  ASSERT_EQ(veh_calls, 3);
  ASSERT_EQ_PTR(veh_addr, d + 9);

  /* And mmf's own faults still stay inside. */
  veh_own_map = NULL;
  ASSERT_OK(mmf_protect(g, 0, page(), MMF_PROT_NONE));
  ASSERT_EQ(guarded_faults(&c, g), 20);
  ASSERT_EQ(veh_calls, 3);
  ASSERT_TRUE(RemoveVectoredExceptionHandler(h));
  ASSERT_OK(mmf_close(c.m));
  ASSERT_OK(mmf_close(g));
  test_note("vectored handler added before mmf: 3 foreign access "
            "violations reached it with their record and last error; 40 "
            "guarded faults did not");
}

static void veh_in_front_of_mmf_sees_guarded_faults_run(void) {
  unsigned char b;
  veh_thread = GetCurrentThreadId();
  unsigned char *own = raw_segv_page();
  cut_map c = make_cut_map("f");
  mmf_map *g = make_noaccess_map("g");
  ASSERT_OK(mmf_read(c.m, 0, &b, 1)); /* mmf adds its handler */
  PVOID h = AddVectoredExceptionHandler(1, veh_app);
  ASSERT_TRUE(h != NULL);
  int ok = 0;
  for (int i = 0; i < 200; i++)
    ok += i < 100 ? mmf_guard(c.m, touch, c.far) == MMF_ETRUNCATED
                  : mmf_read(g, 3, &b, 1) == MMF_EACCES;
  test_note("vectored handler added in front of mmf's: %d of 200 guarded "
            "faults -> code, %ld seen and passed on by it",
            ok, (long)veh_calls);
  ASSERT_EQ(ok, 200);
  ASSERT_EQ(veh_calls, 200);
  /* Its own faults it handles itself. */
  veh_own_page = own;
  ASSERT_EQ(touch(own + 1), 0);
  ASSERT_EQ(veh_calls, 201);
  ASSERT_EQ_PTR(veh_addr, own + 1);
  ASSERT_TRUE(RemoveVectoredExceptionHandler(h));
  ASSERT_OK(mmf_close(c.m));
  ASSERT_OK(mmf_close(g));
}
#endif /* _WIN32 */

#ifdef _WIN32
#define WINDOWS_ONLY(fn, why) fn()
#else
#define WINDOWS_ONLY(fn, why) SKIP(why)
#endif

TEST(veh_behind_mmf_gets_foreign_faults) {
  WINDOWS_ONLY(veh_behind_mmf_gets_foreign_faults_run,
               "Windows vectored exception handlers; "
               "chain_siginfo_handler_installed_before is the POSIX "
               "counterpart");
}

TEST(veh_in_front_of_mmf_sees_guarded_faults) {
  WINDOWS_ONLY(veh_in_front_of_mmf_sees_guarded_faults_run,
               "Windows vectored exception handlers; "
               "chain_handler_installed_after is the POSIX counterpart");
}

/*
 * A foreign fault on a thread that never used mmf, while another thread
 * holds the C runtime's heap lock: mmf's handler runs first and must not
 * allocate (it would wait on that lock; a crash inside malloc would
 * deadlock instead of crashing). The fault is repaired by a handler
 * behind mmf's, and the thread signals that it got through; the holder
 * gives up after 30 s, which only a handler stuck on the lock needs.
 */
#ifdef _WIN32
static unsigned char *volatile fresh_page;
static HANDLE fresh_go, fresh_done;

static LONG CALLBACK fresh_repair(EXCEPTION_POINTERS *ep) {
  const EXCEPTION_RECORD *r = ep->ExceptionRecord;
  const unsigned char *a = (const unsigned char *)r->ExceptionInformation[1];
  DWORD old;
  if (r->ExceptionCode == EXCEPTION_ACCESS_VIOLATION &&
      r->NumberParameters >= 2 && a >= fresh_page && a < fresh_page + page() &&
      VirtualProtect(fresh_page, page(), PAGE_READWRITE, &old))
    return EXCEPTION_CONTINUE_EXECUTION;
  return EXCEPTION_CONTINUE_SEARCH;
}

static DWORD WINAPI fresh_thread(void *arg) {
  (void)arg;
  WaitForSingleObject(fresh_go, INFINITE);
  (void)touch(fresh_page);
  SetEvent(fresh_done);
  return 0;
}

static void foreign_fault_on_fresh_thread_run(void) {
  unsigned char b;
  mmf_map *m = NULL;
  ASSERT_OK(mmf_anon(&m, page(), 0));
  ASSERT_OK(mmf_read(m, 0, &b, 1)); /* mmf adds its handler */
  fresh_page = raw_segv_page();
  PVOID h = AddVectoredExceptionHandler(0, fresh_repair);
  ASSERT_TRUE(h != NULL);
  fresh_go = CreateEventW(NULL, TRUE, FALSE, NULL);
  fresh_done = CreateEventW(NULL, TRUE, FALSE, NULL);
  ASSERT_TRUE(fresh_go != NULL && fresh_done != NULL);
  HANDLE t = CreateThread(NULL, 0, fresh_thread, NULL, 0, NULL);
  ASSERT_TRUE(t != NULL);
  HANDLE heap = (HANDLE)_get_heap_handle();
  ASSERT_TRUE(HeapLock(heap));
  /* Nothing between here and HeapUnlock may use malloc. */
  SetEvent(fresh_go);
  DWORD waited = WaitForSingleObject(fresh_done, 30000);
  HeapUnlock(heap);
  WaitForSingleObject(t, INFINITE);
  CloseHandle(t);
  CloseHandle(fresh_go);
  CloseHandle(fresh_done);
  RemoveVectoredExceptionHandler(h);
  ASSERT_OK(mmf_close(m));
  if (waited != WAIT_OBJECT_0)
    FAIL("a foreign fault on a new thread waited for the C runtime's heap "
         "lock: mmf's handler allocated");
}
#endif

TEST(foreign_fault_on_fresh_thread_allocates_nothing) {
  WINDOWS_ONLY(foreign_fault_on_fresh_thread_run,
               "the POSIX handler reads initial-exec TLS, which never "
               "allocates");
}

/* ------------------------------------------------------------------------ */
/* mmf_guard and addresses outside its map                                   */
/* ------------------------------------------------------------------------ */

/* A handler that repairs the page and returns (what garbage collectors
 * and lazy loaders do): the faulting access is retried and succeeds, and
 * mmf_guard() returns fn's own result. On POSIX the handler is the
 * program's SIGSEGV handler from before mmf; on Windows a vectored handler
 * added before mmf's, so behind it in the chain. */
static unsigned char *volatile repair_page;

static int touch_repair_page(void *ctx) {
  (void)ctx;
  return touch(repair_page) + 42; /* the page holds zeros */
}

#ifdef _WIN32
static void guard_fault_outside_map_goes_to_previous_handler_run(void) {
  veh_thread = GetCurrentThreadId();
  repair_page = raw_segv_page();
  veh_own_page = repair_page;
  PVOID h = AddVectoredExceptionHandler(1, veh_app);
  ASSERT_TRUE(h != NULL);
  cut_map c = make_cut_map("f");
  ASSERT_EQ(mmf_guard(c.m, touch_repair_page, NULL), 42);
  ASSERT_EQ(veh_calls, 1);
  ASSERT_EQ_U(veh_code, EXCEPTION_ACCESS_VIOLATION);
  ASSERT_EQ_PTR(veh_addr, repair_page);
  /* Its own map's faults stay codes. */
  ASSERT_ERR(mmf_guard(c.m, touch, c.far), MMF_ETRUNCATED);
  ASSERT_EQ(veh_calls, 1);
  ASSERT_TRUE(RemoveVectoredExceptionHandler(h));
  ASSERT_OK(mmf_close(c.m));
}
#else
static void app_repairing_handler(int sig, siginfo_t *si, void *uc) {
  (void)uc;
  app_calls++;
  app_sig = sig;
  app_addr = si->si_addr;
  mprotect(repair_page, page(), PROT_READ | PROT_WRITE);
}

static int child_guard_outside_repair(void *arg) {
  (void)arg;
  repair_page = raw_segv_page();
  install_siginfo(SIGSEGV, app_repairing_handler);
  cut_map c = make_cut_map("f");
  ASSERT_EQ(mmf_guard(c.m, touch_repair_page, NULL), 42);
  ASSERT_EQ(app_calls, 1);
  ASSERT_EQ(app_sig, SIGSEGV);
  ASSERT_EQ_PTR(app_addr, repair_page);
  /* Its own map's faults stay codes. */
  ASSERT_ERR(mmf_guard(c.m, touch, c.far), MMF_ETRUNCATED);
  ASSERT_EQ(app_calls, 1);
  return 0;
}

static void guard_fault_outside_map_goes_to_previous_handler_run(void) {
  ASSERT_EXITED(in_child(child_guard_outside_repair, NULL), 0);
}
#endif

TEST(guard_fault_outside_map_goes_to_previous_handler) {
  guard_fault_outside_map_goes_to_previous_handler_run();
}

typedef struct outside_job {
  cut_map c;
  unsigned char *target;
} outside_job;

static int touch_target(void *ctx) {
  outside_job *j = ctx;
  death_point = 1;
  return touch(j->target);
}

static int load_null_fn(void *ctx) {
  (void)ctx;
  death_point = 1;
  return load_null();
}

static int child_guard_outside_dies(void *arg) {
  int kind = *(int *)arg;
  no_core();
  outside_job j;
  j.c = make_cut_map("f");
  if (kind == 0)
    return mmf_guard(j.c.m, load_null_fn, NULL) + 1000;
  if (kind == 1) {
    j.target = raw_bus_far("raw");
  } else {
    /* Another mmf map, not the one guarded. */
    cut_map other = make_cut_map("g");
    j.target = other.far;
  }
  return mmf_guard(j.c.m, touch_target, &j) + 1000;
}

TEST(guard_fault_outside_map_kills) {
  int kinds[3] = {0, 1, 2};
  expect_death(child_guard_outside_dies, &kinds[0], SIGSEGV,
               "NULL load inside mmf_guard");
  expect_death(child_guard_outside_dies, &kinds[1], CUT_SIGNAL,
               "fault past EOF in a foreign map inside mmf_guard");
  expect_death(child_guard_outside_dies, &kinds[2], CUT_SIGNAL,
               "fault past EOF in another mmf map inside mmf_guard");
#ifdef _WIN32
  test_note("faults inside mmf_guard outside its map: NULL, foreign map "
            "and other mmf map past EOF -> access violations nobody "
            "handles");
#else
  test_note("faults inside mmf_guard outside its map: NULL -> SIGSEGV, "
            "foreign map -> SIGBUS, other mmf map -> SIGBUS");
#endif
}

/* ------------------------------------------------------------------------ */
/* Nesting                                                                   */
/* ------------------------------------------------------------------------ */

typedef struct nest {
  cut_map a, b;
  int inner_rc;
  int depth, max_depth;
} nest;

/* Inside a guard on a: a library call on b faults and returns its code;
 * fn goes on. */
static int inner_read_b(void *ctx) {
  nest *n = ctx;
  unsigned char x;
  n->inner_rc = mmf_read(n->b.m, 3 * page(), &x, 1);
  return 7;
}

/* Inside a guard on a: a guard on b whose fn faults in a. b's guard does
 * not own the address; a's does, and abandons both fns. */
static int touch_a_far(void *ctx) {
  nest *n = ctx;
  (void)touch(n->a.far);
  return 99; /* not reached */
}

static int guard_b_touching_a(void *ctx) {
  nest *n = ctx;
  n->inner_rc = mmf_guard(n->b.m, touch_a_far, n);
  return 98; /* not reached */
}

/* The same map guarded at every level; the innermost catches. */
static int recurse_same_map(void *ctx) {
  nest *n = ctx;
  if (++n->depth == n->max_depth)
    return touch(n->a.far);
  int rc = mmf_guard(n->a.m, recurse_same_map, n);
  /* The innermost guard returns the code; the levels above pass on 5. */
  return rc == MMF_ETRUNCATED || rc == 5 ? 5 : -1;
}

TEST(guard_nesting) {
  nest n;
  memset(&n, 0, sizeof n);
  n.a = make_cut_map("a");
  n.b = make_cut_map("b");

  ASSERT_EQ(mmf_guard(n.a.m, inner_read_b, &n), 7);
  ASSERT_ERR(n.inner_rc, MMF_ETRUNCATED);

  n.inner_rc = 12345;
  ASSERT_ERR(mmf_guard(n.a.m, guard_b_touching_a, &n), MMF_ETRUNCATED);
  ASSERT_EQ(n.inner_rc, 12345);

  n.depth = 0;
  n.max_depth = 100;
  ASSERT_EQ(mmf_guard(n.a.m, recurse_same_map, &n), 5);
  ASSERT_EQ(n.depth, 100);

  /* After all the unwinding, the guard stack is empty and correct. */
  ASSERT_ERR(mmf_guard(n.b.m, touch, n.b.far), MMF_ETRUNCATED);
  ASSERT_OK(mmf_close(n.a.m));
  ASSERT_OK(mmf_close(n.b.m));
  test_note("nested guards: inner call's fault -> code inside fn; fault in "
            "the outer map -> outer guard; 100 levels on one map -> "
            "innermost");
}

/* fn grows the map (the mapping may move), the file is cut under it, and
 * fn touches a page the map did not have when the guard was armed. */
typedef struct grow_job {
  mmf_map *m;
  const char *path;
} grow_job;

static int grow_cut_touch(void *ctx) {
  grow_job *j = ctx;
  if (mmf_resize(j->m, 4 * page()) != 0)
    return -1;
  cut_file(j->path, page());
  return touch((unsigned char *)mmf_data(j->m) + 3 * page());
}

static int child_guard_follows_resize(void *arg) {
  grow_job j;
  (void)arg;
  no_core();
  j.path = test_path("g");
  write_pattern(j.path, page());
  j.m = NULL;
  ASSERT_OK(mmf_open(&j.m, j.path, MMF_WRITE, NULL));
  death_point = 1;
  int rc = mmf_guard(j.m, grow_cut_touch, &j);
  ASSERT_OK(mmf_close(j.m));
  return rc == MMF_ETRUNCATED ? 0 : 3;
}

/* The guard covers the map, not the address range it had when armed:
 * mmf_resize inside fn moves the guard along. */
TEST(guard_follows_a_resized_map) {
#ifdef _WIN32
  test_need_truncate_mapped();
  ASSERT_EQ(child_guard_follows_resize(NULL), 0);
#else
  ASSERT_EXITED(in_child(child_guard_follows_resize, NULL), 0);
#endif
  test_note("mmf_resize inside mmf_guard, fault in the new part -> "
            "MMF_ETRUNCATED");
}

static int child_nested_then_foreign(void *arg) {
  (void)arg;
  no_core();
  nest n;
  memset(&n, 0, sizeof n);
  n.a = make_cut_map("a");
  n.b = make_cut_map("b");
  ASSERT_ERR(mmf_guard(n.a.m, guard_b_touching_a, &n), MMF_ETRUNCATED);
  /* No guard is left armed: a raw fault in either map kills. */
  death_point = 1;
  return touch(n.b.far) + 100;
}

TEST(guard_nesting_leaves_nothing_armed) {
  expect_death(child_nested_then_foreign, NULL, CUT_SIGNAL,
               "raw load after nested guards unwound");
}

/* ------------------------------------------------------------------------ */
/* Stacks                                                                    */
/* ------------------------------------------------------------------------ */

typedef struct stack_job {
  cut_map c;
  mmf_map *noaccess;
  int with_altstack;
  int faults;       /* guarded faults that returned the code */
  int deep_fault;   /* code of the fault taken near the end of the stack */
  size_t left;      /* stack bytes left below that fault's frame */
  int altstack_off; /* sigaltstack not marked in use afterwards */
} stack_job;

static void run_faults(stack_job *j) {
  unsigned char b;
  for (int i = 0; i < 500; i++) {
    j->faults += mmf_read(j->noaccess, 9, &b, 1) == MMF_EACCES;
    j->faults += mmf_guard(j->c.m, touch, j->c.far) == MMF_ETRUNCATED;
  }
}

#ifdef _WIN32
/* Windows dispatches an exception on the faulting thread's own stack
 * (there is no sigaltstack). The thread asks for a 64 KiB stack, the
 * smallest reservation Windows makes (its allocation granularity); Wine
 * gives every thread at least 1 MiB, so the thread first uses up its stack
 * until SMALL_STACK_LEFT bytes remain above the bottom of the reservation
 * (guard pages included), and takes the faults there. */
enum { SMALL_STACK_RESERVE = 64 * 1024, SMALL_STACK_LEFT = 24 * 1024 };

static size_t small_stack_size; /* the reservation the thread got */

static int descend_then_fault(stack_job *j, const unsigned char *bottom,
                              int depth) {
  volatile unsigned char pad[256];
  const unsigned char *here = (const unsigned char *)pad;
  pad[0] = (unsigned char)depth;
  if ((size_t)(here - bottom) > SMALL_STACK_LEFT && depth < 100000)
    return descend_then_fault(j, bottom, depth + 1) +
           (pad[0] != (unsigned char)depth);
  j->left = (size_t)(here - bottom);
  run_faults(j);
  return 0;
}

/* The stack is one reservation; the committed part the thread runs on
 * ends at its top. */
static DWORD WINAPI small_stack_main(void *arg) {
  MEMORY_BASIC_INFORMATION mbi;
  volatile unsigned char here = 0;
  if (!VirtualQuery((const void *)&here, &mbi, sizeof mbi))
    return 1;
  const unsigned char *bottom = mbi.AllocationBase;
  const unsigned char *top = (const unsigned char *)mbi.BaseAddress;
  small_stack_size = (size_t)(top + mbi.RegionSize - bottom);
  return (DWORD)descend_then_fault(arg, bottom, 0);
}

static void small_stack_thread_run(void) {
  stack_job j;
  memset(&j, 0, sizeof j);
  j.c = make_cut_map("f");
  j.noaccess = make_noaccess_map("g");
  HANDLE h = CreateThread(NULL, SMALL_STACK_RESERVE, small_stack_main, &j,
                          STACK_SIZE_PARAM_IS_A_RESERVATION, NULL);
  ASSERT_TRUE(h != NULL);
  ASSERT_EQ_U(WaitForSingleObject(h, INFINITE), WAIT_OBJECT_0);
  CloseHandle(h);
  test_note("thread asking for a %d-byte stack got %zu; faults taken %zu "
            "bytes above its bottom: %d of 1000 guarded faults -> code "
            "(past EOF and no access alternating)",
            SMALL_STACK_RESERVE, small_stack_size, j.left, j.faults);
  ASSERT_EQ(j.faults, 1000);
  ASSERT_NE_U(j.left, 0);
  ASSERT_LE_U(j.left, SMALL_STACK_LEFT);
  ASSERT_OK(mmf_close(j.c.m));
  ASSERT_OK(mmf_close(j.noaccess));
}
#else

/* Give the calling thread an alternate signal stack of the application's
 * own; *old keeps the one it had (sanitizers install theirs and expect it
 * back when the thread ends). */
static void *push_altstack(stack_t *old) {
  stack_t ss;
  ss.ss_sp = malloc(SIGSTKSZ);
  ss.ss_size = SIGSTKSZ;
  ss.ss_flags = 0;
  if (!ss.ss_sp || sigaltstack(&ss, old) != 0) {
    free(ss.ss_sp);
    return NULL;
  }
  return ss.ss_sp;
}

static void pop_altstack(const stack_t *old, void *mine) {
  stack_t off;
  if (old->ss_flags & SS_DISABLE) {
    memset(&off, 0, sizeof off);
    off.ss_flags = SS_DISABLE;
    sigaltstack(&off, NULL);
  } else {
    sigaltstack(old, NULL);
  }
  free(mine);
}

static void *small_stack_thread(void *arg) {
  stack_job *j = arg;
  stack_t old, now;
  void *mine = NULL;
  if (j->with_altstack && !(mine = push_altstack(&old)))
    return NULL;
  run_faults(j);
  if (j->with_altstack) {
    sigaltstack(NULL, &now);
    j->altstack_off = !(now.ss_flags & SS_ONSTACK);
    pop_altstack(&old, mine);
  }
  return NULL;
}

static void run_small_stack(stack_job *j) {
  pthread_attr_t a;
  pthread_t th;
  ASSERT_EQ(pthread_attr_init(&a), 0);
  ASSERT_EQ(pthread_attr_setstacksize(&a, PTHREAD_STACK_MIN + 8192), 0);
  ASSERT_EQ(pthread_create(&th, &a, small_stack_thread, j), 0);
  ASSERT_EQ(pthread_join(th, NULL), 0);
  pthread_attr_destroy(&a);
}

static void small_stack_thread_run(void) {
  stack_job j;
  memset(&j, 0, sizeof j);
  j.c = make_cut_map("f");
  j.noaccess = make_noaccess_map("g");
  run_small_stack(&j);
  test_note("thread with a %zu-byte stack: %d of 1000 guarded faults -> "
            "code (SIGBUS and SIGSEGV alternating)",
            (size_t)PTHREAD_STACK_MIN + 8192, j.faults);
  ASSERT_EQ(j.faults, 1000);
  ASSERT_OK(mmf_close(j.c.m));
  ASSERT_OK(mmf_close(j.noaccess));
}

static void application_sigaltstack_run(void) {
  stack_job j;
  memset(&j, 0, sizeof j);
  j.c = make_cut_map("f");
  j.noaccess = make_noaccess_map("g");
  j.with_altstack = 1;
  run_small_stack(&j);
  ASSERT_EQ(j.faults, 1000);
  ASSERT_TRUE(j.altstack_off);
  /* And on the main thread, with its own alternate stack. */
  stack_t old, now;
  void *mine = push_altstack(&old);
  ASSERT_TRUE(mine != NULL);
  j.faults = 0;
  run_faults(&j);
  ASSERT_EQ(j.faults, 1000);
  ASSERT_EQ(sigaltstack(NULL, &now), 0);
  ASSERT_FALSE(now.ss_flags & SS_ONSTACK);
  pop_altstack(&old, mine);
  ASSERT_OK(mmf_close(j.c.m));
  ASSERT_OK(mmf_close(j.noaccess));
  test_note("application sigaltstack (small-stack thread and main thread): "
            "2000 of 2000 guarded faults -> code, alternate stack "
            "released after each");
}

/* The reason for SA_ONSTACK: a fault taken with the thread's stack all but
 * used up. The kernel cannot push a signal frame there; with the
 * application's alternate stack it pushes it on that, and the guard still
 * turns the fault into a code. */
static unsigned char *stack_floor; /* lowest usable byte of this stack */

static int deep_touch(stack_job *j, int depth) {
  volatile unsigned char pad[200];
  unsigned char *here = __builtin_frame_address(0);
  pad[0] = (unsigned char)depth;
  int rc;
  if ((size_t)(here - stack_floor) > 1024 && depth < 100000) {
    rc = deep_touch(j, depth + 1);
  } else {
    j->left = (size_t)(here - stack_floor);
    rc = touch(j->c.far);
  }
  /* Reading pad after the call keeps the recursion from becoming a loop. */
  return rc + (pad[0] != (unsigned char)depth);
}

static int deep_fn(void *ctx) { return deep_touch(ctx, 0); }

static void *deep_thread(void *arg) {
  stack_job *j = arg;
  pthread_attr_t a;
  void *lo, *mine;
  size_t size;
  stack_t old;
#if defined(__APPLE__)
  /* No pthread_getattr_np: the stack's top and size instead. */
  (void)a;
  size = pthread_get_stacksize_np(pthread_self());
  lo = (char *)pthread_get_stackaddr_np(pthread_self()) - size;
  int rc = 0;
#else
  if (pthread_getattr_np(pthread_self(), &a) != 0)
    return NULL;
  int rc = pthread_attr_getstack(&a, &lo, &size);
  pthread_attr_destroy(&a);
#endif
  if (rc != 0 || !(mine = push_altstack(&old)))
    return NULL;
  stack_floor = lo;
  j->deep_fault = mmf_guard(j->c.m, deep_fn, j);
  pop_altstack(&old, mine);
  return NULL;
}

static void fault_with_stack_exhausted_uses_sigaltstack_run(void) {
  stack_job j;
  pthread_attr_t a;
  pthread_t th;
  memset(&j, 0, sizeof j);
  j.c = make_cut_map("f");
  ASSERT_EQ(pthread_attr_init(&a), 0);
  ASSERT_EQ(pthread_attr_setstacksize(&a, 256 * 1024), 0);
  ASSERT_EQ(pthread_create(&th, &a, deep_thread, &j), 0);
  ASSERT_EQ(pthread_join(th, NULL), 0);
  test_note("fault with %zu bytes of thread stack left, on an application "
            "sigaltstack -> %s",
            j.left, mmf_errname(j.deep_fault));
  ASSERT_ERR(j.deep_fault, MMF_ETRUNCATED);
  ASSERT_LE_U(j.left, 2048);
  ASSERT_OK(mmf_close(j.c.m));
}
#endif /* !_WIN32 */

TEST(small_stack_thread) { small_stack_thread_run(); }

TEST(application_sigaltstack) {
  POSIX_ONLY(application_sigaltstack_run,
             "Windows has no sigaltstack: exceptions are dispatched on the "
             "faulting thread's own stack (small_stack_thread takes faults "
             "with little of it left)");
}

TEST(fault_with_stack_exhausted_uses_sigaltstack) {
  POSIX_ONLY(
      fault_with_stack_exhausted_uses_sigaltstack_run,
      "Windows has no sigaltstack: a fault's exception record and its "
      "handlers use the faulting thread's own stack, so there is no other "
      "stack to take a fault on when that one is used up");
}

/* ------------------------------------------------------------------------ */
/* Threads                                                                   */
/* ------------------------------------------------------------------------ */

enum { GUARD_THREADS = 8, FAULTS_PER_THREAD = 1000 };

typedef struct thread_job {
  cut_map c;
  mmf_map *noaccess;
  start_line *start;
  int faults;
} thread_job;

static void *fault_loop(void *arg) {
  thread_job *j = arg;
  unsigned char b;
  /* All threads make their first guarded call together: the handlers are
   * installed once, whoever comes first. */
  start_line_wait(j->start);
  for (int i = 0; i < FAULTS_PER_THREAD; i++)
    j->faults += i % 2 ? mmf_guard(j->c.m, touch, j->c.far) == MMF_ETRUNCATED
                       : mmf_read(j->noaccess, 1, &b, 1) == MMF_EACCES;
  return NULL;
}

TEST(guard_many_threads) {
  thread_job jobs[GUARD_THREADS];
  test_thread th[GUARD_THREADS];
  start_line start;
  int total = 0;
  atomic_init(&start.arrived, 0);
  start.n = GUARD_THREADS;
  for (int i = 0; i < GUARD_THREADS; i++) {
    char name[16];
    snprintf(name, sizeof name, "f%d", i);
    jobs[i].c = make_cut_map(name);
    snprintf(name, sizeof name, "g%d", i);
    jobs[i].noaccess = make_noaccess_map(name);
    jobs[i].start = &start;
    jobs[i].faults = 0;
  }
  for (int i = 0; i < GUARD_THREADS; i++)
    th[i] = test_thread_start(fault_loop, &jobs[i]);
  for (int i = 0; i < GUARD_THREADS; i++) {
    test_thread_join(th[i]);
    total += jobs[i].faults;
  }
  test_note("%d threads at once: %d of %d guarded faults -> code",
            GUARD_THREADS, total, GUARD_THREADS * FAULTS_PER_THREAD);
  ASSERT_EQ(total, GUARD_THREADS * FAULTS_PER_THREAD);
  for (int i = 0; i < GUARD_THREADS; i++) {
    ASSERT_OK(mmf_close(jobs[i].c.m));
    ASSERT_OK(mmf_close(jobs[i].noaccess));
  }
}
