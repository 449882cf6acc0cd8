/*
 * example_util.h - the few lines every example shares, kept out of the way
 * so each example shows only mmf.
 *
 *  - ex_fail(): print "what: message (MMF_ENAME)" to stderr, return 1.
 *  - ex_temp_file(): create a new file with the given bytes in the temporary
 *    directory, for the default run when no file is named on the command
 *    line. The caller removes it with remove() when done.
 *
 * Plain C11: no POSIX or Windows calls here.
 */
#ifndef MMF_EXAMPLE_UTIL_H
#define MMF_EXAMPLE_UTIL_H

#include <mmf.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Report a failed mmf call and give the exit status for main(). */
static inline int ex_fail(const char *what, int rc) {
  fprintf(stderr, "error: %s: %s (%s)\n", what, mmf_strerror(rc),
          mmf_errname(rc));
  return 1;
}

/* The temporary directory: $TMPDIR (POSIX), %TEMP% / %TMP% (Windows). */
static inline const char *ex_temp_dir(void) {
  const char *names[] = {"TMPDIR", "TEMP", "TMP"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    const char *dir = getenv(names[i]);
    if (dir != NULL && dir[0] != '\0')
      return dir;
  }
#ifdef _WIN32
  return ".";
#else
  return "/tmp";
#endif
}

/*
 * Create "<tempdir>/mmf-<stem>-<n>.tmp" holding n bytes of data, trying
 * n = 0, 1, ... until a name is free. C11's "x" mode makes the open fail if
 * the file exists, so two runs never share (or clobber) a file. Returns 0
 * and the path in path[0..cap), or -1 after printing why.
 */
static inline int ex_temp_file(char *path, size_t cap, const char *stem,
                               const void *data, size_t n) {
  for (int i = 0; i < 1000; i++) {
    int len = snprintf(path, cap, "%s/mmf-%s-%d.tmp", ex_temp_dir(), stem, i);
    if (len < 0 || (size_t)len >= cap)
      break;
    FILE *f = fopen(path, "wbx");
    if (f == NULL)
      continue; /* taken (or unwritable: we give up after the loop) */
    size_t done = fwrite(data, 1, n, f);
    if (fclose(f) != 0 || done != n) {
      remove(path);
      break;
    }
    return 0;
  }
  fprintf(stderr, "error: cannot create a temporary file in %s\n",
          ex_temp_dir());
  return -1;
}

#endif /* MMF_EXAMPLE_UTIL_H */
