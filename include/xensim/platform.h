/*
 * platform.h - the boundary between guest code (src/, or anyone's own guest)
 * and the machine it runs on.
 *
 * Guest code reaches the machine only through a `struct xg_platform`: an ops
 * table plus an opaque context. A kernel port implements the ops with inline
 * assembly (vmcall, cpuid, wrmsr, lock-prefixed instructions, cli/sti, hlt);
 * the simulator implements them with calls into its world, where each one is
 * a scheduling point. Nothing else crosses.
 *
 * This header is freestanding: it needs only <stdint.h>, <stddef.h> and
 * <stdbool.h>.
 */
#ifndef XENSIM_PLATFORM_H
#define XENSIM_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Kinds of shared-memory access, passed to ops->point so that a simulator can
 * record and schedule around them. A kernel port ignores them. */
enum xg_point_kind {
    XG_POINT_LOAD = 0,  /* plain read of shared memory */
    XG_POINT_STORE = 1, /* plain write of shared memory */
    XG_POINT_RMW = 2,   /* atomic read-modify-write */
    XG_POINT_FENCE = 3, /* memory barrier */
    XG_POINT_SPIN = 4,  /* one iteration of a wait loop (pause) */
};

/* Log levels for ops->log. */
enum xg_log_level { XG_LOG_ERR = 0, XG_LOG_WARN = 1, XG_LOG_INFO = 2, XG_LOG_DEBUG = 3 };

/* Work categories guest code may declare with ops->work (handler work, idle
 * loop work), so that a cost model can account for time the guest spends. */
enum xg_work_kind { XG_WORK_HANDLER = 0, XG_WORK_GUEST = 1 };

struct xg_platform_ops {
    /* Xen hypercall `op` (__HYPERVISOR_*) with up to five arguments; pointer
     * arguments are guest virtual addresses of ABI structs. Returns Xen's
     * answer: >= 0 on success, a negative errno on failure. */
    long (*hypercall)(void *ctx, unsigned int op, unsigned long a1, unsigned long a2,
                      unsigned long a3, unsigned long a4, unsigned long a5);
    /* CPUID: regs[0..3] = eax, ebx, ecx, edx. */
    void (*cpuid)(void *ctx, uint32_t leaf, uint32_t subleaf, uint32_t regs[4]);
    /* MSR access; returns 0 or -EINVAL (#GP on hardware). */
    int (*rdmsr)(void *ctx, uint32_t msr, uint64_t *value);
    int (*wrmsr)(void *ctx, uint32_t msr, uint64_t value);
    /* Emulated device registers (IOAPIC, HPET, xAPIC): each access is an
     * MMIO exit on HVM. size is 1, 2, 4 or 8. Reads of nothing return ~0. */
    uint64_t (*mmio_read)(void *ctx, uint64_t gpa, unsigned int size);
    void (*mmio_write)(void *ctx, uint64_t gpa, unsigned int size, uint64_t value);
    /* Time stamp counter of the current CPU. */
    uint64_t (*rdtsc)(void *ctx);

    /* A scheduling point before an access to memory shared with the
     * hypervisor, a backend or another CPU. The access itself is done by the
     * inline helpers below with the compiler's atomic builtins. */
    void (*point)(void *ctx, enum xg_point_kind kind, const volatile void *addr);

    /* Local interrupt flag. irq_save returns the previous state (true =
     * enabled) and disables; irq_restore puts a saved state back. Enabling
     * may deliver pending interrupts before it returns. */
    bool (*irq_save)(void *ctx);
    void (*irq_restore)(void *ctx, bool enabled);
    /* Optional. Whether interrupts are enabled on this CPU (pushf; test IF).
     * No side effect: it never delivers an interrupt and is not a
     * scheduling point. NULL: the wrapper falls back to irq_save +
     * irq_restore, whose restore may deliver a pending interrupt. */
    bool (*irq_enabled)(void *ctx);
    /* Atomically enable interrupts and wait for one (sti; hlt). Returns after
     * an interrupt was delivered, with interrupts enabled. */
    void (*halt)(void *ctx);
    /* End of interrupt on the local APIC for the vector being serviced. */
    void (*eoi)(void *ctx);

    /* Guest pages. page_alloc returns a zeroed, page-aligned 4096-byte page
     * and its guest frame number, or NULL when the guest is out of memory. */
    void *(*page_alloc)(void *ctx, uint64_t *gfn);
    void (*page_free)(void *ctx, void *page);
    /* Guest frame number of a guest virtual address inside a page
     * returned by page_alloc. */
    uint64_t (*virt_to_gfn)(void *ctx, const void *va);
    /* Map a guest frame the toolstack named (e.g. HVM_PARAM_STORE_PFN)
     * into the guest's address space; NULL if it is not the guest's RAM. */
    void *(*map_gfn)(void *ctx, uint64_t gfn);

    /* Index of the CPU this code runs on (0-based, dense). */
    unsigned int (*cpu_id)(void *ctx);
    /* Declare `ns` of guest work (a kernel port may ignore it). */
    void (*work)(void *ctx, enum xg_work_kind kind, uint64_t ns);
    /* Log one line (no trailing newline needed). */
    void (*log)(void *ctx, enum xg_log_level level, const char *msg);
    /* Guest code found one of its own invariants broken (XG_BUG_ON): a
     * programmer error, never something a backend, XenStore or any other
     * input can cause. Does not return: a kernel port panics; the
     * simulator fails the run and stops this vCPU. Optional: NULL (or an
     * op that returns) traps. */
    void (*bug)(void *ctx, const char *file, int line, const char *expr);
    /* Optional. `point` with the source position of the access (the
     * wrappers below pass __FILE__ and __LINE__ of their caller), so that
     * a simulator can show which line raced with which. NULL: the
     * wrappers call `point`. A kernel port leaves it NULL. */
    void (*point_at)(void *ctx, enum xg_point_kind kind, const volatile void *addr,
                     const char *file, int line);
};

struct xg_platform {
    const struct xg_platform_ops *ops;
    void *ctx;
};

/* Inline wrappers: what guest code calls. The ones that are scheduling
 * points are macros around xg__*_at functions, so that each point carries
 * its caller's file and line (ops->point_at). */

static inline void xg__point_at(const struct xg_platform *p, enum xg_point_kind kind,
                                const volatile void *addr, const char *file, int line)
{
    if (p->ops->point_at != NULL)
        p->ops->point_at(p->ctx, kind, addr, file, line);
    else
        p->ops->point(p->ctx, kind, addr);
}

static inline long xg_hypercall(const struct xg_platform *p, unsigned int op, unsigned long a1,
                                unsigned long a2, unsigned long a3)
{
    return p->ops->hypercall(p->ctx, op, a1, a2, a3, 0, 0);
}

static inline uint64_t xg_mmio_read32(const struct xg_platform *p, uint64_t gpa)
{
    return p->ops->mmio_read(p->ctx, gpa, 4);
}

static inline void xg_mmio_write32(const struct xg_platform *p, uint64_t gpa, uint32_t v)
{
    p->ops->mmio_write(p->ctx, gpa, 4, v);
}

static inline void xg_cpuid(const struct xg_platform *p, uint32_t leaf, uint32_t subleaf,
                            uint32_t regs[4])
{
    p->ops->cpuid(p->ctx, leaf, subleaf, regs);
}

static inline int xg_wrmsr(const struct xg_platform *p, uint32_t msr, uint64_t v)
{
    return p->ops->wrmsr(p->ctx, msr, v);
}

static inline int xg_rdmsr(const struct xg_platform *p, uint32_t msr, uint64_t *v)
{
    return p->ops->rdmsr(p->ctx, msr, v);
}

static inline uint64_t xg_rdtsc(const struct xg_platform *p)
{
    return p->ops->rdtsc(p->ctx);
}

static inline void *xg_page_alloc(const struct xg_platform *p, uint64_t *gfn)
{
    return p->ops->page_alloc(p->ctx, gfn);
}

static inline unsigned int xg_cpu(const struct xg_platform *p)
{
    return p->ops->cpu_id(p->ctx);
}

#define xg_point(p, kind, addr) xg__point_at((p), (kind), (addr), __FILE__, __LINE__)

/* Full barrier (mb), read barrier (rmb), write barrier (wmb). */
static inline void xg__mb_at(const struct xg_platform *p, const char *file, int line)
{
    xg__point_at(p, XG_POINT_FENCE, NULL, file, line);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

static inline void xg__rmb_at(const struct xg_platform *p, const char *file, int line)
{
    xg__point_at(p, XG_POINT_FENCE, NULL, file, line);
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
}

static inline void xg__wmb_at(const struct xg_platform *p, const char *file, int line)
{
    xg__point_at(p, XG_POINT_FENCE, NULL, file, line);
    __atomic_thread_fence(__ATOMIC_RELEASE);
}
#define xg_mb(p)  xg__mb_at((p), __FILE__, __LINE__)
#define xg_rmb(p) xg__rmb_at((p), __FILE__, __LINE__)
#define xg_wmb(p) xg__wmb_at((p), __FILE__, __LINE__)

/* Shared-memory loads and stores (READ_ONCE / WRITE_ONCE). */
#define XG_DEFINE_ACCESS(type, suffix)                                                             \
    static inline type xg__read_##suffix##_at(const struct xg_platform *p,                         \
                                              const volatile type *addr, const char *f, int l)     \
    {                                                                                              \
        xg__point_at(p, XG_POINT_LOAD, addr, f, l);                                                \
        return __atomic_load_n(addr, __ATOMIC_RELAXED);                                            \
    }                                                                                              \
    static inline void xg__write_##suffix##_at(const struct xg_platform *p, volatile type *addr,   \
                                               type v, const char *f, int l)                       \
    {                                                                                              \
        xg__point_at(p, XG_POINT_STORE, addr, f, l);                                               \
        __atomic_store_n(addr, v, __ATOMIC_RELAXED);                                               \
    }                                                                                              \
    static inline type xg__xchg_##suffix##_at(const struct xg_platform *p, volatile type *addr,    \
                                              type v, const char *f, int l)                        \
    {                                                                                              \
        xg__point_at(p, XG_POINT_RMW, addr, f, l);                                                 \
        return __atomic_exchange_n(addr, v, __ATOMIC_SEQ_CST);                                     \
    }                                                                                              \
    static inline bool xg__cmpxchg_##suffix##_at(const struct xg_platform *p,                      \
                                                 volatile type *addr, type *expected,              \
                                                 type desired, const char *f, int l)               \
    {                                                                                              \
        xg__point_at(p, XG_POINT_RMW, addr, f, l);                                                 \
        return __atomic_compare_exchange_n(addr, expected, desired, false, __ATOMIC_SEQ_CST,       \
                                           __ATOMIC_SEQ_CST);                                      \
    }                                                                                              \
    static inline type xg__fetch_add_##suffix##_at(const struct xg_platform *p,                    \
                                                   volatile type *addr, type v, const char *f,     \
                                                   int l)                                          \
    {                                                                                              \
        xg__point_at(p, XG_POINT_RMW, addr, f, l);                                                 \
        return __atomic_fetch_add(addr, v, __ATOMIC_SEQ_CST);                                      \
    }                                                                                              \
    static inline type xg__fetch_or_##suffix##_at(const struct xg_platform *p,                     \
                                                  volatile type *addr, type v, const char *f,      \
                                                  int l)                                           \
    {                                                                                              \
        xg__point_at(p, XG_POINT_RMW, addr, f, l);                                                 \
        return __atomic_fetch_or(addr, v, __ATOMIC_SEQ_CST);                                       \
    }

XG_DEFINE_ACCESS(uint8_t, u8)
XG_DEFINE_ACCESS(uint16_t, u16)
XG_DEFINE_ACCESS(uint32_t, u32)
XG_DEFINE_ACCESS(uint64_t, u64)
#undef XG_DEFINE_ACCESS

#define XG__AT __FILE__, __LINE__
#define xg_read_u8(p, a)                xg__read_u8_at((p), (a), XG__AT)
#define xg_read_u16(p, a)               xg__read_u16_at((p), (a), XG__AT)
#define xg_read_u32(p, a)               xg__read_u32_at((p), (a), XG__AT)
#define xg_read_u64(p, a)               xg__read_u64_at((p), (a), XG__AT)
#define xg_write_u8(p, a, v)            xg__write_u8_at((p), (a), (v), XG__AT)
#define xg_write_u16(p, a, v)           xg__write_u16_at((p), (a), (v), XG__AT)
#define xg_write_u32(p, a, v)           xg__write_u32_at((p), (a), (v), XG__AT)
#define xg_write_u64(p, a, v)           xg__write_u64_at((p), (a), (v), XG__AT)
#define xg_xchg_u8(p, a, v)             xg__xchg_u8_at((p), (a), (v), XG__AT)
#define xg_xchg_u16(p, a, v)            xg__xchg_u16_at((p), (a), (v), XG__AT)
#define xg_xchg_u32(p, a, v)            xg__xchg_u32_at((p), (a), (v), XG__AT)
#define xg_xchg_u64(p, a, v)            xg__xchg_u64_at((p), (a), (v), XG__AT)
#define xg_cmpxchg_u8(p, a, e, d)       xg__cmpxchg_u8_at((p), (a), (e), (d), XG__AT)
#define xg_cmpxchg_u16(p, a, e, d)      xg__cmpxchg_u16_at((p), (a), (e), (d), XG__AT)
#define xg_cmpxchg_u32(p, a, e, d)      xg__cmpxchg_u32_at((p), (a), (e), (d), XG__AT)
#define xg_cmpxchg_u64(p, a, e, d)      xg__cmpxchg_u64_at((p), (a), (e), (d), XG__AT)
#define xg_fetch_add_u8(p, a, v)        xg__fetch_add_u8_at((p), (a), (v), XG__AT)
#define xg_fetch_add_u16(p, a, v)       xg__fetch_add_u16_at((p), (a), (v), XG__AT)
#define xg_fetch_add_u32(p, a, v)       xg__fetch_add_u32_at((p), (a), (v), XG__AT)
#define xg_fetch_add_u64(p, a, v)       xg__fetch_add_u64_at((p), (a), (v), XG__AT)
#define xg_fetch_or_u8(p, a, v)         xg__fetch_or_u8_at((p), (a), (v), XG__AT)
#define xg_fetch_or_u16(p, a, v)        xg__fetch_or_u16_at((p), (a), (v), XG__AT)
#define xg_fetch_or_u32(p, a, v)        xg__fetch_or_u32_at((p), (a), (v), XG__AT)
#define xg_fetch_or_u64(p, a, v)        xg__fetch_or_u64_at((p), (a), (v), XG__AT)

/* Atomic bit operations on an array of 64-bit words (sync_*_bit in Linux,
 * atomic_*_long in FreeBSD). Each returns the bit's old value. */
static inline bool xg__test_and_set_bit_at(const struct xg_platform *p, unsigned int nr,
                                           volatile uint64_t *words, const char *f, int l)
{
    uint64_t m = (uint64_t)1 << (nr & 63);
    xg__point_at(p, XG_POINT_RMW, &words[nr >> 6], f, l);
    return (__atomic_fetch_or(&words[nr >> 6], m, __ATOMIC_SEQ_CST) & m) != 0;
}

static inline bool xg__test_and_clear_bit_at(const struct xg_platform *p, unsigned int nr,
                                             volatile uint64_t *words, const char *f, int l)
{
    uint64_t m = (uint64_t)1 << (nr & 63);
    xg__point_at(p, XG_POINT_RMW, &words[nr >> 6], f, l);
    return (__atomic_fetch_and(&words[nr >> 6], ~m, __ATOMIC_SEQ_CST) & m) != 0;
}

static inline bool xg__test_bit_at(const struct xg_platform *p, unsigned int nr,
                                   const volatile uint64_t *words, const char *f, int l)
{
    xg__point_at(p, XG_POINT_LOAD, &words[nr >> 6], f, l);
    return (__atomic_load_n(&words[nr >> 6], __ATOMIC_RELAXED) >> (nr & 63)) & 1;
}

#define xg_test_and_set_bit(p, nr, w)   xg__test_and_set_bit_at((p), (nr), (w), XG__AT)
#define xg_test_and_clear_bit(p, nr, w) xg__test_and_clear_bit_at((p), (nr), (w), XG__AT)
#define xg_set_bit(p, nr, w)            ((void)xg__test_and_set_bit_at((p), (nr), (w), XG__AT))
#define xg_clear_bit(p, nr, w)          ((void)xg__test_and_clear_bit_at((p), (nr), (w), XG__AT))
#define xg_test_bit(p, nr, w)           xg__test_bit_at((p), (nr), (w), XG__AT)

static inline bool xg_irq_save(const struct xg_platform *p)
{
    return p->ops->irq_save(p->ctx);
}

static inline void xg_irq_restore(const struct xg_platform *p, bool enabled)
{
    p->ops->irq_restore(p->ctx, enabled);
}

/* Whether interrupts are enabled on this CPU, without enabling or
 * delivering anything when the op exists. */
static inline bool xg_irq_enabled(const struct xg_platform *p)
{
    bool was;

    if (p->ops->irq_enabled != NULL)
        return p->ops->irq_enabled(p->ctx);
    /* Without the op: a save/restore pair, which may deliver an interrupt
     * on the restore when interrupts were enabled. */
    was = p->ops->irq_save(p->ctx);
    p->ops->irq_restore(p->ctx, was);
    return was;
}

static inline void xg_halt(const struct xg_platform *p)
{
    p->ops->halt(p->ctx);
}

static inline void xg_eoi(const struct xg_platform *p)
{
    p->ops->eoi(p->ctx);
}

static inline void xg_work(const struct xg_platform *p, enum xg_work_kind kind, uint64_t ns)
{
    if (p->ops->work != NULL)
        p->ops->work(p->ctx, kind, ns);
}

static inline void xg_log(const struct xg_platform *p, enum xg_log_level level, const char *msg)
{
    if (p->ops->log != NULL)
        p->ops->log(p->ctx, level, msg);
}

/* Report a broken invariant of guest code; never returns. */
static inline __attribute__((noreturn)) void xg_bug(const struct xg_platform *p, const char *file,
                                                    int line, const char *expr)
{
    if (p->ops->bug != NULL)
        p->ops->bug(p->ctx, file, line, expr);
    /* The op must not return; without one there is nothing else to do. */
    __builtin_trap();
}

/* BUG_ON / KASSERT for guest code's own invariants: `cond` is evaluated
 * once; if true, ops->bug gets the file, line and condition's text. Never
 * for conditions a backend, XenStore or other input can make true: those
 * get an error path. */
#define XG_BUG_ON(p, cond)                          \
    do {                                            \
        if (__builtin_expect(!!(cond), 0))          \
            xg_bug((p), __FILE__, __LINE__, #cond); \
    } while (0)

#ifdef __cplusplus
}
#endif

#endif /* XENSIM_PLATFORM_H */
