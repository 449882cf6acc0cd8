/*
 * cli_cache.c - what touch, evict, lock and info share: opening regular
 * files, walking them window by window, touching pages, counting resident
 * pages.
 */
#include <getopt.h>
#include <stdarg.h>
#include <string.h>

#include "cli.h"

int cli_cache_options(const char *cmd, const char *usage,
                      void (*more_help)(void), int argc, char **argv,
                      int *quiet) {
  static const struct option longs[] = {{"quiet", no_argument, NULL, 'q'},
                                        {"help", no_argument, NULL, 'h'},
                                        {NULL, 0, NULL, 0}};
  int c;
  *quiet = 0;
  opterr = 0;
  while ((c = getopt_long(argc, argv, ":qh", longs, NULL)) != -1) {
    switch (c) {
    case 'q':
      *quiet = 1;
      break;
    case 'h':
      fputs(usage, stdout);
      if (more_help != NULL)
        more_help();
      return cli_finish_output(CLI_OK);
    default:
      return cli_bad_option(cmd, c, argv);
    }
  }
  if (optind >= argc)
    return cli_usage_error(cmd, "missing FILE");
  return -1;
}

int cli_open_regular(const char *path, int writable, cli_file *f) {
  uint64_t size;
  int kind, e;
  f->fd = -1;
  e = cli_os_stat(path, &kind, &size);
  if (e)
    return cli_fail_os(path, e);
  if (kind == CLI_KIND_DIRECTORY)
    return cli_fail(path, MMF_EISDIR);
  if (kind != CLI_KIND_REGULAR) {
    cli_error(path, "not a regular file");
    return CLI_ERROR;
  }
  e = cli_os_open(path, writable, f);
  if (e)
    return cli_fail_os(path, e);
  if (f->kind != CLI_KIND_REGULAR) { /* replaced meanwhile */
    cli_os_close(f);
    cli_error(path, "not a regular file");
    return CLI_ERROR;
  }
  return CLI_OK;
}

int cli_each_window(cli_file *f, unsigned flags,
                    int (*fn)(void *ctx, mmf_map *m, uint64_t off), void *ctx) {
  const uint64_t huge = (uint64_t)2 << 20;
  uint64_t window = cli_window_budget(), off;
  int rc;
  /* Windows start at multiples of 2 MiB: pages never straddle two, and
   * 2 MiB folios can be mapped whole. */
  window = window < huge ? huge : window / huge * huge;
  for (off = 0; off < f->size;) {
    mmf_options o;
    mmf_map *m = NULL;
    memset(&o, 0, sizeof o);
    o.offset = off;
    o.length = f->size - off <= window ? 0 : window;
    o.flags = flags | MMF_NO_FALLBACK;
    rc = mmf_open_fd(&m, f->fd, MMF_READ, &o);
    if (rc == MMF_ENOMEM && window > huge) {
      /* The address space is short (ulimit -v): smaller windows. */
      window = window / 2 / huge * huge;
      continue;
    }
    if (rc == MMF_ERANGE)
      rc = MMF_ETRUNCATED; /* it shrank since we looked */
    if (rc)
      return rc;
    cli_test_delay();
    rc = fn(ctx, m, off);
    mmf_close(m);
    if (rc)
      return rc;
    off += window;
  }
  return 0;
}

typedef struct touch_job {
  const volatile unsigned char *p;
  size_t n, step;
  unsigned sum;
} touch_job;

static int touch_fn(void *ctx) {
  touch_job *j = ctx;
  size_t i;
  for (i = 0; i < j->n; i += j->step)
    j->sum += j->p[i];
  return 0;
}

int cli_touch_pages(mmf_map *m, cli_progress *p, uint64_t done) {
  const size_t chunk = (size_t)8 << 20;
  size_t size = mmf_size(m), off;
  const unsigned char *data = mmf_data(m);
  touch_job j;
  int rc;
  memset(&j, 0, sizeof j);
  j.step = mmf_page_size();
  for (off = 0; off < size; off += chunk) {
    j.p = data + off;
    j.n = size - off < chunk ? size - off : chunk;
    /* The bytes are read through a raw pointer: the guard turns a fault
     * (the file was truncated) into MMF_ETRUNCATED. */
    rc = mmf_guard(m, touch_fn, &j);
    if (rc)
      return rc;
    cli_progress_update(p, done + off + j.n);
  }
  return 0;
}

static int add_resident(void *ctx, mmf_map *m, uint64_t off) {
  uint64_t *pages = ctx, ps = mmf_page_size(), res;
  int rc = mmf_resident(m, 0, 0, &res);
  (void)off;
  if (!rc)
    *pages += (res + ps - 1) / ps; /* only the last page can be partial */
  return rc;
}

int cli_resident_pages(cli_file *f, uint64_t *pages) {
  *pages = 0;
  return cli_each_window(f, 0, add_resident, pages);
}

void cli_summary_line(const char *label, const char *fmt, ...) {
  va_list ap;
  printf("%16s: ", label);
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  putchar('\n');
}
