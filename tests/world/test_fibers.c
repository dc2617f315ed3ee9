/*
 * test_fibers.c - the fiber backend: which backend a world gets; the
 * running vCPU is right after every switch; worlds destroyed with vCPUs
 * suspended mid-stack (stacks reused from the cache); a stack overflow or a
 * wild access in guest code on a fiber ends the run failed, naming the vCPU
 * and its last scheduling point, and the previous SIGSEGV handler is back
 * afterwards.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "support/policy.h"
#include "support/valgrind.h"
#include "xensim/world.h"

/* A world from `cfg` and `pol` holding domain 1, `ncpus` vCPUs that run
 * `guest` through `ops`; the domain's platform, for the guest to use. */
static const struct xg_platform *start(const struct xsim_world_config *cfg, struct xsim_policy *pol,
                                       unsigned int ncpus, const struct xsim_guest_ops *ops,
                                       void *guest, struct xsim_world **w, struct xsim_domain **d)
{
    assert_int_equal(xsim_world_create(cfg, pol, w), 0);
    assert_int_equal(xsim_domain_create(*w, 1, ncpus, 0, ops, guest, d), 0);
    return xsim_domain_platform(*d);
}

static void test_backend_choice(void **state)
{
    struct xsim_world_config cfg;
    struct xsim_policy *pol = th_policy("time");
    struct xsim_world *w;
    enum xsim_backend b;

    (void)state;
    xsim_world_config_init(&cfg);
    assert_int_equal(cfg.backend, XSIM_BACKEND_AUTO);
    assert_int_equal(xsim_world_create(&cfg, pol, &w), 0);
    assert_int_equal(xsim_world_backend(w), xsim_backend_default());
    xsim_world_destroy(w);
#if defined(XSIM_DEFAULT_BACKEND_THREAD)
    /* -DXENSIM_DEFAULT_BACKEND=thread (the `thread` preset). */
    assert_int_equal(xsim_backend_default(), XSIM_BACKEND_THREAD);
#elif (defined(__x86_64__) || defined(__aarch64__)) && defined(__linux__) && \
    !defined(XENSIM_SANITIZED) && !defined(XSIM_FIBER_FORCE_UCONTEXT)
    assert_int_equal(xsim_backend_default(), XSIM_BACKEND_FIBER);
#endif
    /* Free-run mode runs threads, and only threads. */
    cfg.mode = XSIM_MODE_FREE_RUN;
    assert_int_equal(xsim_world_create(&cfg, pol, &w), 0);
    assert_int_equal(xsim_world_backend(w), XSIM_BACKEND_THREAD);
    xsim_world_destroy(w);
    cfg.backend = XSIM_BACKEND_FIBER;
    assert_int_equal(xsim_world_create(&cfg, pol, &w), -EINVAL);
    assert_null(w);
    cfg.backend = (enum xsim_backend)7;
    cfg.mode = XSIM_MODE_DETERMINISTIC;
    assert_int_equal(xsim_world_create(&cfg, pol, &w), -EINVAL);
    assert_int_equal(xsim_backend_parse("fiber", &b), 0);
    assert_int_equal(b, XSIM_BACKEND_FIBER);
    assert_int_equal(xsim_backend_parse("thread", &b), 0);
    assert_int_equal(b, XSIM_BACKEND_THREAD);
    assert_int_equal(xsim_backend_parse("green", &b), -EINVAL);
    xsim_policy_destroy(pol);
}

/* ---- who runs ---- */

struct who_guest {
    const struct xg_platform *p;
    struct xsim_domain *d;
    unsigned int wrong, points;
    volatile uint64_t x;
};

static void who_start(void *guest, unsigned int cpu)
{
    struct who_guest *g = guest;

    for (unsigned int i = 0; i < 300; i++) {
        xg_point(g->p, XG_POINT_RMW, &g->x);
        g->points++;
        if (xsim_vcpu_current() != xsim_domain_vcpu(g->d, cpu))
            g->wrong++;
    }
}

static uint64_t run_who(enum xsim_backend b, const char *spec, uint64_t seed, uint64_t *switches)
{
    static const struct xsim_guest_ops ops = {.start = who_start};
    struct xsim_world_config cfg;
    struct xsim_policy *pol = th_policy(spec);
    struct xsim_world *w;
    struct who_guest g = {0};
    uint64_t digest;

    xsim_world_config_init(&cfg);
    cfg.backend = b;
    cfg.seed = seed;
    g.p = start(&cfg, pol, 4, &ops, &g, &w, &g.d);
    assert_int_equal(xsim_world_run(w), XSIM_STOP_ALL_DONE);
    assert_null(xsim_vcpu_current());
    assert_int_equal(g.wrong, 0);
    assert_int_equal(g.points, 4 * 300);
    digest = xsim_world_digest(w);
    *switches = xsim_world_stats(w)->switches;
    xsim_world_destroy(w);
    xsim_policy_destroy(pol);
    return digest;
}

static void test_current_vcpu_after_every_switch(void **state)
{
    static const char *const specs[] = {"random", "pct:3", "time"};

    (void)state;
    for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
        for (uint64_t seed = 1; seed <= 5; seed++) {
            uint64_t sw_t, sw_f;
            uint64_t dt = run_who(XSIM_BACKEND_THREAD, specs[i], seed, &sw_t);
            uint64_t df = run_who(XSIM_BACKEND_FIBER, specs[i], seed, &sw_f);
            assert_int_equal(dt, df);
            assert_int_equal(sw_t, sw_f);
        }
    }
}

/* ---- teardown with suspended fibers ---- */

struct spin_guest {
    const struct xg_platform *p;
    volatile uint64_t x;
};

static void spin_start(void *guest, unsigned int cpu)
{
    struct spin_guest *g = guest;
    char deep[2048]; /* some stack in use below the suspended frame */

    (void)cpu;
    memset(deep, (int)cpu, sizeof(deep));
    for (;;)
        xg_point(g->p, XG_POINT_LOAD, &g->x);
}

static void test_destroy_mid_stack(void **state)
{
    static const struct xsim_guest_ops ops = {.start = spin_start};

    (void)state;
    /* Many worlds in a row: stacks go back to the cache and come out again
     * with nothing left of the frames abandoned on them. */
    for (int i = 0; i < 200; i++) {
        struct xsim_world_config cfg;
        struct xsim_policy *pol = th_policy(i % 2 ? "random" : "pct:2");
        struct xsim_world *w;
        struct xsim_domain *d;
        struct spin_guest g = {0};
        xsim_world_config_init(&cfg);
        cfg.backend = XSIM_BACKEND_FIBER;
        cfg.seed = (uint64_t)i + 1;
        cfg.max_decisions = 50 + (uint64_t)i;
        cfg.stack_size = i % 3 == 0 ? 64 * 1024 : 0;
        g.p = start(&cfg, pol, 3, &ops, &g, &w, &d);
        assert_int_equal(xsim_world_run(w), XSIM_STOP_STEP_LIMIT);
        xsim_world_destroy(w);
        xsim_policy_destroy(pol);
    }
}

/* ---- crashes on a fiber ---- */

#ifndef XENSIM_SANITIZED
static volatile int never = -1;
static volatile uintptr_t bad_address = 16;

static int recurse(const struct xg_platform *p, volatile uint64_t *x, int depth)
{
    volatile char frame[512];

    frame[0] = (char)depth;
    if (depth == never)
        return 0;
    if (depth % 32 == 0)
        xg_point(p, XG_POINT_LOAD, x);
    return recurse(p, x, depth + 1) + frame[0];
}

struct crash_guest {
    const struct xg_platform *p;
    unsigned int victim;
    bool wild; /* a wild write instead of an overflow */
    volatile uint64_t x;
};

static void crash_start(void *guest, unsigned int cpu)
{
    struct crash_guest *g = guest;

    for (int i = 0; i < 20; i++)
        xg_point(g->p, XG_POINT_LOAD, &g->x);
    if (cpu != g->victim) {
        for (;;)
            xg_point(g->p, XG_POINT_LOAD, &g->x);
    }
    if (g->wild)
        *(volatile int *)bad_address = 1;
    (void)recurse(g->p, &g->x, 1);
}

static int sentinel_hits;
static void sentinel(int sig)
{
    (void)sig;
    sentinel_hits++;
}

static void crash_run(bool wild, unsigned int victim, const char *expect)
{
    static const struct xsim_guest_ops ops = {.start = crash_start};
    struct xsim_world_config cfg;
    struct xsim_policy *pol = th_policy("random");
    struct xsim_world *w;
    struct xsim_domain *d;
    struct crash_guest g = {.victim = victim, .wild = wild};
    struct sigaction sa, now;

    /* Someone else's handler is in place before the run... */
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = sentinel;
    sigemptyset(&sa.sa_mask);
    assert_int_equal(sigaction(SIGSEGV, &sa, NULL), 0);

    xsim_world_config_init(&cfg);
    cfg.backend = XSIM_BACKEND_FIBER;
    cfg.stack_size = 64 * 1024;
    cfg.max_decisions = 1000000;
    g.p = start(&cfg, pol, 2, &ops, &g, &w, &d);
    assert_int_equal(xsim_world_run(w), XSIM_STOP_FAILED);
    assert_non_null(xsim_world_failure(w));
    if (strstr(xsim_world_failure(w), expect) == NULL ||
        strstr(xsim_world_failure(w), "after decision") == NULL ||
        strstr(xsim_world_failure(w), "scheduling point") == NULL)
        fail_msg("failure text: %s", xsim_world_failure(w));
    print_message("%s\n", xsim_world_failure(w));
    assert_true(xsim_world_guest_bug(w));
    assert_null(xsim_vcpu_current());
    xsim_world_destroy(w);
    xsim_policy_destroy(pol);

    /* ...and it is back once no world runs. */
    assert_int_equal(sigaction(SIGSEGV, NULL, &now), 0);
    assert_ptr_equal(now.sa_handler, sentinel);
    assert_int_equal(sentinel_hits, 0);
    signal(SIGSEGV, SIG_DFL);
}

static void test_stack_overflow_fails_the_run(void **state)
{
    (void)state;
    /* The fault is deliberate: Memcheck would report it as an error. */
    if (RUNNING_ON_VALGRIND)
        skip();
    crash_run(false, 1, "vCPU 1: stack overflow (guard page hit)");
    crash_run(false, 0, "vCPU 0: stack overflow (guard page hit)");
}

static void test_wild_access_fails_the_run(void **state)
{
    (void)state;
    if (RUNNING_ON_VALGRIND)
        skip();
    crash_run(true, 1, "vCPU 1: SIGSEGV at address 0x10");
}

/* In a session the handler stays between runs; its end restores the one
 * that was there before. */
static void test_session_keeps_then_restores(void **state)
{
    static const struct xsim_guest_ops ops = {.start = spin_start};
    struct sigaction sa, now;

    (void)state;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = sentinel;
    sigemptyset(&sa.sa_mask);
    assert_int_equal(sigaction(SIGSEGV, &sa, NULL), 0);
    xsim_world_session_begin();
    for (int i = 0; i < 3; i++) {
        struct xsim_world_config cfg;
        struct xsim_policy *pol = th_policy("random");
        struct xsim_world *w;
        struct xsim_domain *d;
        struct spin_guest g = {0};
        xsim_world_config_init(&cfg);
        cfg.backend = XSIM_BACKEND_FIBER;
        cfg.max_decisions = 100;
        g.p = start(&cfg, pol, 2, &ops, &g, &w, &d);
        assert_int_equal(xsim_world_run(w), XSIM_STOP_STEP_LIMIT);
        xsim_world_destroy(w);
        xsim_policy_destroy(pol);
        assert_int_equal(sigaction(SIGSEGV, NULL, &now), 0);
        assert_ptr_not_equal(now.sa_handler, sentinel);
    }
    xsim_world_session_end();
    assert_int_equal(sigaction(SIGSEGV, NULL, &now), 0);
    assert_ptr_equal(now.sa_handler, sentinel);
    signal(SIGSEGV, SIG_DFL);
}
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backend_choice),
        cmocka_unit_test(test_current_vcpu_after_every_switch),
        cmocka_unit_test(test_destroy_mid_stack),
#ifndef XENSIM_SANITIZED
        /* Under AddressSanitizer its own handler reports such faults. */
        cmocka_unit_test(test_stack_overflow_fails_the_run),
        cmocka_unit_test(test_wild_access_fails_the_run),
        cmocka_unit_test(test_session_keeps_then_restores),
#endif
    };

    if (!xsim_backend_fiber_available()) {
        printf("no fiber backend in this build\n");
        return 77;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
