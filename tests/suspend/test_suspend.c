/*
 * test_suspend.c - suspend, resume and migration end to end: the
 * toolstack asks through control/shutdown, the guest parks its CPUs,
 * suspends and resumes every part; cancelled suspends keep everything,
 * migrations rebuild it on a "new host" (new ports, new TSC, maybe fewer
 * features); a refusing device rolls back; a deaf guest fails the request.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "suspend_harness.h"
#include "xensim/abi/sched.h"
#include "xensim/gnttab.h"
#include "xensim/storage.h"

#define US 1000ull
#define MS 1000000ull

/* What CPU 0's main saw, checked after the run. */
struct obs {
    int rc[4];
    unsigned int nsusp; /* suspends to run */
    evtchn_port_t timer_port_before[4], timer_port_after[4];
    evtchn_port_t ipi_port_before[4], ipi_port_after[4];
    evtchn_port_t xb_before, xb_after;
    uint64_t mono_before, mono_after;
    bool timers_before, timers_after, ipis_after;
    uint32_t watch_hits_before_suspend, watch_hits_after_resume, watch_hits_end;
    int xs_rc, read_rc;
    char readback[32];
    grant_ref_t ref;
    int grant_rc;
    uint8_t *page;
    bool ev_port_after_bound;
    uint32_t ev_rebind_status; /* dom0's end of the test channel after the resume */
    int ev_rebind_rc;
    bool ev_rebound_works;
    volatile uint32_t watch_hits;
    enum xg_callback cb_after;
    bool armed_in_downtime;
    uint32_t fired_before_resume;
    /* XG_IPI_TLB sent to the parked CPUs by the device hook: its rc, and
     * every CPU's TLB runs before it and once the resume is done. */
    int parked_ipi_rc;
    uint32_t tlbs_before[4];
    bool parked_ipis_ran;
    grant_ref_t old_ref;
    int old_grant_rc, old_map_rc;
    uint8_t *old_page;
    bool disk;
    int vbd_write_rc, vbd_read_rc;
    char vbd_state_after[8];
    bool done;
};

static void data_watch(struct xg_xenbus *xb, const char *path, const char *token, void *arg)
{
    struct obs *o = arg;

    o->watch_hits++;
}

static bool all_fired(struct sh *x, uint32_t base[])
{
    for (unsigned int c = 0; c < x->cfg.th.ncpus; c++) {
        if (!sh_wait_count(x, &x->fired[c], base[c] + 1, 50 * MS))
            return false;
    }
    return true;
}

static void snapshot_ports(struct sh *x, evtchn_port_t tp[], evtchn_port_t ip[])
{
    for (unsigned int c = 0; c < x->cfg.th.ncpus; c++) {
        tp[c] = x->tm.cpu[c].port;
        ip[c] = x->ipi.slot[c][XG_IPI_CALL].port;
    }
}

/* A device hook (CPU 0, others parked) arms CPU 0's timer to fall in the
 * downtime: it must fire once after the resume, not be lost. */
static int arm_in_downtime(void *arg)
{
    struct sh *x = arg;
    struct obs *o = x->user;

    if (!o->armed_in_downtime) {
        /* An IPI the parked CPUs cannot take before the suspend: it must
         * still run on each of them once, after the resume, whichever
         * host that is (the old ports do not come along). */
        for (unsigned int c = 0; c < x->cfg.th.ncpus && c < 4; c++)
            o->tlbs_before[c] = x->tlbs[c];
        o->parked_ipi_rc = xg_ipi_send(&x->ipi, XG_IPI_ALL_BUT_SELF, XG_IPI_TLB);
        o->fired_before_resume = x->fired[0];
        o->armed_in_downtime = xg_timer_set_in(&x->tm, 1 * MS) == 0;
    }
    return 0;
}

static int dev_resume_nop(void *arg, bool new_host)
{
    return 0;
}

static void main0(struct sh *x, unsigned int cpu)
{
    struct obs *o = x->user;
    uint32_t base[XG_MAX_CPUS];

    if (cpu != 0)
        return;
    xg_xenbus_watch(&x->xb, "data/w", "w", data_watch, o);
    for (unsigned int c = 0; c < x->cfg.th.ncpus; c++)
        base[c] = x->fired[c];
    o->timers_before = sh_arm_all(x) == (int)x->cfg.th.ncpus && all_fired(x, base);
    snapshot_ports(x, o->timer_port_before, o->ipi_port_before);
    o->xb_before = x->xb.port;
    /* A grant from before the suspend. */
    o->old_page = xg_page_alloc(x->th.p, &(uint64_t){0});
    o->old_grant_rc =
        o->old_page == NULL
            ? -ENOMEM
            : xg_gnttab_grant_page(&x->gt, TH_BACKEND_DOMID, o->old_page, true, true, &o->old_ref);
    /* A frontend that got as far as Initialised on the old host. */
    if (o->disk)
        o->vbd_write_rc = xg_xenbus_write(&x->xb, 0, "device/vbd/51712/state", "3");
    o->watch_hits_before_suspend = o->watch_hits;
    {
        struct xg_suspend_dev dev = {"downtime-timer", arm_in_downtime, dev_resume_nop, x};
        xg_suspend_register(x->susp, &dev);
    }
    for (unsigned int i = 0; i < o->nsusp; i++) {
        o->mono_before = xg_clock_now(&x->clk);
        o->rc[i] = sh_wait_and_suspend(x);
        o->mono_after = xg_clock_now(&x->clk);
    }
    o->watch_hits_after_resume = o->watch_hits;
    /* A device's channel to dom0: after a migration dom0's end waits
     * (unbound) for the guest to bind it again, as a device's resume hook
     * does; then it works again. */
    {
        struct evtchn_status st = {.dom = TH_BACKEND_DOMID, .port = x->ev_bport};
        xsim_hv_evtchn_status(x->th.hv, &st);
        o->ev_rebind_status = st.status;
        if (o->rc[0] == 0 && st.status == EVTCHNSTAT_unbound &&
            st.u.unbound.dom == TH_GUEST_DOMID) {
            evtchn_port_t port;
            uint32_t before = x->ev_handled;
            o->ev_rebind_rc = xg_evtchn_bind_interdomain(x->th.g, TH_BACKEND_DOMID, x->ev_bport,
                                                         sh_ev_handler, x, &port);
            if (o->ev_rebind_rc == 0)
                o->ev_rebind_rc = xg_evtchn_unmask(x->th.g, port);
            if (o->ev_rebind_rc == 0)
                o->ev_rebind_rc = xsim_hv_evtchn_send(x->th.hv, TH_BACKEND_DOMID, x->ev_bport);
            /* bind_interdomain sets the new port pending too: one or two runs */
            o->ev_rebound_works =
                o->ev_rebind_rc == 0 && sh_wait_count(x, &x->ev_handled, before + 1, 10 * MS);
        }
    }
    /* Does dom0 still find the grant from before? (Before anything is
     * granted again, which may reuse the number.) */
    {
        void *pg;
        o->old_map_rc =
            xsim_gnttab_map(x->th.hv, TH_BACKEND_DOMID, TH_GUEST_DOMID, o->old_ref, true, &pg);
        if (o->old_map_rc == 0)
            xsim_gnttab_unmap(x->th.hv, TH_BACKEND_DOMID, TH_GUEST_DOMID, o->old_ref, true);
    }
    o->parked_ipis_ran = true;
    for (unsigned int c = 1; c < x->cfg.th.ncpus && c < 4; c++)
        o->parked_ipis_ran &= sh_wait_count(x, &x->tlbs[c], o->tlbs_before[c] + 1, 10 * MS);
    o->cb_after = xg_guest_callback(x->th.g);
    snapshot_ports(x, o->timer_port_after, o->ipi_port_after);
    o->xb_after = x->xb.port;
    /* The downtime timer of CPU 0 fired by now (or soon). */
    sh_wait_count(x, &x->fired[0], o->fired_before_resume + 1, 20 * MS);
    for (unsigned int c = 0; c < x->cfg.th.ncpus; c++)
        base[c] = x->fired[c];
    o->timers_after = sh_arm_all(x) == (int)x->cfg.th.ncpus && all_fired(x, base);
    o->ipis_after = true;
    for (unsigned int c = 0; c < x->cfg.th.ncpus; c++)
        o->ipis_after &= x->ipis[c] >= 2;
    if (o->disk)
        o->vbd_read_rc = xg_xenbus_read(&x->xb, 0, "device/vbd/51712/state", o->vbd_state_after,
                                        sizeof(o->vbd_state_after));
    o->xs_rc = xg_xenbus_write(&x->xb, 0, "data/w", "after");
    o->read_rc = xg_xenbus_read(&x->xb, 0, "data/w", o->readback, sizeof(o->readback));
    o->watch_hits_end = o->watch_hits;
    o->page = xg_page_alloc(x->th.p, &(uint64_t){0});
    if (o->page != NULL) {
        o->grant_rc = xg_gnttab_grant_page(&x->gt, TH_BACKEND_DOMID, o->page, false, true, &o->ref);
        memcpy(o->page, "granted after resume", 21);
    }
    /* Long enough for a periodic timer left running to show. */
    xg_work(x->th.p, XG_WORK_GUEST, 25 * MS);
    o->done = true;
}

static struct sh *make(struct sh_config *cfg, struct obs *o)
{
    struct sh *x = sh_alloc();

    cfg->main = main0;
    cfg->user = o;
    cfg->th.world.max_decisions = 5000000;
    assert_non_null(x);
    assert_int_equal(sh_create(x, cfg, NULL), 0);
    return x;
}

/* make with the defaults for `ncpus` CPUs, and *m a move at 5 ms for the
 * test to adjust and schedule. */
static struct sh *make_moving(unsigned int ncpus, struct obs *o, struct xsim_migration *m)
{
    struct sh_config cfg;
    struct sh *x;

    sh_config_init(&cfg, ncpus);
    x = make(&cfg, o);
    xsim_migration_init(m);
    m->at_ns = 5 * MS;
    return x;
}

static void check_common_after(struct sh *x, struct obs *o)
{
    const char *f = xsim_world_failure(x->th.w);

    assert_null(f);
    assert_int_equal(x->setup_rc, 0);
    assert_true(o->done);
    assert_true(o->timers_before);
    assert_true(o->timers_after);
    assert_true(o->ipis_after);
    assert_true(o->mono_after >= o->mono_before);
    assert_int_equal(x->ran_while_suspended, 0);
    assert_true(o->armed_in_downtime);
    /* The IPI sent to the parked CPUs ran once on each, after the resume. */
    assert_int_equal(o->parked_ipi_rc, (int)x->cfg.th.ncpus - 1);
    assert_true(o->parked_ipis_ran);
    for (unsigned int c = 1; c < x->cfg.th.ncpus && c < 4; c++)
        assert_int_equal(x->tlbs[c], o->tlbs_before[c] + 1);
    assert_int_equal(o->xs_rc, 0);
    assert_int_equal(o->read_rc, 5);
    assert_string_equal(o->readback, "after");
    /* The downtime timer on CPU 0 fired after the resume, not lost. */
    assert_true(x->fired[0] >= o->fired_before_resume + 2);
    for (unsigned int c = 0; c < x->cfg.th.ncpus; c++)
        assert_int_equal(x->fired_late[c], 0);
    /* Our own write fired the watch on the (new) daemon. */
    assert_true(o->watch_hits_end > o->watch_hits_after_resume);
    /* A grant made after the resume maps from dom0. */
    assert_int_equal(o->grant_rc, 0);
    {
        void *pg;
        assert_int_equal(
            xsim_gnttab_map(x->th.hv, TH_BACKEND_DOMID, TH_GUEST_DOMID, o->ref, true, &pg), 0);
        assert_memory_equal(pg, "granted after resume", 21);
        assert_int_equal(
            xsim_gnttab_unmap(x->th.hv, TH_BACKEND_DOMID, TH_GUEST_DOMID, o->ref, true), 0);
    }
}

/* ---- cancelled ---- */

static void test_cancelled(void **state)
{
    struct obs o = {.nsusp = 1};
    struct xsim_migration m;
    struct xsim_toolstack_stats ts;
    struct xg_suspend_stats gs;
    struct sh *x;

    (void)state;
    x = make_moving(3, &o, &m);
    m.downtime_ns = 2 * MS;
    m.cancel = true;
    assert_int_equal(xsim_toolstack_schedule(x->ts, &m), 0);
    sh_send_during_suspend(x, 5 * MS);
    sh_run(x);
    check_common_after(x, &o);
    assert_int_equal(o.rc[0], 1);
    /* Same ports as before. */
    for (unsigned int c = 0; c < 3; c++) {
        assert_int_equal(o.timer_port_before[c], o.timer_port_after[c]);
        assert_int_equal(o.ipi_port_before[c], o.ipi_port_after[c]);
    }
    assert_int_equal(o.xb_before, o.xb_after);
    assert_int_equal(o.watch_hits_after_resume, o.watch_hits_before_suspend);
    assert_int_equal(o.ev_rebind_status, EVTCHNSTAT_interdomain);
    /* The grant from before is still in place on the same host. */
    assert_int_equal(o.old_map_rc, 0);
    {
        void *pg;
        assert_int_equal(o.old_grant_rc, 0);
        assert_int_equal(
            xsim_gnttab_map(x->th.hv, TH_BACKEND_DOMID, TH_GUEST_DOMID, o.old_ref, true, &pg), 0);
        assert_int_equal(
            xsim_gnttab_unmap(x->th.hv, TH_BACKEND_DOMID, TH_GUEST_DOMID, o.old_ref, true), 0);
    }
    /* The event sent while suspended (to CPU 1, parked) came after. */
    assert_true(x->ev_sent_at > 0);
    assert_int_equal(x->ev_handled, 1);
    assert_true(x->ev_handled_at > x->ev_sent_at);
    xsim_toolstack_get_stats(x->ts, &ts);
    assert_int_equal(ts.requested, 1);
    assert_int_equal(ts.acked, 1);
    assert_int_equal(ts.suspended, 1);
    assert_int_equal(ts.cancelled, 1);
    assert_int_equal(ts.migrated, 0);
    assert_int_equal(ts.failed, 0);
    assert_int_equal(ts.downtime_ns_max, 2 * MS);
    assert_true(ts.ack_ns_max > 0 && ts.ack_ns_max <= ts.suspend_ns_max);
    xg_suspend_get_stats(x->susp, &gs);
    assert_int_equal(gs.requests, 1);
    assert_int_equal(gs.suspends, 1);
    assert_int_equal(gs.cancelled, 1);
    assert_int_equal(gs.resumed, 0);
    assert_int_equal(xsim_hv_shutdown_reason(x->th.hv, TH_GUEST_DOMID), SHUTDOWN_suspend);
    sh_free(x);
}

/* ---- migration ---- */

static void run_migration(bool drop_percpu, unsigned int ncpus, bool intx, bool disk)
{
    struct sh_config cfg;
    struct obs o = {.nsusp = 1, .disk = disk};
    struct xsim_migration m;
    struct xsim_toolstack_stats ts;
    struct xsim_hv_port_info pi;
    struct xsim_hv_time_stats tstat;
    struct xsim_storage_config sc = {.sectors = 2048};
    struct xsim_storage *st = NULL;
    struct xsim_blkback_config bc;
    struct xsim_blkback *bb = NULL;
    struct sh *x;
    char val[16];

    sh_config_init(&cfg, ncpus);
    /* Every host starts vCPUs with Xen's 10 ms periodic timer. */
    cfg.time.default_periodic_ns = XSIM_TIME_XEN_PERIODIC_NS;
    if (intx)
        cfg.th.guest.force_callback = XG_CB_PCI_INTX;
    x = make(&cfg, &o);
    if (disk) {
        assert_int_equal(xsim_storage_mem_create(&sc, &st), 0);
        xsim_blkback_config_init(&bc);
        bc.storage = st;
        assert_int_equal(xsim_toolstack_add_disk(x->ts, &bc, &bb), 0);
        assert_ptr_equal(xsim_toolstack_disk(x->ts, 0), bb);
    }
    xsim_migration_init(&m);
    m.at_ns = 5 * MS;
    m.downtime_ns = 2 * MS;
    m.tsc_hz = 2500000000ull;
    m.system_time_offset_ns = -3 * (int64_t)MS; /* the new host's clock is behind */
    if (drop_percpu) {
        m.has_hv_features = true;
        xsim_hv_features_default(&m.hv_features);
        m.hv_features.percpu_upcall_vector = false;
    }
    if (disk) {
        /* The new host's backend offers no discard. */
        m.has_disk_features = true;
        m.disk_features[0] = bc.features;
        m.disk_features[0].discard = false;
    }
    assert_int_equal(xsim_toolstack_schedule(x->ts, &m), 0);
    sh_run(x);
    check_common_after(x, &o);
    assert_int_equal(o.rc[0], 0);
    /* The grant from before the suspend is gone with the old host. */
    assert_int_equal(o.old_grant_rc, 0);
    assert_int_equal(o.old_map_rc, -EINVAL);
    assert_int_equal(o.ev_rebind_status, EVTCHNSTAT_unbound);
    assert_int_equal(o.ev_rebind_rc, 0);
    assert_true(o.ev_rebound_works);
    /* The periodic timer the new host started was stopped. */
    assert_int_equal(xsim_hv_time_stats(x->th.hv, TH_GUEST_DOMID, &tstat), 0);
    assert_int_equal(tstat.periodic_fired, 0);
    if (disk) {
        /* A new backend, and the frontend directory back at Initialising. */
        assert_int_equal(o.vbd_write_rc, 0);
        assert_true(o.vbd_read_rc > 0);
        assert_string_equal(o.vbd_state_after, "1");
        bb = xsim_toolstack_disk(x->ts, 0);
        assert_non_null(bb);
        assert_int_equal(xsim_blkback_state(bb), XSIM_BLKBACK_INITWAIT);
        {
            char path[160];
            snprintf(path, sizeof(path), "%s/feature-discard", xsim_blkback_path(bb));
            assert_int_equal(xsim_xshost_read(x->th.xs, path, val, sizeof(val)), 0);
            assert_string_equal(val, "0");
        }
    }
    if (intx) {
        /* Everything on CPU 0 through the platform device, before and after;
         * the timers and IPIs are the emulated ones (no ports to rebind). */
        assert_int_equal(o.cb_after, XG_CB_PCI_INTX);
        assert_int_equal(xsim_hv_callback_mode(x->th.hv, TH_GUEST_DOMID), XSIM_CB_PCI_INTX);
        assert_int_not_equal(xg_timer_kind(&x->tm), XG_TIMER_PV);
        assert_int_equal(xg_ipi_mode(&x->ipi), XG_IPI_MODE_LAPIC);
        goto out;
    }
    /* New ports, and the hypervisor agrees about each. */
    for (unsigned int c = 0; c < ncpus; c++) {
        assert_int_not_equal(o.timer_port_before[c], o.timer_port_after[c]);
        assert_int_equal(xsim_hv_port_info(x->th.hv, TH_GUEST_DOMID, o.timer_port_after[c], &pi),
                         0);
        assert_int_equal(pi.status, EVTCHNSTAT_virq);
        assert_int_equal(pi.notify_vcpu, c);
        /* FIFO: the tick is bound at the highest priority. */
        assert_int_equal(pi.priority, EVTCHN_FIFO_PRIORITY_MAX);
        assert_int_equal(xsim_hv_port_info(x->th.hv, TH_GUEST_DOMID, o.ipi_port_after[c], &pi), 0);
        assert_int_equal(pi.status, EVTCHNSTAT_ipi);
        assert_int_equal(pi.notify_vcpu, c);
    }
    /* The watch was registered again (fires once on registration). */
    assert_true(o.watch_hits_after_resume > o.watch_hits_before_suspend);
    if (drop_percpu) {
        assert_int_equal(o.cb_after, XG_CB_VECTOR);
        assert_int_equal(xsim_hv_callback_mode(x->th.hv, TH_GUEST_DOMID), XSIM_CB_VECTOR);
    } else {
        assert_int_equal(o.cb_after, XG_CB_PERCPU_VECTOR);
        assert_int_equal(xsim_hv_callback_mode(x->th.hv, TH_GUEST_DOMID), XSIM_CB_PERCPU_VECTOR);
    }
out:
    /* The new host offers FIFO: the guest took it again. */
    assert_string_equal(xg_guest_evtchn_abi(x->th.g), "fifo");
    assert_string_equal(xsim_hv_evtchn_abi(x->th.hv, TH_GUEST_DOMID), "fifo");
    xsim_toolstack_get_stats(x->ts, &ts);
    assert_int_equal(ts.requested, 1);
    assert_int_equal(ts.suspended, 1);
    assert_int_equal(ts.migrated, 1);
    assert_int_equal(ts.cancelled, 0);
    assert_int_equal(ts.failed, 0);
    assert_int_equal(ts.downtime_ns_max, 2 * MS);
    sh_free(x);
    xsim_storage_destroy(st);
}

static void test_migrate(void **state)
{
    (void)state;
    run_migration(false, 4, false, false);
}

static void test_migrate_with_disk(void **state)
{
    (void)state;
    run_migration(false, 2, false, true);
}

static void test_migrate_intx_guest(void **state)
{
    (void)state;
    run_migration(false, 2, true, false);
}

static void test_migrate_no_percpu_vector(void **state)
{
    (void)state;
    run_migration(true, 2, false, false);
}

/* FIFO across hosts: the guest starts on FIFO, moves to a host without it
 * (the resume falls back to 2-level, rebinding everything there) and then
 * to one with it again (FIFO once more: control blocks re-registered and
 * the event array pages given to the new host). Everything still works
 * after each move (check_common_after: timers, IPIs, the rebound port). */
static void test_migrate_fifo_fallback(void **state)
{
    struct obs o = {.nsusp = 1};
    struct xsim_migration m;
    struct xsim_toolstack_stats ts;
    struct sh *x;

    (void)state;
    for (int back = 0; back < 2; back++) {
        memset(&o, 0, sizeof(o));
        o.nsusp = back ? 2 : 1;
        x = make_moving(2, &o, &m);
        m.has_hv_features = true;
        xsim_hv_features_default(&m.hv_features);
        m.hv_features.fifo_events = false;
        assert_int_equal(xsim_toolstack_schedule(x->ts, &m), 0);
        if (back) {
            m.at_ns = 6 * MS;
            m.hv_features.fifo_events = true;
            assert_int_equal(xsim_toolstack_schedule(x->ts, &m), 0);
        }
        sh_run(x);
        check_common_after(x, &o);
        assert_int_equal(o.rc[0], 0);
        xsim_toolstack_get_stats(x->ts, &ts);
        assert_int_equal(ts.migrated, back ? 2 : 1);
        assert_int_equal(ts.failed, 0);
        assert_string_equal(xg_guest_evtchn_abi(x->th.g), back ? "fifo" : "2-level");
        assert_string_equal(xsim_hv_evtchn_abi(x->th.hv, TH_GUEST_DOMID),
                            back ? "fifo" : "2-level");
        sh_free(x);
    }
}

static void test_back_to_back(void **state)
{
    struct obs o = {.nsusp = 2};
    struct xsim_migration m;
    struct xsim_toolstack_stats ts;
    struct xg_suspend_stats gs;
    struct sh *x;

    (void)state;
    x = make_moving(2, &o, &m);
    m.tsc_hz = 3000000000ull;
    assert_int_equal(xsim_toolstack_schedule(x->ts, &m), 0);
    m.at_ns = 6 * MS; /* while the first is in progress: it waits */
    m.tsc_hz = 1500000000ull;
    assert_int_equal(xsim_toolstack_schedule(x->ts, &m), 0);
    sh_run(x);
    check_common_after(x, &o);
    assert_int_equal(o.rc[0], 0);
    assert_int_equal(o.rc[1], 0);
    xsim_toolstack_get_stats(x->ts, &ts);
    assert_int_equal(ts.requested, 2);
    assert_int_equal(ts.migrated, 2);
    assert_int_equal(ts.failed, 0);
    xg_suspend_get_stats(x->susp, &gs);
    assert_int_equal(gs.resumed, 2);
    sh_free(x);
}

/* ---- a device that refuses ---- */

struct devlog {
    char calls[16][16];
    unsigned int n;
};

static void logcall(struct devlog *l, const char *what)
{
    if (l->n < 16)
        snprintf(l->calls[l->n++], 16, "%s", what);
}

static struct devlog g_log;

static int ok_suspend(void *arg)
{
    logcall(&g_log, arg);
    return 0;
}

static int ok_resume(void *arg, bool new_host)
{
    char b[16];

    snprintf(b, sizeof(b), "r%s%s", (const char *)arg, new_host ? "!" : "");
    logcall(&g_log, b);
    return 0;
}

static int refuse(void *arg)
{
    logcall(&g_log, "refuse");
    return -EBUSY;
}

struct refuse_obs {
    int rc, reg_rc;
    bool ipis_after, timers_after;
    volatile uint32_t dummy;
};

static void refuse_main(struct sh *x, unsigned int cpu)
{
    struct refuse_obs *o = x->user;
    uint32_t base[XG_MAX_CPUS];
    struct xg_suspend_dev a = {"a", ok_suspend, ok_resume, "a"};
    struct xg_suspend_dev b = {"bad", refuse, ok_resume, "bad"};
    struct xg_suspend_dev c = {"c", ok_suspend, ok_resume, "c"};

    if (cpu != 0)
        return;
    o->reg_rc = xg_suspend_register(x->susp, &a) | xg_suspend_register(x->susp, &b) |
                xg_suspend_register(x->susp, &c);
    o->rc = sh_wait_and_suspend(x);
    for (unsigned int i = 0; i < x->cfg.th.ncpus; i++)
        base[i] = x->fired[i];
    o->timers_after = sh_arm_all(x) == (int)x->cfg.th.ncpus;
    for (unsigned int i = 0; i < x->cfg.th.ncpus; i++)
        o->timers_after &= sh_wait_count(x, &x->fired[i], base[i] + 1, 50 * MS);
}

static void test_refuse_rolls_back(void **state)
{
    struct sh_config cfg;
    struct refuse_obs o = {0};
    struct xsim_migration m;
    struct xsim_toolstack_stats ts;
    struct xg_suspend_stats gs;
    struct sh *x = sh_alloc();

    (void)state;
    memset(&g_log, 0, sizeof(g_log));
    sh_config_init(&cfg, 3);
    cfg.main = refuse_main;
    cfg.user = &o;
    assert_int_equal(sh_create(x, &cfg, NULL), 0);
    xsim_migration_init(&m);
    m.at_ns = 5 * MS;
    m.suspend_timeout_ns = 20 * MS;
    assert_int_equal(xsim_toolstack_schedule(x->ts, &m), 0);
    sh_run(x);
    assert_null(xsim_world_failure(x->th.w));
    assert_int_equal(o.reg_rc, 0);
    assert_int_equal(o.rc, -EBUSY);
    assert_true(o.timers_after);
    /* Suspended last to first; c was suspended, so it is resumed. */
    assert_int_equal(g_log.n, 3);
    assert_string_equal(g_log.calls[0], "c");
    assert_string_equal(g_log.calls[1], "refuse");
    assert_string_equal(g_log.calls[2], "rc");
    /* No SCHEDOP_shutdown. */
    assert_int_equal(xsim_hv_shutdown_reason(x->th.hv, TH_GUEST_DOMID), -1);
    xsim_toolstack_get_stats(x->ts, &ts);
    assert_int_equal(ts.requested, 1);
    assert_int_equal(ts.acked, 1);
    assert_int_equal(ts.suspended, 0);
    assert_int_equal(ts.failed, 1);
    xg_suspend_get_stats(x->susp, &gs);
    assert_int_equal(gs.failed, 1);
    assert_int_equal(gs.suspends, 0);
    sh_free(x);
}

/* ---- a guest that never acks ---- */

static void test_never_acks(void **state)
{
    struct sh_config cfg;
    struct xsim_migration m;
    struct xsim_toolstack_stats ts;
    char val[32];
    struct sh *x = sh_alloc();

    (void)state;
    sh_config_init(&cfg, 2);
    cfg.no_suspend = true;
    assert_int_equal(sh_create(x, &cfg, NULL), 0);
    xsim_migration_init(&m);
    m.at_ns = 2 * MS;
    m.ack_timeout_ns = 10 * MS;
    assert_int_equal(xsim_toolstack_schedule(x->ts, &m), 0);
    sh_run(x);
    assert_null(xsim_world_failure(x->th.w));
    xsim_toolstack_get_stats(x->ts, &ts);
    assert_int_equal(ts.requested, 1);
    assert_int_equal(ts.acked, 0);
    assert_int_equal(ts.suspended, 0);
    assert_int_equal(ts.failed, 1);
    /* The request was withdrawn. */
    assert_int_equal(
        xsim_xshost_read(x->th.xs, "/local/domain/1/control/shutdown", val, sizeof(val)), 0);
    assert_string_equal(val, "");
    assert_true(th_now(&x->th) >= 12 * MS);
    sh_free(x);
}

/* ---- the hypervisor side alone ---- */

static void test_hv_resume_errors(void **state)
{
    struct sh_config cfg;
    struct sh *x = sh_alloc();

    (void)state;
    sh_config_init(&cfg, 1);
    assert_int_equal(sh_create(x, &cfg, NULL), 0);
    /* Not suspended: nothing to resume or migrate. */
    assert_false(xsim_hv_domain_suspended(x->th.hv, TH_GUEST_DOMID));
    assert_int_equal(xsim_hv_domain_resume(x->th.hv, TH_GUEST_DOMID, 1), -EINVAL);
    assert_int_equal(xsim_hv_domain_migrate(x->th.hv, TH_GUEST_DOMID, NULL), -EINVAL);
    assert_int_equal(xsim_hv_domain_resume(x->th.hv, 77, 1), -ESRCH);
    assert_int_equal(xsim_xshost_migrate_guest(x->th.xs, 5), -ENOENT);
    sh_free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cancelled),
        cmocka_unit_test(test_migrate),
        cmocka_unit_test(test_migrate_no_percpu_vector),
        cmocka_unit_test(test_migrate_with_disk),
        cmocka_unit_test(test_migrate_intx_guest),
        cmocka_unit_test(test_back_to_back),
        cmocka_unit_test(test_migrate_fifo_fallback),
        cmocka_unit_test(test_refuse_rolls_back),
        cmocka_unit_test(test_never_acks),
        cmocka_unit_test(test_hv_resume_errors),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
