/*
 * xg_xenbus.c - the guest's XenStore client over the domain ring page (see
 * xg_xenbus.h). Ring rules (io/xs_wire.h, io/ring.h semantics): read the
 * peer's producer index, then a read barrier, then the bytes; write bytes,
 * then a write barrier, then publish the producer index; check indexes for
 * a peer that runs more than a ring ahead, and copy every byte out of the
 * shared page exactly once.
 */
#include <errno.h>
#include <string.h>

#include "xensim/abi/hvm_op.h"
#include "xensim/abi/hvm_params.h"
#include "xensim/guest/xg_evtchn.h"
#include "xensim/guest/xg_xenbus.h"
#include "xg_mutant.h"

#define RING XENSTORE_RING_SIZE

static int errno_of(const char *name)
{
    for (size_t i = 0; i < sizeof(xsd_errors) / sizeof(xsd_errors[0]); i++) {
        if (strcmp(name, xsd_errors[i].errstring) == 0)
            return xsd_errors[i].errnum;
    }
    return EIO; /* an unknown name is still a failure */
}

static size_t bounded_len(const char *s, size_t max)
{
    size_t n = 0;

    while (n < max && s[n] != '\0')
        n++;
    return n;
}

int xg_xenbus_join(char *dst, uint32_t size, const char *a, const char *b)
{
    size_t la = bounded_len(a, size), lb = bounded_len(b, size);

    if (la + 1 + lb + 1 > size)
        return -ENAMETOOLONG;
    memcpy(dst, a, la);
    dst[la] = '/';
    memcpy(dst + la + 1, b, lb);
    dst[la + 1 + lb] = '\0';
    return 0;
}

/* ---- interrupts off + lock ---- */

static bool lock(struct xg_xenbus *xb)
{
    bool was = xg_irq_save(xb->g->p);

    xg_spin_lock(xb->g->p, &xb->lock);
    return was;
}

static void unlock(struct xg_xenbus *xb, bool was)
{
    xg_spin_unlock(xb->g->p, &xb->lock);
    xg_irq_restore(xb->g->p, was);
}

/* ---- the response ring ---- */

static void queue_event(struct xg_xenbus *xb, uint32_t len)
{
    const char *path = xb->event_buf, *token;
    size_t lp;

    /* payload: path\0token\0 */
    xb->event_buf[len] = '\0';
    lp = bounded_len(path, len);
    if (lp >= len || lp >= XG_XENBUS_PATH_MAX) {
        xb->bad_replies++;
        return;
    }
    token = path + lp + 1;
    if (bounded_len(token, len - lp - 1) >= XG_XENBUS_TOKEN_MAX) {
        xb->bad_replies++;
        return;
    }
    /* An event identical to one still queued says nothing that one will
     * not (a watch promises a callback after each change, not one per
     * change): merge it, as xenstored merges its queued events (XSA-326).
     * So a dispatcher that falls behind (a storm, or it was preempted)
     * holds at most one event per (path, token); only past that many is
     * an event dropped, which keeps the queue bounded against a hostile
     * daemon (XSA-349). */
    for (unsigned int i = 0; i < xb->nevents; i++) {
        if (strcmp(xb->events[i].path, path) == 0 && strcmp(xb->events[i].token, token) == 0) {
            xb->merged_events++;
            return;
        }
    }
    if (xb->nevents == XG_XENBUS_MAX_EVENTS) {
        xb->dropped_events++;
        return;
    }
    memcpy(xb->events[xb->nevents].path, path, lp + 1);
    memcpy(xb->events[xb->nevents].token, token, bounded_len(token, XG_XENBUS_TOKEN_MAX) + 1);
    xb->nevents++;
    xb->watch_events++;
}

static void message_done(struct xg_xenbus *xb)
{
    if (xb->cur >= 0) {
        struct xg_xenbus_req *r = &xb->reqs[xb->cur];
        r->type = xb->hdr.type;
        r->len = xb->hdr.len;
        r->reply[xb->hdr.len] = '\0';
        /* Publish the reply only when it is complete. */
        xg_wmb(xb->g->p);
        xg_write_u8(xb->g->p, (volatile uint8_t *)&r->done, 1);
        xb->replies++;
    } else if (xb->cur == -1) {
        queue_event(xb, xb->hdr.len);
    }
    xb->hdr_got = xb->body_got = 0;
}

static void start_body(struct xg_xenbus *xb)
{
    xb->cur = -2;
    if (xb->hdr.len > XENSTORE_PAYLOAD_MAX) {
        /* A daemon that breaks the protocol: stop talking to it. */
        xb->broken = true;
        xb->bad_replies++;
        return;
    }
    if (xb->hdr.type == XS_WATCH_EVENT) {
        xb->cur = -1;
        return;
    }
    for (int i = 0; i < XG_XENBUS_MAX_REQS; i++) {
        if (xb->reqs[i].in_use && !xb->reqs[i].done &&
            (XG_MUTATED(12) || xb->reqs[i].req_id == xb->hdr.req_id)) {
            xb->cur = i;
            return;
        }
    }
    xb->bad_replies++; /* a reply nobody asked for: read and drop it */
}

/* Consume what the daemon produced; caller holds the lock. */
static void process_locked(struct xg_xenbus *xb)
{
    const struct xg_platform *p = xb->g->p;
    struct xenstore_domain_interface *in = xb->intf;
    XENSTORE_RING_IDX cons, prod;
    bool progress = false;

    if (xb->broken)
        return;
    cons = xg_read_u32(p, &in->rsp_cons);
    prod = xg_read_u32(p, &in->rsp_prod);
    xg_rmb(p); /* the bytes after the index that covers them */
    if (prod - cons > RING) {
        xb->broken = true;
        xb->bad_replies++;
        return;
    }
    while (cons != prod) {
        char c = in->rsp[MASK_XENSTORE_IDX(cons)]; /* each byte read once */
        cons++;
        progress = true;
        if (xb->hdr_got < sizeof(xb->hdr)) {
            ((char *)&xb->hdr)[xb->hdr_got++] = c;
            if (xb->hdr_got == sizeof(xb->hdr)) {
                start_body(xb);
                if (xb->broken)
                    break;
                if (xb->hdr.len == 0)
                    message_done(xb);
            }
            continue;
        }
        if (xb->cur >= 0)
            xb->reqs[xb->cur].reply[xb->body_got] = c;
        else if (xb->cur == -1)
            xb->event_buf[xb->body_got] = c;
        if (++xb->body_got == xb->hdr.len)
            message_done(xb);
    }
    if (progress) {
        /* Free the space only after the bytes were copied out. */
        xg_mb(p);
        xg_write_u32(p, &in->rsp_cons, cons);
        xg_mb(p);
        (void)xg_evtchn_notify(xb->g, xb->port);
    }
}

void xg_xenbus_dispatch(struct xg_xenbus *xb)
{
    /* One dispatcher at a time, so callbacks see events in order. */
    uint32_t expected = 0;

again:
    expected = 0;
    if (!xg_cmpxchg_u32(xb->g->p, &xb->dispatching, &expected, 1))
        return;
    for (;;) {
        struct xg_xenbus_event ev;
        xg_xenbus_watch_fn fn = NULL;
        void *arg = NULL;
        bool was = lock(xb);
        if (xb->nevents == 0) {
            unlock(xb, was);
            break;
        }
        ev = xb->events[0];
        memmove(&xb->events[0], &xb->events[1], (xb->nevents - 1) * sizeof(xb->events[0]));
        xb->nevents--;
        for (int i = 0; i < XG_XENBUS_MAX_WATCHES; i++) {
            if (xb->watches[i].in_use && strcmp(xb->watches[i].token, ev.token) == 0) {
                fn = xb->watches[i].fn;
                arg = xb->watches[i].arg;
                break;
            }
        }
        unlock(xb, was);
        if (fn != NULL)
            fn(xb, ev.path, ev.token, arg);
    }
    xg_write_u32(xb->g->p, &xb->dispatching, 0);
    /* An event queued after our last look found the flag still set and
     * left it to us: look again now that the flag is clear. */
    xg_mb(xb->g->p);
    if (!XG_MUTATED(13) && xg_read_u32(xb->g->p, (volatile uint32_t *)&xb->nevents) != 0)
        goto again;
}

static int xenbus_handler(struct xg_guest *g, evtchn_port_t port, void *arg)
{
    struct xg_xenbus *xb = arg;
    bool was = lock(xb);

    process_locked(xb);
    unlock(xb, was);
    xg_xenbus_dispatch(xb);
    return XG_EVTCHN_HANDLED;
}

/* ---- requests ---- */

/* Write bytes into the request ring, waiting for room. Caller holds the
 * lock; it is dropped while waiting so replies can be consumed. */
static int ring_write(struct xg_xenbus *xb, const void *data, uint32_t len, bool *was)
{
    const struct xg_platform *p = xb->g->p;
    struct xenstore_domain_interface *in = xb->intf;
    const char *d = data;

    while (len > 0) {
        XENSTORE_RING_IDX cons = xg_read_u32(p, &in->req_cons);
        XENSTORE_RING_IDX prod = xg_read_u32(p, &in->req_prod);
        xg_mb(p);
        if (prod - cons > RING) {
            xb->broken = true;
            return -EIO;
        }
        uint32_t room = RING - (prod - cons);
        if (room == 0) {
            process_locked(xb);
            unlock(xb, *was);
            xg_point(p, XG_POINT_SPIN, &in->req_cons);
            *was = lock(xb);
            continue;
        }
        uint32_t n = len < room ? len : room;
        for (uint32_t i = 0; i < n; i++)
            in->req[MASK_XENSTORE_IDX(prod + i)] = d[i];
        xg_wmb(p); /* the bytes before the index that publishes them */
        xg_write_u32(p, &in->req_prod, prod + n);
        d += n;
        len -= n;
        (void)xg_evtchn_notify(xb->g, xb->port);
    }
    return 0;
}

int xg_xenbus_request(struct xg_xenbus *xb, uint32_t type, uint32_t tx_id, const char *const *parts,
                      unsigned int nparts, char *reply, uint32_t reply_size, uint32_t *reply_len)
{
    const struct xg_platform *p = xb->g->p;
    struct xsd_sockmsg msg;
    uint32_t total = 0;
    int slot = -1, rc = 0;
    bool was;

    for (unsigned int i = 0; i < nparts; i++) {
        size_t l = bounded_len(parts[i], XENSTORE_PAYLOAD_MAX + 1);
        bool nul = !(type == XS_WRITE && i == nparts - 1);
        total += (uint32_t)(l + (nul ? 1 : 0));
        if (total > XENSTORE_PAYLOAD_MAX)
            return -E2BIG;
    }
    was = lock(xb);
    if (xb->broken) {
        unlock(xb, was);
        return -EIO;
    }
    /* A free slot; wait (consuming replies) if all are in flight. */
    while (slot < 0) {
        for (int i = 0; i < XG_XENBUS_MAX_REQS; i++) {
            if (!xb->reqs[i].in_use) {
                slot = i;
                break;
            }
        }
        if (slot < 0) {
            process_locked(xb);
            unlock(xb, was);
            xg_point(p, XG_POINT_SPIN, &xb->lock);
            was = lock(xb);
        }
    }
    struct xg_xenbus_req *r = &xb->reqs[slot];
    r->in_use = true;
    r->done = false;
    r->req_id = ++xb->next_req_id;
    msg.type = type;
    msg.req_id = r->req_id;
    msg.tx_id = tx_id;
    msg.len = total;
    xb->requests++;
    /* A whole message goes in under the lock: messages never interleave. */
    rc = ring_write(xb, &msg, sizeof(msg), &was);
    for (unsigned int i = 0; rc == 0 && i < nparts; i++) {
        size_t l = bounded_len(parts[i], XENSTORE_PAYLOAD_MAX);
        bool nul = !(type == XS_WRITE && i == nparts - 1);
        rc = ring_write(xb, parts[i], (uint32_t)(l + (nul ? 1 : 0)), &was);
    }
    /* Wait for our reply, consuming the ring ourselves. */
    while (rc == 0 && !xg_read_u8(p, (volatile uint8_t *)&r->done)) {
        process_locked(xb);
        if (xb->broken) {
            rc = -EIO;
            break;
        }
        if (xg_read_u8(p, (volatile uint8_t *)&r->done))
            break;
        unlock(xb, was);
        xg_point(p, XG_POINT_SPIN, &r->done);
        was = lock(xb);
    }
    if (rc == 0) {
        xg_rmb(p);
        if (r->type == XS_ERROR) {
            rc = -errno_of(r->reply);
        } else if (r->type != type) {
            rc = -EIO; /* the reply is not for this kind of request */
            xb->bad_replies++;
        } else {
            uint32_t n = r->len < reply_size ? r->len : (reply_size ? reply_size - 1 : 0);
            if (reply != NULL && reply_size > 0) {
                memcpy(reply, r->reply, n);
                reply[n] = '\0';
            }
            if (reply_len != NULL)
                *reply_len = r->len;
        }
    }
    r->in_use = false;
    unlock(xb, was);
    xg_xenbus_dispatch(xb);
    return rc;
}

/* ---- set-up ---- */

static int get_param(struct xg_guest *g, uint32_t index, uint64_t *v)
{
    struct xen_hvm_param hp = {.domid = DOMID_SELF, .index = index};
    long rc = xg_hypercall(g->p, __HYPERVISOR_hvm_op, HVMOP_get_param, (unsigned long)&hp, 0);

    *v = hp.value;
    return (int)rc;
}

int xg_xenbus_init(struct xg_xenbus *xb, struct xg_guest *g)
{
    const struct xg_platform *p = g->p;
    uint64_t pfn, evtchn;
    int rc;

    memset(xb, 0, sizeof(*xb));
    xb->g = g;
    xb->cur = -2;
    if ((rc = get_param(g, HVM_PARAM_STORE_PFN, &pfn)) != 0 ||
        (rc = get_param(g, HVM_PARAM_STORE_EVTCHN, &evtchn)) != 0)
        return rc;
    if (pfn == 0 || evtchn == 0 || evtchn >= XG_MAX_PORTS)
        return -ENODEV; /* no XenStore for this domain */
    xb->intf = p->ops->map_gfn != NULL ? p->ops->map_gfn(p->ctx, pfn) : NULL;
    if (xb->intf == NULL)
        return -EFAULT;
    xb->port = (evtchn_port_t)evtchn;
    rc = xg_evtchn_bind_local(g, xb->port, xenbus_handler, xb);
    if (rc != 0)
        return rc;
    return xg_evtchn_unmask(g, xb->port);
}

/* ---- convenience ---- */

int xg_xenbus_read(struct xg_xenbus *xb, uint32_t tx, const char *path, char *buf, uint32_t size)
{
    const char *parts[] = {path};
    uint32_t len = 0;
    int rc = xg_xenbus_request(xb, XS_READ, tx, parts, 1, buf, size, &len);

    if (rc == 0 && len >= size)
        return -E2BIG;
    return rc == 0 ? (int)len : rc;
}

int xg_xenbus_write(struct xg_xenbus *xb, uint32_t tx, const char *path, const char *value)
{
    const char *parts[] = {path, value};

    return xg_xenbus_request(xb, XS_WRITE, tx, parts, 2, NULL, 0, NULL);
}

int xg_xenbus_rm(struct xg_xenbus *xb, uint32_t tx, const char *path)
{
    const char *parts[] = {path};

    return xg_xenbus_request(xb, XS_RM, tx, parts, 1, NULL, 0, NULL);
}

int xg_xenbus_directory(struct xg_xenbus *xb, uint32_t tx, const char *path, char *buf,
                        uint32_t size)
{
    const char *parts[] = {path};
    uint32_t len = 0;
    int rc = xg_xenbus_request(xb, XS_DIRECTORY, tx, parts, 1, buf, size, &len), n = 0;

    if (rc != 0)
        return rc;
    if (len >= size)
        return -E2BIG;
    for (uint32_t i = 0; i < len; i++)
        n += buf[i] == '\0';
    return n;
}

int xg_xenbus_read_uint(struct xg_xenbus *xb, uint32_t tx, const char *path, uint64_t *v)
{
    char buf[32];
    uint64_t x = 0;
    int rc = xg_xenbus_read(xb, tx, path, buf, sizeof(buf));

    if (rc < 0)
        return rc;
    if (rc == 0)
        return -EINVAL;
    for (int i = 0; i < rc; i++) {
        if (buf[i] < '0' || buf[i] > '9' || x > (UINT64_MAX - 9) / 10)
            return -EINVAL;
        x = x * 10 + (uint64_t)(buf[i] - '0');
    }
    *v = x;
    return 0;
}

int xg_xenbus_printf_uint(struct xg_xenbus *xb, uint32_t tx, const char *path, uint64_t v)
{
    char buf[24];
    int i = (int)sizeof(buf) - 1;

    buf[i] = '\0';
    do {
        buf[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    return xg_xenbus_write(xb, tx, path, buf + i);
}

int xg_xenbus_watch(struct xg_xenbus *xb, const char *path, const char *token,
                    xg_xenbus_watch_fn fn, void *arg)
{
    const char *parts[] = {path, token};
    int slot = -1, rc;
    bool was;

    if (fn == NULL || bounded_len(token, XG_XENBUS_TOKEN_MAX) >= XG_XENBUS_TOKEN_MAX ||
        bounded_len(path, XG_XENBUS_PATH_MAX) >= XG_XENBUS_PATH_MAX)
        return -EINVAL;
    was = lock(xb);
    for (int i = 0; i < XG_XENBUS_MAX_WATCHES; i++) {
        if (xb->watches[i].in_use && strcmp(xb->watches[i].token, token) == 0) {
            unlock(xb, was);
            return -EEXIST;
        }
        if (!xb->watches[i].in_use && slot < 0)
            slot = i;
    }
    if (slot < 0) {
        unlock(xb, was);
        return -ENOSPC;
    }
    /* The callback must be in place before the daemon's first event. */
    struct xg_xenbus_watch *wt = &xb->watches[slot];
    memcpy(wt->token, token, bounded_len(token, XG_XENBUS_TOKEN_MAX) + 1);
    memcpy(wt->path, path, bounded_len(path, XG_XENBUS_PATH_MAX) + 1);
    wt->fn = fn;
    wt->arg = arg;
    wt->in_use = true;
    unlock(xb, was);
    rc = xg_xenbus_request(xb, XS_WATCH, 0, parts, 2, NULL, 0, NULL);
    if (rc != 0) {
        was = lock(xb);
        wt->in_use = false;
        unlock(xb, was);
    }
    return rc;
}

int xg_xenbus_unwatch(struct xg_xenbus *xb, const char *path, const char *token)
{
    const char *parts[] = {path, token};
    int rc = xg_xenbus_request(xb, XS_UNWATCH, 0, parts, 2, NULL, 0, NULL);
    bool was = lock(xb);

    for (int i = 0; i < XG_XENBUS_MAX_WATCHES; i++) {
        if (xb->watches[i].in_use && strcmp(xb->watches[i].token, token) == 0)
            xb->watches[i].in_use = false;
    }
    unlock(xb, was);
    return rc;
}

int xg_xenbus_transaction_start(struct xg_xenbus *xb, uint32_t *tx)
{
    const char *parts[] = {""};
    char buf[16];
    uint32_t v = 0;
    int rc = xg_xenbus_request(xb, XS_TRANSACTION_START, 0, parts, 1, buf, sizeof(buf), NULL);

    if (rc != 0)
        return rc;
    for (const char *c = buf; *c != '\0'; c++) {
        if (*c < '0' || *c > '9')
            return -EIO;
        v = v * 10 + (uint32_t)(*c - '0');
    }
    *tx = v;
    return 0;
}

int xg_xenbus_transaction_end(struct xg_xenbus *xb, uint32_t tx, bool commit)
{
    const char *parts[] = {commit ? "T" : "F"};

    return xg_xenbus_request(xb, XS_TRANSACTION_END, tx, parts, 1, NULL, 0, NULL);
}

int xg_xenbus_transaction(struct xg_xenbus *xb, int (*fn)(struct xg_xenbus *, uint32_t, void *),
                          void *arg, unsigned int max_tries)
{
    for (unsigned int i = 0; i < max_tries; i++) {
        uint32_t tx;
        int rc = xg_xenbus_transaction_start(xb, &tx);
        if (rc != 0)
            return rc;
        rc = fn(xb, tx, arg);
        if (rc != 0) {
            (void)xg_xenbus_transaction_end(xb, tx, false);
            return rc;
        }
        rc = xg_xenbus_transaction_end(xb, tx, true);
        if (rc != -EAGAIN)
            return rc;
    }
    return -EAGAIN;
}

int xg_xenbus_switch_state(struct xg_xenbus *xb, const char *dev, enum xenbus_state state)
{
    char path[XG_XENBUS_PATH_MAX];
    int rc = xg_xenbus_join(path, sizeof(path), dev, "state");

    return rc != 0 ? rc : xg_xenbus_printf_uint(xb, 0, path, (uint64_t)state);
}

enum xenbus_state xg_xenbus_read_state(struct xg_xenbus *xb, const char *path)
{
    uint64_t v;

    if (xg_xenbus_read_uint(xb, 0, path, &v) != 0 || v > XenbusStateReconfigured)
        return XenbusStateUnknown;
    return (enum xenbus_state)v;
}

const char *xg_xenbus_state_name(enum xenbus_state s)
{
    static const char *const names[] = {"Unknown",     "Initialising",  "InitWait",
                                        "Initialised", "Connected",     "Closing",
                                        "Closed",      "Reconfiguring", "Reconfigured"};

    return (unsigned int)s < sizeof(names) / sizeof(names[0]) ? names[s] : "invalid";
}

/* ---- resume ---- */

int xg_xenbus_resume(struct xg_xenbus *xb, bool new_host)
{
    struct xg_guest *g = xb->g;
    const struct xg_platform *p;
    uint64_t pfn, evtchn;
    int rc, first = 0;
    bool was;

    if (g == NULL)
        return -EINVAL;
    if (!new_host)
        return 0; /* same daemon, same port, same watches */
    p = g->p;
    if ((rc = get_param(g, HVM_PARAM_STORE_PFN, &pfn)) != 0 ||
        (rc = get_param(g, HVM_PARAM_STORE_EVTCHN, &evtchn)) != 0)
        return rc;
    if (pfn == 0 || evtchn == 0 || evtchn >= XG_MAX_PORTS)
        return -ENODEV;
    was = lock(xb);
    /* The new daemon starts the ring from zero: no partial message, no
     * queued event from the old host; a request still waiting (there
     * should be none: the suspend runs with nothing outstanding) fails. */
    xb->hdr_got = xb->body_got = 0;
    xb->cur = -2;
    xb->nevents = 0;
    xb->broken = false;
    for (int i = 0; i < XG_XENBUS_MAX_REQS; i++) {
        struct xg_xenbus_req *r = &xb->reqs[i];
        if (r->in_use && !r->done) {
            memcpy(r->reply, "EIO", 4);
            r->len = 3;
            r->type = XS_ERROR;
            xg_write_u8(p, (volatile uint8_t *)&r->done, 1);
        }
    }
    xb->intf = p->ops->map_gfn != NULL ? p->ops->map_gfn(p->ctx, pfn) : NULL;
    xb->port = (evtchn_port_t)evtchn;
    unlock(xb, was);
    if (xb->intf == NULL)
        return -EFAULT;
    rc = xg_evtchn_bind_local(g, xb->port, xenbus_handler, xb);
    if (rc == 0)
        rc = xg_evtchn_unmask(g, xb->port);
    if (rc != 0)
        return rc;
    /* The new daemon knows none of our watches: register each again (each
     * fires once, so its owner sees the current state). */
    for (int i = 0; i < XG_XENBUS_MAX_WATCHES; i++) {
        struct xg_xenbus_watch *wt = &xb->watches[i];
        const char *parts[2];
        if (!wt->in_use)
            continue;
        parts[0] = wt->path;
        parts[1] = wt->token;
        rc = xg_xenbus_request(xb, XS_WATCH, 0, parts, 2, NULL, 0, NULL);
        if (rc != 0 && first == 0)
            first = rc;
    }
    return first;
}
