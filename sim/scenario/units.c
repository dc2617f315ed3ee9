/*
 * units.c - durations ("250us", "1.5 ms") and rates ("20k/s") as the
 * scenario and profile formats write them, parsed exactly, and durations
 * formatted back the same way.
 */
#include <errno.h>
#include <float.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario/json_internal.h"

/* ---- Units ---- */

void xsim__why_set(char *why, size_t size, const char *fmt, ...)
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
        xsim__why_set(why, why_size, "it is negative");
        return -EINVAL;
    }
    d->digits = s;
    while (*s >= '0' && *s <= '9')
        s++;
    d->ndigits = (size_t)(s - d->digits);
    d->frac = s;
    d->nfrac = 0;
    if (d->ndigits == 0) {
        xsim__why_set(why, why_size, "it does not start with a number");
        return -EINVAL;
    }
    if (*s == '.') {
        d->frac = ++s;
        while (*s >= '0' && *s <= '9')
            s++;
        d->nfrac = (size_t)(s - d->frac);
        if (d->nfrac == 0) {
            xsim__why_set(why, why_size, "no digits after '.'");
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
        xsim__why_set(why, why_size, "no text");
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
        xsim__why_set(why, why_size, "unknown unit '%s'; expected ns, us, ms or s",
                      xsim__json_sanitize(unit, 16, shown, sizeof(shown)));
        return -EINVAL;
    }
    e = units[u].exp10;
    /* Digits of the fraction beyond the unit's exponent are below 1ns. */
    for (i = e; i < d.nfrac; i++) {
        if (d.frac[i] != '0') {
            xsim__why_set(why, why_size, "it is not a whole number of nanoseconds");
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
            xsim__why_set(why, why_size, "it is longer than %lluns",
                          (unsigned long long)UINT64_MAX);
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
        xsim__why_set(why, why_size, "no text");
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
        xsim__why_set(why, why_size,
                      "unknown unit '%s'; expected [k|M|G] and /s, /ms, /us, /ns or Hz",
                      xsim__json_sanitize(unit, 16, shown, sizeof(shown)));
        return -EINVAL;
    }
    v = decimal_value(&d) * prefix * units[u].per_s;
    if (!(v <= DBL_MAX)) {
        xsim__why_set(why, why_size, "it is too large");
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
