/*
 * xen_headers_guest.h - what xen_headers_guest.c and xen_headers_host.c
 * share; plain C types only, so that either file may include it.
 */
#ifndef XENSIM_TEST_XEN_HEADERS_GUEST_H
#define XENSIM_TEST_XEN_HEADERS_GUEST_H

#include <stdint.h>

struct xg_platform;

struct xhg_guest {
    const struct xg_platform *p;
    uint32_t dom0_port; /* dom0's unbound port for the guest */
    long version, compat_rc, bind_rc, status_rc, send_rc, alloc_rc, close_rc, closed_status_rc;
    uint32_t local_port, status, status_remote_port, own_port, closed_status;
};

void xhg_guest_start(void *arg, unsigned int cpu);
void xhg_guest_interrupt(void *arg, unsigned int cpu, uint8_t vector);
unsigned int xhg_status_interdomain(void);
unsigned int xhg_status_closed(void);

#endif
