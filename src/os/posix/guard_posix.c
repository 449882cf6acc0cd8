/*
 * guard_posix.c - turning SIGBUS/SIGSEGV inside an armed range into a
 * return value.
 *
 * The core arms the guard inline (src/os/guard.h): a frame with the address
 * range and a jump target on the list mmf__guard_top of the thread. The
 * handlers, installed once for the whole process, look for the innermost
 * frame of the faulting thread whose range holds si_addr and jump back to
 * it. A fault no frame claims goes to the disposition the program had
 * before mmf, exactly as that expects, so a real crash stays a crash.
 *
 * Arming saves no signal mask (no system call). The mask is put back only
 * on the fault path, from the mask the kernel saved in the signal context.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <string.h>
#if defined(__APPLE__)
#include <mach/mach.h>
/* ucontext_t without the deprecated makecontext family, which <ucontext.h>
 * refuses to declare unless _XOPEN_SOURCE is defined. */
#include <sys/ucontext.h>
#else
#include <ucontext.h>
#endif

#include "os/os.h"

_Thread_local mmf__guard_frame *MMF__TLS_MODEL mmf__guard_top;
_Atomic int mmf__guard_installed;
_Thread_local int MMF__TLS_MODEL mmf__guard_thread_ok;

static struct sigaction previous_bus, previous_segv;
static pthread_once_t install_once = PTHREAD_ONCE_INIT;

/* Whether the access that faulted was a write, where the CPU tells. */
static int fault_was_write(void *uc) {
#if defined(__linux__) && (defined(__x86_64__) || defined(__i386__)) &&        \
    defined(REG_ERR)
  const ucontext_t *ctx = uc;
  return (ctx->uc_mcontext.gregs[REG_ERR] & 2) != 0;
#elif defined(__APPLE__) && defined(__x86_64__)
  const ucontext_t *ctx = uc; /* the page-fault error code: bit 1 = write */
  return (ctx->uc_mcontext->__es.__err & 2) != 0;
#elif defined(__APPLE__) && defined(__aarch64__)
  /* The syndrome of a data abort (exception class 0x24 from user mode,
   * 0x25) has the write-not-read bit at 6. */
  const ucontext_t *ctx = uc;
  unsigned esr = (unsigned)ctx->uc_mcontext->__es.__esr, ec = esr >> 26;
  return ec == 0x24 || ec == 0x25 ? (int)((esr >> 6) & 1) : -1;
#else
  (void)uc;
  return -1;
#endif
}

#if defined(__APPLE__)
/*
 * macOS raises SIGBUS (always with si_code BUS_ADRERR) for every bad
 * access to a mapped address: a page the file no longer backs, and also a
 * write to a read-only page or any access to a PROT_NONE one, which Linux
 * reports as SIGSEGV (SEGV_ACCERR). The protection of the region holding
 * the address tells them apart: an access it does not allow is a
 * protection fault. vm_region_64 is one kernel call that neither
 * allocates nor takes a lock the faulting code could hold.
 */
static int access_denied(void *addr, int write) {
  vm_address_t at = (vm_address_t)addr;
  vm_size_t size = 0;
  vm_region_basic_info_data_64_t info;
  mach_msg_type_number_t count = VM_REGION_BASIC_INFO_COUNT_64;
  mach_port_t object = MACH_PORT_NULL;
  if (vm_region_64(mach_task_self(), &at, &size, VM_REGION_BASIC_INFO_64,
                   (vm_region_info_t)&info, &count, &object) != KERN_SUCCESS)
    return 0;
  if (at > (vm_address_t)addr)
    return 0; /* the first region starts after addr: nothing mapped */
  if (!(info.protection & VM_PROT_READ))
    return 1;
  return write == 1 && !(info.protection & VM_PROT_WRITE);
}
#endif

/* Our own handler blocks nothing (SA_NODEFER, empty sa_mask), but when a
 * handler the program installed after mmf chains to us, the kernel blocked
 * the signal (and that handler's sa_mask) for it. Jumping out would leave
 * them blocked and the next fault would kill the process, so put back the
 * mask the thread had when it faulted. Only the fault path pays for this
 * system call. */
static void restore_mask(int sig, void *uc) {
  sigset_t unblock;
  if (uc) {
    pthread_sigmask(SIG_SETMASK, &((ucontext_t *)uc)->uc_sigmask, NULL);
    return;
  }
  sigemptyset(&unblock);
  sigaddset(&unblock, sig);
  pthread_sigmask(SIG_UNBLOCK, &unblock, NULL);
}

/* Hand a fault that is not ours to the disposition the program had. */
static void chain(int sig, siginfo_t *si, void *uc) {
  const struct sigaction *prev = sig == SIGBUS ? &previous_bus : &previous_segv;
  if (prev->sa_flags & SA_SIGINFO) {
    prev->sa_sigaction(sig, si, uc);
    return;
  }
  if (prev->sa_handler == SIG_IGN && si->si_code <= 0)
    return; /* a signal sent by kill() that the program ignores */
  if (prev->sa_handler != SIG_DFL && prev->sa_handler != SIG_IGN) {
    prev->sa_handler(sig);
    return;
  }
  /* SIG_DFL, or SIG_IGN for a real fault, which the kernel would not let a
   * program ignore either: restore the default action and let the signal
   * kill the process. A hardware fault repeats when the handler returns;
   * a sent signal must be raised again. */
  signal(sig, SIG_DFL);
  if (si->si_code <= 0)
    raise(sig);
}

static void describe(mmf__fault *fault, int sig, siginfo_t *si, void *uc) {
  fault->kind = sig == SIGBUS ? MMF__FAULT_PAGE : MMF__FAULT_ACCESS;
  fault->os_code = si->si_code;
  fault->addr = si->si_addr;
  fault->write = fault_was_write(uc);
#if defined(__APPLE__)
  if (sig == SIGBUS && access_denied(si->si_addr, fault->write))
    fault->kind = MMF__FAULT_ACCESS;
#endif
}

#if MMF__FAULT_ATOMICS
/* The registers of the interrupted context that the guarded atomics
 * leave for the handler (fault_atomic_posix.c): the faulting instruction,
 * the fault record and the bytes the routine was given. */
#if defined(__APPLE__) && defined(__x86_64__)
#define CTX_PC(c) ((c)->uc_mcontext->__ss.__rip)
#define CTX_RECORD(c) ((c)->uc_mcontext->__ss.__rdi)
#define CTX_BYTES(c) ((c)->uc_mcontext->__ss.__rsi)
#elif defined(__APPLE__) && defined(__aarch64__)
#define CTX_PC(c) ((c)->uc_mcontext->__ss.__pc)
#define CTX_RECORD(c) ((c)->uc_mcontext->__ss.__x[0])
#define CTX_BYTES(c) ((c)->uc_mcontext->__ss.__x[1])
#elif defined(__x86_64__)
#define CTX_PC(c) ((c)->uc_mcontext.gregs[REG_RIP])
#define CTX_RECORD(c) ((c)->uc_mcontext.gregs[REG_RDI])
#define CTX_BYTES(c) ((c)->uc_mcontext.gregs[REG_RSI])
#elif defined(__i386__)
#define CTX_PC(c) ((c)->uc_mcontext.gregs[REG_EIP])
#define CTX_RECORD(c) ((c)->uc_mcontext.gregs[REG_EDI])
#define CTX_BYTES(c) ((c)->uc_mcontext.gregs[REG_ESI])
#elif defined(__aarch64__)
#define CTX_PC(c) ((c)->uc_mcontext.pc)
#define CTX_RECORD(c) ((c)->uc_mcontext.regs[0])
#define CTX_BYTES(c) ((c)->uc_mcontext.regs[1])
#endif

/* A fault inside one of the guarded atomics, at the bytes it was given:
 * fill its record and resume the thread at the routine's fixup when the
 * handler returns. 1 if claimed. */
static int claim_atomic(int sig, siginfo_t *si, void *uc) {
  ucontext_t *ctx = uc;
  uintptr_t fixup;
  if (!ctx)
    return 0; /* a chaining handler that passed no context */
  fixup =
      mmf__fault_atomic_fixup((uintptr_t)CTX_PC(ctx), (uintptr_t)si->si_addr,
                              (uintptr_t)CTX_BYTES(ctx));
  if (!fixup)
    return 0;
  describe((mmf__fault *)(uintptr_t)CTX_RECORD(ctx), sig, si, uc);
  CTX_PC(ctx) = (__typeof__(CTX_PC(ctx)))fixup;
  return 1;
}
#endif

static void on_fault(int sig, siginfo_t *si, void *uc) {
  const unsigned char *addr = si->si_addr;
  mmf__guard_frame *f;
  /* Only faults raised by the CPU for this thread's own access carry a
   * meaningful si_addr; kill() and sigqueue() (si_code <= 0) never match. */
  if (si->si_code > 0) {
#if MMF__FAULT_ATOMICS
    /* Innermost of all: no frame can be armed inside the routine. The
     * kernel restores the mask from the context when the handler
     * returns. */
    if (claim_atomic(sig, si, uc))
      return;
#endif
    for (f = mmf__guard_top; f; f = f->outer) {
      if (addr >= f->lo && addr < f->hi) {
        describe(f->fault, sig, si, uc);
        mmf__guard_top = f;
        restore_mask(sig, uc);
        MMF__LONGJMP(f->jump);
      }
    }
  }
  chain(sig, si, uc);
}

static void install(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_fault;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGBUS, &sa, &previous_bus);
  sigaction(SIGSEGV, &sa, &previous_segv);
  atomic_store_explicit(&mmf__guard_installed, 1, memory_order_release);
}

int mmf__os_guard_thread_init(void) {
  sigset_t now, faults;
  pthread_once(&install_once, install);
  sigemptyset(&faults);
  if (pthread_sigmask(SIG_BLOCK, NULL, &now) == 0) {
    if (sigismember(&now, SIGBUS) == 1)
      sigaddset(&faults, SIGBUS);
    if (sigismember(&now, SIGSEGV) == 1)
      sigaddset(&faults, SIGSEGV);
    pthread_sigmask(SIG_UNBLOCK, &faults, NULL);
  }
  mmf__guard_thread_ok = 1;
  return 0;
}
