/*
 * map_win.c - creating, moving and removing mappings on Windows.
 *
 * A file map is a view of a section: CreateFileMappingW (sized 0, that is
 * to the file's current size, so it never grows the file), then
 * MapViewOfFileEx at an offset that is a multiple of the 64 KiB allocation
 * granularity. The section handle is closed at once; the view keeps the
 * section alive, so a map holds only its file handle.
 *
 * Anonymous memory is VirtualAlloc'd private memory rather than a
 * pagefile-backed section. Windows has no fork(), so MMF_SHARED has no
 * second process to share with, and private memory can be shrunk in place
 * (decommit), grown back within its reservation, and dropped to zeros
 * (mmf__os_advise DONTNEED), none of which a section view allows.
 *
 * Placement: maps of 2 MiB or more are placed at an address congruent to
 * the file offset modulo 2 MiB, as on POSIX (see map_posix.c), so the
 * same invariant holds everywhere. Windows cannot map a view inside a
 * reservation (before Windows 10's placeholders), so the address is found
 * by reserving len + 2 MiB, releasing it, and mapping at the congruent
 * address inside; if another thread takes the range in between, try again
 * a few times, then take any address.
 */
#include <string.h>

#include "os/win/util_win.h"
#include "os/guard.h"

#define PLACEMENT_TRIES 4

static DWORD section_protect(int access) {
  return access == MMF__MAP_READ    ? PAGE_READONLY
         : access == MMF__MAP_WRITE ? PAGE_READWRITE
                                    : PAGE_WRITECOPY;
}

static DWORD view_access(int access) {
  return access == MMF__MAP_READ    ? FILE_MAP_READ
         : access == MMF__MAP_WRITE ? FILE_MAP_READ | FILE_MAP_WRITE
                                    : FILE_MAP_COPY;
}

/* A free address for len bytes congruent to off modulo 2 MiB, or NULL
 * when the map is small or no such range is free. */
static void *placement(size_t len, uint64_t off) {
  size_t total = len + MMF__WIN_HUGE_ALIGN;
  unsigned char *r;
  size_t delta;
  if (len < MMF__WIN_HUGE_ALIGN || total < len)
    return NULL;
  r = mmf__sys.VirtualAlloc(NULL, total, MEM_RESERVE, PAGE_NOACCESS);
  if (!r)
    return NULL;
  delta = (size_t)((off - (uintptr_t)r) & (MMF__WIN_HUGE_ALIGN - 1));
  (void)mmf__sys.VirtualFree(r, 0, MEM_RELEASE);
  return r + delta;
}

static int map_view(HANDLE section, int access, uint64_t off, size_t len,
                    void **addr, int *oserr) {
  DWORD va = view_access(access), hi = (DWORD)(off >> 32),
        lo = (DWORD)(off & 0xffffffffu), e;
  void *at, *p;
  int i;
  for (i = 0; i < PLACEMENT_TRIES; i++) {
    at = placement(len, off);
    if (!at)
      break;
    p = mmf__sys.MapViewOfFileEx(section, va, hi, lo, len, at);
    if (p) {
      *addr = p;
      return 0;
    }
    e = GetLastError();
    if (e != ERROR_INVALID_ADDRESS) /* not a lost race: a real failure */
      return mmf__win_fail(oserr, e);
  }
  p = mmf__sys.MapViewOfFileEx(section, va, hi, lo, len, NULL);
  if (!p)
    return mmf__win_fail_last(oserr);
  *addr = p;
  return 0;
}

/* Touch one byte of every page of [addr, addr+len) under the fault guard,
 * so the pages are read in and enter the working set. A page that cannot
 * be provided (an I/O error, a file cut short) ends the touching quietly:
 * MMF_POPULATE is a request to read ahead, and the fault shows up again,
 * reported, when the page is used. */
static void touch_pages(const void *addr, size_t len) {
  mmf__guard_frame fr;
  mmf__fault fault;
  const volatile unsigned char *p = addr;
  size_t ps = mmf__os_page_size();
  volatile size_t i = 0;
  if (len == 0 || mmf__guard_prepare(&fr, &fault, addr, len) != 0)
    return;
  if (MMF__SETJMP(fr.jump) == 0) {
    mmf__guard_enter(&fr);
    for (i = 0; i < len; i += ps)
      (void)p[i];
    (void)p[len - 1];
  }
  mmf__guard_leave(&fr);
}

/* Bring [addr, addr+len) into memory (MMF_POPULATE):
 * PrefetchVirtualMemory (Windows 8 and later) reads the pages into the
 * cache in large requests; touching them then maps them into this
 * process's working set, which is what mmf_resident() counts, and is the
 * whole job where PrefetchVirtualMemory is missing or fails. */
static void populate(void *addr, size_t len) {
  mmf__win_range r;
  r.start = addr;
  r.len = len;
  (void)mmf__sys.PrefetchVirtualMemory(GetCurrentProcess(), 1, &r, 0);
  touch_pages(addr, len);
}

/* Whether the file now ends before off + len. The core maps only ranges it
 * has just found inside the file, so this means the file was cut since it
 * looked. POSIX maps such a range anyway and the cut shows as a fault when
 * the pages are touched; Windows refuses the section or the view instead,
 * with codes that would read as a bad argument or a permission problem. */
static int ends_before(mmf__file f, uint64_t off, size_t len) {
  FILE_STANDARD_INFO st;
  uint64_t size;
  if (!mmf__win_standard_info((HANDLE)f.h, &st))
    return 0;
  size = (uint64_t)st.EndOfFile.QuadPart;
  return off > size || len > size - off;
}

/* A section or view of [off, off + len) of f failed with e: MMF_ERANGE when
 * the file no longer holds the range (what the core answers for a range
 * past the end; the cursor and the scans, which measured the file before,
 * report it as MMF_ETRUNCATED), else e translated. *oserr is e either way. */
static int map_failed(mmf__file f, uint64_t off, size_t len, DWORD e,
                      int *oserr) {
  if (ends_before(f, off, len)) {
    if (oserr)
      *oserr = (int)e;
    return MMF_ERANGE;
  }
  return mmf__win_fail(oserr, e);
}

/* A view that does not fit in its section: ERROR_ACCESS_DENIED when it is
 * longer than the section, ERROR_INVALID_PARAMETER when it starts at or
 * past the section's end. */
static int view_past_section(DWORD e) {
  return e == ERROR_ACCESS_DENIED || e == ERROR_INVALID_PARAMETER;
}

/* Times a section is made again when it came out shorter than a file that
 * holds the range (see mmf__os_map_file). */
#define SECTION_TRIES 4

int mmf__os_map_file(mmf__file f, int access, uint64_t off, size_t len,
                     unsigned flags, void **addr, int *oserr) {
  HANDLE section;
  DWORD e;
  int rc, tries, view_err;
  *addr = NULL;
  if (off > (uint64_t)INT64_MAX)
    return mmf__win_fail(oserr, ERROR_ARITHMETIC_OVERFLOW);
  for (tries = 1;; tries++) {
    section = mmf__sys.CreateFileMappingW((HANDLE)f.h, NULL,
                                          section_protect(access), 0, 0, NULL);
    if (!section) {
      e = GetLastError();
      /* Devices and other handles no section can be made of: the core
       * reads them instead (MMF_ENODEV). */
      if (e == ERROR_INVALID_FUNCTION || e == ERROR_NOT_SUPPORTED) {
        if (oserr)
          *oserr = (int)e;
        return MMF_ENODEV;
      }
      return map_failed(f, off, len, e, oserr);
    }
    view_err = 0;
    rc = map_view(section, access, off, len, addr, &view_err);
    (void)mmf__sys.CloseHandle(section);
    if (rc == 0)
      break;
    e = (DWORD)view_err;
    /* The section is as long as the file was when it was made. A view
     * that does not fit in it, of a file that holds the range again, means
     * the file was cut and grown back in between: make the section again
     * (POSIX, which maps past the end, would have succeeded). */
    if (tries == SECTION_TRIES || !view_past_section(e))
      return map_failed(f, off, len, e, oserr);
    if (ends_before(f, off, len)) {
      if (oserr)
        *oserr = (int)e;
      return MMF_ERANGE;
    }
  }
  if (flags & MMF_POPULATE)
    populate(*addr, len);
  return 0;
}

static void *alloc_at(void *at, size_t len) {
  return mmf__sys.VirtualAlloc(at, len, MEM_RESERVE | MEM_COMMIT,
                               PAGE_READWRITE);
}

/* MMF_SHARED: nothing to do, Windows has no fork(). MMF_HUGE: large pages
 * need SeLockMemoryPrivilege and cannot be decommitted or reprotected, so
 * normal pages are used, as the flag allows. */
int mmf__os_map_anon(size_t len, int shared, unsigned flags, void **addr,
                     int *oserr) {
  unsigned char *p = NULL, *at;
  size_t ps = mmf__os_page_size(), i;
  int tries;
  (void)shared;
  *addr = NULL;
  for (tries = 0; tries < PLACEMENT_TRIES && !p; tries++) {
    at = placement(len, 0);
    if (!at)
      break;
    p = alloc_at(at, len);
  }
  if (!p)
    p = alloc_at(NULL, len);
  if (!p)
    return mmf__win_fail_last(oserr);
  if (flags & MMF_POPULATE)
    for (i = 0; i < len; i += ps)
      ((volatile unsigned char *)p)[i] = 0;
  *addr = p;
  return 0;
}

/*
 * A view is unmapped as a whole (Windows cannot unmap part of one), so
 * addr must be where it starts. Private memory is released as a whole from
 * its start; from inside, its pages are decommitted and the addresses stay
 * reserved until the block is released.
 */
int mmf__os_unmap(void *addr, size_t len, int *oserr) {
  MEMORY_BASIC_INFORMATION mbi;
  if (!VirtualQuery(addr, &mbi, sizeof mbi))
    return mmf__win_fail_last(oserr);
  if (mbi.Type == MEM_MAPPED) {
    if (mbi.AllocationBase != addr)
      return mmf__win_fail(oserr, ERROR_INVALID_ADDRESS);
    if (!mmf__sys.UnmapViewOfFile(addr))
      return mmf__win_fail_last(oserr);
    return 0;
  }
  if (mbi.Type == MEM_PRIVATE) {
    if (mbi.AllocationBase == addr) {
      if (!mmf__sys.VirtualFree(addr, 0, MEM_RELEASE))
        return mmf__win_fail_last(oserr);
    } else if (!mmf__sys.VirtualFree(addr, len, MEM_DECOMMIT)) {
      return mmf__win_fail_last(oserr);
    }
    return 0;
  }
  return mmf__win_fail(oserr, ERROR_INVALID_ADDRESS);
}

/* Bytes reserved by the VirtualAlloc block that starts at base. */
static size_t reservation_size(void *base) {
  MEMORY_BASIC_INFORMATION mbi;
  unsigned char *p = base;
  size_t total = 0;
  while (VirtualQuery(p, &mbi, sizeof mbi) && mbi.AllocationBase == base &&
         mbi.State != MEM_FREE) {
    total += mbi.RegionSize;
    p += mbi.RegionSize;
  }
  return total;
}

/* Copy private bytes from an old mapping under the fault guard: a page
 * made inaccessible with mmf_protect, or the file of a MMF_COPY map cut
 * short by someone else, fails the resize instead of the process. */
static int copy_guarded(void *dst, const void *src, size_t n, int *oserr) {
  mmf__guard_frame fr;
  mmf__fault fault;
  if (mmf__guard_prepare(&fr, &fault, src, n) != 0)
    return MMF_ENOMEM;
  if (MMF__SETJMP(fr.jump) == 0) {
    mmf__guard_enter(&fr);
    memcpy(dst, src, n);
    mmf__guard_leave(&fr);
    return 0;
  }
  mmf__guard_leave(&fr);
  if (oserr)
    *oserr = fault.os_code;
  return fault.kind == MMF__FAULT_ACCESS ? MMF_EACCES : MMF_EIO;
}

static int remap_anon(int shared, void *old_addr, size_t old_len,
                      size_t new_len, void **new_addr, int *oserr) {
  unsigned char *old = old_addr;
  size_t old_r = mmf__win_page_round(old_len);
  size_t new_r = mmf__win_page_round(new_len);
  void *p;
  int rc;
  if (new_r <= old_r) {
    /* Shrink in place: the pages go, the addresses stay reserved. */
    if (new_r < old_r &&
        !mmf__sys.VirtualFree(old + new_r, old_r - new_r, MEM_DECOMMIT))
      return mmf__win_fail_last(oserr);
    *new_addr = old;
    return 0;
  }
  if (new_r <= reservation_size(old)) {
    /* Grow back into addresses an earlier shrink kept: new pages are
     * zero. */
    if (!mmf__sys.VirtualAlloc(old + old_r, new_r - old_r, MEM_COMMIT,
                               PAGE_READWRITE))
      return mmf__win_fail_last(oserr);
    *new_addr = old;
    return 0;
  }
  /* A block cannot grow past its reservation: move. */
  rc = mmf__os_map_anon(new_len, shared, 0, &p, oserr);
  if (rc)
    return rc;
  rc = copy_guarded(p, old, old_len, oserr);
  if (rc) {
    (void)mmf__sys.VirtualFree(p, 0, MEM_RELEASE);
    return rc;
  }
  (void)mmf__sys.VirtualFree(old, 0, MEM_RELEASE);
  *new_addr = p;
  return 0;
}

/*
 * A view cannot change size, so a file map always moves: the new view is
 * made first and the old one dropped after, which keeps the old mapping
 * untouched on any failure. (Unmapping first to reuse the address would
 * open a window in which another thread can take the range, losing the
 * mapping; and since the pages stay in the cache and pointers are
 * invalidated anyway, moving costs nothing a caller can see.)
 */
static int remap_file(mmf__file f, int access, uint64_t off, void *old_addr,
                      size_t old_len, size_t new_len, void **new_addr,
                      int *oserr) {
  void *p;
  int rc = mmf__os_map_file(f, access, off, new_len, 0, &p, oserr);
  if (rc)
    return rc;
  if (access == MMF__MAP_COPY) {
    rc =
        copy_guarded(p, old_addr, old_len < new_len ? old_len : new_len, oserr);
    if (rc) {
      (void)mmf__sys.UnmapViewOfFile(p);
      return rc;
    }
  }
  if (!mmf__sys.UnmapViewOfFile(old_addr)) {
    /* The old view stays: drop the new one and report, so the map is left
     * exactly as it was (two views would leak one of them). */
    DWORD e = GetLastError();
    (void)mmf__sys.UnmapViewOfFile(p);
    return mmf__win_fail(oserr, e);
  }
  *new_addr = p;
  return 0;
}

int mmf__os_remap(mmf__file f, int access, int shared, uint64_t off,
                  void *old_addr, size_t old_len, size_t new_len,
                  void **new_addr, int *oserr) {
  *new_addr = NULL;
  if (f.h == MMF__NO_FILE)
    return remap_anon(shared, old_addr, old_len, new_len, new_addr, oserr);
  return remap_file(f, access, off, old_addr, old_len, new_len, new_addr,
                    oserr);
}
