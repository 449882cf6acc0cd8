/*
 * test_inject.c - walk every error path by making system calls fail.
 *
 * Every system call of the POSIX backend goes through the table mmf__sys
 * (src/os/posix/sys_posix.h). Here each entry is replaced by a wrapper that
 * counts calls; the N-th call (of any kind) fails with an errno chosen per
 * call. For N = 1, 2, ... an operation is run until it completes without
 * reaching the N-th call. Each run must:
 *
 *  - return 0 or a negative MMF code; when it fails because of the injected
 *    call, the code is that errno translated, and mmf_last_os_error() gives
 *    the errno; when it returns what it returns without injection, the
 *    failed call was optional;
 *  - leave out-parameters NULL on failure, and a handle either usable (its
 *    bytes and size as before, later calls working) or poisoned;
 *  - after close, leave no descriptor and no mapping behind (a failed
 *    munmap legitimately leaves its mapping: that run skips the mapping
 *    count).
 *
 * Each walk is run with two errno profiles, so paths that depend on the
 * errno (mmap ENODEV falls back to reading, mremap ENOMEM moves the map)
 * are walked too.
 */
#include "test.h"

#ifdef _WIN32
/* Everything here replaces calls of the POSIX backend (open, mmap, msync,
 * ...) in its table; the Windows backend's table (src/os/win/sys_win.h)
 * holds other calls. */
#define NOT_ON_WINDOWS                                                         \
  "walks the POSIX backend's call table (src/os/posix/sys_posix.h)"
#else

#include <limits.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "os/os.h"
#include "os/posix/sys_posix.h"

/* ------------------------------------------------------------------------ */
/* The failing wrappers                                                      */
/* ------------------------------------------------------------------------ */

enum sys_id {
  S_OPEN,
  S_CLOSE,
  S_FSTAT,
  S_DUPFD,
  S_GETFL,
  S_READ,
  S_PREAD,
  S_FTRUNCATE,
  S_FALLOCATE,
  S_FSYNC,
  S_FSTATVFS,
  S_MMAP,
  S_MUNMAP,
  S_MREMAP,
  S_MSYNC,
  S_MADVISE,
  S_MPROTECT,
  S_MINCORE,
  S_MLOCK,
  S_MUNLOCK,
  S_FUTEX_WAIT,
  S_FUTEX_WAKE,
  S_CLOCK_GETTIME,
  S_NANOSLEEP,
  S_GETTID,
  S_GETPID,
  S_KILL,
  S_FCNTL_LOCK,
  S_FLOCK,
  S_SHM_OPEN,
  S_SHM_UNLINK,
  S_COUNT
};

static const char *const sys_names[S_COUNT] = {
    "open",       "close",      "fstat",         "fcntl_dupfd", "fcntl_getfl",
    "read",       "pread",      "ftruncate",     "fallocate",   "fsync",
    "fstatvfs",   "mmap",       "munmap",        "mremap",      "msync",
    "madvise",    "mprotect",   "mincore",       "mlock",       "munlock",
    "futex_wait", "futex_wake", "clock_gettime", "nanosleep",   "gettid",
    "getpid",     "kill",       "fcntl_lock",    "flock",       "shm_open",
    "shm_unlink"};

typedef struct profile {
  const char *name;
  int err[S_COUNT];
} profile;

static const profile profile_a = {"A",
                                  {EMFILE,
                                   EIO,
                                   EIO,
                                   EMFILE,
                                   EBADF,
                                   EIO,
                                   EIO,
                                   EFBIG,
                                   ENOSPC,
                                   EIO,
                                   EIO,
                                   ENOMEM,
                                   EINVAL,
                                   ENOMEM,
                                   EIO,
                                   EAGAIN,
                                   ENOMEM,
                                   ENOMEM,
                                   EAGAIN,
                                   ENOMEM,
                                   EFAULT,
                                   EFAULT,
                                   EINVAL,
                                   EINVAL,
                                   [S_GETTID] = ENOSYS,
                                   [S_GETPID] = ENOSYS,
                                   [S_KILL] = EPERM,
                                   [S_FCNTL_LOCK] = ENOLCK,
                                   [S_FLOCK] = ENOLCK,
                                   [S_SHM_OPEN] = EMFILE,
                                   [S_SHM_UNLINK] = EIO}};
static const profile profile_b = {"B",
                                  {ENOENT,
                                   EINTR,
                                   ENOMEM,
                                   EMFILE,
                                   EBADF,
                                   EAGAIN,
                                   EOVERFLOW,
                                   EIO,
                                   EOPNOTSUPP,
                                   ENOSPC,
                                   ENOSYS,
                                   ENODEV,
                                   ENOMEM,
                                   EFAULT,
                                   ENOSPC,
                                   EINVAL,
                                   EACCES,
                                   EAGAIN,
                                   ENOMEM,
                                   EAGAIN,
                                   ENOSYS,
                                   EINVAL,
                                   EFAULT,
                                   EFAULT,
                                   [S_GETTID] = EINVAL,
                                   [S_GETPID] = EINVAL,
                                   [S_KILL] = EINVAL,
                                   [S_FCNTL_LOCK] = EINVAL,
                                   [S_FLOCK] = EIO,
                                   [S_SHM_OPEN] = EACCES,
                                   [S_SHM_UNLINK] = EACCES}};

static const profile *inj_profile;
static int inj_target; /* fail the inj_target-th call; 0: never */
static int inj_calls;  /* calls seen while armed */
static int inj_armed;
static int inj_hit;               /* the failure was injected */
static int inj_hit_id;            /* which call failed */
static int inj_err;               /* with which errno */
static int inj_calls_of[S_COUNT]; /* per call, while armed */

static void inj_arm(const profile *p, int target) {
  inj_profile = p;
  inj_target = target;
  inj_calls = 0;
  inj_hit = 0;
  inj_hit_id = -1;
  inj_err = 0;
  memset(inj_calls_of, 0, sizeof inj_calls_of);
  inj_armed = 1;
}

static void inj_disarm(void) { inj_armed = 0; }

/* Count a call; true if it is the one to fail (errno is then set). */
static bool inj_fail(enum sys_id id) {
  if (!inj_armed)
    return false;
  inj_calls++;
  inj_calls_of[id]++;
  if (inj_target == 0 || inj_calls != inj_target)
    return false;
  inj_hit = 1;
  inj_hit_id = (int)id;
  inj_err = inj_profile->err[id];
  errno = inj_err;
  return true;
}

static int w_open(const char *path, int flags, mode_t mode) {
  if (inj_fail(S_OPEN))
    return -1;
  return mmf__sys_real.open(path, flags, mode);
}
static int w_close(int fd) {
  if (inj_fail(S_CLOSE)) {
    /* Linux releases the descriptor even when close reports an error. */
    int e = errno;
    mmf__sys_real.close(fd);
    errno = e;
    return -1;
  }
  return mmf__sys_real.close(fd);
}
static int w_fstat(int fd, struct stat *st) {
  if (inj_fail(S_FSTAT))
    return -1;
  return mmf__sys_real.fstat(fd, st);
}
static int w_dupfd(int fd) {
  if (inj_fail(S_DUPFD))
    return -1;
  return mmf__sys_real.fcntl_dupfd(fd);
}
static int w_getfl(int fd) {
  if (inj_fail(S_GETFL))
    return -1;
  return mmf__sys_real.fcntl_getfl(fd);
}
static ssize_t w_read(int fd, void *buf, size_t n) {
  if (inj_fail(S_READ))
    return -1;
  return mmf__sys_real.read(fd, buf, n);
}
static ssize_t w_pread(int fd, void *buf, size_t n, off_t off) {
  if (inj_fail(S_PREAD))
    return -1;
  return mmf__sys_real.pread(fd, buf, n, off);
}
static int w_ftruncate(int fd, off_t size) {
  if (inj_fail(S_FTRUNCATE))
    return -1;
  return mmf__sys_real.ftruncate(fd, size);
}
static int w_fallocate(int fd, off_t off, off_t len) {
  if (inj_fail(S_FALLOCATE))
    return errno; /* this entry returns the error */
  return mmf__sys_real.fallocate(fd, off, len);
}
static int w_fsync(int fd) {
  if (inj_fail(S_FSYNC))
    return -1;
  return mmf__sys_real.fsync(fd);
}
static int w_fstatvfs(int fd, struct statvfs *st) {
  if (inj_fail(S_FSTATVFS))
    return -1;
  return mmf__sys_real.fstatvfs(fd, st);
}
static int munmap_failed; /* a mapping legitimately stayed */
static void *w_mmap(void *addr, size_t len, int prot, int flags, int fd,
                    off_t off) {
  if (inj_fail(S_MMAP))
    return MAP_FAILED;
  return mmf__sys_real.mmap(addr, len, prot, flags, fd, off);
}
static int w_munmap(void *addr, size_t len) {
  if (inj_fail(S_MUNMAP)) {
    munmap_failed = 1;
    return -1;
  }
  return mmf__sys_real.munmap(addr, len);
}
static void *w_mremap(void *old, size_t old_len, size_t new_len, int flags,
                      void *new_addr) {
  if (inj_fail(S_MREMAP))
    return MAP_FAILED;
  return mmf__sys_real.mremap(old, old_len, new_len, flags, new_addr);
}
static int w_msync(void *addr, size_t len, int flags) {
  if (inj_fail(S_MSYNC))
    return -1;
  return mmf__sys_real.msync(addr, len, flags);
}
static int w_madvise(void *addr, size_t len, int advice) {
  if (inj_fail(S_MADVISE))
    return -1;
  return mmf__sys_real.madvise(addr, len, advice);
}
static int w_mprotect(void *addr, size_t len, int prot) {
  if (inj_fail(S_MPROTECT))
    return -1;
  return mmf__sys_real.mprotect(addr, len, prot);
}
static int w_mincore(void *addr, size_t len, unsigned char *vec) {
  if (inj_fail(S_MINCORE))
    return -1;
  return mmf__sys_real.mincore(addr, len, vec);
}
static int w_mlock(const void *addr, size_t len) {
  if (inj_fail(S_MLOCK))
    return -1;
  return mmf__sys_real.mlock(addr, len);
}
static int w_munlock(const void *addr, size_t len) {
  if (inj_fail(S_MUNLOCK))
    return -1;
  return mmf__sys_real.munlock(addr, len);
}

static int w_futex_wait(uint32_t *addr, uint32_t val,
                        const struct timespec *deadline) {
  if (inj_fail(S_FUTEX_WAIT))
    return -1;
  return mmf__sys_real.futex_wait(addr, val, deadline);
}
static int w_futex_wake(uint32_t *addr, int count) {
  if (inj_fail(S_FUTEX_WAKE))
    return -1;
  return mmf__sys_real.futex_wake(addr, count);
}
static int w_clock_gettime(clockid_t clock, struct timespec *ts) {
  if (inj_fail(S_CLOCK_GETTIME))
    return -1;
  return mmf__sys_real.clock_gettime(clock, ts);
}
static int w_nanosleep(const struct timespec *req, struct timespec *rem) {
  if (inj_fail(S_NANOSLEEP))
    return -1;
  return mmf__sys_real.nanosleep(req, rem);
}

static pid_t w_gettid(void) {
  if (inj_fail(S_GETTID))
    return -1;
  return mmf__sys_real.gettid();
}
static pid_t w_getpid(void) {
  if (inj_fail(S_GETPID))
    return -1;
  return mmf__sys_real.getpid();
}
static int w_kill(pid_t pid, int sig) {
  if (inj_fail(S_KILL))
    return -1;
  return mmf__sys_real.kill(pid, sig);
}

static int w_fcntl_lock(int fd, int cmd, struct flock *fl) {
  if (inj_fail(S_FCNTL_LOCK))
    return -1;
  return mmf__sys_real.fcntl_lock(fd, cmd, fl);
}
static int w_flock(int fd, int op) {
  if (inj_fail(S_FLOCK))
    return -1;
  return mmf__sys_real.flock(fd, op);
}

static int w_shm_open(const char *name, int flags, mode_t mode) {
  if (inj_fail(S_SHM_OPEN))
    return -1;
  return mmf__sys_real.shm_open(name, flags, mode);
}
static int w_shm_unlink(const char *name) {
  if (inj_fail(S_SHM_UNLINK))
    return -1;
  return mmf__sys_real.shm_unlink(name);
}

static void install_wrappers(void) {
  mmf__sys.open = w_open;
  mmf__sys.close = w_close;
  mmf__sys.fstat = w_fstat;
  mmf__sys.fcntl_dupfd = w_dupfd;
  mmf__sys.fcntl_getfl = w_getfl;
  mmf__sys.read = w_read;
  mmf__sys.pread = w_pread;
  mmf__sys.ftruncate = w_ftruncate;
  mmf__sys.fallocate = w_fallocate;
  mmf__sys.fsync = w_fsync;
  mmf__sys.fstatvfs = w_fstatvfs;
  mmf__sys.mmap = w_mmap;
  mmf__sys.munmap = w_munmap;
  if (mmf__sys_real.mremap)
    mmf__sys.mremap = w_mremap;
  mmf__sys.msync = w_msync;
  mmf__sys.madvise = w_madvise;
  mmf__sys.mprotect = w_mprotect;
  mmf__sys.mincore = w_mincore;
  mmf__sys.mlock = w_mlock;
  mmf__sys.munlock = w_munlock;
  if (mmf__sys_real.futex_wait)
    mmf__sys.futex_wait = w_futex_wait;
  if (mmf__sys_real.futex_wake)
    mmf__sys.futex_wake = w_futex_wake;
  mmf__sys.clock_gettime = w_clock_gettime;
  mmf__sys.nanosleep = w_nanosleep;
  mmf__sys.gettid = w_gettid;
  mmf__sys.getpid = w_getpid;
  mmf__sys.kill = w_kill;
  if (mmf__sys_real.fcntl_lock)
    mmf__sys.fcntl_lock = w_fcntl_lock;
  mmf__sys.flock = w_flock;
  mmf__sys.shm_open = w_shm_open;
  mmf__sys.shm_unlink = w_shm_unlink;
}

static void restore_real(void) { mmf__sys = mmf__sys_real; }

/* ------------------------------------------------------------------------ */
/* Walks                                                                     */
/* ------------------------------------------------------------------------ */

#define FSIZE (3 * 4096 + 5)
#define MIB (1ull << 20)

typedef struct ctx {
  mmf_map *m;
  pid_t child;
  void *blocker;
  uint64_t size0;  /* mmf_size before a handle operation */
  uint64_t fsize0; /* file size before the operation */
  uint64_t bytes;
} ctx;

enum walk_kind {
  OPENS,  /* the operation creates c->m; failures clear it */
  HANDLE, /* the operation works on c->m made by setup */
  CLOSES, /* the operation closes c->m */
  SHARED  /* a sharing call on c->m: its OS error is the thread's */
};

typedef struct walk_def {
  const char *name;
  int kind;
  int expect; /* result without injection */
  void (*setup)(ctx *c);
  int (*op)(ctx *c);
  /* Checks after the operation (unarmed). rc is its result. */
  void (*verify)(ctx *c, int rc);
} walk_def;

static const char *fpath(void) { return test_path("f"); }

static void teardown(ctx *c) {
  int rc = mmf_close(c->m);
  c->m = NULL;
  if (rc != 0 && rc != MMF_EPOISONED)
    FAIL("close after the walk step: %s", mmf_errname(rc));
  if (c->child > 0) {
    kill(c->child, SIGKILL);
    wait_child(c->child);
    c->child = 0;
  }
  if (c->blocker) {
    munmap(c->blocker, 4096);
    c->blocker = NULL;
  }
}

/* The map must hold pattern bytes [off, off + n) (or be a usable fallback
 * copy of them). */
static void check_bytes(const ctx *c, uint64_t off, uint64_t n) {
  ASSERT_TRUE(c->m != NULL);
  ASSERT_EQ_U(mmf_size(c->m), n);
  ASSERT_EQ_U(mmf_offset(c->m), off);
  ASSERT_PAT(mmf_data(c->m), off, n);
}

/* After a failed handle operation: bytes and size as before and a later
 * call works, or the handle is poisoned. */
static void check_usable(ctx *c, uint64_t off) {
  int r = mmf_flush(c->m, 0, 0, MMF_FLUSH_ASYNC);
  if (r == MMF_EPOISONED)
    return;
  ASSERT_OK(r);
  ASSERT_EQ_U(mmf_size(c->m), c->size0);
  ASSERT_PAT(mmf_data(c->m), off, c->size0);
}

/* --- opens of a regular file -------------------------------------------- */

static void setup_file(ctx *c) {
  write_pattern(fpath(), FSIZE);
  c->fsize0 = FSIZE;
}

static void verify_whole(ctx *c, int rc) {
  if (rc == 0)
    check_bytes(c, 0, FSIZE);
  ASSERT_EQ_U(file_size(fpath()), FSIZE);
}

static int op_open_read(ctx *c) {
  return mmf_open(&c->m, fpath(), MMF_READ, NULL);
}
static int op_open_copy(ctx *c) {
  int rc = mmf_open(&c->m, fpath(), MMF_COPY, NULL);
  if (rc == 0)
    ((unsigned char *)mmf_data(c->m))[0] = pat(0); /* writable */
  return rc;
}
static int op_open_write(ctx *c) {
  return mmf_open(&c->m, fpath(), MMF_WRITE, NULL);
}
static int op_open_flags(ctx *c) {
  return mmf_open(&c->m, fpath(), MMF_READ,
                  &(mmf_options){.flags = MMF_POPULATE | MMF_SEQUENTIAL |
                                          MMF_HUGE | MMF_LOCKED});
}
static int op_open_copy_flags(ctx *c) {
  return mmf_open(&c->m, fpath(), MMF_COPY,
                  &(mmf_options){.flags = MMF_RANDOM | MMF_LOCKED});
}
static int op_open_fd_read(ctx *c) {
  int fd = open(fpath(), O_RDONLY);
  int rc = mmf_open_fd(&c->m, fd, MMF_READ, NULL);
  close(fd);
  return rc;
}
static int op_open_fd_write(ctx *c) {
  int fd = open(fpath(), O_RDWR);
  int rc = mmf_open_fd(&c->m, fd, MMF_WRITE, NULL);
  close(fd);
  return rc;
}

static int op_open_offset(ctx *c) {
  return mmf_open(&c->m, fpath(), MMF_READ,
                  &(mmf_options){.offset = 4096 + 7, .length = 4096});
}
static void verify_offset(ctx *c, int rc) {
  if (rc == 0)
    check_bytes(c, 4096 + 7, 4096);
}

/* MMF_WRITE growing the file: a failed open leaves the file as it was. */
static int op_open_grow(ctx *c) {
  return mmf_open(&c->m, fpath(), MMF_WRITE,
                  &(mmf_options){.offset = 4096 + 1, .length = 5 * 4096});
}
static void verify_grow(ctx *c, int rc) {
  if (rc == 0) {
    ASSERT_EQ_U(file_size(fpath()), 4096 + 1 + 5 * 4096);
    ASSERT_EQ_U(mmf_size(c->m), 5 * 4096);
    ASSERT_PAT(mmf_data(c->m), 4096 + 1, FSIZE - 4096 - 1);
    ASSERT_ZERO((unsigned char *)mmf_data(c->m) + FSIZE - 4096 - 1,
                5 * 4096 - (FSIZE - 4096 - 1));
  } else {
    ASSERT_EQ_U(file_size(fpath()), FSIZE);
  }
}

static int op_open_prealloc(ctx *c) {
  return mmf_open(&c->m, fpath(), MMF_WRITE,
                  &(mmf_options){.size = 8 * 4096,
                                 .flags = MMF_PREALLOCATE | MMF_SYNC_ON_CLOSE});
}
static void verify_prealloc(ctx *c, int rc) {
  if (rc == 0) {
    ASSERT_EQ_U(file_size(fpath()), 8 * 4096);
    ASSERT_PAT(mmf_data(c->m), 0, FSIZE);
  } else {
    ASSERT_EQ_U(file_size(fpath()), FSIZE);
  }
}

/* Offset past the end even after growing to size: the growth is undone. */
static int op_open_grow_erange(ctx *c) {
  return mmf_open(&c->m, fpath(), MMF_WRITE,
                  &(mmf_options){.offset = 9 * 4096, .size = 8 * 4096});
}
static void verify_unchanged_file(ctx *c, int rc) {
  (void)c;
  (void)rc;
  ASSERT_EQ_U(file_size(fpath()), FSIZE);
}

static void setup_missing(ctx *c) {
  unlink(fpath());
  c->fsize0 = 0;
}
static int op_open_create(ctx *c) {
  return mmf_open(&c->m, fpath(), MMF_WRITE,
                  &(mmf_options){.flags = MMF_CREATE, .size = 2 * 4096});
}
static void verify_create(ctx *c, int rc) {
  if (rc == 0) {
    ASSERT_EQ_U(mmf_size(c->m), 2 * 4096);
    ASSERT_ZERO(mmf_data(c->m), 2 * 4096);
    ASSERT_EQ_U(file_size(fpath()), 2 * 4096);
  }
}
/* The first full flush of a created file syncs its directory too. */
static void setup_created_map(ctx *c) {
  setup_missing(c);
  ASSERT_OK(mmf_open(&c->m, fpath(), MMF_WRITE,
                     &(mmf_options){.flags = MMF_CREATE, .size = 10}));
  c->size0 = 10;
}
static int op_flush_full_created(ctx *c) {
  return mmf_flush(c->m, 0, 0, MMF_FLUSH_FULL);
}
static void verify_flush_created(ctx *c, int rc) {
  (void)rc;
  /* A retry after a failed flush works. */
  ASSERT_OK(mmf_flush(c->m, 0, 0, MMF_FLUSH_FULL));
  ASSERT_EQ_U(mmf_size(c->m), 10);
}

static void setup_empty(ctx *c) {
  write_file(fpath(), NULL, 0);
  c->fsize0 = 0;
}
static int op_open_empty(ctx *c) {
  return mmf_open(&c->m, fpath(), MMF_COPY, NULL);
}
static void verify_empty(ctx *c, int rc) {
  if (rc == 0)
    ASSERT_EQ_U(mmf_size(c->m), 0);
}

static int op_open_dir(ctx *c) {
  return mmf_open(&c->m, test_dir(), MMF_READ, NULL);
}
static void setup_nothing(ctx *c) { (void)c; }

/* A large map: reservation, placed mapping, trimming. */
static void setup_big(ctx *c) {
  make_sparse(fpath(), 16 * MIB);
  write_at(fpath(), 4096 + 123, "big", 3);
  c->fsize0 = 16 * MIB;
}
static int op_open_big(ctx *c) {
  return mmf_open(&c->m, fpath(), MMF_READ,
                  &(mmf_options){.offset = 4096 + 123, .length = 8 * MIB});
}
static void verify_big(ctx *c, int rc) {
  if (rc == 0) {
    ASSERT_EQ_U(mmf_size(c->m), 8 * MIB);
    ASSERT_MEMEQ(mmf_data(c->m), "big", 3);
    if (mmf_is_mapped(c->m))
      ASSERT_EQ_U(((uintptr_t)mmf_data(c->m) - (4096 + 123)) % (2 * MIB), 0);
  }
}

/* --- fallback copies ------------------------------------------------------ */

static int fifo_writer(void *arg) {
  (void)arg;
  unsigned char buf[4096];
  int fd = open(test_path("fifo"), O_WRONLY);
  if (fd < 0)
    return 3;
  for (uint64_t off = 0; off < 200000; off += sizeof buf) {
    size_t n = 200000 - off < sizeof buf ? 200000 - off : sizeof buf;
    fill_pat(buf, off, n);
    if (write(fd, buf, n) != (ssize_t)n)
      return 4;
  }
  close(fd);
  return 0;
}
static void setup_fifo(ctx *c) {
  unlink(test_path("fifo"));
  ASSERT_EQ(mkfifo(test_path("fifo"), 0600), 0);
  c->child = start_child(fifo_writer, NULL);
}
static int op_open_fifo(ctx *c) {
  return mmf_open(&c->m, test_path("fifo"), MMF_READ, NULL);
}
static void verify_fifo(ctx *c, int rc) {
  if (rc == 0) {
    ASSERT_FALSE(mmf_is_mapped(c->m));
    check_bytes(c, 0, 200000);
  }
}
static int op_open_fifo_offset(ctx *c) {
  return mmf_open(&c->m, test_path("fifo"), MMF_COPY,
                  &(mmf_options){.offset = 70001, .length = 100000});
}
static void verify_fifo_offset(ctx *c, int rc) {
  if (rc == 0)
    check_bytes(c, 70001, 100000);
}
static int op_open_proc(ctx *c) {
  return mmf_open(&c->m, "/proc/self/status", MMF_READ, NULL);
}
static void verify_proc(ctx *c, int rc) {
  if (rc == 0) {
    ASSERT_FALSE(mmf_is_mapped(c->m));
    ASSERT_TRUE(memcmp(mmf_data(c->m), "Name:", 5) == 0);
  }
}
static int op_open_dev_zero(ctx *c) {
  return mmf_open(&c->m, "/dev/zero", MMF_READ,
                  &(mmf_options){.offset = 100000, .length = 300000});
}
static void verify_dev_zero(ctx *c, int rc) {
  if (rc == 0) {
    ASSERT_EQ_U(mmf_size(c->m), 300000);
    ASSERT_ZERO(mmf_data(c->m), 300000);
  }
}
static int op_open_pipe(ctx *c) {
  int fds[2];
  unsigned char buf[30000];
  ASSERT_EQ(pipe(fds), 0);
  fill_pat(buf, 0, sizeof buf);
  ASSERT_EQ(write(fds[1], buf, sizeof buf), (ssize_t)sizeof buf);
  close(fds[1]);
  int rc = mmf_open_fd(&c->m, fds[0], MMF_READ, NULL);
  close(fds[0]);
  return rc;
}
static void verify_pipe(ctx *c, int rc) {
  if (rc == 0)
    check_bytes(c, 0, 30000);
}

/* --- anonymous memory ----------------------------------------------------- */

static int op_anon_private(ctx *c) { return mmf_anon(&c->m, 3 * 4096, 0); }
static int op_anon_shared(ctx *c) {
  return mmf_anon(&c->m, 3 * 4096, MMF_SHARED | MMF_POPULATE);
}
static int op_anon_flags(ctx *c) {
  return mmf_anon(&c->m, 4 * MIB, MMF_HUGE | MMF_LOCKED);
}
static void verify_anon(ctx *c, int rc) {
  if (rc == 0) {
    ASSERT_ZERO(mmf_data(c->m), mmf_size(c->m));
    memset(mmf_data(c->m), 1, mmf_size(c->m));
  }
}

/* --- operations on a handle ---------------------------------------------- */

static void open_for_handle(ctx *c, int mode, const mmf_options *o) {
  setup_file(c);
  ASSERT_OK(mmf_open(&c->m, fpath(), mode, o));
  c->size0 = mmf_size(c->m);
}
static void setup_write_map(ctx *c) { open_for_handle(c, MMF_WRITE, NULL); }
static void setup_read_map(ctx *c) {
  open_for_handle(c, MMF_READ, &(mmf_options){.length = 4096});
}
static void setup_copy_map(ctx *c) {
  open_for_handle(c, MMF_COPY, &(mmf_options){.offset = 5, .length = 4096});
}
static void setup_locked_map(ctx *c) {
  open_for_handle(c, MMF_WRITE, &(mmf_options){.flags = MMF_LOCKED});
}
static void setup_prealloc_map(ctx *c) {
  open_for_handle(c, MMF_WRITE,
                  &(mmf_options){.flags = MMF_PREALLOCATE | MMF_SYNC_ON_CLOSE});
}
static void setup_anon_map(ctx *c) {
  ASSERT_OK(mmf_anon(&c->m, 4096, 0));
  memset(mmf_data(c->m), 0xa5, 4096);
  c->size0 = 4096;
}
static void setup_big_write_map(ctx *c) {
  make_sparse(fpath(), 4096);
  write_at(fpath(), 0, "big", 3);
  ASSERT_OK(mmf_open(&c->m, fpath(), MMF_WRITE,
                     &(mmf_options){.offset = 3, .length = 3 * MIB}));
  c->size0 = mmf_size(c->m);
  c->fsize0 = file_size(fpath());
  /* Block growth in place, so a resize has to move the mapping. */
  uintptr_t end = (uintptr_t)mmf_data(c->m) + c->size0;
  uintptr_t next = (end + 4095) & ~(uintptr_t)4095;
  c->blocker = mmap((void *)next, 4096, PROT_NONE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (c->blocker == MAP_FAILED)
    FAIL("blocker: %s", strerror(errno));
}

/* resize: after failure the map and the file are as before (or the map is
 * poisoned); after success both have the new size. */
static void verify_resize_file(ctx *c, int rc, uint64_t new_size) {
  const uint64_t off = mmf_offset(c->m);
  if (rc == 0) {
    ASSERT_EQ_U(mmf_size(c->m), new_size);
    if (mmf_mode(c->m) == MMF_WRITE)
      ASSERT_EQ_U(file_size(fpath()), off + new_size);
    uint64_t keep = new_size < c->size0 ? new_size : c->size0;
    uint64_t fkeep = c->fsize0 > off ? c->fsize0 - off : 0;
    if (keep > fkeep)
      keep = fkeep;
    ASSERT_PAT(mmf_data(c->m), off, keep > 100 ? 100 : keep);
    return;
  }
  int r = mmf_flush(c->m, 0, 0, MMF_FLUSH_ASYNC);
  if (r == MMF_EPOISONED)
    return;
  ASSERT_OK(r);
  ASSERT_EQ_U(mmf_size(c->m), c->size0);
  /* The file still holds every mapped byte: touching them is safe. */
  ASSERT_GE_U(file_size(fpath()), off + c->size0);
  if (mmf_mode(c->m) == MMF_WRITE)
    ASSERT_EQ_U(file_size(fpath()), c->fsize0);
  ASSERT_PAT(mmf_data(c->m), off, c->size0 > 100 ? 100 : c->size0);
  volatile unsigned char *last = (unsigned char *)mmf_data(c->m) + c->size0 - 1;
  (void)*last;
}

static int op_resize_grow(ctx *c) { return mmf_resize(c->m, 5 * 4096 + 9); }
static void verify_resize_grow(ctx *c, int rc) {
  verify_resize_file(c, rc, 5 * 4096 + 9);
}
static int op_resize_shrink(ctx *c) { return mmf_resize(c->m, 4096 + 1); }
static void verify_resize_shrink(ctx *c, int rc) {
  verify_resize_file(c, rc, 4096 + 1);
}
static int op_resize_zero_and_back(ctx *c) {
  int rc = mmf_resize(c->m, 0);
  if (rc == 0)
    rc = mmf_resize(c->m, FSIZE);
  return rc;
}
static void verify_resize_zero_and_back(ctx *c, int rc) {
  if (rc == 0) {
    ASSERT_EQ_U(mmf_size(c->m), FSIZE);
    ASSERT_EQ_U(file_size(fpath()), FSIZE);
    return;
  }
  /* Either step may have failed: the map is empty or whole, and usable. */
  int r = mmf_flush(c->m, 0, 0, MMF_FLUSH_ASYNC);
  if (r == MMF_EPOISONED)
    return;
  ASSERT_OK(r);
  ASSERT_GE_U(file_size(fpath()), mmf_size(c->m));
  ASSERT_TRUE(mmf_size(c->m) == 0 || mmf_size(c->m) == FSIZE);
}
static int op_resize_read_grow(ctx *c) { return mmf_resize(c->m, FSIZE); }
static void verify_resize_read_grow(ctx *c, int rc) {
  verify_resize_file(c, rc, FSIZE);
}
static int op_resize_copy_grow(ctx *c) {
  ((unsigned char *)mmf_data(c->m))[0] = pat(5);
  return mmf_resize(c->m, FSIZE - 5);
}
static void verify_resize_copy_grow(ctx *c, int rc) {
  verify_resize_file(c, rc, FSIZE - 5);
}
static int op_resize_big(ctx *c) { return mmf_resize(c->m, 9 * MIB); }
static void verify_resize_big(ctx *c, int rc) {
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
static int op_resize_anon(ctx *c) {
  int rc = mmf_resize(c->m, 3 * MIB);
  if (rc == 0)
    rc = mmf_resize(c->m, 100);
  return rc;
}
static void verify_resize_anon(ctx *c, int rc) {
  if (rc == 0) {
    ASSERT_EQ_U(mmf_size(c->m), 100);
    ASSERT_EQ(((unsigned char *)mmf_data(c->m))[99], 0xa5);
    return;
  }
  int r = mmf_flush(c->m, 0, 0, MMF_FLUSH_ASYNC);
  if (r == MMF_EPOISONED)
    return;
  ASSERT_TRUE(mmf_size(c->m) == 4096 || mmf_size(c->m) == 3 * MIB);
  ASSERT_EQ(((unsigned char *)mmf_data(c->m))[4095], 0xa5);
}

/* flush */
static int op_flush_async(ctx *c) {
  ((unsigned char *)mmf_data(c->m))[1] = pat(1);
  return mmf_flush(c->m, 1, 4096, MMF_FLUSH_ASYNC);
}
static int op_flush_sync(ctx *c) {
  return mmf_flush(c->m, 0, 0, MMF_FLUSH_SYNC);
}
static int op_flush_full(ctx *c) {
  return mmf_flush(c->m, 4095, 2, MMF_FLUSH_FULL);
}
static void verify_handle(ctx *c, int rc) {
  (void)rc;
  check_usable(c, mmf_offset(c->m));
}

/* advise, protect, lock, resident */
static int op_advise_all(ctx *c) {
  for (int a = MMF_ADV_NORMAL; a <= MMF_ADV_HUGEPAGE; a++) {
    int rc = mmf_advise(c->m, 1, 2 * 4096, a);
    if (rc)
      return rc;
  }
  return 0;
}
static int op_protect(ctx *c) {
  int rc = mmf_protect(c->m, 4096, 1, MMF_PROT_NONE);
  if (rc == 0)
    rc = mmf_protect(c->m, 0, 0, MMF_PROT_READ);
  if (rc == 0)
    rc = mmf_protect(c->m, 0, 0, MMF_PROT_WRITE);
  return rc;
}
static void verify_protect(ctx *c, int rc) {
  /* Whatever failed, restore access with the calls themselves. */
  (void)rc;
  ASSERT_OK(mmf_protect(c->m, 0, 0, MMF_PROT_WRITE));
  check_usable(c, 0);
}
static int op_lock(ctx *c) {
  int rc = mmf_lock_memory(c->m, 0, 0);
  if (rc == 0)
    rc = mmf_unlock_memory(c->m, 1, 4096);
  if (rc == 0)
    rc = mmf_unlock_memory(c->m, 0, 0);
  return rc;
}
static int op_resident(ctx *c) {
  c->bytes = 12345;
  return mmf_resident(c->m, 3, 0, &c->bytes);
}
static void verify_resident(ctx *c, int rc) {
  if (rc == 0)
    ASSERT_LE_U(c->bytes, mmf_size(c->m) - 3);
  else
    ASSERT_EQ_U(c->bytes, 0);
  check_usable(c, 0);
}

/* sharing: wait and wake */
static uint32_t word_at(ctx *c, uint64_t off) {
  uint32_t w;
  memcpy(&w, (unsigned char *)mmf_data(c->m) + off, sizeof w);
  return w;
}
static int op_wait_timeout(ctx *c) {
  return mmf_wait(c->m, 8, word_at(c, 8), 2000000);
}
/* Systems without a futex poll with nanosleep. */
static int op_wait_polling(ctx *c) {
  int (*saved)(uint32_t *, uint32_t, const struct timespec *) =
      mmf__sys.futex_wait;
  mmf__sys.futex_wait = NULL;
  int rc = mmf_wait(c->m, 8, word_at(c, 8), 3000000);
  mmf__sys.futex_wait = saved;
  return rc;
}
static int op_wake(ctx *c) { return mmf_wake(c->m, 8, INT_MAX); }

/* sharing: the mutex at offset 64 */
#define MUTEX_AT 64
static void put_pattern_back(ctx *c) {
  fill_pat((unsigned char *)mmf_data(c->m) + MUTEX_AT, MUTEX_AT, 64);
}
static void setup_mutex_map(ctx *c) {
  setup_write_map(c);
  memset((unsigned char *)mmf_data(c->m) + MUTEX_AT, 0, 64);
}
static int op_mutex_lock_unlock(ctx *c) {
  int rc = mmf_mutex_lock(c->m, MUTEX_AT, -1);
  if (rc == 0)
    rc = mmf_mutex_unlock(c->m, MUTEX_AT);
  return rc;
}
static void verify_mutex(ctx *c, int rc) {
  /* Whatever happened, a later lock and unlock work (taking over from
   * the dead owner of some walks). */
  (void)rc;
  int r = mmf_mutex_lock(c->m, MUTEX_AT, 0);
  if (r == MMF_EOWNERDEAD)
    r = mmf_mutex_consistent(c->m, MUTEX_AT);
  ASSERT_OK(r);
  ASSERT_OK(mmf_mutex_unlock(c->m, MUTEX_AT));
  put_pattern_back(c);
  check_usable(c, 0);
}
/* The owner recorded is a thread id no system hands out (pid_max is at
 * most 2^22): dead. */
static void setup_dead_owner(ctx *c) {
  setup_mutex_map(c);
  uint64_t w = 0x3FFFFFF0u | (uint64_t)1 << 32;
  memcpy((unsigned char *)mmf_data(c->m) + MUTEX_AT, &w, sizeof w);
}
static int op_mutex_lock_dead_owner(ctx *c) {
  int rc = mmf_mutex_lock(c->m, MUTEX_AT, -1);
  if (rc == MMF_EOWNERDEAD) {
    int r = mmf_mutex_consistent(c->m, MUTEX_AT);
    if (r == 0)
      r = mmf_mutex_unlock(c->m, MUTEX_AT);
    if (r)
      return r;
  }
  return rc;
}
/* The owner is a live child process. */
static int hold_mutex(void *arg) {
  ctx *c = arg;
  if (mmf_mutex_lock(c->m, MUTEX_AT, -1) != 0)
    return 3;
  for (;;)
    pause();
}
static void setup_live_owner(ctx *c) {
  setup_mutex_map(c);
  c->child = start_child(hold_mutex, c);
  while (*(volatile uint32_t *)((unsigned char *)mmf_data(c->m) + MUTEX_AT) ==
         0)
    usleep(100);
}
static int op_mutex_try_held(ctx *c) {
  return mmf_mutex_lock(c->m, MUTEX_AT, 0);
}
static int op_mutex_timed_held(ctx *c) {
  return mmf_mutex_lock(c->m, MUTEX_AT, 3000000);
}
static void verify_live_owner(ctx *c, int rc) {
  (void)rc;
  kill(c->child, SIGKILL);
  wait_child(c->child);
  c->child = 0;
  verify_mutex(c, 0);
}
/* Unlocking after an owner died, without repair: not recoverable, and
 * every sleeper is woken to learn it. */
static void setup_owner_died(ctx *c) {
  setup_dead_owner(c);
  ASSERT_ERR(mmf_mutex_lock(c->m, MUTEX_AT, -1), MMF_EOWNERDEAD);
}
static int op_mutex_unlock_died(ctx *c) {
  return mmf_mutex_unlock(c->m, MUTEX_AT);
}
static void verify_not_recoverable(ctx *c, int rc) {
  if (rc == 0)
    ASSERT_ERR(mmf_mutex_lock(c->m, MUTEX_AT, 0), MMF_ENOTRECOVERABLE);
  put_pattern_back(c);
  check_usable(c, 0);
}

/* sharing: file locks */
static int op_lock_file(ctx *c) {
  int rc = mmf_lock_file(c->m, 10, 100, MMF_LOCK_EXCLUSIVE);
  if (rc == 0)
    rc = mmf_unlock_file(c->m, 10, 100);
  if (rc == 0)
    rc = mmf_lock_file(c->m, 0, 0, MMF_LOCK_SHARED | MMF_LOCK_NOWAIT);
  if (rc == 0)
    rc = mmf_unlock_file(c->m, 0, 0);
  return rc;
}
/* Systems without OFD locks use flock() on the whole file. */
static int op_lock_file_flock(ctx *c) {
  int (*saved)(int, int, struct flock *) = mmf__sys.fcntl_lock;
  mmf__sys.fcntl_lock = NULL;
  int rc = op_lock_file(c);
  mmf__sys.fcntl_lock = saved;
  return rc;
}
/* Held by a child through a map of its own (the step's map shares its
 * open file with the child, and so its locks): a wait-less lock is
 * refused. */
static int hold_file_lock(void *arg) {
  ctx *c = arg;
  mmf_map *own = NULL;
  if (mmf_open(&own, fpath(), MMF_WRITE, NULL) != 0 ||
      mmf_lock_file(own, 0, 0, MMF_LOCK_EXCLUSIVE) != 0)
    return 3;
  *(volatile char *)mmf_data(c->m) = 'L';
  for (;;)
    pause();
}
static void setup_file_lock_held(ctx *c) {
  setup_write_map(c);
  c->child = start_child(hold_file_lock, c);
  while (*(volatile char *)mmf_data(c->m) != 'L')
    usleep(100);
  *(char *)mmf_data(c->m) = (char)pat(0);
}
static int op_lock_file_busy(ctx *c) {
  return mmf_lock_file(c->m, 1, 1, MMF_LOCK_SHARED | MMF_LOCK_NOWAIT);
}
static void verify_file_lock_busy(ctx *c, int rc) {
  (void)rc;
  kill(c->child, SIGKILL);
  wait_child(c->child);
  c->child = 0;
  check_usable(c, 0);
}

/* named shared memory */
static const char *shm_name(void) {
  static char name[64];
  snprintf(name, sizeof name, "mmf-inject-%ld", (long)getpid());
  return name;
}
static void setup_no_shm(ctx *c) {
  (void)c;
  (void)mmf_shm_unlink(shm_name());
}
static int op_shm_create(ctx *c) {
  return mmf_shm_open(&c->m, shm_name(), MMF_WRITE,
                      &(mmf_options){.size = 3 * 4096 + 5,
                                     .flags = MMF_CREATE | MMF_PREALLOCATE});
}
/* A failed create leaves no region behind; either way, remove it. */
static void verify_shm_create(ctx *c, int rc) {
  mmf_map *m = NULL;
  if (rc == 0) {
    ASSERT_EQ_U(mmf_size(c->m), 3 * 4096 + 5);
    ASSERT_ZERO(mmf_data(c->m), 3 * 4096 + 5);
  } else {
    ASSERT_ERR(mmf_shm_open(&m, shm_name(), MMF_READ, NULL), MMF_ENOENT);
  }
  (void)mmf_shm_unlink(shm_name());
}
static void setup_shm(ctx *c) {
  mmf_map *m = NULL;
  setup_no_shm(c);
  ASSERT_OK(mmf_shm_open(&m, shm_name(), MMF_WRITE,
                         &(mmf_options){.size = FSIZE, .flags = MMF_CREATE}));
  fill_pat(mmf_data(m), 0, FSIZE);
  ASSERT_OK(mmf_close(m));
}
static int op_shm_open(ctx *c) {
  return mmf_shm_open(&c->m, shm_name(), MMF_READ,
                      &(mmf_options){.offset = 4096 + 7});
}
static void verify_shm_open(ctx *c, int rc) {
  if (rc == 0)
    check_bytes(c, 4096 + 7, FSIZE - 4096 - 7);
  (void)mmf_shm_unlink(shm_name());
}
static int op_shm_unlink(ctx *c) {
  (void)c;
  return mmf_shm_unlink(shm_name());
}
static void verify_shm_unlink(ctx *c, int rc) {
  mmf_map *m = NULL;
  (void)c;
  if (rc == 0)
    ASSERT_ERR(mmf_shm_open(&m, shm_name(), MMF_READ, NULL), MMF_ENOENT);
  (void)mmf_shm_unlink(shm_name());
}

/* close */
static int op_close(ctx *c) {
  int rc = mmf_close(c->m);
  c->m = NULL;
  return rc;
}
static void verify_closed_sync(ctx *c, int rc) {
  (void)c;
  (void)rc;
  ASSERT_EQ_U(file_size(fpath()), FSIZE);
}
static void setup_sync_close_map(ctx *c) {
  open_for_handle(c, MMF_WRITE, &(mmf_options){.flags = MMF_SYNC_ON_CLOSE});
  memcpy(mmf_data(c->m), "dirty", 5);
}
static void setup_fallback_map(ctx *c) {
  ASSERT_OK(
      mmf_open(&c->m, "/dev/zero", MMF_READ, &(mmf_options){.length = 100000}));
}

static const walk_def walks[] = {
    {"open READ", OPENS, 0, setup_file, op_open_read, verify_whole},
    {"open COPY", OPENS, 0, setup_file, op_open_copy, verify_whole},
    {"open WRITE", OPENS, 0, setup_file, op_open_write, verify_whole},
    {"open READ POPULATE|SEQUENTIAL|HUGE|LOCKED", OPENS, 0, setup_file,
     op_open_flags, verify_whole},
    {"open COPY RANDOM|LOCKED", OPENS, 0, setup_file, op_open_copy_flags,
     verify_whole},
    {"open_fd READ", OPENS, 0, setup_file, op_open_fd_read, verify_whole},
    {"open_fd WRITE", OPENS, 0, setup_file, op_open_fd_write, verify_whole},
    {"open READ at offset", OPENS, 0, setup_file, op_open_offset,
     verify_offset},
    {"open WRITE growing", OPENS, 0, setup_file, op_open_grow, verify_grow},
    {"open WRITE PREALLOCATE", OPENS, 0, setup_file, op_open_prealloc,
     verify_prealloc},
    {"open WRITE offset past size", OPENS, MMF_ERANGE, setup_file,
     op_open_grow_erange, verify_unchanged_file},
    {"open WRITE CREATE", OPENS, 0, setup_missing, op_open_create,
     verify_create},
    {"open empty file", OPENS, 0, setup_empty, op_open_empty, verify_empty},
    {"open directory", OPENS, MMF_EISDIR, setup_nothing, op_open_dir, NULL},
    {"open large placed", OPENS, 0, setup_big, op_open_big, verify_big},
    {"open FIFO", OPENS, 0, setup_fifo, op_open_fifo, verify_fifo},
    {"open FIFO at offset", OPENS, 0, setup_fifo, op_open_fifo_offset,
     verify_fifo_offset},
    {"open /proc/self/status", OPENS, 0, setup_nothing, op_open_proc,
     verify_proc},
    {"open /dev/zero", OPENS, 0, setup_nothing, op_open_dev_zero,
     verify_dev_zero},
    {"open_fd pipe", OPENS, 0, setup_nothing, op_open_pipe, verify_pipe},
    {"anon private", OPENS, 0, setup_nothing, op_anon_private, verify_anon},
    {"anon SHARED|POPULATE", OPENS, 0, setup_nothing, op_anon_shared,
     verify_anon},
    {"anon HUGE|LOCKED 4 MiB", OPENS, 0, setup_nothing, op_anon_flags,
     verify_anon},
    {"resize WRITE grow", HANDLE, 0, setup_write_map, op_resize_grow,
     verify_resize_grow},
    {"resize WRITE shrink", HANDLE, 0, setup_write_map, op_resize_shrink,
     verify_resize_shrink},
    {"resize WRITE to 0 and back", HANDLE, 0, setup_write_map,
     op_resize_zero_and_back, verify_resize_zero_and_back},
    {"resize WRITE LOCKED grow", HANDLE, 0, setup_locked_map, op_resize_grow,
     verify_resize_grow},
    {"resize WRITE PREALLOCATE grow", HANDLE, 0, setup_prealloc_map,
     op_resize_grow, verify_resize_grow},
    {"resize READ grow", HANDLE, 0, setup_read_map, op_resize_read_grow,
     verify_resize_read_grow},
    {"resize COPY grow", HANDLE, 0, setup_copy_map, op_resize_copy_grow,
     verify_resize_copy_grow},
    {"resize WRITE large, moved", HANDLE, 0, setup_big_write_map, op_resize_big,
     verify_resize_big},
    {"resize anon", HANDLE, 0, setup_anon_map, op_resize_anon,
     verify_resize_anon},
    {"flush ASYNC", HANDLE, 0, setup_write_map, op_flush_async, verify_handle},
    {"flush SYNC", HANDLE, 0, setup_write_map, op_flush_sync, verify_handle},
    {"flush FULL", HANDLE, 0, setup_write_map, op_flush_full, verify_handle},
    {"flush FULL of a created file", HANDLE, 0, setup_created_map,
     op_flush_full_created, verify_flush_created},
    {"advise every advice", HANDLE, 0, setup_write_map, op_advise_all,
     verify_handle},
    {"protect", HANDLE, 0, setup_write_map, op_protect, verify_protect},
    {"lock and unlock", HANDLE, 0, setup_write_map, op_lock, verify_handle},
    {"resident", HANDLE, 0, setup_write_map, op_resident, verify_resident},
    {"wait with timeout", SHARED, MMF_ETIMEDOUT, setup_write_map,
     op_wait_timeout, verify_handle},
    {"wait polling", SHARED, MMF_ETIMEDOUT, setup_write_map, op_wait_polling,
     verify_handle},
    {"wake", SHARED, 0, setup_write_map, op_wake, verify_handle},
    {"mutex lock and unlock", SHARED, 0, setup_mutex_map, op_mutex_lock_unlock,
     verify_mutex},
    {"mutex lock, owner dead", SHARED, MMF_EOWNERDEAD, setup_dead_owner,
     op_mutex_lock_dead_owner, verify_mutex},
    {"mutex try, owner alive", SHARED, MMF_ETIMEDOUT, setup_live_owner,
     op_mutex_try_held, verify_live_owner},
    {"mutex timed lock, owner alive", SHARED, MMF_ETIMEDOUT, setup_live_owner,
     op_mutex_timed_held, verify_live_owner},
    {"mutex unlock, not repaired", SHARED, 0, setup_owner_died,
     op_mutex_unlock_died, verify_not_recoverable},
    {"lock_file", SHARED, 0, setup_write_map, op_lock_file, verify_handle},
    {"lock_file with flock", SHARED, 0, setup_write_map, op_lock_file_flock,
     verify_handle},
    {"lock_file held elsewhere", SHARED, MMF_EBUSY, setup_file_lock_held,
     op_lock_file_busy, verify_file_lock_busy},
    {"shm create", OPENS, 0, setup_no_shm, op_shm_create, verify_shm_create},
    {"shm open existing", OPENS, 0, setup_shm, op_shm_open, verify_shm_open},
    {"shm unlink", OPENS, 0, setup_shm, op_shm_unlink, verify_shm_unlink},
    {"close", CLOSES, 0, setup_write_map, op_close, NULL},
    {"close SYNC_ON_CLOSE", CLOSES, 0, setup_sync_close_map, op_close,
     verify_closed_sync},
    {"close fallback copy", CLOSES, 0, setup_fallback_map, op_close, NULL},
};
#define N_WALKS (sizeof walks / sizeof walks[0])

/* What a step reports to the walk (shared with the child running it). */
typedef struct step_report {
  int hit;
} step_report;

/* One step of a walk: fail call n and check everything. Runs in a child
 * process, so a failed check ends only this step and the walk goes on to
 * list every failing path. */
static void walk_step(const walk_def *w, const profile *prof, int n, int fds,
                      int maps, step_report *report) {
  ctx c;
  memset(&c, 0, sizeof c);
  w->setup(&c);
  munmap_failed = 0;
  inj_arm(prof, n);
  int rc = w->op(&c);
  inj_disarm();
  const int hit = inj_hit, err = inj_err;
  const char *what = hit ? sys_names[inj_hit_id] : "nothing";
  report->hit = hit;
  test_context("%s [%s], call %d (%s) failing with %s, result %s", w->name,
               prof->name, n, what, strerror(err), mmf_errname(rc));

  if (!test_is_mmf_error(rc) && rc != 0)
    FAIL("returned %d, not an MMF code", rc);
  if (!hit && rc != w->expect)
    FAIL("with no failure injected got %s, expected %s", mmf_errname(rc),
         mmf_errname(w->expect));
  if (hit && rc != w->expect) {
    int want = mmf__os_error(err);
    if (rc != want)
      FAIL("got %s, expected %s (or %s if the call is optional)",
           mmf_errname(rc), mmf_errname(want), mmf_errname(w->expect));
    int os =
        w->kind == HANDLE ? mmf_last_os_error(c.m) : mmf_last_os_error(NULL);
    if (w->kind != CLOSES && os != err)
      FAIL("mmf_last_os_error is %d (%s), expected %d", os, strerror(os), err);
  }
  if (w->kind == OPENS && rc != 0 && c.m != NULL)
    FAIL("failed but *out is %p, not NULL", (void *)c.m);
  if ((w->kind == HANDLE || w->kind == SHARED) && c.m == NULL)
    FAIL("handle lost");
  if (w->verify)
    w->verify(&c, rc);
  teardown(&c);

  int fds2 = count_open_fds();
  if (fds2 != fds)
    FAIL("%d descriptors before, %d after close", fds, fds2);
  int maps2 = count_mappings();
  /* A failed munmap leaves its mapping, by the OS's decision. */
  if (!munmap_failed && maps2 != maps)
    FAIL("%d mappings before, %d after close", maps, maps2);
  test_context_clear();
}

/* Run one walk with one profile; returns the number of failure paths, and
 * adds the steps that failed a check to *failed. */
static int walk(const walk_def *w, const profile *prof, int *failed) {
  ctx c;
  int rc, paths = 0;

  /* Warm-up without injection, then the baseline. */
  memset(&c, 0, sizeof c);
  w->setup(&c);
  inj_arm(prof, 0);
  rc = w->op(&c);
  inj_disarm();
  if (rc != w->expect)
    FAIL("%s: without injection got %s, expected %s", w->name, mmf_errname(rc),
         mmf_errname(w->expect));
  if (w->verify)
    w->verify(&c, rc);
  teardown(&c);
  const int calls = inj_calls;
  step_report *report = mmap(NULL, sizeof *report, PROT_READ | PROT_WRITE,
                             MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  ASSERT_TRUE(report != MAP_FAILED);
  const int fds = count_open_fds();
  const int maps = count_mappings();
  for (int n = 1; n <= 4 * calls + 100; n++) {
    report->hit = -1;
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      walk_step(w, prof, n, fds, maps, report);
      _exit(0);
    }
    int st = wait_child(pid);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
      if (WIFSIGNALED(st))
        fprintf(stderr, "  %s [%s] call %d: step died of signal %d (%s)\n",
                w->name, prof->name, n, WTERMSIG(st), strsignal(WTERMSIG(st)));
      ++*failed;
    }
    if (report->hit == 0) {
      munmap(report, sizeof *report);
      return paths;
    }
    paths++;
  }
  FAIL("%s [%s]: the operation made more calls than without injection", w->name,
       prof->name);
}

static void run_walks(int first, int last) {
  install_wrappers();
  int total = 0, failed = 0;
  for (int i = first; i <= last; i++) {
    int a = walk(&walks[i], &profile_a, &failed);
    int b = walk(&walks[i], &profile_b, &failed);
    test_note("%-45s %3d + %3d paths", walks[i].name, a, b);
    total += a + b;
  }
  restore_real();
  test_note("%d failure paths walked, %d failed a check", total, failed);
  ASSERT_GT(total, 0);
  ASSERT_EQ(failed, 0);
}

static int find_walk(const char *name) {
  for (size_t i = 0; i < N_WALKS; i++)
    if (strcmp(walks[i].name, name) == 0)
      return (int)i;
  FAIL("no walk named %s", name);
}

#endif /* _WIN32 */

TEST(inject_open_paths) {
#ifdef _WIN32
  SKIP(NOT_ON_WINDOWS);
#else
  run_walks(find_walk("open READ"), find_walk("open large placed"));
#endif
}

TEST(inject_fallback_paths) {
#ifdef _WIN32
  SKIP(NOT_ON_WINDOWS);
#else
  run_walks(find_walk("open FIFO"), find_walk("open_fd pipe"));
#endif
}

TEST(inject_anon_paths) {
#ifdef _WIN32
  SKIP(NOT_ON_WINDOWS);
#else
  run_walks(find_walk("anon private"), find_walk("anon HUGE|LOCKED 4 MiB"));
#endif
}

TEST(inject_resize_paths) {
#ifdef _WIN32
  SKIP(NOT_ON_WINDOWS);
#else
  run_walks(find_walk("resize WRITE grow"), find_walk("resize anon"));
#endif
}

TEST(inject_control_paths) {
#ifdef _WIN32
  SKIP(NOT_ON_WINDOWS);
#else
  run_walks(find_walk("flush ASYNC"), find_walk("resident"));
#endif
}

TEST(inject_share_paths) {
#ifdef _WIN32
  SKIP(NOT_ON_WINDOWS);
#else
  run_walks(find_walk("wait with timeout"), find_walk("shm unlink"));
#endif
}

TEST(inject_close_paths) {
#ifdef _WIN32
  SKIP(NOT_ON_WINDOWS);
#else
  run_walks(find_walk("close"), find_walk("close fallback copy"));
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

#ifndef _WIN32
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

/* A locked map whose resize cannot lock the new pages, and then cannot go
 * back to the old size either, is poisoned: every call but close returns
 * MMF_EPOISONED, its pointer stays inside a live mapping, and close
 * releases everything. */
TEST(resize_lock_and_undo_fail_poisons) {
#ifdef _WIN32
  SKIP(NOT_ON_WINDOWS);
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
  inj_arm(&profile_a, 1);
  int rc = mmf_open(&m, fpath(), MMF_READ, NULL);
  inj_disarm();
  ASSERT_TRUE(inj_hit);
  ASSERT_ERR(rc, MMF_EMFILE); /* open fails with EMFILE in profile A */
  ASSERT_NULL(m);
  restore_real();
#endif
}
