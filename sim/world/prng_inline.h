/*
 * prng_inline.h - xoshiro256** and its bounded draw as inline functions:
 * prng.c's exported ones are these, and the scheduler draws each `random`
 * decision through them without a call (a decision is made tens of
 * thousands of times per explored schedule).
 */
#ifndef XSIM_PRNG_INLINE_H
#define XSIM_PRNG_INLINE_H

#include "xensim/prng.h"

static inline uint64_t xsim__rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static inline uint64_t xsim__rng_next(struct xsim_rng *rng)
{
    uint64_t *s = rng->s;
    uint64_t result = xsim__rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;

    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = xsim__rotl(s[3], 45);
    return result;
}

/* The rejection loop of xsim__rng_below with a constant bound, which the
 * compiler turns into multiplications: the same draws without the two
 * divisions. */
static inline uint64_t xsim__rng_below_const(struct xsim_rng *rng, uint64_t bound)
{
    uint64_t x, threshold = (0 - bound) % bound;

    do {
        x = xsim__rng_next(rng);
    } while (x < threshold);
    return x % bound;
}

static inline uint64_t xsim__rng_below(struct xsim_rng *rng, uint64_t bound)
{
    uint64_t x, threshold;

    if (bound == 0)
        return 0;
    /* A power of two has no biased values (the threshold below is 0) and
     * the modulo is a mask: the same result without two divisions, which
     * a scheduling decision among 2 candidates would otherwise pay. */
    if ((bound & (bound - 1)) == 0)
        return xsim__rng_next(rng) & (bound - 1);
    /* The candidate counts of small machines (vCPUs plus the event). */
    switch (bound) {
    case 3:
        return xsim__rng_below_const(rng, 3);
    case 5:
        return xsim__rng_below_const(rng, 5);
    case 6:
        return xsim__rng_below_const(rng, 6);
    case 7:
        return xsim__rng_below_const(rng, 7);
    }
    /* Reject the low values that would bias the modulo (Lemire-style
     * threshold: (2^64 - bound) mod bound). */
    threshold = (0 - bound) % bound;
    do {
        x = xsim__rng_next(rng);
    } while (x < threshold);
    return x % bound;
}

#endif
