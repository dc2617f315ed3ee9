/*
 * test_measure.c - the measurement primitives: histogram quantiles within
 * 0.4% of the exact sample quantile, bucket boundaries without gaps,
 * batch-means intervals that cover the true mean about 95% of the time,
 * and Student t quantiles.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "xensim/measure.h"
#include "xensim/prng.h"

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

static void test_buckets_tile(void **state)
{
    uint64_t prev_hi = 0, lo, hi;

    (void)state;
    /* Every bucket starts right after the previous one ends. */
    for (unsigned int i = 0; i < XSIM_HIST_BUCKETS; i++) {
        xsim_hist_bucket_range(i, &lo, &hi);
        if (i > 0)
            assert_true(lo == prev_hi + 1);
        assert_true(hi >= lo);
        assert_int_equal(xsim_hist_index(lo), i);
        assert_int_equal(xsim_hist_index(hi), i);
        /* Width at most 1/128 of the lower bound above the exact range. */
        if (lo >= 256)
            assert_true((hi - lo + 1) * 128 <= lo);
        prev_hi = hi;
    }
    assert_true(prev_hi == UINT64_MAX);
}

static void test_quantiles_exact_enough(void **state)
{
    enum { N = 200000 };
    uint64_t *v = malloc(N * sizeof(*v));
    struct xsim_hist h = {0};
    struct xsim_rng rng;
    const double qs[] = {0.5, 0.9, 0.99, 0.999};
    long double sum = 0;

    (void)state;
    assert_non_null(v);
    xsim_rng_init(&rng, 7, "measure");
    for (int i = 0; i < N; i++) {
        /* Heavy-tailed: spans many powers of two. */
        v[i] = (uint64_t)llround(exp(10 + 3 * (xsim_rng_unit(&rng) - 0.5) * 4));
        sum += v[i];
        assert_int_equal(xsim_hist_add(&h, v[i]), 0);
    }
    qsort(v, N, sizeof(*v), cmp_u64);
    for (size_t k = 0; k < sizeof(qs) / sizeof(qs[0]); k++) {
        uint64_t exact = v[(size_t)ceil(qs[k] * N) - 1];
        uint64_t got = xsim_hist_quantile(&h, qs[k]);
        assert_true(fabs((double)got - (double)exact) <= exact / 256.0 + 0.5);
    }
    assert_true(xsim_hist_quantile(&h, 1.0) == v[N - 1]);
    assert_true(xsim_hist_quantile(&h, 0.0) == v[0]);
    assert_true(fabs(xsim_hist_mean(&h) - (double)(sum / N)) < 1e-6 * (double)(sum / N));
    xsim_hist_free(&h);
    free(v);
}

static void test_small_values_exact(void **state)
{
    struct xsim_hist h = {0};

    (void)state;
    assert_int_equal(xsim_hist_quantile(&h, 0.5), 0);
    for (uint64_t x = 1; x <= 100; x++)
        assert_int_equal(xsim_hist_add(&h, x), 0);
    assert_int_equal(xsim_hist_quantile(&h, 0.5), 50);
    assert_int_equal(xsim_hist_quantile(&h, 0.99), 99);
    assert_int_equal(h.max, 100);
    xsim_hist_free(&h);
}

/* Merging two histograms gives the histogram of both sets of values: the
 * same count, extremes, mean and quantiles, including blocks only the
 * source had. */
static void test_merge(void **state)
{
    struct xsim_hist a = {0}, b = {0}, all = {0};
    struct xsim_rng rng;

    (void)state;
    xsim_rng_init(&rng, 5, "merge");
    for (int i = 0; i < 20000; i++) {
        uint64_t v = (uint64_t)llround(exp(12 * xsim_rng_unit(&rng)));
        /* a: the low values, b: the high ones, so b has blocks a lacks */
        assert_int_equal(xsim_hist_add(v < 5000 ? &a : &b, v), 0);
        assert_int_equal(xsim_hist_add(&all, v), 0);
    }
    assert_int_equal(xsim_hist_merge(&a, &b), 0);
    assert_true(a.n == all.n && a.min == all.min && a.max == all.max);
    assert_true(xsim_hist_mean(&a) == xsim_hist_mean(&all));
    for (int k = 0; k <= 1000; k++)
        assert_true(xsim_hist_quantile(&a, k / 1000.0) == xsim_hist_quantile(&all, k / 1000.0));
    xsim_hist_free(&a);
    xsim_hist_free(&b);
    xsim_hist_free(&all);
}

/* Independent normal samples: the 95% interval covers the true mean in
 * about 95% of runs (binomial bounds for 400 runs: 360..397). */
/* The one-pass quantiles equal the one-at-a-time ones, in order or not,
 * at the edges, on an empty histogram and on spread-out values. */
static void test_quantiles_one_pass(void **state)
{
    static const double qs[] = {0.001, 0.25, 0.5, 0.5, 0.9, 0.99, 0.999, 0.9999};
    static const double odd[] = {0.99, 0.5, 0, 1, 0.9, -1, 2, 0.5};
    struct xsim_rng rng;
    uint64_t got[8];

    (void)state;
    xsim_rng_init(&rng, 7, "quantiles");
    for (int round = 0; round < 40; round++) {
        struct xsim_hist h;
        unsigned int n = round == 0 ? 0 : 1 + (unsigned int)xsim_rng_below(&rng, 3000);
        memset(&h, 0, sizeof(h));
        for (unsigned int i = 0; i < n; i++) {
            /* From exact small values to many powers of two. */
            uint64_t v = xsim_rng_next(&rng) >> (xsim_rng_below(&rng, 64));
            assert_int_equal(xsim_hist_add(&h, v), 0);
        }
        xsim_hist_quantiles(&h, qs, 8, got);
        for (int i = 0; i < 8; i++)
            assert_int_equal(got[i], xsim_hist_quantile(&h, qs[i]));
        xsim_hist_quantiles(&h, odd, 8, got);
        for (int i = 0; i < 8; i++)
            assert_int_equal(got[i], xsim_hist_quantile(&h, odd[i]));
        double many[24];
        uint64_t got24[24];
        for (int i = 0; i < 24; i++)
            many[i] = (i + 1) / 25.0;
        xsim_hist_quantiles(&h, many, 24, got24);
        for (int i = 0; i < 24; i++)
            assert_int_equal(got24[i], xsim_hist_quantile(&h, many[i]));
        xsim_hist_free(&h);
    }
}

static void test_batch_means_coverage(void **state)
{
    struct xsim_rng rng;
    int covered = 0;

    (void)state;
    xsim_rng_init(&rng, 11, "bm");
    for (int run = 0; run < 400; run++) {
        struct xsim_batchmeans b;
        double m, half;
        xsim_bm_init(&b);
        for (int i = 0; i < 5000; i++) {
            double u1 = 1 - xsim_rng_unit(&rng), u2 = xsim_rng_unit(&rng);
            xsim_bm_add(&b, 10 + sqrt(-2 * log(u1)) * cos(2 * M_PI * u2));
        }
        assert_true(xsim_bm_ci95(&b, &m, &half));
        assert_true(b.k >= XSIM_BM_MAX / 2);
        covered += fabs(m - 10) <= half;
    }
    assert_in_range(covered, 360, 397);
}

static void test_t975(void **state)
{
    (void)state;
    assert_true(fabs(xsim_t975(1) - 12.706) < 1e-3);
    assert_true(fabs(xsim_t975(30) - 2.042) < 1e-3);
    assert_true(fabs(xsim_t975(31) - 2.040) < 2e-3);
    assert_true(fabs(xsim_t975(63) - 1.998) < 2e-3);
    assert_true(fabs(xsim_t975(100000) - 1.96) < 1e-3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buckets_tile),
        cmocka_unit_test(test_merge),
        cmocka_unit_test(test_quantiles_exact_enough),
        cmocka_unit_test(test_quantiles_one_pass),
        cmocka_unit_test(test_small_values_exact),
        cmocka_unit_test(test_batch_means_coverage),
        cmocka_unit_test(test_t975),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
