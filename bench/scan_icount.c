/*
 * scan_icount.c - run one scan kernel once over generated text, for
 * counting the instructions it executes (bench/scan_icount.py runs it under
 * qemu-user with its execution log). Built by that script, not by CMake.
 *
 *   scan_icount VARIANT KERNEL BYTES
 *
 * VARIANT is a kernel variant name (generic, neon, sse2, ...), KERNEL one
 * of none (only the text is made), count_byte, find_byte, find, count_str,
 * positions. The text has a '\n' every 41 bytes and no '#'; find and
 * count_str look for "q#zx", which it does not hold.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scan/scan.h"

int main(int argc, char **argv) {
  static uint32_t pos[4096];
  const mmf__scan_kernels *k;
  const unsigned char *needle = (const unsigned char *)"q#zx";
  unsigned char *p;
  size_t n, i, off, scanned, r = 0;
  if (argc != 4) {
    fprintf(stderr, "usage: scan_icount VARIANT KERNEL BYTES\n");
    return 2;
  }
  k = mmf__scan_kernels_for(mmf__scan_isa_from_name(argv[1]));
  n = (size_t)strtoull(argv[3], NULL, 10);
  p = malloc(n + 1);
  if (!k || !p) {
    fprintf(stderr, "scan_icount: no variant %s here, or no memory\n", argv[1]);
    return 1;
  }
  for (i = 0; i < n; i++)
    p[i] = i % 41 == 40 ? '\n' : (unsigned char)('a' + i * 7 % 26);
  if (strcmp(argv[2], "count_byte") == 0)
    r = (size_t)k->count_byte(p, n, '\n');
  else if (strcmp(argv[2], "find_byte") == 0)
    r = k->find_byte(p, n, '#');
  else if (strcmp(argv[2], "find") == 0)
    r = k->find(p, n, needle, 4);
  else if (strcmp(argv[2], "count_str") == 0)
    r = (size_t)k->count_str(p, n, needle, 4);
  else if (strcmp(argv[2], "positions") == 0)
    for (off = 0; off < n; off += scanned)
      r += k->positions(p + off, n - off, '\n', pos, 4096, &scanned);
  printf("%zu\n", r);
  free(p);
  return 0;
}
