/*
 * fuzz_cli.c - the mmf tool's commands run in-process (cli_main, with the
 * tool built as a library: fuzz/CMakeLists.txt) on a file built from the
 * input, each with a fuzzed window size (MMF_CLI_WINDOW).
 *
 * Two modes. Checked: the target builds a well-formed command line for
 * lines, find (-c, -n, -m), dump (-s, -n, -v), peek -x or poke (-s, -g)
 * and compares what it prints (and, for poke, the file afterwards) with
 * what naive code over the same bytes says it must print: the counts,
 * offsets and line numbers of non-overlapping matches, the hexdump -C
 * lines with their "*" runs, the hex bytes, the file with the bytes in
 * place. Free: fuzzed argument words (any option, any number) for every
 * command but lock (which waits for a signal) and bench (which times
 * seconds of work); the tool must end with 0, 1 or 2 and leak nothing.
 *
 * Input: mode and command (byte), window (byte: 0 no MMF_CLI_WINDOW),
 * then in checked mode: flags (byte), two numbers (u32 each), the
 * string's length (byte) and the string; in free mode: the arguments'
 * length (u16) and the arguments, NUL-separated, where "@" stands for
 * the file. The rest is the file's content. Standard input is the same
 * file, so a "-" or a missing FILE reads it instead of waiting.
 */
/* setenv, and optind from getopt.h (the tool parses with getopt_long) */
#define _GNU_SOURCE 1
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fuzz.h"

#define FILE_NAME "cli.in"
#define OUT_NAME "cli.out"
#define MAX_ARGS 16

/* ------------------------------------------------------------------------ */
/* Running the tool                                                          */
/* ------------------------------------------------------------------------ */

typedef struct buf {
  char *p;
  size_t n, cap;
} buf;

static void buf_add(buf *b, const void *p, size_t n) {
  FUZZ_CHECK(n < SIZE_MAX / 4 && b->n < SIZE_MAX / 4);
  if (b->n + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (b->n + n + 1 > cap)
      cap *= 2;
    char *grown = realloc(b->p, cap);
    FUZZ_CHECK(grown != NULL);
    b->p = grown;
    b->cap = cap;
  }
  memcpy(b->p + b->n, p, n);
  b->n += n;
  b->p[b->n] = '\0';
}

static void buf_printf(buf *b, const char *fmt, unsigned long long v) {
  char s[64];
  int n = snprintf(s, sizeof s, fmt, v);
  FUZZ_CHECK(n >= 0 && (size_t)n < sizeof s);
  buf_add(b, s, (size_t)n);
}

static void read_whole(const char *path, buf *b) {
  char chunk[4096];
  size_t got;
  FILE *f = fopen(path, "rb");
  FUZZ_CHECK(f != NULL);
  b->n = 0;
  buf_add(b, "", 0);
  while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
    buf_add(b, chunk, got);
  fclose(f);
}

static void set_window(unsigned w) {
  char v[32];
  snprintf(v, sizeof v, "%u", (w % 64u) * 509u + 1u);
#if defined(_WIN32)
  _putenv_s("MMF_CLI_WINDOW", w ? v : "");
#else
  if (w)
    setenv("MMF_CLI_WINDOW", v, 1);
  else
    unsetenv("MMF_CLI_WINDOW");
#endif
}

/* Run `mmf argv...` with stdout into OUT_NAME, read back into out. */
static int run(int argc, char **argv, buf *out) {
  int status;
  FUZZ_CHECK(freopen(OUT_NAME, "wb", stdout) != NULL);
  FUZZ_CHECK(freopen(FILE_NAME, "rb", stdin) != NULL);
  optind = 0; /* a fresh getopt for every command line */
  status = cli_main(argc, argv);
  fflush(stdout);
  FUZZ_CHECK(status == CLI_OK || status == CLI_NONE || status == CLI_ERROR);
  read_whole(OUT_NAME, out);
  return status;
}

/* ------------------------------------------------------------------------ */
/* What the checked commands must print                                      */
/* ------------------------------------------------------------------------ */

FUZZ_ORACLE
static uint64_t count_byte(const uint8_t *p, size_t n, uint8_t c) {
  uint64_t k = 0;
  for (size_t i = 0; i < n; i++)
    k += p[i] == c;
  return k;
}

/* find: every non-overlapping match up to max, as offsets or LINE:OFFSET,
 * or their count. Returns how many. */
FUZZ_ORACLE
static uint64_t expect_find(const uint8_t *f, size_t n, const char *x, size_t m,
                            uint64_t max, int count, int lines, buf *out) {
  uint64_t found = 0;
  for (size_t i = 0; i + m <= n && found < max;) {
    if (memcmp(f + i, x, m) != 0) {
      i++;
      continue;
    }
    if (lines)
      buf_printf(out, "%llu:", count_byte(f, i, '\n') + 1);
    if (!count)
      buf_printf(out, "%llu\n", i);
    found++;
    i += m;
  }
  if (count)
    buf_printf(out, "%llu\n", found);
  return found;
}

FUZZ_ORACLE
static void hexdump_line(buf *out, uint64_t addr, const uint8_t *b, size_t k) {
  buf_printf(out, "%08llx ", addr);
  for (size_t i = 0; i < 16; i++) {
    if (i == 8)
      buf_add(out, " ", 1);
    if (i < k)
      buf_printf(out, " %02llx", b[i]);
    else
      buf_add(out, "   ", 3);
  }
  buf_add(out, "  |", 3);
  for (size_t i = 0; i < k; i++) {
    char ch = b[i] >= 32 && b[i] < 127 ? (char)b[i] : '.';
    buf_add(out, &ch, 1);
  }
  buf_add(out, "|\n", 2);
}

/* dump -s skip -n len [-v]: hexdump -C over [skip, skip + len). */
FUZZ_ORACLE
static void expect_dump(const uint8_t *f, size_t n, uint64_t skip, uint64_t len,
                        int all, buf *out) {
  uint64_t at = skip < n ? skip : n;
  uint64_t end = len < n - at ? at + len : n;
  int starred = 0;
  if (len == 0)
    return;
  for (uint64_t i = at; i < end; i += 16) {
    size_t k = end - i < 16 ? (size_t)(end - i) : 16;
    int same =
        !all && k == 16 && i >= at + 16 && memcmp(f + i, f + i - 16, 16) == 0;
    if (same && !starred)
      buf_add(out, "*\n", 2);
    else if (!same)
      hexdump_line(out, i, f + i, k);
    starred = same;
  }
  if (end != 0)
    buf_printf(out, "%08llx\n", end);
}

/* ------------------------------------------------------------------------ */
/* Checked mode                                                              */
/* ------------------------------------------------------------------------ */

static void checked(fuzz_input *in, int cmd) {
  char path[] = FILE_NAME, num1[32], num2[32], str[256];
  char w_lines[] = "lines", w_find[] = "find", w_dump[] = "dump";
  char w_peek[] = "peek", w_poke[] = "poke", w_mmf[] = "mmf";
  char w_c[] = "-c", w_n[] = "-n", w_m[] = "-m", w_s[] = "-s", w_v[] = "-v";
  char w_x[] = "-x", w_g[] = "-g", w_end[] = "--";
  char *argv[MAX_ARGS];
  int argc = 0, status;
  buf out = {0}, want = {0}, after = {0};
  const uint8_t flags = fuzz_u8(in);
  uint32_t a = fuzz_u32(in), b = fuzz_u32(in);
  const uint8_t *s;
  size_t m = fuzz_bytes(in, fuzz_u8(in), &s);
  const uint8_t *f;
  size_t n = fuzz_bytes(in, in->n, &f);
  memcpy(str, s, m);
  str[m] = '\0';
  m = strlen(str); /* an argument ends at its first NUL */
  if (!fuzz_write_file(FILE_NAME, f, n))
    return;

  argv[argc++] = w_mmf;
  switch (cmd) {
  case 0: /* lines FILE */
    argv[argc++] = w_lines;
    argv[argc++] = path;
    status = run(argc, argv, &out);
    FUZZ_CHECK(status == CLI_OK);
    buf_printf(&want, "%llu " FILE_NAME "\n", count_byte(f, n, '\n'));
    break;
  case 1: { /* find [-c] [-n] [-m MAX] STRING FILE */
    uint64_t max = (flags & 4) ? a % 8 : UINT64_MAX;
    argv[argc++] = w_find;
    if (flags & 1)
      argv[argc++] = w_c;
    if (flags & 2)
      argv[argc++] = w_n;
    if (flags & 4) {
      snprintf(num1, sizeof num1, "%llu", (unsigned long long)max);
      argv[argc++] = w_m;
      argv[argc++] = num1;
    }
    argv[argc++] = w_end; /* STRING may start with '-' */
    argv[argc++] = str;
    argv[argc++] = path;
    status = run(argc, argv, &out);
    if (m == 0) {
      FUZZ_CHECK(status == CLI_ERROR && out.n == 0);
      break;
    }
    uint64_t found = expect_find(f, n, str, m, max, flags & 1,
                                 (flags & 2) && !(flags & 1), &want);
    FUZZ_CHECK(status == (found ? CLI_OK : CLI_NONE));
    break;
  }
  case 2: { /* dump -s SKIP -n LENGTH [-v] FILE */
    uint64_t skip = a % (n + 40), len = (flags & 1) ? b % (n + 40) : b;
    argv[argc++] = w_dump;
    snprintf(num1, sizeof num1, "%llu", (unsigned long long)skip);
    snprintf(num2, sizeof num2, "0x%llx", (unsigned long long)len);
    argv[argc++] = w_s;
    argv[argc++] = num1;
    argv[argc++] = w_n;
    argv[argc++] = num2;
    if (flags & 2)
      argv[argc++] = w_v;
    argv[argc++] = path;
    status = run(argc, argv, &out);
    FUZZ_CHECK(status == CLI_OK);
    expect_dump(f, n, skip, len, flags & 2, &want);
    break;
  }
  case 3: { /* peek -x FILE OFFSET LENGTH */
    uint64_t off = a % (n + 3), len = b % (n + 3);
    argv[argc++] = w_peek;
    argv[argc++] = w_x;
    argv[argc++] = path;
    snprintf(num1, sizeof num1, "%llu", (unsigned long long)off);
    snprintf(num2, sizeof num2, "%llu", (unsigned long long)len);
    argv[argc++] = num1;
    argv[argc++] = num2;
    status = run(argc, argv, &out);
    if (off + len > n) {
      FUZZ_CHECK(status == CLI_ERROR && out.n == 0);
      break;
    }
    FUZZ_CHECK(status == CLI_OK);
    for (uint64_t i = 0; i < len; i++)
      buf_printf(&want, "%02llx", f[off + i]);
    buf_add(&want, "\n", 1);
    break;
  }
  default: { /* poke [-g] FILE OFFSET -s STRING, then the file */
    uint64_t off = a % (n + 100);
    int grow = flags & 1, fits = off + m <= n;
    argv[argc++] = w_poke;
    if (grow)
      argv[argc++] = w_g;
    argv[argc++] = path;
    snprintf(num1, sizeof num1, "%llu", (unsigned long long)off);
    argv[argc++] = num1;
    argv[argc++] = w_s;
    argv[argc++] = str;
    status = run(argc, argv, &out);
    FUZZ_CHECK(status == (m > 0 && (fits || grow) ? CLI_OK : CLI_ERROR));
    FUZZ_CHECK(out.n == 0);
    /* The file: the bytes in place (zeros before them if it grew), or as
     * it was. */
    buf_add(&want, f, n);
    if (status == CLI_OK) {
      while (want.n < off + m)
        buf_add(&want, "", 1);
      memcpy(want.p + off, str, m);
    }
    read_whole(FILE_NAME, &after);
    FUZZ_CHECK(after.n == want.n &&
               (want.n == 0 || memcmp(after.p, want.p, want.n) == 0));
    want.n = 0; /* nothing on stdout */
    break;
  }
  }
  if (out.n != want.n || (want.n > 0 && memcmp(out.p, want.p, want.n) != 0)) {
    fprintf(stderr, "printed:\n%.*s\nexpected:\n%.*s\n", (int)out.n,
            out.p ? out.p : "", (int)want.n, want.p ? want.p : "");
    fuzz_fail(__FILE__, __LINE__, "the output", "differs");
  }
  free(out.p);
  free(want.p);
  free(after.p);
}

/* ------------------------------------------------------------------------ */
/* Free mode                                                                 */
/* ------------------------------------------------------------------------ */

/* Whether word could name a file other than the input (a path, the output
 * file, a Windows device such as CON, which would wait for a console) or
 * is "@": each becomes the input's name, so the tool never reads
 * /dev/zero forever or its own output. */
static int names_elsewhere(const char *word) {
  static const char *const devices[] = {"con", "prn",    "aux",
                                        "nul", "conin$", "conout$"};
  char low[8];
  size_t k = 0;
  if (strcmp(word, "@") == 0 || strcmp(word, OUT_NAME) == 0 ||
      strpbrk(word, "/\\:") != NULL)
    return 1;
  for (; word[k] && word[k] != '.' && k < sizeof low - 1; k++)
    low[k] = (char)(word[k] >= 'A' && word[k] <= 'Z' ? word[k] - 'A' + 'a'
                                                     : word[k]);
  low[k] = '\0';
  for (size_t i = 0; i < sizeof devices / sizeof devices[0]; i++)
    if (strcmp(low, devices[i]) == 0)
      return 1;
  /* COM1..COM9, LPT1..LPT9 */
  return k == 4 &&
         (strncmp(low, "com", 3) == 0 || strncmp(low, "lpt", 3) == 0) &&
         low[3] >= '1' && low[3] <= '9';
}

static void free_form(fuzz_input *in, int cmd) {
  static const char *const names[] = {"lines", "find", "dump",  "peek",
                                      "poke",  "info", "touch", "evict"};
  char words[1024], path[] = FILE_NAME, w_mmf[] = "mmf", name[16];
  char *argv[MAX_ARGS + 3];
  int argc = 0;
  buf out = {0};
  const uint8_t *p, *f;
  size_t len = fuzz_bytes(in, fuzz_u16(in) % sizeof words, &p);
  size_t n = fuzz_bytes(in, in->n, &f);
  if (!fuzz_write_file(FILE_NAME, f, n))
    return;
  memcpy(words, p, len);
  words[len] = '\0';

  snprintf(name, sizeof name, "%s", names[cmd % 8]);
  argv[argc++] = w_mmf;
  argv[argc++] = name;
  for (size_t i = 0; i < len && argc < MAX_ARGS + 2; i += strlen(words + i) + 1)
    argv[argc++] = names_elsewhere(words + i) ? path : words + i;
  argv[argc] = NULL;
  (void)run(argc, argv, &out);
  free(out.p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_input in = {data, size};
  const uint8_t what = fuzz_u8(&in);
  set_window(fuzz_u8(&in));
  if (what & 0x80)
    free_form(&in, what & 7);
  else
    checked(&in, (what & 0x7f) % 5);
  return 0;
}
