/*
 * scenario.h - JSON scenarios (reference: docs/scenario-format.md) and
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
#include "xensim/measure.h"
#include "xensim/world.h"

#define XSIM_SCN_MAX_WORKLOADS 64
#define XSIM_SCN_MAX_DISKS     8
/* Suspends one scenario may ask for. Each takes under 300 bytes (its entry
 * here, the toolstack's copy, one pending timed event); what they cost is
 * run time: a suspend every 8 ms under migration-soak.json's workloads
 * takes 1.3 ms of host time per suspend (10,000: 13 s, 80 s of virtual
 * time, 290 MB, most of it the workloads' measurements over so long a
 * run). The bound keeps one run, and its replay file, in that range and a
 * mistyped or generated file from asking for millions; more belong in
 * several runs (explore, sweep). */
#define XSIM_SCN_MAX_MIGRATIONS 10000

enum xsim_wl_type {
    XSIM_WL_EVENTS = 0,      /* a device in dom0 sending events to the guest */
    XSIM_WL_LOST_UPDATE = 1, /* a planted bug: two vCPUs race on a plain counter */
    XSIM_WL_BLOCK_IO = 2,    /* a guest thread doing block I/O on a disk through blkfront */
    XSIM_WL_TIMER = 3,       /* every vCPU re-arms its event timer each period */
    XSIM_WL_IPI = 4,         /* vCPU 0 sends IPIs to every other vCPU at a rate */
    XSIM_WL_XENSTORE = 5,    /* vCPUs issue XenStore requests at once; watches fire */
};

enum xsim_disk_kind { XSIM_DISK_DISK = 0, XSIM_DISK_CDROM = 1 };
enum xsim_disk_storage { XSIM_DISK_MEM = 0, XSIM_DISK_FILE = 1 };
/* How the backend reaches a request's data grants (blkback.h map_grants). */
enum xsim_disk_grant_access { XSIM_DISK_GRANT_COPY = 0, XSIM_DISK_GRANT_MAP = 1 };

/* What a disk's backend advertises (also: a new host's, on migration). */
struct xsim_scn_disk_features {
    bool flush, barrier, discard;
    int indirect_segments;   /* 0: none */
    int max_ring_page_order; /* 0..4 */
};

struct xsim_scn_disk {
    char name[32];
    uint32_t devid;
    int kind;    /* enum xsim_disk_kind */
    int storage; /* enum xsim_disk_storage */
    char path[256];
    uint64_t sectors;
    bool readonly, write_cache;
    struct xsim_scn_disk_features features;
    uint64_t latency_ns, ns_per_sector;
    double jitter;
    struct {
        double read_error_rate, write_error_rate;
        bool refuse_flush, refuse_barrier, lose_all_cached, flush_lies;
        int duplicate_response; /* the backend answers its Nth request twice (0: never) */
        int stale_map;          /* every Nth response, the backend maps its grant again */
    } faults;
    int grant_access;         /* enum xsim_disk_grant_access */
    uint64_t power_loss_ns;   /* 0: none */
    uint64_t backend_gone_ns; /* the toolstack removes the disk then; 0: never */
    int ring_pages;           /* the guest asks for this many (1..16) */
    bool indirect;            /* the guest uses indirect segments when offered */
};

struct xsim_scn_migration {
    uint64_t at_ns, downtime_ns;
    bool cancel;
    uint64_t tsc_hz;               /* the new host's TSC; 0 = the same */
    int64_t system_time_offset_ns; /* the new host's system time minus the old's */
    bool has_features;             /* the new host's hypervisor features differ */
    bool hvm_callback_vector, percpu_upcall_vector, hvm_safe_pvclock, platform_pci;
    bool fifo_events;
    bool has_disk_features; /* every disk's new backend advertises these */
    struct xsim_scn_disk_features disk_features;
};

enum xsim_wl_dist { XSIM_WL_PERIODIC = 0, XSIM_WL_POISSON = 1, XSIM_WL_BURST = 2 };

/* How an events workload's handler spends time on each item it serves. */
enum xsim_service_kind {
    XSIM_SVC_FIXED = 0,     /* every item takes the mean */
    XSIM_SVC_EXP = 1,       /* exponential with that mean */
    XSIM_SVC_LOGNORMAL = 2, /* lognormal with that mean and coefficient of variation */
    XSIM_SVC_HYPEREXP = 3,  /* two-phase hyperexponential, balanced means, CV > 1 */
    XSIM_SVC_BATCH = 4,     /* one charge per handler run whatever it took (a batch) */
};

struct xsim_scn_workload {
    char name[32];
    int type;    /* enum xsim_wl_type */
    double rate; /* events per second */
    int dist;    /* enum xsim_wl_dist */
    int burst;
    uint64_t handler_ns; /* "handler_work": shorthand for "service": "fixed:..." */
    /* events: the service of each item ("service": "exp:5us" ...) */
    int service_kind;    /* enum xsim_service_kind */
    uint64_t service_ns; /* mean service time */
    double service_cv;   /* lognormal, hyperexp: coefficient of variation */
    uint64_t start_ns, stop_ns;
    uint64_t count;
    bool spurious;  /* the handler finds nothing to do (an event storm) */
    int vcpu;       /* -1: the guest balances it; else bind it to that vCPU */
    int iterations; /* lost-update: increments per vCPU */
    /* block-io */
    char disk[32];
    int disk_index;
    double mix_read, mix_write, mix_flush, mix_barrier, mix_discard;
    uint32_t io_sectors; /* per read/write, a multiple of 8 */
    uint64_t region;     /* sectors at the start of the disk the workload uses; 0: all */
    int queue_depth;     /* I/Os in flight at most */
    uint64_t period_ns;  /* timer: re-arm period */
    /* events: the guest closes the device's port this often, from a CPU
     * other than its handler's, and binds a new one (0: never) */
    uint64_t close_every_ns;
    /* xenstore: keys per CPU, a transaction every Nth round (0: never),
     * whether the guest watches the workload's subtree, and the
     * toolstack's writes into it (a watch storm; 0: none) */
    int keys;
    int transaction_every;
    bool watch;
    double storm_rate;
    uint64_t storm_count;
};

struct xsim_scenario {
    char name[64];
    char description[512];
    struct {
        int vcpus;
        bool hvm_callback_vector, percpu_upcall_vector, hvm_safe_pvclock, platform_pci;
        bool viridian, apicv, posted_interrupts;
        bool fifo_events;       /* EVTCHNOP_init_control and friends (default true) */
        char cost_profile[256]; /* a file, relative to the scenario's directory */
        uint64_t quantum_ns;
        int backend; /* enum xsim_backend: 0 auto, 1 thread, 2 fiber */
        /* The hypervisor republishes every vCPU's pvclock record this often
         * while the guest runs (Xen's time calibration, every second);
         * 0: records change only at migrations. */
        uint64_t time_calibration_ns;
        /* The XenStore daemon serves a guest's ring this long after its
         * event channel fires; 0: at once (within the notifying call). */
        uint64_t xenstore_latency_ns;
    } machine;
    struct {
        int callback;  /* 0 auto, 1 percpu-vector, 2 vector, 3 pci-intx, 4 gsi */
        int event_abi; /* 0 auto, 1 fifo, 2 2l (enum xg_event_abi) */
        bool balance_at_bind;
        uint64_t rebalance_every_ns; /* 0: never */
        int upcall_budget, storm_threshold;
    } guest;
    struct xsim_scn_workload workloads[XSIM_SCN_MAX_WORKLOADS];
    size_t nworkloads;
    struct xsim_scn_disk disks[XSIM_SCN_MAX_DISKS];
    size_t ndisks;
    struct xsim_scn_migration *migrations; /* nmigrations of them, in time order; owned
                                              (xsim_scenario_free); NULL when none */
    size_t nmigrations;
    struct {
        uint64_t time_ns, events, decisions;
    } stop;
    struct {
        bool no_lost_events;
        uint64_t max_latency_ns; /* 0: not checked */
        char callback[32];       /* expected callback kind, "" = not checked */
        bool lost_update;        /* the lost-update counter is exact */
        bool blk_data;           /* every read returned what was last written */
        bool blk_durable;        /* after a power loss, every flushed write survived */
        bool blk_no_lost_io;     /* every I/O submitted completed, without error */
        bool blk_order;          /* each I/O completed once; a barrier after every write
                                    submitted before it */
        bool migration;          /* every suspend the toolstack asked for completed */
        bool clock_monotonic;    /* the guest's clock never went backwards */
        bool timers;             /* every timer fired, never early, also after migration */
        bool ipis;               /* every IPI burst reached its target */
        bool port_close;         /* no handler of a closed binding ran after its close returned */
        bool grants;             /* no grant revoked or rewritten while a backend maps it */
        /* CPU cost of delivery: event-channel upcalls over items served
         * (all events workloads), at most this; 0: not checked. */
        double max_upcalls_per_event;
        /* The program's clock keeps pace with the machine's: on each CPU,
         * between resumes, its offset from virtual time varies by at most
         * this (a torn pvclock read stalls or jumps it); 0: not checked. */
        uint64_t clock_accuracy_ns;
        /* xenstore workloads: every reply the guest got is its request's */
        bool xenbus_replies;
        /* every watch event the daemon queued for the guest reached its
         * callback, within watch_delivery_ns (judged under `time` only) */
        bool watch_delivery;
        uint64_t watch_delivery_ns;
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

struct xsim_guest_program;

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
    /* Guest and machine log lines (borrowed; NULL = none). */
    FILE *log;
    /* The guest program (guestprog.h; borrowed); NULL: xensim's own. */
    const struct xsim_guest_program *guest;
    /* Write the interleaving around each switch of the run's choice list
     * (vCPU, access kind, object, source line) and the failures here
     * (borrowed; NULL = none). Keeps every scheduling point meanwhile. */
    FILE *explain;
    /* enum xsim_backend; XSIM_BACKEND_AUTO (0): the scenario's
     * machine.backend. Decisions and digest do not depend on it. */
    int backend;
    /* A replay: the policy the run was recorded under (borrowed; NULL:
     * not a replay). A replay of a `time` run is judged as one: the
     * oracles that hold only where virtual time is elapsed time apply. */
    const char *replay_of;
};

#define XSIM_MAX_ORACLES 32

struct xsim_oracle_result {
    char name[48];
    bool pass;
    /* The oracle does not apply to this run (a performance bound under a
     * policy where virtual time does not mean elapsed time): pass is true,
     * detail says why. */
    bool not_judged;
    char detail[256];
};

struct xsim_wl_result {
    char name[32];
    int type; /* enum xsim_wl_type */
    uint64_t sent, handled, consumed;
    uint64_t latency_ns_mean, latency_ns_p50, latency_ns_p99, latency_ns_max;
    int cpu; /* where its port ended up */
    /* block-io: sent = submitted, handled = completed; latencies are
     * submit-to-completion. timer: sent = armed, handled = fired.
     * ipi: sent = IPIs sent, handled = handler runs. */
    uint64_t reads, writes, flushes, barriers, discards; /* their sum is sent */
    uint64_t errors;                                     /* I/Os that completed with an error */
    uint64_t unsupported; /* discards or flushes the device does not offer: -EOPNOTSUPP */
    uint64_t refused;     /* I/Os the device refused for good (not in sent; dropped) */
    uint64_t retried;     /* submissions refused for now (a full queue), tried again */
    int refused_errno;    /* the last refusal for good's errno (positive); 0: none */
    uint64_t refused_first_ns;
    uint64_t verified; /* reads whose data was checked */
    uint64_t verify_failed;
    uint64_t early; /* timer callbacks before their deadline */
    /* events: the queue of each device, item by item. wait = send to
     * service start, sojourn = send to service end, service = the handler
     * time the item took. latency_ns_* above repeat the wait. */
    char service[48]; /* the service distribution, "exp:5us" */
    struct xsim_dist_summary wait, sojourn, service_time;
    double sojourn_ns_mean_ci95;                 /* 95% half-width (batch means); -1: too few */
    double arrival_rate_per_s, throughput_per_s; /* over the sending window */
    uint64_t unserved;                           /* sent but not served by the end */
    uint64_t empty_runs;                         /* handler runs that found nothing */
    uint64_t acausal;                            /* items seen before their send time */
    /* the guest's storm throttle on its port: handler runs with nothing to
     * do, and times it masked the port */
    uint64_t port_spurious, port_throttled;
    bool little_checked; /* Poisson arrivals: L seen by arrivals vs lambda W */
    double little_L, little_lambda_W;
    double little_L_ci95, little_lambda_W_ci95; /* 95% half-widths; -1: too few */
    /* Items whose send woke their idle CPU: mean wait and where it went */
    uint64_t idle_n;
    double idle_wait_mean;
    double idle_ns_mean[XSIM_COST__COUNT];
};

/* One vCPU's time over the run. */
struct xsim_cpu_result {
    double utilization;         /* fraction of the run not halted */
    double handler_utilization; /* fraction spent in handler work */
    uint64_t busy_ns, handler_ns;
    uint64_t service_ns;                       /* what the events workloads charged on it */
    uint64_t upcalls, empty_upcalls, deferred; /* the guest's upcalls on it */
};

struct xsim_disk_result {
    char name[32];
    char state[16];               /* the frontend's state at the end */
    bool flush, barrier, discard; /* features in force at the end */
    unsigned int indirect_segs, ring_pages;
    uint64_t requests, barrier_fallbacks, flush_fallbacks, requeued, bad_responses, connects;
    uint64_t backend_requests, backend_errors;
    uint64_t stale_maps, stale_mapped;     /* the stale_map fault: tried, allowed */
    uint64_t power_loss_ns;                /* when the power failed (0: never) */
    uint64_t lost_sectors;                 /* cached sectors the power loss dropped */
    uint64_t durable_checked, durable_bad; /* sectors checked after the power loss */
    char durable_detail[160];
};

struct xsim_report {
    char scenario[64];
    char guest[64]; /* the guest program's name */
    uint64_t seed;
    char policy[64];
    char backend[16]; /* "thread" or "fiber": what the run ran on */
    enum xsim_stop_reason stop;
    char failure[512];
    char replay_error[256];
    uint64_t digest;
    struct xsim_stats stats;
    /* what the guest found and chose */
    bool xen;
    uint32_t xen_version;
    uint32_t xenfeat;
    char callback[32];    /* what the guest program says it chose */
    char hv_callback[32]; /* what the hypervisor delivers by (the callback oracle) */
    bool percpu_events;
    char timer_kind[16], ipi_mode[16], clock_source[16]; /* "" when not set up */
    int boot_rc;
    struct xsim_wl_result wl[XSIM_SCN_MAX_WORKLOADS];
    size_t nwl;
    /* Every item of every events workload together (name "all"): sent,
     * consumed, wait, sojourn, service, interval, throughput. */
    struct xsim_wl_result events_all;
    bool has_events_all;
    struct xsim_disk_result disk[XSIM_SCN_MAX_DISKS];
    size_t ndisks;
    struct xsim_migration_result {
        uint64_t requested, suspended, migrated, cancelled, failed;
        uint64_t downtime_ns_max, ack_ns_max;
        /* The guest's own resume, worst case: from its SCHEDOP_shutdown
         * returning to its devices and other CPUs being back (0: none
         * measured, or a guest program that does not report suspends). */
        uint64_t guest_resume_ns_max;
        uint64_t guest_resumed, guest_cancelled;
        uint64_t clock_backwards; /* samples where the guest clock went back */
    } migration;
    uint64_t cpu_events[XSIM_MAX_VCPUS];
    struct xsim_cpu_result cpu[XSIM_MAX_VCPUS];
    unsigned int ncpus;
    struct xsim_oracle_result oracles[XSIM_MAX_ORACLES];
    size_t noracles;
    /* Laws of the measurements themselves (Little's law, the utilisation
     * law), checked on every run: a failure is the simulator's, not the
     * guest's, and does not change the exit status. */
    struct xsim_oracle_result laws[2];
    size_t nlaws;
    bool all_pass;
    struct xsim_choices choices; /* owned; xsim_report_free */
    char cost_profile[64];
    /* The event channel ABI the guest program says it uses ("fifo",
     * "2-level"; "" when it does not say) and the hypervisor's view. */
    char event_abi[16];
    char hv_event_abi[16];
};

/* Run the scenario once. Returns 0 (the report says whether oracles held)
 * or a negative errno when the run could not be set up. `trace_jsonl` and
 * `trace_chrome` (may be NULL) receive the trace exports. */
/* The policy a run of `s` uses for `spec`. A scenario driven by time
 * (disks, migrations, timer or IPI workloads) under an exploring policy
 * without a timing gate gets XSIM_DEFAULT_GATE: its devices, toolstack and
 * timers may run at most that far ahead of the earliest runnable vCPU, so
 * vCPUs can be late (the races that need it stay reachable) but the
 * scenario's clockwork cannot race to its end while the guest is still
 * setting up. Returns `spec` itself or `buf`. */
#define XSIM_DEFAULT_GATE "+time:50us"
const char *xsim_scenario_policy_spec(const struct xsim_scenario *s, const char *spec, char *buf,
                                      size_t size);

int xsim_run(const struct xsim_scenario *s, const struct xsim_run_options *opt,
             struct xsim_report *rep, FILE *trace_jsonl, FILE *trace_chrome);
void xsim_report_free(struct xsim_report *rep);
void xsim_report_print(const struct xsim_report *rep, FILE *out);
/* One JSON object with at least digest, oracles, stats. */
int xsim_report_print_json(const struct xsim_report *rep, FILE *out);

#endif
