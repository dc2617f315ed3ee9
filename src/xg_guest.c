/*
 * xg_guest.c - guest boot on Xen HVM: detection of Xen and its features,
 * shared_info and vcpu_info placement, and the event callback set up in the
 * order a GENERIC kernel prefers (per-vCPU vector, global vector, platform
 * PCI INTx, GSI), falling back when a feature is missing or refused.
 */
#include <errno.h>
#include <string.h>

#include "xensim/abi/cpuid.h"
#include "xensim/abi/hvm_op.h"
#include "xensim/abi/hvm_params.h"
#include "xensim/abi/memory.h"
#include "xensim/abi/vcpu.h"
#include "xensim/abi/version.h"
#include "xensim/guest/xg_evtchn.h"
#include "xg_mutant.h"

#define IOAPIC_BASE         0xfec00000ull
#define IOAPIC_REGSEL       0x00
#define IOAPIC_IOWIN        0x10
#define RTE_LEVEL           (1u << 15)
#define MSR_X2APIC_SELF_IPI 0x83f

const char *xg_callback_name(enum xg_callback cb)
{
    switch (cb) {
    case XG_CB_NONE:
        return "none";
    case XG_CB_PERCPU_VECTOR:
        return "percpu-vector";
    case XG_CB_VECTOR:
        return "vector";
    case XG_CB_PCI_INTX:
        return "pci-intx";
    case XG_CB_GSI:
        return "gsi";
    }
    return "unknown";
}

void xg_guest_config_init(struct xg_guest_config *cfg, unsigned int ncpus)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->ncpus = ncpus;
    cfg->platform_pci = true;
    cfg->platform_pci_devfn = 3 << 3;
    cfg->platform_pci_gsi = 28;
    cfg->balance_at_bind = true;
}

unsigned long xg_guest_size(void)
{
    return sizeof(struct xg_guest);
}

void xg_spin_lock(const struct xg_platform *p, volatile uint32_t *lock)
{
    for (;;) {
        uint32_t expected = 0;
        if (xg_cmpxchg_u32(p, lock, &expected, 1))
            return;
        xg_point(p, XG_POINT_SPIN, lock);
    }
}

void xg_spin_unlock(const struct xg_platform *p, volatile uint32_t *lock)
{
    /* Release: the critical section's writes are visible before the lock
     * reads free. */
    xg_wmb(p);
    xg_write_u32(p, lock, 0);
}

int xg_guest_init(struct xg_guest *g, const struct xg_platform *p,
                  const struct xg_guest_config *cfg)
{
    if (g == NULL || p == NULL || cfg == NULL || cfg->ncpus == 0 || cfg->ncpus > XG_MAX_CPUS)
        return -EINVAL;
    /* Everything but the port table; its entries are set up as ports are
     * bound (port_hwm). */
    memset(g, 0, offsetof(struct xg_guest, ports));
    g->p = p;
    g->cfg = *cfg;
    if (g->cfg.upcall_budget == 0)
        g->cfg.upcall_budget = 256;
    if (g->cfg.upcall_max_passes == 0)
        g->cfg.upcall_max_passes = 8;
    if (g->cfg.storm_threshold == 0)
        g->cfg.storm_threshold = 16;
    g->ops = cfg->evtchn_ops != NULL ? cfg->evtchn_ops : &xg_evtchn_2l_ops;
    g->ncpus = cfg->ncpus;
    /* Every port starts on CPU 0, as Xen's notify vCPU does. */
    for (unsigned int w = 0; w < XG_2L_MAX_PORTS / 64; w++)
        g->cpus[0].port_mask[w] = ~(uint64_t)0;
    for (unsigned int c = 0; c < XG_MAX_CPUS; c++)
        g->cpus[c].in_port = -1;
    return 0;
}

/* ---- detection ---- */

static int detect(struct xg_guest *g, bool install_hypercall_page)
{
    const struct xg_platform *p = g->p;
    struct xg_features *f = &g->feat;
    uint32_t r[4];

    memset(f, 0, sizeof(*f));
    /* Xen's leaves may follow a Viridian block: look every 0x100. */
    for (uint32_t base = XEN_CPUID_FIRST_LEAF; base < XG_XEN_CPUID_BASE_LIMIT;
         base += XG_XEN_CPUID_BASE_STEP) {
        xg_cpuid(p, base, 0, r);
        if (r[1] == XEN_CPUID_SIGNATURE_EBX && r[2] == XEN_CPUID_SIGNATURE_ECX &&
            r[3] == XEN_CPUID_SIGNATURE_EDX && r[0] >= base + 2) {
            f->xen = true;
            f->cpuid_base = base;
            break;
        }
    }
    if (!f->xen)
        return -ENODEV;
    xg_cpuid(p, f->cpuid_base + 1, 0, r);
    f->version = r[0];
    xg_cpuid(p, f->cpuid_base + 2, 0, r);
    if (install_hypercall_page) {
        /* Install the hypercall page through the MSR leaf 2 names. */
        uint64_t gfn;
        if (r[0] >= 1 && xg_page_alloc(p, &gfn) != NULL)
            (void)xg_wrmsr(p, r[1], gfn << 12);
    }
    xg_cpuid(p, f->cpuid_base, 0, r);
    if (r[0] >= f->cpuid_base + XG_XEN_CPUID_LEAF_HVM) {
        xg_cpuid(p, f->cpuid_base + XG_XEN_CPUID_LEAF_HVM, 0, r);
        f->hvm_leaf_eax = r[0];
        f->percpu_vector = (r[0] & XEN_HVM_CPUID_UPCALL_VECTOR) != 0;
    }
    struct xen_feature_info fi = {.submap_idx = 0};
    if (xg_hypercall(p, __HYPERVISOR_xen_version, XENVER_get_features, (unsigned long)&fi, 0) == 0)
        f->xenfeat = fi.submap;
    f->callback_vector = (f->xenfeat >> XENFEAT_hvm_callback_vector) & 1;
    f->safe_pvclock = (f->xenfeat >> XENFEAT_hvm_safe_pvclock) & 1;
    return 0;
}

/* ---- shared pages ---- */

static int map_shared_info(struct xg_guest *g)
{
    const struct xg_platform *p = g->p;
    struct xen_add_to_physmap atp;
    /* After a resume on a new host the same frame is mapped again. */
    void *page = g->si != NULL ? (void *)g->si : xg_page_alloc(p, &g->si_gfn);
    long rc;

    if (page == NULL)
        return -ENOMEM;
    memset(&atp, 0, sizeof(atp));
    atp.domid = DOMID_SELF;
    atp.space = XENMAPSPACE_shared_info;
    atp.idx = 0;
    atp.gpfn = g->si_gfn;
    rc = xg_hypercall(p, __HYPERVISOR_memory_op, XENMEM_add_to_physmap, (unsigned long)&atp, 0);
    if (rc != 0)
        return (int)rc;
    g->si = page;
    /* Nothing may fire before its handler exists: mask every port. */
    for (unsigned int w = 0; w < XG_2L_MAX_PORTS / 64; w++)
        xg_write_u64(p, (volatile uint64_t *)&g->si->evtchn_mask[w], ~(uint64_t)0);
    return 0;
}

static int register_vcpu_info(struct xg_guest *g, unsigned int cpu)
{
    const struct xg_platform *p = g->p;
    unsigned int per_page = 4096 / sizeof(struct vcpu_info);
    unsigned int pg = cpu / per_page;
    struct vcpu_register_vcpu_info r;
    uint64_t gfn;
    long rc;

    if (g->vcpu_info_pages[pg] == NULL) {
        xg_spin_lock(p, &g->lock);
        if (g->vcpu_info_pages[pg] == NULL)
            g->vcpu_info_pages[pg] = xg_page_alloc(p, &gfn);
        xg_spin_unlock(p, &g->lock);
        if (g->vcpu_info_pages[pg] == NULL)
            return -ENOMEM;
    }
    memset(&r, 0, sizeof(r));
    r.mfn = p->ops->virt_to_gfn(p->ctx, g->vcpu_info_pages[pg]);
    r.offset = (cpu % per_page) * sizeof(struct vcpu_info);
    rc = xg_hypercall(p, __HYPERVISOR_vcpu_op, VCPUOP_register_vcpu_info, cpu, (unsigned long)&r);
    if (rc == 0) {
        g->cpus[cpu].vi = (struct vcpu_info *)(g->vcpu_info_pages[pg] + r.offset);
    } else if (cpu < XEN_LEGACY_MAX_VCPUS) {
        /* Older hypervisors: the legacy slot in shared_info still works. */
        g->cpus[cpu].vi = &g->si->vcpu_info[cpu];
        rc = 0;
    }
    return (int)rc;
}

/* ---- the callback ---- */

static long set_param(struct xg_guest *g, uint32_t index, uint64_t value)
{
    struct xen_hvm_param hp = {.domid = DOMID_SELF, .index = index, .value = value};

    return xg_hypercall(g->p, __HYPERVISOR_hvm_op, HVMOP_set_param, (unsigned long)&hp, 0);
}

static long set_upcall_vector(struct xg_guest *g, unsigned int cpu)
{
    struct xen_hvm_evtchn_upcall_vector uv = {.vcpu = cpu, .vector = XG_VECTOR_CALLBACK};

    return xg_hypercall(g->p, __HYPERVISOR_hvm_op, HVMOP_set_evtchn_upcall_vector,
                        (unsigned long)&uv, 0);
}

/* Route a GSI through the IOAPIC to CPU 0: level-triggered, active high. */
static void ioapic_route(struct xg_guest *g, uint32_t gsi, uint8_t vector)
{
    const struct xg_platform *p = g->p;

    xg_mmio_write32(p, IOAPIC_BASE + IOAPIC_REGSEL, 0x10 + 2 * gsi + 1);
    xg_mmio_write32(p, IOAPIC_BASE + IOAPIC_IOWIN, 0); /* destination: APIC 0 */
    xg_mmio_write32(p, IOAPIC_BASE + IOAPIC_REGSEL, 0x10 + 2 * gsi);
    xg_mmio_write32(p, IOAPIC_BASE + IOAPIC_IOWIN, RTE_LEVEL | vector);
}

static bool try_callback(struct xg_guest *g, enum xg_callback cb)
{
    switch (cb) {
    case XG_CB_PERCPU_VECTOR:
        return g->feat.percpu_vector && set_upcall_vector(g, 0) == 0;
    case XG_CB_VECTOR:
        return g->feat.callback_vector &&
               set_param(g, HVM_PARAM_CALLBACK_IRQ,
                         ((uint64_t)HVM_PARAM_CALLBACK_TYPE_VECTOR << 56) | XG_VECTOR_CALLBACK) ==
                   0;
    case XG_CB_PCI_INTX:
        if (!g->cfg.platform_pci)
            return false;
        ioapic_route(g, g->cfg.platform_pci_gsi, XG_VECTOR_INTX);
        return set_param(g, HVM_PARAM_CALLBACK_IRQ,
                         ((uint64_t)HVM_PARAM_CALLBACK_TYPE_PCI_INTX << 56) |
                             ((uint64_t)g->cfg.platform_pci_devfn << 8) | 0 /* INTA# */) == 0;
    case XG_CB_GSI:
        if (g->cfg.platform_pci_gsi == 0)
            return false;
        ioapic_route(g, g->cfg.platform_pci_gsi, XG_VECTOR_INTX);
        return set_param(g, HVM_PARAM_CALLBACK_IRQ,
                         ((uint64_t)HVM_PARAM_CALLBACK_TYPE_GSI << 56) | g->cfg.platform_pci_gsi) ==
               0;
    case XG_CB_NONE:
        break;
    }
    return false;
}

static int setup_callback(struct xg_guest *g)
{
    static const enum xg_callback order[] = {XG_CB_PERCPU_VECTOR, XG_CB_VECTOR, XG_CB_PCI_INTX,
                                             XG_CB_GSI};

    g->cb = XG_CB_NONE;
    if (g->cfg.force_callback != XG_CB_NONE && try_callback(g, g->cfg.force_callback)) {
        g->cb = g->cfg.force_callback;
        return 0;
    }
    for (unsigned int i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        if (try_callback(g, order[i])) {
            g->cb = order[i];
            return 0;
        }
    }
    return -ENODEV;
}

int xg_guest_boot(struct xg_guest *g)
{
    const struct xg_platform *p = g->p;
    int rc;

    if (xg_cpu(p) != 0)
        return -EINVAL;
    rc = detect(g, true);
    if (rc != 0)
        return rc;
    rc = map_shared_info(g);
    if (rc != 0)
        return rc;
    rc = register_vcpu_info(g, 0);
    if (rc != 0)
        return rc;
    /* The event channel ABI before any port is bound. */
    rc = xg_evtchn_choose_abi(g, true);
    if (rc != 0)
        return rc;
    rc = setup_callback(g);
    if (rc != 0)
        return rc;
    g->cpus[0].up = true;
    g->booted = true;
    return 0;
}

int xg_guest_cpu_up(struct xg_guest *g)
{
    unsigned int cpu = xg_cpu(g->p);
    int rc;

    if (!g->booted || cpu == 0 || cpu >= g->ncpus)
        return -EINVAL;
    rc = register_vcpu_info(g, cpu);
    if (rc != 0)
        return rc;
    if (g->ops->cpu_up != NULL && (rc = g->ops->cpu_up(g, cpu)) != 0)
        return rc;
    if (g->cb == XG_CB_PERCPU_VECTOR && set_upcall_vector(g, cpu) != 0)
        return -EIO;
    g->cpus[cpu].up = true;
    return 0;
}

const struct xg_features *xg_guest_features(const struct xg_guest *g)
{
    return &g->feat;
}

enum xg_callback xg_guest_callback(const struct xg_guest *g)
{
    return g->cb;
}

const char *xg_guest_evtchn_abi(const struct xg_guest *g)
{
    return g->ops->name;
}

void xg_guest_stopped(struct xg_guest *g)
{
    g->stopped = true;
}

bool xg_guest_percpu_events(const struct xg_guest *g)
{
    return g->cb == XG_CB_PERCPU_VECTOR || g->cb == XG_CB_VECTOR;
}

/* ---- interrupts ---- */

void xg_evtchn_rearm(struct xg_guest *g, unsigned int cpu, uint64_t sel)
{
    const struct xg_platform *p = g->p;
    struct vcpu_info *vi = g->cpus[cpu].vi;

    /* Put back the words not finished, and ask for another upcall. */
    if (sel != 0)
        xg_fetch_or_u64(p, (volatile uint64_t *)&vi->evtchn_pending_sel, sel);
    xg_write_u8(p, &vi->evtchn_upcall_pending, 1);
    /* The global vector is re-injected while upcall_pending is set and the
     * INTx/GSI line stays asserted; a LAPIC vector needs a new interrupt. */
    if (g->cb == XG_CB_PERCPU_VECTOR)
        (void)xg_wrmsr(p, MSR_X2APIC_SELF_IPI, XG_VECTOR_CALLBACK);
}

void xg_guest_interrupt(struct xg_guest *g, uint8_t vector)
{
    const struct xg_platform *p = g->p;
    unsigned int cpu = xg_cpu(p);

    if ((vector == XG_VECTOR_CALLBACK && (g->cb == XG_CB_PERCPU_VECTOR || g->cb == XG_CB_VECTOR)) ||
        (vector == XG_VECTOR_INTX && (g->cb == XG_CB_PCI_INTX || g->cb == XG_CB_GSI))) {
        struct vcpu_info *vi = g->cpus[cpu].vi;
        if (vi != NULL && xg_read_u8(p, &g->cpus[cpu].quiesced)) {
            /* Parked for a suspend: no handler runs here. Events stay
             * pending (and their selector bits set); only the upcall
             * request is dropped, so that the global vector and the
             * INTx line stop asserting. xg_guest_cpu_unquiesce rescans. */
            xg_write_u8(p, &vi->evtchn_upcall_pending, 0);
            g->cpus[cpu].quiesced_upcalls++;
        } else if (vi != NULL) {
            g->ops->upcall(g, cpu);
        }
    }
    /* The global callback vector is injected without an in-service bit:
     * no EOI. Everything else went through the local APIC. */
    if (!(vector == XG_VECTOR_CALLBACK && g->cb == XG_CB_VECTOR))
        xg_eoi(p);
}

void xg_guest_idle(struct xg_guest *g)
{
    xg_halt(g->p);
}

/* ---- suspend and resume ---- */

void xg_guest_quiesce(struct xg_guest *g, unsigned int cpu)
{
    if (cpu < g->ncpus)
        xg_write_u8(g->p, &g->cpus[cpu].quiesced, 1);
}

void xg_guest_cpu_unquiesce(struct xg_guest *g)
{
    const struct xg_platform *p = g->p;
    unsigned int cpu = xg_cpu(p);
    struct vcpu_info *vi;
    bool was;

    if (cpu >= g->ncpus)
        return;
    vi = g->cpus[cpu].vi;
    was = xg_irq_save(p);
    xg_write_u8(p, &g->cpus[cpu].quiesced, 0);
    if (vi != NULL && g->cpus[cpu].up) {
        /* Whatever arrived while parked is still pending, but its
         * selector bit or upcall may have been consumed: scan every word
         * once, as Xen's vcpu_info registration asks for. */
        xg_fetch_or_u64(p, (volatile uint64_t *)&vi->evtchn_pending_sel, ~(uint64_t)0);
        xg_write_u8(p, &vi->evtchn_upcall_pending, 1);
        g->ops->upcall(g, cpu);
    }
    xg_irq_restore(p, was);
}

int xg_guest_resume(struct xg_guest *g, bool new_host)
{
    int rc;

    if (!g->booted || xg_cpu(g->p) != 0)
        return -EINVAL;
    if (!new_host)
        return 0; /* same host: ports, vcpu_info and callback are all still there */
    /* The new host's features may differ (the callback's fallbacks). */
    rc = detect(g, false);
    if (rc != 0)
        return rc;
    rc = XG_MUTATED(9) ? 0 : map_shared_info(g);
    if (rc != 0)
        return rc;
    /* No port survived: every binding is rebuilt by its owner. */
    xg_evtchn_forget_all(g);
    /* Xen lets one vCPU register another's vcpu_info (it names the vcpu). */
    for (unsigned int cpu = 0; cpu < g->ncpus; cpu++) {
        if (!g->cpus[cpu].up || (XG_MUTATED(10) && cpu != 0))
            continue;
        rc = register_vcpu_info(g, cpu);
        if (rc != 0)
            return rc;
    }
    /* The new host starts on 2-level: FIFO again if it takes it (control
     * blocks for every vCPU, event array pages refilled), else fall back. */
    rc = xg_evtchn_choose_abi(g, false);
    if (rc != 0)
        return rc;
    rc = setup_callback(g);
    if (rc != 0)
        return rc;
    if (g->cb == XG_CB_PERCPU_VECTOR && !XG_MUTATED(22)) {
        for (unsigned int cpu = 1; cpu < g->ncpus; cpu++) {
            if (g->cpus[cpu].up && set_upcall_vector(g, cpu) != 0)
                return -EIO;
        }
    }
    return 0;
}

void xg_wait_u32(const struct xg_platform *p, volatile uint32_t *flag, uint32_t value)
{
    bool was = xg_irq_save(p);

    while (xg_read_u32(p, flag) < value) {
        xg_halt(p);
        (void)xg_irq_save(p);
    }
    xg_irq_restore(p, was);
}

int xg_kick(const struct xg_platform *p, int cpu, uint8_t vector)
{
    uint64_t icr = cpu < 0 ? (XG_ICR_ALL_BUT_SELF | vector) : (((uint64_t)cpu << 32) | vector);

    return xg_wrmsr(p, XG_MSR_X2APIC_ICR, icr);
}
