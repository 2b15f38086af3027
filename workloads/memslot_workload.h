/*
 * Workload `memslot`: pinned vCPU threads translate random gfns to host
 * addresses through a memslot read protection (lib/memslot_protect.h) and
 * touch the page, while one updater changes the memslot table at a set rate
 * or as fast as it can.
 *
 * Guest physical layout (gfns, every slot @slot_pages pages):
 *
 *   [ base slots 1..slots ][ gap ][ test area: test_slots chunks ][ gap ][ away ]
 *
 * Modes, after the kernel's memslot_perf_test; each says what one update
 * does and which gfns the readers draw from:
 *   map            one update maps one more test-area chunk (creates its
 *                  slot); once all are mapped, one update unmaps them all.
 *                  Readers: base slots and test area.
 *   unmap          the test area is one slot; each update deletes it or
 *                  creates it again, in turn.  Readers: base and test area.
 *   unmap-chunked  one update unmaps one test-area chunk; once none is
 *                  left, one update maps them all again.  Readers: base and
 *                  test area.
 *   move-active    base slot 1 moves between its home and the away range;
 *                  readers draw from the base slots and the away range, so
 *                  they use the moving slot.
 *   move-inactive  a test-area slot moves between the test area and the
 *                  away range; readers draw from the base slots only.
 *   rw             no layout change: each update toggles the dirty-logging
 *                  flag of one base slot (in turn); readers write the page
 *                  and read it back.  Readers: base slots.
 *
 * Reader stall: each reader times every batch of @stall_batch iterations
 * (lookup, page touch, read section, quiescent point); a reader held up by
 * an update or by the protection shows as a long batch.  The clock is read
 * once per batch, never per lookup.
 */
#ifndef DLBENCH_MEMSLOT_WORKLOAD_H
#define DLBENCH_MEMSLOT_WORKLOAD_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/util/histogram.h"

enum memslot_mode {
	MEMSLOT_MODE_MAP,
	MEMSLOT_MODE_UNMAP,
	MEMSLOT_MODE_UNMAP_CHUNKED,
	MEMSLOT_MODE_MOVE_ACTIVE,
	MEMSLOT_MODE_MOVE_INACTIVE,
	MEMSLOT_MODE_RW,
};

/* NULL-terminated, indexed by enum memslot_mode (for cli_choice). */
extern const char *const memslot_mode_names[];

struct memslot_bench_params {
	const char *protection;       /* a name in memslot_protect_names */
	bool expedited;               /* grace periods (srcu-*) */
	int readers;
	const int *cpus;              /* @readers OS CPUs */
	double update_rate;           /* updates per second; 0: back to back */
	uint64_t duration_ns;
	enum memslot_mode mode;
	uint64_t critical_ns;         /* extra busy time inside each read section */
	uint32_t slots;               /* base slots */
	uint32_t slot_pages;
	uint32_t test_slots;          /* chunks of the test area */
	uint32_t stall_batch;         /* reader iterations per timed batch */
	uint64_t seed;
};

struct memslot_bench_result {
	uint64_t elapsed_ns;          /* updater's measured interval */
	uint64_t lookups;             /* all readers */
	uint64_t hits;                /* lookups that found a slot */
	double lookups_per_s;         /* per reader, mean over readers */
	double lookups_per_s_min;     /* slowest reader */
	double lookups_per_s_max;
	uint64_t updates;
	double updates_per_s;
	uint64_t update_errors;       /* updates refused (floor: -ENOSPC) */
	uint64_t read_failures;       /* poisoned table or bad slot seen */
	struct histogram *update_ns;  /* one value per update */
	struct histogram *stall_ns;   /* one value per reader batch */
};

/* Guest memory the run maps, in bytes (for the caller's checks). */
uint64_t memslot_bench_memory_bytes(const struct memslot_bench_params *p);

/* Runs one cell.  Returns 0, or -1 with a one-line message on stderr.
 * Free the result's histograms with memslot_bench_result_free. */
int memslot_bench_run(const struct memslot_bench_params *p, struct memslot_bench_result *res);
void memslot_bench_result_free(struct memslot_bench_result *res);

#endif
