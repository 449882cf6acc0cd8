/*
 * find_word - print the offset of the first occurrence of a word in a file.
 *
 *   find_word FILE [WORD]    (WORD defaults to "error")
 *   find_word                (default run: a small temporary log file)
 *
 * Maps the file read-only and searches it with mmf_find(), then counts the
 * '\n' bytes before the hit with mmf_count_byte() to give the line number.
 * Both run inside the library's fault guard. Exit status: 0 whether or not
 * the word is found (the output says which), 1 on errors.
 */
#include "example_util.h"

static int run(const char *path, const char *word) {
  mmf_map *m = NULL;
  int rc = mmf_open(&m, path, MMF_READ, NULL); /* NULL: the whole file */
  if (rc != 0)
    return ex_fail(path, rc);

  /* Search the whole map (off 0, len 0 = to the end). */
  uint64_t pos = MMF_NPOS;
  rc = mmf_find(m, 0, 0, word, strlen(word), &pos);
  if (rc != 0 || pos == MMF_NPOS) {
    mmf_close(m);
    if (rc != 0)
      return ex_fail("mmf_find", rc);
    printf("\"%s\" does not occur in %s\n", word, path);
    return 0;
  }

  /* The line number. Careful: len 0 means "to the end", so a hit at offset
   * 0 must not ask mmf_count_byte() for the range [0, 0). */
  uint64_t newlines = 0;
  if (pos > 0)
    rc = mmf_count_byte(m, 0, pos, '\n', &newlines);

  /* The hit and the rest of its line, at most 60 bytes. */
  char context[61];
  uint64_t avail = mmf_size(m) - pos;
  size_t n = avail < 60 ? (size_t)avail : 60;
  uint64_t eol = MMF_NPOS;
  if (rc == 0)
    rc = mmf_find(m, pos, n, "\n", 1, &eol);
  if (eol != MMF_NPOS)
    n = (size_t)(eol - pos);
  if (rc == 0)
    rc = mmf_read(m, pos, context, n);
  mmf_close(m);
  if (rc != 0)
    return ex_fail("search", rc);
  context[n] = '\0';

  printf("first \"%s\" in %s: offset %llu (line %llu)\n", word, path,
         (unsigned long long)pos, (unsigned long long)(newlines + 1));
  printf("  %s\n", context);
  return 0;
}

int main(int argc, char **argv) {
  char tmp[1024];
  const char *path;
  const char *word = "error";
  int made_temp = 0;

  if (argc == 2 || argc == 3) {
    path = argv[1];
    if (argc == 3)
      word = argv[2];
  } else if (argc == 1) {
    static const char text[] = "10:00 service started\n"
                               "10:01 request served\n"
                               "10:02 disk error: retrying\n"
                               "10:03 request served\n";
    if (ex_temp_file(tmp, sizeof tmp, "find_word", text, sizeof text - 1))
      return 1;
    path = tmp;
    made_temp = 1;
    printf("no arguments: searching a temporary log file %s\n", path);
  } else {
    fprintf(stderr, "usage: %s FILE [WORD]\n", argv[0]);
    return 2;
  }
  if (word[0] == '\0') {
    fprintf(stderr, "error: WORD must not be empty\n");
    return 2;
  }

  int status = run(path, word);
  if (made_temp)
    remove(path);
  return status;
}
