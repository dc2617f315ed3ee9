/*
 * oracles.c - the verdicts on a finished run.
 *
 * One checker per oracle, in one table, run in its order. A checker is
 * armed by the scenario's "oracles" block (the run checker always is),
 * reads only the collected report and the counters the machine kept
 * (guestprog/host.c's drivers, the hypervisor, the devices), never what
 * the guest program says of itself, and fills one verdict. The table
 * records it: a failing verdict clears all_pass even if the report's list
 * is full. Adding an oracle is a checker, a row here and a key in the
 * scenario schema (scenario/scenario.c); docs/exploration.md lists them.
 *
 * The laws of the measurements (Little's law, the utilisation law) follow:
 * they judge the simulator, not the guest, and never change all_pass.
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "run/run_internal.h"
#include "xensim/gnttab.h"

/* What every checker reads. */
struct judge {
    const struct xsim_scenario *s;
    const struct run_ctx *rc;
    const struct xsim_report *rep; /* as collected */
    unsigned int ncpus;
    /* The block-io workloads' results, gathered once. */
    struct xsim_blkio_result blk[XSIM_SCN_MAX_WORKLOADS];
    size_t blk_wl[XSIM_SCN_MAX_WORKLOADS]; /* the workload index of blk[k] */
    size_t nblk;
};

struct verdict {
    bool pass;
    bool not_judged; /* does not apply to this run; pass is true, detail says why */
    char detail[sizeof(((struct xsim_oracle_result *)0)->detail)];
};

struct checker {
    const char *name;
    bool (*armed)(const struct xsim_scenario *s);
    void (*check)(const struct judge *j, struct verdict *v);
};

static void say(struct verdict *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(struct verdict *v, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(v->detail, sizeof(v->detail), fmt, ap);
    va_end(ap);
}

/* Virtual time is elapsed time: the run followed `time`, or replays one
 * that did. */
static bool time_ordered(const struct judge *j)
{
    return strcmp(j->rep->policy, "time") == 0 ||
           (j->rc->replay_of != NULL && strcmp(j->rc->replay_of, "time") == 0);
}

/* ---- the run itself ---- */

static bool always(const struct xsim_scenario *s)
{
    (void)s;
    return true;
}

/* The run must end normally and the guest must finish setting up. */
static void check_run(const struct judge *j, struct verdict *v)
{
    const struct xsim_report *rep = j->rep;
    bool stop_ok = rep->stop == XSIM_STOP_QUIESCENT || rep->stop == XSIM_STOP_TIME_LIMIT ||
                   rep->stop == XSIM_STOP_ALL_DONE;
    bool set_up = rep->boot_rc != 0 || j->rc->host.ready != 0;
    const char *setup_err = j->rc->host.setup_err;

    v->pass = stop_ok && rep->boot_rc == 0 && setup_err[0] == '\0' && set_up;
    say(v, "ended %s%s%s; boot %d%s%s%s", xsim_stop_reason_name(rep->stop),
        rep->failure[0] ? ": " : "", rep->failure, rep->boot_rc, setup_err[0] ? "; " : "",
        setup_err, set_up ? "" : "; the guest had not finished setting up when the run stopped");
}

/* ---- event delivery ---- */

static bool armed_no_lost_events(const struct xsim_scenario *s)
{
    return s->oracles.no_lost_events;
}

/* Every item a device sent was served after it was sent (spurious
 * sources, which send with nothing to serve, are not counted). */
static void check_no_lost_events(const struct judge *j, struct verdict *v)
{
    v->pass = true;
    say(v, "every event sent was handled after it was sent");
    for (size_t i = 0; i < j->rep->nwl; i++) {
        const struct xsim_wl_result *r = &j->rep->wl[i];
        if (j->s->workloads[i].type != XSIM_WL_EVENTS || j->s->workloads[i].spurious)
            continue;
        if (r->consumed != r->sent) {
            v->pass = false;
            say(v, "%s: %" PRIu64 " sent, %" PRIu64 " handled", r->name, r->sent, r->consumed);
            return;
        }
    }
}

static bool armed_max_latency(const struct xsim_scenario *s)
{
    return s->oracles.max_latency_ns != 0;
}

static void check_max_latency(const struct judge *j, struct verdict *v)
{
    const struct xsim_report *rep = j->rep;
    uint64_t worst = 0;
    const char *who = "";

    for (size_t i = 0; i < rep->nwl; i++) {
        if (rep->wl[i].latency_ns_max > worst) {
            worst = rep->wl[i].latency_ns_max;
            who = rep->wl[i].name;
        }
    }
    /* A latency bound is a performance figure: virtual time is elapsed
     * time only under `time`. Under an exploring policy a vCPU waits as
     * long as the policy leaves it unpicked, which says nothing about the
     * guest. */
    if (!time_ordered(j)) {
        v->pass = true;
        v->not_judged = true;
        say(v,
            "not judged under %s (worst %" PRIu64 " ns; latencies mean elapsed time only under "
            "'time')",
            rep->policy, worst);
        return;
    }
    v->pass = worst <= j->s->oracles.max_latency_ns;
    say(v, "worst %" PRIu64 " ns (%s), bound %" PRIu64 " ns", worst, who,
        j->s->oracles.max_latency_ns);
}

static bool armed_callback(const struct xsim_scenario *s)
{
    return s->oracles.callback[0] != '\0';
}

/* Judged by what the hypervisor delivers by, not by what the guest
 * program says it chose: a program that believes it has per-vCPU vectors
 * while its domain is on a GSI fails here. */
static void check_callback(const struct judge *j, struct verdict *v)
{
    v->pass = strcmp(j->rep->hv_callback, j->s->oracles.callback) == 0;
    say(v, "the hypervisor delivers by %s (the guest says %s), expected %s", j->rep->hv_callback,
        j->rep->callback, j->s->oracles.callback);
}

static bool armed_upcall_cost(const struct xsim_scenario *s)
{
    return s->oracles.max_upcalls_per_event > 0;
}

/* What delivery cost the guest, counted by the machine (upcalls it
 * entered the guest for), against the items the devices got served: a
 * storm that keeps a CPU in its handler fails here. */
static void check_upcall_cost(const struct judge *j, struct verdict *v)
{
    uint64_t upcalls = j->rep->stats.count[XSIM_COST_UPCALL], served = 0;
    double ratio;

    for (size_t i = 0; i < j->rep->nwl; i++) {
        if (j->s->workloads[i].type == XSIM_WL_EVENTS)
            served += j->rep->wl[i].consumed;
    }
    ratio = (double)upcalls / (double)(served ? served : 1);
    v->pass = ratio <= j->s->oracles.max_upcalls_per_event;
    say(v, "%" PRIu64 " upcalls for %" PRIu64 " items served: %.2f per item, bound %.2f", upcalls,
        served, ratio, j->s->oracles.max_upcalls_per_event);
}

static bool armed_port_close(const struct xsim_scenario *s)
{
    return s->oracles.port_close;
}

/* Close and reuse (workloads with close_every): no handler ran with a
 * binding after its port's close returned, counted by the machine from the
 * binding each handler run served with (XSA-331: a close on another CPU
 * that does not wait for a running handler frees what it still uses).
 * Judged only if some port was closed. */
static void check_port_close(const struct judge *j, struct verdict *v)
{
    const struct xsim_gp_host *h = &j->rc->host;
    uint64_t closes = 0, reused = 0;

    v->pass = true;
    for (unsigned int d = 0; d < h->env.ndevices; d++) {
        const struct xsim_gp_close *c = &h->close[d];
        closes += c->closed;
        reused += c->reused;
        if (c->after_close != 0 && v->pass) {
            v->pass = false;
            say(v,
                "%s: a handler of port %" PRIu32 " (binding %" PRIu32 ") ran on CPU %u at %.3f "
                "ms, after its close returned at %.3f ms (%" PRIu64 " such runs)",
                h->dev[d].name, c->bad_port, c->bad_binding, c->bad_cpu, (double)c->bad_ns / 1e6,
                (double)c->bad_close_ns / 1e6, c->after_close);
        }
    }
    if (!v->pass)
        return;
    if (closes == 0) {
        /* Under an exploring policy a closing CPU may never get as far as
         * its first close before the devices stop. */
        v->not_judged = true;
        say(v, "not judged: no port was closed (no events workload with close_every, or no "
               "close came due on a CPU other than the handler's)");
        return;
    }
    say(v,
        "%" PRIu64 " ports closed (%" PRIu64 " bound again with the number just closed); no "
        "handler ran after its close returned",
        closes, reused);
}

static bool armed_lost_update(const struct xsim_scenario *s)
{
    return s->oracles.lost_update;
}

static void check_lost_update(const struct judge *j, struct verdict *v)
{
    v->pass = j->rc->host.lu_counter == j->rc->host.lu_expected;
    say(v, "counter %" PRIu64 ", expected %" PRIu64, (uint64_t)j->rc->host.lu_counter,
        j->rc->host.lu_expected);
}

/* ---- block I/O ---- */

static bool armed_blk_data(const struct xsim_scenario *s)
{
    return s->oracles.blk_data;
}

/* Every read returned what was last written there. */
static void check_blk_data(const struct judge *j, struct verdict *v)
{
    uint64_t verified = 0;

    v->pass = true;
    for (size_t k = 0; k < j->nblk; k++) {
        const struct xsim_blkio_result *r = &j->blk[k];
        verified += r->verified;
        if (r->verify_failed != 0 && v->pass) {
            v->pass = false;
            say(v, "%s: %" PRIu64 " of %" PRIu64 " reads wrong; %s",
                j->s->workloads[j->blk_wl[k]].name, r->verify_failed, r->verified,
                r->verify_detail);
        }
    }
    if (v->pass && verified == 0) {
        /* Nothing judged is not a pass: a run too short to read back, or a
         * workload without reads, must not look like verified data. */
        v->pass = false;
        say(v, "no read was verified (the oracle needs at least one: a longer run, or reads in "
               "the workload)");
    } else if (v->pass) {
        say(v, "%" PRIu64 " reads returned what was last written", verified);
    }
}

static bool armed_blk_order(const struct xsim_scenario *s)
{
    return s->oracles.blk_order;
}

/* Judged by the workload's driver, which knows what it submitted and in
 * what order: no I/O completed twice or while not in flight, and no
 * barrier completed by the driver before a write submitted ahead of it
 * (by the driver's completion numbers, xg_blk_io.seq; see blkio.c). */
static void check_blk_order(const struct judge *j, struct verdict *v)
{
    uint64_t done = 0;

    v->pass = true;
    for (size_t k = 0; k < j->nblk; k++) {
        const struct xsim_blkio_result *r = &j->blk[k];
        done += r->completed;
        if ((r->completed_twice != 0 || r->barrier_overtook != 0) && v->pass) {
            v->pass = false;
            say(v,
                "%s: %" PRIu64 " completions of I/Os not in flight, %" PRIu64
                " barriers ahead of earlier writes; %s",
                j->s->workloads[j->blk_wl[k]].name, r->completed_twice, r->barrier_overtook,
                r->order_detail);
        }
    }
    if (v->pass)
        say(v, "%" PRIu64 " I/Os completed once each; every barrier after the writes before it",
            done);
}

static bool armed_blk_no_lost_io(const struct xsim_scenario *s)
{
    return s->oracles.blk_no_lost_io;
}

/* Every I/O submitted completed without error, and none was refused for
 * good. A discard or flush the device does not offer is declined
 * (-EOPNOTSUPP), not failed. A refusal blkfront lifts by itself (a full
 * hold queue, as while a device reconnects after a migration) is retried
 * by the workload and is no failure; any other refusal means the device
 * stopped taking I/O (closed, in error, or no longer fitting the I/O),
 * which a guest would see as lost I/O. */
static void check_blk_no_lost_io(const struct judge *j, struct verdict *v)
{
    const struct xsim_scenario *s = j->s;
    const struct xsim_report *rep = j->rep;
    uint64_t done = 0, retried = 0, unsupported = 0;
    bool ok = true;

    for (size_t k = 0; k < j->nblk; k++) {
        const struct xsim_blkio_result *r = &j->blk[k];
        const struct xsim_scn_workload *wl = &s->workloads[j->blk_wl[k]];
        const struct xsim_scn_disk *d = &s->disks[wl->disk_index];
        bool faults = d->faults.read_error_rate > 0 || d->faults.write_error_rate > 0;
        done += r->completed;
        retried += r->retried;
        unsupported += r->unsupported;
        if (ok && r->refused != 0) {
            ok = false;
            say(v,
                "%s: %" PRIu64 " I/Os refused for good from %.3f ms on (%s); disk %s ended "
                "%s; %" PRIu64 " submitted, %" PRIu64 " completed, %" PRIu64 " errors",
                wl->name, r->refused, (double)r->refused_first_ns / 1e6,
                strerror(r->refused_last_errno), d->name,
                (size_t)wl->disk_index < rep->ndisks ? rep->disk[wl->disk_index].state : "?",
                r->submitted, r->completed, r->errors);
        } else if (ok && (r->completed != r->submitted || (r->errors != 0 && !faults))) {
            ok = false;
            say(v, "%s: %" PRIu64 " submitted, %" PRIu64 " completed, %" PRIu64 " errors%s",
                wl->name, r->submitted, r->completed, r->errors,
                r->completed == r->submitted ? ""
                : rep->stop == XSIM_STOP_QUIESCENT
                    ? "; the rest were lost (nothing was left to run)"
                    : "; the rest were still in flight at the stop (lengthen stop.time or lower "
                      "the load)");
        }
    }
    if (ok) {
        int len = snprintf(v->detail, sizeof(v->detail), "all %" PRIu64 " I/Os completed", done);
        if (unsupported != 0)
            len +=
                snprintf(v->detail + len, sizeof(v->detail) - (size_t)len,
                         "; %" PRIu64 " discards or flushes the device did not offer", unsupported);
        if (retried != 0)
            snprintf(v->detail + len, sizeof(v->detail) - (size_t)len,
                     "; %" PRIu64 " submissions found the queue full and were retried", retried);
    }
    v->pass = ok && done > 0;
}

static bool armed_blk_durable(const struct xsim_scenario *s)
{
    return s->oracles.blk_durable;
}

/* After a power loss, every sector a completed flush covered is intact
 * (judged when the power failed, before anything else landed). */
static void check_blk_durable(const struct judge *j, struct verdict *v)
{
    const struct run_ctx *rc = j->rc;
    bool any = false;

    v->pass = true;
    say(v, "no disk lost power");
    for (size_t d = 0; d < j->s->ndisks; d++) {
        const struct xsim_blkio_durability *du = &rc->durable[d];
        if (!rc->durable_checked[d])
            continue;
        if (!any)
            v->detail[0] = '\0';
        any = true;
        if (du->bad != 0 && v->pass) {
            v->pass = false;
            say(v, "%s: %" PRIu64 " of %" PRIu64 " sectors bad: %s", j->s->disks[d].name, du->bad,
                du->checked, du->detail);
        } else if (v->pass) {
            size_t len = strlen(v->detail);
            snprintf(v->detail + len, sizeof(v->detail) - len,
                     "%s%s: %" PRIu64 " sectors of %" PRIu64 " blocks intact after %" PRIu64
                     " completed flushes",
                     len ? "; " : "", j->s->disks[d].name, du->checked, du->blocks_written,
                     du->flushes_completed);
        }
    }
    v->pass = v->pass && any;
}

/* ---- grants ---- */

static bool armed_grants(const struct xsim_scenario *s)
{
    return s->oracles.grants;
}

/* The hypervisor's grant audit (gnttab.h): every mapping a backend held
 * found its entry as it mapped it, each time the model looked (maps,
 * unmaps). A guest that revoked or rewrote an entry under a mapping, or
 * a map that took an entry whose frame was not written yet, shows there. */
static void check_grants(const struct judge *j, struct verdict *v)
{
    struct xsim_gnttab_audit a;

    xsim_gnttab_audit(j->rc->hv, &a);
    v->pass = a.violations == 0 && a.maps > 0;
    if (a.violations != 0)
        say(v,
            "%" PRIu64 " mappings lost their grant; first: ref %u of domain %u at %.3f ms: %s "
            "(mapped frame %#" PRIx32 ", entry now frame %#" PRIx32 " flags %#x)",
            a.violations, a.ref, a.granter, (double)a.at_ns / 1e6, a.what, a.frame, a.frame_now,
            a.flags_now);
    else if (a.maps == 0)
        say(v, "no grant was mapped");
    else
        say(v, "%" PRIu64 " grant maps, every entry intact while mapped", a.maps);
}

/* ---- time, IPIs, migration ---- */

static bool armed_migration(const struct xsim_scenario *s)
{
    return s->oracles.migration;
}

/* Every migration asked for happened or was cancelled, and the guest saw
 * each one come back. */
static void check_migration(const struct judge *j, struct verdict *v)
{
    const struct xsim_migration_result *m = &j->rep->migration;

    v->pass = m->requested == j->s->nmigrations && m->failed == 0 &&
              m->migrated + m->cancelled == m->requested && j->rc->host.suspend_fail == 0 &&
              m->guest_resumed + m->guest_cancelled == m->requested;
    say(v,
        "%" PRIu64 " asked, %" PRIu64 " migrated, %" PRIu64 " cancelled, %" PRIu64
        " failed; guest saw %" PRIu64 " new hosts, %" PRIu64 " cancels; worst downtime %.2f ms",
        m->requested, m->migrated, m->cancelled, m->failed, m->guest_resumed, m->guest_cancelled,
        (double)m->downtime_ns_max / 1e6);
}

static bool armed_clock_monotonic(const struct xsim_scenario *s)
{
    return s->oracles.clock_monotonic;
}

/* The program's clock was read on every pass of every idle loop and at
 * every timer expiry, with interrupts off: it must never go back. */
static void check_clock_monotonic(const struct judge *j, struct verdict *v)
{
    uint64_t back = j->rc->host.suspend_backwards;
    bool sampled = false;

    for (unsigned int c = 0; c < j->ncpus; c++) {
        back += j->rc->host.cs[c].backwards;
        sampled = sampled || j->rc->host.cs[c].has_timer;
    }
    v->pass = back == 0 && sampled;
    say(v, "%" PRIu64 " readings went backwards (clock %s)%s", back,
        j->rep->clock_source[0] ? j->rep->clock_source : "of the program",
        sampled ? "" : "; the clock was never read");
}

static bool armed_timers(const struct xsim_scenario *s)
{
    return s->oracles.timers;
}

/* Every CPU has a timer, and every tick armed fired, none early. */
static void check_timers(const struct judge *j, struct verdict *v)
{
    uint64_t armed = 0;

    v->pass = j->rc->host.timer_wl != NULL;
    say(v, "no timer workload or no timer");
    for (unsigned int c = 0; c < j->ncpus && v->pass; c++) {
        const struct xsim_gp_cpu *cs = &j->rc->host.cs[c];
        armed += cs->armed;
        if (!cs->has_timer || cs->armed == 0 || cs->fired != cs->armed || cs->early != 0) {
            v->pass = false;
            say(v, "CPU %u: %s, %" PRIu64 " ticks armed, %" PRIu64 " fired, %" PRIu64 " early", c,
                cs->has_timer ? "has a timer" : "no timer", cs->armed, cs->fired, cs->early);
        }
    }
    if (v->pass)
        say(v, "%" PRIu64 " ticks armed and fired on %u CPUs (%s), none early", armed, j->ncpus,
            j->rep->timer_kind[0] ? j->rep->timer_kind : "the program's");
}

static bool armed_ipis(const struct xsim_scenario *s)
{
    return s->oracles.ipis;
}

/* Every IPI the workload asked for was sent and followed by a run of its
 * target's handler. A send the guest could not make (a port gone after a
 * resume) is an IPI lost, not one that never was. */
static void check_ipis(const struct judge *j, struct verdict *v)
{
    uint64_t sent = 0;

    v->pass = j->rc->host.ipi_wl != NULL && j->ncpus > 1;
    say(v, "no ipi workload or one CPU");
    for (unsigned int c = 1; c < j->ncpus && v->pass; c++) {
        const struct xsim_gp_cpu *cs = &j->rc->host.cs[c];
        sent += cs->ipi_sent;
        if (cs->ipi_failed != 0) {
            v->pass = false;
            say(v, "CPU %u: %" PRIu64 " of %" PRIu64 " IPI sends to it failed", c, cs->ipi_failed,
                cs->ipi_sent);
        } else if (cs->ipi_seen != cs->ipi_sent) {
            v->pass = false;
            say(v, "CPU %u: %" PRIu64 " IPIs sent, its handler last saw %" PRIu64, c, cs->ipi_sent,
                cs->ipi_seen);
        }
    }
    if (v->pass && sent == 0) {
        v->pass = false;
        say(v, "no IPI was sent");
    }
    if (v->pass)
        say(v, "%" PRIu64 " IPIs (%s) all followed by a handler run", sent,
            j->rep->ipi_mode[0] ? j->rep->ipi_mode : "the program's");
}

static bool armed_clock_accuracy(const struct xsim_scenario *s)
{
    return s->oracles.clock_accuracy_ns != 0;
}

/* The program's clock, read in every idle loop with interrupts off, kept
 * pace with virtual time on every CPU between resumes: the range of its
 * offset stayed within the bound. A torn pvclock read (a snapshot taken
 * across an update) stalls or jumps the clock by up to the update's step. */
static void check_clock_accuracy(const struct judge *j, struct verdict *v)
{
    uint64_t worst = 0, at = 0;
    unsigned int who = 0;

    /* Only `time` keeps the vCPUs' clocks together. Under an exploring
     * policy one vCPU may run far ahead of another, and a guest clock kept
     * monotonic across CPUs (as it must be) then runs ahead of a lagging
     * vCPU's own time: a wander that says nothing about the guest. */
    if (!time_ordered(j)) {
        v->pass = true;
        v->not_judged = true;
        say(v, "not judged under %s (the vCPUs' clocks keep together only under 'time')",
            j->rep->policy);
        return;
    }
    for (unsigned int c = 0; c < j->ncpus; c++) {
        if (j->rc->host.cs[c].off_worst > worst) {
            worst = j->rc->host.cs[c].off_worst;
            at = j->rc->host.cs[c].off_worst_at;
            who = c;
        }
    }
    v->pass = worst <= j->s->oracles.clock_accuracy_ns;
    say(v,
        "the clock (%s) wandered at most %" PRIu64
        " ns from virtual time (CPU %u, by %.3f ms), bound %" PRIu64 " ns",
        j->rep->clock_source[0] ? j->rep->clock_source : "of the program", worst, who,
        (double)at / 1e6, j->s->oracles.clock_accuracy_ns);
}

/* ---- XenStore ---- */

static bool armed_xenbus_replies(const struct xsim_scenario *s)
{
    return s->oracles.xenbus_replies;
}

/* Judged by the xenstore workloads' driver, which issued every request
 * and knows its answer: each read returned what that CPU last wrote, each
 * listing the keys it created, nothing failed that the daemon would not
 * fail, and every request was answered by the end. */
static void check_xenbus_replies(const struct judge *j, struct verdict *v)
{
    uint64_t requests = 0, reads = 0, dirs = 0, retries = 0;
    bool any = false;

    v->pass = true;
    for (size_t i = 0; i < j->s->nworkloads; i++) {
        struct xsim_xsload_result r;
        if (j->rc->host.xsl[i] == NULL)
            continue;
        any = true;
        xsim_xsload_result(j->rc->host.xsl[i], &r);
        requests += r.requests;
        reads += r.reads_checked;
        dirs += r.dirs_checked;
        retries += r.txn_retries;
        if (!v->pass)
            continue;
        if (r.wrong != 0) {
            v->pass = false;
            say(v, "%s: %" PRIu64 " of %" PRIu64 " replies not the request's; first: %s",
                j->s->workloads[i].name, r.wrong, r.answered, r.wrong_detail);
        } else if (r.answered != r.requests) {
            v->pass = false;
            say(v, "%s: %" PRIu64 " requests, %" PRIu64 " answered by the end%s",
                j->s->workloads[i].name, r.requests, r.answered,
                j->rep->stop == XSIM_STOP_QUIESCENT
                    ? "; the rest were never answered (nothing was left to run)"
                    : "; the rest were still waiting at the stop (lengthen stop.time or lower "
                      "the load)");
        }
    }
    if (!any) {
        v->pass = false;
        say(v, "no xenstore workload");
    } else if (v->pass && reads == 0 && !time_ordered(j)) {
        /* An exploring policy may hold the workload's CPUs back until the
         * stop (the boot alone can take a short run's time): every request
         * made was answered and right, but nothing was read back. */
        v->not_judged = true;
        say(v,
            "not judged: no read was checked before the stop (%" PRIu64
            " requests, all answered; under %s the CPUs may not get that far)",
            requests, j->rep->policy);
    } else if (v->pass && reads == 0) {
        v->pass = false;
        say(v, "no read was checked (%" PRIu64 " requests)", requests);
    } else if (v->pass) {
        say(v,
            "%" PRIu64 " requests answered, each its own: %" PRIu64 " reads, %" PRIu64
            " listings checked; %" PRIu64 " commits retried on EAGAIN",
            requests, reads, dirs, retries);
    }
}

static bool armed_watch_delivery(const struct xsim_scenario *s)
{
    return s->oracles.watch_delivery;
}

/* Every watch event the daemon queued for the guest (its own ledger, fed
 * by the daemon) reached the callback, and only those; under `time` each
 * within the bound (virtual time is elapsed time only there). */
static void check_watch_delivery(const struct judge *j, struct verdict *v)
{
    uint64_t seen = 0, worst = 0, worst_at = 0, reset = 0;
    const char *who = "";
    bool any = false, timed = time_ordered(j);

    v->pass = true;
    for (size_t i = 0; i < j->s->nworkloads; i++) {
        struct xsim_xsload_result r;
        if (j->rc->host.xsl[i] == NULL)
            continue;
        any = true;
        xsim_xsload_result(j->rc->host.xsl[i], &r);
        seen += r.events_seen;
        reset += r.events_reset;
        if (r.event_latency_max > worst) {
            worst = r.event_latency_max;
            worst_at = r.event_latency_max_at;
            who = j->s->workloads[i].name;
        }
        if (v->pass && (r.events_lost != 0 || r.events_unexpected != 0)) {
            v->pass = false;
            say(v, "%s: %" PRIu64 " events queued, %" PRIu64 " lost, %" PRIu64 " never queued; %s",
                j->s->workloads[i].name, r.events_fired, r.events_lost, r.events_unexpected,
                r.event_detail);
        }
    }
    if (!any) {
        v->pass = false;
        say(v, "no xenstore workload");
        return;
    }
    if (!v->pass)
        return;
    if (seen == 0 && !timed) {
        /* As for the replies: the watch and the toolstack's writes may not
         * come due before the stop under an exploring policy. */
        v->not_judged = true;
        say(v, "not judged: no watch event was queued for the guest before the stop (under %s "
               "the watch and the toolstack's writes may not get that far)",
            j->rep->policy);
        return;
    }
    if (seen == 0) {
        v->pass = false;
        say(v, "no watch event was queued for the guest");
        return;
    }
    if (timed && worst > j->s->oracles.watch_delivery_ns) {
        v->pass = false;
        say(v,
            "%s: an event queued at %.3f ms reached the callback %" PRIu64
            " ns later, bound %" PRIu64 " ns (%" PRIu64 " events, none lost)",
            who, (double)worst_at / 1e6, worst, j->s->oracles.watch_delivery_ns, seen);
        return;
    }
    if (timed)
        say(v,
            "%" PRIu64 " events queued, all delivered, worst %" PRIu64 " ns, bound %" PRIu64
            " ns%s",
            seen, worst, j->s->oracles.watch_delivery_ns,
            reset ? "; some dropped by a connection reset" : "");
    else
        say(v,
            "%" PRIu64 " events queued, all delivered%s (the %" PRIu64
            " ns bound is not judged under %s: delays mean elapsed time only under 'time')",
            seen, reset ? ", some dropped by a connection reset" : "",
            j->s->oracles.watch_delivery_ns, j->rep->policy);
}

/* In report order. */
static const struct checker checkers[] = {
    {"run", always, check_run},
    {"no_lost_events", armed_no_lost_events, check_no_lost_events},
    {"max_latency", armed_max_latency, check_max_latency},
    {"callback", armed_callback, check_callback},
    {"upcall_cost", armed_upcall_cost, check_upcall_cost},
    {"port_close", armed_port_close, check_port_close},
    {"lost_update", armed_lost_update, check_lost_update},
    {"blk_data", armed_blk_data, check_blk_data},
    {"blk_no_lost_io", armed_blk_no_lost_io, check_blk_no_lost_io},
    {"blk_order", armed_blk_order, check_blk_order},
    {"blk_durable", armed_blk_durable, check_blk_durable},
    {"migration", armed_migration, check_migration},
    {"clock_monotonic", armed_clock_monotonic, check_clock_monotonic},
    {"clock_accuracy", armed_clock_accuracy, check_clock_accuracy},
    {"timers", armed_timers, check_timers},
    {"ipis", armed_ipis, check_ipis},
    {"grants", armed_grants, check_grants},
    {"xenbus_replies", armed_xenbus_replies, check_xenbus_replies},
    {"watch_delivery", armed_watch_delivery, check_watch_delivery},
};

_Static_assert(sizeof(checkers) / sizeof(checkers[0]) <= XSIM_MAX_ORACLES,
               "every oracle fits in a report");

/* Record one verdict. It always counts in all_pass, even in the (never
 * expected: see the assertion above) case that the list is full. */
static void record(struct xsim_report *rep, const char *name, const struct verdict *v)
{
    struct xsim_oracle_result *o;

    if (!v->pass)
        rep->all_pass = false;
    if (rep->noracles == XSIM_MAX_ORACLES)
        return;
    o = &rep->oracles[rep->noracles++];
    snprintf(o->name, sizeof(o->name), "%s", name);
    o->pass = v->pass;
    o->not_judged = v->not_judged;
    snprintf(o->detail, sizeof(o->detail), "%s", v->detail);
}

/* ---- laws of the measurements ---- */

static void law(struct xsim_report *rep, const char *name, bool pass, const char *detail)
{
    struct xsim_oracle_result *o;

    if (rep->nlaws == sizeof(rep->laws) / sizeof(rep->laws[0]))
        return;
    o = &rep->laws[rep->nlaws++];
    snprintf(o->name, sizeof(o->name), "%s", name);
    o->pass = pass;
    snprintf(o->detail, sizeof(o->detail), "%s", detail);
}

/* Little's law L = lambda W for every Poisson source (L as arrivals see
 * it, lambda over the sending window, W the mean sojourn). */
static void law_little(struct xsim_report *rep)
{
    double worst = -1;
    char detail[256] = "";
    bool ok = true;

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
}

/* The utilisation law U = X S for every CPU: the handler time the vCPU
 * was charged against the service its served items took. */
static void law_utilization(struct xsim_report *rep)
{
    uint64_t end = rep->stats.end_time_ns;
    double worst = -1;
    char detail[256] = "";
    bool ok = true;

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
                     "CPU %u: handler utilisation %.6f, items taken x their service %.6f "
                     "(worst CPU)",
                     c, u, xs);
        }
    }
    if (worst >= 0)
        law(rep, "utilization", ok, detail);
}

void xsim__run_judge(const struct xsim_scenario *s, const struct run_ctx *rc,
                     struct xsim_report *rep)
{
    struct judge j = {.s = s, .rc = rc, .rep = rep, .ncpus = (unsigned int)s->machine.vcpus};

    for (size_t i = 0; i < s->nworkloads; i++) {
        if (rc->host.bio[i] == NULL)
            continue;
        xsim_blkio_result(rc->host.bio[i], &j.blk[j.nblk]);
        j.blk_wl[j.nblk++] = i;
    }
    for (size_t k = 0; k < sizeof(checkers) / sizeof(checkers[0]); k++) {
        struct verdict v = {.pass = false};
        if (!checkers[k].armed(s))
            continue;
        checkers[k].check(&j, &v);
        record(rep, checkers[k].name, &v);
    }
    law_little(rep);
    law_utilization(rep);
}
