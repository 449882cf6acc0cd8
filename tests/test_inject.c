/*
 * test_inject.c - every error path of the POSIX backend, walked by making
 * its system calls fail (the walk and its cases: inject_walk.h), and what
 * the calls ask of the OS.
 *
 * The binding: every entry of the table mmf__sys
 * (src/os/posix/sys_posix.h) is replaced by a wrapper made from one line
 * of POSIX_CALLS, which fails the call with errno set when the walk says
 * so. The two profiles give each call a different errno, so that paths
 * that depend on it (mmap ENODEV falls back to reading, mremap ENOMEM
 * moves the map) are walked too.
 */
#include "test.h"

#ifdef _WIN32
/* Everything here replaces calls of the POSIX backend (open, mmap, msync,
 * ...) in its table; the Windows backend's table (src/os/win/sys_win.h)
 * holds other calls. */
#define NOT_ON_WINDOWS                                                         \
  "walks the POSIX backend's call table (src/os/posix/sys_posix.h)"
#else

#include <errno.h>
#include <fcntl.h>
#if defined(__has_include)
#if __has_include(<malloc.h>) /* not on macOS */
#include <malloc.h>
#endif
#endif
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#if !defined(_WIN32) && !defined(MAP_FIXED_NOREPLACE)
/* Linux 4.17's flag; elsewhere the address is only a hint, which a system
 * honours when the range is free: the callers check what they got. */
#define MAP_FIXED_NOREPLACE 0
#endif

#include "inject_walk.h"
#include "os/os.h"
#include "os/posix/sys_posix.h"

/* ------------------------------------------------------------------------ */
/* The failing wrappers                                                      */
/* ------------------------------------------------------------------------ */

/* X(return type, failure value, name, (parameters), (arguments), errno in
 * profile A, errno in profile B): see inject_walk.h. */
#define POSIX_CALLS(X)                                                         \
  X(int, -1, open, (const char *path, int flags, mode_t mode),                 \
    (path, flags, mode), EMFILE, ENOENT)                                       \
  /* Linux releases the descriptor even when close reports an error. */        \
  X(int, (mmf__sys_real.close(fd), -1), close, (int fd), (fd), EIO, EINTR)     \
  X(int, -1, fstat, (int fd, struct stat *st), (fd, st), EIO, ENOMEM)          \
  X(int, -1, fcntl_dupfd, (int fd), (fd), EMFILE, EMFILE)                      \
  X(int, -1, fcntl_getfl, (int fd), (fd), EBADF, EBADF)                        \
  X(ssize_t, -1, read, (int fd, void *buf, size_t n), (fd, buf, n), EIO,       \
    EAGAIN)                                                                    \
  X(ssize_t, -1, pread, (int fd, void *buf, size_t n, off_t off),              \
    (fd, buf, n, off), EIO, EOVERFLOW)                                         \
  X(int, -1, ftruncate, (int fd, off_t size), (fd, size), EFBIG, EIO)          \
  /* This entry returns the error. */                                          \
  X(int, inject_err_, fallocate, (int fd, off_t off, off_t len),               \
    (fd, off, len), ENOSPC, EOPNOTSUPP)                                        \
  X(int, -1, fsync, (int fd), (fd), EIO, ENOSPC)                               \
  X(int, -1, fstatvfs, (int fd, struct statvfs *st), (fd, st), EIO, ENOSYS)    \
  X(void *, MAP_FAILED, mmap,                                                  \
    (void *addr, size_t len, int prot, int flags, int fd, off_t off),          \
    (addr, len, prot, flags, fd, off), ENOMEM, ENODEV)                         \
  X(int, (inject_memory_kept(), -1), munmap, (void *addr, size_t len),         \
    (addr, len), EINVAL, ENOMEM)                                               \
  X(void *, MAP_FAILED, mremap,                                                \
    (void *old, size_t old_len, size_t new_len, int flags, void *new_addr),    \
    (old, old_len, new_len, flags, new_addr), ENOMEM, EFAULT)                  \
  X(int, -1, msync, (void *addr, size_t len, int flags), (addr, len, flags),   \
    EIO, ENOSPC)                                                               \
  X(int, -1, madvise, (void *addr, size_t len, int advice),                    \
    (addr, len, advice), EAGAIN, EINVAL)                                       \
  X(int, -1, mprotect, (void *addr, size_t len, int prot), (addr, len, prot),  \
    ENOMEM, EACCES)                                                            \
  X(int, -1, mincore, (void *addr, size_t len, unsigned char *vec),            \
    (addr, len, vec), ENOMEM, EAGAIN)                                          \
  X(int, -1, mlock, (const void *addr, size_t len), (addr, len), EAGAIN,       \
    ENOMEM)                                                                    \
  X(int, -1, munlock, (const void *addr, size_t len), (addr, len), ENOMEM,     \
    EAGAIN)                                                                    \
  X(int, -1, getrlimit, (int resource, struct rlimit *rl), (resource, rl),     \
    EINVAL, EFAULT)                                                            \
  X(off_t, -1, lseek, (int fd, off_t off, int whence), (fd, off, whence),      \
    ESPIPE, EOVERFLOW)                                                         \
  X(int, -1, unlink, (const char *path), (path), EIO, EACCES)                  \
  X(int, -1, fs_type, (int fd, long *type), (fd, type), ENOSYS, EIO)           \
  /* NULL where the OS has no futex (waiters then poll). */                    \
  X(int, -1, futex_wait,                                                       \
    (uint32_t * addr, uint32_t val, const struct timespec *deadline),          \
    (addr, val, deadline), EFAULT, ENOSYS)                                     \
  X(int, -1, futex_wake, (uint32_t * addr, int count), (addr, count), EFAULT,  \
    EINVAL)                                                                    \
  X(int, -1, clock_gettime, (clockid_t clock, struct timespec * ts),           \
    (clock, ts), EINVAL, EFAULT)                                               \
  X(int, -1, nanosleep, (const struct timespec *req, struct timespec *rem),    \
    (req, rem), EINVAL, EFAULT)                                                \
  /* The log's files and directory. */                                         \
  X(ssize_t, -1, pwrite, (int fd, const void *buf, size_t n, off_t off),       \
    (fd, buf, n, off), EIO, ENOSPC)                                            \
  X(int, -1, fdatasync, (int fd), (fd), EIO, ENOSPC)                           \
  X(int, -1, mkdir, (const char *path, mode_t mode), (path, mode), EACCES,     \
    ENOSPC)                                                                    \
  X(int, -1, rename, (const char *from, const char *to), (from, to), EIO,      \
    EACCES)                                                                    \
  X(DIR *, NULL, opendir, (const char *path), (path), EMFILE, EACCES)          \
  /* NULL with errno set: an error, not the end. */                            \
  X(struct dirent *, NULL, readdir, (DIR * d), (d), EIO, EOVERFLOW)            \
  /* EAGAIN would say another process holds the lock. */                       \
  X(int, -1, lock_nowait, (int fd), (fd), ENOLCK, EIO)                         \
  /* Sharing. */                                                               \
  X(int, -1, shm_open, (const char *name, int flags, mode_t mode),             \
    (name, flags, mode), EMFILE, EACCES)                                       \
  X(int, -1, fcntl_lock, (int fd, int cmd, struct flock *fl), (fd, cmd, fl),   \
    ENOLCK, EDEADLK)                                                           \
  /* Who owns a mutex: these never fail on Linux, but the table allows it. */  \
  X(pid_t, -1, gettid, (void), (), ENOSYS, EINVAL)                             \
  X(pid_t, -1, getpid, (void), (), ENOSYS, EINVAL)                             \
  /* A: the owner exists but is not ours to signal (alive). */                 \
  X(int, -1, kill, (pid_t pid, int sig), (pid, sig), EPERM, EINVAL)            \
  X(int, -1, flock, (int fd, int op), (fd, op), ENOLCK, EIO)                   \
  X(int, -1, shm_unlink, (const char *name), (name), EIO, EACCES)              \
  /* These return the error. A failed join means the thread was not one to     \
   * wait for: the wrapper waits for it first, so that none is left. */        \
  X(int, inject_err_, thread_create,                                           \
    (pthread_t * t, void *(*fn)(void *), void *arg), (t, fn, arg), EAGAIN,     \
    EPERM)                                                                     \
  X(int, (mmf__sys_real.thread_join(t), inject_err_), thread_join,             \
    (pthread_t t), (t), EINVAL, ESRCH)                                         \
  X(int, inject_err_, thread_sigmask,                                          \
    (int how, const sigset_t *set, sigset_t *old), (how, set, old), EINVAL,    \
    EFAULT)                                                                    \
  /* Uncached reads where open() has no O_DIRECT (NULL elsewhere). */          \
  X(int, -1, nocache, (int fd), (fd), EINVAL, ENOTSUP)                         \
  X(int, -1, fd_path, (int fd, char *buf), (fd, buf), EBADF, ENOTSUP)

enum posix_call {
#define X(type, fail, name, params, args, ea, eb) C_##name,
  POSIX_CALLS(X)
#undef X
};

static const inject_call posix_calls[] = {
#define X(type, fail, name, params, args, ea, eb) {#name, {ea, eb}},
    POSIX_CALLS(X)
#undef X
};

#define X(type, fail, name, params, args, ea, eb)                              \
  static type w_##name params {                                                \
    int inject_err_ = inject_check(C_##name);                                  \
    if (inject_err_ != 0) {                                                    \
      type inject_r_ = fail;                                                   \
      errno = inject_err_;                                                     \
      return inject_r_;                                                        \
    }                                                                          \
    return mmf__sys_real.name args;                                            \
  }
POSIX_CALLS(X)
#undef X

/* Entries the OS lacks (mremap outside Linux) stay NULL. */
static void install_wrappers(void) {
#ifdef M_ARENA_MAX
  /* glibc gives a thread that finds the heap busy an arena of its own,
   * a mapping that stays: one arena, so that the walks' mapping count
   * after a scan split over threads sees only the library's maps. */
  (void)mallopt(M_ARENA_MAX, 1);
#endif
#define X(type, fail, name, params, args, ea, eb)                              \
  if (mmf__sys_real.name != NULL)                                              \
    mmf__sys.name = w_##name;
  POSIX_CALLS(X)
#undef X
}

static void restore_real(void) { mmf__sys = mmf__sys_real; }

static const char *errno_text(int err) { return strerror(err); }

/* ------------------------------------------------------------------------ */
/* Cases only POSIX has                                                      */
/* ------------------------------------------------------------------------ */

#define FSIZE INJ_FSIZE
#define MIB INJ_MIB

static const char *fpath(void) { return inject_file(); }

/* Special files read into memory. */
static int op_open_proc(inject_ctx *c) {
  return mmf_open(&c->m, "/proc/self/status", MMF_READ, NULL);
}
static void verify_proc(inject_ctx *c, int rc) {
  if (rc == 0) {
    ASSERT_FALSE(mmf_is_mapped(c->m));
    ASSERT_TRUE(memcmp(mmf_data(c->m), "Name:", 5) == 0);
  }
}
static int op_open_dev_zero(inject_ctx *c) {
  return mmf_open(&c->m, "/dev/zero", MMF_READ,
                  &(mmf_options){.offset = 100000, .length = 300000});
}
static void verify_dev_zero(inject_ctx *c, int rc) {
  if (rc == 0) {
    ASSERT_EQ_U(mmf_size(c->m), 300000);
    ASSERT_ZERO(mmf_data(c->m), 300000);
  }
}
static void setup_dev_zero_map(inject_ctx *c) {
  ASSERT_OK(
      mmf_open(&c->m, "/dev/zero", MMF_READ, &(mmf_options){.length = 100000}));
}
static int op_close(inject_ctx *c) {
  int rc = mmf_close(c->m);
  c->m = NULL;
  return rc;
}

/* A large map whose growth in place is blocked, so a resize has to move
 * it (mremap MREMAP_MAYMOVE, or a new placed mapping). */
static void release_blocker(inject_ctx *c) { munmap(c->aux, 4096); }
static void setup_big_write_map(inject_ctx *c) {
  make_sparse(fpath(), 4096);
  write_at(fpath(), 0, "big", 3);
  ASSERT_OK(mmf_open(&c->m, fpath(), MMF_WRITE,
                     &(mmf_options){.offset = 3, .length = 3 * MIB}));
  c->size0 = mmf_size(c->m);
  c->fsize0 = file_size(fpath());
  uintptr_t end = (uintptr_t)mmf_data(c->m) + c->size0;
  uintptr_t next = (end + 4095) & ~(uintptr_t)4095;
  void *blocker =
      mmap((void *)next, 4096, PROT_NONE,
           MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (blocker == MAP_FAILED)
    FAIL("blocker: %s", strerror(errno));
  c->aux = blocker;
  c->release = release_blocker;
}
static int op_resize_big(inject_ctx *c) { return mmf_resize(c->m, 9 * MIB); }
static void verify_resize_big(inject_ctx *c, int rc) {
  if (rc == 0) {
    ASSERT_EQ_U(mmf_size(c->m), 9 * MIB);
    ASSERT_EQ_U(file_size(fpath()), 3 + 9 * MIB);
    ASSERT_EQ_U(((uintptr_t)mmf_data(c->m) - 3) % (2 * MIB), 0);
    ((unsigned char *)mmf_data(c->m))[9 * MIB - 1] = 1;
    return;
  }
  int r = mmf_flush(c->m, 0, 0, MMF_FLUSH_ASYNC);
  if (r == MMF_EPOISONED)
    return;
  ASSERT_OK(r);
  ASSERT_EQ_U(mmf_size(c->m), c->size0);
  ASSERT_EQ_U(file_size(fpath()), c->fsize0);
  ASSERT_MEMEQ((unsigned char *)mmf_data(c->m) - 3, "big", 3);
  ((unsigned char *)mmf_data(c->m))[c->size0 - 1] = 1;
}

/* Systems without a futex poll, sleeping with nanosleep. */
static int op_wait_polling(inject_ctx *c) {
  uint32_t word;
  memcpy(&word, (unsigned char *)mmf_data(c->m) + 8, sizeof word);
  int (*saved)(uint32_t *, uint32_t, const struct timespec *) =
      mmf__sys.futex_wait;
  mmf__sys.futex_wait = NULL;
  int rc = mmf_wait(c->m, 8, word, 3000000);
  mmf__sys.futex_wait = saved;
  return rc;
}

/* The mutex's recorded owner is a thread id no system hands out (pid_max
 * is at most 2^22): dead, as kill(id, 0) tells (ESRCH). */
static void setup_dead_owner(inject_ctx *c) {
  inject_setup_mutex_map(c);
  uint64_t w = 0x3FFFFFF0u | (uint64_t)1 << 32;
  memcpy((unsigned char *)mmf_data(c->m) + INJ_MUTEX, &w, sizeof w);
}
/* Taken over from it without repair: the unlock makes the mutex not
 * recoverable. */
static void setup_owner_died(inject_ctx *c) {
  setup_dead_owner(c);
  ASSERT_ERR(mmf_mutex_lock(c->m, INJ_MUTEX, -1), MMF_EOWNERDEAD);
}

/* Systems without OFD locks lock whole files with flock(). */
static int op_lock_file_flock(inject_ctx *c) {
  int (*saved)(int, int, struct flock *) = mmf__sys.fcntl_lock;
  mmf__sys.fcntl_lock = NULL;
  int rc = inject_op_lock_file(c);
  mmf__sys.fcntl_lock = saved;
  return rc;
}

static const inject_case posix_cases[] = {
    {"open /proc/self/status", "fallback", INJ_OPENS, 0, inject_setup_nothing,
     op_open_proc, verify_proc},
    {"open /dev/zero", "fallback", INJ_OPENS, 0, inject_setup_nothing,
     op_open_dev_zero, verify_dev_zero},
    {"resize WRITE large, moved", "resize", INJ_HANDLE, 0, setup_big_write_map,
     op_resize_big, verify_resize_big},
    {"close /dev/zero copy", "close", INJ_CLOSES, 0, setup_dev_zero_map,
     op_close, NULL},
    {"wait polling", "share", INJ_SHARED, MMF_ETIMEDOUT, inject_setup_write_map,
     op_wait_polling, inject_verify_handle},
    {"mutex lock, owner dead", "share", INJ_SHARED, MMF_EOWNERDEAD,
     setup_dead_owner, inject_op_mutex_take_over, inject_verify_mutex},
    {"mutex unlock, not repaired", "share", INJ_SHARED, 0, setup_owner_died,
     inject_op_mutex_unlock, inject_verify_not_recoverable},
    {"lock_file with flock", "share", INJ_SHARED, 0, inject_setup_write_map,
     op_lock_file_flock, inject_verify_lock_file},
};

static const inject_backend posix = {
    .calls = posix_calls,
    .n_calls = (int)(sizeof posix_calls / sizeof posix_calls[0]),
    .install = install_wrappers,
    .restore = restore_real,
    .error_text = errno_text,
    .cases = posix_cases,
    .n_cases = (int)(sizeof posix_cases / sizeof posix_cases[0]),
    .last_advice = MMF_ADV_HUGEPAGE,
    .placement_survives_failure = true,
    .shm_lives_with_maps = false,
};

INJECT_STEP_CHILD(posix)

#endif /* _WIN32 */

TEST(inject_open_paths) {
#ifdef _WIN32
  SKIP(NOT_ON_WINDOWS);
#else
  inject_walk(&posix, "open");
#endif
}

TEST(inject_fallback_paths) {
#ifdef _WIN32
  SKIP(NOT_ON_WINDOWS);
#else
  inject_walk(&posix, "fallback");
#endif
}

TEST(inject_anon_paths) {
#ifdef _WIN32
  SKIP(NOT_ON_WINDOWS);
#else
  inject_walk(&posix, "anon");
#endif
}

TEST(inject_resize_paths) {
#ifdef _WIN32
  SKIP(NOT_ON_WINDOWS);
#else
  inject_walk(&posix, "resize");
#endif
}

TEST(inject_control_paths) {
#ifdef _WIN32
  SKIP(NOT_ON_WINDOWS);
#else
  inject_walk(&posix, "control");
#endif
}

TEST(inject_window_paths) {
#ifdef _WIN32
  SKIP(NOT_ON_WINDOWS);
#else
  inject_walk(&posix, "window");
#endif
}

TEST(inject_scan_paths) {
#ifdef _WIN32
  SKIP(NOT_ON_WINDOWS);
#else
  inject_walk(&posix, "scan");
#endif
}

TEST(inject_thread_paths) {
#ifdef _WIN32
  SKIP(NOT_ON_WINDOWS);
#else
  inject_walk_threads(&posix, INJECT_THREADS_GROUP);
#endif
}

TEST(inject_share_paths) {
#ifdef _WIN32
  SKIP(NOT_ON_WINDOWS);
#else
  inject_walk(&posix, "share");
#endif
}

TEST(inject_log_paths) {
#ifdef _WIN32
  SKIP(NOT_ON_WINDOWS);
#else
  inject_walk(&posix, "log");
#endif
}

TEST(inject_close_paths) {
#ifdef _WIN32
  SKIP(NOT_ON_WINDOWS);
#else
  inject_walk(&posix, "close");
#endif
}

/* The walk can fail: cases that leak a descriptor, leave *out set or
 * return a wrong code when a call fails are caught (the negative control
 * of every walk above; their runs print the failures they are meant to). */
TEST(inject_catches_bad_cases) {
#ifdef _WIN32
  SKIP(NOT_ON_WINDOWS);
#else
  ASSERT_GT(inject_walk_failures(&posix, "bad leak"), 0);
  ASSERT_GT(inject_walk_failures(&posix, "bad out"), 0);
  ASSERT_GT(inject_walk_failures(&posix, "bad code"), 0);
#endif
}

/* ------------------------------------------------------------------------ */
/* What the calls ask the OS for                                             */
/* ------------------------------------------------------------------------ */

#ifndef _WIN32
static int msync_flags_seen;
static int fsyncs_seen;
static int recording_msync(void *addr, size_t len, int flags) {
  msync_flags_seen |= flags;
  return mmf__sys_real.msync(addr, len, flags);
}
static int counting_fsync(int fd) {
  fsyncs_seen++;
  return mmf__sys_real.fsync(fd);
}
#endif

TEST(flush_levels_reach_os) {
#ifdef _WIN32
  SKIP(NOT_ON_WINDOWS);
#else
  write_pattern(fpath(), FSIZE);
  mmf__sys.msync = recording_msync;
  mmf__sys.fsync = counting_fsync;
  mmf_map *m = NULL;
  ASSERT_OK(mmf_open(&m, fpath(), MMF_WRITE, NULL));

  msync_flags_seen = fsyncs_seen = 0;
  ASSERT_OK(mmf_flush(m, 0, 0, MMF_FLUSH_ASYNC));
  ASSERT_TRUE(msync_flags_seen & MS_ASYNC);
  ASSERT_FALSE(msync_flags_seen & MS_SYNC);
  ASSERT_EQ(fsyncs_seen, 0);

  msync_flags_seen = fsyncs_seen = 0;
  ASSERT_OK(mmf_flush(m, 0, 0, MMF_FLUSH_SYNC));
  ASSERT_TRUE(msync_flags_seen & MS_SYNC);

  msync_flags_seen = fsyncs_seen = 0;
  ASSERT_OK(mmf_flush(m, 0, 0, MMF_FLUSH_FULL));
  ASSERT_TRUE(msync_flags_seen & MS_SYNC);
  ASSERT_EQ(fsyncs_seen, 1); /* the file; it was not created by us */
  ASSERT_OK(mmf_close(m));

  /* A created file: the first FULL flush also syncs the directory. */
  ASSERT_OK(mmf_open(&m, test_path("new"), MMF_WRITE,
                     &(mmf_options){.flags = MMF_CREATE, .size = 100}));
  fsyncs_seen = 0;
  ASSERT_OK(mmf_flush(m, 0, 0, MMF_FLUSH_FULL));
  ASSERT_EQ(fsyncs_seen, 2);
  fsyncs_seen = 0;
  ASSERT_OK(mmf_flush(m, 0, 0, MMF_FLUSH_FULL));
  ASSERT_EQ(fsyncs_seen, 1);
  ASSERT_OK(mmf_close(m));

  /* SYNC_ON_CLOSE flushes synchronously on close. */
  ASSERT_OK(mmf_open(&m, fpath(), MMF_WRITE,
                     &(mmf_options){.flags = MMF_SYNC_ON_CLOSE}));
  msync_flags_seen = 0;
  ASSERT_OK(mmf_close(m));
  ASSERT_TRUE(msync_flags_seen & MS_SYNC);
  restore_real();
#endif
}

#ifndef _WIN32
static int eio_msync(void *addr, size_t len, int flags) {
  (void)addr;
  (void)len;
  (void)flags;
  errno = EIO;
  return -1;
}
#endif

TEST(close_reports_sync_on_close_failure) {
#ifdef _WIN32
  SKIP(NOT_ON_WINDOWS);
#else
  write_pattern(fpath(), FSIZE);
  int fds = count_open_fds(), maps = count_mappings();
  mmf_map *m = NULL;
  ASSERT_OK(mmf_open(&m, fpath(), MMF_WRITE,
                     &(mmf_options){.flags = MMF_SYNC_ON_CLOSE}));
  mmf__sys.msync = eio_msync;
  ASSERT_ERR(mmf_close(m), MMF_EIO);
  restore_real();
  /* Released either way. */
  ASSERT_EQ(count_open_fds(), fds);
  ASSERT_EQ(count_mappings(), maps);
#endif
}

TEST(last_os_error_on_handle) {
#ifdef _WIN32
  SKIP(NOT_ON_WINDOWS);
#else
  write_pattern(fpath(), FSIZE);
  mmf_map *m = NULL;
  ASSERT_OK(mmf_open(&m, fpath(), MMF_WRITE, NULL));
  mmf__sys.msync = eio_msync;
  ASSERT_ERR(mmf_flush(m, 0, 0, MMF_FLUSH_SYNC), MMF_EIO);
  restore_real();
  ASSERT_EQ(mmf_last_os_error(m), EIO);
  /* The handle is still usable. */
  ASSERT_OK(mmf_flush(m, 0, 0, MMF_FLUSH_SYNC));
  ASSERT_OK(mmf_close(m));
#endif
}

#if defined(MREMAP_MAYMOVE) /* Linux: the only mremap */
/* mlock always fails; mremap cannot grow in place (as when the address
 * space after the map is taken), so the resize moves the map, and fails
 * once mlock has (the undo): both the lock and its repair fail, with the
 * new mapping somewhere else than the old one. */
static int mlock_failed, undo_mremaps;
static int enomem_mlock(const void *addr, size_t len) {
  (void)addr;
  (void)len;
  mlock_failed = 1;
  errno = ENOMEM;
  return -1;
}
static void *mremap_fails_after_mlock(void *old, size_t old_len, size_t new_len,
                                      int flags, void *new_addr) {
  if (mlock_failed) {
    undo_mremaps++;
    errno = EINVAL; /* not ENOMEM, which would move the map instead */
    return MAP_FAILED;
  }
  if (new_len > old_len && !(flags & MREMAP_MAYMOVE)) {
    errno = ENOMEM;
    return MAP_FAILED;
  }
  return mmf__sys_real.mremap(old, old_len, new_len, flags, new_addr);
}
#endif

/* Where the OS has no mremap (macOS, the BSDs) a resize maps anew: shown
 * here by taking mremap out of the table. Private bytes (anonymous memory,
 * MMF_COPY edits) move with the map, a shrink stays in place (so shared
 * memory stays shared), and a MMF_WRITE map shows the file. */
TEST(resize_without_mremap) {
#ifdef _WIN32
  SKIP(NOT_ON_WINDOWS);
#else
  const size_t ps = test_page_size();
  mmf__sys.mremap = NULL;
  /* Private anonymous memory. */
  mmf_map *m = NULL;
  ASSERT_OK(mmf_anon(&m, 3 * ps, 0));
  unsigned char *p = mmf_data(m);
  for (size_t i = 0; i < 3 * ps; i++)
    p[i] = (unsigned char)(i * 7 + 1);
  ASSERT_OK(mmf_resize(m, 10 * ps));
  p = mmf_data(m);
  for (size_t i = 0; i < 3 * ps; i++)
    ASSERT_EQ(p[i], (unsigned char)(i * 7 + 1));
  for (size_t i = 3 * ps; i < 10 * ps; i++)
    ASSERT_EQ(p[i], 0);
  ASSERT_OK(mmf_resize(m, ps + 1));
  ASSERT_TRUE(mmf_data(m) == p); /* in place */
  ASSERT_EQ(p[ps], (unsigned char)(ps * 7 + 1));
  ASSERT_OK(mmf_close(m));
  /* Shared anonymous memory shrinks in place. */
  ASSERT_OK(mmf_anon(&m, 4 * ps, MMF_SHARED));
  p = mmf_data(m);
  p[ps - 1] = 9;
  ASSERT_OK(mmf_resize(m, ps));
  ASSERT_TRUE(mmf_data(m) == p);
  ASSERT_EQ(p[ps - 1], 9);
  ASSERT_OK(mmf_close(m));
  /* MMF_COPY: the edit moves with the map; the file never changes. */
  write_pattern(fpath(), 8 * ps);
  ASSERT_OK(mmf_open(&m, fpath(), MMF_COPY,
                     &(mmf_options){.offset = 3, .length = 2 * ps}));
  ((unsigned char *)mmf_data(m))[10] = 0xEE;
  ASSERT_OK(mmf_resize(m, 6 * ps));
  p = mmf_data(m);
  ASSERT_EQ(p[10], 0xEE);
  ASSERT_PAT(p, 3, 10);
  ASSERT_PAT(p + 11, 3 + 11, 6 * ps - 11);
  ASSERT_OK(mmf_close(m));
  ASSERT_OK(mmf_open(&m, fpath(), MMF_READ, NULL));
  ASSERT_PAT(mmf_data(m), 0, 8 * ps);
  ASSERT_OK(mmf_close(m));
  /* MMF_WRITE: the file grows and the map shows it. */
  ASSERT_OK(mmf_open(&m, fpath(), MMF_WRITE,
                     &(mmf_options){.offset = 1, .length = ps}));
  ((unsigned char *)mmf_data(m))[0] = 0x11;
  ASSERT_OK(mmf_resize(m, 9 * ps));
  p = mmf_data(m);
  ASSERT_EQ(p[0], 0x11);
  ASSERT_PAT(p + 1, 2, 8 * ps - 2);
  p[9 * ps - 1] = 0x22;
  ASSERT_OK(mmf_close(m));
  restore_real();
  ASSERT_EQ(file_size(fpath()), 9 * ps + 1);
#endif
}

/* A locked map whose resize cannot lock the new pages, and then cannot go
 * back to the old size either, is poisoned: every call but close returns
 * MMF_EPOISONED, its pointer stays inside a live mapping, and close
 * releases everything. */
TEST(resize_lock_and_undo_fail_poisons) {
#ifdef _WIN32
  SKIP(NOT_ON_WINDOWS);
#elif !defined(MREMAP_MAYMOVE)
  SKIP("no mremap here: a resize maps anew and the undo is an unmap");
#else
  if (!mmf__sys_real.mremap)
    SKIP("no mremap here: a resize maps anew and the undo is an unmap");
  if (test_under_asan())
    SKIP("AddressSanitizer turns mlock() into a no-op");
  write_pattern(fpath(), FSIZE);
  int fds = count_open_fds(), maps = count_mappings();
  mmf_map *m = NULL;
  int rc = mmf_open(&m, fpath(), MMF_WRITE,
                    &(mmf_options){.offset = 7, .flags = MMF_LOCKED});
  if (rc == MMF_ENOMEM || rc == MMF_EAGAIN || rc == MMF_EACCES)
    SKIP("the memory-lock limit does not allow a locked map (%s)",
         mmf_errname(rc));
  ASSERT_OK(rc);
  const void *old_data = mmf_data(m);
  mlock_failed = undo_mremaps = 0;
  mmf__sys.mlock = enomem_mlock;
  mmf__sys.mremap = mremap_fails_after_mlock;
  ASSERT_ERR(mmf_resize(m, FSIZE + 3 * 4096), MMF_ENOMEM);
  restore_real();
  ASSERT_EQ(undo_mremaps, 1);
  /* The data it still shows lie in the mapping that exists, which moved. */
  ASSERT_TRUE(mmf_data(m) != NULL);
  ASSERT_TRUE(mmf_data(m) != old_data);
  ASSERT_LE(mmf_size(m), FSIZE + 3 * 4096);
  ASSERT_PAT((unsigned char *)mmf_data(m), 7, FSIZE - 7);
  unsigned char b;
  ASSERT_ERR(mmf_read(m, 0, &b, 1), MMF_EPOISONED);
  ASSERT_ERR(mmf_resize(m, FSIZE), MMF_EPOISONED);
  ASSERT_OK(mmf_close(m));
  ASSERT_EQ(count_open_fds(), fds);
  ASSERT_EQ(count_mappings(), maps);
#endif
}

/* The wrappers do fail calls (so the walks above can find failures). */
TEST(injection_fails_calls) {
#ifdef _WIN32
  SKIP(NOT_ON_WINDOWS);
#else
  install_wrappers();
  write_pattern(fpath(), FSIZE);
  mmf_map *m = NULL;
  inject_arm(&posix, 0, 1);
  int rc = mmf_open(&m, fpath(), MMF_READ, NULL);
  inject_disarm();
  ASSERT_TRUE(inject_hit());
  ASSERT_EQ(inject_failed_call(), C_open);
  ASSERT_ERR(rc, MMF_EMFILE); /* open fails with EMFILE in profile A */
  ASSERT_NULL(m);
  restore_real();
#endif
}

/* The allocation profile fails allocations, and its count of the blocks
 * the library holds sees one that is not freed (a handle still open looks
 * just like a leak), so the walks above can find both. */
TEST(injection_fails_allocations) {
#ifdef _WIN32
  SKIP(NOT_ON_WINDOWS);
#else
  mmf_map *m = NULL;
  inject_install(&posix);
  const long live = inject_blocks_live();
  inject_arm(&posix, INJECT_ALLOC, 1);
  int rc = mmf_anon(&m, 4096, 0);
  inject_disarm();
  ASSERT_TRUE(inject_hit());
  ASSERT_EQ(inject_failed_call(), 1); /* the handle's calloc */
  ASSERT_ERR(rc, MMF_ENOMEM);
  ASSERT_NULL(m);
  ASSERT_EQ(mmf_last_os_error(NULL), 0);
  ASSERT_OK(mmf_anon(&m, 4096, 0));
  ASSERT_EQ(inject_blocks_live(), live + 1);
  ASSERT_OK(mmf_close(m));
  ASSERT_EQ(inject_blocks_live(), live);
  inject_restore(&posix);
#endif
}
