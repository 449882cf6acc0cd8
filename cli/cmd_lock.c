/*
 * cmd_lock.c - `mmf lock`: load files and lock them in memory until
 * interrupted (SIGINT, SIGTERM, SIGHUP; Ctrl-C on Windows), as
 * `vmtouch -l`.
 *
 * Each file is mapped whole (a lock must hold every window at once),
 * touched page by page with a progress bar on a terminal, then locked
 * with mmf_lock_memory(). The limit is RLIMIT_MEMLOCK unless the process
 * is privileged; on Windows it is the process's minimum working set, which
 * the tool raises by the file's size first. A refusal names the limit.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>

#include "cli.h"

static const char usage[] =
    "Usage: mmf lock [OPTION]... FILE...\n"
    "Load each FILE into memory and lock it there until interrupted, as\n"
    "`vmtouch -l`. Prints a summary once everything is locked.\n"
    "\n"
    "  -q, --quiet  print nothing but errors\n"
    "  -h, --help   show this help\n"
    "\n";

static int lock_file(const char *path, mmf_map **out, uint64_t *size) {
  cli_progress progress;
  cli_file f;
  mmf_map *m = NULL;
  mmf_options o = {0, 0, 0, MMF_NO_FALLBACK};
  char have[32], limit[32];
  uint64_t cap;
  int rc;
  *out = NULL;
  *size = 0;
  if (cli_open_regular(path, 0, &f) != CLI_OK)
    return CLI_ERROR;
  rc = mmf_open_fd(&m, f.fd, MMF_READ, &o);
  cli_os_close(&f);
  if (rc)
    return cli_fail(path, rc);
  cli_test_delay();
  cli_progress_begin(&progress, path, mmf_size(m));
  rc = cli_touch_pages(m, &progress, 0);
  cli_progress_end(&progress);
  if (!rc) {
    /* Where the program sets the limit itself (Windows), make room; if
     * that is refused, the lock fails below and says why. */
    (void)cli_os_memlock_reserve(mmf_size(m));
    rc = mmf_lock_memory(m, 0, 0);
  }
  if (rc == MMF_ENOMEM || rc == MMF_EAGAIN || rc == MMF_EACCES) {
    cap = cli_os_memlock_limit();
    cli_human_size(mmf_size(m), have, sizeof have);
    cli_human_size(cap, limit, sizeof limit);
    cli_error(path, "cannot lock %s in memory: %s (%s is %s%s)", have,
              mmf_strerror(rc), cli_os_memlock_name,
              cap == UINT64_MAX ? "unlimited" : limit, cli_os_memlock_hint);
    mmf_close(m);
    return CLI_ERROR;
  }
  if (rc) {
    mmf_close(m);
    return cli_fail(path, rc);
  }
  *out = m;
  *size = mmf_size(m);
  return CLI_OK;
}

/* What --help adds: the platform's signals and limit. */
static void lock_more_help(void) {
  printf("Interrupted by: %s.\nLocking is bounded by %s%s.\n",
         cli_os_interrupts, cli_os_memlock_name, cli_os_memlock_hint);
}

int cmd_lock(int argc, char **argv) {
  uint64_t ps = mmf_page_size(), pages = 0, size;
  mmf_map **maps;
  int i, n, quiet, opts, status = CLI_OK;
  char h[32];
  opts = cli_cache_options("lock", usage, lock_more_help, argc, argv, &quiet);
  if (opts >= 0)
    return opts;
  n = argc - optind;
  maps = calloc((size_t)n, sizeof *maps);
  if (!maps)
    return cli_fail(NULL, MMF_ENOMEM);
  for (i = 0; i < n; i++) {
    if (lock_file(argv[optind + i], &maps[i], &size) != CLI_OK) {
      status = CLI_ERROR;
      break;
    }
    pages += (size + ps - 1) / ps;
  }
  if (status == CLI_OK) {
    if (!quiet) {
      cli_human_size(pages * ps, h, sizeof h);
      cli_summary_line("Files", "%d", n);
      cli_summary_line("Locked Pages", "%" PRIu64 " (%s)", pages, h);
      cli_summary_line("Until", "interrupted (%s)", cli_os_interrupts);
    }
    status = cli_finish_output(CLI_OK);
    if (status == CLI_OK)
      (void)cli_os_wait_for_signal();
  }
  for (i = 0; i < n; i++)
    mmf_close(maps[i]);
  free(maps);
  return status;
}
