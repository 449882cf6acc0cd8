/*
 * scan.h - scanning kernels over memory: count a byte, find a byte, find and
 * count a byte string, and list the positions of a delimiter in a block.
 *
 * Every kernel exists in several variants (portable C; SSE2, AVX2,
 * AVX-512BW on x86; NEON on AArch64) that give identical results; the best one
 * the CPU runs is picked at run time. The kernels only read [p, p+n): no byte
 * before or after is touched (AVX-512 masked loads past the end are
 * fault-suppressed and never reach memory), so they are safe at the very end of
 * a mapping. They do not guard against faults; callers run them under the fault
 * guard.
 *
 * n == 0 is always fine, with p == NULL too.
 */
#ifndef MMF_SCAN_H
#define MMF_SCAN_H

#include <stddef.h>
#include <stdint.h>

/* Kernel variants, worst to best among those one CPU can run. */
typedef enum mmf__scan_isa {
  MMF__SCAN_GENERIC = 0, /* portable C (SWAR, libc memchr/memcmp) */
  MMF__SCAN_SSE2,
  MMF__SCAN_AVX2,   /* with BMI1 and POPCNT */
  MMF__SCAN_AVX512, /* AVX-512F, BW and VBMI2, with BMI1 and POPCNT */
  MMF__SCAN_NEON,   /* AArch64 Advanced SIMD (never with the x86 ones) */
  MMF__SCAN_ISA_COUNT
} mmf__scan_isa;

typedef struct mmf__scan_kernels {
  const char *name; /* "generic", "sse2", "avx2", "avx512", "neon" */
  mmf__scan_isa isa;

  /* Bytes of [p, p+n) equal to c. */
  uint64_t (*count_byte)(const unsigned char *p, size_t n, unsigned char c);

  /* Offset of the first byte equal to c, or SIZE_MAX (memchr). */
  size_t (*find_byte)(const unsigned char *p, size_t n, unsigned char c);

  /* Offset of the first occurrence of needle[0..m) lying wholly inside
   * h[0..n), or SIZE_MAX; 0 when m == 0 (memmem). Linear time in the worst
   * case (a Two-Way search takes over when candidates verify badly). */
  size_t (*find)(const unsigned char *h, size_t n, const unsigned char *needle,
                 size_t m);

  /* Occurrences of needle[0..m) in h[0..n), non-overlapping, taken left to
   * right ("aa" in "aaaa" is 2). 0 when m == 0. */
  uint64_t (*count_str)(const unsigned char *h, size_t n,
                        const unsigned char *needle, size_t m);

  /*
   * Batched delimiter finder for line iterators: store the offsets (from p)
   * of the bytes equal to c into pos[0..cap), in order, and return how many
   * were stored. *scanned is how far the block was examined: every
   * occurrence in [0, *scanned) is in pos[0..returned), and the caller
   * continues at p + *scanned. Exactly:
   *   - returned == cap > 0: *scanned = pos[cap - 1] + 1;
   *   - otherwise *scanned = n (all of the block).
   * n is clamped to UINT32_MAX so offsets fit in 32 bits (the clamp shows
   * in *scanned). The kernel may write anything into pos[returned..cap).
   */
  size_t (*positions)(const unsigned char *p, size_t n, unsigned char c,
                      uint32_t *pos, size_t cap, size_t *scanned);
} mmf__scan_kernels;

/*
 * The kernels of one variant, or NULL when it was not compiled in (its
 * per-file compiler flags were missing, or another CPU family) or this CPU
 * cannot run it. mmf__scan_kernels_for(MMF__SCAN_GENERIC) never returns NULL.
 */
const mmf__scan_kernels *mmf__scan_kernels_for(mmf__scan_isa isa);

/*
 * The kernels to use: the best variant this CPU runs, unless the
 * environment variable MMF_SCAN_ISA names another one ("generic", "sse2",
 * "avx2", "avx512", "neon") that it runs. Read once per process and cached;
 * safe to call from any thread.
 */
const mmf__scan_kernels *mmf__scan_kernels_best(void);

/* The variant named s ("generic", ...); MMF__SCAN_ISA_COUNT if unknown. */
mmf__scan_isa mmf__scan_isa_from_name(const char *s);

/* Shorthands that call mmf__scan_kernels_best(). */
uint64_t mmf__count_byte(const void *p, size_t n, unsigned char c);
size_t mmf__find_byte(const void *p, size_t n, unsigned char c);
size_t mmf__find(const void *h, size_t n, const void *needle, size_t m);
uint64_t mmf__count_str(const void *h, size_t n, const void *needle, size_t m);
size_t mmf__byte_positions(const void *p, size_t n, unsigned char c,
                           uint32_t *pos, size_t cap, size_t *scanned);

/* ---- Between the scan*.c files only ----------------------------------- */

/* Portable kernels (scan_generic.c); the SIMD variants use them for tails. */
uint64_t mmf__scan_generic_count_byte(const unsigned char *p, size_t n,
                                      unsigned char c);
size_t mmf__scan_generic_find_byte(const unsigned char *p, size_t n,
                                   unsigned char c);
size_t mmf__scan_generic_find(const unsigned char *h, size_t n,
                              const unsigned char *needle, size_t m);
uint64_t mmf__scan_generic_count_str(const unsigned char *h, size_t n,
                                     const unsigned char *needle, size_t m);
size_t mmf__scan_generic_positions(const unsigned char *p, size_t n,
                                   unsigned char c, uint32_t *pos, size_t cap,
                                   size_t *scanned);

/* The offsets a < b of the two needle bytes (m >= 2) that the searches
 * filter on: the rarest in text by a fixed rank of byte values, of
 * different values where the needle has two. */
void mmf__scan_pick_pair(const unsigned char *needle, size_t m, size_t *a,
                         size_t *b);

/* Two-Way string matching (Crochemore-Perrin): linear time and constant
 * space whatever the input; the fallback when candidate verification in the
 * fast searches costs too much. Same contract as find / count_str. */
size_t mmf__scan_twoway_find(const unsigned char *h, size_t n,
                             const unsigned char *needle, size_t m);
uint64_t mmf__scan_twoway_count(const unsigned char *h, size_t n,
                                const unsigned char *needle, size_t m);

/*
 * When the fast searches have spent more than this on verifying candidates
 * (work: needle bytes per candidate that passed the filter) against what
 * they have advanced, they hand over to Two-Way, so that an adversarial
 * needle ("aaa...ab" in "aaaa...") costs linear, not quadratic, time.
 */
static inline int mmf__scan_verify_too_costly(size_t work, size_t advanced) {
  return work > 65536 && work / 8 > advanced;
}

/* Each returns its variant's kernels, or NULL when the file was built
 * without the instruction set (the CPU is not checked here). */
const mmf__scan_kernels *mmf__scan_generic_kernels(void);
const mmf__scan_kernels *mmf__scan_sse2_kernels(void);
const mmf__scan_kernels *mmf__scan_avx2_kernels(void);
const mmf__scan_kernels *mmf__scan_avx512_kernels(void);
const mmf__scan_kernels *mmf__scan_neon_kernels(void);

#endif /* MMF_SCAN_H */
