/*
 * hv.c - the hypervisor model: domains, hypercall dispatch for version,
 * hvm, memory and vcpu ops, the Xen CPUID leaves and MSRs, MMIO routing.
 *
 * Guest pointers in hypercall arguments: guest code shares the simulator's
 * address space, so argument structs are read in place (copy_from_guest);
 * a NULL pointer gets -EFAULT as in Xen. Guest frame numbers (shared_info,
 * vcpu_info, rings, grants) are always checked against the domain's RAM.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "xensim/abi/cpuid.h"
#include "xensim/abi/hvm_op.h"
#include "xensim/abi/memory.h"
#include "xensim/abi/version.h"
#include "xensim/time.h"

#include "hv/hv_internal.h"
#include "world/zmem.h"

void xsim_hv_features_default(struct xsim_hv_features *f)
{
    memset(f, 0, sizeof(*f));
    f->hvm_callback_vector = true;
    f->percpu_upcall_vector = true;
    f->hvm_safe_pvclock = true;
    f->apic_access_virt = false;
    f->x2apic_virt = false;
    f->platform_pci = true;
    f->fifo_events = true;
    f->version = (4 << 16) | 17;
}

const char *xsim_callback_mode_name(enum xsim_callback_mode m)
{
    switch (m) {
    case XSIM_CB_NONE:
        return "none";
    case XSIM_CB_GSI:
        return "gsi";
    case XSIM_CB_PCI_INTX:
        return "pci-intx";
    case XSIM_CB_VECTOR:
        return "vector";
    case XSIM_CB_PERCPU_VECTOR:
        return "percpu-vector";
    }
    return "unknown";
}

/*
 * A guest's hypercall arguments are addresses in this process: the guest's
 * code runs here. What Xen would fault on and this process has certainly
 * not mapped is -EFAULT, as on Xen: the low 64 KiB (NULL, and a number
 * passed where a pointer was expected: no system maps there by default), a
 * range that wraps, and anything above the user half of a 64-bit address
 * space (below 2^56 on every x86-64 and aarch64 system, 5-level paging
 * included). Any other wild pointer is the guest's own memory error, and
 * corrupts or crashes this process as it would the guest's own memory.
 */
#define GUEST_ADDR_MIN 0x10000ul

static bool guest_range_ok(unsigned long addr, size_t len)
{
    if (addr < GUEST_ADDR_MIN || len > (size_t)-1 - addr)
        return false;
#if ULONG_MAX > 0xfffffffful
    if (addr + len > (1ul << 56))
        return false;
#endif
    return true;
}

int xsim__copy_from_guest(struct xsim_domain *d, void *dst, unsigned long src, size_t len)
{
    (void)d;
    if (!guest_range_ok(src, len))
        return -EFAULT;
    memcpy(dst, (const void *)src, len);
    return 0;
}

int xsim__copy_to_guest(struct xsim_domain *d, unsigned long dst, const void *src, size_t len)
{
    (void)d;
    if (!guest_range_ok(dst, len))
        return -EFAULT;
    memcpy((void *)dst, src, len);
    return 0;
}

struct xsim_hv_dom *xsim__hv_dom(struct xsim_hv *hv, domid_t domid)
{
    for (unsigned int i = 0; i < hv->ndoms; i++) {
        if (hv->doms[i]->domid == domid)
            return hv->doms[i];
    }
    return NULL;
}

struct xsim_hv_dom *xsim__hv_dom_of(struct xsim_domain *d)
{
    return xsim_domain_hv(d);
}

/* ---- XENVER ---- */

static long version_op(struct xsim_domain *d, struct xsim_vcpu *v, void *ctx, unsigned long cmd,
                       unsigned long arg, unsigned long a3, unsigned long a4, unsigned long a5)
{
    struct xsim_hv_dom *hd = xsim__hv_dom_of(d);
    struct xen_feature_info fi;

    switch (cmd) {
    case XENVER_version:
        return (long)hd->feat.version;
    case XENVER_pagesize:
        return XEN_PAGE_SIZE;
    case XENVER_get_features:
        if (xsim__copy_from_guest(d, &fi, arg, sizeof(fi)) != 0)
            return -EFAULT;
        if (fi.submap_idx >= XENFEAT_NR_SUBMAPS)
            return -EINVAL;
        fi.submap = 1u << XENFEAT_auto_translated_physmap;
        if (hd->feat.hvm_callback_vector)
            fi.submap |= 1u << XENFEAT_hvm_callback_vector;
        if (hd->feat.hvm_safe_pvclock)
            fi.submap |= 1u << XENFEAT_hvm_safe_pvclock;
        if (hd->feat.hvm_pirqs)
            fi.submap |= 1u << XENFEAT_hvm_pirqs;
        return xsim__copy_to_guest(d, arg, &fi, sizeof(fi));
    case XENVER_extraversion: {
        xen_extraversion_t ev = ".0-xensim";
        return xsim__copy_to_guest(d, arg, ev, sizeof(ev));
    }
    default:
        return -ENOSYS;
    }
}

/* ---- shared_info and vcpu_info placement ---- */

static void point_vcpu_infos(struct xsim_hv_dom *hd)
{
    for (unsigned int i = 0; i < hd->nr_vcpus; i++) {
        if (!hd->vcpus[i].vi_registered)
            hd->vcpus[i].vi = i < XEN_LEGACY_MAX_VCPUS ? &hd->si->vcpu_info[i] : NULL;
    }
}

static long map_shared_info(struct xsim_hv_dom *hd, uint64_t gfn)
{
    struct shared_info *page = xsim_domain_gfn_to_ptr(hd->d, gfn);

    if (page == NULL)
        return -EINVAL;
    if (page != hd->si) {
        /* The frame now shows the domain's shared_info: carry its state. */
        memcpy(page, hd->si, sizeof(*page));
        hd->si = page;
        hd->si_gfn = gfn;
        point_vcpu_infos(hd);
    }
    return 0;
}

static long memory_op(struct xsim_domain *d, struct xsim_vcpu *v, void *ctx, unsigned long cmd,
                      unsigned long arg, unsigned long a3, unsigned long a4, unsigned long a5)
{
    struct xsim_hv_dom *hd = xsim__hv_dom_of(d);
    struct xen_add_to_physmap atp;

    switch (cmd) {
    case XENMEM_add_to_physmap:
        if (xsim__copy_from_guest(d, &atp, arg, sizeof(atp)) != 0)
            return -EFAULT;
        if (atp.domid != DOMID_SELF && atp.domid != hd->domid)
            return -EPERM;
        if (atp.space == XENMAPSPACE_shared_info) {
            if (atp.idx != 0)
                return -EINVAL;
            return map_shared_info(hd, atp.gpfn);
        }
        if (atp.space == XENMAPSPACE_grant_table)
            return xsim__hv_gnttab_map_frame(hd, atp.idx, atp.gpfn);
        return -EOPNOTSUPP;
    default:
        return -ENOSYS;
    }
}

/* ---- HVM params and ops ---- */

/* Install the VM-entry hook (xsim__hv_vcpu_entry) on the vCPUs where the
 * callback mode gives it something to do: every vCPU for the vector
 * callback, vCPU 0 for a GSI or PCI INTx line. Elsewhere it would return
 * at once, and it runs at every scheduling point. In free-run mode other
 * vCPUs read their hook while this runs: it stays installed throughout. */
static void set_entry_hooks(struct xsim_hv_dom *hd)
{
    bool fixed = xsim_world_mode(hd->hv->w) == XSIM_MODE_FREE_RUN;

    for (unsigned int i = 0; i < hd->nr_vcpus; i++) {
        bool acts = fixed || hd->cb_mode == XSIM_CB_VECTOR ||
                    (i == 0 && (hd->cb_mode == XSIM_CB_GSI || hd->cb_mode == XSIM_CB_PCI_INTX));
        xsim_vcpu_set_entry_hook(hd->vcpus[i].v, acts ? xsim__hv_vcpu_entry : NULL,
                                 acts ? hd : NULL);
    }
}

static void set_callback(struct xsim_hv_dom *hd, uint64_t val)
{
    unsigned int type = (unsigned int)(val >> 56);

    hd->cb_mode = XSIM_CB_NONE;
    if (val == 0) {
        set_entry_hooks(hd);
        return;
    }
    switch (type) {
    case HVM_PARAM_CALLBACK_TYPE_GSI:
        hd->cb_mode = XSIM_CB_GSI;
        hd->cb_gsi = (uint32_t)(val & 0xffffffffu);
        break;
    case HVM_PARAM_CALLBACK_TYPE_PCI_INTX: {
        unsigned int dev = (unsigned int)((val >> 8) & 0xff) >> 3;
        unsigned int intx = (unsigned int)(val & 3);
        hd->cb_mode = XSIM_CB_PCI_INTX;
        /* Xen's swizzle from a device's INTx pin to its GSI. */
        hd->cb_gsi = (((dev << 2) + (dev >> 3) + intx) & 31) + 16;
        break;
    }
    case HVM_PARAM_CALLBACK_TYPE_VECTOR:
        hd->cb_mode = XSIM_CB_VECTOR;
        hd->cb_vector = (uint8_t)(val & 0xff);
        break;
    }
    set_entry_hooks(hd);
    /* Events already pending are delivered through the new path. */
    for (unsigned int i = 0; i < hd->nr_vcpus; i++) {
        if (hd->vcpus[i].vi != NULL && hd->vcpus[i].vi->evtchn_upcall_pending)
            xsim__hv_mark_events_pending(hd, i);
    }
}

static int param_check(struct xsim_hv_dom *hd, uint32_t index, uint64_t value)
{
    if (index >= HVM_NR_PARAMS)
        return -EINVAL;
    if (index == HVM_PARAM_CALLBACK_IRQ) {
        unsigned int type = (unsigned int)(value >> 56);
        if (value == 0)
            return 0;
        if (type > HVM_PARAM_CALLBACK_TYPE_VECTOR)
            return -EINVAL;
        if (type == HVM_PARAM_CALLBACK_TYPE_VECTOR &&
            (!hd->feat.hvm_callback_vector || (value & 0xff) < 0x10))
            return -EINVAL;
        if (type == HVM_PARAM_CALLBACK_TYPE_GSI &&
            ((value & 0xffffffffu) == 0 || (value & 0xffffffffu) >= XSIM_IOAPIC_PINS))
            return -EINVAL;
        if (type == HVM_PARAM_CALLBACK_TYPE_PCI_INTX &&
            (!hd->feat.platform_pci || ((value >> 8) & 0xff) != XSIM_PLATFORM_PCI_DEVFN))
            return -EINVAL;
    }
    return 0;
}

int xsim_hv_set_param(struct xsim_hv *hv, domid_t domid, uint32_t index, uint64_t value)
{
    struct xsim_hv_dom *hd = xsim__hv_dom(hv, domid);
    int rc;

    if (hd == NULL)
        return -ESRCH;
    rc = param_check(hd, index, value);
    if (rc != 0)
        return rc;
    hd->params[index] = value;
    if (index == HVM_PARAM_CALLBACK_IRQ)
        set_callback(hd, value);
    return 0;
}

int xsim_hv_get_param(struct xsim_hv *hv, domid_t domid, uint32_t index, uint64_t *value)
{
    struct xsim_hv_dom *hd = xsim__hv_dom(hv, domid);

    if (hd == NULL)
        return -ESRCH;
    if (index >= HVM_NR_PARAMS)
        return -EINVAL;
    *value = hd->params[index];
    return 0;
}

static long hvm_op(struct xsim_domain *d, struct xsim_vcpu *v, void *ctx, unsigned long cmd,
                   unsigned long arg, unsigned long a3, unsigned long a4, unsigned long a5)
{
    struct xsim_hv_dom *hd = xsim__hv_dom_of(d);
    struct xen_hvm_param p;
    struct xen_hvm_evtchn_upcall_vector uv;

    switch (cmd) {
    case HVMOP_set_param:
    case HVMOP_get_param:
        if (xsim__copy_from_guest(d, &p, arg, sizeof(p)) != 0)
            return -EFAULT;
        if (p.domid != DOMID_SELF && p.domid != hd->domid)
            return -EPERM;
        if (cmd == HVMOP_set_param)
            return xsim_hv_set_param(hd->hv, hd->domid, p.index, p.value);
        if (p.index >= HVM_NR_PARAMS)
            return -EINVAL;
        p.value = hd->params[p.index];
        return xsim__copy_to_guest(d, arg, &p, sizeof(p));
    case HVMOP_set_evtchn_upcall_vector:
        /* Simulates a Xen without the op when the feature is hidden. */
        if (!hd->feat.percpu_upcall_vector)
            return -ENOSYS;
        if (xsim__copy_from_guest(d, &uv, arg, sizeof(uv)) != 0)
            return -EFAULT;
        if (uv.vector < 0x10)
            return -EINVAL;
        if (uv.vcpu >= hd->nr_vcpus)
            return -ENOENT;
        /* Per vCPU: HVM_PARAM_CALLBACK_IRQ stays what it was, and governs
         * only the vCPUs without a vector of their own. */
        hd->vcpus[uv.vcpu].upcall_vector = uv.vector;
        if (hd->vcpus[uv.vcpu].vi != NULL && hd->vcpus[uv.vcpu].vi->evtchn_upcall_pending)
            xsim__hv_mark_events_pending(hd, uv.vcpu);
        return 0;
    default:
        return -ENOSYS;
    }
}

/* ---- VCPUOP ---- */

static long register_vcpu_info(struct xsim_hv_dom *hd, unsigned int vcpu, unsigned long arg)
{
    struct vcpu_register_vcpu_info r;
    struct xsim_hv_vcpu *hv = &hd->vcpus[vcpu];
    struct vcpu_info *nvi, *old = hv->vi;

    if (xsim__copy_from_guest(hd->d, &r, arg, sizeof(r)) != 0)
        return -EFAULT;
    if (r.offset > XEN_PAGE_SIZE - sizeof(struct vcpu_info) || r.rsvd != 0)
        return -EINVAL;
    nvi = xsim_domain_gfn_to_ptr(hd->d, r.mfn);
    if (nvi == NULL)
        return -EINVAL;
    nvi = (struct vcpu_info *)((uint8_t *)nvi + r.offset);
    if (nvi == old)
        return 0;
    /* Xen copies the current contents, then marks every selector bit so
     * that the guest rescans all words and nothing pending is lost. Unlike
     * Xen 4.17, a second registration is accepted (as KVM's emulation does)
     * and moves the area again. */
    if (old != NULL)
        memcpy(nvi, old, sizeof(*nvi));
    else
        memset(nvi, 0, sizeof(*nvi));
    hv->vi = nvi;
    hv->vi_registered = true;
    __atomic_store_n(&nvi->evtchn_pending_sel, ~(xen_ulong_t)0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&nvi->evtchn_upcall_pending, 1, __ATOMIC_SEQ_CST);
    xsim__hv_time_vcpu_info_moved(hd, vcpu);
    xsim__hv_mark_events_pending(hd, vcpu);
    return 0;
}

static long vcpu_op(struct xsim_domain *d, struct xsim_vcpu *v, void *ctx, unsigned long cmd,
                    unsigned long vcpuid, unsigned long arg, unsigned long a4, unsigned long a5)
{
    struct xsim_hv_dom *hd = xsim__hv_dom_of(d);

    if (vcpuid >= hd->nr_vcpus)
        return -ENOENT;
    switch (cmd) {
    case VCPUOP_register_vcpu_info:
        return register_vcpu_info(hd, (unsigned int)vcpuid, arg);
    case VCPUOP_is_up:
        return 1;
    default:
        return xsim__hv_vcpu_op_ext(hd, v, cmd, (unsigned int)vcpuid, arg);
    }
}

/* The deadline is the first argument (a 64-bit register on x86-64). The
 * timer is the calling vCPU's: Xen has no vCPU argument here. */
static long set_timer_op(struct xsim_domain *d, struct xsim_vcpu *v, void *ctx,
                         unsigned long timeout, unsigned long a2, unsigned long a3,
                         unsigned long a4, unsigned long a5)
{
    if (v == NULL || xsim_vcpu_domain(v) != d)
        return -EINVAL;
    return xsim__hv_set_timer_op(xsim__hv_dom_of(d), xsim_vcpu_id(v), (uint64_t)timeout);
}

/* ---- CPUID, MSRs, MMIO ---- */

static uint32_t cpuid_base(const struct xsim_hv_dom *hd)
{
    return hd->feat.viridian ? 0x40000100u : 0x40000000u;
}

static void hv_cpuid(struct xsim_domain *d, void *ctx, uint32_t leaf, uint32_t sub, uint32_t r[4])
{
    struct xsim_hv_dom *hd = xsim__hv_dom_of(d);
    uint32_t base = cpuid_base(hd);
    struct xsim_vcpu *v = xsim_vcpu_current();

    if (hd->feat.viridian && leaf == 0x40000000u) {
        /* A Viridian block first: "Microsoft Hv". */
        r[0] = 0x40000006u;
        r[1] = 0x7263694d;
        r[2] = 0x666f736f;
        r[3] = 0x76482074;
        return;
    }
    if (leaf < base || leaf >= base + XEN_CPUID_MAX_NUM_LEAVES)
        return;
    switch (leaf - base) {
    case 0:
        r[0] = base + XEN_CPUID_MAX_NUM_LEAVES - 1;
        r[1] = XEN_CPUID_SIGNATURE_EBX;
        r[2] = XEN_CPUID_SIGNATURE_ECX;
        r[3] = XEN_CPUID_SIGNATURE_EDX;
        break;
    case 1:
        r[0] = hd->feat.version;
        break;
    case 2:
        r[0] = 1;           /* one hypercall page */
        r[1] = 0x40000000u; /* installed through this MSR */
        break;
    case 4:
        r[0] = XEN_HVM_CPUID_VCPU_ID_PRESENT | XEN_HVM_CPUID_DOMID_PRESENT;
        if (hd->feat.apic_access_virt)
            r[0] |= XEN_HVM_CPUID_APIC_ACCESS_VIRT;
        if (hd->feat.x2apic_virt)
            r[0] |= XEN_HVM_CPUID_X2APIC_VIRT;
        if (hd->feat.percpu_upcall_vector)
            r[0] |= XEN_HVM_CPUID_UPCALL_VECTOR;
        r[1] = v != NULL ? xsim_vcpu_id(v) : 0;
        r[2] = hd->domid;
        break;
    default:
        break;
    }
}

static int hv_wrmsr(struct xsim_domain *d, void *ctx, uint32_t msr, uint64_t val)
{
    struct xsim_hv_dom *hd = xsim__hv_dom_of(d);
    struct xsim_vcpu *v = xsim_vcpu_current();
    struct xsim_world *w = xsim_domain_world(d);

    int rc = xsim__lapic_timer_wrmsr(hd, v, msr, val);
    if (rc != -ENOENT)
        return rc;
    if (xsim__lapic_msr(msr))
        return xsim__lapic_wrmsr(hd, v, msr, val);
    xsim_charge(v, XSIM_COST_EXIT_MSR, xsim_cost(w, XSIM_COST_EXIT_MSR));
    if (msr == cpuid_base(hd) - (hd->feat.viridian ? 0x100u : 0u)) {
        /* Hypercall page: the guest names a frame; Xen writes stubs into it. */
        if (xsim_domain_gfn_to_ptr(d, val >> 12) == NULL)
            return -EINVAL;
        hd->hypercall_page_gfn = val >> 12;
        return 0;
    }
    return -EINVAL;
}

static int hv_rdmsr(struct xsim_domain *d, void *ctx, uint32_t msr, uint64_t *val)
{
    struct xsim_hv_dom *hd = xsim__hv_dom_of(d);
    struct xsim_vcpu *v = xsim_vcpu_current();

    int rc = xsim__lapic_timer_rdmsr(hd, v, msr, val);
    if (rc != -ENOENT)
        return rc;
    if (xsim__lapic_msr(msr))
        return xsim__lapic_rdmsr(hd, v, msr, val);
    return -EINVAL;
}

static uint64_t hv_mmio_read(struct xsim_domain *d, void *ctx, uint64_t gpa, unsigned int size)
{
    struct xsim_hv_dom *hd = xsim__hv_dom_of(d);
    struct xsim_world *w = xsim_domain_world(d);

    xsim_charge(xsim_vcpu_current(), XSIM_COST_EXIT_MMIO, xsim_cost(w, XSIM_COST_EXIT_MMIO));
    if (gpa >= XSIM_IOAPIC_BASE && gpa < XSIM_IOAPIC_BASE + 0x20)
        return xsim__ioapic_read(hd, gpa - XSIM_IOAPIC_BASE, size);
    if (gpa >= XSIM_HPET_BASE && gpa < XSIM_HPET_BASE + 0x400)
        return xsim__hpet_read(hd, gpa - XSIM_HPET_BASE, size);
    return ~(uint64_t)0;
}

static void hv_mmio_write(struct xsim_domain *d, void *ctx, uint64_t gpa, unsigned int size,
                          uint64_t val)
{
    struct xsim_hv_dom *hd = xsim__hv_dom_of(d);
    struct xsim_world *w = xsim_domain_world(d);

    xsim_charge(xsim_vcpu_current(), XSIM_COST_EXIT_MMIO, xsim_cost(w, XSIM_COST_EXIT_MMIO));
    if (gpa >= XSIM_IOAPIC_BASE && gpa < XSIM_IOAPIC_BASE + 0x20)
        xsim__ioapic_write(hd, gpa - XSIM_IOAPIC_BASE, size, val);
    else if (gpa >= XSIM_HPET_BASE && gpa < XSIM_HPET_BASE + 0x400)
        xsim__hpet_write(hd, gpa - XSIM_HPET_BASE, size, val);
}

static void hv_eoi(struct xsim_vcpu *v, void *ctx, int vector, bool level)
{
    struct xsim_hv_dom *hd = xsim__hv_dom_of(xsim_vcpu_domain(v));

    if (hd == NULL)
        return;
    /* Xen deasserts the callback line at the top of every VM exit once
     * vCPU0's upcall_pending reads 0 (hvm_maybe_deassert_evtchn_irq), so
     * before this EOI's own processing: a guest that cleared upcall_pending
     * in its handler gets no re-delivery. A virtualized (edge) EOI is no
     * exit, but the next exit does the same, so do it here too. */
    if (xsim_vcpu_id(v) == 0 && (hd->cb_mode == XSIM_CB_GSI || hd->cb_mode == XSIM_CB_PCI_INTX) &&
        (hd->vcpus[0].upcall_vector == 0 || hd->vcpus[0].vi == NULL ||
         !__atomic_load_n(&hd->vcpus[0].vi->evtchn_upcall_pending, __ATOMIC_SEQ_CST)))
        xsim__hv_update_callback_level(hd);
    /* vlapic_handle_EOI: only a vector with its TMR bit set reaches the
     * vIOAPIC (vioapic_update_EOI). */
    if (level)
        xsim__ioapic_eoi(hd, vector);
}

/* ---- lifecycle ---- */

/* The event-channel callback entering the guest costs the guest's upcall
 * entry and exit (the profile's `upcall`), whichever way it was delivered. */
static void hv_deliver(struct xsim_vcpu *v, void *ctx, int vector)
{
    struct xsim_hv_dom *hd = xsim__hv_dom_of(xsim_vcpu_domain(v));
    unsigned int id = xsim_vcpu_id(v);
    bool cb = false;

    (void)ctx;
    if (hd == NULL || id >= hd->nr_vcpus)
        return;
    if (hd->vcpus[id].upcall_vector != 0 && vector == hd->vcpus[id].upcall_vector)
        cb = true;
    else switch (hd->cb_mode) {
    case XSIM_CB_PERCPU_VECTOR:
        break;
    case XSIM_CB_VECTOR:
        cb = vector == hd->cb_vector;
        break;
    case XSIM_CB_GSI:
    case XSIM_CB_PCI_INTX:
        cb = id == 0 && hd->cb_gsi < XSIM_IOAPIC_PINS &&
             (uint8_t)(hd->ioapic.redir[hd->cb_gsi] & 0xff) == vector;
        break;
    case XSIM_CB_NONE:
        break;
    }
    if (cb)
        xsim_charge(v, XSIM_COST_UPCALL, xsim_cost(hd->hv->w, XSIM_COST_UPCALL));
}

int xsim_hv_create(struct xsim_world *w, struct xsim_hv **out)
{
    struct xsim_hv *hv = calloc(1, sizeof(*hv));
    struct xsim_cpu_hooks hooks = {
        .cpuid = hv_cpuid,
        .rdmsr = hv_rdmsr,
        .wrmsr = hv_wrmsr,
        .mmio_read = hv_mmio_read,
        .mmio_write = hv_mmio_write,
        .eoi = hv_eoi,
        .deliver = hv_deliver,
        .rdtsc = xsim_hv_rdtsc, /* the guest's TSC follows the time model */
    };

    *out = NULL;
    if (hv == NULL)
        return -ENOMEM;
    hv->w = w;
    hv->serial = xsim_world_mode(w) != XSIM_MODE_FREE_RUN;
    hooks.ctx = hv;
    xsim_world_set_cpu_hooks(w, &hooks);
    xsim_world_set_hypercall(w, __HYPERVISOR_xen_version, version_op, hv);
    xsim_world_set_hypercall(w, __HYPERVISOR_memory_op, memory_op, hv);
    xsim_world_set_hypercall(w, __HYPERVISOR_hvm_op, hvm_op, hv);
    xsim_world_set_hypercall(w, __HYPERVISOR_vcpu_op, vcpu_op, hv);
    xsim_world_set_hypercall(w, __HYPERVISOR_set_timer_op, set_timer_op, hv);
    xsim_world_set_hypercall(w, __HYPERVISOR_event_channel_op, xsim__hv_evtchn_op, hv);
    xsim_world_set_hypercall(w, __HYPERVISOR_sched_op, xsim__hv_sched_op, hv);
    xsim_world_set_hypercall(w, __HYPERVISOR_grant_table_op, xsim__hv_gnttab_op, hv);
    *out = hv;
    return 0;
}

void xsim_hv_destroy(struct xsim_hv *hv)
{
    if (hv == NULL)
        return;
    for (unsigned int i = 0; i < hv->ndoms; i++) {
        xsim__hv_time_domain_free(hv->doms[i]);
        xsim__hv_gnttab_free(hv->doms[i]);
        xsim__hv_fifo_destroy(hv->doms[i]);
        free(hv->doms[i]->si_private);
        xsim__zfree(hv->doms[i]->ports, XSIM_HV_NR_PORTS * sizeof(*hv->doms[i]->ports));
        free(hv->doms[i]->vcpus);
        free(hv->doms[i]);
    }
    free(hv);
}

int xsim_hv_add_domain(struct xsim_hv *hv, struct xsim_domain *d, const struct xsim_hv_features *f)
{
    struct xsim_hv_dom *hd;
    unsigned int n = xsim_domain_nr_vcpus(d);

    if (hv->ndoms == XSIM_HV_MAX_DOMS || xsim__hv_dom(hv, xsim_domain_id(d)) != NULL)
        return -EINVAL;
    hd = calloc(1, sizeof(*hd));
    if (hd == NULL)
        return -ENOMEM;
    hd->si_private = aligned_alloc(XEN_PAGE_SIZE, XEN_PAGE_SIZE);
    hd->vcpus = calloc(n ? n : 1, sizeof(*hd->vcpus));
    /* The whole FIFO port range; pages never touched are never backed. */
    hd->ports = xsim__zalloc(XSIM_HV_NR_PORTS * sizeof(*hd->ports));
    if (hd->si_private == NULL || hd->vcpus == NULL || hd->ports == NULL) {
        free(hd->si_private);
        xsim__zfree(hd->ports, XSIM_HV_NR_PORTS * sizeof(*hd->ports));
        free(hd->vcpus);
        free(hd);
        return -ENOMEM;
    }
    memset(hd->si_private, 0, XEN_PAGE_SIZE);
    hd->hv = hv;
    hd->d = d;
    hd->domid = xsim_domain_id(d);
    if (f != NULL)
        hd->feat = *f;
    else
        xsim_hv_features_default(&hd->feat);
    hd->si = hd->si_private;
    hd->nr_vcpus = n;
    hd->shutdown_reason = -1;
    for (unsigned int i = 0; i < n; i++)
        hd->vcpus[i].v = xsim_domain_vcpu(d, i);
    set_entry_hooks(hd);
    point_vcpu_infos(hd);
    /* Port 0 is reserved, as in Xen. */
    hd->ports[0].state = 0xff;
    /* IOAPIC pins start masked. */
    for (unsigned int i = 0; i < XSIM_IOAPIC_PINS; i++)
        hd->ioapic.redir[i] = (uint64_t)1 << 16;
    xsim_domain_set_hv(d, hd);
    hv->doms[hv->ndoms++] = hd;
    return xsim__hv_time_domain_init(hd);
}

enum xsim_callback_mode xsim_hv_callback_mode(struct xsim_hv *hv, domid_t domid)
{
    struct xsim_hv_dom *hd = xsim__hv_dom(hv, domid);

    if (hd == NULL)
        return XSIM_CB_NONE;
    /* Any vCPU with its own upcall vector: the guest took the per-vCPU
     * path (the parameter may still hold a flag value). */
    for (unsigned int i = 0; i < hd->nr_vcpus; i++) {
        if (hd->vcpus[i].upcall_vector != 0)
            return XSIM_CB_PERCPU_VECTOR;
    }
    return hd->cb_mode;
}

uint8_t xsim_hv_callback_vector(struct xsim_hv *hv, domid_t domid, unsigned int vcpu)
{
    struct xsim_hv_dom *hd = xsim__hv_dom(hv, domid);

    if (hd == NULL || vcpu >= hd->nr_vcpus)
        return 0;
    return hd->vcpus[vcpu].upcall_vector != 0 ? hd->vcpus[vcpu].upcall_vector : hd->cb_vector;
}

struct shared_info *xsim_hv_shared_info(struct xsim_hv *hv, domid_t domid)
{
    struct xsim_hv_dom *hd = xsim__hv_dom(hv, domid);

    return hd != NULL ? hd->si : NULL;
}

struct vcpu_info *xsim_hv_vcpu_info(struct xsim_hv *hv, domid_t domid, unsigned int vcpu)
{
    struct xsim_hv_dom *hd = xsim__hv_dom(hv, domid);

    if (hd == NULL || vcpu >= hd->nr_vcpus)
        return NULL;
    return hd->vcpus[vcpu].vi;
}

const char *xsim_hv_evtchn_abi(struct xsim_hv *hv, domid_t domid)
{
    struct xsim_hv_dom *hd = xsim__hv_dom(hv, domid);

    return hd != NULL && hd->fifo != NULL ? "fifo" : "2-level";
}

int xsim_hv_shutdown_reason(struct xsim_hv *hv, domid_t domid)
{
    struct xsim_hv_dom *hd = xsim__hv_dom(hv, domid);

    return hd != NULL ? hd->shutdown_reason : -1;
}

int xsim_hv_set_notify(struct xsim_hv *hv, domid_t domid, xsim_hv_notify_fn fn, void *arg)
{
    struct xsim_hv_dom *hd = xsim__hv_dom(hv, domid);

    if (hd == NULL)
        return -ESRCH;
    hd->notify = fn;
    hd->notify_arg = arg;
    return 0;
}

void xsim_hv_set_shutdown_hook(struct xsim_hv *hv, xsim_hv_shutdown_fn fn, void *arg)
{
    hv->shutdown_fn = fn;
    hv->shutdown_arg = arg;
}

/* ---- suspend, resume, migration ---- */

bool xsim_hv_domain_suspended(struct xsim_hv *hv, domid_t domid)
{
    struct xsim_hv_dom *hd = xsim__hv_dom(hv, domid);

    return hd != NULL && hd->suspended;
}

int xsim_hv_domain_resume(struct xsim_hv *hv, domid_t domid, int rc)
{
    struct xsim_hv_dom *hd = xsim__hv_dom(hv, domid);

    if (hd == NULL)
        return -ESRCH;
    if (!hd->suspended || hd->suspend_vcpu >= hd->nr_vcpus)
        return -EINVAL;
    hd->resume_rc = rc;
    hd->suspended = false;
    /* The blocked vCPU re-checks its condition and returns rc. */
    xsim_vcpu_kick(hd->vcpus[hd->suspend_vcpu].v);
    return 0;
}

int xsim_hv_domain_migrate(struct xsim_hv *hv, domid_t domid, const struct xsim_hv_features *f)
{
    struct xsim_hv_dom *hd = xsim__hv_dom(hv, domid);

    if (hd == NULL)
        return -ESRCH;
    if (!hd->suspended)
        return -EINVAL;
    /* Every port closed: interdomain peers go back to unbound, waiting
     * for the guest to bind again (as a peer sees a restored domain). */
    xsim__hv_evtchn_close_all(hd);
    /* A restored domain starts on the 2-level ABI: no control block, no
     * event array (the guest initialises FIFO again, or falls back). */
    xsim__hv_fifo_destroy(hd);
    /* The callback line is gone with the callback. */
    if (hd->cb_mode == XSIM_CB_GSI || hd->cb_mode == XSIM_CB_PCI_INTX) {
        if (hd->cb_gsi < XSIM_IOAPIC_PINS)
            xsim__ioapic_set_level(hd, hd->cb_gsi, false);
    }
    for (unsigned int i = 0; i < hd->nr_vcpus; i++) {
        struct xsim_hv_vcpu *hv_v = &hd->vcpus[i];
        if (hd->cb_mode == XSIM_CB_VECTOR)
            xsim_vcpu_lower(hv_v->v, hd->cb_vector);
        if (hv_v->upcall_vector != 0)
            xsim_vcpu_lower(hv_v->v, hv_v->upcall_vector);
        hv_v->upcall_vector = 0;
        hv_v->vi_registered = false;
        hv_v->vi = NULL;
        memset(hv_v->virq_port, 0, sizeof(hv_v->virq_port));
    }
    hd->cb_mode = XSIM_CB_NONE;
    set_entry_hooks(hd);
    hd->cb_gsi = 0;
    hd->cb_vector = 0;
    hd->params[HVM_PARAM_CALLBACK_IRQ] = 0;
    /* A fresh shared_info, not mapped anywhere until the guest maps it. */
    memset(hd->si_private, 0, XEN_PAGE_SIZE);
    hd->si = hd->si_private;
    hd->si_gfn = 0;
    point_vcpu_infos(hd);
    xsim__hv_time_reset_timers(hd);
    /* The grant table starts empty: no frames placed. */
    xsim__hv_gnttab_free(hd);
    if (f != NULL)
        hd->feat = *f;
    xsim_trace(hv->w, XSIM_TR_HV, 0x22 /* migrated */, domid, 0);
    return 0;
}
