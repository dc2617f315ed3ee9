/*
 * test_xs_badinput.c - hand-written bad input against the XenStore daemon
 * on its Unix socket: each case gets its documented error reply or a
 * closed connection, never a crash or a hang, and a bystander connection
 * keeps being served throughout.
 *
 * Documented answers (see xenstore.h):
 *   header with len > 4096            connection closed
 *   header or payload cut short       nothing (the daemon waits; no hang
 *                                     for others); closed at EOF
 *   unknown or daemon-only type       ENOSYS
 *   invalid or overlong path          EINVAL (UNWATCH: ENOENT, no such watch)
 *   a string without its NUL          EINVAL
 *   tx id unknown or another's        ENOENT
 *   TRANSACTION_END not "T"/"F"       EINVAL, the transaction stays open
 *   watches on one privileged conn    8192 (XSIM_XS_PRIV_MAX_WATCHES), then
 *                                     E2BIG; the connection keeps working
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "xensim/prng.h"
#include "xenstore/xs_test_util.h"

static struct xst_server srv;
static int bystander;
static char reply[XENSTORE_PAYLOAD_MAX + 1];
static struct xsd_sockmsg rh;

static int group_setup(void **state)
{
    char path[108];

    xst_sock_path(path, sizeof(path), "badinput");
    assert_int_equal(xst_server_start(&srv, NULL, path), 0);
    bystander = xst_connect(srv.path, 5000);
    assert_true(bystander >= 0);
    assert_int_equal(xst_call(bystander, XS_WRITE, 0, "/by/stander\0ok", 14, &rh, reply, NULL), 0);
    return 0;
}

static int group_teardown(void **state)
{
    close(bystander);
    xst_server_stop(&srv);
    return 0;
}

/* The bystander is still served, promptly. */
static void bystander_ok(void)
{
    assert_int_equal(xst_call(bystander, XS_READ, 0, "/by/stander\0", 12, &rh, reply, NULL), 0);
    assert_int_equal(rh.type, XS_READ);
    assert_string_equal(reply, "ok");
}

static int conn(void)
{
    int fd = xst_connect(srv.path, 5000);

    assert_true(fd >= 0);
    return fd;
}

/* Send and expect reply type and payload (a C string, NUL included). */
static void expect(int fd, uint32_t type, uint32_t tx, const void *p, uint32_t len, uint32_t rtype,
                   const char *rpayload)
{
    assert_int_equal(xst_call(fd, type, tx, p, len, &rh, reply, NULL), 0);
    assert_int_equal(rh.type, rtype);
    if (rpayload != NULL) {
        assert_int_equal(rh.len, strlen(rpayload) + 1);
        assert_string_equal(reply, rpayload);
    }
}

#define EXP_ERR(fd, type, tx, lit, err) expect(fd, type, tx, lit, sizeof(lit) - 1, XS_ERROR, err)

static void expect_closed(int fd)
{
    struct xsd_sockmsg h;
    char buf[XENSTORE_PAYLOAD_MAX + 1];

    assert_int_equal(xst_recv(fd, &h, buf), -EPIPE);
}

static void test_oversized(void **state)
{
    struct xsd_sockmsg h = {.type = XS_READ, .len = XENSTORE_PAYLOAD_MAX + 1};
    uint32_t lens[] = {XENSTORE_PAYLOAD_MAX + 1, 65536, 0x7fffffff, 0xffffffffu};

    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        int fd = conn();

        h.len = lens[i];
        assert_int_equal(xst_send_raw(fd, &h, sizeof(h)), 0);
        expect_closed(fd);
        close(fd);
        bystander_ok();
    }
    /* exactly the maximum is fine */
    {
        int fd = conn();
        char *p = malloc(XENSTORE_PAYLOAD_MAX);

        memcpy(p, "/max\0", 5);
        memset(p + 5, 'q', XENSTORE_PAYLOAD_MAX - 5);
        expect(fd, XS_WRITE, 0, p, XENSTORE_PAYLOAD_MAX, XS_WRITE, "OK");
        free(p);
        close(fd);
    }
}

static void test_truncated(void **state)
{
    struct xsd_sockmsg h = {.type = XS_WRITE, .len = 100};
    int fd = conn();

    /* half a header, then silence: others are not held up */
    assert_int_equal(xst_send_raw(fd, &h, 10), 0);
    bystander_ok();
    /* the rest of the header and half the payload, then silence */
    assert_int_equal(xst_send_raw(fd, (char *)&h + 10, sizeof(h) - 10), 0);
    assert_int_equal(xst_send_raw(fd, "/trunc\0abc", 10), 0);
    bystander_ok();
    close(fd); /* EOF mid-message */
    bystander_ok();
    /* a header cut short by EOF */
    fd = conn();
    assert_int_equal(xst_send_raw(fd, &h, 3), 0);
    shutdown(fd, SHUT_WR);
    expect_closed(fd);
    close(fd);
    /* a request then EOF: the daemon may answer, then closes */
    fd = conn();
    assert_int_equal(xst_send(fd, XS_READ, 0, 0, "/by\0", 4), 0);
    shutdown(fd, SHUT_WR);
    {
        char buf[XENSTORE_PAYLOAD_MAX + 1];
        int err;

        while ((err = xst_recv(fd, &h, buf)) == 0)
            ;
        assert_int_equal(err, -EPIPE);
    }
    close(fd);
    bystander_ok();
    /* the node was never written */
    EXP_ERR(bystander, XS_READ, 0, "/trunc\0", "ENOENT");
}

static void test_unknown_types(void **state)
{
    uint32_t types[] = {XS_WATCH_EVENT, XS_ERROR,   20,          XS_TYPE_COUNT, 23,
                        0x100,          XS_INVALID, 0x80000000u, 0xffffffffu};
    int fd = conn();

    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        expect(fd, types[i], 0, "/a\0b\0", 5, XS_ERROR, "ENOSYS");
        expect(fd, types[i], 12345, "", 0, XS_ERROR, "ENOSYS");
    }
    close(fd);
    bystander_ok();
}

static void test_bad_paths(void **state)
{
    static const char *const bad[] = {"//x",   "/x/",  "/x//y", "/a b",
                                      "/a\tb", "/a.b", "/a:b",  "/\xc3\xa4",
                                      "@foo",  "",     "rel/",  "/local/domain/0/",
                                      "~"};
    static const uint32_t types[] = {XS_READ, XS_DIRECTORY, XS_GET_PERMS, XS_MKDIR, XS_RM};
    char buf[XENSTORE_PAYLOAD_MAX + 1];
    int fd = conn();

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint32_t n = (uint32_t)strlen(bad[i]) + 1;

        for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++)
            expect(fd, types[t], 0, bad[i], n, XS_ERROR, "EINVAL");
        memcpy(buf, bad[i], n);
        memcpy(buf + n, "v", 1);
        expect(fd, XS_WRITE, 0, buf, n + 1, XS_ERROR, "EINVAL");
        memcpy(buf + n, "n0", 3);
        expect(fd, XS_SET_PERMS, 0, buf, n + 3, XS_ERROR, "EINVAL");
        memcpy(buf + n, "0", 2);
        expect(fd, XS_DIRECTORY_PART, 0, buf, n + 2, XS_ERROR, "EINVAL");
        memcpy(buf + n, "tok", 4);
        if (bad[i][0] != '@') /* any "@name" is a valid special watch */
            expect(fd, XS_WATCH, 0, buf, n + 4, XS_ERROR, "EINVAL");
        expect(fd, XS_UNWATCH, 0, buf, n + 4, XS_ERROR, "ENOENT");
    }
    /* overlong: 2049 characters, and a whole payload of them */
    buf[0] = '/';
    for (int i = 1; i < XENSTORE_PAYLOAD_MAX - 1; i++)
        buf[i] = (i % 64 == 10) ? '/' : 'o';
    buf[2049] = '\0';
    expect(fd, XS_READ, 0, buf, 2050, XS_ERROR, "EINVAL");
    expect(fd, XS_WRITE, 0, buf, 2050, XS_ERROR, "EINVAL");
    buf[2049] = 'o';
    buf[XENSTORE_PAYLOAD_MAX - 1] = '\0';
    expect(fd, XS_MKDIR, 0, buf, XENSTORE_PAYLOAD_MAX, XS_ERROR, "EINVAL");
    expect(fd, XS_WATCH, 0, buf, XENSTORE_PAYLOAD_MAX, XS_ERROR, "EINVAL");
    memset(buf, 'r', XENSTORE_PAYLOAD_MAX - 1); /* a relative one */
    expect(fd, XS_READ, 0, buf, XENSTORE_PAYLOAD_MAX, XS_ERROR, "EINVAL");
    buf[0] = '@'; /* a special watch name over 2048 */
    memcpy(buf + 2100, "\0tok", 5);
    expect(fd, XS_WATCH, 0, buf, 2105, XS_ERROR, "EINVAL");
    close(fd);
    bystander_ok();
}

static void test_unterminated(void **state)
{
    static const struct {
        uint32_t type;
        const char *p;
        uint32_t len;
    } cases[] = {
#define C(type, lit) {type, lit, sizeof(lit) - 1}
        C(XS_READ, "/by"),
        C(XS_READ, "/by\0extra"),
        C(XS_READ, "/by\0/by\0"),
        C(XS_DIRECTORY, "/by"),
        C(XS_GET_PERMS, "/by"),
        C(XS_MKDIR, "/by"),
        C(XS_RM, "/by"),
        C(XS_WRITE, "/by/x"),
        C(XS_WATCH, "/by\0tok"),
        C(XS_WATCH, "/by"),
        C(XS_UNWATCH, "/by\0tok"),
        C(XS_SET_PERMS, "/by\0n0"),
        C(XS_SET_PERMS, "/by"),
        C(XS_DIRECTORY_PART, "/by\0"
                             "0"),
        C(XS_GET_DOMAIN_PATH, "1"),
        C(XS_IS_DOMAIN_INTRODUCED, "1"),
        C(XS_INTRODUCE, "1\0"
                        "2\0"
                        "3"),
        C(XS_RELEASE, "1"),
        C(XS_RESUME, "1"),
        C(XS_SET_TARGET, "1\0"
                         "2"),
        C(XS_CONTROL, "check"),
        C(XS_TRANSACTION_END, "T"),
#undef C
    };
    int fd = conn();

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint32_t tx = 0;

        if (cases[i].type == XS_TRANSACTION_END) {
            expect(fd, XS_TRANSACTION_START, 0, "", 1, XS_TRANSACTION_START, NULL);
            tx = (uint32_t)strtoul(reply, NULL, 10);
        }
        expect(fd, cases[i].type, tx, cases[i].p, cases[i].len, XS_ERROR, "EINVAL");
        if (tx != 0)
            expect(fd, XS_TRANSACTION_END, tx, "F", 2, XS_TRANSACTION_END, "OK");
    }
    /* the node named by the unterminated write was not created */
    EXP_ERR(fd, XS_READ, 0, "/by/x\0", "ENOENT");
    close(fd);
    bystander_ok();
}

static void test_foreign_transactions(void **state)
{
    static const char *const bad_ends[] = {"", "X", "TT", "t", "f", "T\0extra", "1"};
    int a = conn(), b = conn();
    uint32_t tx;

    expect(a, XS_TRANSACTION_START, 0, "", 1, XS_TRANSACTION_START, NULL);
    tx = (uint32_t)strtoul(reply, NULL, 10);
    expect(a, XS_WRITE, tx, "/tx/a\0v", 7, XS_WRITE, "OK");
    /* b may not use a's transaction, whatever it asks */
    EXP_ERR(b, XS_READ, tx, "/tx/a\0", "ENOENT");
    EXP_ERR(b, XS_WRITE, tx, "/tx/b\0v", "ENOENT");
    EXP_ERR(b, XS_TRANSACTION_END, tx, "T\0", "ENOENT");
    EXP_ERR(b, XS_TRANSACTION_END, tx, "F\0", "ENOENT");
    EXP_ERR(b, XS_READ, tx + 1000, "/tx/a\0", "ENOENT");
    EXP_ERR(b, XS_READ, 0xffffffffu, "/tx/a\0", "ENOENT");
    /* ends that are neither T nor F */
    for (size_t i = 0; i < sizeof(bad_ends) / sizeof(bad_ends[0]); i++) {
        uint32_t n = (uint32_t)strlen(bad_ends[i]) + 1;

        if (i == 5)
            n = 8;
        expect(a, XS_TRANSACTION_END, tx, bad_ends[i], n, XS_ERROR, "EINVAL");
    }
    /* the transaction is intact and still a's */
    expect(a, XS_READ, tx, "/tx/a\0", 6, XS_READ, NULL);
    assert_int_equal(rh.tx_id, tx);
    expect(a, XS_TRANSACTION_END, tx, "T", 2, XS_TRANSACTION_END, "OK");
    expect(b, XS_READ, 0, "/tx/a\0", 6, XS_READ, NULL);
    close(a);
    close(b);
    bystander_ok();
}

static void test_many_watches(void **state)
{
    int fd = conn();
    char buf[64];
    unsigned int ok = 0, e2big = 0, events = 0;

    for (int i = 0; i < 10000; i++) {
        int n = snprintf(buf, sizeof(buf), "/watched/w%d%ctok%d", i, 0, i);

        assert_int_equal(xst_call(fd, XS_WATCH, 0, buf, (uint32_t)n + 1, &rh, reply, &events), 0);
        if (rh.type == XS_WATCH) {
            ok++;
        } else {
            assert_int_equal(rh.type, XS_ERROR);
            assert_string_equal(reply, "E2BIG");
            e2big++;
        }
        if (i % 1000 == 0)
            bystander_ok();
    }
    assert_int_equal(ok, XSIM_XS_PRIV_MAX_WATCHES);
    assert_int_equal(e2big, 10000 - XSIM_XS_PRIV_MAX_WATCHES);
    /* the connection still works and its watches fire */
    events = 0;
    assert_int_equal(xst_call(bystander, XS_WRITE, 0, "/watched/w5\0x", 13, &rh, reply, NULL), 0);
    expect(fd, XS_READ, 0, "/watched/w5\0", 12, XS_READ, NULL);
    assert_int_equal(xst_call(fd, XS_RESET_WATCHES, 0, "", 0, &rh, reply, &events), 0);
    assert_int_equal(rh.type, XS_RESET_WATCHES);
    close(fd);
    bystander_ok();
}

static void test_garbage(void **state)
{
    struct xsim_rng rng;
    int fd = conn();

    /* well-framed messages of random types and payloads */
    xsim_rng_init(&rng, 1, "xenstore-badinput");
    for (int i = 0; i < 2000; i++) {
        char p[64];
        uint32_t type, len;

        uint64_t x = xsim_rng_next(&rng);

        type = (uint32_t)(x % 24);
        len = (uint32_t)((x >> 8) % sizeof(p));
        for (uint32_t k = 0; k < len; k++)
            p[k] = "/a\0b@T F0123"[(x >> (k % 50)) % 12];
        if (type == XS_RELEASE || type == XS_INTRODUCE)
            continue; /* fine, but would release the bystander's domain 0 */
        assert_int_equal(xst_call(fd, type, (uint32_t)(x >> 40) % 3, p, len, &rh, reply, NULL), 0);
        assert_true(rh.type < XS_TYPE_COUNT);
    }
    expect(fd, XS_RESET_WATCHES, 0, "", 0, XS_RESET_WATCHES, "OK");
    close(fd);
    bystander_ok();
}

static void test_many_connections(void **state)
{
    int fds[64];

    for (int i = 0; i < 64; i++) {
        fds[i] = conn();
        assert_int_equal(xst_send(fds[i], XS_WATCH, 0, 0, "/by\0t\0", 6), 0);
    }
    bystander_ok();
    for (int i = 0; i < 64; i++)
        close(fds[i]); /* abruptly, replies unread */
    bystander_ok();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_oversized),        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_unknown_types),    cmocka_unit_test(test_bad_paths),
        cmocka_unit_test(test_unterminated),     cmocka_unit_test(test_foreign_transactions),
        cmocka_unit_test(test_many_watches),     cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_many_connections),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
