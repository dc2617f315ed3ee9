/*
 * time.c - the hypervisor's time model. Placeholder until the PV timer,
 * pvclock and emulated-timer work lands: no timer ops (-ENOSYS, as a Xen
 * without them would answer) and no published vcpu_time_info.
 */
#include <errno.h>

#include "hv_internal.h"

long xsim__hv_vcpu_op_ext(struct xsim_hv_dom *hd, struct xsim_vcpu *v, unsigned long cmd,
                          unsigned int vcpuid, unsigned long arg)
{
    return -ENOSYS;
}

void xsim__hv_time_vcpu_info_moved(struct xsim_hv_dom *hd, unsigned int vcpuid)
{
}

int xsim__hv_time_domain_init(struct xsim_hv_dom *hd)
{
    return 0;
}

void xsim__hv_time_domain_free(struct xsim_hv_dom *hd)
{
}
