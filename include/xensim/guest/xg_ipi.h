/*
 * xg_ipi.h - inter-processor interrupts of four kinds (call-function /
 * rendezvous, TLB shootdown, reschedule, stop), either as Xen PV IPIs or as
 * LAPIC IPIs:
 *
 *   pv     one event channel per (CPU, kind), bound with EVTCHNOP_bind_ipi
 *          to that CPU; a send is EVTCHNOP_send on the target's port: one
 *          hypercall per target, the target takes the event upcall. Only
 *          with a vector callback (events must reach every CPU).
 *   lapic  a write of the x2APIC ICR (MSR 0x830) with one vector per kind,
 *          one write per send (the shorthands cover all / all-but-self),
 *          SELF_IPI (MSR 0x83f) for self; the target takes the vector and
 *          EOIs it. Exits at both ends unless the cost profile's APICv and
 *          posted interrupts remove them.
 *
 * Delivery semantics (both modes): IPIs of one kind to one CPU coalesce
 * (an event channel's pending bit; the LAPIC's IRR bit). A burst of k sends
 * runs that CPU's handler between 1 and k times, and at least one run
 * starts after the last send was issued: anything the sender published
 * before calling xg_ipi_send is visible to that run. A handler must treat
 * an IPI as "look at your queue", never count them. Handlers run on the
 * target CPU with interrupts off.
 *
 * Setup: xg_ipi_init on CPU 0 after xg_guest_boot chooses the mode;
 * xg_ipi_cpu_init on each CPU (CPU 0 included) binds that CPU's ports; route
 * LAPIC IPI vectors to xg_ipi_interrupt.
 */
#ifndef XENSIM_GUEST_XG_IPI_H
#define XENSIM_GUEST_XG_IPI_H

#include <stdbool.h>
#include <stdint.h>

#include "xensim/guest/xg.h"

enum xg_ipi_kind {
    XG_IPI_CALL = 0, /* call function / rendezvous */
    XG_IPI_TLB,      /* TLB shootdown */
    XG_IPI_RESCHED,  /* reschedule */
    XG_IPI_STOP,     /* stop the CPU (panic, shutdown) */
    XG_IPI__COUNT
};
/* "call", "tlb", "resched", "stop". */
const char *xg_ipi_kind_name(enum xg_ipi_kind k);

/* LAPIC vectors per kind (Linux's CALL_FUNCTION 0xfc, CALL_FUNCTION_SINGLE
 * 0xfb, RESCHEDULE 0xfd, REBOOT 0xf8). */
#define XG_VECTOR_IPI_CALL    0xfc
#define XG_VECTOR_IPI_TLB     0xfb
#define XG_VECTOR_IPI_RESCHED 0xfd
#define XG_VECTOR_IPI_STOP    0xf8

enum xg_ipi_mode {
    XG_IPI_MODE_NONE = 0,
    XG_IPI_MODE_PV,
    XG_IPI_MODE_LAPIC,
};
/* "none", "pv", "lapic" (for run reports). */
const char *xg_ipi_mode_name(enum xg_ipi_mode m);

/* Destinations. */
#define XG_IPI_SELF         (-1)
#define XG_IPI_ALL          (-2)
#define XG_IPI_ALL_BUT_SELF (-3)

struct xg_ipi;
typedef void (*xg_ipi_fn)(struct xg_ipi *ipi, unsigned int cpu, enum xg_ipi_kind kind, void *arg);

struct xg_ipi_config {
    enum xg_ipi_mode force; /* NONE: pv if possible; a forced pv falls back */
    xg_ipi_fn fn[XG_IPI__COUNT];
    void *arg[XG_IPI__COUNT];
};
/* No handlers, mode chosen at init. */
void xg_ipi_config_init(struct xg_ipi_config *cfg);

struct xg_ipi_slot {
    struct xg_ipi *ipi;
    evtchn_port_t port; /* pv */
    uint16_t cpu;
    uint8_t kind;
    uint64_t handled; /* handler runs on this CPU for this kind */
};

struct xg_ipi {
    struct xg_guest *g;
    struct xg_ipi_config cfg;
    enum xg_ipi_mode mode;
    volatile uint8_t ready[XG_MAX_CPUS];
    uint64_t sent[XG_MAX_CPUS]; /* sends issued by each CPU (targets counted) */
    struct xg_ipi_slot slot[XG_MAX_CPUS][XG_IPI__COUNT];
    /* suspend: readiness before it, CPUs parked, LAPIC IPIs held (kinds) */
    uint8_t was_ready[XG_MAX_CPUS];
    volatile uint8_t parked[XG_MAX_CPUS];
    uint8_t held[XG_MAX_CPUS];
};

/* On CPU 0 after xg_guest_boot: choose pv (vector callback) or lapic.
 * `cfg` is copied; NULL = defaults. 0 or -EINVAL. */
int xg_ipi_init(struct xg_ipi *ipi, struct xg_guest *g, const struct xg_ipi_config *cfg);
/* The mode in force: xg_ipi_init's choice, or lapic after xg_ipi_resume
 * fell back. */
enum xg_ipi_mode xg_ipi_mode(const struct xg_ipi *ipi);
/* Before any xg_ipi_cpu_init: replace a kind's handler. */
int xg_ipi_set_handler(struct xg_ipi *ipi, enum xg_ipi_kind kind, xg_ipi_fn fn, void *arg);
/* On each CPU: bind and unmask its four ports (pv), then mark it ready.
 * 0, -EINVAL, or the event channel layer's error. */
int xg_ipi_cpu_init(struct xg_ipi *ipi);

/* Send `kind` to `dest`: a CPU number, XG_IPI_SELF, XG_IPI_ALL or
 * XG_IPI_ALL_BUT_SELF. Returns the number of CPUs targeted (>= 0), or
 * -EINVAL / -ENXIO (a CPU without xg_ipi_cpu_init) / the hypervisor's
 * error. A pv broadcast skips CPUs that are not ready; a lapic one (an ICR
 * shorthand) reaches every CPU. */
int xg_ipi_send(struct xg_ipi *ipi, int dest, enum xg_ipi_kind kind);

/* Suspend (CPU 0): no CPU is ready for sends until xg_ipi_resume. IPIs
 * still pending on the ports of CPUs already parked are taken off them
 * and held (a new host has none of the old ports). */
int xg_ipi_suspend(struct xg_ipi *ipi);
/* Resume (CPU 0, other CPUs parked, after xg_guest_resume): CPUs that
 * were ready are ready again; on a new host the pv ports of every such
 * CPU are bound again (new numbers) and unmasked first. The first error is
 * returned; a CPU whose ports failed stays not ready. A pv guest on a new
 * host without per-CPU events (no vector callback) switches to lapic
 * instead (no ports); a lapic guest stays lapic on any host. */
int xg_ipi_resume(struct xg_ipi *ipi, bool new_host);
/* On each CPU while parked: LAPIC IPIs taken are held, not run; a CPU
 * parking after xg_ipi_suspend (CPU 0, interrupts off) also holds what is
 * pending on its pv ports... */
void xg_ipi_cpu_park(struct xg_ipi *ipi);
/* ... and run (once per kind) here, on the same CPU, after the resume. */
void xg_ipi_cpu_unpark(struct xg_ipi *ipi);

/* Interrupt entry for the LAPIC IPI vectors: handles `vector` (EOI
 * included) and returns true, or false if it is not an IPI vector. */
bool xg_ipi_interrupt(struct xg_ipi *ipi, uint8_t vector);

#endif
