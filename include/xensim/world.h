/*
 * world.h - the deterministic world: virtual clock, timed-event queue, vCPU
 * threads under a baton scheduler, schedule policies, cost accounting and the
 * trace digest.
 *
 * A run is a pure function of (what was built into the world, seed, policy):
 * same inputs, same trace, same digest, on any host. In deterministic mode
 * exactly one thread runs simulated code at a time; at every scheduling point
 * the policy decides who goes next. In free-run mode the vCPU threads run
 * truly in parallel (for stress and ThreadSanitizer), not reproducibly.
 *
 * Lifecycle: xsim_world_create -> xsim_domain_create (one or more) ->
 * xsim_event_schedule (optional) -> xsim_world_run -> read results ->
 * xsim_world_destroy. A world runs once.
 */
#ifndef XENSIM_WORLD_H
#define XENSIM_WORLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "xensim/error.h"
#include "xensim/platform.h"
#include "xensim/prng.h"

#ifdef __cplusplus
extern "C" {
#endif

struct xsim_world;
struct xsim_domain;
struct xsim_vcpu;
struct xsim_policy;
struct xsim_cost_profile;

#define XSIM_MAX_VCPUS 256 /* per world, all domains together */
#define XSIM_PAGE_SIZE 4096
#define XSIM_GFN_BASE  0x1000 /* first guest frame of a domain's RAM arena */

enum xsim_mode {
    XSIM_MODE_DETERMINISTIC = 0,
    XSIM_MODE_FREE_RUN = 1,
};

enum xsim_stop_reason {
    XSIM_STOP_NONE = 0,
    XSIM_STOP_QUIESCENT,  /* no runnable vCPU and no pending timed event */
    XSIM_STOP_ALL_DONE,   /* every vCPU's start function returned */
    XSIM_STOP_TIME_LIMIT, /* the clock reached config.time_limit_ns */
    XSIM_STOP_EVENT_LIMIT,
    XSIM_STOP_STEP_LIMIT,   /* config.max_decisions scheduling decisions */
    XSIM_STOP_FAILED,       /* xsim_world_fail: an invariant or oracle broke */
    XSIM_STOP_REQUESTED,    /* xsim_world_stop */
    XSIM_STOP_REPLAY_ERROR, /* a replay list ran out or does not fit the run */
};

/* Why virtual time was charged. Counters for every reason are kept per run
 * (count and total ns); the cost profile gives the default ns of each. */
enum xsim_cost_reason {
    XSIM_COST_POINT = 0,  /* a shared-memory access (scheduling point) */
    XSIM_COST_HYPERCALL,  /* VMCALL exit + dispatch + return */
    XSIM_COST_EXIT_MSR,   /* WRMSR/RDMSR exit (TSC deadline, x2APIC ICR) */
    XSIM_COST_EXIT_MMIO,  /* MMIO exit (HPET, xAPIC) */
    XSIM_COST_EXIT_IO,    /* port I/O exit */
    XSIM_COST_EXIT_EOI,   /* LAPIC EOI exit (none with APICv) */
    XSIM_COST_EXIT_CPUID, /* CPUID exit */
    XSIM_COST_EXIT_HLT,   /* HLT exit */
    XSIM_COST_INJECT,     /* interrupt injection at VM entry */
    XSIM_COST_UPCALL,     /* guest upcall entry/exit overhead */
    XSIM_COST_HANDLER,    /* handler work the guest declares */
    XSIM_COST_GUEST,      /* other guest work the guest declares */
    XSIM_COST_IOAPIC,     /* IOAPIC routing / level re-evaluation */
    XSIM_COST_BACKEND,    /* backend work (blkback, xenstored) */
    XSIM_COST_WAKE,       /* waking a halted vCPU (IPI to a pCPU, resched) */
    /* Appended: the values above are stable. */
    XSIM_COST_EXIT_INTR,        /* external-interrupt exit of a running vCPU (kick
                                   IPI or host timer), before an injection */
    XSIM_COST_EXIT_EOI_INDUCED, /* APICv: EOI of a level-triggered vector
                                   (EOI-exit bitmap), trap-like */
    XSIM_COST__COUNT
};

/* Name of a cost reason ("hypercall", "exit_mmio", ...). */
const char *xsim_cost_reason_name(enum xsim_cost_reason reason);

/* How a deterministic world runs its vCPUs (free-run mode always uses
 * threads). Both make the same decisions and the same digest. */
enum xsim_backend {
    XSIM_BACKEND_AUTO = 0,   /* fiber where the hand-written switch exists, else thread */
    XSIM_BACKEND_THREAD = 1, /* one pthread per vCPU, futex/condvar handoff */
    XSIM_BACKEND_FIBER = 2,  /* one fiber per vCPU on the thread that calls run */
};

struct xsim_world_config {
    uint64_t seed;
    enum xsim_mode mode;
    /* Host CPU to pin a deterministic world's threads to: -1 = the CPU the
     * creating thread is on (default), -2 = do not pin. */
    int pin_cpu;
    uint64_t time_limit_ns; /* 0 = none */
    uint64_t max_events;    /* timed events to run; 0 = none */
    uint64_t max_decisions; /* scheduling decisions; 0 = none */
    /* Under the `time` policy a running vCPU keeps the baton while its clock
     * is less than quantum_ns ahead of every other runnable entity. 0 gives
     * the finest interleaving. */
    uint64_t quantum_ns;
    bool keep_trace;   /* keep trace records for export (digest is always kept) */
    size_t stack_size; /* vCPU thread or fiber stack; 0 = 256 KiB */
    const struct xsim_cost_profile *costs; /* borrowed; NULL = built-in defaults */
    FILE *log;                             /* guest and world log lines; NULL = none */
    /* Keep every guest scheduling point (vCPU, kind, address, source
     * line) for xsim_world_points: what `replay --explain` shows. Not part
     * of the digest; costs memory (48 bytes a point). */
    bool keep_points;
    enum xsim_backend backend;             /* AUTO (default), THREAD or FIBER */
};

/* The backend AUTO stands for in deterministic mode on this build. */
enum xsim_backend xsim_backend_default(void);
/* Whether this build can run fibers at all (the hand-written switch or
 * ucontext). */
bool xsim_backend_fiber_available(void);
/* "auto", "thread" or "fiber"; parse returns -EINVAL for anything else. */
const char *xsim_backend_name(enum xsim_backend b);
int xsim_backend_parse(const char *name, enum xsim_backend *out);

/* Defaults: seed 1, deterministic, pin -1, no limits, quantum 0. */
void xsim_world_config_init(struct xsim_world_config *cfg);

/* Create a world. `policy` is borrowed and must outlive the world (one policy
 * object may serve many consecutive worlds: dfs uses that to enumerate).
 * Returns 0 or -EINVAL / -ENOMEM. */
int xsim_world_create(const struct xsim_world_config *cfg, struct xsim_policy *policy,
                      struct xsim_world **out);

/* Stop and join every thread, free everything. */
void xsim_world_destroy(struct xsim_world *w);

/* Run until a stop condition; returns the reason. May be called once. */
enum xsim_stop_reason xsim_world_run(struct xsim_world *w);

/* Ask the world to stop at the next scheduling point (from simulated code). */
void xsim_world_stop(struct xsim_world *w);

/* An invariant or oracle broke: record the message, stop the run. The first
 * failure wins. Callable from simulated code and timed events. */
void xsim_world_fail(struct xsim_world *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* True once guest code reported a broken invariant of its own (platform
 * bug op, XG_BUG_ON): the vCPU that hit it is parked for good and may hold
 * guest locks, so a host must not call guest functions that take them. */
bool xsim_world_guest_bug(const struct xsim_world *w);

/* The failure message, or NULL if none. */
const char *xsim_world_failure(const struct xsim_world *w);
const char *xsim_stop_reason_name(enum xsim_stop_reason r);

/* Virtual now in ns: the calling vCPU's own clock when called from a vCPU,
 * else the world's clock. Never decreases for a given caller. */
uint64_t xsim_world_now(const struct xsim_world *w);
enum xsim_mode xsim_world_mode(const struct xsim_world *w);
/*
 * Many short runs in a row on the calling thread (an explorer's worker):
 * between begin and end, fiber runs keep their crash handler (SIGSEGV and
 * SIGBUS) and alternate signal stack installed from one run to the next
 * instead of installing and restoring them around each run, which costs
 * six system calls a run. end restores what was there before; calls nest.
 * A fault outside a fiber still goes to the previous handler meanwhile.
 */
void xsim_world_session_begin(void);
void xsim_world_session_end(void);

/* The backend the world runs on (never AUTO). */
enum xsim_backend xsim_world_backend(const struct xsim_world *w);
uint64_t xsim_world_seed(const struct xsim_world *w);

/* A named random stream of this run (see prng.h). */
void xsim_world_rng(const struct xsim_world *w, const char *stream, struct xsim_rng *rng);

/* ---- Guests hosted on the machine ---- */

/* How the machine enters guest code. Both run on the vCPU's thread. */
struct xsim_guest_ops {
    /* The vCPU's entry point; the vCPU is done when it returns. */
    void (*start)(void *guest, unsigned int cpu);
    /* Interrupt `vector` on `cpu`, entered with interrupts disabled; they
     * are restored when it returns (iret). */
    void (*interrupt)(void *guest, unsigned int cpu, uint8_t vector);
};

/* Create domain `domid` with `nr_vcpus` vCPUs (0 for a backend domain whose
 * work is all timed events) and `ram_pages` pages of guest RAM. `guest` is
 * borrowed. */
int xsim_domain_create(struct xsim_world *w, uint16_t domid, unsigned int nr_vcpus,
                       size_t ram_pages, const struct xsim_guest_ops *ops, void *guest,
                       struct xsim_domain **out);

struct xsim_domain *xsim_world_domain(struct xsim_world *w, uint16_t domid);
uint16_t xsim_domain_id(const struct xsim_domain *d);
unsigned int xsim_domain_nr_vcpus(const struct xsim_domain *d);
struct xsim_vcpu *xsim_domain_vcpu(struct xsim_domain *d, unsigned int cpu);
struct xsim_world *xsim_domain_world(struct xsim_domain *d);

/* The platform (platform.h) guest code of this domain uses. */
const struct xg_platform *xsim_domain_platform(struct xsim_domain *d);

/* Per-domain slot where the hypervisor layer hangs its state. */
void xsim_domain_set_hv(struct xsim_domain *d, void *hv);
void *xsim_domain_hv(const struct xsim_domain *d);

/* A page of the domain's RAM for the toolstack (a ring page it hands the
 * guest), zeroed; NULL when the domain is out of RAM. */
void *xsim_domain_page_alloc(struct xsim_domain *d, uint64_t *gfn);

/* Guest frame number -> host pointer to the page, or NULL if the frame is not
 * RAM of this domain (a guest's bad pointer must not crash the hypervisor). */
void *xsim_domain_gfn_to_ptr(struct xsim_domain *d, uint64_t gfn);
/* Host pointer inside the RAM arena -> gfn, or UINT64_MAX if outside. */
uint64_t xsim_domain_ptr_to_gfn(struct xsim_domain *d, const void *p);
/* Check that [va, va+len) lies inside the domain's RAM (hypercall argument
 * validation, like copy_from_guest failing with -EFAULT). */
bool xsim_domain_range_ok(struct xsim_domain *d, const void *va, size_t len);

/* ---- vCPUs ---- */

/* The vCPU whose thread is calling, or NULL (main thread, free-run events). */
struct xsim_vcpu *xsim_vcpu_current(void);
unsigned int xsim_vcpu_id(const struct xsim_vcpu *v); /* index in its domain */
struct xsim_domain *xsim_vcpu_domain(struct xsim_vcpu *v);
uint64_t xsim_vcpu_now(const struct xsim_vcpu *v);
bool xsim_vcpu_halted(const struct xsim_vcpu *v);

/* Where one vCPU's virtual time went (deterministic mode; read it from the
 * vCPU itself or once the run is over). */
struct xsim_vcpu_account {
    uint64_t cost_ns[XSIM_COST__COUNT];       /* ns charged per reason, all run */
    uint64_t since_wake_ns[XSIM_COST__COUNT]; /* ... since it was last woken from
                                               halt (wake included) */
    uint64_t wakes;                           /* times woken from halt */
    uint64_t woke_at_ns;                      /* its clock when last woken, before the wake cost */
    uint64_t busy_ns;                         /* time not halted, up to at_ns */
    uint64_t halted_ns;                       /* time halted, up to at_ns */
};
void xsim_vcpu_account(const struct xsim_vcpu *v, uint64_t at_ns, struct xsim_vcpu_account *out);
/* How many times `v` was woken from halt (xsim_vcpu_account's wakes, alone
 * and cheap: per-item measurement asks it first). */
uint64_t xsim_vcpu_wakes(const struct xsim_vcpu *v);

/* How a vector reaches the local APIC (xsim_vcpu_raise_flags). */
enum xsim_irq_flags {
    /* Injected without an in-service bit and so without an EOI (Xen's
     * global callback vector, injected at VM entry while upcall_pending). */
    XSIM_IRQ_NO_EOI = 1u << 0,
    /* Level-triggered (from a level-triggered vIOAPIC pin): the trigger-mode
     * register bit is set, so with APICv the vector's EOI still exits
     * (EOI-induced exit) and reaches the vIOAPIC (hook eoi, level true). */
    XSIM_IRQ_LEVEL = 1u << 1,
    /* Delivered through the virtual local APIC (Xen's vlapic_set_irq): with
     * posted interrupts a running target takes it without an exit. Without
     * this flag a running target is kicked (Xen's vcpu_kick): an
     * external-interrupt exit, then injection at VM entry. */
    XSIM_IRQ_POSTABLE = 1u << 2,
};

/* Make `vector` pending in the vCPU's local APIC IRR (flags: enum
 * xsim_irq_flags). Wakes the vCPU from halt (cost reason wake). A vector
 * newly pending for a vCPU that is running guest code and is not the caller
 * costs it an external-interrupt exit (reason exit_intr, charged on its own
 * clock at its next delivery point) unless the flags and the cost profile's
 * posted interrupts let it through without one. Callable from any simulated
 * context. */
void xsim_vcpu_raise_flags(struct xsim_vcpu *v, uint8_t vector, unsigned int flags);
/* xsim_vcpu_raise_flags with XSIM_IRQ_POSTABLE when `needs_eoi`, else
 * XSIM_IRQ_NO_EOI: a LAPIC vector, or the global callback vector. */
void xsim_vcpu_raise(struct xsim_vcpu *v, uint8_t vector, bool needs_eoi);
/* A host interrupt (a Xen timer) fired on the physical CPU that runs `v`:
 * if `v` is running guest code and is not the caller, it takes an
 * external-interrupt exit, whatever the assists. An injection raised right
 * after it rides on the same exit. */
void xsim_vcpu_host_irq(struct xsim_vcpu *v);
/* Withdraw a pending, not yet delivered vector (level line lowered). */
void xsim_vcpu_lower(struct xsim_vcpu *v, uint8_t vector);
/* Hook consulted at every delivery opportunity of a vCPU: the hypervisor's
 * chance to raise a level/callback vector (global callback vector while
 * upcall_pending is set). */
void xsim_vcpu_set_entry_hook(struct xsim_vcpu *v, void (*hook)(struct xsim_vcpu *, void *),
                              void *arg);

/* Block the calling vCPU inside a hypercall (SCHEDOP_block/poll) until
 * ready(v, arg) holds. It is re-evaluated whenever the vCPU is kicked or an
 * interrupt is raised to it; interrupts are not delivered while blocked. */
void xsim_vcpu_block(struct xsim_vcpu *v, bool (*ready)(struct xsim_vcpu *, void *), void *arg);
/* Make a blocked or halted vCPU re-check its condition. */
void xsim_vcpu_kick(struct xsim_vcpu *v);
/* True if a vector is pending that the vCPU would take with interrupts on. */
bool xsim_vcpu_irq_pending(struct xsim_vcpu *v);
/* The vCPU's interrupt flag (for hypercalls that depend on it). */
bool xsim_vcpu_irq_enabled(const struct xsim_vcpu *v);

/* Charge `ns` of virtual time to the vCPU for `reason` (counted in stats). */
void xsim_charge(struct xsim_vcpu *v, enum xsim_cost_reason reason, uint64_t ns);
/* Count an occurrence without charging time. */
void xsim_count(struct xsim_world *w, enum xsim_cost_reason reason, uint64_t ns);
/* The run's cost profile (borrowed). */
const struct xsim_cost_profile *xsim_world_costs(const struct xsim_world *w);
/* The cost profile's ns for a reason. */
uint64_t xsim_cost(const struct xsim_world *w, enum xsim_cost_reason reason);
/* A named cost from the profile (e.g. "hpet_read"), or `fallback`. */
uint64_t xsim_cost_named(const struct xsim_world *w, const char *name, uint64_t fallback);

/* A scheduling point of the calling vCPU (what platform ops call). */
void xsim_point(struct xsim_world *w);
/* A scheduling point inside a wait loop: under every policy but `time` the
 * caller yields to another runnable entity if there is one. */
void xsim_point_spin(struct xsim_world *w);

/* ---- Hypercalls ---- */

typedef long (*xsim_hypercall_fn)(struct xsim_domain *d, struct xsim_vcpu *v, void *ctx,
                                  unsigned long a1, unsigned long a2, unsigned long a3,
                                  unsigned long a4, unsigned long a5);
#define XSIM_MAX_HYPERCALLS 64

/* Install the handler of hypercall `op` (< 64); unknown ops return -ENOSYS. */
int xsim_world_set_hypercall(struct xsim_world *w, unsigned int op, xsim_hypercall_fn fn,
                             void *ctx);
/* Hooks for cpuid/msr (the hypervisor layer installs them). */
struct xsim_cpu_hooks {
    void (*cpuid)(struct xsim_domain *d, void *ctx, uint32_t leaf, uint32_t sub, uint32_t r[4]);
    int (*rdmsr)(struct xsim_domain *d, void *ctx, uint32_t msr, uint64_t *val);
    /* Charges its own exit cost (APICv may make some writes exit-free). */
    int (*wrmsr)(struct xsim_domain *d, void *ctx, uint32_t msr, uint64_t val);
    /* TSC of a vCPU whose clock reads now_ns; NULL = a 1 GHz TSC from 0. */
    uint64_t (*rdtsc)(struct xsim_domain *d, void *ctx, uint64_t now_ns);
    /* Emulated MMIO; each hook charges its own exit. */
    uint64_t (*mmio_read)(struct xsim_domain *d, void *ctx, uint64_t gpa, unsigned int size);
    void (*mmio_write)(struct xsim_domain *d, void *ctx, uint64_t gpa, unsigned int size,
                       uint64_t val);
    /* After the local APIC retired `vector` from service; `level` when it
     * was raised level-triggered (its TMR bit is set: Xen then runs the
     * vIOAPIC's EOI processing, vioapic_update_EOI). */
    void (*eoi)(struct xsim_vcpu *v, void *ctx, int vector, bool level);
    /* A vector is being delivered to `v` (after the injection is charged,
     * before the guest's handler runs): the hypervisor's chance to charge
     * what that entry costs the guest (the event-channel upcall). */
    void (*deliver)(struct xsim_vcpu *v, void *ctx, int vector);
    void *ctx;
};
void xsim_world_set_cpu_hooks(struct xsim_world *w, const struct xsim_cpu_hooks *hooks);

/* ---- Timed events ---- */

typedef void (*xsim_event_fn)(struct xsim_world *w, void *arg);

/* Schedule fn(w, arg) at absolute virtual time `when_ns` (clamped to now).
 * `kind` is a small stable tag recorded in the trace (never a pointer).
 * Returns a nonzero handle, or 0 when the queue is full. */
uint64_t xsim_event_schedule(struct xsim_world *w, uint64_t when_ns, uint32_t kind,
                             xsim_event_fn fn, void *arg);
/* Cancel a pending event; returns true if it was pending. */
bool xsim_event_cancel(struct xsim_world *w, uint64_t handle);
size_t xsim_event_pending(const struct xsim_world *w);

/* ---- Trace ---- */

/* Record types. Values are part of the digest definition: never renumber. */
enum xsim_trace_type {
    XSIM_TR_SCHED = 1, /* a = chosen entity (vCPU index, or 0xffff = timed event) */
    XSIM_TR_EVENT = 2, /* a = kind */
    XSIM_TR_INTR = 3,  /* a = vector */
    XSIM_TR_HCALL = 4, /* a = op, b = first argument's command, result in c */
    XSIM_TR_HALT = 5,
    XSIM_TR_WAKE = 6,
    XSIM_TR_DONE = 7,
    XSIM_TR_GUEST = 8, /* a, b, c: guest-defined (workloads, oracles) */
    XSIM_TR_HV = 9,    /* a, b, c: hypervisor-visible action (evtchn set pending...) */
    XSIM_TR_FAIL = 10,
};

struct xsim_trace_rec {
    uint64_t time_ns;
    uint32_t type;
    uint32_t entity; /* global vCPU index, or 0xffff for world/timed-event context */
    uint64_t a, b, c;
};

/* Append a record (and fold it into the digest). */
void xsim_trace(struct xsim_world *w, uint32_t type, uint64_t a, uint64_t b, uint64_t c);
/* The run's 64-bit digest (see trace.c for its definition). */
uint64_t xsim_world_digest(const struct xsim_world *w);
uint64_t xsim_world_trace_count(const struct xsim_world *w);
/* One guest scheduling point (config.keep_points). */
struct xsim_point_rec {
    uint64_t decision; /* policy decisions taken before it */
    uint64_t time_ns;  /* the vCPU's clock */
    uint32_t entity;   /* global vCPU index */
    uint32_t kind;     /* enum xg_point_kind */
    const volatile void *addr;
    const char *file; /* NULL when the guest gave none */
    int line;
};
/* The kept points, in the order they happened (borrowed). */
const struct xsim_point_rec *xsim_world_points(const struct xsim_world *w, size_t *count);
/* The last scheduling point of vCPU `entity` (kept or not), its decision
 * field the decisions so far: 0, or -ENOENT when it has passed none with a
 * source position. */
int xsim_world_last_point(const struct xsim_world *w, uint32_t entity, struct xsim_point_rec *out);

/* Kept records (config.keep_trace), borrowed. */
const struct xsim_trace_rec *xsim_world_trace(const struct xsim_world *w, size_t *count);
/* Export kept records: JSON lines, or Chrome trace JSON (Perfetto). */
int xsim_trace_write_jsonl(const struct xsim_world *w, FILE *out);
int xsim_trace_write_chrome(const struct xsim_world *w, FILE *out);

/* ---- Statistics ---- */

struct xsim_stats {
    uint64_t points;     /* scheduling points */
    uint64_t decisions;  /* points with more than one candidate */
    uint64_t switches;   /* baton handoffs between threads */
    uint64_t events;     /* timed events run */
    uint64_t interrupts; /* vectors delivered */
    uint64_t end_time_ns;
    uint64_t count[XSIM_COST__COUNT];
    uint64_t ns[XSIM_COST__COUNT];
    uint64_t hypercalls[XSIM_MAX_HYPERCALLS]; /* by hypercall number */
};
const struct xsim_stats *xsim_world_stats(const struct xsim_world *w);

/* ---- Policies ---- */

/* Parse "time", "random", "pct:D[:K]", "dfs:B", "replay", "bytes".
 * Returns NULL with `err` filled on a bad string. */
struct xsim_policy *xsim_policy_create(const char *spec, struct xsim_error *err);
void xsim_policy_destroy(struct xsim_policy *p);
const char *xsim_policy_spec(const struct xsim_policy *p);

/* A choice list records the scheduling decisions of a run compactly: the
 * total number of decisions, and each decision where the running thread did
 * not simply continue (decision index, chosen entity). */
struct xsim_switch {
    uint64_t decision;
    uint32_t entity; /* global vCPU index, or XSIM_ENTITY_EVENT */
};
#define XSIM_ENTITY_EVENT 0xffffu

struct xsim_choices {
    uint64_t decisions;
    size_t n, cap;
    struct xsim_switch *sw;
};
void xsim_choices_free(struct xsim_choices *c);
int xsim_choices_copy(struct xsim_choices *dst, const struct xsim_choices *src);

/* The choice list the world recorded (borrowed, valid until destroy). */
const struct xsim_choices *xsim_world_choices(const struct xsim_world *w);
/* After the run: move the recorded choice list into *dst (whose old list is
 * freed) without copying it; the world's list is empty afterwards. */
void xsim_world_take_choices(struct xsim_world *w, struct xsim_choices *dst);

/* For "replay": the list to follow (copied). */
int xsim_policy_set_replay(struct xsim_policy *p, const struct xsim_choices *c);
/* For "replay": lenient mode (for shrinking) ignores recorded switches to
 * entities that cannot run and keeps going past the end of the list instead
 * of stopping with a replay error. */
int xsim_policy_set_replay_lenient(struct xsim_policy *p, bool lenient);
/* For "replay" of a run recorded under `time`: keep `time`'s own rules
 * where they differ from the exploring policies' (a spinning vCPU does not
 * yield; the run stops at its time limit rather than draining), so the
 * replay makes the same decisions. */
int xsim_policy_set_replay_time_rules(struct xsim_policy *p, bool on);
/* For "bytes": the buffer choices are read from (borrowed). */
int xsim_policy_set_bytes(struct xsim_policy *p, const uint8_t *buf, size_t len);
/* For "dfs": after a run, advance to the next schedule; false when the
 * bounded space is exhausted. Other policies: always false. */
bool xsim_policy_dfs_next(struct xsim_policy *p);
/* dfs: schedules enumerated so far. */
uint64_t xsim_policy_dfs_count(const struct xsim_policy *p);
/* The replay error message of the last run, or NULL. */
const char *xsim_world_replay_error(const struct xsim_world *w);

#ifdef __cplusplus
}
#endif

#endif
