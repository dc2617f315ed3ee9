/*
 * test_blkfront.c - the guest's block frontend against a raw test backend
 * (rawback.c) that can be told to misbehave: the handshake (1/4/16-page
 * rings, a backend that skips InitWait or is Connected before we attach),
 * data round trips, indirect segments, barrier/flush/discard refusals and
 * their fallbacks, read-only and CD-ROM devices with a media change, a
 * malicious backend (bad id, duplicate, wrong operation, runaway rsp_prod),
 * spurious upcalls, a full ring with the hold queue, and suspend/resume on
 * the same and on a new host. Every case ends detached, with every grant
 * back and nothing leaked.
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

#include "blk_guest.h"
#include "harness.h"
#include "rawback.h"
#include "xensim/gnttab.h"
#include "xensim/guest/xg_blkfront.h"
#include "xensim/guest/xg_gnttab.h"
#include "xensim/guest/xg_xenbus.h"

#define MAX_IOS   64
#define GT_FRAMES 8

struct ctx;
typedef void (*body_fn)(struct ctx *x);

struct ctx {
    struct th t;
    struct rb rb;
    struct xg_xenbus xb;
    struct xg_gnttab gt;
    struct xg_blkfront *bf;
    struct xg_blkfront_config fcfg;
    body_fn body;
    int setup_rc, attach_rc;
    enum xg_blkfront_state reached;
    uint32_t nfree0; /* grant refs free before attach */
    uint32_t nfree_end;
    uint64_t leaked_end;
    struct xg_blk_io io[MAX_IOS];
    int status[MAX_IOS];
    uint32_t order[MAX_IOS];
    volatile uint32_t ndone;
    unsigned int norder;
    bool finished, closed, detached;
    struct xg_blkfront_info info;
    struct xg_blkfront_stats st;
    char msg[256]; /* first failed check inside the guest */
    int r[32];
    uint8_t *buf;
};

/* Grant frames for the next run_case. */
static unsigned int next_gt_frames = GT_FRAMES;

/* Misbehaviour for the next run_case (test_malicious). */
static enum rb_evil next_evil;
/* Schedule for the next run_case (NULL: the time policy). */
static const char *next_policy;
static uint64_t next_seed = 1;

static void on_done(struct xg_blkfront *bf, struct xg_blk_io *io, int status)
{
    struct ctx *x = io->arg;
    unsigned int i = (unsigned int)(io - x->io);

    (void)bf;
    x->status[i] = status;
    if (x->norder < MAX_IOS)
        x->order[x->norder++] = i;
    xg_fetch_add_u32(x->t.p, &x->ndone, 1);
    if (xg_cpu(x->t.p) != 0)
        th_wake_cpu(&x->t, 0);
}

static void wait_state(struct ctx *x, enum xg_blkfront_state want)
{
    const volatile uint32_t *seq = xg_blkfront_state_seq(x->bf);

    for (int i = 0; i < 1000; i++) {
        uint32_t s = xg_read_u32(x->t.p, seq);
        enum xg_blkfront_state st = xg_blkfront_state(x->bf);
        if (st == want || (st == XG_BLKFRONT_ERROR && want != XG_BLKFRONT_ERROR))
            break;
        th_wait_u32(&x->t, (volatile uint32_t *)seq, s + 1);
    }
    x->reached = xg_blkfront_state(x->bf);
}

static void wait_done(struct ctx *x, uint32_t n)
{
    th_wait_u32(&x->t, &x->ndone, n);
}

/* Fill io i and submit it; returns submit's result. */
static int sub(struct ctx *x, unsigned int i, enum xg_blk_op op, uint64_t sector, uint32_t n,
               void *buf)
{
    struct xg_blk_io *io = &x->io[i];

    bg_io_init(io, op, sector, n, buf, on_done, x);
    x->status[i] = 1; /* not done */
    return xg_blkfront_submit(x->bf, io);
}

/* Io i, when i others have completed: submitted, waited for and
 * successful. */
static void io_ok(struct ctx *x, unsigned int i, enum xg_blk_op op, uint64_t sector, uint32_t n,
                  void *buf)
{
    GCHECK(x, sub(x, i, op, sector, n, buf) == 0);
    wait_done(x, i + 1);
    GCHECK(x, x->status[i] == 0);
}

/* Reads i = from..to-1 of page i of the disk (sector i * 8) into page i
 * of buf, each accepted. */
static void sub_reads(struct ctx *x, uint8_t *buf, unsigned int from, unsigned int to)
{
    for (unsigned int i = from; i < to; i++)
        GCHECK(x, sub(x, i, XG_BLK_READ, i * 8, 8, buf + i * 4096) == 0);
}

/* n contiguous guest pages. */
static uint8_t *alloc_pages(struct ctx *x, unsigned int n)
{
    return bg_alloc_pages(x->t.p, n);
}

/* With the backend holding its answers (stall), reads 0..n-1 (as
 * sub_reads) into `pages` new pages; the pages. */
static uint8_t *stalled_reads(struct ctx *x, unsigned int pages, unsigned int n)
{
    uint8_t *buf = alloc_pages(x, pages);

    x->rb.stall = true;
    sub_reads(x, buf, 0, n);
    return buf;
}

static bool matches_pattern(const uint8_t *buf, uint64_t sector, uint32_t n)
{
    for (uint64_t i = 0; i < (uint64_t)n * 512; i++) {
        if (buf[i] != rb_pattern(sector * 512 + i))
            return false;
    }
    return true;
}

static void detach_and_check(struct ctx *x)
{
    int rc = x->detached ? 0 : xg_blkfront_detach(x->bf);

    GCHECK(x, rc == 0);
    wait_state(x, XG_BLKFRONT_CLOSED);
    /* The frontend goes Closed only after the backend let go of the ring. */
    SPIN_UNTIL(x, x->gt.nfree == x->nfree0);
    x->closed = xg_blkfront_state(x->bf) == XG_BLKFRONT_CLOSED;
    x->nfree_end = x->gt.nfree;
    x->leaked_end = x->gt.leaked;
}

static void guest_main(struct th *t, unsigned int cpu)
{
    struct ctx *x = t->user;

    if (cpu != 0)
        return;
    x->setup_rc = xg_xenbus_init(&x->xb, t->g);
    if (x->setup_rc == 0)
        x->setup_rc = xg_gnttab_init(&x->gt, t->g, next_gt_frames);
    if (x->setup_rc == 0)
        x->setup_rc = xg_blkfront_init(x->bf, t->g, &x->xb, &x->gt, &x->fcfg);
    if (x->setup_rc != 0)
        goto out;
    x->nfree0 = x->gt.nfree;
    x->attach_rc = xg_blkfront_attach(x->bf);
    if (x->attach_rc != 0)
        goto out;
    wait_state(x, XG_BLKFRONT_CONNECTED);
    if (x->reached == XG_BLKFRONT_CONNECTED) {
        (void)xg_blkfront_get_info(x->bf, &x->info);
        x->body(x);
        xg_blkfront_get_stats(x->bf, &x->st);
        detach_and_check(x);
    }
out:
    x->finished = true;
    rb_stop(&x->rb);
}

/* Build a world with the raw backend, run `body` once connected. */
static struct ctx *run_case(const struct rb_config *rc, const struct xg_blkfront_config *fc,
                            body_fn body)
{
    struct th_config cfg;
    struct ctx *x = calloc(1, sizeof(*x));

    assert_non_null(x);
    x->bf = bg_blkfront_alloc();
    bg_config(&cfg, guest_main, x, next_policy, next_seed);
    assert_int_equal(th_create(&x->t, &cfg, NULL), 0);
    if (fc != NULL)
        x->fcfg = *fc;
    else
        xg_blkfront_config_init(&x->fcfg, rc->devid);
    x->body = body;
    assert_int_equal(rb_create(&x->rb, &x->t, rc), 0);
    x->rb.evil = next_evil;
    x->rb.evil_after = 1;
    next_evil = RB_GOOD;
    enum xsim_stop_reason r = th_run(&x->t);
    if (r != XSIM_STOP_QUIESCENT) {
        struct xg_blkfront_stats st;
        xg_blkfront_get_stats(x->bf, &st);
        fprintf(stderr,
                "state %s ndone %u in_flight %u queued %u req %" PRIu64 " rsp %" PRIu64
                " spurious %" PRIu64
                " rb: phase %d connected %d stall %d nlog %u responses %" PRIu64
                " notifies %" PRIu64 " finished %d reached %d setup %d attach %d connects %" PRIu64
                "\n",
                xg_blkfront_state_name(xg_blkfront_state(x->bf)), x->ndone, st.in_flight, st.queued,
                st.requests, st.responses, st.spurious_upcalls, x->rb.phase, x->rb.connected,
                x->rb.stall, x->rb.nlog, x->rb.responses, x->rb.notifies, x->finished, x->reached,
                x->setup_rc, x->attach_rc, st.connects);
    }
    bg_check_run(r, x->msg, next_policy, next_seed);
    assert_int_equal(x->setup_rc, 0);
    assert_int_equal(x->attach_rc, 0);
    assert_true(x->finished);
    return x;
}

/* Every case: detached, every grant back, nothing leaked, backend let go. */
static void end_case(struct ctx *x)
{
    assert_true(x->closed);
    assert_int_equal(x->nfree_end, x->nfree0);
    assert_int_equal(x->leaked_end, 0);
    assert_false(x->rb.connected);
    rb_destroy(&x->rb);
    th_destroy(&x->t);
    free(x->bf);
    free(x);
}

/* ---- handshake and data ---- */

static void body_rw(struct ctx *x)
{
    uint8_t *buf = alloc_pages(x, 8);
    uint64_t sec = 100;

    GCHECK(x, buf != NULL);
    /* Read 20 sectors starting mid-page: 4 segments. */
    io_ok(x, 0, XG_BLK_READ, sec, 20, buf + 1024);
    GCHECK(x, matches_pattern(buf + 1024, sec, 20));
    /* Write a new pattern, read it back into a zeroed buffer. */
    for (unsigned int i = 0; i < 16 * 512; i++)
        buf[i] = (uint8_t)(i ^ 0x5a);
    io_ok(x, 1, XG_BLK_WRITE, 2000, 16, buf);
    memset(buf + 16 * 512, 0, 16 * 512);
    io_ok(x, 2, XG_BLK_READ, 2000, 16, buf + 16 * 512);
    GCHECK(x, memcmp(buf, buf + 16 * 512, 16 * 512) == 0);
    GCHECK(x, memcmp(x->rb.disk + 2000 * 512, buf, 16 * 512) == 0);
    /* Bad requests are refused at submit. */
    GCHECK(x, sub(x, 3, XG_BLK_READ, 8190, 8, buf) == -EINVAL);
    GCHECK(x, sub(x, 3, XG_BLK_READ, 0, 1, buf + 3) == -EINVAL);
    GCHECK(x, sub(x, 3, XG_BLK_READ, 0, 0, buf) == -EINVAL);
}

static void check_rw(struct ctx *x, unsigned int pages)
{
    assert_int_equal(x->info.ring_pages, pages);
    assert_int_equal(x->info.ring_slots, pages * 32);
    assert_int_equal(x->rb.npages, 0); /* disconnected at the end */
    assert_int_equal(x->info.sectors, 8192);
    assert_int_equal(x->info.sector_size, 512);
    assert_true(x->info.flush && x->info.barrier && x->info.discard);
    assert_int_equal(x->st.completed, 3);
    assert_int_equal(x->st.errors, 0);
    assert_int_equal(x->st.bad_responses, 0);
    assert_int_equal(x->st.connects, 1);
    assert_int_equal(x->rb.bad_requests, 0);
    assert_int_equal(x->rb.nlog, 3);
    assert_int_equal(x->rb.log[0].nsegs, 3);
}

static void test_handshake_ring_pages(void **state)
{
    static const unsigned int pages[] = {1, 4, 16};

    (void)state;
    for (size_t i = 0; i < 3; i++) {
        struct rb_config rc;
        struct xg_blkfront_config fc;
        rb_config_init(&rc);
        xg_blkfront_config_init(&fc, rc.devid);
        fc.ring_pages = pages[i];
        struct ctx *x = run_case(&rc, &fc, body_rw);
        check_rw(x, pages[i]);
        assert_string_equal(x->info.backend, "/local/domain/0/backend/vbd/1/51712");
        end_case(x);
    }
    /* The backend's max-ring-page-order limits what we ask for. */
    struct rb_config rc;
    struct xg_blkfront_config fc;
    rb_config_init(&rc);
    rc.max_order = 1;
    xg_blkfront_config_init(&fc, rc.devid);
    fc.ring_pages = 16;
    struct ctx *x = run_case(&rc, &fc, body_rw);
    check_rw(x, 2);
    end_case(x);
}

static void test_skipping_backends(void **state)
{
    struct rb_config rc;
    struct ctx *x;

    (void)state;
    rb_config_init(&rc);
    rc.skip_initwait = true;
    x = run_case(&rc, NULL, body_rw);
    check_rw(x, 1);
    end_case(x);

    rb_config_init(&rc);
    rc.connected_at_start = true;
    x = run_case(&rc, NULL, body_rw);
    check_rw(x, 1);
    end_case(x);
}

/* ---- indirect ---- */

static void body_indirect(struct ctx *x)
{
    uint8_t *buf = alloc_pages(x, 130);
    struct xg_blkfront_info in;

    GCHECK(x, buf != NULL);
    xg_blkfront_get_info(x->bf, &in);
    /* 128 pages = 1024 sectors in one request. */
    io_ok(x, 0, XG_BLK_READ, 1024, 1024, buf);
    GCHECK(x, matches_pattern(buf, 1024, 1024));
    for (unsigned int i = 0; i < 1024 * 512; i++)
        buf[i] = (uint8_t)(i * 13);
    io_ok(x, 1, XG_BLK_WRITE, 3000, 1024, buf);
    GCHECK(x, memcmp(x->rb.disk + 3000 * 512, buf, 1024 * 512) == 0);
    /* The largest io whatever its alignment. */
    io_ok(x, 2, XG_BLK_READ, 0, in.max_sectors, buf + 512 * 7);
    GCHECK(x, matches_pattern(buf + 512 * 7, 0, in.max_sectors));
    GCHECK(x, sub(x, 3, XG_BLK_READ, 0, in.max_sectors + 1, buf) == -E2BIG);
}

static void body_no_indirect(struct ctx *x)
{
    uint8_t *buf = alloc_pages(x, 12);

    GCHECK(x, buf != NULL);
    GCHECK(x, sub(x, 0, XG_BLK_READ, 0, 88, buf) == -E2BIG);
    io_ok(x, 0, XG_BLK_READ, 0, 81, buf + 512 * 7);
    GCHECK(x, matches_pattern(buf + 512 * 7, 0, 81));
}

static void test_indirect(void **state)
{
    struct rb_config rc;
    struct xg_blkfront_config fc;
    struct ctx *x;

    (void)state;
    rb_config_init(&rc);
    x = run_case(&rc, NULL, body_indirect);
    assert_int_equal(x->info.indirect_segs, 256);
    assert_int_equal(x->info.max_sectors, 255 * 8 + 1);
    assert_int_equal(x->st.indirect, 3);
    assert_int_equal(x->st.errors, 0);
    assert_int_equal(x->rb.log[0].op, BLKIF_OP_INDIRECT);
    assert_int_equal(x->rb.log[0].sub_op, BLKIF_OP_READ);
    assert_int_equal(x->rb.log[1].sub_op, BLKIF_OP_WRITE);
    assert_int_equal(x->rb.bad_requests, 0);
    end_case(x);

    /* Turned off in the config, or not offered: direct only. */
    xg_blkfront_config_init(&fc, rc.devid);
    fc.use_indirect = false;
    x = run_case(&rc, &fc, body_no_indirect);
    assert_int_equal(x->info.indirect_segs, 0);
    assert_int_equal(x->info.max_sectors, 81);
    assert_int_equal(x->st.indirect, 0);
    assert_int_equal(x->rb.log[0].nsegs, 11);
    end_case(x);
    rb_config_init(&rc);
    rc.max_indirect = 0;
    x = run_case(&rc, NULL, body_no_indirect);
    assert_int_equal(x->info.indirect_segs, 0);
    end_case(x);
}

/* ---- barrier, flush, discard ---- */

static void body_barrier_refused(struct ctx *x)
{
    uint8_t *buf = alloc_pages(x, 2);

    for (unsigned int i = 0; i < 4096; i++)
        buf[i] = (uint8_t)(0xa0 + i);
    GCHECK(x, sub(x, 0, XG_BLK_WRITE, 10, 8, buf) == 0);
    GCHECK(x, sub(x, 1, XG_BLK_WRITE_BARRIER, 40, 8, buf) == 0);
    GCHECK(x, sub(x, 2, XG_BLK_WRITE, 80, 8, buf) == 0);
    wait_done(x, 3);
    GCHECK(x, x->status[0] == 0 && x->status[1] == 0 && x->status[2] == 0);
    GCHECK(x, memcmp(x->rb.disk + 40 * 512, buf, 4096) == 0);
    /* Barrier now off: a second one goes straight to write + flush. */
    io_ok(x, 3, XG_BLK_WRITE_BARRIER, 50, 8, buf);
    xg_blkfront_get_info(x->bf, &x->info);
}

/* Two barriers on the ring at once, both refused: their fallbacks run in
 * the order the barriers were issued (the requeue keeps issue order). */
static void body_two_barriers_refused(struct ctx *x)
{
    uint8_t *buf = alloc_pages(x, 2);

    GCHECK(x, sub(x, 0, XG_BLK_WRITE_BARRIER, 40, 8, buf) == 0);
    GCHECK(x, sub(x, 1, XG_BLK_WRITE_BARRIER, 60, 8, buf) == 0);
    wait_done(x, 2);
    GCHECK(x, x->status[0] == 0 && x->status[1] == 0);
    xg_blkfront_get_info(x->bf, &x->info);
}

static void body_flush_refused(struct ctx *x)
{
    GCHECK(x, sub(x, 0, XG_BLK_FLUSH, 0, 0, NULL) == 0);
    wait_done(x, 1);
    GCHECK(x, x->status[0] == 0); /* fell back to a zero-segment barrier */
    xg_blkfront_get_info(x->bf, &x->info);
    GCHECK(x, !x->info.flush && x->info.barrier);
    /* Now the backend refuses barriers too: nothing left -> -EOPNOTSUPP. */
    x->rb.cfg.refuse_barrier = true;
    GCHECK(x, sub(x, 1, XG_BLK_FLUSH, 0, 0, NULL) == 0);
    wait_done(x, 2);
    GCHECK(x, x->status[1] == -EOPNOTSUPP);
    /* And at once from now on; a barrier write still completes (drained). */
    GCHECK(x, sub(x, 2, XG_BLK_FLUSH, 0, 0, NULL) == 0);
    GCHECK(x, x->status[2] == -EOPNOTSUPP);
    uint8_t *buf = alloc_pages(x, 1);
    io_ok(x, 3, XG_BLK_WRITE_BARRIER, 8, 8, buf);
    xg_blkfront_get_info(x->bf, &x->info);
}

static void body_discard_refused(struct ctx *x)
{
    GCHECK(x, sub(x, 0, XG_BLK_DISCARD, 64, 64, NULL) == 0);
    wait_done(x, 1);
    GCHECK(x, x->status[0] == -EOPNOTSUPP);
    GCHECK(x, sub(x, 1, XG_BLK_DISCARD, 64, 64, NULL) == 0);
    GCHECK(x, x->status[1] == -EOPNOTSUPP); /* at once: discard is off */
    xg_blkfront_get_info(x->bf, &x->info);
}

static void body_discard_ok(struct ctx *x)
{
    io_ok(x, 0, XG_BLK_DISCARD, 64, 64, NULL);
    GCHECK(x, x->rb.disk[64 * 512] == 0 && x->rb.disk[128 * 512 - 1] == 0);
    GCHECK(x, x->rb.disk[128 * 512] == rb_pattern(128 * 512));
}

static void body_barrier_none(struct ctx *x)
{
    uint8_t *buf = alloc_pages(x, 1);

    /* Not offered: drain, write alone, flush alone, then what came after. */
    GCHECK(x, sub(x, 0, XG_BLK_WRITE, 10, 8, buf) == 0);
    GCHECK(x, sub(x, 1, XG_BLK_WRITE_BARRIER, 40, 8, buf) == 0);
    GCHECK(x, sub(x, 2, XG_BLK_WRITE, 80, 8, buf) == 0);
    GCHECK(x, sub(x, 3, XG_BLK_READ, 80, 8, buf) == 0);
    wait_done(x, 4);
    for (int i = 0; i < 4; i++)
        GCHECK(x, x->status[i] == 0);
    GCHECK(x, x->order[0] == 0 && x->order[1] == 1);
}

static void body_flush_none(struct ctx *x)
{
    GCHECK(x, sub(x, 0, XG_BLK_FLUSH, 0, 0, NULL) == 0);
    GCHECK(x, x->status[0] == -EOPNOTSUPP);
}

static void test_barrier_flush_discard(void **state)
{
    struct rb_config rc;
    struct ctx *x;

    (void)state;
    rb_config_init(&rc);
    rc.refuse_barrier = true;
    x = run_case(&rc, NULL, body_barrier_refused);
    assert_false(x->info.barrier);
    assert_true(x->info.flush);
    assert_int_equal(x->st.barrier_fallbacks, 1);
    /* W, B (refused), W, then the fallback: W alone, F alone; then W, F. */
    assert_int_equal(x->rb.nlog, 7);
    assert_int_equal(x->rb.log[1].op, BLKIF_OP_WRITE_BARRIER);
    assert_int_equal(x->rb.log[1].status, BLKIF_RSP_EOPNOTSUPP);
    assert_int_equal(x->rb.log[3].op, BLKIF_OP_WRITE);
    assert_int_equal(x->rb.log[3].sector, 40);
    assert_int_equal(x->rb.log[4].op, BLKIF_OP_FLUSH_DISKCACHE);
    assert_int_equal(x->rb.log[5].op, BLKIF_OP_WRITE);
    assert_int_equal(x->rb.log[5].sector, 50);
    assert_int_equal(x->rb.log[6].op, BLKIF_OP_FLUSH_DISKCACHE);
    end_case(x);

    /* Both refused barriers' fallback writes, in issue order. */
    rb_config_init(&rc);
    rc.refuse_barrier = true;
    x = run_case(&rc, NULL, body_two_barriers_refused);
    {
        int w40 = -1, w60 = -1;
        for (unsigned int i = 0; i < x->rb.nlog; i++) {
            if (x->rb.log[i].op != BLKIF_OP_WRITE)
                continue;
            if (x->rb.log[i].sector == 40 && w40 < 0)
                w40 = (int)i;
            if (x->rb.log[i].sector == 60 && w60 < 0)
                w60 = (int)i;
        }
        assert_int_equal(x->rb.log[0].op, BLKIF_OP_WRITE_BARRIER);
        assert_int_equal(x->rb.log[1].op, BLKIF_OP_WRITE_BARRIER);
        assert_true(w40 >= 0 && w60 >= 0);
        assert_true(w40 < w60);
    }
    end_case(x);

    /* The same with flushes refused too, answered one at a time: after
     * both fallback writes, the first barrier's flush step is refused and
     * sent back again, while the second barrier, its flush now known to be
     * off, could complete at once. The first must still complete first: a
     * request sent back keeps the place of its first issue, not of its
     * latest step. */
    rb_config_init(&rc);
    rc.refuse_barrier = true;
    rc.refuse_flush = true;
    rc.one_at_a_time = true;
    x = run_case(&rc, NULL, body_two_barriers_refused);
    assert_int_equal(x->order[0], 0);
    assert_int_equal(x->order[1], 1);
    end_case(x);

    rb_config_init(&rc);
    rc.refuse_flush = true;
    x = run_case(&rc, NULL, body_flush_refused);
    assert_false(x->info.flush);
    assert_false(x->info.barrier);
    assert_int_equal(x->st.flush_fallbacks, 1);
    assert_int_equal(x->st.barrier_fallbacks, 1);
    /* F (refused), B0, B0 (refused), W (barrier fell back, no flush left). */
    assert_int_equal(x->rb.nlog, 4);
    assert_int_equal(x->rb.log[0].op, BLKIF_OP_FLUSH_DISKCACHE);
    assert_int_equal(x->rb.log[1].op, BLKIF_OP_WRITE_BARRIER);
    assert_int_equal(x->rb.log[1].nsegs, 0);
    assert_int_equal(x->rb.log[2].status, BLKIF_RSP_EOPNOTSUPP);
    assert_int_equal(x->rb.log[3].op, BLKIF_OP_WRITE);
    end_case(x);

    rb_config_init(&rc);
    rc.refuse_discard = true;
    x = run_case(&rc, NULL, body_discard_refused);
    assert_false(x->info.discard);
    assert_int_equal(x->st.discard_refused, 1);
    assert_int_equal(x->rb.nlog, 1);
    end_case(x);

    rb_config_init(&rc);
    x = run_case(&rc, NULL, body_discard_ok);
    assert_int_equal(x->rb.log[0].op, BLKIF_OP_DISCARD);
    end_case(x);

    rb_config_init(&rc);
    rc.barrier = false;
    x = run_case(&rc, NULL, body_barrier_none);
    assert_int_equal(x->st.barrier_fallbacks, 0);
    assert_int_equal(x->rb.nlog, 5);
    assert_int_equal(x->rb.log[0].op, BLKIF_OP_WRITE);
    assert_int_equal(x->rb.log[1].op, BLKIF_OP_WRITE);
    assert_int_equal(x->rb.log[1].sector, 40);
    assert_int_equal(x->rb.log[2].op, BLKIF_OP_FLUSH_DISKCACHE);
    assert_int_equal(x->rb.log[3].sector, 80);
    assert_int_equal(x->rb.log[4].op, BLKIF_OP_READ);
    end_case(x);

    /* Neither feature offered: a flush fails at once. */
    rb_config_init(&rc);
    rc.flush = rc.barrier = false;
    x = run_case(&rc, NULL, body_flush_none);
    assert_false(x->info.flush || x->info.barrier);
    assert_int_equal(x->rb.nlog, 0);
    end_case(x);
}

/* ---- read-only, CD-ROM ---- */

static void body_readonly(struct ctx *x)
{
    uint8_t *buf = alloc_pages(x, 1);

    GCHECK(x, sub(x, 0, XG_BLK_WRITE, 0, 8, buf) == 0);
    GCHECK(x, x->status[0] == -EROFS); /* completed at once */
    GCHECK(x, sub(x, 1, XG_BLK_READ, 0, 8, buf) == 0);
    wait_done(x, 2);
    GCHECK(x, x->status[1] == 0 && matches_pattern(buf, 0, 8));
}

static void body_cdrom(struct ctx *x)
{
    uint8_t *buf = alloc_pages(x, 1);

    body_readonly(x);
    /* Eject: the frontend sees sectors = 0 through its watch. */
    rb_set_sectors(&x->rb, 0);
    struct xg_blkfront_info in;
    SPIN_UNTIL(x, (xg_blkfront_get_info(x->bf, &in), in.sectors == 0));
    GCHECK(x, sub(x, 2, XG_BLK_READ, 0, 8, buf) == 0);
    GCHECK(x, x->status[2] == -ENOMEDIUM);
    /* A new medium. */
    rb_set_sectors(&x->rb, 4096);
    SPIN_UNTIL(x, (xg_blkfront_get_info(x->bf, &in), in.sectors == 4096));
    GCHECK(x, sub(x, 3, XG_BLK_READ, 8, 8, buf) == 0);
    wait_done(x, 4);
    GCHECK(x, x->status[3] == 0 && matches_pattern(buf, 8, 8));
    GCHECK(x, sub(x, 4, XG_BLK_READ, 4096, 8, buf) == -EINVAL);
}

static void test_readonly_cdrom(void **state)
{
    struct rb_config rc;
    struct ctx *x;

    (void)state;
    rb_config_init(&rc);
    rc.readonly = true;
    x = run_case(&rc, NULL, body_readonly);
    assert_true(x->info.readonly);
    assert_false(x->info.cdrom);
    assert_int_equal(x->rb.nlog, 1);
    end_case(x);

    rb_config_init(&rc);
    rc.cdrom = true;
    rc.devid = 5632;
    x = run_case(&rc, NULL, body_cdrom);
    assert_true(x->info.cdrom && x->info.readonly && x->info.removable);
    assert_int_equal(x->info.vdisk_info, VDISK_CDROM | VDISK_REMOVABLE);
    assert_int_equal(x->rb.nlog, 2);
    end_case(x);
}

/* ---- a malicious backend ---- */

static void body_evil(struct ctx *x)
{
    uint8_t *buf = alloc_pages(x, 4);

    GCHECK(x, sub(x, 0, XG_BLK_READ, 0, 8, buf) == 0);
    wait_done(x, 1);
    sub_reads(x, buf, 1, 4);
    wait_done(x, 4);
    wait_state(x, XG_BLKFRONT_ERROR);
    GCHECK(x, x->reached == XG_BLKFRONT_ERROR);
    GCHECK(x, sub(x, 5, XG_BLK_READ, 0, 8, buf) == -EIO);
    /* The port stays masked. */
    struct xsim_hv_port_info pi;
    evtchn_port_t port = 0;
    /* Only entries below the high-water mark were ever written. */
    for (evtchn_port_t p = 1; p < x->t.g->port_hwm; p++) {
        if (x->t.g->ports[p].arg == x->bf)
            port = p;
    }
    GCHECK(x, port != 0);
    GCHECK(x, xsim_hv_port_info(x->t.hv, TH_GUEST_DOMID, port, &pi) == 0 && pi.masked);
    /* More events change nothing. */
    rb_spurious(&x->rb, 3);
    for (int i = 0; i < 10; i++)
        xg_point(x->t.p, XG_POINT_SPIN, NULL);
}

static void test_malicious(void **state)
{
    static const enum rb_evil evils[] = {RB_BAD_ID, RB_DUP, RB_WRONG_OP, RB_PROD_AHEAD};

    (void)state;
    for (size_t e = 0; e < 4; e++) {
        struct rb_config rc;
        struct ctx *x;
        rb_config_init(&rc);
        rc.latency_ns = 1000;
        /* The backend answers the first request well, then misbehaves. */
        next_evil = evils[e];
        x = run_case(&rc, NULL, body_evil);
        assert_int_equal(x->st.bad_responses, 1);
        assert_int_equal(x->st.completed, 4);
        assert_int_equal(x->st.in_flight, 0);
        assert_int_equal(x->st.queued, 0);
        /* The first answer was good; the rest -EIO. */
        unsigned int ok = 0, eio = 0;
        for (int i = 0; i < 4; i++) {
            ok += x->status[i] == 0;
            eio += x->status[i] == -EIO;
        }
        assert_int_equal(ok + eio, 4);
        assert_true(ok >= 1);
        assert_true(eio >= 1);
        /* A runaway rsp_prod is refused before any slot is read. */
        if (evils[e] == RB_PROD_AHEAD)
            assert_int_equal(x->st.responses, 1);
        end_case(x);
    }
}

/* ---- spurious upcalls ---- */

static void body_spurious(struct ctx *x)
{
    uint8_t *buf = alloc_pages(x, 1);
    struct xg_blkfront_stats st;

    rb_spurious(&x->rb, 5);
    SPIN_UNTIL(x, (xg_blkfront_get_stats(x->bf, &st), st.spurious_upcalls >= 5));
    GCHECK(x, st.spurious_upcalls >= 5);
    io_ok(x, 0, XG_BLK_READ, 0, 8, buf);
}

static void test_spurious(void **state)
{
    struct rb_config rc;
    struct ctx *x;

    (void)state;
    rb_config_init(&rc);
    x = run_case(&rc, NULL, body_spurious);
    assert_true(x->st.spurious_upcalls >= 5);
    assert_int_equal(x->st.bad_responses, 0);
    end_case(x);
}

/* ---- ring full, hold queue ---- */

static void body_ring_full(struct ctx *x)
{
    uint8_t *buf = stalled_reads(x, 42, 42);
    struct xg_blkfront_stats st;

    GCHECK(x, sub(x, 42, XG_BLK_READ, 0, 8, buf) == -ENOSPC);
    xg_blkfront_get_stats(x->bf, &st);
    GCHECK(x, st.in_flight == 32);
    GCHECK(x, st.queued == 10);
    rb_release(&x->rb);
    wait_done(x, 42);
    for (unsigned int i = 0; i < 42; i++) {
        GCHECK(x, x->status[i] == 0);
        GCHECK(x, matches_pattern(buf + i * 4096, i * 8, 8));
    }
    /* Completed in submission order (the backend answers in order). */
    for (unsigned int i = 0; i < 42; i++)
        GCHECK(x, x->order[i] == i);
}

static void test_ring_full(void **state)
{
    struct rb_config rc;
    struct xg_blkfront_config fc;
    struct ctx *x;

    (void)state;
    rb_config_init(&rc);
    xg_blkfront_config_init(&fc, rc.devid);
    fc.max_queued = 10;
    x = run_case(&rc, &fc, body_ring_full);
    assert_int_equal(x->st.completed, 42);
    assert_int_equal(x->st.requests, 42);
    end_case(x);
}

/* ---- suspend / resume ---- */

static void body_resume_same(struct ctx *x)
{
    uint8_t *buf = stalled_reads(x, 8, 4);

    GCHECK(x, xg_blkfront_suspend(x->bf) == 0);
    GCHECK(x, xg_blkfront_state(x->bf) == XG_BLKFRONT_SUSPENDED);
    sub_reads(x, buf, 4, 8);
    struct xg_blkfront_stats st;
    xg_blkfront_get_stats(x->bf, &st);
    GCHECK(x, st.in_flight == 4 && st.queued == 4);
    rb_release(&x->rb); /* in-flight ones complete while suspended */
    wait_done(x, 4);
    GCHECK(x, xg_blkfront_resume(x->bf, false) == 0);
    GCHECK(x, xg_blkfront_state(x->bf) == XG_BLKFRONT_CONNECTED);
    wait_done(x, 8);
    for (unsigned int i = 0; i < 8; i++)
        GCHECK(x, x->status[i] == 0 && matches_pattern(buf + i * 4096, i * 8, 8));
}

static void body_resume_new(struct ctx *x)
{
    uint8_t *buf = alloc_pages(x, 8);
    struct rb_config nc;

    x->rb.stall = true;
    for (unsigned int i = 0; i < 6; i++) {
        if (i % 2 == 0) {
            GCHECK(x, sub(x, i, XG_BLK_READ, i * 8, 8, buf + i * 4096) == 0);
        } else {
            memset(buf + i * 4096, 0x40 + (int)i, 4096);
            GCHECK(x, sub(x, i, XG_BLK_WRITE, 1000 + i * 8, 8, buf + i * 4096) == 0);
        }
    }
    GCHECK(x, sub(x, 6, XG_BLK_FLUSH, 0, 0, NULL) == 0);
    GCHECK(x, xg_blkfront_suspend(x->bf) == 0);
    /* The new host: a fresh backend at a new path with other features,
     * and (what the suspend code does) a grant table with every ref free. */
    rb_config_init(&nc);
    nc.max_order = 2;
    nc.max_indirect = 0;
    nc.barrier = false;
    rb_migrate(&x->rb, &nc);
    for (unsigned int f = 0; f < x->gt.nr_frames; f++)
        memset(x->gt.frames[f], 0, 4096);
    GCHECK(x, xg_gnttab_init(&x->gt, x->t.g, GT_FRAMES) == 0);
    x->nfree0 = x->gt.nfree;
    GCHECK(x, xg_blkfront_resume(x->bf, true) == 0);
    wait_state(x, XG_BLKFRONT_CONNECTED);
    GCHECK(x, x->reached == XG_BLKFRONT_CONNECTED);
    wait_done(x, 7);
    for (unsigned int i = 0; i < 7; i++)
        GCHECK(x, x->status[i] == 0);
    for (unsigned int i = 0; i < 6; i += 2)
        GCHECK(x, matches_pattern(buf + i * 4096, i * 8, 8));
    for (unsigned int i = 1; i < 6; i += 2)
        GCHECK(x, memcmp(x->rb.disk + (1000 + i * 8) * 512, buf + i * 4096, 4096) == 0);
    xg_blkfront_get_info(x->bf, &x->info);
}

static void test_suspend_resume(void **state)
{
    struct rb_config rc;
    struct ctx *x;

    (void)state;
    rb_config_init(&rc);
    x = run_case(&rc, NULL, body_resume_same);
    assert_int_equal(x->st.completed, 8);
    assert_int_equal(x->st.requeued, 0);
    assert_int_equal(x->st.connects, 1);
    end_case(x);

    rb_config_init(&rc);
    struct xg_blkfront_config fc;
    xg_blkfront_config_init(&fc, rc.devid);
    fc.ring_pages = 16;
    x = run_case(&rc, &fc, body_resume_new);
    assert_int_equal(x->st.completed, 7);
    assert_int_equal(x->st.requeued, 7);
    assert_int_equal(x->st.connects, 2);
    assert_string_equal(x->info.backend, "/local/domain/0/backend/vbd2/1/51712");
    /* Re-read features: the new host's ring order and no indirect. */
    assert_int_equal(x->info.ring_pages, 4);
    assert_int_equal(x->info.indirect_segs, 0);
    assert_false(x->info.barrier);
    /* The new backend saw the requests again in their original order. */
    assert_int_equal(x->rb.nlog, 7);
    for (unsigned int i = 0; i < 6; i++)
        assert_int_equal(x->rb.log[i].sector, i % 2 == 0 ? i * 8 : 1000 + i * 8);
    assert_int_equal(x->rb.log[6].op, BLKIF_OP_FLUSH_DISKCACHE);
    end_case(x);
}

/* ---- bounce buffers (XSA-403) ---- */

static void body_grants_short(struct ctx *x);

static void body_snoop(struct ctx *x)
{
    uint8_t *buf = alloc_pages(x, 2);

    x->rb.snoop = true;
    /* The first half of the page is the guest's secret; the io covers
     * only the second half. */
    memset(buf, 0, 8192);
    memcpy(buf, "SECRET!", 7);
    memset(buf + 2048, 0x77, 2048);
    io_ok(x, 0, XG_BLK_WRITE, 300, 4, buf + 2048);
    GCHECK(x, memcmp(x->rb.disk + 300 * 512, buf + 2048, 2048) == 0);
    io_ok(x, 1, XG_BLK_READ, 500, 4, buf + 2048);
    GCHECK(x, matches_pattern(buf + 2048, 500, 4));
    GCHECK(x, memcmp(buf, "SECRET!", 7) == 0); /* untouched by the copy back */
    /* Several pages, not aligned. */
    memcpy(buf + 4096 + 3000, "SECRET!", 7);
    GCHECK(x, sub(x, 2, XG_BLK_READ, 600, 6, buf + 512) == 0);
    wait_done(x, 3);
    GCHECK(x, x->status[2] == 0 && matches_pattern(buf + 512, 600, 6));
    GCHECK(x, memcmp(buf + 4096 + 3000, "SECRET!", 7) == 0);
}

static void test_bounce(void **state)
{
    struct rb_config rc;
    struct xg_blkfront_config fc;
    struct ctx *x;

    (void)state;
    rb_config_init(&rc);
    /* Without bounce buffers the backend sees the rest of the page. */
    x = run_case(&rc, NULL, body_snoop);
    assert_true(x->rb.secrets_seen > 0);
    end_case(x);
    xg_blkfront_config_init(&fc, rc.devid);
    fc.bounce = true;
    x = run_case(&rc, &fc, body_snoop);
    assert_int_equal(x->rb.secrets_seen, 0);
    end_case(x);
    /* Data still round-trips, direct and indirect. */
    x = run_case(&rc, &fc, body_rw);
    check_rw(x, 1);
    end_case(x);
    x = run_case(&rc, &fc, body_indirect);
    assert_int_equal(x->st.errors, 0);
    end_case(x);
    fc.ring_pages = 16;
    next_gt_frames = 1;
    x = run_case(&rc, &fc, body_grants_short);
    next_gt_frames = GT_FRAMES;
    assert_int_equal(x->st.errors, 0);
    end_case(x);
}

/* ---- going away ---- */

static void body_detach_inflight(struct ctx *x)
{
    uint8_t *buf = stalled_reads(x, 3, 3);

    GCHECK(x, xg_blkfront_detach(x->bf) == 0);
    x->detached = true;
    for (unsigned int i = 0; i < 3; i++)
        GCHECK(x, x->status[i] == -ENODEV); /* before detach returned */
    GCHECK(x, sub(x, 3, XG_BLK_READ, 0, 8, buf) == -ENODEV);
    GCHECK(x, xg_blkfront_detach(x->bf) == -ENODEV);
}

static void body_backend_closes(struct ctx *x)
{
    uint8_t *buf = stalled_reads(x, 2, 2);

    rb_close(&x->rb);
    wait_done(x, 2);
    for (unsigned int i = 0; i < 2; i++)
        GCHECK(x, x->status[i] == -ENODEV);
    GCHECK(x, xg_blkfront_state(x->bf) == XG_BLKFRONT_CLOSED);
    GCHECK(x, sub(x, 2, XG_BLK_READ, 0, 8, buf) == -ENODEV);
    x->detached = true;
}

static void test_going_away(void **state)
{
    struct rb_config rc;
    struct ctx *x;

    (void)state;
    rb_config_init(&rc);
    x = run_case(&rc, NULL, body_detach_inflight);
    assert_int_equal(x->st.completed, 3);
    assert_int_equal(x->rb.nlog, 0);
    end_case(x);

    rb_config_init(&rc);
    x = run_case(&rc, NULL, body_backend_closes);
    assert_int_equal(x->st.completed, 2);
    end_case(x);
}

/* Found by test_blkfront_fuzz: an attach while the old backend still
 * holds the ring (detach not finished) must be refused, not start a
 * handshake that can never finish. */
static void body_reattach_while_detaching(struct ctx *x)
{
    GCHECK(x, xg_blkfront_detach(x->bf) == 0);
    x->detached = true;
    GCHECK(x, xg_blkfront_state(x->bf) == XG_BLKFRONT_CLOSED);
    GCHECK(x, xg_blkfront_attach(x->bf) == -EBUSY);
}

/* Found by test_blkfront_fuzz: a broken device whose backend state node
 * holds garbage is detached; the backend's Closed arrives while detach
 * tears the ring down. The watch must not start a second teardown
 * inside the first (it deadlocked on the guest's port lock). */
static void body_detach_garbage_state(struct ctx *x)
{
    uint8_t *buf = alloc_pages(x, 4);
    char path[256];

    GCHECK(x, sub(x, 0, XG_BLK_READ, 0, 8, buf) == 0);
    wait_done(x, 1);
    sub_reads(x, buf, 1, 3);
    wait_done(x, 3);
    wait_state(x, XG_BLKFRONT_ERROR);
    GCHECK(x, x->reached == XG_BLKFRONT_ERROR);
    snprintf(path, sizeof(path), "%s/state", x->rb.be_path);
    GCHECK(x, xsim_xshost_write(x->t.xs, path, "9") == 0);
    for (int i = 0; i < 50; i++)
        xg_point(x->t.p, XG_POINT_SPIN, NULL);
    GCHECK(x, xg_blkfront_detach(x->bf) == 0);
    x->detached = true;
    GCHECK(x, xg_blkfront_state(x->bf) == XG_BLKFRONT_CLOSED);
}

static void test_fuzz_regressions(void **state)
{
    struct rb_config rc;
    struct ctx *x;

    (void)state;
    rb_config_init(&rc);
    x = run_case(&rc, NULL, body_reattach_while_detaching);
    end_case(x);

    for (uint64_t lat = 1000; lat <= 9000; lat += 2000) {
        rb_config_init(&rc);
        rc.latency_ns = lat;
        next_evil = RB_BAD_ID;
        x = run_case(&rc, NULL, body_detach_garbage_state);
        assert_int_equal(x->st.bad_responses, 1);
        assert_int_equal(x->st.completed, 3);
        /* The backend had the ring mapped when it was torn down. */
        rb_destroy(&x->rb);
        th_destroy(&x->t);
        free(x->bf);
        free(x);
    }
}

/* ---- out of grant references ---- */

static void body_grants_short(struct ctx *x)
{
    uint8_t *buf = alloc_pages(x, 128 * 6);

    GCHECK(x, buf != NULL);
    /* 6 requests of 128 pages (129 grants each) with ~500 refs: some wait
     * for others' grants to come back, none fails. */
    for (unsigned int i = 0; i < 6; i++)
        GCHECK(x, sub(x, i, XG_BLK_READ, i * 1024 % 7168, 1024, buf + (size_t)i * 128 * 4096) == 0);
    struct xg_blkfront_stats st;
    xg_blkfront_get_stats(x->bf, &st);
    GCHECK(x, st.in_flight == 3 && st.queued == 3);
    wait_done(x, 6);
    for (unsigned int i = 0; i < 6; i++) {
        GCHECK(x, x->status[i] == 0);
        GCHECK(x, matches_pattern(buf + (size_t)i * 128 * 4096, i * 1024 % 7168, 1024));
    }
}

static void test_grants_short(void **state)
{
    struct rb_config rc;
    struct xg_blkfront_config fc;
    struct ctx *x;

    (void)state;
    rb_config_init(&rc);
    xg_blkfront_config_init(&fc, rc.devid);
    fc.ring_pages = 16;
    next_gt_frames = 1;
    x = run_case(&rc, &fc, body_grants_short);
    next_gt_frames = GT_FRAMES;
    assert_int_equal(x->st.completed, 6);
    assert_int_equal(x->st.errors, 0);
    end_case(x);
}

/* A few cases under random schedules. (Not PCT: the raw backend polls
 * forever from timed events, and a strict-priority schedule may then
 * never give the vCPUs a turn; the e2e test runs PCT against blkback.) */
static void test_schedules(void **state)
{
    static const char *const policies[] = {"random"};
    static const body_fn bodies[] = {body_ring_full, body_resume_new, body_barrier_none};

    (void)state;
    for (size_t p = 0; p < 1; p++) {
        for (size_t b = 0; b < 3; b++) {
            for (uint64_t seed = 1; seed <= 8; seed++) {
                struct rb_config rc;
                struct xg_blkfront_config fc;
                rb_config_init(&rc);
                if (bodies[b] == body_barrier_none)
                    rc.barrier = false;
                xg_blkfront_config_init(&fc, rc.devid);
                fc.max_queued = 10;
                next_policy = policies[p];
                next_seed = seed;
                struct ctx *x = run_case(&rc, &fc, bodies[b]);
                assert_int_equal(x->st.errors, 0);
                assert_int_equal(x->st.bad_responses, 0);
                end_case(x);
            }
        }
    }
    next_policy = NULL;
    next_seed = 1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handshake_ring_pages),
        cmocka_unit_test(test_skipping_backends),
        cmocka_unit_test(test_indirect),
        cmocka_unit_test(test_barrier_flush_discard),
        cmocka_unit_test(test_readonly_cdrom),
        cmocka_unit_test(test_malicious),
        cmocka_unit_test(test_spurious),
        cmocka_unit_test(test_ring_full),
        cmocka_unit_test(test_suspend_resume),
        cmocka_unit_test(test_going_away),
        cmocka_unit_test(test_bounce),
        cmocka_unit_test(test_grants_short),
        cmocka_unit_test(test_schedules),
        cmocka_unit_test(test_fuzz_regressions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
