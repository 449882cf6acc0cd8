/*
 * mem_win.c - operations on mapped memory: flush, advice, protection,
 * locking, residency; and the machine's page size and granularity.
 */
#include "os/win/util_win.h"

/* Pages asked of QueryWorkingSetEx per call (16 bytes each, on the
 * stack). */
#define WS_BATCH 256
/* FlushViewOfFile retries while other threads dirty the same pages. */
#define FLUSH_TRIES 20

static size_t page_size_cached, granularity_cached;

static void learn_sizes(void) {
  SYSTEM_INFO si;
  GetSystemInfo(&si);
  /* Idempotent: every thread computes the same values. */
  granularity_cached = si.dwAllocationGranularity;
  page_size_cached = si.dwPageSize;
}

size_t mmf__os_page_size(void) {
  if (!page_size_cached)
    learn_sizes();
  return page_size_cached;
}

/* 64 KiB on every Windows so far: view offsets must be multiples of it. */
size_t mmf__os_granularity(void) {
  if (!granularity_cached)
    learn_sizes();
  return granularity_cached;
}

uint64_t mmf__os_physical_memory(void) {
  MEMORYSTATUSEX ms;
  ms.dwLength = sizeof ms;
  if (!GlobalMemoryStatusEx(&ms))
    return 0;
  return ms.ullTotalPhys;
}

/*
 * FlushViewOfFile writes the dirty pages of the range to the file and
 * waits for those writes, but neither flushes the file's metadata nor the
 * drive's cache: SYNC adds FlushFileBuffers on the file, as Microsoft
 * documents for durability. FULL leaves it to mmf__os_sync_file, which
 * the caller runs next and which is that same call: once is enough.
 *
 * FlushViewOfFile can fail with ERROR_LOCK_VIOLATION while another thread
 * is writing to the same pages; that clears on retry.
 */
int mmf__os_flush(mmf__file f, void *addr, size_t len, int level, int *oserr) {
  DWORD e;
  int tries;
  for (tries = 0;; tries++) {
    if (mmf__sys.FlushViewOfFile(addr, len))
      break;
    e = GetLastError();
    if (e != ERROR_LOCK_VIOLATION || tries == FLUSH_TRIES)
      return mmf__win_fail(oserr, e);
    Sleep(tries < 5 ? 0 : 1);
  }
  if (level == MMF_FLUSH_SYNC && !mmf__sys.FlushFileBuffers((HANDLE)f.h))
    return mmf__win_fail_last(oserr);
  return 0;
}

/* Zero private memory: decommit and commit again, region by region so
 * each keeps its protection. */
static int discard_private(unsigned char *p, size_t len, int *oserr) {
  unsigned char *end = p + len;
  MEMORY_BASIC_INFORMATION mbi;
  size_t n;
  while (p < end) {
    if (!VirtualQuery(p, &mbi, sizeof mbi))
      return mmf__win_fail_last(oserr);
    n = mbi.RegionSize - (size_t)(p - (unsigned char *)mbi.BaseAddress);
    if (n > (size_t)(end - p))
      n = (size_t)(end - p);
    if (mbi.State == MEM_COMMIT) {
      if (!mmf__sys.VirtualFree(p, n, MEM_DECOMMIT))
        return mmf__win_fail_last(oserr);
      if (!mmf__sys.VirtualAlloc(p, n, MEM_COMMIT, mbi.Protect))
        return mmf__win_fail_last(oserr);
    }
    p += n;
  }
  return 0;
}

/*
 * DONTNEED, by kind of memory:
 *  - private memory (anonymous maps, fallback copies): decommitted and
 *    committed again, so it reads back as zeros, like MADV_DONTNEED;
 *  - shared views (MMF_READ, MMF_WRITE): VirtualUnlock of pages that are
 *    not locked removes them from the working set; they stay in the
 *    standby list (dirty ones are written back) and come back from it or
 *    from the file. Pages locked with mmf_lock_memory are unlocked.
 *  - copy-on-write views (MMF_COPY): MMF_ENOTSUP. Windows can drop
 *    private copies only by unmapping the view.
 */
static int dontneed(void *addr, size_t len, int *oserr) {
  MEMORY_BASIC_INFORMATION mbi;
  DWORD e;
  if (!VirtualQuery(addr, &mbi, sizeof mbi))
    return mmf__win_fail_last(oserr);
  if (mbi.Type == MEM_PRIVATE)
    return discard_private(addr, len, oserr);
  if ((mbi.AllocationProtect & 0xff) == PAGE_WRITECOPY)
    return mmf__win_fail(oserr, ERROR_NOT_SUPPORTED);
  if (!mmf__sys.VirtualUnlock(addr, len)) {
    e = GetLastError();
    if (e != ERROR_NOT_LOCKED)
      return mmf__win_fail(oserr, e);
  }
  return 0;
}

/*
 * NORMAL, SEQUENTIAL, RANDOM: no-ops (Windows has no per-range read-ahead
 * hint for mapped views; the cache manager detects sequential access).
 * WILLNEED: PrefetchVirtualMemory, found at run time; a no-op before
 * Windows 8. DONTNEED: see dontneed(). HUGEPAGE: MMF_ENOTSUP (file views
 * cannot use large pages).
 */
int mmf__os_advise(void *addr, size_t len, int advice, int *oserr) {
  mmf__win_range r;
  DWORD e;
  switch (advice) {
  case MMF_ADV_NORMAL:
  case MMF_ADV_SEQUENTIAL:
  case MMF_ADV_RANDOM:
    return 0;
  case MMF_ADV_WILLNEED:
    r.start = addr;
    r.len = len;
    if (mmf__sys.PrefetchVirtualMemory(GetCurrentProcess(), 1, &r, 0))
      return 0;
    e = GetLastError();
    return e == ERROR_CALL_NOT_IMPLEMENTED ? 0 : mmf__win_fail(oserr, e);
  case MMF_ADV_DONTNEED:
    return dontneed(addr, len, oserr);
  default:
    return mmf__win_fail(oserr, ERROR_NOT_SUPPORTED);
  }
}

/* Write access means PAGE_WRITECOPY on a MMF_COPY view (Windows refuses
 * PAGE_READWRITE there) and is refused on a read-only view. */
int mmf__os_protect(void *addr, size_t len, int prot, int *oserr) {
  MEMORY_BASIC_INFORMATION mbi;
  DWORD p, old, view;
  if (!VirtualQuery(addr, &mbi, sizeof mbi))
    return mmf__win_fail_last(oserr);
  view = mbi.Type == MEM_MAPPED ? mbi.AllocationProtect & 0xff : 0;
  if (prot == MMF_PROT_NONE)
    p = PAGE_NOACCESS;
  else if (prot == MMF_PROT_READ)
    p = PAGE_READONLY;
  else if (view == PAGE_WRITECOPY)
    p = PAGE_WRITECOPY;
  else if (view == PAGE_READONLY)
    return mmf__win_fail(oserr, ERROR_ACCESS_DENIED);
  else
    p = PAGE_READWRITE;
  if (!mmf__sys.VirtualProtect(addr, len, p, &old))
    return mmf__win_fail_last(oserr);
  return 0;
}

/* VirtualLock is bounded by the process's minimum working set (a few
 * hundred KiB by default); beyond it, ERROR_WORKING_SET_QUOTA is
 * MMF_ENOMEM. The library does not raise the working set: that is
 * process-wide state for the program to decide
 * (SetProcessWorkingSetSize). */
int mmf__os_lock(void *addr, size_t len, int *oserr) {
  if (!mmf__sys.VirtualLock(addr, len))
    return mmf__win_fail_last(oserr);
  return 0;
}

/* Unlocking pages that are not locked succeeds, as munlock does. */
int mmf__os_unlock(void *addr, size_t len, int *oserr) {
  DWORD e;
  if (mmf__sys.VirtualUnlock(addr, len))
    return 0;
  e = GetLastError();
  return e == ERROR_NOT_LOCKED ? 0 : mmf__win_fail(oserr, e);
}

/* Resident means "in this process's working set" (QueryWorkingSetEx):
 * a file page that sits in the system cache but has not been touched
 * through this view counts as not resident, unlike mincore(). */
int mmf__os_resident(void *addr, size_t len, unsigned char *vec, int *oserr) {
  mmf__win_ws_info ws[WS_BATCH];
  unsigned char *p = addr;
  size_t ps = mmf__os_page_size(), pages = (len + ps - 1) / ps, i = 0, k, n;
  while (i < pages) {
    n = pages - i < WS_BATCH ? pages - i : WS_BATCH;
    for (k = 0; k < n; k++) {
      ws[k].addr = p + (i + k) * ps;
      ws[k].attributes = 0;
    }
    if (!mmf__sys.K32QueryWorkingSetEx(GetCurrentProcess(), ws,
                                       (DWORD)(n * sizeof ws[0])))
      return mmf__win_fail_last(oserr);
    for (k = 0; k < n; k++)
      vec[i + k] = (unsigned char)(ws[k].attributes & 1);
    i += n;
  }
  return 0;
}
