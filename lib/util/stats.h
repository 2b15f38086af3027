/*
 * Order statistics of small samples (repetitions of a cell), defined once
 * for the workloads, plot, compare and the report.
 */
#ifndef DLBENCH_UTIL_STATS_H
#define DLBENCH_UTIL_STATS_H

#include <stddef.h>
#include <stdint.h>

/* Median of @n values; sorts @v in place.  0 for n == 0. */
double stats_median(double *v, size_t n);
uint64_t stats_median_u64(uint64_t *v, size_t n);

/*
 * 95% percentile-bootstrap interval of the median of @v (@n values,
 * unchanged), from @resamples resamples drawn with the seed @seed.  Sets
 * *lo and *hi; returns -1 (and sets both to the median) when n < 2.
 */
int stats_median_ci(const double *v, size_t n, unsigned resamples, uint64_t seed, double *lo,
		    double *hi);

/*
 * The same for the ratio median(b) / median(a) of two independent samples
 * (each resampled on its own).  Returns -1 when a sample is empty or a
 * resampled median of @a is 0.
 */
int stats_ratio_ci(const double *a, size_t na, const double *b, size_t nb, unsigned resamples,
		   uint64_t seed, double *lo, double *hi);

#endif
