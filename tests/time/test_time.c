/*
 * test_time.c - the hypervisor's time model and the guest's clock and
 * timers, end to end: published pvclock and wall clock, VCPUOP timer
 * semantics (VCPU_SSHOTTMR_future, own vCPU only, periodic limits, the
 * periodic timer stopped at boot), every timer kind firing at or after its
 * deadline, the fallback matrix with features hidden, exit accounting per
 * reprogram, a migration's change of time parameters, and the emulated
 * HPET and LAPIC timer registers.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "time_harness.h"
#include "xensim/abi/sched.h"
#include "xensim/abi/vcpu.h"
#include "xensim/cost.h"

#define US 1000ull
#define MS 1000000ull

static struct tt *run(const struct tt_config *cfg, enum xsim_stop_reason want)
{
    struct tt *x = tt_alloc();
    enum xsim_stop_reason r;

    assert_non_null(x);
    assert_int_equal(tt_create(x, cfg, NULL), 0);
    r = tt_run(x);
    if (r != want)
        fail_msg("run stopped: %s (%s), wanted %s", xsim_stop_reason_name(r),
                 xsim_world_failure(x->th.w) ? xsim_world_failure(x->th.w) : "no failure",
                 xsim_stop_reason_name(want));
    assert_int_equal(x->th.boot_rc, 0);
    return x;
}

static long vcpu_op(struct tt *x, unsigned int cmd, unsigned int vcpu, void *arg)
{
    return xg_hypercall(x->th.p, __HYPERVISOR_vcpu_op, cmd, vcpu, (unsigned long)arg);
}

/* ---- published pvclock and wall clock ---- */

struct pub_ctx {
    uint64_t value[4], want[4], tsc[4];
    int read_rc[4];
    bool record_same[4];
    uint64_t wc_sec, mono[4];
    uint32_t wc_nsec;
    int wc_rc;
    uint64_t sys_at_wc;
};

static void pub_main(struct tt *x, unsigned int cpu)
{
    struct pub_ctx *c = x->user;
    struct xg_pvclock_snap s;
    struct vcpu_time_info rec;

    tt_work(x, 1234567 * (cpu + 1));
    c->read_rc[cpu] = xg_pvclock_read(x->th.p, &x->th.g->cpus[cpu].vi->time, &s, 0);
    c->value[cpu] = xg_pvclock_ns(&s, s.tsc);
    c->tsc[cpu] = s.tsc;
    /* The world's default TSC is virtual ns: system time at that TSC. */
    c->want[cpu] = xsim_hv_time_system(x->th.hv, TH_GUEST_DOMID, s.tsc);
    xsim_hv_time_record(x->th.hv, TH_GUEST_DOMID, cpu, &rec);
    c->record_same[cpu] = rec.version == s.version && rec.system_time == s.system_time &&
                          rec.tsc_timestamp == s.tsc_timestamp && rec.tsc_to_system_mul == s.mul &&
                          rec.tsc_shift == s.shift && rec.flags == s.flags;
    c->mono[cpu] = xg_clock_now(&x->clk);
    if (cpu == 0) {
        c->wc_rc = xg_clock_wallclock(&x->clk, &c->wc_sec, &c->wc_nsec);
        c->sys_at_wc = xsim_hv_time_system(x->th.hv, TH_GUEST_DOMID, th_now(&x->th));
    }
}

static void test_pvclock_published(void **state)
{
    struct tt_config cfg;
    struct pub_ctx c;
    struct tt *x;

    (void)state;
    memset(&c, 0, sizeof(c));
    tt_config_init(&cfg, 3);
    cfg.time.system_time_origin_ns = -5000000000ll; /* the host booted 5 s before */
    cfg.time.wc_sec = 1700000000;
    cfg.time.wc_nsec = 999999000;
    cfg.main = pub_main;
    cfg.user = &c;
    x = run(&cfg, XSIM_STOP_QUIESCENT);
    assert_int_equal(xg_clock_source(&x->clk), XG_CLOCK_PVCLOCK);
    for (unsigned int i = 0; i < 3; i++) {
        assert_true(c.read_rc[i] >= 0);
        if (c.value[i] != c.want[i])
            fail_msg("cpu %u: pvclock %" PRIu64 ", system time %" PRIu64, i, c.value[i], c.want[i]);
        assert_true(c.value[i] >= 5000000000ull);
        assert_true(c.record_same[i]);
        assert_true(c.mono[i] >= c.value[i]);
    }
    /* wall clock = wc + system time, carried into the seconds */
    assert_int_equal(c.wc_rc, 0);
    uint64_t total = 999999000ull + c.sys_at_wc;
    assert_true(c.wc_sec == 1700000000ull + total / 1000000000ull ||
                c.wc_sec == 1700000000ull + total / 1000000000ull - 1);
    assert_true(c.wc_nsec < 1000000000u);
    tt_free(x);
}

/* ---- VCPUOP timer semantics ---- */

struct hits {
    volatile uint32_t n;
    uint64_t at[64];
};

static int virq_hit(struct xg_guest *g, evtchn_port_t port, void *arg)
{
    struct tt *x = arg;
    struct hits *h = x->user;

    if (h->n < 64)
        h->at[h->n] = xg_clock_now(&x->clk);
    xg_write_u32(g->p, &h->n, h->n + 1);
    return XG_EVTCHN_HANDLED;
}

struct sshot_ctx {
    struct hits h;
    long rc_past_future, rc_past_zero, rc_future_future, rc_other_set, rc_other_stop, rc_noent,
        rc_fault, rc_stop;
    uint32_t after_etime, after_past_zero, after_stop, after_replace;
    uint64_t deadline, fired_at, d2, replace_at;
    long rc_per_small, rc_per_huge, rc_per_ok, rc_per_other, rc_per_fault, rc_per_stop;
    uint32_t per_ticks, per_after_stop;
};

static void sshot_main(struct tt *x, unsigned int cpu)
{
    struct sshot_ctx *c = x->user;
    struct vcpu_set_singleshot_timer st;
    struct vcpu_set_periodic_timer per;
    evtchn_port_t port;
    uint64_t now;

    if (cpu != 0)
        return;
    xg_evtchn_bind_virq(x->th.g, VIRQ_TIMER, 0, virq_hit, x, &port);
    xg_evtchn_unmask(x->th.g, port);
    tt_work(x, 1 * MS);

    /* VCPU_SSHOTTMR_future with a past deadline: -ETIME, and no event. */
    now = xg_clock_now(&x->clk);
    st.timeout_abs_ns = now - 1000;
    st.flags = VCPU_SSHOTTMR_future;
    c->rc_past_future = vcpu_op(x, VCPUOP_set_singleshot_timer, 0, &st);
    tt_sleep_until(x, now + 1 * MS);
    c->after_etime = c->h.n;

    /* flags 0 with a past deadline: accepted, and the event comes at once. */
    now = xg_clock_now(&x->clk);
    st.timeout_abs_ns = now - 1000;
    st.flags = 0;
    c->rc_past_zero = vcpu_op(x, VCPUOP_set_singleshot_timer, 0, &st);
    tt_sleep_until(x, now + 50 * US);
    c->after_past_zero = c->h.n;

    /* A future deadline with the flag: fires at or after it. */
    c->deadline = xg_clock_now(&x->clk) + 300 * US;
    st.timeout_abs_ns = c->deadline;
    st.flags = VCPU_SSHOTTMR_future;
    c->rc_future_future = vcpu_op(x, VCPUOP_set_singleshot_timer, 0, &st);
    while (c->h.n < 2)
        tt_work(x, 10 * US);
    c->fired_at = c->h.at[1];

    /* Only the calling vCPU's single-shot timer. */
    c->rc_other_set = vcpu_op(x, VCPUOP_set_singleshot_timer, 1, &st);
    c->rc_other_stop = vcpu_op(x, VCPUOP_stop_singleshot_timer, 1, NULL);
    c->rc_noent = vcpu_op(x, VCPUOP_set_singleshot_timer, 7, &st);
    c->rc_fault = vcpu_op(x, VCPUOP_set_singleshot_timer, 0, NULL);

    /* Stopped before expiry: nothing. */
    now = xg_clock_now(&x->clk);
    st.timeout_abs_ns = now + 200 * US;
    st.flags = 0;
    vcpu_op(x, VCPUOP_set_singleshot_timer, 0, &st);
    c->rc_stop = vcpu_op(x, VCPUOP_stop_singleshot_timer, 0, NULL);
    tt_sleep_until(x, now + 1 * MS);
    c->after_stop = c->h.n;

    /* A second set replaces the first: one event, at the second deadline. */
    now = xg_clock_now(&x->clk);
    st.timeout_abs_ns = now + 200 * US;
    vcpu_op(x, VCPUOP_set_singleshot_timer, 0, &st);
    c->d2 = now + 600 * US;
    st.timeout_abs_ns = c->d2;
    vcpu_op(x, VCPUOP_set_singleshot_timer, 0, &st);
    tt_sleep_until(x, now + 2 * MS);
    c->after_replace = c->h.n;
    c->replace_at = c->h.at[c->h.n - 1];

    /* Periodic: at least 1 ms, at most STIME_DELTA_MAX; any vCPU. */
    per.period_ns = 1 * MS - 1;
    c->rc_per_small = vcpu_op(x, VCPUOP_set_periodic_timer, 0, &per);
    per.period_ns = 1ull << 62;
    c->rc_per_huge = vcpu_op(x, VCPUOP_set_periodic_timer, 0, &per);
    c->rc_per_fault = vcpu_op(x, VCPUOP_set_periodic_timer, 0, NULL);
    per.period_ns = 1 * MS;
    c->rc_per_other = vcpu_op(x, VCPUOP_set_periodic_timer, 1, &per);
    vcpu_op(x, VCPUOP_stop_periodic_timer, 1, NULL);
    uint32_t before = c->h.n;
    now = xg_clock_now(&x->clk);
    c->rc_per_ok = vcpu_op(x, VCPUOP_set_periodic_timer, 0, &per);
    tt_sleep_until(x, now + 10 * MS + 500 * US);
    c->per_ticks = c->h.n - before;
    c->rc_per_stop = vcpu_op(x, VCPUOP_stop_periodic_timer, 0, NULL);
    before = c->h.n;
    tt_sleep_until(x, xg_clock_now(&x->clk) + 5 * MS);
    c->per_after_stop = c->h.n - before;
}

static void test_vcpuop_timers(void **state)
{
    struct tt_config cfg;
    struct sshot_ctx c;
    struct xsim_hv_time_stats st;
    struct tt *x;

    (void)state;
    memset(&c, 0, sizeof(c));
    tt_config_init(&cfg, 2);
    cfg.no_timers = true; /* raw hypercalls only */
    cfg.main = sshot_main;
    cfg.user = &c;
    x = run(&cfg, XSIM_STOP_QUIESCENT);
    assert_int_equal(c.rc_past_future, -ETIME);
    assert_int_equal(c.after_etime, 0);
    assert_int_equal(c.rc_past_zero, 0);
    assert_int_equal(c.after_past_zero, 1);
    assert_int_equal(c.rc_future_future, 0);
    assert_true(c.fired_at >= c.deadline);
    assert_true(c.fired_at < c.deadline + 20 * US);
    assert_int_equal(c.rc_other_set, -EINVAL);
    assert_int_equal(c.rc_other_stop, -EINVAL);
    assert_int_equal(c.rc_noent, -ENOENT);
    assert_int_equal(c.rc_fault, -EFAULT);
    assert_int_equal(c.rc_stop, 0);
    assert_int_equal(c.after_stop, 2);
    assert_int_equal(c.after_replace, 3);
    assert_true(c.replace_at >= c.d2);
    assert_int_equal(c.rc_per_small, -EINVAL);
    assert_int_equal(c.rc_per_huge, -EINVAL);
    assert_int_equal(c.rc_per_fault, -EFAULT);
    assert_int_equal(c.rc_per_other, 0);
    assert_int_equal(c.rc_per_ok, 0);
    assert_int_equal(c.per_ticks, 10);
    assert_int_equal(c.rc_per_stop, 0);
    assert_int_equal(c.per_after_stop, 0);
    assert_int_equal(xsim_hv_time_stats(x->th.hv, TH_GUEST_DOMID, &st), 0);
    assert_int_equal(st.singleshot_etime, 1);
    assert_int_equal(st.periodic_fired, 10);
    tt_free(x);
}

/* ---- set_timer_op against VCPUOP_set_singleshot_timer ---- */

struct top_ctx {
    volatile uint32_t n[2]; /* VIRQ_TIMER events by CPU */
    uint64_t at[2][16];
    long rc[16];
    int64_t late_vcpuop, late_timer_op; /* fire time - deadline, same offset */
    uint32_t after_past, after_stop0, after_stop_vcpuop, after_replace, after_not_huge;
    uint32_t cpu1_events, cpu0_before_cpu1, cpu0_after_cpu1;
    uint64_t replace_d2, replace_at, huge_set_at, huge_at, neg_set_at, neg_at;
};

static int top_hit(struct xg_guest *g, evtchn_port_t port, void *arg)
{
    struct tt *x = arg;
    struct top_ctx *c = x->user;
    unsigned int cpu = xg_cpu(g->p);

    if (cpu < 2) {
        if (c->n[cpu] < 16)
            c->at[cpu][c->n[cpu]] = xg_clock_now(&x->clk);
        xg_write_u32(g->p, &c->n[cpu], c->n[cpu] + 1);
    }
    return XG_EVTCHN_HANDLED;
}

static long timer_op(struct tt *x, uint64_t timeout)
{
    return xg_hypercall(x->th.p, __HYPERVISOR_set_timer_op, (unsigned long)timeout, 0, 0);
}

static long sshot(struct tt *x, uint64_t deadline)
{
    struct vcpu_set_singleshot_timer st = {.timeout_abs_ns = deadline, .flags = 0};

    return vcpu_op(x, VCPUOP_set_singleshot_timer, xg_cpu(x->th.p), &st);
}

/* Fire delay past a deadline `ahead` from now, set through either path. */
static int64_t fire_late(struct tt *x, bool via_timer_op, uint64_t ahead, long *rc)
{
    struct top_ctx *c = x->user;
    uint32_t before = c->n[0];
    uint64_t d = xg_clock_now(&x->clk) + ahead;

    *rc = via_timer_op ? timer_op(x, d) : sshot(x, d);
    while (c->n[0] == before)
        tt_work(x, 1 * US);
    return (int64_t)(c->at[0][c->n[0] - 1] - d);
}

static void top_main(struct tt *x, unsigned int cpu)
{
    struct top_ctx *c = x->user;
    evtchn_port_t port;
    uint64_t now;
    uint32_t n0;

    xg_evtchn_bind_virq(x->th.g, VIRQ_TIMER, cpu, top_hit, x, &port);
    xg_evtchn_unmask(x->th.g, port);
    if (cpu == 1) {
        /* Wait for CPU 0's go, then set a timer of our own. */
        tt_wait_flag(x, &c->cpu0_before_cpu1);
        c->rc[10] = timer_op(x, xg_clock_now(&x->clk) + 100 * US);
        tt_sleep_until(x, xg_clock_now(&x->clk) + 1 * MS);
        c->cpu1_events = c->n[1];
        return;
    }
    tt_work(x, 1 * MS);

    /* The same future deadline through both paths fires the same way. */
    c->late_vcpuop = fire_late(x, false, 300 * US, &c->rc[0]);
    c->late_timer_op = fire_late(x, true, 300 * US, &c->rc[1]);

    /* A past deadline: accepted, the event comes at once. */
    now = xg_clock_now(&x->clk);
    n0 = c->n[0];
    c->rc[2] = timer_op(x, now - 1000);
    tt_sleep_until(x, now + 50 * US);
    c->after_past = c->n[0] - n0;

    /* 0 stops the single-shot timer, whichever path set it; and the VCPUOP
     * stops one set_timer_op set: it is one timer. */
    now = xg_clock_now(&x->clk);
    n0 = c->n[0];
    sshot(x, now + 200 * US);
    c->rc[3] = timer_op(x, 0);
    c->rc[4] = timer_op(x, now + 300 * US);
    c->rc[5] = vcpu_op(x, VCPUOP_stop_singleshot_timer, 0, NULL);
    tt_sleep_until(x, now + 1 * MS);
    c->after_stop0 = c->n[0] - n0;

    /* A set replaces the other path's: one event, at the second deadline. */
    now = xg_clock_now(&x->clk);
    n0 = c->n[0];
    sshot(x, now + 200 * US);
    c->replace_d2 = now + 600 * US;
    timer_op(x, c->replace_d2);
    tt_sleep_until(x, now + 2 * MS);
    c->after_replace = c->n[0] - n0;
    c->replace_at = c->at[0][c->n[0] - 1];

    /* 2^50 ns or more ahead (when the hypervisor looks, a little after
     * `now`): Xen takes it for a wrapped deadline, 100 ms. */
    now = xg_clock_now(&x->clk);
    n0 = c->n[0];
    c->huge_set_at = now;
    c->rc[6] = timer_op(x, now + (1ull << 50) + 1 * MS);
    while (c->n[0] == n0)
        tt_work(x, 100 * US);
    c->huge_at = c->at[0][c->n[0] - 1];

    /* Negative as a signed value: the same. */
    n0 = c->n[0];
    c->neg_set_at = xg_clock_now(&x->clk);
    c->rc[7] = timer_op(x, (uint64_t)-5);
    while (c->n[0] == n0)
        tt_work(x, 100 * US);
    c->neg_at = c->at[0][c->n[0] - 1];

    /* Just under 2^50 ahead is taken as given: nothing within 200 ms. */
    now = xg_clock_now(&x->clk);
    n0 = c->n[0];
    c->rc[8] = timer_op(x, now + (1ull << 50) - 1 * MS);
    tt_sleep_until(x, now + 200 * MS);
    c->after_not_huge = c->n[0] - n0;
    c->rc[9] = timer_op(x, 0);

    /* The timer is the caller's: CPU 1's expiry goes to CPU 1 only. */
    n0 = c->n[0];
    xg_write_u32(x->th.p, &c->cpu0_before_cpu1, 1);
    th_wake_others(&x->th);
    tt_sleep_until(x, xg_clock_now(&x->clk) + 2 * MS);
    c->cpu0_after_cpu1 = c->n[0] - n0;
}

static void test_set_timer_op(void **state)
{
    struct tt_config cfg;
    struct top_ctx c;
    struct xsim_hv_time_stats st;
    struct tt *x;

    (void)state;
    memset(&c, 0, sizeof(c));
    tt_config_init(&cfg, 2);
    cfg.no_timers = true; /* raw hypercalls only */
    cfg.main = top_main;
    cfg.user = &c;
    x = run(&cfg, XSIM_STOP_QUIESCENT);
    for (int i = 0; i <= 10; i++)
        if (c.rc[i] != 0)
            fail_msg("call %d returned %ld", i, c.rc[i]);
    assert_true(c.late_vcpuop >= 0);
    assert_true(c.late_vcpuop < (int64_t)(20 * US));
    assert_true(c.late_timer_op >= 0);
    assert_true(c.late_timer_op < (int64_t)(20 * US));
    assert_int_equal(c.after_past, 1);
    assert_int_equal(c.after_stop0, 0);
    assert_int_equal(c.after_replace, 1);
    assert_true(c.replace_at >= c.replace_d2);
    assert_true(c.huge_at >= c.huge_set_at + 100 * MS);
    assert_true(c.huge_at < c.huge_set_at + 101 * MS);
    assert_true(c.neg_at >= c.neg_set_at + 100 * MS);
    assert_true(c.neg_at < c.neg_set_at + 101 * MS);
    assert_int_equal(c.after_not_huge, 0);
    assert_int_equal(c.cpu1_events, 1);
    assert_int_equal(c.cpu0_after_cpu1, 0);
    assert_int_equal(xsim_hv_time_stats(x->th.hv, TH_GUEST_DOMID, &st), 0);
    assert_int_equal(st.timer_op_huge, 2);
    tt_free(x);
}

/* A Xen PV vCPU starts with a 10 ms periodic timer: xg_timers_init stops it
 * on every vCPU; without that it keeps ticking (and the world never rests). */
struct per_ctx {
    volatile uint32_t fired;
};

static void per_cb(struct xg_timers *t, unsigned int cpu, uint64_t d, uint64_t now, void *arg)
{
    struct per_ctx *c = arg;

    c->fired = 1;
}

static void per_main(struct tt *x, unsigned int cpu)
{
    struct per_ctx *c = x->user;

    if (cpu != 0 || x->timers_rc != 0)
        return;
    xg_timer_set_in(&x->tm, 50 * MS);
    tt_wait_flag(x, &c->fired);
}

static void test_periodic_stopped_at_boot(void **state)
{
    struct tt_config cfg;
    struct per_ctx c = {0};
    struct xsim_hv_time_stats st;
    struct tt *x;

    (void)state;
    tt_config_init(&cfg, 3);
    cfg.time.default_periodic_ns = XSIM_TIME_XEN_PERIODIC_NS;
    cfg.timer_fn = per_cb;
    cfg.timer_arg = &c;
    cfg.main = per_main;
    cfg.user = &c;
    x = run(&cfg, XSIM_STOP_QUIESCENT);
    assert_int_equal(c.fired, 1);
    xsim_hv_time_stats(x->th.hv, TH_GUEST_DOMID, &st);
    assert_int_equal(st.periodic_fired, 0);
    tt_free(x);

    /* The control: nobody stops them. */
    tt_config_init(&cfg, 3);
    cfg.time.default_periodic_ns = XSIM_TIME_XEN_PERIODIC_NS;
    cfg.no_timers = true;
    cfg.th.world.time_limit_ns = 50 * MS;
    x = run(&cfg, XSIM_STOP_TIME_LIMIT);
    xsim_hv_time_stats(x->th.hv, TH_GUEST_DOMID, &st);
    assert_true(st.periodic_fired >= 3 * 4);
    tt_free(x);
}

/* ---- every timer kind ---- */

struct fire_rec {
    volatile uint32_t n;
    uint64_t deadline, now, expect;
    bool early, wrong;
};

struct kind_ctx {
    struct fire_rec cpu[4];
    int set_rc[4], stop_rc[4];
    uint32_t after_stop[4];
};

static void kind_cb(struct xg_timers *t, unsigned int cpu, uint64_t d, uint64_t now, void *arg)
{
    struct kind_ctx *c = arg;
    struct fire_rec *r = &c->cpu[cpu];

    r->deadline = d;
    r->now = now;
    r->early |= now < d;
    r->wrong |= d != r->expect;
    xg_write_u32(t->g->p, &r->n, r->n + 1);
}

static void kind_main(struct tt *x, unsigned int cpu)
{
    struct kind_ctx *c = x->user;
    struct fire_rec *r = &c->cpu[cpu];
    uint64_t now;

    if (x->timer_cpu_rc[cpu] != 0)
        return;
    /* A reprogram before expiry: one fire, at the second deadline. */
    now = xg_clock_now(&x->clk);
    r->expect = now + 200 * US + cpu * 37 * US;
    xg_timer_set(&x->tm, now + 100 * US);
    c->set_rc[cpu] = xg_timer_set(&x->tm, r->expect);
    tt_wait_flag(x, &r->n);
    tt_sleep_until(x, r->expect + 1 * MS);
    /* Stopped: nothing more. */
    xg_timer_set_in(&x->tm, 300 * US);
    c->stop_rc[cpu] = xg_timer_stop(&x->tm);
    tt_sleep_until(x, xg_clock_now(&x->clk) + 1 * MS);
    c->after_stop[cpu] = r->n;
}

static void test_timer_kinds(void **state)
{
    static const enum xg_timer_kind kinds[] = {XG_TIMER_PV, XG_TIMER_TSC_DEADLINE, XG_TIMER_LAPIC,
                                               XG_TIMER_HPET};

    (void)state;
    for (unsigned int k = 0; k < 4; k++) {
        struct tt_config cfg;
        struct kind_ctx c;
        struct tt *x;

        memset(&c, 0, sizeof(c));
        tt_config_init(&cfg, 3);
        cfg.timer.force = kinds[k];
        cfg.timer_fn = kind_cb;
        cfg.timer_arg = &c;
        cfg.main = kind_main;
        cfg.user = &c;
        x = run(&cfg, XSIM_STOP_QUIESCENT);
        assert_int_equal(xg_timer_kind(&x->tm), kinds[k]);
        for (unsigned int i = 0; i < 3; i++) {
            struct fire_rec *r = &c.cpu[i];
            if (x->timer_cpu_rc[i] != 0 || c.set_rc[i] != 0 || r->n != 1 || r->early || r->wrong ||
                r->now > r->deadline + 50 * US || c.stop_rc[i] != 0 || c.after_stop[i] != 1)
                fail_msg("%s cpu %u: init %d set %d fires %u (after stop %u) early %d wrong %d "
                         "late %" PRId64 " ns",
                         xg_timer_kind_name(kinds[k]), i, x->timer_cpu_rc[i], c.set_rc[i], r->n,
                         c.after_stop[i], r->early, r->wrong, (int64_t)(r->now - r->deadline));
        }
        tt_free(x);
    }
}

/* The same on a 3 GHz TSC (Xen's scale is inexact there), with the
 * pvclock and with the TSC calibrated against the HPET as the clock. Needs
 * the hypervisor's rdtsc hook in the world (hv.c); skipped without it. */
struct ghz_ctx {
    struct kind_ctx k;
    uint64_t value[3], want[3];
};

static void ghz_main(struct tt *x, unsigned int cpu)
{
    struct ghz_ctx *c = x->user;
    struct xg_pvclock_snap s;

    xg_pvclock_read(x->th.p, &x->th.g->cpus[cpu].vi->time, &s, 0);
    c->value[cpu] = xg_pvclock_ns(&s, s.tsc);
    c->want[cpu] = xsim_hv_time_system(x->th.hv, TH_GUEST_DOMID,
                                       xsim_hv_time_tsc_to_vtime(x->th.hv, TH_GUEST_DOMID, s.tsc));
    kind_main(x, cpu);
}

static void test_timers_3ghz_tsc(void **state)
{
    static const enum xg_timer_kind kinds[] = {XG_TIMER_PV, XG_TIMER_TSC_DEADLINE, XG_TIMER_LAPIC,
                                               XG_TIMER_HPET};

    (void)state;
    for (unsigned int v = 0; v < 8; v++) {
        struct tt_config cfg;
        struct ghz_ctx c;
        struct tt *x = tt_alloc();
        enum xg_timer_kind kind = kinds[v % 4];
        bool tsc_clock = v >= 4;
        int rc;

        memset(&c, 0, sizeof(c));
        tt_config_init(&cfg, 3);
        cfg.time.tsc_hz = 3000000000ull;
        cfg.time.system_time_origin_ns = -1000 * (int64_t)MS;
        cfg.th.features.hvm_safe_pvclock = !tsc_clock;
        cfg.timer.force = kind;
        cfg.timer_fn = kind_cb;
        cfg.timer_arg = &c.k;
        cfg.main = ghz_main;
        cfg.user = &c;
        rc = tt_create(x, &cfg, NULL);
        if (rc == -EOPNOTSUPP) {
            tt_free(x);
            print_message("    SKIPPED: a TSC other than virtual ns needs the hypervisor's "
                          "rdtsc hook (hv.c: .rdtsc = xsim_hv_rdtsc)\n");
            skip();
        }
        assert_int_equal(rc, 0);
        assert_int_equal(tt_run(x), XSIM_STOP_QUIESCENT);
        assert_int_equal(xg_clock_source(&x->clk), tsc_clock ? XG_CLOCK_TSC : XG_CLOCK_PVCLOCK);
        /* Without a safe pvclock, pv falls back to the TSC deadline. */
        assert_int_equal(xg_timer_kind(&x->tm),
                         tsc_clock && kind == XG_TIMER_PV ? XG_TIMER_TSC_DEADLINE : kind);
        for (unsigned int i = 0; i < 3; i++) {
            struct fire_rec *r = &c.k.cpu[i];
            if (c.value[i] + 2 < c.want[i] || c.value[i] > c.want[i] + 2 || r->n != 1 || r->early ||
                r->wrong || r->now - r->deadline > 50 * US || c.k.after_stop[i] != 1)
                fail_msg("%s (%s clock) cpu %u: pvclock %" PRIu64 " vs system time %" PRIu64
                         ", %u fires, early %d, %" PRIu64 " ns late",
                         xg_timer_kind_name(kind), tsc_clock ? "tsc" : "pvclock", i, c.value[i],
                         c.want[i], r->n, r->early, r->now - r->deadline);
        }
        tt_free(x);
    }
}

/* ---- the fallback matrix ---- */

struct matrix_ctx {
    struct kind_ctx k;
    volatile uint32_t ipi_hits[4];
    int ipi_rc;
};

static void matrix_ipi(struct xg_ipi *ipi, unsigned int cpu, enum xg_ipi_kind kind, void *arg)
{
    struct matrix_ctx *c = arg;

    xg_write_u32(ipi->g->p, &c->ipi_hits[cpu], c->ipi_hits[cpu] + 1);
}

static void matrix_main(struct tt *x, unsigned int cpu)
{
    struct matrix_ctx *c = x->user;
    struct fire_rec *r = &c->k.cpu[cpu];

    if (x->timer_cpu_rc[cpu] == 0) {
        r->expect = xg_clock_now(&x->clk) + 300 * US;
        c->k.set_rc[cpu] = xg_timer_set(&x->tm, r->expect);
        tt_wait_flag(x, &r->n);
    }
    if (cpu == 0 && x->ipi_cpu_rc[0] == 0)
        c->ipi_rc = xg_ipi_send(&x->ipi, XG_IPI_ALL, XG_IPI_CALL);
    tt_wait_flag(x, &c->ipi_hits[cpu]);
}

static void test_fallback_matrix(void **state)
{
    (void)state;
    for (unsigned int hide = 0; hide < 128; hide++) {
        struct tt_config cfg;
        struct matrix_ctx c;
        struct tt *x;
        bool safe = !(hide & 1), vec = !(hide & 2), percpu = !(hide & 4), pci = !(hide & 8);
        bool tscd = !(hide & 16), lapic = !(hide & 32), hpet = !(hide & 64);
        bool events_everywhere = vec || percpu;
        enum xg_timer_kind want = events_everywhere && safe ? XG_TIMER_PV
                                  : tscd                    ? XG_TIMER_TSC_DEADLINE
                                  : lapic                   ? XG_TIMER_LAPIC
                                  : hpet                    ? XG_TIMER_HPET
                                                            : XG_TIMER_NONE;

        memset(&c, 0, sizeof(c));
        tt_config_init(&cfg, 2);
        cfg.th.features.hvm_safe_pvclock = safe;
        cfg.th.features.hvm_callback_vector = vec;
        cfg.th.features.percpu_upcall_vector = percpu;
        cfg.th.features.platform_pci = pci;
        cfg.th.guest.platform_pci = pci;
        cfg.time.tsc_deadline = tscd;
        cfg.time.lapic_timer = lapic;
        cfg.time.hpet = hpet;
        cfg.timer_fn = kind_cb;
        cfg.timer_arg = &c.k;
        for (int k = 0; k < XG_IPI__COUNT; k++) {
            cfg.ipi.fn[k] = matrix_ipi;
            cfg.ipi.arg[k] = &c;
        }
        cfg.main = matrix_main;
        cfg.user = &c;
        x = run(&cfg, XSIM_STOP_QUIESCENT);
        enum xg_timer_kind got = x->timers_rc == 0 ? xg_timer_kind(&x->tm) : XG_TIMER_NONE;
        enum xg_ipi_mode ipi_want = events_everywhere ? XG_IPI_MODE_PV : XG_IPI_MODE_LAPIC;
        enum xg_clock_source clk_want = safe ? XG_CLOCK_PVCLOCK : XG_CLOCK_TSC;
        bool fired = want == XG_TIMER_NONE || (c.k.cpu[0].n == 1 && c.k.cpu[1].n == 1 &&
                                               !c.k.cpu[0].early && !c.k.cpu[1].early);
        if (got != want || xg_ipi_mode(&x->ipi) != ipi_want ||
            xg_clock_source(&x->clk) != clk_want || !fired || c.ipi_rc != 2 || c.ipi_hits[0] != 1 ||
            c.ipi_hits[1] != 1)
            fail_msg("hide=%#x (%s callback): timer %s (want %s), ipi %s (want %s), clock %s "
                     "(want %s), fires %u/%u, ipi rc %d hits %u/%u",
                     hide, xg_callback_name(xg_guest_callback(x->th.g)), xg_timer_kind_name(got),
                     xg_timer_kind_name(want), xg_ipi_mode_name(xg_ipi_mode(&x->ipi)),
                     xg_ipi_mode_name(ipi_want), xg_clock_source_name(xg_clock_source(&x->clk)),
                     xg_clock_source_name(clk_want), c.k.cpu[0].n, c.k.cpu[1].n, c.ipi_rc,
                     c.ipi_hits[0], c.ipi_hits[1]);
        tt_free(x);
    }
}

/* ---- exit accounting per reprogram ---- */

struct acct_ctx {
    uint64_t d[XSIM_COST__COUNT];
    uint64_t vcpu_ops, ns;
    int rc;
};

static void acct_main(struct tt *x, unsigned int cpu)
{
    struct acct_ctx *c = x->user;
    const struct xsim_stats *st = xsim_world_stats(x->th.w);
    uint64_t before[XSIM_COST__COUNT], ops, t0;

    if (cpu != 0)
        return;
    /* Warm up (first use of the device), then measure one reprogram. */
    xg_timer_set_in(&x->tm, 10 * MS);
    memcpy(before, st->count, sizeof(before));
    ops = st->hypercalls[__HYPERVISOR_vcpu_op];
    t0 = th_now(&x->th);
    c->rc = xg_timer_set_in(&x->tm, 20 * MS);
    c->ns = th_now(&x->th) - t0;
    for (int r = 0; r < XSIM_COST__COUNT; r++)
        c->d[r] = st->count[r] - before[r];
    c->vcpu_ops = st->hypercalls[__HYPERVISOR_vcpu_op] - ops;
    xg_timer_stop(&x->tm);
}

static void test_exit_accounting(void **state)
{
    static const struct {
        enum xg_timer_kind kind;
        unsigned int hypercalls, msr, mmio;
    } want[] = {
        {XG_TIMER_PV, 1, 0, 0},
        {XG_TIMER_TSC_DEADLINE, 0, 1, 0},
        {XG_TIMER_LAPIC, 0, 1, 0},
        {XG_TIMER_HPET, 0, 0, 3},
    };

    (void)state;
    for (unsigned int i = 0; i < 4; i++) {
        struct tt_config cfg;
        struct acct_ctx c;
        struct tt *x;

        memset(&c, 0, sizeof(c));
        tt_config_init(&cfg, 1);
        cfg.timer.force = want[i].kind;
        cfg.main = acct_main;
        cfg.user = &c;
        x = run(&cfg, XSIM_STOP_QUIESCENT);
        assert_int_equal(xg_timer_kind(&x->tm), want[i].kind);
        assert_int_equal(c.rc, 0);
        if (c.d[XSIM_COST_HYPERCALL] != want[i].hypercalls || c.vcpu_ops != want[i].hypercalls ||
            c.d[XSIM_COST_EXIT_MSR] != want[i].msr || c.d[XSIM_COST_EXIT_MMIO] != want[i].mmio ||
            c.d[XSIM_COST_EXIT_IO] != 0 || c.d[XSIM_COST_EXIT_EOI] != 0)
            fail_msg("%s reprogram: %" PRIu64 " hypercalls (%" PRIu64 " vcpu_op), %" PRIu64
                     " MSR, %" PRIu64 " MMIO exits",
                     xg_timer_kind_name(want[i].kind), c.d[XSIM_COST_HYPERCALL], c.vcpu_ops,
                     c.d[XSIM_COST_EXIT_MSR], c.d[XSIM_COST_EXIT_MMIO]);
        print_message("    %-13s reprogram: %5" PRIu64 " virtual ns\n",
                      xg_timer_kind_name(want[i].kind), c.ns);
        tt_free(x);
    }
}

/* ---- migration: the time parameters change under the guest ---- */

struct mig_ctx {
    volatile uint64_t max_seen;
    volatile uint32_t phase, backwards;
    struct fire_rec fire;
    uint64_t deadline, before_resume, after_resume;
    int tsc_rc;
    uint64_t tsc_check_value, tsc_check_want;
    struct tt *x;
};

static void mig_cb(struct xg_timers *t, unsigned int cpu, uint64_t d, uint64_t now, void *arg)
{
    struct mig_ctx *c = arg;

    c->fire.deadline = d;
    c->fire.now = now;
    c->fire.early |= now < d;
    xg_write_u32(t->g->p, &c->fire.n, 1);
}

/* Each CPU reads the clock across the change: never below what any CPU
 * saw before it started its read. */
static void read_loop(struct tt *x, struct mig_ctx *c, uint64_t until)
{
    const struct xg_platform *p = x->th.p;

    for (;;) {
        uint64_t floor = xg_read_u64(p, &c->max_seen);
        uint64_t v = xg_clock_now(&x->clk);
        if (v < floor)
            xg_write_u32(p, &c->backwards, 1);
        uint64_t m = floor;
        while (v > m && !xg_cmpxchg_u64(p, &c->max_seen, &m, v))
            ;
        if (v >= until)
            return;
        tt_work(x, 7 * US);
    }
}

static void migrate_back(struct xsim_world *w, void *arg)
{
    struct mig_ctx *c = arg;
    struct xsim_hv_time_config cfg;

    /* The new host booted 50 ms after the old one: system time steps back
     * (the guest started 1 s after the old host booted). */
    xsim_hv_time_get_config(c->x->th.hv, TH_GUEST_DOMID, &cfg);
    cfg.system_time_origin_ns += 50 * (int64_t)MS;
    cfg.wc_sec += 1; /* and its wall clock differs too */
    xsim_hv_time_config(c->x->th.hv, TH_GUEST_DOMID, &cfg);
}

static void migrate_forward(struct xsim_world *w, void *arg)
{
    struct mig_ctx *c = arg;
    struct xsim_hv_time_config cfg;

    xsim_hv_time_get_config(c->x->th.hv, TH_GUEST_DOMID, &cfg);
    cfg.system_time_origin_ns -= 1000 * (int64_t)MS;
    xsim_hv_time_config(c->x->th.hv, TH_GUEST_DOMID, &cfg);
    /* A TSC of another frequency needs the rdtsc hook (see time.h). */
    cfg.tsc_hz = 2500000000ull;
    cfg.tsc_origin_ns = -(int64_t)xsim_world_now(w);
    c->tsc_rc = xsim_hv_time_config(c->x->th.hv, TH_GUEST_DOMID, &cfg);
}

static void mig_main(struct tt *x, unsigned int cpu)
{
    struct mig_ctx *c = x->user;
    const struct xg_platform *p = x->th.p;
    uint64_t start = xg_clock_now(&x->clk);

    if (cpu == 0) {
        c->deadline = start + 3 * MS;
        xg_timer_set(&x->tm, c->deadline);
        xsim_event_schedule(x->th.w, th_now(&x->th) + 1 * MS, 1, migrate_back, c);
    }
    read_loop(x, c, start + 5 * MS);
    if (cpu == 0) {
        tt_wait_flag(x, &c->fire.n);
        xsim_event_schedule(x->th.w, th_now(&x->th) + 100 * US, 2, migrate_forward, c);
        tt_work(x, 200 * US);
        c->before_resume = xg_read_u64(p, &x->clk.last_ns);
        /* The guest resumes: the clock continues where it was. */
        xg_clock_resume(&x->clk);
        c->after_resume = xg_clock_now(&x->clk);
        xg_write_u32(p, &c->phase, 1);
        if (c->tsc_rc == 0) {
            struct xg_pvclock_snap s;
            xg_pvclock_read(p, &x->th.g->cpus[0].vi->time, &s, 0);
            c->tsc_check_value = xg_pvclock_ns(&s, s.tsc);
            /* System time at the instant that TSC value was read. */
            c->tsc_check_want =
                xsim_hv_time_system(x->th.hv, TH_GUEST_DOMID,
                                    xsim_hv_time_tsc_to_vtime(x->th.hv, TH_GUEST_DOMID, s.tsc));
        }
    }
    while (xg_read_u32(p, &c->phase) == 0)
        tt_work(x, 10 * US);
    read_loop(x, c, xg_clock_now(&x->clk) + 1 * MS);
}

static void test_migration(void **state)
{
    struct tt_config cfg;
    struct mig_ctx c;
    struct tt *x;

    (void)state;
    memset(&c, 0, sizeof(c));
    tt_config_init(&cfg, 3);
    cfg.time.system_time_origin_ns = -1000 * (int64_t)MS; /* the host booted 1 s earlier */
    cfg.timer_fn = mig_cb;
    cfg.timer_arg = &c;
    cfg.main = mig_main;
    cfg.user = &c;
    x = tt_alloc();
    c.x = x;
    assert_int_equal(tt_create(x, &cfg, NULL), 0);
    assert_int_equal(tt_run(x), XSIM_STOP_QUIESCENT);
    assert_int_equal(c.backwards, 0);
    assert_true(x->clk.rebases >= 2); /* the step back, and the resume */
    /* The pending PV timer kept its system-time deadline: it fired, late by
     * the step, never early. */
    assert_int_equal(c.fire.n, 1);
    assert_false(c.fire.early);
    assert_true(c.after_resume >= c.before_resume);
    assert_true(c.after_resume - c.before_resume < 50 * US);
    if (c.tsc_rc == -EOPNOTSUPP) {
        print_message("    (a 2.5 GHz TSC needs the rdtsc hook in hv.c: skipped)\n");
    } else {
        assert_int_equal(c.tsc_rc, 0);
        assert_true(c.tsc_check_value + 2 >= c.tsc_check_want &&
                    c.tsc_check_value <= c.tsc_check_want + 2);
    }
    tt_free(x);
}

/* After a resume on another host the guest re-arms its pending timer from
 * the monotonic clock: it fires on time instead of following the deadline
 * the old host's system time gave it (here 50 ms late). */
struct resume_ctx {
    struct mig_ctx m;
    volatile uint32_t migrated;
    int resume_rc;
    struct xsim_hv_time_stats st;
};

static void migrate_and_flag(struct xsim_world *w, void *arg)
{
    struct resume_ctx *c = arg;

    migrate_back(w, &c->m);
    c->migrated = 1;
}

static void resume_main(struct tt *x, unsigned int cpu)
{
    struct resume_ctx *c = x->user;

    if (cpu != 0)
        return;
    c->m.deadline = xg_clock_now(&x->clk) + 3 * MS;
    xg_timer_set(&x->tm, c->m.deadline);
    xsim_event_schedule(x->th.w, th_now(&x->th) + 1 * MS, 1, migrate_and_flag, c);
    while (xg_read_u32(x->th.p, &c->migrated) == 0)
        tt_work(x, 10 * US);
    xg_clock_resume(&x->clk);
    c->resume_rc = xg_timer_cpu_resume(&x->tm);
    tt_wait_flag(x, &c->m.fire.n);
}

static void skip_if_queue_clamps(void)
{
    if (tt_event_queue_clamps()) {
        print_message("    SKIPPED: the world's event queue runs an event scheduled after a "
                      "peek no earlier than the events then pending (sim/world/evq.c); this test "
                      "needs the fix\n");
        skip();
    }
}

static void test_resume_rearms(void **state)
{
    struct tt_config cfg;
    struct resume_ctx c;
    struct tt *x;

    (void)state;
    skip_if_queue_clamps();
    memset(&c, 0, sizeof(c));
    tt_config_init(&cfg, 2);
    cfg.time.system_time_origin_ns = -1000 * (int64_t)MS;
    cfg.timer_fn = mig_cb;
    cfg.timer_arg = &c.m;
    cfg.main = resume_main;
    cfg.user = &c;
    x = tt_alloc();
    c.m.x = x;
    assert_int_equal(tt_create(x, &cfg, NULL), 0);
    assert_int_equal(tt_run(x), XSIM_STOP_QUIESCENT);
    assert_int_equal(c.resume_rc, 0);
    assert_int_equal(c.m.fire.n, 1);
    assert_false(c.m.fire.early);
    assert_true(c.m.fire.now - c.m.deadline < 20 * US);
    tt_free(x);
}

/* A short timer armed on one CPU after a long one on another fires on
 * time: the timed events of different vCPUs keep their own order. */
struct order_ctx {
    struct kind_ctx k;
    volatile uint32_t armed0;
};

static void order_main(struct tt *x, unsigned int cpu)
{
    struct order_ctx *c = x->user;
    struct fire_rec *r = &c->k.cpu[cpu];

    if (cpu == 0) {
        r->expect = xg_clock_now(&x->clk) + 10 * MS;
        xg_timer_set(&x->tm, r->expect);
        xg_write_u32(x->th.p, &c->armed0, 1);
    } else {
        while (xg_read_u32(x->th.p, &c->armed0) == 0)
            tt_work(x, 1 * US);
        tt_work(x, 5 * US);
        r->expect = xg_clock_now(&x->clk) + 1 * MS;
        xg_timer_set(&x->tm, r->expect);
    }
    tt_wait_flag(x, &r->n);
}

static void test_timers_across_cpus(void **state)
{
    static const enum xg_timer_kind kinds[] = {XG_TIMER_PV, XG_TIMER_TSC_DEADLINE, XG_TIMER_LAPIC,
                                               XG_TIMER_HPET};

    (void)state;
    skip_if_queue_clamps();
    for (unsigned int k = 0; k < 4; k++) {
        struct tt_config cfg;
        struct order_ctx c;
        struct tt *x;

        memset(&c, 0, sizeof(c));
        tt_config_init(&cfg, 2);
        cfg.timer.force = kinds[k];
        cfg.timer_fn = kind_cb;
        cfg.timer_arg = &c.k;
        cfg.main = order_main;
        cfg.user = &c;
        x = run(&cfg, XSIM_STOP_QUIESCENT);
        for (unsigned int i = 0; i < 2; i++) {
            struct fire_rec *r = &c.k.cpu[i];
            if (r->n != 1 || r->early || r->wrong || r->now - r->deadline > 20 * US)
                fail_msg("%s cpu %u: %u fires, %" PRIu64 " ns after its deadline",
                         xg_timer_kind_name(kinds[k]), i, r->n, r->now - r->deadline);
        }
        tt_free(x);
    }
}

/* ---- the emulated HPET's registers ---- */

#define HPET        XG_HPET_BASE
#define IOAPIC_BASE 0xfec00000ull

struct hpet_ctx {
    uint64_t id, c0, c1, c_stopped, c_written, cmp32;
    uint64_t status_set, status_cleared;
    volatile uint32_t irqs, legacy_irqs;
    uint64_t absent;
    uint64_t t_fire, t_cmp;
};

static uint64_t rd(struct tt *x, uint64_t off)
{
    return x->th.p->ops->mmio_read(x->th.p->ctx, HPET + off, 8);
}

static void wr(struct tt *x, uint64_t off, uint64_t v)
{
    x->th.p->ops->mmio_write(x->th.p->ctx, HPET + off, 8, v);
}

static void route(struct tt *x, unsigned int pin, uint8_t vector, bool level)
{
    const struct xg_platform *p = x->th.p;

    xg_mmio_write32(p, IOAPIC_BASE, 0x10 + 2 * pin + 1);
    xg_mmio_write32(p, IOAPIC_BASE + 0x10, 0);
    xg_mmio_write32(p, IOAPIC_BASE, 0x10 + 2 * pin);
    xg_mmio_write32(p, IOAPIC_BASE + 0x10, vector | (level ? 1u << 15 : 0));
}

static bool hpet_intr(struct tt *x, unsigned int cpu, uint8_t vector)
{
    struct hpet_ctx *c = x->user;

    if (vector != 0x61 && vector != 0x62 && vector != 0x63)
        return false;
    if (vector == 0x61) {
        c->irqs++;
        c->t_fire = th_now(&x->th);
    } else if (vector == 0x62) {
        /* Level: the status bit is set; clear it before the EOI. */
        c->status_set = rd(x, 0x20);
        wr(x, 0x20, 2);
        c->status_cleared = rd(x, 0x20);
        c->irqs++;
    } else {
        c->legacy_irqs++;
    }
    xg_eoi(x->th.p);
    return true;
}

static void hpet_main(struct tt *x, unsigned int cpu)
{
    struct hpet_ctx *c = x->user;
    uint64_t t0;

    c->id = rd(x, 0);
    wr(x, 0x10, 0); /* stop */
    wr(x, 0xf0, 1000);
    c->c_written = rd(x, 0xf0);
    tt_work(x, 100 * US);
    c->c_stopped = rd(x, 0xf0);
    wr(x, 0x10, 1); /* run */
    c->c0 = rd(x, 0xf0);
    t0 = th_now(&x->th);
    tt_work(x, 160 * US);
    c->c1 = rd(x, 0xf0) - (th_now(&x->th) - t0 - 160 * US) / 16;
    /* Timer 0, edge, pin 20: fires when the counter reaches the comparator. */
    route(x, 20, 0x61, false);
    wr(x, 0x100, (1 << 2) | (20 << 9));
    uint64_t cnt = rd(x, 0xf0);
    c->t_cmp = th_now(&x->th) + 100 * 16;
    wr(x, 0x108, cnt + 100);
    while (c->irqs < 1)
        tt_work(x, 1 * US);
    /* Timer 1, level, pin 21. */
    route(x, 21, 0x62, true);
    wr(x, 0x120, (1 << 1) | (1 << 2) | (21 << 9));
    wr(x, 0x128, rd(x, 0xf0) + 50);
    while (c->irqs < 2)
        tt_work(x, 1 * US);
    /* 32-bit mode truncates the comparator. */
    wr(x, 0x140, 1 << 8);
    wr(x, 0x148, 0x123456789abcull);
    c->cmp32 = rd(x, 0x148);
    /* Legacy replacement: timer 0 on pin 2. */
    route(x, 2, 0x63, false);
    wr(x, 0x10, 3);
    wr(x, 0x108, rd(x, 0xf0) + 10);
    while (c->legacy_irqs < 1)
        tt_work(x, 1 * US);
    wr(x, 0x10, 1);
}

static void absent_main(struct tt *x, unsigned int cpu)
{
    struct hpet_ctx *c = x->user;

    c->absent = rd(x, 0);
}

static void test_hpet_registers(void **state)
{
    struct tt_config cfg;
    struct hpet_ctx c;
    struct tt *x;

    (void)state;
    memset(&c, 0, sizeof(c));
    tt_config_init(&cfg, 1);
    cfg.no_timers = true;
    cfg.no_ipis = true;
    cfg.main = hpet_main;
    cfg.intr = hpet_intr;
    cfg.user = &c;
    x = run(&cfg, XSIM_STOP_QUIESCENT);
    assert_true((c.id >> 32) == 16000000u); /* 16 ns in fs */
    assert_int_equal((c.id >> 8) & 31, 2);  /* 3 comparators */
    assert_true(c.id & (1 << 13));          /* 64-bit counter */
    assert_true(c.id & (1 << 15));          /* legacy route capable */
    assert_int_equal(c.c_written, 1000);
    assert_int_equal(c.c_stopped, 1000);
    assert_true(c.c1 - c.c0 >= 10000 - 2 && c.c1 - c.c0 <= 10000 + 2);
    assert_true(c.t_fire >= c.t_cmp);
    assert_int_equal(c.status_set & 2, 2);
    assert_int_equal(c.status_cleared & 2, 0);
    assert_int_equal(c.cmp32, 0x56789abcull);
    assert_int_equal(c.legacy_irqs, 1);
    tt_free(x);

    memset(&c, 0, sizeof(c));
    tt_config_init(&cfg, 1);
    cfg.time.hpet = false;
    cfg.no_timers = true;
    cfg.no_ipis = true;
    cfg.main = absent_main;
    cfg.user = &c;
    x = run(&cfg, XSIM_STOP_QUIESCENT);
    assert_true(c.absent == ~0ull);
    tt_free(x);
}

/* ---- the LAPIC timer's registers ---- */

struct lapic_ctx {
    int rc_bad_mode, rc_tmcct_write, rc_tdcr_bad;
    uint64_t tmcct_half, tmcct_idle, deadline_after, deadline_ignored;
    volatile uint32_t irqs;
    uint32_t periodic_irqs;
    uint64_t t_oneshot, t_oneshot_want, t_deadline, t_deadline_want;
    int rc_hidden;
};

static bool lapic_intr(struct tt *x, unsigned int cpu, uint8_t vector)
{
    struct lapic_ctx *c = x->user;

    if (vector != 0x70)
        return false;
    c->irqs++;
    if (c->irqs == 1)
        c->t_oneshot = th_now(&x->th);
    xg_eoi(x->th.p);
    return true;
}

static void lapic_main(struct tt *x, unsigned int cpu)
{
    const struct xg_platform *p = x->th.p;
    struct lapic_ctx *c = x->user;
    uint64_t v, t0;

    c->rc_bad_mode = xg_wrmsr(p, 0x832, 0x70 | (3u << 17));
    c->rc_tmcct_write = xg_wrmsr(p, 0x839, 5);
    c->rc_tdcr_bad = xg_wrmsr(p, 0x83e, 0x4);
    /* One-shot, divide by 2: 1000 counts are 2000 ns. */
    xg_wrmsr(p, 0x83e, 0x0);
    xg_wrmsr(p, 0x832, 0x70);
    t0 = th_now(&x->th);
    xg_wrmsr(p, 0x838, 100000);
    c->t_oneshot_want = t0 + 200000;
    tt_work(x, 100000 - (th_now(&x->th) - t0));
    xg_rdmsr(p, 0x839, &v);
    c->tmcct_half = v;
    while (c->irqs < 1)
        tt_work(x, 1 * US);
    xg_rdmsr(p, 0x839, &c->tmcct_idle);
    /* Periodic: 5 interrupts in 5 periods of 20 us (plus slack). */
    xg_wrmsr(p, 0x832, 0x70 | (1u << 17));
    xg_wrmsr(p, 0x838, 10000);
    t0 = th_now(&x->th);
    /* Small steps: each period's interrupt is taken before the next one
     * (a longer step would coalesce them in the IRR, as hardware does). */
    while (th_now(&x->th) - t0 < 105 * US)
        tt_work(x, 1 * US);
    xg_wrmsr(p, 0x838, 0);
    c->periodic_irqs = c->irqs - 1;
    /* TSC deadline: writes outside the mode are ignored; the MSR reads 0
     * once it fired. */
    xg_wrmsr(p, 0x6e0, xg_rdtsc(p) + 1000);
    xg_rdmsr(p, 0x6e0, &c->deadline_ignored);
    xg_wrmsr(p, 0x832, 0x70 | (2u << 17));
    c->t_deadline_want = xg_rdtsc(p) + 30000;
    xg_wrmsr(p, 0x6e0, c->t_deadline_want);
    uint32_t before = c->irqs;
    while (c->irqs == before)
        tt_work(x, 1 * US);
    c->t_deadline = th_now(&x->th);
    xg_rdmsr(p, 0x6e0, &c->deadline_after);
}

static void lapic_hidden_main(struct tt *x, unsigned int cpu)
{
    struct lapic_ctx *c = x->user;

    c->rc_hidden = xg_wrmsr(x->th.p, 0x832, 0x70 | (2u << 17));
}

static void test_lapic_timer_registers(void **state)
{
    struct tt_config cfg;
    struct lapic_ctx c;
    struct tt *x;

    (void)state;
    memset(&c, 0, sizeof(c));
    tt_config_init(&cfg, 1);
    cfg.no_timers = true;
    cfg.no_ipis = true;
    cfg.main = lapic_main;
    cfg.intr = lapic_intr;
    cfg.user = &c;
    x = run(&cfg, XSIM_STOP_QUIESCENT);
    assert_int_equal(c.rc_bad_mode, -EINVAL);
    assert_int_equal(c.rc_tmcct_write, -EINVAL);
    assert_int_equal(c.rc_tdcr_bad, -EINVAL);
    assert_true(c.tmcct_half >= 49000 && c.tmcct_half <= 51000);
    assert_true(c.t_oneshot >= c.t_oneshot_want);
    assert_int_equal(c.tmcct_idle, 0);
    assert_int_equal(c.periodic_irqs, 5);
    assert_int_equal(c.deadline_ignored, 0);
    assert_true(c.t_deadline >= c.t_deadline_want); /* TSC is virtual ns by default */
    assert_int_equal(c.deadline_after, 0);
    tt_free(x);

    memset(&c, 0, sizeof(c));
    tt_config_init(&cfg, 1);
    cfg.time.tsc_deadline = false;
    cfg.no_timers = true;
    cfg.no_ipis = true;
    cfg.main = lapic_hidden_main;
    cfg.user = &c;
    x = run(&cfg, XSIM_STOP_QUIESCENT);
    assert_int_equal(c.rc_hidden, -EINVAL);
    tt_free(x);
}

/* ---- configuration errors ---- */

static void test_config_errors(void **state)
{
    struct tt_config cfg;
    struct xsim_hv_time_config tc;
    struct tt *x = tt_alloc();

    (void)state;
    tt_config_init(&cfg, 1);
    assert_int_equal(tt_create(x, &cfg, NULL), 0);
    xsim_hv_time_config_default(&tc);
    assert_int_equal(xsim_hv_time_config(x->th.hv, 9, &tc), -ESRCH);
    tc.tsc_hz = 0;
    assert_int_equal(xsim_hv_time_config(x->th.hv, TH_GUEST_DOMID, &tc), -EINVAL);
    xsim_hv_time_config_default(&tc);
    tc.hpet_timers = 33;
    assert_int_equal(xsim_hv_time_config(x->th.hv, TH_GUEST_DOMID, &tc), -EINVAL);
    xsim_hv_time_config_default(&tc);
    tc.wc_nsec = 1000000000;
    assert_int_equal(xsim_hv_time_config(x->th.hv, TH_GUEST_DOMID, &tc), -EINVAL);
    xsim_hv_time_config_default(&tc);
    tc.system_time_origin_ns = 1; /* a host that boots after now */
    assert_int_equal(xsim_hv_time_config(x->th.hv, TH_GUEST_DOMID, &tc), -EINVAL);
    xsim_hv_time_config_default(&tc);
    tc.tsc_origin_ns = 1;
    assert_int_equal(xsim_hv_time_config(x->th.hv, TH_GUEST_DOMID, &tc), -EINVAL);
    /* Model functions. */
    xsim_hv_time_config_default(&tc);
    tc.system_time_origin_ns = -1000;
    assert_int_equal(xsim_hv_time_config(x->th.hv, TH_GUEST_DOMID, &tc), 0);
    assert_int_equal(xsim_hv_time_system(x->th.hv, TH_GUEST_DOMID, 500), 1500);
    assert_int_equal(xsim_hv_time_system(x->th.hv, TH_GUEST_DOMID, 5000), 6000);
    assert_int_equal(xsim_hv_time_tsc(x->th.hv, TH_GUEST_DOMID, 5000), 5000);
    assert_int_equal(xsim_hv_time_tsc_to_vtime(x->th.hv, TH_GUEST_DOMID, 777), 777);
    tt_free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pvclock_published),
        cmocka_unit_test(test_vcpuop_timers),
        cmocka_unit_test(test_set_timer_op),
        cmocka_unit_test(test_periodic_stopped_at_boot),
        cmocka_unit_test(test_timer_kinds),
        cmocka_unit_test(test_timers_3ghz_tsc),
        cmocka_unit_test(test_fallback_matrix),
        cmocka_unit_test(test_exit_accounting),
        cmocka_unit_test(test_migration),
        cmocka_unit_test(test_resume_rearms),
        cmocka_unit_test(test_timers_across_cpus),
        cmocka_unit_test(test_hpet_registers),
        cmocka_unit_test(test_lapic_timer_registers),
        cmocka_unit_test(test_config_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
