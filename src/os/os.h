/*
 * os.h - the backend contract.
 *
 * The portable core (the .c files in src/) never calls the operating system; it
 * calls these functions, which each backend (src/os/posix/, src/os/win/)
 * implements. Backend functions return 0 or a negative MMF_E* code and, on
 * failure, store the raw OS error in *oserr (when oserr is not NULL).
 *
 * Sizes here are already validated by the core: offsets are aligned to
 * mmf__os_granularity(), lengths are non-zero and fit in size_t.
 */
#ifndef MMF_OS_H
#define MMF_OS_H

#include <stddef.h>
#include <stdatomic.h>
#include <stdint.h>

#include "mmf.h"

/* An open file: a descriptor on POSIX, a HANDLE on Windows. */
typedef struct mmf__file {
  intptr_t h;
} mmf__file;

#define MMF__NO_FILE ((intptr_t)-1)

/* What a descriptor refers to. */
enum mmf__file_kind {
  MMF__KIND_REGULAR = 1,
  MMF__KIND_DIRECTORY,
  MMF__KIND_STREAM, /* FIFO, socket, character device: read, never mapped */
  MMF__KIND_OTHER   /* block devices and the rest: tried as regular */
};

/* Protection of a mapping. */
enum mmf__map_access {
  MMF__MAP_READ = 1,  /* shared, read-only */
  MMF__MAP_WRITE = 2, /* shared, read-write */
  MMF__MAP_COPY = 3   /* private, copy-on-write */
};

size_t mmf__os_page_size(void);
size_t mmf__os_granularity(void);
/* Physical memory in bytes (0 when unknown). */
uint64_t mmf__os_physical_memory(void);
/* Whether the CPU runs the ARMv8 CRC32 instructions, as far as the OS
 * tells (the instructions are optional in ARMv8.0): 0 on other CPUs. */
int mmf__os_cpu_arm_crc32(void);
/* Nanoseconds of a monotonic clock (for timeouts; the origin is
 * arbitrary). */
uint64_t mmf__os_now_ns(void);

/* How mmf__os_open opens a path. */
enum mmf__open_how {
  MMF__OPEN_WRITE = 1u << 0,     /* read-write, else read-only */
  MMF__OPEN_CREATE = 1u << 1,    /* create if missing */
  MMF__OPEN_EXCLUSIVE = 1u << 2, /* with CREATE: MMF_EEXIST if it exists */
  /* Never wait in the open itself: a FIFO without a writer opens at once
   * (the caller refuses streams anyway). */
  MMF__OPEN_NONBLOCK = 1u << 3
};

/* Open path as `how` (enum mmf__open_how) says. *created: this call
 * created the file, so removing it undoes the open. */
int mmf__os_open(const char *path, unsigned how, mmf__file *f, int *created,
                 int *oserr);
/* Remove the directory entry path (a file this library created). */
int mmf__os_remove(const char *path, int *oserr);
/* Duplicate a caller's descriptor (close-on-exec) after checking that its
 * access mode allows reading and, if writable, writing (MMF_EACCES). */
int mmf__os_dup(int fd, int writable, mmf__file *f, int *oserr);
void mmf__os_close(mmf__file *f);
int mmf__os_stat(mmf__file f, int *kind, uint64_t *size, int *oserr);
/* Read up to n bytes at the current position (streams) or at off (off >= 0),
 * retrying interrupted calls. *got is 0 at end of input. */
/* Something that changes whenever the file's size or contents are changed
 * (change time and size), for telling a file that moved under us from one
 * that cannot be read. */
typedef struct mmf__stamp {
  uint64_t change_time;
  uint64_t size;
} mmf__stamp;
int mmf__os_change_stamp(mmf__file f, mmf__stamp *stamp, int *oserr);
int mmf__os_read(mmf__file f, int64_t off, void *buf, size_t n, size_t *got,
                 int *oserr);
/* Move a stream forward by n bytes without reading them, where the
 * device allows it (/dev/zero); MMF_ENOTSUP where it does not (pipes,
 * sockets, terminals): the caller then reads and discards. */
int mmf__os_skip(mmf__file f, uint64_t n, int *oserr);
/* An offset at or after from past which every byte of f, up to size,
 * reads as zero without being read (a hole or an unwritten extent); size
 * where the system cannot tell. Never fails: it only saves reading. */
uint64_t mmf__os_data_end(mmf__file f, uint64_t from, uint64_t size);
/* The current position of f (the one read() and write() use). */
int mmf__os_tell(mmf__file f, uint64_t *pos, int *oserr);
/*
 * Positioned reads from several threads at once on one f. POSIX pread
 * leaves the position alone. A positioned ReadFile moves it, and
 * mmf__os_read puts it back, but two threads that do so at once can put
 * back each other's moved position. So a scan on several threads keeps
 * the position before (1 if there is one to put back; POSIX: 0, with no
 * call made) and sets it back after all of them.
 */
int mmf__os_keep_position(mmf__file f, uint64_t *pos);
void mmf__os_put_position(mmf__file f, uint64_t pos);
/* Whether f's size is a promise. Files of pseudo filesystems (Linux /proc
 * and /sys) report a size that is a guess: reading may end before it. */
int mmf__os_size_is_exact(mmf__file f);
/* Grow or shrink the file. Growing past a limit on file size (POSIX
 * RLIMIT_FSIZE) is MMF_EFBIG, never a signal that ends the process. */
int mmf__os_set_size(mmf__file f, uint64_t size, int *oserr);
int mmf__os_preallocate(mmf__file f, uint64_t off, uint64_t len, int *oserr);
int mmf__os_sync_file(mmf__file f, int full, int *oserr);
/* fsync the directory holding path (after a create). */
int mmf__os_sync_parent_dir(const char *path, int *oserr);
/* Whether the filesystem holding f has no free blocks left. */
int mmf__os_fs_full(mmf__file f);

/*
 * Reading around the page cache (the scans' direct engine, src/scan/
 * source_direct.c). A cold file read through the cache is copied twice
 * and paced by readahead; read around it, several large reads in flight
 * reach what the device gives.
 *
 * open_uncached: a new descriptor of the same file as `like` (by path
 * when path is not NULL, and then checked to be the file `like` is),
 * whose reads bypass the cache: Linux and the BSDs O_DIRECT, macOS
 * F_NOCACHE. Its reads must start at file offsets, land at addresses and
 * ask for lengths that are multiples of *align (reading past the end
 * still ends with a short count). MMF_ENOTSUP where the OS has none
 * (Windows here: it reads through the cache, see docs/windows.md) or the
 * file cannot be opened again by descriptor alone; the file system's own
 * refusal (Linux EINVAL) is its code. The caller then reads through the
 * cache.
 *
 * cached: how much of [off, off + len) of f the page cache holds, from
 * `samples` (>= 2) pages spread evenly over it, the first and the last
 * among them: *hits of them are resident. Cheap (one map of the range, no
 * page touched, one residency call per sample); in a 32-bit process only
 * the first 512 MiB are looked at. MMF_ENOTSUP where the OS cannot tell.
 */
int mmf__os_open_uncached(const char *path, mmf__file like, mmf__file *f,
                          size_t *align, int *oserr);
int mmf__os_cached(mmf__file f, uint64_t off, uint64_t len, unsigned samples,
                   unsigned *hits, int *oserr);

/* Linux maps a page-cache folio of up to 2 MiB with one page-table entry
 * when the address is congruent to the file offset modulo this. */
#define MMF__HUGE_ALIGN ((uint64_t)2 << 20)

/*
 * Directories, whole-file writes and the writer lock (the log, src/log/).
 * Paths are UTF-8 as for mmf__os_open.
 */
/* Make the directory path (mode 0777 & ~umask). *created says whether
 * this call made it; an existing directory is fine, an existing
 * non-directory is MMF_ENOTDIR. */
int mmf__os_mkdir(const char *path, int *created, int *oserr);
/* Call fn(ctx, name) for every entry of the directory path except "." and
 * "..", in no particular order. A nonzero return from fn ends the listing
 * and is returned. */
int mmf__os_list_dir(const char *path, int (*fn)(void *ctx, const char *name),
                     void *ctx, int *oserr);
/* Rename from to to, replacing to if it exists. */
int mmf__os_rename(const char *from, const char *to, int *oserr);
/* Make the entries of the directory path durable (fsync of the directory;
 * where the OS cannot, such as Windows, its journal does and this returns
 * 0). */
int mmf__os_sync_dir(const char *path, int *oserr);
/* Write all n bytes of buf at file offset off (retrying short writes). */
int mmf__os_write(mmf__file f, uint64_t off, const void *buf, size_t n,
                  int *oserr);
/* Make the file's data durable, and its metadata as far as reading the
 * data back needs it (fdatasync; Windows: FlushFileBuffers). */
int mmf__os_sync_data(mmf__file f, int *oserr);
/* Take an exclusive lock on the whole of f without waiting: MMF_EBUSY when
 * another open file (in this process or another) holds it. The lock
 * belongs to this open file, is not dropped when another descriptor of the
 * same file is closed, and goes away with mmf__os_close(f) or the death of
 * the process. */
int mmf__os_try_lock(mmf__file f, int *oserr);

/* Map len bytes of f at the aligned offset off. Places large maps so that
 * the address is congruent to off modulo MMF__HUGE_ALIGN. */
int mmf__os_map_file(mmf__file f, int access, uint64_t off, size_t len,
                     unsigned flags, void **addr, int *oserr);
/* Anonymous zeroed memory, private or shared across fork. */
int mmf__os_map_anon(size_t len, int shared, unsigned flags, void **addr,
                     int *oserr);
int mmf__os_unmap(void *addr, size_t len, int *oserr);
/* Resize a mapping of old_len to new_len, in place when possible, else
 * moved keeping the 2 MiB congruence with the aligned file offset off.
 * f/access/off describe the file mapping (f.h == MMF__NO_FILE and off 0 for
 * anonymous memory; shared says whether that memory is MMF_SHARED), so a
 * backend without an in-place remap can map the file again; private bytes
 * (MMF__MAP_COPY, anonymous) must survive up to min(old_len, new_len). On
 * failure the old mapping is untouched. */
int mmf__os_remap(mmf__file f, int access, int shared, uint64_t off,
                  void *old_addr, size_t old_len, size_t new_len,
                  void **new_addr, int *oserr);

/* Write back the dirty pages of [addr, addr+len), a range of a mapping of
 * f, for level (MMF_FLUSH_*): ASYNC starts the writes; SYNC waits until
 * they are on stable storage (msync MS_SYNC; Windows: FlushViewOfFile,
 * then FlushFileBuffers on f). For FULL the caller goes on with
 * mmf__os_sync_file, so a backend whose stable-storage step is that same
 * call (Windows) leaves it to the caller rather than flushing twice. */
int mmf__os_flush(mmf__file f, void *addr, size_t len, int level, int *oserr);
int mmf__os_advise(void *addr, size_t len, int advice, int *oserr);
int mmf__os_protect(void *addr, size_t len, int prot, int *oserr);
int mmf__os_lock(void *addr, size_t len, int *oserr);
int mmf__os_unlock(void *addr, size_t len, int *oserr);
/* For each page of [addr, addr+len) (addr page-aligned) set vec[i] to 1 if
 * resident, else 0. */
int mmf__os_resident(void *addr, size_t len, unsigned char *vec, int *oserr);

/* Translate a raw OS error into an MMF_E* code. */
int mmf__os_error(int oserr);

/*
 * The fault guard.
 *
 * Arming must cost nanoseconds, so the core arms it inline (src/os/guard.h):
 * it fills a frame on its own stack (the guarded address range, where to
 * report, and a jump target taken with MMF__SETJMP) and pushes it on the
 * thread's list (mmf__guard_top_get() below). The backend installs, once per
 * process, a handler for the OS's fault (SIGBUS/SIGSEGV, or a vectored
 * exception handler) that looks for the innermost frame of the faulting thread
 * whose range holds the address, fills its fault record, makes that frame the
 * top, and jumps to it with MMF__LONGJMP; frames inside it are abandoned.
 * Faults no frame claims go to whatever the program had before. (A second,
 * frameless way for a few atomics is described below, "Guarded atomics
 * without a frame".)
 */
enum mmf__fault_kind {
  MMF__FAULT_NONE = 0,
  MMF__FAULT_ACCESS = 1, /* protection (SIGSEGV, ACCESS_VIOLATION) */
  MMF__FAULT_PAGE = 2    /* page could not be provided (SIGBUS, IN_PAGE) */
};

typedef struct mmf__fault {
  int kind;
  int write;   /* 1 write access, 0 read, -1 unknown */
  int os_code; /* si_code, or the NTSTATUS of an in-page error */
  void *addr;  /* faulting address */
} mmf__fault;

/*
 * The jump. GCC and Clang's __builtin_setjmp saves three words and no
 * signal mask: a few instructions, where sigsetjmp is a call into libc
 * that costs several times more on every guarded access. Sanitizers track
 * the stack through the libc jumps only, so sanitized builds use those.
 */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define MMF__SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define MMF__SANITIZED 1
#endif
#endif

#if defined(__GNUC__) && !defined(MMF__SANITIZED) &&                           \
    (!defined(__clang__) || defined(__x86_64__) || defined(__i386__))
typedef void *mmf__jump_buf[5];
#define MMF__SETJMP(b) __builtin_setjmp(b)
#define MMF__LONGJMP(b) __builtin_longjmp(b, 1)
#elif defined(__APPLE__) && !defined(MMF__SANITIZED)
/* Clang has no __builtin_setjmp for arm64, and Apple's setjmp saves the
 * signal mask with a system call on every arm; _setjmp saves none. */
#include <setjmp.h>
typedef jmp_buf mmf__jump_buf;
#define MMF__SETJMP(b) _setjmp(b)
#define MMF__LONGJMP(b) _longjmp(b, 1)
#else
/* Whether setjmp saves the signal mask does not matter: the handler puts
 * the mask back itself before it jumps. */
#include <setjmp.h>
typedef jmp_buf mmf__jump_buf;
#define MMF__SETJMP(b) setjmp(b)
#define MMF__LONGJMP(b) longjmp(b, 1)
#endif

typedef struct mmf__guard_frame {
  const unsigned char *lo, *hi; /* the armed range */
  mmf__fault *fault;            /* filled by the handler */
  struct mmf__guard_frame *outer;
  mmf__jump_buf jump;
} mmf__guard_frame;

/*
 * The calling thread's innermost armed frame (NULL: none), read with
 * mmf__guard_top_get() and written with mmf__guard_top_set(). The backend
 * defines the storage and also reads it from its fault handler, which runs
 * on any thread that faults, including threads that never used mmf: the
 * read must not allocate there, or a crash inside malloc (heap corruption)
 * would deadlock in the handler instead of crashing.
 *
 * POSIX: _Thread_local. On ELF systems the initial-exec model makes every
 * access one load from the thread pointer: the general model may call
 * __tls_get_addr, which can allocate, and is slower and not
 * async-signal-safe.
 *
 * Windows: a TLS slot taken when the handler is installed (which happens
 * before any frame is armed). mingw's GCC emulates _Thread_local, and the
 * emulation allocates a thread's copy at its first access, which would
 * happen inside the handler. TlsGetValue and TlsSetValue are declared here
 * as <windows.h> declares them, to keep that header out of the core.
 */
#if defined(_WIN32)
__declspec(dllimport) void *__stdcall TlsGetValue(unsigned long index);
__declspec(dllimport) int __stdcall TlsSetValue(unsigned long index,
                                                void *value);
extern unsigned long mmf__guard_slot;
static inline mmf__guard_frame *mmf__guard_top_get(void) {
  return (mmf__guard_frame *)TlsGetValue(mmf__guard_slot);
}
static inline void mmf__guard_top_set(mmf__guard_frame *f) {
  (void)TlsSetValue(mmf__guard_slot, f);
}
#else
#if defined(__GNUC__) && defined(__ELF__)
#define MMF__TLS_MODEL __attribute__((tls_model("initial-exec")))
#else
#define MMF__TLS_MODEL
#endif
extern _Thread_local mmf__guard_frame *MMF__TLS_MODEL mmf__guard_top;
static inline mmf__guard_frame *mmf__guard_top_get(void) {
  return mmf__guard_top;
}
static inline void mmf__guard_top_set(mmf__guard_frame *f) {
  mmf__guard_top = f;
}
#endif

/*
 * Guarded atomics without a frame, for the robust mutex's uncontended lock
 * and unlock, where arming a frame (publish it, __builtin_setjmp, withdraw
 * it) would cost more than the atomics themselves. Each is a tiny routine
 * written in assembly (src/os/posix/fault_atomic_posix.c) whose loads and
 * stores of the mutex's bytes sit at addresses listed in a table, like a
 * kernel's exception table. The fault handler looks the faulting
 * instruction up; if it is listed and the faulting address lies in the 16
 * bytes the routine was given, it fills the fault record the routine was
 * given and resumes the thread at the routine's fixup, which returns
 * MMF__FAULT_ATOMIC_FAULTED. Any other fault at those instructions (another
 * address) is not claimed: it goes on to the frames and to the program's
 * own handler, as every unclaimed fault does.
 *
 * The caller must have made the guard ready in its thread first
 * (mmf__guard_thread_ready), as for a frame.
 *  - acquire: if the 64-bit word at word is 0, swap in desired (acquire
 *    order) and store info in the 8 bytes after it: 1; else 0.
 *  - release: if the word holds expected, swap it for 0 (release order):
 *    1; else 0. The 8 bytes after it are left as they are.
 *
 * MMF__FAULT_ATOMICS is 1 where the backend has the routines (x86_64,
 * i386 and aarch64 on Linux and macOS, with GCC or Clang). Elsewhere, in
 * ThreadSanitizer builds (which cannot see atomics done in assembly, so
 * would take the mutex for no synchronisation at all) and with
 * -DMMF_FRAME_GUARD (cmake -DMMF_FRAME_GUARD=ON) the mutex arms a frame.
 */
#if defined(__SANITIZE_THREAD__)
#define MMF__TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define MMF__TSAN 1
#endif
#endif
#if (defined(__linux__) || defined(__APPLE__)) && !defined(MMF_FRAME_GUARD) && \
    !defined(MMF__TSAN) && (defined(__GNUC__) || defined(__clang__)) &&        \
    (defined(__x86_64__) || defined(__i386__) || defined(__aarch64__))
#define MMF__FAULT_ATOMICS 1
#else
#define MMF__FAULT_ATOMICS 0
#endif
#define MMF__FAULT_ATOMIC_FAULTED (-1)
#if MMF__FAULT_ATOMICS
/* Where the core has the routines record a fault: the calling thread's
 * own record, read back right after the routine returned. */
extern _Thread_local mmf__fault MMF__TLS_MODEL mmf__fault_atomic_record;
int mmf__fault_acquire(mmf__fault *f, _Atomic uint64_t *word, uint64_t desired,
                       uint64_t info);
int mmf__fault_release(mmf__fault *f, _Atomic uint64_t *word,
                       uint64_t expected);
/*
 * How the core calls them. On x86_64 the routines change only %rax, %rcx
 * and the flags, so the call is made from inline assembly that says so:
 * the caller then keeps its values in registers across it instead of
 * saving them on the stack, which is a good part of an uncontended lock's
 * cost. The stack pointer steps over the 128-byte red zone first, where a
 * caller may keep data that the call's return address would overwrite.
 */
#if defined(__x86_64__)
#if defined(__APPLE__)
#define MMF__CALL(name) "call _" #name "\n\t"
#else
#define MMF__CALL(name) "call " #name "\n\t"
#endif
static inline int mmf__fault_acquire_call(mmf__fault *f, _Atomic uint64_t *word,
                                          uint64_t desired, uint64_t info) {
  int rc;
  __asm__ __volatile__("leaq -128(%%rsp), %%rsp\n\t" MMF__CALL(
                           mmf__fault_acquire) "leaq 128(%%rsp), %%rsp"
                       : "=a"(rc)
                       : "D"(f), "S"(word), "d"(desired), "c"(info)
                       : "memory", "cc");
  return rc;
}
static inline int mmf__fault_release_call(mmf__fault *f, _Atomic uint64_t *word,
                                          uint64_t expected) {
  int rc;
  __asm__ __volatile__("leaq -128(%%rsp), %%rsp\n\t" MMF__CALL(
                           mmf__fault_release) "leaq 128(%%rsp), %%rsp"
                       : "=a"(rc)
                       : "D"(f), "S"(word), "d"(expected)
                       : "rcx", "memory", "cc");
  return rc;
}
#else
#define mmf__fault_acquire_call mmf__fault_acquire
#define mmf__fault_release_call mmf__fault_release
#endif
/* The address of the i-th listed instruction (0 past the last), and where
 * a fault at pc on address addr resumes when the routine was given the
 * bytes at base (0: not ours). For the handler and the tests. */
uintptr_t mmf__fault_atomic_site(int i);
uintptr_t mmf__fault_atomic_fixup(uintptr_t pc, uintptr_t addr, uintptr_t base);
#endif

/*
 * Whether the guard works in the calling thread. It needs the handler,
 * installed once per process, and on POSIX a thread that does not block
 * SIGBUS and SIGSEGV: where they are blocked the kernel does not run any
 * handler for a fault, it ends the process. Threads often inherit a mask
 * that blocks every signal (a program that handles signals in one thread
 * with sigwait() blocks them all before it starts the others), so a
 * thread's first guarded access unblocks those two, once; the check is one
 * system call (about 200 ns here), far too dear for every access, and a
 * thread that blocks them again later is on its own (mmf.h and
 * docs/faults.md say so).
 *
 * mmf__guard_thread_ready() is the fast check (one thread-local or atomic
 * load); mmf__os_guard_thread_init() does the work and returns 0, or
 * MMF_ENOMEM if the OS refused the handler: nothing may then run
 * unguarded.
 */
extern _Atomic int mmf__guard_installed;
#if defined(_WIN32)
/* Windows has no signal mask that could keep the handler from running. */
static inline int mmf__guard_thread_ready(void) {
  return atomic_load_explicit(&mmf__guard_installed, memory_order_acquire);
}
#else
extern _Thread_local int MMF__TLS_MODEL mmf__guard_thread_ok;
static inline int mmf__guard_thread_ready(void) { return mmf__guard_thread_ok; }
#endif
int mmf__os_guard_thread_init(void);

/*
 * Sharing between processes (src/share/).
 *
 * Where shared bytes live, as every process that maps them can name them.
 * POSIX needs only the address: the kernel keys a futex on the file and
 * offset behind it. Windows names its kernel objects after the region (the
 * shared-memory name, or the file's volume serial and index) and the
 * offset, since its address-based waits do not cross processes.
 */
typedef struct mmf__place {
  void *addr;           /* the bytes, in this process */
  mmf__file file;       /* the file behind them, or MMF__NO_FILE */
  const char *shm_name; /* named shared memory: its name; else NULL */
  uint64_t offset;      /* offset of addr in the file or region */
} mmf__place;

/*
 * Sleep while the 32-bit word at p->addr holds expected, for at most
 * timeout_ns (< 0: no limit; the caller never passes 0). 0 when woken,
 * when the word changed, or spuriously; MMF_ETIMEDOUT. check(ctx) reads
 * the word under the fault guard: 1 while it holds expected, 0 once it
 * does not, or a negative code (a fault), which is then returned. A
 * backend that compares in the kernel calls it only after the kernel
 * refused the address, to tell a fault from other errors.
 */
int mmf__os_wait(const mmf__place *p, uint32_t expected, int64_t timeout_ns,
                 int (*check)(void *ctx), void *ctx, int *oserr);
/* Wake up to count (>= 1) waiters of the word at p->addr. */
int mmf__os_wake(const mmf__place *p, int count, int *oserr);

/*
 * The robust mutex (src/share/mutex.c). Its bytes name the owning thread
 * by an id and a tag that together tell it from every other thread,
 * earlier ones with the same id included; what they hold is the
 * backend's choice (docs/sharing.md has the byte layout).
 */
typedef struct mmf__owner {
  uint32_t id;  /* nonzero, below 2^30 */
  uint32_t tag; /* tells this owner from earlier ones with its id; 0: unknown */
  uint32_t pid; /* the process */
  uint32_t ns;  /* the namespaces id and tag are valid in; 0: unknown */
} mmf__owner;

/* The calling thread, as mutex bytes record it; computed once per thread
 * (and again in the child after fork). Never fails: what cannot be
 * learnt is 0. POSIX reads the thread's copy inline (one thread-local
 * load on the uncontended lock) and calls mmf__os_owner_learn() to fill
 * it the first time. */
#if defined(_WIN32)
const mmf__owner *mmf__os_owner_self(void);
#else
extern _Thread_local mmf__owner MMF__TLS_MODEL mmf__owner_self;
const mmf__owner *mmf__os_owner_learn(void);
static inline const mmf__owner *mmf__os_owner_self(void) {
  return mmf__owner_self.id ? &mmf__owner_self : mmf__os_owner_learn();
}
/* The calling thread if it is known already, else NULL (without a call:
 * for the uncontended lock, whose every other call is a tail call). Once
 * known, the fault guard is ready in the thread too: learning the owner
 * readies it (mmf__guard_thread_ready). */
static inline const mmf__owner *mmf__os_owner_known(void) {
  return mmf__owner_self.id ? &mmf__owner_self : NULL;
}
#endif

/* Whether the owner recorded as (id, tag, ns) still runs: 0 when its
 * thread has exited (also when its process has, even unreaped), 1 when it
 * runs or that cannot be told (a dead owner is never made up). */
int mmf__os_owner_alive(uint32_t id, uint32_t tag, uint32_t ns);

/* A cheaper look (one system call, no /proc): 1 only when no thread or
 * process with the owner's id exists at all, so it surely died; 0 when
 * that cannot be told this way (mmf__os_owner_alive decides). */
int mmf__os_owner_gone(uint32_t id, uint32_t tag, uint32_t ns);

/* A monotonic clock, in nanoseconds. */
int mmf__os_monotonic_ns(int64_t *now, int *oserr);

/*
 * Kernel mutex objects (Windows). Where mmf__os_mutex_objects() is 1 the
 * backend owns the exclusion: a named mutex per (region, offset), which
 * the kernel marks abandoned when its owner dies. Elsewhere it is 0 and
 * the mutex is the bytes alone, with waits on their lock word.
 *  - acquire: wait up to timeout_ns (< 0: no limit; 0: try) and remember
 *    the object for the calling thread (*held: the handle for release);
 *    *abandoned is set when its last owner died holding it.
 *    MMF_ETIMEDOUT; MMF_EDEADLK when the calling thread holds it already
 *    (the kernel's mutex would just recurse).
 *  - held: whether the calling thread holds the object of p: 0 with
 *    *held set to a handle for release (NULL: not held), or a code (the
 *    object could not be named). Nothing changes, so a caller can check
 *    first and then change the bytes knowing that release cannot fail for
 *    want of a name.
 *  - release: let go of what held found; it is forgotten even if the OS
 *    refuses (the thread no longer owns it, or never could again).
 * A constant, so that the uncontended lock does not call to learn it.
 */
#if defined(_WIN32)
static inline int mmf__os_mutex_objects(void) { return 1; }
#else
static inline int mmf__os_mutex_objects(void) { return 0; }
#endif
int mmf__os_mutex_acquire(const mmf__place *p, int64_t timeout_ns,
                          int *abandoned, void **held, int *oserr);
int mmf__os_mutex_held(const mmf__place *p, void **held, int *oserr);
int mmf__os_mutex_release(void *held, int *oserr);

/*
 * Byte-range locks on a file (src/share/file_lock.c), owned by the open
 * file (description) f: they survive other descriptors of the same file
 * being closed, and end when f is closed or its process dies. Lock
 * [off, off+len) (len > 0) shared or exclusive, waiting for it unless
 * nowait (then MMF_EBUSY when another holder conflicts); unlock it.
 */
int mmf__os_lock_range(mmf__file f, uint64_t off, uint64_t len, int exclusive,
                       int nowait, int *oserr);
int mmf__os_unlock_range(mmf__file f, uint64_t off, uint64_t len, int *oserr);

/*
 * Named shared memory (src/share/shm.c). The name is checked (1 to 200
 * bytes of letters, digits, '.', '_', '-'). Open the region called name
 * (create: or create it, size bytes; exclusive: MMF_EEXIST if it exists),
 * setting *created and its size in bytes.
 *  - Where mmf__os_shm_is_file() is 1 (POSIX: shm_open) the region is a
 *    file and *f its descriptor, which the core maps like any file (a
 *    region created here has size 0 until the core grows it).
 *  - Elsewhere (Windows: a named section in the session namespace) *f is
 *    the section, mapped with mmf__os_map_section (off aligned to the
 *    granularity) and kept open by the map (an object's name dies with
 *    its last handle, even while views of it remain).
 * unlink: remove the name (POSIX); where a name lives only as long as
 * its handles (Windows) only report whether it exists.
 */
int mmf__os_shm_is_file(void);
int mmf__os_shm_open(const char *name, int writable, int create, int exclusive,
                     uint64_t size, mmf__file *f, uint64_t *region_size,
                     int *created, int *oserr);
int mmf__os_map_section(mmf__file f, int access, uint64_t off, size_t len,
                        unsigned flags, void **addr, int *oserr);
int mmf__os_shm_unlink(const char *name, int *oserr);

/*
 * Threads: the workers of a scan that splits its input (src/scan/
 * scan_parallel.c). A scan starts its workers and joins every one before
 * it returns: no thread outlives the call that made it, and there is no
 * pool. The thread's record lives in the caller's memory from start to
 * join (the backend's trampoline reads fn and arg from it).
 *
 * A worker takes no asynchronous signal: the program's handlers keep
 * running on the threads it made, as they did before it called a scan.
 * The synchronous ones (SIGBUS, SIGSEGV, SIGFPE, SIGILL) stay unblocked,
 * since the fault guard needs the first two and the kernel ends the
 * process when the others arrive blocked.
 */
typedef struct mmf__thread {
  void (*fn)(void *arg);
  void *arg;
  intptr_t h; /* pthread_t, or the thread's HANDLE */
} mmf__thread;
/* Start fn(arg) on a new thread recorded in *t. On failure (the OS has no
 * thread left to give: MMF_EAGAIN, MMF_ENOMEM) nothing was started. */
int mmf__os_thread_start(mmf__thread *t, void (*fn)(void *arg), void *arg,
                         int *oserr);
/* Wait until t has ended and release it. A failure still leaves no thread
 * behind (it means t was not a thread this process could wait for). */
int mmf__os_thread_join(mmf__thread *t, int *oserr);
/* Let another thread run (a wait for workers whose join failed). */
void mmf__os_thread_yield(void);

#endif /* MMF_OS_H */
