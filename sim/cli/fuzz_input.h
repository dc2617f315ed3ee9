/*
 * fuzz_input.h - schedule fuzzing: what a fuzz input means for a run of a
 * scenario, shared by the fuzz targets (tests/fuzz/) and `xensim
 * fuzz-replay`, so that a finding converts to the same run bit for bit.
 *
 * An input is a header of XSIM_FUZZ_HEADER fault choices, then the
 * schedule. Any length is an input: missing header bytes are 0 ("as the
 * scenario says"), an empty schedule keeps the running vCPU going.
 *
 *   byte 0     flags: bit 0 clear: the schedule is dense, for the `bytes`
 *              policy (byte i picks among the candidates of decision i,
 *              modulo their number); set: it is sparse, records of three
 *              bytes [gap low, gap high, who]: at decision previous + 1 +
 *              gap (the first: gap) run vCPU who % vcpus, or the timed
 *              events when who is 255 (a lenient replay list: a choice that
 *              is not runnable keeps the running vCPU). Bit 1, with a dense
 *              schedule: it repeats (byte i is byte i % length, for the
 *              first XSIM_FUZZ_WRAP_BYTES decisions), so that a short input
 *              reaches the whole run; clear: past its end the running vCPU
 *              keeps going. Other bits: unused.
 *   bytes 1-2  seed: the scenario's seed plus this (little endian)
 *   bytes 3-4  fault instants: 0 as written; else every migration and
 *              power loss moves by the same amount, within [-E/2, 3T/4 - L]
 *              (E the earliest, L the latest end of one, T the stop time)
 *   byte 5     disk I/O errors: 0 as written; else read error rate
 *              (b >> 4) / 200, write error rate (b & 15) / 200 on every disk
 *   byte 6     backend response time: 0 as written; else every disk's
 *              latency times b / 64
 *   byte 7     timing gate (scenarios driven by time only): 0 the default
 *              (+time:50us); else +time:D with D = (b - 1) % 51 us
 *              (+time when 0)
 *
 * Every oracle the scenario's workloads can be judged by is armed
 * (lost_update, no_lost_events, blk_data, blk_no_lost_io, blk_durable with
 * a power loss, migration, timers and clock_monotonic with a timer
 * workload, ipis), whatever the scenario file arms.
 */
#ifndef XSIM_CLI_FUZZ_INPUT_H
#define XSIM_CLI_FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "xensim/error.h"
#include "xensim/scenario.h"

#define XSIM_FUZZ_HEADER     8
#define XSIM_FUZZ_WRAP_BYTES (1u << 20)

struct xsim_fuzz_target {
    char path[512];
    char *text; /* the scenario with every applicable oracle armed (owned) */
    size_t len;
    struct xsim_scenario base; /* `text`, loaded once */
    char gate[32];             /* the default gate suffix ("" or "+time:50us") */
    bool time_driven;
    /* Where runs write their --explain text (borrowed; NULL: nowhere): the
     * interleavings a target may feed back to the fuzzer. */
    FILE *explain;
};

/* Load the scenario at `path` and arm its oracles. 0, or a negative errno
 * with `err` filled. */
int xsim_fuzz_target_load(struct xsim_fuzz_target *t, const char *path, struct xsim_error *err);
void xsim_fuzz_target_free(struct xsim_fuzz_target *t);

/* Run one input. 0 with `rep` filled (rep->all_pass says whether every
 * oracle held; free it with xsim_report_free), or a negative errno when the
 * run could not be set up (never for any input of a target that loaded).
 * With `scn` not NULL, the scenario that ran (fault choices applied) is
 * loaded there for a replay file; the caller frees it. */
int xsim_fuzz_run(struct xsim_fuzz_target *t, const uint8_t *data, size_t size,
                  struct xsim_report *rep, struct xsim_scenario *scn);

/* Run one input and write its replay file to `path` (whether or not it
 * failed). 1 an oracle failed, 0 every oracle held, <0 error (`err`). */
int xsim_fuzz_write_replay(struct xsim_fuzz_target *t, const uint8_t *data, size_t size,
                           const char *path, struct xsim_report *rep, struct xsim_error *err);

#endif
