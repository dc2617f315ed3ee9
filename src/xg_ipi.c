/*
 * xg_ipi.c - inter-processor interrupts: Xen PV IPIs (an event channel per
 * CPU and kind) with the vector callback, LAPIC IPIs (x2APIC ICR) without.
 */
#include <errno.h>
#include <string.h>

#include "xensim/guest/xg_evtchn.h"
#include "xensim/guest/xg_ipi.h"
#include "xg_mutant.h"


static const uint8_t kind_vector[XG_IPI__COUNT] = {
    [XG_IPI_CALL] = XG_VECTOR_IPI_CALL,
    [XG_IPI_TLB] = XG_VECTOR_IPI_TLB,
    [XG_IPI_RESCHED] = XG_VECTOR_IPI_RESCHED,
    [XG_IPI_STOP] = XG_VECTOR_IPI_STOP,
};

const char *xg_ipi_kind_name(enum xg_ipi_kind k)
{
    switch (k) {
    case XG_IPI_CALL:
        return "call";
    case XG_IPI_TLB:
        return "tlb";
    case XG_IPI_RESCHED:
        return "resched";
    case XG_IPI_STOP:
        return "stop";
    case XG_IPI__COUNT:
        break;
    }
    return "unknown";
}

const char *xg_ipi_mode_name(enum xg_ipi_mode m)
{
    switch (m) {
    case XG_IPI_MODE_NONE:
        return "none";
    case XG_IPI_MODE_PV:
        return "pv";
    case XG_IPI_MODE_LAPIC:
        return "lapic";
    }
    return "unknown";
}

void xg_ipi_config_init(struct xg_ipi_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
}

static void run_handler(struct xg_ipi *ipi, unsigned int cpu, enum xg_ipi_kind kind)
{
    xg_ipi_fn fn = ipi->cfg.fn[kind];

    ipi->slot[cpu][kind].handled++;
    if (fn != NULL)
        fn(ipi, cpu, kind, ipi->cfg.arg[kind]);
}

static int pv_handler(struct xg_guest *g, evtchn_port_t port, void *arg)
{
    struct xg_ipi_slot *s = arg;

    run_handler(s->ipi, s->cpu, (enum xg_ipi_kind)s->kind);
    return XG_EVTCHN_HANDLED;
}

bool xg_ipi_interrupt(struct xg_ipi *ipi, uint8_t vector)
{
    unsigned int cpu;

    if (ipi->mode != XG_IPI_MODE_LAPIC || ipi->g == NULL)
        return false;
    cpu = xg_cpu(ipi->g->p);
    if (cpu >= XG_MAX_CPUS)
        return false;
    for (unsigned int k = 0; k < XG_IPI__COUNT; k++) {
        if (kind_vector[k] != vector)
            continue;
        /* EOI before the handler: an IPI of this kind sent while it runs
         * stays pending in the IRR and runs the handler again afterwards,
         * which is what makes a burst end with a run after its last send. */
        xg_eoi(ipi->g->p);
        if (xg_read_u8(ipi->g->p, &ipi->parked[cpu])) {
            /* Parked for a suspend: run it at xg_ipi_cpu_resume. */
            ipi->held[cpu] |= (uint8_t)(1u << k);
            return true;
        }
        run_handler(ipi, cpu, (enum xg_ipi_kind)k);
        return true;
    }
    return false;
}

int xg_ipi_init(struct xg_ipi *ipi, struct xg_guest *g, const struct xg_ipi_config *cfg)
{
    if (ipi == NULL || g == NULL)
        return -EINVAL;
    memset(ipi, 0, sizeof(*ipi));
    ipi->g = g;
    if (cfg != NULL)
        ipi->cfg = *cfg;
    /* PV IPIs are per-CPU ports: they need events on every CPU. */
    if (xg_guest_percpu_events(g) && ipi->cfg.force != XG_IPI_MODE_LAPIC)
        ipi->mode = XG_IPI_MODE_PV;
    else
        ipi->mode = XG_IPI_MODE_LAPIC;
    return 0;
}

enum xg_ipi_mode xg_ipi_mode(const struct xg_ipi *ipi)
{
    return ipi->mode;
}

int xg_ipi_set_handler(struct xg_ipi *ipi, enum xg_ipi_kind kind, xg_ipi_fn fn, void *arg)
{
    if ((unsigned int)kind >= XG_IPI__COUNT)
        return -EINVAL;
    for (unsigned int c = 0; c < XG_MAX_CPUS; c++) {
        if (ipi->ready[c])
            return -EBUSY;
    }
    ipi->cfg.fn[kind] = fn;
    ipi->cfg.arg[kind] = arg;
    return 0;
}

int xg_ipi_cpu_init(struct xg_ipi *ipi)
{
    struct xg_guest *g = ipi->g;
    unsigned int cpu = xg_cpu(g->p);
    int rc;

    if (cpu >= XG_MAX_CPUS || cpu >= g->ncpus || ipi->mode == XG_IPI_MODE_NONE)
        return -EINVAL;
    for (unsigned int k = 0; k < XG_IPI__COUNT; k++) {
        struct xg_ipi_slot *s = &ipi->slot[cpu][k];
        s->ipi = ipi;
        s->cpu = (uint16_t)cpu;
        s->kind = (uint8_t)k;
        if (ipi->mode != XG_IPI_MODE_PV)
            continue;
        /* Bound masked with the handler in place; unmasked only then. */
        rc = xg_evtchn_bind_ipi(g, cpu, pv_handler, s, &s->port);
        if (rc == 0)
            rc = xg_evtchn_unmask(g, s->port);
        if (rc != 0)
            return rc;
    }
    /* Senders look at `ready` before using the ports: publish them first. */
    xg_wmb(g->p);
    xg_write_u8(g->p, &ipi->ready[cpu], 1);
    return 0;
}

static bool ready(struct xg_ipi *ipi, unsigned int cpu)
{
    return xg_read_u8(ipi->g->p, &ipi->ready[cpu]) != 0;
}

static int pv_send_one(struct xg_ipi *ipi, unsigned int cpu, enum xg_ipi_kind kind)
{
    return xg_evtchn_notify(ipi->g, ipi->slot[cpu][kind].port);
}

static int pv_send(struct xg_ipi *ipi, unsigned int self, int dest, enum xg_ipi_kind kind)
{
    int n = 0, rc;

    if (dest >= 0 || dest == XG_IPI_SELF) {
        unsigned int cpu = dest >= 0 ? (unsigned int)dest : self;
        rc = pv_send_one(ipi, cpu, kind);
        return rc != 0 ? rc : 1;
    }
    /* No multicast in the event channel ABI: one send per target. */
    for (unsigned int cpu = 0; cpu < ipi->g->ncpus; cpu++) {
        if ((dest == XG_IPI_ALL_BUT_SELF && cpu == self) || !ready(ipi, cpu))
            continue;
        rc = pv_send_one(ipi, cpu, kind);
        if (rc != 0)
            return rc;
        n++;
    }
    return n;
}

static int lapic_send(struct xg_ipi *ipi, unsigned int self, int dest, enum xg_ipi_kind kind)
{
    const struct xg_platform *p = ipi->g->p;
    uint64_t vec = kind_vector[kind];
    int rc, n = 0;

    if (dest == XG_IPI_SELF || (dest >= 0 && (unsigned int)dest == self)) {
        rc = xg_wrmsr(p, XG_MSR_X2APIC_SELF_IPI, vec);
        return rc != 0 ? rc : 1;
    }
    if (dest >= 0) {
        /* x2APIC: destination APIC id in the high half, fixed delivery. */
        rc = xg_wrmsr(p, XG_MSR_X2APIC_ICR, ((uint64_t)(unsigned int)dest << 32) | vec);
        return rc != 0 ? rc : 1;
    }
    for (unsigned int cpu = 0; cpu < ipi->g->ncpus; cpu++)
        n += (dest == XG_IPI_ALL || cpu != self) ? 1 : 0;
    rc = xg_wrmsr(p, XG_MSR_X2APIC_ICR, (dest == XG_IPI_ALL ? XG_ICR_ALL : XG_ICR_ALL_BUT_SELF) | vec);
    return rc != 0 ? rc : n;
}

int xg_ipi_send(struct xg_ipi *ipi, int dest, enum xg_ipi_kind kind)
{
    unsigned int self = xg_cpu(ipi->g->p);
    int n;

    if ((unsigned int)kind >= XG_IPI__COUNT || self >= XG_MAX_CPUS ||
        (dest >= 0 && (unsigned int)dest >= ipi->g->ncpus) ||
        (dest < 0 && dest != XG_IPI_SELF && dest != XG_IPI_ALL && dest != XG_IPI_ALL_BUT_SELF))
        return -EINVAL;
    if (dest >= 0 && !ready(ipi, (unsigned int)dest))
        return -ENXIO;
    if (dest == XG_IPI_SELF && !ready(ipi, self))
        return -ENXIO;
    if (ipi->mode == XG_IPI_MODE_PV)
        n = pv_send(ipi, self, dest, kind);
    else if (ipi->mode == XG_IPI_MODE_LAPIC)
        n = lapic_send(ipi, self, dest, kind);
    else
        return -EINVAL;
    if (n > 0)
        ipi->sent[self] += (unsigned int)n;
    return n;
}

/* ---- suspend and resume ---- */

/*
 * Take the PV IPIs still pending on `cpu`'s ports out of the event channel
 * layer and hold them for xg_ipi_cpu_unpark. An IPI sent before the
 * suspend that its target had not taken yet (it parked with interrupts
 * off, or its vCPU was not running) would otherwise go with the old ports
 * to a new host, where none of them exists; FreeBSD's resume re-sends its
 * bitmap IPI to every CPU for the same reason. Clearing the pending bit
 * means a cancelled suspend does not run the handler twice. Called once
 * sends are off and `cpu` is parked, so nothing can set them again.
 */
static void hold_pending(struct xg_ipi *ipi, unsigned int cpu)
{
    struct xg_guest *g = ipi->g;
    uint8_t held;

    if (ipi->mode != XG_IPI_MODE_PV || g->ops == NULL || g->ops->is_pending == NULL ||
        g->ops->clear_pending == NULL)
        return;
    held = xg_read_u8(g->p, &ipi->held[cpu]);
    for (unsigned int k = 0; k < XG_IPI__COUNT; k++) {
        evtchn_port_t port = ipi->slot[cpu][k].port;
        if (port != 0 && g->ops->is_pending(g, port)) {
            g->ops->clear_pending(g, port);
            held |= (uint8_t)(1u << k);
        }
    }
    xg_write_u8(g->p, &ipi->held[cpu], held);
}

int xg_ipi_suspend(struct xg_ipi *ipi)
{
    if (ipi->g == NULL || ipi->mode == XG_IPI_MODE_NONE)
        return -EINVAL;
    /* No sends while suspended: the ports may be about to vanish. */
    for (unsigned int c = 0; c < ipi->g->ncpus; c++) {
        ipi->was_ready[c] = ipi->ready[c];
        xg_write_u8(ipi->g->p, &ipi->ready[c], 0);
    }
    /* CPUs already parked hold what is pending on their ports; the others
     * (the caller, as a rule) do it as they park. */
    for (unsigned int c = 0; c < ipi->g->ncpus && c < XG_MAX_CPUS; c++) {
        if (xg_read_u8(ipi->g->p, &ipi->parked[c]))
            hold_pending(ipi, c);
    }
    return 0;
}

int xg_ipi_resume(struct xg_ipi *ipi, bool new_host)
{
    struct xg_guest *g = ipi->g;
    int rc = 0;

    if (g == NULL || ipi->mode == XG_IPI_MODE_NONE)
        return -EINVAL;
    if (new_host && ipi->mode == XG_IPI_MODE_PV && !xg_guest_percpu_events(g)) {
        /* The new host gave no vector callback: events reach CPU 0 only,
         * so no per-CPU IPI ports. LAPIC IPIs need no per-CPU set-up (the
         * vectors go through xg_ipi_interrupt, which takes them from
         * here on), and a parked CPU holds what it takes until it
         * unparks. The old ports went with the old host. The way back
         * (lapic on a host with vectors) is not taken: lapic works with
         * any callback. */
        for (unsigned int c = 0; c < g->ncpus; c++) {
            for (unsigned int k = 0; k < XG_IPI__COUNT; k++)
                ipi->slot[c][k].port = 0;
        }
        ipi->mode = XG_IPI_MODE_LAPIC;
    }
    for (unsigned int c = 0; c < g->ncpus; c++) {
        bool ok = ipi->was_ready[c] != 0;
        for (unsigned int k = 0; ok && new_host && ipi->mode == XG_IPI_MODE_PV &&
                                 !XG_MUTATED(2) && k < XG_IPI__COUNT;
             k++) {
            struct xg_ipi_slot *s = &ipi->slot[c][k];
            /* New ports on the new host, bound masked, then unmasked. */
            int r = xg_evtchn_bind_ipi(g, c, pv_handler, s, &s->port);
            if (r == 0)
                r = xg_evtchn_unmask(g, s->port);
            if (r != 0) {
                ok = false;
                if (rc == 0)
                    rc = r;
            }
        }
        ipi->was_ready[c] = 0;
        if (ok) {
            xg_wmb(g->p);
            xg_write_u8(g->p, &ipi->ready[c], 1);
        }
    }
    return rc;
}

void xg_ipi_cpu_park(struct xg_ipi *ipi)
{
    unsigned int cpu = xg_cpu(ipi->g->p);

    if (cpu >= XG_MAX_CPUS)
        return;
    xg_write_u8(ipi->g->p, &ipi->parked[cpu], 1);
    /* Parking after xg_ipi_suspend turned sends off (CPU 0, with its
     * interrupts off): hold this CPU's pending IPIs now. */
    if (ipi->was_ready[cpu] && !xg_read_u8(ipi->g->p, &ipi->ready[cpu]))
        hold_pending(ipi, cpu);
}

void xg_ipi_cpu_unpark(struct xg_ipi *ipi)
{
    const struct xg_platform *p = ipi->g->p;
    unsigned int cpu = xg_cpu(p);
    bool was;
    uint8_t held;

    if (cpu >= XG_MAX_CPUS)
        return;
    was = xg_irq_save(p);
    xg_write_u8(p, &ipi->parked[cpu], 0);
    held = xg_read_u8(p, &ipi->held[cpu]);
    xg_write_u8(p, &ipi->held[cpu], 0);
    for (unsigned int k = 0; k < XG_IPI__COUNT; k++) {
        if (held & (1u << k))
            run_handler(ipi, cpu, (enum xg_ipi_kind)k);
    }
    xg_irq_restore(p, was);
}
