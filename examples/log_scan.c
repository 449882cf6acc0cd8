/*
 * log_scan - count the lines of a log of any size and find the first
 * "ERROR" in it, through a window cursor.
 *
 *   log_scan [--budget BYTES] FILE
 *   log_scan [--budget BYTES] -      (standard input; a pipe works)
 *   log_scan                         (default run: a generated log)
 *
 * The cursor maps the file one window at a time (1 GiB in a 64-bit
 * program, 64 MiB in a 32-bit one, or --budget), so a 100 GiB log is fine
 * even in a 32-bit process; pipes and terminals are read into a buffer
 * instead. With '\n' as the delimiter every span holds whole lines, so
 * "ERROR" is never cut in two by a window boundary and line numbers are
 * exact. A line longer than the cursor's limit arrives in pieces
 * (MMF_WINDOW_SPLIT_LONG; mmf_window_partial() says "more follows"), and
 * the search looks across the seams between pieces.
 *
 * The bytes of a span are read inside mmf_window_guard(), so a file that is
 * truncated while we scan gives MMF_ETRUNCATED instead of a crash.
 *
 * Progress goes to stderr, and only when stderr is a terminal.
 */
/* isatty() and fileno() are POSIX, not C11; say so before any header. */
#if !defined(_WIN32) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif

#include "example_util.h"

#include <stdint.h>

#ifdef _WIN32
#include <io.h>
#define ex_isatty(f) _isatty(_fileno(f))
#else
#include <unistd.h>
#define ex_isatty(f) isatty(fileno(f))
#endif

static const char needle[] = "ERROR";
#define NEEDLE_LEN (sizeof needle - 1)

typedef struct scan {
  /* The current span. */
  const unsigned char *p;
  size_t n;
  uint64_t offset; /* of p[0] in the input */
  bool partial;    /* the span is a piece of a line that goes on */
  /* Results so far. */
  uint64_t lines;    /* '\n' bytes seen */
  uint64_t found_at; /* offset of the first "ERROR", or UINT64_MAX */
  uint64_t found_line;
  char excerpt[61]; /* the text from "ERROR" to the end of its line */
  bool ends_line;   /* the last span ended with '\n' */
  /* The last bytes of the previous span when it was a piece of a line. */
  unsigned char seam[NEEDLE_LEN - 1];
  size_t seam_len;
} scan;

static void found(scan *s, uint64_t at, const unsigned char *text,
                  size_t avail) {
  size_t k = 0;
  s->found_at = at;
  s->found_line = s->lines + 1;
  while (k < avail && k < sizeof s->excerpt - 1 && text[k] != '\n') {
    s->excerpt[k] = (char)text[k];
    k++;
  }
  s->excerpt[k] = '\0';
}

/* Look for the needle across the seam: the end of the previous piece
 * followed by the start of this span. */
static void search_seam(scan *s) {
  unsigned char both[2 * NEEDLE_LEN];
  size_t head = s->n < NEEDLE_LEN - 1 ? s->n : NEEDLE_LEN - 1;
  size_t total = s->seam_len + head;
  memcpy(both, s->seam, s->seam_len);
  memcpy(both + s->seam_len, s->p, head);
  for (size_t i = 0; i + NEEDLE_LEN <= total; i++) {
    if (i < s->seam_len && memcmp(both + i, needle, NEEDLE_LEN) == 0) {
      /* Report the needle itself (the excerpt is its first bytes). */
      found(s, s->offset - s->seam_len + i, (const unsigned char *)needle,
            NEEDLE_LEN);
      return;
    }
  }
}

/* Runs under the cursor's fault guard: every read of the span is here. */
static int scan_span(void *ctx) {
  scan *s = ctx;
  const unsigned char *p = s->p, *end = s->p + s->n;
  if (s->found_at == UINT64_MAX && s->seam_len > 0)
    search_seam(s);
  /* Find "ERROR" only until the first one; count lines to the end. */
  for (const unsigned char *q = p; s->found_at == UINT64_MAX && q < end;) {
    const unsigned char *e = memchr(q, needle[0], (size_t)(end - q));
    if (e == NULL)
      break;
    if ((size_t)(end - e) >= NEEDLE_LEN && memcmp(e, needle, NEEDLE_LEN) == 0) {
      /* Lines before it: count them now, the rest below. */
      for (const unsigned char *c = p; c < e; c++)
        s->lines += *c == '\n';
      found(s, s->offset + (uint64_t)(e - s->p), e, (size_t)(end - e));
      p = e;
      break;
    }
    q = e + 1;
  }
  uint64_t lines = 0;
  for (const unsigned char *c = p; c < end; c++)
    lines += *c == '\n';
  s->lines += lines;
  s->ends_line = end[-1] == '\n';
  /* Keep the end of a piece: "ERROR" may straddle the seam. */
  s->seam_len = 0;
  if (s->partial) {
    s->seam_len = s->n < NEEDLE_LEN - 1 ? s->n : NEEDLE_LEN - 1;
    memcpy(s->seam, end - s->seam_len, s->seam_len);
  }
  return 0;
}

static void show_progress(uint64_t done, uint64_t total) {
  double gib = 1024.0 * 1024.0 * 1024.0;
  if (total != MMF_WINDOW_UNKNOWN && total > 0)
    fprintf(stderr, "\r  %3d%%  %.2f of %.2f GiB", (int)(100 * done / total),
            (double)done / gib, (double)total / gib);
  else
    fprintf(stderr, "\r  %.2f GiB", (double)done / gib);
  fflush(stderr);
}

static int run(const char *path, uint64_t budget) {
  mmf_window_options opts = MMF_WINDOW_OPTIONS_INIT;
  opts.budget = budget; /* 0: the default for this process */
  opts.delimiter = '\n';
  opts.flags |= MMF_WINDOW_RECORDS;
  opts.flags |= MMF_WINDOW_SPLIT_LONG | MMF_SEQUENTIAL;

  mmf_window *w = NULL;
  int rc = strcmp(path, "-") == 0 ? mmf_window_open_fd(&w, 0, &opts)
                                  : mmf_window_open(&w, path, &opts);
  if (rc != 0)
    return ex_fail(path, rc);

  const char *name = strcmp(path, "-") == 0 ? "standard input" : path;
  if (mmf_window_is_mapped(w))
    printf("%s: %llu bytes, walked in memory-mapped windows of up to %llu "
           "bytes\n",
           name, (unsigned long long)mmf_window_total(w),
           (unsigned long long)(mmf_window_limit(w) + mmf_granularity()));
  else
    printf("%s: cannot be mapped, read with read() into a buffer\n", name);

  bool tty = ex_isatty(stderr);
  uint64_t shown = 0;
  scan s;
  memset(&s, 0, sizeof s);
  s.found_at = UINT64_MAX;
  s.ends_line = true;
  for (;;) {
    void *p;
    size_t n;
    s.offset = mmf_window_tell(w);
    rc = mmf_window_next(w, &p, &n);
    if (rc != 0 || n == 0)
      break;
    s.p = p;
    s.n = n;
    s.partial = mmf_window_partial(w);
    /* p is valid until the next call on w; the guard reads it safely. */
    rc = mmf_window_guard(w, scan_span, &s);
    if (rc != 0)
      break;
    if (tty && mmf_window_tell(w) - shown >= ((uint64_t)64 << 20)) {
      shown = mmf_window_tell(w);
      show_progress(shown, mmf_window_total(w));
    }
  }
  if (tty && shown > 0)
    fprintf(stderr, "\r%40s\r", "");
  uint64_t size = mmf_window_tell(w);
  mmf_window_close(w);
  if (rc != 0)
    return ex_fail(name, rc);

  printf("%llu lines%s\n", (unsigned long long)s.lines,
         s.ends_line ? "" : " (the last one has no newline)");
  if (s.found_at == UINT64_MAX)
    printf("no \"%s\" in %llu bytes\n", needle, (unsigned long long)size);
  else
    printf("first \"%s\" at offset %llu (line %llu): %s\n", needle,
           (unsigned long long)s.found_at, (unsigned long long)s.found_line,
           s.excerpt);
  return 0;
}

/* The default run: a 2 MiB log with one ERROR on line 23456, scanned with
 * a 64 KiB budget so that the window moves about 30 times. A budget must
 * hold two units of mmf_granularity(): on Windows (64 KiB units) that is
 * 128 KiB, and the window moves about 15 times. */
static int demo(void) {
  size_t cap = (size_t)2 << 20, n = 0;
  char *text = malloc(cap);
  if (text == NULL)
    return ex_fail("malloc", MMF_ENOMEM);
  for (unsigned line = 1; n + 100 < cap; line++) {
    const char *level = line == 23456 ? "ERROR" : line % 7 ? "INFO" : "WARN";
    n += (size_t)snprintf(text + n, cap - n,
                          "2024-05-01T12:%02u:%02u %s request %u served\n",
                          line / 60 % 60, line % 60, level, line);
  }
  char tmp[1024];
  int made = ex_temp_file(tmp, sizeof tmp, "log_scan", text, n);
  free(text);
  if (made != 0)
    return 1;
  uint64_t budget = (uint64_t)64 << 10;
  if (budget < 2 * (uint64_t)mmf_granularity())
    budget = 2 * (uint64_t)mmf_granularity();
  printf("no arguments: scanning a generated log %s with a %llu KiB budget\n",
         tmp, (unsigned long long)(budget >> 10));
  int status = run(tmp, budget);
  remove(tmp);
  return status;
}

int main(int argc, char **argv) {
  uint64_t budget = 0;
  int i = 1;
  if (argc == 1)
    return demo();
  if (argc > 2 && strcmp(argv[1], "--budget") == 0) {
    char *end;
    budget = strtoull(argv[2], &end, 0);
    if (*end != '\0' || budget == 0) {
      fprintf(stderr, "log_scan: bad --budget %s\n", argv[2]);
      return 2;
    }
    i = 3;
  }
  if (argc != i + 1) {
    fprintf(stderr, "usage: %s [--budget BYTES] FILE|-\n", argv[0]);
    return 2;
  }
  return run(argv[i], budget);
}
