/*
 * xen_headers_guest.c - guest code written against Xen's own public headers
 * (Debian's libxen-dev), as a kernel's Xen code is, hosted by xensim.
 *
 * This file includes Xen's headers first and xensim's host API after them;
 * xen_headers_host.c does the opposite. Together they check that the host
 * API (machine.h and the headers it brings) shares a file with Xen's
 * headers in either order, and that hypercalls built from Xen's own
 * structs work: the guest asks the version, binds to a port dom0 offered
 * (EVTCHNOP_bind_interdomain), reads its status, sends on it, then
 * allocates and closes a port of its own.
 */
#include <stdint.h>

/* As a kernel does: without it Xen's headers choose the pre-3.2 hypercall
 * numbers (event_channel_op_compat, sched_op_compat), which an HVM guest
 * cannot make; Xen, and xensim, answer them -ENOSYS. */
#define __XEN_INTERFACE_VERSION__ 0x00040e00

#include <xen/xen.h>
#include <xen/event_channel.h>
#include <xen/grant_table.h>
#include <xen/hvm/hvm_op.h>
#include <xen/hvm/params.h>
#include <xen/io/xs_wire.h>
#include <xen/sched.h>
#include <xen/vcpu.h>
#include <xen/version.h>

#include "xensim/blkback.h"
#include "xensim/evsource.h"
#include "xensim/gnttab.h"
#include "xensim/guestprog.h"
#include "xensim/machine.h"
#include "xensim/time.h"
#include "xensim/toolstack.h"
#include "xensim/xenstore.h"

#include "abi/xen_headers_guest.h"

static long evtchn_op(const struct xg_platform *p, unsigned int cmd, void *arg)
{
    return xg_hypercall(p, __HYPERVISOR_event_channel_op, cmd, (unsigned long)arg, 0);
}

void xhg_guest_start(void *arg, unsigned int cpu)
{
    struct xhg_guest *g = arg;
    const struct xg_platform *p = g->p;
    struct evtchn_bind_interdomain bind = {.remote_dom = 0, .remote_port = g->dom0_port};
    struct evtchn_alloc_unbound alloc = {.dom = DOMID_SELF, .remote_dom = 0};
    struct evtchn_status st = {.dom = DOMID_SELF};
    struct evtchn_close cl;
    struct evtchn_send send;

    if (cpu != 0)
        return;
    g->version = xg_hypercall(p, __HYPERVISOR_xen_version, XENVER_version, 0, 0);
    {
        struct evtchn_op op = {.cmd = EVTCHNOP_alloc_unbound};
        op.u.alloc_unbound.dom = DOMID_SELF;
        g->compat_rc = xg_hypercall(p, __HYPERVISOR_event_channel_op_compat, (unsigned long)&op,
                                    0, 0);
    }
    if ((g->bind_rc = evtchn_op(p, EVTCHNOP_bind_interdomain, &bind)) != 0)
        return;
    g->local_port = bind.local_port;
    st.port = bind.local_port;
    g->status_rc = evtchn_op(p, EVTCHNOP_status, &st);
    g->status = st.status;
    g->status_remote_port = st.u.interdomain.port;
    send.port = bind.local_port;
    g->send_rc = evtchn_op(p, EVTCHNOP_send, &send);
    g->alloc_rc = evtchn_op(p, EVTCHNOP_alloc_unbound, &alloc);
    g->own_port = alloc.port;
    cl.port = alloc.port;
    g->close_rc = evtchn_op(p, EVTCHNOP_close, &cl);
    /* A closed port's status is EVTCHNSTAT_closed. */
    st.port = alloc.port;
    g->closed_status_rc = evtchn_op(p, EVTCHNOP_status, &st);
    g->closed_status = st.status;
}

void xhg_guest_interrupt(void *arg, unsigned int cpu, uint8_t vector)
{
    (void)arg;
    (void)cpu;
    (void)vector;
}

unsigned int xhg_status_interdomain(void)
{
    return EVTCHNSTAT_interdomain;
}

unsigned int xhg_status_closed(void)
{
    return EVTCHNSTAT_closed;
}
