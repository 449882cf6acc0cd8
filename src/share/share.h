/*
 * share.h - what the sharing primitives (wait/wake, mutex, file locks)
 * have in common: finding their bytes in a map and naming them for the
 * backend.
 */
#ifndef MMF_SHARE_H
#define MMF_SHARE_H

#include "mmf_internal.h"

/*
 * Check m and the size bytes at off for a primitive aligned to align (a
 * power of two), and set *p to them. Alignment is judged on the region
 * offset mmf_offset(m) + off, which every process mapping the bytes
 * agrees on; the address must be aligned as well (it is, in every real
 * mapping). Returns 0, MMF_EINVAL (NULL m, misaligned), MMF_EPOISONED or
 * MMF_ERANGE. Writes nothing to m: these calls are thread-safe. Inline:
 * an uncontended mutex lock is a few nanoseconds in all.
 */
static inline int mmf__share_bytes(const mmf_map *m, uint64_t off, size_t size,
                                   size_t align, void **p) {
  *p = NULL;
  if (!m)
    return MMF_EINVAL;
  if (m->poisoned)
    return m->poisoned;
  if (off > m->size || size > m->size - off)
    return MMF_ERANGE;
  if ((((m->offset + off) | (uintptr_t)(m->data + off)) & (align - 1)) != 0)
    return MMF_EINVAL;
  *p = m->data + off;
  return 0;
}

/*
 * Run fn(ctx) with the fault guard armed over [p, p+len) of m, and return
 * what fn returns or, after a fault, its code (see "Faults" in mmf.h).
 * Unlike mmf__guarded() it keeps no state in m, so several threads may
 * use one map at once (only a fault updates m, as documented).
 */
int mmf__share_guarded(mmf_map *m, void *p, size_t len, int writing,
                       int (*fn)(void *ctx), void *ctx);

/* Describe the bytes at p (from mmf__share_bytes) for the backend. */
void mmf__share_place(const mmf_map *m, void *p, mmf__place *pl);

/* The code of a failed sharing call, after recording its OS error in the
 * calling thread's slot (mmf_last_os_error(NULL)). */
int mmf__share_fail(int code, int oserr);

/* A pause in a spin loop: it tells the core (and a sibling hyperthread)
 * that we only wait. */
static inline void mmf__cpu_relax(void) {
#if (defined(__GNUC__) || defined(__clang__)) &&                               \
    (defined(__x86_64__) || defined(__i386__))
  __builtin_ia32_pause();
#elif (defined(__GNUC__) || defined(__clang__)) && defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

#endif /* MMF_SHARE_H */
