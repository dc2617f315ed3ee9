/*
 * test_blkback_fuzz.c - fuzz smoke for the block backend: a frontend fills
 * ring slots with bytes from a seeded PRNG (half of them nudged towards
 * plausible requests: known operations, small segment counts, granted
 * references, sectors near the device) for a few thousand requests. The
 * backend must not crash, must answer each request exactly once with its
 * id and operation, and every status must be OKAY, ERROR or EOPNOTSUPP.
 * XSIM_FUZZ_SEED picks another seed, XSIM_FUZZ_SEEDS runs that many in a
 * row (the `long` label runs 500); a failure prints the seed.
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
#include "xensim/storage.h"

#define FUZZ_REQS  3000
#define FUZZ_BATCH 32
#define FUZZ_PAGES 8

struct fz {
    struct th t;
    struct rf f;
    struct xsim_rng rng;
    struct xsim_blkback *b;
    uint64_t seed;
    bool connected, done;
    unsigned int sent, answered, bad_status, bad_match, ok, err, eop;
};

static void fz_slot(struct fz *z, grant_ref_t *refs, uint64_t id, union blkif_sring_entry *e,
                    uint8_t *op)
{
    uint8_t *raw = (uint8_t *)e;

    for (size_t i = 0; i < sizeof(*e); i += 8) {
        uint64_t v = xsim_rng_next(&z->rng);
        memcpy(raw + i, &v, sizeof(v));
    }
    if (xsim_rng_below(&z->rng, 2) == 0) {
        e->req.operation = (uint8_t)xsim_rng_below(&z->rng, 8);
        e->req.nr_segments = (uint8_t)xsim_rng_below(&z->rng, 13);
        e->req.sector_number = xsim_rng_below(&z->rng, 1u << 12);
        for (int s = 0; s < BLKIF_MAX_SEGMENTS_PER_REQUEST; s++) {
            if (xsim_rng_below(&z->rng, 4) != 0) {
                e->req.seg[s].gref = refs[xsim_rng_below(&z->rng, FUZZ_PAGES)];
                e->req.seg[s].first_sect = (uint8_t)xsim_rng_below(&z->rng, 9);
                e->req.seg[s].last_sect = (uint8_t)xsim_rng_below(&z->rng, 9);
            }
        }
        if (e->req.operation == BLKIF_OP_INDIRECT) {
            struct blkif_request_indirect ind;
            memcpy(&ind, e, sizeof(ind));
            ind.indirect_op = (uint8_t)xsim_rng_below(&z->rng, 3);
            ind.nr_segments = (uint16_t)xsim_rng_below(&z->rng, 600);
            ind.indirect_grefs[0] = refs[xsim_rng_below(&z->rng, FUZZ_PAGES)];
            memcpy(e, &ind, sizeof(ind));
        } else if (e->req.operation == BLKIF_OP_DISCARD) {
            struct blkif_request_discard d;
            memcpy(&d, e, sizeof(d));
            d.nr_sectors = xsim_rng_below(&z->rng, 1u << 13);
            memcpy(e, &d, sizeof(d));
        }
    }
    e->req.id = id; /* ids stay unique so each answer can be matched */
    *op = e->req.operation;
}

static void fz_main(struct th *t, unsigned int cpu)
{
    struct fz *z = t->user;
    struct rf *f = &z->f;
    grant_ref_t refs[FUZZ_PAGES];
    uint8_t ops[FUZZ_BATCH];

    if (cpu != 0 || rf_init(f, t) != 0 || !rf_connect(f, 0, -1))
        return;
    z->connected = true;
    for (int i = 0; i < FUZZ_PAGES; i++)
        rf_page(f, i % 2 == 0, &refs[i]);
    while (z->sent < FUZZ_REQS) {
        unsigned int base = z->sent;
        for (unsigned int i = 0; i < FUZZ_BATCH; i++) {
            union blkif_sring_entry e;
            fz_slot(z, refs, base + i, &e, &ops[i]);
            rf_put(f, &e);
        }
        z->sent += FUZZ_BATCH;
        rf_push(f);
        f->nrsp = 0;
        if (!rf_wait_rsp(f, FUZZ_BATCH))
            return;
        for (unsigned int i = 0; i < FUZZ_BATCH; i++) {
            const struct blkif_response *r = &f->rsp[i];
            int16_t st = r->status;
            if (st == BLKIF_RSP_OKAY)
                z->ok++;
            else if (st == BLKIF_RSP_ERROR)
                z->err++;
            else if (st == BLKIF_RSP_EOPNOTSUPP)
                z->eop++;
            else
                z->bad_status++;
            if (r->id < base || r->id >= base + FUZZ_BATCH || r->operation != ops[r->id - base])
                z->bad_match++;
        }
        z->answered += FUZZ_BATCH;
    }
    z->done = true;
}

static void fuzz_one(uint64_t seed)
{
    struct fz *z = calloc(1, sizeof(*z));
    struct th_config cfg;
    struct xsim_storage_config sc;
    struct xsim_blkback_config bc;
    struct xsim_storage *s;
    struct xsim_blkback_stats st;

    z->seed = seed;
    xsim_rng_init(&z->rng, z->seed, "blkback-fuzz");
    th_config_xs(&cfg, 1, 256, fz_main, z);
    assert_int_equal(th_create(&z->t, &cfg, NULL), 0);
    memset(&sc, 0, sizeof(sc));
    sc.sectors = 1u << 12;
    sc.write_cache = true;
    xsim_blkback_config_init(&bc);
    bc.features.max_indirect_segs = 32;
    bc.jitter = 0.5;
    bc.features.discard = false; /* so that EOPNOTSUPP is among the answers */
    th_blkback_start(&z->t, &sc, false, &bc, &s, &z->b);
    th_run(&z->t);
    if (!z->done || z->bad_status != 0 || z->bad_match != 0)
        fail_msg("seed %llu: done %d sent %u answered %u bad status %u bad match %u "
                 "(rerun with XSIM_FUZZ_SEED=%llu)",
                 (unsigned long long)z->seed, z->done, z->sent, z->answered, z->bad_status,
                 z->bad_match, (unsigned long long)z->seed);
    assert_true(z->connected);
    assert_int_equal(z->answered, FUZZ_REQS + (FUZZ_BATCH - FUZZ_REQS % FUZZ_BATCH) % FUZZ_BATCH);
    /* the mix exercised every answer */
    print_message("seed %llu: %u requests, %u ok, %u error, %u eopnotsupp\n",
                  (unsigned long long)z->seed, z->answered, z->ok, z->err, z->eop);
    assert_true(z->ok > 0 && z->err > 0 && z->eop > 0);
    xsim_blkback_stats(z->b, &st);
    assert_int_equal(st.responses, z->answered);
    assert_int_equal(xsim_blkback_state(z->b), XSIM_BLKBACK_CONNECTED);
    xsim_blkback_destroy(z->b);
    th_destroy(&z->t);
    xsim_storage_destroy(s);
    free(z);
}

/* XSIM_FUZZ_SEED=S runs seed S; XSIM_FUZZ_SEEDS=N runs seeds S..S+N-1. */
static void test_fuzz_slots(void **state)
{
    const char *env = getenv("XSIM_FUZZ_SEED"), *n = getenv("XSIM_FUZZ_SEEDS");
    uint64_t seed = env != NULL ? strtoull(env, NULL, 0) : 1;
    uint64_t count = n != NULL ? strtoull(n, NULL, 0) : 1;

    (void)state;
    for (uint64_t i = 0; i < count; i++)
        fuzz_one(seed + i);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fuzz_slots),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
