/*
 * test_xs_ring.c - the XenStore daemon's shared-ring transport, driven by
 * a minimal guest written here: requests and replies across the ring
 * boundary and the index wrap, split messages, replies bigger than the
 * ring, asynchronous watch events, backpressure, protocol and index
 * errors, reconnection.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "xenstore/xs_mem_client.h"

struct guest {
    struct xenstore_domain_interface page;
    int notified;
    char rx[1 << 16]; /* bytes read from the rsp ring, not yet parsed */
    size_t rxlen;
};

static struct xsim_xs *xs;
static struct guest g;
static struct xsim_xs_ring *ring;

static void notify(void *ctx)
{
    ((struct guest *)ctx)->notified++;
}

static int setup(void **state)
{
    memset(&g, 0, sizeof(g));
    assert_int_equal(xsim_xs_create(NULL, &xs), 0);
    assert_int_equal(xsim_xs_ring_create(xs, 7, false, &g.page, notify, &g, &ring), 0);
    return 0;
}

static int teardown(void **state)
{
    xsim_xs_ring_destroy(ring);
    xsim_xs_destroy(xs);
    return 0;
}

/* Guest: put up to `len` bytes into the req ring; returns bytes put. */
static size_t guest_put(struct guest *gs, const void *buf, size_t len)
{
    struct xenstore_domain_interface *p = &gs->page;
    uint32_t cons = __atomic_load_n(&p->req_cons, __ATOMIC_ACQUIRE), prod = p->req_prod;
    size_t n = 0;

    while (n < len && prod - cons < XENSTORE_RING_SIZE) {
        p->req[MASK_XENSTORE_IDX(prod)] = ((const char *)buf)[n++];
        prod++;
    }
    __atomic_store_n(&p->req_prod, prod, __ATOMIC_RELEASE);
    return n;
}

/* Guest: take everything from the rsp ring. */
static void guest_take(struct guest *gs)
{
    struct xenstore_domain_interface *p = &gs->page;
    uint32_t prod = __atomic_load_n(&p->rsp_prod, __ATOMIC_ACQUIRE), cons = p->rsp_cons;

    while (cons != prod && gs->rxlen < sizeof(gs->rx))
        gs->rx[gs->rxlen++] = p->rsp[MASK_XENSTORE_IDX(cons++)];
    __atomic_store_n(&p->rsp_cons, cons, __ATOMIC_RELEASE);
}

/* Guest: pop one whole message from what it has read. */
static bool guest_msg(struct guest *gs, struct xsd_sockmsg *h, char *payload)
{
    if (gs->rxlen < sizeof(*h))
        return false;
    memcpy(h, gs->rx, sizeof(*h));
    if (gs->rxlen < sizeof(*h) + h->len)
        return false;
    memcpy(payload, gs->rx + sizeof(*h), h->len);
    payload[h->len] = '\0';
    memmove(gs->rx, gs->rx + sizeof(*h) + h->len, gs->rxlen - sizeof(*h) - h->len);
    gs->rxlen -= sizeof(*h) + h->len;
    return true;
}

static void guest_request(struct guest *gs, uint32_t type, uint32_t req_id, const void *p,
                          uint32_t len)
{
    struct xsd_sockmsg h = {.type = type, .req_id = req_id, .len = len};

    assert_int_equal(guest_put(gs, &h, sizeof(h)), sizeof(h));
    assert_int_equal(guest_put(gs, p, len), len);
}

/* One request, kick, collect the reply (skipping events). */
static uint32_t ring_call(uint32_t type, const void *p, uint32_t len, char *reply, uint32_t *rlen)
{
    struct xsd_sockmsg h;

    guest_request(&g, type, 1, p, len);
    assert_int_equal(xsim_xs_ring_kick(ring), 0);
    for (int i = 0; i < 100; i++) {
        guest_take(&g);
        while (guest_msg(&g, &h, reply)) {
            if (h.type != XS_WATCH_EVENT) {
                *rlen = h.len;
                return h.type;
            }
        }
        assert_int_equal(xsim_xs_ring_kick(ring), 0);
    }
    fail_msg("no reply");
    return 0;
}

#define RC(type, lit, reply, rlen) ring_call(type, lit, sizeof(lit) - 1, reply, rlen)

/* A dom0 connection that has introduced the ring's guest, domain 7. */
static void open_dom0_with_guest(struct tc *t0)
{
    tc_open(xs, t0, 0, true);
    TQ(t0, XS_INTRODUCE, 0,
       "7\0"
       "1\0"
       "1\0");
}

static void test_basic(void **state)
{
    char r[XENSTORE_PAYLOAD_MAX + 1];
    uint32_t rl;

    assert_int_equal(g.page.server_features,
                     XENSTORE_SERVER_FEATURE_RECONNECTION | XENSTORE_SERVER_FEATURE_ERROR);
    assert_int_equal(g.page.connection, XENSTORE_CONNECTED);
    /* nothing to do: no notification */
    assert_int_equal(xsim_xs_ring_kick(ring), 0);
    assert_int_equal(g.notified, 0);
    assert_int_equal(RC(XS_GET_DOMAIN_PATH, "7\0", r, &rl), XS_GET_DOMAIN_PATH);
    assert_string_equal(r, "/local/domain/7");
    assert_true(g.notified > 0);
    /* an unprivileged domain cannot write at the top */
    assert_int_equal(RC(XS_WRITE, "/top\0v", r, &rl), XS_ERROR);
    assert_string_equal(r, "EACCES");
    assert_int_equal(RC(XS_READ, "/tool\0", r, &rl), XS_ERROR);
    assert_string_equal(r, "EACCES");
}

static void test_wrap_and_split(void **state)
{
    char r[XENSTORE_PAYLOAD_MAX + 1], big[600];
    uint32_t rl;

    /* start near the top of the index space so that both rings wrap it */
    g.page.req_cons = g.page.req_prod = 0xfffffe00u;
    g.page.rsp_cons = g.page.rsp_prod = 0xfffffe00u;
    memset(big, 'z', sizeof(big));
    memcpy(big, "/local/domain/7\0", 16);
    for (int i = 0; i < 50; i++) {
        assert_int_equal(ring_call(XS_GET_PERMS, "/local/domain/7", 16, r, &rl), XS_ERROR);
        assert_int_equal(ring_call(XS_GET_DOMAIN_PATH, "12345\0", 6, r, &rl), XS_GET_DOMAIN_PATH);
        assert_string_equal(r, "/local/domain/12345");
    }
    assert_true(g.page.req_prod < 0x1000); /* wrapped */
    /* a request split across kicks, one byte at a time */
    {
        struct xsd_sockmsg h = {.type = XS_GET_DOMAIN_PATH, .req_id = 9, .len = 3};
        char msg[sizeof(h) + 3];
        struct xsd_sockmsg rh;

        memcpy(msg, &h, sizeof(h));
        memcpy(msg + sizeof(h), "42\0", 3);
        for (size_t i = 0; i < sizeof(msg); i++) {
            guest_put(&g, msg + i, 1);
            assert_int_equal(xsim_xs_ring_kick(ring), 0);
        }
        guest_take(&g);
        assert_true(guest_msg(&g, &rh, r));
        assert_int_equal(rh.req_id, 9);
        assert_string_equal(r, "/local/domain/42");
    }
}

static void test_reply_bigger_than_ring(void **state)
{
    struct tc t0;
    char r[XENSTORE_PAYLOAD_MAX + 1], buf[64];
    uint32_t rl;

    open_dom0_with_guest(&t0); /* perms may name it now */
    TQ(&t0, XS_MKDIR, 0, "/local/domain/7\0");
    TQ(&t0, XS_SET_PERMS, 0, "/local/domain/7\0n7\0");
    for (int i = 0; i < 150; i++) {
        int n = snprintf(buf, sizeof(buf), "/local/domain/7/child-number-%03d", i);

        tc_send(&t0, XS_WRITE, 0, buf, (uint32_t)n + 1);
        EXPECT_OK(&t0, XS_WRITE);
    }
    /* 150 * 17 bytes: the guest must drain the ring several times */
    assert_int_equal(RC(XS_DIRECTORY, "\0", r, &rl), XS_ERROR); /* "" is not a path */
    assert_int_equal(ring_call(XS_DIRECTORY, "/local/domain/7", 16, r, &rl), XS_DIRECTORY);
    assert_int_equal(rl, 150 * 17);
    assert_memory_equal(r, "child-number-000\0child-number-001\0", 34);
    xsim_xs_conn_close(t0.c);
}

static void test_async_events(void **state)
{
    struct tc t0;
    char r[XENSTORE_PAYLOAD_MAX + 1];
    struct xsd_sockmsg h;
    uint32_t rl;
    int before;

    open_dom0_with_guest(&t0);
    TQ(&t0, XS_WRITE, 0, "/shared\0");
    TQ(&t0, XS_SET_PERMS, 0, "/shared\0n0\0r7\0");
    assert_int_equal(RC(XS_WATCH, "/shared\0tok\0", r, &rl), XS_WATCH);
    guest_take(&g);
    assert_true(guest_msg(&g, &h, r)); /* the registration event */
    assert_int_equal(h.type, XS_WATCH_EVENT);
    /* another connection's write pushes the event into the ring at once */
    before = g.notified;
    TQ(&t0, XS_WRITE, 0, "/shared/x\0v");
    assert_int_equal(g.notified, before + 1);
    guest_take(&g);
    assert_true(guest_msg(&g, &h, r));
    assert_int_equal(h.type, XS_WATCH_EVENT);
    assert_memory_equal(r, "/shared/x\0tok\0", 14);
    xsim_xs_conn_close(t0.c);
}

static void test_backpressure(void **state)
{
    struct xsd_sockmsg h = {.type = XS_GET_DOMAIN_PATH, .len = 2};
    char msg[sizeof(h) + 2], r[XENSTORE_PAYLOAD_MAX + 1];
    int replies = 0;

    memcpy(msg, &h, sizeof(h));
    memcpy(msg + sizeof(h), "1\0", 2);
    /* 56 requests of 18 bytes fit the req ring; the guest reads nothing */
    for (int i = 0; i < 56; i++)
        assert_int_equal(guest_put(&g, msg, sizeof(msg)), sizeof(msg));
    assert_int_equal(xsim_xs_ring_kick(ring), 0);
    /* 32-byte replies: 32 fill the rsp ring, 20 more wait in the daemon
     * (the outstanding quota), and input stops with 4 requests left */
    assert_int_equal(g.page.req_prod - g.page.req_cons, 4 * sizeof(msg));
    assert_true(xsim_xs_conn_input_paused(xsim_xs_ring_conn(ring)));
    for (int i = 0; i < 20 && replies < 56; i++) {
        guest_take(&g);
        while (guest_msg(&g, &h, r)) {
            assert_int_equal(h.type, XS_GET_DOMAIN_PATH);
            replies++;
        }
        assert_int_equal(xsim_xs_ring_kick(ring), 0);
    }
    assert_int_equal(replies, 56);
    assert_int_equal(g.page.req_prod, g.page.req_cons);
}

static void test_errors_and_reconnect(void **state)
{
    struct xsd_sockmsg h = {.type = XS_READ, .len = XENSTORE_PAYLOAD_MAX + 1};
    char r[XENSTORE_PAYLOAD_MAX + 1];
    uint32_t rl;

    assert_int_equal(RC(XS_WATCH, "/local/domain/7\0w\0", r, &rl), XS_WATCH);
    /* an oversized request: protocol error, the ring is ignored after */
    guest_put(&g, &h, sizeof(h));
    assert_int_equal(xsim_xs_ring_kick(ring), -EPROTO);
    assert_int_equal(g.page.error, XENSTORE_ERROR_PROTO);
    guest_request(&g, XS_GET_DOMAIN_PATH, 1, "1\0", 2);
    assert_int_equal(xsim_xs_ring_kick(ring), -EPROTO);
    /* the guest reconnects: indexes reset, error cleared, watches gone */
    g.rxlen = 0;
    g.page.connection = XENSTORE_RECONNECT;
    assert_int_equal(xsim_xs_ring_kick(ring), 0);
    assert_int_equal(g.page.connection, XENSTORE_CONNECTED);
    assert_int_equal(g.page.error, XENSTORE_ERROR_NONE);
    assert_int_equal(g.page.req_prod, 0);
    assert_int_equal(g.page.rsp_prod, 0);
    {
        struct xsim_xs_conn_stats st;

        xsim_xs_conn_get_stats(xsim_xs_ring_conn(ring), &st);
        assert_int_equal(st.watches, 0);
    }
    assert_int_equal(RC(XS_GET_DOMAIN_PATH, "3\0", r, &rl), XS_GET_DOMAIN_PATH);
    /* a producer index more than a ring ahead */
    g.page.req_prod = g.page.req_cons + XENSTORE_RING_SIZE + 1;
    assert_int_equal(xsim_xs_ring_kick(ring), -EIO);
    assert_int_equal(g.page.error, XENSTORE_ERROR_RINGIDX);
    g.page.connection = XENSTORE_RECONNECT;
    assert_int_equal(xsim_xs_ring_kick(ring), 0);
    /* a consumer index beyond the producer on the response ring */
    g.page.rsp_cons = g.page.rsp_prod + 5;
    guest_request(&g, XS_GET_DOMAIN_PATH, 1, "1\0", 2);
    assert_int_equal(xsim_xs_ring_kick(ring), -EIO);
    assert_int_equal(g.page.error, XENSTORE_ERROR_RINGIDX);
}

static void test_release_cuts_ring(void **state)
{
    struct tc t0;
    char r[XENSTORE_PAYLOAD_MAX + 1];
    uint32_t rl;

    open_dom0_with_guest(&t0);
    EXPECT_OK(&t0, XS_INTRODUCE);
    assert_int_equal(RC(XS_GET_DOMAIN_PATH, "7\0", r, &rl), XS_GET_DOMAIN_PATH);
    TQ(&t0, XS_RELEASE, 0, "7\0");
    EXPECT_OK(&t0, XS_RELEASE);
    guest_request(&g, XS_GET_DOMAIN_PATH, 1, "1\0", 2);
    assert_int_equal(xsim_xs_ring_kick(ring), -ENOTCONN);
    assert_int_equal(g.page.error, XENSTORE_ERROR_COMM);
    xsim_xs_conn_close(t0.c);
}

/* A case run on a fresh store and guest ring: setup before it, teardown after. */
#define FRESH(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        FRESH(test_basic),
        FRESH(test_wrap_and_split),
        FRESH(test_reply_bigger_than_ring),
        FRESH(test_async_events),
        FRESH(test_backpressure),
        FRESH(test_errors_and_reconnect),
        FRESH(test_release_cuts_ring),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
