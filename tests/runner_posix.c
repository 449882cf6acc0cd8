/*
 * runner_posix.c - the POSIX part of the test framework: the OS helpers of
 * test.h and the calls runner.h asks for, with the system calls themselves.
 * Children are fork()ed copies of the test's process.
 */
#include "runner.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------------ */
/* The runner's calls                                                        */
/* ------------------------------------------------------------------------ */

char **runner_os_start(int *argc, char **argv) {
  (void)argc;
  /* Tests write to files the kernel may refuse to extend; they want the
   * error code, not the signal. */
  signal(SIGXFSZ, SIG_IGN);
  /* A child writing into a FIFO whose reader left gets EPIPE instead. */
  signal(SIGPIPE, SIG_IGN);
  setvbuf(stdout, NULL, _IOLBF, 0);
  return argv;
}

void runner_os_before_test(void) {}

long runner_os_pid(void) { return (long)getpid(); }

const char runner_os_separator = '/';

void runner_os_make_dir(char *dir, size_t n) {
  const char *base = getenv("TMPDIR");
  if (base == NULL || base[0] == '\0')
    base = "/tmp";
  snprintf(dir, n, "%s/mmf-test-XXXXXX", base);
  if (mkdtemp(dir) == NULL) {
    int e = errno;
    dir[0] = '\0';
    FAIL("mkdtemp under %s: %s", base, strerror(e));
  }
}

static int remove_entry(const char *path, const struct stat *st, int flag,
                        struct FTW *ftw) {
  (void)st;
  (void)flag;
  (void)ftw;
  if (remove(path) != 0) {
    /* A test may leave a directory without write permission behind. */
    chmod(path, 0700);
    remove(path);
  }
  return 0;
}

void runner_os_remove_dir(const char *dir) {
  chmod(dir, 0700);
  nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* A forked child: no cleanup, no exit handlers of the parent's state. */
void runner_os_exit_child(int code) { _exit(code); }

int runner_os_run_alone(const char *name, int (*run_here)(const char *name)) {
  int st;
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) {
    perror("fork");
    return 1 << 8;
  }
  if (pid == 0) {
    alarm(RUNNER_TIMEOUT_S);
    exit(run_here(name));
  }
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  return st;
}

void runner_os_decode_status(int st, int *code, int *sig) {
  *code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  *sig = WIFSIGNALED(st) ? WTERMSIG(st) : -1;
}

const char *runner_os_signal_name(int sig) { return strsignal(sig); }

/* ------------------------------------------------------------------------ */
/* Files                                                                     */
/* ------------------------------------------------------------------------ */

static void write_all(int fd, const char *path, const void *data, size_t n,
                      uint64_t off) {
  const unsigned char *p = data;
  while (n > 0) {
    ssize_t w = pwrite(fd, p, n, (off_t)off);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      FAIL("write %s: %s", path, strerror(errno));
    p += w;
    off += (uint64_t)w;
    n -= (size_t)w;
  }
}

void write_file(const char *path, const void *data, size_t n) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    FAIL("open %s: %s", path, strerror(errno));
  if (data == NULL) {
    if (ftruncate(fd, (off_t)n) != 0)
      FAIL("ftruncate %s: %s", path, strerror(errno));
  } else {
    write_all(fd, path, data, n, 0);
  }
  close(fd);
}

void write_pattern(const char *path, uint64_t size) {
  unsigned char buf[65536];
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    FAIL("open %s: %s", path, strerror(errno));
  for (uint64_t off = 0; off < size; off += sizeof buf) {
    size_t n = size - off < sizeof buf ? (size_t)(size - off) : sizeof buf;
    fill_pat(buf, off, n);
    write_all(fd, path, buf, n, off);
  }
  close(fd);
}

void make_sparse(const char *path, uint64_t size) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    FAIL("open %s: %s", path, strerror(errno));
  if (ftruncate(fd, (off_t)size) != 0)
    FAIL("ftruncate %s to %" PRIu64 ": %s", path, size, strerror(errno));
  close(fd);
}

uint64_t file_size(const char *path) {
  struct stat st;
  if (stat(path, &st) != 0)
    FAIL("stat %s: %s", path, strerror(errno));
  return (uint64_t)st.st_size;
}

void read_at(const char *path, uint64_t off, void *buf, size_t n) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    FAIL("open %s: %s", path, strerror(errno));
  unsigned char *p = buf;
  while (n > 0) {
    ssize_t r = pread(fd, p, n, (off_t)off);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      FAIL("pread %s at %" PRIu64 ": %s", path, off,
           r == 0 ? "end of file" : strerror(errno));
    p += r;
    off += (uint64_t)r;
    n -= (size_t)r;
  }
  close(fd);
}

void write_at(const char *path, uint64_t off, const void *buf, size_t n) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    FAIL("open %s: %s", path, strerror(errno));
  write_all(fd, path, buf, n, off);
  close(fd);
}

void test_truncate(const char *path, uint64_t size) {
  if (truncate(path, (off_t)size) != 0)
    FAIL("truncate %s to %" PRIu64 ": %s", path, size, strerror(errno));
}

void test_truncate_mapped(const char *path, uint64_t size) {
  test_truncate(path, size);
}

void test_need_truncate_mapped(void) {}

void test_unlink(const char *path) {
  if (unlink(path) != 0 && errno != ENOENT)
    FAIL("unlink %s: %s", path, strerror(errno));
}

bool test_exists(const char *path) { return access(path, F_OK) == 0; }

void test_mkdir(const char *path) {
  if (mkdir(path, 0755) != 0)
    FAIL("mkdir %s: %s", path, strerror(errno));
}

uint64_t file_allocated(const char *path) {
  struct stat st;
  if (stat(path, &st) != 0)
    FAIL("stat %s: %s", path, strerror(errno));
  return (uint64_t)st.st_blocks * 512;
}

int test_open(const char *path, int flags) {
  return open(path, flags | O_CLOEXEC, 0644);
}

/* ------------------------------------------------------------------------ */
/* Process state                                                             */
/* ------------------------------------------------------------------------ */

size_t test_page_size(void) { return (size_t)sysconf(_SC_PAGESIZE); }

void test_sleep_ms(unsigned ms) {
  struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

/* The entries of a directory of /proc/self, or -1 when it cannot be
 * opened. */
static int count_entries(const char *dir) {
  DIR *d = opendir(dir);
  if (d == NULL)
    return -1;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL)
    if (e->d_name[0] != '.')
      n++;
  closedir(d);
  return n;
}

int count_open_fds(void) {
  int n = count_entries("/proc/self/fd");
  if (n < 0)
    FAIL("opendir /proc/self/fd: %s", strerror(errno));
  return n - 1; /* the directory's own descriptor */
}

int count_threads(void) { return count_entries("/proc/self/task"); }

int count_inheritable_fds(void) {
  int n = 0;
  for (int fd = 0; fd < 4096; fd++) {
    int flags = fcntl(fd, F_GETFD);
    if (flags >= 0 && !(flags & FD_CLOEXEC))
      n++;
  }
  return n;
}

bool test_under_wine(void) { return false; }

/* AddressSanitizer's allocator maps memory inside its own reserved range
 * whenever it likes (x86-64: 0x600000000000 to 0x640000000000), which would
 * make mapping counts noisy; its lines are not counted. */
static bool sanitizer_line(const char *line) {
#if defined(__x86_64__)
  unsigned long long lo = strtoull(line, NULL, 16);
  return test_under_asan() && lo >= 0x600000000000ull && lo < 0x640000000000ull;
#else
  (void)line;
  return false;
#endif
}

/* The C library's allocator, and AddressSanitizer's.
 *
 * musl's allocator (mallocng) maps a fresh private anonymous region for a
 * small allocation whenever its groups are empty, and unmaps it again as
 * soon as the last block in it is freed, so even a warmed-up open/close
 * changes the count. AddressSanitizer maps large blocks outside its
 * reserved range, and keeps them mapped in its quarantine after they are
 * freed (seen in the log's walk after a failed commit). Under a C library
 * other than glibc, and under AddressSanitizer, such lines (rw-p, no
 * inode, no name) are not counted: file maps and placement reservations
 * (---p) still are, and the glibc Release legs count private anonymous
 * memory too; the library's own blocks are counted by its allocation
 * table instead. */
static bool allocator_line(const char *line) {
#if defined(__linux__)
#if defined(__GLIBC__)
  if (!test_under_asan())
    return false;
#endif
  char perms[8] = "";
  unsigned long inode = 1;
  int name = -1;
  if (sscanf(line, "%*s %7s %*s %*s %lu %n", perms, &inode, &name) < 2)
    return false;
  return strcmp(perms, "rw-p") == 0 && inode == 0 &&
         (name < 0 || line[name] == '\0');
#else
  (void)line;
  return false;
#endif
}

/* Reads /proc/self/maps with read() into a stack buffer, so counting does
 * not allocate (an allocation could itself add a mapping). */
static int scan_maps(const char *needle) {
  int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    FAIL("open /proc/self/maps: %s", strerror(errno));
  char buf[8192];
  char line[4096 + 1];
  size_t len = 0;
  int lines = 0;
  ssize_t r;
  while ((r = read(fd, buf, sizeof buf)) > 0) {
    for (ssize_t i = 0; i < r; i++) {
      if (buf[i] != '\n') {
        if (len < sizeof line - 1)
          line[len++] = buf[i];
        continue;
      }
      line[len] = '\0';
      if (needle == NULL ? !sanitizer_line(line) && !allocator_line(line)
                         : strstr(line, needle) != NULL)
        lines++;
      len = 0;
    }
  }
  close(fd);
  return lines;
}

#if defined(TEST_ASAN)
/* AddressSanitizer's: releases the blocks waiting in its quarantine. (Not
 * a weak reference for other builds: Mach-O links no undefined weak
 * symbol without a library that has it.) */
void __sanitizer_purge_allocator(void);
#endif

int count_mappings(void) {
  /* AddressSanitizer keeps freed blocks in a quarantine before reusing
   * them, large ones still mapped, so a buffer the library freed would
   * count until the quarantine overflows. */
#if defined(TEST_ASAN)
  __sanitizer_purge_allocator();
#endif
  return scan_maps(NULL);
}

int count_mappings_of(const char *needle) { return scan_maps(needle); }

long proc_status_kb(const char *key) {
  char buf[16384];
  int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  size_t len = 0;
  ssize_t r;
  while (len < sizeof buf - 1 &&
         (r = read(fd, buf + len, sizeof buf - 1 - len)) > 0)
    len += (size_t)r;
  close(fd);
  buf[len] = '\0';
  size_t klen = strlen(key);
  for (char *p = buf; p != NULL && *p != '\0';) {
    if (strncmp(p, key, klen) == 0 && p[klen] == ':')
      return strtol(p + klen + 1, NULL, 10);
    p = strchr(p, '\n');
    if (p != NULL)
      p++;
  }
  return -1;
}

const char *test_proc_copied(const char *path) {
  static char why[256];
  struct stat st;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return NULL;
  int r = fstat(fd, &st);
  close(fd);
  if (r != 0 || !S_ISREG(st.st_mode) || st.st_size == 0)
    return NULL;
  snprintf(why, sizeof why,
           "%s opens as a regular file of %lld bytes here, a copy the "
           "emulator (qemu-user) wrote, not the kernel's size-0 file",
           path, (long long)st.st_size);
  return why;
}

/* Resident pages of the 16-page anonymous mapping at p. */
static int resident_pages(void *p) {
  unsigned char vec[16];
  int n = 0;
  if (mincore(p, 16 * test_page_size(), (void *)vec) != 0)
    return -1;
  for (int i = 0; i < 16; i++)
    n += vec[i] & 1;
  return n;
}

bool test_populate_ignored(void) {
#ifdef MAP_POPULATE
  size_t len = 16 * test_page_size();
  void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  if (p == MAP_FAILED)
    return false;
  int n = resident_pages(p);
  munmap(p, len);
  return n >= 0 && n < 16;
#else
  return false;
#endif
}

bool test_mincore_refuses_prot_none(void) {
  size_t len = 16 * test_page_size();
  void *p = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED)
    return false;
  bool refused = resident_pages(p) < 0 && errno == ENOMEM;
  munmap(p, len);
  return refused;
}

/* Runs fn in a child; its exit status, or 128 + the signal that ended it. */
static int probe_in_child(int (*fn)(void)) {
  int st;
  pid_t pid = fork();
  if (pid < 0)
    return -1;
  if (pid == 0)
    _exit(fn());
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* 1 when a 1 GiB RLIMIT_AS still lets a 2 GiB reservation through. */
static int reserve_past_rlimit_as(void) {
  struct rlimit rl = {(rlim_t)1 << 30, (rlim_t)1 << 30};
  if (setrlimit(RLIMIT_AS, &rl) != 0)
    return 2;
  return mmap(NULL, (size_t)1 << 31, PROT_NONE,
              MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0) != MAP_FAILED;
}

bool test_rlimit_as_ignored(void) {
  return probe_in_child(reserve_past_rlimit_as) == 1;
}

/* Reads a page its file no longer holds with every signal but SIGALRM
 * blocked: the kernel ends the process with SIGBUS; the alarm ends a
 * hang. */
static int fault_while_blocked(void) {
  size_t ps = test_page_size();
  sigset_t all;
  volatile unsigned char *p;
  int fd = open(test_path("blocked-fault-probe"), O_RDWR | O_CREAT, 0600);
  if (fd < 0 || ftruncate(fd, (off_t)(2 * ps)) != 0)
    return 2;
  p = mmap(NULL, 2 * ps, PROT_READ, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED || ftruncate(fd, 0) != 0)
    return 2;
  sigfillset(&all);
  sigdelset(&all, SIGALRM);
  pthread_sigmask(SIG_BLOCK, &all, NULL);
  alarm(3);
  return p[ps];
}

bool test_blocked_fault_hangs(void) {
  bool hangs = probe_in_child(fault_while_blocked) == 128 + SIGALRM;
  unlink(test_path("blocked-fault-probe"));
  return hangs;
}

/* ------------------------------------------------------------------------ */
/* Child processes                                                           */
/* ------------------------------------------------------------------------ */

/* The children started and not yet waited for, with the process that
 * started them (a forked child inherits the list but owns none of it). */
#define MAX_LIVE_CHILDREN 256
static struct { pid_t pid, parent; } live[MAX_LIVE_CHILDREN];

static void child_started(pid_t pid) {
  for (int i = 0; i < MAX_LIVE_CHILDREN; i++)
    if (live[i].pid == 0) {
      live[i].pid = pid;
      live[i].parent = getpid();
      return;
    }
}

static void child_ended(pid_t pid) {
  for (int i = 0; i < MAX_LIVE_CHILDREN; i++)
    if (live[i].pid == pid && live[i].parent == getpid())
      live[i].pid = 0;
}

void runner_os_end_children(void) {
  int st;
  for (int i = 0; i < MAX_LIVE_CHILDREN; i++) {
    if (live[i].pid == 0 || live[i].parent != getpid())
      continue;
    kill(live[i].pid, SIGKILL);
    while (waitpid(live[i].pid, &st, 0) < 0 && errno == EINTR) {
    }
    live[i].pid = 0;
  }
}

pid_t start_child(int (*fn)(void *arg), void *arg) {
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid < 0)
    FAIL("fork: %s", strerror(errno));
  if (pid == 0)
    _exit(fn(arg));
  child_started(pid);
  return pid;
}

int wait_child(pid_t pid) {
  int st;
  while (waitpid(pid, &st, 0) < 0) {
    if (errno != EINTR)
      FAIL("waitpid %ld: %s", (long)pid, strerror(errno));
  }
  child_ended(pid);
  return st;
}

int run_in_child(int (*fn)(void *arg), void *arg) {
  return wait_child(start_child(fn, arg));
}

typedef struct crashing {
  int (*fn)(void *arg);
  void *arg;
} crashing;

static int crash_here(void *p) {
  const crashing *c = p;
  /* AddressSanitizer reports a SIGSEGV and exits 1; the test wants the
   * signal. Without it the program's handlers stay, so a fault outside
   * any guard must still kill through them. */
  if (test_under_asan()) {
    signal(SIGSEGV, SIG_DFL);
    signal(SIGBUS, SIG_DFL);
  }
  return c->fn(c->arg);
}

int run_crashing_child(int (*fn)(void *arg), void *arg) {
  crashing c = {fn, arg};
  return run_in_child(crash_here, &c);
}

typedef struct spawning {
  test_child_fn fn;
  const char *name;
  const char *const *args;
} spawning;

static int spawn_here(void *p) {
  const spawning *s = p;
  char *argv[66];
  int argc = 0;
  argv[argc++] = (char *)s->name;
  for (int i = 0; s->args != NULL && s->args[i] != NULL && argc < 65; i++)
    argv[argc++] = (char *)s->args[i];
  argv[argc] = NULL;
  runner_end(s->fn(argc, argv));
}

test_proc test_spawn(const char *name, const char *const *args) {
  spawning s = {runner_find_child(name), name, args};
  if (s.fn == NULL)
    FAIL("test_spawn: no child named %s", name);
  (void)test_dir(); /* made here, so the child shares it */
  return (test_proc){(intptr_t)start_child(spawn_here, &s)};
}

int test_wait(test_proc p) {
  int st = wait_child((pid_t)p.id);
  if (WIFSIGNALED(st))
    FAIL("child died of signal %d (%s)", WTERMSIG(st), strsignal(WTERMSIG(st)));
  return WEXITSTATUS(st);
}

void test_kill(test_proc p) {
  int st;
  kill((pid_t)p.id, SIGKILL);
  while (waitpid((pid_t)p.id, &st, 0) < 0 && errno == EINTR) {
  }
  child_ended((pid_t)p.id);
}

/* ------------------------------------------------------------------------ */
/* Streams: FIFOs and pipes                                                  */
/* ------------------------------------------------------------------------ */

/* The writer: open the FIFO argv[1] (which waits for a reader) and write
 * argv[2] bytes of pat() into it. */
TEST_CHILD(fifo_writer) {
  ASSERT_EQ(argc, 3);
  const uint64_t n = strtoull(argv[2], NULL, 10);
  unsigned char buf[4096];
  int fd = open(argv[1], O_WRONLY);
  if (fd < 0)
    return 3;
  for (uint64_t off = 0; off < n;) {
    size_t k = n - off < sizeof buf ? (size_t)(n - off) : sizeof buf;
    fill_pat(buf, off, k);
    ssize_t r = write(fd, buf, k);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0)
      return errno == EPIPE ? 4 : 3;
    off += (uint64_t)r;
  }
  close(fd);
  return 0;
}

void test_fifo_start(test_fifo *f, const char *name, uint64_t n) {
  char count[32];
  snprintf(f->path, sizeof f->path, "%s", test_path(name));
  test_unlink(f->path);
  if (mkfifo(f->path, 0600) != 0)
    FAIL("mkfifo %s: %s", f->path, strerror(errno));
  snprintf(count, sizeof count, "%" PRIu64, n);
  const char *args[] = {f->path, count, NULL};
  f->writer = test_spawn("fifo_writer", args);
}

void test_pipe(int fds[2]) {
  if (pipe(fds) != 0)
    FAIL("pipe: %s", strerror(errno));
  fcntl(fds[0], F_SETFD, FD_CLOEXEC);
  fcntl(fds[1], F_SETFD, FD_CLOEXEC);
}

/* ------------------------------------------------------------------------ */
/* Threads                                                                   */
/* ------------------------------------------------------------------------ */

test_thread test_thread_start(void *(*fn)(void *arg), void *arg) {
  pthread_t t;
  int e = pthread_create(&t, NULL, fn, arg);
  if (e != 0)
    FAIL("pthread_create: %s", strerror(e));
  /* pthread_t is an integer or a pointer on every system the tests run. */
  return (test_thread){(intptr_t)t};
}

void test_thread_join(test_thread t) {
  int e = pthread_join((pthread_t)t.id, NULL);
  if (e != 0)
    FAIL("pthread_join: %s", strerror(e));
}
