/*
 * place.c - locating a sharing primitive's bytes in a map.
 */
#include "os/guard.h"
#include "share/share.h"

int mmf__share_guarded(mmf_map *m, void *p, size_t len, int writing,
                       int (*fn)(void *ctx), void *ctx) {
  mmf__fault f;
  int rc = mmf__guarded_call(p, len, fn, ctx, &f);
  if (f.kind == MMF__FAULT_NONE)
    return rc;
  return mmf__fault_code(m, &f, writing);
}

void mmf__share_place(const mmf_map *m, void *p, mmf__place *pl) {
  pl->addr = p;
  pl->file = m->file;
  pl->shm_name = m->shm_name;
  pl->offset = m->offset + (uint64_t)((unsigned char *)p - m->data);
}

int mmf__share_fail(int code, int oserr) {
  mmf__set_thread_os_error(oserr);
  return code;
}
