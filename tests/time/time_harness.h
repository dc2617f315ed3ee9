/*
 * time_harness.h - tests/support/harness with the time pieces on top: the
 * guest's clock, per-CPU timers and IPIs set up on every CPU before the
 * test's main runs, and interrupts routed to xg_timer_interrupt and
 * xg_ipi_interrupt before xg_guest_interrupt.
 *
 * It builds its world like th_create (which cannot route extra vectors
 * yet) and shares struct th, th_run and th_destroy with it.
 */
#ifndef XSIM_TEST_TIME_HARNESS_H
#define XSIM_TEST_TIME_HARNESS_H

#include "harness.h"
#include "xensim/guest/xg_ipi.h"
#include "xensim/guest/xg_time.h"
#include "xensim/guest/xg_timer.h"
#include "xensim/time.h"

struct tt;
typedef void (*tt_main_fn)(struct tt *x, unsigned int cpu);

struct tt_config {
    struct th_config th; /* th.main is the harness's own */
    struct xsim_hv_time_config time;
    struct xg_clock_config clock;
    struct xg_timer_config timer;
    struct xg_ipi_config ipi;
    xg_timer_fn timer_fn; /* every CPU's timer callback (NULL: none) */
    void *timer_arg;
    bool no_timers, no_ipis;
    tt_main_fn main; /* per CPU once everything is up */
    /* Sees every interrupt first; true = handled (EOI included). */
    bool (*intr)(struct tt *x, unsigned int cpu, uint8_t vector);
    void *user;
};

struct tt {
    struct th th; /* first: the domain's guest pointer is the tt */
    struct tt_config cfg;
    struct xg_clock clk;
    struct xg_timers tm;
    struct xg_ipi ipi;
    int clock_rc, timers_rc, ipi_rc;
    int timer_cpu_rc[XG_MAX_CPUS], ipi_cpu_rc[XG_MAX_CPUS];
    volatile uint32_t phase, ninit;
    volatile uint32_t done[XG_MAX_CPUS]; /* main returned on that CPU */
    void *user;
};

/* Defaults: th_config_init's, xsim_hv_time_config_default, clock, timer
 * and ipi configs' defaults. */
void tt_config_init(struct tt_config *cfg, unsigned int ncpus);
/* `x` is caller-allocated (large: use tt_alloc). */
struct tt *tt_alloc(void);
int tt_create(struct tt *x, const struct tt_config *cfg, struct xsim_policy *pol);
enum xsim_stop_reason tt_run(struct tt *x);
/* Destroys the world and frees `x`. */
void tt_free(struct tt *x);

/* Does the world's event queue hold an event back behind a later one that
 * was pending when the scheduler last looked (sim/world/evq.c before the fix the
 * time work asks for)? Tests whose timers depend on that order skip then. */
bool tt_event_queue_clamps(void);

/* Every CPU's main returned. */
bool tt_all_done(const struct tt *x);
/* Spin (a scheduling point per turn) for `ns` of guest work. */
void tt_work(struct tt *x, uint64_t ns);
/* Wait with interrupts on until *flag != 0 (halting between interrupts). */
void tt_wait_flag(struct tt *x, volatile uint32_t *flag);
/* Run guest work, interrupts on, until the clock reads >= mono_ns. */
void tt_sleep_until(struct tt *x, uint64_t mono_ns);

#endif
