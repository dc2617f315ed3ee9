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

#include "world_internal.h"

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

int xsim_trace_write_jsonl(const struct xsim_world *w, FILE *out)
{
    for (size_t i = 0; i < w->trace_len; i++) {
        const struct xsim_trace_rec *r = &w->trace[i];
        if (fprintf(out,
                    "{\"t\":%" PRIu64 ",\"type\":\"%s\",\"entity\":%u,\"a\":%" PRIu64
                    ",\"b\":%" PRIu64 ",\"c\":%" PRIu64 "}\n",
                    r->time_ns, type_name(r->type), r->entity, r->a, r->b, r->c) < 0)
            return -EIO;
    }
    return ferror(out) ? -EIO : 0;
}

int xsim_trace_write_chrome(const struct xsim_world *w, FILE *out)
{
    /* Chrome trace event format: one process, one track per vCPU and one
     * for the hypervisor's timed events; instants at ns precision. */
    fprintf(out, "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n");
    fprintf(out, "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":1,\"args\":{\"name\":"
                 "\"xensim\"}}");
    for (unsigned int i = 0; i < w->nvcpus; i++) {
        const struct xsim_vcpu *v = w->vcpus[i];
        fprintf(out,
                ",\n{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":%u,"
                "\"args\":{\"name\":\"d%u v%u\"}}",
                i, v->dom->domid, v->cpu);
    }
    fprintf(out,
            ",\n{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":%u,"
            "\"args\":{\"name\":\"hypervisor\"}}",
            XSIM_ENTITY_EVENT);
    for (size_t i = 0; i < w->trace_len; i++) {
        const struct xsim_trace_rec *r = &w->trace[i];
        fprintf(out,
                ",\n{\"name\":\"%s\",\"ph\":\"i\",\"s\":\"t\",\"pid\":1,\"tid\":%u,"
                "\"ts\":%.3f,\"args\":{\"a\":%" PRIu64 ",\"b\":%" PRIu64 ",\"c\":%" PRIu64 "}}",
                type_name(r->type), r->entity, (double)r->time_ns / 1000.0, r->a, r->b, r->c);
    }
    fprintf(out, "\n]}\n");
    return ferror(out) ? -EIO : 0;
}
