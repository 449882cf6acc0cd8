/*
 * direct_win.c - reading around the cache, and how much of a file it
 * holds (os.h, "Reading around the page cache"): not on Windows yet.
 *
 * FILE_FLAG_NO_BUFFERING (through ReOpenFile) would be the way, with
 * sector-aligned reads; it is left out because nothing here can measure
 * it (Wine reads through the Linux cache whatever the flag says), and
 * Windows has no call that tells which pages of a file the cache holds
 * without mapping and touching them. So scans of cold files read through
 * the cache on Windows, and MMF_SCAN_DIRECT reads as MMF_SCAN_READ does.
 */
#include "os/win/util_win.h"

int mmf__os_open_uncached(const char *path, mmf__file like, mmf__file *f,
                          size_t *align, int *oserr) {
  (void)path, (void)like;
  f->h = MMF__NO_FILE;
  *align = mmf__os_page_size();
  return mmf__win_fail(oserr, ERROR_NOT_SUPPORTED);
}

int mmf__os_cached(mmf__file f, uint64_t off, uint64_t len, unsigned samples,
                   unsigned *hits, int *oserr) {
  (void)f, (void)off, (void)len, (void)samples;
  *hits = 0;
  return mmf__win_fail(oserr, ERROR_NOT_SUPPORTED);
}
