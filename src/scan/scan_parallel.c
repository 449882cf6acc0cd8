/*
 * scan_parallel.c - a count, find or match count of a regular file split
 * in pieces over several threads (mmf.h, "Several threads"), with the
 * results of one thread.
 *
 * Pieces. The range is cut at multiples of the split unit (2 MiB) into
 * pieces of 4 to 32 units, about eight per thread, so that a thread the
 * machine holds back leaves the others more pieces to take. Workers (the
 * calling thread and the ones it starts) take pieces in input order from
 * a shared counter, and each piece is read by a source of its own
 * (mmf__src_open_part) over the scan's descriptor: a mapped piece is a
 * window of whole folios, a read piece has its own buffer, and the reads
 * of several pieces are in flight at once.
 *
 * Combining. Byte counts add up; a line count's last byte is the last
 * piece's. A find looks in each piece for the first occurrence that
 * starts in it (reading m - 1 bytes into the next piece); the first piece
 * with one has the answer, and later pieces stop as soon as it is known.
 * A match count is harder: non-overlapping occurrences taken left to
 * right depend on where counting starts ("aa" in "aaa" counts the one at
 * 0 when counting starts at 0, the one at 1 when it starts at 1), so
 * counts from arbitrary cuts do not add up. Pieces of a match count are
 * therefore cut at sync points, points q that no occurrence straddles
 * (none starts in (q - m, q)): counting from the range's start reaches q
 * with nothing pending, so counting from q agrees with it from there on,
 * and the counts between sync points add up exactly. Each worker finds
 * the sync points at both ends of its piece itself: the first at or
 * after the unit boundary, found by reading the bytes around it (see
 * sync_point). Where occurrences overlap one another beyond SYNC_REACH
 * (a needle "aa" in a long run of a's), the cut is dropped and the piece
 * before it goes on to the next cut.
 *
 * Failures. Once a piece fails, or a find's piece finds, no later piece
 * is wanted: the limit drops to it and later pieces stop between spans.
 * Earlier pieces finish, so the call returns the first failure in input
 * order with the count of the pieces before it plus what the failing
 * piece counted: what one thread would have returned.
 */
#include <string.h>

#include "os/alloc.h"
#include "scan.h"
#include "scan_job.h"

uint64_t mmf__scan_split_unit = MMF__HUGE_ALIGN;

#define PIECE_MIN_UNITS 4
#define PIECE_MAX_UNITS 32
#define PIECES_PER_THREAD 8
#define MAX_THREADS 64

/* How far past a cut a sync point is looked for: 64 KiB, a 32nd of the
 * unit (the tests' small units look less far, so that they drop cuts). */
#define SYNC_REACH (mmf__scan_split_unit / 32 + 1)

/* What a piece gave. */
typedef struct piece {
  uint64_t count; /* counted, or a find's input offset (MMF_NPOS: none) */
  int last;       /* MMF__OP_COUNT: the last byte counted */
  int rc, oserr;
} piece;

/* The scan, shared by its workers. */
typedef struct split {
  const mmf__src *parent;
  const mmf__scan_job *job;
  uint64_t lo, hi;      /* the range */
  uint64_t base;        /* lo rounded down to the unit */
  uint64_t step;        /* piece length (a multiple of the unit) */
  size_t npieces;       /* piece k starts at base + k * step (piece 0 at lo) */
  size_t budget;        /* each worker's address space */
  _Atomic size_t next;  /* the next piece to take */
  _Atomic size_t limit; /* pieces from here on are not wanted */
  /* Started workers not yet done with this struct: the call returns only
   * at 0, even when a join failed (a wait the OS refused is no proof
   * that the thread has stopped using the caller's memory). */
  _Atomic unsigned running;
  piece *pieces;
} split;

static uint64_t cut(const split *sp, size_t k) {
  if (k == 0)
    return sp->lo;
  if (k >= sp->npieces)
    return sp->hi;
  return sp->base + (uint64_t)k * sp->step;
}

/* The piece length for a range of `range` bytes over `threads` threads. */
static uint64_t piece_step(uint64_t range, unsigned threads) {
  uint64_t unit = mmf__scan_split_unit;
  uint64_t units = range / unit / ((uint64_t)threads * PIECES_PER_THREAD);
  if (units < PIECE_MIN_UNITS)
    units = PIECE_MIN_UNITS;
  if (units > PIECE_MAX_UNITS)
    units = PIECE_MAX_UNITS;
  return units * unit;
}

static size_t piece_count(uint64_t lo, uint64_t hi, uint64_t step) {
  uint64_t base = lo - lo % mmf__scan_split_unit;
  return (size_t)((hi - base + step - 1) / step);
}

int mmf__scan_splits(const mmf__src *s, unsigned threads) {
  const mmf__src_at *at = &s->at;
  uint64_t lo = at->first, hi;
  if (!at->sized || at->end == UINT64_MAX)
    return 0;
  hi = at->end;
  if (hi - lo < 2 * mmf__scan_split_unit)
    return 0;
  return piece_count(lo, hi, piece_step(hi - lo, threads)) >= 2;
}

static void lower_limit(split *sp, size_t to) {
  size_t cur = atomic_load(&sp->limit);
  while (to < cur && !atomic_compare_exchange_weak(&sp->limit, &cur, to))
    ;
}

/* ------------------------------------------------------------------------ */
/* Sync points                                                               */
/* ------------------------------------------------------------------------ */

/* Read [off, off + n) of the parent's file into buf; *got short only at
 * the end of a file whose size was a guess. */
static int read_at(const split *sp, uint64_t off, unsigned char *buf, size_t n,
                   size_t *got, int *oserr) {
  size_t have = 0, one;
  int rc;
  while (have < n) {
    rc = mmf__os_read(sp->parent->file, (int64_t)(off + have), buf + have,
                      n - have, &one, oserr);
    if (rc)
      return rc;
    if (one == 0) {
      rc = mmf__input_ended_early(sp->parent->file); /* cut meanwhile */
      if (rc)
        return rc;
      break;
    }
    have += one;
  }
  *got = have;
  return 0;
}

/* The last occurrence of x[0, m) lying wholly in h[0, n), or SIZE_MAX. */
static size_t last_occurrence(const unsigned char *h, size_t n,
                              const unsigned char *x, size_t m) {
  size_t at = 0, r, found = SIZE_MAX;
  while (at < n && (r = mmf__find(h + at, n - at, x, m)) != SIZE_MAX) {
    found = at + r;
    at = found + 1;
  }
  return found;
}

/*
 * The first sync point at or after b (lo < b < hi): a point q where no
 * occurrence lying in the range starts in (q - m, q). UINT64_MAX when
 * there is none before b + SYNC_REACH.
 *
 * At x, an occurrence starting in (x - m, x) lies in [x - m + 1, x + m -
 * 1); if the last such starts at o, no point before o + m is a sync
 * point (o straddles each of them), so the search goes on from there.
 */
static int sync_point(const split *sp, uint64_t b, uint64_t *q, int *oserr) {
  const unsigned char *x = sp->job->needle;
  size_t m = sp->job->nlen, n, got, o;
  uint64_t w0, w1, end, at = b;
  unsigned char *buf;
  int rc;
  *q = b;
  if (m == 1)
    return 0; /* nothing straddles anything */
  w0 = b - (m - 1) < sp->lo ? sp->lo : b - (m - 1);
  w1 = sp->hi - b < SYNC_REACH + m - 1 ? sp->hi : b + SYNC_REACH + m - 1;
  n = (size_t)(w1 - w0);
  buf = mmf__alloc.malloc(n);
  if (!buf) {
    *oserr = 0;
    return MMF_ENOMEM;
  }
  rc = read_at(sp, w0, buf, n, &got, oserr);
  if (rc) {
    mmf__alloc.free(buf);
    return rc;
  }
  /* The input ends where reading ended, if that came first (a size that
   * was a guess); occurrences lie wholly before its end. */
  end = got < n ? w0 + got : sp->hi;
  w1 = w0 + got;
  for (;;) {
    uint64_t s0, s1;
    if (at >= end) {
      *q = end;
      break;
    }
    if (at - b > SYNC_REACH) {
      *q = UINT64_MAX;
      break;
    }
    s0 = at - (m - 1) < w0 ? w0 : at - (m - 1);
    s1 = w1 - at < m - 1 ? w1 : at + m - 1;
    o = last_occurrence(buf + (s0 - w0), (size_t)(s1 - s0), x, m);
    if (o == SIZE_MAX) {
      *q = at;
      break;
    }
    at = s0 + o + m;
  }
  mmf__alloc.free(buf);
  return 0;
}

/*
 * Where piece k of a match count starts and ends: at the sync points of
 * its cuts. A cut without one (UINT64_MAX) belongs to the piece before:
 * a piece starting there is empty, and a piece ending there goes on to
 * the next cut that has one.
 */
static int match_bounds(const split *sp, size_t k, uint64_t *from, uint64_t *to,
                        int *oserr) {
  size_t j;
  int rc = 0;
  *from = sp->lo;
  *to = sp->lo;
  if (k > 0) {
    rc = sync_point(sp, cut(sp, k), from, oserr);
    if (rc || *from == UINT64_MAX) {
      *from = *to = sp->lo;
      return rc;
    }
  }
  for (j = k + 1, *to = sp->hi; j < sp->npieces; j++) {
    rc = sync_point(sp, cut(sp, j), to, oserr);
    if (rc || *to != UINT64_MAX)
      break;
  }
  if (rc || *to == UINT64_MAX)
    *to = sp->hi;
  if (*to < *from)
    *to = *from;
  return rc;
}

/* ------------------------------------------------------------------------ */
/* Workers                                                                   */
/* ------------------------------------------------------------------------ */

static void run_piece(split *sp, size_t k) {
  piece *pc = &sp->pieces[k];
  mmf__scan_job j = *sp->job;
  mmf__scan_stop stop;
  mmf__src s;
  uint64_t from = cut(sp, k), to = cut(sp, k + 1);
  size_t keep = 0;
  int rc = 0;
  pc->oserr = 0;
  pc->last = -1;
  if (j.op == MMF__OP_MATCHES) {
    rc = match_bounds(sp, k, &from, &to, &pc->oserr);
    keep = j.nlen - 1;
  } else if (j.op == MMF__OP_FIND) {
    /* Occurrences starting in the piece, which may end in the next. */
    to = sp->hi - to < j.nlen - 1 ? sp->hi : to + j.nlen - 1;
    keep = j.nlen - 1;
  }
  if (rc == 0 && to > from) {
    stop.limit = &sp->limit;
    stop.piece = k;
    rc = mmf__src_open_part(&s, sp->parent, from, to, sp->budget, keep);
    if (rc == 0) {
      rc = mmf__scan_source(&s, &j, &stop, &pc->count, &pc->last);
      if (rc)
        pc->oserr = mmf__src_os_error(&s);
      (void)mmf__src_close(&s);
    } else {
      pc->oserr = mmf__src_os_error(&s);
    }
  }
  pc->rc = rc;
  if (rc || (j.op == MMF__OP_FIND && pc->count != MMF_NPOS))
    lower_limit(sp, k + 1); /* nothing after this piece matters */
}

static void worker(void *arg) {
  split *sp = arg;
  size_t k;
  while ((k = atomic_fetch_add(&sp->next, 1)) < sp->npieces &&
         k < atomic_load(&sp->limit))
    run_piece(sp, k);
}

/* A started worker: the last it does with sp is to say it is done. */
static void started_worker(void *arg) {
  split *sp = arg;
  worker(sp);
  atomic_fetch_sub(&sp->running, 1);
}

/* The pieces' results, in input order, as one thread would have them. */
static int combine(split *sp, uint64_t *total, int *last, int *oserr) {
  const int find = sp->job->op == MMF__OP_FIND;
  size_t k;
  for (k = 0; k < sp->npieces; k++) {
    const piece *pc = &sp->pieces[k];
    if (find && pc->rc == 0 && pc->count != MMF_NPOS) {
      *total = pc->count;
      return 0;
    }
    if (!find)
      *total += pc->count;
    if (pc->rc) {
      *oserr = pc->oserr;
      return pc->rc;
    }
  }
  *last = sp->pieces[sp->npieces - 1].last;
  return 0;
}

/* The worker's budget: an equal share, at least two granularity units. */
static size_t share_budget(size_t budget, unsigned workers) {
  size_t gran = mmf__os_granularity(), b = budget / workers;
  b -= b % gran;
  return b < 2 * gran ? 2 * gran : b;
}

int mmf__scan_split(mmf__src *s, const mmf__scan_job *j, unsigned threads,
                    uint64_t *total, int *last) {
  split sp;
  mmf__thread *th;
  unsigned workers, started = 0, i;
  size_t k;
  uint64_t pos;
  int rc, oserr = 0, jerr = 0, joserr = 0, kept;
  memset(&sp, 0, sizeof sp);
  sp.parent = s;
  sp.job = j;
  sp.lo = s->at.first;
  sp.hi = s->at.end;
  sp.base = sp.lo - sp.lo % mmf__scan_split_unit;
  if (threads > MAX_THREADS)
    threads = MAX_THREADS;
  sp.step = piece_step(sp.hi - sp.lo, threads);
  sp.npieces = piece_count(sp.lo, sp.hi, sp.step);
  workers = sp.npieces < threads ? (unsigned)sp.npieces : threads;
  sp.budget = share_budget(s->budget, workers);
  atomic_init(&sp.next, 0);
  atomic_init(&sp.limit, sp.npieces);
  sp.pieces = mmf__alloc.calloc(sp.npieces, sizeof *sp.pieces);
  th = mmf__alloc.calloc(workers, sizeof *th);
  if (!sp.pieces || !th) {
    mmf__alloc.free(sp.pieces);
    mmf__alloc.free(th);
    return mmf__src_fail(s, MMF_ENOMEM, 0);
  }
  for (k = 0; k < sp.npieces; k++)
    sp.pieces[k].count = j->op == MMF__OP_FIND ? MMF_NPOS : 0;
  /* A thread the system refuses is no error: the others take its
   * pieces. */
  atomic_init(&sp.running, 0);
  kept = mmf__os_keep_position(s->file, &pos);
  for (i = 1; i < workers; i++) {
    atomic_fetch_add(&sp.running, 1);
    if (mmf__os_thread_start(&th[started], started_worker, &sp, NULL) != 0) {
      atomic_fetch_sub(&sp.running, 1);
      break;
    }
    started++;
  }
  worker(&sp);
  for (i = 0; i < started; i++) {
    int e = 0, erc = mmf__os_thread_join(&th[i], &e);
    if (erc && !jerr) {
      jerr = erc;
      joserr = e;
    }
  }
  while (atomic_load(&sp.running) != 0)
    mmf__os_thread_yield();
  if (kept)
    mmf__os_put_position(s->file, pos);
  rc = combine(&sp, total, last, &oserr);
  if (!rc && jerr) {
    rc = jerr;
    oserr = joserr;
  }
  mmf__alloc.free(sp.pieces);
  mmf__alloc.free(th);
  return rc ? mmf__src_fail(s, rc, oserr) : 0;
}
