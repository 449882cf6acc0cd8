/*
 * test.h - the small test framework of the mmf test programs.
 *
 * A test program is one or more test_*.c files plus test_main.c. Each file
 * defines tests with TEST(name) { ... }; they register themselves before
 * main() runs. The runner (test_main.c):
 *
 *   prog NAME     runs test NAME in this process (this is what CTest does)
 *   prog          runs every test, each in a forked child, and summarises
 *   prog --list   prints the test names
 *
 * Exit status: 0 pass, 1 fail, 77 skip. Tests provoke SIGBUS and SIGSEGV on
 * purpose, so every test runs in a process of its own.
 *
 * The assertion macros print the expression, both operands and file:line,
 * then end the test. A failing assertion in a child process forked by the
 * test ends that child with status 1.
 */
#ifndef MMF_TEST_H
#define MMF_TEST_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include "mmf.h"

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
__attribute__((noreturn, format(printf, 3, 4))) void
test_fail(const char *file, int line, const char *fmt, ...);

/* Print "SKIP: reason" and end the test with status 77. */
__attribute__((noreturn, format(printf, 1, 2))) void test_skip(const char *fmt,
                                                               ...);

/* Set a line that a failure prints after its message (e.g. which step of a
 * loop was running); NULL clears it. */
__attribute__((format(printf, 1, 2))) void test_context(const char *fmt, ...);
void test_context_clear(void);

/* Print a note on stdout ("# ..."), e.g. the number of paths walked. */
__attribute__((format(printf, 1, 2))) void test_note(const char *fmt, ...);

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

/* The wait status st must be a normal exit with code. */
#define ASSERT_EXITED(st, code)                                                \
  test_assert_exited(__FILE__, __LINE__, #st, (st), (code))
/* The wait status st must be death by signal sig. */
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
/* Helpers                                                                   */
/* ------------------------------------------------------------------------ */

/* The test's own temporary directory, made with mkdtemp under $TMPDIR (or
 * /tmp) on first use and removed with its contents when the test ends. */
const char *test_dir(void);

/* test_dir()/name in a static buffer; 16 buffers are used in turn, so up to
 * 16 results may be held at once. */
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

/* Create or truncate path as a sparse file of size bytes (no data blocks). */
void make_sparse(const char *path, uint64_t size);

/* Size of path by stat(); fails the test on error. */
uint64_t file_size(const char *path);

/* pread n bytes at off from path into buf; fails the test on a short read. */
void read_at(const char *path, uint64_t off, void *buf, size_t n);

/* pwrite n bytes at off into path; fails the test on error. */
void write_at(const char *path, uint64_t off, const void *buf, size_t n);

/* Open descriptors of this process (entries of /proc/self/fd). */
int count_open_fds(void);

/* Whether the program was built with AddressSanitizer (which, among other
 * things, turns mlock() into a no-op and catches SIGSEGV itself). */
bool test_under_asan(void);

/* Mappings of this process (lines of /proc/self/maps, without those of
 * AddressSanitizer's allocator). */
int count_mappings(void);

/* Lines of /proc/self/maps that contain needle (e.g. a file name). */
int count_mappings_of(const char *needle);

/* Value in kB of a "Key:" line of /proc/self/status (e.g. "VmLck"), or -1. */
long proc_status_kb(const char *key);

/* Start fn(arg) in a forked child that exits with fn's return value. */
pid_t start_child(int (*fn)(void *arg), void *arg);
/* Wait for a child and return its raw wait status. */
int wait_child(pid_t pid);
/* start_child + wait_child. */
int run_in_child(int (*fn)(void *arg), void *arg);

/* run_in_child for a fn that is expected to die of SIGSEGV or SIGBUS: under
 * AddressSanitizer the child first restores the default actions, since
 * ASan would turn the signal into exit status 1. */
int run_crashing_child(int (*fn)(void *arg), void *arg);

/* Whether this process is the test's own process (not a forked child). */
bool test_in_main_process(void);

#endif /* MMF_TEST_H */
