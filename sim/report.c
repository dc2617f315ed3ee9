/*
 * report.c - a run's report, for people (text) and programs (one JSON
 * object, built with jansson).
 */
#include <inttypes.h>
#include <stdio.h>

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

void xsim_report_print(const struct xsim_report *rep, FILE *out)
{
    const struct xsim_stats *st = &rep->stats;

    fprintf(out, "scenario %s  seed %" PRIu64 "  policy %s  cost profile %s\n", rep->scenario,
            rep->seed, rep->policy, rep->cost_profile);
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
    fprintf(out, "events handled per CPU:");
    for (unsigned int c = 0; c < rep->ncpus; c++)
        fprintf(out, " %" PRIu64, rep->cpu_events[c]);
    fprintf(out, "\n");
    for (size_t i = 0; i < rep->nwl; i++) {
        const struct xsim_wl_result *w = &rep->wl[i];
        fprintf(out,
                "workload %-12s sent %" PRIu64 ", handled %" PRIu64 " (handler runs %" PRIu64
                ") on CPU %d; latency",
                w->name, w->sent, w->consumed, w->handled, w->cpu);
        print_ns(out, " mean", w->latency_ns_mean);
        print_ns(out, ", p50 <=", w->latency_ns_p50);
        print_ns(out, ", p99 <=", w->latency_ns_p99);
        print_ns(out, ", max", w->latency_ns_max);
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
                rep->oracles[i].pass ? "pass" : "FAIL", rep->oracles[i].detail);
    if (rep->replay_error[0] != '\0')
        fprintf(out, "replay: %s\n", rep->replay_error);
    fprintf(out, "digest %016" PRIx64 "\n", rep->digest);
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

int xsim_report_print_json(const struct xsim_report *rep, FILE *out)
{
    json_t *o = json_object(), *orc = json_object(), *wls = json_array(), *guest = json_object();
    char digest[17];
    int rc;

    snprintf(digest, sizeof(digest), "%016" PRIx64, rep->digest);
    json_object_set_new(o, "scenario", json_string(rep->scenario));
    json_object_set_new(o, "seed", json_integer((json_int_t)rep->seed));
    json_object_set_new(o, "policy", json_string(rep->policy));
    json_object_set_new(o, "cost_profile", json_string(rep->cost_profile));
    json_object_set_new(o, "stop", json_string(xsim_stop_reason_name(rep->stop)));
    json_object_set_new(o, "digest", json_string(digest));
    json_object_set_new(o, "pass", json_boolean(rep->all_pass));
    for (size_t i = 0; i < rep->noracles; i++) {
        json_t *e = json_object();
        json_object_set_new(e, "pass", json_boolean(rep->oracles[i].pass));
        json_object_set_new(e, "detail", json_string(rep->oracles[i].detail));
        json_object_set_new(orc, rep->oracles[i].name, e);
    }
    json_object_set_new(o, "oracles", orc);
    json_object_set_new(guest, "xen", json_boolean(rep->xen));
    json_object_set_new(guest, "xen_version", json_integer(rep->xen_version));
    json_object_set_new(guest, "xenfeat", json_integer(rep->xenfeat));
    json_object_set_new(guest, "callback", json_string(rep->callback));
    json_object_set_new(guest, "percpu_events", json_boolean(rep->percpu_events));
    json_object_set_new(o, "guest", guest);
    for (size_t i = 0; i < rep->nwl; i++) {
        const struct xsim_wl_result *w = &rep->wl[i];
        json_t *e = json_object();
        json_object_set_new(e, "name", json_string(w->name));
        json_object_set_new(e, "sent", json_integer((json_int_t)w->sent));
        json_object_set_new(e, "handled", json_integer((json_int_t)w->consumed));
        json_object_set_new(e, "handler_runs", json_integer((json_int_t)w->handled));
        json_object_set_new(e, "cpu", json_integer(w->cpu));
        json_object_set_new(e, "latency_ns_mean", json_integer((json_int_t)w->latency_ns_mean));
        json_object_set_new(e, "latency_ns_p50", json_integer((json_int_t)w->latency_ns_p50));
        json_object_set_new(e, "latency_ns_p99", json_integer((json_int_t)w->latency_ns_p99));
        json_object_set_new(e, "latency_ns_max", json_integer((json_int_t)w->latency_ns_max));
        json_array_append_new(wls, e);
    }
    json_object_set_new(o, "workloads", wls);
    json_object_set_new(o, "stats", stats_json(rep));
    if (rep->failure[0] != '\0')
        json_object_set_new(o, "failure", json_string(rep->failure));
    if (rep->replay_error[0] != '\0')
        json_object_set_new(o, "replay_error", json_string(rep->replay_error));
    rc = json_dumpf(o, out, JSON_COMPACT);
    fputc('\n', out);
    json_decref(o);
    return rc == 0 ? 0 : -1;
}
