/*
 * runner_win.c - the Windows part of the test framework: the OS helpers of
 * test.h and the calls runner.h asks for, with the Win32 API. There is no
 * fork(): a child is this program started again ("prog --child NAME
 * ARGS..."), and run_crashing_child runs its function here under a
 * vectored exception handler. Paths are UTF-8 and go to the wide API.
 */
#include "runner.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>
#include <io.h>
#include <winioctl.h>

/* ------------------------------------------------------------------------ */
/* UTF-8 and UTF-16                                                          */
/* ------------------------------------------------------------------------ */

/* The calls below end the test on failure, so they may allocate freely:
 * the process is short-lived. */
static wchar_t *widen(const char *s) {
  int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, NULL, 0);
  if (n <= 0)
    FAIL("path is not valid UTF-8: %s", s);
  wchar_t *w = malloc((size_t)n * sizeof *w);
  if (w == NULL)
    FAIL("out of memory");
  MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, w, n);
  return w;
}

/* A UTF-8 path as the wide API wants it: paths of MAX_PATH - 12 characters
 * or more are made absolute and given the \\?\ prefix, so they are not
 * cut at MAX_PATH. */
static wchar_t *wpath(const char *path) {
  wchar_t *w = widen(path);
  if (wcslen(w) < MAX_PATH - 12 || wcsncmp(w, L"\\\\", 2) == 0)
    return w;
  DWORD n = GetFullPathNameW(w, 0, NULL, NULL);
  wchar_t *full = malloc(((size_t)n + 8) * sizeof *full);
  if (n == 0 || full == NULL)
    FAIL("GetFullPathName %s failed", path);
  wcscpy(full, L"\\\\?\\");
  if (GetFullPathNameW(w, n, full + 4, NULL) == 0)
    FAIL("GetFullPathName %s failed", path);
  free(w);
  return full;
}

static char *narrow(const wchar_t *w) {
  int n = WideCharToMultiByte(CP_UTF8, 0, w, -1, NULL, 0, NULL, NULL);
  char *s = malloc(n > 0 ? (size_t)n : 1);
  if (s == NULL)
    FAIL("out of memory");
  if (n <= 0)
    s[0] = '\0';
  else
    WideCharToMultiByte(CP_UTF8, 0, w, -1, s, n, NULL, NULL);
  return s;
}

/* "message (code)" for a GetLastError() value, in a static buffer. */
static const char *win_error(DWORD e) {
  static char buf[512];
  char msg[400];
  DWORD n =
      FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS,
                     NULL, e, 0, msg, sizeof msg, NULL);
  while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r' ||
                   msg[n - 1] == ' ' || msg[n - 1] == '.'))
    n--;
  msg[n] = '\0';
  snprintf(buf, sizeof buf, "%s (error %lu)", n ? msg : "unknown error",
           (unsigned long)e);
  return buf;
}

/* ------------------------------------------------------------------------ */
/* The runner's calls                                                        */
/* ------------------------------------------------------------------------ */

static char **parse_command_line(int *argc);
static LONG WINAPI report_crash(EXCEPTION_POINTERS *ep);

char **runner_os_start(int *argc, char **argv) {
  (void)argv;
  SetErrorMode(SEM_FAILCRITICALERRORS | SEM_NOGPFAULTERRORBOX |
               SEM_NOOPENFILEERRORBOX);
  SetUnhandledExceptionFilter(report_crash);
  /* msvcrt treats line buffering as full buffering. */
  setvbuf(stdout, NULL, _IONBF, 0);
  return parse_command_line(argc);
}

void runner_os_before_test(void) {
  /* mmf keeps the last OS error in a thread-local variable; mingw-w64
   * emulates those with a lock, a handle, made on first use in the
   * process. Make it now, so descriptor counts see only mmf's own. */
  (void)mmf_last_os_error(NULL);
}

long runner_os_pid(void) { return (long)GetCurrentProcessId(); }

const char runner_os_separator = '\\';

static void remove_tree(const wchar_t *dir) {
  size_t len = wcslen(dir);
  wchar_t *pattern = malloc((len + 3) * sizeof *pattern);
  if (pattern == NULL)
    return;
  memcpy(pattern, dir, len * sizeof *pattern);
  memcpy(pattern + len, L"\\*", 3 * sizeof *pattern);
  WIN32_FIND_DATAW fd;
  HANDLE h = FindFirstFileW(pattern, &fd);
  free(pattern);
  if (h != INVALID_HANDLE_VALUE) {
    do {
      if (wcscmp(fd.cFileName, L".") == 0 || wcscmp(fd.cFileName, L"..") == 0)
        continue;
      size_t n = wcslen(fd.cFileName);
      wchar_t *child = malloc((len + n + 2) * sizeof *child);
      if (child == NULL)
        break;
      memcpy(child, dir, len * sizeof *child);
      child[len] = L'\\';
      memcpy(child + len + 1, fd.cFileName, (n + 1) * sizeof *child);
      SetFileAttributesW(child, FILE_ATTRIBUTE_NORMAL);
      if ((fd.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) &&
          !(fd.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT)) {
        remove_tree(child);
      } else if (fd.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) {
        RemoveDirectoryW(child);
      } else {
        DeleteFileW(child);
      }
      free(child);
    } while (FindNextFileW(h, &fd));
    FindClose(h);
  }
  RemoveDirectoryW(dir);
}

void runner_os_remove_dir(const char *dir) {
  wchar_t *w = widen(dir);
  remove_tree(w);
  free(w);
}

void runner_os_make_dir(char *dir, size_t size) {
  wchar_t wbase[MAX_PATH + 1];
  DWORD n = GetTempPathW(MAX_PATH + 1, wbase);
  if (n == 0 || n > MAX_PATH) {
    dir[0] = '\0';
    FAIL("GetTempPath: %s", win_error(GetLastError()));
  }
  while (n > 0 && (wbase[n - 1] == L'\\' || wbase[n - 1] == L'/'))
    wbase[--n] = L'\0';
  char *base = narrow(wbase);
  for (unsigned i = 0;; i++) {
    snprintf(dir, size, "%s\\mmf-test-%lu-%lu-%u", base,
             (unsigned long)GetCurrentProcessId(),
             (unsigned long)GetTickCount(), i);
    wchar_t *w = widen(dir);
    BOOL ok = CreateDirectoryW(w, NULL);
    DWORD e = GetLastError();
    free(w);
    if (ok)
      break;
    if (e != ERROR_ALREADY_EXISTS || i == 1000) {
      dir[0] = '\0';
      FAIL("CreateDirectory under %s: %s", base, win_error(e));
    }
  }
  free(base);
}

/* A child is a process of its own: exit handlers are its own too. */
void runner_os_exit_child(int code) { exit(code); }

static HANDLE start_self(const char *const *args, int n);

/* A test's own process: this program run with the test's name. */
int runner_os_run_alone(const char *name, int (*run_here)(const char *name)) {
  (void)run_here; /* the new process's main() runs it */
  HANDLE h = start_self(&name, 1);
  if (h == NULL) {
    fprintf(stderr, "CreateProcess: %s\n", win_error(GetLastError()));
    return 1 << 8;
  }
  DWORD code = 124;
  if (WaitForSingleObject(h, RUNNER_TIMEOUT_S * 1000) != WAIT_OBJECT_0)
    TerminateProcess(h, 124);
  else
    GetExitCodeProcess(h, &code);
  CloseHandle(h);
  if (code == (DWORD)EXCEPTION_IN_PAGE_ERROR)
    return SIGBUS;
  if (code >= 0xC0000000u)
    return SIGSEGV;
  return (int)(code & 0xff) << 8;
}

/* The wait status encoding of runner.h: exit code in bits 8-15, or a
 * signal number in bits 0-6 (SIGSEGV for an access violation, SIGBUS for
 * an in-page error). */
void runner_os_decode_status(int st, int *code, int *sig) {
  *code = (st & 0x7f) == 0 ? (st >> 8) & 0xff : -1;
  *sig = (st & 0x7f) != 0 ? st & 0x7f : -1;
}

const char *runner_os_signal_name(int sig) {
  return sig == SIGSEGV  ? "access violation"
         : sig == SIGBUS ? "in-page error"
                         : "exception";
}

/* A crash outside run_crashing_child: say what and where, then end with
 * the exception code (no Wine debugger, no error box). */
static LONG WINAPI report_crash(EXCEPTION_POINTERS *ep) {
  const EXCEPTION_RECORD *r = ep->ExceptionRecord;
  fflush(stdout);
  fprintf(stderr, "unhandled exception 0x%08lx at %p",
          (unsigned long)r->ExceptionCode, r->ExceptionAddress);
  if ((r->ExceptionCode == EXCEPTION_ACCESS_VIOLATION ||
       r->ExceptionCode == EXCEPTION_IN_PAGE_ERROR) &&
      r->NumberParameters >= 2)
    fprintf(stderr, " (%s %p)",
            r->ExceptionInformation[0] == 1 ? "writing" : "reading",
            (void *)r->ExceptionInformation[1]);
  fprintf(stderr, "%s\n", test_in_main_process() ? "" : " in a child");
  fflush(stderr);
  TerminateProcess(GetCurrentProcess(), r->ExceptionCode);
  return EXCEPTION_EXECUTE_HANDLER;
}

/* ------------------------------------------------------------------------ */
/* Files                                                                     */
/* ------------------------------------------------------------------------ */

/* Open path with the sharing mmf itself uses (read, write, delete), so the
 * helpers work on files the test has mapped. */
static HANDLE open_handle(const char *path, DWORD access, DWORD disposition) {
  wchar_t *w = wpath(path);
  HANDLE h = CreateFileW(w, access,
                         FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                         NULL, disposition, FILE_ATTRIBUTE_NORMAL, NULL);
  DWORD e = GetLastError();
  free(w);
  if (h == INVALID_HANDLE_VALUE)
    FAIL("open %s: %s", path, win_error(e));
  return h;
}

static void set_end(HANDLE h, const char *path, uint64_t size) {
  FILE_END_OF_FILE_INFO eof;
  eof.EndOfFile.QuadPart = (LONGLONG)size;
  if (!SetFileInformationByHandle(h, FileEndOfFileInfo, &eof, sizeof eof))
    FAIL("set the size of %s to %" PRIu64 ": %s", path, size,
         win_error(GetLastError()));
}

static void write_all(HANDLE h, const char *path, const void *data, size_t n,
                      uint64_t off) {
  const unsigned char *p = data;
  while (n > 0) {
    OVERLAPPED ov;
    memset(&ov, 0, sizeof ov);
    ov.Offset = (DWORD)off;
    ov.OffsetHigh = (DWORD)(off >> 32);
    DWORD chunk = n > (1u << 30) ? (1u << 30) : (DWORD)n, w = 0;
    if (!WriteFile(h, p, chunk, &w, &ov) || w == 0)
      FAIL("write %s: %s", path, win_error(GetLastError()));
    p += w;
    off += w;
    n -= w;
  }
}

void write_file(const char *path, const void *data, size_t n) {
  HANDLE h = open_handle(path, GENERIC_WRITE, CREATE_ALWAYS);
  if (data == NULL)
    set_end(h, path, n);
  else
    write_all(h, path, data, n, 0);
  CloseHandle(h);
}

void write_pattern(const char *path, uint64_t size) {
  unsigned char buf[65536];
  HANDLE h = open_handle(path, GENERIC_WRITE, CREATE_ALWAYS);
  for (uint64_t off = 0; off < size; off += sizeof buf) {
    size_t n = size - off < sizeof buf ? (size_t)(size - off) : sizeof buf;
    fill_pat(buf, off, n);
    write_all(h, path, buf, n, off);
  }
  CloseHandle(h);
}

void make_sparse(const char *path, uint64_t size) {
  HANDLE h = open_handle(path, GENERIC_WRITE, CREATE_ALWAYS);
  DWORD got;
  /* Not every file system has sparse files (FAT, Wine's Unix files are
   * sparse anyway); an extended file reads as zeros either way. */
  (void)DeviceIoControl(h, FSCTL_SET_SPARSE, NULL, 0, NULL, 0, &got, NULL);
  set_end(h, path, size);
  CloseHandle(h);
}

uint64_t file_size(const char *path) {
  WIN32_FILE_ATTRIBUTE_DATA a;
  wchar_t *w = wpath(path);
  BOOL ok = GetFileAttributesExW(w, GetFileExInfoStandard, &a);
  DWORD e = GetLastError();
  free(w);
  if (!ok)
    FAIL("stat %s: %s", path, win_error(e));
  return ((uint64_t)a.nFileSizeHigh << 32) | a.nFileSizeLow;
}

void read_at(const char *path, uint64_t off, void *buf, size_t n) {
  HANDLE h = open_handle(path, GENERIC_READ, OPEN_EXISTING);
  unsigned char *p = buf;
  while (n > 0) {
    OVERLAPPED ov;
    memset(&ov, 0, sizeof ov);
    ov.Offset = (DWORD)off;
    ov.OffsetHigh = (DWORD)(off >> 32);
    DWORD chunk = n > (1u << 30) ? (1u << 30) : (DWORD)n, r = 0;
    BOOL ok = ReadFile(h, p, chunk, &r, &ov);
    if (!ok || r == 0)
      FAIL("read %s at %" PRIu64 ": %s", path, off,
           ok || GetLastError() == ERROR_HANDLE_EOF
               ? "end of file"
               : win_error(GetLastError()));
    p += r;
    off += r;
    n -= r;
  }
  CloseHandle(h);
}

void write_at(const char *path, uint64_t off, const void *buf, size_t n) {
  HANDLE h = open_handle(path, GENERIC_WRITE, OPEN_EXISTING);
  write_all(h, path, buf, n, off);
  CloseHandle(h);
}

void test_truncate(const char *path, uint64_t size) {
  HANDLE h = open_handle(path, GENERIC_WRITE, OPEN_EXISTING);
  set_end(h, path, size);
  CloseHandle(h);
}

/* kernel32's wine_get_unix_file_name: the Unix path of a DOS path, in a
 * buffer from the process heap. Only Wine has it. */
typedef char *(__cdecl *unix_name_fn)(const wchar_t *dos);

static unix_name_fn wine_unix_name(void) {
  return (unix_name_fn)(void (*)(void))GetProcAddress(
      GetModuleHandleW(L"kernel32.dll"), "wine_get_unix_file_name");
}

void test_need_truncate_mapped(void) {
  if (wine_unix_name() == NULL)
    SKIP("Windows does not let any program shrink a mapped file "
         "(ERROR_USER_MAPPED_FILE); this test runs under Wine, where the "
         "host's truncate can");
}

/* Wine 8 leaks a handle when CreateProcess starts a host program: its
 * executable file, here /usr/bin/truncate (and leaves PROCESS_INFORMATION
 * zeroed). Tests count their handles, so close it. No handle of the test's
 * own names that file. */
static bool is_host_truncate(HANDLE h) {
  static const wchar_t tail[] = L"\\usr\\bin\\truncate";
  const size_t tn = sizeof tail / sizeof tail[0] - 1;
  wchar_t name[128];
  if (GetFileType(h) != FILE_TYPE_DISK)
    return false;
  DWORD n = GetFinalPathNameByHandleW(h, name, 128, FILE_NAME_NORMALIZED);
  return n >= tn && n < 128 && _wcsicmp(name + n - tn, tail) == 0;
}

static int each_handle(bool (*fn)(HANDLE h, DWORD flags));

static bool close_if_host_truncate(HANDLE h, DWORD flags) {
  (void)flags;
  if (!is_host_truncate(h))
    return false;
  CloseHandle(h);
  return true;
}

static void close_host_truncate_handles(HANDLE likely) {
  if (likely != NULL && is_host_truncate(likely)) {
    CloseHandle(likely);
    return;
  }
  /* Another thread took the slot first: look at every handle. */
  (void)each_handle(close_if_host_truncate);
}

/* Serialises the host truncates of threads (the race test truncates from
 * several), so one's search for leaked handles never meets another's. */
static SRWLOCK host_truncate_lock = SRWLOCK_INIT;

/* Shrink path to size with the host's /usr/bin/truncate and wait until it
 * has finished. */
static void truncate_from_host(const char *path, uint64_t size) {
  static volatile LONG serial;
  unix_name_fn unix_name = wine_unix_name();
  test_need_truncate_mapped();
  wchar_t *w = wpath(path);
  char *upath = unix_name(w);
  free(w);
  if (upath == NULL)
    FAIL("wine_get_unix_file_name %s failed", path);
  /* Wine does not wait for host programs (there is no process handle to
   * wait on), and the new size shows before the truncation has finished:
   * Linux sets the size, drops the page cache past it, and only then the
   * modification time, which fault classification compares. So truncate
   * also makes a marker file, which it does only once done with path. */
  char suffix[64], done[TEST_PATH_MAX + 64], cmd[2 * TEST_PATH_MAX + 256];
  snprintf(suffix, sizeof suffix, ".truncated-%lu-%ld",
           (unsigned long)GetCurrentProcessId(),
           (long)InterlockedIncrement(&serial));
  snprintf(done, sizeof done, "%s%s", path, suffix);
  snprintf(cmd, sizeof cmd, "/usr/bin/truncate -s %" PRIu64 " \"%s\" \"%s%s\"",
           size, upath, upath, suffix);
  HeapFree(GetProcessHeap(), 0, upath);
  STARTUPINFOA si;
  PROCESS_INFORMATION pi;
  memset(&si, 0, sizeof si);
  memset(&pi, 0, sizeof pi);
  si.cb = sizeof si;
  AcquireSRWLockExclusive(&host_truncate_lock);
  /* Handles are given out lowest free value first: the one a handle made
   * and closed now had is where the leaked one will most likely go. */
  HANDLE slot = NULL;
  if (DuplicateHandle(GetCurrentProcess(), GetCurrentProcess(),
                      GetCurrentProcess(), &slot, 0, FALSE,
                      DUPLICATE_SAME_ACCESS))
    CloseHandle(slot);
  BOOL started =
      CreateProcessA(NULL, cmd, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi);
  DWORD e = GetLastError();
  if (started) {
    if (pi.hThread != NULL)
      CloseHandle(pi.hThread);
    if (pi.hProcess != NULL)
      CloseHandle(pi.hProcess);
    close_host_truncate_handles(slot);
  }
  ReleaseSRWLockExclusive(&host_truncate_lock);
  if (!started)
    FAIL("cannot start the host's truncate to shrink mapped %s: %s", path,
         win_error(e));
  /* The truncate takes a few milliseconds. Poll without sleeping only
   * briefly: on a busy machine spinning takes the CPU the truncate needs. */
  ULONGLONG start = GetTickCount64();
  for (int i = 0; !test_exists(done); i++) {
    if (GetTickCount64() - start > 10000)
      FAIL("the host's truncate -s %" PRIu64 " %s has not finished in 10 s",
           size, path);
    Sleep(i < 10 ? 0 : 1);
  }
  test_unlink(done);
  if (file_size(path) != size)
    FAIL("the host's truncate -s %" PRIu64 " left %s at %" PRIu64 " bytes",
         size, path, file_size(path));
}

void test_truncate_mapped(const char *path, uint64_t size) {
  HANDLE h = open_handle(path, GENERIC_WRITE, OPEN_EXISTING);
  FILE_END_OF_FILE_INFO eof;
  eof.EndOfFile.QuadPart = (LONGLONG)size;
  BOOL ok = SetFileInformationByHandle(h, FileEndOfFileInfo, &eof, sizeof eof);
  DWORD e = GetLastError();
  CloseHandle(h);
  if (ok)
    return;
  if (e != ERROR_USER_MAPPED_FILE)
    FAIL("set the size of %s to %" PRIu64 ": %s", path, size, win_error(e));
  truncate_from_host(path, size);
}

void test_unlink(const char *path) {
  wchar_t *w = wpath(path);
  BOOL ok = DeleteFileW(w);
  DWORD e = GetLastError();
  free(w);
  if (!ok && e != ERROR_FILE_NOT_FOUND && e != ERROR_PATH_NOT_FOUND)
    FAIL("remove %s: %s", path, win_error(e));
}

bool test_exists(const char *path) {
  wchar_t *w = wpath(path);
  DWORD a = GetFileAttributesW(w);
  free(w);
  return a != INVALID_FILE_ATTRIBUTES;
}

void test_mkdir(const char *path) {
  wchar_t *w = wpath(path);
  BOOL ok = CreateDirectoryW(w, NULL);
  DWORD e = GetLastError();
  free(w);
  if (!ok)
    FAIL("mkdir %s: %s", path, win_error(e));
}

uint64_t file_allocated(const char *path) {
  HANDLE h = open_handle(path, FILE_READ_ATTRIBUTES, OPEN_EXISTING);
  FILE_STANDARD_INFO info;
  if (!GetFileInformationByHandleEx(h, FileStandardInfo, &info, sizeof info))
    FAIL("file information of %s: %s", path, win_error(GetLastError()));
  CloseHandle(h);
  return (uint64_t)info.AllocationSize.QuadPart;
}

int test_open(const char *path, int flags) {
  wchar_t *w = wpath(path);
  int fd = _wopen(w, flags | _O_BINARY | _O_NOINHERIT, _S_IREAD | _S_IWRITE);
  int e = errno;
  free(w);
  errno = e;
  return fd;
}

/* ------------------------------------------------------------------------ */
/* Process state                                                             */
/* ------------------------------------------------------------------------ */

size_t test_page_size(void) {
  SYSTEM_INFO si;
  GetSystemInfo(&si);
  return si.dwPageSize;
}

void test_sleep_ms(unsigned ms) { Sleep(ms); }

/* Call fn on every open handle of this process and count those it says
 * true for. The handles are found by asking GetHandleInformation about
 * every handle value (multiples of 4) up to 512 values past the last open
 * one: handle tables hand out low values, reusing freed ones, so a test
 * process's handles are packed at the bottom. */
static int each_handle(bool (*fn)(HANDLE h, DWORD flags)) {
  int n = 0, misses = 0;
  for (uintptr_t v = 4; misses < 512 && v < ((uintptr_t)1 << 24); v += 4) {
    DWORD flags;
    if (!GetHandleInformation((HANDLE)v, &flags)) {
      misses++;
      continue;
    }
    misses = 0;
    n += fn((HANDLE)v, flags);
  }
  return n;
}

static bool any_handle(HANDLE h, DWORD flags) {
  (void)h;
  (void)flags;
  return true;
}

static bool inheritable_handle(HANDLE h, DWORD flags) {
  (void)h;
  return (flags & HANDLE_FLAG_INHERIT) != 0;
}

int count_open_fds(void) {
  DWORD n = 0;
  /* Wine answers 0 here. (Its system handle table,
   * NtQuerySystemInformation(SystemExtendedHandleInformation), would have
   * the count, but asking for it while other processes come and go
   * crashes the Wine 8 wineserver.) */
  if (GetProcessHandleCount(GetCurrentProcess(), &n) && n > 0)
    return (int)n;
  return each_handle(any_handle);
}

int count_threads(void) { return -1; }

int count_inheritable_fds(void) { return each_handle(inheritable_handle); }

bool test_under_wine(void) {
  return GetProcAddress(GetModuleHandleW(L"ntdll.dll"), "wine_get_version") !=
         NULL;
}

typedef DWORD(WINAPI *mapped_name_fn)(HANDLE process, void *addr, wchar_t *name,
                                      DWORD size);

/* Lower-case ASCII, '/' as '\'. */
static void fold_path(char *s) {
  for (; *s; s++) {
    if (*s == '/')
      *s = '\\';
    else if (*s >= 'A' && *s <= 'Z')
      *s = (char)(*s - 'A' + 'a');
  }
}

/* Walk the address space by allocation; count them all (needle NULL) or
 * the file views whose name holds needle. */
static int scan_allocations(const char *needle) {
  mapped_name_fn mapped_name = NULL;
  char want[TEST_PATH_MAX];
  if (needle != NULL) {
    mapped_name = (mapped_name_fn)(void (*)(void))GetProcAddress(
        GetModuleHandleW(L"kernel32.dll"), "K32GetMappedFileNameW");
    if (mapped_name == NULL)
      FAIL("no K32GetMappedFileNameW to name mappings with");
    /* Mapped names are NT paths (\Device\HarddiskVolume1\..., or
     * \??\C:\... under Wine): compare without the drive letter. */
    if (needle[0] != '\0' && needle[1] == ':')
      needle += 2;
    snprintf(want, sizeof want, "%s", needle);
    fold_path(want);
  }
  int n = 0;
  void *last_base = NULL;
  MEMORY_BASIC_INFORMATION mbi;
  for (const char *p = NULL; VirtualQuery(p, &mbi, sizeof mbi) == sizeof mbi;) {
    if (mbi.State != MEM_FREE && mbi.AllocationBase != last_base) {
      last_base = mbi.AllocationBase;
      if (needle == NULL) {
        n++;
      } else if (mbi.Type == MEM_MAPPED) {
        wchar_t name[TEST_PATH_MAX];
        if (mapped_name(GetCurrentProcess(), mbi.AllocationBase, name,
                        TEST_PATH_MAX) > 0) {
          char *s = narrow(name);
          fold_path(s);
          n += strstr(s, want) != NULL;
          free(s);
        }
      }
    }
    const char *next = (const char *)mbi.BaseAddress + mbi.RegionSize;
    if (next <= p)
      break;
    p = next;
  }
  return n;
}

int count_mappings(void) { return scan_allocations(NULL); }

int count_mappings_of(const char *needle) { return scan_allocations(needle); }

long proc_status_kb(const char *key) {
  (void)key;
  return -1;
}

const char *test_proc_copied(const char *path) {
  (void)path;
  return NULL;
}

bool test_populate_ignored(void) { return false; }

bool test_mincore_refuses_prot_none(void) { return false; }

bool test_rlimit_as_ignored(void) { return false; }

bool test_blocked_fault_hangs(void) { return false; }

/* ------------------------------------------------------------------------ */
/* Child processes                                                           */
/* ------------------------------------------------------------------------ */

/* Append s to the command line at *w as one argument, quoted the way the C
 * runtime (and parse_command_line below) split it: backslashes are literal
 * except before a quote. */
static void append_arg(wchar_t **w, const wchar_t *s) {
  wchar_t *o = *w;
  *o++ = L' ';
  *o++ = L'"';
  for (;; s++) {
    size_t bs = 0;
    while (*s == L'\\') {
      bs++;
      s++;
    }
    if (*s == L'\0') {
      for (size_t i = 0; i < 2 * bs; i++)
        *o++ = L'\\';
      break;
    }
    if (*s == L'"') {
      for (size_t i = 0; i < 2 * bs + 1; i++)
        *o++ = L'\\';
    } else {
      for (size_t i = 0; i < bs; i++)
        *o++ = L'\\';
    }
    *o++ = *s;
  }
  *o++ = L'"';
  *o = L'\0';
  *w = o;
}

/* Split the wide command line into UTF-8 arguments (the C runtime's argv is
 * in the ANSI code page, which cannot hold every path). */
static char **parse_command_line(int *argc) {
  const wchar_t *p = GetCommandLineW();
  size_t cap = wcslen(p) + 1;
  char **argv = calloc(cap + 1, sizeof *argv);
  wchar_t *arg = malloc(cap * sizeof *arg);
  if (argv == NULL || arg == NULL)
    FAIL("out of memory");
  int n = 0;
  for (;;) {
    while (*p == L' ' || *p == L'\t')
      p++;
    if (*p == L'\0')
      break;
    size_t len = 0;
    bool quoted = false;
    for (;;) {
      size_t bs = 0;
      while (*p == L'\\') {
        bs++;
        p++;
      }
      if (*p == L'"') {
        for (size_t i = 0; i < bs / 2; i++)
          arg[len++] = L'\\';
        if (bs % 2) {
          arg[len++] = L'"';
        } else {
          quoted = !quoted;
        }
        p++;
        continue;
      }
      for (size_t i = 0; i < bs; i++)
        arg[len++] = L'\\';
      if (*p == L'\0' || (!quoted && (*p == L' ' || *p == L'\t')))
        break;
      arg[len++] = *p++;
    }
    arg[len] = L'\0';
    argv[n++] = narrow(arg);
  }
  free(arg);
  *argc = n;
  return argv;
}

/* Start this program again with the arguments args[0..n-1] (UTF-8). Its
 * standard handles are ours, so CTest shows what it prints; those handles
 * are inheritable, the library's and test_open's are not. Returns the
 * process handle, or NULL with GetLastError() set. */
static HANDLE start_self(const char *const *args, int n) {
  static wchar_t exe[32768];
  DWORD len = GetModuleFileNameW(NULL, exe, 32768);
  if (len == 0 || len >= 32768)
    return NULL;
  /* append_arg writes at most 2 characters per one, plus 3. */
  size_t size = 2 * (size_t)len + 4;
  wchar_t **wargs = calloc((size_t)n + 1, sizeof *wargs);
  if (wargs == NULL)
    FAIL("out of memory");
  for (int i = 0; i < n; i++) {
    wargs[i] = widen(args[i]);
    size += 2 * wcslen(wargs[i]) + 4;
  }
  wchar_t *cmd = malloc((size + 1) * sizeof *cmd), *w = cmd;
  if (cmd == NULL)
    FAIL("out of memory");
  *w = L'\0';
  append_arg(&w, exe);
  for (int i = 0; i < n; i++) {
    append_arg(&w, wargs[i]);
    free(wargs[i]);
  }
  free(wargs);
  STARTUPINFOW si;
  memset(&si, 0, sizeof si);
  si.cb = sizeof si;
  si.dwFlags = STARTF_USESTDHANDLES;
  si.hStdInput = GetStdHandle(STD_INPUT_HANDLE);
  si.hStdOutput = GetStdHandle(STD_OUTPUT_HANDLE);
  si.hStdError = GetStdHandle(STD_ERROR_HANDLE);
  PROCESS_INFORMATION pi;
  fflush(stdout);
  fflush(stderr);
  /* Wine's CreateProcess now and then fails with ERROR_INTERNAL_ERROR on a
   * loaded machine (once in some thousands of starts: a walk of the
   * injection tests starts that many); the same start a moment later
   * works. */
  BOOL ok = FALSE;
  DWORD e = 0;
  for (int tries = 0; !ok && tries < 5; tries++) {
    if (tries > 0)
      Sleep(100);
    ok =
        CreateProcessW(exe, cmd + 1, NULL, NULL, TRUE, 0, NULL, NULL, &si, &pi);
    e = GetLastError();
    if (!ok && e != ERROR_INTERNAL_ERROR)
      break;
  }
  free(cmd);
  if (!ok) {
    SetLastError(e);
    return NULL;
  }
  CloseHandle(pi.hThread);
  return pi.hProcess;
}

/* The children started and not yet waited for (their process handles). */
#define MAX_LIVE_CHILDREN 256
static HANDLE live[MAX_LIVE_CHILDREN];

static void child_started(HANDLE h) {
  for (int i = 0; i < MAX_LIVE_CHILDREN; i++)
    if (live[i] == NULL) {
      live[i] = h;
      return;
    }
}

static void child_ended(HANDLE h) {
  for (int i = 0; i < MAX_LIVE_CHILDREN; i++)
    if (live[i] == h)
      live[i] = NULL;
}

void runner_os_end_children(void) {
  for (int i = 0; i < MAX_LIVE_CHILDREN; i++) {
    if (live[i] == NULL)
      continue;
    TerminateProcess(live[i], 137);
    WaitForSingleObject(live[i], INFINITE);
    CloseHandle(live[i]);
    live[i] = NULL;
  }
}

test_proc test_spawn(const char *name, const char *const *args) {
  if (runner_find_child(name) == NULL)
    FAIL("test_spawn: no child named %s", name);
  /* The child uses this directory (test_dir() in the child). */
  wchar_t *dir = widen(test_dir());
  SetEnvironmentVariableW(L"MMF_TEST_DIR", dir);
  free(dir);
  const char *argv[67] = {"--child", name};
  int n = 2;
  for (int i = 0; args != NULL && args[i] != NULL; i++) {
    if (i == 64)
      FAIL("test_spawn %s: more than 64 arguments", name);
    argv[n++] = args[i];
  }
  HANDLE h = start_self(argv, n);
  if (h == NULL)
    FAIL("CreateProcess for child %s: %s", name, win_error(GetLastError()));
  child_started(h);
  return (test_proc){(intptr_t)h};
}

int test_wait(test_proc p) {
  HANDLE h = (HANDLE)p.id;
  child_ended(h);
  /* CTest's timeout would end only this process and leave the child. */
  if (WaitForSingleObject(h, RUNNER_TIMEOUT_S * 1000) != WAIT_OBJECT_0) {
    TerminateProcess(h, 124);
    CloseHandle(h);
    FAIL("child did not end within %d s", RUNNER_TIMEOUT_S);
  }
  DWORD code = 0;
  GetExitCodeProcess(h, &code);
  CloseHandle(h);
  if (code >= 0xC0000000u)
    FAIL("child died of exception 0x%08lx", (unsigned long)code);
  return (int)code;
}

void test_kill(test_proc p) {
  HANDLE h = (HANDLE)p.id;
  child_ended(h);
  TerminateProcess(h, 137);
  WaitForSingleObject(h, INFINITE);
  CloseHandle(h);
}

pid_t start_child(int (*fn)(void *arg), void *arg) {
  (void)fn;
  (void)arg;
  SKIP("needs fork(), which Windows does not have");
}

int wait_child(pid_t pid) {
  (void)pid;
  SKIP("needs fork(), which Windows does not have");
}

int run_in_child(int (*fn)(void *arg), void *arg) {
  (void)fn;
  (void)arg;
  SKIP("needs fork(), which Windows does not have");
}

/* run_crashing_child: fn runs here; a vectored handler catches its access
 * violation or in-page error and resumes the thread in probe_land(), below
 * the faulting frame (the way src/os/win/guard_win.c does), which jumps
 * back into run_crashing_child. */
static void *probe_jump[5]; /* __builtin_setjmp's buffer */
static volatile LONG probe_armed;
static volatile DWORD probe_thread;
static volatile DWORD probe_code;
static PVOID probe_handler_handle;

static __attribute__((noinline, noreturn)) void probe_land(void) {
  __builtin_longjmp(probe_jump, 1);
}

static LONG CALLBACK probe_handler(EXCEPTION_POINTERS *ep) {
  DWORD code = ep->ExceptionRecord->ExceptionCode;
  if (!probe_armed || GetCurrentThreadId() != probe_thread)
    return EXCEPTION_CONTINUE_SEARCH;
  if (code != EXCEPTION_ACCESS_VIOLATION && code != EXCEPTION_IN_PAGE_ERROR)
    return EXCEPTION_CONTINUE_SEARCH;
  probe_armed = 0;
  probe_code = code;
  CONTEXT *ctx = ep->ContextRecord;
#if defined(__x86_64__)
  ctx->Rsp = ((ctx->Rsp - 256) & ~(DWORD64)15) - 8;
  ctx->Rip = (DWORD64)(uintptr_t)probe_land;
#elif defined(__i386__)
  ctx->Esp = ((ctx->Esp - 256) & ~(DWORD)15) - 4;
  ctx->Eip = (DWORD)(uintptr_t)probe_land;
#elif defined(__aarch64__)
  ctx->Sp = (ctx->Sp - 256) & ~(DWORD64)15;
  ctx->Pc = (DWORD64)(uintptr_t)probe_land;
#else
#error "run_crashing_child: unknown Windows architecture"
#endif
  return EXCEPTION_CONTINUE_EXECUTION;
}

int run_crashing_child(int (*fn)(void *arg), void *arg) {
  fflush(stdout);
  fflush(stderr);
  /* Last in the chain: mmf's guard, wherever it stands, sees faults first
   * and keeps those inside its guarded calls, as a forked child's signal
   * handlers would; only what nobody claims "kills" fn. */
  if (probe_handler_handle == NULL)
    probe_handler_handle = AddVectoredExceptionHandler(0, probe_handler);
  if (probe_handler_handle == NULL)
    FAIL("AddVectoredExceptionHandler failed");
  probe_code = 0;
  probe_thread = GetCurrentThreadId();
  if (__builtin_setjmp(probe_jump) == 0) {
    probe_armed = 1;
    int rc = fn(arg);
    probe_armed = 0;
    return (rc & 0xff) << 8;
  }
  return probe_code == EXCEPTION_IN_PAGE_ERROR ? SIGBUS : SIGSEGV;
}

/* ------------------------------------------------------------------------ */
/* Streams: FIFOs and pipes                                                  */
/* ------------------------------------------------------------------------ */

/* The writer: serve one reader on the pipe argv[1], then write argv[2]
 * bytes of pat() into it and wait until they were read. */
TEST_CHILD(fifo_writer) {
  ASSERT_EQ(argc, 3);
  wchar_t *name = widen(argv[1]);
  const uint64_t n = strtoull(argv[2], NULL, 10);
  /* Duplex, so a reader asking for write access gets the pipe and can be
   * told it is a stream (MMF_WRITE on it is MMF_ENODEV, as on a FIFO). */
  HANDLE h = CreateNamedPipeW(name, PIPE_ACCESS_DUPLEX,
                              PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT,
                              1, 65536, 65536, 0, NULL);
  if (h == INVALID_HANDLE_VALUE)
    FAIL("CreateNamedPipe %s: %s", argv[1], win_error(GetLastError()));
  if (!ConnectNamedPipe(h, NULL) && GetLastError() != ERROR_PIPE_CONNECTED)
    return 3;
  unsigned char buf[4096];
  for (uint64_t off = 0; off < n;) {
    DWORD k = n - off < sizeof buf ? (DWORD)(n - off) : (DWORD)sizeof buf, w;
    fill_pat(buf, off, k);
    if (!WriteFile(h, buf, k, &w, NULL))
      return 4; /* the reader went away */
    off += w;
  }
  /* Wait until the reader has read everything, then close as a FIFO's
   * writer does: the reader sees ERROR_BROKEN_PIPE, the end of input.
   * (DisconnectNamedPipe would give it ERROR_PIPE_NOT_CONNECTED.) */
  FlushFileBuffers(h);
  CloseHandle(h);
  return 0;
}

void test_fifo_start(test_fifo *f, const char *name, uint64_t n) {
  static unsigned seq;
  char count[32];
  snprintf(f->path, sizeof f->path, "\\\\.\\pipe\\mmf-test-%lu-%u-%s",
           (unsigned long)GetCurrentProcessId(), seq++, name);
  snprintf(count, sizeof count, "%" PRIu64, n);
  const char *args[] = {f->path, count, NULL};
  f->writer = test_spawn("fifo_writer", args);
  /* WaitNamedPipe fails at once while the pipe does not exist yet. */
  wchar_t *w = widen(f->path);
  for (int i = 0; !WaitNamedPipeW(w, 100); i++) {
    if (i == 300)
      FAIL("the pipe %s did not appear within 30 s", f->path);
    if (WaitForSingleObject((HANDLE)f->writer.id, 0) == WAIT_OBJECT_0)
      FAIL("the writer of %s ended early", f->path);
    Sleep(10);
  }
  free(w);
}

void test_pipe(int fds[2]) {
  if (_pipe(fds, 65536, _O_BINARY | _O_NOINHERIT) != 0)
    FAIL("_pipe: %s", strerror(errno));
}

/* ------------------------------------------------------------------------ */
/* Threads                                                                   */
/* ------------------------------------------------------------------------ */

typedef struct thread_start {
  void *(*fn)(void *arg);
  void *arg;
} thread_start;

static DWORD WINAPI thread_main(void *p) {
  thread_start s = *(thread_start *)p;
  free(p);
  s.fn(s.arg);
  return 0;
}

test_thread test_thread_start(void *(*fn)(void *arg), void *arg) {
  thread_start *s = malloc(sizeof *s);
  if (s == NULL)
    FAIL("out of memory");
  s->fn = fn;
  s->arg = arg;
  HANDLE h = CreateThread(NULL, 0, thread_main, s, 0, NULL);
  if (h == NULL)
    FAIL("CreateThread: %s", win_error(GetLastError()));
  return (test_thread){(intptr_t)h};
}

void test_thread_join(test_thread t) {
  WaitForSingleObject((HANDLE)t.id, INFINITE);
  CloseHandle((HANDLE)t.id);
}
