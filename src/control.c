/*
 * control.c - flush, advice, protection, locking and residency over a
 * range of a map.
 */
#include <stdlib.h>

#include "os/alloc.h"
#include "mmf_internal.h"

/* Whether stores to m's memory reach a file. */
static int writes_back(const mmf_map *m) {
  return m->kind == MMF__FILE_MAP && m->mode == MMF_WRITE;
}

int mmf_flush(mmf_map *m, uint64_t off, uint64_t len, int level) {
  unsigned char *p;
  size_t n, span;
  void *start;
  int rc, oserr = 0;
  rc = mmf__range(m, off, len, &p, &n);
  if (rc)
    return rc;
  if (level != MMF_FLUSH_ASYNC && level != MMF_FLUSH_SYNC &&
      level != MMF_FLUSH_FULL)
    return mmf__fail(m, MMF_EINVAL, 0);
  if (!writes_back(m))
    return 0;
  if (n) {
    mmf__page_span(m, p, n, &start, &span);
    rc = mmf__os_flush(m->file, start, span, level, &oserr);
    if (rc)
      return mmf__fail(m, rc, oserr);
  }
  if (level == MMF_FLUSH_FULL) {
    rc = mmf__os_sync_file(m->file, 1, &oserr);
    if (rc)
      return mmf__fail(m, rc, oserr);
    if (m->created_path) {
      /* A new file's data is not reachable after a crash until its
       * directory entry is durable too. Once is enough. */
      rc = mmf__os_sync_parent_dir(m->created_path, &oserr);
      if (rc)
        return mmf__fail(m, rc, oserr);
      mmf__alloc.free(m->created_path);
      m->created_path = NULL;
    }
  }
  return 0;
}

/* Check m and the range, and widen it to the pages the OS works on. *span
 * is 0 for an empty range, which every caller treats as done. */
static int page_range(mmf_map *m, uint64_t off, uint64_t len, void **start,
                      size_t *span) {
  unsigned char *p;
  size_t n;
  int rc = mmf__range(m, off, len, &p, &n);
  *start = NULL;
  *span = 0;
  if (rc || n == 0)
    return rc;
  mmf__page_span(m, p, n, start, span);
  return 0;
}

int mmf_advise(mmf_map *m, uint64_t off, uint64_t len, int advice) {
  void *start;
  size_t span;
  int rc, oserr = 0;
  rc = page_range(m, off, len, &start, &span);
  if (rc)
    return rc;
  if (advice < MMF_ADV_NORMAL || advice > MMF_ADV_HUGEPAGE)
    return mmf__fail(m, MMF_EINVAL, 0);
  if (!span)
    return 0;
  rc = mmf__os_advise(start, span, advice, &oserr);
  return rc ? mmf__fail(m, rc, oserr) : 0;
}

int mmf_protect(mmf_map *m, uint64_t off, uint64_t len, int prot) {
  void *start;
  size_t span;
  int rc, oserr = 0;
  rc = page_range(m, off, len, &start, &span);
  if (rc)
    return rc;
  if (prot != MMF_PROT_NONE && prot != MMF_PROT_READ && prot != MMF_PROT_WRITE)
    return mmf__fail(m, MMF_EINVAL, 0);
  if (prot == MMF_PROT_WRITE && m->mode == MMF_READ)
    return mmf__fail(m, MMF_EACCES, 0);
  if (!span)
    return 0;
  rc = mmf__os_protect(start, span, prot, &oserr);
  return rc ? mmf__fail(m, rc, oserr) : 0;
}

/* Lock (lock != 0) or unlock the pages of a range. */
static int lock_range(mmf_map *m, uint64_t off, uint64_t len, int lock) {
  void *start;
  size_t span;
  int rc, oserr = 0;
  rc = page_range(m, off, len, &start, &span);
  if (rc || !span)
    return rc;
  rc = lock ? mmf__os_lock(start, span, &oserr)
            : mmf__os_unlock(start, span, &oserr);
  return rc ? mmf__fail(m, rc, oserr) : 0;
}

int mmf_lock_memory(mmf_map *m, uint64_t off, uint64_t len) {
  return lock_range(m, off, len, 1);
}

int mmf_unlock_memory(mmf_map *m, uint64_t off, uint64_t len) {
  return lock_range(m, off, len, 0);
}

int mmf_resident(mmf_map *m, uint64_t off, uint64_t len, uint64_t *bytes) {
  unsigned char *p, *vec, *page;
  size_t n, span, ps = mmf__os_page_size(), pages, i;
  void *start;
  uint64_t count = 0;
  int rc, oserr = 0;
  if (bytes)
    *bytes = 0;
  if (!bytes)
    return mmf__fail(m, MMF_EINVAL, 0);
  rc = mmf__range(m, off, len, &p, &n);
  if (rc || n == 0)
    return rc;
  mmf__page_span(m, p, n, &start, &span);
  pages = span / ps;
  vec = mmf__alloc.malloc(pages);
  if (!vec)
    return mmf__fail(m, MMF_ENOMEM, 0);
  rc = mmf__os_resident(start, span, vec, &oserr);
  if (rc) {
    mmf__alloc.free(vec);
    return mmf__fail(m, rc, oserr);
  }
  /* Count the bytes of [p, p+n) that fall in resident pages. */
  for (i = 0, page = start; i < pages; i++, page += ps) {
    unsigned char *lo = page > p ? page : p;
    unsigned char *hi = page + ps < p + n ? page + ps : p + n;
    if (vec[i])
      count += (uint64_t)(hi - lo);
  }
  mmf__alloc.free(vec);
  *bytes = count;
  return 0;
}
