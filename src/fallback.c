/*
 * fallback.c - private copies of inputs that cannot be mapped.
 *
 * FIFOs, character devices, sockets and size-0 files that still produce
 * bytes (/proc, /sys) are read into anonymous memory, so callers get the
 * same kind of map either way; mmf_is_mapped() tells them apart. The buffer
 * doubles as it fills (remapped, not copied, where the OS can), and an
 * open-ended read stops at half the physical memory so that /dev/zero or an
 * endless pipe cannot take the machine down.
 */
#include "input.h"

#define FIRST_CAPACITY ((size_t)64 << 10)

static uint64_t open_ended_limit(void) {
  uint64_t phys = mmf__os_physical_memory() / 2;
  uint64_t space = mmf__address_space_limit() / 2;
  return phys && phys < space ? phys : space;
}

int mmf__read_copy(mmf_map *m, mmf__file f, int positioned, uint64_t offset,
                   uint64_t length) {
  uint64_t limit = length ? length : open_ended_limit(), total = 0;
  size_t cap, got;
  unsigned char *buf = NULL;
  const mmf__file none = {MMF__NO_FILE};
  void *grown;
  uint64_t skipped;
  int rc, oserr = 0, before;
  if (length > mmf__address_space_limit())
    return mmf__fail(m, MMF_EOVERFLOW, 0);
  cap = length && length < FIRST_CAPACITY ? (size_t)length : FIRST_CAPACITY;
  rc = mmf__os_map_anon(cap, 0, 0, (void **)&buf, &oserr);
  if (rc)
    return mmf__fail(m, rc, oserr);
  if (!positioned) {
    rc = mmf__input_skip(f, offset, buf, cap, &skipped, &oserr);
    if (!rc && skipped < offset)
      rc = MMF_ERANGE;
    if (rc)
      goto fail;
  }
  for (;;) {
    if (total == cap) {
      uint64_t want = (uint64_t)cap * 2;
      unsigned char probe;
      if (total == limit) {
        if (length)
          break;
        /* At the open-ended limit: more input means too much input. */
        rc = mmf__os_read(f, positioned ? (int64_t)(offset + total) : -1,
                          &probe, 1, &got, &oserr);
        if (!rc && got)
          rc = MMF_ENOMEM;
        if (rc)
          goto fail;
        break;
      }
      if (want > limit)
        want = limit;
      rc = mmf__os_remap(none, MMF__MAP_COPY, 0, 0, buf, cap, (size_t)want,
                         &grown, &oserr);
      if (rc)
        goto fail;
      buf = grown;
      cap = (size_t)want;
    }
    rc = mmf__os_read(f, positioned ? (int64_t)(offset + total) : -1,
                      buf + total, cap - (size_t)total, &got, &oserr);
    if (rc)
      goto fail;
    if (got == 0)
      break;
    total += got;
  }
  if (length && total < length) {
    rc = MMF_ERANGE;
    goto fail;
  }
  if (positioned && total == 0) {
    rc = mmf__input_ends_before(f, offset, &before, &oserr);
    if (!rc && before)
      rc = MMF_ERANGE;
    if (rc)
      goto fail;
  }
  if (total == 0) {
    (void)mmf__os_unmap(buf, cap, NULL);
    buf = NULL;
    cap = 0;
  } else if (m->mode == MMF_READ) {
    /* A read-only map should fault on a stray write, copy or not. */
    rc = mmf__os_protect(buf, cap, MMF_PROT_READ, &oserr);
    if (rc)
      goto fail;
  }
  m->kind = MMF__COPY_MAP;
  m->base = buf;
  m->map_len = cap;
  m->data = buf;
  m->size = (size_t)total;
  m->slack = 0;
  m->offset = offset;
  return 0;
fail:
  (void)mmf__os_unmap(buf, cap, NULL);
  return mmf__fail(m, rc, oserr);
}
