/*
 * os_win.c - the tool's own system calls on Windows (see cli_os.h), with
 * the Win32 API and the C runtime as mingw-w64 provides them.
 *
 * The entry point is wmain(): Windows hands programs their arguments in
 * UTF-16, and the narrow argv of main() is in the ANSI code page, which
 * cannot name every file. The arguments are converted to UTF-8, the
 * encoding the library and the rest of the tool use for paths.
 *
 * Descriptors are C runtime descriptors, which is what mmf_open_fd() and
 * mmf_window_open_fd() take on Windows: a file is opened with CreateFileW
 * (sharing read, write and delete, as the library opens files, and not
 * inheritable: the Windows form of close-on-exec) and wrapped with
 * _open_osfhandle. Standard input, output and error are switched to binary
 * mode, so that output is byte for byte what the tool writes on POSIX
 * (no "\n" to "\r\n" translation) and input is never cut at a Ctrl-Z.
 */
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>
#include <errno.h>
#include <fcntl.h>
#include <io.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "cli_os.h"

#ifndef ENABLE_VIRTUAL_TERMINAL_PROCESSING
#define ENABLE_VIRTUAL_TERMINAL_PROCESSING 0x0004
#endif
#ifndef SIGBREAK
#define SIGBREAK 21
#endif

#define SHARE_ALL (FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE)

const char cli_os_interrupts[] = "Ctrl-C, Ctrl-Break, console closed";
const char cli_os_memlock_name[] = "the minimum working set";
const char cli_os_memlock_hint[] = "";

/* Console modes cli_os_isatty() changed, put back at exit. */
static DWORD restore_modes[2];
static HANDLE restore_handles[2];
static int nrestore;

/* ------------------------------------------------------------------------ */
/* Entry point                                                               */
/* ------------------------------------------------------------------------ */

/* MMF_CLI_NO_MAIN builds the tool as a library (the fuzz targets call
 * cli_main themselves). */
#ifndef MMF_CLI_NO_MAIN

/* UTF-16 to a new UTF-8 string; NULL when out of memory. Unpaired
 * surrogates (which NTFS allows in names) become U+FFFD. */
static char *utf8_of(const wchar_t *w) {
  int n = WideCharToMultiByte(CP_UTF8, 0, w, -1, NULL, 0, NULL, NULL);
  char *s;
  if (n <= 0)
    return NULL;
  s = malloc((size_t)n);
  if (s && WideCharToMultiByte(CP_UTF8, 0, w, -1, s, n, NULL, NULL) != n) {
    free(s);
    s = NULL;
  }
  return s;
}

/* Put back the console modes cli_os_isatty() changed. */
static void restore_consoles(void) {
  while (nrestore > 0) {
    nrestore--;
    SetConsoleMode(restore_handles[nrestore], restore_modes[nrestore]);
  }
}

int wmain(int argc, wchar_t **wargv);

int wmain(int argc, wchar_t **wargv) {
  char **argv = calloc((size_t)argc + 1, sizeof *argv);
  int i;
  if (!argv) {
    fputs("mmf: out of memory\n", stderr);
    return 2;
  }
  for (i = 0; i < argc; i++) {
    argv[i] = utf8_of(wargv[i]);
    if (!argv[i]) {
      fputs("mmf: cannot convert the arguments to UTF-8\n", stderr);
      return 2;
    }
  }
  (void)_setmode(0, _O_BINARY);
  (void)_setmode(1, _O_BINARY);
  (void)_setmode(2, _O_BINARY);
  atexit(restore_consoles);
  return cli_main(argc, argv);
}
#endif /* MMF_CLI_NO_MAIN */

/* ------------------------------------------------------------------------ */
/* Files                                                                     */
/* ------------------------------------------------------------------------ */

/* A Win32 error as the errno value whose strerror() says the same. */
static int errno_of(DWORD e) {
  switch (e) {
  case ERROR_FILE_NOT_FOUND:
  case ERROR_PATH_NOT_FOUND:
  case ERROR_INVALID_DRIVE:
  case ERROR_INVALID_NAME:
  case ERROR_BAD_PATHNAME:
  case ERROR_BAD_NETPATH:
  case ERROR_BAD_NET_NAME:
    return ENOENT;
  case ERROR_ACCESS_DENIED:
  case ERROR_NETWORK_ACCESS_DENIED:
  case ERROR_PRIVILEGE_NOT_HELD:
    return EACCES;
  case ERROR_SHARING_VIOLATION:
  case ERROR_LOCK_VIOLATION:
  case ERROR_PIPE_BUSY:
    return EBUSY;
  case ERROR_TOO_MANY_OPEN_FILES:
    return EMFILE;
  case ERROR_NOT_ENOUGH_MEMORY:
  case ERROR_OUTOFMEMORY:
    return ENOMEM;
  case ERROR_WRITE_PROTECT:
    return EROFS;
  case ERROR_FILENAME_EXCED_RANGE:
    return ENAMETOOLONG;
  case ERROR_DIRECTORY:
    return ENOTDIR;
  case ERROR_NO_UNICODE_TRANSLATION:
    return EILSEQ;
  case ERROR_INVALID_HANDLE:
    return EBADF;
  case ERROR_INVALID_PARAMETER:
    return EINVAL;
  default:
    return EIO;
  }
}

/* w made absolute and extended-length (\\?\C:\dir\file, or
 * \\?\UNC\server\share\file), so that Windows does not cut it at
 * MAX_PATH; NULL if that fails. */
static wchar_t *extended(const wchar_t *w) {
  DWORD len = GetFullPathNameW(w, 0, NULL, NULL), got;
  wchar_t *full, *out = NULL;
  int unc;
  full = len ? malloc((size_t)len * sizeof *full) : NULL;
  if (!full)
    return NULL;
  got = GetFullPathNameW(w, len, full, NULL);
  if (got > 0 && got < len)
    out = malloc(((size_t)got + 8) * sizeof *out);
  if (out) {
    unc = full[0] == L'\\' && full[1] == L'\\';
    wcscpy(out, unc ? L"\\\\?\\UNC" : L"\\\\?\\");
    wcscat(out, unc ? full + 1 : full);
  }
  free(full);
  return out;
}

/* A UTF-8 path as a new UTF-16 string. Long ones (from MAX_PATH less the
 * 12 characters a directory needs) get the extended-length form. */
static int wide_path(const char *path, wchar_t **out) {
  int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path, -1, NULL, 0);
  wchar_t *w, *ext;
  *out = NULL;
  if (n <= 0)
    return errno_of(GetLastError());
  w = malloc((size_t)n * sizeof *w);
  if (!w)
    return ENOMEM;
  if (MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path, -1, w, n) != n) {
    free(w);
    return errno_of(GetLastError());
  }
  if (n - 1 >= MAX_PATH - 12 && wcsncmp(w, L"\\\\?\\", 4) != 0 &&
      wcsncmp(w, L"\\\\.\\", 4) != 0) {
    ext = extended(w);
    if (ext) {
      free(w);
      w = ext;
    }
  }
  *out = w;
  return 0;
}

/* Named pipes (\\.\pipe\NAME): opening one connects to its server, so
 * they are described without opening them. */
static int is_pipe_path(const wchar_t *w) {
  static const wchar_t prefix[] = L"\\\\.\\pipe\\";
  size_t i;
  for (i = 0; prefix[i]; i++) {
    wchar_t c = w[i] == L'/' ? L'\\' : w[i];
    if (towlower(c) != prefix[i])
      return 0;
  }
  return 1;
}

static int describe(HANDLE h, int *kind, uint64_t *size) {
  FILE_STANDARD_INFO st;
  DWORD type, e;
  *kind = 0;
  *size = 0;
  SetLastError(NO_ERROR);
  type = GetFileType(h);
  switch (type) {
  case FILE_TYPE_DISK:
    break;
  case FILE_TYPE_CHAR: /* consoles, NUL, serial ports */
  case FILE_TYPE_PIPE: /* pipes and sockets */
    *kind = CLI_KIND_STREAM;
    return 0;
  default:
    e = GetLastError();
    if (e != NO_ERROR)
      return errno_of(e);
    *kind = CLI_KIND_OTHER;
    return 0;
  }
  /* Not GetFileInformationByHandle: it also asks the volume, which Wine
   * cannot do for a standard handle redirected from a host file. */
  if (!GetFileInformationByHandleEx(h, FileStandardInfo, &st, sizeof st)) {
    *kind = CLI_KIND_OTHER; /* volumes and raw disks */
    return 0;
  }
  if (st.Directory) {
    *kind = CLI_KIND_DIRECTORY;
    return 0;
  }
  *kind = CLI_KIND_REGULAR;
  *size = (uint64_t)st.EndOfFile.QuadPart;
  return 0;
}

/* The handle behind a C runtime descriptor, or NULL. */
static HANDLE handle_of(int fd) {
  intptr_t h = _get_osfhandle(fd);
  /* -2: a standard stream with no console or file behind it. */
  return h == -1 || h == -2 ? NULL : (HANDLE)h;
}

/* FILE_FLAG_BACKUP_SEMANTICS opens directories as well (as open() does on
 * POSIX; reading one is then refused). */
static HANDLE open_path(const wchar_t *w, DWORD access) {
  return CreateFileW(w, access, SHARE_ALL, NULL, OPEN_EXISTING,
                     FILE_FLAG_BACKUP_SEMANTICS, NULL);
}

int cli_os_stat(const char *path, int *kind, uint64_t *size) {
  WIN32_FILE_ATTRIBUTE_DATA ad;
  wchar_t *w;
  HANDLE h;
  int e;
  *kind = 0;
  *size = 0;
  if (strcmp(path, "-") == 0) {
    h = handle_of(0);
    return h ? describe(h, kind, size) : EBADF;
  }
  e = wide_path(path, &w);
  if (e)
    return e;
  if (is_pipe_path(w)) {
    free(w);
    *kind = CLI_KIND_STREAM;
    return 0;
  }
  /* Reading attributes needs no read access and no sharing. */
  h = open_path(w, FILE_READ_ATTRIBUTES);
  if (h != INVALID_HANDLE_VALUE) {
    free(w);
    e = describe(h, kind, size);
    CloseHandle(h);
    return e;
  }
  e = errno_of(GetLastError());
  /* Refused (a system file, say): the directory entry still tells. */
  if (e == EACCES || e == EBUSY) {
    if (GetFileAttributesExW(w, GetFileExInfoStandard, &ad)) {
      e = 0;
      if (ad.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) {
        *kind = CLI_KIND_DIRECTORY;
      } else {
        *kind = CLI_KIND_REGULAR;
        *size = (uint64_t)ad.nFileSizeHigh << 32 | ad.nFileSizeLow;
      }
    }
  }
  free(w);
  return e;
}

int cli_os_open(const char *path, int writable, cli_file *f) {
  wchar_t *w;
  HANDLE h;
  int e, fd;
  f->fd = -1;
  f->kind = 0;
  f->size = 0;
  e = wide_path(path, &w);
  if (e)
    return e;
  h = open_path(w, GENERIC_READ | (writable ? GENERIC_WRITE : 0));
  e = h == INVALID_HANDLE_VALUE ? errno_of(GetLastError()) : 0;
  free(w);
  if (e)
    return e;
  e = describe(h, &f->kind, &f->size);
  if (e) {
    CloseHandle(h);
    return e;
  }
  fd = _open_osfhandle((intptr_t)h, writable ? _O_RDWR : _O_RDONLY);
  if (fd < 0) {
    e = errno ? errno : EMFILE;
    CloseHandle(h);
    return e;
  }
  f->fd = fd;
  return 0;
}

int cli_os_stdin(cli_file *f, uint64_t *pos) {
  HANDLE h = handle_of(0);
  __int64 at;
  int e;
  f->fd = -1;
  f->kind = 0;
  f->size = 0;
  *pos = 0;
  if (!h)
    return EBADF;
  e = describe(h, &f->kind, &f->size);
  if (e)
    return e;
  f->fd = 0;
  if (f->kind == CLI_KIND_REGULAR) {
    at = _lseeki64(0, 0, SEEK_CUR);
    if (at > 0)
      *pos = (uint64_t)at;
  }
  return 0;
}

void cli_os_close(cli_file *f) {
  if (f->fd >= 0)
    _close(f->fd);
  f->fd = -1;
}

int cli_os_file_size(int fd, uint64_t *size) {
  FILE_STANDARD_INFO st;
  HANDLE h = handle_of(fd);
  *size = 0;
  if (!h)
    return EBADF;
  if (!GetFileInformationByHandleEx(h, FileStandardInfo, &st, sizeof st))
    return errno_of(GetLastError());
  *size = (uint64_t)st.EndOfFile.QuadPart;
  return 0;
}

/* Windows limits handles only by memory; the C runtime's descriptors,
 * which are limited, are used only while a file is being opened (the
 * library keeps handles of its own). */
void cli_os_raise_open_files_limit(void) {}

int cli_os_read(int fd, void *buf, size_t n, size_t *got) {
  int r;
  *got = 0;
  if (n > INT_MAX / 2)
    n = INT_MAX / 2; /* _read counts in unsigned int, returns int */
  r = _read(fd, buf, (unsigned)n);
  if (r < 0)
    return errno;
  *got = (size_t)r;
  return 0;
}

/*
 * Windows has no call that drops one file's pages from the system cache:
 * the cache manager keeps them on the standby list until memory is needed,
 * and emptying that list (NtSetSystemInformation) is system-wide and needs
 * a privilege. Nothing is done and the caller says it is not supported.
 */
int cli_os_evict(int fd) {
  (void)fd;
  return ENOTSUP;
}

/*
 * A terminal is a console (GetConsoleMode succeeds; _isatty alone also
 * says yes for NUL and serial ports). Colour and the progress bar are ANSI
 * sequences, which a console interprets once virtual-terminal processing
 * is on (Windows 10 and later): it is switched on for output consoles and
 * switched back at exit. A console that refuses it is not a terminal here,
 * so no escape sequence is ever printed raw.
 */
int cli_os_isatty(int fd) {
  static signed char known[3] = {-1, -1, -1};
  HANDLE h;
  DWORD mode;
  int yes = 0;
  if (fd >= 0 && fd < 3 && known[fd] >= 0)
    return known[fd];
  h = _isatty(fd) ? handle_of(fd) : NULL;
  if (h && GetConsoleMode(h, &mode)) {
    yes = 1;
    if (fd != 0 && !(mode & ENABLE_VIRTUAL_TERMINAL_PROCESSING)) {
      yes = SetConsoleMode(h, mode | ENABLE_VIRTUAL_TERMINAL_PROCESSING) != 0;
      if (yes && nrestore < 2) {
        restore_handles[nrestore] = h;
        restore_modes[nrestore++] = mode;
      }
    }
  }
  if (fd >= 0 && fd < 3)
    known[fd] = (signed char)yes;
  return yes;
}

double cli_os_now(void) {
  static LARGE_INTEGER freq;
  LARGE_INTEGER t;
  if (freq.QuadPart == 0)
    QueryPerformanceFrequency(&freq); /* never fails since Windows XP */
  QueryPerformanceCounter(&t);
  return (double)t.QuadPart / (double)freq.QuadPart;
}

void cli_os_sleep_ms(unsigned ms) { Sleep(ms); }

/* ------------------------------------------------------------------------ */
/* Console events                                                            */
/* ------------------------------------------------------------------------ */

static HANDLE stop_event;
static volatile LONG stop_signal;

/* Runs on a thread the system starts for the event. */
static BOOL WINAPI on_console_event(DWORD type) {
  LONG sig;
  switch (type) {
  case CTRL_C_EVENT:
    sig = SIGINT;
    break;
  case CTRL_BREAK_EVENT:
    sig = SIGBREAK;
    break;
  case CTRL_CLOSE_EVENT:
  case CTRL_LOGOFF_EVENT:
  case CTRL_SHUTDOWN_EVENT:
    sig = SIGTERM;
    break;
  default:
    return FALSE;
  }
  InterlockedCompareExchange(&stop_signal, sig, 0);
  SetEvent(stop_event);
  /* For these the system ends the process as soon as the handler
   * returns: wait, so that the main thread cleans up and exits first. */
  if (sig == SIGTERM)
    Sleep(INFINITE);
  return TRUE;
}

int cli_os_wait_for_signal(void) {
  stop_event = CreateEventW(NULL, TRUE, FALSE, NULL);
  if (!stop_event || !SetConsoleCtrlHandler(on_console_event, TRUE)) {
    /* No event to wait on: wait until the process is ended. */
    Sleep(INFINITE);
    return SIGTERM;
  }
  WaitForSingleObject(stop_event, INFINITE);
  return (int)stop_signal;
}

/* ------------------------------------------------------------------------ */
/* Memory                                                                    */
/* ------------------------------------------------------------------------ */

/* VirtualLock can lock about as much as the minimum working set. */
uint64_t cli_os_memlock_limit(void) {
  SIZE_T lo, hi;
  if (!GetProcessWorkingSetSize(GetCurrentProcess(), &lo, &hi))
    return UINT64_MAX;
  return (uint64_t)lo;
}

/* Raise the minimum (and maximum) working set by bytes, so that VirtualLock
 * may lock that much more. Windows refuses when memory is short. */
int cli_os_memlock_reserve(uint64_t bytes) {
  SIZE_T lo, hi;
  if (!GetProcessWorkingSetSize(GetCurrentProcess(), &lo, &hi))
    return errno_of(GetLastError());
  if (bytes > (uint64_t)(SIZE_MAX - hi))
    return ENOMEM;
  if (!SetProcessWorkingSetSize(GetCurrentProcess(), lo + (SIZE_T)bytes,
                                hi + (SIZE_T)bytes))
    return errno_of(GetLastError());
  return 0;
}

int cli_os_resident_is_cache(void) { return 0; }

int cli_os_pmd_mapped(const void *addr, size_t len, uint64_t *bytes) {
  (void)addr;
  (void)len;
  *bytes = 0;
  return -1;
}

/* Windows lists neither named sections (without the native object
 * directory calls) nor other processes' byte-range locks. */
int cli_os_list_dir(const char *dir, int (*fn)(const char *name, void *ctx),
                    void *ctx) {
  (void)dir;
  (void)fn;
  (void)ctx;
  return ENOTSUP;
}

int cli_os_file_id(const char *path, unsigned *major, unsigned *minor,
                   uint64_t *ino) {
  (void)path;
  *major = 0;
  *minor = 0;
  *ino = 0;
  return ENOTSUP;
}

static DWORD WINAPI thread_main(LPVOID arg) {
  cli_thread *t = arg;
  t->fn(t->arg);
  return 0;
}

int cli_os_thread_start(cli_thread *t, void (*fn)(void *arg), void *arg) {
  HANDLE h;
  t->fn = fn;
  t->arg = arg;
  h = CreateThread(NULL, 0, thread_main, t, 0, NULL);
  if (!h)
    return ENOMEM;
  t->h = (uintptr_t)h;
  return 0;
}

void cli_os_thread_join(cli_thread *t) {
  HANDLE h = (HANDLE)t->h;
  (void)WaitForSingleObject(h, INFINITE);
  (void)CloseHandle(h);
}

unsigned cli_os_cpus(void) {
  SYSTEM_INFO si;
  GetSystemInfo(&si);
  return si.dwNumberOfProcessors < 1 ? 1u : (unsigned)si.dwNumberOfProcessors;
}
