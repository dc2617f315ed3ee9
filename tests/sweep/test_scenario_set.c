/*
 * test_scenario_set.c - JSON paths, PATH=VALUE overrides and --vary lists
 * and ranges, table-driven from tests/data/scenario-set/cases.json; bad
 * input of every shape gets an error, never a crash; a scenario loads with
 * overrides under its original name; every jansson allocation failing in
 * turn leaves no leak.
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
#include <cmocka.h>

#include <jansson.h>

#include "xensim/scenario_set.h"

#define CASES XENSIM_SOURCE_DIR "/tests/data/scenario-set/cases.json"
#define TINY  XENSIM_SOURCE_DIR "/tests/data/sweep/tiny.json"

static json_t *load_cases(const char *section)
{
    json_error_t jerr;
    json_t *all = json_load_file(CASES, JSON_REJECT_DUPLICATES, &jerr), *sec;

    if (all == NULL)
        fail_msg("%s:%d: %s", CASES, jerr.line, jerr.text);
    sec = json_incref(json_object_get(all, section));
    json_decref(all);
    assert_true(json_is_array(sec));
    return sec;
}

static char *dump(const json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);

    assert_non_null(s);
    return s;
}

static void test_set_table(void **state)
{
    json_t *cases = load_cases("set"), *c;
    size_t i;

    (void)state;
    json_array_foreach(cases, i, c)
    {
        const char *arg = json_string_value(json_object_get(c, "arg"));
        const json_t *want = json_object_get(c, "want");
        const char *error = json_string_value(json_object_get(c, "error"));
        json_t *doc = json_deep_copy(json_object_get(c, "doc"));
        struct xsim_override o;
        char why[512] = "";
        int rc;

        assert_non_null(arg);
        rc = xsim_override_parse(&o, arg, why, sizeof(why));
        if (rc == 0) {
            assert_non_null(o.path);
            assert_non_null(o.value);
            rc = xsim_jpath_set(doc, o.path, o.value, why, sizeof(why));
        } else {
            assert_null(o.path);
            assert_null(o.value);
        }
        if (error != NULL) {
            if (rc != -EINVAL || strstr(why, error) == NULL)
                fail_msg("case %zu '%s': want an error with '%s', got rc %d '%s'", i, arg, error,
                         rc, why);
        } else {
            char *got = dump(doc), *exp = dump(want);
            if (rc != 0 || strcmp(got, exp) != 0)
                fail_msg("case %zu '%s': rc %d (%s), got %s, want %s", i, arg, rc, why, got, exp);
            free(got);
            free(exp);
        }
        xsim_override_free(&o);
        xsim_override_free(&o);
        json_decref(doc);
    }
    assert_true(i >= 40);
    json_decref(cases);
}

static const char *unit_name(int unit)
{
    return unit == XSIM_VARY_NS ? "ns" : unit == XSIM_VARY_PER_S ? "per_s" : "plain";
}

static void check_vary(size_t i, const char *arg, const json_t *c, const struct xsim_vary *v)
{
    const json_t *values = json_object_get(c, "values"), *x = json_object_get(c, "x");
    const json_t *numeric = json_object_get(c, "numeric"), *unit = json_object_get(c, "unit");
    char *got = dump(v->values), *exp = dump(values);

    if (strcmp(got, exp) != 0)
        fail_msg("case %zu '%s': values %s, want %s", i, arg, got, exp);
    free(got);
    free(exp);
    assert_int_equal(v->n, json_array_size(values));
    assert_int_equal(v->numeric, numeric == NULL || json_is_true(numeric));
    assert_int_equal(v->range, json_is_true(json_object_get(c, "range")));
    if (unit != NULL && strcmp(unit_name(v->unit), json_string_value(unit)) != 0)
        fail_msg("case %zu '%s': unit %s, want %s", i, arg, unit_name(v->unit),
                 json_string_value(unit));
    for (size_t k = 0; k < v->n; k++) {
        if (!v->numeric)
            assert_true(isnan(v->x[k]));
        else if (x != NULL && v->x[k] != json_number_value(json_array_get(x, k)))
            fail_msg("case %zu '%s': x[%zu] = %g, want %g", i, arg, k, v->x[k],
                     json_number_value(json_array_get(x, k)));
    }
}

static void test_vary_table(void **state)
{
    json_t *cases = load_cases("vary"), *c;
    size_t i;

    (void)state;
    json_array_foreach(cases, i, c)
    {
        const char *arg = json_string_value(json_object_get(c, "arg"));
        const char *error = json_string_value(json_object_get(c, "error"));
        struct xsim_vary v;
        char why[512] = "";
        int rc = xsim_vary_parse(&v, arg, why, sizeof(why));

        if (error != NULL) {
            if (rc != -EINVAL || strstr(why, error) == NULL)
                fail_msg("case %zu '%s': want an error with '%s', got rc %d '%s'", i, arg, error,
                         rc, why);
            assert_null(v.path);
            assert_null(v.values);
            assert_null(v.x);
        } else {
            if (rc != 0)
                fail_msg("case %zu '%s': %s", i, arg, why);
            check_vary(i, arg, c, &v);
        }
        xsim_vary_free(&v);
        xsim_vary_free(&v);
    }
    assert_true(i >= 30);
    json_decref(cases);
}

/* Inputs no table holds: huge and deep values, long paths, many segments. */
static void test_big_inputs(void **state)
{
    size_t n = 1u << 20;
    char *arg = malloc(n + 3), why[512];
    struct xsim_override o;
    json_t *doc = json_pack("{s:i}", "a", 1);

    (void)state;
    assert_non_null(arg);
    /* A 1 MiB value is a 1 MiB string. */
    memcpy(arg, "a=", 2);
    memset(arg + 2, 'x', n);
    arg[n + 2] = '\0';
    assert_int_equal(xsim_override_parse(&o, arg, why, sizeof(why)), 0);
    assert_int_equal(json_string_length(o.value), n);
    assert_int_equal(xsim_jpath_set(doc, o.path, o.value, why, sizeof(why)), 0);
    xsim_override_free(&o);
    /* Nesting deeper than jansson parses is a string too. */
    for (size_t i = 0; i < 100000; i++)
        arg[2 + i] = '[';
    arg[2 + 100000] = '\0';
    assert_int_equal(xsim_override_parse(&o, arg, why, sizeof(why)), 0);
    assert_true(json_is_string(o.value));
    xsim_override_free(&o);
    /* A path longer than XSIM_JPATH_MAX is refused, however it is made. */
    memset(arg, 'k', XSIM_JPATH_MAX + 1);
    strcpy(arg + XSIM_JPATH_MAX + 1, "=1");
    assert_int_equal(xsim_override_parse(&o, arg, why, sizeof(why)), -EINVAL);
    assert_non_null(strstr(why, "longer than"));
    /* Many segments within the limit create nested objects. */
    for (size_t i = 0; i < 200; i++)
        memcpy(arg + 2 * i, i == 0 ? "kk" : ".k", 2);
    strcpy(arg + 400, "=1");
    assert_int_equal(xsim_override_parse(&o, arg, why, sizeof(why)), 0);
    assert_int_equal(xsim_jpath_set(doc, o.path, o.value, why, sizeof(why)), 0);
    xsim_override_free(&o);
    /* Invalid UTF-8 in a value or a key is an error. */
    assert_int_equal(xsim_override_parse(&o, "a=\xff\xfe", why, sizeof(why)), -EINVAL);
    assert_non_null(strstr(why, "UTF-8"));
    assert_int_equal(xsim_override_parse(&o, "\xff=1", why, sizeof(why)), 0);
    assert_int_equal(xsim_jpath_set(doc, o.path, o.value, why, sizeof(why)), -EINVAL);
    xsim_override_free(&o);
    /* NULL and odd arguments. */
    assert_int_equal(xsim_override_parse(&o, NULL, why, sizeof(why)), -EINVAL);
    assert_int_equal(xsim_jpath_check(NULL, why, sizeof(why)), -EINVAL);
    assert_int_equal(xsim_jpath_set(doc, "a", NULL, why, sizeof(why)), -EINVAL);
    assert_int_equal(xsim_jpath_check("a[0", NULL, 0), -EINVAL);
    json_decref(doc);
    free(arg);
}

static void test_format(void **state)
{
    struct xsim_override o;
    char buf[32], why[256];

    (void)state;
    assert_int_equal(xsim_override_parse(&o, "guest.callback=pci-intx", why, sizeof(why)), 0);
    assert_string_equal(xsim_override_format(&o, buf, sizeof(buf)), "guest.callback=pci-intx");
    xsim_override_free(&o);
    assert_int_equal(xsim_override_parse(&o, "a={\"k\": [1, 2]}", why, sizeof(why)), 0);
    assert_string_equal(xsim_override_format(&o, buf, sizeof(buf)), "a={\"k\":[1,2]}");
    xsim_override_free(&o);
    assert_int_equal(
        xsim_override_parse(&o, "a=0123456789012345678901234567890123456789", why, sizeof(why)), 0);
    assert_string_equal(xsim_override_format(&o, buf, sizeof(buf)),
                        "a=01234567890123456789012345...");
    xsim_override_free(&o);
}

static void parse_all(struct xsim_override *ov, const char *const *args, size_t n)
{
    char why[512];

    for (size_t i = 0; i < n; i++) {
        if (xsim_override_parse(&ov[i], args[i], why, sizeof(why)) != 0)
            fail_msg("%s: %s", args[i], why);
    }
}

static void free_all(struct xsim_override *ov, size_t n)
{
    for (size_t i = 0; i < n; i++)
        xsim_override_free(&ov[i]);
}

static void test_load_overrides(void **state)
{
    static const char *const good[] = {"workloads[1].rate=40k/s", "machine.vcpus=3",
                                       "machine.cost_profile=slow-eoi.json", "seed=9",
                                       "guest.callback=pci-intx"};
    static const char *const bad[] = {"machine.vcpus=2", "workloads[0].rate=fast"};
    static const char *const nopath[] = {"workloads[5].rate=1"};
    struct xsim_override ov[5];
    struct xsim_scenario s;
    struct xsim_error err;
    char *text;
    size_t len;

    (void)state;
    assert_int_equal(xsim_text_read_file(TINY, &text, &len, &err), 0);
    parse_all(ov, good, 5);
    if (xsim_scenario_load_overrides(&s, TINY, text, len, ov, 5, &err) != 0)
        fail_msg("%s", err.text);
    assert_true(fabs(s.workloads[1].rate - 40000.0) < 1e-9);
    assert_int_equal(s.machine.vcpus, 3);
    assert_int_equal(s.seed, 9);
    assert_int_equal(s.guest.callback, 3);
    assert_string_equal(s.machine.cost_profile, "slow-eoi.json");
    /* The original name stays, so relative paths resolve next to it. */
    assert_string_equal(s.path, TINY);
    assert_non_null(strstr(s.text, "40k/s"));
    xsim_scenario_free(&s);
    free_all(ov, 5);
    /* A schema error names the file and the overrides, with no position. */
    parse_all(ov, bad, 2);
    assert_int_equal(xsim_scenario_load_overrides(&s, TINY, text, len, ov, 2, &err), -EINVAL);
    assert_string_equal(err.file, TINY);
    assert_int_equal(err.line, 0);
    assert_non_null(strstr(err.text, "workloads[0].rate"));
    assert_non_null(
        strstr(err.text, "(after --set machine.vcpus=2, --set workloads[0].rate=fast)"));
    free_all(ov, 2);
    /* A path that does not fit the scenario names itself. */
    parse_all(ov, nopath, 1);
    assert_int_equal(xsim_scenario_load_overrides(&s, TINY, text, len, ov, 1, &err), -EINVAL);
    assert_non_null(strstr(err.text, "--set workloads[5].rate=1: index [5] is out of range"));
    /* Text that is not JSON keeps the loader's positioned message. */
    assert_int_equal(xsim_scenario_load_overrides(&s, TINY, "{\"name\": ", 9, ov, 1, &err),
                     -EINVAL);
    assert_int_equal(err.line, 1);
    assert_int_equal(xsim_scenario_load_overrides(&s, TINY, "[1]", 3, ov, 1, &err), -EINVAL);
    assert_int_equal(xsim_scenario_load_overrides(&s, TINY, "{\"a\":1,\"a\":2}", 13, ov, 1, &err),
                     -EINVAL);
    free_all(ov, 1);
    free(text);
    assert_int_equal(xsim_text_read_file("/nonexistent/x.json", &text, &len, &err), -ENOENT);
    assert_null(text);
}

/* ---- jansson allocation failures ---- */

static long alloc_budget = -1; /* allocations left before failing; -1: no limit */
static long alloc_live;

static void *counting_malloc(size_t size)
{
    void **p;

    if (alloc_budget == 0)
        return NULL;
    if (alloc_budget > 0)
        alloc_budget--;
    p = malloc(size + sizeof(void *));
    if (p == NULL)
        return NULL;
    alloc_live++;
    return p + 1;
}

static void counting_free(void *ptr)
{
    if (ptr == NULL)
        return;
    alloc_live--;
    free((void **)ptr - 1);
}

static void test_alloc_failures(void **state)
{
    static const char *const args[] = {"workloads[1].rate=40k/s", "a.b.c={\"x\": [1, 2, 3]}"};
    struct xsim_scenario s;
    struct xsim_error err;
    char *text, why[512];
    size_t len;
    long k, ok = 0;

    (void)state;
    assert_int_equal(xsim_text_read_file(TINY, &text, &len, &err), 0);
    json_set_alloc_funcs(counting_malloc, counting_free);
    for (k = 0; k < 2000 && ok < 3; k++) {
        struct xsim_override ov[2] = {{0}, {0}};
        struct xsim_vary v;
        int rc = 0;
        alloc_budget = k;
        for (size_t i = 0; i < 2 && rc == 0; i++)
            rc = xsim_override_parse(&ov[i], args[i], why, sizeof(why));
        if (rc == 0)
            rc = xsim_scenario_load_overrides(&s, TINY, text, len, ov, 1, &err);
        if (rc == 0)
            xsim_scenario_free(&s);
        if (xsim_vary_parse(&v, "p={\"a\": 1},2..4:3,x", why, sizeof(why)) == 0)
            xsim_vary_free(&v);
        if (xsim_vary_parse(&v, "p=1..4:4", why, sizeof(why)) == 0)
            xsim_vary_free(&v);
        free_all(ov, 2);
        ok += rc == 0 && alloc_budget > 0;
        assert_int_equal(alloc_live, 0);
    }
    alloc_budget = -1;
    json_set_alloc_funcs(malloc, free);
    assert_true(ok >= 1);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_table),      cmocka_unit_test(test_vary_table),
        cmocka_unit_test(test_big_inputs),     cmocka_unit_test(test_format),
        cmocka_unit_test(test_load_overrides), cmocka_unit_test(test_alloc_failures),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
