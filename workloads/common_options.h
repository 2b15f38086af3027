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
#include "lib/vm/vm.h"

struct wl_ctx;

/* The dirty-log "strategy" that runs a workload with logging off. */
#define DIRTY_LOG_NONE "none"

/* wl_option.check_value: "NAME[:KEY=VALUE,...]" of a registered dirty-log
 * strategy (`all` and `none` pass: see the expand hooks). */
int dirty_log_spec_check(const char *value, char *err, size_t errlen);
/* wl_option.expand: `all` is every registered strategy, by name; a comma
 * list of specs ("uffd-wp,mprotect", "xchg,clear-log:chunk=64,chunk=..."
 * splits where a comma starts a new spec) is each of them. */
int dirty_log_spec_expand(const char *value, const char **out, int max);
/* help_extra: the list of strategies and their options. */
void dirty_log_help(FILE *f);

/* wl_option.check_value: a memslot protection's spec NAME[:K=V,...]
 * (`srcu` is srcu-mb). */
int memslot_protect_check(const char *value, char *err, size_t errlen);
/* The spec @value names (the alias resolved: srcu-mb). */
const char *memslot_protect_alias(const char *value);
/* The spec @value names for a VM of --vm-srcu @vm_srcu (vm_options.srcu):
 * `srcu`, the default, is the SRCU protection of the VM's flavour
 * (vm_memslot_protect_default); anything else as it is. */
const char *workload_memslot_protect(const char *value, int vm_srcu);

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
int workload_memory_check_extra(const struct guest_memory_options *o, uint64_t extra, char *err,
				size_t errlen);

/* Picks @n CPUs for threads (topology_pick_cpus: @list, else @placement)
 * into @cpus (may be NULL: check only); *@overcommit is set when threads
 * would share CPUs.  0, or WL_BAD_INPUT with one line in @err. */
int workload_pick_cpus(int n, enum placement placement, const char *list, int *cpus,
		       int *overcommit, char *err, size_t errlen);

/* ---- the MMU (lib/vm/vm.h "MMU modes") ---- */

/*
 * The options every workload with a write-fault path takes, as three
 * wl_option lines for its table: --mmu soft|real (a list: one cell per
 * mode), --mmu-wp auto|uffd|mprotect (the KVM-style strategies' write
 * protection under real), --fault-delivery signal|thread (a list).  The
 * fields are ints (enum vm_mmu, enum mmu_wp_mechanism, enum
 * mmu_wp_delivery) of the workload's options structure @opts_type.
 */
#define WL_MMU_OPTIONS(opts_type, mmu_field, wp_field, delivery_field)                          \
	{ .name = "mmu",                                                                        \
	  .type = WL_CHOICE,                                                                    \
	  .flags = WL_LIST,                                                                     \
	  .def = "soft",                                                                        \
	  .choices = vm_mmu_names,                                                              \
	  .metavar = "M",                                                                       \
	  .offset = offsetof(opts_type, mmu_field),                                             \
	  .help = "the MMU: soft (sptes in memory: a write-protected page is a byte,\n"         \
		  "a fault a function call) or real (the pages are write-protected in\n"        \
		  "the page tables: a store faults in hardware, SIGBUS/SIGSEGV or a\n"          \
		  "handler thread resolves it); soft,real runs both.  Linux's own\n"            \
		  "tracking (uffd-wp, uffd-wp-async, soft-dirty, mprotect) is real only" },     \
		{ .name = "mmu-wp",                                                             \
		  .type = WL_CHOICE,                                                            \
		  .def = "auto",                                                                \
		  .choices = mmu_wp_mechanism_names,                                            \
		  .metavar = "W",                                                               \
		  .offset = offsetof(opts_type, wp_field),                                      \
		  .help = "--mmu real, KVM-style strategies: write protection with uffd\n"      \
			  "(userfaultfd), mprotect, or auto (uffd, else mprotect, said on\n"    \
			  "stderr and in meta.json)" },                                         \
	{                                                                                       \
		.name = "fault-delivery", .type = WL_CHOICE, .flags = WL_LIST, .def = "signal", \
		.choices = mmu_wp_delivery_names, .metavar = "D",                               \
		.offset = offsetof(opts_type, delivery_field),                                  \
		.help = "--mmu real: where a fault is handled: signal (SIGBUS/SIGSEGV in\n"     \
			"the faulting vCPU thread, as a VM exit) or thread (a handler\n"        \
			"thread reading the userfaultfd, as postcopy; not with mprotect);\n"    \
			"signal,thread runs both"                                               \
	}

/*
 * --vm-srcu auto|mb|fast|classic (a list: one cell per flavour): the
 * flavour of the VM's SRCU domain, kvm->srcu (lib/vm/vm.h), an int field
 * (VM_SRCU_AUTO or 1 + enum srcu_flavour) of @opts_type.
 */
#define WL_VM_SRCU_OPTION(opts_type, field)                                                       \
	{                                                                                         \
		.name = "vm-srcu", .type = WL_CHOICE, .flags = WL_LIST, .def = "auto",            \
		.choices = vm_srcu_choices, .metavar = "F", .offset = offsetof(opts_type, field), \
		.help = "the flavour of the VM's SRCU domain (kvm->srcu), which the vCPUs\n"      \
			"hold across each exit and under which memslots and srcu-swap's\n"        \
			"bitmaps are read: mb, fast, classic (the 2012 SRCU), or auto (an\n"      \
			"SRCU --memslot-protect's flavour, else mb); an SRCU memslot\n"           \
			"protection of another flavour is an error"                               \
	}

/*
 * --srcu-expedited stop-cpus|membarrier: a classic kvm->srcu's expedited
 * sync_func (vm_options.srcu_expedited, an int field of @opts_type).
 */
#define WL_SRCU_EXPEDITED_OPTION(opts_type, field)                                               \
	{                                                                                        \
		.name = "srcu-expedited", .type = WL_CHOICE, .def = "stop-cpus",                 \
		.choices = srcu_expedited_names, .metavar = "M",                                 \
		.offset = offsetof(opts_type, field),                                            \
		.help = "--vm-srcu classic: the expedited grace period's sync_func: stop-cpus\n" \
			"(membarrier, then a pinned SCHED_FIFO stopper thread per CPU runs\n"    \
			"and the caller waits for all, as synchronize_sched_expedited's\n"       \
			"try_stop_cpus of 2012) or membarrier (PRIVATE_EXPEDITED alone)"         \
	}

/* meta.json for a cell's VM whose kvm->srcu is classic: "srcu_expedited"
 * (stop-cpus or membarrier), "srcu_stopper_priority" (fifo or normal) and
 * "srcu_stoppers"; nothing for another flavour. */
void workload_vm_srcu_meta(struct wl_ctx *ctx, const struct vm *vm);

/* The MMU part of @vo from the three options' values. */
void workload_mmu_options(struct vm_options *vo, int mmu, int wp, int delivery);

/*
 * vm_mmu_plan for a cell: the strategy @spec (NULL or "none": no log)
 * under @vo on @bytes of @backing: 0 with the MMU's name in @name (may be
 * NULL), or WL_BAD_INPUT with one line in @err.
 */
int workload_mmu_check(const struct vm_options *vo, const char *spec, enum guest_backing backing,
		       uint64_t bytes, char *name, size_t namelen, char *err, size_t errlen);

/* The fault floor (vm_mmu_fault_floor) of @vo with @log, measured once per
 * MMU name and process; -1 when there is none (soft, no log) or it could
 * not be measured (a notice on @ctx says why). */
double workload_fault_floor(struct wl_ctx *ctx, const struct vm_options *vo,
			    const struct dirty_log *log);

/* Puts the fault floor into column @col (empty when there is none). */
void workload_put_fault_floor(struct wl_ctx *ctx, int col, double ns);

/* meta.json and stderr for the MMU of a cell's VM: "mmu" and
 * "mmu_mechanism", the fallback to mprotect (also a notice on stderr, once
 * per process), and "linux_dirty_tracking": which of Linux's mechanisms
 * this kernel offers, each "available" or the reason it is skipped. */
void workload_mmu_meta(struct wl_ctx *ctx, const struct vm *vm);

#endif
