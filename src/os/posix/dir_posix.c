/*
 * dir_posix.c - directories for the log: make, list, sync; rename files.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "os/os.h"
#include "os/posix/sys_posix.h"

static int fail(int *oserr, int e) {
  if (oserr)
    *oserr = e;
  return mmf__os_error(e);
}

int mmf__os_mkdir(const char *path, int *created, int *oserr) {
  struct stat st;
  *created = 0;
  if (mmf__sys.mkdir(path, 0777) == 0) {
    *created = 1;
    return 0;
  }
  if (errno != EEXIST)
    return fail(oserr, errno);
  /* EEXIST says nothing about what exists: a file there is not a log. */
  if (stat(path, &st) != 0)
    return fail(oserr, errno);
  return S_ISDIR(st.st_mode) ? 0 : fail(oserr, ENOTDIR);
}

int mmf__os_list_dir(const char *path, int (*fn)(void *ctx, const char *name),
                     void *ctx, int *oserr) {
  DIR *d = mmf__sys.opendir(path);
  struct dirent *e;
  int rc = 0;
  if (!d)
    return fail(oserr, errno);
  for (;;) {
    errno = 0;
    e = mmf__sys.readdir(d);
    if (!e) {
      if (errno)
        rc = fail(oserr, errno);
      break;
    }
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    rc = fn(ctx, e->d_name);
    if (rc)
      break;
  }
  mmf__sys.closedir(d);
  return rc;
}

int mmf__os_rename(const char *from, const char *to, int *oserr) {
  return mmf__sys.rename(from, to) == 0 ? 0 : fail(oserr, errno);
}

int mmf__os_sync_dir(const char *path, int *oserr) {
  int fd, rc = 0;
  do
    fd = mmf__sys.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
  while (fd < 0 && errno == EINTR);
  if (fd < 0)
    return fail(oserr, errno);
  /* Some filesystems do not support fsync on directories (EINVAL); the
   * entries are then as durable as that filesystem can make them. */
  if (mmf__sys.fsync(fd) != 0 && errno != EINVAL)
    rc = fail(oserr, errno);
  mmf__sys.close(fd);
  return rc;
}
