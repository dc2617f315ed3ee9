/*
 * evtchn.c - event channels (2-level ABI) and scheduler ops of the
 * hypervisor model, with Xen 4.17's semantics and errors.
 *
 * The delivery chain, as Xen runs it (xen/common/event_2l.c):
 *   set pending (stop if it was already set); if masked, stop; set the
 *   word's bit in the notify vCPU's pending_sel (stop if already set); set
 *   upcall_pending (stop if already set); inject the callback.
 * Each step's "stop if already set" is what makes the guest's ordering
 * rules necessary; see docs/invariants.md. Once the domain has initialised the
 * FIFO ABI (evtchn_fifo.c) pending, mask and unmask go through its event
 * words and queues instead; the ports, their states and errors are shared.
 */
#include <errno.h>
#include <string.h>

#include "hv/hv_internal.h"

#define WORD_BITS 64

static inline bool test_and_set(volatile xen_ulong_t *words, unsigned int nr)
{
    xen_ulong_t m = (xen_ulong_t)1 << (nr % WORD_BITS);

    return (__atomic_fetch_or(&words[nr / WORD_BITS], m, __ATOMIC_SEQ_CST) & m) != 0;
}

static inline bool test_bit(const volatile xen_ulong_t *words, unsigned int nr)
{
    return (__atomic_load_n(&words[nr / WORD_BITS], __ATOMIC_SEQ_CST) >> (nr % WORD_BITS)) & 1;
}

static inline void clear_bit(volatile xen_ulong_t *words, unsigned int nr)
{
    __atomic_fetch_and(&words[nr / WORD_BITS], ~((xen_ulong_t)1 << (nr % WORD_BITS)),
                       __ATOMIC_SEQ_CST);
}

unsigned int xsim__hv_max_ports(const struct xsim_hv_dom *hd)
{
    return hd->fifo != NULL ? XSIM_HV_NR_PORTS : XSIM_HV_NR_PORTS_2L;
}

static inline bool port_valid(const struct xsim_hv_dom *hd, evtchn_port_t port)
{
    return port > 0 && port < xsim__hv_max_ports(hd);
}

/* The ABI's view of a port's pending and mask state. */
static bool port_is_pending(const struct xsim_hv_dom *hd, evtchn_port_t port)
{
    if (hd->fifo != NULL)
        return xsim__hv_fifo_is_pending(hd, port);
    return port < XSIM_HV_NR_PORTS_2L && test_bit(hd->si->evtchn_pending, port);
}

static bool port_is_masked(const struct xsim_hv_dom *hd, evtchn_port_t port)
{
    if (hd->fifo != NULL)
        return xsim__hv_fifo_is_masked(hd, port);
    return port >= XSIM_HV_NR_PORTS_2L || test_bit(hd->si->evtchn_mask, port);
}

static void port_clear_pending(struct xsim_hv_dom *hd, evtchn_port_t port)
{
    if (hd->fifo != NULL)
        xsim__hv_fifo_clear_pending(hd, port);
    else if (port < XSIM_HV_NR_PORTS_2L)
        clear_bit(hd->si->evtchn_pending, port);
}

/* ---- injection ---- */

void xsim__hv_update_callback_level(struct xsim_hv_dom *hd)
{
    struct vcpu_info *vi = hd->nr_vcpus > 0 ? hd->vcpus[0].vi : NULL;
    bool level = vi != NULL && __atomic_load_n(&vi->evtchn_upcall_pending, __ATOMIC_SEQ_CST);

    if (hd->cb_gsi < XSIM_IOAPIC_PINS)
        xsim__ioapic_set_level(hd, hd->cb_gsi, level);
}

void xsim__hv_mark_events_pending(struct xsim_hv_dom *hd, unsigned int vcpu)
{
    struct xsim_hv_vcpu *hv = &hd->vcpus[vcpu];
    struct xsim_world *w = hd->hv->w;

    xsim_trace(w, XSIM_TR_HV, 1 /* mark pending */, hd->domid, vcpu);
    /* hvm_assert_evtchn_irq: a vCPU's own upcall vector comes first,
     * whatever HVM_PARAM_CALLBACK_IRQ says (Linux sets that to GSI 1 as a
     * flag for the toolstack after setting its per-vCPU vectors):
     * vlapic_set_irq(vector, edge), so a running vCPU is kicked unless the
     * vector is posted. */
    if (hv->upcall_vector != 0) {
        xsim_vcpu_raise_flags(hv->v, hv->upcall_vector, XSIM_IRQ_POSTABLE);
        xsim_vcpu_kick(hv->v);
        return;
    }
    switch (hd->cb_mode) {
    case XSIM_CB_PERCPU_VECTOR:
        break;
    case XSIM_CB_VECTOR:
        /* hvm_assert_evtchn_irq: vcpu_kick, never posted; the vector is
         * injected at every VM entry while upcall_pending is set (the
         * entry hook, hvm_vcpu_has_pending_irq). No EOI. */
        xsim_vcpu_raise_flags(hv->v, hd->cb_vector, XSIM_IRQ_NO_EOI);
        break;
    case XSIM_CB_GSI:
    case XSIM_CB_PCI_INTX:
        /* Only vCPU0's upcall_pending drives the line. */
        if (vcpu == 0)
            xsim__hv_update_callback_level(hd);
        break;
    case XSIM_CB_NONE:
        break;
    }
    /* A vCPU blocked in SCHEDOP_block/poll re-checks. */
    xsim_vcpu_kick(hv->v);
}

/* The VM-entry hook of every vCPU: the global callback vector is injected
 * while upcall_pending is set; the GSI/INTx line follows vCPU0's. */
void xsim__hv_vcpu_entry(struct xsim_vcpu *v, void *arg)
{
    struct xsim_hv_dom *hd = arg;
    unsigned int id = xsim_vcpu_id(v);
    struct vcpu_info *vi = hd->vcpus[id].vi;

    if (vi == NULL)
        return;
    if (hd->cb_mode == XSIM_CB_VECTOR) {
        if (__atomic_load_n(&vi->evtchn_upcall_pending, __ATOMIC_SEQ_CST))
            xsim_vcpu_raise_flags(v, hd->cb_vector, XSIM_IRQ_NO_EOI);
        else
            xsim_vcpu_lower(v, hd->cb_vector);
    } else if (id == 0 && (hd->cb_mode == XSIM_CB_GSI || hd->cb_mode == XSIM_CB_PCI_INTX)) {
        /* With its own upcall vector vCPU0 never asserts the line; an
         * exit only deasserts it (hvm_maybe_deassert_evtchn_irq). */
        if (hd->vcpus[0].upcall_vector == 0 ||
            !__atomic_load_n(&vi->evtchn_upcall_pending, __ATOMIC_SEQ_CST))
            xsim__hv_update_callback_level(hd);
    }
}

void xsim__hv_wake_pollers(struct xsim_hv_dom *hd, evtchn_port_t port)
{
    for (unsigned int i = 0; i < hd->nr_vcpus; i++) {
        struct xsim_hv_vcpu *hv = &hd->vcpus[i];
        if (!hv->polling)
            continue;
        for (unsigned int k = 0; k < hv->npoll; k++) {
            if (hv->poll_ports[k] == port) {
                xsim_vcpu_kick(hv->v);
                break;
            }
        }
    }
}

/* The tail of the 2-level chain, shared by a new event and an unmask that
 * finds one pending: selector bit, then upcall_pending, then inject; each
 * step stops if its bit was already set. */
static void notify_vcpu(struct xsim_hv_dom *hd, evtchn_port_t port)
{
    unsigned int vcpu = hd->ports[port].notify_vcpu;
    struct vcpu_info *vi;

    if (vcpu >= hd->nr_vcpus)
        return;
    vi = hd->vcpus[vcpu].vi;
    if (vi == NULL)
        return; /* no vcpu_info yet: stays pending for a later rescan */
    if (test_and_set(&vi->evtchn_pending_sel, port / WORD_BITS))
        return;
    if (__atomic_exchange_n(&vi->evtchn_upcall_pending, 1, __ATOMIC_SEQ_CST))
        return;
    xsim__hv_mark_events_pending(hd, vcpu);
}

void xsim__hv_vcpu_mark_pending(struct xsim_hv_dom *hd, unsigned int vcpu)
{
    struct vcpu_info *vi;

    if (vcpu >= hd->nr_vcpus || (vi = hd->vcpus[vcpu].vi) == NULL)
        return;
    if (__atomic_exchange_n(&vi->evtchn_upcall_pending, 1, __ATOMIC_SEQ_CST))
        return;
    xsim__hv_mark_events_pending(hd, vcpu);
}

void xsim__hv_set_pending(struct xsim_hv_dom *hd, evtchn_port_t port)
{
    struct xsim_hv_port *p = &hd->ports[port];
    struct shared_info *si = hd->si;

    p->sets++;
    xsim_trace(hd->hv->w, XSIM_TR_HV, 2 /* set pending */, hd->domid, port);
    if (hd->nr_vcpus == 0) {
        /* A backend model: its "interrupt" is a callback, run at once. */
        xsim_hv_notify_fn fn = p->notify != NULL ? p->notify : hd->notify;
        void *arg = p->notify != NULL ? p->notify_arg : hd->notify_arg;
        /* With no handler yet the event stays pending and is delivered
         * when one is installed (xsim_hv_set_port_notify). */
        if (!test_and_set(si->evtchn_pending, port) && !test_bit(si->evtchn_mask, port) &&
            fn != NULL) {
            clear_bit(si->evtchn_pending, port);
            fn(arg, hd->domid, port);
        }
        return;
    }
    if (hd->fifo != NULL) {
        xsim__hv_fifo_set_pending(hd, port);
        return;
    }
    if (test_and_set(si->evtchn_pending, port))
        return;
    /* Pollers wake even for a masked port. */
    xsim__hv_wake_pollers(hd, port);
    if (test_bit(si->evtchn_mask, port))
        return;
    notify_vcpu(hd, port);
}

/* ---- port allocation ---- */

static int alloc_port(struct xsim_hv_dom *hd, evtchn_port_t *out)
{
    unsigned int max = xsim__hv_max_ports(hd);
    evtchn_port_t first_busy = 0;

    /* Lowest free port from 1, as Xen allocates; under FIFO a port still
     * LINKED on a queue is busy and skipped (evtchn_allocate_port). The
     * scan starts at free_hint, below which every port is in use or
     * busy, so that binding 131072 ports is not quadratic. */
    for (evtchn_port_t p = hd->free_hint > 1 ? hd->free_hint : 1; p < max; p++) {
        struct xsim_hv_port *pp = &hd->ports[p];
        if (pp->state != EVTCHNSTAT_closed)
            continue;
        if (hd->fifo != NULL && xsim__hv_fifo_is_linked(hd, p)) {
            if (first_busy == 0)
                first_busy = p;
            continue;
        }
        /* The queue it was last linked on survives (Xen's fifo_lastq). */
        uint8_t last_priority = pp->last_priority;
        uint16_t last_vcpu = pp->last_vcpu;
        memset(pp, 0, sizeof(*pp));
        pp->last_priority = last_priority;
        pp->last_vcpu = last_vcpu;
        pp->priority = EVTCHN_FIFO_PRIORITY_DEFAULT;
        if (p >= hd->port_hwm)
            hd->port_hwm = p + 1;
        /* A busy port may become free: the next scan starts there. */
        hd->free_hint = first_busy != 0 ? first_busy : p + 1;
        *out = p;
        return 0;
    }
    return -ENOSPC;
}

static struct xsim_hv_dom *resolve(struct xsim_hv_dom *self, domid_t dom)
{
    if (dom == DOMID_SELF || dom == self->domid)
        return self;
    return xsim__hv_dom(self->hv, dom);
}

static bool privileged(const struct xsim_hv_dom *hd)
{
    return hd->domid == 0;
}

static int do_alloc_unbound(struct xsim_hv_dom *hd, struct evtchn_alloc_unbound *a)
{
    struct xsim_hv_dom *owner = resolve(hd, a->dom);
    evtchn_port_t port;
    int rc;

    if (owner == NULL)
        return -ESRCH;
    if (owner != hd && !privileged(hd))
        return -EPERM;
    if (a->remote_dom != DOMID_SELF && resolve(hd, a->remote_dom) == NULL)
        return -ESRCH;
    rc = alloc_port(owner, &port);
    if (rc != 0)
        return rc;
    owner->ports[port].state = EVTCHNSTAT_unbound;
    owner->ports[port].remote_dom = a->remote_dom == DOMID_SELF ? hd->domid : a->remote_dom;
    a->port = port;
    return 0;
}

static int do_bind_interdomain(struct xsim_hv_dom *hd, struct evtchn_bind_interdomain *b)
{
    struct xsim_hv_dom *rd = resolve(hd, b->remote_dom);
    struct xsim_hv_port *rp;
    evtchn_port_t lport;
    int rc;

    if (rd == NULL)
        return -ESRCH;
    if (!port_valid(rd, b->remote_port))
        return -EINVAL;
    rp = &rd->ports[b->remote_port];
    if (rp->state != EVTCHNSTAT_unbound || rp->remote_dom != hd->domid)
        return -EINVAL;
    rc = alloc_port(hd, &lport);
    if (rc != 0)
        return rc;
    hd->ports[lport].state = EVTCHNSTAT_interdomain;
    hd->ports[lport].remote_dom = rd->domid;
    hd->ports[lport].remote_port = b->remote_port;
    rp->state = EVTCHNSTAT_interdomain;
    rp->remote_dom = hd->domid;
    rp->remote_port = lport;
    b->local_port = lport;
    /* Xen marks the new local port pending so that nothing sent before the
     * bind is lost. */
    xsim__hv_set_pending(hd, lport);
    return 0;
}

static bool virq_is_global(uint32_t virq)
{
    switch (virq) {
    case VIRQ_TIMER:
    case VIRQ_DEBUG:
    case VIRQ_XENOPROF:
    case VIRQ_XENPMU:
        return false;
    default:
        return true;
    }
}

static int do_bind_virq(struct xsim_hv_dom *hd, struct evtchn_bind_virq *b)
{
    evtchn_port_t port;
    int rc;

    if (b->virq >= NR_VIRQS)
        return -EINVAL;
    if (virq_is_global(b->virq) && b->vcpu != 0)
        return -EINVAL;
    if (b->vcpu >= hd->nr_vcpus)
        return -ENOENT;
    if (hd->vcpus[b->vcpu].virq_port[b->virq] != 0)
        return -EEXIST;
    rc = alloc_port(hd, &port);
    if (rc != 0)
        return rc;
    hd->ports[port].state = EVTCHNSTAT_virq;
    hd->ports[port].virq = b->virq;
    hd->ports[port].notify_vcpu = (uint16_t)b->vcpu;
    hd->vcpus[b->vcpu].virq_port[b->virq] = port;
    b->port = port;
    return 0;
}

static int do_bind_ipi(struct xsim_hv_dom *hd, struct evtchn_bind_ipi *b)
{
    evtchn_port_t port;
    int rc;

    if (b->vcpu >= hd->nr_vcpus)
        return -ENOENT;
    rc = alloc_port(hd, &port);
    if (rc != 0)
        return rc;
    hd->ports[port].state = EVTCHNSTAT_ipi;
    hd->ports[port].notify_vcpu = (uint16_t)b->vcpu;
    b->port = port;
    return 0;
}

static int close_port(struct xsim_hv_dom *hd, evtchn_port_t port)
{
    struct xsim_hv_port *p;

    if (!port_valid(hd, port))
        return -EINVAL;
    p = &hd->ports[port];
    switch (p->state) {
    case EVTCHNSTAT_closed:
    case 0xff:
        return -EINVAL;
    case EVTCHNSTAT_virq:
        for (unsigned int i = 0; i < hd->nr_vcpus; i++) {
            if (hd->vcpus[i].virq_port[p->virq] == port)
                hd->vcpus[i].virq_port[p->virq] = 0;
        }
        break;
    case EVTCHNSTAT_interdomain: {
        struct xsim_hv_dom *rd = xsim__hv_dom(hd->hv, p->remote_dom);
        if (rd != NULL && port_valid(rd, p->remote_port)) {
            struct xsim_hv_port *rp = &rd->ports[p->remote_port];
            /* The peer goes back to unbound, waiting for us again. */
            if (rp->state == EVTCHNSTAT_interdomain && rp->remote_port == port) {
                rp->state = EVTCHNSTAT_unbound;
                rp->remote_dom = hd->domid;
                rp->remote_port = 0;
            }
        }
        break;
    }
    default:
        break;
    }
    /* Freed ports are not pending and notify vCPU0 again. Under FIFO only
     * PENDING is cleared: the guest unlinks the word as it walks its queue. */
    port_clear_pending(hd, port);
    if (port < hd->free_hint)
        hd->free_hint = port;
    {
        uint8_t last_priority = p->last_priority;
        uint16_t last_vcpu = p->last_vcpu;
        memset(p, 0, sizeof(*p));
        p->last_priority = last_priority;
        p->last_vcpu = last_vcpu;
    }
    return 0;
}

static int do_send(struct xsim_hv_dom *hd, evtchn_port_t port)
{
    struct xsim_hv_port *p;

    if (!port_valid(hd, port))
        return -EINVAL;
    p = &hd->ports[port];
    switch (p->state) {
    case EVTCHNSTAT_interdomain: {
        struct xsim_hv_dom *rd = xsim__hv_dom(hd->hv, p->remote_dom);
        if (rd != NULL && port_valid(rd, p->remote_port))
            xsim__hv_set_pending(rd, p->remote_port);
        return 0;
    }
    case EVTCHNSTAT_ipi:
        xsim__hv_set_pending(hd, port);
        return 0;
    case EVTCHNSTAT_unbound:
        return 0; /* silently dropped */
    default:
        return -EINVAL;
    }
}

static int do_status(struct xsim_hv_dom *hd, struct evtchn_status *st)
{
    struct xsim_hv_dom *td = resolve(hd, st->dom);
    struct xsim_hv_port *p;

    if (td == NULL)
        return -ESRCH;
    if (td != hd && !privileged(hd))
        return -EPERM;
    if (!port_valid(td, st->port))
        return -EINVAL;
    p = &td->ports[st->port];
    memset(&st->u, 0, sizeof(st->u));
    st->status = p->state == 0xff ? EVTCHNSTAT_closed : p->state;
    st->vcpu = p->notify_vcpu;
    switch (p->state) {
    case EVTCHNSTAT_unbound:
        st->u.unbound.dom = p->remote_dom;
        break;
    case EVTCHNSTAT_interdomain:
        st->u.interdomain.dom = p->remote_dom;
        st->u.interdomain.port = p->remote_port;
        break;
    case EVTCHNSTAT_virq:
        st->u.virq = p->virq;
        break;
    default:
        break;
    }
    return 0;
}

static int do_bind_vcpu(struct xsim_hv_dom *hd, struct evtchn_bind_vcpu *b)
{
    struct xsim_hv_port *p;

    if (!port_valid(hd, b->port))
        return -EINVAL;
    if (b->vcpu >= hd->nr_vcpus)
        return -ENOENT;
    p = &hd->ports[b->port];
    switch (p->state) {
    case EVTCHNSTAT_virq:
        if (!virq_is_global(p->virq))
            return -EINVAL;
        break;
    case EVTCHNSTAT_unbound:
    case EVTCHNSTAT_interdomain:
    case EVTCHNSTAT_pirq:
        break;
    default:
        return -EINVAL;
    }
    p->notify_vcpu = (uint16_t)b->vcpu;
    return 0;
}

static int do_unmask(struct xsim_hv_dom *hd, evtchn_port_t port)
{
    struct shared_info *si = hd->si;
    xen_ulong_t m = (xen_ulong_t)1 << (port % WORD_BITS);

    if (!port_valid(hd, port))
        return -EINVAL;
    if (hd->fifo != NULL) {
        xsim__hv_fifo_unmask(hd, port);
        return 0;
    }
    /* Only if this call really cleared the mask and the port is pending
     * does the notification chain run again. */
    if (!(__atomic_fetch_and(&si->evtchn_mask[port / WORD_BITS], ~m, __ATOMIC_SEQ_CST) & m))
        return 0;
    if (test_bit(si->evtchn_pending, port))
        notify_vcpu(hd, port);
    return 0;
}

void xsim__hv_evtchn_close_all(struct xsim_hv_dom *hd)
{
    for (evtchn_port_t p = 1; p < hd->port_hwm; p++) {
        if (hd->ports[p].state != EVTCHNSTAT_closed)
            close_port(hd, p);
    }
}

static int do_reset(struct xsim_hv_dom *hd, domid_t dom)
{
    struct xsim_hv_dom *td = resolve(hd, dom);

    if (td == NULL)
        return -ESRCH;
    if (td != hd && !privileged(hd))
        return -EPERM;
    xsim__hv_evtchn_close_all(td);
    /* Back to the 2-level ABI (Xen's evtchn_reset). */
    xsim__hv_fifo_destroy(td);
    return 0;
}

long xsim__hv_evtchn_op(struct xsim_domain *d, struct xsim_vcpu *v, void *ctx, unsigned long cmd,
                        unsigned long arg, unsigned long a3, unsigned long a4, unsigned long a5)
{
    struct xsim_hv_dom *hd = xsim__hv_dom_of(d);
    union {
        struct evtchn_alloc_unbound alloc_unbound;
        struct evtchn_bind_interdomain bind_interdomain;
        struct evtchn_bind_virq bind_virq;
        struct evtchn_bind_ipi bind_ipi;
        struct evtchn_close close;
        struct evtchn_send send;
        struct evtchn_status status;
        struct evtchn_bind_vcpu bind_vcpu;
        struct evtchn_unmask unmask;
        struct evtchn_reset reset;
        struct evtchn_init_control init_control;
        struct evtchn_expand_array expand_array;
        struct evtchn_set_priority set_priority;
    } op;
    size_t size;
    int rc;

    switch (cmd) {
    case EVTCHNOP_alloc_unbound:
        size = sizeof(op.alloc_unbound);
        break;
    case EVTCHNOP_bind_interdomain:
        size = sizeof(op.bind_interdomain);
        break;
    case EVTCHNOP_bind_virq:
        size = sizeof(op.bind_virq);
        break;
    case EVTCHNOP_bind_ipi:
        size = sizeof(op.bind_ipi);
        break;
    case EVTCHNOP_close:
        size = sizeof(op.close);
        break;
    case EVTCHNOP_send:
        size = sizeof(op.send);
        break;
    case EVTCHNOP_status:
        size = sizeof(op.status);
        break;
    case EVTCHNOP_bind_vcpu:
        size = sizeof(op.bind_vcpu);
        break;
    case EVTCHNOP_unmask:
        size = sizeof(op.unmask);
        break;
    case EVTCHNOP_reset:
        size = sizeof(op.reset);
        break;
    case EVTCHNOP_init_control:
    case EVTCHNOP_expand_array:
    case EVTCHNOP_set_priority:
        /* A host without the FIFO ABI (a feature hidden to test the
         * guest's fallback) answers as a Xen that predates it. */
        if (hd == NULL || !hd->feat.fifo_events)
            return -ENOSYS;
        size = cmd == EVTCHNOP_init_control   ? sizeof(op.init_control)
               : cmd == EVTCHNOP_expand_array ? sizeof(op.expand_array)
                                              : sizeof(op.set_priority);
        break;
    default:
        /* bind_pirq: not offered. */
        return -ENOSYS;
    }
    if (hd == NULL)
        return -ESRCH;
    if (xsim__copy_from_guest(d, &op, arg, size) != 0)
        return -EFAULT;
    switch (cmd) {
    case EVTCHNOP_alloc_unbound:
        rc = do_alloc_unbound(hd, &op.alloc_unbound);
        break;
    case EVTCHNOP_bind_interdomain:
        rc = do_bind_interdomain(hd, &op.bind_interdomain);
        break;
    case EVTCHNOP_bind_virq:
        rc = do_bind_virq(hd, &op.bind_virq);
        break;
    case EVTCHNOP_bind_ipi:
        rc = do_bind_ipi(hd, &op.bind_ipi);
        break;
    case EVTCHNOP_close:
        return close_port(hd, op.close.port);
    case EVTCHNOP_send:
        return do_send(hd, op.send.port);
    case EVTCHNOP_status:
        rc = do_status(hd, &op.status);
        break;
    case EVTCHNOP_bind_vcpu:
        return do_bind_vcpu(hd, &op.bind_vcpu);
    case EVTCHNOP_unmask:
        return do_unmask(hd, op.unmask.port);
    case EVTCHNOP_reset:
        return do_reset(hd, op.reset.dom);
    case EVTCHNOP_init_control:
        if (v == NULL)
            return -ESRCH;
        rc = xsim__hv_fifo_init_control(hd, &op.init_control);
        break;
    case EVTCHNOP_expand_array:
        return xsim__hv_fifo_expand_array(hd, op.expand_array.array_gfn);
    case EVTCHNOP_set_priority:
        return xsim__hv_fifo_set_priority(hd, op.set_priority.port, op.set_priority.priority);
    default:
        return -ENOSYS;
    }
    if (rc == 0 && xsim__copy_to_guest(d, arg, &op, size) != 0)
        return -EFAULT;
    return rc;
}

/* ---- the same operations for backends and the toolstack ---- */

int xsim_hv_evtchn_alloc_unbound(struct xsim_hv *hv, domid_t domid, domid_t remote,
                                 evtchn_port_t *port)
{
    struct xsim_hv_dom *hd = xsim__hv_dom(hv, domid);
    struct evtchn_alloc_unbound a = {.dom = DOMID_SELF, .remote_dom = remote};
    int rc;

    if (hd == NULL)
        return -ESRCH;
    rc = do_alloc_unbound(hd, &a);
    if (rc == 0)
        *port = a.port;
    return rc;
}

int xsim_hv_evtchn_bind_interdomain(struct xsim_hv *hv, domid_t domid, domid_t remote,
                                    evtchn_port_t remote_port, evtchn_port_t *local_port)
{
    struct xsim_hv_dom *hd = xsim__hv_dom(hv, domid);
    struct evtchn_bind_interdomain b = {.remote_dom = remote, .remote_port = remote_port};
    int rc;

    if (hd == NULL)
        return -ESRCH;
    rc = do_bind_interdomain(hd, &b);
    if (rc == 0)
        *local_port = b.local_port;
    return rc;
}

int xsim_hv_evtchn_send(struct xsim_hv *hv, domid_t domid, evtchn_port_t port)
{
    struct xsim_hv_dom *hd = xsim__hv_dom(hv, domid);

    return hd != NULL ? do_send(hd, port) : -ESRCH;
}

int xsim_hv_evtchn_close(struct xsim_hv *hv, domid_t domid, evtchn_port_t port)
{
    struct xsim_hv_dom *hd = xsim__hv_dom(hv, domid);

    return hd != NULL ? close_port(hd, port) : -ESRCH;
}

int xsim_hv_evtchn_status(struct xsim_hv *hv, struct evtchn_status *st)
{
    struct xsim_hv_dom *hd = xsim__hv_dom(hv, st->dom);

    if (hd == NULL)
        return -ESRCH;
    return do_status(hd, st);
}

int xsim_hv_send_virq(struct xsim_hv *hv, domid_t domid, unsigned int vcpu, uint32_t virq)
{
    struct xsim_hv_dom *hd = xsim__hv_dom(hv, domid);
    evtchn_port_t port;

    if (hd == NULL)
        return -ESRCH;
    if (virq >= NR_VIRQS)
        return -EINVAL;
    if (virq_is_global(virq))
        vcpu = 0;
    if (vcpu >= hd->nr_vcpus)
        return -ENOENT;
    port = hd->vcpus[vcpu].virq_port[virq];
    if (port == 0)
        return 0; /* not bound: dropped, as in Xen */
    xsim__hv_set_pending(hd, port);
    return 0;
}

int xsim_hv_set_port_notify(struct xsim_hv *hv, domid_t domid, evtchn_port_t port,
                            xsim_hv_notify_fn fn, void *arg)
{
    struct xsim_hv_dom *hd = xsim__hv_dom(hv, domid);

    if (hd == NULL)
        return -ESRCH;
    if (!port_valid(hd, port) || hd->ports[port].state == EVTCHNSTAT_closed)
        return -EINVAL;
    hd->ports[port].notify = fn;
    hd->ports[port].notify_arg = arg;
    /* Deliver what arrived before the handler existed. */
    if (fn != NULL && hd->nr_vcpus == 0 && test_bit(hd->si->evtchn_pending, port)) {
        clear_bit(hd->si->evtchn_pending, port);
        fn(arg, domid, port);
    }
    return 0;
}

int xsim_hv_port_info(struct xsim_hv *hv, domid_t domid, evtchn_port_t port,
                      struct xsim_hv_port_info *out)
{
    struct xsim_hv_dom *hd = xsim__hv_dom(hv, domid);

    if (hd == NULL)
        return -ESRCH;
    if (port >= xsim__hv_max_ports(hd))
        return -EINVAL;
    out->status = hd->ports[port].state == 0xff ? EVTCHNSTAT_closed : hd->ports[port].state;
    out->notify_vcpu = hd->ports[port].notify_vcpu;
    out->pending = port_is_pending(hd, port);
    out->masked = port_is_masked(hd, port);
    out->linked = hd->fifo != NULL && xsim__hv_fifo_is_linked(hd, port);
    out->priority = hd->ports[port].priority;
    out->sets = hd->ports[port].sets;
    return 0;
}

/* ---- SCHEDOP ---- */

static bool block_ready(struct xsim_vcpu *v, void *arg)
{
    struct xsim_hv_dom *hd = arg;
    struct vcpu_info *vi = hd->vcpus[xsim_vcpu_id(v)].vi;

    /* SCHEDOP_block returns once events need delivery. */
    return xsim_vcpu_irq_pending(v) ||
           (vi != NULL && __atomic_load_n(&vi->evtchn_upcall_pending, __ATOMIC_SEQ_CST));
}

static bool poll_ready(struct xsim_vcpu *v, void *arg)
{
    struct xsim_hv_dom *hd = arg;
    struct xsim_hv_vcpu *hv = &hd->vcpus[xsim_vcpu_id(v)];

    if (hv->poll_timed_out)
        return true;
    for (unsigned int i = 0; i < hv->npoll; i++) {
        if (port_is_pending(hd, hv->poll_ports[i]))
            return true;
    }
    /* An interrupt for this vCPU (another port's upcall) ends the poll. */
    return xsim_vcpu_irq_pending(v);
}

static void poll_timeout(struct xsim_world *w, void *arg)
{
    struct xsim_hv_vcpu *hv = arg;

    hv->poll_timed_out = true;
    hv->poll_timer = 0;
    xsim_vcpu_kick(hv->v);
}

static bool suspend_ready(struct xsim_vcpu *v, void *arg)
{
    struct xsim_hv_dom *hd = arg;

    return !hd->suspended;
}

/* SHUTDOWN_suspend: the domain stays in the hypercall until the toolstack
 * resumes it (xsim_hv_domain_resume); the result is the toolstack's: 1 for
 * a cancelled suspend, 0 on a new host. The guest parks its other vCPUs
 * itself. */
static long do_suspend(struct xsim_hv_dom *hd, struct xsim_vcpu *v)
{
    if (hd->suspended)
        return -EBUSY; /* another vCPU is already suspending */
    hd->suspended = true;
    hd->resume_rc = 1;
    hd->suspend_vcpu = xsim_vcpu_id(v);
    xsim_trace(hd->hv->w, XSIM_TR_HV, 0x20 /* suspend */, hd->domid, hd->suspend_vcpu);
    if (hd->hv->shutdown_fn != NULL)
        hd->hv->shutdown_fn(hd->hv->shutdown_arg, hd->domid, SHUTDOWN_suspend);
    xsim_vcpu_block(v, suspend_ready, hd);
    xsim_trace(hd->hv->w, XSIM_TR_HV, 0x21 /* resumed */, hd->domid, (uint64_t)hd->resume_rc);
    return hd->resume_rc;
}

static long do_poll(struct xsim_hv_dom *hd, struct xsim_vcpu *v, unsigned long arg)
{
    struct sched_poll sp;
    struct xsim_hv_vcpu *hv = &hd->vcpus[xsim_vcpu_id(v)];
    struct xsim_world *w = hd->hv->w;

    if (xsim__copy_from_guest(hd->d, &sp, arg, sizeof(sp)) != 0)
        return -EFAULT;
    if (sp.nr_ports > XSIM_HV_MAX_POLL)
        return -EINVAL;
    for (unsigned int i = 0; i < sp.nr_ports; i++) {
        evtchn_port_t port;
        if (xsim__copy_from_guest(hd->d, &port,
                                  (unsigned long)(uintptr_t)sp.ports.p + i * sizeof(port),
                                  sizeof(port)) != 0)
            return -EFAULT;
        if (!port_valid(hd, port))
            return -EINVAL;
        hv->poll_ports[i] = port;
    }
    hv->npoll = sp.nr_ports;
    hv->poll_timed_out = false;
    hv->polling = true;
    if (sp.timeout != 0)
        hv->poll_timer =
            xsim_event_schedule(w, sp.timeout, 0x504f4c4c /* POLL */, poll_timeout, hv);
    xsim_vcpu_block(v, poll_ready, hd);
    hv->polling = false;
    if (hv->poll_timer != 0) {
        xsim_event_cancel(w, hv->poll_timer);
        hv->poll_timer = 0;
    }
    return 0;
}

long xsim__hv_sched_op(struct xsim_domain *d, struct xsim_vcpu *v, void *ctx, unsigned long cmd,
                       unsigned long arg, unsigned long a3, unsigned long a4, unsigned long a5)
{
    struct xsim_hv_dom *hd = xsim__hv_dom_of(d);
    struct sched_shutdown sd;

    if (hd == NULL || v == NULL)
        return -ESRCH;
    switch (cmd) {
    case SCHEDOP_yield:
        xsim_point(hd->hv->w);
        return 0;
    case SCHEDOP_block:
        xsim_vcpu_block(v, block_ready, hd);
        return 0;
    case SCHEDOP_poll:
        return do_poll(hd, v, arg);
    case SCHEDOP_shutdown:
        if (xsim__copy_from_guest(d, &sd, arg, sizeof(sd)) != 0)
            return -EFAULT;
        if (sd.reason > SHUTDOWN_MAX)
            return -EINVAL;
        hd->shutdown_reason = (int)sd.reason;
        if (sd.reason == SHUTDOWN_suspend)
            return do_suspend(hd, v);
        if (hd->hv->shutdown_fn != NULL)
            hd->hv->shutdown_fn(hd->hv->shutdown_arg, hd->domid, sd.reason);
        return 0;
    default:
        return -ENOSYS;
    }
}
