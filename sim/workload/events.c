/*
 * events.c - the guest side of an events workload: its handler serves the
 * device's queue item by item, each item charged its own service time
 * drawn from the workload's distribution, and measures every item's wait
 * (send to service start) and sojourn (send to service end).
 *
 * Notifications coalesce exactly as Xen has them: a send while the port is
 * still pending sets nothing new, and the handler run that follows serves
 * every item the queue holds, including those that arrive while it works.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "workload.h"
#include "xensim/guest/xg.h"

struct xsim_events {
    const struct xsim_scn_workload *wl;
    struct xsim_evsource *src;
    struct xsim_world *w;
    struct xsim_events_total *total;
    struct xsim_rng rng;
    unsigned int ncpus;
    struct xsim_hist wait, sojourn, service;
    struct xsim_batchmeans bm;
    uint64_t empty_runs, acausal;
    uint64_t *wakes_seen;                  /* per CPU: the wake count at the last item served */
    uint64_t *cpu_service_ns;              /* per CPU: service charged by this workload */
    uint64_t *cpu_served;                  /* per CPU: items served */
    uint64_t idle_n; /* items whose send woke their CPU */
    /* Their waits, and where those went: exact integer sums (one add per
     * wake and cost kind; long double adds cost more than the rest of the
     * item's bookkeeping). */
    struct xsim_sum idle_wait;
    struct xsim_sum idle_ns[XSIM_COST__COUNT];
    uint64_t *batch;                       /* batch service: send times of one run */
    size_t batch_cap;
};

int xsim_events_create(const struct xsim_events_params *prm, struct xsim_events **out)
{
    struct xsim_events *e;
    char stream[48];

    *out = NULL;
    if (prm->ncpus == 0)
        return -EINVAL;
    e = calloc(1, sizeof(*e));
    if (e == NULL)
        return -ENOMEM;
    e->wl = prm->wl;
    e->src = prm->src;
    e->w = prm->w;
    e->total = prm->total;
    e->ncpus = prm->ncpus;
    e->wakes_seen = calloc(prm->ncpus, sizeof(*e->wakes_seen));
    e->cpu_service_ns = calloc(prm->ncpus, sizeof(*e->cpu_service_ns));
    e->cpu_served = calloc(prm->ncpus, sizeof(*e->cpu_served));
    if (e->wakes_seen == NULL || e->cpu_service_ns == NULL || e->cpu_served == NULL) {
        xsim_events_destroy(e);
        return -ENOMEM;
    }
    /* Its own stream: service draws never shift the arrivals. */
    snprintf(stream, sizeof(stream), "service:%s", prm->wl->name);
    xsim_world_rng(prm->w, stream, &e->rng);
    xsim_bm_init(&e->bm);
    *out = e;
    return 0;
}

void xsim_events_destroy(struct xsim_events *e)
{
    if (e == NULL)
        return;
    xsim_hist_free(&e->wait);
    xsim_hist_free(&e->sojourn);
    xsim_hist_free(&e->service);
    free(e->wakes_seen);
    free(e->cpu_service_ns);
    free(e->cpu_served);
    free(e->batch);
    free(e);
}

static double normal(struct xsim_rng *rng)
{
    /* Box-Muller; 1 - u keeps the logarithm's argument in (0, 1]. */
    double u1 = 1.0 - xsim_rng_unit(rng), u2 = xsim_rng_unit(rng);

    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

/* One service time in ns from the workload's distribution. */
static uint64_t draw(struct xsim_events *e)
{
    const struct xsim_scn_workload *wl = e->wl;
    double mean = (double)wl->service_ns, x, cv2 = wl->service_cv * wl->service_cv;

    switch (wl->service_kind) {
    case XSIM_SVC_EXP:
        x = xsim_rng_exp(&e->rng, mean);
        break;
    case XSIM_SVC_LOGNORMAL: {
        /* The mean and CV of the lognormal fix its log-space parameters:
         * sigma^2 = ln(1 + cv^2), mu = ln(mean) - sigma^2 / 2. */
        double s2 = log1p(cv2);
        x = mean > 0 ? exp(log(mean) - s2 / 2 + sqrt(s2) * normal(&e->rng)) : 0;
        break;
    }
    case XSIM_SVC_HYPEREXP: {
        /* Two exponential phases with balanced means (p/mu1 = (1-p)/mu2),
         * which with the mean and CV fixes p (Allen, Probability,
         * Statistics and Queueing Theory, 2nd ed., sec. 3.2.9). */
        double p = 0.5 * (1.0 + sqrt((cv2 - 1.0) / (cv2 + 1.0)));
        if (xsim_rng_unit(&e->rng) < p)
            x = xsim_rng_exp(&e->rng, mean / (2.0 * p));
        else
            x = xsim_rng_exp(&e->rng, mean / (2.0 * (1.0 - p)));
        break;
    }
    case XSIM_SVC_FIXED:
    case XSIM_SVC_BATCH:
    default:
        x = mean;
        break;
    }
    if (!(x > 0))
        return 0;
    if (x > 3.6e12)
        return (uint64_t)3.6e12; /* an hour: keeps sums far from overflow */
    return (uint64_t)llround(x);
}

static void record(struct xsim_events *e, uint64_t sent, uint64_t start, uint64_t end,
                   uint64_t service)
{
    uint64_t wait = start > sent ? start - sent : 0;
    uint64_t soj = end > sent ? end - sent : 0;

    if (sent > start)
        e->acausal++;
    /* Out of memory only loses this item's sample; counts stay right. */
    (void)xsim_hist_add(&e->wait, wait);
    (void)xsim_hist_add(&e->sojourn, soj);
    (void)xsim_hist_add(&e->service, service);
    xsim_bm_add(&e->bm, (double)soj);
    /* The total's histograms are the sum of the workloads' (merged when
     * asked for); its batch means need the items in completion order. */
    if (e->total != NULL)
        xsim_bm_add(&e->total->bm, (double)soj);
    xsim_evsource_complete(e->src);
}

/* The first item served on this CPU since it was last woken: if its send
 * is what woke the CPU, its whole wait is the cost of delivering it (the
 * zero-load latency), and the vCPU's accounting says where that went. */
static void zero_load(struct xsim_events *e, unsigned int cpu, uint64_t sent, uint64_t start)
{
    struct xsim_vcpu *v = xsim_vcpu_current();
    struct xsim_vcpu_account a;

    if (v == NULL || cpu >= e->ncpus || xsim_vcpu_wakes(v) == e->wakes_seen[cpu])
        return;
    xsim_vcpu_account(v, start, &a);
    e->wakes_seen[cpu] = a.wakes;
    /* Its send woke the CPU, and no other item was served before it. */
    if (a.woke_at_ns != sent || start < sent || a.since_wake_ns[XSIM_COST_HANDLER] != 0)
        return;
    e->idle_n++;
    xsim_sum_add(&e->idle_wait, start - sent);
    for (unsigned int r = 0; r < XSIM_COST__COUNT; r++)
        xsim_sum_add(&e->idle_ns[r], a.since_wake_ns[r]);
}

static uint64_t serve_batch(struct xsim_events *e, const struct xg_platform *p, unsigned int cpu)
{
    uint64_t start = xsim_world_now(e->w), end, t, n = 0;

    /* The old model: one charge per handler run, whatever it took. */
    while (xsim_evsource_take(e->src, &t)) {
        if (n == e->batch_cap) {
            size_t cap = e->batch_cap ? 2 * e->batch_cap : 64;
            uint64_t *b = realloc(e->batch, cap * sizeof(*b));
            if (b == NULL) {
                xsim_evsource_complete(e->src); /* served without a sample */
                continue;
            }
            e->batch = b;
            e->batch_cap = cap;
        }
        if (n == 0)
            zero_load(e, cpu, t, start);
        e->batch[n++] = t;
    }
    if (n == 0)
        return 0;
    /* Counted before the charge: a run that stops inside it (at the time
     * limit) has charged the handler for it all the same. */
    if (cpu < e->ncpus)
        e->cpu_service_ns[cpu] += e->wl->service_ns;
    if (e->wl->service_ns > 0)
        xg_work(p, XG_WORK_HANDLER, e->wl->service_ns);
    end = xsim_world_now(e->w);
    if (cpu < e->ncpus)
        e->cpu_served[cpu] += n;
    /* The run's one charge, counted against its first item. */
    for (uint64_t i = 0; i < n; i++)
        record(e, e->batch[i], start, end, i == 0 ? e->wl->service_ns : 0);
    return n;
}

uint64_t xsim_events_serve(struct xsim_events *e, const struct xg_platform *p, unsigned int cpu)
{
    uint64_t n = 0, t;

    if (e->wl->service_kind == XSIM_SVC_BATCH) {
        n = serve_batch(e, p, cpu);
    } else {
        /* Item by item until the queue is empty: what arrives while an
         * item is served is in the queue when the next one is taken. */
        while (xsim_evsource_take(e->src, &t)) {
            uint64_t start = xsim_world_now(e->w), s = draw(e), end;
            zero_load(e, cpu, t, start);
            /* The service is counted before it is charged: the run may
             * stop inside the charge (an item still in service at the
             * time limit), and the handler time then includes it. */
            if (cpu < e->ncpus)
                e->cpu_service_ns[cpu] += s;
            if (s > 0)
                xg_work(p, XG_WORK_HANDLER, s);
            /* end - start can exceed s: an exit (a kick, a host timer)
             * taken meanwhile steals time from the handler. The item's
             * sojourn includes it; its service is the work it declared. */
            end = xsim_world_now(e->w);
            if (cpu < e->ncpus)
                e->cpu_served[cpu]++;
            record(e, t, start, end, s);
            n++;
        }
    }
    if (n == 0)
        e->empty_runs++;
    return n;
}

static void summary(const struct xsim_hist *h, struct xsim_dist_summary *s)
{
    static const double q[4] = {0.50, 0.90, 0.99, 0.999};
    uint64_t v[4];

    s->n = h->n;
    s->mean = xsim_hist_mean(h);
    xsim_hist_quantiles(h, q, 4, v);
    s->p50 = v[0];
    s->p90 = v[1];
    s->p99 = v[2];
    s->p999 = v[3];
    s->max = h->max;
}

void xsim_events_result(const struct xsim_events *e, struct xsim_events_result *out)
{
    double m;

    memset(out, 0, sizeof(*out));
    summary(&e->wait, &out->wait);
    summary(&e->sojourn, &out->sojourn);
    summary(&e->service, &out->service);
    out->sojourn_ci_ok = xsim_bm_ci95(&e->bm, &m, &out->sojourn_mean_ci95);
    out->empty_runs = e->empty_runs;
    out->acausal = e->acausal;
    out->idle_n = e->idle_n;
    if (e->idle_n != 0) {
        out->idle_wait_mean = xsim_sum_mean(&e->idle_wait, e->idle_n);
        for (unsigned int r = 0; r < XSIM_COST__COUNT; r++)
            out->idle_ns_mean[r] = xsim_sum_mean(&e->idle_ns[r], e->idle_n);
    }
}

void xsim_events_total_init(struct xsim_events_total *t)
{
    memset(t, 0, sizeof(*t));
    xsim_bm_init(&t->bm);
}

void xsim_events_total_free(struct xsim_events_total *t)
{
    memset(t, 0, sizeof(*t));
}

int xsim_events_total_result(const struct xsim_events_total *t, struct xsim_events *const *ev,
                             size_t nev, struct xsim_events_result *out)
{
    struct xsim_hist wait = {0}, sojourn = {0}, service = {0};
    int err = 0;
    double m;

    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < nev && err == 0; i++) {
        if (ev[i] == NULL || ev[i]->total != t)
            continue;
        err = xsim_hist_merge(&wait, &ev[i]->wait);
        if (err == 0)
            err = xsim_hist_merge(&sojourn, &ev[i]->sojourn);
        if (err == 0)
            err = xsim_hist_merge(&service, &ev[i]->service);
    }
    if (err == 0) {
        summary(&wait, &out->wait);
        summary(&sojourn, &out->sojourn);
        summary(&service, &out->service);
        out->sojourn_ci_ok = xsim_bm_ci95(&t->bm, &m, &out->sojourn_mean_ci95);
    }
    xsim_hist_free(&wait);
    xsim_hist_free(&sojourn);
    xsim_hist_free(&service);
    return err;
}

uint64_t xsim_events_cpu_service_ns(const struct xsim_events *e, unsigned int cpu, uint64_t *served)
{
    if (cpu >= e->ncpus) {
        *served = 0;
        return 0;
    }
    *served = e->cpu_served[cpu];
    return e->cpu_service_ns[cpu];
}
