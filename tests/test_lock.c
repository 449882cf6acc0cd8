/*
 * test_lock.c - byte-range file locks: no update lost between two
 * processes (and the negative control without the lock), MMF_LOCK_NOWAIT,
 * shared and exclusive, locks owned by the map handle (two maps of one
 * process exclude each other; an unrelated open()/close() of the file
 * does not drop them, where a classic fcntl lock, the negative control,
 * is dropped), released by close and by kill -9, the whole-file fallback
 * of systems without OFD locks, and the argument checks. Children are
 * TEST_CHILDs, so all but the POSIX-only controls run under Wine.
 */
#include "share_helpers.h"

#include <fcntl.h>

#ifdef _WIN32
#include <io.h>
#else
#include <unistd.h>

#include "os/posix/sys_posix.h"
#endif

#define FSIZE 8192
#define COUNTER SH_COUNTER
#define GO SH_GO
#define READY SH_READY
#define RELEASE 200

#define SEC ((int64_t)1000000000)

#ifdef _WIN32
#define ROUNDS 20000
#else
#define ROUNDS 1000000
#endif
/* The control without a lock is cheap: as many rounds everywhere. */
#define CONTROL_ROUNDS 1000000

static mmf_map *map_rw(const char *path) { return sh_map_rw(path, FSIZE); }

static void wait_for(mmf_map *m, uint64_t off, uint32_t n) {
  sh_wait_for(m, off, n);
}

/* Systems without OFD locks lock the whole file with flock(). */
static void use_flock(void) {
#ifdef _WIN32
  SKIP("the flock() fallback is the POSIX backend's");
#else
  mmf__sys.fcntl_lock = NULL;
#endif
}

/*
 * Child: argv[1] path, argv[2] what:
 *   "add N"     wait for GO, then N times: lock [0, 4096) exclusively,
 *               COUNTER += 1 by a plain read and write, unlock;
 *   "none N"    the same without the lock;
 *   "hold M O L" lock [O, O+L) with mode M ("s" shared, "x" exclusive;
 *               "S"/"X": and use the flock fallback), raise READY, hold
 *               until RELEASE, exit 0;
 *   "try M O L" try [O, O+L) with mode M and MMF_LOCK_NOWAIT: exit 0 when
 *               locked, 16 when MMF_EBUSY, 20 on another error.
 */
static int mode_of(const char *m) {
  if (m[0] == 'S' || m[0] == 'X')
    use_flock();
  return m[0] == 's' || m[0] == 'S' ? MMF_LOCK_SHARED : MMF_LOCK_EXCLUSIVE;
}

TEST_CHILD(file_locker) {
  ASSERT_GE(argc, 3);
  mmf_map *m = map_rw(argv[1]);
  const char *what = argv[2];
  if (strcmp(what, "add") == 0 || strcmp(what, "none") == 0) {
    const long n = strtol(argv[3], NULL, 10);
    const bool lock = what[0] == 'a';
    volatile uint64_t *counter =
        (volatile uint64_t *)((unsigned char *)mmf_data(m) + COUNTER);
    atomic_fetch_add(sh_word(m, READY), 1);
    while (atomic_load(sh_word(m, GO)) == 0) {
    }
    for (long i = 0; i < n; i++) {
      if (lock)
        ASSERT_OK(mmf_lock_file(m, 0, 4096, MMF_LOCK_EXCLUSIVE));
      sh_slow_increment(counter);
      if (lock)
        ASSERT_OK(mmf_unlock_file(m, 0, 4096));
    }
    return 0;
  }
  ASSERT_EQ(argc, 6);
  const int mode = mode_of(argv[3]);
  const uint64_t off = strtoull(argv[4], NULL, 10);
  const uint64_t len = strtoull(argv[5], NULL, 10);
  if (strcmp(what, "hold") == 0) {
    ASSERT_OK(mmf_lock_file(m, off, len, mode));
    atomic_fetch_add(sh_word(m, READY), 1);
    while (atomic_load(sh_word(m, RELEASE)) == 0)
      test_sleep_ms(1);
    return 0;
  }
  if (strcmp(what, "try") == 0) {
    int rc = mmf_lock_file(m, off, len, mode | MMF_LOCK_NOWAIT);
    if (rc == MMF_EBUSY)
      return 16;
    if (rc != 0) {
      fprintf(stderr, "try: %s\n", mmf_errname(rc));
      return 20;
    }
    return 0;
  }
  FAIL("file_locker: unknown %s", what);
}

static test_proc hold(const char *path, const char *mode, uint64_t off,
                      uint64_t len) {
  return test_spawn(
      "file_locker",
      (const char *[]){path, "hold", mode, sh_num(off), sh_num(len), NULL});
}

static int try_elsewhere(const char *path, const char *mode, uint64_t off,
                         uint64_t len) {
  return test_run_child("file_locker", path, "try", mode, sh_num(off),
                        sh_num(len), NULL);
}

/* ------------------------------------------------------------------------ */
/* No lost updates                                                           */
/* ------------------------------------------------------------------------ */

/* With the negative control in the same run: without the lock the same
 * children lose updates. */
TEST(two_processes_lose_no_update_under_file_lock) {
  ASSERT_EQ_U(sh_two_adders("file_locker", test_path("f"), "add", ROUNDS),
              2 * (uint64_t)ROUNDS);
  sh_expect_lost_updates("file_locker", test_path("f"), CONTROL_ROUNDS);
}

/* ------------------------------------------------------------------------ */
/* Modes                                                                     */
/* ------------------------------------------------------------------------ */

TEST(nowait_is_ebusy_while_held_elsewhere) {
  if (!sh_range_locks())
    SKIP(SH_NO_RANGES);
  const char *path = test_path("f");
  mmf_map *m = map_rw(path);
  test_proc p = hold(path, "x", 0, 100);
  wait_for(m, READY, 1);
  ASSERT_ERR(mmf_lock_file(m, 0, 100, MMF_LOCK_EXCLUSIVE | MMF_LOCK_NOWAIT),
             MMF_EBUSY);
  ASSERT_ERR(mmf_lock_file(m, 50, 1, MMF_LOCK_SHARED | MMF_LOCK_NOWAIT),
             MMF_EBUSY);
  /* Outside the held range. */
  ASSERT_OK(mmf_lock_file(m, 100, 100, MMF_LOCK_EXCLUSIVE | MMF_LOCK_NOWAIT));
  ASSERT_OK(mmf_unlock_file(m, 100, 100));
  atomic_store(sh_word(m, RELEASE), 1);
  ASSERT_EQ(test_wait(p), 0);
  /* Its process ended: the lock went with it. */
  ASSERT_OK(mmf_lock_file(m, 0, 100, MMF_LOCK_EXCLUSIVE));
  ASSERT_OK(mmf_unlock_file(m, 0, 100));
  ASSERT_OK(mmf_close(m));
}

TEST(shared_locks_coexist_exclusive_waits) {
  const char *path = test_path("f");
  mmf_map *m = map_rw(path);
  test_proc p = hold(path, "s", 0, 4096);
  wait_for(m, READY, 1);
  ASSERT_OK(mmf_lock_file(m, 0, 4096, MMF_LOCK_SHARED | MMF_LOCK_NOWAIT));
  ASSERT_EQ(try_elsewhere(path, "s", 0, 4096), 0);
  ASSERT_EQ(try_elsewhere(path, "x", 0, 4096), 16);
  ASSERT_OK(mmf_unlock_file(m, 0, 4096));
  ASSERT_ERR(mmf_lock_file(m, 0, 4096, MMF_LOCK_EXCLUSIVE | MMF_LOCK_NOWAIT),
             MMF_EBUSY);
  atomic_store(sh_word(m, RELEASE), 1);
  ASSERT_EQ(test_wait(p), 0);
  /* A blocking exclusive lock gets it once the holder is gone. */
  ASSERT_OK(mmf_lock_file(m, 0, 4096, MMF_LOCK_EXCLUSIVE));
  ASSERT_EQ(try_elsewhere(path, "s", 0, 1), 16);
  ASSERT_OK(mmf_unlock_file(m, 0, 4096));
  ASSERT_OK(mmf_close(m));
}

/* The lock belongs to the map: a second map of the file in the same
 * process is another owner. */
TEST(two_maps_in_one_process_exclude_each_other) {
  const char *path = test_path("f");
  mmf_map *a = map_rw(path), *b = map_rw(path);
  ASSERT_OK(mmf_lock_file(a, 0, 10, MMF_LOCK_EXCLUSIVE));
  ASSERT_ERR(mmf_lock_file(b, 0, 10, MMF_LOCK_EXCLUSIVE | MMF_LOCK_NOWAIT),
             MMF_EBUSY);
  ASSERT_ERR(mmf_lock_file(b, 5, 1, MMF_LOCK_SHARED | MMF_LOCK_NOWAIT),
             MMF_EBUSY);
  ASSERT_OK(mmf_unlock_file(a, 0, 10));
  ASSERT_OK(mmf_lock_file(b, 0, 10, MMF_LOCK_EXCLUSIVE | MMF_LOCK_NOWAIT));
  /* Closing a map releases its locks. */
  ASSERT_OK(mmf_close(b));
  int64_t t0 = sh_now_ns();
  int rc;
  /* Windows releases a closed handle's locks "when resources allow". */
  while ((rc = mmf_lock_file(a, 0, 10, MMF_LOCK_EXCLUSIVE | MMF_LOCK_NOWAIT)) ==
             MMF_EBUSY &&
         sh_now_ns() - t0 < 5 * SEC)
    test_sleep_ms(1);
  ASSERT_OK(rc);
  ASSERT_OK(mmf_close(a));
}

/* Offsets are file offsets: maps at different offsets lock the same
 * bytes. */
TEST(ranges_are_file_ranges) {
  if (!sh_range_locks())
    SKIP(SH_NO_RANGES);
  const char *path = test_path("f");
  mmf_map *a = map_rw(path), *b = NULL;
  ASSERT_OK(mmf_open(&b, path, MMF_WRITE,
                     &(mmf_options){.offset = 1000, .length = 1000}));
  ASSERT_OK(mmf_lock_file(a, 1500, 1, MMF_LOCK_EXCLUSIVE));
  ASSERT_ERR(mmf_lock_file(b, 500, 1, MMF_LOCK_SHARED | MMF_LOCK_NOWAIT),
             MMF_EBUSY);
  ASSERT_OK(mmf_lock_file(b, 501, 0, MMF_LOCK_SHARED | MMF_LOCK_NOWAIT));
  ASSERT_OK(mmf_unlock_file(b, 501, 0));
  ASSERT_OK(mmf_unlock_file(a, 1500, 1));
  ASSERT_OK(mmf_close(a));
  ASSERT_OK(mmf_close(b));
}

/* ------------------------------------------------------------------------ */
/* Owned by the handle                                                       */
/* ------------------------------------------------------------------------ */

/* An unrelated open() and close() of the same file in the process leaves
 * the map's lock in place. The negative control, in the same run: a
 * classic fcntl lock, owned by the process, is dropped by the same
 * close() (POSIX; Windows has no such lock). */
TEST(lock_survives_unrelated_close) {
  const char *path = test_path("f");
  mmf_map *m = map_rw(path);
  ASSERT_OK(mmf_lock_file(m, 0, 100, MMF_LOCK_EXCLUSIVE));
  int fd = test_open(path, O_RDWR);
  ASSERT_GE(fd, 0);
  close(fd);
  ASSERT_EQ(try_elsewhere(path, "x", 0, 100), 16);
  ASSERT_OK(mmf_unlock_file(m, 0, 100));
  ASSERT_EQ(try_elsewhere(path, "x", 0, 100), 0);
#ifndef _WIN32
  int held = test_open(path, O_RDWR);
  ASSERT_GE(held, 0);
  struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_len = 100};
  ASSERT_EQ(fcntl(held, F_SETLK, &fl), 0);
  ASSERT_EQ(try_elsewhere(path, "x", 0, 100), 16);
  fd = test_open(path, O_RDONLY);
  close(fd);
  /* The lock is gone although `held` is still open. */
  ASSERT_EQ(try_elsewhere(path, "x", 0, 100), 0);
  close(held);
#endif
  ASSERT_OK(mmf_close(m));
}

/* kill -9 of the holder releases the lock. */
TEST(killed_holder_releases_lock) {
  const char *path = test_path("f");
  mmf_map *m = map_rw(path);
  test_proc p = hold(path, "x", 0, 4096);
  wait_for(m, READY, 1);
  ASSERT_ERR(mmf_lock_file(m, 0, 4096, MMF_LOCK_EXCLUSIVE | MMF_LOCK_NOWAIT),
             MMF_EBUSY);
  test_kill(p);
  int64_t t0 = sh_now_ns();
  int rc;
  while ((rc = mmf_lock_file(
              m, 0, 4096, MMF_LOCK_EXCLUSIVE | MMF_LOCK_NOWAIT)) == MMF_EBUSY &&
         sh_now_ns() - t0 < 5 * SEC)
    test_sleep_ms(1);
  ASSERT_OK(rc);
  test_note("released %.2f ms after the kill", (sh_now_ns() - t0) / 1e6);
  ASSERT_OK(mmf_unlock_file(m, 0, 4096));
  ASSERT_OK(mmf_close(m));
}

/* Where OFD locks are missing, flock() locks the whole file: any range
 * conflicts with any other. */
TEST(flock_fallback_locks_whole_file) {
  use_flock();
  const char *path = test_path("f");
  mmf_map *m = map_rw(path);
  test_proc p = hold(path, "X", 0, 10);
  wait_for(m, READY, 1);
  ASSERT_ERR(mmf_lock_file(m, 4000, 10, MMF_LOCK_SHARED | MMF_LOCK_NOWAIT),
             MMF_EBUSY);
  ASSERT_EQ(try_elsewhere(path, "S", 5000, 1), 16);
  atomic_store(sh_word(m, RELEASE), 1);
  ASSERT_EQ(test_wait(p), 0);
  ASSERT_OK(mmf_lock_file(m, 4000, 10, MMF_LOCK_EXCLUSIVE));
  /* Still owned by the map: survives an unrelated close. */
  close(test_open(path, O_RDONLY));
  ASSERT_EQ(try_elsewhere(path, "S", 0, 1), 16);
  ASSERT_OK(mmf_unlock_file(m, 4000, 10));
  ASSERT_EQ(try_elsewhere(path, "S", 0, 1), 0);
  ASSERT_OK(mmf_close(m));
}

/* ------------------------------------------------------------------------ */
/* Arguments                                                                 */
/* ------------------------------------------------------------------------ */

TEST(lock_file_bad_arguments) {
  mmf_map *m = map_rw(test_path("f"));
  const int bad[] = {
      0, MMF_LOCK_NOWAIT,         MMF_LOCK_SHARED | MMF_LOCK_EXCLUSIVE,
      8, MMF_LOCK_EXCLUSIVE | 16, -1};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    ASSERT_ERR(mmf_lock_file(m, 0, 1, bad[i]), MMF_EINVAL);
  ASSERT_ERR(mmf_lock_file(NULL, 0, 1, MMF_LOCK_SHARED), MMF_EINVAL);
  ASSERT_ERR(mmf_unlock_file(NULL, 0, 1), MMF_EINVAL);
  ASSERT_ERR(mmf_lock_file(m, FSIZE, 1, MMF_LOCK_SHARED), MMF_ERANGE);
  ASSERT_ERR(mmf_lock_file(m, 1, FSIZE, MMF_LOCK_SHARED), MMF_ERANGE);
  ASSERT_ERR(mmf_lock_file(m, UINT64_MAX, 2, MMF_LOCK_SHARED), MMF_ERANGE);
  ASSERT_ERR(mmf_unlock_file(m, FSIZE + 1, 0), MMF_ERANGE);
  /* Nothing to lock at the very end. */
  ASSERT_ERR(mmf_lock_file(m, FSIZE, 0, MMF_LOCK_SHARED), MMF_EINVAL);
  ASSERT_OK(mmf_lock_file(m, FSIZE - 1, 0, MMF_LOCK_SHARED));
  ASSERT_OK(mmf_unlock_file(m, FSIZE - 1, 0));
  ASSERT_OK(mmf_close(m));
  /* No file behind anonymous memory. */
  ASSERT_OK(mmf_anon(&m, 4096, MMF_SHARED));
  ASSERT_ERR(mmf_lock_file(m, 0, 0, MMF_LOCK_EXCLUSIVE), MMF_ENOTSUP);
  ASSERT_ERR(mmf_unlock_file(m, 0, 0), MMF_ENOTSUP);
  ASSERT_OK(mmf_close(m));
  /* An empty file: nothing to lock. */
  write_file(test_path("empty"), NULL, 0);
  ASSERT_OK(mmf_open(&m, test_path("empty"), MMF_READ, NULL));
  ASSERT_ERR(mmf_lock_file(m, 0, 0, MMF_LOCK_SHARED), MMF_EINVAL);
  ASSERT_OK(mmf_close(m));
}

/* A read-only map takes shared locks; an exclusive one needs a
 * descriptor open for writing on Linux (OFD locks), not on Windows. */
TEST(read_only_map_locks_too) {
  const char *path = test_path("f");
  mmf_close(map_rw(path));
  mmf_map *m = NULL;
  ASSERT_OK(mmf_open(&m, path, MMF_READ, NULL));
  ASSERT_OK(mmf_lock_file(m, 0, 0, MMF_LOCK_SHARED));
  ASSERT_EQ(try_elsewhere(path, "x", 0, 1), 16);
  ASSERT_OK(mmf_unlock_file(m, 0, 0));
#ifndef _WIN32
  if (sh_range_locks()) {
    ASSERT_ERR(mmf_lock_file(m, 0, 0, MMF_LOCK_EXCLUSIVE), MMF_EACCES);
    ASSERT_OK(mmf_close(m));
    return;
  }
#endif
  ASSERT_OK(mmf_lock_file(m, 0, 0, MMF_LOCK_EXCLUSIVE));
  ASSERT_OK(mmf_unlock_file(m, 0, 0));
  ASSERT_OK(mmf_close(m));
}
