/*
 * xg_time.h - guest time: the pvclock reader (vcpu_time_info with its
 * version protocol and 96-bit scale), the TSC conversions built on it, and
 * a per-guest monotonic clock that never goes backwards, across CPUs and
 * across a change of the hypervisor's time parameters (migration).
 *
 * Clock source, chosen by xg_clock_init: the pvclock of the current vCPU
 * when Xen says it is safe on HVM (XENFEAT_hvm_safe_pvclock); else the TSC,
 * its rate calibrated against the HPET (or read from the pvclock record
 * when there is no HPET).
 *
 * Caller-allocated state, no allocation, no globals: a kernel keeps one
 * struct xg_clock per guest.
 */
#ifndef XENSIM_GUEST_XG_TIME_H
#define XENSIM_GUEST_XG_TIME_H

#include <stdbool.h>
#include <stdint.h>

#include "xensim/abi/xen.h"
#include "xensim/guest/xg.h"
#include "xensim/platform.h"

/* Where the guest finds the HPET (ACPI's HPET table on hardware). */
#define XG_HPET_BASE 0xfed00000ull

/* ---- pvclock arithmetic ---- */

/* ((delta << shift) * mul) >> 32, a right shift when shift < 0: the
 * shifted delta is 64-bit (as in Xen and every guest), the product is
 * exact in 96 bits, the low 64 bits of the result are kept. */
uint64_t xg_pvclock_scale(uint64_t delta, uint32_t mul, int8_t shift);
/* The smallest delta with xg_pvclock_scale(delta, mul, shift) >= ns, or
 * UINT64_MAX when there is none in 64 bits. */
uint64_t xg_pvclock_scale_inverse(uint64_t ns, uint32_t mul, int8_t shift);
/* (mul, shift) with mul in [2^31, 2^32) such that scaling by them
 * multiplies by num / den (both nonzero). -EINVAL otherwise. */
int xg_pvclock_ratio(uint64_t num, uint64_t den, uint32_t *mul, int8_t *shift);

/* One consistent copy of a vcpu_time_info and the TSC read inside it. */
struct xg_pvclock_snap {
    uint32_t version;
    uint64_t tsc_timestamp;
    uint64_t system_time;
    uint32_t mul;
    int8_t shift;
    uint8_t flags;
    uint64_t tsc; /* rdtsc taken between the two version reads */
};

/* Read `ti` with the version protocol: version, rmb, fields and rdtsc,
 * rmb, version again; retry while the version is odd or has changed.
 * Returns the number of retries, or -EAGAIN after `max_retries` (0 = no
 * bound) retries. */
int xg_pvclock_read(const struct xg_platform *p, const struct vcpu_time_info *ti,
                    struct xg_pvclock_snap *out, unsigned int max_retries);
/* System time of a snapshot at TSC value `tsc`. */
uint64_t xg_pvclock_ns(const struct xg_pvclock_snap *s, uint64_t tsc);
/* The TSC value at which the snapshot's system time reaches `ns` (the
 * snapshot's tsc_timestamp if that is already past). */
uint64_t xg_pvclock_tsc_at(const struct xg_pvclock_snap *s, uint64_t ns);

/* ---- the guest's clock ---- */

enum xg_clock_source {
    XG_CLOCK_NONE = 0,
    XG_CLOCK_PVCLOCK, /* the current vCPU's vcpu_time_info */
    XG_CLOCK_TSC,     /* the TSC at a calibrated rate */
};
/* "none", "pvclock", "tsc" (for run reports). */
const char *xg_clock_source_name(enum xg_clock_source s);

struct xg_clock_config {
    enum xg_clock_source force; /* NONE: choose; a forced source still falls back */
    /* A CPU whose raw time steps back by more than this took part in a
     * change of time parameters: the clock re-bases instead of stalling.
     * 0 = default 1 ms. */
    uint64_t jump_ns;
    uint64_t hpet_base;       /* 0 = XG_HPET_BASE */
    uint64_t calibrate_ns;    /* TSC calibration span; 0 = 1 ms */
    unsigned int max_retries; /* pvclock read bound; 0 = 1000000 */
};
/* The defaults above. */
void xg_clock_config_init(struct xg_clock_config *cfg);

/* A reading of the clock on the current CPU, with what is needed to turn a
 * later raw time into a TSC value (TSC-deadline timers). */
struct xg_clock_sample {
    uint64_t raw_ns;          /* the source's own time (Xen system time for pvclock) */
    uint64_t mono_ns;         /* the monotonic clock at that instant */
    uint64_t offset;          /* mono = raw + offset (mod 2^64) unless clamped */
    uint64_t tsc;             /* the TSC read with it */
    uint64_t tsc_ref, ns_ref; /* raw(t) = ns_ref + scale(tsc(t) - tsc_ref) */
    uint32_t mul;
    int8_t shift;
};

struct xg_clock_cpu {
    volatile uint64_t last_raw; /* this CPU's previous raw reading */
    uint64_t reads, retries;
};

struct xg_clock {
    struct xg_guest *g;
    struct xg_clock_config cfg;
    enum xg_clock_source source;
    /* XG_CLOCK_TSC: raw = scale(rdtsc - tsc_base) */
    uint64_t tsc_base;
    uint32_t tsc_mul;
    int8_t tsc_shift;
    uint64_t tsc_hz;          /* calibrated (or pvclock-derived) TSC rate */
    volatile uint64_t offset; /* signed, as two's complement */
    volatile uint64_t last_ns;
    volatile uint64_t rebases;
    struct xg_clock_cpu cpu[XG_MAX_CPUS];
};

/* On CPU 0 after xg_guest_boot: pick and set up the source (calibrating
 * the TSC takes ~1 ms of HPET polling). 0, -EINVAL, or -ENODEV if no
 * source works. */
int xg_clock_init(struct xg_clock *c, struct xg_guest *g, const struct xg_clock_config *cfg);
/* The source in force (xg_clock_init's choice, or xg_clock_resume's). */
enum xg_clock_source xg_clock_source(const struct xg_clock *c);

/* Monotonic ns on any CPU: never less than any value returned before, on
 * any CPU. */
uint64_t xg_clock_now(struct xg_clock *c);
/* The same, with the sample it came from. 0 or -EAGAIN. */
int xg_clock_sample(struct xg_clock *c, struct xg_clock_sample *out);
/* The raw time at which the monotonic clock reaches `mono` (given a
 * sample's offset): what a device deadline must be set to. */
uint64_t xg_clock_raw_for(const struct xg_clock_sample *s, uint64_t mono);
/* The TSC value at which raw time reaches `raw`, per the sample. */
uint64_t xg_clock_tsc_for(const struct xg_clock_sample *s, uint64_t raw);

/* After resume on a new host (other CPUs quiet, after xg_guest_resume
 * re-read the features): the clock continues from the last value it
 * returned. The source is chosen again where it must be: a pvclock the new
 * host no longer vouches for (no XENFEAT_hvm_safe_pvclock, not forced)
 * gives way to the TSC, calibrated as xg_clock_init does (~1 ms of HPET
 * polling); a TSC clock measures the new host's TSC rate again and stays
 * the TSC even where the pvclock would be allowed. Call it before
 * xg_timers_resume, which looks at the source. */
void xg_clock_resume(struct xg_clock *c);

/* Time of day from shared_info's wall clock plus the current CPU's system
 * time. -ENODEV without shared_info, -EAGAIN if the read did not settle. */
int xg_clock_wallclock(struct xg_clock *c, uint64_t *sec, uint32_t *nsec);

#endif
