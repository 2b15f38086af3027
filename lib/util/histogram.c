/* Log-linear histograms: see histogram.h. */
#include "lib/util/histogram.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void histogram_init(struct histogram *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

struct histogram *histogram_new(void)
{
	struct histogram *h = malloc(sizeof(*h));

	if (h)
		histogram_init(h);
	return h;
}

void histogram_merge(struct histogram *into, const struct histogram *from)
{
	for (unsigned i = 0; i < HIST_BUCKETS; i++)
		into->buckets[i] += from->buckets[i];
	into->count += from->count;
	if (from->max > into->max)
		into->max = from->max;
	if (from->min < into->min)
		into->min = from->min;
}

uint64_t histogram_bucket_low(unsigned b)
{
	unsigned e, sub;

	if (b < HIST_SUB_COUNT)
		return b;
	e = (b - HIST_SUB_COUNT) / HIST_HALF + HIST_SUB_BITS; /* msb */
	sub = (b - HIST_SUB_COUNT) % HIST_HALF + HIST_HALF;
	return (uint64_t)sub << (e - (HIST_SUB_BITS - 1));
}

uint64_t histogram_bucket_width(unsigned b)
{
	if (b < HIST_SUB_COUNT)
		return 1;
	return 1ull << ((b - HIST_SUB_COUNT) / HIST_HALF + 1);
}

uint64_t histogram_bucket_value(unsigned b)
{
	return histogram_bucket_low(b) + histogram_bucket_width(b) / 2;
}

uint64_t histogram_quantile(const struct histogram *h, double q)
{
	uint64_t rank, seen = 0;

	if (h->count == 0)
		return 0;
	if (q >= 1.0)
		return h->max;
	rank = (uint64_t)(q * (double)h->count);
	if (rank >= h->count)
		rank = h->count - 1;
	for (unsigned b = 0; b < HIST_BUCKETS; b++) {
		seen += h->buckets[b];
		if (seen > rank) {
			uint64_t v = histogram_bucket_value(b);
			/* never report beyond the observed extremes */
			if (v > h->max)
				v = h->max;
			if (v < h->min)
				v = h->min;
			return v;
		}
	}
	return h->max;
}

double histogram_mean(const struct histogram *h)
{
	double sum = 0;

	if (h->count == 0)
		return 0;
	for (unsigned b = 0; b < HIST_BUCKETS; b++)
		if (h->buckets[b])
			sum += (double)h->buckets[b] * (double)histogram_bucket_value(b);
	return sum / (double)h->count;
}

int histogram_write_csv(const struct histogram *h, FILE *f)
{
	fprintf(f, "value_ns,count\n");
	for (unsigned b = 0; b < HIST_BUCKETS; b++)
		if (h->buckets[b])
			fprintf(f, "%llu,%llu\n", (unsigned long long)histogram_bucket_value(b),
				(unsigned long long)h->buckets[b]);
	return ferror(f) ? -1 : 0;
}
