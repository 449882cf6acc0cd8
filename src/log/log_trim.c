/*
 * log_trim.c - dropping whole segments at the front of the log.
 *
 * Oldest first, so a crash half way leaves a log that starts later, never
 * one with a hole. The segment appended to always stays, and so does the
 * one holding record seq. A removed segment's disk space comes back once
 * no reader maps it (POSIX); Windows refuses to remove a file some
 * process maps: the trim stops there and a later one goes on.
 */
#include <stdlib.h>

#include "os/alloc.h"
#include "log/log_internal.h"

/* Forget a segment the writer still holds (rolled, not yet synced: the
 * records are being dropped, so the sync is moot). */
static void forget(mmf_log *w, uint64_t base) {
  size_t i;
  for (i = 0; i + 1 < w->nsegs; i++)
    if (w->segs[i].first == base) {
      (void)mmf__log_seg_unmap(&w->segs[i]);
      for (; i + 1 < w->nsegs; i++)
        w->segs[i] = w->segs[i + 1];
      w->nsegs--;
      return;
    }
}

int mmf_log_trim(mmf_log *w, uint64_t seq) {
  uint64_t *bases;
  size_t n, i;
  int rc, oserr = 0;
  if (!w)
    return MMF_EINVAL;
  if (w->mode != MMF_WRITE)
    return MMF_EACCES;
  if (seq > w->next_seq)
    return MMF_ERANGE;
  rc = mmf__log_list(w->dir, &bases, &n, NULL, &oserr);
  if (rc)
    return mmf__log_fail(w, rc, oserr);
  /* Segment i holds records [bases[i], bases[i + 1]). */
  for (i = 0;
       i + 1 < n && bases[i + 1] <= seq && bases[i] < mmf__log_tail(w)->first;
       i++) {
    char *path = mmf__log_seg_path(w->dir, bases[i]);
    if (!path) {
      rc = MMF_ENOMEM;
      break;
    }
    forget(w, bases[i]);
    rc = mmf__os_remove(path, &oserr);
    mmf__alloc.free(path);
    /* Windows refuses while the file is mapped (access denied or a
     * sharing violation): later. (POSIX unlink cannot be denied here: the
     * writer made these files in this directory.) */
    if (rc == MMF_EBUSY || rc == MMF_EACCES) {
      rc = 0;
      break;
    }
    if (rc) {
      rc = mmf__log_fail(w, rc, oserr);
      break;
    }
  }
  mmf__alloc.free(bases);
  return rc;
}
