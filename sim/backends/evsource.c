/*
 * evsource.c - event-source device model; see evsource.h.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "xensim/evsource.h"

#define HIST_BUCKETS 64

struct xsim_evsource {
    struct xsim_world *w;
    struct xsim_hv *hv;
    struct xsim_evsource_config cfg;
    struct xsim_rng rng;
    evtchn_port_t port;
    bool running;
    uint64_t timer;
    uint64_t next_ns;
    /* send times not yet consumed (FIFO ring) */
    uint64_t *times;
    size_t cap, head, len;
    uint64_t sent, consumed, lat_sum, lat_max;
    uint64_t hist[HIST_BUCKETS];
};

static void fire(struct xsim_world *w, void *arg);

static uint64_t gap_ns(struct xsim_evsource *s)
{
    double mean = 1e9 / s->cfg.rate_hz;

    switch (s->cfg.dist) {
    case XSIM_EVSRC_POISSON:
        return (uint64_t)llround(xsim_rng_exp(&s->rng, mean));
    case XSIM_EVSRC_BURST:
        return (uint64_t)llround(mean * (double)s->cfg.burst);
    case XSIM_EVSRC_PERIODIC:
    default:
        return (uint64_t)llround(mean);
    }
}

static int push_time(struct xsim_evsource *s, uint64_t t)
{
    if (s->len == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 1024;
        uint64_t *n = malloc(cap * sizeof(*n));
        if (n == NULL)
            return -ENOMEM;
        for (size_t i = 0; i < s->len; i++)
            n[i] = s->times[(s->head + i) % s->cap];
        free(s->times);
        s->times = n;
        s->cap = cap;
        s->head = 0;
    }
    s->times[(s->head + s->len) % s->cap] = t;
    s->len++;
    return 0;
}

static bool done(const struct xsim_evsource *s, uint64_t now)
{
    return (s->cfg.count != 0 && s->sent >= s->cfg.count) ||
           (s->cfg.stop_ns != 0 && now >= s->cfg.stop_ns);
}

static void fire(struct xsim_world *w, void *arg)
{
    struct xsim_evsource *s = arg;
    uint64_t now = xsim_world_now(w);
    unsigned int n = s->cfg.dist == XSIM_EVSRC_BURST ? s->cfg.burst : 1;

    s->timer = 0;
    if (!s->running)
        return;
    for (unsigned int i = 0; i < n && !done(s, now); i++) {
        if (push_time(s, now) != 0)
            break; /* out of memory: the send is not made, nothing recorded */
        s->sent++;
        (void)xsim_hv_evtchn_send(s->hv, s->cfg.backend, s->port);
    }
    if (done(s, now)) {
        s->running = false;
        return;
    }
    s->next_ns = now + gap_ns(s);
    s->timer = xsim_event_schedule(w, s->next_ns, 0x45565352 /* EVSR */, fire, s);
}

int xsim_evsource_create(struct xsim_world *w, struct xsim_hv *hv,
                         const struct xsim_evsource_config *cfg, struct xsim_evsource **out)
{
    struct xsim_evsource *s;
    int rc;

    *out = NULL;
    if (cfg == NULL || !(cfg->rate_hz > 0) || !isfinite(cfg->rate_hz) ||
        (cfg->dist == XSIM_EVSRC_BURST && cfg->burst == 0) || cfg->dist > XSIM_EVSRC_BURST)
        return -EINVAL;
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        return -ENOMEM;
    s->w = w;
    s->hv = hv;
    s->cfg = *cfg;
    s->cfg.stream = NULL;
    xsim_world_rng(w, cfg->stream != NULL ? cfg->stream : "evsource", &s->rng);
    rc = xsim_hv_evtchn_alloc_unbound(hv, cfg->backend, cfg->guest, &s->port);
    if (rc != 0) {
        free(s);
        return rc;
    }
    *out = s;
    return 0;
}

void xsim_evsource_destroy(struct xsim_evsource *s)
{
    if (s == NULL)
        return;
    free(s->times);
    free(s);
}

evtchn_port_t xsim_evsource_port(const struct xsim_evsource *s)
{
    return s->port;
}

int xsim_evsource_start(struct xsim_evsource *s)
{
    uint64_t now = xsim_world_now(s->w);
    uint64_t first = s->cfg.start_ns > now ? s->cfg.start_ns : now;

    if (s->running)
        return 0;
    s->running = true;
    if (s->cfg.dist == XSIM_EVSRC_POISSON)
        first += gap_ns(s);
    s->timer = xsim_event_schedule(s->w, first, 0x45565352, fire, s);
    return s->timer != 0 ? 0 : -ENOMEM;
}

void xsim_evsource_stop(struct xsim_evsource *s)
{
    s->running = false;
    if (s->timer != 0)
        xsim_event_cancel(s->w, s->timer);
    s->timer = 0;
}

uint64_t xsim_evsource_consume(struct xsim_evsource *s)
{
    uint64_t now = xsim_world_now(s->w), n = 0;

    while (s->len > 0 && s->times[s->head] <= now) {
        uint64_t lat = now - s->times[s->head];
        unsigned int b = lat == 0 ? 0 : 64 - (unsigned int)__builtin_clzll(lat);
        s->head = (s->head + 1) % s->cap;
        s->len--;
        s->lat_sum += lat;
        if (lat > s->lat_max)
            s->lat_max = lat;
        s->hist[b < HIST_BUCKETS ? b : HIST_BUCKETS - 1]++;
        n++;
    }
    s->consumed += n;
    return n;
}

static uint64_t percentile(const struct xsim_evsource *s, double q)
{
    uint64_t target = (uint64_t)ceil(q * (double)s->consumed), acc = 0;

    if (s->consumed == 0)
        return 0;
    for (unsigned int b = 0; b < HIST_BUCKETS; b++) {
        acc += s->hist[b];
        if (acc >= target)
            return b == 0 ? 0 : (uint64_t)1 << b; /* upper bound of the bucket */
    }
    return s->lat_max;
}

void xsim_evsource_stats(const struct xsim_evsource *s, struct xsim_evsource_stats *out)
{
    out->sent = s->sent;
    out->consumed = s->consumed;
    out->latency_ns_sum = s->lat_sum;
    out->latency_ns_max = s->lat_max;
    /* Bucket upper bounds, but never above the largest latency seen. */
    out->latency_ns_p50 = percentile(s, 0.50);
    out->latency_ns_p99 = percentile(s, 0.99);
    if (out->latency_ns_p50 > s->lat_max)
        out->latency_ns_p50 = s->lat_max;
    if (out->latency_ns_p99 > s->lat_max)
        out->latency_ns_p99 = s->lat_max;
}

int xsim_evsource_reconnect(struct xsim_evsource *s)
{
    evtchn_port_t port;
    int rc;

    /* The guest's end went with the old host; ours may already be closed
     * by the domain's reset, so an error here is no error. */
    (void)xsim_hv_evtchn_close(s->hv, s->cfg.backend, s->port);
    rc = xsim_hv_evtchn_alloc_unbound(s->hv, s->cfg.backend, s->cfg.guest, &port);
    if (rc != 0)
        return rc;
    s->port = port;
    return 0;
}
