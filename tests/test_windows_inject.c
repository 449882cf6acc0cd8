/*
 * test_windows_inject.c - every error path of the Windows backend, walked
 * by making its calls fail (the walk and its cases: inject_walk.h), and
 * what the flush levels ask of Windows.
 *
 * The binding: every entry of the table mmf__sys (src/os/win/sys_win.h)
 * is replaced by a wrapper made from one line of WIN_CALLS, which fails
 * the call as Windows does (SetLastError and the call's failure value)
 * when the walk says so. Every call fails differently in the two profiles,
 * so that paths that depend on the error (ERROR_FILE_INVALID from
 * CreateFileMapping falls back to reading; a lost placement race is
 * retried) are walked too.
 */
#include "test.h"

#ifdef _WIN32

#include <stdio.h>

#include "inject_walk.h"
#include "os/win/sys_win.h"

/* ------------------------------------------------------------------------ */
/* The failing wrappers                                                      */
/* ------------------------------------------------------------------------ */

/* X(return type, failure value, name, (parameters), (arguments), error in
 * profile A, error in profile B): see inject_walk.h. */
#define WIN_CALLS(X)                                                           \
  X(HANDLE, INVALID_HANDLE_VALUE, CreateFileW,                                 \
    (LPCWSTR path, DWORD access, DWORD share, LPSECURITY_ATTRIBUTES sa,        \
     DWORD disposition, DWORD flags, HANDLE tmpl),                             \
    (path, access, share, sa, disposition, flags, tmpl),                       \
    ERROR_TOO_MANY_OPEN_FILES, ERROR_SHARING_VIOLATION)                        \
  /* Report the failure, but do close: a handle that cannot be closed          \
   * cannot be retried either, and the count must not see it. */               \
  X(BOOL, (mmf__sys_real.CloseHandle(h), FALSE), CloseHandle, (HANDLE h), (h), \
    ERROR_INVALID_HANDLE, ERROR_IO_DEVICE)                                     \
  X(BOOL, FALSE, DuplicateHandle,                                              \
    (HANDLE from, HANDLE h, HANDLE to, LPHANDLE out, DWORD access,             \
     BOOL inherit, DWORD options),                                             \
    (from, h, to, out, access, inherit, options), ERROR_TOO_MANY_OPEN_FILES,   \
    ERROR_NOT_ENOUGH_MEMORY)                                                   \
  X(DWORD, FILE_TYPE_UNKNOWN, GetFileType, (HANDLE h), (h),                    \
    ERROR_INVALID_HANDLE, ERROR_IO_DEVICE)                                     \
  X(BOOL, FALSE, GetFileInformationByHandleEx,                                 \
    (HANDLE h, FILE_INFO_BY_HANDLE_CLASS cls, LPVOID buf, DWORD size),         \
    (h, cls, buf, size), ERROR_IO_DEVICE, ERROR_ACCESS_DENIED)                 \
  X(BOOL, FALSE, SetFileInformationByHandle,                                   \
    (HANDLE h, FILE_INFO_BY_HANDLE_CLASS cls, LPVOID buf, DWORD size),         \
    (h, cls, buf, size), ERROR_DISK_FULL, ERROR_ACCESS_DENIED)                 \
  X(BOOL, ((got ? *got = 0 : 0), FALSE), ReadFile,                             \
    (HANDLE h, LPVOID buf, DWORD n, LPDWORD got, LPOVERLAPPED ov),             \
    (h, buf, n, got, ov), ERROR_READ_FAULT, ERROR_IO_DEVICE)                   \
  X(BOOL, FALSE, FlushFileBuffers, (HANDLE h), (h), ERROR_WRITE_FAULT,         \
    ERROR_DISK_FULL)                                                           \
  X(HANDLE, NULL, CreateFileMappingW,                                          \
    (HANDLE h, LPSECURITY_ATTRIBUTES sa, DWORD protect, DWORD hi, DWORD lo,    \
     LPCWSTR name),                                                            \
    (h, sa, protect, hi, lo, name), ERROR_NOT_ENOUGH_MEMORY,                   \
    ERROR_FILE_INVALID)                                                        \
  X(LPVOID, NULL, MapViewOfFileEx,                                             \
    (HANDLE section, DWORD access, DWORD hi, DWORD lo, SIZE_T len, LPVOID at), \
    (section, access, hi, lo, len, at), ERROR_NOT_ENOUGH_MEMORY,               \
    ERROR_INVALID_ADDRESS)                                                     \
  X(BOOL, (inject_memory_kept(), FALSE), UnmapViewOfFile, (LPCVOID addr),      \
    (addr), ERROR_INVALID_ADDRESS, ERROR_NOT_ENOUGH_MEMORY)                    \
  X(BOOL, FALSE, FlushViewOfFile, (LPCVOID addr, SIZE_T len), (addr, len),     \
    ERROR_WRITE_FAULT, ERROR_NOT_ENOUGH_MEMORY)                                \
  X(LPVOID, NULL, VirtualAlloc,                                                \
    (LPVOID at, SIZE_T len, DWORD type, DWORD prot), (at, len, type, prot),    \
    ERROR_NOT_ENOUGH_MEMORY, ERROR_INVALID_ADDRESS)                            \
  X(BOOL, (inject_memory_kept(), FALSE), VirtualFree,                          \
    (LPVOID addr, SIZE_T len, DWORD type), (addr, len, type),                  \
    ERROR_INVALID_ADDRESS, ERROR_NOT_ENOUGH_MEMORY)                            \
  X(BOOL, FALSE, VirtualProtect,                                               \
    (LPVOID addr, SIZE_T len, DWORD prot, PDWORD old), (addr, len, prot, old), \
    ERROR_INVALID_ADDRESS, ERROR_NOT_ENOUGH_MEMORY)                            \
  X(BOOL, FALSE, VirtualLock, (LPVOID addr, SIZE_T len), (addr, len),          \
    ERROR_WORKING_SET_QUOTA, ERROR_NOT_ENOUGH_MEMORY)                          \
  X(BOOL, FALSE, VirtualUnlock, (LPVOID addr, SIZE_T len), (addr, len),        \
    ERROR_INVALID_ADDRESS, ERROR_NOT_LOCKED)                                   \
  X(BOOL, FALSE, PrefetchVirtualMemory,                                        \
    (HANDLE process, ULONG_PTR n, mmf__win_range * ranges, ULONG flags),       \
    (process, n, ranges, flags), ERROR_CALL_NOT_IMPLEMENTED,                   \
    ERROR_NOT_ENOUGH_MEMORY)                                                   \
  X(BOOL, FALSE, K32QueryWorkingSetEx,                                         \
    (HANDLE process, PVOID buf, DWORD size), (process, buf, size),             \
    ERROR_ACCESS_DENIED, ERROR_NOT_ENOUGH_MEMORY)                              \
  X(BOOL, FALSE, GetHandleAccess, (HANDLE h, DWORD * access), (h, access),     \
    ERROR_ACCESS_DENIED, ERROR_INVALID_HANDLE)                                 \
  X(BOOL, FALSE, GetVolumeFreeBytes, (HANDLE h, ULONGLONG * bytes),            \
    (h, bytes), ERROR_NOT_SUPPORTED, ERROR_INVALID_HANDLE)                     \
  X(BOOL, FALSE, DeleteFileW, (LPCWSTR path), (path), ERROR_ACCESS_DENIED,     \
    ERROR_SHARING_VIOLATION)                                                   \
  X(BOOL, FALSE, GetFileInformationByHandle,                                   \
    (HANDLE h, LPBY_HANDLE_FILE_INFORMATION info), (h, info), ERROR_IO_DEVICE, \
    ERROR_ACCESS_DENIED)                                                       \
  /* B: not found, nobody waits, which a wake need not report. */              \
  X(HANDLE, NULL, OpenFileMappingW,                                            \
    (DWORD access, BOOL inherit, LPCWSTR name), (access, inherit, name),       \
    ERROR_NOT_ENOUGH_MEMORY, ERROR_FILE_NOT_FOUND)                             \
  X(HANDLE, NULL, CreateSemaphoreW,                                            \
    (LPSECURITY_ATTRIBUTES sa, LONG initial, LONG max, LPCWSTR name),          \
    (sa, initial, max, name), ERROR_NO_SYSTEM_RESOURCES, ERROR_ACCESS_DENIED)  \
  X(BOOL, FALSE, ReleaseSemaphore, (HANDLE h, LONG n, LPLONG previous),        \
    (h, n, previous), ERROR_TOO_MANY_POSTS, ERROR_INVALID_HANDLE)              \
  X(DWORD, WAIT_FAILED, WaitForSingleObject, (HANDLE h, DWORD ms), (h, ms),    \
    ERROR_INVALID_HANDLE, ERROR_NOT_ENOUGH_MEMORY)                             \
  X(HANDLE, NULL, CreateMutexW,                                                \
    (LPSECURITY_ATTRIBUTES sa, BOOL owned, LPCWSTR name), (sa, owned, name),   \
    ERROR_NO_SYSTEM_RESOURCES, ERROR_ACCESS_DENIED)                            \
  X(BOOL, FALSE, ReleaseMutex, (HANDLE h), (h), ERROR_NOT_OWNER,               \
    ERROR_INVALID_HANDLE)                                                      \
  X(BOOL, FALSE, LockFileEx,                                                   \
    (HANDLE h, DWORD flags, DWORD reserved, DWORD low, DWORD high,             \
     LPOVERLAPPED ov),                                                         \
    (h, flags, reserved, low, high, ov), ERROR_NOT_ENOUGH_MEMORY,              \
    ERROR_INVALID_HANDLE)                                                      \
  X(BOOL, FALSE, UnlockFileEx,                                                 \
    (HANDLE h, DWORD reserved, DWORD low, DWORD high, LPOVERLAPPED ov),        \
    (h, reserved, low, high, ov), ERROR_NOT_LOCKED, ERROR_INVALID_HANDLE)      \
  X(BOOL, FALSE, GetSectionSize, (HANDLE section, ULONGLONG * size),           \
    (section, size), ERROR_ACCESS_DENIED, ERROR_CALL_NOT_IMPLEMENTED)          \
  X(HANDLE, NULL, CreateThread,                                                \
    (LPSECURITY_ATTRIBUTES sa, SIZE_T stack, LPTHREAD_START_ROUTINE fn,        \
     LPVOID arg, DWORD flags, LPDWORD id),                                     \
    (sa, stack, fn, arg, flags, id), ERROR_NOT_ENOUGH_MEMORY,                  \
    ERROR_MAX_THRDS_REACHED)

enum win_call {
#define X(type, fail, name, params, args, ea, eb) C_##name,
  WIN_CALLS(X)
#undef X
};

static const inject_call win_calls[] = {
#define X(type, fail, name, params, args, ea, eb) {#name, {ea, eb}},
    WIN_CALLS(X)
#undef X
};

#define X(type, fail, name, params, args, ea, eb)                              \
  static type WINAPI w_##name params {                                         \
    int inject_err_ = inject_check(C_##name);                                  \
    if (inject_err_ != 0) {                                                    \
      type inject_r_ = fail;                                                   \
      SetLastError((DWORD)inject_err_);                                        \
      return inject_r_;                                                        \
    }                                                                          \
    return mmf__sys_real.name args;                                            \
  }
WIN_CALLS(X)
#undef X

static void install_wrappers(void) {
#define X(type, fail, name, params, args, ea, eb) mmf__sys.name = w_##name;
  WIN_CALLS(X)
#undef X
}

static void restore_real(void) { mmf__sys = mmf__sys_real; }

static const char *win_error_text(int err) {
  static char buf[32];
  snprintf(buf, sizeof buf, "error %d", err);
  return buf;
}

/* ------------------------------------------------------------------------ */
/* Cases only Windows has                                                    */
/* ------------------------------------------------------------------------ */

#define FSIZE INJ_FSIZE

static const char *fpath(void) { return inject_file(); }

/* The null device: a character device, read into memory as empty. */
static int op_open_nul(inject_ctx *c) {
  int rc = mmf_open(&c->m, "NUL", MMF_READ, NULL);
  if (rc == 0 && mmf_size(c->m) != 0)
    FAIL("NUL read as %zu bytes", mmf_size(c->m));
  return rc;
}

/* The mutex's owner was a thread that ended holding it: the kernel
 * object is abandoned. */
static void *lock_and_end(void *arg) {
  inject_ctx *c = arg;
  ASSERT_OK(mmf_mutex_lock(c->m, INJ_MUTEX, -1));
  return NULL;
}
static void setup_abandoned(inject_ctx *c) {
  inject_setup_mutex_map(c);
  test_thread_join(test_thread_start(lock_and_end, c));
}
/* Taken over from it without repair: the unlock makes the mutex not
 * recoverable. */
static void setup_owner_ended(inject_ctx *c) {
  setup_abandoned(c);
  ASSERT_ERR(mmf_mutex_lock(c->m, INJ_MUTEX, -1), MMF_EOWNERDEAD);
}

static const inject_case win_cases[] = {
    {"open NUL", "fallback", INJ_OPENS, 0, inject_setup_nothing, op_open_nul,
     NULL},
    {"mutex lock, owner ended", "share", INJ_SHARED, MMF_EOWNERDEAD,
     setup_abandoned, inject_op_mutex_take_over, inject_verify_mutex},
    {"mutex unlock, not repaired", "share", INJ_SHARED, 0, setup_owner_ended,
     inject_op_mutex_unlock, inject_verify_not_recoverable},
};

static const inject_backend win = {
    .calls = win_calls,
    .n_calls = (int)(sizeof win_calls / sizeof win_calls[0]),
    .install = install_wrappers,
    .restore = restore_real,
    .error_text = win_error_text,
    .cases = win_cases,
    .n_cases = (int)(sizeof win_cases / sizeof win_cases[0]),
    /* MMF_ADV_HUGEPAGE is MMF_ENOTSUP on Windows. */
    .last_advice = MMF_ADV_DONTNEED,
    /* A failed placement call leaves the map at any address
     * (docs/windows.md). */
    .placement_survives_failure = false,
    /* A region ends with its last map, not when unlinked. */
    .shm_lives_with_maps = true,
};

INJECT_STEP_CHILD(win)

/* What FlushViewOfFile and FlushFileBuffers see for each level. */
static int flush_views, flush_files;
static BOOL WINAPI counting_FlushViewOfFile(LPCVOID addr, SIZE_T len) {
  flush_views++;
  return mmf__sys_real.FlushViewOfFile(addr, len);
}
static BOOL WINAPI counting_FlushFileBuffers(HANDLE h) {
  flush_files++;
  return mmf__sys_real.FlushFileBuffers(h);
}
static BOOL WINAPI failing_FlushFileBuffers(HANDLE h) {
  (void)h;
  SetLastError(ERROR_WRITE_FAULT);
  return FALSE;
}

#define NOT_HERE "tests the Windows backend's call table"
#else
#define NOT_HERE                                                               \
  "tests the Windows backend's call table (test_inject walks the POSIX one)"
#endif /* _WIN32 */

TEST(win_inject_open_paths) {
#ifndef _WIN32
  SKIP(NOT_HERE);
#else
  inject_walk(&win, "open");
#endif
}

TEST(win_inject_fallback_paths) {
#ifndef _WIN32
  SKIP(NOT_HERE);
#else
  inject_walk(&win, "fallback");
#endif
}

TEST(win_inject_anon_paths) {
#ifndef _WIN32
  SKIP(NOT_HERE);
#else
  inject_walk(&win, "anon");
#endif
}

TEST(win_inject_resize_paths) {
#ifndef _WIN32
  SKIP(NOT_HERE);
#else
  inject_walk(&win, "resize");
#endif
}

TEST(win_inject_control_paths) {
#ifndef _WIN32
  SKIP(NOT_HERE);
#else
  inject_walk(&win, "control");
#endif
}

TEST(win_inject_window_paths) {
#ifndef _WIN32
  SKIP(NOT_HERE);
#else
  inject_walk(&win, "window");
#endif
}

TEST(win_inject_scan_paths) {
#ifndef _WIN32
  SKIP(NOT_HERE);
#else
  inject_walk(&win, "scan");
#endif
}

TEST(win_inject_thread_paths) {
#ifndef _WIN32
  SKIP(NOT_HERE);
#else
  inject_walk_threads(&win, INJECT_THREADS_GROUP);
#endif
}

TEST(win_inject_share_paths) {
#ifndef _WIN32
  SKIP(NOT_HERE);
#else
  inject_walk(&win, "share");
#endif
}

TEST(win_inject_log_paths) {
#ifndef _WIN32
  SKIP(NOT_HERE);
#else
  inject_walk(&win, "log");
#endif
}

TEST(win_inject_close_paths) {
#ifndef _WIN32
  SKIP(NOT_HERE);
#else
  inject_walk(&win, "close");
#endif
}

/* The walk can fail: cases that leak a handle, leave *out set or return
 * a wrong code when a call fails are caught (the negative control of
 * every walk above; their runs print the failures they are meant to). */
TEST(win_inject_catches_bad_cases) {
#ifndef _WIN32
  SKIP(NOT_HERE);
#else
  ASSERT_GT(inject_walk_failures(&win, "bad leak"), 0);
  ASSERT_GT(inject_walk_failures(&win, "bad out"), 0);
  ASSERT_GT(inject_walk_failures(&win, "bad code"), 0);
#endif
}

/* The levels reach the OS: ASYNC is FlushViewOfFile alone, SYNC and FULL add
 * FlushFileBuffers, once (docs/windows.md). */
TEST(win_flush_levels_reach_os) {
#ifndef _WIN32
  SKIP(NOT_HERE);
#else
  write_pattern(fpath(), FSIZE);
  mmf__sys.FlushViewOfFile = counting_FlushViewOfFile;
  mmf__sys.FlushFileBuffers = counting_FlushFileBuffers;
  mmf_map *m = NULL;
  ASSERT_OK(mmf_open(&m, fpath(), MMF_WRITE, NULL));
  static const int levels[] = {MMF_FLUSH_ASYNC, MMF_FLUSH_SYNC, MMF_FLUSH_FULL};
  for (int i = 0; i < 3; i++) {
    flush_views = flush_files = 0;
    ASSERT_OK(mmf_flush(m, 0, 0, levels[i]));
    ASSERT_GE(flush_views, 1);
    if (levels[i] == MMF_FLUSH_ASYNC)
      ASSERT_EQ(flush_files, 0);
    else
      ASSERT_EQ(flush_files, 1);
  }
  ASSERT_OK(mmf_close(m));
  /* SYNC_ON_CLOSE flushes the file on close, and reports its failure. */
  ASSERT_OK(mmf_open(&m, fpath(), MMF_WRITE,
                     &(mmf_options){.flags = MMF_SYNC_ON_CLOSE}));
  flush_files = 0;
  ASSERT_OK(mmf_close(m));
  ASSERT_EQ(flush_files, 1);
  int fds = count_open_fds(), maps = count_mappings();
  ASSERT_OK(mmf_open(&m, fpath(), MMF_WRITE,
                     &(mmf_options){.flags = MMF_SYNC_ON_CLOSE}));
  mmf__sys.FlushFileBuffers = failing_FlushFileBuffers;
  ASSERT_ERR(mmf_close(m), MMF_EIO);
  restore_real();
  ASSERT_EQ(count_open_fds(), fds);
  ASSERT_EQ(count_mappings(), maps);
#endif
}

/* The wrappers do fail calls (so the walks above can find failures). */
TEST(win_injection_fails_calls) {
#ifndef _WIN32
  SKIP(NOT_HERE);
#else
  install_wrappers();
  write_pattern(fpath(), FSIZE);
  mmf_map *m = NULL;
  inject_arm(&win, 0, 1);
  int rc = mmf_open(&m, fpath(), MMF_READ, NULL);
  inject_disarm();
  ASSERT_TRUE(inject_hit());
  ASSERT_EQ(inject_failed_call(), C_CreateFileW);
  ASSERT_ERR(rc, MMF_EMFILE); /* ERROR_TOO_MANY_OPEN_FILES in profile A */
  ASSERT_EQ(mmf_last_os_error(NULL), ERROR_TOO_MANY_OPEN_FILES);
  ASSERT_NULL(m);
  restore_real();
#endif
}
