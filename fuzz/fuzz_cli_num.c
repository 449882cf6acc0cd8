/*
 * fuzz_cli_num.c - the tool's number parser (cli_parse_size, cli/cli_num.c)
 * against a reference written differently: the grammar checked character
 * class by character class, the value accumulated with a division-based
 * overflow test, the suffix looked up in a table of every accepted
 * spelling. Both must accept the same strings with the same value, refuse
 * the same ones with *out 0 and a reason, and an accepted value printed in
 * decimal and in hex must parse back to itself.
 *
 * Input: which maximum (byte: UINT64_MAX, 2^63 - 1, or the next 8 bytes),
 * then the string (up to its first NUL).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "fuzz.h"

static int suffix_scale(const char *s, uint64_t *scale) {
  static const char upper[] = "KMGTPE", lower[] = "kmgtpe";
  static const char *const tails[] = {"", "iB", "B"};
  char text[8];
  if (*s == '\0') {
    *scale = 1;
    return 1;
  }
  for (int power = 1; power <= 6; power++) {
    for (int t = 0; t < 3; t++) {
      for (int up = 0; up < 2; up++) {
        snprintf(text, sizeof text, "%c%s",
                 up ? upper[power - 1] : lower[power - 1], tails[t]);
        if (strcmp(s, text) == 0) {
          uint64_t v = 1, base = t == 2 ? 1000 : 1024;
          for (int i = 0; i < power; i++)
            v *= base;
          *scale = v;
          return 1;
        }
      }
    }
  }
  return 0;
}

static int digit_in(char ch, unsigned base, unsigned *d) {
  const char *digits = "0123456789abcdef", *hit;
  char lower = ch >= 'A' && ch <= 'F' ? (char)(ch - 'A' + 'a') : ch;
  if (ch == '\0')
    return 0;
  hit = strchr(digits, lower);
  if (!hit || (unsigned)(hit - digits) >= base)
    return 0;
  *d = (unsigned)(hit - digits);
  return 1;
}

/* Returns 1 and the value, or 0. */
static int reference(const char *s, uint64_t max, uint64_t *out) {
  unsigned base = 10, d;
  uint64_t v = 0, scale;
  size_t digits = 0;
  *out = 0;
  if (*s == '+')
    s++;
  if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    s += 2;
  } else if (s[0] == '0' && s[1] != '\0') {
    base = 8; /* the leading 0 counts as the number, so "0K" is 0 */
    s++;
    digits = 1;
  }
  for (; digit_in(*s, base, &d); s++, digits++) {
    if (v > UINT64_MAX / base || v * base > UINT64_MAX - d)
      return 0;
    v = v * base + d;
  }
  if (digits == 0 || !suffix_scale(s, &scale))
    return 0;
  if (scale > 1 && v > UINT64_MAX / scale)
    return 0;
  v *= scale;
  if (v > max)
    return 0;
  *out = v;
  return 1;
}

static void check_parses_to(const char *s, uint64_t max, uint64_t want) {
  uint64_t v = 1;
  const char *why = NULL;
  FUZZ_CHECK(cli_parse_size(s, max, &v, &why) == 0);
  FUZZ_CHECK(v == want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_input in = {data, size};
  char s[256];
  const uint8_t *p;
  uint64_t max = UINT64_MAX, got = 7, want;
  const char *why = NULL;
  uint8_t which = fuzz_u8(&in);
  if (which % 3 == 1)
    max = (uint64_t)INT64_MAX;
  else if (which % 3 == 2)
    max = (uint64_t)fuzz_u32(&in) | (uint64_t)fuzz_u32(&in) << 32;
  size_t n = fuzz_bytes(&in, sizeof s - 1, &p);
  memcpy(s, p, n);
  s[n] = '\0';

  int rc = cli_parse_size(s, max, &got, &why);
  int ok = reference(s, max, &want);
  FUZZ_CHECK(rc == 0 || rc == -1);
  FUZZ_CHECK((rc == 0) == ok);
  if (rc != 0) {
    FUZZ_CHECK(got == 0);
    FUZZ_CHECK(why != NULL && why[0] != '\0');
    return 0;
  }
  FUZZ_CHECK(got == want);
  FUZZ_CHECK(got <= max);
  /* What it accepted, spelled plainly, means the same. */
  snprintf(s, sizeof s, "%llu", (unsigned long long)got);
  check_parses_to(s, max, got);
  snprintf(s, sizeof s, "0x%llX", (unsigned long long)got);
  check_parses_to(s, max, got);
  snprintf(s, sizeof s, "+0%llo", (unsigned long long)got);
  check_parses_to(s, max, got);
  return 0;
}
