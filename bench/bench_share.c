/*
 * bench_share.c - what sharing between processes costs, each against the
 * raw primitive it wraps, in the same run.
 *
 *   bench_share [--runs N] mutex | pingpong | filelock | death | all
 *
 *  mutex     uncontended mmf_mutex_lock + mmf_mutex_unlock in a shared
 *            file map, against a glibc robust process-shared pthread
 *            mutex and a plain process-shared one in the same map (ns per
 *            pair). Goal: <= 50 ns. (bench_mutex_boost adds
 *            Boost.Interprocess.)
 *  pingpong  two processes bounce a counter through a word of a shared
 *            map: mmf_wait / mmf_wake, raw futex calls (FUTEX_WAIT /
 *            FUTEX_WAKE, not private), and a pipe pair (round trip
 *            median and p99). Goal: mmf within 1.2x of futex, faster than
 *            pipes.
 *  filelock  mmf_lock_file + mmf_unlock_file of 100 bytes against raw OFD
 *            locks (F_OFD_SETLK) and classic fcntl locks. Goal: <= 1.1x
 *            OFD.
 *  death     a holder killed with SIGKILL while another process is blocked
 *            in mmf_mutex_lock: kill to MMF_EOWNERDEAD, median and worst
 *            (the dead holder is not reaped meanwhile); and a lock taken
 *            after the kill. Goal: worst <= 50 ms.
 *
 * Runs are interleaved (each round runs every method once, in rotating
 * order) so that drift in a shared machine hits all alike; tables show
 * medians over --runs rounds (default 7). Run it under
 * flock /tmp/mmf-bench.lock, on a quiet machine.
 */
#define _GNU_SOURCE 1

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The kernel's futex operations, written out: musl's toolchain has no
 * kernel headers (<linux/futex.h>). */
#ifndef FUTEX_WAIT
#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#endif

#include "mmf.h"

#define MAX_RUNS 101

static int runs = 7;

static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void die(const char *what, int rc) {
  fprintf(stderr, "bench_share: %s: %s\n", what,
          rc < 0 ? mmf_strerror(rc) : strerror(rc));
  exit(1);
}

/* A shared file map of 1 MiB in $MMF_BENCH_DIR (default /tmp). */
static mmf_map *shared_map(const char *tag, char *path, size_t cap) {
  const char *dir = getenv("MMF_BENCH_DIR");
  mmf_map *m = NULL;
  snprintf(path, cap, "%s/mmf-bench-share-%s-%d", dir ? dir : "/tmp", tag,
           (int)getpid());
  int rc = mmf_open(
      &m, path, MMF_WRITE,
      &(mmf_options){.size = 1 << 20, .flags = MMF_CREATE | MMF_TRUNCATE});
  if (rc)
    die(path, rc);
  return m;
}

/* ------------------------------------------------------------------------ */
/* Uncontended mutex                                                         */
/* ------------------------------------------------------------------------ */

#define MUTEX_OPS 5000000

static double time_mmf_mutex(mmf_map *m) {
  double t0 = now_ns();
  for (int i = 0; i < MUTEX_OPS; i++) {
    if (mmf_mutex_lock(m, 0, -1) != 0 || mmf_mutex_unlock(m, 0) != 0)
      die("mmf mutex", EINVAL);
  }
  return (now_ns() - t0) / MUTEX_OPS;
}

static double time_pthread(pthread_mutex_t *mu) {
  double t0 = now_ns();
  for (int i = 0; i < MUTEX_OPS; i++) {
    pthread_mutex_lock(mu);
    pthread_mutex_unlock(mu);
  }
  return (now_ns() - t0) / MUTEX_OPS;
}

static void bench_mutex(void) {
  char path[512];
  mmf_map *m = shared_map("mutex", path, sizeof path);
  unsigned char *p = mmf_data(m);
  pthread_mutex_t *robust = (pthread_mutex_t *)(p + 4096);
  pthread_mutex_t *plain = (pthread_mutex_t *)(p + 8192);
  pthread_mutexattr_t a;
  pthread_mutexattr_init(&a);
  pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
  pthread_mutex_init(plain, &a);
  pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
  pthread_mutex_init(robust, &a);
  double t[3][MAX_RUNS];
  for (int r = 0; r < runs; r++)
    for (int k = 0; k < 3; k++) {
      int which = (k + r) % 3;
      t[which][r] = which == 0   ? time_mmf_mutex(m)
                    : which == 1 ? time_pthread(robust)
                                 : time_pthread(plain);
    }
  double mmf = median(t[0], runs), rob = median(t[1], runs),
         pl = median(t[2], runs);
  printf("\n### Uncontended lock + unlock (ns per pair, median of %d runs of "
         "%d)\n\n",
         runs, MUTEX_OPS);
  printf("| mutex | ns | vs robust pthread |\n|---|---|---|\n");
  printf("| mmf_mutex_lock + unlock | %.1f | %.2fx |\n", mmf, mmf / rob);
  printf("| glibc robust process-shared pthread mutex | %.1f | 1.00x |\n", rob);
  printf("| glibc process-shared pthread mutex | %.1f | %.2fx |\n", pl,
         pl / rob);
  printf("R mutex mmf %.2f\nR mutex robust %.2f\nR mutex plain %.2f\n", mmf,
         rob, pl);
  mmf_close(m);
  unlink(path);
}

/* ------------------------------------------------------------------------ */
/* Ping-pong between two processes                                           */
/* ------------------------------------------------------------------------ */

#define TRIPS 20000

enum { PP_MMF, PP_FUTEX, PP_PIPE, PP_N };
static const char *const pp_names[PP_N] = {"mmf_wait / mmf_wake",
                                           "raw futex (shared)", "pipe"};

static long futex(_Atomic uint32_t *w, int op, uint32_t v) {
  return syscall(SYS_futex, (uint32_t *)w, op, v, NULL, NULL, 0);
}

/* Word 0: the ball, odd when it is the child's turn, even for the
 * parent's. Each side waits for its parity, then passes it on. */
static void pp_side(int how, mmf_map *m, int rfd, int wfd, int child,
                    double *lat) {
  _Atomic uint32_t *ball = mmf_data(m);
  char c = 0;
  for (uint32_t i = 0; i < TRIPS; i++) {
    uint32_t mine = 2 * i + (child ? 1 : 0);
    double t0 = child ? 0 : now_ns();
    if (!child) {
      /* Serve: pass the ball, wait for it back. */
      if (how == PP_PIPE) {
        if (write(wfd, &c, 1) != 1 || read(rfd, &c, 1) != 1)
          die("pipe", errno);
      } else {
        atomic_store(ball, mine + 1);
        if (how == PP_MMF)
          mmf_wake(m, 0, 1);
        else
          futex(ball, FUTEX_WAKE, 1);
        uint32_t v;
        while ((v = atomic_load(ball)) != mine + 2) {
          if (how == PP_MMF)
            mmf_wait(m, 0, v, -1);
          else
            futex(ball, FUTEX_WAIT, v);
        }
      }
      lat[i] = now_ns() - t0;
    } else {
      if (how == PP_PIPE) {
        if (read(rfd, &c, 1) != 1 || write(wfd, &c, 1) != 1)
          die("pipe", errno);
      } else {
        uint32_t v;
        while ((v = atomic_load(ball)) != mine) {
          if (how == PP_MMF)
            mmf_wait(m, 0, v, -1);
          else
            futex(ball, FUTEX_WAIT, v);
        }
        atomic_store(ball, mine + 1);
        if (how == PP_MMF)
          mmf_wake(m, 0, 1);
        else
          futex(ball, FUTEX_WAKE, 1);
      }
    }
  }
}

/* One run of TRIPS round trips: median and p99 in *med, *p99 (µs). */
static void pp_run(int how, double *med, double *p99) {
  static double lat[TRIPS];
  char path[512];
  int to_child[2], to_parent[2];
  mmf_map *m = shared_map("pingpong", path, sizeof path);
  if (pipe(to_child) || pipe(to_parent))
    die("pipe", errno);
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    pp_side(how, m, to_child[0], to_parent[1], 1, NULL);
    _exit(0);
  }
  pp_side(how, m, to_parent[0], to_child[1], 0, lat);
  waitpid(pid, NULL, 0);
  close(to_child[0]);
  close(to_child[1]);
  close(to_parent[0]);
  close(to_parent[1]);
  mmf_close(m);
  unlink(path);
  qsort(lat, TRIPS, sizeof lat[0], cmp_double);
  *med = lat[TRIPS / 2] / 1e3;
  *p99 = lat[TRIPS * 99 / 100] / 1e3;
}

static void bench_pingpong(void) {
  double med[PP_N][MAX_RUNS], p99[PP_N][MAX_RUNS];
  for (int r = 0; r < runs; r++)
    for (int k = 0; k < PP_N; k++) {
      int h = (k + r) % PP_N;
      pp_run(h, &med[h][r], &p99[h][r]);
    }
  double m[PP_N], p[PP_N];
  for (int h = 0; h < PP_N; h++) {
    m[h] = median(med[h], runs);
    p[h] = median(p99[h], runs);
  }
  printf("\n### Cross-process ping-pong (round trip, µs; medians of %d runs "
         "of %d trips)\n\n",
         runs, TRIPS);
  printf("| method | median | p99 | median vs futex |\n|---|---|---|---|\n");
  for (int h = 0; h < PP_N; h++)
    printf("| %s | %.2f | %.2f | %.2fx |\n", pp_names[h], m[h], p[h],
           m[h] / m[PP_FUTEX]);
  printf("R pingpong mmf %.3f %.3f\nR pingpong futex %.3f %.3f\nR pingpong "
         "pipe %.3f %.3f\n",
         m[0], p[0], m[1], p[1], m[2], p[2]);
}

/* ------------------------------------------------------------------------ */
/* File locks                                                                */
/* ------------------------------------------------------------------------ */

#define LOCK_OPS 200000

static double time_mmf_lock(mmf_map *m) {
  double t0 = now_ns();
  for (int i = 0; i < LOCK_OPS; i++)
    if (mmf_lock_file(m, 0, 100, MMF_LOCK_EXCLUSIVE) ||
        mmf_unlock_file(m, 0, 100))
      die("mmf_lock_file", EINVAL);
  return (now_ns() - t0) / LOCK_OPS;
}

static double time_fcntl(int fd, int set) {
  struct flock fl;
  memset(&fl, 0, sizeof fl);
  fl.l_whence = SEEK_SET;
  fl.l_len = 100;
  double t0 = now_ns();
  for (int i = 0; i < LOCK_OPS; i++) {
    fl.l_type = F_WRLCK;
    if (fcntl(fd, set, &fl) != 0)
      die("fcntl", errno);
    fl.l_type = F_UNLCK;
    if (fcntl(fd, set, &fl) != 0)
      die("fcntl", errno);
  }
  return (now_ns() - t0) / LOCK_OPS;
}

static void bench_filelock(void) {
  char path[512];
  mmf_map *m = shared_map("lock", path, sizeof path);
  int fd = open(path, O_RDWR);
  double t[3][MAX_RUNS];
  for (int r = 0; r < runs; r++)
    for (int k = 0; k < 3; k++) {
      int h = (k + r) % 3;
      t[h][r] = h == 0   ? time_mmf_lock(m)
                : h == 1 ? time_fcntl(fd, F_OFD_SETLK)
                         : time_fcntl(fd, F_SETLK);
    }
  double a = median(t[0], runs), b = median(t[1], runs), c = median(t[2], runs);
  printf("\n### File lock + unlock of 100 bytes (ns per pair, median of %d "
         "runs of %d)\n\n",
         runs, LOCK_OPS);
  printf("| lock | ns | vs raw OFD |\n|---|---|---|\n");
  printf("| mmf_lock_file + mmf_unlock_file | %.0f | %.2fx |\n", a, a / b);
  printf("| raw OFD lock (F_OFD_SETLK) | %.0f | 1.00x |\n", b);
  printf("| classic fcntl lock (F_SETLK) | %.0f | %.2fx |\n", c, c / b);
  printf("R filelock mmf %.1f\nR filelock ofd %.1f\nR filelock posix %.1f\n", a,
         b, c);
  close(fd);
  mmf_close(m);
  unlink(path);
}

/* ------------------------------------------------------------------------ */
/* Owner death                                                               */
/* ------------------------------------------------------------------------ */

#define DEATHS 50

typedef struct blocked {
  mmf_map *m;
  _Atomic int started;
  double returned;
  int rc;
} blocked;

static void *lock_blocked(void *arg) {
  blocked *b = arg;
  atomic_store(&b->started, 1);
  b->rc = mmf_mutex_lock(b->m, 0, 30 * (int64_t)1000000000);
  b->returned = now_ns();
  if (b->rc == MMF_EOWNERDEAD) {
    mmf_mutex_consistent(b->m, 0);
    mmf_mutex_unlock(b->m, 0);
  }
  return NULL;
}

static void bench_death(void) {
  double blocked_ms[DEATHS], after_ms[DEATHS];
  uint32_t seed = 1;
  for (int i = 0; i < DEATHS; i++) {
    for (int after = 0; after < 2; after++) {
      char path[512];
      mmf_map *m = shared_map("death", path, sizeof path);
      _Atomic uint32_t *held = (_Atomic uint32_t *)((char *)mmf_data(m) + 64);
      fflush(stdout);
      pid_t pid = fork();
      if (pid == 0) {
        mmf_mutex_lock(m, 0, -1);
        atomic_store(held, 1);
        for (;;)
          pause();
      }
      while (!atomic_load(held))
        usleep(100);
      blocked b = {m, 0, 0, 0};
      pthread_t th;
      if (!after) {
        pthread_create(&th, NULL, lock_blocked, &b);
        while (!atomic_load(&b.started))
          usleep(100);
      }
      seed = seed * 1103515245u + 12345u;
      usleep(1000 * ((seed >> 8) % 40)); /* 0-39 ms into the wait */
      double killed = now_ns();
      kill(pid, SIGKILL);
      if (after) {
        waitpid(pid, NULL, 0); /* reaped: the usual case of a next lock */
        lock_blocked(&b);
      } else {
        pthread_join(th, NULL);
        waitpid(pid, NULL, 0);
      }
      if (b.rc != MMF_EOWNERDEAD)
        die("death: not EOWNERDEAD", b.rc);
      (after ? after_ms : blocked_ms)[i] = (b.returned - killed) / 1e6;
      mmf_close(m);
      unlink(path);
    }
  }
  qsort(blocked_ms, DEATHS, sizeof(double), cmp_double);
  qsort(after_ms, DEATHS, sizeof(double), cmp_double);
  printf("\n### Owner death: SIGKILL to MMF_EOWNERDEAD (ms, %d kills each)\n\n",
         DEATHS);
  printf("| locker | median | worst |\n|---|---|---|\n");
  printf("| blocked in mmf_mutex_lock when the holder dies (zombie until "
         "after) | %.2f | %.2f |\n",
         blocked_ms[DEATHS / 2], blocked_ms[DEATHS - 1]);
  printf("| locks after the holder was reaped | %.2f | %.2f |\n",
         after_ms[DEATHS / 2], after_ms[DEATHS - 1]);
  printf("R death blocked %.3f %.3f\nR death after %.3f %.3f\n",
         blocked_ms[DEATHS / 2], blocked_ms[DEATHS - 1], after_ms[DEATHS / 2],
         after_ms[DEATHS - 1]);
}

int main(int argc, char **argv) {
  int i = 1;
  if (argc > 2 && strcmp(argv[1], "--runs") == 0) {
    runs = atoi(argv[2]);
    i = 3;
  }
  if (runs < 1 || runs > MAX_RUNS || i >= argc) {
    fprintf(stderr, "usage: bench_share [--runs N] mutex | pingpong | "
                    "filelock | death | all\n");
    return 2;
  }
  const char *what = argv[i];
  int all = strcmp(what, "all") == 0;
  if (all || strcmp(what, "mutex") == 0)
    bench_mutex();
  if (all || strcmp(what, "pingpong") == 0)
    bench_pingpong();
  if (all || strcmp(what, "filelock") == 0)
    bench_filelock();
  if (all || strcmp(what, "death") == 0)
    bench_death();
  return 0;
}
