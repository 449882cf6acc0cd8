/*
 * shm.c - named shared memory: mmf_shm_open and mmf_shm_unlink.
 *
 * A region is opened by name and mapped into an ordinary mmf_map, so every
 * map function works on it. Where regions are files (POSIX) the map is
 * built like any file map (mmf__map_file); where they are sections
 * (Windows) it is a view of the section, which cannot grow, flush to a
 * file, or take file locks (MMF__SECTION_MAP). Names are checked here, the
 * same on every OS, so a program that works on one works on the others.
 */
#include <stdlib.h>
#include <string.h>

#include "os/alloc.h"
#include "share/share.h"

#define NAME_MAX_BYTES 200
#define SHM_FLAGS                                                              \
  (MMF_CREATE | MMF_EXCLUSIVE | MMF_POPULATE | MMF_SEQUENTIAL | MMF_RANDOM |   \
   MMF_HUGE | MMF_LOCKED | MMF_PREALLOCATE)

/* 1 to 200 bytes of letters, digits, '.', '_' and '-', not "." or "..":
 * what every OS takes as a name of its own (no '/', no '\\', no case or
 * encoding surprises). */
static int valid_name(const char *name) {
  size_t n;
  for (n = 0; name[n]; n++) {
    char c = name[n];
    if (n == NAME_MAX_BYTES ||
        !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
          (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
      return 0;
  }
  return n > 0 && strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

static int check_args(const char *name, int mode, const mmf_options *o,
                      uint64_t *create_size) {
  *create_size = o->size ? o->size : o->length;
  if (!name || !valid_name(name))
    return MMF_EINVAL;
  if (mmf__check_mode_flags(mode, o->flags, SHM_FLAGS))
    return MMF_EINVAL;
  if ((o->flags & MMF_CREATE) && *create_size == 0)
    return MMF_EINVAL;
  if (o->offset > (uint64_t)INT64_MAX ||
      o->length > (uint64_t)INT64_MAX - o->offset ||
      o->size > (uint64_t)INT64_MAX)
    return MMF_EOVERFLOW;
  return 0;
}

/* A view of [o->offset, +length) of the section f, which the map keeps
 * open: a Windows object loses its name with its last handle, views or
 * not, and the region must stay findable while it is mapped. */
static int map_section(mmf_map **out, mmf__file f, int mode,
                       const mmf_options *o, uint64_t region_size) {
  uint64_t length = o->length, gran = mmf__os_granularity();
  mmf_map *m;
  int rc, oserr = 0;
  /* A section cannot grow: whatever lies past its end is out of range. */
  rc = MMF_ERANGE;
  if (o->offset > region_size || o->size > region_size ||
      length > region_size - o->offset)
    goto fail_closed;
  if (length == 0)
    length = region_size - o->offset;
  rc = MMF_EOVERFLOW;
  if (length > mmf__address_space_limit() - gran)
    goto fail_closed;
  rc = MMF_ENOMEM;
  m = mmf__alloc.calloc(1, sizeof *m);
  if (!m)
    goto fail_closed;
  m->file = f;
  m->kind = MMF__SECTION_MAP;
  m->mode = mode;
  m->flags = o->flags;
  m->offset = o->offset;
  m->slack = (size_t)(o->offset % gran);
  if (length) {
    m->map_len = m->slack + (size_t)length;
    rc = mmf__os_map_section(f, mmf__access_of(mode), o->offset - m->slack,
                             m->map_len, o->flags, &m->base, &oserr);
    if (rc) {
      m->map_len = 0;
      mmf__alloc.free(m);
      goto fail_closed;
    }
    m->data = (unsigned char *)m->base + m->slack;
    m->size = (size_t)length;
  }
  if ((o->flags & MMF_LOCKED) && m->base) {
    rc = mmf__os_lock(m->base, m->map_len, &oserr);
    if (rc) {
      (void)mmf_close(m);
      mmf__set_thread_os_error(oserr);
      return rc;
    }
  }
  *out = m;
  return 0;
fail_closed:
  mmf__os_close(&f);
  mmf__set_thread_os_error(oserr);
  return rc;
}

int mmf_shm_open(mmf_map **out, const char *name, int mode,
                 const mmf_options *opts) {
  mmf_options o = {0, 0, 0, 0};
  uint64_t create_size, region_size;
  mmf__file f;
  int rc, oserr = 0, created = 0, create;
  char *copy;
  if (out)
    *out = NULL;
  mmf__set_thread_os_error(0);
  if (!out)
    return MMF_EINVAL;
  if (opts)
    o = *opts;
  rc = check_args(name, mode, &o, &create_size);
  if (rc)
    return rc;
  create = (o.flags & MMF_CREATE) != 0;
  copy = mmf__strndup(name, strlen(name));
  if (!copy)
    return MMF_ENOMEM;
  rc = mmf__os_shm_open(name, mode == MMF_WRITE, create,
                        (o.flags & MMF_EXCLUSIVE) != 0, create_size, &f,
                        &region_size, &created, &oserr);
  if (rc) {
    mmf__alloc.free(copy);
    mmf__set_thread_os_error(oserr);
    return rc;
  }
  /* The flags that only choose how to open are spent. */
  o.flags &= ~(unsigned)(MMF_CREATE | MMF_EXCLUSIVE);
  if (created)
    o.size = create_size > o.size ? create_size : o.size;
  if (mmf__os_shm_is_file())
    rc = mmf__map_file(out, f, mode, &o, NULL);
  else
    rc = map_section(out, f, mode, &o, region_size);
  if (rc) {
    /* A failed create leaves no name behind. */
    oserr = mmf_last_os_error(NULL);
    if (created)
      (void)mmf__os_shm_unlink(name, NULL);
    mmf__alloc.free(copy);
    mmf__set_thread_os_error(oserr);
    return rc;
  }
  (*out)->shm_name = copy;
  return 0;
}

int mmf_shm_unlink(const char *name) {
  int rc, oserr = 0;
  mmf__set_thread_os_error(0);
  if (!name || !valid_name(name))
    return MMF_EINVAL;
  rc = mmf__os_shm_unlink(name, &oserr);
  if (rc)
    mmf__set_thread_os_error(oserr);
  return rc;
}

const char *mmf_shm_name(const mmf_map *m) { return m ? m->shm_name : NULL; }
