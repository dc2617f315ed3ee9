/*
 * evq.h - the timed-event queue: a 4-ary min-heap keyed by (time, sequence)
 * with cache-line-aligned sibling groups, nodes in a pool so that events can
 * be cancelled by handle. Push and pop are O(log4 n); equal times pop in
 * scheduling order, which keeps runs deterministic.
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
};

struct xsim_evq_node {
    uint64_t seq;      /* 0 when free */
    uint32_t heap_pos; /* logical heap index while pending */
    uint32_t kind;
    void *fn;
    void *arg;
};

struct xsim_evq {
    struct xsim_evq_entry *raw; /* allocation */
    struct xsim_evq_entry *e;   /* e[i] is logical element i (aligned so children share lines) */
    size_t size, cap;
    struct xsim_evq_node *nodes;
    uint32_t *free_list;
    size_t nfree, nodes_cap, nodes_used;
    uint64_t next_seq;
};

void xsim_evq_init(struct xsim_evq *q);
void xsim_evq_free(struct xsim_evq *q);
/* Returns the handle (seq << 24 | index), or 0 if full or out of memory. */
uint64_t xsim_evq_push(struct xsim_evq *q, uint64_t time, uint32_t kind, void *fn, void *arg);
/* Earliest event's time; false if empty. */
static inline bool xsim_evq_peek(const struct xsim_evq *q, uint64_t *time)
{
    if (q->size == 0)
        return false;
    *time = q->e[0].time;
    return true;
}
/* Remove the earliest event; fills its fields. False if empty. */
bool xsim_evq_pop(struct xsim_evq *q, uint64_t *time, uint32_t *kind, void **fn, void **arg);
bool xsim_evq_cancel(struct xsim_evq *q, uint64_t handle);

#endif
