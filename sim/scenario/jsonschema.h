/*
 * jsonschema.h - JSON documents that remember where every value starts in the
 * text, and declarative schemas that check a document and fill a C struct, so
 * that every error in a scenario or a cost profile names file, line and column
 * and says what was expected.
 *
 * Typical use:
 *
 *     struct xsim_json_doc doc;
 *     xsim_json_doc_init(&doc, NULL);
 *     rc = xsim_json_doc_load_file(&doc, path, err);
 *     if (rc == 0)
 *         rc = xsim_schema_check(&doc, NULL, &scenario_schema, "", &scenario, err);
 *     xsim_json_doc_close(&doc);
 *
 * Positions are 1-based; columns count UTF-8 characters, as jansson counts them
 * in its own syntax errors, so both kinds of error point the same way.
 */
#ifndef XSIM_JSONSCHEMA_H
#define XSIM_JSONSCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "xensim/error.h"

/* The largest text a document loads, in bytes. Scenarios and profiles are a
 * few KiB; the cap keeps every line and column within an int. */
#define XSIM_JSON_MAX_BYTES (256u * 1024u * 1024u)

/* jansson's nesting limit (JSON_PARSER_MAX_DEPTH in jansson's load.c): deeper
 * text is a syntax error. */
#define XSIM_JSON_MAX_DEPTH 2048

/* Where the position index gets its memory. resize(ctx, ptr, size) behaves as
 * realloc, and frees `ptr` when `size` is 0. jansson's own allocations go
 * through json_set_alloc_funcs(), which is process-wide. */
struct xsim_json_alloc {
    void *(*resize)(void *ctx, void *ptr, size_t size);
    void *ctx;
};

struct xsim__json_slot; /* one entry of the position index (json_internal.h) */

struct xsim__json_loc {
    int line;
    int column;
};

/* A loaded document: the jansson tree and a position for each of its nodes.
 * Caller-allocated; init, load once, close. */
struct xsim_json_doc {
    json_t *root;   /* NULL until loaded; owned by the doc, borrow it */
    char name[256]; /* file name used in errors */
    /* private */
    struct xsim_json_alloc alloc;
    struct xsim__json_slot *slots; /* open addressing, keyed by node or key pointer */
    size_t slots_cap, slots_used;
    struct xsim__json_loc *elems; /* array elements, each array's run in order */
    size_t elems_len, elems_cap;
    struct xsim__json_loc root_loc;
};

/* Prepare `doc` for one load. `alloc` is copied; NULL uses malloc/realloc. */
void xsim_json_doc_init(struct xsim_json_doc *doc, const struct xsim_json_alloc *alloc);

/* Load and index a file. Returns 0; -EINVAL for bad JSON (err names file,
 * line, column); -ENOENT, -EACCES, ... when it cannot be read; -EFBIG above
 * XSIM_JSON_MAX_BYTES; -ENOMEM; -EBUSY if `doc` is already loaded; -EPROTO if
 * jansson's tree does not match the text (seen only when jansson ran short of
 * memory: it can then drop bytes from strings). Duplicate keys, NUL bytes and
 * invalid UTF-8 are errors; any JSON value may be the root. */
int xsim_json_doc_load_file(struct xsim_json_doc *doc, const char *path, struct xsim_error *err);

/* Load and index `len` bytes of `buf` (borrowed for the call only); `name`
 * appears in errors ("<string>" if NULL). Returns as xsim_json_doc_load_file. */
int xsim_json_doc_load_buffer(struct xsim_json_doc *doc, const char *name, const char *buf,
                              size_t len, struct xsim_error *err);

/* Free the tree and the index; `doc` may be loaded again after init. Safe on
 * an initialised doc that was never loaded, and twice. */
void xsim_json_doc_close(struct xsim_json_doc *doc);

/* Where `node` starts. Works for the root and for every object, array, string
 * and number of the document; true, false and null are process-wide
 * singletons in jansson, so for those use xsim_json_member_pos or
 * xsim_json_elem_pos. Returns 0, or -ENOENT if `node` is not indexed. */
int xsim_json_pos(const struct xsim_json_doc *doc, const json_t *node, int *line, int *column);

/* Where the key `key` of `object` starts (at its opening quote). 0 or -ENOENT. */
int xsim_json_key_pos(const struct xsim_json_doc *doc, const json_t *object, const char *key,
                      int *line, int *column);

/* Where the value of member `key` of `object` starts (any value type). */
int xsim_json_member_pos(const struct xsim_json_doc *doc, const json_t *object, const char *key,
                         int *line, int *column);

/* Where element `index` of `array` starts (any value type). 0 or -ENOENT. */
int xsim_json_elem_pos(const struct xsim_json_doc *doc, const json_t *array, size_t index,
                       int *line, int *column);

/* Fill `err` with the doc's name, the given position and the message; for
 * semantic errors found after the schema check. Returns -EINVAL. */
int xsim_json_error_at(const struct xsim_json_doc *doc, int line, int column,
                       struct xsim_error *err, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* ---- Schemas ---- */

enum xsim_schema_type {
    XSIM_SCHEMA_BOOL = 1, /* true/false -> bool (or any integer member) */
    XSIM_SCHEMA_INT,      /* whole number (2 and 2.0, not 2.5) -> signed member of 1, 2, 4
                             or 8 bytes */
    XSIM_SCHEMA_UINT64,   /* integer >= 0, or a decimal or 0x string up to 2^64-1 ->
                             unsigned member of 1, 2, 4 or 8 bytes; see below */
    XSIM_SCHEMA_DOUBLE,   /* any number, integers too -> double (or float) */
    XSIM_SCHEMA_STRING,   /* string -> char array (copied) or const char * (borrowed) */
    XSIM_SCHEMA_ENUM,     /* one of enum_values -> its index, in an integer member */
    XSIM_SCHEMA_OBJECT,   /* object following `sub` -> struct member */
    XSIM_SCHEMA_ARRAY_OF, /* array of `elem` (or of objects following `sub`) */
    XSIM_SCHEMA_MAP_OF,   /* object with free-form keys, values as `elem` or `sub` */
    XSIM_SCHEMA_ANY,      /* anything; give it a setter */
    XSIM_SCHEMA_DURATION, /* "10ms", "2.5us", "1s", "100ns" or a number of ns -> unsigned ns */
    XSIM_SCHEMA_RATE,     /* "1000/s", "1k/s", "2.5M/s", "50Hz" or a number per second ->
                             double per second */
};

/*
 * Unsigned 64-bit values: jansson's integers are long long, and it rejects a
 * bare literal above INT64_MAX as a syntax error; the loader's message then
 * says to write such a value as a string. UINT64 fields take "18446744073709551615"
 * or "0xffffffffffffffff" as well as numbers.
 */

struct xsim_schema;
struct xsim_schema_field;
struct xsim_schema_ctx; /* the check in progress, passed to callbacks */

/* Called for a field after its value passed the type check (ANY: always) and
 * was stored. `target` is the struct the field's offset is relative to; inside
 * an ARRAY_OF/MAP_OF/OBJECT that is not stored (size 0) it is the nearest
 * enclosing stored struct, so a setter on the elements of an unstored map can
 * fill the struct around it; NULL when the check only validates. Returns 0,
 * or the result of xsim_schema_fail() to reject the value. */
typedef int xsim_schema_set_fn(struct xsim_schema_ctx *ctx, const json_t *value, void *target);

/* Called after every member of an object was checked, for rules across
 * fields. `target` as above. */
typedef int xsim_schema_finish_fn(struct xsim_schema_ctx *ctx, const json_t *object, void *target);

/*
 * One key of an object, or the element of an array or map (name unused).
 * Bounds are inclusive and apply only when lo < hi; with no explicit bounds an
 * INT or UINT64 is bounded by its member's width. Absent keys leave their
 * member untouched, so fill defaults before the check.
 */
struct xsim_schema_field {
    const char *name;
    enum xsim_schema_type type;
    bool required;
    bool borrow;                    /* STRING: store `const char *` into the doc, not a copy */
    int64_t min, max;               /* INT; STRING length in bytes; ARRAY_OF/MAP_OF element count */
    uint64_t umin, umax;            /* UINT64; DURATION in ns */
    double dmin, dmax;              /* DOUBLE; RATE per second */
    const char *const *enum_values; /* ENUM: NULL-terminated */
    const struct xsim_schema *sub;  /* OBJECT; ARRAY_OF/MAP_OF of objects */
    const struct xsim_schema_field *elem; /* ARRAY_OF/MAP_OF of anything else */
    /* Where the value goes in the target; size 0: validate only (nothing
     * below is stored either). ARRAY_OF/MAP_OF: `size` bytes of slots of
     * `elem_size` at `offset`, the element count at count_offset, and for
     * MAP_OF the key copied into a char[key_size] at key_offset of each slot. */
    size_t offset, size;
    size_t elem_size;
    size_t count_offset, count_size;
    size_t key_offset, key_size;
    xsim_schema_set_fn *set; /* optional */
    const char *doc;         /* one line for humans */
};

struct xsim_schema {
    const char *name; /* what the object is, for messages ("machine") */
    const struct xsim_schema_field *fields;
    size_t nfields;
    xsim_schema_finish_fn *finish; /* optional */
};

/* Designated-initializer helpers for struct xsim_schema_field. */
#define XSIM_MEMBER(T, m) .offset = offsetof(T, m), .size = sizeof(((T *)0)->m)
#define XSIM_ARRAY_MEMBER(T, m, count)                                                          \
    XSIM_MEMBER(T, m), .elem_size = sizeof(((T *)0)->m[0]), .count_offset = offsetof(T, count), \
                       .count_size = sizeof(((T *)0)->count)
#define XSIM_MAP_KEY(S, m) .key_offset = offsetof(S, m), .key_size = sizeof(((S *)0)->m)
#define XSIM_SCHEMA(n, f)                                                 \
    {                                                                     \
        .name = (n), .fields = (f), .nfields = sizeof(f) / sizeof((f)[0]) \
    }

/* Check the object `node` (NULL: the root) against `schema`, filling `target`
 * when not NULL. `path` names `node` in messages ("" for the root; members
 * become "machine.vcpus", elements "workloads[2].rate"). Members are checked
 * in document order and the first error wins: returns 0, -EINVAL with `err`
 * filled (file, line, column of the offending key or value; of the enclosing
 * object for a missing key), or what a callback returned. On error `target`
 * may be partly filled. Array and map capacities (size / elem_size) apply
 * only when filling. The doc must stay open while borrowed strings are used. */
int xsim_schema_check(const struct xsim_json_doc *doc, const json_t *node,
                      const struct xsim_schema *schema, const char *path, void *target,
                      struct xsim_error *err);

/* Check a schema definition itself (programmer errors: unknown types, bounds
 * that do not fit the member, missing sub-schemas, duplicate names). Returns 0,
 * or -EINVAL with the reason in `why`. Meant for unit tests of each schema. */
int xsim_schema_selfcheck(const struct xsim_schema *schema, char *why, size_t why_size);

/* For callbacks: reject the value being checked, at its position. */
int xsim_schema_fail(struct xsim_schema_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* For callbacks: reject member `key` of the object being checked, at the
 * member's value (at the object when it is absent). */
int xsim_schema_fail_member(struct xsim_schema_ctx *ctx, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* For callbacks: check the value being checked as `field` describes, storing
 * relative to `target` (may be NULL), with positions and paths as usual. */
int xsim_schema_check_as(struct xsim_schema_ctx *ctx, const struct xsim_schema_field *field,
                         void *target);

/* For callbacks: the path of the value being checked ("costs.hypercall"). */
const char *xsim_schema_path(const struct xsim_schema_ctx *ctx);

/* For callbacks: the key of the value being checked, or NULL for an array
 * element or the root. Borrowed from the doc. */
const char *xsim_schema_key(const struct xsim_schema_ctx *ctx);

/* For callbacks: the document being checked. */
const struct xsim_json_doc *xsim_schema_doc(const struct xsim_schema_ctx *ctx);

/* ---- Units ---- */

/* Parse a duration: a decimal number and a unit ns, us (also µs), ms or s;
 * without a unit the number is ns. "2.5us" is 2500; fractions finer than 1ns
 * and values above UINT64_MAX ns are errors. Returns 0, or -EINVAL with the
 * reason in `why` (may be NULL). */
int xsim_parse_duration_ns(const char *s, uint64_t *ns, char *why, size_t why_size);

/* Parse a rate: a decimal number, an optional prefix k, M or G, and a unit /s,
 * /ms, /us, /ns or Hz; without a unit it is per second. Returns 0 with events
 * per second in `per_s`, or -EINVAL with the reason in `why` (may be NULL). */
int xsim_parse_rate_per_s(const char *s, double *per_s, char *why, size_t why_size);

/* Write `ns` in the largest unit that keeps it exact to 1ns ("1.5ms", "0ns");
 * xsim_parse_duration_ns reads it back. Returns buf. */
const char *xsim_format_duration(uint64_t ns, char *buf, size_t size);

#endif
