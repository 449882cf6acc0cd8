/*
 * cmd_lines.c - `mmf lines`: count lines, with the output of `wc -l`.
 *
 * The count is the library's: mmf_count_byte_path() with '\n' (or
 * mmf_count_byte_fd() on standard input), which reads small files and
 * maps large ones. When it fails part-way it still tells the count so
 * far, which is printed with the error, as wc does.
 *
 * Byte for byte as GNU wc: one "COUNT NAME" line per file, a "total" line
 * when there are several, no name for standard input given implicitly, a
 * name holding a newline quoted (cli_quote.c). The count column's width
 * follows wc's rule (compute_number_width in coreutils' wc.c): 1 for a
 * single input; for several, the digits of the sum of the sizes (stat) of
 * the regular files among those that can be stat'ed, at least 7 if any of
 * them is not a regular file. A file that fails to open gets an error and
 * no line; one that fails while being read (a directory, a truncated file)
 * gets an error and the count so far.
 *
 * -j N: one file is scanned by N threads (the library splits it); several
 * files are counted N at a time, each by one thread, and printed in
 * argument order once all are counted, errors with them, so the output
 * is the same as with -j 1. Standard input among the files makes the run
 * sequential (it is one stream, read where it stands).
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
    "Usage: mmf lines [OPTION]... [FILE]...\n"
    "Count the newline bytes of each FILE, as `wc -l` does, with the same\n"
    "output. With no FILE, or when FILE is -, read standard input.\n"
    "\n"
    "  -j, --threads=N   scan one FILE with N threads, or count N FILEs at\n"
    "                    a time (output still in argument order); default:\n"
    "                    the processors online, at most 8\n"
    "  -h, --help        show this help\n"
    "\n"
    "Small files are read, large ones mapped and scanned at memory\n"
    "bandwidth; pipes and /proc files are read. Exit status: 0 if every\n"
    "file was counted, 2 if not.\n";

static int number_width(int nfiles, char **files) {
  uint64_t regular_total = 0, size;
  int width = 1, minimum = 1, kind, i;
  if (nfiles <= 1)
    return 1;
  for (i = 0; i < nfiles; i++) {
    if (cli_os_stat(files[i], &kind, &size) != 0)
      continue; /* not counted, whatever its place */
    if (kind == CLI_KIND_REGULAR)
      regular_total += size;
    else
      minimum = 7;
  }
  for (; regular_total >= 10; regular_total /= 10)
    width++;
  return width < minimum ? minimum : width;
}

static void print_count(int width, uint64_t n, const char *name) {
  printf("%*" PRIu64, width, n);
  if (name && strchr(name, '\n')) {
    putchar(' ');
    cli_shell_quote(stdout, name);
  } else if (name) {
    printf(" %s", name);
  }
  putchar('\n');
}

/* Whether a file that fails gets a count line: not when it could not be
 * opened at all (wc prints nothing for a missing file). */
static int counted_anyway(int rc) {
  return rc != MMF_ENOENT && rc != MMF_EACCES && rc != MMF_ENOTDIR &&
         rc != MMF_ELOOP && rc != MMF_ENAMETOOLONG && rc != MMF_EMFILE;
}

/* What counting one input gave. */
typedef struct counted {
  uint64_t lines;
  int rc, oserr;
  int described; /* cli_source_of succeeded */
  cli_source src;
} counted;

static void count_one(const char *name, counted *r) {
  r->described = cli_source_of(name, &r->src) == CLI_OK;
  if (r->described)
    r->rc = cli_count_byte(&r->src, '\n', &r->lines, &r->oserr);
}

/* Print one input's line or error; 0, or CLI_ERROR. */
static int report(int width, const char *name, const counted *r,
                  uint64_t *total) {
  if (!r->described)
    return CLI_ERROR;
  if (r->rc) {
    cli_fail_io(r->src.name, r->rc, r->oserr);
    if (!counted_anyway(r->rc))
      return CLI_ERROR;
  }
  print_count(width, r->lines, name);
  *total += r->lines;
  return r->rc ? CLI_ERROR : CLI_OK;
}

typedef struct many {
  char **names;
  counted *res;
} many;

static void count_nth(size_t i, void *ctx) {
  many *m = ctx;
  count_one(m->names[i], &m->res[i]);
}

static int reads_stdin(int nfiles, char **files) {
  int i;
  for (i = 0; i < nfiles; i++)
    if (strcmp(files[i], "-") == 0)
      return 1;
  return 0;
}

int cmd_lines(int argc, char **argv) {
  static const struct option longs[] = {
      {"threads", required_argument, NULL, 'j'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  uint64_t total = 0;
  unsigned threads = cli_default_threads();
  int c, i, nfiles, width, status = CLI_OK;
  char **files;
  opterr = 0;
  while ((c = getopt_long(argc, argv, ":j:h", longs, NULL)) != -1) {
    switch (c) {
    case 'j':
      if (cli_get_threads("lines", optarg, &threads) != CLI_OK)
        return CLI_ERROR;
      break;
    case 'h':
      fputs(usage, stdout);
      return cli_finish_output(CLI_OK);
    default:
      return cli_bad_option("lines", c, argv);
    }
  }
  nfiles = argc - optind;
  files = argv + optind;
  width = number_width(nfiles, files);
  if (nfiles > 1 && threads > 1 && !reads_stdin(nfiles, files)) {
    many m;
    m.names = files;
    m.res = calloc((size_t)nfiles, sizeof *m.res);
    if (m.res) {
      cli_scan_threads = 1;
      cli_for_each((size_t)nfiles, threads, count_nth, &m);
      for (i = 0; i < nfiles; i++)
        if (report(width, files[i], &m.res[i], &total) != CLI_OK)
          status = CLI_ERROR;
      free(m.res);
      print_count(width, total, "total");
      return cli_finish_output(status);
    }
    /* No memory for the results: one file after the other. */
  }
  cli_scan_threads = threads;
  for (i = 0; i < (nfiles ? nfiles : 1); i++) {
    const char *name = nfiles ? files[i] : NULL;
    counted r;
    memset(&r, 0, sizeof r);
    count_one(name, &r);
    if (report(width, name, &r, &total) != CLI_OK)
      status = CLI_ERROR;
  }
  if (nfiles > 1)
    print_count(width, total, "total");
  return cli_finish_output(status);
}
