/*
 * xs_mem_client.h - a test client of a bare in-memory XenStore connection:
 * send a request, get its reply, keep the watch events that came with it
 * in a queue, and CMocka checks on both.
 */
#ifndef XSIM_TEST_XS_MEM_CLIENT_H
#define XSIM_TEST_XS_MEM_CLIENT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "xensim/abi/xs_wire.h"
#include "xensim/xenstore.h"

#define TC_EVENTS 64

struct tc {
    struct xsim_xs_conn *c;
    uint32_t rtype; /* last reply's type */
    uint32_t rtx;   /* last reply's tx_id */
    uint32_t rlen;  /* last reply's payload length */
    char rp[XENSTORE_PAYLOAD_MAX + 1];
    unsigned int nev; /* events queued, oldest first */
    char ev[TC_EVENTS][XENSTORE_PAYLOAD_MAX + 1];
    uint32_t evlen[TC_EVENTS];
    unsigned int noreply; /* requests that produced no reply */
};

static inline void tc_open(struct xsim_xs *xs, struct tc *t, unsigned int domid, bool priv)
{
    memset(t, 0, sizeof(*t));
    assert_int_equal(xsim_xs_conn_open(xs, domid, priv, NULL, NULL, &t->c), 0);
}

/* Pull every queued message: events to the queue, the last non-event into
 * the reply fields. Returns the number of replies seen. */
static inline unsigned int tc_pump(struct tc *t)
{
    static char buf[1 << 20];
    size_t len = xsim_xs_conn_output(t->c, buf, sizeof(buf)), off = 0;
    unsigned int replies = 0;

    while (off + sizeof(struct xsd_sockmsg) <= len) {
        struct xsd_sockmsg h;

        memcpy(&h, buf + off, sizeof(h));
        assert_true(off + sizeof(h) + h.len <= len);
        assert_true(h.len <= XENSTORE_PAYLOAD_MAX);
        if (h.type == XS_WATCH_EVENT) {
            assert_int_equal(h.req_id, 0);
            if (t->nev < TC_EVENTS) {
                memcpy(t->ev[t->nev], buf + off + sizeof(h), h.len);
                t->evlen[t->nev++] = h.len;
            }
        } else {
            t->rtype = h.type;
            t->rtx = h.tx_id;
            t->rlen = h.len;
            memcpy(t->rp, buf + off + sizeof(h), h.len);
            t->rp[h.len] = '\0';
            replies++;
        }
        off += sizeof(h) + h.len;
    }
    assert_int_equal(off, len);
    return replies;
}

static inline void tc_send(struct tc *t, uint32_t type, uint32_t tx, const void *p, uint32_t len)
{
    struct xsd_sockmsg h = {.type = type, .req_id = 0x5a5a, .tx_id = tx, .len = len};
    char buf[sizeof(h) + XENSTORE_PAYLOAD_MAX + 16];
    long r;

    memcpy(buf, &h, sizeof(h));
    memcpy(buf + sizeof(h), p, len);
    r = xsim_xs_conn_input(t->c, buf, sizeof(h) + len);
    assert_int_equal(r, (long)(sizeof(h) + len));
    t->rtype = 0xffffffffu;
    if (tc_pump(t) == 0)
        t->noreply++;
}

/* Request with a string literal payload (its NULs included). */
#define TQ(t, type, tx, lit) tc_send(t, type, tx, lit, sizeof(lit) - 1)

/* The last reply was `type` with exactly the literal's bytes. */
#define EXPECT(t, type, lit)                                \
    do {                                                    \
        assert_int_equal((t)->rtype, (type));               \
        assert_int_equal((t)->rlen, sizeof(lit) - 1);       \
        assert_memory_equal((t)->rp, lit, sizeof(lit) - 1); \
    } while (0)

#define EXPECT_OK(t, type)  EXPECT(t, type, "OK\0")
#define EXPECT_ERR(t, name) EXPECT(t, XS_ERROR, name "\0")

/* Pop the oldest event and check it. */
#define EXPECT_EVENT(t, path, token)                           \
    do {                                                       \
        static const char want_[] = path "\0" token;           \
        tc_pump(t);                                            \
        assert_true((t)->nev > 0);                             \
        assert_int_equal((t)->evlen[0], sizeof(want_));        \
        assert_memory_equal((t)->ev[0], want_, sizeof(want_)); \
        tc_drop_event(t);                                      \
    } while (0)

#define EXPECT_NO_EVENT(t)             \
    do {                               \
        tc_pump(t);                    \
        assert_int_equal((t)->nev, 0); \
    } while (0)

static inline void tc_drop_event(struct tc *t)
{
    memmove(t->ev[0], t->ev[1], sizeof(t->ev[0]) * (t->nev - 1));
    memmove(t->evlen, t->evlen + 1, sizeof(t->evlen[0]) * (t->nev - 1));
    t->nev--;
}

static inline void tc_clear_events(struct tc *t)
{
    tc_pump(t);
    t->nev = 0;
}

/* Start a transaction; returns its id. */
static inline uint32_t tc_txn(struct tc *t)
{
    TQ(t, XS_TRANSACTION_START, 0, "");
    assert_int_equal(t->rtype, XS_TRANSACTION_START);
    return (uint32_t)strtoul(t->rp, NULL, 10);
}

#endif
