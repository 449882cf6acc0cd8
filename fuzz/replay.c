/*
 * replay.c - runs a fuzz target over inputs, without libFuzzer.
 *
 *   fuzz_X_replay FILE...      each FILE is an input
 *   fuzz_X_replay @LIST        each line of LIST names an input
 *
 * Plain C11, so every compiler and platform the library supports builds
 * it and CTest replays each target's committed corpus in every leg (the
 * list is written by fuzz/CMakeLists.txt, as listing a directory is not
 * C11). A failed check aborts, as under libFuzzer; the driver names the
 * input first, so the log says which one. Zero inputs is a failure: an
 * empty corpus would pass without testing anything.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

static int replay_file(const char *path) {
  FILE *f = fopen(path, "rb");
  unsigned char *data = NULL, *grown;
  size_t n = 0, cap = 0, got;
  if (!f) {
    fprintf(stderr, "replay: cannot open %s\n", path);
    return -1;
  }
  do {
    if (n == cap) {
      cap = cap ? 2 * cap : 4096;
      grown = realloc(data, cap);
      if (!grown) {
        free(data);
        fclose(f);
        fprintf(stderr, "replay: out of memory reading %s\n", path);
        return -1;
      }
      data = grown;
    }
    got = fread(data + n, 1, cap - n, f);
    n += got;
  } while (got > 0);
  if (ferror(f)) {
    free(data);
    fclose(f);
    fprintf(stderr, "replay: cannot read %s\n", path);
    return -1;
  }
  fclose(f);
  fprintf(stderr, "replay: %s (%zu bytes)\n", path, n);
  fflush(stderr);
  (void)LLVMFuzzerTestOneInput(data, n);
  free(data);
  return 0;
}

/* Each line of the list names an input; empty lines are skipped. */
static int replay_list(const char *list, long *count) {
  char line[4096];
  size_t len;
  FILE *f = fopen(list, "r");
  if (!f) {
    fprintf(stderr, "replay: cannot open the list %s\n", list);
    return -1;
  }
  while (fgets(line, sizeof line, f)) {
    len = strlen(line);
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
      line[--len] = '\0';
    if (len == 0)
      continue;
    if (replay_file(line) != 0) {
      fclose(f);
      return -1;
    }
    ++*count;
  }
  fclose(f);
  return 0;
}

int main(int argc, char **argv) {
  long count = 0;
  int i;
  for (i = 1; i < argc; i++) {
    if (argv[i][0] == '@') {
      if (replay_list(argv[i] + 1, &count) != 0)
        return 1;
    } else {
      if (replay_file(argv[i]) != 0)
        return 1;
      count++;
    }
  }
  if (count == 0) {
    fprintf(stderr, "replay: no inputs\n");
    return 1;
  }
  printf("replay: %ld inputs, every check held\n", count);
  return 0;
}
