/*
 * shm_win.c - named shared memory as a named section.
 *
 * A region is a section backed by the paging file, named "Local\NAME" (the
 * session namespace: no privilege needed, and programs of the same session
 * that use CreateFileMapping with that name share it). Its memory is
 * committed when it is made, so it never faults for lack of space later.
 * It lives while any handle or view of it exists: there is no unlink.
 *
 * Sizes are exact: a new section has the size asked for, and an existing
 * one is asked for the size it was made with (NtQuerySection), which is
 * what it reports, not the size rounded to pages that a view would show.
 */
#include <stdio.h>

#include "os/win/util_win.h"

/* "Local\" + up to 200 checked bytes + NUL. */
#define SHM_NAME_MAX 220

static void section_name(const char *name, wchar_t *buf) {
  char n[SHM_NAME_MAX];
  int i, len = snprintf(n, sizeof n, "Local\\%s", name);
  for (i = 0; i <= len; i++) /* the name is ASCII: checked by the core */
    buf[i] = (wchar_t)(unsigned char)n[i];
}

int mmf__os_shm_is_file(void) { return 0; }

int mmf__os_shm_open(const char *name, int writable, int create, int exclusive,
                     uint64_t size, mmf__file *f, uint64_t *region_size,
                     int *created, int *oserr) {
  wchar_t wname[SHM_NAME_MAX];
  ULONGLONG have;
  HANDLE h;
  DWORD e;
  int rc;
  f->h = MMF__NO_FILE;
  *region_size = 0;
  *created = 0;
  section_name(name, wname);
  if (create) {
    h = mmf__sys.CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE,
                                    (DWORD)(size >> 32), (DWORD)size, wname);
    if (!h)
      return mmf__win_fail_last(oserr);
    e = GetLastError();
    if (e != ERROR_ALREADY_EXISTS) {
      *created = 1;
      *region_size = size;
      f->h = (intptr_t)h;
      return 0;
    }
    if (exclusive) {
      (void)mmf__sys.CloseHandle(h);
      return mmf__win_fail(oserr, ERROR_ALREADY_EXISTS);
    }
  } else {
    h = mmf__sys.OpenFileMappingW(writable ? FILE_MAP_READ | FILE_MAP_WRITE
                                           : FILE_MAP_READ,
                                  FALSE, wname);
    if (!h)
      return mmf__win_fail_last(oserr);
  }
  if (!mmf__sys.GetSectionSize(h, &have)) {
    rc = mmf__win_fail_last(oserr);
    (void)mmf__sys.CloseHandle(h);
    return rc;
  }
  *region_size = have;
  f->h = (intptr_t)h;
  return 0;
}

int mmf__os_map_section(mmf__file f, int access, uint64_t off, size_t len,
                        unsigned flags, void **addr, int *oserr) {
  DWORD va = access == MMF__MAP_READ    ? FILE_MAP_READ
             : access == MMF__MAP_WRITE ? FILE_MAP_READ | FILE_MAP_WRITE
                                        : FILE_MAP_COPY;
  size_t i, ps = mmf__os_page_size();
  void *p = mmf__sys.MapViewOfFileEx((HANDLE)f.h, va, (DWORD)(off >> 32),
                                     (DWORD)off, len, NULL);
  *addr = NULL;
  if (!p)
    return mmf__win_fail_last(oserr);
  /* Committed memory: touching it cannot fail. */
  if (flags & MMF_POPULATE)
    for (i = 0; i < len; i += ps)
      (void)((volatile unsigned char *)p)[i];
  *addr = p;
  return 0;
}

int mmf__os_shm_unlink(const char *name, int *oserr) {
  wchar_t wname[SHM_NAME_MAX];
  HANDLE h;
  section_name(name, wname);
  h = mmf__sys.OpenFileMappingW(FILE_MAP_READ, FALSE, wname);
  if (!h)
    return mmf__win_fail_last(oserr);
  (void)mmf__sys.CloseHandle(h);
  return 0;
}
