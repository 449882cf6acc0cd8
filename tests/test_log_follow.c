/*
 * test_log_follow.c - a reader waiting for ever on a log that is removed
 * under it sleeps: its CPU time stays flat. A spinning process measured
 * the same way is the control that shows the measurement sees a spin.
 *
 * Linux only: CPU time of another process from /proc/PID/stat.
 */
#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef __linux__
#include <signal.h>
#include <unistd.h>
#endif

/* CPU ticks above which a process counts as busy over a second: a sleeper
 * gets 0 (a wake-up costs microseconds), a spinner on a shared machine at
 * least tens. */
#define BUSY_TICKS 3

#ifdef __linux__

TEST_CHILD(follower) {
  /* argv[1]: the log; argv[2]: a file to create once all records are
   * read, before the wait. */
  mmf_log *r = NULL;
  const void *rec;
  size_t len;
  uint64_t seq;
  int rc;
  (void)argc;
  if (mmf_log_open(&r, argv[1], MMF_READ, NULL) != 0)
    return 3;
  while ((rc = mmf_log_next(r, &rec, &len, &seq, 0)) == 0)
    ;
  if (rc != MMF_EAGAIN)
    return 4;
  FILE *f = fopen(argv[2], "w");
  if (!f)
    return 5;
  fclose(f);
  rc = mmf_log_next(r, &rec, &len, &seq, -1);
  (void)mmf_log_close(r);
  /* Returning is allowed (an error for the removed log); a record is
   * not: nothing was committed. */
  return rc == 0 ? 6 : 0;
}

TEST_CHILD(spinner) {
  volatile unsigned long n = 0;
  (void)argc;
  (void)argv;
  while (++n != 0) /* until killed: 2^64 increments take centuries */
    ;
  return 0;
}

/* utime + stime of process pid in clock ticks; -1 once it has ended. */
static long cpu_ticks(intptr_t pid) {
  char path[64], buf[1024];
  unsigned long ut = 0, st = 0;
  snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
  FILE *f = fopen(path, "r");
  if (!f)
    return -1;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  /* After the command name in parentheses: state (field 3) ... utime
   * (14), stime (15). */
  const char *p = strrchr(buf, ')');
  char state = 0;
  if (!p || sscanf(p + 2, "%c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
                   &state, &ut, &st) != 3)
    return -1;
  return state == 'Z' || state == 'X' ? -1 : (long)(ut + st);
}

/* Ticks pid used over one second; -1 when it ended meanwhile. */
static long ticks_over_a_second(intptr_t pid) {
  long t0 = cpu_ticks(pid), t1;
  if (t0 < 0)
    return -1;
  test_sleep_ms(1000);
  t1 = cpu_ticks(pid);
  return t1 < 0 ? -1 : t1 - t0;
}

#endif /* __linux__ */

TEST(waiting_reader_of_a_removed_log_sleeps) {
#ifndef __linux__
  SKIP("reads another process's CPU time from /proc/PID/stat (Linux)");
#else
  const char *dir = test_path("log"), *ready = test_path("ready");
  mmf_log_options o = MMF_LOG_OPTIONS_INIT;
  mmf_log *w = NULL;
  o.segment_size = (uint64_t)64 << 10;
  o.flags = MMF_CREATE;
  ASSERT_OK(mmf_log_open(&w, dir, MMF_WRITE, &o));
  for (int i = 0; i < 100; i++)
    ASSERT_OK(mmf_log_append(w, "record", 6, NULL));
  ASSERT_OK(mmf_log_commit(w, MMF_FLUSH_ASYNC));
  ASSERT_OK(mmf_log_close(w));

  const char *args[] = {dir, ready, NULL};
  test_proc p = test_spawn("follower", args);
  for (int i = 0; i < 100 && !test_exists(ready); i++)
    test_sleep_ms(50);
  ASSERT_TRUE(test_exists(ready));
  test_sleep_ms(200); /* into its wait */
  char cmd[1100];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  ASSERT_EQ(system(cmd), 0);
  test_sleep_ms(100);
  long follower = ticks_over_a_second(p.id);
  if (follower < 0) {
    ASSERT_EQ(test_wait(p), 0); /* it ended, with no record */
    test_note("the reader ended when its log was removed");
  } else {
    test_kill(p);
    test_note("the reader of the removed log used %ld ticks in 1 s", follower);
    ASSERT_LT(follower, BUSY_TICKS);
  }

  /* The control: a spinning process, measured the same way. */
  test_proc s = test_spawn("spinner", NULL);
  test_sleep_ms(100);
  long spinner = ticks_over_a_second(s.id);
  test_kill(s);
  test_note("a spinning process used %ld ticks in 1 s", spinner);
  ASSERT_GE(spinner, BUSY_TICKS);
#endif
}
