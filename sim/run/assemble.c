/*
 * assemble.c - the machine a scenario describes: its cost profile, the
 * hypervisor with a device domain 0 (no vCPUs) and the guest domain on N
 * vCPUs (machine.h), the disks with their storage and faults, the
 * migrations the toolstack runs, the event sources and their queues, and
 * last the guest program with the workload drivers (guestprog/host.c).
 */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>

#include "run/run_internal.h"
#include "xensim/hv.h"
#include "xensim/time.h"

int xsim__run_load_costs(const struct xsim_scenario *s, struct xsim_cost_profile *cp,
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
    struct run_arg *a = arg;
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
    struct run_arg *a = arg;

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
    bc.stale_map = (unsigned int)d->faults.stale_map;
    bc.map_grants = d->grant_access == XSIM_DISK_GRANT_MAP;
    if ((err = xsim_toolstack_add_disk(rc->ts, &bc, &bb)) != 0)
        return err;
    rc->disk_args[i] = (struct run_arg){.rc = rc, .i = i};
    if (d->power_loss_ns != 0 &&
        xsim_event_schedule(rc->w, d->power_loss_ns, XSIM_RUN_EV_POWER_LOSS, power_loss,
                            &rc->disk_args[i]) == 0)
        return -ENOMEM;
    if (d->backend_gone_ns != 0 &&
        xsim_event_schedule(rc->w, d->backend_gone_ns, XSIM_RUN_EV_BACKEND_GONE, backend_gone,
                            &rc->disk_args[i]) == 0)
        return -ENOMEM;
    return 0;
}

static bool has_xenstore_workload(const struct xsim_scenario *s)
{
    return (xsim_scenario_guest_needs(s) & XSIM_GUEST_XENSTORE) != 0;
}

/* The toolstack's steps the report needs: when the guest's suspend
 * hypercall returns, its own resume starts. */
static void ts_step(void *arg, enum xsim_toolstack_step step, uint64_t now_ns)
{
    struct run_ctx *rc = arg;

    if (step == XSIM_TS_RESUMED)
        xsim_gp_host_resumed(&rc->host, now_ns);
}

static int build_devices(struct run_ctx *rc, const struct xsim_scenario *s)
{
    uint64_t drain = XSIM_RUN_DRAIN_NS;
    int err;

    const struct xsim_scn_workload *timer_wl = rc->host.timer_wl;

    if (s->ndisks == 0 && s->nmigrations == 0 && timer_wl == NULL && rc->host.ipi_wl == NULL &&
        !has_xenstore_workload(s))
        return 0;
    if (s->ndisks > 0 || s->nmigrations > 0) {
        if ((err = xsim_machine_toolstack(rc->m, &rc->ts)) != 0)
            return err;
        xsim_toolstack_set_observer(rc->ts, ts_step, rc);
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
    /* A late daemon answers the last rounds' requests that much later. */
    if (has_xenstore_workload(s) && 40 * s->machine.xenstore_latency_ns > drain)
        drain = 40 * s->machine.xenstore_latency_ns;
    if (drain > s->stop.time_ns / 2)
        drain = s->stop.time_ns / 2; /* a short run still drains its second half */
    if (drain > 0) {
        if (xsim_event_schedule(rc->w, s->stop.time_ns - drain, XSIM_RUN_EV_DRAIN, start_drain,
                                rc) == 0)
            return -ENOMEM;
    }
    /* The xenstore workloads' toolstack writes stop with the rest. */
    if (has_xenstore_workload(s))
        return xsim_gp_host_add_xenstore(&rc->host, rc->w, rc->xs, 1, s->stop.time_ns - drain);
    return 0;
}

int xsim__run_build(struct run_ctx *rc, const struct xsim_scenario *s, struct xsim_policy *pol,
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
    mc.xenstore = rc->want_xs || s->ndisks > 0 || s->nmigrations > 0 || has_xenstore_workload(s);
    mc.ops = xsim_gp_host_ops(&rc->host);
    mc.guest = rc->host.state;
    if ((err = xsim_machine_create(&mc, &rc->m, &merr)) != 0)
        return err;
    rc->w = xsim_machine_world(rc->m);
    rc->hv = xsim_machine_hv(rc->m);
    rc->dom0 = xsim_machine_backend(rc->m);
    rc->d = xsim_machine_guest(rc->m);
    rc->xs = xsim_machine_xenstore(rc->m);
    if (rc->xs != NULL && s->machine.xenstore_latency_ns != 0)
        xsim_xshost_set_latency(rc->xs, s->machine.xenstore_latency_ns);
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
        /* Sends stop a drain period before the time limit, as the devices'
         * new work does: a short run drains its second half. */
        uint64_t drain = XSIM_RUN_DRAIN_NS < s->stop.time_ns / 2 ? XSIM_RUN_DRAIN_NS
                                                                 : s->stop.time_ns / 2;
        uint64_t stop = s->stop.time_ns - drain;
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
