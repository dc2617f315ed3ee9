/*
 * json_text.c - text for error messages: input escaped onto one line,
 * values rendered short, and the nearest known name for a misspelt one.
 */
#include <errno.h>
#include <float.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario/json_internal.h"

/* ---- Text helpers for messages ---- */

/* Copy `s` (at most `max` bytes of it, cut on a character boundary) into buf,
 * with control characters escaped so that a message stays on one line. */
const char *xsim__json_sanitize(const char *s, size_t max, char *buf, size_t size)
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
const char *xsim__json_format_double(double d, char *buf, size_t size)
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
const char *xsim__json_render_value(const json_t *v, char *buf, size_t size)
{
    char tmp[128];

    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        snprintf(buf, size, "\"%s\"",
                 xsim__json_sanitize(json_string_value(v), 40, tmp, sizeof(tmp)));
        return buf;
    case JSON_INTEGER:
        snprintf(buf, size, "%lld", (long long)json_integer_value(v));
        return buf;
    case JSON_REAL:
        return xsim__json_format_double(json_real_value(v), buf, size);
    case JSON_TRUE:
        return "true";
    case JSON_FALSE:
        return "false";
    case JSON_NULL:
        return "null";
    }
    return "a value";
}

int xsim__json_lower(int c)
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
            unsigned int cost = xsim__json_lower(a[i - 1]) != xsim__json_lower(b[j - 1]);
            unsigned int d = prev[j] + 1;

            if (cur[j - 1] + 1 < d)
                d = cur[j - 1] + 1;
            if (prev[j - 1] + cost < d)
                d = prev[j - 1] + cost;
            if (i > 1 && j > 1 && xsim__json_lower(a[i - 1]) == xsim__json_lower(b[j - 2]) &&
                xsim__json_lower(a[i - 2]) == xsim__json_lower(b[j - 1]) && prev2[j - 2] + 1 < d)
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

/* Consider `cand` as a suggestion for the unknown `n->key`: only close ones,
 * distance <= max(2, len/3) and less than the key's own length. */
void xsim__json_nearest_offer(struct xsim__json_nearest *n, const char *cand)
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
