/*
 * lifecycle.c - the world's configuration, creation and destruction, its
 * domains and vCPUs as objects (accessors, guest memory translation), the
 * names of costs, stop reasons and backends, and charging costs. What
 * runs - the clock, delivery and the baton scheduler - is in world.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "world/world_internal.h"

static const char *const reason_names[XSIM_COST__COUNT] = {
    [XSIM_COST_POINT] = "point",
    [XSIM_COST_HYPERCALL] = "hypercall",
    [XSIM_COST_EXIT_MSR] = "exit_msr",
    [XSIM_COST_EXIT_MMIO] = "exit_mmio",
    [XSIM_COST_EXIT_IO] = "exit_io",
    [XSIM_COST_EXIT_EOI] = "exit_eoi",
    [XSIM_COST_EXIT_CPUID] = "exit_cpuid",
    [XSIM_COST_EXIT_HLT] = "exit_hlt",
    [XSIM_COST_INJECT] = "inject",
    [XSIM_COST_UPCALL] = "upcall",
    [XSIM_COST_HANDLER] = "handler",
    [XSIM_COST_GUEST] = "guest",
    [XSIM_COST_IOAPIC] = "ioapic",
    [XSIM_COST_BACKEND] = "backend",
    [XSIM_COST_WAKE] = "wake",
    [XSIM_COST_EXIT_INTR] = "exit_intr",
    [XSIM_COST_EXIT_EOI_INDUCED] = "exit_eoi_induced",
};
_Static_assert(XSIM_COST__COUNT == XSIM_COST_REASONS, "cost.h and world.h disagree");

const char *xsim_cost_reason_name(enum xsim_cost_reason reason)
{
    if ((unsigned)reason >= XSIM_COST__COUNT)
        return "unknown";
    return reason_names[reason];
}

const char *xsim_stop_reason_name(enum xsim_stop_reason r)
{
    switch (r) {
    case XSIM_STOP_NONE:
        return "none";
    case XSIM_STOP_QUIESCENT:
        return "quiescent";
    case XSIM_STOP_ALL_DONE:
        return "all-done";
    case XSIM_STOP_TIME_LIMIT:
        return "time-limit";
    case XSIM_STOP_EVENT_LIMIT:
        return "event-limit";
    case XSIM_STOP_STEP_LIMIT:
        return "step-limit";
    case XSIM_STOP_FAILED:
        return "failed";
    case XSIM_STOP_REQUESTED:
        return "requested";
    case XSIM_STOP_REPLAY_ERROR:
        return "replay-error";
    }
    return "unknown";
}

/* ThreadSanitizer cannot follow unannotated stack switches: it keeps
 * threads. ucontext costs a signal-mask system call per switch and is
 * missing from some C libraries, so it is there on request only. */
#if defined(__SANITIZE_THREAD__)
#define XSIM_TSAN_BUILD 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define XSIM_TSAN_BUILD 1
#endif
#endif

enum xsim_backend xsim_backend_default(void)
{
    /* A build may choose (-DXENSIM_DEFAULT_BACKEND=thread|fiber): the
     * `thread` preset runs the whole suite on threads that way. */
#if defined(XSIM_DEFAULT_BACKEND_THREAD) || defined(XSIM_TSAN_BUILD)
    return XSIM_BACKEND_THREAD;
#elif defined(XSIM_DEFAULT_BACKEND_FIBER)
    return XSIM_FIBER_AVAILABLE ? XSIM_BACKEND_FIBER : XSIM_BACKEND_THREAD;
#else
    return XSIM_FIBER_ASM ? XSIM_BACKEND_FIBER : XSIM_BACKEND_THREAD;
#endif
}

bool xsim_backend_fiber_available(void)
{
    return XSIM_FIBER_AVAILABLE;
}

const char *xsim_backend_name(enum xsim_backend b)
{
    switch (b) {
    case XSIM_BACKEND_AUTO:
        return "auto";
    case XSIM_BACKEND_THREAD:
        return "thread";
    case XSIM_BACKEND_FIBER:
        return "fiber";
    }
    return "unknown";
}

int xsim_backend_parse(const char *name, enum xsim_backend *out)
{
    static const enum xsim_backend all[] = {XSIM_BACKEND_AUTO, XSIM_BACKEND_THREAD,
                                            XSIM_BACKEND_FIBER};

    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        if (name != NULL && strcmp(name, xsim_backend_name(all[i])) == 0) {
            *out = all[i];
            return 0;
        }
    }
    return -EINVAL;
}

/* ---- configuration and lifecycle ---- */

/* The built-in cost profile, made once and read-only after: building it
 * (formatting every cost's source text) cost more than a short schedule. */
static struct xsim_cost_profile builtin_profile;
static pthread_once_t builtin_once = PTHREAD_ONCE_INIT;

static void builtin_init(void)
{
    xsim_cost_profile_default(&builtin_profile);
}

static const struct xsim_cost_profile *builtin_costs(void)
{
    (void)pthread_once(&builtin_once, builtin_init);
    return &builtin_profile;
}

void xsim_world_config_init(struct xsim_world_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->seed = 1;
    cfg->mode = XSIM_MODE_DETERMINISTIC;
    cfg->pin_cpu = -1;
}

int xsim_world_create(const struct xsim_world_config *cfg, struct xsim_policy *policy,
                      struct xsim_world **out)
{
    struct xsim_world *w;
    pthread_mutexattr_t ma;
    enum xsim_backend backend;

    *out = NULL;
    if (cfg == NULL || policy == NULL ||
        (cfg->mode != XSIM_MODE_DETERMINISTIC && cfg->mode != XSIM_MODE_FREE_RUN))
        return -EINVAL;
    backend = cfg->backend;
    if (backend == XSIM_BACKEND_AUTO)
        backend = cfg->mode == XSIM_MODE_FREE_RUN ? XSIM_BACKEND_THREAD : xsim_backend_default();
    if ((backend != XSIM_BACKEND_THREAD && backend != XSIM_BACKEND_FIBER) ||
        (backend == XSIM_BACKEND_FIBER &&
         (cfg->mode == XSIM_MODE_FREE_RUN || !xsim_backend_fiber_available())))
        return -EINVAL;
    w = calloc(1, sizeof(*w));
    if (w == NULL)
        return -ENOMEM;
    w->cfg = *cfg;
    w->cfg.backend = backend;
    w->fibers = backend == XSIM_BACKEND_FIBER;
    if (w->cfg.stack_size == 0)
        w->cfg.stack_size = 256 * 1024;
    w->policy = policy;
    w->events_in_time = policy != NULL && xsim__policy_events_in_time(policy);
    w->events_skew_ns = policy != NULL ? xsim__policy_events_skew(policy) : 0;
    w->policy_time = xsim__policy_is_time(policy);
    w->time_rules = xsim__policy_time_rules(policy);
    w->policy_random = xsim__policy_is_random(policy);
    w->costs = cfg->costs != NULL ? cfg->costs : builtin_costs();
    /* One turn of a wait loop (a pause and a re-read): named cost "spin". */
    w->spin_ns = xsim_cost_profile_get(w->costs, "spin", 50);
    xsim_evq_init(&w->evq);
    xsim_baton_init(&w->main_baton);
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&w->big, &ma);
    pthread_mutexattr_destroy(&ma);
    pthread_cond_init(&w->fr_cv, NULL);
    w->digest = 0xcbf29ce484222325ULL;
    w->trace_slow = cfg->keep_trace || cfg->mode == XSIM_MODE_FREE_RUN;
    /* Fibers share one thread: nothing to pin. */
    w->pin_cpu = w->fibers ? -2 : cfg->pin_cpu == -1 ? xsim_host_cpu() : cfg->pin_cpu;
    *out = w;
    return 0;
}

static void vcpu_free(struct xsim_vcpu *v)
{
    /* A fiber suspended mid-stack is simply dropped: C has nothing to
     * unwind, and what it held belongs to the world being destroyed. */
    xsim__fiber_destroy(&v->fiber);
    xsim_baton_destroy(&v->baton);
    pthread_mutex_destroy(&v->mu);
    pthread_cond_destroy(&v->cv);
    free(v);
}

void xsim_world_destroy(struct xsim_world *w)
{
    if (w == NULL)
        return;
    /* Unwind every thread: each waits on its baton (deterministic) or its
     * condition variable (free-run); with `exiting` set it longjmps back to
     * its entry frame and returns. */
    __atomic_store_n(&w->exiting, true, __ATOMIC_RELEASE);
    __atomic_store_n(&w->stopping, true, __ATOMIC_RELEASE);
    for (unsigned int i = 0; i < w->nvcpus; i++) {
        struct xsim_vcpu *v = w->vcpus[i];
        if (!v->started)
            continue;
        pthread_mutex_lock(&v->mu);
        pthread_cond_broadcast(&v->cv);
        pthread_mutex_unlock(&v->mu);
        xsim_baton_pass(&v->baton);
        pthread_join(v->thread, NULL);
    }
    for (unsigned int i = 0; i < w->ndomains; i++) {
        struct xsim_domain *d = w->domains[i];
        for (unsigned int c = 0; c < d->nr_vcpus; c++)
            vcpu_free(d->vcpus[c]);
        free(d->vcpus);
        free(d->ram);
        free(d->ram_free);
        free(d);
    }
    xsim__sched_free(w);
    xsim__trace_free(w);
    free(w->points);
    xsim_choices_free(&w->choices);
    xsim_evq_free(&w->evq);
    xsim_baton_destroy(&w->main_baton);
    pthread_mutex_destroy(&w->big);
    pthread_cond_destroy(&w->fr_cv);
    free(w);
}

int xsim_domain_create(struct xsim_world *w, uint16_t domid, unsigned int nr_vcpus,
                       size_t ram_pages, const struct xsim_guest_ops *ops, void *guest,
                       struct xsim_domain **out)
{
    struct xsim_domain *d;

    *out = NULL;
    if (w->ran || w->ndomains >= sizeof(w->domains) / sizeof(w->domains[0]) ||
        w->nvcpus + nr_vcpus > XSIM_MAX_VCPUS || xsim_world_domain(w, domid) != NULL ||
        (nr_vcpus > 0 && (ops == NULL || ops->start == NULL)) || ram_pages > ((size_t)1 << 24))
        return -EINVAL;
    d = calloc(1, sizeof(*d));
    if (d == NULL)
        return -ENOMEM;
    d->world = w;
    d->domid = domid;
    d->nr_vcpus = nr_vcpus;
    if (ops != NULL)
        d->ops = *ops;
    d->guest = guest;
    d->ram_pages = ram_pages;
    if (ram_pages > 0) {
        d->ram = aligned_alloc(XSIM_PAGE_SIZE, ram_pages * XSIM_PAGE_SIZE);
        d->ram_free = calloc(ram_pages, sizeof(*d->ram_free));
    }
    d->vcpus = calloc(nr_vcpus ? nr_vcpus : 1, sizeof(*d->vcpus));
    if ((ram_pages > 0 && (d->ram == NULL || d->ram_free == NULL)) || d->vcpus == NULL)
        goto nomem;
    for (unsigned int c = 0; c < nr_vcpus; c++) {
        struct xsim_vcpu *v = calloc(1, sizeof(*v));
        if (v == NULL)
            goto nomem;
        v->world = w;
        v->dom = d;
        v->cpu = c;
        v->index = w->nvcpus + c;
        xsim_baton_init(&v->baton);
        pthread_mutex_init(&v->mu, NULL);
        pthread_cond_init(&v->cv, NULL);
        d->vcpus[c] = v;
    }
    for (unsigned int c = 0; c < nr_vcpus; c++)
        w->vcpus[w->nvcpus++] = d->vcpus[c];
    xsim__platform_init(d);
    w->domains[w->ndomains++] = d;
    *out = d;
    return 0;
nomem:
    for (unsigned int c = 0; c < nr_vcpus; c++) {
        if (d->vcpus != NULL && d->vcpus[c] != NULL)
            vcpu_free(d->vcpus[c]);
    }
    free(d->vcpus);
    free(d->ram);
    free(d->ram_free);
    free(d);
    return -ENOMEM;
}

struct xsim_domain *xsim_world_domain(struct xsim_world *w, uint16_t domid)
{
    for (unsigned int i = 0; i < w->ndomains; i++) {
        if (w->domains[i]->domid == domid)
            return w->domains[i];
    }
    return NULL;
}

uint16_t xsim_domain_id(const struct xsim_domain *d)
{
    return d->domid;
}

unsigned int xsim_domain_nr_vcpus(const struct xsim_domain *d)
{
    return d->nr_vcpus;
}

struct xsim_vcpu *xsim_domain_vcpu(struct xsim_domain *d, unsigned int cpu)
{
    return cpu < d->nr_vcpus ? d->vcpus[cpu] : NULL;
}

struct xsim_world *xsim_domain_world(struct xsim_domain *d)
{
    return d->world;
}

const struct xg_platform *xsim_domain_platform(struct xsim_domain *d)
{
    return &d->platform;
}

void xsim_domain_set_hv(struct xsim_domain *d, void *hv)
{
    d->hv = hv;
}

void *xsim_domain_hv(const struct xsim_domain *d)
{
    return d->hv;
}

void *xsim_domain_gfn_to_ptr(struct xsim_domain *d, uint64_t gfn)
{
    if (gfn < XSIM_GFN_BASE || gfn - XSIM_GFN_BASE >= d->ram_pages)
        return NULL;
    return d->ram + (gfn - XSIM_GFN_BASE) * XSIM_PAGE_SIZE;
}

uint64_t xsim_domain_ptr_to_gfn(struct xsim_domain *d, const void *p)
{
    uintptr_t a = (uintptr_t)p, base = (uintptr_t)d->ram;

    if (d->ram == NULL || a < base || a - base >= d->ram_pages * XSIM_PAGE_SIZE)
        return UINT64_MAX;
    return XSIM_GFN_BASE + (a - base) / XSIM_PAGE_SIZE;
}

bool xsim_domain_range_ok(struct xsim_domain *d, const void *va, size_t len)
{
    uintptr_t a = (uintptr_t)va, base = (uintptr_t)d->ram;
    size_t size = d->ram_pages * XSIM_PAGE_SIZE;

    return d->ram != NULL && a >= base && a - base <= size && len <= size - (a - base);
}

/* ---- accessors ---- */

struct xsim_vcpu *xsim_vcpu_current(void)
{
    return xsim__self;
}

unsigned int xsim_vcpu_id(const struct xsim_vcpu *v)
{
    return v->cpu;
}

struct xsim_domain *xsim_vcpu_domain(struct xsim_vcpu *v)
{
    return v->dom;
}

uint64_t xsim_vcpu_now(const struct xsim_vcpu *v)
{
    return __atomic_load_n(&v->vtime, __ATOMIC_RELAXED);
}

bool xsim_vcpu_halted(const struct xsim_vcpu *v)
{
    return __atomic_load_n(&v->state, __ATOMIC_RELAXED) == XSIM_VCPU_HALTED;
}

uint64_t xsim_vcpu_wakes(const struct xsim_vcpu *v)
{
    return v->wakes;
}

void xsim_vcpu_account(const struct xsim_vcpu *v, uint64_t at_ns, struct xsim_vcpu_account *out)
{
    uint64_t end = v->vtime < at_ns ? v->vtime : at_ns, idle = v->idle_ns;

    /* Every field is written below (the workloads call this per item). */
    memcpy(out->cost_ns, v->cost_ns, sizeof(out->cost_ns));
    if (v->wakes != 0) {
        for (unsigned int r = 0; r < XSIM_COST__COUNT; r++)
            out->since_wake_ns[r] = v->cost_ns[r] - v->cost_ns_at_wake[r];
    } else {
        memset(out->since_wake_ns, 0, sizeof(out->since_wake_ns));
    }
    out->wakes = v->wakes;
    out->woke_at_ns = v->woke_at;
    /* A vCPU still halted has been idle since it halted. */
    if (v->state == XSIM_VCPU_HALTED && at_ns > v->halted_at) {
        idle += at_ns - v->halted_at;
        end = at_ns;
    }
    out->halted_ns = idle < end ? idle : end;
    out->busy_ns = end - out->halted_ns;
}

uint64_t xsim_world_now(const struct xsim_world *w)
{
    struct xsim_vcpu *v = xsim__self;

    if (v != NULL && v->world == w)
        return xsim_vcpu_now(v);
    return __atomic_load_n(&w->now, __ATOMIC_RELAXED);
}

enum xsim_mode xsim_world_mode(const struct xsim_world *w)
{
    return w->cfg.mode;
}

void xsim_world_session_begin(void)
{
    xsim__fiber_crash_hold(true);
}

void xsim_world_session_end(void)
{
    xsim__fiber_crash_hold(false);
}

enum xsim_backend xsim_world_backend(const struct xsim_world *w)
{
    return w->cfg.backend;
}

uint64_t xsim_world_seed(const struct xsim_world *w)
{
    return w->cfg.seed;
}

void xsim_world_rng(const struct xsim_world *w, const char *stream, struct xsim_rng *rng)
{
    xsim_rng_init(rng, w->cfg.seed, stream);
}

const struct xsim_stats *xsim_world_stats(const struct xsim_world *w)
{
    return &w->stats;
}

const struct xsim_choices *xsim_world_choices(const struct xsim_world *w)
{
    return &w->choices;
}

void xsim_world_take_choices(struct xsim_world *w, struct xsim_choices *dst)
{
    free(dst->sw);
    *dst = w->choices;
    memset(&w->choices, 0, sizeof(w->choices));
    w->choices.decisions = dst->decisions;
}

bool xsim_world_guest_bug(const struct xsim_world *w)
{
    return __atomic_load_n(&w->guest_bug, __ATOMIC_ACQUIRE);
}

const char *xsim_world_failure(const struct xsim_world *w)
{
    return w->failure[0] != '\0' ? w->failure : NULL;
}

const char *xsim_world_replay_error(const struct xsim_world *w)
{
    return w->replay_error[0] != '\0' ? w->replay_error : NULL;
}

int xsim_world_set_hypercall(struct xsim_world *w, unsigned int op, xsim_hypercall_fn fn, void *ctx)
{
    if (op >= XSIM_MAX_HYPERCALLS)
        return -EINVAL;
    w->hcall[op] = fn;
    w->hcall_ctx[op] = ctx;
    return 0;
}

void xsim_world_set_cpu_hooks(struct xsim_world *w, const struct xsim_cpu_hooks *hooks)
{
    w->cpu_hooks = *hooks;
}

/* ---- costs ---- */

void xsim_charge(struct xsim_vcpu *v, enum xsim_cost_reason reason, uint64_t ns)
{
    struct xsim_world *w;

    if (v == NULL || (unsigned)reason >= XSIM_COST__COUNT)
        return;
    w = v->world;
    /* Only the owner thread advances its clock; others read it. */
    __atomic_store_n(&v->vtime, v->vtime + ns, __ATOMIC_RELAXED);
    v->cost_ns[reason] += ns;
    xsim__stat_add(w, &w->stats.count[reason], 1);
    xsim__stat_add(w, &w->stats.ns[reason], ns);
}

void xsim_count(struct xsim_world *w, enum xsim_cost_reason reason, uint64_t ns)
{
    if ((unsigned)reason >= XSIM_COST__COUNT)
        return;
    xsim__stat_add(w, &w->stats.count[reason], 1);
    xsim__stat_add(w, &w->stats.ns[reason], ns);
}

const struct xsim_cost_profile *xsim_world_costs(const struct xsim_world *w)
{
    return w->costs;
}

uint64_t xsim_cost(const struct xsim_world *w, enum xsim_cost_reason reason)
{
    if ((unsigned)reason >= XSIM_COST__COUNT)
        return 0;
    return w->costs->ns[reason];
}

uint64_t xsim_cost_named(const struct xsim_world *w, const char *name, uint64_t fallback)
{
    return xsim_cost_profile_get(w->costs, name, fallback);
}
