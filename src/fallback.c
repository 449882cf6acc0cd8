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
#include "mmf_internal.h"

#define FIRST_CAPACITY ((size_t)64 << 10)

static uint64_t open_ended_limit(void) {
  uint64_t phys = mmf__os_physical_memory() / 2;
  uint64_t space = mmf__address_space_limit() / 2;
  return phys && phys < space ? phys : space;
}

/* Discard the first `skip` bytes of a stream; *eof says it ended first. */
static int skip_stream(mmf__file f, unsigned char *scratch, size_t cap,
                       uint64_t skip, int *eof, int *oserr) {
  size_t got;
  int rc;
  *eof = 0;
  while (skip > 0) {
    size_t n = skip < cap ? (size_t)skip : cap;
    rc = mmf__os_read(f, -1, scratch, n, &got, oserr);
    if (rc)
      return rc;
    if (got == 0) {
      *eof = 1;
      return 0;
    }
    skip -= got;
  }
  return 0;
}

/* Whether a positioned input ends before `offset` (offset past its end). */
static int ends_before(mmf__file f, uint64_t offset, int *before, int *oserr) {
  unsigned char probe;
  size_t got = 0;
  int rc;
  *before = 0;
  if (offset == 0)
    return 0;
  rc = mmf__os_read(f, (int64_t)(offset - 1), &probe, 1, &got, oserr);
  *before = got == 0;
  return rc;
}

int mmf__read_copy(mmf_map *m, mmf__file f, int positioned, uint64_t offset,
                   uint64_t length) {
  uint64_t limit = length ? length : open_ended_limit(), total = 0;
  size_t cap, got;
  unsigned char *buf = NULL;
  const mmf__file none = {MMF__NO_FILE};
  void *grown;
  int rc, oserr = 0, eof, before;
  if (length > mmf__address_space_limit())
    return mmf__fail(m, MMF_EOVERFLOW, 0);
  cap = length && length < FIRST_CAPACITY ? (size_t)length : FIRST_CAPACITY;
  rc = mmf__os_map_anon(cap, 0, 0, (void **)&buf, &oserr);
  if (rc)
    return mmf__fail(m, rc, oserr);
  if (!positioned) {
    rc = skip_stream(f, buf, cap, offset, &eof, &oserr);
    if (!rc && eof)
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
    rc = ends_before(f, offset, &before, &oserr);
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
