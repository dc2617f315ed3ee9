/*
 * broken_fifo.h - test-only variants of the FIFO event channel ABI, each
 * breaking one rule of the FIFO protocol, to measure how fast the tests
 * and the explorer catch them.
 */
#ifndef XSIM_TEST_BROKEN_FIFO_H
#define XSIM_TEST_BROKEN_FIFO_H

#include "xensim/guest/xg_evtchn.h"

/* Unmask clears MASKED whatever BUSY says (Xen is mid-link on the word). */
extern const struct xg_evtchn_ops broken_fifo_unmask_busy_ops;
/* Close returns while the port is still LINKED on a queue. */
extern const struct xg_evtchn_ops broken_fifo_close_linked_ops;
/* The walk re-reads HEAD from the control block for every event instead of
 * following LINK: HEAD is stale once the walk is inside a list. */
extern const struct xg_evtchn_ops broken_fifo_stale_head_ops;
/* The upcall takes READY before clearing upcall_pending (invariant 1). */
extern const struct xg_evtchn_ops broken_fifo_ready_order_ops;

#endif
