/*
 * cmd_peek.c - `mmf peek`: the bytes at an offset, raw or in hex.
 *
 * The range must lie inside the input: an offset or length past the end is
 * an error (exit 2), never a short or padded answer.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>

#include "cli.h"

static const char usage[] =
    "Usage: mmf peek [OPTION]... FILE OFFSET [LENGTH]\n"
    "Write LENGTH bytes (default 1) of FILE starting at byte OFFSET to\n"
    "standard output, as they are. FILE may be - for standard input.\n"
    "\n"
    "  -x, --hex    print the bytes as lowercase hex digits and a newline\n"
    "               (the form `mmf poke -x` takes)\n"
    "  -h, --help   show this help\n"
    "\n"
    "OFFSET and LENGTH: decimal, 0x hex or 0 octal, with an optional K, M,\n"
    "G... suffix. A range past the end of FILE is an error (exit 2).\n";

#define CHUNK ((size_t)64 << 10)

static int peek(cli_reader *in, uint64_t off, uint64_t len, int hex) {
  static unsigned char buf[CHUNK];
  static const char digits[] = "0123456789abcdef";
  uint64_t have;
  size_t got, i;
  int rc;
  /* Files: check the whole range first, so nothing is written on failure
   * (off and len are at most 2^63 - 1 each: the sum fits). A stream's
   * length is known only by reading it. */
  if (in->mapped && off + len > mmf_window_total(in->w) - in->src.start)
    return MMF_ERANGE;
  rc = cli_reader_skip(in, off, &have);
  if (rc)
    return rc;
  if (have < off)
    return MMF_ERANGE;
  while (len > 0) {
    size_t want = len < CHUNK ? (size_t)len : CHUNK;
    rc = cli_reader_read(in, buf, want, &got);
    if (rc)
      return rc;
    if (hex) {
      for (i = 0; i < got; i++) {
        putchar(digits[buf[i] >> 4]);
        putchar(digits[buf[i] & 15]);
      }
    } else {
      fwrite(buf, 1, got, stdout);
    }
    if (got < want)
      return MMF_ERANGE;
    len -= got;
  }
  if (hex)
    putchar('\n');
  return 0;
}

/* "mmf peek 347 f": the OFFSET names a file and the FILE is a number. */
static void hint_swapped(const char *file, const char *offset) {
  const char *why;
  uint64_t v, size;
  int kind;
  if (cli_parse_size(file, CLI_MAX_OFFSET, &v, &why) == 0 &&
      cli_os_stat(offset, &kind, &size) == 0)
    cli_error(NULL,
              "peek: hint: FILE comes before OFFSET; did you mean "
              "'mmf peek %s %s'?",
              offset, file);
}

int cmd_peek(int argc, char **argv) {
  static const struct option longs[] = {{"hex", no_argument, NULL, 'x'},
                                        {"help", no_argument, NULL, 'h'},
                                        {NULL, 0, NULL, 0}};
  static const char *const operands[] = {NULL, "offset", "length"};
  static const char *const value_opts[] = {NULL};
  uint64_t off, len = 1;
  cli_reader in;
  int c, hex = 0, rc;
  if (cli_negative_operand("peek", argc, argv, operands, 3, value_opts))
    return CLI_ERROR;
  opterr = 0;
  while ((c = getopt_long(argc, argv, ":xh", longs, NULL)) != -1) {
    switch (c) {
    case 'x':
      hex = 1;
      break;
    case 'h':
      fputs(usage, stdout);
      return cli_finish_output(CLI_OK);
    default:
      return cli_bad_option("peek", c, argv);
    }
  }
  if (argc - optind < 2)
    return cli_usage_error("peek", "missing %s",
                           argc - optind < 1 ? "FILE and OFFSET" : "OFFSET");
  if (argc - optind > 3)
    return cli_usage_error("peek", "too many arguments");
  if (cli_get_size("peek", "offset", argv[optind + 1], CLI_MAX_OFFSET, &off)) {
    hint_swapped(argv[optind], argv[optind + 1]);
    return CLI_ERROR;
  }
  if (argc - optind == 3 &&
      cli_get_size("peek", "length", argv[optind + 2], CLI_MAX_OFFSET, &len))
    return CLI_ERROR;
  if (cli_reader_open(&in, argv[optind]) != CLI_OK)
    return CLI_ERROR;
  rc = peek(&in, off, len, hex);
  if (rc == MMF_ERANGE)
    cli_error(in.src.name,
              "offset %" PRIu64 " length %" PRIu64
              " is past the end of the input",
              off, len);
  else if (rc)
    cli_fail_io(in.src.name, rc, mmf_window_last_os_error(in.w));
  cli_reader_close(&in);
  return cli_finish_output(rc ? CLI_ERROR : CLI_OK);
}
