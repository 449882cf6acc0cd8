/*
 * input.c - classifying inputs and the rules for reading them (input.h).
 */
#include "input.h"

unsigned mmf__input_open_how(unsigned flags, int writable) {
  unsigned how = writable ? (unsigned)MMF__OPEN_WRITE : 0u;
  /* A read-only open of a FIFO waits for a writer; one that will refuse
   * the FIFO anyway must not. (A read-write open never waits.) */
  if (!writable && (flags & MMF_NO_FALLBACK))
    how |= MMF__OPEN_NONBLOCK;
  return how;
}

int mmf__input_open(const char *path, unsigned flags, int writable,
                    mmf__file *f, int *oserr) {
  int created;
  return mmf__os_open(path, mmf__input_open_how(flags, writable), f, &created,
                      oserr);
}

int mmf__input_check_range(uint64_t offset, uint64_t length) {
  if (length &&
      (offset > (uint64_t)INT64_MAX || length > (uint64_t)INT64_MAX - offset))
    return MMF_EOVERFLOW;
  if (offset > (uint64_t)INT64_MAX)
    return MMF_ERANGE;
  return 0;
}

int mmf__input_classify(mmf__file f, int *cls, uint64_t *size, int *oserr) {
  unsigned char probe;
  size_t got = 0;
  int kind, rc;
  *cls = 0;
  rc = mmf__os_stat(f, &kind, size, oserr);
  if (rc)
    return rc;
  if (kind == MMF__KIND_DIRECTORY)
    return MMF_EISDIR;
  if (kind == MMF__KIND_STREAM) {
    *size = 0;
    *cls = MMF__INPUT_STREAM;
    return 0;
  }
  if (*size > 0) {
    *cls = MMF__INPUT_FILE;
    return 0;
  }
  /* Size 0: empty, or a file that makes its bytes when read (/proc). */
  rc = mmf__os_read(f, 0, &probe, 1, &got, oserr);
  if (rc)
    return rc;
  *cls = got ? MMF__INPUT_SIZELESS : MMF__INPUT_EMPTY;
  return 0;
}

int mmf__input_skip(mmf__file f, uint64_t n, unsigned char *scratch, size_t cap,
                    uint64_t *skipped, int *oserr) {
  size_t got;
  int rc;
  *skipped = 0;
  if (n == 0 || mmf__os_skip(f, n, NULL) == 0) {
    *skipped = n;
    return 0;
  }
  while (*skipped < n) {
    uint64_t left = n - *skipped;
    rc = mmf__os_read(f, -1, scratch, left < cap ? (size_t)left : cap, &got,
                      oserr);
    if (rc)
      return rc;
    if (got == 0)
      return 0;
    *skipped += got;
  }
  return 0;
}

int mmf__input_ends_before(mmf__file f, uint64_t offset, int *before,
                           int *oserr) {
  unsigned char probe;
  size_t got = 0;
  int rc;
  *before = 0;
  if (offset == 0)
    return 0;
  /* No file has a byte past 2^63 - 1; the OS would see a negative
   * offset. */
  if (offset - 1 > (uint64_t)INT64_MAX) {
    *before = 1;
    return 0;
  }
  rc = mmf__os_read(f, (int64_t)(offset - 1), &probe, 1, &got, oserr);
  *before = got == 0;
  return rc;
}

int mmf__input_ended_early(mmf__file f) {
  return mmf__os_size_is_exact(f) ? MMF_ETRUNCATED : 0;
}

int mmf__input_budget(uint64_t requested, size_t *budget) {
  uint64_t gran = mmf__os_granularity(), b = requested;
  *budget = 0;
  if (b == 0)
    b = sizeof(void *) >= 8 ? (uint64_t)1 << 30 : (uint64_t)64 << 20;
  if (b > mmf__address_space_limit())
    return MMF_EOVERFLOW;
  b -= b % gran;
  if (b < 2 * gran)
    return MMF_EINVAL;
  *budget = (size_t)b;
  return 0;
}
