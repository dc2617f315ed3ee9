/*
 * xg_blkfront.c - the guest's PV block frontend (see xg_blkfront.h): a
 * xenbus state machine driven by watches on the backend, a shadow of every
 * request in flight, a bounded hold queue, barrier/flush fallbacks, and a
 * response path that trusts nothing the backend writes.
 *
 * Every xg_blk_io records the queue it is on (hold, ring, done list) and
 * every move checks it. The lock (interrupts off, like xg_xenbus) guards
 * the queues, the shadow and the ring; xenbus requests, notifications and
 * done callbacks always run without it.
 */
#include <errno.h>
#include <string.h>

#include "xensim/guest/xg_blkfront.h"
#include "xensim/guest/xg_evtchn.h"
#include "xg_mutant.h"

#define PAGE_SIZE      4096u
#define SECT           XG_BLKIF_SECTOR_SIZE
#define SECTS_PER_PAGE XG_BLKIF_SECTORS_PER_PAGE
#define IND_PAGES \
    ((XG_BLKFRONT_MAX_SEGS + XG_BLKIF_SEGS_PER_INDIRECT_PAGE - 1) / XG_BLKIF_SEGS_PER_INDIRECT_PAGE)
#define DEFAULT_QUEUED 1024u

/* Which queue an io is on (io->queue). */
enum bq { BQ_NONE = 0, BQ_HOLD, BQ_RING, BQ_DONE };

/* Steps of an io (io->tries): the fallback plan of a write barrier. */
enum step {
    STEP_FIRST = 0, /* as asked */
    STEP_FB_WRITE,  /* barrier off: drained, the write alone */
    STEP_FB_FLUSH,  /* then a flush alone, if there is one */
};

struct shadow {
    struct xg_blk_io *io;
    uint64_t seq; /* order of first issue (a request sent back keeps it) */
    uint8_t op;   /* ring operation */
    uint8_t sub_op;
    bool in_use, solo;
    uint16_t ngrants, nind;
    grant_ref_t grefs[XG_BLKFRONT_MAX_SEGS];
    uint16_t bidx[XG_BLKFRONT_MAX_SEGS]; /* bounce page of each data grant */
    grant_ref_t ind_grefs[IND_PAGES];
};

struct xg_blkfront {
    struct xg_guest *g;
    const struct xg_platform *p;
    struct xg_xenbus *xb;
    struct xg_gnttab *gt;
    struct xg_blkfront_config cfg;
    uint32_t devid;
    volatile uint32_t lock;
    volatile uint32_t seq;
    enum xg_blkfront_state state;
    enum xg_blkfront_state saved; /* state before a suspend */
    enum xenbus_state fe;         /* what we last wrote */
    bool attached, detaching, watching, media_watching, ever_connected;
    bool closing_down; /* close_down is running (it must not nest) */
    char backend[128];
    char watched[128]; /* backend whose state we watch */
    domid_t backend_id;
    char tok_state[XG_XENBUS_TOKEN_MAX], tok_media[XG_XENBUS_TOKEN_MAX];
    /* ring */
    uint8_t *ring_mem;
    unsigned int ring_mem_pages, ring_pages;
    grant_ref_t ring_refs[XG_BLKFRONT_MAX_RING_PAGES];
    bool ring_granted;
    blkif_front_ring_t ring;
    evtchn_port_t port;
    bool have_port;
    /* features in force */
    bool flush, barrier, discard;
    unsigned int indirect_segs;
    uint64_t sectors;
    uint32_t sector_size, vdisk_info;
    bool cdrom, readonly, removable;
    /* requests */
    struct shadow shadow[XG_BLKFRONT_MAX_RING_SLOTS];
    uint16_t free_slots[XG_BLKFRONT_MAX_RING_SLOTS];
    unsigned int nfree_slots;
    void *ind_page[XG_BLKFRONT_MAX_RING_SLOTS][IND_PAGES];
    uint64_t next_seq;
    uint64_t done_seq; /* completions decided so far (xg_blk_io.seq) */
    bool solo;         /* a fallback step is alone on the ring */
    /* bounce pages (cfg.bounce): pool[i] NULL once given up for good */
    void *pool[XG_BLKFRONT_MAX_BOUNCE];
    uint16_t pool_free[XG_BLKFRONT_MAX_BOUNCE];
    unsigned int npool, npool_free;
    struct xg_blk_io *hold_head, *hold_tail;
    unsigned int nhold; /* counted against max_queued */
    struct xg_blkfront_stats st;
};

/* ---- small helpers ---- */

unsigned long xg_blkfront_size(void)
{
    return sizeof(struct xg_blkfront);
}

static bool lock(struct xg_blkfront *bf)
{
    bool was = xg_irq_save(bf->p);

    xg_spin_lock(bf->p, &bf->lock);
    return was;
}

static void unlock(struct xg_blkfront *bf, bool was)
{
    xg_spin_unlock(bf->p, &bf->lock);
    xg_irq_restore(bf->p, was);
}

/* Transitions our own code guarantees whatever the backend does: it
 * attaches only when closed and reconnects only from a suspend, and it
 * suspends only a device that is connected or connecting. (Others, such as
 * a connect racing an error, can follow from backend input and are not
 * checked here.) */
static bool transition_possible(enum xg_blkfront_state from, enum xg_blkfront_state to)
{
    switch (to) {
    case XG_BLKFRONT_CONNECTING:
        return from == XG_BLKFRONT_CLOSED || from == XG_BLKFRONT_SUSPENDED;
    case XG_BLKFRONT_SUSPENDED:
        return from == XG_BLKFRONT_CONNECTING || from == XG_BLKFRONT_CONNECTED;
    case XG_BLKFRONT_CLOSED:
    case XG_BLKFRONT_CONNECTED:
    case XG_BLKFRONT_ERROR:
        return true;
    }
    return false;
}

static void set_state(struct xg_blkfront *bf, enum xg_blkfront_state s)
{
    XG_BUG_ON(bf->p, !transition_possible(bf->state, s));
    bf->state = s;
    /* Waiters halt on seq: publish the state first. */
    xg_wmb(bf->p);
    xg_fetch_add_u32(bf->p, &bf->seq, 1);
}

static size_t slen(const char *s, size_t max)
{
    size_t n = 0;

    while (n < max && s[n] != '\0')
        n++;
    return n;
}

static void utoa(char *buf, size_t size, uint64_t v)
{
    char tmp[24];
    size_t n = 0, i;

    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0 && n < sizeof(tmp));
    for (i = 0; i < n && i + 1 < size; i++)
        buf[i] = tmp[n - 1 - i];
    buf[i] = '\0';
}

static int be_read_uint(struct xg_blkfront *bf, const char *node, uint64_t *v)
{
    char path[XG_XENBUS_PATH_MAX];
    int rc = xg_xenbus_join(path, sizeof(path), bf->backend, node);

    return rc != 0 ? rc : xg_xenbus_read_uint(bf->xb, 0, path, v);
}

static uint64_t be_uint_or(struct xg_blkfront *bf, const char *node, uint64_t dflt)
{
    uint64_t v;

    return be_read_uint(bf, node, &v) == 0 ? v : dflt;
}

static int fe_write(struct xg_blkfront *bf, const char *node, const char *value)
{
    char path[XG_XENBUS_PATH_MAX];
    int rc = xg_xenbus_join(path, sizeof(path), bf->cfg.nodename, node);

    return rc != 0 ? rc : xg_xenbus_write(bf->xb, 0, path, value);
}

static int fe_write_uint(struct xg_blkfront *bf, const char *node, uint64_t v)
{
    char buf[24];

    utoa(buf, sizeof(buf), v);
    return fe_write(bf, node, buf);
}

static int switch_fe(struct xg_blkfront *bf, enum xenbus_state s)
{
    bf->fe = s;
    return xg_xenbus_switch_state(bf->xb, bf->cfg.nodename, s);
}

/* ---- queues: every move checks where the io is ---- */

static void hold_push(struct xg_blkfront *bf, struct xg_blk_io *io, bool front)
{
    XG_BUG_ON(bf->p, io->queue != BQ_NONE);
    io->queue = BQ_HOLD;
    io->next = NULL;
    if (front) {
        io->next = bf->hold_head;
        bf->hold_head = io;
        if (bf->hold_tail == NULL)
            bf->hold_tail = io;
    } else {
        if (bf->hold_tail != NULL)
            bf->hold_tail->next = io;
        else
            bf->hold_head = io;
        bf->hold_tail = io;
    }
    bf->nhold++;
}

/* A request the backend sent back (a refused barrier or flush, or the next
 * step of a barrier's fallback) goes back on the hold queue in issue
 * order: after those sent back that were issued before it, before
 * everything never issued. Pushing each to the front would reverse two
 * refused barriers answered in one batch, so the later one would be
 * retried, and complete, first (docs/invariants.md, blk 2). */
static void hold_requeue(struct xg_blkfront *bf, struct xg_blk_io *io, uint64_t issue_seq)
{
    struct xg_blk_io **pp = &bf->hold_head;

    XG_BUG_ON(bf->p, io->queue != BQ_NONE);
    io->seq = issue_seq + 1;
    while (*pp != NULL && (*pp)->seq != 0 && (*pp)->seq < io->seq)
        pp = &(*pp)->next;
    io->next = *pp;
    *pp = io;
    if (io->next == NULL)
        bf->hold_tail = io;
    io->queue = BQ_HOLD;
    bf->nhold++;
}

static struct xg_blk_io *hold_pop(struct xg_blkfront *bf)
{
    struct xg_blk_io *io = bf->hold_head;

    if (io == NULL)
        return NULL;
    XG_BUG_ON(bf->p, io->queue != BQ_HOLD || bf->nhold == 0);
    bf->hold_head = io->next;
    if (bf->hold_head == NULL)
        bf->hold_tail = NULL;
    io->next = NULL;
    io->queue = BQ_NONE;
    bf->nhold--;
    return io;
}

/* Completions are collected under the lock and delivered after it. */
struct done_list {
    struct xg_blk_io *head, *tail;
};

/* Caller holds the lock: completions are numbered in the order they are
 * decided, which is the order the done callbacks must be judged by - they
 * may run from different contexts (an upcall and a submit path) in either
 * order once the lock is dropped, as on any driver completing on several
 * CPUs. */
static void done_add(struct xg_blkfront *bf, struct done_list *dl, struct xg_blk_io *io, int status)
{
    XG_BUG_ON(bf->p, io->queue != BQ_NONE);
    io->queue = BQ_DONE;
    io->seq = ++bf->done_seq;
    io->slot = (uint32_t)status; /* the status travels in slot until delivery */
    io->next = NULL;
    if (dl->tail != NULL)
        dl->tail->next = io;
    else
        dl->head = io;
    dl->tail = io;
}

static void deliver(struct xg_blkfront *bf, struct done_list *dl)
{
    struct xg_blk_io *io = dl->head;

    while (io != NULL) {
        struct xg_blk_io *next = io->next;
        int status = (int)io->slot;
        bool was;

        XG_BUG_ON(bf->p, io->queue != BQ_DONE);
        was = lock(bf);
        bf->st.completed++;
        if (status != 0)
            bf->st.errors++;
        unlock(bf, was);
        io->queue = BQ_NONE;
        io->next = NULL;
        io->done(bf, io, status);
        io = next;
    }
    dl->head = dl->tail = NULL;
}

/* ---- grants of one request ---- */

/* Walk the io's pages: page i starts at *va, covers sectors first..first+cnt-1. */
static void seg_of(const struct xg_blk_io *io, unsigned int i, uint8_t **va, unsigned int *first,
                   unsigned int *cnt)
{
    uintptr_t start = (uintptr_t)io->buf, off = start & (PAGE_SIZE - 1);
    uint64_t before = 0; /* sectors in pages before page i */
    unsigned int f = (unsigned int)(off / SECT);

    if (i > 0) {
        before = SECTS_PER_PAGE - f + (uint64_t)(i - 1) * SECTS_PER_PAGE;
        f = 0;
    }
    *va = (uint8_t *)io->buf + before * SECT;
    *first = f;
    *cnt = SECTS_PER_PAGE - f;
    if (*cnt > io->nsectors - before)
        *cnt = (unsigned int)(io->nsectors - before);
}

/* End the request's grants. With bounce pages, a read's data is copied
 * back to `copy_to` only after the backend lost access (it cannot change
 * it under us), and a page whose access could not be ended is never
 * reused. `forget`: the grants are gone with the old host. */
static void end_grants(struct xg_blkfront *bf, struct shadow *sh, bool forget,
                       const struct xg_blk_io *copy_to)
{
    unsigned int slot = (unsigned int)(sh - bf->shadow);

    for (unsigned int i = 0; i < sh->ngrants; i++) {
        int rc = forget ? 0 : xg_gnttab_end_access(bf->gt, sh->grefs[i]); /* -EBUSY: leaked */
        if (!bf->cfg.bounce)
            continue;
        uint16_t b = sh->bidx[i];
        if (rc != 0) {
            bf->pool[b] = NULL;
            continue;
        }
        if (copy_to != NULL) {
            uint8_t *va;
            unsigned int first, cnt;
            seg_of(copy_to, i, &va, &first, &cnt);
            memcpy(va, (uint8_t *)bf->pool[b] + first * SECT, (size_t)cnt * SECT);
        }
        bf->pool_free[bf->npool_free++] = b;
    }
    if (!forget) {
        for (unsigned int i = 0; i < sh->nind; i++) {
            if (xg_gnttab_end_access(bf->gt, sh->ind_grefs[i]) != 0)
                bf->ind_page[slot][i] = NULL; /* the backend may still write it */
        }
    }
    sh->ngrants = sh->nind = 0;
}

static void slot_release(struct xg_blkfront *bf, struct shadow *sh)
{
    XG_BUG_ON(bf->p, !sh->in_use || bf->nfree_slots >= XG_BLKFRONT_MAX_RING_SLOTS ||
                         bf->st.in_flight == 0);
    sh->in_use = false;
    sh->io = NULL;
    bf->free_slots[bf->nfree_slots++] = (uint16_t)(sh - bf->shadow);
    bf->st.in_flight--;
}

static void reset_slots(struct xg_blkfront *bf, unsigned int n)
{
    bf->nfree_slots = 0;
    for (unsigned int i = n; i-- > 0;) {
        bf->shadow[i].in_use = false;
        bf->free_slots[bf->nfree_slots++] = (uint16_t)i;
    }
}

/* ---- building requests ---- */

static unsigned int pages_of(const struct xg_blk_io *io)
{
    uintptr_t off = (uintptr_t)io->buf & (PAGE_SIZE - 1);

    return (unsigned int)((off + (uint64_t)io->nsectors * SECT + PAGE_SIZE - 1) / PAGE_SIZE);
}

/* What to do with the io at the head of the hold queue. */
struct plan {
    int complete; /* 1: complete now with status */
    int status;
    uint8_t op; /* ring op otherwise */
    bool data;  /* carries the io's segments */
    bool solo;  /* drain first and issue alone */
};

static struct plan plan_of(struct xg_blkfront *bf, struct xg_blk_io *io)
{
    struct plan pl = {0};

    switch (io->op) {
    case XG_BLK_READ:
        pl.op = BLKIF_OP_READ;
        pl.data = true;
        break;
    case XG_BLK_WRITE:
        pl.op = BLKIF_OP_WRITE;
        pl.data = true;
        break;
    case XG_BLK_WRITE_BARRIER:
        /* An indirect request can only read or write: a barrier too big
         * for a direct request takes the drain-and-single-step path. */
        if (io->tries == STEP_FIRST && bf->barrier &&
            pages_of(io) <= BLKIF_MAX_SEGMENTS_PER_REQUEST) {
            pl.op = BLKIF_OP_WRITE_BARRIER;
            pl.data = io->nsectors > 0;
            break;
        }
        /* Fallback: drain, the write alone, then a flush alone. */
        if (io->tries <= STEP_FB_WRITE && io->nsectors > 0) {
            io->tries = STEP_FB_WRITE;
            pl.op = BLKIF_OP_WRITE;
            pl.data = true;
            pl.solo = true;
            break;
        }
        io->tries = STEP_FB_FLUSH;
        pl.solo = true;
        if (bf->flush)
            pl.op = BLKIF_OP_FLUSH_DISKCACHE;
        else if (bf->barrier)
            pl.op = BLKIF_OP_WRITE_BARRIER;
        else
            pl.complete = 1; /* drained and written: all we can do */
        break;
    case XG_BLK_FLUSH:
        if (bf->flush)
            pl.op = BLKIF_OP_FLUSH_DISKCACHE;
        else if (bf->barrier)
            pl.op = BLKIF_OP_WRITE_BARRIER; /* zero segments */
        else {
            pl.complete = 1;
            pl.status = -EOPNOTSUPP;
        }
        break;
    case XG_BLK_DISCARD:
        if (bf->discard)
            pl.op = BLKIF_OP_DISCARD;
        else {
            pl.complete = 1;
            pl.status = -EOPNOTSUPP;
        }
        break;
    default:
        pl.complete = 1;
        pl.status = -EINVAL;
    }
    return pl;
}

/* Grant the io's pages into sh->grefs and describe them in segs.
 * Returns 0 or -ENOSPC (no grant reference free). */
static int bounce_get(struct xg_blkfront *bf, uint16_t *idx)
{
    uint64_t gfn;

    while (bf->npool_free > 0) {
        uint16_t b = bf->pool_free[--bf->npool_free];
        if (bf->pool[b] != NULL) {
            *idx = b;
            return 0;
        }
    }
    if (bf->npool == XG_BLKFRONT_MAX_BOUNCE)
        return -ENOSPC;
    bf->pool[bf->npool] = xg_page_alloc(bf->p, &gfn);
    if (bf->pool[bf->npool] == NULL)
        return -ENOSPC;
    *idx = (uint16_t)bf->npool++;
    return 0;
}

/* Grant the io's pages (or bounce pages holding its data) into
 * sh->grefs and describe them in segs. 0, -ENOSPC (no reference or bounce
 * page free) or -EINVAL (not guest RAM). */
static int grant_data(struct xg_blkfront *bf, struct shadow *sh, const struct xg_blk_io *io,
                      bool to_backend, struct blkif_request_segment *segs)
{
    const struct xg_platform *p = bf->p;
    unsigned int n = pages_of(io);

    for (unsigned int i = 0; i < n; i++) {
        uint8_t *va, *page;
        unsigned int first, cnt;
        uint64_t gfn;
        grant_ref_t ref;
        uint16_t b = 0;
        int rc;
        seg_of(io, i, &va, &first, &cnt);
        page = (uint8_t *)((uintptr_t)va & ~(uintptr_t)(PAGE_SIZE - 1));
        if (bf->cfg.bounce) {
            if ((rc = bounce_get(bf, &b)) != 0)
                return rc;
            page = bf->pool[b];
            /* Only the io's own sectors, nothing else of the guest's. */
            memset(page, 0, PAGE_SIZE);
            if (to_backend)
                memcpy(page + first * SECT, va, (size_t)cnt * SECT);
        }
        gfn = p->ops->virt_to_gfn(p->ctx, page);
        if (gfn == UINT64_MAX)
            rc = -EINVAL;
        else
            /* A write only lets the backend read our buffer. */
            rc = xg_gnttab_grant(bf->gt, bf->backend_id, gfn, to_backend, &ref);
        if (rc != 0) {
            if (bf->cfg.bounce)
                bf->pool_free[bf->npool_free++] = b;
            return rc;
        }
        sh->bidx[sh->ngrants] = b;
        sh->grefs[sh->ngrants++] = ref;
        segs[i].gref = ref;
        segs[i].first_sect = (uint8_t)first;
        segs[i].last_sect = (uint8_t)(first + cnt - 1);
    }
    return 0;
}

static int build(struct xg_blkfront *bf, struct shadow *sh, struct xg_blk_io *io,
                 const struct plan *pl, union blkif_sring_entry *out)
{
    unsigned int slot = (unsigned int)(sh - bf->shadow);
    unsigned int npages = pl->data ? pages_of(io) : 0;
    bool write = pl->op != BLKIF_OP_READ;
    int rc;

    memset(out, 0, sizeof(*out));
    sh->op = pl->op;
    sh->sub_op = 0;
    if (pl->op == BLKIF_OP_DISCARD) {
        struct blkif_request_discard *d = (struct blkif_request_discard *)&out->req;
        d->operation = BLKIF_OP_DISCARD;
        d->handle = (blkif_vdev_t)bf->devid;
        d->id = slot;
        d->sector_number = io->sector;
        d->nr_sectors = io->nsectors;
        return 0;
    }
    if (npages > BLKIF_MAX_SEGMENTS_PER_REQUEST) {
        struct blkif_request_indirect *ind = (struct blkif_request_indirect *)&out->req;
        unsigned int nind =
            (npages + XG_BLKIF_SEGS_PER_INDIRECT_PAGE - 1) / XG_BLKIF_SEGS_PER_INDIRECT_PAGE;
        if (npages > bf->indirect_segs || nind > IND_PAGES)
            return -E2BIG;
        for (unsigned int i = 0; i < nind; i++) {
            if (bf->ind_page[slot][i] == NULL) {
                uint64_t gfn;
                bf->ind_page[slot][i] = xg_page_alloc(bf->p, &gfn);
                if (bf->ind_page[slot][i] == NULL)
                    return -ENOSPC;
            }
        }
        /* The segment lists are written before the pages are granted. */
        rc = grant_data(bf, sh, io, write, bf->ind_page[slot][0]);
        if (rc != 0)
            return rc;
        for (unsigned int i = 0; i < nind; i++) {
            uint64_t gfn = bf->p->ops->virt_to_gfn(bf->p->ctx, bf->ind_page[slot][i]);
            rc = xg_gnttab_grant(bf->gt, bf->backend_id, gfn, true, &sh->ind_grefs[i]);
            if (rc != 0)
                return rc;
            sh->nind++;
            ind->indirect_grefs[i] = sh->ind_grefs[i];
        }
        ind->operation = BLKIF_OP_INDIRECT;
        ind->indirect_op = pl->op;
        ind->nr_segments = (uint16_t)npages;
        ind->id = slot;
        ind->sector_number = io->sector;
        ind->handle = (blkif_vdev_t)bf->devid;
        sh->op = BLKIF_OP_INDIRECT;
        sh->sub_op = pl->op;
        bf->st.indirect++;
        return 0;
    }
    out->req.operation = pl->op;
    out->req.handle = (blkif_vdev_t)bf->devid;
    out->req.id = slot;
    out->req.sector_number = io->sector;
    if (npages > 0) {
        rc = grant_data(bf, sh, io, write, out->req.seg);
        if (rc != 0)
            return rc;
    }
    out->req.nr_segments = (uint8_t)npages;
    return 0;
}

/* Issue what the hold queue holds, as far as the ring and the fallback
 * rules allow. Caller holds the lock; *notify says whether to kick. */
static void kick_locked(struct xg_blkfront *bf, struct done_list *dl, bool *notify)
{
    bool produced = false;

    while (bf->state == XG_BLKFRONT_CONNECTED && bf->hold_head != NULL && !bf->solo) {
        struct xg_blk_io *io = bf->hold_head;
        struct plan pl = plan_of(bf, io);
        union blkif_sring_entry req;
        struct shadow *sh;
        int rc;

        if (pl.solo && bf->st.in_flight > 0)
            break; /* drain first: a barrier orders after everything earlier */
        if (pl.complete) {
            XG_BUG_ON(bf->p, hold_pop(bf) != io);
            done_add(bf, dl, io, pl.status);
            continue;
        }
        if (bf->nfree_slots == 0 || RING_FULL(&bf->ring))
            break;
        sh = &bf->shadow[bf->free_slots[bf->nfree_slots - 1]];
        sh->ngrants = sh->nind = 0;
        rc = build(bf, sh, io, &pl, &req);
        if (rc != 0) {
            end_grants(bf, sh, false, NULL);
            if (rc == -ENOSPC && bf->st.in_flight > 0)
                break; /* retried when a response frees grants */
            XG_BUG_ON(bf->p, hold_pop(bf) != io);
            done_add(bf, dl, io, rc == -ENOSPC ? -EIO : rc);
            continue;
        }
        XG_BUG_ON(bf->p, hold_pop(bf) != io);
        bf->nfree_slots--;
        sh->in_use = true;
        sh->io = io;
        /* A request the backend sent back keeps the place of its first
         * issue: the steps of a barrier's fallback must not let a barrier
         * issued after it, refused meanwhile, go ahead (hold_requeue). */
        sh->seq = io->seq != 0 ? io->seq - 1 : bf->next_seq++;
        sh->solo = pl.solo;
        io->queue = BQ_RING;
        io->slot = (uint32_t)(sh - bf->shadow);
        bf->st.in_flight++;
        bf->st.requests++;
        if (pl.solo)
            bf->solo = true;
        /* Built privately, written to the shared slot in one go. */
        XG_RING_PUT_REQUEST(bf->p, &bf->ring, bf->ring.req_prod_pvt, &req.req);
        bf->ring.req_prod_pvt++;
        produced = true;
    }
    bf->st.queued = bf->nhold;
    if (produced) {
        bool n;
        XG_RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(bf->p, &bf->ring, n);
        if (n)
            *notify = true;
    }
}

static void kick_and_deliver(struct xg_blkfront *bf, bool was, struct done_list *dl)
{
    bool notify = false;
    evtchn_port_t port = bf->port;
    bool have = bf->have_port;

    kick_locked(bf, dl, &notify);
    unlock(bf, was);
    if (notify && have)
        (void)xg_evtchn_notify(bf->g, port);
    deliver(bf, dl);
}

/* Take every request off the ring (ending or forgetting grants) and off
 * the hold queue; complete them with `status`. Caller holds the lock. */
static void fail_all_locked(struct xg_blkfront *bf, int status, bool forget, struct done_list *dl)
{
    struct xg_blk_io *io;

    for (unsigned int i = 0; i < XG_BLKFRONT_MAX_RING_SLOTS; i++) {
        struct shadow *sh = &bf->shadow[i];
        if (!sh->in_use)
            continue;
        io = sh->io;
        /* An in-use slot always carries an io on the ring. */
        XG_BUG_ON(bf->p, io == NULL || io->queue != BQ_RING);
        end_grants(bf, sh, forget, NULL);
        slot_release(bf, sh);
        io->queue = BQ_NONE;
        done_add(bf, dl, io, status);
    }
    bf->solo = false;
    while ((io = hold_pop(bf)) != NULL)
        done_add(bf, dl, io, status);
    XG_BUG_ON(bf->p, bf->nhold != 0);
    bf->st.queued = 0;
}

/* The backend broke the protocol: no more I/O, the port stays masked. */
static void enter_error_locked(struct xg_blkfront *bf, struct done_list *dl)
{
    bf->st.bad_responses++;
    if (bf->have_port)
        (void)xg_evtchn_mask(bf->g, bf->port);
    fail_all_locked(bf, -EIO, false, dl);
    set_state(bf, XG_BLKFRONT_ERROR);
}

/* ---- responses ---- */

static int status_of(int16_t s)
{
    return s == BLKIF_RSP_OKAY ? 0 : s == BLKIF_RSP_EOPNOTSUPP ? -EOPNOTSUPP : -EIO;
}

/* One checked response for `sh`: complete, fall back or requeue. */
static void complete_one(struct xg_blkfront *bf, struct shadow *sh, int16_t rsp_status,
                         struct done_list *dl)
{
    struct xg_blk_io *io = sh->io;
    uint8_t op = sh->op == BLKIF_OP_INDIRECT ? sh->sub_op : sh->op;
    int status = status_of(rsp_status);
    uint64_t issue_seq = sh->seq;
    bool requeue = false;

    /* The response's id and operation were checked against the shadow; an
     * in-use slot always carries an io on the ring. */
    XG_BUG_ON(bf->p, io == NULL || io->queue != BQ_RING);
    end_grants(bf, sh, false, op == BLKIF_OP_READ && status == 0 ? io : NULL);
    if (sh->solo)
        bf->solo = false;
    slot_release(bf, sh);
    io->queue = BQ_NONE;
    if (status == -EOPNOTSUPP && !XG_MUTATED(7)) {
        switch (op) {
        case BLKIF_OP_WRITE_BARRIER:
            /* Not failed: barrier off, the plan falls back. */
            bf->barrier = false;
            bf->st.barrier_fallbacks++;
            if (io->op == XG_BLK_WRITE_BARRIER && io->tries == STEP_FIRST)
                io->tries = STEP_FB_WRITE;
            requeue = true;
            break;
        case BLKIF_OP_FLUSH_DISKCACHE:
            bf->flush = false;
            bf->st.flush_fallbacks++;
            requeue = true;
            break;
        case BLKIF_OP_DISCARD:
            bf->discard = false;
            bf->st.discard_refused++;
            break;
        default:
            status = -EIO;
        }
    } else if (status == -EOPNOTSUPP) {
        status = -EIO; /* XG_MUTATED(7) */
    } else if (status == 0 && io->op == XG_BLK_WRITE_BARRIER && io->tries == STEP_FB_WRITE) {
        io->tries = STEP_FB_FLUSH; /* the write is done; now the flush */
        requeue = true;
    }
    if (requeue)
        hold_requeue(bf, io, issue_seq);
    else
        done_add(bf, dl, io, status);
}

static int blkfront_handler(struct xg_guest *g, evtchn_port_t port, void *arg)
{
    struct xg_blkfront *bf = arg;
    struct done_list dl = {0};
    unsigned int consumed = 0;
    bool was = lock(bf);

    (void)g;
    (void)port;
    if (!bf->ring_granted || bf->state == XG_BLKFRONT_ERROR || bf->state == XG_BLKFRONT_CLOSED) {
        bf->st.spurious_upcalls++;
        unlock(bf, was);
        return XG_EVTCHN_SPURIOUS;
    }
    /* Until the final check finds nothing, as Linux's blkif_interrupt:
     * only that check moves rsp_event past what was consumed. Leaving with
     * responses still on the ring (a cap on passes) would leave rsp_event
     * behind rsp_cons, and a backend that notifies only when rsp_event
     * asks (blkback, Linux's) would never wake us again: a lost wakeup
     * that strands every response after it. The loop ends: a pass that
     * finds more consumes at least one response, no more can come than
     * requests were produced (checked below), and none are produced while
     * we hold the lock. */
    for (;;) {
        RING_IDX rp = XG_RING_GET_RSP_PROD(bf->p, &bf->ring), i;
        int more;
        /* No more responses than requests we produced (XSA-391). */
        if ((RING_IDX)(rp - bf->ring.rsp_cons) >
            (RING_IDX)(bf->ring.req_prod_pvt - bf->ring.rsp_cons)) {
            enter_error_locked(bf, &dl);
            goto out;
        }
        for (i = bf->ring.rsp_cons; i != rp; i++) {
            struct blkif_response rsp;
            struct shadow *sh;
            /* Read once; only the copy is used (XSA-155). */
            XG_RING_COPY_RESPONSE(bf->p, &bf->ring, i, &rsp);
            bf->st.responses++;
            consumed++;
            if (XG_MUTATED(16) ? rsp.id >= bf->ring.nr_ents
                               : rsp.id >= bf->ring.nr_ents || !bf->shadow[rsp.id].in_use) {
                enter_error_locked(bf, &dl);
                goto out;
            }
            sh = &bf->shadow[rsp.id];
            if (rsp.operation != sh->op &&
                !(sh->op == BLKIF_OP_INDIRECT && rsp.operation == sh->sub_op)) {
                enter_error_locked(bf, &dl);
                goto out;
            }
            complete_one(bf, sh, rsp.status, &dl);
        }
        bf->ring.rsp_cons = rp;
        XG_RING_FINAL_CHECK_FOR_RESPONSES(bf->p, &bf->ring, more);
        if (!more)
            break;
    }
    if (consumed == 0)
        bf->st.spurious_upcalls++;
    kick_and_deliver(bf, was, &dl);
    return consumed == 0 ? XG_EVTCHN_SPURIOUS : XG_EVTCHN_HANDLED;
out:
    unlock(bf, was);
    deliver(bf, &dl);
    return XG_EVTCHN_HANDLED;
}

/* ---- the handshake ---- */

static void free_ring_mem(struct xg_blkfront *bf)
{
    if (bf->ring_mem != NULL && bf->p->ops->page_free != NULL) {
        for (unsigned int i = 0; i < bf->ring_mem_pages; i++)
            bf->p->ops->page_free(bf->p->ctx, bf->ring_mem + (size_t)i * PAGE_SIZE);
    }
    bf->ring_mem = NULL;
    bf->ring_mem_pages = 0;
}

/* `n` virtually contiguous pages for the ring (kept across reconnects). */
static int ring_mem(struct xg_blkfront *bf, unsigned int n)
{
    uint8_t *first = NULL;
    uint64_t gfn;

    if (bf->ring_mem != NULL && bf->ring_mem_pages >= n)
        return 0;
    free_ring_mem(bf);
    for (unsigned int i = 0; i < n; i++) {
        uint8_t *pg = xg_page_alloc(bf->p, &gfn);
        if (pg == NULL || (i > 0 && pg != first + (size_t)i * PAGE_SIZE)) {
            if (pg != NULL && bf->p->ops->page_free != NULL)
                bf->p->ops->page_free(bf->p->ctx, pg);
            bf->ring_mem = first;
            bf->ring_mem_pages = i;
            free_ring_mem(bf);
            return -ENOMEM;
        }
        if (i == 0)
            first = pg;
    }
    bf->ring_mem = first;
    bf->ring_mem_pages = n;
    return 0;
}

/* End the ring's grants and close the port (detach, backend gone). */
static void ring_teardown(struct xg_blkfront *bf, bool forget)
{
    bool leaked = false;

    if (bf->ring_granted && !forget) {
        for (unsigned int i = 0; i < bf->ring_pages; i++) {
            if (xg_gnttab_end_access(bf->gt, bf->ring_refs[i]) != 0)
                leaked = true;
        }
    }
    bf->ring_granted = false;
    if (leaked) {
        bf->ring_mem = NULL; /* the backend may still write there: never reuse */
        bf->ring_mem_pages = 0;
    }
    if (bf->have_port) {
        struct xg_port *pt = &bf->g->ports[bf->port];
        /* On a new host the number may already be someone else's. */
        if (pt->fn == blkfront_handler && pt->arg == bf)
            (void)xg_evtchn_close(bf->g, bf->port);
        bf->have_port = false;
    }
}

/* A detach (on another CPU) started since the watch looked: the
 * handshake must not bring the device back. Caller holds the lock. */
static bool detach_started_locked(const struct xg_blkfront *bf)
{
    return !bf->attached || bf->detaching;
}

/* Grant the ring, bind the port, write our nodes, go Initialised. */
static int talk_to_backend(struct xg_blkfront *bf)
{
    unsigned int want = bf->cfg.ring_pages ? bf->cfg.ring_pages : 1, pages = 1, order = 0;
    uint64_t max_order = be_uint_or(bf, "max-ring-page-order", 0);
    blkif_sring_t *sring;
    evtchn_port_t port;
    bool was;
    int rc;

    if (want > XG_BLKFRONT_MAX_RING_PAGES)
        want = XG_BLKFRONT_MAX_RING_PAGES;
    while (pages * 2 <= want && order < max_order) {
        pages *= 2;
        order++;
    }
    if ((rc = ring_mem(bf, pages)) != 0)
        return rc;
    memset(bf->ring_mem, 0, (size_t)pages * PAGE_SIZE);
    sring = (blkif_sring_t *)bf->ring_mem;
    was = lock(bf);
    SHARED_RING_INIT(sring);
    FRONT_RING_INIT(&bf->ring, sring, (size_t)pages * PAGE_SIZE);
    bf->ring_pages = pages;
    reset_slots(bf, bf->ring.nr_ents);
    unlock(bf, was);
    for (unsigned int i = 0; i < pages; i++) {
        uint64_t gfn = bf->p->ops->virt_to_gfn(bf->p->ctx, bf->ring_mem + (size_t)i * PAGE_SIZE);
        rc = xg_gnttab_grant(bf->gt, bf->backend_id, gfn, false, &bf->ring_refs[i]);
        if (rc != 0) {
            while (i-- > 0)
                (void)xg_gnttab_end_access(bf->gt, bf->ring_refs[i]);
            return rc;
        }
    }
    bf->ring_granted = true;
    if (!bf->have_port) {
        /* The handler is in place before the port can fire; it stays
         * masked until the ring exists (invariant 6). */
        rc = xg_evtchn_alloc_unbound(bf->g, bf->backend_id, blkfront_handler, bf, &port);
        if (rc != 0)
            return rc;
        bf->port = port;
        bf->have_port = true;
    }
    if (pages == 1) {
        rc = fe_write_uint(bf, "ring-ref", bf->ring_refs[0]);
    } else {
        rc = fe_write_uint(bf, "ring-page-order", order);
        for (unsigned int i = 0; rc == 0 && i < pages; i++) {
            char node[16] = "ring-ref";
            utoa(node + 8, sizeof(node) - 8, i);
            rc = fe_write_uint(bf, node, bf->ring_refs[i]);
        }
    }
    if (rc == 0)
        rc = fe_write_uint(bf, "event-channel", bf->port);
    if (rc == 0)
        rc = fe_write(bf, "protocol", "x86_64-abi");
    if (rc == 0)
        rc = xg_evtchn_unmask(bf->g, bf->port);
    if (rc == 0) {
        was = lock(bf);
        bool gone = detach_started_locked(bf), done = gone && !bf->detaching;
        unlock(bf, was);
        if (gone) {
            /* The close already ran: what we granted since is ours to end. */
            if (done)
                ring_teardown(bf, false);
            return 0;
        }
        rc = switch_fe(bf, XenbusStateInitialised);
    }
    return rc;
}

static void on_media(struct xg_xenbus *xb, const char *path, const char *token, void *arg)
{
    struct xg_blkfront *bf = arg;
    uint64_t sectors;
    bool was;

    (void)xb;
    (void)path;
    (void)token;
    if (be_read_uint(bf, "sectors", &sectors) != 0)
        return;
    was = lock(bf);
    if (bf->state == XG_BLKFRONT_CONNECTED)
        bf->sectors = sectors;
    unlock(bf, was);
}

/* Backend Connected: (re)read everything it offers, then go Connected. */
static int connect(struct xg_blkfront *bf)
{
    uint64_t sectors, info = 0, ssize = 512, indirect;
    struct done_list dl = {0};
    bool was, fl, ba, di;
    int rc;

    if ((rc = be_read_uint(bf, "sectors", &sectors)) != 0)
        return rc;
    (void)be_read_uint(bf, "info", &info);
    (void)be_read_uint(bf, "sector-size", &ssize);
    if (ssize < 512 || ssize > 65536 || (ssize & (ssize - 1)) != 0)
        return -EINVAL;
    fl = be_uint_or(bf, "feature-flush-cache", 0) != 0;
    ba = be_uint_or(bf, "feature-barrier", 0) != 0;
    di = be_uint_or(bf, "feature-discard", 0) != 0;
    indirect = be_uint_or(bf, "feature-max-indirect-segments", 0);
    if (XG_MUTATED(19) && bf->ever_connected) {
        /* what the old host's backend offered, kept */
        fl = bf->flush, ba = bf->barrier, di = bf->discard;
        indirect = bf->indirect_segs;
    }
    was = lock(bf);
    if (detach_started_locked(bf)) {
        unlock(bf, was);
        return 0;
    }
    bf->sectors = sectors;
    bf->sector_size = (uint32_t)ssize;
    bf->vdisk_info = (uint32_t)info;
    bf->cdrom = (info & VDISK_CDROM) != 0;
    bf->removable = (info & VDISK_REMOVABLE) != 0;
    bf->readonly = (info & VDISK_READONLY) != 0 || bf->cdrom;
    bf->flush = fl;
    bf->barrier = ba;
    bf->discard = di;
    bf->indirect_segs = 0;
    if (bf->cfg.use_indirect && indirect > BLKIF_MAX_SEGMENTS_PER_REQUEST)
        bf->indirect_segs =
            indirect < XG_BLKFRONT_MAX_SEGS ? (unsigned int)indirect : XG_BLKFRONT_MAX_SEGS;
    bf->st.connects++;
    bf->ever_connected = true;
    if (bf->state == XG_BLKFRONT_SUSPENDED)
        bf->saved = XG_BLKFRONT_CONNECTED; /* suspended meanwhile: the resume goes on */
    else
        set_state(bf, XG_BLKFRONT_CONNECTED);
    unlock(bf, was);
    rc = switch_fe(bf, XenbusStateConnected);
    if (!bf->media_watching) {
        char path[XG_XENBUS_PATH_MAX];
        if (xg_xenbus_join(path, sizeof(path), bf->backend, "sectors") == 0 &&
            xg_xenbus_watch(bf->xb, path, bf->tok_media, on_media, bf) == 0)
            bf->media_watching = true;
    }
    was = lock(bf);
    kick_and_deliver(bf, was, &dl);
    return rc;
}

static void fail_handshake(struct xg_blkfront *bf)
{
    struct done_list dl = {0};
    bool was = lock(bf);

    if (detach_started_locked(bf)) {
        unlock(bf, was);
        return; /* the detach completed everything and owns the state */
    }
    fail_all_locked(bf, -EIO, false, &dl);
    set_state(bf, XG_BLKFRONT_ERROR);
    unlock(bf, was);
    deliver(bf, &dl);
}

static void unwatch_backend(struct xg_blkfront *bf)
{
    char spath[XG_XENBUS_PATH_MAX];

    if (bf->watching && xg_xenbus_join(spath, sizeof(spath), bf->watched, "state") == 0)
        (void)xg_xenbus_unwatch(bf->xb, spath, bf->tok_state);
    bf->watching = false;
    if (bf->media_watching) {
        char mpath[XG_XENBUS_PATH_MAX];
        if (xg_xenbus_join(mpath, sizeof(mpath), bf->watched, "sectors") == 0)
            (void)xg_xenbus_unwatch(bf->xb, mpath, bf->tok_media);
        bf->media_watching = false;
    }
}

/* Detach finished, or the backend went away: tear down, go Closed.
 * Runs once per close: a backend state watch that fires while detach is
 * already tearing down (an upcall inside xg_evtchn_close, which holds the
 * guest's port lock) must not start a second teardown. */
static void close_down(struct xg_blkfront *bf)
{
    struct done_list dl = {0};
    bool was = lock(bf);

    if (bf->closing_down) {
        unlock(bf, was);
        return;
    }
    bf->closing_down = true;
    fail_all_locked(bf, -ENODEV, false, &dl);
    if (bf->have_port)
        (void)xg_evtchn_mask(bf->g, bf->port);
    unlock(bf, was);
    ring_teardown(bf, false);
    (void)switch_fe(bf, XenbusStateClosed);
    unwatch_backend(bf);
    was = lock(bf);
    bf->detaching = false;
    bf->closing_down = false;
    set_state(bf, XG_BLKFRONT_CLOSED);
    unlock(bf, was);
    deliver(bf, &dl);
}

/* Stop I/O (-ENODEV), mask the port, go Closing; the ring stays granted
 * until the backend lets go. -ENODEV if not attached. */
static int begin_close(struct xg_blkfront *bf)
{
    struct done_list dl = {0};
    bool was = lock(bf);

    if (!bf->attached) {
        unlock(bf, was);
        return -ENODEV;
    }
    bf->attached = false;
    bf->detaching = true;
    fail_all_locked(bf, -ENODEV, false, &dl);
    if (bf->have_port)
        (void)xg_evtchn_mask(bf->g, bf->port);
    set_state(bf, XG_BLKFRONT_CLOSED);
    unlock(bf, was);
    deliver(bf, &dl);
    (void)switch_fe(bf, XenbusStateClosing);
    return 0;
}

/* One switch per backend state change. */
static void on_backend_state(struct xg_xenbus *xb, const char *path, const char *token, void *arg)
{
    struct xg_blkfront *bf = arg;
    char spath[XG_XENBUS_PATH_MAX];
    enum xenbus_state be;
    enum xg_blkfront_state s;
    int rc = 0;

    (void)path;
    (void)token;
    if (xg_xenbus_join(spath, sizeof(spath), bf->backend, "state") != 0)
        return;
    be = xg_xenbus_read_state(xb, spath);
    s = bf->state;
    if (s == XG_BLKFRONT_SUSPENDED || s == XG_BLKFRONT_ERROR)
        return; /* suspended: the resume re-reads; error: nothing more */
    if (s == XG_BLKFRONT_CLOSED && !bf->detaching)
        return;
    switch (be) {
    case XenbusStateUnknown:
        /* The backend's nodes are gone (removed under us, or detached). */
        if (!bf->detaching && (bf->fe == XenbusStateConnected || bf->fe == XenbusStateInitialised))
            (void)begin_close(bf);
        if (bf->detaching)
            close_down(bf);
        break;
    case XenbusStateInitialising:
    case XenbusStateInitialised:
    case XenbusStateReconfiguring:
    case XenbusStateReconfigured:
        break; /* nothing for us to do */
    case XenbusStateInitWait:
        if (bf->detaching)
            close_down(bf);
        else if (bf->fe == XenbusStateInitialising)
            rc = talk_to_backend(bf);
        break;
    case XenbusStateConnected:
        if (bf->detaching)
            break;
        /* A backend that skipped InitWait: give it the ring now. */
        if (bf->fe == XenbusStateInitialising)
            rc = talk_to_backend(bf);
        if (rc == 0 && bf->fe == XenbusStateInitialised)
            rc = connect(bf);
        break;
    case XenbusStateClosing:
        /* The backend is going away: stop I/O, say Closing, and free the
         * ring only once it is Closed (it may still map the ring now). */
        if (!bf->detaching && (bf->fe == XenbusStateConnected || bf->fe == XenbusStateInitialised))
            begin_close(bf);
        break;
    case XenbusStateClosed:
        if (bf->detaching || bf->fe == XenbusStateConnected || bf->fe == XenbusStateInitialised)
            close_down(bf);
        break;
    }
    if (rc != 0)
        fail_handshake(bf);
}

/* Read backend/backend-id from our directory and watch the backend. */
static int find_backend(struct xg_blkfront *bf)
{
    char path[XG_XENBUS_PATH_MAX], buf[128];
    uint64_t id;
    int rc;

    if ((rc = xg_xenbus_join(path, sizeof(path), bf->cfg.nodename, "backend")) != 0)
        return rc;
    rc = xg_xenbus_read(bf->xb, 0, path, buf, sizeof(buf));
    if (rc <= 0)
        return rc == 0 ? -ENOENT : rc;
    if ((rc = xg_xenbus_join(path, sizeof(path), bf->cfg.nodename, "backend-id")) != 0 ||
        (rc = xg_xenbus_read_uint(bf->xb, 0, path, &id)) != 0)
        return rc;
    if (id >= DOMID_FIRST_RESERVED)
        return -EINVAL;
    memcpy(bf->backend, buf, sizeof(bf->backend));
    bf->backend_id = (domid_t)id;
    return 0;
}

static int watch_backend(struct xg_blkfront *bf)
{
    char path[XG_XENBUS_PATH_MAX];
    int rc;

    unwatch_backend(bf);
    if ((rc = xg_xenbus_join(path, sizeof(path), bf->backend, "state")) != 0)
        return rc;
    memcpy(bf->watched, bf->backend, sizeof(bf->watched));
    bf->watching = true;
    /* Fires once at once: that drives the handshake from where the
     * backend already is. */
    rc = xg_xenbus_watch(bf->xb, path, bf->tok_state, on_backend_state, bf);
    if (rc != 0)
        bf->watching = false;
    return rc;
}

/* ---- public API ---- */

const char *xg_blkfront_state_name(enum xg_blkfront_state s)
{
    static const char *const names[] = {"closed", "connecting", "connected", "suspended", "error"};

    return (unsigned int)s < sizeof(names) / sizeof(names[0]) ? names[s] : "invalid";
}

void xg_blkfront_config_init(struct xg_blkfront_config *cfg, uint32_t devid)
{
    memset(cfg, 0, sizeof(*cfg));
    memcpy(cfg->nodename, "device/vbd/", 11);
    utoa(cfg->nodename + 11, sizeof(cfg->nodename) - 11, devid);
    cfg->ring_pages = 1;
    cfg->use_indirect = true;
    cfg->max_queued = DEFAULT_QUEUED;
}

int xg_blkfront_init(struct xg_blkfront *bf, struct xg_guest *g, struct xg_xenbus *xb,
                     struct xg_gnttab *gt, const struct xg_blkfront_config *cfg)
{
    size_t n;
    const char *last;
    uint32_t devid = 0;

    if (bf == NULL || g == NULL || xb == NULL || gt == NULL || cfg == NULL)
        return -EINVAL;
    n = slen(cfg->nodename, sizeof(cfg->nodename));
    if (n == 0 || n >= sizeof(cfg->nodename) || cfg->ring_pages > XG_BLKFRONT_MAX_RING_PAGES)
        return -EINVAL;
    last = cfg->nodename;
    for (size_t i = 0; i < n; i++) {
        if (cfg->nodename[i] == '/')
            last = cfg->nodename + i + 1;
    }
    for (; *last != '\0'; last++) {
        if (*last < '0' || *last > '9' || devid > 0xffffff)
            return -EINVAL;
        devid = devid * 10 + (uint32_t)(*last - '0');
    }
    memset(bf, 0, sizeof(*bf));
    bf->g = g;
    bf->p = g->p;
    bf->xb = xb;
    bf->gt = gt;
    bf->cfg = *cfg;
    if (bf->cfg.max_queued == 0)
        bf->cfg.max_queued = DEFAULT_QUEUED;
    bf->devid = devid;
    memcpy(bf->tok_state, "bfs", 3);
    utoa(bf->tok_state + 3, sizeof(bf->tok_state) - 3, devid);
    memcpy(bf->tok_media, "bfm", 3);
    utoa(bf->tok_media + 3, sizeof(bf->tok_media) - 3, devid);
    bf->state = XG_BLKFRONT_CLOSED;
    bf->fe = XenbusStateClosed;
    return 0;
}

int xg_blkfront_attach(struct xg_blkfront *bf)
{
    bool was;
    int rc;

    was = lock(bf);
    /* Detaching: the old backend has not let go of the ring yet. */
    if (bf->attached || bf->detaching || bf->state != XG_BLKFRONT_CLOSED) {
        unlock(bf, was);
        return -EBUSY;
    }
    bf->attached = true;
    set_state(bf, XG_BLKFRONT_CONNECTING);
    unlock(bf, was);
    rc = find_backend(bf);
    if (rc == 0)
        rc = switch_fe(bf, XenbusStateInitialising);
    if (rc == 0)
        rc = watch_backend(bf);
    if (rc != 0) {
        was = lock(bf);
        bf->attached = false;
        set_state(bf, XG_BLKFRONT_CLOSED);
        unlock(bf, was);
    }
    return rc;
}

int xg_blkfront_detach(struct xg_blkfront *bf)
{
    enum xenbus_state be = XenbusStateUnknown;
    char spath[XG_XENBUS_PATH_MAX];

    if (begin_close(bf) != 0)
        return -ENODEV;
    /* A backend that has nothing of ours (or is gone) lets us finish now;
     * otherwise its Closed (or InitWait, ready for the next frontend)
     * does, through the watch. */
    if (xg_xenbus_join(spath, sizeof(spath), bf->backend, "state") == 0)
        be = xg_xenbus_read_state(bf->xb, spath);
    if (!bf->ring_granted || be == XenbusStateUnknown || be == XenbusStateInitialising ||
        be == XenbusStateInitWait || be == XenbusStateClosed) {
        if (bf->detaching)
            close_down(bf);
    }
    return 0;
}

enum xg_blkfront_state xg_blkfront_state(const struct xg_blkfront *bf)
{
    return bf->state;
}

const volatile uint32_t *xg_blkfront_state_seq(const struct xg_blkfront *bf)
{
    return &bf->seq;
}

static unsigned int max_segs(const struct xg_blkfront *bf)
{
    return bf->indirect_segs > BLKIF_MAX_SEGMENTS_PER_REQUEST ? bf->indirect_segs
                                                              : BLKIF_MAX_SEGMENTS_PER_REQUEST;
}

/* The largest io that fits whatever its alignment: the first sector may
 * sit at the end of a page. */
static uint32_t max_sectors(const struct xg_blkfront *bf)
{
    return (max_segs(bf) - 1) * SECTS_PER_PAGE + 1;
}

/* The getters' lock: none once every CPU stopped for good (one may have
 * stopped holding it; xg_guest_stopped). */
static bool get_lock(struct xg_blkfront *bf, bool *locked)
{
    *locked = !bf->g->stopped;
    return *locked ? lock(bf) : false;
}

static void get_unlock(struct xg_blkfront *bf, bool locked, bool was)
{
    if (locked)
        unlock(bf, was);
}

int xg_blkfront_get_info(const struct xg_blkfront *bf, struct xg_blkfront_info *out)
{
    struct xg_blkfront *m = (struct xg_blkfront *)bf;
    bool was, locked;

    if (!bf->ever_connected)
        return -ENODEV;
    was = get_lock(m, &locked);
    memset(out, 0, sizeof(*out));
    out->sectors = bf->sectors;
    out->sector_size = bf->sector_size;
    out->vdisk_info = bf->vdisk_info;
    out->cdrom = bf->cdrom;
    out->readonly = bf->readonly;
    out->removable = bf->removable;
    out->flush = bf->flush;
    out->barrier = bf->barrier;
    out->discard = bf->discard;
    out->indirect_segs = bf->indirect_segs;
    out->ring_pages = bf->ring_pages;
    out->ring_slots = bf->ring.nr_ents;
    out->max_sectors = max_sectors(bf);
    out->backend_id = bf->backend_id;
    memcpy(out->backend, bf->backend, sizeof(out->backend));
    get_unlock(m, locked, was);
    return 0;
}

void xg_blkfront_get_stats(const struct xg_blkfront *bf, struct xg_blkfront_stats *out)
{
    struct xg_blkfront *m = (struct xg_blkfront *)bf;
    bool locked, was = get_lock(m, &locked);

    *out = bf->st;
    out->queued = bf->nhold;
    get_unlock(m, locked, was);
}

/* Checks that need the device's geometry: 0, or the status to complete
 * with at once (positive: a submit error to return). */
static int check_io(struct xg_blkfront *bf, const struct xg_blk_io *io, int *now)
{
    uint32_t spb = bf->sector_size / SECT;
    bool rw = io->op == XG_BLK_READ || io->op == XG_BLK_WRITE ||
              (io->op == XG_BLK_WRITE_BARRIER && io->nsectors > 0);

    *now = 0;
    if (!bf->ever_connected)
        return 0; /* checked once the device is known */
    if (io->op == XG_BLK_DISCARD || rw) {
        if (spb > 1 && (io->sector % spb != 0 || io->nsectors % spb != 0))
            return -EINVAL;
        if (io->sector > bf->sectors || io->nsectors > bf->sectors - io->sector) {
            if (bf->sectors != 0 || !bf->removable)
                return -EINVAL;
        }
    }
    if (rw && io->nsectors > max_sectors(bf))
        return -E2BIG;
    if (bf->readonly &&
        (io->op == XG_BLK_WRITE || io->op == XG_BLK_WRITE_BARRIER || io->op == XG_BLK_DISCARD))
        *now = -EROFS;
    else if (bf->removable && bf->sectors == 0 && io->op != XG_BLK_FLUSH)
        *now = -ENOMEDIUM;
    return 0;
}

int xg_blkfront_submit(struct xg_blkfront *bf, struct xg_blk_io *io)
{
    struct done_list dl = {0};
    bool was;
    int rc, now;

    if (bf == NULL || io == NULL || io->done == NULL || (unsigned int)io->op > XG_BLK_DISCARD)
        return -EINVAL;
    if (io->op == XG_BLK_READ || io->op == XG_BLK_WRITE) {
        if (io->nsectors == 0 || io->buf == NULL || ((uintptr_t)io->buf & (SECT - 1)) != 0)
            return -EINVAL;
    } else if (io->op == XG_BLK_WRITE_BARRIER && io->nsectors > 0) {
        if (io->buf == NULL || ((uintptr_t)io->buf & (SECT - 1)) != 0)
            return -EINVAL;
    } else if (io->op == XG_BLK_DISCARD && io->nsectors == 0) {
        return -EINVAL;
    }
    was = lock(bf);
    switch (bf->state) {
    case XG_BLKFRONT_ERROR:
        unlock(bf, was);
        return -EIO;
    case XG_BLKFRONT_CLOSED:
        unlock(bf, was);
        return -ENODEV;
    case XG_BLKFRONT_CONNECTING:
    case XG_BLKFRONT_SUSPENDED:
    case XG_BLKFRONT_CONNECTED:
        break;
    }
    rc = check_io(bf, io, &now);
    if (rc != 0) {
        unlock(bf, was);
        return rc;
    }
    if (io->queue != BQ_NONE) {
        unlock(bf, was);
        return -EINVAL; /* already submitted */
    }
    io->tries = STEP_FIRST;
    io->next = NULL;
    if (now != 0) {
        bf->st.submitted++;
        done_add(bf, &dl, io, now);
        unlock(bf, was);
        deliver(bf, &dl);
        return 0;
    }
    if (bf->nhold >= bf->cfg.max_queued) {
        unlock(bf, was);
        return -ENOSPC;
    }
    bf->st.submitted++;
    io->seq = 0;
    hold_push(bf, io, false);
    kick_and_deliver(bf, was, &dl);
    return 0;
}

int xg_blkfront_suspend(struct xg_blkfront *bf)
{
    bool was = lock(bf);

    if (bf->state != XG_BLKFRONT_CONNECTED && bf->state != XG_BLKFRONT_CONNECTING) {
        unlock(bf, was);
        /* A closed or broken device has nothing to keep: it must not make
         * the whole suspend fail. */
        return bf->state == XG_BLKFRONT_SUSPENDED ? -EALREADY : 0;
    }
    bf->saved = bf->state;
    set_state(bf, XG_BLKFRONT_SUSPENDED);
    unlock(bf, was);
    return 0;
}

/* In-flight requests go back to the front of the hold queue, oldest
 * first, their grants forgotten (the new host's table is empty). */
static void requeue_in_flight_locked(struct xg_blkfront *bf)
{
    for (;;) {
        struct shadow *newest = NULL;
        for (unsigned int i = 0; i < XG_BLKFRONT_MAX_RING_SLOTS; i++) {
            struct shadow *sh = &bf->shadow[i];
            if (sh->in_use && (newest == NULL ||
                               (XG_MUTATED(17) ? sh->seq < newest->seq : sh->seq > newest->seq)))
                newest = sh;
        }
        if (newest == NULL)
            break;
        struct xg_blk_io *io = newest->io;
        XG_BUG_ON(bf->p, io == NULL || io->queue != BQ_RING);
        end_grants(bf, newest, true, NULL);
        slot_release(bf, newest);
        io->queue = BQ_NONE;
        io->tries = STEP_FIRST; /* flush/discard/barrier whole */
        io->seq = 0;            /* ahead of all, oldest first: nothing is in flight now */
        hold_push(bf, io, true);
        bf->st.requeued++;
    }
    bf->solo = false;
}

int xg_blkfront_resume(struct xg_blkfront *bf, bool new_host)
{
    struct done_list dl = {0};
    bool was = lock(bf);
    int rc;

    if (bf->state != XG_BLKFRONT_SUSPENDED) {
        unlock(bf, was);
        return bf->state == XG_BLKFRONT_CLOSED || bf->state == XG_BLKFRONT_ERROR ? 0 : -EINVAL;
    }
    if (!new_host) {
        XG_BUG_ON(bf->p, bf->saved != XG_BLKFRONT_CONNECTED && bf->saved != XG_BLKFRONT_CONNECTING);
        set_state(bf, bf->saved);
        bool notify = bf->state == XG_BLKFRONT_CONNECTED;
        evtchn_port_t port = bf->port;
        bool have = bf->have_port;
        kick_locked(bf, &dl, &notify);
        unlock(bf, was);
        /* The backend may have missed an event while we were away. */
        if (notify && have)
            (void)xg_evtchn_notify(bf->g, port);
        deliver(bf, &dl);
        return 0;
    }
    requeue_in_flight_locked(bf);
    for (unsigned int i = 0; i < XG_BLKFRONT_MAX_RING_SLOTS; i++)
        bf->shadow[i].ngrants = bf->shadow[i].nind = 0;
    set_state(bf, XG_BLKFRONT_CONNECTING);
    unlock(bf, was);
    ring_teardown(bf, true);
    rc = find_backend(bf);
    if (rc == 0)
        rc = switch_fe(bf, XenbusStateInitialising);
    if (rc == 0)
        rc = watch_backend(bf);
    if (rc != 0)
        fail_handshake(bf);
    return rc;
}
