/*
 * broken_fifo.c - deliberately broken FIFO variants (tests only). Each
 * replaces one op of xg_evtchn_fifo_ops; everything else is the real code.
 */
#include <errno.h>

#include "broken_fifo.h"

#define BIT(n) ((event_word_t)1 << (n))

static int unmask_ignore_busy(struct xg_guest *g, evtchn_port_t port)
{
    const struct xg_platform *p = g->p;
    volatile event_word_t *w = xg_fifo_word(g, port);
    uint32_t old;

    if (w == NULL)
        return -EINVAL;
    /* BUG: clears MASKED even while Xen holds the word BUSY. */
    old = xg_read_u32(p, w);
    while (!xg_cmpxchg_u32(p, w, &old, old & ~BIT(EVTCHN_FIFO_MASKED)))
        ;
    if (xg_read_u32(p, w) & BIT(EVTCHN_FIFO_PENDING)) {
        struct evtchn_unmask um = {.port = port};
        return (int)xg_hypercall(p, __HYPERVISOR_event_channel_op, EVTCHNOP_unmask,
                                 (unsigned long)&um, 0);
    }
    return 0;
}

static void close_no_wait(struct xg_guest *g, evtchn_port_t port)
{
    /* BUG: the word may still be on a queue when close returns. */
    g->ports[port].cpu = 0;
}

static unsigned int consume_stale_head(struct xg_guest *g, unsigned int cpu, unsigned int q,
                                       uint32_t *ready)
{
    /* BUG: forget our place in the list: HEAD is read again every time. */
    g->cpus[cpu].fifo_head[q] = 0;
    return xg_fifo_consume_one(g, cpu, q, ready);
}

static void upcall_stale_head(struct xg_guest *g, unsigned int cpu)
{
    const struct xg_platform *p = g->p;
    struct xg_cpu *c = &g->cpus[cpu];
    struct vcpu_info *vi = c->vi;

    c->upcalls++;
    do {
        xg_write_u8(p, &vi->evtchn_upcall_pending, 0);
        uint32_t ready = xg_xchg_u32(p, &c->fifo_cb->ready, 0);
        while (ready != 0) {
            consume_stale_head(g, cpu, (unsigned int)__builtin_ctz(ready), &ready);
            ready |= xg_xchg_u32(p, &c->fifo_cb->ready, 0);
        }
    } while (xg_read_u8(p, &vi->evtchn_upcall_pending));
}

static void upcall_ready_first(struct xg_guest *g, unsigned int cpu)
{
    const struct xg_platform *p = g->p;
    struct xg_cpu *c = &g->cpus[cpu];
    struct vcpu_info *vi = c->vi;

    c->upcalls++;
    do {
        /* BUG (invariant 1): an event whose queue was empty sets READY
         * after our exchange but finds upcall_pending still set, so it
         * asks for no upcall; then we clear upcall_pending and leave. Its
         * queue stays non-empty, so later events on it never set READY. */
        uint32_t ready = xg_xchg_u32(p, &c->fifo_cb->ready, 0);
        xg_write_u8(p, &vi->evtchn_upcall_pending, 0);
        while (ready != 0) {
            unsigned int q = (unsigned int)__builtin_ctz(ready);
            xg_fifo_consume_one(g, cpu, q, &ready);
        }
    } while (xg_read_u8(p, &vi->evtchn_upcall_pending));
}

#define BASE_OPS                                                              \
    .name = "broken-fifo", .max_ports = XG_MAX_PORTS, .init = xg_fifo_init,   \
    .cpu_up = xg_fifo_cpu_up, .setup_port = xg_fifo_setup_port,               \
    .set_priority = xg_fifo_set_priority, .mask = xg_fifo_mask,               \
    .clear_pending = xg_fifo_clear_pending, .is_pending = xg_fifo_is_pending, \
    .bind_to_cpu = xg_fifo_bind_to_cpu

const struct xg_evtchn_ops broken_fifo_unmask_busy_ops = {
    BASE_OPS,
    .upcall = xg_fifo_upcall,
    .unmask = unmask_ignore_busy,
    .close_port = xg_fifo_close_port,
};

const struct xg_evtchn_ops broken_fifo_close_linked_ops = {
    BASE_OPS,
    .upcall = xg_fifo_upcall,
    .unmask = xg_fifo_unmask,
    .close_port = close_no_wait,
};

const struct xg_evtchn_ops broken_fifo_stale_head_ops = {
    BASE_OPS,
    .upcall = upcall_stale_head,
    .unmask = xg_fifo_unmask,
    .close_port = xg_fifo_close_port,
};

const struct xg_evtchn_ops broken_fifo_ready_order_ops = {
    BASE_OPS,
    .upcall = upcall_ready_first,
    .unmask = xg_fifo_unmask,
    .close_port = xg_fifo_close_port,
};
