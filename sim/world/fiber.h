/*
 * fiber.h - user-space execution contexts for the deterministic world's
 * fiber backend: each vCPU runs on its own stack on the one host thread that
 * runs the world, and a switch is a few instructions instead of a futex
 * handoff between threads. A hand-written switch on x86-64 and aarch64
 * (sim/world/fiber.c), ucontext elsewhere.
 */
#ifndef XSIM_FIBER_H
#define XSIM_FIBER_H

#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* XSIM_FIBER_ASM: the hand-written switch; else XSIM_FIBER_UCONTEXT: the
 * portable fallback (makecontext/swapcontext); else no fibers at all. */
#if (defined(__x86_64__) || defined(__aarch64__)) && defined(__ELF__) && \
    !defined(XSIM_FIBER_FORCE_UCONTEXT)
#define XSIM_FIBER_ASM      1
#define XSIM_FIBER_UCONTEXT 0
#elif defined(__has_include)
#define XSIM_FIBER_ASM 0
#if __has_include(<ucontext.h>)
#include <ucontext.h>
#define XSIM_FIBER_UCONTEXT 1
#else
#define XSIM_FIBER_UCONTEXT 0
#endif
#else
#define XSIM_FIBER_ASM 0
#include <ucontext.h>
#define XSIM_FIBER_UCONTEXT 1
#endif
#define XSIM_FIBER_AVAILABLE (XSIM_FIBER_ASM || XSIM_FIBER_UCONTEXT)

/* One context. A thread's own context (the world's main context) is a
 * zeroed struct: it has no stack of its own here. */
struct xsim_fiber {
    void *sp; /* saved stack pointer while switched out (hand-written switch) */
#if XSIM_FIBER_UCONTEXT
    ucontext_t uc;
#endif
    void *map; /* the mapping: guard pages, then the stack; NULL: a thread */
    size_t map_size;
    char *stack_lo; /* lowest usable byte (just above the guard) */
    size_t stack_size;
    void (*fn)(void *);
    void *arg;
    /* AddressSanitizer's fake stack and the stack bounds it is told about;
     * a thread's bounds are learned when it first switches to a fiber. */
    void *asan_fake;
    const void *asan_bottom;
    size_t asan_size;
    unsigned int valgrind_id;
};

/* What a fault on a fiber was (xsim__fiber_crash_info). */
struct xsim_fiber_crash {
    int signo;
    uintptr_t addr;
    bool guard; /* the address is in the fiber's guard pages: a stack overflow */
    struct xsim_fiber *fiber;
};

/* Make `f` a fiber that will run fn(arg) on a stack of `stack_size` bytes
 * (rounded up to pages) above an inaccessible guard. fn must never return;
 * leave a fiber by switching away for good. Stacks come from a small cache
 * per host thread. 0 or -ENOMEM. */
int xsim__fiber_create(struct xsim_fiber *f, size_t stack_size, void (*fn)(void *), void *arg);
/* Give back `f`'s stack (to the calling thread's cache). `f` must not be
 * running; a fiber suspended mid-stack is simply discarded (nothing on it
 * is unwound). */
void xsim__fiber_destroy(struct xsim_fiber *f);

/* Suspend `from` (the running context) and run `to`. Returns when someone
 * switches back to `from`. */
void xsim__fiber_switch(struct xsim_fiber *from, struct xsim_fiber *to);
/* The same, for a `from` that will never run again (it finished or parks
 * for good): sanitizers may drop what they keep for it. */
_Noreturn void xsim__fiber_switch_last(struct xsim_fiber *from, struct xsim_fiber *to);

/* The fiber running on this host thread, NULL when it runs its own stack. */
struct xsim_fiber *xsim__fiber_running(void);

/*
 * Crash capture. While armed on a thread, a SIGSEGV or SIGBUS raised while
 * one of this thread's fibers runs jumps to `jb` (siglongjmp, value 1; `jb`
 * may be saved without the signal mask: the handler blocks nothing)
 * with the thread's own context current again; xsim__fiber_crash_info tells
 * what happened. Faults elsewhere go to the handler that was there before.
 * The handler is installed while at least one thread is armed and the
 * previous one restored when the last disarms; the alternate signal stack
 * likewise per thread. Not available under AddressSanitizer, whose own
 * handler reports such faults (arm returns false and does nothing).
 */
bool xsim__fiber_crash_arm(sigjmp_buf *jb);
void xsim__fiber_crash_disarm(void);
/* Nesting hold (on) and release (off) on the calling thread: while held,
 * disarm leaves the handler and alternate stack in place for the next arm
 * (six system calls a run saved); the last release restores them. */
void xsim__fiber_crash_hold(bool on);
const struct xsim_fiber_crash *xsim__fiber_crash_info(void);

/* Bare switch for benchmarks: save the running stack pointer in *save and
 * continue on `to` (a value saved by this call, or xsim__fiber_create's). */
void xsim__fiber_swap(void **save, void *to);

#endif
