/*
 * guard_win.c - turning EXCEPTION_IN_PAGE_ERROR and access violations
 * inside an armed range into a return value.
 *
 * mingw-w64's gcc has no __try/__except, so the guard is built like the
 * POSIX one: the core arms it inline (src/os/guard.h) by pushing a frame
 * (address range + jump target) on the thread's list, kept in a TLS slot
 * (see mmf__guard_top_get in os.h for why not _Thread_local); a vectored
 * exception handler, added once for the process, looks for the innermost
 * frame of the faulting thread whose range holds the faulting address. An
 * exception no frame claims is left to the rest of the chain
 * (EXCEPTION_CONTINUE_SEARCH), so a real crash stays a crash.
 *
 * Getting back. The handler does not jump out of the exception dispatcher.
 * It rewrites the faulting thread's context so that, once the dispatcher
 * has finished normally (NtContinue), the thread resumes in land(), on the
 * same stack below the faulting frame, and land() makes the jump with
 * __builtin_longjmp. That jump only restores the frame, stack and
 * instruction pointers saved by __builtin_setjmp (the compiler treats every
 * other register as clobbered at the receiver); it does not unwind. The
 * other choices, tried under Wine 8 and all working there:
 *  - longjmp() from inside the handler: mingw's setjmp records a frame and
 *    longjmp unwinds with RtlUnwindEx through the dispatcher's frames;
 *  - __builtin_longjmp from inside the handler: leaves the dispatcher's
 *    bookkeeping (the vectored handler's reference count) unbalanced.
 * Resuming through NtContinue leaves no such state behind and does not
 * depend on how a given Windows or Wine lays out the dispatcher's stack.
 * Nothing is written to the stack from the handler: the CONTEXT being
 * edited itself lies below the faulting stack pointer.
 *
 * Which exceptions. EXCEPTION_IN_PAGE_ERROR is the page that could not be
 * read (I/O error, file cut short on a network share, disk full on first
 * write into a hole); its third parameter is the NTSTATUS behind it, kept
 * as fault->os_code. An access violation inside an armed range is either a
 * protection fault (mmf_protect, a store to a read-only view) or, under
 * Wine, a page beyond the end of a truncated file: Wine turns the host's
 * SIGBUS into EXCEPTION_ACCESS_VIOLATION. The rule that tells them apart
 * needs no knowledge of the file: if the page is committed and its
 * protection allows the access that faulted, protection cannot be the
 * reason, so the page could not be provided and the fault is
 * MMF__FAULT_PAGE (the core then classifies it against the file size, as
 * for SIGBUS); otherwise it is MMF__FAULT_ACCESS.
 *
 * The handler is added first in the chain and never removed, so the
 * module that holds it is pinned in memory: unloading a DLL with a live
 * vectored handler would leave the process calling freed code.
 */
#include <stdatomic.h>
#include <stdint.h>

#include "os/win/util_win.h"

#if !defined(__GNUC__)
#error "the Windows fault guard needs GCC or Clang (__builtin_setjmp)"
#endif

unsigned long mmf__guard_slot = TLS_OUT_OF_INDEXES;
_Atomic int mmf__guard_installed;
static INIT_ONCE install_once = INIT_ONCE_STATIC_INIT;

/* The thread's innermost frame. TlsGetValue clears the thread's last
 * error: keep it, since an exception we pass on may be handled by code
 * that is between a failing call and GetLastError(). */
static mmf__guard_frame *top_frame(void) {
  DWORD saved = GetLastError();
  mmf__guard_frame *f = mmf__guard_top_get();
  SetLastError(saved);
  return f;
}

/* Where a caught fault resumes: jump back into the guarded code. */
static __attribute__((noinline, noreturn)) void land(void) {
  mmf__guard_frame *f = mmf__guard_top_get();
  MMF__LONGJMP(f->jump);
}

/* Whether the page at addr, as it is now, allows the access that
 * faulted (write: 1 write, 0 read, -1 execute or unknown). */
static int access_allowed(const void *addr, int write) {
  MEMORY_BASIC_INFORMATION mbi;
  DWORD p;
  if (!VirtualQuery(addr, &mbi, sizeof mbi) || mbi.State != MEM_COMMIT)
    return 0;
  if (mbi.Protect & (PAGE_GUARD | PAGE_NOACCESS))
    return 0;
  p = mbi.Protect & 0xff;
  if (write == 1)
    return p == PAGE_READWRITE || p == PAGE_WRITECOPY ||
           p == PAGE_EXECUTE_READWRITE || p == PAGE_EXECUTE_WRITECOPY;
  if (write == 0)
    return p != PAGE_EXECUTE;
  return 0;
}

/* Resume the thread of ctx in land(), on its own stack, below the frame
 * that faulted and aligned as at a function's entry. */
static void redirect(CONTEXT *ctx) {
#if defined(__x86_64__) || defined(_M_X64)
  /* 256 bytes of room keep land()'s home space off the faulting frame. */
  ctx->Rsp = ((ctx->Rsp - 256) & ~(DWORD64)15) - 8;
  ctx->Rip = (DWORD64)(uintptr_t)land;
#elif defined(__i386__) || defined(_M_IX86)
  ctx->Esp = ((ctx->Esp - 256) & ~(DWORD)15) - 4;
  ctx->Eip = (DWORD)(uintptr_t)land;
#elif defined(__aarch64__) || defined(_M_ARM64)
  ctx->Sp = (ctx->Sp - 256) & ~(DWORD64)15;
  ctx->Pc = (DWORD64)(uintptr_t)land;
#else
#error "mmf: no fault guard for this Windows architecture"
#endif
}

static LONG CALLBACK on_exception(EXCEPTION_POINTERS *ep) {
  const EXCEPTION_RECORD *r = ep->ExceptionRecord;
  const unsigned char *addr;
  mmf__guard_frame *f;
  int write;
  if (r->ExceptionCode != EXCEPTION_IN_PAGE_ERROR &&
      r->ExceptionCode != EXCEPTION_ACCESS_VIOLATION)
    return EXCEPTION_CONTINUE_SEARCH;
  if (r->NumberParameters < 2)
    return EXCEPTION_CONTINUE_SEARCH;
  addr = (const unsigned char *)r->ExceptionInformation[1];
  for (f = top_frame(); f; f = f->outer)
    if (addr >= f->lo && addr < f->hi)
      break;
  if (!f)
    return EXCEPTION_CONTINUE_SEARCH;
  /* Parameter 0: 0 read, 1 write, 8 execute (DEP). */
  write = r->ExceptionInformation[0] == 0   ? 0
          : r->ExceptionInformation[0] == 1 ? 1
                                            : -1;
  f->fault->addr = (void *)(uintptr_t)addr;
  f->fault->write = write;
  if (r->ExceptionCode == EXCEPTION_IN_PAGE_ERROR) {
    f->fault->kind = MMF__FAULT_PAGE;
    f->fault->os_code = r->NumberParameters >= 3
                            ? (int)(LONG)r->ExceptionInformation[2]
                            : (int)r->ExceptionCode;
  } else {
    f->fault->kind =
        access_allowed(addr, write) ? MMF__FAULT_PAGE : MMF__FAULT_ACCESS;
    f->fault->os_code = (int)r->ExceptionCode;
  }
  /* The frames inside f are abandoned; land() finds f on top. */
  mmf__guard_top_set(f);
  redirect(ep->ContextRecord);
  return EXCEPTION_CONTINUE_EXECUTION;
}

static BOOL CALLBACK install(PINIT_ONCE once, PVOID param, PVOID *ctx) {
  static const int anchor = 0;
  HMODULE self;
  (void)once;
  (void)param;
  (void)ctx;
  (void)GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS |
                               GET_MODULE_HANDLE_EX_FLAG_PIN,
                           (LPCWSTR)(const void *)&anchor, &self);
  mmf__guard_slot = TlsAlloc();
  if (mmf__guard_slot == TLS_OUT_OF_INDEXES)
    return FALSE;
  if (!AddVectoredExceptionHandler(1, on_exception)) {
    TlsFree(mmf__guard_slot);
    mmf__guard_slot = TLS_OUT_OF_INDEXES;
    return FALSE;
  }
  atomic_store_explicit(&mmf__guard_installed, 1, memory_order_release);
  return TRUE;
}

/* Without a handler nothing could catch a fault: the core then refuses to
 * run guarded code rather than run it unguarded. */
int mmf__os_guard_thread_init(void) {
  return InitOnceExecuteOnce(&install_once, install, NULL, NULL) ? 0
                                                                 : MMF_ENOMEM;
}
