/*
 * fuzz_shm_name.c - the checks mmf_shm_open and mmf_shm_unlink make of a
 * region's name, mode and flags, against a reference written from the
 * documentation: a name is 1 to 200 bytes from the set [A-Za-z0-9._-],
 * not "." or ".."; the mode one of MMF_READ, MMF_WRITE, MMF_COPY; the
 * flags from the documented set, MMF_PREALLOCATE only with MMF_WRITE,
 * MMF_EXCLUSIVE only with MMF_CREATE, not MMF_SEQUENTIAL with
 * MMF_RANDOM. Whatever the reference refuses must be MMF_EINVAL (with
 * *out NULL); whatever it accepts must get past the checks to the OS,
 * which finds no such region (MMF_ENOENT), or one somebody made, which
 * then maps under that name, or something else of that name (a directory,
 * another user's region: MMF_EISDIR, MMF_EACCES). Regions are never
 * created (MMF_CREATE is never passed) and names are removed only when
 * they are refused.
 *
 * Input: the mode (byte: one of the three or a bad one), the flags (byte,
 * each bit one flag of a table, the last a flag regions do not take),
 * then the name up to its first NUL (up to 300 bytes).
 */
#include <string.h>

#include "fuzz.h"
#include "mmf.h"

#define NAME_MAX_BYTES 200

static int reference_name(const char *s, size_t n) {
  static const char allowed[] = "abcdefghijklmnopqrstuvwxyz"
                                "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                "0123456789._-";
  if (n == 0 || n > NAME_MAX_BYTES)
    return 0;
  if (strspn(s, allowed) != n)
    return 0;
  return !(n == 1 && s[0] == '.') && !(n == 2 && s[0] == '.' && s[1] == '.');
}

/* Bit k of the flags byte passes flag_of[k]. */
static const unsigned flag_of[8] = {
    MMF_EXCLUSIVE, MMF_POPULATE, MMF_SEQUENTIAL,  MMF_RANDOM,
    MMF_HUGE,      MMF_LOCKED,   MMF_PREALLOCATE, MMF_SYNC_ON_CLOSE};

static int reference_args(int mode, unsigned flags) {
  if (mode != MMF_READ && mode != MMF_WRITE && mode != MMF_COPY)
    return 0;
  if (flags & MMF_SYNC_ON_CLOSE)
    return 0;
  if ((flags & MMF_PREALLOCATE) && mode != MMF_WRITE)
    return 0;
  if (flags & MMF_EXCLUSIVE) /* never with MMF_CREATE here */
    return 0;
  return !((flags & MMF_SEQUENTIAL) && (flags & MMF_RANDOM));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const int modes[4] = {MMF_READ, MMF_WRITE, MMF_COPY, 3};
  fuzz_input in = {data, size};
  const int mode = modes[fuzz_u8(&in) % 4];
  const uint8_t bits = fuzz_u8(&in);
  const uint8_t *p;
  char name[301];
  size_t n = fuzz_bytes(&in, 300, &p);
  mmf_options o = {0, 0, 0, 0};
  mmf_map *m = (mmf_map *)&o; /* anything but NULL: must be cleared */

  memcpy(name, p, n);
  name[n] = '\0';
  n = strlen(name);
  for (int k = 0; k < 8; k++)
    if (bits & (1u << k))
      o.flags |= flag_of[k];

  const int name_ok = reference_name(name, n);
  const int rc = mmf_shm_open(&m, name, mode, &o);
  if (!name_ok || !reference_args(mode, o.flags)) {
    FUZZ_CHECK_RC(rc, MMF_EINVAL);
    FUZZ_CHECK(m == NULL);
  } else if (rc == 0) {
    /* A region of that name exists (somebody made it): it is mapped. */
    FUZZ_CHECK(m != NULL);
    FUZZ_CHECK(strcmp(mmf_shm_name(m), name) == 0);
    FUZZ_CHECK_RC(mmf_close(m), 0);
  } else {
    /* Past the checks: no region of that name, or something else stands
     * under it (a directory, another user's region). Any other error
     * would be a name the checks take and the OS does not. */
    if (rc != MMF_ENOENT && rc != MMF_EISDIR && rc != MMF_EACCES)
      fuzz_fail(__FILE__, __LINE__, "a name the checks take", mmf_errname(rc));
    FUZZ_CHECK(m == NULL);
  }
  /* Names are checked the same way for removal; only refused ones are
   * tried, so that nobody's region is removed. */
  if (!name_ok)
    FUZZ_CHECK_RC(mmf_shm_unlink(name), MMF_EINVAL);
  return 0;
}
