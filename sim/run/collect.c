/*
 * collect.c - the report of a finished run: first what the machine saw
 * (world statistics and digest, the hypervisor's delivery mode and event
 * ABI, per-CPU accounting, the devices, the toolstack's migrations, each
 * workload's counters and queueing figures), then what the guest program
 * says of itself (its report op), which the oracles never rely on.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "run/run_internal.h"
#include "scenario/jsonschema.h"
#include "xensim/hv.h"

static void collect_workload(struct run_ctx *rc, const struct xsim_scenario *s, size_t i,
                             struct xsim_wl_result *r)
{
    const struct xsim_scn_workload *wl = &s->workloads[i];
    unsigned int n = (unsigned int)s->machine.vcpus;

    r->cpu = -1;
    r->type = wl->type;
    if (wl->type == XSIM_WL_BLOCK_IO && rc->host.bio[i] != NULL) {
        struct xsim_blkio_result b;
        xsim_blkio_result(rc->host.bio[i], &b);
        r->sent = b.submitted;
        r->handled = r->consumed = b.completed;
        r->reads = b.reads;
        r->writes = b.writes;
        r->flushes = b.flushes;
        r->barriers = b.barriers;
        r->discards = b.discards;
        r->errors = b.errors;
        r->unsupported = b.unsupported;
        r->refused = b.refused;
        r->retried = b.retried;
        r->refused_errno = b.refused_last_errno;
        r->refused_first_ns = b.refused_first_ns;
        r->verified = b.verified;
        r->verify_failed = b.verify_failed;
        r->latency_ns_mean = b.latency_ns_mean;
        r->latency_ns_p50 = b.latency_ns_p50;
        r->latency_ns_p99 = b.latency_ns_p99;
        r->latency_ns_max = b.latency_ns_max;
        r->cpu = wl->vcpu;
    } else if (wl->type == XSIM_WL_TIMER && rc->host.cs != NULL) {
        for (unsigned int c = 0; c < n; c++) {
            r->sent += rc->host.cs[c].armed;
            r->handled += rc->host.cs[c].fired;
            r->early += rc->host.cs[c].early;
        }
        r->consumed = r->handled;
    } else if (wl->type == XSIM_WL_XENSTORE && rc->host.xsl[i] != NULL) {
        struct xsim_xsload_result x;
        xsim_xsload_result(rc->host.xsl[i], &x);
        r->sent = x.requests;
        r->handled = r->consumed = x.answered;
        r->verified = x.reads_checked;
        r->verify_failed = x.wrong;
        r->latency_ns_max = x.event_latency_max;
        r->cpu = wl->vcpu;
    } else if (wl->type == XSIM_WL_IPI && rc->host.cs != NULL) {
        for (unsigned int c = 0; c < n; c++) {
            r->sent += rc->host.cs[c].ipi_sent;
            r->handled += rc->host.cs[c].ipi_runs;
        }
        r->consumed = r->handled;
        r->cpu = 0;
    }
}

static void service_name(const struct xsim_scn_workload *wl, char *buf, size_t size)
{
    static const char *const kinds[] = {"fixed", "exp", "lognormal", "hyperexp", "batch"};
    char d[32];

    xsim_format_duration(wl->service_ns, d, sizeof(d));
    if (wl->service_kind == XSIM_SVC_LOGNORMAL || wl->service_kind == XSIM_SVC_HYPEREXP)
        snprintf(buf, size, "%s:%s:%g", kinds[wl->service_kind], d, wl->service_cv);
    else
        snprintf(buf, size, "%s:%s", kinds[wl->service_kind], d);
}

static void collect_events(struct run_ctx *rc, const struct xsim_scenario *s, size_t i,
                           struct xsim_wl_result *r)
{
    const struct xsim_scn_workload *wl = &s->workloads[i];
    struct xsim_evsource_stats st;
    struct xsim_events_result er;
    uint64_t window;

    r->handled = rc->host.handled[i];
    r->cpu = wl->vcpu; /* where it was asked to go; the program's report says where it went */
    xsim_evsource_stats(rc->src[i], &st);
    xsim_events_result(rc->ev[i], &er);
    service_name(wl, r->service, sizeof(r->service));
    r->sent = st.sent;
    r->consumed = st.completed;
    r->unserved = st.sent - st.completed;
    r->wait = er.wait;
    r->sojourn = er.sojourn;
    r->service_time = er.service;
    r->sojourn_ns_mean_ci95 = er.sojourn_ci_ok ? er.sojourn_mean_ci95 : -1;
    r->empty_runs = er.empty_runs;
    r->acausal = er.acausal;
    r->idle_n = er.idle_n;
    r->idle_wait_mean = er.idle_wait_mean;
    memcpy(r->idle_ns_mean, er.idle_ns_mean, sizeof(r->idle_ns_mean));
    /* The send-to-handler latency of the oracles is the wait. */
    r->latency_ns_mean = (uint64_t)llround(er.wait.mean);
    r->latency_ns_p50 = er.wait.p50;
    r->latency_ns_p99 = er.wait.p99;
    r->latency_ns_max = er.wait.max;
    window = st.last_send_ns - st.first_send_ns;
    if (st.sent > 1 && window > 0) {
        r->arrival_rate_per_s = (double)(st.sent - 1) * 1e9 / (double)window;
        r->throughput_per_s = (double)st.completed * 1e9 / (double)window;
    }
    /* Little's law, L = lambda W: L as arrivals see it equals the time
     * average only for Poisson arrivals (PASTA), so only those are checked. */
    if (wl->dist == XSIM_WL_POISSON && !wl->spurious && st.sent >= 1000 && er.sojourn.n > 0) {
        r->little_checked = true;
        r->little_L = st.seen_in_system_mean;
        r->little_lambda_W = r->arrival_rate_per_s * er.sojourn.mean * 1e-9;
        r->little_L_ci95 = st.seen_in_system_ci95;
        r->little_lambda_W_ci95 =
            er.sojourn_ci_ok ? r->arrival_rate_per_s * er.sojourn_mean_ci95 * 1e-9 : -1;
    }
}

static void collect_events_all(struct run_ctx *rc, const struct xsim_scenario *s,
                               struct xsim_report *rep)
{
    struct xsim_wl_result *a = &rep->events_all;
    struct xsim_events_result er;
    double tput = 0;

    if (xsim_events_total_result(&rc->ev_total, rc->ev, s->nworkloads, &er) != 0 ||
        er.sojourn.n == 0)
        return;
    rep->has_events_all = true;
    snprintf(a->name, sizeof(a->name), "all");
    a->type = XSIM_WL_EVENTS;
    a->cpu = -1;
    for (size_t i = 0; i < s->nworkloads; i++) {
        if (rc->src[i] == NULL)
            continue;
        a->sent += rep->wl[i].sent;
        a->consumed += rep->wl[i].consumed;
        a->handled += rep->wl[i].handled;
        a->unserved += rep->wl[i].unserved;
        tput += rep->wl[i].throughput_per_s;
        a->arrival_rate_per_s += rep->wl[i].arrival_rate_per_s;
    }
    a->throughput_per_s = tput;
    snprintf(a->service, sizeof(a->service), "all");
    a->wait = er.wait;
    a->sojourn = er.sojourn;
    a->service_time = er.service;
    a->sojourn_ns_mean_ci95 = er.sojourn_ci_ok ? er.sojourn_mean_ci95 : -1;
    a->latency_ns_mean = (uint64_t)llround(er.wait.mean);
    a->latency_ns_p50 = er.wait.p50;
    a->latency_ns_p99 = er.wait.p99;
    a->latency_ns_max = er.wait.max;
}

static void collect_cpus(struct run_ctx *rc, const struct xsim_scenario *s, struct xsim_report *rep)
{
    uint64_t end = rep->stats.end_time_ns;

    for (unsigned int c = 0; c < rep->ncpus; c++) {
        struct xsim_vcpu *v = xsim_domain_vcpu(rc->d, c);
        struct xsim_vcpu_account a;
        uint64_t served, svc = 0;
        if (v == NULL || end == 0)
            continue;
        xsim_vcpu_account(v, end, &a);
        for (size_t i = 0; i < s->nworkloads; i++) {
            if (rc->ev[i] != NULL)
                svc += xsim_events_cpu_service_ns(rc->ev[i], c, &served);
        }
        rep->cpu[c].busy_ns = a.busy_ns;
        rep->cpu[c].handler_ns = a.cost_ns[XSIM_COST_HANDLER];
        rep->cpu[c].service_ns = svc;
        rep->cpu[c].utilization = (double)a.busy_ns / (double)end;
        rep->cpu[c].handler_utilization = (double)a.cost_ns[XSIM_COST_HANDLER] / (double)end;
    }
}

static void collect_devices(struct run_ctx *rc, const struct xsim_scenario *s,
                            struct xsim_report *rep)
{
    rep->ndisks = s->ndisks;
    for (size_t i = 0; i < s->ndisks; i++) {
        struct xsim_disk_result *d = &rep->disk[i];
        struct xsim_blkback *bb = rc->ts != NULL ? xsim_toolstack_disk(rc->ts, (unsigned)i) : NULL;

        snprintf(d->name, sizeof(d->name), "%s", s->disks[i].name);
        /* The program's report says what its frontend came to. */
        snprintf(d->state, sizeof(d->state), "%s",
                 xsim_world_guest_bug(rc->w) ? "guest BUG" : "not set up");
        if (bb != NULL) {
            struct xsim_blkback_stats bs;
            xsim_blkback_stats(bb, &bs);
            d->backend_requests = bs.requests;
            d->backend_errors = bs.errors + bs.bad_requests;
            d->stale_maps = bs.stale_maps;
            d->stale_mapped = bs.stale_mapped;
        }
        if (rc->power_lost[i]) {
            struct xsim_storage_stats ss;
            xsim_storage_stats(rc->storage[i], &ss);
            d->power_loss_ns = s->disks[i].power_loss_ns;
            d->lost_sectors = ss.lost_sectors;
            d->durable_checked = rc->durable[i].checked;
            d->durable_bad = rc->durable[i].bad;
            snprintf(d->durable_detail, sizeof(d->durable_detail), "%s", rc->durable[i].detail);
        }
    }
    if (rc->ts != NULL) {
        struct xsim_toolstack_stats ts;
        xsim_toolstack_get_stats(rc->ts, &ts);
        rep->migration.requested = ts.requested;
        rep->migration.suspended = ts.suspended;
        rep->migration.migrated = ts.migrated;
        rep->migration.cancelled = ts.cancelled;
        rep->migration.failed = ts.failed;
        rep->migration.downtime_ns_max = ts.downtime_ns_max;
        rep->migration.ack_ns_max = ts.ack_ns_max;
    }
    rep->migration.guest_resume_ns_max = rc->host.resume_ns_max;
    rep->migration.guest_resumed = rc->host.suspend_rc0;
    rep->migration.guest_cancelled = rc->host.suspend_rc1;
    rep->migration.clock_backwards = rc->host.suspend_backwards;
    for (unsigned int c = 0; rc->host.cs != NULL && c < (unsigned int)s->machine.vcpus; c++)
        rep->migration.clock_backwards += rc->host.cs[c].backwards;
}

void xsim__run_collect(struct run_ctx *rc, const struct xsim_scenario *s, struct xsim_report *rep)
{
    rep->digest = xsim_world_digest(rc->w);
    rep->stats = *xsim_world_stats(rc->w);
    if (xsim_world_failure(rc->w) != NULL)
        snprintf(rep->failure, sizeof(rep->failure), "%s", xsim_world_failure(rc->w));
    if (xsim_world_replay_error(rc->w) != NULL)
        snprintf(rep->replay_error, sizeof(rep->replay_error), "%s",
                 xsim_world_replay_error(rc->w));
    /* The world is destroyed right after the report is built: its list
     * moves into the report instead of being copied (hundreds of KiB per
     * schedule of a long scenario). */
    xsim_world_take_choices(rc->w, &rep->choices);
    snprintf(rep->callback, sizeof(rep->callback), "unknown");
    snprintf(rep->hv_callback, sizeof(rep->hv_callback), "%s",
             xsim_callback_mode_name(xsim_hv_callback_mode(rc->hv, 1)));
    snprintf(rep->hv_event_abi, sizeof(rep->hv_event_abi), "%s", xsim_hv_evtchn_abi(rc->hv, 1));
    rep->ncpus = (unsigned int)s->machine.vcpus;
    collect_devices(rc, s, rep);
    collect_cpus(rc, s, rep);
    rep->nwl = s->nworkloads;
    for (size_t i = 0; i < s->nworkloads; i++) {
        struct xsim_wl_result *r = &rep->wl[i];
        snprintf(r->name, sizeof(r->name), "%s", s->workloads[i].name);
        collect_workload(rc, s, i, r);
        if (rc->src[i] != NULL)
            collect_events(rc, s, i, r);
    }
    collect_events_all(rc, s, rep);
    /* Then what only the program knows. After a guest BUG the vCPU that
     * hit it may hold the program's locks for good: its getters are not
     * safe to call, so the report keeps what the machine saw. */
    if (rc->prog->report != NULL && rc->host.init_done && !xsim_world_guest_bug(rc->w))
        rc->prog->report(rc->host.state, rep);
}
