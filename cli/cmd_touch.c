/*
 * cmd_touch.c - `mmf touch`: load files into the page cache, as
 * `vmtouch -t` does: map each file and read one byte of every page.
 */
#include <getopt.h>
#include <inttypes.h>

#include "cli.h"

static const char usage[] =
    "Usage: mmf touch [OPTION]... FILE...\n"
    "Load every page of each FILE into the page cache by reading one byte\n"
    "of each page through a mapping, as `vmtouch -t`. A progress bar is\n"
    "shown on a terminal for large files.\n"
    "\n"
    "  -q, --quiet  print nothing but errors\n"
    "  -h, --help   show this help\n";

typedef struct touch_ctx {
  cli_progress progress;
  uint64_t done;
} touch_ctx;

static int touch_window(void *ctx, mmf_map *m, uint64_t off) {
  touch_ctx *t = ctx;
  (void)off;
  return cli_touch_pages(m, &t->progress, t->done + off);
}

int cmd_touch(int argc, char **argv) {
  uint64_t ps = mmf_page_size(), pages = 0;
  double start = cli_os_now();
  int i, quiet, opts, files = 0, status = CLI_OK;
  char h[32];
  opts = cli_cache_options("touch", usage, NULL, argc, argv, &quiet);
  if (opts >= 0)
    return opts;
  for (i = optind; i < argc; i++) {
    touch_ctx t;
    cli_file f;
    int rc;
    if (cli_open_regular(argv[i], 0, &f) != CLI_OK) {
      status = CLI_ERROR;
      continue;
    }
    t.done = 0;
    cli_progress_begin(&t.progress, argv[i], f.size);
    rc = cli_each_window(&f, MMF_SEQUENTIAL, touch_window, &t);
    cli_progress_end(&t.progress);
    cli_os_close(&f);
    if (rc) {
      cli_fail(argv[i], rc);
      status = CLI_ERROR;
      continue;
    }
    files++;
    pages += (f.size + ps - 1) / ps;
  }
  if (!quiet && files > 0) {
    cli_human_size(pages * ps, h, sizeof h);
    cli_summary_line("Files", "%d", files);
    cli_summary_line("Touched Pages", "%" PRIu64 " (%s)", pages, h);
    cli_summary_line("Elapsed", "%.3g seconds", cli_os_now() - start);
  }
  return cli_finish_output(status);
}
