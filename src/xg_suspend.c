/*
 * xg_suspend.c - the guest's suspend, resume and migration sequence (see
 * xg_suspend.h): the control/shutdown watch, parking the other CPUs,
 * device hooks with rollback, SCHEDOP_shutdown(SHUTDOWN_suspend), and the
 * resume of every part on a new host or the same one.
 *
 * Parking protocol (generation counters, so one suspend's release is never
 * taken for the next one's park): CPU 0 bumps park_gen and kicks the
 * others; each parks from its idle loop (xg_suspend_cpu_poll), counts
 * itself in `parked`, kicks CPU 0 and waits halted until release_gen
 * reaches its generation; CPU 0 bumps release_gen and kicks them again
 * once everything CPU-wide is back.
 */
#include <errno.h>
#include <string.h>

#include "xensim/abi/sched.h"
#include "xensim/guest/xg_evtchn.h"
#include "xensim/guest/xg_suspend.h"

#define WATCH_TOKEN      "xg-suspend"
#define WATCH_PATH       "control/shutdown"

struct xg_suspend {
    struct xg_guest *g;
    struct xg_suspend_parts parts;
    struct xg_suspend_dev devs[XG_SUSPEND_MAX_DEVS];
    unsigned int ndevs;
    volatile uint32_t req_seq;
    volatile uint32_t pending;
    volatile uint32_t park_gen, release_gen;
    volatile uint32_t parked;
    volatile uint32_t new_host; /* what the released CPUs resume into */
    uint32_t cpu_gen[XG_MAX_CPUS];
    struct xg_suspend_stats st;
};

unsigned long xg_suspend_size(void)
{
    return sizeof(struct xg_suspend);
}

static void kick(struct xg_suspend *s, int cpu)
{
    const struct xg_platform *p = s->g->p;
    uint64_t icr = cpu < 0 ? (XG_ICR_ALL_BUT_SELF | s->parts.kick_vector)
                           : (((uint64_t)(unsigned int)cpu << 32) | s->parts.kick_vector);

    if (s->g->ncpus > 1)
        (void)xg_wrmsr(p, XG_MSR_X2APIC_ICR, icr);
}

/* The watch: "suspend" is acked with "" and flagged for CPU 0. */
static void shutdown_watch(struct xg_xenbus *xb, const char *path, const char *token, void *arg)
{
    struct xg_suspend *s = arg;
    const struct xg_platform *p = s->g->p;
    char val[16];

    if (xg_xenbus_read(xb, 0, WATCH_PATH, val, sizeof(val)) < 0 || strcmp(val, "suspend") != 0)
        return;
    if (xg_xenbus_write(xb, 0, WATCH_PATH, "") != 0)
        return;
    s->st.requests++;
    xg_write_u32(p, &s->pending, 1);
    xg_wmb(p);
    xg_fetch_add_u32(p, &s->req_seq, 1);
    /* CPU 0 may be waiting halted for this. */
    if (xg_cpu(p) != 0)
        kick(s, 0);
}

int xg_suspend_init(struct xg_suspend *s, struct xg_guest *g, const struct xg_suspend_parts *parts)
{
    if (s == NULL || g == NULL || parts == NULL || parts->xb == NULL || parts->kick_vector < 0x10)
        return -EINVAL;
    memset(s, 0, sizeof(*s));
    s->g = g;
    s->parts = *parts;
    return xg_xenbus_watch(parts->xb, WATCH_PATH, WATCH_TOKEN, shutdown_watch, s);
}

int xg_suspend_register(struct xg_suspend *s, const struct xg_suspend_dev *dev)
{
    if (dev == NULL || dev->suspend == NULL || dev->resume == NULL)
        return -EINVAL;
    if (s->ndevs == XG_SUSPEND_MAX_DEVS)
        return -ENOSPC;
    s->devs[s->ndevs++] = *dev;
    return 0;
}

bool xg_suspend_requested(const struct xg_suspend *s)
{
    return s->pending != 0;
}

const volatile uint32_t *xg_suspend_request_seq(const struct xg_suspend *s)
{
    return &s->req_seq;
}

void xg_suspend_get_stats(const struct xg_suspend *s, struct xg_suspend_stats *out)
{
    *out = s->st;
}

/* ---- per-CPU parts ---- */

static void cpu_suspend(struct xg_suspend *s, unsigned int cpu)
{
    xg_guest_quiesce(s->g, cpu);
    if (s->parts.timers != NULL)
        (void)xg_timer_cpu_suspend(s->parts.timers);
    if (s->parts.ipi != NULL)
        xg_ipi_cpu_park(s->parts.ipi);
}

static void cpu_resume(struct xg_suspend *s)
{
    /* Re-arm first: a timer event that is pending now finds the deadline
     * and fires once; the re-armed one then finds nothing (stale). */
    if (s->parts.timers != NULL && xg_timer_cpu_resume(s->parts.timers) != 0)
        /* E.g. a fallback to an HPET with fewer comparators than CPUs:
         * this CPU runs on without an event timer; say so. */
        xg_log(s->g->p, XG_LOG_ERR, "suspend: this CPU has no event timer after resume");
    xg_guest_cpu_unquiesce(s->g);
    if (s->parts.ipi != NULL)
        xg_ipi_cpu_unpark(s->parts.ipi);
}

bool xg_suspend_cpu_poll(struct xg_suspend *s)
{
    const struct xg_platform *p = s->g->p;
    unsigned int cpu = xg_cpu(p);
    uint32_t gen;
    bool was;

    if (cpu == 0 || cpu >= XG_MAX_CPUS)
        return false;
    gen = xg_read_u32(p, &s->park_gen);
    if (gen == s->cpu_gen[cpu])
        return false;
    was = xg_irq_save(p);
    s->cpu_gen[cpu] = gen;
    cpu_suspend(s, cpu);
    xg_fetch_add_u32(p, &s->parked, 1);
    kick(s, 0);
    /* Halted, not spinning: virtual time moves only when all are idle.
     * Interrupts taken here run no handler (quiesced). */
    while ((int32_t)(xg_read_u32(p, &s->release_gen) - gen) < 0) {
        xg_halt(p);
        (void)xg_irq_save(p);
    }
    xg_rmb(p);
    cpu_resume(s);
    xg_irq_restore(p, was);
    return true;
}

/* ---- CPU 0's sequence ---- */

static unsigned int others_up(const struct xg_suspend *s)
{
    unsigned int n = 0;

    for (unsigned int c = 1; c < s->g->ncpus; c++)
        n += s->g->cpus[c].up ? 1 : 0;
    return n;
}

static void park_others(struct xg_suspend *s)
{
    const struct xg_platform *p = s->g->p;
    unsigned int n = others_up(s);
    bool was;

    xg_write_u32(p, &s->parked, 0);
    xg_wmb(p);
    xg_fetch_add_u32(p, &s->park_gen, 1);
    kick(s, -1);
    was = xg_irq_save(p);
    while (xg_read_u32(p, &s->parked) < n) {
        xg_halt(p);
        (void)xg_irq_save(p);
    }
    xg_irq_restore(p, was);
}

static void release_others(struct xg_suspend *s, bool new_host)
{
    const struct xg_platform *p = s->g->p;

    xg_write_u32(p, &s->new_host, new_host ? 1 : 0);
    xg_wmb(p);
    xg_write_u32(p, &s->release_gen, xg_read_u32(p, &s->park_gen));
    kick(s, -1);
}

/* Suspend devices last to first; on a refusal resume those already
 * suspended (first to last) and return the error. */
static int suspend_devices(struct xg_suspend *s)
{
    for (unsigned int i = s->ndevs; i-- > 0;) {
        int rc = s->devs[i].suspend(s->devs[i].arg);
        if (rc != 0) {
            for (unsigned int j = i + 1; j < s->ndevs; j++)
                (void)s->devs[j].resume(s->devs[j].arg, false);
            return rc < 0 ? rc : -EIO;
        }
    }
    return 0;
}

static int resume_devices(struct xg_suspend *s, bool new_host)
{
    int first = 0;

    for (unsigned int i = 0; i < s->ndevs; i++) {
        int rc = s->devs[i].resume(s->devs[i].arg, new_host);
        if (rc != 0 && first == 0)
            first = rc;
    }
    return first;
}

/* Everything CPU-wide, on CPU 0 with interrupts off. */
static int resume_core(struct xg_suspend *s, bool new_host)
{
    const struct xg_suspend_parts *pt = &s->parts;
    int rc = xg_guest_resume(s->g, new_host), r;

    if (rc != 0)
        return rc;
    if (pt->gt != NULL && (r = xg_gnttab_resume(pt->gt, new_host)) != 0 && rc == 0)
        rc = r;
    if (new_host && pt->clk != NULL)
        xg_clock_resume(pt->clk);
    if (pt->timers != NULL && (r = xg_timers_resume(pt->timers, new_host)) != 0 && rc == 0)
        rc = r;
    if (pt->ipi != NULL && (r = xg_ipi_resume(pt->ipi, new_host)) != 0 && rc == 0)
        rc = r;
    if ((r = xg_xenbus_resume(pt->xb, new_host)) != 0 && rc == 0)
        rc = r;
    return rc;
}

int xg_suspend_run(struct xg_suspend *s)
{
    const struct xg_platform *p = s->g->p;
    struct sched_shutdown sd = {.reason = SHUTDOWN_suspend};
    long hrc;
    int rc;
    bool was, new_host;

    if (xg_cpu(p) != 0)
        return -EINVAL;
    xg_write_u32(p, &s->pending, 0);
    park_others(s);
    rc = suspend_devices(s);
    if (rc != 0) {
        s->st.failed++;
        s->st.last_rc = (uint64_t)(int64_t)rc;
        release_others(s, false);
        return rc;
    }
    if (s->parts.ipi != NULL)
        (void)xg_ipi_suspend(s->parts.ipi);
    was = xg_irq_save(p);
    cpu_suspend(s, 0);
    s->st.suspends++;
    hrc = xg_hypercall(p, __HYPERVISOR_sched_op, SCHEDOP_shutdown, (unsigned long)&sd, 0);
    new_host = hrc == 0;
    if (hrc == 0)
        s->st.resumed++;
    else
        s->st.cancelled++; /* 1, or an error: the same host either way */
    s->st.last_rc = (uint64_t)hrc;
    rc = resume_core(s, new_host);
    cpu_resume(s);
    xg_irq_restore(p, was);
    if (rc != 0)
        xg_log(p, XG_LOG_ERR, "suspend: a part did not come back after resume");
    if (resume_devices(s, new_host) != 0)
        xg_log(p, XG_LOG_ERR, "suspend: a device did not resume");
    release_others(s, new_host);
    /* The suspend happened: its result, even if a part came back degraded
     * (the log says so; e.g. a VIRQ_TIMER or IPI port the new host would
     * not bind). */
    return (int)hrc;
}
