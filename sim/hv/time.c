/*
 * time.c - the hypervisor's time model: guest TSC and Xen system time per
 * domain (include/xensim/time.h), the pvclock records (vcpu_time_info) and
 * the wall clock it publishes, and the VCPUOP timers, single-shot and
 * periodic, and set_timer_op, that raise VIRQ_TIMER. Semantics and errors
 * follow Xen 4.17's do_vcpu_op (xen/common/domain.c), do_set_timer_op
 * (xen/common/sched/core.c) and its seqlock-style time updates
 * (xen/arch/x86/time.c).
 *
 * A record update is two steps with a scheduling point between them (a
 * timed event at the same virtual time): step 1 makes the version odd and
 * writes the new tsc_timestamp; step 2 writes the rest and makes the
 * version even again. A reader that ignores the version protocol and runs
 * between the steps combines a new tsc_timestamp with an old system_time
 * and gets a value that is wrong by the time since the previous update.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xensim/time.h"

#include "hv/hv_internal.h"

/* Timed-event kinds in the trace (ASCII tags). */
#define KIND_SSHOT    0x544d5353u /* TMSS */
#define KIND_PERIODIC 0x544d5044u /* TMPD */
#define KIND_STEP2    0x50564332u /* PVC2 */
#define KIND_CALIB    0x5056434cu /* PVCL */

/* XSIM_TR_HV record codes of this file. */
#define TR_TIMER_FIRE   0x10 /* b = vCPU, c = deadline (system time) */
#define TR_PVC_STEP1    0x11 /* b = vCPU, c = new version (odd) */
#define TR_PVC_STEP2    0x12 /* b = vCPU, c = new version (even) */

#define NS_PER_S        1000000000ull
#define MILLISECS(ms)   ((uint64_t)(ms)*1000000ull)
#define STIME_DELTA_MAX ((uint64_t)~0ull >> 2) /* Xen's bound on a period */
#define TSC_HZ_MAX      1000000000000ull       /* 1 THz: keeps the scale's shift small */
/* do_set_timer_op's stand-in for a "huge" deadline (xen/common/sched/core.c) */
#define TIMER_OP_HUGE_DELAY_NS MILLISECS(100)

struct tdom;

struct tvcpu {
    struct tdom *td;
    unsigned int id;
    uint32_t version;           /* even: the last complete record's version */
    bool updating;              /* step 1 done, step 2 pending: version odd */
    struct vcpu_time_info rec;  /* the last complete record */
    struct vcpu_time_info next; /* the record being published */
    /* VCPUOP_set_singleshot_timer */
    bool ss_armed;
    uint64_t ss_deadline; /* system time */
    uint64_t ss_event;
    /* VCPUOP_set_periodic_timer */
    uint64_t per_period; /* 0 = off */
    uint64_t per_next;   /* system time of the next tick */
    uint64_t per_event;
};

struct tdom {
    struct xsim_hv_dom *hd;
    struct xsim_hv_time_config cfg;
    uint32_t mul; /* TSC -> ns, Xen's tsc_to_system_mul / tsc_shift */
    int8_t shift;
    uint32_t wc_version;
    bool rdtsc_hooked; /* xsim_hv_rdtsc served this domain's rdtsc */
    struct xsim_rng slop;
    uint64_t step2_event;
    uint64_t calib_event, calib_done;
    struct xsim_hv_time_stats stats;
    unsigned int nr;
    struct tvcpu v[];
};

static struct tdom *tdom_of(struct xsim_hv *hv, domid_t domid)
{
    struct xsim_hv_dom *hd = xsim__hv_dom(hv, domid);

    return hd != NULL ? hd->time : NULL;
}

static struct xsim_world *world(const struct tdom *td)
{
    return td->hd->hv->w;
}

/* ---- the model's functions of virtual time ---- */

static uint64_t sat_u64(unsigned __int128 x)
{
    return x > UINT64_MAX ? UINT64_MAX : (uint64_t)x;
}

static uint64_t model_tsc(const struct xsim_hv_time_config *c, uint64_t t)
{
    __int128 d = (__int128)t - c->tsc_origin_ns;

    if (d <= 0)
        return 0;
    return sat_u64((unsigned __int128)d * c->tsc_hz / NS_PER_S);
}

static uint64_t model_sys(const struct xsim_hv_time_config *c, uint64_t t)
{
    __int128 d = (__int128)t - c->system_time_origin_ns;

    return d <= 0 ? 0 : sat_u64((unsigned __int128)d);
}

/* Earliest virtual time at which system time reaches `sys`. */
static uint64_t sys_to_vtime(const struct xsim_hv_time_config *c, uint64_t sys)
{
    __int128 t = (__int128)sys + c->system_time_origin_ns;

    if (t <= 0)
        return 0;
    return sat_u64((unsigned __int128)t);
}

static uint64_t tsc_to_vtime(const struct xsim_hv_time_config *c, uint64_t tsc)
{
    /* ceil(tsc * 10^9 / hz) is the smallest d with floor(d * hz / 10^9) >= tsc. */
    unsigned __int128 d = ((unsigned __int128)tsc * NS_PER_S + c->tsc_hz - 1) / c->tsc_hz;
    __int128 t = (__int128)d + c->tsc_origin_ns;

    if (t <= 0)
        return 0;
    return sat_u64((unsigned __int128)t);
}

/* Xen's (mul, shift) for a TSC of `hz`: ns = ((tsc << shift) * mul) >> 32
 * with mul in [2^31, 2^32), rounded to nearest. */
static void scale_for_hz(uint64_t hz, uint32_t *mul, int8_t *shift)
{
    unsigned __int128 a = NS_PER_S, b = hz, m;
    int s = 0;

    while (a >= b) {
        b <<= 1;
        s++;
    }
    while (2 * a < b) {
        a <<= 1;
        s--;
    }
    m = ((a << 32) + b / 2) / b;
    if (m >> 32) {
        m >>= 1;
        s++;
    }
    *mul = (uint32_t)m;
    *shift = (int8_t)s;
}

/* The guest's formula, with a 128-bit product (src/ has its own 96-bit
 * one); the shifted delta is 64-bit, as in Xen. */
static uint64_t pvclock_scale(uint64_t delta, uint32_t mul, int8_t shift)
{
    if (shift < 0)
        delta = shift <= -64 ? 0 : delta >> -shift;
    else
        delta = shift >= 64 ? 0 : delta << shift;
    return (uint64_t)(((unsigned __int128)delta * mul) >> 32);
}

/* What a consistent guest read on this vCPU returns at virtual time t. */
static uint64_t guest_view(const struct tvcpu *tv, uint64_t t)
{
    const struct vcpu_time_info *r = tv->updating ? &tv->next : &tv->rec;
    uint64_t tsc = model_tsc(&tv->td->cfg, t);

    if (tsc < r->tsc_timestamp)
        return r->system_time;
    return r->system_time +
           pvclock_scale(tsc - r->tsc_timestamp, r->tsc_to_system_mul, r->tsc_shift);
}

static uint64_t now_of(const struct tdom *td)
{
    return xsim_world_now(world(td));
}

/* ---- publishing records ---- */

static struct vcpu_info *vi_of(const struct tvcpu *tv)
{
    return tv->td->hd->vcpus[tv->id].vi;
}

static void make_record(const struct tdom *td, uint64_t t, struct vcpu_time_info *r)
{
    memset(r, 0, sizeof(*r));
    r->tsc_timestamp = model_tsc(&td->cfg, t);
    r->system_time = model_sys(&td->cfg, t);
    r->tsc_to_system_mul = td->mul;
    r->tsc_shift = td->shift;
    r->flags = td->cfg.tsc_stable ? XEN_PVCLOCK_TSC_STABLE_BIT : 0;
}

static void store_u32(uint32_t *p, uint32_t v)
{
    __atomic_store_n(p, v, __ATOMIC_SEQ_CST);
}

static void store_fields(struct vcpu_time_info *ti, const struct vcpu_time_info *r)
{
    __atomic_store_n(&ti->tsc_timestamp, r->tsc_timestamp, __ATOMIC_RELAXED);
    __atomic_store_n(&ti->system_time, r->system_time, __ATOMIC_RELAXED);
    __atomic_store_n(&ti->tsc_to_system_mul, r->tsc_to_system_mul, __ATOMIC_RELAXED);
    __atomic_store_n(&ti->tsc_shift, r->tsc_shift, __ATOMIC_RELAXED);
    __atomic_store_n(&ti->flags, r->flags, __ATOMIC_RELAXED);
}

/* Step 1: version odd, then the new tsc_timestamp only. */
static void publish_step1(struct tvcpu *tv, const struct vcpu_time_info *r)
{
    struct vcpu_info *vi = vi_of(tv);

    tv->next = *r;
    if (vi == NULL) {
        /* Nowhere to publish yet: registration publishes it. */
        tv->rec = *r;
        return;
    }
    if (!tv->updating) {
        tv->updating = true;
        /* Odd before any field changes: a reader that saw the old even
         * version must see a different one when it re-checks. */
        store_u32(&vi->time.version, tv->version + 1);
        __atomic_thread_fence(__ATOMIC_RELEASE);
        xsim_trace(world(tv->td), XSIM_TR_HV, TR_PVC_STEP1, tv->id, tv->version + 1);
    }
    __atomic_store_n(&vi->time.tsc_timestamp, r->tsc_timestamp, __ATOMIC_RELAXED);
}

/* Step 2: the remaining fields, then an even version. */
static void publish_step2(struct tvcpu *tv)
{
    struct vcpu_info *vi = vi_of(tv);

    if (!tv->updating)
        return;
    tv->updating = false;
    tv->rec = tv->next;
    tv->td->stats.record_updates++;
    if (vi == NULL)
        return;
    store_fields(&vi->time, &tv->next);
    /* Every field is in place before the version says so. */
    __atomic_thread_fence(__ATOMIC_RELEASE);
    tv->version += 2;
    store_u32(&vi->time.version, tv->version);
    xsim_trace(world(tv->td), XSIM_TR_HV, TR_PVC_STEP2, tv->id, tv->version);
}

/* Both steps at once, where nobody can be reading (registration). */
static void publish_now(struct tvcpu *tv, const struct vcpu_time_info *r)
{
    struct vcpu_info *vi = vi_of(tv);

    tv->updating = false;
    tv->next = *r;
    tv->rec = *r;
    if (vi == NULL)
        return;
    store_u32(&vi->time.version, tv->version + 1);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    store_fields(&vi->time, r);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    tv->version += 2;
    store_u32(&vi->time.version, tv->version);
}

static void step2_event(struct xsim_world *w, void *arg)
{
    struct tdom *td = arg;

    td->step2_event = 0;
    for (unsigned int i = 0; i < td->nr; i++)
        publish_step2(&td->v[i]);
}

static void publish_all(struct tdom *td)
{
    uint64_t t = now_of(td);
    bool pending = false;
    struct vcpu_time_info r;

    for (unsigned int i = 0; i < td->nr; i++) {
        make_record(td, t, &r);
        publish_step1(&td->v[i], &r);
        pending |= td->v[i].updating;
    }
    /* Step 2 is a separate timed event at the same instant: the scheduler
     * may run any vCPU between the two steps. */
    if (pending && td->step2_event == 0)
        td->step2_event = xsim_event_schedule(world(td), t, KIND_STEP2, step2_event, td);
    if (pending && td->step2_event == 0)
        step2_event(world(td), td); /* queue full: finish at once */
}

static void publish_wallclock(struct tdom *td)
{
    struct shared_info *si = td->hd->si;

    if (si == NULL)
        return;
    td->wc_version += 2;
    store_u32(&si->wc_version, td->wc_version - 1);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    __atomic_store_n(&si->wc_sec, (uint32_t)td->cfg.wc_sec, __ATOMIC_RELAXED);
    __atomic_store_n(&si->wc_sec_hi, (uint32_t)(td->cfg.wc_sec >> 32), __ATOMIC_RELAXED);
    __atomic_store_n(&si->wc_nsec, td->cfg.wc_nsec, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    store_u32(&si->wc_version, td->wc_version);
}

static void calib_event(struct xsim_world *w, void *arg)
{
    struct tdom *td = arg;

    td->calib_event = 0;
    publish_all(td);
    td->calib_done++;
    if (td->cfg.calibrate_ns != 0 &&
        (td->cfg.calibrate_count == 0 || td->calib_done < td->cfg.calibrate_count))
        td->calib_event =
            xsim_event_schedule(w, now_of(td) + td->cfg.calibrate_ns, KIND_CALIB, calib_event, td);
}

/* ---- VCPUOP timers ---- */

static void sshot_event(struct xsim_world *w, void *arg);
static void periodic_event(struct xsim_world *w, void *arg);

/* Virtual time at which a timer with system-time deadline `sys` fires:
 * the deadline, plus a slop draw, never before now. */
static uint64_t fire_vtime(struct tdom *td, uint64_t sys)
{
    uint64_t t = sys_to_vtime(&td->cfg, sys), now = now_of(td);

    if (t < now)
        t = now;
    if (td->cfg.timer_slop_ns != 0)
        t += xsim_rng_below(&td->slop, td->cfg.timer_slop_ns + 1);
    return t;
}

static void sshot_arm(struct tvcpu *tv)
{
    struct xsim_world *w = world(tv->td);

    if (tv->ss_event != 0)
        xsim_event_cancel(w, tv->ss_event);
    tv->ss_event =
        xsim_event_schedule(w, fire_vtime(tv->td, tv->ss_deadline), KIND_SSHOT, sshot_event, tv);
}

static void sshot_stop(struct tvcpu *tv)
{
    if (tv->ss_event != 0)
        xsim_event_cancel(world(tv->td), tv->ss_event);
    tv->ss_event = 0;
    tv->ss_armed = false;
}

/* Arm the single-shot timer (shared by VCPUOP_set_singleshot_timer and
 * set_timer_op): one per vCPU, a new deadline replaces the old one, and
 * expiry raises VIRQ_TIMER on the vCPU. */
static void sshot_set(struct tvcpu *tv, uint64_t deadline)
{
    tv->ss_armed = true;
    tv->ss_deadline = deadline;
    sshot_arm(tv);
}

static void periodic_arm(struct tvcpu *tv)
{
    struct xsim_world *w = world(tv->td);

    if (tv->per_event != 0)
        xsim_event_cancel(w, tv->per_event);
    tv->per_event =
        xsim_event_schedule(w, fire_vtime(tv->td, tv->per_next), KIND_PERIODIC, periodic_event, tv);
}

static void periodic_stop(struct tvcpu *tv)
{
    if (tv->per_event != 0)
        xsim_event_cancel(world(tv->td), tv->per_event);
    tv->per_event = 0;
    tv->per_period = 0;
}

static void periodic_start(struct tvcpu *tv, uint64_t period)
{
    tv->per_period = period;
    tv->per_next = guest_view(tv, now_of(tv->td)) + period;
    periodic_arm(tv);
}

/* The deadline has passed in the vCPU's own pvclock (not only in the
 * model's exact system time: the two differ by the record's rounding), or
 * the event is re-aimed at the remainder and false is returned. */
static bool due(struct tvcpu *tv, uint64_t deadline, uint64_t *event, uint32_t kind,
                xsim_event_fn fn)
{
    struct xsim_world *w = world(tv->td);
    uint64_t now = now_of(tv->td), gv = guest_view(tv, now);

    if (gv >= deadline)
        return true;
    *event = xsim_event_schedule(w, now + (deadline - gv), kind, fn, tv);
    return *event == 0; /* queue full: fire now rather than lose it */
}

static void raise_timer(struct tvcpu *tv, uint64_t deadline)
{
    struct tdom *td = tv->td;
    uint64_t late = guest_view(tv, now_of(td)) - deadline;

    if (late > td->stats.timer_late_ns_max)
        td->stats.timer_late_ns_max = late;
    xsim_trace(world(td), XSIM_TR_HV, TR_TIMER_FIRE, tv->id, deadline);
    /* A Xen timer on the pCPU that runs the vCPU: its host interrupt exits
     * a running vCPU, and the VIRQ's upcall goes in at that exit's entry. */
    xsim_vcpu_host_irq(td->hd->vcpus[tv->id].v);
    xsim_hv_send_virq(td->hd->hv, td->hd->domid, tv->id, VIRQ_TIMER);
}

static void sshot_event(struct xsim_world *w, void *arg)
{
    struct tvcpu *tv = arg;

    tv->ss_event = 0;
    if (!tv->ss_armed || !due(tv, tv->ss_deadline, &tv->ss_event, KIND_SSHOT, sshot_event))
        return;
    tv->ss_armed = false;
    tv->td->stats.singleshot_fired++;
    raise_timer(tv, tv->ss_deadline);
}

static void periodic_event(struct xsim_world *w, void *arg)
{
    struct tvcpu *tv = arg;
    uint64_t gv;

    tv->per_event = 0;
    if (tv->per_period == 0 ||
        !due(tv, tv->per_next, &tv->per_event, KIND_PERIODIC, periodic_event))
        return;
    tv->td->stats.periodic_fired++;
    raise_timer(tv, tv->per_next);
    /* Missed ticks are not replayed: the next one is a period from now if
     * the vCPU fell behind, as Xen's periodic timer does. */
    gv = guest_view(tv, now_of(tv->td));
    tv->per_next += tv->per_period;
    if (tv->per_next <= gv)
        tv->per_next = gv + tv->per_period;
    periodic_arm(tv);
}

static long set_singleshot(struct tdom *td, struct tvcpu *tv, unsigned long arg)
{
    struct vcpu_set_singleshot_timer s;

    if (xsim__copy_from_guest(td->hd->d, &s, arg, sizeof(s)) != 0)
        return -EFAULT;
    if ((s.flags & VCPU_SSHOTTMR_future) && s.timeout_abs_ns < guest_view(tv, now_of(td))) {
        td->stats.singleshot_etime++;
        return -ETIME;
    }
    td->stats.singleshot_set++;
    sshot_set(tv, s.timeout_abs_ns);
    return 0;
}

/* __HYPERVISOR_set_timer_op: the same single-shot timer as the VCPUOP,
 * always the caller's, with Xen 4.17's do_set_timer_op rules: 0 stops it;
 * a deadline that is negative as a signed value, or 2^50 ns (about 13
 * days) or more ahead, is taken for a wrapped Linux jiffies deadline and
 * becomes 100 ms from now; any other deadline, past ones included (they
 * fire at once), is set as given. */
long xsim__hv_set_timer_op(struct xsim_hv_dom *hd, unsigned int vcpuid, uint64_t timeout)
{
    struct tdom *td = hd->time;
    struct tvcpu *tv;
    uint64_t now;
    int64_t ahead;

    if (td == NULL || vcpuid >= td->nr)
        return -ENOSYS;
    tv = &td->v[vcpuid];
    if (timeout == 0) {
        sshot_stop(tv);
        return 0;
    }
    now = guest_view(tv, now_of(td));
    ahead = (int64_t)(timeout - now);
    td->stats.timer_op_set++;
    if ((int64_t)timeout < 0 || (ahead > 0 && (ahead >> 50) != 0)) {
        td->stats.timer_op_huge++;
        timeout = now + TIMER_OP_HUGE_DELAY_NS;
    }
    sshot_set(tv, timeout);
    return 0;
}

long xsim__hv_vcpu_op_ext(struct xsim_hv_dom *hd, struct xsim_vcpu *v, unsigned long cmd,
                          unsigned int vcpuid, unsigned long arg)
{
    struct tdom *td = hd->time;
    struct tvcpu *tv;
    struct vcpu_set_periodic_timer per;
    /* The single-shot timer belongs to the calling vCPU only. */
    bool own = v != NULL && xsim_vcpu_domain(v) == hd->d && xsim_vcpu_id(v) == vcpuid;

    if (td == NULL || vcpuid >= td->nr)
        return -ENOSYS;
    tv = &td->v[vcpuid];
    switch (cmd) {
    case VCPUOP_set_singleshot_timer:
        if (!own)
            return -EINVAL;
        return set_singleshot(td, tv, arg);
    case VCPUOP_stop_singleshot_timer:
        if (!own)
            return -EINVAL;
        sshot_stop(tv);
        return 0;
    case VCPUOP_set_periodic_timer:
        if (xsim__copy_from_guest(hd->d, &per, arg, sizeof(per)) != 0)
            return -EFAULT;
        if (per.period_ns < MILLISECS(1) || per.period_ns > STIME_DELTA_MAX)
            return -EINVAL;
        periodic_start(tv, per.period_ns);
        return 0;
    case VCPUOP_stop_periodic_timer:
        periodic_stop(tv);
        return 0;
    default:
        return -ENOSYS;
    }
}

void xsim__hv_time_vcpu_info_moved(struct xsim_hv_dom *hd, unsigned int vcpuid)
{
    struct tdom *td = hd->time;
    struct vcpu_time_info r;

    if (td == NULL || vcpuid >= td->nr)
        return;
    /* The copy Xen made may hold an odd version from an update in flight;
     * the new area gets a complete record with a fresh even version. */
    make_record(td, now_of(td), &r);
    publish_now(&td->v[vcpuid], &r);
}

void xsim__hv_time_reset_timers(struct xsim_hv_dom *hd)
{
    struct tdom *td = hd->time;

    if (td == NULL)
        return;
    for (unsigned int i = 0; i < td->nr; i++) {
        sshot_stop(&td->v[i]);
        periodic_stop(&td->v[i]);
    }
}

/* ---- configuration ---- */

void xsim_hv_time_config_default(struct xsim_hv_time_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->tsc_hz = NS_PER_S;
    cfg->tsc_stable = true;
    cfg->tsc_deadline = true;
    cfg->lapic_timer = true;
    cfg->hpet = true;
    cfg->hpet_timers = XSIM_TIME_HPET_TIMERS;
}

static bool tsc_is_world_default(const struct xsim_hv_time_config *c)
{
    return c->tsc_hz == NS_PER_S && c->tsc_origin_ns == 0;
}

/* Does the guest's rdtsc follow the model? Only when the world's rdtsc
 * hook is xsim_hv_rdtsc (which marks the domain when it runs); otherwise
 * the world returns virtual ns. Comparing values alone would not tell at
 * an instant where both read the same (virtual time 0). */
static bool tsc_hook_agrees(struct tdom *td)
{
    const struct xg_platform *p = xsim_domain_platform(td->hd->d);

    td->rdtsc_hooked = false;
    return p->ops->rdtsc(p->ctx) == model_tsc(&td->cfg, now_of(td)) && td->rdtsc_hooked;
}

/* Re-aim pending timers after the mapping changed: deadlines stay in
 * system time, their virtual fire times move. */
static void reaim_timers(struct tdom *td)
{
    for (unsigned int i = 0; i < td->nr; i++) {
        struct tvcpu *tv = &td->v[i];
        if (tv->ss_armed)
            sshot_arm(tv);
        if (tv->per_period != 0)
            periodic_arm(tv);
    }
}

int xsim_hv_time_config(struct xsim_hv *hv, domid_t domid, const struct xsim_hv_time_config *cfg)
{
    struct tdom *td = tdom_of(hv, domid);
    struct xsim_hv_time_config old;

    if (td == NULL)
        return -ESRCH;
    if (cfg->tsc_hz == 0 || cfg->tsc_hz > TSC_HZ_MAX || cfg->hpet_timers == 0 ||
        cfg->hpet_timers > XSIM_TIME_HPET_MAX || cfg->wc_nsec >= NS_PER_S)
        return -EINVAL;
    /* A host boots (and starts its TSC) before it runs anything: both
     * functions are linear from now on, never clamped at 0. */
    if ((__int128)cfg->system_time_origin_ns > (__int128)now_of(td) ||
        (__int128)cfg->tsc_origin_ns > (__int128)now_of(td))
        return -EINVAL;
    old = td->cfg;
    td->cfg = *cfg;
    if (!tsc_is_world_default(cfg) && !tsc_hook_agrees(td)) {
        td->cfg = old;
        return -EOPNOTSUPP;
    }
    scale_for_hz(cfg->tsc_hz, &td->mul, &td->shift);
    publish_all(td);
    publish_wallclock(td);
    reaim_timers(td);
    if (cfg->default_periodic_ns != 0) {
        for (unsigned int i = 0; i < td->nr; i++)
            periodic_start(&td->v[i], cfg->default_periodic_ns);
    }
    if (td->calib_event != 0)
        xsim_event_cancel(world(td), td->calib_event);
    td->calib_event = 0;
    td->calib_done = 0;
    if (cfg->calibrate_ns != 0)
        td->calib_event = xsim_event_schedule(world(td), now_of(td) + cfg->calibrate_ns, KIND_CALIB,
                                              calib_event, td);
    return 0;
}

int xsim_hv_time_get_config(struct xsim_hv *hv, domid_t domid, struct xsim_hv_time_config *out)
{
    struct tdom *td = tdom_of(hv, domid);

    if (td == NULL)
        return -ESRCH;
    *out = td->cfg;
    return 0;
}

int xsim_hv_time_update(struct xsim_hv *hv, domid_t domid)
{
    struct tdom *td = tdom_of(hv, domid);

    if (td == NULL)
        return -ESRCH;
    publish_all(td);
    return 0;
}

uint64_t xsim_hv_time_tsc(struct xsim_hv *hv, domid_t domid, uint64_t now_ns)
{
    struct tdom *td = tdom_of(hv, domid);

    return td != NULL ? model_tsc(&td->cfg, now_ns) : 0;
}

uint64_t xsim_hv_time_system(struct xsim_hv *hv, domid_t domid, uint64_t now_ns)
{
    struct tdom *td = tdom_of(hv, domid);

    return td != NULL ? model_sys(&td->cfg, now_ns) : 0;
}

uint64_t xsim_hv_time_tsc_to_vtime(struct xsim_hv *hv, domid_t domid, uint64_t tsc)
{
    struct tdom *td = tdom_of(hv, domid);

    return td != NULL ? tsc_to_vtime(&td->cfg, tsc) : UINT64_MAX;
}

int xsim_hv_time_record(struct xsim_hv *hv, domid_t domid, unsigned int vcpu,
                        struct vcpu_time_info *out)
{
    struct tdom *td = tdom_of(hv, domid);

    if (td == NULL)
        return -ESRCH;
    if (vcpu >= td->nr)
        return -ENOENT;
    *out = td->v[vcpu].rec;
    out->version = td->v[vcpu].version;
    return 0;
}

int xsim_hv_time_stats(struct xsim_hv *hv, domid_t domid, struct xsim_hv_time_stats *out)
{
    struct tdom *td = tdom_of(hv, domid);

    if (td == NULL)
        return -ESRCH;
    *out = td->stats;
    return 0;
}

uint64_t xsim_hv_rdtsc(struct xsim_domain *d, void *ctx, uint64_t now_ns)
{
    struct xsim_hv_dom *hd = xsim__hv_dom_of(d);
    struct tdom *td = hd != NULL ? hd->time : NULL;

    (void)ctx;
    if (td == NULL)
        return now_ns;
    td->rdtsc_hooked = true;
    return model_tsc(&td->cfg, now_ns);
}

/* ---- lifecycle ---- */

int xsim__hv_time_domain_init(struct xsim_hv_dom *hd)
{
    struct tdom *td = calloc(1, sizeof(*td) + hd->nr_vcpus * sizeof(td->v[0]));

    if (td == NULL)
        return -ENOMEM;
    td->hd = hd;
    td->nr = hd->nr_vcpus;
    xsim_hv_time_config_default(&td->cfg);
    scale_for_hz(td->cfg.tsc_hz, &td->mul, &td->shift);
    xsim_world_rng(hd->hv->w, "time.slop", &td->slop);
    for (unsigned int i = 0; i < td->nr; i++) {
        struct vcpu_time_info r;
        td->v[i].td = td;
        td->v[i].id = i;
        hd->vcpus[i].time = &td->v[i];
        make_record(td, now_of(td), &r);
        publish_now(&td->v[i], &r);
    }
    hd->time = td;
    publish_wallclock(td);
    return 0;
}

void xsim__hv_time_domain_free(struct xsim_hv_dom *hd)
{
    /* The emulated timers keep one flat allocation each (see hpet.c and
     * lapic_timer.c), freed here with the rest of the domain's time. */
    for (unsigned int i = 0; i < hd->nr_vcpus; i++) {
        free(hd->vcpus[i].lapic_timer);
        hd->vcpus[i].lapic_timer = NULL;
        hd->vcpus[i].time = NULL;
    }
    free(hd->hpet);
    hd->hpet = NULL;
    free(hd->time);
    hd->time = NULL;
}
