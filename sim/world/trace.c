/*
 * trace.c - trace records, the run digest, and exports.
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
    h = (h ^ w) * 0x100000001b3ULL;
    return h ^ (h >> 32);
}

void xsim__trace_rec(struct xsim_world *w, uint32_t type, uint32_t entity, uint64_t a, uint64_t b,
                     uint64_t c)
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

static const char *type_name(uint32_t type)
{
    switch (type) {
    case XSIM_TR_SCHED:
        return "sched";
    case XSIM_TR_EVENT:
        return "event";
    case XSIM_TR_INTR:
        return "intr";
    case XSIM_TR_HCALL:
        return "hypercall";
    case XSIM_TR_HALT:
        return "halt";
    case XSIM_TR_WAKE:
        return "wake";
    case XSIM_TR_DONE:
        return "done";
    case XSIM_TR_GUEST:
        return "guest";
    case XSIM_TR_HV:
        return "hv";
    case XSIM_TR_FAIL:
        return "fail";
    }
    return "unknown";
}

/* Names of the hypervisor's own trace subtypes (XSIM_TR_HV's a). */
static const char *hv_name(uint64_t sub)
{
    switch (sub) {
    case 1:
        return "mark-pending"; /* b = domain, c = vCPU */
    case 2:
        return "set-pending"; /* b = domain, c = port */
    case 3:
        return "ioapic-line"; /* b = pin, c = level */
    case 4:
        return "lapic-ipi"; /* b = target, c = vector */
    case 10:
        return "grant-map"; /* b = granter, c = ref */
    case 11:
        return "grant-unmap";
    case 0x10:
        return "timer-fire"; /* b = vCPU, c = deadline */
    case 0x11:
        return "pvclock-begin"; /* b = vCPU, c = version (odd) */
    case 0x12:
        return "pvclock-end"; /* b = vCPU, c = version (even) */
    case 0x13:
        return "lapic-timer"; /* b = vCPU, c = vector */
    case 0x14:
        return "hpet"; /* b = timer, c = pin */
    case 0x20:
        return "suspend"; /* b = domain, c = vCPU */
    case 0x21:
        return "resumed"; /* b = domain, c = rc */
    case 0x22:
        return "migrated"; /* b = domain */
    case 0x30:
        return "fifo-link"; /* b = domain, c = vCPU << 32 | priority << 24 | port */
    case 0x31:
        return "fifo-on"; /* b = domain */
    }
    return NULL;
}

static const char *hypercall_name(uint64_t op)
{
    static const char *const names[] = {
        [1] = "mmu_update",   [12] = "memory_op",     [15] = "set_timer_op",
        [17] = "xen_version", [20] = "grant_table_op", [24] = "vcpu_op",
        [29] = "sched_op",    [32] = "event_channel_op", [34] = "hvm_op",
    };

    return op < sizeof(names) / sizeof(names[0]) && names[op] != NULL ? names[op] : NULL;
}

/* A timed event's kind as its four characters when they are printable. */
static void fourcc(uint64_t kind, char out[5])
{
    for (int i = 0; i < 4; i++) {
        char c = (char)((kind >> (8 * (3 - i))) & 0xff);
        out[i] = c >= 0x20 && c < 0x7f && c != '"' && c != '\\' ? c : '?';
    }
    out[4] = '\0';
}

/* The record's name and its arguments as JSON members (`"k":v,...`). */
static void describe(const struct xsim_trace_rec *r, char *name, size_t nsize, char *args,
                     size_t asize)
{
    const char *hn;
    char cc[5];

    snprintf(name, nsize, "%s", type_name(r->type));
    switch (r->type) {
    case XSIM_TR_SCHED:
        if (r->a == XSIM_ENTITY_EVENT)
            snprintf(args, asize, "\"to\":\"events\"");
        else
            snprintf(args, asize, "\"to\":%" PRIu64, r->a);
        break;
    case XSIM_TR_EVENT:
        fourcc(r->a, cc);
        snprintf(name, nsize, "event %s", cc);
        snprintf(args, asize, "\"kind\":\"%s\"", cc);
        break;
    case XSIM_TR_INTR:
        snprintf(args, asize, "\"vector\":%" PRIu64, r->a);
        break;
    case XSIM_TR_HCALL:
        hn = hypercall_name(r->a);
        if (hn != NULL)
            snprintf(name, nsize, "%s", hn);
        snprintf(args, asize, "\"op\":%" PRIu64 ",\"cmd\":%" PRIu64 ",\"result\":%" PRId64, r->a,
                 r->b, (int64_t)r->c);
        break;
    case XSIM_TR_HV:
        hn = hv_name(r->a);
        if (hn != NULL)
            snprintf(name, nsize, "%s", hn);
        snprintf(args, asize, "\"sub\":%" PRIu64 ",\"b\":%" PRIu64 ",\"c\":%" PRIu64, r->a, r->b,
                 r->c);
        break;
    case XSIM_TR_HALT:
        snprintf(args, asize, "\"scheduled_op\":%s", r->a ? "true" : "false");
        break;
    case XSIM_TR_WAKE:
        snprintf(args, asize, "\"why\":%" PRIu64, r->a);
        break;
    default:
        snprintf(args, asize, "\"a\":%" PRIu64 ",\"b\":%" PRIu64 ",\"c\":%" PRIu64, r->a, r->b,
                 r->c);
        break;
    }
}

/* A record's place in time order: its time, then its place in the
 * trace (records of one time keep the order they happened in). */
struct order_key {
    uint64_t time;
    size_t idx;
};

static int order_cmp(const void *a, const void *b)
{
    const struct order_key *x = a, *y = b;

    if (x->time != y->time)
        return x->time < y->time ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* The records' indices in time order. Records are appended in decision
 * order, and vCPUs' clocks differ, so the kept order is not time order.
 * NULL when out of memory. */
static size_t *time_order(const struct xsim_world *w)
{
    size_t n = w->trace_len, *idx = malloc((n ? n : 1) * sizeof(*idx));
    struct order_key *k = malloc((n ? n : 1) * sizeof(*k));

    if (idx == NULL || k == NULL) {
        free(idx);
        free(k);
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        k[i] = (struct order_key){.time = w->trace[i].time_ns, .idx = i};
    qsort(k, n, sizeof(*k), order_cmp);
    for (size_t i = 0; i < n; i++)
        idx[i] = k[i].idx;
    free(k);
    return idx;
}

int xsim_trace_write_jsonl(const struct xsim_world *w, FILE *out)
{
    size_t *idx = time_order(w);
    char name[48], args[160];

    if (idx == NULL)
        return -ENOMEM;
    for (size_t k = 0; k < w->trace_len; k++) {
        const struct xsim_trace_rec *r = &w->trace[idx[k]];
        describe(r, name, sizeof(name), args, sizeof(args));
        if (fprintf(out,
                    "{\"t\":%" PRIu64 ",\"type\":\"%s\",\"name\":\"%s\",\"entity\":%u,%s,"
                    "\"a\":%" PRIu64 ",\"b\":%" PRIu64 ",\"c\":%" PRIu64 "}\n",
                    r->time_ns, type_name(r->type), name, r->entity, args, r->a, r->b,
                    r->c) < 0) {
            free(idx);
            return -EIO;
        }
    }
    free(idx);
    return ferror(out) ? -EIO : 0;
}

int xsim_trace_write_chrome(const struct xsim_world *w, FILE *out)
{
    size_t *idx = time_order(w);
    uint64_t *halted_at;
    char name[48], args[160];

    /* Chrome trace event format: one process, one track per vCPU and one
     * for the hypervisor's timed events. Each vCPU's halts are spans
     * (halt to the record that shows it running again); the rest are
     * instants with named arguments. */
    if (idx == NULL)
        return -ENOMEM;
    halted_at = calloc(w->nvcpus ? w->nvcpus : 1, sizeof(*halted_at));
    if (halted_at == NULL) {
        free(idx);
        return -ENOMEM;
    }
    fprintf(out, "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n");
    fprintf(out, "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":1,\"args\":{\"name\":"
                 "\"xensim\"}}");
    for (unsigned int i = 0; i < w->nvcpus; i++) {
        const struct xsim_vcpu *v = w->vcpus[i];
        fprintf(out,
                ",\n{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":%u,"
                "\"args\":{\"name\":\"d%u v%u\"}}",
                i, v->dom->domid, v->cpu);
        halted_at[i] = UINT64_MAX;
    }
    fprintf(out,
            ",\n{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":%u,"
            "\"args\":{\"name\":\"hypervisor\"}}",
            XSIM_ENTITY_EVENT);
    for (size_t k = 0; k < w->trace_len; k++) {
        const struct xsim_trace_rec *r = &w->trace[idx[k]];
        uint32_t e = r->entity;
        /* A vCPU that halted runs again at its next record of its own
         * (a wake, an interrupt, anything it does). */
        if (e < w->nvcpus && halted_at[e] != UINT64_MAX && r->type != XSIM_TR_HALT) {
            fprintf(out,
                    ",\n{\"name\":\"halted\",\"ph\":\"X\",\"pid\":1,\"tid\":%u,\"ts\":%.3f,"
                    "\"dur\":%.3f}",
                    e, (double)halted_at[e] / 1000.0,
                    (double)(r->time_ns - halted_at[e]) / 1000.0);
            halted_at[e] = UINT64_MAX;
        }
        if (r->type == XSIM_TR_HALT && e < w->nvcpus) {
            halted_at[e] = r->time_ns;
            continue;
        }
        describe(r, name, sizeof(name), args, sizeof(args));
        fprintf(out,
                ",\n{\"name\":\"%s\",\"cat\":\"%s\",\"ph\":\"i\",\"s\":\"t\",\"pid\":1,"
                "\"tid\":%u,\"ts\":%.3f,\"args\":{%s}}",
                name, type_name(r->type), e, (double)r->time_ns / 1000.0, args);
    }
    fprintf(out, "\n]}\n");
    free(halted_at);
    free(idx);
    return ferror(out) ? -EIO : 0;
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
