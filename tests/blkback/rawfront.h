/*
 * rawfront.h - a raw blkif frontend for the backend's tests: guest code on
 * the harness that does the XenStore handshake by hand and builds ring
 * requests byte by byte, so tests can send anything, malformed included.
 * Runs on guest CPU 0 only.
 */
#ifndef XSIM_TEST_RAWFRONT_H
#define XSIM_TEST_RAWFRONT_H

#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "xensim/abi/blkif.h"
#include "xensim/abi/xenbus.h"
#include "xensim/guest/xg_gnttab.h"
#include "xensim/guest/xg_xenbus.h"

#define RF_MAX_PAGES 16
#define RF_MAX_RSP   4096
#define RF_BPATH     "/local/domain/0/backend/vbd/1/51712"
#define RF_FPATH     "/local/domain/1/device/vbd/51712"

struct rf {
    struct th *t;
    struct xg_xenbus xb;
    struct xg_gnttab gt;
    int init_rc;
    struct blkif_sring *sr;
    uint8_t *pages[RF_MAX_PAGES];
    unsigned int npages, nents;
    grant_ref_t rrefs[RF_MAX_PAGES];
    RING_IDX prod, cons;
    /* misbehaviour in the handshake (0/NULL: behave) */
    unsigned long long bad_ref, bad_port;
    const char *protocol;
    evtchn_port_t port;
    volatile uint32_t irqs, be_changes;
    /* responses in arrival order */
    struct blkif_response rsp[RF_MAX_RSP];
    unsigned int nrsp;
};

static inline int rf_irq(struct xg_guest *g, evtchn_port_t port, void *arg)
{
    struct rf *f = arg;

    (void)g;
    (void)port;
    f->irqs++;
    return 0;
}

static inline void rf_on_be(struct xg_xenbus *xb, const char *path, const char *token, void *arg)
{
    struct rf *f = arg;

    (void)xb;
    (void)path;
    (void)token;
    f->be_changes++;
}

static inline int rf_init(struct rf *f, struct th *t)
{
    int rc;

    f->t = t;
    rc = xg_xenbus_init(&f->xb, t->g);
    if (rc == 0)
        rc = xg_gnttab_init(&f->gt, t->g, 4);
    if (rc == 0)
        rc = xg_xenbus_watch(&f->xb, RF_BPATH "/state", "be", rf_on_be, f);
    f->init_rc = rc;
    return rc;
}

static inline int rf_be_state(struct rf *f)
{
    return (int)xg_xenbus_read_state(&f->xb, RF_BPATH "/state");
}

/* Wait (halting) until the backend is in `state`; false if it settles in
 * another state and no change comes (the run then ends quiescent). */
static inline bool rf_wait_be(struct rf *f, int state)
{
    for (int i = 0; i < 64; i++) {
        uint32_t seen = f->be_changes;
        if (rf_be_state(f) == state)
            return true;
        th_wait_u32(f->t, &f->be_changes, seen + 1);
    }
    return false;
}

static inline int rf_write(struct rf *f, const char *node, const char *fmt, unsigned long long v)
{
    char path[128], val[32];

    snprintf(path, sizeof(path), RF_FPATH "/%s", node);
    snprintf(val, sizeof(val), fmt, v);
    return xg_xenbus_write(&f->xb, 0, path, val);
}

static inline int rf_read_be(struct rf *f, const char *node, char *buf, uint32_t size)
{
    char path[128];

    snprintf(path, sizeof(path), RF_BPATH "/%s", node);
    return xg_xenbus_read(&f->xb, 0, path, buf, size);
}

/* Grant a fresh ring of 2^order pages, write the nodes (order_node:
 * write ring-page-order even when it is 0; bad_order: advertise this order
 * instead), go Initialised and wait for Connected. */
static inline bool rf_connect(struct rf *f, unsigned int order, int bad_order)
{
    const struct xg_platform *p = f->t->p;
    unsigned int n = 1u << order;
    uint64_t gfn;

    /* The pages are deliberately not contiguous (a spare page between
     * each): the backend must treat them as separate frames. */
    for (unsigned int i = 0; i < n; i++) {
        if (i > 0)
            (void)xg_page_alloc(p, &gfn);
        f->pages[i] = xg_page_alloc(p, &gfn);
        if (f->pages[i] == NULL ||
            xg_gnttab_grant(&f->gt, TH_BACKEND_DOMID, gfn, false, &f->rrefs[i]) != 0)
            return false;
    }
    f->sr = (struct blkif_sring *)f->pages[0];
    SHARED_RING_INIT(f->sr);
    f->npages = n;
    f->nents = (unsigned int)__CONST_RING_SIZE(blkif, (size_t)n * 4096);
    f->prod = f->cons = 0;
    if (xg_evtchn_alloc_unbound(f->t->g, TH_BACKEND_DOMID, rf_irq, f, &f->port) != 0 ||
        xg_evtchn_unmask(f->t->g, f->port) != 0)
        return false;
    if (order == 0 && bad_order < 0) {
        rf_write(f, "ring-ref", "%llu", f->bad_ref ? f->bad_ref : f->rrefs[0]);
    } else {
        rf_write(f, "ring-page-order", "%llu", bad_order >= 0 ? (unsigned)bad_order : order);
        for (unsigned int i = 0; i < n; i++) {
            char node[32];
            snprintf(node, sizeof(node), "ring-ref%u", i);
            rf_write(f, node, "%llu", f->rrefs[i]);
        }
    }
    rf_write(f, "event-channel", "%llu", f->bad_port ? f->bad_port : f->port);
    {
        char path[128];
        snprintf(path, sizeof(path), RF_FPATH "/protocol");
        xg_xenbus_write(&f->xb, 0, path, f->protocol ? f->protocol : "x86_64-abi");
    }
    xg_xenbus_switch_state(&f->xb, RF_FPATH, XenbusStateInitialised);
    if (bad_order >= 0 || f->bad_ref || f->bad_port || f->protocol)
        return rf_wait_be(f, XenbusStateClosed);
    if (!rf_wait_be(f, XenbusStateConnected))
        return false;
    xg_xenbus_switch_state(&f->xb, RF_FPATH, XenbusStateConnected);
    return true;
}

/* Frontend Closing -> backend Closed -> frontend Closed, then Initialising
 * -> backend InitWait (ready for rf_connect again). */
static inline bool rf_reconnect_cycle(struct rf *f)
{
    xg_xenbus_switch_state(&f->xb, RF_FPATH, XenbusStateClosing);
    if (!rf_wait_be(f, XenbusStateClosed))
        return false;
    xg_xenbus_switch_state(&f->xb, RF_FPATH, XenbusStateClosed);
    (void)xg_evtchn_close(f->t->g, f->port);
    for (unsigned int i = 0; i < f->npages; i++)
        if (xg_gnttab_end_access(&f->gt, f->rrefs[i]) != 0)
            return false; /* the backend still maps the ring */
    xg_xenbus_switch_state(&f->xb, RF_FPATH, XenbusStateInitialising);
    return rf_wait_be(f, XenbusStateInitWait);
}

/* Copy to or from ring slot `idx`, which may straddle two pages. */
static inline void rf_slot(struct rf *f, RING_IDX idx, void *buf, size_t len, bool to_ring)
{
    size_t off = offsetof(struct blkif_sring, ring) +
                 (size_t)(idx & (f->nents - 1)) * sizeof(union blkif_sring_entry);
    uint8_t *b = buf;

    while (len > 0) {
        size_t in = off % 4096, n = 4096 - in < len ? 4096 - in : len;
        uint8_t *pg = f->pages[off / 4096] + in;
        if (to_ring)
            memcpy(pg, b, n);
        else
            memcpy(b, pg, n);
        b += n;
        off += n;
        len -= n;
    }
}

/* Put a raw slot on the ring (no publish). */
static inline void rf_put(struct rf *f, const void *slot)
{
    rf_slot(f, f->prod, (void *)slot, sizeof(union blkif_sring_entry), true);
    f->prod++;
}

/* Publish everything put so far and notify. */
static inline void rf_push(struct rf *f)
{
    const struct xg_platform *p = f->t->p;

    xg_wmb(p); /* slots before the index */
    xg_write_u32(p, &f->sr->req_prod, f->prod);
    xg_mb(p);
    (void)xg_evtchn_notify(f->t->g, f->port);
}

/* Collect responses until `n` in total have arrived (false if the run
 * would otherwise end without them). */
static inline bool rf_wait_rsp(struct rf *f, unsigned int n)
{
    const struct xg_platform *p = f->t->p;

    while (f->nrsp < n) {
        uint32_t seen = f->irqs;
        RING_IDX rp = xg_read_u32(p, &f->sr->rsp_prod);
        xg_rmb(p);
        while (f->cons != rp && f->nrsp < RF_MAX_RSP) {
            rf_slot(f, f->cons, &f->rsp[f->nrsp++], sizeof(struct blkif_response), false);
            f->cons++;
        }
        if (f->nrsp >= n)
            break;
        xg_write_u32(p, &f->sr->rsp_event, f->cons + 1);
        xg_mb(p);
        if (xg_read_u32(p, &f->sr->rsp_prod) != f->cons)
            continue;
        th_wait_u32(f->t, &f->irqs, seen + 1);
        if (f->irqs == seen)
            return false;
    }
    return true;
}

/* A direct request. */
static inline void rf_req(struct rf *f, uint8_t op, uint64_t id, uint64_t sector, unsigned int nseg,
                          const struct blkif_request_segment *segs)
{
    union blkif_sring_entry e;

    memset(&e, 0, sizeof(e));
    e.req.operation = op;
    e.req.nr_segments = (uint8_t)nseg;
    e.req.handle = 51712 & 0xffff;
    e.req.id = id;
    e.req.sector_number = sector;
    for (unsigned int i = 0; i < nseg && i < BLKIF_MAX_SEGMENTS_PER_REQUEST; i++)
        e.req.seg[i] = segs[i];
    rf_put(f, &e);
}

/* Submit one request and wait for its response; returns the status. */
static inline int rf_do(struct rf *f, uint8_t op, uint64_t id, uint64_t sector, unsigned int nseg,
                        const struct blkif_request_segment *segs)
{
    rf_req(f, op, id, sector, nseg, segs);
    rf_push(f);
    if (!rf_wait_rsp(f, f->nrsp + 1))
        return 1000;
    if (f->rsp[f->nrsp - 1].id != id)
        return 1001;
    return f->rsp[f->nrsp - 1].status;
}

/* A data page granted to the backend. */
static inline uint8_t *rf_page(struct rf *f, bool readonly, grant_ref_t *ref)
{
    uint64_t gfn;
    uint8_t *pg = xg_page_alloc(f->t->p, &gfn);

    if (pg == NULL || xg_gnttab_grant(&f->gt, TH_BACKEND_DOMID, gfn, readonly, ref) != 0)
        return NULL;
    return pg;
}

#endif
