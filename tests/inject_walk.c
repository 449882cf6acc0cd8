/*
 * inject_walk.c - the failure-injection walk (see inject_walk.h): arming
 * the wrappers, one run in a child process, the walk over N, the counts.
 */
#include "inject_walk.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "os/alloc.h"
#include "os/os.h"

/* ------------------------------------------------------------------------ */
/* Arming                                                                    */
/* ------------------------------------------------------------------------ */

static const inject_backend *backend;
static _Thread_local int armed; /* in the thread that armed the walk */
/* Profile T armed: every thread's allocations count. Written after
 * profile and target, so a thread that sees it set sees them too. */
static atomic_bool armed_any;
static int profile;                /* 0: A, 1: B, INJECT_ALLOC(_ANY) */
static int target;                 /* fail the target-th call; 0: never */
static atomic_int calls_made;      /* calls seen while armed */
static atomic_int calls_elsewhere; /* of them, in other threads (T) */
static atomic_int hit_call;        /* the call that failed, or -1 */
static int hit_err;                /* with which error */
static int memory_kept;

static const char *const profile_names[INJECT_PROFILES] = {"A", "B", "M", "T"};

/* The allocations of the table os/alloc.h, for the allocation profile:
 * their names (hit_call in that profile), and the blocks the library
 * holds, from every thread (a worker may free what the caller took). */
static const char *const alloc_names[] = {"malloc", "calloc", "realloc"};
static atomic_long blocks_live;

void inject_arm(const inject_backend *b, int prof, int n) {
  backend = b;
  profile = prof;
  target = n;
  atomic_store(&calls_made, 0);
  atomic_store(&calls_elsewhere, 0);
  atomic_store(&hit_call, -1);
  hit_err = 0;
  armed = 1;
  atomic_store(&armed_any, prof == INJECT_ALLOC_ANY);
}

void inject_disarm(void) {
  atomic_store(&armed_any, false);
  armed = 0;
}

bool inject_hit(void) { return atomic_load(&hit_call) >= 0; }

int inject_failed_call(void) { return atomic_load(&hit_call); }

int inject_calls_made(void) { return atomic_load(&calls_made); }

int inject_calls_elsewhere(void) { return atomic_load(&calls_elsewhere); }

const inject_backend *inject_current(void) { return backend; }

int inject_check(int call) {
  if (!armed || profile >= INJECT_ALLOC)
    return 0;
  const int k = atomic_fetch_add(&calls_made, 1) + 1;
  if (target == 0 || k != target)
    return 0;
  atomic_store(&hit_call, call);
  hit_err = backend->calls[call].err[profile];
  return hit_err;
}

void inject_memory_kept(void) { memory_kept = 1; }

/* ------------------------------------------------------------------------ */
/* The allocation profile                                                    */
/* ------------------------------------------------------------------------ */

/* Whether this allocation (which: its index in alloc_names) is the one to
 * fail. In profile M counted like the OS calls of the other profiles, only
 * in the thread that armed the walk; in T in every thread, one count. */
static bool alloc_fails(int which) {
  /* armed_any first: a thread that did not arm reads profile only once
   * the arming thread has published it. */
  if (atomic_load(&armed_any)) {
    if (!armed)
      atomic_fetch_add(&calls_elsewhere, 1);
  } else if (!armed || profile != INJECT_ALLOC) {
    return false;
  }
  const int k = atomic_fetch_add(&calls_made, 1) + 1;
  if (target == 0 || k != target)
    return false;
  atomic_store(&hit_call, which); /* hit_err stays 0: no OS error */
  return true;
}

static void *w_malloc(size_t n) {
  void *p = alloc_fails(0) ? NULL : mmf__alloc_real.malloc(n);
  if (p != NULL)
    atomic_fetch_add(&blocks_live, 1);
  return p;
}
static void *w_calloc(size_t count, size_t size) {
  void *p = alloc_fails(1) ? NULL : mmf__alloc_real.calloc(count, size);
  if (p != NULL)
    atomic_fetch_add(&blocks_live, 1);
  return p;
}
/* A failed realloc keeps the old block: the count changes only when a
 * block is born. */
static void *w_realloc(void *old, size_t n) {
  void *p = alloc_fails(2) ? NULL : mmf__alloc_real.realloc(old, n);
  if (p != NULL && old == NULL)
    atomic_fetch_add(&blocks_live, 1);
  return p;
}
static void w_free(void *p) {
  if (p != NULL)
    atomic_fetch_sub(&blocks_live, 1);
  mmf__alloc_real.free(p);
}

/* Both tables through the wrappers; installed before the library's first
 * allocation of a run, so every block it frees was counted. */
void inject_install(const inject_backend *b) {
  backend = b;
  b->install();
  mmf__alloc.malloc = w_malloc;
  mmf__alloc.calloc = w_calloc;
  mmf__alloc.realloc = w_realloc;
  mmf__alloc.free = w_free;
}

void inject_restore(const inject_backend *b) {
  b->restore();
  mmf__alloc = mmf__alloc_real;
}

long inject_blocks_live(void) { return atomic_load(&blocks_live); }

/* The name of the call that failed in this run, for messages. */
static const char *hit_name(const inject_backend *b) {
  const int call = atomic_load(&hit_call);
  if (call < 0)
    return "none";
  return profile >= INJECT_ALLOC ? alloc_names[call] : b->calls[call].name;
}

/* ------------------------------------------------------------------------ */
/* One run                                                                   */
/* ------------------------------------------------------------------------ */

/* Case i of the portable ones followed by the backend's. */
static const inject_case *case_at(const inject_backend *b, int i) {
  return i < inject_n_cases ? &inject_cases[i] : &b->cases[i - inject_n_cases];
}

static void teardown(inject_ctx *c) {
  /* What the setup made may still use the map (a waiting thread). */
  if (c->release != NULL) {
    c->release(c);
    c->release = NULL;
  }
  int rc = mmf_close(c->m);
  c->m = NULL;
  if (rc != 0 && rc != MMF_EPOISONED && !memory_kept)
    FAIL("close after the run: %s", mmf_errname(rc));
  if (c->fifo_live) {
    test_fifo_stop(&c->fifo);
    c->fifo_live = false;
  }
}

/* The run's marker file: '1' once the operation returned with its call
 * failed, '0' once it returned without making that many calls. */
static const char *marker(void) { return test_path("inject.run"); }

/* One run of case w with call n failing, and every check; the mapping
 * count only when check_maps. Writes the marker once the operation has
 * returned. */
static void run_checked(const inject_backend *b, const inject_case *w, int prof,
                        int n, bool check_maps) {
  inject_ctx c;
  const int fds = count_open_fds();
  const bool file_maps = strcmp(w->group, INJECT_THREADS_GROUP) == 0;
  const int maps = file_maps ? count_mappings_of(test_dir()) : count_mappings();
  const long blocks = atomic_load(&blocks_live);
  const int threads = count_threads();
  memset(&c, 0, sizeof c);
  w->setup(&c);
  memory_kept = 0;
  inject_arm(b, prof, n);
  int rc = w->op(&c);
  inject_disarm();
  const bool hit = inject_hit();
  const int err = hit_err;
  write_file(marker(), hit ? "1" : "0", 1);
  test_context("%s [%s], call %d (%s) failing with %s, result %s", w->name,
               profile_names[prof], n, hit_name(b),
               !hit                   ? "nothing"
               : prof >= INJECT_ALLOC ? "no memory"
                                      : b->error_text(err),
               mmf_errname(rc));

  if (!test_is_mmf_error(rc) && rc != 0)
    FAIL("returned %d, not an MMF code", rc);
  if (!hit && rc != w->expect)
    FAIL("with no failure injected got %s, expected %s", mmf_errname(rc),
         mmf_errname(w->expect));
  if (hit && rc != w->expect) {
    /* A failed allocation is MMF_ENOMEM with no OS error behind it. */
    int want = prof >= INJECT_ALLOC ? MMF_ENOMEM : mmf__os_error(err);
    if (rc != want && !(c.instead != 0 && rc == c.instead))
      FAIL("got %s, expected %s (or %s if the call is optional)",
           mmf_errname(rc), mmf_errname(want), mmf_errname(w->expect));
    int os = w->kind == INJ_HANDLE ? mmf_last_os_error(c.m)
             : w->kind == INJ_CALL ? c.os_error
                                   : mmf_last_os_error(NULL);
    /* A failed close leaves no handle to ask (INJ_CALL: os_error -1). */
    if (w->kind != INJ_CLOSES && !(w->kind == INJ_CALL && c.os_error == -1) &&
        os != err)
      FAIL("mmf_last_os_error is %d (%s), expected %d", os, b->error_text(os),
           err);
  }
  if (w->kind == INJ_OPENS && rc != 0 && c.m != NULL)
    FAIL("failed but *out is %p, not NULL", (void *)c.m);
  if ((w->kind == INJ_HANDLE || w->kind == INJ_SHARED) && c.m == NULL)
    FAIL("handle lost");
  if (w->verify)
    w->verify(&c, rc);
  teardown(&c);

  int fds2 = count_open_fds();
  if (fds2 != fds)
    FAIL("%d descriptors or handles before, %d after close", fds, fds2);
  /* A failed unmap or free leaves its memory, by the OS's decision. */
  int maps2 = file_maps ? count_mappings_of(test_dir()) : count_mappings();
  if (check_maps && !memory_kept && maps2 != maps)
    FAIL("%d mappings before, %d after close", maps, maps2);
  long blocks2 = atomic_load(&blocks_live);
  if (blocks2 != blocks)
    FAIL("%ld blocks allocated before, %ld after close", blocks, blocks2);
  /* Every thread the library started has been joined (-1: this OS does
   * not tell). A joined thread can take a moment to leave the list; a
   * thread of the runtime's own may end meanwhile (Wine's). */
  int threads2 = count_threads_settled(threads);
  if (threads2 > threads)
    FAIL("%d threads before, %d after the run", threads, threads2);
  test_context_clear();
}

/* argv: case index, profile name, n. Exits 0 when every check held. */
int inject_step(const inject_backend *b, int argc, char **argv) {
  ASSERT_EQ(argc, 4);
  const inject_case *w = case_at(b, atoi(argv[1]));
  const int prof = argv[2][0] == 'B'   ? 1
                   : argv[2][0] == 'M' ? INJECT_ALLOC
                   : argv[2][0] == 'T' ? INJECT_ALLOC_ANY
                                       : 0;
  const int n = atoi(argv[3]);
  inject_ctx c;
  inject_install(b);
  /* The operation once without injection, so that one-time allocations
   * (stdio's, the C runtime's, the library's) are made before the counts. */
  memset(&c, 0, sizeof c);
  w->setup(&c);
  (void)w->op(&c);
  teardown(&c);
  /* Then twice with call n failing, the mappings counted only the second
   * time: the first time a path allocates, AddressSanitizer records its
   * allocation sites in mappings of its own. A failed unmap leaves its
   * memory (and on Windows a file that cannot be recreated): then the
   * first run is the one. */
  run_checked(b, w, prof, n, false);
  if (!memory_kept)
    run_checked(b, w, prof, n, true);
  return 0;
}

/* ------------------------------------------------------------------------ */
/* The walk                                                                  */
/* ------------------------------------------------------------------------ */

/* Walk case i with one profile; returns the number of failure paths, and
 * adds the runs that failed a check to *failed and the calls the
 * operation makes in threads other than the caller's to *elsewhere.
 * threaded: the operation starts threads (see the baseline). */
static int walk(const inject_backend *b, int i, int prof, int *failed,
                int *elsewhere, bool threaded) {
  const inject_case *w = case_at(b, i);
  inject_ctx c;
  /* The baseline, without injection: how many calls the operation makes
   * bounds the walk. With threads, which thread takes which piece of a
   * split scan is the scheduler's choice (on a busy machine the caller
   * may take them all before a worker starts), and so is how many calls
   * the caller makes: the baseline is repeated 20 times for the most
   * calls, and in profile T until a worker has allocated (50 at most). */
  int calls = 0, others = 0;
  const int tries = !threaded ? 1 : prof == INJECT_ALLOC_ANY ? 50 : 20;
  for (int t = 0; t < tries && !(prof == INJECT_ALLOC_ANY && others > 0); t++) {
    memset(&c, 0, sizeof c);
    w->setup(&c);
    inject_arm(b, prof, 0);
    int rc = w->op(&c);
    inject_disarm();
    if (rc != w->expect)
      FAIL("%s: without injection got %s, expected %s", w->name,
           mmf_errname(rc), mmf_errname(w->expect));
    if (w->verify)
      w->verify(&c, rc);
    teardown(&c);
    if (atomic_load(&calls_made) > calls)
      calls = atomic_load(&calls_made);
    others = atomic_load(&calls_elsewhere);
  }
  *elsewhere += others;

  char idx[16], num[16];
  int paths = 0;
  snprintf(idx, sizeof idx, "%d", i);
  for (int n = 1; n <= 4 * calls + 100; n++) {
    snprintf(num, sizeof num, "%d", n);
    test_unlink(marker());
    /* Names the run if it dies of a signal (test_wait fails then). */
    test_context("%s [%s], call %d", w->name, profile_names[prof], n);
    int st = test_run_child("inject_step", idx, profile_names[prof], num, NULL);
    test_context_clear();
    char got = '?';
    if (test_exists(marker()) && file_size(marker()) == 1)
      read_at(marker(), 0, &got, 1);
    if (st != 0)
      ++*failed;
    /* Without threads the first run that made fewer than n calls ends
     * the walk; with them a run may make fewer calls than the next. */
    if (got == '0' && (!threaded || n > calls))
      return paths;
    if (got == '1')
      paths++;
    else if (got != '0') {
      fprintf(stderr,
              "  %s [%s] call %d: the run ended before the "
              "operation returned\n",
              w->name, profile_names[prof], n);
      return paths;
    }
  }
  FAIL("%s [%s]: the operation made more calls than without injection", w->name,
       profile_names[prof]);
}

/* The walk of group; with_threads: profile T as well. */
static int walk_group(const inject_backend *b, const char *group,
                      bool with_threads) {
  int total = 0, allocs = 0, failed = 0, cases = 0;
  int threaded = 0, any = 0, in_workers = 0, unused = 0;
  inject_install(b);
  for (int i = 0; i < inject_n_cases + b->n_cases; i++) {
    const inject_case *w = case_at(b, i);
    if (strcmp(w->group, group) != 0)
      continue;
    int pa = walk(b, i, 0, &failed, &unused, with_threads);
    int pb = walk(b, i, 1, &failed, &unused, with_threads);
    int pm = walk(b, i, INJECT_ALLOC, &failed, &unused, with_threads);
    total += pa + pb;
    allocs += pm;
    cases++;
    if (!with_threads) {
      test_note("%-45s %3d + %3d paths, %2d allocations", w->name, pa, pb, pm);
      continue;
    }
    int elsewhere = 0;
    int pt = walk(b, i, INJECT_ALLOC_ANY, &failed, &elsewhere, true);
    test_note("%-45s %3d + %3d paths, %2d allocations, %2d in any thread "
              "(%d in workers)",
              w->name, pa, pb, pm, pt, elsewhere);
    threaded++;
    any += pt;
    in_workers += elsewhere;
  }
  inject_restore(b);
  test_note("%d failure paths and %d failing allocations walked in %d cases, "
            "%d failed a check",
            total, allocs, cases, failed);
  ASSERT_GT(total, 0);
  /* The workers do allocate: profile T reaches allocations M does not. */
  if (with_threads) {
    test_note("%d failing allocations of any thread in %d cases with "
              "threads, %d of them made by workers",
              any, threaded, in_workers);
    ASSERT_GT(in_workers, 0);
  }
  return failed;
}

int inject_walk_failures(const inject_backend *b, const char *group) {
  return walk_group(b, group, false);
}

void inject_walk(const inject_backend *b, const char *group) {
  ASSERT_EQ(walk_group(b, group, false), 0);
}

void inject_walk_threads(const inject_backend *b, const char *group) {
  ASSERT_EQ(walk_group(b, group, true), 0);
}
