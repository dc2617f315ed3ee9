/*
 * fuzz_xs_wire.c - libFuzzer entry point for the XenStore daemon's wire
 * parser and everything behind it. One input is a client byte stream; it
 * goes, in turn, to a privileged connection (cut into chunks of varying
 * size), to an unprivileged domain's connection, and through a domain's
 * shared ring page (with, for some inputs, corrupted ring indexes). The
 * oracle: no crash or sanitizer report, every message the daemon sends is
 * well-formed, a bystander connection is served afterwards, and nothing
 * leaks.
 *
 * Built as a libFuzzer target with XENSIM_FUZZ=ON (clang); fuzz_xs_smoke.c
 * runs the same entry point over a fixed corpus in every build.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xensim/abi/xs_wire.h"
#include "xensim/xenstore.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Set by a driver to say which input failed before the process aborts. */
void (*xs_fuzz_on_failure)(void);

static void fuzz_fail(const char *what) __attribute__((noreturn));

static void fuzz_fail(const char *what)
{
    fprintf(stderr, "fuzz_xs_wire: oracle failed: %s\n", what);
    if (xs_fuzz_on_failure != NULL)
        xs_fuzz_on_failure();
    abort();
}

/* Pull a connection's output and check its framing. */
static void drain(struct xsim_xs_conn *c)
{
    static char buf[1 << 16];
    static char carry[sizeof(struct xsd_sockmsg) + XENSTORE_PAYLOAD_MAX];
    size_t n, have = 0;

    while ((n = xsim_xs_conn_output(c, buf, sizeof(buf))) > 0) {
        for (size_t i = 0; i < n; i++) {
            struct xsd_sockmsg h;

            carry[have++] = buf[i];
            if (have < sizeof(h))
                continue;
            memcpy(&h, carry, sizeof(h));
            if (h.len > XENSTORE_PAYLOAD_MAX || h.type >= XS_TYPE_COUNT)
                fuzz_fail("malformed output header");
            if (have == sizeof(h) + h.len)
                have = 0;
        }
    }
    if (have != 0)
        fuzz_fail("output ends inside a message");
}

static void request(struct xsim_xs_conn *c, uint32_t type, const char *p, uint32_t len)
{
    struct xsd_sockmsg h = {.type = type, .len = len};
    char buf[sizeof(h) + 64];

    memcpy(buf, &h, sizeof(h));
    memcpy(buf + sizeof(h), p, len);
    if (xsim_xs_conn_input(c, buf, sizeof(h) + len) != (long)(sizeof(h) + len))
        fuzz_fail("setup request refused");
    drain(c);
}

/* Feed everything to a connection in chunks; stop if it dies. */
static void feed(struct xsim_xs_conn *c, const uint8_t *data, size_t size, size_t chunk)
{
    size_t off = 0;

    while (off < size) {
        size_t n = size - off < chunk ? size - off : chunk;
        long used = xsim_xs_conn_input(c, data + off, n);

        if (used < 0)
            return; /* oversized request or released domain: closed */
        off += (size_t)used;
        drain(c); /* unpauses the connection */
        if (used == 0 && xsim_xs_conn_input_paused(c))
            fuzz_fail("paused with no output queued");
    }
}

struct guest {
    struct xenstore_domain_interface page;
    int notified;
};

static void notify(void *ctx)
{
    ((struct guest *)ctx)->notified++;
}

static void feed_ring(struct xsim_xs *xs, const uint8_t *data, size_t size, bool corrupt)
{
    struct guest *g = calloc(1, sizeof(*g));
    struct xsim_xs_ring *r;
    size_t off = 0;

    if (g == NULL || xsim_xs_ring_create(xs, 6, false, &g->page, notify, g, &r) != 0) {
        free(g);
        return;
    }
    for (int round = 0; round < 4096 && off < size; round++) {
        struct xenstore_domain_interface *p = &g->page;
        uint32_t prod = p->req_prod;

        while (off < size && prod - p->req_cons < XENSTORE_RING_SIZE)
            p->req[MASK_XENSTORE_IDX(prod++)] = (char)data[off++];
        p->req_prod = prod;
        if (corrupt && round == 1 && size >= 8) {
            memcpy(&p->rsp_cons, data, 4); /* a guest lying about its index */
            memcpy(&p->req_prod, data + 4, 4);
        }
        if (xsim_xs_ring_kick(r) < 0) {
            if (data[size - 1] & 1)
                break;
            p->connection = XENSTORE_RECONNECT; /* and start over */
            xsim_xs_ring_kick(r);
        }
        if (p->rsp_prod - p->rsp_cons > XENSTORE_RING_SIZE && !corrupt)
            fuzz_fail("daemon overran the response ring");
        p->rsp_cons = p->rsp_prod; /* the guest reads everything */
    }
    xsim_xs_ring_destroy(r);
    free(g);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct xsim_xs *xs;
    struct xsim_xs_conn *dom0 = NULL, *domu = NULL, *bystander = NULL;
    size_t chunk = size > 0 ? (size_t)data[0] % 67 + 1 : 1;

    if (xsim_xs_create(NULL, &xs) != 0)
        return 0;
    if (xsim_xs_conn_open(xs, 0, true, NULL, NULL, &bystander) != 0 ||
        xsim_xs_conn_open(xs, 0, true, NULL, NULL, &dom0) != 0 ||
        xsim_xs_conn_open(xs, 5, false, NULL, NULL, &domu) != 0)
        fuzz_fail("cannot open connections");
    /* domain 5 exists and owns its home, as a toolstack would arrange */
    request(bystander, XS_INTRODUCE,
            "5\0"
            "1\0"
            "1",
            6);
    request(bystander, XS_MKDIR, "/local/domain/5", 16);
    request(bystander, XS_SET_PERMS, "/local/domain/5\0n5", 19);
    request(bystander, XS_WATCH, "/\0all", 6);

    feed(dom0, data, size, chunk);
    feed(domu, data, size, 4096);
    feed_ring(xs, data, size, size > 1 && (data[1] & 0x80));

    /* the bystander is still served and the tree is sound */
    drain(bystander);
    request(bystander, XS_DIRECTORY, "/", 2);
    request(bystander, XS_READ, "/tool/xenstored", 16);
    xsim_xs_conn_close(dom0);
    xsim_xs_conn_close(domu);
    xsim_xs_conn_close(bystander);
    xsim_xs_destroy(xs);
    return 0;
}
