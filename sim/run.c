/*
 * run.c - running a scenario: build the world (hypervisor, a device domain
 * 0 without vCPUs, the guest on N vCPUs with libxenguest), drive the
 * workloads, check the oracles, and fill the report.
 *
 * The guest program is the one a GENERIC kernel would run: CPU 0 boots
 * (detection, shared_info, callback set-up with fallbacks) and starts the
 * other CPUs with an IPI; each registers its vcpu_info; then CPU 0 binds
 * the devices' event channels and every CPU idles, taking upcalls.
 * Devices stop sending 1 ms before the time limit (or at their own stop) so
 * that the no-lost-events oracle judges a drained system.
 *
 * With disks, timers, IPIs or migrations the guest also sets up its clock,
 * per-CPU event timers and IPIs, a xenbus connection, grant tables, a
 * blkfront per disk (handshake with the toolstack's blkback) and the
 * suspend handler; every CPU then runs its workloads from its idle loop
 * (block I/O arrivals, timer ticks and IPIs multiplexed on the CPU's one
 * event timer). New work stops a drain period before the time limit.
 */
#include <errno.h>
#include <inttypes.h>
#include <libgen.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <signal.h>
#include <time.h>

#include <uv.h>

#include "jsonschema.h"
#include "workload/workload.h"
#include "xensim/blkback.h"
#include "xensim/evsource.h"
#include "xensim/guest/xg_blkfront.h"
#include "xensim/guest/xg_evtchn.h"
#include "xensim/guest/xg_gnttab.h"
#include "xensim/guest/xg_suspend.h"
#include "xensim/guest/xg_xenbus.h"
#include "xensim/hv.h"
#include "xensim/scenario.h"
#include "xensim/storage.h"
#include "xensim/toolstack.h"
#include "xensim/xenstore.h"
#include "xensim/xshost.h"

#define WAKE_VECTOR    0x30
#define MSR_X2APIC_ICR 0x830
#define DRAIN_NS       1000000

struct run_ctx;

struct wl_arg {
    struct run_ctx *rc;
    size_t i;
};

/* Per-CPU state of the timer and IPI workloads (touched by that CPU, and
 * by CPU 0 for IPI sends, between scheduling points). */
struct cpu_state {
    bool has_timer;
    bool tick_pending;
    uint64_t tick_deadline, armed, fired, early, last_fire;
    uint64_t expiries; /* event timer expiries seen (the idle loop's wakeup check) */
    uint64_t last_clock, backwards;
    uint64_t ipi_sent, ipi_seen, ipi_runs;
};

struct run_ctx {
    const struct xsim_scenario *s;
    struct xsim_world *w;
    struct xsim_hv *hv;
    struct xsim_domain *d, *dom0;
    struct xg_guest *g;
    const struct xg_platform *p;
    struct xsim_evsource *src[XSIM_SCN_MAX_WORKLOADS];
    struct xsim_events *ev[XSIM_SCN_MAX_WORKLOADS];
    struct xsim_events_total ev_total;
    evtchn_port_t port[XSIM_SCN_MAX_WORKLOADS];
    uint64_t handled[XSIM_SCN_MAX_WORKLOADS];
    volatile uint32_t started, nup, all_up;
    int boot_rc;
    volatile uint64_t lu_counter;
    uint64_t lu_expected;
    uint64_t next_rebalance;
    struct wl_arg args[XSIM_SCN_MAX_WORKLOADS];
    /* XenStore and pacing (--xenstore-socket, --realtime) */
    struct xsim_xshost *xs;
    struct xg_xenbus *xb;
    int xenbus_rc;
    uv_loop_t loop;
    bool loop_ok;
    struct xsim_xs_server *srv;
    bool realtime;
    double wall0;
    uint64_t poll_ns;
    /* disks, timers, IPIs, migrations */
    bool need_xs, need_time, need_ipi;
    const struct xsim_scn_workload *timer_wl, *ipi_wl;
    struct xsim_toolstack *ts;
    struct xsim_rng storage_rng[XSIM_SCN_MAX_DISKS];
    struct xsim_storage *storage[XSIM_SCN_MAX_DISKS];
    struct xg_gnttab *gt;
    struct xg_blkfront *bf[XSIM_SCN_MAX_DISKS];
    bool bf_init[XSIM_SCN_MAX_DISKS]; /* xg_blkfront_init succeeded */
    struct xsim_blkio *bio[XSIM_SCN_MAX_WORKLOADS];
    struct xg_clock *clk;
    struct xg_timers *tm;
    struct xg_ipi *ipi;
    struct xg_suspend *sus;
    void *own_clk, *own_tm, *own_ipi, *own_sus; /* what to free: the pointers above
                                                   go NULL when set-up fails */
    struct cpu_state *cs;
    volatile uint32_t nup2, go;
    volatile uint32_t draining;
    uint64_t ipi_next;
    unsigned int ipi_rr;
    struct xsim_rng ipi_rng;
    char setup_err[200];
    uint64_t suspend_rc0, suspend_rc1, suspend_fail, suspend_backwards;
    bool power_lost[XSIM_SCN_MAX_DISKS];
    struct xsim_blkio_durability durable[XSIM_SCN_MAX_DISKS];
    bool durable_checked[XSIM_SCN_MAX_DISKS];
    struct wl_arg disk_args[XSIM_SCN_MAX_DISKS]; /* for the disks' fault events */
};

#define POLL_PERIOD_NS 1000000 /* serve sockets / pace every 1 ms of virtual time */

static double wall_s(void)
{
    struct timespec ts;

    /* Host time enters only here, for --realtime pacing. */
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* A hypervisor-context timed event: pace to the wall clock, then serve the
 * socket's clients on this (baton-holding) thread, so the store is never
 * touched by two threads at once. */
static void host_poll(struct xsim_world *w, void *arg)
{
    struct run_ctx *rc = arg;
    uint64_t now = xsim_world_now(w);

    if (rc->realtime) {
        double ahead = (double)now * 1e-9 - (wall_s() - rc->wall0);
        if (ahead > 0) {
            struct timespec ts = {(time_t)ahead, (long)((ahead - (double)(time_t)ahead) * 1e9)};
            nanosleep(&ts, NULL);
        }
    }
    if (rc->loop_ok)
        uv_run(&rc->loop, UV_RUN_NOWAIT);
    xsim_event_schedule(w, now + POLL_PERIOD_NS, 0x58535057 /* XSPW */, host_poll, rc);
}

static void wait_u32(struct run_ctx *rc, volatile uint32_t *flag, uint32_t value)
{
    const struct xg_platform *p = rc->p;
    bool was = xg_irq_save(p);

    /* Interrupts stay off between the check and the halt (which enables
     * them atomically), so a wakeup cannot slip between the two. */
    while (xg_read_u32(p, flag) < value) {
        xg_halt(p);
        (void)xg_irq_save(p);
    }
    xg_irq_restore(p, was);
}

static void wake(struct run_ctx *rc, int cpu)
{
    uint64_t icr = cpu < 0 ? ((3u << 18) | WAKE_VECTOR) : (((uint64_t)cpu << 32) | WAKE_VECTOR);

    if (rc->s->machine.vcpus > 1)
        (void)xg_wrmsr(rc->p, MSR_X2APIC_ICR, icr);
}

static int events_handler(struct xg_guest *g, evtchn_port_t port, void *arg)
{
    struct wl_arg *a = arg;
    struct run_ctx *rc = a->rc;
    const struct xsim_scn_workload *wl = &rc->s->workloads[a->i];

    rc->handled[a->i]++;
    if (wl->spurious)
        return XG_EVTCHN_SPURIOUS;
    /* Like a driver reading its device's ring: serve every item there.
     * A run that finds the ring empty (its items were served by the run
     * before, which the new sends' notifications could not know) did
     * nothing, as the storm throttle counts it. */
    if (xsim_events_serve(rc->ev[a->i], g->p, xg_cpu(g->p)) == 0)
        return XG_EVTCHN_SPURIOUS;
    return XG_EVTCHN_HANDLED;
}

static void bind_workloads(struct run_ctx *rc, struct wl_arg *args)
{
    const struct xsim_scenario *s = rc->s;

    for (size_t i = 0; i < s->nworkloads; i++) {
        const struct xsim_scn_workload *wl = &s->workloads[i];
        if (wl->type != XSIM_WL_EVENTS || rc->src[i] == NULL)
            continue;
        args[i].rc = rc;
        args[i].i = i;
        if (xg_evtchn_bind_interdomain(rc->g, 0, xsim_evsource_port(rc->src[i]), events_handler,
                                       &args[i], &rc->port[i]) != 0)
            continue;
        if (wl->vcpu >= 0)
            (void)xg_evtchn_set_cpu(rc->g, rc->port[i], (unsigned int)wl->vcpu);
        (void)xg_evtchn_unmask(rc->g, rc->port[i]);
        (void)xsim_evsource_start(rc->src[i]);
    }
}

static void lost_update(struct run_ctx *rc, unsigned int cpu)
{
    const struct xsim_scenario *s = rc->s;

    if (cpu > 1)
        return;
    for (size_t i = 0; i < s->nworkloads; i++) {
        if (s->workloads[i].type != XSIM_WL_LOST_UPDATE)
            continue;
        for (int k = 0; k < s->workloads[i].iterations; k++) {
            /* The planted bug: a plain read and a plain write, no lock. */
            uint64_t v = xg_read_u64(rc->p, &rc->lu_counter);
            xg_write_u64(rc->p, &rc->lu_counter, v + 1);
        }
    }
}

static void guest_logf(struct run_ctx *rc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A milestone of the guest program, for --log. */
static void guest_logf(struct run_ctx *rc, const char *fmt, ...)
{
    char line[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    xg_log(rc->p, XG_LOG_INFO, line);
}

static void setup_fail(struct run_ctx *rc, const char *what, int err)
{
    xg_log(rc->p, XG_LOG_ERR, what);
    if (rc->setup_err[0] == '\0')
        snprintf(rc->setup_err, sizeof(rc->setup_err), "%s failed: %s", what, strerror(-err));
}

/* ---- timers, IPIs ---- */

static void clock_sample(struct run_ctx *rc, unsigned int cpu, uint64_t now)
{
    struct cpu_state *cs = &rc->cs[cpu];

    if (now < cs->last_clock)
        cs->backwards++;
    cs->last_clock = now;
}

/* The CPU's event timer expired (interrupt context): account a tick; the
 * idle loop that resumes after it re-arms. */
static void timer_fired(struct xg_timers *t, unsigned int cpu, uint64_t deadline_ns,
                        uint64_t now_ns, void *arg)
{
    struct run_ctx *rc = arg;
    struct cpu_state *cs = &rc->cs[cpu];

    (void)t;
    cs->expiries++;
    clock_sample(rc, cpu, now_ns);
    if (now_ns < deadline_ns)
        cs->early++;
    if (cs->tick_pending && now_ns >= cs->tick_deadline) {
        cs->tick_pending = false;
        cs->fired++;
        cs->last_fire = now_ns;
    }
}

static void ipi_handler(struct xg_ipi *ipi, unsigned int cpu, enum xg_ipi_kind kind, void *arg)
{
    struct run_ctx *rc = arg;
    struct cpu_state *cs = &rc->cs[cpu];

    (void)ipi;
    (void)kind;
    /* Like a call-function queue: take everything sent so far. */
    cs->ipi_seen = cs->ipi_sent;
    cs->ipi_runs++;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

static uint64_t ipi_work(struct run_ctx *rc, uint64_t now)
{
    const struct xsim_scn_workload *wl = rc->ipi_wl;
    unsigned int n = (unsigned int)rc->s->machine.vcpus;
    struct xsim_rng *rng = &rc->ipi_rng;

    if (rc->ipi_next == 0)
        rc->ipi_next = now + 1 + (uint64_t)xsim_rng_exp(rng, 1e9 / wl->rate);
    while (rc->ipi_next <= now) {
        unsigned int target = 1 + rc->ipi_rr++ % (n - 1);
        rc->cs[target].ipi_sent++;
        if (xg_ipi_send(rc->ipi, (int)target, XG_IPI_CALL) < 0)
            rc->cs[target].ipi_sent--;
        rc->ipi_next += 1 + (uint64_t)xsim_rng_exp(rng, 1e9 / wl->rate);
    }
    return rc->ipi_next;
}

/* One CPU's workloads, from its idle loop (interrupts on). */
static void cpu_work(struct run_ctx *rc, unsigned int cpu)
{
    struct cpu_state *cs = &rc->cs[cpu];
    uint64_t now, next = UINT64_MAX;
    bool drain;

    if (rc->clk == NULL || rc->tm == NULL || !cs->has_timer)
        return;
    now = xg_clock_now(rc->clk);
    clock_sample(rc, cpu, now);
    drain = xg_read_u32(rc->p, &rc->draining) != 0;
    if (rc->timer_wl != NULL && !drain && !cs->tick_pending && now >= rc->timer_wl->start_ns) {
        cs->tick_deadline = now + rc->timer_wl->period_ns;
        cs->tick_pending = true;
        cs->armed++;
    }
    if (cs->tick_pending)
        next = cs->tick_deadline;
    for (size_t i = 0; i < rc->s->nworkloads && !drain; i++) {
        if (rc->bio[i] != NULL && rc->s->workloads[i].vcpu == (int)cpu)
            next = min_u64(next, xsim_blkio_poll(rc->bio[i], now));
    }
    if (cpu == 0 && rc->ipi_wl != NULL && rc->ipi != NULL && !drain)
        next = min_u64(next, ipi_work(rc, now));
    if (next != UINT64_MAX)
        (void)xg_timer_set(rc->tm, next);
}

/* Halt (timer-driven) until fn(arg) holds: for waits on state that other
 * CPUs' upcalls change. */
static void poll_wait(struct run_ctx *rc, bool (*fn)(struct run_ctx *, void *), void *arg)
{
    const struct xg_platform *p = rc->p;
    bool was = xg_irq_save(p);

    while (!fn(rc, arg)) {
        (void)xg_timer_set_in(rc->tm, 100000);
        xg_halt(p);
        (void)xg_irq_save(p);
    }
    xg_irq_restore(p, was);
}

/* ---- devices ---- */

static int ev_suspend(void *arg)
{
    (void)arg;
    return 0;
}

/* After a resume: on a new host the device's channel is new; either way,
 * look at the "ring" once, as a driver does after reconnecting. */
static int ev_resume(void *arg, bool new_host)
{
    struct wl_arg *e = arg; /* the workload's own &rc->args[i] */
    struct run_ctx *rc = e->rc;
    const struct xsim_scn_workload *wl = &rc->s->workloads[e->i];
    int err;

    if (new_host) {
        if ((err = xsim_evsource_reconnect(rc->src[e->i])) != 0)
            return err;
        err = xg_evtchn_bind_interdomain(rc->g, 0, xsim_evsource_port(rc->src[e->i]),
                                         events_handler, &rc->args[e->i], &rc->port[e->i]);
        if (err != 0)
            return err;
        if (wl->vcpu >= 0)
            (void)xg_evtchn_set_cpu(rc->g, rc->port[e->i], (unsigned int)wl->vcpu);
        (void)xg_evtchn_unmask(rc->g, rc->port[e->i]);
    }
    if (!wl->spurious)
        (void)xsim_events_serve(rc->ev[e->i], rc->p, xg_cpu(rc->p));
    return 0;
}

static int bf_suspend(void *arg)
{
    return xg_blkfront_suspend(arg);
}

static int bf_resume(void *arg, bool new_host)
{
    return xg_blkfront_resume(arg, new_host);
}

static bool bf_settled(struct run_ctx *rc, void *arg)
{
    enum xg_blkfront_state st = xg_blkfront_state(arg);

    (void)rc;
    return st == XG_BLKFRONT_CONNECTED || st == XG_BLKFRONT_ERROR;
}

static void disks_up(struct run_ctx *rc)
{
    const struct xsim_scenario *s = rc->s;
    int err;

    if (s->ndisks == 0)
        return;
    if ((err = xg_gnttab_init(rc->gt, rc->g, 4)) != 0) {
        setup_fail(rc, "xg_gnttab_init", err);
        return;
    }
    for (size_t i = 0; i < s->ndisks; i++) {
        struct xg_blkfront_config bc;
        xg_blkfront_config_init(&bc, s->disks[i].devid);
        bc.ring_pages = (unsigned int)s->disks[i].ring_pages;
        bc.use_indirect = s->disks[i].indirect;
        if ((err = xg_blkfront_init(rc->bf[i], rc->g, rc->xb, rc->gt, &bc)) == 0)
            rc->bf_init[i] = true;
        if (err != 0 || (err = xg_blkfront_attach(rc->bf[i])) != 0) {
            setup_fail(rc, "blkfront attach", err);
            return;
        }
    }
    for (size_t i = 0; i < s->ndisks; i++) {
        struct xg_blkfront_info info;
        poll_wait(rc, bf_settled, rc->bf[i]);
        if (xg_blkfront_state(rc->bf[i]) != XG_BLKFRONT_CONNECTED) {
            setup_fail(rc, "blkfront connect", -EIO);
        } else if (xg_blkfront_get_info(rc->bf[i], &info) == 0) {
            guest_logf(rc,
                       "disk %s connected: %llu sectors, ring %u pages, indirect %u, flush %d, "
                       "barrier %d, discard %d%s",
                       s->disks[i].name, (unsigned long long)info.sectors, info.ring_pages,
                       info.indirect_segs, info.flush, info.barrier, info.discard,
                       info.cdrom ? ", cdrom" : "");
        }
    }
}

static void suspend_up(struct run_ctx *rc)
{
    const struct xsim_scenario *s = rc->s;
    struct xg_suspend_parts parts = {.xb = rc->xb,
                                     .gt = s->ndisks > 0 ? rc->gt : NULL,
                                     .clk = rc->clk,
                                     .timers = rc->tm,
                                     .ipi = rc->ipi,
                                     .kick_vector = WAKE_VECTOR};
    int err;

    if (rc->sus == NULL)
        return;
    if ((err = xg_suspend_init(rc->sus, rc->g, &parts)) != 0) {
        setup_fail(rc, "xg_suspend_init", err);
        rc->sus = NULL;
        return;
    }
    for (size_t i = 0; i < s->nworkloads; i++) {
        if (rc->src[i] == NULL || rc->port[i] == 0)
            continue;
        struct xg_suspend_dev d = {.name = s->workloads[i].name,
                                   .suspend = ev_suspend,
                                   .resume = ev_resume,
                                   .arg = &rc->args[i]};
        (void)xg_suspend_register(rc->sus, &d);
    }
    for (size_t i = 0; i < s->ndisks; i++) {
        struct xg_suspend_dev d = {
            .name = s->disks[i].name, .suspend = bf_suspend, .resume = bf_resume, .arg = rc->bf[i]};
        (void)xg_suspend_register(rc->sus, &d);
    }
}

static void blkio_up(struct run_ctx *rc)
{
    const struct xsim_scenario *s = rc->s;

    for (size_t i = 0; i < s->nworkloads; i++) {
        const struct xsim_scn_workload *wl = &s->workloads[i];
        const struct xsim_scn_disk *d;
        int err;
        if (wl->type != XSIM_WL_BLOCK_IO || wl->disk_index < 0)
            continue;
        d = &s->disks[wl->disk_index];
        struct xsim_blkio_params bp = {
            .wl = wl,
            .p = rc->p,
            .bf = rc->bf[wl->disk_index],
            .clk = rc->clk,
            .disk_sectors = d->sectors,
            .stop_ns = wl->stop_ns != 0 ? wl->stop_ns : UINT64_MAX,
            .seed = xsim_world_seed(rc->w) ^ xsim_fnv1a64(wl->name),
            .initial_zero = d->kind == XSIM_DISK_DISK && d->storage == XSIM_DISK_MEM,
        };
        if ((err = xsim_blkio_create(&bp, &rc->bio[i])) != 0)
            setup_fail(rc, "block-io workload buffers", err);
    }
}

/* CPU 0 after the others came up: clock, timers and IPIs on every CPU. */
static void time_up(struct run_ctx *rc)
{
    struct xg_ipi_config ic;
    int err;

    if (!rc->need_time)
        return;
    if ((err = xg_clock_init(rc->clk, rc->g, NULL)) != 0) {
        setup_fail(rc, "xg_clock_init", err);
        rc->clk = NULL;
        rc->tm = NULL;
        rc->ipi = NULL;
        return;
    }
    if ((err = xg_timers_init(rc->tm, rc->g, rc->clk, NULL)) != 0) {
        setup_fail(rc, "xg_timers_init", err);
        rc->tm = NULL;
        rc->ipi = NULL;
        return;
    }
    if (rc->need_ipi) {
        xg_ipi_config_init(&ic);
        for (int k = 0; k < XG_IPI__COUNT; k++) {
            ic.fn[k] = ipi_handler;
            ic.arg[k] = rc;
        }
        if ((err = xg_ipi_init(rc->ipi, rc->g, &ic)) != 0) {
            setup_fail(rc, "xg_ipi_init", err);
            rc->ipi = NULL;
        }
    }
}

static void time_cpu_up(struct run_ctx *rc, unsigned int cpu)
{
    if (rc->tm != NULL)
        rc->cs[cpu].has_timer = xg_timer_cpu_init(rc->tm, timer_fired, rc) == 0;
    if (rc->ipi != NULL)
        (void)xg_ipi_cpu_init(rc->ipi);
}

static void run_suspend(struct run_ctx *rc)
{
    uint64_t before = rc->clk != NULL ? xg_clock_now(rc->clk) : 0;
    int r = xg_suspend_run(rc->sus);

    if (rc->clk != NULL && xg_clock_now(rc->clk) < before)
        rc->suspend_backwards++;
    if (r == 0)
        rc->suspend_rc0++;
    else if (r == 1)
        rc->suspend_rc1++;
    else
        rc->suspend_fail++;
    guest_logf(rc, "suspend returned %d (%s); callback %s, timer %s, IPIs %s", r,
               r == 0   ? "a new host"
               : r == 1 ? "cancelled"
                        : "failed",
               xg_callback_name(xg_guest_callback(rc->g)),
               rc->tm != NULL ? xg_timer_kind_name(xg_timer_kind(rc->tm)) : "none",
               rc->ipi != NULL ? xg_ipi_mode_name(xg_ipi_mode(rc->ipi)) : "none");
}

static void guest_interrupt(void *guest, unsigned int cpu, uint8_t vector)
{
    struct run_ctx *rc = guest;

    (void)cpu;
    if (vector == WAKE_VECTOR) {
        xg_eoi(rc->p);
        return;
    }
    if (rc->tm != NULL && xg_timer_interrupt(rc->tm, vector))
        return;
    if (rc->ipi != NULL && xg_ipi_interrupt(rc->ipi, vector))
        return;
    xg_guest_interrupt(rc->g, vector);
}

static void boot_cpu0(struct run_ctx *rc)
{
    const struct xg_platform *p = rc->p;
    uint32_t others = (uint32_t)rc->s->machine.vcpus - 1;

    xg_write_u32(p, &rc->started, 1);
    wake(rc, -1);
    wait_u32(rc, &rc->nup, others);
    time_up(rc);
    time_cpu_up(rc, 0);
    xg_write_u32(p, &rc->all_up, 1);
    wake(rc, -1);
    wait_u32(rc, &rc->nup2, others);
    blkio_up(rc);
    bind_workloads(rc, rc->args);
    if (rc->xb != NULL) {
        rc->xenbus_rc = xg_xenbus_init(rc->xb, rc->g);
        if (rc->xenbus_rc == 0) {
            /* Say hello where a person with the real tools will look. */
            (void)xg_xenbus_write(rc->xb, 0, "data/xensim/scenario", rc->s->name);
            (void)xg_xenbus_write(rc->xb, 0, "data/xensim/callback",
                                  xg_callback_name(xg_guest_callback(rc->g)));
            if (rc->tm != NULL)
                disks_up(rc);
            else if (rc->s->ndisks > 0)
                setup_fail(rc, "disks need the guest's timers; timers", -ENODEV);
            suspend_up(rc);
        } else if (rc->s->ndisks + rc->s->nmigrations > 0) {
            setup_fail(rc, "xg_xenbus_init", rc->xenbus_rc);
        }
    }
    guest_logf(rc, "set up: callback %s, clock %s, timer %s, IPIs %s",
               xg_callback_name(xg_guest_callback(rc->g)),
               rc->clk != NULL ? xg_clock_source_name(xg_clock_source(rc->clk)) : "none",
               rc->tm != NULL ? xg_timer_kind_name(xg_timer_kind(rc->tm)) : "none",
               rc->ipi != NULL ? xg_ipi_mode_name(xg_ipi_mode(rc->ipi)) : "none");
    xg_write_u32(p, &rc->go, 1);
    wake(rc, -1);
}

static void guest_start(void *guest, unsigned int cpu)
{
    struct run_ctx *rc = guest;
    const struct xg_platform *p = rc->p;

    if (cpu == 0) {
        rc->boot_rc = xg_guest_boot(rc->g);
        if (rc->boot_rc != 0)
            return;
        boot_cpu0(rc);
    } else {
        wait_u32(rc, &rc->started, 1);
        int up = xg_guest_cpu_up(rc->g);
        xg_fetch_add_u32(p, &rc->nup, 1);
        wake(rc, 0);
        if (up != 0)
            return;
        wait_u32(rc, &rc->all_up, 1);
        time_cpu_up(rc, cpu);
        xg_fetch_add_u32(p, &rc->nup2, 1);
        wake(rc, 0);
        wait_u32(rc, &rc->go, 1);
    }
    xg_irq_restore(p, true);
    lost_update(rc, cpu);
    for (;;) {
        uint64_t expiries = rc->cs[cpu].expiries;

        cpu_work(rc, cpu);
        /* Checks with interrupts off, so a request or a kick that arrives
         * after them still ends the halt (sti; hlt is atomic). */
        (void)xg_irq_save(p);
        if (rc->cs[cpu].expiries != expiries) {
            /* The timer expired while cpu_work ran (it may have been the
             * deadline cpu_work had just armed): its work is still to do,
             * and nothing else would wake this CPU for it. */
            xg_irq_restore(p, true);
            continue;
        }
        if (rc->sus != NULL && cpu == 0 && xg_suspend_requested(rc->sus)) {
            xg_irq_restore(p, true);
            run_suspend(rc);
            continue;
        }
        if (rc->sus != NULL && cpu != 0 && xg_suspend_cpu_poll(rc->sus)) {
            xg_irq_restore(p, true);
            continue;
        }
        xg_guest_idle(rc->g);
        if (cpu == 0 && rc->s->guest.rebalance_every_ns != 0 && xg_rdtsc(p) >= rc->next_rebalance) {
            (void)xg_evtchn_rebalance(rc->g);
            rc->next_rebalance = xg_rdtsc(p) + rc->s->guest.rebalance_every_ns;
        }
    }
}

static const struct xsim_guest_ops guest_ops = {.start = guest_start, .interrupt = guest_interrupt};

/* ---- oracles ---- */

static void oracle(struct xsim_report *rep, const char *name, bool pass, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void oracle(struct xsim_report *rep, const char *name, bool pass, const char *fmt, ...)
{
    va_list ap;
    struct xsim_oracle_result *o;

    if (rep->noracles == XSIM_MAX_ORACLES)
        return;
    o = &rep->oracles[rep->noracles++];
    snprintf(o->name, sizeof(o->name), "%s", name);
    o->pass = pass;
    va_start(ap, fmt);
    vsnprintf(o->detail, sizeof(o->detail), fmt, ap);
    va_end(ap);
    if (!pass)
        rep->all_pass = false;
}

/* The block-io workloads' results, and how many there are. */
static size_t blkio_results(const struct xsim_scenario *s, struct run_ctx *rc,
                            struct xsim_blkio_result *r, size_t *idx)
{
    size_t n = 0;

    for (size_t i = 0; i < s->nworkloads; i++) {
        if (rc->bio[i] == NULL)
            continue;
        xsim_blkio_result(rc->bio[i], &r[n]);
        idx[n++] = i;
    }
    return n;
}

static void oracle_blk_data(const struct xsim_scenario *s, const struct xsim_blkio_result *r,
                            const size_t *idx, size_t n, struct xsim_report *rep)
{
    uint64_t verified = 0;
    char detail[256] = "";
    bool ok = true;

    for (size_t k = 0; k < n; k++) {
        verified += r[k].verified;
        if (r[k].verify_failed != 0 && ok) {
            ok = false;
            snprintf(detail, sizeof(detail), "%s: %" PRIu64 " of %" PRIu64 " reads wrong; %s",
                     s->workloads[idx[k]].name, r[k].verify_failed, r[k].verified,
                     r[k].verify_detail);
        }
    }
    if (ok)
        snprintf(detail, sizeof(detail), "%" PRIu64 " reads returned what was last written",
                 verified);
    oracle(rep, "blk_data", ok && verified > 0, "%s", detail);
}

/* Every I/O submitted completed without error, and none was refused for
 * good. A discard or flush the device does not offer is declined
 * (-EOPNOTSUPP), not failed. A refusal blkfront lifts by itself (a full hold queue, as while a
 * device reconnects after a migration) is retried by the workload and is
 * no failure; any other refusal means the device stopped taking I/O
 * (closed, in error, or no longer fitting the I/O), which a guest would
 * see as lost I/O. */
static void oracle_blk_no_lost_io(const struct xsim_scenario *s, const struct xsim_blkio_result *r,
                                  const size_t *idx, size_t n, struct xsim_report *rep)
{
    uint64_t done = 0, retried = 0, unsupported = 0;
    char detail[256] = "";
    bool ok = true;

    for (size_t k = 0; k < n; k++) {
        const struct xsim_scn_workload *wl = &s->workloads[idx[k]];
        const struct xsim_scn_disk *d = &s->disks[wl->disk_index];
        bool faults = d->faults.read_error_rate > 0 || d->faults.write_error_rate > 0;
        done += r[k].completed;
        retried += r[k].retried;
        unsupported += r[k].unsupported;
        if (ok && r[k].refused != 0) {
            ok = false;
            snprintf(detail, sizeof(detail),
                     "%s: %" PRIu64 " I/Os refused for good from %.3f ms on (%s); disk %s ended "
                     "%s; %" PRIu64 " submitted, %" PRIu64 " completed, %" PRIu64 " errors",
                     wl->name, r[k].refused, (double)r[k].refused_first_ns / 1e6,
                     strerror(r[k].refused_last_errno), d->name,
                     (size_t)wl->disk_index < rep->ndisks ? rep->disk[wl->disk_index].state : "?",
                     r[k].submitted, r[k].completed, r[k].errors);
        } else if (ok && (r[k].completed != r[k].submitted || (r[k].errors != 0 && !faults))) {
            ok = false;
            snprintf(detail, sizeof(detail),
                     "%s: %" PRIu64 " submitted, %" PRIu64 " completed, %" PRIu64 " errors%s",
                     wl->name, r[k].submitted, r[k].completed, r[k].errors,
                     r[k].completed == r[k].submitted ? ""
                     : rep->stop == XSIM_STOP_QUIESCENT
                         ? "; the rest were lost (nothing was left to run)"
                         : "; the rest were still in flight at the stop (lengthen "
                           "stop.time or lower the load)");
        }
    }
    if (ok) {
        int len = snprintf(detail, sizeof(detail), "all %" PRIu64 " I/Os completed", done);
        if (unsupported != 0)
            len +=
                snprintf(detail + len, sizeof(detail) - (size_t)len,
                         "; %" PRIu64 " discards or flushes the device did not offer", unsupported);
        if (retried != 0)
            snprintf(detail + len, sizeof(detail) - (size_t)len,
                     "; %" PRIu64 " submissions found the queue full and were retried", retried);
    }
    oracle(rep, "blk_no_lost_io", ok && done > 0, "%s", detail);
}

static void oracle_blk_durable(const struct xsim_scenario *s, struct run_ctx *rc,
                               struct xsim_report *rep)
{
    bool ok = true, any = false;
    char detail[256] = "no disk lost power";

    for (size_t d = 0; d < s->ndisks; d++) {
        const struct xsim_blkio_durability *du = &rc->durable[d];
        if (!rc->durable_checked[d])
            continue;
        if (!any)
            detail[0] = '\0';
        any = true;
        if (du->bad != 0 && ok) {
            ok = false;
            snprintf(detail, sizeof(detail), "%s: %" PRIu64 " of %" PRIu64 " sectors bad: %s",
                     s->disks[d].name, du->bad, du->checked, du->detail);
        } else if (ok) {
            size_t len = strlen(detail);
            snprintf(detail + len, sizeof(detail) - len,
                     "%s%s: %" PRIu64 " sectors of %" PRIu64 " blocks intact after %" PRIu64
                     " completed flushes",
                     len ? "; " : "", s->disks[d].name, du->checked, du->blocks_written,
                     du->flushes_completed);
        }
    }
    oracle(rep, "blk_durable", ok && any, "%s", detail);
}

static void check_blk_oracles(const struct xsim_scenario *s, struct run_ctx *rc,
                              struct xsim_report *rep)
{
    struct xsim_blkio_result r[XSIM_SCN_MAX_WORKLOADS];
    size_t idx[XSIM_SCN_MAX_WORKLOADS];
    size_t n = blkio_results(s, rc, r, idx);

    if (s->oracles.blk_data)
        oracle_blk_data(s, r, idx, n, rep);
    if (s->oracles.blk_no_lost_io)
        oracle_blk_no_lost_io(s, r, idx, n, rep);
    if (s->oracles.blk_durable)
        oracle_blk_durable(s, rc, rep);
}

static void check_time_oracles(const struct xsim_scenario *s, struct run_ctx *rc,
                               struct xsim_report *rep)
{
    unsigned int n = (unsigned int)s->machine.vcpus;

    if (s->oracles.migration) {
        const struct xsim_migration_result *m = &rep->migration;
        bool ok = m->requested == s->nmigrations && m->failed == 0 &&
                  m->migrated + m->cancelled == m->requested && rc->suspend_fail == 0 &&
                  m->guest_resumed + m->guest_cancelled == m->requested;
        oracle(rep, "migration", ok,
               "%" PRIu64 " asked, %" PRIu64 " migrated, %" PRIu64 " cancelled, %" PRIu64
               " failed; guest saw %" PRIu64 " new hosts, %" PRIu64
               " cancels; worst downtime %.2f ms",
               m->requested, m->migrated, m->cancelled, m->failed, m->guest_resumed,
               m->guest_cancelled, (double)m->downtime_ns_max / 1e6);
    }
    if (s->oracles.clock_monotonic) {
        uint64_t back = rc->suspend_backwards;
        for (unsigned int c = 0; c < n; c++)
            back += rc->cs[c].backwards;
        oracle(rep, "clock_monotonic", back == 0 && rc->clk != NULL,
               "%" PRIu64 " readings went backwards (clock %s)", back,
               rc->clk != NULL ? xg_clock_source_name(xg_clock_source(rc->clk)) : "none");
    }
    if (s->oracles.timers) {
        bool ok = rc->tm != NULL && rc->timer_wl != NULL;
        char detail[256];
        uint64_t armed = 0;
        snprintf(detail, sizeof(detail), "no timer workload or no timer");
        for (unsigned int c = 0; c < n && ok; c++) {
            const struct cpu_state *cs = &rc->cs[c];
            armed += cs->armed;
            if (!cs->has_timer || cs->armed == 0 || cs->fired != cs->armed || cs->early != 0) {
                ok = false;
                snprintf(
                    detail, sizeof(detail),
                    "CPU %u: %s, %" PRIu64 " ticks armed, %" PRIu64 " fired, %" PRIu64 " early", c,
                    cs->has_timer ? "has a timer" : "no timer", cs->armed, cs->fired, cs->early);
            }
        }
        if (ok)
            snprintf(detail, sizeof(detail),
                     "%" PRIu64 " ticks armed and fired on %u CPUs (%s), none early", armed, n,
                     xg_timer_kind_name(xg_timer_kind(rc->tm)));
        oracle(rep, "timers", ok, "%s", detail);
    }
    if (s->oracles.ipis) {
        bool ok = rc->ipi != NULL && rc->ipi_wl != NULL && n > 1;
        uint64_t sent = 0;
        char detail[256];
        snprintf(detail, sizeof(detail), "no ipi workload, no IPIs or one CPU");
        for (unsigned int c = 1; c < n && ok; c++) {
            sent += rc->cs[c].ipi_sent;
            if (rc->cs[c].ipi_seen != rc->cs[c].ipi_sent) {
                ok = false;
                snprintf(detail, sizeof(detail),
                         "CPU %u: %" PRIu64 " IPIs sent, its handler last saw %" PRIu64, c,
                         rc->cs[c].ipi_sent, rc->cs[c].ipi_seen);
            }
        }
        if (ok && sent == 0) {
            ok = false;
            snprintf(detail, sizeof(detail), "no IPI was sent");
        }
        if (ok)
            snprintf(detail, sizeof(detail), "%" PRIu64 " IPIs (%s) all followed by a handler run",
                     sent, xg_ipi_mode_name(xg_ipi_mode(rc->ipi)));
        oracle(rep, "ipis", ok, "%s", detail);
    }
}

static void check_oracles(const struct xsim_scenario *s, struct run_ctx *rc,
                          struct xsim_report *rep)
{
    bool stop_ok = rep->stop == XSIM_STOP_QUIESCENT || rep->stop == XSIM_STOP_TIME_LIMIT ||
                   rep->stop == XSIM_STOP_ALL_DONE;

    /* Always: the run itself must end normally and the guest must boot. */
    bool set_up = rep->boot_rc != 0 || rc->go != 0;

    oracle(rep, "run", stop_ok && rep->boot_rc == 0 && rc->setup_err[0] == '\0' && set_up,
           "ended %s%s%s; boot %d%s%s%s", xsim_stop_reason_name(rep->stop),
           rep->failure[0] ? ": " : "", rep->failure, rep->boot_rc, rc->setup_err[0] ? "; " : "",
           rc->setup_err,
           set_up ? "" : "; the guest had not finished setting up when the run stopped");
    if (s->oracles.no_lost_events) {
        bool ok = true;
        char detail[256] = "every event sent was handled after it was sent";
        for (size_t i = 0; i < rep->nwl; i++) {
            const struct xsim_wl_result *r = &rep->wl[i];
            if (s->workloads[i].type != XSIM_WL_EVENTS || s->workloads[i].spurious)
                continue;
            if (r->consumed != r->sent) {
                ok = false;
                snprintf(detail, sizeof(detail), "%s: %" PRIu64 " sent, %" PRIu64 " handled",
                         r->name, r->sent, r->consumed);
                break;
            }
        }
        oracle(rep, "no_lost_events", ok, "%s", detail);
    }
    if (s->oracles.max_latency_ns != 0) {
        uint64_t worst = 0;
        const char *who = "";
        for (size_t i = 0; i < rep->nwl; i++) {
            if (rep->wl[i].latency_ns_max > worst) {
                worst = rep->wl[i].latency_ns_max;
                who = rep->wl[i].name;
            }
        }
        oracle(rep, "max_latency", worst <= s->oracles.max_latency_ns,
               "worst %" PRIu64 " ns (%s), bound %" PRIu64 " ns", worst, who,
               s->oracles.max_latency_ns);
    }
    if (s->oracles.callback[0] != '\0')
        oracle(rep, "callback", strcmp(rep->callback, s->oracles.callback) == 0,
               "guest chose %s, expected %s", rep->callback, s->oracles.callback);
    if (s->oracles.lost_update)
        oracle(rep, "lost_update", rc->lu_counter == rc->lu_expected,
               "counter %" PRIu64 ", expected %" PRIu64, (uint64_t)rc->lu_counter, rc->lu_expected);
    check_blk_oracles(s, rc, rep);
    check_time_oracles(s, rc, rep);
}

/* ---- laws of the measurements ---- */

static void law(struct xsim_report *rep, const char *name, bool pass, const char *detail)
{
    struct xsim_oracle_result *o = &rep->laws[rep->nlaws++];

    snprintf(o->name, sizeof(o->name), "%s", name);
    o->pass = pass;
    snprintf(o->detail, sizeof(o->detail), "%s", detail);
}

/* Little's law L = lambda W for every Poisson source (L as arrivals see
 * it, lambda over the sending window, W the mean sojourn), and the
 * utilisation law U = X S for every CPU (the handler time the vCPU was
 * charged against the service its served items took). */
static void check_laws(const struct xsim_scenario *s, struct run_ctx *rc, struct xsim_report *rep)
{
    double worst = -1;
    char detail[256] = "";
    bool ok = true;
    uint64_t end = rep->stats.end_time_ns;

    for (size_t i = 0; i < rep->nwl; i++) {
        const struct xsim_wl_result *w = &rep->wl[i];
        double diff, rel;
        if (!w->little_checked)
            continue;
        diff = fabs(w->little_L - w->little_lambda_W);
        rel = w->little_lambda_W > 0 ? diff / w->little_lambda_W : diff;
        /* Both sides are estimates from one run, each with its interval:
         * they must agree within twice their combined 95% half-widths
         * (a rare excursion, a migration's downtime, widens both), or
         * within 5%, or within 0.01 items when the system is nearly empty. */
        if (rel > 0.05 && diff > 0.01) {
            double band = -1;
            if (w->little_L_ci95 >= 0 && w->little_lambda_W_ci95 >= 0)
                band = 2 * sqrt(w->little_L_ci95 * w->little_L_ci95 +
                                w->little_lambda_W_ci95 * w->little_lambda_W_ci95);
            if (!(band >= 0 && diff <= band))
                ok = false;
        }
        if (rel > worst) {
            worst = rel;
            snprintf(detail, sizeof(detail),
                     "%s: L %.4f as arrivals see it (+-%.4f), lambda W %.4f (+-%.4f; %.0f/s x "
                     "%.0f ns), %.2f%% apart (worst of the Poisson sources)",
                     w->name, w->little_L, w->little_L_ci95, w->little_lambda_W,
                     w->little_lambda_W_ci95, w->arrival_rate_per_s, w->sojourn.mean, 100 * rel);
        }
    }
    if (worst >= 0)
        law(rep, "little", ok, detail);
    worst = -1;
    ok = true;
    for (unsigned int c = 0; c < rep->ncpus && end > 0; c++) {
        const struct xsim_cpu_result *r = &rep->cpu[c];
        double u = (double)r->handler_ns / (double)end, xs = (double)r->service_ns / (double)end;
        double diff = fabs(u - xs);
        if (r->service_ns == 0 && r->handler_ns == 0)
            continue;
        /* The handler time the vCPU was charged is exactly what its items
         * declared: nothing else charges handler work. */
        if (r->handler_ns != r->service_ns)
            ok = false;
        if (diff > worst) {
            worst = diff;
            snprintf(detail, sizeof(detail),
                     "CPU %u: handler utilisation %.6f, served items x mean service %.6f "
                     "(worst CPU)",
                     c, u, xs);
        }
    }
    (void)s;
    (void)rc;
    if (worst >= 0)
        law(rep, "utilization", ok, detail);
}

/* ---- set-up ---- */

static int load_costs(const struct xsim_scenario *s, struct xsim_cost_profile *cp,
                      struct xsim_report *rep)
{
    struct xsim_error err;

    xsim_cost_profile_default(cp);
    if (s->machine.cost_profile[0] != '\0') {
        char dir[512];
        int rc;
        /* A name is a shipped profile; a path is relative to the scenario. */
        snprintf(dir, sizeof(dir), "%s", s->path);
        if ((rc = xsim_cost_profile_resolve(cp, s->machine.cost_profile, dirname(dir), &err)) !=
            0) {
            xsim_error_format(&err, rep->failure, sizeof(rep->failure));
            return rc == -ENOENT ? -ENOENT : -EINVAL;
        }
    }
    if (s->machine.apicv)
        cp->apicv = true;
    if (s->machine.posted_interrupts)
        cp->apicv = cp->posted_interrupts = true; /* posting needs APICv */
    snprintf(rep->cost_profile, sizeof(rep->cost_profile), "%s", cp->name);
    return 0;
}

/* Guest-side structures live in host memory the guest code owns (a
 * kernel's .bss); cache-line aligned and zeroed. */
static void *guest_alloc(unsigned long size)
{
    size_t sz = (size + 63) / 64 * 64;
    void *m = aligned_alloc(64, sz);

    if (m != NULL)
        memset(m, 0, sz);
    return m;
}

static size_t guest_ram_pages(const struct xsim_scenario *s)
{
    size_t pages = 256;

    for (size_t i = 0; i < s->nworkloads; i++) {
        const struct xsim_scn_workload *wl = &s->workloads[i];
        if (wl->type == XSIM_WL_BLOCK_IO)
            pages += (size_t)wl->queue_depth * ((wl->io_sectors * 512u + 4095) / 4096);
    }
    /* Rings, grant frames and indirect pages of the disks. */
    return pages + s->ndisks * 64;
}

static bool needs_time(const struct xsim_scenario *s)
{
    if (s->ndisks > 0 || s->nmigrations > 0)
        return true;
    for (size_t i = 0; i < s->nworkloads; i++) {
        if (s->workloads[i].type == XSIM_WL_TIMER || s->workloads[i].type == XSIM_WL_IPI)
            return true;
    }
    return false;
}

static int alloc_guest_parts(struct run_ctx *rc, const struct xsim_scenario *s)
{
    rc->cs = calloc((size_t)s->machine.vcpus, sizeof(*rc->cs));
    if (rc->cs == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < s->nworkloads; i++) {
        if (s->workloads[i].type == XSIM_WL_TIMER && rc->timer_wl == NULL)
            rc->timer_wl = &s->workloads[i];
        if (s->workloads[i].type == XSIM_WL_IPI && rc->ipi_wl == NULL)
            rc->ipi_wl = &s->workloads[i];
    }
    rc->need_time = needs_time(s);
    rc->need_ipi = rc->ipi_wl != NULL || s->nmigrations > 0;
    rc->need_xs = rc->xb != NULL || s->ndisks > 0 || s->nmigrations > 0;
    if (rc->need_xs && rc->xb == NULL && (rc->xb = calloc(1, sizeof(*rc->xb))) == NULL)
        return -ENOMEM;
    if (rc->need_time) {
        rc->clk = guest_alloc(sizeof(*rc->clk));
        rc->tm = guest_alloc(sizeof(*rc->tm));
        rc->own_clk = rc->clk;
        rc->own_tm = rc->tm;
        if (rc->clk == NULL || rc->tm == NULL)
            return -ENOMEM;
    }
    if (rc->need_ipi && (rc->own_ipi = rc->ipi = guest_alloc(sizeof(*rc->ipi))) == NULL)
        return -ENOMEM;
    if (s->ndisks > 0 && (rc->gt = guest_alloc(sizeof(*rc->gt))) == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < s->ndisks; i++) {
        if ((rc->bf[i] = guest_alloc(xg_blkfront_size())) == NULL)
            return -ENOMEM;
    }
    if (s->nmigrations > 0 && (rc->own_sus = rc->sus = guest_alloc(xg_suspend_size())) == NULL)
        return -ENOMEM;
    return 0;
}

static void free_guest_parts(struct run_ctx *rc)
{
    for (size_t i = 0; i < XSIM_SCN_MAX_WORKLOADS; i++)
        xsim_blkio_destroy(rc->bio[i]);
    for (size_t i = 0; i < XSIM_SCN_MAX_DISKS; i++)
        free(rc->bf[i]);
    free(rc->own_sus);
    free(rc->gt);
    free(rc->own_ipi);
    free(rc->own_tm);
    free(rc->own_clk);
    free(rc->cs);
}

/* The power fails: the disk's volatile cache is gone, the workloads on it
 * stop, and the durable image is judged now, before anything else lands. */
static void power_loss(struct xsim_world *w, void *arg)
{
    struct wl_arg *a = arg;
    struct run_ctx *rc = a->rc;
    size_t d = a->i;

    (void)w;
    rc->power_lost[d] = true;
    xsim_storage_power_loss(rc->storage[d]);
    for (size_t i = 0; i < rc->s->nworkloads; i++) {
        if (rc->bio[i] == NULL || rc->s->workloads[i].disk_index != (int)d)
            continue;
        xsim_blkio_halt(rc->bio[i]);
        struct xsim_blkio_durability du;
        if (xsim_blkio_check_durable(rc->bio[i], rc->storage[d], &du) == 0) {
            rc->durable[d].checked += du.checked;
            rc->durable[d].bad += du.bad;
            rc->durable[d].blocks_written += du.blocks_written;
            rc->durable[d].flushes_completed += du.flushes_completed;
            if (du.bad != 0 && rc->durable[d].detail[0] == '\0')
                snprintf(rc->durable[d].detail, sizeof(rc->durable[d].detail), "%s", du.detail);
            rc->durable_checked[d] = true;
        }
    }
}

/* The disk's backend goes away for good (a forced detach): the frontend
 * sees its nodes go and closes; what the workloads submit later is
 * refused, which the blk_no_lost_io oracle reports. */
static void backend_gone(struct xsim_world *w, void *arg)
{
    struct wl_arg *a = arg;

    (void)w;
    (void)xsim_toolstack_remove_disk(a->rc->ts, (unsigned int)a->i);
}

static void start_drain(struct xsim_world *w, void *arg)
{
    struct run_ctx *rc = arg;

    (void)w;
    rc->draining = 1;
}

static void blkback_features(struct xsim_blkback_features *f,
                             const struct xsim_scn_disk_features *d)
{
    f->flush = d->flush;
    f->barrier = d->barrier;
    f->discard = d->discard;
    f->max_indirect_segs = (unsigned int)d->indirect_segments;
    f->max_ring_page_order = (unsigned int)d->max_ring_page_order;
}

static int build_disk(struct run_ctx *rc, const struct xsim_scenario *s, size_t i)
{
    const struct xsim_scn_disk *d = &s->disks[i];
    struct xsim_storage_config sc = {
        .sectors = d->sectors,
        .readonly = d->readonly || d->kind == XSIM_DISK_CDROM,
        .write_cache = d->write_cache,
        .path = d->path[0] ? d->path : NULL,
        .faults = {.read_error_rate = d->faults.read_error_rate,
                   .write_error_rate = d->faults.write_error_rate,
                   .refuse_flush = d->faults.refuse_flush,
                   .refuse_barrier = d->faults.refuse_barrier,
                   .lose_all_cached = d->faults.lose_all_cached,
                   .flush_lies = d->faults.flush_lies},
        .rng = &rc->storage_rng[i],
    };
    struct xsim_blkback_config bc;
    struct xsim_blkback *bb;
    char stream[48];
    int err;

    snprintf(stream, sizeof(stream), "storage:%s", d->name);
    xsim_world_rng(rc->w, stream, &rc->storage_rng[i]);
    if (d->kind == XSIM_DISK_CDROM)
        err = xsim_storage_cdrom_create(&sc, &rc->storage[i]);
    else if (d->storage == XSIM_DISK_FILE)
        err = xsim_storage_file_create(&sc, &rc->storage[i]);
    else
        err = xsim_storage_mem_create(&sc, &rc->storage[i]);
    if (err != 0)
        return err;
    xsim_blkback_config_init(&bc);
    bc.guest = 1;
    bc.devid = d->devid;
    bc.cdrom = d->kind == XSIM_DISK_CDROM;
    bc.readonly = d->readonly || bc.cdrom;
    blkback_features(&bc.features, &d->features);
    bc.storage = rc->storage[i];
    bc.latency_ns = d->latency_ns;
    bc.ns_per_sector = d->ns_per_sector;
    bc.jitter = d->jitter;
    bc.refuse_barrier = d->faults.refuse_barrier;
    bc.refuse_flush = d->faults.refuse_flush;
    if ((err = xsim_toolstack_add_disk(rc->ts, &bc, &bb)) != 0)
        return err;
    rc->disk_args[i] = (struct wl_arg){.rc = rc, .i = i};
    if (d->power_loss_ns != 0 && xsim_event_schedule(rc->w, d->power_loss_ns, 0x504c4f53 /* PLOS */,
                                                     power_loss, &rc->disk_args[i]) == 0)
        return -ENOMEM;
    if (d->backend_gone_ns != 0 &&
        xsim_event_schedule(rc->w, d->backend_gone_ns, 0x42474f4e /* BGON */, backend_gone,
                            &rc->disk_args[i]) == 0)
        return -ENOMEM;
    return 0;
}

static int build_devices(struct run_ctx *rc, const struct xsim_scenario *s)
{
    uint64_t drain = DRAIN_NS;
    int err;

    if (s->ndisks == 0 && s->nmigrations == 0 && rc->timer_wl == NULL && rc->ipi_wl == NULL)
        return 0;
    if (s->ndisks > 0 || s->nmigrations > 0) {
        if ((err = xsim_toolstack_create(rc->w, rc->hv, rc->xs, rc->d, &rc->ts)) != 0)
            return err;
        for (size_t i = 0; i < s->ndisks; i++) {
            if ((err = build_disk(rc, s, i)) != 0)
                return err;
            drain = drain > 40 * s->disks[i].latency_ns ? drain : 40 * s->disks[i].latency_ns;
        }
        for (size_t i = 0; i < s->nmigrations; i++) {
            const struct xsim_scn_migration *sm = &s->migrations[i];
            struct xsim_migration m;
            xsim_migration_init(&m);
            m.at_ns = sm->at_ns;
            m.downtime_ns = sm->downtime_ns;
            m.cancel = sm->cancel;
            m.tsc_hz = sm->tsc_hz;
            m.system_time_offset_ns = sm->system_time_offset_ns;
            if (sm->has_features) {
                m.has_hv_features = true;
                xsim_hv_features_default(&m.hv_features);
                m.hv_features.hvm_callback_vector = sm->hvm_callback_vector;
                m.hv_features.percpu_upcall_vector = sm->percpu_upcall_vector;
                m.hv_features.hvm_safe_pvclock = sm->hvm_safe_pvclock;
                m.hv_features.platform_pci = sm->platform_pci;
            }
            if (sm->has_disk_features) {
                m.has_disk_features = true;
                for (size_t k = 0; k < s->ndisks && k < XSIM_TOOLSTACK_MAX_DISKS; k++)
                    blkback_features(&m.disk_features[k], &sm->disk_features);
            }
            if ((err = xsim_toolstack_schedule(rc->ts, &m)) != 0)
                return err;
        }
    }
    if (rc->ipi_wl != NULL) {
        char stream[48];
        snprintf(stream, sizeof(stream), "workload:%s", rc->ipi_wl->name);
        xsim_world_rng(rc->w, stream, &rc->ipi_rng);
    }
    if (rc->timer_wl != NULL && 3 * rc->timer_wl->period_ns > drain)
        drain = 3 * rc->timer_wl->period_ns;
    if (drain > s->stop.time_ns / 2)
        drain = s->stop.time_ns / 2; /* a short run still drains its second half */
    if (drain > 0) {
        if (xsim_event_schedule(rc->w, s->stop.time_ns - drain, 0x4452414e /* DRAN */, start_drain,
                                rc) == 0)
            return -ENOMEM;
    }
    return 0;
}

static int build(struct run_ctx *rc, const struct xsim_scenario *s, struct xsim_policy *pol,
                 const struct xsim_world_config *wc)
{
    struct xsim_hv_features f, f0;
    struct xg_guest_config gc;
    int err;

    if ((err = xsim_world_create(wc, pol, &rc->w)) != 0 ||
        (err = xsim_hv_create(rc->w, &rc->hv)) != 0)
        return err;
    rc->g = guest_alloc(xg_guest_size());
    if (rc->g == NULL || (err = alloc_guest_parts(rc, s)) != 0)
        return -ENOMEM;
    if ((err = xsim_domain_create(rc->w, 0, 0, 16, NULL, NULL, &rc->dom0)) != 0 ||
        (err = xsim_domain_create(rc->w, 1, (unsigned int)s->machine.vcpus, guest_ram_pages(s),
                                  &guest_ops, rc, &rc->d)) != 0)
        return err;
    xsim_hv_features_default(&f0);
    xsim_hv_features_default(&f);
    f.hvm_callback_vector = s->machine.hvm_callback_vector;
    f.percpu_upcall_vector = s->machine.percpu_upcall_vector;
    f.hvm_safe_pvclock = s->machine.hvm_safe_pvclock;
    f.platform_pci = s->machine.platform_pci;
    f.viridian = s->machine.viridian;
    if ((err = xsim_hv_add_domain(rc->hv, rc->dom0, &f0)) != 0 ||
        (err = xsim_hv_add_domain(rc->hv, rc->d, &f)) != 0)
        return err;
    rc->p = xsim_domain_platform(rc->d);
    xg_guest_config_init(&gc, (unsigned int)s->machine.vcpus);
    gc.platform_pci = s->machine.platform_pci;
    gc.force_callback = (enum xg_callback)s->guest.callback;
    gc.balance_at_bind = s->guest.balance_at_bind;
    gc.upcall_budget = (unsigned int)s->guest.upcall_budget;
    gc.storm_threshold = (unsigned int)s->guest.storm_threshold;
    if ((err = xg_guest_init(rc->g, rc->p, &gc)) != 0)
        return err;
    if (rc->xb != NULL) {
        if ((err = xsim_xshost_create(rc->w, rc->hv, &rc->xs)) != 0 ||
            (err = xsim_xshost_add_guest(rc->xs, rc->d)) != 0)
            return err;
    }
    if ((err = build_devices(rc, s)) != 0)
        return err;
    for (size_t i = 0; i < s->nworkloads; i++) {
        const struct xsim_scn_workload *wl = &s->workloads[i];
        char stream[48];
        uint64_t stop = s->stop.time_ns > DRAIN_NS ? s->stop.time_ns - DRAIN_NS : s->stop.time_ns;
        if (wl->type == XSIM_WL_LOST_UPDATE)
            rc->lu_expected += 2 * (uint64_t)wl->iterations;
        if (wl->type != XSIM_WL_EVENTS)
            continue;
        snprintf(stream, sizeof(stream), "workload:%s", wl->name);
        struct xsim_evsource_config ec = {
            .backend = 0,
            .guest = 1,
            .rate_hz = wl->rate,
            .dist = (enum xsim_evsource_dist)wl->dist,
            .burst = (unsigned int)wl->burst,
            .start_ns = wl->start_ns,
            .count = wl->count,
            .stop_ns = wl->stop_ns != 0 && wl->stop_ns < stop ? wl->stop_ns : stop,
            .stream = stream,
        };
        if ((err = xsim_evsource_create(rc->w, rc->hv, &ec, &rc->src[i])) != 0)
            return err;
        struct xsim_events_params ep = {.wl = wl,
                                        .src = rc->src[i],
                                        .w = rc->w,
                                        .ncpus = (unsigned int)s->machine.vcpus,
                                        .total = &rc->ev_total};
        if ((err = xsim_events_create(&ep, &rc->ev[i])) != 0)
            return err;
    }
    return 0;
}

static void collect_workload(struct run_ctx *rc, const struct xsim_scenario *s, size_t i,
                             struct xsim_wl_result *r)
{
    const struct xsim_scn_workload *wl = &s->workloads[i];
    unsigned int n = (unsigned int)s->machine.vcpus;

    r->cpu = -1;
    r->type = wl->type;
    if (wl->type == XSIM_WL_BLOCK_IO && rc->bio[i] != NULL) {
        struct xsim_blkio_result b;
        xsim_blkio_result(rc->bio[i], &b);
        r->sent = b.submitted;
        r->handled = r->consumed = b.completed;
        r->reads = b.reads;
        r->writes = b.writes;
        r->flushes = b.flushes;
        r->barriers = b.barriers;
        r->discards = b.discards;
        r->errors = b.errors;
        r->unsupported = b.unsupported;
        r->refused = b.refused;
        r->retried = b.retried;
        r->refused_errno = b.refused_last_errno;
        r->refused_first_ns = b.refused_first_ns;
        r->verified = b.verified;
        r->verify_failed = b.verify_failed;
        r->latency_ns_mean = b.latency_ns_mean;
        r->latency_ns_p50 = b.latency_ns_p50;
        r->latency_ns_p99 = b.latency_ns_p99;
        r->latency_ns_max = b.latency_ns_max;
        r->cpu = wl->vcpu;
    } else if (wl->type == XSIM_WL_TIMER && rc->cs != NULL) {
        for (unsigned int c = 0; c < n; c++) {
            r->sent += rc->cs[c].armed;
            r->handled += rc->cs[c].fired;
            r->early += rc->cs[c].early;
        }
        r->consumed = r->handled;
    } else if (wl->type == XSIM_WL_IPI && rc->cs != NULL) {
        for (unsigned int c = 0; c < n; c++) {
            r->sent += rc->cs[c].ipi_sent;
            r->handled += rc->cs[c].ipi_runs;
        }
        r->consumed = r->handled;
        r->cpu = 0;
    }
}

static void service_name(const struct xsim_scn_workload *wl, char *buf, size_t size)
{
    static const char *const kinds[] = {"fixed", "exp", "lognormal", "hyperexp", "batch"};
    char d[32];

    xsim_format_duration(wl->service_ns, d, sizeof(d));
    if (wl->service_kind == XSIM_SVC_LOGNORMAL || wl->service_kind == XSIM_SVC_HYPEREXP)
        snprintf(buf, size, "%s:%s:%g", kinds[wl->service_kind], d, wl->service_cv);
    else
        snprintf(buf, size, "%s:%s", kinds[wl->service_kind], d);
}

static void collect_events(struct run_ctx *rc, const struct xsim_scenario *s, size_t i,
                           struct xsim_wl_result *r)
{
    const struct xsim_scn_workload *wl = &s->workloads[i];
    struct xsim_evsource_stats st;
    struct xsim_events_result er;
    uint64_t window;

    r->handled = rc->handled[i];
    r->cpu = rc->port[i] != 0 ? xg_evtchn_get_cpu(rc->g, rc->port[i]) : -1;
    xsim_evsource_stats(rc->src[i], &st);
    xsim_events_result(rc->ev[i], &er);
    if (rc->port[i] != 0) {
        struct xg_evtchn_port_stats ps;
        if (xg_evtchn_port_stats(rc->g, rc->port[i], &ps) == 0) {
            r->port_spurious = ps.spurious;
            r->port_throttled = ps.throttled;
        }
    }
    service_name(wl, r->service, sizeof(r->service));
    r->sent = st.sent;
    r->consumed = st.completed;
    r->unserved = st.sent - st.completed;
    r->wait = er.wait;
    r->sojourn = er.sojourn;
    r->service_time = er.service;
    r->sojourn_ns_mean_ci95 = er.sojourn_ci_ok ? er.sojourn_mean_ci95 : -1;
    r->empty_runs = er.empty_runs;
    r->acausal = er.acausal;
    r->idle_n = er.idle_n;
    r->idle_wait_mean = er.idle_wait_mean;
    memcpy(r->idle_ns_mean, er.idle_ns_mean, sizeof(r->idle_ns_mean));
    /* The send-to-handler latency of the oracles is the wait. */
    r->latency_ns_mean = (uint64_t)llround(er.wait.mean);
    r->latency_ns_p50 = er.wait.p50;
    r->latency_ns_p99 = er.wait.p99;
    r->latency_ns_max = er.wait.max;
    window = st.last_send_ns - st.first_send_ns;
    if (st.sent > 1 && window > 0) {
        r->arrival_rate_per_s = (double)(st.sent - 1) * 1e9 / (double)window;
        r->throughput_per_s = (double)st.completed * 1e9 / (double)window;
    }
    /* Little's law, L = lambda W: L as arrivals see it equals the time
     * average only for Poisson arrivals (PASTA), so only those are checked. */
    if (wl->dist == XSIM_WL_POISSON && !wl->spurious && st.sent >= 1000 && er.sojourn.n > 0) {
        r->little_checked = true;
        r->little_L = st.seen_in_system_mean;
        r->little_lambda_W = r->arrival_rate_per_s * er.sojourn.mean * 1e-9;
        r->little_L_ci95 = st.seen_in_system_ci95;
        r->little_lambda_W_ci95 =
            er.sojourn_ci_ok ? r->arrival_rate_per_s * er.sojourn_mean_ci95 * 1e-9 : -1;
    }
}

static void collect_events_all(struct run_ctx *rc, const struct xsim_scenario *s,
                               struct xsim_report *rep)
{
    struct xsim_wl_result *a = &rep->events_all;
    struct xsim_events_result er;
    double tput = 0;

    xsim_events_total_result(&rc->ev_total, &er);
    if (er.sojourn.n == 0)
        return;
    rep->has_events_all = true;
    snprintf(a->name, sizeof(a->name), "all");
    a->type = XSIM_WL_EVENTS;
    a->cpu = -1;
    for (size_t i = 0; i < s->nworkloads; i++) {
        if (rc->src[i] == NULL)
            continue;
        a->sent += rep->wl[i].sent;
        a->consumed += rep->wl[i].consumed;
        a->handled += rep->wl[i].handled;
        a->unserved += rep->wl[i].unserved;
        tput += rep->wl[i].throughput_per_s;
        a->arrival_rate_per_s += rep->wl[i].arrival_rate_per_s;
    }
    a->throughput_per_s = tput;
    snprintf(a->service, sizeof(a->service), "all");
    a->wait = er.wait;
    a->sojourn = er.sojourn;
    a->service_time = er.service;
    a->sojourn_ns_mean_ci95 = er.sojourn_ci_ok ? er.sojourn_mean_ci95 : -1;
    a->latency_ns_mean = (uint64_t)llround(er.wait.mean);
    a->latency_ns_p50 = er.wait.p50;
    a->latency_ns_p99 = er.wait.p99;
    a->latency_ns_max = er.wait.max;
}

static void collect_cpus(struct run_ctx *rc, const struct xsim_scenario *s, struct xsim_report *rep)
{
    uint64_t end = rep->stats.end_time_ns;

    for (unsigned int c = 0; c < rep->ncpus; c++) {
        struct xsim_vcpu *v = xsim_domain_vcpu(rc->d, c);
        struct xsim_vcpu_account a;
        uint64_t served, svc = 0;
        if (v == NULL || end == 0)
            continue;
        xsim_vcpu_account(v, end, &a);
        struct xg_cpu_stats gs;
        if (xg_cpu_stats(rc->g, c, &gs) == 0) {
            rep->cpu[c].upcalls = gs.upcalls;
            rep->cpu[c].empty_upcalls = gs.empty_upcalls;
            rep->cpu[c].deferred = gs.deferred;
        }
        for (size_t i = 0; i < s->nworkloads; i++) {
            if (rc->ev[i] != NULL)
                svc += xsim_events_cpu_service_ns(rc->ev[i], c, &served);
        }
        rep->cpu[c].busy_ns = a.busy_ns;
        rep->cpu[c].handler_ns = a.cost_ns[XSIM_COST_HANDLER];
        rep->cpu[c].service_ns = svc;
        rep->cpu[c].utilization = (double)a.busy_ns / (double)end;
        rep->cpu[c].handler_utilization = (double)a.cost_ns[XSIM_COST_HANDLER] / (double)end;
    }
}

static void collect_devices(struct run_ctx *rc, const struct xsim_scenario *s,
                            struct xsim_report *rep)
{
    rep->ndisks = s->ndisks;
    for (size_t i = 0; i < s->ndisks; i++) {
        struct xsim_disk_result *d = &rep->disk[i];
        struct xg_blkfront_info info;
        struct xg_blkfront_stats st;
        struct xsim_blkback *bb = rc->ts != NULL ? xsim_toolstack_disk(rc->ts, (unsigned)i) : NULL;

        snprintf(d->name, sizeof(d->name), "%s", s->disks[i].name);
        snprintf(d->state, sizeof(d->state), "not set up");
        if (!rc->bf_init[i])
            continue; /* the guest never got that far */
        if (xsim_world_guest_bug(rc->w)) {
            /* The vCPU that hit it may hold the frontend's lock for good. */
            snprintf(d->state, sizeof(d->state), "guest BUG");
            continue;
        }
        snprintf(d->state, sizeof(d->state), "%s",
                 xg_blkfront_state_name(xg_blkfront_state(rc->bf[i])));
        if (xg_blkfront_get_info(rc->bf[i], &info) == 0) {
            d->flush = info.flush;
            d->barrier = info.barrier;
            d->discard = info.discard;
            d->indirect_segs = info.indirect_segs;
            d->ring_pages = info.ring_pages;
        }
        xg_blkfront_get_stats(rc->bf[i], &st);
        d->requests = st.requests;
        d->barrier_fallbacks = st.barrier_fallbacks;
        d->flush_fallbacks = st.flush_fallbacks;
        d->requeued = st.requeued;
        d->bad_responses = st.bad_responses;
        d->connects = st.connects;
        if (bb != NULL) {
            struct xsim_blkback_stats bs;
            xsim_blkback_stats(bb, &bs);
            d->backend_requests = bs.requests;
            d->backend_errors = bs.errors + bs.bad_requests;
        }
        if (rc->power_lost[i]) {
            struct xsim_storage_stats ss;
            xsim_storage_stats(rc->storage[i], &ss);
            d->power_loss_ns = s->disks[i].power_loss_ns;
            d->lost_sectors = ss.lost_sectors;
            d->durable_checked = rc->durable[i].checked;
            d->durable_bad = rc->durable[i].bad;
            snprintf(d->durable_detail, sizeof(d->durable_detail), "%s", rc->durable[i].detail);
        }
    }
    if (rc->ts != NULL) {
        struct xsim_toolstack_stats ts;
        xsim_toolstack_get_stats(rc->ts, &ts);
        rep->migration.requested = ts.requested;
        rep->migration.suspended = ts.suspended;
        rep->migration.migrated = ts.migrated;
        rep->migration.cancelled = ts.cancelled;
        rep->migration.failed = ts.failed;
        rep->migration.downtime_ns_max = ts.downtime_ns_max;
        rep->migration.ack_ns_max = ts.ack_ns_max;
    }
    rep->migration.guest_resumed = rc->suspend_rc0;
    rep->migration.guest_cancelled = rc->suspend_rc1;
    rep->migration.clock_backwards = rc->suspend_backwards;
    for (unsigned int c = 0; rc->cs != NULL && c < (unsigned int)s->machine.vcpus; c++)
        rep->migration.clock_backwards += rc->cs[c].backwards;
    if (rc->tm != NULL)
        snprintf(rep->timer_kind, sizeof(rep->timer_kind), "%s",
                 xg_timer_kind_name(xg_timer_kind(rc->tm)));
    if (rc->ipi != NULL)
        snprintf(rep->ipi_mode, sizeof(rep->ipi_mode), "%s",
                 xg_ipi_mode_name(xg_ipi_mode(rc->ipi)));
    if (rc->clk != NULL)
        snprintf(rep->clock_source, sizeof(rep->clock_source), "%s",
                 xg_clock_source_name(xg_clock_source(rc->clk)));
}

static void collect(struct run_ctx *rc, const struct xsim_scenario *s, struct xsim_report *rep)
{
    const struct xg_features *f = xg_guest_features(rc->g);

    rep->digest = xsim_world_digest(rc->w);
    rep->stats = *xsim_world_stats(rc->w);
    if (xsim_world_failure(rc->w) != NULL)
        snprintf(rep->failure, sizeof(rep->failure), "%s", xsim_world_failure(rc->w));
    if (xsim_world_replay_error(rc->w) != NULL)
        snprintf(rep->replay_error, sizeof(rep->replay_error), "%s",
                 xsim_world_replay_error(rc->w));
    (void)xsim_choices_copy(&rep->choices, xsim_world_choices(rc->w));
    rep->boot_rc = rc->boot_rc;
    rep->xen = f->xen;
    rep->xen_version = f->version;
    rep->xenfeat = f->xenfeat;
    snprintf(rep->callback, sizeof(rep->callback), "%s",
             xg_callback_name(xg_guest_callback(rc->g)));
    rep->percpu_events = xg_guest_percpu_events(rc->g);
    rep->ncpus = (unsigned int)s->machine.vcpus;
    for (unsigned int c = 0; c < rep->ncpus; c++) {
        struct xg_cpu_stats cs;
        if (xg_cpu_stats(rc->g, c, &cs) == 0)
            rep->cpu_events[c] = cs.events;
    }
    collect_devices(rc, s, rep);
    collect_cpus(rc, s, rep);
    rep->nwl = s->nworkloads;
    for (size_t i = 0; i < s->nworkloads; i++) {
        struct xsim_wl_result *r = &rep->wl[i];
        snprintf(r->name, sizeof(r->name), "%s", s->workloads[i].name);
        collect_workload(rc, s, i, r);
        if (rc->src[i] != NULL)
            collect_events(rc, s, i, r);
    }
    collect_events_all(rc, s, rep);
}

int xsim_run(const struct xsim_scenario *s, const struct xsim_run_options *opt,
             struct xsim_report *rep, FILE *trace_jsonl, FILE *trace_chrome)
{
    struct run_ctx rc;
    struct xsim_world_config wc;
    struct xsim_cost_profile cp;
    struct xsim_policy *pol = opt != NULL ? opt->policy : NULL, *own = NULL;
    struct xsim_error perr;
    int err;

    memset(rep, 0, sizeof(*rep));
    memset(&rc, 0, sizeof(rc));
    xsim_events_total_init(&rc.ev_total);
    rc.s = s;
    rep->all_pass = true;
    snprintf(rep->scenario, sizeof(rep->scenario), "%s", s->name);
    rep->seed = opt != NULL && opt->seed_set ? opt->seed : s->seed;
    if (pol == NULL) {
        own = pol = xsim_policy_create(s->policy, &perr);
        if (pol == NULL) {
            snprintf(rep->failure, sizeof(rep->failure), "%s", perr.text);
            return -EINVAL;
        }
    }
    snprintf(rep->policy, sizeof(rep->policy), "%s", xsim_policy_spec(pol));
    if ((err = load_costs(s, &cp, rep)) != 0)
        goto out;
    xsim_world_config_init(&wc);
    wc.seed = rep->seed;
    wc.costs = &cp;
    wc.quantum_ns = s->machine.quantum_ns;
    wc.backend =
        (enum xsim_backend)(opt != NULL && opt->backend != 0 ? opt->backend : s->machine.backend);
    wc.time_limit_ns = s->stop.time_ns;
    wc.max_events = s->stop.events;
    wc.max_decisions = s->stop.decisions;
    wc.keep_trace = (opt != NULL && opt->keep_trace) || trace_jsonl != NULL || trace_chrome != NULL;
    rc.realtime = opt != NULL && opt->realtime;
    wc.log = opt != NULL ? opt->log : NULL;
    if (opt != NULL && opt->xenstore_socket != NULL) {
        rc.xb = calloc(1, sizeof(*rc.xb));
        if (rc.xb == NULL) {
            err = -ENOMEM;
            goto out;
        }
    }
    if ((err = build(&rc, s, pol, &wc)) != 0) {
        if (rep->failure[0] == '\0')
            snprintf(rep->failure, sizeof(rep->failure), "cannot set up the run: %s",
                     strerror(-err));
        goto out;
    }
    if (opt != NULL && opt->xenstore_socket != NULL) {
        /* Writing to a client that went away must be an error, not death. */
        signal(SIGPIPE, SIG_IGN);
        if (uv_loop_init(&rc.loop) != 0) {
            err = -ENOMEM;
            goto out;
        }
        rc.loop_ok = true;
        err =
            xsim_xs_listen_unix(xsim_xshost_store(rc.xs), &rc.loop, opt->xenstore_socket, &rc.srv);
        if (err != 0) {
            snprintf(rep->failure, sizeof(rep->failure), "cannot listen on %s: %s",
                     opt->xenstore_socket, uv_strerror(err));
            goto out;
        }
    }
    if (rc.loop_ok || rc.realtime) {
        rc.wall0 = wall_s();
        xsim_event_schedule(rc.w, 0, 0x58535057, host_poll, &rc);
    }
    snprintf(rep->backend, sizeof(rep->backend), "%s", xsim_backend_name(xsim_world_backend(rc.w)));
    rep->stop = xsim_world_run(rc.w);

    collect(&rc, s, rep);
    check_oracles(s, &rc, rep);
    check_laws(s, &rc, rep);
    if (trace_jsonl != NULL)
        (void)xsim_trace_write_jsonl(rc.w, trace_jsonl);
    if (trace_chrome != NULL)
        (void)xsim_trace_write_chrome(rc.w, trace_chrome);
out:
    /* Backends unmap what they mapped of guest RAM while it still exists:
     * no simulated code runs any more (the run is over or never began). */
    xsim_toolstack_destroy(rc.ts);
    rc.ts = NULL;
    /* Then the world: its threads still hold pointers into the rest. */
    xsim_world_destroy(rc.w);
    if (rc.srv != NULL)
        xsim_xs_server_close(rc.srv);
    if (rc.loop_ok) {
        uv_run(&rc.loop, UV_RUN_DEFAULT); /* let the closes complete */
        uv_loop_close(&rc.loop);
    }
    xsim_xshost_destroy(rc.xs);
    for (size_t i = 0; i < XSIM_SCN_MAX_DISKS; i++)
        xsim_storage_destroy(rc.storage[i]);
    free_guest_parts(&rc);
    free(rc.g);
    free(rc.xb);
    for (size_t i = 0; i < XSIM_SCN_MAX_WORKLOADS; i++) {
        xsim_events_destroy(rc.ev[i]);
        xsim_evsource_destroy(rc.src[i]);
    }
    xsim_events_total_free(&rc.ev_total);
    xsim_hv_destroy(rc.hv);
    xsim_policy_destroy(own);
    return err;
}

void xsim_report_free(struct xsim_report *rep)
{
    xsim_choices_free(&rep->choices);
}
