/*
 * minimal_guest.c - a small guest program for xensim, written only against
 * the public headers a kernel port would have: its platform ops
 * (xensim/platform.h), Xen's public ABI (the xensim/abi/ headers) and the
 * guest-program interface (xensim/guestprog.h). Copy it to start hosting
 * your own kernel's code.
 *
 * What it does, in the order a kernel does it:
 *   CPU 0 finds Xen by CPUID, maps shared_info, chooses an event callback
 *   (the per-vCPU upcall vector, else the global callback vector), binds a
 *   VIRQ_TIMER for itself and wakes the other CPUs with an IPI. Each of
 *   those sets its own upcall vector, binds its own VIRQ_TIMER and reports
 *   in. CPU 0 then binds the scenario's devices (2-level event channels,
 *   spread over the CPUs), says it is ready, and every CPU idles: ask the
 *   machine for work, arm the one-shot timer, halt until an interrupt.
 *
 * Limits, to keep it small: at most 32 vCPUs (it uses the vcpu_info slots
 * inside shared_info instead of registering its own), only the EVENTS and
 * TIMER workload kinds, no suspend/resume.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "xensim/abi/apic.h"
#include "xensim/abi/cpuid.h"
#include "xensim/abi/event_channel.h"
#include "xensim/abi/hvm_op.h"
#include "xensim/abi/hvm_params.h"
#include "xensim/abi/memory.h"
#include "xensim/abi/vcpu.h"
#include "xensim/abi/version.h"
#include "xensim/abi/xen.h"
#include "xensim/guestprog.h"
#include "xensim/platform.h"
#include "xensim/scenario.h" /* struct xsim_report */

/* shared_info has this many vcpu_info slots; more CPUs would need
 * VCPUOP_register_vcpu_info. */
#define EX_MAX_CPUS    XEN_LEGACY_MAX_VCPUS
#define EX_MAX_DEVICES 64
#define EX_NR_PORTS    EVTCHN_2L_NR_CHANNELS
#define EX_PORT_WORDS  (EX_NR_PORTS / 64)

/* Interrupt vectors this guest uses (any free vector >= 0x20 would do). */
#define EX_WAKE_VECTOR   0x30 /* CPU bring-up and "look again" kicks */
#define EX_UPCALL_VECTOR 0xf3 /* event-channel upcall */

/* The x2APIC interrupt command register (xensim/abi/apic.h): the
 * destination APIC id is the CPU index here. */
#define ICR_DEST(cpu) ((uint64_t)(cpu) << APIC_ICR_DEST_SHIFT)

_Static_assert(EX_PORT_WORDS == sizeof(((struct shared_info *)0)->evtchn_pending) / 8,
               "one bitmap word per 64 ports");

enum ex_callback { EX_CB_NONE = 0, EX_CB_PERCPU_VECTOR, EX_CB_VECTOR };

enum ex_port_kind { EX_PORT_FREE = 0, EX_PORT_DEVICE, EX_PORT_TIMER };

/* What a port is for; written before the port is unmasked and read by
 * the CPU it is bound to. */
struct ex_port {
    uint8_t kind; /* enum ex_port_kind */
    uint8_t cpu;  /* the CPU Xen notifies (EVTCHNOP_bind_vcpu) */
    uint16_t dev; /* EX_PORT_DEVICE: index in env->devices */
};

struct ex_cpu {
    struct vcpu_info *vi; /* this CPU's slot in shared_info */
    /* Ports bound to this CPU, one bit per port. Its upcall serves only
     * these (a word may hold ports of several CPUs), so each device is
     * handled where it was bound. */
    volatile uint64_t ports[EX_PORT_WORDS];
    evtchn_port_t timer_port; /* its VIRQ_TIMER, 0 if none */
    uint64_t armed_ns;        /* one-shot deadline armed, 0 if none */
    uint64_t last_ns;         /* clock_ns never returns less than this */
    volatile uint32_t expiries;
    bool timer_ok;
    uint64_t upcalls, empty_upcalls, events;
};

/* The program's per-run state (what a kernel keeps in .bss). */
struct ex_state {
    const struct xsim_guest_env *env;
    const struct xg_platform *p;
    struct shared_info *si;
    uint32_t cpuid_base;
    bool xen, percpu_vector_offered;
    uint32_t xen_version, xenfeat;
    int boot_rc;
    enum ex_callback cb;
    /* Bring-up handshake: CPU 0 sets `started`, each other CPU counts
     * itself into `nup`, CPU 0 sets `go` once everything is set up. */
    volatile uint32_t started, nup, go;
    unsigned int next_cpu; /* round robin for devices without a CPU */
    evtchn_port_t dev_port[EX_MAX_DEVICES];
    int dev_cpu[EX_MAX_DEVICES];
    struct ex_port port[EX_NR_PORTS];
    struct ex_cpu cpu[EX_MAX_CPUS];
};

static void ex_log(struct ex_state *st, enum xg_log_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* One line for `xensim run --log`. */
static void ex_log(struct ex_state *st, enum xg_log_level lvl, const char *fmt, ...)
{
    char line[200];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    xg_log(st->p, lvl, line);
}

/* ---- hypercall wrappers ---- */

static long evtchn_op(struct ex_state *st, unsigned int cmd, void *arg)
{
    return xg_hypercall(st->p, __HYPERVISOR_event_channel_op, cmd, (unsigned long)arg, 0);
}

static long hvm_set_param(struct ex_state *st, uint32_t index, uint64_t value)
{
    struct xen_hvm_param hp = {.domid = DOMID_SELF, .index = index, .value = value};

    return xg_hypercall(st->p, __HYPERVISOR_hvm_op, HVMOP_set_param, (unsigned long)&hp, 0);
}

static long set_upcall_vector(struct ex_state *st, unsigned int cpu)
{
    struct xen_hvm_evtchn_upcall_vector uv = {.vcpu = cpu, .vector = EX_UPCALL_VECTOR};

    return xg_hypercall(st->p, __HYPERVISOR_hvm_op, HVMOP_set_evtchn_upcall_vector,
                        (unsigned long)&uv, 0);
}

static long vcpu_op(struct ex_state *st, unsigned int cmd, unsigned int cpu, void *arg)
{
    return xg_hypercall(st->p, __HYPERVISOR_vcpu_op, cmd, cpu, (unsigned long)arg);
}

/* ---- CPU bring-up ---- */

static void kick(struct ex_state *st, uint64_t dest)
{
    if (st->env->ncpus > 1)
        (void)xg_wrmsr(st->p, X2APIC_MSR_ICR, dest | EX_WAKE_VECTOR);
}

/* Publish a bring-up flag: everything written before it (shared_info,
 * the callback kind, the port table) is visible to a CPU that sees it. */
static void publish(struct ex_state *st, volatile uint32_t *flag, uint32_t value)
{
    xg_wmb(st->p);
    xg_write_u32(st->p, flag, value);
}

/* Sleep until *flag reaches `value`. The flag is tested with interrupts
 * off and the halt enables them atomically (sti; hlt), so a kick that
 * arrives after the test still ends the halt: no lost wake-up. Returns
 * with the interrupt flag as it was on entry. */
static void wait_for(struct ex_state *st, volatile uint32_t *flag, uint32_t value)
{
    const struct xg_platform *p = st->p;
    bool was = xg_irq_save(p);

    while (xg_read_u32(p, flag) < value) {
        xg_halt(p);
        (void)xg_irq_save(p);
    }
    /* Pairs with publish(): what came before the flag is read after it. */
    xg_rmb(p);
    xg_irq_restore(p, was);
}

/* ---- boot (CPU 0) ---- */

/* Xen's CPUID leaves may sit behind another hypervisor's (Viridian): look
 * every 0x100 leaves for the signature. */
static int detect_xen(struct ex_state *st)
{
    uint32_t r[4], max_leaf = 0;
    struct xen_feature_info fi = {.submap_idx = 0};
    uint64_t gfn;

    for (uint32_t base = XEN_CPUID_FIRST_LEAF; base < XG_XEN_CPUID_BASE_LIMIT;
         base += XG_XEN_CPUID_BASE_STEP) {
        xg_cpuid(st->p, base, 0, r);
        if (r[1] == XEN_CPUID_SIGNATURE_EBX && r[2] == XEN_CPUID_SIGNATURE_ECX &&
            r[3] == XEN_CPUID_SIGNATURE_EDX && r[0] >= base + XG_XEN_CPUID_LEAF_HYPERCALL) {
            st->xen = true;
            st->cpuid_base = base;
            max_leaf = r[0];
            break;
        }
    }
    if (!st->xen)
        return -ENODEV;
    xg_cpuid(st->p, st->cpuid_base + XG_XEN_CPUID_LEAF_VERSION, 0, r);
    st->xen_version = r[0];
    /* Leaf 2 names the MSR that installs the hypercall page. The platform's
     * hypercall op calls through that page on hardware. */
    xg_cpuid(st->p, st->cpuid_base + XG_XEN_CPUID_LEAF_HYPERCALL, 0, r);
    if (r[0] >= 1 && xg_page_alloc(st->p, &gfn) != NULL)
        (void)xg_wrmsr(st->p, r[1], gfn << XEN_PAGE_SHIFT);
    if (max_leaf >= st->cpuid_base + XG_XEN_CPUID_LEAF_HVM) {
        xg_cpuid(st->p, st->cpuid_base + XG_XEN_CPUID_LEAF_HVM, 0, r);
        st->percpu_vector_offered = (r[0] & XEN_HVM_CPUID_UPCALL_VECTOR) != 0;
    }
    if (xg_hypercall(st->p, __HYPERVISOR_xen_version, XENVER_get_features, (unsigned long)&fi, 0))
        fi.submap = 0;
    st->xenfeat = fi.submap;
    return 0;
}

/* Ask Xen to show shared_info at a frame of our RAM, then map that frame. */
static int map_shared_info(struct ex_state *st)
{
    const struct xg_platform *p = st->p;
    uint64_t gfn;
    struct xen_add_to_physmap atp = {.domid = DOMID_SELF, .space = XENMAPSPACE_shared_info};
    long rc;

    if (xg_page_alloc(p, &gfn) == NULL)
        return -ENOMEM;
    atp.idx = 0;
    atp.gpfn = gfn;
    rc = xg_hypercall(p, __HYPERVISOR_memory_op, XENMEM_add_to_physmap, (unsigned long)&atp, 0);
    if (rc != 0)
        return (int)rc;
    st->si = p->ops->map_gfn(p->ctx, gfn);
    if (st->si == NULL)
        return -EFAULT;
    /* Nothing may be delivered before its handler exists: mask every
     * port; each is unmasked once bound and recorded. */
    for (unsigned int w = 0; w < EX_PORT_WORDS; w++)
        xg_write_u64(p, (volatile uint64_t *)&st->si->evtchn_mask[w], ~(uint64_t)0);
    for (unsigned int c = 0; c < st->env->ncpus; c++)
        st->cpu[c].vi = &st->si->vcpu_info[c];
    return 0;
}

/* The per-vCPU upcall vector if Xen offers it (each CPU then sets its own
 * and EOIs it like any LAPIC interrupt), else the global callback vector
 * (one vector for all CPUs, injected while upcall_pending is set, no EOI).
 *
 * Linux also writes HVM_PARAM_CALLBACK_IRQ after the per-vCPU op so that
 * the toolstack sees an enlightened guest. Xen does not need it to deliver
 * events, and in xensim writing that parameter switches the domain's
 * callback mode, so this guest does not. */
static int choose_callback(struct ex_state *st)
{
    uint64_t via = XG_HVM_CALLBACK_VECTOR(EX_UPCALL_VECTOR);

    if (st->percpu_vector_offered && set_upcall_vector(st, 0) == 0) {
        st->cb = EX_CB_PERCPU_VECTOR;
        return 0;
    }
    if (((st->xenfeat >> XENFEAT_hvm_callback_vector) & 1) &&
        hvm_set_param(st, HVM_PARAM_CALLBACK_IRQ, via) == 0) {
        st->cb = EX_CB_VECTOR;
        return 0;
    }
    return -ENODEV;
}

static const char *callback_name(enum ex_callback cb)
{
    switch (cb) {
    case EX_CB_PERCPU_VECTOR:
        return "percpu-vector";
    case EX_CB_VECTOR:
        return "vector";
    case EX_CB_NONE:
        break;
    }
    return "none";
}

static int boot(struct ex_state *st)
{
    int rc;

    if ((rc = detect_xen(st)) != 0)
        return rc;
    if ((rc = map_shared_info(st)) != 0)
        return rc;
    return choose_callback(st);
}

/* ---- event channels ---- */

/* Record what `port` is and which CPU serves it, then tell Xen to notify
 * that CPU, then unmask. The order matters: an event that arrives the
 * moment the port is unmasked goes to the CPU Xen was told, and that CPU
 * must already list the port as its own or its upcall skips it (the
 * pending bit stays set, so every later send is swallowed). */
static int port_setup(struct ex_state *st, evtchn_port_t port, enum ex_port_kind kind,
                      unsigned int cpu, unsigned int dev)
{
    const struct xg_platform *p = st->p;
    struct evtchn_bind_vcpu bv = {.port = port, .vcpu = cpu};
    struct evtchn_unmask um = {.port = port};
    long rc;

    if (port == 0 || port >= EX_NR_PORTS)
        return -ERANGE;
#ifdef EXAMPLE_PLANT_BUG
    /* A planted bug for the tests (never define this in a real build): the
     * unmask comes first, so the event bind_interdomain left pending is
     * announced to CPU 0, whose upcall skips a port that is not its own;
     * the pending bit then stays set and swallows every later send. */
    if ((rc = evtchn_op(st, EVTCHNOP_unmask, &um)) != 0)
        return (int)rc;
#endif
    st->port[port] =
        (struct ex_port){.kind = (uint8_t)kind, .cpu = (uint8_t)cpu, .dev = (uint16_t)dev};
    /* The entry is visible before the bit that lets a scan find it. */
    xg_wmb(p);
    xg_set_bit(p, port, st->cpu[cpu].ports);
    /* A per-vCPU VIRQ is born bound to its vCPU (Xen refuses to move it). */
    if (kind != EX_PORT_TIMER && (rc = evtchn_op(st, EVTCHNOP_bind_vcpu, &bv)) != 0)
        return (int)rc;
#ifndef EXAMPLE_PLANT_BUG
    /* The hypercall, not a plain clear of the mask bit: Xen skipped the
     * notification of anything that became pending while the port was
     * masked (bind_interdomain leaves the new port pending), and only
     * EVTCHNOP_unmask replays it. */
    if ((rc = evtchn_op(st, EVTCHNOP_unmask, &um)) != 0)
        return (int)rc;
#endif
    return 0;
}

static void bind_devices(struct ex_state *st)
{
    const struct xsim_guest_env *env = st->env;

    for (unsigned int i = 0; i < env->ndevices; i++) {
        const struct xsim_guest_device *d = &env->devices[i];
        struct evtchn_bind_interdomain bi = {.remote_dom = d->backend_domid,
                                             .remote_port = d->backend_port};
        unsigned int cpu;
        long rc;

        if (d->cpu >= 0 && (unsigned int)d->cpu < env->ncpus)
            cpu = (unsigned int)d->cpu;
        else
            cpu = st->next_cpu++ % env->ncpus;
        rc = evtchn_op(st, EVTCHNOP_bind_interdomain, &bi);
        if (rc == 0)
            rc = port_setup(st, bi.local_port, EX_PORT_DEVICE, cpu, i);
        if (rc != 0) {
            char what[96];
            snprintf(what, sizeof(what), "binding device %s", d->name);
            ex_log(st, XG_LOG_ERR, "%s: error %ld", what, rc);
            env->setup_failed(env, what, (int)rc);
            continue;
        }
        st->dev_port[i] = bi.local_port;
        st->dev_cpu[i] = (int)cpu;
        /* Bound and unmasked: the backend may send now. */
        (void)env->start_device(env, i);
    }
}

/* ---- time ---- */

/* (delta << shift) * mul >> 32, the pvclock scaling, with the 96-bit
 * product done in two 64-bit halves. */
static uint64_t pvclock_scale(uint64_t delta, uint32_t mul, int8_t shift)
{
    if (shift < 0)
        delta = shift <= -64 ? 0 : delta >> -shift;
    else
        delta = shift >= 64 ? 0 : delta << shift;
    return (delta >> 32) * mul + (((delta & 0xffffffffu) * mul) >> 32);
}

/* The vCPU's system time in ns from its pvclock record. Xen updates the
 * record like a seqlock (version odd while it writes): copy the fields
 * between two reads of an even, unchanged version. */
static uint64_t pvclock_read(struct ex_state *st, unsigned int cpu)
{
    const struct xg_platform *p = st->p;
    volatile struct vcpu_time_info *ti = &st->cpu[cpu].vi->time;
    uint32_t version, mul;
    uint64_t tsc_ts, sys, tsc;
    int8_t shift;

    do {
        version = xg_read_u32(p, &ti->version);
        xg_rmb(p);
        tsc_ts = xg_read_u64(p, &ti->tsc_timestamp);
        sys = xg_read_u64(p, &ti->system_time);
        mul = xg_read_u32(p, &ti->tsc_to_system_mul);
        shift = (int8_t)xg_read_u8(p, (volatile uint8_t *)&ti->tsc_shift);
        tsc = xg_rdtsc(p);
        xg_rmb(p);
    } while ((version & 1) != 0 || version != xg_read_u32(p, &ti->version));
    return sys + (tsc > tsc_ts ? pvclock_scale(tsc - tsc_ts, mul, shift) : 0);
}

/* The program's clock: this CPU's pvclock, never going back on this CPU.
 * An interrupt that reads the clock between our last shared-memory read
 * and our return sees a later time than we computed; the per-CPU floor
 * below (plain CPU-local accesses, no scheduling point after the read)
 * makes the interrupted reader return at least that. */
static uint64_t ex_clock_ns(void *state)
{
    struct ex_state *st = state;
    unsigned int cpu = xg_cpu(st->p);
    struct ex_cpu *c;
    uint64_t now;

    if (st->si == NULL || cpu >= st->env->ncpus)
        return 0;
    c = &st->cpu[cpu];
    now = pvclock_read(st, cpu);
    if (now < c->last_ns)
        return c->last_ns;
    c->last_ns = now;
    return now;
}

/* Arm this CPU's one-shot timer for `deadline_ns` (system time). flags 0:
 * a deadline already past fires at once rather than failing with -ETIME,
 * so a late arm is never lost. Interrupts are off (no expiry in between). */
static void timer_arm(struct ex_state *st, unsigned int cpu, uint64_t deadline_ns)
{
    struct ex_cpu *c = &st->cpu[cpu];
    struct vcpu_set_singleshot_timer t = {.timeout_abs_ns = deadline_ns, .flags = 0};

    if (c->armed_ns == deadline_ns)
        return; /* already armed for it: no hypercall per idle pass */
    c->armed_ns = deadline_ns;
    if (vcpu_op(st, VCPUOP_set_singleshot_timer, cpu, &t) != 0)
        c->armed_ns = 0;
}

/* VIRQ_TIMER on `cpu` (interrupt context). */
static void timer_virq(struct ex_state *st, unsigned int cpu)
{
    struct ex_cpu *c = &st->cpu[cpu];
    uint64_t deadline = c->armed_ns, now;

    if (deadline == 0)
        return; /* nothing armed: a stale expiry */
    now = ex_clock_ns(st);
    if (now < deadline) {
        /* The expiry of an older deadline, replaced meanwhile: re-aim. */
        c->armed_ns = 0;
        timer_arm(st, cpu, deadline);
        return;
    }
    c->armed_ns = 0;
    c->expiries++;
    st->env->timer_expired(st->env, cpu, deadline, now);
}

/* This CPU's VIRQ_TIMER (a per-vCPU VIRQ: bound to this vCPU by Xen). Xen
 * may run a periodic timer on a vCPU by default; this guest only wants its
 * one-shot, so that one is stopped. */
static int timer_cpu_up(struct ex_state *st, unsigned int cpu)
{
    struct evtchn_bind_virq bv = {.virq = VIRQ_TIMER, .vcpu = cpu};
    long rc;

    (void)vcpu_op(st, VCPUOP_stop_periodic_timer, cpu, NULL);
    if ((rc = evtchn_op(st, EVTCHNOP_bind_virq, &bv)) != 0)
        return (int)rc;
    if ((rc = port_setup(st, bv.port, EX_PORT_TIMER, cpu, 0)) != 0)
        return (int)rc;
    st->cpu[cpu].timer_port = bv.port;
    st->cpu[cpu].timer_ok = true;
    return 0;
}

/* ---- the upcall ---- */

static void dispatch(struct ex_state *st, unsigned int cpu, evtchn_port_t port)
{
    const struct ex_port *pt = &st->port[port];

    switch (pt->kind) {
    case EX_PORT_DEVICE:
        /* The device's "driver": serve everything queued on its ring. */
        st->cpu[cpu].events++;
        (void)st->env->serve(st->env, pt->dev, cpu);
        break;
    case EX_PORT_TIMER:
        timer_virq(st, cpu);
        break;
    default:
        break;
    }
}

/* Serve the pending, unmasked ports of this CPU in the words `sel` names. */
static unsigned int scan(struct ex_state *st, unsigned int cpu, uint64_t sel)
{
    const struct xg_platform *p = st->p;
    volatile uint64_t *pending = (volatile uint64_t *)st->si->evtchn_pending;
    volatile uint64_t *mask = (volatile uint64_t *)st->si->evtchn_mask;
    unsigned int served = 0;

    while (sel != 0) {
        unsigned int w = (unsigned int)__builtin_ctzll(sel);
        uint64_t bits;

        sel &= sel - 1;
        bits = xg_read_u64(p, &pending[w]) & ~xg_read_u64(p, &mask[w]) &
               xg_read_u64(p, &st->cpu[cpu].ports[w]);
        /* The port's bit was read before its table entry (port_setup). */
        xg_rmb(p);
        while (bits != 0) {
            evtchn_port_t port = w * 64 + (unsigned int)__builtin_ctzll(bits);
            bits &= bits - 1;
            /* Clear pending before the handler runs: a send during the
             * handler sets it again and is seen by the next pass. */
            if (!xg_test_and_clear_bit(p, port, pending))
                continue;
            dispatch(st, cpu, port);
            served++;
        }
    }
    return served;
}

/* The event upcall on `cpu` (interrupt context). There is no bound on the
 * passes: a port that fires without pause keeps the CPU here. A real kernel
 * limits the work per upcall and asks for another one for the rest. */
static void upcall(struct ex_state *st, unsigned int cpu)
{
    const struct xg_platform *p = st->p;
    struct ex_cpu *c = &st->cpu[cpu];
    struct vcpu_info *vi = c->vi;
    unsigned int served = 0;
    uint64_t sel;

    c->upcalls++;
    do {
        /* upcall_pending first, selector second. Xen sets the selector bit
         * and then upcall_pending, skipping the second when it is already
         * set. In this order an event racing with us either lands in the
         * selector we take, or finds upcall_pending clear and sets it
         * again, and the loop makes another pass. */
        xg_write_u8(p, &vi->evtchn_upcall_pending, 0);
        sel = xg_xchg_u64(p, (volatile uint64_t *)&vi->evtchn_pending_sel, 0);
        served += scan(st, cpu, sel);
    } while (xg_read_u8(p, &vi->evtchn_upcall_pending) != 0);
    if (served == 0)
        c->empty_upcalls++;
}

/* ---- entry points ---- */

static int ex_init(void *state, const struct xsim_guest_env *env)
{
    struct ex_state *st = state;

    if (env->abi_version != XSIM_GUEST_ABI_VERSION)
        return -EINVAL;
    if (env->ncpus == 0 || env->ncpus > EX_MAX_CPUS || env->ndevices > EX_MAX_DEVICES)
        return -E2BIG;
    st->env = env;
    st->p = env->p;
    for (unsigned int i = 0; i < EX_MAX_DEVICES; i++)
        st->dev_cpu[i] = -1;
    return 0;
}

/* CPU 0: boot, bring up the others, bind the devices, say ready. */
static bool boot_cpu0(struct ex_state *st)
{
    const struct xsim_guest_env *env = st->env;
    int rc;

    st->boot_rc = boot(st);
    if (st->boot_rc != 0) {
        ex_log(st, XG_LOG_ERR, "boot failed: %d", st->boot_rc);
        env->setup_failed(env, "boot", st->boot_rc);
        return false;
    }
    if ((rc = timer_cpu_up(st, 0)) != 0)
        env->setup_failed(env, "VIRQ_TIMER on CPU 0", rc);
    /* The others wait for this, halted with interrupts off. */
    publish(st, &st->started, 1);
    kick(st, APIC_ICR_ALL_BUT_SELF);
    wait_for(st, &st->nup, env->ncpus - 1);
    bind_devices(st);
    ex_log(st, XG_LOG_INFO, "set up: Xen %u.%u, callback %s, %u devices on %u CPUs",
           st->xen_version >> 16, st->xen_version & 0xffff, callback_name(st->cb), env->ndevices,
           env->ncpus);
    env->ready(env);
    publish(st, &st->go, 1);
    kick(st, APIC_ICR_ALL_BUT_SELF);
    return true;
}

/* CPU > 0: wait for CPU 0's boot, set up this CPU's callback and timer. */
static void boot_secondary(struct ex_state *st, unsigned int cpu)
{
    const struct xsim_guest_env *env = st->env;
    const struct xg_platform *p = st->p;
    int rc = 0;

    wait_for(st, &st->started, 1);
    if (st->cb == EX_CB_PERCPU_VECTOR && set_upcall_vector(st, cpu) != 0) {
        env->setup_failed(env, "per-vCPU upcall vector", -EIO);
        rc = -EIO;
    }
    if (rc == 0 && (rc = timer_cpu_up(st, cpu)) != 0)
        env->setup_failed(env, "VIRQ_TIMER", rc);
    xg_fetch_add_u32(p, &st->nup, 1);
    kick(st, ICR_DEST(0));
    wait_for(st, &st->go, 1);
}

static void ex_start(void *state, unsigned int cpu)
{
    struct ex_state *st = state;
    const struct xg_platform *p = st->p;
    struct ex_cpu *c;

    if (cpu >= st->env->ncpus)
        return;
    c = &st->cpu[cpu];
    if (cpu != 0)
        boot_secondary(st, cpu);
    else if (!boot_cpu0(st))
        return; /* nothing to idle for; the others stay halted */
    xg_irq_restore(p, true);
    /* The idle loop. env->work runs with interrupts on; then, with them
     * off, the timer is armed and the CPU halts (sti; hlt enables them
     * atomically, so nothing that arrives after the checks is missed). */
    for (;;) {
        uint32_t expiries = c->expiries;
        uint64_t next = c->timer_ok ? st->env->work(st->env, cpu) : UINT64_MAX;

        (void)xg_irq_save(p);
        if (c->expiries != expiries) {
            /* The timer fired while work ran: `next` may be the deadline
             * that just expired. Ask again before halting. */
            xg_irq_restore(p, true);
            continue;
        }
        if (next != UINT64_MAX)
            timer_arm(st, cpu, next);
        xg_halt(p);
    }
}

static void ex_interrupt(void *state, unsigned int cpu, uint8_t vector)
{
    struct ex_state *st = state;

    if (vector == EX_UPCALL_VECTOR && st->cb != EX_CB_NONE && cpu < st->env->ncpus) {
        upcall(st, cpu);
        /* The global callback vector is injected without an in-service
         * bit: it takes no EOI. The per-vCPU vector is a LAPIC vector. */
        if (st->cb == EX_CB_VECTOR)
            return;
    }
    /* Wake-up kicks need nothing but their EOI: halt has returned. */
    xg_eoi(st->p);
}

/* What the machine cannot see for itself. */
static void ex_report(void *state, struct xsim_report *rep)
{
    struct ex_state *st = state;
    const struct xsim_guest_env *env = st->env;

    rep->boot_rc = st->boot_rc;
    rep->xen = st->xen;
    rep->xen_version = st->xen_version;
    rep->xenfeat = st->xenfeat;
    snprintf(rep->callback, sizeof(rep->callback), "%s", callback_name(st->cb));
    /* Both vector callbacks can deliver to any CPU. */
    rep->percpu_events = st->cb != EX_CB_NONE;
    for (unsigned int c = 0; c < env->ncpus && c < rep->ncpus; c++) {
        rep->cpu_events[c] = st->cpu[c].events;
        rep->cpu[c].upcalls = st->cpu[c].upcalls;
        rep->cpu[c].empty_upcalls = st->cpu[c].empty_upcalls;
    }
    for (unsigned int i = 0; i < env->ndevices; i++)
        rep->wl[env->devices[i].workload].cpu = st->dev_cpu[i];
    if (st->cpu[0].timer_ok) {
        snprintf(rep->timer_kind, sizeof(rep->timer_kind), "pv");
        snprintf(rep->clock_source, sizeof(rep->clock_source), "pvclock");
    }
}

#ifndef EXAMPLE_GUEST_NAME
#define EXAMPLE_GUEST_NAME "minimal-guest"
#endif

/* The one symbol xensim looks up (XSIM_GUEST_ENTRY_SYMBOL); exported even
 * when the build hides everything else (-fvisibility=hidden). */
__attribute__((visibility("default"))) const struct xsim_guest_program xsim_guest_program = {
    .abi_version = XSIM_GUEST_ABI_VERSION,
    .struct_size = sizeof(struct xsim_guest_program),
    .name = EXAMPLE_GUEST_NAME,
    .implements = XSIM_GUEST_EVENTS | XSIM_GUEST_TIMER,
    .state_size = sizeof(struct ex_state),
    .init = ex_init,
    .start = ex_start,
    .interrupt = ex_interrupt,
    .clock_ns = ex_clock_ns,
    .report = ex_report,
};
