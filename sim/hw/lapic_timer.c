/*
 * lapic_timer.c - the emulated LAPIC timer and TSC deadline. Placeholder
 * until the emulated-timer work lands: handles no MSR.
 */
#include <errno.h>

#include "../hv/hv_internal.h"

int xsim__lapic_timer_wrmsr(struct xsim_hv_dom *hd, struct xsim_vcpu *v, uint32_t msr, uint64_t val)
{
    return -ENOENT;
}

int xsim__lapic_timer_rdmsr(struct xsim_hv_dom *hd, struct xsim_vcpu *v, uint32_t msr,
                            uint64_t *val)
{
    return -ENOENT;
}
