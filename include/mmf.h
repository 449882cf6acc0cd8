/*
 * mmf.h - memory-mapped files, safe and fast.
 *
 * This header is the manual. Every declaration says what it does, what each
 * parameter means, which MMF_E* codes it returns, how long the pointers it
 * hands out stay valid, and whether it may be called from several threads.
 *
 * General rules (they hold for every function below unless its block says
 * otherwise):
 *
 *  - Functions return int: 0 on success, a negative MMF_E* code on failure.
 *    Codes have the same value on every operating system.
 *  - Out-parameters are set to an empty value (NULL or 0) before any work, so
 *    a caller never reads garbage after a failure.
 *  - NULL handles and NULL out-pointers are MMF_EINVAL, never a crash.
 *  - Offsets and lengths inside a map are byte positions relative to
 *    mmf_data(). A length of 0 means "to the end of the map" in every range
 *    call, and "to the end of the file" in mmf_options.length.
 *  - A pointer into a map (mmf_data() and anything derived from it) is
 *    borrowed: it stays valid until mmf_close(), mmf_resize() or a call that
 *    says it invalidates pointers.
 *  - A handle is used by one thread at a time. Different handles may be used
 *    from different threads freely; the library keeps no shared state except
 *    the process-wide fault guard, which is thread-safe.
 *  - Nothing here prints, aborts or exits.
 *
 * Names. Public functions and types start with mmf_, macros and enum
 * values with MMF_; nothing else is exported. A function is named object
 * then verb, the object being the handle it works on: mmf_window_next(w),
 * mmf_lines_close(it). The map (mmf_map) is the central object and its
 * functions leave the object out: mmf_read(m, ...), mmf_flush(m, ...).
 * An operation offered over several kinds of input keeps one name, and a
 * suffix says which input when it is not the usual one:
 *  - opening takes a path (mmf_open, mmf_window_open, mmf_lines_open,
 *    mmf_matches_open); the _fd twin takes a descriptor (mmf_open_fd,
 *    mmf_window_open_fd, mmf_matches_open_fd);
 *  - an operation on bytes takes a map (mmf_find, mmf_count_byte,
 *    mmf_count_matches, mmf_count_lines); the _path, _fd and _mem twins
 *    take a path, a descriptor or memory the caller holds (mmf_find_path,
 *    mmf_find_fd, mmf_find_mem).
 * Every options struct has an INIT macro for its defaults (a zeroed struct
 * means the same). Every search says "absent" with MMF_NPOS. Every handle
 * type has a last_os_error query (mmf_last_os_error,
 * mmf_window_last_os_error, mmf_lines_last_os_error,
 * mmf_matches_last_os_error); given NULL it reports the calling thread's
 * last failed open. Values measured on one
 * machine live apart, in the "Tuning" section at the end.
 */
#ifndef MMF_H
#define MMF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Export macro and version                                                  */
/* ------------------------------------------------------------------------ */

/*
 * MMF_API marks the public functions. The library is built with hidden
 * visibility, so only these are exported. On Windows, define MMF_DLL when
 * linking against the DLL (the CMake package and pkg-config file do it).
 */
#if defined(_WIN32) && defined(MMF_BUILDING_DLL)
#define MMF_API __declspec(dllexport)
#elif defined(_WIN32) && defined(MMF_DLL)
#define MMF_API __declspec(dllimport)
#elif defined(__GNUC__) && __GNUC__ >= 4
#define MMF_API __attribute__((visibility("default")))
#else
#define MMF_API
#endif

/* A compile-time check that works in C99, C11 and C++ (the header is C99-
 * and C++11-clean). */
#if defined(__cplusplus) && __cplusplus >= 201103L
#define MMF__STATIC_ASSERT(cond, name) static_assert(cond, #name)
#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
#define MMF__STATIC_ASSERT(cond, name) _Static_assert(cond, #name)
#else
#define MMF__STATIC_ASSERT(cond, name)                                         \
  typedef char mmf__static_assert_##name[(cond) ? 1 : -1]
#endif

#define MMF_VERSION_MAJOR 0
#define MMF_VERSION_MINOR 1
#define MMF_VERSION_PATCH 0
#define MMF_VERSION_NUMBER                                                     \
  (MMF_VERSION_MAJOR * 10000 + MMF_VERSION_MINOR * 100 + MMF_VERSION_PATCH)
#define MMF_VERSION_STRING "0.1.0"

/* The version of the library actually linked, e.g. "0.1.0". Static string. */
MMF_API const char *mmf_version_string(void);

/* MMF_VERSION_NUMBER of the library actually linked. */
MMF_API unsigned mmf_version_number(void);

/* ------------------------------------------------------------------------ */
/* Errors                                                                    */
/* ------------------------------------------------------------------------ */

/*
 * The one list of error codes. Each entry gives the name, the value and the
 * message; the enum, mmf_errname() and mmf_strerror() are all generated from
 * it, so they cannot disagree. The values live in their own block (-3001 and
 * below) so they are never mistaken for a negated errno.
 */
#define MMF_ERRNO_MAP(X)                                                       \
  X(EINVAL, -3001, "invalid argument")                                         \
  X(ENOENT, -3002, "no such file or directory")                                \
  X(EACCES, -3003, "permission denied or wrong access mode")                   \
  X(EISDIR, -3004, "is a directory")                                           \
  X(ENODEV, -3005, "input cannot be memory-mapped")                            \
  X(ERANGE, -3006, "offset or length outside the file or the map")             \
  X(EOVERFLOW, -3007, "value overflows or exceeds the address space")          \
  X(ENOMEM, -3008, "out of memory or address space")                           \
  X(ENOSPC, -3009, "no space left on device")                                  \
  X(EFBIG, -3010, "file too large")                                            \
  X(EIO, -3011, "input/output error")                                          \
  X(EBUSY, -3012, "resource busy")                                             \
  X(EAGAIN, -3013, "resource temporarily unavailable")                         \
  X(ENOTSUP, -3014, "operation not supported")                                 \
  X(EROFS, -3015, "read-only file system")                                     \
  X(ETRUNCATED, -3016, "file was truncated under the mapping")                 \
  X(EPOISONED, -3017, "handle unusable after an unrecoverable fault")          \
  X(EEXIST, -3018, "file exists")                                              \
  X(EMFILE, -3019, "too many open files")                                      \
  X(ENAMETOOLONG, -3020, "file name too long")                                 \
  X(ENOTDIR, -3021, "a path component is not a directory")                     \
  X(ELOOP, -3022, "too many symbolic links")                                   \
  X(ETIMEDOUT, -3023, "timed out")                                             \
  X(EOWNERDEAD, -3024, "previous owner died; state may be inconsistent")       \
  X(ENOTRECOVERABLE, -3025, "state not recoverable")                           \
  X(EPERM, -3026, "operation not permitted: not the owner")                    \
  X(EDEADLK, -3027, "resource deadlock: already held by this thread")          \
  X(ECORRUPT, -3030, "log data fails its checksum or format checks")           \
  X(EUNKNOWN, -3099, "unknown operating-system error")

typedef enum mmf_error {
#define MMF__ERR_ENUM(name, value, text) MMF_##name = (value),
  MMF_ERRNO_MAP(MMF__ERR_ENUM)
#undef MMF__ERR_ENUM
} mmf_error;

/*
 * A static English message for code: "success" for 0, the list's message for
 * an MMF_E* code, "unknown mmf error code" for anything else. Never NULL,
 * never allocates, thread-safe.
 */
MMF_API const char *mmf_strerror(int code);

/*
 * The symbolic name of code: "OK" for 0, "MMF_EINVAL" and so on, and
 * "MMF_E?" for a value that is not a code. Never NULL, never allocates.
 */
MMF_API const char *mmf_errname(int code);

struct mmf_map;
typedef struct mmf_map mmf_map;

/*
 * The raw operating-system error (errno on POSIX; GetLastError() on
 * Windows, or the exception's NTSTATUS after a fault) behind the last
 * failure on m, or 0 if the last failure had none (argument checks) or
 * there was no failure. With m == NULL: the OS error of the last
 * failed mmf_open / mmf_open_fd / mmf_anon in the calling thread, which have
 * no handle to keep it in.
 */
MMF_API int mmf_last_os_error(const mmf_map *m);

/* ------------------------------------------------------------------------ */
/* Opening and closing                                                       */
/* ------------------------------------------------------------------------ */

/*
 * Access modes: exactly one is passed to mmf_open / mmf_open_fd. The
 * values are distinct bits, so that no combination of modes is itself a
 * mode: MMF_READ | MMF_WRITE, or any other value, is MMF_EINVAL.
 */
enum mmf_mode {
  MMF_READ = 1,  /* read-only; writing through the pointer faults */
  MMF_WRITE = 2, /* shared read-write: stores reach the file */
  MMF_COPY = 4   /* private copy-on-write: stores never reach the file */
};

/* Flags for mmf_options.flags and mmf_anon(). Unknown bits: MMF_EINVAL. */
enum mmf_flag {
  /* MMF_WRITE only: create the file (mode 0666 & ~umask) if missing.
   * Windows: the directory's default security (no mode bits). */
  MMF_CREATE = 1u << 0,
  /* Fault every page in at open time (MAP_POPULATE or equivalent). */
  MMF_POPULATE = 1u << 1,
  /* Access pattern hints for read-ahead. Not both. */
  MMF_SEQUENTIAL = 1u << 2,
  MMF_RANDOM = 1u << 3,
  /* Huge pages where the OS offers them; normal pages silently otherwise
   * (always on Windows, whose large pages need a privilege). */
  MMF_HUGE = 1u << 4,
  /* Lock the pages in RAM (mlock). Fails with MMF_ENOMEM/MMF_EAGAIN or
   * MMF_EACCES when the memory-lock limit does not allow it (Windows: the
   * process's minimum working set; see mmf_lock_memory()). */
  MMF_LOCKED = 1u << 5,
  /* MMF_WRITE only: allocate disk blocks for the whole mapped range before
   * any page is touched, so a full disk is reported by mmf_open/mmf_resize
   * as MMF_ENOSPC instead of as a fault on first write. Windows: raises
   * the file's allocation (FileAllocationInformation). */
  MMF_PREALLOCATE = 1u << 6,
  /* MMF_WRITE only: mmf_close() flushes with MMF_FLUSH_SYNC and returns the
   * result. */
  MMF_SYNC_ON_CLOSE = 1u << 7,
  /* Fail with MMF_ENODEV instead of reading an unmappable input (FIFO,
   * character device, /proc file) into memory. Empty files still map. */
  MMF_NO_FALLBACK = 1u << 8,
  /* mmf_anon only: the memory is shared with children created by fork().
   * Accepted on Windows, where it changes nothing (there is no fork()). */
  MMF_SHARED = 1u << 9,
  /* With MMF_CREATE: fail with MMF_EEXIST when the file (or the shared
   * memory region) already exists, instead of opening it. */
  MMF_EXCLUSIVE = 1u << 10,
  /* MMF_WRITE only: cut the file to size 0 before it is grown to
   * opts->size and offset + length, so a file regenerated over a longer
   * old one keeps none of the old bytes. */
  MMF_TRUNCATE = 1u << 11
};

/*
 * What to map. Zero-initialise and set what you need; NULL options mean the
 * whole file with no flags.
 */
typedef struct mmf_options {
  uint64_t offset; /* file offset of the first mapped byte; any value */
  uint64_t length; /* bytes to map; 0 = from offset to end of file */
  uint64_t size;   /* MMF_WRITE: grow the file to at least this first */
  unsigned flags;  /* MMF_CREATE | MMF_POPULATE | ... */
} mmf_options;

/* The defaults: the whole file, no flags (the same as NULL options). */
#define MMF_OPTIONS_INIT                                                       \
  { 0, 0, 0, 0u }

/*
 * Map a file by path.
 *
 * mode is MMF_READ, MMF_WRITE or MMF_COPY. Rules:
 *  - Any byte offset works: the library aligns the OS mapping down to the
 *    allocation granularity and hides the slack, so mmf_data() points at
 *    exactly opts->offset.
 *  - An empty file maps with size 0 (mmf_data() may be NULL), also with
 *    MMF_NO_FALLBACK; so does an offset equal to the file size.
 *  - offset past end of file: MMF_ERANGE (for MMF_WRITE, after growing to
 *    opts->size and offset + length). An offset past 2^63 - 1 lies past
 *    the end of every file: MMF_ERANGE too.
 *  - offset + length past end of file: MMF_ERANGE for MMF_READ and MMF_COPY;
 *    MMF_WRITE grows the file to offset + length (and to opts->size when
 *    that is larger). New bytes read as zero.
 *  - offset + length that does not fit in 63 bits (a file offset), or a map
 *    larger than the address space: MMF_EOVERFLOW.
 *  - Growing a file past the process's file-size limit (POSIX
 *    RLIMIT_FSIZE, `ulimit -f`) is MMF_EFBIG; the library never lets the
 *    SIGXFSZ that the system call would raise end the program.
 *  - A directory: MMF_EISDIR. A missing file: MMF_ENOENT (MMF_WRITE with
 *    MMF_CREATE creates it, through a symbolic link whose target is
 *    missing too, as open(2) does). MMF_CREATE | MMF_EXCLUSIVE: MMF_EEXIST
 *    if the file exists. MMF_TRUNCATE empties an existing file first (a
 *    failure after that leaves it empty, as O_TRUNC does).
 *  - A failed open leaves the file as it was: growth is undone, and a file
 *    the call created is removed again.
 *  - FIFOs, character devices and size-0 files that still hold bytes (such
 *    as /proc/self/status) cannot be mapped; they are read into anonymous
 *    memory, so the map still works (mmf_is_mapped() is false), unless
 *    MMF_NO_FALLBACK is set, which gives MMF_ENODEV. MMF_WRITE on such an
 *    input is MMF_ENODEV (there is nothing to write back to). A stream read
 *    with length 0 is limited to half the physical memory (MMF_ENOMEM past
 *    that), so /dev/zero cannot exhaust the machine. Files whose size is a
 *    guess (Linux /sys files say 4096) are read to their real end.
 *  - A FIFO without a writer: the open waits for one, as `cat` or `wc`
 *    do; with MMF_NO_FALLBACK it is MMF_ENODEV at once, without waiting.
 *  - Flags that need MMF_WRITE (CREATE, PREALLOCATE, SYNC_ON_CLOSE,
 *    TRUNCATE) with another mode, MMF_EXCLUSIVE without MMF_CREATE,
 *    MMF_SHARED, or SEQUENTIAL together with RANDOM: MMF_EINVAL.
 *
 * Large maps are placed so that the address and the file offset are
 * congruent modulo 2 MiB, which lets Linux map its large page-cache folios
 * with 2 MiB page-table entries (far fewer faults, faster scans).
 *
 * Descriptors: a file map keeps one descriptor (close-on-exec) for its whole
 * life, because fault classification, mmf_resize() and MMF_FLUSH_FULL need
 * the file; fallback copies keep none. Nothing leaks on any error path.
 *
 * Windows: path is UTF-8 (invalid UTF-8 is MMF_EINVAL) and may be longer
 * than MAX_PATH; the file is opened sharing read, write and delete; a file
 * another program opened without sharing is MMF_EBUSY; a path through a
 * regular file is MMF_ENOENT rather than MMF_ENOTDIR (Windows reports both
 * as "path not found"). See docs/windows.md.
 *
 * Returns 0 and sets *out, or: MMF_EINVAL, MMF_ENOENT, MMF_EACCES,
 * MMF_EISDIR, MMF_ENODEV, MMF_ERANGE, MMF_EOVERFLOW, MMF_ENOMEM,
 * MMF_ENOSPC, MMF_EFBIG, MMF_EIO, MMF_EROFS, MMF_EMFILE, MMF_ENAMETOOLONG,
 * MMF_ENOTDIR, MMF_ELOOP, MMF_EAGAIN, MMF_EBUSY, MMF_EEXIST, MMF_EUNKNOWN
 * (see mmf_last_os_error(NULL)).
 */
MMF_API int mmf_open(mmf_map **out, const char *path, int mode,
                     const mmf_options *opts);

/*
 * Map an open descriptor (on Windows, a C runtime descriptor). The
 * descriptor stays the caller's: the map works on a duplicate of it, so the
 * caller may close fd at once. A descriptor opened read-only mapped with
 * MMF_WRITE, or write-only mapped for reading, is MMF_EACCES. MMF_CREATE is
 * MMF_EINVAL here. Otherwise as mmf_open(); fallback streams are read from
 * the descriptor's current position.
 */
MMF_API int mmf_open_fd(mmf_map **out, int fd, int mode,
                        const mmf_options *opts);

/*
 * Map length bytes of zero-filled anonymous memory, private to the process,
 * or with MMF_SHARED shared with children created by fork() afterwards.
 * Other flags allowed: MMF_POPULATE, MMF_HUGE, MMF_LOCKED. length 0 gives an
 * empty map. Returns MMF_EOVERFLOW when length exceeds the address space,
 * MMF_ENOMEM when the OS refuses, MMF_EINVAL for other flags.
 */
MMF_API int mmf_anon(mmf_map **out, uint64_t length, unsigned flags);

/*
 * Unmap and free m and close its descriptor. NULL is fine (returns 0).
 * With MMF_SYNC_ON_CLOSE on a MMF_WRITE map it flushes with MMF_FLUSH_SYNC
 * first and returns that result (MMF_EPOISONED for a poisoned map);
 * otherwise it returns 0, or the OS error if unmapping failed. The handle
 * is released in every case. Invalidates every pointer into m.
 */
MMF_API int mmf_close(mmf_map *m);

/* ------------------------------------------------------------------------ */
/* Inspecting                                                                */
/* ------------------------------------------------------------------------ */

/* First byte of the map (file offset mmf_offset()). NULL for size 0 maps and
 * for m == NULL. Borrowed; see the general rules. */
MMF_API void *mmf_data(const mmf_map *m);

/* Usable bytes from mmf_data(). 0 for m == NULL. A fault that shows the file
 * was truncated lowers it (see "Faults"). */
MMF_API size_t mmf_size(const mmf_map *m);

/* File offset of mmf_data()[0]; 0 for anonymous memory and m == NULL. */
MMF_API uint64_t mmf_offset(const mmf_map *m);

/* True when the bytes are a live mapping (of a file, empty files included,
 * or anonymous memory); false for a private copy read from an input that
 * cannot be mapped, and for m == NULL. */
MMF_API bool mmf_is_mapped(const mmf_map *m);

/* The mode the map was opened with (MMF_READ, MMF_WRITE or MMF_COPY;
 * anonymous memory reports MMF_WRITE); 0 for NULL. */
MMF_API int mmf_mode(const mmf_map *m);

/* The virtual-memory page size. */
MMF_API size_t mmf_page_size(void);

/* The alignment the OS requires for mapping offsets: the page size on POSIX,
 * the allocation granularity (64 KiB) on Windows. */
MMF_API size_t mmf_granularity(void);

/*
 * Count the bytes of [off, off+len) that are resident in RAM (len 0: to the
 * end), into *bytes. Residency is known per page; every byte of the range
 * that lies in a resident page counts. MMF_ERANGE if the range leaves the
 * map. Fallback copies report what the OS says of their memory.
 * Windows: resident means in this process's working set (QueryWorkingSetEx),
 * so a page in the system cache not yet touched through m does not count.
 */
MMF_API int mmf_resident(mmf_map *m, uint64_t off, uint64_t len,
                         uint64_t *bytes);

/* ------------------------------------------------------------------------ */
/* Controlling                                                               */
/* ------------------------------------------------------------------------ */

/* Flush levels for mmf_flush(). */
enum mmf_flush_level {
  /* Schedule write-back and return (msync MS_ASYNC / FlushViewOfFile). */
  MMF_FLUSH_ASYNC = 1,
  /* Return when the range is on stable storage as far as the OS promises
   * (msync MS_SYNC / FlushViewOfFile + FlushFileBuffers). */
  MMF_FLUSH_SYNC = 2,
  /* SYNC plus what the platform needs beyond it: fsync of the file
   * (F_FULLFSYNC on macOS), and of the parent directory once after
   * mmf_open created the file. Windows: the same as SYNC (FlushFileBuffers
   * already flushes the drive; NTFS journals the directory). */
  MMF_FLUSH_FULL = 3
};

/*
 * Write dirty pages of [off, off+len) (len 0: to the end) back to the file
 * at the given level. On maps whose stores never reach a file (MMF_READ,
 * MMF_COPY, anonymous memory, fallback copies) the range is checked and
 * nothing else happens. Returns MMF_ERANGE, MMF_EINVAL (bad level),
 * MMF_EIO, MMF_ENOSPC, or another translated OS error.
 */
MMF_API int mmf_flush(mmf_map *m, uint64_t off, uint64_t len, int level);

/* Advice for mmf_advise(). */
enum mmf_advice {
  MMF_ADV_NORMAL = 0,
  MMF_ADV_SEQUENTIAL = 1,
  MMF_ADV_RANDOM = 2,
  MMF_ADV_WILLNEED = 3,
  /* Drop the pages. Shared file pages are re-read from the file; private
   * (MMF_COPY) edits and anonymous memory read back as file data or zeros
   * afterwards. */
  MMF_ADV_DONTNEED = 4,
  /* Ask for huge pages (Linux transparent huge pages). */
  MMF_ADV_HUGEPAGE = 5
};

/*
 * Tell the OS how [off, off+len) will be used (len 0: to the end). Applies
 * to every page holding a byte of the range. Returns MMF_ERANGE, MMF_EINVAL
 * (unknown advice), MMF_ENOTSUP (the OS has no such advice), or a
 * translated OS error.
 * Windows: NORMAL, SEQUENTIAL and RANDOM are accepted and do nothing;
 * WILLNEED is PrefetchVirtualMemory (Windows 8+); DONTNEED on a MMF_COPY
 * map and HUGEPAGE are MMF_ENOTSUP.
 */
MMF_API int mmf_advise(mmf_map *m, uint64_t off, uint64_t len, int advice);

/* Protections for mmf_protect(); MMF_PROT_NONE makes guard pages. */
enum mmf_prot {
  MMF_PROT_NONE = 0,
  MMF_PROT_READ = 1,
  MMF_PROT_WRITE = 2 /* implies read */
};

/*
 * Change the protection of every page that holds a byte of [off, off+len)
 * (len 0: to the end). Because protection is per page, bytes next to the
 * range in the same page change too. Write access on a MMF_READ map is
 * MMF_EACCES. A library access (mmf_read and friends) that touches a
 * MMF_PROT_NONE page returns MMF_EACCES instead of crashing.
 * Windows: protections do not survive mmf_resize() of a file map (the new
 * view starts with the mode's protection).
 */
MMF_API int mmf_protect(mmf_map *m, uint64_t off, uint64_t len, int prot);

/*
 * Lock the pages of [off, off+len) in RAM (len 0: to the end), or unlock
 * them. Locking fails with MMF_ENOMEM, MMF_EAGAIN or MMF_EACCES when the
 * memory-lock limit (RLIMIT_MEMLOCK) does not allow it.
 * Windows: VirtualLock, limited by the process's minimum working set (a
 * few hundred KiB unless the program raises it with
 * SetProcessWorkingSetSize); beyond it MMF_ENOMEM.
 */
MMF_API int mmf_lock_memory(mmf_map *m, uint64_t off, uint64_t len);
MMF_API int mmf_unlock_memory(mmf_map *m, uint64_t off, uint64_t len);

/*
 * Change the size of the map to new_size bytes.
 *  - MMF_WRITE: the file is set to mmf_offset() + new_size bytes (grown
 *    with zeros, or truncated), then the mapping follows; with
 *    MMF_PREALLOCATE new blocks are allocated first (MMF_ENOSPC).
 *  - MMF_READ / MMF_COPY: the mapping grows or shrinks within the file;
 *    past end of file is MMF_ERANGE. The file is never changed.
 *  - Anonymous memory grows (new bytes zero) or shrinks.
 *  - Fallback copies: MMF_ENOTSUP.
 * new_size 0 leaves an empty map. The mapping is moved only when it cannot
 * grow in place, and keeps its 2 MiB placement.
 *
 * INVALIDATES every pointer into m, even on failure. On failure the map
 * and the file are left as they were (a new mapping is made before the old
 * one is dropped). Growing the file past the file-size limit (RLIMIT_FSIZE)
 * is MMF_EFBIG. Called inside mmf_guard(m, ...), the guard follows the map
 * to its new place. Growing MMF_SHARED anonymous memory is MMF_ENOTSUP: the
 * processes already sharing it could not see the new part.
 *
 * Windows: a file map always gets a new view. Windows cannot shrink a file
 * while any view of it exists, so a shrinking MMF_WRITE map is unmapped,
 * the file shrunk and the map made again; if another map of the file
 * exists (here or in another process) that is MMF_EBUSY and the map stays
 * as it was.
 */
MMF_API int mmf_resize(mmf_map *m, uint64_t new_size);

/* ------------------------------------------------------------------------ */
/* Faults and safe access                                                    */
/* ------------------------------------------------------------------------ */

/*
 * Faults. Touching a mapped page whose file bytes no longer exist (another
 * process truncated the file), cannot be read (I/O error), or cannot be
 * allocated (disk full on first write into a hole) raises SIGBUS on POSIX
 * and EXCEPTION_IN_PAGE_ERROR on Windows. Every access the library itself
 * makes inside a map goes through the fault guard and comes back as a code:
 *
 *   MMF_ETRUNCATED  the fault lies at or past the file's new end. The map
 *                   stays usable: mmf_size() is lowered to the bytes that
 *                   still exist, and later calls past it are MMF_ERANGE.
 *   MMF_ENOSPC      a write into a hole found the filesystem full. The map
 *                   stays usable (free space and retry, or use
 *                   MMF_PREALLOCATE to rule this out).
 *   MMF_EACCES      the page was protected with mmf_protect().
 *   MMF_EIO         anything else (a read error). The handle is poisoned:
 *                   every later call on it returns MMF_EPOISONED, and only
 *                   mmf_close() is useful.
 *
 * Raw pointers handed to the caller are the caller's to guard: run code
 * that dereferences them inside mmf_guard(). See docs/faults.md.
 *
 * Signal masks. The kernel runs no handler for a fault in a thread that
 * blocks SIGBUS or SIGSEGV: it ends the process. So a thread's first
 * guarded access unblocks those two signals in that thread (threads often
 * inherit a mask blocking every signal, when a program takes its signals
 * with sigwait()); checking on every access would cost a system call each
 * time. A thread that blocks them again after its first guarded access
 * must unblock them while it touches maps.
 *
 * Windows: no program can truncate a file that is mapped, so
 * MMF_ETRUNCATED comes from files that shrink or vanish on network shares
 * or removable media; after a fault mmf_last_os_error() is the exception's
 * NTSTATUS.
 */

/* Returned by mmf_find() in *pos when the needle is absent. */
#define MMF_NPOS UINT64_MAX

/*
 * Copy n bytes at map offset off into dst. MMF_ERANGE if [off, off+n)
 * leaves the map (nothing is copied); fault codes as above (dst may then
 * hold part of the bytes).
 */
MMF_API int mmf_read(mmf_map *m, uint64_t off, void *dst, size_t n);

/*
 * Copy n bytes from src into the map at offset off. MMF_EACCES on a
 * MMF_READ map (or a fallback copy opened MMF_READ); MMF_ERANGE if the
 * range leaves the map; fault codes as above. Stores reach the file only on
 * MMF_WRITE maps; mmf_flush() makes them durable.
 */
MMF_API int mmf_write(mmf_map *m, uint64_t off, const void *src, size_t n);

/*
 * Compare n bytes at map offset off with buf, memcmp-style, into *result
 * (<0, 0, >0).
 */
MMF_API int mmf_compare(mmf_map *m, uint64_t off, const void *buf, size_t n,
                        int *result);

/*
 * Find the first occurrence of needle (nlen bytes, nlen >= 1) that lies
 * entirely inside [off, off+len) (len 0: to the end). *pos is the map
 * offset of its first byte, or MMF_NPOS if absent (the call still returns
 * 0). nlen 0 or a NULL needle is MMF_EINVAL.
 */
MMF_API int mmf_find(mmf_map *m, uint64_t off, uint64_t len, const void *needle,
                     size_t nlen, uint64_t *pos);

/*
 * Count the bytes equal to byte (0..255) in [off, off+len) (len 0: to the
 * end) into *count.
 */
MMF_API int mmf_count_byte(mmf_map *m, uint64_t off, uint64_t len, int byte,
                           uint64_t *count);

/*
 * Run fn(ctx) with the fault guard armed over m's whole mapping and return
 * what fn returns, or, if fn faults inside the mapping, the fault's code
 * (see "Faults"); fn's remaining work is abandoned (it must not hold locks
 * or own allocations across its accesses to the map). A fault at an address
 * outside m is not caught: it goes to whatever handler the program had.
 * Guards nest: fn may call mmf_read() and friends or mmf_guard() on other
 * maps. The guard covers the map, not the addresses it had when armed: if
 * fn calls mmf_resize(m), the guard follows the map to its new place. Any
 * thread may guard its own handle.
 */
MMF_API int mmf_guard(mmf_map *m, int (*fn)(void *ctx), void *ctx);

/* ------------------------------------------------------------------------ */
/* Window cursor                                                             */
/* ------------------------------------------------------------------------ */

/*
 * A window cursor walks an input of any size within a fixed address-space
 * budget, also in a 32-bit process: a regular file through one mapping of
 * at most budget bytes at a time (the window), and a pipe, terminal,
 * character device, socket or /proc file with read() into one reused
 * buffer. It hands out successive contiguous spans (mmf_window_next),
 * jumps (mmf_window_seek), and gives random access to any range of up to
 * mmf_window_limit() bytes (mmf_window_at). docs/window.md is the guide.
 *
 * Windows over files start at offsets aligned to the allocation
 * granularity (to 2 MiB where that costs little) and are placed congruent
 * to their file offset modulo 2 MiB, like mmf_open's maps, so a walk runs
 * at the speed of a whole-file map. A window is unmapped before the next
 * one is mapped: the cursor never holds more than budget bytes of address
 * space (while moving, 2 MiB more for a moment, for the placement).
 * Where the address space cannot hold a whole budget (RLIMIT_AS), windows
 * come out smaller; a record that needs the budget's full reach is then
 * MMF_ENOMEM, which mmf_window_next() already lists.
 *
 * Records. With MMF_WINDOW_RECORDS and a delimiter
 * (mmf_window_options.delimiter, e.g. '\n') a
 * record is the bytes up to and including a delimiter, or the bytes after
 * the last delimiter at the end of the input. Every span then holds whole
 * records: it ends just after a delimiter (or at the end of the input),
 * and the bytes after the last delimiter in the window start the next
 * span. The limit L = mmf_window_limit() = budget - mmf_granularity() is
 * exact, the same for files and streams and wherever the record lies:
 *  - A record of at most L bytes is always delivered whole, in one span.
 *  - A record longer than L is "too long". By default mmf_window_next()
 *    then returns MMF_EFBIG and does not move: mmf_window_tell() is the
 *    offset of the record's first byte, and every later call returns
 *    MMF_EFBIG again until mmf_window_seek() moves past it. With
 *    MMF_WINDOW_SPLIT_LONG the record is delivered instead as spans of its
 *    own: pieces of exactly L bytes, for which mmf_window_partial() is
 *    true, then a last piece of 1 to L bytes ending with the delimiter (or
 *    at the end of the input), for which it is false. Nothing is ever split
 *    silently.
 *
 * Faults. The cursor's own accesses to a window (the delimiter search) are
 * guarded and come back as the codes of "Faults": MMF_ETRUNCATED lowers
 * mmf_window_total() to the file's new size (and the position with it, if
 * it was past) and the cursor stays usable; MMF_EIO poisons it (every later
 * call returns MMF_EPOISONED). The bytes of a span are the caller's to
 * guard: read them inside mmf_window_guard().
 *
 * Pointers. A span pointer (from mmf_window_next or mmf_window_at) is
 * borrowed: it stays valid until the next mmf_window_next, mmf_window_seek,
 * mmf_window_at or mmf_window_close on the same cursor, whether that call
 * succeeds or fails. The queries (tell, total, partial, limit, is_mapped,
 * last_os_error) and mmf_window_guard() do not invalidate it.
 *
 * A cursor is used by one thread at a time. It sees a file as it was at
 * open: bytes appended later are not read; a file shrunk under it gives
 * MMF_ETRUNCATED.
 */
struct mmf_window;
typedef struct mmf_window mmf_window;

/*
 * Flags for mmf_window_options.flags, besides these mmf_flag bits:
 * MMF_POPULATE (fault each window in as it is mapped), MMF_SEQUENTIAL or
 * MMF_RANDOM (read-ahead hint for each window), MMF_HUGE (ask for huge
 * pages for each window), MMF_NO_FALLBACK (fail with MMF_ENODEV instead of
 * reading an input that cannot be mapped). Other bits: MMF_EINVAL.
 */
enum mmf_window_flag {
  /* Deliver records longer than the limit in flagged pieces instead of
   * failing with MMF_EFBIG (see "Records" above). */
  MMF_WINDOW_SPLIT_LONG = 1u << 16,
  /* Map windows shared read-write: stores through span and mmf_window_at
   * pointers reach the file (never past its end: the file is not grown).
   * A path is opened read-write; a descriptor must allow reading and
   * writing (else MMF_EACCES); inputs read with read(): MMF_ENODEV. Stores
   * reach the disk when the OS writes the pages back; mmf_window_close()
   * does not wait for that (fsync the file for durability). */
  MMF_WINDOW_WRITE = 1u << 17,
  /* Deliver whole records ending with mmf_window_options.delimiter (see
   * "Records" above). Without it spans are just bytes. */
  MMF_WINDOW_RECORDS = 1u << 18
};

/* mmf_window_total() while the size of the input is not known. */
#define MMF_WINDOW_UNKNOWN UINT64_MAX

/*
 * How to walk. Zero-initialise and set what you need (a zeroed struct,
 * MMF_WINDOW_OPTIONS_INIT and NULL options all mean the defaults).
 */
typedef struct mmf_window_options {
  /* Address space the cursor may hold, in bytes; 0: 64 MiB in a 32-bit
   * process, 1 GiB in a 64-bit one. Rounded down to a multiple of
   * mmf_granularity(); below two granularity units is MMF_EINVAL, above
   * the address space MMF_EOVERFLOW. Inputs read with read() use a buffer
   * of 1 MiB (or budget, if smaller) that grows toward budget only while a
   * record needs it. */
  uint64_t budget;
  /* With MMF_WINDOW_RECORDS: the byte value 0..255 that ends records
   * (e.g. '\n'). Without it: must be 0. Anything else: MMF_EINVAL. */
  int delimiter;
  /* enum mmf_window_flag and the mmf_flag bits listed with it. */
  unsigned flags;
} mmf_window_options;

/* The defaults: default budget, no delimiter, no flags. */
#define MMF_WINDOW_OPTIONS_INIT                                                \
  { 0, 0, 0u }

/*
 * Open a cursor over the file at path (see the block above); NULL opts are
 * MMF_WINDOW_OPTIONS_INIT. No window is mapped until the first call that
 * needs bytes.
 *  - A regular file is walked through windows from offset 0; its size is
 *    mmf_window_total(). An empty file is an empty input.
 *  - FIFOs, character devices, sockets and size-0 files that still hold
 *    bytes (/proc/self/maps) are read with read() into the buffer, and so
 *    are files the OS refuses to map (some /sys files); mmf_window_total()
 *    is MMF_WINDOW_UNKNOWN until they end. MMF_NO_FALLBACK makes them
 *    MMF_ENODEV, and so does MMF_WINDOW_WRITE. A FIFO without a writer
 *    waits for one in open(), unless MMF_NO_FALLBACK makes it MMF_ENODEV
 *    at once.
 *  - A directory: MMF_EISDIR; path errors as for mmf_open().
 * The cursor keeps one descriptor (close-on-exec) until mmf_window_close().
 * Nothing leaks on any error path.
 *
 * Returns 0 and sets *out, or MMF_EINVAL (NULL out or path, bad options),
 * MMF_EOVERFLOW (budget), MMF_ENOENT, MMF_EACCES, MMF_EISDIR, MMF_ENODEV,
 * MMF_ENOMEM, MMF_EMFILE, MMF_ENAMETOOLONG, MMF_ENOTDIR, MMF_ELOOP,
 * MMF_EIO, or another translated OS error (mmf_window_last_os_error(NULL)).
 */
MMF_API int mmf_window_open(mmf_window **out, const char *path,
                            const mmf_window_options *opts);

/*
 * As mmf_window_open() over an open descriptor (on Windows, a C runtime
 * descriptor), which stays the caller's: the cursor works on a duplicate,
 * so fd may be closed at once. A regular file is walked from offset 0
 * whatever the descriptor's position; a stream (stdin, a pipe) is read
 * from its current position, and the duplicate shares that position with
 * fd. A write-only descriptor, or one not open for writing with
 * MMF_WINDOW_WRITE: MMF_EACCES. A negative fd: MMF_EINVAL.
 */
MMF_API int mmf_window_open_fd(mmf_window **out, int fd,
                               const mmf_window_options *opts);

/*
 * The next span: sets *ptr and *len to the bytes that follow the ones
 * delivered so far (*len >= 1), and moves past them. At the end of the
 * input it returns 0 with *ptr NULL and *len 0, as often as it is called.
 * Without a delimiter a span is as long as the window (or what one read()
 * returned) allows, up to budget bytes; with one, see "Records".
 *
 * May move the window or refill the buffer: INVALIDATES the pointer of the
 * previous span (even on failure). A stream blocks in read() until bytes
 * arrive: at least one byte, or with a delimiter one whole record.
 *
 * Returns 0, or MMF_EINVAL (NULL argument), MMF_EFBIG (a record longer than
 * the limit, without MMF_WINDOW_SPLIT_LONG: nothing consumed),
 * MMF_ETRUNCATED, MMF_EIO, MMF_EPOISONED, MMF_ENOMEM (a window or the
 * buffer could not be had: nothing consumed, the call may be retried),
 * MMF_EAGAIN (a non-blocking stream had no bytes: retry later), or another
 * translated OS error. *ptr and *len are NULL and 0 on every failure.
 */
MMF_API int mmf_window_next(mmf_window *w, void **ptr, size_t *len);

/*
 * Make offset the position of the next span (a file offset; for /proc
 * files the offset in their text; for streams the offset counted from
 * where reading started). Maps nothing. Clears mmf_window_partial(). With
 * a delimiter, the caller chooses a record start: spans begin exactly at
 * offset. INVALIDATES span pointers.
 *
 * A stream (pipe, terminal, socket, character device) only goes forward:
 * the bytes up to offset are passed without reading where the device
 * allows it (/dev/zero: a jump of 2^60 bytes costs one system call), else
 * read and discarded, which blocks like mmf_window_next().
 *
 * Returns 0, or MMF_EINVAL, MMF_ERANGE (offset past the end of a file, or
 * a stream that ended before offset: the cursor is then at its end),
 * MMF_ENOTSUP (a stream asked to go back), MMF_EPOISONED, or a translated
 * OS error of the read. A /proc file may be sought past its end:
 * mmf_window_next() then ends at once.
 */
MMF_API int mmf_window_seek(mmf_window *w, uint64_t offset);

/*
 * Random access: set *ptr to the bytes [offset, offset + len) of a file
 * (len 0: to the end of the file), mapping a window over them if the
 * current one does not hold them. The position of mmf_window_next() does
 * not change. The pointer is valid as described in "Pointers";
 * INVALIDATES earlier span pointers. An empty range gives *ptr NULL.
 *
 * Returns 0, or MMF_EINVAL, MMF_ERANGE (the range leaves the file),
 * MMF_EFBIG (len longer than mmf_window_limit()), MMF_ENOTSUP (an input
 * read with read()), MMF_ENODEV (a file the OS refuses to map), MMF_ENOMEM,
 * MMF_EPOISONED, or a translated OS error.
 */
MMF_API int mmf_window_at(mmf_window *w, uint64_t offset, size_t len,
                          void **ptr);

/*
 * Run fn(ctx) with the fault guard armed over the current window and
 * return what fn returns, or, if fn faults inside the window, the fault's
 * code (see "Faults" above; fn's remaining work is abandoned, so it must
 * not hold locks or own allocations across its accesses to the bytes).
 * This is how a caller reads span and mmf_window_at bytes safely. fn may
 * walk on (mmf_window_next, mmf_window_seek, mmf_window_at): the guard
 * follows the cursor to each window it maps, so one guard can cover a
 * whole walk, which is cheaper than one per span. Over a buffer (inputs
 * read with read()) fn simply runs. Does not invalidate span pointers.
 * Returns MMF_EINVAL for a NULL w or fn and MMF_EPOISONED on a poisoned
 * cursor.
 */
MMF_API int mmf_window_guard(mmf_window *w, int (*fn)(void *ctx), void *ctx);

/* True when the last span from mmf_window_next() ended inside a record
 * that was too long and continues in the next span (only with
 * MMF_WINDOW_SPLIT_LONG; see "Records"). False for NULL. */
MMF_API bool mmf_window_partial(const mmf_window *w);

/* Progress: the input offset of the next byte mmf_window_next() delivers,
 * which is the number of bytes consumed when the walk started at 0 and did
 * not seek. 0 for NULL. */
MMF_API uint64_t mmf_window_tell(const mmf_window *w);

/* The input offset of the first byte of the last span mmf_window_next()
 * delivered (so that span covers [offset, offset + its length)); 0 before
 * the first span and for NULL. */
MMF_API uint64_t mmf_window_offset(const mmf_window *w);

/* The size of the input: a file's size at open (lowered if it is found
 * truncated); for inputs read with read(), MMF_WINDOW_UNKNOWN until they
 * end, then the offset where they ended. 0 for NULL. */
MMF_API uint64_t mmf_window_total(const mmf_window *w);

/* The limit: the longest record delivered whole and the longest range
 * mmf_window_at() serves, budget - mmf_granularity(). 0 for NULL. */
MMF_API size_t mmf_window_limit(const mmf_window *w);

/* True when the input is walked through mappings (regular files, empty
 * ones included); false when it is read with read(), and for NULL. */
MMF_API bool mmf_window_is_mapped(const mmf_window *w);

/*
 * The raw OS error (errno, GetLastError()) behind the last failure on w,
 * or 0. With w == NULL: that of the last failed mmf_window_open /
 * mmf_window_open_fd in the calling thread (the same slot as
 * mmf_last_os_error(NULL)).
 */
MMF_API int mmf_window_last_os_error(const mmf_window *w);

/*
 * Unmap the window, free the buffer, close the descriptor and free w. NULL
 * is fine. Returns 0, or the OS error if unmapping failed; w is released in
 * every case. INVALIDATES every span pointer.
 */
MMF_API int mmf_window_close(mmf_window *w);

/* ------------------------------------------------------------------------ */
/* Sharing between processes                                                 */
/* ------------------------------------------------------------------------ */

/*
 * Primitives that live inside a map other processes can see: a MMF_WRITE
 * (or MMF_READ) map of a file, a named shared-memory map (mmf_shm_open), or
 * MMF_SHARED anonymous memory across fork(). docs/sharing.md says which to
 * use when, and what each OS guarantees.
 *
 * Addressing. A primitive is named by (map, off), off relative to
 * mmf_data() like every range call. Alignment is judged on the file or
 * region offset, mmf_offset(m) + off, so every process that maps the same
 * bytes agrees whatever offset its own map starts at: a wait word lies at
 * a multiple of 4. A misaligned offset is MMF_EINVAL; bytes that leave
 * the map are MMF_ERANGE. Private maps (MMF_COPY, private anonymous
 * memory, fallback copies) work too, between the threads of one process.
 *
 * Threads. Unlike the rest of the API, these calls may be made from
 * several threads on the same map at once. The OS error of a failed call
 * is kept per thread: mmf_last_os_error(NULL) reads it.
 *
 * Faults. The bytes are touched under the fault guard: a file or region
 * cut under the map gives MMF_ETRUNCATED (or another code of "Faults",
 * which also says how the map changes), never SIGBUS.
 */

/*
 * Named shared memory: a region of memory with a name, which any process
 * can open and map. The map is an ordinary mmf_map: every map function
 * works on it (mmf_read, mmf_wait, mmf_mutex_lock, ...), and mmf_close()
 * unmaps it.
 *
 * Names: 1 to 200 bytes of ASCII letters, digits, '.', '_' and '-', not
 * "." or ".."; anything else (empty, '/', '\\', non-ASCII, too long) is
 * MMF_EINVAL. (macOS allows only 31 bytes: longer names are
 * MMF_ENAMETOOLONG there.)
 *
 * Lifetime differs by OS. POSIX: a region lives until mmf_shm_unlink(),
 * whether or not anybody maps it, and its memory is freed when it is
 * unlinked and no longer mapped; a process killed before unlinking leaves
 * it behind (`mmf shm list` shows them, `mmf shm rm` removes them).
 * Windows: a region lives while some process maps it or has it open, and
 * is gone when the last map of it is closed; mmf_shm_unlink() cannot end
 * it sooner.
 *
 * POSIX: shm_open (on Linux a file in /dev/shm; a region is grown with
 * mmf_resize and locked with mmf_lock_file like a file; macOS keeps a
 * region's size rounded up to whole pages and lets it be set only once,
 * at creation). A full /dev/shm
 * (Docker gives containers 64 MB) shows as a fault on first touch: use
 * MMF_PREALLOCATE to be told MMF_ENOSPC at open instead. Windows: a named
 * section in the session namespace ("Local\NAME"), backed by the paging
 * file; it cannot grow (mmf_resize: MMF_ENOTSUP) or take file locks
 * (MMF_ENOTSUP).
 */

/*
 * Open (or create) the region called name and map it with mode MMF_READ,
 * MMF_WRITE or MMF_COPY. opts as for mmf_open():
 *  - MMF_CREATE (MMF_WRITE only): create the region if it does not exist,
 *    of opts->size bytes (else opts->length; one of them must be above 0:
 *    MMF_EINVAL). New bytes are zero. With MMF_EXCLUSIVE too: fail with
 *    MMF_EEXIST when it exists.
 *  - Without MMF_CREATE the region must exist (MMF_ENOENT). An existing
 *    region opens with any mode; offset and length select part of it
 *    (length 0: to its end, so offset and length 0 map all of it, and
 *    mmf_size() is then exactly the region's size on every OS).
 *  - A range past the region's end is MMF_ERANGE (POSIX MMF_WRITE maps
 *    grow the region instead, as they grow files; Windows regions cannot
 *    grow).
 *  - Other flags allowed: MMF_POPULATE, MMF_SEQUENTIAL, MMF_RANDOM,
 *    MMF_HUGE, MMF_LOCKED, MMF_PREALLOCATE (MMF_WRITE); others MMF_EINVAL.
 * A region being created by another process at the same moment may be
 * seen empty for an instant (POSIX creates at size 0, then grows): an
 * empty existing region is looked at again for up to 100 ms.
 *
 * Returns 0 and sets *out, or MMF_EINVAL, MMF_ENOENT, MMF_EEXIST,
 * MMF_EACCES, MMF_ERANGE, MMF_EOVERFLOW, MMF_ENOMEM, MMF_ENOSPC,
 * MMF_EMFILE, MMF_ENAMETOOLONG, or another translated OS error (see
 * mmf_last_os_error(NULL)). A region this call created is removed again
 * when the call fails. Nothing leaks on any error path.
 */
MMF_API int mmf_shm_open(mmf_map **out, const char *name, int mode,
                         const mmf_options *opts);

/*
 * Remove the name of region name: later opens without MMF_CREATE fail
 * with MMF_ENOENT; maps of it stay valid, and its memory is freed when
 * the last is closed. Windows: a region's name lasts as long as its
 * handles, so this only checks that it exists. Returns 0, MMF_EINVAL (bad
 * name), MMF_ENOENT, MMF_EACCES, or another translated OS error.
 */
MMF_API int mmf_shm_unlink(const char *name);

/* The name of the region m maps (as given to mmf_shm_open), or NULL for
 * other maps and for NULL. Valid until mmf_close(m). */
MMF_API const char *mmf_shm_name(const mmf_map *m);

/*
 * Sleep while the 32-bit word at off still holds expected.
 *
 * Returns 0 when woken by mmf_wake(), or at once when the word does not
 * hold expected (compared atomically with going to sleep, so a wake that
 * follows a change of the word is never lost). It may also return 0 with
 * no change and no wake (a spurious wake-up): callers loop, re-reading the
 * word. timeout_ns < 0 waits for ever; 0 does not sleep (MMF_ETIMEDOUT if
 * the word holds expected); otherwise MMF_ETIMEDOUT once that many
 * nanoseconds have passed. A waiter sleeps in the kernel: it uses no CPU
 * time until it is woken or times out.
 *
 * Linux: a futex on the shared word (it works across processes for every
 * shared map, keyed by the file and offset). Windows: WaitOnAddress does
 * not cross processes, so a waiter sleeps on a semaphore named after the
 * region (the shared-memory name, or the file's volume serial and index)
 * and the word's offset, and counts itself in a small section of the same
 * name. Other POSIX systems (no futex): the waiter polls the word,
 * sleeping 50 us at first and at most 5 ms between looks, so a wake-up
 * arrives up to 5 ms late.
 *
 * Returns 0, MMF_ETIMEDOUT, MMF_EINVAL (NULL m, off not a multiple of 4
 * in the region), MMF_ERANGE (the word leaves the map), MMF_EPOISONED, a
 * fault code, or a translated OS error (MMF_ENOMEM, MMF_EUNKNOWN: see
 * mmf_last_os_error(NULL)). Does not invalidate pointers.
 */
MMF_API int mmf_wait(mmf_map *m, uint64_t off, uint32_t expected,
                     int64_t timeout_ns);

/*
 * Wake up to count threads sleeping in mmf_wait() on the word at off, in
 * this or any other process (INT_MAX: all of them). Change the word first,
 * then wake. Returns 0 whether or not anybody was waiting (the number
 * woken is not reported: no OS tells it reliably), or MMF_EINVAL (NULL m,
 * count < 1, misaligned off), MMF_ERANGE, MMF_EPOISONED, or a translated
 * OS error. With the polling fallback (see mmf_wait) it only checks its
 * arguments: waiters see the change by themselves.
 */
MMF_API int mmf_wake(mmf_map *m, uint64_t off, int count);

/*
 * Robust mutex. MMF_MUTEX_SIZE bytes at an offset of a shared map whose
 * region offset (mmf_offset(m) + off) is a multiple of 64.
 *
 * All-zero bytes are an unlocked mutex: a new file or shared-memory
 * region needs no initialisation, so processes that open it at the same
 * time never race to set it up. The bytes are the mutex's whole state and
 * mean the same to 32- and 64-bit processes and to every C library (the
 * layout is in docs/sharing.md, fixed like a file format). Do not copy or
 * move a locked mutex.
 *
 * The owner is a thread. When it dies holding the mutex (its thread or
 * process exits or is killed, also while the dead process waits to be
 * reaped), the next locker gets MMF_EOWNERDEAD: it now holds the mutex
 * and must repair the data the mutex protects, then call
 * mmf_mutex_consistent(). Unlocking without doing so makes the mutex not
 * recoverable: every later lock returns MMF_ENOTRECOVERABLE, for ever
 * (until the bytes are zeroed, which only a program that knows nobody
 * uses them may do). A thread id the OS hands out again is never taken
 * for the dead owner (docs/sharing.md tells how).
 *
 * Waiting. A locker that finds the mutex held spins briefly, then sleeps
 * in the kernel. Before it first sleeps it asks (one system call) whether
 * the owner's thread still exists at all, so a crashed owner whose
 * process was reaped is reported at once; while one owner keeps the
 * mutex, the sleeper looks every 1 ms, doubling to every 16 ms, whether
 * that owner still runs, so an owner's death is reported within about
 * 20 ms.
 *
 * Linux: a futex on the first word; the owner is named by its thread id
 * and start time (/proc). Processes that share a mutex must share a PID
 * namespace to see each other die (an owner in another namespace is never
 * judged: its death goes unnoticed). Windows: a named kernel mutex per
 * region and offset (abandoned when its owner dies); the bytes keep the
 * owner-died and not-recoverable state. Other POSIX systems (macOS, the
 * BSDs): the owner is a process, dead once it is gone (reaped), and
 * sleepers poll as mmf_wait() does. The bytes must be in a MMF_WRITE map,
 * shared memory, or anonymous memory (MMF_READ maps: MMF_EACCES).
 */
#define MMF_MUTEX_SIZE 64

/*
 * Lock the mutex at off. timeout_ns < 0 waits for ever; 0 only tries
 * (held by a live owner: MMF_ETIMEDOUT at once; finding out whether the
 * owner still runs costs tens of microseconds on Linux); otherwise
 * MMF_ETIMEDOUT after that many nanoseconds.
 *
 * Returns 0 (locked), MMF_EOWNERDEAD (locked; the previous owner died:
 * repair, then mmf_mutex_consistent), MMF_ETIMEDOUT, MMF_ENOTRECOVERABLE,
 * MMF_EDEADLK (the calling thread already holds it: the mutex is not
 * recursive), MMF_EINVAL (NULL m, off not a multiple of 64 in the region),
 * MMF_ERANGE (the 64 bytes leave the map), MMF_EACCES (MMF_READ map),
 * MMF_EPOISONED, a fault code, or a translated OS error (see
 * mmf_last_os_error(NULL)). Thread-safe; does not invalidate pointers.
 */
MMF_API int mmf_mutex_lock(mmf_map *m, uint64_t off, int64_t timeout_ns);

/*
 * Unlock the mutex at off, held by the calling thread; one sleeper is
 * woken. If it was locked with MMF_EOWNERDEAD and not made consistent, it
 * becomes not recoverable (and every sleeper is woken to learn it).
 * Returns 0, MMF_EPERM (not held by the calling thread, or not locked),
 * or the argument and fault codes of mmf_mutex_lock().
 */
MMF_API int mmf_mutex_unlock(mmf_map *m, uint64_t off);

/*
 * Declare the data repaired after MMF_EOWNERDEAD: the mutex, still held,
 * goes back to normal. Returns 0, MMF_EPERM (not held by the calling
 * thread), MMF_EINVAL (not in the owner-died state), or the argument and
 * fault codes of mmf_mutex_lock().
 */
MMF_API int mmf_mutex_consistent(mmf_map *m, uint64_t off);

/*
 * Byte-range file locks on the file behind a map, for processes that
 * write the same file (through maps, or write() elsewhere) and must take
 * turns. A lock belongs to the map handle, not to the process:
 *  - two maps of one file exclude each other, also in one process;
 *  - an unrelated open() and close() of the same file elsewhere in the
 *    process does not drop it (classic fcntl locks are dropped by any
 *    close of any descriptor of the file: that trap does not apply);
 *  - mmf_close() of the map releases its locks, and so does the death of
 *    its process (kill -9 included).
 * A map made by mmf_open_fd() shares its open file with the descriptor
 * passed, and so shares its locks with that descriptor and its copies.
 *
 * Locks are advisory for mapped access on every OS: they keep out only
 * those who ask for them. Lock before touching the bytes.
 *
 * Linux: open-file-description locks (F_OFD_SETLK, kernel 3.15 and
 * later). Other POSIX systems (macOS, the BSDs): flock() on the whole
 * file, so any range locks the whole file and unlocking any range unlocks
 * it. Windows: LockFileEx; Windows does not merge, split or convert
 * locks, so unlock exactly the ranges you locked (a range not locked:
 * MMF_EINVAL) and do not lock a locked range again with another mode
 * (MMF_EBUSY or a wait); other handles' ReadFile/WriteFile (not maps)
 * are refused inside an exclusive range.
 */
enum mmf_lock_how {
  MMF_LOCK_SHARED = 1,    /* readers: any number at once */
  MMF_LOCK_EXCLUSIVE = 2, /* one writer, no readers */
  MMF_LOCK_NOWAIT = 4     /* with one of the above: do not wait */
};

/*
 * Lock [off, off+len) of m (len 0: to the end of the map), which is file
 * range [mmf_offset(m) + off, ...), with how: MMF_LOCK_SHARED or
 * MMF_LOCK_EXCLUSIVE, optionally | MMF_LOCK_NOWAIT. Waits until the range
 * is free unless MMF_LOCK_NOWAIT. Locking a range this map already holds
 * with the same mode is harmless; on POSIX another mode converts it.
 *
 * Returns 0, MMF_EBUSY (MMF_LOCK_NOWAIT and a conflicting lock is held
 * elsewhere), MMF_EINVAL (NULL m, a bad how, an empty range),
 * MMF_ERANGE (the range leaves the map), MMF_ENOTSUP (the map has no file:
 * anonymous memory, a fallback copy, Windows shared memory), MMF_EACCES
 * (an exclusive lock through a MMF_READ or MMF_COPY map on Linux, whose
 * descriptor is read-only; Windows and flock() allow it), MMF_EPOISONED,
 * or a translated OS error (MMF_ENOMEM: the system's lock table is full;
 * see mmf_last_os_error(NULL)). Thread-safe.
 */
MMF_API int mmf_lock_file(mmf_map *m, uint64_t off, uint64_t len, int how);

/*
 * Unlock [off, off+len) of m (len 0: to the end of the map). Unlocking a
 * range that holds no lock does nothing on POSIX and is MMF_EINVAL on
 * Windows. Returns 0, or the codes of mmf_lock_file() (never MMF_EBUSY).
 */
MMF_API int mmf_unlock_file(mmf_map *m, uint64_t off, uint64_t len);

/* ------------------------------------------------------------------------ */
/* Scanning                                                                  */
/* ------------------------------------------------------------------------ */

/*
 * Whole-input scans at memory bandwidth: count a byte or the lines, find a
 * byte string or count its occurrences, walk the lines; over a file named
 * by path or descriptor, or over a stream. The work is done by SIMD
 * kernels picked once per process for this CPU (AVX-512BW, AVX2, SSE2, or
 * portable C elsewhere); every variant gives the same results.
 *
 * How the input is read (mmf_scan_options.io). Mapping a file costs a
 * fixed price (map, page-table set-up, unmap) that read() does not pay,
 * and read() costs a copy per byte that a mapping does not: small files
 * are faster read, large ones mapped. The result never depends on the
 * choice.
 *  - MMF_SCAN_AUTO: a regular file whose scanned range is shorter than
 *    the break-even (2 MiB; see "Tuning") is read with read() (pread) into a
 *    buffer; a longer one is mapped, whole when the range fits the budget
 *    (placed 2 MiB-congruent, as mmf_open does), else walked through
 *    windows of the budget (see "Window cursor"). Streams are read. A
 *    whole-input scan by path (offset and length 0) reads first and looks
 *    at the size only when the input fills a 256 KiB buffer, so a small
 *    file costs open, read, close, as in a read() loop (and, like one,
 *    ends where read() finds the end if the file is cut meanwhile); the
 *    rest of a large one is then mapped.
 *    A range of 64 MiB or more most of which is not in the page cache
 *    (a cold file: fewer than half of 32 pages spread over it are
 *    resident, as mincore tells) is read around the cache instead, as
 *    MMF_SCAN_DIRECT says; the look costs about 20 us. Windows does not
 *    look (docs/windows.md).
 *  - MMF_SCAN_READ: always read into a buffer.
 *  - MMF_SCAN_MAP: always map regular files.
 *  - MMF_SCAN_DIRECT: read regular files around the page cache, in 4 MiB
 *    aligned reads (Linux and the BSDs: O_DIRECT; macOS: F_NOCACHE), one
 *    in flight per thread (see "Several threads"). Where the OS or the
 *    file system refuses (Windows, for now; a file system without
 *    O_DIRECT; a file whose size is a guess; a needle longer than 1 MiB),
 *    the file is read through the cache as with MMF_SCAN_READ. Line
 *    iterators read as with MMF_SCAN_READ. The scan holds a second
 *    descriptor of the file (opened again by path, or on Linux through
 *    /proc/self/fd for a descriptor) while it runs.
 * Where the address space is short (RLIMIT_AS, `ulimit -v`), a mapped scan
 * takes smaller windows, or reads, instead of failing.
 * Streams (pipes, FIFOs, terminals, character devices, sockets) and files
 * of size 0 that still produce bytes (/proc files) cannot be mapped; they
 * are read whatever io says, unless MMF_NO_FALLBACK is set, which makes
 * them MMF_ENODEV (so do files the OS refuses to map, such as some /sys
 * files, with MMF_SCAN_MAP). A regular file is seen as it was when the
 * scan took its size: bytes appended later are not read, and a file
 * shrunk before its bytes were scanned is MMF_ETRUNCATED in every mode
 * (a file read whole before its size is taken, see above, is seen as
 * read() saw it). Files whose size is a guess (Linux /sys files say 4096
 * whatever they hold) are read to their real end. A FIFO without a
 * writer waits for one in open(), as `wc` does; with MMF_NO_FALLBACK it
 * is MMF_ENODEV at once.
 *
 * Range. A regular file is scanned over [offset, offset + length) of
 * mmf_scan_options (length 0: to the end), whatever the descriptor's
 * position, which is not moved (MMF_SCAN_FROM_POSITION counts offset from
 * it instead). A stream is read from its current position: offset bytes
 * are passed (without reading where the device allows it, /dev/zero),
 * then length bytes (0: to its end) are scanned. An offset past the end,
 * or offset + length past the end, is MMF_ERANGE (for a stream, after it
 * ended), and so is an offset past 2^63 - 1, which no file reaches; an
 * offset + length that does not fit in 63 bits is MMF_EOVERFLOW.
 *
 * Faults. The scans' own accesses to mapped bytes are guarded: a file
 * truncated under a scan gives MMF_ETRUNCATED, an I/O error MMF_EIO,
 * never SIGBUS. The _mem twins at the end are the exception: they scan
 * memory the caller holds, unguarded.
 *
 * Several threads (mmf_scan_options.threads). A count (of a byte, of
 * lines), a find or a match count of a regular file splits its range in
 * pieces (of 8 to 64 MiB, cut at 2 MiB file offsets) when it holds at
 * least two, and up to `threads` threads take the pieces in input order:
 * the calling thread and threads the call starts, each reading its
 * pieces with the io the options say (a mapped piece is a window of its
 * own, of at most budget / threads). The results are exactly those of
 * one thread, whatever the split: occurrences that straddle a cut are
 * found and counted once, and a match count cuts only where no
 * occurrence straddles (its pieces end a little after their 2 MiB
 * offsets; where occurrences overlap each other for more than 64 KiB, as
 * "aa" in a long run of a's, the cut is dropped and one thread counts
 * across it). Every thread the call starts is joined before it returns:
 * none outlives it, and there is no pool; a thread the system refuses to
 * start is no error (the others take its pieces); a join the system
 * refuses is the call's code, returned only once that thread has done
 * with the call's memory. The threads take no
 * asynchronous signals (POSIX: they block all but SIGBUS, SIGSEGV,
 * SIGFPE and SIGILL), so handlers keep running on the program's own
 * threads. When pieces fail, the call returns the failure of the first
 * of them in input order, as one thread would have met it, and the later
 * pieces stop early. Streams, /proc files and shorter ranges are scanned
 * by the calling thread alone. Threads pay off where one core is the
 * limit: a hot file (two cores read memory faster than one) and a cold
 * one (several reads in flight: read around the cache, each thread keeps
 * one 4 MiB read in flight); docs/BENCHMARKS.md has the figures.
 *
 * Errors shared by every function below that takes a path or descriptor:
 * MMF_EINVAL (a NULL path or out-pointer, a negative descriptor, unknown
 * io or flags, a budget below two mmf_granularity() units), MMF_EOVERFLOW
 * (a budget larger than the address space, or offset + length past 2^63 -
 * 1), MMF_ENOENT, MMF_EACCES (also
 * a write-only descriptor), MMF_EISDIR, MMF_ENODEV, MMF_ERANGE,
 * MMF_ENOMEM, MMF_EMFILE, MMF_ENAMETOOLONG, MMF_ENOTDIR, MMF_ELOOP,
 * MMF_ETRUNCATED, MMF_EIO, MMF_EAGAIN (a non-blocking stream had no
 * bytes), MMF_EUNKNOWN; mmf_last_os_error(NULL) then gives the raw OS
 * error, if there was one.
 *
 * Out-values on failure. A count holds what was counted before the
 * failure (0 when it came before any byte was scanned): a lower bound,
 * exact up to the read() buffer or window in which the failure came,
 * none of whose bytes are counted (with several threads: exact up to the
 * piece that failed, plus what that piece counted before its failure). So a
 * tool can print the count so far with the error, as `wc` does when a read
 * fails part-way. A position is MMF_NPOS; handles are NULL.
 *
 * Threads and descriptors. Every function here may be called from
 * several threads at once; a line iterator (mmf_lines) is used by one
 * thread at a time. A scan holds one descriptor (close-on-exec; two
 * while it reads around the cache) while it runs, shared by its threads,
 * and none afterwards; nothing leaks on any
 * error path.
 */

/* Values of mmf_scan_options.io. */
enum mmf_scan_io {
  MMF_SCAN_AUTO = 0,  /* read small files, map large ones */
  MMF_SCAN_READ = 1,  /* read() into a buffer, whatever the size */
  MMF_SCAN_MAP = 2,   /* map regular files, whatever the size */
  MMF_SCAN_DIRECT = 3 /* read regular files around the page cache */
};

/*
 * Flags for mmf_scan_options.flags, besides MMF_NO_FALLBACK (inputs that
 * cannot be mapped are MMF_ENODEV instead of read). Other bits:
 * MMF_EINVAL.
 */
enum mmf_scan_flag {
  /* Line iterators: deliver lines longer than the limit in flagged pieces
   * instead of failing with MMF_EFBIG (see mmf_lines_next). Ignored by
   * the other scans. Same value as MMF_WINDOW_SPLIT_LONG. */
  MMF_SCAN_SPLIT_LONG = 1u << 16,
  /* The _fd scans and mmf_lines_open_fd() of a regular file: offset
   * counts from the descriptor's current position instead of from the
   * start of the file (the position is not moved; input offsets the scan
   * reports stay file offsets). Streams always start where they are. */
  MMF_SCAN_FROM_POSITION = 1u << 17,
  /* Match iterators: count the lines too, so that mmf_matches_line()
   * tells the line of each occurrence (it costs a count of '\n' over
   * the input). Ignored by the other scans. */
  MMF_SCAN_LINE_NUMBERS = 1u << 18
};

/* The header promises these are equal; the compiler checks it. */
MMF__STATIC_ASSERT((unsigned)MMF_SCAN_SPLIT_LONG ==
                       (unsigned)MMF_WINDOW_SPLIT_LONG,
                   split_long_flags_agree);

/*
 * What to scan and how. Zero-initialise and set what you need (a zeroed
 * struct, MMF_SCAN_OPTIONS_INIT and NULL options all mean: the whole
 * input, MMF_SCAN_AUTO, the default budget, no flags).
 */
typedef struct mmf_scan_options {
  uint64_t offset; /* first byte scanned (see "Range") */
  uint64_t length; /* bytes scanned from offset; 0: to the end */
  /* Address space a mapped scan may hold, as mmf_window_options.budget:
   * 0 means 1 GiB in a 64-bit process, 64 MiB in a 32-bit one. Larger
   * files are walked in windows of this size. Also the most a line
   * iterator's buffer grows to for one line. */
  uint64_t budget;
  int io;         /* enum mmf_scan_io */
  unsigned flags; /* MMF_NO_FALLBACK | MMF_SCAN_SPLIT_LONG | ... */
  /* Threads a count, find or match count may use: 0 or 1, the calling
   * thread only; N, up to N of them, the calling one included (see
   * "Several threads"). Ignored by the iterators. */
  unsigned threads;
} mmf_scan_options;

/* The defaults: whole input, MMF_SCAN_AUTO, default budget, no flags, the
 * calling thread only. */
#define MMF_SCAN_OPTIONS_INIT                                                  \
  { 0, 0, 0, MMF_SCAN_AUTO, 0u, 0u }

/*
 * Count the bytes equal to byte (0..255) in the input into *count. With
 * byte '\n' this is the line count of `wc -l`. Errors: see above;
 * MMF_EINVAL also for a byte outside 0..255. On failure *count is the
 * count so far (see "Out-values on failure" above).
 */
MMF_API int mmf_count_byte_path(const char *path, const mmf_scan_options *opts,
                                int byte, uint64_t *count);
MMF_API int mmf_count_byte_fd(int fd, const mmf_scan_options *opts, int byte,
                              uint64_t *count);

/*
 * Count the lines of the input into *lines: the '\n' bytes, plus one when
 * the input does not end with '\n' and is not empty (so "a\nb" has two
 * lines, as mmf_lines_next() delivers them, where `wc -l` says one).
 * Errors: see above. On failure *lines is the number of '\n' bytes
 * counted before it (see "Out-values on failure" above): a line whose
 * end was not seen is not counted.
 */
MMF_API int mmf_count_lines_path(const char *path, const mmf_scan_options *opts,
                                 uint64_t *lines);
MMF_API int mmf_count_lines_fd(int fd, const mmf_scan_options *opts,
                               uint64_t *lines);

/*
 * Find the first occurrence of needle (nlen >= 1 bytes) in the input:
 * *pos is the input offset of its first byte (a file offset for regular
 * files; for streams, counted from where reading started), or MMF_NPOS
 * when it does not occur (the call still returns 0). Occurrences across
 * buffer and window boundaries are found. Errors: see above; MMF_EINVAL
 * also for a NULL needle or nlen 0.
 */
MMF_API int mmf_find_path(const char *path, const mmf_scan_options *opts,
                          const void *needle, size_t nlen, uint64_t *pos);
MMF_API int mmf_find_fd(int fd, const mmf_scan_options *opts,
                        const void *needle, size_t nlen, uint64_t *pos);

/*
 * Count the occurrences of needle (nlen >= 1 bytes) in the input into
 * *count, non-overlapping and taken left to right: "aa" occurs twice in
 * "aaaaa", as `grep -o` reports it. Errors: see above; MMF_EINVAL also for
 * a NULL needle or nlen 0. On failure *count is the number of occurrences
 * counted before it (see "Out-values on failure" above).
 */
MMF_API int mmf_count_matches_path(const char *path,
                                   const mmf_scan_options *opts,
                                   const void *needle, size_t nlen,
                                   uint64_t *count);
MMF_API int mmf_count_matches_fd(int fd, const mmf_scan_options *opts,
                                 const void *needle, size_t nlen,
                                 uint64_t *count);

/*
 * As mmf_count_matches_path() over [off, off+len) of a map (len 0: to the
 * end), guarded like mmf_find(). Returns 0, or MMF_EINVAL (NULL m, needle
 * or count, nlen 0), MMF_ERANGE, MMF_EPOISONED, or a fault code (see
 * "Faults").
 */
MMF_API int mmf_count_matches(mmf_map *m, uint64_t off, uint64_t len,
                              const void *needle, size_t nlen, uint64_t *count);

/*
 * As mmf_count_lines_path() over [off, off+len) of a map (len 0: to the
 * end), guarded like mmf_count_byte(). Returns 0, or MMF_EINVAL (NULL m or
 * lines), MMF_ERANGE, MMF_EPOISONED, or a fault code (see "Faults").
 */
MMF_API int mmf_count_lines(mmf_map *m, uint64_t off, uint64_t len,
                            uint64_t *lines);

/*
 * Line iterator. Hands out the lines of an input one by one without
 * calling memchr per line: the positions of a batch of '\n' bytes are
 * found at once with the SIMD kernels, and each mmf_lines_next() then
 * costs a few instructions. A line is the bytes before a '\n' (the '\n'
 * not included; a CRLF line ends with its '\r'), or the bytes after the
 * last '\n' when the input does not end with one. So "a\n\nb" gives "a",
 * "" and "b", and "a\n" gives just "a". The input is read as described
 * above (io, range, budget).
 *
 * Long lines. The limit L is mmf_lines_limit(): budget minus
 * mmf_granularity(), the same for files and streams, read or mapped. A
 * line of at most L bytes counting its '\n' always comes whole. A longer
 * one is by default MMF_EFBIG: mmf_lines_next() does not move past it and
 * returns MMF_EFBIG again on every later call. With MMF_SCAN_SPLIT_LONG it
 * comes instead as pieces of L bytes, for which mmf_lines_partial() is
 * true, then a last piece of at most L bytes counting its '\n' (so
 * possibly empty), for which it is false. A range that ends inside a
 * line ends that line there: the piece that reaches the range's end is
 * its last, even when it is exactly L bytes and the file goes on.
 *
 * Pointers. A line pointer points into the iterator's buffer or mapping:
 * it stays valid until the next mmf_lines_next() or mmf_lines_close().
 * The iterator's own scans are guarded (MMF_ETRUNCATED, MMF_EIO instead of
 * SIGBUS); the line bytes are the caller's to guard when the input is
 * mapped: read them inside mmf_lines_guard().
 */
struct mmf_lines;
typedef struct mmf_lines mmf_lines;

/*
 * Open a line iterator over the file at path (or a FIFO, a /proc file:
 * see above); NULL opts are MMF_SCAN_OPTIONS_INIT. Returns 0 and sets
 * *out, or an error listed above. The iterator keeps one descriptor
 * (close-on-exec) until mmf_lines_close(); nothing leaks on any error
 * path.
 */
MMF_API int mmf_lines_open(mmf_lines **out, const char *path,
                           const mmf_scan_options *opts);

/* As mmf_lines_open() over a descriptor, which stays the caller's (the
 * iterator works on a duplicate; a stream's position is shared). */
MMF_API int mmf_lines_open_fd(mmf_lines **out, int fd,
                              const mmf_scan_options *opts);

/*
 * The next line: sets *line and *len (see above) and moves past it. At
 * the end of the input it returns 0 with *line NULL and *len 0, as often
 * as it is called; an empty line has a non-NULL *line and *len 0.
 * INVALIDATES the previous line pointer (even on failure). A stream
 * blocks in read() until a whole line (or its end) has arrived.
 *
 * Returns 0, or MMF_EINVAL (NULL argument), MMF_EFBIG (a line longer than
 * the limit, without MMF_SCAN_SPLIT_LONG: nothing consumed), MMF_EAGAIN
 * (a non-blocking stream had no bytes: nothing consumed), MMF_ETRUNCATED,
 * MMF_EIO, MMF_ENOMEM, MMF_ERANGE (a stream ended before offset +
 * length), or another translated OS error. *line and *len are NULL and 0
 * on failure. After a failure other than MMF_EFBIG and MMF_EAGAIN the walk
 * is over: every later call returns the same code.
 */
MMF_API int mmf_lines_next(mmf_lines *it, const char **line, size_t *len);

/* True when the last line from mmf_lines_next() was a piece of a line
 * longer than the limit that continues in the next one. False for NULL. */
MMF_API bool mmf_lines_partial(const mmf_lines *it);

/* The input offset of the first byte of the last line (or piece)
 * mmf_lines_next() delivered; for streams counted from where reading
 * started. 0 for NULL and before the first line. */
MMF_API uint64_t mmf_lines_offset(const mmf_lines *it);

/* The longest line delivered whole, counting its '\n': budget -
 * mmf_granularity(). 0 for NULL. */
MMF_API size_t mmf_lines_limit(const mmf_lines *it);

/*
 * Run fn(ctx) with the fault guard armed over the bytes the current line
 * pointer points into, and return what fn returns or, if fn faults there,
 * the fault's code (MMF_ETRUNCATED, MMF_EIO; fn's remaining work is
 * abandoned, as with mmf_guard()). fn may call mmf_lines_next() on it: the
 * guard follows the iterator to each window it maps, so one guard around
 * a loop over many lines covers them all (one arming per batch of lines is
 * cheaper than one per line). Over a buffer (inputs read with read()) fn
 * simply runs. Does not invalidate the line pointer. MMF_EINVAL for a NULL
 * it or fn.
 */
MMF_API int mmf_lines_guard(mmf_lines *it, int (*fn)(void *ctx), void *ctx);

/* The raw OS error behind the last failure of it (see mmf_last_os_error);
 * with it NULL, that of the calling thread's last failed
 * mmf_lines_open / mmf_lines_open_fd. */
MMF_API int mmf_lines_last_os_error(const mmf_lines *it);

/* Release the iterator: unmap, free, close the descriptor. NULL is fine.
 * Returns 0, or the OS error if unmapping failed; it is released in every
 * case. INVALIDATES the line pointer. */
MMF_API int mmf_lines_close(mmf_lines *it);

/*
 * Match iterator. Hands out the occurrences of a byte string in an input
 * one by one, left to right and non-overlapping, as mmf_count_matches_path
 * counts them ("aa" occurs at 0 and 2 in "aaaa"), optionally with the
 * line each starts on. The input is read as described above (io, range,
 * budget); occurrences across buffer and window boundaries are found, in
 * a stream however many read() calls their bytes arrive in. Occurrences
 * are searched a batch at a time with the SIMD kernels, under the fault
 * guard, so each mmf_matches_next() costs a few instructions while the
 * batch lasts.
 *
 * Positions are input offsets: file offsets for regular files (also with
 * opts->offset and MMF_SCAN_FROM_POSITION), and for streams counted from
 * where reading started, the skipped opts->offset bytes included. Line
 * numbers (with MMF_SCAN_LINE_NUMBERS) count from 1 at the first byte
 * scanned, as `grep -n` counts them from the start of its input; an
 * occurrence's line is the one its first byte lies on.
 *
 * Pointers and threads. The iterator hands out no pointers into the
 * input, so nothing it returns is invalidated by a later call; it keeps
 * its own copy of the needle, which the caller may free after opening. An
 * iterator is used by one thread at a time; different iterators may run
 * in different threads. It keeps one descriptor (close-on-exec) until
 * mmf_matches_close(); nothing leaks on any error path.
 */
struct mmf_matches;
typedef struct mmf_matches mmf_matches;

/*
 * Open a match iterator for needle (nlen >= 1 bytes) over the file at
 * path (or a FIFO, a /proc file: see above); NULL opts are
 * MMF_SCAN_OPTIONS_INIT, and MMF_SCAN_LINE_NUMBERS in opts->flags makes
 * it count lines. Nothing is searched until the first mmf_matches_next().
 * A FIFO waits in open() for its writer, as with any reader.
 *
 * Returns 0 and sets *out, or an error listed above ("Errors shared by
 * every function"); MMF_EINVAL also for a NULL needle or path and nlen 0.
 * *out is NULL on failure; mmf_matches_last_os_error(NULL) gives the raw
 * OS error.
 */
MMF_API int mmf_matches_open(mmf_matches **out, const char *path,
                             const mmf_scan_options *opts, const void *needle,
                             size_t nlen);

/* As mmf_matches_open() over a descriptor, which stays the caller's (the
 * iterator works on a duplicate; a stream's position is shared, a regular
 * file is scanned from opts->offset whatever the position). A negative fd
 * is MMF_EINVAL. */
MMF_API int mmf_matches_open_fd(mmf_matches **out, int fd,
                                const mmf_scan_options *opts,
                                const void *needle, size_t nlen);

/*
 * The next occurrence: sets *pos to the input offset of its first byte
 * and moves past it (the next one starts at *pos + nlen or later). At the
 * end of the input it returns 0 with *pos MMF_NPOS, as often as it is
 * called. A stream blocks in read() until an occurrence (or the end) has
 * arrived.
 *
 * Returns 0, or MMF_EINVAL (NULL argument), MMF_EAGAIN (a non-blocking
 * stream had no bytes: nothing consumed, ask again later),
 * MMF_ETRUNCATED (the file was cut under the iterator), MMF_EIO,
 * MMF_ENOMEM, MMF_ERANGE (a stream ended before opts->offset or
 * offset + length), or another translated OS error; *pos is MMF_NPOS on
 * failure. After a failure other than MMF_EAGAIN the walk is over: every
 * later call returns the same code. Every occurrence handed out before a
 * failure is right; those in the buffer or window the failure came in
 * are not handed out.
 */
MMF_API int mmf_matches_next(mmf_matches *it, uint64_t *pos);

/* The line number (from 1) of the occurrence mmf_matches_next() handed
 * out last; 0 before the first, for NULL, and without
 * MMF_SCAN_LINE_NUMBERS. */
MMF_API uint64_t mmf_matches_line(const mmf_matches *it);

/* The raw OS error behind the last failure of it (see mmf_last_os_error);
 * with it NULL, that of the calling thread's last failed
 * mmf_matches_open / mmf_matches_open_fd. */
MMF_API int mmf_matches_last_os_error(const mmf_matches *it);

/* Release the iterator: unmap, free, close the descriptor. NULL is fine.
 * Returns 0, or the OS error if unmapping failed; it is released in every
 * case. */
MMF_API int mmf_matches_close(mmf_matches *it);

/*
 * Raw memory. The same kernels over [p, p+n), memory the caller already
 * holds: its own buffers, or spans of a map or a window cursor. These do
 * NOT guard against faults: over mapped bytes, call them inside
 * mmf_guard() or mmf_window_guard(). They read only [p, p+n) (and the
 * needle) and keep no state; any thread may call them. n 0 is fine, with
 * p NULL too; a NULL p with n > 0, a NULL out-pointer or needle, nlen 0 or
 * a byte outside 0..255 is MMF_EINVAL.
 */

/* Count the bytes equal to byte into *count. Returns 0 or MMF_EINVAL. */
MMF_API int mmf_count_byte_mem(const void *p, size_t n, int byte,
                               uint64_t *count);

/* Count the lines of [p, p+n) into *lines, as mmf_count_lines_path()
 * counts them. Returns 0 or MMF_EINVAL. */
MMF_API int mmf_count_lines_mem(const void *p, size_t n, uint64_t *lines);

/* The offset of the first occurrence of needle (nlen bytes) lying wholly
 * in [p, p+n) into *pos, or MMF_NPOS if there is none (the call still
 * returns 0). Linear time whatever the input. Returns 0 or MMF_EINVAL. */
MMF_API int mmf_find_mem(const void *p, size_t n, const void *needle,
                         size_t nlen, uint64_t *pos);

/*
 * Count the non-overlapping occurrences of needle, taken left to right,
 * lying wholly in [p, p+n) into *count. For input that comes in pieces,
 * resume (may be NULL) receives where the search must go on: every start
 * before p + *resume is settled, so pass the bytes from p + *resume on
 * (at most nlen - 1 of them) in front of the next piece. It is just past
 * the last occurrence counted, or n - nlen + 1 if that is later (0 when
 * n < nlen). Returns 0 or MMF_EINVAL.
 */
MMF_API int mmf_count_matches_mem(const void *p, size_t n, const void *needle,
                                  size_t nlen, uint64_t *count, size_t *resume);

/* ------------------------------------------------------------------------ */
/* The log                                                                   */
/* ------------------------------------------------------------------------ */

/*
 * An append-only record log in a directory: one writer, any number of
 * readers in any process, records that survive crashes as promised by the
 * commit level and never come back torn. docs/log.md is the guide (the
 * byte format, the promises, recovery, the numbers).
 *
 * Records. A record is any bytes (length 0 included), numbered by a
 * sequence number: the first record of a log is 0 and there are no gaps.
 * Records lie verbatim and contiguous in fixed-size segment files, each
 * in a frame with its length, sequence number, the segment's salt and a
 * CRC-32C over all of it; readers hand out pointers into the mapping.
 *
 * Promises. mmf_log_append() copies a record in: not yet visible, not yet
 * durable. mmf_log_commit(w, level) makes everything appended so far
 *  - MMF_FLUSH_ASYNC: visible to readers (in this and other processes);
 *    it survives the death of the writer process, and reaches the disk
 *    when the OS writes it back (on Linux, within about 30 s);
 *  - MMF_FLUSH_SYNC: also durable: it survives power loss and OS crashes
 *    (msync MS_SYNC of the appended bytes; Windows: FlushViewOfFile and
 *    FlushFileBuffers);
 *  - MMF_FLUSH_FULL: SYNC plus what the platform needs beyond it
 *    (F_FULLFSYNC on macOS). Segment files and their directory entries are
 *    made durable when a segment is created, whatever the level.
 * Only records whose commit returned 0 are promised: after a crash the log
 * holds every record whose SYNC or FULL commit returned 0, possibly some
 * later committed ones, and nothing else. Records appended and never
 * committed are never visible and never found again (their commit words
 * were never stored).
 *
 * Latched errors. When a commit fails to make data durable (an I/O error,
 * a full disk), the OS may already have marked the pages clean: a retried
 * msync or fsync then returns 0 although the data never reached the disk.
 * So a failed commit is latched: every later mmf_log_commit() and
 * mmf_log_append() on that handle returns the same code. Close the writer
 * and open it again, which recovers the log from what is on disk.
 *
 * Recovery. mmf_log_open() of a writer walks the segments not yet known
 * durable (the last one, and those rolled over since the last SYNC
 * commit), keeps every frame that passes its checks, and cuts the log at
 * the first torn or corrupt frame: the bytes after it are zeroed and later
 * segments removed, so stale bytes can never pass for records. The next
 * append after a cut at record k gets sequence number k.
 *
 * Readers verify every frame they hand out (length, sequence number, salt,
 * CRC-32C): they never return a record with wrong bytes. A frame that
 * fails is MMF_ECORRUPT, and the reader stays in front of it. That is
 * either damage, or the torn tail of a log that lost power and that no
 * writer has opened since (the writer's recovery cuts it, after which the
 * reader goes on).
 *
 * Single writer. One writer at a time per log, across processes: a
 * second mmf_log_open() with MMF_WRITE gets MMF_EBUSY while the first
 * lives (an OS file lock on the file "lock" in the directory, released
 * when the writer closes or dies). Readers take no lock.
 *
 * Segments. The segment size is fixed when the log is created
 * (mmf_log_options.segment_size, default 64 MiB) and read back from the
 * log on every later open. Each segment is preallocated when it is
 * created, so a full disk is MMF_ENOSPC from the append that needed the
 * new segment, never a fault. A record must fit in one segment: at most
 * segment_size - 4128 bytes (MMF_EFBIG beyond, using up no sequence
 * number). mmf_log_trim() removes whole segments at the front.
 *
 * Threads. A log handle is used by one thread at a time; any number of
 * handles (a writer and readers) may live in one process.
 *
 * Address space. The writer maps the segment it appends to (and up to two
 * rolled ones waiting for a sync), so a 32-bit writer needs segment_size
 * bytes of address space, which the default of 64 MiB keeps small. A
 * reader maps the header page of the segment it reads and a window over
 * its frames: the whole segment where the walk budget allows (1 GiB in a
 * 64-bit process, 64 MiB in a 32-bit one), smaller where the address
 * space is short (RLIMIT_AS, a crowded 32-bit process), down to the frame
 * at hand; only a record the address space cannot hold at all is
 * MMF_ENOMEM from mmf_log_next() or mmf_log_seek().
 *
 * Windows: the same files and bytes (a log written on one OS is read on
 * the other). A segment a reader still maps cannot be removed by
 * mmf_log_trim() until the reader moves on; trim leaves it for a later
 * call. The writer lock is LockFileEx.
 */
typedef struct mmf_log mmf_log;

/*
 * How to open a log. Zero-initialise and set what you need (a zeroed
 * struct, MMF_LOG_OPTIONS_INIT and NULL options all mean the defaults).
 */
typedef struct mmf_log_options {
  /* Bytes per segment file for a log this call creates: 0 means 64 MiB;
   * otherwise a multiple of 4096 from 64 KiB to 1 GiB (MMF_EINVAL
   * outside). Ignored when the log exists: its own size is used. */
  uint64_t segment_size;
  /* MMF_CREATE (with MMF_WRITE): create the directory and the first
   * segment when missing. Other bits: MMF_EINVAL. */
  unsigned flags;
} mmf_log_options;

/* The defaults: 64 MiB segments, no flags. */
#define MMF_LOG_OPTIONS_INIT                                                   \
  { 0, 0u }

/* mmf_log_seek() to this goes to the end: the next record to be
 * committed. */
#define MMF_LOG_END UINT64_MAX

/*
 * Open the log in directory dir as its writer (MMF_WRITE) or as a reader
 * (MMF_READ).
 *
 * Writer: takes the writer lock (MMF_EBUSY when another writer lives),
 * then recovers the log (see "Recovery" above). With MMF_CREATE a missing
 * directory is created, and a log with no segment gets its first one. The
 * next append gets the sequence number after the last record kept.
 *
 * Reader: starts at the first record still in the log; needs a log with at
 * least one segment (a writer opened once), else MMF_ENOENT. Never
 * changes a file.
 *
 * Returns 0 and sets *out, or MMF_EINVAL (NULL out or dir, a mode other
 * than MMF_READ or MMF_WRITE, bad options, MMF_CREATE with MMF_READ),
 * MMF_ENOENT (no such directory, or no log in it), MMF_ENOTDIR, MMF_EBUSY
 * (another writer), MMF_ECORRUPT (a segment header fails its checks, two
 * segments disagree on the segment size, or recovery found damage it
 * cannot cut: a segment missing between two others), MMF_EACCES,
 * MMF_EROFS, MMF_ENOSPC, MMF_EIO, MMF_ENOMEM, MMF_EMFILE,
 * MMF_ENAMETOOLONG, MMF_EUNKNOWN (see mmf_log_last_os_error(NULL)).
 * Nothing leaks on any error path.
 */
MMF_API int mmf_log_open(mmf_log **out, const char *dir, int mode,
                         const mmf_log_options *opts);

/*
 * Append the len bytes at rec as the next record, and set *seq (may be
 * NULL) to its sequence number. Not visible to readers, not durable, until
 * mmf_log_commit(). rec may be NULL when len is 0. When the record does
 * not fit in the current segment the next one is created (and
 * preallocated) here.
 *
 * Returns 0, or MMF_EINVAL (NULL w, NULL rec with len > 0), MMF_EACCES (a
 * reader), MMF_EFBIG (longer than a segment holds; nothing appended, no
 * number used), MMF_ENOSPC (no room for a new segment), MMF_EIO, another
 * translated OS error, or the latched error of an earlier failed commit.
 */
MMF_API int mmf_log_append(mmf_log *w, const void *rec, size_t len,
                           uint64_t *seq);

/*
 * Commit everything appended so far at level MMF_FLUSH_ASYNC, SYNC or FULL
 * (see "Promises" above) and wake the readers waiting for records. A
 * commit with nothing appended since the last one still makes the records
 * of earlier weaker commits durable at the level asked.
 *
 * Returns 0, or MMF_EINVAL (NULL w, bad level), MMF_EACCES (a reader),
 * MMF_EIO, MMF_ENOSPC or another translated OS error. A failure is latched
 * (see "Latched errors").
 */
MMF_API int mmf_log_commit(mmf_log *w, int level);

/*
 * The next committed record: sets *rec and *len to its bytes (borrowed:
 * valid until the next mmf_log_next, mmf_log_seek or mmf_log_close on r;
 * the mapping stays valid after that only as memory the caller must not
 * touch) and *seq (may be NULL) to its sequence number. Records come in
 * order, each once. An empty record has a non-NULL *rec and *len 0.
 *
 * When no record is committed yet, waits up to timeout_ns nanoseconds for
 * one (0: do not wait; negative: wait forever), sleeping in the kernel
 * until the writer's commit wakes it (never spinning), then returns
 * MMF_EAGAIN. Moving to the next segment opens it.
 *
 * Returns 0, or MMF_EINVAL (NULL r, rec or len), MMF_EACCES (a writer),
 * MMF_EAGAIN (no record within the timeout), MMF_ECORRUPT (the frame at
 * the reader's position, or the next segment, fails its checks: nothing is
 * consumed, so a later call looks again; see "Readers" above),
 * MMF_ETRUNCATED or MMF_EIO (a segment file was cut or cannot be read;
 * the reader stays where it was), MMF_EMFILE, MMF_ENOMEM (also: no room
 * in the address space for the window the record needs). *rec, *len and
 * *seq are NULL and 0 on failure.
 */
MMF_API int mmf_log_next(mmf_log *r, const void **rec, size_t *len,
                         uint64_t *seq, int64_t timeout_ns);

/*
 * Make seq the sequence number of the next record mmf_log_next() returns:
 * any record still in the log, the end (the next record to be committed),
 * or MMF_LOG_END for the end. Walks the frames of the segment that holds
 * seq (a few milliseconds for a full 64 MiB segment). INVALIDATES the
 * record pointer.
 *
 * Returns 0, or MMF_EINVAL (NULL r), MMF_EACCES (a writer), MMF_ERANGE
 * (seq was trimmed away, or lies past the end), MMF_ECORRUPT (a frame on
 * the way fails its checks), MMF_ETRUNCATED, MMF_EIO, MMF_ENOMEM (also:
 * no room in the address space for a window), MMF_EMFILE.
 */
MMF_API int mmf_log_seek(mmf_log *r, uint64_t seq);

/*
 * Remove the whole segments that hold only records before seq, oldest
 * first; record seq and the segment being written stay. Their disk space
 * is freed when no reader maps them any more (a reader inside a removed
 * segment finishes it). Returns 0, or MMF_EINVAL (NULL w), MMF_EACCES (a
 * reader), MMF_ERANGE (seq past the last appended record + 1), or a
 * translated OS error (segments removed before the error stay removed).
 * Windows: a segment some reader still maps stays until a later trim.
 */
MMF_API int mmf_log_trim(mmf_log *w, uint64_t seq);

/*
 * Where the log stands, for a reader or the writer (each may be NULL):
 * *first: the sequence number of the first record still in the log;
 * *end: for the writer, the number of the next record to be appended
 * (records appended and not yet committed count); for a reader, the next
 * record it returns; *segments: the number of segment files. Returns 0,
 * MMF_EINVAL (NULL log), or an OS error from listing the directory.
 */
MMF_API int mmf_log_info(mmf_log *log, uint64_t *first, uint64_t *end,
                         uint64_t *segments);

/* The segment size of the log in bytes; 0 for NULL. */
MMF_API uint64_t mmf_log_segment_size(const mmf_log *log);

/*
 * The raw OS error (errno, GetLastError()) behind the last failure on log,
 * or 0. With log == NULL: that of the last failed mmf_log_open in the
 * calling thread (the same slot as mmf_last_os_error(NULL)).
 */
MMF_API int mmf_log_last_os_error(const mmf_log *log);

/*
 * Close the log. A writer's records appended and not committed are
 * dropped (not made visible, not promised: a later recovery may find
 * them or not). NULL is fine. Returns 0, or the latched error of a writer
 * whose commit had failed, or an OS error from unmapping; log is released
 * in every case. INVALIDATES the record pointer.
 */
MMF_API int mmf_log_close(mmf_log *log);

/* ------------------------------------------------------------------------ */
/* Tuning                                                                    */
/* ------------------------------------------------------------------------ */

/*
 * Not part of the stable API: values measured on one machine, and switches
 * for benchmarks and tests. They may change or go away in any release.
 * Declared only when MMF_TUNING is defined before mmf.h is included.
 *
 * The environment variable MMF_SCAN_ISA, read once per process at the
 * first scan, forces the scan kernels of one variant: "generic", "sse2",
 * "avx2", "avx512" or "neon". A variant this CPU cannot run, or an unknown
 * name, is ignored (the best variant is used).
 */
#ifdef MMF_TUNING

/*
 * The range length (bytes) from which MMF_SCAN_AUTO maps a regular file
 * instead of reading it: 2 MiB, measured on Linux 6.x (x86-64), where a
 * file of 2 MiB or more sits in the page cache in 2 MiB folios that one
 * page-table entry maps (docs/BENCHMARKS.md has the numbers).
 */
MMF_API uint64_t mmf_scan_break_even(void);

/* The name of the scan kernel variant in use: "generic", "sse2", "avx2",
 * "avx512" or "neon". Static string. */
MMF_API const char *mmf_scan_kernel_name(void);

#endif /* MMF_TUNING */

#ifdef __cplusplus
}
#endif

#endif /* MMF_H */
