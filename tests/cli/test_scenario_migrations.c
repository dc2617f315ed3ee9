/*
 * test_scenario_migrations.c - a scenario's migrations live on the heap:
 * up to XSIM_SCN_MAX_MIGRATIONS load with each element's defaults, one more
 * is refused at the array's position, an error deep in the array names its
 * element, and a run carries out hundreds of suspends (more than any fixed
 * table the toolstack once had).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "xensim/scenario.h"

/* A scenario with n migrations, the first at 1 ms and then every
 * `every_us`; element `bad` (if < n) gets `bad_member` added. Each
 * migration sits on a line of its own, line 5 + i. The caller frees. */
static char *make(size_t n, unsigned int every_us, const char *extra_top, size_t bad,
                  const char *bad_member)
{
    size_t cap = 4096 + n * 160, len = 0;
    char *t = malloc(cap);

    assert_non_null(t);
    len += (size_t)snprintf(t + len, cap - len,
                            "{\"name\": \"many\",\n\"machine\": {\"vcpus\": 2},%s\n"
                            "\"stop\": {\"time\": \"%llums\"},\n\"migrations\": [\n",
                            extra_top, (unsigned long long)(2 + n * every_us / 1000));
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(
            t + len, cap - len, "  {\"at\": \"%lluus\"%s%s%s}%s\n",
            (unsigned long long)(1000 + i * every_us), i % 3 == 1 ? ", \"cancel\": true" : "",
            i % 3 == 2 ? ", \"downtime\": \"50us\", \"tsc_hz\": 2000000000" : "",
            i == bad ? bad_member : "", i + 1 < n ? "," : "");
    snprintf(t + len, cap - len, "]}\n");
    return t;
}

static void test_the_bound_loads(void **state)
{
    char *t = make(XSIM_SCN_MAX_MIGRATIONS, 100, "", SIZE_MAX, "");
    struct xsim_scenario s;
    struct xsim_error err;

    (void)state;
    if (xsim_scenario_load_buffer(&s, "many.json", t, strlen(t), &err) != 0)
        fail_msg("%s:%d:%d: %s", err.file, err.line, err.column, err.text);
    assert_int_equal(s.nmigrations, XSIM_SCN_MAX_MIGRATIONS);
    assert_non_null(s.migrations);
    for (size_t i = 0; i < s.nmigrations; i++) {
        const struct xsim_scn_migration *m = &s.migrations[i];
        assert_int_equal(m->at_ns, 1000000 + i * 100000);
        assert_int_equal(m->cancel, i % 3 == 1);
        /* Absent keys keep each element's own defaults. */
        assert_int_equal(m->downtime_ns, i % 3 == 2 ? 50000 : 5000000);
        assert_int_equal(m->tsc_hz, i % 3 == 2 ? 2000000000u : 0);
        assert_true(m->hvm_callback_vector && m->percpu_upcall_vector && m->hvm_safe_pvclock);
        assert_false(m->has_features || m->has_disk_features);
        assert_true(m->disk_features.flush && m->disk_features.barrier);
        assert_int_equal(m->disk_features.indirect_segments, 256);
    }
    xsim_scenario_free(&s);
    assert_null(s.migrations);
    assert_int_equal(s.nmigrations, 0);
    xsim_scenario_free(&s); /* twice is harmless */
    free(t);
}

static void test_one_more_is_refused(void **state)
{
    char *t = make(XSIM_SCN_MAX_MIGRATIONS + 1, 100, "", SIZE_MAX, "");
    struct xsim_scenario s;
    struct xsim_error err;
    char want[64];

    (void)state;
    assert_int_equal(xsim_scenario_load_buffer(&s, "many.json", t, strlen(t), &err), -EINVAL);
    /* At the array: line 4, after "migrations": . */
    assert_int_equal(err.line, 4);
    assert_int_equal(err.column, 15);
    snprintf(want, sizeof(want), "at most %d", XSIM_SCN_MAX_MIGRATIONS);
    if (strstr(err.text, want) == NULL || strstr(err.text, "10001 elements") == NULL)
        fail_msg("%s", err.text);
    assert_null(s.migrations);
    free(t);
}

/* Errors inside the array name the element and its line. */
static void test_errors_deep_in_the_array(void **state)
{
    char *t = make(3000, 100, "", 2500, ", \"downtme\": \"1ms\"");
    struct xsim_scenario s;
    struct xsim_error err;

    (void)state;
    assert_int_equal(xsim_scenario_load_buffer(&s, "many.json", t, strlen(t), &err), -EINVAL);
    assert_int_equal(err.line, 5 + 2500);
    if (strstr(err.text, "migrations[2500]") == NULL || strstr(err.text, "downtime") == NULL)
        fail_msg("%s", err.text);
    assert_null(s.migrations);
    free(t);
    /* Out of order: the loader's own check, at the element. */
    t = make(3000, 100, "", 2999, "");
    char *p = strstr(t, "\"at\": \"300900us\"");
    assert_non_null(p);
    memcpy(p, "\"at\": \"300700us\"", 16);
    assert_int_equal(xsim_scenario_load_buffer(&s, "many.json", t, strlen(t), &err), -EINVAL);
    assert_int_equal(err.line, 5 + 2999);
    assert_non_null(strstr(err.text, "must be later than 'migrations[2998].at'"));
    free(t);
    /* Not an array. */
    const char *na = "{\"name\": \"x\", \"machine\": {\"vcpus\": 1}, \"migrations\": {}}";
    assert_int_equal(xsim_scenario_load_buffer(&s, "na.json", na, strlen(na), &err), -EINVAL);
    assert_non_null(strstr(err.text, "must be an array"));
    /* Empty is none. */
    const char *none = "{\"name\": \"x\", \"machine\": {\"vcpus\": 1}, \"migrations\": []}";
    assert_int_equal(xsim_scenario_load_buffer(&s, "none.json", none, strlen(none), &err), 0);
    assert_int_equal(s.nmigrations, 0);
    assert_null(s.migrations);
    xsim_scenario_free(&s);
}

/* 300 suspends in one run, a third of them cancelled: every one completes,
 * as the toolstack and the guest see it. */
static void test_hundreds_run(void **state)
{
    char *t = make(300, 400, " \"oracles\": {\"migration\": true, \"clock_monotonic\": true},",
                   SIZE_MAX, "");
    struct xsim_scenario s;
    struct xsim_error err;
    struct xsim_run_options ro = {.quiet = true};
    struct xsim_report rep;

    (void)state;
    if (xsim_scenario_load_buffer(&s, "many.json", t, strlen(t), &err) != 0)
        fail_msg("%s:%d:%d: %s", err.file, err.line, err.column, err.text);
    /* Short downtimes throughout, so that the suspends do not queue up. */
    for (size_t i = 0; i < s.nmigrations; i++)
        s.migrations[i].downtime_ns = 100000;
    assert_int_equal(xsim_run(&s, &ro, &rep, NULL, NULL), 0);
    for (size_t i = 0; i < rep.noracles; i++) {
        if (!rep.oracles[i].pass)
            fail_msg("%s: %s", rep.oracles[i].name, rep.oracles[i].detail);
    }
    assert_int_equal(rep.migration.requested, 300);
    assert_int_equal(rep.migration.cancelled, 100);
    assert_int_equal(rep.migration.migrated, 200);
    assert_int_equal(rep.migration.guest_resumed, 200);
    assert_int_equal(rep.migration.guest_cancelled, 100);
    xsim_report_free(&rep);
    xsim_scenario_free(&s);
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_bound_loads),
        cmocka_unit_test(test_one_more_is_refused),
        cmocka_unit_test(test_errors_deep_in_the_array),
        cmocka_unit_test(test_hundreds_run),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
