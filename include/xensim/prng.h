/*
 * prng.h - the simulator's pseudo-random numbers.
 *
 * Generator: xoshiro256** (Blackman and Vigna, 2018), state seeded through
 * splitmix64. A run has one seed; every consumer draws from a named stream
 * whose state is seeded from splitmix64(seed ^ fnv1a64(name)), so adding a
 * stream never shifts the numbers another stream produces.
 */
#ifndef XENSIM_PRNG_H
#define XENSIM_PRNG_H

#include <stdint.h>

struct xsim_rng {
    uint64_t s[4];
};

/* Seed a stream from the run's seed and the stream's name. */
void xsim_rng_init(struct xsim_rng *rng, uint64_t seed, const char *stream);

/* Next 64 random bits. */
uint64_t xsim_rng_next(struct xsim_rng *rng);

/* Uniform integer in [0, bound) without modulo bias; bound 0 returns 0. */
uint64_t xsim_rng_below(struct xsim_rng *rng, uint64_t bound);

/* Uniform double in [0, 1). */
double xsim_rng_unit(struct xsim_rng *rng);

/* Exponentially distributed value with the given mean (for Poisson arrivals). */
double xsim_rng_exp(struct xsim_rng *rng, double mean);

/* FNV-1a 64-bit hash of a NUL-terminated string (used to name streams). */
uint64_t xsim_fnv1a64(const char *s);

/* One step of splitmix64 (Steele, Lea and Flood, 2014). */
uint64_t xsim_splitmix64(uint64_t *state);

#endif
