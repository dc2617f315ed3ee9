/*
 * explain.h - a run's interleaving around its switches, for people
 * (private to libxensim; `replay --explain`).
 */
#ifndef XSIM_EXPLAIN_H
#define XSIM_EXPLAIN_H

#include <stdio.h>

#include "xensim/scenario.h"
#include "xensim/world.h"

/* After a run with config.keep_points: write the switches of the run's
 * choice list with the scheduling points around each, then the failures. */
void xsim_explain_write(const struct xsim_world *w, const struct xsim_report *rep, FILE *out);

#endif
