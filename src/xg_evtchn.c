/*
 * xg_evtchn.c - event channel binding, handlers, closing, moving ports
 * between CPUs, balancing and the storm throttle, over whichever ABI table
 * (xg_evtchn_ops) the guest uses.
 */
#include <errno.h>
#include <string.h>

#include "xensim/guest/xg_evtchn.h"
#include "xg_mutant.h"

static long evtchn_op(struct xg_guest *g, unsigned int cmd, void *arg)
{
    return xg_hypercall(g->p, __HYPERVISOR_event_channel_op, cmd, (unsigned long)arg, 0);
}

static bool port_ok(const struct xg_guest *g, evtchn_port_t port)
{
    return g->si != NULL && port > 0 && port < g->ops->max_ports;
}

/* A port with an entry: at or above port_hwm nothing was ever bound. */
static bool port_bound(const struct xg_guest *g, evtchn_port_t port)
{
    return port < g->port_hwm && g->ports[port].kind != XG_PORT_FREE;
}

/* ---- choosing the ABI ---- */

int xg_evtchn_choose_abi(struct xg_guest *g, bool booting)
{
    int rc;

    if (g->cfg.evtchn_ops != NULL) {
        /* A test's table: its own init decides (a resume falls back). */
        g->ops = g->cfg.evtchn_ops;
        rc = g->ops->init != NULL ? g->ops->init(g) : 0;
        if (rc != 0 && !booting) {
            g->ops = &xg_evtchn_2l_ops;
            rc = 0;
        }
        return rc;
    }
    g->ops = &xg_evtchn_2l_ops;
    if (g->cfg.event_abi == XG_EVENT_ABI_2L)
        return 0;
    rc = xg_evtchn_fifo_ops.init(g);
    if (rc == 0) {
        g->ops = &xg_evtchn_fifo_ops;
        return 0;
    }
    /* Refused (-ENOSYS from a Xen without FIFO): stay on 2-level, unless
     * FIFO was required at boot. A resume cannot refuse to run. */
    if (g->cfg.event_abi == XG_EVENT_ABI_FIFO && booting)
        return rc;
    return 0;
}

void xg_evtchn_release_throttled(struct xg_guest *g, unsigned int cpu)
{
    struct xg_cpu *c = &g->cpus[cpu];

    for (evtchn_port_t port = 1; port < g->port_hwm && c->nthrottled > 0; port++) {
        struct xg_port *pt = &g->ports[port];
        if (pt->cpu != cpu || !pt->throttled || pt->release_at > c->throttle_clock)
            continue;
        pt->throttled = false;
        c->nthrottled--;
        if (!pt->user_masked && !pt->closing)
            g->ops->unmask(g, port);
    }
}

/* ---- dispatch and the storm throttle ---- */

static void throttle(struct xg_guest *g, unsigned int cpu, evtchn_port_t port)
{
    struct xg_port *pt = &g->ports[port];
    struct xg_cpu *c = &g->cpus[cpu];

    /* XSA-332/391: a port that keeps firing with nothing to do is masked
     * and released after a backoff that doubles while the storm lasts. */
    if (pt->throttle_level < 10)
        pt->throttle_level++;
    pt->release_at = c->throttle_clock + ((uint64_t)1 << pt->throttle_level);
    pt->throttled = true;
    pt->throttled_count++;
    pt->spurious_run = 0;
    c->nthrottled++;
    (void)g->ops->mask(g, port);
}

void xg_evtchn_dispatch(struct xg_guest *g, unsigned int cpu, evtchn_port_t port)
{
    const struct xg_platform *p = g->p;
    struct xg_port *pt = &g->ports[port];
    struct xg_cpu *c = &g->cpus[cpu];
    int r = XG_EVTCHN_SPURIOUS;

    /* XSA-331: announce that a handler runs before looking at the port;
     * xg_evtchn_close sets `closing` and then waits for `running` to drop,
     * so either we see closing or it sees us. */
    if (!XG_MUTATED(8))
        xg_fetch_add_u32(p, &pt->running, 1);
    if ((XG_MUTATED(8) || !xg_read_u8(p, (volatile uint8_t *)&pt->closing)) && pt->fn != NULL) {
        int saved = c->in_port;
        c->in_port = (int)port;
        r = pt->fn(g, port, pt->arg);
        c->in_port = saved;
    }
    if (!XG_MUTATED(8)) {
        uint32_t before = xg_fetch_add_u32(p, &pt->running, (uint32_t)-1);
        /* Our own announcement was still counted. */
        XG_BUG_ON(p, before == 0);
    }
    c->events++;
    pt->load++;
    if (r == XG_EVTCHN_HANDLED) {
        pt->handled++;
        pt->spurious_run = 0;
        pt->throttle_level = 0;
        return;
    }
    pt->spurious++;
    if (pt->fn != NULL && !pt->percpu && ++pt->spurious_run >= g->cfg.storm_threshold &&
        !pt->throttled && !XG_MUTATED(3))
        throttle(g, cpu, port);
}

void xg_evtchn_tick(struct xg_guest *g)
{
    unsigned int cpu = xg_cpu(g->p);
    struct xg_cpu *c = &g->cpus[cpu];

    c->throttle_clock++;
    if (c->nthrottled == 0)
        return;
    /* The ABI's upcall releases throttled ports as its clock advances; a
     * tick advances the same clock without an event. */
    xg_evtchn_release_throttled(g, cpu);
}

/* ---- binding ---- */

static unsigned int pick_cpu(struct xg_guest *g)
{
    /* Round robin over online CPUs; everything stays on CPU 0 when events
     * can only reach CPU 0. */
    if (!g->cfg.balance_at_bind || !xg_guest_percpu_events(g))
        return 0;
    for (unsigned int i = 0; i < g->ncpus; i++) {
        unsigned int cpu = (g->rr_next + i) % g->ncpus;
        if (g->cpus[cpu].up) {
            g->rr_next = cpu + 1;
            return cpu;
        }
    }
    return 0;
}

/* Install the handler for a port Xen just gave us. The port is masked (all
 * ports are masked at boot and again at close) and stays so: invariant 6,
 * binding never unmasks and never clears pending. */
static int install(struct xg_guest *g, evtchn_port_t port, enum xg_port_kind kind, unsigned int cpu,
                   bool percpu, xg_evtchn_handler_fn fn, void *arg)
{
    struct xg_port *pt;

    if (port == 0 || port >= g->ops->max_ports)
        return -EINVAL; /* a hypervisor answer we cannot hold */
    if (g->ops->setup_port != NULL) {
        int rc = g->ops->setup_port(g, port);
        if (rc != 0) {
            struct evtchn_close cl = {.port = port};
            (void)evtchn_op(g, EVTCHNOP_close, &cl);
            return rc;
        }
    }
    if (port >= g->port_hwm) {
        /* First use of these entries: a free port is all zeroes. */
        memset(&g->ports[g->port_hwm], 0, (port + 1 - g->port_hwm) * sizeof(g->ports[0]));
        g->port_hwm = port + 1;
    }
    pt = &g->ports[port];
    pt->fn = fn;
    pt->arg = arg;
    pt->kind = (uint8_t)kind;
    pt->percpu = percpu;
    pt->closing = false;
    pt->throttled = false;
    pt->user_masked = false;
    pt->spurious_run = 0;
    pt->throttle_level = 0;
    pt->load = 0;
    (void)g->ops->mask(g, port);
    /* Xen's notify vCPU is `cpu` for per-vCPU bindings and 0 otherwise. A
     * free port is on CPU 0's map already (boot puts every port there and
     * close puts it back: invariant 3), so only per-vCPU bindings move. */
    if (percpu)
        g->ops->bind_to_cpu(g, port, cpu);
    else
        pt->cpu = 0;
    g->cpus[pt->cpu].nports++;
    return 0;
}

static int balance_new(struct xg_guest *g, evtchn_port_t port)
{
    unsigned int cpu = pick_cpu(g);

    if (cpu == 0)
        return 0;
    return xg_evtchn_set_cpu(g, port, cpu);
}

int xg_evtchn_bind_virq(struct xg_guest *g, uint32_t virq, unsigned int cpu,
                        xg_evtchn_handler_fn fn, void *arg, evtchn_port_t *port)
{
    struct evtchn_bind_virq b = {.virq = virq, .vcpu = cpu};
    bool percpu =
        virq == VIRQ_TIMER || virq == VIRQ_DEBUG || virq == VIRQ_XENOPROF || virq == VIRQ_XENPMU;
    long rc;

    if (fn == NULL || cpu >= g->ncpus || g->si == NULL)
        return -EINVAL;
    if (cpu != 0 && !xg_guest_percpu_events(g))
        return -EOPNOTSUPP;
    xg_spin_lock(g->p, &g->lock);
    rc = evtchn_op(g, EVTCHNOP_bind_virq, &b);
    if (rc == 0)
        rc = install(g, b.port, XG_PORT_VIRQ, percpu ? cpu : 0, percpu, fn, arg);
    if (rc == 0) {
        g->ports[b.port].virq = virq;
        /* The tick goes first: a timer behind a queue of device events
         * would be late by the whole queue. */
        if (virq == VIRQ_TIMER && g->ops->set_priority != NULL)
            (void)g->ops->set_priority(g, b.port, EVTCHN_FIFO_PRIORITY_MAX);
        *port = b.port;
    }
    xg_spin_unlock(g->p, &g->lock);
    return (int)rc;
}

int xg_evtchn_bind_ipi(struct xg_guest *g, unsigned int cpu, xg_evtchn_handler_fn fn, void *arg,
                       evtchn_port_t *port)
{
    struct evtchn_bind_ipi b = {.vcpu = cpu};
    long rc;

    if (fn == NULL || cpu >= g->ncpus || g->si == NULL)
        return -EINVAL;
    /* IPIs need a port per CPU, so events must reach every CPU. */
    if (!xg_guest_percpu_events(g))
        return -EOPNOTSUPP;
    xg_spin_lock(g->p, &g->lock);
    rc = evtchn_op(g, EVTCHNOP_bind_ipi, &b);
    if (rc == 0)
        rc = install(g, b.port, XG_PORT_IPI, cpu, true, fn, arg);
    if (rc == 0)
        *port = b.port;
    xg_spin_unlock(g->p, &g->lock);
    return (int)rc;
}

int xg_evtchn_bind_interdomain(struct xg_guest *g, domid_t remote, evtchn_port_t remote_port,
                               xg_evtchn_handler_fn fn, void *arg, evtchn_port_t *port)
{
    struct evtchn_bind_interdomain b = {.remote_dom = remote, .remote_port = remote_port};
    long rc;

    if (fn == NULL || g->si == NULL)
        return -EINVAL;
    xg_spin_lock(g->p, &g->lock);
    rc = evtchn_op(g, EVTCHNOP_bind_interdomain, &b);
    if (rc == 0)
        rc = install(g, b.local_port, XG_PORT_INTERDOMAIN, 0, false, fn, arg);
    if (rc == 0)
        *port = b.local_port;
    xg_spin_unlock(g->p, &g->lock);
    if (rc == 0)
        (void)balance_new(g, b.local_port);
    return (int)rc;
}

int xg_evtchn_alloc_unbound(struct xg_guest *g, domid_t remote, xg_evtchn_handler_fn fn, void *arg,
                            evtchn_port_t *port)
{
    struct evtchn_alloc_unbound a = {.dom = DOMID_SELF, .remote_dom = remote};
    long rc;

    if (fn == NULL || g->si == NULL)
        return -EINVAL;
    xg_spin_lock(g->p, &g->lock);
    rc = evtchn_op(g, EVTCHNOP_alloc_unbound, &a);
    if (rc == 0)
        rc = install(g, a.port, XG_PORT_UNBOUND, 0, false, fn, arg);
    if (rc == 0)
        *port = a.port;
    xg_spin_unlock(g->p, &g->lock);
    if (rc == 0)
        (void)balance_new(g, a.port);
    return (int)rc;
}

int xg_evtchn_bind_local(struct xg_guest *g, evtchn_port_t port, xg_evtchn_handler_fn fn, void *arg)
{
    struct evtchn_status st = {.dom = DOMID_SELF, .port = port};
    long rc;

    if (fn == NULL || !port_ok(g, port))
        return -EINVAL;
    xg_spin_lock(g->p, &g->lock);
    if (port_bound(g, port)) {
        xg_spin_unlock(g->p, &g->lock);
        return -EEXIST;
    }
    rc = evtchn_op(g, EVTCHNOP_status, &st);
    if (rc == 0 && (st.status == EVTCHNSTAT_closed || st.vcpu != 0))
        rc = -EINVAL;
    if (rc == 0)
        rc = install(g, port, XG_PORT_LOCAL, 0, false, fn, arg);
    xg_spin_unlock(g->p, &g->lock);
    if (rc == 0)
        (void)balance_new(g, port);
    return (int)rc;
}

/* ---- mask, unmask, send ---- */

int xg_evtchn_unmask(struct xg_guest *g, evtchn_port_t port)
{
    struct xg_port *pt;

    if (!port_ok(g, port) || !port_bound(g, port))
        return -EINVAL;
    pt = &g->ports[port];
    pt->user_masked = false;
    if (pt->throttled)
        return 0; /* released by the throttle's backoff */
    return g->ops->unmask(g, port);
}

int xg_evtchn_mask(struct xg_guest *g, evtchn_port_t port)
{
    if (!port_ok(g, port) || !port_bound(g, port))
        return -EINVAL;
    g->ports[port].user_masked = true;
    (void)g->ops->mask(g, port);
    return 0;
}

int xg_evtchn_notify(struct xg_guest *g, evtchn_port_t port)
{
    struct evtchn_send s = {.port = port};

    if (!port_ok(g, port))
        return -EINVAL;
    return (int)evtchn_op(g, EVTCHNOP_send, &s);
}

/* ---- close ---- */

int xg_evtchn_close(struct xg_guest *g, evtchn_port_t port)
{
    const struct xg_platform *p = g->p;
    struct xg_port *pt;
    struct evtchn_close cl = {.port = port};
    unsigned int cpu = xg_cpu(p), old_cpu;
    uint32_t self;
    long rc;

    if (!port_ok(g, port))
        return -EINVAL;
    xg_spin_lock(p, &g->lock);
    if (!port_bound(g, port)) {
        xg_spin_unlock(p, &g->lock);
        return -EINVAL;
    }
    pt = &g->ports[port];
    if (pt->closing) {
        xg_spin_unlock(p, &g->lock);
        return -EINVAL;
    }
    /* Invariant 7, in order: stop new handler runs, mask, drop what is
     * pending, let Xen free the port, point the map back at CPU 0. */
    xg_write_u8(p, (volatile uint8_t *)&pt->closing, 1);
    xg_mb(p);
    (void)g->ops->mask(g, port);
    g->ops->clear_pending(g, port);
    rc = evtchn_op(g, EVTCHNOP_close, &cl);
    old_cpu = pt->cpu;
    g->ops->close_port(g, port);
    if (pt->throttled) {
        XG_BUG_ON(p, g->cpus[old_cpu].nthrottled == 0);
        pt->throttled = false;
        g->cpus[old_cpu].nthrottled--;
    }
    XG_BUG_ON(p, g->cpus[old_cpu].nports == 0);
    g->cpus[old_cpu].nports--;
    /* XSA-331: unmap only when no handler of this port still runs on
     * another CPU (ours, if we close from inside it, counts once). */
    self = g->cpus[cpu].in_port == (int)port ? 1 : 0;
    while (xg_read_u32(p, &pt->running) > self)
        xg_point(p, XG_POINT_SPIN, &pt->running);
    pt->fn = NULL;
    pt->arg = NULL;
    pt->kind = XG_PORT_FREE;
    pt->percpu = false;
    xg_spin_unlock(p, &g->lock);
    return (int)rc;
}

/* ---- moving ports ---- */

static int set_cpu_locked(struct xg_guest *g, evtchn_port_t port, unsigned int cpu)
{
    struct xg_port *pt = &g->ports[port];
    struct evtchn_bind_vcpu b = {.port = port, .vcpu = cpu};
    bool was_masked;
    long rc;

    if (!port_bound(g, port) || pt->closing)
        return -EINVAL;
    if (pt->percpu)
        return -EINVAL;
    if (pt->cpu == cpu)
        return 0;
    /* Invariant 5: mask while Xen and our map disagree, move the map only
     * once Xen agreed, and unmask (with its pending re-check, which replays
     * the chain to the new vCPU) only if the port was unmasked before. */
    was_masked = g->ops->mask(g, port);
    rc = evtchn_op(g, EVTCHNOP_bind_vcpu, &b);
    if (rc == 0) {
        XG_BUG_ON(g->p, g->cpus[pt->cpu].nports == 0);
        g->cpus[pt->cpu].nports--;
        g->ops->bind_to_cpu(g, port, cpu);
        g->cpus[cpu].nports++;
    }
    if (!was_masked)
        g->ops->unmask(g, port);
    return (int)rc;
}

int xg_evtchn_set_cpu(struct xg_guest *g, evtchn_port_t port, unsigned int cpu)
{
    int rc;

    if (!port_ok(g, port) || cpu >= g->ncpus || !g->cpus[cpu].up)
        return -EINVAL;
    if (!xg_guest_percpu_events(g))
        return -EOPNOTSUPP;
    xg_spin_lock(g->p, &g->lock);
    rc = set_cpu_locked(g, port, cpu);
    xg_spin_unlock(g->p, &g->lock);
    return rc;
}

int xg_evtchn_get_cpu(const struct xg_guest *g, evtchn_port_t port)
{
    if (port == 0 || !port_bound(g, port))
        return -EINVAL;
    return g->ports[port].cpu;
}

int xg_evtchn_set_priority(struct xg_guest *g, evtchn_port_t port, unsigned int priority)
{
    if (!port_ok(g, port) || !port_bound(g, port) || priority > EVTCHN_FIFO_PRIORITY_MIN)
        return -EINVAL;
    if (g->ops->set_priority == NULL)
        return -EOPNOTSUPP;
    return g->ops->set_priority(g, port, priority);
}

int xg_evtchn_rebalance(struct xg_guest *g)
{
    uint64_t cur[XG_MAX_CPUS], plan[XG_MAX_CPUS];
    uint64_t cur_max = 0, plan_max = 0;
    int moved = 0;

    if (!xg_guest_percpu_events(g))
        return -EOPNOTSUPP;
    xg_spin_lock(g->p, &g->lock);
    memset(cur, 0, sizeof(cur));
    memset(plan, 0, sizeof(plan));
    /* Ports that cannot move keep their load where it is. */
    for (evtchn_port_t port = 1; port < g->port_hwm; port++) {
        struct xg_port *pt = &g->ports[port];
        pt->rb_dest = pt->cpu;
        pt->rb_placed = false;
        if (pt->kind == XG_PORT_FREE)
            continue;
        cur[pt->cpu] += pt->load;
        if (pt->percpu || pt->closing)
            plan[pt->cpu] += pt->load;
    }
    /* Longest processing time first (Graham 1969): give each movable port,
     * busiest first, to the CPU with the least planned load, preferring
     * the CPU it is on when that is as good. Selection by repeated maximum
     * keeps this free of any sort buffer. */
    for (;;) {
        evtchn_port_t best = 0;
        for (evtchn_port_t port = 1; port < g->port_hwm; port++) {
            const struct xg_port *pt = &g->ports[port];
            if (pt->kind == XG_PORT_FREE || pt->percpu || pt->closing || pt->load == 0 ||
                pt->rb_placed)
                continue;
            if (best == 0 || pt->load > g->ports[best].load)
                best = port;
        }
        if (best == 0)
            break;
        unsigned int home = g->ports[best].cpu, to = home;
        for (unsigned int c = 0; c < g->ncpus; c++) {
            if (g->cpus[c].up && plan[c] < plan[to])
                to = c;
        }
        plan[to] += g->ports[best].load;
        g->ports[best].rb_dest = (uint16_t)to;
        g->ports[best].rb_placed = true;
    }
    for (unsigned int c = 0; c < g->ncpus; c++) {
        if (cur[c] > cur_max)
            cur_max = cur[c];
        if (plan[c] > plan_max)
            plan_max = plan[c];
    }
    /* Move only if the busiest CPU gets less busy. */
    for (evtchn_port_t port = 1; port < g->port_hwm; port++) {
        struct xg_port *pt = &g->ports[port];
        if (plan_max < cur_max && pt->rb_dest != pt->cpu &&
            set_cpu_locked(g, port, pt->rb_dest) == 0)
            moved++;
        pt->load = 0;
    }
    xg_spin_unlock(g->p, &g->lock);
    return moved;
}

/* ---- resume on a new host ---- */

void xg_evtchn_forget_all(struct xg_guest *g)
{
    /* Every port is closed on the new host: Xen's notify vCPU of each is
     * vCPU 0 again, so the maps must say CPU 0 (invariant 3). Called with
     * no handler running anywhere (other CPUs parked). */
    memset(g->ports, 0, g->port_hwm * sizeof(g->ports[0]));
    for (unsigned int c = 0; c < XG_MAX_CPUS; c++) {
        struct xg_cpu *cp = &g->cpus[c];
        for (unsigned int w = 0; w < XG_2L_MAX_PORTS / 64; w++)
            cp->port_mask[w] = c == 0 ? ~(uint64_t)0 : 0;
        cp->next_port = 0;
        cp->nports = 0;
        cp->nthrottled = 0;
        cp->in_port = -1;
        /* FIFO: the new host has no control block and no queue. */
        cp->fifo_cb = NULL;
        memset(cp->fifo_head, 0, sizeof(cp->fifo_head));
        cp->fifo_ready = 0;
    }
    g->fifo_added = 0;
}

/* ---- statistics ---- */

int xg_evtchn_port_stats(const struct xg_guest *g, evtchn_port_t port,
                         struct xg_evtchn_port_stats *out)
{
    if (port == 0 || port >= XG_MAX_PORTS)
        return -EINVAL;
    if (port >= g->port_hwm) {
        memset(out, 0, sizeof(*out));
        return 0;
    }
    const struct xg_port *pt = &g->ports[port];
    out->handled = pt->handled;
    out->spurious = pt->spurious;
    out->throttled = pt->throttled_count;
    out->cpu = pt->cpu;
    out->bound = pt->kind != XG_PORT_FREE;
    return 0;
}

int xg_cpu_stats(const struct xg_guest *g, unsigned int cpu, struct xg_cpu_stats *out)
{
    if (cpu >= g->ncpus)
        return -EINVAL;
    const struct xg_cpu *c = &g->cpus[cpu];
    out->upcalls = c->upcalls;
    out->empty_upcalls = c->empty_upcalls;
    out->events = c->events;
    out->deferred = c->deferred;
    out->ports = c->nports;
    return 0;
}
