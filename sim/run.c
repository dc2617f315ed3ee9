/*
 * run.c - running a scenario: build the world (hypervisor, a device domain
 * 0 without vCPUs, the guest on N vCPUs with libxenguest), drive the
 * workloads, check the oracles, and fill the report.
 *
 * The guest program is the one a GENERIC kernel would run: CPU 0 boots
 * (detection, shared_info, callback set-up with fallbacks) and starts the
 * other CPUs with an IPI; each registers its vcpu_info; then CPU 0 binds
 * the devices' event channels and every CPU idles, taking upcalls.
 * Devices stop sending 1 ms before the time limit (or at their own stop) so
 * that the no-lost-events oracle judges a drained system.
 */
#include <errno.h>
#include <inttypes.h>
#include <libgen.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <signal.h>
#include <time.h>

#include <uv.h>

#include "xensim/evsource.h"
#include "xensim/guest/xg_evtchn.h"
#include "xensim/guest/xg_xenbus.h"
#include "xensim/hv.h"
#include "xensim/scenario.h"
#include "xensim/xenstore.h"
#include "xensim/xshost.h"

#define WAKE_VECTOR    0x30
#define MSR_X2APIC_ICR 0x830
#define DRAIN_NS       1000000

struct run_ctx;

struct wl_arg {
    struct run_ctx *rc;
    size_t i;
};

struct run_ctx {
    const struct xsim_scenario *s;
    struct xsim_world *w;
    struct xsim_hv *hv;
    struct xsim_domain *d, *dom0;
    struct xg_guest *g;
    const struct xg_platform *p;
    struct xsim_evsource *src[XSIM_SCN_MAX_WORKLOADS];
    evtchn_port_t port[XSIM_SCN_MAX_WORKLOADS];
    uint64_t handled[XSIM_SCN_MAX_WORKLOADS];
    volatile uint32_t started, nup, all_up;
    int boot_rc;
    volatile uint64_t lu_counter;
    uint64_t lu_expected;
    uint64_t next_rebalance;
    struct wl_arg args[XSIM_SCN_MAX_WORKLOADS];
    /* XenStore and pacing (--xenstore-socket, --realtime) */
    struct xsim_xshost *xs;
    struct xg_xenbus *xb;
    int xenbus_rc;
    uv_loop_t loop;
    bool loop_ok;
    struct xsim_xs_server *srv;
    bool realtime;
    double wall0;
    uint64_t poll_ns;
};

#define POLL_PERIOD_NS 1000000 /* serve sockets / pace every 1 ms of virtual time */

static double wall_s(void)
{
    struct timespec ts;

    /* Host time enters only here, for --realtime pacing. */
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* A hypervisor-context timed event: pace to the wall clock, then serve the
 * socket's clients on this (baton-holding) thread, so the store is never
 * touched by two threads at once. */
static void host_poll(struct xsim_world *w, void *arg)
{
    struct run_ctx *rc = arg;
    uint64_t now = xsim_world_now(w);

    if (rc->realtime) {
        double ahead = (double)now * 1e-9 - (wall_s() - rc->wall0);
        if (ahead > 0) {
            struct timespec ts = {(time_t)ahead, (long)((ahead - (double)(time_t)ahead) * 1e9)};
            nanosleep(&ts, NULL);
        }
    }
    if (rc->loop_ok)
        uv_run(&rc->loop, UV_RUN_NOWAIT);
    xsim_event_schedule(w, now + POLL_PERIOD_NS, 0x58535057 /* XSPW */, host_poll, rc);
}

static void wait_u32(struct run_ctx *rc, volatile uint32_t *flag, uint32_t value)
{
    const struct xg_platform *p = rc->p;
    bool was = xg_irq_save(p);

    /* Interrupts stay off between the check and the halt (which enables
     * them atomically), so a wakeup cannot slip between the two. */
    while (xg_read_u32(p, flag) < value) {
        xg_halt(p);
        (void)xg_irq_save(p);
    }
    xg_irq_restore(p, was);
}

static void wake(struct run_ctx *rc, int cpu)
{
    uint64_t icr = cpu < 0 ? ((3u << 18) | WAKE_VECTOR) : (((uint64_t)cpu << 32) | WAKE_VECTOR);

    if (rc->s->machine.vcpus > 1)
        (void)xg_wrmsr(rc->p, MSR_X2APIC_ICR, icr);
}

static int events_handler(struct xg_guest *g, evtchn_port_t port, void *arg)
{
    struct wl_arg *a = arg;
    struct run_ctx *rc = a->rc;
    const struct xsim_scn_workload *wl = &rc->s->workloads[a->i];

    rc->handled[a->i]++;
    if (wl->spurious)
        return XG_EVTCHN_SPURIOUS;
    /* Like a driver reading its device's ring: take what was sent. */
    (void)xsim_evsource_consume(rc->src[a->i]);
    if (wl->handler_ns > 0)
        xg_work(g->p, XG_WORK_HANDLER, wl->handler_ns);
    return XG_EVTCHN_HANDLED;
}

static void bind_workloads(struct run_ctx *rc, struct wl_arg *args)
{
    const struct xsim_scenario *s = rc->s;

    for (size_t i = 0; i < s->nworkloads; i++) {
        const struct xsim_scn_workload *wl = &s->workloads[i];
        if (wl->type != XSIM_WL_EVENTS || rc->src[i] == NULL)
            continue;
        args[i].rc = rc;
        args[i].i = i;
        if (xg_evtchn_bind_interdomain(rc->g, 0, xsim_evsource_port(rc->src[i]), events_handler,
                                       &args[i], &rc->port[i]) != 0)
            continue;
        if (wl->vcpu >= 0)
            (void)xg_evtchn_set_cpu(rc->g, rc->port[i], (unsigned int)wl->vcpu);
        (void)xg_evtchn_unmask(rc->g, rc->port[i]);
        (void)xsim_evsource_start(rc->src[i]);
    }
}

static void lost_update(struct run_ctx *rc, unsigned int cpu)
{
    const struct xsim_scenario *s = rc->s;

    if (cpu > 1)
        return;
    for (size_t i = 0; i < s->nworkloads; i++) {
        if (s->workloads[i].type != XSIM_WL_LOST_UPDATE)
            continue;
        for (int k = 0; k < s->workloads[i].iterations; k++) {
            /* The planted bug: a plain read and a plain write, no lock. */
            uint64_t v = xg_read_u64(rc->p, &rc->lu_counter);
            xg_write_u64(rc->p, &rc->lu_counter, v + 1);
        }
    }
}

static void guest_interrupt(void *guest, unsigned int cpu, uint8_t vector)
{
    struct run_ctx *rc = guest;

    if (vector == WAKE_VECTOR) {
        xg_eoi(rc->p);
        return;
    }
    xg_guest_interrupt(rc->g, vector);
}

static void guest_start(void *guest, unsigned int cpu)
{
    struct run_ctx *rc = guest;
    const struct xg_platform *p = rc->p;

    if (cpu == 0) {
        rc->boot_rc = xg_guest_boot(rc->g);
        if (rc->boot_rc != 0)
            return;
        xg_write_u32(p, &rc->started, 1);
        wake(rc, -1);
        wait_u32(rc, &rc->nup, (uint32_t)rc->s->machine.vcpus - 1);
        xg_write_u32(p, &rc->all_up, 1);
        wake(rc, -1);
        bind_workloads(rc, rc->args);
        if (rc->xb != NULL) {
            /* With a XenStore: say hello where a person with the real
             * tools will look. */
            rc->xenbus_rc = xg_xenbus_init(rc->xb, rc->g);
            if (rc->xenbus_rc == 0) {
                (void)xg_xenbus_write(rc->xb, 0, "data/xensim/scenario", rc->s->name);
                (void)xg_xenbus_write(rc->xb, 0, "data/xensim/callback",
                                      xg_callback_name(xg_guest_callback(rc->g)));
            }
        }
    } else {
        wait_u32(rc, &rc->started, 1);
        int up = xg_guest_cpu_up(rc->g);
        xg_fetch_add_u32(p, &rc->nup, 1);
        wake(rc, 0);
        if (up != 0)
            return;
        wait_u32(rc, &rc->all_up, 1);
    }
    xg_irq_restore(p, true);
    lost_update(rc, cpu);
    for (;;) {
        xg_guest_idle(rc->g);
        if (cpu == 0 && rc->s->guest.rebalance_every_ns != 0 && xg_rdtsc(p) >= rc->next_rebalance) {
            (void)xg_evtchn_rebalance(rc->g);
            rc->next_rebalance = xg_rdtsc(p) + rc->s->guest.rebalance_every_ns;
        }
    }
}

static const struct xsim_guest_ops guest_ops = {.start = guest_start, .interrupt = guest_interrupt};

/* ---- oracles ---- */

static void oracle(struct xsim_report *rep, const char *name, bool pass, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void oracle(struct xsim_report *rep, const char *name, bool pass, const char *fmt, ...)
{
    va_list ap;
    struct xsim_oracle_result *o;

    if (rep->noracles == XSIM_MAX_ORACLES)
        return;
    o = &rep->oracles[rep->noracles++];
    snprintf(o->name, sizeof(o->name), "%s", name);
    o->pass = pass;
    va_start(ap, fmt);
    vsnprintf(o->detail, sizeof(o->detail), fmt, ap);
    va_end(ap);
    if (!pass)
        rep->all_pass = false;
}

static void check_oracles(const struct xsim_scenario *s, struct run_ctx *rc,
                          struct xsim_report *rep)
{
    bool stop_ok = rep->stop == XSIM_STOP_QUIESCENT || rep->stop == XSIM_STOP_TIME_LIMIT ||
                   rep->stop == XSIM_STOP_ALL_DONE;

    /* Always: the run itself must end normally and the guest must boot. */
    oracle(rep, "run", stop_ok && rep->boot_rc == 0, "ended %s%s%s; boot %d",
           xsim_stop_reason_name(rep->stop), rep->failure[0] ? ": " : "", rep->failure,
           rep->boot_rc);
    if (s->oracles.no_lost_events) {
        bool ok = true;
        char detail[256] = "every event sent was handled after it was sent";
        for (size_t i = 0; i < rep->nwl; i++) {
            const struct xsim_wl_result *r = &rep->wl[i];
            if (s->workloads[i].type != XSIM_WL_EVENTS || s->workloads[i].spurious)
                continue;
            if (r->consumed != r->sent) {
                ok = false;
                snprintf(detail, sizeof(detail), "%s: %" PRIu64 " sent, %" PRIu64 " handled",
                         r->name, r->sent, r->consumed);
                break;
            }
        }
        oracle(rep, "no_lost_events", ok, "%s", detail);
    }
    if (s->oracles.max_latency_ns != 0) {
        uint64_t worst = 0;
        const char *who = "";
        for (size_t i = 0; i < rep->nwl; i++) {
            if (rep->wl[i].latency_ns_max > worst) {
                worst = rep->wl[i].latency_ns_max;
                who = rep->wl[i].name;
            }
        }
        oracle(rep, "max_latency", worst <= s->oracles.max_latency_ns,
               "worst %" PRIu64 " ns (%s), bound %" PRIu64 " ns", worst, who,
               s->oracles.max_latency_ns);
    }
    if (s->oracles.callback[0] != '\0')
        oracle(rep, "callback", strcmp(rep->callback, s->oracles.callback) == 0,
               "guest chose %s, expected %s", rep->callback, s->oracles.callback);
    if (s->oracles.lost_update)
        oracle(rep, "lost_update", rc->lu_counter == rc->lu_expected,
               "counter %" PRIu64 ", expected %" PRIu64, (uint64_t)rc->lu_counter, rc->lu_expected);
}

/* ---- set-up ---- */

static int load_costs(const struct xsim_scenario *s, struct xsim_cost_profile *cp,
                      struct xsim_report *rep)
{
    struct xsim_error err;

    xsim_cost_profile_default(cp);
    if (s->machine.cost_profile[0] != '\0') {
        char dir[512], path[1024];
        snprintf(dir, sizeof(dir), "%s", s->path);
        if (s->machine.cost_profile[0] == '/')
            snprintf(path, sizeof(path), "%s", s->machine.cost_profile);
        else
            snprintf(path, sizeof(path), "%s/%s", dirname(dir), s->machine.cost_profile);
        if (xsim_cost_profile_load_file(cp, path, &err) != 0) {
            xsim_error_format(&err, rep->failure, sizeof(rep->failure));
            return -EINVAL;
        }
    }
    if (s->machine.apicv)
        cp->apicv = true;
    if (s->machine.posted_interrupts)
        cp->posted_interrupts = true;
    snprintf(rep->cost_profile, sizeof(rep->cost_profile), "%s", cp->name);
    return 0;
}

static int build(struct run_ctx *rc, const struct xsim_scenario *s, struct xsim_policy *pol,
                 const struct xsim_world_config *wc)
{
    struct xsim_hv_features f, f0;
    struct xg_guest_config gc;
    int err;

    if ((err = xsim_world_create(wc, pol, &rc->w)) != 0 ||
        (err = xsim_hv_create(rc->w, &rc->hv)) != 0)
        return err;
    rc->g = aligned_alloc(64, (xg_guest_size() + 63) / 64 * 64);
    if (rc->g == NULL)
        return -ENOMEM;
    if ((err = xsim_domain_create(rc->w, 0, 0, 16, NULL, NULL, &rc->dom0)) != 0 ||
        (err = xsim_domain_create(rc->w, 1, (unsigned int)s->machine.vcpus, 256, &guest_ops, rc,
                                  &rc->d)) != 0)
        return err;
    xsim_hv_features_default(&f0);
    xsim_hv_features_default(&f);
    f.hvm_callback_vector = s->machine.hvm_callback_vector;
    f.percpu_upcall_vector = s->machine.percpu_upcall_vector;
    f.hvm_safe_pvclock = s->machine.hvm_safe_pvclock;
    f.platform_pci = s->machine.platform_pci;
    f.viridian = s->machine.viridian;
    if ((err = xsim_hv_add_domain(rc->hv, rc->dom0, &f0)) != 0 ||
        (err = xsim_hv_add_domain(rc->hv, rc->d, &f)) != 0)
        return err;
    rc->p = xsim_domain_platform(rc->d);
    xg_guest_config_init(&gc, (unsigned int)s->machine.vcpus);
    gc.platform_pci = s->machine.platform_pci;
    gc.force_callback = (enum xg_callback)s->guest.callback;
    gc.balance_at_bind = s->guest.balance_at_bind;
    gc.upcall_budget = (unsigned int)s->guest.upcall_budget;
    gc.storm_threshold = (unsigned int)s->guest.storm_threshold;
    if ((err = xg_guest_init(rc->g, rc->p, &gc)) != 0)
        return err;
    if (rc->xb != NULL) {
        if ((err = xsim_xshost_create(rc->w, rc->hv, &rc->xs)) != 0 ||
            (err = xsim_xshost_add_guest(rc->xs, rc->d)) != 0)
            return err;
    }
    for (size_t i = 0; i < s->nworkloads; i++) {
        const struct xsim_scn_workload *wl = &s->workloads[i];
        char stream[48];
        uint64_t stop = s->stop.time_ns > DRAIN_NS ? s->stop.time_ns - DRAIN_NS : s->stop.time_ns;
        if (wl->type == XSIM_WL_LOST_UPDATE)
            rc->lu_expected += 2 * (uint64_t)wl->iterations;
        if (wl->type != XSIM_WL_EVENTS)
            continue;
        snprintf(stream, sizeof(stream), "workload:%s", wl->name);
        struct xsim_evsource_config ec = {
            .backend = 0,
            .guest = 1,
            .rate_hz = wl->rate,
            .dist = (enum xsim_evsource_dist)wl->dist,
            .burst = (unsigned int)wl->burst,
            .start_ns = wl->start_ns,
            .count = wl->count,
            .stop_ns = wl->stop_ns != 0 && wl->stop_ns < stop ? wl->stop_ns : stop,
            .stream = stream,
        };
        if ((err = xsim_evsource_create(rc->w, rc->hv, &ec, &rc->src[i])) != 0)
            return err;
    }
    return 0;
}

static void collect(struct run_ctx *rc, const struct xsim_scenario *s, struct xsim_report *rep)
{
    const struct xg_features *f = xg_guest_features(rc->g);

    rep->digest = xsim_world_digest(rc->w);
    rep->stats = *xsim_world_stats(rc->w);
    if (xsim_world_failure(rc->w) != NULL)
        snprintf(rep->failure, sizeof(rep->failure), "%s", xsim_world_failure(rc->w));
    if (xsim_world_replay_error(rc->w) != NULL)
        snprintf(rep->replay_error, sizeof(rep->replay_error), "%s",
                 xsim_world_replay_error(rc->w));
    (void)xsim_choices_copy(&rep->choices, xsim_world_choices(rc->w));
    rep->boot_rc = rc->boot_rc;
    rep->xen = f->xen;
    rep->xen_version = f->version;
    rep->xenfeat = f->xenfeat;
    snprintf(rep->callback, sizeof(rep->callback), "%s",
             xg_callback_name(xg_guest_callback(rc->g)));
    rep->percpu_events = xg_guest_percpu_events(rc->g);
    rep->ncpus = (unsigned int)s->machine.vcpus;
    for (unsigned int c = 0; c < rep->ncpus; c++) {
        struct xg_cpu_stats cs;
        if (xg_cpu_stats(rc->g, c, &cs) == 0)
            rep->cpu_events[c] = cs.events;
    }
    rep->nwl = s->nworkloads;
    for (size_t i = 0; i < s->nworkloads; i++) {
        struct xsim_wl_result *r = &rep->wl[i];
        snprintf(r->name, sizeof(r->name), "%s", s->workloads[i].name);
        r->handled = rc->handled[i];
        r->cpu = rc->port[i] != 0 ? xg_evtchn_get_cpu(rc->g, rc->port[i]) : -1;
        if (rc->src[i] != NULL) {
            struct xsim_evsource_stats st;
            xsim_evsource_stats(rc->src[i], &st);
            r->sent = st.sent;
            r->consumed = st.consumed;
            r->latency_ns_mean = st.consumed ? st.latency_ns_sum / st.consumed : 0;
            r->latency_ns_p50 = st.latency_ns_p50;
            r->latency_ns_p99 = st.latency_ns_p99;
            r->latency_ns_max = st.latency_ns_max;
        }
    }
}

int xsim_run(const struct xsim_scenario *s, const struct xsim_run_options *opt,
             struct xsim_report *rep, FILE *trace_jsonl, FILE *trace_chrome)
{
    struct run_ctx rc;
    struct xsim_world_config wc;
    struct xsim_cost_profile cp;
    struct xsim_policy *pol = opt != NULL ? opt->policy : NULL, *own = NULL;
    struct xsim_error perr;
    int err;

    memset(rep, 0, sizeof(*rep));
    memset(&rc, 0, sizeof(rc));
    rc.s = s;
    rep->all_pass = true;
    snprintf(rep->scenario, sizeof(rep->scenario), "%s", s->name);
    rep->seed = opt != NULL && opt->seed_set ? opt->seed : s->seed;
    if (pol == NULL) {
        own = pol = xsim_policy_create(s->policy, &perr);
        if (pol == NULL) {
            snprintf(rep->failure, sizeof(rep->failure), "%s", perr.text);
            return -EINVAL;
        }
    }
    snprintf(rep->policy, sizeof(rep->policy), "%s", xsim_policy_spec(pol));
    if ((err = load_costs(s, &cp, rep)) != 0)
        goto out;
    xsim_world_config_init(&wc);
    wc.seed = rep->seed;
    wc.costs = &cp;
    wc.quantum_ns = s->machine.quantum_ns;
    wc.time_limit_ns = s->stop.time_ns;
    wc.max_events = s->stop.events;
    wc.max_decisions = s->stop.decisions;
    wc.keep_trace = (opt != NULL && opt->keep_trace) || trace_jsonl != NULL || trace_chrome != NULL;
    rc.realtime = opt != NULL && opt->realtime;
    if (opt != NULL && opt->xenstore_socket != NULL) {
        rc.xb = calloc(1, sizeof(*rc.xb));
        if (rc.xb == NULL) {
            err = -ENOMEM;
            goto out;
        }
    }
    if ((err = build(&rc, s, pol, &wc)) != 0) {
        if (rep->failure[0] == '\0')
            snprintf(rep->failure, sizeof(rep->failure), "cannot set up the run: %s",
                     strerror(-err));
        goto out;
    }
    if (opt != NULL && opt->xenstore_socket != NULL) {
        /* Writing to a client that went away must be an error, not death. */
        signal(SIGPIPE, SIG_IGN);
        if (uv_loop_init(&rc.loop) != 0) {
            err = -ENOMEM;
            goto out;
        }
        rc.loop_ok = true;
        err =
            xsim_xs_listen_unix(xsim_xshost_store(rc.xs), &rc.loop, opt->xenstore_socket, &rc.srv);
        if (err != 0) {
            snprintf(rep->failure, sizeof(rep->failure), "cannot listen on %s: %s",
                     opt->xenstore_socket, uv_strerror(err));
            goto out;
        }
    }
    if (rc.loop_ok || rc.realtime) {
        rc.wall0 = wall_s();
        xsim_event_schedule(rc.w, 0, 0x58535057, host_poll, &rc);
    }
    rep->stop = xsim_world_run(rc.w);

    collect(&rc, s, rep);
    check_oracles(s, &rc, rep);
    if (trace_jsonl != NULL)
        (void)xsim_trace_write_jsonl(rc.w, trace_jsonl);
    if (trace_chrome != NULL)
        (void)xsim_trace_write_chrome(rc.w, trace_chrome);
out:
    /* The world goes first: its threads still hold pointers into the rest. */
    xsim_world_destroy(rc.w);
    if (rc.srv != NULL)
        xsim_xs_server_close(rc.srv);
    if (rc.loop_ok) {
        uv_run(&rc.loop, UV_RUN_DEFAULT); /* let the closes complete */
        uv_loop_close(&rc.loop);
    }
    xsim_xshost_destroy(rc.xs);
    free(rc.xb);
    for (size_t i = 0; i < XSIM_SCN_MAX_WORKLOADS; i++)
        xsim_evsource_destroy(rc.src[i]);
    xsim_hv_destroy(rc.hv);
    free(rc.g);
    xsim_policy_destroy(own);
    return err;
}

void xsim_report_free(struct xsim_report *rep)
{
    xsim_choices_free(&rep->choices);
}
