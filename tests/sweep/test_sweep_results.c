/*
 * test_sweep_results.c - the tables of `xensim sweep` from made-up reports
 * that carry every key a report may have (wait and sojourn percentiles,
 * per-CPU utilisation) and from reports without them: the columns and
 * their order, exits per second, means and Student t half-widths, a single
 * seed's own interval, error rows, results.csv, results.json, points.dat
 * and plot.gp (and the images, when gnuplot is installed). XSIM_TEST_KEEP=1
 * keeps the output directories.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include <jansson.h>

#include "cli/sweep.h"
#include "shell.h"

/* A report as xsim_report_print_json writes one, with made-up figures
 * that depend on the point and the seed. `full`: with the keys newer
 * reports add. */
static char *report(size_t p, uint64_t seed, bool full)
{
    json_t *o = json_object(), *wl = json_array(), *net = json_object(), *blk = json_object();
    double soj = 1000.0 * (double)(p + 1) + 10.0 * (double)seed;
    char *s;

    json_object_set_new(o, "digest", json_sprintf("%016zx", (size_t)(p * 100 + seed)));
    json_object_set_new(o, "pass", json_boolean(p % 2 == 1));
    json_object_set_new(o, "oracles",
                        json_pack("{s:{s:b,s:s},s:{s:b,s:s}}", "run", "pass", 1, "detail", "ok",
                                  "callback", "pass", p % 2 == 1, "detail", "x"));
    json_object_set_new(net, "name", json_string("net0"));
    json_object_set_new(net, "sent", json_integer(100 + (json_int_t)seed));
    json_object_set_new(net, "handled", json_integer(100 + (json_int_t)seed));
    json_object_set_new(net, "latency_ns_mean", json_integer(2000));
    json_object_set_new(net, "cpu", json_integer(0));
    if (full) {
        static const char *const keys[] = {"wait_ns_mean", "wait_ns_p50",  "wait_ns_p90",
                                           "wait_ns_p99",  "wait_ns_p999", "wait_ns_max"};
        for (size_t k = 0; k < 6; k++)
            json_object_set_new(net, keys[k], json_integer(100 * (json_int_t)(k + 1)));
        json_object_set_new(net, "sojourn_ns_mean", json_real(soj));
        json_object_set_new(net, "sojourn_ns_p50", json_integer((json_int_t)soj));
        json_object_set_new(net, "sojourn_ns_p90", json_integer((json_int_t)soj + 50));
        json_object_set_new(net, "sojourn_ns_p99", json_integer((json_int_t)soj + 500));
        json_object_set_new(net, "sojourn_ns_p999", json_integer((json_int_t)soj + 900));
        json_object_set_new(net, "sojourn_ns_max", json_integer((json_int_t)soj + 1000));
        json_object_set_new(net, "sojourn_ns_mean_ci95", json_real(5.0));
        json_object_set_new(net, "throughput_per_s", json_real(20000.0));
        json_object_set_new(o, "cpus",
                            json_pack("[{s:i,s:f},{s:i,s:f}]", "cpu", 1, "utilization",
                                      0.25 + 0.01 * (double)p, "cpu", 0, "utilization", 0.5));
    }
    json_array_append_new(wl, net);
    json_object_set_new(blk, "name", json_string("blk"));
    json_object_set_new(blk, "type", json_string("block-io"));
    json_object_set_new(blk, "sent", json_integer(5));
    json_array_append_new(wl, blk);
    json_object_set_new(o, "workloads", wl);
    json_object_set_new(o, "stats",
                        json_pack("{s:i,s:{s:{s:i,s:i},s:{s:i,s:i},s:{s:i,s:i},s:{s:i,s:i}}}",
                                  "end_time_ns", 5000000, "costs", "point", "count", 3, "ns", 0,
                                  "hypercall", "count", 10, "ns", 7000, "exit_eoi", "count",
                                  500 * (int)(p + 1), "ns", 1, "inject", "count", 9, "ns", 1));
    s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    assert_non_null(s);
    return s;
}

/* 2 callbacks x 3 rates x 2 seeds; task 5 (point 3, seed 2) could not run. */
static void make_sweep(struct xsim_sweep *sw, struct xsim_vary *vary, const char *dir, bool full)
{
    char why[256];

    memset(sw, 0, sizeof(*sw));
    sw->vary = vary;
    assert_int_equal(
        xsim_vary_parse(&vary[0], "guest.callback=pci-intx,percpu-vector", why, sizeof(why)), 0);
    assert_int_equal(
        xsim_vary_parse(&vary[1], "workloads[0].rate=10k/s..30k/s:3", why, sizeof(why)), 0);
    sw->nvary = 2;
    sw->xvary = 1;
    sw->seeds = 2;
    sw->npoints = 6;
    sw->ntasks = 12;
    sw->path = "synthetic.json";
    sw->out = dir;
    snprintf(sw->name, sizeof(sw->name), "synthetic");
    sw->first_seed = calloc(sw->npoints, sizeof(*sw->first_seed));
    sw->rows = calloc(sw->ntasks, sizeof(*sw->rows));
    assert_non_null(sw->first_seed);
    assert_non_null(sw->rows);
    for (size_t p = 0; p < sw->npoints; p++)
        sw->first_seed[p] = 1;
    for (size_t t = 0; t < sw->ntasks; t++) {
        if (t == 5) {
            assert_int_equal(xsim_sweep_row_fail(&sw->rows[t], "cannot open: profile, \"x\""), 0);
            continue;
        }
        char *r = report(t / 2, 1 + t % 2, full);
        assert_int_equal(xsim_sweep_row_parse(&sw->rows[t], r, strlen(r)), 0);
        free(r);
    }
    assert_int_equal(xsim_sweep_summarise(sw), 0);
}

static size_t col(const struct xsim_sweep *sw, const char *name)
{
    for (size_t c = 0; c < sw->ncols; c++) {
        if (strcmp(sw->cols[c].name, name) == 0)
            return c;
    }
    fail_msg("no column %s", name);
    return 0;
}

static const struct xsim_sweep_stat *st_of(const struct xsim_sweep *sw, size_t p, const char *name)
{
    return &sw->stats[p * sw->ncols + col(sw, name)];
}

static bool gnuplot_present(void)
{
    return system("command -v gnuplot >/dev/null 2>&1") == 0;
}

static void check_image(const char *dir, const char *name, const char *magic)
{
    char path[512];
    struct stat st;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (stat(path, &st) != 0 || st.st_size < 1000)
        fail_msg("%s missing or small", path);
    char *s = ts_slurp(path);
    assert_non_null(strstr(s, magic));
    free(s);
}

/* Remove a test's directory, unless XSIM_TEST_KEEP is set (to look at
 * the plots). */
static void remove_dir(const char *dir)
{
    char cmd[512];

    if (getenv("XSIM_TEST_KEEP") != NULL) {
        printf("kept %s\n", dir);
        return;
    }
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_full_reports(void **state)
{
    char dir[] = "/tmp/xensim-sweep-results-XXXXXX", path[512], *csv, *gp;
    struct xsim_vary vary[2];
    struct xsim_sweep sw;
    json_t *j, *pts;

    (void)state;
    assert_non_null(mkdtemp(dir));
    make_sweep(&sw, vary, dir, true);
    /* Columns: pass, oracles, each workload's keys in report order, CPUs
     * by number, then hypercalls and exits (not point or inject). */
    static const char *const want[] = {
        "pass",
        "oracle:run",
        "oracle:callback",
        "net0:sent",
        "net0:handled",
        "net0:latency_ns_mean",
        "net0:wait_ns_mean",
        "net0:wait_ns_p50",
        "net0:wait_ns_p90",
        "net0:wait_ns_p99",
        "net0:wait_ns_p999",
        "net0:wait_ns_max",
        "net0:sojourn_ns_mean",
        "net0:sojourn_ns_p50",
        "net0:sojourn_ns_p90",
        "net0:sojourn_ns_p99",
        "net0:sojourn_ns_p999",
        "net0:sojourn_ns_max",
        "net0:sojourn_ns_mean_ci95",
        "net0:throughput_per_s",
        "blk:sent",
        "cpu0:utilization",
        "cpu1:utilization",
        "exits_per_s:hypercall",
        "exits_per_s:exit_eoi",
    };
    assert_int_equal(sw.ncols, sizeof(want) / sizeof(want[0]));
    for (size_t c = 0; c < sw.ncols; c++)
        assert_string_equal(sw.cols[c].name, want[c]);
    /* Point 1 (two seeds): sojourn 1010 and 1020; t(0.975, 1) = 12.7062. */
    assert_true(fabs(st_of(&sw, 0, "net0:sojourn_ns_mean")->mean - 1015.0) < 1e-9);
    assert_true(fabs(st_of(&sw, 0, "net0:sojourn_ns_mean")->ci95 - 12.7062 * 5.0) < 1e-6);
    assert_true(fabs(st_of(&sw, 0, "exits_per_s:hypercall")->mean - 2000.0) < 1e-6);
    assert_true(fabs(st_of(&sw, 0, "exits_per_s:exit_eoi")->mean - 100000.0) < 1e-6);
    assert_true(st_of(&sw, 0, "exits_per_s:exit_eoi")->ci95 == 0.0);
    assert_true(fabs(st_of(&sw, 1, "pass")->mean - 1.0) < 1e-9);
    assert_true(fabs(st_of(&sw, 0, "oracle:callback")->mean) < 1e-9);
    /* Point 3 has one run: its own interval for the sojourn mean, none else. */
    assert_int_equal(sw.point_n[2], 1);
    assert_int_equal(st_of(&sw, 2, "net0:sojourn_ns_mean")->n, 1);
    assert_true(st_of(&sw, 2, "net0:sojourn_ns_mean")->ci95 == 5.0);
    assert_true(isnan(st_of(&sw, 2, "net0:sojourn_ns_p99")->ci95));
    assert_true(fabs(st_of(&sw, 2, "cpu1:utilization")->mean - 0.27) < 1e-9);

    assert_int_equal(xsim_sweep_write_csv(&sw), 0);
    assert_int_equal(xsim_sweep_write_json(&sw), 0);
    snprintf(path, sizeof(path), "%s/results.csv", dir);
    csv = ts_slurp(path);
    assert_memory_equal(csv, "point,guest.callback,workloads[0].rate,seed,digest,pass,oracle:run,",
                        67);
    assert_non_null(strstr(csv, ",exits_per_s:hypercall,exits_per_s:exit_eoi,error\n1,pci-intx,"
                                "10000,1,0000000000000001,0,1,0,101,101,2000,"));
    /* The error row: its cells are empty, its message quoted. */
    char line[256];
    int n = snprintf(line, sizeof(line), "\n3,pci-intx,30000,2,");
    for (size_t c = 0; c < sw.ncols + 1; c++)
        line[n++] = ',';
    snprintf(line + n, sizeof(line) - (size_t)n, "\"cannot open: profile, \"\"x\"\"\"\n");
    if (strstr(csv, line) == NULL)
        fail_msg("no line %s in\n%s", line, csv);
    free(csv);
    snprintf(path, sizeof(path), "%s/results.json", dir);
    j = json_load_file(path, 0, NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "x")), "workloads[0].rate");
    assert_int_equal(json_array_size(json_object_get(j, "rows")), 12);
    pts = json_object_get(j, "points");
    assert_int_equal(json_array_size(pts), 6);
    json_t *m =
        json_object_get(json_object_get(json_array_get(pts, 2), "metrics"), "net0:sojourn_ns_mean");
    assert_true(json_real_value(json_object_get(m, "ci95")) == 5.0);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(pts, 2), "n")), 1);
    m = json_object_get(json_object_get(json_array_get(pts, 2), "metrics"), "net0:sojourn_ns_p99");
    assert_true(json_is_null(json_object_get(m, "ci95")));
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_array_get(pts, 3), "params"), "guest.callback")),
                        "percpu-vector");
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(json_object_get(j, "rows"), 5), "error")),
        "cannot open: profile, \"x\"");
    json_decref(j);

    assert_int_equal(xsim_sweep_plot(&sw), 0);
    snprintf(path, sizeof(path), "%s/plot.gp", dir);
    gp = ts_slurp(path);
    assert_non_null(strstr(gp, "sojourn time, p99 (ns)"));
    assert_non_null(strstr(gp, "utilisation of each vCPU"));
    assert_non_null(strstr(gp, "yerrorlines"));
    assert_null(strstr(gp, "no sojourn"));
    free(gp);
    if (gnuplot_present()) {
        check_image(dir, "sojourn.png", "PNG");
        check_image(dir, "cpu.svg", "<svg");
        check_image(dir, "exits.png", "PNG");
    }
    xsim_sweep_free(&sw);
    remove_dir(dir);
}

static void test_old_reports(void **state)
{
    char dir[] = "/tmp/xensim-sweep-results-XXXXXX", path[512], *gp;
    struct xsim_vary vary[2];
    struct xsim_sweep sw;

    (void)state;
    assert_non_null(mkdtemp(dir));
    make_sweep(&sw, vary, dir, false);
    for (size_t c = 0; c < sw.ncols; c++) {
        assert_null(strstr(sw.cols[c].name, "sojourn"));
        assert_null(strstr(sw.cols[c].name, "cpu"));
    }
    assert_true(isnan(st_of(&sw, 2, "net0:latency_ns_mean")->ci95));
    assert_int_equal(xsim_sweep_write_csv(&sw), 0);
    assert_int_equal(xsim_sweep_write_json(&sw), 0);
    assert_int_equal(xsim_sweep_plot(&sw), 0);
    snprintf(path, sizeof(path), "%s/plot.gp", dir);
    gp = ts_slurp(path);
    assert_non_null(strstr(gp, "the reports have no sojourn times"));
    assert_non_null(strstr(gp, "no cpu plot"));
    free(gp);
    xsim_sweep_free(&sw);
    remove_dir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_reports),
        cmocka_unit_test(test_old_reports),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
