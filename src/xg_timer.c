/*
 * xg_timer.c - the per-CPU event timer: the Xen PV single-shot timer where
 * the platform allows it, else the LAPIC timer (TSC-deadline or one-shot
 * mode) or an HPET comparator. See xg_timer.h for the choice and costs.
 */
#include <errno.h>
#include <string.h>

#include "xensim/abi/vcpu.h"
#include "xensim/guest/xg_evtchn.h"
#include "xensim/guest/xg_timer.h"
#include "xg_mutant.h"

#define MSR_TSC_DEADLINE      0x6e0
#define MSR_LVT_TIMER         0x832
#define MSR_TMICT             0x838
#define MSR_TMCCT             0x839
#define MSR_TDCR              0x83e
#define LVT_MASKED            (1u << 16)
#define LVT_ONESHOT           (0u << 17)
#define LVT_TSC_DEADLINE      (2u << 17)
#define TDCR_DIVIDE_1         0xbu

#define IOAPIC_BASE           0xfec00000ull
#define IOAPIC_REGSEL         0x00
#define IOAPIC_IOWIN          0x10

#define HPET_REG_ID           0x000
#define HPET_REG_CFG          0x010
#define HPET_REG_COUNTER      0x0f0
#define HPET_TN_CFG(n)        (0x100 + 0x20 * (uint64_t)(n))
#define HPET_TN_CMP(n)        (0x108 + 0x20 * (uint64_t)(n))
#define HPET_CFG_ENABLE       1ull
#define HPET_CFG_LEGACY       2ull
#define HPET_TN_ENABLE        (1ull << 2)
#define HPET_TN_ROUTE(p)      ((uint64_t)(p) << 9)
#define HPET_MAX_PERIOD       100000000ull /* 100 ns in fs */
#define FS_PER_NS             1000000ull

#define PV_MIN_DELTA_NS       100000ull /* Linux's TIMER_SLOP (arch/x86/xen/time.c) */
#define EMULATED_MIN_DELTA_NS 1000ull
#define MAX_DELTA_NS          (1ull << 43) /* ~2.4 h: keeps unit conversions in 64 bits */
#define LAPIC_CALIBRATE_NS    5000000ull   /* measured span: 5 ms */
#define LAPIC_CALIBRATE_FIRST (1ull << 24) /* ~17 ms at Xen's 1 GHz */
#define LAPIC_CALIBRATE_STEP  50000ull
#define LAPIC_CALIBRATE_POLLS 100000u
#define LAPIC_MAX_COUNT       0xffffffffull

/*
 * What differs between the timer devices, one table per kind. A kind's
 * probe tells whether it works here (and sets up what is device-wide, on
 * CPU 0); cpu_setup is each CPU's part; arm programs an expiry at
 * `raw_target` in the clock source's own time (s: the clock sample it was
 * computed from); disarm cancels one where the device allows, else the
 * expiry finds no deadline and is ignored. vector: the local interrupt the
 * device raises (0: it comes as an event channel).
 */
struct timer_kind_ops {
    const char *name;
    uint8_t vector;
    uint64_t min_delta_ns;
    bool (*probe)(struct xg_timers *t);
    int (*cpu_setup)(struct xg_timers *t, unsigned int cpu);
    int (*arm)(struct xg_timers *t, unsigned int cpu, const struct xg_clock_sample *s,
               uint64_t raw_target);
    int (*disarm)(struct xg_timers *t, unsigned int cpu);
};

static const struct timer_kind_ops *kind_ops(enum xg_timer_kind k);

const char *xg_timer_kind_name(enum xg_timer_kind k)
{
    return k >= XG_TIMER_NONE && k <= XG_TIMER_HPET ? kind_ops(k)->name : "unknown";
}

void xg_timer_config_init(struct xg_timer_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->hpet_base = XG_HPET_BASE;
}

static long vcpu_op(struct xg_timers *t, unsigned int cmd, unsigned int cpu, void *arg)
{
    return xg_hypercall(t->g->p, __HYPERVISOR_vcpu_op, cmd, cpu, (unsigned long)arg);
}

static uint64_t hpet_read(struct xg_timers *t, uint64_t reg)
{
    const struct xg_platform *p = t->g->p;

    return p->ops->mmio_read(p->ctx, t->cfg.hpet_base + reg, 8);
}

static void hpet_write(struct xg_timers *t, uint64_t reg, uint64_t v)
{
    const struct xg_platform *p = t->g->p;

    p->ops->mmio_write(p->ctx, t->cfg.hpet_base + reg, 8, v);
}

/* ---- expiry ---- */

static int program(struct xg_timers *t, unsigned int cpu, uint64_t deadline);

static void expire(struct xg_timers *t, unsigned int cpu)
{
    struct xg_timer_cpu *c = &t->cpu[cpu];
    uint64_t d = c->deadline_ns, now;

    c->st.irqs++;
    if (c->suspended) {
        /* Parked for a suspend: the deadline is kept and re-armed by
         * xg_timer_cpu_resume; nothing runs here now. */
        c->st.stale++;
        return;
    }
    if (d == 0) {
        c->st.stale++;
        return;
    }
    now = xg_clock_now(t->clk);
    if (now < d && !XG_MUTATED(20)) {
        /* An expiry of an older deadline (a reprogram raced it), or a
         * device that ran a little fast for the clock: aim again. */
        c->st.early++;
        (void)program(t, cpu, d);
        return;
    }
    c->deadline_ns = 0;
    c->st.fires++;
    if (c->fn != NULL)
        c->fn(t, cpu, d, now, c->arg);
}

static int virq_handler(struct xg_guest *g, evtchn_port_t port, void *arg)
{
    expire(arg, xg_cpu(g->p));
    return XG_EVTCHN_HANDLED;
}

bool xg_timer_interrupt(struct xg_timers *t, uint8_t vector)
{
    unsigned int cpu;

    if (t->kind == XG_TIMER_NONE || t->g == NULL)
        return false; /* not initialised (yet) */
    cpu = xg_cpu(t->g->p);
    if (cpu >= XG_MAX_CPUS)
        return false;
    if (kind_ops(t->kind)->vector == 0 || kind_ops(t->kind)->vector != vector)
        return false;
    /* EOI first: an expiry that comes while the callback runs (it may
     * re-arm a short timer) is taken when it returns, not lost. */
    xg_eoi(t->g->p);
    expire(t, cpu);
    return true;
}

/* ---- programming the device ---- */

static uint64_t ceil_div(uint64_t a, uint64_t b)
{
    return a / b + (a % b != 0);
}

static int program_lapic(struct xg_timers *t, uint64_t delta_ns)
{
    uint64_t count;

    if (delta_ns > MAX_DELTA_NS)
        delta_ns = MAX_DELTA_NS;
    /* The calibrated rate errs fast, never slow (see calibrate_lapic):
     * rounding up keeps the expiry at or after the deadline. */
    count = ceil_div(delta_ns * t->lapic_counts, t->lapic_ns);
    if (count == 0)
        count = 1;
    if (count > LAPIC_MAX_COUNT)
        count = LAPIC_MAX_COUNT; /* fires early; expire() re-arms for the rest */
    return xg_wrmsr(t->g->p, MSR_TMICT, count);
}

static int program_hpet(struct xg_timers *t, unsigned int cpu, uint64_t delta_ns)
{
    uint64_t cnt, cmp, ticks;

    if (delta_ns > MAX_DELTA_NS)
        delta_ns = MAX_DELTA_NS;
    ticks = ceil_div(delta_ns * FS_PER_NS, t->hpet_period_fs);
    /* Read the counter, set the comparator from it, read the counter again
     * to see whether it already ran past (Linux's hpet_clkevt_set_next_event).
     * Xen's vHPET fires at once for a comparator just behind the counter,
     * so a late write still yields an interrupt. */
    cnt = hpet_read(t, HPET_REG_COUNTER);
    cmp = cnt + (ticks ? ticks : 1);
    hpet_write(t, HPET_TN_CMP(cpu), cmp);
    (void)hpet_read(t, HPET_REG_COUNTER);
    return 0;
}

/* Arm the device for monotonic time `deadline` (at least min_delta away). */
static int program(struct xg_timers *t, unsigned int cpu, uint64_t deadline)
{
    struct xg_clock_sample s;
    uint64_t target, raw_target;
    int rc = xg_clock_sample(t->clk, &s);

    if (rc != 0)
        return rc;
    target = deadline;
    if (target < s.mono_ns + t->min_delta_ns)
        target = s.mono_ns + t->min_delta_ns;
    /* In the source's own time; never before s.raw_ns since mono >= raw +
     * offset. Relative devices count from there. */
    raw_target = xg_clock_raw_for(&s, target);
    return kind_ops(t->kind)->arm(t, cpu, &s, raw_target);
}

static struct xg_timer_cpu *this_cpu(struct xg_timers *t, unsigned int *cpu)
{
    *cpu = xg_cpu(t->g->p);
    if (*cpu >= XG_MAX_CPUS || !t->cpu[*cpu].ready)
        return NULL;
    return &t->cpu[*cpu];
}

int xg_timer_set(struct xg_timers *t, uint64_t deadline_ns)
{
    const struct xg_platform *p = t->g->p;
    unsigned int cpu;
    struct xg_timer_cpu *c = this_cpu(t, &cpu);
    bool was;
    int rc;

    if (c == NULL)
        return -EINVAL;
    was = xg_irq_save(p);
    /* The new deadline is in place before the device is touched: an
     * expiry of the old one, taken once interrupts are back on, finds it
     * and re-arms instead of firing early. */
    c->deadline_ns = deadline_ns != 0 ? deadline_ns : 1;
    c->st.sets++;
    rc = program(t, cpu, c->deadline_ns);
    if (rc != 0)
        c->deadline_ns = 0;
    xg_irq_restore(p, was);
    return rc;
}

int xg_timer_set_in(struct xg_timers *t, uint64_t delta_ns)
{
    uint64_t now = xg_clock_now(t->clk);

    return xg_timer_set(t, now + delta_ns < now ? UINT64_MAX : now + delta_ns);
}

int xg_timer_stop(struct xg_timers *t)
{
    const struct xg_platform *p = t->g->p;
    unsigned int cpu;
    struct xg_timer_cpu *c = this_cpu(t, &cpu);
    bool was;
    int rc = 0;

    if (c == NULL)
        return -EINVAL;
    was = xg_irq_save(p);
    c->deadline_ns = 0;
    c->st.stops++;
    rc = kind_ops(t->kind)->disarm(t, cpu);
    xg_irq_restore(p, was);
    return rc;
}

static int cpu_setup(struct xg_timers *t, unsigned int cpu);

int xg_timer_cpu_resume(struct xg_timers *t)
{
    const struct xg_platform *p = t->g->p;
    unsigned int cpu;
    struct xg_timer_cpu *c = this_cpu(t, &cpu);
    bool was;
    int rc = 0;

    if (c == NULL)
        return -EINVAL;
    /* The new host may start this vCPU with a periodic timer too. */
    (void)vcpu_op(t, VCPUOP_stop_periodic_timer, cpu, NULL);
    was = xg_irq_save(p);
    if (c->kind != t->kind) {
        /* xg_timers_resume changed the device (the new host cannot give
         * this CPU a PV timer): this CPU's part of the new one first, so
         * that the re-arm below lands on it. Still suspended meanwhile:
         * an expiry of the old device is ignored. */
        rc = cpu_setup(t, cpu);
        if (rc != 0) {
            c->ready = false;
            c->suspended = false;
            xg_irq_restore(p, was);
            return rc;
        }
        c->kind = t->kind;
    }
    c->suspended = false;
    /* The deadline is monotonic time, carried over the switch: programmed
     * again from the clock it fires no earlier (expire() checks) and is
     * not lost. */
    if (c->deadline_ns != 0)
        rc = program(t, cpu, c->deadline_ns);
    xg_irq_restore(p, was);
    return rc;
}

int xg_timer_cpu_suspend(struct xg_timers *t)
{
    const struct xg_platform *p = t->g->p;
    unsigned int cpu;
    struct xg_timer_cpu *c = this_cpu(t, &cpu);
    bool was;

    if (c == NULL)
        return -EINVAL;
    was = xg_irq_save(p);
    /* The deadline stays: resume re-arms it from the monotonic clock. An
     * expiry already pending is taken after resume, and finds it. */
    c->suspended = true;
    (void)kind_ops(t->kind)->disarm(t, cpu); /* hpet: an expiry now is ignored (suspended) */
    xg_irq_restore(p, was);
    return 0;
}

static bool pv_allowed(const struct xg_timers *t);
static enum xg_timer_kind choose(struct xg_timers *t);
static void set_min_delta(struct xg_timers *t);

int xg_timers_resume(struct xg_timers *t, bool new_host)
{
    int rc = 0;

    if (t->g == NULL || t->kind == XG_TIMER_NONE)
        return -EINVAL;
    if (!new_host)
        return 0;
    for (unsigned int cpu = 0; cpu < t->g->ncpus; cpu++)
        (void)vcpu_op(t, VCPUOP_stop_periodic_timer, cpu, NULL);
    if (t->kind == XG_TIMER_PV && !pv_allowed(t)) {
        /* The new host has no events on every CPU (IRQ callback) or no
         * pvclock it vouches for: choose again among the emulated
         * devices, as xg_timers_init would (PV fails its test). The
         * device-wide part (probe, LAPIC calibration, HPET routes) runs
         * here on CPU 0; each CPU sets up its own part in
         * xg_timer_cpu_resume, which sees its kind differ. An emulated
         * kind is kept as it is: the emulated platform moves with the
         * domain, and it works with any callback. */
        enum xg_timer_kind k = choose(t);
        for (unsigned int cpu = 0; cpu < t->g->ncpus; cpu++)
            t->cpu[cpu].port = 0; /* the VIRQ_TIMER ports went with the old host */
        if (k == XG_TIMER_NONE) {
            for (unsigned int cpu = 0; cpu < t->g->ncpus; cpu++)
                t->cpu[cpu].ready = false;
            return -ENODEV;
        }
        t->kind = k;
        set_min_delta(t);
        return 0;
    }
    if (t->kind != XG_TIMER_PV)
        return 0;
    for (unsigned int cpu = 0; cpu < t->g->ncpus; cpu++) {
        struct xg_timer_cpu *c = &t->cpu[cpu];
        evtchn_port_t port;
        int r;
        if (!c->ready)
            continue;
        /* The old VIRQ_TIMER ports are gone with the old host. */
        c->port = 0;
        r = xg_evtchn_bind_virq(t->g, VIRQ_TIMER, cpu, virq_handler, t, &port);
        if (r == 0) {
            c->port = port;
            r = xg_evtchn_unmask(t->g, port);
        }
        if (r != 0) {
            c->ready = false;
            if (rc == 0)
                rc = r;
        }
    }
    return rc;
}

/* ---- setup ---- */

/* LAPIC one-shot rate at divide 1, measured against the clock. The clock
 * is read after the count starts and before the current count is read
 * back, so the span measured is never longer than the span counted: the
 * rate errs fast, and a timer programmed from it fires at or after its
 * deadline (late by the two exits around the span: ~0.04% of 5 ms). The
 * count is then left to run out (the LVT is masked) rather than stopped,
 * so no cancelled far-off expiry stays behind in the machine's event
 * queue; a count that runs out within the span is retried longer. */
static int calibrate_lapic(struct xg_timers *t)
{
    const struct xg_platform *p = t->g->p;
    uint64_t count = LAPIC_CALIBRATE_FIRST, t0, t1, left = 0;
    unsigned int polls = 0;

    for (unsigned int round = 0; round < 6; round++, count *= 8) {
        if (count > LAPIC_MAX_COUNT)
            count = LAPIC_MAX_COUNT;
        if (xg_wrmsr(p, MSR_TMICT, count) != 0)
            return -ENODEV;
        t0 = xg_clock_now(t->clk);
        do {
            xg_work(p, XG_WORK_GUEST, LAPIC_CALIBRATE_STEP);
            t1 = xg_clock_now(t->clk);
            if (++polls > LAPIC_CALIBRATE_POLLS)
                return -ENODEV;
        } while (t1 - t0 < LAPIC_CALIBRATE_NS);
        if (xg_rdmsr(p, MSR_TMCCT, &left) != 0)
            return -ENODEV;
        if (left == 0)
            continue; /* ran out within the span: a longer count */
        t->lapic_counts = count - left;
        t->lapic_ns = t1 - t0;
        /* Let the rest of the count run out. */
        while (left != 0) {
            xg_work(p, XG_WORK_GUEST, LAPIC_CALIBRATE_NS / 4);
            if (xg_rdmsr(p, MSR_TMCCT, &left) != 0 || ++polls > LAPIC_CALIBRATE_POLLS)
                return -ENODEV;
        }
        return t->lapic_counts != 0 && t->lapic_ns != 0 ? 0 : -ENODEV;
    }
    return -ENODEV;
}

/* Route IOAPIC `pin` to `cpu`: edge-triggered, active high, fixed. The
 * IOAPIC is an index/data register pair shared by all CPUs: only CPU 0
 * programs it, at init (as the boot code does for the callback's pin). */
static void ioapic_route_edge(const struct xg_platform *p, unsigned int pin, uint8_t vector,
                              unsigned int cpu)
{
    xg_mmio_write32(p, IOAPIC_BASE + IOAPIC_REGSEL, 0x10 + 2 * pin + 1);
    xg_mmio_write32(p, IOAPIC_BASE + IOAPIC_IOWIN, (uint32_t)cpu << 24);
    xg_mmio_write32(p, IOAPIC_BASE + IOAPIC_REGSEL, 0x10 + 2 * pin);
    xg_mmio_write32(p, IOAPIC_BASE + IOAPIC_IOWIN, vector);
}

/* Comparators usable as per-CPU timers: one per CPU, each on its own pin
 * of the four Xen's vHPET can reach. */
static unsigned int hpet_usable(const struct xg_timers *t)
{
    unsigned int n = t->hpet_ntimers < t->g->ncpus ? t->hpet_ntimers : t->g->ncpus;

    return n < XG_HPET_PINS ? n : XG_HPET_PINS;
}

static bool hpet_probe(struct xg_timers *t)
{
    const struct xg_platform *p = t->g->p;
    uint64_t id = hpet_read(t, HPET_REG_ID), cfg;

    t->hpet_period_fs = id >> 32;
    t->hpet_ntimers = (unsigned int)((id >> 8) & 31) + 1;
    if (id == ~0ull || t->hpet_period_fs == 0 || t->hpet_period_fs > HPET_MAX_PERIOD)
        return false;
    /* Counter running, comparators on their own routes (no legacy mode). */
    cfg = hpet_read(t, HPET_REG_CFG);
    if ((cfg & (HPET_CFG_ENABLE | HPET_CFG_LEGACY)) != HPET_CFG_ENABLE)
        hpet_write(t, HPET_REG_CFG, (cfg & ~HPET_CFG_LEGACY) | HPET_CFG_ENABLE);
    for (unsigned int n = 0; n < hpet_usable(t); n++) {
        ioapic_route_edge(p, XG_HPET_FIRST_PIN + n, XG_VECTOR_HPET, n);
        hpet_write(t, HPET_TN_CFG(n), HPET_TN_ENABLE | HPET_TN_ROUTE(XG_HPET_FIRST_PIN + n));
    }
    return true;
}

/* Per-CPU VIRQ_TIMER needs events on every CPU, and absolute deadlines
 * need a pvclock Xen vouches for (and the clock reading it). */
static bool pv_allowed(const struct xg_timers *t)
{
    return xg_guest_percpu_events(t->g) && t->g->feat.safe_pvclock &&
           xg_clock_source(t->clk) == XG_CLOCK_PVCLOCK;
}

/* The forced kind if it works, else the first that works in the order
 * pv, tsc-deadline, lapic, hpet; XG_TIMER_NONE if none does. */
static enum xg_timer_kind choose(struct xg_timers *t)
{
    static const enum xg_timer_kind order[] = {XG_TIMER_PV, XG_TIMER_TSC_DEADLINE, XG_TIMER_LAPIC,
                                               XG_TIMER_HPET};

    if (t->cfg.force != XG_TIMER_NONE && kind_ops(t->cfg.force)->probe(t))
        return t->cfg.force;
    for (unsigned int i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        if (order[i] != t->cfg.force && kind_ops(order[i])->probe(t))
            return order[i];
    }
    return XG_TIMER_NONE;
}

static void set_min_delta(struct xg_timers *t)
{
    t->min_delta_ns = t->cfg.min_delta_ns;
    if (t->min_delta_ns == 0)
        t->min_delta_ns = kind_ops(t->kind)->min_delta_ns;
}

int xg_timers_init(struct xg_timers *t, struct xg_guest *g, struct xg_clock *clk,
                   const struct xg_timer_config *cfg)
{
    if (t == NULL || g == NULL || clk == NULL || xg_clock_source(clk) == XG_CLOCK_NONE)
        return -EINVAL;
    memset(t, 0, sizeof(*t));
    t->g = g;
    t->clk = clk;
    if (cfg != NULL)
        t->cfg = *cfg;
    else
        xg_timer_config_init(&t->cfg);
    if (t->cfg.hpet_base == 0)
        t->cfg.hpet_base = XG_HPET_BASE;
    /* Xen may run a periodic VIRQ_TIMER on any vCPU (a PV vCPU starts with
     * 10 ms); a guest with its own timer stops it on every vCPU. */
    for (unsigned int cpu = 0; cpu < g->ncpus; cpu++)
        (void)vcpu_op(t, VCPUOP_stop_periodic_timer, cpu, NULL);
    t->kind = choose(t);
    if (t->kind == XG_TIMER_NONE)
        return -ENODEV;
    set_min_delta(t);
    return 0;
}

enum xg_timer_kind xg_timer_kind(const struct xg_timers *t)
{
    return t->kind;
}

/* This CPU's part of the device (xg_timer_cpu_init, and
 * xg_timer_cpu_resume after a change of kind). */
static int cpu_setup(struct xg_timers *t, unsigned int cpu)
{
    return kind_ops(t->kind)->cpu_setup(t, cpu);
}

int xg_timer_cpu_init(struct xg_timers *t, xg_timer_fn fn, void *arg)
{
    unsigned int cpu = xg_cpu(t->g->p);
    struct xg_timer_cpu *c;
    int rc;

    if (cpu >= XG_MAX_CPUS || cpu >= t->g->ncpus || t->kind == XG_TIMER_NONE)
        return -EINVAL;
    c = &t->cpu[cpu];
    c->fn = fn;
    c->arg = arg;
    c->deadline_ns = 0;
    rc = cpu_setup(t, cpu);
    if (rc == 0) {
        c->kind = t->kind;
        c->ready = true;
    }
    return rc;
}

/* ---- the kinds ---- */

static bool none_probe(struct xg_timers *t)
{
    (void)t;
    return false;
}

static int none_cpu_setup(struct xg_timers *t, unsigned int cpu)
{
    (void)t;
    (void)cpu;
    return -EINVAL;
}

static int none_arm(struct xg_timers *t, unsigned int cpu, const struct xg_clock_sample *s,
                    uint64_t raw_target)
{
    (void)t;
    (void)cpu;
    (void)s;
    (void)raw_target;
    return -ENODEV;
}

static int nothing_to_disarm(struct xg_timers *t, unsigned int cpu)
{
    (void)t;
    (void)cpu;
    return 0;
}

static bool pv_probe(struct xg_timers *t)
{
    return pv_allowed(t);
}

/* pv: VCPUOP_set_singleshot_timer on the CPU itself, expiring as that
 * CPU's VIRQ_TIMER. */
static int pv_cpu_setup(struct xg_timers *t, unsigned int cpu)
{
    evtchn_port_t port;
    int rc = xg_evtchn_bind_virq(t->g, VIRQ_TIMER, cpu, virq_handler, t, &port);

    if (rc == 0) {
        t->cpu[cpu].port = port;
        rc = xg_evtchn_unmask(t->g, port);
    }
    return rc;
}

static int pv_arm(struct xg_timers *t, unsigned int cpu, const struct xg_clock_sample *s,
                  uint64_t raw_target)
{
    /* flags 0: a deadline that passed meanwhile still gets its event
     * (VCPU_SSHOTTMR_future would make it -ETIME and lose it;
     * docs/invariants.md, time 3). */
    struct vcpu_set_singleshot_timer st = {.timeout_abs_ns = raw_target,
                                           .flags = XG_MUTATED(1) ? VCPU_SSHOTTMR_future : 0};

    (void)s;
    return (int)vcpu_op(t, VCPUOP_set_singleshot_timer, cpu, &st);
}

static int pv_disarm(struct xg_timers *t, unsigned int cpu)
{
    return (int)vcpu_op(t, VCPUOP_stop_singleshot_timer, cpu, NULL);
}

/* tsc-deadline: the LAPIC timer in TSC-deadline mode. A LAPIC without the
 * mode refuses it (#GP). */
static bool tsc_deadline_probe(struct xg_timers *t)
{
    return xg_wrmsr(t->g->p, MSR_LVT_TIMER,
                    LVT_MASKED | LVT_TSC_DEADLINE | XG_VECTOR_LAPIC_TIMER) == 0;
}

static int tsc_deadline_cpu_setup(struct xg_timers *t, unsigned int cpu)
{
    (void)cpu;
    return xg_wrmsr(t->g->p, MSR_LVT_TIMER, LVT_TSC_DEADLINE | XG_VECTOR_LAPIC_TIMER);
}

static int tsc_deadline_arm(struct xg_timers *t, unsigned int cpu, const struct xg_clock_sample *s,
                            uint64_t raw_target)
{
    uint64_t tsc = xg_clock_tsc_for(s, raw_target);

    (void)cpu;
    return xg_wrmsr(t->g->p, MSR_TSC_DEADLINE, tsc != 0 ? tsc : 1);
}

static int tsc_deadline_disarm(struct xg_timers *t, unsigned int cpu)
{
    (void)cpu;
    return xg_wrmsr(t->g->p, MSR_TSC_DEADLINE, 0);
}

/* lapic: the LAPIC timer in one-shot mode at divide 1, calibrated. */
static bool lapic_probe(struct xg_timers *t)
{
    const struct xg_platform *p = t->g->p;

    return xg_wrmsr(p, MSR_LVT_TIMER, LVT_MASKED | LVT_ONESHOT | XG_VECTOR_LAPIC_TIMER) == 0 &&
           xg_wrmsr(p, MSR_TDCR, TDCR_DIVIDE_1) == 0 && calibrate_lapic(t) == 0;
}

static int lapic_cpu_setup(struct xg_timers *t, unsigned int cpu)
{
    int rc = xg_wrmsr(t->g->p, MSR_TDCR, TDCR_DIVIDE_1);

    (void)cpu;
    return rc == 0 ? xg_wrmsr(t->g->p, MSR_LVT_TIMER, LVT_ONESHOT | XG_VECTOR_LAPIC_TIMER) : rc;
}

static int lapic_arm(struct xg_timers *t, unsigned int cpu, const struct xg_clock_sample *s,
                     uint64_t raw_target)
{
    (void)cpu;
    return program_lapic(t, raw_target - s->raw_ns);
}

static int lapic_disarm(struct xg_timers *t, unsigned int cpu)
{
    (void)cpu;
    return xg_wrmsr(t->g->p, MSR_TMICT, 0);
}

/* hpet: comparator `cpu`, which CPU 0 routed to this CPU in the probe. */
static int hpet_cpu_setup(struct xg_timers *t, unsigned int cpu)
{
    return cpu < hpet_usable(t) ? 0 : -ENOSPC;
}

static int hpet_arm(struct xg_timers *t, unsigned int cpu, const struct xg_clock_sample *s,
                    uint64_t raw_target)
{
    return program_hpet(t, cpu, raw_target - s->raw_ns);
}

static const struct timer_kind_ops kinds[] = {
    [XG_TIMER_NONE] = {"none", 0, EMULATED_MIN_DELTA_NS, none_probe, none_cpu_setup, none_arm,
                       nothing_to_disarm},
    [XG_TIMER_PV] = {"pv", 0, PV_MIN_DELTA_NS, pv_probe, pv_cpu_setup, pv_arm, pv_disarm},
    [XG_TIMER_TSC_DEADLINE] = {"tsc-deadline", XG_VECTOR_LAPIC_TIMER, EMULATED_MIN_DELTA_NS,
                               tsc_deadline_probe, tsc_deadline_cpu_setup, tsc_deadline_arm,
                               tsc_deadline_disarm},
    [XG_TIMER_LAPIC] = {"lapic", XG_VECTOR_LAPIC_TIMER, EMULATED_MIN_DELTA_NS, lapic_probe,
                        lapic_cpu_setup, lapic_arm, lapic_disarm},
    [XG_TIMER_HPET] = {"hpet", XG_VECTOR_HPET, EMULATED_MIN_DELTA_NS, hpet_probe, hpet_cpu_setup,
                       hpet_arm, nothing_to_disarm},
};

static const struct timer_kind_ops *kind_ops(enum xg_timer_kind k)
{
    return (unsigned int)k < sizeof(kinds) / sizeof(kinds[0]) ? &kinds[k] : &kinds[XG_TIMER_NONE];
}

int xg_timer_stats(const struct xg_timers *t, unsigned int cpu, struct xg_timer_stats *out)
{
    if (cpu >= XG_MAX_CPUS || cpu >= t->g->ncpus)
        return -EINVAL;
    *out = t->cpu[cpu].st;
    return 0;
}
