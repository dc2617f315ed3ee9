/*
 * host.c - the machine's side of the guest-program interface (host.h).
 *
 * The workload drivers live here, on the machine's side of the line: the
 * ticks a CPU must arm, the IPIs CPU 0 must send, the block I/O a CPU must
 * issue, the items a device queued. A program only carries them out, so a
 * program that drops one is caught by the counters kept here.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guestprog/host.h"
#include "world/zmem.h"
#include "xensim/evsource.h"

static struct xsim_gp_host *host_of(const struct xsim_guest_env *env)
{
    return env->host;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

static uint64_t prog_clock(struct xsim_gp_host *h)
{
    return h->prog->clock_ns(h->state);
}

static void clock_sample(struct xsim_gp_host *h, unsigned int cpu, uint64_t now)
{
    struct xsim_gp_cpu *cs = &h->cs[cpu];

    if (now < cs->last_clock)
        cs->backwards++;
    cs->last_clock = now;
}

/* Where the program's clock stands against virtual time: between resumes
 * the two advance together (a pvclock, HPET or calibrated TSC reading
 * differs from the machine's time only by the cost of reading it), so
 * the offset's range on one CPU is how far the clock wandered. */
static void clock_offset(struct xsim_gp_host *h, unsigned int cpu, uint64_t now)
{
    struct xsim_gp_cpu *cs = &h->cs[cpu];
    uint64_t vt = xsim_world_now(h->w);
    int64_t off = (int64_t)(now - vt);

    if (!cs->off_set) {
        cs->off_set = true;
        cs->off_lo = cs->off_hi = off;
        return;
    }
    if (off < cs->off_lo)
        cs->off_lo = off;
    if (off > cs->off_hi)
        cs->off_hi = off;
    if ((uint64_t)(cs->off_hi - cs->off_lo) > cs->off_worst) {
        cs->off_worst = (uint64_t)(cs->off_hi - cs->off_lo);
        cs->off_worst_at = vt;
    }
}

static bool valid_cpu(const struct xsim_gp_host *h, unsigned int cpu)
{
    return cpu < (unsigned int)h->s->machine.vcpus;
}

/* ---- block I/O ---- */

static int blkio_submit(void *arg, struct xg_blk_io *io)
{
    struct xsim_gp_blk_target *t = arg;

    return t->h->prog->blk_submit(t->h->state, t->disk, io);
}

static uint64_t blkio_clock(void *arg)
{
    struct xsim_gp_blk_target *t = arg;

    return prog_clock(t->h);
}

static void note_setup_failure(struct xsim_gp_host *h, const char *what, int err)
{
    if (h->setup_err[0] == '\0')
        snprintf(h->setup_err, sizeof(h->setup_err), "%s failed: %s", what,
                 err < 0 ? strerror(-err) : "an error");
}

/* The block-io workloads, created on CPU 0 once the program is set up:
 * their buffers come from guest RAM. */
static void blkio_up(struct xsim_gp_host *h)
{
    const struct xsim_scenario *s = h->s;

    if (!(h->prog->implements & XSIM_GUEST_BLOCK_IO))
        return;
    for (size_t i = 0; i < s->nworkloads; i++) {
        const struct xsim_scn_workload *wl = &s->workloads[i];
        const struct xsim_scn_disk *d;
        int err;
        if (wl->type != XSIM_WL_BLOCK_IO || wl->disk_index < 0 || h->bio[i] != NULL)
            continue;
        d = &s->disks[wl->disk_index];
        struct xsim_blkio_params bp = {
            .wl = wl,
            .p = h->env.p,
            .submit = blkio_submit,
            .clock = blkio_clock,
            .arg = &h->tgt[wl->disk_index],
            .disk_sectors = d->sectors,
            .stop_ns = wl->stop_ns != 0 ? wl->stop_ns : UINT64_MAX,
            .seed = xsim_world_seed(h->w) ^ xsim_fnv1a64(wl->name),
            .initial_zero = d->kind == XSIM_DISK_DISK && d->storage == XSIM_DISK_MEM,
        };
        if ((err = xsim_blkio_create(&bp, &h->bio[i])) != 0)
            note_setup_failure(h, "block-io workload buffers", err);
    }
}

/* ---- the env's calls ---- */

static void env_ready(const struct xsim_guest_env *env)
{
    struct xsim_gp_host *h = host_of(env);

    if (h->ready)
        return;
    blkio_up(h);
    xg_write_u32(env->p, &h->ready, 1);
}

static void env_setup_failed(const struct xsim_guest_env *env, const char *what, int err)
{
    note_setup_failure(host_of(env), what != NULL ? what : "set-up", err);
}

static int env_start_device(const struct xsim_guest_env *env, unsigned int dev)
{
    struct xsim_gp_host *h = host_of(env);

    if (dev >= env->ndevices)
        return -EINVAL;
    return xsim_evsource_start(h->src[h->dev[dev].workload]);
}

static uint64_t env_serve(const struct xsim_guest_env *env, unsigned int dev, unsigned int cpu)
{
    struct xsim_gp_host *h = host_of(env);
    size_t i;

    if (dev >= env->ndevices || !valid_cpu(h, cpu))
        return 0;
    i = h->dev[dev].workload;
    h->handled[i]++;
    if (h->dev[dev].spurious)
        return 0; /* it only notifies: nothing is ever queued */
    return xsim_events_serve(h->ev[i], env->p, cpu);
}

/* ---- close and reuse ---- */

static void env_port_closed(const struct xsim_guest_env *env, unsigned int dev, uint32_t port)
{
    struct xsim_gp_host *h = host_of(env);
    struct xsim_gp_close *c;

    if (dev >= env->ndevices)
        return;
    c = &h->close[dev];
    if (c->closed == c->log_cap) {
        size_t cap = c->log_cap ? 2 * c->log_cap : 64;
        struct xsim_gp_closed *n = realloc(c->log, cap * sizeof(*n));
        if (n == NULL) {
            note_setup_failure(h, "recording a port close", -ENOMEM);
            return;
        }
        c->log = n;
        c->log_cap = cap;
    }
    if (c->closed > 0 && port == c->log[c->closed - 1].port)
        c->reused++;
    c->log[c->closed++] = (struct xsim_gp_closed){.port = port, .at_ns = xsim_world_now(h->w)};
}

/* A handler of binding `binding` runs now: after that binding's close
 * returned is a use after close. */
static bool binding_dead(struct xsim_gp_host *h, unsigned int dev, uint32_t binding,
                         unsigned int cpu)
{
    struct xsim_gp_close *c = &h->close[dev];

    if (binding >= c->closed)
        return false;
    if (c->after_close++ == 0) {
        c->bad_port = c->log[binding].port;
        c->bad_binding = binding;
        c->bad_cpu = cpu;
        c->bad_ns = xsim_world_now(h->w);
        c->bad_close_ns = c->log[binding].at_ns;
    }
    return true;
}

static uint64_t env_serve_binding(const struct xsim_guest_env *env, unsigned int dev,
                                  uint32_t binding, unsigned int cpu)
{
    struct xsim_gp_host *h = host_of(env);
    uint64_t n;

    if (dev >= env->ndevices || !valid_cpu(h, cpu))
        return 0;
    /* Started after its close returned: the driver's state is gone, so
     * nothing it would do counts as served. */
    if (binding_dead(h, dev, binding, cpu))
        return 0;
    n = env_serve(env, dev, cpu);
    /* Still running when its close returned (serving takes time: the
     * close on another CPU did not wait for it). */
    (void)binding_dead(h, dev, binding, cpu);
    return n;
}

static int env_reconnect(const struct xsim_guest_env *env, unsigned int dev, uint32_t *new_port)
{
    struct xsim_gp_host *h = host_of(env);
    struct xsim_evsource *src;
    int err;

    if (dev >= env->ndevices)
        return -EINVAL;
    src = h->src[h->dev[dev].workload];
    if ((err = xsim_evsource_reconnect(src)) != 0)
        return err;
    h->dev[dev].backend_port = xsim_evsource_port(src);
    if (new_port != NULL)
        *new_port = h->dev[dev].backend_port;
    return 0;
}

/* CPU 0 sends the IPI workload's IPIs, round robin over the others, at
 * Poisson times; every send is counted here, before the program tries it. */
static uint64_t ipi_work(struct xsim_gp_host *h, uint64_t now)
{
    const struct xsim_scn_workload *wl = h->ipi_wl;
    unsigned int n = (unsigned int)h->s->machine.vcpus;

    if (h->ipi_next == 0)
        h->ipi_next = now + 1 + (uint64_t)xsim_rng_exp(&h->ipi_rng, 1e9 / wl->rate);
    while (h->ipi_next <= now) {
        unsigned int target = 1 + h->ipi_rr++ % (n - 1);
        h->cs[target].ipi_sent++;
        if (h->prog->send_ipi(h->state, target) < 0)
            h->cs[target].ipi_failed++;
        h->ipi_next += 1 + (uint64_t)xsim_rng_exp(&h->ipi_rng, 1e9 / wl->rate);
    }
    return h->ipi_next;
}

/* ---- XenStore ---- */

static int xs_op(void *arg, unsigned int cpu, struct xsim_xs_op *op)
{
    struct xsim_gp_host *h = arg;

    return h->prog->xs_request(h->state, cpu, op);
}

static void env_xs_watch_fired(const struct xsim_guest_env *env, unsigned int cpu, const char *path,
                               const char *token)
{
    struct xsim_gp_host *h = host_of(env);

    if (!valid_cpu(h, cpu) || path == NULL || token == NULL)
        return;
    for (size_t i = 0; i < h->s->nworkloads; i++) {
        if (h->xsl[i] != NULL && strcmp(xsim_xsload_token(h->xsl[i]), token) == 0)
            xsim_xsload_seen(h->xsl[i], cpu, path, xsim_world_now(h->w));
    }
}

/* The daemon's side of the watch events (xs_host.c's observer). */
static void xs_event_queued(void *arg, domid_t domid, const char *path, uint32_t plen,
                            const char *token, uint32_t tlen)
{
    struct xsim_gp_host *h = arg;

    if (domid != h->domid)
        return;
    for (size_t i = 0; i < h->s->nworkloads; i++) {
        if (h->xsl[i] != NULL)
            xsim_xsload_fired(h->xsl[i], path, plen, token, tlen, xsim_world_now(h->w));
    }
}

static void xs_conn_reset(void *arg, domid_t domid)
{
    struct xsim_gp_host *h = arg;

    if (domid != h->domid)
        return;
    for (size_t i = 0; i < h->s->nworkloads; i++) {
        if (h->xsl[i] != NULL)
            xsim_xsload_reset(h->xsl[i]);
    }
}

int xsim_gp_host_add_xenstore(struct xsim_gp_host *h, struct xsim_world *w, struct xsim_xshost *xs,
                              uint16_t domid, uint64_t storm_stop_ns)
{
    const struct xsim_scenario *s = h->s;
    bool any = false;
    int err;

    h->w = w;
    h->domid = domid;
    for (size_t i = 0; i < s->nworkloads; i++) {
        if (s->workloads[i].type != XSIM_WL_XENSTORE)
            continue;
        struct xsim_xsload_params xp = {.wl = &s->workloads[i],
                                        .w = w,
                                        .ncpus = (unsigned int)s->machine.vcpus,
                                        .xs = xs,
                                        .domid = domid,
                                        .storm_stop_ns = storm_stop_ns,
                                        .drain = &h->draining};
        if ((err = xsim_xsload_create(&xp, &h->xsl[i])) != 0)
            return err;
        any = true;
    }
    if (any && xs != NULL) {
        struct xsim_xshost_observer obs = {
            .event = xs_event_queued, .reset = xs_conn_reset, .arg = h};
        xsim_xshost_set_observer(xs, &obs);
    }
    return 0;
}

static uint64_t env_work(const struct xsim_guest_env *env, unsigned int cpu)
{
    struct xsim_gp_host *h = host_of(env);
    struct xsim_gp_cpu *cs;
    uint64_t now, next = UINT64_MAX;
    bool drain;

    if (!valid_cpu(h, cpu) || h->prog->clock_ns == NULL)
        return UINT64_MAX;
    cs = &h->cs[cpu];
    cs->has_timer = true;
    /* Read and note the clock with interrupts off: an expiry taken in
     * between would note a later time first and this one would look like
     * the clock going back. */
    bool was = xg_irq_save(env->p);
    now = prog_clock(h);
    clock_sample(h, cpu, now);
    if (h->s->oracles.clock_accuracy_ns != 0)
        clock_offset(h, cpu, now);
    xg_irq_restore(env->p, was);
    drain = xg_read_u32(env->p, &h->draining) != 0;
    if (h->timer_wl != NULL && !drain && !cs->tick_pending && now >= h->timer_wl->start_ns) {
        cs->tick_deadline = now + h->timer_wl->period_ns;
        cs->tick_pending = true;
        cs->armed++;
    }
    if (cs->tick_pending)
        next = cs->tick_deadline;
    for (size_t i = 0; i < h->s->nworkloads && !drain; i++) {
        if (h->bio[i] != NULL && h->s->workloads[i].vcpu == (int)cpu)
            next = min_u64(next, xsim_blkio_poll(h->bio[i], now));
    }
    if (cpu == 0 && h->ipi_wl != NULL && h->s->machine.vcpus > 1 && h->ready && !drain)
        next = min_u64(next, ipi_work(h, now));
    for (size_t i = 0; i < h->s->nworkloads && h->ready && !drain; i++) {
        if (h->xsl[i] != NULL && (h->prog->implements & XSIM_GUEST_XENSTORE))
            next = min_u64(next, xsim_xsload_poll(h->xsl[i], cpu, now, xs_op, h));
    }
    return next;
}

static void env_timer_expired(const struct xsim_guest_env *env, unsigned int cpu,
                              uint64_t deadline_ns, uint64_t now_ns)
{
    struct xsim_gp_host *h = host_of(env);
    struct xsim_gp_cpu *cs;

    if (!valid_cpu(h, cpu))
        return;
    cs = &h->cs[cpu];
    clock_sample(h, cpu, now_ns);
    if (now_ns < deadline_ns)
        cs->early++;
    if (cs->tick_pending && now_ns >= cs->tick_deadline) {
        cs->tick_pending = false;
        cs->fired++;
        cs->last_fire = now_ns;
    }
}

static void env_ipi_handled(const struct xsim_guest_env *env, unsigned int cpu)
{
    struct xsim_gp_host *h = host_of(env);
    struct xsim_gp_cpu *cs;

    if (!valid_cpu(h, cpu))
        return;
    cs = &h->cs[cpu];
    /* Like a call-function queue: the run takes everything sent so far. */
    cs->ipi_seen = cs->ipi_sent;
    cs->ipi_runs++;
}

static void env_suspended(const struct xsim_guest_env *env, int rc, uint64_t clock_before_ns)
{
    struct xsim_gp_host *h = host_of(env);

    if (h->prog->clock_ns != NULL && prog_clock(h) < clock_before_ns)
        h->suspend_backwards++;
    /* A new host, a new offset (the program keeps its clock monotonic
     * across the move, not in step with the new host's time). */
    for (unsigned int c = 0; c < (unsigned int)h->s->machine.vcpus; c++)
        h->cs[c].off_set = false;
    for (size_t i = 0; i < h->s->nworkloads; i++) {
        if (h->xsl[i] != NULL)
            xsim_xsload_resumed(h->xsl[i], xsim_world_now(h->w));
    }
    if (rc == 0)
        h->suspend_rc0++;
    else if (rc == 1)
        h->suspend_rc1++;
    else
        h->suspend_fail++;
    if (h->resuming) {
        uint64_t now = xsim_world_now(h->w);
        uint64_t d = now > h->resumed_at_ns ? now - h->resumed_at_ns : 0;
        h->resume_ns_max = d > h->resume_ns_max ? d : h->resume_ns_max;
        h->resuming = false;
    }
}

void xsim_gp_host_resumed(struct xsim_gp_host *h, uint64_t now_ns)
{
    h->resuming = true;
    h->resumed_at_ns = now_ns;
}

static bool env_draining(const struct xsim_guest_env *env)
{
    return xg_read_u32(env->p, &host_of(env)->draining) != 0;
}

/* ---- the runner's side ---- */

int xsim_gp_host_init(struct xsim_gp_host *h, const struct xsim_scenario *s,
                      const struct xsim_guest_program *prog)
{
    memset(h, 0, sizeof(*h));
    h->s = s;
    h->prog = prog;
    h->cs = calloc((size_t)s->machine.vcpus, sizeof(*h->cs));
    /* A guest's state holds its port table (11 MiB for the FIFO range):
     * mapped, so that only what the run touches is backed. */
    h->state = xsim__zalloc(prog->state_size);
    if (h->cs == NULL || h->state == NULL)
        return -ENOMEM;
    h->ops.start = prog->start;
    h->ops.interrupt = prog->interrupt;
    for (size_t i = 0; i < s->nworkloads; i++) {
        const struct xsim_scn_workload *wl = &s->workloads[i];
        if (wl->type == XSIM_WL_TIMER && h->timer_wl == NULL)
            h->timer_wl = wl;
        if (wl->type == XSIM_WL_IPI && h->ipi_wl == NULL)
            h->ipi_wl = wl;
        if (wl->type == XSIM_WL_LOST_UPDATE) {
            h->env.lost_update_iterations += (uint64_t)wl->iterations;
            h->lu_expected += 2 * (uint64_t)wl->iterations;
        }
    }
    for (size_t d = 0; d < s->ndisks; d++) {
        const struct xsim_scn_disk *sd = &s->disks[d];
        h->disk[d] = (struct xsim_guest_disk){.name = sd->name,
                                              .devid = sd->devid,
                                              .cdrom = sd->kind == XSIM_DISK_CDROM,
                                              .ring_pages = (unsigned int)sd->ring_pages,
                                              .indirect = sd->indirect};
        h->tgt[d] = (struct xsim_gp_blk_target){.h = h, .disk = (unsigned int)d};
    }
    return 0;
}

const struct xsim_guest_ops *xsim_gp_host_ops(struct xsim_gp_host *h)
{
    return &h->ops;
}

void xsim_gp_host_add_device(struct xsim_gp_host *h, size_t wl, struct xsim_evsource *src,
                             struct xsim_events *ev)
{
    const struct xsim_scn_workload *w = &h->s->workloads[wl];
    unsigned int n = h->env.ndevices;

    h->src[wl] = src;
    h->ev[wl] = ev;
    h->dev[n] = (struct xsim_guest_device){.name = w->name,
                                           .workload = (unsigned int)wl,
                                           .backend_domid = 0,
                                           .backend_port = xsim_evsource_port(src),
                                           .cpu = w->vcpu,
                                           .spurious = w->spurious};
    h->env.ndevices = n + 1;
}

int xsim_gp_host_start(struct xsim_gp_host *h, struct xsim_world *w, const struct xg_platform *p,
                       bool xenstore)
{
    struct xsim_guest_env *env = &h->env;
    int err;

    h->w = w;
    if (h->ipi_wl != NULL) {
        char stream[48];
        snprintf(stream, sizeof(stream), "workload:%s", h->ipi_wl->name);
        xsim_world_rng(w, stream, &h->ipi_rng);
    }

    env->abi_version = XSIM_GUEST_ABI_VERSION;
    env->p = p;
    env->ncpus = (unsigned int)h->s->machine.vcpus;
    env->scenario_name = h->s->name;
    env->scenario = h->s;
    env->xenstore = xenstore;
    env->devices = h->dev;
    env->ndisks = (unsigned int)h->s->ndisks;
    env->disks = h->disk;
    env->lost_update_counter = &h->lu_counter;
    env->ready = env_ready;
    env->setup_failed = env_setup_failed;
    env->start_device = env_start_device;
    env->serve = env_serve;
    env->reconnect = env_reconnect;
    env->work = env_work;
    env->timer_expired = env_timer_expired;
    env->ipi_handled = env_ipi_handled;
    env->suspended = env_suspended;
    env->draining = env_draining;
    env->port_closed = env_port_closed;
    env->serve_binding = env_serve_binding;
    env->xs_watch_fired = env_xs_watch_fired;
    env->host = h;
    if ((err = h->prog->init(h->state, env)) != 0)
        return err;
    h->init_done = true;
    return 0;
}

void xsim_gp_host_drain(struct xsim_gp_host *h)
{
    h->draining = 1;
}

void xsim_gp_host_fini(struct xsim_gp_host *h)
{
    if (h->init_done && h->prog->fini != NULL)
        h->prog->fini(h->state);
    for (size_t i = 0; i < XSIM_SCN_MAX_WORKLOADS; i++) {
        xsim_blkio_destroy(h->bio[i]);
        free(h->close[i].log);
        xsim_xsload_destroy(h->xsl[i]);
    }
    xsim__zfree(h->state, h->prog != NULL ? h->prog->state_size : 0);
    free(h->cs);
    memset(h, 0, sizeof(*h));
}
