/*
 * cli_quote.c - file names in the shell-escape quoting of GNU coreutils.
 *
 * `wc -l` prints a name that holds a newline quoted, so that each count
 * stays on one line; `mmf lines` must print the same bytes. The rules are
 * those of gnulib's quotearg in its shell-escape-always style, as
 * coreutils 9 applies them:
 *  - the name is written inside '...';
 *  - a character the locale cannot print closes the quotes and is written
 *    as a C escape inside $'...': \a \b \f \n \r \t \v, else \ooo for
 *    each of its bytes; consecutive ones share one $'...', and the next
 *    printable character reopens the quotes ('' after the escapes);
 *  - a single quote is written '\'' (close, escaped quote, reopen);
 *  - everything else, backslashes included, stands as it is.
 * So "new\nline" is 'new'$'\n''line' and "bad\377" is 'bad'$'\377'.
 * "Printable" is the locale's: in a UTF-8 locale a valid multibyte
 * character that iswprint() accepts stands as it is; in the C locale every
 * byte above 0x7e is escaped.
 */
#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include <wctype.h>

#include "cli.h"

int cli_has_control(const char *name) {
  for (; *name; name++)
    if ((unsigned char)*name < 0x20 || *name == 0x7f)
      return 1;
  return 0;
}

/* The letter of a C escape for c, or 0. */
static char letter_of(unsigned char c) {
  switch (c) {
  case '\a':
    return 'a';
  case '\b':
    return 'b';
  case '\f':
    return 'f';
  case '\n':
    return 'n';
  case '\r':
    return 'r';
  case '\t':
    return 't';
  case '\v':
    return 'v';
  default:
    return 0;
  }
}

/* How many bytes at s (len left) form the next character, and whether the
 * locale can print it. */
static size_t next_char(const char *s, size_t len, int *printable) {
  unsigned char c = (unsigned char)*s;
  mbstate_t st;
  wchar_t w;
  size_t k;
  if (c < 0x80 || MB_CUR_MAX == 1) {
    /* ASCII, and every byte of a single-byte locale: the C rules. */
    *printable = c >= 0x20 && c < 0x7f;
    return 1;
  }
  memset(&st, 0, sizeof st);
  k = mbrtowc(&w, s, len, &st);
  if (k == (size_t)-1) { /* not a character: one byte, escaped */
    *printable = 0;
    return 1;
  }
  if (k == (size_t)-2) { /* cut short at the end: all of it, escaped */
    *printable = 0;
    return len;
  }
  *printable = k > 0 && iswprint((wint_t)w);
  return k > 0 ? k : 1;
}

void cli_shell_quote(FILE *f, const char *name) {
  size_t len = strlen(name), i = 0;
  int in_escape = 0; /* inside $'...' */
  fputc('\'', f);
  while (i < len) {
    int printable;
    size_t k = next_char(name + i, len - i, &printable);
    if (!printable) {
      if (!in_escape)
        fputs("'$'", f);
      in_escape = 1;
      for (size_t j = 0; j < k; j++) {
        unsigned char c = (unsigned char)name[i + j];
        char l = letter_of(c);
        if (l)
          fprintf(f, "\\%c", l);
        else
          fprintf(f, "\\%o%o%o", c >> 6, (c >> 3) & 7, c & 7);
      }
    } else if (name[i] == '\'') {
      /* Close whatever is open, then an escaped quote; the next
       * character goes on unquoted until the final quote. */
      fputs("'\\''", f);
      in_escape = 0;
    } else {
      if (in_escape)
        fputs("''", f);
      in_escape = 0;
      fwrite(name + i, 1, k, f);
    }
    i += k;
  }
  fputc('\'', f);
}
