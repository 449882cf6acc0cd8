/*
 * cmd_evict.c - `mmf evict`: drop files from the page cache, as
 * `vmtouch -e` does.
 *
 * madvise(MADV_DONTNEED) on a mapping only unmaps pages from this process;
 * the page cache keeps them. Dropping them takes posix_fadvise
 * (POSIX_FADV_DONTNEED) on a descriptor, which the library has no call
 * for, so it lives in os_posix.c. Dirty pages are written back first, or
 * they would stay. Pages that a process maps or locks stay too; the
 * summary says how many remain.
 *
 * Windows has no per-file way to drop cached pages (os_win.c): each file
 * is then an error, "not supported", and nothing is changed.
 */
#include <getopt.h>
#include <inttypes.h>

#include "cli.h"

static const char usage[] =
    "Usage: mmf evict [OPTION]... FILE...\n"
    "Drop the pages of each FILE from the page cache, as `vmtouch -e`\n"
    "(posix_fadvise POSIX_FADV_DONTNEED, after writing dirty pages back).\n"
    "Pages that some process maps or locks stay resident.\n"
    "\n"
    "  -q, --quiet  print nothing but errors\n"
    "  -h, --help   show this help\n";

int cmd_evict(int argc, char **argv) {
  uint64_t ps = mmf_page_size(), pages = 0, left = 0;
  double start = cli_os_now();
  int i, quiet, opts, files = 0, status = CLI_OK;
  char h[32];
  opts = cli_cache_options("evict", usage, NULL, argc, argv, &quiet);
  if (opts >= 0)
    return opts;
  for (i = optind; i < argc; i++) {
    cli_file f;
    uint64_t resident = 0;
    int e, rc;
    if (cli_open_regular(argv[i], 0, &f) != CLI_OK) {
      status = CLI_ERROR;
      continue;
    }
    e = cli_os_evict(f.fd);
    rc = e ? 0 : cli_resident_pages(&f, &resident);
    cli_os_close(&f);
    if (e || rc) {
      if (e)
        cli_error(argv[i], "cannot drop it from the page cache: %s",
                  cli_strerror(e));
      else
        cli_fail(argv[i], rc);
      status = CLI_ERROR;
      continue;
    }
    files++;
    pages += (f.size + ps - 1) / ps;
    left += resident;
  }
  if (!quiet && files > 0) {
    cli_human_size(pages * ps, h, sizeof h);
    cli_summary_line("Files", "%d", files);
    cli_summary_line("Evicted Pages", "%" PRIu64 " (%s)", pages, h);
    if (left)
      cli_summary_line("Still Resident", "%" PRIu64 " (mapped or locked)",
                       left);
    cli_summary_line("Elapsed", "%.3g seconds", cli_os_now() - start);
  }
  return cli_finish_output(status);
}
