/*
 * xs_ops.c - the XenStore requests: parsing each type's payload, checking
 * permissions and quotas, changing the tree through a view, replying.
 * Behaviour (errors and their order, events, replies) follows xenstored
 * 4.17; see xenstore.h for the deliberate differences.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/xenstore/xs_internal.h"

struct xs_req {
    struct xsim_xs_conn *c;
    struct xsim_xs *xs;
    const char *p; /* payload; p[len] is a NUL we added */
    uint32_t len;
    struct xs_view v;
};

/* ---- replies ---- */

static void reply(struct xs_req *r, uint32_t type, const void *data, uint32_t len)
{
    const struct xsd_sockmsg *h = &r->c->hdr;

    (void)xs__queue_reply(r->c, type, h->req_id, h->tx_id, data, len);
}

static void reply_ok(struct xs_req *r)
{
    reply(r, r->c->hdr.type, "OK", 3);
}

static void reply_error(struct xs_req *r, int err)
{
    const char *name = xs__errname(err);

    r->c->st.errors++;
    reply(r, XS_ERROR, name, (uint32_t)strlen(name) + 1);
}

/* ---- payload parsing ---- */

/* The payload as exactly one NUL-terminated string, or NULL. */
static const char *onearg(const struct xs_req *r)
{
    if (r->len == 0 || strlen(r->p) + 1 != r->len)
        return NULL;
    return r->p;
}

/* NUL-terminated strings in the payload (bytes after the last NUL are
 * ignored); fills up to `max` of them into vec. */
static unsigned int get_strings(const struct xs_req *r, const char **vec, unsigned int max)
{
    unsigned int n = 0;
    uint32_t off = 0;

    while (off < r->len) {
        const char *nul = memchr(r->p + off, '\0', r->len - off);

        if (nul == NULL)
            break;
        if (n < max)
            vec[n] = r->p + off;
        n++;
        off = (uint32_t)(nul - r->p) + 1;
    }
    return n;
}

/* NUL bytes in the payload (xenstored's xs_count_strings). */
static unsigned int count_nuls(const struct xs_req *r)
{
    unsigned int n = 0;

    for (uint32_t i = 0; i < r->len; i++)
        n += r->p[i] == '\0';
    return n;
}

/* ---- lookups ---- */

/*
 * A node for an operation needing `perm`. A missing node is ENOENT only if
 * the nearest existing ancestor would grant `perm`, else EACCES, so that
 * errors say nothing about nodes the caller may not see. The ancestors read
 * on the way are recorded in a transaction, as the reference's are.
 */
static const struct xs_node *get_node(struct xs_req *r, const char *path, uint32_t len,
                                      unsigned int perm, int *err)
{
    const struct xs_node *n = xs__view_get(&r->v, path, len, err), *a = NULL;
    uint32_t l = len;

    if (*err != 0)
        return NULL;
    if (n != NULL) {
        if ((xs__perm_for(r->c, n->perms, n->nperms) & perm) != perm) {
            *err = EACCES;
            return NULL;
        }
        return n;
    }
    while (a == NULL && l > 1) {
        l = xs__parent_len(path, l);
        a = xs__view_get(&r->v, path, l, err);
        if (*err != 0)
            return NULL;
    }
    if (a == NULL)
        *err = ENOENT;
    else
        *err = (xs__perm_for(r->c, a->perms, a->nperms) & perm) != 0 ? ENOENT : EACCES;
    return NULL;
}

static long domain_nodes(struct xs_req *r)
{
    struct xs_domain *d = xs__domain(r->xs, r->c->domid, false);
    long n = d != NULL ? d->nodes : 0;

    if (r->v.txn != NULL)
        n += r->v.txn->node_delta;
    return n;
}

/* ---- creating nodes ---- */

/*
 * Create `path` (which does not exist) and any missing ancestors, as WRITE
 * and MKDIR do. New nodes inherit the permissions of the nearest existing
 * ancestor; an unprivileged creator becomes their owner. Everything that
 * can fail is done before the tree changes.
 */
static int create_chain(struct xs_req *r, const char *path, uint32_t len, const char *value,
                        uint32_t vlen)
{
    struct xsim_xs *xs = r->xs;
    uint32_t *lens, k = 1, l = len;
    struct xs_node **nodes;
    const struct xs_node *a = NULL;
    struct xs_node *m;
    int err = 0;

    /* Find the nearest existing ancestor; k = nodes to create. */
    for (;;) {
        l = xs__parent_len(path, l);
        a = xs__view_get(&r->v, path, l, &err);
        if (err != 0)
            return err;
        if (a != NULL || l <= 1)
            break;
        k++;
    }
    if (a == NULL)
        return ENOENT;
    if (!r->c->privileged && domain_nodes(r) + (long)k > (long)xs->cfg.quota_nodes)
        return ENOSPC;
    /* lens[i]: length of the i-th new path, the deepest first */
    nodes = xs__zalloc(xs, k * (sizeof(*nodes) + sizeof(*lens)));
    if (nodes == NULL)
        return ENOMEM;
    lens = (uint32_t *)(nodes + k);
    lens[0] = len;
    for (uint32_t i = 1; i < k; i++)
        lens[i] = xs__parent_len(path, lens[i - 1]);

    for (uint32_t i = 0; i < k; i++) {
        struct xs_node *n = xs__node_new(xs, path, lens[i]);

        nodes[i] = n;
        if (n == NULL || xs__node_set_perms(xs, n, a->perms, a->nperms) != 0)
            goto nomem;
        if (!r->c->privileged)
            n->perms[0].domid = r->c->domid;
        if (i == 0 && xs__node_set_value(xs, n, value, vlen) != 0)
            goto nomem;
        if (i > 0 && xs__node_reserve_child(xs, n, lens[i - 1] - lens[i] - 1) != 0)
            goto nomem;
    }
    m = xs__view_modify(&r->v, path, l, &err);
    if (m == NULL)
        goto fail;
    if (xs__node_reserve_child(xs, m, lens[k - 1] - l - (l > 1)) != 0)
        goto nomem;

    /* Commit point: nothing below fails (in a transaction every path has
     * been recorded by get_node and the loop above). */
    xs__node_add_child(m, path + l + (l > 1), lens[k - 1] - l - (l > 1));
    xs__view_touch(&r->v, m);
    for (uint32_t i = k; i-- > 0;) {
        if (i > 0)
            xs__node_add_child(nodes[i], path + lens[i] + 1, lens[i - 1] - lens[i] - 1);
        err = -xs__view_create(&r->v, nodes[i]);
        nodes[i] = NULL;
        if (err != 0)
            goto fail;
    }
    xs__free(xs, nodes);
    return 0;
nomem:
    err = ENOMEM;
fail:
    for (uint32_t i = 0; i < k; i++)
        xs__node_free(xs, nodes[i]);
    xs__free(xs, nodes);
    return err;
}

/* ---- removing nodes ---- */

/*
 * Removal follows xenstored 4.17's tree walk: depth first, children in list
 * order, each node removed once its children are, and taken off its
 * parent's child list then. Outside a transaction the tree is consistent
 * and the walk cannot fail. Inside one, the transaction's view may not be:
 * its copy of a node may list a child absent from the view (others removed
 * it after the node was first seen), or lack one that is there (others
 * created it after). The reference takes either for a corrupt tree and
 * answers EIO, keeping what the walk had already removed; so do we. Such a
 * transaction cannot commit anyway: what made the view inconsistent is a
 * change to a node it recorded.
 */

/* Record the subtree in a transaction, in the walk's order, up to where
 * the walk will stop, so that removing it afterwards allocates nothing. */
static int rm_record(struct xs_req *r, char *buf, uint32_t len)
{
    int err = 0;
    const struct xs_node *n = xs__view_get(&r->v, buf, len, &err);

    if (n == NULL)
        return err != 0 ? err : EIO;
    for (uint32_t off = 0; off < n->clen;) {
        uint32_t cl = (uint32_t)strlen(n->children + off);

        if (len + 1 + cl < XS__PATH_BUF) {
            buf[len] = '/';
            memcpy(buf + len + 1, n->children + off, cl + 1);
            err = rm_record(r, buf, len + 1 + cl);
            buf[len] = '\0';
            if (err != 0)
                return err;
        }
        off += cl + 1;
    }
    return 0;
}

/* Remove the subtree at buf[0..len); watches on each removed descendant
 * fire (exactly), then those on the removed node and its ancestors. In a
 * transaction each removed descendant leaves its parent's list at once, so
 * that a walk stopped by EIO leaves what the reference's does. Returns 0
 * or EIO. */
static int rm_apply(struct xs_req *r, char *buf, uint32_t len, bool top)
{
    bool unlink = r->v.txn != NULL;
    const struct xs_node *n;
    int err = 0;

    n = xs__view_get(&r->v, buf, len, &err); /* recorded: cannot fail */
    if (n == NULL)
        return EIO; /* listed by its parent, absent from the view */
    for (uint32_t off = 0; off < n->clen;) {
        uint32_t cl = (uint32_t)strlen(n->children + off);

        if (len + 1 + cl >= XS__PATH_BUF) {
            off += cl + 1;
            continue;
        }
        buf[len] = '/';
        memcpy(buf + len + 1, n->children + off, cl + 1);
        err = rm_apply(r, buf, len + 1 + cl, false);
        buf[len] = '\0';
        if (err != 0)
            return err;
        if (!unlink)
            off += cl + 1; /* else the next child has moved up to off */
    }
    (void)xs__view_fire(&r->v, buf, len, !top);
    (void)xs__view_delete(&r->v, buf, len);
    if (unlink && !top) {
        uint32_t plen = xs__parent_len(buf, len);
        struct xs_node *p = xs__view_modify(&r->v, buf, plen, &err);

        if (p != NULL) {
            (void)xs__node_del_child(p, buf + plen + 1, len - plen - 1);
            xs__view_touch(&r->v, p);
        }
    }
    return 0;
}

/* ---- request handlers: 0 (replied) or a positive errno ---- */

static int op_read(struct xs_req *r)
{
    const char *arg = onearg(r);
    char path[XS__PATH_BUF];
    const struct xs_node *n;
    int len, err;

    if (arg == NULL || (len = xs__canon(r->c, arg, path)) < 0)
        return EINVAL;
    n = get_node(r, path, (uint32_t)len, XS__PERM_READ, &err);
    if (n == NULL)
        return err;
    reply(r, XS_READ, n->value, n->vlen);
    return 0;
}

static int op_directory(struct xs_req *r)
{
    const char *arg = onearg(r);
    char path[XS__PATH_BUF];
    const struct xs_node *n;
    int len, err;

    if (arg == NULL || (len = xs__canon(r->c, arg, path)) < 0)
        return EINVAL;
    n = get_node(r, path, (uint32_t)len, XS__PERM_READ, &err);
    if (n == NULL)
        return err;
    if (n->clen > XENSTORE_PAYLOAD_MAX)
        return E2BIG;
    reply(r, XS_DIRECTORY, n->children, n->clen);
    return 0;
}

/*
 * DIRECTORY_PART: "<generation>\0" then as many whole child names from
 * byte offset `off` of the child list as fit, then an empty name ("\0")
 * only if the list ended. The generation lets a client notice that the
 * list changed between parts. The fit rule is the reference's.
 */
static int op_directory_part(struct xs_req *r)
{
    char path[XS__PATH_BUF], gen[24];
    const struct xs_node *n;
    uint32_t off, genlen, maxlen, len = 0;
    char *out = r->xs->reply;
    int plen, err;

    if (count_nuls(r) != 2 || (plen = xs__canon(r->c, r->p, path)) < 0)
        return EINVAL;
    n = get_node(r, path, (uint32_t)plen, XS__PERM_READ, &err);
    if (n == NULL)
        return err;
    off = xs__atou(r->p + strlen(r->p) + 1);
    genlen = (uint32_t)snprintf(gen, sizeof(gen), "%" PRIu64, n->gen) + 1;
    memcpy(out, gen, genlen);
    if (off >= n->clen) {
        out[genlen] = '\0';
        reply(r, XS_DIRECTORY_PART, out, genlen + 1);
        return 0;
    }
    maxlen = XENSTORE_PAYLOAD_MAX - genlen - 1;
    while (off + len < n->clen) {
        uint32_t cl = (uint32_t)strlen(n->children + off + len);

        if (len + cl >= maxlen)
            break;
        len += cl + 1;
    }
    memcpy(out + genlen, n->children + off, len);
    if (off + len >= n->clen) {
        out[genlen + len] = '\0';
        len++;
    }
    reply(r, XS_DIRECTORY_PART, out, genlen + len);
    return 0;
}

static int op_get_perms(struct xs_req *r)
{
    const char *arg = onearg(r);
    char path[XS__PATH_BUF];
    const struct xs_node *n;
    char *out = r->xs->reply;
    uint32_t used = 0;
    int len, err;

    if (arg == NULL || (len = xs__canon(r->c, arg, path)) < 0)
        return EINVAL;
    n = get_node(r, path, (uint32_t)len, XS__PERM_READ, &err);
    if (n == NULL)
        return err;
    for (uint32_t i = 0; i < n->nperms; i++) {
        static const char letter[4] = {'n', 'r', 'w', 'b'};
        char one[16];
        int l = snprintf(one, sizeof(one), "%c%" PRIu32, letter[n->perms[i].perm & 3],
                         n->perms[i].domid);

        if (used + (uint32_t)l + 1 > XENSTORE_PAYLOAD_MAX)
            return E2BIG;
        memcpy(out + used, one, (size_t)l + 1);
        used += (uint32_t)l + 1;
    }
    reply(r, XS_GET_PERMS, out, used);
    return 0;
}

static int write_node(struct xs_req *r, const char *path, uint32_t len, const char *value,
                      uint32_t vlen, bool mkdir)
{
    const struct xs_node *n;
    struct xs_node *m;
    int err;

    n = get_node(r, path, len, XS__PERM_WRITE, &err);
    if (n == NULL && err != ENOENT)
        return err;
    if (!r->c->privileged && vlen > r->xs->cfg.quota_node_size)
        return ENOSPC;
    if (n != NULL) {
        if (mkdir)
            return 0; /* exists already: nothing changes, nothing fires */
        m = xs__view_modify(&r->v, path, len, &err);
        if (m == NULL)
            return err;
        if (xs__node_set_value(r->xs, m, value, vlen) != 0)
            return ENOMEM;
        xs__view_touch(&r->v, m);
    } else {
        err = create_chain(r, path, len, value, vlen);
        if (err != 0)
            return err;
    }
    return -xs__view_fire(&r->v, path, len, false);
}

static int op_write(struct xs_req *r)
{
    char path[XS__PATH_BUF];
    size_t plen = strnlen(r->p, r->len);
    int len, err;

    if (plen == r->len || (len = xs__canon(r->c, r->p, path)) < 0)
        return EINVAL;
    err = write_node(r, path, (uint32_t)len, r->p + plen + 1, r->len - (uint32_t)plen - 1, false);
    if (err == 0)
        reply_ok(r);
    return err;
}

static int op_mkdir(struct xs_req *r)
{
    const char *arg = onearg(r);
    char path[XS__PATH_BUF];
    int len, err;

    if (arg == NULL || (len = xs__canon(r->c, arg, path)) < 0)
        return EINVAL;
    err = write_node(r, path, (uint32_t)len, NULL, 0, true);
    if (err == 0)
        reply_ok(r);
    return err;
}

static int op_rm(struct xs_req *r)
{
    const char *arg = onearg(r);
    char path[XS__PATH_BUF];
    const struct xs_node *n;
    struct xs_node *parent;
    uint32_t plen;
    int len, err;

    if (arg == NULL || (len = xs__canon(r->c, arg, path)) < 0 || len == 1)
        return EINVAL;
    plen = xs__parent_len(path, (uint32_t)len);
    n = get_node(r, path, (uint32_t)len, XS__PERM_WRITE, &err);
    if (n == NULL) {
        /* Removing what is not there is fine if its parent is. */
        if (err == ENOENT && xs__view_get(&r->v, path, plen, &err) != NULL) {
            reply_ok(r);
            return 0;
        }
        return err != 0 ? err : ENOENT;
    }
    parent = xs__view_modify(&r->v, path, plen, &err);
    if (parent == NULL) /* (in a transaction) a parent gone from the view */
        return err == ENOENT ? EINVAL : err;
    if (r->v.txn != NULL && (err = rm_record(r, path, (uint32_t)len)) != 0 && err != EIO)
        return err;
    err = rm_apply(r, path, (uint32_t)len, true);
    if (err != 0)
        return err;
    if (!xs__node_del_child(parent, path + plen + (plen > 1), (uint32_t)len - plen - (plen > 1)))
        return EIO; /* the parent's copy does not list it (see above) */
    xs__view_touch(&r->v, parent);
    reply_ok(r);
    return 0;
}

/* Parse "n0", "r5", ... as the reference does (strtol base 0, the whole
 * string, ids taken modulo 2^32). */
static bool parse_perm(const char *s, struct xs_perm *p)
{
    char *end;
    long id;

    switch (s[0]) {
    case 'n':
        p->perm = 0;
        break;
    case 'r':
        p->perm = XS__PERM_READ;
        break;
    case 'w':
        p->perm = XS__PERM_WRITE;
        break;
    case 'b':
        p->perm = XS__PERM_READ | XS__PERM_WRITE;
        break;
    default:
        return false;
    }
    if (s[1] == '\0')
        return false;
    id = strtol(s + 1, &end, 0);
    if (*end != '\0')
        return false;
    p->domid = (uint32_t)(unsigned long)id;
    p->ignore = 0;
    return true;
}

static int set_perms_special(struct xs_req *r, struct xs_perm *perms, uint32_t np)
{
    struct xsim_xs *xs = r->xs;
    int which;

    if (strcmp(r->p, "@introduceDomain") == 0)
        which = 0;
    else if (strcmp(r->p, "@releaseDomain") == 0)
        which = 1;
    else
        return EINVAL;
    if ((xs__perm_for(r->c, xs->spec_perms[which], xs->spec_nperms[which]) &
         (XS__PERM_WRITE | XS__PERM_OWNER)) != (XS__PERM_WRITE | XS__PERM_OWNER))
        return EACCES;
    for (uint32_t i = 1; i < np; i++)
        perms[i].ignore = !xs__domain_exists(xs, perms[i].domid) && perms[i].domid != 0;
    {
        struct xs_perm *cp = xs__alloc(xs, np * sizeof(*cp));

        if (cp == NULL)
            return ENOMEM;
        memcpy(cp, perms, np * sizeof(*cp));
        xs__free(xs, xs->spec_perms[which]);
        xs->spec_perms[which] = cp;
        xs->spec_nperms[which] = np;
    }
    reply_ok(r);
    return 0;
}

/* SET_PERMS once the new list is parsed. */
static int set_perms(struct xs_req *r, struct xs_perm *perms, uint32_t np)
{
    struct xsim_xs *xs = r->xs;
    char path[XS__PATH_BUF];
    const struct xs_node *n;
    struct xs_node *m;
    uint32_t old_owner;
    int len, err;

    if (r->p[0] == '@')
        return set_perms_special(r, perms, np);
    if ((len = xs__canon(r->c, r->p, path)) < 0)
        return EINVAL;
    n = get_node(r, path, (uint32_t)len, XS__PERM_WRITE | XS__PERM_OWNER, &err);
    if (n == NULL)
        return err;
    /* Unprivileged domains may not give their nodes away. */
    if (!r->c->privileged && perms[0].domid != n->perms[0].domid)
        return EPERM;
    if (perms[0].domid != 0 && !xs__domain_exists(xs, perms[0].domid))
        return ENOENT;
    for (uint32_t i = 1; i < np; i++)
        perms[i].ignore = perms[i].domid != 0 && !xs__domain_exists(xs, perms[i].domid);
    m = xs__view_modify(&r->v, path, (uint32_t)len, &err);
    if (m == NULL)
        return err;
    old_owner = m->perms[0].domid;
    if (xs__node_set_perms(xs, m, perms, np) != 0)
        return ENOMEM;
    if (r->v.txn == NULL) {
        /* In a transaction the counts move when the copy is installed. */
        xs__owner_count(xs, old_owner, -1);
        xs__owner_count(xs, perms[0].domid, 1);
    }
    xs__view_touch(&r->v, m);
    err = -xs__view_fire(&r->v, path, (uint32_t)len, false);
    if (err == 0)
        reply_ok(r);
    return err;
}

static int op_set_perms(struct xs_req *r)
{
    unsigned int nstr = count_nuls(r);
    struct xs_perm *perms;
    const char *s;
    uint32_t np;
    int err = 0;

    if (nstr < 2)
        return EINVAL;
    np = nstr - 1;
    if (!r->c->privileged && np > r->xs->cfg.quota_perms)
        return ENOSPC;
    perms = xs__alloc(r->xs, np * sizeof(*perms));
    if (perms == NULL)
        return ENOMEM;
    s = r->p + strlen(r->p) + 1;
    for (uint32_t i = 0; i < np && err == 0; i++) {
        if (!parse_perm(s, &perms[i]))
            err = EINVAL;
        s += strlen(s) + 1;
    }
    if (err == 0)
        err = set_perms(r, perms, np);
    xs__free(r->xs, perms);
    return err;
}

static int op_watch(struct xs_req *r)
{
    const char *vec[2];
    char path[XS__PATH_BUF];
    uint32_t strip = 0, tlen;
    const char *cp = path;
    int len, err;

    if (get_strings(r, vec, 2) != 2)
        return EINVAL;
    if (vec[0][0] == '@') {
        len = (int)strlen(vec[0]);
        if (len > XS__PATH_MAX)
            return EINVAL;
        cp = vec[0];
    } else {
        if ((len = xs__canon(r->c, vec[0], path)) < 0)
            return EINVAL;
        if (vec[0][0] != '/')
            strip = (uint32_t)len - (uint32_t)strlen(vec[0]);
    }
    tlen = (uint32_t)strlen(vec[1]);
    err = -xs__watch_add(r->c, cp, (uint32_t)len, vec[1], tlen, strip);
    if (err != 0)
        return err;
    reply_ok(r);
    /* A new watch fires once at once, with the path as the client gave it. */
    xs__queue_event(r->c, vec[0], (uint32_t)strlen(vec[0]), vec[1], tlen);
    return 0;
}

static int op_unwatch(struct xs_req *r)
{
    const char *vec[2];
    char path[XS__PATH_BUF];
    const char *cp = path;
    int len, err;

    if (get_strings(r, vec, 2) != 2)
        return EINVAL;
    if (vec[0][0] == '@') {
        cp = vec[0];
        len = (int)strlen(vec[0]);
    } else if ((len = xs__canon(r->c, vec[0], path)) < 0) {
        return ENOENT; /* no watch can have an invalid path */
    }
    err = -xs__watch_del(r->c, cp, (uint32_t)len, vec[1], (uint32_t)strlen(vec[1]));
    if (err == 0)
        reply_ok(r);
    return err;
}

static int op_transaction_start(struct xs_req *r)
{
    char out[16];
    uint32_t id;
    int err;

    if (r->v.txn != NULL)
        return EBUSY; /* no nesting */
    err = -xs__txn_start(r->c, &id);
    if (err != 0)
        return err;
    reply(r, XS_TRANSACTION_START, out, (uint32_t)snprintf(out, sizeof(out), "%" PRIu32, id) + 1);
    return 0;
}

static int op_transaction_end(struct xs_req *r)
{
    const char *arg = onearg(r);
    bool commit;
    int err;

    /* The argument is checked first: outside a transaction a bad one is
     * EINVAL and only a good one ENOENT, as in xenstored 4.17. */
    if (arg == NULL || (strcmp(arg, "T") != 0 && strcmp(arg, "F") != 0))
        return EINVAL;
    if (r->v.txn == NULL)
        return ENOENT;
    commit = arg[0] == 'T';
    err = -xs__txn_end(r->c, r->v.txn, commit);
    r->v.txn = NULL;
    if (err == 0)
        reply_ok(r);
    return err;
}

static bool domain_known(struct xsim_xs *xs, uint32_t domid)
{
    struct xs_domain *d = xs__domain(xs, domid, false);

    return d != NULL && d->introduced;
}

static int op_introduce(struct xs_req *r)
{
    struct xsim_xs *xs = r->xs;
    const char *vec[3];
    struct xs_domain *d;
    uint32_t domid, port;
    uint64_t mfn;
    int err;

    if (get_strings(r, vec, 3) < 3)
        return EINVAL;
    domid = xs__atou(vec[0]);
    mfn = strtoull(vec[1], NULL, 10);
    port = xs__atou(vec[2]);
    if (port == 0)
        return EINVAL;
    if (domain_known(xs, domid)) {
        reply_ok(r); /* introduced already: nothing happens, no event */
        return 0;
    }
    if (xs->cfg.domain_exists != NULL ? !xs->cfg.domain_exists(xs->cfg.ctx, domid)
                                      : domid >= XS__DOMID_RESERVED)
        return ENOENT;
    if (xs__domain(xs, domid, true) == NULL)
        return ENOMEM;
    if (xs->cfg.introduce != NULL && (err = -xs->cfg.introduce(xs->cfg.ctx, domid, mfn, port)) != 0)
        return err > 0 ? err : EINVAL;
    d = xs__domain(xs, domid, false);
    d->introduced = true;
    xs__fire_special(xs, 0);
    reply_ok(r);
    return 0;
}

/* A released domain loses its nodes' ownership to dom0 and its entries in
 * other nodes' permissions (xenstored does this since XSA-322, so that a
 * later domain with the same id inherits nothing). */
static void release_node_perms(struct xs_node *n, uint32_t domid)
{
    if (n->nperms > 0 && n->perms[0].domid == domid)
        n->perms[0].domid = 0;
    for (uint32_t k = 1; k < n->nperms; k++) {
        if (n->perms[k].domid == domid)
            n->perms[k].ignore = 1;
    }
}

static void release_perms(struct xsim_xs *xs, uint32_t domid)
{
    for (size_t i = 0; i <= xs->nodes.mask; i++) {
        for (struct xs_hent *e = xs->nodes.b[i]; e != NULL; e = e->next) {
            struct xs_node *n = (struct xs_node *)e;

            if (n->nperms > 0 && n->perms[0].domid == domid) {
                xs__owner_count(xs, domid, -1);
                xs__owner_count(xs, 0, 1);
            }
            release_node_perms(n, domid);
        }
    }
    /* Open transactions' copies too, or a commit would bring the rights
     * back (and hand them to the next domain with this id). */
    for (struct xsim_xs_conn *c = xs->conns_head; c != NULL; c = c->next) {
        for (struct xs_txn *t = c->txns; t != NULL; t = t->next) {
            for (struct xs_tentry *e = t->first; e != NULL; e = e->next_order) {
                if (e->copy != NULL)
                    release_node_perms(e->copy, domid);
            }
        }
    }
}

/* Cut off a released domain's connections. */
static void domain_conns_kill(struct xsim_xs *xs, uint32_t domid)
{
    for (struct xsim_xs_conn *c = xs->conns_head; c != NULL; c = c->next) {
        if (c->domid == domid && !c->privileged) {
            xs__watch_free_all(c);
            xs__txn_free_all(c);
            c->released = true;
        }
    }
}

static int op_release(struct xs_req *r)
{
    struct xsim_xs *xs = r->xs;
    const char *arg = onearg(r);
    uint32_t domid;

    if (arg == NULL)
        return EINVAL;
    domid = xs__atou(arg);
    if (domid == 0)
        return EINVAL;
    if (!domain_known(xs, domid))
        return ENOENT;
    xs__domain(xs, domid, false)->introduced = false;
    xs__domain(xs, domid, false)->has_target = false;
    domain_conns_kill(xs, domid);
    if (xs->cfg.release != NULL)
        xs->cfg.release(xs->cfg.ctx, domid);
    release_perms(xs, domid);
    xs__fire_special(xs, 1);
    reply_ok(r);
    return 0;
}

static int op_resume(struct xs_req *r)
{
    const char *arg = onearg(r);
    uint32_t domid;

    if (arg == NULL)
        return EINVAL;
    domid = xs__atou(arg);
    if (domid == 0)
        return EINVAL;
    if (!domain_known(r->xs, domid))
        return ENOENT;
    reply_ok(r);
    return 0;
}

static int op_set_target(struct xs_req *r)
{
    const char *vec[2];
    uint32_t domid, tdomid;
    struct xs_domain *d;

    if (get_strings(r, vec, 2) < 2)
        return EINVAL;
    domid = xs__atou(vec[0]);
    tdomid = xs__atou(vec[1]);
    if (!domain_known(r->xs, domid) || !domain_known(r->xs, tdomid))
        return ENOENT;
    d = xs__domain(r->xs, domid, false);
    d->target = tdomid;
    d->has_target = true;
    reply_ok(r);
    return 0;
}

static int op_is_domain_introduced(struct xs_req *r)
{
    const char *arg = onearg(r);

    if (arg == NULL)
        return EINVAL;
    reply(r, XS_IS_DOMAIN_INTRODUCED, domain_known(r->xs, xs__atou(arg)) ? "T" : "F", 2);
    return 0;
}

static int op_get_domain_path(struct xs_req *r)
{
    const char *arg = onearg(r);
    char out[48];

    if (arg == NULL)
        return EINVAL;
    reply(r, XS_GET_DOMAIN_PATH, out,
          (uint32_t)snprintf(out, sizeof(out), "/local/domain/%" PRIu32, xs__atou(arg)) + 1);
    return 0;
}

static int op_reset_watches(struct xs_req *r)
{
    xs__watch_free_all(r->c);
    xs__txn_free_all(r->c);
    r->v.txn = NULL;
    reply_ok(r);
    return 0;
}

static int op_control(struct xs_req *r)
{
    static const char help[] = "check\t\nprint\t<string>\nhelp\t\n";
    const char *vec[2];
    unsigned int n = get_strings(r, vec, 2);

    if (n == 0)
        return EINVAL;
    if (strcmp(vec[0], "check") == 0 && n == 1) {
        reply_ok(r);
    } else if (strcmp(vec[0], "print") == 0 && n == 2) {
        if (r->xs->cfg.log != NULL)
            r->xs->cfg.log(r->xs->cfg.ctx, vec[1]);
        reply_ok(r);
    } else if (strcmp(vec[0], "help") == 0 && n == 1) {
        reply(r, XS_CONTROL, help, sizeof(help));
    } else {
        return EINVAL;
    }
    return 0;
}

/* ---- dispatch ---- */

#define F_NOTX 1u /* the request ignores tx_id */
#define F_PRIV 2u /* privileged connections only */

static const struct {
    int (*fn)(struct xs_req *r);
    unsigned int flags;
} handlers[XS_TYPE_COUNT] = {
    [XS_CONTROL] = {op_control, F_PRIV},
    [XS_DIRECTORY] = {op_directory, 0},
    [XS_READ] = {op_read, 0},
    [XS_GET_PERMS] = {op_get_perms, 0},
    [XS_WATCH] = {op_watch, F_NOTX},
    [XS_UNWATCH] = {op_unwatch, F_NOTX},
    [XS_TRANSACTION_START] = {op_transaction_start, 0},
    [XS_TRANSACTION_END] = {op_transaction_end, 0},
    [XS_INTRODUCE] = {op_introduce, F_PRIV},
    [XS_RELEASE] = {op_release, F_PRIV},
    [XS_GET_DOMAIN_PATH] = {op_get_domain_path, 0},
    [XS_WRITE] = {op_write, 0},
    [XS_MKDIR] = {op_mkdir, 0},
    [XS_RM] = {op_rm, 0},
    [XS_SET_PERMS] = {op_set_perms, 0},
    [XS_IS_DOMAIN_INTRODUCED] = {op_is_domain_introduced, F_PRIV},
    [XS_RESUME] = {op_resume, F_PRIV},
    [XS_SET_TARGET] = {op_set_target, F_PRIV},
    [XS_RESET_WATCHES] = {op_reset_watches, 0},
    [XS_DIRECTORY_PART] = {op_directory_part, 0},
};

void xs__process(struct xsim_xs_conn *c)
{
    struct xs_req r = {.c = c, .xs = c->xs, .p = c->in, .len = c->hdr.len};
    uint32_t type = c->hdr.type;
    int err;

    r.v.xs = c->xs;
    r.v.conn = c;
    c->st.requests++;
    if (type >= XS_TYPE_COUNT || handlers[type].fn == NULL) {
        reply_error(&r, ENOSYS);
        return;
    }
    if (!(handlers[type].flags & F_NOTX) && c->hdr.tx_id != 0) {
        r.v.txn = xs__txn_find(c, c->hdr.tx_id);
        if (r.v.txn == NULL) {
            reply_error(&r, ENOENT); /* unknown, or another connection's */
            return;
        }
    }
    if ((handlers[type].flags & F_PRIV) && !c->privileged) {
        reply_error(&r, EACCES);
        return;
    }
    err = handlers[type].fn(&r);
    if (err != 0)
        reply_error(&r, err);
}
