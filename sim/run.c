/*
 * run.c - running a scenario: build the machine (hypervisor, a device
 * domain 0 without vCPUs, the guest domain on N vCPUs running a guest
 * program - xensim's own or a --guest plug-in, guestprog.h - with the
 * workload drivers of guestprog/host.c behind its env), run it, check the
 * oracles and laws, and fill the report.
 *
 * Devices stop sending 1 ms before the time limit (or at their own stop),
 * and new ticks, I/O and IPIs a drain period before it, so that the
 * oracles judge a drained system.
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

#include "explain.h"
#include "guestprog/host.h"
#include "jsonschema.h"
#include "workload/workload.h"
#include "xensim/blkback.h"
#include "xensim/evsource.h"
#include "xensim/guestprog.h"
#include "xensim/hv.h"
#include "xensim/machine.h"
#include "xensim/scenario.h"
#include "xensim/storage.h"
#include "xensim/time.h"
#include "xensim/toolstack.h"
#include "xensim/xenstore.h"
#include "xensim/xshost.h"

#define DRAIN_NS 1000000
#define XSPW     0x58535057 /* "XSPW": the socket-serving timed event */

struct run_ctx;

struct wl_arg {
    struct run_ctx *rc;
    size_t i;
};

struct run_ctx {
    const struct xsim_scenario *s;
    const struct xsim_guest_program *prog;
    struct xsim_machine *m;
    struct xsim_world *w;
    struct xsim_hv *hv;
    struct xsim_domain *d, *dom0;
    struct xsim_gp_host host; /* the guest program and the workload drivers */
    bool host_init;
    struct xsim_evsource *src[XSIM_SCN_MAX_WORKLOADS];
    struct xsim_events *ev[XSIM_SCN_MAX_WORKLOADS];
    struct xsim_events_total ev_total;
    /* XenStore and pacing (--xenstore-socket, --realtime) */
    bool want_xs;
    struct xsim_xshost *xs;
    uv_loop_t loop;
    bool loop_ok;
    struct xsim_xs_server *srv;
    bool realtime;
    double wall0;
    /* disks and migrations */
    struct xsim_toolstack *ts;
    struct xsim_rng storage_rng[XSIM_SCN_MAX_DISKS];
    struct xsim_storage *storage[XSIM_SCN_MAX_DISKS];
    bool power_lost[XSIM_SCN_MAX_DISKS];
    struct xsim_blkio_durability durable[XSIM_SCN_MAX_DISKS];
    bool durable_checked[XSIM_SCN_MAX_DISKS];
    struct wl_arg disk_args[XSIM_SCN_MAX_DISKS]; /* for the disks' fault events */
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
    xsim_event_schedule(w, now + POLL_PERIOD_NS, XSPW, host_poll, rc);
}

/* ---- oracles ---- */

static struct xsim_oracle_result *oracle(struct xsim_report *rep, const char *name, bool pass,
                                         const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Record one oracle's verdict. A verdict always counts in all_pass, even
 * in the (never expected) case that the table is full and it cannot be
 * listed. */
static struct xsim_oracle_result *oracle(struct xsim_report *rep, const char *name, bool pass,
                                         const char *fmt, ...)
{
    va_list ap;
    struct xsim_oracle_result *o;

    if (!pass)
        rep->all_pass = false;
    if (rep->noracles == XSIM_MAX_ORACLES)
        return NULL;
    o = &rep->oracles[rep->noracles++];
    snprintf(o->name, sizeof(o->name), "%s", name);
    o->pass = pass;
    va_start(ap, fmt);
    vsnprintf(o->detail, sizeof(o->detail), fmt, ap);
    va_end(ap);
    return o;
}

/* The block-io workloads' results, and how many there are. */
static size_t blkio_results(const struct xsim_scenario *s, struct run_ctx *rc,
                            struct xsim_blkio_result *r, size_t *idx)
{
    size_t n = 0;

    for (size_t i = 0; i < s->nworkloads; i++) {
        if (rc->host.bio[i] == NULL)
            continue;
        xsim_blkio_result(rc->host.bio[i], &r[n]);
        idx[n++] = i;
    }
    return n;
}

static void oracle_blk_data(const struct xsim_scenario *s, const struct xsim_blkio_result *r,
                            const size_t *idx, size_t n, struct xsim_report *rep)
{
    uint64_t verified = 0;
    char detail[256] = "";
    bool ok = true;

    for (size_t k = 0; k < n; k++) {
        verified += r[k].verified;
        if (r[k].verify_failed != 0 && ok) {
            ok = false;
            snprintf(detail, sizeof(detail), "%s: %" PRIu64 " of %" PRIu64 " reads wrong; %s",
                     s->workloads[idx[k]].name, r[k].verify_failed, r[k].verified,
                     r[k].verify_detail);
        }
    }
    if (ok)
        snprintf(detail, sizeof(detail), "%" PRIu64 " reads returned what was last written",
                 verified);
    oracle(rep, "blk_data", ok && verified > 0, "%s", detail);
}

/* Every I/O submitted completed without error, and none was refused for
 * good. A discard or flush the device does not offer is declined
 * (-EOPNOTSUPP), not failed. A refusal blkfront lifts by itself (a full hold queue, as while a
 * device reconnects after a migration) is retried by the workload and is
 * no failure; any other refusal means the device stopped taking I/O
 * (closed, in error, or no longer fitting the I/O), which a guest would
 * see as lost I/O. */
static void oracle_blk_no_lost_io(const struct xsim_scenario *s, const struct xsim_blkio_result *r,
                                  const size_t *idx, size_t n, struct xsim_report *rep)
{
    uint64_t done = 0, retried = 0, unsupported = 0;
    char detail[256] = "";
    bool ok = true;

    for (size_t k = 0; k < n; k++) {
        const struct xsim_scn_workload *wl = &s->workloads[idx[k]];
        const struct xsim_scn_disk *d = &s->disks[wl->disk_index];
        bool faults = d->faults.read_error_rate > 0 || d->faults.write_error_rate > 0;
        done += r[k].completed;
        retried += r[k].retried;
        unsupported += r[k].unsupported;
        if (ok && r[k].refused != 0) {
            ok = false;
            snprintf(detail, sizeof(detail),
                     "%s: %" PRIu64 " I/Os refused for good from %.3f ms on (%s); disk %s ended "
                     "%s; %" PRIu64 " submitted, %" PRIu64 " completed, %" PRIu64 " errors",
                     wl->name, r[k].refused, (double)r[k].refused_first_ns / 1e6,
                     strerror(r[k].refused_last_errno), d->name,
                     (size_t)wl->disk_index < rep->ndisks ? rep->disk[wl->disk_index].state : "?",
                     r[k].submitted, r[k].completed, r[k].errors);
        } else if (ok && (r[k].completed != r[k].submitted || (r[k].errors != 0 && !faults))) {
            ok = false;
            snprintf(detail, sizeof(detail),
                     "%s: %" PRIu64 " submitted, %" PRIu64 " completed, %" PRIu64 " errors%s",
                     wl->name, r[k].submitted, r[k].completed, r[k].errors,
                     r[k].completed == r[k].submitted ? ""
                     : rep->stop == XSIM_STOP_QUIESCENT
                         ? "; the rest were lost (nothing was left to run)"
                         : "; the rest were still in flight at the stop (lengthen "
                           "stop.time or lower the load)");
        }
    }
    if (ok) {
        int len = snprintf(detail, sizeof(detail), "all %" PRIu64 " I/Os completed", done);
        if (unsupported != 0)
            len +=
                snprintf(detail + len, sizeof(detail) - (size_t)len,
                         "; %" PRIu64 " discards or flushes the device did not offer", unsupported);
        if (retried != 0)
            snprintf(detail + len, sizeof(detail) - (size_t)len,
                     "; %" PRIu64 " submissions found the queue full and were retried", retried);
    }
    oracle(rep, "blk_no_lost_io", ok && done > 0, "%s", detail);
}

static void oracle_blk_durable(const struct xsim_scenario *s, struct run_ctx *rc,
                               struct xsim_report *rep)
{
    bool ok = true, any = false;
    char detail[256] = "no disk lost power";

    for (size_t d = 0; d < s->ndisks; d++) {
        const struct xsim_blkio_durability *du = &rc->durable[d];
        if (!rc->durable_checked[d])
            continue;
        if (!any)
            detail[0] = '\0';
        any = true;
        if (du->bad != 0 && ok) {
            ok = false;
            snprintf(detail, sizeof(detail), "%s: %" PRIu64 " of %" PRIu64 " sectors bad: %s",
                     s->disks[d].name, du->bad, du->checked, du->detail);
        } else if (ok) {
            size_t len = strlen(detail);
            snprintf(detail + len, sizeof(detail) - len,
                     "%s%s: %" PRIu64 " sectors of %" PRIu64 " blocks intact after %" PRIu64
                     " completed flushes",
                     len ? "; " : "", s->disks[d].name, du->checked, du->blocks_written,
                     du->flushes_completed);
        }
    }
    oracle(rep, "blk_durable", ok && any, "%s", detail);
}

static void check_blk_oracles(const struct xsim_scenario *s, struct run_ctx *rc,
                              struct xsim_report *rep)
{
    struct xsim_blkio_result r[XSIM_SCN_MAX_WORKLOADS];
    size_t idx[XSIM_SCN_MAX_WORKLOADS];
    size_t n = blkio_results(s, rc, r, idx);

    if (s->oracles.blk_data)
        oracle_blk_data(s, r, idx, n, rep);
    if (s->oracles.blk_no_lost_io)
        oracle_blk_no_lost_io(s, r, idx, n, rep);
    if (s->oracles.blk_durable)
        oracle_blk_durable(s, rc, rep);
}

static void check_time_oracles(const struct xsim_scenario *s, struct run_ctx *rc,
                               struct xsim_report *rep)
{
    unsigned int n = (unsigned int)s->machine.vcpus;

    if (s->oracles.migration) {
        const struct xsim_migration_result *m = &rep->migration;
        bool ok = m->requested == s->nmigrations && m->failed == 0 &&
                  m->migrated + m->cancelled == m->requested && rc->host.suspend_fail == 0 &&
                  m->guest_resumed + m->guest_cancelled == m->requested;
        oracle(rep, "migration", ok,
               "%" PRIu64 " asked, %" PRIu64 " migrated, %" PRIu64 " cancelled, %" PRIu64
               " failed; guest saw %" PRIu64 " new hosts, %" PRIu64
               " cancels; worst downtime %.2f ms",
               m->requested, m->migrated, m->cancelled, m->failed, m->guest_resumed,
               m->guest_cancelled, (double)m->downtime_ns_max / 1e6);
    }
    if (s->oracles.clock_monotonic) {
        uint64_t back = rc->host.suspend_backwards;
        bool sampled = false;
        for (unsigned int c = 0; c < n; c++) {
            back += rc->host.cs[c].backwards;
            sampled = sampled || rc->host.cs[c].has_timer;
        }
        /* The program's clock was read on every pass of every idle loop
         * and at every timer expiry: it must never go back. */
        oracle(rep, "clock_monotonic", back == 0 && sampled,
               "%" PRIu64 " readings went backwards (clock %s)%s", back,
               rep->clock_source[0] ? rep->clock_source : "of the program",
               sampled ? "" : "; the clock was never read");
    }
    if (s->oracles.timers) {
        bool ok = rc->host.timer_wl != NULL;
        char detail[256];
        uint64_t armed = 0;
        snprintf(detail, sizeof(detail), "no timer workload or no timer");
        for (unsigned int c = 0; c < n && ok; c++) {
            const struct xsim_gp_cpu *cs = &rc->host.cs[c];
            armed += cs->armed;
            if (!cs->has_timer || cs->armed == 0 || cs->fired != cs->armed || cs->early != 0) {
                ok = false;
                snprintf(
                    detail, sizeof(detail),
                    "CPU %u: %s, %" PRIu64 " ticks armed, %" PRIu64 " fired, %" PRIu64 " early", c,
                    cs->has_timer ? "has a timer" : "no timer", cs->armed, cs->fired, cs->early);
            }
        }
        if (ok)
            snprintf(detail, sizeof(detail),
                     "%" PRIu64 " ticks armed and fired on %u CPUs (%s), none early", armed, n,
                     rep->timer_kind[0] ? rep->timer_kind : "the program's");
        oracle(rep, "timers", ok, "%s", detail);
    }
    if (s->oracles.ipis) {
        bool ok = rc->host.ipi_wl != NULL && n > 1;
        uint64_t sent = 0;
        char detail[256];
        snprintf(detail, sizeof(detail), "no ipi workload or one CPU");
        for (unsigned int c = 1; c < n && ok; c++) {
            const struct xsim_gp_cpu *cs = &rc->host.cs[c];
            sent += cs->ipi_sent;
            /* A send the guest could not make (a port gone after a
             * resume) is an IPI lost, not one that never was. */
            if (cs->ipi_failed != 0) {
                ok = false;
                snprintf(detail, sizeof(detail),
                         "CPU %u: %" PRIu64 " of %" PRIu64 " IPI sends to it failed", c,
                         cs->ipi_failed, cs->ipi_sent);
            } else if (cs->ipi_seen != cs->ipi_sent) {
                ok = false;
                snprintf(detail, sizeof(detail),
                         "CPU %u: %" PRIu64 " IPIs sent, its handler last saw %" PRIu64, c,
                         cs->ipi_sent, cs->ipi_seen);
            }
        }
        if (ok && sent == 0) {
            ok = false;
            snprintf(detail, sizeof(detail), "no IPI was sent");
        }
        if (ok)
            snprintf(detail, sizeof(detail), "%" PRIu64 " IPIs (%s) all followed by a handler run",
                     sent, rep->ipi_mode[0] ? rep->ipi_mode : "the program's");
        oracle(rep, "ipis", ok, "%s", detail);
    }
}

static void check_oracles(const struct xsim_scenario *s, struct run_ctx *rc,
                          struct xsim_report *rep)
{
    bool stop_ok = rep->stop == XSIM_STOP_QUIESCENT || rep->stop == XSIM_STOP_TIME_LIMIT ||
                   rep->stop == XSIM_STOP_ALL_DONE;

    /* Always: the run itself must end normally and the guest must boot. */
    bool set_up = rep->boot_rc != 0 || rc->host.ready != 0;
    const char *setup_err = rc->host.setup_err;

    oracle(rep, "run", stop_ok && rep->boot_rc == 0 && setup_err[0] == '\0' && set_up,
           "ended %s%s%s; boot %d%s%s%s", xsim_stop_reason_name(rep->stop),
           rep->failure[0] ? ": " : "", rep->failure, rep->boot_rc, setup_err[0] ? "; " : "",
           setup_err,
           set_up ? "" : "; the guest had not finished setting up when the run stopped");
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
        /* A latency bound is a performance figure: virtual time is elapsed
         * time only under `time`. Under an exploring policy a vCPU waits
         * as long as the policy leaves it unpicked, which says nothing
         * about the guest. */
        if (strcmp(rep->policy, "time") != 0) {
            struct xsim_oracle_result *o =
                oracle(rep, "max_latency", true,
                       "not judged under %s (worst %" PRIu64 " ns; latencies mean elapsed time "
                       "only under 'time')",
                       rep->policy, worst);
            if (o != NULL)
                o->not_judged = true;
        } else {
            oracle(rep, "max_latency", worst <= s->oracles.max_latency_ns,
                   "worst %" PRIu64 " ns (%s), bound %" PRIu64 " ns", worst, who,
                   s->oracles.max_latency_ns);
        }
    }
    /* Judged by what the hypervisor delivers by, not by what the guest
     * program says it chose: a program that believes it has per-vCPU
     * vectors while its domain is on a GSI fails here. */
    if (s->oracles.callback[0] != '\0')
        oracle(rep, "callback", strcmp(rep->hv_callback, s->oracles.callback) == 0,
               "the hypervisor delivers by %s (the guest says %s), expected %s",
               rep->hv_callback, rep->callback, s->oracles.callback);
    if (s->oracles.max_upcalls_per_event > 0) {
        /* What delivery cost the guest, counted by the machine (upcalls it
         * entered the guest for), against the items the devices got
         * served: a storm that keeps a CPU in its handler fails here. */
        uint64_t upcalls = rep->stats.count[XSIM_COST_UPCALL], served = 0;
        for (size_t i = 0; i < rep->nwl; i++) {
            if (s->workloads[i].type == XSIM_WL_EVENTS)
                served += rep->wl[i].consumed;
        }
        double ratio = (double)upcalls / (double)(served ? served : 1);
        oracle(rep, "upcall_cost", ratio <= s->oracles.max_upcalls_per_event,
               "%" PRIu64 " upcalls for %" PRIu64 " items served: %.2f per item, bound %.2f",
               upcalls, served, ratio, s->oracles.max_upcalls_per_event);
    }
    if (s->oracles.lost_update)
        oracle(rep, "lost_update", rc->host.lu_counter == rc->host.lu_expected,
               "counter %" PRIu64 ", expected %" PRIu64, (uint64_t)rc->host.lu_counter,
               rc->host.lu_expected);
    check_blk_oracles(s, rc, rep);
    check_time_oracles(s, rc, rep);
}

/* ---- laws of the measurements ---- */

static void law(struct xsim_report *rep, const char *name, bool pass, const char *detail)
{
    struct xsim_oracle_result *o = &rep->laws[rep->nlaws++];

    snprintf(o->name, sizeof(o->name), "%s", name);
    o->pass = pass;
    snprintf(o->detail, sizeof(o->detail), "%s", detail);
}

/* Little's law L = lambda W for every Poisson source (L as arrivals see
 * it, lambda over the sending window, W the mean sojourn), and the
 * utilisation law U = X S for every CPU (the handler time the vCPU was
 * charged against the service its served items took). */
static void check_laws(const struct xsim_scenario *s, struct run_ctx *rc, struct xsim_report *rep)
{
    double worst = -1;
    char detail[256] = "";
    bool ok = true;
    uint64_t end = rep->stats.end_time_ns;

    for (size_t i = 0; i < rep->nwl; i++) {
        const struct xsim_wl_result *w = &rep->wl[i];
        double diff, rel;
        if (!w->little_checked)
            continue;
        diff = fabs(w->little_L - w->little_lambda_W);
        rel = w->little_lambda_W > 0 ? diff / w->little_lambda_W : diff;
        /* Both sides are estimates from one run, each with its interval:
         * they must agree within twice their combined 95% half-widths
         * (a rare excursion, a migration's downtime, widens both), or
         * within 5%, or within 0.01 items when the system is nearly empty. */
        if (rel > 0.05 && diff > 0.01) {
            double band = -1;
            if (w->little_L_ci95 >= 0 && w->little_lambda_W_ci95 >= 0)
                band = 2 * sqrt(w->little_L_ci95 * w->little_L_ci95 +
                                w->little_lambda_W_ci95 * w->little_lambda_W_ci95);
            if (!(band >= 0 && diff <= band))
                ok = false;
        }
        if (rel > worst) {
            worst = rel;
            snprintf(detail, sizeof(detail),
                     "%s: L %.4f as arrivals see it (+-%.4f), lambda W %.4f (+-%.4f; %.0f/s x "
                     "%.0f ns), %.2f%% apart (worst of the Poisson sources)",
                     w->name, w->little_L, w->little_L_ci95, w->little_lambda_W,
                     w->little_lambda_W_ci95, w->arrival_rate_per_s, w->sojourn.mean, 100 * rel);
        }
    }
    if (worst >= 0)
        law(rep, "little", ok, detail);
    worst = -1;
    ok = true;
    for (unsigned int c = 0; c < rep->ncpus && end > 0; c++) {
        const struct xsim_cpu_result *r = &rep->cpu[c];
        double u = (double)r->handler_ns / (double)end, xs = (double)r->service_ns / (double)end;
        double diff = fabs(u - xs);
        if (r->service_ns == 0 && r->handler_ns == 0)
            continue;
        /* The handler time the vCPU was charged is exactly what its items
         * declared: nothing else charges handler work. */
        if (r->handler_ns != r->service_ns)
            ok = false;
        if (diff > worst) {
            worst = diff;
            snprintf(detail, sizeof(detail),
                     "CPU %u: handler utilisation %.6f, served items x mean service %.6f "
                     "(worst CPU)",
                     c, u, xs);
        }
    }
    (void)s;
    (void)rc;
    if (worst >= 0)
        law(rep, "utilization", ok, detail);
}

/* ---- set-up ---- */

static int load_costs(const struct xsim_scenario *s, struct xsim_cost_profile *cp,
                      struct xsim_report *rep)
{
    struct xsim_error err;

    xsim_cost_profile_default(cp);
    if (s->machine.cost_profile[0] != '\0') {
        char dir[512];
        int rc;
        /* A name is a shipped profile; a path is relative to the scenario. */
        snprintf(dir, sizeof(dir), "%s", s->path);
        if ((rc = xsim_cost_profile_resolve(cp, s->machine.cost_profile, dirname(dir), &err)) !=
            0) {
            xsim_error_format(&err, rep->failure, sizeof(rep->failure));
            return rc == -ENOENT ? -ENOENT : -EINVAL;
        }
    }
    if (s->machine.apicv)
        cp->apicv = true;
    if (s->machine.posted_interrupts)
        cp->apicv = cp->posted_interrupts = true; /* posting needs APICv */
    snprintf(rep->cost_profile, sizeof(rep->cost_profile), "%s", cp->name);
    return 0;
}

static size_t guest_ram_pages(const struct xsim_scenario *s)
{
    size_t pages = 256;

    for (size_t i = 0; i < s->nworkloads; i++) {
        const struct xsim_scn_workload *wl = &s->workloads[i];
        if (wl->type == XSIM_WL_BLOCK_IO)
            pages += (size_t)wl->queue_depth * ((wl->io_sectors * 512u + 4095) / 4096);
    }
    /* Rings, grant frames and indirect pages of the disks. */
    return pages + s->ndisks * 64;
}

/* The power fails: the disk's volatile cache is gone, the workloads on it
 * stop, and the durable image is judged now, before anything else lands. */
static void power_loss(struct xsim_world *w, void *arg)
{
    struct wl_arg *a = arg;
    struct run_ctx *rc = a->rc;
    size_t d = a->i;

    (void)w;
    rc->power_lost[d] = true;
    xsim_storage_power_loss(rc->storage[d]);
    for (size_t i = 0; i < rc->s->nworkloads; i++) {
        struct xsim_blkio *bio = rc->host.bio[i];
        if (bio == NULL || rc->s->workloads[i].disk_index != (int)d)
            continue;
        xsim_blkio_halt(bio);
        struct xsim_blkio_durability du;
        if (xsim_blkio_check_durable(bio, rc->storage[d], &du) == 0) {
            rc->durable[d].checked += du.checked;
            rc->durable[d].bad += du.bad;
            rc->durable[d].blocks_written += du.blocks_written;
            rc->durable[d].flushes_completed += du.flushes_completed;
            if (du.bad != 0 && rc->durable[d].detail[0] == '\0')
                snprintf(rc->durable[d].detail, sizeof(rc->durable[d].detail), "%s", du.detail);
            rc->durable_checked[d] = true;
        }
    }
}

/* The disk's backend goes away for good (a forced detach): the frontend
 * sees its nodes go and closes; what the workloads submit later is
 * refused, which the blk_no_lost_io oracle reports. */
static void backend_gone(struct xsim_world *w, void *arg)
{
    struct wl_arg *a = arg;

    (void)w;
    (void)xsim_toolstack_remove_disk(a->rc->ts, (unsigned int)a->i);
}

static void start_drain(struct xsim_world *w, void *arg)
{
    struct run_ctx *rc = arg;

    (void)w;
    xsim_gp_host_drain(&rc->host);
}

static void blkback_features(struct xsim_blkback_features *f,
                             const struct xsim_scn_disk_features *d)
{
    f->flush = d->flush;
    f->barrier = d->barrier;
    f->discard = d->discard;
    f->max_indirect_segs = (unsigned int)d->indirect_segments;
    f->max_ring_page_order = (unsigned int)d->max_ring_page_order;
}

static int build_disk(struct run_ctx *rc, const struct xsim_scenario *s, size_t i)
{
    const struct xsim_scn_disk *d = &s->disks[i];
    struct xsim_storage_config sc = {
        .sectors = d->sectors,
        .readonly = d->readonly || d->kind == XSIM_DISK_CDROM,
        .write_cache = d->write_cache,
        .path = d->path[0] ? d->path : NULL,
        .faults = {.read_error_rate = d->faults.read_error_rate,
                   .write_error_rate = d->faults.write_error_rate,
                   .refuse_flush = d->faults.refuse_flush,
                   .refuse_barrier = d->faults.refuse_barrier,
                   .lose_all_cached = d->faults.lose_all_cached,
                   .flush_lies = d->faults.flush_lies},
        .rng = &rc->storage_rng[i],
    };
    struct xsim_blkback_config bc;
    struct xsim_blkback *bb;
    char stream[48];
    int err;

    snprintf(stream, sizeof(stream), "storage:%s", d->name);
    xsim_world_rng(rc->w, stream, &rc->storage_rng[i]);
    if (d->kind == XSIM_DISK_CDROM)
        err = xsim_storage_cdrom_create(&sc, &rc->storage[i]);
    else if (d->storage == XSIM_DISK_FILE)
        err = xsim_storage_file_create(&sc, &rc->storage[i]);
    else
        err = xsim_storage_mem_create(&sc, &rc->storage[i]);
    if (err != 0)
        return err;
    xsim_blkback_config_init(&bc);
    bc.guest = 1;
    bc.devid = d->devid;
    bc.cdrom = d->kind == XSIM_DISK_CDROM;
    bc.readonly = d->readonly || bc.cdrom;
    blkback_features(&bc.features, &d->features);
    bc.storage = rc->storage[i];
    bc.latency_ns = d->latency_ns;
    bc.ns_per_sector = d->ns_per_sector;
    bc.jitter = d->jitter;
    bc.refuse_barrier = d->faults.refuse_barrier;
    bc.refuse_flush = d->faults.refuse_flush;
    bc.duplicate_response = (unsigned int)d->faults.duplicate_response;
    if ((err = xsim_toolstack_add_disk(rc->ts, &bc, &bb)) != 0)
        return err;
    rc->disk_args[i] = (struct wl_arg){.rc = rc, .i = i};
    if (d->power_loss_ns != 0 && xsim_event_schedule(rc->w, d->power_loss_ns, 0x504c4f53 /* PLOS */,
                                                     power_loss, &rc->disk_args[i]) == 0)
        return -ENOMEM;
    if (d->backend_gone_ns != 0 &&
        xsim_event_schedule(rc->w, d->backend_gone_ns, 0x42474f4e /* BGON */, backend_gone,
                            &rc->disk_args[i]) == 0)
        return -ENOMEM;
    return 0;
}

static int build_devices(struct run_ctx *rc, const struct xsim_scenario *s)
{
    uint64_t drain = DRAIN_NS;
    int err;

    const struct xsim_scn_workload *timer_wl = rc->host.timer_wl;

    if (s->ndisks == 0 && s->nmigrations == 0 && timer_wl == NULL && rc->host.ipi_wl == NULL)
        return 0;
    if (s->ndisks > 0 || s->nmigrations > 0) {
        if ((err = xsim_machine_toolstack(rc->m, &rc->ts)) != 0)
            return err;
        for (size_t i = 0; i < s->ndisks; i++) {
            if ((err = build_disk(rc, s, i)) != 0)
                return err;
            drain = drain > 40 * s->disks[i].latency_ns ? drain : 40 * s->disks[i].latency_ns;
        }
        for (size_t i = 0; i < s->nmigrations; i++) {
            const struct xsim_scn_migration *sm = &s->migrations[i];
            struct xsim_migration m;
            xsim_migration_init(&m);
            m.at_ns = sm->at_ns;
            m.downtime_ns = sm->downtime_ns;
            m.cancel = sm->cancel;
            m.tsc_hz = sm->tsc_hz;
            m.system_time_offset_ns = sm->system_time_offset_ns;
            if (sm->has_features) {
                m.has_hv_features = true;
                xsim_hv_features_default(&m.hv_features);
                m.hv_features.hvm_callback_vector = sm->hvm_callback_vector;
                m.hv_features.percpu_upcall_vector = sm->percpu_upcall_vector;
                m.hv_features.hvm_safe_pvclock = sm->hvm_safe_pvclock;
                m.hv_features.platform_pci = sm->platform_pci;
                m.hv_features.fifo_events = sm->fifo_events;
            }
            if (sm->has_disk_features) {
                m.has_disk_features = true;
                for (size_t k = 0; k < s->ndisks && k < XSIM_TOOLSTACK_MAX_DISKS; k++)
                    blkback_features(&m.disk_features[k], &sm->disk_features);
            }
            if ((err = xsim_toolstack_schedule(rc->ts, &m)) != 0)
                return err;
        }
    }
    if (timer_wl != NULL && 3 * timer_wl->period_ns > drain)
        drain = 3 * timer_wl->period_ns;
    if (drain > s->stop.time_ns / 2)
        drain = s->stop.time_ns / 2; /* a short run still drains its second half */
    if (drain > 0) {
        if (xsim_event_schedule(rc->w, s->stop.time_ns - drain, 0x4452414e /* DRAN */, start_drain,
                                rc) == 0)
            return -ENOMEM;
    }
    return 0;
}

static int build(struct run_ctx *rc, const struct xsim_scenario *s, struct xsim_policy *pol,
                 const struct xsim_world_config *wc)
{
    struct xsim_machine_config mc;
    struct xsim_error merr;
    int err;

    if ((err = xsim_gp_host_init(&rc->host, s, rc->prog)) != 0)
        return err;
    rc->host_init = true;
    xsim_machine_config_init(&mc, (unsigned int)s->machine.vcpus);
    mc.world = *wc;
    mc.policy_obj = pol;
    mc.guest_ram_pages = guest_ram_pages(s);
    mc.features.hvm_callback_vector = s->machine.hvm_callback_vector;
    mc.features.percpu_upcall_vector = s->machine.percpu_upcall_vector;
    mc.features.hvm_safe_pvclock = s->machine.hvm_safe_pvclock;
    mc.features.platform_pci = s->machine.platform_pci;
    mc.features.viridian = s->machine.viridian;
    mc.features.fifo_events = s->machine.fifo_events;
    mc.xenstore = rc->want_xs || s->ndisks > 0 || s->nmigrations > 0;
    mc.ops = xsim_gp_host_ops(&rc->host);
    mc.guest = rc->host.state;
    if ((err = xsim_machine_create(&mc, &rc->m, &merr)) != 0)
        return err;
    rc->w = xsim_machine_world(rc->m);
    rc->hv = xsim_machine_hv(rc->m);
    rc->dom0 = xsim_machine_backend(rc->m);
    rc->d = xsim_machine_guest(rc->m);
    rc->xs = xsim_machine_xenstore(rc->m);
    if (s->machine.time_calibration_ns != 0) {
        /* As Xen's calibration: every record republished, odd version
         * first, the rest after a scheduling point, while the guest runs
         * and may be reading it. Bounded, so a run can still go quiet. */
        struct xsim_hv_time_config tc;
        xsim_hv_time_config_default(&tc);
        tc.calibrate_ns = s->machine.time_calibration_ns;
        tc.calibrate_count = s->stop.time_ns / s->machine.time_calibration_ns + 1;
        if ((err = xsim_hv_time_config(rc->hv, 1, &tc)) != 0)
            return err;
    }
    if ((err = build_devices(rc, s)) != 0)
        return err;
    for (size_t i = 0; i < s->nworkloads; i++) {
        const struct xsim_scn_workload *wl = &s->workloads[i];
        char stream[48];
        uint64_t stop = s->stop.time_ns > DRAIN_NS ? s->stop.time_ns - DRAIN_NS : s->stop.time_ns;
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
        struct xsim_events_params ep = {.wl = wl,
                                        .src = rc->src[i],
                                        .w = rc->w,
                                        .ncpus = (unsigned int)s->machine.vcpus,
                                        .total = &rc->ev_total};
        if ((err = xsim_events_create(&ep, &rc->ev[i])) != 0)
            return err;
        xsim_gp_host_add_device(&rc->host, i, rc->src[i], rc->ev[i]);
    }
    /* Last: the program sees the whole machine. */
    return xsim_gp_host_start(&rc->host, rc->w, xsim_domain_platform(rc->d), rc->xs != NULL);
}

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

    xsim_events_total_result(&rc->ev_total, &er);
    if (er.sojourn.n == 0)
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
    rep->migration.guest_resumed = rc->host.suspend_rc0;
    rep->migration.guest_cancelled = rc->host.suspend_rc1;
    rep->migration.clock_backwards = rc->host.suspend_backwards;
    for (unsigned int c = 0; rc->host.cs != NULL && c < (unsigned int)s->machine.vcpus; c++)
        rep->migration.clock_backwards += rc->host.cs[c].backwards;
}

static void collect(struct run_ctx *rc, const struct xsim_scenario *s, struct xsim_report *rep)
{
    rep->digest = xsim_world_digest(rc->w);
    rep->stats = *xsim_world_stats(rc->w);
    if (xsim_world_failure(rc->w) != NULL)
        snprintf(rep->failure, sizeof(rep->failure), "%s", xsim_world_failure(rc->w));
    if (xsim_world_replay_error(rc->w) != NULL)
        snprintf(rep->replay_error, sizeof(rep->replay_error), "%s",
                 xsim_world_replay_error(rc->w));
    (void)xsim_choices_copy(&rep->choices, xsim_world_choices(rc->w));
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

const char *xsim_scenario_policy_spec(const struct xsim_scenario *s, const char *spec, char *buf,
                                      size_t size)
{
    const uint32_t timed =
        XSIM_GUEST_TIMER | XSIM_GUEST_IPI | XSIM_GUEST_BLOCK_IO | XSIM_GUEST_SUSPEND;

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
        own = pol = xsim_policy_create(xsim_scenario_policy_spec(s, s->policy, spec, sizeof(spec)),
                                       &perr);
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
        xsim_event_schedule(rc.w, 0, XSPW, host_poll, &rc);
    }
    snprintf(rep->backend, sizeof(rep->backend), "%s", xsim_backend_name(xsim_world_backend(rc.w)));
    rep->stop = xsim_world_run(rc.w);

    collect(&rc, s, rep);
    check_oracles(s, &rc, rep);
    check_laws(s, &rc, rep);
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
