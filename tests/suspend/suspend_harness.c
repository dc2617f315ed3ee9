/*
 * suspend_harness.c - see suspend_harness.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "suspend_harness.h"

void sh_config_init(struct sh_config *cfg, unsigned int ncpus)
{
    memset(cfg, 0, sizeof(*cfg));
    th_config_init(&cfg->th, ncpus);
    cfg->th.xenstore = true;
    cfg->th.ram_pages = 256;
    xsim_hv_time_config_default(&cfg->time);
}

struct sh *sh_alloc(void)
{
    return calloc(1, sizeof(struct sh));
}

static void sh_interrupt(void *guest, unsigned int cpu, uint8_t vector)
{
    struct sh *x = guest;

    if (th_startup_ipi(&x->th, vector))
        return;
    if (xg_timer_interrupt(&x->tm, vector) || xg_ipi_interrupt(&x->ipi, vector))
        return;
    xg_guest_interrupt(x->th.g, vector);
}

static void check_not_suspended(struct sh *x)
{
    if (xsim_hv_domain_suspended(x->th.hv, TH_GUEST_DOMID))
        x->ran_while_suspended++;
}

static void timer_cb(struct xg_timers *t, unsigned int cpu, uint64_t deadline, uint64_t now,
                     void *arg)
{
    struct sh *x = arg;

    check_not_suspended(x);
    if (now < deadline)
        x->fired_late[cpu]++;
    xg_fetch_add_u32(x->th.p, &x->fired[cpu], 1);
}

static void ipi_cb(struct xg_ipi *ipi, unsigned int cpu, enum xg_ipi_kind kind, void *arg)
{
    struct sh *x = arg;

    check_not_suspended(x);
    xg_fetch_add_u32(x->th.p, &x->ipis[cpu], 1);
    if (kind == XG_IPI_TLB)
        xg_fetch_add_u32(x->th.p, &x->tlbs[cpu], 1);
    if (kind == XG_IPI_CALL)
        (void)xg_timer_set_in(&x->tm, x->arm_delta_ns);
}

int sh_ev_handler(struct xg_guest *g, evtchn_port_t port, void *arg)
{
    struct sh *x = arg;

    check_not_suspended(x);
    x->ev_handled_at = th_now(&x->th);
    xg_fetch_add_u32(g->p, &x->ev_handled, 1);
    return XG_EVTCHN_HANDLED;
}

static void note(struct sh *x, int rc)
{
    if (rc != 0 && x->setup_rc == 0)
        x->setup_rc = rc;
}

static void setup0(struct sh *x)
{
    struct xg_guest *g = x->th.g;
    struct xg_ipi_config ic;
    struct xg_suspend_parts parts = {0};
    int rc;

    note(x, xg_clock_init(&x->clk, g, NULL));
    /* The test channel first, so that later ports move on a new host. */
    rc = xg_evtchn_alloc_unbound(g, TH_BACKEND_DOMID, sh_ev_handler, x, &x->ev_port);
    if (rc == 0)
        rc = xsim_hv_evtchn_bind_interdomain(x->th.hv, TH_BACKEND_DOMID, TH_GUEST_DOMID, x->ev_port,
                                             &x->ev_bport);
    if (rc == 0 && g->ncpus > 1 && xg_guest_percpu_events(g))
        rc = xg_evtchn_set_cpu(g, x->ev_port, 1);
    if (rc == 0)
        rc = xg_evtchn_unmask(g, x->ev_port);
    note(x, rc);
    note(x, xg_timers_init(&x->tm, g, &x->clk, NULL));
    xg_ipi_config_init(&ic);
    for (unsigned int k = 0; k < XG_IPI__COUNT; k++) {
        ic.fn[k] = ipi_cb;
        ic.arg[k] = x;
    }
    note(x, xg_ipi_init(&x->ipi, g, &ic));
    note(x, xg_xenbus_init(&x->xb, g));
    note(x, xg_gnttab_init(&x->gt, g, 1));
    parts.xb = &x->xb;
    parts.gt = &x->gt;
    parts.clk = &x->clk;
    parts.timers = &x->tm;
    parts.ipi = &x->ipi;
    parts.kick_vector = TH_STARTUP_VECTOR;
    if (!x->cfg.no_suspend)
        note(x, xg_suspend_init(x->susp, g, &parts));
}

static void setup(struct sh *x, unsigned int cpu)
{
    const struct xg_platform *p = x->th.p;

    if (cpu == 0) {
        setup0(x);
        xg_write_u32(p, &x->phase, 1);
    } else {
        th_spin_u32(p, &x->phase, 1);
    }
    note(x, xg_timer_cpu_init(&x->tm, timer_cb, x));
    note(x, xg_ipi_cpu_init(&x->ipi));
    th_spin_barrier(p, &x->ninit, x->cfg.th.ncpus);
}

static void idle(struct sh *x, unsigned int cpu)
{
    const struct xg_platform *p = x->th.p;

    for (;;) {
        /* Interrupts off across the check: a kick that comes before the
         * halt is taken by it (sti; hlt), not lost. */
        bool was = xg_irq_save(p);
        if (cpu == 0 || x->cfg.no_suspend || !xg_suspend_cpu_poll(x->susp))
            xg_halt(p);
        xg_irq_restore(p, was);
    }
}

static void sh_start(void *guest, unsigned int cpu)
{
    struct sh *x = guest;
    struct th *t = &x->th;
    const struct xg_platform *p = t->p;

    if (!th_bring_up_spin(t, cpu))
        return;
    setup(x, cpu);
    if (x->setup_rc == 0 && x->cfg.main != NULL)
        x->cfg.main(x, cpu);
    xg_write_u32(p, &x->done[cpu], 1);
    idle(x, cpu);
}

static const struct xsim_guest_ops sh_ops = {.start = sh_start, .interrupt = sh_interrupt};

int sh_create(struct sh *x, const struct sh_config *cfg, struct xsim_policy *pol)
{
    struct th *t = &x->th;
    int rc;

    memset(x, 0, sizeof(*x));
    x->cfg = *cfg;
    x->user = cfg->user;
    x->arm_delta_ns = 200000;
    t->cfg = cfg->th;
    t->cfg.main = NULL;
    t->cfg.xenstore = true;
    t->user = cfg->user;
    x->susp = calloc(1, xg_suspend_size());
    if (x->susp == NULL)
        return -ENOMEM;
    rc = th_build_machine(t, pol, &sh_ops, x, 256);
    if (rc == 0)
        rc = xsim_hv_time_config(t->hv, TH_GUEST_DOMID, &cfg->time);
    if (rc == 0)
        rc = xsim_machine_toolstack(t->m, &x->ts);
    if (rc != 0)
        return rc;
    t->p = xsim_domain_platform(t->d);
    return xg_guest_init(t->g, t->p, &cfg->th.guest);
}

enum xsim_stop_reason sh_run(struct sh *x)
{
    return th_run(&x->th);
}

void sh_free(struct sh *x)
{
    if (x == NULL)
        return;
    if (x->th.m != NULL)
        th_destroy(&x->th); /* the toolstack is the machine's */
    free(x->susp);
    free(x);
}

int sh_wait_and_suspend(struct sh *x)
{
    const struct xg_platform *p = x->th.p;
    const volatile uint32_t *seq = xg_suspend_request_seq(x->susp);
    bool was = xg_irq_save(p);

    while (!xg_suspend_requested(x->susp)) {
        xg_halt(p);
        (void)xg_irq_save(p);
    }
    (void)seq;
    xg_irq_restore(p, was);
    return xg_suspend_run(x->susp);
}

int sh_wait_and_suspend_timed(struct sh *x, uint64_t *t0, uint64_t *t1, uint64_t *m0, uint64_t *m1)
{
    const struct xg_platform *p = x->th.p;
    bool was = xg_irq_save(p);
    int rc;

    while (!xg_suspend_requested(x->susp)) {
        xg_halt(p);
        (void)xg_irq_save(p);
    }
    xg_irq_restore(p, was);
    *m0 = xg_clock_now(&x->clk);
    *t0 = th_now(&x->th);
    rc = xg_suspend_run(x->susp);
    *t1 = th_now(&x->th);
    *m1 = xg_clock_now(&x->clk);
    return rc;
}

bool sh_wait_count(struct sh *x, volatile uint32_t *ctr, uint32_t value, uint64_t limit_ns)
{
    const struct xg_platform *p = x->th.p;
    uint64_t end = th_now(&x->th) + limit_ns;

    while (xg_read_u32(p, ctr) < value) {
        if (th_now(&x->th) >= end)
            return false;
        xg_work(p, XG_WORK_GUEST, 5000);
        /* A wait loop: lets PCT and random run the CPU we wait for. */
        xg_point(p, XG_POINT_SPIN, ctr);
    }
    return true;
}

int sh_arm_all(struct sh *x)
{
    return xg_ipi_send(&x->ipi, XG_IPI_ALL, XG_IPI_CALL);
}

static void send_poll(struct xsim_world *w, void *arg)
{
    struct sh *x = arg;

    if (!xsim_hv_domain_suspended(x->th.hv, TH_GUEST_DOMID)) {
        xsim_event_schedule(w, xsim_world_now(w) + 10000, 0x53454e44, send_poll, x);
        return;
    }
    x->ev_sent_at = xsim_world_now(w);
    (void)xsim_hv_evtchn_send(x->th.hv, TH_BACKEND_DOMID, x->ev_bport);
}

void sh_send_during_suspend(struct sh *x, uint64_t from_ns)
{
    xsim_event_schedule(x->th.w, from_ns, 0x53454e44 /* SEND */, send_poll, x);
}
