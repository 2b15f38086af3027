/*
 * The no-lost-dirty-page verifier: one workload on the VM and dirty-log
 * API.  vCPU threads write increasing sequence numbers into their own
 * pages (page gfn belongs to vCPU gfn % vcpus, picked at random) while the
 * harvester runs rounds of get_log + clear_log and copies every reported
 * page into a destination image.  At the end the vCPUs stop, a final
 * harvest runs, and the destination must equal the source byte for byte.
 *
 * Each round also checks the pages reported clean, as the kernel's
 * dirty_log_test does: a clean page whose value differs from its copy was
 * written after the last harvest that reported it; the strategy must
 * report it within the next 1 + report_lag harvests, else it is lost.
 */
#ifndef DLBENCH_VERIFY_H
#define DLBENCH_VERIFY_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/vm/guest_memory.h"
#include "lib/util/topology.h"
#include "lib/vm/vm.h"

struct verify_config {
	const char *strategy;          /* "NAME[:KEY=VALUE,...]" */
	enum fault_path fault_path;
	const char *memslot_protect;   /* the VM's; NULL: VM_MEMSLOT_PROTECT_DEFAULT */
	/* After every harvest round, replace the memslot table (same slots)
	 * through the protection, which waits for the vCPUs' read sections
	 * (rwlock-cond: until each passes a quiescent point). */
	bool memslot_updates;
	int nvcpus;
	uint32_t nslots;
	uint64_t rounds;
	uint64_t store_delay_ns;       /* busy wait between translation and store */
	uint64_t round_interval_ns;    /* sleep between harvest rounds */
	/* A round starts once the vCPUs made this many writes since the last
	 * one (or after a short wait); the first once every vCPU wrote. */
	uint64_t min_writes_per_round;
	uint64_t seed;
	struct guest_memory_options mem;
	enum placement placement;
	const char *cpu_list;          /* NULL: placement */
};

struct verify_result {
	uint64_t rounds;
	uint64_t pages_verified;       /* pages compared: every page, every round, and at the end */
	uint64_t pages_lost;           /* late_pages + final_mismatches */
	uint64_t late_pages;           /* written, never reported in time */
	uint64_t final_mismatches;     /* destination != source after the final harvest */
	uint64_t pages_reported;
	uint64_t writes, faults, flushes, ring_full_exits;
	uint64_t memslot_updates;
	double seconds;
};

/* Runs one verification.  Returns 0 when it ran (the verdict is
 * res->pages_lost), -1 with one line in @err when it could not be set up. */
int verify_run(const struct verify_config *c, struct verify_result *res, char *err,
	       size_t errlen);

#endif
