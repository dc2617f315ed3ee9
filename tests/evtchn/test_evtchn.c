/*
 * test_evtchn.c - event channels end to end: the hypervisor's semantics
 * matched to the Linux KVM Xen selftests (xen_shinfo_test), the callback
 * fallback matrix, delivery to the CPU a port is bound to, a move Xen
 * refuses (the map stays where Xen delivers), a masked port moved (it
 * stays masked), balancing and
 * the rebalancer - each once per ABI (a CMocka group for 2-level and one
 * for FIFO) - then what only FIFO has: Xen's init_control/expand_array/
 * set_priority errors, the ABI choice and its fallback, priority order,
 * every one of the 131072 ports, and the BUSY and LINKED rules.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "broken_fifo.h"
#include "harness.h"
#include "xensim/abi/sched.h"
#include "xensim/abi/vcpu.h"

struct counter {
    uint64_t hits;
    unsigned int last_cpu;
    uint64_t cpu_hits[XG_MAX_CPUS];
};

static int count_handler(struct xg_guest *g, evtchn_port_t port, void *arg)
{
    struct counter *c = arg;
    unsigned int cpu = xg_cpu(g->p);

    c->hits++;
    c->last_cpu = cpu;
    c->cpu_hits[cpu]++;
    return XG_EVTCHN_HANDLED;
}

static bool port_pending(struct th *t, evtchn_port_t port)
{
    struct xsim_hv_port_info pi;

    assert_int_equal(xsim_hv_port_info(t->hv, TH_GUEST_DOMID, port, &pi), 0);
    return pi.pending;
}

/* A guest port connected to a backend port in dom0. */
static void connect_backend(struct th *t, struct counter *c, evtchn_port_t *gport,
                            evtchn_port_t *bport)
{
    assert_int_equal(xg_evtchn_alloc_unbound(t->g, TH_BACKEND_DOMID, count_handler, c, gport), 0);
    assert_int_equal(
        xsim_hv_evtchn_bind_interdomain(t->hv, TH_BACKEND_DOMID, TH_GUEST_DOMID, *gport, bport), 0);
}

/* ---- xen_shinfo_test behaviours ---- */

struct shinfo_ctx {
    struct counter c;
    evtchn_port_t gport, bport;
    bool masked_pending, masked_no_upcall, unmask_upcall, unbound_dropped;
    long unbound_send_rc;
    bool new_port_pending;
    bool raw_pending_before_close, raw_pending_after_close;
    long raw_close_rc;
};

static void shinfo_main(struct th *t, unsigned int cpu)
{
    struct shinfo_ctx *x = t->user;
    struct xg_cpu_stats before, after;

    if (cpu != 0)
        return;
    xg_evtchn_alloc_unbound(t->g, TH_BACKEND_DOMID, count_handler, &x->c, &x->gport);
    /* The port comes back masked: a send leaves it pending, no upcall. */
    assert_int_equal(xsim_hv_evtchn_bind_interdomain(t->hv, TH_BACKEND_DOMID, TH_GUEST_DOMID,
                                                     x->gport, &x->bport),
                     0);
    xg_cpu_stats(t->g, 0, &before);
    assert_int_equal(xsim_hv_evtchn_send(t->hv, TH_BACKEND_DOMID, x->bport), 0);
    for (int i = 0; i < 10; i++)
        xg_point(t->p, XG_POINT_LOAD, NULL);
    xg_cpu_stats(t->g, 0, &after);
    x->masked_pending = port_pending(t, x->gport);
    x->masked_no_upcall = after.upcalls == before.upcalls && x->c.hits == 0;
    /* Unmask: the pending event is delivered. */
    assert_int_equal(xg_evtchn_unmask(t->g, x->gport), 0);
    for (int i = 0; i < 10; i++)
        xg_point(t->p, XG_POINT_LOAD, NULL);
    x->unmask_upcall = x->c.hits == 1 && !port_pending(t, x->gport);

    /* Send on an unbound port: silently dropped. */
    evtchn_port_t lonely;
    struct counter c2 = {0};
    assert_int_equal(xg_evtchn_alloc_unbound(t->g, TH_BACKEND_DOMID, count_handler, &c2, &lonely),
                     0);
    x->unbound_send_rc = xg_evtchn_notify(t->g, lonely);
    x->unbound_dropped = !port_pending(t, lonely);
    xg_evtchn_close(t->g, lonely);

    /* bind_interdomain marks the new local port pending. */
    evtchn_port_t bp, gp;
    assert_int_equal(xsim_hv_evtchn_alloc_unbound(t->hv, TH_BACKEND_DOMID, TH_GUEST_DOMID, &bp), 0);
    assert_int_equal(
        xg_evtchn_bind_interdomain(t->g, TH_BACKEND_DOMID, bp, count_handler, &c2, &gp), 0);
    x->new_port_pending = port_pending(t, gp);

    /* EVTCHNOP_close frees a pending port clean (Xen's evtchn_free clears
     * it), whatever the guest did first: a raw port the guest's tables do
     * not know, masked since boot, sent to, then closed. */
    struct evtchn_alloc_unbound au = {.dom = DOMID_SELF, .remote_dom = TH_BACKEND_DOMID};
    struct xsim_hv_port_info pi;
    assert_int_equal(xg_hypercall(t->p, __HYPERVISOR_event_channel_op, EVTCHNOP_alloc_unbound,
                                  (unsigned long)&au, 0),
                     0);
    assert_int_equal(
        xsim_hv_evtchn_bind_interdomain(t->hv, TH_BACKEND_DOMID, TH_GUEST_DOMID, au.port, &bp), 0);
    assert_int_equal(xsim_hv_evtchn_send(t->hv, TH_BACKEND_DOMID, bp), 0);
    xsim_hv_port_info(t->hv, TH_GUEST_DOMID, au.port, &pi);
    x->raw_pending_before_close = pi.pending;
    struct evtchn_close cl = {.port = au.port};
    x->raw_close_rc =
        xg_hypercall(t->p, __HYPERVISOR_event_channel_op, EVTCHNOP_close, (unsigned long)&cl, 0);
    xsim_hv_port_info(t->hv, TH_GUEST_DOMID, au.port, &pi);
    x->raw_pending_after_close = pi.pending;
}

static void test_shinfo_semantics(void **state)
{
    struct th t;
    struct shinfo_ctx x;

    (void)state;
    memset(&x, 0, sizeof(x));
    assert_int_equal(th_create_main(&t, 1, shinfo_main, &x), 0);
    assert_int_equal(th_run(&t), XSIM_STOP_QUIESCENT);
    assert_int_equal(t.boot_rc, 0);
    assert_int_equal(xg_guest_callback(t.g), XG_CB_PERCPU_VECTOR);
    assert_true(x.masked_pending);
    assert_true(x.masked_no_upcall);
    assert_true(x.unmask_upcall);
    assert_int_equal(x.unbound_send_rc, 0);
    assert_true(x.unbound_dropped);
    assert_true(x.new_port_pending);
    assert_true(x.raw_pending_before_close);
    assert_int_equal(x.raw_close_rc, 0);
    assert_false(x.raw_pending_after_close);
    th_destroy(&t);
}

/* Hypervisor errors for bad requests. */
static void errors_main(struct th *t, unsigned int cpu)
{
    long *rc = t->user;
    const struct xg_platform *p = t->p;
    struct evtchn_bind_virq bv = {.virq = VIRQ_TIMER, .vcpu = 0};
    struct evtchn_send s = {.port = 4095};
    struct evtchn_close cl = {.port = 0};
    struct evtchn_bind_ipi bi = {.vcpu = 7};
    struct evtchn_bind_virq bg = {.virq = VIRQ_CONSOLE, .vcpu = 1};

    if (cpu != 0)
        return;
    rc[0] =
        xg_hypercall(p, __HYPERVISOR_event_channel_op, EVTCHNOP_bind_virq, (unsigned long)&bv, 0);
    rc[1] =
        xg_hypercall(p, __HYPERVISOR_event_channel_op, EVTCHNOP_bind_virq, (unsigned long)&bv, 0);
    rc[2] = xg_hypercall(p, __HYPERVISOR_event_channel_op, EVTCHNOP_send, (unsigned long)&s, 0);
    rc[3] = xg_hypercall(p, __HYPERVISOR_event_channel_op, EVTCHNOP_close, (unsigned long)&cl, 0);
    rc[4] =
        xg_hypercall(p, __HYPERVISOR_event_channel_op, EVTCHNOP_bind_ipi, (unsigned long)&bi, 0);
    rc[5] =
        xg_hypercall(p, __HYPERVISOR_event_channel_op, EVTCHNOP_bind_virq, (unsigned long)&bg, 0);
    /* send on a VIRQ port: -EINVAL (as QEMU's emulation answers) */
    s.port = bv.port;
    rc[6] = xg_hypercall(p, __HYPERVISOR_event_channel_op, EVTCHNOP_send, (unsigned long)&s, 0);
    /* moving a per-vCPU VIRQ: -EINVAL */
    struct evtchn_bind_vcpu mv = {.port = bv.port, .vcpu = 1};
    rc[7] =
        xg_hypercall(p, __HYPERVISOR_event_channel_op, EVTCHNOP_bind_vcpu, (unsigned long)&mv, 0);
    rc[8] = xg_hypercall(p, __HYPERVISOR_event_channel_op, 99, (unsigned long)&mv, 0);
    rc[9] = xg_hypercall(p, __HYPERVISOR_event_channel_op, EVTCHNOP_send, 0, 0);
    /* The lowest free port is allocated, and reused after close. */
    struct evtchn_bind_ipi i1 = {.vcpu = 0}, i2 = {.vcpu = 0};
    xg_hypercall(p, __HYPERVISOR_event_channel_op, EVTCHNOP_bind_ipi, (unsigned long)&i1, 0);
    cl.port = i1.port;
    xg_hypercall(p, __HYPERVISOR_event_channel_op, EVTCHNOP_close, (unsigned long)&cl, 0);
    xg_hypercall(p, __HYPERVISOR_event_channel_op, EVTCHNOP_bind_ipi, (unsigned long)&i2, 0);
    rc[10] = i1.port == i2.port && i1.port == bv.port + 1;
}

static void test_hypervisor_errors(void **state)
{
    struct th t;
    long rc[11];

    (void)state;
    assert_int_equal(th_create_main(&t, 2, errors_main, rc), 0);
    th_run(&t);
    assert_int_equal(rc[0], 0);
    assert_int_equal(rc[1], -EEXIST);
    assert_int_equal(rc[2], -EINVAL); /* port 4095 was never allocated: free -> -EINVAL */
    assert_int_equal(rc[3], -EINVAL);
    assert_int_equal(rc[4], -ENOENT);
    assert_int_equal(rc[5], -EINVAL); /* global VIRQ on vCPU 1 */
    assert_int_equal(rc[6], -EINVAL);
    assert_int_equal(rc[7], -EINVAL);
    assert_int_equal(rc[8], -ENOSYS);
    assert_int_equal(rc[9], -EFAULT);
    assert_int_equal(rc[10], 1);
    th_destroy(&t);
}

/* ---- SCHEDOP_poll: ready, timeout, masked, wake ---- */

struct poll_ctx {
    struct counter c;
    evtchn_port_t gport, bport, other_g, other_b;
    uint64_t t_ready, t_timeout, t_masked, t_wake;
    uint64_t deadline;
    long rc[4];
};

static long do_poll(struct th *t, evtchn_port_t port, uint64_t timeout)
{
    struct sched_poll sp;

    memset(&sp, 0, sizeof(sp));
    set_xen_guest_handle(sp.ports, &port);
    sp.nr_ports = 1;
    sp.timeout = timeout;
    return xg_hypercall(t->p, __HYPERVISOR_sched_op, SCHEDOP_poll, (unsigned long)&sp, 0);
}

static void wake_send(struct xsim_world *w, void *arg)
{
    struct th *t = arg;
    struct poll_ctx *x = t->user;

    xsim_hv_evtchn_send(t->hv, TH_BACKEND_DOMID, x->bport);
}

static void poll_main(struct th *t, unsigned int cpu)
{
    struct poll_ctx *x = t->user;
    uint64_t t0;

    if (cpu != 0)
        return;
    connect_backend(t, &x->c, &x->gport, &x->bport);
    /* A pending port: poll is ready at once. The port is still masked,
     * which poll ignores. */
    xsim_hv_evtchn_send(t->hv, TH_BACKEND_DOMID, x->bport);
    t0 = th_now(t);
    x->rc[0] = do_poll(t, x->gport, 0);
    x->t_ready = th_now(t) - t0;
    xg_evtchn_unmask(t->g, x->gport); /* delivers it */
    /* Nothing pending: the timeout ends the poll. */
    t0 = th_now(t);
    x->deadline = t0 + 1000000;
    x->rc[1] = do_poll(t, x->gport, x->deadline);
    x->t_timeout = th_now(t);
    /* Masked and pending: ready. */
    xg_evtchn_mask(t->g, x->gport);
    xsim_hv_evtchn_send(t->hv, TH_BACKEND_DOMID, x->bport);
    t0 = th_now(t);
    x->rc[2] = do_poll(t, x->gport, t0 + 1000000);
    x->t_masked = th_now(t) - t0;
    xg_evtchn_unmask(t->g, x->gport);
    /* Woken by a send 50 us later, long before the 10 ms timeout. */
    t0 = th_now(t);
    xsim_event_schedule(t->w, t0 + 50000, 7, wake_send, t);
    x->rc[3] = do_poll(t, x->gport, t0 + 10000000);
    x->t_wake = th_now(t) - t0;
}

static void test_poll(void **state)
{
    struct th t;
    struct poll_ctx x;

    (void)state;
    memset(&x, 0, sizeof(x));
    assert_int_equal(th_create_main(&t, 1, poll_main, &x), 0);
    enum xsim_stop_reason r = th_run(&t);
    if (r != XSIM_STOP_QUIESCENT)
        fail_msg("stopped: %s %s", xsim_stop_reason_name(r), xsim_world_failure(t.w) ?: "");
    for (int i = 0; i < 4; i++)
        assert_int_equal(x.rc[i], 0);
    assert_true(x.t_ready < 10000);
    assert_true(x.t_timeout >= x.deadline);
    assert_true(x.t_masked < 10000);
    if (!(x.t_wake >= 50000 && x.t_wake < 1000000))
        fail_msg("poll woken after %" PRIu64 " ns", x.t_wake);
    assert_int_equal(x.c.hits, 3); /* the three deliveries after unmasking */
    th_destroy(&t);
}

/* ---- vcpu_info re-registration, moving a port ---- */

struct move_ctx {
    struct counter c;
    evtchn_port_t gport, bport;
    uint64_t hits_after_rereg;
    int move_rc;
    unsigned int cpu_after_move;
    uint64_t cpu1_hits;
};

static void settle(struct th *t)
{
    for (int i = 0; i < 50; i++)
        xg_point(t->p, XG_POINT_LOAD, NULL);
}

/* A backend port bound, unmasked and left on CPU 0 (no balancing), with
 * the world settled: where the move tests start. */
static void connect_on_cpu0(struct th *t, struct counter *c, evtchn_port_t *gport,
                            evtchn_port_t *bport)
{
    t->g->cfg.balance_at_bind = false;
    connect_backend(t, c, gport, bport);
    xg_evtchn_unmask(t->g, *gport);
    settle(t);
}

static void move_main(struct th *t, unsigned int cpu)
{
    struct move_ctx *x = t->user;

    if (cpu != 0)
        return;
    connect_on_cpu0(t, &x->c, &x->gport, &x->bport);
    /* Re-register vCPU 0's vcpu_info at a new place. */
    uint64_t gfn;
    uint8_t *page = xg_page_alloc(t->p, &gfn);
    struct vcpu_register_vcpu_info r = {.mfn = gfn, .offset = 128};
    assert_int_equal(
        xg_hypercall(t->p, __HYPERVISOR_vcpu_op, VCPUOP_register_vcpu_info, 0, (unsigned long)&r),
        0);
    t->g->cpus[0].vi = (struct vcpu_info *)(page + 128);
    settle(t);
    uint64_t before = x->c.hits;
    xsim_hv_evtchn_send(t->hv, TH_BACKEND_DOMID, x->bport);
    settle(t);
    x->hits_after_rereg = x->c.hits - before;
    /* Move the port to CPU 1: it is delivered there. */
    x->move_rc = xg_evtchn_set_cpu(t->g, x->gport, 1);
    x->cpu_after_move = (unsigned int)xg_evtchn_get_cpu(t->g, x->gport);
    xsim_hv_evtchn_send(t->hv, TH_BACKEND_DOMID, x->bport);
    settle(t);
}

static void test_rereg_and_move(void **state)
{
    struct th t;
    struct move_ctx x;

    (void)state;
    memset(&x, 0, sizeof(x));
    assert_int_equal(th_create_main(&t, 2, move_main, &x), 0);
    th_run(&t);
    assert_int_equal(x.hits_after_rereg, 1);
    assert_int_equal(x.move_rc, 0);
    assert_int_equal(x.cpu_after_move, 1);
    assert_int_equal(x.c.cpu_hits[1], 1);
    struct xsim_hv_port_info pi;
    xsim_hv_port_info(t.hv, TH_GUEST_DOMID, x.gport, &pi);
    assert_int_equal(pi.notify_vcpu, 1);
    th_destroy(&t);
}

/* ---- a move Xen refuses ---- */

/* The platform's ops with EVTCHNOP_bind_vcpu refused (-ENOENT, what Xen
 * answers for a vCPU it does not have), as Xen may refuse a move the
 * guest's own checks allowed. */
static const struct xg_platform_ops *refuse_real_ops;
static struct xg_platform_ops refuse_ops;

static long refuse_bind_vcpu(void *ctx, unsigned int op, unsigned long a1, unsigned long a2,
                             unsigned long a3, unsigned long a4, unsigned long a5)
{
    if (op == __HYPERVISOR_event_channel_op && a1 == EVTCHNOP_bind_vcpu)
        return -ENOENT;
    return refuse_real_ops->hypercall(ctx, op, a1, a2, a3, a4, a5);
}

struct refuse_ctx {
    struct counter c;
    evtchn_port_t gport, bport;
    int move_rc;
    int cpu_after;
    uint64_t hits;
};

static void refuse_main(struct th *t, unsigned int cpu)
{
    struct refuse_ctx *x = t->user;
    struct xg_platform *p = (struct xg_platform *)t->p;

    if (cpu != 0)
        return;
    connect_on_cpu0(t, &x->c, &x->gport, &x->bport);
    refuse_real_ops = p->ops;
    refuse_ops = *p->ops;
    refuse_ops.hypercall = refuse_bind_vcpu;
    p->ops = &refuse_ops;
    x->move_rc = xg_evtchn_set_cpu(t->g, x->gport, 1);
    p->ops = refuse_real_ops;
    /* Invariant 5: the map moves only once Xen agreed, so it still says
     * CPU 0, where Xen still delivers; and the port is unmasked again. */
    x->cpu_after = xg_evtchn_get_cpu(t->g, x->gport);
    uint64_t before = x->c.hits;
    xsim_hv_evtchn_send(t->hv, TH_BACKEND_DOMID, x->bport);
    settle(t);
    x->hits = x->c.hits - before;
}

static void test_move_refused(void **state)
{
    struct th t;
    struct refuse_ctx x;

    (void)state;
    memset(&x, 0, sizeof(x));
    assert_int_equal(th_create_main(&t, 2, refuse_main, &x), 0);
    th_run(&t);
    assert_int_equal(x.move_rc, -ENOENT);
    assert_int_equal(x.cpu_after, 0);
    assert_int_equal(x.hits, 1);
    assert_int_equal(x.c.cpu_hits[0], 1);
    struct xsim_hv_port_info pi;
    xsim_hv_port_info(t.hv, TH_GUEST_DOMID, x.gport, &pi);
    assert_int_equal(pi.notify_vcpu, 0);
    th_destroy(&t);
}

/* A port its user masked stays masked across a move (invariant 5: unmask
 * after the move only if it was unmasked before): an event sent meanwhile
 * waits, and comes on the new CPU once the user unmasks. */
struct keepmask_ctx {
    struct counter c;
    evtchn_port_t gport, bport;
    int move_rc;
    uint64_t hits_masked;
};

static void keepmask_main(struct th *t, unsigned int cpu)
{
    struct keepmask_ctx *x = t->user;

    if (cpu != 0)
        return;
    connect_on_cpu0(t, &x->c, &x->gport, &x->bport);
    xg_evtchn_mask(t->g, x->gport);
    x->move_rc = xg_evtchn_set_cpu(t->g, x->gport, 1);
    xsim_hv_evtchn_send(t->hv, TH_BACKEND_DOMID, x->bport);
    /* Time for CPU 1 to wake and run a handler, were the port unmasked. */
    xg_work(t->p, XG_WORK_GUEST, 200000);
    x->hits_masked = x->c.hits;
    xg_evtchn_unmask(t->g, x->gport);
}

static void test_move_keeps_mask(void **state)
{
    struct th t;
    struct keepmask_ctx x;

    (void)state;
    memset(&x, 0, sizeof(x));
    assert_int_equal(th_create_main(&t, 2, keepmask_main, &x), 0);
    th_run(&t);
    assert_int_equal(x.move_rc, 0);
    assert_int_equal(x.hits_masked, 0);
    /* Once unmasked, the event waiting came, on CPU 1. */
    assert_int_equal(x.c.hits, 1);
    assert_int_equal(x.c.cpu_hits[1], 1);
    th_destroy(&t);
}

/* ---- the fallback matrix ---- */

struct matrix_ctx {
    struct counter c;
    evtchn_port_t gport, bport;
    int set_cpu_rc, ipi_rc;
};

static void matrix_main(struct th *t, unsigned int cpu)
{
    struct matrix_ctx *x = t->user;

    if (cpu != 0)
        return;
    connect_backend(t, &x->c, &x->gport, &x->bport);
    xg_evtchn_unmask(t->g, x->gport);
    settle(t);
    for (int i = 0; i < 5; i++) {
        xsim_hv_evtchn_send(t->hv, TH_BACKEND_DOMID, x->bport);
        settle(t);
    }
    x->set_cpu_rc = xg_evtchn_set_cpu(t->g, x->gport, 1);
    evtchn_port_t ip;
    x->ipi_rc = xg_evtchn_bind_ipi(t->g, 1, count_handler, &x->c, &ip);
}

static void test_fallback_matrix(void **state)
{
    (void)state;
    for (unsigned int hide = 0; hide < 8; hide++) {
        for (int force = XG_CB_NONE; force <= XG_CB_GSI; force++) {
            struct th_config cfg;
            struct th t;
            struct matrix_ctx x;
            bool percpu = !(hide & 1), vector = !(hide & 2), pci = !(hide & 4);
            enum xg_callback expect;

            memset(&x, 0, sizeof(x));
            th_config_init(&cfg, 2);
            cfg.features.percpu_upcall_vector = percpu;
            cfg.features.hvm_callback_vector = vector;
            cfg.features.platform_pci = pci;
            cfg.guest.force_callback = (enum xg_callback)force;
            /* The FIFO group also hides FIFO itself every other time: AUTO
             * must fall back to 2-level whatever the callback. */
            bool fifo_offered = th_event_abi != XG_EVENT_ABI_2L && (force & 1) == 0;
            cfg.features.fifo_events = fifo_offered;
            if (th_event_abi != XG_EVENT_ABI_2L)
                cfg.guest.event_abi = XG_EVENT_ABI_AUTO;
            cfg.main = matrix_main;
            cfg.user = &x;
            /* Preference order, unless a forced kind is available. */
            bool avail[5] = {false, percpu, vector, pci, true};
            expect = XG_CB_GSI;
            for (int k = XG_CB_PERCPU_VECTOR; k <= XG_CB_GSI; k++) {
                if (avail[k]) {
                    expect = (enum xg_callback)k;
                    break;
                }
            }
            if (force != XG_CB_NONE && avail[force])
                expect = (enum xg_callback)force;
            assert_int_equal(th_create(&t, &cfg, NULL), 0);
            th_run(&t);
            assert_string_equal(xg_guest_evtchn_abi(t.g), fifo_offered ? "fifo" : "2-level");
            assert_string_equal(xsim_hv_evtchn_abi(t.hv, TH_GUEST_DOMID),
                                fifo_offered ? "fifo" : "2-level");
            if (t.boot_rc != 0 || xg_guest_callback(t.g) != expect || x.c.hits != 5)
                fail_msg(
                    "hide=%u force=%s: boot %d, callback %s (expected %s), %" PRIu64 " of 5 events",
                    hide, xg_callback_name((enum xg_callback)force), t.boot_rc,
                    xg_callback_name(xg_guest_callback(t.g)), xg_callback_name(expect), x.c.hits);
            assert_int_equal(xsim_hv_callback_mode(t.hv, TH_GUEST_DOMID),
                             expect == XG_CB_PERCPU_VECTOR ? XSIM_CB_PERCPU_VECTOR
                             : expect == XG_CB_VECTOR      ? XSIM_CB_VECTOR
                             : expect == XG_CB_PCI_INTX    ? XSIM_CB_PCI_INTX
                                                           : XSIM_CB_GSI);
            bool irq = expect == XG_CB_PCI_INTX || expect == XG_CB_GSI;
            assert_int_equal(x.set_cpu_rc, irq ? -EOPNOTSUPP : 0);
            assert_int_equal(x.ipi_rc, irq ? -EOPNOTSUPP : 0);
            /* Only vCPU 0 took events in IRQ mode. */
            if (irq)
                assert_int_equal(x.c.cpu_hits[1], 0);
            th_destroy(&t);
        }
    }
}

/* Not on Xen: no signature, boot says so. */
static void test_no_xen(void **state)
{
    struct th_config cfg;
    struct th t;
    struct xsim_world_config wc;

    (void)state;
    th_config_init(&cfg, 1);
    assert_int_equal(th_create(&t, &cfg, NULL), 0);
    /* Remove the CPUID hook: a machine without a hypervisor signature. */
    struct xsim_cpu_hooks none = {0};
    xsim_world_set_cpu_hooks(t.w, &none);
    th_run(&t);
    assert_int_equal(t.boot_rc, -ENODEV);
    th_destroy(&t);
    (void)wc;
}

#include "test_evtchn_fifo.inc"

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shinfo_semantics),
        cmocka_unit_test(test_hypervisor_errors),
        cmocka_unit_test(test_poll),
        cmocka_unit_test(test_rereg_and_move),
        cmocka_unit_test(test_move_refused),
        cmocka_unit_test(test_move_keeps_mask),
        cmocka_unit_test(test_fallback_matrix),
        cmocka_unit_test(test_no_xen),
        cmocka_unit_test(test_every_port),
    };
    const struct CMUnitTest fifo_only[] = {
        cmocka_unit_test(test_fifo_errors),
        cmocka_unit_test(test_abi_choice),
        cmocka_unit_test(test_priority_order),
        cmocka_unit_test(test_unmask_waits_for_busy),
        cmocka_unit_test(test_close_waits_for_linked),
        cmocka_unit_test(test_stale_head),
    };
    int failed = 0;

    failed += TH_RUN_PER_ABI(tests);
    failed += cmocka_run_group_tests_name("fifo-only", fifo_only, th_abi_group_fifo, NULL);
    return failed;
}
