/*
 * evq.c - radix heap of (time, key) entries; see evq.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "world/evq.h"

void xsim_evq_init(struct xsim_evq *q)
{
    memset(q, 0, sizeof(*q));
    q->next_seq = 1;
}

void xsim_evq_free(struct xsim_evq *q)
{
    for (int i = 0; i < 65; i++)
        free(q->b[i].e);
    free(q->seqs);
    free(q->pending);
    free(q->free_list);
    memset(q, 0, sizeof(*q));
}

static inline unsigned int bucket_of(const struct xsim_evq *q, uint64_t time)
{
    uint64_t x = time ^ q->last;

    return x == 0 ? 0 : 64 - (unsigned int)__builtin_clzll(x);
}

static int append(struct xsim_evq *q, unsigned int k, struct xsim_evq_entry ent)
{
    struct xsim_evq_bucket *b = &q->b[k];

    if (b->n == b->cap) {
        uint32_t cap = b->cap ? b->cap * 2 : 64;
        struct xsim_evq_entry *e = realloc(b->e, (size_t)cap * sizeof(*e));
        if (e == NULL)
            return -ENOMEM;
        b->e = e;
        b->cap = cap;
    }
    b->e[b->n++] = ent;
    if (k > 0)
        q->nonempty |= (uint64_t)1 << (k - 1);
    return 0;
}

/* An event before `last` but not before the last popped time: a peek
 * moved `last` up to the earliest pending event (or a tombstone) and a
 * vCPU behind it schedules something sooner. It belongs in bucket 0, kept
 * sorted by (time, key) with every time <= last: before the first entry
 * that is later. */
static int insert_early(struct xsim_evq *q, struct xsim_evq_entry ent)
{
    struct xsim_evq_bucket *b = &q->b[0];
    uint32_t i;

    if (append(q, 0, ent) != 0)
        return -ENOMEM;
    i = b->n - 1;
    while (i > q->head0 && b->e[i - 1].time > ent.time) {
        b->e[i] = b->e[i - 1];
        i--;
    }
    b->e[i] = ent;
    return 0;
}

static inline bool is_pending(const struct xsim_evq *q, uint64_t idx)
{
    return (q->pending[idx >> 6] >> (idx & 63)) & 1;
}

static inline void set_pending(struct xsim_evq *q, uint64_t idx, bool on)
{
    if (on)
        q->pending[idx >> 6] |= (uint64_t)1 << (idx & 63);
    else
        q->pending[idx >> 6] &= ~((uint64_t)1 << (idx & 63));
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
        uint64_t *seqs = realloc(q->seqs, cap * sizeof(*seqs));
        if (seqs == NULL)
            return -ENOMEM;
        q->seqs = seqs;
        uint64_t *pend = realloc(q->pending, cap / 8);
        if (pend == NULL)
            return -ENOMEM;
        memset(pend + q->nodes_cap / 64, 0, (cap - q->nodes_cap) / 8);
        q->pending = pend;
        uint32_t *fl = realloc(q->free_list, cap * sizeof(*fl));
        if (fl == NULL)
            return -ENOMEM;
        q->free_list = fl;
        q->nodes_cap = cap;
    }
    *idx = (uint32_t)q->nodes_used++;
    return 0;
}

static void free_node(struct xsim_evq *q, uint32_t idx)
{
    set_pending(q, idx, false);
    q->free_list[q->nfree++] = idx;
}

uint64_t xsim_evq_push(struct xsim_evq *q, uint64_t time, uint32_t kind, void *fn, void *arg)
{
    uint32_t idx;
    struct xsim_evq_entry ent;

    if (alloc_node(q, &idx) != 0)
        return 0;
    if (time < q->popped)
        time = q->popped;
    uint64_t seq = q->next_seq++;
    q->seqs[idx] = seq;
    set_pending(q, idx, true);
    ent.time = time;
    ent.key = (seq << XSIM_EVQ_IDX_BITS) | idx;
    ent.fn = fn;
    ent.arg = arg;
    ent.kind = kind;
    if ((time < q->last ? insert_early(q, ent) : append(q, bucket_of(q, time), ent)) != 0) {
        free_node(q, idx);
        return 0;
    }
    q->size++;
    return ent.key;
}

static int cmp_key(const void *a, const void *b)
{
    uint64_t x = ((const struct xsim_evq_entry *)a)->key;
    uint64_t y = ((const struct xsim_evq_entry *)b)->key;

    return x < y ? -1 : x > y;
}

/* Make bucket 0's head the earliest live event; false if none is left. */
static bool normalize(struct xsim_evq *q)
{
    struct xsim_evq_bucket *b0 = &q->b[0];

    for (;;) {
        while (q->head0 < b0->n) {
            uint32_t idx = (uint32_t)(b0->e[q->head0].key & XSIM_EVQ_MAX);
            if (is_pending(q, idx))
                break;
            /* A cancelled event's tombstone: now its index can be reused. */
            q->free_list[q->nfree++] = idx;
            q->head0++;
        }
        if (q->head0 < b0->n)
            return true;
        b0->n = 0;
        q->head0 = 0;
        if (q->nonempty == 0)
            return false;
        unsigned int k = 1 + (unsigned int)__builtin_ctzll(q->nonempty);
        struct xsim_evq_bucket *bk = &q->b[k];
        uint64_t min = UINT64_MAX;
        /* Tombstones are moved like live entries: checking each one would
         * touch its node, a cache miss per move at 10^6 pending. A
         * tombstone's time may become `last`; no live entry is earlier. */
        for (uint32_t i = 0; i < bk->n; i++) {
            if (bk->e[i].time < min)
                min = bk->e[i].time;
        }
        q->nonempty &= ~((uint64_t)1 << (k - 1));
        /* Every entry of bucket k differs from the new `last` below bit
         * k-1, so each moves to a lower bucket. If an append fails for
         * lack of memory the entry stays here and is scanned again. */
        q->last = min;
        uint32_t keep = 0;
        for (uint32_t i = 0; i < bk->n; i++) {
            struct xsim_evq_entry ent = bk->e[i];
            if (append(q, bucket_of(q, ent.time), ent) != 0)
                bk->e[keep++] = ent;
        }
        bk->n = keep;
        if (keep > 0)
            q->nonempty |= (uint64_t)1 << (k - 1);
        if (b0->n > 1)
            qsort(b0->e, b0->n, sizeof(b0->e[0]), cmp_key);
    }
}

bool xsim_evq_peek(struct xsim_evq *q, uint64_t *time)
{
    if (q->size == 0 || !normalize(q))
        return false;
    *time = q->b[0].e[q->head0].time;
    return true;
}

bool xsim_evq_pop(struct xsim_evq *q, uint64_t *time, uint32_t *kind, void **fn, void **arg)
{
    if (q->size == 0 || !normalize(q))
        return false;
    struct xsim_evq_entry ent = q->b[0].e[q->head0++];
    q->popped = ent.time;
    *time = ent.time;
    *kind = ent.kind;
    *fn = ent.fn;
    *arg = ent.arg;
    free_node(q, (uint32_t)(ent.key & XSIM_EVQ_MAX));
    q->size--;
    return true;
}

bool xsim_evq_cancel(struct xsim_evq *q, uint64_t handle)
{
    uint64_t idx = handle & XSIM_EVQ_MAX;
    uint64_t seq = handle >> XSIM_EVQ_IDX_BITS;

    if (handle == 0 || idx >= q->nodes_used || q->seqs[idx] != seq || !is_pending(q, idx))
        return false;
    /* Leave the entry as a tombstone; its index is freed when it is
     * dropped at the head of bucket 0. */
    set_pending(q, idx, false);
    q->size--;
    return true;
}
