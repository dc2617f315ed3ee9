/*
 * fixture.h - a scenario-like schema that uses every field type, shared by the
 * jsonschema unit test, its fuzz target and the fuzz smoke driver.
 */
#ifndef XSIM_TEST_JSONSCHEMA_FIXTURE_H
#define XSIM_TEST_JSONSCHEMA_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scenario/jsonschema.h"

enum fx_callback { FX_CB_VECTOR, FX_CB_IRQ, FX_CB_PERCPU };

struct fx_machine {
    unsigned int vcpus; /* INT [1, 128] */
    uint64_t memory_mb; /* UINT64 [1, 1048576] */
    int callback;       /* ENUM */
    bool apicv;         /* BOOL */
    uint16_t ports;     /* UINT64, bounded by the member's width */
};

struct fx_workload {
    char name[16];      /* STRING (copied) */
    double rate_per_s;  /* RATE [0, 1e9] */
    uint64_t period_ns; /* DURATION */
    float weight;       /* DOUBLE [0, 1] into a float */
    int32_t vcpu;       /* INT [-1, 127] */
};

struct fx_limit {
    char name[8]; /* MAP_OF key */
    uint32_t value;
};

struct fx_scenario {
    char name[32];
    const char *description; /* borrowed from the doc */
    uint64_t seed;           /* full 64 bits, strings above INT64_MAX */
    int64_t offset;          /* INT, unbounded */
    uint64_t tick_ns;        /* DURATION [1us, 1s] */
    double load;             /* DOUBLE [0, 1] */
    struct fx_machine machine;
    struct fx_workload workloads[4];
    unsigned int nworkloads;
    int8_t levels[3]; /* ARRAY_OF INT [-5, 5] */
    uint8_t nlevels;
    struct fx_limit limits[2]; /* MAP_OF stored */
    size_t nlimits;
    uint64_t costs[4]; /* filled by a setter: hypercall, exit, inject, other */
    unsigned int ncosts;
    unsigned int extras_seen; /* setter on an ANY field */
};

extern const struct xsim_schema fx_scenario_schema;

/* Defaults the check does not touch when a key is absent. */
void fx_scenario_defaults(struct fx_scenario *s);

#endif
