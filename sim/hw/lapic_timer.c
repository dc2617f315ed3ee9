/*
 * lapic_timer.c - the emulated local APIC timer through the x2APIC MSRs:
 * LVT timer (0x832) in one-shot, periodic or TSC-deadline mode, initial
 * count (0x838), current count (0x839), divide configuration (0x83e), and
 * IA32_TSC_DEADLINE (0x6e0). The counter runs at Xen's vLAPIC bus rate
 * (1 GHz) divided by TDCR; the TSC deadline compares against the guest TSC
 * of the time model (include/xensim/time.h). Expiry raises the LVT vector
 * through the local APIC (an in-service bit, so it needs an EOI).
 *
 * Every MSR write here is a VM exit, charged XSIM_COST_EXIT_MSR: APICv
 * virtualizes TPR, EOI and self-IPI writes, not the timer registers, and a
 * TSC-deadline write exits with or without it. Reads are charged by the
 * platform before they get here.
 *
 * State: one flat allocation per vCPU, made on first access and freed by
 * the time model with the domain.
 */
#include <errno.h>
#include <stdlib.h>

#include "xensim/time.h"

#include "hv/hv_internal.h"

#define MSR_TSC_DEADLINE 0x6e0
#define MSR_LVT_TIMER    0x832
#define MSR_TMICT        0x838
#define MSR_TMCCT        0x839
#define MSR_TDCR         0x83e

#define LVT_VECTOR(l)    ((uint8_t)((l)&0xff))
#define LVT_MASKED       (1u << 16)
#define LVT_MODE(l)      (((l) >> 17) & 3)
#define LVT_WRITABLE     (0xffu | LVT_MASKED | (3u << 17))
#define MODE_ONESHOT     0
#define MODE_PERIODIC    1
#define MODE_DEADLINE    2
#define KIND_LAPIC_TMR   0x4c415054u /* LAPT */
#define TR_LAPIC_TIMER   0x13        /* b = vCPU, c = vector */
#define NS_PER_S         1000000000ull

struct lapic_timer {
    struct xsim_hv_dom *hd;
    unsigned int vcpu;
    uint32_t lvt;
    uint32_t tdcr;
    uint32_t tmict;
    uint64_t start_ns;   /* when the count was (re)loaded */
    uint64_t deadline;   /* IA32_TSC_DEADLINE, 0 = disarmed */
    uint64_t event;      /* pending expiry, 0 = none */
    uint64_t expires_ns; /* virtual time of that expiry */
};

static struct xsim_world *world(const struct lapic_timer *lt)
{
    return lt->hd->hv->w;
}

static struct lapic_timer *state(struct xsim_hv_dom *hd, struct xsim_vcpu *v)
{
    unsigned int id = xsim_vcpu_id(v);
    struct lapic_timer *lt;

    if (xsim_vcpu_domain(v) != hd->d || id >= hd->nr_vcpus)
        return NULL;
    lt = hd->vcpus[id].lapic_timer;
    if (lt == NULL) {
        lt = calloc(1, sizeof(*lt));
        if (lt == NULL)
            return NULL;
        lt->hd = hd;
        lt->vcpu = id;
        lt->lvt = LVT_MASKED; /* the reset value */
        hd->vcpus[id].lapic_timer = lt;
    }
    return lt;
}

static unsigned int divide(uint32_t tdcr)
{
    unsigned int d = ((tdcr & 8) >> 1) | (tdcr & 3);

    return d == 7 ? 1 : 2u << d;
}

/* Virtual ns for `counts` ticks of the divided bus clock. */
static uint64_t counts_to_ns(const struct lapic_timer *lt, uint64_t counts)
{
    return (uint64_t)((unsigned __int128)counts * divide(lt->tdcr) * NS_PER_S /
                      XSIM_TIME_LAPIC_BUS_HZ);
}

static void disarm(struct lapic_timer *lt)
{
    if (lt->event != 0)
        xsim_event_cancel(world(lt), lt->event);
    lt->event = 0;
}

static void expire(struct xsim_world *w, void *arg);

static void arm_at(struct lapic_timer *lt, uint64_t when)
{
    disarm(lt);
    lt->expires_ns = when;
    lt->event = xsim_event_schedule(world(lt), when, KIND_LAPIC_TMR, expire, lt);
}

static void interrupt(struct lapic_timer *lt)
{
    struct xsim_vcpu *v = lt->hd->vcpus[lt->vcpu].v;

    if (lt->lvt & LVT_MASKED)
        return;
    xsim_trace(world(lt), XSIM_TR_HV, TR_LAPIC_TIMER, lt->vcpu, LVT_VECTOR(lt->lvt));
    /* The emulated timer is a Xen timer on the pCPU that runs the vCPU:
     * its host interrupt exits a running vCPU even with posted interrupts. */
    xsim_vcpu_host_irq(v);
    xsim_vcpu_raise_flags(v, LVT_VECTOR(lt->lvt), XSIM_IRQ_POSTABLE);
}

static void expire(struct xsim_world *w, void *arg)
{
    struct lapic_timer *lt = arg;
    struct xsim_hv *hv = lt->hd->hv;
    uint64_t now = xsim_world_now(w);

    lt->event = 0;
    switch (LVT_MODE(lt->lvt)) {
    case MODE_DEADLINE:
        if (lt->deadline == 0)
            return;
        /* The TSC mapping may have changed since arming (a migration):
         * fire only once the guest's TSC really reached the deadline. */
        if (xsim_hv_time_tsc(hv, lt->hd->domid, now) < lt->deadline) {
            arm_at(lt, xsim_hv_time_tsc_to_vtime(hv, lt->hd->domid, lt->deadline));
            return;
        }
        lt->deadline = 0; /* the MSR reads 0 once the timer fired */
        interrupt(lt);
        return;
    case MODE_PERIODIC:
        interrupt(lt);
        lt->start_ns = lt->expires_ns;
        arm_at(lt, lt->expires_ns + counts_to_ns(lt, lt->tmict));
        return;
    default:
        interrupt(lt);
        return;
    }
}

static void load_count(struct lapic_timer *lt, uint32_t count)
{
    uint64_t now = xsim_world_now(world(lt));

    lt->tmict = count;
    lt->start_ns = now;
    if (count == 0) {
        disarm(lt); /* writing 0 stops the timer */
        return;
    }
    arm_at(lt, now + counts_to_ns(lt, count));
}

static uint32_t current_count(const struct lapic_timer *lt)
{
    uint64_t now = xsim_world_now(world(lt)), period, elapsed, counts;

    if (LVT_MODE(lt->lvt) == MODE_DEADLINE || lt->tmict == 0 || lt->event == 0)
        return 0;
    period = counts_to_ns(lt, lt->tmict);
    elapsed = now > lt->start_ns ? now - lt->start_ns : 0;
    if (LVT_MODE(lt->lvt) == MODE_PERIODIC && period != 0)
        elapsed %= period;
    counts = (uint64_t)((unsigned __int128)elapsed * XSIM_TIME_LAPIC_BUS_HZ /
                        ((uint64_t)divide(lt->tdcr) * NS_PER_S));
    return counts >= lt->tmict ? 0 : (uint32_t)(lt->tmict - counts);
}

static void write_deadline(struct lapic_timer *lt, uint64_t val)
{
    struct xsim_hv *hv = lt->hd->hv;
    uint64_t when;

    /* Outside TSC-deadline mode the MSR ignores writes (SDM 10.5.4.1). */
    if (LVT_MODE(lt->lvt) != MODE_DEADLINE)
        return;
    lt->deadline = val;
    if (val == 0) {
        disarm(lt);
        return;
    }
    when = xsim_hv_time_tsc_to_vtime(hv, lt->hd->domid, val);
    if (when == UINT64_MAX) {
        disarm(lt); /* never reached */
        return;
    }
    arm_at(lt, when); /* clamped to now: a past deadline fires at once */
}

static int write_lvt(struct lapic_timer *lt, const struct xsim_hv_time_config *cfg, uint64_t val)
{
    uint32_t lvt = (uint32_t)val & LVT_WRITABLE;
    unsigned int mode = LVT_MODE(lvt);

    if (val >> 32 || mode == 3)
        return -EINVAL;
    if ((mode == MODE_DEADLINE && !cfg->tsc_deadline) ||
        (mode != MODE_DEADLINE && !cfg->lapic_timer))
        return -EINVAL; /* reserved mode on this platform: #GP */
    if (mode != LVT_MODE(lt->lvt)) {
        /* A mode switch disarms the timer (SDM 10.5.4.1). */
        disarm(lt);
        lt->tmict = 0;
        lt->deadline = 0;
    }
    lt->lvt = lvt;
    return 0;
}

int xsim__lapic_timer_wrmsr(struct xsim_hv_dom *hd, struct xsim_vcpu *v, uint32_t msr, uint64_t val)
{
    struct xsim_hv_time_config cfg;
    struct lapic_timer *lt;

    if (msr != MSR_TSC_DEADLINE && msr != MSR_LVT_TIMER && msr != MSR_TMICT && msr != MSR_TMCCT &&
        msr != MSR_TDCR)
        return -ENOENT;
    if (v == NULL || xsim_hv_time_get_config(hd->hv, hd->domid, &cfg) != 0)
        return -EINVAL;
    xsim_charge(v, XSIM_COST_EXIT_MSR, xsim_cost(hd->hv->w, XSIM_COST_EXIT_MSR));
    lt = state(hd, v);
    if (lt == NULL)
        return -EINVAL;
    switch (msr) {
    case MSR_TSC_DEADLINE:
        if (!cfg.tsc_deadline)
            return -EINVAL;
        write_deadline(lt, val);
        return 0;
    case MSR_LVT_TIMER:
        return write_lvt(lt, &cfg, val);
    case MSR_TMICT:
        if (!cfg.lapic_timer || val >> 32)
            return -EINVAL;
        if (LVT_MODE(lt->lvt) != MODE_DEADLINE)
            load_count(lt, (uint32_t)val);
        return 0;
    case MSR_TDCR:
        if (!cfg.lapic_timer || (val & ~0xbull) != 0)
            return -EINVAL;
        lt->tdcr = (uint32_t)val;
        return 0;
    default:
        return -EINVAL; /* TMCCT is read-only */
    }
}

int xsim__lapic_timer_rdmsr(struct xsim_hv_dom *hd, struct xsim_vcpu *v, uint32_t msr,
                            uint64_t *val)
{
    struct xsim_hv_time_config cfg;
    struct lapic_timer *lt;

    if (msr != MSR_TSC_DEADLINE && msr != MSR_LVT_TIMER && msr != MSR_TMICT && msr != MSR_TMCCT &&
        msr != MSR_TDCR)
        return -ENOENT;
    if (v == NULL || xsim_hv_time_get_config(hd->hv, hd->domid, &cfg) != 0)
        return -EINVAL;
    if ((msr == MSR_TSC_DEADLINE && !cfg.tsc_deadline) ||
        (msr != MSR_TSC_DEADLINE && msr != MSR_LVT_TIMER && !cfg.lapic_timer))
        return -EINVAL;
    lt = state(hd, v);
    if (lt == NULL)
        return -EINVAL;
    switch (msr) {
    case MSR_TSC_DEADLINE:
        *val = LVT_MODE(lt->lvt) == MODE_DEADLINE ? lt->deadline : 0;
        return 0;
    case MSR_LVT_TIMER:
        *val = lt->lvt;
        return 0;
    case MSR_TMICT:
        *val = lt->tmict;
        return 0;
    case MSR_TMCCT:
        *val = current_count(lt);
        return 0;
    default:
        *val = lt->tdcr;
        return 0;
    }
}
