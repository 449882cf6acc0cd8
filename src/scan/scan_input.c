/*
 * scan_input.c - the public scans (mmf.h, "Scanning"): counting a byte or
 * lines, finding a byte string and counting its occurrences, over whole
 * inputs (source.c hands them out in spans) and over raw memory.
 *
 * A span of a mapped input is scanned inside one guarded call, so the
 * guard costs one setjmp per span (per window, or per 256 KiB buffer),
 * not per byte. A search keeps the bytes an occurrence straddling two
 * spans could start in (scan_search.c says which).
 */
#include <string.h>

#include "scan.h"
#include "scan_job.h"
#include "scan_search.h"

/* ------------------------------------------------------------------------ */
/* Raw memory                                                                */
/* ------------------------------------------------------------------------ */

int mmf_count_byte_mem(const void *p, size_t n, int byte, uint64_t *count) {
  if (count)
    *count = 0;
  if (!count || (!p && n) || byte < 0 || byte > 255)
    return MMF_EINVAL;
  *count = mmf__count_byte(p, n, (unsigned char)byte);
  return 0;
}

int mmf_count_lines_mem(const void *p, size_t n, uint64_t *lines) {
  if (lines)
    *lines = 0;
  if (!lines || (!p && n))
    return MMF_EINVAL;
  *lines = mmf__count_byte(p, n, '\n');
  /* A last line without its '\n' is a line too. */
  if (n > 0 && ((const unsigned char *)p)[n - 1] != '\n')
    ++*lines;
  return 0;
}

int mmf_find_mem(const void *p, size_t n, const void *needle, size_t nlen,
                 uint64_t *pos) {
  size_t at;
  if (pos)
    *pos = MMF_NPOS;
  if (!pos || (!p && n) || !needle || nlen == 0)
    return MMF_EINVAL;
  at = mmf__search_find(p, n, needle, nlen);
  *pos = at == SIZE_MAX ? MMF_NPOS : (uint64_t)at;
  return 0;
}

int mmf_count_matches_mem(const void *p, size_t n, const void *needle,
                          size_t nlen, uint64_t *count, size_t *resume) {
  if (count)
    *count = 0;
  if (resume)
    *resume = 0;
  if (!count || (!p && n) || !needle || nlen == 0)
    return MMF_EINVAL;
  if (resume)
    *count = mmf__search_count_resume(p, n, needle, nlen, resume);
  else
    *count = mmf__search_count(p, n, needle, nlen);
  return 0;
}

/* ------------------------------------------------------------------------ */
/* Whole inputs                                                              */
/* ------------------------------------------------------------------------ */

static int run_job(void *ctx) {
  mmf__scan_job *j = ctx;
  switch (j->op) {
  case MMF__OP_COUNT:
    j->count = mmf__count_byte(j->p, j->n, j->byte);
    j->last = j->n ? j->p[j->n - 1] : -1;
    break;
  case MMF__OP_FIND:
    j->pos = mmf__search_find(j->p, j->n, j->needle, j->nlen);
    break;
  default:
    if (j->resume_wanted)
      j->count =
          mmf__search_count_resume(j->p, j->n, j->needle, j->nlen, &j->resume);
    else
      j->count = mmf__search_count(j->p, j->n, j->needle, j->nlen);
    break;
  }
  return 0;
}

static int stopped(const mmf__scan_stop *stop) {
  return stop &&
         atomic_load_explicit(stop->limit, memory_order_relaxed) <= stop->piece;
}

int mmf__scan_source(mmf__src *s, mmf__scan_job *j, const mmf__scan_stop *stop,
                     uint64_t *total, int *last) {
  mmf__span sp;
  size_t keep = 0;
  int rc;
  for (;;) {
    if (stopped(stop))
      return 0;
    rc = mmf__src_next(s, keep, &sp);
    if (rc || sp.n == 0 || (sp.n == sp.kept && sp.final))
      return rc;
    j->p = sp.p;
    j->n = sp.n;
    j->resume_wanted = !sp.final;
    rc = mmf__src_guard(s, run_job, j);
    if (rc)
      return rc;
    if (j->op == MMF__OP_FIND) {
      if (j->pos != SIZE_MAX) {
        *total = sp.at + j->pos;
        return 0;
      }
      keep = sp.n < j->nlen - 1 ? sp.n : j->nlen - 1;
    } else {
      *total += j->count;
      if (j->op == MMF__OP_COUNT)
        *last = j->last;
      else if (!sp.final)
        keep = sp.n - j->resume;
    }
    if (sp.final)
      return 0;
  }
}

/* The whole input through j, on opts->threads threads where it splits. */
static int scan_input(const char *path, int fd, const mmf_scan_options *opts,
                      mmf__scan_job *j, uint64_t *total, int *last) {
  mmf__src s;
  unsigned threads = opts ? opts->threads : 0;
  int rc = mmf__src_open(&s, path, fd, opts, MMF__SRC_BYTES,
                         j->op == MMF__OP_COUNT ? 0 : j->nlen - 1);
  if (rc)
    return rc;
  if (threads > 1 && mmf__scan_splits(&s, threads))
    rc = mmf__scan_split(&s, j, threads, total, last);
  else
    rc = mmf__scan_source(&s, j, NULL, total, last);
  if (rc)
    mmf__set_thread_os_error(mmf__src_os_error(&s));
  (void)mmf__src_close(&s);
  return rc;
}

static int count_input(const char *path, int fd, const mmf_scan_options *opts,
                       int byte, uint64_t *count, int lines) {
  mmf__scan_job j;
  uint64_t total = 0;
  int last = -1, rc;
  if (count)
    *count = 0;
  if (!count || byte < 0 || byte > 255) {
    mmf__set_thread_os_error(0);
    return MMF_EINVAL;
  }
  memset(&j, 0, sizeof j);
  j.op = MMF__OP_COUNT;
  j.byte = (unsigned char)byte;
  rc = scan_input(path, fd, opts, &j, &total, &last);
  /* A last line without its '\n' is a line too; after a failure the
   * count is of the '\n' bytes before it (a caller such as wc prints
   * it with the error). */
  if (rc == 0 && lines && last >= 0 && last != '\n')
    total++;
  *count = total;
  return rc;
}

int mmf_count_byte_path(const char *path, const mmf_scan_options *opts,
                        int byte, uint64_t *count) {
  return count_input(path, -1, opts, byte, count, 0);
}

int mmf_count_byte_fd(int fd, const mmf_scan_options *opts, int byte,
                      uint64_t *count) {
  return count_input(NULL, fd, opts, byte, count, 0);
}

int mmf_count_lines_path(const char *path, const mmf_scan_options *opts,
                         uint64_t *lines) {
  return count_input(path, -1, opts, '\n', lines, 1);
}

int mmf_count_lines_fd(int fd, const mmf_scan_options *opts, uint64_t *lines) {
  return count_input(NULL, fd, opts, '\n', lines, 1);
}

static int needle_input(const char *path, int fd, const mmf_scan_options *opts,
                        const void *needle, size_t nlen, uint64_t *out,
                        int op) {
  mmf__scan_job j;
  uint64_t total = op == MMF__OP_FIND ? MMF_NPOS : 0;
  int last, rc;
  if (out)
    *out = total;
  if (!out || !needle || nlen == 0) {
    mmf__set_thread_os_error(0);
    return MMF_EINVAL;
  }
  memset(&j, 0, sizeof j);
  j.op = op;
  j.needle = needle;
  j.nlen = nlen;
  rc = scan_input(path, fd, opts, &j, &total, &last);
  /* A count reports what it counted before a failure; a find only a
   * position it found. */
  if (rc == 0 || op == MMF__OP_MATCHES)
    *out = total;
  return rc;
}

int mmf_find_path(const char *path, const mmf_scan_options *opts,
                  const void *needle, size_t nlen, uint64_t *pos) {
  return needle_input(path, -1, opts, needle, nlen, pos, MMF__OP_FIND);
}

int mmf_find_fd(int fd, const mmf_scan_options *opts, const void *needle,
                size_t nlen, uint64_t *pos) {
  return needle_input(NULL, fd, opts, needle, nlen, pos, MMF__OP_FIND);
}

int mmf_count_matches_path(const char *path, const mmf_scan_options *opts,
                           const void *needle, size_t nlen, uint64_t *count) {
  return needle_input(path, -1, opts, needle, nlen, count, MMF__OP_MATCHES);
}

int mmf_count_matches_fd(int fd, const mmf_scan_options *opts,
                         const void *needle, size_t nlen, uint64_t *count) {
  return needle_input(NULL, fd, opts, needle, nlen, count, MMF__OP_MATCHES);
}

/* ------------------------------------------------------------------------ */
/* Maps                                                                      */
/* ------------------------------------------------------------------------ */

/* Run j over [off, off + len) of m under the guard, after checking the
 * range and then the arguments (args_ok): 1 when j ran, 0 for an empty
 * range, or a code. */
static int map_job(mmf_map *m, uint64_t off, uint64_t len, int args_ok,
                   mmf__scan_job *j) {
  unsigned char *p;
  size_t n;
  int rc = mmf__range(m, off, len, &p, &n);
  if (rc)
    return rc;
  if (!args_ok)
    return mmf__fail(m, MMF_EINVAL, 0);
  if (n == 0)
    return 0;
  j->p = p;
  j->n = n;
  rc = mmf__guarded(m, 0, run_job, j);
  return rc ? rc : 1;
}

int mmf_count_matches(mmf_map *m, uint64_t off, uint64_t len,
                      const void *needle, size_t nlen, uint64_t *count) {
  mmf__scan_job j;
  int rc;
  if (count)
    *count = 0;
  memset(&j, 0, sizeof j);
  j.op = MMF__OP_MATCHES;
  j.needle = needle;
  j.nlen = nlen;
  rc = map_job(m, off, len, count && needle && nlen > 0, &j);
  if (rc <= 0)
    return rc;
  *count = j.count;
  return 0;
}

int mmf_count_lines(mmf_map *m, uint64_t off, uint64_t len, uint64_t *lines) {
  mmf__scan_job j;
  int rc;
  if (lines)
    *lines = 0;
  memset(&j, 0, sizeof j);
  j.op = MMF__OP_COUNT;
  j.byte = '\n';
  rc = map_job(m, off, len, lines != NULL, &j);
  if (rc <= 0)
    return rc;
  *lines = j.count + (j.last != '\n');
  return 0;
}
