/*
 * test_xs_core.c - the XenStore daemon's transport-independent core,
 * through bare in-memory connections: every message type, errors,
 * permissions, quotas, watches, transactions, path validation and limits,
 * domains, input framing, and an allocation-failure sweep.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

#include "xenstore/xs_mem_client.h"
#include "xenstore/xs_test_util.h"

static struct xsim_xs *xs;
static struct tc t0, t1, d5, d6;

static int setup(void **state)
{
    assert_int_equal(xsim_xs_create(NULL, &xs), 0);
    tc_open(xs, &t0, 0, true);
    tc_open(xs, &t1, 0, true);
    return 0;
}

static int teardown(void **state)
{
    xsim_xs_conn_close(t0.c);
    xsim_xs_conn_close(t1.c);
    xsim_xs_destroy(xs);
    return 0;
}

/* Introduce domain `domid` and open an unprivileged connection for it. */
static void domu(struct tc *t, unsigned int domid)
{
    char buf[64];
    int n = snprintf(buf, sizeof(buf), "%u%c12%c3", domid, '\0', '\0');

    tc_send(&t0, XS_INTRODUCE, 0, buf, (uint32_t)n + 1);
    EXPECT_OK(&t0, XS_INTRODUCE);
    tc_open(xs, t, domid, false);
}

/* Write a path of `len` characters (`prefix`, then `fill` with a '/' at
 * every 50th position) through t0: accepted when `ok`, else EINVAL. */
static void write_long_path(char *buf, const char *prefix, char fill, uint32_t len, bool ok)
{
    uint32_t n = (uint32_t)sprintf(buf, "%s", prefix);

    for (; n < len; n++)
        buf[n] = (n % 50 == 0) ? '/' : fill;
    buf[n] = '\0';
    tc_send(&t0, XS_WRITE, 0, buf, n + 1);
    if (ok)
        EXPECT_OK(&t0, XS_WRITE);
    else
        EXPECT_ERR(&t0, "EINVAL");
}

/* A payload of the 6 bytes of `head`, `count` times `c` and a NUL; its
 * length. */
static size_t head_and_fill(char *buf, const char *head, char c, size_t count)
{
    memcpy(buf, head, 6);
    memset(buf + 6, c, count);
    buf[6 + count] = '\0';
    return 6 + count + 1;
}

/* t0 commits transaction `tx` that another connection's change made
 * stale: EAGAIN. */
static void commit_conflicts(uint32_t tx)
{
    TQ(&t0, XS_TRANSACTION_END, tx, "T\0");
    EXPECT_ERR(&t0, "EAGAIN");
}

static void test_initial_tree(void **state)
{
    TQ(&t0, XS_DIRECTORY, 0, "/\0");
    EXPECT(&t0, XS_DIRECTORY, "tool\0");
    TQ(&t0, XS_DIRECTORY, 0, "/tool\0");
    EXPECT(&t0, XS_DIRECTORY, "xenstored\0");
    TQ(&t0, XS_READ, 0, "/tool/xenstored\0");
    EXPECT(&t0, XS_READ, "");
    TQ(&t0, XS_GET_PERMS, 0, "/\0");
    EXPECT(&t0, XS_GET_PERMS, "n0\0");
    assert_int_equal(xsim_xs_node_count(xs), 3);
    assert_true(xsim_xs_domain_introduced(xs, 0));
    assert_false(xsim_xs_domain_introduced(xs, 1));
}

static void test_read_write_directory(void **state)
{
    TQ(&t0, XS_WRITE, 0, "/a/b/c\0value");
    EXPECT_OK(&t0, XS_WRITE);
    assert_int_equal(t0.rtx, 0);
    TQ(&t0, XS_READ, 0, "/a/b/c\0");
    EXPECT(&t0, XS_READ, "value");
    TQ(&t0, XS_READ, 0, "/a/b\0");
    EXPECT(&t0, XS_READ, "");
    /* binary values keep their NULs */
    TQ(&t0, XS_WRITE, 0, "/bin\0x\0y\0");
    TQ(&t0, XS_READ, 0, "/bin\0");
    EXPECT(&t0, XS_READ, "x\0y\0");
    /* children in creation order */
    TQ(&t0, XS_WRITE, 0, "/o/zz\0");
    TQ(&t0, XS_WRITE, 0, "/o/aa\0");
    TQ(&t0, XS_MKDIR, 0, "/o/mm\0");
    EXPECT_OK(&t0, XS_MKDIR);
    TQ(&t0, XS_DIRECTORY, 0, "/o\0");
    EXPECT(&t0, XS_DIRECTORY, "zz\0aa\0mm\0");
    TQ(&t0, XS_RM, 0, "/o/zz\0");
    EXPECT_OK(&t0, XS_RM);
    TQ(&t0, XS_WRITE, 0, "/o/zz\0");
    TQ(&t0, XS_DIRECTORY, 0, "/o\0");
    EXPECT(&t0, XS_DIRECTORY, "aa\0mm\0zz\0");
    /* mkdir of an existing node changes nothing */
    TQ(&t0, XS_WRITE, 0, "/o/aa\0keep");
    TQ(&t0, XS_MKDIR, 0, "/o/aa\0");
    EXPECT_OK(&t0, XS_MKDIR);
    TQ(&t0, XS_READ, 0, "/o/aa\0");
    EXPECT(&t0, XS_READ, "keep");
    /* recursive rm; rm of a missing node is fine iff its parent exists */
    TQ(&t0, XS_RM, 0, "/a\0");
    EXPECT_OK(&t0, XS_RM);
    TQ(&t0, XS_READ, 0, "/a/b/c\0");
    EXPECT_ERR(&t0, "ENOENT");
    TQ(&t0, XS_RM, 0, "/a\0");
    EXPECT_OK(&t0, XS_RM);
    TQ(&t0, XS_RM, 0, "/a/b\0");
    EXPECT_ERR(&t0, "ENOENT");
    TQ(&t0, XS_RM, 0, "/\0");
    EXPECT_ERR(&t0, "EINVAL");
    /* relative paths resolve under /local/domain/0 for dom0 */
    TQ(&t0, XS_WRITE, 0, "device/vbd\0x");
    TQ(&t0, XS_READ, 0, "/local/domain/0/device/vbd\0");
    EXPECT(&t0, XS_READ, "x");
    TQ(&t0, XS_GET_DOMAIN_PATH, 0, "0\0");
    EXPECT(&t0, XS_GET_DOMAIN_PATH, "/local/domain/0\0");
    TQ(&t0, XS_GET_DOMAIN_PATH, 0, "17\0");
    EXPECT(&t0, XS_GET_DOMAIN_PATH, "/local/domain/17\0");
    /* the req_id is echoed */
    {
        struct xsd_sockmsg h = {.type = XS_READ, .req_id = 77, .len = 5};
        char buf[64];
        size_t n;

        memcpy(buf, &h, sizeof(h));
        memcpy(buf + sizeof(h), "/bin\0", 5);
        assert_int_equal(xsim_xs_conn_input(t0.c, buf, sizeof(h) + 5), (long)sizeof(h) + 5);
        n = xsim_xs_conn_output(t0.c, buf, sizeof(buf));
        assert_int_equal(n, sizeof(h) + 4);
        memcpy(&h, buf, sizeof(h));
        assert_int_equal(h.req_id, 77);
    }
}

static void test_directory_part(void **state)
{
    char buf[64];
    unsigned long gen1, gen2;

    TQ(&t0, XS_WRITE, 0, "/dp/one\0");
    TQ(&t0, XS_WRITE, 0, "/dp/two\0");
    TQ(&t0, XS_DIRECTORY_PART, 0,
       "/dp\0"
       "0\0");
    assert_int_equal(t0.rtype, XS_DIRECTORY_PART);
    gen1 = strtoul(t0.rp, NULL, 10);
    snprintf(buf, sizeof(buf), "%lu%cone%ctwo%c%c", gen1, 0, 0, 0, 0);
    assert_int_equal(t0.rlen, strlen(buf) + 10);
    assert_memory_equal(t0.rp, buf, t0.rlen);
    TQ(&t0, XS_DIRECTORY_PART, 0,
       "/dp\0"
       "4\0");
    snprintf(buf, sizeof(buf), "%lu%ctwo%c%c", gen1, 0, 0, 0);
    assert_memory_equal(t0.rp, buf, t0.rlen);
    TQ(&t0, XS_DIRECTORY_PART, 0,
       "/dp\0"
       "8\0");
    assert_int_equal(t0.rlen, strlen(buf) + 2);
    /* the generation changes with the child list */
    TQ(&t0, XS_WRITE, 0, "/dp/three\0");
    TQ(&t0, XS_DIRECTORY_PART, 0,
       "/dp\0"
       "0\0");
    gen2 = strtoul(t0.rp, NULL, 10);
    assert_true(gen2 != gen1);
    TQ(&t0, XS_DIRECTORY_PART, 0, "/dp\0");
    EXPECT_ERR(&t0, "EINVAL");
    TQ(&t0, XS_DIRECTORY_PART, 0,
       "/nope\0"
       "0\0");
    EXPECT_ERR(&t0, "ENOENT");
    /* a long list comes in parts that end without the empty name */
    for (int i = 0; i < 300; i++) {
        int n = snprintf(buf, sizeof(buf), "/dq/name-number-%04d", i);

        tc_send(&t0, XS_WRITE, 0, buf, (uint32_t)n + 1);
    }
    TQ(&t0, XS_DIRECTORY, 0, "/dq\0");
    EXPECT_ERR(&t0, "E2BIG");
    {
        unsigned int off = 0, names = 0;

        for (int part = 0; part < 10; part++) {
            int n = snprintf(buf, sizeof(buf), "/dq%c%u", 0, off);
            size_t g;

            tc_send(&t0, XS_DIRECTORY_PART, 0, buf, (uint32_t)n + 1);
            assert_int_equal(t0.rtype, XS_DIRECTORY_PART);
            g = strlen(t0.rp) + 1;
            for (size_t p = g; p < t0.rlen;) {
                size_t l = strlen(t0.rp + p);

                if (l == 0)
                    break;
                names++;
                off += (unsigned int)l + 1;
                p += l + 1;
            }
            if (t0.rp[t0.rlen - 1] == '\0' && t0.rp[t0.rlen - 2] == '\0')
                break;
        }
        assert_int_equal(names, 300);
    }
}

static void test_errors_and_paths(void **state)
{
    char buf[XENSTORE_PAYLOAD_MAX + 16];

    TQ(&t0, XS_READ, 0, "/nope\0");
    EXPECT_ERR(&t0, "ENOENT");
    TQ(&t0, XS_READ, 0, "//a\0");
    EXPECT_ERR(&t0, "EINVAL");
    TQ(&t0, XS_READ, 0, "/a/\0");
    EXPECT_ERR(&t0, "EINVAL");
    TQ(&t0, XS_READ, 0, "/a*b\0");
    EXPECT_ERR(&t0, "EINVAL");
    TQ(&t0, XS_READ, 0, "@introduceDomain\0");
    EXPECT_ERR(&t0, "EINVAL");
    TQ(&t0, XS_READ, 0, "\0");
    EXPECT_ERR(&t0, "EINVAL");
    TQ(&t0, XS_READ, 0, "");
    EXPECT_ERR(&t0, "EINVAL");
    /* strings must be terminated, and single-argument requests must be
     * exactly one string */
    TQ(&t0, XS_READ, 0, "/tool");
    EXPECT_ERR(&t0, "EINVAL");
    TQ(&t0, XS_READ, 0, "/tool\0junk");
    EXPECT_ERR(&t0, "EINVAL");
    TQ(&t0, XS_WRITE, 0, "/x");
    EXPECT_ERR(&t0, "EINVAL");
    TQ(&t0, XS_WATCH, 0, "/x\0tok");
    EXPECT_ERR(&t0, "EINVAL");
    /* unknown and daemon-to-client types */
    TQ(&t0, 20, 0, "");
    EXPECT_ERR(&t0, "ENOSYS");
    TQ(&t0, XS_WATCH_EVENT, 0, "/a\0b\0");
    EXPECT_ERR(&t0, "ENOSYS");
    TQ(&t0, XS_ERROR, 0, "");
    EXPECT_ERR(&t0, "ENOSYS");
    TQ(&t0, 0x7fffffff, 0, "");
    EXPECT_ERR(&t0, "ENOSYS");
    /* limits: 2048 after /local/domain/<id>/, else 2048 in all */
    for (uint32_t total = 2047; total <= 2049; total++) {
        write_long_path(buf, "/l", 'x', total, total <= 2048);
        write_long_path(buf, "/local/domain/3/", 'y', total + 16, total <= 2048);
    }
    /* a maximal payload is fine, one byte more ends the connection */
    memcpy(buf, "/max\0", 5);
    memset(buf + 5, 'm', XENSTORE_PAYLOAD_MAX - 5);
    tc_send(&t0, XS_WRITE, 0, buf, XENSTORE_PAYLOAD_MAX);
    EXPECT_OK(&t0, XS_WRITE);
    TQ(&t0, XS_READ, 0, "/max\0");
    assert_int_equal(t0.rlen, XENSTORE_PAYLOAD_MAX - 5);
}

static void test_perms_unprivileged(void **state)
{
    domu(&d5, 5);
    domu(&d6, 6);
    /* a domain's home, made by the toolstack */
    TQ(&t0, XS_WRITE, 0, "/local/domain/5/data\0d");
    TQ(&t0, XS_SET_PERMS, 0, "/local/domain/5\0n5\0");
    EXPECT_OK(&t0, XS_SET_PERMS);
    TQ(&t0, XS_SET_PERMS, 0, "/local/domain/5/data\0n5\0");
    TQ(&t0, XS_WRITE, 0, "/secret/x\0s");
    /* relative paths resolve under the domain's home */
    TQ(&d5, XS_READ, 0, "data\0");
    EXPECT(&d5, XS_READ, "d");
    TQ(&d5, XS_WRITE, 0, "new/leaf\0v");
    EXPECT_OK(&d5, XS_WRITE);
    TQ(&d5, XS_GET_PERMS, 0, "new\0");
    EXPECT(&d5, XS_GET_PERMS, "n5\0");
    TQ(&t0, XS_GET_PERMS, 0, "/local/domain/5/new/leaf\0");
    EXPECT(&t0, XS_GET_PERMS, "n5\0");
    /* others see nothing, and cannot tell missing from forbidden */
    TQ(&d5, XS_READ, 0, "/secret/x\0");
    EXPECT_ERR(&d5, "EACCES");
    TQ(&d5, XS_READ, 0, "/secret/none\0");
    EXPECT_ERR(&d5, "EACCES");
    TQ(&d5, XS_READ, 0, "/local/domain/5/none\0");
    EXPECT_ERR(&d5, "ENOENT");
    TQ(&d6, XS_READ, 0, "/local/domain/5/data\0");
    EXPECT_ERR(&d6, "EACCES");
    TQ(&d5, XS_WRITE, 0, "/secret/y\0v");
    EXPECT_ERR(&d5, "EACCES");
    TQ(&d5, XS_WRITE, 0, "/newtop\0v");
    EXPECT_ERR(&d5, "EACCES");
    /* grant domain 6 read, then write */
    TQ(&d5, XS_SET_PERMS, 0, "data\0n5\0r6\0");
    EXPECT_OK(&d5, XS_SET_PERMS);
    TQ(&d6, XS_READ, 0, "/local/domain/5/data\0");
    EXPECT(&d6, XS_READ, "d");
    TQ(&d6, XS_WRITE, 0, "/local/domain/5/data\0x");
    EXPECT_ERR(&d6, "EACCES");
    TQ(&d5, XS_SET_PERMS, 0, "data\0n5\0b6\0");
    TQ(&d6, XS_WRITE, 0, "/local/domain/5/data\0x");
    EXPECT_OK(&d6, XS_WRITE);
    /* the default entry applies to domains not listed */
    TQ(&d5, XS_SET_PERMS, 0, "data\0r5\0n6\0");
    TQ(&d6, XS_READ, 0, "/local/domain/5/data\0");
    EXPECT_ERR(&d6, "EACCES");
    TQ(&t0, XS_READ, 0, "/local/domain/5/data\0"); /* dom0 reads anything */
    EXPECT(&t0, XS_READ, "x");
    /* only the owner changes permissions, and cannot give a node away */
    TQ(&d6, XS_SET_PERMS, 0, "/local/domain/5/data\0n6\0");
    EXPECT_ERR(&d6, "EACCES");
    TQ(&d5, XS_SET_PERMS, 0, "data\0n6\0");
    EXPECT_ERR(&d5, "EPERM");
    /* dom0 may, to an existing domain only */
    TQ(&t0, XS_SET_PERMS, 0, "/local/domain/5/data\0n6\0");
    EXPECT_OK(&t0, XS_SET_PERMS);
    TQ(&t0, XS_SET_PERMS, 0, "/local/domain/5/data\0n9\0");
    EXPECT_ERR(&t0, "ENOENT");
    /* entries for domains that do not exist are kept but inert */
    TQ(&t0, XS_SET_PERMS, 0, "/local/domain/5/data\0n6\0r9\0");
    TQ(&t0, XS_GET_PERMS, 0, "/local/domain/5/data\0");
    EXPECT(&t0, XS_GET_PERMS, "n6\0r9\0");
    /* privileged-only requests */
    TQ(&d5, XS_INTRODUCE, 0,
       "7\0"
       "1\0"
       "2\0");
    EXPECT_ERR(&d5, "EACCES");
    TQ(&d5, XS_RELEASE, 0, "6\0");
    EXPECT_ERR(&d5, "EACCES");
    TQ(&d5, XS_CONTROL, 0, "check\0");
    EXPECT_ERR(&d5, "EACCES");
    TQ(&d5, XS_IS_DOMAIN_INTRODUCED, 0, "5\0");
    EXPECT_ERR(&d5, "EACCES");
    TQ(&d5, XS_SET_PERMS, 0, "@releaseDomain\0n5\0");
    EXPECT_ERR(&d5, "EACCES");
    TQ(&d5, XS_GET_DOMAIN_PATH, 0, "5\0");
    EXPECT(&d5, XS_GET_DOMAIN_PATH, "/local/domain/5\0");
    xsim_xs_conn_close(d5.c);
    xsim_xs_conn_close(d6.c);
}

static void test_quotas(void **state)
{
    struct xsim_xs_conn_stats st;
    char buf[4096];

    domu(&d5, 5);
    TQ(&t0, XS_MKDIR, 0, "/local/domain/5\0");
    TQ(&t0, XS_SET_PERMS, 0, "/local/domain/5\0n5\0");
    /* node size */
    memcpy(buf, "big\0", 4);
    memset(buf + 4, 'v', 2049);
    tc_send(&d5, XS_WRITE, 0, buf, 4 + 2049);
    EXPECT_ERR(&d5, "ENOSPC");
    tc_send(&d5, XS_WRITE, 0, buf, 4 + 2048);
    EXPECT_OK(&d5, XS_WRITE);
    tc_send(&t0, XS_WRITE, 0, "/local/domain/5/bigger\0", 23); /* dom0: exempt */
    /* permissions per node */
    TQ(&d5, XS_SET_PERMS, 0, "big\0n5\0r0\0r0\0r0\0r0\0");
    EXPECT_OK(&d5, XS_SET_PERMS);
    TQ(&d5, XS_SET_PERMS, 0, "big\0n5\0r0\0r0\0r0\0r0\0r0\0");
    EXPECT_ERR(&d5, "ENOSPC");
    /* transactions */
    for (int i = 0; i < 10; i++)
        tc_txn(&d5);
    TQ(&d5, XS_TRANSACTION_START, 0, "");
    EXPECT_ERR(&d5, "ENOSPC");
    TQ(&d5, XS_RESET_WATCHES, 0, "");
    tc_txn(&d5);
    TQ(&d5, XS_RESET_WATCHES, 0, "");
    /* watches */
    for (int i = 0; i < 128; i++) {
        int n = snprintf(buf, sizeof(buf), "w%d%ctok", i, 0);

        tc_send(&d5, XS_WATCH, 0, buf, (uint32_t)n + 1);
        EXPECT_OK(&d5, XS_WATCH);
    }
    TQ(&d5, XS_WATCH, 0, "one-more\0tok\0");
    EXPECT_ERR(&d5, "E2BIG");
    tc_clear_events(&d5);
    TQ(&d5, XS_RESET_WATCHES, 0, "");
    /* nodes: 1000 owned by the domain (big and the home's two count) */
    TQ(&d5, XS_WRITE, 0, "n/0\0");
    {
        int i, last = 0;

        for (i = 1; i < 1100; i++) {
            int n = snprintf(buf, sizeof(buf), "n/%d", i);

            tc_send(&d5, XS_WRITE, 0, buf, (uint32_t)n + 1);
            if (d5.rtype == XS_ERROR) {
                EXPECT_ERR(&d5, "ENOSPC");
                break;
            }
            last = i;
        }
        assert_true(i < 1100);
        assert_true(last > 990);
    }
    /* deleting frees quota */
    TQ(&d5, XS_RM, 0, "n/1\0");
    TQ(&d5, XS_WRITE, 0, "n/again\0");
    EXPECT_OK(&d5, XS_WRITE);
    TQ(&d5, XS_WRITE, 0, "n/again2\0");
    EXPECT_ERR(&d5, "ENOSPC");
    /* a transaction cannot get around it */
    {
        uint32_t tx = tc_txn(&d5);

        tc_send(&d5, XS_WRITE, tx, "n/intx\0", 8);
        EXPECT_ERR(&d5, "ENOSPC");
        TQ(&d5, XS_TRANSACTION_END, tx, "F\0");
    }
    TQ(&d5, XS_RM, 0, "n\0");
    /* outstanding replies: input pauses at 20 unread replies */
    {
        struct xsd_sockmsg h = {.type = XS_READ, .len = 5};
        char req[sizeof(h) + 5];
        long used = 0;
        int i;

        memcpy(req, &h, sizeof(h));
        memcpy(req + sizeof(h), "big\0", 5);
        for (i = 0; i < 25; i++) {
            used = xsim_xs_conn_input(d5.c, req, sizeof(req));
            if (used == 0)
                break;
        }
        assert_int_equal(i, 20);
        assert_true(xsim_xs_conn_input_paused(d5.c));
        tc_pump(&d5); /* the client reads its replies */
        assert_false(xsim_xs_conn_input_paused(d5.c));
        assert_int_equal(xsim_xs_conn_input(d5.c, req, sizeof(req)), (long)sizeof(req));
        tc_pump(&d5);
    }
    xsim_xs_conn_get_stats(d5.c, &st);
    assert_true(st.requests > 1000);
    xsim_xs_conn_close(d5.c);
}

static void test_watches(void **state)
{
    struct xsim_xs_conn_stats st;

    TQ(&t1, XS_WATCH, 0, "/w\0tok\0");
    EXPECT_OK(&t1, XS_WATCH);
    EXPECT_EVENT(&t1, "/w", "tok"); /* fires once on registration */
    EXPECT_NO_EVENT(&t1);
    TQ(&t1, XS_WATCH, 0, "/w\0tok\0");
    EXPECT_ERR(&t1, "EEXIST");
    TQ(&t1, XS_WATCH, 0, "/w\0tok2\0");
    EXPECT_EVENT(&t1, "/w", "tok2");
    TQ(&t1, XS_WATCH, 0, "/w//x\0t\0");
    EXPECT_ERR(&t1, "EINVAL");
    TQ(&t1, XS_WATCH, 0, "/w\0a\0b\0");
    EXPECT_ERR(&t1, "EINVAL");
    /* descendants fire the watch, in registration order */
    TQ(&t0, XS_WRITE, 0, "/w/x/y\0v");
    EXPECT_EVENT(&t1, "/w/x/y", "tok");
    EXPECT_EVENT(&t1, "/w/x/y", "tok2");
    EXPECT_NO_EVENT(&t1);
    TQ(&t0, XS_WRITE, 0, "/wx\0v"); /* not a descendant */
    EXPECT_NO_EVENT(&t1);
    /* removal of a watched parent fires watches below it */
    TQ(&t1, XS_WATCH, 0, "/w/x/y\0deep\0");
    EXPECT_EVENT(&t1, "/w/x/y", "deep");
    TQ(&t0, XS_RM, 0, "/w\0");
    EXPECT_EVENT(&t1, "/w/x/y", "deep");
    EXPECT_EVENT(&t1, "/w", "tok");
    EXPECT_EVENT(&t1, "/w", "tok2");
    EXPECT_NO_EVENT(&t1);
    /* events come before the reply on the requesting connection */
    TQ(&t1, XS_WRITE, 0, "/w\0v");
    EXPECT_OK(&t1, XS_WRITE);
    EXPECT_EVENT(&t1, "/w", "tok");
    EXPECT_EVENT(&t1, "/w", "tok2");
    /* relative watches report relative paths */
    TQ(&t1, XS_WATCH, 0, "rel\0r\0");
    EXPECT_EVENT(&t1, "rel", "r");
    TQ(&t0, XS_WRITE, 0, "/local/domain/0/rel/a\0v");
    EXPECT_EVENT(&t1, "rel/a", "r");
    TQ(&t1, XS_UNWATCH, 0, "/local/domain/0/rel\0r\0");
    EXPECT_OK(&t1, XS_UNWATCH);
    TQ(&t1, XS_UNWATCH, 0, "rel\0r\0");
    EXPECT_ERR(&t1, "ENOENT");
    TQ(&t1, XS_UNWATCH, 0, "/w\0nope\0");
    EXPECT_ERR(&t1, "ENOENT");
    /* special watches */
    TQ(&t1, XS_WATCH, 0, "@introduceDomain\0i\0");
    EXPECT_EVENT(&t1, "@introduceDomain", "i");
    TQ(&t1, XS_WATCH, 0, "@releaseDomain\0r\0");
    EXPECT_EVENT(&t1, "@releaseDomain", "r");
    TQ(&t0, XS_INTRODUCE, 0,
       "8\0"
       "1\0"
       "2\0");
    EXPECT_EVENT(&t1, "@introduceDomain", "i");
    EXPECT_NO_EVENT(&t1);
    TQ(&t0, XS_RELEASE, 0, "8\0");
    EXPECT_EVENT(&t1, "@releaseDomain", "r");
    /* a watch on "/" sees everything but special events */
    TQ(&t1, XS_WATCH, 0, "/\0root\0");
    EXPECT_EVENT(&t1, "/", "root");
    TQ(&t0, XS_WRITE, 0, "/elsewhere\0");
    EXPECT_EVENT(&t1, "/elsewhere", "root");
    /* unprivileged watchers only hear of nodes they may read */
    domu(&d5, 5);
    EXPECT_EVENT(&t1, "@introduceDomain", "i");
    TQ(&d5, XS_WATCH, 0, "/secret\0s\0");
    EXPECT_EVENT(&d5, "/secret", "s");
    TQ(&t0, XS_WRITE, 0, "/secret/a\0v");
    EXPECT_NO_EVENT(&d5);
    EXPECT_EVENT(&t1, "/secret/a", "root");
    TQ(&t0, XS_SET_PERMS, 0, "/secret/a\0n0\0r5\0");
    EXPECT_EVENT(&d5, "/secret/a", "s");
    EXPECT_EVENT(&t1, "/secret/a", "root");
    TQ(&d5, XS_WATCH, 0, "@releaseDomain\0r\0");
    EXPECT_EVENT(&d5, "@releaseDomain", "r");
    TQ(&t0, XS_INTRODUCE, 0,
       "9\0"
       "1\0"
       "2\0");
    EXPECT_EVENT(&t1, "@introduceDomain", "i");
    TQ(&t0, XS_RELEASE, 0, "9\0");
    EXPECT_EVENT(&t1, "@releaseDomain", "r");
    EXPECT_NO_EVENT(&d5); /* the special node's perms deny domain 5 */
    TQ(&t0, XS_SET_PERMS, 0, "@releaseDomain\0n0\0r5\0");
    TQ(&t0, XS_INTRODUCE, 0,
       "9\0"
       "1\0"
       "2\0");
    TQ(&t0, XS_RELEASE, 0, "9\0");
    EXPECT_EVENT(&d5, "@releaseDomain", "r");
    tc_clear_events(&t1);
    /* reset drops every watch */
    TQ(&t1, XS_RESET_WATCHES, 0, "");
    EXPECT_OK(&t1, XS_RESET_WATCHES);
    TQ(&t0, XS_WRITE, 0, "/w/after\0v");
    EXPECT_NO_EVENT(&t1);
    /* events the wire cannot carry are dropped */
    {
        char buf[XENSTORE_PAYLOAD_MAX];
        size_t n = 0;

        n = head_and_fill(buf, "/long\0", 't', 4000);
        tc_send(&t1, XS_WATCH, 0, buf, (uint32_t)n);
        EXPECT_OK(&t1, XS_WATCH);
        assert_int_equal(t1.nev, 1);
        tc_clear_events(&t1);
        n = head_and_fill(buf, "/long/", 'd', 100);
        tc_send(&t0, XS_WRITE, 0, buf, (uint32_t)n);
        EXPECT_OK(&t0, XS_WRITE);
        EXPECT_NO_EVENT(&t1);
        xsim_xs_conn_get_stats(t1.c, &st);
        assert_true(st.events_dropped >= 1);
    }
    xsim_xs_conn_close(d5.c);
}

static void test_event_queue_bound(void **state)
{
    struct xsim_xs_conn_stats st;
    char buf[64];

    /* a watcher that never reads: its queue stops at the cap */
    TQ(&t1, XS_WATCH, 0, "/flood\0f\0");
    for (int i = 0; i < XSIM_XS_MAX_QUEUED_EVENTS + 100; i++) {
        int n = snprintf(buf, sizeof(buf), "/flood/%d", i);

        tc_send(&t0, XS_WRITE, 0, buf, (uint32_t)n + 1);
    }
    xsim_xs_conn_get_stats(t1.c, &st);
    /* t1's own reply is pulled by tc_send; the events stay queued */
    assert_true(st.events_dropped >= 100);
    assert_true(st.events_queued <= XSIM_XS_MAX_QUEUED_EVENTS + 1);
    tc_clear_events(&t1);
}

/* An event identical to one still queued is not queued again (xenstored
 * since XSA-326); a special event always is. */
static void test_event_merge(void **state)
{
    struct xsim_xs_conn_stats st;
    char part[8];

    TQ(&t1, XS_WATCH, 0, "/\0tok\0");
    TQ(&t1, XS_WATCH, 0, "/q\0tok\0");
    TQ(&t1, XS_WATCH, 0, "/q\0other\0");
    tc_clear_events(&t1);
    /* one write under two same-token watches: one event */
    TQ(&t0, XS_WRITE, 0, "/q/z\0v");
    EXPECT_EVENT(&t1, "/q/z", "tok");
    EXPECT_EVENT(&t1, "/q/z", "other");
    EXPECT_NO_EVENT(&t1);
    /* a watcher that does not read: repeated writes, one event each */
    for (int i = 0; i < 5; i++) {
        TQ(&t0, XS_WRITE, 0, "/q/z\0v");
        TQ(&t0, XS_WRITE, 0, "/q\0v");
    }
    xsim_xs_conn_get_stats(t1.c, &st);
    assert_int_equal(st.events_merged, 1 + 2 + 4 * 6);
    EXPECT_EVENT(&t1, "/q/z", "tok");
    EXPECT_EVENT(&t1, "/q/z", "other");
    EXPECT_EVENT(&t1, "/q", "tok");
    EXPECT_EVENT(&t1, "/q", "other");
    EXPECT_NO_EVENT(&t1);
    /* once pulled, the next one is queued again */
    TQ(&t0, XS_WRITE, 0, "/q/z\0v");
    EXPECT_EVENT(&t1, "/q/z", "tok");
    EXPECT_EVENT(&t1, "/q/z", "other");
    /* one pulled in part is still queued */
    TQ(&t0, XS_WRITE, 0, "/q/z\0v");
    assert_int_equal(xsim_xs_conn_output(t1.c, part, sizeof(part)), sizeof(part));
    TQ(&t0, XS_WRITE, 0, "/q/z\0v");
    {
        char rest[256];
        size_t n = xsim_xs_conn_output(t1.c, rest, sizeof(rest)), off = 0;
        struct xsd_sockmsg h;
        const char *p;
        char all[264];

        memcpy(all, part, sizeof(part));
        memcpy(all + sizeof(part), rest, n);
        n += sizeof(part);
        assert_true(xst_next_msg(all, n, &off, &h, &p));
        assert_memory_equal(p, "/q/z\0tok", 9);
        assert_true(xst_next_msg(all, n, &off, &h, &p));
        assert_memory_equal(p, "/q/z\0other", 11);
        assert_int_equal(off, n);
    }
    /* special events are never merged */
    TQ(&t1, XS_WATCH, 0, "@introduceDomain\0in\0");
    tc_clear_events(&t1);
    TQ(&t0, XS_INTRODUCE, 0,
       "7\0"
       "1\0"
       "1\0");
    TQ(&t0, XS_INTRODUCE, 0,
       "8\0"
       "1\0"
       "1\0");
    EXPECT_EVENT(&t1, "@introduceDomain", "in");
    EXPECT_EVENT(&t1, "@introduceDomain", "in");
    EXPECT_NO_EVENT(&t1);
    /* a transaction's commit merges too */
    {
        uint32_t tx;

        TQ(&t0, XS_WRITE, 0, "/q/z\0v");
        tx = tc_txn(&t0);
        TQ(&t0, XS_WRITE, tx, "/q/z\0w");
        TQ(&t0, XS_TRANSACTION_END, tx, "T\0");
        EXPECT_OK(&t0, XS_TRANSACTION_END);
        EXPECT_EVENT(&t1, "/q/z", "tok");
        EXPECT_EVENT(&t1, "/q/z", "other");
        EXPECT_NO_EVENT(&t1);
    }
}

/* A watcher that never reads holds at most max_output_bytes of output. */
static void test_event_bytes_bound(void **state)
{
    struct xsim_xs_conn_stats st;
    struct xsim_xs_config cfg;
    struct xsim_xs *x;
    struct tc a, w;
    char buf[600];

    xsim_xs_config_init(&cfg);
    cfg.max_output_bytes = 16384;
    assert_int_equal(xsim_xs_create(&cfg, &x), 0);
    tc_open(x, &a, 0, true);
    tc_open(x, &w, 0, true);
    TQ(&w, XS_WATCH, 0, "/b\0t\0");
    tc_clear_events(&w);
    for (int i = 0; i < 200; i++) {
        int n = snprintf(buf, sizeof(buf), "/b/%0500d", i);

        tc_send(&a, XS_WRITE, 0, buf, (uint32_t)n + 1);
        EXPECT_OK(&a, XS_WRITE);
        assert_true(xsim_xs_conn_output_pending(w.c) <= cfg.max_output_bytes);
    }
    xsim_xs_conn_get_stats(w.c, &st);
    /* each event is a 16-byte header, 503 bytes of path, "t" and two NULs;
     * the watch's own first event was queued (and pulled) before */
    assert_int_equal(st.events_queued - 1, cfg.max_output_bytes / (16 + 503 + 3));
    assert_int_equal(st.events_dropped, 200 - (st.events_queued - 1));
    /* reading makes room again */
    tc_clear_events(&w);
    TQ(&a, XS_WRITE, 0, "/b/again\0");
    EXPECT_EVENT(&w, "/b/again", "t");
    xsim_xs_conn_close(w.c);
    xsim_xs_conn_close(a.c);
    xsim_xs_destroy(x);
}

static void test_transactions(void **state)
{
    uint32_t tx, tx2;

    TQ(&t1, XS_WATCH, 0, "/t\0w\0");
    tc_clear_events(&t1);
    TQ(&t0, XS_WRITE, 0, "/t/a\0v");
    EXPECT_EVENT(&t1, "/t/a", "w");
    tx = tc_txn(&t0);
    assert_int_equal(tx, 1);
    tc_send(&t0, XS_WRITE, tx, "/t/b\0in", 7);
    EXPECT_OK(&t0, XS_WRITE);
    assert_int_equal(t0.rtx, tx);
    tc_send(&t0, XS_READ, tx, "/t/b\0", 5);
    EXPECT(&t0, XS_READ, "in");
    TQ(&t0, XS_READ, 0, "/t/b\0"); /* invisible outside until commit */
    EXPECT_ERR(&t0, "ENOENT");
    EXPECT_NO_EVENT(&t1);
    tc_send(&t0, XS_DIRECTORY, tx, "/t\0", 3);
    EXPECT(&t0, XS_DIRECTORY, "a\0b\0");
    tc_send(&t1, XS_READ, tx, "/t/b\0", 5); /* not t1's transaction */
    EXPECT_ERR(&t1, "ENOENT");
    tc_send(&t0, XS_TRANSACTION_START, tx, "", 0);
    EXPECT_ERR(&t0, "EBUSY");
    tc_send(&t0, XS_TRANSACTION_END, tx, "x\0", 2);
    EXPECT_ERR(&t0, "EINVAL");
    tc_send(&t0, XS_TRANSACTION_END, tx, "T\0", 2);
    EXPECT_OK(&t0, XS_TRANSACTION_END);
    EXPECT_EVENT(&t1, "/t/b", "w"); /* watches fire at commit */
    TQ(&t0, XS_READ, 0, "/t/b\0");
    EXPECT(&t0, XS_READ, "in");
    tc_send(&t0, XS_TRANSACTION_END, tx, "T\0", 2);
    EXPECT_ERR(&t0, "ENOENT");
    TQ(&t0, XS_TRANSACTION_END, 0, "T\0");
    EXPECT_ERR(&t0, "ENOENT");
    /* abort */
    tx = tc_txn(&t0);
    tc_send(&t0, XS_RM, tx, "/t/a\0", 5);
    tc_send(&t0, XS_TRANSACTION_END, tx, "F\0", 2);
    EXPECT_OK(&t0, XS_TRANSACTION_END);
    TQ(&t0, XS_READ, 0, "/t/a\0");
    EXPECT(&t0, XS_READ, "v");
    EXPECT_NO_EVENT(&t1);
    /* conflict: what a transaction read changed before its commit */
    tx = tc_txn(&t0);
    tc_send(&t0, XS_READ, tx, "/t/a\0", 5);
    TQ(&t1, XS_WRITE, 0, "/t/a\0other");
    tc_clear_events(&t1);
    tc_send(&t0, XS_WRITE, tx, "/t/c\0", 5);
    tc_send(&t0, XS_TRANSACTION_END, tx, "T\0", 2);
    EXPECT_ERR(&t0, "EAGAIN");
    assert_int_equal(t0.rtx, tx);
    TQ(&t0, XS_READ, 0, "/t/c\0");
    EXPECT_ERR(&t0, "ENOENT");
    EXPECT_NO_EVENT(&t1);
    /* two transactions creating siblings: the second to commit loses */
    tx = tc_txn(&t0);
    tx2 = tc_txn(&t0);
    assert_true(tx != tx2);
    tc_send(&t0, XS_WRITE, tx, "/t/x\0", 5);
    tc_send(&t0, XS_WRITE, tx2, "/t/y\0", 5);
    tc_send(&t0, XS_TRANSACTION_END, tx2, "T\0", 2);
    EXPECT_OK(&t0, XS_TRANSACTION_END);
    tc_send(&t0, XS_TRANSACTION_END, tx, "T\0", 2);
    EXPECT_ERR(&t0, "EAGAIN");
    tc_clear_events(&t1);
    /* changing a value does not conflict with an unrelated creation */
    tx = tc_txn(&t0);
    tc_send(&t0, XS_WRITE, tx, "/t/a\0mine", 9);
    TQ(&t1, XS_WRITE, 0, "/t/z\0");
    tc_send(&t0, XS_TRANSACTION_END, tx, "T\0", 2);
    EXPECT_OK(&t0, XS_TRANSACTION_END);
    /* recursive removal in a transaction: events in first-access order */
    TQ(&t0, XS_WRITE, 0, "/t/r/s\0");
    tc_clear_events(&t1);
    TQ(&t1, XS_WATCH, 0, "/t/r/s\0s\0");
    tc_clear_events(&t1);
    tx = tc_txn(&t0);
    tc_send(&t0, XS_RM, tx, "/t/r\0", 5);
    tc_send(&t0, XS_READ, tx, "/t/r/s\0", 7);
    EXPECT_ERR(&t0, "ENOENT");
    tc_send(&t0, XS_TRANSACTION_END, tx, "T\0", 2);
    EXPECT_EVENT(&t1, "/t/r", "w");   /* the removed node: its ancestors' watches */
    EXPECT_EVENT(&t1, "/t/r/s", "s"); /* a removed descendant: its own watches only */
    EXPECT_NO_EVENT(&t1);
    /* watch requests ignore the transaction id */
    tc_send(&t1, XS_WATCH, 4242, "/t2\0x\0", 6);
    EXPECT_OK(&t1, XS_WATCH);
    tc_clear_events(&t1);
    /* closing a connection drops its transactions */
    tx = tc_txn(&t1);
    tc_send(&t1, XS_WRITE, tx, "/t/never\0", 9);
    TQ(&t1, XS_RESET_WATCHES, 0, "");
}

/* Inside a transaction every node is seen as it was at the transaction's
 * first access to it, whatever other connections do meanwhile (answers
 * checked against xenstored 4.17). */
static void test_transaction_snapshot(void **state)
{
    char gen1[32];
    uint32_t tx;

    TQ(&t1, XS_WRITE, 0, "/rp/x\0old");
    TQ(&t1, XS_WRITE, 0, "/rp/y\0v");
    tx = tc_txn(&t0);
    TQ(&t0, XS_READ, tx, "/rp/x\0");
    EXPECT(&t0, XS_READ, "old");
    TQ(&t0, XS_DIRECTORY, tx, "/rp\0");
    EXPECT(&t0, XS_DIRECTORY, "x\0y\0");
    TQ(&t0, XS_DIRECTORY_PART, tx,
       "/rp\0"
       "0\0");
    assert_int_equal(t0.rtype, XS_DIRECTORY_PART);
    assert_true(strlen(t0.rp) < sizeof(gen1));
    memcpy(gen1, t0.rp, strlen(t0.rp) + 1);
    TQ(&t0, XS_READ, tx, "/rp/z\0");
    EXPECT_ERR(&t0, "ENOENT");
    TQ(&t0, XS_GET_PERMS, tx, "/rp/y\0");
    EXPECT(&t0, XS_GET_PERMS, "n0\0");
    TQ(&t0, XS_READ, tx, "/rq/a\0"); /* records /rq as absent too */
    EXPECT_ERR(&t0, "ENOENT");

    /* another connection changes all of it */
    TQ(&t1, XS_WRITE, 0, "/rp/x\0new");
    TQ(&t1, XS_RM, 0, "/rp/x\0");
    TQ(&t1, XS_WRITE, 0, "/rp/z\0now");
    TQ(&t1, XS_SET_PERMS, 0, "/rp/y\0b0\0");
    TQ(&t1, XS_WRITE, 0, "/rp/w\0later");
    TQ(&t1, XS_WRITE, 0, "/rq/a\0made");

    /* the transaction's view has not moved */
    TQ(&t0, XS_READ, tx, "/rp/x\0");
    EXPECT(&t0, XS_READ, "old");
    TQ(&t0, XS_DIRECTORY, tx, "/rp\0");
    EXPECT(&t0, XS_DIRECTORY, "x\0y\0");
    TQ(&t0, XS_DIRECTORY_PART, tx,
       "/rp\0"
       "0\0");
    assert_int_equal(t0.rtype, XS_DIRECTORY_PART);
    assert_string_equal(t0.rp, gen1);
    assert_memory_equal(t0.rp + strlen(gen1) + 1, "x\0y\0\0", 5);
    TQ(&t0, XS_READ, tx, "/rp/z\0");
    EXPECT_ERR(&t0, "ENOENT");
    TQ(&t0, XS_GET_PERMS, tx, "/rp/z\0");
    EXPECT_ERR(&t0, "ENOENT");
    TQ(&t0, XS_SET_PERMS, tx, "/rp/z\0n0\0");
    EXPECT_ERR(&t0, "ENOENT");
    TQ(&t0, XS_GET_PERMS, tx, "/rp/y\0");
    EXPECT(&t0, XS_GET_PERMS, "n0\0");
    TQ(&t0, XS_READ, tx, "/rq\0");
    EXPECT_ERR(&t0, "ENOENT");
    TQ(&t0, XS_DIRECTORY, tx, "/rq\0");
    EXPECT_ERR(&t0, "ENOENT");
    /* a node first seen now is seen as it is now */
    TQ(&t0, XS_READ, tx, "/rp/w\0");
    EXPECT(&t0, XS_READ, "later");
    /* changes build on the transaction's view */
    TQ(&t0, XS_WRITE, tx, "/rp/x/kid\0k");
    EXPECT_OK(&t0, XS_WRITE);
    TQ(&t0, XS_DIRECTORY, tx, "/rp/x\0");
    EXPECT(&t0, XS_DIRECTORY, "kid\0");
    TQ(&t0, XS_READ, tx, "/rp/x\0");
    EXPECT(&t0, XS_READ, "old");
    /* what it read changed: the commit fails and changes nothing */
    commit_conflicts(tx);
    TQ(&t0, XS_READ, 0, "/rp/x\0");
    EXPECT_ERR(&t0, "ENOENT");
    TQ(&t0, XS_DIRECTORY, 0, "/rp\0");
    EXPECT(&t0, XS_DIRECTORY, "y\0z\0w\0");

    /* a node created outside after the transaction saw it absent */
    tx = tc_txn(&t0);
    TQ(&t0, XS_READ, tx, "/ab/c\0");
    EXPECT_ERR(&t0, "ENOENT");
    TQ(&t1, XS_WRITE, 0, "/ab/c\0outside");
    TQ(&t0, XS_READ, tx, "/ab/c\0");
    EXPECT_ERR(&t0, "ENOENT");
    TQ(&t0, XS_MKDIR, tx, "/ab/c\0");
    EXPECT_OK(&t0, XS_MKDIR);
    TQ(&t0, XS_READ, tx, "/ab/c\0");
    EXPECT(&t0, XS_READ, "");
    commit_conflicts(tx);
    TQ(&t0, XS_READ, 0, "/ab/c\0");
    EXPECT(&t0, XS_READ, "outside");

    /* unrelated outside changes do not disturb a commit built on reads */
    tx = tc_txn(&t0);
    TQ(&t0, XS_READ, tx, "/rp/y\0");
    TQ(&t1, XS_WRITE, 0, "/rp/z\0again");
    TQ(&t0, XS_WRITE, tx, "/rp/y\0from-tx");
    TQ(&t0, XS_TRANSACTION_END, tx, "T\0");
    EXPECT_OK(&t0, XS_TRANSACTION_END);
    TQ(&t0, XS_READ, 0, "/rp/y\0");
    EXPECT(&t0, XS_READ, "from-tx");
    TQ(&t0, XS_GET_PERMS, 0, "/rp/y\0");
    EXPECT(&t0, XS_GET_PERMS, "b0\0"); /* the copy was taken after the SET_PERMS */

    /* removing in a transaction what was removed outside meanwhile */
    tx = tc_txn(&t0);
    TQ(&t0, XS_DIRECTORY, tx, "/rp\0");
    EXPECT(&t0, XS_DIRECTORY, "y\0z\0w\0");
    TQ(&t0, XS_READ, tx, "/rp/w\0");
    TQ(&t1, XS_RM, 0, "/rp/w\0");
    TQ(&t0, XS_RM, tx, "/rp/w\0");
    EXPECT_OK(&t0, XS_RM);
    TQ(&t0, XS_DIRECTORY, tx, "/rp\0");
    EXPECT(&t0, XS_DIRECTORY, "y\0z\0");
    commit_conflicts(tx);
    tc_clear_events(&t0);
    tc_clear_events(&t1);
}

/* Removal inside a transaction whose view others made inconsistent: EIO
 * as in xenstored 4.17, keeping what its tree walk removed before it
 * stopped; the transaction cannot commit. */
static void test_transaction_rm_inconsistent(void **state)
{
    uint32_t tx;

    TQ(&t1, XS_WRITE, 0, "/ru/a/b\0v");
    TQ(&t1, XS_WRITE, 0, "/ru/a/c/d\0v");
    TQ(&t1, XS_WRITE, 0, "/ru/a/e\0v");
    /* a listed child gone: the walk removed b, then stopped at c */
    tx = tc_txn(&t0);
    TQ(&t0, XS_DIRECTORY, tx, "/ru/a\0");
    EXPECT(&t0, XS_DIRECTORY, "b\0c\0e\0");
    TQ(&t1, XS_RM, 0, "/ru/a/c\0");
    TQ(&t0, XS_RM, tx, "/ru/a\0");
    EXPECT_ERR(&t0, "EIO");
    TQ(&t0, XS_DIRECTORY, tx, "/ru/a\0");
    EXPECT(&t0, XS_DIRECTORY, "c\0e\0");
    TQ(&t0, XS_READ, tx, "/ru/a/b\0");
    EXPECT_ERR(&t0, "ENOENT");
    TQ(&t0, XS_READ, tx, "/ru/a/e\0");
    EXPECT(&t0, XS_READ, "v");
    commit_conflicts(tx);
    TQ(&t0, XS_DIRECTORY, 0, "/ru/a\0");
    EXPECT(&t0, XS_DIRECTORY, "b\0e\0");
    /* a child its parent's copy does not list: removed, then EIO */
    tx = tc_txn(&t0);
    TQ(&t0, XS_DIRECTORY, tx, "/ru\0");
    TQ(&t1, XS_WRITE, 0, "/ru/n/m\0v");
    TQ(&t0, XS_RM, tx, "/ru/n\0");
    EXPECT_ERR(&t0, "EIO");
    TQ(&t0, XS_READ, tx, "/ru/n/m\0");
    EXPECT_ERR(&t0, "ENOENT");
    commit_conflicts(tx);
    /* the parent gone from the view: EINVAL */
    tx = tc_txn(&t0);
    TQ(&t0, XS_READ, tx, "/ru/a/b\0");
    TQ(&t1, XS_RM, 0, "/ru/a\0");
    TQ(&t0, XS_RM, tx, "/ru/a/b\0");
    EXPECT_ERR(&t0, "EINVAL");
    TQ(&t0, XS_READ, tx, "/ru/a/b\0");
    EXPECT(&t0, XS_READ, "v");
    commit_conflicts(tx);
    tc_clear_events(&t0);
    tc_clear_events(&t1);
}

/* The copies a transaction keeps are bounded by the per-transaction node
 * quota, and all go when it ends. */
static void test_transaction_memory_bound(void **state)
{
    struct xst_counts counts = {0};
    struct xsim_xs_config cfg;
    struct xsim_xs *x;
    struct tc a, d;
    char buf[2100], val[2000];
    long before, during;
    int ok = 0;
    uint32_t tx;

    xsim_xs_config_init(&cfg);
    cfg.alloc = xst_count_alloc;
    cfg.ctx = &counts;
    assert_int_equal(xsim_xs_create(&cfg, &x), 0);
    tc_open(x, &a, 0, true);
    TQ(&a, XS_INTRODUCE, 0,
       "5\0"
       "1\0"
       "1\0");
    TQ(&a, XS_WRITE, 0, "/m\0");
    TQ(&a, XS_SET_PERMS, 0, "/m\0n0\0r5\0");
    memset(val, 'v', sizeof(val));
    for (int i = 0; i < 1100; i++) {
        int n = snprintf(buf, sizeof(buf), "/m/%d", i);

        memcpy(buf + n + 1, val, sizeof(val));
        tc_send(&a, XS_WRITE, 0, buf, (uint32_t)n + 1 + sizeof(val));
        EXPECT_OK(&a, XS_WRITE);
    }
    tc_open(x, &d, 5, false);
    before = atomic_load(&counts.bytes);
    tx = tc_txn(&d);
    for (int i = 0; i < 1100; i++) {
        int n = snprintf(buf, sizeof(buf), "/m/%d", i);

        tc_send(&d, XS_READ, tx, buf, (uint32_t)n + 1);
        if (d.rtype == XS_ERROR) {
            EXPECT_ERR(&d, "ENOSPC");
            break;
        }
        assert_int_equal(d.rlen, sizeof(val));
        ok++;
    }
    /* one record (and copy) per node read, up to the quota */
    assert_int_equal(ok, XSIM_XS_QUOTA_TXN_NODES);
    during = atomic_load(&counts.bytes) - before;
    printf("a transaction holding %d copies of 2000-byte nodes: %ld bytes\n", ok, during);
    assert_true(during >= (long)XSIM_XS_QUOTA_TXN_NODES * (long)sizeof(val));
    assert_true(during <= (long)XSIM_XS_QUOTA_TXN_NODES * ((long)sizeof(val) + 512) + 65536);
    /* a node already recorded needs nothing more */
    TQ(&d, XS_READ, tx, "/m/0\0");
    assert_int_equal(d.rlen, sizeof(val));
    TQ(&d, XS_TRANSACTION_END, tx, "F\0");
    EXPECT_OK(&d, XS_TRANSACTION_END);
    assert_int_equal(atomic_load(&counts.bytes), before);
    xsim_xs_conn_close(d.c);
    xsim_xs_conn_close(a.c);
    xsim_xs_destroy(x);
    assert_int_equal(atomic_load(&counts.allocs), 0);
}

/* TRANSACTION_END's answers, checked against xenstored 4.17: the argument
 * is judged before the transaction is looked for. */
static void test_transaction_end_args(void **state)
{
    static const struct {
        const char *p;
        uint32_t len;
        const char *outside, *inside; /* NULL inside: OK, the transaction ends */
    } cases[] = {
        {"T", 2, "ENOENT", NULL},        {"F", 2, "ENOENT", NULL},
        {"", 1, "EINVAL", "EINVAL"},     {"X", 2, "EINVAL", "EINVAL"},
        {"", 0, "EINVAL", "EINVAL"},     {"T", 1, "EINVAL", "EINVAL"},
        {"T\0x", 4, "EINVAL", "EINVAL"}, {"TT", 3, "EINVAL", "EINVAL"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint32_t tx;

        tc_send(&t0, XS_TRANSACTION_END, 0, cases[i].p, cases[i].len);
        assert_int_equal(t0.rtype, XS_ERROR);
        assert_string_equal(t0.rp, cases[i].outside);
        tx = tc_txn(&t0);
        tc_send(&t0, XS_TRANSACTION_END, tx, cases[i].p, cases[i].len);
        if (cases[i].inside == NULL) {
            EXPECT_OK(&t0, XS_TRANSACTION_END);
            tc_send(&t0, XS_TRANSACTION_END, tx, "F", 2);
            EXPECT_ERR(&t0, "ENOENT"); /* gone */
        } else {
            assert_int_equal(t0.rtype, XS_ERROR);
            assert_string_equal(t0.rp, cases[i].inside);
            tc_send(&t0, XS_TRANSACTION_END, tx, "F", 2);
            EXPECT_OK(&t0, XS_TRANSACTION_END); /* still open */
        }
        /* an unknown id is ENOENT whatever the argument */
        tc_send(&t0, XS_TRANSACTION_END, 9999, cases[i].p, cases[i].len);
        EXPECT_ERR(&t0, "ENOENT");
    }
}

static void test_domains(void **state)
{
    TQ(&t0, XS_IS_DOMAIN_INTRODUCED, 0, "0\0");
    EXPECT(&t0, XS_IS_DOMAIN_INTRODUCED, "T\0");
    TQ(&t0, XS_IS_DOMAIN_INTRODUCED, 0, "3\0");
    EXPECT(&t0, XS_IS_DOMAIN_INTRODUCED, "F\0");
    TQ(&t0, XS_INTRODUCE, 0,
       "3\0"
       "4096\0");
    EXPECT_ERR(&t0, "EINVAL");
    TQ(&t0, XS_INTRODUCE, 0,
       "3\0"
       "4096\0"
       "0\0");
    EXPECT_ERR(&t0, "EINVAL");
    TQ(&t0, XS_INTRODUCE, 0,
       "32752\0"
       "4096\0"
       "1\0");
    EXPECT_ERR(&t0, "ENOENT");
    TQ(&t0, XS_INTRODUCE, 0,
       "3\0"
       "4096\0"
       "7\0");
    EXPECT_OK(&t0, XS_INTRODUCE);
    assert_true(xsim_xs_domain_introduced(xs, 3));
    TQ(&t0, XS_INTRODUCE, 0,
       "3\0"
       "4096\0"
       "7\0"); /* again: nothing happens */
    EXPECT_OK(&t0, XS_INTRODUCE);
    TQ(&t0, XS_IS_DOMAIN_INTRODUCED, 0, "3\0");
    EXPECT(&t0, XS_IS_DOMAIN_INTRODUCED, "T\0");
    TQ(&t0, XS_RESUME, 0, "3\0");
    EXPECT_OK(&t0, XS_RESUME);
    TQ(&t0, XS_RESUME, 0, "4\0");
    EXPECT_ERR(&t0, "ENOENT");
    TQ(&t0, XS_RESUME, 0, "0\0");
    EXPECT_ERR(&t0, "EINVAL");
    /* a domain-owned node goes to dom0 when the domain goes */
    tc_open(xs, &d5, 3, false);
    TQ(&t0, XS_MKDIR, 0, "/local/domain/3\0");
    TQ(&t0, XS_SET_PERMS, 0, "/local/domain/3\0n3\0");
    TQ(&d5, XS_WRITE, 0, "mine\0x");
    EXPECT_OK(&d5, XS_WRITE);
    TQ(&t0, XS_SET_PERMS, 0, "/tool\0n0\0r3\0");
    TQ(&t0, XS_RELEASE, 0, "3\0");
    EXPECT_OK(&t0, XS_RELEASE);
    assert_false(xsim_xs_domain_introduced(xs, 3));
    TQ(&t0, XS_GET_PERMS, 0, "/local/domain/3/mine\0");
    EXPECT(&t0, XS_GET_PERMS, "n0\0");
    TQ(&t0, XS_GET_PERMS, 0, "/tool\0");
    EXPECT(&t0, XS_GET_PERMS, "n0\0r3\0");
    /* the released domain's connection is cut off */
    {
        struct xsd_sockmsg h = {.type = XS_READ, .len = 5};
        char buf[sizeof(h) + 5];

        memcpy(buf, &h, sizeof(h));
        memcpy(buf + sizeof(h), "mine\0", 5);
        assert_int_equal(xsim_xs_conn_input(d5.c, buf, sizeof(buf)), -ENOTCONN);
    }
    xsim_xs_conn_close(d5.c);
    TQ(&t0, XS_RELEASE, 0, "3\0");
    EXPECT_ERR(&t0, "ENOENT");
    TQ(&t0, XS_RELEASE, 0, "0\0");
    EXPECT_ERR(&t0, "EINVAL");
    /* a new domain with the old id inherits nothing */
    domu(&d5, 3);
    TQ(&d5, XS_READ, 0, "/tool\0");
    EXPECT_ERR(&d5, "EACCES");
    /* SET_TARGET: a device model acting for domain 3 */
    domu(&d6, 4);
    TQ(&t0, XS_SET_TARGET, 0,
       "4\0"
       "3\0");
    EXPECT_OK(&t0, XS_SET_TARGET);
    TQ(&t0, XS_WRITE, 0, "/dm\0v");
    TQ(&t0, XS_SET_PERMS, 0, "/dm\0n3\0");
    TQ(&d6, XS_READ, 0, "/dm\0");
    EXPECT(&d6, XS_READ, "v");
    TQ(&t0, XS_SET_TARGET, 0,
       "4\0"
       "99\0");
    EXPECT_ERR(&t0, "ENOENT");
    TQ(&t0, XS_SET_TARGET, 0, "4\0");
    EXPECT_ERR(&t0, "EINVAL");
    xsim_xs_conn_close(d5.c);
    xsim_xs_conn_close(d6.c);
    /* DEBUG */
    TQ(&t0, XS_CONTROL, 0, "check\0");
    EXPECT_OK(&t0, XS_CONTROL);
    TQ(&t0, XS_CONTROL, 0, "print\0hello\0");
    EXPECT_OK(&t0, XS_CONTROL);
    TQ(&t0, XS_CONTROL, 0, "help\0");
    assert_int_equal(t0.rtype, XS_CONTROL);
    TQ(&t0, XS_CONTROL, 0, "bogus\0");
    EXPECT_ERR(&t0, "EINVAL");
}

static void test_release_during_transaction(void **state)
{
    uint32_t tx;

    TQ(&t0, XS_INTRODUCE, 0,
       "4\0"
       "1\0"
       "1\0");
    TQ(&t0, XS_WRITE, 0, "/n\0v");
    TQ(&t0, XS_SET_PERMS, 0, "/n\0n0\0r4\0");
    tx = tc_txn(&t0);
    tc_send(&t0, XS_WRITE, tx, "/n\0w", 4); /* the transaction copies /n */
    TQ(&t0, XS_RELEASE, 0, "4\0");
    tc_send(&t0, XS_TRANSACTION_END, tx, "T\0", 2);
    EXPECT_OK(&t0, XS_TRANSACTION_END);
    /* the next domain 4 gets nothing from the copy */
    domu(&d5, 4);
    TQ(&d5, XS_READ, 0, "/n\0");
    EXPECT_ERR(&d5, "EACCES");
    xsim_xs_conn_close(d5.c);
}

/* ---- hooks ---- */

struct hooks {
    int introduced, released, exists_calls;
    int fail_introduce;
    char logged[64];
};

static bool h_exists(void *ctx, unsigned int domid)
{
    struct hooks *h = ctx;

    h->exists_calls++;
    return domid == 11 || domid == 12;
}

static int h_introduce(void *ctx, unsigned int domid, uint64_t mfn, uint32_t port)
{
    struct hooks *h = ctx;

    if (h->fail_introduce)
        return -EIO;
    assert_int_equal(mfn, 4096);
    assert_int_equal(port, 9);
    h->introduced++;
    return 0;
}

static void h_release(void *ctx, unsigned int domid)
{
    ((struct hooks *)ctx)->released++;
}

static void h_log(void *ctx, const char *text)
{
    snprintf(((struct hooks *)ctx)->logged, 64, "%s", text);
}

static void test_hooks(void **state)
{
    struct xsim_xs_config cfg;
    struct hooks h = {0};
    struct xsim_xs *x;
    struct tc a;

    xsim_xs_config_init(&cfg);
    cfg.domain_exists = h_exists;
    cfg.introduce = h_introduce;
    cfg.release = h_release;
    cfg.log = h_log;
    cfg.ctx = &h;
    assert_int_equal(xsim_xs_create(&cfg, &x), 0);
    tc_open(x, &a, 0, true);
    TQ(&a, XS_INTRODUCE, 0,
       "10\0"
       "4096\0"
       "9\0");
    EXPECT_ERR(&a, "ENOENT");
    TQ(&a, XS_WRITE, 0, "/x\0");
    TQ(&a, XS_SET_PERMS, 0, "/x\0n12\0r13\0"); /* 12 exists in the hypervisor */
    EXPECT_OK(&a, XS_SET_PERMS);
    TQ(&a, XS_INTRODUCE, 0,
       "11\0"
       "4096\0"
       "9\0");
    EXPECT_OK(&a, XS_INTRODUCE);
    h.fail_introduce = 1;
    TQ(&a, XS_INTRODUCE, 0,
       "12\0"
       "4096\0"
       "9\0");
    EXPECT_ERR(&a, "EIO");
    assert_false(xsim_xs_domain_introduced(x, 12));
    TQ(&a, XS_RELEASE, 0, "11\0");
    EXPECT_OK(&a, XS_RELEASE);
    assert_int_equal(h.introduced, 1);
    assert_int_equal(h.released, 1);
    assert_true(h.exists_calls > 0);
    TQ(&a, XS_CONTROL, 0, "print\0to the log\0");
    assert_string_equal(h.logged, "to the log");
    xsim_xs_conn_close(a.c);
    xsim_xs_destroy(x);
}

static void test_framing(void **state)
{
    struct xsd_sockmsg h = {.type = XS_READ, .req_id = 1, .len = 6};
    char stream[3 * (sizeof(h) + 6)];
    struct tc a;
    size_t n = 0;

    tc_open(xs, &a, 0, true);
    for (int i = 0; i < 3; i++) {
        h.req_id = (uint32_t)i + 1;
        memcpy(stream + n, &h, sizeof(h));
        memcpy(stream + n + sizeof(h), "/tool\0", 6);
        n += sizeof(h) + 6;
    }
    /* byte by byte: three replies in order */
    for (size_t i = 0; i < n; i++)
        assert_int_equal(xsim_xs_conn_input(a.c, stream + i, 1), 1);
    {
        char out[256];
        size_t len = xsim_xs_conn_output(a.c, out, sizeof(out)), off = 0;
        struct xsd_sockmsg r;
        const char *p;

        for (uint32_t i = 1; i <= 3; i++) {
            assert_true(xst_next_msg(out, len, &off, &r, &p));
            assert_int_equal(r.req_id, i);
            assert_int_equal(r.type, XS_READ);
        }
        assert_int_equal(off, len);
    }
    /* all at once, output pulled in odd pieces */
    assert_int_equal(xsim_xs_conn_input(a.c, stream, n), (long)n);
    assert_int_equal(xsim_xs_conn_output_pending(a.c), 3 * sizeof(h));
    {
        char out[256];
        size_t got = 0;

        while (xsim_xs_conn_output_pending(a.c) > 0)
            got += xsim_xs_conn_output(a.c, out + got, 5);
        assert_int_equal(got, 3 * sizeof(h));
    }
    /* an oversized header kills the connection */
    h.len = XENSTORE_PAYLOAD_MAX + 1;
    assert_int_equal(xsim_xs_conn_input(a.c, &h, sizeof(h)), -EMSGSIZE);
    assert_int_equal(xsim_xs_conn_input(a.c, stream, n), -ENOTCONN);
    /* a reset brings it back (a ring reconnect) */
    xsim_xs_conn_reset(a.c);
    assert_int_equal(xsim_xs_conn_input(a.c, stream, n), (long)n);
    tc_pump(&a);
    xsim_xs_conn_close(a.c);
}

/* A request's payload buffer is sized to it and gone once it is
 * processed; without memory for it the request gets ENOMEM and the
 * connection goes on. */
struct sized_fail {
    struct xst_counts counts;
    size_t fail_size; /* refuse blocks of exactly this size */
};

static void *sized_fail_alloc(void *ctx, void *p, size_t n)
{
    struct sized_fail *f = ctx;

    if (p == NULL && n != 0 && n == f->fail_size)
        return NULL;
    return xst_count_alloc(&f->counts, p, n);
}

static void test_input_buffer(void **state)
{
    static char req[sizeof(struct xsd_sockmsg) + 3008];
    struct xsd_sockmsg h = {.type = XS_WRITE, .req_id = 77, .len = 3000};
    struct xsim_xs_config cfg;
    struct sized_fail f = {{0}, 0};
    struct xsim_xs *x;
    struct tc a;
    long before;

    xsim_xs_config_init(&cfg);
    cfg.alloc = sized_fail_alloc;
    cfg.ctx = &f;
    assert_int_equal(xsim_xs_create(&cfg, &x), 0);
    tc_open(x, &a, 0, true);
    TQ(&a, XS_WRITE, 0, "/in\0");
    memcpy(req, &h, sizeof(h));
    memcpy(req + sizeof(h), "/in", 4);
    memset(req + sizeof(h) + 4, 'x', 2996);
    before = atomic_load(&f.counts.bytes);
    /* fed in pieces: the buffer lives while the request arrives */
    assert_int_equal(xsim_xs_conn_input(a.c, req, 100), 100);
    assert_true(atomic_load(&f.counts.bytes) >= before + 3001);
    assert_int_equal(xsim_xs_conn_input(a.c, req + 100, sizeof(h) + 2900), sizeof(h) + 2900);
    tc_pump(&a);
    EXPECT_OK(&a, XS_WRITE);
    TQ(&a, XS_READ, 0, "/in\0");
    assert_int_equal(a.rlen, 2996);
    /* the value replaced the empty one; nothing else stays */
    assert_int_equal(atomic_load(&f.counts.bytes), before + 2996);
    /* no memory for the payload */
    f.fail_size = 3001;
    assert_int_equal(xsim_xs_conn_input(a.c, req, sizeof(h) + 3000), sizeof(h) + 3000);
    tc_pump(&a);
    EXPECT_ERR(&a, "ENOMEM");
    f.fail_size = 0;
    TQ(&a, XS_READ, 0, "/in\0");
    assert_int_equal(a.rlen, 2996);
    /* a connection closed mid-request frees its buffer */
    assert_int_equal(xsim_xs_conn_input(a.c, req, 200), 200);
    xsim_xs_conn_close(a.c);
    xsim_xs_destroy(x);
    assert_int_equal(atomic_load(&f.counts.allocs), 0);
}

/* ---- allocation failures ---- */

struct failing {
    long countdown; /* fail the allocation when it reaches 0; <0: never */
    long live;
    long failures;
};

static void *failing_alloc(void *ctx, void *p, size_t n)
{
    struct failing *f = ctx;
    void *q;

    if (n == 0) {
        if (p != NULL)
            f->live--;
        free(p);
        return NULL;
    }
    if (f->countdown == 0) {
        f->countdown = -1;
        f->failures++;
        return NULL;
    }
    if (f->countdown > 0)
        f->countdown--;
    q = realloc(p, n);
    if (q != NULL && p == NULL)
        f->live++;
    return q;
}

/* A scenario touching every allocation site; returns false if the store
 * could not even be created. */
static bool scenario(struct xsim_xs_config *cfg)
{
    static const struct {
        uint32_t type;
        int conn;
        bool tx;
        const char *p;
        uint32_t len;
    } reqs[] = {
#define R(c, type, tx, lit) {type, c, tx, lit, sizeof(lit) - 1}
        R(1, XS_WATCH, false, "/s\0tok\0"),
        R(1, XS_WATCH, false, "@releaseDomain\0r\0"),
        R(0, XS_WRITE, false, "/s/a/b/c\0value"),
        R(0, XS_WRITE, false, "/s/a/b/c\0value2"),
        R(0, XS_SET_PERMS, false, "/s/a\0n0\0r2\0"),
        R(0, XS_INTRODUCE, false,
          "2\0"
          "1\0"
          "1\0"),
        R(0, XS_SET_PERMS, false, "/s/a\0n2\0r0\0"),
        R(2, XS_WRITE, false, "/s/a/mine\0x"),
        R(2, XS_WATCH, false, "/s/a\0t\0"),
        R(0, XS_TRANSACTION_START, false, ""),
        R(0, XS_WRITE, true, "/s/t/x/y\0v"),
        R(0, XS_RM, true, "/s/a/b\0"),
        R(0, XS_SET_PERMS, true, "/s/t\0n0\0"),
        R(0, XS_READ, true, "/s/t/x/y\0"),
        R(0, XS_TRANSACTION_END, true, "T\0"),
        R(0, XS_DIRECTORY_PART, false,
          "/s\0"
          "0\0"),
        R(0, XS_RM, false, "/s/a\0"),
        R(0, XS_RELEASE, false, "2\0"),
        R(1, XS_UNWATCH, false, "/s\0tok\0"),
        R(0, XS_GET_PERMS, false, "/s\0"),
        /* a payload longer than a connection keeps at hand */
        R(0, XS_WRITE, false,
          "/s/long\0"
          "0123456789012345678901234567890123456789012345678901234567890123456789"),
        R(1, XS_WATCH, false, "/s\0tok\0"),
        R(1, XS_WATCH, false, "/s/long\0tok\0"),
        R(0, XS_WRITE, false, "/s/long\0v"),
        R(0, XS_WRITE, false, "/s/long\0w"),
#undef R
    };
    struct xsim_xs *x;
    struct xsim_xs_conn *c[3] = {0};
    uint32_t tx = 0;

    if (xsim_xs_create(cfg, &x) != 0)
        return false;
    for (int i = 0; i < 3; i++)
        (void)xsim_xs_conn_open(x, i == 2 ? 2 : 0, i != 2, NULL, NULL, &c[i]);
    for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
        struct xsd_sockmsg h = {.type = reqs[i].type, .len = reqs[i].len};
        char buf[sizeof(h) + 256], out[8192];
        size_t n, off = 0;

        if (c[reqs[i].conn] == NULL)
            continue;
        h.tx_id = reqs[i].tx ? tx : 0;
        memcpy(buf, &h, sizeof(h));
        memcpy(buf + sizeof(h), reqs[i].p, reqs[i].len);
        (void)xsim_xs_conn_input(c[reqs[i].conn], buf, sizeof(h) + reqs[i].len);
        for (int k = 0; k < 3; k++) {
            if (c[k] == NULL)
                continue;
            n = xsim_xs_conn_output(c[k], out, sizeof(out));
            off = 0;
            /* whatever failed, the output is well-formed */
            while (off < n) {
                struct xsd_sockmsg r;
                const char *p;

                assert_true(xst_next_msg(out, n, &off, &r, &p));
                if (k == reqs[i].conn && r.type == XS_TRANSACTION_START)
                    tx = (uint32_t)strtoul(p, NULL, 10);
                if (r.type == XS_ERROR)
                    assert_true(strcmp(p, "ENOMEM") == 0 || strcmp(p, "ENOENT") == 0 ||
                                strcmp(p, "EACCES") == 0 || strcmp(p, "EAGAIN") == 0 ||
                                strcmp(p, "EINVAL") == 0);
            }
        }
    }
    for (int i = 0; i < 3; i++)
        xsim_xs_conn_close(c[i]);
    xsim_xs_destroy(x);
    return true;
}

static void test_alloc_failure_sweep(void **state)
{
    struct xsim_xs_config cfg;
    struct failing f;
    long n;

    xsim_xs_config_init(&cfg);
    cfg.alloc = failing_alloc;
    cfg.ctx = &f;
    for (n = 0; n < 100000; n++) {
        memset(&f, 0, sizeof(f));
        f.countdown = n;
        scenario(&cfg);
        assert_int_equal(f.live, 0); /* no leak, whatever failed */
        if (f.failures == 0)
            break; /* the whole scenario ran without reaching allocation n */
    }
    assert_true(n > 50);
    printf("allocation-failure sweep: %ld allocation sites failed in turn\n", n);
}

/* A case run on a fresh store and its two dom0 connections: setup before
 * it, teardown after. */
#define FRESH(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        FRESH(test_initial_tree),
        FRESH(test_read_write_directory),
        FRESH(test_directory_part),
        FRESH(test_errors_and_paths),
        FRESH(test_perms_unprivileged),
        FRESH(test_quotas),
        FRESH(test_watches),
        FRESH(test_event_queue_bound),
        FRESH(test_event_merge),
        cmocka_unit_test(test_event_bytes_bound),
        FRESH(test_transactions),
        FRESH(test_transaction_snapshot),
        FRESH(test_transaction_rm_inconsistent),
        cmocka_unit_test(test_transaction_memory_bound),
        FRESH(test_transaction_end_args),
        FRESH(test_domains),
        FRESH(test_release_during_transaction),
        cmocka_unit_test(test_hooks),
        FRESH(test_framing),
        cmocka_unit_test(test_input_buffer),
        cmocka_unit_test(test_alloc_failure_sweep),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
