/*
 * workload.h - synthetic guest workloads that run on the guest's vCPUs
 * through libxenguest only (private to libxensim): block I/O through
 * blkfront with a model of what the disk must hold, per-CPU timers, and
 * IPIs. run.c drives them from each vCPU's idle loop; their random choices
 * come from named streams of the run's PRNG.
 */
#ifndef XSIM_WORKLOAD_H
#define XSIM_WORKLOAD_H

#include <stdbool.h>
#include <stdint.h>

#include "xensim/guest/xg_blkfront.h"
#include "xensim/guest/xg_ipi.h"
#include "xensim/guest/xg_time.h"
#include "xensim/guest/xg_timer.h"
#include "xensim/prng.h"
#include "xensim/scenario.h"
#include "xensim/storage.h"

/* ---- block I/O ---- */

struct xsim_blkio;

struct xsim_blkio_params {
    const struct xsim_scn_workload *wl;
    const struct xg_platform *p; /* the guest's */
    struct xg_blkfront *bf;
    struct xg_clock *clk;
    uint64_t disk_sectors;
    uint64_t stop_ns; /* no new I/O at or after this monotonic time */
    uint64_t seed;
    /* The disk starts all zeroes (a fresh RAM disk). Otherwise (a file, a
     * CD-ROM) a block never written must read the same every time, and a
     * sector no flush covers may hold anything it held before. */
    bool initial_zero;
};

/* Create the workload; its buffers are allocated from guest RAM now
 * (call on the guest's CPU before any page is freed). *out is new. */
int xsim_blkio_create(const struct xsim_blkio_params *prm, struct xsim_blkio **out);
void xsim_blkio_destroy(struct xsim_blkio *b);
/* From the owning CPU's loop, thread context: submit what is due. Returns
 * the monotonic time of the next arrival (UINT64_MAX: none). */
uint64_t xsim_blkio_poll(struct xsim_blkio *b, uint64_t now_ns);
/* Stop issuing (power loss). */
void xsim_blkio_halt(struct xsim_blkio *b);

struct xsim_blkio_result {
    uint64_t submitted, completed, errors, refused;
    uint64_t reads, writes, flushes, barriers, discards;
    uint64_t verified, verify_failed;
    char verify_detail[160];
    uint64_t latency_ns_mean, latency_ns_p50, latency_ns_p99, latency_ns_max;
};
void xsim_blkio_result(const struct xsim_blkio *b, struct xsim_blkio_result *out);

/* After a power loss: check the durable image against the model. Every
 * sector the workload wrote must hold a version the workload wrote to it,
 * intact, and no older than the newest version acknowledged before the
 * submission of the last flush or barrier that completed. */
struct xsim_blkio_durability {
    uint64_t checked, bad, blocks_written;
    uint64_t flushes_completed;
    char detail[160];
};
int xsim_blkio_check_durable(const struct xsim_blkio *b, struct xsim_storage *st,
                             struct xsim_blkio_durability *out);

#endif
