/*
 * name_win.c - naming kernel objects after the region and offset of
 * shared bytes.
 *
 * Windows has no wait on an address that crosses processes, and no lock
 * word the kernel cleans up when its owner dies. Named objects have both,
 * and every process that maps the same bytes must arrive at the same
 * name, whatever path or view it used: so the name is built from what
 * identifies the region itself, never from an address or a path.
 */
#include <stdio.h>

#include "os/win/name_win.h"

int mmf__win_object_name(const mmf__place *p, const char *what,
                         const char *suffix, wchar_t *buf, int *oserr) {
  char name[MMF__WIN_NAME_MAX];
  BY_HANDLE_FILE_INFORMATION info;
  int n, i;
  if (p->shm_name) {
    n = snprintf(name, sizeof name, "Local\\mmf-%s-s.%s-%llx%s", what,
                 p->shm_name, (unsigned long long)p->offset, suffix);
  } else if (p->file.h != MMF__NO_FILE) {
    if (!mmf__sys.GetFileInformationByHandle((HANDLE)p->file.h, &info))
      return mmf__win_fail_last(oserr);
    n = snprintf(name, sizeof name, "Local\\mmf-%s-f.%lx.%lx%08lx-%llx%s", what,
                 (unsigned long)info.dwVolumeSerialNumber,
                 (unsigned long)info.nFileIndexHigh,
                 (unsigned long)info.nFileIndexLow,
                 (unsigned long long)p->offset, suffix);
  } else {
    n = snprintf(name, sizeof name, "Local\\mmf-%s-a.%lu.%llx%s", what,
                 (unsigned long)GetCurrentProcessId(),
                 (unsigned long long)(uintptr_t)p->addr, suffix);
  }
  if (n < 0 || n >= (int)sizeof name)
    return mmf__win_fail(oserr, ERROR_FILENAME_EXCED_RANGE);
  /* Every character is ASCII: shared-memory names are checked. */
  for (i = 0; i <= n; i++)
    buf[i] = (wchar_t)(unsigned char)name[i];
  return 0;
}
