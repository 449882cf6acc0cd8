/*
 * status.c - failure bookkeeping and range checks shared by every call.
 */
#include "mmf_internal.h"

/* Open calls have no handle to keep their OS error in. One int per thread
 * is the only state the library keeps besides the fault guard. */
static _Thread_local int thread_os_error;

void mmf__set_thread_os_error(int oserr) { thread_os_error = oserr; }

int mmf__fail(mmf_map *m, int code, int oserr) {
  if (m)
    m->os_error = oserr;
  return code;
}

int mmf_last_os_error(const mmf_map *m) {
  return m ? m->os_error : thread_os_error;
}

uint64_t mmf__address_space_limit(void) {
  /* 64-bit systems give user space 47 bits (128 TiB) of addresses; on
   * 32-bit ones size_t bounds it. */
  if (sizeof(void *) >= 8)
    return (uint64_t)1 << 47;
  return (uint64_t)SIZE_MAX;
}

int mmf__range(mmf_map *m, uint64_t off, uint64_t len, unsigned char **p,
               size_t *n) {
  *p = NULL;
  *n = 0;
  if (!m)
    return MMF_EINVAL;
  if (m->poisoned)
    return mmf__fail(m, m->poisoned, 0);
  if (off > m->size)
    return mmf__fail(m, MMF_ERANGE, 0);
  if (len == 0)
    len = m->size - off;
  else if (len > m->size - off)
    return mmf__fail(m, MMF_ERANGE, 0);
  *p = m->data ? m->data + off : NULL;
  *n = (size_t)len;
  return 0;
}

void mmf__page_span(const mmf_map *m, const unsigned char *p, size_t n,
                    void **start, size_t *len) {
  size_t ps = mmf__os_page_size();
  const unsigned char *base = m->base;
  size_t from = (size_t)(p - base), to = from + n;
  from -= from % ps;
  to = (to + ps - 1) / ps * ps;
  *start = (void *)(base + from);
  *len = to - from;
}
