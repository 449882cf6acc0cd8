/*
 * cli_num.c - parsing sizes and offsets, with overflow checks.
 *
 * The syntax is util-linux's (hexdump -s/-n, fincore, ...), so that
 * `mmf dump -s 1K` means what `hexdump -s 1K` means: base prefixes as in C
 * (0x hex, leading 0 octal) and a binary or decimal unit suffix.
 */
#include <string.h>

#include "cli.h"

int cli_hex_digit(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* The multiplier of a suffix ("", "K", "KiB", "KB", ...), or 0. */
static uint64_t suffix_scale(const char *s) {
  static const char letters[] = "KMGTPE";
  const char *hit;
  uint64_t base, scale = 1;
  int power, i;
  if (!*s)
    return 1;
  hit = strchr(letters, s[0] >= 'a' && s[0] <= 'z' ? s[0] - 'a' + 'A' : s[0]);
  if (!hit || !s[0])
    return 0;
  power = (int)(hit - letters) + 1;
  if (s[1] == '\0' || strcmp(s + 1, "iB") == 0)
    base = 1024;
  else if (strcmp(s + 1, "B") == 0)
    base = 1000;
  else
    return 0;
  for (i = 0; i < power; i++)
    scale *= base; /* at most 1024^6 = 2^60: no overflow */
  return scale;
}

int cli_parse_size(const char *s, uint64_t max, uint64_t *out,
                   const char **why) {
  uint64_t v = 0, scale;
  unsigned base = 10;
  const char *p = s;
  int d, any = 0;
  *out = 0;
  *why = "not a number";
  if (!s || !*s)
    return -1;
  if (*p == '-') {
    *why = "negative numbers are not allowed";
    return -1;
  }
  if (*p == '+')
    p++;
  if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
    base = 16;
    p += 2;
  } else if (p[0] == '0' && p[1]) {
    base = 8;
    p++;
  }
  for (; (d = cli_hex_digit(*p)) >= 0 && d < (int)base; p++) {
    any = 1;
    if (v > (UINT64_MAX - (uint64_t)d) / base) {
      *why = "too large";
      return -1;
    }
    v = v * base + (uint64_t)d;
  }
  if (!any && !(base == 8)) /* "0x" alone is not a number; "0" is */
    return -1;
  scale = suffix_scale(p);
  if (!scale)
    return -1;
  if (v > UINT64_MAX / scale || v * scale > max) {
    *why = "too large";
    return -1;
  }
  *out = v * scale;
  return 0;
}

int cli_get_size(const char *cmd, const char *what, const char *s, uint64_t max,
                 uint64_t *out) {
  const char *why;
  if (cli_parse_size(s, max, out, &why) == 0)
    return 0;
  cli_usage_error(cmd, "invalid %s '%s': %s", what, s, why);
  return -1;
}

/* Whether arg is a dash and a digit: a negative number, not an option. */
static int negative_number(const char *arg) {
  return arg[0] == '-' && arg[1] >= '0' && arg[1] <= '9';
}

static int listed(const char *arg, const char *const *list) {
  for (; *list; list++)
    if (strcmp(arg, *list) == 0)
      return 1;
  return 0;
}

int cli_negative_operand(const char *cmd, int argc, char **argv,
                         const char *const *names, size_t nnames,
                         const char *const *value_opts) {
  size_t operand = 0;
  int i;
  for (i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--") == 0)
      return 0; /* operands from here on, checked when parsed */
    if (negative_number(a)) {
      if (operand < nnames && names[operand])
        return cli_usage_error(cmd,
                               "invalid %s '%s': negative numbers are not "
                               "allowed",
                               names[operand], a);
      return 0;
    }
    if (a[0] != '-' || a[1] == '\0')
      operand++;
    else if (listed(a, value_opts))
      i++; /* its value is the next argument, not an operand */
  }
  return 0;
}
