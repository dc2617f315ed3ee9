/*
 * toolstack.c - what libxl does for one guest's suspend, resume and
 * migration, as timed events of the world; see toolstack.h.
 *
 * One suspend at a time: a scheduled request whose time comes while
 * another is in progress waits for it. Each step is a timed event:
 *   request   write control/shutdown = "suspend"; arm the ack timeout
 *   watch     the toolstack's watch on control/shutdown fired: acked?
 *   timeout   no ack (or no suspend) in time: failed, request withdrawn
 *   (hook)    SCHEDOP_shutdown(suspend) reached: the rest at once
 *   migrate   old backends destroyed, hypervisor state reset, new host's
 *             time, new xenstored connection, new backends
 *   resume    after the downtime: the hypercall returns 1 or 0
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xensim/abi/sched.h"
#include "xensim/abi/xs_wire.h"
#include "xensim/toolstack.h"
#include "xensim/xenstore.h"

#define ACK_TIMEOUT_NS     1000000000ull /* 1 s */
#define SUSPEND_TIMEOUT_NS 5000000000ull /* 5 s */
#define RETRY_NS           100000ull     /* a request waiting for the one in progress */

#define KIND_REQUEST       0x54535251u /* TSRQ */
#define KIND_WATCH         0x54535754u /* TSWT */
#define KIND_TIMEOUT       0x5453544fu /* TSTO */
#define KIND_MIGRATE       0x54534d47u /* TSMG */
#define KIND_RESUME        0x54535253u /* TSRS */

enum ts_phase {
    TS_IDLE = 0,
    TS_WAIT_ACK,     /* request written, no ack yet */
    TS_WAIT_SUSPEND, /* acked, not in SCHEDOP_shutdown yet */
    TS_SUSPENDED,    /* in the hypercall, downtime running */
};

struct ts_sched {
    struct xsim_toolstack *ts;
    struct xsim_migration m;
    uint64_t event;
};

struct xsim_toolstack {
    struct xsim_world *w;
    struct xsim_hv *hv;
    struct xsim_xshost *xs;
    struct xsim_domain *d;
    domid_t domid;
    char shutdown_path[64];
    struct xsim_blkback_config disk_cfg[XSIM_TOOLSTACK_MAX_DISKS];
    struct xsim_blkback *disk[XSIM_TOOLSTACK_MAX_DISKS];
    bool disk_gone[XSIM_TOOLSTACK_MAX_DISKS]; /* removed: not re-created on migration */
    unsigned int ndisks;
    /* Every suspend scheduled, each allocated on its own (timed events hold
     * pointers to them), kept until the toolstack is destroyed. */
    struct ts_sched **sched;
    size_t nsched, capsched;
    /* the suspend in progress */
    enum ts_phase phase;
    struct ts_sched *cur;
    uint64_t t_request, t_suspend;
    uint64_t timeout_event, step_event, watch_event;
    struct xsim_xs_conn *conn; /* our own dom0 connection, for the watch */
    struct xsim_toolstack_stats st;
    xsim_toolstack_observer_fn obs;
    void *obs_arg;
};

static void observe(struct xsim_toolstack *ts, enum xsim_toolstack_step step)
{
    if (ts->obs != NULL)
        ts->obs(ts->obs_arg, step, xsim_world_now(ts->w));
}

void xsim_toolstack_set_observer(struct xsim_toolstack *ts, xsim_toolstack_observer_fn fn,
                                 void *arg)
{
    ts->obs = fn;
    ts->obs_arg = arg;
}

void xsim_migration_init(struct xsim_migration *m)
{
    memset(m, 0, sizeof(*m));
    m->downtime_ns = 1000000; /* 1 ms */
}

static uint64_t now_of(const struct xsim_toolstack *ts)
{
    return xsim_world_now(ts->w);
}

static void max_into(uint64_t *m, uint64_t v)
{
    if (v > *m)
        *m = v;
}

static void cancel_timeout(struct xsim_toolstack *ts)
{
    if (ts->timeout_event != 0)
        xsim_event_cancel(ts->w, ts->timeout_event);
    ts->timeout_event = 0;
}

static void finish(struct xsim_toolstack *ts)
{
    cancel_timeout(ts);
    ts->phase = TS_IDLE;
    ts->cur = NULL;
}

/* The request is withdrawn: the guest never got to suspend. */
static void fail(struct xsim_toolstack *ts)
{
    ts->st.failed++;
    (void)xsim_xshost_write(ts->xs, ts->shutdown_path, "");
    observe(ts, XSIM_TS_FAILED);
    finish(ts);
}

static void timeout_event(struct xsim_world *w, void *arg)
{
    struct xsim_toolstack *ts = arg;

    ts->timeout_event = 0;
    if (ts->phase == TS_WAIT_ACK || ts->phase == TS_WAIT_SUSPEND)
        fail(ts);
}

static uint64_t suspend_timeout(const struct xsim_migration *m)
{
    return m->suspend_timeout_ns ? m->suspend_timeout_ns : SUSPEND_TIMEOUT_NS;
}

/* UINT64_MAX: no timeout at all (schedule exploration, where a pending
 * timed event may be run long before the guest gets anywhere). */
static void arm_timeout(struct xsim_toolstack *ts, uint64_t after_request_ns)
{
    if (after_request_ns == UINT64_MAX)
        return;
    ts->timeout_event = xsim_event_schedule(ts->w, ts->t_request + after_request_ns, KIND_TIMEOUT,
                                            timeout_event, ts);
}

/* control/shutdown changed (or may have): an empty value is the ack. */
static void watch_event(struct xsim_world *w, void *arg)
{
    struct xsim_toolstack *ts = arg;
    char val[32];

    ts->watch_event = 0;
    while (xsim_xs_conn_output(ts->conn, val, sizeof(val)) > 0)
        ; /* the event itself says nothing the node does not */
    if (ts->phase != TS_WAIT_ACK)
        return;
    if (xsim_xshost_read(ts->xs, ts->shutdown_path, val, sizeof(val)) != 0 || val[0] != '\0')
        return;
    ts->phase = TS_WAIT_SUSPEND;
    ts->st.acked++;
    max_into(&ts->st.ack_ns_max, now_of(ts) - ts->t_request);
    observe(ts, XSIM_TS_ACKED);
    cancel_timeout(ts);
    arm_timeout(ts, suspend_timeout(&ts->cur->m));
}

/* From inside the store (any connection's request): only schedule. */
static void watch_output(void *ctx, struct xsim_xs_conn *conn)
{
    struct xsim_toolstack *ts = ctx;

    if (ts->watch_event == 0)
        ts->watch_event = xsim_event_schedule(ts->w, now_of(ts), KIND_WATCH, watch_event, ts);
}

static const struct xsim_xs_conn_ops watch_ops = {.output_ready = watch_output};

static void request_event(struct xsim_world *w, void *arg)
{
    struct ts_sched *sc = arg;
    struct xsim_toolstack *ts = sc->ts;
    uint64_t now = now_of(ts);

    sc->event = 0;
    if (ts->phase != TS_IDLE) {
        sc->event = xsim_event_schedule(w, now + RETRY_NS, KIND_REQUEST, request_event, sc);
        return;
    }
    ts->cur = sc;
    ts->phase = TS_WAIT_ACK;
    ts->t_request = now;
    ts->st.requested++;
    if (xsim_xshost_write(ts->xs, ts->shutdown_path, "suspend") != 0) {
        fail(ts);
        return;
    }
    observe(ts, XSIM_TS_REQUESTED);
    arm_timeout(ts, sc->m.ack_timeout_ns ? sc->m.ack_timeout_ns : ACK_TIMEOUT_NS);
}

static void resume_event(struct xsim_world *w, void *arg)
{
    struct xsim_toolstack *ts = arg;
    bool cancel = ts->cur == NULL || ts->cur->m.cancel;

    ts->step_event = 0;
    max_into(&ts->st.downtime_ns_max, now_of(ts) - ts->t_suspend);
    if (cancel)
        ts->st.cancelled++;
    else
        ts->st.migrated++;
    (void)xsim_hv_domain_resume(ts->hv, ts->domid, cancel ? 1 : 0);
    observe(ts, XSIM_TS_RESUMED);
    finish(ts);
}

static int new_time(struct xsim_toolstack *ts, const struct xsim_migration *m)
{
    struct xsim_hv_time_config cfg;
    uint64_t now = now_of(ts), sys = xsim_hv_time_system(ts->hv, ts->domid, now);
    int64_t nsys = (int64_t)sys + m->system_time_offset_ns;
    int rc = xsim_hv_time_get_config(ts->hv, ts->domid, &cfg);

    if (rc != 0)
        return rc;
    if (nsys < 0)
        nsys = 0;
    /* The new host booted nsys ago: its TSC and system time count from
     * then, at its own TSC rate. */
    cfg.system_time_origin_ns = (int64_t)now - nsys;
    if (m->tsc_hz != 0 || m->system_time_offset_ns != 0)
        cfg.tsc_origin_ns = cfg.system_time_origin_ns;
    if (m->tsc_hz != 0)
        cfg.tsc_hz = m->tsc_hz;
    return xsim_hv_time_config(ts->hv, ts->domid, &cfg);
}

static void migrate_event(struct xsim_world *w, void *arg)
{
    struct xsim_toolstack *ts = arg;
    const struct xsim_migration *m = &ts->cur->m;
    int rc;

    ts->step_event = 0;
    /* The old host's backends go first (their grant mappings and ports). */
    for (unsigned int i = 0; i < ts->ndisks; i++) {
        xsim_blkback_destroy(ts->disk[i]);
        ts->disk[i] = NULL;
    }
    rc = xsim_hv_domain_migrate(ts->hv, ts->domid, m->has_hv_features ? &m->hv_features : NULL);
    if (rc == 0)
        rc = new_time(ts, m);
    if (rc == 0)
        rc = xsim_xshost_migrate_guest(ts->xs, ts->domid);
    for (unsigned int i = 0; rc == 0 && i < ts->ndisks; i++) {
        if (ts->disk_gone[i])
            continue;
        if (m->has_disk_features)
            ts->disk_cfg[i].features = m->disk_features[i];
        rc = xsim_blkback_create(ts->w, ts->hv, ts->xs, &ts->disk_cfg[i], &ts->disk[i]);
    }
    if (rc != 0)
        xsim_world_fail(w, "toolstack: migration of domain %u failed: %d", ts->domid, rc);
    observe(ts, XSIM_TS_MIGRATED);
    ts->step_event =
        xsim_event_schedule(w, ts->t_suspend + m->downtime_ns, KIND_RESUME, resume_event, ts);
}

/* In the hypercall, on the suspending vCPU: only note it and schedule. */
static void shutdown_hook(void *arg, domid_t domid, unsigned int reason)
{
    struct xsim_toolstack *ts = arg;
    uint64_t now;

    if (domid != ts->domid || reason != SHUTDOWN_suspend)
        return;
    now = now_of(ts);
    ts->t_suspend = now;
    if (ts->phase != TS_WAIT_ACK && ts->phase != TS_WAIT_SUSPEND) {
        /* Nobody asked (or we gave up): resume it where it is. */
        ts->step_event = xsim_event_schedule(ts->w, now, KIND_RESUME, resume_event, ts);
        return;
    }
    if (ts->phase == TS_WAIT_ACK) {
        ts->st.acked++; /* it suspended, so it saw the request */
        max_into(&ts->st.ack_ns_max, now - ts->t_request);
    }
    cancel_timeout(ts);
    ts->phase = TS_SUSPENDED;
    ts->st.suspended++;
    max_into(&ts->st.suspend_ns_max, now - ts->t_request);
    observe(ts, XSIM_TS_SUSPENDED);
    if (ts->cur->m.cancel)
        ts->step_event =
            xsim_event_schedule(ts->w, now + ts->cur->m.downtime_ns, KIND_RESUME, resume_event, ts);
    else
        ts->step_event = xsim_event_schedule(ts->w, now, KIND_MIGRATE, migrate_event, ts);
}

int xsim_toolstack_create(struct xsim_world *w, struct xsim_hv *hv, struct xsim_xshost *xs,
                          struct xsim_domain *d, struct xsim_toolstack **out)
{
    struct xsim_toolstack *ts;

    *out = NULL;
    if (w == NULL || hv == NULL || xs == NULL || d == NULL)
        return -EINVAL;
    ts = calloc(1, sizeof(*ts));
    if (ts == NULL)
        return -ENOMEM;
    ts->w = w;
    ts->hv = hv;
    ts->xs = xs;
    ts->d = d;
    ts->domid = xsim_domain_id(d);
    snprintf(ts->shutdown_path, sizeof(ts->shutdown_path), "/local/domain/%u/control/shutdown",
             (unsigned int)ts->domid);
    /* Our own watch on control/shutdown (the xshost's connection has no
     * event delivery). */
    {
        char msg[sizeof(struct xsd_sockmsg) + 128];
        struct xsd_sockmsg h = {.type = XS_WATCH, .req_id = 1};
        int n =
            snprintf(msg + sizeof(h), sizeof(msg) - sizeof(h), "%s%cts", ts->shutdown_path, '\0');
        int rc = xsim_xs_conn_open(xsim_xshost_store(xs), 0, true, &watch_ops, ts, &ts->conn);
        if (rc != 0) {
            free(ts);
            return rc;
        }
        h.len = (uint32_t)n + 1;
        memcpy(msg, &h, sizeof(h));
        if (xsim_xs_conn_input(ts->conn, msg, sizeof(h) + h.len) < 0) {
            xsim_xs_conn_close(ts->conn);
            free(ts);
            return -EIO;
        }
    }
    /* One shutdown hook per hypervisor: this toolstack takes it. */
    xsim_hv_set_shutdown_hook(hv, shutdown_hook, ts);
    *out = ts;
    return 0;
}

void xsim_toolstack_destroy(struct xsim_toolstack *ts)
{
    if (ts == NULL)
        return;
    xsim_hv_set_shutdown_hook(ts->hv, NULL, NULL);
    cancel_timeout(ts);
    if (ts->watch_event != 0)
        xsim_event_cancel(ts->w, ts->watch_event);
    xsim_xs_conn_close(ts->conn);
    if (ts->step_event != 0)
        xsim_event_cancel(ts->w, ts->step_event);
    for (size_t i = 0; i < ts->nsched; i++) {
        if (ts->sched[i]->event != 0)
            xsim_event_cancel(ts->w, ts->sched[i]->event);
        free(ts->sched[i]);
    }
    free(ts->sched);
    for (unsigned int i = 0; i < ts->ndisks; i++)
        xsim_blkback_destroy(ts->disk[i]);
    free(ts);
}

int xsim_toolstack_add_disk(struct xsim_toolstack *ts, const struct xsim_blkback_config *cfg,
                            struct xsim_blkback **out)
{
    int rc;

    if (ts->ndisks == XSIM_TOOLSTACK_MAX_DISKS)
        return -ENOSPC;
    if (cfg == NULL || cfg->guest != ts->domid)
        return -EINVAL;
    ts->disk_cfg[ts->ndisks] = *cfg;
    rc = xsim_blkback_create(ts->w, ts->hv, ts->xs, cfg, &ts->disk[ts->ndisks]);
    if (rc != 0)
        return rc;
    if (out != NULL)
        *out = ts->disk[ts->ndisks];
    ts->ndisks++;
    return 0;
}

struct xsim_blkback *xsim_toolstack_disk(struct xsim_toolstack *ts, unsigned int i)
{
    return i < ts->ndisks ? ts->disk[i] : NULL;
}

int xsim_toolstack_remove_disk(struct xsim_toolstack *ts, unsigned int i)
{
    int rc = 0;

    if (i >= ts->ndisks || ts->disk_gone[i])
        return -ENOENT;
    ts->disk_gone[i] = true;
    /* A migration that failed half-way may have left none. */
    if (ts->disk[i] != NULL)
        rc = xsim_blkback_remove(ts->disk[i]);
    xsim_blkback_destroy(ts->disk[i]);
    ts->disk[i] = NULL;
    return rc;
}

int xsim_toolstack_schedule(struct xsim_toolstack *ts, const struct xsim_migration *m)
{
    struct ts_sched *sc;

    if (m == NULL || (!m->cancel && m->tsc_hz > 1000000000000ull))
        return -EINVAL;
    if (ts->nsched == ts->capsched) {
        size_t cap = ts->capsched ? ts->capsched * 2 : 16;
        struct ts_sched **n = realloc(ts->sched, cap * sizeof(*n));
        if (n == NULL)
            return -ENOMEM;
        ts->sched = n;
        ts->capsched = cap;
    }
    sc = calloc(1, sizeof(*sc));
    if (sc == NULL)
        return -ENOMEM;
    sc->ts = ts;
    sc->m = *m;
    sc->event = xsim_event_schedule(ts->w, m->at_ns, KIND_REQUEST, request_event, sc);
    if (sc->event == 0) {
        free(sc);
        return -ENOSPC;
    }
    ts->sched[ts->nsched++] = sc;
    return 0;
}

void xsim_toolstack_get_stats(const struct xsim_toolstack *ts, struct xsim_toolstack_stats *out)
{
    *out = ts->st;
}
