/*
 * rawback.c - see rawback.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rawback.h"
#include "xensim/abi/xenbus.h"
#include "xensim/abi/xs_wire.h"
#include "xensim/gnttab.h"

#define POLL_NS 20000
#define KIND_RB 0x52415742 /* RAWB */
#define SECT    512u
#define PAGE    4096u

uint8_t rb_pattern(uint64_t byte)
{
    return (uint8_t)(byte * 7 + (byte >> 9) + 3);
}

void rb_config_init(struct rb_config *c)
{
    memset(c, 0, sizeof(*c));
    c->devid = 51712;
    c->flush = c->barrier = c->discard = true;
    c->max_indirect = 256;
    c->max_order = 4;
    c->sectors = 8192; /* 4 MiB */
    c->sector_size = 512;
    c->latency_ns = 5000;
}

static void xsw(struct rb *b, const char *dir, const char *node, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void xsw(struct rb *b, const char *dir, const char *node, const char *fmt, ...)
{
    char path[256], val[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(val, sizeof(val), fmt, ap);
    va_end(ap);
    if (node != NULL)
        snprintf(path, sizeof(path), "%s/%s", dir, node);
    else
        snprintf(path, sizeof(path), "%s", dir);
    (void)xsim_xshost_write(b->t->xs, path, val);
}

static int xsr_uint(struct rb *b, const char *dir, const char *node, uint64_t *v)
{
    char path[256], val[64];
    char *end;

    snprintf(path, sizeof(path), "%s/%s", dir, node);
    if (xsim_xshost_read(b->t->xs, path, val, sizeof(val)) != 0)
        return -ENOENT;
    *v = strtoull(val, &end, 10);
    return end == val ? -EINVAL : 0;
}

static void set_perms(struct rb *b, const char *path, const char *p1, const char *p2)
{
    char buf[512];
    size_t lp = strlen(path), l1 = strlen(p1), l2 = strlen(p2);

    memcpy(buf, path, lp + 1);
    memcpy(buf + lp + 1, p1, l1 + 1);
    memcpy(buf + lp + 1 + l1 + 1, p2, l2 + 1);
    (void)xsim_xshost_request(b->t->xs, XS_SET_PERMS, buf, (uint32_t)(lp + l1 + l2 + 3), NULL, 0);
}

static void write_features(struct rb *b)
{
    const struct rb_config *c = &b->cfg;

    xsw(b, b->be_path, "feature-flush-cache", "%d", c->flush);
    xsw(b, b->be_path, "feature-barrier", "%d", c->barrier);
    xsw(b, b->be_path, "feature-discard", "%d", c->discard);
    if (c->discard) {
        xsw(b, b->be_path, "discard-granularity", "4096");
        xsw(b, b->be_path, "discard-alignment", "0");
    }
    if (c->max_indirect)
        xsw(b, b->be_path, "feature-max-indirect-segments", "%u", c->max_indirect);
    xsw(b, b->be_path, "max-ring-page-order", "%u", c->max_order);
}

static void write_connected(struct rb *b)
{
    unsigned int info =
        (b->cfg.cdrom ? VDISK_CDROM | VDISK_REMOVABLE : 0) | (b->cfg.readonly ? VDISK_READONLY : 0);

    xsw(b, b->be_path, "sectors", "%llu", (unsigned long long)b->cfg.sectors);
    xsw(b, b->be_path, "info", "%u", info);
    xsw(b, b->be_path, "sector-size", "%u", b->cfg.sector_size);
    xsw(b, b->be_path, "state", "4");
}

static void write_nodes(struct rb *b)
{
    snprintf(b->fe_path, sizeof(b->fe_path), "/local/domain/%u/device/vbd/%u", TH_GUEST_DOMID,
             b->cfg.devid);
    snprintf(b->be_path, sizeof(b->be_path), "/local/domain/0/backend/vbd%s/%u/%u",
             b->generation ? "2" : "", TH_GUEST_DOMID, b->cfg.devid);
    xsw(b, b->be_path, NULL, "%s", "");
    set_perms(b, b->be_path, "n0", "r1");
    xsw(b, b->be_path, "frontend", "%s", b->fe_path);
    xsw(b, b->be_path, "state", "1");
    xsw(b, b->fe_path, NULL, "%s", "");
    set_perms(b, b->fe_path, "n1", "r0");
    xsw(b, b->fe_path, "backend", "%s", b->be_path);
    xsw(b, b->fe_path, "backend-id", "0");
    xsw(b, b->fe_path, "virtual-device", "%u", b->cfg.devid);
    xsw(b, b->fe_path, "device-type", "%s", b->cfg.cdrom ? "cdrom" : "disk");
    xsw(b, b->fe_path, "state", "1");
    if (b->cfg.connected_at_start) {
        write_features(b);
        write_connected(b);
    }
}

static void serve(struct xsim_world *w, void *arg);

static void kick(struct rb *b)
{
    if (b->work_ev == 0 && b->connected && !b->stall)
        b->work_ev = xsim_event_schedule(b->t->w, xsim_world_now(b->t->w) + b->cfg.latency_ns,
                                         KIND_RB + 1, serve, b);
}

static void on_notify(void *arg, domid_t domid, evtchn_port_t port)
{
    struct rb *b = arg;

    (void)domid;
    (void)port;
    b->notifies++;
    kick(b);
}

static void disconnect(struct rb *b)
{
    if (!b->connected)
        return;
    for (unsigned int i = 0; i < b->npages; i++)
        (void)xsim_gnttab_unmap(b->t->hv, 0, TH_GUEST_DOMID, b->refs[i], false);
    xsim_hv_set_port_notify(b->t->hv, 0, b->port, NULL, NULL);
    (void)xsim_hv_evtchn_close(b->t->hv, 0, b->port);
    b->connected = false;
    b->npages = 0;
}

/* Map the ring the frontend wrote and bind its port. */
static int do_connect(struct rb *b)
{
    uint64_t order = 0, ref, port;
    void *first = NULL;

    if (xsr_uint(b, b->fe_path, "ring-page-order", &order) != 0)
        order = 0;
    if (order > b->cfg.max_order)
        return -EINVAL;
    b->npages = 0;
    for (unsigned int i = 0; i < (1u << order); i++) {
        char node[32];
        void *page;
        if (order == 0)
            snprintf(node, sizeof(node), "ring-ref");
        else
            snprintf(node, sizeof(node), "ring-ref%u", i);
        if (xsr_uint(b, b->fe_path, node, &ref) != 0)
            return -ENOENT;
        if (xsim_gnttab_map(b->t->hv, 0, TH_GUEST_DOMID, (grant_ref_t)ref, false, &page) != 0)
            return -EPERM;
        b->refs[b->npages++] = (grant_ref_t)ref;
        if (i == 0)
            first = page;
        else if (page != (uint8_t *)first + i * PAGE)
            return -EFAULT; /* the frontend's ring pages are contiguous guest RAM */
    }
    if (xsr_uint(b, b->fe_path, "event-channel", &port) != 0)
        return -ENOENT;
    if (xsim_hv_evtchn_bind_interdomain(b->t->hv, 0, TH_GUEST_DOMID, (evtchn_port_t)port,
                                        &b->port) != 0)
        return -EINVAL;
    xsim_hv_set_port_notify(b->t->hv, 0, b->port, on_notify, b);
    b->ring_va = first;
    BACK_RING_INIT(&b->ring, (blkif_sring_t *)first, (size_t)b->npages * PAGE);
    b->connected = true;
    return 0;
}

static void poll(struct xsim_world *w, void *arg)
{
    struct rb *b = arg;
    uint64_t fe = 0;

    if (b->stopped)
        return;
    (void)xsr_uint(b, b->fe_path, "state", &fe);
    switch (b->phase) {
    case 0: /* Initialising */
        if (b->cfg.connected_at_start) {
            b->phase = 2;
            break;
        }
        write_features(b);
        if (b->cfg.skip_initwait) {
            write_connected(b);
            b->phase = 2;
        } else {
            xsw(b, b->be_path, "state", "2");
            b->phase = 1;
        }
        break;
    case 1: /* InitWait */
    case 2: /* Connected before the frontend's ring */
        if (fe == XenbusStateInitialised || fe == XenbusStateConnected) {
            if (do_connect(b) != 0) {
                disconnect(b);
                xsw(b, b->be_path, "state", "6");
                b->phase = 4;
                break;
            }
            if (b->phase == 1)
                write_connected(b);
            b->phase = 3;
            kick(b);
        }
        break;
    case 3: /* Connected */
        if (fe == XenbusStateClosing || fe == XenbusStateClosed) {
            disconnect(b);
            xsw(b, b->be_path, "state", "6");
            b->phase = 4;
        }
        break;
    default:
        break;
    }
    (void)xsim_event_schedule(w, xsim_world_now(w) + POLL_NS, KIND_RB, poll, b);
}

static int copy_seg(struct rb *b, bool read, const struct blkif_request_segment *s, uint64_t *byte)
{
    uint32_t off, len;

    if (s->first_sect > s->last_sect || s->last_sect > 7)
        return -EINVAL;
    if (b->snoop) {
        /* A curious backend reads the whole page it was granted. */
        static uint8_t page[PAGE];
        if (xsim_gnttab_copy(b->t->hv, 0, TH_GUEST_DOMID, s->gref, false, 0, page, PAGE) == 0 &&
            memmem(page, PAGE, "SECRET!", 7) != NULL)
            b->secrets_seen++;
    }
    off = s->first_sect * SECT;
    len = (uint32_t)(s->last_sect - s->first_sect + 1) * SECT;
    if (*byte + len > b->cfg.sectors * SECT)
        return -EINVAL;
    /* READ: disk -> frame; WRITE: frame -> disk. */
    if (xsim_gnttab_copy(b->t->hv, 0, TH_GUEST_DOMID, s->gref, read, off, b->disk + *byte, len) !=
        0)
        return -EPERM;
    *byte += len;
    return 0;
}

static int16_t do_rw(struct rb *b, bool read, uint64_t sector,
                     const struct blkif_request_segment *segs, unsigned int n)
{
    uint64_t byte = sector * SECT;

    if (b->cfg.readonly && !read)
        return BLKIF_RSP_ERROR;
    for (unsigned int i = 0; i < n; i++) {
        if (copy_seg(b, read, &segs[i], &byte) != 0) {
            b->bad_requests++;
            return BLKIF_RSP_ERROR;
        }
    }
    return BLKIF_RSP_OKAY;
}

static int16_t handle(struct rb *b, const blkif_request_t *req, struct rb_log *lg)
{
    static struct blkif_request_segment isegs[XG_BLKIF_MAX_INDIRECT_SEGMENTS];

    lg->op = req->operation;
    lg->sector = req->sector_number;
    lg->nsegs = req->nr_segments;
    switch (req->operation) {
    case BLKIF_OP_READ:
    case BLKIF_OP_WRITE:
        if (req->nr_segments == 0 || req->nr_segments > BLKIF_MAX_SEGMENTS_PER_REQUEST)
            return BLKIF_RSP_ERROR;
        return do_rw(b, req->operation == BLKIF_OP_READ, req->sector_number, req->seg,
                     req->nr_segments);
    case BLKIF_OP_WRITE_BARRIER:
        if (b->cfg.refuse_barrier)
            return BLKIF_RSP_EOPNOTSUPP;
        if (req->nr_segments > BLKIF_MAX_SEGMENTS_PER_REQUEST)
            return BLKIF_RSP_ERROR;
        return do_rw(b, false, req->sector_number, req->seg, req->nr_segments);
    case BLKIF_OP_FLUSH_DISKCACHE:
        return b->cfg.refuse_flush ? BLKIF_RSP_EOPNOTSUPP : BLKIF_RSP_OKAY;
    case BLKIF_OP_DISCARD: {
        const blkif_request_discard_t *d = (const blkif_request_discard_t *)req;
        if (b->cfg.refuse_discard)
            return BLKIF_RSP_EOPNOTSUPP;
        if (d->sector_number + d->nr_sectors > b->cfg.sectors)
            return BLKIF_RSP_ERROR;
        memset(b->disk + d->sector_number * SECT, 0, d->nr_sectors * SECT);
        return BLKIF_RSP_OKAY;
    }
    case BLKIF_OP_INDIRECT: {
        const blkif_request_indirect_t *ind = (const blkif_request_indirect_t *)req;
        unsigned int n = ind->nr_segments;
        lg->sub_op = ind->indirect_op;
        lg->sector = ind->sector_number;
        lg->nsegs = (uint8_t)(n > 255 ? 255 : n);
        if (n <= BLKIF_MAX_SEGMENTS_PER_REQUEST || n > b->cfg.max_indirect ||
            n > XG_BLKIF_MAX_INDIRECT_SEGMENTS)
            return BLKIF_RSP_ERROR;
        for (unsigned int p = 0; p * XG_BLKIF_SEGS_PER_INDIRECT_PAGE < n; p++) {
            unsigned int cnt = n - p * XG_BLKIF_SEGS_PER_INDIRECT_PAGE;
            if (cnt > XG_BLKIF_SEGS_PER_INDIRECT_PAGE)
                cnt = XG_BLKIF_SEGS_PER_INDIRECT_PAGE;
            if (xsim_gnttab_copy(b->t->hv, 0, TH_GUEST_DOMID, ind->indirect_grefs[p], false, 0,
                                 &isegs[p * XG_BLKIF_SEGS_PER_INDIRECT_PAGE],
                                 cnt * (uint32_t)sizeof(isegs[0])) != 0)
                return BLKIF_RSP_ERROR;
        }
        return do_rw(b, ind->indirect_op == BLKIF_OP_READ, ind->sector_number, isegs, n);
    }
    default:
        return BLKIF_RSP_ERROR;
    }
}

static void put_rsp(struct rb *b, uint64_t id, uint8_t op, int16_t status)
{
    blkif_response_t *r = RING_GET_RESPONSE(&b->ring, b->ring.rsp_prod_pvt);

    r->id = id;
    r->operation = op;
    r->status = status;
    b->ring.rsp_prod_pvt++;
    b->responses++;
}

static void serve(struct xsim_world *w, void *arg)
{
    struct rb *b = arg;
    bool more = true;

    (void)w;
    b->work_ev = 0;
    if (!b->connected || b->stall)
        return;
    while (more) {
        RING_IDX rp = __atomic_load_n(&b->ring.sring->req_prod, __ATOMIC_ACQUIRE);
        if ((RING_IDX)(rp - b->ring.req_cons) > RING_SIZE(&b->ring)) {
            b->bad_requests++;
            return;
        }
        while (b->ring.req_cons != rp) {
            blkif_request_t req;
            struct rb_log lg = {0};
            uint64_t id;
            uint8_t op;
            memcpy(&req, (const void *)RING_GET_REQUEST(&b->ring, b->ring.req_cons), sizeof(req));
            b->ring.req_cons++;
            lg.status = handle(b, &req, &lg);
            if (b->nlog < RB_LOG_MAX)
                b->log[b->nlog++] = lg;
            id = req.id;
            op = req.operation;
            /* A duplicate needs an id answered before that is not this one. */
            if (b->evil != RB_GOOD && !b->evil_done && b->responses >= b->evil_after &&
                (b->evil != RB_DUP || id != b->last_id)) {
                b->evil_done = true;
                switch (b->evil) {
                case RB_BAD_ID:
                    id = 100000;
                    break;
                case RB_DUP:
                    id = b->last_id; /* an id already answered and completed */
                    break;
                case RB_WRONG_OP:
                    op = op == BLKIF_OP_READ ? BLKIF_OP_WRITE : BLKIF_OP_READ;
                    break;
                case RB_PROD_AHEAD:
                    b->ring.rsp_prod_pvt += 1000;
                    break;
                default:
                    break;
                }
            }
            put_rsp(b, id, op, lg.status);
            b->last_id = req.id;
            if (b->cfg.one_at_a_time) {
                /* Answered alone; the rest wait for the next service. */
                __atomic_store_n(&b->ring.sring->rsp_prod, b->ring.rsp_prod_pvt, __ATOMIC_RELEASE);
                (void)xsim_hv_evtchn_send(b->t->hv, 0, b->port);
                __atomic_store_n(&b->ring.sring->req_event, b->ring.req_cons + 1, __ATOMIC_SEQ_CST);
                if (__atomic_load_n(&b->ring.sring->req_prod, __ATOMIC_SEQ_CST) != b->ring.req_cons)
                    kick(b);
                return;
            }
        }
        __atomic_store_n(&b->ring.sring->rsp_prod, b->ring.rsp_prod_pvt, __ATOMIC_RELEASE);
        /* Ask for the next request's event, then look once more. */
        __atomic_store_n(&b->ring.sring->req_event, b->ring.req_cons + 1, __ATOMIC_SEQ_CST);
        more = __atomic_load_n(&b->ring.sring->req_prod, __ATOMIC_SEQ_CST) != b->ring.req_cons;
    }
    (void)xsim_hv_evtchn_send(b->t->hv, 0, b->port);
}

/* The pattern is the same for every disk: compute it once (a byte at a
 * time it dominated a fuzzer's execution) and copy it. Tests create disks
 * from one thread, so the cache needs no lock. */
static int fill_pattern(uint8_t *disk, size_t len)
{
    static uint8_t *cache;
    static size_t cached;

    if (len > cached) {
        uint8_t *c = realloc(cache, len);
        if (c == NULL)
            return -ENOMEM;
        for (size_t i = cached; i < len; i++)
            c[i] = rb_pattern(i);
        cache = c;
        cached = len;
    }
    memcpy(disk, cache, len);
    return 0;
}

int rb_create(struct rb *b, struct th *t, const struct rb_config *cfg)
{
    memset(b, 0, sizeof(*b));
    b->t = t;
    b->cfg = *cfg;
    b->disk = malloc(cfg->sectors * SECT);
    if (b->disk == NULL || fill_pattern(b->disk, cfg->sectors * SECT) != 0)
        return -ENOMEM;
    write_nodes(b);
    return xsim_event_schedule(t->w, 0, KIND_RB, poll, b) != 0 ? 0 : -ENOMEM;
}

void rb_destroy(struct rb *b)
{
    free(b->disk);
    b->disk = NULL;
}

void rb_stop(struct rb *b)
{
    b->stopped = true;
}

void rb_release(struct rb *b)
{
    b->stall = false;
    kick(b);
}

static void spurious_one(struct xsim_world *w, void *arg)
{
    struct rb *b = arg;

    (void)w;
    if (b->connected)
        (void)xsim_hv_evtchn_send(b->t->hv, 0, b->port);
}

void rb_spurious(struct rb *b, unsigned int n)
{
    for (unsigned int i = 0; i < n; i++)
        (void)xsim_event_schedule(b->t->w, xsim_world_now(b->t->w) + 10000 * (i + 1), KIND_RB + 2,
                                  spurious_one, b);
}

void rb_set_sectors(struct rb *b, uint64_t sectors)
{
    b->cfg.sectors = sectors;
    xsw(b, b->be_path, "sectors", "%llu", (unsigned long long)sectors);
}

void rb_migrate(struct rb *b, const struct rb_config *cfg)
{
    uint8_t *disk = b->disk;
    uint64_t sectors = b->cfg.sectors;

    /* The old host's backend goes away with what it had not answered. */
    disconnect(b);
    if (b->work_ev != 0)
        xsim_event_cancel(b->t->w, b->work_ev);
    b->work_ev = 0;
    b->stall = false;
    b->cfg = *cfg;
    b->cfg.sectors = sectors; /* the same disk, copied */
    b->disk = disk;
    b->generation++;
    b->phase = 0;
    write_nodes(b);
}

void rb_close(struct rb *b)
{
    xsw(b, b->be_path, "state", "5");
}
