/*
 * Log-linear latency histograms (the HDR histogram layout).
 *
 * No HDR histogram library is packaged in Debian 12, so this one is written
 * here.  Values below 2^HIST_SUB_BITS are counted exactly; above, each power
 * of two is split into 2^(HIST_SUB_BITS-1) equal buckets, so a bucket's width
 * is at most 1/64 of its lower bound: the value reported for a bucket (its
 * midpoint) is within 0.8% of any value recorded in it.  Recording is a
 * count-leading-zeros, a shift and one increment of a per-thread array: no
 * atomics, no shared cache lines.  Each thread owns one histogram; they are
 * merged after the threads stop.
 */
#ifndef DLBENCH_HISTOGRAM_H
#define DLBENCH_HISTOGRAM_H

#include <stdint.h>
#include <stdio.h>

#define HIST_SUB_BITS 7
#define HIST_SUB_COUNT (1u << HIST_SUB_BITS) /* 128 exact values */
#define HIST_HALF (HIST_SUB_COUNT / 2)	     /* buckets per power of two */
#define HIST_BUCKETS (HIST_SUB_COUNT + (64 - HIST_SUB_BITS) * HIST_HALF)

struct histogram {
	uint64_t count;
	uint64_t max;
	uint64_t min;
	uint64_t buckets[HIST_BUCKETS];
};

static inline unsigned histogram_bucket(uint64_t v)
{
	unsigned msb, shift;

	if (v < HIST_SUB_COUNT)
		return (unsigned)v;
	msb = 63u - (unsigned)__builtin_clzll(v); /* >= HIST_SUB_BITS */
	shift = msb - (HIST_SUB_BITS - 1);
	/* v >> shift lies in [HIST_HALF, HIST_SUB_COUNT) */
	return HIST_SUB_COUNT + (msb - HIST_SUB_BITS) * HIST_HALF +
	       (unsigned)((v >> shift) - HIST_HALF);
}

static inline void histogram_record(struct histogram *h, uint64_t v)
{
	h->buckets[histogram_bucket(v)]++;
	h->count++;
	if (v > h->max)
		h->max = v;
	if (v < h->min)
		h->min = v;
}

void histogram_init(struct histogram *h);
struct histogram *histogram_new(void);
void histogram_merge(struct histogram *into, const struct histogram *from);
/* Lower bound and width of bucket @b. */
uint64_t histogram_bucket_low(unsigned b);
uint64_t histogram_bucket_width(unsigned b);
/* The value a bucket reports: its midpoint (exact below 128). */
uint64_t histogram_bucket_value(unsigned b);
/* The value at quantile @q (0..1); 0 for an empty histogram.  The exact
 * maximum is returned for q == 1. */
uint64_t histogram_quantile(const struct histogram *h, double q);
double histogram_mean(const struct histogram *h);
/* Writes "value_ns,count" rows (bucket midpoints, non-empty buckets only)
 * after a header line. */
int histogram_write_csv(const struct histogram *h, FILE *f);

#endif
