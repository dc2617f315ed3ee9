/*
 * test_sweep.c - `xensim sweep` and `xensim run --set` end to end on a
 * 5 ms scenario: the table's header and rows, results.json's points, the
 * same table for --jobs 1 and 2, a failing oracle and a run that cannot
 * set up recorded as rows, bad --vary and --set input refused with exit 2,
 * plot.gp always written, the message without gnuplot, and the images
 * with it (skipped when gnuplot is not installed).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <cmocka.h>

#include <jansson.h>

#include "shell.h"

#define XENSIM XENSIM_BINARY_DIR "/xensim"
#define TINY   XENSIM_SOURCE_DIR "/tests/data/sweep/tiny.json"
#define GRID \
    "--vary guest.callback=pci-intx,percpu-vector --vary 'workloads[0].rate=10k/s..30k/s:3'"

/* Run a shell command; its exit status, and stdout and stderr (malloc'd). */
static int run(const char *cmd, char **out)
{
    size_t flen = strlen(cmd) + 8;
    char *full = malloc(flen);
    int rc;

    assert_non_null(full);
    snprintf(full, flen, "%s 2>&1", cmd);
    rc = ts_shell(full, out);
    free(full);
    return rc;
}

/* Run `cmd` (as run): it exits with `status` and says `text`. */
static void expect(const char *cmd, int status, const char *text)
{
    char *out;

    assert_int_equal(run(cmd, &out), status);
    assert_non_null(strstr(out, text));
    free(out);
}

static char *slurp(const char *dir, const char *file)
{
    char path[512];

    snprintf(path, sizeof(path), "%s/%s", dir, file);
    return ts_slurp(path);
}

static bool exists(const char *dir, const char *file)
{
    char path[512];
    struct stat st;

    snprintf(path, sizeof(path), "%s/%s", dir, file);
    return stat(path, &st) == 0 && st.st_size > 0;
}

static void make_dir(char *tmpl)
{
    assert_non_null(mkdtemp(tmpl));
}

static void remove_dir(const char *dir)
{
    char cmd[512];

    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

/* Sweep into DIR/sub; returns the exit status and the output. */
static int sweep(const char *dir, const char *sub, const char *args, const char *env, char **out)
{
    char cmd[2048];

    snprintf(cmd, sizeof(cmd), "%s %s sweep %s %s --out %s/%s", env ? env : "", XENSIM, TINY, args,
             dir, sub);
    return run(cmd, out);
}

/* The index of `name` in the CSV header line, or -1. */
static int column(const char *csv, const char *name)
{
    size_t len = strcspn(csv, "\n"), n = strlen(name);
    int idx = 0;

    for (const char *p = csv; p < csv + len; idx++) {
        size_t f = strcspn(p, ",\n");
        if (f == n && strncmp(p, name, n) == 0)
            return idx;
        p += f + 1;
    }
    return -1;
}

/* Field `col` of line `line` (0 = header) into buf (no quoted fields). */
static const char *field(const char *csv, int line, int col, char *buf, size_t size)
{
    const char *p = csv;

    for (int i = 0; i < line; i++) {
        p = strchr(p, '\n');
        assert_non_null(p);
        p++;
    }
    for (int i = 0; i < col; i++) {
        p += strcspn(p, ",\n");
        assert_int_equal(*p, ',');
        p++;
    }
    size_t f = strcspn(p, ",\n");
    snprintf(buf, size, "%.*s", (int)(f < size ? f : size - 1), p);
    return buf;
}

static int lines(const char *s)
{
    int n = 0;

    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static void test_grid(void **state)
{
    char dir[] = "/tmp/xensim-sweep-XXXXXX", *out, *a, *b, f[64];
    json_error_t jerr;
    json_t *j, *pts, *p;
    size_t i;

    (void)state;
    make_dir(dir);
    if (sweep(dir, "j1", GRID " --seeds 2 --jobs 1", NULL, &out) != 0)
        fail_msg("%s", out);
    assert_non_null(strstr(out, "6 points x 2 seeds = 12 runs"));
    free(out);
    if (sweep(dir, "j2", GRID " --seeds 2 --jobs 2", NULL, &out) != 0)
        fail_msg("%s", out);
    free(out);
    a = slurp(dir, "j1/results.csv");
    b = slurp(dir, "j2/results.csv");
    /* What is written does not depend on the number of workers. */
    assert_string_equal(a, b);
    assert_int_equal(lines(a), 1 + 12);
    assert_memory_equal(a,
                        "point,guest.callback,workloads[0].rate,seed,digest,pass,oracle:run,"
                        "oracle:no_lost_events,oracle:callback,net0:sent,net0:handled,",
                        121);
    assert_non_null(strstr(a, ",exits_per_s:hypercall,"));
    assert_non_null(strstr(a, ",exits_per_s:exit_eoi,"));
    assert_memory_equal(strchr(a, '\n') - 6, ",error", 6);
    assert_memory_equal(strchr(a, '\n') + 1, "1,pci-intx,10000,1,", 19);
    /* pci-intx fails the callback oracle: a recorded row, not an error. */
    int pass = column(a, "pass"), cb = column(a, "oracle:callback"), err = column(a, "error");
    int rate = column(a, "workloads[0].rate"), seed = column(a, "seed");
    assert_true(pass > 0 && cb > 0 && err > 0 && rate > 0 && seed > 0);
    for (int r = 1; r <= 12; r++) {
        assert_string_equal(field(a, r, pass, f, sizeof(f)), r <= 6 ? "0" : "1");
        assert_string_equal(field(a, r, cb, f, sizeof(f)), r <= 6 ? "0" : "1");
        assert_string_equal(field(a, r, err, f, sizeof(f)), "");
        assert_string_equal(field(a, r, seed, f, sizeof(f)), r % 2 ? "1" : "2");
    }
    assert_string_equal(field(a, 12, rate, f, sizeof(f)), "30000");
    free(a);
    free(b);
    /* results.json: the rows, and each point's means over its two seeds. */
    snprintf(f, sizeof(f), "%s/j1/results.json", dir);
    j = json_load_file(f, 0, &jerr);
    if (j == NULL)
        fail_msg("%s: %s", f, jerr.text);
    assert_string_equal(json_string_value(json_object_get(j, "scenario")), "sweep-tiny");
    assert_string_equal(json_string_value(json_object_get(j, "x")), "workloads[0].rate");
    assert_int_equal(json_integer_value(json_object_get(j, "seeds")), 2);
    assert_int_equal(json_array_size(json_object_get(j, "rows")), 12);
    assert_int_equal(
        json_array_size(json_object_get(json_array_get(json_object_get(j, "vary"), 1), "values")),
        3);
    pts = json_object_get(j, "points");
    assert_int_equal(json_array_size(pts), 6);
    json_array_foreach(pts, i, p)
    {
        json_t *m = json_object_get(p, "metrics");
        assert_int_equal(json_integer_value(json_object_get(p, "n")), 2);
        assert_true(json_is_number(json_object_get(json_object_get(m, "net0:sent"), "mean")));
        assert_true(json_is_number(json_object_get(json_object_get(m, "net0:sent"), "ci95")));
        assert_true(
            json_is_number(json_object_get(json_object_get(m, "exits_per_s:exit_eoi"), "mean")));
        assert_true(json_real_value(json_object_get(json_object_get(m, "pass"), "mean")) ==
                    (i < 3 ? 0.0 : 1.0));
    }
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(json_array_get(pts, 4), "params"), "workloads[0].rate")),
                     20000);
    json_decref(j);
    assert_true(exists(dir, "j1/plot.gp"));
    assert_true(exists(dir, "j1/points.dat"));
    remove_dir(dir);
}

/* A cost profile next to the scenario resolves there; a missing one is a
 * row with an error, and the sweep goes on. */
static void test_setup_error_is_a_row(void **state)
{
    char dir[] = "/tmp/xensim-sweep-XXXXXX", *out, *csv, f[256];

    (void)state;
    make_dir(dir);
    if (sweep(dir, "cp", "--vary machine.cost_profile=slow-eoi.json,missing.json --seeds 2", NULL,
              &out) != 0)
        fail_msg("%s", out);
    assert_non_null(strstr(out, "2 passed, 0 failed an oracle, 2 could not run"));
    free(out);
    csv = slurp(dir, "cp/results.csv");
    int err = column(csv, "error"), pass = column(csv, "pass"), dig = column(csv, "digest");
    assert_int_equal(lines(csv), 5);
    for (int r = 1; r <= 4; r++) {
        field(csv, r, err, f, sizeof(f));
        if (r <= 2) {
            assert_string_equal(f, "");
            assert_string_equal(field(csv, r, pass, f, sizeof(f)), "1");
            assert_int_equal(strlen(field(csv, r, dig, f, sizeof(f))), 16);
        } else {
            assert_non_null(strstr(f, "missing.json"));
            assert_string_equal(field(csv, r, pass, f, sizeof(f)), "");
        }
    }
    free(csv);
    remove_dir(dir);
}

static void test_bad_input(void **state)
{
    static const struct {
        const char *args, *want;
    } cases[] = {
        {"--vary guest.callback=pci-intx,bogus", "point 2 (guest.callback=bogus)"},
        {"--vary guest.callback=pci-intx,bogus", "after --vary guest.callback=bogus"},
        {"--vary machine.vcpus=1..200:3", "'machine.vcpus' must be an integer"},
        {"--vary 'workloads[9].rate=1,2'", "index [9] is out of range"},
        {"--vary 'workloads[0].rate=1..2:1'", "2..10000 points"},
        {"--vary 'workloads[0].rate=1ms..2k/s:3'", "durations or both rates"},
        {"--vary 'workloads[0].rate=1,,2'", "empty value"},
        {"--vary 'a..b=1'", "empty key"},
        {"--vary '[=1'", "expected a number"},
        {"--vary '[-1]=1'", "expected a number"},
        {"--vary '[99999999999]=1'", "not an array"},
        {"--vary =1", "the path is empty"},
        {"--vary noequals", "expected PATH=V1,V2"},
        {"--vary seed=1,2", "use --seeds"},
        {"--vary stop.time=1ms,2ms --vary stop.time=3ms", "varied twice"},
        {"--vary stop.time=1ms --set 'machine.vcpus.x=1'", "'machine.vcpus' is the number 2"},
        {"--vary stop.time=1ms --set 'x[0]=1'", "'x' does not exist"},
        {"--vary stop.time=1ms --set =1", "the path is empty"},
        {"--vary stop.time=1ms --set name=", "'name' must be a string of 1 to 63"},
        {"--vary stop.time=1ms --seeds 0", "--seeds wants"},
        {"--vary stop.time=1ms --jobs 0", "--jobs wants"},
        {"--vary stop.time=1ms --policy replay", "a sweep needs"},
        {"--vary stop.time=1ms --policy nonsense", "bad policy"},
        {"--set stop.time=1ms", "give at least one --vary"},
    };
    char dir[] = "/tmp/xensim-sweep-XXXXXX", *out;

    (void)state;
    make_dir(dir);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = sweep(dir, "bad", cases[i].args, NULL, &out);
        if (rc != 2 || strstr(out, cases[i].want) == NULL)
            fail_msg("'%s': want exit 2 and '%s', got %d:\n%s", cases[i].args, cases[i].want, rc,
                     out);
        free(out);
        /* Nothing ran. */
        assert_false(exists(dir, "bad/results.csv"));
    }
    /* A value far larger than any scenario field is an error, not a crash. */
    size_t n = 100000;
    char *cmd = malloc(n + 512);
    assert_non_null(cmd);
    int len = snprintf(
        cmd, 512, "%s sweep %s --vary stop.time=1ms --out %s/bad --set name=", XENSIM, TINY, dir);
    memset(cmd + len, 'x', n);
    cmd[len + (int)n] = '\0';
    expect(cmd, 2, "'name' must be a string of 1 to 63 bytes");
    free(cmd);
    remove_dir(dir);
}

static void test_without_gnuplot(void **state)
{
    char dir[] = "/tmp/xensim-sweep-XXXXXX", *out, want[256];

    (void)state;
    make_dir(dir);
    if (sweep(dir, "np", "--vary 'workloads[0].rate=10k/s,20k/s'", "PATH=/nonexistent", &out) != 0)
        fail_msg("%s", out);
    assert_non_null(strstr(out, "gnuplot was not found on PATH"));
    snprintf(want, sizeof(want), "gnuplot %s/np/plot.gp", dir);
    assert_non_null(strstr(out, want));
    free(out);
    assert_true(exists(dir, "np/plot.gp"));
    assert_true(exists(dir, "np/points.dat"));
    assert_false(exists(dir, "np/sojourn.png"));
    remove_dir(dir);
}

static void test_with_gnuplot(void **state)
{
    static const char *const files[] = {"sojourn.png", "sojourn.svg", "exits.png", "exits.svg"};
    char dir[] = "/tmp/xensim-sweep-XXXXXX", *out;

    (void)state;
    if (system("command -v gnuplot >/dev/null 2>&1") != 0)
        skip();
    make_dir(dir);
    if (sweep(dir, "gp", GRID " --seeds 2", NULL, &out) != 0)
        fail_msg("%s", out);
    assert_non_null(strstr(out, "plots: "));
    free(out);
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        char sub[64], *img;
        snprintf(sub, sizeof(sub), "gp/%s", files[i]);
        if (!exists(dir, sub))
            fail_msg("no %s/%s", dir, sub);
        img = slurp(dir, sub);
        assert_non_null(strstr(img, i % 2 ? "<svg" : "PNG"));
        free(img);
    }
    /* Plotting again from the written script alone gives the same. */
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "cd / && rm %s/gp/exits.png && gnuplot %s/gp/plot.gp", dir, dir);
    assert_int_equal(run(cmd, NULL), 0);
    assert_true(exists(dir, "gp/exits.png"));
    remove_dir(dir);
}

static void test_run_set(void **state)
{
    char *out;
    json_t *j;

    (void)state;
    assert_int_equal(run(XENSIM " run " TINY, NULL), 0);
    /* A failing oracle after --set: exit 1, the override in force. */
    assert_int_equal(run(XENSIM " run " TINY " --set guest.callback=pci-intx --json", &out), 1);
    j = json_loads(strchr(out, '{'), JSON_DISABLE_EOF_CHECK, NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "guest"), "callback")),
                        "pci-intx");
    json_decref(j);
    free(out);
    /* A relative cost profile resolves next to the scenario file. */
    expect("cd / && " XENSIM " run " TINY " --set machine.cost_profile=slow-eoi.json --json", 0,
           "\"cost_profile\":\"slow-eoi\"");
    /* Keys the scenario omits are created; several --set apply in order. */
    expect(XENSIM " run " TINY " --set 'workloads[1].rate=1k/s' --set "
                  "'workloads[1].rate=2k/s' --set oracles.max_latency=1ns --json",
           1, "\"max_latency\":{\"pass\":false");
    expect(XENSIM " run " TINY " --set 'workloads[1].rate=fast'", 2,
           "(after --set workloads[1].rate=fast)");
    expect(XENSIM " run " TINY " --set '[99999999999]=1'", 2,
           "the scenario is an object, not an array");
    expect(XENSIM " run " TINY " --set 'workloads[1].rate.x=1'", 2,
           "'workloads[1].rate' is the string \"10k/s\", not an object");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grid),         cmocka_unit_test(test_setup_error_is_a_row),
        cmocka_unit_test(test_bad_input),    cmocka_unit_test(test_without_gnuplot),
        cmocka_unit_test(test_with_gnuplot), cmocka_unit_test(test_run_set),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
