/*
 * test_suspend_explore.c - schedule exploration of suspend against timers
 * and events: CPU 0 and CPU 1 arm timers with deadlines around the
 * suspend, dom0 sends on an event channel (delivered to CPU 1) at a time
 * spread around it, and the toolstack cancels (same host) or migrates. The
 * oracles: every timer callback runs exactly once and never before its
 * deadline; the event sent is handled by a run that started after the
 * send (cancelled: the port survives); after a migration an IPI to CPU 1
 * reaches it on its new port. Under random and pct:2 (policy API).
 *
 * XSIM_SUSPEND_SCHEDULES=N changes the schedules per case;
 * XSIM_SUSPEND_ONLY=case:policy:seed runs one schedule (the replay).
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

#include "suspend_harness.h"

#define US 1000ull
#define MS 1000000ull

/* How many schedules hit the interesting windows. */
static unsigned int cov_send_in_suspend, cov_timer_in_suspend;

struct ex {
    bool migrate;
    struct xsim_migration m;
    uint64_t seed;
    uint64_t deadline0_delta, send_at;
    int rc;
    uint64_t t_before, t_after, mono_before, mono_after, deadline0;
    uint32_t fired0_base; /* CPU 0 callbacks before its timer was re-armed */
    bool waited_timers, waited_ipi;
    bool done;
};

static void send_event(struct xsim_world *w, void *arg)
{
    struct sh *x = arg;

    x->ev_sent_at = xsim_world_now(w);
    (void)xsim_hv_evtchn_send(x->th.hv, TH_BACKEND_DOMID, x->ev_bport);
}

/* Window 1: a device's suspend hook, on CPU 0 with CPU 1 parked: dom0
 * sends now, and CPU 0's timer is re-armed to fall inside the suspend. */
static int dev_suspend(void *arg)
{
    struct sh *x = arg;
    struct ex *e = x->user;

    if (!e->migrate)
        send_event(x->th.w, x);   /* a migration closes the port: lost by design */
    e->fired0_base = x->fired[0]; /* the first deadline may have passed already */
    e->deadline0 = xg_clock_now(&x->clk) + 10 * US + (e->seed * 29 % 17) * 20 * US;
    (void)xg_timer_set(&x->tm, e->deadline0);
    return 0;
}

static int dev_resume(void *arg, bool new_host)
{
    return 0;
}

/* Window 2: while the guest is in SCHEDOP_shutdown. */
static void observer(void *arg, enum xsim_toolstack_step step, uint64_t now)
{
    struct sh *x = arg;
    struct ex *e = x->user;

    if (step == XSIM_TS_SUSPENDED && !e->migrate && e->seed % 3 == 2)
        xsim_event_schedule(x->th.w, now + (e->seed * 31 % 11) * 25 * US, 0x53454e44, send_event,
                            x);
}

static void ex_main(struct sh *x, unsigned int cpu)
{
    struct ex *e = x->user;
    struct xg_suspend_dev dev = {"probe", dev_suspend, dev_resume, x};

    if (cpu != 0)
        return;
    xsim_toolstack_set_observer(x->ts, observer, x);
    if (e->seed % 3 == 1)
        (void)xg_suspend_register(x->susp, &dev);
    /* Everything relative to now (boot takes a schedule-dependent time):
     * the request 1 ms ahead, CPU 1's timer (through an IPI) and CPU 0's
     * due around it, and dom0's send spread over the same window. */
    e->m.at_ns = th_now(&x->th) + 1 * MS;
    xsim_toolstack_schedule(x->ts, &e->m);
    if (!e->migrate && e->seed % 3 == 0)
        xsim_event_schedule(x->th.w, th_now(&x->th) + e->send_at, 0x53454e44, send_event, x);
    x->arm_delta_ns = 1 * MS + (e->seed % 7) * 40 * US - 120 * US;
    (void)xg_ipi_send(&x->ipi, 1, XG_IPI_CALL);
    e->deadline0 = xg_clock_now(&x->clk) + e->deadline0_delta;
    (void)xg_timer_set(&x->tm, e->deadline0);
    e->rc =
        sh_wait_and_suspend_timed(x, &e->t_before, &e->t_after, &e->mono_before, &e->mono_after);
    e->waited_timers =
        sh_wait_count(x, &x->fired[0], 1, 20 * MS) && sh_wait_count(x, &x->fired[1], 1, 20 * MS);
    if (e->migrate) {
        uint32_t before = x->ipis[1];
        (void)xg_ipi_send(&x->ipi, 1, XG_IPI_RESCHED);
        e->waited_ipi = sh_wait_count(x, &x->ipis[1], before + 1, 20 * MS);
    }
    e->done = true;
}

static bool run_one(bool migrate, struct xsim_policy *pol, uint64_t seed, char *why, size_t len)
{
    struct sh_config cfg;
    struct ex e = {.migrate = migrate, .seed = seed};
    struct sh *x = sh_alloc();
    const char *f;
    bool ok = true;

    sh_config_init(&cfg, 2);
    cfg.th.world.seed = seed;
    cfg.th.world.max_decisions = 3000000;
    cfg.main = ex_main;
    if (getenv("XSIM_SUSPEND_DEBUG") != NULL)
        cfg.th.world.log = stderr;
    cfg.user = &e;
    e.deadline0_delta = 800 * US + (seed * 37 % 11) * 50 * US;
    e.send_at = 900 * US + (seed * 53 % 13) * 50 * US;
    if (x == NULL || sh_create(x, &cfg, pol) != 0) {
        snprintf(why, len, "setup");
        sh_free(x);
        return false;
    }
    xsim_migration_init(&e.m);
    e.m.downtime_ns = 300 * US;
    /* Under random and PCT a pending timeout may run at any decision:
     * this test is about what survives a suspend, not about slow guests. */
    e.m.ack_timeout_ns = UINT64_MAX;
    e.m.suspend_timeout_ns = UINT64_MAX;
    e.m.cancel = !migrate;
    if (migrate)
        e.m.tsc_hz = 1700000000ull;
    sh_run(x);
    if (!migrate && x->ev_sent_at >= e.t_before && x->ev_sent_at <= e.t_after)
        cov_send_in_suspend++;
    if (e.deadline0 >= e.mono_before && e.deadline0 <= e.mono_after)
        cov_timer_in_suspend++;
    f = xsim_world_failure(x->th.w);
    if (f != NULL) {
        snprintf(why, len, "world failure: %s", f);
        ok = false;
    } else if (x->setup_rc != 0 || !e.done) {
        snprintf(why, len, "did not finish (setup %d, done %d)", x->setup_rc, e.done);
        ok = false;
    } else if (e.rc != (migrate ? 0 : 1)) {
        snprintf(why, len, "suspend returned %d", e.rc);
        ok = false;
    } else if (!e.waited_timers || x->fired[0] != e.fired0_base + 1 || x->fired[1] != 1) {
        snprintf(why, len, "timer callbacks: cpu0 %u, cpu1 %u (want %u and 1)", x->fired[0],
                 x->fired[1], e.fired0_base + 1);
        ok = false;
    } else if (x->ran_while_suspended != 0) {
        snprintf(why, len, "%u handler runs while the domain was suspended",
                 x->ran_while_suspended);
        ok = false;
    } else if (x->fired_late[0] != 0 || x->fired_late[1] != 0) {
        snprintf(why, len, "a timer callback ran before its deadline");
        ok = false;
    } else if (!migrate && (x->ev_handled == 0 || x->ev_handled_at < x->ev_sent_at)) {
        snprintf(why, len, "event sent at %" PRIu64 " lost (handled %u, last at %" PRIu64 ")",
                 x->ev_sent_at, x->ev_handled, x->ev_handled_at);
        ok = false;
    } else if (migrate && !e.waited_ipi) {
        snprintf(why, len, "IPI to CPU 1 after the migration lost");
        ok = false;
    }
    if (!ok && getenv("XSIM_SUSPEND_DEBUG") != NULL) {
        struct xsim_hv_port_info pi = {0};
        xsim_hv_port_info(x->th.hv, TH_GUEST_DOMID, x->ev_port, &pi);
        fprintf(stderr,
                "ev_port %u guest cpu %u kind %u; hv status %u vcpu %u pending %d masked %d; "
                "q0 %u q1 %u up1 %d fired %u/%u ipis %u/%u rc %d now %" PRIu64 " stop %s\n",
                x->ev_port, x->th.g->ports[x->ev_port].cpu, x->th.g->ports[x->ev_port].kind,
                pi.status, pi.notify_vcpu, pi.pending, pi.masked, x->th.g->cpus[0].quiesced,
                x->th.g->cpus[1].quiesced, x->th.g->cpus[1].up, x->fired[0], x->fired[1],
                x->ipis[0], x->ipis[1], e.rc, th_now(&x->th), "");
        {
            struct xg_suspend_stats gs;
            struct xsim_toolstack_stats ts;
            char v[32] = "?";
            xg_suspend_get_stats(x->susp, &gs);
            xsim_toolstack_get_stats(x->ts, &ts);
            xsim_xshost_read(x->th.xs, "/local/domain/1/control/shutdown", v, sizeof(v));
            xsim_hv_port_info(x->th.hv, TH_GUEST_DOMID, x->xb.port, &pi);
            fprintf(stderr,
                    "greq %llu ts req %llu acked %llu failed %llu val '%s' xbport %u cpu %u "
                    "pend %d mask %d wev %llu reqs %llu\n",
                    (unsigned long long)gs.requests, (unsigned long long)ts.requested,
                    (unsigned long long)ts.acked, (unsigned long long)ts.failed, v, x->xb.port,
                    x->th.g->ports[x->xb.port].cpu, pi.pending, pi.masked,
                    (unsigned long long)x->xb.watch_events, (unsigned long long)x->xb.requests);
        }
    }
    sh_free(x);
    return ok;
}

static uint64_t schedules(uint64_t n)
{
    const char *s = getenv("XSIM_SUSPEND_SCHEDULES");

    return s != NULL ? strtoull(s, NULL, 10) : n;
}

static void explore(const char *name, bool migrate, const char *spec, uint64_t n)
{
    struct xsim_error err;
    struct xsim_policy *pol = xsim_policy_create(spec, &err);
    const char *only = getenv("XSIM_SUSPEND_ONLY");
    char why[256] = "", prefix[64];
    uint64_t first = 1, last = schedules(n);

    assert_non_null(pol);
    snprintf(prefix, sizeof(prefix), "%s:%s:", name, spec);
    if (only != NULL) {
        if (strncmp(only, prefix, strlen(prefix)) != 0)
            last = 0;
        else
            first = last = strtoull(only + strlen(prefix), NULL, 10);
    }
    cov_send_in_suspend = cov_timer_in_suspend = 0;
    for (uint64_t s = first; s <= last && last != 0; s++) {
        if (!run_one(migrate, pol, s, why, sizeof(why))) {
            xsim_policy_destroy(pol);
            fail_msg("%s under %s, seed %" PRIu64 ": %s\n  replay: XSIM_SUSPEND_ONLY=%s%" PRIu64
                     " ./test_suspend_explore",
                     name, spec, s, why, prefix, s);
        }
    }
    xsim_policy_destroy(pol);
    print_message("    %s under %s: %" PRIu64 " schedules, event sent during the suspend in %u, "
                  "CPU 0's deadline inside it in %u\n",
                  name, spec, last >= first && last != 0 ? last - first + 1 : 0,
                  cov_send_in_suspend, cov_timer_in_suspend);
    /* The races this test is about did happen (full runs only). */
    if (only == NULL && last >= 50)
        assert_true((migrate || cov_send_in_suspend > 0) && cov_timer_in_suspend > 0);
}

static void test_cancel_random(void **state)
{
    (void)state;
    explore("cancel", false, "random", 100);
}

static void test_cancel_pct2(void **state)
{
    (void)state;
    explore("cancel", false, "pct:2", 100);
}

static void test_migrate_random(void **state)
{
    (void)state;
    explore("migrate", true, "random", 100);
}

static void test_migrate_pct2(void **state)
{
    (void)state;
    explore("migrate", true, "pct:2", 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cancel_random),
        cmocka_unit_test(test_cancel_pct2),
        cmocka_unit_test(test_migrate_random),
        cmocka_unit_test(test_migrate_pct2),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
