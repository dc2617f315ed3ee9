/*
 * suspend_harness.h - tests/support/harness with everything a suspend
 * touches set up before the test's main runs: XenStore and the xenbus
 * client, a grant table, the clock, PV timers and IPIs on every CPU, the
 * guest's suspend module and the toolstack. CPUs other than 0 idle through
 * xg_suspend_cpu_poll after main. A test event channel from dom0 is bound
 * on CPU 0 before the timers, so that port numbers shift on a new host.
 */
#ifndef XSIM_TEST_SUSPEND_HARNESS_H
#define XSIM_TEST_SUSPEND_HARNESS_H

#include "harness.h"
#include "xensim/guest/xg_ipi.h"
#include "xensim/guest/xg_suspend.h"
#include "xensim/guest/xg_time.h"
#include "xensim/guest/xg_timer.h"
#include "xensim/guest/xg_xenbus.h"
#include "xensim/time.h"
#include "xensim/toolstack.h"

struct sh;
typedef void (*sh_main_fn)(struct sh *x, unsigned int cpu);

struct sh_config {
    struct th_config th; /* th.main is the harness's own; xenstore forced on */
    struct xsim_hv_time_config time;
    bool no_suspend; /* a guest that never watches control/shutdown */
    sh_main_fn main;
    void *user;
};

struct sh {
    struct th th; /* first: the domain's guest pointer is the sh */
    struct sh_config cfg;
    struct xg_clock clk;
    struct xg_timers tm;
    struct xg_ipi ipi;
    struct xg_xenbus xb;
    struct xg_gnttab gt;
    struct xg_suspend *susp;
    struct xsim_toolstack *ts;
    int setup_rc; /* first failure of the set-up, 0 if none */
    volatile uint32_t phase, ninit;
    volatile uint32_t done[XG_MAX_CPUS];
    /* the test event channel (guest port on CPU 1 when there is one) */
    evtchn_port_t ev_port, ev_bport;
    volatile uint32_t ev_handled;
    uint64_t ev_handled_at, ev_sent_at;
    /* per-CPU timer and IPI observations */
    volatile uint32_t fired[XG_MAX_CPUS];
    uint64_t fired_late[XG_MAX_CPUS]; /* a callback before its deadline: count */
    uint64_t arm_delta_ns;
    volatile uint32_t ipis[XG_MAX_CPUS];
    volatile uint32_t tlbs[XG_MAX_CPUS]; /* XG_IPI_TLB runs (also in ipis) */
    /* handlers (event, IPI, timer) that ran while the domain was inside
     * SCHEDOP_shutdown(suspend): CPUs must be parked then */
    uint32_t ran_while_suspended;
    void *user;
};

void sh_config_init(struct sh_config *cfg, unsigned int ncpus);
struct sh *sh_alloc(void);
int sh_create(struct sh *x, const struct sh_config *cfg, struct xsim_policy *pol);
enum xsim_stop_reason sh_run(struct sh *x);
void sh_free(struct sh *x);

/* The test channel's handler (counts into ev_handled / ev_handled_at). */
int sh_ev_handler(struct xg_guest *g, evtchn_port_t port, void *arg);
/* CPU 0: wait (halted) for the next suspend request, then run it. */
int sh_wait_and_suspend(struct sh *x);
/* The same, noting virtual and monotonic time around xg_suspend_run. */
int sh_wait_and_suspend_timed(struct sh *x, uint64_t *t0, uint64_t *t1, uint64_t *m0, uint64_t *m1);
/* Guest work on the calling CPU until *ctr >= value or `limit_ns` of
 * virtual time passed; true if reached. */
bool sh_wait_count(struct sh *x, volatile uint32_t *ctr, uint32_t value, uint64_t limit_ns);
/* CPU 0: IPI (XG_IPI_CALL) every CPU; each one's handler arms its timer
 * arm_delta_ns ahead. Returns the number of CPUs sent to. */
int sh_arm_all(struct sh *x);
/* A timed event sends on the test channel once the domain is suspended
 * (polling every 10 us from `from_ns`). */
void sh_send_during_suspend(struct sh *x, uint64_t from_ns);

#endif
