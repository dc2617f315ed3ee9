/*
 * harness.c - see harness.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

enum xg_event_abi th_event_abi = XG_EVENT_ABI_AUTO;

int th_abi_group_2l(void **state)
{
    (void)state;
    th_event_abi = XG_EVENT_ABI_2L;
    return 0;
}

int th_abi_group_fifo(void **state)
{
    (void)state;
    th_event_abi = XG_EVENT_ABI_FIFO;
    return 0;
}

const char *th_abi_name(void)
{
    return th_event_abi == XG_EVENT_ABI_2L ? "2-level" : "fifo";
}

void th_config_init(struct th_config *cfg, unsigned int ncpus)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->ncpus = ncpus;
    xsim_hv_features_default(&cfg->features);
    xg_guest_config_init(&cfg->guest, ncpus);
    cfg->guest.event_abi = th_event_abi;
    xsim_world_config_init(&cfg->world);
    cfg->idle_after_main = true;
}

int th_create_main(struct th *t, unsigned int ncpus, th_main_fn main, void *user)
{
    struct th_config cfg;

    th_config_init(&cfg, ncpus);
    cfg.main = main;
    cfg.user = user;
    return th_create(t, &cfg, NULL);
}

void th_config_xs(struct th_config *cfg, unsigned int ncpus, size_t ram_pages, th_main_fn main,
                  void *user)
{
    th_config_init(cfg, ncpus);
    cfg->xenstore = true;
    cfg->ram_pages = ram_pages;
    cfg->main = main;
    cfg->user = user;
}

bool th_startup_ipi(struct th *t, uint8_t vector)
{
    if (vector != TH_STARTUP_VECTOR)
        return false;
    xg_eoi(t->p);
    return true;
}

void th_spin_u32(const struct xg_platform *p, volatile uint32_t *flag, uint32_t value)
{
    while (xg_read_u32(p, flag) < value)
        xg_point(p, XG_POINT_SPIN, flag);
}

void th_spin_barrier(const struct xg_platform *p, volatile uint32_t *arrived, uint32_t n)
{
    xg_fetch_add_u32(p, arrived, 1);
    th_spin_u32(p, arrived, n);
}

static void guest_interrupt(void *guest, unsigned int cpu, uint8_t vector)
{
    struct th *t = guest;

    if (th_startup_ipi(t, vector))
        return;
    if (t->cfg.interrupt != NULL && t->cfg.interrupt(t, cpu, vector))
        return;
    xg_guest_interrupt(t->g, vector);
}

void th_wait_u32(struct th *t, volatile uint32_t *flag, uint32_t value)
{
    xg_wait_u32(t->p, flag, value);
}

void th_wake_others(struct th *t)
{
    if (t->cfg.ncpus > 1)
        (void)xg_kick(t->p, -1, TH_STARTUP_VECTOR);
}

void th_wake_cpu(struct th *t, unsigned int cpu)
{
    (void)xg_kick(t->p, (int)cpu, TH_STARTUP_VECTOR);
}

static void guest_start(void *guest, unsigned int cpu)
{
    struct th *t = guest;
    const struct xg_platform *p = t->p;

    if (cpu == 0) {
        t->boot_rc = xg_guest_boot(t->g);
        if (t->boot_rc != 0)
            return;
        xg_write_u32(p, &t->started, 1);
        /* Start the other CPUs (an IPI stands in for INIT-SIPI) and wait
         * until every one is up before the test's main runs anywhere. */
        th_wake_others(t);
        th_wait_u32(t, &t->nup, t->cfg.ncpus - 1);
        xg_write_u32(p, &t->all_up, 1);
        th_wake_others(t);
    } else {
        th_wait_u32(t, &t->started, 1);
        t->cpu_up_rc[cpu] = xg_guest_cpu_up(t->g);
        xg_fetch_add_u32(p, &t->nup, 1);
        th_wake_cpu(t, 0);
        if (t->cpu_up_rc[cpu] != 0)
            return;
        th_wait_u32(t, &t->all_up, 1);
    }
    xg_irq_restore(p, true);
    if (t->cfg.main != NULL)
        t->cfg.main(t, cpu);
    if (t->cfg.idle_after_main) {
        for (;;)
            xg_guest_idle(t->g);
    }
}

bool th_bring_up_spin(struct th *t, unsigned int cpu)
{
    const struct xg_platform *p = t->p;

    if (cpu == 0) {
        t->boot_rc = xg_guest_boot(t->g);
        if (t->boot_rc != 0)
            return false;
        xg_write_u32(p, &t->started, 1);
        th_wake_others(t);
        while (xg_read_u32(p, &t->nup) + 1 < t->cfg.ncpus)
            xg_point(p, XG_POINT_SPIN, &t->nup);
        xg_write_u32(p, &t->all_up, 1);
    } else {
        bool was = xg_irq_save(p);
        while (xg_read_u32(p, &t->started) == 0)
            xg_halt(p);
        xg_irq_restore(p, was);
        t->cpu_up_rc[cpu] = xg_guest_cpu_up(t->g);
        xg_fetch_add_u32(p, &t->nup, 1);
        if (t->cpu_up_rc[cpu] != 0)
            return false;
        th_spin_u32(p, &t->all_up, 1);
    }
    xg_irq_restore(p, true);
    return true;
}

static const struct xsim_guest_ops th_ops = {.start = guest_start, .interrupt = guest_interrupt};

int th_build_machine(struct th *t, struct xsim_policy *pol, const struct xsim_guest_ops *ops,
                     void *guest, size_t default_ram_pages)
{
    const struct th_config *cfg = &t->cfg;
    struct xsim_machine_config mc;
    int rc;

    /* A caller's buffer (cfg->guest_mem) is reused as it is: xg_guest_init
     * sets it up whole. */
    t->g = cfg->guest_mem != NULL ? cfg->guest_mem
                                  : aligned_alloc(64, (xg_guest_size() + 63) / 64 * 64);
    if (t->g == NULL)
        return -ENOMEM;
    xsim_machine_config_init(&mc, cfg->ncpus);
    mc.features = cfg->features;
    mc.world = cfg->world;
    mc.policy = cfg->policy != NULL ? cfg->policy : "time";
    mc.policy_obj = pol;
    mc.guest_ram_pages = cfg->ram_pages ? cfg->ram_pages : default_ram_pages;
    mc.backend_ram_pages = 4;
    mc.xenstore = cfg->xenstore;
    mc.ops = ops;
    mc.guest = guest;
    if ((rc = xsim_machine_create(&mc, &t->m, NULL)) != 0)
        return rc;
    t->w = xsim_machine_world(t->m);
    t->hv = xsim_machine_hv(t->m);
    t->d = xsim_machine_guest(t->m);
    t->dom0 = xsim_machine_backend(t->m);
    t->xs = xsim_machine_xenstore(t->m);
    t->p = xsim_machine_platform(t->m);
    return 0;
}

int th_create(struct th *t, const struct th_config *cfg, struct xsim_policy *pol)
{
    int rc;

    memset(t, 0, sizeof(*t));
    t->cfg = *cfg;
    t->user = cfg->user;
    rc = th_build_machine(t, pol, &th_ops, t, 64);
    if (rc != 0)
        return rc;
    return xg_guest_init(t->g, t->p, &cfg->guest);
}

enum xsim_stop_reason th_run(struct th *t)
{
    return xsim_world_run(t->w);
}

void th_destroy(struct th *t)
{
    xsim_machine_destroy(t->m);
    if (t->g != t->cfg.guest_mem)
        free(t->g);
    memset(t, 0, sizeof(*t));
}

uint64_t th_now(struct th *t)
{
    return xsim_world_now(t->w);
}
