/*
 * xs_store.c - the XenStore tree: nodes with values, permissions and
 * ordered child lists in a path-keyed table; domains and the nodes each
 * owns; store creation with the reference's initial tree.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "backends/xenstore/xs_internal.h"

void xsim_xs_config_init(struct xsim_xs_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->quota_nodes = XSIM_XS_QUOTA_NODES;
    cfg->quota_node_size = XSIM_XS_QUOTA_NODE_SIZE;
    cfg->quota_perms = XSIM_XS_QUOTA_PERMS;
    cfg->quota_transactions = XSIM_XS_QUOTA_TRANSACTION;
    cfg->quota_watches = XSIM_XS_QUOTA_WATCHES;
    cfg->quota_outstanding = XSIM_XS_QUOTA_OUTSTANDING;
    cfg->quota_txn_nodes = XSIM_XS_QUOTA_TXN_NODES;
    cfg->priv_max_watches = XSIM_XS_PRIV_MAX_WATCHES;
    cfg->priv_max_transactions = XSIM_XS_PRIV_MAX_TRANSACTIONS;
    cfg->max_queued_events = XSIM_XS_MAX_QUEUED_EVENTS;
    cfg->max_output_bytes = XSIM_XS_MAX_OUTPUT_BYTES;
}

/* ---- nodes ---- */

struct xs_node *xs__node_get(const struct xsim_xs *xs, const char *path, uint32_t len)
{
    struct xs_hent *e = xs__htab_find(&xs->nodes, path, len, xs__hash(path, len));

    return (struct xs_node *)e;
}

struct xs_node *xs__node_new(struct xsim_xs *xs, const char *path, uint32_t len)
{
    struct xs_node *n = xs__zalloc(xs, sizeof(*n));

    if (n == NULL)
        return NULL;
    n->path = xs__memdup(xs, path, len);
    if (n->path == NULL) {
        xs__free(xs, n);
        return NULL;
    }
    n->pathlen = len;
    n->h.key = n->path;
    n->h.klen = len;
    n->h.hash = xs__hash(path, len);
    return n;
}

void xs__node_free(struct xsim_xs *xs, struct xs_node *n)
{
    if (n == NULL)
        return;
    xs__free(xs, n->path);
    xs__free(xs, n->value);
    xs__free(xs, n->perms);
    xs__free(xs, n->children);
    xs__free(xs, n);
}

struct xs_node *xs__node_dup(struct xsim_xs *xs, const struct xs_node *src)
{
    struct xs_node *n = xs__node_new(xs, src->path, src->pathlen);

    if (n == NULL)
        return NULL;
    n->gen = src->gen;
    if (xs__node_set_value(xs, n, src->value, src->vlen) != 0 ||
        xs__node_set_perms(xs, n, src->perms, src->nperms) != 0)
        goto fail;
    if (src->clen > 0) {
        n->children = xs__alloc(xs, src->clen);
        if (n->children == NULL)
            goto fail;
        memcpy(n->children, src->children, src->clen);
        n->clen = n->ccap = src->clen;
    }
    return n;
fail:
    xs__node_free(xs, n);
    return NULL;
}

int xs__node_set_value(struct xsim_xs *xs, struct xs_node *n, const char *v, uint32_t len)
{
    char *nv = NULL;

    if (len > 0) {
        nv = xs__alloc(xs, len);
        if (nv == NULL)
            return -ENOMEM;
        memcpy(nv, v, len);
    }
    xs__free(xs, n->value);
    n->value = nv;
    n->vlen = len;
    return 0;
}

int xs__node_set_perms(struct xsim_xs *xs, struct xs_node *n, const struct xs_perm *p, uint32_t np)
{
    struct xs_perm *np_ = xs__alloc(xs, np * sizeof(*p));

    if (np_ == NULL)
        return -ENOMEM;
    memcpy(np_, p, np * sizeof(*p));
    xs__free(xs, n->perms);
    n->perms = np_;
    n->nperms = np;
    return 0;
}

int xs__node_reserve_child(struct xsim_xs *xs, struct xs_node *n, uint32_t len)
{
    uint32_t need = n->clen + len + 1, cap;
    char *c;

    if (need <= n->ccap)
        return 0;
    cap = n->ccap < 64 ? 64 : n->ccap;
    while (cap < need)
        cap *= 2;
    c = xs__realloc(xs, n->children, cap);
    if (c == NULL)
        return -ENOMEM;
    n->children = c;
    n->ccap = cap;
    return 0;
}

void xs__node_add_child(struct xs_node *n, const char *name, uint32_t len)
{
    memcpy(n->children + n->clen, name, len);
    n->children[n->clen + len] = '\0';
    n->clen += len + 1;
}

bool xs__node_del_child(struct xs_node *n, const char *name, uint32_t len)
{
    uint32_t off = 0;

    while (off < n->clen) {
        uint32_t l = (uint32_t)strlen(n->children + off);

        if (l == len && memcmp(n->children + off, name, len) == 0) {
            memmove(n->children + off, n->children + off + l + 1, n->clen - off - l - 1);
            n->clen -= l + 1;
            return true;
        }
        off += l + 1;
    }
    return false;
}

static uint32_t owner_of(const struct xs_node *n)
{
    return n->nperms > 0 ? n->perms[0].domid : 0;
}

void xs__tree_insert(struct xsim_xs *xs, struct xs_node *n)
{
    xs__htab_insert(xs, &xs->nodes, &n->h);
    xs__owner_count(xs, owner_of(n), 1);
}

void xs__tree_remove(struct xsim_xs *xs, struct xs_node *n)
{
    xs__htab_remove(&xs->nodes, &n->h);
    xs__owner_count(xs, owner_of(n), -1);
}

size_t xsim_xs_node_count(const struct xsim_xs *xs)
{
    return xs->nodes.n;
}

/* ---- domains ---- */

struct xs_domain *xs__domain(struct xsim_xs *xs, uint32_t domid, bool create)
{
    struct xs_domain *d;

    for (unsigned int i = 0; i < xs->ndoms; i++) {
        if (xs->doms[i].domid == domid)
            return &xs->doms[i];
    }
    if (!create)
        return NULL;
    if (xs->ndoms == xs->domcap) {
        unsigned int cap = xs->domcap ? xs->domcap * 2 : 8;

        d = xs__realloc(xs, xs->doms, cap * sizeof(*d));
        if (d == NULL)
            return NULL;
        xs->doms = d;
        xs->domcap = cap;
    }
    d = &xs->doms[xs->ndoms++];
    memset(d, 0, sizeof(*d));
    d->domid = domid;
    return d;
}

bool xs__domain_exists(struct xsim_xs *xs, uint32_t domid)
{
    struct xs_domain *d = xs__domain(xs, domid, false);

    if (d != NULL && d->introduced)
        return true;
    if (xs->cfg.domain_exists != NULL)
        return xs->cfg.domain_exists(xs->cfg.ctx, domid);
    return false;
}

bool xsim_xs_domain_introduced(const struct xsim_xs *xs, unsigned int domid)
{
    for (unsigned int i = 0; i < xs->ndoms; i++) {
        if (xs->doms[i].domid == domid)
            return xs->doms[i].introduced;
    }
    return false;
}

void xs__owner_count(struct xsim_xs *xs, uint32_t domid, long delta)
{
    /* If the record cannot be allocated the count is lost: that domain's
     * quota becomes lenient, nothing breaks. */
    struct xs_domain *d = xs__domain(xs, domid, true);

    if (d != NULL)
        d->nodes += delta;
}

/* What `c` may do with a node carrying `p` (xenstored's perm_for_conn):
 * everything if privileged or the owner, else the first entry naming its
 * domain (or its target), else the owner entry's default. */
unsigned int xs__perm_for(const struct xsim_xs_conn *c, const struct xs_perm *p, uint32_t np)
{
    const struct xs_domain *d;
    bool has_target = false;
    uint32_t target = 0;

    if (c->privileged || np == 0)
        return XS__PERM_ALL;
    d = xs__domain(c->xs, c->domid, false);
    if (d != NULL && d->has_target) {
        has_target = true;
        target = d->target;
    }
    if (p[0].domid == c->domid || (has_target && p[0].domid == target))
        return XS__PERM_ALL;
    for (uint32_t i = 1; i < np; i++) {
        if (!p[i].ignore && (p[i].domid == c->domid || (has_target && p[i].domid == target)))
            return p[i].perm;
    }
    return p[0].perm;
}

/* ---- store ---- */

static int add_initial(struct xsim_xs *xs, const char *path, const char *parent)
{
    static const struct xs_perm owner0 = {.domid = 0, .perm = 0, .ignore = 0};
    struct xs_node *n = xs__node_new(xs, path, (uint32_t)strlen(path));

    if (n == NULL || xs__node_set_perms(xs, n, &owner0, 1) != 0)
        goto fail;
    if (parent != NULL) {
        struct xs_node *p = xs__node_get(xs, parent, (uint32_t)strlen(parent));
        const char *name = strrchr(path, '/') + 1;

        if (xs__node_reserve_child(xs, p, (uint32_t)strlen(name)) != 0)
            goto fail;
        xs__node_add_child(p, name, (uint32_t)strlen(name));
        p->gen = ++xs->gen;
    }
    n->gen = ++xs->gen;
    xs__tree_insert(xs, n);
    return 0;
fail:
    xs__node_free(xs, n);
    return -ENOMEM;
}

int xsim_xs_create(const struct xsim_xs_config *cfg, struct xsim_xs **out)
{
    struct xsim_xs_config def;
    struct xsim_xs *xs;
    struct xs_domain *d0;

    *out = NULL;
    if (cfg == NULL) {
        xsim_xs_config_init(&def);
        cfg = &def;
    }
    if (cfg->alloc != NULL)
        xs = cfg->alloc(cfg->ctx, NULL, sizeof(*xs));
    else
        xs = malloc(sizeof(*xs));
    if (xs == NULL)
        return -ENOMEM;
    memset(xs, 0, sizeof(*xs));
    xs->cfg = *cfg;
    if (xs__htab_init(xs, &xs->nodes, 256) != 0)
        goto fail;
    d0 = xs__domain(xs, 0, true);
    if (d0 == NULL)
        goto fail;
    d0->introduced = true;
    for (int i = 0; i < 2; i++) {
        xs->spec_perms[i] = xs__zalloc(xs, sizeof(struct xs_perm));
        if (xs->spec_perms[i] == NULL)
            goto fail;
        xs->spec_nperms[i] = 1;
    }
    if (add_initial(xs, "/", NULL) != 0 || add_initial(xs, "/tool", "/") != 0 ||
        add_initial(xs, "/tool/xenstored", "/tool") != 0)
        goto fail;
    *out = xs;
    return 0;
fail:
    xsim_xs_destroy(xs);
    return -ENOMEM;
}

void xsim_xs_destroy(struct xsim_xs *xs)
{
    void *(*alloc)(void *, void *, size_t);
    void *ctx;

    if (xs == NULL)
        return;
    /* Connections are the transports' to close; any left are closed here
     * so that nothing leaks, but their transports will not know. */
    while (xs->conns_head != NULL)
        xsim_xs_conn_close(xs->conns_head);
    if (xs->nodes.b != NULL) {
        for (size_t i = 0; i <= xs->nodes.mask; i++) {
            struct xs_hent *e = xs->nodes.b[i], *next;

            for (; e != NULL; e = next) {
                next = e->next;
                xs__node_free(xs, (struct xs_node *)e);
            }
        }
        xs__htab_fini(xs, &xs->nodes);
    }
    for (int i = 0; i < 2; i++)
        xs__free(xs, xs->spec_perms[i]);
    xs__free(xs, xs->doms);
    alloc = xs->cfg.alloc;
    ctx = xs->cfg.ctx;
    if (alloc != NULL)
        alloc(ctx, xs, 0);
    else
        free(xs);
}
