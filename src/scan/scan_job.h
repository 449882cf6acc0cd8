/*
 * scan_job.h - the work of a whole-input scan over the spans of a source
 * (source.h): counting a byte, finding or counting a byte string. One
 * thread walks a source with mmf__scan_source() (scan_input.c); a scan
 * split over several threads (scan_parallel.c) walks one source per
 * piece with it and combines the pieces' results.
 */
#ifndef MMF_SCAN_JOB_H
#define MMF_SCAN_JOB_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "source.h"

enum mmf__scan_op { MMF__OP_COUNT, MMF__OP_FIND, MMF__OP_MATCHES };

/* What to do with each span, and what the last span gave. */
typedef struct mmf__scan_job {
  int op; /* enum mmf__scan_op */
  unsigned char byte;
  const unsigned char *needle;
  size_t nlen;
  /* The span, and whether a search must say where to resume after it. */
  const unsigned char *p;
  size_t n;
  int resume_wanted;
  /* Results for the span. */
  uint64_t count;
  size_t pos, resume;
  int last; /* the span's last byte */
} mmf__scan_job;

/* A walk that another thread may make moot: it stops between spans once
 * *limit is at most `piece` (its piece is no longer wanted). */
typedef struct mmf__scan_stop {
  const _Atomic size_t *limit;
  size_t piece;
} mmf__scan_stop;

/*
 * Walk s to its end with j: counts add up in *total, span by span, so
 * that on failure it holds the count of the spans before the one that
 * failed, and *last is the last byte counted (MMF__OP_COUNT); a find
 * stops at the first occurrence (*total is then its input offset). stop
 * (NULL: never) ends the walk early, returning 0. Returns 0 or a code;
 * the source keeps the OS error.
 */
int mmf__scan_source(mmf__src *s, mmf__scan_job *j, const mmf__scan_stop *stop,
                     uint64_t *total, int *last);

/*
 * Whether s (just opened, nothing taken from it) is worth splitting over
 * `threads` threads: a regular file read at offsets whose range holds at
 * least two pieces. If so, walk it with mmf__scan_split().
 */
int mmf__scan_splits(const mmf__src *s, unsigned threads);

/*
 * The walk of mmf__scan_source() over s's range split in pieces across up
 * to `threads` threads (the calling one among them), with the same
 * results. j is not changed; s only lends its descriptor and options and
 * gets the OS error of a failure.
 */
int mmf__scan_split(mmf__src *s, const mmf__scan_job *j, unsigned threads,
                    uint64_t *total, int *last);

/* The smallest unit pieces are cut in: 2 MiB, so that the windows of the
 * pieces map whole page-cache folios. Tests lower it to cut small inputs
 * in many pieces. */
extern uint64_t mmf__scan_split_unit;

#endif /* MMF_SCAN_JOB_H */
