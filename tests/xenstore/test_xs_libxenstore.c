/*
 * test_xs_libxenstore.c - Debian's libxenstore, the library the Xen tools
 * are built on, as a client of our daemon through XENSTORED_PATH: read,
 * write, directory (including the DIRECTORY_PART fallback), rm,
 * permissions, watches (the blocking read and the fd + xs_check_watch
 * path, removal of a watched parent), transactions with an EAGAIN
 * conflict, domain requests.
 *
 * Built only when libxenstore is found; otherwise a stub reports "skipped"
 * (exit 77). It includes Debian's xenstore.h, so none of xensim's headers
 * (same protocol names): the daemon comes from xs_test_server.h.
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <xenstore.h>

#include "xenstore/xs_test_server.h"

static struct xst_server *srv;
static struct xs_handle *h;

static int setup(void **state)
{
    char path[108];

    srv = xst_server_spawn("libxs", path, sizeof(path));
    assert_non_null(srv);
    setenv("XENSTORED_PATH", path, 1);
    h = xs_open(0);
    assert_non_null(h);
    return 0;
}

static int teardown(void **state)
{
    xs_close(h);
    xst_server_reap(srv);
    return 0;
}

static void expect_read(struct xs_handle *x, xs_transaction_t t, const char *path, const char *want)
{
    unsigned int len = 0;
    char *v = xs_read(x, t, path, &len);

    assert_non_null(v);
    assert_int_equal(len, strlen(want));
    assert_memory_equal(v, want, len);
    free(v);
}

static void test_read_write_directory_rm(void **state)
{
    unsigned int num;
    char **names;

    assert_true(xs_write(h, XBT_NULL, "/vm/7/name", "guest", 5));
    assert_true(xs_write(h, XBT_NULL, "/vm/7/uuid", "0-1", 3));
    assert_true(xs_mkdir(h, XBT_NULL, "/vm/7/device"));
    expect_read(h, XBT_NULL, "/vm/7/name", "guest");
    expect_read(h, XBT_NULL, "/vm/7/device", "");
    names = xs_directory(h, XBT_NULL, "/vm/7", &num);
    assert_non_null(names);
    assert_int_equal(num, 3);
    assert_string_equal(names[0], "name"); /* creation order */
    assert_string_equal(names[1], "uuid");
    assert_string_equal(names[2], "device");
    free(names);
    assert_null(xs_read(h, XBT_NULL, "/vm/7/missing", &num));
    assert_int_equal(errno, ENOENT);
    assert_null(xs_read(h, XBT_NULL, "/vm//7", &num));
    assert_int_equal(errno, EINVAL);
    assert_true(xs_rm(h, XBT_NULL, "/vm/7"));
    assert_null(xs_directory(h, XBT_NULL, "/vm/7", &num));
    assert_int_equal(errno, ENOENT);
    {
        char *p = xs_get_domain_path(h, 3);

        assert_string_equal(p, "/local/domain/3");
        free(p);
    }
    assert_true(xs_is_domain_introduced(h, 0));
    assert_false(xs_is_domain_introduced(h, 3));
}

static void test_big_directory(void **state)
{
    char path[128];
    unsigned int num;
    char **names;

    /* over 4096 bytes of names: DIRECTORY says E2BIG and libxenstore falls
     * back to DIRECTORY_PART */
    for (int i = 0; i < 400; i++) {
        snprintf(path, sizeof(path), "/many/a-fairly-long-child-name-%03d", i);
        assert_true(xs_write(h, XBT_NULL, path, "", 0));
    }
    names = xs_directory(h, XBT_NULL, "/many", &num);
    assert_non_null(names);
    assert_int_equal(num, 400);
    assert_string_equal(names[0], "a-fairly-long-child-name-000");
    assert_string_equal(names[399], "a-fairly-long-child-name-399");
    free(names);
}

static void test_permissions(void **state)
{
    struct xs_permissions set[3] = {{.id = 0, .perms = XS_PERM_NONE},
                                    {.id = 0, .perms = XS_PERM_READ},
                                    {.id = 1, .perms = XS_PERM_READ | XS_PERM_WRITE}};
    struct xs_permissions *got;
    unsigned int num;

    assert_true(xs_write(h, XBT_NULL, "/perm/node", "x", 1));
    got = xs_get_permissions(h, XBT_NULL, "/perm/node", &num);
    assert_non_null(got);
    assert_int_equal(num, 1);
    assert_int_equal(got[0].id, 0);
    assert_int_equal(got[0].perms, XS_PERM_NONE);
    free(got);
    assert_true(xs_set_permissions(h, XBT_NULL, "/perm/node", set, 3));
    got = xs_get_permissions(h, XBT_NULL, "/perm/node", &num);
    assert_non_null(got);
    assert_int_equal(num, 3);
    assert_int_equal(got[1].perms, XS_PERM_READ);
    assert_int_equal(got[2].id, 1);
    assert_int_equal(got[2].perms, XS_PERM_READ | XS_PERM_WRITE);
    free(got);
    /* children inherit */
    assert_true(xs_write(h, XBT_NULL, "/perm/node/child", "y", 1));
    got = xs_get_permissions(h, XBT_NULL, "/perm/node/child", &num);
    assert_int_equal(num, 3);
    free(got);
    /* an owner that does not exist */
    set[0].id = 42;
    assert_false(xs_set_permissions(h, XBT_NULL, "/perm/node", set, 1));
    assert_int_equal(errno, ENOENT);
    assert_false(xs_set_permissions(h, XBT_NULL, "/perm/missing", set, 1));
    assert_int_equal(errno, ENOENT);
}

/* Wait for one event through the fd and xs_check_watch. */
static char **wait_event(struct xs_handle *x)
{
    struct pollfd pfd = {.fd = xs_fileno(x), .events = POLLIN};
    char **ev;

    for (int i = 0; i < 50; i++) {
        ev = xs_check_watch(x);
        if (ev != NULL)
            return ev;
        assert_int_equal(errno, EAGAIN);
        poll(&pfd, 1, 100);
    }
    fail_msg("no watch event");
    return NULL;
}

static void expect_event(char **ev, const char *path, const char *token)
{
    assert_non_null(ev);
    assert_string_equal(ev[XS_WATCH_PATH], path);
    assert_string_equal(ev[XS_WATCH_TOKEN], token);
    free(ev);
}

static void test_watches(void **state)
{
    unsigned int num;

    assert_true(xs_write(h, XBT_NULL, "/watched/a/b", "1", 1));
    assert_true(xs_watch(h, "/watched", "tok"));
    expect_event(xs_read_watch(h, &num), "/watched", "tok"); /* fires on registration */
    assert_int_equal(num, 2);
    assert_true(xs_write(h, XBT_NULL, "/watched/a/b", "2", 1));
    expect_event(xs_read_watch(h, &num), "/watched/a/b", "tok");
    /* the fd + non-blocking path */
    assert_true(xs_watch(h, "/watched/a/b", "deep"));
    expect_event(wait_event(h), "/watched/a/b", "deep");
    assert_null(xs_check_watch(h));
    assert_int_equal(errno, EAGAIN);
    /* removing a watched node's parent fires it, then the parent's watch */
    assert_true(xs_rm(h, XBT_NULL, "/watched/a"));
    expect_event(wait_event(h), "/watched/a/b", "deep");
    expect_event(wait_event(h), "/watched/a", "tok");
    assert_true(xs_unwatch(h, "/watched/a/b", "deep"));
    assert_false(xs_unwatch(h, "/watched/a/b", "deep"));
    assert_int_equal(errno, ENOENT);
    assert_false(xs_watch(h, "/watched", "tok"));
    assert_int_equal(errno, EEXIST);
    /* special watches */
    assert_true(xs_watch(h, "@introduceDomain", "intro"));
    expect_event(wait_event(h), "@introduceDomain", "intro");
    assert_true(xs_watch(h, "@releaseDomain", "rel"));
    expect_event(wait_event(h), "@releaseDomain", "rel");
    assert_true(xs_introduce_domain(h, 5, 0x1234, 9));
    expect_event(wait_event(h), "@introduceDomain", "intro");
    assert_true(xs_is_domain_introduced(h, 5));
    assert_true(xs_resume_domain(h, 5));
    assert_true(xs_release_domain(h, 5));
    expect_event(wait_event(h), "@releaseDomain", "rel");
    assert_false(xs_release_domain(h, 5));
    assert_int_equal(errno, ENOENT);
    assert_true(xs_unwatch(h, "/watched", "tok"));
    assert_true(xs_unwatch(h, "@introduceDomain", "intro"));
    assert_true(xs_unwatch(h, "@releaseDomain", "rel"));
}

static void test_transactions(void **state)
{
    struct xs_handle *h2 = xs_open(0);
    xs_transaction_t t;
    unsigned int len;
    char *v;

    assert_non_null(h2);
    assert_true(xs_write(h, XBT_NULL, "/tx/counter", "1", 1));
    /* commit */
    t = xs_transaction_start(h);
    assert_true(t != XBT_NULL);
    v = xs_read(h, t, "/tx/counter", &len);
    assert_non_null(v);
    free(v);
    assert_true(xs_write(h, t, "/tx/counter", "2", 1));
    assert_true(xs_write(h, t, "/tx/new", "n", 1));
    expect_read(h2, XBT_NULL, "/tx/counter", "1"); /* not visible yet */
    assert_true(xs_transaction_end(h, t, false));
    expect_read(h2, XBT_NULL, "/tx/counter", "2");
    expect_read(h2, XBT_NULL, "/tx/new", "n");
    /* abort */
    t = xs_transaction_start(h);
    assert_true(xs_rm(h, t, "/tx/new"));
    assert_true(xs_transaction_end(h, t, true));
    expect_read(h, XBT_NULL, "/tx/new", "n");
    /* conflict: another client changes what the transaction read */
    t = xs_transaction_start(h);
    v = xs_read(h, t, "/tx/counter", &len);
    free(v);
    assert_true(xs_write(h2, XBT_NULL, "/tx/counter", "3", 1));
    assert_true(xs_write(h, t, "/tx/counter", "4", 1));
    assert_false(xs_transaction_end(h, t, false));
    assert_int_equal(errno, EAGAIN);
    expect_read(h, XBT_NULL, "/tx/counter", "3");
    /* the usual retry loop then succeeds */
    for (int tries = 0; tries < 3; tries++) {
        t = xs_transaction_start(h);
        v = xs_read(h, t, "/tx/counter", &len);
        free(v);
        assert_true(xs_write(h, t, "/tx/counter", "5", 1));
        if (xs_transaction_end(h, t, false))
            break;
        assert_int_equal(errno, EAGAIN);
    }
    expect_read(h2, XBT_NULL, "/tx/counter", "5");
    xs_close(h2);
}

/* A case run on a freshly spawned store with a libxenstore handle to it:
 * setup before it, teardown after. */
#define FRESH(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        FRESH(test_read_write_directory_rm),
        FRESH(test_big_directory),
        FRESH(test_permissions),
        FRESH(test_watches),
        FRESH(test_transactions),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
