/*
 * mutex.c - a robust mutex that is 64 bytes of any shared map.
 *
 * The bytes are the whole mutex: no OS object and no pointer lives in
 * them, all-zero bytes are an unlocked mutex (a new file or region needs
 * no initialisation, so there is no race to initialise it), and every
 * field has a fixed width and byte order, so 32- and 64-bit processes and
 * every C library read them alike. Layout (little-endian; docs/sharing.md
 * is the reference):
 *
 *   0  u32  lock word: 0 unlocked; bits 0-29 the owner's id, bit 30
 *           OWNER_DIED (the owner died; its successor has not declared
 *           the data consistent), bit 31 WAITERS (somebody may sleep on
 *           the word). OWNER_DIED with no owner: not recoverable.
 *   4  u32  owner tag: tells this owner from earlier ones with its id.
 *   8  u32  owner's process id, 12 u32 its namespaces: written after the
 *           lock is taken and left when it is let go, so they name the
 *           last owner (for tools, and to know which owners this process
 *           can judge; see holder_died for why stale values are safe).
 *   16      48 bytes reserved, zero.
 *
 * Bytes 0-7 are read and written as one 64-bit atomic, so an owner never
 * appears with another owner's tag.
 *
 * Locking is one compare-and-swap of 0 for our (id, tag). A locker that
 * finds the mutex held spins briefly, asks once whether the owner exists
 * at all (a reaped owner is found at once), then sets WAITERS and sleeps on the
 * lock word (mmf__os_wait: a futex on Linux) for a check interval that
 * grows from 1 ms to 16 ms. When the same owner held the lock through a
 * whole interval it asks the backend whether that owner still runs; a
 * dead owner's word is swapped for ours with OWNER_DIED set, and the
 * caller gets MMF_EOWNERDEAD. So an owner's death is seen within one
 * interval (16 ms at most, plus the look at /proc), live owners are looked
 * at about 63 times a second per waiter, and no waiter ever spins
 * for long. Unlocking swaps the word for 0 (or for "not recoverable" when
 * OWNER_DIED is still set) and wakes a sleeper if WAITERS was set.
 *
 * Where the backend has kernel mutex objects (Windows: a named mutex is
 * abandoned when its owner dies) the object excludes, and the bytes only
 * record the owner and the OWNER_DIED / not-recoverable state, so the
 * state survives the object (which dies with its last handle).
 *
 * Every access to the bytes is guarded: a region cut under the map is an
 * error code, never SIGBUS. The uncontended lock and unlock are each one
 * call to a tiny routine of the backend whose faults the handler knows by
 * the instruction's address (os.h, "Guarded atomics without a frame"), no
 * frame to arm; the rest, and builds without those routines, arm frames.
 */
#include <limits.h>
#include <stdatomic.h>

#include "os/guard.h"
#include "share/share.h"

_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2,
               "the mutex needs lock-free 64-bit atomics (i586 or later)");

#define OWNER_MASK 0x3FFFFFFFu
#define OWNER_DIED 0x40000000u
#define WAITERS 0x80000000u
#define NOT_RECOVERABLE ((uint64_t)OWNER_DIED)

/* Looks at a held word before sleeping: a holder that is about to let go
 * is cheaper to wait for awake than asleep, but a long spin only burns
 * the core the holder may need. */
#define SPINS 40
#define CHECK_FIRST_NS 1000000
/* Each wake-up to look costs the sleeper CPU time: 40-70 us on the virtual
 * machines measured here (the timer and the context switches, not the
 * look). 16 ms between looks keeps a blocked locker near half a percent of
 * a core there and still reports an owner's death well inside 50 ms. */
#define CHECK_MAX_NS 16000000

#if defined(__GNUC__) || defined(__clang__)
#define NOINLINE __attribute__((noinline))
#else
#define NOINLINE
#endif

typedef struct mutex_ref {
  mmf_map *m;
  _Atomic uint64_t *word; /* bytes 0-7: lock word and tag */
  _Atomic uint64_t *info; /* bytes 8-15: process id and namespaces */
  void *p;
} mutex_ref;

static uint64_t word_of(const mmf__owner *o, uint32_t flags) {
  return (uint64_t)(o->id | flags) | (uint64_t)o->tag << 32;
}

static uint64_t info_of(const mmf__owner *o) {
  return (uint64_t)o->pid | (uint64_t)o->ns << 32;
}

static uint32_t owner_of(uint64_t w) { return (uint32_t)w & OWNER_MASK; }

static int is_mine(uint64_t w, const mmf__owner *me) {
  return owner_of(w) == me->id && (uint32_t)(w >> 32) == me->tag;
}

/* Owner, tag and OWNER_DIED equal: the same holder, WAITERS aside. */
static int same_holder(uint64_t a, uint64_t b) {
  return ((a ^ b) & ~(uint64_t)WAITERS) == 0;
}

/* ------------------------------------------------------------------------ */
/* Guarded access to the bytes                                               */
/* ------------------------------------------------------------------------ */

enum { OP_LOAD, OP_CAS, OP_SWAP, OP_STORE };

typedef struct access {
  _Atomic uint64_t *at;
  int op;
  uint64_t value; /* LOAD: result; CAS: expected, then seen; SWAP: old */
  uint64_t store; /* CAS, SWAP, STORE: the new value */
  int ok;         /* CAS: succeeded */
} access;

static int do_access(void *ctx) {
  access *a = ctx;
  switch (a->op) {
  case OP_LOAD:
    a->value = atomic_load_explicit(a->at, memory_order_acquire);
    break;
  case OP_CAS:
    a->ok = atomic_compare_exchange_strong_explicit(
        a->at, &a->value, a->store, memory_order_acq_rel, memory_order_acquire);
    break;
  case OP_SWAP:
    a->value = atomic_exchange_explicit(a->at, a->store, memory_order_acq_rel);
    break;
  default:
    atomic_store_explicit(a->at, a->store, memory_order_release);
    break;
  }
  return 0;
}

static int run(mutex_ref *r, access *a) {
  return mmf__share_guarded(r->m, r->p, MMF_MUTEX_SIZE, a->op != OP_LOAD,
                            do_access, a);
}

static int load_at(mutex_ref *r, _Atomic uint64_t *at, uint64_t *v) {
  access a = {at, OP_LOAD, 0, 0, 0};
  int rc = run(r, &a);
  *v = a.value;
  return rc;
}

static int load(mutex_ref *r, uint64_t *w) { return load_at(r, r->word, w); }

/* Swap *expected for desired; *ok says whether it happened, *expected is
 * what was there. */
static int cas(mutex_ref *r, uint64_t *expected, uint64_t desired, int *ok) {
  access a = {r->word, OP_CAS, *expected, desired, 0};
  int rc = run(r, &a);
  *expected = a.value;
  *ok = a.ok;
  return rc;
}

static int store(mutex_ref *r, _Atomic uint64_t *at, uint64_t v) {
  access a = {at, OP_STORE, 0, v, 0};
  return run(r, &a);
}

static int swap(mutex_ref *r, uint64_t v, uint64_t *old) {
  access a = {r->word, OP_SWAP, 0, v, 0};
  int rc = run(r, &a);
  *old = a.value;
  return rc;
}

/* For mmf__os_wait: 1 while the lock word holds what we slept on. */
typedef struct word_check {
  mutex_ref *r;
  uint32_t expected;
} word_check;

static int word_holds(void *ctx) {
  word_check *c = ctx;
  uint64_t w;
  int rc = load(c->r, &w);
  return rc ? rc : (uint32_t)w == c->expected;
}

/* The mutex's bytes at off of m, checked. */
static int find(mmf_map *m, uint64_t off, void **p) {
  int rc = mmf__share_bytes(m, off, MMF_MUTEX_SIZE, MMF_MUTEX_SIZE, p);
  if (rc == 0 && m->mode == MMF_READ)
    rc = MMF_EACCES;
  return rc;
}

static void refer(mmf_map *m, void *p, mutex_ref *r) {
  r->m = m;
  r->p = p;
  r->word = p;
  r->info = (_Atomic uint64_t *)((unsigned char *)p + 8);
}

/* ------------------------------------------------------------------------ */
/* The bytes alone (POSIX)                                                   */
/* ------------------------------------------------------------------------ */

/*
 * The uncontended lock and unlock. Where the backend has guarded atomics
 * without a frame (MMF__FAULT_ATOMICS, os.h) each is one call to a tiny
 * routine, made from the public call itself, whose every other call is a
 * tail call: so it saves no registers and needs no frame (a good part of
 * what an uncontended lock costs). Elsewhere they arm a frame inline, once
 * for their few accesses.
 */
#if MMF__FAULT_ATOMICS

/* The code of the fault the last routine recorded. */
static NOINLINE int faulted(mmf_map *m) {
  return mmf__share_fail(mmf__fault_code(m, &mmf__fault_atomic_record, 1), 0);
}

#else

/* One compare-and-swap of 0 for our word, then our process fields. 1
 * taken, 0 not, or a fault code. */
static int try_once(mmf_map *m, void *p, const mmf__owner *me) {
  _Atomic uint64_t *word = p;
  _Atomic uint64_t *info = word + 1;
  mmf__guard_frame fr;
  mmf__fault fault;
  volatile int taken = 0;
  uint64_t expected = 0;
  if (mmf__guard_prepare(&fr, &fault, p, MMF_MUTEX_SIZE) != 0)
    return MMF_ENOMEM;
  if (MMF__SETJMP(fr.jump) == 0) {
    mmf__guard_enter(&fr);
    if (atomic_compare_exchange_strong_explicit(word, &expected, word_of(me, 0),
                                                memory_order_acquire,
                                                memory_order_relaxed)) {
      atomic_store_explicit(info, info_of(me), memory_order_relaxed);
      taken = 1;
    }
    mmf__guard_leave(&fr);
    return taken;
  }
  mmf__guard_leave(&fr);
  return mmf__fault_code(m, &fault, 1);
}

/* Ours, no flags, nobody waiting: swap the word for 0 (the process fields
 * keep naming us, the last owner). 1 done, 0 not (the caller takes the
 * slow path), or a fault code. A plain load goes first, so that a page cut
 * under the mutex faults there and not inside the swap: ThreadSanitizer,
 * which builds take this path, does a release-order swap holding a lock
 * of its own, and the jump out of a fault would leave that lock held (the
 * next swap on the word then waits for ever). A frame costs more than
 * the load anyway. */
static int release_once(mmf_map *m, void *p, const mmf__owner *me) {
  _Atomic uint64_t *word = p;
  mmf__guard_frame fr;
  mmf__fault fault;
  volatile int done = 0;
  uint64_t expected = word_of(me, 0);
  if (mmf__guard_prepare(&fr, &fault, p, MMF_MUTEX_SIZE) != 0)
    return MMF_ENOMEM;
  if (MMF__SETJMP(fr.jump) == 0) {
    mmf__guard_enter(&fr);
    if (atomic_load_explicit(word, memory_order_relaxed) == expected)
      done = atomic_compare_exchange_strong_explicit(
          word, &expected, 0, memory_order_release, memory_order_relaxed);
    mmf__guard_leave(&fr);
    return done;
  }
  mmf__guard_leave(&fr);
  return mmf__fault_code(m, &fault, 1);
}

#endif

/* Whether the holder recorded in w has died: 0 with *dead set, or a fault
 * code. The process fields are written just after the lock word, so for a
 * moment after a new owner took the word they still name the one before
 * it (or hold 0, in a mutex never locked before). That is safe: fields
 * naming another PID namespace than ours only make us wait, and fields
 * naming ours, or 0, make us judge the owner's id here, which is right
 * whenever the processes share a PID namespace, as they must to see each
 * other die at all. */
static int holder_died(mutex_ref *r, uint64_t w, int *dead) {
  uint64_t info;
  int rc = load_at(r, r->info, &info);
  *dead = rc == 0 && !mmf__os_owner_alive(owner_of(w), (uint32_t)(w >> 32),
                                          (uint32_t)(info >> 32));
  return rc;
}

/* Take the word w of a dead owner. 0 with *took set, or a fault code. */
static int take_over(mutex_ref *r, const mmf__owner *me, uint64_t w,
                     int *took) {
  int rc = cas(r, &w, word_of(me, WAITERS | OWNER_DIED), took);
  if (rc == 0 && *took)
    rc = store(r, r->info, info_of(me));
  return rc;
}

static int64_t deadline_of(int64_t now, int64_t timeout_ns) {
  return timeout_ns > INT64_MAX - now ? INT64_MAX : now + timeout_ns;
}

static int lock_bytes(mutex_ref *r, const mmf__owner *me, int64_t timeout_ns,
                      int *oserr) {
  int64_t now = 0, deadline = INT64_MAX, check_ns = CHECK_FIRST_NS, nap;
  uint64_t w, again;
  int spins = 0, slept = 0, ok, dead, rc;
  mmf__place pl;
  word_check wc;
  mmf__share_place(r->m, r->p, &pl);
  wc.r = r;
  if (timeout_ns > 0) {
    rc = mmf__os_monotonic_ns(&now, oserr);
    if (rc)
      return rc;
    deadline = deadline_of(now, timeout_ns);
  }
  for (;;) {
    rc = load(r, &w);
    if (rc)
      return rc;
    if ((uint32_t)w == 0) {
      /* After a sleep others may sleep too: keep WAITERS so that our
       * unlock wakes the next. */
      rc = cas(r, &w, word_of(me, slept ? WAITERS : 0), &ok);
      if (rc == 0 && ok)
        rc = store(r, r->info, info_of(me));
      if (rc || ok)
        return rc;
      continue;
    }
    if (owner_of(w) == 0)
      return MMF_ENOTRECOVERABLE;
    if (is_mine(w, me))
      return MMF_EDEADLK;
    if (timeout_ns == 0) {
      /* A try: only a dead owner's mutex can be had at once. */
      rc = holder_died(r, w, &dead);
      if (rc || !dead)
        return rc ? rc : MMF_ETIMEDOUT;
      rc = take_over(r, me, w, &ok);
      if (rc || ok)
        return rc ? rc : MMF_EOWNERDEAD;
      continue;
    }
    if (spins < SPINS) {
      spins++;
      mmf__cpu_relax();
      continue;
    }
    if (!slept) {
      /* About to sleep for the first time: an owner whose thread no
       * longer exists at all (a crashed process its parent reaped) is
       * found with one system call, not after a check interval. */
      rc = load_at(r, r->info, &again);
      if (rc)
        return rc;
      if (mmf__os_owner_gone(owner_of(w), (uint32_t)(w >> 32),
                             (uint32_t)(again >> 32)) &&
          holder_died(r, w, &dead) == 0 && dead) {
        rc = take_over(r, me, w, &ok);
        if (rc || ok)
          return rc ? rc : MMF_EOWNERDEAD;
        continue;
      }
    }
    if (!((uint32_t)w & WAITERS)) {
      again = w;
      rc = cas(r, &again, w | WAITERS, &ok);
      if (rc)
        return rc;
      if (!ok)
        continue;
      w |= WAITERS;
    }
    nap = check_ns;
    if (timeout_ns > 0) {
      rc = mmf__os_monotonic_ns(&now, oserr);
      if (rc)
        return rc;
      if (now >= deadline)
        return MMF_ETIMEDOUT;
      if (deadline - now < nap)
        nap = deadline - now;
    }
    wc.expected = (uint32_t)w;
    rc = mmf__os_wait(&pl, (uint32_t)w, nap, word_holds, &wc, oserr);
    slept = 1;
    if (rc != MMF_ETIMEDOUT && rc != 0)
      return rc;
    if (rc == MMF_ETIMEDOUT) {
      /* Held by the same owner for a whole interval: does it still run? */
      rc = load(r, &again);
      if (rc == 0 && same_holder(again, w))
        rc = holder_died(r, again, &dead);
      else
        dead = 0;
      if (rc == 0 && dead)
        rc = take_over(r, me, again, &ok);
      if (rc)
        return rc;
      if (dead && ok)
        return MMF_EOWNERDEAD;
      if (check_ns < CHECK_MAX_NS)
        check_ns *= 2;
    }
  }
}

static int unlock_bytes(mutex_ref *r, const mmf__owner *me, int *oserr) {
  uint64_t w, old, next;
  mmf__place pl;
  int rc, ok;
  rc = load(r, &w);
  if (rc)
    return rc;
  if (!is_mine(w, me))
    return MMF_EPERM;
  if (w == word_of(me, 0)) {
    /* Nobody sleeps: one compare-and-swap, if nobody came meanwhile. */
    rc = cas(r, &w, 0, &ok);
    if (rc || ok)
      return rc;
  }
  /* Only the owner changes the owner bits, so a swap is safe; it reports
   * a WAITERS bit set meanwhile. */
  next = ((uint32_t)w & OWNER_DIED) ? NOT_RECOVERABLE : 0;
  rc = swap(r, next, &old);
  if (rc)
    return rc;
  if (!((uint32_t)old & WAITERS) && next == 0)
    return 0;
  mmf__share_place(r->m, r->p, &pl);
  /* Not recoverable: every sleeper must learn it. */
  return mmf__os_wake(&pl, next ? INT_MAX : 1, oserr);
}

/* ------------------------------------------------------------------------ */
/* Kernel objects (Windows)                                                  */
/* ------------------------------------------------------------------------ */

static int lock_object(mutex_ref *r, const mmf__owner *me, int64_t timeout_ns,
                       int *oserr) {
  mmf__place pl;
  uint64_t w;
  void *held;
  int rc, abandoned = 0, died;
  mmf__share_place(r->m, r->p, &pl);
  rc = load(r, &w);
  if (rc)
    return rc;
  if ((uint32_t)w && owner_of(w) == 0)
    return MMF_ENOTRECOVERABLE;
  rc = mmf__os_mutex_acquire(&pl, timeout_ns, &abandoned, &held, oserr);
  if (rc)
    return rc;
  rc = load(r, &w);
  if (rc == 0 && (uint32_t)w && owner_of(w) == 0)
    rc = MMF_ENOTRECOVERABLE;
  if (rc == 0) {
    /* The bytes still naming an owner means it died while nobody had the
     * object open (so the kernel forgot it). */
    died = abandoned || owner_of(w) != 0 || ((uint32_t)w & OWNER_DIED);
    rc = store(r, r->word, word_of(me, died ? OWNER_DIED : 0));
    if (rc == 0)
      rc = store(r, r->info, info_of(me));
    if (rc == 0)
      return died ? MMF_EOWNERDEAD : 0;
  }
  (void)mmf__os_mutex_release(held, NULL);
  return rc;
}

static int unlock_object(mutex_ref *r, int *oserr) {
  mmf__place pl;
  uint64_t w;
  void *held;
  int rc;
  mmf__share_place(r->m, r->p, &pl);
  rc = mmf__os_mutex_held(&pl, &held, oserr);
  if (rc || !held)
    return rc ? rc : MMF_EPERM;
  rc = load(r, &w);
  if (rc == 0)
    rc = store(r, r->word,
               ((uint32_t)w & OWNER_DIED) ? NOT_RECOVERABLE : (uint64_t)0);
  /* Let go of the object even when the bytes are gone. */
  int rrc = mmf__os_mutex_release(held, oserr);
  return rc ? rc : rrc;
}

/* ------------------------------------------------------------------------ */
/* The public calls                                                          */
/* ------------------------------------------------------------------------ */

/* A lock (or unlock) that was not done at once: the waits, the dead
 * owners, the backend's objects, or (without the routines) the guarded
 * steps themselves. Out of line, so that the uncontended call does not
 * pay for this one's frame. */
static NOINLINE int slow(mmf_map *m, void *p, int unlocking,
                         int64_t timeout_ns) {
  const mmf__owner *me = mmf__os_owner_self();
  mutex_ref r;
  int rc, oserr = 0;
#if !MMF__FAULT_ATOMICS
  if (!mmf__os_mutex_objects()) {
    rc = unlocking ? release_once(m, p, me) : try_once(m, p, me);
    if (rc != 0)
      return rc == 1 ? 0 : mmf__share_fail(rc, 0);
  }
#endif
  refer(m, p, &r);
  if (mmf__os_mutex_objects())
    rc = unlocking ? unlock_object(&r, &oserr)
                   : lock_object(&r, me, timeout_ns, &oserr);
  else
    rc = unlocking ? unlock_bytes(&r, me, &oserr)
                   : lock_bytes(&r, me, timeout_ns, &oserr);
  return mmf__share_fail(rc, oserr);
}

/*
 * The public calls keep the uncontended case to the checks and one
 * routine. The first lock of a thread (its owner id not yet learnt, the
 * guard not yet ready in it) goes the slow way, which readies both.
 */
int mmf_mutex_lock(mmf_map *m, uint64_t off, int64_t timeout_ns) {
  void *p;
  int rc = find(m, off, &p);
  if (rc)
    return mmf__share_fail(rc, 0);
#if MMF__FAULT_ATOMICS
  const mmf__owner *me = mmf__os_owner_known(); /* and the guard ready */
  if (me) {
    rc = mmf__fault_acquire_call(&mmf__fault_atomic_record, p, word_of(me, 0),
                                 info_of(me));
    if (rc == 1)
      return 0; /* the common case: nothing else to do */
    if (rc == MMF__FAULT_ATOMIC_FAULTED)
      return faulted(m);
  }
#endif
  return slow(m, p, 0, timeout_ns);
}

int mmf_mutex_unlock(mmf_map *m, uint64_t off) {
  void *p;
  int rc = find(m, off, &p);
  if (rc)
    return mmf__share_fail(rc, 0);
#if MMF__FAULT_ATOMICS
  const mmf__owner *me = mmf__os_owner_known(); /* and the guard ready */
  if (me) {
    rc = mmf__fault_release_call(&mmf__fault_atomic_record, p, word_of(me, 0));
    if (rc == 1)
      return 0;
    if (rc == MMF__FAULT_ATOMIC_FAULTED)
      return faulted(m);
  }
#endif
  return slow(m, p, 1, 0);
}

int mmf_mutex_consistent(mmf_map *m, uint64_t off) {
  mutex_ref r;
  const mmf__owner *me;
  mmf__place pl;
  uint64_t w;
  void *held = NULL, *p;
  int rc, ok = 0, oserr = 0;
  rc = find(m, off, &p);
  if (rc)
    return mmf__share_fail(rc, 0);
  refer(m, p, &r);
  me = mmf__os_owner_self();
  mmf__share_place(m, r.p, &pl);
  if (mmf__os_mutex_objects()) {
    rc = mmf__os_mutex_held(&pl, &held, &oserr);
    if (rc)
      return mmf__share_fail(rc, oserr);
  }
  do {
    rc = load(&r, &w);
    if (rc)
      break;
    if (mmf__os_mutex_objects() ? !held : !is_mine(w, me))
      rc = MMF_EPERM;
    else if (!((uint32_t)w & OWNER_DIED))
      rc = MMF_EINVAL;
    else
      rc = cas(&r, &w, w & ~(uint64_t)OWNER_DIED, &ok);
  } while (rc == 0 && !ok);
  return mmf__share_fail(rc, 0);
}
