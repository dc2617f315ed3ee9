/*
 * explain.c - `replay --explain`: the interleaving around each switch of a
 * run's choice list, from the guest's scheduling points (which vCPU, what
 * kind of access, which object, which source line), then the verdicts.
 *
 * A switch is where the policy chose another entity than the one that
 * could have gone on. Around each one the last few points of the vCPU that
 * was running and the first few of the one that took over are shown;
 * addresses are named A1, A2 ... in order of first appearance, so that two
 * accesses to one object read as such.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "run/explain.h"
#include "world/world_internal.h"

#define CONTEXT   3  /* points shown before and after a switch */
#define MAX_NAMES 64 /* distinct addresses named */

struct names {
    const volatile void *addr[MAX_NAMES];
    unsigned int n;
};

static const char *kind_name(uint32_t kind)
{
    static const char *const names[] = {"load", "store", "rmw", "fence", "spin"};

    return kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "point";
}

static void addr_name(struct names *nm, const volatile void *addr, char *buf, size_t size)
{
    unsigned int i;

    if (addr == NULL) {
        snprintf(buf, size, "-");
        return;
    }
    for (i = 0; i < nm->n; i++) {
        if (nm->addr[i] == addr)
            break;
    }
    if (i == nm->n && nm->n < MAX_NAMES)
        nm->addr[nm->n++] = addr;
    if (i < MAX_NAMES)
        snprintf(buf, size, "A%u", i + 1);
    else
        snprintf(buf, size, "%p", (const void *)addr);
}

static void print_point(FILE *out, struct names *nm, const struct xsim_point_rec *r,
                        const char *mark)
{
    char a[32];

    addr_name(nm, r->addr, a, sizeof(a));
    fprintf(out, "  %s vCPU %-3" PRIu32 " %12.3f us  %-5s %-5s %s:%d\n", mark, r->entity,
            (double)r->time_ns / 1e3, kind_name(r->kind), a, r->file != NULL ? r->file : "?",
            r->line);
}

/* Whether the choice list has a switch to `to` at a decision in [lo, hi].
 * Handoffs come in decision order, so *next (the first switch not yet
 * passed) only moves forward: one pass over the list for the whole run. */
static bool chosen(const struct xsim_choices *c, size_t *next, uint64_t lo, uint64_t hi,
                   uint32_t to)
{
    bool found = false;

    while (*next < c->n && c->sw[*next].decision < lo)
        (*next)++;
    for (size_t i = *next; i < c->n && c->sw[i].decision <= hi; i++)
        found = found || c->sw[i].entity == to;
    return found;
}

void xsim_explain_write(const struct xsim_world *w, const struct xsim_report *rep, FILE *out)
{
    const struct xsim_choices *c = &w->choices;
    const struct xsim_point_rec *pt = w->points;
    size_t n = w->npoints, handoffs = 0, next_sw = 0;
    struct names nm = {.n = 0};

    fprintf(out,
            "explain: %zu switches chosen over %" PRIu64 " decisions, %zu guest scheduling "
            "points%s\n",
            c->n, c->decisions, n, w->points_full ? " (the first ones only: too many to keep)" : "");
    fprintf(out, "  each handoff from one vCPU to another: the last %d points before it and the "
                 "first %d after;\n  a point comes before its access, so the access marked ! "
                 "is done only when its vCPU\n  runs again, after the others' (> marks the first "
                 "one after the handoff);\n  A1, A2 ... name the addresses touched, in order "
                 "of first use\n",
            CONTEXT, CONTEXT);
    for (size_t k = 1; k < n; k++) {
        if (pt[k].entity == pt[k - 1].entity)
            continue;
        handoffs++;
        bool pick = chosen(c, &next_sw, pt[k - 1].decision, pt[k].decision, pt[k].entity);
        fprintf(out, "handoff %zu: vCPU %" PRIu32 " -> vCPU %" PRIu32 " (%s)\n", handoffs,
                pt[k - 1].entity, pt[k].entity,
                pick ? "the schedule's choice" : "the first could not go on");
        for (size_t j = k >= CONTEXT ? k - CONTEXT : 0; j < k; j++)
            print_point(out, &nm, &pt[j], j + 1 == k ? "!" : " ");
        for (size_t j = k; j < n && j < k + CONTEXT && pt[j].entity == pt[k].entity; j++)
            print_point(out, &nm, &pt[j], j == k ? ">" : " ");
    }
    for (size_t i = 0; i < rep->noracles; i++) {
        if (!rep->oracles[i].pass)
            fprintf(out, "failed: %s (%s)\n", rep->oracles[i].name, rep->oracles[i].detail);
    }
    if (rep->failure[0] != '\0')
        fprintf(out, "run: %s\n", rep->failure);
}
