/*
 * test_xenbus.c - the guest's xenbus client over the domain ring against
 * the simulator's XenStore daemon: reads, writes, directories and
 * permissions in its home, watches (including the firing on registration),
 * transactions with an EAGAIN conflict and retry, many outstanding requests
 * from several CPUs, a watch storm, and the frontend state helpers.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "harness.h"
#include "xensim/abi/xs_wire.h"
#include "xensim/guest/xg_xenbus.h"

struct xb_ctx {
    struct th *t;
    struct xg_xenbus xb;
    int init_rc;
    int rc[32];
    char buf[4][256];
    int ndir;
    uint64_t fired[4];
    char last_path[256];
    uint32_t tries;
    volatile uint32_t phase, done_cpus;
    uint64_t storm_events;
    int conc_errors;
};

static void on_watch(struct xg_xenbus *xb, const char *path, const char *token, void *arg)
{
    struct xb_ctx *x = arg;
    int i = token[0] - 'a';

    if (i >= 0 && i < 4)
        x->fired[i]++;
    snprintf(x->last_path, sizeof(x->last_path), "%s", path);
}

static int txn_body(struct xg_xenbus *xb, uint32_t tx, void *arg)
{
    struct xb_ctx *x = arg;
    char v[32];

    x->tries++;
    if (xg_xenbus_read(xb, tx, "data/counter", v, sizeof(v)) < 0)
        return -EIO;
    /* First try only: the toolstack changes what we read -> EAGAIN. */
    if (x->tries == 1)
        xsim_xshost_write(x->t->xs, "/local/domain/1/data/counter", "41");
    return xg_xenbus_write(xb, tx, "data/counter", "42");
}

static void xb_main(struct th *t, unsigned int cpu)
{
    struct xb_ctx *x = t->user;
    struct xg_xenbus *xb = &x->xb;

    if (cpu != 0) {
        /* Concurrent requests from the other CPUs. */
        th_wait_u32(t, &x->phase, 1);
        for (int i = 0; i < 20; i++) {
            char path[64], v[32];
            snprintf(path, sizeof(path), "data/cpu%u", cpu);
            if (xg_xenbus_printf_uint(xb, 0, path, (uint64_t)i) != 0)
                x->conc_errors++;
            if (xg_xenbus_read(xb, 0, path, v, sizeof(v)) < 0 || atoi(v) != i)
                x->conc_errors++;
        }
        xg_fetch_add_u32(t->p, &x->done_cpus, 1);
        th_wake_cpu(t, 0);
        return;
    }
    x->init_rc = xg_xenbus_init(xb, t->g);
    if (x->init_rc != 0)
        return;
    /* Relative paths live in the guest's home. */
    x->rc[0] = xg_xenbus_write(xb, 0, "data/hello", "world");
    x->rc[1] = xg_xenbus_read(xb, 0, "data/hello", x->buf[0], sizeof(x->buf[0]));
    x->rc[2] = xg_xenbus_read(xb, 0, "/local/domain/1/data/hello", x->buf[1], sizeof(x->buf[1]));
    x->rc[3] = xg_xenbus_read(xb, 0, "data/nothing", x->buf[2], sizeof(x->buf[2]));
    /* Outside its home, an unprivileged guest may not write. */
    x->rc[4] = xg_xenbus_write(xb, 0, "/local/domain/0/evil", "x");
    x->rc[5] = xg_xenbus_write(xb, 0, "data/a", "1");
    x->rc[6] = xg_xenbus_write(xb, 0, "data/b", "2");
    x->ndir = xg_xenbus_directory(xb, 0, "data", x->buf[3], sizeof(x->buf[3]));
    x->rc[7] = xg_xenbus_rm(xb, 0, "data/b");
    x->rc[8] = xg_xenbus_read(xb, 0, "data/b", x->buf[2], sizeof(x->buf[2]));
    /* Watches: fire on registration, then on each change below. */
    x->rc[9] = xg_xenbus_watch(xb, "data/w", "a", on_watch, x);
    x->rc[10] = xg_xenbus_watch(xb, "data/w", "a", on_watch, x);
    xg_xenbus_write(xb, 0, "data/w", "1");
    xg_xenbus_write(xb, 0, "data/w/child", "2");
    xsim_xshost_write(t->xs, "/local/domain/1/data/w", "from-toolstack");
    /* Let the watch events of the toolstack's write arrive. */
    for (int i = 0; i < 20; i++)
        xg_point(t->p, XG_POINT_LOAD, NULL);
    xg_xenbus_dispatch(xb);
    x->rc[11] = xg_xenbus_unwatch(xb, "data/w", "a");
    x->rc[12] = xg_xenbus_unwatch(xb, "data/w", "a");
    /* Transactions: a conflict is retried. */
    xg_xenbus_write(xb, 0, "data/counter", "0");
    x->rc[13] = xg_xenbus_transaction(xb, txn_body, x, 5);
    x->rc[14] = xg_xenbus_read(xb, 0, "data/counter", x->buf[2], sizeof(x->buf[2]));
    /* The frontend helpers. */
    x->rc[15] = xg_xenbus_switch_state(xb, "device/vbd/768", XenbusStateInitialised);
    x->rc[16] = (int)xg_xenbus_read_state(xb, "device/vbd/768/state");
    x->rc[17] = (int)xg_xenbus_read_state(xb, "device/vbd/999/state");
    /* Many outstanding requests: the other CPUs hammer the ring at once. */
    xg_write_u32(t->p, &x->phase, 1);
    th_wake_others(t);
    th_wait_u32(t, &x->done_cpus, t->cfg.ncpus - 1);
    /* A watch storm: 2000 toolstack writes under a watched path. */
    x->rc[18] = xg_xenbus_watch(xb, "data/storm", "b", on_watch, x);
    for (int i = 0; i < 2000; i++) {
        char v[16];
        snprintf(v, sizeof(v), "%d", i);
        xsim_xshost_write(t->xs, "/local/domain/1/data/storm", v);
        if (i % 50 == 0)
            xg_point(t->p, XG_POINT_LOAD, NULL);
    }
    for (int i = 0; i < 50; i++)
        xg_point(t->p, XG_POINT_LOAD, NULL);
    xg_xenbus_dispatch(xb);
    /* The guest still works after the storm. */
    x->rc[19] = xg_xenbus_write(xb, 0, "data/after", "ok");
    x->rc[20] = xg_xenbus_read(xb, 0, "data/after", x->buf[2], sizeof(x->buf[2]));
}

static void test_xenbus(void **state)
{
    struct th_config cfg;
    struct th t;
    struct xb_ctx *x = calloc(1, sizeof(*x));

    (void)state;
    th_config_init(&cfg, 3);
    cfg.xenstore = true;
    cfg.main = xb_main;
    cfg.user = x;
    assert_int_equal(th_create(&t, &cfg, NULL), 0);
    x->t = &t;
    enum xsim_stop_reason r = th_run(&t);
    if (r != XSIM_STOP_QUIESCENT)
        fail_msg("run ended %s", xsim_stop_reason_name(r));
    assert_int_equal(x->init_rc, 0);
    assert_int_equal(x->rc[0], 0);
    assert_int_equal(x->rc[1], 5);
    assert_string_equal(x->buf[0], "world");
    assert_int_equal(x->rc[2], 5);
    assert_int_equal(x->rc[3], -ENOENT);
    assert_int_equal(x->rc[4], -EACCES);
    assert_int_equal(x->ndir, 3); /* hello, a, b */
    assert_int_equal(x->rc[7], 0);
    assert_int_equal(x->rc[8], -ENOENT);
    assert_int_equal(x->rc[9], 0);
    assert_int_equal(x->rc[10], -EEXIST);
    /* registration + own write + child write + toolstack write */
    assert_int_equal(x->fired[0], 4);
    assert_int_equal(x->rc[11], 0);
    assert_int_equal(x->rc[12], -ENOENT);
    assert_int_equal(x->rc[13], 0);
    assert_int_equal(x->tries, 2);
    assert_int_equal(x->rc[14], 2);
    assert_int_equal(x->rc[15], 0);
    assert_int_equal(x->rc[16], XenbusStateInitialised);
    assert_int_equal(x->rc[17], XenbusStateUnknown);
    assert_int_equal(x->conc_errors, 0);
    assert_int_equal(x->rc[18], 0);
    assert_true(x->fired[1] >= 1);
    printf("watch storm: %" PRIu64 " of 2001 events reached the handler, %" PRIu64
           " merged into one still queued, %" PRIu64 " dropped by the guest's bounded queue\n",
           x->fired[1], x->xb.merged_events, x->xb.dropped_events);
    /* Every event names the same node: an event identical to one still
     * queued merges into it, so the bounded queue never drops one, and
     * the last callback came after the last write (invariants.md, xs 2). */
    assert_int_equal(x->xb.dropped_events, 0);
    assert_string_equal(x->last_path, "data/storm");
    assert_int_equal(x->rc[19], 0);
    assert_int_equal(x->rc[20], 2);
    assert_int_equal(x->xb.bad_replies, 0);
    th_destroy(&t);
    free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xenbus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
