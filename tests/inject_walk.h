/*
 * inject_walk.h - walk every error path of the public functions by making
 * the backend's OS calls fail, one at a time, and then the library's
 * allocations, one at a time.
 *
 * Every OS call of a backend goes through its table mmf__sys
 * (src/os/posix/sys_posix.h, src/os/win/sys_win.h). A backend's test
 * (test_inject.c, test_windows_inject.c) binds the walk to that table: it
 * replaces each entry by a wrapper that asks inject_check() whether this
 * call is the one to fail, and if so fails it with the OS error the
 * current profile gives that call. For N = 1, 2, ... a case's operation is
 * run with the N-th call (of any kind) failing, until the operation
 * completes without making N calls. Each run must:
 *
 *  - return 0 or a negative MMF code; when it fails because of the failed
 *    call, the code is that OS error translated (mmf__os_error), and
 *    mmf_last_os_error() gives the OS error; when it returns what it
 *    returns without injection, the failed call was optional;
 *  - leave out-parameters NULL on failure, and a handle either usable (its
 *    bytes and size as before, later calls working) or poisoned;
 *  - after close, leave no descriptor or handle and no mapping behind (an
 *    unmap or free that failed legitimately leaves its memory: that run
 *    skips the mapping count).
 *
 * Each case is walked with two error profiles, so paths that depend on the
 * error (mmap ENODEV falls back to reading, mremap ENOMEM moves the map;
 * ERROR_FILE_INVALID from CreateFileMapping falls back to reading) are
 * walked too. A third profile, M, fails the N-th allocation through the
 * library's table (src/os/alloc.h) instead, on every backend alike: the
 * result is MMF_ENOMEM with no OS error (mmf_last_os_error 0) or what the
 * operation returns without injection (the allocation was optional), and
 * every block the library allocated (in any thread) is freed once the
 * handles are closed. M counts the allocations of the calling thread only;
 * a fourth profile, T, for the group INJECT_THREADS_GROUP (operations
 * that start threads of the library: a scan split over threads, whose
 * workers allocate read buffers and the windows around their cuts; walked
 * by inject_walk_threads), counts those of every thread together, so the N-th
 * allocation fails whichever thread makes it (which one that is can differ from
 * run to run: every run must hold all the same), and checks as well that no
 * thread is left after the run. Each run is a child process of its own (a
 * TEST_CHILD, so Windows can run it too), so a failed check ends only that run
 * and the walk goes on to list every failing path; the walk prints how many
 * paths each case took and the total. A run does the operation once without
 * injection before it counts, then twice with the call failing and
 * counts mappings the second time, so that one-time allocations (the C
 * runtime's, the library's, AddressSanitizer's) are not taken for leaks.
 *
 * Adding an OS call to a backend's table: one line in that backend's call
 * list (POSIX_CALLS in test_inject.c, WIN_CALLS in test_windows_inject.c):
 *
 *   X(return type, failure value, name, (parameters), (arguments),
 *     error in profile A, error in profile B)
 *
 * The wrapper, its place in the table and the profiles are made from it.
 * The failure value is an expression that may use inject_err_ (the error
 * being injected) and the parameters, e.g. (mmf__sys_real.close(fd), -1)
 * for a call that releases its descriptor even when it reports an error,
 * or (inject_memory_kept(), -1) for an unmap. (POSIX entries the OS
 * lacks, NULL in the real table, are left alone.) Give every call a different
 * error in each profile where the backend could treat them differently.
 *
 * Adding a public-function case: one line in a case table (the portable
 * ones in inject_cases.c, those only one backend has in its test file):
 *
 *   {"what it does", "group", kind, result without injection,
 *    setup, operation, verify}
 *
 * with the operation (and setup or verify where the shared ones do not
 * fit) written above the table. "group" names the TEST that walks it
 * (inject_walk(&backend, "open") walks every "open" case); a new group
 * needs one TEST per backend that has cases in it.
 */
#ifndef MMF_INJECT_WALK_H
#define MMF_INJECT_WALK_H

#include "test.h"

/* ------------------------------------------------------------------------ */
/* Cases                                                                     */
/* ------------------------------------------------------------------------ */

/* What one run of a case works on. */
typedef struct inject_ctx {
  mmf_map *m;
  uint64_t size0;  /* mmf_size before a handle operation */
  uint64_t fsize0; /* file size before the operation */
  uint64_t bytes;  /* an out-parameter of the operation */
  int os_error;    /* INJ_CALL: the OS error the operation reported */
  /* A code the operation may return for a failed call instead of the OS
   * error's own, by design (0: none); set by the operation before the
   * call that may: the log takes a segment that cannot be found where
   * one must be for damage, MMF_ECORRUPT. */
  int instead;
  test_fifo fifo; /* a stream the setup started (fifo_live) */
  bool fifo_live;
  /* Something else the setup made, and how to undo it after the run. */
  void *aux;
  void (*release)(struct inject_ctx *c);
} inject_ctx;

enum inject_kind {
  INJ_OPENS,  /* the operation creates c->m; a failure leaves it NULL */
  INJ_HANDLE, /* the operation works on the c->m the setup made */
  INJ_SHARED, /* the same, but its OS error is the thread's, not the map's
                 (calls on bytes other processes share) */
  INJ_CLOSES, /* the operation closes c->m */
  INJ_CALL    /* the operation makes, uses and releases what it needs (a
                 scan, a cursor's whole walk) and puts the OS error behind
                 its failure in c->os_error */
};

typedef struct inject_case {
  const char *name;
  const char *group;
  int kind;
  int expect; /* the result without injection */
  void (*setup)(inject_ctx *c);
  int (*op)(inject_ctx *c);
  void (*verify)(inject_ctx *c, int rc); /* after the operation, unarmed */
} inject_case;

/* The group whose cases start threads: after close, the walk counts only
 * the mappings of the test's files there, since the C library keeps what
 * ended threads leave (glibc: cached stacks, a malloc arena per thread
 * that allocated while others ran), more of it whenever more threads
 * happened to be alive at once than in any run before. */
#define INJECT_THREADS_GROUP "threads"

/* The portable cases (inject_cases.c), walked on every backend. */
extern const inject_case inject_cases[];
extern const int inject_n_cases;

/* ------------------------------------------------------------------------ */
/* A backend's binding                                                       */
/* ------------------------------------------------------------------------ */

/* One call of the table: its name and the OS error each profile fails it
 * with. The position in the backend's list is the call's id. */
typedef struct inject_call {
  const char *name;
  int err[2];
} inject_call;

typedef struct inject_backend {
  const inject_call *calls;
  int n_calls;
  void (*install)(void);              /* route the table through the wrappers */
  void (*restore)(void);              /* the real calls again */
  const char *(*error_text)(int err); /* an OS error, for messages */
  /* Cases only this backend has (its own inputs and tricks). */
  const inject_case *cases;
  int n_cases;
  /* The last MMF_ADV_* advice this OS takes (the rest are MMF_ENOTSUP). */
  int last_advice;
  /* Whether a large map keeps its 2 MiB placement when a call of the
   * placement fails (POSIX: yes; Windows maps at any address then, as
   * docs/windows.md says). */
  bool placement_survives_failure;
  /* Whether a named region lives on, unlinked, while it is mapped
   * (Windows: it lives exactly as long as its maps). */
  bool shm_lives_with_maps;
} inject_backend;

/* For the wrappers: the OS error to fail this call with, or 0 to make the
 * real call. call is the call's id. Only the calls of the thread that
 * armed the walk count: a case may start threads (a waiter to wake) whose
 * calls are not the operation's. */
int inject_check(int call);

/* For the wrappers of unmap and free: the failed call left memory mapped,
 * so this run does not count mappings after close. */
void inject_memory_kept(void);

/* The step child each backend's test program registers: the one run of
 * a walk, in a process of its own. */
int inject_step(const inject_backend *b, int argc, char **argv);
#define INJECT_STEP_CHILD(backend)                                             \
  TEST_CHILD(inject_step) { return inject_step(&(backend), argc, argv); }

/* ------------------------------------------------------------------------ */
/* Running                                                                   */
/* ------------------------------------------------------------------------ */

/* Walk every case of group (the portable ones, then the backend's) with
 * both profiles, print the paths each took and their total, and fail the
 * test if any run failed a check. */
void inject_walk(const inject_backend *b, const char *group);
/* The same with profile T as well, and a check that the operations'
 * threads do allocate (the counter of allocations made in other threads
 * than the caller's is above 0): for INJECT_THREADS_GROUP. */
void inject_walk_threads(const inject_backend *b, const char *group);
/* The same, returning how many runs failed a check: the negative
 * controls (group "bad ...": cases that leak, leave *out set or return the
 * wrong code when their call fails) show that the walk finds them. */
int inject_walk_failures(const inject_backend *b, const char *group);

/* The profiles: 0 (A) and 1 (B) fail OS calls with their errors,
 * INJECT_ALLOC (M) fails allocations of the calling thread,
 * INJECT_ALLOC_ANY (T) allocations of any thread. */
#define INJECT_ALLOC 2
#define INJECT_ALLOC_ANY 3
#define INJECT_PROFILES 4

/* For tests of the wrappers themselves: route the backend's table and the
 * allocation table through the wrappers, and back; the blocks the library
 * holds (counted from the install on). */
void inject_install(const inject_backend *b);
void inject_restore(const inject_backend *b);
long inject_blocks_live(void);

/* Arm by hand, for tests of the wrappers themselves: fail the target-th
 * call (0: none) with the errors of profile 0 (A) or 1 (B), or the
 * target-th allocation (INJECT_ALLOC: of this thread; INJECT_ALLOC_ANY: of
 * any thread). */
void inject_arm(const inject_backend *b, int profile, int target);
void inject_disarm(void);
/* Whether the armed run failed a call, which one (its id, or -1; in the
 * allocation profiles 0 malloc, 1 calloc, 2 realloc), the calls it
 * counted, and of those the allocations made by threads other than the
 * one that armed it (INJECT_ALLOC_ANY). */
bool inject_hit(void);
int inject_failed_call(void);
int inject_calls_made(void);
int inject_calls_elsewhere(void);

/* ------------------------------------------------------------------------ */
/* Pieces of cases, for the backends' own cases                              */
/* ------------------------------------------------------------------------ */

#define INJ_FSIZE (3 * 4096 + 5) /* the size of the walks' pattern file */
#define INJ_MIB (1ull << 20)

/* The backend being walked (set in the walk and in each run). */
const inject_backend *inject_current(void);

/* The walks' file, test_path("f"). */
const char *inject_file(void);

/* Setups: a pattern file of INJ_FSIZE bytes; the same opened with mode and
 * o (size0 is the map's size). */
void inject_setup_file(inject_ctx *c);
void inject_open_for_handle(inject_ctx *c, int mode, const mmf_options *o);
void inject_setup_nothing(inject_ctx *c);
void inject_setup_write_map(inject_ctx *c); /* the file opened MMF_WRITE */

/* The map holds pattern bytes [off, off + n) (or a usable copy of them). */
void inject_check_bytes(const inject_ctx *c, uint64_t off, uint64_t n);

/* After a handle operation: bytes and size as before and a later call
 * works, or the handle is poisoned. */
void inject_verify_handle(inject_ctx *c, int rc);

/* After a resize to new_size: on success the map (and a MMF_WRITE map's
 * file) has the new size; on failure map and file are as before, or the
 * map is poisoned. */
void inject_verify_resize(inject_ctx *c, int rc, uint64_t new_size);

/* The robust mutex at INJ_MUTEX of the pattern file: the map opened
 * MMF_WRITE with the mutex's bytes zero; lock (taking over from a dead
 * owner: consistent, unlock); unlock; after the operation a lock and
 * unlock work (or the handle is poisoned); after an unlock that left the
 * dead owner's data unrepaired, the mutex is not recoverable. */
#define INJ_MUTEX 64
void inject_setup_mutex_map(inject_ctx *c);
int inject_op_mutex_take_over(inject_ctx *c);
int inject_op_mutex_unlock(inject_ctx *c);
void inject_verify_mutex(inject_ctx *c, int rc);
void inject_verify_not_recoverable(inject_ctx *c, int rc);

/* File locks: lock, unlock a range and the whole file; after it, the map
 * can lock the whole file again. */
int inject_op_lock_file(inject_ctx *c);
void inject_verify_lock_file(inject_ctx *c, int rc);

#endif /* MMF_INJECT_WALK_H */
