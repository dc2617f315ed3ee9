/*
 * sweep_plot.c - the plots of `xensim sweep`: DIR/points.dat (each point's
 * means and 95% half-widths, one gnuplot data block per combination of the
 * values not on the x axis), DIR/plot.gp (a gnuplot script that reads it
 * and writes PNG and SVG) and running gnuplot when it is on PATH.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/sweep.h"

extern char **environ;

/* Line colours (the Tableau 10 palette, which stays apart in print). */
static const char *const colours[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                      "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
#define NCOLOURS (sizeof(colours) / sizeof(colours[0]))

/* The points in plotting order: variant v (a combination of the values of
 * every --vary but the x one), then x. */
struct layout {
    size_t nx, nvar;
    size_t *xorder; /* value indices of the x --vary in plotting order */
    size_t *point;  /* [v * nx + i]: the point at variant v, x order i */
};

static int layout_build(const struct xsim_sweep *sw, struct layout *l)
{
    const struct xsim_vary *xv = &sw->vary[sw->xvary];

    l->nx = xv->n;
    l->nvar = sw->npoints / l->nx;
    l->xorder = calloc(l->nx, sizeof(*l->xorder));
    l->point = calloc(sw->npoints, sizeof(*l->point));
    if (l->xorder == NULL || l->point == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < l->nx; i++)
        l->xorder[i] = i;
    /* Numeric x: in increasing order (insertion sort; stable, and short). */
    for (size_t i = 1; xv->numeric && i < l->nx; i++) {
        for (size_t j = i; j > 0 && xv->x[l->xorder[j - 1]] > xv->x[l->xorder[j]]; j--) {
            size_t t = l->xorder[j];
            l->xorder[j] = l->xorder[j - 1];
            l->xorder[j - 1] = t;
        }
    }
    for (size_t p = 0; p < sw->npoints; p++) {
        size_t v = 0, xi = xsim_sweep_value_index(sw, p, sw->xvary), i = 0;
        for (size_t k = 0; k < sw->nvary; k++) {
            if (k != sw->xvary)
                v = v * sw->vary[k].n + xsim_sweep_value_index(sw, p, k);
        }
        while (l->xorder[i] != xi)
            i++;
        l->point[v * l->nx + i] = p;
    }
    return 0;
}

static void layout_free(struct layout *l)
{
    free(l->xorder);
    free(l->point);
}

/* "guest.callback=pci-intx, machine.vcpus=2": the values of variant v. */
static const char *variant_label(const struct xsim_sweep *sw, const struct layout *l, size_t v,
                                 char *buf, size_t size)
{
    size_t p = l->point[v * l->nx], len = 0;
    char one[256];

    buf[0] = '\0';
    for (size_t k = 0; k < sw->nvary && len + 1 < size; k++) {
        if (k == sw->xvary)
            continue;
        int n = snprintf(buf + len, size - len, "%s%s=%s", len ? ", " : "", sw->vary[k].path,
                         xsim_sweep_format_value(
                             json_array_get(sw->vary[k].values, xsim_sweep_value_index(sw, p, k)),
                             one, sizeof(one)));
        len = n < 0 ? len : len + (size_t)n;
    }
    return buf;
}

static const struct xsim_sweep_stat *stat_at(const struct xsim_sweep *sw, size_t p, size_t c)
{
    return &sw->stats[p * sw->ncols + c];
}

/* A number for gnuplot; NaN is its undefined value. */
static void put_num(FILE *f, double d)
{
    if (isfinite(d))
        fprintf(f, " %.10g", d);
    else
        fputs(" NaN", f);
}

static int write_data(const struct xsim_sweep *sw, const struct layout *l, const char *path)
{
    const struct xsim_vary *xv = &sw->vary[sw->xvary];
    FILE *f = fopen(path, "w");
    char label[1024];

    if (f == NULL) {
        fprintf(stderr, "xensim sweep: cannot write %s: %s\n", path, strerror(errno));
        return -EIO;
    }
    fprintf(f,
            "# xensim sweep of %s: each point's mean over its seeds and the 95%% confidence\n"
            "# half-width (NaN: none). One block (gnuplot index) per combination of the\n"
            "# values not on the x axis; x is %s%s.\n",
            sw->name, xv->path, xv->numeric ? "" : " (categorical: x is the value's position)");
    for (size_t v = 0; v < l->nvar; v++)
        fprintf(f, "# index %zu: %s\n", v, variant_label(sw, l, v, label, sizeof(label)));
    fprintf(f, "# columns: 1 x, 2 x label");
    for (size_t c = 0; c < sw->ncols; c++)
        fprintf(f, ", %zu %s, %zu ci95", 3 + 2 * c, sw->cols[c].name, 4 + 2 * c);
    fputc('\n', f);
    for (size_t v = 0; v < l->nvar; v++) {
        if (v > 0)
            fputs("\n\n", f);
        for (size_t i = 0; i < l->nx; i++) {
            size_t p = l->point[v * l->nx + i], xi = l->xorder[i];
            xsim_sweep_format_value(json_array_get(xv->values, xi), label, sizeof(label));
            for (char *c = label; *c; c++)
                *c = *c == '"' ? '\'' : *c == '\n' ? ' ' : *c;
            put_num(f, xv->numeric ? xv->x[xi] : (double)i);
            fprintf(f, " \"%s\"", label);
            for (size_t c = 0; c < sw->ncols; c++) {
                put_num(f, stat_at(sw, p, c)->mean);
                put_num(f, stat_at(sw, p, c)->ci95);
            }
            fputc('\n', f);
        }
    }
    if (fclose(f) != 0) {
        fprintf(stderr, "xensim sweep: cannot write %s\n", path);
        return -EIO;
    }
    return 0;
}

/* ---- the script ---- */

/* A gnuplot single-quoted string (no escapes but '' for a quote). */
static void put_str(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s; s++) {
        if (*s == '\'')
            fputc('\'', f);
        fputc(*s == '\n' ? ' ' : *s, f);
    }
    fputc('\'', f);
}

/* One plot: lines of columns `cols` (one series each), for every variant. */
struct series_set {
    size_t cols[256];
    char names[256][80];
    size_t n;
};

/* Whether variant v has a value in column c, and whether any has a
 * half-width (then it is drawn with error bars, 0 where there is none). */
static bool block_has(const struct xsim_sweep *sw, const struct layout *l, size_t v, size_t c,
                      bool *any_ci)
{
    bool any = false;

    *any_ci = false;
    for (size_t i = 0; i < l->nx; i++) {
        const struct xsim_sweep_stat *st = stat_at(sw, l->point[v * l->nx + i], c);
        if (isfinite(st->mean)) {
            any = true;
            *any_ci = *any_ci || isfinite(st->ci95);
        }
    }
    return any;
}

/* Write "plot ..." for the set; false when nothing would be drawn. */
static bool put_plot(FILE *f, const struct xsim_sweep *sw, const struct layout *l,
                     const struct series_set *ss)
{
    bool first = true;
    char label[1024], title[1200];

    for (size_t v = 0; v < l->nvar; v++) {
        for (size_t s = 0; s < ss->n; s++) {
            size_t c = ss->cols[s];
            bool ci;
            if (!block_has(sw, l, v, c, &ci))
                continue;
            variant_label(sw, l, v, label, sizeof(label));
            if (l->nvar > 1)
                snprintf(title, sizeof(title), "%s, %s", ss->names[s], label);
            else
                snprintf(title, sizeof(title), "%s", ss->names[s]);
            /* Colour tells series apart, dashes and marks tell variants
             * apart; with one series, colour tells variants apart. */
            size_t colour = ss->n > 1 ? s : v;
            char using[96];
            if (ci)
                snprintf(using, sizeof(using), "1:%zu:($%zu == $%zu ? $%zu : 0)", 3 + 2 * c,
                         4 + 2 * c, 4 + 2 * c, 4 + 2 * c);
            else
                snprintf(using, sizeof(using), "1:%zu", 3 + 2 * c);
            fprintf(f,
                    "%s data index %zu using %s with %s lc rgb '%s' dt %zu pt %zu lw 1.5 "
                    "title ",
                    first ? "    plot" : ", \\\n        ", v, using,
                    ci ? "yerrorlines" : "linespoints", colours[colour % NCOLOURS],
                    ss->n > 1 ? v % 5 + 1 : 1, (ss->n > 1 ? v : s) % 7 + 1);
            put_str(f, title);
            first = false;
        }
    }
    if (!first)
        fputc('\n', f);
    return !first;
}

static void series_add(struct series_set *ss, size_t c, const char *name)
{
    if (ss->n < sizeof(ss->cols) / sizeof(ss->cols[0])) {
        ss->cols[ss->n] = c;
        snprintf(ss->names[ss->n++], sizeof(ss->names[0]), "%s", name);
    }
}

/* The workload columns of `metric`; with several workloads and their
 * total ("all") in the reports, the total alone (a line per workload and
 * variant would crowd the plot; results.csv keeps each workload). */
static void series_metric(const struct xsim_sweep *sw, struct series_set *ss, const char *metric)
{
    size_t all = SIZE_MAX, n = 0;

    ss->n = 0;
    for (size_t c = 0; c < sw->ncols; c++) {
        if (sw->cols[c].group != XSIM_SWEEP_WL || strcmp(sw->cols[c].metric, metric) != 0)
            continue;
        if (strcmp(sw->cols[c].key, XSIM_SWEEP_ALL) == 0)
            all = c;
        else
            n++;
    }
    if (all != SIZE_MAX && n > 1) {
        series_add(ss, all, "all events");
        return;
    }
    for (size_t c = 0; c < sw->ncols; c++) {
        if (sw->cols[c].group == XSIM_SWEEP_WL && strcmp(sw->cols[c].metric, metric) == 0 &&
            (all == SIZE_MAX || c != all))
            series_add(ss, c, sw->cols[c].key);
    }
}

static void series_group(const struct xsim_sweep *sw, struct series_set *ss, int group)
{
    ss->n = 0;
    for (size_t c = 0; c < sw->ncols; c++) {
        bool any = false;
        char name[80];
        if (sw->cols[c].group != group)
            continue;
        /* Exit reasons that never happened would only crowd the key. */
        for (size_t p = 0; p < sw->npoints && !any; p++)
            any = group != XSIM_SWEEP_EXITS || stat_at(sw, p, c)->mean > 0;
        if (!any)
            continue;
        if (group == XSIM_SWEEP_EXITS)
            snprintf(name, sizeof(name), "%s", sw->cols[c].key);
        else
            snprintf(name, sizeof(name), "vCPU %s", sw->cols[c].key);
        series_add(ss, c, name);
    }
}

static const char *x_label(const struct xsim_vary *xv, char *buf, size_t size)
{
    static const char *const units[] = {"", " (ns)", " (per second)"};

    snprintf(buf, size, "%s%s", xv->path, xv->numeric ? units[xv->unit] : "");
    return buf;
}

/* The seeds part of a title. */
static const char *seeds_note(const struct xsim_sweep *sw, char *buf, size_t size)
{
    if (sw->seeds > 1)
        snprintf(buf, size, "mean of %llu seeds, 95%% CI", (unsigned long long)sw->seeds);
    else
        snprintf(buf, size, "one seed");
    return buf;
}

/* Whether the positive values of the set span more than three decades. */
static bool wants_log(const struct xsim_sweep *sw, const struct series_set *ss)
{
    double lo = INFINITY, hi = 0;

    for (size_t s = 0; s < ss->n; s++) {
        for (size_t p = 0; p < sw->npoints; p++) {
            double m = stat_at(sw, p, ss->cols[s])->mean;
            if (isfinite(m) && m > 0) {
                lo = m < lo ? m : lo;
                hi = m > hi ? m : hi;
            }
        }
    }
    return hi > 0 && hi / lo > 1000;
}

/* (a): mean and p99 of the sojourn time, or the send-to-handler latency
 * when the reports have no sojourn times. */
static bool put_sojourn(FILE *f, const struct xsim_sweep *sw, const struct layout *l,
                        const char *xl, const char *note)
{
    struct series_set ss;
    bool sojourn, any = false;

    series_metric(sw, &ss, "sojourn_ns_mean");
    sojourn = ss.n > 0;
    if (!sojourn)
        series_metric(sw, &ss, "latency_ns_mean");
    if (ss.n == 0) {
        fputs("    # (no sojourn times or latencies in the reports: no sojourn plot)\n", f);
        return false;
    }
    fputs("    set output dir.'/sojourn.'.fmt\n", f);
    fprintf(f, "    set multiplot layout %d,1 title ", sojourn ? 2 : 1);
    char t[512];
    snprintf(t, sizeof(t), "%s: %s, against %s (%s)", sw->name,
             sojourn ? "sojourn time per event"
                     : "send-to-handler latency (the reports have no sojourn times)",
             sw->vary[sw->xvary].path, note);
    put_str(f, t);
    fprintf(f, "\n    set xlabel ");
    put_str(f, xl);
    fprintf(f, "\n    set ylabel '%s, mean (ns)'\n    set yrange [0:*]\n",
            sojourn ? "sojourn time" : "latency");
    any = put_plot(f, sw, l, &ss);
    if (!any)
        fputs("    plot NaN notitle\n", f);
    if (sojourn) {
        series_metric(sw, &ss, "sojourn_ns_p99");
        fputs("    set ylabel 'sojourn time, p99 (ns)'\n", f);
        if (!put_plot(f, sw, l, &ss))
            fputs("    plot NaN notitle\n", f);
    }
    fputs("    unset multiplot\n    set yrange [*:*]\n", f);
    return any;
}

static bool put_group(FILE *f, const struct xsim_sweep *sw, const struct layout *l, const char *xl,
                      const char *note, int group)
{
    struct series_set ss;
    bool exits = group == XSIM_SWEEP_EXITS, log;
    const char *file = exits ? "exits" : "cpu";
    char t[512];

    series_group(sw, &ss, group);
    if (ss.n == 0) {
        fprintf(f, "    # (no %s in the reports: no %s plot)\n",
                exits ? "exits" : "per-CPU utilisation", file);
        return false;
    }
    log = exits && wants_log(sw, &ss);
    fprintf(f, "    set output dir.'/%s.'.fmt\n    set title ", file);
    snprintf(t, sizeof(t), "%s: %s, against %s (%s)", sw->name,
             exits ? "exits per second of virtual time by reason" : "utilisation of each vCPU",
             sw->vary[sw->xvary].path, note);
    put_str(f, t);
    fputs("\n    set xlabel ", f);
    put_str(f, xl);
    fprintf(f, "\n    set ylabel '%s'\n",
            exits ? "exits per second" : "utilisation (busy fraction)");
    fprintf(f, "%s",
            log ? "    set logscale y\n    set format y '%.0s%c'\n" : "    set yrange [0:*]\n");
    if (!put_plot(f, sw, l, &ss))
        fputs("    plot NaN notitle\n", f);
    fprintf(f, "%s    unset title\n",
            log ? "    unset logscale y\n    set format y '% h'\n" : "    set yrange [*:*]\n");
    return true;
}

static int write_script(const struct xsim_sweep *sw, const struct layout *l, const char *path,
                        const char *absdir, bool made[3])
{
    const struct xsim_vary *xv = &sw->vary[sw->xvary];
    FILE *f = fopen(path, "w");
    char xl[512], note[64];

    if (f == NULL) {
        fprintf(stderr, "xensim sweep: cannot write %s: %s\n", path, strerror(errno));
        return -EIO;
    }
    x_label(xv, xl, sizeof(xl));
    seeds_note(sw, note, sizeof(note));
    fprintf(f,
            "# plot.gp - plots of the xensim sweep of %s, from points.dat beside it.\n"
            "# Render with: gnuplot plot.gp (from any directory; if the directory moved,\n"
            "# gnuplot -e \"dir='NEWDIR'\" plot.gp). Writes sojourn, exits and cpu as .png\n"
            "# and .svg. Lines: one per series (workload, exit reason, vCPU) and per\n"
            "# combination of the values not on the x axis (see points.dat).\n",
            sw->name);
    fputs("if (!exists('dir')) dir = ", f);
    put_str(f, absdir);
    fputs("\ndata = dir.'/points.dat'\n"
          "png = strstrt(GPVAL_TERMINALS, 'pngcairo') > 0 ? 'pngcairo' : 'png'\n"
          "set grid\nset key below\n",
          f);
    if (xv->numeric)
        fputs("set autoscale xfix\nset offsets graph 0.03, graph 0.03, graph 0.05, 0\n"
              "set rmargin 8\n",
              f);
    else
        fputs("set offsets 0.3, 0.3, graph 0.05, 0\n", f);
    fputs("do for [fmt in 'png svg'] {\n"
          "    if (fmt eq 'png') {\n"
          "        eval('set terminal '.png.' size 1280,960')\n"
          "    } else {\n"
          "        set terminal svg size 1280,960 dynamic background rgb 'white'\n"
          "    }\n"
          "    set termoption noenhanced\n",
          f);
    if (!xv->numeric) {
        /* Categorical x: label each position with its value. */
        fputs("    set xtics (", f);
        for (size_t i = 0; i < l->nx; i++) {
            char v[256];
            if (i > 0)
                fputs(", ", f);
            put_str(
                f, xsim_sweep_format_value(json_array_get(xv->values, l->xorder[i]), v, sizeof(v)));
            fprintf(f, " %zu", i);
        }
        fputs(")\n", f);
    }
    made[0] = put_sojourn(f, sw, l, xl, note);
    made[1] = put_group(f, sw, l, xl, note, XSIM_SWEEP_EXITS);
    made[2] = put_group(f, sw, l, xl, note, XSIM_SWEEP_CPU);
    fputs("    set output\n}\n", f);
    if (fclose(f) != 0) {
        fprintf(stderr, "xensim sweep: cannot write %s\n", path);
        return -EIO;
    }
    return 0;
}

/* ---- gnuplot ---- */

/* The gnuplot on PATH, into buf; false when there is none. */
static bool find_gnuplot(char *buf, size_t size)
{
    const char *path = getenv("PATH");

    while (path != NULL && *path != '\0') {
        const char *end = strchr(path, ':');
        size_t len = end != NULL ? (size_t)(end - path) : strlen(path);
        snprintf(buf, size, "%.*s/gnuplot", (int)len, len ? path : ".");
        if (access(buf, X_OK) == 0)
            return true;
        path = end != NULL ? end + 1 : NULL;
    }
    return false;
}

/* Run gnuplot on the script, its output into DIR/gnuplot.log. */
static int run_gnuplot(const char *exe, const char *script, const char *log)
{
    posix_spawn_file_actions_t fa;
    char *argv[] = {"gnuplot", (char *)script, NULL};
    pid_t pid;
    int st = 0, rc;

    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    fflush(stdout);
    fflush(stderr);
    rc = posix_spawn(&pid, exe, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
        return -rc;
    while (waitpid(pid, &st, 0) < 0) {
        if (errno != EINTR)
            return -errno;
    }
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -EIO;
}

int xsim_sweep_plot(const struct xsim_sweep *sw)
{
    static const char *const names[] = {"sojourn", "exits", "cpu"};
    struct layout l = {0};
    char data[1100], script[1100], log[1100], absdir[PATH_MAX], exe[PATH_MAX];
    bool made[3] = {false, false, false};
    int rc;

    snprintf(data, sizeof(data), "%s/points.dat", sw->out);
    snprintf(script, sizeof(script), "%s/plot.gp", sw->out);
    snprintf(log, sizeof(log), "%s/gnuplot.log", sw->out);
    if (realpath(sw->out, absdir) == NULL)
        snprintf(absdir, sizeof(absdir), "%s", sw->out);
    rc = layout_build(sw, &l);
    if (rc == 0)
        rc = write_data(sw, &l, data);
    if (rc == 0)
        rc = write_script(sw, &l, script, absdir, made);
    layout_free(&l);
    if (rc != 0)
        return rc;
    if (!made[0] && !made[1] && !made[2]) {
        printf("no plots: the runs gave nothing to plot (wrote %s and %s)\n", data, script);
        return 0;
    }
    if (!find_gnuplot(exe, sizeof(exe))) {
        printf("gnuplot was not found on PATH; wrote %s and %s: render them with: gnuplot %s\n",
               data, script, script);
        return 0;
    }
    if (run_gnuplot(exe, script, log) != 0) {
        fprintf(stderr, "xensim sweep: gnuplot failed on %s; see %s\n", script, log);
        return 0;
    }
    printf("plots:");
    for (int i = 0; i < 3; i++) {
        if (made[i])
            printf(" %s/%s.png %s/%s.svg", sw->out, names[i], sw->out, names[i]);
    }
    printf("\n");
    return 0;
}
