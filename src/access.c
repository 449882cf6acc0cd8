/*
 * access.c - bounds-checked, fault-guarded reads and writes of a map.
 *
 * Each call checks its range against the map before touching memory
 * (MMF_ERANGE), then does the work with the fault guard armed, so a fault
 * costs an error code instead of the process. The guard is armed once per
 * call, not per byte. mmf_read and mmf_write arm it inline (src/os/guard.h):
 * a random 64-byte read is dominated by the cache miss, and every
 * instruction added around the copy leaves fewer misses in flight.
 */
#include <string.h>

#include "os/guard.h"
#include "mmf_internal.h"
#include "scan/scan.h"

/* [off, off+n) exactly (n may be 0): unlike mmf__range, 0 is not "to the
 * end" here, because n is a buffer size. */
static int exact_range(mmf_map *m, uint64_t off, size_t n, unsigned char **p) {
  *p = NULL;
  if (!m)
    return MMF_EINVAL;
  if (m->poisoned)
    return mmf__fail(m, m->poisoned, 0);
  if (off > m->size || n > m->size - off)
    return mmf__fail(m, MMF_ERANGE, 0);
  *p = m->data ? m->data + off : NULL;
  return 0;
}

typedef struct mem_job {
  void *dst;
  const void *src;
  size_t n;
  int result;
} mem_job;

static int do_compare(void *ctx) {
  mem_job *j = ctx;
  j->result = memcmp(j->dst, j->src, j->n);
  return 0;
}

#if defined(__GNUC__)
#define MMF__PREFETCH(p) __builtin_prefetch(p)
#else
#define MMF__PREFETCH(p) ((void)0)
#endif

/* memcpy with the guard armed over m's mapping; the code of a fault. */
static int guarded_copy(mmf_map *m, int writing, void *dst, const void *src,
                        size_t n) {
  mmf__guard_frame fr;
  mmf__fault fault;
  if (mmf__guard_prepare(&fr, &fault, m->base, m->map_len) != 0)
    return mmf__fail(m, MMF_ENOMEM, 0);
  if (MMF__SETJMP(fr.jump) == 0) {
    mmf__guard_enter(&fr);
    memcpy(dst, src, n);
    mmf__guard_leave(&fr);
    return 0;
  }
  mmf__guard_leave(&fr);
  return mmf__fault_code(m, &fault, writing);
}

int mmf_read(mmf_map *m, uint64_t off, void *dst, size_t n) {
  unsigned char *p;
  int rc = exact_range(m, off, n, &p);
  if (rc)
    return rc;
  if (!dst && n)
    return mmf__fail(m, MMF_EINVAL, 0);
  if (n == 0)
    return 0;
  /* Start the likely cache miss now, so that it overlaps the arming of
   * the guard. A prefetch never faults, so it needs no guard. */
  MMF__PREFETCH(p);
  return guarded_copy(m, 0, dst, p, n);
}

int mmf_write(mmf_map *m, uint64_t off, const void *src, size_t n) {
  unsigned char *p;
  int rc = exact_range(m, off, n, &p);
  if (rc)
    return rc;
  if (!src && n)
    return mmf__fail(m, MMF_EINVAL, 0);
  if (m->mode == MMF_READ)
    return mmf__fail(m, MMF_EACCES, 0);
  if (n == 0)
    return 0;
  return guarded_copy(m, 1, p, src, n);
}

int mmf_compare(mmf_map *m, uint64_t off, const void *buf, size_t n,
                int *result) {
  unsigned char *p;
  mem_job j;
  int rc;
  if (result)
    *result = 0;
  rc = exact_range(m, off, n, &p);
  if (rc)
    return rc;
  if (!result || (!buf && n))
    return mmf__fail(m, MMF_EINVAL, 0);
  if (n == 0)
    return 0;
  j.dst = p;
  j.src = buf;
  j.n = n;
  j.result = 0;
  rc = mmf__guarded(m, 0, do_compare, &j);
  if (rc)
    return rc;
  *result = j.result;
  return 0;
}

typedef struct find_job {
  const unsigned char *hay;
  size_t hay_len;
  const unsigned char *needle;
  size_t nlen;
  uint64_t pos;
} find_job;

static int do_find(void *ctx) {
  find_job *j = ctx;
  size_t at = mmf__find(j->hay, j->hay_len, j->needle, j->nlen);
  j->pos = at == SIZE_MAX ? MMF_NPOS : (uint64_t)at;
  return 0;
}

int mmf_find(mmf_map *m, uint64_t off, uint64_t len, const void *needle,
             size_t nlen, uint64_t *pos) {
  unsigned char *p;
  size_t n;
  find_job j;
  int rc;
  if (pos)
    *pos = MMF_NPOS;
  rc = mmf__range(m, off, len, &p, &n);
  if (rc)
    return rc;
  if (!pos || !needle || nlen == 0)
    return mmf__fail(m, MMF_EINVAL, 0);
  if (n == 0)
    return 0;
  j.hay = p;
  j.hay_len = n;
  j.needle = needle;
  j.nlen = nlen;
  rc = mmf__guarded(m, 0, do_find, &j);
  if (rc)
    return rc;
  if (j.pos != MMF_NPOS)
    *pos = off + j.pos;
  return 0;
}

typedef struct count_job {
  const unsigned char *p;
  size_t n;
  unsigned char byte;
  uint64_t count;
} count_job;

static int do_count(void *ctx) {
  count_job *j = ctx;
  j->count = mmf__count_byte(j->p, j->n, j->byte);
  return 0;
}

int mmf_count_byte(mmf_map *m, uint64_t off, uint64_t len, int byte,
                   uint64_t *count) {
  unsigned char *p;
  size_t n;
  count_job j;
  int rc;
  if (count)
    *count = 0;
  rc = mmf__range(m, off, len, &p, &n);
  if (rc)
    return rc;
  if (!count || byte < 0 || byte > 255)
    return mmf__fail(m, MMF_EINVAL, 0);
  if (n == 0)
    return 0;
  j.p = p;
  j.n = n;
  j.byte = (unsigned char)byte;
  j.count = 0;
  rc = mmf__guarded(m, 0, do_count, &j);
  if (rc)
    return rc;
  *count = j.count;
  return 0;
}

int mmf_guard(mmf_map *m, int (*fn)(void *ctx), void *ctx) {
  if (!m || !fn)
    return MMF_EINVAL;
  if (m->poisoned)
    return mmf__fail(m, m->poisoned, 0);
  return mmf__guarded_follow(m, m->mode == MMF_WRITE, fn, ctx);
}
