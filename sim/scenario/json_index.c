/*
 * json_index.c - where every node of a document starts. jansson reports
 * positions only for syntax errors, so once jansson accepts a text we walk
 * the text again with a small tokenizer, in step with the tree jansson
 * built (objects iterate in insertion order, which is text order since
 * duplicate keys are rejected), and record the start of each node, key and
 * array element in an open-addressing table keyed by pointer.
 */
#include <errno.h>
#include <float.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario/json_internal.h"

/* ---- Position index ---- */

void *xsim__json_resize(const struct xsim_json_doc *doc, void *ptr, size_t size)
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
int xsim__json_grow(const struct xsim_json_doc *doc, void **p, size_t *cap, size_t need,
                    size_t elsize)
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
    np = xsim__json_resize(doc, *p, ncap * elsize);
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

const struct xsim__json_slot *xsim__json_slot_find(const struct xsim_json_doc *doc, const void *ptr)
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
    ns = xsim__json_resize(doc, NULL, ncap * sizeof(*ns));
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
    xsim__json_resize(doc, doc->slots, 0);
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
    rc = xsim__json_grow(ix->doc, (void **)&ix->stack, &ix->cap, ix->depth + 1, sizeof(*ix->stack));
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
        rc = xsim__json_grow(doc, (void **)&doc->elems, &doc->elems_cap, doc->elems_len + n,
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
int xsim__json_index_doc(struct xsim_json_doc *doc, const char *text, size_t len)
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
    xsim__json_resize(doc, ix.stack, 0);
    return rc;
}

/* Line and column of byte `off` of `text`, counted as the tokenizer does. */
struct xsim__json_loc xsim__json_loc_at(const char *text, size_t off)
{
    struct cursor c = {(const unsigned char *)text, (const unsigned char *)text + off, {1, 1}};

    while (c.p < c.end)
        cur_step(&c);
    return c.at;
}
