/*
 * xs_ring.c - the XenStore daemon's end of a domain's shared ring page
 * (struct xenstore_domain_interface): moves request bytes from the req ring
 * into a connection and output from the connection into the rsp ring,
 * handles reconnect requests, and reports protocol errors in the page.
 */
#include <errno.h>
#include <string.h>

#include "backends/xenstore/xs_internal.h"

struct xsim_xs_ring {
    struct xsim_xs *xs;
    struct xsim_xs_conn *conn;
    struct xenstore_domain_interface *intf;
    void (*notify)(void *ctx);
    void *ctx;
    int error;    /* negative errno once the ring is in error, else 0 */
    bool in_kick; /* output is moved (and notified) by the kick loop */
};

/* Bound on passes of one kick, so that a guest producing as fast as the
 * daemon consumes (free-run mode) cannot keep it in one call forever. */
#define RING_MAX_PASSES 64

static uint32_t load_acquire(const uint32_t *p)
{
    return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static void store_release(uint32_t *p, uint32_t v)
{
    __atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static int ring_fail(struct xsim_xs_ring *r, uint32_t code, int err)
{
    store_release(&r->intf->error, code);
    r->error = err;
    return err;
}

/* Move queued output into the rsp ring; returns bytes moved or -EIO. */
static long push_output(struct xsim_xs_ring *r)
{
    struct xenstore_domain_interface *intf = r->intf;
    char tmp[XENSTORE_RING_SIZE];
    uint32_t cons, prod, used, off;
    size_t n, first;

    if (xsim_xs_conn_output_pending(r->conn) == 0)
        return 0;
    /* Acquire: the guest has finished reading the bytes before rsp_cons. */
    cons = load_acquire(&intf->rsp_cons);
    prod = intf->rsp_prod; /* ours: only the daemon writes it */
    used = prod - cons;
    if (used > XENSTORE_RING_SIZE)
        return ring_fail(r, XENSTORE_ERROR_RINGIDX, -EIO);
    n = xsim_xs_conn_output(r->conn, tmp, XENSTORE_RING_SIZE - used);
    if (n == 0)
        return 0;
    off = MASK_XENSTORE_IDX(prod);
    first = XENSTORE_RING_SIZE - off < n ? XENSTORE_RING_SIZE - off : n;
    memcpy(intf->rsp + off, tmp, first);
    memcpy(intf->rsp, tmp + first, n - first);
    /* Release: the bytes are in the ring before the guest sees rsp_prod. */
    store_release(&intf->rsp_prod, prod + (uint32_t)n);
    return (long)n;
}

/* Feed requests from the req ring to the connection; returns bytes
 * consumed or a negative errno (the ring is then in error). */
static long pull_input(struct xsim_xs_ring *r)
{
    struct xenstore_domain_interface *intf = r->intf;
    char tmp[XENSTORE_RING_SIZE];
    uint32_t cons, prod, avail, off;
    size_t first;
    long used;

    if (xsim_xs_conn_input_paused(r->conn))
        return 0;
    cons = intf->req_cons; /* ours */
    /* Read the guest's index once (XSA-155): everything below uses this
     * copy, and the bytes are copied out of the shared page once. */
    prod = load_acquire(&intf->req_prod);
    avail = prod - cons;
    if (avail > XENSTORE_RING_SIZE)
        return ring_fail(r, XENSTORE_ERROR_RINGIDX, -EIO);
    if (avail == 0)
        return 0;
    off = MASK_XENSTORE_IDX(cons);
    first = XENSTORE_RING_SIZE - off < avail ? XENSTORE_RING_SIZE - off : avail;
    memcpy(tmp, intf->req + off, first);
    memcpy(tmp + first, intf->req, avail - first);
    used = xsim_xs_conn_input(r->conn, tmp, avail);
    if (used == -EMSGSIZE)
        return ring_fail(r, XENSTORE_ERROR_PROTO, -EPROTO);
    if (used < 0)
        return ring_fail(r, XENSTORE_ERROR_COMM, (int)used);
    /* Release: we are done reading the slots before the guest may reuse
     * them. */
    store_release(&intf->req_cons, cons + (uint32_t)used);
    return used;
}

static void reconnect(struct xsim_xs_ring *r)
{
    struct xenstore_domain_interface *intf = r->intf;

    /* The guest asked to start over: drop everything about the old
     * connection, reset the indexes, then say we are connected again. */
    xsim_xs_conn_reset(r->conn);
    intf->req_cons = intf->req_prod = 0;
    intf->rsp_cons = intf->rsp_prod = 0;
    intf->error = XENSTORE_ERROR_NONE;
    r->error = 0;
    store_release(&intf->connection, XENSTORE_CONNECTED);
}

void xsim_xs_ring_reset(struct xsim_xs_ring *r)
{
    reconnect(r);
}

int xsim_xs_ring_kick(struct xsim_xs_ring *r)
{
    bool moved_any = false;

    if (load_acquire(&r->intf->connection) == XENSTORE_RECONNECT) {
        reconnect(r);
        moved_any = true;
    }
    if (r->error != 0) {
        if (moved_any)
            r->notify(r->ctx);
        return r->error;
    }
    r->in_kick = true;
    for (int pass = 0; pass < RING_MAX_PASSES; pass++) {
        long out = push_output(r), in = out < 0 ? out : pull_input(r);

        if (out < 0 || in < 0) {
            moved_any = true; /* the error field changed: tell the guest */
            break;
        }
        if (out == 0 && in == 0)
            break;
        moved_any = true;
    }
    r->in_kick = false;
    if (moved_any)
        r->notify(r->ctx);
    return r->error;
}

/* Output queued by any connection's request (a watch event, say): push it
 * at once, unless a kick of this ring is running and will. */
static void ring_output_ready(void *ctx, struct xsim_xs_conn *conn)
{
    struct xsim_xs_ring *r = ctx;

    if (r->in_kick || r->error != 0)
        return;
    if (push_output(r) != 0)
        r->notify(r->ctx);
}

static const struct xsim_xs_conn_ops ring_conn_ops = {.output_ready = ring_output_ready};

int xsim_xs_ring_create(struct xsim_xs *xs, unsigned int domid, bool privileged,
                        struct xenstore_domain_interface *intf, void (*notify)(void *ctx),
                        void *ctx, struct xsim_xs_ring **out)
{
    struct xsim_xs_ring *r;
    int err;

    *out = NULL;
    if (intf == NULL || notify == NULL)
        return -EINVAL;
    r = xs__zalloc(xs, sizeof(*r));
    if (r == NULL)
        return -ENOMEM;
    r->xs = xs;
    r->intf = intf;
    r->notify = notify;
    r->ctx = ctx;
    err = xsim_xs_conn_open(xs, domid, privileged, &ring_conn_ops, r, &r->conn);
    if (err != 0) {
        xs__free(xs, r);
        return err;
    }
    intf->server_features = XENSTORE_SERVER_FEATURE_RECONNECTION | XENSTORE_SERVER_FEATURE_ERROR;
    intf->error = XENSTORE_ERROR_NONE;
    store_release(&intf->connection, XENSTORE_CONNECTED);
    *out = r;
    return 0;
}

struct xsim_xs_conn *xsim_xs_ring_conn(struct xsim_xs_ring *r)
{
    return r->conn;
}

void xsim_xs_ring_destroy(struct xsim_xs_ring *r)
{
    if (r == NULL)
        return;
    xsim_xs_conn_close(r->conn);
    xs__free(r->xs, r);
}
