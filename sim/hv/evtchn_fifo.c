/*
 * evtchn_fifo.c - the FIFO event channel ABI of the hypervisor model, with
 * the semantics and errors of Xen 4.17 (xen/common/event_fifo.c and the
 * FIFO parts of event_channel.c): per-vCPU control blocks with 16 priority
 * queues, event words in guest pages, up to 131072 ports.
 *
 * Delivery of one event (set_pending): set PENDING; if the word is not
 * MASKED and LINKED was clear, set LINKED and append the port to the queue
 * of its priority on its notify vCPU: link the old tail's word to it if
 * that tail is still LINKED, else the queue was empty (or the guest has
 * already consumed the tail) and HEAD is written; then, only if HEAD was
 * written, set the queue's READY bit and, if that bit was newly set, mark
 * the vCPU's upcall pending exactly as the 2-level chain does.
 *
 * The model runs each hypervisor operation as one step: no guest access
 * interleaves with it. Xen sets BUSY on a tail word while it retries the
 * link so that a guest unmask cannot keep its cmpxchg failing; here that
 * window is empty, so the guest never observes BUSY from us.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hv/hv_internal.h"

#define BIT(n) ((event_word_t)1 << (n))

static event_word_t *word_of(const struct xsim_hv_dom *hd, evtchn_port_t port)
{
    const struct xsim_hv_fifo *f = hd->fifo;

    /* No word yet: the port lies beyond the pages the guest has added. */
    if (f == NULL || port >= f->num_evtchns)
        return NULL;
    return f->pages[port / XSIM_HV_FIFO_WORDS_PER_PAGE] + port % XSIM_HV_FIFO_WORDS_PER_PAGE;
}

static bool word_test(const event_word_t *w, unsigned int bit)
{
    return (__atomic_load_n(w, __ATOMIC_SEQ_CST) & BIT(bit)) != 0;
}

/* The guest's vCPUs run in parallel with the hypervisor only in free-run
 * mode; in deterministic mode the caller is the only code running and a
 * plain update does what the locked one would, for less. */
static inline event_word_t fetch_or(const struct xsim_hv_dom *hd, event_word_t *w,
                                    event_word_t bits)
{
    event_word_t old;

    if (!hd->hv->serial)
        return __atomic_fetch_or(w, bits, __ATOMIC_SEQ_CST);
    old = *w;
    *w = old | bits;
    return old;
}

static bool word_test_and_set(const struct xsim_hv_dom *hd, event_word_t *w, unsigned int bit)
{
    return (fetch_or(hd, w, BIT(bit)) & BIT(bit)) != 0;
}

static void word_clear(const struct xsim_hv_dom *hd, event_word_t *w, unsigned int bit)
{
    if (!hd->hv->serial)
        __atomic_fetch_and(w, ~BIT(bit), __ATOMIC_SEQ_CST);
    else
        *w &= ~BIT(bit);
}

bool xsim__hv_fifo_is_pending(const struct xsim_hv_dom *hd, evtchn_port_t port)
{
    const event_word_t *w = word_of(hd, port);

    return w != NULL && word_test(w, EVTCHN_FIFO_PENDING);
}

bool xsim__hv_fifo_is_masked(const struct xsim_hv_dom *hd, evtchn_port_t port)
{
    const event_word_t *w = word_of(hd, port);

    return w == NULL || word_test(w, EVTCHN_FIFO_MASKED);
}

bool xsim__hv_fifo_is_linked(const struct xsim_hv_dom *hd, evtchn_port_t port)
{
    const event_word_t *w = word_of(hd, port);

    return w != NULL && word_test(w, EVTCHN_FIFO_LINKED);
}

void xsim__hv_fifo_clear_pending(struct xsim_hv_dom *hd, evtchn_port_t port)
{
    event_word_t *w = word_of(hd, port);

    /* Only PENDING: a LINKED word stays on its queue until the guest's
     * walk unlinks it and ignores it for not being pending. */
    if (w != NULL)
        word_clear(hd, w, EVTCHN_FIFO_PENDING);
    if (port < XSIM_HV_NR_PORTS)
        hd->ports[port].fifo_pending = false;
}

/* Xen's try_set_link/evtchn_fifo_set_link: point the tail's LINK at
 * `port`, but only while the tail is still LINKED (the guest may have
 * consumed it meanwhile: then the queue is empty and HEAD must be
 * written). The guest may only set/clear MASKED, clear PENDING and clear
 * LINKED+LINK, so a retry is bounded; BUSY keeps a guest unmask out while
 * we retry. Returns whether the tail was linked. */
static bool set_link(const struct xsim_hv_dom *hd, event_word_t *tail, evtchn_port_t port)
{
    event_word_t old = __atomic_load_n(tail, __ATOMIC_SEQ_CST);

    if (hd->hv->serial) {
        /* Nobody can change the word between the test and the write. */
        if (!(old & BIT(EVTCHN_FIFO_LINKED)))
            return false;
        *tail = (old & ~(BIT(EVTCHN_FIFO_BUSY) | EVTCHN_FIFO_LINK_MASK)) | port;
        return true;
    }

    for (unsigned int attempt = 0; attempt < 5; attempt++) {
        if (!(old & BIT(EVTCHN_FIFO_LINKED))) {
            if (attempt > 0)
                word_clear(hd, tail, EVTCHN_FIFO_BUSY);
            return false;
        }
        event_word_t new = (old & ~(BIT(EVTCHN_FIFO_BUSY) | EVTCHN_FIFO_LINK_MASK)) | port;
        if (__atomic_compare_exchange_n(tail, &old, new, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
            return true; /* BUSY cleared by the same write */
        if (attempt == 0) {
            fetch_or(hd, tail, BIT(EVTCHN_FIFO_BUSY));
            old = __atomic_load_n(tail, __ATOMIC_SEQ_CST);
        }
    }
    /* Xen gives up after four retries, warns and reports "linked". */
    word_clear(hd, tail, EVTCHN_FIFO_BUSY);
    return true;
}

static void fifo_set_pending_on(struct xsim_hv_dom *hd, unsigned int vcpu, evtchn_port_t port)
{
    struct xsim_hv_port *p = &hd->ports[port];
    struct xsim_hv_vcpu *hv;
    event_word_t *w = word_of(hd, port);
    bool check_pollers, linked = true;
    unsigned int prio = p->priority;

    if (vcpu >= hd->nr_vcpus)
        return;
    hv = &hd->vcpus[vcpu];
    if (w == NULL) {
        /* No event array page yet: remember it for expand_array. */
        p->fifo_pending = true;
        return;
    }
    /* No control block on that vCPU: Xen drops the event (the guest must
     * not unmask before initialising every control block). */
    if (hv->fifo_cb == NULL)
        return;
    check_pollers = !word_test_and_set(hd, w, EVTCHN_FIFO_PENDING);
    if (!word_test(w, EVTCHN_FIFO_MASKED) && !word_test_and_set(hd, w, EVTCHN_FIFO_LINKED)) {
        struct xsim_hv_vcpu *old_v = p->last_vcpu < hd->nr_vcpus ? &hd->vcpus[p->last_vcpu] : hv;
        /* The port was the tail of the queue it was last on: that queue
         * is empty now, and a later link to it must not go through this
         * word, which is about to join another list. */
        if (old_v->fifo_tail[p->last_priority] == port)
            old_v->fifo_tail[p->last_priority] = 0;
        p->last_vcpu = (uint16_t)vcpu;
        p->last_priority = (uint8_t)prio;
        linked = false;
        if (hv->fifo_tail[prio] != 0) {
            event_word_t *tw = word_of(hd, hv->fifo_tail[prio]);
            if (tw != NULL)
                linked = set_link(hd, tw, port);
        }
        if (!linked)
            __atomic_store_n(&hv->fifo_cb->head[prio], port, __ATOMIC_SEQ_CST);
        hv->fifo_tail[prio] = port;
        xsim_trace(hd->hv->w, XSIM_TR_HV, 0x30 /* fifo link */, hd->domid,
                   ((uint64_t)vcpu << 32) | ((uint64_t)prio << 24) | port);
    }
    if (!linked &&
        !(fetch_or(hd, &hv->fifo_cb->ready, 1u << prio) & (1u << prio)))
        xsim__hv_vcpu_mark_pending(hd, vcpu);
    if (check_pollers)
        xsim__hv_wake_pollers(hd, port);
}

void xsim__hv_fifo_set_pending(struct xsim_hv_dom *hd, evtchn_port_t port)
{
    fifo_set_pending_on(hd, hd->ports[port].notify_vcpu, port);
}

void xsim__hv_fifo_unmask(struct xsim_hv_dom *hd, evtchn_port_t port)
{
    event_word_t *w = word_of(hd, port);

    if (w == NULL)
        return;
    word_clear(hd, w, EVTCHN_FIFO_MASKED);
    /* Relink an event that arrived while masked (it is PENDING but was
     * never queued). */
    if (word_test(w, EVTCHN_FIFO_PENDING))
        xsim__hv_fifo_set_pending(hd, port);
}

int xsim__hv_fifo_set_priority(struct xsim_hv_dom *hd, evtchn_port_t port, uint32_t priority)
{
    /* Xen: a port outside the allocated buckets (64 ports each, port 0
     * included) is -EINVAL; then the 2-level ABI has no set_priority
     * (-ENOSYS); then the range. Any port in range, even a free one, takes
     * the priority; only future links use it. */
    unsigned int valid = (hd->port_hwm + 64) / 64 * 64;

    if (port >= valid)
        return -EINVAL;
    if (hd->fifo == NULL)
        return -ENOSYS;
    if (priority > EVTCHN_FIFO_PRIORITY_MIN)
        return -EINVAL;
    hd->ports[port].priority = (uint8_t)priority;
    return 0;
}

void xsim__hv_fifo_destroy(struct xsim_hv_dom *hd)
{
    free(hd->fifo);
    hd->fifo = NULL;
    for (unsigned int i = 0; i < hd->nr_vcpus; i++) {
        hd->vcpus[i].fifo_cb = NULL;
        memset(hd->vcpus[i].fifo_tail, 0, sizeof(hd->vcpus[i].fifo_tail));
    }
}

/* A page the guest names: must be a frame of its RAM (Xen: get_page_from_gfn
 * plus a writable type; -EINVAL otherwise). */
static void *guest_page(struct xsim_hv_dom *hd, uint64_t gfn)
{
    return xsim_domain_gfn_to_ptr(hd->d, gfn);
}

int xsim__hv_fifo_init_control(struct xsim_hv_dom *hd, struct evtchn_init_control *ic)
{
    struct xsim_hv_vcpu *hv;
    uint8_t *page;

    ic->link_bits = EVTCHN_FIFO_LINK_BITS;
    if (ic->vcpu >= hd->nr_vcpus)
        return -ENOENT;
    /* The control block must not cross the page and must be 8-aligned. */
    if (ic->offset > XEN_PAGE_SIZE - sizeof(struct evtchn_fifo_control_block))
        return -EINVAL;
    if (ic->offset & 7)
        return -EINVAL;
    hv = &hd->vcpus[ic->vcpu];
    /* A second init of the same vCPU. */
    if (hd->fifo != NULL && hv->fifo_cb != NULL)
        return -EINVAL;
    page = guest_page(hd, ic->control_gfn);
    if (page == NULL)
        return -EINVAL;
    if (hd->fifo == NULL) {
        /* The first control block switches the domain to FIFO with an
         * empty event array. Ports already bound keep their pending state
         * (raised when their page is added) and get the default priority. */
        hd->fifo = calloc(1, sizeof(*hd->fifo));
        if (hd->fifo == NULL)
            return -ENOMEM;
        for (unsigned int i = 0; i < hd->nr_vcpus; i++) {
            hd->vcpus[i].fifo_cb = NULL;
            memset(hd->vcpus[i].fifo_tail, 0, sizeof(hd->vcpus[i].fifo_tail));
        }
        for (evtchn_port_t port = 1; port < hd->port_hwm && port < XSIM_HV_NR_PORTS_2L; port++) {
            struct xsim_hv_port *p = &hd->ports[port];
            p->fifo_pending =
                (__atomic_load_n(&hd->si->evtchn_pending[port / 64], __ATOMIC_SEQ_CST) >>
                 (port % 64)) &
                1;
            p->priority = EVTCHN_FIFO_PRIORITY_DEFAULT;
        }
        xsim_trace(hd->hv->w, XSIM_TR_HV, 0x31 /* fifo on */, hd->domid, 0);
    }
    hv->fifo_cb = (struct evtchn_fifo_control_block *)(page + ic->offset);
    return 0;
}

int xsim__hv_fifo_expand_array(struct xsim_hv_dom *hd, uint64_t gfn)
{
    struct xsim_hv_fifo *f = hd->fifo;
    unsigned int slot, first;
    event_word_t *page;

    if (f == NULL)
        return -EOPNOTSUPP;
    slot = f->num_evtchns / XSIM_HV_FIFO_WORDS_PER_PAGE;
    if (slot >= XSIM_HV_FIFO_MAX_PAGES)
        return -ENOSPC;
    page = guest_page(hd, gfn);
    if (page == NULL)
        return -EINVAL;
    /* Xen does not initialise the page: the guest fills it (every word
     * MASKED) before adding it. */
    f->pages[slot] = page;
    first = f->num_evtchns;
    f->num_evtchns += XSIM_HV_FIFO_WORDS_PER_PAGE;
    /* Raise what arrived while this page was missing. */
    for (evtchn_port_t port = first; port < f->num_evtchns && port < hd->port_hwm; port++) {
        struct xsim_hv_port *p = &hd->ports[port];
        if (p->state == EVTCHNSTAT_closed || p->state == 0xff || !p->fifo_pending)
            continue;
        p->fifo_pending = false;
        fifo_set_pending_on(hd, p->notify_vcpu, port);
    }
    return 0;
}
