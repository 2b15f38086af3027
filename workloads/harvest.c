/*
 * dlbench harvest: the cost of one strategy's get_log and clear_log on one
 * slot with a given share of its pages dirty, next to the floor measured on
 * the same pages in the same run: a bare loop that reads the dirty bitmap
 * and clears the writable bit of each dirty page (no atomics, no lock, no
 * flush).
 *
 * A cell is (strategy, slot size, dirty share, MMU, fault delivery).  A
 * single vCPU (the calling thread, outside guest mode while it harvests)
 * dirties the pages through the ordinary write-fault path, untimed; so the
 * flush inside a harvest finds no vCPU in guest mode and costs only the
 * request it raises.
 *
 * Under --mmu real the vCPU dirties the pages by storing to them (real
 * faults), every write-protection is a real one (one UFFDIO_WRITEPROTECT
 * or mprotect per run of pages, or one over the slot; the kernel's TLB
 * shootdown inside each), and the floor is the bare per-run protection of
 * the same pages with the same mechanism.  fault_floor_ns is the bare
 * fault with an empty handler (mmu_fault_floor), beside every strategy.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/dirty_log/dirty_log.h"
#include "lib/util/rng.h"
#include "lib/util/stats.h"
#include "lib/util/timing.h"
#include "lib/vm/guest_memory.h"
#include "lib/vm/vm.h"
#include "workloads/common_options.h"
#include "workloads/workload.h"

#define HARVEST_MAX_REPS 64

struct harvest_opts {
	const char *strategy;
	uint64_t bytes;
	uint64_t dirty_percent;
	uint64_t reps;
	int fault_path;
	int backing;
	const char *numa;
	int mmu, mmu_wp, fault_delivery;
	int vm_srcu;	    /* vm_options.srcu */
	int srcu_expedited; /* vm_options.srcu_expedited */
};

struct harvest_sample {
	uint64_t dirty_pages;	 /* pages the vCPU dirtied */
	uint64_t reported_pages; /* pages get_log reported */
	uint64_t get_log_ns;
	uint64_t clear_log_ns;
	uint64_t floor_ns;
};

/* clang-format off */
enum {
	COL_STRATEGY, COL_SLOT_BYTES, COL_DIRTY_PERCENT, COL_REP, COL_FAULT_PATH, COL_BACKING,
	COL_DIRTY_PAGES, COL_REPORTED_PAGES, COL_GET_LOG_NS, COL_CLEAR_LOG_NS, COL_HARVEST_NS,
	COL_FLOOR_NS, COL_MMU, COL_MMU_MECHANISM, COL_VM_SRCU, COL_FAULT_FLOOR_NS,
};
/* clang-format on */

/* clang-format off */
static const struct wl_column harvest_columns[] = {
	[COL_STRATEGY] = { "strategy", WL_COL_TEXT, "" },
	[COL_SLOT_BYTES] = { "slot_bytes", WL_COL_UINT, "bytes" },
	[COL_DIRTY_PERCENT] = { "dirty_percent", WL_COL_UINT, "%" },
	[COL_REP] = { "rep", WL_COL_UINT, "" },
	[COL_FAULT_PATH] = { "fault_path", WL_COL_TEXT, "" },
	[COL_BACKING] = { "backing", WL_COL_TEXT, "" },
	[COL_DIRTY_PAGES] = { "dirty_pages", WL_COL_UINT, "pages" },
	[COL_REPORTED_PAGES] = { "reported_pages", WL_COL_UINT, "pages" },
	[COL_GET_LOG_NS] = { "get_log_ns", WL_COL_UINT, "ns" },
	[COL_CLEAR_LOG_NS] = { "clear_log_ns", WL_COL_UINT, "ns" },
	[COL_HARVEST_NS] = { "harvest_ns", WL_COL_UINT, "ns" },
	[COL_FLOOR_NS] = { "floor_ns", WL_COL_UINT, "ns" },
	[COL_MMU] = { "mmu", WL_COL_TEXT, "" },
	[COL_MMU_MECHANISM] = { "mmu_mechanism", WL_COL_TEXT, "" },
	[COL_VM_SRCU] = { "vm_srcu", WL_COL_TEXT, "" },
	[COL_FAULT_FLOOR_NS] = { "fault_floor_ns", WL_COL_REAL, "ns", 0, "%.0f" },
	{ 0 },
};
/* clang-format on */

/* Is @gfn among the pages dirtied at @percent?  A fixed hash, so every
 * strategy and the floor see the same pages. */
static bool page_selected(uint64_t gfn, uint64_t percent)
{
	return rng_hash(gfn) % 10000 < percent * 100;
}

/* Dirties the pages selected at @percent (untimed): through the
 * write-fault path (soft), or by storing to them (real: each store takes
 * a real fault).  Returns how many. */
static uint64_t dirty_pages(struct vm *vm, uint64_t percent)
{
	struct vcpu *v = &vm->vcpus[0];
	uint64_t n = 0;

	for (uint64_t gfn = 0; gfn < vm->npages; gfn++) {
		if (!page_selected(gfn, percent))
			continue;
		if (vm->mmu == VM_MMU_REAL)
			vcpu_write_page(v, gfn, gfn + 1);
		else
			(void)vcpu_translate_write(v, gfn);
		n++;
	}
	return n;
}

/* One timed harvest of the pages selected at @percent; 0 or -errno. */
static int harvest_once(struct vm *vm, struct dirty_log *log, unsigned long *dirty,
			uint64_t percent, struct harvest_sample *s)
{
	uint64_t t0, t1, t2;
	int rc;

	memset(s, 0, sizeof(*s));
	s->dirty_pages = dirty_pages(vm, percent);
	t0 = now_ns();
	rc = dirty_log_get(log, dirty, 0);
	t1 = now_ns();
	if (!rc)
		rc = dirty_log_clear(log, dirty);
	t2 = now_ns();
	if (rc)
		return rc;
	s->get_log_ns = t1 - t0;
	s->clear_log_ns = t2 - t1;
	s->reported_pages = bitmap_weight(dirty, vm->npages);

	/* The floor on the same pages: make them writable again (untimed),
	 * then the bare loop (real: the bare protect calls). */
	vm_floor_reset(vm, dirty);
	t0 = now_ns();
	rc = vm_floor_pass(vm, dirty);
	s->floor_ns = now_ns() - t0;
	return rc;
}

/* The harvests of one cell: what the strategy starts with, a warm-up,
 * @reps timed ones, and a final one so that teardown is clean. */
static int harvest_series(const struct harvest_opts *o, struct vm *vm, struct dirty_log *log,
			  unsigned long *dirty, struct harvest_sample *out)
{
	struct harvest_sample warm;
	int rc;

	/* Harvest whatever the strategy starts with (e.g. initially-set). */
	rc = dirty_log_get(log, dirty, 0);
	rc = rc ? rc : dirty_log_clear(log, dirty);
	rc = rc ? rc : harvest_once(vm, log, dirty, o->dirty_percent, &warm);
	for (uint64_t r = 0; r < o->reps && !rc; r++)
		rc = harvest_once(vm, log, dirty, o->dirty_percent, &out[r]);
	/* Report what a lagging strategy still holds, so teardown is clean. */
	if (!rc)
		rc = dirty_log_get(log, dirty, DIRTY_LOG_FINAL);
	return rc ? rc : dirty_log_clear(log, dirty);
}

/* What a cell ran on, for its rows. */
struct harvest_cell {
	char mmu[32]; /* vm_mmu_name */
	char vm_srcu[16];
	double fault_floor_ns; /* < 0: none */
};

static void harvest_vm_options(const struct harvest_opts *o, struct vm_options *vo)
{
	memset(vo, 0, sizeof(*vo));
	vo->nslots = 1;
	vo->nvcpus = 1;
	vo->fault_path = (enum fault_path)o->fault_path;
	workload_mmu_options(vo, o->mmu, o->mmu_wp, o->fault_delivery);
	vo->srcu = o->vm_srcu;
	vo->srcu_expedited = o->srcu_expedited;
}

/* The series on @vm, with this thread as its only vCPU. */
static int harvest_on_vm(const struct harvest_opts *o, struct vm *vm, unsigned long *dirty,
			 struct harvest_sample *out, char *err, size_t errlen)
{
	int rc = vcpu_thread_begin(&vm->vcpus[0], err, errlen) ? WL_ERROR : 0;

	if (rc)
		return rc;
	/* This thread is also the harvester: a flush must not wait for it. */
	vcpu_exit_guest(&vm->vcpus[0]);
	if ((rc = harvest_series(o, vm, vm->log, dirty, out))) {
		snprintf(err, errlen, "%s: a harvest failed: %s", o->strategy, strerror(-rc));
		rc = WL_ERROR;
	}
	vcpu_thread_end(&vm->vcpus[0]);
	return rc;
}

/* Runs 1 warm-up + @reps harvests of @o's cell into @out. */
static int harvest_measure(struct wl_ctx *ctx, const struct harvest_opts *o,
			   struct guest_memory *mem, struct harvest_sample *out,
			   struct harvest_cell *cell, char *err, size_t errlen)
{
	uint64_t npages = mem->bytes >> PAGE_SHIFT;
	struct dirty_log_hints hints = { .max_dirty_per_vcpu = npages };
	struct vm_options vo;
	struct dirty_log *log;
	unsigned long *dirty;
	struct vm *vm;
	int rc;

	harvest_vm_options(o, &vo);
	log = dirty_log_create(o->strategy, &hints, err, errlen);
	if (!log)
		return WL_BAD_INPUT;
	cell->fault_floor_ns = workload_fault_floor(ctx, &vo, log);
	vm = vm_create(&vo, mem, log, err, errlen);
	dirty = bitmap_alloc_plain(npages);
	if (!vm || !dirty) {
		if (vm && !dirty)
			snprintf(err, errlen, "out of memory");
		free(dirty);
		vm_destroy(vm);
		dirty_log_free(log);
		return WL_BAD_INPUT;
	}
	snprintf(cell->mmu, sizeof(cell->mmu), "%s", vm_mmu_name(vm));
	snprintf(cell->vm_srcu, sizeof(cell->vm_srcu), "%s", vm_srcu_name(vm));
	workload_mmu_meta(ctx, vm);
	workload_vm_srcu_meta(ctx, vm);
	rc = harvest_on_vm(o, vm, dirty, out, err, errlen);
	free(dirty);
	vm_destroy(vm);
	dirty_log_free(log);
	return rc;
}

static int memory_options(const struct harvest_opts *o, struct guest_memory_options *mo, char *err,
			  size_t errlen)
{
	memset(mo, 0, sizeof(*mo));
	mo->bytes = o->bytes;
	mo->backing = (enum guest_backing)o->backing;
	if (workload_numa_parse(o->numa, &mo->numa, &mo->numa_node)) {
		snprintf(err, errlen, "--numa: '%s' is not local, interleave or bind:N", o->numa);
		return WL_BAD_INPUT;
	}
	return 0;
}

static int harvest_check(const void *opts, char *err, size_t errlen)
{
	const struct harvest_opts *o = opts;
	struct guest_memory_options mo;
	struct vm_options vo;

	if (o->bytes % (256 << 10)) {
		snprintf(err, errlen, "--bytes: %llu is not a multiple of 256K (64 pages)",
			 (unsigned long long)o->bytes);
		return WL_BAD_INPUT;
	}
	if (memory_options(o, &mo, err, errlen))
		return WL_BAD_INPUT;
	harvest_vm_options(o, &vo);
	if (workload_mmu_check(&vo, o->strategy, mo.backing, o->bytes, NULL, 0, err, errlen))
		return WL_BAD_INPUT;
	return workload_memory_check(&mo, err, errlen);
}

static void emit_rows(struct wl_ctx *ctx, const struct harvest_opts *o,
		      const struct harvest_sample *s, const struct harvest_cell *cell)
{
	for (uint64_t r = 0; r < o->reps; r++) {
		wl_row_begin(ctx);
		wl_put_text(ctx, COL_STRATEGY, o->strategy);
		wl_put_uint(ctx, COL_SLOT_BYTES, o->bytes);
		wl_put_uint(ctx, COL_DIRTY_PERCENT, o->dirty_percent);
		wl_put_uint(ctx, COL_REP, r);
		wl_put_text(ctx, COL_FAULT_PATH, fault_path_names[o->fault_path]);
		wl_put_text(ctx, COL_BACKING, guest_backing_names[o->backing]);
		wl_put_uint(ctx, COL_DIRTY_PAGES, s[r].dirty_pages);
		wl_put_uint(ctx, COL_REPORTED_PAGES, s[r].reported_pages);
		wl_put_uint(ctx, COL_GET_LOG_NS, s[r].get_log_ns);
		wl_put_uint(ctx, COL_CLEAR_LOG_NS, s[r].clear_log_ns);
		wl_put_uint(ctx, COL_HARVEST_NS, s[r].get_log_ns + s[r].clear_log_ns);
		wl_put_uint(ctx, COL_FLOOR_NS, s[r].floor_ns);
		wl_put_text(ctx, COL_MMU, vm_mmu_names[o->mmu]);
		wl_put_text(ctx, COL_MMU_MECHANISM, cell->mmu);
		wl_put_text(ctx, COL_VM_SRCU, cell->vm_srcu);
		workload_put_fault_floor(ctx, COL_FAULT_FLOOR_NS, cell->fault_floor_ns);
		wl_row_end(ctx);
	}
}

/* The stdout line of a cell: medians over the repetitions. */
static void print_medians(struct wl_ctx *ctx, const struct harvest_opts *o,
			  const struct harvest_sample *s, const struct harvest_cell *cell)
{
	char fault[32] = "-";
	uint64_t get[HARVEST_MAX_REPS], clr[HARVEST_MAX_REPS], both[HARVEST_MAX_REPS];
	uint64_t flo[HARVEST_MAX_REPS], h, f;

	for (uint64_t r = 0; r < o->reps; r++) {
		get[r] = s[r].get_log_ns;
		clr[r] = s[r].clear_log_ns;
		both[r] = s[r].get_log_ns + s[r].clear_log_ns;
		flo[r] = s[r].floor_ns;
	}
	if (wl_cell_index(ctx) == 0)
		wl_printf(ctx, "%-28s %10s %6s %9s %12s %12s %12s %12s %8s %-15s %8s\n", "strategy",
			  "slot", "dirty%", "pages", "get_log_ns", "clear_log_ns", "harvest_ns",
			  "floor_ns", "x_floor", "mmu", "fault_ns");
	h = stats_median_u64(both, o->reps);
	f = stats_median_u64(flo, o->reps);
	if (cell->fault_floor_ns >= 0)
		snprintf(fault, sizeof(fault), "%.0f", cell->fault_floor_ns);
	wl_printf(ctx, "%-28s %9lluM %6llu %9llu %12llu %12llu %12llu %12llu %8.2f %-15s %8s\n",
		  o->strategy, (unsigned long long)(o->bytes >> 20),
		  (unsigned long long)o->dirty_percent, (unsigned long long)s[0].dirty_pages,
		  (unsigned long long)stats_median_u64(get, o->reps),
		  (unsigned long long)stats_median_u64(clr, o->reps), (unsigned long long)h,
		  (unsigned long long)f, f ? (double)h / (double)f : 0.0, cell->mmu, fault);
}

static int harvest_run(const void *opts, struct wl_ctx *ctx, char *err, size_t errlen)
{
	const struct harvest_opts *o = opts;
	struct harvest_sample s[HARVEST_MAX_REPS];
	struct harvest_cell cell;
	struct guest_memory_options mo;
	struct guest_memory mem;
	char numa[32];
	int rc;

	wl_progress(ctx, "%s, %llu MiB, %llu%% dirty", o->strategy,
		    (unsigned long long)(o->bytes >> 20), (unsigned long long)o->dirty_percent);
	if ((rc = memory_options(o, &mo, err, errlen)))
		return rc;
	if (guest_memory_create(&mem, &mo, err, errlen))
		return WL_BAD_INPUT;
	rc = harvest_measure(ctx, o, &mem, s, &cell, err, errlen);
	guest_memory_destroy(&mem);
	if (rc)
		return rc;
	emit_rows(ctx, o, s, &cell);
	print_medians(ctx, o, s, &cell);
	wl_meta(ctx, "reps", "%llu", (unsigned long long)o->reps);
	wl_meta(ctx, "warmup_reps", "1");
	wl_meta(ctx, "fault_path", "\"%s\"", fault_path_names[o->fault_path]);
	wl_meta(ctx, "backing", "\"%s\"", guest_backing_names[o->backing]);
	wl_meta(ctx, "numa", "\"%s\"", guest_numa_name(mo.numa, mo.numa_node, numa, sizeof(numa)));
	wl_meta(ctx, "statistic_on_stdout", "\"median\"");
	wl_meta(ctx, "harvester",
		"\"one thread, the only vCPU outside guest mode (flushes wait for nobody)\"");
	return 0;
}

#define OPT(field) offsetof(struct harvest_opts, field)

/* clang-format off */
static const struct wl_option harvest_options[] = {
	{ .name = "strategy", .short_name = 's', .type = WL_TEXT, .flags = WL_REPEAT | WL_EXPAND_OPTIONAL,
	  .def = "all", .metavar = "SPEC", .offset = OPT(strategy),
	  .help = "NAME[:KEY=VALUE,...]; `all`: every strategy with its defaults",
	  .check_value = dirty_log_spec_check, .expand = dirty_log_spec_expand },
	{ .name = "bytes", .short_name = 'b', .type = WL_SIZE, .flags = WL_LIST, .def = "1G",
	  .min = 256 << 10, .max = 1ull << 44, .offset = OPT(bytes),
	  .help = "slot sizes, multiples of 256K, e.g. 64M or 1G,4G" },
	{ .name = "dirty", .short_name = 'd', .type = WL_UINT, .flags = WL_LIST,
	  .def = "0,1,10,50,100", .min = 0, .max = 100, .offset = OPT(dirty_percent),
	  .help = "percentages of pages dirty" },
	{ .name = "reps", .short_name = 'r', .type = WL_UINT, .def = "5", .min = 1,
	  .max = HARVEST_MAX_REPS, .offset = OPT(reps),
	  .help = "timed repetitions per cell, after 1 warm-up" },
	{ .name = "fault-path", .short_name = 'p', .type = WL_CHOICE, .def = "locked",
	  .choices = fault_path_names, .metavar = "P", .offset = OPT(fault_path),
	  .help = "how the pages are dirtied (uffd-wp, mprotect: the handler\n"
		  "under mmu_lock, or lockless; uffd-wp-async, soft-dirty: the\n"
		  "kernel is the marker, it does not apply)" },
	{ .name = "backing", .short_name = 'm', .type = WL_CHOICE, .def = "anonymous",
	  .choices = guest_backing_names, .metavar = "NAME", .offset = OPT(backing),
	  .help = "guest memory" },
	{ .name = "numa", .type = WL_TEXT, .def = "local", .metavar = "POLICY",
	  .offset = OPT(numa), .help = "local|interleave|bind:N",
	  .check_value = guest_numa_check },
	WL_MMU_OPTIONS(struct harvest_opts, mmu, mmu_wp, fault_delivery),
	WL_VM_SRCU_OPTION(struct harvest_opts, vm_srcu),
	WL_SRCU_EXPEDITED_OPTION(struct harvest_opts, srcu_expedited),
	{ 0 },
};
/* clang-format on */

const struct workload workload_harvest = {
	.name = "harvest",
	.summary = "get_log/clear_log time of each dirty-log strategy against the bare-loop floor",
	.description =
		"Times get_log and clear_log of each strategy on one slot with a share of\n"
		"its pages dirty, next to the floor measured in the same run (a bare loop\n"
		"that reads the dirty bitmap and clears the writable bit of each dirty page).\n"
		"Rows: one per repetition; stdout: medians.",
	.options = harvest_options,
	.columns = harvest_columns,
	.opts_size = sizeof(struct harvest_opts),
	.writes_results = true,
	.help_extra = dirty_log_help,
	.check = harvest_check,
	.run = harvest_run,
};
