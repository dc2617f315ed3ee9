/*
 * test_hostile_guest.c - a guest that passes the hypervisor garbage.
 *
 * Hypercall arguments are addresses in this process (the guest's code runs
 * here), so a wild pointer in the user half is the guest's own memory error,
 * as it would be in a kernel. Everything else a buggy or hostile guest can
 * pass must come back as an error, as on Xen, without crashing, hanging or
 * tripping an assertion in the simulator:
 *
 * - test_bad_addresses: NULL, a small number passed where a pointer was
 *   expected, a range that wraps, and kernel-half and non-canonical
 *   addresses, as the argument of every hypercall family that takes one and
 *   as a pointer inside an argument (SCHEDOP_poll's port list,
 *   GNTTABOP_setup_table's frame list): -EFAULT (the frame list: status
 *   GNTST_bad_virt_addr, as Xen reports it).
 * - test_random_hypercalls: two vCPUs each make 300 calls: three in four a
 *   hypercall with random op, command and argument words (small and 32-bit
 *   values, the kernel half, pointers into their own scratch memory), the
 *   rest CPUID, MSR and MMIO reads and writes (x2APIC, Xen's MSRs, IOAPIC,
 *   LAPIC, anywhere; any access size), EOIs, map_gfn and virt_to_gfn with
 *   random values; 40 seeds with small values and 40 with large ones (never
 *   a shutdown, a block or a vCPU down). Every run ends normally with each
 *   vCPU through all its calls, and a seed replays to the same digest.
 *   -DNSEEDS=400 runs ten times as many.
 * - test_wild_user_pointer_fails_the_run: on fibers, an unreadable address
 *   in the user half, as a hypercall's argument or inside one, ends the run
 *   failed with a message naming the vCPU and the address; the process and
 *   the next machine go on (not under AddressSanitizer, which reports it).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <cmocka.h>

#include "xensim/abi/event_channel.h"
#include "xensim/abi/grant_table.h"
#include "xensim/abi/hvm_op.h"
#include "xensim/abi/memory.h"
#include "xensim/abi/sched.h"
#include "xensim/abi/vcpu.h"
#include "xensim/abi/version.h"
#include "xensim/abi/xen.h"
#include "xensim/machine.h"

#include "support/valgrind.h"

/* ---- one machine, a guest of two vCPUs ---- */

struct guest;
typedef void (*guest_fn)(struct guest *g, unsigned int cpu);

struct guest {
    const struct xg_platform *p;
    guest_fn fn;
    uint64_t seed;
    uint64_t hypercalls, platform_calls; /* made, both vCPUs */
    int ncalls;
    bool big;
    uint8_t *scratch[2];
    int done[2];
    long last_op[2];
    unsigned long last_cmd[2], last_a2[2], last_a3[2];
};

static void guest_start(void *arg, unsigned int cpu)
{
    struct guest *g = arg;

    g->fn(g, cpu);
}

static void guest_interrupt(void *arg, unsigned int cpu, uint8_t vector)
{
    (void)arg;
    (void)cpu;
    (void)vector;
}

static struct xsim_machine *make_machine(struct guest *g, uint64_t seed, enum xsim_backend backend)
{
    static const struct xsim_guest_ops ops = {.start = guest_start, .interrupt = guest_interrupt};
    struct xsim_machine_config mc;
    struct xsim_machine *m;
    struct xsim_error err;

    xsim_machine_config_init(&mc, 2);
    mc.world.seed = seed;
    mc.world.backend = backend;
    /* A periodic timer the guest set keeps the world going after its vCPUs
     * are done: stop there. */
    mc.world.time_limit_ns = 20000000ull;
    mc.xenstore = true;
    mc.ops = &ops;
    mc.guest = g;
    assert_int_equal(xsim_machine_create(&mc, &m, &err), 0);
    g->p = xsim_machine_platform(m);
    return m;
}

static enum xsim_stop_reason run_guest(struct guest *g, uint64_t seed, uint64_t *digest)
{
    struct xsim_machine *m = make_machine(g, seed, XSIM_BACKEND_AUTO);
    enum xsim_stop_reason why;

    why = xsim_machine_run(m);
    if (xsim_machine_failure(m) != NULL)
        fail_msg("seed %llu: the run failed: %s", (unsigned long long)seed,
                 xsim_machine_failure(m));
    if (digest != NULL)
        *digest = xsim_machine_digest(m);
    xsim_machine_destroy(m);
    return why;
}

/* ---- bad addresses ---- */

static const unsigned long bad_addrs[] = {
    0ul, 1ul, 7ul, 0xfffful,          /* NULL, and numbers where a pointer was expected */
    (unsigned long)-8,                /* wraps */
    1ul << 63,                        /* the kernel half */
    0x0100000000000000ul,             /* above every user half */
    0xffff800000000000ul, ~0ul,       /* the kernel's own */
};
#define NBAD (sizeof(bad_addrs) / sizeof(bad_addrs[0]))

static int bad_failures;

static void expect_efault(const char *what, unsigned long addr, long rc)
{
    if (rc != -EFAULT) {
        print_error("%s at %#lx: %ld, not -EFAULT\n", what, addr, rc);
        bad_failures++;
    }
}

static void bad_address_guest(struct guest *g, unsigned int cpu)
{
    const struct xg_platform *p = g->p;

    if (cpu != 0)
        return;
    for (size_t i = 0; i < NBAD; i++) {
        unsigned long a = bad_addrs[i];
        expect_efault("EVTCHNOP_alloc_unbound",
                      a, xg_hypercall(p, __HYPERVISOR_event_channel_op, EVTCHNOP_alloc_unbound,
                                      a, 0));
        expect_efault("EVTCHNOP_send", a,
                      xg_hypercall(p, __HYPERVISOR_event_channel_op, EVTCHNOP_send, a, 0));
        expect_efault("XENMEM_add_to_physmap", a,
                      xg_hypercall(p, __HYPERVISOR_memory_op, XENMEM_add_to_physmap, a, 0));
        expect_efault("HVMOP_get_param", a,
                      xg_hypercall(p, __HYPERVISOR_hvm_op, HVMOP_get_param, a, 0));
        expect_efault("VCPUOP_set_singleshot_timer", a,
                      xg_hypercall(p, __HYPERVISOR_vcpu_op, VCPUOP_set_singleshot_timer, 0, a));
        expect_efault("XENVER_extraversion", a,
                      xg_hypercall(p, __HYPERVISOR_xen_version, XENVER_extraversion, a, 0));
        expect_efault("SCHEDOP_poll", a,
                      xg_hypercall(p, __HYPERVISOR_sched_op, SCHEDOP_poll, a, 0));
        expect_efault("GNTTABOP_query_size", a,
                      xg_hypercall(p, __HYPERVISOR_grant_table_op, GNTTABOP_query_size, a, 1));

        /* Pointers inside an argument. */
        struct sched_poll sp = {.nr_ports = 1, .timeout = 1};
        sp.ports.p = (evtchn_port_t *)(uintptr_t)a;
        expect_efault("SCHEDOP_poll's port list", a,
                      xg_hypercall(p, __HYPERVISOR_sched_op, SCHEDOP_poll, (unsigned long)&sp, 0));
        struct gnttab_setup_table st = {.dom = DOMID_SELF, .nr_frames = 1};
        st.frame_list.p = (xen_pfn_t *)(uintptr_t)a;
        long rc = xg_hypercall(p, __HYPERVISOR_grant_table_op, GNTTABOP_setup_table,
                               (unsigned long)&st, 1);
        if (rc != 0 || st.status != GNTST_bad_virt_addr) {
            print_error("GNTTABOP_setup_table's frame list at %#lx: %ld, status %d\n", a, rc,
                        (int)st.status);
            bad_failures++;
        }
    }
    /* The hypervisor still answers. */
    g->done[0] = xg_hypercall(p, __HYPERVISOR_xen_version, XENVER_version, 0, 0) > 0;
}

static void test_bad_addresses(void **state)
{
    struct guest g = {.fn = bad_address_guest};

    (void)state;
    bad_failures = 0;
    assert_int_equal(run_guest(&g, 1, NULL), XSIM_STOP_ALL_DONE);
    assert_int_equal(bad_failures, 0);
    assert_int_equal(g.done[0], 1);
}

/* ---- random hypercalls ---- */

#define SCRATCH (64 * 1024)
#ifndef NSEEDS
#define NSEEDS 40
#endif

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static const unsigned int fuzz_ops[] = {
    __HYPERVISOR_xen_version, __HYPERVISOR_memory_op,   __HYPERVISOR_hvm_op,
    __HYPERVISOR_vcpu_op,     __HYPERVISOR_set_timer_op, __HYPERVISOR_event_channel_op,
    __HYPERVISOR_sched_op,    __HYPERVISOR_grant_table_op,
};

/* One argument word. Pointers go to the second half of the vCPU's scratch
 * (what the hypervisor may keep writing, a registered time area say); the
 * argument structs live in the first half, refilled before every call. A
 * value that would be a wild user-space pointer gets the top bit. */
static uint64_t fuzz_word(struct guest *g, uint64_t *s, uint8_t *scratch)
{
    uint64_t r = rnd(s), v;

    switch (r % 8) {
    case 0:
        v = 0;
        break;
    case 1:
        return (uint64_t)(uintptr_t)(scratch + SCRATCH / 2 + rnd(s) % (SCRATCH / 4) / 8 * 8);
    case 2:
        v = g->big ? rnd(s) & 0xffffffffu : rnd(s) % 64;
        break;
    case 3:
        v = g->big ? (rnd(s) & 0xffff) | (rnd(s) & 0xffff) << 32 : rnd(s) % 16;
        break;
    default:
        v = rnd(s) % 8;
        break;
    }
    if (g->big && r % 97 == 0)
        v = rnd(s);
    if (v >= 0x10000 && v < (1ull << 56))
        v |= 1ull << 63;
    return v;
}

/* An MSR or MMIO address: the x2APIC and Xen's MSRs, the IOAPIC and LAPIC
 * pages, or anything. */
static uint32_t fuzz_msr(uint64_t *s)
{
    switch (rnd(s) % 3) {
    case 0:
        return 0x800u + (uint32_t)(rnd(s) % 0x100);
    case 1:
        return 0x40000000u + (uint32_t)(rnd(s) % 0x300);
    default:
        return (uint32_t)rnd(s);
    }
}

static uint64_t fuzz_gpa(uint64_t *s)
{
    switch (rnd(s) % 3) {
    case 0:
        return 0xfec00000ull + rnd(s) % 0x2000;
    case 1:
        return 0xfee00000ull + rnd(s) % 0x1000;
    default:
        return rnd(s);
    }
}

/* One of the other ways a guest reaches the machine, with random values. */
static void platform_op(struct guest *g, uint64_t *s, unsigned int cpu)
{
    const struct xg_platform *p = g->p;
    uint32_t regs[4];
    uint64_t v = 0;
    unsigned int size = rnd(s) % 5 == 0 ? (unsigned int)rnd(s) : 1u << (rnd(s) % 4);

    g->last_op[cpu] = -1 - (long)(rnd(s) % 9);
    switch (-1 - g->last_op[cpu]) {
    case 0:
        xg_cpuid(p, rnd(s) % 2 ? 0x40000000u + (uint32_t)(rnd(s) % 0x10200) : (uint32_t)rnd(s),
                 (uint32_t)(rnd(s) % 4), regs);
        break;
    case 1:
        (void)xg_rdmsr(p, fuzz_msr(s), &v);
        break;
    case 2:
        g->last_cmd[cpu] = fuzz_msr(s);
        (void)xg_wrmsr(p, (uint32_t)g->last_cmd[cpu], g->big ? rnd(s) : rnd(s) % 256);
        break;
    case 3:
        (void)p->ops->mmio_read(p->ctx, fuzz_gpa(s), size);
        break;
    case 4:
        g->last_cmd[cpu] = fuzz_gpa(s);
        p->ops->mmio_write(p->ctx, g->last_cmd[cpu], size, g->big ? rnd(s) : rnd(s) % 256);
        break;
    case 5:
        p->ops->eoi(p->ctx);
        break;
    case 6:
        (void)p->ops->map_gfn(p->ctx, g->big ? rnd(s) : rnd(s) % 1024);
        break;
    case 7:
        /* Kernel-half addresses and small numbers: never a guest page. */
        (void)p->ops->virt_to_gfn(p->ctx, (const void *)(uintptr_t)(g->big ? rnd(s) | 1ull << 63
                                                                         : rnd(s) % 65536));
        break;
    default:
        p->ops->irq_restore(p->ctx, p->ops->irq_save(p->ctx));
        break;
    }
}

static void random_guest(struct guest *g, unsigned int cpu)
{
    uint64_t s = g->seed * 0x9e3779b97f4a7c15ull + cpu + 1;
    uint8_t *b = g->scratch[cpu];

    for (int i = 0; i < g->ncalls; i++) {
        unsigned int op = rnd(&s) % 16 == 0 ? (unsigned int)(rnd(&s) % 64)
                                            : fuzz_ops[rnd(&s) % (sizeof(fuzz_ops) /
                                                                  sizeof(fuzz_ops[0]))];
        unsigned long cmd = rnd(&s) % 8 == 0 ? (unsigned long)rnd(&s) : rnd(&s) % 24;
        unsigned long a2, a3;
        if (rnd(&s) % 4 == 0) {
            platform_op(g, &s, cpu);
            g->platform_calls++;
            goto next;
        }
        for (size_t q = 0; q < SCRATCH / 2 / 8; q++) {
            uint64_t v = fuzz_word(g, &s, b);
            memcpy(b + q * 8, &v, 8);
        }
        a2 = rnd(&s) % 4 == 0 ? rnd(&s) % 8 : (unsigned long)(uintptr_t)b;
        a3 = rnd(&s) % 3 == 0 ? (unsigned long)(uintptr_t)b : rnd(&s) % 4;
        if (op == __HYPERVISOR_sched_op) {
            /* Not the calls that end or park the vCPU for good: shutdown,
             * block with nothing to wake it, down, a poll without timeout. */
            if (cmd == SCHEDOP_shutdown || cmd == SCHEDOP_block)
                goto next;
            if (cmd == SCHEDOP_poll && a2 == (unsigned long)(uintptr_t)b) {
                struct sched_poll sp;
                memcpy(&sp, b, sizeof(sp));
                sp.timeout = 1; /* in the past: comes back at once */
                memcpy(b, &sp, sizeof(sp));
            }
        }
        if (op == __HYPERVISOR_vcpu_op && (cmd == VCPUOP_down || cmd == VCPUOP_initialise))
            goto next;
        g->last_op[cpu] = op;
        g->last_cmd[cpu] = cmd;
        g->last_a2[cpu] = a2;
        g->last_a3[cpu] = a3;
        (void)xg_hypercall(g->p, op, op == __HYPERVISOR_set_timer_op ? rnd(&s) : cmd, a2, a3);
        g->hypercalls++;
        xg_point(g->p, XG_POINT_FENCE, NULL);
    next:
        g->done[cpu] = i + 1;
    }
}

static void test_random_hypercalls(void **state)
{
    uint64_t hypercalls = 0, platform_calls = 0;

    (void)state;
    for (int big = 0; big < 2; big++) {
        for (uint64_t seed = 1; seed <= NSEEDS; seed++) {
            struct guest g = {.fn = random_guest, .seed = seed, .ncalls = 300, .big = big};
            enum xsim_stop_reason why;
            uint64_t digest, again;
            for (int c = 0; c < 2; c++) {
                g.scratch[c] = aligned_alloc(4096, SCRATCH);
                assert_non_null(g.scratch[c]);
                memset(g.scratch[c], 0, SCRATCH);
            }
            why = run_guest(&g, seed, &digest);
            if (why != XSIM_STOP_ALL_DONE && why != XSIM_STOP_TIME_LIMIT)
                fail_msg("seed %llu (%s values): stopped %s, last ops %ld %ld",
                         (unsigned long long)seed, big ? "large" : "small",
                         xsim_stop_reason_name(why), g.last_op[0], g.last_op[1]);
            if (g.done[0] != g.ncalls || g.done[1] != g.ncalls)
                fail_msg("seed %llu (%s values): %d and %d of %d calls made (stopped %s, last "
                         "ops %ld %ld, cpu 1: cmd %#lx a2 %#lx a3 %#lx)",
                         (unsigned long long)seed, big ? "large" : "small", g.done[0],
                         g.done[1], g.ncalls, xsim_stop_reason_name(why), g.last_op[0],
                         g.last_op[1], g.last_cmd[1], g.last_a2[1], g.last_a3[1]);
            if (seed <= 3) {
                /* Deterministic: the same seed, the same run. */
                struct guest h = g;
                memset(h.done, 0, sizeof(h.done));
                for (int c = 0; c < 2; c++)
                    memset(h.scratch[c], 0, SCRATCH);
                assert_int_equal(run_guest(&h, seed, &again), why);
                assert_true(again == digest);
            }
            hypercalls += g.hypercalls;
            platform_calls += g.platform_calls;
            for (int c = 0; c < 2; c++)
                free(g.scratch[c]);
        }
    }
    printf("%llu random hypercalls and %llu other platform calls over %d runs\n",
           (unsigned long long)hypercalls, (unsigned long long)platform_calls, 2 * NSEEDS);
}

/* ---- a wild pointer in the user half, on fibers ---- */

#ifndef XENSIM_SANITIZED
/* An address in the user half that nothing can read: a PROT_NONE mapping,
 * so no later allocation lands there. The hypervisor model cannot tell it
 * from guest memory without a system call per copy; on fibers the fault it
 * takes reading it ends the run failed, naming the vCPU, and the process
 * (and the next machine) goes on. */
static unsigned long wild_addr;
static int wild_case;

static void wild_guest(struct guest *g, unsigned int cpu)
{
    const struct xg_platform *p = g->p;
    unsigned long a = wild_addr;

    if (cpu != 1)
        return;
    switch (wild_case) {
    case 0:
        (void)xg_hypercall(p, __HYPERVISOR_event_channel_op, EVTCHNOP_send, a, 0);
        break;
    case 1: {
        struct sched_poll sp = {.nr_ports = 1, .timeout = 1};
        sp.ports.p = (evtchn_port_t *)(uintptr_t)a;
        (void)xg_hypercall(p, __HYPERVISOR_sched_op, SCHEDOP_poll, (unsigned long)&sp, 0);
        break;
    }
    case 2:
        (void)xg_hypercall(p, __HYPERVISOR_memory_op, XENMEM_add_to_physmap, a, 0);
        break;
    default: {
        struct gnttab_setup_table st = {.dom = DOMID_SELF, .nr_frames = 1};
        st.frame_list.p = (xen_pfn_t *)(uintptr_t)a;
        (void)xg_hypercall(p, __HYPERVISOR_grant_table_op, GNTTABOP_setup_table, (unsigned long)&st,
                           1);
        break;
    }
    }
    g->done[1] = 1; /* not reached */
}

static void test_wild_user_pointer_fails_the_run(void **state)
{
    void *page;
    char expect[96];

    (void)state;
    /* Without fibers a fault ends the process; under Valgrind the faults
     * are deliberate, and Memcheck would report them as errors. */
    if (!xsim_backend_fiber_available() || RUNNING_ON_VALGRIND)
        skip();
    page = mmap(NULL, 65536, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(page != MAP_FAILED);
    wild_addr = (unsigned long)(uintptr_t)page + 4096;
    snprintf(expect, sizeof(expect), "vCPU 1: SIGSEGV at address %#lx", wild_addr);
    for (wild_case = 0; wild_case < 4; wild_case++) {
        struct guest g = {.fn = wild_guest};
        struct xsim_machine *m = make_machine(&g, 1, XSIM_BACKEND_FIBER);

        assert_int_equal(xsim_machine_run(m), XSIM_STOP_FAILED);
        assert_non_null(xsim_machine_failure(m));
        if (strstr(xsim_machine_failure(m), expect) == NULL)
            fail_msg("case %d: %s (expected \"%s\")", wild_case, xsim_machine_failure(m), expect);
        assert_int_equal(g.done[1], 0);
        xsim_machine_destroy(m);
    }
    /* The process goes on: a clean machine still runs to its end. */
    struct guest ok = {.fn = bad_address_guest};
    run_guest(&ok, 1, NULL);
    assert_int_equal(ok.done[0], 1);
    munmap(page, 65536);
}
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_addresses),
        cmocka_unit_test(test_random_hypercalls),
#ifndef XENSIM_SANITIZED
        /* Under AddressSanitizer its own handler reports the fault. */
        cmocka_unit_test(test_wild_user_pointer_fails_the_run),
#endif
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
