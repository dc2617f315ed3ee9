/*
 * platform_sim.c - the simulator's implementation of platform.h: every op
 * is a call into the world, charged by the cost model, and a scheduling
 * point where the machine could interleave another CPU or the hypervisor.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "world/world_internal.h"

static inline struct xsim_vcpu *me(void)
{
    return xsim__self;
}

static long p_hypercall(void *ctx, unsigned int op, unsigned long a1, unsigned long a2,
                        unsigned long a3, unsigned long a4, unsigned long a5)
{
    struct xsim_domain *d = ctx;
    struct xsim_world *w = d->world;
    struct xsim_vcpu *v = me();
    long rc;

    /* The exit happens before the hypervisor looks at anything, so this is
     * where another CPU can slip in. */
    xsim_point(w);
    xsim_charge(v, XSIM_COST_HYPERCALL, xsim_cost(w, XSIM_COST_HYPERCALL));
    if (op < XSIM_MAX_HYPERCALLS) {
        if (w->cfg.mode == XSIM_MODE_FREE_RUN)
            __atomic_fetch_add(&w->stats.hypercalls[op], 1, __ATOMIC_RELAXED);
        else
            w->stats.hypercalls[op]++;
    }
    if (w->cfg.mode == XSIM_MODE_FREE_RUN)
        pthread_mutex_lock(&w->big);
    if (op >= XSIM_MAX_HYPERCALLS || w->hcall[op] == NULL)
        rc = -ENOSYS;
    else
        rc = w->hcall[op](d, v, w->hcall_ctx[op], a1, a2, a3, a4, a5);
    xsim__trace_rec(w, XSIM_TR_HCALL, xsim__entity(v), op, a1, (uint64_t)rc);
    if (w->cfg.mode == XSIM_MODE_FREE_RUN)
        pthread_mutex_unlock(&w->big);
    return rc;
}

static void p_cpuid(void *ctx, uint32_t leaf, uint32_t subleaf, uint32_t regs[4])
{
    struct xsim_domain *d = ctx;
    struct xsim_world *w = d->world;

    xsim_charge(me(), XSIM_COST_EXIT_CPUID, xsim_cost(w, XSIM_COST_EXIT_CPUID));
    memset(regs, 0, 4 * sizeof(regs[0]));
    if (w->cpu_hooks.cpuid != NULL)
        w->cpu_hooks.cpuid(d, w->cpu_hooks.ctx, leaf, subleaf, regs);
}

static int p_rdmsr(void *ctx, uint32_t msr, uint64_t *value)
{
    struct xsim_domain *d = ctx;
    struct xsim_world *w = d->world;

    xsim_point(w);
    xsim_charge(me(), XSIM_COST_EXIT_MSR, xsim_cost(w, XSIM_COST_EXIT_MSR));
    *value = 0;
    if (w->cpu_hooks.rdmsr == NULL)
        return -EINVAL;
    return w->cpu_hooks.rdmsr(d, w->cpu_hooks.ctx, msr, value);
}

static int p_wrmsr(void *ctx, uint32_t msr, uint64_t value)
{
    struct xsim_domain *d = ctx;
    struct xsim_world *w = d->world;
    int rc;

    xsim_point(w);
    if (w->cpu_hooks.wrmsr == NULL)
        return -EINVAL;
    if (w->cfg.mode == XSIM_MODE_FREE_RUN)
        pthread_mutex_lock(&w->big);
    /* The hook charges the exit: with APICv some MSR writes (x2APIC EOI of
     * an edge-triggered vector, SELF_IPI) do not exit. */
    rc = w->cpu_hooks.wrmsr(d, w->cpu_hooks.ctx, msr, value);
    if (w->cfg.mode == XSIM_MODE_FREE_RUN)
        pthread_mutex_unlock(&w->big);
    return rc;
}

static uint64_t p_rdtsc(void *ctx)
{
    struct xsim_domain *d = ctx;
    struct xsim_world *w = d->world;
    uint64_t now = xsim_world_now(w);

    if (w->cpu_hooks.rdtsc != NULL)
        return w->cpu_hooks.rdtsc(d, w->cpu_hooks.ctx, now);
    return now; /* a 1 GHz TSC counting from 0 */
}

static void p_point_at(void *ctx, enum xg_point_kind kind, const volatile void *addr,
                       const char *file, int line)
{
    struct xsim_domain *d = ctx;
    struct xsim_world *w = d->world;
    struct xsim_vcpu *v = me();

    if (v == NULL)
        return;
    xsim__point_note(w, v, kind, addr, file, line);
    if (kind == XG_POINT_SPIN) {
        /* One turn of a wait loop (a pause instruction and a re-read). */
        __atomic_store_n(&v->vtime, v->vtime + w->spin_ns, __ATOMIC_RELAXED);
        v->cost_ns[XSIM_COST_POINT] += w->spin_ns;
        xsim_point_spin(w);
        return;
    }
    /* Plain charge (no counter): points are counted in stats.points. */
    __atomic_store_n(&v->vtime, v->vtime + w->costs->ns[XSIM_COST_POINT], __ATOMIC_RELAXED);
    v->cost_ns[XSIM_COST_POINT] += w->costs->ns[XSIM_COST_POINT];
    xsim_point(w);
}

static void p_point(void *ctx, enum xg_point_kind kind, const volatile void *addr)
{
    p_point_at(ctx, kind, addr, NULL, 0);
}

static bool p_irq_save(void *ctx)
{
    struct xsim_vcpu *v = me();
    bool was;

    (void)ctx;
    if (v == NULL)
        return false;
    was = v->if_flag;
    v->if_flag = false;
    return was;
}

static void p_irq_restore(void *ctx, bool enabled)
{
    struct xsim_domain *d = ctx;
    struct xsim_vcpu *v = me();

    if (v == NULL)
        return;
    if (enabled && !v->if_flag)
        xsim__irq_enable(d->world, v);
    else
        v->if_flag = enabled;
}

/* The vCPU's IF flag, read without touching anything: no delivery and no
 * scheduling point (pushf on hardware does not exit). */
static bool p_irq_enabled(void *ctx)
{
    struct xsim_vcpu *v = me();

    (void)ctx;
    return v != NULL && v->if_flag;
}

static void p_halt(void *ctx)
{
    struct xsim_domain *d = ctx;
    struct xsim_vcpu *v = me();

    if (v != NULL)
        xsim__halt(d->world, v);
}

static void p_eoi(void *ctx)
{
    struct xsim_domain *d = ctx;
    struct xsim_world *w = d->world;
    struct xsim_vcpu *v = me();
    bool level;
    int vec;

    if (v == NULL)
        return;
    vec = xsim__eoi(v, &level);
    if (!w->costs->apicv) {
        /* An APIC-access (xAPIC) or WRMSR (x2APIC) exit, handled by
         * vlapic_EOI_set; it exits even with nothing in service. */
        xsim_charge(v, XSIM_COST_EXIT_EOI, xsim_cost(w, XSIM_COST_EXIT_EOI));
    } else if (vec >= 0 && level) {
        /* EOI virtualization completes in the processor unless the
         * vector's EOI-exit bitmap bit is set, which Xen sets for
         * level-triggered vectors (vlapic_set_irq -> update_eoi_exit_bitmap):
         * then a trap-like EOI-induced exit follows. */
        xsim_charge(v, XSIM_COST_EXIT_EOI_INDUCED, xsim_cost(w, XSIM_COST_EXIT_EOI_INDUCED));
    }
    if (vec >= 0 && w->cpu_hooks.eoi != NULL) {
        if (w->cfg.mode == XSIM_MODE_FREE_RUN)
            pthread_mutex_lock(&w->big);
        w->cpu_hooks.eoi(v, w->cpu_hooks.ctx, vec, level);
        if (w->cfg.mode == XSIM_MODE_FREE_RUN)
            pthread_mutex_unlock(&w->big);
    }
}

static uint64_t p_mmio_read(void *ctx, uint64_t gpa, unsigned int size)
{
    struct xsim_domain *d = ctx;
    struct xsim_world *w = d->world;
    uint64_t val = ~(uint64_t)0;

    xsim_point(w);
    if (w->cpu_hooks.mmio_read == NULL) {
        xsim_charge(me(), XSIM_COST_EXIT_MMIO, xsim_cost(w, XSIM_COST_EXIT_MMIO));
        return val;
    }
    if (w->cfg.mode == XSIM_MODE_FREE_RUN)
        pthread_mutex_lock(&w->big);
    val = w->cpu_hooks.mmio_read(d, w->cpu_hooks.ctx, gpa, size);
    if (w->cfg.mode == XSIM_MODE_FREE_RUN)
        pthread_mutex_unlock(&w->big);
    return val;
}

static void p_mmio_write(void *ctx, uint64_t gpa, unsigned int size, uint64_t value)
{
    struct xsim_domain *d = ctx;
    struct xsim_world *w = d->world;

    xsim_point(w);
    if (w->cpu_hooks.mmio_write == NULL) {
        xsim_charge(me(), XSIM_COST_EXIT_MMIO, xsim_cost(w, XSIM_COST_EXIT_MMIO));
        return;
    }
    if (w->cfg.mode == XSIM_MODE_FREE_RUN)
        pthread_mutex_lock(&w->big);
    w->cpu_hooks.mmio_write(d, w->cpu_hooks.ctx, gpa, size, value);
    if (w->cfg.mode == XSIM_MODE_FREE_RUN)
        pthread_mutex_unlock(&w->big);
}

static void *p_page_alloc(void *ctx, uint64_t *gfn)
{
    struct xsim_domain *d = ctx;
    struct xsim_world *w = d->world;
    size_t idx;
    void *page = NULL;

    if (w->cfg.mode == XSIM_MODE_FREE_RUN)
        pthread_mutex_lock(&w->big);
    if (d->nram_free > 0) {
        idx = d->ram_free[--d->nram_free];
    } else if (d->ram_next < d->ram_pages) {
        idx = d->ram_next++;
    } else {
        goto out;
    }
    page = d->ram + idx * XSIM_PAGE_SIZE;
    memset(page, 0, XSIM_PAGE_SIZE);
    if (gfn != NULL)
        *gfn = XSIM_GFN_BASE + idx;
out:
    if (w->cfg.mode == XSIM_MODE_FREE_RUN)
        pthread_mutex_unlock(&w->big);
    return page;
}

void *xsim_domain_page_alloc(struct xsim_domain *d, uint64_t *gfn)
{
    return p_page_alloc(d, gfn);
}

static void p_page_free(void *ctx, void *page)
{
    struct xsim_domain *d = ctx;
    struct xsim_world *w = d->world;
    uint64_t gfn = xsim_domain_ptr_to_gfn(d, page);

    if (gfn == UINT64_MAX || d->nram_free >= d->ram_pages)
        return;
    if (w->cfg.mode == XSIM_MODE_FREE_RUN)
        pthread_mutex_lock(&w->big);
    d->ram_free[d->nram_free++] = gfn - XSIM_GFN_BASE;
    if (w->cfg.mode == XSIM_MODE_FREE_RUN)
        pthread_mutex_unlock(&w->big);
}

static uint64_t p_virt_to_gfn(void *ctx, const void *va)
{
    return xsim_domain_ptr_to_gfn(ctx, va);
}

static void *p_map_gfn(void *ctx, uint64_t gfn)
{
    return xsim_domain_gfn_to_ptr(ctx, gfn);
}

static unsigned int p_cpu_id(void *ctx)
{
    struct xsim_vcpu *v = me();

    (void)ctx;
    return v != NULL ? v->cpu : 0;
}

static void p_work(void *ctx, enum xg_work_kind kind, uint64_t ns)
{
    struct xsim_domain *d = ctx;

    xsim_charge(me(), kind == XG_WORK_HANDLER ? XSIM_COST_HANDLER : XSIM_COST_GUEST, ns);
    xsim_point(d->world);
}

static void p_log(void *ctx, enum xg_log_level level, const char *msg)
{
    struct xsim_domain *d = ctx;
    struct xsim_world *w = d->world;
    struct xsim_vcpu *v = me();
    static const char *const names[] = {"err", "warn", "info", "debug"};

    if (w->cfg.log == NULL)
        return;
    fprintf(w->cfg.log, "[%12" PRIu64 " ns] d%u v%d %s: %s\n", xsim_world_now(w),
            (unsigned)d->domid, v != NULL ? (int)v->cpu : -1,
            (unsigned)level < 4 ? names[level] : "?", msg);
}

/* A guest BUG: the run fails with the place and the condition, and the
 * vCPU stops executing guest code (a kernel would panic). */
static void p_bug(void *ctx, const char *file, int line, const char *expr)
{
    struct xsim_domain *d = ctx;
    struct xsim_world *w = d->world;
    struct xsim_vcpu *v = me();

    __atomic_store_n(&w->guest_bug, true, __ATOMIC_RELEASE);
    xsim_world_fail(w, "guest BUG at %s:%d: %s", file != NULL ? file : "?", line,
                    expr != NULL ? expr : "?");
    if (v != NULL && v->world == w)
        xsim__vcpu_abort(w, v);
    /* Not on one of this world's vCPUs: nothing to stop, nowhere to go. */
    fprintf(stderr, "guest BUG outside a vCPU at %s:%d: %s\n", file != NULL ? file : "?", line,
            expr != NULL ? expr : "?");
    abort();
}

static const struct xg_platform_ops sim_platform_ops = {
    .hypercall = p_hypercall,
    .cpuid = p_cpuid,
    .rdmsr = p_rdmsr,
    .wrmsr = p_wrmsr,
    .mmio_read = p_mmio_read,
    .mmio_write = p_mmio_write,
    .rdtsc = p_rdtsc,
    .point = p_point,
    .point_at = p_point_at,
    .irq_save = p_irq_save,
    .irq_restore = p_irq_restore,
    .irq_enabled = p_irq_enabled,
    .halt = p_halt,
    .eoi = p_eoi,
    .page_alloc = p_page_alloc,
    .page_free = p_page_free,
    .virt_to_gfn = p_virt_to_gfn,
    .map_gfn = p_map_gfn,
    .cpu_id = p_cpu_id,
    .work = p_work,
    .log = p_log,
    .bug = p_bug,
};

void xsim__platform_init(struct xsim_domain *d)
{
    d->platform.ops = &sim_platform_ops;
    d->platform.ctx = d;
}
