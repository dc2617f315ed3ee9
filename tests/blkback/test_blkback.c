/*
 * test_blkback.c - the block backend against a raw frontend written here
 * (rawfront.h): handshake and data, reconnect, barrier ordering, flush
 * durability and power loss, indirect requests, a 16-page ring, read-only
 * and CD-ROM devices, refused operations, and a malicious frontend (bad
 * grants, segments, sectors, operations, producer index, ring order).
 * With map_grants, data grants stay mapped across the service time and
 * are let go before the response.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "blkdev.h"
#include "rawfront.h"
#include "xensim/blkback.h"
#include "xensim/gnttab.h"
#include "xensim/storage.h"

#define DISK_SECTORS (1u << 16)

struct bt;
typedef void (*bt_body_fn)(struct bt *x);

struct bt {
    struct th t;
    struct rf f;
    struct xsim_storage *s;
    struct xsim_blkback *b;
    bt_body_fn body;
    int r[64];
    char node[8][64];
    uint8_t *pg[8];
    bool done;
};

static void bt_main(struct th *t, unsigned int cpu)
{
    struct bt *x = t->user;

    if (cpu != 0 || rf_init(&x->f, t) != 0)
        return;
    x->body(x);
    x->done = true;
}

/* Build a world with a XenStore, a storage and a backend; run body on the
 * guest. bc/sc may be NULL for the defaults. */
static struct bt *bt_run(bt_body_fn body, const struct xsim_blkback_config *bc,
                         const struct xsim_storage_config *sc, bool cdrom)
{
    struct bt *x = calloc(1, sizeof(*x));
    struct th_config cfg;
    struct xsim_storage_config scfg;

    assert_non_null(x);
    x->body = body;
    th_config_xs(&cfg, 1, 1024, bt_main, x);
    assert_int_equal(th_create(&x->t, &cfg, NULL), 0);
    if (sc != NULL) {
        scfg = *sc;
    } else {
        memset(&scfg, 0, sizeof(scfg));
        scfg.sectors = DISK_SECTORS;
        scfg.write_cache = true;
        scfg.faults.lose_all_cached = true;
    }
    th_blkback_start(&x->t, &scfg, cdrom, bc, &x->s, &x->b);
    th_run(&x->t);
    return x;
}

static void bt_end(struct bt *x)
{
    xsim_blkback_destroy(x->b);
    th_destroy(&x->t);
    xsim_storage_destroy(x->s);
    free(x);
}

static void fill(uint8_t *p, size_t n, unsigned int tag)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(i * 3 + tag + (i >> 9));
}

static struct blkif_request_segment seg(grant_ref_t ref, uint8_t first, uint8_t last)
{
    struct blkif_request_segment s = {.gref = ref, .first_sect = first, .last_sect = last};
    return s;
}

/* Queue a discard request (its own layout in a ring entry, the rest of
 * the entry zero) and push it. */
static void push_discard(struct rf *f, const struct blkif_request_discard *d)
{
    union blkif_sring_entry e;

    memset(&e, 0, sizeof(e));
    memcpy(&e, d, sizeof(*d));
    rf_put(f, &e);
    rf_push(f);
}

/* The usual start of a body: connect with a one-page ring (x->r[0] says
 * whether that worked), grant one writable data page (kept in x->pg[0],
 * its grant in *ref) and return its segment from sector `first` to
 * `last`. */
static struct blkif_request_segment bt_connect_one(struct bt *x, grant_ref_t *ref, uint8_t first,
                                                   uint8_t last)
{
    x->r[0] = rf_connect(&x->f, 0, -1);
    x->pg[0] = rf_page(&x->f, false, ref);
    return seg(*ref, first, last);
}

/* ---- handshake, data, reconnect ---- */

static void body_rw(struct bt *x)
{
    struct rf *f = &x->f;
    grant_ref_t ref[4];
    struct blkif_request_segment s[2];

    x->r[0] = rf_connect(f, 0, -1);
    for (int i = 0; i < 4; i++)
        x->pg[i] = rf_page(f, false, &ref[i]);
    fill(x->pg[0], 4096, 1);
    fill(x->pg[1], 4096, 2);
    s[0] = seg(ref[0], 0, 7);
    s[1] = seg(ref[1], 2, 3);
    x->r[1] = rf_do(f, BLKIF_OP_WRITE, 11, 100, 2, s);
    s[0] = seg(ref[2], 0, 7);
    s[1] = seg(ref[3], 2, 3);
    x->r[2] = rf_do(f, BLKIF_OP_READ, 12, 100, 2, s);
    x->r[3] = memcmp(x->pg[0], x->pg[2], 4096) == 0 &&
              memcmp(x->pg[1] + 1024, x->pg[3] + 1024, 1024) == 0;
    rf_read_be(f, "feature-max-indirect-segments", x->node[0], 64);
    rf_read_be(f, "sectors", x->node[1], 64);
    rf_read_be(f, "info", x->node[2], 64);
    rf_read_be(f, "max-ring-page-order", x->node[3], 64);
    rf_read_be(f, "feature-barrier", x->node[4], 64);
    rf_read_be(f, "feature-flush-cache", x->node[5], 64);
    rf_read_be(f, "sector-size", x->node[6], 64);
    x->r[4] = f->rsp[0].operation == BLKIF_OP_WRITE && f->rsp[1].operation == BLKIF_OP_READ;
    /* Close and come back with a new ring: the data is still there. */
    x->r[5] = rf_reconnect_cycle(f);
    f->nrsp = 0;
    x->r[6] = rf_connect(f, 1, -1);
    memset(x->pg[2], 0, 4096);
    s[0] = seg(ref[2], 0, 7);
    x->r[7] = rf_do(f, BLKIF_OP_READ, 13, 100, 1, s);
    x->r[8] = memcmp(x->pg[0], x->pg[2], 4096) == 0;
}

static void test_rw_reconnect(void **state)
{
    struct bt *x;
    struct xsim_blkback_stats st;
    uint8_t buf[4096];

    (void)state;
    x = bt_run(body_rw, NULL, NULL, false);
    assert_true(x->done);
    assert_true(x->r[0]);
    assert_int_equal(x->r[1], BLKIF_RSP_OKAY);
    assert_int_equal(x->r[2], BLKIF_RSP_OKAY);
    assert_true(x->r[3]);
    assert_true(x->r[4]);
    assert_string_equal(x->node[0], "256");
    assert_int_equal(strtoull(x->node[1], NULL, 10), DISK_SECTORS);
    assert_string_equal(x->node[2], "0");
    assert_string_equal(x->node[3], "4");
    assert_string_equal(x->node[4], "1");
    assert_string_equal(x->node[5], "1");
    assert_string_equal(x->node[6], "512");
    assert_true(x->r[5]);
    assert_true(x->r[6]);
    assert_int_equal(x->r[7], BLKIF_RSP_OKAY);
    assert_true(x->r[8]);
    /* What the guest wrote is in the storage. */
    assert_int_equal(xsim_storage_read(x->s, 100, 8, buf), 0);
    assert_memory_equal(buf, x->pg[0], 4096);
    xsim_blkback_stats(x->b, &st);
    assert_int_equal(st.connects, 2);
    assert_int_equal(st.disconnects, 1);
    assert_int_equal(st.ring_pages, 2);
    assert_int_equal(st.requests, 3);
    assert_int_equal(st.responses, 3);
    assert_int_equal(st.in_flight, 0);
    assert_int_equal(xsim_blkback_state(x->b), XSIM_BLKBACK_CONNECTED);
    assert_string_equal(xsim_blkback_path(x->b), RF_BPATH);
    bt_end(x);
}

/* ---- barrier ordering, flush durability, power loss ---- */

static bool durable_is(struct bt *x, uint64_t sector, const uint8_t *want, size_t len)
{
    uint8_t buf[4096];

    return xsim_storage_read_durable(x->s, sector, (uint32_t)(len / 512), buf) == 0 &&
           memcmp(buf, want, len) == 0;
}

static void body_barrier(struct bt *x)
{
    struct rf *f = &x->f;
    grant_ref_t ref[3];
    struct blkif_request_segment big[11], one;
    uint8_t zero[512];

    memset(zero, 0, sizeof(zero));
    x->r[0] = rf_connect(f, 0, -1);
    for (int i = 0; i < 3; i++) {
        x->pg[i] = rf_page(f, false, &ref[i]);
        fill(x->pg[i], 4096, 10 * (unsigned)i + 5);
    }
    for (int i = 0; i < 11; i++)
        big[i] = seg(ref[0], 0, 7);
    /* Control: without a barrier the short write overtakes the long one. */
    rf_req(f, BLKIF_OP_WRITE, 4, 5000, 11, big);
    one = seg(ref[2], 0, 0);
    rf_req(f, BLKIF_OP_WRITE, 5, 6000, 1, &one);
    rf_push(f);
    x->r[1] = rf_wait_rsp(f, 2) && f->rsp[0].id == 5 && f->rsp[1].id == 4;
    /* long write, barrier, short write: completion in that order */
    rf_req(f, BLKIF_OP_WRITE, 1, 1000, 11, big);
    one = seg(ref[1], 0, 0);
    rf_req(f, BLKIF_OP_WRITE_BARRIER, 2, 2000, 1, &one);
    one = seg(ref[2], 0, 0);
    rf_req(f, BLKIF_OP_WRITE, 3, 3000, 1, &one);
    rf_push(f);
    x->r[2] = rf_wait_rsp(f, 5);
    x->r[3] = f->rsp[2].id == 1 && f->rsp[3].id == 2 && f->rsp[4].id == 3;
    x->r[4] = f->rsp[3].operation == BLKIF_OP_WRITE_BARRIER && f->rsp[2].status == 0 &&
              f->rsp[3].status == 0 && f->rsp[4].status == 0;
    /* The barrier flushed what came before it; the later write is cached. */
    x->r[5] = durable_is(x, 1000, x->pg[0], 4096) && durable_is(x, 2000, x->pg[1], 512) &&
              durable_is(x, 3000, zero, 512);
    x->r[6] = rf_do(f, BLKIF_OP_FLUSH_DISKCACHE, 6, 0, 0, NULL);
    x->r[7] = durable_is(x, 3000, x->pg[2], 512);
    /* A write that is lost in a power cut before any flush. */
    one = seg(ref[1], 0, 0);
    x->r[8] = rf_do(f, BLKIF_OP_WRITE, 7, 4000, 1, &one);
    xsim_storage_power_loss(x->s);
    memset(x->pg[2], 0xee, 4096);
    one = seg(ref[2], 0, 0);
    x->r[9] = rf_do(f, BLKIF_OP_READ, 8, 4000, 1, &one);
    x->r[10] = memcmp(x->pg[2], zero, 512) == 0;
    one = seg(ref[2], 0, 0);
    x->r[11] = rf_do(f, BLKIF_OP_READ, 9, 3000, 1, &one) == 0 && durable_is(x, 3000, x->pg[2], 512);
    /* Discard reads back as zeros. */
    {
        struct blkif_request_discard d = {
            .operation = BLKIF_OP_DISCARD, .id = 10, .sector_number = 1000, .nr_sectors = 8};
        push_discard(f, &d);
        x->r[12] = rf_wait_rsp(f, f->nrsp + 1) && f->rsp[f->nrsp - 1].status == 0 &&
                   f->rsp[f->nrsp - 1].operation == BLKIF_OP_DISCARD;
        x->r[13] = durable_is(x, 1000, zero, 512);
        d.flag = BLKIF_DISCARD_SECURE; /* not offered (no discard-secure) */
        d.id = 11;
        push_discard(f, &d);
        x->r[14] =
            rf_wait_rsp(f, f->nrsp + 1) && f->rsp[f->nrsp - 1].status == BLKIF_RSP_EOPNOTSUPP;
    }
}

static void test_barrier_flush(void **state)
{
    struct bt *x;
    struct xsim_blkback_stats st;

    (void)state;
    x = bt_run(body_barrier, NULL, NULL, false);
    assert_true(x->done);
    for (int i = 0; i <= 14; i++) {
        if (i == 6 || i == 8 || i == 9)
            assert_int_equal(x->r[i], BLKIF_RSP_OKAY);
        else if (!x->r[i])
            fail_msg("check %d failed", i);
    }
    xsim_blkback_stats(x->b, &st);
    assert_int_equal(st.barriers, 1);
    assert_int_equal(st.flushes, 1);
    assert_int_equal(st.discards, 2);
    assert_int_equal(st.errors, 0);
    assert_int_equal(st.eopnotsupp, 1);
    bt_end(x);
}

/* ---- refused operations ---- */

static void body_refused(struct bt *x)
{
    struct rf *f = &x->f;
    grant_ref_t ref;
    struct blkif_request_segment one;
    struct blkif_request_discard d = {.operation = BLKIF_OP_DISCARD, .id = 3, .nr_sectors = 1};

    one = bt_connect_one(x, &ref, 0, 0);
    x->r[1] = rf_do(f, BLKIF_OP_WRITE_BARRIER, 1, 0, 1, &one);
    x->r[2] = rf_do(f, BLKIF_OP_FLUSH_DISKCACHE, 2, 0, 0, NULL);
    push_discard(f, &d);
    x->r[3] = rf_wait_rsp(f, 3) ? f->rsp[2].status : 1000;
    x->r[4] = f->rsp[0].operation == BLKIF_OP_WRITE_BARRIER &&
              f->rsp[1].operation == BLKIF_OP_FLUSH_DISKCACHE;
    x->r[5] = rf_do(f, BLKIF_OP_WRITE, 4, 0, 1, &one);
    rf_read_be(f, "feature-barrier", x->node[0], 64);
    rf_read_be(f, "feature-flush-cache", x->node[1], 64);
}

static void test_refused(void **state)
{
    struct xsim_blkback_config bc;
    struct bt *x;

    (void)state;
    /* Not advertised. */
    xsim_blkback_config_init(&bc);
    bc.features.barrier = bc.features.flush = bc.features.discard = false;
    x = bt_run(body_refused, &bc, NULL, false);
    assert_true(x->done && x->r[0] && x->r[4]);
    assert_int_equal(x->r[1], BLKIF_RSP_EOPNOTSUPP);
    assert_int_equal(x->r[2], BLKIF_RSP_EOPNOTSUPP);
    assert_int_equal(x->r[3], BLKIF_RSP_EOPNOTSUPP);
    assert_int_equal(x->r[5], BLKIF_RSP_OKAY);
    assert_string_equal(x->node[0], "0");
    assert_string_equal(x->node[1], "0");
    bt_end(x);
    /* Advertised, but the device refuses barrier and flush. */
    xsim_blkback_config_init(&bc);
    bc.refuse_barrier = bc.refuse_flush = true;
    bc.features.discard = false;
    x = bt_run(body_refused, &bc, NULL, false);
    assert_true(x->done && x->r[0] && x->r[4]);
    assert_int_equal(x->r[1], BLKIF_RSP_EOPNOTSUPP);
    assert_int_equal(x->r[2], BLKIF_RSP_EOPNOTSUPP);
    assert_int_equal(x->r[5], BLKIF_RSP_OKAY);
    assert_string_equal(x->node[0], "1");
    bt_end(x);
}

/* Storage faults reach the frontend as ERROR / EOPNOTSUPP. */
static void body_faults(struct bt *x)
{
    struct rf *f = &x->f;
    grant_ref_t ref;
    struct blkif_request_segment one;
    struct xsim_storage_faults fl = *xsim_storage_faults(x->s);

    one = bt_connect_one(x, &ref, 0, 7);
    fl.read_error_rate = 1.0;
    fl.refuse_barrier = true;
    fl.refuse_flush = true;
    xsim_storage_set_faults(x->s, &fl);
    x->r[1] = rf_do(f, BLKIF_OP_READ, 1, 0, 1, &one);
    x->r[2] = rf_do(f, BLKIF_OP_WRITE, 2, 0, 1, &one);
    x->r[3] = rf_do(f, BLKIF_OP_WRITE_BARRIER, 3, 0, 1, &one);
    x->r[4] = rf_do(f, BLKIF_OP_FLUSH_DISKCACHE, 4, 0, 0, NULL);
    fl.read_error_rate = 0;
    fl.write_error_rate = 1.0;
    fl.refuse_barrier = fl.refuse_flush = false;
    xsim_storage_set_faults(x->s, &fl);
    x->r[5] = rf_do(f, BLKIF_OP_READ, 5, 0, 1, &one);
    x->r[6] = rf_do(f, BLKIF_OP_WRITE, 6, 0, 1, &one);
    x->r[7] = rf_do(f, BLKIF_OP_FLUSH_DISKCACHE, 7, 0, 0, NULL);
}

static void test_storage_faults(void **state)
{
    struct xsim_storage_config sc;
    struct xsim_rng rng;
    struct bt *x;

    (void)state;
    memset(&sc, 0, sizeof(sc));
    sc.sectors = DISK_SECTORS;
    sc.write_cache = true;
    sc.rng = &rng;
    xsim_rng_init(&rng, 1, "test-faults");
    x = bt_run(body_faults, NULL, &sc, false);
    assert_true(x->done && x->r[0]);
    assert_int_equal(x->r[1], BLKIF_RSP_ERROR);
    assert_int_equal(x->r[2], BLKIF_RSP_OKAY);
    assert_int_equal(x->r[3], BLKIF_RSP_EOPNOTSUPP);
    assert_int_equal(x->r[4], BLKIF_RSP_EOPNOTSUPP);
    assert_int_equal(x->r[5], BLKIF_RSP_OKAY);
    assert_int_equal(x->r[6], BLKIF_RSP_ERROR);
    assert_int_equal(x->r[7], BLKIF_RSP_OKAY);
    bt_end(x);
}

/* Same seed, same run: service times with jitter come from the world's
 * PRNG stream, so the digest repeats. */
static void test_deterministic(void **state)
{
    struct xsim_blkback_config bc;
    uint64_t d[2];

    (void)state;
    xsim_blkback_config_init(&bc);
    bc.jitter = 0.9;
    for (int i = 0; i < 2; i++) {
        struct bt *x = bt_run(body_barrier, &bc, NULL, false);
        assert_true(x->done);
        d[i] = xsim_world_digest(x->t.w);
        bt_end(x);
    }
    assert_true(d[0] == d[1]);
}

/* ---- indirect ---- */

#define IND_SEGS 64

static void body_indirect(struct bt *x)
{
    struct rf *f = &x->f;
    static uint8_t *src[IND_SEGS], *dst[IND_SEGS];
    grant_ref_t sref[IND_SEGS], dref[IND_SEGS], iref_w, iref_r;
    struct blkif_request_segment *iw, *ir;
    union blkif_sring_entry e;
    struct blkif_request_indirect ind;
    bool same = true;

    x->r[0] = rf_connect(f, 0, -1);
    for (int i = 0; i < IND_SEGS; i++) {
        src[i] = rf_page(f, true, &sref[i]);
        dst[i] = rf_page(f, false, &dref[i]);
        fill(src[i], 4096, (unsigned)i * 7);
    }
    iw = (struct blkif_request_segment *)rf_page(f, true, &iref_w);
    ir = (struct blkif_request_segment *)rf_page(f, true, &iref_r);
    for (int i = 0; i < IND_SEGS; i++) {
        iw[i] = seg(sref[i], 0, 7);
        ir[i] = seg(dref[i], 0, 7);
    }
    memset(&ind, 0, sizeof(ind));
    ind.operation = BLKIF_OP_INDIRECT;
    ind.indirect_op = BLKIF_OP_WRITE;
    ind.nr_segments = IND_SEGS;
    ind.id = 1;
    ind.sector_number = 512;
    ind.indirect_grefs[0] = iref_w;
    memset(&e, 0, sizeof(e));
    memcpy(&e, &ind, sizeof(ind));
    rf_put(f, &e);
    ind.indirect_op = BLKIF_OP_READ;
    ind.id = 2;
    ind.indirect_grefs[0] = iref_r;
    memcpy(&e, &ind, sizeof(ind));
    rf_put(f, &e);
    /* more segments than advertised (64) */
    ind.nr_segments = IND_SEGS + 1;
    ind.id = 3;
    memcpy(&e, &ind, sizeof(ind));
    rf_put(f, &e);
    /* a bad indirect_op, a bad indirect page reference, zero segments */
    ind.nr_segments = 4;
    ind.indirect_op = BLKIF_OP_FLUSH_DISKCACHE;
    ind.id = 4;
    memcpy(&e, &ind, sizeof(ind));
    rf_put(f, &e);
    ind.indirect_op = BLKIF_OP_READ;
    ind.indirect_grefs[0] = 77777;
    ind.id = 5;
    memcpy(&e, &ind, sizeof(ind));
    rf_put(f, &e);
    ind.indirect_grefs[0] = iref_r;
    ind.nr_segments = 0;
    ind.id = 6;
    memcpy(&e, &ind, sizeof(ind));
    rf_put(f, &e);
    rf_push(f);
    x->r[1] = rf_wait_rsp(f, 6);
    for (unsigned int i = 0; i < f->nrsp; i++) {
        int want = f->rsp[i].id <= 2 ? BLKIF_RSP_OKAY : BLKIF_RSP_ERROR;
        if (f->rsp[i].status != want || f->rsp[i].operation != BLKIF_OP_INDIRECT)
            x->r[2]++;
    }
    /* The read (id 2) was submitted after the write but may complete first
     * only if it is not longer; compare with the storage instead. */
    for (int i = 0; i < IND_SEGS; i++) {
        uint8_t buf[4096];
        if (xsim_storage_read(x->s, 512 + (uint64_t)i * 8, 8, buf) != 0 ||
            memcmp(buf, src[i], 4096) != 0)
            same = false;
    }
    x->r[3] = same;
    /* Read again, now certainly after the write. */
    ind.nr_segments = IND_SEGS;
    ind.id = 7;
    memcpy(&e, &ind, sizeof(ind));
    rf_put(f, &e);
    rf_push(f);
    x->r[4] = rf_wait_rsp(f, 7) && f->rsp[6].status == 0;
    for (int i = 0; i < IND_SEGS; i++)
        if (memcmp(dst[i], src[i], 4096) != 0)
            same = false;
    x->r[5] = same;
    /* No mapping of an indirect page is left behind. */
    x->r[6] = xsim_gnttab_map_count(x->t.hv, TH_GUEST_DOMID, iref_r) == 0 &&
              xsim_gnttab_map_count(x->t.hv, TH_GUEST_DOMID, iref_w) == 0;
}

static void test_indirect(void **state)
{
    struct xsim_blkback_config bc;
    struct xsim_blkback_stats st;
    struct bt *x;

    (void)state;
    xsim_blkback_config_init(&bc);
    bc.features.max_indirect_segs = IND_SEGS;
    x = bt_run(body_indirect, &bc, NULL, false);
    assert_true(x->done && x->r[0] && x->r[1]);
    assert_int_equal(x->r[2], 0);
    assert_true(x->r[3]);
    assert_true(x->r[4]);
    assert_true(x->r[5]);
    assert_true(x->r[6]);
    xsim_blkback_stats(x->b, &st);
    assert_int_equal(st.indirect, 7);
    assert_int_equal(st.errors, 4);
    bt_end(x);
}

/* ---- a 16-page ring with all 512 slots in use ---- */

static void body_multipage(struct bt *x)
{
    struct rf *f = &x->f;
    static uint8_t *pg[64];
    grant_ref_t ref[64];
    static uint8_t seen[512];

    x->r[0] = rf_connect(f, 4, -1);
    x->r[1] = (int)f->nents;
    for (int i = 0; i < 64; i++) {
        pg[i] = rf_page(f, true, &ref[i]);
        fill(pg[i], 4096, (unsigned)i + 100);
    }
    for (unsigned int i = 0; i < 512; i++) {
        struct blkif_request_segment s = seg(ref[i / 8], (uint8_t)(i % 8), (uint8_t)(i % 8));
        rf_req(f, BLKIF_OP_WRITE, 1000 + i, 7 * i, 1, &s);
    }
    rf_push(f);
    x->r[2] = rf_wait_rsp(f, 512);
    memset(seen, 0, sizeof(seen));
    for (unsigned int i = 0; i < f->nrsp; i++) {
        uint64_t id = f->rsp[i].id - 1000;
        if (id >= 512 || seen[id] || f->rsp[i].status != 0)
            x->r[3]++;
        else
            seen[id] = 1;
    }
    for (unsigned int i = 0; i < 512; i++) {
        uint8_t buf[512];
        if (xsim_storage_read(x->s, 7 * i, 1, buf) != 0 ||
            memcmp(buf, pg[i / 8] + (i % 8) * 512, 512) != 0)
            x->r[4]++;
    }
    /* and a second lap around the ring */
    for (unsigned int i = 0; i < 300; i++) {
        struct blkif_request_segment s = seg(ref[0], 0, 0);
        rf_req(f, BLKIF_OP_READ, 5000 + i, i, 1, &s);
    }
    rf_push(f);
    x->r[5] = rf_wait_rsp(f, 812);
}

static void test_multipage(void **state)
{
    struct xsim_blkback_stats st;
    struct bt *x;

    (void)state;
    x = bt_run(body_multipage, NULL, NULL, false);
    assert_true(x->done && x->r[0]);
    assert_int_equal(x->r[1], 512);
    assert_true(x->r[2]);
    assert_int_equal(x->r[3], 0);
    assert_int_equal(x->r[4], 0);
    assert_true(x->r[5]);
    xsim_blkback_stats(x->b, &st);
    assert_int_equal(st.ring_pages, 16);
    assert_int_equal(st.responses, 812);
    /* far fewer notifies than responses: the rsp_event rule batches them */
    assert_true(st.notifies_sent < 812);
    bt_end(x);
}

/* ---- read-only disk, CD-ROM ---- */

static void body_ro(struct bt *x)
{
    struct rf *f = &x->f;
    grant_ref_t ref;
    struct blkif_request_segment one;
    struct blkif_request_discard d = {.operation = BLKIF_OP_DISCARD, .id = 4, .nr_sectors = 1};

    one = bt_connect_one(x, &ref, 0, 7);
    x->r[1] = rf_do(f, BLKIF_OP_WRITE, 1, 0, 1, &one);
    x->r[2] = rf_do(f, BLKIF_OP_READ, 2, 0, 1, &one);
    x->r[3] = rf_do(f, BLKIF_OP_WRITE_BARRIER, 3, 0, 1, &one);
    push_discard(f, &d);
    x->r[4] = rf_wait_rsp(f, 4) ? f->rsp[3].status : 1000;
    rf_read_be(f, "info", x->node[0], 64);
    rf_read_be(f, "mode", x->node[1], 64);
}

static void test_readonly(void **state)
{
    struct xsim_blkback_config bc;
    struct bt *x;

    (void)state;
    xsim_blkback_config_init(&bc);
    bc.readonly = true;
    x = bt_run(body_ro, &bc, NULL, false);
    assert_true(x->done && x->r[0]);
    assert_int_equal(x->r[1], BLKIF_RSP_ERROR);
    assert_int_equal(x->r[2], BLKIF_RSP_OKAY);
    assert_int_equal(x->r[3], BLKIF_RSP_ERROR);
    assert_int_equal(x->r[4], BLKIF_RSP_ERROR);
    assert_string_equal(x->node[0], "4");
    assert_string_equal(x->node[1], "r");
    bt_end(x);
}

static void body_cdrom(struct bt *x)
{
    struct rf *f = &x->f;
    grant_ref_t ref;
    struct blkif_request_segment one;
    bool ok = true;

    one = bt_connect_one(x, &ref, 0, 0);
    rf_read_be(f, "info", x->node[0], 64);
    rf_read_be(f, "device-type", x->node[1], 64);
    rf_read_be(f, "sectors", x->node[2], 64);
    x->r[1] = rf_do(f, BLKIF_OP_READ, 1, 42, 1, &one);
    for (uint32_t i = 0; i < 512; i++)
        ok = ok && x->pg[0][i] == xsim_storage_cdrom_byte(0, 42, i);
    x->r[2] = ok;
    x->r[3] = rf_do(f, BLKIF_OP_WRITE, 2, 42, 1, &one);
    /* A new, smaller medium: the sectors node follows. */
    x->r[4] = xsim_blkback_media_change(x->b, 50);
    rf_read_be(f, "sectors", x->node[3], 64);
    x->r[5] = rf_do(f, BLKIF_OP_READ, 3, 60, 1, &one);
    x->r[6] = rf_do(f, BLKIF_OP_READ, 4, 42, 1, &one);
    x->r[7] = x->pg[0][0] == xsim_storage_cdrom_byte(1, 42, 0);
    xsim_blkback_media_change(x->b, 0); /* eject */
    x->r[8] = rf_do(f, BLKIF_OP_READ, 5, 0, 1, &one);
}

static void test_cdrom(void **state)
{
    struct xsim_blkback_config bc;
    struct xsim_storage_config sc;
    struct bt *x;

    (void)state;
    xsim_blkback_config_init(&bc);
    bc.cdrom = true;
    bc.devid = 51712;
    memset(&sc, 0, sizeof(sc));
    sc.sectors = 100;
    x = bt_run(body_cdrom, &bc, &sc, true);
    assert_true(x->done && x->r[0]);
    assert_string_equal(x->node[0], "7");
    assert_string_equal(x->node[1], "cdrom");
    assert_string_equal(x->node[2], "100");
    assert_int_equal(x->r[1], BLKIF_RSP_OKAY);
    assert_true(x->r[2]);
    assert_int_equal(x->r[3], BLKIF_RSP_ERROR);
    assert_int_equal(x->r[4], 0);
    assert_string_equal(x->node[3], "50");
    assert_int_equal(x->r[5], BLKIF_RSP_ERROR);
    assert_int_equal(x->r[6], BLKIF_RSP_OKAY);
    assert_true(x->r[7]);
    assert_int_equal(x->r[8], BLKIF_RSP_ERROR);
    bt_end(x);
}

/* ---- a malicious frontend ---- */

static void body_malicious(struct bt *x)
{
    struct rf *f = &x->f;
    grant_ref_t ref, roref;
    struct blkif_request_segment s[12], good;
    int n = 0;

    x->r[0] = rf_connect(f, 0, -1);
    rf_page(f, false, &ref);
    rf_page(f, true, &roref);
    good = seg(ref, 0, 7);
    for (int i = 0; i < 12; i++)
        s[i] = seg(ref, 0, 0);
        /* each bad request gets ERROR, and a good one afterwards still works */
#define BAD(expr)                                                               \
    do {                                                                        \
        x->r[10 + n] = (expr);                                                  \
        x->r[30 + n] = rf_do(f, BLKIF_OP_READ, 500 + (uint64_t)n, 0, 1, &good); \
        n++;                                                                    \
    } while (0)
    s[0] = seg(99999, 0, 0);
    BAD(rf_do(f, BLKIF_OP_READ, 1, 0, 1, s)); /* bad grant reference */
    s[0] = seg(ref, 0, 8);
    BAD(rf_do(f, BLKIF_OP_READ, 2, 0, 1, s)); /* last_sect > 7 */
    s[0] = seg(ref, 5, 3);
    BAD(rf_do(f, BLKIF_OP_WRITE, 3, 0, 1, s)); /* first > last */
    s[0] = seg(ref, 0, 0);
    BAD(rf_do(f, BLKIF_OP_READ, 4, 0, 0, s));                    /* no segment */
    BAD(rf_do(f, BLKIF_OP_WRITE, 5, 0, 12, s));                  /* 12 segments */
    BAD(rf_do(f, BLKIF_OP_READ, 6, DISK_SECTORS - 1, 1, &good)); /* past the end */
    BAD(rf_do(f, BLKIF_OP_READ, 7, UINT64_MAX - 3, 1, &good));   /* wraps */
    BAD(rf_do(f, 77, 8, 0, 1, s));                               /* unknown operation */
    BAD(rf_do(f, BLKIF_OP_INDIRECT, 9, 0, 1, s));                /* not advertised */
    s[0] = seg(roref, 0, 0);
    BAD(rf_do(f, BLKIF_OP_READ, 10, 0, 1, s)); /* read into a read-only grant */
    s[0] = seg(ref, 0, 0);
    x->r[1] = n;
    /* Finally a producer index far ahead: the backend stops the device. */
    xg_write_u32(f->t->p, &f->sr->req_prod, f->prod + 1000);
    xg_mb(f->t->p);
    (void)xg_evtchn_notify(f->t->g, f->port);
    x->r[2] = rf_wait_be(f, XenbusStateClosing);
    rf_read_be(f, "error", x->node[0], 64);
    x->r[3] = xsim_blkback_state(x->b) == XSIM_BLKBACK_BROKEN;
    /* The frontend closes and starts over: service resumes. */
    x->r[4] = rf_reconnect_cycle(f);
    f->nrsp = 0;
    x->r[5] = rf_connect(f, 0, -1);
    x->r[6] = rf_do(f, BLKIF_OP_READ, 600, 0, 1, &good);
#undef BAD
}

static void test_malicious(void **state)
{
    struct xsim_blkback_config bc;
    struct xsim_blkback_stats st;
    struct bt *x;

    (void)state;
    xsim_blkback_config_init(&bc);
    bc.features.max_indirect_segs = 0;
    x = bt_run(body_malicious, &bc, NULL, false);
    assert_true(x->done && x->r[0]);
    assert_int_equal(x->r[1], 10);
    for (int i = 0; i < x->r[1]; i++) {
        if (x->r[10 + i] != BLKIF_RSP_ERROR)
            fail_msg("bad request %d answered %d", i, x->r[10 + i]);
        if (x->r[30 + i] != BLKIF_RSP_OKAY)
            fail_msg("good request after bad %d answered %d", i, x->r[30 + i]);
    }
    assert_true(x->r[2]);
    assert_non_null(strstr(x->node[0], "producer"));
    assert_true(x->r[3]);
    assert_true(x->r[4]);
    assert_true(x->r[5]);
    assert_int_equal(x->r[6], BLKIF_RSP_OKAY);
    xsim_blkback_stats(x->b, &st);
    assert_int_equal(st.errors, 10);
    assert_true(st.bad_requests >= 10);
    assert_int_equal(st.connects, 2);
    bt_end(x);
}

static void body_bad_order(struct bt *x)
{
    struct rf *f = &x->f;
    grant_ref_t ref;
    struct blkif_request_segment good;

    x->r[0] = rf_connect(f, 0, 5); /* order 5 > max 2: backend Closed */
    rf_read_be(f, "error", x->node[0], 64);
    x->r[1] = xsim_blkback_state(x->b) == XSIM_BLKBACK_CLOSED;
    x->r[2] = rf_reconnect_cycle(f);
    x->r[3] = rf_connect(f, 2, -1);
    rf_page(f, false, &ref);
    good = seg(ref, 0, 7);
    x->r[4] = rf_do(f, BLKIF_OP_READ, 1, 0, 1, &good);
}

static void test_bad_ring_order(void **state)
{
    struct xsim_blkback_config bc;
    struct xsim_blkback_stats st;
    struct bt *x;

    (void)state;
    xsim_blkback_config_init(&bc);
    bc.features.max_ring_page_order = 2;
    x = bt_run(body_bad_order, &bc, NULL, false);
    assert_true(x->done && x->r[0] && x->r[1] && x->r[2] && x->r[3]);
    assert_non_null(strstr(x->node[0], "ring-page-order"));
    assert_int_equal(x->r[4], BLKIF_RSP_OKAY);
    xsim_blkback_stats(x->b, &st);
    assert_int_equal(st.ring_pages, 4);
    assert_int_equal(st.connects, 1);
    bt_end(x);
}

/* One handshake that is to fail: connect (x->r[i]), keep the backend's
 * error node (x->node[n]), and start over (x->r[i + 1]). */
static void bad_handshake(struct bt *x, int i, int n)
{
    x->r[i] = rf_connect(&x->f, 0, -1);
    rf_read_be(&x->f, "error", x->node[n], 64);
    x->r[i + 1] = rf_reconnect_cycle(&x->f);
}

/* Bad handshake nodes: each fails the connect (error node, Closed), and
 * the device recovers when the frontend starts over. */
static void body_bad_nodes(struct bt *x)
{
    struct rf *f = &x->f;
    grant_ref_t ref;
    struct blkif_request_segment good;

    f->bad_ref = 99999;
    bad_handshake(x, 0, 0);
    f->bad_ref = 0;
    f->bad_port = 4000;
    bad_handshake(x, 2, 1);
    f->bad_port = 0;
    f->protocol = "x86_32-abi";
    bad_handshake(x, 4, 2);
    f->protocol = NULL;
    x->r[6] = rf_connect(f, 0, -1);
    rf_page(f, false, &ref);
    good = seg(ref, 0, 7);
    x->r[7] = rf_do(f, BLKIF_OP_READ, 1, 0, 1, &good);
    x->r[8] = rf_read_be(f, "error", x->node[3], 64);
}

static void test_bad_nodes(void **state)
{
    struct xsim_blkback_stats st;
    struct bt *x;

    (void)state;
    x = bt_run(body_bad_nodes, NULL, NULL, false);
    assert_true(x->done);
    for (int i = 0; i <= 6; i++)
        if (!x->r[i])
            fail_msg("step %d failed", i);
    assert_non_null(strstr(x->node[0], "ring"));
    assert_non_null(strstr(x->node[1], "event channel"));
    assert_non_null(strstr(x->node[2], "protocol"));
    assert_int_equal(x->r[7], BLKIF_RSP_OKAY);
    assert_int_equal(x->r[8], -ENOENT); /* a good connect clears the error */
    xsim_blkback_stats(x->b, &st);
    assert_int_equal(st.connects, 1);
    bt_end(x);
}

/* The toolstack replaces the backend under a connected frontend (as on
 * migration): destroy releases the ring, a new backend takes the same
 * device, the frontend re-handshakes and finds its data. */
static void body_recreate(struct bt *x)
{
    struct rf *f = &x->f;
    grant_ref_t ref;
    struct blkif_request_segment one;
    struct xsim_blkback_config bc;

    x->r[0] = rf_connect(f, 1, -1);
    x->pg[0] = rf_page(f, false, &ref);
    fill(x->pg[0], 4096, 9);
    one = seg(ref, 0, 7);
    x->r[1] = rf_do(f, BLKIF_OP_WRITE, 1, 64, 1, &one);
    xsim_blkback_destroy(x->b);
    x->b = NULL;
    x->r[2] = xg_gnttab_end_access(&f->gt, f->rrefs[0]) == 0 &&
              xg_gnttab_end_access(&f->gt, f->rrefs[1]) == 0;
    (void)xg_evtchn_close(f->t->g, f->port);
    xsim_blkback_config_init(&bc);
    bc.storage = x->s;
    x->r[3] = xsim_blkback_create(x->t.w, x->t.hv, x->t.xs, &bc, &x->b);
    f->nrsp = 0;
    x->r[4] = rf_connect(f, 0, -1);
    memset(x->pg[0], 0, 4096);
    x->r[5] = rf_do(f, BLKIF_OP_READ, 2, 64, 1, &one);
    {
        uint8_t want[4096];
        fill(want, 4096, 9);
        x->r[6] = memcmp(want, x->pg[0], 4096) == 0;
    }
}

static void test_recreate(void **state)
{
    struct bt *x;

    (void)state;
    x = bt_run(body_recreate, NULL, NULL, false);
    assert_true(x->done && x->r[0] && x->r[2] && x->r[4] && x->r[6]);
    assert_int_equal(x->r[1], BLKIF_RSP_OKAY);
    assert_int_equal(x->r[3], 0);
    assert_int_equal(x->r[5], BLKIF_RSP_OKAY);
    assert_non_null(x->b);
    bt_end(x);
}

/* A frontend that re-handshakes without the backend ever seeing it leave
 * Connected (new ring and event channel, then Initialised): the backend
 * notices the new event channel, lets go of the old ring and connects the
 * new one. */
static void body_fast_restart(struct bt *x)
{
    struct rf *f = &x->f;
    const struct xg_platform *p = x->t.p;
    grant_ref_t ref, old_ref;
    struct blkif_request_segment one;
    struct xsim_blkback_stats st;
    uint64_t gfn;

    one = bt_connect_one(x, &ref, 0, 7);
    x->r[1] = rf_do(f, BLKIF_OP_READ, 1, 0, 1, &one);
    old_ref = f->rrefs[0];
    f->pages[0] = xg_page_alloc(p, &gfn);
    xg_gnttab_grant(&f->gt, TH_BACKEND_DOMID, gfn, false, &f->rrefs[0]);
    f->sr = (struct blkif_sring *)f->pages[0];
    SHARED_RING_INIT(f->sr);
    f->prod = f->cons = 0;
    f->nrsp = 0;
    xg_evtchn_alloc_unbound(f->t->g, TH_BACKEND_DOMID, rf_irq, f, &f->port);
    xg_evtchn_unmask(f->t->g, f->port);
    rf_write(f, "ring-ref", "%llu", f->rrefs[0]);
    rf_write(f, "event-channel", "%llu", f->port);
    xg_xenbus_switch_state(&f->xb, RF_FPATH, XenbusStateInitialised);
    for (int i = 0; i < 64; i++) {
        uint32_t seen = f->be_changes;
        xsim_blkback_stats(x->b, &st);
        if (st.connects == 2 && rf_be_state(f) == XenbusStateConnected)
            break;
        th_wait_u32(f->t, &f->be_changes, seen + 1);
    }
    x->r[2] = st.connects == 2 && st.disconnects == 1;
    xg_xenbus_switch_state(&f->xb, RF_FPATH, XenbusStateConnected);
    x->r[3] = rf_do(f, BLKIF_OP_READ, 2, 0, 1, &one);
    x->r[4] = xg_gnttab_end_access(&f->gt, old_ref);
}

static void test_fast_restart(void **state)
{
    struct bt *x;

    (void)state;
    x = bt_run(body_fast_restart, NULL, NULL, false);
    assert_true(x->done && x->r[0] && x->r[2]);
    assert_int_equal(x->r[1], BLKIF_RSP_OKAY);
    assert_int_equal(x->r[3], BLKIF_RSP_OKAY);
    assert_int_equal(x->r[4], 0);
    bt_end(x);
}

/* ---- destroy with requests in flight, and remove ---- */

static void stop_world(struct xsim_world *w, void *arg)
{
    (void)arg;
    xsim_world_stop(w);
}

static void body_inflight(struct bt *x)
{
    struct rf *f = &x->f;
    grant_ref_t ref;
    struct blkif_request_segment one;

    one = bt_connect_one(x, &ref, 0, 7);
    for (int i = 0; i < 20; i++)
        rf_req(f, BLKIF_OP_WRITE, (uint64_t)i, (uint64_t)i * 8, 1, &one);
    /* Stop the world once the backend took them, before any completes. */
    xsim_event_schedule(x->t.w, th_now(&x->t) + 5000, 9, stop_world, x);
    rf_push(f);
    rf_wait_rsp(f, 20);
}

static void test_destroy_inflight(void **state)
{
    struct xsim_blkback_stats st;
    struct bt *x;

    (void)state;
    x = bt_run(body_inflight, NULL, NULL, false);
    assert_true(x->r[0]);
    xsim_blkback_stats(x->b, &st);
    assert_int_equal(st.responses, 0);
    assert_int_equal(st.in_flight, 20);
    /* destroy (in bt_end) cancels the service events and unmaps the ring */
    bt_end(x);
}

/* The frontend closes with requests in flight: they are answered before
 * the backend goes Closed and lets go of the ring. */
static void body_close_inflight(struct bt *x)
{
    struct rf *f = &x->f;
    grant_ref_t ref;
    struct blkif_request_segment one;

    one = bt_connect_one(x, &ref, 0, 7);
    for (int i = 0; i < 10; i++)
        rf_req(f, i == 5 ? BLKIF_OP_WRITE_BARRIER : BLKIF_OP_WRITE, (uint64_t)i, (uint64_t)i * 8, 1,
               &one);
    rf_push(f);
    xg_xenbus_switch_state(&f->xb, RF_FPATH, XenbusStateClosing);
    x->r[1] = rf_wait_be(f, XenbusStateClosed);
    x->r[2] = (int)xg_read_u32(f->t->p, &f->sr->rsp_prod);
    x->r[3] = xg_gnttab_end_access(&f->gt, ref);
    x->r[4] = xg_gnttab_end_access(&f->gt, f->rrefs[0]);
}

static void test_close_inflight(void **state)
{
    struct xsim_blkback_stats st;
    struct bt *x;

    (void)state;
    x = bt_run(body_close_inflight, NULL, NULL, false);
    assert_true(x->done && x->r[0] && x->r[1]);
    assert_int_equal(x->r[2], 10);
    assert_int_equal(x->r[3], 0);
    assert_int_equal(x->r[4], 0);
    xsim_blkback_stats(x->b, &st);
    assert_int_equal(st.disconnects, 1);
    assert_int_equal(st.in_flight, 0);
    assert_int_equal(xsim_blkback_state(x->b), XSIM_BLKBACK_CLOSED);
    bt_end(x);
}

static void body_remove(struct bt *x)
{
    x->r[0] = rf_connect(&x->f, 0, -1);
    x->r[1] = xsim_blkback_remove(x->b);
    x->r[2] = xsim_xshost_read(x->t.xs, RF_BPATH "/state", x->node[0], 64);
    x->r[4] = xsim_xshost_read(x->t.xs, RF_FPATH "/state", x->node[0], 64);
    x->r[3] = xsim_gnttab_map_count(x->t.hv, TH_GUEST_DOMID, x->f.rrefs[0]) == 0;
}

/* ---- map_grants: data grants mapped for the service time ---- */

struct map_probe {
    struct bt *x;
    grant_ref_t wref, rref;
    unsigned int wmaps, rmaps;
    uint16_t wflags, rflags;
    uint64_t responses;
};

static uint16_t entry_flags(struct rf *f, grant_ref_t ref)
{
    return __atomic_load_n(
        &f->gt.frames[ref / XG_GNTTAB_PER_FRAME][ref % XG_GNTTAB_PER_FRAME].flags,
        __ATOMIC_SEQ_CST);
}

/* Mid-service, from the hypervisor's side: what is mapped now. */
static void map_probe(struct xsim_world *w, void *arg)
{
    struct map_probe *m = arg;
    struct xsim_blkback_stats st;

    (void)w;
    m->wmaps = xsim_gnttab_map_count(m->x->t.hv, TH_GUEST_DOMID, m->wref);
    m->rmaps = xsim_gnttab_map_count(m->x->t.hv, TH_GUEST_DOMID, m->rref);
    m->wflags = entry_flags(&m->x->f, m->wref);
    m->rflags = entry_flags(&m->x->f, m->rref);
    xsim_blkback_stats(m->x->b, &st);
    m->responses = st.responses;
}

static struct map_probe g_probe;

static void body_map(struct bt *x)
{
    struct rf *f = &x->f;
    struct map_probe *m = &g_probe;
    grant_ref_t wref, rref, gone;
    struct blkif_request_segment s;

    x->r[0] = rf_connect(f, 0, -1);
    x->pg[0] = rf_page(f, true, &wref); /* the backend only reads a write's page */
    x->pg[1] = rf_page(f, false, &rref);
    fill(x->pg[0], 4096, 9);
    s = seg(wref, 0, 7);
    x->r[1] = rf_do(f, BLKIF_OP_WRITE, 1, 40, 1, &s);
    /* A write and a read of the same sectors in flight together; look
     * halfway through their service time. */
    m->x = x;
    m->wref = wref;
    m->rref = rref;
    rf_req(f, BLKIF_OP_WRITE, 2, 40, 1, &s);
    s = seg(rref, 0, 7);
    rf_req(f, BLKIF_OP_READ, 3, 80, 1, &s);
    xsim_event_schedule(x->t.w, th_now(&x->t) + 10000, 7, map_probe, m);
    rf_push(f);
    x->r[2] = rf_wait_rsp(f, 3);
    x->r[3] = xsim_gnttab_map_count(x->t.hv, TH_GUEST_DOMID, wref) +
              xsim_gnttab_map_count(x->t.hv, TH_GUEST_DOMID, rref);
    x->r[4] = entry_flags(f, wref);
    x->r[5] = entry_flags(f, rref);
    /* Read back what was written: through a writable mapping. */
    s = seg(rref, 0, 7);
    x->r[6] = rf_do(f, BLKIF_OP_READ, 4, 40, 1, &s);
    x->r[7] = memcmp(x->pg[0], x->pg[1], 4096) == 0;
    /* Both let go: revocation succeeds. */
    x->r[8] = xg_gnttab_end_access(&f->gt, wref);
    x->r[9] = xg_gnttab_end_access(&f->gt, rref);
    /* A request naming a grant that is no longer granted is refused and
     * leaves nothing mapped. */
    x->pg[2] = rf_page(f, false, &gone);
    xg_gnttab_end_access(&f->gt, gone);
    s = seg(gone, 0, 7);
    x->r[10] = rf_do(f, BLKIF_OP_READ, 5, 40, 1, &s);
    x->r[11] = xsim_gnttab_map_count(x->t.hv, TH_GUEST_DOMID, gone);
}

static void test_map_grants(void **state)
{
    struct xsim_blkback_config bc;
    struct xsim_gnttab_audit a;
    struct bt *x;

    (void)state;
    xsim_blkback_config_init(&bc);
    bc.map_grants = true;
    memset(&g_probe, 0, sizeof(g_probe));
    x = bt_run(body_map, &bc, NULL, false);
    assert_true(x->done && x->r[0]);
    assert_int_equal(x->r[1], BLKIF_RSP_OKAY);
    /* Mid-service: nothing answered, both grants mapped, the write's
     * read-only (reading), the read's writable (reading and writing). */
    assert_int_equal(g_probe.responses, 1);
    assert_int_equal(g_probe.wmaps, 1);
    assert_int_equal(g_probe.rmaps, 1);
    assert_int_equal(g_probe.wflags, GTF_permit_access | GTF_readonly | GTF_reading);
    assert_int_equal(g_probe.rflags, GTF_permit_access | GTF_reading | GTF_writing);
    /* After the responses: unmapped, the in-use bits gone. */
    assert_true(x->r[2]);
    assert_int_equal(x->r[3], 0);
    assert_int_equal(x->r[4], GTF_permit_access | GTF_readonly);
    assert_int_equal(x->r[5], GTF_permit_access);
    assert_int_equal(x->r[6], BLKIF_RSP_OKAY);
    assert_true(x->r[7]);
    assert_int_equal(x->r[8], 0);
    assert_int_equal(x->r[9], 0);
    assert_int_equal(x->r[10], BLKIF_RSP_ERROR);
    assert_int_equal(x->r[11], 0);
    xsim_gnttab_audit(x->t.hv, &a);
    assert_int_equal(a.violations, 0);
    bt_end(x);
}

static void test_remove(void **state)
{
    struct bt *x;

    (void)state;
    x = bt_run(body_remove, NULL, NULL, false);
    assert_true(x->done && x->r[0]);
    assert_int_equal(x->r[1], 0);
    assert_int_equal(x->r[2], -ENOENT);
    assert_int_equal(x->r[4], -ENOENT);
    assert_true(x->r[3]);
    assert_int_equal(xsim_blkback_state(x->b), XSIM_BLKBACK_CLOSED);
    bt_end(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rw_reconnect),   cmocka_unit_test(test_barrier_flush),
        cmocka_unit_test(test_refused),        cmocka_unit_test(test_storage_faults),
        cmocka_unit_test(test_deterministic),  cmocka_unit_test(test_indirect),
        cmocka_unit_test(test_multipage),      cmocka_unit_test(test_readonly),
        cmocka_unit_test(test_cdrom),          cmocka_unit_test(test_malicious),
        cmocka_unit_test(test_bad_ring_order), cmocka_unit_test(test_destroy_inflight),
        cmocka_unit_test(test_bad_nodes),      cmocka_unit_test(test_fast_restart),
        cmocka_unit_test(test_recreate),       cmocka_unit_test(test_close_inflight),
        cmocka_unit_test(test_remove),         cmocka_unit_test(test_map_grants),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
