/*
 * prng.c - xoshiro256** streams seeded through splitmix64 (see prng.h).
 */
#include <math.h>
#include <stddef.h>

#include "world/prng_inline.h"

uint64_t xsim_splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint64_t xsim_fnv1a64(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;

    for (; *s != '\0'; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ULL;
    }
    return h;
}

void xsim_rng_init(struct xsim_rng *rng, uint64_t seed, const char *stream)
{
    uint64_t sm = seed ^ xsim_fnv1a64(stream != NULL ? stream : "");

    for (int i = 0; i < 4; i++)
        rng->s[i] = xsim_splitmix64(&sm);
}

uint64_t xsim_rng_next(struct xsim_rng *rng)
{
    return xsim__rng_next(rng);
}

uint64_t xsim_rng_below(struct xsim_rng *rng, uint64_t bound)
{
    return xsim__rng_below(rng, bound);
}

double xsim_rng_unit(struct xsim_rng *rng)
{
    return (double)(xsim__rng_next(rng) >> 11) * 0x1.0p-53;
}

double xsim_rng_exp(struct xsim_rng *rng, double mean)
{
    /* 1 - u lies in (0, 1], so the logarithm is finite. */
    return -mean * log(1.0 - xsim_rng_unit(rng));
}
