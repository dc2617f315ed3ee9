/*
 * xenstore.c - a XenStore workload: every CPU of the guest (or the one the
 * scenario names) runs rounds of requests on its own keys under
 * data/<name>/c<cpu>/ at the workload's rate, through the program's xenbus
 * client, while the others do the same; the guest watches data/<name>, and
 * the toolstack may write under data/<name>/storm/ (a watch storm).
 *
 * A round: write the next key (k0, k1, ... in turn) with a value naming
 * CPU and round, read it back, list the CPU's directory; every
 * transaction_every-th round writes inside a transaction instead, reads
 * the value back there, commits (retrying on EAGAIN) and reads it again
 * outside. Nobody else writes a CPU's keys, so the machine knows every
 * reply in advance: a read must return what that CPU last wrote, a listing
 * the keys it created in creation order, and nothing may fail but a commit
 * with EAGAIN. A reply that is some other request's (matched by the wrong
 * req_id) shows up as one of these.
 *
 * Watch events are judged from the daemon's side: every event it queues for
 * the guest with this workload's token goes into a ledger (xs_host.c's
 * observer), and every callback the program reports takes the oldest
 * queued event with its path. What is left at the end was lost; a callback
 * with nothing to take was never sent.
 *
 * Everything runs between scheduling points of the vCPU or of a timed
 * event, so the counters need no lock (the world's baton).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workload.h"

#define MAX_KEYS   64
#define VALUE_MAX  32
#define PATH_MAX_  96
#define REPLY_MAX  1024
#define TXN_TRIES  8
#define STORM_KEYS 4
#define EV_STORM   0x58535354 /* "XSST": the toolstack's next storm write */
#define MAX_PATHS  256        /* distinct event paths remembered */
/* Events waiting for their callback, at most. A client that keeps up has
 * at most the daemon's queue (XSIM_XS_MAX_QUEUED_EVENTS), its ring and its
 * own queue outstanding; one that never calls back must not make the
 * ledger grow without bound: past this, events count as lost at once. */
#define MAX_OUTSTANDING (1u << 16)

struct xs_cpu {
    bool active;
    struct xsim_rng rng;
    uint64_t next; /* program clock of the next round; 0: not started */
    uint64_t rounds;
    char last[MAX_KEYS][VALUE_MAX]; /* what this CPU last wrote (committed) */
    bool created[MAX_KEYS];
    unsigned char order[MAX_KEYS]; /* keys in creation order */
    unsigned int ncreated;
};

struct ledger_ev {
    char path[PATH_MAX_];
    uint64_t at;
    bool taken;
};

struct xsim_xsload {
    struct xsim_xsload_params prm;
    const struct xsim_scn_workload *wl;
    char token[48];
    char base[64]; /* data/<name> */
    unsigned int watch_cpu;
    bool watch_tried;
    struct xs_cpu *cpu;
    struct xsim_rng storm_rng;
    uint64_t storm_next;
    /* the ledger: events queued by the daemon, oldest first from head */
    struct ledger_ev *ev;
    size_t head, nev, cap;
    /* every path an event was queued for (a callback for another one was
     * never sent); past MAX_PATHS of them, any path passes */
    char (*paths)[PATH_MAX_];
    size_t npaths;
    bool paths_full;
    struct xsim_xsload_result r;
};

static void wrongf(struct xsim_xsload *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void wrongf(struct xsim_xsload *x, const char *fmt, ...)
{
    va_list ap;

    if (x->r.wrong++ != 0)
        return;
    va_start(ap, fmt);
    vsnprintf(x->r.wrong_detail, sizeof(x->r.wrong_detail), fmt, ap);
    va_end(ap);
}

static const char *const op_names[] = {"write",           "read", "directory", "transaction start",
                                       "transaction end", "watch"};

static int run_op(struct xsim_xsload *x, unsigned int cpu, struct xsim_xs_op *op,
                  xsim_xsload_op_fn fn, void *arg)
{
    int rc;

    x->r.requests++;
    rc = fn(arg, cpu, op);
    x->r.answered++;
    return rc;
}

/* An error where the daemon gives none: the reply was not this request's
 * (or the client failed it). */
static bool failed(struct xsim_xsload *x, unsigned int cpu, const struct xsim_xs_op *op, int rc)
{
    if (rc == 0)
        return false;
    wrongf(x, "CPU %u: %s %s failed: %s", cpu, op_names[op->kind], op->path ? op->path : "",
           strerror(rc < 0 ? -rc : rc));
    return true;
}

static void key_path(const struct xsim_xsload *x, unsigned int cpu, unsigned int k, char *buf,
                     size_t size)
{
    snprintf(buf, size, "%s/c%u/k%u", x->base, cpu, k);
}

/* Read key k and compare with what this CPU last wrote there. */
static void read_back(struct xsim_xsload *x, unsigned int cpu, uint32_t tx, const char *path,
                      const char *expect, xsim_xsload_op_fn fn, void *arg)
{
    char buf[REPLY_MAX];
    struct xsim_xs_op op = {
        .kind = XSIM_XS_OP_READ, .tx = tx, .path = path, .reply = buf, .reply_size = sizeof(buf)};
    int rc = run_op(x, cpu, &op, fn, arg);

    if (failed(x, cpu, &op, rc))
        return;
    x->r.reads_checked++;
    if (op.reply_len >= sizeof(buf) || op.reply_len != strlen(expect) ||
        memcmp(buf, expect, op.reply_len) != 0) {
        buf[op.reply_len < sizeof(buf) ? op.reply_len : sizeof(buf) - 1] = '\0';
        wrongf(x, "CPU %u: read %s%s returned \"%.40s\" (%u bytes), expected \"%s\"", cpu, path,
               tx ? " in a transaction" : "", buf, op.reply_len, expect);
    }
}

/* List the CPU's directory: exactly the keys it created, in that order. */
static void list_dir(struct xsim_xsload *x, unsigned int cpu, xsim_xsload_op_fn fn, void *arg)
{
    struct xs_cpu *c = &x->cpu[cpu];
    char dir[PATH_MAX_], buf[REPLY_MAX], expect[REPLY_MAX];
    size_t n = 0;
    struct xsim_xs_op op = {
        .kind = XSIM_XS_OP_DIRECTORY, .path = dir, .reply = buf, .reply_size = sizeof(buf)};
    int rc;

    snprintf(dir, sizeof(dir), "%s/c%u", x->base, cpu);
    for (unsigned int i = 0; i < c->ncreated; i++)
        n += (size_t)snprintf(expect + n, sizeof(expect) - n, "k%u", c->order[i]) + 1;
    rc = run_op(x, cpu, &op, fn, arg);
    if (failed(x, cpu, &op, rc))
        return;
    x->r.dirs_checked++;
    if (op.reply_len != n || memcmp(buf, expect, n) != 0) {
        for (uint32_t i = 0; i < op.reply_len && i + 1 < sizeof(buf); i++)
            buf[i] = buf[i] == '\0' ? ' ' : buf[i];
        buf[op.reply_len < sizeof(buf) ? op.reply_len : sizeof(buf) - 1] = '\0';
        wrongf(x, "CPU %u: directory %s listed \"%.60s\" (%u bytes), expected %u keys", cpu, dir,
               buf, op.reply_len, c->ncreated);
    }
}

static void created(struct xs_cpu *c, unsigned int k)
{
    if (!c->created[k]) {
        c->created[k] = true;
        c->order[c->ncreated++] = (unsigned char)k;
    }
}

/* Write key k inside a transaction, read it there, commit; EAGAIN (a
 * conflict with another CPU's creation of a sibling, say) retries. */
static void txn_round(struct xsim_xsload *x, unsigned int cpu, unsigned int k, const char *path,
                      const char *value, xsim_xsload_op_fn fn, void *arg)
{
    struct xs_cpu *c = &x->cpu[cpu];

    x->r.txns++;
    for (int t = 0; t < TXN_TRIES; t++) {
        struct xsim_xs_op op = {.kind = XSIM_XS_OP_TXN_START};
        uint32_t tx;
        int rc = run_op(x, cpu, &op, fn, arg);
        if (failed(x, cpu, &op, rc))
            return;
        if ((tx = op.tx) == 0) {
            wrongf(x, "CPU %u: transaction start gave id 0", cpu);
            return;
        }
        op = (struct xsim_xs_op){.kind = XSIM_XS_OP_WRITE, .tx = tx, .path = path, .value = value};
        rc = run_op(x, cpu, &op, fn, arg);
        if (failed(x, cpu, &op, rc))
            return;
        read_back(x, cpu, tx, path, value, fn, arg);
        op = (struct xsim_xs_op){.kind = XSIM_XS_OP_TXN_END, .tx = tx, .commit = true};
        rc = run_op(x, cpu, &op, fn, arg);
        if (rc == -EAGAIN) {
            x->r.txn_retries++;
            continue;
        }
        if (failed(x, cpu, &op, rc))
            return;
        snprintf(c->last[k], sizeof(c->last[k]), "%s", value);
        created(c, k);
        return;
    }
    x->r.txn_gave_up++;
}

static void round_run(struct xsim_xsload *x, unsigned int cpu, xsim_xsload_op_fn fn, void *arg)
{
    const struct xsim_scn_workload *wl = x->wl;
    struct xs_cpu *c = &x->cpu[cpu];
    unsigned int k = (unsigned int)(c->rounds % (uint64_t)wl->keys);
    char path[PATH_MAX_], value[VALUE_MAX];
    bool txn = wl->transaction_every > 0 &&
               c->rounds % (uint64_t)wl->transaction_every == (uint64_t)wl->transaction_every - 1;

    key_path(x, cpu, k, path, sizeof(path));
    snprintf(value, sizeof(value), "c%u-r%" PRIu64 "%s", cpu, c->rounds, txn ? "-t" : "");
    c->rounds++;
    x->r.rounds++;
    if (txn) {
        txn_round(x, cpu, k, path, value, fn, arg);
    } else {
        struct xsim_xs_op op = {.kind = XSIM_XS_OP_WRITE, .path = path, .value = value};
        int rc = run_op(x, cpu, &op, fn, arg);
        if (failed(x, cpu, &op, rc))
            return;
        snprintf(c->last[k], sizeof(c->last[k]), "%s", value);
        created(c, k);
    }
    if (c->created[k])
        read_back(x, cpu, 0, path, c->last[k], fn, arg);
    list_dir(x, cpu, fn, arg);
}

static uint64_t gap(const struct xsim_scn_workload *wl, struct xsim_rng *rng, double rate)
{
    double mean = 1e9 / rate;

    if (wl->dist == XSIM_WL_POISSON)
        return 1 + (uint64_t)xsim_rng_exp(rng, mean);
    return mean < 1 ? 1 : (uint64_t)mean;
}

uint64_t xsim_xsload_poll(struct xsim_xsload *x, unsigned int cpu, uint64_t now_ns,
                          xsim_xsload_op_fn fn, void *arg)
{
    const struct xsim_scn_workload *wl = x->wl;
    struct xs_cpu *c;

    if (cpu >= x->prm.ncpus || !x->cpu[cpu].active)
        return UINT64_MAX;
    c = &x->cpu[cpu];
    if (cpu == x->watch_cpu && wl->watch && !x->watch_tried) {
        struct xsim_xs_op op = {.kind = XSIM_XS_OP_WATCH, .path = x->base, .token = x->token};
        x->watch_tried = true;
        x->r.watch_set = !failed(x, cpu, &op, run_op(x, cpu, &op, fn, arg));
    }
    if (x->prm.drain != NULL && *x->prm.drain != 0)
        return UINT64_MAX;
    if (wl->count != 0 && c->rounds >= wl->count)
        return UINT64_MAX;
    if (wl->stop_ns != 0 && now_ns >= wl->stop_ns)
        return UINT64_MAX;
    if (c->next == 0)
        c->next = (now_ns > wl->start_ns ? now_ns : wl->start_ns) + gap(wl, &c->rng, wl->rate);
    if (now_ns < c->next)
        return c->next;
    round_run(x, cpu, fn, arg);
    /* Rounds keep their own pace: a late one does not push the rest back
     * (nor bunch them up: at most one is owed at a time). */
    c->next += gap(wl, &c->rng, wl->rate);
    if (c->next <= now_ns)
        c->next = now_ns + 1;
    if (wl->count != 0 && c->rounds >= wl->count)
        return UINT64_MAX;
    return c->next;
}

/* ---- the toolstack's writes ---- */

static void storm(struct xsim_world *w, void *arg)
{
    struct xsim_xsload *x = arg;
    const struct xsim_scn_workload *wl = x->wl;
    char path[160], value[24];
    uint64_t n = x->r.storm_writes + x->r.storm_failed;

    if ((x->prm.drain != NULL && *x->prm.drain != 0) ||
        (wl->storm_count != 0 && n >= wl->storm_count))
        return;
    snprintf(path, sizeof(path), "/local/domain/%u/%s/storm/s%" PRIu64, (unsigned int)x->prm.domid,
             x->base, n % STORM_KEYS);
    snprintf(value, sizeof(value), "%" PRIu64, n);
    if (xsim_xshost_write(x->prm.xs, path, value) == 0)
        x->r.storm_writes++;
    else
        x->r.storm_failed++;
    x->storm_next += gap(wl, &x->storm_rng, wl->storm_rate);
    if (x->storm_next < x->prm.storm_stop_ns)
        (void)xsim_event_schedule(w, x->storm_next, EV_STORM, storm, x);
}

/* ---- the ledger of watch events ---- */

static bool known_path(const struct xsim_xsload *x, const char *path)
{
    for (size_t i = 0; i < x->npaths; i++) {
        if (strcmp(x->paths[i], path) == 0)
            return true;
    }
    return x->paths_full;
}

static void note_path(struct xsim_xsload *x, const char *path)
{
    if (known_path(x, path))
        return;
    if (x->npaths == MAX_PATHS || x->paths == NULL) {
        x->paths_full = true;
        return;
    }
    snprintf(x->paths[x->npaths++], PATH_MAX_, "%s", path);
}

const char *xsim_xsload_token(const struct xsim_xsload *x)
{
    return x->token;
}

void xsim_xsload_fired(struct xsim_xsload *x, const char *path, uint32_t plen, const char *token,
                       uint32_t tlen, uint64_t vt)
{
    struct ledger_ev *e;

    if (tlen != strlen(x->token) || memcmp(token, x->token, tlen) != 0)
        return;
    if (x->head > 0 && x->head == x->nev)
        x->head = x->nev = 0; /* all taken: start over */
    if (x->nev - x->head >= MAX_OUTSTANDING) {
        x->r.events_fired++;
        if (x->r.events_lost++ == 0 && x->r.event_detail[0] == '\0')
            snprintf(x->r.event_detail, sizeof(x->r.event_detail),
                     "%u events were waiting for their callback at once", MAX_OUTSTANDING);
        return;
    }
    if (x->nev == x->cap) {
        size_t cap = x->cap ? x->cap * 2 : 64;
        struct ledger_ev *ne;
        if (x->head > 0) {
            /* Compact first: taken events at the front are done with. */
            memmove(x->ev, x->ev + x->head, (x->nev - x->head) * sizeof(*x->ev));
            x->nev -= x->head;
            x->head = 0;
        }
        if (x->nev == x->cap) {
            ne = realloc(x->ev, cap * sizeof(*ne));
            if (ne == NULL) {
                x->r.events_fired++; /* cannot remember it: count it lost */
                x->r.events_lost++;
                return;
            }
            x->ev = ne;
            x->cap = cap;
        }
    }
    e = &x->ev[x->nev++];
    snprintf(e->path, sizeof(e->path), "%.*s",
             (int)(plen < sizeof(e->path) ? plen : sizeof(e->path) - 1), path);
    e->at = vt;
    e->taken = false;
    note_path(x, e->path);
    x->r.events_fired++;
}

/* A callback for `path` answers every event for that path queued before
 * it: a watch promises a callback after each change, not one per change
 * (xenstored merges identical queued events, and so does the guest's
 * client when its queue is full). Its delay is the oldest one's. A
 * callback with nothing left to answer repeats one that already came (its
 * event was answered by an earlier callback for the same path) unless no
 * event for that path was ever queued. */
void xsim_xsload_seen(struct xsim_xsload *x, unsigned int cpu, const char *path, uint64_t vt)
{
    bool any = false, ever = false;

    for (size_t i = x->head; i < x->nev; i++) {
        struct ledger_ev *e = &x->ev[i];
        if (strcmp(e->path, path) != 0)
            continue;
        ever = true;
        if (e->taken)
            continue;
        e->taken = true;
        x->r.events_seen++;
        if (!any && vt >= e->at && vt - e->at > x->r.event_latency_max) {
            x->r.event_latency_max = vt - e->at;
            x->r.event_latency_max_at = e->at;
        }
        any = true;
    }
    while (x->head < x->nev && x->ev[x->head].taken)
        x->head++;
    if (any || ever || known_path(x, path))
        return;
    if (x->r.events_unexpected++ == 0 && x->r.event_detail[0] == '\0')
        snprintf(x->r.event_detail, sizeof(x->r.event_detail),
                 "CPU %u's callback got an event for %.80s that was never queued for it", cpu,
                 path);
}

void xsim_xsload_reset(struct xsim_xsload *x)
{
    for (size_t i = x->head; i < x->nev; i++) {
        if (!x->ev[i].taken) {
            x->ev[i].taken = true;
            x->r.events_reset++;
        }
    }
    x->head = x->nev;
}

void xsim_xsload_resumed(struct xsim_xsload *x, uint64_t vt)
{
    for (size_t i = x->head; i < x->nev; i++) {
        if (!x->ev[i].taken && x->ev[i].at < vt)
            x->ev[i].at = vt;
    }
}

void xsim_xsload_result(const struct xsim_xsload *x, struct xsim_xsload_result *out)
{
    *out = x->r;
    out->events_lost = x->r.events_lost;
    for (size_t i = x->head; i < x->nev; i++) {
        if (x->ev[i].taken)
            continue;
        if (out->events_lost++ == 0 && out->events_unexpected == 0)
            snprintf(out->event_detail, sizeof(out->event_detail),
                     "the event for %.80s queued at %.3f ms never reached the callback",
                     x->ev[i].path, (double)x->ev[i].at / 1e6);
    }
}

/* ---- life ---- */

int xsim_xsload_create(const struct xsim_xsload_params *prm, struct xsim_xsload **out)
{
    const struct xsim_scn_workload *wl = prm->wl;
    struct xsim_xsload *x;
    char stream[64];

    *out = NULL;
    if (wl->keys < 1 || wl->keys > MAX_KEYS || prm->ncpus == 0 || !(wl->rate > 0))
        return -EINVAL;
    if ((x = calloc(1, sizeof(*x))) == NULL)
        return -ENOMEM;
    if ((x->cpu = calloc(prm->ncpus, sizeof(*x->cpu))) == NULL) {
        free(x);
        return -ENOMEM;
    }
    x->paths = calloc(MAX_PATHS, sizeof(*x->paths)); /* NULL: every path passes */
    x->prm = *prm;
    x->wl = wl;
    snprintf(x->base, sizeof(x->base), "data/%s", wl->name);
    snprintf(x->token, sizeof(x->token), "xsim-%s", wl->name);
    x->watch_cpu = wl->vcpu >= 0 ? (unsigned int)wl->vcpu : 0;
    for (unsigned int c = 0; c < prm->ncpus; c++) {
        x->cpu[c].active = wl->vcpu < 0 || (unsigned int)wl->vcpu == c;
        snprintf(stream, sizeof(stream), "workload:%s:c%u", wl->name, c);
        xsim_world_rng(prm->w, stream, &x->cpu[c].rng);
    }
    if (prm->xs != NULL && wl->storm_rate > 0) {
        snprintf(stream, sizeof(stream), "workload:%s:storm", wl->name);
        xsim_world_rng(prm->w, stream, &x->storm_rng);
        x->storm_next = wl->start_ns + gap(wl, &x->storm_rng, wl->storm_rate);
        if (x->storm_next < prm->storm_stop_ns &&
            xsim_event_schedule(prm->w, x->storm_next, EV_STORM, storm, x) == 0) {
            xsim_xsload_destroy(x);
            return -ENOMEM;
        }
    }
    *out = x;
    return 0;
}

void xsim_xsload_destroy(struct xsim_xsload *x)
{
    if (x == NULL)
        return;
    free(x->ev);
    free(x->paths);
    free(x->cpu);
    free(x);
}
