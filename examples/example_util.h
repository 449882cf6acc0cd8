/*
 * example_util.h - the few lines every example shares, kept out of the way
 * so each example shows only mmf.
 *
 *  - ex_fail(): print "what: message (MMF_ENAME)" to stderr, return 1.
 *  - ex_temp_file(): create a new file with the given bytes in the temporary
 *    directory, for the default run when no file is named on the command
 *    line. The caller removes it with remove() when done.
 *
 * Plain C11, but for one Windows call: the C runtime there (msvcrt) does not
 * know fopen's "x" mode.
 */
#ifndef MMF_EXAMPLE_UTIL_H
#define MMF_EXAMPLE_UTIL_H

#include <mmf.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _WIN32
#include <direct.h>
#include <fcntl.h>
#include <io.h>
#include <sys/stat.h>
#endif

/* Report a failed mmf call and give the exit status for main(). */
static inline int ex_fail(const char *what, int rc) {
  fprintf(stderr, "error: %s: %s (%s)\n", what, mmf_strerror(rc),
          mmf_errname(rc));
  return 1;
}

/* Remove an empty directory (remove() does it on POSIX; the Windows C
 * runtime needs _rmdir). */
static inline int ex_remove_dir(const char *dir) {
#ifdef _WIN32
  return _rmdir(dir);
#else
  return remove(dir);
#endif
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
/* fopen(path, "wbx"): a new file, or NULL if path exists. msvcrt rejects
 * the "x" mode (EINVAL, for every path), so Windows creates the file
 * exclusively with _open(_O_CREAT | _O_EXCL) and wraps the descriptor. */
static inline FILE *ex_create_new(const char *path) {
#ifdef _WIN32
  int fd = _open(path, _O_WRONLY | _O_CREAT | _O_EXCL | _O_BINARY,
                 _S_IREAD | _S_IWRITE);
  if (fd < 0)
    return NULL;
  FILE *f = _fdopen(fd, "wb");
  if (f == NULL) {
    _close(fd);
    remove(path);
  }
  return f;
#else
  return fopen(path, "wbx");
#endif
}

static inline int ex_temp_file(char *path, size_t cap, const char *stem,
                               const void *data, size_t n) {
  for (int i = 0; i < 1000; i++) {
    int len = snprintf(path, cap, "%s/mmf-%s-%d.tmp", ex_temp_dir(), stem, i);
    if (len < 0 || (size_t)len >= cap)
      break;
    FILE *f = ex_create_new(path);
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
