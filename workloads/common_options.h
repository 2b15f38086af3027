/*
 * Option checks and expansions that several workload tables share: a
 * dirty-log strategy spec, a memslot protection, a NUMA policy, a CPU list,
 * and whether guest memory of a given size and backing can be had.
 */
#ifndef DLBENCH_WORKLOADS_COMMON_OPTIONS_H
#define DLBENCH_WORKLOADS_COMMON_OPTIONS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/util/topology.h"
#include "lib/vm/guest_memory.h"

/* The dirty-log "strategy" that runs a workload with logging off. */
#define DIRTY_LOG_NONE "none"

/* wl_option.check_value: "NAME[:KEY=VALUE,...]" of a registered dirty-log
 * strategy (`all` and `none` pass: see the expand hooks). */
int dirty_log_spec_check(const char *value, char *err, size_t errlen);
/* wl_option.expand: `all` is every registered strategy, by name. */
int dirty_log_spec_expand(const char *value, const char **out, int max);
/* help_extra: the list of strategies and their options. */
void dirty_log_help(FILE *f);

/* wl_option.check_value: a memslot protection's spec NAME[:K=V,...]
 * (`srcu` is srcu-mb). */
int memslot_protect_check(const char *value, char *err, size_t errlen);
/* The spec @value names (the alias resolved), for vm_options. */
const char *memslot_protect_alias(const char *value);

/* wl_option.check_value: local, interleave, bind:N or a node number N. */
int guest_numa_check(const char *value, char *err, size_t errlen);
/* Parses what guest_numa_check accepts; -1 if it is none of those. */
int workload_numa_parse(const char *value, enum guest_numa_policy *p, int *node);

/* guest_memory_check (lib/vm/guest_memory.h) as a workload check: 0, or
 * WL_BAD_INPUT with one line in @err. */
int workload_memory_check(const struct guest_memory_options *o, char *err, size_t errlen);
/* The same, for a workload that also needs @extra bytes of ordinary
 * memory beside the guest (a destination image, per-page state): the sum
 * must fit in MemAvailable. */
int workload_memory_check_extra(const struct guest_memory_options *o, uint64_t extra,
				char *err, size_t errlen);

/* Picks @n CPUs for threads (topology_pick_cpus: @list, else @placement)
 * into @cpus (may be NULL: check only); *@overcommit is set when threads
 * would share CPUs.  0, or WL_BAD_INPUT with one line in @err. */
int workload_pick_cpus(int n, enum placement placement, const char *list, int *cpus,
		       int *overcommit, char *err, size_t errlen);

#endif
