/*
 * cost.h - cost profiles: how much virtual time each VM exit, hypercall,
 * injection or access costs, and which hardware assists are on.
 *
 * A profile is JSON (read with jansson):
 *   {
 *     "name": "skylake-xen-4.17",
 *     "source": "where the figures come from",
 *     "apicv": false,               // EOI and ICR writes without exits
 *     "posted_interrupts": false,   // injection without an exit at the target
 *     "costs": { "hypercall": 700, "exit_mmio": 2400, ..., "hpet_read": 2400 }
 *   }
 * Every key of "costs" is either a reason name (xsim_cost_reason_name) or a
 * named extra cost that a hardware model asks for with xsim_cost_named().
 * A value may be a number of ns or {"ns": N, "source": "..."}.
 */
#ifndef XENSIM_COST_H
#define XENSIM_COST_H

#include <stdbool.h>
#include <stdint.h>

#include "xensim/error.h"

#define XSIM_COST_MAX_NAMED 64

struct xsim_cost_named {
    char name[32];
    uint64_t ns;
};

/* Values match enum xsim_cost_reason in world.h. */
#define XSIM_COST_REASONS 17

struct xsim_cost_profile {
    char name[64];
    bool apicv;
    bool posted_interrupts;
    uint64_t ns[XSIM_COST_REASONS];
    struct xsim_cost_named named[XSIM_COST_MAX_NAMED];
    unsigned int nnamed;
};

/* The built-in defaults (see cost.c for each figure's source). */
void xsim_cost_profile_default(struct xsim_cost_profile *p);

/* Load a profile from a JSON file or string over the defaults. Returns 0 or
 * -EINVAL with `err` filled (file, line, column, what was expected). */
int xsim_cost_profile_load_file(struct xsim_cost_profile *p, const char *path,
                                struct xsim_error *err);
int xsim_cost_profile_load_string(struct xsim_cost_profile *p, const char *json,
                                  struct xsim_error *err);

/* Set a cost by name (reason or extra); -EINVAL for an unknown reason-like
 * name is not possible: unknown names become extras; -ENOSPC if full. */
int xsim_cost_profile_set(struct xsim_cost_profile *p, const char *name, uint64_t ns);
/* Look up a named cost; returns `fallback` if absent. */
uint64_t xsim_cost_profile_get(const struct xsim_cost_profile *p, const char *name,
                               uint64_t fallback);

#endif
