/*
 * sweep_results.c - what `xensim sweep` keeps of each run's report, the
 * columns of its table, each point's mean and 95% confidence half-width
 * across seeds, and DIR/results.csv and DIR/results.json.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/sweep.h"

/* The per-workload report keys a row keeps, in column order. */
static const char *const wl_metrics[] = {
    "sent",
    "handled",
    "latency_ns_mean",
    "wait_ns_mean",
    "wait_ns_p50",
    "wait_ns_p90",
    "wait_ns_p99",
    "wait_ns_p999",
    "wait_ns_max",
    "sojourn_ns_mean",
    "sojourn_ns_p50",
    "sojourn_ns_p90",
    "sojourn_ns_p99",
    "sojourn_ns_p999",
    "sojourn_ns_max",
    "sojourn_ns_mean_ci95",
    "throughput_per_s",
};

#define NWL_METRICS (sizeof(wl_metrics) / sizeof(wl_metrics[0]))

size_t xsim_sweep_value_index(const struct xsim_sweep *sw, size_t point, size_t k)
{
    for (size_t j = sw->nvary; j-- > k + 1;)
        point /= sw->vary[j].n;
    return point % sw->vary[k].n;
}

const char *xsim_sweep_format_value(const json_t *v, char *buf, size_t size)
{
    char *d;

    if (v == NULL || json_is_null(v))
        snprintf(buf, size, "%s", v == NULL ? "" : "null");
    else if (json_is_string(v))
        snprintf(buf, size, "%s", json_string_value(v));
    else if (json_is_integer(v))
        snprintf(buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    else if (json_is_real(v))
        snprintf(buf, size, "%.10g", json_real_value(v));
    else if (json_is_boolean(v))
        snprintf(buf, size, "%s", json_is_true(v) ? "true" : "false");
    else if ((d = json_dumps(v, JSON_COMPACT)) != NULL) {
        json_free_t f;
        snprintf(buf, size, "%s", d);
        json_get_alloc_funcs(NULL, &f);
        f(d);
    } else {
        snprintf(buf, size, "?");
    }
    return buf;
}

/* ---- rows ---- */

static int row_init(struct xsim_sweep_row *row)
{
    row->pass = -1;
    row->digest[0] = '\0';
    row->misc = json_object();
    row->oracles = json_object();
    row->wl = json_object();
    row->cpu = json_object();
    row->exits = json_object();
    return row->misc && row->oracles && row->wl && row->cpu && row->exits ? 0 : -ENOMEM;
}

static void take_oracles(struct xsim_sweep_row *row, const json_t *rep)
{
    const char *key;
    json_t *v;

    json_object_foreach((json_t *)json_object_get(rep, "oracles"), key, v)
    {
        json_t *p = json_object_get(v, "pass");
        if (json_is_boolean(p))
            json_object_set_new(row->oracles, key, json_integer(json_is_true(p)));
    }
}

static void take_workload(struct xsim_sweep_row *row, const char *name, const json_t *w)
{
    json_t *m;

    if (name == NULL || (m = json_object()) == NULL)
        return;
    for (size_t k = 0; k < NWL_METRICS; k++) {
        json_t *x = json_object_get(w, wl_metrics[k]);
        if (json_is_number(x))
            json_object_set(m, wl_metrics[k], x);
    }
    if (json_object_size(m) > 0)
        json_object_set_new(row->wl, name, m);
    else
        json_decref(m);
}

static void take_workloads(struct xsim_sweep_row *row, const json_t *rep)
{
    size_t i;
    json_t *w;

    json_array_foreach(json_object_get(rep, "workloads"), i, w)
        take_workload(row, json_string_value(json_object_get(w, "name")), w);
    /* Every events item together, as the pseudo-workload "all" (unless a
     * workload has that name). */
    w = json_object_get(rep, "events");
    if (json_is_object(w) && json_object_get(row->wl, XSIM_SWEEP_ALL) == NULL)
        take_workload(row, XSIM_SWEEP_ALL, w);
}

static void take_cpus(struct xsim_sweep_row *row, const json_t *rep)
{
    size_t i;
    json_t *c;

    json_array_foreach(json_object_get(rep, "cpus"), i, c)
    {
        json_t *cpu = json_object_get(c, "cpu"), *u = json_object_get(c, "utilization");
        char key[32];
        if (!json_is_integer(cpu) || json_integer_value(cpu) < 0 || !json_is_number(u))
            continue;
        snprintf(key, sizeof(key), "%" JSON_INTEGER_FORMAT, json_integer_value(cpu));
        json_object_set(row->cpu, key, u);
    }
}

/* Exits per second of virtual time, by reason: the hypercalls and every
 * exit_* entry of stats.costs. */
static void take_exits(struct xsim_sweep_row *row, const json_t *rep)
{
    const json_t *st = json_object_get(rep, "stats");
    const json_t *end = json_object_get(st, "end_time_ns");
    const char *key;
    json_t *v;

    if (!json_is_number(end) || json_number_value(end) <= 0)
        return;
    json_object_foreach((json_t *)json_object_get(st, "costs"), key, v)
    {
        json_t *count = json_object_get(v, "count");
        if ((strcmp(key, "hypercall") == 0 || strncmp(key, "exit_", 5) == 0) &&
            json_is_number(count))
            json_object_set_new(
                row->exits, key,
                json_real(json_number_value(count) / (json_number_value(end) / 1e9)));
    }
}

int xsim_sweep_row_parse(struct xsim_sweep_row *row, const char *text, size_t len)
{
    json_t *rep = json_loadb(text, len, 0, NULL);
    const char *digest;

    if (!json_is_object(rep) || row_init(row) != 0) {
        json_decref(rep);
        xsim_sweep_row_free(row);
        return -EINVAL;
    }
    digest = json_string_value(json_object_get(rep, "digest"));
    snprintf(row->digest, sizeof(row->digest), "%s", digest != NULL ? digest : "");
    if (json_is_boolean(json_object_get(rep, "pass"))) {
        row->pass = json_is_true(json_object_get(rep, "pass"));
        json_object_set_new(row->misc, "pass", json_integer(row->pass));
    }
    take_oracles(row, rep);
    take_workloads(row, rep);
    take_cpus(row, rep);
    take_exits(row, rep);
    json_decref(rep);
    row->done = true;
    return 0;
}

int xsim_sweep_row_fail(struct xsim_sweep_row *row, const char *why)
{
    xsim_sweep_row_free(row);
    row_init(row);
    row->error = strdup(why != NULL && why[0] ? why : "unknown error");
    row->done = true;
    return row->error != NULL ? 0 : -ENOMEM;
}

void xsim_sweep_row_free(struct xsim_sweep_row *row)
{
    json_decref(row->misc);
    json_decref(row->oracles);
    json_decref(row->wl);
    json_decref(row->cpu);
    json_decref(row->exits);
    free(row->error);
    memset(row, 0, sizeof(*row));
    row->pass = -1;
}

const json_t *xsim_sweep_cell(const struct xsim_sweep_row *row, const struct xsim_sweep_col *c)
{
    if (row->error != NULL || !row->done)
        return NULL;
    switch (c->group) {
    case XSIM_SWEEP_PASS:
        return json_object_get(row->misc, "pass");
    case XSIM_SWEEP_ORACLE:
        return json_object_get(row->oracles, c->key);
    case XSIM_SWEEP_WL:
        return json_object_get(json_object_get(row->wl, c->key), c->metric);
    case XSIM_SWEEP_CPU:
        return json_object_get(row->cpu, c->key);
    default:
        return json_object_get(row->exits, c->key);
    }
}

/* ---- columns ---- */

static int add_col(struct xsim_sweep *sw, int group, const char *key, const char *metric,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int add_col(struct xsim_sweep *sw, int group, const char *key, const char *metric,
                   const char *fmt, ...)
{
    struct xsim_sweep_col *c, *n = realloc(sw->cols, (sw->ncols + 1) * sizeof(*n));
    va_list ap;
    char name[256];

    if (n == NULL)
        return -ENOMEM;
    sw->cols = n;
    va_start(ap, fmt);
    vsnprintf(name, sizeof(name), fmt, ap);
    va_end(ap);
    c = &sw->cols[sw->ncols];
    *c = (struct xsim_sweep_col){.group = group, .metric = metric};
    c->name = strdup(name);
    c->key = key != NULL ? strdup(key) : NULL;
    sw->ncols++;
    return c->name != NULL && (key == NULL || c->key != NULL) ? 0 : -ENOMEM;
}

/* Every key of every row's `field`, in order of first appearance. */
static json_t *union_keys(const struct xsim_sweep *sw, size_t offset)
{
    json_t *set = json_object(), *v;
    const char *key;

    for (size_t t = 0; set != NULL && t < sw->ntasks; t++) {
        json_t *obj = *(json_t **)((char *)&sw->rows[t] + offset);
        json_object_foreach(obj, key, v)
        {
            json_t *have = json_object_get(set, key);
            if (have == NULL)
                json_object_set_new(set, key, have = json_object());
            /* For workloads: the union of their metrics too. */
            const char *m;
            json_t *x;
            if (json_is_object(v) && json_is_object(have)) {
                json_object_foreach(v, m, x) json_object_set(have, m, json_true());
            }
        }
    }
    return set;
}

static int cmp_cpu(const void *a, const void *b)
{
    long long x = atoll(*(const char *const *)a), y = atoll(*(const char *const *)b);

    return x < y ? -1 : x > y;
}

static int build_columns(struct xsim_sweep *sw)
{
    json_t *o = union_keys(sw, offsetof(struct xsim_sweep_row, oracles));
    json_t *w = union_keys(sw, offsetof(struct xsim_sweep_row, wl));
    json_t *c = union_keys(sw, offsetof(struct xsim_sweep_row, cpu));
    json_t *e = union_keys(sw, offsetof(struct xsim_sweep_row, exits)), *v;
    const char *key, **cpus = NULL;
    size_t ncpu = 0;
    int rc = o && w && c && e ? add_col(sw, XSIM_SWEEP_PASS, NULL, NULL, "pass") : -ENOMEM;

    json_object_foreach(o, key, v)
    {
        if (rc == 0)
            rc = add_col(sw, XSIM_SWEEP_ORACLE, key, NULL, "oracle:%s", key);
    }
    json_object_foreach(w, key, v)
    {
        for (size_t k = 0; k < NWL_METRICS && rc == 0; k++) {
            if (json_object_get(v, wl_metrics[k]) != NULL)
                rc = add_col(sw, XSIM_SWEEP_WL, key, wl_metrics[k], "%s:%s", key, wl_metrics[k]);
        }
    }
    cpus = calloc(json_object_size(c) + 1, sizeof(*cpus));
    json_object_foreach(c, key, v)
    {
        if (cpus != NULL)
            cpus[ncpu++] = key;
    }
    if (cpus != NULL)
        qsort(cpus, ncpu, sizeof(*cpus), cmp_cpu);
    for (size_t i = 0; i < ncpu && rc == 0; i++)
        rc = add_col(sw, XSIM_SWEEP_CPU, cpus[i], NULL, "cpu%s:utilization", cpus[i]);
    json_object_foreach(e, key, v)
    {
        if (rc == 0)
            rc = add_col(sw, XSIM_SWEEP_EXITS, key, NULL, "exits_per_s:%s", key);
    }
    free(cpus);
    json_decref(o);
    json_decref(w);
    json_decref(c);
    json_decref(e);
    return rc;
}

/* ---- statistics ---- */

/* The 0.975 quantile of Student's t with `df` degrees of freedom: a table
 * to 30 (any statistics text, e.g. NIST/SEMATECH e-Handbook 1.3.6.7.2),
 * beyond it the Cornish-Fisher expansion around the normal quantile
 * (Abramowitz and Stegun 26.7.5), within 1e-4 there. */
static double t975(size_t df)
{
    static const double table[] = {12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060,
                                   2.2622,  2.2281, 2.2010, 2.1788, 2.1604, 2.1448, 2.1314, 2.1199,
                                   2.1098,  2.1009, 2.0930, 2.0860, 2.0796, 2.0739, 2.0687, 2.0639,
                                   2.0595,  2.0555, 2.0518, 2.0484, 2.0452, 2.0423};
    double z = 1.959963985, n = (double)df;

    if (df >= 1 && df <= 30)
        return table[df - 1];
    return z + (z * z * z + z) / (4 * n) + (5 * pow(z, 5) + 16 * pow(z, 3) + 3 * z) / (96 * n * n) +
           (3 * pow(z, 7) + 19 * pow(z, 5) + 17 * pow(z, 3) - 15 * z) / (384 * n * n * n);
}

static void point_stats(struct xsim_sweep *sw, size_t p)
{
    const struct xsim_sweep_row *rows = &sw->rows[p * sw->seeds];

    sw->point_n[p] = 0;
    for (size_t s = 0; s < sw->seeds; s++)
        sw->point_n[p] += rows[s].error == NULL;
    for (size_t c = 0; c < sw->ncols; c++) {
        struct xsim_sweep_stat *st = &sw->stats[p * sw->ncols + c];
        const json_t *one = NULL;
        double sum = 0, ss = 0;
        size_t n = 0;
        for (size_t s = 0; s < sw->seeds; s++) {
            const json_t *v = xsim_sweep_cell(&rows[s], &sw->cols[c]);
            if (json_is_number(v)) {
                sum += json_number_value(v);
                n++;
                one = v;
            }
        }
        st->n = n;
        st->mean = n ? sum / (double)n : NAN;
        st->ci95 = NAN;
        if (n >= 2) {
            for (size_t s = 0; s < sw->seeds; s++) {
                const json_t *v = xsim_sweep_cell(&rows[s], &sw->cols[c]);
                if (json_is_number(v))
                    ss += (json_number_value(v) - st->mean) * (json_number_value(v) - st->mean);
            }
            st->ci95 = t975(n - 1) * sqrt(ss / (double)(n - 1)) / sqrt((double)n);
        } else if (n == 1 && sw->cols[c].group == XSIM_SWEEP_WL &&
                   strcmp(sw->cols[c].metric, "sojourn_ns_mean") == 0) {
            /* One seed: the run's own interval for its mean, when it has one. */
            for (size_t s = 0; s < sw->seeds; s++) {
                const json_t *ci = json_object_get(json_object_get(rows[s].wl, sw->cols[c].key),
                                                   "sojourn_ns_mean_ci95");
                if (xsim_sweep_cell(&rows[s], &sw->cols[c]) == one && json_is_number(ci))
                    st->ci95 = json_number_value(ci);
            }
        }
    }
}

int xsim_sweep_summarise(struct xsim_sweep *sw)
{
    int rc = build_columns(sw);

    if (rc != 0)
        return rc;
    sw->stats = calloc(sw->npoints * (sw->ncols ? sw->ncols : 1), sizeof(*sw->stats));
    sw->point_n = calloc(sw->npoints, sizeof(*sw->point_n));
    if (sw->stats == NULL || sw->point_n == NULL)
        return -ENOMEM;
    for (size_t p = 0; p < sw->npoints; p++)
        point_stats(sw, p);
    return 0;
}

/* ---- files ---- */

static FILE *open_out(const struct xsim_sweep *sw, const char *file, char *path, size_t size)
{
    FILE *f;

    snprintf(path, size, "%s/%s", sw->out, file);
    f = fopen(path, "w");
    if (f == NULL)
        fprintf(stderr, "xensim sweep: cannot write %s: %s\n", path, strerror(errno));
    return f;
}

static int close_out(FILE *f, const char *path)
{
    int bad = ferror(f);

    if (fclose(f) != 0 || bad) {
        fprintf(stderr, "xensim sweep: cannot write %s\n", path);
        return -EIO;
    }
    return 0;
}

/* One CSV field (RFC 4180: quoted when it holds a comma, quote or newline). */
static void csv_field(FILE *f, const char *s, bool first)
{
    if (!first)
        fputc(',', f);
    if (strpbrk(s, ",\"\r\n") == NULL) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

int xsim_sweep_write_csv(const struct xsim_sweep *sw)
{
    char path[1100], buf[4096];
    FILE *f = open_out(sw, "results.csv", path, sizeof(path));

    if (f == NULL)
        return -EIO;
    csv_field(f, "point", true);
    for (size_t k = 0; k < sw->nvary; k++)
        csv_field(f, sw->vary[k].path, false);
    csv_field(f, "seed", false);
    csv_field(f, "digest", false);
    for (size_t c = 0; c < sw->ncols; c++)
        csv_field(f, sw->cols[c].name, false);
    csv_field(f, "error", false);
    fputc('\n', f);
    for (size_t t = 0; t < sw->ntasks; t++) {
        const struct xsim_sweep_row *row = &sw->rows[t];
        size_t p = t / sw->seeds;
        fprintf(f, "%zu", p + 1);
        for (size_t k = 0; k < sw->nvary; k++)
            csv_field(f,
                      xsim_sweep_format_value(
                          json_array_get(sw->vary[k].values, xsim_sweep_value_index(sw, p, k)), buf,
                          sizeof(buf)),
                      false);
        fprintf(f, ",%" PRIu64, sw->first_seed[p] + t % sw->seeds);
        csv_field(f, row->digest, false);
        for (size_t c = 0; c < sw->ncols; c++)
            csv_field(f,
                      xsim_sweep_format_value(xsim_sweep_cell(row, &sw->cols[c]), buf, sizeof(buf)),
                      false);
        csv_field(f, row->error != NULL ? row->error : "", false);
        fputc('\n', f);
    }
    return close_out(f, path);
}

static json_t *num_or_null(double d)
{
    return isfinite(d) ? json_real(d) : json_null();
}

static json_t *params_json(const struct xsim_sweep *sw, size_t p)
{
    json_t *o = json_object();

    for (size_t k = 0; k < sw->nvary; k++)
        json_object_set(o, sw->vary[k].path,
                        json_array_get(sw->vary[k].values, xsim_sweep_value_index(sw, p, k)));
    return o;
}

static json_t *row_json(const struct xsim_sweep *sw, size_t t)
{
    const struct xsim_sweep_row *row = &sw->rows[t];
    size_t p = t / sw->seeds;
    json_t *o = json_object(), *params = params_json(sw, p), *v;
    const char *key;

    json_object_set_new(o, "point", json_integer((json_int_t)(p + 1)));
    json_object_foreach(params, key, v) json_object_set(o, key, v);
    json_decref(params);
    json_object_set_new(o, "seed", json_integer((json_int_t)(sw->first_seed[p] + t % sw->seeds)));
    json_object_set_new(o, "digest", row->digest[0] ? json_string(row->digest) : json_null());
    for (size_t c = 0; c < sw->ncols; c++) {
        const json_t *cell = xsim_sweep_cell(row, &sw->cols[c]);
        json_object_set_new(o, sw->cols[c].name,
                            cell != NULL ? json_incref((json_t *)cell) : json_null());
    }
    json_object_set_new(o, "error", row->error != NULL ? json_string(row->error) : json_null());
    return o;
}

static json_t *point_json(const struct xsim_sweep *sw, size_t p)
{
    json_t *o = json_object(), *m = json_object();

    json_object_set_new(o, "point", json_integer((json_int_t)(p + 1)));
    json_object_set_new(o, "params", params_json(sw, p));
    json_object_set_new(o, "n", json_integer((json_int_t)sw->point_n[p]));
    for (size_t c = 0; c < sw->ncols; c++) {
        const struct xsim_sweep_stat *st = &sw->stats[p * sw->ncols + c];
        json_t *e = json_object();
        json_object_set_new(e, "mean", num_or_null(st->mean));
        json_object_set_new(e, "ci95", num_or_null(st->ci95));
        json_object_set_new(m, sw->cols[c].name, e);
    }
    json_object_set_new(o, "metrics", m);
    return o;
}

static json_t *head_json(const struct xsim_sweep *sw)
{
    static const char *const units[] = {NULL, "ns", "per_s"};
    json_t *o = json_object(), *vary = json_array(), *sets = json_array(), *cols = json_array();

    json_object_set_new(o, "scenario", json_string(sw->name));
    json_object_set_new(o, "file", json_string(sw->path));
    json_object_set_new(o, "policy", sw->policy != NULL ? json_string(sw->policy) : json_null());
    for (size_t i = 0; i < sw->nsets; i++)
        json_array_append_new(
            sets, json_pack("{s:s,s:O}", "path", sw->sets[i].path, "value", sw->sets[i].value));
    json_object_set_new(o, "set", sets);
    for (size_t k = 0; k < sw->nvary; k++) {
        const struct xsim_vary *v = &sw->vary[k];
        json_t *e =
            json_pack("{s:s,s:O,s:b}", "path", v->path, "values", v->values, "numeric", v->numeric);
        json_object_set_new(
            e, "unit", v->numeric && units[v->unit] ? json_string(units[v->unit]) : json_null());
        json_array_append_new(vary, e);
    }
    json_object_set_new(o, "vary", vary);
    json_object_set_new(o, "x", json_string(sw->vary[sw->xvary].path));
    json_object_set_new(o, "seeds", json_integer((json_int_t)sw->seeds));
    json_object_set_new(o, "first_seed",
                        sw->seed_set ? json_integer((json_int_t)sw->seed) : json_null());
    json_array_append_new(cols, json_string("point"));
    for (size_t k = 0; k < sw->nvary; k++)
        json_array_append_new(cols, json_string(sw->vary[k].path));
    json_array_append_new(cols, json_string("seed"));
    json_array_append_new(cols, json_string("digest"));
    for (size_t c = 0; c < sw->ncols; c++)
        json_array_append_new(cols, json_string(sw->cols[c].name));
    json_array_append_new(cols, json_string("error"));
    json_object_set_new(o, "columns", cols);
    return o;
}

int xsim_sweep_write_json(const struct xsim_sweep *sw)
{
    json_t *o = head_json(sw), *rows = json_array(), *points = json_array();
    char path[1100];
    int rc;

    for (size_t t = 0; t < sw->ntasks; t++)
        json_array_append_new(rows, row_json(sw, t));
    for (size_t p = 0; p < sw->npoints; p++)
        json_array_append_new(points, point_json(sw, p));
    json_object_set_new(o, "rows", rows);
    json_object_set_new(o, "points", points);
    snprintf(path, sizeof(path), "%s/results.json", sw->out);
    rc = json_dump_file(o, path, JSON_INDENT(1));
    json_decref(o);
    if (rc != 0) {
        fprintf(stderr, "xensim sweep: cannot write %s\n", path);
        return -EIO;
    }
    return 0;
}

void xsim_sweep_free(struct xsim_sweep *sw)
{
    for (size_t i = 0; i < sw->nsets; i++)
        xsim_override_free(&sw->sets[i]);
    for (size_t k = 0; k < sw->nvary; k++)
        xsim_vary_free(&sw->vary[k]);
    for (size_t t = 0; sw->rows != NULL && t < sw->ntasks; t++)
        xsim_sweep_row_free(&sw->rows[t]);
    for (size_t c = 0; c < sw->ncols; c++) {
        free(sw->cols[c].name);
        free(sw->cols[c].key);
    }
    free(sw->cols);
    free(sw->stats);
    free(sw->point_n);
    free(sw->rows);
    free(sw->first_seed);
    free(sw->text);
}
