/*
 * dlbench verify: the no-lost-dirty-page verifier, for every combination
 * of the strategies, fault paths and vCPU counts given; one row each on
 * stdout, a total, and exit status 1 if any page was lost.  It writes no
 * results directory.
 *
 * One cell: vCPU threads write increasing sequence numbers into their own
 * pages (page gfn belongs to vCPU gfn % vcpus, picked at random) while the
 * harvester runs rounds of get_log + clear_log and copies every reported
 * page into a destination image.  At the end the vCPUs stop, a final
 * harvest runs, and the destination must equal the source byte for byte.
 *
 * Each round also checks the pages reported clean, as the kernel's
 * dirty_log_test does: a clean page whose value differs from its copy was
 * written after the last harvest that reported it; the strategy must
 * report it within the next 1 + report_lag harvests, else it is lost.
 *
 * Delay hooks (tests only): --store-delay holds a vCPU between its
 * translation and its store; --fault-delay, --mark-delay and
 * --harvest-delay hold a vCPU or the harvester between the two steps of
 * the fault path, of a strategy's mark and of its harvest (struct
 * vm_delays in lib/vm/vm.h), so that a test sees each race window every
 * time and a mutant that removes the step guarding it loses pages.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/dirty_log/dirty_log.h"
#include "lib/util/compiler.h"
#include "lib/util/rng.h"
#include "lib/util/timing.h"
#include "lib/util/workers.h"
#include "lib/vm/vm.h"
#include "workloads/common_options.h"
#include "workloads/threads.h"
#include "workloads/workload.h"

#define VERIFY_REPORT_MAX 5		/* lost pages described on stderr per cell */
#define VERIFY_ROUND_WAIT_NS 2000000ull /* most a round waits for vCPU progress */

struct verify_opts {
	const char *strategy;
	int fault_path;
	uint64_t vcpus;
	const char *memslot_protect;
	bool memslot_updates;
	uint64_t bytes;
	uint64_t slots;
	uint64_t rounds;
	uint64_t store_delay_ns;
	uint64_t interval_ns;
	uint64_t round_writes;
	int backing;
	const char *numa;
	const char *cpus;
	int placement;
	uint64_t seed;
	uint64_t fault_delay_ns, mark_delay_ns, harvest_delay_ns;
	int mmu, mmu_wp, fault_delivery;
	int vm_srcu;	    /* vm_options.srcu */
	int srcu_expedited; /* vm_options.srcu_expedited */
};

struct verify_result {
	uint64_t rounds;
	uint64_t pages_verified;   /* pages compared: every page, every round, and at the end */
	uint64_t pages_lost;	   /* late_pages + final_mismatches */
	uint64_t late_pages;	   /* written, never reported in time */
	uint64_t final_mismatches; /* destination != source after the final harvest */
	uint64_t pages_reported;
	uint64_t writes, faults;
	double seconds;
	char mmu[32]; /* vm_mmu_name */
	char vm_srcu[16];
	double fault_floor_ns; /* < 0: none */
};

/* A vCPU's side of the handshake, on a line of its own: whether it could
 * begin (1) or not (-1), and its write count, which paces the rounds. */
struct verify_progress {
	_Alignas(CACHELINE) _Atomic uint64_t writes;
	atomic_int begun;
	char err[160]; /* why it could not begin */
};

struct verify_state {
	const struct verify_opts *o;
	struct wl_ctx *ctx;
	struct vm *vm;
	struct dirty_log *log;
	uint8_t *dest;	      /* the destination image */
	uint64_t *deadline;   /* per page: round by which it must be reported, 0: none */
	unsigned long *dirty; /* the harvest */
	uint64_t *writes;     /* per vCPU, filled when it stops */
	struct verify_progress *progress;
	unsigned lag;
	unsigned reported_lost;
};

/* clang-format off */
enum {
	COL_STRATEGY, COL_FAULT, COL_VCPUS, COL_ROUNDS, COL_VERIFIED, COL_LOST, COL_WRITES,
	COL_FAULTS, COL_SECONDS, COL_MMU, COL_MMU_MECHANISM, COL_VM_SRCU, COL_FAULT_FLOOR_NS,
};
/* clang-format on */

/* clang-format off */
static const struct wl_column verify_columns[] = {
	[COL_STRATEGY] = { "strategy", WL_COL_TEXT, "", WL_SHOW, NULL, 32 },
	[COL_FAULT] = { "fault", WL_COL_TEXT, "", WL_SHOW, NULL, 6 },
	[COL_VCPUS] = { "vcpus", WL_COL_UINT, "", WL_SHOW, NULL, 5 },
	[COL_ROUNDS] = { "rounds", WL_COL_UINT, "", WL_SHOW, NULL, 7 },
	[COL_VERIFIED] = { "pages_verified", WL_COL_UINT, "pages", WL_SHOW, NULL, 14 },
	[COL_LOST] = { "pages_lost", WL_COL_UINT, "pages", WL_SHOW, NULL, 10 },
	[COL_WRITES] = { "writes", WL_COL_UINT, "", WL_SHOW, NULL, 12 },
	[COL_FAULTS] = { "faults", WL_COL_UINT, "", WL_SHOW, NULL, 10 },
	[COL_SECONDS] = { "seconds", WL_COL_REAL, "s", WL_SHOW, "%.2f", 8 },
	[COL_MMU] = { "mmu", WL_COL_TEXT, "", WL_SHOW, NULL, 4 },
	[COL_MMU_MECHANISM] = { "mmu_mechanism", WL_COL_TEXT, "", WL_SHOW, NULL, 15 },
	[COL_VM_SRCU] = { "vm_srcu", WL_COL_TEXT, "", WL_SHOW, NULL, 7 },
	[COL_FAULT_FLOOR_NS] = { "fault_floor_ns", WL_COL_REAL, "ns", WL_SHOW, "%.0f", 14 },
	{ 0 },
};
/* clang-format on */

/* ---- the vCPUs ---- */

static void verify_vcpu(struct worker *w)
{
	struct verify_state *st = w->arg;
	struct vm *vm = st->vm;
	struct vcpu *v = &vm->vcpus[w->index];
	struct verify_progress *pr = &st->progress[w->index];
	uint64_t n = (uint64_t)vm->nvcpus;
	uint64_t own = (vm->npages - (uint64_t)w->index + n - 1) / n;
	uint64_t rng = rng_seed(st->o->seed, (uint64_t)w->index);
	uint64_t tag = ((uint64_t)w->index + 1) << 48, seq = 0;
	uint64_t delay = st->o->store_delay_ns;

	if (vcpu_thread_begin(v, pr->err, sizeof(pr->err))) {
		/* release: pairs with the harvester's acquire in wait_begun */
		atomic_store_explicit(&pr->begun, -1, memory_order_release);
		return;
	}
	atomic_store_explicit(&pr->begun, 1, memory_order_release);
	while (!vm_stopping(vm)) {
		uint64_t gfn = (uint64_t)w->index + rng_below(&rng, own) * n;
		uint8_t *p = vcpu_translate_write(v, gfn);

		vm_test_delay(delay);
		/* release: a harvester reading this value (acquire) also sees
		 * the dirty mark made before it, in the fault that preceded */
		atomic_store_explicit(guest_word(p), tag | (++seq & ((1ull << 48) - 1)),
				      memory_order_release);
		/* relaxed: a progress count for pacing, no data behind it */
		atomic_store_explicit(&pr->writes, seq, memory_order_relaxed);
		vcpu_exit_point(v);
	}
	vcpu_thread_end(v);
	st->writes[w->index] = seq;
}

/* Waits until every vCPU has begun or failed to; 0, or -1 with the first
 * failure's line in @err. */
static int wait_begun(struct verify_state *st, char *err, size_t errlen)
{
	for (int i = 0; i < st->vm->nvcpus; i++) {
		struct verify_progress *pr = &st->progress[i];
		int b;

		/* acquire: pairs with the vCPU's release of begun (its err
		 * line is written before a -1) */
		for (unsigned n = 0; !(b = atomic_load_explicit(&pr->begun, memory_order_acquire));
		     n++)
			vm_backoff(n);
		if (b < 0) {
			snprintf(err, errlen, "%s", pr->err);
			return -1;
		}
	}
	return 0;
}

/* ---- the harvester ---- */

/* Copies a page the vCPUs may be writing, word by word. */
static void copy_page(uint8_t *dst, uint8_t *src)
{
	uint64_t *d = (uint64_t *)dst;

	/* acquire on the word the vCPUs write: pairs with their release */
	d[0] = atomic_load_explicit(guest_word(src), memory_order_acquire);
	/* relaxed: the acquire load above orders these after it */
	for (size_t i = 1; i < PAGE_SIZE / sizeof(uint64_t); i++)
		d[i] = atomic_load_explicit(guest_word(src + i * sizeof(uint64_t)),
					    memory_order_relaxed);
}

static uint64_t total_progress(struct verify_state *st, bool *all_started)
{
	uint64_t sum = 0;

	*all_started = true;
	for (int i = 0; i < st->vm->nvcpus; i++) {
		/* relaxed: a progress count; it publishes nothing */
		uint64_t w = atomic_load_explicit(&st->progress[i].writes, memory_order_relaxed);

		sum += w;
		if (!w)
			*all_started = false;
	}
	return sum;
}

/*
 * Paces the rounds so that each one has something to verify: the first
 * waits until every vCPU has written, later ones until the vCPUs made
 * @min_writes writes since @last or a short time passed (a vCPU may be
 * waiting for ring space that only the next round frees).
 */
static uint64_t wait_for_writes(struct verify_state *st, uint64_t last, uint64_t min_writes,
				bool first)
{
	uint64_t t0 = now_ns(), sum;
	bool started;

	for (unsigned n = 0;; n++) {
		sum = total_progress(st, &started);
		if (first ? started
			  : (sum - last >= min_writes || now_ns() - t0 > VERIFY_ROUND_WAIT_NS))
			return sum;
		vm_backoff(n);
	}
}

static void report_lost(struct verify_state *st, const char *why, uint64_t gfn, uint64_t src,
			uint64_t dst, uint64_t round)
{
	if (st->reported_lost++ < VERIFY_REPORT_MAX)
		wl_notice(st->ctx,
			  "%s: lost page gfn %llu (%s): source 0x%llx, destination 0x%llx, round "
			  "%llu",
			  dirty_log_spec(st->log), (unsigned long long)gfn, why,
			  (unsigned long long)src, (unsigned long long)dst,
			  (unsigned long long)round);
}

/* A page the harvest reported clean: its value must match its copy, or
 * be reported within 1 + lag rounds. */
static void check_clean(struct verify_state *st, uint64_t gfn, uint64_t round,
			struct verify_result *res)
{
	uint8_t *s = st->vm->guest_base + (gfn << PAGE_SHIFT);
	uint64_t *d = (uint64_t *)(st->dest + (gfn << PAGE_SHIFT));
	/* acquire: pairs with the vCPU's release store of the sequence */
	uint64_t v = atomic_load_explicit(guest_word(s), memory_order_acquire);

	if (v == d[0]) {
		st->deadline[gfn] = 0;
	} else if (!st->deadline[gfn]) {
		st->deadline[gfn] = round + 1 + st->lag;
	} else if (round >= st->deadline[gfn]) {
		report_lost(st, "written but not reported in time", gfn, v, d[0], round);
		res->late_pages++;
		d[0] = v; /* counted once */
		st->deadline[gfn] = 0;
	}
}

/* Copies the harvested pages; checks the clean ones (not after the final). */
static void verify_round(struct verify_state *st, uint64_t round, bool final,
			 struct verify_result *res)
{
	struct vm *vm = st->vm;

	for (uint64_t gfn = 0; gfn < vm->npages; gfn++) {
		if (!final)
			res->pages_verified++;
		if (bitmap_test(st->dirty, gfn)) {
			copy_page(st->dest + (gfn << PAGE_SHIFT),
				  vm->guest_base + (gfn << PAGE_SHIFT));
			st->deadline[gfn] = 0;
			res->pages_reported++;
		} else if (!final) {
			check_clean(st, gfn, round, res);
		}
	}
}

/* A change that keeps every slot as it is: the update still copies,
 * publishes and retires a table, and waits for the readers. */
static int verify_same_slots(struct memslot_table *copy, void *arg)
{
	(void)arg;
	return memslot_table_set_flags(copy, copy->slots[0].id, copy->slots[0].flags);
}

static int harvest(struct verify_state *st, unsigned flags, char *err, size_t errlen)
{
	int rc = dirty_log_get(st->log, st->dirty, flags);

	if (!rc)
		rc = dirty_log_clear(st->log, st->dirty);
	if (rc)
		snprintf(err, errlen, "%s: a harvest failed: %s", dirty_log_spec(st->log),
			 strerror(-rc));
	return rc;
}

/* The rounds, with the vCPUs running; 0, or -1 with a line in @err. */
static int verify_rounds(struct verify_state *st, struct verify_result *res, char *err,
			 size_t errlen)
{
	const struct verify_opts *o = st->o;

	for (uint64_t r = 1, seen = 0; r <= o->rounds; r++) {
		seen = wait_for_writes(st, seen, o->round_writes, r == 1);
		if (harvest(st, 0, err, errlen))
			return -1;
		verify_round(st, r, false, res);
		res->rounds++;
		if (o->memslot_updates) {
			int rc = vm_update_memslots(st->vm, verify_same_slots, NULL);

			if (rc) {
				snprintf(err, errlen, "memslot update under %s failed: %s",
					 workload_memslot_protect(o->memslot_protect, o->vm_srcu),
					 strerror(-rc));
				return -1;
			}
		}
		if (o->interval_ns)
			sleep_ns(o->interval_ns);
	}
	return 0;
}

/* Final harvest (no vCPU runs: everything outstanding is reported), then
 * the byte-for-byte comparison. */
static int verify_final(struct verify_state *st, struct verify_result *res, char *err,
			size_t errlen)
{
	uint64_t last = st->o->rounds + 1;

	if (harvest(st, DIRTY_LOG_FINAL, err, errlen))
		return -1;
	verify_round(st, last, true, res);
	for (uint64_t gfn = 0; gfn < st->vm->npages; gfn++) {
		const uint8_t *s = st->vm->guest_base + (gfn << PAGE_SHIFT);
		const uint8_t *d = st->dest + (gfn << PAGE_SHIFT);

		res->pages_verified++;
		if (memcmp(s, d, PAGE_SIZE)) {
			report_lost(st, "destination differs after the final harvest", gfn,
				    *(const uint64_t *)s, *(const uint64_t *)d, last);
			res->final_mismatches++;
		}
	}
	return 0;
}

/* ---- one cell ---- */

static void memory_options(const struct verify_opts *o, struct guest_memory_options *mo)
{
	memset(mo, 0, sizeof(*mo));
	mo->bytes = o->bytes;
	mo->backing = (enum guest_backing)o->backing;
	(void)workload_numa_parse(o->numa, &mo->numa, &mo->numa_node); /* checked */
}

/* Bytes the verifier needs beside the guest: the destination image, the
 * per-page deadlines, the sptes and the bitmaps. */
static uint64_t verify_extra_bytes(uint64_t bytes)
{
	uint64_t npages = bytes >> PAGE_SHIFT;

	return bytes + npages * (sizeof(uint64_t) + 1) + 3 * (npages / 8);
}

static int verify_alloc(struct verify_state *st, int nvcpus, char *err, size_t errlen)
{
	uint64_t npages = st->vm->npages;

	st->lag = dirty_log_report_lag(st->log);
	st->dest = calloc(npages, PAGE_SIZE);
	st->deadline = calloc(npages, sizeof(*st->deadline));
	st->dirty = bitmap_alloc_plain(npages);
	st->writes = calloc((size_t)nvcpus, sizeof(*st->writes));
	st->progress = aligned_alloc(CACHELINE, sizeof(*st->progress) * (size_t)nvcpus);
	if (!st->dest || !st->deadline || !st->dirty || !st->writes || !st->progress) {
		snprintf(err, errlen, "out of memory for a %llu-page destination image",
			 (unsigned long long)npages);
		return -1;
	}
	for (int i = 0; i < nvcpus; i++) {
		atomic_init(&st->progress[i].writes, 0);
		atomic_init(&st->progress[i].begun, 0);
		st->progress[i].err[0] = 0;
	}
	return 0;
}

static void verify_free(struct verify_state *st)
{
	free(st->progress);
	free(st->writes);
	free(st->dirty);
	free(st->deadline);
	free(st->dest);
}

/* Starts the vCPUs, runs the rounds, stops them, runs the final harvest. */
static int verify_threads(struct verify_state *st, const int *cpus, struct verify_result *res,
			  char *err, size_t errlen)
{
	struct workers g;
	uint64_t t0;
	int rc;

	if (workers_start(&g, st->vm->nvcpus, cpus, verify_vcpu, st, "vCPU")) {
		snprintf(err, errlen, "cannot start the vCPU threads");
		return -1;
	}
	t0 = now_ns();
	workers_go(&g);
	rc = wait_begun(st, err, errlen);
	if (!rc)
		rc = verify_rounds(st, res, err, errlen);
	vm_request_stop(st->vm);
	workers_join(&g);
	if (!rc)
		rc = verify_final(st, res, err, errlen);
	res->seconds = (double)(now_ns() - t0) / 1e9;
	return rc;
}

static void verify_totals(struct verify_state *st, struct verify_result *res)
{
	res->pages_lost = res->late_pages + res->final_mismatches;
	for (int i = 0; i < st->vm->nvcpus; i++) {
		res->writes += st->writes[i];
		res->faults += vcpu_faults(&st->vm->vcpus[i]);
	}
}

static void verify_vm_options(const struct verify_opts *o, struct vm_options *vo)
{
	memset(vo, 0, sizeof(*vo));
	vo->nslots = (uint32_t)o->slots;
	vo->nvcpus = (int)o->vcpus;
	vo->fault_path = (enum fault_path)o->fault_path;
	vo->memslot_protect = workload_memslot_protect(o->memslot_protect, o->vm_srcu);
	vo->delays = (struct vm_delays){ o->fault_delay_ns, o->mark_delay_ns, o->harvest_delay_ns };
	workload_mmu_options(vo, o->mmu, o->mmu_wp, o->fault_delivery);
	vo->srcu = o->vm_srcu;
	vo->srcu_expedited = o->srcu_expedited;
}

/* Runs one verification; 0 when it ran (the verdict is res->pages_lost),
 * WL_ERROR / WL_BAD_INPUT with one line in @err when it could not. */
static int verify_cell(const struct verify_opts *o, struct wl_ctx *ctx, const int *cpus,
		       struct verify_result *res, char *err, size_t errlen)
{
	struct verify_state st = { .o = o, .ctx = ctx };
	struct vm_options vo;
	struct guest_memory_options mo;
	struct guest_memory mem;
	int rc = WL_BAD_INPUT;

	memset(res, 0, sizeof(*res));
	verify_vm_options(o, &vo);
	memory_options(o, &mo);
	st.log = dirty_log_create(o->strategy, NULL, err, errlen);
	if (!st.log)
		return WL_BAD_INPUT;
	res->fault_floor_ns = workload_fault_floor(ctx, &vo, st.log);
	if (guest_memory_create(&mem, &mo, err, errlen))
		goto out_log;
	st.vm = vm_create(&vo, &mem, st.log, err, errlen);
	if (!st.vm)
		goto out_mem;
	snprintf(res->mmu, sizeof(res->mmu), "%s", vm_mmu_name(st.vm));
	snprintf(res->vm_srcu, sizeof(res->vm_srcu), "%s", vm_srcu_name(st.vm));
	workload_mmu_meta(ctx, st.vm);
	workload_vm_srcu_meta(ctx, st.vm);
	rc = WL_ERROR;
	if (!verify_alloc(&st, vo.nvcpus, err, errlen) &&
	    !verify_threads(&st, cpus, res, err, errlen)) {
		verify_totals(&st, res);
		rc = 0;
	}
	verify_free(&st);
	vm_destroy(st.vm);
out_mem:
	guest_memory_destroy(&mem);
out_log:
	dirty_log_free(st.log);
	return rc;
}

/* ---- the table ---- */

static int verify_check(const void *opts, char *err, size_t errlen)
{
	const struct verify_opts *o = opts;
	struct guest_memory_options mo;
	struct vm_options vo;
	uint64_t npages = o->bytes >> PAGE_SHIFT;
	char why[256];
	int over;

	if (!o->strategy) {
		snprintf(err, errlen,
			 "--strategy: give at least one (dlbench verify --help lists them)");
		return WL_BAD_INPUT;
	}
	if (!strcmp(o->strategy, DIRTY_LOG_NONE)) {
		snprintf(err, errlen, "--strategy: '%s' has no dirty log to verify", o->strategy);
		return WL_BAD_INPUT;
	}
	if (npages % o->slots || (npages / o->slots) % 64) {
		snprintf(err, errlen,
			 "--slots: %llu bytes do not split into %llu memslots of a multiple of 64 "
			 "pages (256 KiB) each",
			 (unsigned long long)o->bytes, (unsigned long long)o->slots);
		return WL_BAD_INPUT;
	}
	if (workload_pick_cpus((int)o->vcpus, (enum placement)o->placement, o->cpus, NULL, &over,
			       why, sizeof(why))) {
		snprintf(err, errlen, "--cpus: %s", why);
		return WL_BAD_INPUT;
	}
	memory_options(o, &mo);
	verify_vm_options(o, &vo);
	if (workload_mmu_check(&vo, o->strategy, mo.backing, o->bytes, NULL, 0, err, errlen))
		return WL_BAD_INPUT;
	return workload_memory_check_extra(&mo, verify_extra_bytes(o->bytes), err, errlen);
}

/* Totals over the cells, for the closing line. */
static struct {
	uint64_t verified, lost;
} verify_total;

static int verify_run(const void *opts, struct wl_ctx *ctx, char *err, size_t errlen)
{
	const struct verify_opts *o = opts;
	struct verify_result res;
	int cpus[1024], over = 0, rc;

	if (wl_cell_index(ctx) == 0) {
		memset(&verify_total, 0, sizeof(verify_total));
		wl_printf(ctx, "memslot protection: %s%s\n",
			  workload_memslot_protect(o->memslot_protect, o->vm_srcu),
			  o->memslot_updates ? ", table replaced after every round" : "");
	}
	if (workload_pick_cpus((int)o->vcpus, (enum placement)o->placement, o->cpus, cpus, &over,
			       err, errlen))
		return WL_BAD_INPUT;
	if (over)
		wl_notice(ctx, "warning: %d vCPUs on %d CPUs (overcommitted)", (int)o->vcpus,
			  topology_cpu_count());
	wl_progress(ctx, "%s, %s, %d vCPUs, %s MMU", o->strategy, fault_path_names[o->fault_path],
		    (int)o->vcpus, vm_mmu_names[o->mmu]);
	if ((rc = verify_cell(o, ctx, cpus, &res, err, errlen)))
		return rc;
	wl_row_begin(ctx);
	wl_put_text(ctx, COL_STRATEGY, o->strategy);
	wl_put_text(ctx, COL_FAULT, fault_path_names[o->fault_path]);
	wl_put_uint(ctx, COL_VCPUS, o->vcpus);
	wl_put_uint(ctx, COL_ROUNDS, res.rounds);
	wl_put_uint(ctx, COL_VERIFIED, res.pages_verified);
	wl_put_uint(ctx, COL_LOST, res.pages_lost);
	wl_put_uint(ctx, COL_WRITES, res.writes);
	wl_put_uint(ctx, COL_FAULTS, res.faults);
	wl_put_real(ctx, COL_SECONDS, res.seconds);
	wl_put_text(ctx, COL_MMU, vm_mmu_names[o->mmu]);
	wl_put_text(ctx, COL_MMU_MECHANISM, res.mmu);
	wl_put_text(ctx, COL_VM_SRCU, res.vm_srcu);
	workload_put_fault_floor(ctx, COL_FAULT_FLOOR_NS, res.fault_floor_ns);
	wl_row_end(ctx);
	verify_total.verified += res.pages_verified;
	verify_total.lost += res.pages_lost;
	/* a kernel marker's faults never reach userspace: its evidence is
	 * the pages it reported */
	if (!res.faults && !res.pages_reported)
		wl_notice(ctx, "%s %s %d vCPUs: no write fault, nothing was verified", o->strategy,
			  fault_path_names[o->fault_path], (int)o->vcpus);
	return res.pages_lost || (!res.faults && !res.pages_reported) ? WL_FAILED : 0;
}

static void verify_finish(struct wl_ctx *ctx, int status)
{
	wl_printf(ctx, "total: %llu pages verified, %llu pages lost: %s\n",
		  (unsigned long long)verify_total.verified, (unsigned long long)verify_total.lost,
		  status ? "FAIL" : "ok");
}

#define OPT(field) offsetof(struct verify_opts, field)
#define DELAY_OPTION(opt_name, field, text)                                          \
	{                                                                            \
		.name = opt_name, .type = WL_UINT, .def = "0", .min = 0, .max = 1e9, \
		.metavar = "NS", .offset = OPT(field), .help = text                  \
	}

/* clang-format off */
static const struct wl_option verify_options[] = {
	{ .name = "strategy", .short_name = 's', .type = WL_TEXT, .flags = WL_REPEAT | WL_EXPAND_OPTIONAL,
	  .metavar = "SPEC", .offset = OPT(strategy),
	  .help = "NAME[:KEY=VALUE,...]; `all`: each with its defaults (at least one)",
	  .check_value = dirty_log_spec_check, .expand = dirty_log_spec_expand },
	{ .name = "fault-path", .short_name = 'p', .type = WL_CHOICE, .flags = WL_LIST,
	  .def = "locked", .choices = fault_path_names, .offset = OPT(fault_path),
	  .help = "write-fault paths, e.g. locked,fast (uffd-wp, mprotect: the\n"
		  "handler under mmu_lock, or lockless; uffd-wp-async, soft-dirty:\n"
		  "the kernel is the marker, it does not apply)" },
	{ .name = "vcpus", .short_name = 'v', .type = WL_UINT, .flags = WL_LIST, .def = "1",
	  .min = 1, .max = 1024, .offset = OPT(vcpus),
	  .help = "vCPU counts, e.g. 1,2,4; more than CPUs is allowed" },
	{ .name = "memslot-protect", .type = WL_TEXT, .def = "srcu",
	  .metavar = "P", .offset = OPT(memslot_protect), .check_value = memslot_protect_check,
	  .help = "memslot read protection of the fault path: floor, mutex,\n"
		  "rwlock, rwlock-cond, srcu-mb, srcu-fast, srcu-classic, urcu\n"
		  "(`srcu`, the default: the SRCU one of --vm-srcu's flavour)" },
	{ .name = "memslot-updates", .type = WL_FLAG, .offset = OPT(memslot_updates),
	  .help = "after every round, replace the memslot table (same slots)\n"
		  "through the protection, with the vCPUs running" },
	{ .name = "bytes", .short_name = 'b', .type = WL_SIZE, .def = "4M", .min = 256 << 10,
	  .max = 1ull << 40, .offset = OPT(bytes), .help = "guest memory" },
	{ .name = "slots", .short_name = 'n', .type = WL_UINT, .def = "1", .min = 1, .max = 4096,
	  .offset = OPT(slots), .help = "memslots" },
	{ .name = "rounds", .short_name = 'r', .type = WL_UINT, .def = "100", .min = 1,
	  .max = 1ull << 32, .offset = OPT(rounds), .help = "harvest rounds before the final one" },
	DELAY_OPTION("store-delay", store_delay_ns,
		     "busy wait between a vCPU's translation and its store"),
	{ .name = "interval", .type = WL_UINT, .def = "0", .min = 0, .max = 1e10, .metavar = "NS",
	  .offset = OPT(interval_ns), .help = "sleep between harvest rounds" },
	{ .name = "round-writes", .type = WL_UINT, .def = "256", .min = 0, .max = 1ull << 40,
	  .offset = OPT(round_writes),
	  .help = "start a round once the vCPUs made N writes since the last\n"
		  "(or 2 ms passed)" },
	{ .name = "backing", .short_name = 'm', .type = WL_CHOICE, .def = "anonymous",
	  .choices = guest_backing_names, .metavar = "NAME", .offset = OPT(backing),
	  .help = "guest memory" },
	{ .name = "numa", .type = WL_TEXT, .def = "local", .metavar = "POLICY",
	  .offset = OPT(numa), .help = "local|interleave|bind:N", .check_value = guest_numa_check },
	{ .name = "cpus", .short_name = 'c', .type = WL_TEXT, .metavar = "LIST",
	  .offset = OPT(cpus), .help = "CPUs for the vCPU threads (default: --placement)" },
	{ .name = "placement", .type = WL_CHOICE, .def = "compact",
	  .choices = workload_placement_names,
	  .metavar = "P", .offset = OPT(placement), .help = "vCPU placement" },
	{ .name = "seed", .type = WL_UINT, .def = "1", .offset = OPT(seed),
	  .help = "random seed of the vCPUs' page choice" },
	DELAY_OPTION("fault-delay", fault_delay_ns,
		     "test hook: busy wait between the write fault's two steps"),
	DELAY_OPTION("mark-delay", mark_delay_ns,
		     "test hook: busy wait inside a strategy's mark (srcu-swap:\n"
		     "in the read section, after loading the bitmap pointer)"),
	DELAY_OPTION("harvest-delay", harvest_delay_ns,
		     "test hook: busy wait between a harvest's steps"),
	WL_MMU_OPTIONS(struct verify_opts, mmu, mmu_wp, fault_delivery),
	WL_VM_SRCU_OPTION(struct verify_opts, vm_srcu),
	WL_SRCU_EXPEDITED_OPTION(struct verify_opts, srcu_expedited),
	{ 0 },
};
/* clang-format on */

const struct workload workload_verify = {
	.name = "verify",
	.summary = "prove no dirty page is lost: every dirty-log strategy, both fault paths",
	.description = "vCPU threads write sequence numbers into guest pages while a harvester\n"
		       "copies every page the strategy reports dirty into a destination image;\n"
		       "after the vCPUs stop and a final harvest, the destination must equal the\n"
		       "source byte for byte, and every page written after a harvest must be\n"
		       "reported by the next one (plus the strategy's declared lag).\n"
		       "Exit status: 0 no page lost, 1 pages lost, 2 bad input.",
	.options = verify_options,
	.columns = verify_columns,
	.opts_size = sizeof(struct verify_opts),
	.writes_results = false,
	.help_extra = dirty_log_help,
	.check = verify_check,
	.run = verify_run,
	.finish = verify_finish,
};
