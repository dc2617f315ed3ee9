/*
 * xg_timer.h - one event timer per CPU with a callback, over the best
 * device the platform offers:
 *
 *   pv            VCPUOP_set_singleshot_timer with an absolute deadline in
 *                 the vCPU's system time, flags 0; expiry is VIRQ_TIMER.
 *                 Only with a vector callback (events reach every CPU) and
 *                 XENFEAT_hvm_safe_pvclock. One hypercall per reprogram.
 *   tsc-deadline  LAPIC timer in TSC-deadline mode: one WRMSR 0x6e0 exit.
 *   lapic         LAPIC one-shot timer (x2APIC TMICT 0x838), its rate
 *                 calibrated against the clock: one WRMSR exit.
 *   hpet          HPET comparator n for CPU n (so at most 3 CPUs with Xen's
 *                 vHPET), through the IOAPIC (pins 20..23), routed by CPU 0
 *                 at init: read counter, write comparator, read counter
 *                 again (three MMIO exits, as Linux's HPET clockevent).
 *
 * xg_timers_init (CPU 0, after xg_guest_boot and xg_clock_init) chooses and
 * stops the periodic VCPUOP timer of every vCPU; xg_timer_cpu_init on each
 * CPU installs that CPU's callback. The callback runs in interrupt context
 * on its CPU, never before its deadline as the clock reads it: an early or
 * stale expiry (a reprogram raced it) re-arms instead. For the emulated
 * devices, route their vectors to xg_timer_interrupt().
 */
#ifndef XENSIM_GUEST_XG_TIMER_H
#define XENSIM_GUEST_XG_TIMER_H

#include <stdbool.h>
#include <stdint.h>

#include "xensim/guest/xg.h"
#include "xensim/guest/xg_time.h"

/* Vectors of the emulated timers (Linux's LOCAL_TIMER_VECTOR is 0xec). */
#define XG_VECTOR_LAPIC_TIMER 0xec
#define XG_VECTOR_HPET        0xe8
/* IOAPIC pin of HPET comparator n: XG_HPET_FIRST_PIN + n, for the first
 * XG_HPET_PINS comparators (Xen's vHPET can reach pins 20..23 only). */
#define XG_HPET_FIRST_PIN 20
#define XG_HPET_PINS      4

enum xg_timer_kind {
    XG_TIMER_NONE = 0,
    XG_TIMER_PV,
    XG_TIMER_TSC_DEADLINE,
    XG_TIMER_LAPIC,
    XG_TIMER_HPET,
};
/* "none", "pv", "tsc-deadline", "lapic", "hpet" (for run reports). */
const char *xg_timer_kind_name(enum xg_timer_kind k);

struct xg_timers;
/* Called on `cpu` with interrupts off once the clock reads >= deadline. */
typedef void (*xg_timer_fn)(struct xg_timers *t, unsigned int cpu, uint64_t deadline_ns,
                            uint64_t now_ns, void *arg);

struct xg_timer_config {
    /* XG_TIMER_NONE: choose pv, tsc-deadline, lapic, hpet in that order. A
     * forced kind that is unavailable falls back the same way. */
    enum xg_timer_kind force;
    /* Deadlines closer than this are pushed out to it. 0 = defaults: 100 us
     * for pv (Linux's TIMER_SLOP for the Xen clockevent), 1 us otherwise. */
    uint64_t min_delta_ns;
    uint64_t hpet_base; /* 0 = XG_HPET_BASE */
};
/* Choose the device, default minimum, the HPET at XG_HPET_BASE. */
void xg_timer_config_init(struct xg_timer_config *cfg);

struct xg_timer_stats {
    uint64_t sets, stops, fires;
    uint64_t early; /* expiries before the deadline, re-armed */
    uint64_t stale; /* expiries with no timer set (stopped, or raced) */
    uint64_t irqs;  /* device interrupts / VIRQ_TIMER events taken */
};

struct xg_timer_cpu {
    xg_timer_fn fn;
    void *arg;
    uint64_t deadline_ns; /* monotonic; 0 = not set */
    evtchn_port_t port;   /* pv: VIRQ_TIMER */
    bool ready;
    bool suspended; /* between xg_timer_cpu_suspend and xg_timer_cpu_resume */
    /* The device this CPU's part is set up for: differs from the
     * xg_timers kind between a re-choice in xg_timers_resume and this
     * CPU's xg_timer_cpu_resume. */
    enum xg_timer_kind kind;
    struct xg_timer_stats st;
};

struct xg_timers {
    struct xg_guest *g;
    struct xg_clock *clk;
    struct xg_timer_config cfg;
    enum xg_timer_kind kind;
    uint64_t min_delta_ns;
    /* lapic: counts per lapic_ns at divide 1 */
    uint64_t lapic_counts, lapic_ns;
    /* hpet */
    uint64_t hpet_period_fs;
    unsigned int hpet_ntimers;
    struct xg_timer_cpu cpu[XG_MAX_CPUS];
};

/* On CPU 0 after xg_guest_boot and xg_clock_init: choose the device and
 * stop every vCPU's periodic timer. 0, -EINVAL or -ENODEV (none works). */
int xg_timers_init(struct xg_timers *t, struct xg_guest *g, struct xg_clock *clk,
                   const struct xg_timer_config *cfg);
/* The device in force: the one xg_timers_init chose, or the one
 * xg_timers_resume fell back to on a new host. */
enum xg_timer_kind xg_timer_kind(const struct xg_timers *t);

/* On each CPU (CPU 0 included): the device's per-CPU setup and the
 * callback (borrowed). -ENOSPC on a CPU beyond the HPET's comparators. */
int xg_timer_cpu_init(struct xg_timers *t, xg_timer_fn fn, void *arg);

/* Arm (or re-arm) the calling CPU's timer for monotonic time deadline_ns;
 * a deadline already past fires after min_delta_ns. -EINVAL if this CPU
 * has no timer; the device's error otherwise. */
int xg_timer_set(struct xg_timers *t, uint64_t deadline_ns);
/* The same, `delta_ns` from now. */
int xg_timer_set_in(struct xg_timers *t, uint64_t delta_ns);
/* Disarm the calling CPU's timer (the hpet one lazily: its next expiry is
 * ignored). */
int xg_timer_stop(struct xg_timers *t);

/* On each CPU after a resume (after xg_clock_resume on a new host): stop
 * this vCPU's periodic timer, set up this CPU's part of the device if
 * xg_timers_resume changed it (the LVT for tsc-deadline / lapic; the
 * comparator check for hpet: -ENOSPC beyond them, and the CPU is no longer
 * ready), end xg_timer_cpu_suspend and re-arm a pending deadline from the
 * monotonic clock, since the raw deadline the device holds was in the old
 * host's time (and maybe on another device): it fires, never early. Ports
 * are not rebound here: xg_timers_resume on CPU 0 rebinds VIRQ_TIMER
 * first. */
int xg_timer_cpu_resume(struct xg_timers *t);

/* On each CPU before a suspend: stop the device (pv: stop_singleshot),
 * keep the deadline, and ignore expiries until xg_timer_cpu_resume. */
int xg_timer_cpu_suspend(struct xg_timers *t);
/* On CPU 0 after SCHEDOP_shutdown(suspend) returned (other CPUs parked),
 * after xg_guest_resume and xg_clock_resume: on a new host stop every
 * vCPU's periodic timer, then
 *  - pv, and the new host still allows it: bind VIRQ_TIMER again for every
 *    ready CPU (new port numbers), unmasked. A CPU whose binding fails is
 *    no longer ready; the first error is returned.
 *  - pv, and the new host does not (no vector callback, so no per-CPU
 *    events; or no XENFEAT_hvm_safe_pvclock, or the clock left the
 *    pvclock): choose again among tsc-deadline, lapic and hpet in
 *    xg_timers_init's order (a forced emulated kind first), with the
 *    device-wide set-up here (LAPIC calibration: ~5 ms; HPET routes);
 *    each CPU's part follows in its xg_timer_cpu_resume. -ENODEV (no CPU
 *    ready) if none works.
 *  - an emulated kind: kept, even on a host that offers PV timers again
 *    (the emulated platform migrates with the domain and works with any
 *    callback; nothing to rebind).
 * Nothing for a cancelled suspend. */
int xg_timers_resume(struct xg_timers *t, bool new_host);

/* Interrupt entry for the emulated timers' vectors: handles `vector` and
 * its EOI and returns true, or returns false if it is not a timer's. */
bool xg_timer_interrupt(struct xg_timers *t, uint8_t vector);

/* A CPU's counters. -EINVAL for a CPU out of range. */
int xg_timer_stats(const struct xg_timers *t, unsigned int cpu, struct xg_timer_stats *out);

#endif
