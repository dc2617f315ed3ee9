/*
 * world_internal.h - the world's private structures, shared by world.c,
 * policy.c, trace.c, platform_sim.c and cost.c.
 */
#ifndef XSIM_WORLD_INTERNAL_H
#define XSIM_WORLD_INTERNAL_H

#include <pthread.h>
#include <setjmp.h>

#include "xensim/cost.h"
#include "xensim/world.h"

#include "world/baton.h"
#include "world/evq.h"
#include "world/fiber.h"

enum xsim_vcpu_state {
    XSIM_VCPU_NEW = 0,
    XSIM_VCPU_RUNNABLE,
    XSIM_VCPU_HALTED,
    XSIM_VCPU_DONE,
};

struct xsim_vcpu {
    struct xsim_world *world;
    struct xsim_domain *dom;
    unsigned int cpu;   /* index in the domain */
    unsigned int index; /* index in the world (entity id) */
    enum xsim_vcpu_state state;
    uint64_t vtime;    /* this vCPU's clock: it is busy until then */
    struct xsim_point_rec last_point; /* its latest scheduling point */
    uint64_t last_ran; /* decision count when last chosen (yield order) */
    /* Accounting (owner thread only, or the baton holder): ns charged per
     * reason, the snapshot of it taken when last woken from halt, when the
     * current halt began, wakes so far and the time spent halted. */
    uint64_t cost_ns[XSIM_COST__COUNT];
    uint64_t cost_ns_at_wake[XSIM_COST__COUNT];
    uint64_t halted_at, idle_ns, wakes, woke_at;
    struct xsim_baton baton;
    pthread_t thread;
    bool started;
    jmp_buf exit_jmp;
    /* fiber backend: this vCPU's context; the point count at its last
     * scheduling point (named when it crashes) */
    struct xsim_fiber fiber;
    uint64_t last_point_no;

    /* Local APIC core. irr/noeoi are touched by other threads in free-run
     * mode, so they are accessed atomically; isr and if_flag only by the
     * owner. */
    uint64_t irr[4];
    uint64_t noeoi[4]; /* pending vectors that set no in-service bit */
    uint64_t tmr[4];   /* trigger mode: vectors last raised level-triggered */
    uint64_t isr[4];
    /* An external-interrupt exit is owed (a kick or host interrupt reached
     * the vCPU while it ran guest code); charged by the owner at its next
     * delivery point. Set by any thread, so accessed atomically. */
    bool intr_exit_pending;
    bool if_flag;
    unsigned int intr_depth;
    void (*entry_hook)(struct xsim_vcpu *, void *);
    void *entry_hook_arg;

    /* free-run mode: halt waits here */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint64_t kicks; /* free-run: xsim_vcpu_kick count, under mu */
};

struct xsim_domain {
    struct xsim_world *world;
    uint16_t domid;
    unsigned int nr_vcpus;
    struct xsim_vcpu **vcpus;
    struct xsim_guest_ops ops;
    void *guest;
    void *hv;
    struct xg_platform platform;
    /* guest RAM arena */
    uint8_t *ram;
    size_t ram_pages;
    size_t ram_next;    /* bump allocator */
    uint64_t *ram_free; /* freed page indexes */
    size_t nram_free;
};

/* Per-run state of the policy (the policy object itself may outlive runs). */
struct xsim_sched {
    struct xsim_rng rng;
    /* the entity yielding at this decision (a wait loop), or -1 */
    int yield_from;
    /* pct */
    int *prio;    /* by entity (vCPUs, then the event pseudo-entity) */
    int min_prio; /* yields drop a spinner below every other priority */
    /* The entity that took the last step was the event pseudo-entity
     * (events just ran inline): a change point lowers it, not `self`. */
    bool after_event;
    uint64_t *change_at;
    unsigned int nchange;
    /* bytes */
    size_t byte_pos;
    /* replay */
    size_t replay_pos;
    /* dfs */
    uint64_t preemptions;
};

struct xsim_world {
    struct xsim_world_config cfg;
    struct xsim_policy *policy;
    struct xsim_point_rec *points; /* config.keep_points */
    size_t npoints, cap_points;
    bool points_full;
    bool events_in_time; /* the policy's "+time" modifier, read once */
    uint64_t events_skew_ns; /* its ":D" */
    /* Past the time limit under an exploring policy, the run drains
     * fairly (earliest first, no new choices recorded) until every vCPU is
     * idle or the clock reaches drain_limit_ns: liveness oracles then judge
     * the guest, not a starving schedule. */
    bool fair_drain;
    uint64_t drain_limit_ns;
    bool policy_time;   /* the policy is `time` (its fast path), read once */
    bool time_rules;    /* `time`, or a replay of it: spins do not yield, the
                           time limit stops the run (xsim__policy_time_rules) */
    bool policy_random; /* the policy is `random`, read once */
    struct xsim_sched sched;
    const struct xsim_cost_profile *costs;
    uint64_t spin_ns; /* the profile's "spin" cost, looked up once */

    uint64_t now; /* world clock */
    struct xsim_evq evq;
    struct xsim_domain *domains[16];
    unsigned int ndomains;
    struct xsim_vcpu *vcpus[XSIM_MAX_VCPUS];
    unsigned int nvcpus;
    uint64_t runnable[XSIM_MAX_VCPUS / 64];
    unsigned int nrunnable;
    unsigned int nlive; /* not DONE */

    struct xsim_vcpu *cur; /* baton holder (NULL = main thread) */
    struct xsim_baton main_baton;
    /* Fiber backend: vCPUs are fibers on the thread that calls run, and the
     * baton moves by switching contexts (main_fiber: that thread's own). */
    bool fibers;
    struct xsim_fiber main_fiber;
    struct xsim_vcpu *main_self; /* xsim__self of the thread that runs */
    sigjmp_buf crash_jb;
    bool ran;
    bool stopping; /* stop at the next point */
    bool exiting;  /* threads unwind */
    enum xsim_stop_reason stop_reason;
    char failure[512];
    /* A guest BUG stopped a vCPU, possibly inside a guest spinlock it will
     * never release (xsim_world_guest_bug). */
    bool guest_bug;
    char replay_error[256];
    int pin_cpu;

    xsim_hypercall_fn hcall[XSIM_MAX_HYPERCALLS];
    void *hcall_ctx[XSIM_MAX_HYPERCALLS];
    struct xsim_cpu_hooks cpu_hooks;

    struct xsim_stats stats;
    struct xsim_choices choices;

    /* trace */
    bool trace_slow; /* records are kept, or free-run mode: not inline */
    uint64_t digest;
    uint64_t ntrace;
    struct xsim_trace_rec *trace;
    size_t trace_len, trace_cap;
    /* Spans of vCPU activity for the exports (config.keep_trace): not
     * records, not in the digest. */
    struct xsim__span *spans;
    size_t nspans, spans_cap;

    /* free-run mode */
    pthread_mutex_t big;    /* hypervisor state, event queue, trace */
    pthread_cond_t fr_cv;   /* main thread waits for state changes */
    unsigned int fr_halted; /* vCPUs waiting in halt */
    uint64_t fr_wakes;      /* wakeups from halt, ever */
};

/* policy.c */
int xsim__sched_init(struct xsim_world *w);
void xsim__sched_free(struct xsim_world *w);
/* Pick among `n` candidates (entity ids, vCPU indexes ascending, then
 * XSIM_ENTITY_EVENT); `self` is the index of the running vCPU in cand or -1;
 * times[i] is the candidate's virtual time. Returns the index chosen, or -1
 * on a replay error (w->replay_error is set). */
/* The policy's "+time" modifier: timed events wait for the vCPUs' clocks. */
bool xsim__policy_events_in_time(const struct xsim_policy *p);
/* A guest scheduling point of `v` (platform_sim.c): remember where it is
 * (the vCPU's last point: what a crash report names), and keep it when
 * config.keep_points. Called at every point: only four stores unless the
 * points are kept. */
void xsim__point_keep(struct xsim_world *w, struct xsim_vcpu *v);
static inline void xsim__point_note(struct xsim_world *w, struct xsim_vcpu *v, unsigned int kind,
                                    const volatile void *addr, const char *file, int line)
{
    v->last_point.kind = kind;
    v->last_point.addr = addr;
    v->last_point.file = file;
    v->last_point.line = line;
    /* In free-run mode the vCPUs run in parallel: only their own record. */
    if (w->cfg.keep_points && w->cfg.mode != XSIM_MODE_FREE_RUN)
        xsim__point_keep(w, v);
}uint64_t xsim__policy_events_skew(const struct xsim_policy *p);
bool xsim__policy_is_time(const struct xsim_policy *p);
/* `time` itself, or a replay of a `time` recording (spins do not yield,
 * the time limit stops the run). */
bool xsim__policy_time_rules(const struct xsim_policy *p);
/* The policy is `random` (reschedule draws its pick inline). */
bool xsim__policy_is_random(const struct xsim_policy *p);
/* The `time` rule (earliest first), for the fair drain after the time
 * limit of an exploring policy. */
int xsim__policy_pick_fair(struct xsim_world *w, const uint32_t *cand, const uint64_t *times,
                           unsigned int n, int self);
int xsim__policy_pick(struct xsim_world *w, const uint32_t *cand, const uint64_t *times,
                      unsigned int n, int self);
/* Called when the run ends (dfs bookkeeping). */
void xsim__policy_run_end(struct xsim_world *w);


/* trace.c. A span is a stretch of one vCPU's time doing one thing, kept
 * (config.keep_trace) for the Chrome export only: an interrupt from its
 * delivery to its return (the handlers it ran: an event channel upcall is
 * one), a hypercall from its exit to its return. Spans are not trace
 * records and leave the digest alone. */
enum xsim__span_kind { XSIM__SPAN_INTERRUPT = 1, XSIM__SPAN_HYPERCALL };
struct xsim__span {
    uint64_t start_ns, end_ns;
    uint32_t entity;
    uint32_t kind; /* enum xsim__span_kind */
    uint64_t a, b; /* interrupt: vector; hypercall: op, first argument */
};
void xsim__span_keep(struct xsim_world *w, uint32_t entity, uint32_t kind, uint64_t start_ns,
                     uint64_t a, uint64_t b);
/* A record kept for export, or in free-run mode (under `big`). */
void xsim__trace_rec_slow(struct xsim_world *w, uint32_t type, uint32_t entity, uint64_t a,
                          uint64_t b, uint64_t c);
void xsim__trace_free(struct xsim_world *w);

/* world.c, for platform_sim.c */
void xsim__halt(struct xsim_world *w, struct xsim_vcpu *v);
void xsim__irq_enable(struct xsim_world *w, struct xsim_vcpu *v);
/* The calling vCPU `v` stops executing guest code for good (after a guest
 * BUG: the world has already been failed). Its thread parks until the
 * world is destroyed, which unwinds it to its entry frame. */
_Noreturn void xsim__vcpu_abort(struct xsim_world *w, struct xsim_vcpu *v);
/* Retire the highest in-service vector; returns it, or -1. `level` (may be
 * NULL) tells whether it was raised level-triggered (its TMR bit). */
int xsim__eoi(struct xsim_vcpu *v, bool *level);
void xsim__platform_init(struct xsim_domain *d);
extern __thread struct xsim_vcpu *xsim__self;

/* Add to a statistic: atomically in free-run mode, where vCPUs run in
 * parallel. */
static inline void xsim__stat_add(struct xsim_world *w, uint64_t *field, uint64_t n)
{
    if (w->cfg.mode == XSIM_MODE_FREE_RUN)
        __atomic_fetch_add(field, n, __ATOMIC_RELAXED);
    else
        *field += n;
}

/* xsim_world_now for the hot paths (trace records). */
static inline uint64_t xsim__now(const struct xsim_world *w)
{
    struct xsim_vcpu *v = xsim__self;

    if (v != NULL && v->world == w)
        return __atomic_load_n(&v->vtime, __ATOMIC_RELAXED);
    return __atomic_load_n(&w->now, __ATOMIC_RELAXED);
}

static inline uint32_t xsim__entity(const struct xsim_vcpu *v)
{
    return v != NULL ? v->index : XSIM_ENTITY_EVENT;
}

/* One step of the run digest's fold (its definition is in trace.c). */
static inline uint64_t xsim__digest_fold(uint64_t h, uint64_t word)
{
    h = (h ^ word) * 0x100000001b3ULL;
    return h ^ (h >> 32);
}

/* A trace record: folded into the digest, and kept when asked. Inline, as
 * deterministic runs without an export only fold it (every scheduling
 * decision that switches, interrupt, hypercall and timed event makes one). */
static inline void xsim__trace_rec(struct xsim_world *w, uint32_t type, uint32_t entity,
                                   uint64_t a, uint64_t b, uint64_t c)
{
    uint64_t h;

    if (w->trace_slow) {
        xsim__trace_rec_slow(w, type, entity, a, b, c);
        return;
    }
    h = xsim__digest_fold(w->digest, (uint64_t)type | (uint64_t)entity << 32);
    h = xsim__digest_fold(h, xsim__now(w));
    h = xsim__digest_fold(h, a);
    h = xsim__digest_fold(h, b);
    w->digest = xsim__digest_fold(h, c);
    w->ntrace++;
}

#endif
