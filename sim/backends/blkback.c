/*
 * blkback.c - the block backend in dom0 (see blkback.h): XenStore
 * negotiation driven by a watch on the frontend's state, a 1..16 page ring
 * consumed defensively, requests served from a storage model after a
 * modelled service time, responses pushed with the notify-if-needed rule.
 *
 * Everything runs in hypervisor context: the port's notify callback and the
 * watch callback only schedule timed events; ring processing, I/O and
 * XenStore reactions happen in those events.
 */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xensim/abi/blkif.h"
#include "xensim/abi/xenbus.h"
#include "xensim/abi/xs_wire.h"
#include "xensim/blkback.h"
#include "xensim/gnttab.h"
#include "xensim/xenstore.h"

#define BB_MAX_RING_ORDER 4
#define BB_MAX_RING_PAGES (1u << BB_MAX_RING_ORDER)
#define BB_PAGE           4096u

/* Timed-event kinds in the trace ("BB" + n). */
#define KIND_FE    0x42420001u
#define KIND_RING  0x42420002u
#define KIND_DONE  0x42420003u
#define KIND_STALE 0x42420004u

/* The stale_map fault: references being mapped again at once, at most
 * (more are not tried), and the time between two steps of one. */
#define BB_MAX_STALE     8
#define BB_STALE_STEP_NS 500

enum bb_where { ON_NONE, ON_WAIT, ON_RUN };

struct bb_req {
    struct bb_req *prev, *next;
    enum bb_where where;
    struct xsim_blkback *b;
    uint64_t id;
    uint8_t op;      /* the ring operation, echoed in the response */
    uint8_t kind;    /* what to do: BLKIF_OP_READ/WRITE/WRITE_BARRIER/FLUSH/DISCARD */
    int16_t status;  /* != OKAY: answer this without doing I/O */
    uint64_t sector; /* first device sector */
    uint64_t nsect;  /* sectors moved (or discarded) */
    unsigned int nseg;
    struct blkif_request_segment *segs; /* inl or heap (indirect) */
    struct blkif_request_segment inl[BLKIF_MAX_SEGMENTS_PER_REQUEST];
    uint64_t ev;
    /* map_grants: each segment's mapping (NULL: not mapped), heap */
    void **map;
    bool map_ro; /* mapped read-only (a write: we only read the guest's pages) */
};

/* The stale_map fault: one reference mapped again after its response. */
struct bb_stale {
    struct xsim_blkback *b;
    grant_ref_t ref;
    bool mapped;
    uint64_t until_ns; /* no new map from then on */
    uint64_t ev;
};

struct bb_list {
    struct bb_req *head, *tail;
    unsigned int n;
    enum bb_where tag; /* what a member's `where` says */
};

struct xsim_blkback {
    struct xsim_world *w;
    struct xsim_hv *hv;
    struct xsim_xshost *xs;
    struct xsim_blkback_config cfg;
    char bpath[96], fpath[96];
    enum xsim_blkback_state state;
    bool dup_done; /* the duplicate-response fault fired */
    struct xsim_rng rng;
    struct xsim_blkback_stats st;

    /* XenStore: our own dom0 connection carrying the watch */
    struct xsim_xs_conn *conn;
    char inbuf[sizeof(struct xsd_sockmsg) + XENSTORE_PAYLOAD_MAX];
    size_t inlen;
    uint64_t fe_ev;

    /* the ring */
    void *pages[BB_MAX_RING_PAGES];
    grant_ref_t refs[BB_MAX_RING_PAGES];
    unsigned int npages, nents;
    RING_IDX req_cons, rsp_prod_pvt, rsp_pushed;
    evtchn_port_t port;    /* ours */
    evtchn_port_t fe_port; /* the frontend's event-channel node */
    bool bound;
    bool connect_failed; /* until the frontend goes back to Initialising */
    uint64_t ring_ev;

    /* requests: waiting in ring order, and being served */
    struct bb_list wait, run;
    bool barrier_running;
    bool disconnecting;

    struct bb_stale stale[BB_MAX_STALE];
};

static void fe_schedule(struct xsim_blkback *b);
static void dispatch(struct xsim_blkback *b);

/* ---- small helpers ---- */

static void list_push(struct bb_list *l, struct bb_req *r, enum bb_where where)
{
    assert(r->where == ON_NONE && where == l->tag);
    r->next = NULL;
    r->prev = l->tail;
    if (l->tail != NULL)
        l->tail->next = r;
    else
        l->head = r;
    l->tail = r;
    l->n++;
    r->where = where;
}

static void list_del(struct bb_list *l, struct bb_req *r)
{
    assert(r->where == l->tag); /* a request is on exactly one queue */
    if (r->prev != NULL)
        r->prev->next = r->next;
    else
        l->head = r->next;
    if (r->next != NULL)
        r->next->prev = r->prev;
    else
        l->tail = r->prev;
    l->n--;
    r->where = ON_NONE;
}

/* Unmap whatever of the request's data grants is mapped (map_grants). */
static void unmap_data(struct bb_req *r)
{
    struct xsim_blkback *b = r->b;

    if (r->map == NULL)
        return;
    for (unsigned int i = 0; i < r->nseg; i++) {
        if (r->map[i] != NULL)
            (void)xsim_gnttab_unmap(b->hv, b->cfg.backend, b->cfg.guest, r->segs[i].gref,
                                    r->map_ro);
        r->map[i] = NULL;
    }
}

static void req_free(struct bb_req *r)
{
    unmap_data(r);
    free(r->map);
    if (r->segs != r->inl)
        free(r->segs);
    free(r);
}

static int xs_writef(struct xsim_blkback *b, const char *dir, const char *node, const char *fmt,
                     ...) __attribute__((format(printf, 4, 5)));
static int xs_writef(struct xsim_blkback *b, const char *dir, const char *node, const char *fmt,
                     ...)
{
    char path[160], val[128];
    va_list ap;

    snprintf(path, sizeof(path), "%s/%s", dir, node);
    va_start(ap, fmt);
    vsnprintf(val, sizeof(val), fmt, ap);
    va_end(ap);
    return xsim_xshost_write(b->xs, path, val);
}

/* Read <fpath>/<node> as an unsigned number; -ENOENT or -EINVAL. */
static int fe_read_uint(struct xsim_blkback *b, const char *node, unsigned long long *v)
{
    char path[160], buf[64], *end;
    int rc;

    snprintf(path, sizeof(path), "%s/%s", b->fpath, node);
    rc = xsim_xshost_read(b->xs, path, buf, sizeof(buf));
    if (rc != 0)
        return rc;
    if (buf[0] < '0' || buf[0] > '9')
        return -EINVAL;
    errno = 0;
    *v = strtoull(buf, &end, 10);
    return (errno != 0 || *end != '\0') ? -EINVAL : 0;
}

static int set_perms(struct xsim_blkback *b, const char *path, unsigned int owner,
                     unsigned int reader)
{
    char buf[256];
    int n = snprintf(buf, sizeof(buf), "%s%cn%u%cr%u", path, '\0', owner, '\0', reader);

    return xsim_xshost_request(b->xs, XS_SET_PERMS, buf, (uint32_t)n + 1, NULL, 0);
}

static void switch_state(struct xsim_blkback *b, enum xenbus_state s)
{
    (void)xs_writef(b, b->bpath, "state", "%d", (int)s);
}

static void fatal(struct xsim_blkback *b, const char *msg)
{
    (void)xs_writef(b, b->bpath, "error", "%s", msg);
}

/* Read-only by config, as a CD-ROM, or because the storage is. */
static bool is_ro(const struct xsim_blkback *b)
{
    return b->cfg.readonly || b->cfg.cdrom || xsim_storage_readonly(b->cfg.storage);
}

/* ---- the shared ring, which may straddle up to 16 separately mapped pages ---- */

static struct blkif_sring *sring(struct xsim_blkback *b)
{
    return b->pages[0];
}

static void ring_copy(struct xsim_blkback *b, size_t off, void *buf, size_t len, bool to_ring)
{
    uint8_t *p = buf;

    while (len > 0) {
        size_t pg = off / BB_PAGE, in = off % BB_PAGE;
        size_t n = BB_PAGE - in < len ? BB_PAGE - in : len;
        uint8_t *page = (uint8_t *)b->pages[pg] + in;
        if (to_ring)
            memcpy(page, p, n);
        else
            memcpy(p, page, n);
        p += n;
        off += n;
        len -= n;
    }
}

static size_t slot_off(const struct xsim_blkback *b, RING_IDX i)
{
    return offsetof(struct blkif_sring, ring) +
           (size_t)(i & (b->nents - 1)) * sizeof(union blkif_sring_entry);
}

static RING_IDX load_idx(RING_IDX *p)
{
    return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

/* Write one response and publish it; notify per the rsp_event rule. */
static void respond(struct xsim_blkback *b, uint64_t id, uint8_t op, int16_t status)
{
    struct blkif_response rsp = {.id = id, .operation = op, .status = status};
    struct blkif_sring *sr = sring(b);
    RING_IDX old = b->rsp_pushed, new;

    ring_copy(b, slot_off(b, b->rsp_prod_pvt), &rsp, sizeof(rsp), true);
    b->rsp_prod_pvt++;
    new = b->rsp_prod_pvt;
    /* The slot must be visible before the index that publishes it. */
    __atomic_store_n(&sr->rsp_prod, new, __ATOMIC_RELEASE);
    b->rsp_pushed = new;
    /* Publish before reading rsp_event: the frontend sets rsp_event and then
     * re-checks rsp_prod, so one of us sees the other. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    b->st.responses++;
    if (status == BLKIF_RSP_ERROR)
        b->st.errors++;
    else if (status == BLKIF_RSP_EOPNOTSUPP)
        b->st.eopnotsupp++;
    if ((RING_IDX)(new - load_idx(&sr->rsp_event)) < (RING_IDX)(new - old)) {
        b->st.notifies_sent++;
        (void)xsim_hv_evtchn_send(b->hv, b->cfg.backend, b->port);
    }
}

/* ---- state changes ---- */

static void cancel(struct xsim_blkback *b, uint64_t *ev)
{
    if (*ev != 0)
        (void)xsim_event_cancel(b->w, *ev);
    *ev = 0;
}

static void drop_requests(struct xsim_blkback *b)
{
    struct bb_req *r;

    while ((r = b->wait.head) != NULL) {
        list_del(&b->wait, r);
        req_free(r);
    }
    while ((r = b->run.head) != NULL) {
        cancel(b, &r->ev);
        list_del(&b->run, r);
        req_free(r);
    }
    b->barrier_running = false;
    b->st.in_flight = 0;
}

/* Release the ring and the port (no request may be left). */
static void unmap_ring(struct xsim_blkback *b)
{
    cancel(b, &b->ring_ev);
    if (b->bound) {
        (void)xsim_hv_set_port_notify(b->hv, b->cfg.backend, b->port, NULL, NULL);
        (void)xsim_hv_evtchn_close(b->hv, b->cfg.backend, b->port);
        b->bound = false;
    }
    for (unsigned int i = 0; i < b->npages; i++) {
        if (b->pages[i] != NULL)
            (void)xsim_gnttab_unmap(b->hv, b->cfg.backend, b->cfg.guest, b->refs[i], false);
        b->pages[i] = NULL;
    }
    b->npages = 0;
    b->nents = 0;
    b->st.ring_pages = 0;
}

static void stale_stop_all(struct xsim_blkback *b);

static void finish_disconnect(struct xsim_blkback *b)
{
    stale_stop_all(b);
    unmap_ring(b);
    b->disconnecting = false;
    b->state = XSIM_BLKBACK_CLOSED;
    b->st.disconnects++;
    switch_state(b, XenbusStateClosed);
    fe_schedule(b); /* the frontend may already be back at Initialising */
}

static void disconnect(struct xsim_blkback *b)
{
    if (b->disconnecting)
        return;
    b->disconnecting = true;
    cancel(b, &b->ring_ev);
    /* In-flight requests finish first (their grants are still in use);
     * requests consumed but held (behind a barrier) are started too. */
    if (b->wait.n == 0 && b->run.n == 0)
        finish_disconnect(b);
    else
        dispatch(b);
}

static void broken(struct xsim_blkback *b, const char *why)
{
    b->state = XSIM_BLKBACK_BROKEN;
    cancel(b, &b->ring_ev);
    fatal(b, why);
    switch_state(b, XenbusStateClosing);
    dispatch(b); /* what was consumed before the violation is still answered */
}

static void go_initwait(struct xsim_blkback *b)
{
    const struct xsim_blkback_features *f = &b->cfg.features;
    char path[160];

    (void)xs_writef(b, b->bpath, "feature-flush-cache", "%d", f->flush ? 1 : 0);
    (void)xs_writef(b, b->bpath, "feature-barrier", "%d", f->barrier ? 1 : 0);
    (void)xs_writef(b, b->bpath, "feature-discard", "%d", f->discard ? 1 : 0);
    if (f->discard) {
        (void)xs_writef(b, b->bpath, "discard-granularity", "%u", XSIM_SECTOR_SIZE);
        (void)xs_writef(b, b->bpath, "discard-alignment", "0");
    }
    if (f->max_indirect_segs > 0)
        (void)xs_writef(b, b->bpath, "feature-max-indirect-segments", "%u", f->max_indirect_segs);
    (void)xs_writef(b, b->bpath, "max-ring-page-order", "%u", f->max_ring_page_order);
    /* A new attempt: an error left by the last one no longer applies. */
    snprintf(path, sizeof(path), "%s/error", b->bpath);
    (void)xsim_xshost_request(b->xs, XS_RM, path, (uint32_t)strlen(path) + 1, NULL, 0);
    b->state = XSIM_BLKBACK_INITWAIT;
    switch_state(b, XenbusStateInitWait);
}

static void port_notify(void *arg, domid_t domid, evtchn_port_t port);

/* Map the ring, bind the port, publish the disk: InitWait -> Connected. */
static int connect(struct xsim_blkback *b)
{
    unsigned long long order = 0, v, evt;
    unsigned int n = 1;
    char path[160], proto[32];
    int rc;

    rc = fe_read_uint(b, "ring-page-order", &order);
    if (rc == 0) {
        if (order > b->cfg.features.max_ring_page_order) {
            fatal(b, "ring-page-order above max-ring-page-order");
            return -EINVAL;
        }
        n = 1u << order;
    } else if (rc != -ENOENT) {
        fatal(b, "bad ring-page-order");
        return -EINVAL;
    }
    for (unsigned int i = 0; i < n; i++) {
        char node[32];
        if (rc == -ENOENT)
            snprintf(node, sizeof(node), "ring-ref");
        else
            snprintf(node, sizeof(node), "ring-ref%u", i);
        /* Order 0 written with a plain ring-ref is accepted too. */
        if (fe_read_uint(b, node, &v) != 0 && !(n == 1 && fe_read_uint(b, "ring-ref", &v) == 0)) {
            fatal(b, "missing or bad ring-ref");
            return -EINVAL;
        }
        if (v > UINT32_MAX) {
            fatal(b, "missing or bad ring-ref");
            return -EINVAL;
        }
        b->refs[i] = (grant_ref_t)v;
    }
    if (fe_read_uint(b, "event-channel", &evt) != 0 || evt > UINT32_MAX) {
        fatal(b, "missing or bad event-channel");
        return -EINVAL;
    }
    snprintf(path, sizeof(path), "%s/protocol", b->fpath);
    if (xsim_xshost_read(b->xs, path, proto, sizeof(proto)) == 0 &&
        strcmp(proto, "x86_64-abi") != 0) {
        fatal(b, "unsupported protocol");
        return -EINVAL;
    }
    b->npages = n;
    for (unsigned int i = 0; i < n; i++) {
        rc = xsim_gnttab_map(b->hv, b->cfg.backend, b->cfg.guest, b->refs[i], false, &b->pages[i]);
        if (rc != 0) {
            b->pages[i] = NULL;
            unmap_ring(b);
            fatal(b, "mapping ring");
            return rc;
        }
    }
    rc = xsim_hv_evtchn_bind_interdomain(b->hv, b->cfg.backend, b->cfg.guest, (evtchn_port_t)evt,
                                         &b->port);
    if (rc != 0) {
        unmap_ring(b);
        fatal(b, "binding event channel");
        return rc;
    }
    b->bound = true;
    b->fe_port = (evtchn_port_t)evt;
    (void)xsim_hv_set_port_notify(b->hv, b->cfg.backend, b->port, port_notify, b);
    b->nents = (unsigned int)__CONST_RING_SIZE(blkif, (size_t)n * BB_PAGE);
    /* A fresh ring starts at 0 (the frontend ran SHARED_RING_INIT). */
    b->req_cons = b->rsp_prod_pvt = b->rsp_pushed = 0;
    b->st.ring_pages = n;
    b->st.connects++;

    (void)xs_writef(b, b->bpath, "sectors", "%llu",
                    (unsigned long long)xsim_storage_sectors(b->cfg.storage));
    (void)xs_writef(b, b->bpath, "info", "%u",
                    (b->cfg.cdrom ? VDISK_CDROM | VDISK_REMOVABLE : 0u) |
                        (is_ro(b) ? VDISK_READONLY : 0u));
    (void)xs_writef(b, b->bpath, "sector-size", "%u", XSIM_SECTOR_SIZE);
    (void)xs_writef(b, b->bpath, "physical-sector-size", "%u", XSIM_SECTOR_SIZE);
    b->state = XSIM_BLKBACK_CONNECTED;
    switch_state(b, XenbusStateConnected);
    return 0;
}

static enum xenbus_state fe_state(struct xsim_blkback *b)
{
    unsigned long long v;

    if (fe_read_uint(b, "state", &v) != 0 || v > XenbusStateReconfigured)
        return XenbusStateUnknown;
    return (enum xenbus_state)v;
}

/* Whether the frontend's event channel is no longer the one we bound. */
static bool fe_restarted(struct xsim_blkback *b)
{
    unsigned long long evt;

    return fe_read_uint(b, "event-channel", &evt) == 0 && evt != b->fe_port;
}

/* One reaction to the frontend's state (deferred from the watch). */
static void fe_changed(struct xsim_world *w, void *arg)
{
    struct xsim_blkback *b = arg;
    enum xenbus_state fe;

    (void)w;
    b->fe_ev = 0;
    if (b->disconnecting)
        return; /* finish_disconnect looks again */
    fe = fe_state(b);
    switch (fe) {
    case XenbusStateInitialised:
    case XenbusStateConnected:
        /* Watch events coalesce: a frontend that went through Initialising
         * to Initialised faster than we looked shows up here either as a
         * new event channel while we are connected, or while we are
         * Closed after a disconnect (not after a failed connect). */
        if (b->state == XSIM_BLKBACK_CONNECTED && fe_restarted(b)) {
            disconnect(b);
            break;
        }
        if (b->state == XSIM_BLKBACK_CLOSED && !b->connect_failed)
            go_initwait(b);
        if (b->state == XSIM_BLKBACK_INITWAIT && connect(b) != 0) {
            b->connect_failed = true;
            b->state = XSIM_BLKBACK_CLOSED;
            switch_state(b, XenbusStateClosed);
        }
        break;
    case XenbusStateClosing:
    case XenbusStateClosed:
        if (b->state == XSIM_BLKBACK_CONNECTED || b->state == XSIM_BLKBACK_BROKEN) {
            disconnect(b);
        } else if (b->state == XSIM_BLKBACK_INITWAIT) {
            b->state = XSIM_BLKBACK_CLOSED;
            switch_state(b, XenbusStateClosed);
        }
        break;
    case XenbusStateInitialising:
        /* A frontend that starts over (reconnect, resume): follow it. */
        b->connect_failed = false;
        if (b->state == XSIM_BLKBACK_CLOSED)
            go_initwait(b);
        else if (b->state == XSIM_BLKBACK_CONNECTED || b->state == XSIM_BLKBACK_BROKEN)
            disconnect(b);
        break;
    default:
        break;
    }
}

static void fe_schedule(struct xsim_blkback *b)
{
    if (b->fe_ev == 0)
        b->fe_ev = xsim_event_schedule(b->w, xsim_world_now(b->w), KIND_FE, fe_changed, b);
}

/* Watch events arrive inside someone else's store request: only parse and
 * defer (re-entering the store here is forbidden). */
static void xs_output_ready(void *ctx, struct xsim_xs_conn *conn)
{
    struct xsim_blkback *b = ctx;
    const size_t hdr = sizeof(struct xsd_sockmsg);

    for (;;) {
        size_t got = xsim_xs_conn_output(conn, b->inbuf + b->inlen, sizeof(b->inbuf) - b->inlen);
        b->inlen += got;
        while (b->inlen >= hdr) {
            struct xsd_sockmsg m;
            memcpy(&m, b->inbuf, hdr);
            if (m.len > XENSTORE_PAYLOAD_MAX) {
                b->inlen = 0; /* cannot happen with our daemon; resync */
                break;
            }
            if (b->inlen < hdr + m.len)
                break;
            if (m.type == XS_WATCH_EVENT)
                fe_schedule(b);
            memmove(b->inbuf, b->inbuf + hdr + m.len, b->inlen - hdr - m.len);
            b->inlen -= hdr + m.len;
        }
        if (got == 0)
            break;
    }
}

static const struct xsim_xs_conn_ops xs_ops = {.output_ready = xs_output_ready};

/* ---- requests ---- */

/* Sectors of a segment list, or -1 if a segment is malformed. */
static int64_t seg_sectors(const struct blkif_request_segment *s, unsigned int n)
{
    int64_t total = 0;

    for (unsigned int i = 0; i < n; i++) {
        if (s[i].first_sect > s[i].last_sect || s[i].last_sect >= XG_BLKIF_SECTORS_PER_PAGE)
            return -1;
        total += s[i].last_sect - s[i].first_sect + 1;
    }
    return total;
}

/* Copy an indirect request's segments out of its granted pages, once. */
static int16_t load_indirect(struct xsim_blkback *b, struct bb_req *r,
                             const struct blkif_request_indirect *ind)
{
    unsigned int n = ind->nr_segments, pages;

    if (n == 0 || n > b->cfg.features.max_indirect_segs || n > XG_BLKIF_MAX_INDIRECT_SEGMENTS)
        return BLKIF_RSP_ERROR;
    r->segs = calloc(n, sizeof(*r->segs));
    if (r->segs == NULL) {
        r->segs = r->inl;
        return BLKIF_RSP_ERROR;
    }
    r->nseg = n;
    pages = (n + XG_BLKIF_SEGS_PER_INDIRECT_PAGE - 1) / XG_BLKIF_SEGS_PER_INDIRECT_PAGE;
    for (unsigned int p = 0; p < pages; p++) {
        void *page;
        unsigned int cnt = n - p * XG_BLKIF_SEGS_PER_INDIRECT_PAGE;
        if (cnt > XG_BLKIF_SEGS_PER_INDIRECT_PAGE)
            cnt = XG_BLKIF_SEGS_PER_INDIRECT_PAGE;
        if (xsim_gnttab_map(b->hv, b->cfg.backend, b->cfg.guest, ind->indirect_grefs[p], true,
                            &page) != 0)
            return BLKIF_RSP_ERROR;
        memcpy(r->segs + p * XG_BLKIF_SEGS_PER_INDIRECT_PAGE, page, cnt * sizeof(*r->segs));
        (void)xsim_gnttab_unmap(b->hv, b->cfg.backend, b->cfg.guest, ind->indirect_grefs[p], true);
    }
    return BLKIF_RSP_OKAY;
}

/* Decode and check one request (our private copy). */
static int16_t parse(struct xsim_blkback *b, struct bb_req *r, const union blkif_sring_entry *e)
{
    const struct blkif_request *req = &e->req;
    const struct xsim_blkback_features *f = &b->cfg.features;
    bool ro = is_ro(b);
    uint64_t cap = xsim_storage_sectors(b->cfg.storage);
    int64_t ns;

    r->id = req->id;
    r->op = req->operation;
    r->sector = req->sector_number;
    switch (req->operation) {
    case BLKIF_OP_READ:
    case BLKIF_OP_WRITE:
        if (req->nr_segments == 0 || req->nr_segments > BLKIF_MAX_SEGMENTS_PER_REQUEST)
            return BLKIF_RSP_ERROR;
        r->kind = req->operation;
        r->nseg = req->nr_segments;
        memcpy(r->inl, req->seg, r->nseg * sizeof(r->inl[0]));
        req->operation == BLKIF_OP_READ ? b->st.reads++ : b->st.writes++;
        break;
    case BLKIF_OP_WRITE_BARRIER:
        b->st.barriers++;
        if (!f->barrier)
            return BLKIF_RSP_EOPNOTSUPP;
        if (req->nr_segments > BLKIF_MAX_SEGMENTS_PER_REQUEST)
            return BLKIF_RSP_ERROR;
        r->kind = BLKIF_OP_WRITE_BARRIER;
        r->nseg = req->nr_segments;
        memcpy(r->inl, req->seg, r->nseg * sizeof(r->inl[0]));
        break;
    case BLKIF_OP_FLUSH_DISKCACHE:
        b->st.flushes++;
        if (!f->flush)
            return BLKIF_RSP_EOPNOTSUPP;
        r->kind = BLKIF_OP_FLUSH_DISKCACHE; /* segments, if any, are ignored */
        return BLKIF_RSP_OKAY;
    case BLKIF_OP_DISCARD: {
        struct blkif_request_discard dd;
        const struct blkif_request_discard *d = &dd;
        memcpy(&dd, e, sizeof(dd));
        b->st.discards++;
        /* We never write discard-secure, so a secure erase is refused. */
        if (!f->discard || (d->flag & BLKIF_DISCARD_SECURE) != 0)
            return BLKIF_RSP_EOPNOTSUPP;
        if (ro || d->sector_number > cap || d->nr_sectors > cap - d->sector_number)
            return BLKIF_RSP_ERROR;
        r->kind = BLKIF_OP_DISCARD;
        r->sector = d->sector_number;
        r->nsect = d->nr_sectors;
        return BLKIF_RSP_OKAY;
    }
    case BLKIF_OP_INDIRECT: {
        struct blkif_request_indirect ii;
        const struct blkif_request_indirect *ind = &ii;
        int16_t st;
        memcpy(&ii, e, sizeof(ii));
        b->st.indirect++;
        if (f->max_indirect_segs == 0 ||
            (ind->indirect_op != BLKIF_OP_READ && ind->indirect_op != BLKIF_OP_WRITE))
            return BLKIF_RSP_ERROR;
        r->kind = ind->indirect_op;
        r->sector = ind->sector_number;
        st = load_indirect(b, r, ind);
        if (st != BLKIF_RSP_OKAY)
            return st;
        ind->indirect_op == BLKIF_OP_READ ? b->st.reads++ : b->st.writes++;
        break;
    }
    default:
        return BLKIF_RSP_ERROR;
    }
    /* READ, WRITE, BARRIER (possibly without data), INDIRECT */
    ns = seg_sectors(r->segs, r->nseg);
    if (ns < 0)
        return BLKIF_RSP_ERROR;
    r->nsect = (uint64_t)ns;
    if (r->kind != BLKIF_OP_READ && ro && r->nsect > 0)
        return BLKIF_RSP_ERROR;
    if (r->sector > cap || r->nsect > cap - r->sector)
        return BLKIF_RSP_ERROR;
    return BLKIF_RSP_OKAY;
}

/* Move data between the storage and the granted segments. */
static int16_t do_rw(struct xsim_blkback *b, struct bb_req *r, bool write)
{
    uint8_t *buf;
    size_t off = 0;
    int rc = 0;

    if (r->nsect == 0)
        return BLKIF_RSP_OKAY;
    buf = malloc(r->nsect * XSIM_SECTOR_SIZE);
    if (buf == NULL)
        return BLKIF_RSP_ERROR;
    if (!write)
        rc = xsim_storage_read(b->cfg.storage, r->sector, (uint32_t)r->nsect, buf);
    for (unsigned int i = 0; rc == 0 && i < r->nseg; i++) {
        const struct blkif_request_segment *s = &r->segs[i];
        uint32_t len = (uint32_t)(s->last_sect - s->first_sect + 1) * XSIM_SECTOR_SIZE;
        if (r->map != NULL) {
            /* Through the mapping taken at the start. */
            uint8_t *page = (uint8_t *)r->map[i] + s->first_sect * XSIM_SECTOR_SIZE;
            write ? memcpy(buf + off, page, len) : memcpy(page, buf + off, len);
            off += len;
            continue;
        }
        /* Reads land in a writable grant, writes come from any grant. */
        rc = xsim_gnttab_copy(b->hv, b->cfg.backend, b->cfg.guest, s->gref, !write,
                              (uint32_t)s->first_sect * XSIM_SECTOR_SIZE, buf + off, len);
        if (rc != 0)
            b->st.bad_requests++; /* a bad or read-only grant reference */
        off += len;
    }
    if (rc == 0 && write)
        rc = xsim_storage_write(b->cfg.storage, r->sector, (uint32_t)r->nsect, buf);
    free(buf);
    return rc == 0 ? BLKIF_RSP_OKAY : BLKIF_RSP_ERROR;
}

static int16_t flush_status(int rc)
{
    return rc == 0 ? BLKIF_RSP_OKAY : rc == -EOPNOTSUPP ? BLKIF_RSP_EOPNOTSUPP : BLKIF_RSP_ERROR;
}

static int16_t serve(struct xsim_blkback *b, struct bb_req *r)
{
    const struct xsim_storage_faults *sf = xsim_storage_faults(b->cfg.storage);
    int16_t st;

    switch (r->kind) {
    case BLKIF_OP_READ:
        return do_rw(b, r, false);
    case BLKIF_OP_WRITE:
        return do_rw(b, r, true);
    case BLKIF_OP_WRITE_BARRIER:
        if (b->cfg.refuse_barrier || sf->refuse_barrier)
            return BLKIF_RSP_EOPNOTSUPP;
        st = do_rw(b, r, true);
        return st != BLKIF_RSP_OKAY ? st : flush_status(xsim_storage_flush(b->cfg.storage));
    case BLKIF_OP_FLUSH_DISKCACHE:
        if (b->cfg.refuse_flush)
            return BLKIF_RSP_EOPNOTSUPP;
        return flush_status(xsim_storage_flush(b->cfg.storage));
    case BLKIF_OP_DISCARD:
        return flush_status(xsim_storage_discard(b->cfg.storage, r->sector, r->nsect));
    default:
        return BLKIF_RSP_ERROR;
    }
}

/* map_grants: map every data segment's grant for the request's whole
 * service time. A read writes the guest's pages, so it needs writable
 * mappings; a write only reads them. */
static int16_t map_data(struct xsim_blkback *b, struct bb_req *r)
{
    if (r->nsect == 0 || r->nseg == 0 ||
        (r->kind != BLKIF_OP_READ && r->kind != BLKIF_OP_WRITE &&
         r->kind != BLKIF_OP_WRITE_BARRIER))
        return BLKIF_RSP_OKAY;
    r->map = calloc(r->nseg, sizeof(*r->map));
    if (r->map == NULL)
        return BLKIF_RSP_ERROR;
    r->map_ro = r->kind != BLKIF_OP_READ;
    for (unsigned int i = 0; i < r->nseg; i++) {
        if (xsim_gnttab_map(b->hv, b->cfg.backend, b->cfg.guest, r->segs[i].gref, r->map_ro,
                            &r->map[i]) != 0) {
            r->map[i] = NULL;
            unmap_data(r);
            b->st.bad_requests++; /* a bad or read-only grant reference */
            return BLKIF_RSP_ERROR;
        }
    }
    return BLKIF_RSP_OKAY;
}

/* ---- the stale_map fault ---- */

static void stale_stop(struct bb_stale *s)
{
    struct xsim_blkback *b = s->b;

    cancel(b, &s->ev);
    if (s->mapped)
        (void)xsim_gnttab_unmap(b->hv, b->cfg.backend, b->cfg.guest, s->ref, true);
    s->mapped = false;
    s->b = NULL;
}

/* One step of a stale mapper: unmap what it holds, or map again while its
 * time lasts. Each map is held for one step, so that it spans whatever
 * the frontend does meanwhile. */
static void stale_fire(struct xsim_world *w, void *arg)
{
    struct bb_stale *s = arg;
    struct xsim_blkback *b = s->b;
    uint64_t now = xsim_world_now(w);
    void *page;

    s->ev = 0;
    if (s->mapped) {
        (void)xsim_gnttab_unmap(b->hv, b->cfg.backend, b->cfg.guest, s->ref, true);
        s->mapped = false;
    } else if (now >= s->until_ns) {
        s->b = NULL;
        return;
    } else {
        b->st.stale_maps++;
        /* Xen refuses the map unless the entry grants a page to us now. */
        if (xsim_gnttab_map(b->hv, b->cfg.backend, b->cfg.guest, s->ref, true, &page) == 0) {
            b->st.stale_mapped++;
            s->mapped = true;
        }
    }
    s->ev = xsim_event_schedule(w, now + BB_STALE_STEP_NS, KIND_STALE, stale_fire, s);
    if (s->ev == 0)
        stale_stop(s);
}

/* Keep mapping `ref` for twice the service latency: the policy decides
 * where the maps fall against what the frontend does with the grant. */
static void stale_start(struct xsim_blkback *b, grant_ref_t ref)
{
    uint64_t now = xsim_world_now(b->w);

    for (unsigned int i = 0; i < BB_MAX_STALE; i++) {
        struct bb_stale *s = &b->stale[i];
        if (s->b != NULL)
            continue;
        *s = (struct bb_stale){.b = b, .ref = ref, .until_ns = now + 2 * b->cfg.latency_ns};
        s->ev = xsim_event_schedule(b->w, now, KIND_STALE, stale_fire, s);
        if (s->ev == 0)
            s->b = NULL;
        return;
    }
}

static void stale_stop_all(struct xsim_blkback *b)
{
    for (unsigned int i = 0; i < BB_MAX_STALE; i++)
        if (b->stale[i].b != NULL)
            stale_stop(&b->stale[i]);
}

static void complete(struct xsim_world *w, void *arg)
{
    struct bb_req *r = arg;
    struct xsim_blkback *b = r->b;
    int16_t st = r->status;

    (void)w;
    r->ev = 0;
    if (st == BLKIF_RSP_OKAY)
        st = serve(b, r);
    /* The frontend ends access once it sees the response: let go first. */
    unmap_data(r);
    list_del(&b->run, r);
    if (r->kind == BLKIF_OP_WRITE_BARRIER)
        b->barrier_running = false;
    b->st.in_flight = b->wait.n + b->run.n;
    respond(b, r->id, r->op, st);
    if (b->cfg.duplicate_response != 0 && !b->dup_done &&
        b->st.responses >= b->cfg.duplicate_response && b->st.in_flight > 0) {
        /* The duplicate-response fault: the same answer again. */
        b->dup_done = true;
        respond(b, r->id, r->op, st);
    }
    if (b->cfg.stale_map != 0 && b->st.responses % b->cfg.stale_map == 0 && r->nseg > 0 &&
        (r->kind == BLKIF_OP_READ || r->kind == BLKIF_OP_WRITE))
        stale_start(b, r->segs[0].gref);
    req_free(r);
    if (b->disconnecting && b->wait.n == 0 && b->run.n == 0) {
        finish_disconnect(b);
        return;
    }
    dispatch(b);
}

static void start(struct xsim_blkback *b, struct bb_req *r)
{
    uint64_t base = b->cfg.latency_ns + b->cfg.ns_per_sector * r->nsect;
    uint64_t ns = base;

    if (b->cfg.jitter > 0)
        ns += (uint64_t)((double)base * b->cfg.jitter * xsim_rng_unit(&b->rng));
    list_push(&b->run, r, ON_RUN);
    if (b->cfg.map_grants && r->status == BLKIF_RSP_OKAY)
        r->status = map_data(b, r);
    if (r->status == BLKIF_RSP_OKAY && r->kind == BLKIF_OP_WRITE_BARRIER)
        b->barrier_running = true;
    xsim_count(b->w, XSIM_COST_BACKEND, ns);
    r->ev = xsim_event_schedule(b->w, xsim_world_now(b->w) + ns, KIND_DONE, complete, r);
    if (r->ev == 0) {
        r->status = BLKIF_RSP_ERROR; /* event queue full: fail it now */
        complete(b->w, r);
    }
}

/* Start waiting requests in ring order: a barrier waits for everything
 * before it to complete, and nothing after it starts until it completes. */
static void dispatch(struct xsim_blkback *b)
{
    struct bb_req *r;

    while ((r = b->wait.head) != NULL) {
        bool barrier = r->status == BLKIF_RSP_OKAY && r->kind == BLKIF_OP_WRITE_BARRIER;
        if (b->barrier_running || (barrier && b->run.n > 0))
            break;
        list_del(&b->wait, r);
        start(b, r);
    }
}

static void process_ring(struct xsim_world *w, void *arg)
{
    struct xsim_blkback *b = arg;
    struct blkif_sring *sr;
    unsigned int budget;

    (void)w;
    b->ring_ev = 0;
    if (b->state != XSIM_BLKBACK_CONNECTED || b->disconnecting)
        return;
    sr = sring(b);
    budget = b->nents;
    for (;;) {
        /* Read the producer once; rmb (acquire) before reading slots. */
        RING_IDX rp = load_idx(&sr->req_prod);
        if ((RING_IDX)(rp - b->req_cons) > b->nents) {
            broken(b, "request producer index more than a ring ahead");
            return;
        }
        while (b->req_cons != rp) {
            union blkif_sring_entry e;
            struct bb_req *r;
            if (budget-- == 0) {
                /* Bounded work per event: come back for the rest. */
                b->ring_ev =
                    xsim_event_schedule(b->w, xsim_world_now(b->w), KIND_RING, process_ring, b);
                dispatch(b);
                return;
            }
            if ((RING_IDX)(b->req_cons - b->rsp_prod_pvt) >= b->nents) {
                broken(b, "more requests than ring slots");
                return;
            }
            /* Copy the request out once and use only the copy (XSA-155). */
            ring_copy(b, slot_off(b, b->req_cons), &e, sizeof(e), false);
            b->req_cons++;
            b->st.requests++;
            r = calloc(1, sizeof(*r));
            if (r == NULL) {
                respond(b, e.req.id, e.req.operation, BLKIF_RSP_ERROR);
                continue;
            }
            r->b = b;
            r->segs = r->inl;
            r->status = parse(b, r, &e);
            if (r->status == BLKIF_RSP_ERROR)
                b->st.bad_requests++;
            list_push(&b->wait, r, ON_WAIT);
            b->st.in_flight = b->wait.n + b->run.n;
        }
        /* Ask for a notify at the next request, then look once more. */
        __atomic_store_n(&sr->req_event, b->req_cons + 1, __ATOMIC_RELAXED);
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        if (load_idx(&sr->req_prod) == b->req_cons)
            break;
    }
    dispatch(b);
}

static void port_notify(void *arg, domid_t domid, evtchn_port_t port)
{
    struct xsim_blkback *b = arg;

    (void)domid;
    (void)port;
    b->st.notifies_received++;
    if (b->ring_ev == 0 && b->state == XSIM_BLKBACK_CONNECTED && !b->disconnecting)
        b->ring_ev = xsim_event_schedule(b->w, xsim_world_now(b->w), KIND_RING, process_ring, b);
}

/* ---- public ---- */

void xsim_blkback_config_init(struct xsim_blkback_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->backend = 0;
    cfg->guest = 1;
    cfg->devid = 51712;
    cfg->features.flush = true;
    cfg->features.barrier = true;
    cfg->features.discard = true;
    cfg->features.max_indirect_segs = 256;
    cfg->features.max_ring_page_order = 4;
}

static int write_nodes(struct xsim_blkback *b)
{
    const char *type = b->cfg.cdrom ? "cdrom" : "disk";
    int rc;

    /* A new device starts from empty directories, as libxl's do: nodes a
     * previous incarnation left (ring-page-order, error...) must not leak
     * into this handshake. */
    (void)xsim_xshost_request(b->xs, XS_RM, b->fpath, (uint32_t)strlen(b->fpath) + 1, NULL, 0);
    (void)xsim_xshost_request(b->xs, XS_RM, b->bpath, (uint32_t)strlen(b->bpath) + 1, NULL, 0);
    if ((rc = xsim_xshost_write(b->xs, b->fpath, "")) != 0 ||
        (rc = set_perms(b, b->fpath, b->cfg.guest, b->cfg.backend)) != 0 ||
        (rc = xs_writef(b, b->fpath, "backend", "%s", b->bpath)) != 0 ||
        (rc = xs_writef(b, b->fpath, "backend-id", "%u", b->cfg.backend)) != 0 ||
        (rc = xs_writef(b, b->fpath, "state", "%d", XenbusStateInitialising)) != 0 ||
        (rc = xs_writef(b, b->fpath, "virtual-device", "%u", b->cfg.devid)) != 0 ||
        (rc = xs_writef(b, b->fpath, "device-type", "%s", type)) != 0)
        return rc;
    if ((rc = xsim_xshost_write(b->xs, b->bpath, "")) != 0 ||
        (rc = set_perms(b, b->bpath, b->cfg.backend, b->cfg.guest)) != 0 ||
        (rc = xs_writef(b, b->bpath, "frontend", "%s", b->fpath)) != 0 ||
        (rc = xs_writef(b, b->bpath, "frontend-id", "%u", b->cfg.guest)) != 0 ||
        (rc = xs_writef(b, b->bpath, "online", "1")) != 0 ||
        (rc = xs_writef(b, b->bpath, "state", "%d", XenbusStateInitialising)) != 0 ||
        (rc = xs_writef(b, b->bpath, "mode", "%s", is_ro(b) ? "r" : "w")) != 0 ||
        (rc = xs_writef(b, b->bpath, "device-type", "%s", type)) != 0 ||
        (rc = xs_writef(b, b->bpath, "params", "xensim:%s:%u", type, b->cfg.devid)) != 0 ||
        (rc = xs_writef(b, b->bpath, "removable", "%d", b->cfg.cdrom ? 1 : 0)) != 0)
        return rc;
    return 0;
}

static int watch(struct xsim_blkback *b, uint32_t type)
{
    char buf[sizeof(struct xsd_sockmsg) + 256];
    struct xsd_sockmsg m = {.type = type, .req_id = 1, .tx_id = 0};
    int n = snprintf(buf + sizeof(m), sizeof(buf) - sizeof(m), "%s/state%cblkback", b->fpath, '\0');

    m.len = (uint32_t)n + 1;
    memcpy(buf, &m, sizeof(m));
    return xsim_xs_conn_input(b->conn, buf, sizeof(m) + m.len) < 0 ? -EIO : 0;
}

int xsim_blkback_create(struct xsim_world *w, struct xsim_hv *hv, struct xsim_xshost *xs,
                        const struct xsim_blkback_config *cfg, struct xsim_blkback **out)
{
    struct xsim_blkback *b;
    char stream[64];
    int rc;

    *out = NULL;
    if (w == NULL || hv == NULL || xs == NULL || cfg == NULL || cfg->storage == NULL ||
        cfg->features.max_ring_page_order > BB_MAX_RING_ORDER || cfg->jitter < 0 || cfg->jitter > 1)
        return -EINVAL;
    b = calloc(1, sizeof(*b));
    if (b == NULL)
        return -ENOMEM;
    b->w = w;
    b->hv = hv;
    b->xs = xs;
    b->wait.tag = ON_WAIT;
    b->run.tag = ON_RUN;
    b->cfg = *cfg;
    if (b->cfg.latency_ns == 0)
        b->cfg.latency_ns = 20000;
    if (b->cfg.ns_per_sector == 0)
        b->cfg.ns_per_sector = 2;
    if (b->cfg.features.max_indirect_segs > XG_BLKIF_MAX_INDIRECT_SEGMENTS)
        b->cfg.features.max_indirect_segs = XG_BLKIF_MAX_INDIRECT_SEGMENTS;
    if (cfg->stream == NULL)
        snprintf(stream, sizeof(stream), "blkback:%u", cfg->devid);
    xsim_world_rng(w, cfg->stream != NULL ? cfg->stream : stream, &b->rng);
    b->cfg.stream = NULL; /* borrowed only here */
    snprintf(b->fpath, sizeof(b->fpath), "/local/domain/%u/device/vbd/%u", cfg->guest, cfg->devid);
    snprintf(b->bpath, sizeof(b->bpath), "/local/domain/%u/backend/vbd/%u/%u", cfg->backend,
             cfg->guest, cfg->devid);
    b->state = XSIM_BLKBACK_CLOSED;
    rc = write_nodes(b);
    if (rc == 0)
        rc = xsim_xs_conn_open(xsim_xshost_store(xs), cfg->backend, true, &xs_ops, b, &b->conn);
    if (rc == 0) {
        go_initwait(b);
        rc = watch(b, XS_WATCH);
    }
    if (rc != 0) {
        xsim_blkback_destroy(b);
        return rc;
    }
    *out = b;
    return 0;
}

void xsim_blkback_destroy(struct xsim_blkback *b)
{
    if (b == NULL)
        return;
    cancel(b, &b->fe_ev);
    drop_requests(b);
    stale_stop_all(b);
    unmap_ring(b);
    if (b->conn != NULL)
        xsim_xs_conn_close(b->conn);
    free(b);
}

int xsim_blkback_remove(struct xsim_blkback *b)
{
    char path[160];
    int rc;

    switch_state(b, XenbusStateClosing);
    if (b->conn != NULL)
        (void)watch(b, XS_UNWATCH);
    cancel(b, &b->fe_ev);
    drop_requests(b);
    stale_stop_all(b);
    unmap_ring(b);
    b->disconnecting = false;
    if (b->state == XSIM_BLKBACK_CONNECTED || b->state == XSIM_BLKBACK_BROKEN)
        b->st.disconnects++;
    b->state = XSIM_BLKBACK_CLOSED;
    switch_state(b, XenbusStateClosed);
    snprintf(path, sizeof(path), "%s", b->bpath);
    rc = xsim_xshost_request(b->xs, XS_RM, path, (uint32_t)strlen(path) + 1, NULL, 0);
    if (rc == 0)
        rc = xsim_xshost_request(b->xs, XS_RM, b->fpath, (uint32_t)strlen(b->fpath) + 1, NULL, 0);
    return rc;
}

enum xsim_blkback_state xsim_blkback_state(const struct xsim_blkback *b)
{
    return b->state;
}

int xsim_blkback_media_change(struct xsim_blkback *b, uint64_t sectors)
{
    int rc;

    if (!b->cfg.cdrom)
        return -EINVAL;
    rc = xsim_storage_cdrom_change(b->cfg.storage, sectors);
    if (rc != 0)
        return rc;
    return xs_writef(b, b->bpath, "sectors", "%llu", (unsigned long long)sectors);
}

void xsim_blkback_stats(const struct xsim_blkback *b, struct xsim_blkback_stats *out)
{
    *out = b->st;
    out->in_flight = b->wait.n + b->run.n;
}

const char *xsim_blkback_path(const struct xsim_blkback *b)
{
    return b->bpath;
}
