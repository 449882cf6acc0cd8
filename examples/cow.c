/*
 * cow - edit a private copy-on-write map; the file never changes.
 *
 *   cow FILE
 *   cow                      (default run: a temporary file)
 *
 * MMF_COPY maps the file privately: reading costs nothing extra, and the
 * first store into a page gives this process its own copy of that page.
 * Stores never reach the file, not even after mmf_flush() or mmf_close().
 * This is the way to parse a file in place when the parser scribbles on its
 * input (turning separators into '\0', say). A second, read-only map of the
 * same file shows the file unchanged.
 */
#include "example_util.h"

#include <ctype.h>

/* The edit: upper-case every letter, through the raw pointer. It runs under
 * mmf_guard() so a fault (file truncated meanwhile) becomes an error code. */
struct edit {
  unsigned char *bytes;
  size_t n;
};

static int upper_case(void *ctx) {
  struct edit *e = ctx;
  for (size_t i = 0; i < e->n; i++)
    e->bytes[i] = (unsigned char)toupper(e->bytes[i]);
  return 0;
}

/* Print the first line (at most 60 bytes) of a map, via the guarded read. */
static int print_first_line(const char *label, mmf_map *m) {
  char line[61];
  size_t n = mmf_size(m) < 60 ? mmf_size(m) : 60;
  int rc = mmf_read(m, 0, line, n);
  if (rc != 0)
    return rc;
  /* Up to the first '\n'; other unprintable bytes show as '.'. */
  for (size_t i = 0; i < n; i++) {
    if (line[i] == '\n') {
      n = i;
      break;
    }
    if (!isprint((unsigned char)line[i]))
      line[i] = '.';
  }
  line[n] = '\0';
  printf("  %-22s \"%s\"\n", label, line);
  return 0;
}

static int run(const char *path) {
  mmf_map *copy = NULL;
  int rc = mmf_open(&copy, path, MMF_COPY, NULL);
  if (rc != 0)
    return ex_fail(path, rc);
  if (mmf_size(copy) == 0) {
    printf("%s is empty: nothing to edit\n", path);
    mmf_close(copy);
    return 0;
  }

  /* Remember the original first bytes, to check the file afterwards. */
  unsigned char before[64];
  size_t nbefore =
      mmf_size(copy) < sizeof before ? mmf_size(copy) : sizeof before;
  rc = mmf_read(copy, 0, before, nbefore);

  /* Edit the private copy in place. */
  struct edit e = {mmf_data(copy), mmf_size(copy)};
  if (rc == 0)
    rc = mmf_guard(copy, upper_case, &e);
  if (rc == 0) {
    printf("upper-cased %zu bytes of %s through a MMF_COPY map\n", e.n, path);
    rc = print_first_line("the private copy says", copy);
  }
  /* Flushing a copy-on-write map only checks the range: nothing is
   * written. */
  if (rc == 0)
    rc = mmf_flush(copy, 0, 0, MMF_FLUSH_SYNC);

  /* A second map, read-only, sees the file itself. The copy is still open,
   * which shows the two maps are independent. */
  mmf_map *file = NULL;
  if (rc == 0)
    rc = mmf_open(&file, path, MMF_READ, NULL);
  if (rc == 0)
    rc = print_first_line("the file says", file);
  int diff = 0;
  if (rc == 0)
    rc = mmf_compare(file, 0, before, nbefore, &diff);
  mmf_close(file);
  mmf_close(copy);
  if (rc != 0)
    return ex_fail(path, rc);
  if (diff != 0) {
    fprintf(stderr, "error: %s changed under a MMF_COPY map\n", path);
    return 1;
  }
  printf("the file is unchanged: private edits never reach it\n");
  return 0;
}

int main(int argc, char **argv) {
  char tmp[1024];
  const char *path;
  int made_temp = 0;

  if (argc == 2) {
    path = argv[1];
  } else if (argc == 1) {
    static const char text[] = "the quick brown fox\njumps over the lazy dog\n";
    if (ex_temp_file(tmp, sizeof tmp, "cow", text, sizeof text - 1))
      return 1;
    path = tmp;
    made_temp = 1;
    printf("no arguments: using a temporary file %s\n", path);
  } else {
    fprintf(stderr, "usage: %s FILE\n", argv[0]);
    return 2;
  }

  int status = run(path);
  if (made_temp)
    remove(path);
  return status;
}
