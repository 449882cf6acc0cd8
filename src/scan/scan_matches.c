/*
 * scan_matches.c - the match iterator (mmf.h, "Scanning"): the
 * occurrences of a byte string in an input, one by one, with their line
 * numbers when asked.
 *
 * Spans come from source.c, as for the other scans. Occurrences are
 * searched a batch at a time inside one guarded call (a setjmp per batch,
 * not per occurrence), with the rare-byte search the counts use
 * (scan_search.c); mmf_matches_next() then hands them out of the batch.
 *
 * Boundaries. The search in a span finds the occurrences lying wholly in
 * it. One that straddles the end of the span starts in its last
 * nlen - 1 bytes, and not before the end of the last occurrence found
 * (they do not overlap): those bytes are kept at the front of the next
 * span, which then holds it whole. A slow pipe may bring fewer new bytes
 * than that; the kept bytes then grow over several reads, up to
 * nlen - 1, so an occurrence spread over any number of reads is found.
 *
 * Line numbers. newlines counts the '\n' bytes of the input before
 * `counted`, which never goes back: each batch counts from there to each
 * occurrence it finds, and leaving a span counts up to where the next
 * span starts. Every byte is counted once.
 */
#include <string.h>

#include "os/alloc.h"
#include "scan.h"
#include "scan_search.h"
#include "source.h"

#define BATCH 64

struct mmf_matches {
  mmf__src src;
  mmf__span span;        /* the current span (n 0: none yet) */
  unsigned char *needle; /* the iterator's copy */
  size_t nlen;
  int want_lines;       /* MMF_SCAN_LINE_NUMBERS */
  int started;          /* a span has been asked for */
  int span_searched;    /* the current span holds no more occurrences */
  uint64_t from;        /* input offset where the next occurrence may
                           start: past the last one found */
  uint64_t counted;     /* input offset up to which '\n' are counted */
  uint64_t newlines;    /* '\n' bytes before counted */
  uint64_t pos[BATCH];  /* found, not yet handed out: pos[k, npos) */
  uint64_t line[BATCH]; /* their line numbers (want_lines) */
  size_t k, npos;
  uint64_t last_line; /* line of the occurrence handed out last */
  int error;          /* sticky failure code, 0 if none */
};

/* ------------------------------------------------------------------------ */
/* Guarded work over the current span                                        */
/* ------------------------------------------------------------------------ */

/* Count the '\n' of the span from `counted` up to input offset `upto`. */
static void count_to(mmf_matches *it, uint64_t upto) {
  const mmf__span *sp = &it->span;
  if (upto <= it->counted)
    return;
  it->newlines += mmf__count_byte(sp->p + (size_t)(it->counted - sp->at),
                                  (size_t)(upto - it->counted), '\n');
  it->counted = upto;
}

/* The next batch of occurrences in the span, from `from` on. Fills
 * pos[0, npos) and their lines; span_searched once the span has no
 * more. Runs under the guard: a fault abandons it midway, and the caller
 * then discards everything it wrote. */
static int find_batch(void *ctx) {
  mmf_matches *it = ctx;
  const mmf__span *sp = &it->span;
  const uint64_t end = sp->at + sp->n;
  it->k = it->npos = 0;
  /* Starts before the span were settled in the spans before it. */
  if (it->from < sp->at)
    it->from = sp->at;
  while (it->npos < BATCH) {
    size_t at, r;
    if (it->from > end || end - it->from < it->nlen) {
      it->span_searched = 1;
      break;
    }
    at = (size_t)(it->from - sp->at);
    r = mmf__search_find(sp->p + at, sp->n - at, it->needle, it->nlen);
    if (r == SIZE_MAX) {
      it->span_searched = 1;
      break;
    }
    it->pos[it->npos] = sp->at + at + r;
    if (it->want_lines) {
      count_to(it, it->pos[it->npos]);
      it->line[it->npos] = it->newlines + 1;
    }
    it->npos++;
    it->from = sp->at + at + r + it->nlen;
  }
  return 0;
}

/* Count the span's '\n' up to `upto` (leaving the span). */
typedef struct count_job {
  mmf_matches *it;
  uint64_t upto;
} count_job;

static int count_job_run(void *ctx) {
  count_job *j = ctx;
  count_to(j->it, j->upto);
  return 0;
}

/* ------------------------------------------------------------------------ */
/* Walking                                                                   */
/* ------------------------------------------------------------------------ */

/* Search the current span for the next batch. A fault ends the walk,
 * and nothing of the batch is handed out: its stores may not all have
 * landed before the jump. */
static int search_span(mmf_matches *it) {
  int rc = mmf__src_guard(&it->src, find_batch, it);
  if (rc)
    it->k = it->npos = 0;
  return rc;
}

/* Move to the next span, keeping the bytes an occurrence straddling the
 * boundary could start in. *end is set when there is none. */
static int next_span(mmf_matches *it, int *end) {
  mmf__span *sp = &it->span, next;
  uint64_t stop = sp->at + sp->n, start = stop;
  size_t keep = 0;
  int rc;
  *end = 0;
  if (it->started) {
    if (sp->final) {
      *end = 1;
      return 0;
    }
    /* Starts before stop - (nlen - 1) are settled, and so are those
     * before `from`. */
    start = stop - (sp->n < it->nlen - 1 ? sp->n : it->nlen - 1);
    if (it->from > start)
      start = it->from;
    keep = (size_t)(stop - start);
    if (it->want_lines && it->counted < start) {
      count_job j;
      j.it = it;
      j.upto = start;
      rc = mmf__src_guard(&it->src, count_job_run, &j);
      if (rc)
        return rc;
    }
  }
  rc = mmf__src_next(&it->src, keep, &next);
  if (rc)
    return rc; /* the old span stays: a retry asks for the same */
  if (!it->started)
    it->counted = next.at; /* lines count from the first byte scanned */
  it->started = 1;
  it->span = next;
  it->span_searched = 0;
  /* Nothing new: the input ended with the kept bytes. */
  if (next.n == 0 || (next.n == next.kept && next.final)) {
    it->span.final = 1;
    it->span_searched = 1;
    *end = 1;
  }
  return 0;
}

static int next_match(mmf_matches *it, uint64_t *pos) {
  int end, rc;
  for (;;) {
    if (it->k < it->npos) {
      *pos = it->pos[it->k];
      if (it->want_lines)
        it->last_line = it->line[it->k];
      it->k++;
      return 0;
    }
    if (it->started && !it->span_searched && it->span.n > 0) {
      rc = search_span(it);
      if (rc)
        return rc;
      continue;
    }
    rc = next_span(it, &end);
    if (rc)
      return rc;
    if (end)
      return 0; /* *pos stays MMF_NPOS, as often as asked */
  }
}

int mmf_matches_next(mmf_matches *it, uint64_t *pos) {
  int rc;
  if (pos)
    *pos = MMF_NPOS;
  if (!it || !pos)
    return MMF_EINVAL;
  if (it->error)
    return it->error;
  rc = next_match(it, pos);
  if (rc) {
    *pos = MMF_NPOS;
    /* An empty non-blocking stream can be asked again; anything else
     * ends the walk. */
    if (rc != MMF_EAGAIN)
      it->error = rc;
  }
  return rc;
}

/* ------------------------------------------------------------------------ */
/* Opening, queries, closing                                                 */
/* ------------------------------------------------------------------------ */

static int open_matches(mmf_matches **out, const char *path, int fd,
                        const mmf_scan_options *opts, const void *needle,
                        size_t nlen) {
  mmf_matches *it;
  int rc;
  if (out)
    *out = NULL;
  mmf__set_thread_os_error(0);
  if (!out || !needle || nlen == 0)
    return MMF_EINVAL;
  it = mmf__alloc.calloc(1, sizeof *it);
  if (!it)
    return MMF_ENOMEM;
  it->needle = mmf__alloc.malloc(nlen);
  if (!it->needle) {
    mmf__alloc.free(it);
    return MMF_ENOMEM;
  }
  memcpy(it->needle, needle, nlen);
  it->nlen = nlen;
  it->want_lines = opts && (opts->flags & MMF_SCAN_LINE_NUMBERS);
  rc = mmf__src_open(&it->src, path, fd, opts, MMF__SRC_BYTES, nlen - 1);
  if (rc) {
    mmf__alloc.free(it->needle);
    mmf__alloc.free(it);
    return rc;
  }
  *out = it;
  return 0;
}

int mmf_matches_open(mmf_matches **out, const char *path,
                     const mmf_scan_options *opts, const void *needle,
                     size_t nlen) {
  if (!path) {
    if (out)
      *out = NULL;
    mmf__set_thread_os_error(0);
    return MMF_EINVAL;
  }
  return open_matches(out, path, -1, opts, needle, nlen);
}

int mmf_matches_open_fd(mmf_matches **out, int fd, const mmf_scan_options *opts,
                        const void *needle, size_t nlen) {
  return open_matches(out, NULL, fd, opts, needle, nlen);
}

uint64_t mmf_matches_line(const mmf_matches *it) {
  return it ? it->last_line : 0;
}

int mmf_matches_last_os_error(const mmf_matches *it) {
  return it ? mmf__src_os_error(&it->src) : mmf_last_os_error(NULL);
}

int mmf_matches_close(mmf_matches *it) {
  int rc;
  if (!it)
    return 0;
  rc = mmf__src_close(&it->src);
  mmf__alloc.free(it->needle);
  mmf__alloc.free(it);
  return rc;
}
