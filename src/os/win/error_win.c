/*
 * error_win.c - Win32 error codes (GetLastError) to portable MMF_E* codes.
 *
 * Several Win32 codes mean one POSIX condition; where Windows has no code
 * for a condition (a directory opened as a file is ERROR_ACCESS_DENIED),
 * the backend recognises the case where it happens and returns the
 * portable code itself.
 */
#include "os/win/util_win.h"

/* Not in every mingw-w64 winerror.h. */
#ifndef ERROR_DISK_QUOTA_EXCEEDED
#define ERROR_DISK_QUOTA_EXCEEDED 1295L
#endif

int mmf__os_error(int oserr) {
  switch ((DWORD)oserr) {
  case ERROR_INVALID_PARAMETER:
  case ERROR_INVALID_HANDLE:
  case ERROR_INVALID_ADDRESS:
  case ERROR_NOACCESS: /* a bad buffer: EFAULT */
  case ERROR_INVALID_NAME:
  case ERROR_NO_UNICODE_TRANSLATION:
  case ERROR_NEGATIVE_SEEK:
  case ERROR_MAPPED_ALIGNMENT:
  case ERROR_NOT_LOCKED:
  case ERROR_INVALID_FLAGS:
    return MMF_EINVAL;
  case ERROR_FILE_NOT_FOUND:
  case ERROR_PATH_NOT_FOUND:
  case ERROR_INVALID_DRIVE:
  case ERROR_BAD_NETPATH:
  case ERROR_BAD_NET_NAME:
  case ERROR_BAD_PATHNAME:
  case ERROR_DEV_NOT_EXIST:
    return MMF_ENOENT;
  case ERROR_ACCESS_DENIED:
  case ERROR_PRIVILEGE_NOT_HELD:
  case ERROR_CANT_ACCESS_FILE:
    return MMF_EACCES;
  case ERROR_FILE_INVALID: /* a file no section can be made of */
  case ERROR_BAD_EXE_FORMAT:
    return MMF_ENODEV;
  case ERROR_ARITHMETIC_OVERFLOW:
    return MMF_EOVERFLOW;
  case ERROR_NOT_ENOUGH_MEMORY:
  case ERROR_OUTOFMEMORY:
  case ERROR_COMMITMENT_LIMIT:
  case ERROR_NO_SYSTEM_RESOURCES:
  case ERROR_NOT_ENOUGH_QUOTA:
  case ERROR_WORKING_SET_QUOTA:
  case ERROR_PAGEFILE_QUOTA:
    return MMF_ENOMEM;
  case ERROR_DISK_FULL:
  case ERROR_HANDLE_DISK_FULL:
  case ERROR_DISK_QUOTA_EXCEEDED:
    return MMF_ENOSPC;
  case ERROR_FILE_TOO_LARGE:
    return MMF_EFBIG;
  case ERROR_CRC:
  case ERROR_READ_FAULT:
  case ERROR_WRITE_FAULT:
  case ERROR_GEN_FAILURE:
  case ERROR_IO_DEVICE:
  case ERROR_SECTOR_NOT_FOUND:
  case ERROR_SEEK:
  case ERROR_NOT_READY:
  case ERROR_SWAPERROR:
  case ERROR_DEVICE_NOT_CONNECTED:
  case ERROR_BROKEN_PIPE:
    return MMF_EIO;
  case ERROR_USER_MAPPED_FILE: /* shrinking a file that has a live view */
  case ERROR_SHARING_VIOLATION:
  case ERROR_BUSY:
  case ERROR_PIPE_BUSY:
    return MMF_EBUSY;
  case ERROR_LOCK_VIOLATION:
  case ERROR_NO_DATA: /* non-blocking pipe with nothing in it */
    return MMF_EAGAIN;
  case ERROR_NOT_SUPPORTED:
  case ERROR_CALL_NOT_IMPLEMENTED:
  case ERROR_INVALID_FUNCTION:
    return MMF_ENOTSUP;
  case ERROR_WRITE_PROTECT:
    return MMF_EROFS;
  case ERROR_FILE_EXISTS:
  case ERROR_ALREADY_EXISTS:
    return MMF_EEXIST;
  case ERROR_TOO_MANY_OPEN_FILES:
    return MMF_EMFILE;
  case ERROR_FILENAME_EXCED_RANGE:
  case ERROR_BUFFER_OVERFLOW:
    return MMF_ENAMETOOLONG;
  case ERROR_DIRECTORY: /* STATUS_NOT_A_DIRECTORY */
    return MMF_ENOTDIR;
  case ERROR_CANT_RESOLVE_FILENAME: /* too many reparse points */
    return MMF_ELOOP;
  case ERROR_TIMEOUT:
  case WAIT_TIMEOUT:
    return MMF_ETIMEDOUT;
  default:
    return MMF_EUNKNOWN;
  }
}
