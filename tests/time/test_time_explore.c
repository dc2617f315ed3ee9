/*
 * test_time_explore.c - schedule exploration of the time races:
 *
 *   torn      readers on two vCPUs read their pvclock while the hypervisor
 *             republishes the records every few microseconds (two steps,
 *             a scheduling point between) and twice moves system time by
 *             5 ms (a migration). A consistent read equals system time at
 *             the TSC it read; the guest's monotonic clock never returns
 *             less than any value returned before the call began. A reader
 *             without the version protocol must be caught (the control).
 *   timers    two vCPUs arm, re-arm, stop and re-arm their timers with
 *             deadlines microseconds apart, so expiries race reprograms;
 *             the hypervisor fires up to 3 us late (slop). A callback never
 *             runs before its deadline or for a superseded one, and the
 *             last deadline of every round gets exactly one callback (a
 *             lost one leaves its vCPU waiting: the run goes quiescent
 *             with work unfinished). PV timers under random, pct:2 and
 *             pct:3; TSC-deadline and HPET timers under random.
 *   burst     a vCPU sends a burst of IPIs to another, PV and LAPIC: at
 *             least one handler run starts after the last send was issued.
 *
 * Schedules per scenario are scaled by XSIM_TIME_SCHEDULES_SCALE (the
 * `long` label runs 10x). A failure prints its replay command:
 * XSIM_TIME_ONLY=scenario:policy:seed runs just that schedule.
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

#include "policy.h"
#include "time_harness.h"

#define US 1000ull
#define MS 1000000ull

typedef bool (*scenario_fn)(struct xsim_policy *pol, uint64_t seed, const void *arg, char *why,
                            size_t len);

static uint64_t scaled(uint64_t n)
{
    const char *s = getenv("XSIM_TIME_SCHEDULES_SCALE");

    return s != NULL ? n * strtoull(s, NULL, 10) : n;
}

/* XSIM_TIME_ONLY=name:policy:seed restricts the run to one schedule. */
static bool only(const char *name, const char *spec, uint64_t *seed)
{
    const char *o = getenv("XSIM_TIME_ONLY");
    char buf[128];

    if (o == NULL)
        return false;
    snprintf(buf, sizeof(buf), "%s:%s:", name, spec);
    if (strncmp(o, buf, strlen(buf)) != 0) {
        *seed = 0;
        return true;
    }
    *seed = strtoull(o + strlen(buf), NULL, 10);
    return true;
}

/* Run `n` schedules; returns the first failing seed or 0. */
static uint64_t explore(const char *name, scenario_fn fn, const void *arg, const char *spec,
                        uint64_t n, bool expect_failure)
{
    struct xsim_policy *pol = th_policy(spec);
    char why[256] = "";
    uint64_t seed = 0, found = 0;

    if (only(name, spec, &seed)) {
        if (seed != 0 && !fn(pol, seed, arg, why, sizeof(why)))
            found = seed;
        n = 0;
    }
    for (uint64_t s = 1; s <= n; s++) {
        if (!fn(pol, s, arg, why, sizeof(why))) {
            found = s;
            break;
        }
    }
    xsim_policy_destroy(pol);
    if (found != 0 && !expect_failure)
        fail_msg("%s under %s, seed %" PRIu64 ": %s\n  replay: XSIM_TIME_ONLY=%s:%s:%" PRIu64
                 " ./test_time_explore",
                 name, spec, found, why, name, spec, found);
    if (found != 0)
        print_message("    %s under %s: caught at seed %" PRIu64 " (%s)\n", name, spec, found, why);
    return found;
}

static struct tt *make(struct tt_config *cfg, struct xsim_policy *pol, uint64_t seed)
{
    struct tt *x = tt_alloc();

    cfg->th.world.seed = seed;
    cfg->th.world.max_decisions = 2000000;
    if (x == NULL || tt_create(x, cfg, pol) != 0)
        fail_msg("setup failed");
    return x;
}

/* ---- torn reads ---- */

#define READS 12

struct torn {
    bool naive;
    volatile uint64_t max_seen;
    uint32_t bad_raw, bad_mono;
    uint64_t bad_value, bad_tsc;
    struct tt *x;
};

static void migrate(struct xsim_world *w, void *arg)
{
    struct torn *c = arg;
    struct xsim_hv_time_config cfg;

    xsim_hv_time_get_config(c->x->th.hv, TH_GUEST_DOMID, &cfg);
    /* System time jumps 5 ms ahead, then back. */
    cfg.system_time_origin_ns = cfg.system_time_origin_ns == 0 ? -5 * (int64_t)MS : 0;
    xsim_hv_time_config(c->x->th.hv, TH_GUEST_DOMID, &cfg);
}

/* Reads the record field by field with no version check: the control. */
static uint64_t naive_read(const struct xg_platform *p, const struct vcpu_time_info *ti,
                           uint64_t *tsc)
{
    struct xg_pvclock_snap s;

    s.tsc_timestamp = xg_read_u64(p, &ti->tsc_timestamp);
    s.system_time = xg_read_u64(p, &ti->system_time);
    s.mul = xg_read_u32(p, &ti->tsc_to_system_mul);
    s.shift = (int8_t)xg_read_u8(p, (const volatile uint8_t *)&ti->tsc_shift);
    *tsc = xg_rdtsc(p);
    return xg_pvclock_ns(&s, *tsc);
}

static void torn_main(struct tt *x, unsigned int cpu)
{
    struct torn *c = x->user;
    const struct xg_platform *p = x->th.p;
    const struct vcpu_time_info *ti = &x->th.g->cpus[cpu].vi->time;

    if (cpu == 0) {
        /* Two migrations while the readers run. */
        xsim_event_schedule(x->th.w, th_now(&x->th) + 9 * US, 1, migrate, c);
        xsim_event_schedule(x->th.w, th_now(&x->th) + 23 * US, 1, migrate, c);
        return;
    }
    for (int i = 0; i < READS; i++) {
        struct xg_pvclock_snap s;
        uint64_t v, tsc, floor, m;

        if (c->naive) {
            v = naive_read(p, ti, &tsc);
        } else {
            xg_pvclock_read(p, ti, &s, 0);
            v = xg_pvclock_ns(&s, s.tsc);
            tsc = s.tsc;
        }
        /* The world's TSC is virtual ns: system time is the TSC, or the
         * TSC plus 5 ms while the second host is in charge. */
        if (v != tsc && v != tsc + 5 * MS && c->bad_raw++ == 0) {
            c->bad_value = v;
            c->bad_tsc = tsc;
        }
        if (c->naive)
            continue;
        floor = xg_read_u64(p, &c->max_seen);
        v = xg_clock_now(&x->clk);
        if (v < floor)
            c->bad_mono++;
        m = floor;
        while (v > m && !xg_cmpxchg_u64(p, &c->max_seen, &m, v))
            ;
        tt_work(x, 1 * US);
    }
}

static bool torn_run(struct xsim_policy *pol, uint64_t seed, const void *arg, char *why, size_t len)
{
    struct tt_config cfg;
    struct torn c;
    struct tt *x;
    enum xsim_stop_reason r;
    bool ok;

    memset(&c, 0, sizeof(c));
    c.naive = arg != NULL;
    tt_config_main(&cfg, 3, torn_main, &c);
    cfg.time.calibrate_ns = 2 * US;
    cfg.time.calibrate_count = 20;
    cfg.no_timers = true;
    cfg.no_ipis = true;
    x = make(&cfg, pol, seed);
    c.x = x;
    r = tt_run(x);
    ok = r == XSIM_STOP_QUIESCENT && tt_all_done(x) && c.bad_raw == 0 && c.bad_mono == 0;
    if (!ok)
        snprintf(why, len,
                 "stop %s, done %d, %u torn reads (first %" PRIu64 " at TSC %" PRIu64
                 "), %u backward clock reads",
                 xsim_stop_reason_name(r), tt_all_done(x), c.bad_raw, c.bad_value, c.bad_tsc,
                 c.bad_mono);
    tt_free(x);
    return ok;
}

static void test_torn_reads(void **state)
{
    (void)state;
    explore("torn", torn_run, NULL, "random", scaled(600), false);
    explore("torn", torn_run, NULL, "pct:2", scaled(600), false);
    /* The control: the same reads without the version protocol get caught. */
    if (getenv("XSIM_TIME_ONLY") == NULL)
        assert_true(explore("torn-naive", torn_run, "naive", "random", 2000, true) != 0);
}

/* ---- timers: reprogramming races expiry ---- */

#define ROUNDS 4

struct tcpu {
    uint64_t expect;         /* the deadline that must fire */
    volatile uint32_t fired; /* callbacks for `expect` */
    uint32_t early, stale, extra;
};

struct tctx {
    struct tcpu cpu[2];
    uint64_t seed;
};

static void t_cb(struct xg_timers *t, unsigned int cpu, uint64_t d, uint64_t now, void *arg)
{
    struct tctx *c = arg;
    struct tcpu *tc = &c->cpu[cpu];

    if (now < d)
        tc->early++;
    if (d != tc->expect)
        tc->stale++; /* a stopped or superseded deadline */
    else if (tc->fired != 0)
        tc->extra++;
    xg_write_u32(t->g->p, &tc->fired, tc->fired + 1);
}

/* Arm with the expectation updated in the same interrupts-off section: an
 * expiry of the old deadline is then either taken before (and counted for
 * the old deadline) or finds the new one. */
static void t_arm(struct tt *x, struct tcpu *tc, uint64_t deadline)
{
    bool was = xg_irq_save(x->th.p);

    tc->expect = deadline;
    tc->fired = 0;
    xg_timer_set(&x->tm, deadline);
    xg_irq_restore(x->th.p, was);
}

static void t_stop(struct tt *x, struct tcpu *tc)
{
    bool was = xg_irq_save(x->th.p);

    tc->expect = 0;
    xg_timer_stop(&x->tm);
    xg_irq_restore(x->th.p, was);
}

static void t_main(struct tt *x, unsigned int cpu)
{
    struct tctx *c = x->user;
    struct tcpu *tc = &c->cpu[cpu];
    struct xsim_rng r;

    if (cpu > 1 || x->timer_cpu_rc[cpu] != 0)
        return;
    /* The pattern comes from the seed: the schedule is what varies most. */
    xsim_rng_init(&r, c->seed * 2 + cpu, "time.explore");
    for (int round = 0; round < ROUNDS; round++) {
        uint64_t now = xg_clock_now(&x->clk);
        uint64_t a = 1 + xsim_rng_below(&r, 6), b = 1 + xsim_rng_below(&r, 6);

        t_arm(x, tc, now + a * US);
        switch (xsim_rng_below(&r, 4)) {
        case 0:
            break;
        case 1: /* re-arm, maybe earlier, maybe while the first expires */
            tt_work(x, xsim_rng_below(&r, 3) * US);
            t_arm(x, tc, xg_clock_now(&x->clk) + b * US);
            break;
        case 2: /* stop, then arm again */
            tt_work(x, xsim_rng_below(&r, 3) * US);
            t_stop(x, tc);
            t_arm(x, tc, xg_clock_now(&x->clk) + b * US);
            break;
        default: /* a deadline already past */
            tt_work(x, (a + 1) * US);
            t_arm(x, tc, xg_clock_now(&x->clk) - 1);
            break;
        }
        tt_wait_flag(x, &tc->fired);
        tt_work(x, 4 * US); /* a straggler would show up here */
    }
}

static bool timer_run(struct xsim_policy *pol, uint64_t seed, const void *arg, char *why,
                      size_t len)
{
    const enum xg_timer_kind *kind = arg;
    struct tt_config cfg;
    struct tctx c;
    struct tt *x;
    enum xsim_stop_reason r;
    bool ok;

    memset(&c, 0, sizeof(c));
    c.seed = seed;
    tt_config_main(&cfg, 2, t_main, &c);
    cfg.time.timer_slop_ns = 3 * US;
    cfg.timer.force = *kind;
    cfg.timer.min_delta_ns = 1 * US;
    cfg.timer_fn = t_cb;
    cfg.timer_arg = &c;
    cfg.no_ipis = true;
    cfg.th.world.keep_trace = *kind == XG_TIMER_PV;
    x = make(&cfg, pol, seed);
    r = tt_run(x);
    ok = r == XSIM_STOP_QUIESCENT && tt_all_done(x) && xg_timer_kind(&x->tm) == *kind;
    if (*kind == XG_TIMER_PV) {
        /* The hypervisor's own record: no VIRQ_TIMER raised before its
         * deadline (system time is virtual ns here). */
        size_t n;
        const struct xsim_trace_rec *tr = xsim_world_trace(x->th.w, &n);
        for (size_t i = 0; i < n; i++) {
            if (tr[i].type == XSIM_TR_HV && tr[i].a == 0x10 && tr[i].time_ns < tr[i].c) {
                snprintf(why, len, "VIRQ_TIMER raised at %" PRIu64 " for deadline %" PRIu64,
                         tr[i].time_ns, tr[i].c);
                tt_free(x);
                return false;
            }
        }
    }
    for (int i = 0; i < 2; i++)
        ok = ok && c.cpu[i].early == 0 && c.cpu[i].stale == 0 && c.cpu[i].extra == 0;
    if (!ok)
        snprintf(why, len,
                 "%s timers: stop %s, all done %d (a lost timer leaves a vCPU waiting); "
                 "early %u/%u, superseded %u/%u, twice %u/%u",
                 xg_timer_kind_name(*kind), xsim_stop_reason_name(r), tt_all_done(x),
                 c.cpu[0].early, c.cpu[1].early, c.cpu[0].stale, c.cpu[1].stale, c.cpu[0].extra,
                 c.cpu[1].extra);
    tt_free(x);
    return ok;
}

static void test_timer_races(void **state)
{
    static const enum xg_timer_kind pv = XG_TIMER_PV, tscd = XG_TIMER_TSC_DEADLINE,
                                    hpet = XG_TIMER_HPET;

    (void)state;
    explore("timers-pv", timer_run, &pv, "random", scaled(4000), false);
    explore("timers-pv", timer_run, &pv, "pct:2", scaled(3000), false);
    explore("timers-pv", timer_run, &pv, "pct:3", scaled(3000), false);
    explore("timers-tscd", timer_run, &tscd, "random", scaled(500), false);
    explore("timers-hpet", timer_run, &hpet, "random", scaled(500), false);
}

/* ---- IPI bursts ---- */

struct bctx {
    volatile uint64_t seq, last_send, last_start;
    volatile uint32_t stop;
};

static void b_ipi(struct xg_ipi *ipi, unsigned int cpu, enum xg_ipi_kind kind, void *arg)
{
    struct bctx *c = arg;
    const struct xg_platform *p = ipi->g->p;
    uint64_t s = xg_fetch_add_u64(p, &c->seq, 1);

    xg_write_u64(p, &c->last_start, s + 1);
}

static void b_main(struct tt *x, unsigned int cpu)
{
    struct bctx *c = x->user;
    const struct xg_platform *p = x->th.p;

    if (cpu == 1) {
        tt_wait_flag(x, &c->stop);
        return;
    }
    for (int i = 0; i < 4; i++) {
        /* Stamp, then send: a handler run that starts after the stamp
         * cannot have missed this send. */
        uint64_t s = xg_fetch_add_u64(p, &c->seq, 1);
        if (xg_ipi_send(&x->ipi, 1, XG_IPI_CALL) == 1)
            xg_write_u64(p, &c->last_send, s + 1);
    }
    tt_work(x, 30 * US);
    xg_write_u32(p, &c->stop, 1);
    xg_ipi_send(&x->ipi, 1, XG_IPI_RESCHED);
}

static bool burst_run(struct xsim_policy *pol, uint64_t seed, const void *arg, char *why,
                      size_t len)
{
    const enum xg_ipi_mode *mode = arg;
    struct tt_config cfg;
    struct bctx c;
    struct tt *x;
    enum xsim_stop_reason r;
    bool ok;

    memset(&c, 0, sizeof(c));
    tt_config_main(&cfg, 2, b_main, &c);
    cfg.ipi.force = *mode;
    cfg.ipi.fn[XG_IPI_CALL] = b_ipi;
    cfg.ipi.arg[XG_IPI_CALL] = &c;
    cfg.no_timers = true;
    x = make(&cfg, pol, seed);
    r = tt_run(x);
    ok = r == XSIM_STOP_QUIESCENT && tt_all_done(x) && c.last_send != 0 &&
         c.last_start > c.last_send;
    if (!ok)
        snprintf(why, len, "%s: stop %s, last send #%" PRIu64 ", last handler start #%" PRIu64,
                 xg_ipi_mode_name(*mode), xsim_stop_reason_name(r), c.last_send, c.last_start);
    tt_free(x);
    return ok;
}

static void test_ipi_bursts(void **state)
{
    static const enum xg_ipi_mode pv = XG_IPI_MODE_PV, lapic = XG_IPI_MODE_LAPIC;

    (void)state;
    explore("burst-pv", burst_run, &pv, "random", scaled(500), false);
    explore("burst-pv", burst_run, &pv, "pct:2", scaled(500), false);
    explore("burst-lapic", burst_run, &lapic, "random", scaled(500), false);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_torn_reads),
        cmocka_unit_test(test_timer_races),
        cmocka_unit_test(test_ipi_bursts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
