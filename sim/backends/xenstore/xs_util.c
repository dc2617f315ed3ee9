/*
 * xs_util.c - small pieces the XenStore daemon is built from: the
 * allocator hook, a string-keyed intrusive hash table, path
 * canonicalisation and validation, errno names.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/xenstore/xs_internal.h"

/* ---- allocation through the configured hook ---- */

void *xs__realloc(struct xsim_xs *xs, void *p, size_t n)
{
    if (n == 0)
        n = 1; /* size 0 means "free" to the hook */
    if (xs->cfg.alloc != NULL)
        return xs->cfg.alloc(xs->cfg.ctx, p, n);
    return realloc(p, n);
}

void *xs__alloc(struct xsim_xs *xs, size_t n)
{
    return xs__realloc(xs, NULL, n);
}

void *xs__zalloc(struct xsim_xs *xs, size_t n)
{
    void *p = xs__alloc(xs, n);

    if (p != NULL)
        memset(p, 0, n);
    return p;
}

void xs__free(struct xsim_xs *xs, void *p)
{
    if (p == NULL)
        return;
    if (xs->cfg.alloc != NULL)
        xs->cfg.alloc(xs->cfg.ctx, p, 0);
    else
        free(p);
}

char *xs__memdup(struct xsim_xs *xs, const void *p, size_t n)
{
    char *d = xs__alloc(xs, n + 1);

    if (d == NULL)
        return NULL;
    if (n > 0)
        memcpy(d, p, n);
    d[n] = '\0';
    return d;
}

/* ---- hash table ---- */

/* FNV-1a, 64-bit. */
uint64_t xs__hash(const char *s, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ull;

    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

int xs__htab_init(struct xsim_xs *xs, struct xs_htab *t, size_t buckets)
{
    t->b = xs__zalloc(xs, buckets * sizeof(t->b[0]));
    if (t->b == NULL)
        return -ENOMEM;
    t->mask = buckets - 1;
    t->n = 0;
    return 0;
}

void xs__htab_fini(struct xsim_xs *xs, struct xs_htab *t)
{
    xs__free(xs, t->b);
    t->b = NULL;
    t->n = 0;
}

struct xs_hent *xs__htab_find(const struct xs_htab *t, const char *key, uint32_t klen,
                              uint64_t hash)
{
    for (struct xs_hent *e = t->b[hash & t->mask]; e != NULL; e = e->next) {
        if (e->hash == hash && e->klen == klen && memcmp(e->key, key, klen) == 0)
            return e;
    }
    return NULL;
}

static void htab_grow(struct xsim_xs *xs, struct xs_htab *t)
{
    size_t nb = (t->mask + 1) * 2;
    struct xs_hent **b = xs__zalloc(xs, nb * sizeof(b[0]));

    if (b == NULL)
        return; /* keep the old buckets: slower, still correct */
    for (size_t i = 0; i <= t->mask; i++) {
        struct xs_hent *e = t->b[i], *next;

        for (; e != NULL; e = next) {
            next = e->next;
            e->next = b[e->hash & (nb - 1)];
            b[e->hash & (nb - 1)] = e;
        }
    }
    xs__free(xs, t->b);
    t->b = b;
    t->mask = nb - 1;
}

void xs__htab_insert(struct xsim_xs *xs, struct xs_htab *t, struct xs_hent *e)
{
    if (t->n >= t->mask + 1)
        htab_grow(xs, t);
    e->next = t->b[e->hash & t->mask];
    t->b[e->hash & t->mask] = e;
    t->n++;
}

void xs__htab_remove(struct xs_htab *t, struct xs_hent *e)
{
    struct xs_hent **pp = &t->b[e->hash & t->mask];

    for (; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == e) {
            *pp = e->next;
            t->n--;
            return;
        }
    }
}

/* ---- paths ---- */

static bool valid_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '-' || ch == '/' || ch == '_' || ch == '@';
}

/*
 * xenstored 4.17 measures a path from after a "/local/domain/<id>/" prefix
 * where <id> is what sscanf's "%5u" accepts: an optional sign and at least
 * one digit, five characters at most, then a '/'.
 */
uint32_t xs__home_prefix_len(const char *path, uint32_t len)
{
    static const char pre[] = "/local/domain/";
    uint32_t i = sizeof(pre) - 1, start, digits = 0;

    if (len <= i || memcmp(path, pre, i) != 0)
        return 0;
    start = i;
    if (path[i] == '+' || path[i] == '-')
        i++;
    while (i < len && i - start < 5 && path[i] >= '0' && path[i] <= '9') {
        i++;
        digits++;
    }
    if (digits == 0 || i >= len || path[i] != '/')
        return 0;
    return i + 1;
}

uint32_t xs__parent_len(const char *path, uint32_t len)
{
    uint32_t i = len;

    while (i > 1 && path[i - 1] != '/')
        i--;
    /* i is just past the last '/'; the parent ends before it unless that
     * slash is the root's. */
    return i > 1 ? i - 1 : 1;
}

static bool valid_path(const char *p, uint32_t len)
{
    if (len == 0 || p[0] != '/')
        return false;
    if (len == 1)
        return true;
    if (p[len - 1] == '/')
        return false;
    if (len - xs__home_prefix_len(p, len) > XS__PATH_MAX)
        return false;
    for (uint32_t i = 0; i < len; i++) {
        if (!valid_char(p[i]))
            return false;
        if (p[i] == '/' && i + 1 < len && p[i + 1] == '/')
            return false;
    }
    return true;
}

int xs__canon(const struct xsim_xs_conn *conn, const char *in, char *out)
{
    size_t inlen = strlen(in);
    int n;

    if (inlen > XENSTORE_PAYLOAD_MAX)
        return -EINVAL;
    if (in[0] == '/') {
        memcpy(out, in, inlen + 1);
        n = (int)inlen;
    } else if (in[0] == '@') {
        return -EINVAL; /* special names are valid only where a caller allows them */
    } else {
        n = snprintf(out, XS__PATH_BUF, "/local/domain/%u/%s", conn->domid, in);
        if (n < 0 || n >= XS__PATH_BUF)
            return -EINVAL;
    }
    if (!valid_path(out, (uint32_t)n))
        return -EINVAL;
    return n;
}

/* ---- errors ---- */

const char *xs__errname(int err)
{
    for (size_t i = 0; i < sizeof(xsd_errors) / sizeof(xsd_errors[0]); i++) {
        if (xsd_errors[i].errnum == err)
            return xsd_errors[i].errstring;
    }
    return "EINVAL"; /* as the reference does for an untranslatable error */
}

uint32_t xs__atou(const char *s)
{
    return (uint32_t)(unsigned long)strtol(s, NULL, 10);
}
