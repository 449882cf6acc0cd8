/*
 * cli_os.h - the few operating-system calls the mmf tool needs that the
 * library does not offer: the entry point, opening and describing files,
 * dropping them from the page cache, clocks, signals, terminals and
 * /proc/self/smaps.
 *
 * Functions return 0 or a positive errno value, except where noted.
 * os_posix.c implements them for POSIX systems, os_win.c for Windows.
 * Descriptors are what mmf_open_fd() takes: POSIX descriptors, or C
 * runtime descriptors on Windows.
 */
#ifndef MMF_CLI_OS_H
#define MMF_CLI_OS_H

#include <stddef.h>
#include <stdint.h>

/*
 * The tool itself (main.c). The OS layer owns the entry point (main, or
 * wmain on Windows), sets up standard streams (binary mode on Windows)
 * and calls this with the arguments in UTF-8.
 */
int cli_main(int argc, char **argv);

/* What a path or descriptor is. */
enum cli_kind {
  CLI_KIND_REGULAR = 1, /* a regular file (also /proc files of size 0) */
  CLI_KIND_DIRECTORY,
  CLI_KIND_STREAM, /* FIFO, character device, socket: read in order */
  CLI_KIND_OTHER   /* block device and the like */
};

typedef struct cli_file {
  int fd;        /* -1 when closed */
  int kind;      /* enum cli_kind */
  uint64_t size; /* regular files: st_size */
} cli_file;

/* stat(path), or fstat(0) for "-". */
int cli_os_stat(const char *path, int *kind, uint64_t *size);

/* Open path read-only (or read-write), close-on-exec, and describe it.
 * Opening a FIFO waits for a writer, as with any reader. On Windows the
 * path is UTF-8, and the file is shared for reading, writing and
 * deleting, as the library opens files. */
int cli_os_open(const char *path, int writable, cli_file *f);

/* Describe standard input; *pos is its current offset when it is a
 * regular file (a shell may have read part of it already), else 0. */
int cli_os_stdin(cli_file *f, uint64_t *pos);

/* Close f->fd if open. */
void cli_os_close(cli_file *f);

/* The current size of the file open as fd (fstat). */
int cli_os_file_size(int fd, uint64_t *size);

/* Raise the soft limit on open descriptors to the hard limit, where the
 * system has such limits and allows it; best-effort, nothing on failure.
 * (mmf lock keeps a map, and so a descriptor, per file.) */
void cli_os_raise_open_files_limit(void);

/* read(), retried on EINTR. */
int cli_os_read(int fd, void *buf, size_t n, size_t *got);

/* Write dirty pages back, then ask the kernel to drop the file's pages
 * from the page cache (posix_fadvise POSIX_FADV_DONTNEED). Pages that
 * other processes map or lock stay. ENOTSUP where there is no such call
 * (Windows), with nothing done. */
int cli_os_evict(int fd);

/* Whether fd is a terminal (1) or not (0); one that takes ANSI escape
 * sequences (on Windows: a console, with virtual-terminal processing
 * switched on for the run). */
int cli_os_isatty(int fd);

/* Seconds on a monotonic clock. */
double cli_os_now(void);

void cli_os_sleep_ms(unsigned ms);

/* Wait until interrupted (cli_os_interrupts names how): SIGINT, SIGTERM
 * or SIGHUP; on Windows Ctrl-C (SIGINT), Ctrl-Break (SIGBREAK), or the
 * console closing, logoff or shutdown (SIGTERM). Returns the number. */
int cli_os_wait_for_signal(void);

/* For messages: "SIGINT, SIGTERM, SIGHUP". */
extern const char cli_os_interrupts[];

/* The limit on locked memory in bytes, or UINT64_MAX for unlimited or
 * unknown: RLIMIT_MEMLOCK's soft limit; on Windows the minimum working
 * set, which bounds VirtualLock. */
uint64_t cli_os_memlock_limit(void);

/* For messages: the limit's name ("RLIMIT_MEMLOCK") and a hint on how to
 * change it ("; see ulimit -l"), or "". */
extern const char cli_os_memlock_name[];
extern const char cli_os_memlock_hint[];

/* Make room to lock `bytes` more where the program itself sets the limit
 * (Windows: raise the working set's minimum and maximum). A no-op
 * returning 0 on POSIX, where the limit is the administrator's. */
int cli_os_memlock_reserve(uint64_t bytes);

/*
 * Whether mmf_resident() on a fresh map of a file tells which of its pages
 * are in the page cache (1: mincore), or only which pages this process has
 * touched through that map (0: Windows, where it reads the working set),
 * which says nothing about the cache.
 */
int cli_os_resident_is_cache(void);

/*
 * Bytes of the mapping that contains addr (and [addr, addr + len), the
 * part of it that holds the file) which are mapped with PMD-sized (2 MiB
 * on x86-64) page-table entries: FilePmdMapped plus ShmemPmdMapped of that
 * mapping in /proc/self/smaps, or 0 without reading it when [addr, addr +
 * len) holds no whole 2 MiB block. Returns 0, or -1 where that cannot be
 * told (not Linux, no smaps).
 */
int cli_os_pmd_mapped(const void *addr, size_t len, uint64_t *bytes);

/*
 * For `mmf shm` and `mmf locks` (cmd_shm.c, cmd_locks.c):
 *  - cli_os_list_dir: call fn(name, ctx) for each entry of dir (not "."
 *    and ".."), stopping at a nonzero return; ENOTSUP where directories
 *    cannot be listed this way (Windows).
 *  - cli_os_file_id: the device (major, minor) and inode of path, as
 *    /proc/locks names files; ENOTSUP on Windows.
 */
int cli_os_list_dir(const char *dir, int (*fn)(const char *name, void *ctx),
                    void *ctx);
int cli_os_file_id(const char *path, unsigned *major, unsigned *minor,
                   uint64_t *ino);

/*
 * Threads for work on several inputs at once (cli_each.c). The record
 * lives in the caller's memory from start to join. cli_os_thread_start
 * runs fn(arg) on a new thread: 0, or an errno value with nothing
 * started. cli_os_thread_join waits until it has ended.
 */
typedef struct cli_thread {
  void (*fn)(void *arg);
  void *arg;
  uintptr_t h; /* pthread_t, or the thread's HANDLE */
} cli_thread;
int cli_os_thread_start(cli_thread *t, void (*fn)(void *arg), void *arg);
void cli_os_thread_join(cli_thread *t);

/* The processors online (at least 1). */
unsigned cli_os_cpus(void);

#endif /* MMF_CLI_OS_H */
