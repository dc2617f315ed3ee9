/*
 * xg_evtchn_fifo.c - the FIFO event channel ABI: an event word per port in
 * guest pages given to Xen (EVTCHNOP_expand_array), a control block per
 * vCPU (EVTCHNOP_init_control) with a READY bit and a HEAD per priority
 * queue, and the upcall that walks the queues, highest priority first.
 *
 * Who writes what in an event word: Xen sets PENDING, LINKED, BUSY and the
 * LINK of a queue's tail; the guest clears LINKED+LINK as it walks, sets
 * and clears MASKED and clears PENDING. Every access to a word or a
 * control block goes through the platform's atomics (scheduling points).
 */
#include <errno.h>
#include <string.h>

#include "xensim/guest/xg_evtchn.h"
#include "xg_mutant.h"

#define BIT(n) ((event_word_t)1 << (n))

/* How long a close waits for its port to leave a queue (spins, each a
 * scheduling point); far beyond any wakeup of the owning CPU. */
#define XG_FIFO_CLOSE_SPINS 100000ul

static long evtchn_op(struct xg_guest *g, unsigned int cmd, void *arg)
{
    return xg_hypercall(g->p, __HYPERVISOR_event_channel_op, cmd, (unsigned long)arg, 0);
}

/* Bit operations on one 32-bit event word (the platform's bit helpers
 * work on 64-bit words, which would straddle two ports). */
static bool word_test(const struct xg_platform *p, volatile event_word_t *w, unsigned int bit)
{
    return (xg_read_u32(p, w) & BIT(bit)) != 0;
}

static bool word_test_and_set(const struct xg_platform *p, volatile event_word_t *w,
                              unsigned int bit)
{
    return (xg_fetch_or_u32(p, w, BIT(bit)) & BIT(bit)) != 0;
}

static bool word_test_and_clear(const struct xg_platform *p, volatile event_word_t *w,
                                unsigned int bit)
{
    uint32_t old = xg_read_u32(p, w);

    while (!xg_cmpxchg_u32(p, w, &old, old & ~BIT(bit)))
        ;
    return (old & BIT(bit)) != 0;
}

volatile event_word_t *xg_fifo_word(struct xg_guest *g, evtchn_port_t port)
{
    if (port >= g->fifo_added * XG_FIFO_WORDS_PER_PAGE)
        return NULL;
    return &g->fifo_pages[port / XG_FIFO_WORDS_PER_PAGE][port % XG_FIFO_WORDS_PER_PAGE];
}

/* ---- control blocks ---- */

static int init_control(struct xg_guest *g, unsigned int cpu)
{
    const struct xg_platform *p = g->p;
    unsigned int pg = cpu / XG_FIFO_CB_PER_PAGE;
    struct evtchn_init_control ic;
    struct xg_cpu *c = &g->cpus[cpu];
    uint64_t gfn;
    long rc;

    if (c->fifo_cb != NULL)
        return 0;
    if (g->fifo_cb_pages[pg] == NULL) {
        g->fifo_cb_pages[pg] = xg_page_alloc(p, &gfn);
        if (g->fifo_cb_pages[pg] == NULL)
            return -ENOMEM;
    }
    memset(&ic, 0, sizeof(ic));
    ic.control_gfn = p->ops->virt_to_gfn(p->ctx, g->fifo_cb_pages[pg]);
    ic.offset = (uint32_t)((cpu % XG_FIFO_CB_PER_PAGE) * sizeof(struct evtchn_fifo_control_block));
    ic.vcpu = cpu;
    /* Not shared yet (this host has not been told about the block): a
     * plain clear is enough. */
    memset(g->fifo_cb_pages[pg] + ic.offset, 0, sizeof(struct evtchn_fifo_control_block));
    rc = evtchn_op(g, EVTCHNOP_init_control, &ic);
    if (rc != 0)
        return (int)rc;
    memset(c->fifo_head, 0, sizeof(c->fifo_head));
    c->fifo_ready = 0;
    c->fifo_cb = (struct evtchn_fifo_control_block *)(g->fifo_cb_pages[pg] + ic.offset);
    return 0;
}

int xg_fifo_init(struct xg_guest *g)
{
    int rc;

    /* Every vCPU's control block before any port is bound: Xen drops an
     * event for a vCPU without one, so a port bound early to a CPU that
     * had none would lose its first events. CPU 0 may name any vCPU. */
    for (unsigned int cpu = 0; cpu < g->ncpus; cpu++) {
        rc = init_control(g, cpu);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int xg_fifo_cpu_up(struct xg_guest *g, unsigned int cpu)
{
    return init_control(g, cpu);
}

/* ---- event array ---- */

static int add_page(struct xg_guest *g)
{
    const struct xg_platform *p = g->p;
    unsigned int slot = g->fifo_added;
    struct evtchn_expand_array ea;
    long rc;

    if (slot >= XG_FIFO_MAX_PAGES)
        return -ENOSPC;
    if (slot == g->fifo_allocated) {
        uint64_t gfn;
        void *page = xg_page_alloc(p, &gfn);
        if (page == NULL)
            return -ENOMEM;
        g->fifo_pages[slot] = page;
        g->fifo_gfns[slot] = p->ops->virt_to_gfn(p->ctx, page);
        g->fifo_allocated++;
    }
    /* Every port of the page starts MASKED (Xen does not touch the page
     * before using it; nothing may fire before its handler exists). The
     * page is not shared with this host until expand_array, so plain
     * stores do. */
    for (unsigned int i = 0; i < XG_FIFO_WORDS_PER_PAGE; i++)
        ((event_word_t *)(uintptr_t)g->fifo_pages[slot])[i] = BIT(EVTCHN_FIFO_MASKED);
    xg_wmb(p);
    ea.array_gfn = g->fifo_gfns[slot];
    rc = evtchn_op(g, EVTCHNOP_expand_array, &ea);
    if (rc != 0)
        return (int)rc;
    g->fifo_added++;
    return 0;
}

int xg_fifo_setup_port(struct xg_guest *g, evtchn_port_t port)
{
    /* Expand on demand, up to the page holding `port`. Xen keeps an event
     * for a port without a word and raises it once the page arrives. */
    while (xg_fifo_word(g, port) == NULL) {
        int rc = add_page(g);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int xg_fifo_set_priority(struct xg_guest *g, evtchn_port_t port, unsigned int priority)
{
    struct evtchn_set_priority sp = {.port = port, .priority = priority};

    return (int)evtchn_op(g, EVTCHNOP_set_priority, &sp);
}

/* ---- per-port operations ---- */

bool xg_fifo_mask(struct xg_guest *g, evtchn_port_t port)
{
    volatile event_word_t *w = xg_fifo_word(g, port);

    if (w == NULL)
        return true;
    return word_test_and_set(g->p, w, EVTCHN_FIFO_MASKED);
}

void xg_fifo_clear_pending(struct xg_guest *g, evtchn_port_t port)
{
    volatile event_word_t *w = xg_fifo_word(g, port);

    if (w != NULL)
        (void)word_test_and_clear(g->p, w, EVTCHN_FIFO_PENDING);
}

bool xg_fifo_is_pending(struct xg_guest *g, evtchn_port_t port)
{
    volatile event_word_t *w = xg_fifo_word(g, port);

    return w != NULL && word_test(g->p, w, EVTCHN_FIFO_PENDING);
}

int xg_fifo_unmask(struct xg_guest *g, evtchn_port_t port)
{
    const struct xg_platform *p = g->p;
    volatile event_word_t *w = xg_fifo_word(g, port);
    uint32_t cur;

    if (w == NULL)
        return -EINVAL;
    /* Clear MASKED only while BUSY is clear: BUSY means Xen is retrying a
     * link through this word, and an unmask now would keep its cmpxchg
     * failing (it gives up after a few tries and the event is lost). The
     * expected value has BUSY clear, so the exchange cannot succeed while
     * it is set. */
    cur = xg_read_u32(p, w);
    for (;;) {
        uint32_t expected = cur & ~BIT(EVTCHN_FIFO_BUSY);
        if (xg_cmpxchg_u32(p, w, &expected, expected & ~BIT(EVTCHN_FIFO_MASKED)))
            break;
        cur = expected;
        if (cur & BIT(EVTCHN_FIFO_BUSY))
            xg_point(p, XG_POINT_SPIN, w);
    }
    /* An event that arrived while masked is PENDING but was never queued:
     * only Xen can link it (EVTCHNOP_unmask relinks a pending word). */
    if (!XG_MUTATED(18) && word_test(p, w, EVTCHN_FIFO_PENDING)) {
        struct evtchn_unmask um = {.port = port};
        return (int)evtchn_op(g, EVTCHNOP_unmask, &um);
    }
    return 0;
}

void xg_fifo_bind_to_cpu(struct xg_guest *g, evtchn_port_t port, unsigned int cpu)
{
    /* Xen queues on the notify vCPU; there is no map to keep in step. */
    g->ports[port].cpu = (uint16_t)cpu;
}

void xg_fifo_wait_unlinked(struct xg_guest *g, evtchn_port_t port)
{
    const struct xg_platform *p = g->p;
    volatile event_word_t *w = xg_fifo_word(g, port);
    unsigned int self = xg_cpu(p), owner = g->ports[port].cpu;

    if (w == NULL)
        return;
    /* Still LINKED: the port is on some vCPU's queue and the word must not
     * be reused before that vCPU's walk takes it off. Only an upcall can
     * unlink it; if that would have to run here and interrupts are off,
     * or the owner is parked for a suspend, do not wait (Xen will not hand
     * a LINKED port out again, and the walk skips it: not pending). The
     * wait is bounded: a queue that never moves (a broken walk, a wedged
     * CPU) must not hang the closer; it logs and gives up. */
    for (unsigned long spins = 0; word_test(p, w, EVTCHN_FIFO_LINKED); spins++) {
        if ((owner == self && !xg_irq_enabled(p)) || xg_read_u8(p, &g->cpus[owner].quiesced))
            return;
        if (spins == XG_FIFO_CLOSE_SPINS) {
            xg_log(p, XG_LOG_WARN, "evtchn fifo: closed port still LINKED, not waiting longer");
            return;
        }
        xg_point(p, XG_POINT_SPIN, w);
    }
}

void xg_fifo_close_port(struct xg_guest *g, evtchn_port_t port)
{
    xg_fifo_wait_unlinked(g, port);
    g->ports[port].cpu = 0;
}

/* ---- the upcall ---- */

/* Clear LINKED and LINK in one exchange and return the old LINK: the next
 * port of the queue, 0 if this was the last. */
static evtchn_port_t clear_linked(const struct xg_platform *p, volatile event_word_t *w)
{
    uint32_t old = xg_read_u32(p, w);

    if (XG_MUTATED(21)) {
        /* a plain read-modify-write: what Xen wrote in between is lost */
        xg_write_u32(p, w, old & ~(BIT(EVTCHN_FIFO_LINKED) | (event_word_t)EVTCHN_FIFO_LINK_MASK));
        return old & EVTCHN_FIFO_LINK_MASK;
    }
    while (!xg_cmpxchg_u32(p, w, &old,
                           old & ~(BIT(EVTCHN_FIFO_LINKED) | (event_word_t)EVTCHN_FIFO_LINK_MASK)))
        ;
    return old & EVTCHN_FIFO_LINK_MASK;
}

unsigned int xg_fifo_consume_one(struct xg_guest *g, unsigned int cpu, unsigned int q,
                                 uint32_t *ready)
{
    const struct xg_platform *p = g->p;
    struct xg_cpu *c = &g->cpus[cpu];
    evtchn_port_t port = c->fifo_head[q], next;
    volatile event_word_t *w;
    uint32_t word;

    /* Our own position first: HEAD is written by Xen only when it links
     * to an empty queue, so once we are inside a list HEAD is stale. */
    if (port == 0) {
        xg_rmb(p);
        port = xg_read_u32(p, &c->fifo_cb->head[q]);
    }
    w = port != 0 && port < g->port_hwm ? xg_fifo_word(g, port) : NULL;
    if (w == NULL) {
        /* Nothing we ever bound (or nothing at all): the queue is empty
         * as far as we can follow it. */
        c->fifo_head[q] = 0;
        *ready &= ~(1u << q);
        return 0;
    }
    next = clear_linked(p, w);
    /* The last port: the queue is empty unless Xen links a new event,
     * which finds this word unlinked, writes HEAD and sets READY again
     * (the caller re-reads READY after every event). */
    if (next == 0)
        *ready &= ~(1u << q);
    c->fifo_head[q] = next;
    word = xg_read_u32(p, w);
    if ((word & BIT(EVTCHN_FIFO_PENDING)) && !(word & BIT(EVTCHN_FIFO_MASKED)) &&
        g->ports[port].kind != XG_PORT_FREE) {
        /* Claim the event before its handler runs, as the 2-level scan
         * does: a new event during the handler sets PENDING and relinks. */
        if (XG_MUTATED(11)) {
            xg_evtchn_dispatch(g, cpu, port);
            (void)word_test_and_clear(p, w, EVTCHN_FIFO_PENDING);
            return 1;
        }
        if (word_test_and_clear(p, w, EVTCHN_FIFO_PENDING)) {
            xg_evtchn_dispatch(g, cpu, port);
            return 1;
        }
    }
    return 0;
}

void xg_fifo_upcall(struct xg_guest *g, unsigned int cpu)
{
    const struct xg_platform *p = g->p;
    struct xg_cpu *c = &g->cpus[cpu];
    struct vcpu_info *vi = c->vi;
    struct evtchn_fifo_control_block *cb = c->fifo_cb;
    unsigned int budget = g->cfg.upcall_budget, work = 0, served = 0;

    c->upcalls++;
    c->throttle_clock++;
    if (c->nthrottled > 0)
        xg_evtchn_release_throttled(g, cpu);
    if (cb == NULL) {
        xg_write_u8(p, &vi->evtchn_upcall_pending, 0);
        c->empty_upcalls++;
        return;
    }
    for (unsigned int pass = 0; pass < g->cfg.upcall_max_passes; pass++) {
        /* Invariant 1, FIFO form: clear upcall_pending before taking
         * READY. Xen sets READY first and upcall_pending second, so an
         * event racing with us is either in the READY we take or asks for
         * another pass. */
        xg_write_u8(p, &vi->evtchn_upcall_pending, 0);
        uint32_t ready = c->fifo_ready | xg_xchg_u32(p, &cb->ready, 0);
        c->fifo_ready = 0;
        while (ready != 0) {
            if (work == budget) {
                /* Bounded work: keep the unfinished queues (our heads stay
                 * where they are) and come back in a new upcall. */
                c->fifo_ready = ready;
                c->deferred++;
                xg_evtchn_rearm(g, cpu, 0);
                goto out;
            }
            /* Highest priority first: priority 0 is bit 0. One event,
             * then READY again, so a new urgent event overtakes a long
             * queue of lower ones. */
            unsigned int q = (unsigned int)__builtin_ctz(ready);
            served += xg_fifo_consume_one(g, cpu, q, &ready);
            work++;
            ready |= xg_xchg_u32(p, &cb->ready, 0);
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

const struct xg_evtchn_ops xg_evtchn_fifo_ops = {
    .name = "fifo",
    .max_ports = XG_MAX_PORTS,
    .init = xg_fifo_init,
    .cpu_up = xg_fifo_cpu_up,
    .setup_port = xg_fifo_setup_port,
    .set_priority = xg_fifo_set_priority,
    .upcall = xg_fifo_upcall,
    .unmask = xg_fifo_unmask,
    .mask = xg_fifo_mask,
    .clear_pending = xg_fifo_clear_pending,
    .is_pending = xg_fifo_is_pending,
    .bind_to_cpu = xg_fifo_bind_to_cpu,
    .close_port = xg_fifo_close_port,
};
