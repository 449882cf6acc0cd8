/*
 * cmd_poke.c - `mmf poke`: write bytes at an offset through a shared
 * mapping, then flush them to stable storage.
 *
 * The map covers exactly the bytes written, with MMF_PREALLOCATE: their
 * disk blocks exist before the first byte is stored, so a full disk (or a
 * sparse file on one) fails the open, and the library shrinks back what it
 * grew: on failure the file is as it was, never half written. Without
 * --grow a range past the end is refused before anything is opened for
 * writing; the library grows the file only for --grow.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
    "Usage: mmf poke [OPTION]... FILE OFFSET (-s STRING | -x HEX)\n"
    "Write bytes into FILE at byte OFFSET through a shared mapping, and\n"
    "flush them to stable storage before exiting.\n"
    "\n"
    "  -s, --string=STRING   the bytes of STRING\n"
    "  -x, --hex=HEX         the bytes written as hex digits, e.g. 0d0a or\n"
    "                        \"de ad be ef\" (spaces and colons ignored)\n"
    "  -g, --grow            extend FILE if the bytes go past its end\n"
    "                        (a gap before OFFSET reads as zeros)\n"
    "  -h, --help            show this help\n"
    "\n"
    "Without --grow, bytes past the end of FILE are an error and FILE is\n"
    "left unchanged. FILE must be a regular file.\n";

/* Decode hex digits into a new buffer; -1 on a bad digit or odd count. */
static int parse_hex(const char *s, unsigned char **out, size_t *n) {
  size_t len = strlen(s), k = 0;
  int hi = -1, v;
  unsigned char *b = malloc(len / 2 + 1);
  *out = NULL;
  *n = 0;
  if (!b)
    return -1;
  for (; *s; s++) {
    if (*s == ' ' || *s == ':' || *s == '\t' || *s == '\n')
      continue;
    v = cli_hex_digit(*s);
    if (v < 0) {
      free(b);
      return -1;
    }
    if (hi < 0) {
      hi = v;
    } else {
      b[k++] = (unsigned char)(hi << 4 | v);
      hi = -1;
    }
  }
  if (hi >= 0) {
    free(b);
    return -1;
  }
  *out = b;
  *n = k;
  return 0;
}

static int poke(const char *path, uint64_t off, const unsigned char *bytes,
                size_t n, int grow) {
  mmf_options o = MMF_OPTIONS_INIT;
  mmf_map *m = NULL;
  cli_file f;
  int rc;
  /* Refuse FIFOs and devices before opening (opening a FIFO for writing
   * would wait for a reader); map the descriptor looked at. */
  if (cli_open_regular(path, 1, &f) != CLI_OK)
    return CLI_ERROR;
  if (!grow && (off > f.size || n > f.size - off)) {
    cli_os_close(&f);
    cli_error(path,
              "offset %" PRIu64 " length %zu is past the end of the file; "
              "use --grow to extend it",
              off, n);
    return CLI_ERROR;
  }
  /* Exactly the bytes written, with their disk blocks allocated before
   * any is stored: a full disk fails the open (which shrinks back what it
   * grew), never a write halfway through. */
  o.offset = off;
  o.length = n;
  o.flags = MMF_PREALLOCATE;
  rc = mmf_open_fd(&m, f.fd, MMF_WRITE, &o);
  cli_os_close(&f);
  if (!rc)
    rc = mmf_write(m, 0, bytes, n);
  if (!rc)
    rc = mmf_flush(m, 0, n, MMF_FLUSH_FULL);
  if (m) {
    int crc = mmf_close(m);
    if (!rc)
      rc = crc;
  }
  return rc ? cli_fail(path, rc) : CLI_OK;
}

int cmd_poke(int argc, char **argv) {
  static const struct option longs[] = {
      {"string", required_argument, NULL, 's'},
      {"hex", required_argument, NULL, 'x'},
      {"grow", no_argument, NULL, 'g'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  const char *str = NULL, *hex = NULL;
  unsigned char *bytes = NULL;
  size_t n;
  static const char *const operands[] = {NULL, "offset"};
  static const char *const value_opts[] = {"-s", "-x", "--string", "--hex",
                                           NULL};
  uint64_t off;
  int c, grow = 0, status;
  if (cli_negative_operand("poke", argc, argv, operands, 2, value_opts))
    return CLI_ERROR;
  opterr = 0;
  while ((c = getopt_long(argc, argv, ":s:x:gh", longs, NULL)) != -1) {
    switch (c) {
    case 's':
      str = optarg;
      break;
    case 'x':
      hex = optarg;
      break;
    case 'g':
      grow = 1;
      break;
    case 'h':
      fputs(usage, stdout);
      return cli_finish_output(CLI_OK);
    default:
      return cli_bad_option("poke", c, argv);
    }
  }
  if (argc - optind != 2)
    return cli_usage_error("poke", argc - optind < 2 ? "missing FILE or OFFSET"
                                                     : "too many arguments");
  if (!str == !hex)
    return cli_usage_error("poke", "give exactly one of -s STRING, -x HEX");
  if (cli_get_size("poke", "offset", argv[optind + 1], CLI_MAX_OFFSET, &off))
    return CLI_ERROR;
  if (hex) {
    if (parse_hex(hex, &bytes, &n))
      return cli_usage_error("poke",
                             "invalid HEX '%s': need pairs of hex "
                             "digits",
                             hex);
  } else {
    n = strlen(str);
  }
  if (n == 0) {
    free(bytes);
    return cli_usage_error("poke", "nothing to write");
  }
  if (n > CLI_MAX_OFFSET - off) {
    free(bytes);
    return cli_usage_error("poke", "offset plus length is too large");
  }
  status = poke(argv[optind], off, bytes ? bytes : (const unsigned char *)str,
                n, grow);
  free(bytes);
  return status;
}
