/*
 * The dirty-log workload (the kernel's dirty_log_perf_test, rebuilt on the
 * emulated VM of lib/vm.h): pinned vCPU threads dirty guest memory while
 * the harvester collects the dirty log with the strategy under test.
 *
 * One "cell" is one (strategy, mode) pair run on a fresh VM:
 *
 *   populate     every vCPU writes its region once, sequentially, logging off
 *   floors       raw: plain stores over the same memory in the same order,
 *                no emulated MMU; vcpu: the vCPU loop itself with logging off
 *                (every spte writable) -- the page-touch floor
 *   enable       dirty logging on (the strategy's initial spte state)
 *   iteration    per iteration: dirty pass (every vCPU once over its region),
 *                get log, clear log (where the strategy separates them)
 *   continuous   the vCPUs dirty without pause; the harvester gets and
 *                clears every harvest interval for the duration
 *   disable      dirty logging off (every spte writable again)
 *
 * Strategy "none" runs the same cell with logging never enabled.  The CLI
 * is bench/cmd_dirty_log.c; this file is the driver's interface to it.
 */
#ifndef DLBENCH_DIRTY_LOG_WORKLOAD_H
#define DLBENCH_DIRTY_LOG_WORKLOAD_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/vm/guest_memory.h"
#include "lib/util/histogram.h"
#include "lib/util/topology.h"
#include "lib/vm/vm.h"

/* The strategy name that runs the workload with dirty logging off. */
#define DLW_STRATEGY_NONE "none"

enum dlw_mode {
	DLW_MODE_ITERATION,
	DLW_MODE_CONTINUOUS,
};

/* NULL-terminated, indexed by enum dlw_mode. */
extern const char *const dlw_mode_names[];

struct dlw_config {
	int vcpus;
	uint64_t bytes_per_vcpu;
	unsigned iterations;          /* iteration mode, >= 2 */
	unsigned write_percent;       /* 0..100 */
	bool random_access;           /* random page order (with replacement) */
	bool overlap;                 /* every vCPU accesses all of guest memory */
	const int *cpus;              /* vcpus entries, from topology_pick_cpus */
	int harvester_cpu;            /* -1: the harvester is not pinned */
	enum guest_backing backing;
	enum guest_numa_policy numa;
	int numa_node;
	uint32_t slots;
	uint64_t seed;
	enum fault_path fault_path;
	const char *memslot_protect;  /* the VM's memslot read protection
				       * (lib/memslot_protect.h name; NULL:
				       * VM_MEMSLOT_PROTECT_DEFAULT) */
	uint64_t harvest_interval_ns; /* continuous mode */
	uint64_t duration_ns;         /* continuous mode */
	unsigned floor_passes;        /* passes per floor; the fastest one counts */
	bool quiet;                   /* no kernel-style progress lines */
};

/* One harvest row: an iteration, or the whole of a continuous run. */
struct dlw_row {
	unsigned iteration;           /* 1.. (iteration mode); 0 (continuous) */
	uint64_t dirty_pass_ns;       /* iteration: the longest vCPU's pass, each
				       * timed from its own start; continuous:
				       * mean per-vCPU pass */
	uint64_t get_log_ns;          /* iteration: this harvest; continuous: mean */
	uint64_t clear_log_ns;
	uint64_t accesses;            /* page touches by all vCPUs */
	uint64_t faults;              /* write faults taken: pages dirtied */
	uint64_t pages_harvested;     /* reported by get_log */
	uint64_t passes;              /* complete vCPU passes (continuous) */
	uint64_t demand_harvests;     /* harvests for a vCPU that waited for log
				       * space (a full dirty ring), as QEMU reaps
				       * on KVM_EXIT_DIRTY_RING_FULL */
	uint64_t flush_acks;
	uint64_t ring_full_exits;
	struct histogram *stall;      /* merged over vCPUs */
};

struct dlw_cell {
	/* inputs */
	const char *strategy;         /* spec, or DLW_STRATEGY_NONE */
	enum dlw_mode mode;
	/* outputs */
	bool logging;                 /* false for "none" */
	bool separate_clear;          /* the strategy has a clear step of its own */
	uint64_t pages_per_pass;      /* per vCPU */
	uint64_t populate_ns;
	uint64_t raw_pass_ns;         /* fastest raw floor pass */
	uint64_t floor_pass_ns;       /* fastest vCPU-loop pass, logging off */
	uint64_t enable_ns, disable_ns;
	unsigned nrows;
	struct dlw_row *rows;
	/* continuous mode */
	uint64_t run_ns;              /* measured duration */
	uint64_t harvests;            /* timed harvests (the final one excluded),
				       * demand harvests included */
	uint64_t final_harvested;     /* pages of the final harvest */
	/* merged over the whole cell */
	struct histogram *stall;      /* vCPU stalls: fault path + kick waits */
	struct histogram *harvest;    /* get + clear, per harvest */
	struct histogram *get_log;
	struct histogram *clear_log;
};

/* Checks the parts of @cfg that depend on each other (slots divide the
 * pages, ...); writes one line to @err and returns -1 if they do not. */
int dlw_config_check(const struct dlw_config *cfg, char *err, size_t errlen);

/* Runs one cell.  Returns 0; -2 with one line in @err for bad input or too
 * few resources (memory, huge pages, a bad strategy spec); -1 with one line
 * in @err for other failures (pinning, a thread). */
int dlw_run_cell(const struct dlw_config *cfg, struct dlw_cell *cell, char *err, size_t errlen);
void dlw_cell_free(struct dlw_cell *cell);

/* Costs of the measurement itself, in ns: one histogram_record, and one
 * now_ns() (a fault is timed by two). */
double dlw_histogram_sample_ns(void);
double dlw_clock_read_ns(void);

/* Guest memory size of a run, in bytes. */
static inline uint64_t dlw_guest_bytes(const struct dlw_config *cfg)
{
	return cfg->bytes_per_vcpu * (uint64_t)cfg->vcpus;
}

#endif
