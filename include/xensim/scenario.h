/*
 * scenario.h - JSON scenarios (reference: sim/scenarios/README.md) and
 * running one: the machine, the guest's choices, workloads, stop
 * conditions and oracles, and the report of a run.
 */
#ifndef XENSIM_SCENARIO_H
#define XENSIM_SCENARIO_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "xensim/cost.h"
#include "xensim/error.h"
#include "xensim/world.h"

#define XSIM_SCN_MAX_WORKLOADS 64

enum xsim_wl_type {
    XSIM_WL_EVENTS = 0,      /* a device in dom0 sending events to the guest */
    XSIM_WL_LOST_UPDATE = 1, /* a planted bug: two vCPUs race on a plain counter */
};

enum xsim_wl_dist { XSIM_WL_PERIODIC = 0, XSIM_WL_POISSON = 1, XSIM_WL_BURST = 2 };

struct xsim_scn_workload {
    char name[32];
    int type;    /* enum xsim_wl_type */
    double rate; /* events per second */
    int dist;    /* enum xsim_wl_dist */
    int burst;
    uint64_t handler_ns; /* work the guest's handler does per event */
    uint64_t start_ns, stop_ns;
    uint64_t count;
    bool spurious;  /* the handler finds nothing to do (an event storm) */
    int vcpu;       /* -1: the guest balances it; else bind it to that vCPU */
    int iterations; /* lost-update: increments per vCPU */
};

struct xsim_scenario {
    char name[64];
    char description[512];
    struct {
        int vcpus;
        bool hvm_callback_vector, percpu_upcall_vector, hvm_safe_pvclock, platform_pci;
        bool viridian, apicv, posted_interrupts;
        char cost_profile[256]; /* a file, relative to the scenario's directory */
        uint64_t quantum_ns;
    } machine;
    struct {
        int callback; /* 0 auto, 1 percpu-vector, 2 vector, 3 pci-intx, 4 gsi */
        bool balance_at_bind;
        uint64_t rebalance_every_ns; /* 0: never */
        int upcall_budget, storm_threshold;
    } guest;
    struct xsim_scn_workload workloads[XSIM_SCN_MAX_WORKLOADS];
    size_t nworkloads;
    struct {
        uint64_t time_ns, events, decisions;
    } stop;
    struct {
        bool no_lost_events;
        uint64_t max_latency_ns; /* 0: not checked */
        char callback[32];       /* expected callback kind, "" = not checked */
        bool lost_update;        /* the lost-update counter is exact */
    } oracles;
    char policy[64];
    uint64_t seed;
    char path[512]; /* where it was loaded from */
    char *text;     /* the JSON text (owned), for replay files */
};

/* Load and check a scenario; 0, or -EINVAL/-ENOENT/... with `err` naming
 * file, line and column. Free with xsim_scenario_free. */
int xsim_scenario_load_file(struct xsim_scenario *s, const char *path, struct xsim_error *err);
int xsim_scenario_load_buffer(struct xsim_scenario *s, const char *name, const char *text,
                              size_t len, struct xsim_error *err);
void xsim_scenario_free(struct xsim_scenario *s);

/* ---- running ---- */

struct xsim_run_options {
    uint64_t seed; /* used when seed_set */
    bool seed_set;
    struct xsim_policy *policy; /* borrowed; NULL: the scenario's */
    bool keep_trace;
    bool quiet;
    /* Host a XenStore for the guest and serve it on this Unix socket while
     * the run lasts (dom0-privileged clients: xenstore-ls, libxenstore).
     * Clients are served from a timed event every millisecond of virtual
     * time, on the thread that holds the baton; their requests make a run
     * irreproducible, so the report says so. */
    const char *xenstore_socket;
    /* Pace virtual time to the wall clock (so that people can watch and
     * poke a run); the digest is unaffected when nothing pokes. */
    bool realtime;
};

#define XSIM_MAX_ORACLES 16

struct xsim_oracle_result {
    char name[48];
    bool pass;
    char detail[256];
};

struct xsim_wl_result {
    char name[32];
    uint64_t sent, handled, consumed;
    uint64_t latency_ns_mean, latency_ns_p50, latency_ns_p99, latency_ns_max;
    int cpu; /* where its port ended up */
};

struct xsim_report {
    char scenario[64];
    uint64_t seed;
    char policy[64];
    enum xsim_stop_reason stop;
    char failure[512];
    char replay_error[256];
    uint64_t digest;
    struct xsim_stats stats;
    /* what the guest found and chose */
    bool xen;
    uint32_t xen_version;
    uint32_t xenfeat;
    char callback[32];
    bool percpu_events;
    int boot_rc;
    struct xsim_wl_result wl[XSIM_SCN_MAX_WORKLOADS];
    size_t nwl;
    uint64_t cpu_events[XSIM_MAX_VCPUS];
    unsigned int ncpus;
    struct xsim_oracle_result oracles[XSIM_MAX_ORACLES];
    size_t noracles;
    bool all_pass;
    struct xsim_choices choices; /* owned; xsim_report_free */
    char cost_profile[64];
};

/* Run the scenario once. Returns 0 (the report says whether oracles held)
 * or a negative errno when the run could not be set up. `trace_jsonl` and
 * `trace_chrome` (may be NULL) receive the trace exports. */
int xsim_run(const struct xsim_scenario *s, const struct xsim_run_options *opt,
             struct xsim_report *rep, FILE *trace_jsonl, FILE *trace_chrome);
void xsim_report_free(struct xsim_report *rep);
void xsim_report_print(const struct xsim_report *rep, FILE *out);
/* One JSON object with at least digest, oracles, stats. */
int xsim_report_print_json(const struct xsim_report *rep, FILE *out);

#endif
