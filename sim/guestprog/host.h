/*
 * host.h - the machine's side of the guest-program interface (private to
 * libxensim): the env a program gets, and the workload drivers behind it
 * (ticks, IPIs, block I/O, the devices' queues) with the counters the
 * oracles judge. Everything here is judged from the machine's side: what
 * was sent, asked for and served, never what the program says it did.
 */
#ifndef XSIM_GP_HOST_H
#define XSIM_GP_HOST_H

#include "workload/workload.h"
#include "xensim/guestprog.h"
#include "xensim/scenario.h"
#include "xensim/world.h"

/* Per-CPU state of the timer and IPI workloads (touched by that CPU, and
 * by CPU 0 for IPI sends, between scheduling points). */
struct xsim_gp_cpu {
    bool has_timer; /* the program runs env->work here */
    bool tick_pending;
    uint64_t tick_deadline, armed, fired, early, last_fire;
    uint64_t last_clock, backwards;
    /* The program's clock minus virtual time, its range since the last
     * resume, and the widest range seen (clock_accuracy). */
    bool off_set;
    int64_t off_lo, off_hi;
    uint64_t off_worst, off_worst_at;
    uint64_t ipi_sent, ipi_seen, ipi_runs, ipi_failed;
};

/* Close and reuse of one device's port (port_close): the bindings the
 * program closed, and handler runs of a binding after its close returned. */
struct xsim_gp_close {
    uint32_t closed;        /* bindings 0 .. closed - 1 are dead */
    uint64_t reused;        /* bindings that got the port number of the binding before */
    uint64_t after_close;   /* handler runs seen after their binding's close returned */
    /* The first of them: its port, CPU, binding, when it was seen and when
     * that binding's close had returned. */
    uint32_t bad_port, bad_binding;
    unsigned int bad_cpu;
    uint64_t bad_ns, bad_close_ns;
    /* Each binding closed, in order: its port and when its close returned. */
    struct xsim_gp_closed {
        uint32_t port;
        uint64_t at_ns;
    } *log;
    size_t log_cap;
};

struct xsim_gp_host;
struct xsim_gp_blk_target {
    struct xsim_gp_host *h;
    unsigned int disk;
};

struct xsim_gp_host {
    struct xsim_guest_env env;
    const struct xsim_guest_program *prog;
    void *state; /* the program's */
    struct xsim_guest_ops ops;
    const struct xsim_scenario *s;
    struct xsim_world *w;
    struct xsim_guest_device dev[XSIM_SCN_MAX_WORKLOADS];
    struct xsim_guest_disk disk[XSIM_SCN_MAX_DISKS];
    /* borrowed from the runner, by workload index */
    struct xsim_evsource *src[XSIM_SCN_MAX_WORKLOADS];
    struct xsim_events *ev[XSIM_SCN_MAX_WORKLOADS];
    uint64_t handled[XSIM_SCN_MAX_WORKLOADS];           /* handler runs, by workload */
    struct xsim_gp_close close[XSIM_SCN_MAX_WORKLOADS]; /* close and reuse, by device */
    struct xsim_blkio *bio[XSIM_SCN_MAX_WORKLOADS];     /* owned */
    struct xsim_xsload *xsl[XSIM_SCN_MAX_WORKLOADS]; /* owned: xenstore workloads */
    struct xsim_gp_blk_target tgt[XSIM_SCN_MAX_DISKS];
    struct xsim_gp_cpu *cs;
    const struct xsim_scn_workload *timer_wl, *ipi_wl;
    struct xsim_rng ipi_rng;
    uint64_t ipi_next;
    unsigned int ipi_rr;
    volatile uint32_t draining, ready;
    uint16_t domid; /* the guest's, for the XenStore observer */
    bool init_done;
    char setup_err[200];
    uint64_t suspend_rc0, suspend_rc1, suspend_fail, suspend_backwards;
    /* The guest's own resume: from the toolstack's RESUMED step (its
     * SCHEDOP_shutdown returns; xsim_gp_host_resumed) to the program's
     * env->suspended (its devices and other CPUs are back). */
    bool resuming;
    uint64_t resumed_at_ns, resume_ns_max;
    volatile uint64_t lu_counter;
    uint64_t lu_expected;
};

/* The guest's SCHEDOP_shutdown(suspend) returns now (the toolstack's
 * RESUMED step): the start of the guest's own resume. */
void xsim_gp_host_resumed(struct xsim_gp_host *h, uint64_t now_ns);

/* Set up `h` for scenario `s` (before the machine exists): allocates the
 * program's state and the per-CPU counters. */
int xsim_gp_host_init(struct xsim_gp_host *h, const struct xsim_scenario *s,
                      const struct xsim_guest_program *prog);
/* The domain's entry ops and their argument (the program's state). */
const struct xsim_guest_ops *xsim_gp_host_ops(struct xsim_gp_host *h);
/* Add the device of events workload `wl` (its source and queue exist). */
void xsim_gp_host_add_device(struct xsim_gp_host *h, size_t wl, struct xsim_evsource *src,
                             struct xsim_events *ev);
/* Create the xenstore workloads (before xsim_gp_host_start): `xs` is the
 * machine's XenStore, whose observer becomes theirs; the toolstack's storm
 * writes stop at `storm_stop_ns`. 0 or a negative errno. */
int xsim_gp_host_add_xenstore(struct xsim_gp_host *h, struct xsim_world *w, struct xsim_xshost *xs,
                              uint16_t domid, uint64_t storm_stop_ns);
/* Hand the program its env (the world, the guest's platform `p`, a
 * XenStore or not) and run its init. 0 or its error. */
int xsim_gp_host_start(struct xsim_gp_host *h, struct xsim_world *w, const struct xg_platform *p,
                       bool xenstore);
/* The drain began: no new work from now on. */
void xsim_gp_host_drain(struct xsim_gp_host *h);
/* Run the program's fini and free everything. */
void xsim_gp_host_fini(struct xsim_gp_host *h);

#endif
