/*
 * mem_posix.c - operations on mapped memory: flush, advice, protection,
 * locking, residency; and the machine's page size.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <unistd.h>

#include "os/os.h"
#include "os/posix/sys_posix.h"

static int fail(int *oserr, int e) {
  if (oserr)
    *oserr = e;
  return mmf__os_error(e);
}

size_t mmf__os_page_size(void) {
  /* Cached because sysconf is a call into libc on every use. Threads may
   * race to fill it; they all store the same value, and the atomic makes
   * that race well defined. */
  static _Atomic size_t cached;
  size_t ps = atomic_load_explicit(&cached, memory_order_relaxed);
  if (!ps) {
    long v = sysconf(_SC_PAGESIZE);
    ps = v > 0 ? (size_t)v : 4096;
    atomic_store_explicit(&cached, ps, memory_order_relaxed);
  }
  return ps;
}

size_t mmf__os_granularity(void) { return mmf__os_page_size(); }

uint64_t mmf__os_physical_memory(void) {
#ifdef _SC_PHYS_PAGES
  long pages = sysconf(_SC_PHYS_PAGES);
  if (pages > 0)
    return (uint64_t)pages * mmf__os_page_size();
#endif
  return 0;
}

int mmf__os_flush(mmf__file f, void *addr, size_t len, int level, int *oserr) {
  int flags = level == MMF_FLUSH_ASYNC ? MS_ASYNC : MS_SYNC;
  (void)f; /* msync MS_SYNC reaches stable storage by itself */
  if (mmf__sys.msync(addr, len, flags) != 0)
    return fail(oserr, errno);
  return 0;
}

int mmf__os_advise(void *addr, size_t len, int advice, int *oserr) {
  int a;
  switch (advice) {
  case MMF_ADV_NORMAL:
    a = MADV_NORMAL;
    break;
  case MMF_ADV_SEQUENTIAL:
    a = MADV_SEQUENTIAL;
    break;
  case MMF_ADV_RANDOM:
    a = MADV_RANDOM;
    break;
  case MMF_ADV_WILLNEED:
    a = MADV_WILLNEED;
    break;
  case MMF_ADV_DONTNEED:
    a = MADV_DONTNEED;
    break;
#ifdef MADV_HUGEPAGE
  case MMF_ADV_HUGEPAGE:
    a = MADV_HUGEPAGE;
    break;
#endif
  default:
    return fail(oserr, ENOTSUP);
  }
  if (mmf__sys.madvise(addr, len, a) != 0)
    return fail(oserr, errno);
  return 0;
}

int mmf__os_protect(void *addr, size_t len, int prot, int *oserr) {
  int p = prot == MMF_PROT_NONE   ? PROT_NONE
          : prot == MMF_PROT_READ ? PROT_READ
                                  : PROT_READ | PROT_WRITE;
  if (mmf__sys.mprotect(addr, len, p) != 0)
    return fail(oserr, errno);
  return 0;
}

int mmf__os_lock(void *addr, size_t len, int *oserr) {
  if (mmf__sys.mlock(addr, len) != 0)
    return fail(oserr, errno);
  return 0;
}

int mmf__os_unlock(void *addr, size_t len, int *oserr) {
  if (mmf__sys.munlock(addr, len) != 0)
    return fail(oserr, errno);
  return 0;
}

int mmf__os_resident(void *addr, size_t len, unsigned char *vec, int *oserr) {
  size_t ps = mmf__os_page_size(), i, pages = (len + ps - 1) / ps;
  if (mmf__sys.mincore(addr, len, vec) != 0)
    return fail(oserr, errno);
  /* Only the low bit means "resident"; the others are reserved. */
  for (i = 0; i < pages; i++)
    vec[i] &= 1;
  return 0;
}
