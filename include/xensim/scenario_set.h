/*
 * scenario_set.h - changing values of a scenario from the command line:
 * JSON paths (`workloads[0].rate`), PATH=VALUE overrides (`xensim run
 * --set`) and the value lists and ranges of `xensim sweep --vary`.
 *
 * A path is dotted object keys and [i] array indices: `guest.callback`,
 * `workloads[0].rate`, `[2].name`; `[*]` is every element of an array
 * (`workloads[*].rate`). Keys cannot contain '.', '[', ']' or '='. A
 * VALUE is JSON when it parses as JSON (a number, true, false,
 * null, a quoted string, an object, an array), else the text itself as a
 * string, so `20k/s` and `pci-intx` need no quotes.
 */
#ifndef XENSIM_SCENARIO_SET_H
#define XENSIM_SCENARIO_SET_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "xensim/error.h"
#include "xensim/scenario.h"

/* Longest path accepted, in bytes. */
#define XSIM_JPATH_MAX 1024

/* Values one --vary may list or a range may produce. */
#define XSIM_VARY_MAX_VALUES 10000

/* Check the syntax of `path`. Returns 0, or -EINVAL with the reason in
 * `why` (may be NULL). */
int xsim_jpath_check(const char *path, char *why, size_t why_size);

/* Set the value at `path` in `root` to `value` (borrowed: the document
 * takes its own reference). Missing object keys on the way are created;
 * an index past the end of an array, an index into a non-array, a key into
 * a non-object, or a missing key followed by an index is an error. Returns
 * 0; -EINVAL with the reason (naming the path and what was found) in
 * `why`; -ENOMEM. */
int xsim_jpath_set(json_t *root, const char *path, json_t *value, char *why, size_t why_size);

/* Parse a VALUE: JSON if valid, else a string of the text. Returns a new
 * reference, or NULL with the reason in `why` (text that is not UTF-8, no
 * memory). */
json_t *xsim_jvalue_parse(const char *text, size_t len, char *why, size_t why_size);

/* One PATH=VALUE override. */
struct xsim_override {
    char *path;       /* owned */
    json_t *value;    /* owned reference */
    const char *what; /* the option that gave it, for messages ("--set"); static */
};

/* Parse "PATH=VALUE" (split at the first '='). Returns 0 with `o` filled
 * (free it with xsim_override_free), or -EINVAL / -ENOMEM with the reason
 * in `why`; on error `o` holds nothing. */
int xsim_override_parse(struct xsim_override *o, const char *arg, char *why, size_t why_size);

/* Free what `o` owns; safe on a zeroed override and twice. */
void xsim_override_free(struct xsim_override *o);

/* Write "PATH=VALUE" with VALUE as compact JSON, bare when it is a string,
 * and shortened with "..." to fit `size`. Returns buf. */
const char *xsim_override_format(const struct xsim_override *o, char *buf, size_t size);

/*
 * Load a scenario from `text` with the overrides applied in order. `name`
 * is the file the text came from: relative paths in the scenario (a cost
 * profile) resolve next to it and errors name it. Without overrides this is
 * xsim_scenario_load_buffer. With them the text is rewritten (jansson: load,
 * set, dump), so the loader's errors have no line and column and end with
 * "(after --set PATH=VALUE, ...)". Returns as xsim_scenario_load_buffer.
 */
int xsim_scenario_load_overrides(struct xsim_scenario *s, const char *name, const char *text,
                                 size_t len, const struct xsim_override *ov, size_t nov,
                                 struct xsim_error *err);

/* Read the file `path` (up to XSIM_JSON_MAX_BYTES) into a new NUL-ended
 * buffer. Returns 0, or a negative errno with `err` filled. */
int xsim_text_read_file(const char *path, char **text, size_t *len, struct xsim_error *err);

/* ---- sweep grids ---- */

enum xsim_vary_unit {
    XSIM_VARY_PLAIN = 0, /* plain numbers, or not numeric at all */
    XSIM_VARY_NS = 1,    /* durations, in ns */
    XSIM_VARY_PER_S = 2, /* rates, per second */
};

/* The values one --vary takes. */
struct xsim_vary {
    char *path;     /* owned */
    json_t *values; /* owned JSON array, one element per value */
    size_t n;
    double *x;    /* owned: each value as a number (for plotting), when numeric */
    bool numeric; /* every value has an x */
    int unit;     /* enum xsim_vary_unit, of x */
    bool range;   /* given as A..B:N */
};

/*
 * Parse "PATH=V1,V2,..." or "PATH=A..B:N". List items are parsed as a
 * --set VALUE (split at commas outside brackets and quotes; an empty item
 * is an error). A range is N >= 2 evenly spaced points from A to B
 * inclusive; A and B are plain numbers, durations ("1ms": the points are
 * whole ns) or rates ("20k/s": per second), both of one kind (a plain
 * number takes the other's unit). Points are integers when A, B and the
 * step are whole. A list is numeric when its items are all numbers, or all
 * numbers and durations, or all numbers and rates. Returns 0 with `v`
 * filled (free with xsim_vary_free), or -EINVAL / -ENOMEM with the reason
 * in `why`.
 */
int xsim_vary_parse(struct xsim_vary *v, const char *arg, char *why, size_t why_size);

/* Free what `v` owns; safe on a zeroed vary and twice. */
void xsim_vary_free(struct xsim_vary *v);

#endif
