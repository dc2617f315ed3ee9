/*
 * evsource.c - event-source device model; see evsource.h.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "xensim/evsource.h"

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
    uint64_t sent, taken, completed;
    uint64_t first_send_ns, last_send_ns, seen_sum;
    struct xsim_batchmeans seen_bm;
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
        s->seen_sum += s->sent - s->completed;
        xsim_bm_add(&s->seen_bm, (double)(s->sent - s->completed));
        if (s->sent == 0)
            s->first_send_ns = now;
        s->last_send_ns = now;
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
    xsim_bm_init(&s->seen_bm);
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

bool xsim_evsource_take(struct xsim_evsource *s, uint64_t *sent_ns)
{
    if (s->len == 0)
        return false;
    *sent_ns = s->times[s->head];
    s->head = (s->head + 1) % s->cap;
    s->len--;
    s->taken++;
    return true;
}

void xsim_evsource_complete(struct xsim_evsource *s)
{
    if (s->completed < s->taken)
        s->completed++;
}

uint64_t xsim_evsource_consume(struct xsim_evsource *s)
{
    uint64_t now = xsim_world_now(s->w), n = 0, t;

    while (s->len > 0 && s->times[s->head] <= now && xsim_evsource_take(s, &t)) {
        xsim_evsource_complete(s);
        n++;
    }
    return n;
}

void xsim_evsource_stats(const struct xsim_evsource *s, struct xsim_evsource_stats *out)
{
    out->sent = s->sent;
    out->taken = s->taken;
    out->completed = s->completed;
    out->first_send_ns = s->first_send_ns;
    out->last_send_ns = s->last_send_ns;
    out->seen_in_system_mean = s->sent ? (double)s->seen_sum / (double)s->sent : 0;
    {
        double m;
        if (!xsim_bm_ci95(&s->seen_bm, &m, &out->seen_in_system_ci95))
            out->seen_in_system_ci95 = -1;
    }
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
