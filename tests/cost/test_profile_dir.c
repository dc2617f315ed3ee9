/*
 * test_profile_dir.c - where an installed build looks for its cost profiles.
 * Built with its own copy of sim/world/cost.c whose compiled-in source-tree
 * directory does not exist and whose install directory is the source tree's
 * profiles, so the fallback is what answers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "xensim/cost.h"

static void test_installed_dir_when_tree_gone(void **state)
{
    char names[8][64];

    (void)state;
    assert_int_equal(unsetenv("XENSIM_PROFILE_DIR"), 0);
    assert_string_equal(xsim_cost_profile_dir(), XENSIM_PROFILE_DIR_INSTALLED);
    assert_int_equal(xsim_cost_profile_names(names, 8), 3);
    assert_string_equal(names[0], "haswell-xen44");
    /* An empty variable counts as unset. */
    assert_int_equal(setenv("XENSIM_PROFILE_DIR", "", 1), 0);
    assert_string_equal(xsim_cost_profile_dir(), XENSIM_PROFILE_DIR_INSTALLED);
}

static void test_env_wins(void **state)
{
    (void)state;
    assert_int_equal(setenv("XENSIM_PROFILE_DIR", "/elsewhere", 1), 0);
    assert_string_equal(xsim_cost_profile_dir(), "/elsewhere");
    assert_int_equal(unsetenv("XENSIM_PROFILE_DIR"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_installed_dir_when_tree_gone),
        cmocka_unit_test(test_env_wins),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
