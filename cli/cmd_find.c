/*
 * cmd_find.c - `mmf find`: where a byte string occurs, or how often.
 *
 * Occurrences are non-overlapping, taken left to right ("aa" occurs twice
 * in "aaaa"), which is how `grep -oaF` reports them; `-c` therefore equals
 * `grep -oaF STRING FILE | wc -l` for a STRING without a newline. That is
 * not `grep -c`, which counts matching lines ("ERROR ERROR" is one line,
 * two occurrences): --count-lines gives that count. Exit status as grep:
 * 0 found, 1 not found, 2 error.
 *
 * The library does the walking: `-c` is mmf_count_matches_path() (the
 * count kernel, one pass), everything else the match iterator
 * (mmf_matches_open), with line numbers from it when -n or --count-lines
 * asks. Both find occurrences across read() calls and windows, however
 * many reads of a slow pipe an occurrence's bytes arrive in.
 *
 * -j N splits a count (-c) of one file over N threads; offsets and line
 * numbers come from the iterator, which walks in order on one thread.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
    "Usage: mmf find [OPTION]... STRING [FILE]...\n"
    "Print the byte offset of each occurrence of STRING in each FILE, one\n"
    "per line (non-overlapping, left to right, as grep -obaF). With no\n"
    "FILE, or when FILE is -, read standard input.\n"
    "\n"
    "  -c, --count            print only the number of occurrences\n"
    "                         (grep -oaF STRING | wc -l, not grep -c)\n"
    "      --count-lines      print only the number of lines holding\n"
    "                         STRING (what grep -cF counts)\n"
    "  -n, --line-number      print LINE:OFFSET (lines count from 1)\n"
    "  -m, --max-count=NUM    stop after NUM occurrences in each file\n"
    "                         (with --count-lines: NUM lines)\n"
    "  -j, --threads=N        count (-c) with N threads; default: the\n"
    "                         processors online, at most 8\n"
    "  -h, --help             show this help\n"
    "\n"
    "With several files each line starts with FILE:. Exit status: 0 if\n"
    "STRING was found, 1 if not, 2 on error (as grep).\n";

enum { COUNT_LINES = 256 };

typedef struct find_opts {
  const char *needle;
  size_t nlen;
  uint64_t max;
  int count_only;     /* -c */
  int count_lines;    /* --count-lines */
  int line_numbers;   /* -n */
  const char *prefix; /* "NAME" when several files, else NULL */
} find_opts;

static void print_prefix(const find_opts *o) {
  if (o->prefix)
    printf("%s:", o->prefix);
}

/* Walk the occurrences with the iterator: print them, or count them or
 * the lines they start on. *found is what -c or --count-lines prints. */
static int walk(const cli_source *src, const find_opts *o, uint64_t *found,
                int *oserr) {
  unsigned flags =
      o->line_numbers || o->count_lines ? MMF_SCAN_LINE_NUMBERS : 0u;
  mmf_matches *it = NULL;
  uint64_t pos, line, last_line = 0;
  int rc = cli_matches_open(src, flags, o->needle, o->nlen, &it, oserr);
  while (rc == 0 && *found < o->max) {
    rc = mmf_matches_next(it, &pos);
    if (rc || pos == MMF_NPOS)
      break;
    pos -= src->start; /* offsets from where standard input stood */
    line = mmf_matches_line(it);
    if (o->count_lines) {
      if (line != last_line)
        ++*found;
      last_line = line;
      continue;
    }
    ++*found;
    if (o->count_only)
      continue;
    print_prefix(o);
    if (o->line_numbers)
      printf("%" PRIu64 ":%" PRIu64 "\n", line, pos);
    else
      printf("%" PRIu64 "\n", pos);
  }
  if (rc && it)
    *oserr = mmf_matches_last_os_error(it);
  mmf_matches_close(it);
  return rc;
}

static int find_one(const cli_source *src, const find_opts *o,
                    uint64_t *found) {
  int rc, oserr = 0;
  *found = 0;
  if (o->count_only && o->max == UINT64_MAX)
    rc = cli_count_matches(src, o->needle, o->nlen, found, &oserr);
  else
    rc = walk(src, o, found, &oserr);
  if (rc)
    return cli_fail_io(src->name, rc, oserr);
  if (o->count_only || o->count_lines) {
    print_prefix(o);
    printf("%" PRIu64 "\n", *found);
  }
  return CLI_OK;
}

/* STRING came first as the FILE and the FILE as the STRING ("mmf find
 * app.log ERROR"): the string names a file and a file does not exist. */
static void hint_swapped(const find_opts *o, int nfiles, char **files) {
  int kind;
  uint64_t size;
  if (nfiles != 1 || cli_os_stat(o->needle, &kind, &size) != 0 ||
      cli_os_stat(files[0], &kind, &size) == 0)
    return;
  cli_error(NULL,
            "find: hint: STRING comes before FILE; did you mean "
            "'mmf find %s %s'?",
            files[0], o->needle);
}

int cmd_find(int argc, char **argv) {
  static const struct option longs[] = {
      {"count", no_argument, NULL, 'c'},
      {"count-lines", no_argument, NULL, COUNT_LINES},
      {"line-number", no_argument, NULL, 'n'},
      {"max-count", required_argument, NULL, 'm'},
      {"threads", required_argument, NULL, 'j'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  find_opts o;
  int c, i, nfiles, status = CLI_NONE, error = 0, missing = 0;
  memset(&o, 0, sizeof o);
  o.max = UINT64_MAX;
  cli_scan_threads = cli_default_threads();
  opterr = 0;
  while ((c = getopt_long(argc, argv, ":cnm:j:h", longs, NULL)) != -1) {
    switch (c) {
    case 'j':
      if (cli_get_threads("find", optarg, &cli_scan_threads) != CLI_OK)
        return CLI_ERROR;
      break;
    case 'c':
      o.count_only = 1;
      break;
    case COUNT_LINES:
      o.count_lines = 1;
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
  if (o.count_only && o.count_lines)
    return cli_usage_error("find", "-c and --count-lines exclude each other");
  if (optind >= argc)
    return cli_usage_error("find", "missing STRING");
  o.needle = argv[optind];
  o.nlen = strlen(argv[optind]);
  if (o.nlen == 0)
    return cli_usage_error("find", "STRING must not be empty");
  optind++;
  nfiles = argc - optind;
  for (i = 0; i < (nfiles ? nfiles : 1); i++) {
    const char *name = nfiles ? argv[optind + i] : NULL;
    cli_source src;
    uint64_t found = 0;
    if (cli_source_of(name, &src) != CLI_OK) {
      error = 1;
      continue;
    }
    o.prefix = NULL;
    if (nfiles > 1)
      o.prefix = src.path ? src.path : "(standard input)";
    if (find_one(&src, &o, &found) != CLI_OK) {
      int kind;
      uint64_t size;
      error = 1;
      missing |= src.path && cli_os_stat(src.path, &kind, &size) != 0;
      continue;
    }
    if (found)
      status = CLI_OK;
  }
  if (missing)
    hint_swapped(&o, nfiles, argv + optind);
  return cli_finish_output(error ? CLI_ERROR : status);
}
