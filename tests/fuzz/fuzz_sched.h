/*
 * fuzz_sched.h - the schedule fuzz target's entry points, for the drivers
 * that are not libFuzzer (standalone_main.c).
 */
#ifndef XSIM_TESTS_FUZZ_SCHED_H
#define XSIM_TESTS_FUZZ_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Count findings instead of aborting at the first (default false). */
extern bool xsim_fuzz_keep_going;
extern uint64_t xsim_fuzz_findings;
/* The scenario, when set before the first input (else the environment's
 * or the built-in default). */
extern const char *xsim_fuzz_scenario;
uint64_t xsim_fuzz_executions(void);

#endif
