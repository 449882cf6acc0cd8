/*
 * count.c - the portable byte counter used until the SIMD kernels of the
 * scanning layer take over.
 */
#include "mmf_internal.h"

uint64_t mmf__count_bytes(const unsigned char *p, size_t n,
                          unsigned char byte) {
  uint64_t total = 0;
  size_t i;
  /* A branch-free comparison sum; compilers vectorise it. */
  for (i = 0; i < n; i++)
    total += p[i] == byte;
  return total;
}
