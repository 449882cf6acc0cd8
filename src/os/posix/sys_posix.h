/*
 * sys_posix.h - the table every POSIX system call of the backend goes
 * through.
 *
 * Tests replace entries to make the N-th call fail on purpose, so each error
 * path is exercised rather than hoped for. The table is internal: it is not
 * exported from the shared library; tests link the static one.
 */
#ifndef MMF_SYS_POSIX_H
#define MMF_SYS_POSIX_H

#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <time.h>

typedef struct mmf__syscalls {
  int (*open)(const char *path, int flags, mode_t mode);
  int (*close)(int fd);
  int (*fstat)(int fd, struct stat *st);
  int (*fcntl_dupfd)(int fd); /* F_DUPFD_CLOEXEC */
  int (*fcntl_getfl)(int fd);
  ssize_t (*read)(int fd, void *buf, size_t n);
  ssize_t (*pread)(int fd, void *buf, size_t n, off_t off);
  int (*ftruncate)(int fd, off_t size);
  int (*fallocate)(int fd, off_t off, off_t len); /* returns an errno */
  int (*fsync)(int fd);
  int (*fstatvfs)(int fd, struct statvfs *st);
  void *(*mmap)(void *addr, size_t len, int prot, int flags, int fd, off_t off);
  int (*munmap)(void *addr, size_t len);
  /* NULL where the OS has no mremap. */
  void *(*mremap)(void *old, size_t old_len, size_t new_len, int flags,
                  void *new_addr);
  int (*msync)(void *addr, size_t len, int flags);
  int (*madvise)(void *addr, size_t len, int advice);
  int (*mprotect)(void *addr, size_t len, int prot);
  int (*mincore)(void *addr, size_t len, unsigned char *vec);
  int (*mlock)(const void *addr, size_t len);
  int (*munlock)(const void *addr, size_t len);
  int (*getrlimit)(int resource, struct rlimit *rl);
  off_t (*lseek)(int fd, off_t off, int whence);
  int (*unlink)(const char *path);
  /* The filesystem type of fd (statfs f_type), into *type; -1 and errno
   * where the OS cannot tell. */
  int (*fs_type)(int fd, long *type);
  /* The log: whole-file writes, directories and the writer lock. */
  ssize_t (*pwrite)(int fd, const void *buf, size_t n, off_t off);
  int (*fdatasync)(int fd);
  int (*mkdir)(const char *path, mode_t mode);
  int (*rename)(const char *from, const char *to);
  DIR *(*opendir)(const char *path);
  struct dirent *(*readdir)(DIR *d); /* NULL and errno 0 at the end */
  int (*closedir)(DIR *d);
  int (*lock_nowait)(int fd); /* exclusive whole-file lock; -1 EAGAIN: held */
  /* Sharing between processes. The futex entries are NULL where the OS
   * has no futex (waiters then poll, sleeping with nanosleep). futex_wait
   * sleeps while *addr == val, until the absolute CLOCK_MONOTONIC time
   * deadline (NULL: no limit). */
  int (*futex_wait)(uint32_t *addr, uint32_t val,
                    const struct timespec *deadline);
  int (*futex_wake)(uint32_t *addr, int count);
  int (*clock_gettime)(clockid_t clock, struct timespec *ts);
  int (*nanosleep)(const struct timespec *req, struct timespec *rem);
  /* Who owns a robust mutex, and whether it still runs. gettid is the
   * kernel's thread id (0 where there is none). */
  pid_t (*gettid)(void);
  pid_t (*getpid)(void);
  int (*kill)(pid_t pid, int sig);
  /* Byte-range locks: fcntl with F_OFD_SETLK or F_OFD_SETLKW (NULL where
   * the OS has no open-file-description locks), and flock. */
  int (*fcntl_lock)(int fd, int cmd, struct flock *fl);
  int (*flock)(int fd, int op);
  /* Named shared memory. */
  int (*shm_open)(const char *name, int flags, mode_t mode);
  int (*shm_unlink)(const char *name);
  /* The scans' worker threads. thread_create and thread_join return an
   * errno value (0: done), as pthread_create and pthread_join do;
   * thread_create runs fn(arg) on a small stack (256 KiB). thread_sigmask is
   * pthread_sigmask. */
  int (*thread_create)(pthread_t *t, void *(*fn)(void *arg), void *arg);
  int (*thread_join)(pthread_t t);
  int (*thread_sigmask)(int how, const sigset_t *set, sigset_t *old);
  /* The CPU's features as the kernel reports them: getauxval(AT_HWCAP)
   * (NULL where the OS has no auxiliary vector). */
  unsigned long (*hwcap)(void);
  /* Reading around the page cache where open() has no O_DIRECT (macOS):
   * nocache turns caching off for the open file (fcntl F_NOCACHE),
   * fd_path gives the path of an open file (fcntl F_GETPATH, into a
   * buffer of PATH_MAX bytes). NULL elsewhere. */
  int (*nocache)(int fd);
  int (*fd_path)(int fd, char *buf);
} mmf__syscalls;

/* The live table. */
extern mmf__syscalls mmf__sys;
/* The real calls, to restore entries after a test. */
extern const mmf__syscalls mmf__sys_real;

#endif /* MMF_SYS_POSIX_H */
