/*
 * util_win.h - small helpers shared by the Windows backend files.
 */
#ifndef MMF_UTIL_WIN_H
#define MMF_UTIL_WIN_H

#include "os/os.h"
#include "os/win/sys_win.h"

/* Mappings of 2 MiB or more are placed congruent to their file offset
 * modulo MMF__HUGE_ALIGN (os.h; see map_win.c). */
#define MMF__WIN_HUGE_ALIGN ((size_t)MMF__HUGE_ALIGN)

/* Store the Win32 error e in *oserr and return its MMF_E* code. */
static inline int mmf__win_fail(int *oserr, DWORD e) {
  if (oserr)
    *oserr = (int)e;
  return mmf__os_error((int)e);
}

/* The same for the calling thread's last error. */
static inline int mmf__win_fail_last(int *oserr) {
  return mmf__win_fail(oserr, GetLastError());
}

/* The file's size and whether it is a directory. GetFileInformationByHandle
 * would give these too, but it also asks the volume for its serial number,
 * which Wine cannot answer for a standard handle the host redirected from
 * a file (ERROR_INVALID_HANDLE); this class asks the file alone. */
static inline BOOL mmf__win_standard_info(HANDLE h, FILE_STANDARD_INFO *st) {
  return mmf__sys.GetFileInformationByHandleEx(h, FileStandardInfo, st,
                                               sizeof *st);
}

/* Times and attributes, for the same reason through the same call. */
static inline BOOL mmf__win_basic_info(HANDLE h, FILE_BASIC_INFO *bi) {
  return mmf__sys.GetFileInformationByHandleEx(h, FileBasicInfo, bi,
                                               sizeof *bi);
}

/* UTF-8 to a UTF-16 path CreateFileW accepts (\\?\ prefixed when long),
 * malloc'd into *out (file_win.c). Invalid UTF-8 is MMF_EINVAL. */
int mmf__win_wide_path(const char *path, wchar_t **out, int *oserr);

static inline size_t mmf__win_page_round(size_t n) {
  size_t ps = mmf__os_page_size();
  return (n + ps - 1) & ~(ps - 1);
}

#endif /* MMF_UTIL_WIN_H */
