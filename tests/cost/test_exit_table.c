/*
 * test_exit_table.c - the exits, injections and emulation one event-channel
 * notification costs, per delivery kind (per-vCPU upcall vector, global
 * callback vector, GSI, platform PCI INTx), per assist (none, APICv, APICv
 * with posted interrupts) and per target state (halted, running guest
 * code), against the table in docs/cost-model.md.
 *
 * vCPU 0 is the target; it sets up the callback and binds an IPI port, then
 * halts or keeps working. vCPU 1 sends one EVTCHNOP_send to that port; the
 * counters are compared from just before the send to the end of the run.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "xensim/abi/event_channel.h"
#include "xensim/abi/hvm_op.h"
#include "xensim/abi/hvm_params.h"
#include "xensim/abi/xen.h"
#include "xensim/cost.h"
#include "xensim/hv.h"
#include "xensim/world.h"

#define VEC     0xf3 /* the callback vector, or the IOAPIC pin's vector */
#define GSI_PIN 9

/* K_PERCPU_FLAG: per-vCPU vector, then HVM_PARAM_CALLBACK_IRQ = 1 (GSI 1)
 * as Linux writes it for the toolstack's sake: the vector must still win. */
enum kind { K_PERCPU, K_GLOBAL, K_GSI, K_INTX, K_PERCPU_FLAG };
enum assist { A_NONE, A_APICV, A_POSTED };

static const char *const kind_names[] = {"percpu-vector", "global-vector", "gsi", "pci-intx",
                                         "percpu+gsi1"};
static const char *const assist_names[] = {"none", "apicv", "apicv+posted"};

struct tx {
    struct xsim_world *w;
    struct xsim_hv *hv;
    struct xsim_domain *d;
    const struct xg_platform *p;
    enum kind kind;
    bool running;
    volatile uint32_t ready, got;
    evtchn_port_t port;
    uint64_t before[XSIM_COST__COUNT], intr_before;
};

static long hcall(struct tx *t, unsigned int op, unsigned long a1, void *a2)
{
    return t->p->ops->hypercall(t->p->ctx, op, a1, (unsigned long)a2, 0, 0, 0);
}

static void work(struct tx *t, uint64_t ns)
{
    t->p->ops->work(t->p->ctx, XG_WORK_GUEST, ns);
}

/* INTx pin of the platform PCI device, after Xen's swizzle (as hv.c). */
static unsigned int intx_gsi(void)
{
    unsigned int dev = XSIM_PLATFORM_PCI_DEVFN >> 3;

    return (((dev << 2) + (dev >> 3) + 0) & 31) + 16;
}

static void program_pin(struct tx *t, unsigned int pin)
{
    /* Level-triggered (bit 15), vector VEC, destination APIC 0. */
    t->p->ops->mmio_write(t->p->ctx, XSIM_IOAPIC_BASE, 4, 0x10 + 2 * pin + 1);
    t->p->ops->mmio_write(t->p->ctx, XSIM_IOAPIC_BASE + 0x10, 4, 0);
    t->p->ops->mmio_write(t->p->ctx, XSIM_IOAPIC_BASE, 4, 0x10 + 2 * pin);
    t->p->ops->mmio_write(t->p->ctx, XSIM_IOAPIC_BASE + 0x10, 4, VEC | (1u << 15));
}

static void setup(struct tx *t)
{
    struct evtchn_bind_ipi bi = {.vcpu = 0};
    struct xen_hvm_evtchn_upcall_vector uv = {.vcpu = 0, .vector = VEC};

    switch (t->kind) {
    case K_PERCPU:
        assert_int_equal(hcall(t, __HYPERVISOR_hvm_op, HVMOP_set_evtchn_upcall_vector, &uv), 0);
        break;
    case K_PERCPU_FLAG:
        assert_int_equal(hcall(t, __HYPERVISOR_hvm_op, HVMOP_set_evtchn_upcall_vector, &uv), 0);
        assert_int_equal(xsim_hv_set_param(t->hv, 1, HVM_PARAM_CALLBACK_IRQ, 1), 0);
        break;
    case K_GLOBAL:
        assert_int_equal(xsim_hv_set_param(t->hv, 1, HVM_PARAM_CALLBACK_IRQ,
                                           ((uint64_t)HVM_PARAM_CALLBACK_TYPE_VECTOR << 56) | VEC),
                         0);
        break;
    case K_GSI:
        program_pin(t, GSI_PIN);
        assert_int_equal(xsim_hv_set_param(t->hv, 1, HVM_PARAM_CALLBACK_IRQ, GSI_PIN), 0);
        break;
    case K_INTX:
        program_pin(t, intx_gsi());
        assert_int_equal(xsim_hv_set_param(t->hv, 1, HVM_PARAM_CALLBACK_IRQ,
                                           ((uint64_t)HVM_PARAM_CALLBACK_TYPE_PCI_INTX << 56) |
                                               ((uint64_t)XSIM_PLATFORM_PCI_DEVFN << 8)),
                         0);
        break;
    }
    assert_int_equal(hcall(t, __HYPERVISOR_event_channel_op, EVTCHNOP_bind_ipi, &bi), 0);
    t->port = bi.port;
}

static void start(void *guest, unsigned int cpu)
{
    struct tx *t = guest;
    struct evtchn_send s;

    t->p->ops->irq_restore(t->p->ctx, true);
    if (cpu == 0) {
        setup(t);
        __atomic_store_n(&t->ready, 1, __ATOMIC_SEQ_CST);
        while (!__atomic_load_n(&t->got, __ATOMIC_SEQ_CST)) {
            if (t->running)
                work(t, 1000);
            else
                t->p->ops->halt(t->p->ctx);
        }
        return;
    }
    while (!__atomic_load_n(&t->ready, __ATOMIC_SEQ_CST))
        t->p->ops->point(t->p->ctx, XG_POINT_SPIN, &t->ready);
    /* Long enough for the target to be halted, or deep in its work. */
    work(t, 20000);
    memcpy(t->before, xsim_world_stats(t->w)->count, sizeof(t->before));
    t->intr_before = xsim_world_stats(t->w)->interrupts;
    s.port = t->port;
    assert_int_equal(hcall(t, __HYPERVISOR_event_channel_op, EVTCHNOP_send, &s), 0);
}

/* The guest's upcall: clear upcall_pending first, then the selector and the
 * port, then EOI unless the global vector (which sets no in-service bit). */
static void interrupt(void *guest, unsigned int cpu, uint8_t vector)
{
    struct tx *t = guest;
    struct vcpu_info *vi = xsim_hv_vcpu_info(t->hv, 1, cpu);
    struct shared_info *si = xsim_hv_shared_info(t->hv, 1);

    assert_int_equal(cpu, 0);
    assert_int_equal(vector, VEC);
    __atomic_store_n(&vi->evtchn_upcall_pending, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&vi->evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);
    __atomic_fetch_and(&si->evtchn_pending[t->port / 64], ~(1ull << (t->port % 64)),
                       __ATOMIC_SEQ_CST);
    if (t->kind != K_GLOBAL)
        t->p->ops->eoi(t->p->ctx);
    __atomic_store_n(&t->got, 1, __ATOMIC_SEQ_CST);
}

struct row {
    enum kind kind;
    enum assist assist;
    bool running;
    /* expected counts after the send */
    unsigned int exit_intr, wake, inject, exit_eoi, eoi_induced, ioapic;
};

static void run_row(const struct row *r)
{
    static const struct xsim_guest_ops ops = {.start = start, .interrupt = interrupt};
    struct xsim_cost_profile prof;
    struct xsim_world_config cfg;
    struct xsim_error err;
    struct xsim_policy *pol = xsim_policy_create("time", &err);
    struct tx t;
    uint64_t d[XSIM_COST__COUNT];
    const struct xsim_stats *st;

    memset(&t, 0, sizeof(t));
    t.kind = r->kind;
    t.running = r->running;
    xsim_cost_profile_default(&prof);
    prof.apicv = r->assist != A_NONE;
    prof.posted_interrupts = r->assist == A_POSTED;
    xsim_world_config_init(&cfg);
    cfg.costs = &prof;
    cfg.time_limit_ns = 2000000;
    assert_non_null(pol);
    assert_int_equal(xsim_world_create(&cfg, pol, &t.w), 0);
    assert_int_equal(xsim_hv_create(t.w, &t.hv), 0);
    assert_int_equal(xsim_domain_create(t.w, 1, 2, 64, &ops, &t, &t.d), 0);
    assert_int_equal(xsim_hv_add_domain(t.hv, t.d, NULL), 0);
    t.p = xsim_domain_platform(t.d);
    xsim_world_run(t.w);
    assert_null(xsim_world_failure(t.w));
    assert_int_equal(t.got, 1);
    st = xsim_world_stats(t.w);
    for (unsigned int i = 0; i < XSIM_COST__COUNT; i++)
        d[i] = st->count[i] - t.before[i];
    print_message("    %-13s %-12s %-7s: hypercall %" PRIu64 " exit_intr %" PRIu64 " wake %" PRIu64
                  " inject %" PRIu64 " exit_eoi %" PRIu64 " exit_eoi_induced %" PRIu64
                  " ioapic %" PRIu64 "\n",
                  kind_names[r->kind], assist_names[r->assist], r->running ? "running" : "halted",
                  d[XSIM_COST_HYPERCALL], d[XSIM_COST_EXIT_INTR], d[XSIM_COST_WAKE],
                  d[XSIM_COST_INJECT], d[XSIM_COST_EXIT_EOI], d[XSIM_COST_EXIT_EOI_INDUCED],
                  d[XSIM_COST_IOAPIC]);
    /* One send, one delivery: no re-delivery after the EOI. */
    assert_int_equal(d[XSIM_COST_HYPERCALL], 1);
    assert_int_equal(st->interrupts - t.intr_before, 1);
    assert_int_equal(d[XSIM_COST_EXIT_INTR], r->exit_intr);
    assert_int_equal(d[XSIM_COST_WAKE], r->wake);
    assert_int_equal(d[XSIM_COST_INJECT], r->inject);
    assert_int_equal(d[XSIM_COST_EXIT_EOI], r->exit_eoi);
    assert_int_equal(d[XSIM_COST_EXIT_EOI_INDUCED], r->eoi_induced);
    assert_int_equal(d[XSIM_COST_IOAPIC], r->ioapic);
    assert_int_equal(d[XSIM_COST_EXIT_MSR] + d[XSIM_COST_EXIT_MMIO] + d[XSIM_COST_EXIT_IO], 0);
    xsim_hv_destroy(t.hv);
    xsim_world_destroy(t.w);
    xsim_policy_destroy(pol);
}

/* The table of docs/cost-model.md: kind x assist x target state. */
static const struct row table[] = {
    /* kind     assist    running  intr wake inj eoi induced ioapic */
    {K_PERCPU, A_NONE, false, 0, 1, 1, 1, 0, 0},   {K_PERCPU, A_NONE, true, 1, 0, 1, 1, 0, 0},
    {K_PERCPU, A_APICV, false, 0, 1, 1, 0, 0, 0},  {K_PERCPU, A_APICV, true, 1, 0, 1, 0, 0, 0},
    {K_PERCPU, A_POSTED, false, 0, 1, 1, 0, 0, 0}, {K_PERCPU, A_POSTED, true, 0, 0, 1, 0, 0, 0},
    {K_GLOBAL, A_NONE, false, 0, 1, 1, 0, 0, 0},   {K_GLOBAL, A_NONE, true, 1, 0, 1, 0, 0, 0},
    {K_GLOBAL, A_APICV, false, 0, 1, 1, 0, 0, 0},  {K_GLOBAL, A_APICV, true, 1, 0, 1, 0, 0, 0},
    {K_GLOBAL, A_POSTED, false, 0, 1, 1, 0, 0, 0}, {K_GLOBAL, A_POSTED, true, 1, 0, 1, 0, 0, 0},
    {K_GSI, A_NONE, false, 0, 1, 1, 1, 0, 1},      {K_GSI, A_NONE, true, 1, 0, 1, 1, 0, 1},
    {K_GSI, A_APICV, false, 0, 1, 1, 0, 1, 1},     {K_GSI, A_APICV, true, 1, 0, 1, 0, 1, 1},
    {K_GSI, A_POSTED, false, 0, 1, 1, 0, 1, 1},    {K_GSI, A_POSTED, true, 0, 0, 1, 0, 1, 1},
    {K_INTX, A_NONE, false, 0, 1, 1, 1, 0, 1},     {K_INTX, A_NONE, true, 1, 0, 1, 1, 0, 1},
    {K_INTX, A_APICV, false, 0, 1, 1, 0, 1, 1},    {K_INTX, A_APICV, true, 1, 0, 1, 0, 1, 1},
    {K_INTX, A_POSTED, false, 0, 1, 1, 0, 1, 1},   {K_INTX, A_POSTED, true, 0, 0, 1, 0, 1, 1},
    {K_PERCPU_FLAG, A_NONE, false, 0, 1, 1, 1, 0, 0}, {K_PERCPU_FLAG, A_NONE, true, 1, 0, 1, 1, 0, 0},
    {K_PERCPU_FLAG, A_POSTED, true, 0, 0, 1, 0, 0, 0},
};

static void test_exit_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
        run_row(&table[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exit_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
