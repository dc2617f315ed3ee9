/*
 * fiber.c - fiber stacks, the context switch and crash capture; see fiber.h.
 *
 * The switch saves only what the platform ABI says a callee must preserve,
 * since it is an ordinary function call to the code on either side:
 *   x86-64 SysV: rbx, rbp, r12-r15, rsp, and the MXCSR and x87 control word
 *     (their control bits are callee-saved, psABI 3.2.1);
 *   aarch64 AAPCS64: x19-x28, x29 (fp), x30 (lr), sp, d8-d15 (the low
 *     halves of v8-v15), and FPCR.
 * Everything else is caller-saved, so the compiler has already spilled it.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "world/fiber.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define XSIM_FIBER_ASAN 1
#endif
#endif
#if !defined(XSIM_FIBER_ASAN) && defined(__SANITIZE_ADDRESS__)
#define XSIM_FIBER_ASAN 1
#endif
#ifndef XSIM_FIBER_ASAN
#define XSIM_FIBER_ASAN 0
#endif

#if XSIM_FIBER_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define XSIM_FIBER_VALGRIND 1
#endif
#endif
#ifndef XSIM_FIBER_VALGRIND
#define XSIM_FIBER_VALGRIND 0
#endif

#ifndef MAP_STACK
#define MAP_STACK 0
#endif
#ifndef MAP_ANONYMOUS
#define MAP_ANONYMOUS MAP_ANON
#endif

/* Guard below each stack: large enough that a function with a big frame
 * cannot step over it without touching it (compilers probe per page only
 * with -fstack-clash-protection). */
#define GUARD_SIZE    ((size_t)64 * 1024)
#define ALTSTACK_SIZE ((size_t)64 * 1024)
#define CACHE_MAX     32

/* ---- the switch ---- */

#if XSIM_FIBER_ASM && defined(__x86_64__)
/* void xsim__fiber_swap(void **save (rdi), void *to (rsi)) */
__asm__(".text\n"
        ".globl xsim__fiber_swap\n"
        ".type xsim__fiber_swap,@function\n"
        ".p2align 4\n"
        "xsim__fiber_swap:\n"
        "    .cfi_startproc\n"
        "    pushq %rbp\n"
        "    pushq %rbx\n"
        "    pushq %r12\n"
        "    pushq %r13\n"
        "    pushq %r14\n"
        "    pushq %r15\n"
        "    subq $8, %rsp\n"
        "    stmxcsr (%rsp)\n"
        "    fnstcw 4(%rsp)\n"
        "    movq %rsp, (%rdi)\n"
        "    movq %rsi, %rsp\n"
        "    ldmxcsr (%rsp)\n"
        "    fldcw 4(%rsp)\n"
        "    addq $8, %rsp\n"
        "    popq %r15\n"
        "    popq %r14\n"
        "    popq %r13\n"
        "    popq %r12\n"
        "    popq %rbx\n"
        "    popq %rbp\n"
        "    ret\n"
        "    .cfi_endproc\n"
        ".size xsim__fiber_swap, .-xsim__fiber_swap\n"
        /* A new fiber's first "return": r12 = argument, r13 = function.
         * rsp is 16-byte aligned here, as a call requires. */
        ".globl xsim__fiber_trampoline\n"
        ".type xsim__fiber_trampoline,@function\n"
        ".p2align 4\n"
        "xsim__fiber_trampoline:\n"
        "    movq %r12, %rdi\n"
        "    callq *%r13\n"
        "    ud2\n"
        ".size xsim__fiber_trampoline, .-xsim__fiber_trampoline\n");
#elif XSIM_FIBER_ASM && defined(__aarch64__)
/* void xsim__fiber_swap(void **save (x0), void *to (x1)); frame: x19-x30 at
 * 0..95, d8-d15 at 96..159, FPCR at 160; 176 bytes keeps sp 16-aligned. */
__asm__(".text\n"
        ".globl xsim__fiber_swap\n"
        ".type xsim__fiber_swap,%function\n"
        ".p2align 4\n"
        "xsim__fiber_swap:\n"
        "    sub sp, sp, #176\n"
        "    stp x19, x20, [sp, #0]\n"
        "    stp x21, x22, [sp, #16]\n"
        "    stp x23, x24, [sp, #32]\n"
        "    stp x25, x26, [sp, #48]\n"
        "    stp x27, x28, [sp, #64]\n"
        "    stp x29, x30, [sp, #80]\n"
        "    stp d8, d9, [sp, #96]\n"
        "    stp d10, d11, [sp, #112]\n"
        "    stp d12, d13, [sp, #128]\n"
        "    stp d14, d15, [sp, #144]\n"
        "    mrs x2, fpcr\n"
        "    str x2, [sp, #160]\n"
        "    mov x2, sp\n"
        "    str x2, [x0]\n"
        "    mov sp, x1\n"
        "    ldr x2, [sp, #160]\n"
        "    msr fpcr, x2\n"
        "    ldp x19, x20, [sp, #0]\n"
        "    ldp x21, x22, [sp, #16]\n"
        "    ldp x23, x24, [sp, #32]\n"
        "    ldp x25, x26, [sp, #48]\n"
        "    ldp x27, x28, [sp, #64]\n"
        "    ldp x29, x30, [sp, #80]\n"
        "    ldp d8, d9, [sp, #96]\n"
        "    ldp d10, d11, [sp, #112]\n"
        "    ldp d12, d13, [sp, #128]\n"
        "    ldp d14, d15, [sp, #144]\n"
        "    add sp, sp, #176\n"
        "    ret\n"
        ".size xsim__fiber_swap, .-xsim__fiber_swap\n"
        /* A new fiber's first "return": x19 = argument, x20 = function. */
        ".globl xsim__fiber_trampoline\n"
        ".type xsim__fiber_trampoline,%function\n"
        ".p2align 4\n"
        "xsim__fiber_trampoline:\n"
        "    mov x0, x19\n"
        "    blr x20\n"
        "    brk #0\n"
        ".size xsim__fiber_trampoline, .-xsim__fiber_trampoline\n");
#endif

#if XSIM_FIBER_ASM
void xsim__fiber_trampoline(void);
#else
void xsim__fiber_swap(void **save, void *to)
{
    /* No bare switch without the hand-written one (benchmarks check). */
    (void)save;
    (void)to;
    abort();
}
#endif

/* ---- per-thread state ---- */

struct cached_stack {
    void *map;
    size_t size;
};

struct thread_state {
    struct cached_stack cache[CACHE_MAX];
    unsigned int ncache;
    void *altstack;
};

static __thread struct xsim_fiber *t_running; /* NULL: the thread's own stack */
static __thread struct xsim_fiber *t_prev;    /* the context just left (ASan) */
static __thread struct thread_state *t_state;
static __thread struct xsim_fiber_crash t_crash;

static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static pthread_key_t state_key;

static void state_free(void *p)
{
    struct thread_state *ts = p;

    for (unsigned int i = 0; i < ts->ncache; i++)
        munmap(ts->cache[i].map, ts->cache[i].size);
    free(ts->altstack);
    free(ts);
}

static void key_create(void)
{
    (void)pthread_key_create(&state_key, state_free);
}

static struct thread_state *thread_state(void)
{
    if (t_state == NULL) {
        (void)pthread_once(&key_once, key_create);
        t_state = calloc(1, sizeof(*t_state));
        if (t_state == NULL)
            return NULL;
        /* The destructor gives the cached stacks back when the thread ends. */
        (void)pthread_setspecific(state_key, t_state);
    }
    return t_state;
}

struct xsim_fiber *xsim__fiber_running(void)
{
    return t_running;
}

/* ---- stacks ---- */

static size_t page_size(void)
{
    long p = sysconf(_SC_PAGESIZE);

    return p > 0 ? (size_t)p : 4096;
}

static void *stack_get(size_t map_size)
{
    struct thread_state *ts = thread_state();
    void *m;

    if (ts != NULL) {
        for (unsigned int i = ts->ncache; i-- > 0;) {
            if (ts->cache[i].size == map_size) {
                m = ts->cache[i].map;
                ts->cache[i] = ts->cache[--ts->ncache];
                return m;
            }
        }
    }
    m = mmap(NULL, map_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1,
             0);
    if (m == MAP_FAILED)
        return NULL;
    /* The guard: an overflow faults here instead of writing into whatever
     * lies below the stack. */
    if (mprotect(m, GUARD_SIZE, PROT_NONE) != 0) {
        munmap(m, map_size);
        return NULL;
    }
    return m;
}

static void stack_put(void *map, size_t map_size)
{
    struct thread_state *ts = thread_state();

    if (ts != NULL && ts->ncache < CACHE_MAX) {
        ts->cache[ts->ncache].map = map;
        ts->cache[ts->ncache].size = map_size;
        ts->ncache++;
        return;
    }
    munmap(map, map_size);
}

/* The first code a fiber runs (on its own stack). */
static _Noreturn void fiber_entry(void *arg)
{
    struct xsim_fiber *f = arg;

#if XSIM_FIBER_ASAN
    /* (A bare xsim__fiber_swap, as benchmarks make, has no t_prev.) */
    if (t_prev != NULL)
        __sanitizer_finish_switch_fiber(NULL, &t_prev->asan_bottom, &t_prev->asan_size);
#endif
    f->fn(f->arg);
    abort(); /* fn must switch away for good instead of returning */
}

#if XSIM_FIBER_UCONTEXT
static void uc_entry(void)
{
    fiber_entry(t_running);
}
#endif

int xsim__fiber_create(struct xsim_fiber *f, size_t stack_size, void (*fn)(void *), void *arg)
{
    size_t ps = page_size(), size = (stack_size + ps - 1) / ps * ps;

    memset(f, 0, sizeof(*f));
    if (size < 4 * ps)
        size = 4 * ps;
    f->map_size = size + GUARD_SIZE;
    f->map = stack_get(f->map_size);
    if (f->map == NULL)
        return -ENOMEM;
    f->stack_lo = (char *)f->map + GUARD_SIZE;
    f->stack_size = size;
    f->fn = fn;
    f->arg = arg;
    f->asan_bottom = f->stack_lo;
    f->asan_size = size;
#if XSIM_FIBER_VALGRIND
    f->valgrind_id = VALGRIND_STACK_REGISTER(f->stack_lo, f->stack_lo + size);
#endif
#if XSIM_FIBER_ASM
    {
        uintptr_t top = ((uintptr_t)f->stack_lo + size) & ~(uintptr_t)15;
#if defined(__x86_64__)
        /* The frame xsim__fiber_swap pops: control words, r15, r14, r13,
         * r12, rbx, rbp, return address (at top - 8, so that rsp is
         * 16-aligned after the ret). */
        uint64_t *sp = (uint64_t *)(top - 64);
        memset(sp, 0, 64);
        sp[0] = 0x1f80 | ((uint64_t)0x037f << 32); /* MXCSR and x87 CW at reset */
        sp[3] = (uint64_t)(uintptr_t)fiber_entry;  /* r13 */
        sp[4] = (uint64_t)(uintptr_t)f;            /* r12 */
        sp[7] = (uint64_t)(uintptr_t)xsim__fiber_trampoline;
#else
        uint64_t *sp = (uint64_t *)(top - 176);
        memset(sp, 0, 176);
        sp[0] = (uint64_t)(uintptr_t)f;                       /* x19 */
        sp[1] = (uint64_t)(uintptr_t)fiber_entry;             /* x20 */
        sp[11] = (uint64_t)(uintptr_t)xsim__fiber_trampoline; /* x30 */
#endif
        f->sp = sp;
    }
#elif XSIM_FIBER_UCONTEXT
    if (getcontext(&f->uc) != 0) {
        xsim__fiber_destroy(f);
        return -ENOMEM;
    }
    f->uc.uc_stack.ss_sp = f->stack_lo;
    f->uc.uc_stack.ss_size = size;
    f->uc.uc_link = NULL;
    makecontext(&f->uc, uc_entry, 0);
#else
    (void)fiber_entry;
    xsim__fiber_destroy(f);
    return -ENOSYS;
#endif
    return 0;
}

void xsim__fiber_destroy(struct xsim_fiber *f)
{
    if (f->map == NULL)
        return;
#if XSIM_FIBER_VALGRIND
    VALGRIND_STACK_DEREGISTER(f->valgrind_id);
#endif
#if XSIM_FIBER_ASAN
    /* Frames abandoned on a suspended fiber leave poisoned redzones behind;
     * the next user of these pages must start clean. */
    __asan_unpoison_memory_region(f->stack_lo, f->stack_size);
#endif
    stack_put(f->map, f->map_size);
    f->map = NULL;
}

static inline void do_switch(struct xsim_fiber *from, struct xsim_fiber *to, bool last)
{
    t_prev = from;
    t_running = to->map != NULL ? to : NULL;
#if XSIM_FIBER_ASAN
    __sanitizer_start_switch_fiber(last ? NULL : &from->asan_fake, to->asan_bottom, to->asan_size);
#else
    (void)last;
#endif
#if XSIM_FIBER_ASM
    xsim__fiber_swap(&from->sp, to->sp);
#elif XSIM_FIBER_UCONTEXT
    (void)swapcontext(&from->uc, &to->uc);
#endif
#if XSIM_FIBER_ASAN
    __sanitizer_finish_switch_fiber(from->asan_fake, &t_prev->asan_bottom, &t_prev->asan_size);
#endif
    t_running = from->map != NULL ? from : NULL;
}

void xsim__fiber_switch(struct xsim_fiber *from, struct xsim_fiber *to)
{
    do_switch(from, to, false);
}

_Noreturn void xsim__fiber_switch_last(struct xsim_fiber *from, struct xsim_fiber *to)
{
    do_switch(from, to, true);
    abort(); /* nobody switches back to a fiber that left for good */
}

/* ---- crash capture ---- */

#if XSIM_FIBER_ASAN
/* AddressSanitizer's own SIGSEGV handler reports overflows and wild
 * accesses (with a stack trace); ours would only hide its report. */
bool xsim__fiber_crash_arm(sigjmp_buf *jb)
{
    (void)jb;
    return false;
}

void xsim__fiber_crash_disarm(void)
{
}

void xsim__fiber_crash_hold(bool on)
{
    (void)on;
}
#else
static __thread sigjmp_buf *t_crash_jb;
static __thread stack_t t_old_altstack;
static __thread bool t_installed; /* our handler and alternate stack are in place */
static __thread unsigned int t_hold;
static pthread_mutex_t crash_mu = PTHREAD_MUTEX_INITIALIZER;
static unsigned int crash_users;
static struct sigaction old_segv, old_bus;

static void on_fault(int sig, siginfo_t *si, void *uc)
{
    struct xsim_fiber *f = t_running;
    const struct sigaction *old = sig == SIGBUS ? &old_bus : &old_segv;

    if (f != NULL && t_crash_jb != NULL) {
        uintptr_t a = (uintptr_t)si->si_addr, lo = (uintptr_t)f->map;
        t_crash.signo = sig;
        t_crash.addr = a;
        t_crash.guard = a >= lo && a < lo + GUARD_SIZE;
        t_crash.fiber = f;
        /* Back on the thread's own stack: the fiber is abandoned as it is,
         * and its stack is given back when its world is destroyed. */
        t_running = NULL;
        siglongjmp(*t_crash_jb, 1);
    }
    /* Not ours: what was installed before decides. */
    if ((old->sa_flags & SA_SIGINFO) && old->sa_sigaction != NULL) {
        old->sa_sigaction(sig, si, uc);
    } else if (old->sa_handler != SIG_DFL && old->sa_handler != SIG_IGN) {
        old->sa_handler(sig);
    } else {
        /* Returning re-executes the faulting access under the default
         * action: the process dies of the signal, as without us. */
        signal(sig, SIG_DFL);
    }
}

static bool install(void)
{
    struct thread_state *ts = thread_state();
    stack_t ss;

    if (ts == NULL)
        return false;
    if (ts->altstack == NULL && (ts->altstack = malloc(ALTSTACK_SIZE)) == NULL)
        return false;
    /* The handler must not run on the stack that overflowed. */
    memset(&ss, 0, sizeof(ss));
    ss.ss_sp = ts->altstack;
    ss.ss_size = ALTSTACK_SIZE;
    if (sigaltstack(&ss, &t_old_altstack) != 0)
        return false;
    pthread_mutex_lock(&crash_mu);
    if (crash_users++ == 0) {
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_sigaction = on_fault;
        /* SA_NODEFER: the handler leaves by siglongjmp to a buffer saved
         * without the signal mask (saving it costs a system call per run),
         * so the signal must not be blocked while it runs. */
        sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
        sigemptyset(&sa.sa_mask);
        (void)sigaction(SIGSEGV, &sa, &old_segv);
        (void)sigaction(SIGBUS, &sa, &old_bus);
    }
    pthread_mutex_unlock(&crash_mu);
    return true;
}

static void uninstall(void)
{
    pthread_mutex_lock(&crash_mu);
    if (--crash_users == 0) {
        (void)sigaction(SIGSEGV, &old_segv, NULL);
        (void)sigaction(SIGBUS, &old_bus, NULL);
    }
    pthread_mutex_unlock(&crash_mu);
    (void)sigaltstack(&t_old_altstack, NULL);
}

bool xsim__fiber_crash_arm(sigjmp_buf *jb)
{
    if (!t_installed && !install())
        return false;
    t_installed = true;
    memset(&t_crash, 0, sizeof(t_crash));
    t_crash_jb = jb;
    return true;
}

void xsim__fiber_crash_disarm(void)
{
    t_crash_jb = NULL;
    /* Restore what was there before, unless a hold keeps ours for the
     * next run on this thread. */
    if (t_installed && t_hold == 0) {
        uninstall();
        t_installed = false;
    }
}

void xsim__fiber_crash_hold(bool on)
{
    if (on) {
        t_hold++;
        return;
    }
    if (t_hold > 0 && --t_hold == 0 && t_installed && t_crash_jb == NULL) {
        uninstall();
        t_installed = false;
    }
}
#endif

const struct xsim_fiber_crash *xsim__fiber_crash_info(void)
{
    return &t_crash;
}
