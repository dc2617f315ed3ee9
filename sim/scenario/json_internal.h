/*
 * json_internal.h - what the parts of the JSON document and schema engine
 * share (jsonschema.h is the interface):
 *
 *   json_index.c    the position index: a tokenizer walking the text in
 *                   step with the tree jansson built, recording where
 *                   every node and key starts
 *   json_doc.c      loading documents (files, buffers) and position lookups
 *   json_text.c     text for messages: escaping, rendering values, "did
 *                   you mean" suggestions
 *   units.c         durations and rates with units
 *   schema.c        declarative checks that fill C structs
 *   schema_selfcheck.c  checking a schema table itself
 */
#ifndef XSIM_SCENARIO_JSON_INTERNAL_H
#define XSIM_SCENARIO_JSON_INTERNAL_H

#include <stddef.h>

#include "scenario/jsonschema.h"

/* Objects iterate in insertion order since jansson 2.8; json_error_code()
 * exists since 2.11. */
#if JANSSON_VERSION_HEX < 0x020b00
#error "the JSON engine needs jansson 2.11 or newer"
#endif

/* One entry of the position index. */
struct xsim__json_slot {
    const void *ptr;             /* a node, or an object's key string; NULL: empty */
    struct xsim__json_loc loc;   /* where it starts */
    struct xsim__json_loc value; /* keys: where the member's value starts */
    size_t first, count;         /* arrays: their run in doc->elems */
};

#define XSIM__JSON_NOWHERE ((struct xsim__json_loc){0, 0})

/* A "did you mean" search: offer candidates, keep the closest. */
struct xsim__json_nearest {
    const char *key;
    size_t len;
    const char *best;
    unsigned int dist;
};

/* json_index.c */
void *xsim__json_resize(const struct xsim_json_doc *doc, void *ptr, size_t size);
int xsim__json_grow(const struct xsim_json_doc *doc, void **p, size_t *cap, size_t need,
                    size_t elsize);
int xsim__json_index_doc(struct xsim_json_doc *doc, const char *text, size_t len);
/* Line and column of byte `off` of `text`, counted as the index does. */
struct xsim__json_loc xsim__json_loc_at(const char *text, size_t off);
const struct xsim__json_slot *xsim__json_slot_find(const struct xsim_json_doc *doc,
                                                   const void *ptr);

/* json_text.c */
const char *xsim__json_sanitize(const char *s, size_t max, char *buf, size_t size);
const char *xsim__json_format_double(double d, char *buf, size_t size);
const char *xsim__json_render_value(const json_t *v, char *buf, size_t size);
int xsim__json_lower(int c);
void xsim__json_nearest_offer(struct xsim__json_nearest *n, const char *cand);

/* units.c */
void xsim__why_set(char *why, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* schema.c */
int xsim__schema_width_ok(size_t size);

#endif /* XSIM_SCENARIO_JSON_INTERNAL_H */
