/*
 * cmd_locks.c - `mmf locks`: who holds which byte ranges of a file, as
 * lslocks shows them.
 *
 * Linux lists every lock in /proc/locks, naming the file by device and
 * inode. Open-file-description locks (what mmf_lock_file takes) are owned
 * by an open file, not a process, so /proc/locks shows no process for
 * them (-1); the processes that hold such a file open are found by the
 * "lock:" lines of their /proc/PID/fdinfo entries, as lslocks does. Other
 * systems keep no such list that a program can read.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
    "Usage: mmf locks FILE...\n"
    "List the byte-range locks held on each FILE, by any process, as\n"
    "lslocks does: PID and COMMAND of the holder, TYPE (POSIX: classic\n"
    "fcntl, OFDLCK: open-file-description locks, which mmf_lock_file\n"
    "takes, FLOCK: whole-file flock), MODE (READ shared, WRITE exclusive),\n"
    "and the byte range START..END (END: EOF when the lock runs to the end\n"
    "of the file, however long it grows). Linux only (/proc/locks).\n"
    "\n"
    "  -h, --help   show this help\n";

typedef struct lock_line {
  char type[16], mode[16], start[32], end[32];
  long pid;
} lock_line;

/* Parse the part of a /proc/locks (or fdinfo "lock:") line after the
 * number: "OFDLCK ADVISORY  WRITE -1 fe:00:1234 0 EOF". */
static int parse(const char *s, lock_line *l, char *dev, size_t cap) {
  char kind[16], devbuf[64];
  if (sscanf(s, "%15s %15s %15s %ld %63s %31s %31s", l->type, kind, l->mode,
             &l->pid, devbuf, l->start, l->end) != 7)
    return -1;
  snprintf(dev, cap, "%s", devbuf);
  return 0;
}

/* Find the holders of an OFD lock: processes whose fdinfo lists it. */
typedef struct finder {
  const char *want; /* "OFDLCK ... START END" as fdinfo prints it */
  char dev[64];
  lock_line lock;
  long pid;  /* the process being scanned */
  int found; /* holders printed */
} finder;

static void print_lock(const lock_line *l, long pid) {
  char comm[64] = "-", path[64];
  if (pid > 0) {
    snprintf(path, sizeof path, "/proc/%ld/comm", pid);
    FILE *f = fopen(path, "r");
    if (f) {
      if (fgets(comm, sizeof comm, f))
        comm[strcspn(comm, "\n")] = '\0';
      fclose(f);
    }
    printf("%-7ld %-15s %-7s %-5s %12s %12s\n", pid, comm, l->type, l->mode,
           l->start, l->end);
  } else {
    printf("%-7s %-15s %-7s %-5s %12s %12s\n", "-", "-", l->type, l->mode,
           l->start, l->end);
  }
}

static int scan_fd(const char *name, void *ctx) {
  finder *fd = ctx;
  char path[96], line[512], dev[64];
  lock_line l;
  snprintf(path, sizeof path, "/proc/%ld/fdinfo/%s", fd->pid, name);
  FILE *f = fopen(path, "r");
  if (!f)
    return 0;
  while (fgets(line, sizeof line, f)) {
    const char *p = strstr(line, "lock:");
    if (!p || !(p = strchr(p, ':')) || !(p = strchr(p + 1, ':')))
      continue;
    if (parse(p + 1, &l, dev, sizeof dev) == 0 && strcmp(dev, fd->dev) == 0 &&
        strcmp(l.type, fd->lock.type) == 0 &&
        strcmp(l.mode, fd->lock.mode) == 0 &&
        strcmp(l.start, fd->lock.start) == 0 &&
        strcmp(l.end, fd->lock.end) == 0) {
      print_lock(&fd->lock, fd->pid);
      fd->found++;
      break;
    }
  }
  fclose(f);
  return 0;
}

static int scan_process(const char *name, void *ctx) {
  finder *fd = ctx;
  char dir[64];
  char *end;
  long pid = strtol(name, &end, 10);
  if (*end || pid <= 0)
    return 0;
  fd->pid = pid;
  snprintf(dir, sizeof dir, "/proc/%ld/fdinfo", pid);
  (void)cli_os_list_dir(dir, scan_fd, fd);
  return 0;
}

static int list_locks(const char *file) {
  unsigned major, minor;
  uint64_t ino;
  char want[64], line[512], dev[64];
  lock_line l;
  int e = cli_os_file_id(file, &major, &minor, &ino), n = 0;
  if (e == ENOTSUP) {
    cli_error("locks", "this system keeps no list of file locks that a "
                       "program can read (/proc/locks is Linux's)");
    return CLI_ERROR;
  }
  if (e)
    return cli_fail_os(file, e);
  FILE *f = fopen("/proc/locks", "r");
  if (!f) {
    cli_error("locks", "cannot read /proc/locks");
    return CLI_ERROR;
  }
  snprintf(want, sizeof want, "%02x:%02x:%" PRIu64, major, minor, ino);
  printf("%s:\n%-7s %-15s %-7s %-5s %12s %12s\n", file, "PID", "COMMAND",
         "TYPE", "MODE", "START", "END");
  while (fgets(line, sizeof line, f)) {
    /* "12: POSIX ..." or "12: -> POSIX ..." for a waiter. */
    const char *p = strchr(line, ':');
    if (!p || strstr(line, "->"))
      continue;
    if (parse(p + 1, &l, dev, sizeof dev) != 0 || strcmp(dev, want) != 0)
      continue;
    n++;
    if (l.pid > 0) {
      print_lock(&l, l.pid);
      continue;
    }
    finder fd = {want, {0}, l, 0, 0};
    snprintf(fd.dev, sizeof fd.dev, "%s", want);
    (void)cli_os_list_dir("/proc", scan_process, &fd);
    if (!fd.found)
      print_lock(&l, -1);
  }
  fclose(f);
  if (n == 0)
    printf("(no locks)\n");
  return CLI_OK;
}

int cmd_locks(int argc, char **argv) {
  static const struct option longs[] = {{"help", no_argument, NULL, 'h'},
                                        {NULL, 0, NULL, 0}};
  int c, status = CLI_OK;
  opterr = 0;
  while ((c = getopt_long(argc, argv, ":h", longs, NULL)) != -1) {
    switch (c) {
    case 'h':
      fputs(usage, stdout);
      return cli_finish_output(CLI_OK);
    default:
      return cli_bad_option("locks", c, argv);
    }
  }
  if (optind >= argc)
    return cli_usage_error("locks", "missing FILE");
  for (; optind < argc; optind++)
    if (list_locks(argv[optind]) != CLI_OK)
      status = CLI_ERROR;
  return cli_finish_output(status);
}
