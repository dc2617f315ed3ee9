/*
 * lapic.c - the x2APIC MSR interface of the emulated local APIC: ID, EOI,
 * ICR (fixed IPIs with destination or shorthand) and SELF_IPI. Without
 * APIC virtualization each write is a WRMSR exit. With APICv (cost profile)
 * Xen 4.17 stops intercepting writes to TPR, EOI and SELF_IPI only
 * (vmx_vlapic_msr_changed): a self-IPI completes in the processor, while an
 * ICR write still exits and is emulated (vlapic_ipi). Each target gets the
 * vector through vlapic_set_irq: a running target is kicked (an
 * external-interrupt exit) unless posted interrupts deliver it.
 */
#include <errno.h>

#include "xensim/cost.h"

#include "hv/hv_internal.h"
#include "xensim/abi/apic.h"


bool xsim__lapic_msr(uint32_t msr)
{
    return msr >= X2APIC_MSR_FIRST && msr <= X2APIC_MSR_LAST;
}

static void send_ipi(struct xsim_hv_dom *hd, struct xsim_vcpu *src, uint8_t vector,
                     unsigned int shorthand, unsigned int dest)
{
    struct xsim_world *w = hd->hv->w;
    unsigned int self = xsim_vcpu_id(src);

    for (unsigned int i = 0; i < hd->nr_vcpus; i++) {
        bool hit;
        switch (shorthand) {
        case 1:
            hit = i == self;
            break; /* self */
        case 2:
            hit = true;
            break; /* all including self */
        case 3:
            hit = i != self;
            break; /* all excluding self */
        default:
            hit = i == dest;
            break; /* physical destination */
        }
        if (!hit)
            continue;
        xsim_trace(w, XSIM_TR_HV, 4 /* lapic ipi */, i, vector);
        /* vlapic_accept_irq: fixed delivery is edge-triggered. */
        xsim_vcpu_raise_flags(hd->vcpus[i].v, vector, XSIM_IRQ_POSTABLE);
    }
}

int xsim__lapic_wrmsr(struct xsim_hv_dom *hd, struct xsim_vcpu *v, uint32_t msr, uint64_t val)
{
    struct xsim_world *w = hd->hv->w;
    bool apicv = false;
    uint64_t exit_ns = xsim_cost(w, XSIM_COST_EXIT_MSR);

    if (v == NULL)
        return -EINVAL;
    apicv = xsim_world_costs(w)->apicv;
    switch (msr) {
    case X2APIC_MSR_EOI:
        /* Same as the platform's eoi op. */
        return -EINVAL;
    case X2APIC_MSR_SELF_IPI:
        /* Self-IPI virtualization (Intel SDM vol. 3C 29.1.5): no exit. */
        if (!apicv)
            xsim_charge(v, XSIM_COST_EXIT_MSR, exit_ns);
        send_ipi(hd, v, (uint8_t)val, 1, 0);
        return 0;
    case X2APIC_MSR_ICR: {
        unsigned int shorthand =
            (unsigned int)(val >> APIC_ICR_SHORTHAND_SHIFT) & APIC_ICR_SHORTHAND_MASK;
        unsigned int mode = (unsigned int)(val >> APIC_ICR_MODE_SHIFT) & APIC_ICR_MODE_MASK;
        if (mode != APIC_ICR_MODE_FIXED)
            return -EINVAL; /* only fixed delivery is modelled */
        /* Intercepted with or without APICv: Xen 4.17 has no IPI
         * virtualization. */
        xsim_charge(v, XSIM_COST_EXIT_MSR, exit_ns);
        send_ipi(hd, v, (uint8_t)val, shorthand, (unsigned int)(val >> APIC_ICR_DEST_SHIFT));
        return 0;
    }
    default:
        xsim_charge(v, XSIM_COST_EXIT_MSR, exit_ns);
        return -EINVAL;
    }
}

int xsim__lapic_rdmsr(struct xsim_hv_dom *hd, struct xsim_vcpu *v, uint32_t msr, uint64_t *val)
{
    if (v == NULL)
        return -EINVAL;
    if (msr == X2APIC_MSR_ID) {
        *val = xsim_vcpu_id(v);
        return 0;
    }
    return -EINVAL;
}
