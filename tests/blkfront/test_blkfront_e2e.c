/*
 * test_blkfront_e2e.c - the guest's block frontend against the simulator's
 * real blkback over a storage model: handshake with a 16-page ring, I/O
 * from two CPUs at once with the data checked, flush making writes
 * durable, barriers, discard, indirect requests, refused barrier/flush
 * falling back, a CD-ROM with a media change, and a clean detach with
 * every grant back.
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
#include "blkdev.h"
#include "harness.h"
#include "xensim/blkback.h"
#include "xensim/guest/xg_blkfront.h"
#include "xensim/guest/xg_gnttab.h"
#include "xensim/guest/xg_xenbus.h"
#include "xensim/storage.h"

#define DISK_SECTORS 8192
#define PER_CPU      16
#define NIO          (2 * PER_CPU + 16)

struct ex;
typedef void (*ebody_fn)(struct ex *x);

struct ex {
    struct th t;
    struct xsim_storage *s;
    struct xsim_blkback *b;
    struct xg_xenbus xb;
    struct xg_gnttab gt;
    struct xg_blkfront *bf;
    struct xg_blkfront_config fcfg;
    ebody_fn body;
    int setup_rc;
    enum xg_blkfront_state reached;
    uint32_t nfree0;
    bool closed, finished;
    struct xg_blk_io io[NIO];
    int status[NIO];
    volatile uint32_t ndone[2]; /* completions of I/O issued by CPU 0 / CPU 1 */
    volatile uint32_t phase, cpu1_done;
    bool cpu1_io;
    uint8_t *bufs[2];
    struct xg_blkfront_info info;
    struct xg_blkfront_stats st;
    char msg[256];
};

static void on_done(struct xg_blkfront *bf, struct xg_blk_io *io, int status)
{
    struct ex *x = io->arg;
    unsigned int i = (unsigned int)(io - x->io);
    unsigned int owner = i >= PER_CPU && i < 2 * PER_CPU ? 1 : 0;

    (void)bf;
    x->status[i] = status;
    xg_fetch_add_u32(x->t.p, &x->ndone[owner], 1);
    /* Wake the submitter wherever the upcall ran. */
    if (xg_cpu(x->t.p) != owner)
        th_wake_cpu(&x->t, owner);
}

static int sub(struct ex *x, unsigned int i, enum xg_blk_op op, uint64_t sector, uint32_t n,
               void *buf)
{
    struct xg_blk_io *io = &x->io[i];

    bg_io_init(io, op, sector, n, buf, on_done, x);
    x->status[i] = 1;
    return xg_blkfront_submit(x->bf, io);
}

static uint8_t *alloc_pages(struct ex *x, unsigned int n)
{
    return bg_alloc_pages(x->t.p, n);
}

static void fill(uint8_t *p, size_t n, unsigned int tag)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(tag * 31 + i * 7 + (i >> 9));
}

static void wait_state(struct ex *x, enum xg_blkfront_state want)
{
    const volatile uint32_t *seq = xg_blkfront_state_seq(x->bf);

    for (int i = 0; i < 1000; i++) {
        uint32_t s = xg_read_u32(x->t.p, seq);
        enum xg_blkfront_state st = xg_blkfront_state(x->bf);
        if (st == want || st == XG_BLKFRONT_ERROR)
            break;
        th_wait_u32(&x->t, (volatile uint32_t *)seq, s + 1);
    }
    x->reached = xg_blkfront_state(x->bf);
}

/* Each CPU writes PER_CPU/2 areas and reads them back, all at once. */
static void cpu_io(struct ex *x, unsigned int cpu)
{
    unsigned int base = cpu * PER_CPU, half = PER_CPU / 2;
    uint8_t *buf = x->bufs[cpu];

    for (unsigned int k = 0; k < half; k++) {
        fill(buf + k * 8192, 8192, base + k);
        GCHECK(x, sub(x, base + k, XG_BLK_WRITE, (base + k) * 16, 16, buf + k * 8192) == 0);
    }
    th_wait_u32(&x->t, &x->ndone[cpu], half);
    for (unsigned int k = 0; k < half; k++) {
        memset(buf + (half + k) * 8192, 0, 8192);
        GCHECK(x, sub(x, base + half + k, XG_BLK_READ, (base + k) * 16, 16,
                      buf + (half + k) * 8192) == 0);
    }
    th_wait_u32(&x->t, &x->ndone[cpu], PER_CPU);
    for (unsigned int k = 0; k < PER_CPU; k++)
        GCHECK(x, x->status[base + k] == 0);
    for (unsigned int k = 0; k < half; k++)
        GCHECK(x, memcmp(buf + k * 8192, buf + (half + k) * 8192, 8192) == 0);
}

static void e_main(struct th *t, unsigned int cpu)
{
    struct ex *x = t->user;

    if (cpu == 1) {
        th_wait_u32(t, &x->phase, 1);
        if (x->cpu1_io)
            cpu_io(x, 1);
        xg_write_u32(t->p, &x->cpu1_done, 1);
        th_wake_cpu(t, 0);
        return;
    }
    x->setup_rc = xg_xenbus_init(&x->xb, t->g);
    if (x->setup_rc == 0)
        x->setup_rc = xg_gnttab_init(&x->gt, t->g, 8);
    if (x->setup_rc == 0)
        x->setup_rc = xg_blkfront_init(x->bf, t->g, &x->xb, &x->gt, &x->fcfg);
    x->nfree0 = x->gt.nfree;
    if (x->setup_rc == 0)
        x->setup_rc = xg_blkfront_attach(x->bf);
    if (x->setup_rc == 0)
        wait_state(x, XG_BLKFRONT_CONNECTED);
    if (x->setup_rc == 0 && x->reached == XG_BLKFRONT_CONNECTED) {
        (void)xg_blkfront_get_info(x->bf, &x->info);
        x->body(x);
    }
    xg_write_u32(t->p, &x->phase, 1);
    th_wake_others(t);
    th_wait_u32(t, &x->cpu1_done, 1);
    xg_blkfront_get_stats(x->bf, &x->st);
    if (x->setup_rc == 0) {
        GCHECK(x, xg_blkfront_detach(x->bf) == 0);
        SPIN_UNTIL(x, x->gt.nfree == x->nfree0);
        x->closed = xg_blkfront_state(x->bf) == XG_BLKFRONT_CLOSED;
    }
    x->finished = true;
}

/* Schedule for the next e_run (NULL: the time policy). */
static const char *next_policy;
static uint64_t next_seed = 1;

static struct ex *e_run(const struct xsim_blkback_config *bc, bool cdrom, ebody_fn body,
                        unsigned int ring_pages)
{
    struct th_config cfg;
    struct xsim_storage_config scfg;
    uint32_t devid;
    struct ex *x = calloc(1, sizeof(*x));

    assert_non_null(x);
    x->bf = bg_blkfront_alloc();
    x->body = body;
    bg_config(&cfg, e_main, x, next_policy, next_seed);
    assert_int_equal(th_create(&x->t, &cfg, NULL), 0);
    memset(&scfg, 0, sizeof(scfg));
    scfg.sectors = DISK_SECTORS;
    scfg.write_cache = true;
    devid = th_blkback_start(&x->t, &scfg, cdrom, bc, &x->s, &x->b);
    xg_blkfront_config_init(&x->fcfg, devid);
    x->fcfg.ring_pages = ring_pages;
    enum xsim_stop_reason r = th_run(&x->t);
    bg_check_run(r, x->msg, next_policy, next_seed);
    assert_int_equal(x->setup_rc, 0);
    assert_true(x->finished);
    assert_int_equal(x->reached, XG_BLKFRONT_CONNECTED);
    return x;
}

static void e_end(struct ex *x)
{
    struct xsim_blkback_stats bs;

    assert_true(x->closed);
    assert_int_equal(x->gt.nfree, x->nfree0);
    assert_int_equal(x->gt.leaked, 0);
    assert_int_equal(x->st.bad_responses, 0);
    xsim_blkback_stats(x->b, &bs);
    assert_int_equal(bs.bad_requests, 0);
    assert_int_equal(bs.in_flight, 0);
    xsim_blkback_destroy(x->b);
    th_destroy(&x->t);
    xsim_storage_destroy(x->s);
    free(x->bf);
    free(x);
}

/* ---- full disk ---- */

static void body_disk(struct ex *x)
{
    uint8_t *big = alloc_pages(x, 130), *chk;
    unsigned int b = 2 * PER_CPU;

    x->bufs[0] = alloc_pages(x, PER_CPU * 2);
    x->bufs[1] = alloc_pages(x, PER_CPU * 2);
    GCHECK(x, big != NULL && x->bufs[0] != NULL && x->bufs[1] != NULL);
    /* Both CPUs at once. */
    x->cpu1_io = true;
    xg_write_u32(x->t.p, &x->phase, 1);
    th_wake_others(&x->t);
    cpu_io(x, 0);
    th_wait_u32(&x->t, &x->cpu1_done, 1);
    /* Flush: what was written is durable. */
    GCHECK(x, sub(x, b, XG_BLK_FLUSH, 0, 0, NULL) == 0);
    th_wait_u32(&x->t, &x->ndone[0], PER_CPU + 1);
    GCHECK(x, x->status[b] == 0);
    chk = malloc(8192);
    GCHECK(x, xsim_storage_read_durable(x->s, PER_CPU * 16, 16, chk) == 0);
    GCHECK(x, memcmp(chk, x->bufs[1], 8192) == 0);
    free(chk);
    /* One indirect request of 128 pages, then read back through 3. */
    fill(big, 1024 * 512, 99);
    GCHECK(x, sub(x, b + 1, XG_BLK_WRITE_BARRIER, 4096, 1024, big) == 0);
    th_wait_u32(&x->t, &x->ndone[0], PER_CPU + 2);
    GCHECK(x, x->status[b + 1] == 0);
    uint8_t *back = alloc_pages(x, 128);
    GCHECK(x, back != NULL);
    GCHECK(x, sub(x, b + 2, XG_BLK_READ, 4096, 512, back) == 0);
    GCHECK(x, sub(x, b + 3, XG_BLK_READ, 4096 + 512, 512, back + 512 * 512) == 0);
    th_wait_u32(&x->t, &x->ndone[0], PER_CPU + 4);
    GCHECK(x, x->status[b + 2] == 0 && x->status[b + 3] == 0);
    GCHECK(x, memcmp(back, big, 1024 * 512) == 0);
    /* Discard, then the range reads as zeroes (the mem model). */
    GCHECK(x, sub(x, b + 4, XG_BLK_DISCARD, 4096, 64, NULL) == 0);
    th_wait_u32(&x->t, &x->ndone[0], PER_CPU + 5);
    GCHECK(x, x->status[b + 4] == 0);
    /* A barrier that fits a direct request goes to the backend as one. */
    GCHECK(x, sub(x, b + 5, XG_BLK_WRITE_BARRIER, 200, 16, big) == 0);
    th_wait_u32(&x->t, &x->ndone[0], PER_CPU + 6);
    GCHECK(x, x->status[b + 5] == 0);
    xg_blkfront_get_stats(x->bf, &x->st);
}

static void test_e2e_disk(void **state)
{
    (void)state;
    struct ex *x = e_run(NULL, false, body_disk, 16);
    struct xsim_blkback_stats bs;

    assert_int_equal(x->info.ring_pages, 16);
    assert_int_equal(x->info.ring_slots, 512);
    assert_int_equal(x->info.sectors, DISK_SECTORS);
    assert_true(x->info.flush && x->info.barrier && x->info.discard);
    assert_int_equal(x->info.indirect_segs, 256);
    assert_int_equal(x->st.completed, 2 * PER_CPU + 6);
    assert_int_equal(x->st.barrier_fallbacks, 0);
    assert_int_equal(x->st.errors, 0);
    assert_true(x->st.indirect >= 1);
    xsim_blkback_stats(x->b, &bs);
    assert_int_equal(bs.connects, 1);
    assert_true(bs.indirect >= 1);
    /* The 128-page barrier went as drain + write + flush. */
    assert_int_equal(bs.barriers, 1);
    assert_int_equal(bs.flushes, 2);
    assert_int_equal(bs.discards, 1);
    e_end(x);
}

/* ---- refused barrier and flush ---- */

static void body_refused(struct ex *x)
{
    uint8_t *buf = alloc_pages(x, 2);

    fill(buf, 8192, 5);
    GCHECK(x, sub(x, 0, XG_BLK_WRITE_BARRIER, 100, 16, buf) == 0);
    th_wait_u32(&x->t, &x->ndone[0], 1);
    GCHECK(x, x->status[0] == 0);
    GCHECK(x, sub(x, 1, XG_BLK_FLUSH, 0, 0, NULL) == 0);
    th_wait_u32(&x->t, &x->ndone[0], 2);
    GCHECK(x, x->status[1] == -EOPNOTSUPP);
    xg_blkfront_get_info(x->bf, &x->info);
    uint8_t *chk = malloc(8192);
    GCHECK(x, xsim_storage_read(x->s, 100, 16, chk) == 0);
    GCHECK(x, memcmp(chk, buf, 8192) == 0);
    free(chk);
    xg_blkfront_get_stats(x->bf, &x->st);
}

static void test_e2e_refused(void **state)
{
    struct xsim_blkback_config bc;

    (void)state;
    xsim_blkback_config_init(&bc);
    bc.refuse_barrier = true;
    bc.refuse_flush = true;
    struct ex *x = e_run(&bc, false, body_refused, 1);
    assert_false(x->info.barrier);
    assert_false(x->info.flush);
    assert_int_equal(x->st.barrier_fallbacks, 1);
    assert_int_equal(x->st.flush_fallbacks, 1);
    e_end(x);
}

/* ---- CD-ROM ---- */

static void body_cdrom(struct ex *x)
{
    uint8_t *buf = alloc_pages(x, 1);
    struct xg_blkfront_info in;

    GCHECK(x, sub(x, 0, XG_BLK_WRITE, 0, 8, buf) == 0);
    GCHECK(x, x->status[0] == -EROFS);
    GCHECK(x, sub(x, 1, XG_BLK_READ, 0, 8, buf) == 0);
    th_wait_u32(&x->t, &x->ndone[0], 2);
    GCHECK(x, x->status[1] == 0);
    GCHECK(x, xsim_blkback_media_change(x->b, 0) == 0);
    SPIN_UNTIL(x, (xg_blkfront_get_info(x->bf, &in), in.sectors == 0));
    GCHECK(x, sub(x, 2, XG_BLK_READ, 0, 8, buf) == 0);
    GCHECK(x, x->status[2] == -ENOMEDIUM);
}

static void test_e2e_cdrom(void **state)
{
    struct xsim_blkback_config bc;

    (void)state;
    xsim_blkback_config_init(&bc);
    bc.cdrom = true;
    bc.readonly = true;
    struct ex *x = e_run(&bc, true, body_cdrom, 1);
    assert_true(x->info.cdrom && x->info.readonly);
    e_end(x);
}

/* The two-CPU disk case under other schedules: submit on one CPU racing
 * the upcall on the other, with the lock and the done-outside-lock rule. */
static void test_e2e_schedules(void **state)
{
    static const char *const policies[] = {"random", "pct:3"};

    (void)state;
    for (size_t p = 0; p < 2; p++) {
        for (uint64_t seed = 1; seed <= 12; seed++) {
            next_policy = policies[p];
            next_seed = seed;
            struct ex *x = e_run(NULL, false, body_disk, 4);
            assert_int_equal(x->st.completed, 2 * PER_CPU + 6);
            assert_int_equal(x->st.errors, 0);
            const struct xsim_stats *ws = xsim_world_stats(x->t.w);
            printf("%s seed %" PRIu64 ": digest %016" PRIx64 ", %" PRIu64 " switches, %" PRIu64
                   " ns\n",
                   policies[p], seed, xsim_world_digest(x->t.w), ws->switches, ws->end_time_ns);
            e_end(x);
        }
    }
    next_policy = NULL;
    next_seed = 1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_e2e_disk),
        cmocka_unit_test(test_e2e_refused),
        cmocka_unit_test(test_e2e_cdrom),
        cmocka_unit_test(test_e2e_schedules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
