/*
 * jsonschema.c - JSON documents with a position for every node, declarative
 * schema checks that fill C structs, and duration/rate parsing.
 *
 * jansson reports positions only for syntax errors, so after jansson accepts
 * a text we walk the text again with a small tokenizer, in step with the tree
 * jansson built (objects iterate in insertion order, which is text order since
 * duplicate keys are rejected), and record where each node starts.
 */
#include <errno.h>
#include <float.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario/jsonschema.h"

/* Objects iterate in insertion order since jansson 2.8; json_error_code()
 * exists since 2.11. */
#if JANSSON_VERSION_HEX < 0x020b00
#error "jsonschema.c needs jansson 2.11 or newer"
#endif

/* ---- Position index ---- */

struct xsim__json_slot {
    const void *ptr;             /* a node, or an object's key string; NULL: empty */
    struct xsim__json_loc loc;   /* where it starts */
    struct xsim__json_loc value; /* keys: where the member's value starts */
    size_t first, count;         /* arrays: their run in doc->elems */
};

static const struct xsim__json_loc nowhere = {0, 0};

static void *doc_resize(const struct xsim_json_doc *doc, void *ptr, size_t size)
{
    if (doc->alloc.resize != NULL)
        return doc->alloc.resize(doc->alloc.ctx, ptr, size);
    if (size == 0) {
        free(ptr);
        return NULL;
    }
    return realloc(ptr, size);
}

/* Make room for `need` items of `elsize` bytes in *p (capacity *cap). */
static int grow(const struct xsim_json_doc *doc, void **p, size_t *cap, size_t need, size_t elsize)
{
    size_t ncap = *cap != 0 ? *cap : 16;
    void *np;

    if (need <= *cap)
        return 0;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2)
            return -ENOMEM;
        ncap *= 2;
    }
    if (ncap > SIZE_MAX / elsize)
        return -ENOMEM;
    np = doc_resize(doc, *p, ncap * elsize);
    if (np == NULL)
        return -ENOMEM;
    *p = np;
    *cap = ncap;
    return 0;
}

static size_t slot_hash(const void *ptr, size_t mask)
{
    uint64_t h = (uint64_t)(uintptr_t)ptr;

    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return (size_t)h & mask;
}

static const struct xsim__json_slot *slot_find(const struct xsim_json_doc *doc, const void *ptr)
{
    size_t mask, i;

    if (doc->slots_cap == 0 || ptr == NULL)
        return NULL;
    mask = doc->slots_cap - 1;
    for (i = slot_hash(ptr, mask);; i = (i + 1) & mask) {
        if (doc->slots[i].ptr == ptr)
            return &doc->slots[i];
        if (doc->slots[i].ptr == NULL)
            return NULL;
    }
}

static int slots_rehash(struct xsim_json_doc *doc)
{
    size_t ncap = doc->slots_cap != 0 ? doc->slots_cap * 2 : 64;
    struct xsim__json_slot *ns;
    size_t i, j;

    if (ncap > SIZE_MAX / sizeof(*ns))
        return -ENOMEM;
    ns = doc_resize(doc, NULL, ncap * sizeof(*ns));
    if (ns == NULL)
        return -ENOMEM;
    memset(ns, 0, ncap * sizeof(*ns));
    for (i = 0; i < doc->slots_cap; i++) {
        if (doc->slots[i].ptr == NULL)
            continue;
        for (j = slot_hash(doc->slots[i].ptr, ncap - 1); ns[j].ptr != NULL;
             j = (j + 1) & (ncap - 1))
            ;
        ns[j] = doc->slots[i];
    }
    doc_resize(doc, doc->slots, 0);
    doc->slots = ns;
    doc->slots_cap = ncap;
    return 0;
}

static int slot_put(struct xsim_json_doc *doc, const struct xsim__json_slot *s)
{
    size_t mask, i;
    int rc;

    /* Load factor at most 1/2 keeps probes short. */
    if ((doc->slots_used + 1) * 2 > doc->slots_cap) {
        rc = slots_rehash(doc);
        if (rc != 0)
            return rc;
    }
    mask = doc->slots_cap - 1;
    for (i = slot_hash(s->ptr, mask); doc->slots[i].ptr != NULL; i = (i + 1) & mask) {
        if (doc->slots[i].ptr == s->ptr)
            return -EPROTO; /* a node twice in one tree: the walk is out of step */
    }
    doc->slots[i] = *s;
    doc->slots_used++;
    return 0;
}

/* ---- Tokenizer, in step with the tree ---- */

struct cursor {
    const unsigned char *p, *end;
    struct xsim__json_loc at; /* position of *p */
};

struct frame {
    json_t *node;
    void *iter;   /* objects: next member */
    size_t i, n;  /* members or elements done, and arrays' size */
    size_t first; /* arrays: run in doc->elems */
};

struct indexer {
    struct xsim_json_doc *doc;
    struct cursor cur;
    struct frame *stack;
    size_t depth, cap;
};

static int cur_peek(const struct cursor *c)
{
    return c->p < c->end ? *c->p : -1;
}

/* Consume one byte; columns count UTF-8 characters, as jansson does. */
static void cur_step(struct cursor *c)
{
    unsigned char ch = *c->p++;

    if (ch == '\n') {
        c->at.line++;
        c->at.column = 1;
    } else if ((ch & 0xc0) != 0x80) {
        c->at.column++;
    }
}

static void cur_skip_ws(struct cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        cur_step(c);
}

static int cur_expect(struct cursor *c, int ch)
{
    if (cur_peek(c) != ch)
        return -EPROTO;
    cur_step(c);
    return 0;
}

/* Skip a string token; report its raw contents (escapes not decoded). */
static int cur_skip_string(struct cursor *c, const unsigned char **raw, size_t *raw_len)
{
    const unsigned char *start;

    if (cur_expect(c, '"') != 0)
        return -EPROTO;
    start = c->p;
    while (c->p < c->end) {
        if (*c->p == '"') {
            *raw = start;
            *raw_len = (size_t)(c->p - start);
            cur_step(c);
            return 0;
        }
        if (*c->p == '\\') {
            cur_step(c);
            if (c->p >= c->end)
                break;
        }
        cur_step(c);
    }
    return -EPROTO;
}

/* Skip a number token; jansson makes it a real iff it has a fraction or an
 * exponent. */
static int cur_skip_number(struct cursor *c, int real, const unsigned char **tok, size_t *len)
{
    int seen_real = 0, ch = cur_peek(c);

    if (ch != '-' && !(ch >= '0' && ch <= '9'))
        return -EPROTO;
    *tok = c->p;
    while ((ch = cur_peek(c)) != -1 && strchr("0123456789+-.eE", ch) != NULL) {
        if (ch == '.' || ch == 'e' || ch == 'E')
            seen_real = 1;
        cur_step(c);
    }
    *len = (size_t)(c->p - *tok);
    return seen_real == real ? 0 : -EPROTO;
}

static int hex4(const unsigned char *p, size_t avail, uint32_t *out)
{
    uint32_t v = 0;
    size_t i;

    if (avail < 4)
        return 0;
    for (i = 0; i < 4; i++) {
        unsigned char h = p[i];

        v <<= 4;
        if (h >= '0' && h <= '9')
            v |= (uint32_t)(h - '0');
        else if (h >= 'a' && h <= 'f')
            v |= (uint32_t)(h - 'a' + 10);
        else if (h >= 'A' && h <= 'F')
            v |= (uint32_t)(h - 'A' + 10);
        else
            return 0;
    }
    *out = v;
    return 1;
}

static size_t utf8_put(uint32_t cp, unsigned char *out)
{
    if (cp < 0x80) {
        out[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (unsigned char)(0xc0 | (cp >> 6));
        out[1] = (unsigned char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (unsigned char)(0xe0 | (cp >> 12));
        out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (unsigned char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (unsigned char)(0xf0 | (cp >> 18));
    out[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (unsigned char)(0x80 | (cp & 0x3f));
    return 4;
}

/* Decode the escapes of one character of a string token at raw[*i]. */
static size_t decode_char(const unsigned char *raw, size_t len, size_t *i, unsigned char *out)
{
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    const char *hit;
    uint32_t cp, lo;

    if (raw[*i] != '\\') {
        out[0] = raw[(*i)++];
        return 1;
    }
    if (*i + 1 >= len)
        return 0;
    if (raw[*i + 1] != 'u') {
        hit = strchr(from, raw[*i + 1]);
        if (hit == NULL || *hit == '\0')
            return 0;
        out[0] = (unsigned char)to[hit - from];
        *i += 2;
        return 1;
    }
    if (!hex4(raw + *i + 2, len - *i - 2, &cp))
        return 0;
    *i += 6;
    if (cp >= 0xdc00 && cp <= 0xdfff)
        return 0;
    if (cp >= 0xd800 && cp <= 0xdbff) {
        if (*i + 6 > len || raw[*i] != '\\' || raw[*i + 1] != 'u' ||
            !hex4(raw + *i + 2, len - *i - 2, &lo) || lo < 0xdc00 || lo > 0xdfff)
            return 0;
        *i += 6;
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
    }
    return utf8_put(cp, out);
}

/* Whether the string token raw[0..len) decodes to exactly val[0..vlen): the
 * proof that the walk is in step, and a guard against a tree jansson built
 * wrong (under memory pressure jansson 2.14 can drop bytes from a string). */
static int string_matches(const unsigned char *raw, size_t len, const char *val, size_t vlen)
{
    unsigned char enc[4];
    size_t i = 0, o = 0, n;

    while (i < len) {
        n = decode_char(raw, len, &i, enc);
        if (n == 0 || n > vlen - o || memcmp(val + o, enc, n) != 0)
            return 0;
        o += n;
    }
    return o == vlen;
}

/* Whether a number token has the value jansson gave `node`. Integers are read
 * here; reals through jansson again, so that both use the same conversion. */
static int number_matches(const unsigned char *tok, size_t len, const json_t *node)
{
    uint64_t mag = 0, lim = (uint64_t)INT64_MAX;
    json_t *again;
    size_t i = 0;
    int neg = 0, same;

    if (json_is_real(node)) {
        again = json_loadb((const char *)tok, len, JSON_DECODE_ANY, NULL);
        if (again == NULL)
            return -ENOMEM; /* it parsed a moment ago: memory is what changed */
        same = json_is_real(again) && json_real_value(again) == json_real_value(node);
        json_decref(again);
        return same ? 0 : -EPROTO;
    }
    if (len > 0 && tok[0] == '-') {
        neg = 1;
        lim++;
        i++;
    }
    if (i == len)
        return -EPROTO;
    for (; i < len; i++) {
        unsigned int d = (unsigned int)(tok[i] - '0');

        if (d > 9 || mag > (lim - d) / 10)
            return -EPROTO;
        mag = mag * 10 + d;
    }
    if (neg)
        return json_integer_value(node) == (json_int_t)(0 - mag) ? 0 : -EPROTO;
    return json_integer_value(node) == (json_int_t)mag ? 0 : -EPROTO;
}

static int cur_skip_word(struct cursor *c, const char *word)
{
    size_t n = strlen(word);

    if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0)
        return -EPROTO;
    while (n-- > 0)
        cur_step(c);
    return 0;
}

static int index_push(struct indexer *ix, json_t *node, size_t n, size_t first)
{
    struct frame *f;
    int rc;

    /* jansson refuses deeper text; deeper here means the walk is out of step. */
    if (ix->depth > XSIM_JSON_MAX_DEPTH)
        return -EPROTO;
    rc = grow(ix->doc, (void **)&ix->stack, &ix->cap, ix->depth + 1, sizeof(*ix->stack));
    if (rc != 0)
        return rc;
    f = &ix->stack[ix->depth++];
    f->node = node;
    f->iter = json_is_object(node) ? json_object_iter(node) : NULL;
    f->i = 0;
    f->n = n;
    f->first = first;
    return 0;
}

/* Record where `node` starts (the cursor, after whitespace) and consume it,
 * or open it if it is a container. */
static int index_value(struct indexer *ix, json_t *node)
{
    struct xsim_json_doc *doc = ix->doc;
    struct xsim__json_slot s = {.ptr = node, .loc = ix->cur.at};
    const unsigned char *raw;
    size_t raw_len, n;
    int rc;

    switch (json_typeof(node)) {
    case JSON_OBJECT:
        if ((rc = cur_expect(&ix->cur, '{')) != 0 || (rc = slot_put(doc, &s)) != 0)
            return rc;
        return index_push(ix, node, 0, 0);
    case JSON_ARRAY:
        n = json_array_size(node);
        if (doc->elems_len > SIZE_MAX - n)
            return -ENOMEM;
        rc = grow(doc, (void **)&doc->elems, &doc->elems_cap, doc->elems_len + n,
                  sizeof(*doc->elems));
        if (rc != 0)
            return rc;
        s.first = doc->elems_len;
        s.count = n;
        doc->elems_len += n;
        if ((rc = cur_expect(&ix->cur, '[')) != 0 || (rc = slot_put(doc, &s)) != 0)
            return rc;
        return index_push(ix, node, n, s.first);
    case JSON_STRING:
        if ((rc = cur_skip_string(&ix->cur, &raw, &raw_len)) != 0)
            return rc;
        if (!string_matches(raw, raw_len, json_string_value(node), json_string_length(node)))
            return -EPROTO;
        return slot_put(doc, &s);
    case JSON_INTEGER:
    case JSON_REAL:
        if ((rc = cur_skip_number(&ix->cur, json_is_real(node), &raw, &raw_len)) != 0 ||
            (rc = number_matches(raw, raw_len, node)) != 0)
            return rc;
        return slot_put(doc, &s);
    case JSON_TRUE:
        return cur_skip_word(&ix->cur, "true"); /* a singleton: found through its parent */
    case JSON_FALSE:
        return cur_skip_word(&ix->cur, "false");
    case JSON_NULL:
        return cur_skip_word(&ix->cur, "null");
    }
    return -EPROTO;
}

/* One step inside the innermost open container: its next member or element,
 * or its end. */
static int index_step(struct indexer *ix)
{
    struct frame *f = &ix->stack[ix->depth - 1];
    struct cursor *c = &ix->cur;
    struct xsim__json_slot ks = {0};
    const unsigned char *raw;
    const char *key;
    size_t raw_len;
    json_t *value;
    int rc;

    cur_skip_ws(c);
    if (json_is_object(f->node)) {
        if (f->iter == NULL) {
            ix->depth--;
            return cur_expect(c, '}');
        }
        if (f->i > 0 && cur_expect(c, ',') != 0)
            return -EPROTO;
        cur_skip_ws(c);
        key = json_object_iter_key(f->iter);
        value = json_object_iter_value(f->iter);
        f->iter = json_object_iter_next(f->node, f->iter);
        f->i++;
        ks.ptr = key;
        ks.loc = c->at;
        if ((rc = cur_skip_string(c, &raw, &raw_len)) != 0)
            return rc;
        if (!string_matches(raw, raw_len, key, strlen(key)))
            return -EPROTO;
        cur_skip_ws(c);
        if (cur_expect(c, ':') != 0)
            return -EPROTO;
        cur_skip_ws(c);
        ks.value = c->at;
        if ((rc = slot_put(ix->doc, &ks)) != 0)
            return rc;
        return index_value(ix, value);
    }
    if (f->i == f->n) {
        ix->depth--;
        return cur_expect(c, ']');
    }
    if (f->i > 0) {
        if (cur_expect(c, ',') != 0)
            return -EPROTO;
        cur_skip_ws(c);
    }
    ix->doc->elems[f->first + f->i] = c->at;
    value = json_array_get(f->node, f->i);
    f->i++;
    return index_value(ix, value);
}

/* Build the index of doc->root from the text jansson accepted. The walk keeps
 * its own stack, so deep nesting costs heap, not C stack. */
static int index_doc(struct xsim_json_doc *doc, const char *text, size_t len)
{
    struct indexer ix = {.doc = doc};
    int rc;

    ix.cur.p = (const unsigned char *)text;
    ix.cur.end = ix.cur.p + len;
    ix.cur.at.line = 1;
    ix.cur.at.column = 1;
    cur_skip_ws(&ix.cur);
    doc->root_loc = ix.cur.at;
    rc = index_value(&ix, doc->root);
    while (rc == 0 && ix.depth > 0)
        rc = index_step(&ix);
    if (rc == 0) {
        cur_skip_ws(&ix.cur);
        if (ix.cur.p != ix.cur.end)
            rc = -EPROTO;
    }
    doc_resize(doc, ix.stack, 0);
    return rc;
}

/* ---- Text helpers for messages ---- */

/* Copy `s` (at most `max` bytes of it, cut on a character boundary) into buf,
 * with control characters escaped so that a message stays on one line. */
static const char *sanitize(const char *s, size_t max, char *buf, size_t size)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t o = 0, n = 0, clen, out;

    if (size < 5) {
        if (size > 0)
            buf[0] = '\0';
        return buf;
    }
    while (*p != '\0') {
        clen = 1;
        if (*p >= 0xc0) {
            while (clen < 4 && (p[clen] & 0xc0) == 0x80)
                clen++;
        }
        out = *p < 0x20 || *p == 0x7f ? 4 : clen;
        /* Keep room for "..." and the terminator. */
        if (n + clen > max || o + out + 4 > size) {
            memcpy(buf + o, "...", 3);
            o += 3;
            break;
        }
        if (out == 4 && clen == 1)
            snprintf(buf + o, 5, "\\x%02x", *p);
        else
            memcpy(buf + o, p, clen);
        o += out;
        n += clen;
        p += clen;
    }
    buf[o] = '\0';
    return buf;
}

/* Shortest "%.*g" that reads back as `d`. */
static const char *format_double(double d, char *buf, size_t size)
{
    int prec;

    /* Whole numbers as integers: bounds read "[0, 1000000000]", not "1e+09". */
    if (d >= -1e15 && d <= 1e15 && (double)(long long)d == d) {
        snprintf(buf, size, "%lld", (long long)d);
        return buf;
    }
    for (prec = 1; prec < 17; prec++) {
        snprintf(buf, size, "%.*g", prec, d);
        if (strtod(buf, NULL) == d)
            return buf;
    }
    snprintf(buf, size, "%.17g", d);
    return buf;
}

/* What a JSON value is, for "got ..." in messages. */
static const char *render_value(const json_t *v, char *buf, size_t size)
{
    char tmp[128];

    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        snprintf(buf, size, "\"%s\"", sanitize(json_string_value(v), 40, tmp, sizeof(tmp)));
        return buf;
    case JSON_INTEGER:
        snprintf(buf, size, "%lld", (long long)json_integer_value(v));
        return buf;
    case JSON_REAL:
        return format_double(json_real_value(v), buf, size);
    case JSON_TRUE:
        return "true";
    case JSON_FALSE:
        return "false";
    case JSON_NULL:
        return "null";
    }
    return "a value";
}

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

#define EDIT_MAX 64 /* longer names get no suggestion */

/* Optimal string alignment distance (Levenshtein plus adjacent swaps),
 * ignoring ASCII case. */
static unsigned int edit_distance(const char *a, size_t la, const char *b, size_t lb)
{
    unsigned int rows[3][EDIT_MAX + 1];
    unsigned int *prev2 = rows[0], *prev = rows[1], *cur = rows[2], *t;
    size_t i, j;

    for (j = 0; j <= lb; j++)
        prev[j] = (unsigned int)j;
    for (i = 1; i <= la; i++) {
        cur[0] = (unsigned int)i;
        for (j = 1; j <= lb; j++) {
            unsigned int cost = lower(a[i - 1]) != lower(b[j - 1]);
            unsigned int d = prev[j] + 1;

            if (cur[j - 1] + 1 < d)
                d = cur[j - 1] + 1;
            if (prev[j - 1] + cost < d)
                d = prev[j - 1] + cost;
            if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) &&
                lower(a[i - 2]) == lower(b[j - 1]) && prev2[j - 2] + 1 < d)
                d = prev2[j - 2] + 1;
            cur[j] = d;
        }
        t = prev2;
        prev2 = prev;
        prev = cur;
        cur = t;
    }
    return prev[lb];
}

struct nearest {
    const char *key;
    size_t len;
    const char *best;
    unsigned int dist;
};

/* Consider `cand` as a suggestion for the unknown `n->key`: only close ones,
 * distance <= max(2, len/3) and less than the key's own length. */
static void nearest_offer(struct nearest *n, const char *cand)
{
    size_t lc = cand != NULL ? strlen(cand) : 0;
    unsigned int limit, d;

    if (cand == NULL || n->len == 0 || n->len > EDIT_MAX || lc > EDIT_MAX)
        return;
    limit = n->len / 3 > 2 ? (unsigned int)(n->len / 3) : 2;
    if (limit >= n->len)
        limit = (unsigned int)n->len - 1;
    d = edit_distance(n->key, n->len, cand, lc);
    if (d <= limit && (n->best == NULL || d < n->dist)) {
        n->best = cand;
        n->dist = d;
    }
}

/* ---- Loading ---- */

static const char *errno_text(int e, char *buf, size_t size)
{
#if defined(__GLIBC__) && defined(_GNU_SOURCE)
    return strerror_r(e, buf, size);
#else
    if (strerror_r(e, buf, size) != 0)
        snprintf(buf, size, "error %d", e);
    return buf;
#endif
}

/* Line and column of byte `off` of `text`, counted as the tokenizer does. */
static struct xsim__json_loc loc_at(const char *text, size_t off)
{
    struct cursor c = {(const unsigned char *)text, (const unsigned char *)text + off, {1, 1}};

    while (c.p < c.end)
        cur_step(&c);
    return c.at;
}

static int only_whitespace(const char *text, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if (text[i] != ' ' && text[i] != '\t' && text[i] != '\n' && text[i] != '\r')
            return 0;
    }
    return 1;
}

/* Turn jansson's error into ours, with jansson's position and a word on what
 * was expected where jansson does not say. */
static int syntax_error(const struct xsim_json_doc *doc, const json_error_t *je, const char *text,
                        size_t len, struct xsim_error *err)
{
    enum json_error_code code = json_error_code(je);
    int line = je->line > 0 ? je->line : 1;
    int column = je->column > 0 ? je->column : 1;
    const char *expect = "";
    char what[256];

    /* jansson returns without filling the error only when an allocation
     * failed before parsing started. */
    if (code == json_error_out_of_memory || je->text[0] == '\0') {
        xsim_error_set(err, doc->name, 0, 0, "out of memory while parsing");
        return -ENOMEM;
    }
    if (only_whitespace(text, len))
        return xsim_error_set(err, doc->name, line, column,
                              "empty document; expected a JSON value");
    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
        return xsim_error_set(err, doc->name, 1, 1,
                              "UTF-8 byte order mark; expected JSON text without one");
    sanitize(je->text, sizeof(what), what, sizeof(what));
    switch (code) {
    case json_error_invalid_utf8:
        /* jansson stops at the character before the byte it cannot decode. */
        column = je->column >= 0 ? je->column + 1 : 1;
        expect = "; expected UTF-8 text";
        break;
    case json_error_numeric_overflow:
        if (strncmp(je->text, "real", 4) == 0)
            expect = "; expected a number within the range of a double";
        else
            expect = "; expected an integer in [-9223372036854775808, 9223372036854775807] "
                     "(write larger unsigned values as a string, e.g. \"0xffffffffffffffff\")";
        break;
    case json_error_stack_overflow:
        expect = "; expected at most 2048 nested arrays and objects";
        break;
    case json_error_duplicate_key:
        expect = "; expected each key at most once per object";
        break;
    default:
        break;
    }
    return xsim_error_set(err, doc->name, line, column, "invalid JSON: %s%s", what, expect);
}

static void index_free(struct xsim_json_doc *doc)
{
    doc_resize(doc, doc->slots, 0);
    doc_resize(doc, doc->elems, 0);
    doc->slots = NULL;
    doc->elems = NULL;
    doc->slots_cap = doc->slots_used = 0;
    doc->elems_len = doc->elems_cap = 0;
}

static int load_text(struct xsim_json_doc *doc, const char *text, size_t len,
                     struct xsim_error *err)
{
    const char *nul;
    json_error_t je;
    int rc;

    if (len > XSIM_JSON_MAX_BYTES) {
        xsim_error_set(err, doc->name, 0, 0, "document is %zu bytes; expected at most %u", len,
                       XSIM_JSON_MAX_BYTES);
        return -EFBIG;
    }
    /* jansson silently drops a NUL byte that follows a number or a literal;
     * JSON text never holds one, so refuse it here, where it is. */
    nul = memchr(text, '\0', len);
    if (nul != NULL) {
        struct xsim__json_loc at = loc_at(text, (size_t)(nul - text));

        return xsim_error_set(err, doc->name, at.line, at.column,
                              "NUL byte in the text; expected UTF-8 JSON text");
    }
    /* json_error_code() reads a byte jansson leaves unset when it fails early. */
    memset(&je, 0, sizeof(je));
    doc->root = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
    if (doc->root == NULL)
        return syntax_error(doc, &je, text, len, err);
    rc = index_doc(doc, text, len);
    if (rc == 0)
        return 0;
    json_decref(doc->root);
    doc->root = NULL;
    index_free(doc);
    if (rc == -ENOMEM)
        xsim_error_set(err, doc->name, 0, 0, "out of memory while indexing positions");
    else
        xsim_error_set(err, doc->name, 0, 0,
                       "jansson's tree does not match the text (was memory short?); expected "
                       "them to agree");
    return rc;
}

void xsim_json_doc_init(struct xsim_json_doc *doc, const struct xsim_json_alloc *alloc)
{
    memset(doc, 0, sizeof(*doc));
    if (alloc != NULL)
        doc->alloc = *alloc;
    snprintf(doc->name, sizeof(doc->name), "<string>");
}

static int begin_load(struct xsim_json_doc *doc, const char *name, struct xsim_error *err)
{
    if (doc->root != NULL) {
        xsim_error_set(err, doc->name, 0, 0, "document already loaded; expected a fresh one");
        return -EBUSY;
    }
    snprintf(doc->name, sizeof(doc->name), "%s", name != NULL ? name : "<string>");
    return 0;
}

int xsim_json_doc_load_buffer(struct xsim_json_doc *doc, const char *name, const char *buf,
                              size_t len, struct xsim_error *err)
{
    int rc;

    if (doc == NULL || (buf == NULL && len != 0))
        return xsim_error_set(err, name, 0, 0, "no document or no text");
    rc = begin_load(doc, name, err);
    if (rc != 0)
        return rc;
    return load_text(doc, buf != NULL ? buf : "", len, err);
}

/* Read all of `path` (which may be a pipe) into memory from the doc's allocator. */
static int read_file(struct xsim_json_doc *doc, const char *path, char **out, size_t *out_len,
                     struct xsim_error *err)
{
    char *buf = NULL, ebuf[128];
    size_t len = 0, cap = 0, got;
    FILE *f = fopen(path, "rb");
    int rc = 0;

    if (f == NULL) {
        rc = errno != 0 ? errno : EIO;
        xsim_error_set(err, path, 0, 0, "cannot open: %s; expected a readable JSON file",
                       errno_text(rc, ebuf, sizeof(ebuf)));
        return -rc;
    }
    for (;;) {
        if (len == cap && grow(doc, (void **)&buf, &cap, len + 4096, 1) != 0) {
            xsim_error_set(err, path, 0, 0, "out of memory while reading");
            rc = ENOMEM;
            break;
        }
        got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (len > XSIM_JSON_MAX_BYTES) {
            xsim_error_set(err, path, 0, 0, "file is larger than %u bytes; expected a smaller one",
                           XSIM_JSON_MAX_BYTES);
            rc = EFBIG;
            break;
        }
        if (got == 0) {
            if (ferror(f)) {
                rc = errno != 0 ? errno : EIO;
                xsim_error_set(err, path, 0, 0, "cannot read: %s; expected a readable JSON file",
                               errno_text(rc, ebuf, sizeof(ebuf)));
            }
            break;
        }
    }
    fclose(f);
    if (rc != 0) {
        doc_resize(doc, buf, 0);
        return -rc;
    }
    *out = buf;
    *out_len = len;
    return 0;
}

int xsim_json_doc_load_file(struct xsim_json_doc *doc, const char *path, struct xsim_error *err)
{
    char *text = NULL;
    size_t len = 0;
    int rc;

    if (doc == NULL || path == NULL)
        return xsim_error_set(err, path, 0, 0, "no document or no file name");
    rc = begin_load(doc, path, err);
    if (rc != 0)
        return rc;
    rc = read_file(doc, path, &text, &len, err);
    if (rc != 0)
        return rc;
    rc = load_text(doc, text != NULL ? text : "", len, err);
    doc_resize(doc, text, 0);
    return rc;
}

void xsim_json_doc_close(struct xsim_json_doc *doc)
{
    if (doc == NULL)
        return;
    json_decref(doc->root);
    doc->root = NULL;
    index_free(doc);
}

/* ---- Lookups ---- */

static int put_loc(struct xsim__json_loc at, int *line, int *column)
{
    if (at.line <= 0)
        return -ENOENT;
    if (line != NULL)
        *line = at.line;
    if (column != NULL)
        *column = at.column;
    return 0;
}

int xsim_json_pos(const struct xsim_json_doc *doc, const json_t *node, int *line, int *column)
{
    const struct xsim__json_slot *s;

    if (doc == NULL || node == NULL)
        return -EINVAL;
    if (node == doc->root)
        return put_loc(doc->root_loc, line, column);
    if (json_is_true(node) || json_is_false(node) || json_is_null(node))
        return -ENOENT;
    s = slot_find(doc, node);
    return s != NULL ? put_loc(s->loc, line, column) : -ENOENT;
}

static const struct xsim__json_slot *key_slot(const struct xsim_json_doc *doc, const json_t *object,
                                              const char *key)
{
    void *iter;

    if (doc == NULL || !json_is_object(object) || key == NULL)
        return NULL;
    iter = json_object_iter_at((json_t *)object, key);
    /* The key string jansson keeps is what the index knows. */
    return iter != NULL ? slot_find(doc, json_object_iter_key(iter)) : NULL;
}

int xsim_json_key_pos(const struct xsim_json_doc *doc, const json_t *object, const char *key,
                      int *line, int *column)
{
    const struct xsim__json_slot *s = key_slot(doc, object, key);

    return s != NULL ? put_loc(s->loc, line, column) : -ENOENT;
}

int xsim_json_member_pos(const struct xsim_json_doc *doc, const json_t *object, const char *key,
                         int *line, int *column)
{
    const struct xsim__json_slot *s = key_slot(doc, object, key);

    return s != NULL ? put_loc(s->value, line, column) : -ENOENT;
}

static struct xsim__json_loc elem_loc(const struct xsim_json_doc *doc, const json_t *array,
                                      size_t index)
{
    const struct xsim__json_slot *s = json_is_array(array) ? slot_find(doc, array) : NULL;

    if (s == NULL || index >= s->count || s->first + index >= doc->elems_len)
        return nowhere;
    return doc->elems[s->first + index];
}

int xsim_json_elem_pos(const struct xsim_json_doc *doc, const json_t *array, size_t index,
                       int *line, int *column)
{
    if (doc == NULL || array == NULL)
        return -EINVAL;
    return put_loc(elem_loc(doc, array, index), line, column);
}

int xsim_json_error_at(const struct xsim_json_doc *doc, int line, int column,
                       struct xsim_error *err, const char *fmt, ...)
{
    char text[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    return xsim_error_set(err, doc != NULL ? doc->name : NULL, line, column, "%s", text);
}

/* ---- Units ---- */

static void why_set(char *why, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void why_set(char *why, size_t size, const char *fmt, ...)
{
    va_list ap;

    if (why == NULL || size == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(why, size, fmt, ap);
    va_end(ap);
}

struct decimal {
    const char *digits, *frac; /* integer and fraction digits (not terminated) */
    size_t ndigits, nfrac;
};

/* Scan [0-9]+(.[0-9]+)? at *p. */
static int scan_decimal(const char **p, struct decimal *d, char *why, size_t why_size)
{
    const char *s = *p;

    if (*s == '-') {
        why_set(why, why_size, "it is negative");
        return -EINVAL;
    }
    d->digits = s;
    while (*s >= '0' && *s <= '9')
        s++;
    d->ndigits = (size_t)(s - d->digits);
    d->frac = s;
    d->nfrac = 0;
    if (d->ndigits == 0) {
        why_set(why, why_size, "it does not start with a number");
        return -EINVAL;
    }
    if (*s == '.') {
        d->frac = ++s;
        while (*s >= '0' && *s <= '9')
            s++;
        d->nfrac = (size_t)(s - d->frac);
        if (d->nfrac == 0) {
            why_set(why, why_size, "no digits after '.'");
            return -EINVAL;
        }
    }
    *p = s;
    return 0;
}

static const char *skip_spaces(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

/* The unit: the rest of `s` without trailing spaces, copied for matching. */
static void take_unit(const char *s, char *unit, size_t size)
{
    size_t n = strlen(s);

    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (n >= size)
        n = size - 1;
    memcpy(unit, s, n);
    unit[n] = '\0';
}

int xsim_parse_duration_ns(const char *s, uint64_t *ns, char *why, size_t why_size)
{
    static const struct {
        const char *name;
        unsigned int exp10;
    } units[] = {{"", 0},   {"ns", 0},        {"us", 3}, {"\xc2\xb5s", 3},
                 {"ms", 6}, {"\xce\xbcs", 3}, {"s", 9}};
    struct decimal d;
    char unit[24], shown[40];
    uint64_t v = 0;
    unsigned int e = 0;
    size_t i, u;

    if (s == NULL || ns == NULL) {
        why_set(why, why_size, "no text");
        return -EINVAL;
    }
    s = skip_spaces(s);
    if (scan_decimal(&s, &d, why, why_size) != 0)
        return -EINVAL;
    take_unit(skip_spaces(s), unit, sizeof(unit));
    for (u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
        if (strcmp(unit, units[u].name) == 0)
            break;
    }
    if (u == sizeof(units) / sizeof(units[0])) {
        why_set(why, why_size, "unknown unit '%s'; expected ns, us, ms or s",
                sanitize(unit, 16, shown, sizeof(shown)));
        return -EINVAL;
    }
    e = units[u].exp10;
    /* Digits of the fraction beyond the unit's exponent are below 1ns. */
    for (i = e; i < d.nfrac; i++) {
        if (d.frac[i] != '0') {
            why_set(why, why_size, "it is not a whole number of nanoseconds");
            return -EINVAL;
        }
    }
    for (i = 0; i < d.ndigits + e; i++) {
        unsigned int digit;

        if (i < d.ndigits)
            digit = (unsigned int)(d.digits[i] - '0');
        else
            digit = i - d.ndigits < d.nfrac ? (unsigned int)(d.frac[i - d.ndigits] - '0') : 0;
        if (v > (UINT64_MAX - digit) / 10) {
            why_set(why, why_size, "it is longer than %lluns", (unsigned long long)UINT64_MAX);
            return -EINVAL;
        }
        v = v * 10 + digit;
    }
    *ns = v;
    return 0;
}

static double pow10_exact(unsigned int n)
{
    double r = 1.0;

    while (n-- > 0)
        r *= 10.0;
    return r;
}

/* The value of a scanned decimal; beyond 19 significant digits only the
 * magnitude counts. */
static double decimal_value(const struct decimal *d)
{
    uint64_t m = 0;
    int exp10 = 0;
    size_t i, sig = 0;

    for (i = 0; i < d->ndigits + d->nfrac; i++) {
        char ch = i < d->ndigits ? d->digits[i] : d->frac[i - d->ndigits];

        if (sig < 19) {
            m = m * 10 + (uint64_t)(ch - '0');
            if (m != 0)
                sig++;
            if (i >= d->ndigits)
                exp10--;
        } else if (i < d->ndigits) {
            exp10++;
        }
    }
    if (exp10 >= 0)
        return (double)m * pow10_exact((unsigned int)exp10);
    if (exp10 >= -22)
        return (double)m / pow10_exact((unsigned int)-exp10);
    return (double)m / 1e22 / pow10_exact((unsigned int)(-exp10 - 22));
}

int xsim_parse_rate_per_s(const char *s, double *per_s, char *why, size_t why_size)
{
    static const struct {
        const char *name;
        double per_s;
    } units[] = {{"", 1},      {"/s", 1},           {"Hz", 1},           {"/ms", 1e3},
                 {"/us", 1e6}, {"/\xc2\xb5s", 1e6}, {"/\xce\xbcs", 1e6}, {"/ns", 1e9}};
    struct decimal d;
    char unit[24], shown[40];
    double v, prefix = 1;
    size_t u;

    if (s == NULL || per_s == NULL) {
        why_set(why, why_size, "no text");
        return -EINVAL;
    }
    s = skip_spaces(s);
    if (scan_decimal(&s, &d, why, why_size) != 0)
        return -EINVAL;
    s = skip_spaces(s);
    if ((*s == 'k' || *s == 'M' || *s == 'G') && (s[1] == '/' || s[1] == 'H' || s[1] == '\0')) {
        prefix = *s == 'k' ? 1e3 : *s == 'M' ? 1e6 : 1e9;
        s++;
    }
    take_unit(s, unit, sizeof(unit));
    for (u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
        if (strcmp(unit, units[u].name) == 0)
            break;
    }
    if (u == sizeof(units) / sizeof(units[0])) {
        why_set(why, why_size, "unknown unit '%s'; expected [k|M|G] and /s, /ms, /us, /ns or Hz",
                sanitize(unit, 16, shown, sizeof(shown)));
        return -EINVAL;
    }
    v = decimal_value(&d) * prefix * units[u].per_s;
    if (!(v <= DBL_MAX)) {
        why_set(why, why_size, "it is too large");
        return -EINVAL;
    }
    *per_s = v;
    return 0;
}

const char *xsim_format_duration(uint64_t ns, char *buf, size_t size)
{
    static const struct {
        uint64_t mul;
        const char *unit;
        int digits;
    } units[] = {{1000000000u, "s", 9}, {1000000u, "ms", 6}, {1000u, "us", 3}, {1u, "ns", 0}};
    size_t u = 0;
    char frac[16];
    int n;

    if (size == 0)
        return buf;
    while (u < 3 && ns < units[u].mul)
        u++;
    if (ns % units[u].mul == 0) {
        snprintf(buf, size, "%llu%s", (unsigned long long)(ns / units[u].mul), units[u].unit);
        return buf;
    }
    snprintf(frac, sizeof(frac), "%0*llu", units[u].digits,
             (unsigned long long)(ns % units[u].mul));
    for (n = (int)strlen(frac); n > 0 && frac[n - 1] == '0'; n--)
        frac[n - 1] = '\0';
    snprintf(buf, size, "%llu.%s%s", (unsigned long long)(ns / units[u].mul), frac, units[u].unit);
    return buf;
}

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
        snprintf(piece, sizeof(piece), "[\"%s\"]", sanitize(key, 64, tmp, sizeof(tmp)));
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

static int width_ok(size_t size)
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
        snprintf(buf, size, "a number in [%s, %s]", format_double(f->dmin, a, sizeof(a)),
                 format_double(f->dmax, b, sizeof(b)));
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
                 format_double(f->dmin, a, sizeof(a)), format_double(f->dmax, b, sizeof(b)));
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
                   render_value(ctx->value, got, sizeof(got)), extra != NULL ? extra : "");
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
        else if (base == 16 && lower(*p) >= 'a' && lower(*p) <= 'f')
            digit = (unsigned int)(lower(*p) - 'a' + 10);
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
    struct nearest n = {0};
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
            nearest_offer(&n, f->enum_values[i]);
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
    struct nearest n = {.key = key, .len = strlen(key)};
    char shown[96], in[PATH_LEN + 8], list[240];
    size_t i, o = 0;

    for (i = 0; i < s->nfields; i++)
        nearest_offer(&n, s->fields[i].name);
    sanitize(key, 64, shown, sizeof(shown));
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
        const struct xsim__json_slot *ks = slot_find(ctx->doc, key);
        const struct xsim_schema_field *f = find_field(s, key);

        if (f == NULL)
            return unknown_key(ctx, s, key, ks != NULL ? ks->loc : at);
        path_push_key(ctx, key);
        ctx->value = json_object_iter_value(iter);
        ctx->key = key;
        ctx->at = ks != NULL ? ks->value : nowhere;
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
    const struct xsim__json_slot *s = slot_find(ctx->doc, arr);
    struct xsim__json_loc at = ctx->at;
    size_t n = json_array_size(arr), saved = ctx->path_len, i;
    int rc;

    if ((rc = check_count(ctx, f, dst != NULL, n)) != 0)
        return rc;
    for (i = 0; i < n && rc == 0; i++) {
        path_push_index(ctx, i);
        ctx->value = json_array_get(arr, i);
        ctx->key = NULL;
        ctx->at = s != NULL && i < s->count ? ctx->doc->elems[s->first + i] : nowhere;
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
        const struct xsim__json_slot *ks = slot_find(ctx->doc, key);
        char *slot = dst != NULL ? (char *)dst + i * f->elem_size : NULL;

        if (slot != NULL && f->key_size != 0) {
            if (strlen(key) >= f->key_size)
                return fail_at(ctx, ks != NULL ? ks->loc : at,
                               "key '%s' %s is too long; expected at most %zu bytes",
                               sanitize(key, 64, shown, sizeof(shown)), where(ctx, in, sizeof(in)),
                               f->key_size - 1);
            memcpy(slot + f->key_offset, key, strlen(key) + 1);
        }
        path_push_key(ctx, key);
        ctx->value = json_object_iter_value(iter);
        ctx->key = key;
        ctx->at = ks != NULL ? ks->value : nowhere;
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

/* ---- Schema self-check ---- */

static int bad(char *why, size_t size, const char *schema, const char *field, const char *what)
{
    why_set(why, size, "schema '%s', field '%s': %s", schema != NULL ? schema : "?",
            field != NULL ? field : "(element)", what);
    return -EINVAL;
}

static int selfcheck_schema(const struct xsim_schema *s, size_t parent_size, unsigned int depth,
                            char *why, size_t why_size);

/* `room`: bytes the field's offset may use (0: unknown). */
static int selfcheck_field(const char *sname, const struct xsim_schema_field *f, size_t room,
                           unsigned int depth, char *why, size_t why_size)
{
    int stored = f->size != 0, rc;
    int64_t lim;
    size_t i;

    if (stored && room != 0 && (f->offset > room || f->size > room - f->offset))
        return bad(why, why_size, sname, f->name, "member lies outside its struct");
    if (f->min > f->max || f->umin > f->umax || f->dmin > f->dmax)
        return bad(why, why_size, sname, f->name, "a lower bound is above its upper bound");
    switch (f->type) {
    case XSIM_SCHEMA_BOOL:
    case XSIM_SCHEMA_ENUM:
        if (stored && !width_ok(f->size))
            return bad(why, why_size, sname, f->name, "member must be 1, 2, 4 or 8 bytes");
        if (f->type == XSIM_SCHEMA_ENUM && (f->enum_values == NULL || f->enum_values[0] == NULL))
            return bad(why, why_size, sname, f->name, "ENUM without values");
        for (i = 0; f->type == XSIM_SCHEMA_ENUM && f->enum_values[i] != NULL; i++)
            ;
        if (stored && f->size < 8 && (uint64_t)i > (UINT64_C(1) << (f->size * 8 - 1)))
            return bad(why, why_size, sname, f->name, "too many ENUM values for the member");
        return 0;
    case XSIM_SCHEMA_INT:
        if (stored && !width_ok(f->size))
            return bad(why, why_size, sname, f->name, "member must be 1, 2, 4 or 8 bytes");
        lim = stored && f->size < 8 ? (int64_t)((UINT64_C(1) << (f->size * 8 - 1)) - 1) : INT64_MAX;
        /* An unsigned member may use [0, 2^bits - 1]; a signed one the usual. */
        if (f->min < f->max && f->size < 8 && stored &&
            (f->min < -lim - 1 || (f->min < 0 && f->max > lim) || f->max > 2 * lim + 1))
            return bad(why, why_size, sname, f->name, "bounds do not fit the member");
        return 0;
    case XSIM_SCHEMA_UINT64:
    case XSIM_SCHEMA_DURATION:
        if (stored && !width_ok(f->size))
            return bad(why, why_size, sname, f->name, "member must be 1, 2, 4 or 8 bytes");
        if (stored && f->size < 8 && f->umin < f->umax && f->umax >> (f->size * 8) != 0)
            return bad(why, why_size, sname, f->name, "bounds do not fit the member");
        return 0;
    case XSIM_SCHEMA_DOUBLE:
    case XSIM_SCHEMA_RATE:
        if (stored && f->size != sizeof(double) && f->size != sizeof(float))
            return bad(why, why_size, sname, f->name, "member must be a double or a float");
        return 0;
    case XSIM_SCHEMA_STRING:
        if (stored && f->borrow && f->size != sizeof(const char *))
            return bad(why, why_size, sname, f->name, "borrowed string needs a const char *");
        if (stored && !f->borrow && f->size < 2)
            return bad(why, why_size, sname, f->name, "char array too small");
        return 0;
    case XSIM_SCHEMA_OBJECT:
        if (f->sub == NULL)
            return bad(why, why_size, sname, f->name, "OBJECT without a sub-schema");
        return selfcheck_schema(f->sub, f->size, depth + 1, why, why_size);
    case XSIM_SCHEMA_ARRAY_OF:
    case XSIM_SCHEMA_MAP_OF:
        if ((f->sub == NULL) == (f->elem == NULL))
            return bad(why, why_size, sname, f->name, "needs exactly one of sub and elem");
        if (stored &&
            (f->elem_size == 0 || f->size % f->elem_size != 0 || !width_ok(f->count_size)))
            return bad(why, why_size, sname, f->name,
                       "stored container needs elem_size dividing size and a count member");
        if (stored && f->key_size != 0 &&
            (f->key_offset > f->elem_size || f->key_size > f->elem_size - f->key_offset))
            return bad(why, why_size, sname, f->name, "map key lies outside its slot");
        if (f->elem != NULL) {
            if (f->elem->required)
                return bad(why, why_size, sname, f->name, "an element cannot be required");
            rc = selfcheck_field(sname, f->elem, stored ? f->elem_size : 0, depth + 1, why,
                                 why_size);
            return rc;
        }
        return selfcheck_schema(f->sub, stored ? f->elem_size : 0, depth + 1, why, why_size);
    case XSIM_SCHEMA_ANY:
        return 0;
    }
    return bad(why, why_size, sname, f->name, "unknown type");
}

static int selfcheck_schema(const struct xsim_schema *s, size_t parent_size, unsigned int depth,
                            char *why, size_t why_size)
{
    size_t i, j;
    int rc;

    /* A schema may refer to itself; its first levels say all there is. */
    if (depth > 16)
        return 0;
    if (s == NULL || (s->fields == NULL && s->nfields != 0)) {
        why_set(why, why_size, "missing schema or fields");
        return -EINVAL;
    }
    for (i = 0; i < s->nfields; i++) {
        const struct xsim_schema_field *f = &s->fields[i];

        if (f->name == NULL || f->name[0] == '\0')
            return bad(why, why_size, s->name, NULL, "object field without a name");
        for (j = 0; j < i; j++) {
            if (strcmp(s->fields[j].name, f->name) == 0)
                return bad(why, why_size, s->name, f->name, "name used twice");
        }
        rc = selfcheck_field(s->name, f, parent_size, depth, why, why_size);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int xsim_schema_selfcheck(const struct xsim_schema *schema, char *why, size_t why_size)
{
    return selfcheck_schema(schema, 0, 0, why, why_size);
}
