/*
 * replayfile.h - replay files: everything needed to reproduce one run bit
 * for bit: the scenario's text, the seed, the policy it ran under, the
 * recorded choice list, the digest and what failed.
 *
 *   {"xensim_replay": 1, "scenario_path": "...", "scenario": "<JSON text>",
 *    "seed": N, "policy": "pct:3", "guest": "xensim", "digest": "16 hex digits",
 *    "failed": ["oracle", ...],
 *    "choices": {"decisions": D, "switches": [[decision, entity], ...]}}
 * Entity 65535 is the timed-event pseudo-entity. "guest" names the guest
 * program that ran (a --guest plug-in's name; absent in older files: xensim's
 * own); replaying needs the same program.
 */
#ifndef XENSIM_REPLAYFILE_H
#define XENSIM_REPLAYFILE_H

#include <stdint.h>

#include "xensim/error.h"
#include "xensim/scenario.h"

/* A replay file names at most this many failed oracles (every one a
 * report can hold). */
#define XSIM_REPLAY_MAX_FAILED XSIM_MAX_ORACLES

struct xsim_replay {
    char *scenario_text; /* owned */
    char scenario_path[512];
    uint64_t seed;
    char policy[64];
    char guest[64];
    uint64_t digest;
    char failed[XSIM_REPLAY_MAX_FAILED][48];
    unsigned int nfailed;
    struct xsim_choices choices; /* owned */
};

int xsim_replay_write(const char *path, const struct xsim_scenario *s,
                      const struct xsim_report *rep, const struct xsim_choices *choices,
                      struct xsim_error *err);
int xsim_replay_read(const char *path, struct xsim_replay *r, struct xsim_error *err);
void xsim_replay_free(struct xsim_replay *r);

#endif
