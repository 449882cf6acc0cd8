/*
 * map.c - opening, inspecting and closing maps.
 *
 * The order of work in mmf__map_file() is: validate everything that needs no
 * system call, learn what the descriptor is, grow the file if asked, then
 * map once. Every step after the file was grown undoes the growth when a
 * later step fails, so a failed open never changes the file.
 */
#include <stdlib.h>
#include <string.h>

#include "os/alloc.h"
#include "input.h"

#define OPEN_FLAGS                                                             \
  (MMF_CREATE | MMF_POPULATE | MMF_SEQUENTIAL | MMF_RANDOM | MMF_HUGE |        \
   MMF_LOCKED | MMF_PREALLOCATE | MMF_SYNC_ON_CLOSE | MMF_NO_FALLBACK |        \
   MMF_EXCLUSIVE | MMF_TRUNCATE)
#define WRITE_ONLY_FLAGS                                                       \
  (MMF_CREATE | MMF_PREALLOCATE | MMF_SYNC_ON_CLOSE | MMF_TRUNCATE)
#define ANON_FLAGS (MMF_SHARED | MMF_POPULATE | MMF_HUGE | MMF_LOCKED)

int mmf__check_mode_flags(int mode, unsigned flags, unsigned allowed) {
  if (mode != MMF_READ && mode != MMF_WRITE && mode != MMF_COPY)
    return MMF_EINVAL;
  if (flags & ~allowed)
    return MMF_EINVAL;
  if (mode != MMF_WRITE && (flags & WRITE_ONLY_FLAGS))
    return MMF_EINVAL;
  if ((flags & MMF_EXCLUSIVE) && !(flags & MMF_CREATE))
    return MMF_EINVAL;
  if ((flags & MMF_SEQUENTIAL) && (flags & MMF_RANDOM))
    return MMF_EINVAL;
  return 0;
}

static int check_open_args(int mode, const mmf_options *o) {
  int rc = mmf__check_mode_flags(mode, o->flags, OPEN_FLAGS);
  if (rc)
    return rc;
  rc = mmf__input_check_range(o->offset, o->length);
  if (rc)
    return rc;
  if (o->size > (uint64_t)INT64_MAX)
    return MMF_EOVERFLOW;
  /* A writable map grows the file first: refuse what no address space
   * holds before the file is touched. (Read and copy maps report a range
   * past the end first, MMF_ERANGE, which needs the file's size.) */
  if (mode == MMF_WRITE &&
      o->length > mmf__address_space_limit() - mmf__os_granularity())
    return MMF_EOVERFLOW;
  return 0;
}

/* Apply the hints and locks of flags to a fresh mapping. Hints are
 * best-effort; a lock that fails fails the open. */
static int apply_flags(mmf_map *m) {
  int oserr = 0, rc;
  if (!m->base)
    return 0;
  if (m->flags & MMF_SEQUENTIAL)
    (void)mmf__os_advise(m->base, m->map_len, MMF_ADV_SEQUENTIAL, NULL);
  if (m->flags & MMF_RANDOM)
    (void)mmf__os_advise(m->base, m->map_len, MMF_ADV_RANDOM, NULL);
  if ((m->flags & MMF_HUGE) && m->kind == MMF__FILE_MAP)
    (void)mmf__os_advise(m->base, m->map_len, MMF_ADV_HUGEPAGE, NULL);
  if (m->flags & MMF_LOCKED) {
    rc = mmf__os_lock(m->base, m->map_len, &oserr);
    if (rc)
      return mmf__fail(m, rc, oserr);
  }
  return 0;
}

static void release(mmf_map *m) {
  if (m->base)
    (void)mmf__os_unmap(m->base, m->map_len, NULL);
  mmf__os_close(&m->file);
  mmf__alloc.free(m->created_path);
  mmf__alloc.free(m->shm_name);
  mmf__alloc.free(m);
}

/* Map the part of an ordinary file that o asks for. */
static int map_regular(mmf_map *m, const mmf_options *o, uint64_t fsize) {
  uint64_t want, length = o->length, gran = mmf__os_granularity();
  uint64_t grown_from = fsize;
  int oserr = 0, rc;
  if (m->mode == MMF_WRITE) {
    want = o->size;
    if (o->length && o->offset + o->length > want)
      want = o->offset + o->length;
    if (o->flags & MMF_TRUNCATE)
      fsize = grown_from = 0; /* the old bytes go; nothing to undo to */
    /* Decide MMF_ERANGE before growing, so that a refused open never has
     * to shrink the file back (which could itself fail). */
    if (o->offset > (want > fsize ? want : fsize))
      return mmf__fail(m, MMF_ERANGE, 0);
    if (o->flags & MMF_TRUNCATE) {
      rc = mmf__os_set_size(m->file, 0, &oserr);
      if (rc)
        return mmf__fail(m, rc, oserr);
    }
    if (want > fsize) {
      rc = mmf__os_set_size(m->file, want, &oserr);
      if (rc)
        return mmf__fail(m, rc, oserr);
      fsize = want;
    }
  }
  rc = MMF_ERANGE;
  if (o->offset > fsize)
    goto undo;
  if (length == 0)
    length = fsize - o->offset;
  else if (length > fsize - o->offset)
    goto undo;
  m->slack = (size_t)(o->offset % gran);
  m->offset = o->offset;
  rc = MMF_EOVERFLOW;
  if (length > mmf__address_space_limit() - m->slack)
    goto undo;
  if (length == 0)
    return 0; /* empty map: no mapping, data NULL */
  if (m->flags & MMF_PREALLOCATE) {
    rc = mmf__os_preallocate(m->file, o->offset, length, &oserr);
    if (rc)
      goto undo;
  }
  m->map_len = m->slack + (size_t)length;
  rc = mmf__os_map_file(m->file, mmf__access_of(m->mode), o->offset - m->slack,
                        m->map_len, m->flags, &m->base, &oserr);
  if (rc) {
    m->map_len = 0;
    goto undo;
  }
  m->data = (unsigned char *)m->base + m->slack;
  m->size = (size_t)length;
  return 0;
undo:
  if (fsize != grown_from)
    (void)mmf__os_set_size(m->file, grown_from, NULL);
  return mmf__fail(m, rc, oserr);
}

/* A private copy of an input that cannot be mapped: the map no longer
 * needs the file. */
static int map_copy(mmf_map *m, mmf__file f, int cls, const mmf_options *o) {
  int rc = mmf__read_copy(m, f, cls != MMF__INPUT_STREAM, o->offset, o->length);
  if (rc == 0)
    mmf__os_close(&m->file);
  return rc;
}

int mmf__map_file(mmf_map **out, mmf__file f, int mode, const mmf_options *o,
                  const char *created_path) {
  mmf_map *m = mmf__alloc.calloc(1, sizeof *m);
  uint64_t fsize;
  int cls, oserr = 0, rc;
  if (!m) {
    mmf__os_close(&f);
    mmf__set_thread_os_error(0);
    return MMF_ENOMEM;
  }
  m->file = f;
  m->kind = MMF__FILE_MAP;
  m->mode = mode;
  m->flags = o->flags;
  m->offset = o->offset;
  rc = mmf__input_classify(f, &cls, &fsize, &oserr);
  if (rc)
    goto fail;
  if (!mmf__input_mappable(cls)) {
    rc = mmf__input_unmappable(o->flags, mode == MMF_WRITE);
    if (!rc)
      rc = map_copy(m, f, cls, o);
    oserr = rc ? m->os_error : 0;
    if (rc)
      goto fail;
    *out = m;
    return 0;
  }
  rc = map_regular(m, o, fsize);
  oserr = m->os_error;
  if (rc == MMF_ENODEV && !mmf__input_unmappable(o->flags, mode == MMF_WRITE)) {
    /* Some special files have a size but refuse mmap (/sys): read them to
     * their real end. */
    rc = map_copy(m, f, MMF__INPUT_SIZELESS, o);
    oserr = m->os_error;
    if (rc)
      goto fail;
    *out = m;
    return 0;
  }
  if (rc)
    goto fail;
  rc = apply_flags(m);
  oserr = m->os_error;
  if (rc)
    goto fail;
  if (created_path) {
    m->created_path = mmf__strndup(created_path, strlen(created_path));
    if (!m->created_path) {
      rc = MMF_ENOMEM;
      oserr = 0;
      goto fail;
    }
  }
  *out = m;
  return 0;
fail:
  release(m);
  mmf__set_thread_os_error(oserr);
  return rc;
}

/* Open path for mode as o asks (create, exclusive) into *f. */
static int open_path(const char *path, int mode, const mmf_options *o,
                     mmf__file *f, int *created, int *oserr) {
  unsigned how = mmf__input_open_how(o->flags, mode == MMF_WRITE);
  if (o->flags & MMF_CREATE)
    how |= MMF__OPEN_CREATE;
  if (o->flags & MMF_EXCLUSIVE)
    how |= MMF__OPEN_EXCLUSIVE;
  return mmf__os_open(path, how, f, created, oserr);
}

/* The twins: a path (fd < 0), or a duplicate of fd (path NULL). */
static int open_input(mmf_map **out, const char *path, int fd, int mode,
                      const mmf_options *opts) {
  mmf_options o = MMF_OPTIONS_INIT;
  mmf__file f;
  int rc, created = 0, oserr = 0;
  if (out)
    *out = NULL;
  mmf__set_thread_os_error(0);
  if (!out || (!path && fd < 0))
    return MMF_EINVAL;
  if (opts)
    o = *opts;
  rc = check_open_args(mode, &o);
  if (rc)
    return rc;
  if (!path && (o.flags & MMF_CREATE))
    return MMF_EINVAL;
  rc = path ? open_path(path, mode, &o, &f, &created, &oserr)
            : mmf__os_dup(fd, mode == MMF_WRITE, &f, &oserr);
  if (rc) {
    mmf__set_thread_os_error(oserr);
    return rc;
  }
  rc = mmf__map_file(out, f, mode, &o, created ? path : NULL);
  /* A failed open leaves no trace: a file this call created goes again
   * (the map closed it already). */
  if (rc && created) {
    oserr = mmf_last_os_error(NULL);
    (void)mmf__os_remove(path, NULL);
    mmf__set_thread_os_error(oserr);
  }
  return rc;
}

int mmf_open(mmf_map **out, const char *path, int mode,
             const mmf_options *opts) {
  if (!path) {
    if (out)
      *out = NULL;
    mmf__set_thread_os_error(0);
    return MMF_EINVAL;
  }
  return open_input(out, path, -1, mode, opts);
}

int mmf_open_fd(mmf_map **out, int fd, int mode, const mmf_options *opts) {
  return open_input(out, NULL, fd < 0 ? -1 : fd, mode, opts);
}

int mmf_anon(mmf_map **out, uint64_t length, unsigned flags) {
  mmf_map *m;
  int rc, oserr = 0;
  if (out)
    *out = NULL;
  mmf__set_thread_os_error(0);
  if (!out || (flags & ~(unsigned)ANON_FLAGS))
    return MMF_EINVAL;
  if (length > mmf__address_space_limit())
    return MMF_EOVERFLOW;
  m = mmf__alloc.calloc(1, sizeof *m);
  if (!m)
    return MMF_ENOMEM;
  m->file.h = MMF__NO_FILE;
  m->kind = MMF__ANON_MAP;
  m->mode = MMF_WRITE;
  m->flags = flags;
  if (length) {
    rc = mmf__os_map_anon((size_t)length, (flags & MMF_SHARED) != 0, flags,
                          &m->base, &oserr);
    if (rc)
      goto fail;
    m->map_len = (size_t)length;
    m->data = m->base;
    m->size = (size_t)length;
    rc = apply_flags(m);
    oserr = m->os_error;
    if (rc)
      goto fail;
  }
  *out = m;
  return 0;
fail:
  release(m);
  mmf__set_thread_os_error(oserr);
  return rc;
}

int mmf_close(mmf_map *m) {
  int rc = 0, oserr = 0;
  if (!m)
    return 0;
  if ((m->flags & MMF_SYNC_ON_CLOSE) && m->kind == MMF__FILE_MAP)
    rc = m->poisoned ? m->poisoned : mmf_flush(m, 0, 0, MMF_FLUSH_SYNC);
  if (m->base) {
    int urc = mmf__os_unmap(m->base, m->map_len, &oserr);
    if (!rc)
      rc = urc;
    m->base = NULL;
  }
  release(m);
  return rc;
}

void *mmf_data(const mmf_map *m) { return m && m->size ? m->data : NULL; }

size_t mmf_size(const mmf_map *m) { return m ? m->size : 0; }

uint64_t mmf_offset(const mmf_map *m) { return m ? m->offset : 0; }

bool mmf_is_mapped(const mmf_map *m) {
  return m != NULL && m->kind != MMF__COPY_MAP;
}

int mmf_mode(const mmf_map *m) { return m ? m->mode : 0; }

size_t mmf_page_size(void) { return mmf__os_page_size(); }

size_t mmf_granularity(void) { return mmf__os_granularity(); }
