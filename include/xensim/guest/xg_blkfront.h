/*
 * xg_blkfront.h - the guest's PV block frontend (blkif over a shared ring
 * of 1 to 16 pages, grants, one event channel), written to survive a
 * malicious or buggy backend.
 *
 * Lifecycle: xg_blkfront_init() (nothing touches the store yet) ->
 * xg_blkfront_attach() starts the xenbus handshake, driven from then on by
 * watch callbacks on the backend's state (a state machine: one switch per
 * backend state change, tolerant of backends that skip states) ->
 * xg_blkfront_state() reaches XG_BLKFRONT_CONNECTED -> I/O with
 * xg_blkfront_submit() -> xg_blkfront_detach().
 *
 * I/O: the caller owns each struct xg_blk_io until its done callback runs
 * (from the event upcall, or from submit's caller context for a request
 * that fails at once: then submit returns 0 and the callback has run).
 * A failed submit (negative return) never calls the callback. Requests are
 * built in a private shadow and copied to the ring in one go; each
 * response is read once and checked (id in range and in flight, operation
 * matching, rsp_prod not ahead of what was produced). Any violation puts
 * the device in XG_BLKFRONT_ERROR: in-flight and queued requests complete
 * with -EIO, the port stays masked, nothing crashes.
 *
 * Features are those the backend wrote: WRITE_BARRIER, FLUSH_DISKCACHE,
 * DISCARD, indirect segments, multi-page rings. A barrier or flush the
 * backend answers with EOPNOTSUPP is not failed: the frontend turns the
 * feature off and falls back (barrier -> drain what is in flight,
 * single-step the write, then flush if available; flush -> zero-segment
 * barrier). Only a request with no fallback left (a flush with neither
 * flush nor barrier) completes with -EOPNOTSUPP, so the caller knows
 * durability is not promised. A DISCARD answered EOPNOTSUPP fails with
 * -EOPNOTSUPP and turns discard off.
 *
 * Suspend/resume: xg_blkfront_suspend() stops issuing and keeps requests;
 * xg_blkfront_resume(new_host = false) carries on with the same ring;
 * new_host = true forgets the old ring and grants (the new host's grant
 * table starts empty), re-handshakes from Initialising with the backend
 * the store now names, re-reads its features (which may differ), and
 * requeues every request that was in flight (flush/discard whole).
 */
#ifndef XENSIM_GUEST_XG_BLKFRONT_H
#define XENSIM_GUEST_XG_BLKFRONT_H

#include "xensim/abi/blkif.h"
#include "xensim/guest/xg.h"
#include "xensim/guest/xg_gnttab.h"
#include "xensim/guest/xg_xenbus.h"

#define XG_BLKFRONT_MAX_RING_PAGES 16
#define XG_BLKFRONT_MAX_RING_SLOTS 512  /* __CONST_RING_SIZE(blkif, 16 pages) */
#define XG_BLKFRONT_MAX_SEGS       256  /* indirect segments we use at most */
#define XG_BLKFRONT_MAX_BOUNCE     4096 /* bounce pages at most (cfg.bounce) */

struct xg_blkfront;
struct xg_blk_io;

enum xg_blk_op {
    XG_BLK_READ = 0,
    XG_BLK_WRITE,
    XG_BLK_WRITE_BARRIER, /* a write ordered after every earlier one (nsectors 0: pure barrier) */
    XG_BLK_FLUSH,         /* make completed writes durable */
    XG_BLK_DISCARD,
};

typedef void (*xg_blk_done_fn)(struct xg_blkfront *bf, struct xg_blk_io *io, int status);

/* One I/O. Fill op, sector, nsectors, buf (guest RAM, 512-byte aligned,
 * nsectors * 512 bytes; each 4 KiB chunk is translated with virt_to_gfn),
 * done, arg. The rest is the frontend's. status: 0, -EIO, -EOPNOTSUPP,
 * -EROFS, -ENOMEDIUM, -ENODEV (detached). */
struct xg_blk_io {
    enum xg_blk_op op;
    uint64_t sector;
    uint32_t nsectors;
    void *buf;
    xg_blk_done_fn done;
    void *arg;
    /* frontend-private */
    struct xg_blk_io *next;
    uint32_t queue; /* which queue it is on (checked on every move) */
    uint32_t slot;  /* shadow slot while in flight */
    uint32_t tries;
    uint64_t seq; /* on the hold queue: 1 + the issue order of the attempt the
                     backend sent back; 0 if never issued. In the done
                     callback: the order in which this device completed it
                     (1, 2, ...), decided under its lock - the callbacks
                     themselves may run in another order, from different
                     contexts, as on any driver completing on several CPUs */
};

enum xg_blkfront_state {
    XG_BLKFRONT_CLOSED = 0, /* initialised, not attached */
    XG_BLKFRONT_CONNECTING, /* handshake in progress */
    XG_BLKFRONT_CONNECTED,  /* I/O flows */
    XG_BLKFRONT_SUSPENDED,  /* xg_blkfront_suspend: requests are held */
    XG_BLKFRONT_ERROR,      /* the backend broke the protocol, or the handshake failed */
};
const char *xg_blkfront_state_name(enum xg_blkfront_state s);

struct xg_blkfront_config {
    char nodename[64];       /* frontend directory, e.g. "device/vbd/51712" */
    unsigned int ring_pages; /* wanted (1..16), limited by max-ring-page-order; 0 = 1 */
    bool use_indirect;       /* use indirect segments when offered */
    unsigned int max_queued; /* requests held beyond the ring; 0 = 1024 */
    /* Added: bounce data through zeroed pages of our own, copied back
     * after access ended, so that an untrusted backend never sees the rest
     * of a page an io only partly covers (XSA-403). Default off. */
    bool bounce;
};
void xg_blkfront_config_init(struct xg_blkfront_config *cfg, uint32_t devid);

/* What the device looks like once connected. */
struct xg_blkfront_info {
    uint64_t sectors;
    uint32_t sector_size; /* the backend's sector-size node */
    uint32_t vdisk_info;  /* VDISK_* */
    bool cdrom, readonly, removable;
    bool flush, barrier, discard; /* features in force now */
    unsigned int indirect_segs;   /* 0 = direct only */
    unsigned int ring_pages, ring_slots;
    uint32_t max_sectors; /* largest read/write one xg_blk_io may carry */
    domid_t backend_id;
    char backend[128];
};

struct xg_blkfront_stats {
    uint64_t submitted, completed, errors;
    uint64_t requests, responses; /* ring requests / responses */
    uint64_t indirect;            /* indirect ring requests */
    uint64_t barrier_fallbacks, flush_fallbacks, discard_refused;
    uint64_t requeued;         /* requests requeued by a resume on a new host */
    uint64_t spurious_upcalls; /* upcalls that consumed no response */
    uint64_t bad_responses;    /* protocol violations seen (then ERROR) */
    uint64_t connects;
    unsigned int in_flight, queued; /* now */
};

/* The size of struct xg_blkfront, for callers that allocate it
 * (caller-allocated, like struct xg_guest). */
unsigned long xg_blkfront_size(void);

/* Initialise (no store access). `xb` and `gt` are borrowed and must be
 * initialised; they outlive the frontend. */
int xg_blkfront_init(struct xg_blkfront *bf, struct xg_guest *g, struct xg_xenbus *xb,
                     struct xg_gnttab *gt, const struct xg_blkfront_config *cfg);
/* Start the handshake (reads backend/backend-id, watches backend state). */
int xg_blkfront_attach(struct xg_blkfront *bf);
/* Close the device (Closing -> Closed); queued and in-flight I/O
 * completes with -ENODEV. */
int xg_blkfront_detach(struct xg_blkfront *bf);

enum xg_blkfront_state xg_blkfront_state(const struct xg_blkfront *bf);
/* A counter that changes on every state change (wait on it). */
const volatile uint32_t *xg_blkfront_state_seq(const struct xg_blkfront *bf);
int xg_blkfront_get_info(const struct xg_blkfront *bf, struct xg_blkfront_info *out);
void xg_blkfront_get_stats(const struct xg_blkfront *bf, struct xg_blkfront_stats *out);

/* Queue one I/O. -EINVAL (bad io, misaligned, beyond the device), -E2BIG
 * (more than max_sectors), -ENOSPC (the hold queue is full), -EIO (device
 * in error), -ENODEV (not attached). Callable from any CPU. */
int xg_blkfront_submit(struct xg_blkfront *bf, struct xg_blk_io *io);

/* Suspend/resume, called by the suspend sequence on CPU 0 (see top). */
int xg_blkfront_suspend(struct xg_blkfront *bf);
int xg_blkfront_resume(struct xg_blkfront *bf, bool new_host);

#endif
