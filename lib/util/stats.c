/* Order statistics of small samples: see stats.h. */
#include "lib/util/stats.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "lib/util/rng.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

double stats_median(double *v, size_t n)
{
	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

uint64_t stats_median_u64(uint64_t *v, size_t n)
{
	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_u64);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The median of @n values drawn with replacement from @v (into @tmp).
 * rng % n: a bias of n / 2^64, nothing at repetition counts. */
static double resampled_median(const double *v, size_t n, double *tmp, uint64_t *rng)
{
	for (size_t i = 0; i < n; i++)
		tmp[i] = v[rng_next(rng) % n];
	return stats_median(tmp, n);
}

/* The 2.5% and 97.5% points of @k sorted-in-place estimates. */
static void percentile_interval(double *est, size_t k, double *lo, double *hi)
{
	qsort(est, k, sizeof(*est), cmp_double);
	*lo = est[(size_t)(0.025 * (double)(k - 1))];
	*hi = est[(size_t)ceil(0.975 * (double)(k - 1))];
}

int stats_median_ci(const double *v, size_t n, unsigned resamples, uint64_t seed, double *lo,
		    double *hi)
{
	double *est, *tmp;
	uint64_t rng = seed ? seed : 1;

	if (n < 2 || !resamples) {
		double m = n ? v[0] : 0;

		*lo = *hi = m;
		return -1;
	}
	est = malloc(resamples * sizeof(*est));
	tmp = malloc(n * sizeof(*tmp));
	if (!est || !tmp) {
		free(est);
		free(tmp);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < resamples; i++)
		est[i] = resampled_median(v, n, tmp, &rng);
	percentile_interval(est, resamples, lo, hi);
	free(est);
	free(tmp);
	return 0;
}

int stats_ratio_ci(const double *a, size_t na, const double *b, size_t nb, unsigned resamples,
		   uint64_t seed, double *lo, double *hi)
{
	double *ratios, *tmp;
	uint64_t rng = seed ? seed : 1;
	size_t k = 0;

	if (!na || !nb || !resamples)
		return -1;
	ratios = malloc(resamples * sizeof(*ratios));
	tmp = malloc((na > nb ? na : nb) * sizeof(*tmp));
	if (!ratios || !tmp) {
		free(ratios);
		free(tmp);
		return -1;
	}
	for (unsigned i = 0; i < resamples; i++) {
		double ma = resampled_median(a, na, tmp, &rng);
		double mb = resampled_median(b, nb, tmp, &rng);

		if (ma != 0)
			ratios[k++] = mb / ma;
	}
	free(tmp);
	if (k < resamples / 2) {
		free(ratios);
		return -1;
	}
	percentile_interval(ratios, k, lo, hi);
	free(ratios);
	return 0;
}
