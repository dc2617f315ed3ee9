/*
 * policy.h - test helper: a scheduling policy from its spec, or the
 * calling test fails with the parser's message. Header only, as it fails
 * through CMocka: include after <cmocka.h>.
 */
#ifndef XSIM_TEST_POLICY_H
#define XSIM_TEST_POLICY_H

#include "xensim/world.h"

static inline struct xsim_policy *th_policy(const char *spec)
{
    struct xsim_error err;
    struct xsim_policy *p = xsim_policy_create(spec, &err);

    if (p == NULL)
        fail_msg("policy %s: %s", spec, err.text);
    return p;
}

#endif
