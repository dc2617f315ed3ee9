/*
 * measure.h - measurements for performance figures: a log-linear histogram
 * whose quantiles are within 0.4% of the exact sample quantile, and batch
 * means for the confidence interval of a mean computed from correlated
 * samples (waiting times in a queue are strongly correlated).
 */
#ifndef XENSIM_MEASURE_H
#define XENSIM_MEASURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Histogram of unsigned 64-bit values (ns). Values below 256 are counted
 * exactly; above, each power of two is split into 128 equal buckets, so a
 * bucket is at most 1/128 of its lower bound wide and a reported quantile
 * (the bucket's midpoint) is within 1/256 of any value in the bucket.
 * There are 7424 counters in blocks of 128 (one per power of two above the
 * exact range), each block allocated when a value first falls in it:
 * latencies cluster in a few powers of two, so a histogram touches a few
 * KiB rather than 58 KiB per run. The sum is kept exactly (128 bits).
 */
#define XSIM_HIST_BUCKETS     7424
#define XSIM_HIST_BLOCK_BITS  7
#define XSIM_HIST_BLOCK       (1u << XSIM_HIST_BLOCK_BITS)
#define XSIM_HIST_NBLOCKS     (XSIM_HIST_BUCKETS / XSIM_HIST_BLOCK)

/* An exact sum of 64-bit values: hi * 2^64 + lo. */
struct xsim_sum {
    uint64_t lo, hi;
};

static inline void xsim_sum_add(struct xsim_sum *s, uint64_t v)
{
    uint64_t lo = s->lo + v;

    s->hi += lo < v;
    s->lo = lo;
}

/* sum / n as a long double divide (exact while the sum is below 2^64);
 * 0 when n is 0. */
double xsim_sum_mean(const struct xsim_sum *s, uint64_t n);

struct xsim_hist {
    uint64_t *block[XSIM_HIST_NBLOCKS]; /* NULL until a value falls in it */
    uint64_t n, min, max;
    struct xsim_sum sum; /* the values' sum */
};

/* What a report says of a distribution (ns). */
struct xsim_dist_summary {
    uint64_t n;
    double mean; /* exact */
    uint64_t p50, p90, p99, p999, max;
};

/* Count one value. Returns 0 or -ENOMEM (the value is then not counted). */
int xsim_hist_add(struct xsim_hist *h, uint64_t v);
/* The q-quantile by nearest rank (the smallest value with at least q*n
 * values at or below it), as the midpoint of its bucket, clamped to
 * [min, max]; 0 when empty. q in [0, 1]. */
uint64_t xsim_hist_quantile(const struct xsim_hist *h, double q);
/* xsim_hist_quantile for each of q[0..nq) into out[]: one walk over the
 * counters when the q are in increasing order. */
void xsim_hist_quantiles(const struct xsim_hist *h, const double *q, size_t nq, uint64_t *out);
double xsim_hist_mean(const struct xsim_hist *h);
/* Add every count of `src` into `dst`. 0 or -ENOMEM. */
int xsim_hist_merge(struct xsim_hist *dst, const struct xsim_hist *src);
void xsim_hist_free(struct xsim_hist *h);

/* The bucket index of a value and the range [lo, hi] a bucket covers. */
unsigned int xsim_hist_index(uint64_t v);
void xsim_hist_bucket_range(unsigned int index, uint64_t *lo, uint64_t *hi);

/*
 * Batch means: samples in the order they were produced are grouped into
 * batches; once XSIM_BM_MAX batches are full, neighbours are merged and the
 * batch size doubles, so memory stays fixed however long the run. The
 * interval uses the completed batches only (at least XSIM_BM_MAX / 2 once
 * the first merge happened).
 */
#define XSIM_BM_MAX 64

struct xsim_batchmeans {
    double sum[XSIM_BM_MAX];
    uint64_t size;  /* samples per batch (starts at 1) */
    unsigned int k; /* completed batches */
    double cur;     /* sum of the batch being filled */
    uint64_t in_cur;
    uint64_t n;
};

void xsim_bm_init(struct xsim_batchmeans *b);
void xsim_bm_add(struct xsim_batchmeans *b, double x);
/* Mean of the completed batches and the half-width of its 95% confidence
 * interval (Student t with k-1 degrees of freedom). Returns false (and
 * leaves the outputs 0) with fewer than 8 completed batches. */
bool xsim_bm_ci95(const struct xsim_batchmeans *b, double *mean, double *half);

/* The 0.975 quantile of Student's t with `df` degrees of freedom (df >= 1;
 * large df tends to 1.96). */
double xsim_t975(unsigned int df);

#endif
