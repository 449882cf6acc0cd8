/*
 * name_win.h - names of the kernel objects that stand for shared bytes.
 */
#ifndef MMF_NAME_WIN_H
#define MMF_NAME_WIN_H

#include "os/win/util_win.h"

/* Room for the longest name (a 200-byte shared-memory name included). */
#define MMF__WIN_NAME_MAX 320

/*
 * The name of the object of kind what ("wait", "mutex", ...) for the
 * bytes at p, plus suffix: Local\mmf-<what>-<region>-<offset><suffix>.
 * region names what every process mapping the bytes agrees on: "s.NAME"
 * for named shared memory, "f.SERIAL.INDEX" for a file (volume serial and
 * file index, the same for every path and hard link), and "a.PID.ADDRESS"
 * for anonymous memory, which no other process can map. Returns 0, or the
 * error of asking the file for its identity.
 */
int mmf__win_object_name(const mmf__place *p, const char *what,
                         const char *suffix, wchar_t *buf, int *oserr);

/* Milliseconds for a timeout in nanoseconds, rounded up (< 0: INFINITE),
 * for the waits on those objects. */
static inline DWORD mmf__win_timeout_ms(int64_t ns) {
  int64_t ms;
  if (ns < 0)
    return INFINITE;
  ms = ns / 1000000 + (ns % 1000000 != 0);
  return ms >= (int64_t)INFINITE ? INFINITE - 1 : (DWORD)ms;
}

#endif /* MMF_NAME_WIN_H */
