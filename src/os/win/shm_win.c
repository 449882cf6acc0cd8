/*
 * shm_win.c - named shared memory as a named section.
 *
 * A region is a section backed by the paging file, named "Local\NAME" (the
 * session namespace: no privilege needed, and programs of the same session
 * that use CreateFileMapping with that name share it). Its memory is
 * committed when it is made, so it never faults for lack of space later.
 * Its name lives while any handle of it is open (a view alone keeps the
 * memory, not the name), so each map keeps its handle: there is no
 * unlink, the region ends with its last map.
 *
 * Exact sizes. Windows can tell the size a section was made with
 * (NtQuerySection), but not every implementation keeps it exact: Wine
 * reports it rounded up to the page. So a region is made a little longer,
 * to a whole number of pages with room for a 16-byte trailer at its very
 * end: the exact size and a magic number. Whoever opens it reads the
 * trailer at the end of the (page-aligned, so exactly reported) section.
 * A section made by another program has no trailer: its reported size is
 * taken. A trailer still zero is a region being made this instant (the
 * trailer is written just after the section is created): it is read
 * again for up to 100 ms, then the reported size is taken.
 */
#include <stdio.h>

#include "os/win/util_win.h"

/* "Local\" + up to 200 checked bytes + NUL. */
#define SHM_NAME_MAX 220
#define TRAILER 16
#define MAGIC 0x6d6d662d73686d31ull /* "mmf-shm1" */
#define ZERO_LOOKS 100

static void section_name(const char *name, wchar_t *buf) {
  char n[SHM_NAME_MAX];
  int i, len = snprintf(n, sizeof n, "Local\\%s", name);
  for (i = 0; i <= len; i++) /* the name is ASCII: checked by the core */
    buf[i] = (wchar_t)(unsigned char)n[i];
}

/* Map the last TRAILER bytes of a section of total bytes: *view is the
 * view to unmap, the result points at the trailer. */
static uint64_t *trailer_view(HANDLE h, uint64_t total, int write, void **view,
                              int *oserr, int *rc) {
  uint64_t gran = mmf__os_granularity();
  uint64_t at = (total - TRAILER) / gran * gran;
  unsigned char *p = mmf__sys.MapViewOfFileEx(
      h, write ? FILE_MAP_READ | FILE_MAP_WRITE : FILE_MAP_READ,
      (DWORD)(at >> 32), (DWORD)at, (SIZE_T)(total - at), NULL);
  *view = p;
  *rc = p ? 0 : mmf__win_fail_last(oserr);
  return p ? (uint64_t *)(p + (total - TRAILER - at)) : NULL;
}

/* The region's size: the trailer's, or the section's own. */
static int region_size_of(HANDLE h, uint64_t *size, int *oserr) {
  ULONGLONG total;
  uint64_t *t;
  void *view;
  int rc, looks;
  if (!mmf__sys.GetSectionSize(h, &total))
    return mmf__win_fail_last(oserr);
  *size = total;
  if (total < TRAILER || total % mmf__os_page_size() != 0)
    return 0;
  for (looks = 0; looks <= ZERO_LOOKS; looks++) {
    t = trailer_view(h, total, 0, &view, oserr, &rc);
    if (rc)
      return rc;
    uint64_t exact = t[0], magic = t[1];
    (void)mmf__sys.UnmapViewOfFile(view);
    if (magic == MAGIC && exact <= total - TRAILER) {
      *size = exact;
      return 0;
    }
    if (magic != 0 || exact != 0)
      return 0; /* not one of ours */
    Sleep(1);
  }
  return 0;
}

int mmf__os_shm_is_file(void) { return 0; }

int mmf__os_shm_open(const char *name, int writable, int create, int exclusive,
                     uint64_t size, mmf__file *f, uint64_t *region_size,
                     int *created, int *oserr) {
  wchar_t wname[SHM_NAME_MAX];
  uint64_t ps = mmf__os_page_size(), total, *t;
  void *view;
  HANDLE h;
  DWORD e;
  int rc;
  f->h = MMF__NO_FILE;
  *region_size = 0;
  *created = 0;
  section_name(name, wname);
  if (create) {
    if (size > UINT64_MAX - TRAILER - ps)
      return mmf__win_fail(oserr, ERROR_ARITHMETIC_OVERFLOW);
    total = (size + TRAILER + ps - 1) / ps * ps;
    h = mmf__sys.CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE,
                                    (DWORD)(total >> 32), (DWORD)total, wname);
    if (!h)
      return mmf__win_fail_last(oserr);
    e = GetLastError();
    if (e != ERROR_ALREADY_EXISTS) {
      t = trailer_view(h, total, 1, &view, oserr, &rc);
      if (rc) {
        (void)mmf__sys.CloseHandle(h);
        return rc;
      }
      t[0] = size;
      t[1] = MAGIC;
      (void)mmf__sys.UnmapViewOfFile(view);
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
    /* SECTION_QUERY: to ask its size (NtQuerySection). */
    h = mmf__sys.OpenFileMappingW(
        (writable ? FILE_MAP_READ | FILE_MAP_WRITE : FILE_MAP_READ) |
            SECTION_QUERY,
        FALSE, wname);
    if (!h)
      return mmf__win_fail_last(oserr);
  }
  rc = region_size_of(h, region_size, oserr);
  if (rc) {
    (void)mmf__sys.CloseHandle(h);
    return rc;
  }
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
