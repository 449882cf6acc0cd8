/*
 * cmd_log.c - `mmf log`: write, read, follow, check and describe a record
 * log (see "The log" in mmf.h and docs/log.md).
 *
 *   mmf log append [-l LEVEL] [-b N] [-S SIZE] DIR   lines of stdin in
 *   mmf log cat [-n] [-z] [-s SEQ] DIR                records out
 *   mmf log tail [-f] [-n N] [-z] [--seq] DIR         the last ones, and on
 *   mmf log check DIR                                 every frame checked
 *   mmf log info DIR                                  segments and numbers
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
    "Usage: mmf log append [OPTION]... DIR\n"
    "       mmf log cat [OPTION]... DIR\n"
    "       mmf log tail [OPTION]... DIR\n"
    "       mmf log check DIR\n"
    "       mmf log info DIR\n"
    "A crash-safe record log in directory DIR.\n"
    "\n"
    "  append  each line of standard input (without its newline) becomes\n"
    "          a record; the log is created if missing\n"
    "  cat     write every record, each followed by a newline\n"
    "  tail    write the last records; with -f, go on writing records as\n"
    "          they are committed, until interrupted or the log is removed\n"
    "  check   read and check every frame; report the first bad one\n"
    "  info    segments, segment size, first and next record number\n"
    "\n"
    "  -l, --level=LEVEL   append: async, sync (default) or full: how\n"
    "                      durable each commit is\n"
    "  -b, --batch=N       append: commit every N records (default 1024)\n"
    "                      and at the end of input\n"
    "  -S, --segment-size=SIZE  append: segment size of a new log\n"
    "                      (default 64M)\n"
    "  -s, --from=SEQ      cat: start at record SEQ\n"
    "  -n, --lines=N       tail: the last N records (default 10)\n"
    "  -f, --follow        tail: keep following the log\n"
    "  -N, --number        cat, tail: write \"SEQ<tab>\" before each record\n"
    "  -z, --zero          cat, tail: end records with NUL, not newline\n"
    "  -h, --help          show this help\n"
    "\n"
    "Exit status: 0 success, 2 error (check: a frame fails its checks).\n";

typedef struct log_opts {
  int level;
  uint64_t batch, segment_size, from, last;
  int follow, number, zero, has_from;
} log_opts;

/* ---- append ---- */

/* Append one record and commit every o->batch records. */
static int put(mmf_log *w, const log_opts *o, const char *p, size_t n,
               uint64_t *pending) {
  int rc = mmf_log_append(w, p, n, NULL);
  if (!rc && ++*pending >= o->batch) {
    rc = mmf_log_commit(w, o->level);
    *pending = 0;
  }
  return rc;
}

static int do_append(const char *dir, const log_opts *o) {
  mmf_log_options lo = MMF_LOG_OPTIONS_INIT;
  mmf_log *w;
  size_t cap = 64 << 10, have = 0, start = 0, got;
  char *buf = malloc(cap);
  uint64_t pending = 0;
  int rc;
  if (!buf)
    return MMF_ENOMEM;
  lo.flags = MMF_CREATE;
  lo.segment_size = o->segment_size;
  rc = mmf_log_open(&w, dir, MMF_WRITE, &lo);
  if (rc) {
    free(buf);
    return rc;
  }
  while (!rc && (got = fread(buf + have, 1, cap - have, stdin)) > 0) {
    char *nl;
    have += got;
    while (!rc && (nl = memchr(buf + start, '\n', have - start)) != NULL) {
      rc = put(w, o, buf + start, (size_t)(nl - (buf + start)), &pending);
      start = (size_t)(nl - buf) + 1;
    }
    /* Keep the unfinished line at the front; grow for a long one. */
    memmove(buf, buf + start, have - start);
    have -= start;
    start = 0;
    if (have == cap) {
      char *nb = realloc(buf, cap * 2);
      if (!nb)
        rc = MMF_ENOMEM;
      else {
        buf = nb;
        cap *= 2;
      }
    }
  }
  if (!rc && ferror(stdin))
    rc = MMF_EIO;
  if (!rc && have) /* a last line without its newline */
    rc = put(w, o, buf, have, &pending);
  if (!rc)
    rc = mmf_log_commit(w, o->level);
  free(buf);
  if (rc) {
    (void)mmf_log_close(w);
    return rc;
  }
  return mmf_log_close(w);
}

/* ---- reading ---- */

static void print_record(const log_opts *o, const void *rec, size_t len,
                         uint64_t seq) {
  if (o->number)
    printf("%" PRIu64 "\t", seq);
  fwrite(rec, 1, len, stdout);
  putchar(o->zero ? '\0' : '\n');
}

/* How long a follower sleeps before it checks that its log still exists. */
#define FOLLOW_CHECK_NS (1000 * 1000000ll)

/* A follower's log is gone when its directory, or every segment in it, is:
 * a follower left behind by whoever removed it ends instead of sleeping
 * for ever on a file nothing will write again. */
static int still_there(mmf_log *r) {
  uint64_t segs = 0;
  int rc = mmf_log_info(r, NULL, NULL, &segs);
  return rc ? rc : segs ? 0 : MMF_ENOENT;
}

/* Write records until the end of the log (or, following, until the log is
 * removed). */
static int print_records(mmf_log *r, const log_opts *o) {
  const void *rec;
  size_t len;
  uint64_t seq;
  int rc;
  for (;;) {
    rc = mmf_log_next(r, &rec, &len, &seq, 0);
    if (rc == MMF_EAGAIN && o->follow) {
      /* Hand what we have to the reader of our output before sleeping. */
      if (fflush(stdout) != 0)
        return MMF_EIO;
      /* Sleeps in the kernel until a commit or the timeout; never a
       * loop that does not sleep. */
      rc = mmf_log_next(r, &rec, &len, &seq, FOLLOW_CHECK_NS);
      if (rc == MMF_EAGAIN) {
        rc = still_there(r);
        if (rc)
          return rc;
        continue;
      }
    }
    if (rc == MMF_EAGAIN)
      return 0;
    if (rc)
      return rc;
    print_record(o, rec, len, seq);
  }
}

static int do_read(const char *dir, const log_opts *o, int tail) {
  mmf_log *r;
  uint64_t first, end;
  int rc = mmf_log_open(&r, dir, MMF_READ, NULL);
  if (rc)
    return rc;
  if (tail) {
    rc = mmf_log_seek(r, MMF_LOG_END);
    if (!rc)
      rc = mmf_log_info(r, &first, &end, NULL);
    if (!rc)
      rc = mmf_log_seek(r, end - first > o->last ? end - o->last : first);
  } else if (o->has_from) {
    rc = mmf_log_seek(r, o->from);
  }
  if (!rc)
    rc = print_records(r, o);
  (void)mmf_log_close(r);
  return rc;
}

/* ---- check and info ---- */

static int do_check(const char *dir) {
  mmf_log *r;
  const void *rec;
  size_t len;
  uint64_t seq, n = 0, first = 0, end = 0, bytes = 0;
  int rc = mmf_log_open(&r, dir, MMF_READ, NULL);
  if (rc)
    return rc;
  rc = mmf_log_info(r, &first, NULL, NULL);
  while (!rc && (rc = mmf_log_next(r, &rec, &len, &seq, 0)) == 0) {
    n++;
    bytes += len;
  }
  (void)mmf_log_info(r, NULL, &end, NULL);
  (void)mmf_log_close(r);
  if (rc == MMF_EAGAIN) {
    printf("%s: %" PRIu64 " records", dir, n);
    if (n)
      printf(" (%" PRIu64 " to %" PRIu64 ")", first, end - 1);
    printf(", %" PRIu64 " bytes of records: every frame checks\n", bytes);
    return 0;
  }
  if (rc != MMF_ECORRUPT)
    return rc;
  cli_error(dir,
            "record %" PRIu64 " (after %" PRIu64 " good ones): its frame "
            "fails its checks (damage, or the torn tail of a crash that "
            "the next writer's open cuts)",
            end, n);
  return CLI_ERROR;
}

static int do_info(const char *dir) {
  mmf_log *r;
  uint64_t first = 0, end = 0, segs = 0;
  int rc = mmf_log_open(&r, dir, MMF_READ, NULL);
  if (rc)
    return rc;
  rc = mmf_log_seek(r, MMF_LOG_END);
  if (!rc)
    rc = mmf_log_info(r, &first, &end, &segs);
  if (!rc) {
    printf("segments:      %" PRIu64 "\n", segs);
    printf("segment size:  %" PRIu64 "\n", mmf_log_segment_size(r));
    printf("records:       %" PRIu64 "\n", end - first);
    if (end > first) {
      printf("first record:  %" PRIu64 "\n", first);
      printf("last record:   %" PRIu64 "\n", end - 1);
    } else {
      printf("first record:  -\n");
      printf("last record:   -\n");
    }
    printf("next record:   %" PRIu64 "\n", end);
  }
  (void)mmf_log_close(r);
  return rc;
}

/* ---- options ---- */

static int parse_level(const char *s, int *level) {
  if (strcmp(s, "async") == 0)
    *level = MMF_FLUSH_ASYNC;
  else if (strcmp(s, "sync") == 0)
    *level = MMF_FLUSH_SYNC;
  else if (strcmp(s, "full") == 0)
    *level = MMF_FLUSH_FULL;
  else
    return -1;
  return 0;
}

static int parse_options(int argc, char **argv, log_opts *o) {
  static const struct option longs[] = {
      {"level", required_argument, NULL, 'l'},
      {"batch", required_argument, NULL, 'b'},
      {"segment-size", required_argument, NULL, 'S'},
      {"from", required_argument, NULL, 's'},
      {"lines", required_argument, NULL, 'n'},
      {"follow", no_argument, NULL, 'f'},
      {"number", no_argument, NULL, 'N'},
      {"zero", no_argument, NULL, 'z'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  int c;
  opterr = 0;
  while ((c = getopt_long(argc, argv, ":l:b:S:s:n:fNzh", longs, NULL)) != -1) {
    switch (c) {
    case 'l':
      if (parse_level(optarg, &o->level) != 0)
        return cli_usage_error("log", "invalid level '%s': async, sync or full",
                               optarg);
      break;
    case 'b':
      if (cli_get_size("log", "batch", optarg, UINT32_MAX, &o->batch) != 0)
        return CLI_ERROR;
      if (o->batch == 0)
        return cli_usage_error("log", "invalid batch '0': at least 1");
      break;
    case 'S':
      if (cli_get_size("log", "segment size", optarg, CLI_MAX_OFFSET,
                       &o->segment_size) != 0)
        return CLI_ERROR;
      break;
    case 's':
      if (cli_get_size("log", "record number", optarg, UINT64_MAX - 1,
                       &o->from) != 0)
        return CLI_ERROR;
      o->has_from = 1;
      break;
    case 'n':
      if (cli_get_size("log", "count", optarg, UINT64_MAX - 1, &o->last) != 0)
        return CLI_ERROR;
      break;
    case 'f':
      o->follow = 1;
      break;
    case 'N':
      o->number = 1;
      break;
    case 'z':
      o->zero = 1;
      break;
    case 'h':
      fputs(usage, stdout);
      return cli_finish_output(-1);
    default:
      return cli_bad_option("log", c, argv);
    }
  }
  return 0;
}

int cmd_log(int argc, char **argv) {
  log_opts o = {MMF_FLUSH_SYNC, 1024, 0, 0, 10, 0, 0, 0, 0};
  const char *verb, *dir;
  int rc;
  if (argc >= 2 &&
      (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
    fputs(usage, stdout);
    return cli_finish_output(CLI_OK);
  }
  if (argc < 2)
    return cli_usage_error("log", "missing what to do (append, cat, tail, "
                                  "check or info)");
  verb = argv[1];
  rc = parse_options(argc - 1, argv + 1, &o);
  if (rc)
    return rc < 0 ? CLI_OK : rc;
  if (optind + 2 != argc)
    return cli_usage_error("log", "%s needs exactly one DIR", verb);
  dir = argv[optind + 1];
  if (strcmp(verb, "append") == 0)
    rc = do_append(dir, &o);
  else if (strcmp(verb, "cat") == 0)
    rc = do_read(dir, &o, 0);
  else if (strcmp(verb, "tail") == 0)
    rc = do_read(dir, &o, 1);
  else if (strcmp(verb, "check") == 0)
    rc = do_check(dir);
  else if (strcmp(verb, "info") == 0)
    rc = do_info(dir);
  else
    return cli_usage_error("log",
                           "unknown '%s': append, cat, tail, check "
                           "or info",
                           verb);
  if (rc == CLI_ERROR)
    return cli_finish_output(CLI_ERROR);
  if (rc)
    return cli_finish_output(cli_fail(dir, rc));
  return cli_finish_output(CLI_OK);
}
