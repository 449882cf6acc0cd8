/*
 * example_proc.h - starting a second copy of an example as a worker
 * process, for the examples that share memory between processes
 * (shared_dict, ipc_flag, counter, toggle).
 *
 *  - ex_spawn(): run this program again with other arguments; returns 0
 *    and the process in *p, or -1 after printing why.
 *  - ex_wait(): wait for it; its exit status, or -1.
 *  - ex_now_ms(), ex_sleep_ms(): a monotonic clock and a sleep.
 *  - ex_cpu_ms(): CPU time this process has used.
 *
 * POSIX: posix_spawn() and waitpid(). Windows: _spawnv() and _cwait()
 * (arguments with spaces are quoted, as the C runtime does not).
 */
#ifndef MMF_EXAMPLE_PROC_H
#define MMF_EXAMPLE_PROC_H

#ifndef _WIN32
#define _POSIX_C_SOURCE 200809L
#endif

#include "example_util.h"

#ifdef _WIN32
#define WIN32_LEAN_AND_MEAN
#include <process.h>
#include <windows.h>
#else
#include <spawn.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
extern char **environ;
#endif

typedef struct ex_proc {
  intptr_t id;
} ex_proc;

/* Run self (argv[0]) with args (NULL-terminated). */
static inline int ex_spawn(const char *self, const char *const *args,
                           ex_proc *p) {
  const char *argv[16];
  int n = 0;
  argv[n++] = self;
  while (*args && n < 15)
    argv[n++] = *args++;
  argv[n] = NULL;
  fflush(stdout);
  fflush(stderr);
#ifdef _WIN32
  char quoted[16][512];
  for (int i = 0; i < n; i++) {
    if (strchr(argv[i], ' ') && strlen(argv[i]) + 3 <= sizeof quoted[i]) {
      snprintf(quoted[i], sizeof quoted[i], "\"%s\"", argv[i]);
      argv[i] = quoted[i];
    }
  }
  intptr_t h = _spawnv(_P_NOWAIT, self, argv);
  if (h == -1) {
    perror("error: _spawnv");
    return -1;
  }
  p->id = h;
#else
  pid_t pid;
  int e = posix_spawn(&pid, self, NULL, NULL, (char *const *)argv, environ);
  if (e != 0) {
    fprintf(stderr, "error: posix_spawn %s: %s\n", self, strerror(e));
    return -1;
  }
  p->id = pid;
#endif
  return 0;
}

static inline int ex_wait(ex_proc p) {
#ifdef _WIN32
  int status = 0;
  if (_cwait(&status, p.id, 0) == -1)
    return -1;
  return status;
#else
  int status = 0;
  if (waitpid((pid_t)p.id, &status, 0) < 0 || !WIFEXITED(status))
    return -1;
  return WEXITSTATUS(status);
#endif
}

static inline double ex_now_ms(void) {
#ifdef _WIN32
  LARGE_INTEGER f, c;
  QueryPerformanceFrequency(&f);
  QueryPerformanceCounter(&c);
  return (double)c.QuadPart * 1000.0 / (double)f.QuadPart;
#else
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
#endif
}

static inline void ex_sleep_ms(unsigned ms) {
#ifdef _WIN32
  Sleep(ms);
#else
  struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
#endif
}

static inline double ex_cpu_ms(void) {
#ifdef _WIN32
  FILETIME c, e, k, u;
  if (!GetProcessTimes(GetCurrentProcess(), &c, &e, &k, &u))
    return 0;
  ULARGE_INTEGER kk, uu;
  kk.LowPart = k.dwLowDateTime;
  kk.HighPart = k.dwHighDateTime;
  uu.LowPart = u.dwLowDateTime;
  uu.HighPart = u.dwHighDateTime;
  return (double)(kk.QuadPart + uu.QuadPart) / 1e4;
#else
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) != 0)
    return 0;
  return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000.0 +
         (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000.0;
#endif
}

#endif /* MMF_EXAMPLE_PROC_H */
