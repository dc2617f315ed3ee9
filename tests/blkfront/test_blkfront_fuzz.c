/*
 * test_blkfront_fuzz.c - the block frontend's trust boundary on arbitrary
 * bytes. The raw backend (rawback.c) serves the ring honestly; on top of
 * it a byte stream decides, step by step, what a malicious backend does
 * besides: write a response slot with any id/operation/status, move
 * rsp_prod by any amount, move rsp_event, send events, stall or release
 * the honest server, write any backend XenStore node (state in any order,
 * sectors, info, sector-size, feature-*, max-ring-page-order) with any
 * value (garbage, huge, negative), or remove one. Meanwhile the guest
 * keeps submitting reads, writes, flushes, barriers and discards, then
 * detaches.
 *
 * After each world run: the run ended (no hang), every submitted io's
 * callback ran exactly once with an allowed status, the state is one of
 * the enum values, the stats add up. Built as a libFuzzer target with
 * XENSIM_FUZZ=ON; otherwise main runs a fixed corpus and deterministic
 * inputs from xsim_rng (XSIM_FUZZ_SEEDS inputs, default 300, from seed
 * XSIM_FUZZ_SEED).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "rawback.h"
#include "xensim/abi/xs_wire.h"
#include "xensim/guest/xg_blkfront.h"
#include "xensim/guest/xg_gnttab.h"
#include "xensim/guest/xg_xenbus.h"
#include "xensim/prng.h"

#define NIOS      12
#define KIND_FZ   0x46555a5a
#define MAX_INPUT 4096

struct fz {
    struct th t;
    struct rb rb;
    struct xg_xenbus xb;
    struct xg_gnttab gt;
    struct xg_blkfront *bf;
    struct xg_blkfront_config fcfg;
    const uint8_t *data;
    size_t size, pos;
    struct xg_blk_io io[NIOS];
    uint32_t submitted[NIOS], done[NIOS];
    bool busy[NIOS];
    uint8_t *buf;
    bool finished, was_connected;
    uint8_t mode; /* guest: 1 suspend/resume, 2 detach and attach again, 8 on CPU 1 */
    char msg[256];
};

/* What the runs reached (printed by the smoke main). */
static struct {
    uint64_t runs, connected, errors, completions, bad_responses, spurious, attach_failed;
} tally;

#define FCHECK(x, cond)                                                                   \
    do {                                                                                  \
        if (!(cond) && (x)->msg[0] == '\0')                                               \
            snprintf((x)->msg, sizeof((x)->msg), "%s:%d: %s", __FILE__, __LINE__, #cond); \
    } while (0)

static bool debug;
#define DBG(...)                          \
    do {                                  \
        if (debug)                        \
            fprintf(stderr, __VA_ARGS__); \
    } while (0)

/* ---- the byte-stream backend ---- */

static uint8_t byte(struct fz *x)
{
    return x->pos < x->size ? x->data[x->pos++] : 0;
}

static uint32_t word(struct fz *x)
{
    uint32_t v = byte(x);

    v |= (uint32_t)byte(x) << 8;
    v |= (uint32_t)byte(x) << 16;
    return v | (uint32_t)byte(x) << 24;
}

static const char *const nodes[] = {
    "state",
    "sectors",
    "info",
    "sector-size",
    "feature-barrier",
    "feature-flush-cache",
    "feature-discard",
    "feature-max-indirect-segments",
    "max-ring-page-order",
    "discard-granularity",
    "frontend",
    "state",
};

static const char *const values[] = {
    "0",
    "1",
    "2",
    "3",
    "4",
    "5",
    "6",
    "7",
    "8",
    "garbage",
    "-1",
    "",
    "18446744073709551615",
    "99999999999999999999999",
    "4 ",
    "0x10",
    "5",
    "9",
    "12",
    "4096",
    "513",
    "65536",
    "131072",
    "1024",
    "256",
    "11",
    "4294967296",
    "-4",
    "00",
    "+3",
};

static void fz_step(struct xsim_world *w, void *arg);

static void put_response(struct fz *x)
{
    struct rb *b = &x->rb;
    uint8_t sel = byte(x);
    uint64_t id;
    blkif_response_t *r;

    if (sel < 0xc0)
        id = sel % 40; /* near the ids in use */
    else
        id = (uint64_t)word(x) << 32 | word(x);
    r = RING_GET_RESPONSE(&b->ring, b->ring.rsp_prod_pvt);
    r->id = id;
    sel = byte(x);
    r->operation = sel < 0xe0 ? (uint8_t)(sel % 7) : sel;
    sel = byte(x);
    r->status = sel < 0x40 ? 0 : sel < 0x80 ? -1 : sel < 0xa0 ? -2 : (int16_t)(int8_t)sel;
    b->ring.rsp_prod_pvt++;
    __atomic_store_n(&b->ring.sring->rsp_prod, b->ring.rsp_prod_pvt, __ATOMIC_RELEASE);
}

static void write_node(struct fz *x, bool rm)
{
    struct rb *b = &x->rb;
    const char *node = nodes[byte(x) % (sizeof(nodes) / sizeof(nodes[0]))];
    const char *val = values[byte(x) % (sizeof(values) / sizeof(values[0]))];
    char path[256];

    snprintf(path, sizeof(path), "%s/%s", b->be_path, node);
    if (rm)
        (void)xsim_xshost_request(x->t.xs, XS_RM, path, (uint32_t)strlen(path) + 1, NULL, 0);
    else
        (void)xsim_xshost_write(x->t.xs, path, val);
}

static void fz_step(struct xsim_world *w, void *arg)
{
    struct fz *x = arg;
    struct rb *b = &x->rb;
    uint8_t op;

    if (x->pos >= x->size || x->finished)
        return;
    op = byte(x);
    DBG("step %zu op %u t=%" PRIu64 "\n", x->pos - 1, op % 10, xsim_world_now(w));
    switch (op % 10) {
    case 0:
    case 1:
        if (b->connected)
            put_response(x);
        break;
    case 2: /* rsp_prod jumps (forwards or back) */
        if (b->connected) {
            uint8_t n = byte(x);
            b->ring.rsp_prod_pvt += n < 0xf0 ? n % 4 : (RING_IDX)word(x);
            __atomic_store_n(&b->ring.sring->rsp_prod, b->ring.rsp_prod_pvt, __ATOMIC_RELEASE);
        }
        break;
    case 3: /* the other indexes: rsp_event, req_event, even req_prod */
        if (b->connected) {
            uint8_t which = byte(x);
            RING_IDX v = (RING_IDX)word(x);
            if (which < 0x80)
                b->ring.sring->rsp_event = v;
            else if (which < 0xf0)
                b->ring.sring->req_event = v;
            else
                b->ring.sring->req_prod = v;
        }
        break;
    case 4:
    case 5:
        if (b->connected)
            (void)xsim_hv_evtchn_send(b->t->hv, 0, b->port);
        break;
    case 6:
        if (b->stall)
            rb_release(b);
        else
            b->stall = true;
        break;
    case 7:
    case 8:
        write_node(x, false);
        break;
    case 9:
        write_node(x, true);
        break;
    }
    (void)xsim_event_schedule(w, xsim_world_now(w) + 1000 + (uint64_t)byte(x) * 500, KIND_FZ,
                              fz_step, x);
}

/* ---- the guest ---- */

static void on_done(struct xg_blkfront *bf, struct xg_blk_io *io, int status)
{
    struct fz *x = io->arg;
    unsigned int i = (unsigned int)(io - x->io);

    (void)bf;
    FCHECK(x, i < NIOS);
    if (i >= NIOS)
        return;
    FCHECK(x, x->done[i] < x->submitted[i]); /* never twice */
    FCHECK(x, status == 0 || status == -EIO || status == -EOPNOTSUPP || status == -EROFS ||
                  status == -ENOMEDIUM || status == -ENODEV || status == -EINVAL);
    x->done[i]++;
    x->busy[i] = false;
}

static void spin(struct fz *x, unsigned int n)
{
    for (unsigned int i = 0; i < n; i++)
        xg_point(x->t.p, XG_POINT_SPIN, NULL);
}

static void submit_some(struct fz *x, uint32_t *rng)
{
    for (unsigned int i = 0; i < NIOS; i++) {
        struct xg_blk_io *io = &x->io[i];
        bool was = xg_irq_save(x->t.p);
        bool busy = x->busy[i];
        xg_irq_restore(x->t.p, was);
        if (busy)
            continue;
        *rng = *rng * 1103515245u + 12345u;
        uint32_t r = *rng >> 8;
        memset(io, 0, sizeof(*io));
        io->op = (enum xg_blk_op)(r % 5);
        io->sector = (r >> 3) % 64 * 8;
        io->nsectors = io->op == XG_BLK_FLUSH ? 0 : 1 + (r >> 10) % 24;
        if (io->op == XG_BLK_WRITE_BARRIER && (r >> 16) % 4 == 0)
            io->nsectors = 0;
        io->buf = x->buf + (size_t)i * 4 * 4096 + ((r >> 18) % 8) * 512;
        io->done = on_done;
        io->arg = x;
        was = xg_irq_save(x->t.p);
        x->busy[i] = true;
        x->submitted[i]++;
        xg_irq_restore(x->t.p, was);
        int rc = xg_blkfront_submit(x->bf, io);
        FCHECK(x, rc == 0 || rc == -EINVAL || rc == -E2BIG || rc == -ENOSPC || rc == -EIO ||
                      rc == -ENODEV);
        if (rc != 0) {
            was = xg_irq_save(x->t.p);
            x->submitted[i]--;
            x->busy[i] = false;
            xg_irq_restore(x->t.p, was);
        }
    }
}

static void guest_main(struct th *t, unsigned int cpu)
{
    struct fz *x = t->user;
    uint32_t rng = 7;
    uint64_t gfn;

    if (cpu != (x->mode & 8 ? 1u : 0u))
        return;
    if (xg_xenbus_init(&x->xb, t->g) != 0 || xg_gnttab_init(&x->gt, t->g, 8) != 0 ||
        xg_blkfront_init(x->bf, t->g, &x->xb, &x->gt, &x->fcfg) != 0) {
        FCHECK(x, !"setup");
        goto out;
    }
    x->buf = xg_page_alloc(t->p, &gfn);
    for (unsigned int i = 1; i < NIOS * 4 + 2; i++)
        (void)xg_page_alloc(t->p, &gfn); /* contiguous in the harness */
    if (xg_blkfront_attach(x->bf) != 0) {
        tally.attach_failed++;
        goto out;
    }
    for (unsigned int round = 0; round < 12; round++) {
        enum xg_blkfront_state s = xg_blkfront_state(x->bf);
        DBG("round %u state %s t=%" PRIu64 "\n", round, xg_blkfront_state_name(s), th_now(t));
        FCHECK(x, (unsigned int)s <= XG_BLKFRONT_ERROR);
        if (s == XG_BLKFRONT_CONNECTED)
            x->was_connected = true;
        if (s == XG_BLKFRONT_CONNECTED || s == XG_BLKFRONT_CONNECTING)
            submit_some(x, &rng);
        if ((x->mode & 1) && round == 3)
            (void)xg_blkfront_suspend(x->bf);
        if ((x->mode & 1) && round == 5)
            (void)xg_blkfront_resume(x->bf, false);
        if ((x->mode & 2) && round == 6) {
            DBG("mid detach\n");
            (void)xg_blkfront_detach(x->bf);
            for (unsigned int i = 0; i < NIOS; i++)
                FCHECK(x, x->done[i] == x->submitted[i]);
        }
        if ((x->mode & 2) && round == 8) {
            int rc = xg_blkfront_attach(x->bf);
            DBG("re-attach %d\n", rc);
            FCHECK(x, rc == 0 || rc == -EBUSY || rc == -ENOENT || rc == -EINVAL);
        }
        spin(x, 200);
    }
    DBG("detach\n");
    (void)xg_blkfront_detach(x->bf);
    DBG("detached\n");
    /* Detach completes everything, whatever the backend does next. */
    for (unsigned int i = 0; i < NIOS; i++)
        FCHECK(x, x->done[i] == x->submitted[i]);
    spin(x, 400);
    FCHECK(x, (unsigned int)xg_blkfront_state(x->bf) <= XG_BLKFRONT_ERROR);
    struct xg_blkfront_stats st;
    xg_blkfront_get_stats(x->bf, &st);
    FCHECK(x, st.in_flight == 0 && st.queued == 0);
    FCHECK(x, st.completed == st.submitted);
    tally.connected += x->was_connected;
    tally.errors += xg_blkfront_state(x->bf) == XG_BLKFRONT_ERROR || st.bad_responses != 0;
    tally.completions += st.completed;
    tally.bad_responses += st.bad_responses;
    tally.spurious += st.spurious_upcalls;
out:
    x->finished = true;
    rb_stop(&x->rb);
}

/* One world on `data`; returns 0 or prints what failed and returns -1. */
static int run_one(const uint8_t *data, size_t size)
{
    struct th_config cfg;
    struct rb_config rc;
    struct fz *x = calloc(1, sizeof(*x));
    int ret = 0;

    if (x == NULL)
        return -1;
    x->bf = aligned_alloc(64, (xg_blkfront_size() + 63) / 64 * 64);
    memset(x->bf, 0, xg_blkfront_size());
    x->data = data;
    x->size = size;
    /* The first bytes pick the device and the frontend's wishes. */
    uint8_t c0 = byte(x), c1 = byte(x);
    x->mode = byte(x);
    /* Mode 8: the guest works from CPU 1 while upcalls run on CPU 0. */
    th_config_init(&cfg, x->mode & 8 ? 2 : 1);
    cfg.xenstore = true;
    cfg.main = guest_main;
    cfg.user = x;
    cfg.ram_pages = 1024;
    cfg.world.time_limit_ns = 2ull * 1000 * 1000 * 1000;
    if (th_create(&x->t, &cfg, NULL) != 0) {
        free(x->bf);
        free(x);
        return -1;
    }
    rb_config_init(&rc);
    rc.connected_at_start = x->mode & 4;
    rc.flush = c0 & 1;
    rc.barrier = c0 & 2;
    rc.discard = c0 & 4;
    rc.readonly = (c0 & 0x18) == 0x18;
    rc.skip_initwait = c0 & 0x20;
    rc.refuse_barrier = c0 & 0x40;
    rc.refuse_flush = c0 & 0x80;
    rc.max_indirect = (c1 & 3) == 0 ? 0 : (c1 & 3) == 1 ? 1 : (c1 & 3) == 2 ? 32 : 256;
    rc.max_order = (c1 >> 2) & 7;
    if (rc.max_order > 4)
        rc.max_order = 4; /* the honest server maps at most 16 pages */
    rc.latency_ns = 1000 + (c1 >> 5) * 2000;
    xg_blkfront_config_init(&x->fcfg, rc.devid);
    x->fcfg.ring_pages = 1u << ((c1 >> 2) & 3);
    x->fcfg.bounce = c1 & 0x80;
    if (rb_create(&x->rb, &x->t, &rc) != 0)
        ret = -1;
    (void)xsim_event_schedule(x->t.w, 1000, KIND_FZ, fz_step, x);
    enum xsim_stop_reason r = th_run(&x->t);
    if (r != XSIM_STOP_QUIESCENT) {
        fprintf(stderr, "run ended %s, finished %d, state %s\n", xsim_stop_reason_name(r),
                x->finished, xg_blkfront_state_name(xg_blkfront_state(x->bf)));
        ret = -1;
    }
    if (!x->finished) {
        fprintf(stderr, "guest did not finish\n");
        ret = -1;
    }
    if (x->msg[0] != '\0') {
        fprintf(stderr, "%s\n", x->msg);
        ret = -1;
    }
    rb_destroy(&x->rb);
    th_destroy(&x->t);
    free(x->bf);
    free(x);
    return ret;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > MAX_INPUT)
        size = MAX_INPUT;
    if (run_one(data, size) != 0)
        abort();
    return 0;
}

#ifndef XSIM_LIBFUZZER
/* Inputs that once broke the frontend (see the report / git log). */
struct corpus {
    const char *name;
    uint8_t bytes[64];
    size_t len;
};
static const struct corpus fixed[] = {
    {"honest", {0x07, 0x0f}, 2},
};

static void dump(const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, "%02x%s", b[i], i + 1 < n ? "," : "\n");
}

/* Files named on the command line (libFuzzer artifacts) run instead. */
static int run_files(int argc, char **argv)
{
    static uint8_t in[MAX_INPUT];
    int fails = 0;

    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        size_t n;
        if (f == NULL) {
            perror(argv[i]);
            return 2;
        }
        n = fread(in, 1, sizeof(in), f);
        fclose(f);
        if (run_one(in, n) != 0) {
            fprintf(stderr, "%s failed: ", argv[i]);
            dump(in, n);
            fails++;
        }
    }
    return fails != 0;
}

int main(int argc, char **argv)
{
    const char *env = getenv("XSIM_FUZZ_SEED"), *nenv = getenv("XSIM_FUZZ_SEEDS");
    uint64_t seed = env ? strtoull(env, NULL, 0) : 1;
    unsigned long n = nenv ? strtoul(nenv, NULL, 0) : 300;
    static uint8_t buf[512];
    unsigned int fails = 0;
    struct xsim_rng rng;

    debug = getenv("FZ_DEBUG") != NULL;
    if (argc > 1)
        return run_files(argc, argv);

    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
        if (run_one(fixed[i].bytes, fixed[i].len) != 0) {
            fprintf(stderr, "corpus %s failed\n", fixed[i].name);
            fails++;
        }
    }
    for (unsigned long k = 0; k < n; k++) {
        xsim_rng_init(&rng, seed + k, "blkfront-fuzz");
        size_t len = 8 + (size_t)xsim_rng_below(&rng, sizeof(buf) - 8);
        for (size_t i = 0; i < len; i++)
            buf[i] = (uint8_t)xsim_rng_next(&rng);
        if (run_one(buf, len) != 0) {
            fprintf(stderr, "input %" PRIu64 " failed (len %zu): ", seed + k, len);
            dump(buf, len);
            if (++fails >= 5)
                break;
        }
    }
    printf("%lu inputs, %u failures; connected %" PRIu64 ", error/bad %" PRIu64
           ", completions %" PRIu64 ", bad responses %" PRIu64 ", spurious %" PRIu64
           ", attach failed %" PRIu64 "\n",
           n, fails, tally.connected, tally.errors, tally.completions, tally.bad_responses,
           tally.spurious, tally.attach_failed);
    return fails != 0;
}
#endif
