/*
 * test_platform.c - the platform ops guest code relies on beyond the
 * basics: irq_enabled (no side effect, no scheduling point) and bug
 * (XG_BUG_ON fails the run with file:line and stops the vCPU) under every
 * policy and in free-run mode.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "harness.h"

/* ---- irq_enabled ---- */

struct irq_ctx {
    bool enabled_after_boot, disabled_in_save, enabled_after_restore;
    uint64_t points_delta, interrupts_delta;
    bool checked;
};

static void irq_main(struct th *t, unsigned int cpu)
{
    struct irq_ctx *x = t->user;
    const struct xsim_stats *st = xsim_world_stats(t->w);
    uint64_t points, irqs;
    bool was;

    if (cpu != 0)
        return;
    x->enabled_after_boot = xg_irq_enabled(t->p);
    was = xg_irq_save(t->p);
    /* An interrupt raised while disabled must stay pending across the
     * query: irq_enabled delivers nothing and is not a scheduling point. */
    xsim_vcpu_raise(xsim_vcpu_current(), TH_STARTUP_VECTOR, true);
    points = st->points;
    irqs = st->interrupts;
    for (int i = 0; i < 100; i++)
        x->disabled_in_save |= !xg_irq_enabled(t->p);
    x->points_delta = st->points - points;
    x->interrupts_delta = st->interrupts - irqs;
    xg_irq_restore(t->p, was);
    x->enabled_after_restore = xg_irq_enabled(t->p);
    x->checked = true;
}

static void test_irq_enabled(void **state)
{
    struct th_config cfg;
    struct th t;
    struct irq_ctx x = {0};

    (void)state;
    th_config_init(&cfg, 2);
    cfg.main = irq_main;
    cfg.user = &x;
    assert_int_equal(th_create(&t, &cfg, NULL), 0);
    assert_int_equal(th_run(&t), XSIM_STOP_QUIESCENT);
    assert_true(x.checked);
    assert_true(x.enabled_after_boot);
    assert_true(x.disabled_in_save);
    assert_true(x.enabled_after_restore);
    assert_int_equal(x.points_delta, 0);
    assert_int_equal(x.interrupts_delta, 0);
    th_destroy(&t);
}

/* ---- XG_BUG_ON ---- */

struct bug_ctx {
    unsigned int bug_cpu;
    volatile uint32_t evaluated; /* how often the condition ran */
    volatile uint32_t went_on;   /* set after the BUG_ON: must stay 0 */
    volatile uint32_t passed;    /* a false BUG_ON let the CPU go on */
    volatile uint32_t lock;      /* held by the CPU that hits the BUG */
    int line;
};

static bool count_true(struct bug_ctx *x)
{
    x->evaluated++;
    return true;
}

static void bug_main(struct th *t, unsigned int cpu)
{
    struct bug_ctx *x = t->user;

    XG_BUG_ON(t->p, cpu == 99);
    x->passed++;
    if (cpu != x->bug_cpu)
        return;
    /* Spend a little time first so that other CPUs get going. */
    xg_work(t->p, XG_WORK_GUEST, 5000);
    xg_spin_lock(t->p, &x->lock);
    x->line = __LINE__ + 1;
    XG_BUG_ON(t->p, count_true(x));
    x->went_on = 1;
}

static void run_bug(const char *policy, enum xsim_mode mode, unsigned int ncpus,
                    unsigned int bug_cpu)
{
    struct th_config cfg;
    struct th t;
    struct bug_ctx x = {.bug_cpu = bug_cpu};
    char want[512];
    const char *got;

    th_config_init(&cfg, ncpus);
    cfg.main = bug_main;
    cfg.user = &x;
    cfg.policy = policy;
    cfg.world.mode = mode;
    cfg.world.time_limit_ns = 1000000000ull;
    assert_int_equal(th_create(&t, &cfg, NULL), 0);
    assert_int_equal(th_run(&t), XSIM_STOP_FAILED);
    got = xsim_world_failure(t.w);
    assert_non_null(got);
    snprintf(want, sizeof(want), "guest BUG at %s:%d: count_true(x)", __FILE__, x.line);
    if (strcmp(got, want) != 0)
        fail_msg("policy %s: failure \"%s\", expected \"%s\"", policy, got, want);
    assert_int_equal(x.evaluated, 1);
    assert_int_equal(x.went_on, 0);
    assert_true(x.passed >= 1);
    /* The world says so, so that a host collecting results knows that the
     * parked vCPU may hold guest locks for good (here: x.lock). */
    assert_true(xsim_world_guest_bug(t.w));
    assert_int_equal(x.lock, 1);
    th_destroy(&t);
}

static void test_bug_on_every_policy(void **state)
{
    const char *specs[] = {"time", "random", "pct:2", "pct:3:50", "dfs:1"};

    (void)state;
    for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
        run_bug(specs[i], XSIM_MODE_DETERMINISTIC, 2, 1);
        run_bug(specs[i], XSIM_MODE_DETERMINISTIC, 1, 0);
        run_bug(specs[i], XSIM_MODE_DETERMINISTIC, 3, 0);
    }
}

static void test_bug_on_free_run(void **state)
{
    (void)state;
    for (int i = 0; i < 20; i++)
        run_bug("time", XSIM_MODE_FREE_RUN, 2, (unsigned)i % 2);
}

/* `test_platform free-run` runs the free-run case alone: ThreadSanitizer
 * judges free-run mode only (deterministic worlds hand the baton over with
 * futexes, which it does not see as synchronisation). */
int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_irq_enabled),
        cmocka_unit_test(test_bug_on_every_policy),
        cmocka_unit_test(test_bug_on_free_run),
    };
    const struct CMUnitTest free_run[] = {
        cmocka_unit_test(test_bug_on_free_run),
    };

    if (argc > 1 && strcmp(argv[1], "free-run") == 0)
        return cmocka_run_group_tests(free_run, NULL, NULL);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
