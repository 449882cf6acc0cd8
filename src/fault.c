/*
 * fault.c - deciding what a fault inside a map meant, and what the handle
 * does next.
 *
 * The signal says only "this page could not be provided". The file says
 * why: a fault at or past its current end means it was truncated; a write
 * on a full filesystem means no space; the rest is an I/O error. A
 * truncate-then-extend race can leave the file long again by the time we
 * look, so a fault inside the file is probed once more, and the file's
 * change stamp (change time and size) is compared around the probe: a page
 * that reads now, or a file that changed while we looked, means a
 * transient truncation, not a broken disk. Only a page that stays
 * unreadable in an unchanging file, several times over, is MMF_EIO.
 */
#include <stdatomic.h>

#include "os/guard.h"
#include "mmf_internal.h"

static int probe_read(void *ctx) {
  const volatile unsigned char *p = ctx;
  return *p;
}

/* A store that changes nothing: an atomic add of 0 writes the byte back
 * as it is, even while another thread or process writes it. */
static int probe_write(void *ctx) {
  (void)atomic_fetch_add_explicit((_Atomic unsigned char *)ctx, 0,
                                  memory_order_relaxed);
  return 0;
}

/* Whether the page at addr can be read (or written) now. */
static int accessible_now(mmf_map *m, void *addr, int writing) {
  mmf__fault again;
  (void)mmf__guarded_call(m->base, m->map_len,
                          writing ? probe_write : probe_read, addr, &again);
  return again.kind == MMF__FAULT_NONE;
}

static int same_stamp(const mmf__stamp *a, const mmf__stamp *b) {
  return a->change_time == b->change_time && a->size == b->size;
}

/* Tries before a fault inside the file that cannot be explained by the
 * file changing is called an I/O error. */
#define CLASSIFY_TRIES 4

static int classify_file_fault(mmf_map *m, const mmf__fault *f, int writing) {
  uint64_t fsize, at;
  mmf__stamp before, after;
  int kind, oserr = 0, tries, readable, writable;
  at = (m->offset - m->slack) +
       (uint64_t)((unsigned char *)f->addr - (unsigned char *)m->base);
  for (tries = 0; tries < CLASSIFY_TRIES; tries++) {
    if (mmf__os_change_stamp(m->file, &before, &oserr) ||
        mmf__os_stat(m->file, &kind, &fsize, &oserr))
      break;
    if (at >= fsize) {
      /* Keep what still exists usable; calls past it are MMF_ERANGE. */
      uint64_t left = fsize > m->offset ? fsize - m->offset : 0;
      if (left < m->size)
        m->size = (size_t)left;
      return mmf__fail(m, MMF_ETRUNCATED, 0);
    }
    /* Writes into holes need blocks; so do reads of holes on filesystems
     * that allocate on first touch (tmpfs). Either way freeing space
     * fixes it, so the handle stays usable. */
    if (mmf__os_fs_full(m->file))
      return mmf__fail(m, MMF_ENOSPC, 0);
    readable = accessible_now(m, f->addr, 0);
    writable = readable && writing && accessible_now(m, f->addr, 1);
    if (mmf__os_change_stamp(m->file, &after, &oserr))
      break;
    /* The file changed while we looked: it was cut and grown again under
     * us (a truncate/extend race), which is a truncation, not a bad disk. */
    if (!same_stamp(&before, &after))
      return mmf__fail(m, MMF_ETRUNCATED, 0);
    /* A page that can be accessed now as the fault tried, in a file that
     * did not change while we looked: the fault was a truncation undone
     * before we looked (the file's stamp settled before `before`). A
     * write that still faults on a page that reads fine is a refused
     * block allocation that statvfs does not show (a quota). */
    if (readable && (!writing || writable))
      return mmf__fail(m, MMF_ETRUNCATED, 0);
    if (readable)
      return mmf__fail(m, MMF_ENOSPC, 0);
  }
  m->poisoned = MMF_EPOISONED;
  return mmf__fail(m, MMF_EIO, oserr);
}

int mmf__fault_code(mmf_map *m, const mmf__fault *f, int writing) {
  if (f->kind == MMF__FAULT_ACCESS)
    return mmf__fail(m, MMF_EACCES, 0);
  if (f->write >= 0)
    writing = f->write;
  if (m->kind == MMF__FILE_MAP)
    return classify_file_fault(m, f, writing);
  /* Anonymous memory faults only when the system cannot back it (shared
   * memory over a full tmpfs, a huge-page pool running dry). */
  return mmf__fail(m, MMF_ENOMEM, 0);
}

void mmf__guard_follow(mmf_map *m) {
  mmf__guard_frame *fr = m->guarding;
  if (!fr)
    return;
  /* The handler of this thread reads the range: no reordering around a
   * fault, nothing more (only this thread arms and moves it). */
  atomic_signal_fence(memory_order_seq_cst);
  fr->lo = m->base;
  fr->hi = m->base ? (const unsigned char *)m->base + m->map_len : NULL;
  atomic_signal_fence(memory_order_seq_cst);
}

int mmf__guarded(mmf_map *m, int writing, int (*fn)(void *ctx), void *ctx) {
  mmf__fault f;
  int rc;
  if (!m->base)
    return fn(ctx);
  rc = mmf__guarded_call(m->base, m->map_len, fn, ctx, &f);
  if (f.kind == MMF__FAULT_NONE)
    return rc;
  return mmf__fault_code(m, &f, writing);
}

/*
 * Armed even over a map that has no mapping yet (a window cursor before
 * its first window): fn may make one (mmf_window_next, mmf_lines_next)
 * and then read it, and the guard follows the map there. Nested guards
 * over the same map each follow it while they are the innermost; when an
 * inner one returns, the outer takes over the range it had. This writes
 * m->guarding, so it serves only calls that use m from one thread at a
 * time (mmf_guard, the window cursor); the sharing calls, which many
 * threads make on one map at once, use mmf__guarded().
 */
int mmf__guarded_follow(mmf_map *m, int writing, int (*fn)(void *ctx),
                        void *ctx) {
  mmf__guard_frame fr;
  mmf__fault f;
  mmf__guard_frame *const outer = m->guarding;
  int rc = mmf__guard_prepare(&fr, &f, m->base, m->base ? m->map_len : 0);
  if (rc)
    return rc;
  if (MMF__SETJMP(fr.jump) == 0) {
    mmf__guard_enter(&fr);
    m->guarding = &fr;
    rc = fn(ctx);
    m->guarding = outer;
    mmf__guard_leave(&fr);
    mmf__guard_follow(m);
    return rc;
  }
  mmf__guard_leave(&fr);
  m->guarding = outer;
  mmf__guard_follow(m);
  return mmf__fault_code(m, &f, writing);
}
