/*
 * cmd_lines.c - `mmf lines`: count lines, with the output of `wc -l`.
 *
 * Byte for byte as GNU wc: one "COUNT NAME" line per file, a "total" line
 * when there are several, no name for standard input given implicitly.
 * The count column's width follows wc's rule (compute_number_width in
 * coreutils' wc.c): 1 for a single input; for several, the digits of the
 * sum of the sizes (stat) of the regular files, at least 7 if any input is
 * not a regular file; 1 if the first file cannot be stat'ed. A file that
 * fails to open gets an error and no line; one that fails while being read
 * (a directory, a truncated file) gets an error and the count so far.
 */
#include <getopt.h>
#include <inttypes.h>

#include "cli.h"

static const char usage[] =
    "Usage: mmf lines [FILE]...\n"
    "Count the newline bytes of each FILE, as `wc -l` does, with the same\n"
    "output. With no FILE, or when FILE is -, read standard input.\n"
    "\n"
    "  -h, --help   show this help\n"
    "\n"
    "Files are mapped and scanned at memory bandwidth; pipes and /proc\n"
    "files are read. Exit status: 0 if every file was counted, 2 if not.\n";

static int number_width(int nfiles, char **files) {
  uint64_t regular_total = 0, size;
  int width = 1, minimum = 1, kind, i;
  if (nfiles <= 1)
    return 1;
  if (cli_os_stat(files[0], &kind, &size) != 0)
    return 1;
  for (i = 0; i < nfiles; i++) {
    if (cli_os_stat(files[i], &kind, &size) != 0)
      continue;
    if (kind == CLI_KIND_REGULAR)
      regular_total += size;
    else
      minimum = 7;
  }
  for (; regular_total >= 10; regular_total /= 10)
    width++;
  return width < minimum ? minimum : width;
}

/* Add the '\n' bytes of the whole input to *lines, span by span. */
static int count_lines(cli_input *in, uint64_t *lines) {
  cli_span s;
  uint64_t n;
  int rc;
  for (;;) {
    rc = cli_input_next(in, &s);
    if (rc || s.len == 0)
      return rc;
    rc = cli_span_count(in, &s, 0, s.len, '\n', &n);
    if (rc)
      return rc;
    *lines += n;
  }
}

static void print_count(int width, uint64_t n, const char *name) {
  if (name)
    printf("%*" PRIu64 " %s\n", width, n, name);
  else
    printf("%*" PRIu64 "\n", width, n);
}

int cmd_lines(int argc, char **argv) {
  static const struct option longs[] = {{"help", no_argument, NULL, 'h'},
                                        {NULL, 0, NULL, 0}};
  uint64_t total = 0;
  int c, i, nfiles, width, status = CLI_OK;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
    if (c != 'h')
      return cli_bad_option("lines", c, argv);
    fputs(usage, stdout);
    return cli_finish_output(CLI_OK);
  }
  nfiles = argc - optind;
  width = number_width(nfiles, argv + optind);
  for (i = 0; i < (nfiles ? nfiles : 1); i++) {
    const char *name = nfiles ? argv[optind + i] : NULL;
    cli_input in;
    uint64_t lines = 0;
    int rc;
    if (cli_input_open(&in, name) != 0) {
      status = CLI_ERROR;
      continue;
    }
    rc = count_lines(&in, &lines);
    if (rc) {
      cli_fail(in.name, rc);
      status = CLI_ERROR;
    }
    cli_input_close(&in);
    print_count(width, lines, name);
    total += lines;
  }
  if (nfiles > 1)
    print_count(width, total, "total");
  return cli_finish_output(status);
}
