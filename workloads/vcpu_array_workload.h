/*
 * Workload `vcpu-array`: one creator thread adds vCPUs up to N while
 * iterator threads run "kick every vCPU" passes and lookup threads fetch
 * vCPUs by index, all through one vCPU array strategy (lib/vcpu_array.h).
 * Once all N exist the iterators and lookups run on for the steady phase,
 * whose passes and lookups are the measured ones.
 */
#ifndef DLBENCH_VCPU_ARRAY_WORKLOAD_H
#define DLBENCH_VCPU_ARRAY_WORKLOAD_H

#include <stdint.h>

#include "lib/util/histogram.h"
#include "lib/vcpu_array/vcpu_array.h"

struct vcpu_array_params {
	const struct vcpu_array_ops *ops;
	struct vcpu_array_config cfg;
	uint32_t nvcpus;              /* N */
	int iterators;
	int lookupers;
	uint64_t steady_ns;           /* steady phase after all N exist */
	uint64_t create_interval_ns;  /* creator's pause between vCPUs */
	uint32_t lookup_batch;        /* lookups per timed batch */
	const int *cpus;              /* 1 + iterators + lookupers OS CPUs */
};

struct vcpu_array_result {
	struct histogram *pass_ns;        /* steady passes: ns per whole pass */
	struct histogram *lookup_ns;      /* steady: ns per lookup, batch means */
	struct histogram *create_ns;      /* ns per add() */
	uint64_t passes;                  /* steady passes */
	uint64_t pass_ns_total;
	uint64_t visited;                 /* vCPUs visited in steady passes */
	uint64_t passes_during_creation;
	uint64_t lookups;
	uint64_t lookup_ns_total;
	uint64_t bad_passes;              /* steady passes that did not see N */
	uint64_t bad_lookups;             /* lookups that returned a wrong vCPU */
	uint64_t creation_ns;             /* wall time to create all N */
	uint64_t steady_wall_ns;
	uint64_t footprint_bytes;         /* array structure at N */
};

/* Runs one cell.  Returns 0, or -1 with a one-line message on stderr.  The
 * result's histograms are allocated here; free them with
 * vcpu_array_result_free. */
int vcpu_array_run(const struct vcpu_array_params *p, struct vcpu_array_result *res);
void vcpu_array_result_free(struct vcpu_array_result *res);

#endif
