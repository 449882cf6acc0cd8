/*
 * file_win.c - opening, sizing, reading and syncing files on Windows.
 *
 * Paths arrive as UTF-8 and are opened as UTF-16 with CreateFileW, sharing
 * read, write and delete, so that a mapped file can still be renamed or
 * deleted by others, as on POSIX. Handles are never inheritable: the
 * Windows form of close-on-exec.
 */
#include <io.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "os/alloc.h"
#include "os/win/util_win.h"

#define SHARE_ALL (FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE)
/* ReadFile takes a DWORD count; stay well below it. */
#define READ_CHUNK ((DWORD)1 << 30)

/* Paths longer than this get the \\?\ prefix: plain Win32 paths stop at
 * MAX_PATH (less 12 for directories). */
#define SHORT_PATH (MAX_PATH - 12)

static int starts_with(const wchar_t *s, const wchar_t *prefix) {
  return wcsncmp(s, prefix, wcslen(prefix)) == 0;
}

/* A long path made absolute and extended-length (\\?\C:\... or
 * \\?\UNC\server\share\...), so it is not cut at MAX_PATH. */
static wchar_t *extended_path(const wchar_t *w) {
  DWORD n = GetFullPathNameW(w, 0, NULL, NULL), got;
  wchar_t *full, *out;
  int unc;
  if (n == 0)
    return NULL;
  full = mmf__alloc.malloc((size_t)n * sizeof *full);
  if (!full)
    return NULL;
  got = GetFullPathNameW(w, n, full, NULL);
  if (got == 0 || got >= n) {
    mmf__alloc.free(full);
    return NULL;
  }
  unc = full[0] == L'\\' && full[1] == L'\\';
  out = mmf__alloc.malloc(((size_t)got + 8) * sizeof *out);
  if (out) {
    wcscpy(out, unc ? L"\\\\?\\UNC" : L"\\\\?\\");
    wcscat(out, unc ? full + 1 : full);
  }
  mmf__alloc.free(full);
  return out;
}

/* UTF-8 to a UTF-16 path CreateFileW accepts. Invalid UTF-8 is
 * MMF_EINVAL (ERROR_NO_UNICODE_TRANSLATION). */
int mmf__win_wide_path(const char *path, wchar_t **out, int *oserr) {
  int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path, -1, NULL, 0);
  wchar_t *w, *ext;
  *out = NULL;
  if (n <= 0)
    return mmf__win_fail_last(oserr);
  w = mmf__alloc.malloc((size_t)n * sizeof *w);
  if (!w)
    return mmf__alloc_failed(oserr);
  if (MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path, -1, w, n) != n) {
    mmf__alloc.free(w);
    return mmf__win_fail_last(oserr);
  }
  if ((size_t)n - 1 >= SHORT_PATH && !starts_with(w, L"\\\\?\\") &&
      !starts_with(w, L"\\\\.\\")) {
    ext = extended_path(w);
    if (ext) {
      mmf__alloc.free(w);
      w = ext;
    }
  }
  *out = w;
  return 0;
}

int mmf__os_open(const char *path, unsigned how, mmf__file *f, int *created,
                 int *oserr) {
  wchar_t *w;
  HANDLE h;
  DWORD e, attrs, disposition = OPEN_EXISTING;
  int rc;
  f->h = MMF__NO_FILE;
  *created = 0;
  rc = mmf__win_wide_path(path, &w, oserr);
  if (rc)
    return rc;
  /* No open waits on Windows the way a POSIX FIFO does, so
   * MMF__OPEN_NONBLOCK needs nothing here. */
  if (how & MMF__OPEN_CREATE)
    disposition = (how & MMF__OPEN_EXCLUSIVE) ? CREATE_NEW : OPEN_ALWAYS;
  h = mmf__sys.CreateFileW(
      w, GENERIC_READ | ((how & MMF__OPEN_WRITE) ? GENERIC_WRITE : 0),
      SHARE_ALL, NULL, disposition, FILE_ATTRIBUTE_NORMAL, NULL);
  e = GetLastError();
  if (h == INVALID_HANDLE_VALUE) {
    /* Windows refuses to open a directory as a file with
     * ERROR_ACCESS_DENIED; POSIX says EISDIR, and so do we. */
    attrs = e == ERROR_ACCESS_DENIED ? GetFileAttributesW(w)
                                     : INVALID_FILE_ATTRIBUTES;
    mmf__alloc.free(w);
    if (attrs != INVALID_FILE_ATTRIBUTES &&
        (attrs & FILE_ATTRIBUTE_DIRECTORY)) {
      if (oserr)
        *oserr = (int)e;
      return MMF_EISDIR;
    }
    return mmf__win_fail(oserr, e);
  }
  mmf__alloc.free(w);
  /* OPEN_ALWAYS reports an existing file as ERROR_ALREADY_EXISTS;
   * CREATE_NEW only succeeds by creating. */
  *created = (how & MMF__OPEN_CREATE) && e != ERROR_ALREADY_EXISTS;
  f->h = (intptr_t)h;
  return 0;
}

int mmf__os_remove(const char *path, int *oserr) {
  wchar_t *w;
  int rc = mmf__win_wide_path(path, &w, oserr);
  if (rc)
    return rc;
  if (!mmf__sys.DeleteFileW(w))
    rc = mmf__win_fail_last(oserr);
  mmf__alloc.free(w);
  return rc;
}

#if defined(_UCRT)
/* The UCRT calls the invalid-parameter handler, which by default ends the
 * process, for a descriptor that is not open. (ucrtbase exports the
 * per-thread setter; not every mingw-w64 header declares it.) */
_invalid_parameter_handler __cdecl _set_thread_local_invalid_parameter_handler(
    _invalid_parameter_handler handler);

static void __cdecl ignore_invalid_parameter(const wchar_t *expr,
                                             const wchar_t *fn,
                                             const wchar_t *file, unsigned line,
                                             uintptr_t r) {
  (void)expr;
  (void)fn;
  (void)file;
  (void)line;
  (void)r;
}
#endif

static intptr_t os_handle_of(int fd) {
  intptr_t h;
#if defined(_UCRT)
  _invalid_parameter_handler old =
      _set_thread_local_invalid_parameter_handler(ignore_invalid_parameter);
  h = _get_osfhandle(fd);
  _set_thread_local_invalid_parameter_handler(old);
#else
  h = _get_osfhandle(fd);
#endif
  return h;
}

/*
 * The access check reads the mask the handle was granted (NtQueryObject),
 * which has no side effects. Two tempting alternatives are wrong: a
 * trial CreateFileMapping(PAGE_READWRITE) grows an empty or short file,
 * and DuplicateHandle with a wider access than the original succeeds
 * (Wine grants it), so neither tells what the caller's descriptor allows.
 * Where the query is unavailable the check is skipped; mapping with an
 * access the handle lacks then fails with ERROR_ACCESS_DENIED, which is
 * MMF_EACCES as well.
 */
int mmf__os_dup(int fd, int writable, mmf__file *f, int *oserr) {
  intptr_t osh;
  HANDLE nh = NULL;
  DWORD access, need = FILE_READ_DATA | (writable ? FILE_WRITE_DATA : 0);
  f->h = MMF__NO_FILE;
  if (fd < 0)
    return mmf__win_fail(oserr, ERROR_INVALID_HANDLE);
  osh = os_handle_of(fd);
  /* -2: a standard stream with no console behind it. */
  if (osh == -1 || osh == -2)
    return mmf__win_fail(oserr, ERROR_INVALID_HANDLE);
  if (mmf__sys.GetHandleAccess((HANDLE)osh, &access) &&
      (access & need) != need) {
    if (oserr)
      *oserr = (int)ERROR_ACCESS_DENIED;
    return MMF_EACCES;
  }
  if (!mmf__sys.DuplicateHandle(GetCurrentProcess(), (HANDLE)osh,
                                GetCurrentProcess(), &nh, 0, FALSE,
                                DUPLICATE_SAME_ACCESS))
    return mmf__win_fail_last(oserr);
  f->h = (intptr_t)nh;
  return 0;
}

void mmf__os_close(mmf__file *f) {
  if (f->h != MMF__NO_FILE) {
    (void)mmf__sys.CloseHandle((HANDLE)f->h);
    f->h = MMF__NO_FILE;
  }
}

int mmf__os_stat(mmf__file f, int *kind, uint64_t *size, int *oserr) {
  FILE_STANDARD_INFO st;
  DWORD type, e;
  *kind = 0;
  *size = 0;
  type = mmf__sys.GetFileType((HANDLE)f.h);
  switch (type) {
  case FILE_TYPE_DISK:
    break;
  case FILE_TYPE_CHAR: /* consoles, NUL, serial ports */
  case FILE_TYPE_PIPE: /* pipes and sockets */
    *kind = MMF__KIND_STREAM;
    return 0;
  default:
    e = GetLastError();
    if (e != NO_ERROR)
      return mmf__win_fail(oserr, e);
    *kind = MMF__KIND_OTHER;
    return 0;
  }
  if (!mmf__win_standard_info((HANDLE)f.h, &st)) {
    e = GetLastError();
    /* Volumes and raw disks (\\.\C:) are disk handles without file
     * information: tried as regular files of unknown size. */
    if (e == ERROR_INVALID_PARAMETER || e == ERROR_INVALID_FUNCTION ||
        e == ERROR_NOT_SUPPORTED) {
      *kind = MMF__KIND_OTHER;
      return 0;
    }
    return mmf__win_fail(oserr, e);
  }
  if (st.Directory) {
    *kind = MMF__KIND_DIRECTORY;
    return 0;
  }
  *kind = MMF__KIND_REGULAR;
  *size = (uint64_t)st.EndOfFile.QuadPart;
  return 0;
}

/* Last-write time stands in for the change time: every size change and
 * every write through a handle or a view updates it. */
int mmf__os_change_stamp(mmf__file f, mmf__stamp *stamp, int *oserr) {
  FILE_BASIC_INFO bi;
  FILE_STANDARD_INFO st;
  stamp->change_time = 0;
  stamp->size = 0;
  if (!mmf__win_basic_info((HANDLE)f.h, &bi) ||
      !mmf__win_standard_info((HANDLE)f.h, &st))
    return mmf__win_fail_last(oserr);
  stamp->change_time = (uint64_t)bi.LastWriteTime.QuadPart;
  stamp->size = (uint64_t)st.EndOfFile.QuadPart;
  return 0;
}

int mmf__os_read(mmf__file f, int64_t off, void *buf, size_t n, size_t *got,
                 int *oserr) {
  HANDLE h = (HANDLE)f.h;
  DWORD want = n > READ_CHUNK ? READ_CHUNK : (DWORD)n, r = 0, e = 0;
  LARGE_INTEGER pos, zero;
  OVERLAPPED ov;
  BOOL ok, restore = FALSE;
  *got = 0;
  if (off >= 0) {
    /* A positioned ReadFile on a synchronous handle also moves the file
     * pointer, which a handle from mmf_open_fd shares with the caller's
     * descriptor; pread does not. Put it back afterwards. */
    zero.QuadPart = 0;
    restore = SetFilePointerEx(h, zero, &pos, FILE_CURRENT);
    memset(&ov, 0, sizeof ov);
    ov.Offset = (DWORD)((uint64_t)off & 0xffffffffu);
    ov.OffsetHigh = (DWORD)((uint64_t)off >> 32);
    ok = mmf__sys.ReadFile(h, buf, want, &r, &ov);
  } else {
    ok = mmf__sys.ReadFile(h, buf, want, &r, NULL);
  }
  if (!ok)
    e = GetLastError();
  if (restore)
    (void)SetFilePointerEx(h, pos, NULL, FILE_BEGIN);
  if (!ok) {
    /* End of file, and a pipe whose other end is gone (an anonymous
     * pipe's writer closed: ERROR_BROKEN_PIPE; a named pipe's client
     * disconnected: ERROR_PIPE_NOT_CONNECTED): end of input. */
    if (e == ERROR_HANDLE_EOF || e == ERROR_BROKEN_PIPE ||
        e == ERROR_PIPE_NOT_CONNECTED)
      return 0;
    return mmf__win_fail(oserr, e);
  }
  *got = r;
  return 0;
}

/* Pipes and consoles have no file pointer to move; the caller reads. */
int mmf__os_skip(mmf__file f, uint64_t n, int *oserr) {
  LARGE_INTEGER by;
  if (n > (uint64_t)INT64_MAX)
    return mmf__win_fail(oserr, ERROR_FILE_TOO_LARGE);
  if (GetFileType((HANDLE)f.h) != FILE_TYPE_DISK) {
    if (oserr)
      *oserr = (int)ERROR_NOT_SUPPORTED;
    return MMF_ENOTSUP;
  }
  by.QuadPart = (LONGLONG)n;
  if (!SetFilePointerEx((HANDLE)f.h, by, NULL, FILE_CURRENT)) {
    if (oserr)
      *oserr = (int)GetLastError();
    return MMF_ENOTSUP;
  }
  return 0;
}

int mmf__os_tell(mmf__file f, uint64_t *pos, int *oserr) {
  LARGE_INTEGER zero, at;
  *pos = 0;
  zero.QuadPart = 0;
  if (!SetFilePointerEx((HANDLE)f.h, zero, &at, FILE_CURRENT))
    return mmf__win_fail_last(oserr);
  *pos = (uint64_t)at.QuadPart;
  return 0;
}

/* A file extended with SetEndOfFile is allocated, not sparse, and mmf
 * makes no sparse files: there are no ranges known to be zero to skip. */
uint64_t mmf__os_data_end(mmf__file f, uint64_t from, uint64_t size) {
  (void)f;
  (void)from;
  return size;
}

int mmf__os_keep_position(mmf__file f, uint64_t *pos) {
  int oserr;
  return mmf__os_tell(f, pos, &oserr) == 0;
}

void mmf__os_put_position(mmf__file f, uint64_t pos) {
  LARGE_INTEGER at;
  at.QuadPart = (LONGLONG)pos;
  (void)SetFilePointerEx((HANDLE)f.h, at, NULL, FILE_BEGIN);
}

/* Windows has no pseudo filesystems that make sizes up. */
int mmf__os_size_is_exact(mmf__file f) {
  (void)f;
  return 1;
}

/* Shrinking below the end of a live view of the file fails with
 * ERROR_USER_MAPPED_FILE (MMF_EBUSY), whichever process maps it. */
int mmf__os_set_size(mmf__file f, uint64_t size, int *oserr) {
  FILE_END_OF_FILE_INFO info;
  if (size > (uint64_t)INT64_MAX)
    return mmf__win_fail(oserr, ERROR_FILE_TOO_LARGE);
  info.EndOfFile.QuadPart = (LONGLONG)size;
  if (!mmf__sys.SetFileInformationByHandle((HANDLE)f.h, FileEndOfFileInfo,
                                           &info, sizeof info))
    return mmf__win_fail_last(oserr);
  return 0;
}

/*
 * Raise the file's allocation (FileAllocationInfo) to cover [off, off+len).
 * Never lower it: a smaller allocation size truncates the file.
 * Filesystems that do not implement the call (Wine 8 among them) get a
 * pass for ranges inside the end of a non-sparse file, because NTFS and
 * FAT allocate clusters when the end of file is moved, which the core has
 * already done for MMF_WRITE maps.
 */
int mmf__os_preallocate(mmf__file f, uint64_t off, uint64_t len, int *oserr) {
  HANDLE h = (HANDLE)f.h;
  FILE_STANDARD_INFO st;
  FILE_ALLOCATION_INFO ai;
  FILE_BASIC_INFO bi;
  uint64_t end, eof;
  DWORD e;
  if (off > (uint64_t)INT64_MAX || len > (uint64_t)INT64_MAX - off)
    return mmf__win_fail(oserr, ERROR_FILE_TOO_LARGE);
  end = off + len;
  if (!mmf__win_standard_info(h, &st))
    return mmf__win_fail_last(oserr);
  if ((uint64_t)st.AllocationSize.QuadPart >= end)
    return 0;
  ai.AllocationSize.QuadPart = (LONGLONG)end;
  if (mmf__sys.SetFileInformationByHandle(h, FileAllocationInfo, &ai,
                                          sizeof ai))
    return 0;
  e = GetLastError();
  if (e != ERROR_CALL_NOT_IMPLEMENTED && e != ERROR_NOT_SUPPORTED &&
      e != ERROR_INVALID_FUNCTION)
    return mmf__win_fail(oserr, e);
  eof = (uint64_t)st.EndOfFile.QuadPart;
  if (end > eof)
    return mmf__win_fail(oserr, e);
  /* The pass needs the attributes; if they cannot be read, that failure
   * is the one to report, not the unsupported call. */
  if (!mmf__win_basic_info(h, &bi))
    return mmf__win_fail_last(oserr);
  if (!(bi.FileAttributes & FILE_ATTRIBUTE_SPARSE_FILE))
    return 0;
  return mmf__win_fail(oserr, e);
}

/* FlushFileBuffers writes the file's data and metadata and flushes the
 * drive's cache; there is nothing further for "full". */
int mmf__os_sync_file(mmf__file f, int full, int *oserr) {
  (void)full;
  if (!mmf__sys.FlushFileBuffers((HANDLE)f.h))
    return mmf__win_fail_last(oserr);
  return 0;
}

/* A no-op: NTFS journals directory changes, and a directory cannot be
 * flushed without write access to it (FILE_FLAG_BACKUP_SEMANTICS plus
 * GENERIC_WRITE), which a caller mapping a file need not have. */
int mmf__os_sync_parent_dir(const char *path, int *oserr) {
  (void)path;
  (void)oserr;
  return 0;
}

/* Asks the volume through the file handle itself, so it also works for a
 * file that was renamed or deleted since it was opened. */
int mmf__os_fs_full(mmf__file f) {
  ULONGLONG bytes = 0;
  if (!mmf__sys.GetVolumeFreeBytes((HANDLE)f.h, &bytes))
    return 0;
  return bytes == 0;
}
