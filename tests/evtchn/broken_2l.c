/*
 * broken_2l.c - deliberately broken 2-level variants (tests only). Each
 * replaces one op of xg_evtchn_2l_ops with a version that violates one
 * invariant; everything else is the real code.
 */
#include "broken_2l.h"

static int unmask_no_recheck(struct xg_guest *g, evtchn_port_t port)
{
    /* BUG (invariant 4): an event that arrived while masked stays pending
     * with no selector bit and no upcall. */
    xg_clear_bit(g->p, port, (volatile uint64_t *)g->si->evtchn_mask);
    return 0;
}

static void upcall_wrong_order(struct xg_guest *g, unsigned int cpu)
{
    const struct xg_platform *p = g->p;
    struct vcpu_info *vi = g->cpus[cpu].vi;

    g->cpus[cpu].upcalls++;
    do {
        /* BUG (invariant 1): an event landing between these two steps sets
         * its selector bit but not upcall_pending (already set), and then
         * upcall_pending is cleared: the selector bit is never taken, and
         * every later event on that word stops at "selector already set". */
        uint64_t sel = xg_xchg_u64(p, (volatile uint64_t *)&vi->evtchn_pending_sel, 0);
        xg_write_u8(p, &vi->evtchn_upcall_pending, 0);
        while (sel != 0)
            xg_2l_scan(g, cpu, &sel, ~0u);
    } while (xg_read_u8(p, &vi->evtchn_upcall_pending));
}

static void close_keeps_map(struct xg_guest *g, evtchn_port_t port)
{
    /* BUG (invariant 3): Xen notifies vCPU 0 for the port's next use, but
     * our map still says another CPU, so nobody serves it. */
    (void)g;
    (void)port;
}

#define BASE_OPS                                                          \
    .name = "broken", .max_ports = XG_2L_MAX_PORTS, .mask = xg_2l_mask,      \
    .clear_pending = xg_2l_clear_pending, .is_pending = xg_2l_is_pending, \
    .bind_to_cpu = xg_2l_bind_to_cpu

const struct xg_evtchn_ops broken_unmask_ops = {
    BASE_OPS,
    .upcall = xg_2l_upcall,
    .unmask = unmask_no_recheck,
    .close_port = xg_2l_close_port,
};

const struct xg_evtchn_ops broken_upcall_order_ops = {
    BASE_OPS,
    .upcall = upcall_wrong_order,
    .unmask = xg_2l_unmask,
    .close_port = xg_2l_close_port,
};

const struct xg_evtchn_ops broken_close_map_ops = {
    BASE_OPS,
    .upcall = xg_2l_upcall,
    .unmask = xg_2l_unmask,
    .close_port = close_keeps_map,
};
