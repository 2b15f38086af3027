/*
 * dlbench harvest: get_log / clear_log time of each dirty-log strategy on
 * one slot at several shares of dirty pages, against the floor measured
 * in the same run (workloads/harvest.c).  Writes summary.csv (one row per
 * repetition) and meta.json, and prints medians.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/cli.h"
#include "bench/commands.h"
#include "lib/dirty_log/dirty_log.h"
#include "bench/report/meta.h"
#include "bench/report/csv.h"
#include "bench/report/results.h"
#include "workloads/harvest.h"

#define HARVEST_MAX_SPECS 32
#define HARVEST_MAX_SIZES 16
#define HARVEST_MAX_PERCENTS 32

static void usage(FILE *f)
{
	fprintf(f,
		"usage: dlbench harvest [options]\n"
		"\n"
		"Times get_log and clear_log of each strategy on one slot with a share of\n"
		"its pages dirty, next to the floor measured in the same run (a bare loop\n"
		"that reads the dirty bitmap and clears the writable bit of each dirty page).\n"
		"\n"
		"  -s, --strategy SPEC     NAME[:KEY=VALUE,...], repeatable (default: every strategy)\n"
		"  -b, --bytes LIST        slot sizes, e.g. 64M or 1G,4G (default 1G)\n"
		"  -d, --dirty LIST        percentages of pages dirty (default 0,1,10,50,100)\n"
		"  -r, --reps N            timed repetitions per cell (default 5, after 1 warm-up)\n"
		"  -p, --fault-path P      locked|fast, how the pages are dirtied (default locked)\n"
		"  -m, --backing NAME      anonymous|anonymous_thp|anonymous_hugetlb|shmem (default anonymous)\n"
		"      --numa POLICY       local|interleave|bind:N (default local)\n"
		"  -o, --out DIR           results directory (must not exist; default results/<time>-harvest)\n"
		"  -h, --help\n"
		"\n"
		"strategies:\n");
	dirty_log_list(f);
}

/* Median of the @field of @n samples (sorted copy). */
static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t median(const struct harvest_sample *s, int n, size_t field_off)
{
	uint64_t v[64];
	int m = n < 64 ? n : 64;

	for (int i = 0; i < m; i++)
		v[i] = *(const uint64_t *)((const char *)&s[i] + field_off);
	qsort(v, (size_t)m, sizeof(v[0]), cmp_u64);
	return m % 2 ? v[m / 2] : (v[m / 2 - 1] + v[m / 2]) / 2;
}

int cmd_harvest(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "strategy", required_argument, NULL, 's' },
		{ "bytes", required_argument, NULL, 'b' },
		{ "dirty", required_argument, NULL, 'd' },
		{ "reps", required_argument, NULL, 'r' },
		{ "fault-path", required_argument, NULL, 'p' },
		{ "backing", required_argument, NULL, 'm' },
		{ "numa", required_argument, NULL, 1 },
		{ "out", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *specs[HARVEST_MAX_SPECS];
	uint64_t sizes[HARVEST_MAX_SIZES] = { 1ull << 30 };
	uint64_t percents[HARVEST_MAX_PERCENTS] = { 0, 1, 10, 50, 100 };
	size_t nspecs = 0, nsizes = 1, npercents = 5;
	int reps = 5, opt;
	enum fault_path path = FAULT_PATH_LOCKED;
	struct guest_memory_options mo = { .backing = GUEST_BACKING_ANONYMOUS, .numa = GUEST_NUMA_LOCAL };
	const char *out = NULL;
	char dir[4096], extra[512], numa[32];
	struct results_file rf;
	struct harvest_sample *samples;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "s:b:d:r:p:m:o:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 's':
			if (nspecs == HARVEST_MAX_SPECS)
				cli_die("--strategy: at most %d strategies", HARVEST_MAX_SPECS);
			specs[nspecs++] = optarg;
			break;
		case 'b': {
			char buf[256], *save = NULL;

			snprintf(buf, sizeof(buf), "%s", optarg);
			nsizes = 0;
			for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
				if (nsizes == HARVEST_MAX_SIZES)
					cli_die("--bytes: at most %d sizes", HARVEST_MAX_SIZES);
				sizes[nsizes] = cli_size("--bytes", t, 256 << 10, 1ull << 44);
				if (sizes[nsizes] % (256 << 10))
					cli_die("--bytes: %s is not a multiple of 256K (64 pages)", t);
				nsizes++;
			}
			if (!nsizes)
				cli_die("--bytes: '%s' names no size", optarg);
			break;
		}
		case 'd':
			npercents = cli_u64_list("--dirty", optarg, percents, HARVEST_MAX_PERCENTS, 0, 100);
			break;
		case 'r':
			reps = (int)cli_u64("--reps", optarg, 1, 64);
			break;
		case 'p':
			path = (enum fault_path)cli_choice("--fault-path", optarg, fault_path_names);
			break;
		case 'm':
			mo.backing = (enum guest_backing)cli_choice("--backing", optarg, guest_backing_names);
			break;
		case 1:
			if (guest_numa_parse(optarg, &mo.numa, &mo.numa_node))
				cli_die("--numa: '%s' is not local, interleave or bind:N", optarg);
			break;
		case 'o':
			out = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			cli_die("bad option (dlbench harvest --help)");
		}
	}
	if (optind < argc)
		cli_die("unexpected argument '%s' (dlbench harvest --help)", argv[optind]);
	if (!nspecs) {
		const struct dirty_log_ops *o;

		for (int i = 0; (o = dirty_log_nth(i)) && nspecs < HARVEST_MAX_SPECS; i++)
			specs[nspecs++] = o->name;
	}
	for (size_t i = 0; i < nspecs; i++) {
		char err[256];
		struct dirty_log *log = dirty_log_create(specs[i], NULL, err, sizeof(err));

		if (!log)
			cli_die("--strategy: %s", err);
		dirty_log_free(log);
	}
	/* Every size's memory can be had, before anything is written. */
	for (size_t b = 0; b < nsizes; b++) {
		struct guest_memory mem;
		char err[512];

		mo.bytes = sizes[b];
		if (guest_memory_create(&mem, &mo, err, sizeof(err)))
			cli_die("%s", err);
		guest_memory_destroy(&mem);
	}
	samples = calloc(npercents * (size_t)reps, sizeof(*samples));
	if (!samples)
		cli_die("out of memory");
	if (results_dir_create(dir, sizeof(dir), out, "harvest"))
		return 2;
	if (results_file_open(&rf, dir, "summary.csv"))
		return 2;
	fprintf(rf.f, "strategy,slot_bytes,dirty_percent,rep,fault_path,backing,dirty_pages,"
		      "reported_pages,get_log_ns,clear_log_ns,harvest_ns,floor_ns\n");
	printf("results: %s\n", dir);
	printf("%-28s %10s %6s %9s %12s %12s %12s %12s %8s\n", "strategy", "slot", "dirty%",
	       "pages", "get_log_ns", "clear_log_ns", "harvest_ns", "floor_ns", "x_floor");

	for (size_t b = 0; b < nsizes; b++) {
		struct guest_memory mem;
		char err[512];

		mo.bytes = sizes[b];
		if (guest_memory_create(&mem, &mo, err, sizeof(err))) {
			results_file_abort(&rf);
			cli_die("%s", err);
		}
		for (size_t i = 0; i < nspecs; i++) {
			if (harvest_measure(specs[i], &mem, path, percents, npercents, 1, reps, samples,
					    err, sizeof(err))) {
				results_file_abort(&rf);
				cli_die("%s", err);
			}
			for (size_t p = 0; p < npercents; p++) {
				const struct harvest_sample *s = &samples[p * (size_t)reps];
				uint64_t get = median(s, reps, offsetof(struct harvest_sample, get_log_ns));
				uint64_t clr = median(s, reps, offsetof(struct harvest_sample, clear_log_ns));
				uint64_t flo = median(s, reps, offsetof(struct harvest_sample, floor_ns));
				uint64_t both[64];
				char slot[32];

				for (int r = 0; r < reps; r++) {
					csv_field(rf.f, specs[i]);
					fprintf(rf.f, ",%llu,%llu,%d,%s,%s,%llu,%llu,%llu,%llu,%llu,%llu\n",
						(unsigned long long)sizes[b], (unsigned long long)percents[p], r,
						fault_path_names[path], guest_backing_names[mo.backing],
						(unsigned long long)s[r].dirty_pages,
						(unsigned long long)s[r].reported_pages,
						(unsigned long long)s[r].get_log_ns,
						(unsigned long long)s[r].clear_log_ns,
						(unsigned long long)(s[r].get_log_ns + s[r].clear_log_ns),
						(unsigned long long)s[r].floor_ns);
					both[r] = s[r].get_log_ns + s[r].clear_log_ns;
				}
				qsort(both, (size_t)reps, sizeof(both[0]), cmp_u64);
				{
					uint64_t h = reps % 2 ? both[reps / 2] : (both[reps / 2 - 1] + both[reps / 2]) / 2;

					snprintf(slot, sizeof(slot), "%lluM", (unsigned long long)(sizes[b] >> 20));
					printf("%-28s %10s %6llu %9llu %12llu %12llu %12llu %12llu %8.2f\n",
					       specs[i], slot, (unsigned long long)percents[p],
					       (unsigned long long)s[0].dirty_pages,
					       (unsigned long long)get, (unsigned long long)clr,
					       (unsigned long long)h, (unsigned long long)flo,
					       flo ? (double)h / (double)flo : 0.0);
				}
			}
			fflush(stdout);
		}
		guest_memory_destroy(&mem);
	}
	if (results_file_commit(&rf))
		return 2;
	snprintf(extra, sizeof(extra),
		 "\"reps\": %d, \"warmup_reps\": 1, \"fault_path\": \"%s\", \"backing\": \"%s\", "
		 "\"numa\": \"%s\", \"statistic_on_stdout\": \"median\", "
		 "\"harvester\": \"one thread, the only vCPU outside guest mode (flushes wait for nobody)\"",
		 reps, fault_path_names[path], guest_backing_names[mo.backing],
		 guest_numa_name(mo.numa, mo.numa_node, numa, sizeof(numa)));
	if (meta_write(dir, argc, argv, "harvest", extra))
		return 2;
	free(samples);
	return 0;
}
