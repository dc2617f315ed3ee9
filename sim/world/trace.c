/*
 * trace.c - trace records, the run digest, spans and kept scheduling
 * points; the exports are in trace_export.c.
 *
 * Digest definition (stable across versions; part of replay files):
 *   h = 0xcbf29ce484222325 (the FNV-1a 64-bit offset basis)
 *   for each record, for each 64-bit word w of
 *       (type | entity << 32, time_ns, a, b, c):
 *     h = (h XOR w) * 0x100000001b3   (the FNV 64-bit prime), then
 *     h = h XOR (h >> 32)
 * Both steps are bijections of h, so a difference in any word of any record
 * changes every later value. Printed as 16 hex digits.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "world/world_internal.h"

static inline uint64_t fold(uint64_t h, uint64_t w)
{
    return xsim__digest_fold(h, w);
}

/* xsim__trace_rec (world_internal.h) folds inline; this is its path for
 * kept records and free-run mode. */
void xsim__trace_rec_slow(struct xsim_world *w, uint32_t type, uint32_t entity, uint64_t a,
                          uint64_t b, uint64_t c)
{
    bool fr = w->cfg.mode == XSIM_MODE_FREE_RUN;
    uint64_t now;

    if (fr)
        pthread_mutex_lock(&w->big);
    now = xsim__now(w);
    w->digest = fold(w->digest, (uint64_t)type | (uint64_t)entity << 32);
    w->digest = fold(w->digest, now);
    w->digest = fold(w->digest, a);
    w->digest = fold(w->digest, b);
    w->digest = fold(w->digest, c);
    w->ntrace++;
    if (w->cfg.keep_trace) {
        if (w->trace_len == w->trace_cap) {
            size_t cap = w->trace_cap ? w->trace_cap * 2 : 4096;
            struct xsim_trace_rec *t = realloc(w->trace, cap * sizeof(*t));
            if (t == NULL)
                goto out; /* the digest is still complete; the export is cut */
            w->trace = t;
            w->trace_cap = cap;
        }
        w->trace[w->trace_len++] = (struct xsim_trace_rec){
            .time_ns = now, .type = type, .entity = entity, .a = a, .b = b, .c = c};
    }
out:
    if (fr)
        pthread_mutex_unlock(&w->big);
}

void xsim_trace(struct xsim_world *w, uint32_t type, uint64_t a, uint64_t b, uint64_t c)
{
    xsim__trace_rec(w, type, xsim__entity(xsim__self), a, b, c);
}

void xsim__trace_free(struct xsim_world *w)
{
    free(w->trace);
    w->trace = NULL;
    w->trace_len = w->trace_cap = 0;
    free(w->spans);
    w->spans = NULL;
    w->nspans = w->spans_cap = 0;
}

uint64_t xsim_world_digest(const struct xsim_world *w)
{
    return w->digest;
}

uint64_t xsim_world_trace_count(const struct xsim_world *w)
{
    return w->ntrace;
}

const struct xsim_trace_rec *xsim_world_trace(const struct xsim_world *w, size_t *count)
{
    *count = w->trace_len;
    return w->trace;
}

/* ---- spans (config.keep_trace; for the exports, outside the digest) ---- */

#define MAX_SPANS (1u << 24) /* 16M spans, 640 MiB: beyond that the export is cut */

void xsim__span_keep(struct xsim_world *w, uint32_t entity, uint32_t kind, uint64_t start_ns,
                     uint64_t a, uint64_t b)
{
    if (w->nspans == w->spans_cap) {
        size_t cap = w->spans_cap ? w->spans_cap * 2 : 4096;
        struct xsim__span *n;
        if (cap > MAX_SPANS || (n = realloc(w->spans, cap * sizeof(*n))) == NULL)
            return; /* the export loses spans, nothing else does */
        w->spans = n;
        w->spans_cap = cap;
    }
    w->spans[w->nspans++] = (struct xsim__span){.start_ns = start_ns,
                                                .end_ns = xsim__now(w),
                                                .entity = entity,
                                                .kind = kind,
                                                .a = a,
                                                .b = b};
}

/* ---- guest scheduling points (config.keep_points) ---- */

#define MAX_POINTS (1u << 22) /* 4M points, 192 MiB: beyond that a run is no read */

void xsim__point_keep(struct xsim_world *w, struct xsim_vcpu *v)
{
    if (w->points_full)
        return;
    if (w->npoints == w->cap_points) {
        size_t cap = w->cap_points ? w->cap_points * 2 : 4096;
        struct xsim_point_rec *n;
        if (cap > MAX_POINTS || (n = realloc(w->points, cap * sizeof(*n))) == NULL) {
            w->points_full = true; /* what was kept stays; the run goes on */
            return;
        }
        w->points = n;
        w->cap_points = cap;
    }
    w->points[w->npoints] = v->last_point;
    w->points[w->npoints].decision = w->stats.decisions;
    w->points[w->npoints].time_ns = v->vtime;
    w->points[w->npoints].entity = v->index;
    w->npoints++;
}

const struct xsim_point_rec *xsim_world_points(const struct xsim_world *w, size_t *count)
{
    *count = w->npoints;
    return w->points;
}

int xsim_world_last_point(const struct xsim_world *w, uint32_t entity, struct xsim_point_rec *out)
{
    const struct xsim_vcpu *v;

    if (entity >= w->nvcpus || w->vcpus[entity]->last_point.file == NULL)
        return -ENOENT;
    v = w->vcpus[entity];
    *out = v->last_point;
    out->decision = w->stats.decisions;
    out->time_ns = v->vtime;
    out->entity = v->index;
    return 0;
}
