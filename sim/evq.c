/*
 * evq.c - 4-ary min-heap of (time, key) entries; see evq.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "evq.h"

#define NO_POS UINT32_MAX

void xsim_evq_init(struct xsim_evq *q)
{
    memset(q, 0, sizeof(*q));
    q->next_seq = 1;
}

void xsim_evq_free(struct xsim_evq *q)
{
    free(q->raw);
    free(q->nodes);
    free(q->free_list);
    memset(q, 0, sizeof(*q));
}

static inline bool less(const struct xsim_evq_entry *a, const struct xsim_evq_entry *b)
{
    return a->time < b->time || (a->time == b->time && a->key < b->key);
}

static inline void place(struct xsim_evq *q, size_t i, struct xsim_evq_entry ent)
{
    q->e[i] = ent;
    q->nodes[ent.key & XSIM_EVQ_MAX].heap_pos = (uint32_t)i;
}

static void sift_up(struct xsim_evq *q, size_t i, struct xsim_evq_entry ent)
{
    while (i > 0) {
        size_t parent = (i - 1) / 4;
        if (!less(&ent, &q->e[parent]))
            break;
        place(q, i, q->e[parent]);
        i = parent;
    }
    place(q, i, ent);
}

static void sift_down(struct xsim_evq *q, size_t i, struct xsim_evq_entry ent)
{
    size_t n = q->size;

    for (;;) {
        size_t c = 4 * i + 1, best;
        if (c >= n)
            break;
        best = c;
        size_t end = c + 4 < n ? c + 4 : n;
        for (size_t k = c + 1; k < end; k++) {
            if (less(&q->e[k], &q->e[best]))
                best = k;
        }
        if (!less(&q->e[best], &ent))
            break;
        place(q, i, q->e[best]);
        i = best;
    }
    place(q, i, ent);
}

static int grow_heap(struct xsim_evq *q)
{
    size_t cap = q->cap ? q->cap * 2 : 1024;
    /* Logical element i lives at raw[i + 3]: with a 64-byte aligned block and
     * 16-byte entries, the four children 4i+1..4i+4 of any element share one
     * cache line. */
    struct xsim_evq_entry *raw = aligned_alloc(64, (cap + 4) * sizeof(*raw));

    if (raw == NULL)
        return -ENOMEM;
    if (q->size > 0)
        memcpy(raw + 3, q->e, q->size * sizeof(*raw));
    free(q->raw);
    q->raw = raw;
    q->e = raw + 3;
    q->cap = cap;
    return 0;
}

static int alloc_node(struct xsim_evq *q, uint32_t *idx)
{
    if (q->nfree > 0) {
        *idx = q->free_list[--q->nfree];
        return 0;
    }
    if (q->nodes_used == q->nodes_cap) {
        size_t cap = q->nodes_cap ? q->nodes_cap * 2 : 1024;
        if (cap > (size_t)XSIM_EVQ_MAX + 1)
            cap = (size_t)XSIM_EVQ_MAX + 1;
        if (cap == q->nodes_cap)
            return -ENOSPC;
        struct xsim_evq_node *nodes = realloc(q->nodes, cap * sizeof(*nodes));
        if (nodes == NULL)
            return -ENOMEM;
        q->nodes = nodes;
        uint32_t *fl = realloc(q->free_list, cap * sizeof(*fl));
        if (fl == NULL)
            return -ENOMEM;
        q->free_list = fl;
        q->nodes_cap = cap;
    }
    *idx = (uint32_t)q->nodes_used++;
    return 0;
}

uint64_t xsim_evq_push(struct xsim_evq *q, uint64_t time, uint32_t kind, void *fn, void *arg)
{
    uint32_t idx;
    struct xsim_evq_entry ent;

    if (q->size == q->cap && grow_heap(q) != 0)
        return 0;
    if (alloc_node(q, &idx) != 0)
        return 0;
    struct xsim_evq_node *nd = &q->nodes[idx];
    nd->seq = q->next_seq++;
    nd->kind = kind;
    nd->fn = fn;
    nd->arg = arg;
    ent.time = time;
    ent.key = (nd->seq << XSIM_EVQ_IDX_BITS) | idx;
    q->size++;
    sift_up(q, q->size - 1, ent);
    return ent.key;
}

static void remove_at(struct xsim_evq *q, size_t i)
{
    uint32_t idx = (uint32_t)(q->e[i].key & XSIM_EVQ_MAX);
    struct xsim_evq_entry last;

    q->nodes[idx].seq = 0;
    q->nodes[idx].heap_pos = NO_POS;
    q->free_list[q->nfree++] = idx;
    q->size--;
    if (i == q->size)
        return;
    last = q->e[q->size];
    if (i > 0 && less(&last, &q->e[(i - 1) / 4]))
        sift_up(q, i, last);
    else
        sift_down(q, i, last);
}

bool xsim_evq_pop(struct xsim_evq *q, uint64_t *time, uint32_t *kind, void **fn, void **arg)
{
    if (q->size == 0)
        return false;
    struct xsim_evq_node *nd = &q->nodes[q->e[0].key & XSIM_EVQ_MAX];
    *time = q->e[0].time;
    *kind = nd->kind;
    *fn = nd->fn;
    *arg = nd->arg;
    remove_at(q, 0);
    return true;
}

bool xsim_evq_cancel(struct xsim_evq *q, uint64_t handle)
{
    uint64_t idx = handle & XSIM_EVQ_MAX;
    uint64_t seq = handle >> XSIM_EVQ_IDX_BITS;

    if (handle == 0 || idx >= q->nodes_used)
        return false;
    struct xsim_evq_node *nd = &q->nodes[idx];
    if (nd->seq != seq || nd->heap_pos == NO_POS || nd->heap_pos >= q->size)
        return false;
    remove_at(q, nd->heap_pos);
    return true;
}
