/*
 * bench_util.h - what every benchmark needs: a host clock and a policy
 * that must parse.
 */
#ifndef XSIM_BENCH_UTIL_H
#define XSIM_BENCH_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "xensim/world.h"

/* Host monotonic time in seconds: benchmarks measure the host, not the
 * virtual clock. */
static inline double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* A policy from its spec; a bad spec ends the benchmark (exit 2). */
static inline struct xsim_policy *policy(const char *spec)
{
    struct xsim_error err;
    struct xsim_policy *p = xsim_policy_create(spec, &err);

    if (p == NULL) {
        fprintf(stderr, "%s\n", err.text);
        exit(2);
    }
    return p;
}

#endif
