/*
 * time_harness.c - see time_harness.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "time_harness.h"

void tt_config_init(struct tt_config *cfg, unsigned int ncpus)
{
    memset(cfg, 0, sizeof(*cfg));
    th_config_init(&cfg->th, ncpus);
    xsim_hv_time_config_default(&cfg->time);
    xg_clock_config_init(&cfg->clock);
    xg_timer_config_init(&cfg->timer);
    xg_ipi_config_init(&cfg->ipi);
}

void tt_config_main(struct tt_config *cfg, unsigned int ncpus, tt_main_fn main, void *user)
{
    tt_config_init(cfg, ncpus);
    cfg->main = main;
    cfg->user = user;
}

struct tt *tt_alloc(void)
{
    return calloc(1, sizeof(struct tt));
}

static void tt_interrupt(void *guest, unsigned int cpu, uint8_t vector)
{
    struct tt *x = guest;

    if (th_startup_ipi(&x->th, vector))
        return;
    if (x->cfg.intr != NULL && x->cfg.intr(x, cpu, vector))
        return;
    if (xg_timer_interrupt(&x->tm, vector) || xg_ipi_interrupt(&x->ipi, vector))
        return;
    xg_guest_interrupt(x->th.g, vector);
}

/* Every CPU's time pieces are up before any test main runs. */
static void tt_setup(struct tt *x, unsigned int cpu)
{
    const struct xg_platform *p = x->th.p;

    if (cpu == 0) {
        x->clock_rc = xg_clock_init(&x->clk, x->th.g, &x->cfg.clock);
        x->timers_rc = x->clock_rc != 0 || x->cfg.no_timers
                           ? -ENODEV
                           : xg_timers_init(&x->tm, x->th.g, &x->clk, &x->cfg.timer);
        x->ipi_rc = x->cfg.no_ipis ? -ENODEV : xg_ipi_init(&x->ipi, x->th.g, &x->cfg.ipi);
        xg_write_u32(p, &x->phase, 1);
    } else {
        th_spin_u32(p, &x->phase, 1);
    }
    x->timer_cpu_rc[cpu] = x->timers_rc == 0
                               ? xg_timer_cpu_init(&x->tm, x->cfg.timer_fn, x->cfg.timer_arg)
                               : x->timers_rc;
    x->ipi_cpu_rc[cpu] = x->ipi_rc == 0 ? xg_ipi_cpu_init(&x->ipi) : x->ipi_rc;
    th_spin_barrier(p, &x->ninit, x->cfg.th.ncpus);
}

static void tt_th_main(struct th *t, unsigned int cpu)
{
    struct tt *x = (struct tt *)t;

    tt_setup(x, cpu);
    if (x->cfg.main != NULL)
        x->cfg.main(x, cpu);
    xg_write_u32(t->p, &x->done[cpu], 1);
}

/* The same start path as the shared harness's guest_start. */
static void tt_start(void *guest, unsigned int cpu)
{
    struct tt *x = guest;
    struct th *t = &x->th;

    if (!th_bring_up_spin(t, cpu))
        return;
    tt_th_main(t, cpu);
    if (t->cfg.idle_after_main) {
        for (;;)
            xg_guest_idle(t->g);
    }
}

static const struct xsim_guest_ops tt_ops = {.start = tt_start, .interrupt = tt_interrupt};

int tt_create(struct tt *x, const struct tt_config *cfg, struct xsim_policy *pol)
{
    struct th *t = &x->th;
    int rc;

    memset(x, 0, sizeof(*x));
    x->cfg = *cfg;
    x->user = cfg->user;
    t->cfg = cfg->th;
    t->cfg.main = NULL;
    t->user = cfg->user;
    rc = th_build_machine(t, pol, &tt_ops, x, 64);
    if (rc == 0)
        rc = xsim_hv_time_config(t->hv, TH_GUEST_DOMID, &cfg->time);
    if (rc != 0)
        return rc;
    t->p = xsim_domain_platform(t->d);
    return xg_guest_init(t->g, t->p, &cfg->th.guest);
}

enum xsim_stop_reason tt_run(struct tt *x)
{
    return th_run(&x->th);
}

void tt_free(struct tt *x)
{
    if (x == NULL)
        return;
    if (x->th.w != NULL)
        th_destroy(&x->th);
    free(x);
}

bool tt_all_done(const struct tt *x)
{
    for (unsigned int i = 0; i < x->cfg.th.ncpus; i++) {
        if (!x->done[i])
            return false;
    }
    return true;
}

void tt_work(struct tt *x, uint64_t ns)
{
    xg_work(x->th.p, XG_WORK_GUEST, ns);
}

void tt_wait_flag(struct tt *x, volatile uint32_t *flag)
{
    const struct xg_platform *p = x->th.p;

    for (;;) {
        /* Check with interrupts off, then sti;hlt: a wakeup between the
         * check and the halt is not lost. */
        bool was = xg_irq_save(p);
        if (xg_read_u32(p, flag) != 0) {
            xg_irq_restore(p, was);
            return;
        }
        xg_halt(p);
        xg_irq_restore(p, was);
    }
}

void tt_sleep_until(struct tt *x, uint64_t mono_ns)
{
    while (xg_clock_now(&x->clk) < mono_ns)
        tt_work(x, 10000);
}

/* ---- the event-queue probe ---- */

struct probe {
    const struct xg_platform *p;
    struct xsim_world *w;
    uint64_t ran_at;
};

static void probe_event(struct xsim_world *w, void *arg)
{
    struct probe *pr = arg;

    if (pr->ran_at == 0)
        pr->ran_at = xsim_world_now(w);
}

static void probe_nop(struct xsim_world *w, void *arg)
{
}

static void probe_start(void *guest, unsigned int cpu)
{
    struct probe *pr = guest;

    xsim_event_schedule(pr->w, 10000000, 1, probe_nop, pr);
    xg_point(pr->p, XG_POINT_LOAD, NULL); /* the scheduler looks at the queue */
    xsim_event_schedule(pr->w, 1000000, 1, probe_event, pr);
}

static const struct xsim_guest_ops probe_ops = {.start = probe_start};

bool tt_event_queue_clamps(void)
{
    struct xsim_world_config wc;
    struct xsim_world *w;
    struct xsim_domain *d;
    struct xsim_error err;
    struct xsim_policy *pol = xsim_policy_create("time", &err);
    struct probe pr = {0};

    xsim_world_config_init(&wc);
    if (pol == NULL || xsim_world_create(&wc, pol, &w) != 0)
        return true;
    if (xsim_domain_create(w, 1, 1, 0, &probe_ops, &pr, &d) == 0) {
        pr.p = xsim_domain_platform(d);
        pr.w = w;
        xsim_world_run(w);
    }
    xsim_world_destroy(w);
    xsim_policy_destroy(pol);
    return pr.ran_at != 1000000;
}
