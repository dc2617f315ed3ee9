/*
 * scenario_internal.h - what the scenario loader (scenario.c) and the
 * scenario's schema tables (scenario_schema.c) share.
 */
#ifndef XSIM_SCENARIO_INTERNAL_H
#define XSIM_SCENARIO_INTERNAL_H

#include "xensim/scenario.h"

/* A disk's features before the scenario says anything: all offered. */
void xsim__scn_disk_features_default(struct xsim_scn_disk_features *f);

#endif /* XSIM_SCENARIO_INTERNAL_H */
