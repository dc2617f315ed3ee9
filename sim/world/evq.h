/*
 * evq.h - the timed-event queue: a radix heap keyed by (time, sequence).
 *
 * A discrete-event simulation never schedules before the last event it
 * popped, which is exactly what a radix heap (Ahuja, Mehlhorn, Orlin and
 * Tarjan, 1990) needs: an event lives in bucket k = the position of the
 * highest bit where its time differs from the last popped time, pushes are
 * appends, and a pop that finds bucket 0 empty redistributes the lowest
 * non-empty bucket around its minimum. Every move is a sequential append,
 * so the queue stays fast at 10^6 pending events where a pointer heap
 * would miss the cache on every level. Equal times pop in scheduling order.
 * Cancelled events are left as tombstones (their pending bit is clear) and
 * dropped when they reach the head.
 */
#ifndef XSIM_EVQ_H
#define XSIM_EVQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define XSIM_EVQ_IDX_BITS 24 /* pool index bits in a handle: 16M pending events */
#define XSIM_EVQ_MAX      ((1u << XSIM_EVQ_IDX_BITS) - 1)

struct xsim_evq_entry {
    uint64_t time;
    uint64_t key; /* seq << 24 | pool index: orders equal times by seq */
    void *fn;
    void *arg;
    uint32_t kind;
};

struct xsim_evq_bucket {
    struct xsim_evq_entry *e;
    uint32_t n, cap;
};

struct xsim_evq {
    struct xsim_evq_bucket b[65];
    uint32_t head0;    /* bucket 0 is popped from here, in key order */
    uint64_t nonempty; /* bit k-1: bucket k (1..64) has entries */
    uint64_t last;     /* the heap's base: <= every pending event's time */
    uint64_t popped;   /* time of the last popped event */
    size_t size;       /* live events */
    /* Per pool index: the sequence number of its event (to validate
     * handles) and a "pending" bit. The bitmap is what pops consult, so
     * they never touch the larger sequence array. A cancelled index stays
     * allocated until its tombstone is dropped. */
    uint64_t *seqs;
    uint64_t *pending;
    uint32_t *free_list;
    size_t nfree, nodes_cap, nodes_used;
    uint64_t next_seq;
};

void xsim_evq_init(struct xsim_evq *q);
void xsim_evq_free(struct xsim_evq *q);
/* Push an event at `time` (raised to the last popped time if earlier; an
 * earlier time than every pending event's is fine).
 * Returns the handle (seq << 24 | index), or 0 if full or out of memory. */
uint64_t xsim_evq_push(struct xsim_evq *q, uint64_t time, uint32_t kind, void *fn, void *arg);
/* Earliest event's time; false if empty. Amortised O(1). */
bool xsim_evq_peek(struct xsim_evq *q, uint64_t *time);
/* Remove the earliest event; fills its fields. False if empty. */
bool xsim_evq_pop(struct xsim_evq *q, uint64_t *time, uint32_t *kind, void **fn, void **arg);
bool xsim_evq_cancel(struct xsim_evq *q, uint64_t handle);

#endif
