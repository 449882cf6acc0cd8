/*
 * crc32c.c - the portable CRC-32C and the choice of variant.
 *
 * The portable version reads 8 bytes per step through 8 tables
 * ("slicing by 8"), about 1 to 2 GB/s. The tables are computed by the
 * first caller; a caller that finds another thread computing them goes
 * bit by bit for that call rather than wait or race on the tables.
 */
#include "log/crc32c.h"
#include "os/os.h"

#include <stdatomic.h>

#define POLY 0x82F63B78u

static uint32_t table[8][256];
static atomic_int table_state; /* 0 none, 1 being computed, 2 ready */

static void make_tables(void) {
  for (unsigned i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++)
      c = (c >> 1) ^ (POLY & (0u - (c & 1)));
    table[0][i] = c;
  }
  for (unsigned i = 0; i < 256; i++)
    for (int t = 1; t < 8; t++)
      table[t][i] = (table[t - 1][i] >> 8) ^ table[0][table[t - 1][i] & 0xff];
}

static uint32_t bitwise(uint32_t c, const unsigned char *b, size_t n) {
  for (; n; n--) {
    c ^= *b++;
    for (int k = 0; k < 8; k++)
      c = (c >> 1) ^ (POLY & (0u - (c & 1)));
  }
  return c;
}

static int tables_ready(void) {
  int expected = 0;
  if (atomic_load_explicit(&table_state, memory_order_acquire) == 2)
    return 1;
  if (atomic_compare_exchange_strong(&table_state, &expected, 1)) {
    make_tables();
    atomic_store_explicit(&table_state, 2, memory_order_release);
    return 1;
  }
  return 0;
}

static uint32_t load_le32(const unsigned char *b) {
  return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
         (uint32_t)b[3] << 24;
}

uint32_t mmf__crc32c_portable(uint32_t crc, const void *p, size_t n) {
  const unsigned char *b = p;
  uint32_t c = ~crc;
  if (!tables_ready())
    return ~bitwise(c, b, n);
  for (; n >= 8; n -= 8, b += 8) {
    uint32_t lo = load_le32(b) ^ c, hi = load_le32(b + 4);
    c = table[7][lo & 0xff] ^ table[6][(lo >> 8) & 0xff] ^
        table[5][(lo >> 16) & 0xff] ^ table[4][lo >> 24] ^ table[3][hi & 0xff] ^
        table[2][(hi >> 8) & 0xff] ^ table[1][(hi >> 16) & 0xff] ^
        table[0][hi >> 24];
  }
  for (; n; n--)
    c = (c >> 8) ^ table[0][(c ^ *b++) & 0xff];
  return ~c;
}

/* ------------------------------------------------------------------------ */
/* Choosing the variant                                                      */
/* ------------------------------------------------------------------------ */

#if (defined(__GNUC__) || defined(__clang__)) &&                               \
    (defined(__x86_64__) || defined(__i386__))
/* CPUID itself: __builtin_cpu_supports needs the compiler runtime's
 * __cpu_model, which Zig's macOS toolchain does not link. */
#include <cpuid.h>
static int cpu_has_sse42(void) {
  unsigned a, b, c, d;
  return __get_cpuid(1, &a, &b, &c, &d) && ((c >> 20) & 1);
}
#elif defined(_MSC_VER) && (defined(_M_X64) || defined(_M_IX86))
#include <intrin.h>
static int cpu_has_sse42(void) {
  int r[4];
  __cpuid(r, 1);
  return (r[2] >> 20) & 1;
}
#else
static int cpu_has_sse42(void) { return 0; }
#endif

/* Racing first callers compute the same pointer. */
static _Atomic(mmf__crc32c_fn) chosen;

static mmf__crc32c_fn choose(void) {
  mmf__crc32c_fn f = atomic_load_explicit(&chosen, memory_order_relaxed);
  if (f)
    return f;
  if (mmf__crc32c_sse42 && cpu_has_sse42())
    f = mmf__crc32c_sse42;
  else if (mmf__crc32c_arm && mmf__os_cpu_arm_crc32())
    f = mmf__crc32c_arm;
  else
    f = mmf__crc32c_portable;
  atomic_store_explicit(&chosen, f, memory_order_relaxed);
  return f;
}

uint32_t mmf__crc32c(uint32_t crc, const void *p, size_t n) {
  return choose()(crc, p, n);
}

const char *mmf__crc32c_name(void) {
  mmf__crc32c_fn f = choose();
  return f == mmf__crc32c_portable ? "portable"
         : f == mmf__crc32c_arm    ? "armv8-crc"
                                   : "sse4.2";
}
