/*
 * rawback.h - a small blkif backend for frontend tests: it lives in dom0,
 * polls the frontend's state from timed events, serves the ring from
 * timed events after each notification, keeps a RAM disk, logs every
 * request it sees, and can be told to misbehave (refuse features, stall,
 * answer with a bad id, a duplicate, a wrong operation, a runaway rsp_prod,
 * or send events with nothing in them).
 */
#ifndef XSIM_TEST_RAWBACK_H
#define XSIM_TEST_RAWBACK_H

#include <stdbool.h>
#include <stdint.h>

#include "harness.h"
#include "xensim/abi/blkif.h"

enum rb_evil { RB_GOOD = 0, RB_BAD_ID, RB_DUP, RB_WRONG_OP, RB_PROD_AHEAD };

struct rb_config {
    uint32_t devid;
    bool cdrom, readonly;
    bool flush, barrier, discard;
    unsigned int max_indirect; /* 0 = no feature node */
    unsigned int max_order;
    bool skip_initwait;      /* Initialising -> Connected, never InitWait */
    bool connected_at_start; /* already Connected when the frontend attaches */
    uint64_t sectors;        /* disk size in 512-byte sectors */
    uint32_t sector_size;
    uint64_t latency_ns;
    bool refuse_barrier, refuse_flush, refuse_discard;
    bool one_at_a_time; /* answer one request per service, each with its own event */
};
void rb_config_init(struct rb_config *c);

#define RB_LOG_MAX 4096
struct rb_log {
    uint8_t op, sub_op, nsegs;
    uint64_t sector;
    int16_t status;
};

struct rb {
    struct th *t;
    struct rb_config cfg;
    char fe_path[128], be_path[128];
    uint8_t *disk;
    int phase;
    bool stopped, connected;
    uint64_t work_ev;
    grant_ref_t refs[16];
    unsigned int npages;
    void *ring_va;
    blkif_back_ring_t ring;
    evtchn_port_t port;
    bool stall;
    enum rb_evil evil;
    unsigned int evil_after; /* good responses before misbehaving */
    bool evil_done;
    uint64_t last_id;
    uint64_t responses, bad_requests, notifies;
    bool snoop;            /* read every granted data page whole */
    uint64_t secrets_seen; /* pages in which it found "SECRET!" */
    struct rb_log log[RB_LOG_MAX];
    unsigned int nlog;
    unsigned int generation; /* bumped by rb_migrate (new backend path) */
};

/* Write the device's nodes and start polling (before th_run). */
int rb_create(struct rb *b, struct th *t, const struct rb_config *cfg);
void rb_destroy(struct rb *b);
/* Stop polling (the world can go quiescent). */
void rb_stop(struct rb *b);
/* Serve the ring again after a stall. */
void rb_release(struct rb *b);
/* Send n events that carry no response. */
void rb_spurious(struct rb *b, unsigned int n);
/* Change the "sectors" node (media change). */
void rb_set_sectors(struct rb *b, uint64_t sectors);
/* The old host's backend vanishes without answering; a new one with
 * `cfg`'s features appears at a new path, the frontend dir is reset to
 * Initialising and points at it. */
void rb_migrate(struct rb *b, const struct rb_config *cfg);
/* The backend starts closing (it goes Closed once the frontend is Closing). */
void rb_close(struct rb *b);
/* Pattern byte of the initial disk contents. */
uint8_t rb_pattern(uint64_t byte);

#endif
