/*
 * count_lines - count the lines of a file, like `wc -l`.
 *
 *   count_lines FILE
 *   count_lines              (default run: a temporary three-line file)
 *
 * Maps the whole file read-only and lets mmf_count_byte() count the '\n'
 * bytes. The count runs inside the library's fault guard, so a file that is
 * truncated while we scan gives MMF_ETRUNCATED, not a crash.
 *
 * Inputs that cannot be mapped (a pipe, /proc/self/status) still work: mmf
 * reads them into memory and mmf_is_mapped() says so. An empty file maps
 * with size 0 and has 0 lines.
 */
#include "example_util.h"

static int run(const char *path) {
  /* Offset 0 and length 0: the whole file. MMF_SEQUENTIAL tunes read-ahead
   * for one front-to-back pass; it is only a hint. */
  mmf_options opts = {0};
  opts.flags = MMF_SEQUENTIAL;
  mmf_map *m = NULL;
  int rc = mmf_open(&m, path, MMF_READ, &opts);
  if (rc != 0)
    return ex_fail(path, rc);

  /* off 0, len 0: from the start to the end of the map. */
  uint64_t lines = 0;
  rc = mmf_count_byte(m, 0, 0, '\n', &lines);
  size_t size = mmf_size(m);
  bool mapped = mmf_is_mapped(m);
  mmf_close(m);
  if (rc != 0)
    return ex_fail("mmf_count_byte", rc);

  printf("%s: %zu bytes, %s\n", path, size,
         mapped ? "memory-mapped"
                : "read into memory (this input cannot be mapped)");
  printf("%llu lines\n", (unsigned long long)lines);
  return 0;
}

int main(int argc, char **argv) {
  char tmp[1024];
  const char *path;
  int made_temp = 0;

  if (argc == 2) {
    path = argv[1];
  } else if (argc == 1) {
    static const char text[] = "first line\nsecond line\nthird line\n";
    if (ex_temp_file(tmp, sizeof tmp, "count_lines", text, sizeof text - 1))
      return 1;
    path = tmp;
    made_temp = 1;
    printf("no arguments: using a temporary three-line file %s\n", path);
  } else {
    fprintf(stderr, "usage: %s FILE\n", argv[0]);
    return 2;
  }

  int status = run(path);
  if (made_temp)
    remove(path);
  return status;
}
