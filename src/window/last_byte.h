/*
 * last_byte.h - the one byte loop of the window cursor (window.c): where
 * a run of bytes holds its last delimiter.
 *
 * Apart from window.c so that a libFuzzer build compiles it as it does
 * the scan kernels, without comparison tracing (top-level CMakeLists.txt):
 * traced, its two compares per word of every window were most of the
 * window fuzz target's time.
 */
#ifndef MMF_WINDOW_LAST_BYTE_H
#define MMF_WINDOW_LAST_BYTE_H

#include <stddef.h>

/* Offset of the last c in p[0, n), or SIZE_MAX. */
size_t mmf__last_byte(const unsigned char *p, size_t n, unsigned char c);

#endif /* MMF_WINDOW_LAST_BYTE_H */
