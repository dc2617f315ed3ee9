/*
 * trace_export.c - the trace as JSON lines (every record in time order,
 * with its name and named arguments) and as a Chrome trace for Perfetto or
 * chrome://tracing (tracks per vCPU; interrupts, hypercalls and halts as
 * spans; arrows from event channel sends to the interrupts they raised).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "world/world_internal.h"

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
    case 12:
        return "grant-audit"; /* b = granter, c = ref: a mapped entry changed under its map */
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
        [1] = "mmu_update",   [12] = "memory_op",        [15] = "set_timer_op",
        [17] = "xen_version", [20] = "grant_table_op",   [24] = "vcpu_op",
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
                    r->time_ns, type_name(r->type), name, r->entity, args, r->a, r->b, r->c) < 0) {
            free(idx);
            return -EIO;
        }
    }
    free(idx);
    return ferror(out) ? -EIO : 0;
}

/* Spans in order of their start (then their place in the list). */
static int span_cmp(const void *a, const void *b)
{
    const struct xsim__span *x = *(const struct xsim__span *const *)a;
    const struct xsim__span *y = *(const struct xsim__span *const *)b;

    if (x->start_ns != y->start_ns)
        return x->start_ns < y->start_ns ? -1 : 1;
    return x < y ? -1 : x > y;
}

/* The world's vCPU that is vCPU `cpu` of domain `domid`, or -1. */
static int vcpu_entity(const struct xsim_world *w, uint64_t domid, uint64_t cpu)
{
    for (unsigned int i = 0; i < w->nvcpus; i++) {
        if (w->vcpus[i]->dom->domid == domid && w->vcpus[i]->cpu == cpu)
            return (int)i;
    }
    return -1;
}

#define FLOWS_PER_VCPU 8 /* arrows waiting for one vCPU's next interrupt */

struct chrome {
    const struct xsim_world *w;
    FILE *out;
    uint64_t *halted_at;              /* per vCPU: when it halted, or UINT64_MAX */
    uint64_t (*flow)[FLOWS_PER_VCPU]; /* per vCPU: arrows waiting for an interrupt */
    unsigned int *nflow;
    uint64_t next_flow;
};

static void chrome_span(struct chrome *c, const struct xsim__span *s)
{
    char name[48];
    const char *hn;

    if (s->kind == XSIM__SPAN_INTERRUPT) {
        fprintf(c->out,
                ",\n{\"name\":\"interrupt 0x%02" PRIx64 "\",\"cat\":\"interrupt\",\"ph\":\"X\","
                "\"pid\":1,\"tid\":%u,\"ts\":%.3f,\"dur\":%.3f,\"args\":{\"vector\":%" PRIu64 "}}",
                s->a, s->entity, (double)s->start_ns / 1000.0,
                (double)(s->end_ns - s->start_ns) / 1000.0, s->a);
        /* The sends that marked this vCPU's upcall pending end here. */
        if (s->entity < c->w->nvcpus) {
            for (unsigned int i = 0; i < c->nflow[s->entity]; i++)
                fprintf(c->out,
                        ",\n{\"name\":\"event\",\"cat\":\"flow\",\"ph\":\"f\",\"bp\":\"e\","
                        "\"id\":%" PRIu64 ",\"pid\":1,\"tid\":%u,\"ts\":%.3f}",
                        c->flow[s->entity][i], s->entity, (double)s->start_ns / 1000.0);
            c->nflow[s->entity] = 0;
        }
        return;
    }
    hn = hypercall_name(s->a);
    if (hn != NULL)
        snprintf(name, sizeof(name), "%s", hn);
    else
        snprintf(name, sizeof(name), "hypercall %" PRIu64, s->a);
    fprintf(c->out,
            ",\n{\"name\":\"%s\",\"cat\":\"hypercall\",\"ph\":\"X\",\"pid\":1,\"tid\":%u,"
            "\"ts\":%.3f,\"dur\":%.3f,\"args\":{\"op\":%" PRIu64 ",\"cmd\":%" PRIu64 "}}",
            name, s->entity, (double)s->start_ns / 1000.0,
            (double)(s->end_ns - s->start_ns) / 1000.0, s->a, s->b);
}

static void chrome_record(struct chrome *c, const struct xsim_trace_rec *r)
{
    const struct xsim_world *w = c->w;
    uint32_t e = r->entity;
    char name[48], args[160];

    /* A vCPU that halted runs again at its next record of its own (a
     * wake, an interrupt, anything it does). */
    if (e < w->nvcpus && c->halted_at[e] != UINT64_MAX && r->type != XSIM_TR_HALT) {
        fprintf(c->out,
                ",\n{\"name\":\"halted\",\"cat\":\"halt\",\"ph\":\"X\",\"pid\":1,\"tid\":%u,"
                "\"ts\":%.3f,\"dur\":%.3f}",
                e, (double)c->halted_at[e] / 1000.0,
                (double)(r->time_ns - c->halted_at[e]) / 1000.0);
        c->halted_at[e] = UINT64_MAX;
    }
    if (r->type == XSIM_TR_HALT && e < w->nvcpus) {
        c->halted_at[e] = r->time_ns;
        return;
    }
    describe(r, name, sizeof(name), args, sizeof(args));
    fprintf(c->out,
            ",\n{\"name\":\"%s\",\"cat\":\"%s\",\"ph\":\"i\",\"s\":\"t\",\"pid\":1,"
            "\"tid\":%u,\"ts\":%.3f,\"args\":{%s}}",
            name, type_name(r->type), e, (double)r->time_ns / 1000.0, args);
    /* An event channel send that marked a vCPU's upcall pending (hv
     * subtype 1: b domain, c vCPU): an arrow from here to that vCPU's next
     * interrupt. */
    if (r->type == XSIM_TR_HV && r->a == 1) {
        int t = vcpu_entity(w, r->b, r->c);
        if (t >= 0 && c->nflow[t] < FLOWS_PER_VCPU) {
            uint64_t id = ++c->next_flow;
            c->flow[t][c->nflow[t]++] = id;
            fprintf(c->out,
                    ",\n{\"name\":\"event\",\"cat\":\"flow\",\"ph\":\"s\",\"id\":%" PRIu64
                    ",\"pid\":1,\"tid\":%u,\"ts\":%.3f}",
                    id, e, (double)r->time_ns / 1000.0);
        }
    }
}

int xsim_trace_write_chrome(const struct xsim_world *w, FILE *out)
{
    size_t *idx = time_order(w), ns = w->nspans, si = 0;
    unsigned int n = w->nvcpus ? w->nvcpus : 1;
    const struct xsim__span **spans = malloc((ns ? ns : 1) * sizeof(*spans));
    struct chrome c = {.w = w, .out = out};
    int rc = 0;

    /* Chrome trace event format: one process, one track per vCPU and one
     * for the hypervisor's timed events. Interrupts (the handlers they ran),
     * hypercalls and halts are spans on their vCPU's track; an arrow goes
     * from each event channel send that raised an upcall to the interrupt
     * that took it; the other records are instants with named arguments. */
    c.halted_at = calloc(n, sizeof(*c.halted_at));
    c.flow = calloc(n, sizeof(*c.flow));
    c.nflow = calloc(n, sizeof(*c.nflow));
    if (idx == NULL || spans == NULL || c.halted_at == NULL || c.flow == NULL || c.nflow == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < ns; i++)
        spans[i] = &w->spans[i];
    qsort(spans, ns, sizeof(*spans), span_cmp);
    fprintf(out, "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n");
    fprintf(out, "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":1,\"args\":{\"name\":"
                 "\"xensim\"}}");
    for (unsigned int i = 0; i < w->nvcpus; i++) {
        const struct xsim_vcpu *v = w->vcpus[i];
        fprintf(out,
                ",\n{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":%u,"
                "\"args\":{\"name\":\"d%u v%u\"}}",
                i, v->dom->domid, v->cpu);
        c.halted_at[i] = UINT64_MAX;
    }
    fprintf(out,
            ",\n{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":%u,"
            "\"args\":{\"name\":\"hypervisor\"}}",
            XSIM_ENTITY_EVENT);
    /* Records and span starts merged in time order; at equal times the
     * records first, so a send lands before the interrupt it raised. */
    for (size_t k = 0; k < w->trace_len; k++) {
        const struct xsim_trace_rec *r = &w->trace[idx[k]];
        while (si < ns && spans[si]->start_ns < r->time_ns)
            chrome_span(&c, spans[si++]);
        chrome_record(&c, r);
    }
    while (si < ns)
        chrome_span(&c, spans[si++]);
    fprintf(out, "\n]}\n");
    rc = ferror(out) ? -EIO : 0;
out:
    free(c.nflow);
    free(c.flow);
    free(c.halted_at);
    free(spans);
    free(idx);
    return rc;
}
