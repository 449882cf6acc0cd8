/*
 * cmd_find.c - `mmf find`: where a byte string occurs, or how often.
 *
 * Occurrences are non-overlapping, taken left to right ("aa" occurs twice
 * in "aaaa"), which is how `grep -oaF` reports them; `-c` therefore equals
 * `grep -oaF STRING FILE | wc -l` for a STRING without a newline. Exit
 * status as grep: 0 found, 1 not found, 2 error.
 *
 * The input comes in consecutive spans (file windows, stream buffers); an
 * occurrence that straddles two spans is found by joining the last
 * len(STRING) - 1 bytes of one with the first of the next.
 *
 * With -c nothing is printed per occurrence, so a span is counted in one
 * call of the library's count kernel (mmf_count_matches_mem, under the
 * span's fault guard), which also says where the last occurrence ended:
 * the junction with the next span must not count one overlapping it.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
    "Usage: mmf find [OPTION]... STRING [FILE]...\n"
    "Print the byte offset of each occurrence of STRING in each FILE, one\n"
    "per line (non-overlapping, left to right). With no FILE, or when FILE\n"
    "is -, read standard input.\n"
    "\n"
    "  -c, --count            print only the number of occurrences\n"
    "  -n, --line-number      print LINE:OFFSET (lines count from 1)\n"
    "  -m, --max-count=NUM    stop after NUM occurrences in each file\n"
    "  -h, --help             show this help\n"
    "\n"
    "With several files each line starts with FILE:. Exit status: 0 if\n"
    "STRING was found, 1 if not, 2 on error (as grep).\n";

typedef struct find_opts {
  const unsigned char *needle;
  size_t nlen;
  uint64_t max;
  int count_only;
  int line_numbers;
  const char *prefix; /* "NAME:" or "" */
} find_opts;

typedef struct finder {
  const find_opts *o;
  cli_input *in;
  uint64_t found;
  uint64_t from; /* occurrences start here or later (non-overlapping) */
  uint64_t line; /* line number at input position `counted` */
  uint64_t counted;
  /* The last min(nlen - 1, bytes so far) bytes before the current span,
   * and room to join them with the span's first nlen - 1 bytes. */
  unsigned char *tail;
  size_t tail_len;
  uint64_t tail_pos;
} finder;

static void report(finder *f, uint64_t at, uint64_t line) {
  const find_opts *o = f->o;
  if (!o->count_only) {
    if (o->line_numbers)
      printf("%s%" PRIu64 ":%" PRIu64 "\n", o->prefix, line, at);
    else
      printf("%s%" PRIu64 "\n", o->prefix, at);
  }
  f->found++;
  f->from = at + o->nlen;
}

static size_t count_nl(const unsigned char *p, size_t n) {
  size_t c = 0;
  while (n--)
    c += *p++ == '\n';
  return c;
}

/*
 * An occurrence that starts in the tail and ends in span s. Spans do not
 * overlap, so this is the only kind the span searches cannot see; there is
 * at most one per junction (the next starts after it, inside s).
 */
static int junction(finder *f, const cli_span *s) {
  const find_opts *o = f->o;
  size_t k = s->len < o->nlen - 1 ? s->len : o->nlen - 1, i;
  unsigned char *j = f->tail;
  int rc;
  if (f->tail_len == 0 || k == 0)
    return 0;
  rc = cli_span_copy(f->in, s, 0, j + f->tail_len, k);
  if (rc)
    return rc;
  for (i = 0; i < f->tail_len; i++) {
    uint64_t at = f->tail_pos + i;
    if (at < f->from || i + o->nlen <= f->tail_len ||
        i + o->nlen > f->tail_len + k)
      continue;
    if (memcmp(j + i, o->needle, o->nlen) == 0) {
      /* Lines are counted to the span's start; step back over the
       * newlines between the occurrence and there. */
      report(f, at, f->line - count_nl(j + i, f->tail_len - i));
      break;
    }
  }
  return 0;
}

/* Keep the last nlen - 1 bytes seen, for the next junction. */
static int keep_tail(finder *f, const cli_span *s) {
  size_t keep = f->o->nlen - 1, drop;
  int rc;
  if (s->len >= keep) {
    rc = cli_span_copy(f->in, s, s->len - keep, f->tail, keep);
    f->tail_len = keep;
  } else {
    /* A short span (a slow pipe): old tail bytes, then all of s. */
    drop = f->tail_len + s->len > keep ? f->tail_len + s->len - keep : 0;
    memmove(f->tail, f->tail + drop, f->tail_len - drop);
    f->tail_len -= drop;
    rc = cli_span_copy(f->in, s, 0, f->tail + f->tail_len, s->len);
    f->tail_len += s->len;
  }
  f->tail_pos = s->pos + s->len - f->tail_len;
  return rc;
}

/* Count lines in span s up to input position upto. */
static int lines_to(finder *f, const cli_span *s, uint64_t upto) {
  uint64_t n;
  int rc;
  if (!f->o->line_numbers || upto <= f->counted)
    return 0;
  rc = cli_span_count(f->in, s, (size_t)(f->counted - s->pos),
                      (size_t)(upto - f->counted), '\n', &n);
  f->line += n;
  f->counted = upto;
  return rc;
}

typedef struct count_job {
  const unsigned char *p;
  size_t n;
  const find_opts *o;
  uint64_t count;
  size_t resume;
} count_job;

static int count_job_run(void *ctx) {
  count_job *j = ctx;
  return mmf_count_matches_mem(j->p, j->n, j->o->needle, j->o->nlen, &j->count,
                               &j->resume);
}

/* -c: the occurrences in span bytes [off, len) of s, at once. */
static int count_span(finder *f, const cli_span *s, size_t off) {
  count_job j;
  int rc;
  j.o = f->o;
  j.n = s->len - off;
  j.count = 0;
  j.resume = 0;
  if (s->map) {
    j.p = (const unsigned char *)mmf_data(s->map) + s->off + off;
    rc = mmf_guard(s->map, count_job_run, &j);
  } else {
    j.p = s->p + s->off + off;
    rc = mmf_window_guard(f->in->cursor, count_job_run, &j);
  }
  if (rc)
    return rc;
  /* -m: occurrences are counted in order, so the first max are these. */
  f->found = j.count > f->o->max - f->found ? f->o->max : f->found + j.count;
  f->from = s->pos + off + j.resume;
  return 0;
}

static int find_span(finder *f, const cli_span *s) {
  const find_opts *o = f->o;
  size_t pos;
  int rc;
  if (o->nlen > 1) {
    rc = junction(f, s);
    if (rc)
      return rc;
  }
  if (o->count_only) {
    uint64_t from = f->from > s->pos ? f->from : s->pos;
    if (f->found < o->max && from - s->pos < s->len) {
      rc = count_span(f, s, (size_t)(from - s->pos));
      if (rc)
        return rc;
    }
    return o->nlen > 1 ? keep_tail(f, s) : 0;
  }
  while (f->found < o->max) {
    uint64_t from = f->from > s->pos ? f->from : s->pos;
    if (from - s->pos >= s->len)
      break;
    rc = cli_span_find(f->in, s, (size_t)(from - s->pos), o->needle, o->nlen,
                       &pos);
    if (rc)
      return rc;
    if (pos == SIZE_MAX)
      break;
    rc = lines_to(f, s, s->pos + pos);
    if (rc)
      return rc;
    report(f, s->pos + pos, f->line);
  }
  rc = lines_to(f, s, s->pos + s->len);
  if (!rc && o->nlen > 1)
    rc = keep_tail(f, s);
  return rc;
}

static int find_in(cli_input *in, const find_opts *o, uint64_t *found) {
  finder f;
  cli_span s;
  int rc = 0;
  memset(&f, 0, sizeof f);
  f.o = o;
  f.in = in;
  f.line = 1;
  f.tail = malloc(2 * o->nlen);
  if (!f.tail)
    return MMF_ENOMEM;
  while (f.found < o->max) {
    rc = cli_input_next(in, &s);
    if (rc || s.len == 0)
      break;
    f.counted = s.pos;
    rc = find_span(&f, &s);
    if (rc)
      break;
  }
  free(f.tail);
  *found = f.found;
  return rc;
}

int cmd_find(int argc, char **argv) {
  static const struct option longs[] = {
      {"count", no_argument, NULL, 'c'},
      {"line-number", no_argument, NULL, 'n'},
      {"max-count", required_argument, NULL, 'm'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  find_opts o;
  char prefix[4096];
  int c, i, nfiles, status = CLI_NONE, error = 0;
  memset(&o, 0, sizeof o);
  o.max = UINT64_MAX;
  opterr = 0;
  while ((c = getopt_long(argc, argv, ":cnm:h", longs, NULL)) != -1) {
    switch (c) {
    case 'c':
      o.count_only = 1;
      break;
    case 'n':
      o.line_numbers = 1;
      break;
    case 'm':
      if (cli_get_size("find", "count", optarg, UINT64_MAX, &o.max))
        return CLI_ERROR;
      break;
    case 'h':
      fputs(usage, stdout);
      return cli_finish_output(CLI_OK);
    default:
      return cli_bad_option("find", c, argv);
    }
  }
  if (optind >= argc)
    return cli_usage_error("find", "missing STRING");
  o.needle = (const unsigned char *)argv[optind];
  o.nlen = strlen(argv[optind]);
  if (o.nlen == 0)
    return cli_usage_error("find", "STRING must not be empty");
  optind++;
  nfiles = argc - optind;
  for (i = 0; i < (nfiles ? nfiles : 1); i++) {
    const char *name = nfiles ? argv[optind + i] : NULL;
    cli_input in;
    uint64_t found = 0;
    int rc;
    o.prefix = "";
    if (nfiles > 1) {
      snprintf(prefix, sizeof prefix,
               "%s:", strcmp(name, "-") == 0 ? "(standard input)" : name);
      o.prefix = prefix;
    }
    if (cli_input_open(&in, name) != 0) {
      error = 1;
      continue;
    }
    rc = find_in(&in, &o, &found);
    if (rc)
      cli_fail(in.name, rc);
    cli_input_close(&in);
    if (rc) {
      error = 1;
      continue;
    }
    if (o.count_only)
      printf("%s%" PRIu64 "\n", o.prefix, found);
    if (found)
      status = CLI_OK;
  }
  return cli_finish_output(error ? CLI_ERROR : status);
}
