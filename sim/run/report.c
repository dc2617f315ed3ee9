/*
 * report.c - a run's report, for people (text) and programs (one JSON
 * object, built with jansson).
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "xensim/scenario.h"

static void print_ns(FILE *out, const char *label, uint64_t ns)
{
    if (ns >= 10000000)
        fprintf(out, "%s %.2f ms", label, (double)ns / 1e6);
    else if (ns >= 10000)
        fprintf(out, "%s %.2f us", label, (double)ns / 1e3);
    else
        fprintf(out, "%s %" PRIu64 " ns", label, ns);
}

static void print_dist(FILE *out, const char *label, const struct xsim_dist_summary *d, double ci95)
{
    fprintf(out, "    %-8s", label);
    print_ns(out, "mean", (uint64_t)llround(d->mean));
    if (ci95 >= 0)
        print_ns(out, " +-", (uint64_t)llround(ci95));
    print_ns(out, ", p50", d->p50);
    print_ns(out, ", p90", d->p90);
    print_ns(out, ", p99", d->p99);
    print_ns(out, ", p99.9", d->p999);
    print_ns(out, ", max", d->max);
    fprintf(out, "\n");
}

static void print_events(FILE *out, const struct xsim_wl_result *w)
{
    fprintf(out,
            "workload %-12s sent %" PRIu64 ", served %" PRIu64 " (handler runs %" PRIu64
            ", %" PRIu64 " found nothing) on CPU %d; service %s\n",
            w->name, w->sent, w->consumed, w->handled,
            w->port_spurious > w->empty_runs ? w->port_spurious : w->empty_runs, w->cpu,
            w->service);
    if (w->port_throttled != 0)
        fprintf(out, "    storm throttle: the port was masked %" PRIu64 " times\n",
                w->port_throttled);
    if (w->sojourn.n == 0)
        return;
    print_dist(out, "wait", &w->wait, -1);
    print_dist(out, "sojourn", &w->sojourn, w->sojourn_ns_mean_ci95);
    fprintf(out, "    %.0f/s arriving, %.0f/s served", w->arrival_rate_per_s, w->throughput_per_s);
    if (w->unserved != 0)
        fprintf(out, ", %" PRIu64 " left unserved", w->unserved);
    if (w->acausal != 0)
        fprintf(out, ", %" PRIu64 " seen before their send time", w->acausal);
    if (w->little_checked)
        fprintf(out, "; in system as arrivals see it %.3f, lambda*W %.3f", w->little_L,
                w->little_lambda_W);
    fprintf(out, "\n");
    if (w->idle_n != 0) {
        double sum = 0;
        fprintf(out, "    %" PRIu64 " sends found their CPU idle: wait %.0f ns =", w->idle_n,
                w->idle_wait_mean);
        for (unsigned int r = 0; r < XSIM_COST__COUNT; r++) {
            if (w->idle_ns_mean[r] <= 0)
                continue;
            fprintf(out, "%s %s %.0f", sum > 0 ? " +" : "",
                    xsim_cost_reason_name((enum xsim_cost_reason)r), w->idle_ns_mean[r]);
            sum += w->idle_ns_mean[r];
        }
        if (sum == 0)
            fprintf(out, " 0");
        if (fabs(w->idle_wait_mean - sum) >= 0.5)
            fprintf(out, " + unaccounted %.0f", w->idle_wait_mean - sum);
        fprintf(out, "\n");
    }
}

static void print_workload(FILE *out, const struct xsim_wl_result *w)
{
    if (w->type == XSIM_WL_EVENTS && w->service[0] != '\0') {
        print_events(out, w);
        return;
    }
    if (w->type == XSIM_WL_TIMER) {
        fprintf(out,
                "workload %-12s timer ticks on every CPU: %" PRIu64 " armed, %" PRIu64
                " fired, %" PRIu64 " early\n",
                w->name, w->sent, w->consumed, w->early);
        return;
    }
    if (w->type == XSIM_WL_IPI) {
        fprintf(out, "workload %-12s IPIs from CPU 0: %" PRIu64 " sent, %" PRIu64 " handler runs\n",
                w->name, w->sent, w->handled);
        return;
    }
    if (w->type == XSIM_WL_LOST_UPDATE) {
        fprintf(out, "workload %-12s lost-update counter (see its oracle)\n", w->name);
        return;
    }
    if (w->type == XSIM_WL_XENSTORE) {
        fprintf(out,
                "workload %-12s XenStore requests: %" PRIu64 " sent, %" PRIu64 " answered, %" PRIu64
                " reads checked, %" PRIu64 " wrong; watch events",
                w->name, w->sent, w->consumed, w->verified, w->verify_failed);
        print_ns(out, " worst delay", w->latency_ns_max);
        fprintf(out, "\n");
        return;
    }
    if (w->type == XSIM_WL_BLOCK_IO) {
        fprintf(out,
                "workload %-12s %" PRIu64 " I/Os (%" PRIu64 " reads, %" PRIu64 " writes, %" PRIu64
                " flushes, %" PRIu64 " barriers, %" PRIu64 " discards), %" PRIu64
                " completed, %" PRIu64 " errors, %" PRIu64 " unsupported, %" PRIu64 " refused",
                w->name, w->sent, w->reads, w->writes, w->flushes, w->barriers, w->discards,
                w->consumed, w->errors, w->unsupported, w->refused);
        if (w->refused != 0)
            fprintf(out, " (%s)", strerror(w->refused_errno));
        fprintf(out,
                ", %" PRIu64 " retried, %" PRIu64 " reads verified (%" PRIu64 " wrong); latency",
                w->retried, w->verified, w->verify_failed);
    } else {
        fprintf(out,
                "workload %-12s sent %" PRIu64 ", handled %" PRIu64 " (handler runs %" PRIu64
                ") on CPU %d; latency",
                w->name, w->sent, w->consumed, w->handled, w->cpu);
    }
    print_ns(out, " mean", w->latency_ns_mean);
    print_ns(out, ", p50 <=", w->latency_ns_p50);
    print_ns(out, ", p99 <=", w->latency_ns_p99);
    print_ns(out, ", max", w->latency_ns_max);
    fprintf(out, "\n");
}

static void print_disk(FILE *out, const struct xsim_disk_result *d)
{
    fprintf(out,
            "disk %-8s %s; ring %u pages, indirect %u, flush %s, barrier %s, discard %s; %" PRIu64
            " ring requests (%" PRIu64 " at the current backend, %" PRIu64 " refused), %" PRIu64
            " connects, %" PRIu64 " requeued, %" PRIu64 " barrier and %" PRIu64
            " flush fallbacks, %" PRIu64 " bad responses\n",
            d->name, d->state, d->ring_pages, d->indirect_segs, d->flush ? "on" : "off",
            d->barrier ? "on" : "off", d->discard ? "on" : "off", d->requests, d->backend_requests,
            d->backend_errors, d->connects, d->requeued, d->barrier_fallbacks, d->flush_fallbacks,
            d->bad_responses);
    if (d->stale_maps != 0)
        fprintf(out,
                "  stale maps (a broken backend): %" PRIu64 " tried, %" PRIu64
                " allowed by the grant\n",
                d->stale_maps, d->stale_mapped);
    if (d->power_loss_ns != 0) {
        print_ns(out, "  power lost at", d->power_loss_ns);
        fprintf(out,
                ": %" PRIu64 " cached sectors dropped; %" PRIu64
                " written sectors checked, %" PRIu64 " bad%s%s\n",
                d->lost_sectors, d->durable_checked, d->durable_bad,
                d->durable_detail[0] ? ": " : "", d->durable_detail);
    }
}

void xsim_report_print(const struct xsim_report *rep, FILE *out)
{
    const struct xsim_stats *st = &rep->stats;

    fprintf(out, "scenario %s  seed %" PRIu64 "  policy %s  cost profile %s  guest %s\n",
            rep->scenario, rep->seed, rep->policy, rep->cost_profile,
            rep->guest[0] ? rep->guest : "xensim");
    fprintf(out, "run: %s after ", xsim_stop_reason_name(rep->stop));
    print_ns(out, "", st->end_time_ns);
    fprintf(out,
            " of virtual time; %" PRIu64 " scheduling points, %" PRIu64 " decisions, %" PRIu64
            " switches, %" PRIu64 " timed events\n",
            st->points, st->decisions, st->switches, st->events);
    fprintf(out, "guest: %s Xen %u.%u, features 0x%08x; callback %s (%s)\n",
            rep->xen ? "found" : "did not find", rep->xen_version >> 16, rep->xen_version & 0xffff,
            rep->xenfeat, rep->callback,
            rep->percpu_events ? "events to any CPU" : "events on CPU 0 only");
    fprintf(out, "event channels: %s ABI (hypervisor: %s)\n",
            rep->event_abi[0] ? rep->event_abi : "unknown",
            rep->hv_event_abi[0] ? rep->hv_event_abi : "unknown");
    fprintf(out, "events handled per CPU:");
    for (unsigned int c = 0; c < rep->ncpus; c++)
        fprintf(out, " %" PRIu64, rep->cpu_events[c]);
    fprintf(out, "\n");
    if (rep->ncpus > 0) {
        fprintf(out, "CPU busy (handlers):");
        for (unsigned int c = 0; c < rep->ncpus; c++)
            fprintf(out, " %.1f%% (%.1f%%)", 100 * rep->cpu[c].utilization,
                    100 * rep->cpu[c].handler_utilization);
        fprintf(out, "\nupcalls per CPU (empty, deferred by the work bound):");
        for (unsigned int c = 0; c < rep->ncpus; c++)
            fprintf(out, " %" PRIu64 " (%" PRIu64 ", %" PRIu64 ")", rep->cpu[c].upcalls,
                    rep->cpu[c].empty_upcalls, rep->cpu[c].deferred);
        fprintf(out, "\n");
    }
    if (rep->timer_kind[0] || rep->ipi_mode[0])
        fprintf(out, "guest time: clock %s, event timer %s, IPIs %s\n",
                rep->clock_source[0] ? rep->clock_source : "none",
                rep->timer_kind[0] ? rep->timer_kind : "none",
                rep->ipi_mode[0] ? rep->ipi_mode : "none");
    for (size_t i = 0; i < rep->nwl; i++)
        print_workload(out, &rep->wl[i]);
    if (rep->has_events_all && rep->nwl > 1) {
        fprintf(out, "all events: %" PRIu64 " sent, %" PRIu64 " served\n", rep->events_all.sent,
                rep->events_all.consumed);
        print_dist(out, "wait", &rep->events_all.wait, -1);
        print_dist(out, "sojourn", &rep->events_all.sojourn, rep->events_all.sojourn_ns_mean_ci95);
    }
    for (size_t i = 0; i < rep->ndisks; i++)
        print_disk(out, &rep->disk[i]);
    if (rep->migration.requested != 0) {
        const struct xsim_migration_result *m = &rep->migration;
        fprintf(out,
                "migration: %" PRIu64 " suspends asked, %" PRIu64 " to a new host, %" PRIu64
                " cancelled, %" PRIu64 " failed;",
                m->requested, m->migrated, m->cancelled, m->failed);
        print_ns(out, " worst ack", m->ack_ns_max);
        print_ns(out, ", worst downtime", m->downtime_ns_max);
        if (m->guest_resume_ns_max != 0)
            print_ns(out, ", worst guest resume", m->guest_resume_ns_max);
        fprintf(out, "\n");
    }
    fprintf(out, "exits and costs:");
    for (unsigned int r = 0; r < XSIM_COST__COUNT; r++) {
        if (st->count[r] != 0)
            fprintf(out, " %s=%" PRIu64, xsim_cost_reason_name((enum xsim_cost_reason)r),
                    st->count[r]);
    }
    fprintf(out, "\nhypercalls:");
    for (unsigned int op = 0; op < XSIM_MAX_HYPERCALLS; op++) {
        if (st->hypercalls[op] != 0)
            fprintf(out, " %u=%" PRIu64, op, st->hypercalls[op]);
    }
    fprintf(out, "\noracles:\n");
    for (size_t i = 0; i < rep->noracles; i++)
        fprintf(out, "  %-16s %s  %s\n", rep->oracles[i].name,
                rep->oracles[i].not_judged ? "n/a "
                : rep->oracles[i].pass     ? "pass"
                                           : "FAIL",
                rep->oracles[i].detail);
    for (size_t i = 0; i < rep->nlaws; i++)
        fprintf(out, "law: %-16s %s  %s\n", rep->laws[i].name,
                rep->laws[i].pass ? "holds" : "BROKEN", rep->laws[i].detail);
    if (rep->replay_error[0] != '\0')
        fprintf(out, "replay: %s\n", rep->replay_error);
    fprintf(out, "digest %016" PRIx64 "\n", rep->digest);
}

static void dist_json(json_t *e, const char *prefix, const struct xsim_dist_summary *d)
{
    char k[48];

    snprintf(k, sizeof(k), "%s_ns_mean", prefix);
    json_object_set_new(e, k, json_real(d->mean));
    snprintf(k, sizeof(k), "%s_ns_p50", prefix);
    json_object_set_new(e, k, json_integer((json_int_t)d->p50));
    snprintf(k, sizeof(k), "%s_ns_p90", prefix);
    json_object_set_new(e, k, json_integer((json_int_t)d->p90));
    snprintf(k, sizeof(k), "%s_ns_p99", prefix);
    json_object_set_new(e, k, json_integer((json_int_t)d->p99));
    snprintf(k, sizeof(k), "%s_ns_p999", prefix);
    json_object_set_new(e, k, json_integer((json_int_t)d->p999));
    snprintf(k, sizeof(k), "%s_ns_max", prefix);
    json_object_set_new(e, k, json_integer((json_int_t)d->max));
}

static void events_json(json_t *e, const struct xsim_wl_result *w)
{
    json_t *idle = json_object();

    json_object_set_new(e, "service", json_string(w->service));
    dist_json(e, "wait", &w->wait);
    dist_json(e, "sojourn", &w->sojourn);
    dist_json(e, "service", &w->service_time);
    json_object_set_new(e, "sojourn_ns_mean_ci95",
                        w->sojourn_ns_mean_ci95 >= 0 ? json_real(w->sojourn_ns_mean_ci95)
                                                     : json_null());
    json_object_set_new(e, "arrival_rate_per_s", json_real(w->arrival_rate_per_s));
    json_object_set_new(e, "throughput_per_s", json_real(w->throughput_per_s));
    json_object_set_new(e, "unserved", json_integer((json_int_t)w->unserved));
    json_object_set_new(e, "empty_runs", json_integer((json_int_t)w->empty_runs));
    json_object_set_new(e, "acausal", json_integer((json_int_t)w->acausal));
    json_object_set_new(e, "port_spurious", json_integer((json_int_t)w->port_spurious));
    json_object_set_new(e, "port_throttled", json_integer((json_int_t)w->port_throttled));
    if (w->little_checked) {
        json_object_set_new(e, "little_L", json_real(w->little_L));
        json_object_set_new(e, "little_lambda_W", json_real(w->little_lambda_W));
        json_object_set_new(e, "little_L_ci95", json_real(w->little_L_ci95));
        json_object_set_new(e, "little_lambda_W_ci95", json_real(w->little_lambda_W_ci95));
    }
    json_object_set_new(idle, "n", json_integer((json_int_t)w->idle_n));
    json_object_set_new(idle, "wait_ns_mean", json_real(w->idle_wait_mean));
    for (unsigned int r = 0; r < XSIM_COST__COUNT; r++) {
        if (w->idle_ns_mean[r] > 0)
            json_object_set_new(idle, xsim_cost_reason_name((enum xsim_cost_reason)r),
                                json_real(w->idle_ns_mean[r]));
    }
    json_object_set_new(e, "idle_wake", idle);
}

static json_t *cpus_json(const struct xsim_report *rep)
{
    json_t *a = json_array();

    for (unsigned int c = 0; c < rep->ncpus; c++) {
        const struct xsim_cpu_result *r = &rep->cpu[c];
        json_t *e = json_object();
        json_object_set_new(e, "cpu", json_integer(c));
        json_object_set_new(e, "utilization", json_real(r->utilization));
        json_object_set_new(e, "handler_utilization", json_real(r->handler_utilization));
        json_object_set_new(e, "busy_ns", json_integer((json_int_t)r->busy_ns));
        json_object_set_new(e, "handler_ns", json_integer((json_int_t)r->handler_ns));
        json_object_set_new(e, "events", json_integer((json_int_t)rep->cpu_events[c]));
        json_object_set_new(e, "upcalls", json_integer((json_int_t)r->upcalls));
        json_object_set_new(e, "empty_upcalls", json_integer((json_int_t)r->empty_upcalls));
        json_object_set_new(e, "deferred", json_integer((json_int_t)r->deferred));
        json_array_append_new(a, e);
    }
    return a;
}

static json_t *stats_json(const struct xsim_report *rep)
{
    const struct xsim_stats *st = &rep->stats;
    json_t *o = json_object(), *exits = json_object(), *hc = json_object(), *cpus = json_array();

    json_object_set_new(o, "end_time_ns", json_integer((json_int_t)st->end_time_ns));
    json_object_set_new(o, "points", json_integer((json_int_t)st->points));
    json_object_set_new(o, "decisions", json_integer((json_int_t)st->decisions));
    json_object_set_new(o, "switches", json_integer((json_int_t)st->switches));
    json_object_set_new(o, "timed_events", json_integer((json_int_t)st->events));
    json_object_set_new(o, "interrupts", json_integer((json_int_t)st->interrupts));
    for (unsigned int r = 0; r < XSIM_COST__COUNT; r++) {
        json_t *e = json_object();
        json_object_set_new(e, "count", json_integer((json_int_t)st->count[r]));
        json_object_set_new(e, "ns", json_integer((json_int_t)st->ns[r]));
        json_object_set_new(exits, xsim_cost_reason_name((enum xsim_cost_reason)r), e);
    }
    json_object_set_new(o, "costs", exits);
    for (unsigned int op = 0; op < XSIM_MAX_HYPERCALLS; op++) {
        if (st->hypercalls[op] != 0) {
            char k[16];
            snprintf(k, sizeof(k), "%u", op);
            json_object_set_new(hc, k, json_integer((json_int_t)st->hypercalls[op]));
        }
    }
    json_object_set_new(o, "hypercalls", hc);
    for (unsigned int c = 0; c < rep->ncpus; c++)
        json_array_append_new(cpus, json_integer((json_int_t)rep->cpu_events[c]));
    json_object_set_new(o, "events_per_cpu", cpus);
    return o;
}

static json_t *disks_json(const struct xsim_report *rep)
{
    json_t *a = json_array();

    for (size_t i = 0; i < rep->ndisks; i++) {
        const struct xsim_disk_result *d = &rep->disk[i];
        json_t *e = json_object();
        json_object_set_new(e, "name", json_string(d->name));
        json_object_set_new(e, "state", json_string(d->state));
        json_object_set_new(e, "ring_pages", json_integer(d->ring_pages));
        json_object_set_new(e, "indirect_segments", json_integer(d->indirect_segs));
        json_object_set_new(e, "flush", json_boolean(d->flush));
        json_object_set_new(e, "barrier", json_boolean(d->barrier));
        json_object_set_new(e, "discard", json_boolean(d->discard));
        json_object_set_new(e, "requests", json_integer((json_int_t)d->requests));
        json_object_set_new(e, "backend_requests", json_integer((json_int_t)d->backend_requests));
        json_object_set_new(e, "backend_refused", json_integer((json_int_t)d->backend_errors));
        json_object_set_new(e, "connects", json_integer((json_int_t)d->connects));
        json_object_set_new(e, "requeued", json_integer((json_int_t)d->requeued));
        json_object_set_new(e, "barrier_fallbacks", json_integer((json_int_t)d->barrier_fallbacks));
        json_object_set_new(e, "flush_fallbacks", json_integer((json_int_t)d->flush_fallbacks));
        json_object_set_new(e, "bad_responses", json_integer((json_int_t)d->bad_responses));
        if (d->stale_maps != 0) {
            json_object_set_new(e, "stale_maps", json_integer((json_int_t)d->stale_maps));
            json_object_set_new(e, "stale_mapped", json_integer((json_int_t)d->stale_mapped));
        }
        if (d->power_loss_ns != 0) {
            json_object_set_new(e, "power_loss_ns", json_integer((json_int_t)d->power_loss_ns));
            json_object_set_new(e, "lost_sectors", json_integer((json_int_t)d->lost_sectors));
            json_object_set_new(e, "durable_checked", json_integer((json_int_t)d->durable_checked));
            json_object_set_new(e, "durable_bad", json_integer((json_int_t)d->durable_bad));
        }
        json_array_append_new(a, e);
    }
    return a;
}

static json_t *migration_json(const struct xsim_report *rep)
{
    const struct xsim_migration_result *m = &rep->migration;
    json_t *o = json_object();

    json_object_set_new(o, "requested", json_integer((json_int_t)m->requested));
    json_object_set_new(o, "migrated", json_integer((json_int_t)m->migrated));
    json_object_set_new(o, "cancelled", json_integer((json_int_t)m->cancelled));
    json_object_set_new(o, "failed", json_integer((json_int_t)m->failed));
    json_object_set_new(o, "downtime_ns_max", json_integer((json_int_t)m->downtime_ns_max));
    json_object_set_new(o, "ack_ns_max", json_integer((json_int_t)m->ack_ns_max));
    json_object_set_new(o, "guest_resume_ns_max",
                        json_integer((json_int_t)m->guest_resume_ns_max));
    json_object_set_new(o, "guest_new_hosts", json_integer((json_int_t)m->guest_resumed));
    json_object_set_new(o, "guest_cancelled", json_integer((json_int_t)m->guest_cancelled));
    return o;
}

int xsim_report_print_json(const struct xsim_report *rep, FILE *out)
{
    json_t *o = json_object(), *orc = json_object(), *wls = json_array(), *guest = json_object();
    char digest[17];
    int rc;

    snprintf(digest, sizeof(digest), "%016" PRIx64, rep->digest);
    json_object_set_new(o, "scenario", json_string(rep->scenario));
    json_object_set_new(o, "seed", json_integer((json_int_t)rep->seed));
    json_object_set_new(o, "policy", json_string(rep->policy));
    json_object_set_new(o, "backend", json_string(rep->backend));
    json_object_set_new(o, "cost_profile", json_string(rep->cost_profile));
    json_object_set_new(o, "guest", json_string(rep->guest[0] ? rep->guest : "xensim"));
    json_object_set_new(o, "stop", json_string(xsim_stop_reason_name(rep->stop)));
    json_object_set_new(o, "digest", json_string(digest));
    json_object_set_new(o, "pass", json_boolean(rep->all_pass));
    for (size_t i = 0; i < rep->noracles; i++) {
        json_t *e = json_object();
        json_object_set_new(e, "pass", json_boolean(rep->oracles[i].pass));
        json_object_set_new(e, "judged", json_boolean(!rep->oracles[i].not_judged));
        json_object_set_new(e, "detail", json_string(rep->oracles[i].detail));
        json_object_set_new(orc, rep->oracles[i].name, e);
    }
    json_object_set_new(o, "oracles", orc);
    json_object_set_new(guest, "xen", json_boolean(rep->xen));
    json_object_set_new(guest, "xen_version", json_integer(rep->xen_version));
    json_object_set_new(guest, "xenfeat", json_integer(rep->xenfeat));
    json_object_set_new(guest, "callback", json_string(rep->callback));
    json_object_set_new(guest, "hypervisor_callback", json_string(rep->hv_callback));
    json_object_set_new(guest, "event_abi", json_string(rep->event_abi));
    json_object_set_new(guest, "hypervisor_event_abi", json_string(rep->hv_event_abi));
    json_object_set_new(guest, "percpu_events", json_boolean(rep->percpu_events));
    json_object_set_new(o, "guest", guest);
    for (size_t i = 0; i < rep->nwl; i++) {
        const struct xsim_wl_result *w = &rep->wl[i];
        json_t *e = json_object();
        static const char *const types[] = {"events", "lost-update", "block-io",
                                            "timer",  "ipi",         "xenstore"};
        json_object_set_new(e, "name", json_string(w->name));
        if (w->type >= 0 && w->type < (int)(sizeof(types) / sizeof(types[0])))
            json_object_set_new(e, "type", json_string(types[w->type]));
        json_object_set_new(e, "sent", json_integer((json_int_t)w->sent));
        json_object_set_new(e, "handled", json_integer((json_int_t)w->consumed));
        json_object_set_new(e, "handler_runs", json_integer((json_int_t)w->handled));
        json_object_set_new(e, "cpu", json_integer(w->cpu));
        json_object_set_new(e, "latency_ns_mean", json_integer((json_int_t)w->latency_ns_mean));
        json_object_set_new(e, "latency_ns_p50", json_integer((json_int_t)w->latency_ns_p50));
        json_object_set_new(e, "latency_ns_p99", json_integer((json_int_t)w->latency_ns_p99));
        json_object_set_new(e, "latency_ns_max", json_integer((json_int_t)w->latency_ns_max));
        if (w->type == XSIM_WL_BLOCK_IO) {
            json_object_set_new(e, "reads", json_integer((json_int_t)w->reads));
            json_object_set_new(e, "writes", json_integer((json_int_t)w->writes));
            json_object_set_new(e, "flushes", json_integer((json_int_t)w->flushes));
            json_object_set_new(e, "barriers", json_integer((json_int_t)w->barriers));
            json_object_set_new(e, "discards", json_integer((json_int_t)w->discards));
            json_object_set_new(e, "errors", json_integer((json_int_t)w->errors));
            json_object_set_new(e, "unsupported", json_integer((json_int_t)w->unsupported));
            json_object_set_new(e, "refused", json_integer((json_int_t)w->refused));
            json_object_set_new(e, "retried", json_integer((json_int_t)w->retried));
            if (w->refused != 0) {
                json_object_set_new(e, "refused_error", json_string(strerror(w->refused_errno)));
                json_object_set_new(e, "refused_first_ns",
                                    json_integer((json_int_t)w->refused_first_ns));
            }
            json_object_set_new(e, "verified", json_integer((json_int_t)w->verified));
            json_object_set_new(e, "verify_failed", json_integer((json_int_t)w->verify_failed));
        }
        if (w->type == XSIM_WL_XENSTORE) {
            /* sent/handled are requests asked and answered; the latency
             * fields hold the worst watch-event delay */
            json_object_set_new(e, "reads_checked", json_integer((json_int_t)w->verified));
            json_object_set_new(e, "wrong_replies", json_integer((json_int_t)w->verify_failed));
        }
        if (w->early != 0)
            json_object_set_new(e, "early", json_integer((json_int_t)w->early));
        if (w->type == XSIM_WL_EVENTS && w->service[0] != '\0')
            events_json(e, w);
        json_array_append_new(wls, e);
    }
    json_object_set_new(o, "workloads", wls);
    if (rep->has_events_all) {
        const struct xsim_wl_result *a = &rep->events_all;
        json_t *e = json_object();
        json_object_set_new(e, "name", json_string("all"));
        json_object_set_new(e, "sent", json_integer((json_int_t)a->sent));
        json_object_set_new(e, "handled", json_integer((json_int_t)a->consumed));
        json_object_set_new(e, "handler_runs", json_integer((json_int_t)a->handled));
        events_json(e, a);
        json_object_set_new(o, "events", e);
    }
    json_object_set_new(o, "disks", disks_json(rep));
    if (rep->migration.requested != 0)
        json_object_set_new(o, "migration", migration_json(rep));
    if (rep->timer_kind[0])
        json_object_set_new(guest, "timer", json_string(rep->timer_kind));
    if (rep->ipi_mode[0])
        json_object_set_new(guest, "ipi", json_string(rep->ipi_mode));
    if (rep->clock_source[0])
        json_object_set_new(guest, "clock", json_string(rep->clock_source));
    json_object_set_new(o, "stats", stats_json(rep));
    json_object_set_new(o, "cpus", cpus_json(rep));
    json_t *laws = json_object();
    for (size_t i = 0; i < rep->nlaws; i++) {
        json_t *e = json_object();
        json_object_set_new(e, "pass", json_boolean(rep->laws[i].pass));
        json_object_set_new(e, "detail", json_string(rep->laws[i].detail));
        json_object_set_new(laws, rep->laws[i].name, e);
    }
    json_object_set_new(o, "laws", laws);
    if (rep->failure[0] != '\0')
        json_object_set_new(o, "failure", json_string(rep->failure));
    if (rep->replay_error[0] != '\0')
        json_object_set_new(o, "replay_error", json_string(rep->replay_error));
    rc = json_dumpf(o, out, JSON_COMPACT);
    fputc('\n', out);
    json_decref(o);
    return rc == 0 ? 0 : -1;
}
