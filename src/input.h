/*
 * input.h - what an input is and how it is read, decided in one place.
 *
 * Every entry point that takes a file asks here: maps (map.c and the
 * private copies of fallback.c), the window cursor (window/) and the scans
 * (scan/source*.c). None of them decides alone whether an input can be
 * mapped, what a size of 0 means, how a stream skips, which budget a walk
 * gets or where a window lies.
 *
 * The classes:
 *
 *   FILE      a regular file (or block device) of known size > 0: mapped,
 *             or read at offsets. Reading that ends before the size is a
 *             truncation, unless the size was a guess (see
 *             mmf__input_ended_early).
 *   EMPTY     size 0 and nothing to read: maps with size 0.
 *   SIZELESS  reports size 0 but produces bytes (/proc files): never
 *             mapped; read at offsets until reading ends.
 *   STREAM    FIFO, socket, terminal, character device: never mapped; read
 *             from where it is, forward only.
 *
 * Directories are MMF_EISDIR wherever they are met. Inputs that cannot be
 * mapped (SIZELESS, STREAM, and files the OS refuses to map, such as /sys
 * attributes) are read instead, unless the caller refuses that.
 */
#ifndef MMF_INPUT_H
#define MMF_INPUT_H

#include <stddef.h>
#include <stdint.h>

#include "mmf_internal.h"

enum mmf__input_class {
  MMF__INPUT_FILE = 1,
  MMF__INPUT_EMPTY,
  MMF__INPUT_SIZELESS,
  MMF__INPUT_STREAM
};

/* Budgets from here on start windows at 2 MiB boundaries: every 2 MiB
 * folio of the file in the window is then whole (see mmf__window_span). */
#define MMF__HUGE_MIN_BUDGET ((uint64_t)16 << 20)

/*
 * Open path read-only (or read-write when writable) for an entry point
 * whose flags are `flags` (mmf_flag bits). An entry point that refuses
 * streams (MMF_NO_FALLBACK) must not wait in open() for a FIFO's writer:
 * it opens without waiting and then finds the FIFO a stream (MMF_ENODEV).
 * Otherwise a FIFO waits for its writer, as it does for `wc`.
 */
int mmf__input_open(const char *path, unsigned flags, int writable,
                    mmf__file *f, int *oserr);

/* The open flags (enum mmf__open_how) for an entry point with `flags`. */
unsigned mmf__input_open_how(unsigned flags, int writable);

/*
 * Classify the open file f into *cls (enum mmf__input_class) and, for
 * FILE, its size into *size (0 otherwise). A directory is MMF_EISDIR. A
 * file of size 0 is probed with a one-byte read at offset 0 to tell EMPTY
 * from SIZELESS.
 */
int mmf__input_classify(mmf__file f, int *cls, uint64_t *size, int *oserr);

/*
 * The one rule for a requested range [offset, offset + length) of an
 * input (length 0: to its end): an offset + length that does not fit in a
 * file offset (2^63 - 1) is MMF_EOVERFLOW, a caller's arithmetic gone
 * wrong; an offset alone past 2^63 - 1 lies past the end of every file and
 * is MMF_ERANGE, as any offset past an input's end is. 0 otherwise.
 */
int mmf__input_check_range(uint64_t offset, uint64_t length);

/* Whether cls can be mapped. */
static inline int mmf__input_mappable(int cls) {
  return cls == MMF__INPUT_FILE || cls == MMF__INPUT_EMPTY;
}

/*
 * The fallback policy for an input that cannot be mapped (a SIZELESS or
 * STREAM input, or a file whose mapping the OS refused with MMF_ENODEV):
 * 0 means read it (into a private copy or a buffer), MMF_ENODEV means
 * refuse it, because the caller said MMF_NO_FALLBACK or wants to write
 * (there is nothing to write back to).
 */
static inline int mmf__input_unmappable(unsigned flags, int writable) {
  return writable || (flags & MMF_NO_FALLBACK) ? MMF_ENODEV : 0;
}

/*
 * Discard the next n bytes of a stream: moved past without reading where
 * the device allows it (/dev/zero), else read into scratch (cap bytes).
 * *skipped is how many it had: fewer than n when it ended first.
 */
int mmf__input_skip(mmf__file f, uint64_t n, unsigned char *scratch, size_t cap,
                    uint64_t *skipped, int *oserr);

/*
 * Whether an input read at offsets ends before `offset`, i.e. offset lies
 * past its end, into *before. An offset no file can reach (past 2^63 - 1)
 * ends before without asking the OS.
 */
int mmf__input_ends_before(mmf__file f, uint64_t offset, int *before,
                           int *oserr);

/*
 * A file read at offsets ended before the size it reported. If the size
 * was a promise the file was cut meanwhile: MMF_ETRUNCATED. If it was a
 * guess (pseudo filesystems such as /sys, whose files say 4096): 0, the
 * input simply ends here.
 */
int mmf__input_ended_early(mmf__file f);

/*
 * The address-space budget of a walk (window cursor, scans) from the
 * caller's request: 0 is the default (1 GiB in a 64-bit process, 64 MiB
 * in a 32-bit one), rounded down to the granularity. Larger than the
 * address space: MMF_EOVERFLOW; below two granularity units: MMF_EINVAL.
 */
int mmf__input_budget(uint64_t requested, size_t *budget);

/* ------------------------------------------------------------------------ */
/* Windows: mappings of part of a file (input_window.c)                      */
/* ------------------------------------------------------------------------ */

/*
 * Where the window for bytes from lo (reaching hi if it can) starts and
 * how long it is, for a file of `size` bytes read up to `end` within
 * `budget`: from the 2 MiB boundary below lo when the budget is at least
 * MMF__HUGE_MIN_BUDGET, prefer_huge is set and the window then still
 * reaches hi; else from the granularity boundary below lo. It ends at the
 * earliest of start + budget, the file's size and `end` rounded up to
 * 2 MiB (so that a range ending mid-folio keeps its last folio whole).
 */
void mmf__window_span(uint64_t lo, uint64_t hi, uint64_t end, uint64_t size,
                      size_t budget, int prefer_huge, uint64_t *start,
                      size_t *len);

/*
 * Make win (an internal mmf_map of the file win->file, kind
 * MMF__FILE_MAP) the mapping of [start, start + len): the old window is
 * unmapped first, so the address space held never exceeds one window.
 * The backend places it congruent to start modulo 2 MiB. Where the
 * address space refuses len bytes (MMF_ENOMEM: a tight RLIMIT_AS), the
 * window is halved, down to min_len, before giving up. flags: the
 * mmf_flag hints that apply to windows (MMF_POPULATE, MMF_HUGE,
 * MMF_SEQUENTIAL, MMF_RANDOM). Returns 0 with win->size the bytes mapped,
 * or the backend's code (MMF_ERANGE: the file no longer reaches start).
 */
int mmf__window_map(mmf_map *win, int access, uint64_t start, size_t len,
                    size_t min_len, unsigned flags, int *oserr);

/* Unmap win's window, if any. */
void mmf__window_drop(mmf_map *win);

#endif /* MMF_INPUT_H */
