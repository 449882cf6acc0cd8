/*
 * resize.c - growing and shrinking a map together with its file.
 *
 * Order matters so that no mapping ever covers bytes the file lacks: when
 * growing, the file grows first and the mapping follows; when shrinking,
 * the mapping shrinks first and the file follows. A failure in the second
 * step undoes the first.
 */
#include "mmf_internal.h"

/* A MMF_LOCKED map whose new mapping could not be locked goes back to its
 * old length, so that the caller's view matches the file again. Should
 * even that fail, the handle is poisoned rather than left pointing past
 * the end of the file. */
static void undo_lock_failure(mmf_map *m, void *nb, size_t new_len) {
  void *back = NULL;
  int rc;
  if (m->map_len == 0)
    rc = mmf__os_unmap(nb, new_len, NULL);
  else
    rc = mmf__os_remap(m->file, mmf__access_of(m->mode),
                       (m->flags & MMF_SHARED) != 0, m->offset - m->slack, nb,
                       new_len, m->map_len, &back, NULL);
  if (rc) {
    /* Keep pointing into the mapping that exists (nb may lie elsewhere
     * than the old one), so mmf_data() never dangles and close unmaps
     * the right range. */
    m->base = nb;
    m->map_len = new_len;
    m->data = (unsigned char *)nb + m->slack;
    if (m->size > new_len - m->slack)
      m->size = new_len - m->slack;
    m->poisoned = MMF_EPOISONED;
    return;
  }
  m->base = back;
  m->data = back ? (unsigned char *)back + m->slack : NULL;
}

/* Make m's mapping cover new_size bytes from data (the file is ready). */
static int resize_mapping(mmf_map *m, uint64_t new_size) {
  size_t new_len = new_size ? m->slack + (size_t)new_size : 0;
  int shared = (m->flags & MMF_SHARED) != 0, rc = 0, oserr = 0;
  uint64_t aligned = m->offset - m->slack;
  void *nb = NULL;
  if (new_len == m->map_len && m->base) {
    m->size = (size_t)new_size;
    return 0;
  }
  if (new_len == 0) {
    if (m->base) {
      rc = mmf__os_unmap(m->base, m->map_len, &oserr);
      if (rc)
        return mmf__fail(m, rc, oserr);
    }
  } else if (!m->base) {
    unsigned flags = m->flags & ~(unsigned)MMF_POPULATE;
    if (m->kind == MMF__ANON_MAP)
      rc = mmf__os_map_anon(new_len, shared, flags, &nb, &oserr);
    else
      rc = mmf__os_map_file(m->file, mmf__access_of(m->mode), aligned, new_len,
                            flags, &nb, &oserr);
  } else {
    rc = mmf__os_remap(m->file, mmf__access_of(m->mode), shared, aligned,
                       m->base, m->map_len, new_len, &nb, &oserr);
  }
  if (rc)
    return mmf__fail(m, rc, oserr);
  if (nb && (m->flags & MMF_LOCKED)) {
    rc = mmf__os_lock(nb, new_len, &oserr);
    if (rc) {
      undo_lock_failure(m, nb, new_len);
      return mmf__fail(m, rc, oserr);
    }
  }
  m->base = nb;
  m->map_len = new_len;
  m->data = nb ? (unsigned char *)nb + m->slack : NULL;
  m->size = (size_t)new_size;
  return 0;
}

/*
 * Windows refuses to shrink a file while any view of it exists, even a view
 * that ends before the new size (ERROR_USER_MAPPED_FILE, MMF_EBUSY): the
 * file's section keeps the largest size it was made with. So drop our view,
 * shrink, and map again. If the file still cannot shrink (a map elsewhere
 * holds it), map the old size again; losing the mapping in between poisons
 * the handle.
 */
static int shrink_unmapped(mmf_map *m, uint64_t new_size, uint64_t new_end,
                           uint64_t old_size) {
  int rc, rc2, oserr = 0;
  rc = mmf__os_unmap(m->base, m->map_len, &oserr);
  if (rc) {
    /* Still mapped at the new size: give the caller the old map back. */
    (void)resize_mapping(m, old_size);
    return mmf__fail(m, rc, oserr);
  }
  m->base = NULL;
  m->data = NULL;
  m->map_len = 0;
  m->size = 0;
  rc = mmf__os_set_size(m->file, new_end, &oserr);
  rc2 = resize_mapping(m, rc ? old_size : new_size);
  if (rc2) {
    m->poisoned = MMF_EPOISONED;
    return rc2;
  }
  return rc ? mmf__fail(m, rc, oserr) : 0;
}

static int resize_file_map(mmf_map *m, uint64_t new_size) {
  uint64_t fsize, new_end = m->offset + new_size, old_size = m->size;
  int kind, rc, oserr = 0;
  rc = mmf__os_stat(m->file, &kind, &fsize, &oserr);
  if (rc)
    return mmf__fail(m, rc, oserr);
  if (m->mode != MMF_WRITE) {
    if (new_end > fsize)
      return mmf__fail(m, MMF_ERANGE, 0);
    if (new_size > mmf__address_space_limit() - m->slack)
      return mmf__fail(m, MMF_EOVERFLOW, 0);
    return resize_mapping(m, new_size);
  }
  if (new_size > mmf__address_space_limit() - m->slack)
    return mmf__fail(m, MMF_EOVERFLOW, 0);
  if (new_end >= fsize) {
    if (new_end > fsize) {
      rc = mmf__os_set_size(m->file, new_end, &oserr);
      if (rc)
        goto undo_file;
    }
    /* After growing: some backends can only allocate inside the file. */
    if ((m->flags & MMF_PREALLOCATE) && new_size) {
      rc = mmf__os_preallocate(m->file, m->offset, new_size, &oserr);
      if (rc)
        goto undo_file;
    }
    rc = resize_mapping(m, new_size);
    if (rc) {
      oserr = m->os_error;
      goto undo_file;
    }
    return 0;
  }
  rc = resize_mapping(m, new_size);
  if (rc)
    return rc;
  rc = mmf__os_set_size(m->file, new_end, &oserr);
  if (rc == MMF_EBUSY && m->base)
    return shrink_unmapped(m, new_size, new_end, old_size);
  if (rc) {
    (void)resize_mapping(m, old_size);
    return mmf__fail(m, rc, oserr);
  }
  return 0;
undo_file:
  /* Put the file back to the size it had (growth, or a preallocation
   * that extended it before failing). Windows refuses that while the old
   * view lives (MMF_EBUSY): drop the view, shrink, map the old size again,
   * as a shrinking resize does. The error to report is still rc. */
  if (mmf__os_set_size(m->file, fsize, NULL) == MMF_EBUSY && m->base)
    (void)shrink_unmapped(m, old_size, fsize, old_size);
  return mmf__fail(m, rc, oserr);
}

static int resize(mmf_map *m, uint64_t new_size) {
  if (m->poisoned)
    return mmf__fail(m, m->poisoned, 0);
  if (m->kind == MMF__COPY_MAP || m->kind == MMF__SECTION_MAP)
    return mmf__fail(m, MMF_ENOTSUP, 0);
  if (m->kind == MMF__ANON_MAP) {
    if (new_size > mmf__address_space_limit())
      return mmf__fail(m, MMF_EOVERFLOW, 0);
    /* Growing shared memory would not reach the processes that already
     * share it, and on Linux the new part would fault: refuse. */
    if ((m->flags & MMF_SHARED) && new_size > m->size)
      return mmf__fail(m, MMF_ENOTSUP, 0);
    return resize_mapping(m, new_size);
  }
  if (new_size > (uint64_t)INT64_MAX - m->offset)
    return mmf__fail(m, MMF_EOVERFLOW, 0);
  return resize_file_map(m, new_size);
}

int mmf_resize(mmf_map *m, uint64_t new_size) {
  int rc;
  if (!m)
    return MMF_EINVAL;
  rc = resize(m, new_size);
  /* Called inside mmf_guard(m, ...): the guard goes where the map went. */
  mmf__guard_follow(m);
  return rc;
}
