/*
 * ioapic.c - the emulated IOAPIC: 48 pins as Xen's vIOAPIC, redirection
 * entries programmed through IOREGSEL/IOWIN (each access an MMIO exit,
 * charged by the caller), level-triggered pins with remote IRR. It carries
 * the GSI / platform-PCI-INTx event callback from vCPU0's upcall_pending to
 * vCPU0's local APIC.
 */
#include "hv/hv_internal.h"

#define RTE_VECTOR(r)   ((uint8_t)((r)&0xff))
#define RTE_REMOTE_IRR  ((uint64_t)1 << 14)
#define RTE_LEVEL       ((uint64_t)1 << 15)
#define RTE_MASKED      ((uint64_t)1 << 16)
#define RTE_DEST(r)     ((unsigned int)((r) >> 56))
#define IOAPIC_REG_ID   0x00
#define IOAPIC_REG_VER  0x01
#define IOAPIC_REG_RTE0 0x10

static struct xsim_vcpu *dest_vcpu(struct xsim_hv_dom *hd, uint64_t rte)
{
    unsigned int dest = RTE_DEST(rte);

    return dest < hd->nr_vcpus ? hd->vcpus[dest].v : NULL;
}

/* Deliver a pin if its line is high, unmasked and not already in service. */
static void service(struct xsim_hv_dom *hd, unsigned int pin)
{
    struct xsim_ioapic *io = &hd->ioapic;
    uint64_t rte = io->redir[pin];
    struct xsim_vcpu *v;

    if (!io->level[pin] || (rte & RTE_MASKED) || RTE_VECTOR(rte) < 0x10)
        return;
    if ((rte & RTE_LEVEL) && (rte & RTE_REMOTE_IRR))
        return;
    v = dest_vcpu(hd, rte);
    if (v == NULL)
        return;
    if (rte & RTE_LEVEL)
        io->redir[pin] |= RTE_REMOTE_IRR;
    /* ioapic_inj_irq -> vlapic_set_irq with the pin's trigger mode: a
     * level-triggered vector gets its TMR (and, with APICv, EOI-exit
     * bitmap) bit, and like any vlapic vector it can be posted. The
     * routing work runs in the asserting context and is part of that
     * context's own cost (a hypercall, a timer). */
    xsim_vcpu_raise_flags(v, RTE_VECTOR(rte),
                          XSIM_IRQ_POSTABLE | ((rte & RTE_LEVEL) ? XSIM_IRQ_LEVEL : 0));
}

void xsim__ioapic_set_level(struct xsim_hv_dom *hd, unsigned int pin, bool level)
{
    struct xsim_ioapic *io = &hd->ioapic;

    if (pin >= XSIM_IOAPIC_PINS)
        return;
    if (io->level[pin] == level)
        return;
    io->level[pin] = level;
    xsim_trace(hd->hv->w, XSIM_TR_HV, 3 /* line */, pin, level);
    if (level)
        service(hd, pin);
}

void xsim__ioapic_eoi(struct xsim_hv_dom *hd, int vector)
{
    struct xsim_ioapic *io = &hd->ioapic;
    struct xsim_vcpu *v = xsim_vcpu_current();

    /* vioapic_update_EOI: one pass over the pins, charged once per EOI. */
    xsim_charge(v, XSIM_COST_IOAPIC, xsim_cost(hd->hv->w, XSIM_COST_IOAPIC));
    for (unsigned int pin = 0; pin < XSIM_IOAPIC_PINS; pin++) {
        uint64_t rte = io->redir[pin];
        if (!(rte & RTE_REMOTE_IRR) || RTE_VECTOR(rte) != vector)
            continue;
        /* Clear remote IRR and re-deliver if the line is still asserted
         * (the guest left upcall_pending set). */
        io->redir[pin] &= ~RTE_REMOTE_IRR;
        service(hd, pin);
    }
}

uint64_t xsim__ioapic_read(struct xsim_hv_dom *hd, uint64_t off, unsigned int size)
{
    struct xsim_ioapic *io = &hd->ioapic;
    uint32_t reg = io->regsel;

    if (off == 0x00)
        return io->regsel;
    if (off != 0x10)
        return ~(uint64_t)0;
    if (reg == IOAPIC_REG_ID)
        return 0;
    if (reg == IOAPIC_REG_VER)
        return 0x11 | ((uint32_t)(XSIM_IOAPIC_PINS - 1) << 16);
    if (reg >= IOAPIC_REG_RTE0 && reg < IOAPIC_REG_RTE0 + 2 * XSIM_IOAPIC_PINS) {
        uint64_t rte = io->redir[(reg - IOAPIC_REG_RTE0) / 2];
        return (reg & 1) ? (uint32_t)(rte >> 32) : (uint32_t)rte;
    }
    return ~(uint64_t)0;
}

void xsim__ioapic_write(struct xsim_hv_dom *hd, uint64_t off, unsigned int size, uint64_t val)
{
    struct xsim_ioapic *io = &hd->ioapic;
    uint32_t reg = io->regsel;

    if (off == 0x00) {
        io->regsel = (uint32_t)val & 0xff;
        return;
    }
    if (off != 0x10 || reg < IOAPIC_REG_RTE0 || reg >= IOAPIC_REG_RTE0 + 2 * XSIM_IOAPIC_PINS)
        return;
    unsigned int pin = (reg - IOAPIC_REG_RTE0) / 2;
    uint64_t rte = io->redir[pin];
    if (reg & 1) {
        rte = (rte & 0xffffffffull) | ((uint64_t)(uint32_t)val << 32);
    } else {
        /* Remote IRR (bit 14) and delivery status (bit 12) are read-only. */
        uint64_t ro = (1u << 14) | (1u << 12);
        rte = (rte & ~0xffffffffull) | (rte & ro) | ((uint32_t)val & ~ro);
    }
    io->redir[pin] = rte;
    service(hd, pin);
}
