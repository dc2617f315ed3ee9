/*
 * xg_evtchn_2l.c - the 2-level event channel ABI: 4096 ports as bitmaps in
 * shared_info, a per-vCPU selector word, and the upcall that scans them.
 *
 * The ordering rules here are the guest invariants of docs/invariants.md
 * (section "Event channels"); each
 * "why" comment names the race it closes.
 */
#include <errno.h>

#include "xensim/guest/xg_evtchn.h"
#include "xg_mutant.h"

#define PENDING(g) ((volatile uint64_t *)(g)->si->evtchn_pending)
#define MASK(g)    ((volatile uint64_t *)(g)->si->evtchn_mask)

bool xg_2l_mask(struct xg_guest *g, evtchn_port_t port)
{
    return xg_test_and_set_bit(g->p, port, MASK(g));
}

void xg_2l_clear_pending(struct xg_guest *g, evtchn_port_t port)
{
    xg_clear_bit(g->p, port, PENDING(g));
}

bool xg_2l_is_pending(struct xg_guest *g, evtchn_port_t port)
{
    return xg_test_bit(g->p, port, PENDING(g));
}

int xg_2l_unmask(struct xg_guest *g, evtchn_port_t port)
{
    const struct xg_platform *p = g->p;

    if (port >= XG_2L_MAX_PORTS)
        return -EINVAL;
    /* Invariant 4. Xen skipped the selector/upcall chain for any event
     * that arrived while the port was masked, so clearing the mask alone
     * would leave such an event pending forever. Test pending after the
     * clear (both are full barriers); if it is set, mask again so that
     * EVTCHNOP_unmask finds the mask set and replays the chain. */
    xg_clear_bit(p, port, MASK(g));
    if (!XG_MUTATED(5) && xg_test_bit(p, port, PENDING(g))) {
        struct evtchn_unmask um = {.port = port};
        xg_set_bit(p, port, MASK(g));
        return (int)xg_hypercall(p, __HYPERVISOR_event_channel_op, EVTCHNOP_unmask,
                                 (unsigned long)&um, 0);
    }
    return 0;
}

void xg_2l_bind_to_cpu(struct xg_guest *g, evtchn_port_t port, unsigned int cpu)
{
    const struct xg_platform *p = g->p;
    struct xg_port *pt = &g->ports[port];
    unsigned int old = pt->cpu;

    /* Set on the new CPU before clearing on the old one: a scan in
     * between sees the port on both (harmless: the pending bit is claimed
     * by one test_and_clear), never on none. */
    xg_set_bit(p, port, (volatile uint64_t *)g->cpus[cpu].port_mask);
    if (old != cpu)
        xg_clear_bit(p, port, (volatile uint64_t *)g->cpus[old].port_mask);
    pt->cpu = (uint16_t)cpu;
}

void xg_2l_close_port(struct xg_guest *g, evtchn_port_t port)
{
    /* Invariant 3: Xen's notify vCPU of a freed port is vCPU 0 again; the
     * map must follow or a reuse of the port number is never served. */
    xg_2l_bind_to_cpu(g, port, 0);
}

static inline uint64_t bits_from(unsigned int lo, unsigned int hi)
{
    uint64_t upper = hi >= 64 ? ~(uint64_t)0 : (((uint64_t)1 << hi) - 1);

    return upper & ~(((uint64_t)1 << lo) - 1);
}

unsigned int xg_2l_scan(struct xg_guest *g, unsigned int cpu, uint64_t *sel, unsigned int budget)
{
    const struct xg_platform *p = g->p;
    struct xg_cpu *c = &g->cpus[cpu];
    unsigned int start = c->next_port % XG_2L_MAX_PORTS;
    unsigned int sw = start / 64, sb = start % 64;
    unsigned int served = 0;

    /* Invariant 2: serve ports cyclically from just after the last one
     * served, so that a port firing continuously cannot starve the others
     * of this CPU. The start word is visited twice: its upper bits first,
     * its lower bits last. */
    for (unsigned int step = 0; step <= 64 && *sel != 0; step++) {
        unsigned int w = (sw + step) % 64;
        unsigned int lo = step == 0 ? sb : 0, hi = step == 64 ? sb : 64;
        if (!((*sel >> w) & 1))
            continue;
        uint64_t bits = xg_read_u64(p, &PENDING(g)[w]) & ~xg_read_u64(p, &MASK(g)[w]) &
                        xg_read_u64(p, (volatile uint64_t *)&c->port_mask[w]) & bits_from(lo, hi);
        while (bits != 0) {
            unsigned int b = (unsigned int)__builtin_ctzll(bits);
            evtchn_port_t port = w * 64 + b;
            if (served == budget) {
                c->next_port = port;
                return served;
            }
            bits &= bits - 1;
            /* Claim the event before its handler runs: a new event that
             * arrives while the handler runs sets it again and is seen. */
            if (!xg_test_and_clear_bit(p, port, PENDING(g)))
                continue;
            xg_evtchn_dispatch(g, cpu, port);
            served++;
            c->next_port = (port + 1) % XG_2L_MAX_PORTS;
        }
        if (w != sw || step == 64 || sb == 0)
            *sel &= ~((uint64_t)1 << w);
    }
    *sel = 0;
    return served;
}

static void release_throttled(struct xg_guest *g, unsigned int cpu)
{
    struct xg_cpu *c = &g->cpus[cpu];

    /* Every free port is on CPU 0's map too; only entries below the
     * high-water mark were ever written (the others are not even
     * initialised), and only bound ports can be throttled. */
    for (unsigned int w = 0; w * 64 < g->port_hwm && c->nthrottled > 0; w++) {
        uint64_t bits = c->port_mask[w];
        while (bits != 0) {
            unsigned int port = w * 64 + (unsigned int)__builtin_ctzll(bits);
            struct xg_port *pt = &g->ports[port];
            bits &= bits - 1;
            if (port >= g->port_hwm)
                break;
            if (!pt->throttled || pt->release_at > c->throttle_clock)
                continue;
            pt->throttled = false;
            c->nthrottled--;
            if (!pt->user_masked && !pt->closing)
                g->ops->unmask(g, port);
        }
    }
}

void xg_2l_upcall(struct xg_guest *g, unsigned int cpu)
{
    const struct xg_platform *p = g->p;
    struct xg_cpu *c = &g->cpus[cpu];
    struct vcpu_info *vi = c->vi;
    unsigned int budget = g->cfg.upcall_budget, served = 0;

    c->upcalls++;
    c->throttle_clock++;
    if (c->nthrottled > 0)
        release_throttled(g, cpu);
    for (unsigned int pass = 0; pass < g->cfg.upcall_max_passes; pass++) {
        /* Invariant 1: clear upcall_pending before taking the selector.
         * Xen sets the selector bit first and upcall_pending second; in
         * this order an event racing with us either lands in the selector
         * we take or sets upcall_pending again and gets another pass. */
        uint64_t sel;
        if (XG_MUTATED(4)) {
            sel = xg_xchg_u64(p, (volatile uint64_t *)&vi->evtchn_pending_sel, 0);
            xg_write_u8(p, &vi->evtchn_upcall_pending, 0);
        } else {
            xg_write_u8(p, &vi->evtchn_upcall_pending, 0);
            sel = xg_xchg_u64(p, (volatile uint64_t *)&vi->evtchn_pending_sel, 0);
        }
        served += xg_2l_scan(g, cpu, &sel, budget - served);
        if (sel != 0) {
            /* Bounded work: hand back to the interrupted code. */
            c->deferred++;
            xg_evtchn_rearm(g, cpu, sel);
            goto out;
        }
        if (!xg_read_u8(p, &vi->evtchn_upcall_pending))
            goto out;
    }
    c->deferred++;
    xg_evtchn_rearm(g, cpu, 0);
out:
    if (served == 0)
        c->empty_upcalls++;
}

const struct xg_evtchn_ops xg_evtchn_2l_ops = {
    .name = "2-level",
    .max_ports = XG_2L_MAX_PORTS,
    .upcall = xg_2l_upcall,
    .unmask = xg_2l_unmask,
    .mask = xg_2l_mask,
    .clear_pending = xg_2l_clear_pending,
    .is_pending = xg_2l_is_pending,
    .bind_to_cpu = xg_2l_bind_to_cpu,
    .close_port = xg_2l_close_port,
};
