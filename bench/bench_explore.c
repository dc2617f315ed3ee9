/*
 * bench_explore - exploration throughput: schedules per second in one
 * worker, on the thread backend (the baseline, measured in the same run)
 * and on the fiber backend:
 *   lost_update_random / _pct3   a planted 2-vCPU lost update (each vCPU adds
 *                      1 to a shared counter 5 times with a plain read and a
 *                      plain write), one world per schedule, under `random`
 *                      and `pct:3`; the oracle checks the counter
 *   demo_random_time   sim/scenarios/demo.json through the scenario runner
 *                      (machine, guest, oracles, report) under random+time
 *   demo_100us         the same stopped at 100 us: mostly the cost of a
 *                      schedule besides its run (set-up, boot, report)
 *   *_speedup          fiber schedules/s / thread schedules/s
 *                      (targets: lost update >= 20, demo >= 10)
 * Both backends must find the same failing schedules: the bench checks it.
 * Each figure is the best of three rounds that alternate the backends.
 * The last line is one JSON object. --quick runs a short version;
 * --profile random|pct:3|demo [N] runs one case (N schedules) on fibers only,
 * for perf.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xensim/scenario.h"
#include "xensim/world.h"
#include "bench_util.h"

/* ---- the planted lost update ---- */

struct lu_guest {
    const struct xg_platform *p;
    uint64_t counter;
};

static void lu_start(void *guest, unsigned int cpu)
{
    struct lu_guest *g = guest;

    (void)cpu;
    for (int k = 0; k < 5; k++) {
        /* The bug: a plain read and a plain write, no lock. */
        uint64_t v = xg_read_u64(g->p, &g->counter);
        xg_write_u64(g->p, &g->counter, v + 1);
    }
}

struct result {
    double per_s;
    uint64_t failed;      /* schedules whose oracle failed */
    uint64_t fail_digest; /* a fold of the failing seeds' digests */
    uint64_t switches;    /* vCPU switches, all schedules together */
    uint64_t points;      /* scheduling points, all schedules together */
};

static struct result lost_update(enum xsim_backend b, const char *spec, uint64_t n)
{
    static const struct xsim_guest_ops ops = {.start = lu_start};
    struct xsim_policy *pol = policy(spec);
    struct result r = {0};
    double t0 = now_s();

    /* As an explore worker does: one session for all its schedules. */
    xsim_world_session_begin();
    for (uint64_t seed = 1; seed <= n; seed++) {
        struct xsim_world_config cfg;
        struct xsim_world *w;
        struct xsim_domain *d;
        struct lu_guest g = {0};
        xsim_world_config_init(&cfg);
        cfg.seed = seed;
        cfg.backend = b;
        cfg.time_limit_ns = 1000000;
        if (xsim_world_create(&cfg, pol, &w) != 0 ||
            xsim_domain_create(w, 1, 2, 0, &ops, &g, &d) != 0) {
            fprintf(stderr, "cannot build the world\n");
            exit(2);
        }
        g.p = xsim_domain_platform(d);
        xsim_world_run(w);
        if (g.counter != 10) {
            r.failed++;
            r.fail_digest = r.fail_digest * 31 + xsim_world_digest(w) + seed;
        }
        xsim_world_destroy(w);
    }
    xsim_world_session_end();
    r.per_s = (double)n / (now_s() - t0);
    xsim_policy_destroy(pol);
    return r;
}

/* ---- a shipped scenario through the runner ---- */

static struct result scenario(const struct xsim_scenario *s, enum xsim_backend b, const char *spec,
                              uint64_t n)
{
    struct xsim_policy *pol = policy(spec);
    struct result r = {0};
    double t0 = now_s();

    xsim_world_session_begin();
    for (uint64_t seed = 1; seed <= n; seed++) {
        struct xsim_run_options ro = {
            .seed = seed, .seed_set = true, .policy = pol, .backend = (int)b, .quiet = true};
        struct xsim_report rep;
        if (xsim_run(s, &ro, &rep, NULL, NULL) != 0) {
            fprintf(stderr, "run failed: %s\n", rep.failure);
            exit(2);
        }
        if (!rep.all_pass) {
            r.failed++;
            r.fail_digest = r.fail_digest * 31 + rep.digest + seed;
        }
        r.switches += rep.stats.switches;
        r.points += rep.stats.points;
        xsim_report_free(&rep);
    }
    xsim_world_session_end();
    r.per_s = (double)n / (now_s() - t0);
    xsim_policy_destroy(pol);
    return r;
}

/* The machine is shared: measure each backend in three alternating
 * rounds and keep each one's best rate (the failures must agree in every
 * round: the same seeds run each time). */
#define ROUNDS 3

static void best(struct result *keep, struct result r)
{
    if (r.per_s > keep->per_s) {
        double per_s = r.per_s;
        *keep = r;
        keep->per_s = per_s;
    }
}

static void same_failures(const char *what, struct result t, struct result f)
{
    if (t.failed != f.failed || t.fail_digest != f.fail_digest) {
        fprintf(stderr, "%s: the backends found different failures (%" PRIu64 " vs %" PRIu64 ")\n",
                what, t.failed, f.failed);
        exit(1);
    }
}

static void show(const char *what, uint64_t n, struct result t, struct result f)
{
    printf("%-24s %5" PRIu64 " schedules x %d: thread %9.0f/s, fiber %9.0f/s, x%.1f "
           "(best round; %" PRIu64 " failing, the same)\n",
           what, n, ROUNDS, t.per_s, f.per_s, f.per_s / t.per_s, f.failed);
}

int main(int argc, char **argv)
{
    bool quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    uint64_t n_lu = quick ? 300 : 5000, n_demo = quick ? 5 : 60, n_short = quick ? 200 : 3000;
    struct xsim_scenario demo, demo_short;
    struct xsim_error err;
    struct result lr_t, lr_f, lp_t, lp_f, dm_t, dm_f, ds_t, ds_f;

    if (!xsim_backend_fiber_available()) {
        printf("no fiber backend in this build\n");
        printf("{\"bench\":\"explore\",\"fibers\":false}\n");
        return 0;
    }
    if (xsim_scenario_load_file(&demo, XENSIM_SOURCE_DIR "/sim/scenarios/demo.json", &err) != 0) {
        fprintf(stderr, "demo.json: %s\n", err.text);
        return 2;
    }
    /* The same machine stopped at 100 us: mostly what a schedule costs
     * besides its run (building and tearing down the machine, the guest's
     * boot, the report). */
    if (xsim_scenario_load_file(&demo_short, XENSIM_SOURCE_DIR "/sim/scenarios/demo.json", &err) !=
        0) {
        fprintf(stderr, "demo.json: %s\n", err.text);
        return 2;
    }
    demo_short.stop.time_ns = 100000;
    if (argc > 2 && strcmp(argv[1], "--profile") == 0) {
        /* For a profiler: one case on fibers only (an optional count of
         * schedules follows). */
        bool is_demo = strcmp(argv[2], "demo") == 0;
        uint64_t n = argc > 3 ? strtoull(argv[3], NULL, 10) : 0;
        if (n == 0)
            n = is_demo ? 300 : 200000;
        struct result r = is_demo ? scenario(&demo, XSIM_BACKEND_FIBER, "random+time", n)
                                  : lost_update(XSIM_BACKEND_FIBER, argv[2], n);
        printf("%.0f schedules/s\n", r.per_s);
        xsim_scenario_free(&demo);
        xsim_scenario_free(&demo_short);
        return 0;
    }
    /* Warm up (page in code, fill the fiber stack cache). */
    (void)lost_update(XSIM_BACKEND_FIBER, "random", 20);

    lr_t = lr_f = lp_t = lp_f = dm_t = dm_f = ds_t = ds_f = (struct result){0};
    for (int r = 0; r < ROUNDS; r++) {
        struct result t = lost_update(XSIM_BACKEND_THREAD, "random", n_lu);
        struct result f = lost_update(XSIM_BACKEND_FIBER, "random", n_lu);
        same_failures("lost update, random", t, f);
        best(&lr_t, t);
        best(&lr_f, f);
        t = lost_update(XSIM_BACKEND_THREAD, "pct:3", n_lu);
        f = lost_update(XSIM_BACKEND_FIBER, "pct:3", n_lu);
        same_failures("lost update, pct:3", t, f);
        best(&lp_t, t);
        best(&lp_f, f);
        t = scenario(&demo, XSIM_BACKEND_THREAD, "random+time", n_demo);
        f = scenario(&demo, XSIM_BACKEND_FIBER, "random+time", n_demo);
        same_failures("demo, random+time", t, f);
        best(&dm_t, t);
        best(&dm_f, f);
        t = scenario(&demo_short, XSIM_BACKEND_THREAD, "random+time", n_short);
        f = scenario(&demo_short, XSIM_BACKEND_FIBER, "random+time", n_short);
        same_failures("demo at 100 us, random+time", t, f);
        best(&ds_t, t);
        best(&ds_f, f);
    }
    show("lost update, random", n_lu, lr_t, lr_f);
    show("lost update, pct:3", n_lu, lp_t, lp_f);
    show("demo.json, random+time", n_demo, dm_t, dm_f);
    show("demo at 100 us", n_short, ds_t, ds_f);
    xsim_scenario_free(&demo);
    xsim_scenario_free(&demo_short);

    /* What bounds the demo's ratio: both backends run the same simulation
     * (fiber_us per schedule, which is nearly all of the fiber's time) and
     * make the same switches; the thread backend adds a kernel handoff per
     * switch. ratio = 1 + switches * handoff / fiber time. */
    double sw = (double)dm_f.switches / (double)n_demo;
    double fiber_us = 1e6 / dm_f.per_s, thread_us = 1e6 / dm_t.per_s;
    double handoff_ns = sw > 0 ? (thread_us - fiber_us) * 1e3 / sw : 0;
    printf("demo.json per schedule: %.0f scheduling points, %.0f switches; fiber %.0f us "
           "(%.1f ns per point), thread %.0f us (%.0f ns more per switch)\n",
           (double)dm_f.points / (double)n_demo, sw, fiber_us,
           fiber_us * 1e3 * (double)n_demo / (double)dm_f.points, thread_us, handoff_ns);

    printf("{\"bench\":\"explore\",\"quick\":%s,\"lost_update_random_thread_per_s\":%.0f,"
           "\"lost_update_random_fiber_per_s\":%.0f,\"lost_update_random_speedup\":%.2f,"
           "\"lost_update_random_speedup_target\":20,"
           "\"lost_update_pct3_thread_per_s\":%.0f,\"lost_update_pct3_fiber_per_s\":%.0f,"
           "\"lost_update_pct3_speedup\":%.2f,"
           "\"demo_random_time_thread_per_s\":%.1f,\"demo_random_time_fiber_per_s\":%.1f,"
           "\"demo_random_time_speedup\":%.2f,\"demo_random_time_speedup_target\":10,"
           "\"demo_switches_per_schedule\":%.0f,\"demo_fiber_us_per_schedule\":%.0f,"
           "\"demo_thread_ns_per_switch\":%.0f,"
           "\"demo_100us_thread_per_s\":%.0f,\"demo_100us_fiber_per_s\":%.0f,"
           "\"demo_100us_speedup\":%.2f}\n",
           quick ? "true" : "false", lr_t.per_s, lr_f.per_s, lr_f.per_s / lr_t.per_s, lp_t.per_s,
           lp_f.per_s, lp_f.per_s / lp_t.per_s, dm_t.per_s, dm_f.per_s, dm_f.per_s / dm_t.per_s, sw,
           fiber_us, handoff_ns, ds_t.per_s, ds_f.per_s, ds_f.per_s / ds_t.per_s);
    return 0;
}
