/*
 * cli_scan.c - inputs for the library's scans: a path, which the library
 * opens and reads itself, or standard input by descriptor; and the scan
 * options every command passes.
 *
 * The tool does not walk inputs itself: `mmf lines` is
 * mmf_count_byte_path(), `mmf find -c` mmf_count_matches_path(), `mmf
 * find` the match iterator, each choosing read() or mmap per input as
 * the library does for every caller.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

uint64_t cli_window_budget(void) {
  const char *env = getenv("MMF_CLI_WINDOW");
  const char *why;
  uint64_t v;
  if (env && cli_parse_size(env, UINT64_MAX, &v, &why) == 0 && v > 0)
    return v;
  return sizeof(void *) >= 8 ? (uint64_t)1 << 30 : (uint64_t)64 << 20;
}

int cli_source_of(const char *arg, cli_source *s) {
  cli_file f;
  int e;
  memset(s, 0, sizeof *s);
  s->fd = -1;
  s->name = arg ? arg : "-";
  if (arg && strcmp(arg, "-") != 0) {
    s->path = arg;
    return CLI_OK;
  }
  e = cli_os_stdin(&f, &s->start);
  if (e)
    return cli_fail_os(s->name, e);
  s->fd = f.fd;
  s->kind = f.kind;
  /* A position past the end (the file shrank) reads nothing, as in wc. */
  if (f.kind == CLI_KIND_REGULAR && s->start > f.size)
    s->start = f.size;
  return CLI_OK;
}

unsigned cli_scan_threads;

int cli_get_threads(const char *cmd, const char *s, unsigned *out) {
  uint64_t v;
  if (cli_get_size(cmd, "threads", s, CLI_MAX_THREADS, &v))
    return CLI_ERROR;
  if (v == 0)
    return cli_usage_error(cmd, "threads must be at least 1");
  *out = (unsigned)v;
  return CLI_OK;
}

unsigned cli_default_threads(void) {
  unsigned n = cli_os_cpus();
  return n > CLI_DEFAULT_THREADS ? CLI_DEFAULT_THREADS : n;
}

void cli_scan_options(const cli_source *s, mmf_scan_options *o) {
  const char *io = getenv("MMF_CLI_IO");
  uint64_t min = 2 * (uint64_t)mmf_granularity();
  memset(o, 0, sizeof *o);
  o->offset = s->start;
  o->threads = cli_scan_threads;
  if (getenv("MMF_CLI_WINDOW")) { /* tests: tiny windows and buffers */
    o->budget = cli_window_budget();
    if (o->budget < min)
      o->budget = min;
  }
  if (io && strcmp(io, "read") == 0)
    o->io = MMF_SCAN_READ;
  else if (io && strcmp(io, "map") == 0)
    o->io = MMF_SCAN_MAP;
}

int cli_count_byte(const cli_source *s, int byte, uint64_t *count, int *oserr) {
  mmf_scan_options o;
  int rc;
  cli_scan_options(s, &o);
  rc = s->path ? mmf_count_byte_path(s->path, &o, byte, count)
               : mmf_count_byte_fd(s->fd, &o, byte, count);
  *oserr = rc ? mmf_last_os_error(NULL) : 0;
  return rc;
}

int cli_count_matches(const cli_source *s, const void *needle, size_t nlen,
                      uint64_t *count, int *oserr) {
  mmf_scan_options o;
  int rc;
  cli_scan_options(s, &o);
  rc = s->path ? mmf_count_matches_path(s->path, &o, needle, nlen, count)
               : mmf_count_matches_fd(s->fd, &o, needle, nlen, count);
  *oserr = rc ? mmf_last_os_error(NULL) : 0;
  return rc;
}

int cli_matches_open(const cli_source *s, unsigned flags, const void *needle,
                     size_t nlen, mmf_matches **it, int *oserr) {
  mmf_scan_options o;
  int rc;
  cli_scan_options(s, &o);
  o.flags |= flags;
  rc = s->path ? mmf_matches_open(it, s->path, &o, needle, nlen)
               : mmf_matches_open_fd(it, s->fd, &o, needle, nlen);
  *oserr = rc ? mmf_matches_last_os_error(NULL) : 0;
  return rc;
}
