/*
 * cost_internal.h - what cost.c and cost_load.c share: the number of named
 * extras, so the loader's schema can be checked against cost.c's list.
 */
#ifndef XSIM_COST_INTERNAL_H
#define XSIM_COST_INTERNAL_H

/* Entries of cost.c's extra_names ("spin"); both files assert it. */
#define XSIM__COST_EXTRAS 1

#endif
