/*
 * error_posix.c - errno values to portable MMF_E* codes.
 */
#include <errno.h>

#include "os/os.h"

int mmf__os_error(int oserr) {
  switch (oserr) {
  case EINVAL:
  case EBADF:
  case EFAULT:
    return MMF_EINVAL;
  case ENOENT:
    return MMF_ENOENT;
  case EACCES:
  case EPERM:
    return MMF_EACCES;
  case EISDIR:
    return MMF_EISDIR;
  case ENODEV:
  case ENXIO:
    return MMF_ENODEV;
  case ERANGE:
    return MMF_ERANGE;
  case EOVERFLOW:
    return MMF_EOVERFLOW;
  case ENOMEM:
  case ENOLCK: /* the kernel's lock table is full */
    return MMF_ENOMEM;
  case ENOSPC:
#ifdef EDQUOT
  case EDQUOT:
#endif
    return MMF_ENOSPC;
  case EFBIG:
    return MMF_EFBIG;
  case EIO:
    return MMF_EIO;
  case EBUSY:
  case ETXTBSY:
    return MMF_EBUSY;
  case EAGAIN:
#if EWOULDBLOCK != EAGAIN
  case EWOULDBLOCK:
#endif
    return MMF_EAGAIN;
  case ENOTSUP:
#if EOPNOTSUPP != ENOTSUP
  case EOPNOTSUPP:
#endif
  case ENOSYS:
    return MMF_ENOTSUP;
  case EROFS:
    return MMF_EROFS;
  case EEXIST:
    return MMF_EEXIST;
  case EMFILE:
  case ENFILE:
    return MMF_EMFILE;
  case ENAMETOOLONG:
    return MMF_ENAMETOOLONG;
  case ENOTDIR:
    return MMF_ENOTDIR;
  case ELOOP:
    return MMF_ELOOP;
  case ETIMEDOUT:
    return MMF_ETIMEDOUT;
  case EDEADLK:
    return MMF_EDEADLK;
  default:
    return MMF_EUNKNOWN;
  }
}
