/*
 * hpet.c - the emulated HPET. Placeholder until the emulated-timer work
 * lands: reads return all ones (no device), writes are ignored.
 */
#include "../hv/hv_internal.h"

uint64_t xsim__hpet_read(struct xsim_hv_dom *hd, uint64_t off, unsigned int size)
{
    return ~(uint64_t)0;
}

void xsim__hpet_write(struct xsim_hv_dom *hd, uint64_t off, unsigned int size, uint64_t val)
{
}
