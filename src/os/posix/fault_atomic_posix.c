/*
 * fault_atomic_posix.c - the mutex's uncontended lock and unlock as tiny
 * routines whose faults the handler can recognise without a frame (see
 * "Guarded atomics without a frame" in os.h).
 *
 * Each routine touches the mutex's bytes only at the instructions listed
 * in mmf__fault_atomic_sites, a table kept next to the code: for each, its
 * address and where a fault there resumes (the fixup), both as offsets
 * from the table, so that the table needs no relocation. The routines use
 * no stack between their first and last listed instruction except what
 * the fixup undoes, so the fixup can return as the routine would.
 *
 * What guard_posix.c's handler reads from the interrupted context: the
 * fault record in one register and the mutex's bytes in another, the
 * same at every listed instruction:
 *   x86_64 (SysV):  %rdi the record, %rsi the bytes (the first two
 *                   arguments, never changed)
 *   i386:           %edi the record, %esi the bytes (loaded from the
 *                   stack before the first listed instruction)
 *   aarch64:        x0 the record, x1 the bytes
 *
 * i386 has no plain 64-bit store without SSE2 (which the library does not
 * require), so it stores the owner's process fields (bytes 8-15) as two
 * 32-bit halves. A reader could see one half new and one old; that is no
 * worse than what it can see already, the fields being written after the
 * lock word, and each half (the process id, the namespaces) is whole.
 *
 * The release is the compare-and-swap alone, given the word it expects:
 * no load before it (a locked instruction that waits for a load costs
 * more than the load) and no store to the process fields, which keep the
 * last owner's values (mutex.c says why that is safe).
 */
#include "os/os.h"

#if MMF__FAULT_ATOMICS

#if defined(__APPLE__)
#define SYM(name) "_" #name
#define HIDDEN(name) ".private_extern " SYM(name) "\n"
#else
#define SYM(name) #name
#define HIDDEN(name) ".hidden " SYM(name) "\n"
#endif

#define BEGIN(name)                                                            \
  ".globl " SYM(name) "\n" HIDDEN(name) ".p2align 4\n" SYM(name) ":\n"

/* One table entry: the instruction at label `site`, its fixup at label
 * `fixup` (both defined before the table). */
#define SITE(site, fixup)                                                      \
  ".long " #site                                                               \
  "b - " SYM(mmf__fault_atomic_sites) ", " #fixup                              \
                                      "b - " SYM(mmf__fault_atomic_sites) "\n"

extern const int32_t mmf__fault_atomic_sites[];

_Thread_local mmf__fault MMF__TLS_MODEL mmf__fault_atomic_record;

/*
 * Each architecture defines ACQUIRE and RELEASE, the routines' bodies
 * (labels 10-19 in the first, 20-29 in the second; 19 and 29 the
 * fixups), and SITES, the listed instructions with their fixups.
 */
#if defined(__x86_64__)

/* (record %rdi, word %rsi, desired %rdx, info %rcx); changes only %rax. */
#define ACQUIRE                                                                \
  "  xorl %eax, %eax\n"                                                        \
  "10: lock cmpxchgq %rdx, (%rsi)\n"                                           \
  "  jne 12f\n"                                                                \
  "11: movq %rcx, 8(%rsi)\n"                                                   \
  "  movl $1, %eax\n"                                                          \
  "  ret\n"                                                                    \
  "12: xorl %eax, %eax\n"                                                      \
  "  ret\n"                                                                    \
  "19: movl $-1, %eax\n"                                                       \
  "  ret\n"

/* (record %rdi, word %rsi, expected %rdx); changes only %rax and %rcx, as
 * os.h's inline call declares. */
#define RELEASE                                                                \
  "  movq %rdx, %rax\n"                                                        \
  "  xorl %ecx, %ecx\n"                                                        \
  "20: lock cmpxchgq %rcx, (%rsi)\n"                                           \
  "  sete %al\n"                                                               \
  "  movzbl %al, %eax\n"                                                       \
  "  ret\n"                                                                    \
  "29: movl $-1, %eax\n"                                                       \
  "  ret\n"

#define SITES SITE(10, 19) SITE(11, 19) SITE(20, 29)

#elif defined(__i386__)

/* (record, word, desired lo/hi, info lo/hi) on the stack */
#define ACQUIRE                                                                \
  "  pushl %ebx\n"                                                             \
  "  pushl %esi\n"                                                             \
  "  pushl %edi\n"                                                             \
  "  movl 16(%esp), %edi\n"                                                    \
  "  movl 20(%esp), %esi\n"                                                    \
  "  movl 24(%esp), %ebx\n"                                                    \
  "  movl 28(%esp), %ecx\n"                                                    \
  "  xorl %eax, %eax\n"                                                        \
  "  xorl %edx, %edx\n"                                                        \
  "10: lock cmpxchg8b (%esi)\n"                                                \
  "  jne 13f\n"                                                                \
  "  movl 32(%esp), %eax\n"                                                    \
  "  movl 36(%esp), %edx\n"                                                    \
  "11: movl %eax, 8(%esi)\n"                                                   \
  "12: movl %edx, 12(%esi)\n"                                                  \
  "  movl $1, %eax\n"                                                          \
  "  jmp 18f\n"                                                                \
  "13: xorl %eax, %eax\n"                                                      \
  "  jmp 18f\n"                                                                \
  "19: movl $-1, %eax\n"                                                       \
  "18: popl %edi\n"                                                            \
  "  popl %esi\n"                                                              \
  "  popl %ebx\n"                                                              \
  "  ret\n"

/* (record, word, expected lo/hi) on the stack */
#define RELEASE                                                                \
  "  pushl %ebx\n"                                                             \
  "  pushl %esi\n"                                                             \
  "  pushl %edi\n"                                                             \
  "  movl 16(%esp), %edi\n"                                                    \
  "  movl 20(%esp), %esi\n"                                                    \
  "  movl 24(%esp), %eax\n"                                                    \
  "  movl 28(%esp), %edx\n"                                                    \
  "  xorl %ebx, %ebx\n"                                                        \
  "  xorl %ecx, %ecx\n"                                                        \
  "20: lock cmpxchg8b (%esi)\n"                                                \
  "  sete %al\n"                                                               \
  "  movzbl %al, %eax\n"                                                       \
  "  jmp 28f\n"                                                                \
  "29: movl $-1, %eax\n"                                                       \
  "28: popl %edi\n"                                                            \
  "  popl %esi\n"                                                              \
  "  popl %ebx\n"                                                              \
  "  ret\n"

#define SITES SITE(10, 19) SITE(11, 19) SITE(12, 19) SITE(20, 29)

#elif defined(__aarch64__)

/* (record x0, word x1, desired x2, info x3). A load-exclusive /
 * store-exclusive loop: both can fault (the page can go between them),
 * so both are listed. */
#define ACQUIRE                                                                \
  "10: ldaxr x4, [x1]\n"                                                       \
  "  cbnz x4, 13f\n"                                                           \
  "11: stxr w5, x2, [x1]\n"                                                    \
  "  cbnz w5, 10b\n"                                                           \
  "12: str x3, [x1, #8]\n"                                                     \
  "  mov w0, #1\n"                                                             \
  "  ret\n"                                                                    \
  "13: clrex\n"                                                                \
  "  mov w0, #0\n"                                                             \
  "  ret\n"                                                                    \
  "19: mov w0, #-1\n"                                                          \
  "  ret\n"

/* (record x0, word x1, expected x2) */
#define RELEASE                                                                \
  "20: ldxr x3, [x1]\n"                                                        \
  "  cmp x3, x2\n"                                                             \
  "  b.ne 22f\n"                                                               \
  "21: stlxr w4, xzr, [x1]\n"                                                  \
  "  cbnz w4, 20b\n"                                                           \
  "  mov w0, #1\n"                                                             \
  "  ret\n"                                                                    \
  "22: clrex\n"                                                                \
  "  mov w0, #0\n"                                                             \
  "  ret\n"                                                                    \
  "29: mov w0, #-1\n"                                                          \
  "  ret\n"

#define SITES SITE(10, 19) SITE(11, 19) SITE(12, 19) SITE(20, 29) SITE(21, 29)

#endif

/* One statement, so that the table's labels refer back into the same
 * piece of assembly. */
__asm__(".text\n" BEGIN(mmf__fault_acquire) ACQUIRE BEGIN(mmf__fault_release)
            RELEASE ".p2align 2\n" BEGIN(mmf__fault_atomic_sites) SITES
        ".long 0, 0\n");

static uintptr_t at_offset(int32_t off) {
  return (uintptr_t)mmf__fault_atomic_sites + (uintptr_t)(intptr_t)off;
}

uintptr_t mmf__fault_atomic_site(int i) {
  int n;
  for (n = 0; n < i && mmf__fault_atomic_sites[2 * n]; n++)
    ;
  if (i < 0 || !mmf__fault_atomic_sites[2 * n])
    return 0;
  return at_offset(mmf__fault_atomic_sites[2 * n]);
}

/* The routines touch the lock word and the 8 bytes after it, nothing
 * else: a fault at any other address did not come from their access. */
uintptr_t mmf__fault_atomic_fixup(uintptr_t pc, uintptr_t addr,
                                  uintptr_t base) {
  const int32_t *e;
  if (addr < base || addr - base >= 16)
    return 0;
  for (e = mmf__fault_atomic_sites; e[0]; e += 2)
    if (at_offset(e[0]) == pc)
      return at_offset(e[1]);
  return 0;
}

#endif
