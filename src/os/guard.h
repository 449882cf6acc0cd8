/*
 * guard.h - arming the fault guard inline.
 *
 * The pattern, in the function whose accesses are guarded (the jump target
 * must live in that function's own frame, which is why this cannot be a
 * function):
 *
 *     mmf__guard_frame fr;
 *     mmf__fault fault;
 *     if (mmf__guard_prepare(&fr, &fault, lo, len) != 0)
 *       return MMF_ENOMEM;
 *     if (MMF__SETJMP(fr.jump) == 0) {
 *       mmf__guard_enter(&fr);
 *       ... loads and stores in [lo, lo+len) ...
 *       mmf__guard_leave(&fr);
 *     } else {
 *       mmf__guard_leave(&fr);      fault says what happened
 *     }
 *
 * Nothing the guarded code changes may be kept in a local variable that is
 * read after a fault, unless it is volatile: the jump restores only the
 * stack and frame pointers.
 *
 * Single atomics on a hot path (the robust mutex's uncontended lock and
 * unlock) need no frame where the backend has them as routines whose
 * instructions the handler finds in a table (os.h, "Guarded atomics
 * without a frame"); elsewhere they use this pattern too.
 */
#ifndef MMF_GUARD_H
#define MMF_GUARD_H

#include <stdatomic.h>

#include "os/os.h"

/* Fill fr for [lo, lo+len). 0, or MMF_ENOMEM when no handler could be
 * installed (the guarded code must then not run). */
static inline int mmf__guard_prepare(mmf__guard_frame *fr, mmf__fault *f,
                                     const void *lo, size_t len) {
  if (!mmf__guard_thread_ready() && mmf__os_guard_thread_init() != 0)
    return MMF_ENOMEM;
  /* *f is written by the handler before it jumps, and read only after a
   * jump: no need to clear it on the path every call takes. */
  fr->lo = lo;
  fr->hi = (const unsigned char *)lo + len;
  fr->fault = f;
  fr->outer = mmf__guard_top_get();
  return 0;
}

static inline void mmf__guard_enter(mmf__guard_frame *fr) {
  mmf__guard_top_set(fr);
  /* Keep the guarded loads and stores after the frame is published... */
  atomic_signal_fence(memory_order_seq_cst);
}

static inline void mmf__guard_leave(mmf__guard_frame *fr) {
  /* ...and before it is withdrawn. */
  atomic_signal_fence(memory_order_seq_cst);
  mmf__guard_top_set(fr->outer);
}

/* Call fn(ctx) guarded over [lo, lo+len): fn's result, or, after a fault,
 * 0 with fault->kind set, or MMF_ENOMEM without calling fn when no handler
 * could be installed. For callers that are not on a hot path. */
int mmf__guarded_call(const void *lo, size_t len, int (*fn)(void *ctx),
                      void *ctx, mmf__fault *fault);

#endif /* MMF_GUARD_H */
