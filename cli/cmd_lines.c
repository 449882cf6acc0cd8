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
 */
#include <getopt.h>
#include <inttypes.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
    "Usage: mmf lines [FILE]...\n"
    "Count the newline bytes of each FILE, as `wc -l` does, with the same\n"
    "output. With no FILE, or when FILE is -, read standard input.\n"
    "\n"
    "  -h, --help   show this help\n"
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
    cli_source src;
    uint64_t lines = 0;
    int rc, oserr;
    if (cli_source_of(name, &src) != CLI_OK) {
      status = CLI_ERROR;
      continue;
    }
    rc = cli_count_byte(&src, '\n', &lines, &oserr);
    if (rc) {
      cli_fail_io(src.name, rc, oserr);
      status = CLI_ERROR;
      if (!counted_anyway(rc))
        continue;
    }
    print_count(width, lines, name);
    total += lines;
  }
  if (nfiles > 1)
    print_count(width, total, "total");
  return cli_finish_output(status);
}
