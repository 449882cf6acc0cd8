/*
 * cmd_dump.c - `mmf dump`: a hex dump, byte for byte as `hexdump -C`.
 *
 * The rules follow util-linux's hexdump (display.c, get() and doskip()):
 *  - 16 bytes a line: "%08x", two spaces, two groups of eight "%02x"
 *    separated by one space, two spaces between the groups and before the
 *    "|ascii|" column; bytes 0x20-0x7e print as themselves, others as '.'.
 *  - A full line equal to the previous printed one is replaced by one "*"
 *    line for the whole run (-v prints them all). The last, partial line
 *    is always printed.
 *  - At the end, the offset after the last byte on a line of its own,
 *    unless it is 0.
 *  - -s past the end of a regular file starts at its size (nothing is
 *    dumped, the size is printed); -n 0 prints nothing at all.
 *  - -s on a device seeks (dump -s 1E /dev/zero is instant); on a pipe
 *    the skipped bytes are read and discarded.
 *
 * The bytes come through the library's window cursor (cli_read.c), which
 * also checks that nothing printed lies past the end of a file cut while
 * it is being dumped.
 */
#include <getopt.h>
#include <inttypes.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
    "Usage: mmf dump [OPTION]... [FILE]\n"
    "Print FILE in hexadecimal and ASCII, exactly as `hexdump -C` does.\n"
    "With no FILE, or when FILE is -, read standard input.\n"
    "\n"
    "  -s, --skip=OFFSET     start at byte OFFSET\n"
    "  -n, --length=LENGTH   dump at most LENGTH bytes\n"
    "  -v, --no-squeezing    print repeated lines instead of '*'\n"
    "  -C, --canonical       accepted for hexdump compatibility\n"
    "  -h, --help            show this help\n"
    "\n"
    "OFFSET and LENGTH: decimal, 0x hex or 0 octal, with an optional K, M,\n"
    "G, T (KiB...) or KB, MB, ... suffix, as hexdump takes them.\n";

#define LINE 16
#define CHUNK ((size_t)64 << 10)

enum squeeze { FIRST, WAIT, DUP, ALL };

typedef struct dumper {
  uint64_t address; /* of the next line */
  unsigned char prev[LINE];
  enum squeeze state;
} dumper;

static void print_line(uint64_t address, const unsigned char *b, size_t n) {
  static const char hex[] = "0123456789abcdef";
  char out[128], *p;
  size_t i;
  int len = snprintf(out, sizeof out, "%08" PRIx64 "  ", address);
  p = out + len;
  for (i = 0; i < LINE; i++) {
    if (i < n) {
      *p++ = hex[b[i] >> 4];
      *p++ = hex[b[i] & 15];
    } else {
      *p++ = ' ';
      *p++ = ' ';
    }
    *p++ = ' ';
    if (i == 7)
      *p++ = ' ';
  }
  *p++ = ' ';
  *p++ = '|';
  for (i = 0; i < n; i++)
    *p++ = b[i] >= 0x20 && b[i] < 0x7f ? (char)b[i] : '.';
  *p++ = '|';
  *p++ = '\n';
  fwrite(out, 1, (size_t)(p - out), stdout);
}

/* One line of n bytes (n < LINE only for the last one). */
static void dump_line(dumper *d, const unsigned char *b, size_t n) {
  if (n == LINE && d->state != FIRST && d->state != ALL &&
      memcmp(b, d->prev, LINE) == 0) {
    if (d->state == WAIT)
      fputs("*\n", stdout);
    d->state = DUP;
  } else {
    print_line(d->address, b, n);
    memcpy(d->prev, b, n);
    if (d->state != ALL)
      d->state = WAIT;
  }
  d->address += n;
}

static int dump(cli_reader *in, uint64_t skip, uint64_t length, int all) {
  static unsigned char buf[CHUNK];
  dumper d;
  uint64_t pos, remaining = length;
  size_t got, i;
  int rc;
  memset(&d, 0, sizeof d);
  d.state = all ? ALL : FIRST;
  if (length == 0)
    return 0;
  rc = cli_reader_skip(in, skip, &pos);
  if (rc)
    return rc;
  d.address = pos;
  while (remaining > 0) {
    size_t want = remaining < CHUNK ? (size_t)remaining : CHUNK;
    rc = cli_reader_read(in, buf, want, &got);
    /* Bytes read before a failure are good: dump them, then fail. */
    for (i = 0; i < got; i += LINE)
      dump_line(&d, buf + i, got - i < LINE ? got - i : LINE);
    if (rc)
      return rc;
    remaining -= got;
    if (got < want)
      break;
  }
  if (d.address != 0)
    printf("%08" PRIx64 "\n", d.address);
  return 0;
}

int cmd_dump(int argc, char **argv) {
  static const struct option longs[] = {
      {"skip", required_argument, NULL, 's'},
      {"length", required_argument, NULL, 'n'},
      {"no-squeezing", no_argument, NULL, 'v'},
      {"canonical", no_argument, NULL, 'C'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  uint64_t skip = 0, length = UINT64_MAX;
  cli_reader in;
  int c, all = 0, rc;
  opterr = 0;
  while ((c = getopt_long(argc, argv, ":s:n:vCh", longs, NULL)) != -1) {
    switch (c) {
    case 's':
      if (cli_get_size("dump", "offset", optarg, CLI_MAX_OFFSET, &skip))
        return CLI_ERROR;
      break;
    case 'n':
      if (cli_get_size("dump", "length", optarg, UINT64_MAX, &length))
        return CLI_ERROR;
      break;
    case 'v':
      all = 1;
      break;
    case 'C':
      break;
    case 'h':
      fputs(usage, stdout);
      return cli_finish_output(CLI_OK);
    default:
      return cli_bad_option("dump", c, argv);
    }
  }
  if (argc - optind > 1)
    return cli_usage_error("dump", "one FILE at most");
  if (cli_reader_open(&in, optind < argc ? argv[optind] : NULL) != CLI_OK)
    return CLI_ERROR;
  rc = dump(&in, skip, length, all);
  if (rc)
    cli_fail_io(in.src.name, rc, mmf_window_last_os_error(in.w));
  cli_reader_close(&in);
  return cli_finish_output(rc ? CLI_ERROR : CLI_OK);
}
