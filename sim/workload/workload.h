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
#include <stddef.h>
#include <stdint.h>

#include "xensim/guest/xg_blkfront.h"
#include "xensim/guest/xg_ipi.h"
#include "xensim/guest/xg_time.h"
#include "xensim/guest/xg_timer.h"
#include "xensim/evsource.h"
#include "xensim/guestprog.h"
#include "xensim/measure.h"
#include "xensim/prng.h"
#include "xensim/scenario.h"
#include "xensim/storage.h"
#include "xensim/xshost.h"

/* Parse an events workload's "service" string ("exp:5us", "lognormal:5us:1.5")
 * into enum xsim_service_kind, the mean in ns and the coefficient of
 * variation. 0, or -EINVAL with the reason in `why`. */
int xsim_service_parse(const char *spec, int *kind, uint64_t *mean_ns, double *cv, char *why,
                       size_t why_size);

/* ---- events: per-item service of a device's queue ---- */

struct xsim_events;

/* Every item of every events workload of a run: the run's overall wait and
 * sojourn, with an interval of its own. Only the batch means, which need
 * the items in completion order, are kept here; the histograms are the sum
 * of the workloads' own, merged by xsim_events_total_result. */
struct xsim_events_total {
    struct xsim_batchmeans bm;
};
void xsim_events_total_init(struct xsim_events_total *t);
void xsim_events_total_free(struct xsim_events_total *t);

struct xsim_events_params {
    const struct xsim_scn_workload *wl; /* borrowed: kind, mean, CV, name */
    struct xsim_evsource *src;          /* borrowed: the device's queue */
    struct xsim_world *w;
    unsigned int ncpus;
    struct xsim_events_total *total; /* borrowed, may be NULL: also count items here */
};

/* *out is new; free with xsim_events_destroy. */
int xsim_events_create(const struct xsim_events_params *prm, struct xsim_events **out);
void xsim_events_destroy(struct xsim_events *e);
/* From the port's handler on `cpu` (guest context, interrupts off): serve
 * the queue until it is empty, charging each item's service as handler
 * work. Returns the items served (0: the run found nothing). */
uint64_t xsim_events_serve(struct xsim_events *e, const struct xg_platform *p, unsigned int cpu);

struct xsim_events_result {
    struct xsim_dist_summary wait, sojourn, service;
    bool sojourn_ci_ok;       /* enough samples for batch means */
    double sojourn_mean_ci95; /* half-width, ns */
    uint64_t empty_runs;
    uint64_t acausal; /* items seen before their send time (non-time policies) */
    /* Items whose send woke their idle CPU: their mean wait, and the mean
     * ns of each cost reason spent between the wake and service start. */
    uint64_t idle_n;
    double idle_wait_mean;
    double idle_ns_mean[XSIM_COST__COUNT];
};
void xsim_events_result(const struct xsim_events *e, struct xsim_events_result *out);
/* The same figures (wait, sojourn, service, interval) over every item of
 * the workloads among ev[0..nev) (NULLs skipped) that count into `t`.
 * 0, or -ENOMEM (*out then holds nothing). */
int xsim_events_total_result(const struct xsim_events_total *t, struct xsim_events *const *ev,
                             size_t nev, struct xsim_events_result *out);
/* Service charged on `cpu` by this workload, and the items it served there. */
uint64_t xsim_events_cpu_service_ns(const struct xsim_events *e, unsigned int cpu,
                                    uint64_t *served);

/* ---- block I/O ---- */

struct xsim_blkio;

struct xsim_blkio_params {
    const struct xsim_scn_workload *wl;
    const struct xg_platform *p; /* the guest's */
    /* The guest's frontend and clock: submit an io (0, or a negative errno
     * and its callback never runs) and read the monotonic clock in ns. */
    int (*submit)(void *arg, struct xg_blk_io *io);
    uint64_t (*clock)(void *arg);
    void *arg;
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

/* submitted = reads + writes + flushes + barriers + discards: only what
 * blkfront accepted. A refusal blkfront lifts by itself (-ENOSPC: its hold
 * queue is full) keeps the arrival, which is tried again: `retried` counts
 * those attempts. Any other refusal (-EIO: the device is in error; -ENODEV:
 * closed; -EINVAL, -E2BIG: the I/O does not fit the device now) drops the
 * arrival: `refused` counts those I/Os, with the first one's time and
 * errno and the last one's errno. */
struct xsim_blkio_result {
    uint64_t submitted, completed, errors;
    /* completed with -EOPNOTSUPP: a discard, or a flush with neither flush
     * nor barrier, that the device does not offer (not in errors) */
    uint64_t unsupported;
    uint64_t refused, retried;
    uint64_t refused_first_ns;
    int refused_first_errno, refused_last_errno; /* positive */
    uint64_t reads, writes, flushes, barriers, discards;
    uint64_t verified, verify_failed;
    char verify_detail[160];
    /* Completions of an I/O not in flight (twice, or never submitted), and
     * barriers that completed while a write submitted before them had not. */
    uint64_t completed_twice, barrier_overtook;
    char order_detail[160];
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

/* ---- XenStore: several CPUs' requests at once, and watch events ---- */

struct xsim_xsload;

struct xsim_xsload_params {
    const struct xsim_scn_workload *wl; /* borrowed: name, rate, keys, storm ... */
    struct xsim_world *w;
    unsigned int ncpus;
    /* The toolstack's side for the watch storm (may be NULL: no storm):
     * writes go to /local/domain/<domid>/data/<name>/storm/... */
    struct xsim_xshost *xs;
    uint16_t domid;
    uint64_t storm_stop_ns;         /* virtual time: no storm writes at or after it */
    const volatile uint32_t *drain; /* nonzero: no new rounds */
};

/* The program carrying out one operation on `cpu` (guestprog.h). */
typedef int (*xsim_xsload_op_fn)(void *arg, unsigned int cpu, struct xsim_xs_op *op);

/* *out is new; its storm (if any) is scheduled now. */
int xsim_xsload_create(const struct xsim_xsload_params *prm, struct xsim_xsload **out);
void xsim_xsload_destroy(struct xsim_xsload *x);
/* From `cpu`'s idle loop (guest context): set the watch (first call on
 * the workload's first CPU), then run the round that is due, if any, one
 * operation at a time through `fn`, checking each reply. Returns the
 * program-clock time of the CPU's next round (UINT64_MAX: none). */
uint64_t xsim_xsload_poll(struct xsim_xsload *x, unsigned int cpu, uint64_t now_ns,
                          xsim_xsload_op_fn fn, void *arg);
/* The watch token the guest registers (to route callbacks). */
const char *xsim_xsload_token(const struct xsim_xsload *x);
/* The daemon queued a watch event for the guest (any token: others are
 * ignored), at virtual time `vt`. */
void xsim_xsload_fired(struct xsim_xsload *x, const char *path, uint32_t plen, const char *token,
                       uint32_t tlen, uint64_t vt);
/* The program's callback got an event of this workload's watch on `cpu`. */
void xsim_xsload_seen(struct xsim_xsload *x, unsigned int cpu, const char *path, uint64_t vt);
/* The guest's connection started over (a migration): events still queued
 * are gone by design, not lost. */
void xsim_xsload_reset(struct xsim_xsload *x);
/* The guest came back from a suspend at virtual time `vt`: an event still
 * waiting counts its delay from then (a suspended guest takes nothing). */
void xsim_xsload_resumed(struct xsim_xsload *x, uint64_t vt);

struct xsim_xsload_result {
    uint64_t rounds, requests, answered, reads_checked, dirs_checked;
    uint64_t txns, txn_retries, txn_gave_up;
    /* Replies that cannot be the answer to their request: a read of
     * another value than the CPU last wrote there, a listing of other
     * children, a transaction id that is no number, an error the daemon
     * would not give; the first one described. */
    uint64_t wrong;
    char wrong_detail[200];
    uint64_t storm_writes, storm_failed;
    bool watch_set;
    /* Watch events: queued by the daemon, seen by the callback, seen with
     * nothing queued to match, still undelivered at the end (lost), and
     * dropped by a connection reset. */
    uint64_t events_fired, events_seen, events_unexpected, events_lost, events_reset;
    uint64_t event_latency_max, event_latency_max_at; /* queue to callback, virtual ns */
    char event_detail[160]; /* the oldest lost or the first unexpected one */
};
void xsim_xsload_result(const struct xsim_xsload *x, struct xsim_xsload_result *out);

#endif
