/*
 * test.h - the small test framework of the mmf test programs.
 *
 * A test program is one or more test_*.c files plus the runner (runner.c,
 * with runner_posix.c or runner_win.c behind runner.h). Each file defines
 * tests with TEST(name) { ... }; they register themselves before main()
 * runs. The runner:
 *
 *   prog NAME     runs test NAME in this process (this is what CTest does)
 *   prog          runs every test, each in a process of its own, and
 *                 summarises
 *   prog --list   prints the test names
 *
 * Exit status: 0 pass, 1 fail, 77 skip. Tests provoke SIGBUS and SIGSEGV
 * (Windows: access violations and in-page errors) on purpose, so every test
 * runs in a process of its own.
 *
 * The assertion macros print the expression, both operands and file:line,
 * then end the test. A failing assertion in a child process ends that child
 * with status 1.
 *
 * Portability. The framework builds on POSIX and on Windows (mingw-w64, run
 * under Wine by scripts/check-windows.sh). Tests written with the helpers
 * below (files, child processes, threads, descriptor and mapping counts)
 * run on both. A test that needs what one platform lacks (fork(), FIFOs,
 * /proc, signals) keeps its TEST() line on every platform, so CTest lists
 * it everywhere, and calls SKIP("why") where it cannot run:
 *
 *   TEST(fifo_read) {
 *   #ifdef _WIN32
 *     SKIP("Windows has no FIFOs (mkfifo)");
 *   #else
 *     ...
 *   #endif
 *   }
 */
#ifndef MMF_TEST_H
#define MMF_TEST_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#if defined(_WIN32) && !defined(__USE_MINGW_ANSI_STDIO)
/* C99 printf (%zu, %lld, PRIu64) from mingw-w64 instead of msvcrt's. */
#define __USE_MINGW_ANSI_STDIO 1
#endif

#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>
#ifdef _WIN32
#include <signal.h>
#ifndef SIGBUS
/* The status run_crashing_child gives for an in-page error (mingw defines
 * SIGBUS only with _POSIX). */
#define SIGBUS 10
#endif
#endif

#include "mmf.h"

/* Sanitizer builds, which some tests must know about (gcc says
 * __SANITIZE_ADDRESS__ / __SANITIZE_THREAD__, clang __has_feature):
 * TEST_ASAN for AddressSanitizer, TEST_TSAN for ThreadSanitizer. */
#if defined(__SANITIZE_ADDRESS__)
#define TEST_ASAN 1
#elif defined(__SANITIZE_THREAD__)
#define TEST_TSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_ASAN 1
#elif __has_feature(thread_sanitizer)
#define TEST_TSAN 1
#endif
#endif

/* printf format checking that matches the printf the tests use. */
#ifdef __MINGW32__
#define TEST_PRINTF gnu_printf
#else
#define TEST_PRINTF printf
#endif

/* ------------------------------------------------------------------------ */
/* Registration                                                              */
/* ------------------------------------------------------------------------ */

typedef void (*test_fn)(void);

void test_register(const char *name, test_fn fn, const char *file);

/* CMake finds the tests with the regular expression ^TEST\(([A-Za-z0-9_]+)\)
 * so keep each TEST( at the start of a line. */
#define TEST(name)                                                             \
  static void test_##name(void);                                               \
  __attribute__((constructor)) static void test_register_##name(void) {        \
    test_register(#name, test_##name, __FILE__);                               \
  }                                                                            \
  static void test_##name(void)

/* ------------------------------------------------------------------------ */
/* Ending a test                                                             */
/* ------------------------------------------------------------------------ */

/* Print "file:line: message" and end the test (or the child) with status 1. */
__attribute__((noreturn, format(TEST_PRINTF, 3, 4))) void
test_fail(const char *file, int line, const char *fmt, ...);

/* Print "SKIP: reason" and end the test with status 77. */
__attribute__((noreturn, format(TEST_PRINTF, 1, 2))) void
test_skip(const char *fmt, ...);

/* Set a line that a failure prints after its message (e.g. which step of a
 * loop was running); NULL clears it. */
__attribute__((format(TEST_PRINTF, 1, 2))) void test_context(const char *fmt,
                                                             ...);
void test_context_clear(void);

/* Print a note on stdout ("# ..."), e.g. the number of paths walked. */
__attribute__((format(TEST_PRINTF, 1, 2))) void test_note(const char *fmt, ...);

#define FAIL(...) test_fail(__FILE__, __LINE__, __VA_ARGS__)
#define SKIP(...) test_skip(__VA_ARGS__)

/* ------------------------------------------------------------------------ */
/* Assertions                                                                */
/* ------------------------------------------------------------------------ */

#define ASSERT_TRUE(expr)                                                      \
  do {                                                                         \
    if (!(expr))                                                               \
      test_fail(__FILE__, __LINE__, "ASSERT_TRUE(%s) failed", #expr);          \
  } while (0)

#define ASSERT_FALSE(expr)                                                     \
  do {                                                                         \
    if (expr)                                                                  \
      test_fail(__FILE__, __LINE__, "ASSERT_FALSE(%s) failed", #expr);         \
  } while (0)

#define TEST__CMP_I(a, op, b, macro)                                           \
  do {                                                                         \
    intmax_t test_a_ = (intmax_t)(a);                                          \
    intmax_t test_b_ = (intmax_t)(b);                                          \
    if (!(test_a_ op test_b_))                                                 \
      test_fail(__FILE__, __LINE__,                                            \
                macro "(%s, %s) failed: %" PRIdMAX " vs %" PRIdMAX, #a, #b,    \
                test_a_, test_b_);                                             \
  } while (0)

#define TEST__CMP_U(a, op, b, macro)                                           \
  do {                                                                         \
    uintmax_t test_a_ = (uintmax_t)(a);                                        \
    uintmax_t test_b_ = (uintmax_t)(b);                                        \
    if (!(test_a_ op test_b_))                                                 \
      test_fail(__FILE__, __LINE__,                                            \
                macro "(%s, %s) failed: %" PRIuMAX " (0x%" PRIxMAX             \
                      ") vs %" PRIuMAX " (0x%" PRIxMAX ")",                    \
                #a, #b, test_a_, test_a_, test_b_, test_b_);                   \
  } while (0)

#define ASSERT_EQ(a, b) TEST__CMP_I(a, ==, b, "ASSERT_EQ")
#define ASSERT_NE(a, b) TEST__CMP_I(a, !=, b, "ASSERT_NE")
#define ASSERT_LT(a, b) TEST__CMP_I(a, <, b, "ASSERT_LT")
#define ASSERT_LE(a, b) TEST__CMP_I(a, <=, b, "ASSERT_LE")
#define ASSERT_GT(a, b) TEST__CMP_I(a, >, b, "ASSERT_GT")
#define ASSERT_GE(a, b) TEST__CMP_I(a, >=, b, "ASSERT_GE")
#define ASSERT_EQ_U(a, b) TEST__CMP_U(a, ==, b, "ASSERT_EQ_U")
#define ASSERT_NE_U(a, b) TEST__CMP_U(a, !=, b, "ASSERT_NE_U")
#define ASSERT_LT_U(a, b) TEST__CMP_U(a, <, b, "ASSERT_LT_U")
#define ASSERT_LE_U(a, b) TEST__CMP_U(a, <=, b, "ASSERT_LE_U")
#define ASSERT_GE_U(a, b) TEST__CMP_U(a, >=, b, "ASSERT_GE_U")

#define ASSERT_EQ_PTR(a, b)                                                    \
  do {                                                                         \
    const void *test_a_ = (const void *)(a);                                   \
    const void *test_b_ = (const void *)(b);                                   \
    if (test_a_ != test_b_)                                                    \
      test_fail(__FILE__, __LINE__, "ASSERT_EQ_PTR(%s, %s) failed: %p vs %p",  \
                #a, #b, test_a_, test_b_);                                     \
  } while (0)

#define ASSERT_NULL(a) ASSERT_EQ_PTR(a, NULL)

#define ASSERT_STREQ(a, b)                                                     \
  do {                                                                         \
    const char *test_a_ = (a);                                                 \
    const char *test_b_ = (b);                                                 \
    if (test_a_ == NULL || test_b_ == NULL || strcmp(test_a_, test_b_) != 0)   \
      test_fail(__FILE__, __LINE__,                                            \
                "ASSERT_STREQ(%s, %s) failed: \"%s\" vs \"%s\"", #a, #b,       \
                test_a_ ? test_a_ : "(null)", test_b_ ? test_b_ : "(null)");   \
  } while (0)

/* Compares n bytes; prints the first differing offset and both bytes. */
#define ASSERT_MEMEQ(a, b, n)                                                  \
  test_assert_memeq(__FILE__, __LINE__, #a, #b, (a), (b), (size_t)(n))

void test_assert_memeq(const char *file, int line, const char *ea,
                       const char *eb, const void *a, const void *b, size_t n);

/* expr must return 0; otherwise prints the code's name. */
#define ASSERT_OK(expr)                                                        \
  do {                                                                         \
    int test_r_ = (expr);                                                      \
    if (test_r_ != 0)                                                          \
      test_fail(__FILE__, __LINE__, "ASSERT_OK(%s) failed: %s (%d, %s)",       \
                #expr, mmf_errname(test_r_), test_r_, mmf_strerror(test_r_));  \
  } while (0)

/* expr must return code; otherwise prints both names. */
#define ASSERT_ERR(expr, code)                                                 \
  do {                                                                         \
    int test_r_ = (expr);                                                      \
    int test_c_ = (code);                                                      \
    if (test_r_ != test_c_)                                                    \
      test_fail(__FILE__, __LINE__,                                            \
                "ASSERT_ERR(%s, %s) failed: got %s (%d), expected %s (%d)",    \
                #expr, #code, mmf_errname(test_r_), test_r_,                   \
                mmf_errname(test_c_), test_c_);                                \
  } while (0)

/* expr must return a negative code from MMF_ERRNO_MAP. */
#define ASSERT_MMF_ERROR(expr)                                                 \
  do {                                                                         \
    int test_r_ = (expr);                                                      \
    if (!test_is_mmf_error(test_r_))                                           \
      test_fail(__FILE__, __LINE__,                                            \
                "ASSERT_MMF_ERROR(%s) failed: got %s (%d)", #expr,             \
                mmf_errname(test_r_), test_r_);                                \
  } while (0)

bool test_is_mmf_error(int code);

/* The wait status st (from wait_child, run_in_child, run_crashing_child)
 * must be a normal exit with code. */
#define ASSERT_EXITED(st, code)                                                \
  test_assert_exited(__FILE__, __LINE__, #st, (st), (code))
/* The wait status st must be death by signal sig. On Windows SIGSEGV
 * stands for an access violation and SIGBUS for an in-page error (see
 * run_crashing_child). */
#define ASSERT_SIGNALED(st, sig)                                               \
  test_assert_signaled(__FILE__, __LINE__, #st, (st), (sig))

void test_assert_exited(const char *file, int line, const char *expr, int st,
                        int code);
void test_assert_signaled(const char *file, int line, const char *expr, int st,
                          int sig);

/* The n bytes at p must be pat(off), pat(off + 1), ... */
#define ASSERT_PAT(p, off, n)                                                  \
  test_assert_pat(__FILE__, __LINE__, #p, (const void *)(p), (uint64_t)(off),  \
                  (size_t)(n))

void test_assert_pat(const char *file, int line, const char *expr,
                     const void *p, uint64_t off, size_t n);

/* The n bytes at p must all be zero. */
#define ASSERT_ZERO(p, n)                                                      \
  test_assert_zero(__FILE__, __LINE__, #p, (const void *)(p), (size_t)(n))

void test_assert_zero(const char *file, int line, const char *expr,
                      const void *p, size_t n);

/* ------------------------------------------------------------------------ */
/* Files                                                                     */
/* ------------------------------------------------------------------------ */

/* Paths are UTF-8 on every platform (Windows: converted to UTF-16 for the
 * wide API, as the library does, and given the \\?\ prefix when long). */

/* The test's own temporary directory, made on first use under $TMPDIR (or
 * /tmp; Windows: GetTempPath, i.e. %TMP% or %TEMP%) and removed with its
 * contents when the test ends. A child process started with test_spawn()
 * uses its parent's directory. */
const char *test_dir(void);

/* test_dir()/name in a static buffer; 16 buffers are used in turn, so up to
 * 16 results may be held at once. name may contain '/'. */
const char *test_path(const char *name);

/* The byte every pattern file holds at file offset off. Not periodic in the
 * page size, so a map at the wrong offset shows. */
static inline unsigned char pat(uint64_t off) {
  uint64_t x = off * 0x9E3779B97F4A7C15u;
  return (unsigned char)((x >> 56) ^ (off >> 12) ^ off);
}

/* Fill buf with pat(off), pat(off + 1), ... */
void fill_pat(void *buf, uint64_t off, size_t n);

/* Create or truncate path and write n bytes of data (zeros if data is NULL).
 * Fails the test on error. */
void write_file(const char *path, const void *data, size_t n);

/* Create or truncate path holding size bytes of pat(). */
void write_pattern(const char *path, uint64_t size);

/* Create or truncate path as a sparse file of size bytes (no data blocks;
 * Windows: FSCTL_SET_SPARSE where the file system has it, else a file
 * extended with SetEndOfFile, which reads as zeros just the same). */
void make_sparse(const char *path, uint64_t size);

/* Size of path (stat); fails the test on error. */
uint64_t file_size(const char *path);

/* Read n bytes at off from path into buf; fails the test on a short read. */
void read_at(const char *path, uint64_t off, void *buf, size_t n);

/* Write n bytes at off into path; fails the test on error. */
void write_at(const char *path, uint64_t off, const void *buf, size_t n);

/* Set the size of path (truncate or extend); fails the test on error. A
 * Windows program cannot shrink a file that is mapped anywhere: for that,
 * use test_truncate_mapped(). */
void test_truncate(const char *path, uint64_t size);

/*
 * Set the size of path (shrink or grow) while it may be mapped, here or in
 * another process; fails the test on error. This is how tests make the
 * file vanish under a live map. POSIX: test_truncate(). Windows: the size
 * is set directly when Windows allows it (a grow, or a file nobody maps);
 * a shrink that Windows refuses (ERROR_USER_MAPPED_FILE) is done under
 * Wine by the host's /usr/bin/truncate, started on the file's Unix path
 * (wine_get_unix_file_name), and the call returns once that truncate has
 * finished (Wine does not wait for host programs: the truncate then makes
 * a marker file beside path, which the call waits for and removes). That
 * costs a process start, 3 to 6 ms, so a test that shrinks a mapped file
 * thousands of times does fewer rounds on Windows. On Windows outside Wine
 * nothing can shrink a mapped file: the test SKIPs (see
 * test_need_truncate_mapped). Safe to call from any thread and from a
 * child process.
 */
void test_truncate_mapped(const char *path, uint64_t size);

/* SKIP the test where test_truncate_mapped() cannot shrink a mapped file
 * (Windows outside Wine); does nothing elsewhere. Call it up front in a
 * test whose children or threads truncate, since a skip inside a child
 * only ends the child. */
void test_need_truncate_mapped(void);

/* Remove the file path; a missing file is fine. */
void test_unlink(const char *path);

/* Make the directory path; fails the test on error. */
void test_mkdir(const char *path);

/* Whether path exists. */
bool test_exists(const char *path);

/* Bytes of disk space allocated to path (st_blocks * 512; Windows: the
 * AllocationSize of FileStandardInfo). */
uint64_t file_allocated(const char *path);

/* Open path with open()-style flags (O_RDONLY, O_WRONLY, O_RDWR, O_CREAT,
 * O_TRUNC), close-on-exec (Windows: not inheritable, binary mode), mode
 * 0644 for a new file. Returns the descriptor, or -1 with errno set. On
 * Windows it is a C runtime descriptor, which is what mmf_open_fd() takes. */
int test_open(const char *path, int flags);

/* ------------------------------------------------------------------------ */
/* Process state                                                             */
/* ------------------------------------------------------------------------ */

/* The virtual-memory page size, asked of the OS (sysconf, GetSystemInfo),
 * not of the library. */
size_t test_page_size(void);

/* Sleep for ms milliseconds. */
void test_sleep_ms(unsigned ms);

/* Open descriptors of this process: entries of /proc/self/fd. Windows:
 * open handles of this process (GetProcessHandleCount; under Wine, which
 * returns 0 there, the handle values GetHandleInformation accepts). Either
 * way a descriptor or handle the library leaks shows as one more. */
int count_open_fds(void);

/* Threads of this process: entries of /proc/self/task; -1 where there is
 * none, and on Windows (Wine starts threads of its own whenever it likes).
 * A thread the library starts and does not join shows as one more. */
int count_threads(void);

/* count_threads() once joined threads have gone, waiting up to 2 s for
 * the count to come down to at_most. A joined thread stays listed for a
 * moment: the kernel wakes the joiner before the thread is removed
 * (under qemu-user for much longer). A thread that was never joined
 * never goes, so the count stays above at_most. */
int count_threads_settled(int at_most);

/* Descriptors a child process would inherit: those without FD_CLOEXEC
 * (Windows: handles with HANDLE_FLAG_INHERIT). */
int count_inheritable_fds(void);

/* Whether the program runs under Wine (ntdll exports wine_get_version). */
bool test_under_wine(void);

/* Whether the program was built with AddressSanitizer (which, among other
 * things, turns mlock() into a no-op and catches SIGSEGV itself). */
bool test_under_asan(void);

/* Mappings of this process: lines of /proc/self/maps, without those of
 * AddressSanitizer's allocator. Windows: allocations (regions sharing an
 * allocation base, from VirtualQuery), so one view or one VirtualAlloc
 * reservation counts one. */
int count_mappings(void);

/* Mappings of files whose path contains needle (e.g. test_dir()): lines of
 * /proc/self/maps; Windows: views whose GetMappedFileName contains needle
 * (compared without the drive letter and case-insensitively, with '/' and
 * '\' alike). */
int count_mappings_of(const char *needle);

/* Value in kB of a "Key:" line of /proc/self/status (e.g. "VmLck"), or -1
 * (always -1 where there is no /proc, e.g. Windows). */
long proc_status_kb(const char *key);

/* Kernel behaviours an emulator does not reproduce. Each probes the raw
 * system call, so wherever the system has the behaviour the library's own
 * result is still checked. Windows: NULL / false. */
/* Why path, a size-0 /proc file on Linux, is something else here (qemu-user
 * answers open() of /proc/self/maps, cmdline, stat and auxv with a regular
 * temporary file holding its own copy); NULL when it is the kernel's. */
const char *test_proc_copied(const char *path);
/* Whether mmap(MAP_POPULATE) leaves anonymous pages non-resident
 * (qemu-user drops the flag). */
bool test_populate_ignored(void);
/* Whether mincore() fails with ENOMEM on a range holding a PROT_NONE page
 * (qemu-user checks that the whole range is readable). */
bool test_mincore_refuses_prot_none(void);
/* Whether setrlimit(RLIMIT_AS) succeeds but bounds nothing (qemu-user
 * ignores it), probed in a child. */
bool test_rlimit_as_ignored(void);
/* Whether a SIGBUS fault (a page past the end of a file) that the thread
 * blocks hangs instead of ending the process (qemu-user), probed in a
 * child with a 3 s alarm. */
bool test_blocked_fault_hangs(void);

/* ------------------------------------------------------------------------ */
/* Child processes                                                           */
/* ------------------------------------------------------------------------ */

/*
 * Portable children. A child is a function registered with
 *
 *   TEST_CHILD(name) { ... use argc, argv ...; return exit_code; }
 *
 * that takes string arguments (argv[0] is the child's name) and returns its
 * exit status (0-125). test_spawn() runs it in a new process: on POSIX a
 * fork() of this one, on Windows a new run of this program (CreateProcess,
 * "prog --child name args...", arguments passed as UTF-8). So a child sees
 * only its arguments, the environment and the files, never the parent's
 * memory: pass paths and values as strings. test_path() works in a child and
 * names the parent's directory. A failing assertion ends the child with
 * status 1.
 */
typedef int (*test_child_fn)(int argc, char **argv);

void test_register_child(const char *name, test_child_fn fn);

#define TEST_CHILD(name)                                                       \
  static int test_child_##name(int argc, char **argv);                         \
  __attribute__((constructor)) static void test_register_child_##name(void) {  \
    test_register_child(#name, test_child_##name);                             \
  }                                                                            \
  static int test_child_##name(int argc, char **argv)

/* A running child: a pid on POSIX, a process handle on Windows. */
typedef struct test_proc {
  intptr_t id;
} test_proc;

/* Start child name with the strings args[0..] (NULL-terminated list; NULL
 * for none). Fails the test if the process cannot be started. */
test_proc test_spawn(const char *name, const char *const *args);

/* Wait for a child and return its exit status. A child that died of a
 * signal (POSIX) or an exception (Windows) fails the test. */
int test_wait(test_proc p);

/* End a child at once (SIGKILL, TerminateProcess) and reap it. */
void test_kill(test_proc p);

/* test_spawn + test_wait with the arguments given inline, ending in NULL:
 * test_run_child("writer", path, "42", NULL). */
int test_run_child(const char *name, ...);

/* Whether this process is the test's own process (not a child). */
bool test_in_main_process(void);

/*
 * fork()-based children (POSIX). fn runs in a copy of this process and
 * sees its memory, which is what tests of fork-shared memory need. Windows
 * has no fork(): there start_child, wait_child and run_in_child SKIP the
 * test with that reason (port the test to TEST_CHILD where the child only
 * needs files), while run_crashing_child is emulated (see below).
 */

/* Start fn(arg) in a forked child that exits with fn's return value. */
pid_t start_child(int (*fn)(void *arg), void *arg);
/* Wait for a child and return its raw wait status. */
int wait_child(pid_t pid);
/* start_child + wait_child. */
int run_in_child(int (*fn)(void *arg), void *arg);

/* run_in_child for a fn that is expected to die of SIGSEGV or SIGBUS: under
 * AddressSanitizer the child first restores the default actions, since
 * ASan would turn the signal into exit status 1. On Windows fn runs in this
 * process with a vectored exception handler armed: an access violation
 * gives the status of death by SIGSEGV, an in-page error that of SIGBUS,
 * and fn's return value that of an exit. (So there fn's stores, unlike a
 * forked child's, stay visible to the test.) */
int run_crashing_child(int (*fn)(void *arg), void *arg);

/* ------------------------------------------------------------------------ */
/* Streams: FIFOs and pipes                                                  */
/* ------------------------------------------------------------------------ */

/*
 * A named stream that mmf_open() must read rather than map: a FIFO made
 * with mkfifo in test_dir() on POSIX, a named pipe (\\.\pipe\...) on
 * Windows, with a child process writing n bytes of pat() into it from
 * offset 0, then exiting 0 (4 if the reader went away first).
 */
typedef struct test_fifo {
  char path[512];
  test_proc writer;
} test_fifo;

/* Make the stream (name tells streams of one test apart) and start its
 * writer; on Windows, return once the pipe accepts a reader. */
void test_fifo_start(test_fifo *f, const char *name, uint64_t n);
/* Wait for the writer and return its exit status. */
int test_fifo_wait(test_fifo *f);
/* End the writer, which may still wait for a reader. */
void test_fifo_stop(test_fifo *f);

/* An anonymous pipe: fds[0] reads, fds[1] writes (Windows: C runtime
 * descriptors in binary mode with a 64 KiB buffer, so up to 64 KiB can be
 * written before anything is read). Both are close-on-exec. */
void test_pipe(int fds[2]);

/* ------------------------------------------------------------------------ */
/* Threads                                                                   */
/* ------------------------------------------------------------------------ */

/* A thread running fn(arg) (pthreads, or CreateThread on Windows). */
typedef struct test_thread {
  intptr_t id;
} test_thread;

/* Start a thread; fails the test if it cannot be made. */
test_thread test_thread_start(void *(*fn)(void *arg), void *arg);
/* Wait for it to end. */
void test_thread_join(test_thread t);

/* A pipe that a thread feeds: data[0, n) written in pieces of 1 to
 * max_chunk bytes (sizes drawn from a generator seeded with n, so every
 * run cuts the same way), sleeping pause_ms after each piece, then the
 * write end closed. Start returns the read end, which the caller closes;
 * join waits for the writer. data must live until the join. */
typedef struct test_fed_pipe {
  int fd;
  const unsigned char *data;
  size_t n, max_chunk;
  unsigned pause_ms;
  test_thread writer;
} test_fed_pipe;
int test_fed_pipe_start(test_fed_pipe *f, const void *data, size_t n,
                        size_t max_chunk, unsigned pause_ms);
void test_fed_pipe_join(test_fed_pipe *f);

/* ------------------------------------------------------------------------ */
/* Random inputs                                                             */
/* ------------------------------------------------------------------------ */

/* Pseudo-random numbers (xorshift64) from a fixed seed: every test (each
 * its own process) draws the same sequence on every run, so a failing
 * input comes back. */
uint64_t test_rand(void);
/* One step of the same generator on a state of the caller's (not 0). */
uint64_t test_rand_next(uint64_t *state);

#endif /* MMF_TEST_H */
