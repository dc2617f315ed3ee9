/*
 * toolstack.h - what libxl would do for one guest: add disks (a blkback
 * per disk, see blkback.h), ask the guest to suspend through
 * control/shutdown, and then either resume it where it was (a cancelled
 * suspend or a checkpoint: SCHEDOP_shutdown returns 1) or migrate it to a
 * "new host" (SCHEDOP_shutdown returns 0).
 *
 * Migration, in the order a real one has it: the old host's backends go
 * away (disconnected, their grant mappings released); the domain's
 * hypervisor state is what a freshly restored domain has - every event
 * channel closed, shared_info and vcpu_info registrations gone, no
 * callback, timers stopped, the grant table empty, the TSC and system-time
 * parameters those of the new host; guest RAM is kept (it was copied). The
 * new host's xenstored has no watches or transactions of the guest's: its
 * ring connection is reset and a new store event channel is set in
 * HVM_PARAM_STORE_EVTCHN. New backends are created with the new host's
 * features, and the frontend directories go back to Initialising. Then,
 * after the downtime, vCPU 0's hypercall returns 0 and the vCPUs run.
 *
 * Everything happens in timed events of the world (deterministic). A guest
 * that does not ack the request (write "" to control/shutdown) within
 * ack_timeout_ns, or does not reach SCHEDOP_shutdown within
 * suspend_timeout_ns, counts as a failed suspend; the request is withdrawn.
 */
#ifndef XENSIM_TOOLSTACK_H
#define XENSIM_TOOLSTACK_H

#include <stdbool.h>
#include <stdint.h>

#include "xensim/blkback.h"
#include "xensim/hv.h"
#include "xensim/time.h"
#include "xensim/world.h"
#include "xensim/xshost.h"

#define XSIM_TOOLSTACK_MAX_DISKS 8

struct xsim_toolstack;

struct xsim_migration {
    uint64_t at_ns;       /* when control/shutdown = "suspend" is written */
    uint64_t downtime_ns; /* from SCHEDOP_shutdown to the vCPUs running again */
    bool cancel;          /* resume on the same host (returns 1) */
    /* The new host (ignored when cancel): its TSC frequency in Hz (0 = same) and
     * system-time offset, its hypervisor features, and what each disk's new
     * backend advertises (features[i] for disk i; has_disk_features false =
     * the same as before). */
    uint64_t tsc_hz;
    int64_t system_time_offset_ns;
    bool has_hv_features;
    struct xsim_hv_features hv_features;
    bool has_disk_features;
    struct xsim_blkback_features disk_features[XSIM_TOOLSTACK_MAX_DISKS];
    uint64_t ack_timeout_ns;     /* 0 = 1 s; UINT64_MAX = wait forever */
    uint64_t suspend_timeout_ns; /* 0 = 5 s; UINT64_MAX = wait forever */
};
void xsim_migration_init(struct xsim_migration *m);

struct xsim_toolstack_stats {
    uint64_t requested, acked, suspended, cancelled, migrated, failed;
    uint64_t ack_ns_max;      /* request -> ack */
    uint64_t suspend_ns_max;  /* request -> SCHEDOP_shutdown */
    uint64_t downtime_ns_max; /* SCHEDOP_shutdown -> running again */
};

/* One guest domain `d`, its store host `xs` (which introduced it). */
int xsim_toolstack_create(struct xsim_world *w, struct xsim_hv *hv, struct xsim_xshost *xs,
                          struct xsim_domain *d, struct xsim_toolstack **out);
void xsim_toolstack_destroy(struct xsim_toolstack *ts);
/* Add a disk: creates its blkback (borrowed back through *out; the
 * toolstack owns it and may replace it on migration: look it up again
 * with xsim_toolstack_disk). */
int xsim_toolstack_add_disk(struct xsim_toolstack *ts, const struct xsim_blkback_config *cfg,
                            struct xsim_blkback **out);
struct xsim_blkback *xsim_toolstack_disk(struct xsim_toolstack *ts, unsigned int i);
/* Remove disk i for good (a forced detach, or a driver domain that died):
 * its backend goes Closing -> Closed, its directory and the frontend's are
 * removed, and no migration re-creates it; xsim_toolstack_disk then returns
 * NULL. -ENOENT if there is no such disk or it is already gone. From a
 * timed event. */
int xsim_toolstack_remove_disk(struct xsim_toolstack *ts, unsigned int i);
/* Schedule one suspend. Any number may be scheduled, at different times
 * (one that comes due while another is in progress waits for it); each
 * keeps a copy of *m until the toolstack is destroyed. -EINVAL, -ENOMEM,
 * -ENOSPC (the world's event queue is full). */
int xsim_toolstack_schedule(struct xsim_toolstack *ts, const struct xsim_migration *m);
void xsim_toolstack_get_stats(const struct xsim_toolstack *ts, struct xsim_toolstack_stats *out);

/* An observer of each suspend's steps (reports, tests that aim at a
 * window). SUSPENDED is called from inside the guest's SCHEDOP_shutdown
 * (on its vCPU): the observer may only note things and schedule timed
 * events there; the others come from timed events. */
enum xsim_toolstack_step {
    XSIM_TS_REQUESTED = 0, /* control/shutdown = "suspend" written */
    XSIM_TS_ACKED,         /* the guest wrote "" */
    XSIM_TS_SUSPENDED,     /* the guest is in SCHEDOP_shutdown(suspend) */
    XSIM_TS_MIGRATED,      /* the new host's state is in place (not for a cancel) */
    XSIM_TS_RESUMED,       /* the hypercall returns now */
    XSIM_TS_FAILED,        /* no ack or no suspend in time: withdrawn */
};
typedef void (*xsim_toolstack_observer_fn)(void *arg, enum xsim_toolstack_step step,
                                           uint64_t now_ns);
void xsim_toolstack_set_observer(struct xsim_toolstack *ts, xsim_toolstack_observer_fn fn,
                                 void *arg);

#endif
