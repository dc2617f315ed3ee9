/*
 * test_schemas.c - the program's own input formats on the one schema
 * engine: the scenario, cost profile and replay file schemas pass the
 * engine's self-check, and bad replay files and cost profiles get errors
 * with their line, column and, for a misspelt key, a suggestion.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "scenario/jsonschema.h"
#include "xensim/cost.h"
#include "xensim/replayfile.h"

static void test_selfcheck_shipped(void **state)
{
    const struct xsim_schema *s[] = {xsim__scenario_schema(), xsim__cost_profile_schema(),
                                     xsim__replay_schema()};
    char why[256];

    (void)state;
    for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
        if (xsim_schema_selfcheck(s[i], why, sizeof(why)) != 0)
            fail_msg("schema '%s': %s", s[i]->name, why);
    }
}

/* Read `text` as a replay file; returns xsim_replay_read's result. */
static int read_replay(const char *text, struct xsim_replay *r, struct xsim_error *err)
{
    char path[] = "/tmp/xsim-replay-XXXXXX";
    int fd = mkstemp(path), rc;
    FILE *f;

    assert_true(fd >= 0);
    f = fdopen(fd, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    memset(err, 0, sizeof(*err));
    rc = xsim_replay_read(path, r, err);
    unlink(path);
    return rc;
}

#define GOOD_HEAD                                                                       \
    "{\"xensim_replay\": 1,\n \"scenario_path\": \"x.json\",\n \"scenario\": \"{}\",\n" \
    " \"seed\": 7,\n \"policy\": \"pct:3\",\n \"digest\": \"00ff00ff00ff00ff\",\n"

static void test_replay_good(void **state)
{
    struct xsim_replay r;
    struct xsim_error err;

    (void)state;
    assert_int_equal(read_replay(GOOD_HEAD " \"failed\": [\"ipis\", \"timers\"],\n"
                                           " \"choices\": {\"switches\": [[0, 1], [5, 65535]],"
                                           " \"decisions\": 9}}\n",
                                 &r, &err),
                     0);
    assert_int_equal(r.seed, 7);
    assert_string_equal(r.policy, "pct:3");
    assert_string_equal(r.guest, "xensim"); /* absent: xensim's own program */
    assert_int_equal(r.digest, 0x00ff00ff00ff00ffull);
    assert_int_equal(r.nfailed, 2);
    assert_string_equal(r.failed[1], "timers");
    assert_int_equal(r.choices.decisions, 9);
    assert_int_equal(r.choices.n, 2);
    assert_int_equal(r.choices.sw[1].decision, 5);
    assert_int_equal(r.choices.sw[1].entity, 65535);
    assert_string_equal(r.scenario_text, "{}");
    xsim_replay_free(&r);
}

struct bad_replay {
    const char *tail; /* after GOOD_HEAD */
    int line, column;
    const char *says;
};

static void test_replay_bad(void **state)
{
    static const struct bad_replay cases[] = {
        /* a misspelt key: rejected with the nearest known one */
        {" \"choises\": {\"decisions\": 1, \"switches\": []}}", 7, 2, "choices"},
        /* decisions out of order: at the element */
        {" \"choices\": {\"decisions\": 9,\n  \"switches\": [[3, 0], [2, 1]]}}", 8, 24,
         "increasing"},
        /* an entity past the timed-event pseudo-entity */
        {" \"choices\": {\"decisions\": 9, \"switches\": [[3, 65536]]}}", 7, 43, "entity"},
        /* a switch at or past the number of decisions, whatever the order */
        {" \"choices\": {\"switches\": [[3, 0]], \"decisions\": 3}}", 7, 26, "decisions"},
        /* a required member missing: at the object */
        {" \"choices\": {\"decisions\": 3}}", 7, 13, "switches"},
        {" \"choices\": {\"decisions\": -1, \"switches\": []}}", 7, 27, "decisions"},
    };
    struct xsim_replay r;
    struct xsim_error err;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char text[1024];
        snprintf(text, sizeof(text), "%s%s\n", GOOD_HEAD, cases[i].tail);
        assert_int_not_equal(read_replay(text, &r, &err), 0);
        if (err.line != cases[i].line || err.column != cases[i].column ||
            strstr(err.text, cases[i].says) == NULL)
            fail_msg("case %zu: got %d:%d %s; want %d:%d and '%s'", i, err.line, err.column,
                     err.text, cases[i].line, cases[i].column, cases[i].says);
    }
    /* Top-level mistakes. */
    assert_int_not_equal(read_replay("[1, 2]\n", &r, &err), 0);
    assert_non_null(strstr(err.text, "not a replay file"));
    assert_int_not_equal(
        read_replay(
            "{\"xensim_replay\": 2, \"scenario\": \"{}\", \"seed\": 1, \"policy\": \"time\", "
            "\"digest\": \"0\", \"choices\": {\"decisions\": 0, \"switches\": []}}",
            &r, &err),
        0);
    assert_non_null(strstr(err.text, "must be 1"));
    assert_int_not_equal(read_replay("{\"xensim_replay\": 1, \"scenario\": \"{}\", \"seed\": 1, "
                                     "\"policy\": \"time\", \"digest\": \"xyz\", "
                                     "\"choices\": {\"decisions\": 0, \"switches\": []}}",
                                     &r, &err),
                         0);
    assert_non_null(strstr(err.text, "hex digits"));
}

static void test_cost_profile_typo(void **state)
{
    struct xsim_cost_profile p;
    struct xsim_error err;

    (void)state;
    memset(&err, 0, sizeof(err));
    assert_int_not_equal(xsim_cost_profile_load_string(
                             &p, "{\"name\": \"x\",\n \"costs\": {\"hypercal\": 100}}", &err),
                         0);
    assert_int_equal(err.line, 2);
    assert_true(err.column > 1);
    assert_non_null(strstr(err.text, "hypercall"));
    memset(&err, 0, sizeof(err));
    assert_int_not_equal(
        xsim_cost_profile_load_string(&p, "{\"name\": \"x\", \"apicvv\": true}", &err), 0);
    assert_int_equal(err.line, 1);
    assert_non_null(strstr(err.text, "apicv"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_selfcheck_shipped),
        cmocka_unit_test(test_replay_good),
        cmocka_unit_test(test_replay_bad),
        cmocka_unit_test(test_cost_profile_typo),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
