/*
 * scenario_set.c - JSON paths into a scenario, PATH=VALUE overrides applied
 * by rewriting the scenario text with jansson, and the value lists and
 * ranges of a sweep (reference: scenario_set.h).
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario/jsonschema.h"
#include "xensim/scenario_set.h"

/* Indices above this are refused while parsing; smaller ones that are past
 * the end of their array are refused with the array's size. */
#define JPATH_MAX_INDEX 1000000000000000ull

/* How much of a user's text a message quotes. */
#define SHOWN 60

static int fail(char *why, size_t why_size, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(char *why, size_t why_size, int rc, const char *fmt, ...)
{
    va_list ap;

    if (why != NULL && why_size > 0) {
        va_start(ap, fmt);
        vsnprintf(why, why_size, fmt, ap);
        va_end(ap);
    }
    return rc;
}

/* `len` bytes of `s` for a message: at most SHOWN, then "...". */
static const char *shown(const char *s, size_t len, char *buf, size_t size)
{
    if (len > SHOWN)
        snprintf(buf, size, "%.*s...", SHOWN, s);
    else
        snprintf(buf, size, "%.*s", (int)len, s);
    return buf;
}

/* Free text jansson allocated (json_dumps): with its own free function,
 * which json_set_alloc_funcs may have replaced. */
static void jfree(void *p)
{
    json_free_t f;

    json_get_alloc_funcs(NULL, &f);
    f(p);
}

/* ---- paths ---- */

struct seg {
    size_t start; /* where the segment starts in the path (its '.' or '[') */
    bool index;   /* [i] rather than a key */
    bool all;     /* [*]: every element */
    unsigned long long i;
    const char *key; /* not NUL-ended */
    size_t keylen;
};

/* Read the segment at path[*pos]. Returns 1 with `sg` filled, 0 at the end
 * of the path, or -EINVAL. */
static int seg_next(const char *path, size_t *pos, struct seg *sg, char *why, size_t why_size)
{
    const char *p = path + *pos;
    char b[SHOWN + 8];

    sg->start = *pos;
    if (*p == '\0')
        return *pos == 0 ? fail(why, why_size, -EINVAL, "the path is empty") : 0;
    sg->all = false;
    if (p[0] == '[' && p[1] == '*' && p[2] == ']') {
        sg->index = true;
        sg->all = true;
        sg->i = 0;
        sg->key = NULL;
        sg->keylen = 0;
        *pos += 3;
        return 1;
    }
    if (*p == '[') {
        unsigned long long v = 0;
        p++;
        if (*p < '0' || *p > '9')
            return fail(why, why_size, -EINVAL,
                        "bad path '%s': expected a number (0, 1, ...) or '*' after '[' at offset "
                        "%zu",
                        shown(path, strlen(path), b, sizeof(b)), (size_t)(p - path));
        while (*p >= '0' && *p <= '9') {
            v = v * 10 + (unsigned long long)(*p - '0');
            if (v > JPATH_MAX_INDEX)
                return fail(why, why_size, -EINVAL,
                            "bad path '%s': the index at offset %zu is too large",
                            shown(path, strlen(path), b, sizeof(b)), *pos + 1);
            p++;
        }
        if (*p != ']')
            return fail(why, why_size, -EINVAL, "bad path '%s': expected ']' at offset %zu",
                        shown(path, strlen(path), b, sizeof(b)), (size_t)(p - path));
        p++;
        sg->index = true;
        sg->i = v;
        sg->key = NULL;
        sg->keylen = 0;
    } else {
        const char *q;
        if (*pos != 0) {
            if (*p != '.')
                return fail(why, why_size, -EINVAL,
                            "bad path '%s': expected '.' or '[' at offset %zu after ']'",
                            shown(path, strlen(path), b, sizeof(b)), *pos);
            p++;
        }
        for (q = p; *q != '\0' && *q != '.' && *q != '[' && *q != ']'; q++)
            ;
        if (q == p)
            return fail(why, why_size, -EINVAL, "bad path '%s': empty key at offset %zu",
                        shown(path, strlen(path), b, sizeof(b)), (size_t)(p - path));
        if (*q == ']')
            return fail(why, why_size, -EINVAL, "bad path '%s': unexpected ']' at offset %zu",
                        shown(path, strlen(path), b, sizeof(b)), (size_t)(q - path));
        sg->index = false;
        sg->key = p;
        sg->keylen = (size_t)(q - p);
        p = q;
    }
    *pos = (size_t)(p - path);
    return 1;
}

int xsim_jpath_check(const char *path, char *why, size_t why_size)
{
    struct seg sg;
    size_t pos = 0;
    int r;

    if (path == NULL)
        return fail(why, why_size, -EINVAL, "no path");
    if (strlen(path) > XSIM_JPATH_MAX)
        return fail(why, why_size, -EINVAL, "the path is longer than %d bytes", XSIM_JPATH_MAX);
    while ((r = seg_next(path, &pos, &sg, why, why_size)) == 1)
        ;
    return r;
}

/* What `v` is, for messages: "an object", "the number 4", ... */
static const char *describe(const json_t *v, char *buf, size_t size)
{
    char b[SHOWN + 8];

    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        snprintf(buf, size, "an array of %zu", json_array_size(v));
        return buf;
    case JSON_STRING:
        snprintf(buf, size, "the string \"%s\"",
                 shown(json_string_value(v), json_string_length(v), b, sizeof(b)));
        return buf;
    case JSON_INTEGER:
        snprintf(buf, size, "the number %lld", (long long)json_integer_value(v));
        return buf;
    case JSON_REAL:
        snprintf(buf, size, "the number %g", json_real_value(v));
        return buf;
    case JSON_TRUE:
        return "true";
    case JSON_FALSE:
        return "false";
    default:
        return "null";
    }
}

/* Name the node the first `len` bytes of `path` lead to, for messages. */
static const char *prefix(const char *path, size_t len, char *buf, size_t size)
{
    char b[SHOWN + 8];

    if (len == 0)
        return "the scenario";
    snprintf(buf, size, "'%s'", shown(path, len, b, sizeof(b)));
    return buf;
}

/* Step into the key `sg` of object `node`, creating it unless it is the
 * last segment (`last`); stores the child in *child, or sets the value. */
static int step_key(json_t *node, const char *path, const struct seg *sg, const struct seg *next,
                    bool last, json_t *value, json_t **child, char *why, size_t why_size)
{
    char name[SHOWN + 16], what[SHOWN + 32], k[SHOWN + 8];
    char *key;
    int rc = 0;

    if (!json_is_object(node))
        return fail(why, why_size, -EINVAL, "%s is %s, not an object, so it has no key '%s'",
                    prefix(path, sg->start, name, sizeof(name)), describe(node, what, sizeof(what)),
                    shown(sg->key, sg->keylen, k, sizeof(k)));
    key = malloc(sg->keylen + 1);
    if (key == NULL)
        return fail(why, why_size, -ENOMEM, "out of memory");
    memcpy(key, sg->key, sg->keylen);
    key[sg->keylen] = '\0';
    if (last) {
        if (json_object_set(node, key, value) != 0)
            rc = fail(why, why_size, -EINVAL, "cannot set the key '%s' (not UTF-8?)",
                      shown(sg->key, sg->keylen, k, sizeof(k)));
        free(key);
        return rc;
    }
    *child = json_object_get(node, key);
    if (*child == NULL && next->index) {
        rc = next->all
                 ? fail(why, why_size, -EINVAL, "%s does not exist, so it has no elements",
                        prefix(path, next->start, name, sizeof(name)))
                 : fail(why, why_size, -EINVAL, "%s does not exist, so it has no element [%llu]",
                        prefix(path, next->start, name, sizeof(name)), next->i);
    } else if (*child == NULL) {
        *child = json_object();
        if (*child == NULL || json_object_set_new(node, key, *child) != 0)
            rc = fail(why, why_size, -EINVAL, "cannot create the key '%s' (not UTF-8?)",
                      shown(sg->key, sg->keylen, k, sizeof(k)));
    }
    free(key);
    return rc;
}

static int step_index(json_t *node, const char *path, const struct seg *sg, bool last,
                      json_t *value, json_t **child, char *why, size_t why_size)
{
    char name[SHOWN + 16], what[SHOWN + 32];

    if (!json_is_array(node))
        return fail(why, why_size, -EINVAL, "%s is %s, not an array, so it has no element [%llu]",
                    prefix(path, sg->start, name, sizeof(name)), describe(node, what, sizeof(what)),
                    sg->i);
    if (sg->i >= json_array_size(node))
        return fail(why, why_size, -EINVAL, "index [%llu] is out of range: %s has %zu element%s",
                    sg->i, prefix(path, sg->start, name, sizeof(name)), json_array_size(node),
                    json_array_size(node) == 1 ? "" : "s");
    if (last)
        return json_array_set(node, (size_t)sg->i, value) == 0
                   ? 0
                   : fail(why, why_size, -ENOMEM, "out of memory");
    *child = json_array_get(node, (size_t)sg->i);
    return 0;
}

/* Set `value` at the rest of the path, `cur` being the segment to apply
 * to `node` and `pos` where the segment after it starts. */
static int set_from(json_t *node, const char *path, struct seg cur, size_t pos, json_t *value,
                    char *why, size_t why_size)
{
    for (;;) {
        struct seg next;
        json_t *child = NULL;
        size_t after = pos;
        bool last = seg_next(path, &after, &next, why, why_size) == 0;
        int rc;
        if (cur.all) {
            char name[SHOWN + 16], what[SHOWN + 32];
            if (!json_is_array(node) || json_array_size(node) == 0)
                return fail(why, why_size, -EINVAL, "%s is %s, so [*] names no element",
                            prefix(path, cur.start, name, sizeof(name)),
                            json_is_array(node) ? "an empty array"
                                                : describe(node, what, sizeof(what)));
            /* Every element, each with the rest of the path. */
            for (size_t i = 0; i < json_array_size(node); i++) {
                struct seg one = cur;
                one.all = false;
                one.i = i;
                if ((rc = set_from(node, path, one, pos, value, why, why_size)) != 0)
                    return rc;
            }
            return 0;
        }
        if (cur.index)
            rc = step_index(node, path, &cur, last, value, &child, why, why_size);
        else
            rc = step_key(node, path, &cur, &next, last, value, &child, why, why_size);
        if (rc != 0 || last)
            return rc;
        node = child;
        cur = next;
        pos = after;
    }
}

int xsim_jpath_set(json_t *root, const char *path, json_t *value, char *why, size_t why_size)
{
    struct seg cur;
    size_t pos = 0;
    int rc;

    if (root == NULL || value == NULL)
        return fail(why, why_size, -EINVAL, "no document or no value");
    if ((rc = xsim_jpath_check(path, why, why_size)) != 0)
        return rc;
    seg_next(path, &pos, &cur, why, why_size);
    return set_from(root, path, cur, pos, value, why, why_size);
}

/* ---- values and overrides ---- */

json_t *xsim_jvalue_parse(const char *text, size_t len, char *why, size_t why_size)
{
    json_error_t jerr;
    json_t *v;

    if (text == NULL) {
        fail(why, why_size, -EINVAL, "no value");
        return NULL;
    }
    v = json_loadb(text, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
    if (v != NULL)
        return v;
    /* Not JSON: the text itself, so that 20k/s and pci-intx need no quotes. */
    v = json_stringn(text, len);
    if (v == NULL)
        fail(why, why_size, -EINVAL, "the value is not valid UTF-8");
    return v;
}

int xsim_override_parse(struct xsim_override *o, const char *arg, char *why, size_t why_size)
{
    const char *eq = arg != NULL ? strchr(arg, '=') : NULL;
    char b[SHOWN + 8];
    int rc;

    memset(o, 0, sizeof(*o));
    o->what = "--set";
    if (eq == NULL)
        return fail(why, why_size, -EINVAL, "expected PATH=VALUE, got '%s'",
                    arg != NULL ? shown(arg, strlen(arg), b, sizeof(b)) : "");
    o->path = malloc((size_t)(eq - arg) + 1);
    if (o->path == NULL)
        return fail(why, why_size, -ENOMEM, "out of memory");
    memcpy(o->path, arg, (size_t)(eq - arg));
    o->path[eq - arg] = '\0';
    if ((rc = xsim_jpath_check(o->path, why, why_size)) != 0) {
        xsim_override_free(o);
        return rc;
    }
    o->value = xsim_jvalue_parse(eq + 1, strlen(eq + 1), why, why_size);
    if (o->value == NULL) {
        xsim_override_free(o);
        return -EINVAL;
    }
    return 0;
}

void xsim_override_free(struct xsim_override *o)
{
    free(o->path);
    o->path = NULL;
    json_decref(o->value);
    o->value = NULL;
}

const char *xsim_override_format(const struct xsim_override *o, char *buf, size_t size)
{
    char *dumped = NULL;
    const char *v;
    int n;

    if (size == 0)
        return buf;
    if (json_is_string(o->value)) {
        v = json_string_value(o->value);
    } else {
        dumped = json_dumps(o->value, JSON_COMPACT | JSON_ENCODE_ANY);
        v = dumped != NULL ? dumped : "?";
    }
    n = snprintf(buf, size, "%s=%s", o->path, v);
    if (n >= 0 && (size_t)n >= size && size > 4)
        memcpy(buf + size - 4, "...", 4);
    if (dumped != NULL)
        jfree(dumped);
    return buf;
}

/* Append " (after --set A=B, --vary C=D)" to the loader's message. */
static void name_overrides(struct xsim_error *err, const struct xsim_override *ov, size_t nov)
{
    size_t len = strlen(err->text);

    for (size_t i = 0; i < nov && len + 1 < sizeof(err->text); i++) {
        char one[96];
        int n = snprintf(err->text + len, sizeof(err->text) - len, "%s%s %s",
                         i == 0 ? " (after " : ", ", ov[i].what != NULL ? ov[i].what : "--set",
                         xsim_override_format(&ov[i], one, sizeof(one)));
        len = n < 0 ? len : len + (size_t)n;
    }
    if (len + 1 < sizeof(err->text))
        snprintf(err->text + len, sizeof(err->text) - len, ")");
}

int xsim_scenario_load_overrides(struct xsim_scenario *s, const char *name, const char *text,
                                 size_t len, const struct xsim_override *ov, size_t nov,
                                 struct xsim_error *err)
{
    json_error_t jerr;
    json_t *root;
    char why[512], one[96], *out;
    int rc;

    if (nov == 0)
        return xsim_scenario_load_buffer(s, name, text, len, err);
    root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL || !json_is_object(root)) {
        /* The loader says what is wrong with the text, with its position. */
        json_decref(root);
        rc = xsim_scenario_load_buffer(s, name, text, len, err);
        if (rc == 0) {
            xsim_scenario_free(s);
            rc = xsim_error_set(err, name, 0, 0, "the scenario is not a JSON object");
        }
        return rc;
    }
    for (size_t i = 0; i < nov; i++) {
        rc = xsim_jpath_set(root, ov[i].path, ov[i].value, why, sizeof(why));
        if (rc != 0) {
            xsim_error_set(err, name, 0, 0, "%s %s: %s", ov[i].what != NULL ? ov[i].what : "--set",
                           xsim_override_format(&ov[i], one, sizeof(one)), why);
            json_decref(root);
            return rc;
        }
    }
    out = json_dumps(root, JSON_INDENT(2));
    json_decref(root);
    if (out == NULL) {
        xsim_error_set(err, name, 0, 0, "out of memory");
        return -ENOMEM;
    }
    rc = xsim_scenario_load_buffer(s, name, out, strlen(out), err);
    jfree(out);
    if (rc != 0 && err != NULL) {
        /* Positions would point into the rewritten text, not the file. */
        err->line = 0;
        err->column = 0;
        name_overrides(err, ov, nov);
    }
    return rc;
}

int xsim_text_read_file(const char *path, char **text, size_t *len, struct xsim_error *err)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t n = 0, cap = 0;
    int rc;

    *text = NULL;
    *len = 0;
    if (f == NULL) {
        rc = -errno;
        xsim_error_set(err, path, 0, 0, "cannot open: %s", strerror(errno));
        return rc;
    }
    for (;;) {
        if (n + 1 >= cap) {
            cap = cap ? cap * 2 : 65536;
            if (cap > (size_t)XSIM_JSON_MAX_BYTES + 1) {
                fclose(f);
                free(buf);
                xsim_error_set(err, path, 0, 0, "file too large (over %u bytes)",
                               XSIM_JSON_MAX_BYTES);
                return -EFBIG;
            }
            char *nb = realloc(buf, cap);
            if (nb == NULL) {
                fclose(f);
                free(buf);
                xsim_error_set(err, path, 0, 0, "out of memory");
                return -ENOMEM;
            }
            buf = nb;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
    }
    rc = ferror(f) ? -EIO : 0;
    fclose(f);
    if (rc != 0) {
        free(buf);
        xsim_error_set(err, path, 0, 0, "read error");
        return rc;
    }
    buf[n] = '\0';
    *text = buf;
    *len = n;
    return 0;
}

/* ---- sweep grids ---- */

/* Split `spec` at commas outside brackets, braces and quoted strings. Calls
 * `item` for each piece; returns the first non-zero it returns. */
static int split_items(const char *spec, int (*item)(void *, const char *, size_t), void *ctx)
{
    const char *start = spec;
    int depth = 0, rc;
    bool quoted = false;

    for (const char *p = spec;; p++) {
        if (quoted) {
            if (*p == '\\' && p[1] != '\0')
                p++;
            else if (*p == '"')
                quoted = false;
            else if (*p == '\0')
                return item(ctx, start, (size_t)(p - start));
            continue;
        }
        if (*p == '"')
            quoted = true;
        else if (*p == '[' || *p == '{')
            depth++;
        else if ((*p == ']' || *p == '}') && depth > 0)
            depth--;
        else if ((*p == ',' && depth == 0) || *p == '\0') {
            if ((rc = item(ctx, start, (size_t)(p - start))) != 0 || *p == '\0')
                return rc;
            start = p + 1;
        }
    }
}

struct list_ctx {
    struct xsim_vary *v;
    char *why;
    size_t why_size;
};

static int list_item(void *ctx, const char *s, size_t len)
{
    struct list_ctx *lc = ctx;
    json_t *j;

    if (len == 0)
        return fail(lc->why, lc->why_size, -EINVAL,
                    "empty value in the list of '%s' (write \"\" for an empty string)",
                    lc->v->path);
    if (json_array_size(lc->v->values) >= XSIM_VARY_MAX_VALUES)
        return fail(lc->why, lc->why_size, -EINVAL, "more than %d values for '%s'",
                    XSIM_VARY_MAX_VALUES, lc->v->path);
    j = xsim_jvalue_parse(s, len, lc->why, lc->why_size);
    if (j == NULL)
        return -EINVAL;
    return json_array_append_new(lc->v->values, j) == 0
               ? 0
               : fail(lc->why, lc->why_size, -ENOMEM, "out of memory");
}

/* The x of a list item under `unit`; false when it has none. */
static bool item_x(const json_t *j, int unit, double *x)
{
    uint64_t ns;

    if (json_is_number(j)) {
        *x = json_number_value(j);
        return true;
    }
    if (!json_is_string(j) || unit == XSIM_VARY_PLAIN)
        return false;
    if (unit == XSIM_VARY_NS) {
        if (xsim_parse_duration_ns(json_string_value(j), &ns, NULL, 0) != 0)
            return false;
        *x = (double)ns;
        return true;
    }
    return xsim_parse_rate_per_s(json_string_value(j), x, NULL, 0) == 0;
}

/* A list is numeric when every item has an x under one unit. */
static void list_numeric(struct xsim_vary *v)
{
    static const int units[] = {XSIM_VARY_PLAIN, XSIM_VARY_NS, XSIM_VARY_PER_S};

    for (size_t u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
        size_t i;
        for (i = 0; i < v->n; i++) {
            if (!item_x(json_array_get(v->values, i), units[u], &v->x[i]))
                break;
        }
        if (i == v->n) {
            v->numeric = true;
            v->unit = units[u];
            return;
        }
    }
    for (size_t i = 0; i < v->n; i++)
        v->x[i] = NAN;
}

/* One end of a range: its kind (enum xsim_vary_unit) and value. */
static int range_end(const char *s, size_t len, int *kind, double *val, char *why, size_t why_size)
{
    char buf[64], *end;
    uint64_t ns;

    if (len == 0 || len >= sizeof(buf))
        return fail(why, why_size, -EINVAL, "a range end must be 1..63 characters");
    memcpy(buf, s, len);
    buf[len] = '\0';
    *val = strtod(buf, &end);
    if (*end == '\0' && end != buf && isfinite(*val)) {
        *kind = XSIM_VARY_PLAIN;
        return 0;
    }
    if (xsim_parse_duration_ns(buf, &ns, NULL, 0) == 0) {
        *kind = XSIM_VARY_NS;
        *val = (double)ns;
        return 0;
    }
    if (xsim_parse_rate_per_s(buf, val, NULL, 0) == 0) {
        *kind = XSIM_VARY_PER_S;
        return 0;
    }
    return fail(why, why_size, -EINVAL,
                "'%s' is not a number, a duration (\"1ms\") or a rate (\"20k/s\")", buf);
}

static bool whole(double d)
{
    return fabs(d) < 9007199254740992.0 && d == floor(d);
}

/* Fill `v` with the N points of "A..B:N". */
static int range_fill(struct xsim_vary *v, const char *a, size_t alen, const char *b, size_t blen,
                      unsigned long n, char *why, size_t why_size)
{
    int ka, kb;
    double va, vb, step;
    bool ints;
    int rc;

    if ((rc = range_end(a, alen, &ka, &va, why, why_size)) != 0 ||
        (rc = range_end(b, blen, &kb, &vb, why, why_size)) != 0)
        return rc;
    if (ka != XSIM_VARY_PLAIN && kb != XSIM_VARY_PLAIN && ka != kb)
        return fail(why, why_size, -EINVAL,
                    "the ends of the range of '%s' must both be durations or both rates", v->path);
    v->unit = ka != XSIM_VARY_PLAIN ? ka : kb;
    step = (vb - va) / (double)(n - 1);
    /* Durations are whole ns; other ranges stay integers when they can. */
    ints = v->unit == XSIM_VARY_NS || (whole(va) && whole(vb) && whole(step));
    if (ints && (fabs(va) > 9.2e18 || fabs(vb) > 9.2e18))
        return fail(why, why_size, -EINVAL, "the range of '%s' is too large", v->path);
    for (unsigned long i = 0; i < n; i++) {
        double x;
        json_t *j;
        if (i + 1 == n)
            x = vb;
        else if (ints && whole(step))
            x = va + step * (double)i;
        else
            x = va + (vb - va) * (double)i / (double)(n - 1);
        if (ints)
            x = round(x);
        j = ints ? json_integer((json_int_t)x) : json_real(x);
        if (j == NULL || json_array_append_new(v->values, j) != 0)
            return fail(why, why_size, -ENOMEM, "out of memory");
        v->x[i] = x;
    }
    v->numeric = true;
    v->range = true;
    return 0;
}

/* "A..B:N": returns 1 and the pieces when `spec` has that shape. */
static int range_shape(const char *spec, size_t *alen, const char **b, size_t *blen,
                       unsigned long *n, char *why, size_t why_size)
{
    const char *dots = strstr(spec, ".."), *colon = strrchr(spec, ':'), *p;
    char *end;

    if (spec[0] == '"' || spec[0] == '[' || spec[0] == '{' || dots == NULL || dots == spec ||
        colon == NULL || colon < dots + 2 || strchr(spec, ',') != NULL)
        return 0;
    for (p = colon + 1; *p >= '0' && *p <= '9'; p++)
        ;
    if (p == colon + 1 || *p != '\0')
        return 0;
    *alen = (size_t)(dots - spec);
    *b = dots + 2;
    *blen = (size_t)(colon - *b);
    errno = 0;
    *n = strtoul(colon + 1, &end, 10);
    if (errno != 0 || *n < 2 || *n > XSIM_VARY_MAX_VALUES)
        return fail(why, why_size, -EINVAL, "a range wants 2..%d points, got '%s'",
                    XSIM_VARY_MAX_VALUES, colon + 1);
    return 1;
}

int xsim_vary_parse(struct xsim_vary *v, const char *arg, char *why, size_t why_size)
{
    const char *eq = arg != NULL ? strchr(arg, '=') : NULL, *spec, *b;
    char sh[SHOWN + 8];
    size_t alen, blen;
    unsigned long n;
    int rc;

    memset(v, 0, sizeof(*v));
    if (eq == NULL)
        return fail(why, why_size, -EINVAL, "expected PATH=V1,V2,... or PATH=A..B:N, got '%s'",
                    arg != NULL ? shown(arg, strlen(arg), sh, sizeof(sh)) : "");
    spec = eq + 1;
    v->path = malloc((size_t)(eq - arg) + 1);
    v->values = json_array();
    if (v->path == NULL || v->values == NULL) {
        rc = fail(why, why_size, -ENOMEM, "out of memory");
        goto out;
    }
    memcpy(v->path, arg, (size_t)(eq - arg));
    v->path[eq - arg] = '\0';
    if ((rc = xsim_jpath_check(v->path, why, why_size)) != 0)
        goto out;
    if (*spec == '\0') {
        rc = fail(why, why_size, -EINVAL, "no values after '%s='", v->path);
        goto out;
    }
    rc = range_shape(spec, &alen, &b, &blen, &n, why, why_size);
    if (rc < 0)
        goto out;
    if (rc == 1) {
        v->x = calloc(n, sizeof(*v->x));
        rc = v->x == NULL ? fail(why, why_size, -ENOMEM, "out of memory")
                          : range_fill(v, spec, alen, b, blen, n, why, why_size);
    } else {
        struct list_ctx lc = {.v = v, .why = why, .why_size = why_size};
        rc = split_items(spec, list_item, &lc);
        v->n = json_array_size(v->values);
        if (rc == 0) {
            v->x = calloc(v->n, sizeof(*v->x));
            if (v->x == NULL)
                rc = fail(why, why_size, -ENOMEM, "out of memory");
            else
                list_numeric(v);
        }
    }
    v->n = json_array_size(v->values);
out:
    if (rc != 0)
        xsim_vary_free(v);
    return rc;
}

void xsim_vary_free(struct xsim_vary *v)
{
    free(v->path);
    v->path = NULL;
    json_decref(v->values);
    v->values = NULL;
    free(v->x);
    v->x = NULL;
    v->n = 0;
}
