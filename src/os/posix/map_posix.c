/*
 * map_posix.c - creating, moving and removing mappings.
 *
 * Placement: Linux keeps page cache in large folios (up to 2 MiB) and maps
 * a folio with one 2 MiB page-table entry only when the virtual address is
 * congruent to the file offset modulo 2 MiB. A 2 GiB scan of an incongruent
 * mapping takes ~32,000 faults instead of ~1,200 and runs 2-2.7x slower.
 * So every mapping of 2 MiB or more is placed by reserving 2 MiB more
 * address space than needed (PROT_NONE, no memory), mapping the file with
 * MAP_FIXED at the congruent address inside it, and returning the rest.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "os/guard.h"
#include "os/os.h"
#include "os/posix/sys_posix.h"

#define HUGE_ALIGN ((size_t)MMF__HUGE_ALIGN)

#ifndef MAP_ANONYMOUS
#define MAP_ANONYMOUS MAP_ANON
#endif
#ifndef MAP_NORESERVE
#define MAP_NORESERVE 0
#endif

static int fail(int *oserr, int e) {
  if (oserr)
    *oserr = e;
  return mmf__os_error(e);
}

static size_t page_round(size_t n) {
  size_t ps = mmf__os_page_size();
  return (n + ps - 1) & ~(ps - 1);
}

/* Reserve len + 2 MiB of address space; *at is the address inside it that
 * is congruent to off modulo 2 MiB. */
static int reserve(size_t len, uint64_t off, void **res, size_t *res_len,
                   unsigned char **at, int *oserr) {
  size_t total = page_round(len) + HUGE_ALIGN;
  size_t delta;
  void *r;
  if (total < len)
    return fail(oserr, ENOMEM);
  r = mmf__sys.mmap(NULL, total, PROT_NONE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (r == MAP_FAILED)
    return fail(oserr, errno);
  delta = (size_t)((off - (uintptr_t)r) & (HUGE_ALIGN - 1));
  *res = r;
  *res_len = total;
  *at = (unsigned char *)r + delta;
  return 0;
}

/* Return the reservation around [at, at+len) to the system. */
static int trim(void *res, size_t res_len, unsigned char *at, size_t len,
                int *oserr) {
  unsigned char *r = res, *end = at + page_round(len);
  if (at > r && mmf__sys.munmap(r, (size_t)(at - r)) != 0)
    return fail(oserr, errno);
  if (r + res_len > end && mmf__sys.munmap(end, (size_t)(r + res_len - end)))
    return fail(oserr, errno);
  return 0;
}

static int map_placed(size_t len, int prot, int flags, int fd, uint64_t off,
                      void **addr, int *oserr) {
  void *res, *p;
  size_t res_len;
  unsigned char *at;
  int rc;
  if (len < HUGE_ALIGN) {
    p = mmf__sys.mmap(NULL, len, prot, flags, fd, (off_t)off);
    if (p == MAP_FAILED)
      return fail(oserr, errno);
    *addr = p;
    return 0;
  }
  rc = reserve(len, off, &res, &res_len, &at, oserr);
  if (rc)
    return rc;
  p = mmf__sys.mmap(at, len, prot, flags | MAP_FIXED, fd, (off_t)off);
  if (p == MAP_FAILED) {
    rc = fail(oserr, errno);
    mmf__sys.munmap(res, res_len);
    return rc;
  }
  rc = trim(res, res_len, at, len, oserr);
  if (rc) {
    mmf__sys.munmap(res, res_len);
    return rc;
  }
  *addr = p;
  return 0;
}

#ifndef MAP_POPULATE
typedef struct page_range {
  const volatile unsigned char *base;
  size_t len;
} page_range;

static int touch_pages(void *ctx) {
  const page_range *r = ctx;
  size_t ps = mmf__os_page_size();
  unsigned sum = 0;
  for (size_t i = 0; i < r->len; i += ps)
    sum += r->base[i];
  return (int)(sum & 1);
}

/* No MAP_POPULATE (macOS, the BSDs): ask for read-ahead, then read one
 * byte of every page under the fault guard, so that a file cut meanwhile
 * stops the touching, not the process. Populating is a wish: a refused
 * advice or a fault is not an error of the map. */
static void populate(void *addr, size_t len) {
  page_range range = {addr, len};
  mmf__fault fault;
  (void)mmf__sys.madvise(addr, len, MADV_WILLNEED);
  (void)mmf__guarded_call(addr, len, touch_pages, &range, &fault);
}
#endif

int mmf__os_map_file(mmf__file f, int access, uint64_t off, size_t len,
                     unsigned flags, void **addr, int *oserr) {
  int prot = access == MMF__MAP_READ ? PROT_READ : PROT_READ | PROT_WRITE;
  int mflags = access == MMF__MAP_COPY ? MAP_PRIVATE : MAP_SHARED;
  int rc;
  *addr = NULL;
#ifdef MAP_POPULATE
  if (flags & MMF_POPULATE)
    mflags |= MAP_POPULATE;
#endif
  if (off > (uint64_t)INT64_MAX)
    return fail(oserr, EOVERFLOW);
  rc = map_placed(len, prot, mflags, (int)f.h, off, addr, oserr);
#ifndef MAP_POPULATE
  if (rc == 0 && (flags & MMF_POPULATE))
    populate(*addr, len);
#endif
  return rc;
}

int mmf__os_map_anon(size_t len, int shared, unsigned flags, void **addr,
                     int *oserr) {
  int mflags = (shared ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS;
  int rc;
  *addr = NULL;
#ifdef MAP_POPULATE
  if (flags & MMF_POPULATE)
    mflags |= MAP_POPULATE;
#endif
  /* Offset 0 makes large anonymous maps 2 MiB-aligned, which transparent
   * huge pages need. */
  rc = map_placed(len, PROT_READ | PROT_WRITE, mflags, -1, 0, addr, oserr);
#ifndef MAP_POPULATE
  if (rc == 0 && (flags & MMF_POPULATE))
    populate(*addr, len);
#endif
#ifdef MADV_HUGEPAGE
  /* Huge pages are a wish: where the kernel refuses, normal pages stay. */
  if (rc == 0 && (flags & MMF_HUGE))
    (void)mmf__sys.madvise(*addr, len, MADV_HUGEPAGE);
#endif
  return rc;
}

int mmf__os_unmap(void *addr, size_t len, int *oserr) {
  if (mmf__sys.munmap(addr, len) != 0)
    return fail(oserr, errno);
  return 0;
}

#if defined(__linux__)
/* Move [old, old+old_len) to new_len bytes at an address congruent to off
 * modulo 2 MiB, carrying the pages (and private edits) with it. */
static int remap_placed(void *old, size_t old_len, size_t new_len, uint64_t off,
                        void **new_addr, int *oserr) {
  void *res, *p;
  size_t res_len;
  unsigned char *at;
  int rc;
  if (new_len < HUGE_ALIGN) {
    p = mmf__sys.mremap(old, old_len, new_len, MREMAP_MAYMOVE, NULL);
    if (p == MAP_FAILED)
      return fail(oserr, errno);
    *new_addr = p;
    return 0;
  }
  rc = reserve(new_len, off, &res, &res_len, &at, oserr);
  if (rc)
    return rc;
  p = mmf__sys.mremap(old, old_len, new_len, MREMAP_MAYMOVE | MREMAP_FIXED, at);
  if (p == MAP_FAILED) {
    rc = fail(oserr, errno);
    mmf__sys.munmap(res, res_len);
    return rc;
  }
  /* The pages now live at [at, at+new_len); a failure to return the spare
   * reservation only wastes address space, never memory. */
  (void)trim(res, res_len, at, new_len, NULL);
  *new_addr = p;
  return 0;
}
#endif

int mmf__os_remap(mmf__file f, int access, int shared, uint64_t off,
                  void *old_addr, size_t old_len, size_t new_len,
                  void **new_addr, int *oserr) {
  void *p;
  int rc;
  *new_addr = NULL;
#if defined(__linux__)
  (void)shared;
  (void)f;
  (void)access;
  if (mmf__sys.mremap) {
    /* In place first: shrinking always works, growing when the address
     * space after the mapping is free; either keeps the placement. */
    p = mmf__sys.mremap(old_addr, old_len, new_len, 0, NULL);
    if (p != MAP_FAILED) {
      *new_addr = p;
      return 0;
    }
    if (errno != ENOMEM)
      return fail(oserr, errno);
    return remap_placed(old_addr, old_len, new_len, off, new_addr, oserr);
  }
#endif
  /* No mremap (macOS, the BSDs). Shrinking returns the tail pages: the
   * mapping stays where it is, with its placement, and shared memory stays
   * shared with the processes that map it too (a new region would not
   * be). */
  if (new_len <= old_len) {
    size_t keep = page_round(new_len), had = page_round(old_len);
    if (had > keep &&
        mmf__sys.munmap((unsigned char *)old_addr + keep, had - keep) != 0)
      return fail(oserr, errno);
    *new_addr = old_addr;
    return 0;
  }
  /* Growing maps the new size elsewhere, carries private bytes over by
   * copying, then drops the old mapping. */
  if (f.h == MMF__NO_FILE)
    rc = mmf__os_map_anon(new_len, shared, 0, &p, oserr);
  else
    rc = mmf__os_map_file(f, access, off, new_len, 0, &p, oserr);
  if (rc)
    return rc;
  if (f.h == MMF__NO_FILE || access == MMF__MAP_COPY)
    memcpy(p, old_addr, old_len < new_len ? old_len : new_len);
  (void)mmf__sys.munmap(old_addr, old_len);
  *new_addr = p;
  return 0;
}
