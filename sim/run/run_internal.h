/*
 * run_internal.h - what the parts of a scenario run share: the run's
 * context, and the four steps xsim_run (run.c) takes in order.
 *
 *   assemble.c  the machine from the scenario: cost profile, hypervisor,
 *               dom0 and the guest domain (machine.h), disks and their
 *               faults, migrations, event sources, the guest program;
 *   (run)       xsim_world_run;
 *   collect.c   the report from what the machine saw, then what the
 *               program says of itself;
 *   oracles.c   the verdicts: one checker per oracle, in a table, each
 *               reading the collected report and the run's counters, and
 *               the laws of the measurements.
 *
 * Nothing here is public: a host program builds machines with machine.h
 * and runs scenarios with xsim_run (scenario.h).
 */
#ifndef XSIM_RUN_INTERNAL_H
#define XSIM_RUN_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "guestprog/host.h"
#include "workload/workload.h"
#include "xensim/blkback.h"
#include "xensim/evsource.h"
#include "xensim/machine.h"
#include "xensim/scenario.h"
#include "xensim/storage.h"
#include "xensim/toolstack.h"
#include "xensim/xshost.h"

/* Devices stop sending this long before the time limit, and new ticks,
 * I/O and IPIs at least this long before it, so the oracles judge a
 * drained system. */
#define XSIM_RUN_DRAIN_NS 1000000

/* Tags of the run's own timed events: four ASCII letters, as traces show
 * them. */
#define XSIM_RUN_EV_SOCKET_POLL  0x58535057 /* "XSPW": serve sockets, pace */
#define XSIM_RUN_EV_POWER_LOSS   0x504c4f53 /* "PLOS": a disk loses power */
#define XSIM_RUN_EV_BACKEND_GONE 0x42474f4e /* "BGON": a disk's backend goes */
#define XSIM_RUN_EV_DRAIN        0x4452414e /* "DRAN": no new ticks, I/O, IPIs */

struct run_ctx;

/* The argument of a timed event about one disk or workload. */
struct run_arg {
    struct run_ctx *rc;
    size_t i;
};

struct run_ctx {
    const struct xsim_scenario *s;
    const struct xsim_guest_program *prog;
    const char *replay_of; /* xsim_run_options.replay_of */
    struct xsim_machine *m;
    struct xsim_world *w;
    struct xsim_hv *hv;
    struct xsim_domain *d, *dom0;
    struct xsim_gp_host host; /* the guest program and the workload drivers */
    bool host_init;
    struct xsim_evsource *src[XSIM_SCN_MAX_WORKLOADS];
    struct xsim_events *ev[XSIM_SCN_MAX_WORKLOADS];
    struct xsim_events_total ev_total;
    /* XenStore and pacing (--xenstore-socket, --realtime) */
    bool want_xs;
    struct xsim_xshost *xs;
    uv_loop_t loop;
    bool loop_ok;
    struct xsim_xs_server *srv;
    bool realtime;
    double wall0;
    /* disks and migrations */
    struct xsim_toolstack *ts;
    struct xsim_rng storage_rng[XSIM_SCN_MAX_DISKS];
    struct xsim_storage *storage[XSIM_SCN_MAX_DISKS];
    bool power_lost[XSIM_SCN_MAX_DISKS];
    struct xsim_blkio_durability durable[XSIM_SCN_MAX_DISKS];
    bool durable_checked[XSIM_SCN_MAX_DISKS];
    struct run_arg disk_args[XSIM_SCN_MAX_DISKS]; /* for the disks' fault events */
};

/* assemble.c: the cost profile the run charges (failure text in rep). */
int xsim__run_load_costs(const struct xsim_scenario *s, struct xsim_cost_profile *cp,
                         struct xsim_report *rep);
/* assemble.c: machine, devices, workloads and the started program. */
int xsim__run_build(struct run_ctx *rc, const struct xsim_scenario *s, struct xsim_policy *pol,
                    const struct xsim_world_config *wc);

/* collect.c: fill rep from the finished run. */
void xsim__run_collect(struct run_ctx *rc, const struct xsim_scenario *s, struct xsim_report *rep);

/* oracles.c: every armed oracle's verdict, then the laws. */
void xsim__run_judge(const struct xsim_scenario *s, const struct run_ctx *rc,
                     struct xsim_report *rep);

#endif /* XSIM_RUN_INTERNAL_H */
