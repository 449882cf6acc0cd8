/*
 * scan.c - picks the scan kernels this CPU runs best, and the shorthands.
 *
 * The choice is made once and cached in one pointer. That is the only
 * process-wide state of the scan layer: it never changes once set, and
 * racing first callers compute the same value.
 */
/* This file defines calls of mmf.h's "Tuning" section. */
#define MMF_TUNING 1
#include <stdlib.h>
#include <string.h>

#include "mmf.h"
#include "scan.h"

#if defined(__x86_64__) || defined(__i386__) || defined(_M_X64) ||             \
    defined(_M_IX86)

/*
 * CPUID and XCR0, asked directly: GCC's and Clang's __builtin_cpu_supports
 * needs the compiler runtime's CPU model (__cpu_model), which not every
 * toolchain links into a shared library (Zig's for macOS does not).
 */
#if defined(_MSC_VER) && !defined(__clang__)
#include <intrin.h>
static void cpuid(int leaf, int r[4]) { __cpuidex(r, leaf, 0); }
static unsigned long long xcr0(void) { return _xgetbv(0); }
#else
#include <cpuid.h>
static void cpuid(int leaf, int r[4]) {
  unsigned a, b, c, d;
  __cpuid_count((unsigned)leaf, 0u, a, b, c, d);
  r[0] = (int)a;
  r[1] = (int)b;
  r[2] = (int)c;
  r[3] = (int)d;
}
static unsigned long long xcr0(void) {
  unsigned lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (unsigned long long)hi << 32 | lo;
}
#endif

static int cpu_runs(mmf__scan_isa isa) {
  int r[4];
  int max_leaf, ecx1, edx1, ebx7, ecx7;
  unsigned long long os_saves;
  if (isa == MMF__SCAN_GENERIC)
    return 1;
  cpuid(0, r);
  max_leaf = r[0];
  cpuid(1, r);
  ecx1 = r[2];
  edx1 = r[3];
  if (isa == MMF__SCAN_SSE2)
    return (edx1 >> 26) & 1;
  if (isa != MMF__SCAN_AVX2 && isa != MMF__SCAN_AVX512)
    return 0;
  /* AVX state needs OSXSAVE and the OS enabling YMM (and ZMM) in XCR0;
   * the AVX variants also use POPCNT. */
  if (max_leaf < 7 || !((ecx1 >> 27) & 1) || !((ecx1 >> 23) & 1))
    return 0;
  os_saves = xcr0();
  cpuid(7, r);
  ebx7 = r[1];
  ecx7 = r[2];
  if (!((ebx7 >> 3) & 1)) /* BMI1 */
    return 0;
  if (isa == MMF__SCAN_AVX2)
    return (os_saves & 0x6) == 0x6 && ((ebx7 >> 5) & 1);
  return (os_saves & 0xe6) == 0xe6 && ((ebx7 >> 16) & 1) &&
         ((ebx7 >> 30) & 1) && ((ecx7 >> 6) & 1); /* F, BW, VBMI2 */
}

#elif defined(__aarch64__) || defined(_M_ARM64)

/* Advanced SIMD is part of the AArch64 base architecture. */
static int cpu_runs(mmf__scan_isa isa) {
  return isa == MMF__SCAN_GENERIC || isa == MMF__SCAN_NEON;
}

#else

static int cpu_runs(mmf__scan_isa isa) { return isa == MMF__SCAN_GENERIC; }

#endif

const mmf__scan_kernels *mmf__scan_kernels_for(mmf__scan_isa isa) {
  const mmf__scan_kernels *k;
  switch (isa) {
  case MMF__SCAN_GENERIC:
    return mmf__scan_generic_kernels();
  case MMF__SCAN_SSE2:
    k = mmf__scan_sse2_kernels();
    break;
  case MMF__SCAN_AVX2:
    k = mmf__scan_avx2_kernels();
    break;
  case MMF__SCAN_AVX512:
    k = mmf__scan_avx512_kernels();
    break;
  case MMF__SCAN_NEON:
    k = mmf__scan_neon_kernels();
    break;
  default:
    return NULL;
  }
  return k && cpu_runs(isa) ? k : NULL;
}

mmf__scan_isa mmf__scan_isa_from_name(const char *s) {
  static const char *const names[MMF__SCAN_ISA_COUNT] = {
      "generic", "sse2", "avx2", "avx512", "neon"};
  for (int i = 0; s && i < (int)MMF__SCAN_ISA_COUNT; i++)
    if (strcmp(s, names[i]) == 0)
      return (mmf__scan_isa)i;
  return MMF__SCAN_ISA_COUNT;
}

static const mmf__scan_kernels *choose(void) {
  const mmf__scan_kernels *k = NULL;
  /* MMF_SCAN_ISA forces a variant for tests and benchmarks. */
  const char *forced = getenv("MMF_SCAN_ISA");
  mmf__scan_isa isa = mmf__scan_isa_from_name(forced);
  if (isa != MMF__SCAN_ISA_COUNT)
    k = mmf__scan_kernels_for(isa);
  for (int i = (int)MMF__SCAN_ISA_COUNT - 1; !k && i >= 0; i--)
    k = mmf__scan_kernels_for((mmf__scan_isa)i);
  return k;
}

#if !defined(__STDC_NO_ATOMICS__)

#include <stdatomic.h>

static _Atomic(const mmf__scan_kernels *) chosen;

const mmf__scan_kernels *mmf__scan_kernels_best(void) {
  const mmf__scan_kernels *k =
      atomic_load_explicit(&chosen, memory_order_acquire);
  if (!k) {
    k = choose();
    atomic_store_explicit(&chosen, k, memory_order_release);
  }
  return k;
}

#else

/* MSVC without C11 atomics: aligned pointer stores are atomic there, and
 * volatile accesses are ordered (/volatile:ms). */
static const mmf__scan_kernels *volatile chosen;

const mmf__scan_kernels *mmf__scan_kernels_best(void) {
  const mmf__scan_kernels *k = chosen;
  if (!k) {
    k = choose();
    chosen = k;
  }
  return k;
}

#endif

uint64_t mmf__count_byte(const void *p, size_t n, unsigned char c) {
  return mmf__scan_kernels_best()->count_byte(p, n, c);
}

size_t mmf__find_byte(const void *p, size_t n, unsigned char c) {
  return mmf__scan_kernels_best()->find_byte(p, n, c);
}

size_t mmf__find(const void *h, size_t n, const void *needle, size_t m) {
  return mmf__scan_kernels_best()->find(h, n, needle, m);
}

uint64_t mmf__count_str(const void *h, size_t n, const void *needle, size_t m) {
  return mmf__scan_kernels_best()->count_str(h, n, needle, m);
}

size_t mmf__byte_positions(const void *p, size_t n, unsigned char c,
                           uint32_t *pos, size_t cap, size_t *scanned) {
  return mmf__scan_kernels_best()->positions(p, n, c, pos, cap, scanned);
}

const char *mmf_scan_kernel_name(void) {
  return mmf__scan_kernels_best()->name;
}
