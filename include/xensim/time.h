/*
 * time.h - the hypervisor's time model, configured per domain as "the host
 * the domain runs on": the guest-visible TSC, Xen system time, the pvclock
 * records (vcpu_time_info) published in every vCPU's vcpu_info, the wall
 * clock in shared_info, the PV timers' slop, and which emulated timers the
 * platform offers (LAPIC TSC deadline, LAPIC one-shot, HPET).
 *
 * With t the world's virtual time in ns:
 *   TSC(t)         = (t - tsc_origin_ns) * tsc_hz / 10^9     (0 before the origin)
 *   system_time(t) =  t - system_time_origin_ns              (0 before the origin)
 * Each vCPU's vcpu_time_info maps TSC to system time with Xen's
 * (tsc_to_system_mul, tsc_shift) pair. A migration to another host is a
 * config change: new origins and a new TSC frequency; every record is
 * republished with the version protocol and pending timers keep their
 * system-time deadlines.
 *
 * Defaults: a 1 GHz TSC and system time both equal to virtual ns, which is
 * what the world's own rdtsc returns. A TSC other than that needs the
 * hypervisor's rdtsc hook (xsim_hv_rdtsc) in the world's CPU hooks; without
 * it xsim_hv_time_config refuses such a TSC with -EOPNOTSUPP.
 */
#ifndef XENSIM_TIME_H
#define XENSIM_TIME_H

#include <stdbool.h>
#include <stdint.h>

#include "xensim/hv.h"
#include "xensim/world.h"

/* Xen's own timer_slop (xen/common/timer.c): 50 us. */
#define XSIM_TIME_XEN_TIMER_SLOP_NS 50000ull
/* Xen's platform-time calibration period (EPOCH in xen/arch/x86/time.c). */
#define XSIM_TIME_XEN_CALIBRATE_NS 1000000000ull
/* The periodic timer a Xen PV vCPU starts with (10 ms). */
#define XSIM_TIME_XEN_PERIODIC_NS 10000000ull
/* Xen's vHPET: 3 comparators ticking every 16 ns (xen/arch/x86/hvm/hpet.c). */
#define XSIM_TIME_HPET_TIMERS    3u
#define XSIM_TIME_HPET_MAX       32u
#define XSIM_TIME_HPET_PERIOD_FS 16000000ull
/* Xen's vLAPIC timer counts at 1 GHz before the divider (APIC_BUS_CYCLE_NS 1). */
#define XSIM_TIME_LAPIC_BUS_HZ 1000000000ull

struct xsim_hv_time_config {
    uint64_t tsc_hz;               /* guest TSC frequency; default 10^9 */
    int64_t tsc_origin_ns;         /* virtual instant the TSC read 0; default 0 */
    int64_t system_time_origin_ns; /* virtual instant system time was 0; default 0 */
    uint64_t wc_sec;               /* time of day at system time 0 (shared_info wc_*) */
    uint32_t wc_nsec;
    bool tsc_stable; /* XEN_PVCLOCK_TSC_STABLE_BIT in the records' flags; default on */
    /* PV timers fire up to this much after their deadline, drawn from the
     * run's "time.slop" random stream. Default 0 (exact); Xen's is
     * XSIM_TIME_XEN_TIMER_SLOP_NS. */
    uint64_t timer_slop_ns;
    /* Republish every record this often, as Xen's calibration does. Each
     * republish is a timed event, so a world with it on never goes
     * quiescent: default 0 (records change only with the config);
     * calibrate_count > 0 stops after that many. */
    uint64_t calibrate_ns;
    uint64_t calibrate_count;
    /* Periodic timer every vCPU starts with when the config is applied
     * (a PV guest's 10 ms); default 0 = none. Guests stop it at boot. */
    uint64_t default_periodic_ns;
    /* Emulated platform timers; all present by default. */
    bool tsc_deadline;        /* LVT timer TSC-deadline mode and MSR 0x6e0 */
    bool lapic_timer;         /* LVT timer one-shot/periodic, TMICT/TMCCT/TDCR */
    bool hpet;                /* HPET block at XSIM_HPET_BASE */
    unsigned int hpet_timers; /* comparators, 1..32; default 3 as Xen's vHPET */
};

/* Fill `cfg` with the defaults above. */
void xsim_hv_time_config_default(struct xsim_hv_time_config *cfg);

/* Apply `cfg` (copied) to domain `domid` now: from the current virtual time
 * on, TSC and system time follow the new parameters. Every vCPU's record
 * is republished (odd version first, the rest after a scheduling point),
 * the wall clock is rewritten, pending PV timers are re-aimed at their
 * system-time deadlines. Callable before the run and from timed events
 * (a migration); not from a vCPU. Returns 0, -ESRCH (no such domain),
 * -EINVAL (tsc_hz 0 or above 10^12, hpet_timers out of range, wc_nsec
 * not below 10^9, an origin in the future) or
 * -EOPNOTSUPP (a TSC other than the world's default while the world's
 * rdtsc hook is not xsim_hv_rdtsc). An origin after the current virtual
 * time (a host that has not booted yet) is -EINVAL. */
int xsim_hv_time_config(struct xsim_hv *hv, domid_t domid, const struct xsim_hv_time_config *cfg);
/* The domain's current config. */
int xsim_hv_time_get_config(struct xsim_hv *hv, domid_t domid, struct xsim_hv_time_config *out);

/* Republish every vCPU's record now (what a calibration tick does). */
int xsim_hv_time_update(struct xsim_hv *hv, domid_t domid);

/* The model's functions at virtual time now_ns. 0 for an unknown domain. */
uint64_t xsim_hv_time_tsc(struct xsim_hv *hv, domid_t domid, uint64_t now_ns);
uint64_t xsim_hv_time_system(struct xsim_hv *hv, domid_t domid, uint64_t now_ns);
/* The earliest virtual time at which TSC >= tsc (UINT64_MAX if never). */
uint64_t xsim_hv_time_tsc_to_vtime(struct xsim_hv *hv, domid_t domid, uint64_t tsc);

/* The last record fully published for a vCPU (version even), as the
 * hypervisor keeps it: what a consistent guest read must return. */
int xsim_hv_time_record(struct xsim_hv *hv, domid_t domid, unsigned int vcpu,
                        struct vcpu_time_info *out);

/* The world's CPU hook for rdtsc (ctx is the struct xsim_hv): install with
 * `.rdtsc = xsim_hv_rdtsc` so that the guest's TSC follows the config. */
uint64_t xsim_hv_rdtsc(struct xsim_domain *d, void *ctx, uint64_t now_ns);

struct xsim_hv_time_stats {
    uint64_t record_updates;    /* records republished (two-step) */
    uint64_t singleshot_set;    /* VCPUOP_set_singleshot_timer accepted */
    uint64_t singleshot_etime;  /* ... refused with -ETIME */
    uint64_t singleshot_fired;  /* VIRQ_TIMER raised by a single-shot timer */
    uint64_t timer_op_set;      /* set_timer_op with a non-zero deadline */
    uint64_t timer_op_huge;     /* ... of those, taken as 100 ms from now */
    uint64_t periodic_fired;    /* ... by a periodic timer */
    uint64_t timer_late_ns_max; /* largest (raise - deadline) in system time */
};
/* The domain's counters; -ESRCH for an unknown domain. */
int xsim_hv_time_stats(struct xsim_hv *hv, domid_t domid, struct xsim_hv_time_stats *out);

#endif
