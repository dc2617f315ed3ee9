/*
 * schema.c - declarative checks of a document against a schema table
 * (jsonschema.h): types, ranges, units, enums, arrays and maps, unknown
 * keys with a suggestion, each error with its line, column and path; the
 * checked values are stored into C structs.
 */
#include <errno.h>
#include <float.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario/json_internal.h"

/* ---- Schema checks ---- */

#define PATH_LEN 256

struct xsim_schema_ctx {
    const struct xsim_json_doc *doc;
    struct xsim_error *err;
    const json_t *value;      /* being checked */
    const char *key;          /* its key in the parent object, or NULL */
    struct xsim__json_loc at; /* where it starts; 0:0 when unknown */
    unsigned int depth;
    size_t path_len;
    char path[PATH_LEN];
};

static int fail_at(struct xsim_schema_ctx *ctx, struct xsim__json_loc at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail_at(struct xsim_schema_ctx *ctx, struct xsim__json_loc at, const char *fmt, ...)
{
    char text[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    return xsim_error_set(ctx->err, ctx->doc->name, at.line, at.column, "%s", text);
}

/* Append to the path; a path too long for the buffer ends in "...". */
static void path_append(struct xsim_schema_ctx *ctx, const char *piece)
{
    size_t room = sizeof(ctx->path) - 1 - ctx->path_len;
    size_t n = strlen(piece), cut;

    if (n <= room) {
        memcpy(ctx->path + ctx->path_len, piece, n + 1);
        ctx->path_len += n;
        return;
    }
    memcpy(ctx->path + ctx->path_len, piece, room);
    /* Cut on a character boundary, then mark the cut. */
    cut = sizeof(ctx->path) - 4;
    while (cut > 0 && ((unsigned char)ctx->path[cut] & 0xc0) == 0x80)
        cut--;
    memcpy(ctx->path + cut, "...", 4);
    ctx->path_len = cut + 3;
}

static void path_pop(struct xsim_schema_ctx *ctx, size_t len)
{
    ctx->path_len = len;
    ctx->path[len] = '\0';
}

static int plain_key(const char *key)
{
    const char *p;

    if (*key == '\0')
        return 0;
    for (p = key; *p != '\0'; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '-'))
            return 0;
    }
    return 1;
}

__attribute__((noinline)) static void path_push_key(struct xsim_schema_ctx *ctx, const char *key)
{
    char piece[PATH_LEN + 8], tmp[PATH_LEN];

    if (plain_key(key))
        snprintf(piece, sizeof(piece), "%s%s", ctx->path_len > 0 ? "." : "", key);
    else
        snprintf(piece, sizeof(piece), "[\"%s\"]", xsim__json_sanitize(key, 64, tmp, sizeof(tmp)));
    path_append(ctx, piece);
}

static void path_push_index(struct xsim_schema_ctx *ctx, size_t i)
{
    char piece[32];

    snprintf(piece, sizeof(piece), "[%zu]", i);
    path_append(ctx, piece);
}

/* "'machine.vcpus'", or "the top level" for the root. */
static const char *subject(const struct xsim_schema_ctx *ctx, char *buf, size_t size)
{
    if (ctx->path_len == 0)
        return "the top level";
    snprintf(buf, size, "'%s'", ctx->path);
    return buf;
}

/* " in 'machine'" or " at top level": where a key of the current object is. */
static const char *where(const struct xsim_schema_ctx *ctx, char *buf, size_t size)
{
    if (ctx->path_len == 0)
        return "at top level";
    snprintf(buf, size, "in '%s'", ctx->path);
    return buf;
}

struct irange {
    int64_t lo, hi;
};

struct urange {
    uint64_t lo, hi;
};

int xsim__schema_width_ok(size_t size)
{
    return size == 1 || size == 2 || size == 4 || size == 8;
}

/* INT bounds: explicit, else those of a signed member of the field's width. */
static struct irange int_range(const struct xsim_schema_field *f)
{
    struct irange r = {INT64_MIN, INT64_MAX};

    if (f->min < f->max) {
        r.lo = f->min;
        r.hi = f->max;
    } else if (f->size == 1 || f->size == 2 || f->size == 4) {
        r.hi = (int64_t)((UINT64_C(1) << (f->size * 8 - 1)) - 1);
        r.lo = -r.hi - 1;
    }
    return r;
}

/* UINT64 and DURATION bounds: explicit, else an unsigned member's width. */
static struct urange uint_range(const struct xsim_schema_field *f)
{
    struct urange r = {0, UINT64_MAX};

    if (f->umin < f->umax) {
        r.lo = f->umin;
        r.hi = f->umax;
    } else if (f->size == 1 || f->size == 2 || f->size == 4) {
        r.hi = (UINT64_C(1) << (f->size * 8)) - 1;
    }
    return r;
}

/* Element-count bounds of ARRAY_OF/MAP_OF: explicit and the slots there are. */
static struct urange count_range(const struct xsim_schema_field *f, int stored)
{
    struct urange r = {0, UINT64_MAX};

    if (f->min < f->max) {
        r.lo = f->min > 0 ? (uint64_t)f->min : 0;
        r.hi = f->max > 0 ? (uint64_t)f->max : 0;
    }
    if (stored && f->size != 0 && f->elem_size != 0 && f->size / f->elem_size < r.hi)
        r.hi = f->size / f->elem_size;
    return r;
}

/* STRING length bounds: explicit, and what a char array member holds. */
static struct urange str_range(const struct xsim_schema_field *f, int stored)
{
    struct urange r = {0, UINT64_MAX};

    if (f->min < f->max) {
        r.lo = f->min > 0 ? (uint64_t)f->min : 0;
        r.hi = f->max > 0 ? (uint64_t)f->max : 0;
    }
    if (stored && !f->borrow && f->size > 0 && f->size - 1 < r.hi)
        r.hi = f->size - 1;
    return r;
}

static void describe_enum(const struct xsim_schema_field *f, char *buf, size_t size)
{
    size_t o = 0, i;

    o += (size_t)snprintf(buf, size, "one of ");
    for (i = 0; f->enum_values != NULL && f->enum_values[i] != NULL && o < size; i++)
        o += (size_t)snprintf(buf + o, size - o, "%s\"%s\"", i > 0 ? ", " : "", f->enum_values[i]);
}

static void describe_count(const char *what, const char *unit, struct urange r, char *buf,
                           size_t size)
{
    if (r.hi == UINT64_MAX && r.lo == 0)
        snprintf(buf, size, "%s", what);
    else if (r.hi == UINT64_MAX)
        snprintf(buf, size, "%s of at least %llu %s", what, (unsigned long long)r.lo, unit);
    else if (r.lo == 0)
        snprintf(buf, size, "%s of at most %llu %s", what, (unsigned long long)r.hi, unit);
    else
        snprintf(buf, size, "%s of %llu to %llu %s", what, (unsigned long long)r.lo,
                 (unsigned long long)r.hi, unit);
}

/* What a field accepts, as a noun phrase: "an integer in [1, 128]". */
__attribute__((noinline)) static const char *describe(const struct xsim_schema_field *f, int stored,
                                                      char *buf, size_t size)
{
    char a[40], b[40];
    struct irange ir;
    struct urange ur;

    switch (f->type) {
    case XSIM_SCHEMA_BOOL:
        return "true or false";
    case XSIM_SCHEMA_INT:
        ir = int_range(f);
        if (ir.lo == INT64_MIN && ir.hi == INT64_MAX)
            return "an integer";
        snprintf(buf, size, "an integer in [%lld, %lld]", (long long)ir.lo, (long long)ir.hi);
        return buf;
    case XSIM_SCHEMA_UINT64:
        ur = uint_range(f);
        if (ur.lo == 0 && ur.hi == UINT64_MAX)
            return "an unsigned integer";
        snprintf(buf, size, "an integer in [%llu, %llu]", (unsigned long long)ur.lo,
                 (unsigned long long)ur.hi);
        return buf;
    case XSIM_SCHEMA_DOUBLE:
        if (!(f->dmin < f->dmax))
            return "a number";
        snprintf(buf, size, "a number in [%s, %s]", xsim__json_format_double(f->dmin, a, sizeof(a)),
                 xsim__json_format_double(f->dmax, b, sizeof(b)));
        return buf;
    case XSIM_SCHEMA_STRING:
        describe_count("a string", "bytes", str_range(f, stored), buf, size);
        return buf;
    case XSIM_SCHEMA_ENUM:
        describe_enum(f, buf, size);
        return buf;
    case XSIM_SCHEMA_OBJECT:
        return "an object";
    case XSIM_SCHEMA_ARRAY_OF:
        describe_count("an array", "elements", count_range(f, stored), buf, size);
        return buf;
    case XSIM_SCHEMA_MAP_OF:
        describe_count("an object", "keys", count_range(f, stored), buf, size);
        return buf;
    case XSIM_SCHEMA_ANY:
        return "a value";
    case XSIM_SCHEMA_DURATION:
        ur = uint_range(f);
        if (ur.lo == 0 && ur.hi == UINT64_MAX)
            return "a duration such as \"10ms\", \"2.5us\" or a number of ns";
        snprintf(buf, size, "a duration in [%s, %s] such as \"10ms\" or \"2.5us\"",
                 xsim_format_duration(ur.lo, a, sizeof(a)),
                 xsim_format_duration(ur.hi, b, sizeof(b)));
        return buf;
    case XSIM_SCHEMA_RATE:
        if (!(f->dmin < f->dmax))
            return "a rate such as \"1000/s\", \"1k/s\" or \"2.5M/s\"";
        snprintf(buf, size, "a rate in [%s/s, %s/s] such as \"1000/s\" or \"2.5M/s\"",
                 xsim__json_format_double(f->dmin, a, sizeof(a)),
                 xsim__json_format_double(f->dmax, b, sizeof(b)));
        return buf;
    }
    return "a value the schema cannot describe";
}

/* "'P' must be <what the field accepts>, got <value><extra>". */
__attribute__((noinline)) static int fail_value(struct xsim_schema_ctx *ctx,
                                                const struct xsim_schema_field *f, int stored,
                                                const char *extra)
{
    char subj[PATH_LEN + 8], desc[256], got[160];

    return fail_at(ctx, ctx->at, "%s must be %s, got %s%s", subject(ctx, subj, sizeof(subj)),
                   describe(f, stored, desc, sizeof(desc)),
                   xsim__json_render_value(ctx->value, got, sizeof(got)),
                   extra != NULL ? extra : "");
}

static int store_uint(struct xsim_schema_ctx *ctx, void *dst, size_t size, uint64_t v)
{
    uint8_t b;
    uint16_t h;
    uint32_t w;

    switch (size) {
    case 1:
        b = (uint8_t)v;
        memcpy(dst, &b, 1);
        return 0;
    case 2:
        h = (uint16_t)v;
        memcpy(dst, &h, 2);
        return 0;
    case 4:
        w = (uint32_t)v;
        memcpy(dst, &w, 4);
        return 0;
    case 8:
        memcpy(dst, &v, 8);
        return 0;
    }
    return fail_at(ctx, ctx->at, "internal error: schema member for '%s' has size %zu", ctx->path,
                   size);
}

static int store_double(struct xsim_schema_ctx *ctx, void *dst, size_t size, double v)
{
    float fl = (float)v;

    if (size == sizeof(double)) {
        memcpy(dst, &v, sizeof(v));
        return 0;
    }
    if (size == sizeof(float)) {
        memcpy(dst, &fl, sizeof(fl));
        return 0;
    }
    return fail_at(ctx, ctx->at, "internal error: schema member for '%s' has size %zu", ctx->path,
                   size);
}

/* A JSON number that is a whole number in int64 range: integers, and reals
 * such as 2.0 or 1e3. */
static int as_int64(const json_t *v, int64_t *out)
{
    double d;

    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return 1;
    }
    if (!json_is_real(v))
        return 0;
    d = json_real_value(v);
    if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0) || (double)(int64_t)d != d)
        return 0;
    *out = (int64_t)d;
    return 1;
}

enum uint_parse { UINT_OK, UINT_NOT, UINT_BAD_STRING, UINT_TOO_BIG };

/* UINT64 from a number, or from a decimal or 0x string (how values above
 * INT64_MAX are written, since jansson's integers are long long). */
static enum uint_parse as_uint64(const json_t *v, uint64_t *out)
{
    const char *s, *p;
    uint64_t acc = 0;
    int64_t i;
    unsigned int base = 10, digit;

    if (as_int64(v, &i)) {
        if (i < 0)
            return UINT_NOT;
        *out = (uint64_t)i;
        return UINT_OK;
    }
    if (json_is_real(v)) {
        double d = json_real_value(v);

        if (!(d >= 0 && d < 18446744073709551616.0) || (double)(uint64_t)d != d)
            return UINT_NOT;
        *out = (uint64_t)d;
        return UINT_OK;
    }
    if (!json_is_string(v))
        return UINT_NOT;
    s = json_string_value(v);
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    }
    if (*s == '\0')
        return UINT_BAD_STRING;
    for (p = s; *p != '\0'; p++) {
        if (*p >= '0' && *p <= '9')
            digit = (unsigned int)(*p - '0');
        else if (base == 16 && xsim__json_lower(*p) >= 'a' && xsim__json_lower(*p) <= 'f')
            digit = (unsigned int)(xsim__json_lower(*p) - 'a' + 10);
        else
            return UINT_BAD_STRING;
        if (acc > (UINT64_MAX - digit) / base)
            return UINT_TOO_BIG;
        acc = acc * base + digit;
    }
    *out = acc;
    return UINT_OK;
}

static int check_value(struct xsim_schema_ctx *ctx, const struct xsim_schema_field *f, void *base,
                       int store);

static int check_int(struct xsim_schema_ctx *ctx, const struct xsim_schema_field *f, void *dst)
{
    struct irange r = int_range(f);
    int64_t v;

    if (!as_int64(ctx->value, &v) || v < r.lo || v > r.hi)
        return fail_value(ctx, f, dst != NULL, NULL);
    return dst != NULL ? store_uint(ctx, dst, f->size, (uint64_t)v) : 0;
}

static int check_uint(struct xsim_schema_ctx *ctx, const struct xsim_schema_field *f, void *dst)
{
    static const char *const why[] = {
        [UINT_BAD_STRING] = " (a string must hold decimal or 0x digits)",
        [UINT_TOO_BIG] = " (more than 64 bits)",
    };
    struct urange r = uint_range(f);
    enum uint_parse p;
    uint64_t v;

    p = as_uint64(ctx->value, &v);
    if (p != UINT_OK)
        return fail_value(ctx, f, dst != NULL, p == UINT_NOT ? NULL : why[p]);
    if (v < r.lo || v > r.hi)
        return fail_value(ctx, f, dst != NULL, NULL);
    return dst != NULL ? store_uint(ctx, dst, f->size, v) : 0;
}

static int check_double(struct xsim_schema_ctx *ctx, const struct xsim_schema_field *f, void *dst)
{
    double v;

    if (!json_is_number(ctx->value))
        return fail_value(ctx, f, dst != NULL, NULL);
    v = json_number_value(ctx->value);
    if ((f->dmin < f->dmax && (v < f->dmin || v > f->dmax)) ||
        (dst != NULL && f->size == sizeof(float) && (v > FLT_MAX || v < -FLT_MAX)))
        return fail_value(ctx, f, dst != NULL, NULL);
    return dst != NULL ? store_double(ctx, dst, f->size, v) : 0;
}

static int check_string(struct xsim_schema_ctx *ctx, const struct xsim_schema_field *f, void *dst)
{
    struct urange r = str_range(f, dst != NULL);
    const char *s;
    size_t len;
    char extra[48];

    if (!json_is_string(ctx->value))
        return fail_value(ctx, f, dst != NULL, NULL);
    s = json_string_value(ctx->value);
    len = json_string_length(ctx->value);
    if (len < r.lo || len > r.hi) {
        snprintf(extra, sizeof(extra), " (%zu bytes)", len);
        return fail_value(ctx, f, dst != NULL, extra);
    }
    if (dst == NULL)
        return 0;
    if (f->borrow) {
        if (f->size != sizeof(s))
            return fail_at(ctx, ctx->at, "internal error: schema member for '%s' is not a pointer",
                           ctx->path);
        memcpy(dst, &s, sizeof(s));
    } else {
        memcpy(dst, s, len + 1);
    }
    return 0;
}

static int check_enum(struct xsim_schema_ctx *ctx, const struct xsim_schema_field *f, void *dst)
{
    struct xsim__json_nearest n = {0};
    const char *s;
    char extra[96];
    size_t i;

    if (json_is_string(ctx->value) && f->enum_values != NULL) {
        s = json_string_value(ctx->value);
        for (i = 0; f->enum_values[i] != NULL; i++) {
            if (strcmp(s, f->enum_values[i]) == 0)
                return dst != NULL ? store_uint(ctx, dst, f->size, i) : 0;
        }
        n.key = s;
        n.len = strlen(s);
        for (i = 0; f->enum_values[i] != NULL; i++)
            xsim__json_nearest_offer(&n, f->enum_values[i]);
    }
    if (n.best != NULL) {
        snprintf(extra, sizeof(extra), "; did you mean \"%s\"?", n.best);
        return fail_value(ctx, f, dst != NULL, extra);
    }
    return fail_value(ctx, f, dst != NULL, NULL);
}

static int check_duration(struct xsim_schema_ctx *ctx, const struct xsim_schema_field *f, void *dst)
{
    struct urange r = uint_range(f);
    char why[128], extra[160];
    uint64_t ns;

    if (json_is_string(ctx->value)) {
        if (xsim_parse_duration_ns(json_string_value(ctx->value), &ns, why, sizeof(why)) != 0) {
            snprintf(extra, sizeof(extra), " (%s)", why);
            return fail_value(ctx, f, dst != NULL, extra);
        }
    } else if (!json_is_number(ctx->value) || as_uint64(ctx->value, &ns) != UINT_OK) {
        return fail_value(ctx, f, dst != NULL, NULL);
    }
    if (ns < r.lo || ns > r.hi)
        return fail_value(ctx, f, dst != NULL, NULL);
    return dst != NULL ? store_uint(ctx, dst, f->size, ns) : 0;
}

static int check_rate(struct xsim_schema_ctx *ctx, const struct xsim_schema_field *f, void *dst)
{
    char why[128], extra[160];
    double v;

    if (json_is_string(ctx->value)) {
        if (xsim_parse_rate_per_s(json_string_value(ctx->value), &v, why, sizeof(why)) != 0) {
            snprintf(extra, sizeof(extra), " (%s)", why);
            return fail_value(ctx, f, dst != NULL, extra);
        }
    } else if (json_is_number(ctx->value)) {
        v = json_number_value(ctx->value);
    } else {
        return fail_value(ctx, f, dst != NULL, NULL);
    }
    if (v < 0 || (f->dmin < f->dmax && (v < f->dmin || v > f->dmax)))
        return fail_value(ctx, f, dst != NULL, NULL);
    return dst != NULL ? store_double(ctx, dst, f->size, v) : 0;
}

static const struct xsim_schema_field *find_field(const struct xsim_schema *s, const char *key)
{
    size_t i;

    for (i = 0; i < s->nfields; i++) {
        if (s->fields[i].name != NULL && strcmp(s->fields[i].name, key) == 0)
            return &s->fields[i];
    }
    return NULL;
}

__attribute__((noinline)) static int unknown_key(struct xsim_schema_ctx *ctx,
                                                 const struct xsim_schema *s, const char *key,
                                                 struct xsim__json_loc at)
{
    struct xsim__json_nearest n = {.key = key, .len = strlen(key)};
    char shown[96], in[PATH_LEN + 8], list[240];
    size_t i, o = 0;

    for (i = 0; i < s->nfields; i++)
        xsim__json_nearest_offer(&n, s->fields[i].name);
    xsim__json_sanitize(key, 64, shown, sizeof(shown));
    if (n.best != NULL)
        return fail_at(ctx, at, "unknown key '%s' %s; did you mean '%s'?", shown,
                       where(ctx, in, sizeof(in)), n.best);
    list[0] = '\0';
    for (i = 0; i < s->nfields && o < sizeof(list); i++) {
        if (s->fields[i].name == NULL)
            continue;
        o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s", o > 0 ? ", " : "",
                              s->fields[i].name);
    }
    if (o >= sizeof(list))
        memcpy(list + sizeof(list) - 4, "...", 4);
    if (s->nfields == 0)
        return fail_at(ctx, at, "unknown key '%s' %s; expected no keys", shown,
                       where(ctx, in, sizeof(in)));
    return fail_at(ctx, at, "unknown key '%s' %s; expected one of: %s", shown,
                   where(ctx, in, sizeof(in)), list);
}

__attribute__((noinline)) static int missing_key(struct xsim_schema_ctx *ctx,
                                                 const struct xsim_schema_field *f, int stored)
{
    char in[PATH_LEN + 8], desc[256];

    return fail_at(ctx, ctx->at, "missing required key '%s' %s; expected %s", f->name,
                   where(ctx, in, sizeof(in)), describe(f, stored, desc, sizeof(desc)));
}

/* Check the members of the object ctx->value, then the required keys, then
 * the schema's own rule. `base`: the struct offsets refer to. */
static int check_object(struct xsim_schema_ctx *ctx, const struct xsim_schema *s, void *base,
                        int store)
{
    json_t *obj = (json_t *)ctx->value;
    const char *parent_key = ctx->key;
    struct xsim__json_loc at = ctx->at;
    size_t saved = ctx->path_len, i;
    void *iter;
    int rc = 0;

    for (iter = json_object_iter(obj); iter != NULL && rc == 0;
         iter = json_object_iter_next(obj, iter)) {
        const char *key = json_object_iter_key(iter);
        const struct xsim__json_slot *ks = xsim__json_slot_find(ctx->doc, key);
        const struct xsim_schema_field *f = find_field(s, key);

        if (f == NULL)
            return unknown_key(ctx, s, key, ks != NULL ? ks->loc : at);
        path_push_key(ctx, key);
        ctx->value = json_object_iter_value(iter);
        ctx->key = key;
        ctx->at = ks != NULL ? ks->value : XSIM__JSON_NOWHERE;
        rc = check_value(ctx, f, base, store);
        path_pop(ctx, saved);
    }
    ctx->value = obj;
    ctx->key = parent_key;
    ctx->at = at;
    for (i = 0; i < s->nfields && rc == 0; i++) {
        const struct xsim_schema_field *f = &s->fields[i];

        if (f->required && f->name != NULL && json_object_get(obj, f->name) == NULL)
            rc = missing_key(ctx, f, store && f->size != 0);
    }
    if (rc == 0 && s->finish != NULL)
        rc = s->finish(ctx, obj, base);
    return rc;
}

/* The element (or map value) ctx->value of container field `f`. */
static int check_elem(struct xsim_schema_ctx *ctx, const struct xsim_schema_field *f, void *slot,
                      int store)
{
    if (f->elem != NULL)
        return check_value(ctx, f->elem, slot, store);
    if (f->sub == NULL)
        return 0;
    if (!json_is_object(ctx->value)) {
        const struct xsim_schema_field as_object = {.type = XSIM_SCHEMA_OBJECT, .sub = f->sub};

        return fail_value(ctx, &as_object, 0, NULL);
    }
    return check_object(ctx, f->sub, slot, store);
}

static int check_count(struct xsim_schema_ctx *ctx, const struct xsim_schema_field *f, int stored,
                       size_t n)
{
    struct urange r = count_range(f, stored);
    char extra[64];

    if (n >= r.lo && n <= r.hi)
        return 0;
    snprintf(extra, sizeof(extra), " of %zu %s", n,
             f->type == XSIM_SCHEMA_ARRAY_OF ? "elements" : "keys");
    return fail_value(ctx, f, stored, extra);
}

static int check_array(struct xsim_schema_ctx *ctx, const struct xsim_schema_field *f, void *base,
                       void *dst)
{
    const json_t *arr = ctx->value;
    const struct xsim__json_slot *s = xsim__json_slot_find(ctx->doc, arr);
    struct xsim__json_loc at = ctx->at;
    size_t n = json_array_size(arr), saved = ctx->path_len, i;
    int rc;

    if ((rc = check_count(ctx, f, dst != NULL, n)) != 0)
        return rc;
    for (i = 0; i < n && rc == 0; i++) {
        path_push_index(ctx, i);
        ctx->value = json_array_get(arr, i);
        ctx->key = NULL;
        ctx->at = s != NULL && i < s->count ? ctx->doc->elems[s->first + i] : XSIM__JSON_NOWHERE;
        rc = check_elem(ctx, f, dst != NULL ? (char *)dst + i * f->elem_size : base, dst != NULL);
        path_pop(ctx, saved);
    }
    ctx->value = arr;
    ctx->at = at;
    if (rc == 0 && dst != NULL)
        rc = store_uint(ctx, (char *)base + f->count_offset, f->count_size, n);
    return rc;
}

static int check_map(struct xsim_schema_ctx *ctx, const struct xsim_schema_field *f, void *base,
                     void *dst)
{
    json_t *obj = (json_t *)ctx->value;
    const char *parent_key = ctx->key;
    struct xsim__json_loc at = ctx->at;
    size_t n = json_object_size(obj), saved = ctx->path_len, i = 0;
    char in[PATH_LEN + 8], shown[96];
    void *iter;
    int rc;

    if ((rc = check_count(ctx, f, dst != NULL, n)) != 0)
        return rc;
    for (iter = json_object_iter(obj); iter != NULL && rc == 0;
         iter = json_object_iter_next(obj, iter), i++) {
        const char *key = json_object_iter_key(iter);
        const struct xsim__json_slot *ks = xsim__json_slot_find(ctx->doc, key);
        char *slot = dst != NULL ? (char *)dst + i * f->elem_size : NULL;

        if (slot != NULL && f->key_size != 0) {
            if (strlen(key) >= f->key_size)
                return fail_at(ctx, ks != NULL ? ks->loc : at,
                               "key '%s' %s is too long; expected at most %zu bytes",
                               xsim__json_sanitize(key, 64, shown, sizeof(shown)),
                               where(ctx, in, sizeof(in)), f->key_size - 1);
            memcpy(slot + f->key_offset, key, strlen(key) + 1);
        }
        path_push_key(ctx, key);
        ctx->value = json_object_iter_value(iter);
        ctx->key = key;
        ctx->at = ks != NULL ? ks->value : XSIM__JSON_NOWHERE;
        rc = check_elem(ctx, f, slot != NULL ? slot : base, slot != NULL);
        path_pop(ctx, saved);
    }
    ctx->value = obj;
    ctx->key = parent_key;
    ctx->at = at;
    if (rc == 0 && dst != NULL)
        rc = store_uint(ctx, (char *)base + f->count_offset, f->count_size, n);
    return rc;
}

/* Check ctx->value as field `f` describes; store relative to `base` when
 * `store`; then call the field's setter with `base`. */
static int check_value(struct xsim_schema_ctx *ctx, const struct xsim_schema_field *f, void *base,
                       int store)
{
    void *dst = store && base != NULL && f->size != 0 ? (char *)base + f->offset : NULL;
    const json_t *v = ctx->value;
    int rc = 0;

    /* Only a schema that refers to itself could go deeper than the text. */
    if (ctx->depth > XSIM_JSON_MAX_DEPTH + 8)
        return fail_at(ctx, ctx->at, "'%s' is nested too deeply; expected at most %d levels",
                       ctx->path, XSIM_JSON_MAX_DEPTH);
    ctx->depth++;
    switch (f->type) {
    case XSIM_SCHEMA_BOOL:
        if (!json_is_boolean(v))
            rc = fail_value(ctx, f, dst != NULL, NULL);
        else if (dst != NULL)
            rc = store_uint(ctx, dst, f->size, json_is_true(v));
        break;
    case XSIM_SCHEMA_INT:
        rc = check_int(ctx, f, dst);
        break;
    case XSIM_SCHEMA_UINT64:
        rc = check_uint(ctx, f, dst);
        break;
    case XSIM_SCHEMA_DOUBLE:
        rc = check_double(ctx, f, dst);
        break;
    case XSIM_SCHEMA_STRING:
        rc = check_string(ctx, f, dst);
        break;
    case XSIM_SCHEMA_ENUM:
        rc = check_enum(ctx, f, dst);
        break;
    case XSIM_SCHEMA_OBJECT:
        if (!json_is_object(v))
            rc = fail_value(ctx, f, dst != NULL, NULL);
        else if (f->sub != NULL)
            rc = check_object(ctx, f->sub, dst != NULL ? dst : base, dst != NULL);
        break;
    case XSIM_SCHEMA_ARRAY_OF:
        rc = json_is_array(v) ? check_array(ctx, f, base, dst)
                              : fail_value(ctx, f, dst != NULL, NULL);
        break;
    case XSIM_SCHEMA_MAP_OF:
        rc = json_is_object(v) ? check_map(ctx, f, base, dst)
                               : fail_value(ctx, f, dst != NULL, NULL);
        break;
    case XSIM_SCHEMA_ANY:
        break;
    case XSIM_SCHEMA_DURATION:
        rc = check_duration(ctx, f, dst);
        break;
    case XSIM_SCHEMA_RATE:
        rc = check_rate(ctx, f, dst);
        break;
    default:
        rc = fail_at(ctx, ctx->at, "internal error: schema field '%s' has unknown type %d",
                     ctx->path, (int)f->type);
        break;
    }
    if (rc == 0 && f->set != NULL)
        rc = f->set(ctx, v, base);
    ctx->depth--;
    return rc;
}

int xsim_schema_check(const struct xsim_json_doc *doc, const json_t *node,
                      const struct xsim_schema *schema, const char *path, void *target,
                      struct xsim_error *err)
{
    struct xsim_schema_ctx ctx = {.doc = doc, .err = err};
    const struct xsim_schema_field root = {.type = XSIM_SCHEMA_OBJECT, .sub = schema};
    int line = 0, column = 0;

    if (doc == NULL || schema == NULL || (node == NULL && doc->root == NULL))
        return xsim_error_set(err, doc != NULL ? doc->name : NULL, 0, 0,
                              "no document or no schema to check");
    ctx.value = node != NULL ? node : doc->root;
    if (xsim_json_pos(doc, ctx.value, &line, &column) == 0) {
        ctx.at.line = line;
        ctx.at.column = column;
    }
    path_append(&ctx, path != NULL ? path : "");
    if (!json_is_object(ctx.value))
        return fail_value(&ctx, &root, 0, NULL);
    return check_object(&ctx, schema, target, target != NULL);
}

int xsim_schema_fail(struct xsim_schema_ctx *ctx, const char *fmt, ...)
{
    char text[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    return fail_at(ctx, ctx->at, "%s", text);
}

int xsim_schema_fail_member(struct xsim_schema_ctx *ctx, const char *key, const char *fmt, ...)
{
    struct xsim__json_loc at = ctx->at;
    char text[512];
    va_list ap;
    int line, column;

    if (xsim_json_member_pos(ctx->doc, ctx->value, key, &line, &column) == 0) {
        at.line = line;
        at.column = column;
    }
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    return fail_at(ctx, at, "%s", text);
}

int xsim_schema_check_as(struct xsim_schema_ctx *ctx, const struct xsim_schema_field *field,
                         void *target)
{
    return check_value(ctx, field, target, target != NULL);
}

const char *xsim_schema_path(const struct xsim_schema_ctx *ctx)
{
    return ctx->path;
}

const char *xsim_schema_key(const struct xsim_schema_ctx *ctx)
{
    return ctx->key;
}

const struct xsim_json_doc *xsim_schema_doc(const struct xsim_schema_ctx *ctx)
{
    return ctx->doc;
}
