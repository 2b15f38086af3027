/*
 * Option checks and expansions that several workload tables share: a
 * dirty-log strategy spec, a NUMA policy, and whether guest memory of a
 * given size and backing can be had.
 */
#ifndef DLBENCH_WORKLOADS_COMMON_OPTIONS_H
#define DLBENCH_WORKLOADS_COMMON_OPTIONS_H

#include <stddef.h>
#include <stdio.h>

#include "lib/vm/guest_memory.h"

/* wl_option.check_value: "NAME[:KEY=VALUE,...]" of a registered dirty-log
 * strategy (`all` and `none` pass: see the expand hooks). */
int dirty_log_spec_check(const char *value, char *err, size_t errlen);
/* wl_option.expand: `all` is every registered strategy, by name. */
int dirty_log_spec_expand(const char *value, const char **out, int max);
/* help_extra: the list of strategies and their options. */
void dirty_log_help(FILE *f);

/* wl_option.check_value: local, interleave, bind:N or a node number N. */
int guest_numa_check(const char *value, char *err, size_t errlen);
/* Parses what guest_numa_check accepts; -1 if it is none of those. */
int workload_numa_parse(const char *value, enum guest_numa_policy *p, int *node);

/* guest_memory_check (lib/vm/guest_memory.h) as a workload check: 0, or
 * WL_BAD_INPUT with one line in @err. */
int workload_memory_check(const struct guest_memory_options *o, char *err, size_t errlen);

#endif
