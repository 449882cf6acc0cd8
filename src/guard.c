/*
 * guard.c - the function form of the fault guard, for code that runs a
 * callback (mmf_guard, the window cursor, the fault classifier's probe).
 */
#include "os/guard.h"

int mmf__guarded_call(const void *lo, size_t len, int (*fn)(void *ctx),
                      void *ctx, mmf__fault *fault) {
  mmf__guard_frame fr;
  int rc;
  fault->kind = MMF__FAULT_NONE;
  rc = mmf__guard_prepare(&fr, fault, lo, len);
  if (rc)
    return rc;
  if (MMF__SETJMP(fr.jump) == 0) {
    mmf__guard_enter(&fr);
    rc = fn(ctx);
    mmf__guard_leave(&fr);
    fault->kind = MMF__FAULT_NONE;
    return rc;
  }
  mmf__guard_leave(&fr);
  return 0;
}
