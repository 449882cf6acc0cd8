/*
 * dir_win.c - directories for the log: make, list, sync; rename files.
 */
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "os/alloc.h"
#include "os/win/util_win.h"

int mmf__os_mkdir(const char *path, int *created, int *oserr) {
  wchar_t *w;
  DWORD e, attrs;
  int rc = mmf__win_wide_path(path, &w, oserr);
  *created = 0;
  if (rc)
    return rc;
  if (mmf__sys.CreateDirectoryW(w, NULL)) {
    mmf__alloc.free(w);
    *created = 1;
    return 0;
  }
  e = GetLastError();
  attrs = GetFileAttributesW(w);
  mmf__alloc.free(w);
  if (e != ERROR_ALREADY_EXISTS)
    return mmf__win_fail(oserr, e);
  /* Something exists there: only a directory is a log. */
  if (attrs != INVALID_FILE_ATTRIBUTES && (attrs & FILE_ATTRIBUTE_DIRECTORY))
    return 0;
  if (oserr)
    *oserr = (int)ERROR_DIRECTORY;
  return MMF_ENOTDIR;
}

/* UTF-16 to UTF-8, malloc'd; NULL when out of memory or not convertible. */
static char *narrow(const wchar_t *w) {
  int n = WideCharToMultiByte(CP_UTF8, 0, w, -1, NULL, 0, NULL, NULL);
  char *s;
  if (n <= 0)
    return NULL;
  s = mmf__alloc.malloc((size_t)n);
  if (s && WideCharToMultiByte(CP_UTF8, 0, w, -1, s, n, NULL, NULL) != n) {
    mmf__alloc.free(s);
    s = NULL;
  }
  return s;
}

int mmf__os_list_dir(const char *path, int (*fn)(void *ctx, const char *name),
                     void *ctx, int *oserr) {
  size_t n = strlen(path);
  char *pattern = mmf__alloc.malloc(n + 3);
  wchar_t *w;
  WIN32_FIND_DATAW fd;
  HANDLE h;
  int rc;
  DWORD e;
  if (!pattern)
    return mmf__win_fail(oserr, ERROR_NOT_ENOUGH_MEMORY);
  memcpy(pattern, path, n);
  memcpy(pattern + n, "\\*", 3);
  rc = mmf__win_wide_path(pattern, &w, oserr);
  mmf__alloc.free(pattern);
  if (rc)
    return rc;
  h = mmf__sys.FindFirstFileW(w, &fd);
  e = GetLastError();
  mmf__alloc.free(w);
  if (h == INVALID_HANDLE_VALUE) {
    /* An existing empty directory has at least "." and ".."; a path
     * through a file is ERROR_DIRECTORY or PATH_NOT_FOUND. */
    if (e == ERROR_DIRECTORY)
      return (void)mmf__win_fail(oserr, e), MMF_ENOTDIR;
    return mmf__win_fail(oserr, e);
  }
  rc = 0;
  do {
    char *name;
    if (wcscmp(fd.cFileName, L".") == 0 || wcscmp(fd.cFileName, L"..") == 0)
      continue;
    name = narrow(fd.cFileName);
    if (!name) {
      rc = MMF_ENOMEM;
      break;
    }
    rc = fn(ctx, name);
    mmf__alloc.free(name);
    if (rc)
      break;
  } while (mmf__sys.FindNextFileW(h, &fd));
  if (!rc && GetLastError() != ERROR_NO_MORE_FILES)
    rc = mmf__win_fail_last(oserr);
  mmf__sys.FindClose(h);
  return rc;
}

int mmf__os_rename(const char *from, const char *to, int *oserr) {
  wchar_t *wf, *wt;
  int rc = mmf__win_wide_path(from, &wf, oserr);
  if (rc)
    return rc;
  rc = mmf__win_wide_path(to, &wt, oserr);
  if (rc) {
    mmf__alloc.free(wf);
    return rc;
  }
  /* WRITE_THROUGH: the rename is on disk when the call returns, which is
   * what a POSIX rename plus fsync of the directory gives. */
  if (!mmf__sys.MoveFileExW(wf, wt,
                            MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH))
    rc = mmf__win_fail_last(oserr);
  mmf__alloc.free(wf);
  mmf__alloc.free(wt);
  return rc;
}

int mmf__os_sync_dir(const char *path, int *oserr) {
  /* NTFS journals directory changes, and Windows cannot flush a directory
   * handle; the renames above are written through. */
  (void)path;
  (void)oserr;
  return 0;
}
