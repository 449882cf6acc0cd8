/*
 * alloc.c - the C library's allocator behind mmf__alloc.
 *
 * Thin wrappers rather than the functions themselves: a C runtime may
 * import malloc from a DLL (mingw, MSVC with /MD), and the address of an
 * imported function is not a constant a static table can hold.
 */
#include "os/alloc.h"

#include <stdlib.h>
#include <string.h>

static void *libc_malloc(size_t n) { return malloc(n); }

static void *libc_calloc(size_t count, size_t size) {
  return calloc(count, size);
}

static void *libc_realloc(void *p, size_t n) { return realloc(p, n); }

static void libc_free(void *p) { free(p); }

#define MMF__ALLOC_ENTRIES                                                     \
  {                                                                            \
    .malloc = libc_malloc, .calloc = libc_calloc, .realloc = libc_realloc,     \
    .free = libc_free,                                                         \
  }

const mmf__allocator mmf__alloc_real = MMF__ALLOC_ENTRIES;

/* A copy, not a reference, so tests can change entries. */
mmf__allocator mmf__alloc = MMF__ALLOC_ENTRIES;

char *mmf__strndup(const char *s, size_t n) {
  char *copy = mmf__alloc.malloc(n + 1);
  if (copy) {
    memcpy(copy, s, n);
    copy[n] = '\0';
  }
  return copy;
}

void *mmf__grow(void *items, size_t *cap, size_t elem, size_t first) {
  size_t want = *cap ? *cap * 2 : first;
  void *p = want <= SIZE_MAX / elem / 2 ? mmf__alloc.realloc(items, want * elem)
                                        : NULL;
  if (p)
    *cap = want;
  return p;
}
