/*
 * os_posix.c - the tool's own system calls on POSIX systems (see cli_os.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <locale.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli_os.h"

const char cli_os_interrupts[] = "SIGINT, SIGTERM, SIGHUP";
const char cli_os_memlock_name[] = "RLIMIT_MEMLOCK";
const char cli_os_memlock_hint[] = "; see ulimit -l";

/* Arguments are bytes, used as they are (UTF-8 in a UTF-8 locale). The
 * character classes are the user's locale, as for wc, which decides how a
 * file name that must be quoted is written (cli_quote.c); everything else
 * the tool prints is locale-independent. MMF_CLI_NO_MAIN builds the tool
 * as a library (the fuzz targets call cli_main themselves). */
#ifndef MMF_CLI_NO_MAIN
int main(int argc, char **argv) {
  (void)setlocale(LC_CTYPE, "");
  cli_os_raise_open_files_limit();
  return cli_main(argc, argv);
}
#endif

void cli_os_raise_open_files_limit(void) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    (void)setrlimit(RLIMIT_NOFILE, &rl);
  }
}

static int kind_of(const struct stat *st) {
  if (S_ISREG(st->st_mode))
    return CLI_KIND_REGULAR;
  if (S_ISDIR(st->st_mode))
    return CLI_KIND_DIRECTORY;
  if (S_ISFIFO(st->st_mode) || S_ISCHR(st->st_mode) || S_ISSOCK(st->st_mode))
    return CLI_KIND_STREAM;
  return CLI_KIND_OTHER;
}

static void describe(const struct stat *st, int *kind, uint64_t *size) {
  *kind = kind_of(st);
  *size = st->st_size > 0 ? (uint64_t)st->st_size : 0;
}

int cli_os_stat(const char *path, int *kind, uint64_t *size) {
  struct stat st;
  int r = strcmp(path, "-") == 0 ? fstat(STDIN_FILENO, &st) : stat(path, &st);
  *kind = 0;
  *size = 0;
  if (r != 0)
    return errno;
  describe(&st, kind, size);
  return 0;
}

int cli_os_open(const char *path, int writable, cli_file *f) {
  struct stat st;
  int fd, e;
  f->fd = -1;
  f->kind = 0;
  f->size = 0;
  do
    fd = open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NOCTTY);
  while (fd < 0 && errno == EINTR);
  if (fd < 0)
    return errno;
  if (fstat(fd, &st) != 0) {
    e = errno;
    close(fd);
    return e;
  }
  f->fd = fd;
  describe(&st, &f->kind, &f->size);
  return 0;
}

int cli_os_stdin(cli_file *f, uint64_t *pos) {
  struct stat st;
  off_t at;
  f->fd = -1;
  f->kind = 0;
  f->size = 0;
  *pos = 0;
  if (fstat(STDIN_FILENO, &st) != 0)
    return errno;
  f->fd = STDIN_FILENO;
  describe(&st, &f->kind, &f->size);
  if (f->kind == CLI_KIND_REGULAR) {
    at = lseek(STDIN_FILENO, 0, SEEK_CUR);
    if (at > 0)
      *pos = (uint64_t)at;
  }
  return 0;
}

void cli_os_close(cli_file *f) {
  if (f->fd >= 0)
    close(f->fd);
  f->fd = -1;
}

int cli_os_file_size(int fd, uint64_t *size) {
  struct stat st;
  *size = 0;
  if (fstat(fd, &st) != 0)
    return errno;
  *size = st.st_size > 0 ? (uint64_t)st.st_size : 0;
  return 0;
}

int cli_os_read(int fd, void *buf, size_t n, size_t *got) {
  ssize_t r;
  *got = 0;
  do
    r = read(fd, buf, n);
  while (r < 0 && errno == EINTR);
  if (r < 0)
    return errno;
  *got = (size_t)r;
  return 0;
}

int cli_os_evict(int fd) {
#if defined(POSIX_FADV_DONTNEED)
  int e;
  /* DONTNEED skips dirty pages: write them back first, or a file that was
   * just written would stay in memory. fdatasync works on read-only
   * descriptors; where it is refused (some special files) carry on. */
  (void)fdatasync(fd);
  e = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  return e;
#else
  (void)fd;
  return ENOTSUP;
#endif
}

int cli_os_isatty(int fd) { return isatty(fd) ? 1 : 0; }

double cli_os_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void cli_os_sleep_ms(unsigned ms) {
  struct timespec ts;
  ts.tv_sec = (time_t)(ms / 1000);
  ts.tv_nsec = (long)(ms % 1000) * 1000000L;
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
    ;
}

static volatile sig_atomic_t caught;

static void on_signal(int sig) { caught = sig; }

int cli_os_wait_for_signal(void) {
  static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
  struct sigaction sa;
  sigset_t block, old;
  size_t i;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigemptyset(&block);
  for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
    sigaction(sigs[i], &sa, NULL);
    sigaddset(&block, sigs[i]);
  }
  /* Block the signals and wait with sigsuspend, so one that arrives
   * between the check and the wait is not lost. */
  sigprocmask(SIG_BLOCK, &block, &old);
  for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
    sigdelset(&old, sigs[i]);
  while (!caught)
    sigsuspend(&old);
  sigprocmask(SIG_UNBLOCK, &block, NULL);
  return (int)caught;
}

uint64_t cli_os_memlock_limit(void) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_MEMLOCK, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
    return UINT64_MAX;
  return (uint64_t)rl.rlim_cur;
}

/* The limit is set from outside (ulimit -l, limits.conf). */
int cli_os_memlock_reserve(uint64_t bytes) {
  (void)bytes;
  return 0;
}

int cli_os_resident_is_cache(void) { return 1; }

int cli_os_pmd_mapped(const void *addr, size_t len, uint64_t *bytes) {
#if defined(__linux__)
  const uintptr_t pmd = (uintptr_t)2 << 20;
  FILE *f;
  char *line = NULL; /* whole lines, however long the mapped path */
  size_t cap = 0;
  uintptr_t a = (uintptr_t)addr, first = (a + pmd - 1) / pmd * pmd;
  int inside = 0, found = 0;
  *bytes = 0;
  /* No whole 2 MiB block, no 2 MiB entry: smaps is not read. Reading it
   * walks the page tables of every mapping listed before this one, which
   * was most of the time of `info` on a small file (and milliseconds in a
   * process with AddressSanitizer's shadow mapped). */
  if (first < a || first - a > len || len - (first - a) < pmd)
    return 0;
  f = fopen("/proc/self/smaps", "re");
  if (!f)
    return -1;
  while (getline(&line, &cap, f) > 0) {
    uintmax_t lo, hi, kb;
    char key[64];
    /* A mapping's header line starts with "lo-hi " in lowercase hex; its
     * fields are "Name:   N kB" with capitalised names. */
    int header = (line[0] >= '0' && line[0] <= '9') ||
                 (line[0] >= 'a' && line[0] <= 'f');
    if (header && sscanf(line, "%jx-%jx ", &lo, &hi) == 2) {
      if (found)
        break;
      inside = a >= lo && a < hi;
      found = inside;
      continue;
    }
    if (inside && sscanf(line, "%63[^:]: %ju kB", key, &kb) == 2 &&
        (strcmp(key, "FilePmdMapped") == 0 ||
         strcmp(key, "ShmemPmdMapped") == 0))
      *bytes += (uint64_t)kb * 1024;
  }
  free(line);
  fclose(f);
  return found ? 0 : -1;
#else
  (void)addr;
  (void)len;
  *bytes = 0;
  return -1;
#endif
}

int cli_os_list_dir(const char *dir, int (*fn)(const char *name, void *ctx),
                    void *ctx) {
  struct dirent *e;
  DIR *d = opendir(dir);
  if (!d)
    return errno;
  while ((e = readdir(d)) != NULL)
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 &&
        fn(e->d_name, ctx) != 0)
      break;
  closedir(d);
  return 0;
}

int cli_os_file_id(const char *path, unsigned *major, unsigned *minor,
                   uint64_t *ino) {
  struct stat st;
  if (stat(path, &st) != 0)
    return errno;
  /* Linux's encoding of dev_t (what major() and minor() undo). */
  *major = (unsigned)(((uint64_t)st.st_dev >> 8) & 0xfff) |
           (unsigned)(((uint64_t)st.st_dev >> 32) & ~0xfffu);
  *minor = (unsigned)((uint64_t)st.st_dev & 0xff) |
           (unsigned)(((uint64_t)st.st_dev >> 12) & ~0xffu);
  *ino = (uint64_t)st.st_ino;
  return 0;
}

_Static_assert(sizeof(pthread_t) <= sizeof(uintptr_t),
               "a pthread_t fits the thread record");

static void *thread_main(void *arg) {
  cli_thread *t = arg;
  t->fn(t->arg);
  return NULL;
}

int cli_os_thread_start(cli_thread *t, void (*fn)(void *arg), void *arg) {
  pthread_t id;
  int e;
  t->fn = fn;
  t->arg = arg;
  e = pthread_create(&id, NULL, thread_main, t);
  if (e == 0)
    memcpy(&t->h, &id, sizeof id);
  return e;
}

void cli_os_thread_join(cli_thread *t) {
  pthread_t id;
  memcpy(&id, &t->h, sizeof id);
  (void)pthread_join(id, NULL);
}

unsigned cli_os_cpus(void) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n < 1 ? 1u : n > 4096 ? 4096u : (unsigned)n;
}
