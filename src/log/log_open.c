/*
 * log_open.c - opening and closing a log, and what a handle reports.
 */
#include <stdlib.h>
#include <string.h>

#include "os/alloc.h"
#include "input.h"
#include "log/log_internal.h"
#include "mmf_internal.h"

#define LOCK_NAME "lock"

int mmf__log_fail(mmf_log *log, int code, int oserr) {
  if (log)
    log->os_error = oserr;
  return code;
}

static int check_options(int mode, const mmf_log_options *o) {
  if (mode != MMF_READ && mode != MMF_WRITE)
    return MMF_EINVAL;
  if (o->flags & ~(unsigned)MMF_CREATE)
    return MMF_EINVAL;
  if ((o->flags & MMF_CREATE) && mode != MMF_WRITE)
    return MMF_EINVAL;
  if (o->segment_size &&
      (o->segment_size < MMF__LOG_MIN_SEGMENT ||
       o->segment_size > MMF__LOG_MAX_SEGMENT || o->segment_size % 4096u))
    return MMF_EINVAL;
  return 0;
}

static mmf_log *new_handle(const char *dir, int mode) {
  mmf_log *log = mmf__alloc.calloc(1, sizeof *log);
  size_t n = strlen(dir);
  if (!log)
    return NULL;
  /* Trailing slashes would double in the segment paths. */
  while (n > 1 && dir[n - 1] == '/')
    n--;
  log->dir = mmf__alloc.malloc(n + 1);
  if (!log->dir) {
    mmf__alloc.free(log);
    return NULL;
  }
  memcpy(log->dir, dir, n);
  log->dir[n] = '\0';
  log->mode = mode;
  log->lock.h = MMF__NO_FILE;
  return log;
}

static void free_handle(mmf_log *log) {
  size_t i;
  for (i = 0; i < log->nsegs; i++)
    (void)mmf__log_seg_unmap(&log->segs[i]);
  mmf__alloc.free(log->segs);
  mmf__log_view_close(log);
  mmf__os_close(&log->lock);
  mmf__alloc.free(log->dir);
  mmf__alloc.free(log);
}

/* Take the writer lock: the file "lock" in dir, locked while the writer
 * lives. The lock, not the file, is what counts: a stale file left by a
 * dead writer is simply locked again. */
static int take_lock(mmf_log *w, int *oserr) {
  size_t n = strlen(w->dir) + sizeof "/" LOCK_NAME;
  char *path = mmf__alloc.malloc(n);
  int rc, created;
  if (!path)
    return MMF_ENOMEM;
  memcpy(path, w->dir, n - sizeof "/" LOCK_NAME);
  memcpy(path + n - sizeof "/" LOCK_NAME, "/" LOCK_NAME, sizeof "/" LOCK_NAME);
  rc = mmf__os_open(path, MMF__OPEN_WRITE | MMF__OPEN_CREATE, &w->lock,
                    &created, oserr);
  mmf__alloc.free(path);
  if (!rc)
    rc = mmf__os_try_lock(w->lock, oserr);
  return rc;
}

static int open_writer(mmf_log *w, const mmf_log_options *o, int *oserr) {
  int rc, created = 0;
  if (o->flags & MMF_CREATE) {
    rc = mmf__os_mkdir(w->dir, &created, oserr);
    if (rc)
      return rc;
    /* The directory itself must survive a crash before anything in it
     * can be promised. */
    if (created) {
      rc = mmf__os_sync_parent_dir(w->dir, oserr);
      if (rc)
        return rc;
    }
  }
  rc = take_lock(w, oserr);
  if (rc)
    return rc;
  rc = mmf__log_recover(w, o);
  if (rc && oserr)
    *oserr = w->os_error;
  return rc;
}

static int open_reader(mmf_log *r, int *oserr) {
  uint64_t *bases;
  size_t n;
  mmf__log_head h;
  int rc = mmf__log_list(r->dir, &bases, &n, NULL, oserr);
  if (rc)
    return rc;
  if (n == 0)
    return MMF_ENOENT;
  /* The default walk budget: windows of the whole segment where the
   * address space allows it (see log_view.c). */
  rc = mmf__input_budget(0, &r->budget);
  if (!rc)
    rc = mmf__log_seg_read_head(r->dir, bases[0], &h, oserr);
  if (!rc)
    rc = mmf__log_view_open(r, bases[0], &h, oserr);
  mmf__alloc.free(bases);
  if (rc)
    return rc;
  r->segment_size = h.segment_size;
  r->pos = MMF__LOG_HEADER;
  r->seq = h.base;
  return 0;
}

int mmf_log_open(mmf_log **out, const char *dir, int mode,
                 const mmf_log_options *opts) {
  mmf_log_options o = MMF_LOG_OPTIONS_INIT;
  mmf_log *log;
  int rc, oserr = 0;
  if (out)
    *out = NULL;
  if (!out || !dir || !*dir)
    return MMF_EINVAL;
  if (opts)
    o = *opts;
  rc = check_options(mode, &o);
  if (rc)
    return rc;
  log = new_handle(dir, mode);
  if (!log)
    return MMF_ENOMEM;
  rc = mode == MMF_WRITE ? open_writer(log, &o, &oserr)
                         : open_reader(log, &oserr);
  if (rc) {
    free_handle(log);
    mmf__set_thread_os_error(oserr);
    return rc;
  }
  mmf__set_thread_os_error(0);
  *out = log;
  return 0;
}

int mmf_log_close(mmf_log *log) {
  int rc = 0;
  size_t i;
  if (!log)
    return 0;
  for (i = 0; i < log->nsegs; i++) {
    int r = mmf__log_seg_unmap(&log->segs[i]);
    if (!rc)
      rc = r;
  }
  log->nsegs = 0;
  if (log->mode == MMF_WRITE && log->latched)
    rc = log->latched;
  free_handle(log);
  return rc;
}

uint64_t mmf_log_segment_size(const mmf_log *log) {
  return log ? log->segment_size : 0;
}

int mmf_log_last_os_error(const mmf_log *log) {
  return log ? log->os_error : mmf_last_os_error(NULL);
}

int mmf_log_info(mmf_log *log, uint64_t *first, uint64_t *end,
                 uint64_t *segments) {
  uint64_t *bases;
  size_t n;
  int rc, oserr = 0;
  if (first)
    *first = 0;
  if (end)
    *end = 0;
  if (segments)
    *segments = 0;
  if (!log)
    return MMF_EINVAL;
  rc = mmf__log_list(log->dir, &bases, &n, NULL, &oserr);
  if (rc)
    return mmf__log_fail(log, rc, oserr);
  if (first)
    *first = n ? bases[0] : 0;
  if (end)
    *end = log->mode == MMF_WRITE ? log->next_seq : log->seq;
  if (segments)
    *segments = n;
  mmf__alloc.free(bases);
  return 0;
}
