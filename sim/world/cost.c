/*
 * cost.c - cost profiles: the built-in default (the profile "haswell-xen44",
 * each figure with its source), setting and reading figures by name, and
 * where the shipped profiles live. Loading and resolving profile files
 * (JSON) is in cost_load.c, so that this file needs no JSON library.
 */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "xensim/cost.h"
#include "xensim/world.h"

#include "world/cost_internal.h"

#ifndef XENSIM_PROFILE_DIR_DEFAULT
#define XENSIM_PROFILE_DIR_DEFAULT "sim/profiles"
#endif
/* Where `cmake --install` puts the profiles (<datadir>/xensim/profiles). */
#ifndef XENSIM_PROFILE_DIR_INSTALLED
#define XENSIM_PROFILE_DIR_INSTALLED XENSIM_PROFILE_DIR_DEFAULT
#endif

/* The named extras hardware models ask for (xsim_cost_named callers). */
static const char *const extra_names[] = {
    "spin", /* world.c: one turn of a guest wait loop */
};
_Static_assert(sizeof(extra_names) / sizeof(extra_names[0]) <= XSIM_COST_MAX_NAMED,
               "too many named extras");
_Static_assert(sizeof(extra_names) / sizeof(extra_names[0]) == XSIM__COST_EXTRAS,
               "cost_internal.h counts the named extras");

struct default_cost {
    const char *name;
    uint64_t ns;
    const char *source;
};

/* The built-in default. Keep equal to sim/profiles/haswell-xen44.json:
 * test_cost_profile compares them value by value. */
static const struct default_cost default_costs[] = {
    {"point", 1,
     "estimate: one access to a cache line shared with Xen or another vCPU, hitting "
     "in L1/L2, a few cycles; 1 ns so that scheduling points advance time"},
    {"hypercall", 600,
     "estimate: 1,500 cycles at an assumed 2.5 GHz = 600 ns. Xen 4.4 code path: "
     "VMCALL exit, vmx_vmexit_handler -> hvm_do_hypercall -> a short event-channel or "
     "vCPU op, VM entry; a light exit plus about 250 cycles of dispatch. Anchor: a "
     "light exit round trip taken as 1,250 cycles, under the ~2,000-cycle Nehalem "
     "world switch in SplitX (WIOV 2011, Table 1); no figure for this core found"},
    {"exit_msr", 600,
     "estimate: 1,500 cycles at an assumed 2.5 GHz = 600 ns. Xen 4.4 code path: "
     "WRMSR/RDMSR exit, hvm_msr_write_intercept -> the vLAPIC's register write "
     "(x2APIC ICR -> vlapic_ipi, TSC deadline); a light exit plus about 250 cycles. "
     "Anchor: a light exit round trip taken as 1,250 cycles, under the ~2,000-cycle "
     "Nehalem world switch in SplitX (WIOV 2011, Table 1); no figure for this core "
     "found"},
    {"exit_mmio", 2000,
     "estimate: 5,000 cycles at an assumed 2.5 GHz = 2000 ns. Xen 4.4 code path: EPT "
     "misconfiguration exit, handle_mmio -> hvm_emulate_one (fetch and x86_emulate "
     "decode) -> hvm_io_intercept (HPET, vIOAPIC); a light exit plus about 3,750 "
     "cycles of decode and emulation. Anchor: a light exit round trip taken as 1,250 "
     "cycles, under the ~2,000-cycle Nehalem world switch in SplitX (WIOV 2011, Table "
     "1); no figure for this core found"},
    {"exit_io", 1500,
     "estimate: 3,750 cycles at an assumed 2.5 GHz = 1500 ns. Xen 4.4 code path: I/O "
     "instruction exit emulated inside Xen (hvm_io_intercept, e.g. the PM timer); for "
     "contrast KVM's inl_from_qemu, an I/O exit served by a user-space device model, "
     "is about 5,800 cycles (Linux commit 'kvm: x86: avoid atomic operations on APICv "
     "vmentry'). Anchor: a light exit round trip taken as 1,250 cycles, under the "
     "~2,000-cycle Nehalem world switch in SplitX (WIOV 2011, Table 1); no figure for "
     "this core found"},
    {"exit_eoi", 600,
     "estimate: 1,500 cycles at an assumed 2.5 GHz = 600 ns. Xen 4.4 code path: EOI "
     "without APIC virtualization: an x2APIC WRMSR exit, or an APIC-access exit taken "
     "by vmx_handle_eoi_write, then vlapic_EOI_set; a light exit plus about 250 "
     "cycles. Anchor: a light exit round trip taken as 1,250 cycles, under the "
     "~2,000-cycle Nehalem world switch in SplitX (WIOV 2011, Table 1); no figure for "
     "this core found"},
    {"exit_cpuid", 500,
     "estimate: 1,250 cycles at an assumed 2.5 GHz = 500 ns. Xen 4.4 code path: CPUID "
     "exit, vmx_cpuid_intercept -> hvm_cpuid; a light exit. Anchor: a light exit "
     "round trip taken as 1,250 cycles, under the ~2,000-cycle Nehalem world switch "
     "in SplitX (WIOV 2011, Table 1); no figure for this core found"},
    {"exit_hlt", 1000,
     "estimate: 2,500 cycles at an assumed 2.5 GHz = 1000 ns. Xen 4.4 code path: HLT "
     "exit, hvm_hlt -> vcpu_block -> schedule() to the idle vCPU; a light exit plus "
     "about 1,250 cycles of scheduling and context switch. Anchor: a light exit round "
     "trip taken as 1,250 cycles, under the ~2,000-cycle Nehalem world switch in "
     "SplitX (WIOV 2011, Table 1); no figure for this core found"},
    {"inject", 100,
     "estimate: 250 cycles at an assumed 2.5 GHz = 100 ns. Xen 4.4 code path: "
     "vmx_intr_assist at VM entry (hvm_vcpu_has_pending_irq, "
     "hvm_vcpu_ack_pending_irq, then event injection or, with APICv, RVI for virtual "
     "interrupt delivery) and the guest's IDT dispatch; no exit of its own. Anchor: a "
     "light exit round trip taken as 1,250 cycles, under the ~2,000-cycle Nehalem "
     "world switch in SplitX (WIOV 2011, Table 1); no figure for this core found"},
    {"upcall", 100,
     "estimate: the guest's own cost of entering and leaving the event-channel upcall "
     "(interrupt frame, clearing upcall_pending, swapping pending_sel) before any "
     "handler, about 250 cycles; not a Xen cost"},
    {"handler", 0, "declared by the guest model: the work its handlers say they do"},
    {"guest", 0, "declared by the guest model: the other work it says it does"},
    {"ioapic", 500,
     "estimate: 1,250 cycles at an assumed 2.5 GHz = 500 ns. Xen 4.4 code path: "
     "vioapic_update_EOI, reached from the EOI exit of a vector whose TMR bit is set: "
     "take the irq_lock, scan the vIOAPIC pins for the vector, clear remote IRR, "
     "re-deliver if the GSI is still asserted; charged once per level-triggered EOI. "
     "Anchor: a light exit round trip taken as 1,250 cycles, under the ~2,000-cycle "
     "Nehalem world switch in SplitX (WIOV 2011, Table 1); no figure for this core "
     "found"},
    {"backend", 0,
     "declared by the backend models (blkback, xenstored): the work they say they do"},
    {"wake", 2000,
     "estimate: 5,000 cycles at an assumed 2.5 GHz = 2000 ns. Xen 4.4 code path: "
     "waking a blocked vCPU: vcpu_unblock -> vcpu_wake -> the scheduler's wake and "
     "tickle -> an IPI to an idle pCPU -> schedule() -> context switch -> VM entry, "
     "about 3,750 cycles above a light exit; no published Xen wake-latency figure was "
     "found. Anchor: a light exit round trip taken as 1,250 cycles, under the "
     "~2,000-cycle Nehalem world switch in SplitX (WIOV 2011, Table 1); no figure for "
     "this core found"},
    {"exit_intr", 500,
     "estimate: 1,250 cycles at an assumed 2.5 GHz = 500 ns. Xen 4.4 code path: "
     "external-interrupt exit of a running vCPU (the event-check IPI of vcpu_kick, or "
     "a host timer), Xen's interrupt handler and softirq, then vmx_intr_assist at VM "
     "entry; a light exit. Anchor: a light exit round trip taken as 1,250 cycles, "
     "under the ~2,000-cycle Nehalem world switch in SplitX (WIOV 2011, Table 1); no "
     "figure for this core found"},
    {"exit_eoi_induced", 500,
     "estimate: 1,250 cycles at an assumed 2.5 GHz = 500 ns. Xen 4.4 code path: APICv "
     "only, never charged in this profile: EOI-induced exit (trap-like, Intel SDM "
     "vol. 3C 29.1.4) for a vector whose EOI-exit bitmap bit vlapic_set_irq set "
     "(level-triggered), then vlapic_handle_EOI_induced_exit; a light exit, the "
     "vIOAPIC work is charged as ioapic. Anchor: a light exit round trip taken as "
     "1,250 cycles, under the ~2,000-cycle Nehalem world switch in SplitX (WIOV 2011, "
     "Table 1); no figure for this core found"},
    {"spin", 50,
     "estimate: one turn of a guest wait loop, a PAUSE and a re-read of a shared "
     "line, about 125 cycles at 2.5 GHz"},
};

static const char default_description[] =
    "A Haswell-class Xeon (about 2013-2014) under Xen 4.4, no APIC virtualization: "
    "the FreeBSD 10 era. The built-in default.";
static const char default_source[] =
    "SplitX (Landau, Ben-Yehuda, Gordon, WIOV 2011) for the exit anchor; Intel SDM "
    "vol. 3C ch. 29 (APIC virtualization, posted interrupts); Xen's own code paths, "
    "named per value";

const char *xsim_cost_extra_name(unsigned int i)
{
    return i < sizeof(extra_names) / sizeof(extra_names[0]) ? extra_names[i] : NULL;
}

static int reason_index(const char *name)
{
    for (unsigned int r = 0; r < XSIM_COST__COUNT; r++) {
        if (strcmp(name, xsim_cost_reason_name((enum xsim_cost_reason)r)) == 0)
            return (int)r;
    }
    return -1;
}

static struct xsim_cost_named *named_slot(struct xsim_cost_profile *p, const char *name)
{
    for (unsigned int i = 0; i < p->nnamed; i++) {
        if (strcmp(p->named[i].name, name) == 0)
            return &p->named[i];
    }
    return NULL;
}

static bool is_extra(const char *name)
{
    for (unsigned int i = 0; xsim_cost_extra_name(i) != NULL; i++) {
        if (strcmp(xsim_cost_extra_name(i), name) == 0)
            return true;
    }
    return false;
}

int xsim_cost_profile_set(struct xsim_cost_profile *p, const char *name, uint64_t ns,
                          const char *source)
{
    int r = reason_index(name);
    struct xsim_cost_named *n;

    if (source == NULL)
        source = "";
    if (r >= 0) {
        p->ns[r] = ns;
        snprintf(p->ns_source[r], sizeof(p->ns_source[r]), "%s", source);
        return 0;
    }
    if (!is_extra(name))
        return -EINVAL;
    n = named_slot(p, name);
    if (n == NULL) {
        if (p->nnamed == XSIM_COST_MAX_NAMED)
            return -EINVAL;
        n = &p->named[p->nnamed++];
        snprintf(n->name, sizeof(n->name), "%s", name);
    }
    n->ns = ns;
    snprintf(n->source, sizeof(n->source), "%s", source);
    return 0;
}

void xsim_cost_profile_default(struct xsim_cost_profile *p)
{
    memset(p, 0, sizeof(*p));
    snprintf(p->name, sizeof(p->name), "haswell-xen44");
    snprintf(p->description, sizeof(p->description), "%s", default_description);
    snprintf(p->source, sizeof(p->source), "%s", default_source);
    for (size_t i = 0; i < sizeof(default_costs) / sizeof(default_costs[0]); i++) {
        int rc = xsim_cost_profile_set(p, default_costs[i].name, default_costs[i].ns,
                                       default_costs[i].source);
        (void)rc;
        assert(rc == 0);
    }
}

uint64_t xsim_cost_profile_get(const struct xsim_cost_profile *p, const char *name,
                               uint64_t fallback)
{
    int r = reason_index(name);

    if (r >= 0)
        return p->ns[r];
    for (unsigned int i = 0; i < p->nnamed; i++) {
        if (strcmp(p->named[i].name, name) == 0)
            return p->named[i].ns;
    }
    return fallback;
}

const char *xsim_cost_profile_source(const struct xsim_cost_profile *p, const char *name)
{
    int r = reason_index(name);

    if (r >= 0)
        return p->ns_source[r];
    for (unsigned int i = 0; i < p->nnamed; i++) {
        if (strcmp(p->named[i].name, name) == 0)
            return p->named[i].source;
    }
    return NULL;
}

/* ---- where the shipped profiles are ---- */

const char *xsim_cost_profile_dir(void)
{
    const char *env = getenv("XENSIM_PROFILE_DIR");
    struct stat st;

    if (env != NULL && env[0] != '\0')
        return env;
    /* A build run from its tree uses the tree's profiles (edits show at
     * once); an installed copy whose source tree is gone uses its own. */
    if (stat(XENSIM_PROFILE_DIR_DEFAULT, &st) == 0 && S_ISDIR(st.st_mode))
        return XENSIM_PROFILE_DIR_DEFAULT;
    return XENSIM_PROFILE_DIR_INSTALLED;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(a, b);
}

int xsim_cost_profile_names(char (*names)[64], unsigned int max)
{
    DIR *dir = opendir(xsim_cost_profile_dir());
    struct dirent *e;
    unsigned int n = 0;

    if (dir == NULL)
        return -errno;
    while ((e = readdir(dir)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len <= 5 || len - 5 >= 64 || e->d_name[0] == '.' ||
            strcmp(e->d_name + len - 5, ".json") != 0)
            continue;
        if (n < max)
            snprintf(names[n], 64, "%.*s", (int)(len - 5), e->d_name);
        n++;
    }
    closedir(dir);
    if (names != NULL)
        qsort(names, n < max ? n : max, sizeof(names[0]), name_cmp);
    return (int)n;
}
