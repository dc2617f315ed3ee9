/*
 * test_world.c - the deterministic world: digests repeat, seeds differ,
 * replay reproduces, dfs enumerates exactly, pct finds a planted depth-2
 * bug as often as its bound promises, stop conditions, misuse.
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

#include "ping.h"
#include "support/policy.h"
#include "xensim/world.h"

/* ---- a 4-vCPU ping-pong guest: vCPU i halts until pinged, then pings
 * i+1 through a test hypercall; vCPU 0 starts the ring. ---- */

struct pp_guest {
    struct xsim_domain *dom;
    const struct xg_platform *p;
    unsigned int ncpu, rounds;
    volatile uint64_t pings[8];
    volatile uint64_t shared; /* contended counter: creates interleavings */
    uint64_t handled[8];
};

static void pp_interrupt(void *guest, unsigned int cpu, uint8_t vector)
{
    struct pp_guest *g = guest;

    if (vector == PING_VECTOR) {
        xg_write_u64(g->p, &g->pings[cpu], xg_read_u64(g->p, &g->pings[cpu]) + 1);
        g->handled[cpu]++;
    }
    xg_eoi(g->p);
}

static void pp_start(void *guest, unsigned int cpu)
{
    struct pp_guest *g = guest;
    const struct xg_platform *p = g->p;
    uint64_t seen = 0;

    ping_join(p, cpu, g->ncpu);
    while (seen < g->rounds) {
        uint64_t old = xg_read_u64(p, &g->shared);
        xg_write_u64(p, &g->shared, old + 1); /* racy on purpose */
        while (xg_read_u64(p, &g->pings[cpu]) == seen)
            xg_halt(p);
        seen++;
        ping_pass(p, cpu, g->ncpu, seen, g->rounds);
    }
}

static const struct xsim_guest_ops pp_ops = {.start = pp_start, .interrupt = pp_interrupt};

struct run_result {
    uint64_t digest;
    enum xsim_stop_reason reason;
    struct xsim_choices choices;
    uint64_t handled[8];
    uint64_t shared;
    uint64_t decisions;
    char replay_error[256];
};

static void run_pingpong(uint64_t seed, struct xsim_policy *pol, unsigned int ncpu,
                         unsigned int rounds, struct run_result *res)
{
    struct xsim_world_config cfg;
    struct xsim_world *w;
    struct pp_guest g;

    memset(&g, 0, sizeof(g));
    g.ncpu = ncpu;
    g.rounds = rounds;
    xsim_world_config_init(&cfg);
    cfg.seed = seed;
    assert_int_equal(xsim_world_create(&cfg, pol, &w), 0);
    assert_int_equal(xsim_world_set_hypercall(w, TEST_IPI_OP, test_ipi, NULL), 0);
    assert_int_equal(xsim_domain_create(w, 1, ncpu, 16, &pp_ops, &g, &g.dom), 0);
    g.p = xsim_domain_platform(g.dom);
    res->reason = xsim_world_run(w);
    res->digest = xsim_world_digest(w);
    memset(&res->choices, 0, sizeof(res->choices));
    assert_int_equal(xsim_choices_copy(&res->choices, xsim_world_choices(w)), 0);
    {
        /* Taking the list moves it whole (the same entries as the copy)
         * and leaves the world's empty. */
        struct xsim_choices taken = {0};
        xsim_world_take_choices(w, &taken);
        assert_int_equal(taken.n, res->choices.n);
        assert_int_equal(taken.decisions, res->choices.decisions);
        /* Field by field: the entries' padding is never written. */
        for (size_t i = 0; i < taken.n; i++) {
            assert_int_equal(taken.sw[i].decision, res->choices.sw[i].decision);
            assert_int_equal(taken.sw[i].entity, res->choices.sw[i].entity);
        }
        assert_int_equal(xsim_world_choices(w)->n, 0);
        xsim_choices_free(&taken);
    }
    memcpy(res->handled, g.handled, sizeof(res->handled));
    res->shared = g.shared;
    res->decisions = xsim_world_stats(w)->decisions;
    snprintf(res->replay_error, sizeof(res->replay_error), "%s",
             xsim_world_replay_error(w) ? xsim_world_replay_error(w) : "");
    xsim_world_destroy(w);
}

static void check_pingpong_done(const struct run_result *r, unsigned int ncpu, unsigned int rounds)
{
    assert_int_equal(r->reason, XSIM_STOP_ALL_DONE);
    for (unsigned int c = 0; c < ncpu; c++)
        assert_int_equal(r->handled[c], rounds);
}

/* Same scenario + seed + policy: same digest, 50 runs in a row. */
static void test_digest_repeats(void **state)
{
    const char *specs[] = {"time", "random", "pct:3"};

    (void)state;
    for (size_t s = 0; s < sizeof(specs) / sizeof(specs[0]); s++) {
        struct xsim_policy *pol = th_policy(specs[s]);
        struct run_result first;
        run_pingpong(7, pol, 4, 20, &first);
        check_pingpong_done(&first, 4, 20);
        for (int i = 1; i < 50; i++) {
            struct run_result r;
            run_pingpong(7, pol, 4, 20, &r);
            if (r.digest != first.digest)
                fail_msg("policy %s run %d: digest %016" PRIx64 " != %016" PRIx64, specs[s], i,
                         r.digest, first.digest);
            xsim_choices_free(&r.choices);
        }
        xsim_choices_free(&first.choices);
        xsim_policy_destroy(pol);
    }
}

static bool choices_equal(const struct xsim_choices *a, const struct xsim_choices *b)
{
    if (a->n != b->n || a->decisions != b->decisions)
        return false;
    for (size_t i = 0; i < a->n; i++) {
        if (a->sw[i].decision != b->sw[i].decision || a->sw[i].entity != b->sw[i].entity)
            return false;
    }
    return true;
}

static void test_seeds_differ(void **state)
{
    struct xsim_policy *pol = th_policy("random");
    struct run_result a, b;
    int distinct = 0;

    (void)state;
    run_pingpong(1, pol, 4, 10, &a);
    for (uint64_t seed = 2; seed < 12; seed++) {
        run_pingpong(seed, pol, 4, 10, &b);
        check_pingpong_done(&b, 4, 10);
        if (!choices_equal(&a.choices, &b.choices) && a.digest != b.digest)
            distinct++;
        xsim_choices_free(&b.choices);
    }
    assert_int_equal(distinct, 10);
    xsim_choices_free(&a.choices);
    xsim_policy_destroy(pol);
}

static void test_replay_reproduces(void **state)
{
    const char *specs[] = {"random", "pct:2", "time"};

    (void)state;
    for (size_t s = 0; s < sizeof(specs) / sizeof(specs[0]); s++) {
        struct xsim_policy *pol = th_policy(specs[s]);
        struct xsim_policy *rp = th_policy("replay");
        struct run_result orig, rep;

        run_pingpong(99, pol, 4, 15, &orig);
        assert_int_equal(xsim_policy_set_replay(rp, &orig.choices), 0);
        /* A different seed: the replay list alone must decide. */
        run_pingpong(12345, rp, 4, 15, &rep);
        assert_int_equal(rep.digest, orig.digest);
        assert_true(choices_equal(&rep.choices, &orig.choices));
        xsim_choices_free(&orig.choices);
        xsim_choices_free(&rep.choices);
        xsim_policy_destroy(pol);
        xsim_policy_destroy(rp);
    }
}

static void test_replay_too_short(void **state)
{
    struct xsim_policy *pol = th_policy("random");
    struct xsim_policy *rp = th_policy("replay");
    struct run_result orig, rep;

    (void)state;
    run_pingpong(5, pol, 4, 10, &orig);
    assert_true(orig.choices.decisions > 10);
    /* Cut the list in half: the run must stop with an error, not crash. */
    struct xsim_choices cut = orig.choices;
    cut.decisions = orig.choices.decisions / 2;
    while (cut.n > 0 && cut.sw[cut.n - 1].decision >= cut.decisions)
        cut.n--;
    assert_int_equal(xsim_policy_set_replay(rp, &cut), 0);
    run_pingpong(5, rp, 4, 10, &rep);
    assert_int_equal(rep.reason, XSIM_STOP_REPLAY_ERROR);
    assert_non_null(strstr(rep.replay_error, "too short"));
    /* Malformed lists are refused up front. */
    struct xsim_switch bad_sw[2] = {{5, 0}, {3, 1}};
    struct xsim_choices bad = {.decisions = 10, .n = 2, .cap = 2, .sw = bad_sw};
    assert_int_equal(xsim_policy_set_replay(rp, &bad), -EINVAL);
    xsim_choices_free(&orig.choices);
    xsim_choices_free(&rep.choices);
    xsim_policy_destroy(pol);
    xsim_policy_destroy(rp);
}

static void test_bad_policy(void **state)
{
    const char *bad[] = {"",          "tim", "pct",  "pct:",   "pct:0",   "pct:x",   "pct:2:0",
                         "pct:2:5:1", "dfs", "dfs:", "dfs:-1", "dfs:2:3", "random ", "pct:99"};
    struct xsim_error err;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&err, 0, sizeof(err));
        assert_null(xsim_policy_create(bad[i], &err));
        assert_non_null(strstr(err.text, "expected"));
    }
    assert_null(xsim_policy_create(NULL, &err));
    struct xsim_policy *p = th_policy("time");
    assert_int_equal(xsim_policy_set_bytes(p, (const uint8_t *)"x", 1), -EINVAL);
    assert_false(xsim_policy_dfs_next(p));
    xsim_policy_destroy(p);
}

/* ---- dfs: two threads, each with K scheduling points ---- */

struct steps_guest {
    const struct xg_platform *p;
    unsigned int k;
    volatile uint64_t x;
    char order[64];
    volatile unsigned int pos;
};

static void steps_start(void *guest, unsigned int cpu)
{
    struct steps_guest *g = guest;

    for (unsigned int i = 0; i < g->k; i++)
        xg_write_u64(g->p, &g->x, cpu);
}

static const struct xsim_guest_ops steps_ops = {.start = steps_start};

static uint64_t run_steps(struct xsim_policy *pol, unsigned int k, uint64_t *digest)
{
    struct xsim_world_config cfg;
    struct xsim_world *w;
    struct xsim_domain *d;
    struct steps_guest g = {.k = k};
    uint64_t decisions;

    xsim_world_config_init(&cfg);
    assert_int_equal(xsim_world_create(&cfg, pol, &w), 0);
    assert_int_equal(xsim_domain_create(w, 1, 2, 0, &steps_ops, &g, &d), 0);
    g.p = xsim_domain_platform(d);
    assert_int_equal(xsim_world_run(w), XSIM_STOP_ALL_DONE);
    decisions = xsim_world_stats(w)->decisions;
    if (digest != NULL)
        *digest = xsim_world_digest(w);
    xsim_world_destroy(w);
    return decisions;
}

/* Reference count, independent of the world: orderings of a segments of A
 * and b of B (a thread with K points runs K+1 segments) with at most
 * `bound` preemptions, where a preemption is switching away from a thread
 * that still has segments left. */
static uint64_t count_schedules(unsigned int a, unsigned int b, int last, unsigned int pre,
                                unsigned int bound)
{
    uint64_t n = 0;

    if (a == 0 && b == 0)
        return 1;
    if (a > 0) {
        unsigned int p2 = pre + (last == 1 && b > 0 ? 1 : 0);
        if (p2 <= bound)
            n += count_schedules(a - 1, b, 0, p2, bound);
    }
    if (b > 0) {
        unsigned int p2 = pre + (last == 0 && a > 0 ? 1 : 0);
        if (p2 <= bound)
            n += count_schedules(a, b - 1, 1, p2, bound);
    }
    return n;
}

static void test_dfs_enumerates(void **state)
{
    (void)state;
    for (unsigned int k = 1; k <= 3; k++) {
        for (unsigned int bound = 0; bound <= 7; bound++) {
            char spec[32];
            snprintf(spec, sizeof(spec), "dfs:%u", bound);
            struct xsim_policy *pol = th_policy(spec);
            uint64_t runs = 0;
            uint64_t digests[512];
            do {
                assert_true(runs < 512);
                run_steps(pol, k, &digests[runs]);
                runs++;
            } while (xsim_policy_dfs_next(pol));
            uint64_t expect = count_schedules(k + 1, k + 1, -1, 0, bound);
            if (runs != expect)
                fail_msg("dfs:%u with %u points per thread: %" PRIu64
                         " schedules, expected %" PRIu64,
                         bound, k, runs, expect);
            assert_int_equal(xsim_policy_dfs_count(pol), runs);
            /* Every enumerated schedule is distinct. */
            for (uint64_t i = 0; i < runs; i++)
                for (uint64_t j = i + 1; j < runs; j++)
                    assert_true(digests[i] != digests[j]);
            xsim_policy_destroy(pol);
        }
    }
    /* Unbounded with k=2: C(6,3) = 20 interleavings of 3+3 segments. */
    assert_int_equal(count_schedules(3, 3, -1, 0, 100), 20);
}

/* ---- pct: a planted depth-2 ordering bug ----
 * A: flag1 = 1; <F fillers>; flag2 = 1.
 * B: wait... reads flag1; <F fillers>; reads flag2.
 * The bug shows when B sees flag1 == 1 and then flag2 == 0: A's first write
 * must precede B's first read, and B's second read must precede A's second
 * write. */

struct depth2_guest {
    const struct xg_platform *p;
    unsigned int fillers;
    volatile uint64_t flag1, flag2, scratch;
    bool bug;
};

static void depth2_start(void *guest, unsigned int cpu)
{
    struct depth2_guest *g = guest;
    const struct xg_platform *p = g->p;

    if (cpu == 0) {
        xg_write_u64(p, &g->flag1, 1);
        for (unsigned int i = 0; i < g->fillers; i++)
            xg_write_u64(p, &g->scratch, i);
        xg_write_u64(p, &g->flag2, 1);
    } else {
        uint64_t f1 = xg_read_u64(p, &g->flag1);
        for (unsigned int i = 0; i < g->fillers; i++)
            (void)xg_read_u64(p, &g->scratch);
        uint64_t f2 = xg_read_u64(p, &g->flag2);
        if (f1 == 1 && f2 == 0)
            g->bug = true;
    }
}

static const struct xsim_guest_ops depth2_ops = {.start = depth2_start};

static bool run_depth2(struct xsim_policy *pol, uint64_t seed, unsigned int fillers)
{
    struct xsim_world_config cfg;
    struct xsim_world *w;
    struct xsim_domain *d;
    struct depth2_guest g = {.fillers = fillers};

    xsim_world_config_init(&cfg);
    cfg.seed = seed;
    assert_int_equal(xsim_world_create(&cfg, pol, &w), 0);
    assert_int_equal(xsim_domain_create(w, 1, 2, 0, &depth2_ops, &g, &d), 0);
    g.p = xsim_domain_platform(d);
    assert_int_equal(xsim_world_run(w), XSIM_STOP_ALL_DONE);
    xsim_world_destroy(w);
    return g.bug;
}

static void test_pct_depth2(void **state)
{
    enum { SEEDS = 400, FILLERS = 10 };
    /* Scheduling points: 2 + FILLERS per thread; K bounds the decisions. */
    unsigned int k = 2 * (FILLERS + 2) + 1;
    char spec[32];
    unsigned int found = 0, found_random = 0;
    /* n counts the schedulable entities PCT ranks: 2 vCPUs + the timed-event
     * pseudo-entity. */
    double bound = 1.0 / (3.0 * k);

    (void)state;
    snprintf(spec, sizeof(spec), "pct:2:%u", k);
    struct xsim_policy *pol = th_policy(spec);
    struct xsim_policy *rnd = th_policy("random");
    for (uint64_t seed = 1; seed <= SEEDS; seed++) {
        found += run_depth2(pol, seed, FILLERS);
        found_random += run_depth2(rnd, seed, FILLERS);
    }
    printf("pct:2:%u found the depth-2 bug in %u of %d runs (bound 1/(n k) = %.4f -> >= %.1f); "
           "random found it in %u\n",
           k, found, SEEDS, bound, bound * SEEDS, found_random);
    assert_true((double)found >= bound * SEEDS);
    xsim_policy_destroy(pol);
    xsim_policy_destroy(rnd);
}

/* ---- pct: a device's run of steps is cut short too ----
 * A device (a chain of timed events, each scheduling the next) sets flag1,
 * runs FILLERS more steps, then sets flag2; one vCPU reads flag1, FILLERS
 * fillers, then flag2. The bug shows when the vCPU sees flag1 == 1 and then
 * flag2 == 0: the device must be stopped between its first and last step,
 * so a PCT that only ever lowers vCPUs (the device's entity keeping its
 * initial priority) never finds it. */

struct chain_ctx {
    const struct xg_platform *p;
    unsigned int fillers, step;
    volatile uint64_t flag1, flag2, scratch;
    bool bug;
};

static void chain_step(struct xsim_world *w, void *arg)
{
    struct chain_ctx *c = arg;

    if (c->step == 0)
        c->flag1 = 1;
    else if (c->step <= c->fillers)
        c->scratch = c->step;
    else
        c->flag2 = 1;
    if (c->step++ <= c->fillers)
        assert_true(xsim_event_schedule(w, xsim_world_now(w) + 1, 1, chain_step, c) != 0);
}

static void chain_start(void *guest, unsigned int cpu)
{
    struct chain_ctx *c = guest;
    const struct xg_platform *p = c->p;
    uint64_t f1, f2;

    (void)cpu;
    f1 = xg_read_u64(p, &c->flag1);
    for (unsigned int i = 0; i < c->fillers; i++)
        (void)xg_read_u64(p, &c->scratch);
    f2 = xg_read_u64(p, &c->flag2);
    if (f1 == 1 && f2 == 0)
        c->bug = true;
}

static const struct xsim_guest_ops chain_ops = {.start = chain_start};

static void test_pct_cuts_device_steps(void **state)
{
    enum { SEEDS = 400, FILLERS = 10 };
    unsigned int k = 2 * (FILLERS + 2) + 1;
    /* One vCPU and the timed-event entity. */
    double bound = 1.0 / (2.0 * k);
    unsigned int found = 0;
    char spec[32];

    (void)state;
    snprintf(spec, sizeof(spec), "pct:2:%u", k);
    struct xsim_policy *pol = th_policy(spec);
    for (uint64_t seed = 1; seed <= SEEDS; seed++) {
        struct xsim_world_config cfg;
        struct xsim_world *w;
        struct xsim_domain *d;
        struct chain_ctx c = {.fillers = FILLERS};

        xsim_world_config_init(&cfg);
        cfg.seed = seed;
        assert_int_equal(xsim_world_create(&cfg, pol, &w), 0);
        assert_int_equal(xsim_domain_create(w, 1, 1, 0, &chain_ops, &c, &d), 0);
        c.p = xsim_domain_platform(d);
        assert_true(xsim_event_schedule(w, 0, 1, chain_step, &c) != 0);
        assert_int_equal(xsim_world_run(w), XSIM_STOP_ALL_DONE);
        /* Every step ran, whatever the order. */
        assert_int_equal(c.step, FILLERS + 2);
        xsim_world_destroy(w);
        found += c.bug;
    }
    printf("pct:2:%u cut the device's steps in %u of %d runs (bound 1/(n k) = %.4f -> >= %.1f)\n",
           k, found, SEEDS, bound, bound * SEEDS);
    assert_true((double)found >= bound * SEEDS);
    xsim_policy_destroy(pol);
}

/* ---- stop conditions and timed events ---- */

struct tick_ctx {
    struct xsim_world *w;
    uint64_t fired;
    uint64_t period;
    uint64_t last_time;
};

static void tick(struct xsim_world *w, void *arg)
{
    struct tick_ctx *t = arg;

    assert_true(xsim_world_now(w) >= t->last_time);
    t->last_time = xsim_world_now(w);
    t->fired++;
    xsim_event_schedule(w, xsim_world_now(w) + t->period, 1, tick, t);
}

static void test_time_limit_and_events(void **state)
{
    struct xsim_world_config cfg;
    struct xsim_world *w;
    struct xsim_policy *pol = th_policy("time");
    struct tick_ctx t = {.period = 1000};

    (void)state;
    xsim_world_config_init(&cfg);
    cfg.time_limit_ns = 100500;
    assert_int_equal(xsim_world_create(&cfg, pol, &w), 0);
    xsim_event_schedule(w, 0, 1, tick, &t);
    assert_int_equal(xsim_world_run(w), XSIM_STOP_TIME_LIMIT);
    assert_int_equal(t.fired, 101); /* t = 0, 1000, ..., 100000 */
    xsim_world_destroy(w);

    xsim_world_config_init(&cfg);
    cfg.max_events = 10;
    memset(&t, 0, sizeof(t));
    t.period = 5;
    assert_int_equal(xsim_world_create(&cfg, pol, &w), 0);
    xsim_event_schedule(w, 0, 1, tick, &t);
    assert_int_equal(xsim_world_run(w), XSIM_STOP_EVENT_LIMIT);
    assert_int_equal(t.fired, 10);
    xsim_world_destroy(w);

    /* Nothing at all: quiescent at once. */
    assert_int_equal(xsim_world_create(&cfg, pol, &w), 0);
    assert_int_equal(xsim_world_run(w), XSIM_STOP_ALL_DONE);
    xsim_world_destroy(w);
    xsim_policy_destroy(pol);
}

/* A vCPU that halts with nothing to wake it: the world is quiescent. */
static void halt_forever(void *guest, unsigned int cpu)
{
    const struct xg_platform *p = *(const struct xg_platform **)guest;

    xg_halt(p);
    fail_msg("halt returned without an interrupt");
}

static void test_quiescent_and_destroy(void **state)
{
    struct xsim_world_config cfg;
    struct xsim_world *w;
    struct xsim_domain *d;
    struct xsim_policy *pol = th_policy("time");
    const struct xsim_guest_ops ops = {.start = halt_forever};
    const struct xg_platform *p = NULL;

    (void)state;
    xsim_world_config_init(&cfg);
    assert_int_equal(xsim_world_create(&cfg, pol, &w), 0);
    assert_int_equal(xsim_domain_create(w, 1, 3, 0, &ops, &p, &d), 0);
    p = xsim_domain_platform(d);
    assert_int_equal(xsim_world_run(w), XSIM_STOP_QUIESCENT);
    /* Destroy unwinds three parked threads. */
    xsim_world_destroy(w);
    xsim_policy_destroy(pol);
}

/* xsim_world_fail from guest code stops the run and keeps the message. */
static void fail_start(void *guest, unsigned int cpu)
{
    const struct xg_platform *p = *(const struct xg_platform **)guest;

    xg_point(p, XG_POINT_LOAD, NULL);
    if (cpu == 1)
        xsim_world_fail(xsim_domain_world((struct xsim_domain *)p->ctx), "planted failure on %u",
                        cpu);
    for (int i = 0; i < 100; i++)
        xg_point(p, XG_POINT_LOAD, NULL);
}

static void test_fail(void **state)
{
    struct xsim_world_config cfg;
    struct xsim_world *w;
    struct xsim_domain *d;
    struct xsim_policy *pol = th_policy("random");
    const struct xsim_guest_ops ops = {.start = fail_start};
    const struct xg_platform *p = NULL;

    (void)state;
    xsim_world_config_init(&cfg);
    assert_int_equal(xsim_world_create(&cfg, pol, &w), 0);
    assert_int_equal(xsim_domain_create(w, 1, 2, 0, &ops, &p, &d), 0);
    p = xsim_domain_platform(d);
    assert_int_equal(xsim_world_run(w), XSIM_STOP_FAILED);
    assert_string_equal(xsim_world_failure(w), "planted failure on 1");
    xsim_world_destroy(w);
    xsim_policy_destroy(pol);
}

/* bytes: the same buffer gives the same run; running out is not an error. */
static void test_bytes_policy(void **state)
{
    struct xsim_policy *pol = th_policy("bytes");
    uint8_t buf[64];
    uint64_t d1, d2, d3;

    (void)state;
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)(i * 37 + 11);
    assert_int_equal(xsim_policy_set_bytes(pol, buf, sizeof(buf)), 0);
    run_steps(pol, 20, &d1);
    run_steps(pol, 20, &d2);
    assert_int_equal(d1, d2);
    memset(buf, 0, sizeof(buf));
    run_steps(pol, 20, &d3);
    assert_true(d3 != d1);
    xsim_policy_destroy(pol);
}

/* Unknown hypercalls return -ENOSYS like Xen; guest RAM is bounded. */
struct misc_guest {
    const struct xg_platform *p;
    long rc_unknown, rc_big;
    uint64_t gfn1, gfn2;
    void *page3;
};

static void misc_start(void *guest, unsigned int cpu)
{
    struct misc_guest *g = guest;

    g->rc_unknown = xg_hypercall(g->p, 40, 0, 0, 0);
    g->rc_big = xg_hypercall(g->p, 1000, 0, 0, 0);
    assert_non_null(g->p->ops->page_alloc(g->p->ctx, &g->gfn1));
    assert_non_null(g->p->ops->page_alloc(g->p->ctx, &g->gfn2));
    g->page3 = g->p->ops->page_alloc(g->p->ctx, NULL);
}

static void test_hypercall_and_pages(void **state)
{
    struct xsim_world_config cfg;
    struct xsim_world *w;
    struct xsim_domain *d;
    struct xsim_policy *pol = th_policy("time");
    const struct xsim_guest_ops ops = {.start = misc_start};
    struct misc_guest g;

    (void)state;
    memset(&g, 0, sizeof(g));
    xsim_world_config_init(&cfg);
    assert_int_equal(xsim_world_create(&cfg, pol, &w), 0);
    assert_int_equal(xsim_domain_create(w, 1, 1, 2, &ops, &g, &d), 0);
    g.p = xsim_domain_platform(d);
    assert_int_equal(xsim_world_run(w), XSIM_STOP_ALL_DONE);
    assert_int_equal(g.rc_unknown, -ENOSYS);
    assert_int_equal(g.rc_big, -ENOSYS);
    assert_int_equal(g.gfn1, XSIM_GFN_BASE);
    assert_int_equal(g.gfn2, XSIM_GFN_BASE + 1);
    assert_null(g.page3);
    assert_non_null(xsim_domain_gfn_to_ptr(d, XSIM_GFN_BASE + 1));
    assert_null(xsim_domain_gfn_to_ptr(d, XSIM_GFN_BASE + 2));
    assert_null(xsim_domain_gfn_to_ptr(d, 0));
    assert_int_equal(xsim_world_stats(w)->hypercalls[40], 1);
    assert_int_equal(xsim_world_stats(w)->count[XSIM_COST_HYPERCALL], 2);
    xsim_world_destroy(w);
    xsim_policy_destroy(pol);
}

/* Exports: JSON lines and Chrome trace are produced and well-formed enough
 * to count records. */
static void test_trace_export(void **state)
{
    struct xsim_world_config cfg;
    struct xsim_world *w;
    struct xsim_policy *pol = th_policy("random");
    struct pp_guest g;
    char *buf = NULL;
    size_t len = 0;
    size_t count;

    (void)state;
    memset(&g, 0, sizeof(g));
    g.ncpu = 2;
    g.rounds = 3;
    xsim_world_config_init(&cfg);
    cfg.keep_trace = true;
    assert_int_equal(xsim_world_create(&cfg, pol, &w), 0);
    xsim_world_set_hypercall(w, TEST_IPI_OP, test_ipi, NULL);
    assert_int_equal(xsim_domain_create(w, 1, 2, 1, &pp_ops, &g, &g.dom), 0);
    g.p = xsim_domain_platform(g.dom);
    assert_int_equal(xsim_world_run(w), XSIM_STOP_ALL_DONE);
    assert_non_null(xsim_world_trace(w, &count));
    assert_int_equal(count, xsim_world_trace_count(w));
    FILE *f = open_memstream(&buf, &len);
    assert_int_equal(xsim_trace_write_jsonl(w, f), 0);
    fclose(f);
    size_t lines = 0;
    for (size_t i = 0; i < len; i++)
        lines += buf[i] == '\n';
    assert_int_equal(lines, count);
    assert_non_null(strstr(buf, "\"type\":\"intr\""));
    free(buf);
    f = open_memstream(&buf, &len);
    assert_int_equal(xsim_trace_write_chrome(w, f), 0);
    fclose(f);
    assert_non_null(strstr(buf, "\"traceEvents\""));
    free(buf);
    xsim_world_destroy(w);
    xsim_policy_destroy(pol);
}

/* ---- "+time": a timed event never overtakes a runnable vCPU's clock ---- */

struct gate_guest {
    struct xsim_domain *dom;
    struct xsim_world *w;
    uint64_t event_at_ns;
    uint64_t vcpu_ns_at_event; /* the vCPU's clock when the event ran */
    bool vcpu_done_at_event;
    volatile uint32_t done;
};

static void gate_event(struct xsim_world *w, void *arg)
{
    struct gate_guest *g = arg;
    struct xsim_vcpu *v = xsim_domain_vcpu(g->dom, 0);

    (void)w;
    g->vcpu_ns_at_event = xsim_vcpu_now(v);
    g->vcpu_done_at_event = g->done != 0;
}

static void gate_start(void *guest, unsigned int cpu)
{
    struct gate_guest *g = guest;
    const struct xg_platform *p = xsim_domain_platform(g->dom);

    (void)cpu;
    /* 200 steps of 1 us of declared work, each a scheduling point. */
    for (int i = 0; i < 200; i++)
        xg_work(p, XG_WORK_GUEST, 1000);
    xg_write_u32(p, &g->done, 1);
}

static const struct xsim_guest_ops gate_ops = {.start = gate_start};

/* Returns the vCPU's clock when the event (due at 50 us) ran. */
static uint64_t gate_run(const char *spec, uint64_t seed)
{
    struct xsim_world_config cfg;
    struct xsim_error err;
    struct xsim_policy *pol = xsim_policy_create(spec, &err);
    struct xsim_world *w;
    struct gate_guest g = {.event_at_ns = 50000};

    assert_non_null(pol);
    xsim_world_config_init(&cfg);
    cfg.seed = seed;
    assert_int_equal(xsim_world_create(&cfg, pol, &w), 0);
    assert_int_equal(xsim_domain_create(w, 1, 1, 4, &gate_ops, &g, &g.dom), 0);
    g.w = w;
    assert_true(xsim_event_schedule(w, g.event_at_ns, 1, gate_event, &g) != 0);
    xsim_world_run(w);
    xsim_world_destroy(w);
    xsim_policy_destroy(pol);
    return g.vcpu_done_at_event ? UINT64_MAX : g.vcpu_ns_at_event;
}

static void test_events_in_time(void **state)
{
    unsigned int early_plain = 0;

    (void)state;
    for (uint64_t seed = 1; seed <= 20; seed++) {
        /* Gated: the event waits until the vCPU's clock reached 50 us. */
        assert_true(gate_run("random+time", seed) >= 50000);
        assert_true(gate_run("pct:2+time", seed) >= 50000);
        /* Plain random lets it run while the vCPU is still far behind. */
        if (gate_run("random", seed) < 50000)
            early_plain++;
    }
    assert_true(early_plain > 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_digest_repeats),
        cmocka_unit_test(test_seeds_differ),
        cmocka_unit_test(test_replay_reproduces),
        cmocka_unit_test(test_replay_too_short),
        cmocka_unit_test(test_bad_policy),
        cmocka_unit_test(test_dfs_enumerates),
        cmocka_unit_test(test_pct_depth2),
        cmocka_unit_test(test_pct_cuts_device_steps),
        cmocka_unit_test(test_time_limit_and_events),
        cmocka_unit_test(test_quiescent_and_destroy),
        cmocka_unit_test(test_fail),
        cmocka_unit_test(test_bytes_policy),
        cmocka_unit_test(test_hypercall_and_pages),
        cmocka_unit_test(test_trace_export),
        cmocka_unit_test(test_events_in_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
