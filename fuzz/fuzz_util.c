/*
 * fuzz_util.c - the input readers, checks and scratch files of fuzz.h.
 */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mmf.h"
#include "scan/source.h"

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

/* fuzz_repeat's buffer, grown as needed and never freed (it is reused by
 * every input; a leak check at exit ignores what a static points to). */
static uint8_t *repeat_buf;
static size_t repeat_cap;

FUZZ_ORACLE
const uint8_t *fuzz_repeat(const uint8_t *content, size_t n, size_t times,
                           size_t max, size_t *size) {
  if (n > 0 && times > max / n)
    times = max / n > 0 ? max / n : 1;
  *size = n * times;
  if (*size + 1 > repeat_cap) {
    uint8_t *grown = realloc(repeat_buf, *size + 1);
    if (!grown)
      fuzz_fail(__FILE__, __LINE__, "realloc", "out of memory");
    repeat_buf = grown;
    repeat_cap = *size + 1;
  }
  /* One copy, then what is there doubled: a 1-byte content repeated
   * 64 Ki times took 64 Ki calls of memcpy, each checked. */
  if (*size > 0)
    memcpy(repeat_buf, content, n);
  for (size_t have = n; have < *size; have *= 2)
    memcpy(repeat_buf + have, repeat_buf,
           have < *size - have ? have : *size - have);
  return repeat_buf;
}

int fuzz_scan_file_make(fuzz_scan_file *f, const char *name,
                        const uint8_t *content, size_t n, uint8_t flags,
                        uint8_t units, uint8_t repeat, uint64_t offset,
                        uint64_t length, size_t max) {
  mmf_scan_options o = MMF_SCAN_OPTIONS_INIT;
  memset(f, 0, sizeof *f);
  f->bytes = fuzz_repeat(content, n, (flags & 8) ? 1 + (size_t)repeat * 16 : 1,
                         max, &f->size);
  f->path = fuzz_write_file(name, f->bytes, f->size);
  o.io = flags & 3;
  if (units)
    o.budget = (uint64_t)(2 + units % 16) * mmf_granularity();
  if (flags & 4) {
    o.offset = offset % (f->size + 2);
    o.length = length % (f->size + 2);
  }
  f->o = o;
  if (o.offset > f->size || (o.length && o.length > f->size - o.offset)) {
    f->rc = MMF_ERANGE;
  } else {
    f->range = f->bytes + o.offset;
    f->range_len = (size_t)(o.length ? o.length : f->size - o.offset);
  }
  return f->path != NULL;
}

void fuzz_scan_file_free(fuzz_scan_file *f) { f->bytes = NULL; }

/*
 * Knuth-Morris-Pratt: linear whatever the input (a naive search is
 * quadratic on the inputs that matter most, "aaa...ab"), and nothing like
 * the library's filters or Two-Way. Counting restarts the automaton after
 * each match, which is exactly "leftmost first, then from its end". The
 * offsets go to where[] when it is not NULL (room for n / m of them).
 */
FUZZ_ORACLE
static uint64_t kmp(const uint8_t *h, size_t n, const uint8_t *x, size_t m,
                    size_t *first, size_t *where) {
  uint64_t count = 0;
  size_t i, k = 0, *fail;
  *first = m == 0 ? 0 : SIZE_MAX;
  if (m == 0 || n < m)
    return 0;
  fail = malloc(m * sizeof *fail);
  if (!fail)
    fuzz_fail(__FILE__, __LINE__, "malloc", "out of memory");
  fail[0] = 0;
  for (i = 1; i < m; i++) {
    while (k > 0 && x[i] != x[k])
      k = fail[k - 1];
    if (x[i] == x[k])
      k++;
    fail[i] = k;
  }
  for (i = 0, k = 0; i < n; i++) {
    if (k == 0 && h[i] != x[0]) {
      /* Nothing matched: the automaton waits for x[0], which memchr
       * finds faster than a loop checked byte by byte. */
      const uint8_t *p = memchr(h + i, x[0], n - i);
      if (!p)
        break;
      i = (size_t)(p - h);
    }
    while (k > 0 && h[i] != x[k])
      k = fail[k - 1];
    if (h[i] == x[k])
      k++;
    if (k == m) {
      if (count == 0)
        *first = i + 1 - m;
      if (where)
        where[count] = i + 1 - m;
      count++;
      k = 0;
    }
  }
  free(fail);
  return count;
}

uint64_t fuzz_matches(const uint8_t *h, size_t n, const uint8_t *x, size_t m,
                      size_t *first) {
  return kmp(h, n, x, m, first, NULL);
}

size_t *fuzz_match_list(const uint8_t *h, size_t n, const uint8_t *x, size_t m,
                        uint64_t *count) {
  size_t first, *where = NULL;
  if (m > 0 && n >= m) {
    where = malloc((n / m) * sizeof *where);
    if (!where)
      fuzz_fail(__FILE__, __LINE__, "malloc", "out of memory");
  }
  *count = kmp(h, n, x, m, &first, where);
  return where;
}

void fuzz_read_chunk(int small, uint8_t k) {
  static size_t usual;
  if (usual == 0)
    usual = mmf__scan_read_chunk;
  if (!small)
    mmf__scan_read_chunk = usual;
  else if (k % 32 == 0)
    mmf__scan_read_chunk = 64 + (size_t)(k / 32); /* 64 to 71 bytes */
  else
    mmf__scan_read_chunk = ((size_t)512 << (k % 8)) + 9 * (size_t)(k / 8);
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
