/*
 * mmf_internal.h - the map handle and helpers shared by the portable core.
 *
 * Sizes are kept apart and named, because confusing them is how mapping code
 * goes wrong:
 *   base/map_len   the OS mapping: granularity-aligned start and length;
 *   data/size      what the caller sees: data = base + slack, size usable
 *                  bytes from data (lowered when the file is found
 *                  truncated);
 *   offset         file offset of data[0]; offset - slack is the aligned
 *                  file offset the OS mapping starts at.
 */
#ifndef MMF_INTERNAL_H
#define MMF_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "mmf.h"
#include "os/os.h"

/* What backs a handle's bytes. */
enum mmf__map_kind {
  MMF__FILE_MAP = 1, /* a mapping of a file (possibly empty) */
  MMF__ANON_MAP,     /* anonymous memory from mmf_anon() */
  MMF__COPY_MAP,     /* private copy of an unmappable input */
  MMF__SECTION_MAP   /* a view of a named section (Windows shared memory;
                        file holds the section): nothing to grow, flush
                        or lock */
};

struct mmf_map {
  unsigned char *data; /* first byte the caller sees; NULL when size 0 */
  size_t size;         /* usable bytes from data */
  uint64_t offset;     /* file offset of data[0] */
  void *base;          /* start of the OS mapping; NULL when none */
  size_t map_len;      /* length of the OS mapping */
  size_t slack;        /* data - base */
  mmf__file file;      /* kept for classification, resize, full sync */
  int kind;            /* enum mmf__map_kind */
  int mode;            /* MMF_READ, MMF_WRITE or MMF_COPY */
  unsigned flags;      /* mmf_options.flags */
  int poisoned;        /* 0, or the code every later call returns */
  int os_error;        /* raw OS error of the last failure */
  char *created_path;  /* set until the new file's directory is synced */
  /* The innermost frame of an mmf__guarded_follow() call over this map
   * while one runs, so that a mapping that moves meanwhile (mmf_resize,
   * the window cursor's next window) takes the guard along
   * (mmf__guard_follow). */
  mmf__guard_frame *guarding;
  char *shm_name; /* named shared memory: its name (src/share/shm.c) */
};

/* The backend's mapping access for a public mode. */
static inline int mmf__access_of(int mode) {
  return mode == MMF_READ    ? MMF__MAP_READ
         : mode == MMF_WRITE ? MMF__MAP_WRITE
                             : MMF__MAP_COPY;
}

/*
 * Build a map over the open file f for mode and the already checked
 * options o; the map owns f from here on (it is closed on failure).
 * created_path, when not NULL, names a file this call created (for the
 * directory sync of MMF_FLUSH_FULL). Sets *out, or the thread's OS error
 * on failure. Every way of opening a file map ends here.
 */
int mmf__map_file(mmf_map **out, mmf__file f, int mode, const mmf_options *o,
                  const char *created_path);

/* The mode and flag rules every open shares: one of the three modes,
 * only flags in allowed, write-only flags only with MMF_WRITE,
 * MMF_EXCLUSIVE only with MMF_CREATE, not both access hints.
 * MMF_EINVAL or 0. */
int mmf__check_mode_flags(int mode, unsigned flags, unsigned allowed);

/* Fail with code on m, remembering the raw OS error behind it. */
int mmf__fail(mmf_map *m, int code, int oserr);

/* Record the OS error of a handle-less failure for mmf_last_os_error(NULL). */
void mmf__set_thread_os_error(int oserr);

/*
 * Check a map and the range [off, off+len) in it (len 0: to the end) and
 * turn it into a pointer and byte count. Returns 0, MMF_EINVAL (NULL map),
 * the poison code, or MMF_ERANGE. An empty range at the end is fine.
 */
int mmf__range(mmf_map *m, uint64_t off, uint64_t len, unsigned char **p,
               size_t *n);

/* Widen [p, p+n) to whole pages inside the OS mapping. */
void mmf__page_span(const mmf_map *m, const unsigned char *p, size_t n,
                    void **start, size_t *len);

/* Largest map the address space could hold; bigger is MMF_EOVERFLOW. */
uint64_t mmf__address_space_limit(void);

/* Read an unmappable input into a private copy (see fallback.c). */
int mmf__read_copy(mmf_map *m, mmf__file f, int positioned, uint64_t offset,
                   uint64_t length);

/* The code for a fault f inside m's mapping, updating m as "Faults" in
 * mmf.h says (clamped size, poison). writing: whether the access was a
 * store, where the fault record does not know (fault.c). */
int mmf__fault_code(mmf_map *m, const mmf__fault *f, int writing);

/* Run fn(ctx) guarded over m's mapping, classifying any fault (fault.c).
 * Writes nothing to m unless fn faults, so threads may share m. */
int mmf__guarded(mmf_map *m, int writing, int (*fn)(void *ctx), void *ctx);

/* mmf__guarded for calls that use m from one thread at a time: the guard
 * follows the mapping if fn moves it (see mmf__guard_follow). */
int mmf__guarded_follow(mmf_map *m, int writing, int (*fn)(void *ctx),
                        void *ctx);

/* m's mapping changed (base, map_len): move the range of the guard armed
 * over it, if one runs, so that it still covers exactly the mapping. */
void mmf__guard_follow(mmf_map *m);

#endif /* MMF_INTERNAL_H */
