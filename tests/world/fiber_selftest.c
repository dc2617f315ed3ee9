/*
 * fiber_selftest.c - the fiber switch alone, without CMocka or the rest of
 * the simulator, so that it can be built for another architecture and run
 * under an emulator (tests/world/CMakeLists.txt: aarch64 under
 * qemu-aarch64 when a cross compiler and qemu are installed).
 *
 * What a context switch must keep, checked with values that would be lost
 * if one register class were not saved:
 *   - integer callee-saved registers: many live integer values across a
 *     switch, in three fibers interleaved round robin;
 *   - floating-point callee-saved registers (d8-d15 on aarch64; none on
 *     x86-64, where all xmm are caller-saved): live doubles across a switch;
 *   - the floating-point control word per context: one fiber rounds
 *     upward while the others keep rounding to nearest;
 *   - the stack: deep recursion on each fiber, and a stack overflow caught
 *     by the guard page and reported for the fiber that hit it;
 *   - stacks given back and taken again (the per-thread cache).
 *
 * Exit status 0 when everything held, 1 with a message otherwise, 77 when
 * this build has no fibers.
 */
#include <fenv.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "world/fiber.h"

#define NFIB   3
#define ROUNDS 2000

static struct xsim_fiber main_ctx, fib[NFIB];
static uint64_t result_int[NFIB];
static double result_dbl[NFIB];
static int failures;
/* Not constants, so that nothing is folded at compile time (rounding). */
static volatile uint64_t seed = 1;
static volatile double dseed = 0.5;

static void fail(const char *what, int i)
{
    fprintf(stderr, "fiber_selftest: %s (fiber %d)\n", what, i);
    failures++;
}

/* Hand over to the next fiber, or back to the thread after the last one. */
static void yield_from(int i)
{
    xsim__fiber_switch(&fib[i], i + 1 < NFIB ? &fib[i + 1] : &fib[0]);
}

/* The same arithmetic, with or without switches in between. */
static uint64_t mix(uint64_t a, uint64_t b)
{
    return (a ^ (b >> 7)) * 0x9e3779b97f4a7c15ull + b;
}

static void compute(int i, bool switching, uint64_t *out_int, double *out_dbl)
{
    /* Enough live values that the compiler keeps some in callee-saved
     * registers across the call to yield_from. */
    uint64_t a = seed + (uint64_t)i, b = 2, c = 3, d = 5, e = 7, f = 11, g = 13, h = 17;
    double x = dseed + i, y = 1.25, z = 2.5, w = 3.75, u = 0.125, v = 0.0625, s = 1.0, t = 2.0;

    /* Each fiber counts over its own range, so that no register holds
     * the same value in every fiber at the moment of a switch. */
    for (uint64_t r = 1000u * (uint64_t)i; r < 1000u * (uint64_t)i + ROUNDS; r++) {
        a = mix(a, h + r);
        b = mix(b, a);
        c = mix(c, b);
        d = mix(d, c);
        e = mix(e, d);
        f = mix(f, e);
        g = mix(g, f);
        h = mix(h, g);
        x = x * 1.0000001 + y;
        y = y * 0.9999999 + z;
        z = z * 1.0000002 - w;
        w = w * 0.9999998 + u;
        u = u + v * 0.5;
        v = v * 1.0000003 + s;
        s = s * 0.9999997 + t;
        t = t + x * 1e-9;
        if (switching)
            yield_from(i);
    }
    *out_int = a ^ b ^ c ^ d ^ e ^ f ^ g ^ h;
    *out_dbl = x + y + z + w + u + v + s + t;
}

/* Rounding mode is per context: fiber 0 rounds upward, the rest to
 * nearest, each checking its own mode after every switch. */
static void check_rounding(int i)
{
    int want = i == 0 ? FE_UPWARD : FE_TONEAREST;

    if (fegetround() != want)
        fail("rounding mode not kept across a switch", i);
}

static unsigned int recurse(unsigned int depth)
{
    volatile unsigned char pad[256]; /* a frame of some size, really used */

    pad[depth % sizeof(pad)] = 1;
    if (depth == 0)
        return pad[0];
    return recurse(depth - 1) + pad[depth % sizeof(pad)];
}

static void body(void *arg)
{
    int i = (int)(intptr_t)arg;

    if (i == 0 && fesetround(FE_UPWARD) != 0)
        fail("fesetround", i);
    check_rounding(i);
    compute(i, true, &result_int[i], &result_dbl[i]);
    check_rounding(i);
    /* 64 KiB of frames on a 256 KiB stack. */
    if (recurse(200) != 201u)
        fail("deep recursion", i);
    yield_from(i);
    check_rounding(i);
    /* Done: park on the thread for good (the last one returns there). */
    xsim__fiber_switch_last(&fib[i], &main_ctx);
}

static void overflow_body(void *arg)
{
    (void)arg;
    /* Recursion without end: the guard page below the stack stops it. */
    (void)recurse(1u << 30);
    xsim__fiber_switch_last(&fib[0], &main_ctx);
}

int main(void)
{
    static sigjmp_buf jb;
    uint64_t want_int;
    double want_dbl;

    if (!XSIM_FIBER_AVAILABLE) {
        fprintf(stderr, "fiber_selftest: no fibers in this build\n");
        return 77;
    }
    for (int round = 0; round < 2; round++) { /* the second reuses cached stacks */
        for (int i = 0; i < NFIB; i++) {
            if (xsim__fiber_create(&fib[i], 256 * 1024, body, (void *)(intptr_t)i) != 0) {
                fail("create", i);
                return 1;
            }
        }
        /* Fiber 0 starts; each hands over to the next, the last to fiber
         * 0; after its last switch each parks on main_ctx. */
        for (int i = 0; i < NFIB; i++)
            xsim__fiber_switch(&main_ctx, &fib[i]);
        for (int i = 0; i < NFIB; i++) {
            /* The reference, in the rounding mode that fiber ran in. */
            (void)fesetround(i == 0 ? FE_UPWARD : FE_TONEAREST);
            compute(i, false, &want_int, &want_dbl);
            (void)fesetround(FE_TONEAREST);
            if (result_int[i] != want_int)
                fail("integer registers not kept across switches", i);
            if (result_dbl[i] != want_dbl)
                fail("floating-point registers not kept across switches", i);
        }
        if (fegetround() != FE_TONEAREST)
            fail("the thread's rounding mode changed by a fiber", -1);
        for (int i = 0; i < NFIB; i++)
            xsim__fiber_destroy(&fib[i]);
    }

    /* A stack overflow is caught and names the fiber. */
    if (xsim__fiber_crash_arm(&jb)) {
        if (sigsetjmp(jb, 0) == 0) {
            if (xsim__fiber_create(&fib[0], 64 * 1024, overflow_body, NULL) != 0) {
                fail("create", 0);
                return 1;
            }
            xsim__fiber_switch(&main_ctx, &fib[0]);
            fail("overflow not caught", 0);
        } else {
            const struct xsim_fiber_crash *c = xsim__fiber_crash_info();
            if (c == NULL || !c->guard || c->fiber != &fib[0])
                fail("overflow caught but not reported as a guard hit on the fiber", 0);
        }
        xsim__fiber_crash_disarm();
        xsim__fiber_destroy(&fib[0]);
    }
    if (failures == 0)
        printf("fiber_selftest: %d fibers x %d switches, registers, rounding, stacks and "
               "overflow: ok\n",
               NFIB, ROUNDS);
    return failures == 0 ? 0 : 1;
}
