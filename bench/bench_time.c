/*
 * bench_time - PV timers, pvclock and PV IPIs against the emulated paths
 * they replace, two kinds of figures:
 *
 * Host cost of the simulation (each against a baseline measured in the
 * same run):
 *   pvclock_read_ns     one pvclock read (version protocol, 96-bit scale) on
 *                       a simulated vCPU; baseline: the same scale on a
 *                       local struct (arithmetic_ns)
 *   clock_now_ns        one read of the guest's monotonic clock
 *   timer_events_per_s  PV timer arm + expiry + VIRQ upcall + callback;
 *                       baseline: bare timed events of the world
 *   ipis_per_s          PV IPI round trips between two vCPUs; baseline: a
 *                       shared-memory ping-pong between the same vCPUs
 *
 * Virtual cost in the model (default cost profile; "+apicv" adds APICv and
 * posted interrupts), what PV buys over the emulated paths:
 *   per timer reprogram: VM exits and virtual ns on the arming vCPU
 *   per timer event (arm, expire, deliver, EOI): exits and virtual ns of
 *     latency from deadline to callback
 *   per IPI to an idle vCPU: exits at both ends, virtual ns at the sender,
 *     virtual ns from send to handler
 * with ratios emulated / PV.
 *
 * The last line is one JSON object. --quick runs a short version.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xensim/abi/apic.h"
#include "xensim/cost.h"
#include "xensim/guest/xg_evtchn.h"
#include "xensim/guest/xg_ipi.h"
#include "xensim/guest/xg_time.h"
#include "xensim/guest/xg_timer.h"
#include "xensim/hv.h"
#include "xensim/time.h"
#include "xensim/world.h"
#include "bench_util.h"

#define STARTUP_VECTOR 0x30
#define GUEST_DOMID    1

/* ---- a guest on N vCPUs with clock, timers and IPIs (a small copy of
 * what tests/time's harness does) ---- */

struct bg;
typedef void (*bg_main_fn)(struct bg *b, unsigned int cpu);

struct bg {
    struct xsim_world *w;
    struct xsim_policy *pol;
    struct xsim_hv *hv;
    struct xsim_domain *d, *dom0;
    const struct xg_platform *p;
    struct xg_guest *g;
    struct xg_clock clk;
    struct xg_timers tm;
    struct xg_ipi ipi;
    unsigned int ncpus;
    volatile uint32_t started, nup, phase, ninit;
    struct xg_timer_config tcfg;
    struct xg_ipi_config icfg;
    xg_timer_fn timer_fn;
    bg_main_fn main;
    void *user;
    int rc;
};

static void bg_interrupt(void *guest, unsigned int cpu, uint8_t vector)
{
    struct bg *b = guest;

    if (vector == STARTUP_VECTOR) {
        xg_eoi(b->p);
        return;
    }
    if (xg_timer_interrupt(&b->tm, vector) || xg_ipi_interrupt(&b->ipi, vector))
        return;
    xg_guest_interrupt(b->g, vector);
}

static void spin_until(struct bg *b, volatile uint32_t *v, uint32_t want)
{
    while (xg_read_u32(b->p, v) < want)
        xg_point(b->p, XG_POINT_SPIN, v);
}

static void bg_start(void *guest, unsigned int cpu)
{
    struct bg *b = guest;
    const struct xg_platform *p = b->p;

    if (cpu == 0) {
        if (xg_guest_boot(b->g) != 0) {
            b->rc = -1;
            return;
        }
        xg_write_u32(p, &b->started, 1);
        if (b->ncpus > 1)
            (void)xg_wrmsr(p, X2APIC_MSR_ICR, APIC_ICR_ALL_BUT_SELF | STARTUP_VECTOR);
        spin_until(b, &b->nup, b->ncpus - 1);
        if (xg_clock_init(&b->clk, b->g, NULL) != 0 ||
            xg_timers_init(&b->tm, b->g, &b->clk, &b->tcfg) != 0 ||
            xg_ipi_init(&b->ipi, b->g, &b->icfg) != 0)
            b->rc = -1;
        xg_write_u32(p, &b->phase, 1);
    } else {
        bool was = xg_irq_save(p);
        while (xg_read_u32(p, &b->started) == 0)
            xg_halt(p);
        xg_irq_restore(p, was);
        if (xg_guest_cpu_up(b->g) != 0)
            b->rc = -1;
        xg_fetch_add_u32(p, &b->nup, 1);
        spin_until(b, &b->phase, 1);
    }
    xg_irq_restore(p, true);
    if (b->rc == 0 &&
        (xg_timer_cpu_init(&b->tm, b->timer_fn, b) != 0 || xg_ipi_cpu_init(&b->ipi) != 0))
        b->rc = -1;
    xg_fetch_add_u32(p, &b->ninit, 1);
    spin_until(b, &b->ninit, b->ncpus);
    if (b->rc == 0 && b->main != NULL)
        b->main(b, cpu);
    for (;;)
        xg_guest_idle(b->g);
}

static const struct xsim_guest_ops bg_ops = {.start = bg_start, .interrupt = bg_interrupt};

/* Set by the "global vector" rows: hide the per-vCPU upcall vector so that
 * the guest takes HVM_PARAM_CALLBACK_IRQ's global vector (no EOI). */
struct bg_opts {
    bool global_vector;
};

static struct bg *bg_create_opts(unsigned int ncpus, const struct xsim_cost_profile *costs,
                                 enum xg_timer_kind kind, enum xg_ipi_mode mode,
                                 const struct bg_opts *o);

static struct bg *bg_create(unsigned int ncpus, const struct xsim_cost_profile *costs,
                            enum xg_timer_kind kind, enum xg_ipi_mode mode)
{
    struct bg_opts o = {false};

    return bg_create_opts(ncpus, costs, kind, mode, &o);
}

static struct bg *bg_create_opts(unsigned int ncpus, const struct xsim_cost_profile *costs,
                                 enum xg_timer_kind kind, enum xg_ipi_mode mode,
                                 const struct bg_opts *o)
{
    struct bg *b = calloc(1, sizeof(*b));
    struct xsim_world_config wc;
    struct xsim_error err;
    struct xsim_hv_features f;
    struct xg_guest_config gc;

    if (b == NULL)
        exit(2);
    b->ncpus = ncpus;
    xg_timer_config_init(&b->tcfg);
    b->tcfg.force = kind;
    /* The same minimum for every kind (pv's default is Linux's 100 us):
     * the figures compare mechanisms, not policies. */
    b->tcfg.min_delta_ns = 1000;
    xg_ipi_config_init(&b->icfg);
    b->icfg.force = mode;
    xsim_world_config_init(&wc);
    wc.costs = costs;
    b->pol = xsim_policy_create("time", &err);
    b->g = aligned_alloc(64, (xg_guest_size() + 63) / 64 * 64);
    if (b->pol == NULL || b->g == NULL || xsim_world_create(&wc, b->pol, &b->w) != 0 ||
        xsim_hv_create(b->w, &b->hv) != 0 ||
        xsim_domain_create(b->w, 0, 0, 4, NULL, NULL, &b->dom0) != 0 ||
        xsim_domain_create(b->w, GUEST_DOMID, ncpus, 64, &bg_ops, b, &b->d) != 0)
        exit(2);
    xsim_hv_features_default(&f);
    if (xsim_hv_add_domain(b->hv, b->dom0, &f) != 0)
        exit(2);
    f.percpu_upcall_vector = !o->global_vector;
    if (xsim_hv_add_domain(b->hv, b->d, &f) != 0)
        exit(2);
    b->p = xsim_domain_platform(b->d);
    xg_guest_config_init(&gc, ncpus);
    if (xg_guest_init(b->g, b->p, &gc) != 0)
        exit(2);
    return b;
}

static void bg_run(struct bg *b)
{
    enum xsim_stop_reason r = xsim_world_run(b->w);

    if (r != XSIM_STOP_QUIESCENT || b->rc != 0) {
        fprintf(stderr, "bench run stopped: %s (rc %d)\n", xsim_stop_reason_name(r), b->rc);
        exit(1);
    }
}

static void bg_destroy(struct bg *b)
{
    xsim_world_destroy(b->w);
    xsim_hv_destroy(b->hv);
    xsim_policy_destroy(b->pol);
    free(b->g);
    free(b);
}

/* VM exits in a stats delta: hypercalls, MSR/MMIO/IO exits, EOI exits of
 * both kinds and external-interrupt exits (a virtualized EOI is no exit and
 * is not counted). */
static uint64_t exits(const uint64_t *dcount, const uint64_t *dns)
{
    (void)dns;
    return dcount[XSIM_COST_HYPERCALL] + dcount[XSIM_COST_EXIT_MSR] + dcount[XSIM_COST_EXIT_MMIO] +
           dcount[XSIM_COST_EXIT_IO] + dcount[XSIM_COST_EXIT_EOI] +
           dcount[XSIM_COST_EXIT_EOI_INDUCED] + dcount[XSIM_COST_EXIT_INTR];
}

struct snap {
    uint64_t count[XSIM_COST__COUNT], ns[XSIM_COST__COUNT];
};

static void snap_take(struct bg *b, struct snap *s)
{
    const struct xsim_stats *st = xsim_world_stats(b->w);

    memcpy(s->count, st->count, sizeof(s->count));
    memcpy(s->ns, st->ns, sizeof(s->ns));
}

static uint64_t snap_exits(struct bg *b, const struct snap *s0)
{
    struct snap s1, d;

    snap_take(b, &s1);
    for (int r = 0; r < XSIM_COST__COUNT; r++) {
        d.count[r] = s1.count[r] - s0->count[r];
        d.ns[r] = s1.ns[r] - s0->ns[r];
    }
    return exits(d.count, d.ns);
}

/* ---- host cost: pvclock reads ---- */

struct read_job {
    uint64_t n;
    double read_ns, now_ns;
    uint64_t sink;
};

static void read_main(struct bg *b, unsigned int cpu)
{
    struct read_job *j = b->user;
    const struct vcpu_time_info *ti = &b->g->cpus[0].vi->time;
    struct xg_pvclock_snap s;
    uint64_t sum = 0;
    double t0, t1;

    if (cpu != 0)
        return;
    t0 = now_s();
    for (uint64_t i = 0; i < j->n; i++) {
        xg_pvclock_read(b->p, ti, &s, 0);
        sum += xg_pvclock_ns(&s, s.tsc);
    }
    t1 = now_s();
    j->read_ns = (t1 - t0) * 1e9 / (double)j->n;
    t0 = now_s();
    for (uint64_t i = 0; i < j->n; i++)
        sum += xg_clock_now(&b->clk);
    t1 = now_s();
    j->now_ns = (t1 - t0) * 1e9 / (double)j->n;
    j->sink = sum;
}

/* The same arithmetic on a local record: no seqlock, no platform. */
static double arithmetic_ns(uint64_t n, uint64_t *sink)
{
    volatile struct xg_pvclock_snap vs = {
        .tsc_timestamp = 12345, .system_time = 1000000, .mul = 0x80000000u, .shift = 1};
    struct xg_pvclock_snap s;
    uint64_t sum = 0;
    double t0 = now_s();

    for (uint64_t i = 0; i < n; i++) {
        s.tsc_timestamp = vs.tsc_timestamp;
        s.system_time = vs.system_time;
        s.mul = vs.mul;
        s.shift = vs.shift;
        sum += xg_pvclock_ns(&s, 20000 + i);
    }
    *sink += sum;
    return (now_s() - t0) * 1e9 / (double)n;
}

/* ---- host cost: timer events, bare world events ---- */

struct timer_job {
    uint64_t n;
    volatile uint32_t fired;
    double per_s;
};

static void tj_cb(struct xg_timers *t, unsigned int cpu, uint64_t d, uint64_t now, void *arg)
{
    struct bg *b = arg;
    struct timer_job *j = b->user;

    xg_write_u32(t->g->p, &j->fired, j->fired + 1);
}

static void wait_count(struct bg *b, volatile uint32_t *v, uint32_t want)
{
    for (;;) {
        bool was = xg_irq_save(b->p);
        if (xg_read_u32(b->p, v) >= want) {
            xg_irq_restore(b->p, was);
            return;
        }
        xg_halt(b->p);
        xg_irq_restore(b->p, was);
    }
}

static void timer_main(struct bg *b, unsigned int cpu)
{
    struct timer_job *j = b->user;
    double t0;

    if (cpu != 0)
        return;
    t0 = now_s();
    for (uint64_t i = 0; i < j->n; i++) {
        xg_timer_set_in(&b->tm, 10000);
        wait_count(b, &j->fired, (uint32_t)(i + 1));
    }
    j->per_s = (double)j->n / (now_s() - t0);
}

struct tick {
    struct xsim_world *w;
    uint64_t left;
};

static void tick_fn(struct xsim_world *w, void *arg)
{
    struct tick *t = arg;

    if (--t->left > 0)
        xsim_event_schedule(w, xsim_world_now(w) + 10000, 1, tick_fn, t);
}

static double world_events_per_s(uint64_t n)
{
    struct xsim_world_config wc;
    struct xsim_world *w;
    struct xsim_error err;
    struct xsim_policy *pol = xsim_policy_create("time", &err);
    struct tick t = {.left = n};
    double t0, dt;

    xsim_world_config_init(&wc);
    if (pol == NULL || xsim_world_create(&wc, pol, &w) != 0)
        exit(2);
    xsim_event_schedule(w, 10000, 1, tick_fn, &t);
    t0 = now_s();
    xsim_world_run(w);
    dt = now_s() - t0;
    xsim_world_destroy(w);
    xsim_policy_destroy(pol);
    return (double)n / dt;
}

/* ---- host cost: IPI round trips, shared-memory ping-pong ---- */

struct pp_job {
    uint64_t n;
    bool use_ipi;
    volatile uint32_t ping, pong;
    double per_s;
};

static void pp_ipi(struct xg_ipi *ipi, unsigned int cpu, enum xg_ipi_kind kind, void *arg)
{
    struct bg *b = arg;
    struct pp_job *j = b->user;

    if (cpu == 1) {
        xg_write_u32(ipi->g->p, &j->pong, j->pong + 1);
        xg_ipi_send(ipi, 0, XG_IPI_CALL);
    } else {
        xg_write_u32(ipi->g->p, &j->ping, j->ping + 1);
    }
}

static void pp_main(struct bg *b, unsigned int cpu)
{
    struct pp_job *j = b->user;
    double t0 = now_s();

    if (j->use_ipi) {
        if (cpu != 0)
            return;
        for (uint64_t i = 0; i < j->n; i++) {
            xg_ipi_send(&b->ipi, 1, XG_IPI_CALL);
            wait_count(b, &j->ping, (uint32_t)(i + 1));
        }
    } else {
        /* The same hand-offs through shared memory: the world's floor. */
        for (uint64_t i = 0; i < j->n; i++) {
            if (cpu == 0) {
                xg_write_u32(b->p, &j->ping, (uint32_t)(i + 1));
                spin_until(b, &j->pong, (uint32_t)(i + 1));
            } else {
                spin_until(b, &j->ping, (uint32_t)(i + 1));
                xg_write_u32(b->p, &j->pong, (uint32_t)(i + 1));
            }
        }
    }
    if (cpu == 0)
        j->per_s = (double)j->n / (now_s() - t0);
}

static double round_trips_per_s(uint64_t n, bool use_ipi)
{
    struct pp_job j = {.n = n, .use_ipi = use_ipi};
    struct bg *b = bg_create(2, NULL, XG_TIMER_NONE, XG_IPI_MODE_PV);

    for (int k = 0; k < XG_IPI__COUNT; k++) {
        b->icfg.fn[k] = pp_ipi;
        b->icfg.arg[k] = b;
    }
    b->main = pp_main;
    b->user = &j;
    bg_run(b);
    bg_destroy(b);
    return j.per_s;
}

/* ---- virtual cost in the model ---- */

struct model {
    double reprogram_exits, reprogram_ns;
    double event_exits, event_latency_ns;
    double ipi_exits, ipi_sender_ns, ipi_latency_ns;
};

struct model_job {
    uint64_t n;
    struct model m;
    volatile uint32_t fired, got, stop;
    uint64_t deadline, fired_at, latency_sum, handled_at;
};

static void mj_timer_cb(struct xg_timers *t, unsigned int cpu, uint64_t d, uint64_t now, void *arg)
{
    struct bg *b = arg;
    struct model_job *j = b->user;

    j->latency_sum += now - d;
    xg_write_u32(t->g->p, &j->fired, j->fired + 1);
}

static void timer_model_main(struct bg *b, unsigned int cpu)
{
    struct model_job *j = b->user;
    struct snap s0;
    uint64_t t0;

    if (cpu != 0)
        return;
    /* Reprograms: each re-arm pushes the deadline out (the last one then
     * fires; nothing far off is left cancelled behind). */
    uint64_t base = xg_clock_now(&b->clk) + 10 * j->n * 10000 + 1000000;
    xg_timer_set(&b->tm, base); /* warm up the device */
    snap_take(b, &s0);
    t0 = xsim_world_now(b->w);
    for (uint64_t i = 1; i <= j->n; i++)
        xg_timer_set(&b->tm, base + i);
    j->m.reprogram_ns = (double)(xsim_world_now(b->w) - t0) / (double)j->n;
    j->m.reprogram_exits = (double)snap_exits(b, &s0) / (double)j->n;
    wait_count(b, &j->fired, 1);
    j->latency_sum = 0;
    /* Events: arm 50 us ahead, halt until the callback ran. */
    snap_take(b, &s0);
    for (uint64_t i = 0; i < j->n; i++) {
        xg_timer_set_in(&b->tm, 50000);
        wait_count(b, &j->fired, (uint32_t)(i + 2));
    }
    j->m.event_exits = (double)snap_exits(b, &s0) / (double)j->n;
    j->m.event_latency_ns = (double)j->latency_sum / (double)j->n;
}

static void mj_ipi(struct xg_ipi *ipi, unsigned int cpu, enum xg_ipi_kind kind, void *arg)
{
    struct bg *b = arg;
    struct model_job *j = b->user;

    if (kind != XG_IPI_CALL)
        return;
    j->handled_at = xsim_world_now(b->w);
    xg_write_u32(ipi->g->p, &j->got, j->got + 1);
}

static void ipi_model_main(struct bg *b, unsigned int cpu)
{
    struct model_job *j = b->user;
    struct snap s0;
    uint64_t sender = 0, latency = 0;

    if (cpu == 1) {
        wait_count(b, &j->stop, 1);
        return;
    }
    snap_take(b, &s0);
    for (uint64_t i = 0; i < j->n; i++) {
        /* The target is idle (halted) when each IPI arrives. */
        xg_work(b->p, XG_WORK_GUEST, 20000);
        uint64_t t0 = xsim_world_now(b->w);
        xg_ipi_send(&b->ipi, 1, XG_IPI_CALL);
        sender += xsim_world_now(b->w) - t0;
        spin_until(b, &j->got, (uint32_t)(i + 1));
        latency += j->handled_at - t0;
    }
    xg_work(b->p, XG_WORK_GUEST, 20000); /* the last EOI */
    j->m.ipi_exits = (double)snap_exits(b, &s0) / (double)j->n;
    j->m.ipi_sender_ns = (double)sender / (double)j->n;
    j->m.ipi_latency_ns = (double)latency / (double)j->n;
    xg_write_u32(b->p, &j->stop, 1);
    xg_ipi_send(&b->ipi, 1, XG_IPI_RESCHED);
}

static struct model timer_model(enum xg_timer_kind kind, bool global_vector, uint64_t n)
{
    struct model_job j = {.n = n};
    struct bg_opts o = {global_vector};
    struct bg *b = bg_create_opts(1, NULL, kind, XG_IPI_MODE_NONE, &o);

    b->timer_fn = mj_timer_cb;
    b->main = timer_model_main;
    b->user = &j;
    bg_run(b);
    if (xg_timer_kind(&b->tm) != kind) {
        fprintf(stderr, "timer kind %s unavailable\n", xg_timer_kind_name(kind));
        exit(1);
    }
    bg_destroy(b);
    return j.m;
}

static struct model ipi_model(enum xg_ipi_mode mode, bool apicv, bool global_vector, uint64_t n)
{
    struct model_job j = {.n = n};
    struct xsim_cost_profile prof;
    struct bg_opts o = {global_vector};
    struct bg *b;

    xsim_cost_profile_default(&prof);
    prof.apicv = apicv;
    prof.posted_interrupts = apicv;
    b = bg_create_opts(2, &prof, XG_TIMER_NONE, mode, &o);
    for (int k = 0; k < XG_IPI__COUNT; k++) {
        b->icfg.fn[k] = mj_ipi;
        b->icfg.arg[k] = b;
    }
    b->main = ipi_model_main;
    b->user = &j;
    bg_run(b);
    bg_destroy(b);
    return j.m;
}

int main(int argc, char **argv)
{
    bool quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    uint64_t n_read = quick ? 20000 : 1000000, n_ev = quick ? 2000 : 100000,
             n_ipi = quick ? 2000 : 100000, n_model = quick ? 50 : 1000, sink = 0;
    static const enum xg_timer_kind kinds[] = {XG_TIMER_PV, XG_TIMER_TSC_DEADLINE, XG_TIMER_LAPIC,
                                               XG_TIMER_HPET};
    struct model tm[5], im[5];
    struct read_job rj = {.n = n_read};
    struct timer_job tj = {.n = n_ev};
    struct bg *b;

    /* Host: pvclock reads. */
    b = bg_create(1, NULL, XG_TIMER_PV, XG_IPI_MODE_PV);
    b->main = read_main;
    b->user = &rj;
    bg_run(b);
    bg_destroy(b);
    double arith = arithmetic_ns(n_read * 20, &sink);
    printf("pvclock read:       %8.1f ns host (arithmetic alone %.2f ns, x%.0f); "
           "monotonic clock %8.1f ns\n",
           rj.read_ns, arith, rj.read_ns / arith, rj.now_ns);

    /* Host: timer events against bare world events. */
    b = bg_create(1, NULL, XG_TIMER_PV, XG_IPI_MODE_PV);
    b->timer_fn = tj_cb;
    b->main = timer_main;
    b->user = &tj;
    bg_run(b);
    bg_destroy(b);
    double wev = world_events_per_s(n_ev * 10);
    printf("PV timer events:    %10.0f /s host (bare world events %.0f /s, ratio %.3f)\n", tj.per_s,
           wev, tj.per_s / wev);

    /* Host: IPI round trips against a shared-memory ping-pong. */
    double ipis = round_trips_per_s(n_ipi, true), pp = round_trips_per_s(n_ipi, false);
    printf("PV IPI round trips: %10.0f /s host (shared-memory ping-pong %.0f /s, ratio %.3f)\n",
           ipis, pp, ipis / pp);

    /* Model: what each path costs the guest. */
    struct xsim_cost_profile def;
    xsim_cost_profile_default(&def);
    printf("\nvirtual cost per operation (built-in profile: hypercall %" PRIu64
           " ns, MSR exit %" PRIu64 ", MMIO exit %" PRIu64 ", EOI exit %" PRIu64 ", wake %" PRIu64
           "):\n",
           def.ns[XSIM_COST_HYPERCALL], def.ns[XSIM_COST_EXIT_MSR], def.ns[XSIM_COST_EXIT_MMIO],
           def.ns[XSIM_COST_EXIT_EOI], def.ns[XSIM_COST_WAKE]);
    printf("  %-13s %18s %18s %18s %18s\n", "timer", "reprogram exits", "reprogram ns",
           "event exits", "deadline->cb ns");
    for (int k = 0; k < 5; k++) {
        tm[k] = timer_model(kinds[k % 4], k == 4, n_model);
        printf("  %-13s %18.2f %18.1f %18.2f %18.1f\n",
               k == 4 ? "pv/global-vec" : xg_timer_kind_name(kinds[k]), tm[k].reprogram_exits,
               tm[k].reprogram_ns, tm[k].event_exits, tm[k].event_latency_ns);
    }
    im[0] = ipi_model(XG_IPI_MODE_PV, false, false, n_model);
    im[1] = ipi_model(XG_IPI_MODE_LAPIC, false, false, n_model);
    im[2] = ipi_model(XG_IPI_MODE_PV, true, false, n_model);
    im[3] = ipi_model(XG_IPI_MODE_LAPIC, true, false, n_model);
    im[4] = ipi_model(XG_IPI_MODE_PV, false, true, n_model);
    printf("  %-13s %18s %18s %18s\n", "ipi", "exits (both ends)", "sender ns", "send->handler ns");
    static const char *const inames[] = {"pv", "lapic", "pv+apicv", "lapic+apicv", "pv/global-vec"};
    static const char *const jnames[] = {"pv", "lapic", "pv_apicv", "lapic_apicv",
                                         "pv_global_vector"};
    for (int i = 0; i < 5; i++)
        printf("  %-13s %18.2f %18.1f %18.1f\n", inames[i], im[i].ipi_exits, im[i].ipi_sender_ns,
               im[i].ipi_latency_ns);
    printf("  ratios emulated/pv: reprogram ns tsc-deadline %.2f, lapic %.2f, hpet %.2f; "
           "IPI send->handler lapic %.2f, with apicv %.2f\n",
           tm[1].reprogram_ns / tm[0].reprogram_ns, tm[2].reprogram_ns / tm[0].reprogram_ns,
           tm[3].reprogram_ns / tm[0].reprogram_ns, im[1].ipi_latency_ns / im[0].ipi_latency_ns,
           im[3].ipi_latency_ns / im[2].ipi_latency_ns);

    printf("{\"pvclock_read_ns\": %.2f, \"pvclock_arithmetic_ns\": %.3f, "
           "\"pvclock_read_ratio\": %.1f, \"clock_now_ns\": %.2f, "
           "\"timer_events_per_s\": %.0f, \"world_events_per_s\": %.0f, "
           "\"timer_events_ratio\": %.4f, \"ipis_per_s\": %.0f, \"pingpong_per_s\": %.0f, "
           "\"ipis_ratio\": %.4f",
           rj.read_ns, arith, rj.read_ns / arith, rj.now_ns, tj.per_s, wev, tj.per_s / wev, ipis,
           pp, ipis / pp);
    for (int k = 0; k < 5; k++)
        printf(", \"timer_%s\": {\"reprogram_exits\": %.2f, \"reprogram_vns\": %.1f, "
               "\"event_exits\": %.2f, \"event_latency_vns\": %.1f, \"reprogram_vns_vs_pv\": %.3f}",
               k == 4                              ? "pv_global_vector"
               : kinds[k] == XG_TIMER_TSC_DEADLINE ? "tsc_deadline"
                                                   : xg_timer_kind_name(kinds[k]),
               tm[k].reprogram_exits, tm[k].reprogram_ns, tm[k].event_exits, tm[k].event_latency_ns,
               tm[k].reprogram_ns / tm[0].reprogram_ns);
    for (int i = 0; i < 5; i++) {
        /* Each against PV (per-vCPU vector) under the same profile. */
        const struct model *pv = &im[i == 2 || i == 3 ? 2 : 0];
        printf(", \"ipi_%s\": {\"exits\": %.2f, \"sender_vns\": %.1f, \"latency_vns\": %.1f, "
               "\"sender_vns_vs_pv\": %.3f, \"latency_vs_pv\": %.3f, \"exits_vs_pv\": %.3f}",
               jnames[i], im[i].ipi_exits, im[i].ipi_sender_ns, im[i].ipi_latency_ns,
               im[i].ipi_sender_ns / pv->ipi_sender_ns, im[i].ipi_latency_ns / pv->ipi_latency_ns,
               im[i].ipi_exits / pv->ipi_exits);
    }
    printf(", \"quick\": %s, \"sink\": %" PRIu64 "}\n", quick ? "true" : "false",
           (sink + rj.sink) & 1);
    return 0;
}
