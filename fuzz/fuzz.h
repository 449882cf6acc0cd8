/*
 * fuzz.h - what every fuzz target shares.
 *
 * A target is one file defining the libFuzzer entry point
 * LLVMFuzzerTestOneInput(). It reads its parameters from the front of the
 * input with the fuzz_* readers (which give 0 once the input is used up,
 * so every input is valid), runs the library and checks each result
 * against a simple oracle written beside it (a naive loop, a
 * reconstruction of the input), not just "no crash". A failed check
 * prints what differed and aborts, which libFuzzer and the replay driver
 * both report as a crash with the input that caused it.
 *
 * The same target builds two ways: with clang's libFuzzer (make fuzz),
 * and with replay.c, a plain C11 main that runs the target over each
 * input of its committed corpus (fuzz/corpus/<target>/), which CTest does
 * in every leg, so each input once found stays a test on every platform.
 */
#ifndef MMF_FUZZ_H
#define MMF_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "mmf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Marks an oracle: a function that works out what the library must say
 * (naive loops over every byte of the file, the reference searches), or
 * the loop that compares the library's answers with it item by item
 * (every line, every match: up to one per byte of the file). Under
 * libFuzzer (make fuzz) it is left out of coverage instrumentation: traced,
 * the comparisons of its loops over files of up to 64 KiB cost more than
 * the library's scan of them, and they steer the fuzzer by the oracle's
 * branches instead of the library's. It is still built with
 * AddressSanitizer, and checks exactly what it checked before. It is
 * never inlined: clang 14 instruments a function's body inlined into an
 * instrumented caller (the count loop of scan_path, inlined into the
 * entry point, made over half of that target's time in the
 * __sanitizer_cov_trace_cmp callbacks).
 */
#if defined(__clang__) && __clang_major__ >= 13
#define FUZZ_ORACLE __attribute__((no_sanitize("coverage"), noinline))
#else
#define FUZZ_ORACLE
#endif

/* The unread rest of a fuzz input. */
typedef struct fuzz_input {
  const uint8_t *p;
  size_t n;
} fuzz_input;

/* The next byte, or 0 once the input is used up. */
uint8_t fuzz_u8(fuzz_input *in);

/* The next 2 or 4 bytes, little-endian; missing bytes read as 0. */
uint16_t fuzz_u16(fuzz_input *in);
uint32_t fuzz_u32(fuzz_input *in);

/* Up to max bytes: *p points at them in the input; returns how many. */
size_t fuzz_bytes(fuzz_input *in, size_t max, const uint8_t **p);

/*
 * A file's bytes from a small input: content[0, n) repeated times times
 * (times >= 1), as many whole copies as fit in max bytes (one at least).
 * Returns them and their length in *size; aborts if out of memory. The
 * buffer is fuzz_util.c's and is reused by the next call: a fresh block
 * of up to 320 KiB per input (the files were that large) is, under
 * AddressSanitizer, an mmap, a munmap and a page fault per page, which
 * cost more than the scan.
 */
const uint8_t *fuzz_repeat(const uint8_t *content, size_t n, size_t times,
                           size_t max, size_t *size);

/*
 * The file a whole-input scan target works on, and the options it scans
 * it with, from what the target read of its input: content repeated
 * (flags bit 3: 1 + repeat * 16 times) up to max bytes, written to the
 * scratch file name; io from flags bits 0-1 (every mode), a budget of 2
 * to 17 granularity units (units 0: the default), and with flags bit 2
 * the range offset and length reduced to the file. rc is what a scan of
 * that range must return (0 or MMF_ERANGE), and when 0 range
 * and range_len are the bytes it covers. Returns 0 when the file could
 * not be written (skip the input); fuzz_scan_file_free() in any case.
 */
typedef struct fuzz_scan_file {
  const uint8_t *bytes;
  size_t size;
  const char *path;
  mmf_scan_options o;
  int rc;
  const uint8_t *range;
  size_t range_len;
} fuzz_scan_file;

int fuzz_scan_file_make(fuzz_scan_file *f, const char *name,
                        const uint8_t *content, size_t n, uint8_t flags,
                        uint8_t units, uint8_t repeat, uint64_t offset,
                        uint64_t length, size_t max);
void fuzz_scan_file_free(fuzz_scan_file *f);

/* The oracle for byte-string searches: the non-overlapping occurrences
 * of x[0, m) in h[0, n), taken left to right, and the offset of the first
 * in *first (SIZE_MAX: none; 0 when m is 0, which counts none). */
uint64_t fuzz_matches(const uint8_t *h, size_t n, const uint8_t *x, size_t m,
                      size_t *first);

/* The same occurrences' offsets, in order: an array for free() (NULL when
 * there are none) and their number in *count. */
size_t *fuzz_match_list(const uint8_t *h, size_t n, const uint8_t *x, size_t m,
                        uint64_t *count);

/*
 * The read engine's buffer (src/scan/source_read.c): with small set, 512
 * bytes to 64 KiB (512 << (k % 8), plus 9 * (k / 8) so that not every
 * size is a power of two), or for one k in 32, 64 to 71 bytes; else its
 * usual 256 KiB. The scan targets' files stay small (64 KiB: fast to
 * write, scan and check) and still cross the buffer's boundaries, many
 * times, in every way a file of megabytes does; below 126 bytes a needle
 * of 63 makes the buffer hold what a search keeps besides a chunk, which
 * 256 KiB never shows. Chunks that small are rare: each span costs a
 * read and a search set up again, and with chunks of 64 bytes to 8 KiB,
 * each size as often, reading was a fifth of scan_path's time.
 */
void fuzz_read_chunk(int small, uint8_t k);

/* Print "fuzz check failed at file:line: what (detail)" and abort. */
_Noreturn void fuzz_fail(const char *file, int line, const char *what,
                         const char *detail);

#define FUZZ_CHECK(cond)                                                       \
  do {                                                                         \
    if (!(cond))                                                               \
      fuzz_fail(__FILE__, __LINE__, #cond, NULL);                              \
  } while (0)

/* Checks an MMF call's result: prints both codes' names when they differ. */
void fuzz_check_rc(const char *file, int line, const char *what, int got,
                   int want);
#define FUZZ_CHECK_RC(call, want)                                              \
  fuzz_check_rc(__FILE__, __LINE__, #call, (call), (want))

/*
 * A scratch file named name in the working directory (CTest runs each
 * replay in a directory of its own; make fuzz runs each fuzzer in one),
 * holding [p, p+n). Returns its path, or NULL (with a message) when it
 * cannot be written: a disk full for a moment is not the library's fault,
 * so the target skips that input instead of reporting a crash.
 */
const char *fuzz_write_file(const char *name, const void *p, size_t n);

#endif /* MMF_FUZZ_H */
