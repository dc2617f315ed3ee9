/*
 * xs_txn.c - transactions of the XenStore daemon, and the "view" through
 * which every request reads and changes the tree.
 *
 * Outside a transaction a view is the live tree. Inside one, every node a
 * request touches is recorded once, in first-access order, with the
 * generation it had then (or its absence) and a private copy of it: from
 * then on the transaction sees that copy (or the absence), whatever other
 * connections do, as xenstored 4.17 does; reads are repeatable. Commit
 * fails with EAGAIN if any recorded node's generation (or existence) has
 * changed since, which is how xenstored 4.17 detects conflicts; otherwise
 * the copies the transaction changed replace the live nodes and the
 * watches fire, in first-access order, before the reply is queued. The
 * copies are bounded as the records are: quota_txn_nodes per transaction
 * of an unprivileged connection.
 */
#include <errno.h>
#include <string.h>

#include "backends/xenstore/xs_internal.h"

/* ---- recorded accesses ---- */

static struct xs_tentry *entry_find(struct xs_txn *t, const char *path, uint32_t len)
{
    return (struct xs_tentry *)xs__htab_find(&t->entries, path, len, xs__hash(path, len));
}

/* Record the first access to `path`, whose live node is `live` (or NULL),
 * with a copy of it: the transaction's view of the node from now on. */
static struct xs_tentry *entry_new(struct xs_view *v, const char *path, uint32_t len,
                                   const struct xs_node *live, int *err)
{
    struct xs_txn *t = v->txn;
    struct xs_tentry *e;

    if (!v->conn->privileged && t->nentries >= v->xs->cfg.quota_txn_nodes) {
        *err = ENOSPC;
        return NULL;
    }
    e = xs__zalloc(v->xs, sizeof(*e));
    if (e == NULL) {
        *err = ENOMEM;
        return NULL;
    }
    e->path = xs__memdup(v->xs, path, len);
    if (e->path == NULL) {
        xs__free(v->xs, e);
        *err = ENOMEM;
        return NULL;
    }
    if (live != NULL) {
        e->copy = xs__node_dup(v->xs, live);
        if (e->copy == NULL) {
            xs__free(v->xs, e->path);
            xs__free(v->xs, e);
            *err = ENOMEM;
            return NULL;
        }
    }
    e->pathlen = len;
    e->h.key = e->path;
    e->h.klen = len;
    e->h.hash = xs__hash(path, len);
    e->base_exists = live != NULL;
    e->base_gen = live != NULL ? live->gen : 0;
    e->exact = true;
    xs__htab_insert(v->xs, &t->entries, &e->h);
    if (t->last != NULL)
        t->last->next_order = e;
    else
        t->first = e;
    t->last = e;
    t->nentries++;
    return e;
}

static struct xs_tentry *entry_get(struct xs_view *v, const char *path, uint32_t len, int *err)
{
    struct xs_tentry *e = entry_find(v->txn, path, len);

    if (e != NULL)
        return e;
    return entry_new(v, path, len, xs__node_get(v->xs, path, len), err);
}

/* ---- views ---- */

const struct xs_node *xs__view_get(struct xs_view *v, const char *path, uint32_t len, int *err)
{
    struct xs_tentry *e;

    *err = 0;
    if (v->txn == NULL)
        return xs__node_get(v->xs, path, len);
    e = entry_get(v, path, len, err);
    if (e == NULL)
        return NULL;
    return e->copy;
}

struct xs_node *xs__view_modify(struct xs_view *v, const char *path, uint32_t len, int *err)
{
    struct xs_tentry *e;

    *err = 0;
    if (v->txn == NULL) {
        struct xs_node *live = xs__node_get(v->xs, path, len);

        if (live == NULL)
            *err = ENOENT; /* callers only modify nodes they have just seen */
        return live;
    }
    e = entry_get(v, path, len, err);
    if (e == NULL)
        return NULL;
    if (e->copy == NULL) {
        *err = ENOENT; /* absent in this transaction's view */
        return NULL;
    }
    e->modified = true;
    return e->copy;
}

void xs__view_touch(struct xs_view *v, struct xs_node *n)
{
    n->gen = ++v->xs->gen;
}

static void count_delta(struct xs_view *v, const struct xs_node *n, long d)
{
    if (n->nperms > 0 && n->perms[0].domid == v->conn->domid)
        v->txn->node_delta += d;
}

int xs__view_create(struct xs_view *v, struct xs_node *n)
{
    struct xs_tentry *e;
    int err = 0;

    n->gen = ++v->xs->gen;
    if (v->txn == NULL) {
        xs__tree_insert(v->xs, n);
        return 0;
    }
    e = entry_get(v, n->path, n->pathlen, &err);
    if (e == NULL) {
        xs__node_free(v->xs, n);
        return -err;
    }
    xs__node_free(v->xs, e->copy); /* NULL: the node is absent in this view */
    e->copy = n;
    e->modified = true;
    count_delta(v, n, 1);
    return 0;
}

int xs__view_delete(struct xs_view *v, const char *path, uint32_t len)
{
    struct xs_tentry *e;
    int err = 0;

    if (v->txn == NULL) {
        struct xs_node *live = xs__node_get(v->xs, path, len);

        if (live != NULL) {
            xs__tree_remove(v->xs, live);
            xs__node_free(v->xs, live);
        }
        return 0;
    }
    e = entry_get(v, path, len, &err);
    if (e == NULL)
        return -err;
    if (e->copy != NULL) {
        count_delta(v, e->copy, -1);
        xs__node_free(v->xs, e->copy);
        e->copy = NULL;
    }
    e->modified = true;
    return 0;
}

int xs__view_fire(struct xs_view *v, const char *path, uint32_t len, bool exact)
{
    struct xs_tentry *e;
    int err = 0;

    if (v->txn == NULL) {
        const struct xs_node *n = xs__node_get(v->xs, path, len);

        if (n != NULL)
            xs__fire(v->xs, path, len, exact, n->perms, n->nperms);
        return 0;
    }
    e = entry_get(v, path, len, &err);
    if (e == NULL)
        return -err;
    e->fire = true;
    /* Exact only if every change was the recursive delete of a
     * descendant: one ordinary write makes ancestors' watches fire. */
    e->exact = e->exact && exact;
    return 0;
}

/* ---- transactions ---- */

struct xs_txn *xs__txn_find(struct xsim_xs_conn *c, uint32_t id)
{
    for (struct xs_txn *t = c->txns; t != NULL; t = t->next) {
        if (t->id == id)
            return t;
    }
    return NULL;
}

int xs__txn_start(struct xsim_xs_conn *c, uint32_t *id)
{
    struct xsim_xs *xs = c->xs;
    unsigned int limit = c->privileged ? xs->cfg.priv_max_transactions : xs->cfg.quota_transactions;
    struct xs_txn *t;

    if (c->ntxns >= limit)
        return -ENOSPC;
    t = xs__zalloc(xs, sizeof(*t));
    if (t == NULL)
        return -ENOMEM;
    if (xs__htab_init(xs, &t->entries, 16) != 0) {
        xs__free(xs, t);
        return -ENOMEM;
    }
    /* Ids count up per connection from 1, as the reference's do; skip 0
     * and any still open after a wrap. */
    while (c->next_txid == 0 || xs__txn_find(c, c->next_txid) != NULL)
        c->next_txid++;
    t->id = c->next_txid++;
    t->next = c->txns;
    c->txns = t;
    c->ntxns++;
    *id = t->id;
    return 0;
}

static void txn_free(struct xsim_xs_conn *c, struct xs_txn *t)
{
    struct xs_tentry *e = t->first, *next;
    struct xs_txn **pp;

    for (; e != NULL; e = next) {
        next = e->next_order;
        xs__node_free(c->xs, e->copy);
        xs__free(c->xs, e->path);
        xs__free(c->xs, e);
    }
    xs__htab_fini(c->xs, &t->entries);
    for (pp = &c->txns; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == t) {
            *pp = t->next;
            break;
        }
    }
    c->ntxns--;
    xs__free(c->xs, t);
}

void xs__txn_free_all(struct xsim_xs_conn *c)
{
    while (c->txns != NULL)
        txn_free(c, c->txns);
}

static bool txn_conflicts(struct xsim_xs *xs, const struct xs_txn *t)
{
    for (const struct xs_tentry *e = t->first; e != NULL; e = e->next_order) {
        const struct xs_node *live = xs__node_get(xs, e->path, e->pathlen);

        if ((live != NULL) != e->base_exists)
            return true;
        if (live != NULL && live->gen != e->base_gen)
            return true;
    }
    return false;
}

static void txn_apply(struct xsim_xs *xs, struct xs_txn *t)
{
    /* Events first, in first-access order: they depend only on the
     * entries, and a deleted node's permissions are still at hand. A node
     * that neither existed before nor exists after changed nothing. */
    for (struct xs_tentry *e = t->first; e != NULL; e = e->next_order) {
        const struct xs_node *n;

        if (!e->modified || !e->fire || (!e->base_exists && e->copy == NULL))
            continue;
        n = e->copy != NULL ? e->copy : xs__node_get(xs, e->path, e->pathlen);
        if (n != NULL)
            xs__fire(xs, e->path, e->pathlen, e->exact, n->perms, n->nperms);
    }
    /* No allocation below: a commit that got this far cannot fail. */
    for (struct xs_tentry *e = t->first; e != NULL; e = e->next_order) {
        struct xs_node *live;

        if (!e->modified)
            continue;
        live = xs__node_get(xs, e->path, e->pathlen);
        if (live != NULL) {
            xs__tree_remove(xs, live);
            xs__node_free(xs, live);
        }
        if (e->copy != NULL) {
            e->copy->gen = ++xs->gen;
            xs__tree_insert(xs, e->copy);
            e->copy = NULL;
        }
    }
}

int xs__txn_end(struct xsim_xs_conn *c, struct xs_txn *t, bool commit)
{
    struct xsim_xs *xs = c->xs;
    int ret = 0;

    if (commit) {
        if (txn_conflicts(xs, t)) {
            ret = -EAGAIN;
        } else if (!c->privileged && t->node_delta > 0) {
            struct xs_domain *d = xs__domain(xs, c->domid, false);
            long have = d != NULL ? d->nodes : 0;

            if (have + t->node_delta > (long)xs->cfg.quota_nodes)
                ret = -ENOSPC;
        }
        if (ret == 0)
            txn_apply(xs, t);
    }
    txn_free(c, t);
    return ret;
}
