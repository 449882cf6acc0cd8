/*
 * sys_win.c - the real calls behind mmf__sys.
 *
 * Each entry is a thin wrapper with the table's exact signature, so a test
 * can swap one for a failing version and restore it from mmf__sys_real.
 * Calls that not every supported Windows has (Vista is the floor; prefetch
 * needs Windows 8) and the two ntdll queries are looked up once at run
 * time, so the library imports nothing beyond kernel32.
 */
#include "os/win/sys_win.h"

typedef BOOL(WINAPI *prefetch_fn)(HANDLE, ULONG_PTR, mmf__win_range *, ULONG);
typedef BOOL(WINAPI *ws_fn)(HANDLE, PVOID, DWORD);
typedef LONG(WINAPI *query_object_fn)(HANDLE, ULONG, PVOID, ULONG, PULONG);
typedef LONG(WINAPI *query_volume_fn)(HANDLE, PVOID, PVOID, ULONG, ULONG);
typedef ULONG(WINAPI *status_to_error_fn)(LONG);
typedef LONG(WINAPI *query_section_fn)(HANDLE, ULONG, PVOID, ULONG, PULONG);

/* ntdll structures, declared here to avoid winternl.h/ddk headers. */
typedef struct object_basic_info {
  ULONG attributes;
  ACCESS_MASK granted_access;
  ULONG handle_count;
  ULONG pointer_count;
  ULONG reserved[10];
} object_basic_info;

typedef struct io_status {
  union {
    LONG status;
    PVOID pointer;
  } u;
  ULONG_PTR information;
} io_status;

typedef struct fs_full_size_info {
  LARGE_INTEGER total_units;
  LARGE_INTEGER caller_available_units;
  LARGE_INTEGER actual_available_units;
  ULONG sectors_per_unit;
  ULONG bytes_per_sector;
} fs_full_size_info;

/* SECTION_BASIC_INFORMATION */
typedef struct section_basic_info {
  PVOID base;
  ULONG attributes;
  LARGE_INTEGER size;
} section_basic_info;

#define OBJECT_BASIC_INFORMATION_CLASS 0
#define SECTION_BASIC_INFORMATION_CLASS 0
#define FILE_FS_FULL_SIZE_INFORMATION_CLASS 7

static INIT_ONCE lookup_once = INIT_ONCE_STATIC_INIT;
static prefetch_fn real_prefetch;
static ws_fn real_query_ws;
static query_object_fn real_query_object;
static query_volume_fn real_query_volume;
static status_to_error_fn real_status_to_error;
static query_section_fn real_query_section;

/* FARPROC to a specific pointer type without -Wcast-function-type noise. */
#define LOOKUP(type, module, name)                                             \
  ((type)(void (*)(void))GetProcAddress(module, name))

static BOOL CALLBACK lookup(PINIT_ONCE once, PVOID param, PVOID *ctx) {
  HMODULE k32 = GetModuleHandleW(L"kernel32.dll");
  HMODULE nt = GetModuleHandleW(L"ntdll.dll");
  (void)once;
  (void)param;
  (void)ctx;
  if (k32) {
    real_prefetch = LOOKUP(prefetch_fn, k32, "PrefetchVirtualMemory");
    real_query_ws = LOOKUP(ws_fn, k32, "K32QueryWorkingSetEx");
  }
  if (nt) {
    real_query_object = LOOKUP(query_object_fn, nt, "NtQueryObject");
    real_query_volume =
        LOOKUP(query_volume_fn, nt, "NtQueryVolumeInformationFile");
    real_status_to_error =
        LOOKUP(status_to_error_fn, nt, "RtlNtStatusToDosError");
    real_query_section = LOOKUP(query_section_fn, nt, "NtQuerySection");
  }
  return TRUE;
}

static void resolve(void) {
  (void)InitOnceExecuteOnce(&lookup_once, lookup, NULL, NULL);
}

static BOOL not_implemented(void) {
  SetLastError(ERROR_CALL_NOT_IMPLEMENTED);
  return FALSE;
}

/* Fail with the Win32 error for an NTSTATUS. */
static BOOL fail_status(LONG status) {
  SetLastError(real_status_to_error ? real_status_to_error(status)
                                    : ERROR_GEN_FAILURE);
  return FALSE;
}

static HANDLE WINAPI sys_CreateFileW(LPCWSTR path, DWORD access, DWORD share,
                                     LPSECURITY_ATTRIBUTES sa,
                                     DWORD disposition, DWORD flags,
                                     HANDLE tmpl) {
  return CreateFileW(path, access, share, sa, disposition, flags, tmpl);
}

static BOOL WINAPI sys_CloseHandle(HANDLE h) { return CloseHandle(h); }

static BOOL WINAPI sys_DeleteFileW(LPCWSTR path) { return DeleteFileW(path); }

static BOOL WINAPI sys_DuplicateHandle(HANDLE from_process, HANDLE h,
                                       HANDLE to_process, LPHANDLE out,
                                       DWORD access, BOOL inherit,
                                       DWORD options) {
  return DuplicateHandle(from_process, h, to_process, out, access, inherit,
                         options);
}

static DWORD WINAPI sys_GetFileType(HANDLE h) { return GetFileType(h); }

static BOOL WINAPI sys_GetFileInformationByHandleEx(
    HANDLE h, FILE_INFO_BY_HANDLE_CLASS cls, LPVOID buf, DWORD size) {
  return GetFileInformationByHandleEx(h, cls, buf, size);
}

static BOOL WINAPI sys_SetFileInformationByHandle(HANDLE h,
                                                  FILE_INFO_BY_HANDLE_CLASS cls,
                                                  LPVOID buf, DWORD size) {
  return SetFileInformationByHandle(h, cls, buf, size);
}

static BOOL WINAPI sys_ReadFile(HANDLE h, LPVOID buf, DWORD n, LPDWORD got,
                                LPOVERLAPPED ov) {
  return ReadFile(h, buf, n, got, ov);
}

static BOOL WINAPI sys_FlushFileBuffers(HANDLE h) {
  return FlushFileBuffers(h);
}

static HANDLE WINAPI sys_CreateFileMappingW(HANDLE h, LPSECURITY_ATTRIBUTES sa,
                                            DWORD protect, DWORD size_high,
                                            DWORD size_low, LPCWSTR name) {
  return CreateFileMappingW(h, sa, protect, size_high, size_low, name);
}

static LPVOID WINAPI sys_MapViewOfFileEx(HANDLE section, DWORD access,
                                         DWORD off_high, DWORD off_low,
                                         SIZE_T len, LPVOID at) {
  return MapViewOfFileEx(section, access, off_high, off_low, len, at);
}

static BOOL WINAPI sys_UnmapViewOfFile(LPCVOID addr) {
  return UnmapViewOfFile(addr);
}

static BOOL WINAPI sys_FlushViewOfFile(LPCVOID addr, SIZE_T len) {
  return FlushViewOfFile(addr, len);
}

static LPVOID WINAPI sys_VirtualAlloc(LPVOID at, SIZE_T len, DWORD type,
                                      DWORD prot) {
  return VirtualAlloc(at, len, type, prot);
}

static BOOL WINAPI sys_VirtualFree(LPVOID addr, SIZE_T len, DWORD type) {
  return VirtualFree(addr, len, type);
}

static BOOL WINAPI sys_VirtualProtect(LPVOID addr, SIZE_T len, DWORD prot,
                                      PDWORD old) {
  return VirtualProtect(addr, len, prot, old);
}

static BOOL WINAPI sys_VirtualLock(LPVOID addr, SIZE_T len) {
  return VirtualLock(addr, len);
}

static BOOL WINAPI sys_VirtualUnlock(LPVOID addr, SIZE_T len) {
  return VirtualUnlock(addr, len);
}

static BOOL WINAPI sys_PrefetchVirtualMemory(HANDLE process, ULONG_PTR n,
                                             mmf__win_range *ranges,
                                             ULONG flags) {
  resolve();
  if (!real_prefetch)
    return not_implemented();
  return real_prefetch(process, n, ranges, flags);
}

static BOOL WINAPI sys_K32QueryWorkingSetEx(HANDLE process, PVOID buf,
                                            DWORD size) {
  resolve();
  if (!real_query_ws)
    return not_implemented();
  return real_query_ws(process, buf, size);
}

static BOOL WINAPI sys_GetHandleAccess(HANDLE h, DWORD *access) {
  object_basic_info info;
  ULONG got = 0;
  LONG st;
  resolve();
  *access = 0;
  if (!real_query_object)
    return not_implemented();
  st = real_query_object(h, OBJECT_BASIC_INFORMATION_CLASS, &info,
                         (ULONG)sizeof info, &got);
  if (st < 0)
    return fail_status(st);
  *access = info.granted_access;
  return TRUE;
}

static BOOL WINAPI sys_GetVolumeFreeBytes(HANDLE h, ULONGLONG *bytes) {
  fs_full_size_info info;
  io_status io;
  LONG st;
  resolve();
  *bytes = 0;
  if (!real_query_volume)
    return not_implemented();
  st = real_query_volume(h, &io, &info, (ULONG)sizeof info,
                         FILE_FS_FULL_SIZE_INFORMATION_CLASS);
  if (st < 0)
    return fail_status(st);
  *bytes = (ULONGLONG)info.caller_available_units.QuadPart *
           info.sectors_per_unit * info.bytes_per_sector;
  return TRUE;
}

static BOOL WINAPI sys_WriteFile(HANDLE h, LPCVOID buf, DWORD n, LPDWORD done,
                                 LPOVERLAPPED ov) {
  return WriteFile(h, buf, n, done, ov);
}

static BOOL WINAPI sys_CreateDirectoryW(LPCWSTR path,
                                        LPSECURITY_ATTRIBUTES sa) {
  return CreateDirectoryW(path, sa);
}

static HANDLE WINAPI sys_FindFirstFileW(LPCWSTR pattern,
                                        LPWIN32_FIND_DATAW data) {
  return FindFirstFileW(pattern, data);
}

static BOOL WINAPI sys_FindNextFileW(HANDLE find, LPWIN32_FIND_DATAW data) {
  return FindNextFileW(find, data);
}

static BOOL WINAPI sys_FindClose(HANDLE find) { return FindClose(find); }

static BOOL WINAPI sys_MoveFileExW(LPCWSTR from, LPCWSTR to, DWORD flags) {
  return MoveFileExW(from, to, flags);
}

static BOOL WINAPI sys_LockFileEx(HANDLE h, DWORD flags, DWORD reserved,
                                  DWORD low, DWORD high, LPOVERLAPPED ov) {
  return LockFileEx(h, flags, reserved, low, high, ov);
}

static BOOL WINAPI
sys_GetFileInformationByHandle(HANDLE h, LPBY_HANDLE_FILE_INFORMATION info) {
  return GetFileInformationByHandle(h, info);
}

static HANDLE WINAPI sys_OpenFileMappingW(DWORD access, BOOL inherit,
                                          LPCWSTR name) {
  return OpenFileMappingW(access, inherit, name);
}

static HANDLE WINAPI sys_CreateSemaphoreW(LPSECURITY_ATTRIBUTES sa,
                                          LONG initial, LONG max,
                                          LPCWSTR name) {
  return CreateSemaphoreW(sa, initial, max, name);
}

static BOOL WINAPI sys_ReleaseSemaphore(HANDLE h, LONG n, LPLONG previous) {
  return ReleaseSemaphore(h, n, previous);
}

static DWORD WINAPI sys_WaitForSingleObject(HANDLE h, DWORD ms) {
  return WaitForSingleObject(h, ms);
}

static BOOL WINAPI sys_GetSectionSize(HANDLE section, ULONGLONG *size) {
  section_basic_info info;
  ULONG got = 0;
  LONG st;
  resolve();
  *size = 0;
  if (!real_query_section)
    return not_implemented();
  st = real_query_section(section, SECTION_BASIC_INFORMATION_CLASS, &info,
                          (ULONG)sizeof info, &got);
  if (st < 0)
    return fail_status(st);
  *size = (ULONGLONG)info.size.QuadPart;
  return TRUE;
}

static HANDLE WINAPI sys_CreateMutexW(LPSECURITY_ATTRIBUTES sa, BOOL owned,
                                      LPCWSTR name) {
  return CreateMutexW(sa, owned, name);
}

static BOOL WINAPI sys_ReleaseMutex(HANDLE h) { return ReleaseMutex(h); }

static BOOL WINAPI sys_UnlockFileEx(HANDLE h, DWORD reserved, DWORD len_low,
                                    DWORD len_high, LPOVERLAPPED ov) {
  return UnlockFileEx(h, reserved, len_low, len_high, ov);
}

static HANDLE WINAPI sys_CreateThread(LPSECURITY_ATTRIBUTES sa, SIZE_T stack,
                                      LPTHREAD_START_ROUTINE fn, LPVOID arg,
                                      DWORD flags, LPDWORD id) {
  return CreateThread(sa, stack, fn, arg, flags, id);
}

/* Designated, so that a new entry is one line wherever it goes. */
#define MMF__SYS_REAL_ENTRIES                                                  \
  {                                                                            \
    .CreateFileW = sys_CreateFileW, .CloseHandle = sys_CloseHandle,            \
    .DuplicateHandle = sys_DuplicateHandle, .GetFileType = sys_GetFileType,    \
    .GetFileInformationByHandleEx = sys_GetFileInformationByHandleEx,          \
    .SetFileInformationByHandle = sys_SetFileInformationByHandle,              \
    .ReadFile = sys_ReadFile, .FlushFileBuffers = sys_FlushFileBuffers,        \
    .CreateFileMappingW = sys_CreateFileMappingW,                              \
    .MapViewOfFileEx = sys_MapViewOfFileEx,                                    \
    .UnmapViewOfFile = sys_UnmapViewOfFile,                                    \
    .FlushViewOfFile = sys_FlushViewOfFile, .VirtualAlloc = sys_VirtualAlloc,  \
    .VirtualFree = sys_VirtualFree, .VirtualProtect = sys_VirtualProtect,      \
    .VirtualLock = sys_VirtualLock, .VirtualUnlock = sys_VirtualUnlock,        \
    .PrefetchVirtualMemory = sys_PrefetchVirtualMemory,                        \
    .K32QueryWorkingSetEx = sys_K32QueryWorkingSetEx,                          \
    .GetHandleAccess = sys_GetHandleAccess,                                    \
    .GetVolumeFreeBytes = sys_GetVolumeFreeBytes,                              \
    .DeleteFileW = sys_DeleteFileW,                                            \
    .GetFileInformationByHandle = sys_GetFileInformationByHandle,              \
    .OpenFileMappingW = sys_OpenFileMappingW,                                  \
    .CreateSemaphoreW = sys_CreateSemaphoreW,                                  \
    .ReleaseSemaphore = sys_ReleaseSemaphore,                                  \
    .WaitForSingleObject = sys_WaitForSingleObject,                            \
    .WriteFile = sys_WriteFile, .CreateDirectoryW = sys_CreateDirectoryW,      \
    .FindFirstFileW = sys_FindFirstFileW, .FindNextFileW = sys_FindNextFileW,  \
    .FindClose = sys_FindClose, .MoveFileExW = sys_MoveFileExW,                \
    .LockFileEx = sys_LockFileEx, .CreateMutexW = sys_CreateMutexW,            \
    .ReleaseMutex = sys_ReleaseMutex, .UnlockFileEx = sys_UnlockFileEx,        \
    .GetSectionSize = sys_GetSectionSize, .CreateThread = sys_CreateThread,    \
  }

const mmf__syscalls mmf__sys_real = MMF__SYS_REAL_ENTRIES;

mmf__syscalls mmf__sys = MMF__SYS_REAL_ENTRIES;
