/*
 * mmapdemo - print the byte at a given offset of a file.
 *
 *   mmapdemo FILE OFFSET
 *   mmapdemo                 (default run: a temporary file, offset 6)
 *
 * Maps exactly one byte at any offset: mmf aligns the OS mapping down to the
 * page (or, on Windows, the 64 KiB allocation granularity) and hides the
 * slack, so mmf_data() points at the requested byte. An offset past the end
 * of the file is refused by mmf_open() with MMF_ERANGE before anything is
 * mapped; this program reports it and exits with status 1.
 */
#include "example_util.h"

#include <ctype.h>
#include <errno.h>

/* Parse a decimal offset; strtoull alone would accept "-1" and "12abc". */
static int parse_offset(const char *s, uint64_t *out) {
  char *end = NULL;
  if (s[0] < '0' || s[0] > '9')
    return -1;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno != 0 || *end != '\0')
    return -1;
  *out = (uint64_t)v;
  return 0;
}

static int run(const char *path, uint64_t offset) {
  /* Map one byte at that offset, read-only. */
  mmf_options opts = {0};
  opts.offset = offset;
  opts.length = 1;
  mmf_map *m = NULL;
  int rc = mmf_open(&m, path, MMF_READ, &opts);
  if (rc == MMF_ERANGE) {
    fprintf(stderr, "error: offset %llu is past the end of %s: %s (%s)\n",
            (unsigned long long)offset, path, mmf_strerror(rc),
            mmf_errname(rc));
    return 1;
  }
  if (rc != 0)
    return ex_fail(path, rc);

  /*
   * mmf_read() copies through the fault guard: if another process truncated
   * the file under us, we get MMF_ETRUNCATED instead of a SIGBUS.
   * ((const unsigned char *)mmf_data(m))[0] is the same byte, unguarded.
   */
  unsigned char byte = 0;
  rc = mmf_read(m, 0, &byte, 1);
  mmf_close(m);
  if (rc != 0)
    return ex_fail("mmf_read", rc);

  printf("mapped 1 byte of %s at offset %llu (the OS maps from %zu-byte "
         "boundaries: mmf aligned down and hid the slack)\n",
         path, (unsigned long long)offset, mmf_granularity());
  printf("byte at offset %llu: 0x%02x", (unsigned long long)offset, byte);
  if (isprint(byte))
    printf(" '%c'", byte);
  printf("\n");
  return 0;
}

int main(int argc, char **argv) {
  char tmp[1024];
  const char *path;
  const char *offset_text;
  int made_temp = 0;

  if (argc == 3) {
    path = argv[1];
    offset_text = argv[2];
  } else if (argc == 1) {
    static const char text[] = "Hello from mmf!\n";
    if (ex_temp_file(tmp, sizeof tmp, "mmapdemo", text, sizeof text - 1))
      return 1;
    path = tmp;
    offset_text = "6";
    made_temp = 1;
    printf("no arguments: using a temporary file %s holding "
           "\"Hello from mmf!\\n\"\n",
           path);
  } else {
    fprintf(stderr, "usage: %s FILE OFFSET\n", argv[0]);
    return 2;
  }

  int status;
  uint64_t offset = 0;
  if (parse_offset(offset_text, &offset) != 0) {
    fprintf(stderr,
            "error: OFFSET must be a non-negative decimal number, not "
            "\"%s\"\n",
            offset_text);
    status = 1;
  } else {
    status = run(path, offset);
  }
  if (made_temp)
    remove(path);
  return status;
}
