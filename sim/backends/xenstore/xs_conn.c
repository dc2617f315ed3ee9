/*
 * xs_conn.c - connections of the XenStore daemon: framing of the input
 * byte stream into requests, the output queue of replies and watch events
 * with its bounds, and the connection lifecycle.
 */
#include <errno.h>
#include <string.h>

#include "backends/xenstore/xs_internal.h"

int xsim_xs_conn_open(struct xsim_xs *xs, unsigned int domid, bool privileged,
                      const struct xsim_xs_conn_ops *ops, void *ctx, struct xsim_xs_conn **out)
{
    struct xsim_xs_conn *c;

    *out = NULL;
    c = xs__zalloc(xs, sizeof(*c));
    if (c == NULL)
        return -ENOMEM;
    c->xs = xs;
    c->domid = domid;
    c->privileged = privileged;
    c->ops = ops;
    c->ctx = ctx;
    c->next_txid = 1;
    /* Connections are kept in creation order: watch events are queued in
     * that order, as the reference does. */
    c->prev = xs->conns_tail;
    if (xs->conns_tail != NULL)
        xs->conns_tail->next = c;
    else
        xs->conns_head = c;
    xs->conns_tail = c;
    *out = c;
    return 0;
}

/* Free a message taken off the queue. */
static void msg_free(struct xsim_xs_conn *c, struct xs_msg *m)
{
    if (m->pending) {
        xs__htab_remove(&c->pending, &m->h);
        if (c->pending.n == 0)
            xs__htab_fini(c->xs, &c->pending); /* an idle connection keeps nothing */
    }
    xs__free(c->xs, m);
}

static void drop_output(struct xsim_xs_conn *c)
{
    struct xs_msg *m = c->out_head, *next;

    for (; m != NULL; m = next) {
        next = m->next;
        msg_free(c, m);
    }
    c->out_head = c->out_tail = NULL;
    c->out_bytes = 0;
    c->out_replies = c->out_events = 0;
}

/* Done with the payload buffer of the current request. */
static void in_release(struct xsim_xs_conn *c)
{
    if (c->in != c->in_small)
        xs__free(c->xs, c->in);
    c->in = NULL;
}

void xsim_xs_conn_reset(struct xsim_xs_conn *c)
{
    c->hdr_got = 0;
    c->in_got = 0;
    in_release(c);
    drop_output(c);
    xs__watch_free_all(c);
    xs__txn_free_all(c);
    c->next_txid = 1;
    c->dead = false;
}

void xsim_xs_conn_close(struct xsim_xs_conn *c)
{
    struct xsim_xs *xs;

    if (c == NULL)
        return;
    xs = c->xs;
    in_release(c);
    drop_output(c);
    xs__watch_free_all(c);
    xs__txn_free_all(c);
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        xs->conns_head = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    else
        xs->conns_tail = c->prev;
    xs__free(xs, c);
}

bool xsim_xs_conn_input_paused(const struct xsim_xs_conn *c)
{
    const struct xsim_xs_config *cfg = &c->xs->cfg;

    if (c->out_bytes >= cfg->max_output_bytes)
        return true;
    return !c->privileged && c->out_replies >= cfg->quota_outstanding;
}

/* Tell every connection that got output while a request was processed;
 * once per request, so that a transport can write it in one go. */
static void notify_output(struct xsim_xs *xs)
{
    for (struct xsim_xs_conn *c = xs->conns_head; c != NULL; c = c->next) {
        if (c->out_dirty) {
            c->out_dirty = false;
            if (c->ops != NULL && c->ops->output_ready != NULL)
                c->ops->output_ready(c->ctx, c);
        }
    }
}

/* A buffer for the payload announced by c->hdr. */
static void in_begin(struct xsim_xs_conn *c)
{
    c->in_got = 0;
    if (c->hdr.len < sizeof(c->in_small))
        c->in = c->in_small;
    else
        c->in = xs__alloc(c->xs, (size_t)c->hdr.len + 1); /* NULL: skip, then ENOMEM */
}

/* The whole request is in: process it (or refuse it for want of memory). */
static void in_complete(struct xsim_xs_conn *c)
{
    c->hdr_got = 0;
    if (c->in == NULL) {
        static const char enomem[] = "ENOMEM";

        c->st.requests++;
        c->st.errors++;
        (void)xs__queue_reply(c, XS_ERROR, c->hdr.req_id, c->hdr.tx_id, enomem, sizeof(enomem));
        return;
    }
    c->in[c->in_got] = '\0';
    xs__process(c);
    in_release(c);
}

long xsim_xs_conn_input(struct xsim_xs_conn *c, const void *buf, size_t len)
{
    const char *p = buf;
    size_t used = 0;

    if (c->dead || c->released)
        return -ENOTCONN;
    while (used < len) {
        if (c->hdr_got < sizeof(c->hdr)) {
            size_t n = sizeof(c->hdr) - c->hdr_got;

            /* Pause only between requests: a started one is always
             * taken in whole. */
            if (c->hdr_got == 0 && xsim_xs_conn_input_paused(c))
                break;
            if (n > len - used)
                n = len - used;
            memcpy((char *)&c->hdr + c->hdr_got, p + used, n);
            c->hdr_got += (uint32_t)n;
            used += n;
            if (c->hdr_got < sizeof(c->hdr))
                break;
            if (c->hdr.len > XENSTORE_PAYLOAD_MAX) {
                /* Violating the payload limit ends the connection. */
                c->dead = true;
                return -EMSGSIZE;
            }
            in_begin(c);
        } else {
            size_t n = c->hdr.len - c->in_got;

            if (n > len - used)
                n = len - used;
            if (c->in != NULL)
                memcpy(c->in + c->in_got, p + used, n);
            c->in_got += (uint32_t)n;
            used += n;
        }
        if (c->hdr_got == sizeof(c->hdr) && c->in_got == c->hdr.len) {
            in_complete(c);
            notify_output(c->xs);
            if (c->dead || c->released)
                break;
        }
    }
    return (long)used;
}

/* A message with room for `len` payload bytes, not queued yet; NULL if
 * it cannot be allocated or (an event) the event queue is full. */
static struct xs_msg *msg_new(struct xsim_xs_conn *c, uint32_t type, uint32_t req_id,
                              uint32_t tx_id, uint32_t len, bool event)
{
    struct xsd_sockmsg h = {.type = type, .req_id = req_id, .tx_id = tx_id, .len = len};
    struct xs_msg *m;

    /* A watcher that does not read cannot make us queue without bound
     * (XSA-349): at most max_queued_events events, and no event beyond
     * max_output_bytes of queued output, so that a connection's queue stays
     * within max_output_bytes plus one reply. */
    if (event && (c->out_events >= c->xs->cfg.max_queued_events ||
                  c->out_bytes + sizeof(h) + len > c->xs->cfg.max_output_bytes)) {
        c->st.events_dropped++;
        return NULL;
    }
    m = xs__alloc(c->xs, sizeof(*m) + sizeof(h) + len);
    if (m == NULL) {
        if (event)
            c->st.events_dropped++;
        return NULL;
    }
    m->next = NULL;
    m->len = (uint32_t)sizeof(h) + len;
    m->off = 0;
    m->event = event;
    m->pending = false;
    memcpy(m->data, &h, sizeof(h));
    return m;
}

static void msg_push(struct xsim_xs_conn *c, struct xs_msg *m)
{
    if (c->out_tail != NULL)
        c->out_tail->next = m;
    else
        c->out_head = m;
    c->out_tail = m;
    c->out_bytes += m->len;
    if (m->event) {
        c->out_events++;
        c->st.events_queued++;
    } else {
        c->out_replies++;
    }
    c->out_dirty = true;
}

int xs__queue_reply(struct xsim_xs_conn *c, uint32_t type, uint32_t req_id, uint32_t tx_id,
                    const void *payload, uint32_t len)
{
    struct xs_msg *m = msg_new(c, type, req_id, tx_id, len, false);

    if (m == NULL)
        return -ENOMEM;
    if (len > 0)
        memcpy(m->data + sizeof(struct xsd_sockmsg), payload, len);
    msg_push(c, m);
    return 0;
}

void xs__queue_event(struct xsim_xs_conn *c, const char *path, uint32_t plen, const char *token,
                     uint32_t tlen)
{
    uint32_t len = plen + 1 + tlen + 1;
    char payload[XENSTORE_PAYLOAD_MAX];
    bool mergeable = plen == 0 || path[0] != '@';
    struct xs_msg *m;
    uint64_t hash;

    if (len > XENSTORE_PAYLOAD_MAX) {
        c->st.events_dropped++; /* an event the wire cannot carry */
        return;
    }
    memcpy(payload, path, plen);
    payload[plen] = '\0';
    memcpy(payload + plen + 1, token, tlen);
    payload[plen + 1 + tlen] = '\0';
    hash = xs__hash(payload, len);
    /* The client will get the queued one; a second would say nothing new. */
    if (mergeable && c->pending.b != NULL &&
        xs__htab_find(&c->pending, payload, len, hash) != NULL) {
        c->st.events_merged++;
        return;
    }
    m = msg_new(c, XS_WATCH_EVENT, 0, 0, len, true);
    if (m == NULL)
        return;
    memcpy(m->data + sizeof(struct xsd_sockmsg), payload, len);
    /* Without room to remember it the event is still sent, just not
     * merged with later ones. */
    if (mergeable && (c->pending.b != NULL || xs__htab_init(c->xs, &c->pending, 16) == 0)) {
        m->h.key = m->data + sizeof(struct xsd_sockmsg);
        m->h.klen = len;
        m->h.hash = hash;
        xs__htab_insert(c->xs, &c->pending, &m->h);
        m->pending = true;
    }
    msg_push(c, m);
    if (c->xs->cfg.event_queued != NULL)
        c->xs->cfg.event_queued(c->xs->cfg.ctx, c->domid, path, plen, token, tlen);
}

unsigned int xs__conn_peek(const struct xsim_xs_conn *c, struct xs_piece *out, unsigned int max)
{
    unsigned int n = 0;

    for (const struct xs_msg *m = c->out_head; m != NULL && n < max; m = m->next) {
        out[n].p = m->data + m->off;
        out[n].len = m->len - m->off;
        n++;
    }
    return n;
}

void xs__conn_consume(struct xsim_xs_conn *c, size_t n)
{
    while (n > 0 && c->out_head != NULL) {
        struct xs_msg *m = c->out_head;
        size_t k = m->len - m->off;

        if (k > n)
            k = n;
        m->off += (uint32_t)k;
        n -= k;
        c->out_bytes -= k;
        if (m->off == m->len) {
            c->out_head = m->next;
            if (c->out_head == NULL)
                c->out_tail = NULL;
            if (m->event)
                c->out_events--;
            else
                c->out_replies--;
            msg_free(c, m);
        }
    }
}

size_t xsim_xs_conn_output(struct xsim_xs_conn *c, void *buf, size_t len)
{
    char *d = buf;
    size_t done = 0;

    for (const struct xs_msg *m = c->out_head; m != NULL && done < len; m = m->next) {
        size_t n = m->len - m->off;

        if (n > len - done)
            n = len - done;
        memcpy(d + done, m->data + m->off, n);
        done += n;
    }
    xs__conn_consume(c, done);
    return done;
}

size_t xsim_xs_conn_output_pending(const struct xsim_xs_conn *c)
{
    return c->out_bytes;
}

void xsim_xs_conn_get_stats(const struct xsim_xs_conn *c, struct xsim_xs_conn_stats *st)
{
    *st = c->st;
    st->watches = c->nwatches;
    st->transactions = c->ntxns;
}
