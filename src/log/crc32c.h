/*
 * crc32c.h - CRC-32C (Castagnoli), the checksum of the log's frames.
 *
 * The same value as iSCSI, ext4 and SSE4.2's crc32 instruction: reflected
 * polynomial 0x82F63B78, initial value and final XOR all ones. The
 * running value works like zlib's crc32(): start from 0 and pass each
 * result back in to continue over the next bytes, so
 * mmf__crc32c(mmf__crc32c(0, a, n), b, m) is the CRC of a followed by b.
 */
#ifndef MMF_CRC32C_H
#define MMF_CRC32C_H

#include <stddef.h>
#include <stdint.h>

typedef uint32_t (*mmf__crc32c_fn)(uint32_t crc, const void *p, size_t n);

/* The fastest variant this CPU runs (picked once per process). */
uint32_t mmf__crc32c(uint32_t crc, const void *p, size_t n);

/* The portable variant: tables, any CPU. */
uint32_t mmf__crc32c_portable(uint32_t crc, const void *p, size_t n);

/* The hardware variants, NULL where this build left them out (the file was
 * compiled without the instruction set; see cmake/simd.cmake). Call one
 * only where mmf__crc32c_name() says the CPU has it. */
extern const mmf__crc32c_fn mmf__crc32c_sse42;
extern const mmf__crc32c_fn mmf__crc32c_arm;

/* "sse4.2", "armv8-crc" or "portable": the variant mmf__crc32c() uses. */
const char *mmf__crc32c_name(void);

#endif /* MMF_CRC32C_H */
