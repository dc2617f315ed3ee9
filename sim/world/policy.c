/*
 * policy.c - schedule policies: who runs at each scheduling decision.
 *
 * A decision is a scheduling point with at least two candidates (runnable
 * vCPUs and, as one pseudo-entity, the earliest timed event). Policies:
 *
 *   time      earliest virtual time first; a timed event due no later than
 *             every vCPU runs first; the running vCPU keeps going while its
 *             clock is within quantum_ns of the earliest; ties among the
 *             others are broken by the "sched" random stream.
 *   random    uniform among the candidates.
 *   pct:D[:K] Probabilistic Concurrency Testing (Burckhardt, Kothari,
 *             Musuvathi, Nagarakatte, ASPLOS 2010): random distinct initial
 *             priorities D..D+n-1, D-1 change points drawn uniformly from
 *             decisions [1, K] (default K 1000); the highest-priority
 *             candidate runs; at change point i the running entity's
 *             priority drops to D-i (the timed-event entity's when events
 *             ran since the last vCPU step). Finds a depth-D bug with
 *             probability at least 1/(n K^(D-1)).
 *   dfs:B     bounded-exhaustive depth-first enumeration with at most B
 *             preemptions (Musuvathi and Qadeer, PLDI 2007): a preemption is
 *             choosing another candidate while the running vCPU could go on.
 *             Use xsim_policy_dfs_next() between runs.
 *   replay    follow a recorded choice list; "keep going" elsewhere.
 *   bytes     choice i is byte i modulo the number of candidates (fuzzers);
 *             keep going once the bytes run out.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "world/world_internal.h"

enum policy_kind { P_TIME, P_RANDOM, P_PCT, P_DFS, P_REPLAY, P_BYTES };

struct dfs_frame {
    uint32_t n;          /* candidates at this decision */
    int32_t self;        /* index of the running vCPU among them, or -1 */
    uint32_t alt;        /* which alternative: 0 = the default choice */
    uint64_t pre_before; /* preemptions before this decision */
    uint32_t first_cand; /* entity ids, for divergence checks */
};

struct xsim_policy {
    enum policy_kind kind;
    char spec[64];
    unsigned int pct_depth;
    uint64_t pct_k;
    uint64_t dfs_bound;
    struct xsim_choices replay;
    bool lenient; /* replay: ignore what does not fit, keep going past the end */
    bool time_rules; /* replay of a `time` recording */
    const uint8_t *bytes;
    size_t nbytes;
    /* dfs state across runs */
    struct dfs_frame *stack;
    size_t depth, cap;
    size_t follow; /* decisions [0, follow) replay the stack */
    uint64_t runs;
    bool exhausted;
    /* "+time": a timed event is a candidate only when it is due no later
     * than the earliest runnable vCPU's clock (or nothing else can run).
     * "+time:D": no later than that clock plus D (a vCPU may fall up to D
     * behind the devices and timers). */
    bool events_in_time;
    uint64_t events_skew_ns;
};

/* "200us", "1ms", "500" (ns): 0, or -EINVAL. */
static int parse_skew(const char *s, uint64_t *out)
{
    static const struct {
        const char *unit;
        uint64_t ns;
    } units[] = {{"ns", 1}, {"us", 1000}, {"ms", 1000000}, {"s", 1000000000}, {"", 1}};
    char *end;
    unsigned long long v;

    if (*s < '0' || *s > '9')
        return -EINVAL;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0)
        return -EINVAL;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcmp(end, units[i].unit) == 0) {
            if (v > UINT64_MAX / units[i].ns / 4)
                return -EINVAL;
            *out = v * units[i].ns;
            return 0;
        }
    }
    return -EINVAL;
}

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v;

    if (*s < '0' || *s > '9')
        return -EINVAL;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || (*end != '\0' && *end != ':'))
        return -EINVAL;
    *out = v;
    return 0;
}

struct xsim_policy *xsim_policy_create(const char *spec, struct xsim_error *err)
{
    struct xsim_policy *p;
    uint64_t a = 0, b = 0;
    char base[64];

    if (spec == NULL || strlen(spec) >= sizeof(p->spec)) {
        xsim_error_set(err, "policy", 0, 0, "policy string missing or too long");
        return NULL;
    }
    p = calloc(1, sizeof(*p));
    if (p == NULL) {
        xsim_error_set(err, "policy", 0, 0, "out of memory");
        return NULL;
    }
    snprintf(p->spec, sizeof(p->spec), "%s", spec);
    {
        /* An optional "+time" or "+time:D" suffix on the non-time policies. */
        const char *plus = strstr(spec, "+time");
        if (plus != NULL && plus != spec) {
            const char *rest = plus + 5;
            if (*rest == ':') {
                if (parse_skew(rest + 1, &p->events_skew_ns) != 0)
                    goto bad;
            } else if (*rest != '\0') {
                goto bad;
            }
            p->events_in_time = true;
            memcpy(base, spec, (size_t)(plus - spec));
            base[plus - spec] = '\0';
            spec = base;
            if (strcmp(spec, "time") == 0)
                goto bad;
        }
    }
    if (strcmp(spec, "time") == 0) {
        p->kind = P_TIME;
    } else if (strcmp(spec, "random") == 0) {
        p->kind = P_RANDOM;
    } else if (strcmp(spec, "replay") == 0) {
        p->kind = P_REPLAY;
    } else if (strcmp(spec, "bytes") == 0) {
        p->kind = P_BYTES;
    } else if (strncmp(spec, "pct:", 4) == 0 && parse_u64(spec + 4, &a) == 0 && a >= 1 && a <= 16) {
        const char *k = strchr(spec + 4, ':');
        p->kind = P_PCT;
        p->pct_depth = (unsigned int)a;
        p->pct_k = 1000;
        if (k != NULL) {
            if (parse_u64(k + 1, &b) != 0 || b < 1 || strchr(k + 1, ':') != NULL)
                goto bad;
            p->pct_k = b;
        }
    } else if (strncmp(spec, "dfs:", 4) == 0 && parse_u64(spec + 4, &a) == 0 &&
               strchr(spec + 4, ':') == NULL) {
        p->kind = P_DFS;
        p->dfs_bound = a;
    } else {
        goto bad;
    }
    return p;
bad:
    xsim_error_set(err, "policy", 0, 0,
                   "bad policy '%s'; expected time, random, pct:D[:K] (D in 1..16, K >= 1), "
                   "dfs:B, replay or bytes, the last five optionally with +time or +time:D "
                   "(D a duration: 200us)",
                   p->spec);
    free(p);
    return NULL;
}

void xsim_policy_destroy(struct xsim_policy *p)
{
    if (p == NULL)
        return;
    xsim_choices_free(&p->replay);
    free(p->stack);
    free(p);
}

const char *xsim_policy_spec(const struct xsim_policy *p)
{
    return p->spec;
}

bool xsim__policy_is_time(const struct xsim_policy *p)
{
    return p->kind == P_TIME;
}

bool xsim__policy_is_random(const struct xsim_policy *p)
{
    return p->kind == P_RANDOM;
}

void xsim_choices_free(struct xsim_choices *c)
{
    free(c->sw);
    memset(c, 0, sizeof(*c));
}

int xsim_choices_copy(struct xsim_choices *dst, const struct xsim_choices *src)
{
    struct xsim_switch *sw = NULL;

    if (src->n > 0) {
        sw = malloc(src->n * sizeof(*sw));
        if (sw == NULL)
            return -ENOMEM;
        memcpy(sw, src->sw, src->n * sizeof(*sw));
    }
    free(dst->sw);
    dst->sw = sw;
    dst->n = dst->cap = src->n;
    dst->decisions = src->decisions;
    return 0;
}

int xsim_policy_set_replay(struct xsim_policy *p, const struct xsim_choices *c)
{
    if (p->kind != P_REPLAY)
        return -EINVAL;
    for (size_t i = 1; i < c->n; i++) {
        if (c->sw[i].decision <= c->sw[i - 1].decision)
            return -EINVAL; /* decisions must be strictly increasing */
    }
    if (c->n > 0 && c->sw[c->n - 1].decision >= c->decisions)
        return -EINVAL;
    return xsim_choices_copy(&p->replay, c);
}

int xsim_policy_set_replay_lenient(struct xsim_policy *p, bool lenient)
{
    if (p->kind != P_REPLAY)
        return -EINVAL;
    p->lenient = lenient;
    return 0;
}

int xsim_policy_set_replay_time_rules(struct xsim_policy *p, bool on)
{
    if (p->kind != P_REPLAY)
        return -EINVAL;
    p->time_rules = on;
    return 0;
}

bool xsim__policy_time_rules(const struct xsim_policy *p)
{
    return p != NULL && (p->kind == P_TIME || (p->kind == P_REPLAY && p->time_rules));
}

int xsim_policy_set_bytes(struct xsim_policy *p, const uint8_t *buf, size_t len)
{
    if (p->kind != P_BYTES)
        return -EINVAL;
    p->bytes = buf;
    p->nbytes = len;
    return 0;
}

/* ---- per-run state ---- */

int xsim__sched_init(struct xsim_world *w)
{
    struct xsim_sched *s = &w->sched;
    struct xsim_policy *p = w->policy;
    unsigned int n = w->nvcpus + 1; /* + the timed-event pseudo-entity */

    memset(s, 0, sizeof(*s));
    s->yield_from = -1;
    xsim_rng_init(&s->rng, w->cfg.seed, "sched");
    if (p->kind == P_PCT) {
        s->prio = calloc(n, sizeof(*s->prio));
        s->change_at = calloc(p->pct_depth, sizeof(*s->change_at));
        if (s->prio == NULL || s->change_at == NULL)
            return -ENOMEM;
        /* Random permutation of D..D+n-1 (Fisher-Yates). */
        for (unsigned int i = 0; i < n; i++)
            s->prio[i] = (int)(p->pct_depth + i);
        s->min_prio = 1;
        for (unsigned int i = n - 1; i > 0; i--) {
            unsigned int j = (unsigned int)xsim_rng_below(&s->rng, i + 1);
            int t = s->prio[i];
            s->prio[i] = s->prio[j];
            s->prio[j] = t;
        }
        s->nchange = p->pct_depth - 1;
        for (unsigned int i = 0; i < s->nchange; i++)
            s->change_at[i] = 1 + xsim_rng_below(&s->rng, p->pct_k);
    }
    if (p->kind == P_DFS) {
        p->follow = p->depth;
    }
    return 0;
}

void xsim__sched_free(struct xsim_world *w)
{
    free(w->sched.prio);
    free(w->sched.change_at);
    w->sched.prio = NULL;
    w->sched.change_at = NULL;
}

static unsigned int prio_slot(const struct xsim_world *w, uint32_t entity)
{
    return entity == XSIM_ENTITY_EVENT ? w->nvcpus : entity;
}

static int pick_time(struct xsim_world *w, const uint32_t *cand, const uint64_t *times,
                     unsigned int n, int self)
{
    unsigned int nv = n, ties = 0;
    uint64_t min_v = UINT64_MAX;
    int chosen = -1;

    if (cand[n - 1] == XSIM_ENTITY_EVENT)
        nv = n - 1;
    for (unsigned int i = 0; i < nv; i++) {
        if (times[i] < min_v)
            min_v = times[i];
    }
    /* A timed event due no later than every vCPU goes first. */
    if (nv < n && times[n - 1] <= min_v)
        return (int)(n - 1);
    if (self >= 0 && times[self] <= min_v + w->cfg.quantum_ns &&
        (nv == n || times[self] < times[n - 1]))
        return self;
    /* Reservoir choice among the vCPUs tied at the minimum. */
    for (unsigned int i = 0; i < nv; i++) {
        if (times[i] == min_v && (int)i != self) {
            ties++;
            if (xsim_rng_below(&w->sched.rng, ties) == 0)
                chosen = (int)i;
        }
    }
    return chosen >= 0 ? chosen : self;
}

static int pick_pct(struct xsim_world *w, const uint32_t *cand, unsigned int n, int self)
{
    struct xsim_sched *s = &w->sched;
    uint64_t step = w->stats.decisions + 1;
    int best = 0;

    /* At change point i (from 0) the entity that took the last step drops
     * to D-1-i: the running vCPU, or the timed-event entity when events
     * just ran (a device's run of steps is cut short as a thread's is). */
    for (unsigned int i = 0; i < s->nchange; i++) {
        if (s->change_at[i] != step)
            continue;
        if (s->after_event)
            s->prio[prio_slot(w, XSIM_ENTITY_EVENT)] = (int)(w->policy->pct_depth - 1 - i);
        else if (self >= 0)
            s->prio[prio_slot(w, cand[self])] = (int)(w->policy->pct_depth - 1 - i);
    }
    /* A vCPU in a wait loop cannot progress until others do: it drops
     * below everyone (as PCT implementations treat yields). */
    if (s->yield_from >= 0)
        s->prio[s->yield_from] = --s->min_prio;
    for (unsigned int i = 1; i < n; i++) {
        if (s->prio[prio_slot(w, cand[i])] > s->prio[prio_slot(w, cand[best])])
            best = (int)i;
    }
    return best;
}

/* dfs: the alternative order is "default first" (self if it can go on, else
 * the first candidate), then the other candidates in index order. */
static unsigned int dfs_alt_to_index(int32_t self, uint32_t alt)
{
    unsigned int def = self >= 0 ? (unsigned int)self : 0;

    if (alt == 0)
        return def;
    return alt - 1 < def ? alt - 1 : alt;
}

static int pick_dfs(struct xsim_world *w, const uint32_t *cand, unsigned int n, int self)
{
    struct xsim_policy *p = w->policy;
    uint64_t d = w->stats.decisions;
    struct dfs_frame *f;
    unsigned int idx;

    if (d < p->follow) {
        f = &p->stack[d];
        if (f->n != n || f->self != self || f->first_cand != cand[0]) {
            snprintf(w->replay_error, sizeof(w->replay_error),
                     "dfs: run diverged at decision %" PRIu64 " (nondeterministic program?)", d);
            return -1;
        }
    } else {
        if (p->depth == p->cap) {
            size_t cap = p->cap ? p->cap * 2 : 64;
            struct dfs_frame *st = realloc(p->stack, cap * sizeof(*st));
            if (st == NULL) {
                snprintf(w->replay_error, sizeof(w->replay_error), "dfs: out of memory");
                return -1;
            }
            p->stack = st;
            p->cap = cap;
        }
        f = &p->stack[p->depth++];
        f->n = n;
        f->self = self;
        f->alt = 0;
        f->pre_before = w->sched.preemptions;
        f->first_cand = cand[0];
    }
    idx = dfs_alt_to_index(f->self, f->alt);
    if (self >= 0 && (int)idx != self)
        w->sched.preemptions++;
    return (int)idx;
}

static int pick_replay(struct xsim_world *w, const uint32_t *cand, unsigned int n, int self)
{
    const struct xsim_choices *c = &w->policy->replay;
    struct xsim_sched *s = &w->sched;
    uint64_t d = w->stats.decisions;

    if (w->policy->lenient) {
        /* Shrinking: a shortened list need not fit the run it produces. */
        while (s->replay_pos < c->n && c->sw[s->replay_pos].decision < d)
            s->replay_pos++;
        if (s->replay_pos < c->n && c->sw[s->replay_pos].decision == d) {
            uint32_t e = c->sw[s->replay_pos++].entity;
            for (unsigned int i = 0; i < n; i++) {
                if (cand[i] == e)
                    return (int)i;
            }
        }
        return self >= 0 ? self : 0;
    }
    if (d >= c->decisions) {
        snprintf(w->replay_error, sizeof(w->replay_error),
                 "replay list too short: the run reached decision %" PRIu64
                 " but the list holds %" PRIu64,
                 d + 1, c->decisions);
        return -1;
    }
    if (s->replay_pos < c->n && c->sw[s->replay_pos].decision == d) {
        uint32_t e = c->sw[s->replay_pos++].entity;
        for (unsigned int i = 0; i < n; i++) {
            if (cand[i] == e)
                return (int)i;
        }
        snprintf(w->replay_error, sizeof(w->replay_error),
                 "replay diverged at decision %" PRIu64 ": entity %u is not runnable", d, e);
        return -1;
    }
    if (self < 0) {
        snprintf(w->replay_error, sizeof(w->replay_error),
                 "replay diverged at decision %" PRIu64 ": no recorded choice and the "
                 "running vCPU cannot go on",
                 d);
        return -1;
    }
    return self;
}

int xsim__policy_pick(struct xsim_world *w, const uint32_t *cand, const uint64_t *times,
                      unsigned int n, int self)
{
    struct xsim_policy *p = w->policy;
    struct xsim_sched *s = &w->sched;

    switch (p->kind) {
    case P_TIME:
        return pick_time(w, cand, times, n, self);
    case P_RANDOM:
        return (int)xsim_rng_below(&s->rng, n);
    case P_PCT:
        return pick_pct(w, cand, n, self);
    case P_DFS:
        return pick_dfs(w, cand, n, self);
    case P_REPLAY:
        return pick_replay(w, cand, n, self);
    case P_BYTES:
        if (s->byte_pos < p->nbytes)
            return (int)(p->bytes[s->byte_pos++] % n);
        return self >= 0 ? self : 0;
    }
    return self >= 0 ? self : 0;
}

void xsim__policy_run_end(struct xsim_world *w)
{
    w->choices.decisions = w->stats.decisions;
    if (w->policy->kind == P_DFS) {
        /* Frames past the run's end (a run that stopped early) are stale. */
        if (w->policy->depth > w->stats.decisions)
            w->policy->depth = (size_t)w->stats.decisions;
        w->policy->runs++;
    }
}

bool xsim_policy_dfs_next(struct xsim_policy *p)
{
    if (p->kind != P_DFS || p->exhausted)
        return false;
    while (p->depth > 0) {
        struct dfs_frame *f = &p->stack[p->depth - 1];
        /* Alternatives after the default are preemptions when the running
         * vCPU could have gone on. */
        bool preempts = f->self >= 0;
        if (f->alt + 1 < f->n && (!preempts || f->pre_before + 1 <= p->dfs_bound)) {
            f->alt++;
            p->follow = p->depth;
            return true;
        }
        p->depth--;
    }
    p->exhausted = true;
    return false;
}

uint64_t xsim_policy_dfs_count(const struct xsim_policy *p)
{
    return p->runs;
}

bool xsim__policy_events_in_time(const struct xsim_policy *p)
{
    return p->events_in_time;
}

uint64_t xsim__policy_events_skew(const struct xsim_policy *p)
{
    return p->events_skew_ns;
}

int xsim__policy_pick_fair(struct xsim_world *w, const uint32_t *cand, const uint64_t *times,
                           unsigned int n, int self)
{
    return pick_time(w, cand, times, n, self);
}
