/*
 * fuzz_util.c - the input readers, checks and scratch files of fuzz.h.
 */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mmf.h"

uint8_t fuzz_u8(fuzz_input *in) {
  if (in->n == 0)
    return 0;
  in->n--;
  return *in->p++;
}

uint16_t fuzz_u16(fuzz_input *in) {
  uint16_t lo = fuzz_u8(in);
  return (uint16_t)(lo | (uint16_t)(fuzz_u8(in) << 8));
}

uint32_t fuzz_u32(fuzz_input *in) {
  uint32_t lo = fuzz_u16(in);
  return lo | ((uint32_t)fuzz_u16(in) << 16);
}

size_t fuzz_bytes(fuzz_input *in, size_t max, const uint8_t **p) {
  size_t n = in->n < max ? in->n : max;
  *p = in->p;
  in->p += n;
  in->n -= n;
  return n;
}

uint8_t *fuzz_repeat(const uint8_t *content, size_t n, size_t times, size_t max,
                     size_t *size) {
  uint8_t *p;
  if (n > 0 && times > max / n)
    times = max / n > 0 ? max / n : 1;
  *size = n * times;
  p = malloc(*size > 0 ? *size : 1);
  if (!p)
    fuzz_fail(__FILE__, __LINE__, "malloc", "out of memory");
  for (size_t i = 0; i < times; i++)
    memcpy(p + i * n, content, n);
  return p;
}

_Noreturn void fuzz_fail(const char *file, int line, const char *what,
                         const char *detail) {
  fprintf(stderr, "fuzz check failed at %s:%d: %s%s%s%s\n", file, line, what,
          detail ? " (" : "", detail ? detail : "", detail ? ")" : "");
  fflush(stderr);
  abort();
}

void fuzz_check_rc(const char *file, int line, const char *what, int got,
                   int want) {
  char detail[128];
  if (got == want)
    return;
  snprintf(detail, sizeof detail, "got %s, expected %s", mmf_errname(got),
           mmf_errname(want));
  fuzz_fail(file, line, what, detail);
}

const char *fuzz_write_file(const char *name, const void *p, size_t n) {
  FILE *f = fopen(name, "wb");
  int ok = f != NULL && (n == 0 || fwrite(p, 1, n, f) == n);
  if (f && fclose(f) != 0)
    ok = 0;
  if (!ok) {
    fprintf(stderr, "fuzz: cannot write the scratch file %s: input skipped\n",
            name);
    return NULL;
  }
  return name;
}
