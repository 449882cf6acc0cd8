/*
 * shm_posix.c - named shared memory with shm_open.
 *
 * A POSIX region is a file in a memory file system (/dev/shm on Linux),
 * so the core maps it as it maps files: sizes come from fstat and are
 * exact, growth is ftruncate, MMF_PREALLOCATE reserves its memory up
 * front (without it a full /dev/shm, such as Docker's 64 MB default,
 * shows up as SIGBUS on first touch, which the guard then reports), and
 * its faults are classified like a file's. The region lives until it is
 * unlinked, whoever still maps it; a process killed before unlinking
 * leaves it behind (`mmf shm list`, `mmf shm rm`).
 *
 * A region is created at size 0 and grown right after by the core. A
 * process opening it in between would see it empty: an existing region
 * of size 0 is looked at again for up to 100 ms before it is taken as
 * empty.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>

#include "os/os.h"
#include "os/posix/sys_posix.h"

/* "/" + up to 200 checked bytes + NUL. */
#define PATH_MAX_SHM 256
#define EMPTY_LOOKS 100

static int fail(int *oserr, int e) {
  if (oserr)
    *oserr = e;
  return mmf__os_error(e);
}

static int open_retry(const char *path, int flags, mode_t mode) {
  int fd;
  do
    fd = mmf__sys.shm_open(path, flags, mode);
  while (fd < 0 && errno == EINTR);
  return fd;
}

int mmf__os_shm_is_file(void) { return 1; }

int mmf__os_shm_open(const char *name, int writable, int create, int exclusive,
                     uint64_t size, mmf__file *f, uint64_t *region_size,
                     int *created, int *oserr) {
  char path[PATH_MAX_SHM];
  struct stat st;
  struct timespec ms = {0, 1000000};
  /* No O_CLOEXEC: shm_open sets FD_CLOEXEC itself (POSIX requires it),
   * and some systems refuse flags it does not list. */
  int flags = writable ? O_RDWR : O_RDONLY, fd = -1, looks;
  (void)size; /* the core grows it */
  f->h = MMF__NO_FILE;
  *region_size = 0;
  *created = 0;
  snprintf(path, sizeof path, "/%s", name);
  for (;;) {
    if (create) {
      /* Exclusively, so that we know whether this call made it. */
      fd = open_retry(path, flags | O_CREAT | O_EXCL, 0666);
      if (fd >= 0) {
        *created = 1;
        break;
      }
      if (errno != EEXIST || exclusive)
        return fail(oserr, errno);
    }
    fd = open_retry(path, flags, 0);
    if (fd >= 0)
      break;
    /* Unlinked between our two tries: create it after all. */
    if (errno != ENOENT || !create)
      return fail(oserr, errno);
  }
  for (looks = 0;; looks++) {
    if (mmf__sys.fstat(fd, &st) != 0) {
      int e = errno;
      mmf__sys.close(fd);
      if (*created) /* leave no name behind */
        (void)mmf__sys.shm_unlink(path);
      *created = 0;
      return fail(oserr, e);
    }
    if (st.st_size > 0 || *created || looks == EMPTY_LOOKS)
      break;
    (void)mmf__sys.nanosleep(&ms, NULL);
  }
  f->h = fd;
  *region_size = (uint64_t)st.st_size;
  return 0;
}

int mmf__os_map_section(mmf__file f, int access, uint64_t off, size_t len,
                        unsigned flags, void **addr, int *oserr) {
  (void)f;
  (void)access;
  (void)off;
  (void)len;
  (void)flags;
  (void)oserr;
  *addr = NULL;
  return MMF_ENOTSUP; /* regions are files here */
}

int mmf__os_shm_unlink(const char *name, int *oserr) {
  char path[PATH_MAX_SHM];
  snprintf(path, sizeof path, "/%s", name);
  if (mmf__sys.shm_unlink(path) != 0)
    return fail(oserr, errno);
  return 0;
}
