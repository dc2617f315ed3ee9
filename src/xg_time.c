/*
 * xg_time.c - guest time: pvclock arithmetic and the version-protocol
 * reader, and the guest's monotonic clock over the pvclock or a calibrated
 * TSC, kept monotonic across CPUs (a shared last value) and across a change
 * of the hypervisor's time parameters (an offset re-based on resume, or when
 * a CPU sees its own time step back).
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "xensim/guest/xg_evtchn.h"
#include "xensim/guest/xg_time.h"
#include "xg_mutant.h"

#define NS_PER_S          1000000000ull
#define FS_PER_NS         1000000ull
#define HPET_REG_ID       0x000
#define HPET_REG_CFG      0x010
#define HPET_REG_COUNTER  0x0f0
#define HPET_CFG_ENABLE   1ull
#define HPET_MAX_PERIOD   100000000ull /* 100 ns in fs: the spec's ceiling */
#define CALIBRATE_STEP_NS 10000ull
#define CALIBRATE_MAX     100000u /* polls before giving up on a dead counter */

/* ---- pvclock arithmetic ---- */

/* (a * b) >> k of the 96-bit product, low 64 bits; k in [1, 63]. */
static uint64_t mul_shr(uint64_t a, uint32_t b, unsigned int k)
{
    uint64_t lo = (a & 0xffffffffu) * b;
    uint64_t hi = (a >> 32) * b;
    uint64_t plo = lo + (hi << 32);
    uint64_t phi = (hi >> 32) + (plo < lo ? 1 : 0);

    return (plo >> k) | (phi << (64 - k));
}

uint64_t xg_pvclock_scale(uint64_t delta, uint32_t mul, int8_t shift)
{
    /* The shifted delta is a 64-bit quantity in Xen's and every guest's
     * formula; only the multiply needs more than 64 bits. */
    if (shift < 0) {
        unsigned int s = (unsigned int)(-(int)shift);
        delta = s >= 64 ? 0 : delta >> s;
    } else {
        delta = shift >= 64 ? 0 : delta << shift;
    }
    return mul_shr(delta, mul, 32);
}

uint64_t xg_pvclock_scale_inverse(uint64_t ns, uint32_t mul, int8_t shift)
{
    uint64_t q, r, f, y;

    if (ns == 0)
        return 0;
    if (mul == 0)
        return UINT64_MAX;
    /* y = ceil(ns * 2^32 / mul): the least shifted delta that reaches ns,
     * in two 64-bit divisions (r < mul < 2^32, so r << 32 fits). */
    q = ns / mul;
    r = ns % mul;
    if (q >> 32)
        return UINT64_MAX;
    f = ((r << 32) + mul - 1) / mul;
    y = q << 32;
    if (y > UINT64_MAX - f)
        return UINT64_MAX;
    y += f;
    if (shift < 0) {
        /* scale looks at delta >> s: the least delta is y << s. */
        unsigned int s = (unsigned int)(-(int)shift);
        if (s >= 64 || y > (UINT64_MAX >> s))
            return UINT64_MAX;
        return y << s;
    }
    /* scale looks at delta << s: the least delta is ceil(y / 2^s), as
     * long as shifting it back does not overflow. */
    if (shift >= 64)
        return UINT64_MAX;
    y = ((y - 1) >> shift) + 1;
    return y > (UINT64_MAX >> shift) ? UINT64_MAX : y;
}

int xg_pvclock_ratio(uint64_t num, uint64_t den, uint32_t *mul, int8_t *shift)
{
    int s = 0;
    uint64_t m;

    if (num == 0 || den == 0)
        return -EINVAL;
    /* Bring num / den into [1/2, 1), counting powers of two in s. */
    while (num >= den) {
        if (den >> 62)
            num >>= 1;
        else
            den <<= 1;
        s++;
    }
    while (num < den - num) {
        if (num >> 62)
            den >>= 1;
        else
            num <<= 1;
        s--;
    }
    if (s > 32 || s < -63)
        return -EINVAL;
    /* m = floor(num * 2^32 / den) by long division (num < den, so no
     * 128-bit divide is needed; the carry stands for bit 64). */
    m = 0;
    for (int i = 0; i < 32; i++) {
        bool carry = (num >> 63) != 0;
        num <<= 1;
        m <<= 1;
        if (carry || num >= den) {
            num -= den;
            m |= 1;
        }
    }
    *mul = (uint32_t)m;
    *shift = (int8_t)s;
    return 0;
}

int xg_pvclock_read(const struct xg_platform *p, const struct vcpu_time_info *ti,
                    struct xg_pvclock_snap *out, unsigned int max_retries)
{
    for (unsigned int n = 0;; n++) {
        uint32_t v1, v2;

        if (max_retries != 0 && n > max_retries)
            return -EAGAIN;
        v1 = xg_read_u32(p, &ti->version);
        if (v1 & 1) {
            /* The hypervisor is half way through an update. */
            xg_point(p, XG_POINT_SPIN, &ti->version);
            continue;
        }
        /* Fields (and the TSC) only after the version... */
        xg_rmb(p);
        out->tsc_timestamp = xg_read_u64(p, &ti->tsc_timestamp);
        out->system_time = xg_read_u64(p, &ti->system_time);
        out->mul = xg_read_u32(p, &ti->tsc_to_system_mul);
        out->shift = (int8_t)xg_read_u8(p, (const volatile uint8_t *)&ti->tsc_shift);
        out->flags = xg_read_u8(p, &ti->flags);
        out->tsc = xg_rdtsc(p);
        /* ...and the version again only after them: if it still matches,
         * no update overlapped any of the reads above. */
        xg_rmb(p);
        v2 = xg_read_u32(p, &ti->version);
        if (v1 == v2 || XG_MUTATED(6)) {
            out->version = v1;
            return n > INT_MAX ? INT_MAX : (int)n;
        }
        xg_point(p, XG_POINT_SPIN, &ti->version);
    }
}

uint64_t xg_pvclock_ns(const struct xg_pvclock_snap *s, uint64_t tsc)
{
    /* A TSC behind the record's own is not time before it. */
    uint64_t delta = tsc > s->tsc_timestamp ? tsc - s->tsc_timestamp : 0;

    return s->system_time + xg_pvclock_scale(delta, s->mul, s->shift);
}

uint64_t xg_pvclock_tsc_at(const struct xg_pvclock_snap *s, uint64_t ns)
{
    uint64_t d;

    if (ns <= s->system_time)
        return s->tsc_timestamp;
    d = xg_pvclock_scale_inverse(ns - s->system_time, s->mul, s->shift);
    if (d == UINT64_MAX || d > UINT64_MAX - s->tsc_timestamp)
        return UINT64_MAX;
    return s->tsc_timestamp + d;
}

/* ---- the clock ---- */

const char *xg_clock_source_name(enum xg_clock_source s)
{
    switch (s) {
    case XG_CLOCK_NONE:
        return "none";
    case XG_CLOCK_PVCLOCK:
        return "pvclock";
    case XG_CLOCK_TSC:
        return "tsc";
    }
    return "unknown";
}

void xg_clock_config_init(struct xg_clock_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->jump_ns = 1000000;
    cfg->hpet_base = XG_HPET_BASE;
    cfg->calibrate_ns = 1000000;
    cfg->max_retries = 1000000;
}

static const struct vcpu_time_info *time_info(const struct xg_clock *c, unsigned int cpu)
{
    const struct vcpu_info *vi = cpu < XG_MAX_CPUS ? c->g->cpus[cpu].vi : NULL;

    return vi != NULL ? &vi->time : NULL;
}

/* The source's own time on `cpu`, with the scale it used. */
static int raw_sample(struct xg_clock *c, unsigned int cpu, struct xg_clock_sample *s)
{
    const struct xg_platform *p = c->g->p;

    if (c->source == XG_CLOCK_PVCLOCK) {
        const struct vcpu_time_info *ti = time_info(c, cpu);
        struct xg_pvclock_snap snap;
        int n;

        if (ti == NULL)
            return -ENODEV;
        n = xg_pvclock_read(p, ti, &snap, c->cfg.max_retries);
        if (n < 0)
            return n;
        c->cpu[cpu].retries += (unsigned int)n;
        s->tsc = snap.tsc;
        s->tsc_ref = snap.tsc_timestamp;
        s->ns_ref = snap.system_time;
        s->mul = snap.mul;
        s->shift = snap.shift;
        s->raw_ns = xg_pvclock_ns(&snap, snap.tsc);
        return 0;
    }
    if (c->source == XG_CLOCK_TSC) {
        s->tsc = xg_rdtsc(p);
        s->tsc_ref = c->tsc_base;
        s->ns_ref = 0;
        s->mul = c->tsc_mul;
        s->shift = c->tsc_shift;
        s->raw_ns = s->tsc > c->tsc_base
                        ? xg_pvclock_scale(s->tsc - c->tsc_base, c->tsc_mul, c->tsc_shift)
                        : 0;
        return 0;
    }
    return -ENODEV;
}

/* Raw time of `cpu` -> monotonic time; *offset gets the offset used. */
static uint64_t to_mono(struct xg_clock *c, unsigned int cpu, uint64_t raw, uint64_t *offset)
{
    const struct xg_platform *p = c->g->p;
    struct xg_clock_cpu *cc = &c->cpu[cpu];
    uint64_t prev = cc->last_raw;
    /* Only this CPU writes its own slot (resume aside, with all quiet). */
    bool stepped_back = prev > raw && prev - raw > c->cfg.jump_ns;

    cc->last_raw = raw;
    cc->reads++;
    for (;;) {
        uint64_t off = xg_read_u64(p, &c->offset);
        uint64_t val = raw + off;
        uint64_t last = xg_read_u64(p, &c->last_ns);

        if (stepped_back && val < last && last - val > c->cfg.jump_ns) {
            /* This CPU's own time went back: the hypervisor's parameters
             * changed (a migration). Continue from the last value rather
             * than stall until raw time catches up. Another CPU seeing the
             * same step finds the offset already moved (the cmpxchg fails
             * or val is no longer far behind) and does not add it twice. */
            uint64_t want = off + (last - val);
            if (!xg_cmpxchg_u64(p, &c->offset, &off, want))
                continue;
            xg_fetch_add_u64(p, &c->rebases, 1);
            off = want;
            val = last;
        }
        *offset = off;
        /* Never below what any CPU returned: per-vCPU clocks are close,
         * not equal. */
        if (val <= last)
            return last;
        if (xg_cmpxchg_u64(p, &c->last_ns, &last, val))
            return val;
    }
}

int xg_clock_sample(struct xg_clock *c, struct xg_clock_sample *out)
{
    unsigned int cpu = xg_cpu(c->g->p);
    int rc;

    if (cpu >= XG_MAX_CPUS)
        return -EINVAL;
    rc = raw_sample(c, cpu, out);
    if (rc != 0)
        return rc;
    out->mono_ns = to_mono(c, cpu, out->raw_ns, &out->offset);
    return 0;
}

uint64_t xg_clock_now(struct xg_clock *c)
{
    struct xg_clock_sample s;

    if (xg_clock_sample(c, &s) != 0)
        return xg_read_u64(c->g->p, &c->last_ns);
    return s.mono_ns;
}

uint64_t xg_clock_raw_for(const struct xg_clock_sample *s, uint64_t mono)
{
    /* mono >= raw + offset always holds, so raw reaching this makes mono
     * reach `mono`. */
    return mono - s->offset;
}

uint64_t xg_clock_tsc_for(const struct xg_clock_sample *s, uint64_t raw)
{
    struct xg_pvclock_snap snap = {
        .tsc_timestamp = s->tsc_ref, .system_time = s->ns_ref, .mul = s->mul, .shift = s->shift};

    return xg_pvclock_tsc_at(&snap, raw);
}

enum xg_clock_source xg_clock_source(const struct xg_clock *c)
{
    return c->source;
}

/* TSC rate against the HPET: count both over cfg.calibrate_ns. */
static int calibrate_hpet(struct xg_clock *c)
{
    const struct xg_platform *p = c->g->p;
    uint64_t base = c->cfg.hpet_base, id, period, cfg, c0, c1, t0, t1, ns;
    unsigned int n = 0;

    id = p->ops->mmio_read(p->ctx, base + HPET_REG_ID, 8);
    period = id >> 32;
    if (id == ~0ull || period == 0 || period > HPET_MAX_PERIOD)
        return -ENODEV;
    cfg = p->ops->mmio_read(p->ctx, base + HPET_REG_CFG, 8);
    if (!(cfg & HPET_CFG_ENABLE))
        p->ops->mmio_write(p->ctx, base + HPET_REG_CFG, 8, cfg | HPET_CFG_ENABLE);
    c0 = p->ops->mmio_read(p->ctx, base + HPET_REG_COUNTER, 8);
    t0 = xg_rdtsc(p);
    do {
        /* Let time pass (a kernel port spins; the simulator charges it). */
        xg_work(p, XG_WORK_GUEST, CALIBRATE_STEP_NS);
        c1 = p->ops->mmio_read(p->ctx, base + HPET_REG_COUNTER, 8);
        if (++n > CALIBRATE_MAX)
            return -ENODEV;
    } while ((c1 - c0) * period < c->cfg.calibrate_ns * FS_PER_NS);
    t1 = xg_rdtsc(p);
    ns = (c1 - c0) * period / FS_PER_NS;
    if (t1 <= t0)
        return -ENODEV;
    c->tsc_hz = (t1 - t0) * (NS_PER_S / 1000) / (ns / 1000 ? ns / 1000 : 1);
    return xg_pvclock_ratio(ns, t1 - t0, &c->tsc_mul, &c->tsc_shift);
}

/* Without an HPET: the rate the pvclock record states (Linux's
 * xen_tsc_khz does the same). */
static int rate_from_pvclock(struct xg_clock *c)
{
    const struct vcpu_time_info *ti = time_info(c, 0);
    struct xg_pvclock_snap snap;

    if (ti == NULL || xg_pvclock_read(c->g->p, ti, &snap, c->cfg.max_retries) < 0 || snap.mul == 0)
        return -ENODEV;
    c->tsc_mul = snap.mul;
    c->tsc_shift = snap.shift;
    c->tsc_hz = xg_pvclock_scale_inverse(NS_PER_S, snap.mul, snap.shift);
    return 0;
}

/* May the pvclock be the source on this host? Where Xen vouches for it
 * on HVM, or when forced (and there is a record). */
static bool pvclock_allowed(const struct xg_clock *c)
{
    if (time_info(c, 0) == NULL || c->cfg.force == XG_CLOCK_TSC)
        return false;
    return c->g->feat.safe_pvclock || c->cfg.force == XG_CLOCK_PVCLOCK;
}

/* The TSC's rate on this host: against the HPET, else as the pvclock
 * record states it. Then raw time counts from the TSC read here. */
static int tsc_setup(struct xg_clock *c)
{
    if (calibrate_hpet(c) != 0 && rate_from_pvclock(c) != 0)
        return -ENODEV;
    c->tsc_base = xg_rdtsc(c->g->p);
    return 0;
}

int xg_clock_init(struct xg_clock *c, struct xg_guest *g, const struct xg_clock_config *cfg)
{
    if (c == NULL || g == NULL || g->p == NULL)
        return -EINVAL;
    memset(c, 0, sizeof(*c));
    c->g = g;
    if (cfg != NULL)
        c->cfg = *cfg;
    else
        xg_clock_config_init(&c->cfg);
    if (c->cfg.jump_ns == 0)
        c->cfg.jump_ns = 1000000;
    if (c->cfg.hpet_base == 0)
        c->cfg.hpet_base = XG_HPET_BASE;
    if (c->cfg.calibrate_ns == 0)
        c->cfg.calibrate_ns = 1000000;
    if (c->cfg.max_retries == 0)
        c->cfg.max_retries = 1000000;
    if (pvclock_allowed(c)) {
        c->source = XG_CLOCK_PVCLOCK;
        (void)rate_from_pvclock(c);
    } else {
        if (tsc_setup(c) != 0)
            return -ENODEV;
        c->source = XG_CLOCK_TSC;
    }
    (void)xg_clock_now(c);
    return 0;
}

void xg_clock_resume(struct xg_clock *c)
{
    const struct xg_platform *p = c->g->p;
    unsigned int cpu = xg_cpu(p);
    struct xg_clock_sample s;
    uint64_t last;

    if (cpu >= XG_MAX_CPUS)
        return;
    if (c->source == XG_CLOCK_PVCLOCK && !pvclock_allowed(c)) {
        /* The new host does not vouch for the pvclock on HVM: the TSC
         * clock, as xg_clock_init would have chosen here. If the TSC has
         * no rate either, the pvclock is still better than no clock. */
        if (tsc_setup(c) == 0)
            c->source = XG_CLOCK_TSC;
    } else if (c->source == XG_CLOCK_TSC) {
        /* The new host's TSC starts anywhere and may tick at another
         * rate: measure it again (~1 ms against the HPET). A TSC clock
         * stays one even where the pvclock would be allowed now. */
        uint32_t mul = c->tsc_mul;
        int8_t shift = c->tsc_shift;
        uint64_t hz = c->tsc_hz;
        if (tsc_setup(c) != 0) {
            c->tsc_mul = mul; /* keep the old rate rather than none */
            c->tsc_shift = shift;
            c->tsc_hz = hz;
            c->tsc_base = xg_rdtsc(p);
        }
    }
    if (raw_sample(c, cpu, &s) != 0)
        return;
    last = xg_read_u64(p, &c->last_ns);
    /* Other CPUs are quiet: their step-back memory refers to the old host
     * (or the old source). */
    for (unsigned int i = 0; i < XG_MAX_CPUS; i++)
        c->cpu[i].last_raw = 0;
    c->cpu[cpu].last_raw = s.raw_ns;
    /* The monotonic clock continues from the last value it returned, in
     * whatever source it now reads. */
    xg_write_u64(p, &c->offset, last - s.raw_ns);
    xg_fetch_add_u64(p, &c->rebases, 1);
}

int xg_clock_wallclock(struct xg_clock *c, uint64_t *sec, uint32_t *nsec)
{
    const struct xg_platform *p = c->g->p;
    struct shared_info *si = c->g->si;
    const struct vcpu_time_info *ti = time_info(c, xg_cpu(p));
    struct xg_pvclock_snap snap;
    uint64_t wsec, sys, total;
    uint32_t wnsec;

    if (si == NULL || ti == NULL)
        return -ENODEV;
    for (unsigned int n = 0;; n++) {
        uint32_t v1;
        if (n > c->cfg.max_retries)
            return -EAGAIN;
        v1 = xg_read_u32(p, &si->wc_version);
        if (v1 & 1) {
            xg_point(p, XG_POINT_SPIN, &si->wc_version);
            continue;
        }
        xg_rmb(p);
        wsec = xg_read_u32(p, &si->wc_sec) | (uint64_t)xg_read_u32(p, &si->wc_sec_hi) << 32;
        wnsec = xg_read_u32(p, &si->wc_nsec);
        xg_rmb(p);
        if (xg_read_u32(p, &si->wc_version) == v1)
            break;
        xg_point(p, XG_POINT_SPIN, &si->wc_version);
    }
    /* The wall clock is the time of day at system time 0: add this CPU's
     * system time (the raw pvclock, never the monotonic offset). */
    if (xg_pvclock_read(p, ti, &snap, c->cfg.max_retries) < 0)
        return -EAGAIN;
    sys = xg_pvclock_ns(&snap, snap.tsc);
    total = (uint64_t)wnsec + sys % NS_PER_S;
    *sec = wsec + sys / NS_PER_S + total / NS_PER_S;
    *nsec = (uint32_t)(total % NS_PER_S);
    return 0;
}
