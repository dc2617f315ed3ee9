/*
 * test_backends.c - the thread and fiber backends are interchangeable: every
 * shipped scenario and every test scenario, under several seeds and
 * policies, makes the same decisions (choice list), stops for the same
 * reason and ends with the same digest on both. Also: the CLI's --backend
 * reaches the run, and a replay file recorded on one backend replays on the
 * other.
 */
#include <dirent.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "shell.h"
#include "support/policy.h"
#include "xensim/scenario.h"
#include "xensim/world.h"

#define XENSIM "\"" XENSIM_BINARY_DIR "/xensim\""

static const char *const dirs[] = {
    XENSIM_SOURCE_DIR "/sim/scenarios",
    XENSIM_SOURCE_DIR "/tests/data/scenarios",
};

/* "" = the scenario's own policy. */
static const char *const policies[] = {"", "random", "random+time", "pct:3+time", "pct:2"};

static struct xsim_policy *make(const char *spec)
{
    return spec[0] == '\0' ? NULL : th_policy(spec);
}

static void run_on(const struct xsim_scenario *s, const char *spec, uint64_t seed,
                   enum xsim_backend b, struct xsim_report *rep)
{
    struct xsim_run_options ro = {.seed = seed, .seed_set = true, .backend = (int)b, .quiet = true};

    ro.policy = make(spec);
    if (xsim_run(s, &ro, rep, NULL, NULL) != 0)
        fail_msg("%s seed %" PRIu64 " %s: %s", s->name, seed, spec, rep->failure);
    assert_string_equal(rep->backend, xsim_backend_name(b));
    xsim_policy_destroy(ro.policy);
}

static void same(const char *what, const struct xsim_report *t, const struct xsim_report *f)
{
    if (t->digest != f->digest || t->stop != f->stop || t->all_pass != f->all_pass ||
        t->stats.decisions != f->stats.decisions || t->stats.switches != f->stats.switches ||
        t->stats.points != f->stats.points || t->choices.n != f->choices.n ||
        t->choices.decisions != f->choices.decisions)
        fail_msg("%s: thread digest %016" PRIx64 " stop %s, %" PRIu64 " decisions, %zu switches "
                 "listed; fiber %016" PRIx64 " stop %s, %" PRIu64 " decisions, %zu listed",
                 what, t->digest, xsim_stop_reason_name(t->stop), t->stats.decisions, t->choices.n,
                 f->digest, xsim_stop_reason_name(f->stop), f->stats.decisions, f->choices.n);
    for (size_t i = 0; i < t->choices.n; i++) {
        if (t->choices.sw[i].decision != f->choices.sw[i].decision ||
            t->choices.sw[i].entity != f->choices.sw[i].entity)
            fail_msg("%s: choice %zu differs", what, i);
    }
}

static void test_same_decisions_and_digest(void **state)
{
    unsigned int nscen = 0, nruns = 0;

    (void)state;
    if (!xsim_backend_fiber_available())
        skip();
    for (size_t di = 0; di < sizeof(dirs) / sizeof(dirs[0]); di++) {
        DIR *d = opendir(dirs[di]);
        struct dirent *e;
        assert_non_null(d);
        while ((e = readdir(d)) != NULL) {
            size_t l = strlen(e->d_name);
            char path[1280];
            struct xsim_scenario s;
            struct xsim_error err;
            if (l < 6 || strcmp(e->d_name + l - 5, ".json") != 0)
                continue;
            snprintf(path, sizeof(path), "%s/%s", dirs[di], e->d_name);
            if (xsim_scenario_load_file(&s, path, &err) != 0)
                fail_msg("%s: %s", path, err.text);
            /* The soak is long: one seed of it is enough here. */
            unsigned int seeds = strstr(e->d_name, "soak") != NULL ? 1 : 3;
            for (size_t pi = 0; pi < sizeof(policies) / sizeof(policies[0]); pi++) {
                for (uint64_t seed = 1; seed <= seeds; seed++) {
                    struct xsim_report t, f;
                    char what[512];
                    run_on(&s, policies[pi], seed, XSIM_BACKEND_THREAD, &t);
                    run_on(&s, policies[pi], seed, XSIM_BACKEND_FIBER, &f);
                    snprintf(what, sizeof(what), "%s seed %" PRIu64 " policy %s", e->d_name, seed,
                             policies[pi][0] ? policies[pi] : s.policy);
                    same(what, &t, &f);
                    xsim_report_free(&t);
                    xsim_report_free(&f);
                    nruns++;
                }
            }
            xsim_scenario_free(&s);
            nscen++;
        }
        closedir(d);
    }
    print_message("%u scenarios, %u (scenario, seed, policy) pairs compared\n", nscen, nruns);
    assert_true(nscen >= 10);
}

static void test_cli_backend_option(void **state)
{
    char cmd[2048], dir[] = "/tmp/xsim-backends-XXXXXX";
    int rc;

    (void)state;
    if (!xsim_backend_fiber_available())
        skip();
    /* --backend reaches the run and shows in the report. */
    snprintf(cmd, sizeof(cmd),
             "%s run " XENSIM_SOURCE_DIR "/sim/scenarios/demo.json --backend thread --json",
             XENSIM);
    ts_shell_expect(cmd, 0, "\"backend\":\"thread\"");
    snprintf(cmd, sizeof(cmd),
             "%s run " XENSIM_SOURCE_DIR "/sim/scenarios/demo.json --backend fiber --json", XENSIM);
    ts_shell_expect(cmd, 0, "\"backend\":\"fiber\"");
    /* A bad value is a usage error. */
    snprintf(cmd, sizeof(cmd),
             "%s run " XENSIM_SOURCE_DIR "/sim/scenarios/demo.json --backend green 2>/dev/null",
             XENSIM);
    assert_int_equal(ts_shell(cmd, NULL), 2);
    /* The scenario key chooses too. */
    snprintf(cmd, sizeof(cmd),
             "%s run " XENSIM_SOURCE_DIR
             "/sim/scenarios/demo.json --set machine.backend=thread --json",
             XENSIM);
    ts_shell_expect(cmd, 0, "\"backend\":\"thread\"");
    /* A failure found on fibers replays, and shrinks, on threads. */
    assert_non_null(mkdtemp(dir));
    snprintf(cmd, sizeof(cmd),
             "%s explore " XENSIM_SOURCE_DIR "/tests/data/scenarios/lost-update.json "
             "--schedules 50 --policy random --backend fiber --out %s 2>/dev/null",
             XENSIM, dir);
    assert_int_equal(ts_shell(cmd, NULL), 1);
    snprintf(cmd, sizeof(cmd),
             "%s replay %s/lost-update-seed1.replay.json --backend thread >/dev/null 2>&1", XENSIM,
             dir);
    rc = ts_shell(cmd, NULL);
    assert_int_equal(rc, 1); /* the failure reproduced, digest matched */
    snprintf(cmd, sizeof(cmd),
             "%s shrink %s/lost-update-seed1.replay.json --backend thread --out %s/s.json "
             ">/dev/null 2>&1 && %s replay %s/s.json --backend fiber >/dev/null 2>&1",
             XENSIM, dir, dir, XENSIM, dir);
    assert_int_equal(ts_shell(cmd, NULL), 1);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    (void)ts_shell(cmd, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_decisions_and_digest),
        cmocka_unit_test(test_cli_backend_option),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
