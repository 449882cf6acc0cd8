/*
 * scan_input.c - the public scans (mmf.h, "Scanning"): counting a byte or
 * lines, finding a byte string and counting its occurrences, over whole
 * inputs (source.c hands them out in spans) and over raw memory.
 *
 * A span of a mapped input is scanned inside one guarded call, so the
 * guard costs one setjmp per span (per window, or per 256 KiB buffer),
 * not per byte.
 *
 * Occurrences across spans. A search keeps the last nlen - 1 bytes of a
 * span for the next one (an occurrence straddling the boundary starts in
 * them). Counting non-overlapping occurrences left to right needs more:
 * where the last occurrence counted ended, since one straddling the
 * boundary counts only if it starts after that. The count kernel does not
 * say; count_resume() below finds it without giving up the kernel's speed.
 */
#include <string.h>

#include "source.h"
#include "scan.h"

/*
 * Rare needles. The search kernels filter candidate starts on two needle
 * bytes at once: two loads (one unaligned) and two compares per 64 bytes,
 * which runs below memory speed (about 26 GB/s against 31 for a plain
 * count on the development machine). When one byte of the needle is rare
 * in the text, jumping from one of its occurrences to the next with the
 * find-byte kernel reads each byte once, at memory speed, and verifies
 * the few candidates. Which byte is rare is learnt from the text: the
 * jump is tried with each byte of the kernels' pair in turn and given up
 * for the kernel as soon as candidates come more often than about one per
 * 4 KiB, or verifying them costs too much (mmf__scan_verify_too_costly).
 *
 * Returns the first occurrence (first_only) or SIZE_MAX, adding the
 * non-overlapping occurrences, left to right, to *count otherwise.
 */
static size_t search_rare(const unsigned char *h, size_t n,
                          const unsigned char *x, size_t m, int first_only,
                          uint64_t *count) {
  size_t pair[2], i = 0, next = 0, work = 0, r, from;
  if (m >= 2 && n >= m) {
    mmf__scan_pick_pair(x, m, &pair[0], &pair[1]);
    for (int k = 0; k < 2; k++) {
      size_t cand = 0, at = pair[k], p, j;
      from = i;
      /* Candidate starts j in [i, n - m], where h[j + at] == x[at]. */
      while (i <= n - m) {
        p = mmf__find_byte(h + i + at, n - m + 1 - i, x[at]);
        if (p == SIZE_MAX) {
          i = n - m + 1;
          break;
        }
        j = i + p;
        i = j + 1;
        if (j < next)
          continue; /* inside the last occurrence counted */
        work += m;
        if (memcmp(h + j, x, m) == 0) {
          if (first_only)
            return j;
          ++*count;
          next = j + m;
          i = next;
        }
        if (++cand > 16 &&
            ((cand << 12) > i - from || mmf__scan_verify_too_costly(work, i))) {
          break; /* common here: the other byte, or the kernel */
        }
      }
      if (i > n - m)
        return SIZE_MAX; /* every start settled */
    }
  }
  /* Every start before i is settled, and occurrences resume at next. */
  if (next > i)
    i = next;
  if (first_only) {
    r = mmf__find(h + i, n - i, x, m);
    return r == SIZE_MAX ? r : i + r;
  }
  *count += mmf__count_str(h + i, n - i, x, m);
  return SIZE_MAX;
}

static uint64_t count_str(const unsigned char *h, size_t n,
                          const unsigned char *x, size_t m) {
  uint64_t count = 0;
  (void)search_rare(h, n, x, m, 0, &count);
  return count;
}

static size_t find_str(const unsigned char *h, size_t n, const unsigned char *x,
                       size_t m) {
  return search_rare(h, n, x, m, 1, NULL);
}

/* A point q (0 <= q <= n - m + 1, or n when m is 1) where no occurrence
 * of the needle in h[0, n) starts in [q - m + 1, q), i.e. none straddles
 * q: counting left to right from the start and from q agree on everything
 * after q. As late as the text allows, so that the walk after it is
 * short; 0 when occurrences run together all the way (a needle like "aa"
 * in "aaaa..."). */
static size_t sync_point(const unsigned char *h, size_t n,
                         const unsigned char *needle, size_t m) {
  /* At least m back from the end, so that an occurrence that ends late
   * enough to matter for the resume point is met by the walk after q. */
  size_t tail = m > 4096 ? m : 4096;
  if (m == 1)
    return n;
  while (tail < n && n - tail > m) {
    /* Occurrences starting in [q - m + 1, q) and lying in h[0, n). */
    size_t q = n - tail, lo = q - m + 1;
    size_t len = n - lo < 2 * m - 2 ? n - lo : 2 * m - 2;
    if (mmf__find(h + lo, len, needle, m) == SIZE_MAX)
      return q;
    if (tail > n / 4)
      break;
    tail *= 4; /* occurrences cluster here: look further back */
  }
  return 0;
}

/* Non-overlapping occurrences in h[0, n), left to right, and the resume
 * point of mmf_count_matches_mem(). */
static uint64_t count_resume(const unsigned char *h, size_t n,
                             const unsigned char *needle, size_t m,
                             size_t *resume) {
  size_t q, at, r;
  uint64_t count;
  if (n < m) {
    *resume = 0;
    return 0;
  }
  q = sync_point(h, n, needle, m);
  count = count_str(h, q, needle, m);
  /* Walk the rest occurrence by occurrence, to learn where the last one
   * ends. */
  for (at = q; at < n; at += r + m) {
    r = mmf__find(h + at, n - at, needle, m);
    if (r == SIZE_MAX)
      break;
    count++;
  }
  *resume = at > n - m + 1 ? at : n - m + 1;
  return count;
}

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
  at = find_str(p, n, needle, nlen);
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
    *count = count_resume(p, n, needle, nlen, resume);
  else
    *count = count_str(p, n, needle, nlen);
  return 0;
}

/* ------------------------------------------------------------------------ */
/* Whole inputs                                                              */
/* ------------------------------------------------------------------------ */

/* One span's work, run under the guard. */
typedef struct span_job {
  const unsigned char *p;
  size_t n;
  int op;
  unsigned char byte;
  const unsigned char *needle;
  size_t nlen;
  int resume_wanted;
  /* results */
  uint64_t count;
  size_t pos, resume;
  int last; /* the span's last byte */
} span_job;

enum { OP_COUNT, OP_FIND, OP_MATCHES };

static int run_job(void *ctx) {
  span_job *j = ctx;
  switch (j->op) {
  case OP_COUNT:
    j->count = mmf__count_byte(j->p, j->n, j->byte);
    j->last = j->n ? j->p[j->n - 1] : -1;
    break;
  case OP_FIND:
    j->pos = find_str(j->p, j->n, j->needle, j->nlen);
    break;
  default:
    if (j->resume_wanted)
      j->count = count_resume(j->p, j->n, j->needle, j->nlen, &j->resume);
    else
      j->count = count_str(j->p, j->n, j->needle, j->nlen);
    break;
  }
  return 0;
}

/* The whole input through span_job j: counts add up in *total, a find
 * stops at the first hit (*total is then its input offset). */
static int scan_input(const char *path, int fd, const mmf_scan_options *opts,
                      span_job *j, uint64_t *total, int *last) {
  mmf__src s;
  mmf__span sp;
  size_t keep = 0;
  int rc = mmf__src_open(&s, path, fd, opts, MMF__SRC_BYTES,
                         j->op == OP_COUNT ? 0 : j->nlen - 1);
  if (rc)
    return rc;
  for (;;) {
    rc = mmf__src_next(&s, keep, &sp);
    if (rc || sp.n == 0 || (sp.n == sp.kept && sp.final))
      break;
    j->p = sp.p;
    j->n = sp.n;
    j->resume_wanted = !sp.final;
    rc = mmf__src_guard(&s, run_job, j);
    if (rc)
      break;
    if (j->op == OP_FIND) {
      if (j->pos != SIZE_MAX) {
        *total = sp.at + j->pos;
        break;
      }
      keep = sp.n < j->nlen - 1 ? sp.n : j->nlen - 1;
    } else {
      *total += j->count;
      if (j->op == OP_COUNT)
        *last = j->last;
      else if (!sp.final)
        keep = sp.n - j->resume;
    }
    if (sp.final)
      break;
  }
  if (rc)
    mmf__set_thread_os_error(mmf__src_os_error(&s));
  (void)mmf__src_close(&s);
  return rc;
}

static int count_input(const char *path, int fd, const mmf_scan_options *opts,
                       int byte, uint64_t *count, int lines) {
  span_job j;
  uint64_t total = 0;
  int last = -1, rc;
  if (count)
    *count = 0;
  if (!count || byte < 0 || byte > 255) {
    mmf__set_thread_os_error(0);
    return MMF_EINVAL;
  }
  memset(&j, 0, sizeof j);
  j.op = OP_COUNT;
  j.byte = (unsigned char)byte;
  rc = scan_input(path, fd, opts, &j, &total, &last);
  if (rc)
    return rc;
  /* A last line without its '\n' is a line too. */
  if (lines && last >= 0 && last != '\n')
    total++;
  *count = total;
  return 0;
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
  span_job j;
  uint64_t total = op == OP_FIND ? MMF_NPOS : 0;
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
  if (rc)
    return rc;
  *out = total;
  return 0;
}

int mmf_find_path(const char *path, const mmf_scan_options *opts,
                  const void *needle, size_t nlen, uint64_t *pos) {
  return needle_input(path, -1, opts, needle, nlen, pos, OP_FIND);
}

int mmf_find_fd(int fd, const mmf_scan_options *opts, const void *needle,
                size_t nlen, uint64_t *pos) {
  return needle_input(NULL, fd, opts, needle, nlen, pos, OP_FIND);
}

int mmf_count_matches_path(const char *path, const mmf_scan_options *opts,
                           const void *needle, size_t nlen, uint64_t *count) {
  return needle_input(path, -1, opts, needle, nlen, count, OP_MATCHES);
}

int mmf_count_matches_fd(int fd, const mmf_scan_options *opts,
                         const void *needle, size_t nlen, uint64_t *count) {
  return needle_input(NULL, fd, opts, needle, nlen, count, OP_MATCHES);
}

/* ------------------------------------------------------------------------ */
/* Maps                                                                      */
/* ------------------------------------------------------------------------ */

/* Run j over [off, off + len) of m under the guard, after checking the
 * range and then the arguments (args_ok): 1 when j ran, 0 for an empty
 * range, or a code. */
static int map_job(mmf_map *m, uint64_t off, uint64_t len, int args_ok,
                   span_job *j) {
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
  span_job j;
  int rc;
  if (count)
    *count = 0;
  memset(&j, 0, sizeof j);
  j.op = OP_MATCHES;
  j.needle = needle;
  j.nlen = nlen;
  rc = map_job(m, off, len, count && needle && nlen > 0, &j);
  if (rc <= 0)
    return rc;
  *count = j.count;
  return 0;
}

int mmf_count_lines(mmf_map *m, uint64_t off, uint64_t len, uint64_t *lines) {
  span_job j;
  int rc;
  if (lines)
    *lines = 0;
  memset(&j, 0, sizeof j);
  j.op = OP_COUNT;
  j.byte = '\n';
  rc = map_job(m, off, len, lines != NULL, &j);
  if (rc <= 0)
    return rc;
  *lines = j.count + (j.last != '\n');
  return 0;
}
