/*
 * test_pvclock.c - pvclock arithmetic against a 128-bit reference: the
 * scale (10^6 random parameter sets, every tsc_shift from -64 to 64, both
 * full-range and realistic deltas), its inverse, the ratio helper, and the
 * version-protocol reader on a record that does not change.
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

#include "xensim/guest/xg_time.h"
#include "xensim/prng.h"

typedef unsigned __int128 u128;

/* The formula as Xen states it, with a native 128-bit product. */
static uint64_t ref_scale(uint64_t delta, uint32_t mul, int shift)
{
    uint64_t d;

    if (shift < 0)
        d = -shift >= 64 ? 0 : delta >> -shift;
    else
        d = shift >= 64 ? 0 : delta << shift;
    return (uint64_t)(((u128)d * mul) >> 32);
}

static uint64_t random_delta(struct xsim_rng *r)
{
    switch (xsim_rng_below(r, 4)) {
    case 0:
        return xsim_rng_next(r); /* anything */
    case 1:
        return xsim_rng_below(r, 1ull << 32); /* a few seconds of TSC */
    case 2:
        return xsim_rng_next(r) >> xsim_rng_below(r, 64); /* every magnitude */
    default:
        return (uint64_t)xsim_rng_below(r, 3) - 1 + (1ull << xsim_rng_below(r, 64)); /* edges */
    }
}

static uint32_t random_mul(struct xsim_rng *r)
{
    switch (xsim_rng_below(r, 3)) {
    case 0:
        return (uint32_t)xsim_rng_next(r);
    case 1:
        return 0x80000000u | (uint32_t)xsim_rng_next(r); /* Xen's normalised range */
    default:
        return xsim_rng_below(r, 2) ? 0xffffffffu : (uint32_t)xsim_rng_below(r, 3);
    }
}

static void test_scale_reference(void **state)
{
    struct xsim_rng r;
    uint64_t n = 1000000, bad = 0;

    (void)state;
    xsim_rng_init(&r, 42, "pvclock.scale");
    for (uint64_t i = 0; i < n; i++) {
        uint64_t delta = random_delta(&r);
        uint32_t mul = random_mul(&r);
        /* Every shift from -64 to 64, realistic ones (-8..8) more often. */
        int shift = xsim_rng_below(&r, 2) ? (int)xsim_rng_below(&r, 129) - 64
                                          : (int)xsim_rng_below(&r, 17) - 8;
        uint64_t got = xg_pvclock_scale(delta, mul, (int8_t)shift);
        uint64_t want = ref_scale(delta, mul, shift);
        if (got != want && bad++ < 5)
            print_error("scale(%" PRIu64 ", %" PRIu32 ", %d) = %" PRIu64 ", want %" PRIu64 "\n",
                        delta, mul, shift, got, want);
    }
    assert_int_equal(bad, 0);
}

/* Whole records: system_time + scale(tsc - tsc_timestamp), wrapping as the
 * 64-bit sum does. */
static void test_record_reference(void **state)
{
    struct xsim_rng r;

    (void)state;
    xsim_rng_init(&r, 7, "pvclock.record");
    for (int i = 0; i < 200000; i++) {
        struct xg_pvclock_snap s = {
            .tsc_timestamp = xsim_rng_next(&r) >> 1,
            .system_time = xsim_rng_next(&r),
            .mul = random_mul(&r),
            .shift = (int8_t)((int)xsim_rng_below(&r, 63) - 31),
        };
        uint64_t tsc = s.tsc_timestamp + random_delta(&r) / 2;
        uint64_t want = s.system_time + ref_scale(tsc - s.tsc_timestamp, s.mul, s.shift);
        assert_true(xg_pvclock_ns(&s, tsc) == want);
    }
}

/* The inverse is the least delta that reaches ns, wherever it exists. */
static void test_inverse(void **state)
{
    struct xsim_rng r;
    uint64_t checked = 0;

    (void)state;
    xsim_rng_init(&r, 9, "pvclock.inverse");
    for (int i = 0; i < 300000; i++) {
        uint32_t mul = 1 + (uint32_t)xsim_rng_below(&r, 0xffffffffu);
        int shift = (int)xsim_rng_below(&r, 65) - 32;
        uint64_t ns = xsim_rng_next(&r) >> xsim_rng_below(&r, 64);
        uint64_t d = xg_pvclock_scale_inverse(ns, mul, (int8_t)shift);
        if (d == UINT64_MAX)
            continue;
        checked++;
        if (xg_pvclock_scale(d, mul, (int8_t)shift) < ns)
            fail_msg("inverse(%" PRIu64 ", %" PRIu32 ", %d) = %" PRIu64 " does not reach it", ns,
                     mul, shift, d);
        if (d > 0 && xg_pvclock_scale(d - 1, mul, (int8_t)shift) >= ns)
            fail_msg("inverse(%" PRIu64 ", %" PRIu32 ", %d) = %" PRIu64 " is not the least", ns,
                     mul, shift, d);
    }
    assert_true(checked > 200000);
    assert_int_equal(xg_pvclock_scale_inverse(0, 123, 0), 0);
    assert_true(xg_pvclock_scale_inverse(5, 0, 0) == UINT64_MAX);
}

/* Scale factors for a ratio: x * num / den within the 32-bit multiplier's
 * precision (and the shift's truncation). */
static void test_ratio(void **state)
{
    struct xsim_rng r;
    uint32_t mul;
    int8_t shift;

    (void)state;
    xsim_rng_init(&r, 11, "pvclock.ratio");
    assert_int_equal(xg_pvclock_ratio(0, 1, &mul, &shift), -EINVAL);
    assert_int_equal(xg_pvclock_ratio(1, 0, &mul, &shift), -EINVAL);
    /* A 1 GHz TSC: Xen's own pair. */
    assert_int_equal(xg_pvclock_ratio(1000000000, 1000000000, &mul, &shift), 0);
    assert_int_equal(mul, 0x80000000u);
    assert_int_equal(shift, 1);
    for (int i = 0; i < 100000; i++) {
        uint64_t num = 1 + xsim_rng_below(&r, 1ull << (1 + xsim_rng_below(&r, 40)));
        uint64_t den = 1 + xsim_rng_below(&r, 1ull << (1 + xsim_rng_below(&r, 40)));
        uint64_t x = xsim_rng_below(&r, 1ull << 20) << 12;
        if (xg_pvclock_ratio(num, den, &mul, &shift) != 0)
            continue; /* ratio beyond 2^32 or below 2^-63 */
        assert_true(mul >= 0x80000000u);
        long double want = (long double)x * num / den;
        long double got = (long double)xg_pvclock_scale(x, mul, shift);
        long double step = shift < 0 ? (long double)(1ull << -shift) * num / den : 1;
        /* mul is floor(ratio * 2^32) >= 2^31: at most 2^-31 low, never high. */
        if (got > want + want * 1e-15L + 1 || got + want * 5e-10L + step + 1 < want)
            fail_msg("ratio %" PRIu64 "/%" PRIu64 " (mul %" PRIu32 " shift %d): %Lf for %Lf", num,
                     den, mul, shift, got, want);
    }
}

/* A platform whose only ops are the ones the reader uses. */
struct fake {
    struct vcpu_time_info ti;
    uint64_t tsc;
    unsigned int loads;
    int flip_at; /* make the version odd at this load, even two later */
};

static void fake_point(void *ctx, enum xg_point_kind kind, const volatile void *addr)
{
    struct fake *f = ctx;

    if (kind != XG_POINT_LOAD)
        return;
    f->loads++;
    if ((int)f->loads == f->flip_at)
        f->ti.version++;
    if ((int)f->loads == f->flip_at + 2) {
        f->ti.system_time += 1000;
        f->ti.version++;
    }
}

static uint64_t fake_rdtsc(void *ctx)
{
    return ((struct fake *)ctx)->tsc;
}

static const struct xg_platform_ops fake_ops = {.point = fake_point, .rdtsc = fake_rdtsc};

static void test_reader_retries(void **state)
{
    struct fake f;
    struct xg_platform p = {.ops = &fake_ops, .ctx = &f};
    struct xg_pvclock_snap s;

    (void)state;
    memset(&f, 0, sizeof(f));
    f.ti.version = 2;
    f.ti.tsc_timestamp = 1000;
    f.ti.system_time = 5000;
    f.ti.tsc_to_system_mul = 0x80000000u;
    f.ti.tsc_shift = 1;
    f.tsc = 1500;
    f.flip_at = -10;
    assert_int_equal(xg_pvclock_read(&p, &f.ti, &s, 0), 0);
    assert_true(xg_pvclock_ns(&s, s.tsc) == 5500);
    /* An update overlapping the field reads: one retry, the new value. */
    f.loads = 0;
    f.flip_at = 3;
    assert_int_equal(xg_pvclock_read(&p, &f.ti, &s, 0), 1);
    assert_int_equal(s.version, 4);
    assert_true(xg_pvclock_ns(&s, s.tsc) == 6500);
    /* A version stuck odd: the bound says so. */
    f.ti.version = 5;
    f.flip_at = -10;
    assert_int_equal(xg_pvclock_read(&p, &f.ti, &s, 100), -EAGAIN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scale_reference), cmocka_unit_test(test_record_reference),
        cmocka_unit_test(test_inverse),         cmocka_unit_test(test_ratio),
        cmocka_unit_test(test_reader_retries),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
