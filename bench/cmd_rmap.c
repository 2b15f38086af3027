/*
 * dlbench rmap: write-protect walks of per-gfn reverse maps while writers
 * churn sptes (seed 002): locked, lockless (nulls) and lockless-pos walkers.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workloads/rmap_workload.h"
#include "bench/cli.h"
#include "bench/commands.h"
#include "bench/report/csv.h"
#include "lib/util/histogram.h"
#include "bench/report/meta.h"
#include "bench/report/results.h"
#include "lib/util/topology.h"

static const char *const flavour_names[] = { "mb", "fast", NULL };

static void usage(FILE *f)
{
	fprintf(f,
		"usage: dlbench rmap [OPTIONS]\n"
		"\n"
		"Walkers write-protect gfn after gfn through per-gfn rmaps while writers\n"
		"add and remove sptes under mmu_lock.  Writes summary.csv, hist/*.csv\n"
		"(restarts-*.csv counts restarts per walk in its value_ns column),\n"
		"meta.json.\n"
		"\n"
		"  -w, --walker NAME          locked | lockless | lockless-pos (default lockless)\n"
		"  -g, --gfns N               guest pages with an rmap (default 256)\n"
		"  -S, --sptes N              sptes churned by the writers, half mapped at start (default 8192)\n"
		"  -k, --walkers N            walker threads (default 1)\n"
		"  -W, --writers N            writer threads (default 1)\n"
		"  -d, --duration SECONDS     measured run (default 0.5)\n"
		"  -R, --max-restarts N       lockless restarts before the locked fallback (default 4)\n"
		"      --desc-cache N         unlinked descs reused at once (type-stable); the\n"
		"                             rest are freed after a grace period (default 64)\n"
		"      --writer-delay-ns NS   writer's pause between operations (default 0)\n"
		"      --desc-delay-ns NS     walker's busy time per desc, all walkers (default 0)\n"
		"      --srcu-flavour F       mb | fast: read side of the lockless walkers (default mb)\n"
		"      --walk-batch N         walks per timed batch (default 64)\n"
		"  -r, --repetitions N        rows to measure (default 1)\n"
		"  -p, --placement P          compact | spread (default compact)\n"
		"  -c, --cpus LIST            explicit OS CPUs for walkers, then writers\n"
		"  -o, --out DIR              results directory (must not exist)\n"
		"  -h, --help\n");
}

static int write_hist(const char *dir, const char *name, const char *walker, int rep,
		      const struct histogram *h)
{
	return results_save_histogram(h, dir, "hist/%s-%s-r%d.csv", name, walker, rep);
}

int cmd_rmap(int argc, char **argv)
{
	enum { O_CACHE = 256, O_DELAY, O_FLAVOUR, O_BATCH, O_DESC_DELAY };
	static const struct option longopts[] = {
		{ "walker", required_argument, NULL, 'w' },
		{ "gfns", required_argument, NULL, 'g' },
		{ "sptes", required_argument, NULL, 'S' },
		{ "walkers", required_argument, NULL, 'k' },
		{ "writers", required_argument, NULL, 'W' },
		{ "duration", required_argument, NULL, 'd' },
		{ "max-restarts", required_argument, NULL, 'R' },
		{ "desc-cache", required_argument, NULL, O_CACHE },
		{ "writer-delay-ns", required_argument, NULL, O_DELAY },
		{ "desc-delay-ns", required_argument, NULL, O_DESC_DELAY },
		{ "srcu-flavour", required_argument, NULL, O_FLAVOUR },
		{ "walk-batch", required_argument, NULL, O_BATCH },
		{ "repetitions", required_argument, NULL, 'r' },
		{ "placement", required_argument, NULL, 'p' },
		{ "cpus", required_argument, NULL, 'c' },
		{ "out", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct rmap_params p;
	const char *cpu_list = NULL, *out = NULL, *placement_name = "compact";
	enum placement placement = PLACEMENT_COMPACT;
	double duration = 0.5;
	int reps = 1, opt, nthreads, *cpus, rc = 0;
	char dir[PATH_MAX], cpus_str[256] = "";
	struct results_file sum;

	memset(&p, 0, sizeof(p));
	p.walker = &rmap_walker_lockless;
	p.rmap.ngfns = 256;
	p.rmap.desc_cache = 64;
	p.rmap.srcu_flavour = SRCU_FLAVOUR_MB;
	p.nsptes = 8192;
	p.walkers = 1;
	p.writers = 1;
	p.max_restarts = 4;
	p.walk_batch = 64;
	opterr = 0;   /* errors are reported in one line below */
	while ((opt = getopt_long(argc, argv, "w:g:S:k:W:d:R:r:p:c:o:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'w':
			p.walker = rmap_walkers[cli_choice("--walker", optarg, rmap_walker_names)];
			break;
		case 'g': p.rmap.ngfns = (uint32_t)cli_u64("--gfns", optarg, 1, 1u << 24); break;
		case 'S': p.nsptes = (uint32_t)cli_u64("--sptes", optarg, 1, 1u << 26); break;
		case 'k': p.walkers = (int)cli_u64("--walkers", optarg, 1, 1024); break;
		case 'W': p.writers = (int)cli_u64("--writers", optarg, 0, 1024); break;
		case 'd': duration = cli_double("--duration", optarg, 0.001, 3600); break;
		case 'R': p.max_restarts = (uint32_t)cli_u64("--max-restarts", optarg, 0, 1000000); break;
		case O_CACHE: p.rmap.desc_cache = (uint32_t)cli_u64("--desc-cache", optarg, 0, 1u << 24); break;
		case O_DELAY: p.writer_delay_ns = cli_u64("--writer-delay-ns", optarg, 0, 1000000000ull); break;
		case O_DESC_DELAY: p.desc_delay_ns = cli_u64("--desc-delay-ns", optarg, 0, 1000000000ull); break;
		case O_FLAVOUR:
			p.rmap.srcu_flavour = (enum srcu_flavour)cli_choice("--srcu-flavour", optarg,
									    flavour_names);
			break;
		case O_BATCH: p.walk_batch = (uint32_t)cli_u64("--walk-batch", optarg, 1, 1u << 20); break;
		case 'r': reps = (int)cli_u64("--repetitions", optarg, 1, 1000); break;
		case 'p':
			if (placement_parse(optarg, &placement))
				cli_die("--placement: '%s' is not compact or spread", optarg);
			placement_name = optarg;
			break;
		case 'c': cpu_list = optarg; break;
		case 'o': out = optarg; break;
		case 'h': usage(stdout); return 0;
		default:
			cli_die("unknown option or missing value in '%s' (see --help)",
				argv[optind - 1]);
		}
	}
	if (optind < argc)
		cli_die("unexpected argument '%s' (see --help)", argv[optind]);
	if (p.writers && p.nsptes < (uint32_t)p.writers)
		cli_die("--sptes %u: fewer sptes than --writers %d", p.nsptes, p.writers);
	/* the longest list a gfn can get must fit the position field */
	if ((uint64_t)p.nsptes / RMAP_DESC_SPTES + 1 > RMAP_POS_MAX)
		cli_die("--sptes %u: one gfn could need more than %u descs, the most a position encodes",
			p.nsptes, RMAP_POS_MAX);
	p.duration_ns = (uint64_t)(duration * 1e9);

	nthreads = p.walkers + p.writers;
	cpus = cli_pick_cpus(nthreads, placement, cpu_list, "threads");
	topology_cpus_text(cpus_str, sizeof(cpus_str), cpus, nthreads);
	p.cpus = cpus;

	if (results_dir_create(dir, sizeof(dir), out, "rmap"))
		return 2;
	if (results_file_open(&sum, dir, "summary.csv"))
		return 2;
	fprintf(sum.f, "workload,walker,gfns,sptes,walkers,writers,duration_s,max_restarts,desc_cache,"
		       "writer_delay_ns,desc_delay_ns,srcu_flavour,walk_batch,repetitions,placement,cpus,repetition,"
		       "walks,walks_per_s,walk_ns_mean,walk_ns_p50,walk_ns_p99,sptes_per_walk,"
		       "restarts_per_walk,restarts_max,walks_restarted,fallbacks,"
		       "writer_ops,writer_ops_per_s,writer_op_ns_p50,writer_op_ns_p99,"
		       "desc_allocs,desc_reuses,desc_retired,poisoned\n");
	printf("%-12s %4s %12s %10s %10s %12s %10s %10s %14s\n", "walker", "rep", "walks/s",
	       "walk_ns", "walk_p99", "restarts/walk", "max", "fallbacks", "writer_ops/s");
	for (int rep = 1; rep <= reps && rc == 0; rep++) {
		struct rmap_result res;
		double secs, walk_ns, rpw;

		if (rmap_run(&p, &res)) {
			rc = 1;
			break;
		}
		secs = (double)res.wall_ns / 1e9;
		walk_ns = res.walks ? (double)res.walk_ns_total / (double)res.walks : 0;
		rpw = res.walks ? (double)res.restarts_total / (double)res.walks : 0;
		fprintf(sum.f, "rmap,%s,%u,%u,%d,%d,%g,%u,%u,%llu,%llu,%s,%u,%d,", p.walker->name,
			p.rmap.ngfns, p.nsptes, p.walkers, p.writers, duration, p.max_restarts,
			p.rmap.desc_cache, (unsigned long long)p.writer_delay_ns,
			(unsigned long long)p.desc_delay_ns,
			flavour_names[p.rmap.srcu_flavour], p.walk_batch, reps);
		csv_field(sum.f, placement_name);
		fputc(',', sum.f);
		csv_field(sum.f, cpu_list ? cpu_list : cpus_str);
		fprintf(sum.f, ",%d,%llu,%.0f,%.1f,%llu,%llu,%.2f,%.6f,%llu,%llu,%llu,%llu,%.0f,%llu,%llu,"
			       "%llu,%llu,%llu,%llu\n",
			rep, (unsigned long long)res.walks, (double)res.walks / secs, walk_ns,
			(unsigned long long)histogram_quantile(res.walk_ns, 0.5),
			(unsigned long long)histogram_quantile(res.walk_ns, 0.99),
			res.walks ? (double)res.visited / (double)res.walks : 0, rpw,
			(unsigned long long)histogram_quantile(res.restarts, 1.0),
			(unsigned long long)res.walks_restarted, (unsigned long long)res.fallbacks,
			(unsigned long long)res.writer_ops, (double)res.writer_ops / secs,
			(unsigned long long)histogram_quantile(res.writer_ns, 0.5),
			(unsigned long long)histogram_quantile(res.writer_ns, 0.99),
			(unsigned long long)res.desc.desc_allocs,
			(unsigned long long)res.desc.desc_reuses,
			(unsigned long long)res.desc.desc_retired, (unsigned long long)res.poisoned);
		printf("%-12s %4d %12.0f %10.1f %10llu %12.6f %10llu %10llu %14.0f\n", p.walker->name,
		       rep, (double)res.walks / secs, walk_ns,
		       (unsigned long long)histogram_quantile(res.walk_ns, 0.99), rpw,
		       (unsigned long long)histogram_quantile(res.restarts, 1.0),
		       (unsigned long long)res.fallbacks, (double)res.writer_ops / secs);
		if (res.poisoned) {
			fprintf(stderr, "%s: walks saw %llu poisoned (freed) descs\n", cli_prog,
				(unsigned long long)res.poisoned);
			rc = 1;
		}
		if (write_hist(dir, "restarts", p.walker->name, rep, res.restarts) ||
		    write_hist(dir, "walk_ns", p.walker->name, rep, res.walk_ns) ||
		    write_hist(dir, "writer_op_ns", p.walker->name, rep, res.writer_ns))
			rc = 1;
		rmap_result_free(&res);
	}
	if (rc) {
		results_file_abort(&sum);
	} else {
		char extra[256];

		if (results_file_commit(&sum))
			rc = 1;
		snprintf(extra, sizeof(extra), "\"walker\": \"%s\", \"walker_summary\": \"%s\"",
			 p.walker->name, p.walker->summary);
		if (meta_write(dir, argc, argv, "rmap", extra))
			rc = 1;
	}
	free(cpus);
	fprintf(stderr, "%s: results in %s\n", cli_prog, dir);
	return rc;
}
