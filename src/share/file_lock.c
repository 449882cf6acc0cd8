/*
 * file_lock.c - mmf_lock_file and mmf_unlock_file: byte-range locks on
 * the file behind a map, owned by the map.
 *
 * Ranges are map ranges (off relative to mmf_data, len 0 to the end of the
 * map) turned into file ranges here, so every process that maps the file
 * at whatever offset locks the same bytes. The backend locks through the
 * map's own open file: see lock_posix.c and lock_win.c for why that, and
 * not the process, must own the lock.
 */
#include "share/share.h"

#define HOW_MODES (MMF_LOCK_SHARED | MMF_LOCK_EXCLUSIVE)

/* The file range [*foff, *foff + *flen) of map range [off, off+len). */
static int file_range(mmf_map *m, uint64_t off, uint64_t len, uint64_t *foff,
                      uint64_t *flen) {
  *foff = 0;
  *flen = 0;
  if (!m)
    return MMF_EINVAL;
  if (m->poisoned)
    return m->poisoned;
  if (off > m->size || len > m->size - off)
    return MMF_ERANGE;
  if (len == 0)
    len = m->size - off;
  if (len == 0)
    return MMF_EINVAL; /* nothing to lock */
  if (m->kind != MMF__FILE_MAP || m->file.h == MMF__NO_FILE)
    return MMF_ENOTSUP;
  *foff = m->offset + off;
  *flen = len;
  return 0;
}

int mmf_lock_file(mmf_map *m, uint64_t off, uint64_t len, int how) {
  uint64_t foff, flen;
  int rc, oserr = 0, mode = how & HOW_MODES;
  if ((how & ~(HOW_MODES | MMF_LOCK_NOWAIT)) ||
      (mode != MMF_LOCK_SHARED && mode != MMF_LOCK_EXCLUSIVE))
    return mmf__share_fail(MMF_EINVAL, 0);
  rc = file_range(m, off, len, &foff, &flen);
  if (rc == 0)
    rc = mmf__os_lock_range(m->file, foff, flen, mode == MMF_LOCK_EXCLUSIVE,
                            (how & MMF_LOCK_NOWAIT) != 0, &oserr);
  return mmf__share_fail(rc, rc ? oserr : 0);
}

int mmf_unlock_file(mmf_map *m, uint64_t off, uint64_t len) {
  uint64_t foff, flen;
  int rc, oserr = 0;
  rc = file_range(m, off, len, &foff, &flen);
  if (rc == 0)
    rc = mmf__os_unlock_range(m->file, foff, flen, &oserr);
  return mmf__share_fail(rc, rc ? oserr : 0);
}
