/*
 * test_fallback.c - migration to a host with other features: the guest's
 * timers, IPIs and clock follow the callback it could set up there. A PV
 * guest landing on a host without a vector callback (IRQ mode: events on
 * CPU 0 only) switches to the emulated timer (tsc-deadline, else LAPIC
 * one-shot, else HPET) and to LAPIC IPIs; one landing on a host without
 * XENFEAT_hvm_safe_pvclock switches its clock to the TSC and its timer to
 * an emulated one. A guest with emulated timers and LAPIC IPIs keeps them
 * on a host that offers more. Every timer pending across the switch fires
 * once after the resume, never before its deadline.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "suspend_harness.h"

#define US 1000ull
#define MS 1000000ull

struct fb_obs {
    int rc;
    enum xg_timer_kind kind_before;
    enum xg_ipi_mode mode_before;
    enum xg_clock_source src_before;
    bool armed_before; /* every CPU armed its long timer before the suspend */
    uint32_t base[XG_MAX_CPUS];
    uint32_t fired_at_resume[XG_MAX_CPUS];
    bool pending_fired; /* each CPU's pending timer fired once after the resume */
    bool timers_after;  /* a fresh round fires on every CPU */
    bool directed_ipis; /* an IPI to each CPU reaches it */
    uint64_t t0, t1, m0, m1;
    uint64_t rate_virt_ns, rate_mono_ns; /* a span after the resume, both ways */
    struct xsim_migration m;             /* scheduled by CPU 0's main */
    uint64_t periodic_before;            /* periodic VIRQ_TIMERs before the last 25 ms */
    bool done;
};

static bool wait_all(struct sh *x, const uint32_t base[], uint32_t add, uint64_t limit_ns)
{
    for (unsigned int c = 0; c < x->cfg.th.ncpus; c++) {
        if (!sh_wait_count(x, &x->fired[c], base[c] + add, limit_ns))
            return false;
    }
    return true;
}

static void fb_main(struct sh *x, unsigned int cpu)
{
    struct fb_obs *o = x->user;
    unsigned int n = x->cfg.th.ncpus;
    uint32_t ipis[XG_MAX_CPUS], base[XG_MAX_CPUS];

    if (cpu != 0)
        return;
    o->kind_before = xg_timer_kind(&x->tm);
    o->mode_before = xg_ipi_mode(&x->ipi);
    o->src_before = xg_clock_source(&x->clk);
    /* Every CPU arms a timer well past the suspend and the resume (whose
     * LAPIC calibration alone takes ~17 ms): it is pending across the
     * migration (and the change of device) on every CPU. */
    for (unsigned int c = 0; c < n; c++) {
        ipis[c] = x->ipis[c];
        o->base[c] = x->fired[c];
    }
    x->arm_delta_ns = 40 * MS;
    o->armed_before = sh_arm_all(x) == (int)n;
    for (unsigned int c = 0; c < n; c++)
        o->armed_before &= sh_wait_count(x, &x->ipis[c], ipis[c] + 1, 2 * MS);
    /* The request relative to now: boot takes a schedule-dependent time. */
    o->m.at_ns = th_now(&x->th) + 3 * MS;
    (void)xsim_toolstack_schedule(x->ts, &o->m);
    o->rc = sh_wait_and_suspend_timed(x, &o->t0, &o->t1, &o->m0, &o->m1);
    for (unsigned int c = 0; c < n; c++)
        o->fired_at_resume[c] = x->fired[c];
    /* The clock's rate on the new host, against virtual time. */
    {
        uint64_t v0 = th_now(&x->th), m0 = xg_clock_now(&x->clk);
        xg_work(x->th.p, XG_WORK_GUEST, 2 * MS);
        o->rate_virt_ns = th_now(&x->th) - v0;
        o->rate_mono_ns = xg_clock_now(&x->clk) - m0;
    }
    o->pending_fired = wait_all(x, o->base, 1, 60 * MS);
    /* Once only: nothing more after a while. */
    xg_work(x->th.p, XG_WORK_GUEST, 2 * MS);
    for (unsigned int c = 0; c < n; c++)
        o->pending_fired &= x->fired[c] == o->base[c] + 1;
    /* A fresh round on every CPU. */
    x->arm_delta_ns = 200 * US;
    for (unsigned int c = 0; c < n; c++)
        base[c] = x->fired[c];
    o->timers_after = sh_arm_all(x) == (int)n && wait_all(x, base, 1, 20 * MS);
    /* One IPI to each CPU by number (CPU 0 to itself included). */
    o->directed_ipis = true;
    for (unsigned int c = 0; c < n; c++) {
        uint32_t before = x->ipis[c];
        o->directed_ipis &= xg_ipi_send(&x->ipi, (int)c, XG_IPI_RESCHED) == 1 &&
                            sh_wait_count(x, &x->ipis[c], before + 1, 5 * MS);
    }
    /* Then long enough for a periodic timer left running to show. */
    {
        struct xsim_hv_time_stats st;
        o->periodic_before =
            xsim_hv_time_stats(x->th.hv, TH_GUEST_DOMID, &st) == 0 ? st.periodic_fired : UINT64_MAX;
    }
    xg_work(x->th.p, XG_WORK_GUEST, 25 * MS);
    o->done = true;
}

struct fb_case {
    unsigned int ncpus;
    struct xsim_hv_features old_host, new_host;
    bool tsc_deadline, lapic_timer; /* the emulated platform (both hosts) */
    uint64_t new_tsc_hz;
    enum xg_timer_kind kind_before, kind_after;
    enum xg_ipi_mode mode_before, mode_after;
    enum xg_clock_source src_before, src_after;
    enum xg_callback cb_after;
    const char *policy; /* NULL: time */
    uint64_t seed;
};

static void fb_case_init(struct fb_case *k, unsigned int ncpus)
{
    memset(k, 0, sizeof(*k));
    k->ncpus = ncpus;
    xsim_hv_features_default(&k->old_host);
    xsim_hv_features_default(&k->new_host);
    k->tsc_deadline = k->lapic_timer = true;
    k->kind_before = XG_TIMER_PV;
    k->mode_before = XG_IPI_MODE_PV;
    k->src_before = k->src_after = XG_CLOCK_PVCLOCK;
}

static void no_vector(struct xsim_hv_features *f)
{
    f->hvm_callback_vector = false;
    f->percpu_upcall_vector = false;
}

static void run_case(const struct fb_case *k)
{
    struct sh_config cfg;
    struct fb_obs o;
    struct xsim_toolstack_stats ts;
    struct xsim_hv_time_stats tstat;
    struct sh *x = sh_alloc();
    unsigned int n = k->ncpus;

    memset(&o, 0, sizeof(o));
    sh_config_init(&cfg, n);
    cfg.th.features = k->old_host;
    cfg.time.tsc_deadline = k->tsc_deadline;
    cfg.time.lapic_timer = k->lapic_timer;
    /* Every host starts vCPUs with Xen's 10 ms periodic timer. */
    cfg.time.default_periodic_ns = XSIM_TIME_XEN_PERIODIC_NS;
    cfg.main = fb_main;
    cfg.user = &o;
    cfg.th.world.max_decisions = 5000000;
    cfg.th.policy = k->policy;
    if (k->seed != 0)
        cfg.th.world.seed = k->seed;
    assert_non_null(x);
    assert_int_equal(sh_create(x, &cfg, NULL), 0);
    xsim_migration_init(&o.m);
    o.m.downtime_ns = 2 * MS;
    o.m.tsc_hz = k->new_tsc_hz;
    o.m.system_time_offset_ns = -3 * (int64_t)MS; /* the new host's clock is behind */
    o.m.has_hv_features = true;
    o.m.hv_features = k->new_host;
    /* Under random and PCT a pending timeout may run at any decision:
     * this test is about what the resume rebuilds, not about slow guests. */
    o.m.ack_timeout_ns = UINT64_MAX;
    o.m.suspend_timeout_ns = UINT64_MAX;
    sh_run(x);

    assert_null(xsim_world_failure(x->th.w));
    assert_int_equal(x->setup_rc, 0);
    assert_true(o.done);
    assert_int_equal(o.kind_before, k->kind_before);
    assert_int_equal(o.mode_before, k->mode_before);
    assert_int_equal(o.src_before, k->src_before);
    assert_true(o.armed_before);
    assert_int_equal(o.rc, 0); /* a new host */
    xsim_toolstack_get_stats(x->ts, &ts);
    assert_int_equal(ts.migrated, 1);
    assert_int_equal(ts.failed, 0);
    /* What is in force after the migration. */
    assert_int_equal(xg_guest_callback(x->th.g), k->cb_after);
    assert_int_equal(xg_timer_kind(&x->tm), k->kind_after);
    assert_int_equal(xg_ipi_mode(&x->ipi), k->mode_after);
    assert_int_equal(xg_clock_source(&x->clk), k->src_after);
    for (unsigned int c = 0; c < n; c++) {
        assert_true(x->tm.cpu[c].ready);
        assert_int_equal(x->tm.cpu[c].kind, k->kind_after);
        if (k->kind_after != XG_TIMER_PV)
            assert_int_equal(x->tm.cpu[c].port, 0);
        if (k->mode_after != XG_IPI_MODE_PV)
            assert_int_equal(x->ipi.slot[c][XG_IPI_CALL].port, 0);
        assert_true(x->ipi.ready[c]);
    }
    if (k->kind_after == XG_TIMER_LAPIC)
        assert_true(x->tm.lapic_counts != 0 && x->tm.lapic_ns != 0);
    /* The timers pending across the switch were still pending when the
     * suspend returned (on the time policy's schedule; others may take
     * longer to get there), then fired once each, none early. */
    for (unsigned int c = 0; c < n; c++) {
        if (k->policy == NULL)
            assert_int_equal(o.fired_at_resume[c], o.base[c]);
        assert_int_equal(x->fired_late[c], 0);
    }
    assert_true(o.pending_fired);
    assert_true(o.timers_after);
    assert_true(o.directed_ipis);
    assert_int_equal(x->ran_while_suspended, 0);
    /* Monotonic time: continuous over the resume (no step back, no jump
     * beyond the virtual time the suspend took), and at the right rate on
     * the new host (within 1%: a clock left at the old TSC rate would be
     * off by the ratio of the hosts' TSCs). */
    assert_true(o.m1 >= o.m0);
    assert_true(o.m1 - o.m0 <= o.t1 - o.t0);
    assert_true(o.rate_mono_ns * 100 >= o.rate_virt_ns * 99);
    assert_true(o.rate_mono_ns * 100 <= o.rate_virt_ns * 101);
    /* The periodic timers the new host started were stopped: none in the
     * last 25 ms (on the time policy's schedule, none ever: boot and
     * resume stop them within a period). */
    assert_int_equal(xsim_hv_time_stats(x->th.hv, TH_GUEST_DOMID, &tstat), 0);
    assert_int_equal(tstat.periodic_fired, o.periodic_before);
    if (k->policy == NULL)
        assert_int_equal(tstat.periodic_fired, 0);
    sh_free(x);
}

/* Per-vCPU vector -> no vector callback at all: INTx, tsc-deadline, lapic. */
static void test_vector_to_intx(void **state)
{
    struct fb_case k;

    (void)state;
    fb_case_init(&k, 4);
    no_vector(&k.new_host);
    k.new_tsc_hz = 2500000000ull;
    k.kind_after = XG_TIMER_TSC_DEADLINE;
    k.mode_after = XG_IPI_MODE_LAPIC;
    k.cb_after = XG_CB_PCI_INTX;
    run_case(&k);
}

/* The same on a platform without TSC-deadline mode: the LAPIC one-shot,
 * calibrated during the resume. */
static void test_vector_to_intx_lapic(void **state)
{
    struct fb_case k;

    (void)state;
    fb_case_init(&k, 4);
    no_vector(&k.new_host);
    k.tsc_deadline = false;
    k.kind_after = XG_TIMER_LAPIC;
    k.mode_after = XG_IPI_MODE_LAPIC;
    k.cb_after = XG_CB_PCI_INTX;
    run_case(&k);
}

/* Without any LAPIC timer: the HPET, one comparator per CPU (3). */
static void test_vector_to_intx_hpet(void **state)
{
    struct fb_case k;

    (void)state;
    fb_case_init(&k, 3);
    no_vector(&k.new_host);
    k.tsc_deadline = false;
    k.lapic_timer = false;
    k.kind_after = XG_TIMER_HPET;
    k.mode_after = XG_IPI_MODE_LAPIC;
    k.cb_after = XG_CB_PCI_INTX;
    run_case(&k);
}

/* XENFEAT_hvm_safe_pvclock dropped, vectors kept: the clock goes to the
 * TSC (calibrated on the new host, which ticks at 2.5 GHz), the timer to
 * tsc-deadline; PV IPIs stay. */
static void test_pvclock_dropped(void **state)
{
    struct fb_case k;

    (void)state;
    fb_case_init(&k, 2);
    k.new_host.hvm_safe_pvclock = false;
    k.new_tsc_hz = 2500000000ull;
    k.kind_after = XG_TIMER_TSC_DEADLINE;
    k.mode_after = XG_IPI_MODE_PV;
    k.src_after = XG_CLOCK_TSC;
    k.cb_after = XG_CB_PERCPU_VECTOR;
    run_case(&k);
}

/* Both gone at once. */
static void test_vector_and_pvclock_dropped(void **state)
{
    struct fb_case k;

    (void)state;
    fb_case_init(&k, 2);
    no_vector(&k.new_host);
    k.new_host.hvm_safe_pvclock = false;
    k.new_tsc_hz = 3000000000ull;
    k.kind_after = XG_TIMER_TSC_DEADLINE;
    k.mode_after = XG_IPI_MODE_LAPIC;
    k.src_after = XG_CLOCK_TSC;
    k.cb_after = XG_CB_PCI_INTX;
    run_case(&k);
}

/* The way back: a guest that booted in IRQ mode on a host without a safe
 * pvclock (TSC clock, tsc-deadline, lapic IPIs) lands on a host with
 * everything. The callback upgrades (per-vCPU vector) but the clock,
 * timer and IPIs keep what they have, which works with any callback; the
 * TSC clock measures the new host's rate again. */
static void test_intx_to_vector_keeps(void **state)
{
    struct fb_case k;

    (void)state;
    fb_case_init(&k, 3);
    no_vector(&k.old_host);
    k.old_host.hvm_safe_pvclock = false;
    k.new_tsc_hz = 2000000000ull;
    k.kind_before = k.kind_after = XG_TIMER_TSC_DEADLINE;
    k.mode_before = k.mode_after = XG_IPI_MODE_LAPIC;
    k.src_before = k.src_after = XG_CLOCK_TSC;
    k.cb_after = XG_CB_PERCPU_VECTOR;
    run_case(&k);
}

/* A vector host to another vector host: nothing changes kind (the PV
 * path, for contrast). */
static void test_vector_to_vector(void **state)
{
    struct fb_case k;

    (void)state;
    fb_case_init(&k, 2);
    k.kind_after = XG_TIMER_PV;
    k.mode_after = XG_IPI_MODE_PV;
    k.cb_after = XG_CB_PERCPU_VECTOR;
    run_case(&k);
}

/* The switch under other schedules (a failure names the schedule in the
 * line before it). Not the LAPIC one-shot: under random a timed event (the calibration count
 * running out) may run before a vCPU's work step, so calibrate_lapic never sees the count part-way
 * and the guest rightly falls back to the HPET. */
static void test_fallback_schedules(void **state)
{
    static const char *const pols[] = {"random"};

    (void)state;
    for (unsigned int i = 0; i < sizeof(pols) / sizeof(pols[0]); i++) {
        for (uint64_t seed = 1; seed <= 8; seed++) {
            struct fb_case k;
            fb_case_init(&k, 3);
            no_vector(&k.new_host);
            k.new_host.hvm_safe_pvclock = seed % 2 == 0;
            k.kind_after = XG_TIMER_TSC_DEADLINE;
            k.mode_after = XG_IPI_MODE_LAPIC;
            k.src_after = seed % 2 == 0 ? XG_CLOCK_PVCLOCK : XG_CLOCK_TSC;
            k.cb_after = XG_CB_PCI_INTX;
            k.policy = pols[i];
            k.seed = seed;
            print_message("    %s seed %u\n", pols[i], (unsigned int)seed);
            run_case(&k);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vector_to_intx),
        cmocka_unit_test(test_vector_to_intx_lapic),
        cmocka_unit_test(test_vector_to_intx_hpet),
        cmocka_unit_test(test_pvclock_dropped),
        cmocka_unit_test(test_vector_and_pvclock_dropped),
        cmocka_unit_test(test_intx_to_vector_keeps),
        cmocka_unit_test(test_vector_to_vector),
        cmocka_unit_test(test_fallback_schedules),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
