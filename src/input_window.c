/*
 * input_window.c - mapping part of a file: where a window lies and how it
 * is mapped (input.h).
 *
 * Linux maps a 2 MiB page-cache folio with a single page-table entry only
 * when the whole folio lies in the mapping at an address congruent to its
 * file offset. The backend takes care of the congruence; starting windows
 * at 2 MiB-aligned file offsets keeps every folio whole, at the cost of at
 * most 2 MiB of a budget of MMF__HUGE_MIN_BUDGET or more.
 */
#include "input.h"

void mmf__window_span(uint64_t lo, uint64_t hi, uint64_t end, uint64_t size,
                      size_t budget, int prefer_huge, uint64_t *start,
                      size_t *len) {
  uint64_t gran = mmf__os_granularity(), stop;
  uint64_t huge_start = lo - lo % MMF__HUGE_ALIGN;
  *start = lo - lo % gran;
  if (prefer_huge && budget >= MMF__HUGE_MIN_BUDGET &&
      huge_start + budget >= hi)
    *start = huge_start;
  stop = end % MMF__HUGE_ALIGN == 0
             ? end
             : end - end % MMF__HUGE_ALIGN + MMF__HUGE_ALIGN;
  if (stop < end || stop > size) /* rounding up wrapped, or past the file */
    stop = size;
  if (stop - *start > budget)
    stop = *start + budget;
  *len = (size_t)(stop - *start);
}

void mmf__window_drop(mmf_map *win) {
  if (win->base)
    (void)mmf__os_unmap(win->base, win->map_len, NULL);
  win->base = NULL;
  win->data = NULL;
  win->map_len = 0;
  win->size = 0;
  win->offset = 0;
  mmf__guard_follow(win);
}

int mmf__window_map(mmf_map *win, int access, uint64_t start, size_t len,
                    size_t min_len, unsigned flags, int *oserr) {
  size_t gran = mmf__os_granularity(), less;
  void *base;
  int rc;
  mmf__window_drop(win);
  for (;;) {
    rc = mmf__os_map_file(win->file, access, start, len,
                          flags & (MMF_POPULATE | MMF_HUGE), &base, oserr);
    if (rc != MMF_ENOMEM || len / 2 < gran)
      break;
    /* The address space is short (RLIMIT_AS): a smaller window walks the
     * file as well, in more steps. The last try is min_len itself: halving
     * past it would give up on a window that might still fit. */
    less = len / 2 - len / 2 % gran;
    if (less < min_len)
      less = min_len;
    if (less >= len)
      break;
    len = less;
  }
  if (rc)
    return rc;
  win->base = base;
  win->data = base;
  win->map_len = len;
  win->size = len;
  win->offset = start;
  mmf__guard_follow(win);
  /* Hints are best-effort, as for mmf_open. */
  if (flags & MMF_SEQUENTIAL)
    (void)mmf__os_advise(base, len, MMF_ADV_SEQUENTIAL, NULL);
  if (flags & MMF_RANDOM)
    (void)mmf__os_advise(base, len, MMF_ADV_RANDOM, NULL);
  if (flags & MMF_HUGE)
    (void)mmf__os_advise(base, len, MMF_ADV_HUGEPAGE, NULL);
  return 0;
}
