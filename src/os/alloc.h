/*
 * alloc.h - the table every allocation of the library goes through.
 *
 * Allocation is not an OS call, so the table is one portable file, but it
 * sits beside the backend contract (os/os.h) and the guard (os/guard.h)
 * because the backends allocate too and must not reach up into the core.
 * It exists for the reason the backends' syscall tables
 * (src/os/posix/sys_posix.h, src/os/win/sys_win.h) do: a test replaces entries
 * to make the N-th allocation fail, and counts what is outstanding, so
 * that every MMF_ENOMEM path is walked and nothing leaks on it.
 *
 * The rule for library code: never call malloc, calloc, realloc, free or
 * strdup directly; call mmf__alloc.malloc(n) and friends, and mmf__strndup
 * for copies of strings. An allocation that fails is MMF_ENOMEM with no OS
 * error behind it (mmf_last_os_error gives 0). The fault guard and its
 * handler never allocate (see mmf__guard_top_get in os/os.h). Large
 * buffers that want page alignment or their own pages (the private copy
 * of an unmappable input, the cursor's stream buffer) are anonymous maps
 * through the backend's table instead. The table is internal: not
 * exported from the shared library; tests link the static one.
 */
#ifndef MMF_ALLOC_H
#define MMF_ALLOC_H

#include <stddef.h>

#include "mmf.h"

typedef struct mmf__allocator {
  void *(*malloc)(size_t n);
  void *(*calloc)(size_t count, size_t size);
  /* realloc(p, 0) is never asked: its meaning differs between C
   * libraries (C23 makes it undefined). */
  void *(*realloc)(void *p, size_t n);
  void (*free)(void *p);
} mmf__allocator;

/* The live table. */
extern mmf__allocator mmf__alloc;
/* The C library's calls, to restore entries after a test. */
extern const mmf__allocator mmf__alloc_real;

/* A NUL-terminated copy of the first n bytes of s, from the table; NULL
 * when out of memory. */
char *mmf__strndup(const char *s, size_t n);

/* The array items of *cap elements of size elem, full, made twice as
 * large (first elements when it has none): the new array with *cap
 * updated, or NULL with both left as they were. */
void *mmf__grow(void *items, size_t *cap, size_t elem, size_t first);

/* For code that reports an OS error through *oserr (the backends): an
 * allocation failed, which is MMF_ENOMEM with no OS error. */
static inline int mmf__alloc_failed(int *oserr) {
  if (oserr)
    *oserr = 0;
  return MMF_ENOMEM;
}

#endif /* MMF_ALLOC_H */
