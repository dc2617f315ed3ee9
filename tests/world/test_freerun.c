/*
 * test_freerun.c - free-run mode: the vCPU threads run truly in parallel
 * (no baton), for stress and ThreadSanitizer. Checks that an interrupt-driven
 * ring of pings and an atomic counter come out exact, and that vCPUs that
 * finish at once, while the others are still being started, are counted out
 * right (the count of live vCPUs was once updated unlocked at start-up).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "ping.h"
#include "xensim/world.h"

struct fr_guest {
    const struct xg_platform *p;
    unsigned int ncpu, rounds;
    volatile uint64_t pings[8];
    volatile uint64_t counter;
};

static void fr_interrupt(void *guest, unsigned int cpu, uint8_t vector)
{
    struct fr_guest *g = guest;

    (void)__atomic_fetch_add(&g->pings[cpu], 1, __ATOMIC_SEQ_CST);
    xg_eoi(g->p);
}

static void fr_start(void *guest, unsigned int cpu)
{
    struct fr_guest *g = guest;
    const struct xg_platform *p = g->p;
    uint64_t seen = 0;

    ping_join(p, cpu, g->ncpu);
    while (seen < g->rounds) {
        for (int i = 0; i < 50; i++) {
            uint64_t old = xg_read_u64(p, &g->counter);
            while (!xg_cmpxchg_u64(p, &g->counter, &old, old + 1))
                ;
        }
        bool was = xg_irq_save(p);
        while (__atomic_load_n(&g->pings[cpu], __ATOMIC_SEQ_CST) == seen) {
            xg_halt(p); /* enables interrupts, returns after one */
            xg_irq_save(p);
        }
        xg_irq_restore(p, was);
        seen++;
        ping_pass(p, cpu, g->ncpu, seen, g->rounds);
    }
}

static const struct xsim_guest_ops fr_ops = {.start = fr_start, .interrupt = fr_interrupt};

static void test_freerun_ring(void **state)
{
    struct xsim_world_config cfg;
    struct xsim_world *w;
    struct xsim_domain *d;
    struct xsim_error err;
    struct xsim_policy *pol = xsim_policy_create("time", &err);
    struct fr_guest g;

    (void)state;
    for (int iter = 0; iter < 5; iter++) {
        memset(&g, 0, sizeof(g));
        g.ncpu = 4;
        g.rounds = 50;
        xsim_world_config_init(&cfg);
        cfg.mode = XSIM_MODE_FREE_RUN;
        cfg.pin_cpu = -2;
        assert_int_equal(xsim_world_create(&cfg, pol, &w), 0);
        xsim_world_set_hypercall(w, TEST_IPI_OP, test_ipi, NULL);
        assert_int_equal(xsim_domain_create(w, 1, g.ncpu, 0, &fr_ops, &g, &d), 0);
        g.p = xsim_domain_platform(d);
        enum xsim_stop_reason r = xsim_world_run(w);
        if (r != XSIM_STOP_ALL_DONE)
            fprintf(stderr, "stopped: %s\n", xsim_stop_reason_name(r));
        assert_int_equal(r, XSIM_STOP_ALL_DONE);
        for (unsigned int c = 0; c < g.ncpu; c++)
            assert_int_equal(g.pings[c], g.rounds);
        assert_int_equal(g.counter, (uint64_t)g.ncpu * g.rounds * 50);
        assert_int_equal(xsim_world_stats(w)->interrupts, (uint64_t)g.ncpu * g.rounds);
        xsim_world_destroy(w);
    }
    xsim_policy_destroy(pol);
}

static void quick_start(void *guest, unsigned int cpu)
{
    (void)guest;
    (void)cpu;
}

static void quick_interrupt(void *guest, unsigned int cpu, uint8_t vector)
{
    (void)guest;
    (void)cpu;
    (void)vector;
}

static const struct xsim_guest_ops quick_ops = {.start = quick_start,
                                                .interrupt = quick_interrupt};

static void test_freerun_quick_exit(void **state)
{
    struct xsim_error err;
    struct xsim_policy *pol = xsim_policy_create("time", &err);

    (void)state;
    for (int iter = 0; iter < 20; iter++) {
        struct xsim_world_config cfg;
        struct xsim_world *w;
        struct xsim_domain *d;
        xsim_world_config_init(&cfg);
        cfg.mode = XSIM_MODE_FREE_RUN;
        cfg.pin_cpu = -2;
        assert_int_equal(xsim_world_create(&cfg, pol, &w), 0);
        assert_int_equal(xsim_domain_create(w, 1, 8, 0, &quick_ops, NULL, &d), 0);
        assert_int_equal(xsim_world_run(w), XSIM_STOP_ALL_DONE);
        xsim_world_destroy(w);
    }
    xsim_policy_destroy(pol);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_freerun_ring),
        cmocka_unit_test(test_freerun_quick_exit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
