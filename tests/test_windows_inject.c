/*
 * test_windows_inject.c - walk the error paths of the Windows backend by
 * making its calls fail, as test_inject.c does for the POSIX backend.
 *
 * Every Windows call of the backend goes through the table mmf__sys
 * (src/os/win/sys_win.h). Each entry is replaced by a wrapper that counts
 * calls; the N-th call (of any kind) fails with a Win32 error chosen per
 * call (SetLastError and the call's failure value). For N = 1, 2, ... an
 * operation runs until it completes without reaching the N-th call. Each
 * run must:
 *
 *  - return 0 or a negative MMF code; when it fails because of the injected
 *    call, the code is that error translated, and mmf_last_os_error() gives
 *    the error; when it returns what it returns without injection, the
 *    failed call was optional;
 *  - leave out-parameters NULL on failure, and a handle either usable (its
 *    bytes and size as before, later calls working) or poisoned;
 *  - after close, leave no handle and no mapping behind (a failed
 *    UnmapViewOfFile or VirtualFree legitimately leaves its memory: that
 *    run skips the mapping count).
 *
 * Each walk runs with two error profiles, so paths that depend on the error
 * (ERROR_FILE_INVALID from CreateFileMapping falls back to reading; a lost
 * placement race is retried) are walked too. Each step runs in a process
 * of its own (a TEST_CHILD: there is no fork()), so a failed check ends
 * only that step and the walk lists every failing path.
 */
#include "test.h"

#ifdef _WIN32

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "os/os.h"
#include "os/win/sys_win.h"

/* ------------------------------------------------------------------------ */
/* The failing wrappers                                                      */
/* ------------------------------------------------------------------------ */

#define SYS_CALLS(X)                                                           \
  X(CreateFileW)                                                               \
  X(CloseHandle)                                                               \
  X(DuplicateHandle)                                                           \
  X(GetFileType)                                                               \
  X(GetFileInformationByHandleEx)                                              \
  X(SetFileInformationByHandle)                                                \
  X(ReadFile)                                                                  \
  X(FlushFileBuffers)                                                          \
  X(CreateFileMappingW)                                                        \
  X(MapViewOfFileEx)                                                           \
  X(UnmapViewOfFile)                                                           \
  X(FlushViewOfFile)                                                           \
  X(VirtualAlloc)                                                              \
  X(VirtualFree)                                                               \
  X(VirtualProtect)                                                            \
  X(VirtualLock)                                                               \
  X(VirtualUnlock)                                                             \
  X(PrefetchVirtualMemory)                                                     \
  X(K32QueryWorkingSetEx)                                                      \
  X(GetHandleAccess)                                                           \
  X(GetVolumeFreeBytes)                                                        \
  X(GetFileInformationByHandle)                                                \
  X(OpenFileMappingW)                                                          \
  X(CreateSemaphoreW)                                                          \
  X(ReleaseSemaphore)                                                          \
  X(WaitForSingleObject)                                                       \
  X(CreateMutexW)                                                              \
  X(ReleaseMutex)                                                              \
  X(LockFileEx)                                                                \
  X(UnlockFileEx)                                                              \
  X(GetSectionSize)

enum sys_id {
#define X(name) S_##name,
  SYS_CALLS(X)
#undef X
      S_COUNT
};

static const char *const sys_names[S_COUNT] = {
#define X(name) #name,
    SYS_CALLS(X)
#undef X
};

typedef struct profile {
  const char *name;
  DWORD err[S_COUNT];
} profile;

/* Every call fails differently in the two profiles. */
static const profile profile_a = {
    "A",
    {
        [S_CreateFileW] = ERROR_TOO_MANY_OPEN_FILES,
        [S_CloseHandle] = ERROR_INVALID_HANDLE,
        [S_DuplicateHandle] = ERROR_TOO_MANY_OPEN_FILES,
        [S_GetFileType] = ERROR_INVALID_HANDLE,
        [S_GetFileInformationByHandleEx] = ERROR_IO_DEVICE,
        [S_SetFileInformationByHandle] = ERROR_DISK_FULL,
        [S_ReadFile] = ERROR_READ_FAULT,
        [S_FlushFileBuffers] = ERROR_WRITE_FAULT,
        [S_CreateFileMappingW] = ERROR_NOT_ENOUGH_MEMORY,
        [S_MapViewOfFileEx] = ERROR_NOT_ENOUGH_MEMORY,
        [S_UnmapViewOfFile] = ERROR_INVALID_ADDRESS,
        [S_FlushViewOfFile] = ERROR_WRITE_FAULT,
        [S_VirtualAlloc] = ERROR_NOT_ENOUGH_MEMORY,
        [S_VirtualFree] = ERROR_INVALID_ADDRESS,
        [S_VirtualProtect] = ERROR_INVALID_ADDRESS,
        [S_VirtualLock] = ERROR_WORKING_SET_QUOTA,
        [S_VirtualUnlock] = ERROR_INVALID_ADDRESS,
        [S_PrefetchVirtualMemory] = ERROR_CALL_NOT_IMPLEMENTED,
        [S_K32QueryWorkingSetEx] = ERROR_ACCESS_DENIED,
        [S_GetHandleAccess] = ERROR_ACCESS_DENIED,
        [S_GetVolumeFreeBytes] = ERROR_NOT_SUPPORTED,
        [S_GetFileInformationByHandle] = ERROR_IO_DEVICE,
        [S_OpenFileMappingW] = ERROR_NOT_ENOUGH_MEMORY,
        [S_CreateSemaphoreW] = ERROR_NO_SYSTEM_RESOURCES,
        [S_ReleaseSemaphore] = ERROR_TOO_MANY_POSTS,
        [S_WaitForSingleObject] = ERROR_INVALID_HANDLE,
        [S_CreateMutexW] = ERROR_NO_SYSTEM_RESOURCES,
        [S_ReleaseMutex] = ERROR_NOT_OWNER,
        [S_LockFileEx] = ERROR_NOT_ENOUGH_MEMORY,
        [S_UnlockFileEx] = ERROR_NOT_LOCKED,
        [S_GetSectionSize] = ERROR_ACCESS_DENIED,
    }};
static const profile profile_b = {
    "B",
    {
        [S_CreateFileW] = ERROR_SHARING_VIOLATION,
        [S_CloseHandle] = ERROR_IO_DEVICE,
        [S_DuplicateHandle] = ERROR_NOT_ENOUGH_MEMORY,
        [S_GetFileType] = ERROR_IO_DEVICE,
        [S_GetFileInformationByHandleEx] = ERROR_ACCESS_DENIED,
        [S_SetFileInformationByHandle] = ERROR_ACCESS_DENIED,
        [S_ReadFile] = ERROR_IO_DEVICE,
        [S_FlushFileBuffers] = ERROR_DISK_FULL,
        [S_CreateFileMappingW] = ERROR_FILE_INVALID,
        [S_MapViewOfFileEx] = ERROR_INVALID_ADDRESS,
        [S_UnmapViewOfFile] = ERROR_NOT_ENOUGH_MEMORY,
        [S_FlushViewOfFile] = ERROR_NOT_ENOUGH_MEMORY,
        [S_VirtualAlloc] = ERROR_INVALID_ADDRESS,
        [S_VirtualFree] = ERROR_NOT_ENOUGH_MEMORY,
        [S_VirtualProtect] = ERROR_NOT_ENOUGH_MEMORY,
        [S_VirtualLock] = ERROR_NOT_ENOUGH_MEMORY,
        [S_VirtualUnlock] = ERROR_NOT_LOCKED,
        [S_PrefetchVirtualMemory] = ERROR_NOT_ENOUGH_MEMORY,
        [S_K32QueryWorkingSetEx] = ERROR_NOT_ENOUGH_MEMORY,
        [S_GetHandleAccess] = ERROR_INVALID_HANDLE,
        [S_GetVolumeFreeBytes] = ERROR_INVALID_HANDLE,
        [S_GetFileInformationByHandle] = ERROR_ACCESS_DENIED,
        /* Not found: nobody waits, which a wake need not report. */
        [S_OpenFileMappingW] = ERROR_FILE_NOT_FOUND,
        [S_CreateSemaphoreW] = ERROR_ACCESS_DENIED,
        [S_ReleaseSemaphore] = ERROR_INVALID_HANDLE,
        [S_WaitForSingleObject] = ERROR_NOT_ENOUGH_MEMORY,
        [S_CreateMutexW] = ERROR_ACCESS_DENIED,
        [S_ReleaseMutex] = ERROR_INVALID_HANDLE,
        [S_LockFileEx] = ERROR_INVALID_HANDLE,
        [S_UnlockFileEx] = ERROR_INVALID_HANDLE,
        [S_GetSectionSize] = ERROR_CALL_NOT_IMPLEMENTED,
    }};

static const profile *inj_profile;
static int inj_target; /* fail the inj_target-th call; 0: never */
static int inj_calls;  /* calls seen while armed */
static int inj_armed;
static int inj_hit;      /* the failure was injected */
static int inj_hit_id;   /* which call failed */
static DWORD inj_err;    /* with which error */
static int memory_kept;  /* a failed unmap or free left memory mapped */
static DWORD inj_thread; /* the thread whose calls are counted */

static void inj_arm(const profile *p, int target) {
  inj_profile = p;
  inj_target = target;
  inj_calls = 0;
  inj_hit = 0;
  inj_hit_id = -1;
  inj_err = 0;
  inj_thread = GetCurrentThreadId();
  inj_armed = 1;
}

static void inj_disarm(void) { inj_armed = 0; }

/* Count a call; true if it is the one to fail (the error is then set). */
static bool inj_fail(enum sys_id id) {
  if (!inj_armed || GetCurrentThreadId() != inj_thread)
    return false;
  inj_calls++;
  if (inj_target == 0 || inj_calls != inj_target)
    return false;
  inj_hit = 1;
  inj_hit_id = (int)id;
  inj_err = inj_profile->err[id];
  SetLastError(inj_err);
  return true;
}

static HANDLE WINAPI w_CreateFileW(LPCWSTR path, DWORD access, DWORD share,
                                   LPSECURITY_ATTRIBUTES sa, DWORD disposition,
                                   DWORD flags, HANDLE tmpl) {
  if (inj_fail(S_CreateFileW))
    return INVALID_HANDLE_VALUE;
  return mmf__sys_real.CreateFileW(path, access, share, sa, disposition, flags,
                                   tmpl);
}
static BOOL WINAPI w_CloseHandle(HANDLE h) {
  if (inj_fail(S_CloseHandle)) {
    /* Report the failure, but do close: a handle that cannot be closed
     * cannot be retried either, and the count must not see it. */
    DWORD e = GetLastError();
    mmf__sys_real.CloseHandle(h);
    SetLastError(e);
    return FALSE;
  }
  return mmf__sys_real.CloseHandle(h);
}
static BOOL WINAPI w_DuplicateHandle(HANDLE from, HANDLE h, HANDLE to,
                                     LPHANDLE out, DWORD access, BOOL inherit,
                                     DWORD options) {
  if (inj_fail(S_DuplicateHandle))
    return FALSE;
  return mmf__sys_real.DuplicateHandle(from, h, to, out, access, inherit,
                                       options);
}
static DWORD WINAPI w_GetFileType(HANDLE h) {
  if (inj_fail(S_GetFileType))
    return FILE_TYPE_UNKNOWN;
  return mmf__sys_real.GetFileType(h);
}
static BOOL WINAPI w_GetFileInformationByHandleEx(HANDLE h,
                                                  FILE_INFO_BY_HANDLE_CLASS cls,
                                                  LPVOID buf, DWORD size) {
  if (inj_fail(S_GetFileInformationByHandleEx))
    return FALSE;
  return mmf__sys_real.GetFileInformationByHandleEx(h, cls, buf, size);
}
static BOOL WINAPI w_SetFileInformationByHandle(HANDLE h,
                                                FILE_INFO_BY_HANDLE_CLASS cls,
                                                LPVOID buf, DWORD size) {
  if (inj_fail(S_SetFileInformationByHandle))
    return FALSE;
  return mmf__sys_real.SetFileInformationByHandle(h, cls, buf, size);
}
static BOOL WINAPI w_ReadFile(HANDLE h, LPVOID buf, DWORD n, LPDWORD got,
                              LPOVERLAPPED ov) {
  if (inj_fail(S_ReadFile)) {
    if (got)
      *got = 0;
    return FALSE;
  }
  return mmf__sys_real.ReadFile(h, buf, n, got, ov);
}
static BOOL WINAPI w_FlushFileBuffers(HANDLE h) {
  if (inj_fail(S_FlushFileBuffers))
    return FALSE;
  return mmf__sys_real.FlushFileBuffers(h);
}
static HANDLE WINAPI w_CreateFileMappingW(HANDLE h, LPSECURITY_ATTRIBUTES sa,
                                          DWORD protect, DWORD hi, DWORD lo,
                                          LPCWSTR name) {
  if (inj_fail(S_CreateFileMappingW))
    return NULL;
  return mmf__sys_real.CreateFileMappingW(h, sa, protect, hi, lo, name);
}
static LPVOID WINAPI w_MapViewOfFileEx(HANDLE section, DWORD access, DWORD hi,
                                       DWORD lo, SIZE_T len, LPVOID at) {
  if (inj_fail(S_MapViewOfFileEx))
    return NULL;
  return mmf__sys_real.MapViewOfFileEx(section, access, hi, lo, len, at);
}
static BOOL WINAPI w_UnmapViewOfFile(LPCVOID addr) {
  if (inj_fail(S_UnmapViewOfFile)) {
    memory_kept = 1;
    return FALSE;
  }
  return mmf__sys_real.UnmapViewOfFile(addr);
}
static BOOL WINAPI w_FlushViewOfFile(LPCVOID addr, SIZE_T len) {
  if (inj_fail(S_FlushViewOfFile))
    return FALSE;
  return mmf__sys_real.FlushViewOfFile(addr, len);
}
static LPVOID WINAPI w_VirtualAlloc(LPVOID at, SIZE_T len, DWORD type,
                                    DWORD prot) {
  if (inj_fail(S_VirtualAlloc))
    return NULL;
  return mmf__sys_real.VirtualAlloc(at, len, type, prot);
}
static BOOL WINAPI w_VirtualFree(LPVOID addr, SIZE_T len, DWORD type) {
  if (inj_fail(S_VirtualFree)) {
    memory_kept = 1;
    return FALSE;
  }
  return mmf__sys_real.VirtualFree(addr, len, type);
}
static BOOL WINAPI w_VirtualProtect(LPVOID addr, SIZE_T len, DWORD prot,
                                    PDWORD old) {
  if (inj_fail(S_VirtualProtect))
    return FALSE;
  return mmf__sys_real.VirtualProtect(addr, len, prot, old);
}
static BOOL WINAPI w_VirtualLock(LPVOID addr, SIZE_T len) {
  if (inj_fail(S_VirtualLock))
    return FALSE;
  return mmf__sys_real.VirtualLock(addr, len);
}
static BOOL WINAPI w_VirtualUnlock(LPVOID addr, SIZE_T len) {
  if (inj_fail(S_VirtualUnlock))
    return FALSE;
  return mmf__sys_real.VirtualUnlock(addr, len);
}
static BOOL WINAPI w_PrefetchVirtualMemory(HANDLE process, ULONG_PTR n,
                                           mmf__win_range *ranges,
                                           ULONG flags) {
  if (inj_fail(S_PrefetchVirtualMemory))
    return FALSE;
  return mmf__sys_real.PrefetchVirtualMemory(process, n, ranges, flags);
}
static BOOL WINAPI w_K32QueryWorkingSetEx(HANDLE process, PVOID buf,
                                          DWORD size) {
  if (inj_fail(S_K32QueryWorkingSetEx))
    return FALSE;
  return mmf__sys_real.K32QueryWorkingSetEx(process, buf, size);
}
static BOOL WINAPI w_GetHandleAccess(HANDLE h, DWORD *access) {
  if (inj_fail(S_GetHandleAccess))
    return FALSE;
  return mmf__sys_real.GetHandleAccess(h, access);
}
static BOOL WINAPI w_GetVolumeFreeBytes(HANDLE h, ULONGLONG *bytes) {
  if (inj_fail(S_GetVolumeFreeBytes))
    return FALSE;
  return mmf__sys_real.GetVolumeFreeBytes(h, bytes);
}

static BOOL WINAPI
w_GetFileInformationByHandle(HANDLE h, LPBY_HANDLE_FILE_INFORMATION info) {
  if (inj_fail(S_GetFileInformationByHandle))
    return FALSE;
  return mmf__sys_real.GetFileInformationByHandle(h, info);
}
static HANDLE WINAPI w_OpenFileMappingW(DWORD access, BOOL inherit,
                                        LPCWSTR name) {
  if (inj_fail(S_OpenFileMappingW))
    return NULL;
  return mmf__sys_real.OpenFileMappingW(access, inherit, name);
}
static HANDLE WINAPI w_CreateSemaphoreW(LPSECURITY_ATTRIBUTES sa, LONG initial,
                                        LONG max, LPCWSTR name) {
  if (inj_fail(S_CreateSemaphoreW))
    return NULL;
  return mmf__sys_real.CreateSemaphoreW(sa, initial, max, name);
}
static BOOL WINAPI w_ReleaseSemaphore(HANDLE h, LONG n, LPLONG previous) {
  if (inj_fail(S_ReleaseSemaphore))
    return FALSE;
  return mmf__sys_real.ReleaseSemaphore(h, n, previous);
}
static DWORD WINAPI w_WaitForSingleObject(HANDLE h, DWORD ms) {
  if (inj_fail(S_WaitForSingleObject))
    return WAIT_FAILED;
  return mmf__sys_real.WaitForSingleObject(h, ms);
}

static HANDLE WINAPI w_CreateMutexW(LPSECURITY_ATTRIBUTES sa, BOOL owned,
                                    LPCWSTR name) {
  if (inj_fail(S_CreateMutexW))
    return NULL;
  return mmf__sys_real.CreateMutexW(sa, owned, name);
}
static BOOL WINAPI w_ReleaseMutex(HANDLE h) {
  if (inj_fail(S_ReleaseMutex))
    return FALSE;
  return mmf__sys_real.ReleaseMutex(h);
}
static BOOL WINAPI w_LockFileEx(HANDLE h, DWORD flags, DWORD reserved,
                                DWORD len_low, DWORD len_high,
                                LPOVERLAPPED ov) {
  if (inj_fail(S_LockFileEx))
    return FALSE;
  return mmf__sys_real.LockFileEx(h, flags, reserved, len_low, len_high, ov);
}
static BOOL WINAPI w_UnlockFileEx(HANDLE h, DWORD reserved, DWORD len_low,
                                  DWORD len_high, LPOVERLAPPED ov) {
  if (inj_fail(S_UnlockFileEx))
    return FALSE;
  return mmf__sys_real.UnlockFileEx(h, reserved, len_low, len_high, ov);
}
static BOOL WINAPI w_GetSectionSize(HANDLE section, ULONGLONG *size) {
  if (inj_fail(S_GetSectionSize))
    return FALSE;
  return mmf__sys_real.GetSectionSize(section, size);
}

static void install_wrappers(void) {
#define X(name) mmf__sys.name = w_##name;
  SYS_CALLS(X)
#undef X
}

static void restore_real(void) { mmf__sys = mmf__sys_real; }

/* ------------------------------------------------------------------------ */
/* Walks                                                                     */
/* ------------------------------------------------------------------------ */

#define FSIZE (3 * 4096 + 5)
#define MIB (1ull << 20)

typedef struct ctx {
  mmf_map *m;
  HANDLE thread;   /* a waiter some walks start */
  uint64_t size0;  /* mmf_size before a handle operation */
  uint64_t fsize0; /* file size before the operation */
  uint64_t bytes;
} ctx;

enum walk_kind {
  W_OPENS,  /* the operation creates c->m; failures clear it */
  W_HANDLE, /* the operation works on c->m made by setup */
  W_CLOSES, /* the operation closes c->m */
  W_SHARED  /* a sharing call on c->m: its OS error is the thread's */
};

typedef struct walk_def {
  const char *name;
  int kind;
  int expect; /* result without injection */
  void (*setup)(ctx *c);
  int (*op)(ctx *c);
  void (*verify)(ctx *c, int rc); /* unarmed, after the operation */
} walk_def;

static const char *fpath(void) { return test_path("f"); }

/* End the waiter thread of a walk that started one: a wake that failed
 * left it asleep, so wake it for real until it is gone. */
static void finish_waiter(ctx *c) {
  uint32_t w = (uint32_t)c->size0 + 1;
  if (!c->thread)
    return;
  memcpy((unsigned char *)mmf_data(c->m) + 8, &w, sizeof w);
  while (WaitForSingleObject(c->thread, 100) == WAIT_TIMEOUT)
    ASSERT_OK(mmf_wake(c->m, 8, INT_MAX));
  CloseHandle(c->thread);
  c->thread = NULL;
}

static void teardown(ctx *c) {
  finish_waiter(c);
  int rc = mmf_close(c->m);
  c->m = NULL;
  if (rc != 0 && rc != MMF_EPOISONED && !memory_kept)
    FAIL("close after the walk step: %s", mmf_errname(rc));
}

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

/* --- opens ---------------------------------------------------------------- */

static void setup_file(ctx *c) {
  write_pattern(fpath(), FSIZE);
  c->fsize0 = FSIZE;
}
static void setup_nothing(ctx *c) { (void)c; }
static void setup_missing(ctx *c) {
  test_unlink(fpath());
  c->fsize0 = 0;
}
static void setup_empty(ctx *c) {
  write_file(fpath(), NULL, 0);
  c->fsize0 = 0;
}
static void setup_big(ctx *c) {
  make_sparse(fpath(), 16 * MIB);
  write_at(fpath(), 4096 + 123, "big", 3);
  c->fsize0 = 16 * MIB;
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
  int fd = test_open(fpath(), O_RDONLY);
  int rc = mmf_open_fd(&c->m, fd, MMF_READ, NULL);
  close(fd);
  return rc;
}
static int op_open_fd_write(ctx *c) {
  int fd = test_open(fpath(), O_RDWR);
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
static int op_open_grow(ctx *c) {
  return mmf_open(&c->m, fpath(), MMF_WRITE,
                  &(mmf_options){.offset = 4096 + 1, .length = 5 * 4096});
}
static void verify_grow(ctx *c, int rc) {
  if (rc == 0) {
    ASSERT_EQ_U(file_size(fpath()), 4096 + 1 + 5 * 4096);
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
static int op_open_grow_erange(ctx *c) {
  return mmf_open(&c->m, fpath(), MMF_WRITE,
                  &(mmf_options){.offset = 9 * 4096, .size = 8 * 4096});
}
static void verify_unchanged_file(ctx *c, int rc) {
  (void)c;
  (void)rc;
  ASSERT_EQ_U(file_size(fpath()), FSIZE);
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
static int op_open_big(ctx *c) {
  return mmf_open(&c->m, fpath(), MMF_READ,
                  &(mmf_options){.offset = 4096 + 123, .length = 8 * MIB});
}
static void verify_big(ctx *c, int rc) {
  if (rc == 0) {
    ASSERT_EQ_U(mmf_size(c->m), 8 * MIB);
    ASSERT_MEMEQ(mmf_data(c->m), "big", 3);
    /* Placed, unless a call of the placement failed: then any address is
     * taken (docs/windows.md). */
    if (mmf_is_mapped(c->m) && !inj_hit)
      ASSERT_EQ_U(((uintptr_t)mmf_data(c->m) - (4096 + 123)) % (2 * MIB), 0);
  }
}
static int op_open_pipe(ctx *c) {
  int fds[2];
  unsigned char buf[30000];
  test_pipe(fds);
  fill_pat(buf, 0, sizeof buf);
  ASSERT_EQ(write(fds[1], buf, sizeof buf), (int)sizeof buf);
  close(fds[1]);
  int rc = mmf_open_fd(&c->m, fds[0], MMF_READ, NULL);
  close(fds[0]);
  return rc;
}
static void verify_pipe(ctx *c, int rc) {
  if (rc == 0)
    check_bytes(c, 0, 30000);
}
static int op_open_nul(ctx *c) {
  int rc = mmf_open(&c->m, "NUL", MMF_READ, NULL);
  if (rc == 0 && mmf_size(c->m) != 0)
    FAIL("NUL read as %zu bytes", mmf_size(c->m));
  return rc;
}

static int op_anon_private(ctx *c) { return mmf_anon(&c->m, 3 * 4096, 0); }
static int op_anon_populate(ctx *c) {
  return mmf_anon(&c->m, 3 * 4096, MMF_SHARED | MMF_POPULATE | MMF_LOCKED);
}
static int op_anon_big(ctx *c) { return mmf_anon(&c->m, 4 * MIB, MMF_HUGE); }
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
static void setup_anon_map(ctx *c) {
  ASSERT_OK(mmf_anon(&c->m, 4096, 0));
  memset(mmf_data(c->m), 0xa5, 4096);
  c->size0 = 4096;
}
static void setup_created_map(ctx *c) {
  setup_missing(c);
  ASSERT_OK(mmf_open(&c->m, fpath(), MMF_WRITE,
                     &(mmf_options){.flags = MMF_CREATE, .size = 10}));
  c->size0 = 10;
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
  ASSERT_GE_U(file_size(fpath()), off + c->size0);
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
  int r = mmf_flush(c->m, 0, 0, MMF_FLUSH_ASYNC);
  if (r == MMF_EPOISONED)
    return;
  ASSERT_OK(r);
  ASSERT_GE_U(file_size(fpath()), mmf_size(c->m));
  ASSERT_TRUE(mmf_size(c->m) == 0 || mmf_size(c->m) == FSIZE);
  ASSERT_PAT(mmf_data(c->m), 0, mmf_size(c->m) > 100 ? 100 : mmf_size(c->m));
}
static int op_resize_read_grow(ctx *c) { return mmf_resize(c->m, FSIZE); }
static void verify_resize_read_grow(ctx *c, int rc) {
  verify_resize_file(c, rc, FSIZE);
}
static int op_resize_copy_grow(ctx *c) {
  ((unsigned char *)mmf_data(c->m))[0] = pat(5); /* a private page */
  return mmf_resize(c->m, FSIZE - 5);
}
static void verify_resize_copy_grow(ctx *c, int rc) {
  verify_resize_file(c, rc, FSIZE - 5);
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
static int op_flush_full_created(ctx *c) {
  return mmf_flush(c->m, 0, 0, MMF_FLUSH_FULL);
}
static void verify_handle(ctx *c, int rc) {
  (void)rc;
  check_usable(c, mmf_offset(c->m));
}
static void verify_flush_created(ctx *c, int rc) {
  (void)rc;
  ASSERT_OK(mmf_flush(c->m, 0, 0, MMF_FLUSH_FULL));
  ASSERT_EQ_U(mmf_size(c->m), 10);
}
/* Every advice Windows has (HUGEPAGE is MMF_ENOTSUP there). */
static int op_advise_all(ctx *c) {
  for (int a = MMF_ADV_NORMAL; a <= MMF_ADV_DONTNEED; a++) {
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
  return mmf_wait(c->m, 8, word_at(c, 8), 20000000);
}
static int op_wake(ctx *c) { return mmf_wake(c->m, 8, INT_MAX); }

/* A thread that waits until the word at 8 changes (the wrappers fail
 * only calls of the thread that armed them). */
static DWORD WINAPI wait_for_change(LPVOID arg) {
  ctx *c = arg;
  while (word_at(c, 8) == (uint32_t)c->size0)
    (void)mmf_wait(c->m, 8, (uint32_t)c->size0, 30000000000);
  return 0;
}
static void setup_waiter(ctx *c) {
  setup_write_map(c);
  /* size0 doubles as the value the waiter waits on. */
  c->size0 = word_at(c, 8);
  c->thread = CreateThread(NULL, 0, wait_for_change, c, 0, NULL);
  ASSERT_TRUE(c->thread != NULL);
  Sleep(50);
}
static int op_change_and_wake(ctx *c) {
  uint32_t w = (uint32_t)c->size0 + 1;
  memcpy((unsigned char *)mmf_data(c->m) + 8, &w, sizeof w);
  return mmf_wake(c->m, 8, INT_MAX);
}
static void verify_waiter_ends(ctx *c, int rc) {
  (void)rc;
  finish_waiter(c);
  memcpy((unsigned char *)mmf_data(c->m) + 8, &(uint32_t){(uint32_t)c->size0},
         4);
  c->size0 = mmf_size(c->m);
  check_usable(c, 0);
}

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
  (void)rc;
  /* A failed unlock changed nothing: the mutex is still ours. */
  int r = mmf_mutex_lock(c->m, MUTEX_AT, 0);
  if (r == MMF_EOWNERDEAD)
    r = mmf_mutex_consistent(c->m, MUTEX_AT);
  if (r == MMF_EDEADLK)
    r = 0;
  ASSERT_OK(r);
  ASSERT_OK(mmf_mutex_unlock(c->m, MUTEX_AT));
  put_pattern_back(c);
  check_usable(c, 0);
}
/* The owner was a thread that ended holding it: abandoned. */
static DWORD WINAPI lock_and_end(LPVOID arg) {
  ctx *c = arg;
  return mmf_mutex_lock(c->m, MUTEX_AT, -1) == 0 ? 0 : 1;
}
static void setup_abandoned(ctx *c) {
  setup_mutex_map(c);
  HANDLE t = CreateThread(NULL, 0, lock_and_end, c, 0, NULL);
  ASSERT_TRUE(t != NULL);
  WaitForSingleObject(t, INFINITE);
  CloseHandle(t);
}
static int op_mutex_lock_abandoned(ctx *c) {
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
static void verify_lock_file(ctx *c, int rc) {
  (void)rc;
  /* Whatever was left locked, the map can lock it all again. */
  (void)mmf_unlock_file(c->m, 0, 0);
  (void)mmf_unlock_file(c->m, 10, 100);
  ASSERT_OK(mmf_lock_file(c->m, 0, 0, MMF_LOCK_EXCLUSIVE | MMF_LOCK_NOWAIT));
  ASSERT_OK(mmf_unlock_file(c->m, 0, 0));
  check_usable(c, 0);
}

/* named shared memory */
static const char *shm_name(void) {
  static char name[64];
  snprintf(name, sizeof name, "mmf-inject-%lu",
           (unsigned long)GetCurrentProcessId());
  return name;
}
static int op_shm_create(ctx *c) {
  return mmf_shm_open(&c->m, shm_name(), MMF_WRITE,
                      &(mmf_options){.size = 3 * 4096 + 5,
                                     .flags = MMF_CREATE | MMF_EXCLUSIVE});
}
static void verify_shm_create(ctx *c, int rc) {
  if (rc == 0) {
    ASSERT_EQ_U(mmf_size(c->m), 3 * 4096 + 5);
    ASSERT_ZERO(mmf_data(c->m), 3 * 4096 + 5);
  }
}
/* The region stays open in c->blocker-like fashion: setup keeps one map
 * of it for the whole step, as a Windows region lives with its maps. */
static mmf_map *shm_keeper;
static void setup_shm(ctx *c) {
  (void)c;
  ASSERT_OK(mmf_shm_open(&shm_keeper, shm_name(), MMF_WRITE,
                         &(mmf_options){.size = FSIZE, .flags = MMF_CREATE}));
  fill_pat(mmf_data(shm_keeper), 0, FSIZE);
}
static int op_shm_open(ctx *c) {
  return mmf_shm_open(&c->m, shm_name(), MMF_READ,
                      &(mmf_options){.offset = 4096 + 7});
}
static void verify_shm_open(ctx *c, int rc) {
  if (rc == 0)
    check_bytes(c, 4096 + 7, FSIZE - 4096 - 7);
  ASSERT_OK(mmf_close(shm_keeper));
  shm_keeper = NULL;
}

static int op_close(ctx *c) {
  int rc = mmf_close(c->m);
  c->m = NULL;
  return rc;
}
static void setup_sync_close_map(ctx *c) {
  open_for_handle(c, MMF_WRITE, &(mmf_options){.flags = MMF_SYNC_ON_CLOSE});
  memcpy(mmf_data(c->m), "dirty", 5);
}
static void verify_closed(ctx *c, int rc) {
  (void)c;
  (void)rc;
  ASSERT_EQ_U(file_size(fpath()), FSIZE);
}
static void setup_fallback_map(ctx *c) {
  ASSERT_OK(op_open_pipe(c));
  ASSERT_FALSE(mmf_is_mapped(c->m));
}

static const walk_def walks[] = {
    {"open READ", W_OPENS, 0, setup_file, op_open_read, verify_whole},
    {"open COPY", W_OPENS, 0, setup_file, op_open_copy, verify_whole},
    {"open WRITE", W_OPENS, 0, setup_file, op_open_write, verify_whole},
    {"open READ POPULATE|SEQUENTIAL|HUGE|LOCKED", W_OPENS, 0, setup_file,
     op_open_flags, verify_whole},
    {"open COPY RANDOM|LOCKED", W_OPENS, 0, setup_file, op_open_copy_flags,
     verify_whole},
    {"open_fd READ", W_OPENS, 0, setup_file, op_open_fd_read, verify_whole},
    {"open_fd WRITE", W_OPENS, 0, setup_file, op_open_fd_write, verify_whole},
    {"open READ at offset", W_OPENS, 0, setup_file, op_open_offset,
     verify_offset},
    {"open WRITE growing", W_OPENS, 0, setup_file, op_open_grow, verify_grow},
    {"open WRITE PREALLOCATE", W_OPENS, 0, setup_file, op_open_prealloc,
     verify_prealloc},
    {"open WRITE offset past size", W_OPENS, MMF_ERANGE, setup_file,
     op_open_grow_erange, verify_unchanged_file},
    {"open WRITE CREATE", W_OPENS, 0, setup_missing, op_open_create,
     verify_create},
    {"open empty file", W_OPENS, 0, setup_empty, op_open_empty, verify_empty},
    {"open directory", W_OPENS, MMF_EISDIR, setup_nothing, op_open_dir, NULL},
    {"open large placed", W_OPENS, 0, setup_big, op_open_big, verify_big},
    {"open_fd pipe", W_OPENS, 0, setup_nothing, op_open_pipe, verify_pipe},
    {"open NUL", W_OPENS, 0, setup_nothing, op_open_nul, NULL},
    {"anon private", W_OPENS, 0, setup_nothing, op_anon_private, verify_anon},
    {"anon SHARED|POPULATE|LOCKED", W_OPENS, 0, setup_nothing, op_anon_populate,
     verify_anon},
    {"anon HUGE 4 MiB", W_OPENS, 0, setup_nothing, op_anon_big, verify_anon},
    {"resize WRITE grow", W_HANDLE, 0, setup_write_map, op_resize_grow,
     verify_resize_grow},
    {"resize WRITE shrink", W_HANDLE, 0, setup_write_map, op_resize_shrink,
     verify_resize_shrink},
    {"resize WRITE to 0 and back", W_HANDLE, 0, setup_write_map,
     op_resize_zero_and_back, verify_resize_zero_and_back},
    {"resize READ grow", W_HANDLE, 0, setup_read_map, op_resize_read_grow,
     verify_resize_read_grow},
    {"resize COPY grow", W_HANDLE, 0, setup_copy_map, op_resize_copy_grow,
     verify_resize_copy_grow},
    {"resize anon", W_HANDLE, 0, setup_anon_map, op_resize_anon,
     verify_resize_anon},
    {"flush ASYNC", W_HANDLE, 0, setup_write_map, op_flush_async,
     verify_handle},
    {"flush SYNC", W_HANDLE, 0, setup_write_map, op_flush_sync, verify_handle},
    {"flush FULL", W_HANDLE, 0, setup_write_map, op_flush_full, verify_handle},
    {"flush FULL of a created file", W_HANDLE, 0, setup_created_map,
     op_flush_full_created, verify_flush_created},
    {"advise every advice", W_HANDLE, 0, setup_write_map, op_advise_all,
     verify_handle},
    {"protect", W_HANDLE, 0, setup_write_map, op_protect, verify_protect},
    {"lock and unlock", W_HANDLE, 0, setup_write_map, op_lock, verify_handle},
    {"resident", W_HANDLE, 0, setup_write_map, op_resident, verify_resident},
    {"wait with timeout", W_SHARED, MMF_ETIMEDOUT, setup_write_map,
     op_wait_timeout, verify_handle},
    {"wake, nobody waiting", W_SHARED, 0, setup_write_map, op_wake,
     verify_handle},
    {"wake a waiting thread", W_SHARED, 0, setup_waiter, op_change_and_wake,
     verify_waiter_ends},
    {"mutex lock and unlock", W_SHARED, 0, setup_mutex_map,
     op_mutex_lock_unlock, verify_mutex},
    {"mutex lock, owner ended", W_SHARED, MMF_EOWNERDEAD, setup_abandoned,
     op_mutex_lock_abandoned, verify_mutex},
    {"lock_file", W_SHARED, 0, setup_write_map, op_lock_file, verify_lock_file},
    {"shm create", W_OPENS, 0, setup_nothing, op_shm_create, verify_shm_create},
    {"shm open existing", W_OPENS, 0, setup_shm, op_shm_open, verify_shm_open},
    {"close", W_CLOSES, 0, setup_write_map, op_close, verify_closed},
    {"close SYNC_ON_CLOSE", W_CLOSES, 0, setup_sync_close_map, op_close,
     verify_closed},
    {"close fallback copy", W_CLOSES, 0, setup_fallback_map, op_close, NULL},
};
#define N_WALKS (sizeof walks / sizeof walks[0])

/* One step of a walk: fail call n and check everything, in a process of
 * its own (argv: walk index, profile, n), so that a failed check ends only
 * this step and the walk goes on to list every failing path. Exits 0 when
 * call n was failed, 3 when the operation made fewer calls, 1 when a check
 * failed. */
TEST_CHILD(walk_step) {
  ASSERT_EQ(argc, 4);
  const walk_def *w = &walks[atoi(argv[1])];
  const profile *prof = argv[2][0] == 'A' ? &profile_a : &profile_b;
  const int n = atoi(argv[3]);
  ctx c;
  install_wrappers();
  /* Warm-up without injection, so one-time allocations are made before
   * the counts. */
  memset(&c, 0, sizeof c);
  w->setup(&c);
  (void)w->op(&c);
  teardown(&c);
  const int fds = count_open_fds();
  const int maps = count_mappings();

  memset(&c, 0, sizeof c);
  w->setup(&c);
  memory_kept = 0;
  inj_arm(prof, n);
  int rc = w->op(&c);
  inj_disarm();
  const int hit = inj_hit;
  const DWORD err = inj_err;
  test_context("%s [%s], call %d (%s) failing with error %lu, result %s",
               w->name, prof->name, n, hit ? sys_names[inj_hit_id] : "nothing",
               (unsigned long)err, mmf_errname(rc));

  if (!test_is_mmf_error(rc) && rc != 0)
    FAIL("returned %d, not an MMF code", rc);
  if (!hit && rc != w->expect)
    FAIL("with no failure injected got %s, expected %s", mmf_errname(rc),
         mmf_errname(w->expect));
  if (hit && rc != w->expect) {
    int want = mmf__os_error((int)err);
    if (rc != want)
      FAIL("got %s, expected %s (or %s if the call is optional)",
           mmf_errname(rc), mmf_errname(want), mmf_errname(w->expect));
    int os =
        w->kind == W_HANDLE ? mmf_last_os_error(c.m) : mmf_last_os_error(NULL);
    if (w->kind != W_CLOSES && os != (int)err)
      FAIL("mmf_last_os_error is %d, expected %lu", os, (unsigned long)err);
  }
  if (w->kind == W_OPENS && rc != 0 && c.m != NULL)
    FAIL("failed but *out is %p, not NULL", (void *)c.m);
  if ((w->kind == W_HANDLE || w->kind == W_SHARED) && c.m == NULL)
    FAIL("handle lost");
  if (w->verify)
    w->verify(&c, rc);
  teardown(&c);

  int fds2 = count_open_fds();
  if (fds2 != fds)
    FAIL("%d handles before, %d after close", fds, fds2);
  /* A failed unmap or free leaves its memory, by the OS's decision. */
  int maps2 = count_mappings();
  if (!memory_kept && maps2 != maps)
    FAIL("%d allocations before, %d after close", maps, maps2);
  return hit ? 0 : 3;
}

/* Run one walk with one profile; returns the number of failure paths, and
 * adds the steps that failed a check to *failed. */
static int walk(int index, const profile *prof, int *failed) {
  const walk_def *w = &walks[index];
  ctx c;
  /* The baseline, without injection. */
  memset(&c, 0, sizeof c);
  w->setup(&c);
  inj_arm(prof, 0);
  int rc = w->op(&c);
  inj_disarm();
  if (rc != w->expect)
    FAIL("%s: without injection got %s, expected %s", w->name, mmf_errname(rc),
         mmf_errname(w->expect));
  if (w->verify)
    w->verify(&c, rc);
  teardown(&c);
  const int calls = inj_calls;
  char idx[16], num[16];
  snprintf(idx, sizeof idx, "%d", index);
  for (int n = 1; n <= 4 * calls + 100; n++) {
    snprintf(num, sizeof num, "%d", n);
    int st = test_run_child("walk_step", idx, prof->name, num, NULL);
    if (st == 3)
      return n - 1;
    if (st != 0)
      ++*failed;
  }
  FAIL("%s [%s]: the operation made more calls than without injection", w->name,
       prof->name);
}

static void run_walks(int first, int last) {
  install_wrappers();
  int total = 0, failed = 0;
  for (int i = first; i <= last; i++) {
    int a = walk(i, &profile_a, &failed);
    int b = walk(i, &profile_b, &failed);
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
  run_walks(find_walk("open READ"), find_walk("open NUL"));
#endif
}

TEST(win_inject_anon_paths) {
#ifndef _WIN32
  SKIP(NOT_HERE);
#else
  run_walks(find_walk("anon private"), find_walk("anon HUGE 4 MiB"));
#endif
}

TEST(win_inject_resize_paths) {
#ifndef _WIN32
  SKIP(NOT_HERE);
#else
  run_walks(find_walk("resize WRITE grow"), find_walk("resize anon"));
#endif
}

TEST(win_inject_control_paths) {
#ifndef _WIN32
  SKIP(NOT_HERE);
#else
  run_walks(find_walk("flush ASYNC"), find_walk("resident"));
#endif
}

TEST(win_inject_share_paths) {
#ifndef _WIN32
  SKIP(NOT_HERE);
#else
  run_walks(find_walk("wait with timeout"), find_walk("shm open existing"));
#endif
}

TEST(win_inject_close_paths) {
#ifndef _WIN32
  SKIP(NOT_HERE);
#else
  run_walks(find_walk("close"), find_walk("close fallback copy"));
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
  inj_arm(&profile_a, 1);
  int rc = mmf_open(&m, fpath(), MMF_READ, NULL);
  inj_disarm();
  ASSERT_TRUE(inj_hit);
  ASSERT_EQ(inj_hit_id, S_CreateFileW);
  ASSERT_ERR(rc, MMF_EMFILE); /* ERROR_TOO_MANY_OPEN_FILES in profile A */
  ASSERT_EQ(mmf_last_os_error(NULL), ERROR_TOO_MANY_OPEN_FILES);
  ASSERT_NULL(m);
  restore_real();
#endif
}
