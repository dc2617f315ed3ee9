/*
 * broken_2l.h - test-only variants of the 2-level event channel ABI, each
 * breaking exactly one guest invariant of docs/invariants.md, to measure how fast
 * the explorer catches the historical bugs.
 */
#ifndef XSIM_TEST_BROKEN_2L_H
#define XSIM_TEST_BROKEN_2L_H

#include "xensim/guest/xg_evtchn.h"

/* Invariant 4: unmask clears the mask without re-checking pending. */
extern const struct xg_evtchn_ops broken_unmask_ops;
/* Invariant 1: the upcall takes pending_sel before clearing upcall_pending. */
extern const struct xg_evtchn_ops broken_upcall_order_ops;
/* Invariant 3: a closed port's map is not reset to CPU 0. */
extern const struct xg_evtchn_ops broken_close_map_ops;

#endif
