/*
 * sweep.h - `xensim sweep`, shared by its three files: the grid and the
 * worker processes (cmd_sweep.c), the rows of results, their columns and
 * per-point statistics, CSV and JSON (sweep_results.c), and the plots
 * (sweep_plot.c).
 */
#ifndef XSIM_CLI_SWEEP_H
#define XSIM_CLI_SWEEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "xensim/scenario_set.h"

/* One run: a grid point with one seed. */
struct xsim_sweep_row {
    bool done;
    char *error;     /* owned; the run could not be set up (nothing else is set) */
    char digest[17]; /* "" when unknown */
    int pass;        /* 1, 0; -1 unknown */
    json_t *misc;    /* "pass" -> 1/0, as a cell */
    json_t *oracles; /* name -> 1/0 */
    json_t *wl;      /* workload name -> {report key -> number} */
    json_t *cpu;     /* CPU number as text -> utilisation */
    json_t *exits;   /* reason -> exits per second */
};

enum xsim_sweep_group {
    XSIM_SWEEP_PASS = 0,
    XSIM_SWEEP_ORACLE,
    XSIM_SWEEP_WL,
    XSIM_SWEEP_CPU,
    XSIM_SWEEP_EXITS,
};

/* A numeric column of the results, after the fixed ones. */
/* The pseudo-workload of every events item of a run together. */
#define XSIM_SWEEP_ALL "all"

struct xsim_sweep_col {
    char *name;         /* owned: the CSV header ("net0:sojourn_ns_p99") */
    int group;          /* enum xsim_sweep_group */
    char *key;          /* owned: oracle, workload, CPU number or reason; NULL for pass */
    const char *metric; /* XSIM_SWEEP_WL: the report key (static) */
};

/* A column's summary over one point's seeds; NaN when there is none. */
struct xsim_sweep_stat {
    double mean, ci95;
    size_t n;
};

struct xsim_sweep {
    /* what was asked */
    const char *path; /* the scenario file (argv) */
    char *text;       /* its text (owned) */
    size_t len;
    struct xsim_override *sets; /* owned, nsets */
    size_t nsets;
    struct xsim_vary *vary; /* owned, nvary; the last one varies fastest */
    size_t nvary;
    uint64_t seeds; /* per point */
    uint64_t seed;  /* the first seed when seed_set, else each point's scenario's */
    bool seed_set;
    const char *policy; /* NULL: each point's scenario's */
    unsigned int jobs;
    const char *out;
    /* the grid */
    char name[64]; /* the scenario's name */
    size_t npoints, ntasks;
    uint64_t *first_seed; /* per point */
    size_t xvary;         /* the --vary on the x axis of the plots */
    /* the results; task t is point t / seeds with seed first_seed + t % seeds */
    struct xsim_sweep_row *rows;
    struct xsim_sweep_col *cols;
    size_t ncols;
    struct xsim_sweep_stat *stats; /* npoints * ncols */
    size_t *point_n;               /* per point: runs that set up */
};

/* The index of the value --vary k takes at `point`. */
size_t xsim_sweep_value_index(const struct xsim_sweep *sw, size_t point, size_t k);

/* Write a JSON value for a CSV cell or a label: strings bare, numbers
 * short, anything else compact JSON. Returns buf. */
const char *xsim_sweep_format_value(const json_t *v, char *buf, size_t size);

/* Fill `row` from one report (xsim_report_print_json's object). Returns 0
 * or -EINVAL when it does not parse. */
int xsim_sweep_row_parse(struct xsim_sweep_row *row, const char *json, size_t len);

/* Record that the run could not be set up. */
int xsim_sweep_row_fail(struct xsim_sweep_row *row, const char *why);

void xsim_sweep_row_free(struct xsim_sweep_row *row);

/* After every row is done: the columns (union over the rows, in a fixed
 * order) and each point's statistics. 0 or -ENOMEM. */
int xsim_sweep_summarise(struct xsim_sweep *sw);

/* A row's value in column `c` (borrowed), or NULL. */
const json_t *xsim_sweep_cell(const struct xsim_sweep_row *row, const struct xsim_sweep_col *c);

/* DIR/results.csv and DIR/results.json. 0 or a negative errno (printed). */
int xsim_sweep_write_csv(const struct xsim_sweep *sw);
int xsim_sweep_write_json(const struct xsim_sweep *sw);

/* DIR/points.dat and DIR/plot.gp, then gnuplot when it is on PATH (else a
 * line saying how to render). 0, or a negative errno when a file could not
 * be written; gnuplot failing is reported but not an error. */
int xsim_sweep_plot(const struct xsim_sweep *sw);

/* Free everything `sw` owns. */
void xsim_sweep_free(struct xsim_sweep *sw);

#endif
