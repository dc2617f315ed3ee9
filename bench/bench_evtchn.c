/*
 * bench_evtchn - host cost of simulated event delivery, against the
 * world's own baton handoff measured in the same run:
 *   events_per_s_local      send and handle on the same vCPU
 *   events_per_s_cross      sender and handler on different vCPUs
 *   ns_per_event_16_ports   local traffic with 16 bound idle ports
 *   ns_per_event_4096_ports the same traffic with 4094 bound ports (all of 1..4095 but one)
 *   port_scaling_ratio      4096 / 16                      (target <= 1.2)
 *   switch_ns               one baton handoff (bench_world's measure)
 *   cross_ratio             ns per cross event / switch_ns
 *   cross_local_ratio       ns per cross event / ns per local event
 * (all of the above on the 2-level ABI), and for the same local traffic in
 * the same run:
 *   twolevel_ns_per_event   2-level ABI, 16 bound ports
 *   fifo_ns_per_event       FIFO ABI, 16 bound ports
 *   fifo_ns_per_event_131072_ports  FIFO with 131070 bound ports (all but 0 and one)
 *   fifo_port_scaling_ratio 131072 / 16 under FIFO      (target <= 1.2)
 * "backend" names the vCPU backend every figure was measured on: the
 * default (fiber on x86-64 and aarch64), or --backend thread|fiber.
 * The last line is one JSON object. --quick runs a short version.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "bench_util.h"

struct bctx {
    uint64_t n;        /* events to deliver */
    unsigned int idle; /* extra idle bound ports */
    bool cross;
    evtchn_port_t tx, rx, back_tx, back_rx;
    volatile uint64_t got, back;
    double t0, t1;
};

static int rx_handler(struct xg_guest *g, evtchn_port_t port, void *arg)
{
    struct bctx *b = arg;

    b->got++;
    /* Cross: answer so that the sender can send the next one. */
    if (b->cross)
        xg_evtchn_notify(g, b->back_tx);
    return XG_EVTCHN_HANDLED;
}

static int back_handler(struct xg_guest *g, evtchn_port_t port, void *arg)
{
    struct bctx *b = arg;

    b->back++;
    return XG_EVTCHN_HANDLED;
}

static int idle_handler(struct xg_guest *g, evtchn_port_t port, void *arg)
{
    return XG_EVTCHN_HANDLED;
}

static void pair(struct th *t, xg_evtchn_handler_fn fn, void *arg, evtchn_port_t *tx,
                 evtchn_port_t *rx, unsigned int cpu)
{
    if (xg_evtchn_alloc_unbound(t->g, DOMID_SELF, fn, arg, tx) != 0 ||
        xg_evtchn_bind_interdomain(t->g, DOMID_SELF, *tx, fn, arg, rx) != 0) {
        fprintf(stderr, "bench_evtchn: cannot bind ports\n");
        exit(1);
    }
    if (cpu != 0)
        xg_evtchn_set_cpu(t->g, *rx, cpu);
    /* bind_interdomain left the new port pending: drop that event so that
     * the counts below are exact. */
    t->g->ops->clear_pending(t->g, *rx);
    xg_evtchn_unmask(t->g, *rx);
}

static void bench_main(struct th *t, unsigned int cpu)
{
    struct bctx *b = t->user;

    if (cpu == 0) {
        t->g->cfg.balance_at_bind = false;
        for (unsigned int i = 0; i < b->idle; i += 2) {
            evtchn_port_t a, c;
            pair(t, idle_handler, NULL, &a, &c, 0);
        }
        pair(t, rx_handler, b, &b->tx, &b->rx, 0);
        if (b->cross)
            pair(t, back_handler, b, &b->back_tx, &b->back_rx, 1);
        /* Let the pending bits of the fresh bindings drain. */
        for (int i = 0; i < 100; i++)
            xg_point(t->p, XG_POINT_LOAD, NULL);
        b->got = 0;
        b->back = 0;
        if (!b->cross) {
            b->t0 = now_s();
            for (uint64_t i = 0; i < b->n; i++)
                xg_evtchn_notify(t->g, b->tx);
            b->t1 = now_s();
        } else {
            xg_write_u32(t->p, &t->started, 2);
            th_wake_others(t);
        }
    } else if (cpu == 1 && b->cross) {
        th_wait_u32(t, &t->started, 2);
        b->t0 = now_s();
        for (uint64_t i = 0; i < b->n; i++) {
            xg_evtchn_notify(t->g, b->tx);
            bool was = xg_irq_save(t->p);
            while (xg_read_u64(t->p, &b->back) <= i) {
                xg_halt(t->p);
                (void)xg_irq_save(t->p);
            }
            xg_irq_restore(t->p, was);
        }
        b->t1 = now_s();
    }
}

static enum xsim_backend backend = XSIM_BACKEND_AUTO;

static double run(enum xg_event_abi abi, uint64_t n, unsigned int idle, bool cross,
                  uint64_t *switches)
{
    struct th_config cfg;
    struct th t;
    struct bctx b = {.n = n, .idle = idle, .cross = cross};

    th_config_init(&cfg, cross ? 2 : 1);
    cfg.world.backend = backend;
    cfg.guest.event_abi = abi;
    cfg.ram_pages = 320; /* FIFO's 128 event array pages and the rest */
    cfg.main = bench_main;
    cfg.user = &b;
    if (th_create(&t, &cfg, NULL) != 0) {
        fprintf(stderr, "bench_evtchn: setup failed\n");
        exit(1);
    }
    th_run(&t);
    if (strcmp(xg_guest_evtchn_abi(t.g), abi == XG_EVENT_ABI_2L ? "2-level" : "fifo") != 0) {
        fprintf(stderr, "bench_evtchn: the guest runs %s\n", xg_guest_evtchn_abi(t.g));
        exit(1);
    }
    if (b.got != n) {
        fprintf(stderr, "bench_evtchn: %" PRIu64 " of %" PRIu64 " events delivered\n", b.got, n);
        exit(1);
    }
    if (switches != NULL)
        *switches = xsim_world_stats(t.w)->switches;
    th_destroy(&t);
    return (b.t1 - b.t0) * 1e9 / (double)n;
}

/* The world's baton handoff, as bench_world measures it. */
struct loop_guest {
    const struct xg_platform *p;
    uint64_t n;
    volatile uint64_t x;
};

static void loop_start(void *guest, unsigned int cpu)
{
    struct loop_guest *g = guest;

    for (uint64_t i = 0; i < g->n; i++)
        xg_point(g->p, XG_POINT_LOAD, &g->x);
}

static double switch_ns(uint64_t n)
{
    static const struct xsim_guest_ops ops = {.start = loop_start};
    struct xsim_world_config cfg;
    struct xsim_world *w;
    struct xsim_domain *d;
    struct xsim_error err;
    struct xsim_policy *pol = xsim_policy_create("time", &err);
    struct loop_guest g = {.n = n};
    double t0, t1, r;

    xsim_world_config_init(&cfg);
    cfg.backend = backend;
    if (xsim_world_create(&cfg, pol, &w) != 0) {
        fprintf(stderr, "bench_evtchn: cannot create a world on the %s backend\n",
                xsim_backend_name(backend));
        exit(1);
    }
    xsim_domain_create(w, 1, 2, 0, &ops, &g, &d);
    g.p = xsim_domain_platform(d);
    t0 = now_s();
    xsim_world_run(w);
    t1 = now_s();
    r = (t1 - t0) * 1e9 / (double)xsim_world_stats(w)->switches;
    xsim_world_destroy(w);
    xsim_policy_destroy(pol);
    return r;
}

static double best_of(enum xg_event_abi abi, int reps, uint64_t n, unsigned int idle, bool cross)
{
    double best = 1e30;

    for (int i = 0; i < reps; i++) {
        double v = run(abi, n, idle, cross, NULL);
        if (v < best)
            best = v;
    }
    return best;
}

int main(int argc, char **argv)
{
    bool quick = false;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            quick = true;
        } else if (strcmp(argv[i], "--backend") == 0 && i + 1 < argc) {
            i++;
            if (strcmp(argv[i], "thread") == 0) {
                backend = XSIM_BACKEND_THREAD;
            } else if (strcmp(argv[i], "fiber") == 0) {
                backend = XSIM_BACKEND_FIBER;
            } else {
                fprintf(stderr, "bench_evtchn: --backend thread|fiber\n");
                return 2;
            }
        } else {
            fprintf(stderr, "usage: bench_evtchn [--quick] [--backend thread|fiber]\n");
            return 2;
        }
    }
    if (backend == XSIM_BACKEND_AUTO)
        backend = xsim_backend_default();
    uint64_t n = quick ? 20000 : 400000;
    uint64_t nc = quick ? 5000 : 50000;
    int reps = quick ? 1 : 3;
    const enum xg_event_abi l2 = XG_EVENT_ABI_2L, ff = XG_EVENT_ABI_FIFO;
    double local = best_of(l2, reps, n, 0, false);
    double cross = best_of(l2, reps, nc, 0, true);
    double p16 = best_of(l2, reps, n, 14, false);
    double p4096 = best_of(l2, reps, n, 4092, false); /* 4094 bound: port 0 is reserved */
    double f16 = best_of(ff, reps, n, 14, false);
    double f131072 = best_of(ff, reps, n, 131068, false); /* 131070 bound */
    double sw = switch_ns(quick ? 20000 : 200000);

    printf("backend: %s\n", xsim_backend_name(backend));
    printf("local: %.0f ns per event (%.2f M events/s)\n", local, 1e3 / local);
    printf("cross: %.0f ns per event (%.2f M events/s), %.2f baton handoffs of %.0f ns, x%.2f a "
           "local event\n",
           cross, 1e3 / cross, cross / sw, sw, cross / local);
    printf("ports: %.0f ns per event with 16 bound, %.0f with 4096 (x%.3f)\n", p16, p4096,
           p4096 / p16);
    printf("ABIs, same local traffic: 2-level %.0f ns per event, FIFO %.0f (x%.3f); FIFO with "
           "131072 ports %.0f (x%.3f of 16)\n",
           p16, f16, f16 / p16, f131072, f131072 / f16);
    printf("{\"bench\":\"evtchn\",\"backend\":\"%s\",\"events_per_s_local\":%.0f,\"events_per_s_cross\":%.0f,"
           "\"ns_per_event_16_ports\":%.1f,\"ns_per_event_4096_ports\":%.1f,"
           "\"port_scaling_ratio\":%.3f,\"switch_ns\":%.1f,\"cross_ratio\":%.3f,"
           "\"cross_local_ratio\":%.3f,"
           "\"twolevel_ns_per_event\":%.1f,\"fifo_ns_per_event\":%.1f,"
           "\"fifo_ns_per_event_131072_ports\":%.1f,\"fifo_port_scaling_ratio\":%.3f}\n",
           xsim_backend_name(backend), 1e9 / local, 1e9 / cross, p16, p4096, p4096 / p16, sw,
           cross / sw, cross / local, p16, f16, f131072,
           f131072 / f16);
    return 0;
}
