/*
 * bi_split.c - the built-in guest program's block layer: an I/O larger than
 * the device takes in one request goes to blkfront as several.
 *
 * blkfront refuses (E2BIG) a read or write with more sectors than its
 * requests carry: 11 segments, or the backend's
 * feature-max-indirect-segments. What the device takes can shrink while
 * the guest runs: after a migration the new host's backend may offer
 * fewer indirect segments, or none. A kernel's block layer re-reads the
 * limit when the device reconnects and splits what no longer fits (Linux
 * keeps it in the request queue's max_segments, and blkif_recover splits
 * the requests that were in flight). This does the same for the program:
 *
 *   - an I/O of more than BI_SPLIT_ALWAYS_FITS sectors is cut into parts of
 *     whole pages no larger than the device's current max_sectors
 *     (xg_blkfront_get_info), submitted in order; the I/O completes, once,
 *     when its last part does, with the first error of any part, and its
 *     `seq` (the completion number blk_order judges) is its last part's;
 *   - a part that comes back E2BIG (the limit shrank between its cut and
 *     its issue, or it was in flight across a migration and requeued) is
 *     cut again by the limit of now, its pieces counted in the same I/O.
 *
 * A write barrier cut in parts sends every part as a barrier: each is
 * ordered after everything before it, so the whole is too.
 *
 * I/Os of at most BI_SPLIT_ALWAYS_FITS sectors go straight to blkfront:
 * every backend takes 11 segments, so they always fit.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "guestprog/bi_split.h"
#include "xensim/guest/xg_evtchn.h"

#define SECT           512u
#define SECTS_PER_PAGE 8u

/* One I/O cut in parts. Splits and parts are on their disk's list while
 * they live, so that a run that stops with I/O in flight frees them
 * (bi_split_fini). */
struct bi_split {
    struct bi_split_link link;
    struct bi_split_disk *d;
    struct xg_blk_io *whole;
    volatile uint32_t left;  /* parts submitted and not completed, +1 while cutting */
    volatile uint32_t error; /* the first part's error, negated; 0: none */
    volatile uint64_t last;  /* the largest completion number of a part */
};

struct bi_part {
    struct bi_split_link link;
    struct xg_blk_io io;
    struct bi_split *sp;
};

static void *track(struct bi_split_disk *d, size_t size)
{
    struct bi_split_link *l = malloc(size);
    bool was;

    if (l == NULL)
        return NULL;
    memset(l, 0, size);
    was = xg_irq_save(d->p);
    xg_spin_lock(d->p, &d->lock);
    l->prev = &d->live;
    l->next = d->live.next;
    d->live.next->prev = l;
    d->live.next = l;
    xg_spin_unlock(d->p, &d->lock);
    xg_irq_restore(d->p, was);
    return l;
}

static void untrack(struct bi_split_disk *d, void *m)
{
    struct bi_split_link *l = m;
    bool was = xg_irq_save(d->p);

    xg_spin_lock(d->p, &d->lock);
    l->prev->next = l->next;
    l->next->prev = l->prev;
    xg_spin_unlock(d->p, &d->lock);
    xg_irq_restore(d->p, was);
    free(l);
}

static void part_done(struct xg_blkfront *bf, struct xg_blk_io *io, int status);

static void split_put(struct bi_split *sp)
{
    struct bi_split_disk *d = sp->d;

    if (xg_fetch_add_u32(d->p, &sp->left, (uint32_t)-1) == 1) {
        struct xg_blk_io *whole = sp->whole;
        uint32_t err = xg_read_u32(d->p, &sp->error);

        whole->seq = xg_read_u64(d->p, &sp->last);
        untrack(d, sp);
        whole->done(d->bf, whole, -(int)err);
    }
}

static void split_error(struct bi_split *sp, int status)
{
    uint32_t none = 0;

    (void)xg_cmpxchg_u32(sp->d->p, &sp->error, &none, (uint32_t)-status);
}

/* Cut [sector, sector + nsectors) of the whole I/O (buf its first byte) by
 * the device's limit of now and submit the pieces, counting them in *sent.
 * 0, or the error of a piece that could not be submitted (the pieces
 * before it are on their way). */
static int cut(struct bi_split *sp, uint64_t sector, uint32_t nsectors, uint8_t *buf,
               unsigned int *sent)
{
    struct bi_split_disk *d = sp->d;
    struct xg_blkfront_info info;
    uint32_t chunk;

    if (xg_blkfront_get_info(d->bf, &info) != 0)
        return -ENODEV;
    /* Whole pages, so every piece of a page-aligned buffer starts on a
     * page; max_sectors allows for the worst alignment already. */
    chunk = info.max_sectors / SECTS_PER_PAGE * SECTS_PER_PAGE;
    if (chunk == 0)
        return -E2BIG;
    while (nsectors > 0) {
        uint32_t n = nsectors < chunk ? nsectors : chunk;
        struct bi_part *pt = track(d, sizeof(*pt));
        int rc;

        if (pt == NULL)
            return -ENOMEM;
        pt->sp = sp;
        pt->io.op = sp->whole->op;
        pt->io.sector = sector;
        pt->io.nsectors = n;
        pt->io.buf = buf;
        pt->io.done = part_done;
        pt->io.arg = pt;
        (void)xg_fetch_add_u32(d->p, &sp->left, 1);
        rc = xg_blkfront_submit(d->bf, &pt->io);
        if (rc == 0) {
            (*sent)++;
        } else {
            (void)xg_fetch_add_u32(d->p, &sp->left, (uint32_t)-1);
            untrack(d, pt);
            /* The limit shrank since get_info: cut this piece again. */
            if (rc == -E2BIG && n > SECTS_PER_PAGE)
                rc = cut(sp, sector, n, buf, sent);
            if (rc != 0)
                return rc;
        }
        sector += n;
        nsectors -= n;
        if (buf != NULL)
            buf += (size_t)n * SECT;
    }
    return 0;
}

static void part_done(struct xg_blkfront *bf, struct xg_blk_io *io, int status)
{
    struct bi_part *pt = io->arg;
    struct bi_split *sp = pt->sp;
    uint64_t seq = io->seq, last;
    unsigned int sent = 0;

    (void)bf;
    if (status == -E2BIG && io->nsectors > SECTS_PER_PAGE) {
        /* Requeued across a migration to a backend that takes less: cut
         * again by the new limit. The pieces hold the split open. */
        status = cut(sp, io->sector, io->nsectors, io->buf, &sent);
    } else {
        last = xg_read_u64(sp->d->p, &sp->last);
        while (seq > last && !xg_cmpxchg_u64(sp->d->p, &sp->last, &last, seq))
            ;
    }
    if (status != 0)
        split_error(sp, status);
    untrack(sp->d, pt);
    split_put(sp);
}

void bi_split_init(struct bi_split_disk *d, const struct xg_platform *p, struct xg_blkfront *bf)
{
    memset(d, 0, sizeof(*d));
    d->p = p;
    d->bf = bf;
    d->live.prev = d->live.next = &d->live;
}

void bi_split_fini(struct bi_split_disk *d)
{
    if (d->live.next == NULL)
        return; /* never initialised */
    while (d->live.next != &d->live) {
        struct bi_split_link *l = d->live.next;
        d->live.next = l->next;
        free(l);
    }
    d->live.prev = &d->live;
}

int bi_split_submit(struct bi_split_disk *d, struct xg_blk_io *io)
{
    struct bi_split *sp;
    unsigned int sent = 0;
    int rc;

    if ((io->op != XG_BLK_READ && io->op != XG_BLK_WRITE && io->op != XG_BLK_WRITE_BARRIER) ||
        io->nsectors <= BI_SPLIT_ALWAYS_FITS)
        return xg_blkfront_submit(d->bf, io);
    sp = track(d, sizeof(*sp));
    if (sp == NULL)
        return -ENOSPC; /* a refusal the caller retries */
    sp->d = d;
    sp->whole = io;
    sp->left = 1; /* held while cutting: no part completes the whole meanwhile */
    rc = cut(sp, io->sector, io->nsectors, io->buf, &sent);
    if (rc != 0 && sent == 0) {
        /* Nothing went out: refuse the I/O as blkfront would have (before
         * the first connection there is no limit to cut by yet: blkfront
         * holds the I/O and judges it when the device is known). */
        untrack(d, sp);
        return rc == -ENODEV ? xg_blkfront_submit(d->bf, io) : rc;
    }
    /* Part of it went out: it completes, failed, when those parts have. */
    if (rc != 0)
        split_error(sp, rc);
    split_put(sp);
    return 0;
}
