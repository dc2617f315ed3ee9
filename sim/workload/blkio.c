/*
 * blkio.c - a block I/O workload: open-loop arrivals (Poisson at the
 * workload's rate) of reads, writes, flushes, barriers and discards on one
 * blkfront device, at most queue_depth in flight, with a model of what the
 * disk must hold so that reads are verified and, after a power loss, the
 * durable image is judged against what flushes promised.
 *
 * Every sector written carries a self-describing pattern (magic, block,
 * version, sector, then words derived from them), so a sector read back
 * names the write it came from and a torn or foreign sector is caught.
 * Writes to one block never overlap (a block with an I/O in flight is not
 * chosen again), so versions of a block are acknowledged in order.
 *
 * Completions run in the upcall of whichever CPU takes the device's event;
 * the world's baton makes the model updates between scheduling points
 * atomic, and a slot's state is set before the submit that may complete it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workload.h"

#define PATTERN_MAGIC     0x78656e73696d626cull /* "xensimbl" */
#define MAX_BLOCKS        (1u << 22)
#define MAX_BACKLOG       4096
#define HIST_BUCKETS      64
#define PICK_TRIES        8
#define SECTOR_WORDS      (XSIM_SECTOR_SIZE / 8)

#define UNKNOWN_NOW       1
#define UNKNOWN_DISCARDED 2
#define WRITTEN           4 /* a write was ever submitted */

struct wlog {
    uint64_t block, version;
    uint64_t ack_seq; /* 0 while not acknowledged */
};

struct slot {
    struct xg_blk_io io;
    struct xsim_blkio *b;
    uint8_t *buf;
    bool busy;
    enum xg_blk_op op;
    uint64_t block, version;
    size_t log_idx;
    uint64_t submit_ns;
    uint64_t mark; /* flush: acknowledgements before its submission */
    uint64_t seq;  /* submission order */
    /* A barrier completed while this write's callback was still to come:
     * the driver must have completed this write first, i.e. numbered it
     * (xg_blk_io.seq at completion) below the barrier's. */
    uint64_t before_stamp, before_block;
};

struct xsim_blkio {
    struct xsim_blkio_params prm;
    const struct xsim_scn_workload *wl;
    struct xsim_rng rng;
    uint32_t bsect;
    uint64_t nblocks;
    struct slot *slots;
    unsigned int depth, inflight;
    uint64_t *acked_ver;
    uint8_t *busy_blk;
    uint64_t *seen_hash; /* never-written blocks: hash of the first read (0: none yet) */
    uint8_t *unknown;    /* UNKNOWN_NOW: content undefined (discard, failed write);
                          * UNKNOWN_DISCARDED: ever discarded (sticky) */
    struct wlog *log;
    size_t nlog, caplog;
    uint64_t ack_seq, durable_mark, next_version;
    uint64_t flushes_done;
    uint64_t submit_seq;
    uint64_t next_arrival, backlog;
    bool halted;
    double cum[5]; /* cumulative mix: read, write, flush, barrier, discard */
    struct xsim_blkio_result r;
    uint64_t lat_sum, hist[HIST_BUCKETS];
};

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}

static uint64_t pattern_word(uint64_t seed, uint64_t block, uint64_t version, uint64_t sector,
                             unsigned int w)
{
    switch (w) {
    case 0:
        return PATTERN_MAGIC;
    case 1:
        return block;
    case 2:
        return version;
    case 3:
        return sector;
    default:
        return mix64(seed ^ mix64(block * 0x9e3779b97f4a7c15ull + version) ^ (sector << 8 | w));
    }
}

static void pattern_fill(const struct xsim_blkio *b, uint8_t *buf, uint64_t block, uint64_t version)
{
    for (uint32_t s = 0; s < b->bsect; s++) {
        uint64_t *words = (uint64_t *)(void *)(buf + (size_t)s * XSIM_SECTOR_SIZE);
        for (unsigned int w = 0; w < SECTOR_WORDS; w++)
            words[w] = pattern_word(b->prm.seed, block, version, s, w);
    }
}

/* The version a sector holds: 0 for all zeroes, UINT64_MAX if it is no
 * pattern of this block at this position (torn, foreign or garbage). */
static uint64_t pattern_version(const struct xsim_blkio *b, const uint8_t *sec, uint64_t block,
                                uint32_t s)
{
    const uint64_t *words = (const uint64_t *)(const void *)sec;
    uint64_t v = words[2];
    bool zero = true;

    for (unsigned int w = 0; w < SECTOR_WORDS && zero; w++)
        zero = words[w] == 0;
    if (zero)
        return 0;
    if (words[0] != PATTERN_MAGIC || words[1] != block || words[3] != s || v == 0)
        return UINT64_MAX;
    for (unsigned int w = 4; w < SECTOR_WORDS; w++) {
        if (words[w] != pattern_word(b->prm.seed, block, v, s, w))
            return UINT64_MAX;
    }
    return v;
}

static void hist_add(struct xsim_blkio *b, uint64_t ns)
{
    unsigned int k = 0;

    while (k + 1 < HIST_BUCKETS && (1ull << (k + 1)) <= ns)
        k++;
    b->hist[k]++;
    b->lat_sum += ns;
    if (ns > b->r.latency_ns_max)
        b->r.latency_ns_max = ns;
}

static uint64_t hist_quantile(const struct xsim_blkio *b, double q)
{
    uint64_t total = 0, acc = 0;

    for (unsigned int k = 0; k < HIST_BUCKETS; k++)
        total += b->hist[k];
    if (total == 0)
        return 0;
    for (unsigned int k = 0; k < HIST_BUCKETS; k++) {
        acc += b->hist[k];
        if ((double)acc >= q * (double)total) {
            /* The bucket's upper bound, but never above the largest seen. */
            uint64_t hi = k + 1 < 64 ? (1ull << (k + 1)) : UINT64_MAX;
            return hi < b->r.latency_ns_max ? hi : b->r.latency_ns_max;
        }
    }
    return b->r.latency_ns_max;
}

static int log_push(struct xsim_blkio *b, uint64_t block, uint64_t version, size_t *idx)
{
    if (b->nlog == b->caplog) {
        size_t cap = b->caplog ? b->caplog * 2 : 1024;
        struct wlog *n = realloc(b->log, cap * sizeof(*n));
        if (n == NULL)
            return -ENOMEM;
        b->log = n;
        b->caplog = cap;
    }
    b->log[b->nlog] = (struct wlog){.block = block, .version = version};
    *idx = b->nlog++;
    return 0;
}

static uint64_t buf_hash(const uint8_t *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;

    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h | 1;
}

/* A block nothing was written to: the same content every time it is read. */
static void verify_unwritten(struct xsim_blkio *b, struct slot *sl)
{
    uint64_t h = buf_hash(sl->buf, (size_t)b->bsect * XSIM_SECTOR_SIZE);

    b->r.verified++;
    if (b->seen_hash[sl->block] == 0) {
        b->seen_hash[sl->block] = h;
    } else if (b->seen_hash[sl->block] != h && b->r.verify_failed++ == 0) {
        snprintf(b->r.verify_detail, sizeof(b->r.verify_detail),
                 "block %" PRIu64 " was never written but reads differently than before",
                 sl->block);
    }
}

static void verify_read(struct xsim_blkio *b, struct slot *sl)
{
    uint64_t want = b->acked_ver[sl->block];

    if (b->unknown[sl->block] & UNKNOWN_NOW)
        return;
    if (!b->prm.initial_zero && !(b->unknown[sl->block] & WRITTEN)) {
        verify_unwritten(b, sl);
        return;
    }
    b->r.verified++;
    for (uint32_t s = 0; s < b->bsect; s++) {
        uint64_t got = pattern_version(b, sl->buf + (size_t)s * XSIM_SECTOR_SIZE, sl->block, s);
        if (got != want) {
            if (b->r.verify_failed++ == 0)
                snprintf(b->r.verify_detail, sizeof(b->r.verify_detail),
                         "block %" PRIu64 " sector %u: read version %s%" PRIu64
                         ", expected %" PRIu64,
                         sl->block, s, got == UINT64_MAX ? "garbage " : "",
                         got == UINT64_MAX ? 0 : got, want);
            return;
        }
    }
}

static void barrier_overtook(struct xsim_blkio *b, uint64_t barrier_block, uint64_t write_block)
{
    if (b->r.barrier_overtook++ == 0)
        snprintf(b->r.order_detail, sizeof(b->r.order_detail),
                 "a barrier (block %" PRIu64 ") completed before a write submitted ahead of it "
                 "(block %" PRIu64 ")",
                 barrier_block, write_block);
}

/* Completion, in upcall context (or inside submit for an immediate failure). */
static void io_done(struct xg_blkfront *bf, struct xg_blk_io *io, int status)
{
    struct slot *sl = io->arg;
    struct xsim_blkio *b = sl->b;
    uint64_t now = b->prm.clock(b->prm.arg);

    (void)bf;
    if (!sl->busy) {
        /* Not in flight: the driver completed it twice (or made it up). */
        if (b->r.completed_twice++ == 0)
            snprintf(b->r.order_detail, sizeof(b->r.order_detail),
                     "an I/O (op %d, block %" PRIu64 ") completed while not in flight", (int)sl->op,
                     sl->block);
        return;
    }
    /* A barrier is ordered after every write submitted before it. What
     * counts is the order in which the driver completed them, not the
     * order their callbacks run in: xensim's blkfront numbers completions
     * under its lock (xg_blk_io.seq), and its callbacks may then run from
     * two contexts in either order, as on any driver completing on several
     * CPUs. A driver that leaves seq 0 is judged by its callback order. */
    if (sl->op == XG_BLK_WRITE_BARRIER && status == 0) {
        for (unsigned int i = 0; i < b->depth; i++) {
            struct slot *o = &b->slots[i];
            if (o == sl || !o->busy || o->seq > sl->seq ||
                (o->op != XG_BLK_WRITE && o->op != XG_BLK_WRITE_BARRIER))
                continue;
            if (io->seq != 0) {
                if (io->seq < o->before_stamp) {
                    o->before_stamp = io->seq; /* judged at o's own callback */
                    o->before_block = sl->block;
                }
                continue;
            }
            barrier_overtook(b, sl->block, o->block);
            break;
        }
    }
    if (sl->before_stamp != UINT64_MAX && (io->seq == 0 || io->seq > sl->before_stamp))
        barrier_overtook(b, sl->before_block, sl->block);
    b->r.completed++;
    hist_add(b, now - sl->submit_ns);
    /* A discard or flush the device does not offer (now: the backend of a
     * new host may lack what the old one had) is declined, not failed. */
    if (status == -EOPNOTSUPP && (sl->op == XG_BLK_DISCARD || sl->op == XG_BLK_FLUSH))
        b->r.unsupported++;
    else if (status != 0)
        b->r.errors++;
    switch (sl->op) {
    case XG_BLK_READ:
        /* After a power loss the disk may legitimately hold older data:
         * what survived is judged by the durability check instead. */
        if (status == 0 && !b->halted)
            verify_read(b, sl);
        break;
    case XG_BLK_WRITE:
    case XG_BLK_WRITE_BARRIER:
        if (status == 0) {
            b->log[sl->log_idx].ack_seq = ++b->ack_seq;
            b->acked_ver[sl->block] = sl->version;
            b->unknown[sl->block] &= (uint8_t)~UNKNOWN_NOW;
            /* A completed barrier is durable, with everything before it. */
            if (sl->op == XG_BLK_WRITE_BARRIER) {
                b->durable_mark = b->ack_seq;
                b->flushes_done++;
            }
        } else {
            b->unknown[sl->block] |= UNKNOWN_NOW;
        }
        break;
    case XG_BLK_FLUSH:
        if (status == 0) {
            if (sl->mark > b->durable_mark)
                b->durable_mark = sl->mark;
            b->flushes_done++;
        }
        break;
    case XG_BLK_DISCARD:
        /* Whatever the status: one in flight at a migration may have been
         * done by the old host's backend before the new one declined it. */
        b->unknown[sl->block] |= UNKNOWN_NOW | UNKNOWN_DISCARDED;
        break;
    }
    if (sl->op != XG_BLK_FLUSH)
        b->busy_blk[sl->block] = 0;
    sl->busy = false;
    b->inflight--;
}

static bool pick_block(struct xsim_blkio *b, uint64_t *block)
{
    for (int t = 0; t < PICK_TRIES; t++) {
        uint64_t k = xsim_rng_below(&b->rng, b->nblocks);
        if (!b->busy_blk[k]) {
            *block = k;
            return true;
        }
    }
    return false;
}

static enum xg_blk_op pick_op(struct xsim_blkio *b)
{
    double u = xsim_rng_unit(&b->rng) * b->cum[4];

    for (int k = 0; k < 4; k++) {
        if (u < b->cum[k])
            return (enum xg_blk_op[]){XG_BLK_READ, XG_BLK_WRITE, XG_BLK_FLUSH,
                                      XG_BLK_WRITE_BARRIER}[k];
    }
    return XG_BLK_DISCARD;
}

static struct slot *free_slot(struct xsim_blkio *b)
{
    for (unsigned int i = 0; i < b->depth; i++) {
        if (!b->slots[i].busy)
            return &b->slots[i];
    }
    return NULL;
}

static void count_kind(struct xsim_blkio *b, enum xg_blk_op op)
{
    switch (op) {
    case XG_BLK_READ:
        b->r.reads++;
        break;
    case XG_BLK_WRITE:
        b->r.writes++;
        break;
    case XG_BLK_FLUSH:
        b->r.flushes++;
        break;
    case XG_BLK_WRITE_BARRIER:
        b->r.barriers++;
        break;
    case XG_BLK_DISCARD:
        b->r.discards++;
        break;
    }
}

/* Refusals blkfront lifts by itself: -ENOSPC (its hold queue is full;
 * completions or the reconnect after a migration drain it). Every other
 * refusal stands while the device stays as it is: -EIO (error state),
 * -ENODEV (closed), -EINVAL or -E2BIG (the I/O does not fit the device the
 * backend now describes). */
static bool refusal_is_transient(int rc)
{
    return rc == -ENOSPC || rc == -EAGAIN;
}

static void note_refusal(struct xsim_blkio *b, int rc, uint64_t now)
{
    if (refusal_is_transient(rc)) {
        b->r.retried++;
        return;
    }
    if (b->r.refused++ == 0) {
        b->r.refused_first_ns = now;
        b->r.refused_first_errno = -rc;
    }
    b->r.refused_last_errno = -rc;
}

/* Issue one I/O: ISSUED, NOT_NOW (no slot or block free, or a transient
 * refusal: the arrival stays in the backlog) or REFUSED (the device
 * refused it for good: the arrival is dropped, counted in `refused`). */
enum issue_result { ISSUED, NOT_NOW, REFUSED };

static enum issue_result issue(struct xsim_blkio *b, uint64_t now)
{
    struct slot *sl = free_slot(b);
    enum xg_blk_op op = pick_op(b);
    bool has_block = op != XG_BLK_FLUSH;
    uint8_t unknown_was = 0;
    int rc;

    if (sl == NULL)
        return NOT_NOW;
    memset(&sl->io, 0, sizeof(sl->io));
    sl->op = op;
    sl->block = 0;
    if (has_block && !pick_block(b, &sl->block))
        return NOT_NOW;
    sl->io.op = op;
    sl->io.done = io_done;
    sl->io.arg = sl;
    if (has_block) {
        sl->io.sector = sl->block * b->bsect;
        sl->io.nsectors = b->bsect;
        sl->io.buf = op == XG_BLK_DISCARD ? NULL : sl->buf;
        unknown_was = b->unknown[sl->block];
    }
    if (op == XG_BLK_WRITE || op == XG_BLK_WRITE_BARRIER) {
        sl->version = ++b->next_version;
        if (log_push(b, sl->block, sl->version, &sl->log_idx) != 0)
            return NOT_NOW;
        pattern_fill(b, sl->buf, sl->block, sl->version);
        b->unknown[sl->block] |= WRITTEN;
    }
    /* Everything io_done reads is set before the submit: a request that
     * fails at once completes inside it. */
    sl->mark = b->ack_seq;
    sl->seq = ++b->submit_seq;
    sl->before_stamp = UINT64_MAX;
    sl->submit_ns = now;
    sl->busy = true;
    if (has_block)
        b->busy_blk[sl->block] = 1;
    b->inflight++;
    rc = b->prm.submit(b->prm.arg, &sl->io);
    if (rc != 0) {
        /* Refused: the callback did not run and nothing reached the
         * device, so the model forgets the attempt (a write that never
         * went out neither enters the log nor makes its block "written"). */
        note_refusal(b, rc, now);
        sl->busy = false;
        b->inflight--;
        if (has_block) {
            b->busy_blk[sl->block] = 0;
            b->unknown[sl->block] = unknown_was;
        }
        if ((op == XG_BLK_WRITE || op == XG_BLK_WRITE_BARRIER) && b->nlog == sl->log_idx + 1)
            b->nlog--;
        return refusal_is_transient(rc) ? NOT_NOW : REFUSED;
    }
    b->r.submitted++;
    count_kind(b, op);
    return ISSUED;
}

uint64_t xsim_blkio_poll(struct xsim_blkio *b, uint64_t now_ns)
{
    double mean_ns = 1e9 / b->wl->rate;

    if (b->halted || now_ns >= b->prm.stop_ns)
        return UINT64_MAX;
    if (b->next_arrival == 0)
        b->next_arrival = now_ns > b->wl->start_ns ? now_ns : b->wl->start_ns;
    while (b->next_arrival <= now_ns) {
        if (b->backlog < MAX_BACKLOG)
            b->backlog++;
        b->next_arrival += 1 + (uint64_t)xsim_rng_exp(&b->rng, mean_ns);
    }
    while (b->backlog > 0 && b->inflight < b->depth) {
        if (b->wl->count != 0 && b->r.submitted >= b->wl->count) {
            b->backlog = 0;
            return UINT64_MAX;
        }
        enum issue_result ir = issue(b, now_ns);
        if (ir == NOT_NOW)
            break;
        b->backlog--; /* issued, or refused for good: either way it is gone */
    }
    return b->next_arrival < b->prm.stop_ns ? b->next_arrival : UINT64_MAX;
}

void xsim_blkio_halt(struct xsim_blkio *b)
{
    b->halted = true;
    b->backlog = 0;
}

int xsim_blkio_create(const struct xsim_blkio_params *prm, struct xsim_blkio **out)
{
    const struct xsim_scn_workload *wl = prm->wl;
    const struct xg_platform *p = prm->p;
    struct xsim_blkio *b;
    uint64_t region = wl->region != 0 ? wl->region : prm->disk_sectors;
    size_t pages;
    double shares[5] = {wl->mix_read, wl->mix_write, wl->mix_flush, wl->mix_barrier,
                        wl->mix_discard};

    if (wl->io_sectors == 0 || wl->queue_depth <= 0 || wl->rate <= 0 || region < wl->io_sectors ||
        region / wl->io_sectors > MAX_BLOCKS)
        return -EINVAL;
    b = calloc(1, sizeof(*b));
    if (b == NULL)
        return -ENOMEM;
    b->prm = *prm;
    b->wl = wl;
    b->bsect = wl->io_sectors;
    b->nblocks = region / wl->io_sectors;
    b->depth = (unsigned int)wl->queue_depth;
    for (int k = 0; k < 5; k++)
        b->cum[k] = (k ? b->cum[k - 1] : 0) + shares[k];
    xsim_rng_init(&b->rng, prm->seed, wl->name);
    b->slots = calloc(b->depth, sizeof(*b->slots));
    b->acked_ver = calloc(b->nblocks, sizeof(*b->acked_ver));
    b->busy_blk = calloc(b->nblocks, 1);
    b->unknown = calloc(b->nblocks, 1);
    b->seen_hash = calloc(b->nblocks, sizeof(*b->seen_hash));
    if (b->slots == NULL || b->acked_ver == NULL || b->busy_blk == NULL || b->unknown == NULL ||
        b->seen_hash == NULL) {
        xsim_blkio_destroy(b);
        return -ENOMEM;
    }
    /* Each slot's buffer: whole guest pages, virtually contiguous. */
    pages = ((size_t)b->bsect * XSIM_SECTOR_SIZE + 4095) / 4096;
    for (unsigned int i = 0; i < b->depth; i++) {
        uint8_t *prev = NULL;
        b->slots[i].b = b;
        for (size_t k = 0; k < pages; k++) {
            uint64_t gfn;
            uint8_t *pg = p->ops->page_alloc(p->ctx, &gfn);
            if (pg == NULL || (prev != NULL && pg != prev + 4096)) {
                xsim_blkio_destroy(b);
                return pg == NULL ? -ENOMEM : -EFAULT;
            }
            if (k == 0)
                b->slots[i].buf = pg;
            prev = pg;
        }
    }
    *out = b;
    return 0;
}

void xsim_blkio_destroy(struct xsim_blkio *b)
{
    if (b == NULL)
        return;
    /* Buffers are guest RAM: they go with the domain. */
    free(b->slots);
    free(b->acked_ver);
    free(b->busy_blk);
    free(b->unknown);
    free(b->seen_hash);
    free(b->log);
    free(b);
}

void xsim_blkio_result(const struct xsim_blkio *b, struct xsim_blkio_result *out)
{
    *out = b->r;
    out->latency_ns_mean = b->r.completed ? b->lat_sum / b->r.completed : 0;
    out->latency_ns_p50 = hist_quantile(b, 0.5);
    out->latency_ns_p99 = hist_quantile(b, 0.99);
}

static int cmp_log(const void *x, const void *y)
{
    const struct wlog *a = x, *c = y;

    if (a->block != c->block)
        return a->block < c->block ? -1 : 1;
    return a->version < c->version ? -1 : a->version > c->version;
}

/* One block's writes, sorted by version: judge each sector on disk. */
static void check_block(const struct xsim_blkio *b, struct xsim_storage *st, const struct wlog *w,
                        size_t n, uint8_t *sec, struct xsim_blkio_durability *out)
{
    uint64_t block = w[0].block, floor = 0;

    for (size_t i = 0; i < n; i++) {
        if (w[i].ack_seq != 0 && w[i].ack_seq <= b->durable_mark && w[i].version > floor)
            floor = w[i].version;
    }
    for (uint32_t s = 0; s < b->bsect; s++) {
        uint64_t v;
        bool known = false;
        int rc = xsim_storage_read_durable(st, block * b->bsect + s, 1, sec);

        out->checked++;
        v = rc == 0 ? pattern_version(b, sec, block, s) : UINT64_MAX;
        for (size_t i = 0; i < n && !known; i++)
            known = w[i].version == v;
        /* Before any promise the sector may hold what it held at the start. */
        if (floor == 0 && (v == 0 || !b->prm.initial_zero))
            known = true;
        if (known && v >= floor)
            continue;
        if (out->bad++ == 0)
            snprintf(out->detail, sizeof(out->detail),
                     "block %" PRIu64 " sector %u holds %s%" PRIu64
                     " after the power loss; a completed flush promised version %" PRIu64,
                     block, s, v == UINT64_MAX ? "garbage " : "version ", v == UINT64_MAX ? 0 : v,
                     floor);
    }
}

int xsim_blkio_check_durable(const struct xsim_blkio *b, struct xsim_storage *st,
                             struct xsim_blkio_durability *out)
{
    struct wlog *w;
    uint8_t sec[XSIM_SECTOR_SIZE];

    memset(out, 0, sizeof(*out));
    out->flushes_completed = b->flushes_done;
    if (b->nlog == 0)
        return 0;
    w = malloc(b->nlog * sizeof(*w));
    if (w == NULL)
        return -ENOMEM;
    memcpy(w, b->log, b->nlog * sizeof(*w));
    qsort(w, b->nlog, sizeof(*w), cmp_log);
    for (size_t i = 0; i < b->nlog;) {
        size_t j = i;
        while (j < b->nlog && w[j].block == w[i].block)
            j++;
        out->blocks_written++;
        /* A discarded block's content is the device's choice: skip it. */
        if (!(b->unknown[w[i].block] & UNKNOWN_DISCARDED))
            check_block(b, st, w + i, j - i, sec, out);
        i = j;
    }
    free(w);
    return 0;
}
