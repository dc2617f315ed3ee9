/*
 * test_evq.c - the timed-event queue against a brute-force reference:
 * random pushes, pops and cancels must come out in (time, push order), where
 * a push before the last popped time counts as at that time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "world/evq.h"
#include "xensim/prng.h"

struct ref {
    uint64_t time, order, handle;
    bool live;
};

static void test_random_ops(void **state)
{
    struct xsim_evq q;
    struct xsim_rng rng;
    enum { N = 20000 };
    struct ref *refs = calloc(N, sizeof(*refs));
    size_t nrefs = 0;
    uint64_t order = 0, last = 0;

    (void)state;
    xsim_evq_init(&q);
    xsim_rng_init(&rng, 42, "evq");
    for (int step = 0; step < 60000; step++) {
        uint64_t r = xsim_rng_below(&rng, 10);
        if (r < 5 && nrefs < N) {
            uint64_t t = last + xsim_rng_below(&rng, 50); /* many equal times */
            if (xsim_rng_below(&rng, 8) == 0)
                t = xsim_rng_below(&rng, last + 1); /* in the past: runs at `last` */
            uint64_t eff = t < last ? last : t;
            uint64_t h = xsim_evq_push(&q, t, (uint32_t)nrefs, NULL, (void *)(uintptr_t)nrefs);
            assert_true(h != 0);
            refs[nrefs] = (struct ref){eff, order++, h, true};
            nrefs++;
        } else if (r == 5 && xsim_rng_below(&rng, 2) == 0) {
            uint64_t t;
            (void)xsim_evq_peek(&q, &t); /* must not change what comes out */
        } else if (r < 7 && nrefs > 0) {
            size_t i = (size_t)xsim_rng_below(&rng, nrefs);
            bool ok = xsim_evq_cancel(&q, refs[i].handle);
            assert_int_equal(ok, refs[i].live);
            refs[i].live = false;
            /* a second cancel of the same handle must fail */
            assert_false(xsim_evq_cancel(&q, refs[i].handle));
        } else {
            /* reference minimum */
            size_t best = SIZE_MAX;
            for (size_t i = 0; i < nrefs; i++) {
                if (refs[i].live &&
                    (best == SIZE_MAX || refs[i].time < refs[best].time ||
                     (refs[i].time == refs[best].time && refs[i].order < refs[best].order)))
                    best = i;
            }
            uint64_t t;
            uint32_t kind;
            void *fn, *arg;
            bool got = xsim_evq_pop(&q, &t, &kind, &fn, &arg);
            assert_int_equal(got, best != SIZE_MAX);
            if (got) {
                assert_int_equal(t, refs[best].time);
                last = t;
                assert_int_equal((uintptr_t)arg, best);
                refs[best].live = false;
            }
        }
    }
    xsim_evq_free(&q);
    free(refs);
}

/* A peek must not move the queue's notion of "now": an event pushed after
 * a peek, earlier than every pending one, still comes out first and at its
 * own time (this is what a vCPU behind the next timed event does). */
static void test_push_before_peeked(void **state)
{
    struct xsim_evq q;
    uint64_t t, h;
    uint32_t kind;
    void *fn, *arg;

    (void)state;
    xsim_evq_init(&q);
    xsim_evq_push(&q, 10000000, 1, NULL, NULL);
    h = xsim_evq_push(&q, 20000000, 4, NULL, NULL);
    assert_true(xsim_evq_peek(&q, &t));
    assert_int_equal(t, 10000000);
    xsim_evq_push(&q, 1000000, 2, NULL, NULL);
    xsim_evq_push(&q, 1000000, 3, NULL, NULL);
    /* A cancelled far event's tombstone does not hold later ones back. */
    assert_true(xsim_evq_cancel(&q, h));
    assert_true(xsim_evq_peek(&q, &t));
    assert_int_equal(t, 1000000);
    assert_true(xsim_evq_pop(&q, &t, &kind, &fn, &arg));
    assert_int_equal(t, 1000000);
    assert_int_equal(kind, 2);
    xsim_evq_push(&q, 5000000, 5, NULL, NULL);
    assert_true(xsim_evq_pop(&q, &t, &kind, &fn, &arg));
    assert_int_equal(kind, 3);
    assert_true(xsim_evq_pop(&q, &t, &kind, &fn, &arg));
    assert_int_equal(t, 5000000);
    assert_int_equal(kind, 5);
    assert_true(xsim_evq_pop(&q, &t, &kind, &fn, &arg));
    assert_int_equal(t, 10000000);
    assert_false(xsim_evq_pop(&q, &t, &kind, &fn, &arg));
    xsim_evq_free(&q);
}

static void test_bad_handles(void **state)
{
    struct xsim_evq q;

    (void)state;
    xsim_evq_init(&q);
    assert_false(xsim_evq_cancel(&q, 0));
    assert_false(xsim_evq_cancel(&q, 12345));
    uint64_t h = xsim_evq_push(&q, 5, 0, NULL, NULL);
    assert_false(xsim_evq_cancel(&q, h + (1ull << 24))); /* wrong sequence */
    assert_true(xsim_evq_cancel(&q, h));
    xsim_evq_free(&q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_ops),
        cmocka_unit_test(test_push_before_peeked),
        cmocka_unit_test(test_bad_handles),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
