/*
 * xs_watch.c - watches of the XenStore daemon: registration per
 * connection (in order, with quotas), matching a changed path against
 * them, and queueing the events.
 */
#include <errno.h>
#include <string.h>

#include "backends/xenstore/xs_internal.h"

static uint64_t watch_hash(const char *path, uint32_t plen, const char *token, uint32_t tlen)
{
    return xs__hash(path, plen) * 31 + xs__hash(token, tlen);
}

static struct xs_watch *watch_find(struct xsim_xs_conn *c, const char *path, uint32_t plen,
                                   const char *token, uint32_t tlen)
{
    uint64_t h = watch_hash(path, plen, token, tlen);

    for (unsigned int i = 0; i < c->nwatches; i++) {
        struct xs_watch *w = &c->watches[i];

        if (w->hash == h && w->plen == plen && w->tlen == tlen &&
            memcmp(w->path, path, plen) == 0 && memcmp(w->token, token, tlen) == 0)
            return w;
    }
    return NULL;
}

int xs__watch_add(struct xsim_xs_conn *c, const char *path, uint32_t plen, const char *token,
                  uint32_t tlen, uint32_t strip)
{
    struct xsim_xs *xs = c->xs;
    unsigned int limit = c->privileged ? xs->cfg.priv_max_watches : xs->cfg.quota_watches;
    struct xs_watch w;

    if (watch_find(c, path, plen, token, tlen) != NULL)
        return -EEXIST;
    if (c->nwatches >= limit)
        return -E2BIG;
    if (c->nwatches == c->wcap) {
        unsigned int cap = c->wcap ? c->wcap * 2 : 8;
        struct xs_watch *nw = xs__realloc(xs, c->watches, cap * sizeof(*nw));

        if (nw == NULL)
            return -ENOMEM;
        c->watches = nw;
        c->wcap = cap;
    }
    w.path = xs__memdup(xs, path, plen);
    w.token = xs__memdup(xs, token, tlen);
    if (w.path == NULL || w.token == NULL) {
        xs__free(xs, w.path);
        xs__free(xs, w.token);
        return -ENOMEM;
    }
    w.plen = plen;
    w.tlen = tlen;
    w.strip = strip;
    w.hash = watch_hash(path, plen, token, tlen);
    c->watches[c->nwatches++] = w;
    return 0;
}

int xs__watch_del(struct xsim_xs_conn *c, const char *path, uint32_t plen, const char *token,
                  uint32_t tlen)
{
    struct xs_watch *w = watch_find(c, path, plen, token, tlen);
    unsigned int i;

    if (w == NULL)
        return -ENOENT;
    i = (unsigned int)(w - c->watches);
    xs__free(c->xs, w->path);
    xs__free(c->xs, w->token);
    /* Keep registration order: it is the order events are queued in. */
    memmove(&c->watches[i], &c->watches[i + 1], (c->nwatches - i - 1) * sizeof(*w));
    c->nwatches--;
    return 0;
}

void xs__watch_free_all(struct xsim_xs_conn *c)
{
    for (unsigned int i = 0; i < c->nwatches; i++) {
        xs__free(c->xs, c->watches[i].path);
        xs__free(c->xs, c->watches[i].token);
    }
    xs__free(c->xs, c->watches);
    c->watches = NULL;
    c->nwatches = c->wcap = 0;
}

/* Does a change to `name` trigger watch path `w`: the same node, or (unless
 * exact) a descendant of it. */
static bool watch_matches(const struct xs_watch *w, const char *name, uint32_t nlen, bool exact)
{
    if (w->plen == nlen)
        return memcmp(w->path, name, nlen) == 0;
    if (exact || w->plen > nlen)
        return false;
    if (w->plen == 1 && w->path[0] == '/')
        return name[0] == '/';
    return name[w->plen] == '/' && memcmp(w->path, name, w->plen) == 0;
}

void xs__fire(struct xsim_xs *xs, const char *name, uint32_t nlen, bool exact,
              const struct xs_perm *perms, uint32_t nperms)
{
    for (struct xsim_xs_conn *c = xs->conns_head; c != NULL; c = c->next) {
        int readable = -1; /* decided on the first match */

        if (c->dead || c->released)
            continue;
        for (unsigned int i = 0; i < c->nwatches; i++) {
            const struct xs_watch *w = &c->watches[i];

            if (!watch_matches(w, name, nlen, exact))
                continue;
            if (readable < 0)
                readable = (xs__perm_for(c, perms, nperms) & XS__PERM_READ) != 0;
            if (!readable)
                break; /* an unprivileged watcher only hears of nodes it may read */
            xs__queue_event(c, name + w->strip, nlen - w->strip, w->token, w->tlen);
        }
    }
}

void xs__fire_special(struct xsim_xs *xs, int which)
{
    static const char *const names[2] = {"@introduceDomain", "@releaseDomain"};

    xs__fire(xs, names[which], (uint32_t)strlen(names[which]), true, xs->spec_perms[which],
             xs->spec_nperms[which]);
}
