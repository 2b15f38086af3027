/*
 * dlbench srcu: read-side cost and grace-period latency of the SRCU core
 * against liburcu and locks, in the style of the kernel's refscale and
 * rcuscale.
 *
 * Read side: N pinned readers each run lock/unlock pairs (with an optional
 * critical section) for a fixed time, no updater; the figure is ns per pair
 * per reader, on the wall clock (read_pair_ns, the default) and on the
 * reader's CPU time (read_pair_cpu_ns, which leaves out time preempted).
 * Two loops: `plain` (lock; unlock) and `rcutorture`, shaped like
 * liburcu's rcutorture read loops: per read, dereference a protected
 * pointer, check the object, and count the read in memory.  Every
 * primitive gets its own copy of each loop, inlined, so the figure is the
 * primitive's cost and not a function-pointer call's.  liburcu is built
 * with _LGPL_SOURCE: its read lock is inlined as its users get it at its
 * best.
 *
 * Grace periods: synchronize, expedited synchronize and call_srcu (time to
 * callback) on every SRCU flavour, and liburcu's synchronize_rcu and
 * call_rcu, with registered readers idle and with readers busy in read
 * sections.
 */
#define _LGPL_SOURCE
#include <urcu/urcu-memb.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/srcu/srcu.h"
#include "lib/util/compiler.h"
#include "lib/util/histogram.h"
#include "lib/util/stats.h"
#include "lib/util/timing.h"
#include "lib/util/topology.h"
#include "lib/util/workers.h"
#include "workloads/threads.h"
#include "workloads/workload.h"

#define MAX_READER_COUNTS 64
#define MAX_READERS 4096
#define READ_BATCH 256 /* the stop flag is checked once per batch */
#define OBJ_MAGIC 0x5ca1ab1eu

/* ---- primitives ---- */

enum prim_kind {
	K_SRCU,
	K_URCU,
	K_RWLOCK,
	K_MUTEX,
	K_REFCOUNT
};

struct primitive {
	const char *name;
	enum prim_kind kind;
	enum srcu_flavour flavour; /* K_SRCU */
};

/* srcu-<flavour> for every flavour of lib/srcu, then the references. */
/* clang-format off */
static const struct primitive primitives[] = {
#define SRCU_PRIMITIVE(e, n) { "srcu-" n, K_SRCU, SRCU_FLAVOUR_##e },
	SRCU_FLAVOURS(SRCU_PRIMITIVE)
#undef SRCU_PRIMITIVE
	{ "urcu-memb", K_URCU, 0 },
	{ "rwlock", K_RWLOCK, 0 },
	{ "mutex", K_MUTEX, 0 },
	{ "refcount", K_REFCOUNT, 0 },
};
/* clang-format on */
#define NPRIMS ARRAY_SIZE(primitives)

/* What -p/--primitives means when not given (`all` adds srcu-classic,
 * whose normal grace period takes three membarrier(GLOBAL) calls). */
#define DEFAULT_PRIMITIVES "srcu-mb,srcu-fast,urcu-memb,rwlock,mutex,refcount"

enum loop {
	LOOP_PLAIN,
	LOOP_RCUTORTURE,
	LOOP_COUNT
};
static const char *const loop_names[] = { "plain", "rcutorture", NULL };

struct srcu_opts {
	const char *primitives;
	const char *readers;
	double duration;
	uint64_t critical_ns;
	uint64_t repetitions;
	uint64_t gp_samples;
	const char *gp_readers;
	bool no_read, no_gp;
	const char *cpus;
	int placement;
	const char *loops;
	uint64_t hz;
	int expedited; /* enum srcu_expedited: srcu-classic's */
};

/* The options' lists, parsed. */
struct plan {
	bool prim[NPRIMS];
	bool loop[LOOP_COUNT];
	uint64_t readers[MAX_READER_COUNTS];
	size_t nreaders;
	int gp_readers;
};

/* clang-format off */
enum {
	COL_PRIMITIVE, COL_READERS, COL_CRITICAL, COL_REPETITION, COL_READ_PAIR_NS,
	COL_READ_PAIRS_PER_S, COL_GP_KIND, COL_READERS_STATE, COL_IDLE_FAST_PATH, COL_GP_SAMPLES,
	COL_GP_P50, COL_GP_P99, COL_GP_MAX, COL_GP_MEAN, COL_READ_PAIR_CPU_NS, COL_LOOP,
};
/* clang-format on */

/* clang-format off */
static const struct wl_column srcu_columns[] = {
	[COL_PRIMITIVE] = { "primitive", WL_COL_TEXT, "" },
	[COL_READERS] = { "readers", WL_COL_UINT, "threads" },
	[COL_CRITICAL] = { "critical_section_ns", WL_COL_UINT, "ns" },
	[COL_REPETITION] = { "repetition", WL_COL_UINT, "" },
	[COL_READ_PAIR_NS] = { "read_pair_ns", WL_COL_REAL, "ns (wall clock)", 0, "%.3f" },
	[COL_READ_PAIRS_PER_S] = { "read_pairs_per_s", WL_COL_REAL, "1/s", 0, "%.0f" },
	[COL_GP_KIND] = { "gp_kind", WL_COL_TEXT, "" },
	[COL_READERS_STATE] = { "readers_state", WL_COL_TEXT, "" },
	[COL_IDLE_FAST_PATH] = { "idle_fast_path", WL_COL_TEXT, "" },
	[COL_GP_SAMPLES] = { "gp_samples", WL_COL_UINT, "" },
	[COL_GP_P50] = { "gp_p50_ns", WL_COL_UINT, "ns" },
	[COL_GP_P99] = { "gp_p99_ns", WL_COL_UINT, "ns" },
	[COL_GP_MAX] = { "gp_max_ns", WL_COL_UINT, "ns" },
	[COL_GP_MEAN] = { "gp_mean_ns", WL_COL_REAL, "ns", 0, "%.0f" },
	[COL_READ_PAIR_CPU_NS] = { "read_pair_cpu_ns", WL_COL_REAL, "ns (thread CPU time)", 0, "%.3f" },
	[COL_LOOP] = { "loop", WL_COL_TEXT, "" },
	{ 0 },
};
/* clang-format on */

/* ---- option lists ---- */

static int find_primitive(const char *name)
{
	for (size_t i = 0; i < NPRIMS; i++)
		if (!strcmp(primitives[i].name, name))
			return (int)i;
	return -1;
}

/* Calls @fn for each comma-separated item of @list; -1 if one refuses. */
static int for_each_item(const char *list,
			 int (*fn)(void *arg, const char *item, char *err, size_t errlen),
			 void *arg, char *err, size_t errlen)
{
	char item[64];

	for (const char *p = list;; p++) {
		size_t n = strcspn(p, ",");

		if (n == 0 || n >= sizeof(item)) {
			snprintf(err, errlen, "'%s' has an empty or overlong item", list);
			return -1;
		}
		memcpy(item, p, n);
		item[n] = 0;
		if (fn(arg, item, err, errlen))
			return -1;
		p += n;
		if (!*p)
			return 0;
	}
}

static int take_primitive(void *arg, const char *item, char *err, size_t errlen)
{
	bool *sel = arg;
	int i = find_primitive(item);
	size_t used;

	if (!strcmp(item, "all")) {
		for (size_t k = 0; k < NPRIMS; k++)
			sel[k] = true;
		return 0;
	}
	if (i >= 0) {
		sel[i] = true;
		return 0;
	}
	used = (size_t)snprintf(err, errlen, "unknown primitive '%s' (one of: all", item);
	for (size_t k = 0; k < NPRIMS && used < errlen; k++)
		used += (size_t)snprintf(err + used, errlen - used, ", %s", primitives[k].name);
	if (used < errlen)
		snprintf(err + used, errlen - used, ")");
	return -1;
}

static int take_loop(void *arg, const char *item, char *err, size_t errlen)
{
	bool *sel = arg;

	for (int i = 0; i < LOOP_COUNT; i++)
		if (!strcmp(item, loop_names[i]) || !strcmp(item, "all")) {
			sel[i] = true;
			if (strcmp(item, "all"))
				return 0;
		}
	if (!strcmp(item, "all"))
		return 0;
	snprintf(err, errlen, "unknown loop '%s' (plain, rcutorture or all)", item);
	return -1;
}

static int parse_count(const char *s, uint64_t min, uint64_t max, uint64_t *v, char *err,
		       size_t errlen)
{
	char *end;

	*v = strtoull(s, &end, 10);
	if (!*s || *s == '-' || *end || *v < min || *v > max) {
		snprintf(err, errlen, "'%s' is not an integer in [%llu, %llu]", s,
			 (unsigned long long)min, (unsigned long long)max);
		return -1;
	}
	return 0;
}

static int take_readers(void *arg, const char *item, char *err, size_t errlen)
{
	struct plan *p = arg;

	if (p->nreaders == MAX_READER_COUNTS) {
		snprintf(err, errlen, "more than %d reader counts", MAX_READER_COUNTS);
		return -1;
	}
	return parse_count(item, 1, MAX_READERS, &p->readers[p->nreaders++], err, errlen);
}

static int check_primitives(const char *v, char *err, size_t errlen)
{
	bool sel[NPRIMS] = { false };

	return for_each_item(v, take_primitive, sel, err, errlen);
}

static int check_loops(const char *v, char *err, size_t errlen)
{
	bool sel[LOOP_COUNT] = { false };

	return for_each_item(v, take_loop, sel, err, errlen);
}

static int check_readers(const char *v, char *err, size_t errlen)
{
	struct plan p = { .nreaders = 0 };

	return for_each_item(v, take_readers, &p, err, errlen);
}

static int check_gp_readers(const char *v, char *err, size_t errlen)
{
	uint64_t n;

	return parse_count(v, 0, MAX_READERS, &n, err, errlen);
}

static int check_cpus(const char *v, char *err, size_t errlen)
{
	int cpu, over;

	if (topology_init()) {
		snprintf(err, errlen, "hwloc cannot read the topology");
		return -1;
	}
	return topology_pick_cpus(1, PLACEMENT_COMPACT, v, &cpu, &over, err, errlen);
}

/* The lists of @o into @p: 0, or WL_BAD_INPUT with one line in @err. */
static int plan_build(const struct srcu_opts *o, struct plan *p, char *err, size_t errlen)
{
	int ncpu = topology_cpu_count();
	uint64_t g;

	memset(p, 0, sizeof(*p));
	if (for_each_item(o->primitives ? o->primitives : DEFAULT_PRIMITIVES, take_primitive,
			  p->prim, err, errlen) ||
	    for_each_item(o->loops, take_loop, p->loop, err, errlen))
		return WL_BAD_INPUT;
	if (o->readers) {
		if (for_each_item(o->readers, take_readers, p, err, errlen))
			return WL_BAD_INPUT;
	} else {
		for (int n = 1; n < ncpu && p->nreaders < MAX_READER_COUNTS - 1; n *= 2)
			p->readers[p->nreaders++] = (uint64_t)n;
		p->readers[p->nreaders++] = (uint64_t)(ncpu > 0 ? ncpu : 1);
	}
	p->gp_readers = ncpu > 1 ? ncpu - 1 : 1;
	if (o->gp_readers) {
		if (parse_count(o->gp_readers, 0, MAX_READERS, &g, err, errlen))
			return WL_BAD_INPUT;
		p->gp_readers = (int)g;
	}
	return 0;
}

/* ---- read side ---- */

struct read_obj {
	unsigned magic;
};

/* One reader's figures; its reads counter is the rcutorture loop's
 * counter in memory. */
struct read_result {
	_Alignas(CACHELINE) uint64_t reads;
	uint64_t errors;
	uint64_t wall_ns, cpu_ns;
	int failed;
};

struct read_shared {
	const struct primitive *prim;
	enum loop loop;
	uint64_t critical_ns;
	atomic_int stop;
	struct srcu_struct *srcu;
	pthread_rwlock_t rwlock;
	pthread_mutex_t mutex;
	struct read_obj obj;
	/* the protected pointer of the rcutorture loop */
	struct read_obj *_Atomic ptr;
	struct read_result *results; /* one per reader */
	/* The shared reference count: the one cache line every reader bounces. */
	_Alignas(CACHELINE) atomic_long refcount;
};

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* relaxed: a stop flag; it publishes nothing (workers_join orders what
 * the readers wrote before the updater reads it) */
#define STOPPED() atomic_load_explicit(&sh->stop, memory_order_relaxed)

/* lock; [critical section]; unlock, READ_BATCH at a time. */
#define PLAIN_LOOP(lock_stmt, unlock_stmt)                \
	while (!STOPPED()) {                              \
		for (int k_ = 0; k_ < READ_BATCH; k_++) { \
			lock_stmt;                        \
			if (cs)                           \
				spin_for_ns(cs);          \
			unlock_stmt;                      \
		}                                         \
		res->reads += READ_BATCH;                 \
	}

/* As liburcu's rcutorture readers: dereference the protected pointer and
 * check the object inside the section, count each read in memory. */
#define RCUTORTURE_LOOP(lock_stmt, unlock_stmt)                                    \
	while (!STOPPED()) {                                                       \
		for (int k_ = 0; k_ < READ_BATCH; k_++) {                          \
			const struct read_obj *p_;                                 \
			lock_stmt;                                                 \
			/* acquire: rcu_dereference */                             \
			p_ = atomic_load_explicit(&sh->ptr, memory_order_acquire); \
			if (p_->magic != OBJ_MAGIC)                                \
				res->errors++;                                     \
			if (cs)                                                    \
				spin_for_ns(cs);                                   \
			unlock_stmt;                                               \
			res->reads++;                                              \
		}                                                                  \
	}

#define READ_LOOP(lock_stmt, unlock_stmt)                       \
	do {                                                    \
		if (sh->loop == LOOP_RCUTORTURE) {              \
			RCUTORTURE_LOOP(lock_stmt, unlock_stmt) \
		} else {                                        \
			PLAIN_LOOP(lock_stmt, unlock_stmt)      \
		}                                               \
	} while (0)

static void read_srcu(struct read_shared *sh, struct read_result *res, uint64_t cs)
{
	struct srcu_reader *r = srcu_register_reader(sh->srcu, "bench", NULL, 0);
	int idx;

	if (!r) {
		res->failed = 1;
		return;
	}
	READ_LOOP(idx = srcu_read_lock(r), srcu_read_unlock(r, idx));
	srcu_unregister_reader(r, NULL, 0);
}

static void read_urcu(struct read_shared *sh, struct read_result *res, uint64_t cs)
{
	urcu_memb_register_thread();
	READ_LOOP(urcu_memb_read_lock(), urcu_memb_read_unlock());
	urcu_memb_unregister_thread();
}

static void read_locks(struct read_shared *sh, struct read_result *res, uint64_t cs)
{
	if (sh->prim->kind == K_RWLOCK)
		READ_LOOP(pthread_rwlock_rdlock(&sh->rwlock), pthread_rwlock_unlock(&sh->rwlock));
	else if (sh->prim->kind == K_MUTEX)
		READ_LOOP(pthread_mutex_lock(&sh->mutex), pthread_mutex_unlock(&sh->mutex));
	else
		/* acquire on get, release on put: the ordering a reference
		 * count needs around the object it protects */
		READ_LOOP(atomic_fetch_add_explicit(&sh->refcount, 1, memory_order_acquire),
			  atomic_fetch_sub_explicit(&sh->refcount, 1, memory_order_release));
}

/* One reader: the loop between two readings of both clocks.  Registration
 * (srcu, urcu) is inside the timed span; it is done once per reader and
 * the span holds millions of pairs. */
static void read_worker(struct worker *w)
{
	struct read_shared *sh = w->arg;
	struct read_result *res = &sh->results[w->index];
	uint64_t t0 = now_ns(), c0 = thread_cpu_ns();

	switch (sh->prim->kind) {
	case K_SRCU:
		read_srcu(sh, res, sh->critical_ns);
		break;
	case K_URCU:
		read_urcu(sh, res, sh->critical_ns);
		break;
	default:
		read_locks(sh, res, sh->critical_ns);
		break;
	}
	res->cpu_ns = thread_cpu_ns() - c0;
	res->wall_ns = now_ns() - t0;
}

struct read_figures {
	double wall_ns, cpu_ns, pairs_per_s; /* per pair, mean over readers */
};

static int srcu_domain_init(struct srcu_struct *sp, enum srcu_flavour f, bool idle_path,
			    const struct srcu_opts *so, const char *name, char *err, size_t errlen)
{
	struct srcu_options o;

	srcu_options_default(&o);
	o.flavour = f;
	o.idle_fast_path = idle_path;
	o.hz = (unsigned)so->hz;
	o.expedited = (enum srcu_expedited)so->expedited;
	o.name = name;
	return srcu_init(sp, &o, err, errlen) ? WL_ERROR : 0;
}

/* @n readers' CPUs, allocated into *@cpus: 0, WL_ERROR or WL_BAD_INPUT. */
static int pick_cpus(const struct srcu_opts *o, int n, int **cpus, char *err, size_t errlen)
{
	int over;

	return workload_alloc_cpus(n, (enum placement)o->placement, o->cpus, "--cpus", cpus, &over,
				   err, errlen);
}

/* Starts the readers, lets them run for the duration, stops them. */
static int read_run_readers(const struct srcu_opts *o, struct read_shared *sh, int n, char *err,
			    size_t errlen)
{
	struct workers g;
	int *cpus;
	int rc = pick_cpus(o, n, &cpus, err, errlen);

	if (!rc && workers_start(&g, n, cpus, read_worker, sh, "reader")) {
		snprintf(err, errlen, "cannot start %d pinned readers", n);
		rc = WL_ERROR;
	}
	if (!rc) {
		workers_go(&g);
		sleep_ns((uint64_t)(o->duration * 1e9));
		/* relaxed: see STOPPED() */
		atomic_store_explicit(&sh->stop, 1, memory_order_relaxed);
		workers_join(&g);
	}
	free(cpus);
	return rc;
}

static int read_figures(const struct srcu_opts *o, const struct read_shared *sh, int n,
			struct read_figures *f, char *err, size_t errlen)
{
	uint64_t total = 0, errors = 0;

	memset(f, 0, sizeof(*f));
	for (int i = 0; i < n; i++) {
		const struct read_result *r = &sh->results[i];

		if (r->failed) {
			snprintf(err, errlen, "%s: a reader could not register", sh->prim->name);
			return WL_ERROR;
		}
		if (r->reads) {
			f->wall_ns += (double)r->wall_ns / (double)r->reads / n;
			f->cpu_ns += (double)r->cpu_ns / (double)r->reads / n;
		}
		total += r->reads;
		errors += r->errors;
	}
	if (errors) {
		snprintf(err, errlen, "%s: %llu reads saw a bad object", sh->prim->name,
			 (unsigned long long)errors);
		return WL_ERROR;
	}
	f->pairs_per_s = (double)total / o->duration;
	return 0;
}

/* One read-side cell: @n readers of primitive @p in loop @loop. */
static int read_cell(const struct srcu_opts *o, const struct primitive *p, enum loop loop, int n,
		     struct read_figures *f, char *err, size_t errlen)
{
	struct read_shared *sh = aligned_alloc(CACHELINE, sizeof(*sh));
	struct srcu_struct srcu;
	bool srcu_ready = false;
	int rc = 0;

	if (!sh || !(sh->results = aligned_alloc(CACHELINE, (size_t)n * sizeof(*sh->results)))) {
		free(sh);
		snprintf(err, errlen, "out of memory");
		return WL_ERROR;
	}
	memset(sh->results, 0, (size_t)n * sizeof(*sh->results));
	sh->prim = p;
	sh->loop = loop;
	sh->critical_ns = o->critical_ns;
	atomic_init(&sh->stop, 0);
	atomic_init(&sh->refcount, 0);
	sh->obj.magic = OBJ_MAGIC;
	atomic_init(&sh->ptr, &sh->obj);
	sh->srcu = p->kind == K_SRCU ? &srcu : NULL;
	pthread_rwlock_init(&sh->rwlock, NULL);
	pthread_mutex_init(&sh->mutex, NULL);
	if (sh->srcu) {
		rc = srcu_domain_init(&srcu, p->flavour, true, o, "bench", err, errlen);
		srcu_ready = !rc;
	}
	if (!rc)
		rc = read_run_readers(o, sh, n, err, errlen);
	if (!rc)
		rc = read_figures(o, sh, n, f, err, errlen);
	if (srcu_ready && srcu_destroy(&srcu, rc ? NULL : err, errlen) && !rc)
		rc = WL_ERROR;
	pthread_rwlock_destroy(&sh->rwlock);
	pthread_mutex_destroy(&sh->mutex);
	free(sh->results);
	free(sh);
	return rc;
}

static void read_row(struct wl_ctx *ctx, const struct srcu_opts *o, const struct primitive *p,
		     enum loop loop, uint64_t readers, uint64_t rep, const struct read_figures *f)
{
	wl_row_begin(ctx);
	wl_put_text(ctx, COL_PRIMITIVE, p->name);
	wl_put_uint(ctx, COL_READERS, readers);
	wl_put_uint(ctx, COL_CRITICAL, o->critical_ns);
	wl_put_uint(ctx, COL_REPETITION, rep);
	wl_put_real(ctx, COL_READ_PAIR_NS, f->wall_ns);
	wl_put_real(ctx, COL_READ_PAIRS_PER_S, f->pairs_per_s);
	wl_put_text(ctx, COL_GP_KIND, "none");
	wl_put_real(ctx, COL_READ_PAIR_CPU_NS, f->cpu_ns);
	wl_put_text(ctx, COL_LOOP, loop_names[loop]);
}

/* The stdout table of one loop: a row of medians per primitive. */
static void read_print(struct wl_ctx *ctx, const struct srcu_opts *o, const struct plan *pl,
		       enum loop loop, double *wall)
{
	size_t n = 0;

	wl_printf(ctx,
		  "Read side, %s loop: wall-clock ns per lock/unlock pair per reader (median of "
		  "%llu), critical section %llu ns\n",
		  loop_names[loop], (unsigned long long)o->repetitions,
		  (unsigned long long)o->critical_ns);
	wl_printf(ctx, "%-12s", "primitive");
	for (size_t i = 0; i < pl->nreaders; i++)
		wl_printf(ctx, " %8llu rd", (unsigned long long)pl->readers[i]);
	wl_printf(ctx, "\n");
	for (size_t pi = 0; pi < NPRIMS; pi++) {
		if (!pl->prim[pi])
			continue;
		wl_printf(ctx, "%-12s", primitives[pi].name);
		for (size_t i = 0; i < pl->nreaders; i++, n++)
			wl_printf(ctx, " %11.2f",
				  stats_median(&wall[n * o->repetitions], o->repetitions));
		wl_printf(ctx, "\n");
	}
	wl_printf(ctx, "\n");
}

/*
 * Every read-side cell of one loop.  Repetitions are the outer loop, so
 * that each round measures every primitive back to back: on a shared
 * machine, load that comes and goes lands on all of them alike.
 */
static int read_table(struct wl_ctx *ctx, const struct srcu_opts *o, const struct plan *pl,
		      enum loop loop, char *err, size_t errlen)
{
	double *wall = calloc(NPRIMS * pl->nreaders * o->repetitions, sizeof(*wall));
	int rc = 0;

	if (!wall) {
		snprintf(err, errlen, "out of memory");
		return WL_ERROR;
	}
	for (uint64_t r = 0; r < o->repetitions && !rc; r++) {
		size_t n = 0;

		for (size_t pi = 0; pi < NPRIMS && !rc; pi++) {
			for (size_t i = 0; pl->prim[pi] && i < pl->nreaders && !rc; i++, n++) {
				struct read_figures f;

				wl_progress(ctx, "read side, %s loop, round %llu: %s, %llu readers",
					    loop_names[loop], (unsigned long long)r + 1,
					    primitives[pi].name,
					    (unsigned long long)pl->readers[i]);
				rc = read_cell(o, &primitives[pi], loop, (int)pl->readers[i], &f,
					       err, errlen);
				if (rc)
					break;
				wall[n * o->repetitions + r] = f.wall_ns;
				read_row(ctx, o, &primitives[pi], loop, pl->readers[i], r, &f);
				if (wl_row_end(ctx))
					rc = WL_ERROR;
			}
		}
	}
	if (!rc)
		read_print(ctx, o, pl, loop, wall);
	free(wall);
	return rc;
}

/* ---- grace periods ---- */

enum gp_kind {
	GP_SYNC,
	GP_EXPEDITED,
	GP_CALL,
	GP_KIND_COUNT
};
static const char *const gp_kind_names[] = { "sync", "expedited", "call" };

/* One grace-period cell. */
struct gp_cell {
	const struct primitive *prim;
	enum gp_kind kind;
	bool busy;
	bool idle_path;
};

struct gp_readers {
	const struct primitive *prim;
	bool busy;
	uint64_t critical_ns;
	struct srcu_struct *srcu;
	atomic_int stop;
	atomic_int registered;
	atomic_int failed;
};

static void gp_reader_sections(struct gp_readers *gr, struct srcu_reader *r)
{
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

/* Readers registered with the domain: busy ones run read sections without
 * pause; idle ones sleep outside any read section. */
static void gp_reader_worker(struct worker *w)
{
	struct gp_readers *gr = w->arg;
	struct srcu_reader *r = NULL;

	if (gr->prim->kind == K_URCU)
		urcu_memb_register_thread();
	else if (!(r = srcu_register_reader(gr->srcu, "gp-bench", NULL, 0)))
		/* relaxed: published by the release of registered below */
		atomic_store_explicit(&gr->failed, 1, memory_order_relaxed);
	/* release: pairs with the updater's acquire wait for every reader to
	 * be registered before it measures */
	atomic_fetch_add_explicit(&gr->registered, 1, memory_order_release);
	/* relaxed: a stop flag; workers_join orders the rest */
	while (!atomic_load_explicit(&gr->stop, memory_order_relaxed)) {
		if (!gr->busy)
			sleep_ns(1000000);
		else if (r || gr->prim->kind == K_URCU)
			gp_reader_sections(gr, r);
	}
	if (r)
		srcu_unregister_reader(r, NULL, 0);
	else if (gr->prim->kind == K_URCU)
		urcu_memb_unregister_thread();
}

struct gp_callback {
	struct srcu_head srcu_head;
	struct rcu_head rcu_head;
	uint64_t start;
	struct histogram *h;
	atomic_int done;
};

static void gp_callback_done(struct gp_callback *c)
{
	histogram_record(c->h, now_ns() - c->start);
	/* release: the histogram sample is visible to the updater once it
	 * sees done (wait_callback's acquire) */
	atomic_store_explicit(&c->done, 1, memory_order_release);
}

static void gp_srcu_cb(struct srcu_head *head)
{
	gp_callback_done(container_of(head, struct gp_callback, srcu_head));
}

static void gp_rcu_cb(struct rcu_head *head)
{
	gp_callback_done(container_of(head, struct gp_callback, rcu_head));
}

static void wait_callback(struct gp_callback *c)
{
	/* acquire: pairs with the callback's release of done */
	while (!atomic_load_explicit(&c->done, memory_order_acquire))
		sleep_ns(2000);
}

/* One grace period (or callback) of @c, timed into @cb->h. */
static int gp_sample(const struct gp_cell *c, struct srcu_struct *sp, struct gp_callback *cb)
{
	bool urcu = c->prim->kind == K_URCU;
	uint64_t t0 = now_ns();
	int rc = 0;

	if (c->kind == GP_CALL) {
		/* relaxed: queueing the callback (a lock) hands it over */
		atomic_store_explicit(&cb->done, 0, memory_order_relaxed);
		cb->start = t0;
		if (urcu)
			urcu_memb_call_rcu(&cb->rcu_head, gp_rcu_cb);
		else if ((rc = call_srcu(sp, &cb->srcu_head, gp_srcu_cb)))
			return rc;
		wait_callback(cb);
		return 0;
	}
	if (urcu)
		urcu_memb_synchronize_rcu();
	else
		rc = c->kind == GP_EXPEDITED ? synchronize_srcu_expedited(sp)
					     : synchronize_srcu(sp);
	histogram_record(cb->h, now_ns() - t0);
	return rc;
}

/* Starts @n readers of @gr (*started then says to join them) and waits
 * until all are registered. */
static int gp_readers_start(const struct srcu_opts *o, struct gp_readers *gr, struct workers *g,
			    int n, bool *started, char *err, size_t errlen)
{
	int *cpus;
	int rc = pick_cpus(o, n, &cpus, err, errlen);

	if (!rc && workers_start(g, n, cpus, gp_reader_worker, gr, "reader")) {
		snprintf(err, errlen, "cannot start %d pinned readers", n);
		rc = WL_ERROR;
	}
	free(cpus);
	if (rc)
		return rc;
	*started = true;
	workers_go(g);
	/* acquire: pairs with each reader's release after registering */
	while (atomic_load_explicit(&gr->registered, memory_order_acquire) < n)
		sleep_ns(100000);
	/* relaxed: the acquire wait above ordered it */
	if (atomic_load_explicit(&gr->failed, memory_order_relaxed)) {
		snprintf(err, errlen, "%s: a reader could not register", gr->prim->name);
		rc = WL_ERROR;
	}
	return rc;
}

/* The samples of one cell and repetition, with its readers running. */
static int gp_measure(const struct srcu_opts *o, const struct gp_cell *c, struct srcu_struct *sp,
		      struct histogram *h, char *err, size_t errlen)
{
	struct gp_callback cb;
	int rc = 0;

	histogram_init(h);
	memset(&cb, 0, sizeof(cb));
	cb.h = h;
	for (uint64_t s = 0; s < o->gp_samples && !rc; s++)
		rc = gp_sample(c, sp, &cb);
	if (c->prim->kind == K_URCU)
		urcu_memb_barrier();
	else if (!rc)
		rc = srcu_barrier(sp);
	if (rc) {
		snprintf(err, errlen, "%s: grace period failed: %s", c->prim->name, strerror(-rc));
		return WL_ERROR;
	}
	return 0;
}

/* One repetition of cell @c with @n registered readers into @h. */
static int gp_rep(const struct srcu_opts *o, const struct gp_cell *c, int n, struct histogram *h,
		  char *err, size_t errlen)
{
	struct srcu_struct srcu;
	struct gp_readers gr = { .prim = c->prim, .busy = c->busy, .critical_ns = o->critical_ns };
	struct workers g;
	bool started = false;
	int rc = 0;

	if (c->prim->kind == K_SRCU) {
		if (srcu_domain_init(&srcu, c->prim->flavour, c->idle_path, o, "gp-bench", err,
				     errlen))
			return WL_ERROR;
		gr.srcu = &srcu;
	} else {
		urcu_memb_register_thread();
	}
	if (n)
		rc = gp_readers_start(o, &gr, &g, n, &started, err, errlen);
	if (c->prim->kind == K_URCU)
		urcu_memb_unregister_thread(); /* the updater is not a reader */
	if (!rc)
		rc = gp_measure(o, c, gr.srcu, h, err, errlen);
	if (started) {
		/* relaxed: workers_join, next, orders the rest */
		atomic_store_explicit(&gr.stop, 1, memory_order_relaxed);
		workers_join(&g);
	}
	if (gr.srcu && srcu_destroy(&srcu, rc ? NULL : err, errlen) && !rc)
		rc = WL_ERROR;
	return rc;
}

static const char *gp_idle_path_text(const struct gp_cell *c)
{
	/* empty where there is none: liburcu, and classic (2012 had none) */
	if (c->prim->kind != K_SRCU || c->prim->flavour == SRCU_FLAVOUR_CLASSIC)
		return "";
	return c->idle_path ? "1" : "0";
}

static void gp_row(struct wl_ctx *ctx, const struct srcu_opts *o, const struct gp_cell *c,
		   int readers, uint64_t rep, const struct histogram *h)
{
	wl_row_begin(ctx);
	wl_put_text(ctx, COL_PRIMITIVE, c->prim->name);
	wl_put_uint(ctx, COL_READERS, (uint64_t)readers);
	wl_put_uint(ctx, COL_CRITICAL, o->critical_ns);
	wl_put_uint(ctx, COL_REPETITION, rep);
	wl_put_text(ctx, COL_GP_KIND, gp_kind_names[c->kind]);
	wl_put_text(ctx, COL_READERS_STATE, c->busy ? "busy" : "idle");
	wl_put_text(ctx, COL_IDLE_FAST_PATH, gp_idle_path_text(c));
	wl_put_uint(ctx, COL_GP_SAMPLES, h->count);
	wl_put_uint(ctx, COL_GP_P50, histogram_quantile(h, 0.50));
	wl_put_uint(ctx, COL_GP_P99, histogram_quantile(h, 0.99));
	wl_put_uint(ctx, COL_GP_MAX, h->max);
	wl_put_real(ctx, COL_GP_MEAN, histogram_mean(h));
}

#define MAX_GP_CELLS 64

/* The grace-period cells of the chosen primitives, in table order. */
static int gp_cells(const struct plan *pl, struct gp_cell *cells)
{
	int n = 0;

	for (size_t pi = 0; pi < NPRIMS; pi++) {
		const struct primitive *p = &primitives[pi];
		bool has_idle_path = p->kind == K_SRCU && p->flavour != SRCU_FLAVOUR_CLASSIC;

		if (!pl->prim[pi] || (p->kind != K_SRCU && p->kind != K_URCU))
			continue;
		for (int kind = 0; kind < GP_KIND_COUNT; kind++) {
			if (p->kind == K_URCU && kind == GP_EXPEDITED)
				continue; /* liburcu has no expedited variant */
			for (int busy = 0; busy < 2; busy++)
				for (int fastpath = 1; fastpath >= 0; fastpath--) {
					/* the idle fast path only matters with idle readers */
					if ((!fastpath && (!has_idle_path || busy)) ||
					    n == MAX_GP_CELLS)
						continue;
					cells[n++] = (struct gp_cell){ p, (enum gp_kind)kind, busy,
								       fastpath };
				}
		}
	}
	return n;
}

/* A cell's stdout line and histogram, over every repetition. */
static int gp_report(struct wl_ctx *ctx, const struct gp_cell *c, const struct histogram *merged)
{
	const char *idle = gp_idle_path_text(c);

	wl_printf(ctx, "%-12s %-10s %-6s %-5s %10.1f %10.1f %10.1f\n", c->prim->name,
		  gp_kind_names[c->kind], c->busy ? "busy" : "idle",
		  !*idle	 ? "-"
		  : c->idle_path ? "on"
				 : "off",
		  histogram_quantile(merged, 0.50) / 1e3, histogram_quantile(merged, 0.99) / 1e3,
		  merged->max / 1e3);
	return wl_save_histogram(ctx, merged, "gp-%s-%s-%s%s", c->prim->name,
				 gp_kind_names[c->kind], c->busy ? "busy" : "idle",
				 *idle == '0' ? "-nofastpath" : "")
		       ? WL_ERROR
		       : 0;
}

/* One round: a repetition of every cell, merged into @merged[c]. */
static int gp_round(struct wl_ctx *ctx, const struct srcu_opts *o, const struct plan *pl,
		    const struct gp_cell *cells, int n, uint64_t rep, struct histogram *h,
		    struct histogram **merged, char *err, size_t errlen)
{
	for (int c = 0; c < n; c++) {
		int rc;

		wl_progress(ctx, "grace periods, round %llu: %s %s, readers %s",
			    (unsigned long long)rep + 1, cells[c].prim->name,
			    gp_kind_names[cells[c].kind], cells[c].busy ? "busy" : "idle");
		rc = gp_rep(o, &cells[c], pl->gp_readers, h, err, errlen);
		if (rc)
			return rc;
		histogram_merge(merged[c], h);
		gp_row(ctx, o, &cells[c], pl->gp_readers, rep, h);
		if (wl_row_end(ctx))
			return WL_ERROR;
	}
	return 0;
}

/*
 * Every grace-period cell.  As on the read side, repetitions are the outer
 * loop: each round measures every cell back to back.
 */
static int gp_table(struct wl_ctx *ctx, const struct srcu_opts *o, const struct plan *pl, char *err,
		    size_t errlen)
{
	struct gp_cell cells[MAX_GP_CELLS];
	int n = gp_cells(pl, cells), rc = 0;
	struct histogram *h = histogram_new(), *merged[MAX_GP_CELLS] = { NULL };

	for (int c = 0; c < n; c++)
		if (!(merged[c] = histogram_new()))
			rc = WL_ERROR;
	if (!h || rc) {
		snprintf(err, errlen, "out of memory");
		rc = WL_ERROR;
	}
	for (uint64_t r = 0; r < o->repetitions && !rc; r++)
		rc = gp_round(ctx, o, pl, cells, n, r, h, merged, err, errlen);
	if (!rc) {
		wl_printf(ctx,
			  "Grace periods: latency in us, %llu samples x %llu repetitions, %d "
			  "reader(s)\n",
			  (unsigned long long)o->gp_samples, (unsigned long long)o->repetitions,
			  pl->gp_readers);
		wl_printf(ctx, "%-12s %-10s %-6s %-5s %10s %10s %10s\n", "primitive", "kind",
			  "readers", "idle", "p50", "p99", "max");
	}
	for (int c = 0; c < n && !rc; c++)
		rc = gp_report(ctx, &cells[c], merged[c]);
	for (int c = 0; c < n; c++)
		free(merged[c]);
	free(h);
	return rc;
}

/* ---- the workload ---- */

static int srcu_check(const void *opts, char *err, size_t errlen)
{
	const struct srcu_opts *o = opts;
	struct plan pl;
	int rc;

	if (o->no_read && o->no_gp) {
		snprintf(err, errlen, "--no-read and --no-gp leave nothing to measure");
		return WL_BAD_INPUT;
	}
	if (topology_init()) {
		snprintf(err, errlen, "hwloc cannot read the topology");
		return WL_BAD_INPUT;
	}
	if ((rc = plan_build(o, &pl, err, errlen)))
		return rc;
	/* can each chosen SRCU flavour run here (classic needs membarrier)? */
	for (size_t pi = 0; pi < NPRIMS; pi++) {
		struct srcu_struct sp;

		if (!pl.prim[pi] || primitives[pi].kind != K_SRCU)
			continue;
		if (srcu_domain_init(&sp, primitives[pi].flavour, true, o, "check", err, errlen))
			return WL_BAD_INPUT;
		srcu_destroy(&sp, NULL, 0);
	}
	return 0;
}

/* A fast domain that became mb says so once, and in meta.json. */
static void srcu_fallback_notice(struct wl_ctx *ctx, const struct srcu_opts *o,
				 const struct plan *pl)
{
	char err[256];
	struct srcu_struct sp;
	int f = SRCU_FLAVOUR_FAST;

	if (!pl->prim[f] ||
	    srcu_domain_init(&sp, SRCU_FLAVOUR_FAST, true, o, "bench", err, sizeof(err)))
		return;
	if (srcu_flavour_of(&sp) != SRCU_FLAVOUR_FAST) {
		wl_notice(ctx, "%s", err);
		wl_meta(ctx, "srcu_fast_runs_as", "\"mb\"");
	}
	srcu_destroy(&sp, NULL, 0);
}

/* srcu-classic: its expedited sync_func, and at which priority the
 * stop-cpus stoppers ran (SCHED_FIFO needs privileges). */
static void srcu_classic_meta(struct wl_ctx *ctx, const struct srcu_opts *o, const struct plan *pl)
{
	char err[256];
	struct srcu_struct sp;
	int f = SRCU_FLAVOUR_CLASSIC;

	if (!pl->prim[f] ||
	    srcu_domain_init(&sp, SRCU_FLAVOUR_CLASSIC, false, o, "meta", err, sizeof(err)))
		return;
	wl_meta(ctx, "srcu_expedited", "\"%s\"", srcu_expedited_of(&sp));
	wl_meta(ctx, "srcu_stopper_priority", "\"%s\"", srcu_stopper_priority(&sp));
	wl_meta(ctx, "srcu_stoppers", "%d", srcu_stopper_count(&sp));
	srcu_destroy(&sp, NULL, 0);
}

static void srcu_meta(struct wl_ctx *ctx, const struct srcu_opts *o, const struct plan *pl)
{
	wl_meta(ctx, "duration_ns", "%llu", (unsigned long long)(o->duration * 1e9));
	wl_meta(ctx, "repetitions", "%llu", (unsigned long long)o->repetitions);
	wl_meta(ctx, "gp_samples", "%llu", (unsigned long long)o->gp_samples);
	wl_meta(ctx, "gp_readers", "%d", pl->gp_readers);
	wl_meta(ctx, "hz", "%llu", (unsigned long long)o->hz);
	wl_meta(ctx, "read_pair_ns_clock", "\"wall (CLOCK_MONOTONIC per reader)\"");
	wl_meta(ctx, "read_pair_cpu_ns_clock", "\"CLOCK_THREAD_CPUTIME_ID per reader\"");
	wl_meta(ctx, "statistic_on_stdout", "\"median\"");
}

static int srcu_run(const void *opts, struct wl_ctx *ctx, char *err, size_t errlen)
{
	const struct srcu_opts *o = opts;
	struct plan pl;
	int rc, ncpu = topology_cpu_count();

	if ((rc = plan_build(o, &pl, err, errlen)))
		return rc;
	for (size_t i = 0; i < pl.nreaders; i++)
		if (pl.readers[i] > (uint64_t)ncpu && !o->cpus)
			wl_notice(ctx,
				  "warning: %llu readers on %d CPUs: overcommitted, readers share "
				  "CPUs",
				  (unsigned long long)pl.readers[i], ncpu);
	srcu_fallback_notice(ctx, o, &pl);
	srcu_classic_meta(ctx, o, &pl);
	for (int l = 0; l < LOOP_COUNT && !o->no_read; l++)
		if (pl.loop[l] && (rc = read_table(ctx, o, &pl, (enum loop)l, err, errlen)))
			return rc;
	if (!o->no_gp && (rc = gp_table(ctx, o, &pl, err, errlen)))
		return rc;
	srcu_meta(ctx, o, &pl);
	return 0;
}

#define OPT(field) offsetof(struct srcu_opts, field)

/* clang-format off */
static const struct wl_option srcu_options[] = {
	{ .name = "primitives", .short_name = 'p', .type = WL_TEXT, .metavar = "LIST",
	  .offset = OPT(primitives), .check_value = check_primitives,
	  .help = "of srcu-mb,srcu-fast,srcu-classic,urcu-memb,rwlock,mutex,refcount, or all\n"
		  "[default " DEFAULT_PRIMITIVES "]" },
	{ .name = "readers", .short_name = 'r', .type = WL_TEXT, .metavar = "LIST",
	  .offset = OPT(readers), .check_value = check_readers,
	  .help = "reader counts for the read side [default 1,2,4,... up to the CPUs]" },
	{ .name = "duration", .short_name = 'd', .type = WL_REAL, .def = "0.5", .min = 0.001,
	  .max = 3600, .metavar = "SEC", .offset = OPT(duration),
	  .help = "seconds per read-side cell" },
	{ .name = "critical-ns", .short_name = 'C', .type = WL_UINT, .def = "0", .min = 0,
	  .max = 1e9, .metavar = "NS", .offset = OPT(critical_ns),
	  .help = "extra critical-section length, ns" },
	{ .name = "repetitions", .short_name = 'n', .type = WL_UINT, .def = "3", .min = 1,
	  .max = 1000, .offset = OPT(repetitions), .help = "repetitions of every cell" },
	{ .name = "gp-samples", .short_name = 'g', .type = WL_UINT, .def = "200", .min = 1,
	  .max = 1e7, .offset = OPT(gp_samples), .help = "grace periods measured per cell" },
	{ .name = "gp-readers", .type = WL_TEXT, .metavar = "N", .offset = OPT(gp_readers),
	  .check_value = check_gp_readers,
	  .help = "readers present during grace periods [default CPUs - 1, at least 1]" },
	{ .name = "no-read", .type = WL_FLAG, .offset = OPT(no_read),
	  .help = "skip the read-side cells" },
	{ .name = "no-gp", .type = WL_FLAG, .offset = OPT(no_gp),
	  .help = "skip the grace-period cells" },
	{ .name = "cpus", .short_name = 'c', .type = WL_TEXT, .metavar = "LIST",
	  .offset = OPT(cpus), .check_value = check_cpus,
	  .help = "CPUs for the readers (e.g. 0,2,4-7)" },
	{ .name = "placement", .type = WL_CHOICE, .def = "compact",
	  .choices = workload_placement_names,
	  .metavar = "P", .offset = OPT(placement),
	  .help = "where readers go when no CPU list is given" },
	{ .name = "loop", .type = WL_TEXT, .def = "plain", .metavar = "LIST", .offset = OPT(loops),
	  .check_value = check_loops,
	  .help = "read loops: plain (lock; unlock), rcutorture (dereference and check\n"
		  "a protected pointer, count reads in memory), or all" },
	{ .name = "hz", .type = WL_UINT, .def = "250", .min = 1, .max = 100000,
	  .offset = OPT(hz), .help = "srcu-classic: its reader wait sleeps 1/HZ s (a jiffy)" },
	{ .name = "srcu-expedited", .type = WL_CHOICE, .def = "stop-cpus",
	  .choices = srcu_expedited_names, .metavar = "M", .offset = OPT(expedited),
	  .help = "srcu-classic: its expedited grace period's sync_func: stop-cpus\n"
		  "(membarrier, then a pinned SCHED_FIFO stopper thread per CPU runs and\n"
		  "the caller waits for all, as synchronize_sched_expedited's\n"
		  "try_stop_cpus of 2012) or membarrier (PRIVATE_EXPEDITED alone)" },
	{ 0 },
};
/* clang-format on */

const struct workload workload_srcu = {
	.name = "srcu",
	.summary = "SRCU read-side cost and grace-period latency, against liburcu",
	.description =
		"SRCU read-side cost and grace-period latency, against liburcu and locks.\n"
		"Read side: ns per lock/unlock pair per reader, on the wall clock\n"
		"(read_pair_ns, the table) and on the reader's CPU time (read_pair_cpu_ns).\n"
		"Output: a table on stdout; summary.csv (one row per primitive, readers,\n"
		"loop or kind, and repetition), hist/gp-*.csv grace-period histograms,\n"
		"meta.json.",
	.options = srcu_options,
	.columns = srcu_columns,
	.opts_size = sizeof(struct srcu_opts),
	.writes_results = true,
	.check = srcu_check,
	.run = srcu_run,
};
