/* Option checks shared by the workload tables: see common_options.h. */
#include "workloads/common_options.h"

#include <stdlib.h>
#include <string.h>

#include "lib/dirty_log/dirty_log.h"
#include "lib/memslot_protect/memslot_protect.h"
#include "lib/mmu/linux_dirty.h"
#include "lib/util/compiler.h"
#include "lib/util/spec.h"
#include "workloads/workload.h"

int dirty_log_spec_check(const char *value, char *err, size_t errlen)
{
	struct dirty_log *log;

	if (!strcmp(value, "all") || !strcmp(value, DIRTY_LOG_NONE))
		return 0;
	/* parse it now, so that a bad name or option is a usage error */
	log = dirty_log_create(value, NULL, err, errlen);
	if (!log)
		return -1;
	dirty_log_free(log);
	return 0;
}

int dirty_log_spec_expand(const char *value, const char **out, int max)
{
	const struct dirty_log_ops *o;
	int n = 0, i;

	if (strcmp(value, "all"))
		return spec_split_list(value, out, max);
	dirty_log_foreach (o, i) {
		if (n == max)
			return -1;
		out[n++] = o->name;
	}
	return n;
}

void dirty_log_help(FILE *f)
{
	fprintf(f, "strategies:\n");
	dirty_log_list(f);
}

const char *memslot_protect_alias(const char *value)
{
	return strcmp(value, "srcu") ? value : "srcu-mb";
}

const char *workload_memslot_protect(const char *value, int vm_srcu)
{
	return strcmp(value, "srcu") ? value : vm_memslot_protect_default(vm_srcu);
}

int memslot_protect_check(const char *value, char *err, size_t errlen)
{
	return memslot_protect_spec_check(memslot_protect_alias(value), err, errlen);
}

int workload_numa_parse(const char *value, enum guest_numa_policy *p, int *node)
{
	char buf[32];
	char *end;
	long n = strtol(value, &end, 10);

	if (*value >= '0' && *value <= '9' && !*end) {
		if (n > 4095)
			return -1;
		snprintf(buf, sizeof(buf), "bind:%ld", n);
		value = buf;
	}
	return guest_numa_parse(value, p, node);
}

int guest_numa_check(const char *value, char *err, size_t errlen)
{
	enum guest_numa_policy p;
	int node;

	if (workload_numa_parse(value, &p, &node)) {
		snprintf(err, errlen, "'%s' is not a node number, bind:N, interleave or local",
			 value);
		return -1;
	}
	return 0;
}

int workload_memory_check(const struct guest_memory_options *o, char *err, size_t errlen)
{
	return guest_memory_check(o, err, errlen) ? WL_BAD_INPUT : 0;
}

int workload_memory_check_extra(const struct guest_memory_options *o, uint64_t extra, char *err,
				size_t errlen)
{
	uint64_t avail = guest_mem_available();
	uint64_t guest = o->backing == GUEST_BACKING_ANONYMOUS_HUGETLB ? 0 : o->bytes;

	if (avail && (guest + extra < guest || guest + extra > avail)) {
		snprintf(err, errlen,
			 "%llu bytes of guest memory and %llu bytes beside it, but only %llu bytes "
			 "are available (MemAvailable)",
			 (unsigned long long)o->bytes, (unsigned long long)extra,
			 (unsigned long long)avail);
		return WL_BAD_INPUT;
	}
	return workload_memory_check(o, err, errlen);
}

int workload_pick_cpus(int n, enum placement placement, const char *list, int *cpus,
		       int *overcommit, char *err, size_t errlen)
{
	int *tmp = cpus ? cpus : calloc((size_t)n, sizeof(*tmp));
	int rc;

	if (!tmp) {
		snprintf(err, errlen, "out of memory for %d CPU numbers", n);
		return WL_BAD_INPUT;
	}
	if (topology_init()) {
		snprintf(err, errlen, "cannot read the machine's topology (hwloc)");
		rc = WL_BAD_INPUT;
	} else {
		rc = topology_pick_cpus(n, placement, list, tmp, overcommit, err, errlen)
			     ? WL_BAD_INPUT
			     : 0;
	}
	if (!cpus)
		free(tmp);
	return rc;
}

/* ---- the MMU ---- */

void workload_mmu_options(struct vm_options *vo, int mmu, int wp, int delivery)
{
	vo->mmu = (enum vm_mmu)mmu;
	vo->mmu_wp = (enum mmu_wp_mechanism)wp;
	vo->fault_delivery = (enum mmu_wp_delivery)delivery;
}

int workload_mmu_check(const struct vm_options *vo, const char *spec, enum guest_backing backing,
		       uint64_t bytes, char *name, size_t namelen, char *err, size_t errlen)
{
	struct dirty_log *log = NULL;
	char why[512];
	bool linux_kind;
	int rc;

	if (spec && strcmp(spec, DIRTY_LOG_NONE) &&
	    !(log = dirty_log_create(spec, NULL, err, errlen)))
		return WL_BAD_INPUT;
	rc = vm_mmu_plan(vo, backing, bytes >> PAGE_SHIFT, log, name, namelen, NULL, 0, why,
			 sizeof(why));
	linux_kind = log && dirty_log_mmu_kind(log) != DIRTY_LOG_MMU_SPTE;
	dirty_log_free(log);
	if (!rc)
		return 0;
	if (vo->mmu == VM_MMU_REAL && !strncmp(why, "mprotect faults", 15))
		snprintf(err, errlen, "--fault-delivery thread: %s", why);
	else if (!strncmp(why, "--", 2))
		snprintf(err, errlen, "%s", why);
	else if (linux_kind || (log && vo->mmu == VM_MMU_SOFT))
		snprintf(err, errlen, "--strategy %s: %s", spec, why);
	else
		/* the KVM-style strategies' write protection */
		snprintf(err, errlen, "--mmu real --mmu-wp %s: %s",
			 mmu_wp_mechanism_names[vo->mmu_wp], why);
	return WL_BAD_INPUT;
}

/* One measured floor per MMU name and process. */
static struct {
	char name[32];
	double ns;
} floors[16];

double workload_fault_floor(struct wl_ctx *ctx, const struct vm_options *vo,
			    const struct dirty_log *log)
{
	char name[32], err[256];
	size_t i;
	double ns;

	if (vo->mmu == VM_MMU_SOFT || !log)
		return -1;
	if (vm_mmu_plan(vo, GUEST_BACKING_ANONYMOUS, 0, log, name, sizeof(name), NULL, 0, err,
			sizeof(err)))
		return -1;
	for (i = 0; i < ARRAY_SIZE(floors) && floors[i].name[0]; i++)
		if (!strcmp(floors[i].name, name))
			return floors[i].ns;
	if (vm_mmu_fault_floor(vo, log, &ns, err, sizeof(err))) {
		wl_notice(ctx, "fault floor of %s: %s", name, err);
		return -1;
	}
	if (i < ARRAY_SIZE(floors)) {
		snprintf(floors[i].name, sizeof(floors[i].name), "%s", name);
		floors[i].ns = ns;
	}
	return ns;
}

void workload_put_fault_floor(struct wl_ctx *ctx, int col, double ns)
{
	if (ns >= 0)
		wl_put_real(ctx, col, ns);
}

/* @s as the inside of a JSON string (quotes and backslashes escaped). */
static void json_text(char *out, size_t len, const char *s)
{
	size_t o = 0;

	for (; *s && o + 2 < len; s++) {
		if (*s == '"' || *s == '\\')
			out[o++] = '\\';
		out[o++] = (char)(*s < ' ' ? ' ' : *s);
	}
	out[o] = 0;
}

/* "linux_dirty_tracking": { "uffd-wp": "available", "soft-dirty": "skipped: ..." } */
static void linux_tracking_meta(struct wl_ctx *ctx)
{
	/* probed once per process: the kernel does not change */
	static char json[2048];
	char why[256], text[300];
	size_t used = 1;

	if (json[0]) {
		wl_meta(ctx, "linux_dirty_tracking", "%s", json);
		return;
	}
	json[0] = '{';
	for (int m = 0; linux_dirty_mechanism_names[m] && used < sizeof(json); m++) {
		int rc = linux_dirty_probe((enum linux_dirty_mechanism)m, why, sizeof(why));

		json_text(text, sizeof(text), why);
		used += (size_t)snprintf(json + used, sizeof(json) - used, "%s\"%s\": \"%s%s\"",
					 m ? ", " : "", linux_dirty_mechanism_names[m],
					 rc ? "skipped: " : "available", rc ? text : "");
	}
	if (used < sizeof(json))
		snprintf(json + used, sizeof(json) - used, "}");
	wl_meta(ctx, "linux_dirty_tracking", "%s", json);
}

void workload_vm_srcu_meta(struct wl_ctx *ctx, const struct vm *vm)
{
	const struct srcu_struct *sp = vm->srcu;

	if (!sp || srcu_flavour_of(sp) != SRCU_FLAVOUR_CLASSIC)
		return;
	wl_meta(ctx, "srcu_expedited", "\"%s\"", srcu_expedited_of(sp));
	wl_meta(ctx, "srcu_stopper_priority", "\"%s\"", srcu_stopper_priority(sp));
	wl_meta(ctx, "srcu_stoppers", "%d", srcu_stopper_count(sp));
}

void workload_mmu_meta(struct wl_ctx *ctx, const struct vm *vm)
{
	static bool said;
	char text[300];

	wl_meta(ctx, "mmu", "\"%s\"", vm_mmu_names[vm->mmu]);
	wl_meta(ctx, "mmu_mechanism", "\"%s\"", vm_mmu_name(vm));
	if (vm_mmu_fallback(vm)[0]) {
		json_text(text, sizeof(text), vm_mmu_fallback(vm));
		wl_meta(ctx, "mmu_fallback", "\"%s\"", text);
		if (!said)
			wl_notice(ctx, "mmu: %s (userfaultfd write-protect unavailable: %s)",
				  vm_mmu_name(vm), vm_mmu_fallback(vm));
		said = true;
	}
	if (vm->mmu == VM_MMU_REAL)
		linux_tracking_meta(ctx);
}
