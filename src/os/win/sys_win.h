/*
 * sys_win.h - the table every Windows call of the backend goes through.
 *
 * Tests replace entries to make the N-th call fail on purpose (set the
 * error with SetLastError and return the failure value), so each error
 * path is exercised rather than hoped for. The names and the roles match
 * src/os/posix/sys_posix.h: mmf__sys is the live table, mmf__sys_real the
 * real calls to restore from. Members carry the Win32 function names.
 * The table is internal: it is not exported from the DLL; tests link the
 * static library.
 *
 * The fault guard (guard_win.c) does not go through the table: breaking it
 * would turn a test failure into a crash.
 */
#ifndef MMF_SYS_WIN_H
#define MMF_SYS_WIN_H

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>

/* WIN32_MEMORY_RANGE_ENTRY, declared here so that the backend builds with
 * any _WIN32_WINNT (PrefetchVirtualMemory is Windows 8 and later). */
typedef struct mmf__win_range {
  void *start;
  SIZE_T len;
} mmf__win_range;

/* PSAPI_WORKING_SET_EX_INFORMATION: bit 0 of attributes is "Valid" (the
 * page is in the process's working set). */
typedef struct mmf__win_ws_info {
  void *addr;
  ULONG_PTR attributes;
} mmf__win_ws_info;

typedef struct mmf__syscalls {
  HANDLE(WINAPI *CreateFileW)
  (LPCWSTR path, DWORD access, DWORD share, LPSECURITY_ATTRIBUTES sa,
   DWORD disposition, DWORD flags, HANDLE tmpl);
  BOOL(WINAPI *CloseHandle)(HANDLE h);
  BOOL(WINAPI *DuplicateHandle)
  (HANDLE from_process, HANDLE h, HANDLE to_process, LPHANDLE out, DWORD access,
   BOOL inherit, DWORD options);
  DWORD(WINAPI *GetFileType)(HANDLE h);
  BOOL(WINAPI *GetFileInformationByHandleEx)
  (HANDLE h, FILE_INFO_BY_HANDLE_CLASS cls, LPVOID buf, DWORD size);
  BOOL(WINAPI *SetFileInformationByHandle)
  (HANDLE h, FILE_INFO_BY_HANDLE_CLASS cls, LPVOID buf, DWORD size);
  BOOL(WINAPI *ReadFile)
  (HANDLE h, LPVOID buf, DWORD n, LPDWORD got, LPOVERLAPPED ov);
  BOOL(WINAPI *FlushFileBuffers)(HANDLE h);
  HANDLE(WINAPI *CreateFileMappingW)
  (HANDLE h, LPSECURITY_ATTRIBUTES sa, DWORD protect, DWORD size_high,
   DWORD size_low, LPCWSTR name);
  LPVOID(WINAPI *MapViewOfFileEx)
  (HANDLE section, DWORD access, DWORD off_high, DWORD off_low, SIZE_T len,
   LPVOID at);
  BOOL(WINAPI *UnmapViewOfFile)(LPCVOID addr);
  BOOL(WINAPI *FlushViewOfFile)(LPCVOID addr, SIZE_T len);
  LPVOID(WINAPI *VirtualAlloc)(LPVOID at, SIZE_T len, DWORD type, DWORD prot);
  BOOL(WINAPI *VirtualFree)(LPVOID addr, SIZE_T len, DWORD type);
  BOOL(WINAPI *VirtualProtect)
  (LPVOID addr, SIZE_T len, DWORD prot, PDWORD old);
  BOOL(WINAPI *VirtualLock)(LPVOID addr, SIZE_T len);
  BOOL(WINAPI *VirtualUnlock)(LPVOID addr, SIZE_T len);
  /* Looked up at run time; where the system lacks them they fail with
   * ERROR_CALL_NOT_IMPLEMENTED. */
  BOOL(WINAPI *PrefetchVirtualMemory)
  (HANDLE process, ULONG_PTR n, mmf__win_range *ranges, ULONG flags);
  BOOL(WINAPI *K32QueryWorkingSetEx)(HANDLE process, PVOID buf, DWORD size);
  /* ntdll calls reduced to what the backend asks, Win32-style (FALSE and
   * a Win32 error on failure): the access mask a handle was granted
   * (NtQueryObject, ObjectBasicInformation), and the bytes the caller may
   * still allocate on the volume of a file (NtQueryVolumeInformationFile,
   * FileFsFullSizeInformation). */
  BOOL(WINAPI *GetHandleAccess)(HANDLE h, DWORD *access);
  BOOL(WINAPI *GetVolumeFreeBytes)(HANDLE h, ULONGLONG *bytes);
  BOOL(WINAPI *DeleteFileW)(LPCWSTR path);
  /* The log: whole-file writes, directories and the writer lock. */
  BOOL(WINAPI *WriteFile)
  (HANDLE h, LPCVOID buf, DWORD n, LPDWORD done, LPOVERLAPPED ov);
  BOOL(WINAPI *CreateDirectoryW)(LPCWSTR path, LPSECURITY_ATTRIBUTES sa);
  HANDLE(WINAPI *FindFirstFileW)(LPCWSTR pattern, LPWIN32_FIND_DATAW data);
  BOOL(WINAPI *FindNextFileW)(HANDLE find, LPWIN32_FIND_DATAW data);
  BOOL(WINAPI *FindClose)(HANDLE find);
  BOOL(WINAPI *MoveFileExW)(LPCWSTR from, LPCWSTR to, DWORD flags);
  BOOL(WINAPI *LockFileEx)
  (HANDLE h, DWORD flags, DWORD reserved, DWORD low, DWORD high,
   LPOVERLAPPED ov);
  /* Sharing between processes: the identity of a file (volume serial and
   * file index), named sections, semaphores and waits. */
  BOOL(WINAPI *GetFileInformationByHandle)
  (HANDLE h, LPBY_HANDLE_FILE_INFORMATION info);
  HANDLE(WINAPI *OpenFileMappingW)(DWORD access, BOOL inherit, LPCWSTR name);
  HANDLE(WINAPI *CreateSemaphoreW)
  (LPSECURITY_ATTRIBUTES sa, LONG initial, LONG max, LPCWSTR name);
  BOOL(WINAPI *ReleaseSemaphore)(HANDLE h, LONG n, LPLONG previous);
  DWORD(WINAPI *WaitForSingleObject)(HANDLE h, DWORD ms);
  HANDLE(WINAPI *CreateMutexW)
  (LPSECURITY_ATTRIBUTES sa, BOOL owned, LPCWSTR name);
  BOOL(WINAPI *ReleaseMutex)(HANDLE h);
  BOOL(WINAPI *UnlockFileEx)
  (HANDLE h, DWORD reserved, DWORD len_low, DWORD len_high, LPOVERLAPPED ov);
  /* The size a section was made with (NtQuerySection,
   * SectionBasicInformation), Win32-style like the two above. */
  BOOL(WINAPI *GetSectionSize)(HANDLE section, ULONGLONG *size);
  /* The scans' worker threads (joined with WaitForSingleObject). */
  HANDLE(WINAPI *CreateThread)
  (LPSECURITY_ATTRIBUTES sa, SIZE_T stack, LPTHREAD_START_ROUTINE fn,
   LPVOID arg, DWORD flags, LPDWORD id);
} mmf__syscalls;

/* The live table. */
extern mmf__syscalls mmf__sys;
/* The real calls, to restore entries after a test. */
extern const mmf__syscalls mmf__sys_real;

#endif /* MMF_SYS_WIN_H */
