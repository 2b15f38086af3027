/*
 * The harvest micro-benchmark: the cost of one strategy's get_log and
 * clear_log on one slot with a given share of its pages dirty, next to the
 * floor measured on the same pages in the same run: a bare loop that reads
 * the dirty bitmap and clears the writable bit of each dirty page (no
 * atomics, no lock, no flush).
 *
 * A single vCPU (the calling thread, outside guest mode while it harvests)
 * dirties the pages through the ordinary write-fault path, untimed; so the
 * flush inside a harvest finds no vCPU in guest mode and costs only the
 * request it raises.
 */
#ifndef DLBENCH_HARVEST_H
#define DLBENCH_HARVEST_H

#include <stdint.h>

#include "lib/vm/guest_memory.h"
#include "lib/vm/vm.h"

struct harvest_sample {
	uint64_t dirty_pages;      /* pages the vCPU dirtied */
	uint64_t reported_pages;   /* pages get_log reported */
	uint64_t get_log_ns;
	uint64_t clear_log_ns;
	uint64_t floor_ns;
};

/* Runs @warmup + @reps harvests of @strategy on a one-slot VM over @mem at
 * each of @npercent dirty percentages, filling @out[p * reps + r].
 * Returns 0, or -1 with one line in @err. */
int harvest_measure(const char *strategy, struct guest_memory *mem, enum fault_path path,
		    const uint64_t *percents, size_t npercent, int warmup, int reps,
		    struct harvest_sample *out, char *err, size_t errlen);

#endif
