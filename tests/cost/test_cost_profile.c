/*
 * test_cost_profile.c - the shipped cost profiles and their loader: every
 * profile names every cost with a source, the built-in default equals the
 * shipped "haswell-xen44", bad keys fail at their line and column, and
 * names and paths resolve.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "xensim/cost.h"
#include "xensim/world.h"

#define PROFILES XENSIM_SOURCE_DIR "/sim/profiles"

static struct xsim_cost_profile *alloc_profile(void)
{
    struct xsim_cost_profile *p = malloc(sizeof(*p));

    assert_non_null(p);
    xsim_cost_profile_default(p);
    return p;
}

/* Each shipped file, read as plain JSON: every reason and every extra
 * present, each with a non-empty source; and it loads. */
static void test_shipped_complete(void **state)
{
    char names[32][64];
    int n = xsim_cost_profile_names(names, 32);

    (void)state;
    assert_true(n >= 3);
    for (int i = 0; i < n; i++) {
        char path[4096], msg[1024];
        json_error_t jerr;
        json_t *root, *costs;
        struct xsim_cost_profile *p = alloc_profile();
        struct xsim_error err;

        snprintf(path, sizeof(path), PROFILES "/%s.json", names[i]);
        root = json_load_file(path, 0, &jerr);
        assert_non_null(root);
        costs = json_object_get(root, "costs");
        assert_non_null(costs);
        assert_string_equal(json_string_value(json_object_get(root, "name")), names[i]);
        for (unsigned int r = 0; r <= XSIM_COST__COUNT; r++) {
            const char *key =
                r < XSIM_COST__COUNT ? xsim_cost_reason_name((enum xsim_cost_reason)r) : NULL;
            for (unsigned int e = 0; key == NULL && xsim_cost_extra_name(e) != NULL; e++) {
                json_t *v = json_object_get(costs, xsim_cost_extra_name(e));
                const char *src = json_string_value(json_object_get(v, "source"));
                if (v == NULL || src == NULL || src[0] == '\0')
                    fail_msg("%s: extra '%s' missing or without a source", names[i],
                             xsim_cost_extra_name(e));
            }
            if (key == NULL)
                continue;
            json_t *v = json_object_get(costs, key);
            const char *src = json_string_value(json_object_get(v, "source"));
            if (v == NULL || src == NULL || src[0] == '\0')
                fail_msg("%s: cost '%s' missing or without a source", names[i], key);
        }
        json_decref(root);
        if (xsim_cost_profile_load_file(p, path, &err) != 0)
            fail_msg("%s", xsim_error_format(&err, msg, sizeof(msg)));
        free(p);
    }
}

/* The built-in default is the shipped haswell-xen44, value for value. */
static void test_default_matches_file(void **state)
{
    struct xsim_cost_profile *def = alloc_profile(), *file = malloc(sizeof(*file));
    struct xsim_error err;

    (void)state;
    assert_non_null(file);
    memset(file, 0, sizeof(*file));
    assert_int_equal(xsim_cost_profile_load_file(file, PROFILES "/haswell-xen44.json", &err), 0);
    assert_string_equal(def->name, file->name);
    assert_string_equal(def->description, file->description);
    assert_string_equal(def->source, file->source);
    assert_int_equal(def->apicv, file->apicv);
    assert_int_equal(def->posted_interrupts, file->posted_interrupts);
    for (unsigned int r = 0; r < XSIM_COST__COUNT; r++) {
        assert_int_equal(def->ns[r], file->ns[r]);
        assert_string_equal(def->ns_source[r], file->ns_source[r]);
    }
    assert_int_equal(def->nnamed, file->nnamed);
    for (unsigned int i = 0; i < def->nnamed; i++) {
        const char *name = def->named[i].name;
        assert_int_equal(def->named[i].ns, xsim_cost_profile_get(file, name, ~0ull));
        assert_string_equal(def->named[i].source, xsim_cost_profile_source(file, name));
    }
    free(def);
    free(file);
}

/* The zero profile charges nothing but declared work (and a 1 ns wait-loop
 * turn, so that spinning lets time pass). */
static void test_zero_profile(void **state)
{
    struct xsim_cost_profile *p = alloc_profile();
    struct xsim_error err;

    (void)state;
    assert_int_equal(xsim_cost_profile_resolve(p, "zero", NULL, &err), 0);
    for (unsigned int r = 0; r < XSIM_COST__COUNT; r++)
        assert_int_equal(p->ns[r], 0);
    assert_false(p->apicv);
    assert_int_equal(xsim_cost_profile_get(p, "spin", 0), 1);
    free(p);
}

static void expect_error(const char *json, int line, int column, const char *text)
{
    struct xsim_cost_profile *p = alloc_profile();
    struct xsim_error err;

    memset(&err, 0, sizeof(err));
    assert_int_not_equal(xsim_cost_profile_load_string(p, json, &err), 0);
    if (err.line != line || err.column != column || strstr(err.text, text) == NULL)
        fail_msg("got %d:%d '%s', expected %d:%d '%s'", err.line, err.column, err.text, line,
                 column, text);
    free(p);
}

static void test_load_errors(void **state)
{
    (void)state;
    expect_error("{\"name\": \"x\",\n \"costs\": {\"hypercal\": 5}}", 2, 12,
                 "did you mean 'hypercall'");
    expect_error("{\"name\": \"x\", \"costs\": {\"icr_write_apicv\": 5}}", 1, 25, "unknown key");
    expect_error("{\"name\": \"x\", \"costs\": {\"hypercall\": {\"ns\": -1}}}", 1, 45, "ns");
    expect_error("{\"name\": \"x\", \"costs\": {\"hypercall\": {\"source\": \"s\"}}}", 1, 38, "ns");
    expect_error("{\"name\": \"x\", \"costs\": {\"hypercall\": \"fast\"}}", 1, 38, "number of ns");
    expect_error("{\"name\": \"x\", \"posted_interrupts\": true}", 1, 36, "needs 'apicv'");
    expect_error("{\"costs\": {}}", 1, 1, "name");
    expect_error("[1]", 1, 1, "JSON object");
}

static void test_load_keeps_sources(void **state)
{
    struct xsim_cost_profile *p = alloc_profile();
    struct xsim_error err;

    (void)state;
    assert_int_equal(xsim_cost_profile_load_string(
                         p,
                         "{\"name\": \"mine\", \"description\": \"d\", \"source\": \"s\", "
                         "\"apicv\": true, \"costs\": {\"hypercall\": {\"ns\": 123, \"source\": "
                         "\"measured\"}, \"wake\": 7, \"spin\": {\"ns\": 9, \"source\": \"t\"}}}",
                         &err),
                     0);
    assert_string_equal(p->name, "mine");
    assert_string_equal(p->description, "d");
    assert_string_equal(p->source, "s");
    assert_true(p->apicv);
    assert_int_equal(p->ns[XSIM_COST_HYPERCALL], 123);
    assert_string_equal(p->ns_source[XSIM_COST_HYPERCALL], "measured");
    assert_int_equal(p->ns[XSIM_COST_WAKE], 7);
    assert_string_equal(p->ns_source[XSIM_COST_WAKE], "");
    assert_int_equal(xsim_cost_profile_get(p, "spin", 0), 9);
    /* Costs the file does not name keep the default's figure and source. */
    assert_int_equal(p->ns[XSIM_COST_EXIT_MMIO], 2000);
    assert_true(strlen(p->ns_source[XSIM_COST_EXIT_MMIO]) > 0);
    assert_int_equal(xsim_cost_profile_set(p, "no_such_cost", 1, NULL), -EINVAL);
    free(p);
}

static void test_resolve(void **state)
{
    struct xsim_cost_profile *p = alloc_profile();
    struct xsim_error err;

    (void)state;
    assert_int_equal(xsim_cost_profile_resolve(p, "icelake-xen417", NULL, &err), 0);
    assert_string_equal(p->name, "icelake-xen417");
    assert_true(p->apicv && p->posted_interrupts);
    /* A path relative to a directory, and a bare file name ending .json. */
    assert_int_equal(
        xsim_cost_profile_resolve(p, "profiles/zero.json", XENSIM_SOURCE_DIR "/sim", &err), 0);
    assert_string_equal(p->name, "zero");
    assert_int_equal(xsim_cost_profile_resolve(p, "haswell-xen44.json", PROFILES, &err), 0);
    assert_string_equal(p->name, "haswell-xen44");
    /* An unknown name lists what there is. */
    assert_int_equal(xsim_cost_profile_resolve(p, "skylake", NULL, &err), -ENOENT);
    assert_non_null(strstr(err.text, "no cost profile named 'skylake'"));
    assert_non_null(strstr(err.text, "haswell-xen44, icelake-xen417, zero"));
    /* A missing file is not a profile. */
    assert_int_not_equal(xsim_cost_profile_resolve(p, "/nonexistent/x.json", NULL, &err), 0);
    /* XENSIM_PROFILE_DIR moves the shipped directory. */
    setenv("XENSIM_PROFILE_DIR", "/nonexistent-dir", 1);
    assert_int_equal(xsim_cost_profile_resolve(p, "zero", NULL, &err), -ENOENT);
    setenv("XENSIM_PROFILE_DIR", PROFILES, 1);
    assert_int_equal(xsim_cost_profile_resolve(p, "zero", NULL, &err), 0);
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped_complete),   cmocka_unit_test(test_default_matches_file),
        cmocka_unit_test(test_zero_profile),       cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_load_keeps_sources), cmocka_unit_test(test_resolve),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
