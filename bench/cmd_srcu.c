/*
 * dlbench srcu: read-side cost and grace-period latency of the SRCU core
 * against liburcu and locks, in the style of the kernel's refscale and
 * rcuscale.
 *
 * Read side: N pinned readers each run lock/unlock pairs (with an optional
 * critical section) for a fixed time, no updater; the figure is ns per pair
 * per reader.  Every primitive gets its own loop, inlined, so the figure is
 * the primitive's cost and not a function-pointer call's.  liburcu is built
 * with _LGPL_SOURCE: its read lock is inlined as its users get it at its
 * best.
 *
 * Grace periods: synchronize, expedited synchronize and call_srcu (time to
 * callback) on both flavours, and liburcu's synchronize_rcu and call_rcu,
 * with registered readers idle and with readers busy in read sections.
 */
#define _LGPL_SOURCE
#include <urcu/urcu-memb.h>

#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/cli.h"
#include "bench/commands.h"
#include "bench/report/csv.h"
#include "lib/util/histogram.h"
#include "bench/report/meta.h"
#include "bench/report/results.h"
#include "lib/srcu/srcu.h"
#include "lib/util/timing.h"
#include "lib/util/topology.h"
#include "lib/util/workers.h"

enum primitive {
	PRIM_SRCU_MB,
	PRIM_SRCU_FAST,
	PRIM_URCU_MEMB,
	PRIM_RWLOCK,
	PRIM_MUTEX,
	PRIM_REFCOUNT,
	PRIM_COUNT
};

static const char *const primitive_names[] = {
	"srcu-mb", "srcu-fast", "urcu-memb", "rwlock", "mutex", "refcount", NULL
};

#define MAX_READER_COUNTS 64

struct srcu_bench_config {
	bool prim[PRIM_COUNT];
	uint64_t readers[MAX_READER_COUNTS];
	size_t nreaders;
	uint64_t duration_ns;
	uint64_t critical_ns;
	uint64_t repetitions;
	uint64_t gp_samples;
	uint64_t gp_readers;
	bool do_read, do_gp;
	enum placement placement;
	const char *cpu_list;
	const char *out;
};

/* ---- read side ---- */

struct read_shared {
	enum primitive prim;
	uint64_t critical_ns;
	atomic_int stop;
	struct srcu_struct *srcu;
	pthread_rwlock_t rwlock;
	pthread_mutex_t mutex;
	/* The shared reference count: the one cache line every reader bounces. */
	_Alignas(64) atomic_long refcount;
};

struct read_result {
	uint64_t pairs;
	uint64_t ns;
} __attribute__((aligned(64)));

static struct read_result *read_results;

/* Checks the stop flag once per batch, so the flag's load is amortised. */
#define READ_BATCH 256

#define READ_LOOP(lock_stmt, unlock_stmt)                                       \
	do {                                                                    \
		while (!atomic_load_explicit(&sh->stop, memory_order_relaxed)) { \
			for (int k_ = 0; k_ < READ_BATCH; k_++) {              \
				lock_stmt;                                      \
				if (cs)                                         \
					spin_for_ns(cs);                        \
				unlock_stmt;                                    \
			}                                                       \
			pairs += READ_BATCH;                                    \
		}                                                               \
	} while (0)

/* Per-thread CPU time: a reader's cost per pair must not include the time
 * it spent preempted (readers may outnumber CPUs, and the machine may be
 * busy); throughput (pairs per second) is taken on the wall clock. */
static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void read_worker(struct worker *w)
{
	struct read_shared *sh = w->arg;
	const uint64_t cs = sh->critical_ns;
	uint64_t pairs = 0, t0;

	switch (sh->prim) {
	case PRIM_SRCU_MB:
	case PRIM_SRCU_FAST: {
		struct srcu_reader *r = srcu_register_reader(sh->srcu, "bench");
		int idx;

		t0 = thread_cpu_ns();
		READ_LOOP(idx = srcu_read_lock(r), srcu_read_unlock(r, idx));
		read_results[w->index].ns = thread_cpu_ns() - t0;
		srcu_unregister_reader(r);
		break;
	}
	case PRIM_URCU_MEMB:
		urcu_memb_register_thread();
		t0 = thread_cpu_ns();
		READ_LOOP(urcu_memb_read_lock(), urcu_memb_read_unlock());
		read_results[w->index].ns = thread_cpu_ns() - t0;
		urcu_memb_unregister_thread();
		break;
	case PRIM_RWLOCK:
		t0 = thread_cpu_ns();
		READ_LOOP(pthread_rwlock_rdlock(&sh->rwlock), pthread_rwlock_unlock(&sh->rwlock));
		read_results[w->index].ns = thread_cpu_ns() - t0;
		break;
	case PRIM_MUTEX:
		t0 = thread_cpu_ns();
		READ_LOOP(pthread_mutex_lock(&sh->mutex), pthread_mutex_unlock(&sh->mutex));
		read_results[w->index].ns = thread_cpu_ns() - t0;
		break;
	case PRIM_REFCOUNT:
		t0 = thread_cpu_ns();
		/* acquire on get, release on put: the ordering a reference
		 * count needs around the object it protects */
		READ_LOOP(atomic_fetch_add_explicit(&sh->refcount, 1, memory_order_acquire),
			  atomic_fetch_sub_explicit(&sh->refcount, 1, memory_order_release));
		read_results[w->index].ns = thread_cpu_ns() - t0;
		break;
	default:
		t0 = 0;
		break;
	}
	(void)t0;
	read_results[w->index].pairs = pairs;
}

static int pick_cpus(const struct srcu_bench_config *cfg, int n, int *cpus)
{
	char err[256];
	int over;

	if (topology_pick_cpus(n, cfg->placement, cfg->cpu_list, cpus, &over, err, sizeof(err))) {
		fprintf(stderr, "%s: -c/--cpus: %s\n", cli_prog, err);
		return -1;
	}
	return over;
}

/* Runs one read-side cell; returns the mean ns per pair over readers. */
static int run_read_cell(const struct srcu_bench_config *cfg, enum primitive p, int n,
			 double *ns_per_pair, double *pairs_per_s)
{
	struct read_shared sh;
	struct srcu_struct srcu;
	struct workers g;
	int *cpus = calloc((size_t)n, sizeof(int));
	double sum = 0;
	uint64_t total = 0;

	memset(&sh, 0, sizeof(sh));
	sh.prim = p;
	sh.critical_ns = cfg->critical_ns;
	if (pick_cpus(cfg, n, cpus) < 0) {
		free(cpus);
		return -1;
	}
	if (p == PRIM_SRCU_MB || p == PRIM_SRCU_FAST) {
		struct srcu_options o;

		srcu_options_default(&o);
		o.flavour = p == PRIM_SRCU_FAST ? SRCU_FLAVOUR_FAST : SRCU_FLAVOUR_MB;
		o.name = "bench";
		srcu_init(&srcu, &o);
		sh.srcu = &srcu;
	}
	pthread_rwlock_init(&sh.rwlock, NULL);
	pthread_mutex_init(&sh.mutex, NULL);
	read_results = aligned_alloc(64, (size_t)n * sizeof(*read_results));
	memset(read_results, 0, (size_t)n * sizeof(*read_results));
	if (workers_start(&g, n, cpus, read_worker, &sh, "reader")) {
		free(cpus);
		free(read_results);
		return -1;
	}
	workers_go(&g);
	sleep_ns(cfg->duration_ns);
	atomic_store_explicit(&sh.stop, 1, memory_order_relaxed);
	workers_join(&g);
	for (int i = 0; i < n; i++) {
		if (read_results[i].pairs)
			sum += (double)read_results[i].ns / (double)read_results[i].pairs;
		total += read_results[i].pairs;
	}
	*ns_per_pair = sum / n;
	*pairs_per_s = (double)total / ((double)cfg->duration_ns / 1e9);
	if (sh.srcu)
		srcu_destroy(&srcu);
	pthread_rwlock_destroy(&sh.rwlock);
	pthread_mutex_destroy(&sh.mutex);
	free(read_results);
	free(cpus);
	return 0;
}

/* ---- grace periods ---- */

enum gp_kind { GP_SYNC, GP_EXPEDITED, GP_CALL };
static const char *const gp_kind_names[] = { "sync", "expedited", "call" };

struct gp_readers {
	enum primitive prim;
	bool busy;
	uint64_t critical_ns;
	struct srcu_struct *srcu;
	atomic_int stop;
	atomic_int registered;
};

/* Readers registered with the domain: busy ones run read sections without
 * pause; idle ones sleep outside any read section. */
static void gp_reader_worker(struct worker *w)
{
	struct gp_readers *gr = w->arg;
	struct srcu_reader *r = NULL;

	if (gr->prim == PRIM_URCU_MEMB)
		urcu_memb_register_thread();
	else
		r = srcu_register_reader(gr->srcu, "gp-bench");
	/* release: pairs with the updater's acquire wait for every reader to
	 * be registered before it measures */
	atomic_fetch_add_explicit(&gr->registered, 1, memory_order_release);
	while (!atomic_load_explicit(&gr->stop, memory_order_relaxed)) {
		if (!gr->busy) {
			sleep_ns(1000000);
			continue;
		}
		for (int k = 0; k < READ_BATCH; k++) {
			if (r) {
				int idx = srcu_read_lock(r);
				spin_for_ns(gr->critical_ns);
				srcu_read_unlock(r, idx);
			} else {
				urcu_memb_read_lock();
				spin_for_ns(gr->critical_ns);
				urcu_memb_read_unlock();
			}
		}
	}
	if (r)
		srcu_unregister_reader(r);
	else
		urcu_memb_unregister_thread();
}

struct gp_callback {
	struct srcu_head srcu_head;
	struct rcu_head rcu_head;
	uint64_t start;
	struct histogram *h;
	atomic_int done;
};

static void gp_srcu_cb(struct srcu_head *head)
{
	struct gp_callback *c = (struct gp_callback *)((char *)head - offsetof(struct gp_callback, srcu_head));

	histogram_record(c->h, now_ns() - c->start);
	/* release: the histogram sample is visible to the updater once it
	 * sees done (wait_callback's acquire) */
	atomic_store_explicit(&c->done, 1, memory_order_release);
}

static void gp_rcu_cb(struct rcu_head *head)
{
	struct gp_callback *c = (struct gp_callback *)((char *)head - offsetof(struct gp_callback, rcu_head));

	histogram_record(c->h, now_ns() - c->start);
	/* release: the histogram sample is visible to the updater once it
	 * sees done (wait_callback's acquire) */
	atomic_store_explicit(&c->done, 1, memory_order_release);
}

static void wait_callback(struct gp_callback *c)
{
	/* acquire: pairs with the callback's release of done */
	while (!atomic_load_explicit(&c->done, memory_order_acquire))
		sleep_ns(2000);
}

/* Measures one (primitive, kind, readers state) cell into @h. */
static int run_gp_cell(const struct srcu_bench_config *cfg, enum primitive p, enum gp_kind kind,
		       bool busy, bool idle_fast_path, int nreaders, struct histogram *h)
{
	struct srcu_struct srcu;
	struct gp_readers gr;
	struct workers g;
	struct gp_callback cb;
	int *cpus = calloc((size_t)(nreaders ? nreaders : 1), sizeof(int));

	memset(&gr, 0, sizeof(gr));
	gr.prim = p;
	gr.busy = busy;
	gr.critical_ns = cfg->critical_ns;
	if (p != PRIM_URCU_MEMB) {
		struct srcu_options o;

		srcu_options_default(&o);
		o.flavour = p == PRIM_SRCU_FAST ? SRCU_FLAVOUR_FAST : SRCU_FLAVOUR_MB;
		o.idle_fast_path = idle_fast_path;
		o.name = "gp-bench";
		srcu_init(&srcu, &o);
		gr.srcu = &srcu;
	} else {
		urcu_memb_register_thread();
	}
	if (nreaders && pick_cpus(cfg, nreaders, cpus) < 0)
		goto fail;
	if (nreaders && workers_start(&g, nreaders, cpus, gp_reader_worker, &gr, "reader"))
		goto fail;
	if (nreaders) {
		workers_go(&g);
		/* acquire: pairs with each reader's release after registering */
		while (atomic_load_explicit(&gr.registered, memory_order_acquire) < nreaders)
			sleep_ns(100000);
	}
	if (p == PRIM_URCU_MEMB)
		urcu_memb_unregister_thread();   /* the updater is not a reader */

	histogram_init(h);
	memset(&cb, 0, sizeof(cb));
	cb.h = h;
	for (uint64_t s = 0; s < cfg->gp_samples; s++) {
		uint64_t t0 = now_ns();

		switch (kind) {
		case GP_SYNC:
			if (p == PRIM_URCU_MEMB)
				urcu_memb_synchronize_rcu();
			else
				synchronize_srcu(&srcu);
			histogram_record(h, now_ns() - t0);
			break;
		case GP_EXPEDITED:
			synchronize_srcu_expedited(&srcu);
			histogram_record(h, now_ns() - t0);
			break;
		case GP_CALL:
			atomic_store_explicit(&cb.done, 0, memory_order_relaxed);
			cb.start = t0;
			if (p == PRIM_URCU_MEMB)
				urcu_memb_call_rcu(&cb.rcu_head, gp_rcu_cb);
			else
				call_srcu(&srcu, &cb.srcu_head, gp_srcu_cb);
			wait_callback(&cb);
			break;
		}
	}
	if (p == PRIM_URCU_MEMB)
		urcu_memb_barrier();
	if (nreaders) {
		atomic_store_explicit(&gr.stop, 1, memory_order_relaxed);
		workers_join(&g);
	}
	if (gr.srcu) {
		srcu_barrier(&srcu);
		srcu_destroy(&srcu);
	}
	free(cpus);
	return 0;
fail:
	if (gr.srcu)
		srcu_destroy(&srcu);
	free(cpus);
	return -1;
}

/* ---- command line, output ---- */

static void usage(FILE *f)
{
	fprintf(f,
"usage: dlbench srcu [OPTIONS]\n"
"SRCU read-side cost and grace-period latency, against liburcu and locks.\n\n"
"  -p, --primitives LIST  of srcu-mb,srcu-fast,urcu-memb,rwlock,mutex,refcount (default all)\n"
"  -r, --readers LIST     reader counts for the read side (default 1,2,4,... up to the CPUs)\n"
"  -d, --duration SEC     seconds per read-side cell (default 0.5)\n"
"  -C, --critical-ns NS   extra critical-section length, ns (default 0)\n"
"  -n, --repetitions N    repetitions of every cell (default 3)\n"
"  -g, --gp-samples N     grace periods measured per cell (default 200)\n"
"      --gp-readers N     readers present during grace periods (default CPUs - 1, at least 1)\n"
"      --no-read          skip the read-side cells\n"
"      --no-gp            skip the grace-period cells\n"
"  -c, --cpus LIST        CPUs for the readers (e.g. 0,2,4-7)\n"
"      --placement P      compact|spread when no CPU list is given (default compact)\n"
"  -o, --out DIR          results directory (must not exist; default results/<time>-srcu)\n"
"  -h, --help\n\n"
"Output: a table on stdout; summary.csv (one row per primitive, readers, kind and\n"
"repetition), hist/gp-*.csv grace-period histograms, meta.json.\n");
}

static void parse_args(int argc, char **argv, struct srcu_bench_config *cfg)
{
	static const struct option opts[] = {
		{ "primitives", required_argument, NULL, 'p' },
		{ "readers", required_argument, NULL, 'r' },
		{ "duration", required_argument, NULL, 'd' },
		{ "critical-ns", required_argument, NULL, 'C' },
		{ "repetitions", required_argument, NULL, 'n' },
		{ "gp-samples", required_argument, NULL, 'g' },
		{ "gp-readers", required_argument, NULL, 'G' },
		{ "no-read", no_argument, NULL, 'R' },
		{ "no-gp", no_argument, NULL, 'P' },
		{ "cpus", required_argument, NULL, 'c' },
		{ "placement", required_argument, NULL, 'L' },
		{ "out", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	int ncpu = topology_cpu_count(), c;
	bool prim_given = false, readers_given = false;

	memset(cfg, 0, sizeof(*cfg));
	cfg->duration_ns = 500000000ull;
	cfg->repetitions = 3;
	cfg->gp_samples = 200;
	cfg->gp_readers = ncpu > 1 ? (uint64_t)ncpu - 1 : 1;
	cfg->do_read = cfg->do_gp = true;
	cfg->placement = PLACEMENT_COMPACT;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":p:r:d:C:n:g:c:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'p': {
			char *copy = strdup(optarg), *save = NULL;

			prim_given = true;
			for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
				cfg->prim[cli_choice("-p/--primitives", t, primitive_names)] = true;
			free(copy);
			break;
		}
		case 'r':
			cfg->nreaders = cli_u64_list("-r/--readers", optarg, cfg->readers,
						     MAX_READER_COUNTS, 1, 4096);
			readers_given = true;
			break;
		case 'd':
			cfg->duration_ns = (uint64_t)(cli_double("-d/--duration", optarg, 0.001, 3600) * 1e9);
			break;
		case 'C': cfg->critical_ns = cli_u64("-C/--critical-ns", optarg, 0, 1000000000); break;
		case 'n': cfg->repetitions = cli_u64("-n/--repetitions", optarg, 1, 1000); break;
		case 'g': cfg->gp_samples = cli_u64("-g/--gp-samples", optarg, 1, 10000000); break;
		case 'G': cfg->gp_readers = cli_u64("--gp-readers", optarg, 0, 4096); break;
		case 'R': cfg->do_read = false; break;
		case 'P': cfg->do_gp = false; break;
		case 'c': cfg->cpu_list = optarg; break;
		case 'L':
			if (placement_parse(optarg, &cfg->placement))
				cli_die("--placement: unknown value '%s' (compact or spread)", optarg);
			break;
		case 'o': cfg->out = optarg; break;
		case 'h': usage(stdout); exit(0);
		case ':': cli_die("option %s needs a value (see --help)", argv[optind - 1]);
		default: cli_die("unknown option '%s' (see --help)", argv[optind - 1]);
		}
	}
	if (optind < argc)
		cli_die("unexpected argument '%s' (see --help)", argv[optind]);
	if (!prim_given)
		for (int i = 0; i < PRIM_COUNT; i++)
			cfg->prim[i] = true;
	if (!readers_given) {
		for (int n = 1; n < ncpu && cfg->nreaders < MAX_READER_COUNTS - 1; n *= 2)
			cfg->readers[cfg->nreaders++] = (uint64_t)n;
		cfg->readers[cfg->nreaders++] = (uint64_t)ncpu;
	}
	if (!cfg->do_read && !cfg->do_gp)
		cli_die("--no-read and --no-gp leave nothing to measure");
	if (cfg->cpu_list) {
		char err[256];
		int over, *cpus = calloc(4096 + 1, sizeof(int));

		if (topology_pick_cpus(1, cfg->placement, cfg->cpu_list, cpus, &over, err, sizeof(err)))
			cli_die("-c/--cpus: %s", err);
		free(cpus);
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void csv_header(FILE *f)
{
	fprintf(f, "primitive,readers,critical_section_ns,repetition,read_pair_ns,read_pairs_per_s,"
		   "gp_kind,readers_state,idle_fast_path,gp_samples,gp_p50_ns,gp_p99_ns,gp_max_ns,gp_mean_ns\n");
}

int cmd_srcu(int argc, char **argv)
{
	struct srcu_bench_config cfg;
	struct results_file summary;
	char dir[PATH_MAX], extra[256];
	int ncpu, rc = 0;
	double *samples;

	parse_args(argc, argv, &cfg);
	if (topology_init())
		return 1;
	ncpu = topology_cpu_count();
	for (size_t i = 0; i < cfg.nreaders; i++)
		if (cfg.readers[i] > (uint64_t)ncpu && !cfg.cpu_list)
			fprintf(stderr, "%s: warning: %llu readers on %d CPUs: overcommitted, readers share CPUs\n",
				cli_prog, (unsigned long long)cfg.readers[i], ncpu);
	if (results_dir_create(dir, sizeof(dir), cfg.out, "srcu"))
		return 2;
	if (results_file_open(&summary, dir, "summary.csv"))
		return 1;
	csv_header(summary.f);
	samples = calloc(cfg.repetitions, sizeof(double));

	if (cfg.do_read) {
		printf("Read side: ns per lock/unlock pair per reader (median of %llu), critical section %llu ns\n",
		       (unsigned long long)cfg.repetitions, (unsigned long long)cfg.critical_ns);
		printf("%-12s", "primitive");
		for (size_t i = 0; i < cfg.nreaders; i++)
			printf(" %8llu rd", (unsigned long long)cfg.readers[i]);
		printf("\n");
		for (int p = 0; p < PRIM_COUNT; p++) {
			if (!cfg.prim[p])
				continue;
			printf("%-12s", primitive_names[p]);
			fflush(stdout);
			for (size_t i = 0; i < cfg.nreaders; i++) {
				for (uint64_t r = 0; r < cfg.repetitions; r++) {
					double ns, rate;

					if (run_read_cell(&cfg, (enum primitive)p, (int)cfg.readers[i], &ns, &rate)) {
						rc = 1;
						goto out;
					}
					samples[r] = ns;
					fprintf(summary.f, "%s,%llu,%llu,%llu,%.3f,%.0f,none,,,,,,,\n",
						primitive_names[p], (unsigned long long)cfg.readers[i],
						(unsigned long long)cfg.critical_ns, (unsigned long long)r,
						ns, rate);
				}
				printf(" %11.2f", median(samples, cfg.repetitions));
				fflush(stdout);
			}
			printf("\n");
		}
		printf("\n");
	}

	if (cfg.do_gp) {
		static const enum primitive gp_prims[] = { PRIM_SRCU_MB, PRIM_SRCU_FAST, PRIM_URCU_MEMB };
		struct histogram *h = histogram_new(), *merged = histogram_new();

		printf("Grace periods: latency in us, %llu samples x %llu repetitions, %llu reader(s)\n",
		       (unsigned long long)cfg.gp_samples, (unsigned long long)cfg.repetitions,
		       (unsigned long long)cfg.gp_readers);
		printf("%-10s %-10s %-6s %-5s %10s %10s %10s\n", "primitive", "kind", "readers",
		       "idle", "p50", "p99", "max");
		for (size_t pi = 0; pi < sizeof(gp_prims) / sizeof(gp_prims[0]); pi++) {
			enum primitive p = gp_prims[pi];

			if (!cfg.prim[p])
				continue;
			for (int kind = GP_SYNC; kind <= GP_CALL; kind++) {
				if (p == PRIM_URCU_MEMB && kind == GP_EXPEDITED)
					continue;   /* liburcu has no expedited variant */
				for (int busy = 0; busy < 2; busy++) {
					for (int fastpath = 1; fastpath >= 0; fastpath--) {
						/* the idle fast path only matters for SRCU with idle readers */
						if (!fastpath && (p == PRIM_URCU_MEMB || busy))
							continue;
						histogram_init(merged);
						for (uint64_t r = 0; r < cfg.repetitions; r++) {
							if (run_gp_cell(&cfg, p, (enum gp_kind)kind, busy, fastpath,
									(int)cfg.gp_readers, h)) {
								rc = 1;
								goto out;
							}
							histogram_merge(merged, h);
							fprintf(summary.f, "%s,%llu,%llu,%llu,,,%s,%s,%s,%llu,%llu,%llu,%llu,%.0f\n",
								primitive_names[p], (unsigned long long)cfg.gp_readers,
								(unsigned long long)cfg.critical_ns, (unsigned long long)r,
								gp_kind_names[kind], busy ? "busy" : "idle",
								p == PRIM_URCU_MEMB ? "" : fastpath ? "1" : "0",
								(unsigned long long)h->count,
								(unsigned long long)histogram_quantile(h, 0.50),
								(unsigned long long)histogram_quantile(h, 0.99),
								(unsigned long long)h->max, histogram_mean(h));
						}
						printf("%-10s %-10s %-6s %-5s %10.1f %10.1f %10.1f\n", primitive_names[p],
						       gp_kind_names[kind], busy ? "busy" : "idle",
						       p == PRIM_URCU_MEMB ? "-" : fastpath ? "on" : "off",
						       histogram_quantile(merged, 0.50) / 1e3,
						       histogram_quantile(merged, 0.99) / 1e3, merged->max / 1e3);
						fflush(stdout);
						if (results_save_histogram(merged, dir, "hist/gp-%s-%s-%s%s.csv", primitive_names[p],
								   gp_kind_names[kind], busy ? "busy" : "idle",
								   p != PRIM_URCU_MEMB && !fastpath ? "-nofastpath" : "")) {
							rc = 1;
							goto out;
						}
					}
				}
			}
		}
		free(h);
		free(merged);
	}
out:
	free(samples);
	if (rc) {
		results_file_abort(&summary);
		return rc;
	}
	if (results_file_commit(&summary))
		return 1;
	snprintf(extra, sizeof(extra), "\"duration_ns\": %llu, \"repetitions\": %llu, \"gp_samples\": %llu",
		 (unsigned long long)cfg.duration_ns, (unsigned long long)cfg.repetitions,
		 (unsigned long long)cfg.gp_samples);
	if (meta_write(dir, argc, argv, "srcu", extra))
		return 1;
	printf("results: %s\n", dir);
	return 0;
}
