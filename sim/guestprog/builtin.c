/*
 * builtin.c - xensim's own guest program, the one a GENERIC kernel would
 * run, built from libxenguest against the guest-program interface like
 * any other program.
 *
 * CPU 0 boots (detection, shared_info, callback set-up with fallbacks) and
 * starts the other CPUs with an IPI; each registers its vcpu_info. With
 * timers, IPIs, disks or migrations CPU 0 then sets up the clock, per-CPU
 * event timers and IPIs (every CPU arms its own), binds the devices' event
 * channels, connects xenbus, a blkfront per disk and the suspend handler,
 * and says it is ready. Every CPU then idles taking upcalls, running the
 * machine's work for it (env->work: ticks, block I/O, IPIs) from its idle
 * loop, multiplexed on its one event timer.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xensim/guest/xg_blkfront.h"
#include "xensim/guest/xg_evtchn.h"
#include "xensim/guest/xg_gnttab.h"
#include "xensim/guest/xg_ipi.h"
#include "xensim/guest/xg_suspend.h"
#include "xensim/guest/xg_time.h"
#include "xensim/guest/xg_timer.h"
#include "xensim/guest/xg_xenbus.h"
#include "xensim/guestprog.h"
#include "xensim/scenario.h"

#include "guestprog/bi_split.h"

#define WAKE_VECTOR    0x30

struct bi;
struct bi_dev;

/* One binding of a device's port, what a driver's softc holds: the
 * handler's argument. Bindings are numbered as the machine numbers them
 * (env->serve_binding): 0 at set-up, one more after each close. A closed
 * binding is torn down but kept until the end, so that a handler still
 * running with it is counted by the machine instead of reading freed
 * memory. */
struct bi_bind {
    struct bi_dev *d;
    uint32_t binding;
    struct bi_bind *older; /* the bindings closed before, newest first */
};

struct bi_dev {
    struct bi *b;
    unsigned int dev;     /* index in env->devices */
    evtchn_port_t port;   /* our end, 0 until bound */
    struct bi_bind first; /* binding 0 */
    struct bi_bind *sc;   /* the live binding */
    uint64_t close_every; /* the workload's close_every_ns; 0: never */
    uint64_t next_close;  /* guest_now() time of the next close */
    /* After a resume: 1 + the CPU that looks at the device's "ring" once
     * it is back (its port's CPU); 0 when there is nothing to look at. */
    volatile uint32_t look;
};

struct bi_cpu {
    uint64_t expiries; /* event timer expiries seen (the idle loop's wakeup check) */
    bool has_timer;
};

/* The program's state: what a kernel keeps in its .bss. */
struct bi {
    const struct xsim_guest_env *env;
    const struct xsim_scenario *s;
    const struct xg_platform *p;
    struct xg_guest *g;
    struct xg_xenbus *xb;
    struct xg_gnttab *gt;
    struct xg_blkfront *bf[XSIM_SCN_MAX_DISKS];
    bool bf_init[XSIM_SCN_MAX_DISKS]; /* xg_blkfront_init succeeded */
    struct bi_split_disk blk[XSIM_SCN_MAX_DISKS]; /* the block layer above each */
    struct xg_clock *clk;
    struct xg_timers *tm;
    struct xg_ipi *ipi;
    struct xg_suspend *sus;
    void *own_clk, *own_tm, *own_ipi, *own_sus; /* what to free: the pointers above
                                                   go NULL when set-up fails */
    bool need_time, need_ipi;
    struct bi_dev dev[XSIM_SCN_MAX_WORKLOADS];
    struct bi_cpu cpu[XSIM_MAX_VCPUS];
    volatile uint32_t started, nup, all_up, nup2, go;
    int boot_rc;
    int xenbus_rc;
    uint64_t next_rebalance;
    volatile uint32_t closer; /* CPU + 1 closing a device's port now, 0: none */
    bool any_close;           /* some device is closed and bound again periodically */
};

/* Guest-side structures live in memory the guest code owns (a kernel's
 * .bss); cache-line aligned and zeroed. */
static void *guest_alloc(size_t size)
{
    size_t sz = (size + 63) / 64 * 64;
    void *m = aligned_alloc(64, sz);

    if (m != NULL)
        memset(m, 0, sz);
    return m;
}

static void bi_logf(struct bi *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A milestone of the guest program, for --log. */
static void bi_logf(struct bi *b, const char *fmt, ...)
{
    char line[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    xg_log(b->p, XG_LOG_INFO, line);
}

static void setup_fail(struct bi *b, const char *what, int err)
{
    xg_log(b->p, XG_LOG_ERR, what);
    b->env->setup_failed(b->env, what, err);
}

static void wait_u32(struct bi *b, volatile uint32_t *flag, uint32_t value)
{
    xg_wait_u32(b->p, flag, value);
}

static void wake(struct bi *b, int cpu)
{
    if (b->env->ncpus > 1)
        (void)xg_kick(b->p, cpu, WAKE_VECTOR);
}

/* ---- devices ---- */

static int events_handler(struct xg_guest *g, evtchn_port_t port, void *arg)
{
    struct bi_bind *sc = arg;
    const struct xsim_guest_env *env = sc->d->b->env;
    unsigned int cpu = xg_cpu(g->p);
    uint64_t n;

    (void)port;
    /* Like a driver reading its device's ring: serve every item there. A
     * run that finds the ring empty (its items were served by the run
     * before, which the new sends' notifications could not know) did
     * nothing, as the storm throttle counts it. A device whose port is
     * closed and bound again serves with its binding's number, so that
     * the machine sees a handler that outlived its port's close. */
    if (sc->d->close_every != 0)
        n = env->serve_binding(env, sc->d->dev, sc->binding, cpu);
    else
        n = env->serve(env, sc->d->dev, cpu);
    return n != 0 ? XG_EVTCHN_HANDLED : XG_EVTCHN_SPURIOUS;
}

static int bind_device(struct bi *b, struct bi_dev *d)
{
    const struct xsim_guest_device *gd = &b->env->devices[d->dev];
    int err;

    err = xg_evtchn_bind_interdomain(b->g, gd->backend_domid, gd->backend_port, events_handler,
                                     d->sc, &d->port);
    if (err != 0)
        return err;
    if (gd->cpu >= 0)
        (void)xg_evtchn_set_cpu(b->g, d->port, (unsigned int)gd->cpu);
    return xg_evtchn_unmask(b->g, d->port);
}

/* The time the program's periodic work (closes, rebalancing) is scheduled
 * by, in ns: the guest's clock where it keeps one (always with migrations,
 * where a new host's TSC may count at another rate), else the TSC, which
 * counts ns on a host that never changes. */
static uint64_t guest_now(struct bi *b)
{
    return b->clk != NULL ? xg_clock_now(b->clk) : xg_rdtsc(b->p);
}

static void bind_devices(struct bi *b)
{
    const struct xsim_guest_env *env = b->env;

    for (unsigned int i = 0; i < env->ndevices; i++) {
        struct bi_dev *d = &b->dev[i];
        int err;
        d->b = b;
        d->dev = i;
        d->first.d = d;
        d->sc = &d->first;
        d->close_every = b->s->workloads[env->devices[i].workload].close_every_ns;
        if (d->close_every != 0) {
            d->next_close = guest_now(b) + d->close_every;
            b->any_close = true;
        }
        if ((err = bind_device(b, d)) != 0) {
            char what[96];
            snprintf(what, sizeof(what), "binding device %s", env->devices[i].name);
            setup_fail(b, what, err);
            continue;
        }
        (void)env->start_device(env, i);
    }
}

/* Close and reuse: a driver detaching from its device and attaching again
 * while the device keeps sending. The close is made here, on a CPU other
 * than the one the port's handler runs on, so that handler may be running
 * meanwhile: xg_evtchn_close must not return before it is done
 * (invariants.md, evtchn 7). Once it returned, the binding is torn down
 * (the machine told at once: no scheduling point lies between the close's
 * return and the call) and a new one bound to the same backend port; Xen
 * allocates the lowest free port, so it usually gets the same number. */
static void close_reuse_one(struct bi *b, struct bi_dev *d)
{
    const struct xsim_guest_env *env = b->env;
    struct bi_bind *sc = malloc(sizeof(*sc));
    evtchn_port_t port = d->port;
    int err;

    if (sc == NULL)
        return; /* keep the binding; try again at the next period */
    if ((err = xg_evtchn_close(b->g, port)) != 0) {
        free(sc);
        setup_fail(b, "closing a device's port", err);
        return;
    }
    env->port_closed(env, d->dev, port);
    sc->d = d;
    sc->binding = d->sc->binding + 1;
    sc->older = d->sc;
    d->sc = sc;
    d->port = 0;
    if ((err = bind_device(b, d)) != 0)
        setup_fail(b, "binding a device again after closing its port", err);
}

/* A close of `d` is due at `now`, and its handler runs on a CPU other
 * than `cpu`. */
static bool close_due(struct bi *b, const struct bi_dev *d, unsigned int cpu, uint64_t now)
{
    return d->close_every != 0 && d->port != 0 && now >= d->next_close &&
           xg_evtchn_get_cpu(b->g, d->port) != (int)cpu;
}

/* From CPU `cpu`'s idle loop: close and bind again each device whose
 * period is due and whose handler runs elsewhere. One close at a time in
 * the guest. The clock is read once to find whether any close is due (with
 * a guest clock each read is a pvclock read, several scheduling points,
 * and this runs on every pass of every idle loop). A suspend never finds a
 * close half done: the other CPUs park from this loop, after it, and CPU 0
 * suspends from it, before it. */
static void close_reuse(struct bi *b, unsigned int cpu)
{
    const struct xg_platform *p = b->p;
    uint32_t none = 0;
    bool due = false;
    uint64_t now;

    if (!b->any_close)
        return;
    now = guest_now(b);
    for (unsigned int i = 0; i < b->env->ndevices && !due; i++)
        due = close_due(b, &b->dev[i], cpu, now);
    if (!due || !xg_cmpxchg_u32(p, &b->closer, &none, cpu + 1))
        return;
    /* Due again under the claim: another CPU may have closed it since, and
     * each close takes time. */
    for (unsigned int i = 0; i < b->env->ndevices; i++) {
        struct bi_dev *d = &b->dev[i];
        if (!close_due(b, d, cpu, guest_now(b)))
            continue;
        close_reuse_one(b, d);
        d->next_close = guest_now(b) + d->close_every;
    }
    xg_write_u32(p, &b->closer, 0);
}

static int ev_suspend(void *arg)
{
    (void)arg;
    return 0;
}

/* After a resume: on a new host the device's channel is new; either way,
 * the "ring" is looked at once, as a driver does after reconnecting. Not
 * here, with the other CPUs still parked, but by the CPU the device's port
 * is bound to once the CPUs are back, as a driver's deferred work or
 * interrupt handler would (look_after_resume). */
static int ev_resume(void *arg, bool new_host)
{
    struct bi_dev *d = arg;
    struct bi *b = d->b;
    const struct xsim_guest_env *env = b->env;
    int err, cpu;

    if (new_host) {
        if ((err = env->reconnect(env, d->dev, NULL)) != 0 || (err = bind_device(b, d)) != 0)
            return err;
    }
    if (!env->devices[d->dev].spurious) {
        cpu = xg_evtchn_get_cpu(b->g, d->port);
        xg_write_u32(b->p, &d->look, cpu >= 0 && (unsigned int)cpu < env->ncpus ? cpu + 1 : 1);
    }
    return 0;
}

/* On `cpu`, back from a suspend (CPU 0 once xg_suspend_run returned, the
 * others once they unparked): look at the rings left to it. */
static void look_after_resume(struct bi *b, unsigned int cpu)
{
    const struct xsim_guest_env *env = b->env;

    for (unsigned int i = 0; i < env->ndevices; i++) {
        struct bi_dev *d = &b->dev[i];
        uint32_t mine = cpu + 1;
        if (xg_read_u32(b->p, &d->look) == mine && xg_cmpxchg_u32(b->p, &d->look, &mine, 0))
            (void)env->serve(env, d->dev, cpu);
    }
}

static int bf_suspend(void *arg)
{
    return xg_blkfront_suspend(arg);
}

static int bf_resume(void *arg, bool new_host)
{
    return xg_blkfront_resume(arg, new_host);
}

/* Halt (timer-driven) until fn(arg) holds: for waits on state that other
 * CPUs' upcalls change. */
static void poll_wait(struct bi *b, bool (*fn)(void *), void *arg)
{
    const struct xg_platform *p = b->p;
    bool was = xg_irq_save(p);

    while (!fn(arg)) {
        (void)xg_timer_set_in(b->tm, 100000);
        xg_halt(p);
        (void)xg_irq_save(p);
    }
    xg_irq_restore(p, was);
}

static bool bf_settled(void *arg)
{
    enum xg_blkfront_state st = xg_blkfront_state(arg);

    return st == XG_BLKFRONT_CONNECTED || st == XG_BLKFRONT_ERROR;
}

static void disks_up(struct bi *b)
{
    const struct xsim_guest_env *env = b->env;
    int err;

    if (env->ndisks == 0)
        return;
    if ((err = xg_gnttab_init(b->gt, b->g, 4)) != 0) {
        setup_fail(b, "xg_gnttab_init", err);
        return;
    }
    for (unsigned int i = 0; i < env->ndisks; i++) {
        struct xg_blkfront_config bc;
        xg_blkfront_config_init(&bc, env->disks[i].devid);
        bc.ring_pages = env->disks[i].ring_pages;
        bc.use_indirect = env->disks[i].indirect;
        if ((err = xg_blkfront_init(b->bf[i], b->g, b->xb, b->gt, &bc)) == 0) {
            bi_split_init(&b->blk[i], b->p, b->bf[i]);
            b->bf_init[i] = true;
        }
        if (err != 0 || (err = xg_blkfront_attach(b->bf[i])) != 0) {
            setup_fail(b, "blkfront attach", err);
            return;
        }
    }
    for (unsigned int i = 0; i < env->ndisks; i++) {
        struct xg_blkfront_info info;
        poll_wait(b, bf_settled, b->bf[i]);
        if (xg_blkfront_state(b->bf[i]) != XG_BLKFRONT_CONNECTED) {
            setup_fail(b, "blkfront connect", -EIO);
        } else if (xg_blkfront_get_info(b->bf[i], &info) == 0) {
            bi_logf(b,
                    "disk %s connected: %llu sectors, ring %u pages, indirect %u, flush %d, "
                    "barrier %d, discard %d%s",
                    env->disks[i].name, (unsigned long long)info.sectors, info.ring_pages,
                    info.indirect_segs, info.flush, info.barrier, info.discard,
                    info.cdrom ? ", cdrom" : "");
        }
    }
}

static void suspend_up(struct bi *b)
{
    const struct xsim_guest_env *env = b->env;
    struct xg_suspend_parts parts = {.xb = b->xb,
                                     .gt = env->ndisks > 0 ? b->gt : NULL,
                                     .clk = b->clk,
                                     .timers = b->tm,
                                     .ipi = b->ipi,
                                     .kick_vector = WAKE_VECTOR};
    int err;

    if (b->sus == NULL)
        return;
    if ((err = xg_suspend_init(b->sus, b->g, &parts)) != 0) {
        setup_fail(b, "xg_suspend_init", err);
        b->sus = NULL;
        return;
    }
    for (unsigned int i = 0; i < env->ndevices; i++) {
        if (b->dev[i].port == 0)
            continue;
        struct xg_suspend_dev d = {.name = env->devices[i].name,
                                   .suspend = ev_suspend,
                                   .resume = ev_resume,
                                   .arg = &b->dev[i]};
        (void)xg_suspend_register(b->sus, &d);
    }
    for (unsigned int i = 0; i < env->ndisks; i++) {
        struct xg_suspend_dev d = {
            .name = env->disks[i].name, .suspend = bf_suspend, .resume = bf_resume, .arg = b->bf[i]};
        (void)xg_suspend_register(b->sus, &d);
    }
}

/* ---- timers, IPIs ---- */

/* The CPU's event timer expired (interrupt context): the machine accounts
 * the tick; the idle loop that resumes after it re-arms. */
static void timer_fired(struct xg_timers *t, unsigned int cpu, uint64_t deadline_ns,
                        uint64_t now_ns, void *arg)
{
    struct bi *b = arg;

    (void)t;
    b->cpu[cpu].expiries++;
    b->env->timer_expired(b->env, cpu, deadline_ns, now_ns);
}

static void ipi_handler(struct xg_ipi *ipi, unsigned int cpu, enum xg_ipi_kind kind, void *arg)
{
    struct bi *b = arg;

    (void)ipi;
    (void)kind;
    b->env->ipi_handled(b->env, cpu);
}

/* CPU 0 after the others came up: clock, timers and IPIs on every CPU. */
static void time_up(struct bi *b)
{
    struct xg_ipi_config ic;
    int err;

    if (!b->need_time)
        return;
    if ((err = xg_clock_init(b->clk, b->g, NULL)) != 0) {
        setup_fail(b, "xg_clock_init", err);
        b->clk = NULL;
        b->tm = NULL;
        b->ipi = NULL;
        return;
    }
    if ((err = xg_timers_init(b->tm, b->g, b->clk, NULL)) != 0) {
        setup_fail(b, "xg_timers_init", err);
        b->tm = NULL;
        b->ipi = NULL;
        return;
    }
    if (b->need_ipi) {
        xg_ipi_config_init(&ic);
        for (int k = 0; k < XG_IPI__COUNT; k++) {
            ic.fn[k] = ipi_handler;
            ic.arg[k] = b;
        }
        if ((err = xg_ipi_init(b->ipi, b->g, &ic)) != 0) {
            setup_fail(b, "xg_ipi_init", err);
            b->ipi = NULL;
        }
    }
}

static void time_cpu_up(struct bi *b, unsigned int cpu)
{
    if (b->tm != NULL)
        b->cpu[cpu].has_timer = xg_timer_cpu_init(b->tm, timer_fired, b) == 0;
    if (b->ipi != NULL)
        (void)xg_ipi_cpu_init(b->ipi);
}

static void run_suspend(struct bi *b)
{
    uint64_t before = b->clk != NULL ? xg_clock_now(b->clk) : 0;
    int r = xg_suspend_run(b->sus);

    b->env->suspended(b->env, r, before);
    bi_logf(b, "suspend returned %d (%s); callback %s, timer %s, IPIs %s", r,
            r == 0   ? "a new host"
            : r == 1 ? "cancelled"
                     : "failed",
            xg_callback_name(xg_guest_callback(b->g)),
            b->tm != NULL ? xg_timer_kind_name(xg_timer_kind(b->tm)) : "none",
            b->ipi != NULL ? xg_ipi_mode_name(xg_ipi_mode(b->ipi)) : "none");
}

/* One CPU's share of the machine's work, from its idle loop (interrupts
 * on): arm the timer for the next thing due. */
static void cpu_work(struct bi *b, unsigned int cpu)
{
    uint64_t next;

    if (b->clk == NULL || b->tm == NULL || !b->cpu[cpu].has_timer)
        return;
    next = b->env->work(b->env, cpu);
    if (next != UINT64_MAX)
        (void)xg_timer_set(b->tm, next);
}

/* The planted bug: a plain read and a plain write, no lock. */
static void lost_update(struct bi *b, unsigned int cpu)
{
    const struct xsim_guest_env *env = b->env;

    if (cpu > 1 || env->lost_update_counter == NULL)
        return;
    for (uint64_t k = 0; k < env->lost_update_iterations; k++) {
        uint64_t v = xg_read_u64(b->p, env->lost_update_counter);
        xg_write_u64(b->p, env->lost_update_counter, v + 1);
    }
}

/* ---- entry points ---- */

static void boot_cpu0(struct bi *b)
{
    const struct xg_platform *p = b->p;
    const struct xsim_guest_env *env = b->env;
    uint32_t others = env->ncpus - 1;

    xg_write_u32(p, &b->started, 1);
    wake(b, -1);
    wait_u32(b, &b->nup, others);
    time_up(b);
    time_cpu_up(b, 0);
    xg_write_u32(p, &b->all_up, 1);
    wake(b, -1);
    wait_u32(b, &b->nup2, others);
    bind_devices(b);
    if (b->xb != NULL) {
        b->xenbus_rc = xg_xenbus_init(b->xb, b->g);
        if (b->xenbus_rc == 0) {
            /* Say hello where a person with the real tools will look. */
            (void)xg_xenbus_write(b->xb, 0, "data/xensim/scenario", env->scenario_name);
            (void)xg_xenbus_write(b->xb, 0, "data/xensim/callback",
                                  xg_callback_name(xg_guest_callback(b->g)));
            if (b->tm != NULL)
                disks_up(b);
            else if (env->ndisks > 0)
                setup_fail(b, "disks need the guest's timers; timers", -ENODEV);
            suspend_up(b);
        } else if (env->ndisks > 0 || b->sus != NULL) {
            setup_fail(b, "xg_xenbus_init", b->xenbus_rc);
        }
    }
    bi_logf(b, "set up: callback %s, clock %s, timer %s, IPIs %s",
            xg_callback_name(xg_guest_callback(b->g)),
            b->clk != NULL ? xg_clock_source_name(xg_clock_source(b->clk)) : "none",
            b->tm != NULL ? xg_timer_kind_name(xg_timer_kind(b->tm)) : "none",
            b->ipi != NULL ? xg_ipi_mode_name(xg_ipi_mode(b->ipi)) : "none");
    env->ready(env);
    xg_write_u32(p, &b->go, 1);
    wake(b, -1);
}

static void bi_start(void *state, unsigned int cpu)
{
    struct bi *b = state;
    const struct xg_platform *p = b->p;

    if (cpu == 0) {
        b->boot_rc = xg_guest_boot(b->g);
        if (b->boot_rc != 0) {
            b->env->setup_failed(b->env, "boot", b->boot_rc);
            return;
        }
        boot_cpu0(b);
    } else {
        wait_u32(b, &b->started, 1);
        int up = xg_guest_cpu_up(b->g);
        xg_fetch_add_u32(p, &b->nup, 1);
        wake(b, 0);
        if (up != 0)
            return;
        wait_u32(b, &b->all_up, 1);
        time_cpu_up(b, cpu);
        xg_fetch_add_u32(p, &b->nup2, 1);
        wake(b, 0);
        wait_u32(b, &b->go, 1);
    }
    xg_irq_restore(p, true);
    lost_update(b, cpu);
    for (;;) {
        uint64_t expiries = b->cpu[cpu].expiries;

        cpu_work(b, cpu);
        /* Checks with interrupts off, so a request or a kick that arrives
         * after them still ends the halt (sti; hlt is atomic). */
        (void)xg_irq_save(p);
        if (b->cpu[cpu].expiries != expiries) {
            /* The timer expired while cpu_work ran (it may have been the
             * deadline cpu_work had just armed): its work is still to do,
             * and nothing else would wake this CPU for it. */
            xg_irq_restore(p, true);
            continue;
        }
        if (b->sus != NULL && cpu == 0 && xg_suspend_requested(b->sus)) {
            xg_irq_restore(p, true);
            run_suspend(b);
            look_after_resume(b, cpu);
            continue;
        }
        if (b->sus != NULL && cpu != 0 && xg_suspend_cpu_poll(b->sus)) {
            xg_irq_restore(p, true);
            look_after_resume(b, cpu);
            continue;
        }
        xg_guest_idle(b->g);
        if (cpu == 0 && b->s->guest.rebalance_every_ns != 0 && guest_now(b) >= b->next_rebalance) {
            (void)xg_evtchn_rebalance(b->g);
            b->next_rebalance = guest_now(b) + b->s->guest.rebalance_every_ns;
        }
        close_reuse(b, cpu);
    }
}

static void bi_interrupt(void *state, unsigned int cpu, uint8_t vector)
{
    struct bi *b = state;

    (void)cpu;
    if (vector == WAKE_VECTOR) {
        xg_eoi(b->p);
        return;
    }
    if (b->tm != NULL && xg_timer_interrupt(b->tm, vector))
        return;
    if (b->ipi != NULL && xg_ipi_interrupt(b->ipi, vector))
        return;
    xg_guest_interrupt(b->g, vector);
}

static uint64_t bi_clock_ns(void *state)
{
    struct bi *b = state;

    return b->clk != NULL ? xg_clock_now(b->clk) : 0;
}

static int bi_send_ipi(void *state, unsigned int cpu)
{
    struct bi *b = state;

    if (b->ipi == NULL)
        return -ENODEV;
    return xg_ipi_send(b->ipi, (int)cpu, XG_IPI_CALL) < 0 ? -EIO : 0;
}

static int bi_blk_submit(void *state, unsigned int disk, struct xg_blk_io *io)
{
    struct bi *b = state;

    if (disk >= b->env->ndisks || !b->bf_init[disk])
        return -ENODEV;
    return bi_split_submit(&b->blk[disk], io);
}

/* A watch the machine's XenStore workload asked for fired: say so (the
 * machine matches it against what the daemon queued). */
static void xs_watch_cb(struct xg_xenbus *xb, const char *path, const char *token, void *arg)
{
    struct bi *b = arg;

    (void)xb;
    b->env->xs_watch_fired(b->env, xg_cpu(b->p), path, token);
}

static int bi_xs_request(void *state, unsigned int cpu, struct xsim_xs_op *op)
{
    struct bi *b = state;
    int rc;

    (void)cpu;
    if (b->xb == NULL || b->xenbus_rc != 0)
        return -ENODEV;
    op->reply_len = 0;
    switch (op->kind) {
    case XSIM_XS_OP_WRITE:
        return xg_xenbus_write(b->xb, op->tx, op->path, op->value);
    case XSIM_XS_OP_READ:
        rc = xg_xenbus_read(b->xb, op->tx, op->path, op->reply, op->reply_size);
        if (rc < 0)
            return rc;
        op->reply_len = (uint32_t)rc;
        return 0;
    case XSIM_XS_OP_DIRECTORY: {
        const char *parts[] = {op->path};
        uint32_t len = 0;
        rc = xg_xenbus_request(b->xb, XS_DIRECTORY, op->tx, parts, 1, op->reply, op->reply_size,
                               &len);
        if (rc != 0)
            return rc;
        if (len >= op->reply_size)
            return -E2BIG;
        op->reply_len = len;
        return 0;
    }
    case XSIM_XS_OP_TXN_START:
        return xg_xenbus_transaction_start(b->xb, &op->tx);
    case XSIM_XS_OP_TXN_END:
        return xg_xenbus_transaction_end(b->xb, op->tx, op->commit);
    case XSIM_XS_OP_WATCH:
        return xg_xenbus_watch(b->xb, op->path, op->token, xs_watch_cb, b);
    default:
        return -EINVAL;
    }
}

/* Clock and timers: for block I/O, suspends, ticks, IPIs and XenStore
 * rounds (their latencies and periods are program-clock times). */
static bool needs_time(const struct xsim_scenario *s)
{
    return (xsim_scenario_guest_needs(s) & (XSIM_GUEST_BLOCK_IO | XSIM_GUEST_SUSPEND |
                                             XSIM_GUEST_TIMER | XSIM_GUEST_IPI |
                                             XSIM_GUEST_XENSTORE)) != 0;
}

/* PV IPIs: for the IPI workloads and for suspends (parking the CPUs). */
static bool needs_ipi(const struct xsim_scenario *s)
{
    return (xsim_scenario_guest_needs(s) & (XSIM_GUEST_SUSPEND | XSIM_GUEST_IPI)) != 0;
}

static int bi_init(void *state, const struct xsim_guest_env *env)
{
    struct bi *b = state;
    const struct xsim_scenario *s = env->scenario;
    struct xg_guest_config gc;

    b->env = env;
    b->s = s;
    b->p = env->p;
    if (env->ncpus > XSIM_MAX_VCPUS || env->ndevices > XSIM_SCN_MAX_WORKLOADS ||
        env->ndisks > XSIM_SCN_MAX_DISKS)
        return -E2BIG;
    b->need_time = needs_time(s);
    b->need_ipi = needs_ipi(s);
    /* Not zeroed here: xg_guest_init sets up what it uses, and the port
     * table (most of its size) lazily, so untouched pages stay untouched. */
    if ((b->g = aligned_alloc(64, (xg_guest_size() + 63) / 64 * 64)) == NULL)
        goto nomem;
    if (env->xenstore && (b->xb = guest_alloc(sizeof(*b->xb))) == NULL)
        goto nomem;
    if (b->need_time) {
        b->own_clk = b->clk = guest_alloc(sizeof(*b->clk));
        b->own_tm = b->tm = guest_alloc(sizeof(*b->tm));
        if (b->clk == NULL || b->tm == NULL)
            goto nomem;
    }
    if (b->need_ipi && (b->own_ipi = b->ipi = guest_alloc(sizeof(*b->ipi))) == NULL)
        goto nomem;
    if (env->ndisks > 0 && (b->gt = guest_alloc(sizeof(*b->gt))) == NULL)
        goto nomem;
    for (unsigned int i = 0; i < env->ndisks; i++) {
        if ((b->bf[i] = guest_alloc(xg_blkfront_size())) == NULL)
            goto nomem;
    }
    if (s->nmigrations > 0 && (b->own_sus = b->sus = guest_alloc(xg_suspend_size())) == NULL)
        goto nomem;
    xg_guest_config_init(&gc, env->ncpus);
    gc.platform_pci = s->machine.platform_pci;
    gc.force_callback = (enum xg_callback)s->guest.callback;
    gc.event_abi = (enum xg_event_abi)s->guest.event_abi;
    gc.balance_at_bind = s->guest.balance_at_bind;
    gc.upcall_budget = (unsigned int)s->guest.upcall_budget;
    gc.storm_threshold = (unsigned int)s->guest.storm_threshold;
    return xg_guest_init(b->g, b->p, &gc);
nomem:
    return -ENOMEM;
}

static void bi_fini(void *state)
{
    struct bi *b = state;

    for (size_t i = 0; i < XSIM_SCN_MAX_DISKS; i++) {
        bi_split_fini(&b->blk[i]);
        free(b->bf[i]);
    }
    for (size_t i = 0; i < XSIM_SCN_MAX_WORKLOADS; i++) {
        struct bi_bind *sc = b->dev[i].sc;
        while (sc != NULL && sc != &b->dev[i].first) {
            struct bi_bind *older = sc->older;
            free(sc);
            sc = older;
        }
    }
    free(b->own_sus);
    free(b->gt);
    free(b->own_ipi);
    free(b->own_tm);
    free(b->own_clk);
    free(b->xb);
    free(b->g);
}

/* What the machine cannot see: the guest's choices and its drivers' state. */
static void bi_report(void *state, struct xsim_report *rep)
{
    struct bi *b = state;
    const struct xsim_guest_env *env = b->env;
    const struct xg_features *f = xg_guest_features(b->g);

    /* The run is over and a vCPU may have stopped inside a critical
     * section (the time limit falls anywhere): read without locks. */
    xg_guest_stopped(b->g);
    rep->boot_rc = b->boot_rc;
    rep->xen = f->xen;
    rep->xen_version = f->version;
    rep->xenfeat = f->xenfeat;
    snprintf(rep->callback, sizeof(rep->callback), "%s",
             xg_callback_name(xg_guest_callback(b->g)));
    snprintf(rep->event_abi, sizeof(rep->event_abi), "%s", xg_guest_evtchn_abi(b->g));
    rep->percpu_events = xg_guest_percpu_events(b->g);
    for (unsigned int c = 0; c < rep->ncpus && c < env->ncpus; c++) {
        struct xg_cpu_stats cs;
        if (xg_cpu_stats(b->g, c, &cs) == 0) {
            rep->cpu_events[c] = cs.events;
            rep->cpu[c].upcalls = cs.upcalls;
            rep->cpu[c].empty_upcalls = cs.empty_upcalls;
            rep->cpu[c].deferred = cs.deferred;
        }
    }
    for (unsigned int i = 0; i < env->ndevices; i++) {
        struct xsim_wl_result *r = &rep->wl[env->devices[i].workload];
        struct xg_evtchn_port_stats ps;
        r->cpu = b->dev[i].port != 0 ? xg_evtchn_get_cpu(b->g, b->dev[i].port) : -1;
        if (b->dev[i].port != 0 && xg_evtchn_port_stats(b->g, b->dev[i].port, &ps) == 0) {
            r->port_spurious = ps.spurious;
            r->port_throttled = ps.throttled;
        }
    }
    for (unsigned int i = 0; i < env->ndisks && i < rep->ndisks; i++) {
        struct xsim_disk_result *d = &rep->disk[i];
        struct xg_blkfront_info info;
        struct xg_blkfront_stats st;
        if (!b->bf_init[i])
            continue; /* the guest never got that far */
        snprintf(d->state, sizeof(d->state), "%s",
                 xg_blkfront_state_name(xg_blkfront_state(b->bf[i])));
        if (xg_blkfront_get_info(b->bf[i], &info) == 0) {
            d->flush = info.flush;
            d->barrier = info.barrier;
            d->discard = info.discard;
            d->indirect_segs = info.indirect_segs;
            d->ring_pages = info.ring_pages;
        }
        xg_blkfront_get_stats(b->bf[i], &st);
        d->requests = st.requests;
        d->barrier_fallbacks = st.barrier_fallbacks;
        d->flush_fallbacks = st.flush_fallbacks;
        d->requeued = st.requeued;
        d->bad_responses = st.bad_responses;
        d->connects = st.connects;
    }
    if (b->tm != NULL)
        snprintf(rep->timer_kind, sizeof(rep->timer_kind), "%s",
                 xg_timer_kind_name(xg_timer_kind(b->tm)));
    if (b->ipi != NULL)
        snprintf(rep->ipi_mode, sizeof(rep->ipi_mode), "%s", xg_ipi_mode_name(xg_ipi_mode(b->ipi)));
    if (b->clk != NULL)
        snprintf(rep->clock_source, sizeof(rep->clock_source), "%s",
                 xg_clock_source_name(xg_clock_source(b->clk)));
}

const struct xsim_guest_program xsim_builtin_guest_program = {
    .abi_version = XSIM_GUEST_ABI_VERSION,
    .struct_size = sizeof(struct xsim_guest_program),
    .name = "xensim",
    .implements = XSIM_GUEST__ALL_CAPS,
    .state_size = sizeof(struct bi),
    .init = bi_init,
    .start = bi_start,
    .interrupt = bi_interrupt,
    .fini = bi_fini,
    .clock_ns = bi_clock_ns,
    .send_ipi = bi_send_ipi,
    .blk_submit = bi_blk_submit,
    .xs_request = bi_xs_request,
    .report = bi_report,
};
