/*
 * hpet.c - the emulated HPET at XSIM_HPET_BASE, after Xen's vHPET
 * (xen/arch/x86/hvm/hpet.c) and the IA-PC HPET specification 1.0a: a
 * 64-bit main counter ticking every 16 ns while enabled, and (by default 3)
 * one-shot comparators, each routed to an IOAPIC pin (20-23, Xen's route
 * capability) or, in legacy replacement mode, timer 0 to pin 2 and timer 1
 * to pin 8. Edge-triggered comparators pulse their pin; level-triggered ones
 * hold it until the guest clears their bit in the interrupt status register.
 *
 * Simplifications, each what a guest's one-shot use never notices:
 * no periodic mode (Tn_PER_INT_CAP reads 0), no FSB delivery
 * (Tn_FSB_INT_DEL_CAP reads 0). A comparator written behind the counter
 * fires at once in 64-bit mode and, in 32-bit mode, when it is behind by
 * less than ~1 ms (later ones wait for the wrap), as Xen's vHPET does; a
 * value that fired does not fire again on other configuration writes.
 *
 * Each access is an MMIO exit, charged by the caller (hv.c). State: one
 * flat allocation per domain, made on first access and freed by the time
 * model with the domain.
 */
#include <stdlib.h>

#include "xensim/time.h"

#include "hv/hv_internal.h"

#define HPET_ID         0x000
#define HPET_CFG        0x010
#define HPET_STATUS     0x020
#define HPET_COUNTER    0x0f0
#define HPET_TN_FIRST   0x100
#define HPET_TN_STRIDE  0x20
#define HPET_TN_CFG     0x00
#define HPET_TN_CMP     0x08
#define HPET_TN_FSB     0x10
#define CFG_ENABLE      1ull
#define CFG_LEGACY      2ull
#define TN_LEVEL        (1ull << 1)
#define TN_ENABLE       (1ull << 2)
#define TN_SIZE_CAP     (1ull << 5)
#define TN_32BIT        (1ull << 8)
#define TN_ROUTE_SHIFT  9
#define TN_ROUTE_MASK   (31ull << TN_ROUTE_SHIFT)
#define TN_WRITABLE     (TN_LEVEL | TN_ENABLE | TN_32BIT | TN_ROUTE_MASK)
#define TN_ROUTE_CAP    0x00f00000ull /* IOAPIC pins 20..23 */
#define ID_VENDOR_INTEL (0x8086ull << 16)
#define ID_LEGACY_CAP   (1ull << 15)
#define ID_COUNT_64     (1ull << 13)
#define ID_REV          1ull
#define TICK_NS         (XSIM_TIME_HPET_PERIOD_FS / 1000000ull) /* 16 */
#define TINY_SPAN_TICKS (1000000ull / TICK_NS) /* ~1 ms, Xen's HPET_TINY_TIME_SPAN */
#define KIND_HPET       0x48504554u            /* HPET */
#define TR_HPET         0x14                   /* b = timer, c = pin */

struct hpet;

struct hpet_timer {
    struct hpet *h;
    unsigned int n;
    uint64_t cfg;
    uint64_t cmp;
    uint64_t fsb;
    uint64_t event;
    bool matched; /* this comparator value already fired */
};

struct hpet {
    struct xsim_hv_dom *hd;
    unsigned int ntimers;
    uint64_t cfg;
    uint64_t status;
    uint64_t counter; /* main counter at base_ns (its value while stopped) */
    uint64_t base_ns;
    struct hpet_timer t[XSIM_TIME_HPET_MAX];
};

static struct xsim_world *world(const struct hpet *h)
{
    return h->hd->hv->w;
}

static struct hpet *state(struct xsim_hv_dom *hd)
{
    struct xsim_hv_time_config cfg;
    struct hpet *h = hd->hpet;

    if (xsim_hv_time_get_config(hd->hv, hd->domid, &cfg) != 0 || !cfg.hpet)
        return NULL; /* no device: reads float high, writes vanish */
    if (h != NULL)
        return h;
    h = calloc(1, sizeof(*h));
    if (h == NULL)
        return NULL;
    h->hd = hd;
    h->ntimers = cfg.hpet_timers;
    for (unsigned int i = 0; i < h->ntimers; i++) {
        h->t[i].h = h;
        h->t[i].n = i;
        h->t[i].cfg = TN_SIZE_CAP | (TN_ROUTE_CAP << 32);
        h->t[i].cmp = ~0ull;
    }
    hd->hpet = h;
    return h;
}

static uint64_t counter_at(const struct hpet *h, uint64_t now)
{
    if (!(h->cfg & CFG_ENABLE))
        return h->counter;
    return h->counter + (now - h->base_ns) / TICK_NS;
}

static unsigned int pin_of(const struct hpet_timer *tn)
{
    if ((tn->h->cfg & CFG_LEGACY) && tn->n < 2)
        return tn->n == 0 ? 2 : 8; /* IRQ0 (ISA override to pin 2) and IRQ8 */
    return (unsigned int)((tn->cfg & TN_ROUTE_MASK) >> TN_ROUTE_SHIFT);
}

static bool pin_allowed(const struct hpet_timer *tn, unsigned int pin)
{
    if ((tn->h->cfg & CFG_LEGACY) && tn->n < 2)
        return true;
    return ((TN_ROUTE_CAP >> pin) & 1) != 0;
}

static void fire(struct xsim_world *w, void *arg)
{
    struct hpet_timer *tn = arg;
    struct hpet *h = tn->h;
    unsigned int pin = pin_of(tn);

    tn->event = 0;
    if (!(tn->cfg & TN_ENABLE) || !(h->cfg & CFG_ENABLE) || !pin_allowed(tn, pin))
        return;
    tn->matched = true;
    xsim_trace(w, XSIM_TR_HV, TR_HPET, tn->n, pin);
    if (tn->cfg & TN_LEVEL) {
        /* Held until the guest writes 1 to the status bit. */
        h->status |= 1ull << tn->n;
        xsim__ioapic_set_level(h->hd, pin, true);
    } else {
        xsim__ioapic_set_level(h->hd, pin, true);
        xsim__ioapic_set_level(h->hd, pin, false);
    }
}

/* (Re)compute when comparator n matches; nothing while stopped, and
 * nothing more for a comparator value that already fired (until the guest
 * writes a new one, re-enables the timer or restarts the counter). */
static void arm(struct hpet_timer *tn)
{
    struct hpet *h = tn->h;
    uint64_t now = xsim_world_now(world(h)), cnt, ticks, when;

    if (tn->event != 0)
        xsim_event_cancel(world(h), tn->event);
    tn->event = 0;
    if (!(tn->cfg & TN_ENABLE) || !(h->cfg & CFG_ENABLE) || tn->matched)
        return;
    cnt = counter_at(h, now);
    if (tn->cfg & TN_32BIT) {
        uint32_t diff = (uint32_t)tn->cmp - (uint32_t)cnt;
        /* Just behind: fire now; further behind: wait for the wrap. */
        ticks = (uint32_t)(0u - diff) < TINY_SPAN_TICKS ? 0 : diff;
    } else {
        ticks = tn->cmp > cnt ? tn->cmp - cnt : 0;
    }
    if (ticks > (UINT64_MAX - now) / TICK_NS)
        return; /* beyond the end of time */
    /* The match happens at a tick boundary, not at `now`. */
    when = ticks == 0 ? now : now - (now - h->base_ns) % TICK_NS + ticks * TICK_NS;
    tn->event = xsim_event_schedule(world(h), when, KIND_HPET, fire, tn);
}

static void arm_all(struct hpet *h)
{
    for (unsigned int i = 0; i < h->ntimers; i++)
        arm(&h->t[i]);
}

static uint64_t read_reg(struct hpet *h, uint64_t reg)
{
    uint64_t now = xsim_world_now(world(h));

    switch (reg) {
    case HPET_ID:
        return (XSIM_TIME_HPET_PERIOD_FS << 32) | ID_VENDOR_INTEL | ID_LEGACY_CAP | ID_COUNT_64 |
               ((uint64_t)(h->ntimers - 1) << 8) | ID_REV;
    case HPET_CFG:
        return h->cfg;
    case HPET_STATUS:
        return h->status;
    case HPET_COUNTER:
        return counter_at(h, now);
    }
    if (reg >= HPET_TN_FIRST && reg < HPET_TN_FIRST + h->ntimers * HPET_TN_STRIDE) {
        const struct hpet_timer *tn = &h->t[(reg - HPET_TN_FIRST) / HPET_TN_STRIDE];
        switch ((reg - HPET_TN_FIRST) % HPET_TN_STRIDE) {
        case HPET_TN_CFG:
            return tn->cfg;
        case HPET_TN_CMP:
            return (tn->cfg & TN_32BIT) ? (uint32_t)tn->cmp : tn->cmp;
        case HPET_TN_FSB:
            return tn->fsb;
        }
    }
    return 0; /* reserved registers read 0 */
}

static void write_cfg(struct hpet *h, uint64_t val)
{
    uint64_t now = xsim_world_now(world(h)), old = h->cfg;
    unsigned int pins[2];

    /* Freeze or restart the counter where it stands. */
    h->counter = counter_at(h, now);
    h->base_ns = now;
    for (unsigned int i = 0; i < 2 && i < h->ntimers; i++)
        pins[i] = pin_of(&h->t[i]);
    h->cfg = val & (CFG_ENABLE | CFG_LEGACY);
    if (!(old & CFG_ENABLE) && (h->cfg & CFG_ENABLE)) {
        for (unsigned int i = 0; i < h->ntimers; i++)
            h->t[i].matched = false; /* a restarted counter compares afresh */
    }
    /* A level-triggered comparator moved by the legacy switch lets go of
     * its old pin. */
    for (unsigned int i = 0; i < 2 && i < h->ntimers; i++) {
        if (((old ^ h->cfg) & CFG_LEGACY) && (h->status >> i) & 1)
            xsim__ioapic_set_level(h->hd, pins[i], false);
    }
    arm_all(h);
}

static void write_status(struct hpet *h, uint64_t val)
{
    /* Write 1 to clear; the level line of that comparator drops. */
    for (unsigned int i = 0; i < h->ntimers; i++) {
        if (((val & h->status) >> i) & 1) {
            h->status &= ~(1ull << i);
            xsim__ioapic_set_level(h->hd, pin_of(&h->t[i]), false);
        }
    }
}

static void write_timer(struct hpet *h, uint64_t reg, uint64_t val)
{
    struct hpet_timer *tn = &h->t[(reg - HPET_TN_FIRST) / HPET_TN_STRIDE];

    switch ((reg - HPET_TN_FIRST) % HPET_TN_STRIDE) {
    case HPET_TN_CFG: {
        unsigned int old_pin = pin_of(tn);
        if (((h->status >> tn->n) & 1) && !(val & TN_LEVEL)) {
            /* Leaving level mode releases the line. */
            h->status &= ~(1ull << tn->n);
            xsim__ioapic_set_level(h->hd, old_pin, false);
        }
        if (!(tn->cfg & TN_ENABLE) && (val & TN_ENABLE))
            tn->matched = false;
        tn->cfg = (tn->cfg & ~TN_WRITABLE) | (val & TN_WRITABLE);
        if (tn->cfg & TN_32BIT)
            tn->cmp = (uint32_t)tn->cmp;
        arm(tn);
        return;
    }
    case HPET_TN_CMP:
        tn->cmp = (tn->cfg & TN_32BIT) ? (uint32_t)val : val;
        tn->matched = false;
        arm(tn);
        return;
    case HPET_TN_FSB:
        tn->fsb = val;
        return;
    }
}

static void write_reg(struct hpet *h, uint64_t reg, uint64_t val)
{
    switch (reg) {
    case HPET_CFG:
        write_cfg(h, val);
        return;
    case HPET_STATUS:
        write_status(h, val);
        return;
    case HPET_COUNTER:
        /* Writable only while stopped (spec 2.3.4). */
        if (!(h->cfg & CFG_ENABLE)) {
            h->counter = val;
            for (unsigned int i = 0; i < h->ntimers; i++)
                h->t[i].matched = false;
            arm_all(h);
        }
        return;
    }
    if (reg >= HPET_TN_FIRST && reg < HPET_TN_FIRST + h->ntimers * HPET_TN_STRIDE)
        write_timer(h, reg, val);
}

uint64_t xsim__hpet_read(struct xsim_hv_dom *hd, uint64_t off, unsigned int size)
{
    struct hpet *h = state(hd);
    uint64_t v;

    if (h == NULL || !((size == 8 && (off & 7) == 0) || (size == 4 && (off & 3) == 0)))
        return ~(uint64_t)0;
    v = read_reg(h, off & ~7ull);
    if (size == 4)
        v = (off & 4) ? v >> 32 : (uint32_t)v;
    return v;
}

void xsim__hpet_write(struct xsim_hv_dom *hd, uint64_t off, unsigned int size, uint64_t val)
{
    struct hpet *h = state(hd);
    uint64_t reg = off & ~7ull;

    if (h == NULL || !((size == 8 && (off & 7) == 0) || (size == 4 && (off & 3) == 0)))
        return;
    if (size == 4) {
        /* A 32-bit write replaces one half of the 64-bit register. */
        uint64_t cur = read_reg(h, reg);
        if (reg == HPET_STATUS)
            cur = 0; /* write-1-to-clear: the other half clears nothing */
        val = (off & 4) ? (cur & 0xffffffffull) | ((uint64_t)(uint32_t)val << 32)
                        : (cur & ~0xffffffffull) | (uint32_t)val;
    }
    write_reg(h, reg, val);
}
