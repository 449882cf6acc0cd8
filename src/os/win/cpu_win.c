/*
 * cpu_win.c - what the CPU runs, where only the OS can tell.
 *
 * The ARMv8 CRC32 instructions matter only on ARM64 Windows, which mmf is
 * not built or tested for yet (IsProcessorFeaturePresent with
 * PF_ARM_V8_CRC32_INSTRUCTIONS_AVAILABLE would tell there): the table
 * version runs.
 */
#include "os/os.h"

int mmf__os_cpu_arm_crc32(void) { return 0; }
