/*
 * xen_headers_host.c - the host side of xen_headers_guest.c: xensim's host
 * API first, Xen's public headers after it (the other order from the guest
 * file). Builds the machine, offers the guest a dom0 port, runs, and checks
 * what the guest saw against the hypervisor's own record. Exit 0 on
 * success, 1 with a message otherwise.
 */
#include <inttypes.h>
#include <stdio.h>

#include "xensim/blkback.h"
#include "xensim/evsource.h"
#include "xensim/gnttab.h"
#include "xensim/guestprog.h"
#include "xensim/hv.h"
#include "xensim/machine.h"
#include "xensim/time.h"
#include "xensim/toolstack.h"
#include "xensim/xenstore.h"

#define __XEN_INTERFACE_VERSION__ 0x00040e00

#include <xen/xen.h>
#include <xen/event_channel.h>
#include <xen/grant_table.h>
#include <xen/hvm/params.h>
#include <xen/io/xs_wire.h>
#include <xen/vcpu.h>

#include "abi/xen_headers_guest.h"

#include <errno.h>

static int failures;

static void check(int ok, const char *what, long got)
{
    if (!ok) {
        fprintf(stderr, "xen_headers_guest: %s (got %ld)\n", what, got);
        failures++;
    }
}

int main(void)
{
    static const struct xsim_guest_ops ops = {.start = xhg_guest_start,
                                              .interrupt = xhg_guest_interrupt};
    struct xsim_machine_config mc;
    struct xsim_machine *m;
    struct xsim_error err;
    struct xsim_hv_port_info info;
    struct xhg_guest g = {0};
    evtchn_port_t dom0_port; /* Xen's typedef and xensim's, the same type */
    domid_t guest = XSIM_MACHINE_GUEST_DOMID;

    xsim_machine_config_init(&mc, 2);
    mc.ops = &ops;
    mc.guest = &g;
    if (xsim_machine_create(&mc, &m, &err) != 0) {
        fprintf(stderr, "xen_headers_guest: setup failed: %s\n", err.text);
        return 1;
    }
    g.p = xsim_machine_platform(m);
    if (xsim_hv_evtchn_alloc_unbound(xsim_machine_hv(m), XSIM_MACHINE_BACKEND_DOMID, guest,
                                     &dom0_port) != 0) {
        fprintf(stderr, "xen_headers_guest: dom0 could not offer a port\n");
        return 1;
    }
    g.dom0_port = dom0_port;
    check(xsim_machine_run(m) == XSIM_STOP_ALL_DONE, "the run ends with every vCPU done", 0);
    check(g.version >> 16 >= 4, "XENVER_version gives Xen 4.x or later", g.version);
    check(g.compat_rc == -ENOSYS, "event_channel_op_compat is -ENOSYS for an HVM guest, as on Xen",
          g.compat_rc);
    check(g.bind_rc == 0, "EVTCHNOP_bind_interdomain with Xen's struct succeeds", g.bind_rc);
    check(g.status_rc == 0 && g.status == xhg_status_interdomain(),
          "EVTCHNOP_status says EVTCHNSTAT_interdomain", (long)g.status);
    check(g.status_remote_port == dom0_port, "the status names dom0's port",
          (long)g.status_remote_port);
    check(g.send_rc == 0, "EVTCHNOP_send succeeds", g.send_rc);
    check(xsim_hv_port_info(xsim_machine_hv(m), XSIM_MACHINE_BACKEND_DOMID, dom0_port, &info) ==
                  0 &&
              info.pending,
          "the send left dom0's end pending", 0);
    check(g.alloc_rc == 0 && g.own_port != 0 && g.own_port != g.local_port,
          "EVTCHNOP_alloc_unbound gives a new port", (long)g.own_port);
    check(g.close_rc == 0, "EVTCHNOP_close succeeds", g.close_rc);
    check(g.closed_status_rc == 0 && g.closed_status == xhg_status_closed() &&
              g.closed_status == EVTCHNSTAT_closed,
          "a closed port's status is EVTCHNSTAT_closed", (long)g.closed_status);
    check(sizeof(struct shared_info) > 0 && sizeof(struct vcpu_info) == 64,
          "Xen's shared_info and vcpu_info are complete here", (long)sizeof(struct vcpu_info));
    xsim_machine_destroy(m);
    if (failures == 0)
        printf("xen_headers_guest: guest code on Xen's own headers ran on xensim; the host API "
               "and Xen's headers share a file in either order\n");
    return failures == 0 ? 0 : 1;
}
