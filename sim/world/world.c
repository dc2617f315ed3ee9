/*
 * world.c - the world's clock, entities and baton scheduler.
 *
 * Deterministic mode: every vCPU is a pthread, but exactly one thread holds
 * the baton and runs simulated code. At each scheduling point the holder
 * builds the candidate set (runnable vCPUs in index order, then the earliest
 * timed event as one pseudo-entity), asks the policy, and either keeps going,
 * runs the timed event inline, or passes the baton directly to the chosen
 * vCPU's thread and waits for its own. The main thread starts the run and
 * waits until a stop condition hands the baton back to it.
 *
 * Fiber backend (deterministic mode only): the same scheduler, but every
 * vCPU is a fiber on the thread that calls xsim_world_run, and passing the
 * baton is a context switch (sim/world/fiber.c). xsim__self is set on every
 * switch, since all vCPUs share that thread's thread-local storage.
 *
 * Free-run mode: the same threads run in parallel; hypervisor state is
 * serialised by one recursive lock and the main thread runs timed events.
 *
 * Creation, destruction and the accessors are in lifecycle.c. This file
 * keeps the clock, delivery, the scheduler and both run loops together:
 * they share the inline helpers of the hot path (a scheduling point runs
 * tens of thousands of times per explored schedule).
 */
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "world/prng_inline.h"
#include "world/world_internal.h"

__thread struct xsim_vcpu *xsim__self;

static _Noreturn void fr_park(struct xsim_world *w, struct xsim_vcpu *self);

static inline bool free_run(const struct xsim_world *w)
{
    return w->cfg.mode == XSIM_MODE_FREE_RUN;
}

static inline bool is_stopping(const struct xsim_world *w)
{
    return __atomic_load_n(&w->stopping, __ATOMIC_ACQUIRE);
}

static void set_stop(struct xsim_world *w, enum xsim_stop_reason r)
{
    if (free_run(w))
        pthread_mutex_lock(&w->big);
    if (w->stop_reason == XSIM_STOP_NONE)
        w->stop_reason = r;
    __atomic_store_n(&w->stopping, true, __ATOMIC_RELEASE);
    if (free_run(w)) {
        pthread_cond_broadcast(&w->fr_cv);
        pthread_mutex_unlock(&w->big);
    }
}

/* ---- timed events ---- */

uint64_t xsim_event_schedule(struct xsim_world *w, uint64_t when_ns, uint32_t kind,
                             xsim_event_fn fn, void *arg)
{
    uint64_t now = xsim_world_now(w), h;

    if (fn == NULL)
        return 0;
    if (when_ns < now)
        when_ns = now;
    if (free_run(w))
        pthread_mutex_lock(&w->big);
    h = xsim_evq_push(&w->evq, when_ns, kind, (void *)fn, arg);
    if (free_run(w)) {
        pthread_cond_broadcast(&w->fr_cv);
        pthread_mutex_unlock(&w->big);
    }
    return h;
}

bool xsim_event_cancel(struct xsim_world *w, uint64_t handle)
{
    bool ok;

    if (free_run(w))
        pthread_mutex_lock(&w->big);
    ok = xsim_evq_cancel(&w->evq, handle);
    if (free_run(w))
        pthread_mutex_unlock(&w->big);
    return ok;
}

size_t xsim_event_pending(const struct xsim_world *w)
{
    return w->evq.size;
}

/* Run the earliest timed event on the calling thread (the baton holder in
 * deterministic mode; the main thread, holding `big`, in free-run mode). */
static void run_event(struct xsim_world *w)
{
    uint64_t t;
    uint32_t kind;
    void *fn, *arg;
    struct xsim_vcpu *saved = xsim__self;

    if (!xsim_evq_pop(&w->evq, &t, &kind, &fn, &arg))
        return;
    if (t > w->now)
        __atomic_store_n(&w->now, t, __ATOMIC_RELAXED);
    w->stats.events++;
    /* Hypervisor context: xsim_vcpu_current() is NULL and "now" is the
     * world's clock, whichever thread happens to carry the event. */
    xsim__self = NULL;
    xsim__trace_rec(w, XSIM_TR_EVENT, XSIM_ENTITY_EVENT, kind, 0, 0);
    ((xsim_event_fn)fn)(w, arg);
    xsim__self = saved;
}

/* ---- local APIC core: pending vectors and delivery ---- */

static inline int highest_bit(const uint64_t b[4], bool atomic)
{
    for (int i = 3; i >= 0; i--) {
        uint64_t x = atomic ? __atomic_load_n(&b[i], __ATOMIC_ACQUIRE) : b[i];
        if (x != 0)
            return i * 64 + 63 - __builtin_clzll(x);
    }
    return -1;
}

/* Read-modify-write of an APIC word (irr, noeoi, tmr). Other threads touch
 * them only in free-run mode; in deterministic mode the baton holder alone
 * runs (the baton orders its accesses with the previous holder's), so a
 * plain update does, without a locked instruction per interrupt raised
 * and delivered. Both return the word's old value. */
static inline uint64_t apic_or(const struct xsim_world *w, uint64_t *word, uint64_t bits)
{
    uint64_t old;

    if (free_run(w))
        return __atomic_fetch_or(word, bits, __ATOMIC_ACQ_REL);
    old = *word;
    *word = old | bits;
    return old;
}

static inline uint64_t apic_and(const struct xsim_world *w, uint64_t *word, uint64_t bits)
{
    uint64_t old;

    if (free_run(w))
        return __atomic_fetch_and(word, bits, __ATOMIC_ACQ_REL);
    old = *word;
    *word = old & bits;
    return old;
}

/* The vector the vCPU would take now, or -1: the highest pending vector
 * whose priority class is above the highest in service. */
static int deliverable(struct xsim_vcpu *v)
{
    int h = highest_bit(v->irr, true), s;

    if (h < 0)
        return -1;
    s = highest_bit(v->isr, false);
    if (s >= 0 && (h >> 4) <= (s >> 4))
        return -1;
    return h;
}

/* Charge the external-interrupt exit a kick or host interrupt left owed:
 * the exit happened whether or not the vector can be taken now. */
static inline void charge_owed_exit(struct xsim_world *w, struct xsim_vcpu *v)
{
    if (!__atomic_load_n(&v->intr_exit_pending, __ATOMIC_ACQUIRE))
        return;
    if (!free_run(w))
        v->intr_exit_pending = false; /* nobody else runs (apic_or) */
    else if (!__atomic_exchange_n(&v->intr_exit_pending, false, __ATOMIC_ACQ_REL))
        return;
    xsim_charge(v, XSIM_COST_EXIT_INTR, xsim_cost(w, XSIM_COST_EXIT_INTR));
}

static void deliver_pending_slow(struct xsim_world *w, struct xsim_vcpu *v)
{
    struct xsim_domain *d = v->dom;

    charge_owed_exit(w, v);
    while (v->if_flag) {
        int vec;
        uint64_t bit, t0;

        if (v->entry_hook != NULL)
            v->entry_hook(v, v->entry_hook_arg);
        vec = deliverable(v);
        if (vec < 0)
            return;
        bit = (uint64_t)1 << (vec & 63);
        apic_and(w, &v->irr[vec >> 6], ~bit);
        if (!(apic_and(w, &v->noeoi[vec >> 6], ~bit) & bit))
            v->isr[vec >> 6] |= bit;
        v->if_flag = false;
        v->intr_depth++;
        xsim__stat_add(w, &w->stats.interrupts, 1);
        xsim__trace_rec(w, XSIM_TR_INTR, v->index, (uint64_t)vec, 0, 0);
        t0 = v->vtime;
        xsim_charge(v, XSIM_COST_INJECT, xsim_cost(w, XSIM_COST_INJECT));
        if (w->cpu_hooks.deliver != NULL)
            w->cpu_hooks.deliver(v, w->cpu_hooks.ctx, vec);
        if (d->ops.interrupt != NULL)
            d->ops.interrupt(d->guest, v->cpu, (uint8_t)vec);
        if (w->cfg.keep_trace && w->cfg.mode != XSIM_MODE_FREE_RUN)
            xsim__span_keep(w, v->index, XSIM__SPAN_INTERRUPT, t0, (uint64_t)vec, 0);
        v->intr_depth--;
        /* iret: the interrupted context had interrupts enabled. */
        v->if_flag = true;
    }
}

/* Most points have nothing to deliver: no exit owed, and interrupts off or
 * no entry hook and no deliverable vector (what the loop above finds in
 * its first turn). */
static inline void deliver_pending(struct xsim_world *w, struct xsim_vcpu *v)
{
    if (!__atomic_load_n(&v->intr_exit_pending, __ATOMIC_ACQUIRE) &&
        (!v->if_flag || (v->entry_hook == NULL && deliverable(v) < 0)))
        return;
    deliver_pending_slow(w, v);
}

int xsim__eoi(struct xsim_vcpu *v, bool *level)
{
    int s = highest_bit(v->isr, false);
    uint64_t bit;

    if (level != NULL)
        *level = false;
    if (s < 0)
        return s;
    bit = (uint64_t)1 << (s & 63);
    v->isr[s >> 6] &= ~bit;
    if (level != NULL)
        *level = (__atomic_load_n(&v->tmr[s >> 6], __ATOMIC_ACQUIRE) & bit) != 0;
    return s;
}

void xsim_vcpu_set_entry_hook(struct xsim_vcpu *v, void (*hook)(struct xsim_vcpu *, void *),
                              void *arg)
{
    v->entry_hook = hook;
    v->entry_hook_arg = arg;
}

static void set_runnable(struct xsim_world *w, struct xsim_vcpu *v)
{
    w->runnable[v->index >> 6] |= (uint64_t)1 << (v->index & 63);
    w->nrunnable++;
}

static void clear_runnable(struct xsim_world *w, struct xsim_vcpu *v)
{
    w->runnable[v->index >> 6] &= ~((uint64_t)1 << (v->index & 63));
    w->nrunnable--;
}

static void reschedule(struct xsim_world *w, struct xsim_vcpu *self, bool yield);

static void wake(struct xsim_world *w, struct xsim_vcpu *v, uint64_t why)
{
    uint64_t now = xsim_world_now(w);

    v->state = XSIM_VCPU_RUNNABLE;
    set_runnable(w, v);
    /* A halted vCPU's clock stood still; it resumes at the waker's time
     * plus the cost of getting a physical CPU to run it. */
    if (v->vtime < now)
        v->vtime = now;
    v->idle_ns += v->vtime - v->halted_at;
    v->woke_at = v->vtime;
    v->wakes++;
    memcpy(v->cost_ns_at_wake, v->cost_ns, sizeof(v->cost_ns));
    xsim_charge(v, XSIM_COST_WAKE, xsim_cost(w, XSIM_COST_WAKE));
    xsim__trace_rec(w, XSIM_TR_WAKE, v->index, why, 0, 0);
}

/* The vCPU is in guest mode on its own physical CPU: neither halted,
 * blocked nor done, and not the caller (a vCPU raising to itself is inside
 * its own exit; the vector goes in at that exit's VM entry). */
static bool running_elsewhere(const struct xsim_vcpu *v)
{
    return __atomic_load_n(&v->state, __ATOMIC_ACQUIRE) == XSIM_VCPU_RUNNABLE && xsim__self != v;
}

static void owe_exit(struct xsim_vcpu *v)
{
    __atomic_store_n(&v->intr_exit_pending, true, __ATOMIC_RELEASE);
}

void xsim_vcpu_raise_flags(struct xsim_vcpu *v, uint8_t vector, unsigned int flags)
{
    struct xsim_world *w = v->world;
    uint64_t bit = (uint64_t)1 << (vector & 63);
    unsigned int word = vector >> 6;
    bool posted = (flags & XSIM_IRQ_POSTABLE) && w->costs->apicv && w->costs->posted_interrupts;
    bool was;

    /* Trigger mode is recorded at raise time, as vlapic_set_irq sets or
     * clears the TMR bit before it touches the IRR. */
    if (flags & XSIM_IRQ_LEVEL)
        apic_or(w, &v->tmr[word], bit);
    else
        apic_and(w, &v->tmr[word], ~bit);
    if (flags & XSIM_IRQ_NO_EOI)
        apic_or(w, &v->noeoi[word], bit);
    was = (apic_or(w, &v->irr[word], bit) & bit) != 0;
    /* Xen kicks only when the IRR (or PIR) bit was newly set; a posted
     * notification reaches a running vCPU without an exit. */
    if (!was && !posted && running_elsewhere(v))
        owe_exit(v);
    if (free_run(w)) {
        pthread_mutex_lock(&v->mu);
        pthread_cond_signal(&v->cv);
        pthread_mutex_unlock(&v->mu);
        return;
    }
    if (v->state == XSIM_VCPU_HALTED)
        wake(w, v, vector);
}

void xsim_vcpu_raise(struct xsim_vcpu *v, uint8_t vector, bool needs_eoi)
{
    xsim_vcpu_raise_flags(v, vector, needs_eoi ? XSIM_IRQ_POSTABLE : XSIM_IRQ_NO_EOI);
}

void xsim_vcpu_host_irq(struct xsim_vcpu *v)
{
    if (running_elsewhere(v))
        owe_exit(v);
}

void xsim_vcpu_kick(struct xsim_vcpu *v)
{
    struct xsim_world *w = v->world;

    if (free_run(w)) {
        pthread_mutex_lock(&v->mu);
        v->kicks++;
        pthread_cond_signal(&v->cv);
        pthread_mutex_unlock(&v->mu);
        return;
    }
    if (v->state == XSIM_VCPU_HALTED)
        wake(w, v, 0x100);
}

bool xsim_vcpu_irq_pending(struct xsim_vcpu *v)
{
    return deliverable(v) >= 0;
}

bool xsim_vcpu_irq_enabled(const struct xsim_vcpu *v)
{
    return v->if_flag;
}

void xsim_vcpu_block(struct xsim_vcpu *v, bool (*ready)(struct xsim_vcpu *, void *), void *arg)
{
    struct xsim_world *w = v->world;

    if (free_run(w)) {
        /* Hypercalls run under `big`; release it while blocked so that
         * other vCPUs and timed events can make `ready` true. */
        for (;;) {
            if (ready(v, arg))
                return;
            pthread_mutex_lock(&v->mu);
            uint64_t kicks = v->kicks;
            pthread_mutex_unlock(&v->mu);
            pthread_mutex_unlock(&w->big);
            pthread_mutex_lock(&v->mu);
            if (v->kicks == kicks && deliverable(v) < 0 && !is_stopping(w)) {
                __atomic_store_n(&v->state, XSIM_VCPU_HALTED, __ATOMIC_SEQ_CST);
                __atomic_fetch_add(&w->fr_halted, 1, __ATOMIC_SEQ_CST);
                pthread_cond_wait(&v->cv, &v->mu);
                __atomic_fetch_add(&w->fr_wakes, 1, __ATOMIC_SEQ_CST);
                __atomic_fetch_sub(&w->fr_halted, 1, __ATOMIC_SEQ_CST);
                __atomic_store_n(&v->state, XSIM_VCPU_RUNNABLE, __ATOMIC_SEQ_CST);
            }
            pthread_mutex_unlock(&v->mu);
            pthread_mutex_lock(&w->big);
            if (is_stopping(w)) {
                pthread_mutex_unlock(&w->big);
                fr_park(w, v);
            }
        }
    }
    for (;;) {
        if (ready(v, arg))
            return;
        v->state = XSIM_VCPU_HALTED;
        clear_runnable(w, v);
        xsim__trace_rec(w, XSIM_TR_HALT, v->index, 1, 0, 0);
        reschedule(w, v, false);
    }
}

void xsim_vcpu_lower(struct xsim_vcpu *v, uint8_t vector)
{
    uint64_t bit = (uint64_t)1 << (vector & 63);

    apic_and(v->world, &v->irr[vector >> 6], ~bit);
    apic_and(v->world, &v->noeoi[vector >> 6], ~bit);
}

/* ---- the baton scheduler (deterministic mode) ---- */

/* The largest choice list this thread grew (up to 1M entries): an
 * explorer's next schedule starts there instead of growing (and copying)
 * it again. */
static __thread size_t choices_cap_hint;

static void record_switch(struct xsim_world *w, uint32_t entity)
{
    struct xsim_choices *c = &w->choices;

    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : choices_cap_hint > 256 ? choices_cap_hint : 256;
        struct xsim_switch *sw = realloc(c->sw, cap * sizeof(*sw));
        if (sw == NULL) {
            /* Out of memory: the run can no longer be replayed; say so. */
            snprintf(w->replay_error, sizeof(w->replay_error),
                     "out of memory recording the choice list");
            set_stop(w, XSIM_STOP_REPLAY_ERROR);
            return;
        }
        c->sw = sw;
        c->cap = cap;
        if (cap <= ((size_t)1 << 20))
            choices_cap_hint = cap;
    }
    c->sw[c->n].decision = w->stats.decisions;
    c->sw[c->n].entity = entity;
    c->n++;
}

/* Hand the baton to the main thread and park for good (until destroy). */
static _Noreturn void park(struct xsim_world *w, struct xsim_vcpu *self);

static void stop_now(struct xsim_world *w, struct xsim_vcpu *self)
{
    if (w->stop_reason == XSIM_STOP_NONE)
        w->stop_reason = XSIM_STOP_REQUESTED;
    w->stopping = true;
    w->cur = NULL;
    if (w->fibers) {
        /* Back to the thread's own context for good: this fiber (done or
         * not) is never resumed; destroy drops its stack. */
        if (self != NULL)
            xsim__fiber_switch_last(&self->fiber, &w->main_fiber);
        return;
    }
    xsim_baton_pass(&w->main_baton);
    if (self != NULL && self->state != XSIM_VCPU_DONE)
        park(w, self);
}

static _Noreturn void park(struct xsim_world *w, struct xsim_vcpu *self)
{
    if (w->fibers) {
        w->cur = NULL;
        xsim__fiber_switch_last(&self->fiber, &w->main_fiber);
    }
    for (;;) {
        xsim_baton_wait(&self->baton);
        if (__atomic_load_n(&w->exiting, __ATOMIC_ACQUIRE))
            longjmp(self->exit_jmp, 1);
    }
}

static void switch_to(struct xsim_world *w, struct xsim_vcpu *self, struct xsim_vcpu *next)
{
    w->cur = next;
    w->stats.switches++;
    if (w->fibers) {
        struct xsim_fiber *from = self != NULL ? &self->fiber : &w->main_fiber;
        if (self != NULL && self->state == XSIM_VCPU_DONE)
            xsim__fiber_switch_last(from, &next->fiber);
        xsim__fiber_switch(from, &next->fiber);
        /* Resumed: every context shares this thread's xsim__self. */
        xsim__self = self != NULL ? self : w->main_self;
        return;
    }
    /* Whether we come back is read before the pass: once `next` holds the
     * baton it may wake `self` (writing its state) on its own thread. Only
     * `self` makes itself DONE, so the answer cannot change meanwhile. */
    bool last = self == NULL || self->state == XSIM_VCPU_DONE;
    xsim_baton_pass(&next->baton);
    if (last)
        return;
    xsim_baton_wait(&self->baton);
    if (__atomic_load_n(&w->exiting, __ATOMIC_ACQUIRE))
        longjmp(self->exit_jmp, 1);
}

/* A yielding vCPU hands over to the vCPU that has waited longest: order the
 * vCPU candidates by when they last ran (insertion sort: n is small), so
 * that "the first candidate" (dfs's default, bytes' fallback) is fair and a
 * set of spinning vCPUs cannot starve the one they wait for. */
static void order_for_yield(struct xsim_world *w, uint32_t *cand, uint64_t *times, unsigned int n)
{
    unsigned int nv = cand[n - 1] == XSIM_ENTITY_EVENT ? n - 1 : n;

    for (unsigned int i = 1; i < nv; i++) {
        uint32_t c = cand[i];
        uint64_t t = times[i];
        unsigned int j = i;
        while (j > 0 && w->vcpus[cand[j - 1]]->last_ran > w->vcpus[c]->last_ran) {
            cand[j] = cand[j - 1];
            times[j] = times[j - 1];
            j--;
        }
        cand[j] = c;
        times[j] = t;
    }
}

/* A non-yielding point of `self` under a policy other than `time`, when
 * reschedule would find `self` its only candidate: the only runnable vCPU,
 * no timed event to consider (none, or one "+time" holds back), within
 * the time limit. Does what reschedule would (no decision: `self` goes on)
 * and returns true; about half of a scenario's scheduling points are
 * such. */
static inline bool sole_candidate(struct xsim_world *w, struct xsim_vcpu *self)
{
    uint64_t head;

    if (w->stopping || w->nrunnable != 1 || self->state != XSIM_VCPU_RUNNABLE)
        return false;
    if (xsim_evq_peek(&w->evq, &head) &&
        (!w->events_in_time || w->fair_drain || head <= self->vtime ||
         head - self->vtime <= w->events_skew_ns))
        return false;
    if (w->cfg.time_limit_ns != 0 && self->vtime > w->cfg.time_limit_ns)
        return false;
    /* As reschedule with n == 1: no decision, `self` goes on. */
    w->sched.yield_from = -1;
    self->last_ran = w->stats.decisions;
    if (self->vtime < w->now)
        self->vtime = w->now;
    else
        w->now = self->vtime;
    return true;
}

/*
 * Decide who runs next, from the baton holder `self` (NULL for the main
 * thread at the start). Returns when `self` should go on running (at once,
 * or after others ran and handed the baton back); a DONE or main `self`
 * returns right after handing the baton away.
 */
static void reschedule(struct xsim_world *w, struct xsim_vcpu *self, bool yield)
{
    uint32_t cand[XSIM_MAX_VCPUS + 1];
    uint64_t times[XSIM_MAX_VCPUS + 1];
    unsigned int words = (w->nvcpus + 63) / 64;
    bool after_event = false;

    for (;;) {
        unsigned int n = 0;
        int selfi = -1, k;
        uint64_t head, earliest = UINT64_MAX;
        bool have_event;

        if (w->stopping) {
            stop_now(w, self);
            return;
        }
        for (unsigned int i = 0; i < words; i++) {
            uint64_t bits = w->runnable[i];
            while (bits != 0) {
                unsigned int idx = i * 64 + (unsigned)__builtin_ctzll(bits);
                uint64_t t;
                bits &= bits - 1;
                if (self != NULL && idx == self->index) {
                    /* A spinning vCPU yields: it is a candidate only when
                     * nobody else is. */
                    if (yield)
                        continue;
                    selfi = (int)n;
                }
                t = w->vcpus[idx]->vtime;
                earliest = t < earliest ? t : earliest;
                times[n] = t;
                cand[n++] = idx;
            }
        }
        have_event = xsim_evq_peek(&w->evq, &head);
        if (have_event && n > 0 && w->events_in_time && !w->fair_drain) {
            /* "+time": an event may not overtake the vCPUs' clocks (by
             * more than the skew of "+time:D"), so that devices and
             * timers keep pace with the guest while the vCPUs'
             * interleaving is still the policy's to choose. */
            have_event = head <= earliest || head - earliest <= w->events_skew_ns;
        }
        if (have_event) {
            times[n] = head;
            cand[n++] = XSIM_ENTITY_EVENT;
        }
        if (n == 0 && yield && self != NULL && self->state == XSIM_VCPU_RUNNABLE) {
            times[n] = self->vtime;
            selfi = (int)n;
            cand[n++] = self->index;
        } else if (yield && n > 1) {
            order_for_yield(w, cand, times, n);
        }
        w->sched.yield_from = yield && self != NULL ? (int)self->index : -1;
        yield = false; /* after an event ran inline, choose normally */
        if (n == 0) {
            w->stop_reason = w->nlive == 0 ? XSIM_STOP_ALL_DONE : XSIM_STOP_QUIESCENT;
            stop_now(w, self);
            return;
        }
        if (n == 1) {
            k = 0;
        } else if (w->fair_drain) {
            k = xsim__policy_pick_fair(w, cand, times, n, selfi);
        } else {
            w->sched.after_event = after_event;
            /* `random` is a uniform draw (xsim__policy_pick's case). */
            k = w->policy_random ? (int)xsim__rng_below(&w->sched.rng, n)
                                 : xsim__policy_pick(w, cand, times, n, selfi);
            if (k < 0) {
                w->stop_reason = XSIM_STOP_REPLAY_ERROR;
                stop_now(w, self);
                return;
            }
            if (k != selfi) {
                record_switch(w, cand[k]);
                xsim__trace_rec(w, XSIM_TR_SCHED, xsim__entity(self), cand[k], 0, 0);
            }
            w->stats.decisions++;
            if (w->cfg.max_decisions != 0 && w->stats.decisions >= w->cfg.max_decisions) {
                w->stop_reason = XSIM_STOP_STEP_LIMIT;
                stop_now(w, self);
                return;
            }
        }
        if (w->cfg.time_limit_ns != 0 && times[k] > w->cfg.time_limit_ns) {
            if (!w->fair_drain && !w->time_rules) {
                /* An exploring policy may have starved a vCPU for the whole
                 * run: drain fairly (for as long again at most) so that
                 * what was sent before the limit gets its chance. */
                w->fair_drain = true;
                w->drain_limit_ns = w->cfg.time_limit_ns + w->cfg.time_limit_ns;
                xsim__trace_rec(w, XSIM_TR_SCHED, xsim__entity(self), XSIM_ENTITY_EVENT, 1, 0);
                continue;
            }
            if (!w->fair_drain || times[k] > w->drain_limit_ns) {
                w->stop_reason = XSIM_STOP_TIME_LIMIT;
                stop_now(w, self);
                return;
            }
        }
        if (cand[k] == XSIM_ENTITY_EVENT) {
            if (w->cfg.max_events != 0 && w->stats.events >= w->cfg.max_events) {
                w->stop_reason = XSIM_STOP_EVENT_LIMIT;
                stop_now(w, self);
                return;
            }
            run_event(w);
            after_event = true;
            continue;
        }
        struct xsim_vcpu *next = w->vcpus[cand[k]];
        next->last_ran = w->stats.decisions;
        /* Under non-time policies a vCPU may be chosen while the world's
         * clock is ahead of it: bring it forward, time never runs back. */
        if (next->vtime < w->now)
            next->vtime = w->now;
        else
            w->now = next->vtime;
        if (next == self)
            return;
        switch_to(w, self, next);
        return;
    }
}

/* The `time` policy's "keep going" test, without building candidates: the
 * caller is the only runnable vCPU and no timed event is due before it. */
static inline bool time_fast_path(struct xsim_world *w, struct xsim_vcpu *self)
{
    uint64_t head;

    if (w->nrunnable != 1 || self->state != XSIM_VCPU_RUNNABLE)
        return false;
    if (xsim_evq_peek(&w->evq, &head)) {
        if (head <= self->vtime)
            return false;
        /* Two candidates (self and the event): it counts as a decision,
         * exactly as the general path (and a replay) would count it. */
        w->stats.decisions++;
        if (w->cfg.max_decisions != 0 && w->stats.decisions >= w->cfg.max_decisions)
            return false;
    }
    if (w->cfg.time_limit_ns != 0 && self->vtime > w->cfg.time_limit_ns)
        return false;
    if (self->vtime > w->now)
        w->now = self->vtime;
    return true;
}

static void fr_point(struct xsim_world *w, struct xsim_vcpu *self);

void xsim_point(struct xsim_world *w)
{
    struct xsim_vcpu *self = xsim__self;

    if (self == NULL || self->world != w)
        return;
    if (free_run(w)) {
        fr_point(w, self);
        return;
    }
    self->last_point_no = ++w->stats.points;
    if (w->policy_time ? !(!w->stopping && time_fast_path(w, self)) : !sole_candidate(w, self))
        reschedule(w, self, false);
    deliver_pending(w, self);
}

void xsim_point_spin(struct xsim_world *w)
{
    struct xsim_vcpu *self = xsim__self;

    if (self == NULL || self->world != w)
        return;
    if (free_run(w)) {
        fr_point(w, self);
        sched_yield();
        return;
    }
    self->last_point_no = ++w->stats.points;
    /* Under `time` a spinner simply pays for each turn and the clock
     * decides; every other policy makes it yield, so that priority- and
     * preemption-bounded policies cannot livelock on a wait loop. */
    if (w->policy_time) {
        if (!(!w->stopping && time_fast_path(w, self)))
            reschedule(w, self, false);
    } else {
        /* A replay of a `time` run does as `time` did (no yield), through
         * the general path, where the recorded choices are read. */
        reschedule(w, self, !w->time_rules);
    }
    deliver_pending(w, self);
}

static void vcpu_done(struct xsim_world *w, struct xsim_vcpu *v)
{
    if (free_run(w)) {
        pthread_mutex_lock(&w->big);
        __atomic_store_n(&v->state, XSIM_VCPU_DONE, __ATOMIC_RELEASE);
        w->nlive--;
        xsim__trace_rec(w, XSIM_TR_DONE, v->index, 0, 0, 0);
        pthread_cond_broadcast(&w->fr_cv);
        pthread_mutex_unlock(&w->big);
        return;
    }
    v->state = XSIM_VCPU_DONE;
    clear_runnable(w, v);
    w->nlive--;
    xsim__trace_rec(w, XSIM_TR_DONE, v->index, 0, 0, 0);
    reschedule(w, v, false);
}

static void *vcpu_thread(void *arg)
{
    struct xsim_vcpu *v = arg;
    struct xsim_world *w = v->world;
    struct xsim_domain *d = v->dom;

    xsim__self = v;
    if (w->pin_cpu >= 0)
        (void)xsim_pin_self(w->pin_cpu);
    if (setjmp(v->exit_jmp) == 0) {
        if (!free_run(w)) {
            xsim_baton_wait(&v->baton);
            if (__atomic_load_n(&w->exiting, __ATOMIC_ACQUIRE))
                return NULL;
        }
        d->ops.start(d->guest, v->cpu);
        vcpu_done(w, v);
    }
    return NULL;
}

/* A vCPU fiber's body: first entered by the first switch to it. */
static void vcpu_fiber(void *arg)
{
    struct xsim_vcpu *v = arg;
    struct xsim_world *w = v->world;
    struct xsim_domain *d = v->dom;

    xsim__self = v;
    d->ops.start(d->guest, v->cpu);
    vcpu_done(w, v);
    /* vcpu_done handed the baton on and never comes back; should it,
     * leave for the main context for good all the same. */
    stop_now(w, v);
}

void xsim__halt(struct xsim_world *w, struct xsim_vcpu *v)
{
    v->if_flag = true;
    charge_owed_exit(w, v);
    for (;;) {
        if (v->entry_hook != NULL)
            v->entry_hook(v, v->entry_hook_arg);
        if (deliverable(v) >= 0) {
            deliver_pending(w, v);
            return;
        }
        xsim_charge(v, XSIM_COST_EXIT_HLT, xsim_cost(w, XSIM_COST_EXIT_HLT));
        if (free_run(w)) {
            /* Lock order: v->mu alone here; xsim_vcpu_raise takes v->mu
             * (possibly under `big`) after setting the IRR bit, so a
             * wakeup cannot fall between the check and the wait. */
            pthread_mutex_lock(&v->mu);
            if (deliverable(v) < 0 && !is_stopping(w)) {
                __atomic_store_n(&v->state, XSIM_VCPU_HALTED, __ATOMIC_SEQ_CST);
                __atomic_fetch_add(&w->fr_halted, 1, __ATOMIC_SEQ_CST);
                pthread_cond_wait(&v->cv, &v->mu);
                /* Uncount before leaving HALTED: the main thread must never
                 * see every vCPU counted idle while this one is awake. */
                __atomic_fetch_add(&w->fr_wakes, 1, __ATOMIC_SEQ_CST);
                __atomic_fetch_sub(&w->fr_halted, 1, __ATOMIC_SEQ_CST);
                __atomic_store_n(&v->state, XSIM_VCPU_RUNNABLE, __ATOMIC_SEQ_CST);
            }
            pthread_mutex_unlock(&v->mu);
            if (is_stopping(w))
                fr_park(w, v);
            continue; /* the loop's top delivers what woke us */
        }
        v->state = XSIM_VCPU_HALTED;
        v->halted_at = v->vtime;
        clear_runnable(w, v);
        xsim__trace_rec(w, XSIM_TR_HALT, v->index, 0, 0, 0);
        reschedule(w, v, false);
    }
}

void xsim__irq_enable(struct xsim_world *w, struct xsim_vcpu *v)
{
    v->if_flag = true;
    deliver_pending(w, v);
}

_Noreturn void xsim__vcpu_abort(struct xsim_world *w, struct xsim_vcpu *v)
{
    if (free_run(w))
        fr_park(w, v); /* the main thread sees `stopping` and ends the run */
    /* Deterministic: only the baton holder runs guest code, so `v` is the
     * current vCPU; hand the baton to the main thread and park. */
    if (w->cur == v)
        stop_now(w, v);
    park(w, v);
}

/* ---- free-run mode ---- */

static _Noreturn void fr_park(struct xsim_world *w, struct xsim_vcpu *self)
{
    pthread_mutex_lock(&self->mu);
    while (!__atomic_load_n(&w->exiting, __ATOMIC_ACQUIRE))
        pthread_cond_wait(&self->cv, &self->mu);
    pthread_mutex_unlock(&self->mu);
    longjmp(self->exit_jmp, 1);
}

static void fr_point(struct xsim_world *w, struct xsim_vcpu *self)
{
    __atomic_fetch_add(&w->stats.points, 1, __ATOMIC_RELAXED);
    if (is_stopping(w))
        fr_park(w, self);
    deliver_pending(w, self);
}

/* Smallest clock among vCPUs that are running (neither halted nor done);
 * UINT64_MAX when none runs. */
static uint64_t fr_horizon(struct xsim_world *w)
{
    uint64_t m = UINT64_MAX;

    for (unsigned int i = 0; i < w->nvcpus; i++) {
        struct xsim_vcpu *v = w->vcpus[i];
        enum xsim_vcpu_state s = __atomic_load_n(&v->state, __ATOMIC_RELAXED);
        if (s == XSIM_VCPU_RUNNABLE) {
            uint64_t t = xsim_vcpu_now(v);
            if (t < m)
                m = t;
        }
    }
    return m;
}

static bool fr_any_pending_irq(struct xsim_world *w)
{
    for (unsigned int i = 0; i < w->nvcpus; i++) {
        if (highest_bit(w->vcpus[i]->irr, true) >= 0)
            return true;
    }
    return false;
}

/* Every live vCPU halted with nothing pending, and none woke while we
 * looked: a vCPU uncounts itself and bumps fr_wakes before it runs, and
 * only running vCPUs or timed events (we hold `big`) raise interrupts. */
static bool fr_quiescent(struct xsim_world *w)
{
    uint64_t wakes = __atomic_load_n(&w->fr_wakes, __ATOMIC_SEQ_CST);

    if (__atomic_load_n(&w->fr_halted, __ATOMIC_SEQ_CST) != w->nlive || w->evq.size != 0 ||
        fr_any_pending_irq(w))
        return false;
    return __atomic_load_n(&w->fr_wakes, __ATOMIC_SEQ_CST) == wakes &&
           __atomic_load_n(&w->fr_halted, __ATOMIC_SEQ_CST) == w->nlive;
}

static void fr_main(struct xsim_world *w)
{
    struct timespec pause = {0, 20000};

    pthread_mutex_lock(&w->big);
    while (!w->stopping) {
        uint64_t head, horizon = fr_horizon(w);
        unsigned int halted = __atomic_load_n(&w->fr_halted, __ATOMIC_SEQ_CST);
        bool all_idle = w->nlive == 0 || halted == w->nlive;

        if (w->nlive == 0 && w->evq.size == 0) {
            w->stop_reason = XSIM_STOP_ALL_DONE;
            break;
        }
        if (xsim_evq_peek(&w->evq, &head) && (head <= horizon || all_idle)) {
            if (w->cfg.time_limit_ns != 0 && head > w->cfg.time_limit_ns) {
                w->stop_reason = XSIM_STOP_TIME_LIMIT;
                break;
            }
            if (w->cfg.max_events != 0 && w->stats.events >= w->cfg.max_events) {
                w->stop_reason = XSIM_STOP_EVENT_LIMIT;
                break;
            }
            run_event(w);
            continue;
        }
        if (all_idle && fr_quiescent(w)) {
            w->stop_reason = XSIM_STOP_QUIESCENT;
            break;
        }
        if (w->cfg.time_limit_ns != 0 && horizon != UINT64_MAX && horizon > w->cfg.time_limit_ns) {
            w->stop_reason = XSIM_STOP_TIME_LIMIT;
            break;
        }
        /* Nothing due: let the vCPUs run a little (host timing: free-run
         * mode is for stress and sanitizers, not for replay). */
        pthread_mutex_unlock(&w->big);
        nanosleep(&pause, NULL);
        pthread_mutex_lock(&w->big);
    }
    if (w->stop_reason == XSIM_STOP_NONE)
        w->stop_reason = XSIM_STOP_REQUESTED;
    __atomic_store_n(&w->stopping, true, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&w->big);
    for (unsigned int i = 0; i < w->nvcpus; i++) {
        struct xsim_vcpu *v = w->vcpus[i];
        pthread_mutex_lock(&v->mu);
        pthread_cond_broadcast(&v->cv);
        pthread_mutex_unlock(&v->mu);
    }
}

/* ---- run ---- */

/* A fault on a fiber (fiber.c jumped back here): fail the run, naming the
 * vCPU whose stack it was and where that vCPU last yielded to the
 * scheduler. */
static void fiber_crashed(struct xsim_world *w)
{
    const struct xsim_fiber_crash *c = xsim__fiber_crash_info();
    struct xsim_vcpu *v = NULL;
    char what[96];

    xsim__self = w->main_self;
    w->cur = NULL;
    /* Like a guest BUG: the vCPU stopped wherever it was, perhaps holding
     * guest locks, so hosts must not call into the guest's state now. */
    __atomic_store_n(&w->guest_bug, true, __ATOMIC_RELEASE);
    for (unsigned int i = 0; i < w->nvcpus; i++) {
        if (&w->vcpus[i]->fiber == c->fiber)
            v = w->vcpus[i];
    }
    if (c->guard)
        snprintf(what, sizeof(what), "stack overflow (guard page hit)");
    else
        snprintf(what, sizeof(what), "%s at address 0x%" PRIxPTR,
                 c->signo == SIGBUS ? "SIGBUS" : "SIGSEGV", c->addr);
    if (v == NULL) {
        xsim_world_fail(w, "%s on a vCPU fiber after decision %" PRIu64, what, w->stats.decisions);
        return;
    }
    if (v->last_point.file != NULL)
        xsim_world_fail(w,
                        "vCPU %u: %s after decision %" PRIu64 " at scheduling point %" PRIu64
                        " (its last, %s:%d; virtual time %" PRIu64 " ns)",
                        v->cpu, what, w->stats.decisions, v->last_point_no, v->last_point.file,
                        v->last_point.line, v->vtime);
    else
        xsim_world_fail(w,
                        "vCPU %u: %s after decision %" PRIu64 " at scheduling point %" PRIu64
                        " (its last; virtual time %" PRIu64 " ns)",
                        v->cpu, what, w->stats.decisions, v->last_point_no, v->vtime);
}

/* Deterministic run on fibers: the calling thread's own context is the
 * main context; the run ends when a fiber switches back to it (or a fault
 * on a fiber jumps back here). */
static void fiber_run(struct xsim_world *w)
{
    volatile bool armed = false;

    for (unsigned int i = 0; i < w->nvcpus; i++) {
        struct xsim_vcpu *v = w->vcpus[i];
        v->state = XSIM_VCPU_RUNNABLE;
        set_runnable(w, v);
        w->nlive++;
        if (xsim__fiber_create(&v->fiber, w->cfg.stack_size, vcpu_fiber, v) != 0) {
            v->state = XSIM_VCPU_DONE;
            clear_runnable(w, v);
            w->nlive--;
            set_stop(w, XSIM_STOP_FAILED);
            snprintf(w->failure, sizeof(w->failure), "cannot create vCPU fiber %u", i);
        }
    }
    w->main_self = xsim__self;
    /* No mask saved: the handler runs with nothing more blocked (fiber.c). */
    if (sigsetjmp(w->crash_jb, 0) == 0) {
        armed = xsim__fiber_crash_arm(&w->crash_jb);
        reschedule(w, NULL, false);
    } else {
        fiber_crashed(w);
    }
    if (armed)
        xsim__fiber_crash_disarm();
    xsim__self = w->main_self;
}

enum xsim_stop_reason xsim_world_run(struct xsim_world *w)
{
    pthread_attr_t attr;

    if (w->ran)
        return w->stop_reason != XSIM_STOP_NONE ? w->stop_reason : XSIM_STOP_REQUESTED;
    w->ran = true;
    if (xsim__sched_init(w) != 0) {
        snprintf(w->replay_error, sizeof(w->replay_error), "out of memory");
        w->stop_reason = XSIM_STOP_REPLAY_ERROR;
        return w->stop_reason;
    }
    if (w->fibers) {
        fiber_run(w);
        goto ended;
    }
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, w->cfg.stack_size);
    /* Every vCPU is live before any thread starts: in free-run mode a vCPU
     * that finishes at once counts itself out (under `big`) while later
     * ones are still being created, and reads the others' states
     * (running_elsewhere). */
    for (unsigned int i = 0; i < w->nvcpus; i++) {
        struct xsim_vcpu *v = w->vcpus[i];
        __atomic_store_n(&v->state, XSIM_VCPU_RUNNABLE, __ATOMIC_RELEASE);
        set_runnable(w, v);
        w->nlive++;
    }
    for (unsigned int i = 0; i < w->nvcpus; i++) {
        struct xsim_vcpu *v = w->vcpus[i];
        if (pthread_create(&v->thread, &attr, vcpu_thread, v) != 0) {
            if (free_run(w))
                pthread_mutex_lock(&w->big);
            __atomic_store_n(&v->state, XSIM_VCPU_DONE, __ATOMIC_RELEASE);
            clear_runnable(w, v);
            w->nlive--;
            if (w->failure[0] == '\0')
                snprintf(w->failure, sizeof(w->failure), "cannot create vCPU thread %u", i);
            if (free_run(w))
                pthread_mutex_unlock(&w->big);
            set_stop(w, XSIM_STOP_FAILED);
            continue;
        }
        v->started = true;
    }
    pthread_attr_destroy(&attr);
    if (free_run(w)) {
        fr_main(w);
    } else {
        if (w->pin_cpu >= 0)
            (void)xsim_pin_self(w->pin_cpu);
        reschedule(w, NULL, false);
        xsim_baton_wait(&w->main_baton);
    }
ended:
    w->stats.end_time_ns = w->now;
    for (unsigned int i = 0; i < w->nvcpus; i++) {
        uint64_t t = xsim_vcpu_now(w->vcpus[i]);
        if (t > w->stats.end_time_ns)
            w->stats.end_time_ns = t;
    }
    xsim__policy_run_end(w);
    return w->stop_reason;
}

void xsim_world_stop(struct xsim_world *w)
{
    set_stop(w, XSIM_STOP_REQUESTED);
}

void xsim_world_fail(struct xsim_world *w, const char *fmt, ...)
{
    va_list ap;

    if (free_run(w))
        pthread_mutex_lock(&w->big);
    if (w->failure[0] == '\0') {
        va_start(ap, fmt);
        vsnprintf(w->failure, sizeof(w->failure), fmt, ap);
        va_end(ap);
        if (w->failure[0] == '\0')
            snprintf(w->failure, sizeof(w->failure), "failure");
        xsim__trace_rec(w, XSIM_TR_FAIL, xsim__entity(xsim__self), 0, 0, 0);
    }
    if (free_run(w))
        pthread_mutex_unlock(&w->big);
    set_stop(w, XSIM_STOP_FAILED);
    /* A failing vCPU stops here; a timed event stops at the scheduler. */
    if (!free_run(w) && xsim__self != NULL && xsim__self->world == w && w->cur == xsim__self)
        stop_now(w, xsim__self);
}
