/*
 * ping.h - the ring of pings the world tests run: vCPU i halts until it
 * is pinged, then pings vCPU i + 1 through a test hypercall that raises
 * PING_VECTOR there; vCPU 0 starts the ring and, after its last round,
 * ends it. test_world runs it under each policy, test_freerun in free-run
 * mode.
 */
#ifndef XSIM_TEST_PING_H
#define XSIM_TEST_PING_H

#include <errno.h>
#include <stdint.h>

#include "xensim/world.h"

#define TEST_IPI_OP 63
#define PING_VECTOR 0x40

/* The test hypercall: raise vector a2 on vCPU a1 of the caller's domain. */
static inline long test_ipi(struct xsim_domain *d, struct xsim_vcpu *v, void *ctx, unsigned long a1,
                            unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5)
{
    struct xsim_vcpu *t = xsim_domain_vcpu(d, (unsigned int)a1);

    if (t == NULL)
        return -EINVAL;
    xsim_vcpu_raise(t, (uint8_t)a2, true);
    return 0;
}

/* A vCPU joins the ring: interrupts on, and vCPU 0 pings the first. */
static inline void ping_join(const struct xg_platform *p, unsigned int cpu, unsigned int ncpu)
{
    xg_irq_restore(p, true);
    if (cpu == 0)
        xg_hypercall(p, TEST_IPI_OP, 1 % ncpu, PING_VECTOR, 0);
}

/* After round `seen` of `rounds`, pass the ping on (not when vCPU 0 has
 * finished its last: that ends the ring). */
static inline void ping_pass(const struct xg_platform *p, unsigned int cpu, unsigned int ncpu,
                             uint64_t seen, unsigned int rounds)
{
    if (!(cpu == 0 && seen == rounds))
        xg_hypercall(p, TEST_IPI_OP, (cpu + 1) % ncpu, PING_VECTOR, 0);
}

#endif
