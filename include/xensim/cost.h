/*
 * cost.h - cost profiles: how much virtual time each VM exit, hypercall,
 * injection or access costs, which hardware assists are on, and where each
 * figure comes from.
 *
 * A profile is a JSON file:
 *   {
 *     "name": "haswell-xen44",            // required
 *     "description": "what machine it stands for",
 *     "source": "the references behind the figures",
 *     "apicv": false,              // virtual interrupt delivery, x2APIC virtualization
 *     "posted_interrupts": false,  // needs apicv
 *     "costs": {
 *       "hypercall": {"ns": 600, "source": "paper + table, manual section, or
 *                                          the Xen code path and the derivation"},
 *       "exit_mmio": 2000,         // a bare number: ns with no source
 *       ...
 *     }
 *   }
 * Keys of "costs" are the reason names (xsim_cost_reason_name) and the named
 * extras hardware models ask for (xsim_cost_extra_name); anything else is an
 * error at its line and column, with a suggestion for a near miss. A file is
 * loaded over the built-in default (which equals the shipped profile
 * "haswell-xen44"): costs it does not name keep the default's figure and
 * source. Shipped profiles live in sim/profiles/ and name every cost with a
 * source; see docs/cost-model.md.
 */
#ifndef XENSIM_COST_H
#define XENSIM_COST_H

#include <stdbool.h>
#include <stdint.h>

#include "xensim/error.h"

#define XSIM_COST_MAX_NAMED  8
#define XSIM_COST_SOURCE_MAX 640 /* bytes of a source text, NUL included */

struct xsim_cost_named {
    char name[32];
    uint64_t ns;
    char source[XSIM_COST_SOURCE_MAX];
};

/* Values match enum xsim_cost_reason in world.h. */
#define XSIM_COST_REASONS 17

struct xsim_cost_profile {
    char name[64];
    char description[XSIM_COST_SOURCE_MAX];
    char source[XSIM_COST_SOURCE_MAX]; /* the profile's references */
    bool apicv;
    bool posted_interrupts;
    uint64_t ns[XSIM_COST_REASONS];
    char ns_source[XSIM_COST_REASONS][XSIM_COST_SOURCE_MAX]; /* "" = none given */
    struct xsim_cost_named named[XSIM_COST_MAX_NAMED];       /* the declared extras */
    unsigned int nnamed;
};

/* The built-in default: the profile "haswell-xen44", every value with its
 * source (a unit test keeps it equal to sim/profiles/haswell-xen44.json). */
void xsim_cost_profile_default(struct xsim_cost_profile *p);

/* The named extras hardware models may ask for, in order; NULL past the
 * end. */
const char *xsim_cost_extra_name(unsigned int i);

/* Load a profile from a JSON file or string over what `p` holds (fill it
 * with xsim_cost_profile_default first). Returns 0, or -EINVAL with `err`
 * filled (file, line, column, what was expected); -ENOENT and other
 * negative errnos when the file cannot be read. On error `p` may be partly
 * filled. */
int xsim_cost_profile_load_file(struct xsim_cost_profile *p, const char *path,
                                struct xsim_error *err);
int xsim_cost_profile_load_string(struct xsim_cost_profile *p, const char *json,
                                  struct xsim_error *err);

/* The directory of the shipped profiles: $XENSIM_PROFILE_DIR if set and not
 * empty, else the source tree's sim/profiles if that directory exists, else
 * the installed <datadir>/xensim/profiles. Borrowed. */
const char *xsim_cost_profile_dir(void);

/* Fill `p` from a profile name or a path, over the default. A value that
 * contains '/' or ends in ".json" is a path (a relative one resolves against
 * `relative_to_dir`, or the working directory when that is NULL or "");
 * anything else is the name of a shipped profile, `<name>.json` in
 * xsim_cost_profile_dir(). Returns 0; -ENOENT with `err` naming the
 * available profiles when there is no such name; else as
 * xsim_cost_profile_load_file. */
int xsim_cost_profile_resolve(struct xsim_cost_profile *p, const char *name_or_path,
                              const char *relative_to_dir, struct xsim_error *err);

/* The shipped profile names (file names less ".json"), sorted, into
 * names[0..max); returns how many there are (may exceed max), or a negative
 * errno when the directory cannot be read. */
int xsim_cost_profile_names(char (*names)[64], unsigned int max);

/* Set a cost by reason or extra name (its source becomes `source`, NULL =
 * ""). Returns 0, or -EINVAL for a name that is neither. */
int xsim_cost_profile_set(struct xsim_cost_profile *p, const char *name, uint64_t ns,
                          const char *source);
/* Look up a cost by reason or extra name; returns `fallback` if absent. */
uint64_t xsim_cost_profile_get(const struct xsim_cost_profile *p, const char *name,
                               uint64_t fallback);
/* The source text of a cost, or NULL for an unknown name. Borrowed. */
const char *xsim_cost_profile_source(const struct xsim_cost_profile *p, const char *name);

#endif
