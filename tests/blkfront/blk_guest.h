/*
 * blk_guest.h - what the block frontend tests share, whichever backend
 * they run against (the raw one in rawback.c, or the simulator's blkback):
 * checks from guest code, spinning on a condition, block I/O set-up,
 * contiguous guest pages, the world's configuration and the end of a run.
 * Include after <cmocka.h> and harness.h.
 */
#ifndef XSIM_TEST_BLK_GUEST_H
#define XSIM_TEST_BLK_GUEST_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "xensim/guest/xg_blkfront.h"

/* Checks inside guest code record the first failure in (x)->msg: cmocka's
 * asserts must not longjmp out of a vCPU thread. */
#define GCHECK(x, cond)                                                                   \
    do {                                                                                  \
        if (!(cond) && (x)->msg[0] == '\0')                                               \
            snprintf((x)->msg, sizeof((x)->msg), "%s:%d: %s", __FILE__, __LINE__, #cond); \
    } while (0)

/* Spin until `cond`, each turn a scheduling point, for a bounded time. */
#define SPIN_UNTIL(x, cond)                                     \
    do {                                                        \
        for (int spin_ = 0; spin_ < 200000 && !(cond); spin_++) \
            xg_point((x)->t.p, XG_POINT_SPIN, NULL);            \
    } while (0)

/* A block I/O from scratch: `n` sectors from `sector` at `buf`, reported
 * to done(..., io, status) with io->arg = arg. */
static inline void bg_io_init(struct xg_blk_io *io, enum xg_blk_op op, uint64_t sector, uint32_t n,
                              void *buf, xg_blk_done_fn done, void *arg)
{
    memset(io, 0, sizeof(*io));
    io->op = op;
    io->sector = sector;
    io->nsectors = n;
    io->buf = buf;
    io->done = done;
    io->arg = arg;
}

/* n contiguous guest pages (NULL when the allocator leaves a gap). */
static inline uint8_t *bg_alloc_pages(const struct xg_platform *p, unsigned int n)
{
    uint64_t gfn;
    uint8_t *first = xg_page_alloc(p, &gfn);

    for (unsigned int i = 1; i < n; i++) {
        if (xg_page_alloc(p, &gfn) != first + (size_t)i * 4096)
            return NULL;
    }
    return first;
}

/* A zeroed frontend object, 64-byte aligned as its size asks. */
static inline struct xg_blkfront *bg_blkfront_alloc(void)
{
    struct xg_blkfront *bf = aligned_alloc(64, (xg_blkfront_size() + 63) / 64 * 64);

    assert_non_null(bf);
    memset(bf, 0, xg_blkfront_size());
    return bf;
}

/* The world of every frontend case: two CPUs, a XenStore, 2048 pages of
 * RAM and a 2 s limit, under `policy` (NULL: time) with `seed`. */
static inline void bg_config(struct th_config *cfg, th_main_fn main, void *user, const char *policy,
                             uint64_t seed)
{
    th_config_xs(cfg, 2, 2048, main, user);
    cfg->world.time_limit_ns = 2ull * 1000 * 1000 * 1000;
    cfg->policy = policy;
    cfg->world.seed = seed;
}

/* A run must end quiescent with no failed guest check (`msg` empty); the
 * failure names the schedule so that it can be replayed. */
static inline void bg_check_run(enum xsim_stop_reason r, const char *msg, const char *policy,
                                uint64_t seed)
{
    if (r != XSIM_STOP_QUIESCENT)
        fail_msg("run ended %s (%s) policy %s seed %" PRIu64, xsim_stop_reason_name(r), msg,
                 policy ? policy : "time", seed);
    if (msg[0] != '\0')
        fail_msg("%s (policy %s seed %" PRIu64 ")", msg, policy ? policy : "time", seed);
}

#endif
