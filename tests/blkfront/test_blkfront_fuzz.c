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
    uint8_t mode; /* guest: 1 suspend/resume, 2 detach and attach again, 8 on CPU 1,
                     0x10 detach during the handshake (after (mode >> 5) * 7 spins) */
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

/* Let the backend work for about n wait-loop turns: in steps of twenty
 * turns' worth of declared work (1 us), each step a scheduling point where
 * upcalls come in, rather than n single turns (a twentieth of the points
 * per input, the same virtual time under the default profile's 50 ns turn). */
static void spin(struct fz *x, unsigned int n)
{
    for (unsigned int i = 0; i < (n + 19) / 20; i++)
        xg_work(x->t.p, XG_WORK_GUEST, 1000);
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
        io->sector = (r >> 3) % 16 * 8; /* below 152: a small disk */
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
    if (x->mode & 0x10) {
        /* Detach while the handshake is still going on. */
        spin(x, (x->mode >> 5) * 7u);
        DBG("early detach\n");
        (void)xg_blkfront_detach(x->bf);
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
    /* Detached for good: nothing the backend does brings it back. */
    for (unsigned int i = 0; i < 8; i++) {
        enum xg_blkfront_state s = xg_blkfront_state(x->bf);
        FCHECK(x, s == XG_BLKFRONT_CLOSED || s == XG_BLKFRONT_ERROR);
        if (x->busy[0])
            break;
        x->io[0].done = on_done;
        x->io[0].arg = x;
        x->io[0].op = XG_BLK_FLUSH;
        x->io[0].nsectors = 0;
        FCHECK(x, xg_blkfront_submit(x->bf, &x->io[0]) < 0);
        spin(x, 50);
    }
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
    /* The frontend's and the guest's state are large (hundreds of KiB):
     * allocated once and reused, so that an input costs no fresh pages. */
    static void *bf_mem, *guest_mem;
    if (bf_mem == NULL)
        bf_mem = aligned_alloc(64, (xg_blkfront_size() + 63) / 64 * 64);
    if (guest_mem == NULL)
        guest_mem = aligned_alloc(64, (xg_guest_size() + 63) / 64 * 64);
    if (bf_mem == NULL || guest_mem == NULL) {
        free(x);
        return -1;
    }
    x->bf = bf_mem;
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
    cfg.guest_mem = guest_mem;
    cfg.ram_pages = 256; /* buffers, rings, grant and indirect pages: a large arena
                           costs every input its page faults */
    cfg.world.time_limit_ns = 2ull * 1000 * 1000 * 1000;
    if (th_create(&x->t, &cfg, NULL) != 0) {
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
    /* The I/Os touch sectors below 152: a small disk keeps each input
     * cheap (the disk is filled at every run). */
    rc.sectors = 256;
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
/* Inputs that once broke the frontend, as hex bytes. */
struct corpus {
    const char *name, *hex;
};
static const struct corpus fixed[] = {
    {"honest", "07,0f"},
    /* Bug 1 (first byte layout, before the mode byte existed): detach of
     * a broken device whose state node says 9; the backend's Closed
     * arrived inside detach's teardown and a second teardown nested in
     * it, deadlocking on the guest's port lock. Kept as a plain input. */
    {"garbage-state-detach", "d4,eb,2d,76,54,49,7a,1b,89,3a,44,cb,06,c5,23,4d,60,05,46"},
    /* Bug 3: detach on CPU 1 while the watch on CPU 0 was in connect():
     * the device came back Connected with the ring gone, and ios
     * submitted then never completed. */
    {"detach-during-connect-a",
     "9c,14,db,62,9d,1e,21,f0,a9,9c,39,00,ae,55,c5,a0,de,60,3a,a7,50,0f,75,41,a8,d3,70,ea,21,9b,b5,"
     "96,a8,e9,1b,4f,52,11,1f,87,3c,12,6d,83,9d,a3,ab,58,f4,f9,32,74,ce,6e,d7,c5,e3,2c,7e,7e,07,23,"
     "d5,3d,30,dc,60,33,ca,8e,b2,d7,c6,dd,2d,08,93,cc,5d,eb,02,f1,14,a2,fa,96,59,c2,b5,b7,18,19,16,"
     "b1,dc,cf,b3,e2,cc,de,c3,76,41,41,23,c0,8b,79,8e,7e,73,08,a4,48,1d,ec,2e,a3,bd,2c,59,d1,a5,94,"
     "37,64,3d,77,97,fc,ef,ff,eb,a4,07,03,c3,ac,68,37,f1,5a,9c,82,da,41,5d,72,3e,5c,16,77,6a,89,40,"
     "eb,c6,8e,8b,3b,06,01,2a,b1,92,eb,bd,2f,e0,eb,46,84,6e,2d,bd,70,97,6f,08,f0,b4,fe,82,35,a2,68,"
     "81,fd,eb,7c,59,57,2b,7a,e3,ae,8a,30,a9,50,85,60,45,e6,d6,24,eb,0a,b3,2b,51,e1,37,5f,14,24,"
     "0a"},
    {"detach-during-connect-b",
     "c8,16,f9,c0,1f,02,13,d6,5d,10,c0,50,35,d0,44,d8,bd,0d,04,00,ba,13,1c,13,cc,ef,67,9a,8f,1f,16,"
     "3e,71,59,61,09,1a,ba,7e,46,02,69,0a,08,88,52,4b,6e,90,d9,83,4f,d7,18,e5,3c,0e,91,11,2c,5a,26,"
     "8e,6c,60,4c,4e,90,ec,c8,b0,29,40,18,da,55,64,42,7e,c1,a1,2d,13,ae,90,26,73,55,cf,54,0d,24,0d,"
     "20,0f,32,8c,ec,f5,95,70,e8,21,31,a2,ef,dc,8e,6b,34,64,6c,73,4c,31,82,e9,4e,77,67,76,85,c4,dc,"
     "78,15,0b,74,a5,d9,89,12,08,10,41,9e,8a,75,d7,87,a7,06,e1,df,a5,33,91,a5,96,dc,47,f8,1f,c7,3a,"
     "d9,8b,08,b7,f4,ab,1d,6a,67,16,44,52,9b,b1,93,40,59,f4,52,0b,16,c0,27,b3,58,22,03,82,c4,5c,22,"
     "19,b8,85,6c,53,a2,5b,d6,a0,3e,44,41,ed,11,03,0a,c2,fa,2c,a0,a7,97,a8,fd,a5,8d,29,6c,30,a7,cb,"
     "0a,80,16,4a,bd,5e,60,6d,6c,a1,cb,d7,a7,6f,95,80,88,ea,59,e2,eb,42,6e,38,3c,98,19,e3,4d,6c,fb,"
     "98,cb,46,2e,40,a5,cb,34,23,51,1f,69,e5,6c,6c,7c,69,8c,0b,0c,2b,3d,ef,af,f9,c0,f5,bc,ce,d3,fb,"
     "5f,c2,c5,14,99,92,4c"},
};

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;

    while (*hex != '\0' && n < cap) {
        char *end;
        unsigned long v = strtoul(hex, &end, 16);
        if (end == hex)
            break;
        out[n++] = (uint8_t)v;
        hex = *end == ',' ? end + 1 : end;
    }
    return n;
}

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
        size_t len = unhex(fixed[i].hex, buf, sizeof(buf));
        if (run_one(buf, len) != 0) {
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
