/*
 * Unit tests of the shared core's small pieces: histogram accuracy and
 * quantiles, results files that never overwrite, CPU placement.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/check.h"
#include "lib/util/histogram.h"
#include "bench/report/results.h"
#include "lib/util/topology.h"

/* Every value maps to a bucket whose midpoint is within 1% of it, buckets
 * are contiguous and ordered. */
static void test_histogram_buckets(void)
{
	uint64_t prev_end = 0;
	int bad = 0;

	for (unsigned b = 0; b < HIST_BUCKETS; b++) {
		uint64_t lo = histogram_bucket_low(b), w = histogram_bucket_width(b);

		if (lo != prev_end || histogram_bucket(lo) != b ||
		    histogram_bucket(lo + w - 1) != b)
			bad++;
		if (lo > 0 && (double)(w / 2) / (double)lo > 0.01)
			bad++;
		prev_end = lo + w;
		if (b == HIST_BUCKETS - 1)
			break;
	}
	CHECK(bad == 0);
	CHECK(histogram_bucket(UINT64_MAX) == HIST_BUCKETS - 1);
	for (uint64_t v = 1; v < (1ull << 40); v = v * 3 + 1) {
		unsigned b = histogram_bucket(v);
		double mid = (double)histogram_bucket_value(b);

		CHECK(mid / (double)v < 1.01 && mid / (double)v > 0.99);
	}
}

static void test_histogram_quantiles(void)
{
	struct histogram *a = histogram_new(), *b = histogram_new();

	for (uint64_t v = 1; v <= 1000; v++)
		histogram_record(v <= 500 ? a : b, v * 1000);
	histogram_merge(a, b);
	CHECK(a->count == 1000);
	CHECK(a->max == 1000000 && a->min == 1000);
	CHECK(llabs((long long)histogram_quantile(a, 0.5) - 500000) < 500000 / 50);
	CHECK(llabs((long long)histogram_quantile(a, 0.99) - 990000) < 990000 / 50);
	CHECK(histogram_quantile(a, 1.0) == 1000000);
	CHECK(histogram_quantile(b, 0.0) >= 501000 * 99 / 100);
	histogram_init(b);
	CHECK(histogram_quantile(b, 0.5) == 0);
	free(a);
	free(b);
}

static void test_results_never_overwrite(void)
{
	char dir[] = "/tmp/dlbench-test-XXXXXX", path[PATH_MAX], sub[256];
	struct results_file rf, rf2;
	FILE *f;
	char line[32] = "";

	CHECK(mkdtemp(dir) != NULL);
	snprintf(sub, sizeof(sub), "%s/run", dir);
	CHECK(results_dir_create(path, sizeof(path), sub, "x") == 0);
	/* the same --out again is refused */
	CHECK(results_dir_create(path, sizeof(path), sub, "x") == -1);
	CHECK(results_file_open(&rf, sub, "hist/a.csv") == 0);
	fputs("first\n", rf.f);
	CHECK(results_file_commit(&rf) == 0);
	CHECK(results_file_open(&rf2, sub, "hist/a.csv") == 0);
	fputs("second\n", rf2.f);
	CHECK(results_file_commit(&rf2) == -1); /* refuses to replace */
	snprintf(path, sizeof(path), "%s/hist/a.csv", sub);
	f = fopen(path, "r");
	CHECK(f && fgets(line, sizeof(line), f));
	CHECK(strcmp(line, "first\n") == 0);
	if (f)
		fclose(f);
	unlink(path);
	snprintf(path, sizeof(path), "%s/hist/a.csv.tmp", sub);
	unlink(path);
	snprintf(path, sizeof(path), "%s/hist", sub);
	rmdir(path);
	rmdir(sub);
	rmdir(dir);
}

static void test_placement(void)
{
	int n = topology_cpu_count(), over, cpus[64];
	char err[128];

	CHECK(n >= 1);
	CHECK(topology_pick_cpus(n, PLACEMENT_COMPACT, NULL, cpus, &over, err, sizeof(err)) == 0);
	CHECK(over == 0);
	CHECK(topology_pick_cpus(n, PLACEMENT_SPREAD, NULL, cpus, &over, err, sizeof(err)) == 0);
	CHECK(over == 0);
	for (int i = 0; i < n && i < 64; i++)
		for (int j = 0; j < i; j++)
			CHECK(cpus[i] != cpus[j]);
	CHECK(topology_pick_cpus(n + 2, PLACEMENT_COMPACT, NULL, cpus, &over, err, sizeof(err)) ==
	      0);
	CHECK(over == 1);
	CHECK(topology_pick_cpus(1, PLACEMENT_COMPACT, "9999", cpus, &over, err, sizeof(err)) ==
	      -1);
	CHECK(topology_pick_cpus(1, PLACEMENT_COMPACT, "zz", cpus, &over, err, sizeof(err)) == -1);
	CHECK(topology_pin_self(cpus[0]) == 0);
}

int main(void)
{
	RUN(test_histogram_buckets);
	RUN(test_histogram_quantiles);
	RUN(test_results_never_overwrite);
	RUN(test_placement);
	return check_exit();
}
