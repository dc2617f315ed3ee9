/*
 * measure.c - log-linear histograms and batch means; see measure.h.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "xensim/measure.h"

#define SUB_BITS 7 /* 128 buckets per power of two */
#define EXACT    (2u << SUB_BITS)

/* Inline for xsim_hist_add: a shared library's exported function is not
 * inlined into its callers in the same file (it could be interposed). */
static inline unsigned int index_of(uint64_t v)
{
    unsigned int e, shift;

    if (v < EXACT)
        return (unsigned int)v;
    e = 63u - (unsigned int)__builtin_clzll(v);
    shift = e - SUB_BITS;
    return (shift << SUB_BITS) + (unsigned int)(v >> shift);
}

unsigned int xsim_hist_index(uint64_t v)
{
    return index_of(v);
}

void xsim_hist_bucket_range(unsigned int index, uint64_t *lo, uint64_t *hi)
{
    unsigned int shift;
    uint64_t sub;

    if (index < EXACT) {
        *lo = *hi = index;
        return;
    }
    shift = (index >> SUB_BITS) - 1;
    sub = index - ((uint64_t)shift << SUB_BITS);
    *lo = sub << shift;
    *hi = *lo + (((uint64_t)1 << shift) - 1);
}

/* The counter of bucket `index`, its block allocated if need be; NULL when
 * out of memory. */
static inline uint64_t *counter(struct xsim_hist *h, unsigned int index)
{
    uint64_t **b = &h->block[index >> XSIM_HIST_BLOCK_BITS];

    if (*b == NULL) {
        *b = calloc(XSIM_HIST_BLOCK, sizeof(**b));
        if (*b == NULL)
            return NULL;
    }
    return &(*b)[index & (XSIM_HIST_BLOCK - 1)];
}

double xsim_sum_mean(const struct xsim_sum *s, uint64_t n)
{
    long double sum = (long double)s->hi * 0x1p64L + (long double)s->lo;

    return n != 0 ? (double)(sum / (long double)n) : 0.0;
}

int xsim_hist_add(struct xsim_hist *h, uint64_t v)
{
    uint64_t *c = counter(h, index_of(v));

    if (c == NULL)
        return -ENOMEM;
    (*c)++;
    if (h->n == 0 || v < h->min)
        h->min = v;
    if (v > h->max)
        h->max = v;
    h->n++;
    xsim_sum_add(&h->sum, v);
    return 0;
}

/* The nearest rank of quantile q among n > 0 values (1..n). */
static uint64_t rank_of(uint64_t n, double q)
{
    uint64_t rank = (uint64_t)ceil(q * (double)n);

    return rank == 0 ? 1 : rank;
}

static uint64_t clamp_mid(const struct xsim_hist *h, unsigned int index)
{
    uint64_t lo, hi, mid;

    xsim_hist_bucket_range(index, &lo, &hi);
    mid = lo + (hi - lo) / 2;
    if (mid < h->min)
        mid = h->min;
    if (mid > h->max)
        mid = h->max;
    return mid;
}

void xsim_hist_quantiles(const struct xsim_hist *h, const double *q, size_t nq, uint64_t *out)
{
    uint64_t rank[16], acc = 0, next;
    size_t i = 0, m = 0;

    /* Up to 16 quantiles asked in increasing order share one walk over
     * the counters; the rest, and any q outside (0, 1), are answered one
     * by one. */
    while (m < nq && m < 16 && h->n != 0 && q[m] > 0 && q[m] < 1 && (m == 0 || q[m] >= q[m - 1])) {
        rank[m] = rank_of(h->n, q[m]);
        m++;
    }
    for (size_t k = m; k < nq; k++)
        out[k] = xsim_hist_quantile(h, q[k]);
    if (m == 0)
        return;
    next = rank[0];
    for (unsigned int k = 0; k < XSIM_HIST_NBLOCKS; k++) {
        const uint64_t *b = h->block[k];
        if (b == NULL)
            continue;
        for (unsigned int j = 0; j < XSIM_HIST_BLOCK; j++) {
            acc += b[j];
            if (acc < next)
                continue;
            do
                out[i++] = clamp_mid(h, k * XSIM_HIST_BLOCK + j);
            while (i < m && acc >= rank[i]);
            if (i == m)
                return;
            next = rank[i];
        }
    }
    while (i < m)
        out[i++] = h->max;
}

uint64_t xsim_hist_quantile(const struct xsim_hist *h, double q)
{
    uint64_t rank, acc = 0;

    if (h->n == 0)
        return 0;
    if (!(q > 0))
        return h->min;
    if (q >= 1)
        return h->max;
    rank = rank_of(h->n, q);
    for (unsigned int k = 0; k < XSIM_HIST_NBLOCKS; k++) {
        const uint64_t *b = h->block[k];
        if (b == NULL)
            continue; /* 128 empty buckets */
        for (unsigned int j = 0; j < XSIM_HIST_BLOCK; j++) {
            acc += b[j];
            if (acc >= rank)
                return clamp_mid(h, k * XSIM_HIST_BLOCK + j);
        }
    }
    return h->max;
}

double xsim_hist_mean(const struct xsim_hist *h)
{
    return xsim_sum_mean(&h->sum, h->n);
}

int xsim_hist_merge(struct xsim_hist *dst, const struct xsim_hist *src)
{
    if (src->n == 0)
        return 0;
    /* Every block first, so that running out of memory changes nothing. */
    for (unsigned int k = 0; k < XSIM_HIST_NBLOCKS; k++) {
        if (src->block[k] != NULL && counter(dst, k * XSIM_HIST_BLOCK) == NULL)
            return -ENOMEM;
    }
    for (unsigned int k = 0; k < XSIM_HIST_NBLOCKS; k++) {
        if (src->block[k] == NULL)
            continue;
        for (unsigned int j = 0; j < XSIM_HIST_BLOCK; j++)
            dst->block[k][j] += src->block[k][j];
    }
    if (dst->n == 0 || src->min < dst->min)
        dst->min = src->min;
    if (src->max > dst->max)
        dst->max = src->max;
    dst->n += src->n;
    xsim_sum_add(&dst->sum, src->sum.lo);
    dst->sum.hi += src->sum.hi;
    return 0;
}

void xsim_hist_free(struct xsim_hist *h)
{
    for (unsigned int k = 0; k < XSIM_HIST_NBLOCKS; k++)
        free(h->block[k]);
    memset(h, 0, sizeof(*h));
}

/* ---- batch means ---- */

void xsim_bm_init(struct xsim_batchmeans *b)
{
    memset(b, 0, sizeof(*b));
    b->size = 1;
}

void xsim_bm_add(struct xsim_batchmeans *b, double x)
{
    b->n++;
    b->cur += x;
    if (++b->in_cur < b->size)
        return;
    b->sum[b->k++] = b->cur;
    b->cur = 0;
    b->in_cur = 0;
    if (b->k < XSIM_BM_MAX)
        return;
    /* Full: merge neighbours, so that the batches stay in sample order. */
    for (unsigned int i = 0; i < XSIM_BM_MAX / 2; i++)
        b->sum[i] = b->sum[2 * i] + b->sum[2 * i + 1];
    b->k = XSIM_BM_MAX / 2;
    b->size *= 2;
}

bool xsim_bm_ci95(const struct xsim_batchmeans *b, double *mean, double *half)
{
    double m = 0, ss = 0;

    *mean = 0;
    *half = 0;
    if (b->k < 8)
        return false;
    for (unsigned int i = 0; i < b->k; i++)
        m += b->sum[i] / (double)b->size;
    m /= b->k;
    for (unsigned int i = 0; i < b->k; i++) {
        double d = b->sum[i] / (double)b->size - m;
        ss += d * d;
    }
    *mean = m;
    *half = xsim_t975(b->k - 1) * sqrt(ss / (double)(b->k - 1) / (double)b->k);
    return true;
}

double xsim_t975(unsigned int df)
{
    /* Student t 0.975 quantiles for 1..30 degrees of freedom (standard
     * tables, e.g. NIST/SEMATECH e-Handbook of Statistical Methods 1.3.6.7.2). */
    static const double t[30] = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306,
                                 2.262,  2.228, 2.201, 2.179, 2.160, 2.145, 2.131, 2.120,
                                 2.110,  2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
                                 2.060,  2.056, 2.052, 2.048, 2.045, 2.042};
    const double z = 1.959964;
    double n = df;

    if (df == 0)
        return INFINITY;
    if (df <= 30)
        return t[df - 1];
    /* Cornish-Fisher expansion of t in powers of 1/df (Abramowitz and
     * Stegun 26.7.5); within 1e-4 of the tables above df = 30. */
    return z + (z * z * z + z) / (4 * n) + (5 * pow(z, 5) + 16 * z * z * z + 3 * z) / (96 * n * n);
}
