/*
 * run.c - running a scenario: build the machine (hypervisor, a device
 * domain 0 without vCPUs, the guest domain on N vCPUs running a guest
 * program - xensim's own or a --guest plug-in, guestprog.h - with the
 * workload drivers of guestprog/host.c behind its env), run it, collect
 * the report and judge it. The steps live in assemble.c, collect.c and
 * oracles.c (run_internal.h); this file holds the order, the XenStore
 * socket and --realtime pacing, and the teardown.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "run/explain.h"
#include "run/run_internal.h"
#include "xensim/guestprog.h"
#include "xensim/hv.h"
#include "xensim/xenstore.h"

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
    xsim_event_schedule(w, now + POLL_PERIOD_NS, XSIM_RUN_EV_SOCKET_POLL, host_poll, rc);
}

const char *xsim_scenario_policy_spec(const struct xsim_scenario *s, const char *spec, char *buf,
                                      size_t size)
{
    const uint32_t timed = XSIM_GUEST_TIMER | XSIM_GUEST_IPI | XSIM_GUEST_BLOCK_IO |
                           XSIM_GUEST_SUSPEND | XSIM_GUEST_XENSTORE;

    if (spec == NULL || strcmp(spec, "time") == 0 || strstr(spec, "+time") != NULL ||
        strncmp(spec, "replay", 6) == 0 || !(xsim_scenario_guest_needs(s) & timed))
        return spec;
    snprintf(buf, size, "%s%s", spec, XSIM_DEFAULT_GATE);
    return buf;
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
    xsim_events_total_init(&rc.ev_total);
    rc.s = s;
    rc.replay_of = opt != NULL ? opt->replay_of : NULL;
    rc.prog = opt != NULL && opt->guest != NULL ? opt->guest : &xsim_builtin_guest_program;
    rep->all_pass = true;
    snprintf(rep->scenario, sizeof(rep->scenario), "%s", s->name);
    snprintf(rep->guest, sizeof(rep->guest), "%s", rc.prog->name != NULL ? rc.prog->name : "?");
    if ((err = xsim_guest_program_accepts(rc.prog, s, rep->failure, sizeof(rep->failure))) != 0) {
        xsim_events_total_free(&rc.ev_total);
        return err;
    }
    rep->seed = opt != NULL && opt->seed_set ? opt->seed : s->seed;
    if (pol == NULL) {
        char spec[96];
        own = pol =
            xsim_policy_create(xsim_scenario_policy_spec(s, s->policy, spec, sizeof(spec)), &perr);
        if (pol == NULL) {
            snprintf(rep->failure, sizeof(rep->failure), "%s", perr.text);
            return -EINVAL;
        }
    }
    snprintf(rep->policy, sizeof(rep->policy), "%s", xsim_policy_spec(pol));
    if ((err = xsim__run_load_costs(s, &cp, rep)) != 0)
        goto out;
    xsim_world_config_init(&wc);
    wc.seed = rep->seed;
    wc.costs = &cp;
    wc.quantum_ns = s->machine.quantum_ns;
    wc.backend =
        (enum xsim_backend)(opt != NULL && opt->backend != 0 ? opt->backend : s->machine.backend);
    wc.time_limit_ns = s->stop.time_ns;
    wc.max_events = s->stop.events;
    wc.max_decisions = s->stop.decisions;
    wc.keep_trace = (opt != NULL && opt->keep_trace) || trace_jsonl != NULL || trace_chrome != NULL;
    wc.keep_points = opt != NULL && opt->explain != NULL;
    rc.realtime = opt != NULL && opt->realtime;
    wc.log = opt != NULL ? opt->log : NULL;
    rc.want_xs = opt != NULL && opt->xenstore_socket != NULL;
    if ((err = xsim__run_build(&rc, s, pol, &wc)) != 0) {
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
        xsim_event_schedule(rc.w, 0, XSIM_RUN_EV_SOCKET_POLL, host_poll, &rc);
    }
    snprintf(rep->backend, sizeof(rep->backend), "%s", xsim_backend_name(xsim_world_backend(rc.w)));
    rep->stop = xsim_world_run(rc.w);

    xsim__run_collect(&rc, s, rep);
    xsim__run_judge(s, &rc, rep);
    if (opt != NULL && opt->explain != NULL)
        xsim_explain_write(rc.w, rep, opt->explain);
    if (trace_jsonl != NULL)
        (void)xsim_trace_write_jsonl(rc.w, trace_jsonl);
    if (trace_chrome != NULL)
        (void)xsim_trace_write_chrome(rc.w, trace_chrome);
out:
    /* No simulated code runs any more (the run is over or never began):
     * close the socket's clients while the store still exists, then the
     * machine (its backends unmap guest RAM before the world frees it). */
    if (rc.srv != NULL)
        xsim_xs_server_close(rc.srv);
    if (rc.loop_ok) {
        uv_run(&rc.loop, UV_RUN_DEFAULT); /* let the closes complete */
        uv_loop_close(&rc.loop);
    }
    xsim_machine_destroy(rc.m);
    for (size_t i = 0; i < XSIM_SCN_MAX_DISKS; i++)
        xsim_storage_destroy(rc.storage[i]);
    if (rc.host_init)
        xsim_gp_host_fini(&rc.host);
    for (size_t i = 0; i < XSIM_SCN_MAX_WORKLOADS; i++) {
        xsim_events_destroy(rc.ev[i]);
        xsim_evsource_destroy(rc.src[i]);
    }
    xsim_events_total_free(&rc.ev_total);
    xsim_policy_destroy(own);
    return err;
}

void xsim_report_free(struct xsim_report *rep)
{
    xsim_choices_free(&rep->choices);
}
