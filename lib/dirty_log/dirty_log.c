/* Dirty-log strategy registry, spec parsing and the wrappers of every op:
 * see dirty_log.h. */
#include "lib/dirty_log/dirty_log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util/compiler.h"
#include "lib/util/registry.h"
#include "lib/util/spec.h"
#include "lib/vm/vm.h"

#define DIRTY_LOG_MAX_REGISTERED 32

static const void *const builtin[] = {
#define DIRTY_LOG_BUILTIN(n) &dirty_log_##n##_ops,
	DIRTY_LOG_STRATEGIES(DIRTY_LOG_BUILTIN)
#undef DIRTY_LOG_BUILTIN
};

/* Registered at start-up by tests, before any thread runs. */
static const void *registered[DIRTY_LOG_MAX_REGISTERED];
static struct registry registry = REGISTRY_INIT(builtin, registered);

const struct dirty_log_ops *dirty_log_nth(int i)
{
	return registry_nth(&registry, i);
}

const struct dirty_log_ops *dirty_log_find(const char *name)
{
	return registry_find(&registry, name);
}

int dirty_log_register(const struct dirty_log_ops *ops)
{
	return registry_add(&registry, ops);
}

void dirty_log_list(FILE *f)
{
	const struct dirty_log_ops *o;
	int i;

	dirty_log_foreach (o, i) {
		fprintf(f, "  %-16s %s\n", o->name, o->summary);
		if (o->options_help)
			fprintf(f, "  %-16s   options: %s\n", "", o->options_help);
	}
}

static void unknown_strategy(const char *name, char *err, size_t errlen)
{
	int used = snprintf(err, errlen, "unknown strategy '%s' (choose from", name);

	if (used > 0)
		registry_append_names(&registry, err, errlen, (size_t)used);
}

/* spec_parse's callback: one KEY=VALUE for the log's strategy. */
static int set_option(void *arg, const char *key, const char *value, char *err, size_t errlen)
{
	struct dirty_log *log = arg;

	return log->ops->set_option(log, key, value, err, errlen);
}

struct dirty_log *dirty_log_create(const char *spec, const struct dirty_log_hints *hints, char *err,
				   size_t errlen)
{
	char name[SPEC_MAX];
	const struct dirty_log_ops *ops;
	struct dirty_log *log;

	if (spec_name(spec, name, sizeof(name)) < 0 || strlen(spec) >= sizeof(log->spec)) {
		snprintf(err, errlen, "strategy '%.40s...' is too long", spec);
		return NULL;
	}
	ops = dirty_log_find(name);
	if (!ops) {
		unknown_strategy(name, err, errlen);
		return NULL;
	}
	log = calloc(1, sizeof(*log));
	if (!log || !(log->priv = calloc(1, ops->priv_size ? ops->priv_size : 1))) {
		free(log);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	log->ops = ops;
	if (hints)
		log->hints = *hints;
	strcpy(log->spec, spec);
	if (spec_parse(spec, name, sizeof(name), ops->set_option ? set_option : NULL, log, err,
		       errlen)) {
		dirty_log_free(log);
		return NULL;
	}
	return log;
}

void dirty_log_free(struct dirty_log *log)
{
	if (!log)
		return;
	free(log->priv);
	free(log);
}

const char *dirty_log_spec(const struct dirty_log *log)
{
	return log->spec;
}

const char *dirty_log_name(const struct dirty_log *log)
{
	return log->ops->name;
}

/* ---- the VM's side ---- */

int dirty_log_attach(struct dirty_log *log, struct vm *vm, char *err, size_t errlen)
{
	int rc;

	log->vm = vm;
	rc = log->ops->init(log, err, errlen);
	if (rc)
		log->vm = NULL;
	return rc;
}

void dirty_log_detach(struct dirty_log *log)
{
	log->ops->destroy(log);
	log->vm = NULL;
}

void dirty_log_enable(struct dirty_log *log)
{
	if (log->ops->enable)
		log->ops->enable(log);
}

bool dirty_log_initially_dirty(const struct dirty_log *log)
{
	return log->ops->initially_dirty && log->ops->initially_dirty(log);
}

bool dirty_log_marks_need_mmu_lock(const struct dirty_log *log)
{
	return log->ops->marks_need_mmu_lock;
}

enum dirty_log_mmu dirty_log_mmu_kind(const struct dirty_log *log)
{
	return log->ops->mmu;
}

int dirty_log_probe(const struct dirty_log *log, char *why, size_t len)
{
	return log->ops->probe ? log->ops->probe(log, why, len) : 0;
}

void dirty_log_handle_fault(struct dirty_log *log, struct vcpu *v, uint64_t gfn)
{
	log->ops->handle_fault(log, v, gfn);
}

void dirty_log_disable(struct dirty_log *log)
{
	if (log->ops->disable)
		log->ops->disable(log);
}

void dirty_log_floor_reset(struct dirty_log *log, const unsigned long *dirty)
{
	if (log->ops->floor_reset)
		log->ops->floor_reset(log, dirty);
}

int dirty_log_floor_pass(struct dirty_log *log, const unsigned long *dirty)
{
	return log->ops->floor_pass ? log->ops->floor_pass(log, dirty) : -EOPNOTSUPP;
}

const char *dirty_log_mmu_name(const struct dirty_log *log)
{
	return log->ops->mmu_name ? log->ops->mmu_name(log) : log->ops->name;
}

int dirty_log_fault_floor(const struct dirty_log *log, double *ns, char *err, size_t errlen)
{
	if (!log->ops->fault_floor) {
		snprintf(err, errlen, "%s: no fault floor", log->ops->name);
		return -ENOENT;
	}
	return log->ops->fault_floor(log, ns, err, errlen);
}

int dirty_log_vcpu_thread_begin(struct dirty_log *log, struct vcpu *v, char *err, size_t errlen)
{
	return log->ops->vcpu_thread_begin ? log->ops->vcpu_thread_begin(log, v, err, errlen) : 0;
}

void dirty_log_vcpu_thread_end(struct dirty_log *log, struct vcpu *v)
{
	if (log->ops->vcpu_thread_end)
		log->ops->vcpu_thread_end(log, v);
}

bool dirty_log_can_block(const struct dirty_log *log)
{
	return log->ops->vcpu_blocked != NULL;
}

bool dirty_log_vcpu_blocked(struct dirty_log *log, struct vcpu *v)
{
	return log->ops->vcpu_blocked && log->ops->vcpu_blocked(log, v);
}

/* ---- the harvester's side ---- */

/* The strategy's result, or else the real MMU's first protect error. */
static int with_mmu_error(struct dirty_log *log, int rc)
{
	/* relaxed: written on this (the harvester's) thread, or by a fault
	 * handler whose un-protect failed (which aborts) */
	return rc ? rc : atomic_load_explicit(&log->vm->mmu_error, memory_order_relaxed);
}

int dirty_log_get(struct dirty_log *log, unsigned long *dirty, unsigned flags)
{
	return with_mmu_error(log, log->ops->get_log(log, dirty, flags));
}

int dirty_log_clear(struct dirty_log *log, const unsigned long *dirty)
{
	return with_mmu_error(log, log->ops->clear_log ? log->ops->clear_log(log, dirty) : 0);
}

bool dirty_log_has_clear(const struct dirty_log *log)
{
	return log->ops->clear_log != NULL;
}

unsigned dirty_log_report_lag(const struct dirty_log *log)
{
	return log->ops->report_lag ? log->ops->report_lag(log) : 0;
}

/* ---- bitmaps ---- */

uint64_t bitmap_weight(const unsigned long *b, uint64_t nbits)
{
	uint64_t n = 0;
	size_t full = (size_t)(nbits / 64);

	for (size_t i = 0; i < full; i++)
		n += (uint64_t)__builtin_popcountl(b[i]);
	if (nbits % 64)
		n += (uint64_t)__builtin_popcountl(b[full] & ((1ul << (nbits % 64)) - 1));
	return n;
}

atomic_ulong *bitmap_alloc(uint64_t nbits)
{
	size_t words = bitmap_words(nbits);
	size_t bytes = (words * sizeof(atomic_ulong) + CACHELINE - 1) & ~(size_t)(CACHELINE - 1);
	atomic_ulong *b = aligned_alloc(CACHELINE, bytes ? bytes : CACHELINE);

	if (b)
		for (size_t i = 0; i < words; i++)
			atomic_init(&b[i], 0);
	return b;
}

unsigned long *bitmap_alloc_plain(uint64_t nbits)
{
	return calloc(bitmap_words(nbits) ? bitmap_words(nbits) : 1, sizeof(unsigned long));
}

int dirty_log_alloc_slot_bitmaps(struct dirty_log *log, char *err, size_t errlen)
{
	struct memslot_table *t = log->vm->memslots;

	for (uint32_t i = 0; i < t->nslots; i++) {
		t->slots[i].dirty_bitmap = bitmap_alloc(t->slots[i].npages);
		if (!t->slots[i].dirty_bitmap) {
			snprintf(err, errlen, "%s: out of memory for the dirty bitmap of slot %u",
				 log->ops->name, t->slots[i].id);
			dirty_log_free_slot_bitmaps(log);
			return -ENOMEM;
		}
	}
	return 0;
}

void dirty_log_mark_slot_bitmap(struct dirty_log *log, struct vcpu *v, struct memslot *slot,
				uint64_t rel)
{
	(void)log;
	(void)v;
	bitmap_set_atomic(slot->dirty_bitmap, rel);
}

void dirty_log_free_slot_bitmaps(struct dirty_log *log)
{
	struct memslot_table *t = log->vm->memslots;

	for (uint32_t i = 0; i < t->nslots; i++) {
		free(t->slots[i].dirty_bitmap);
		t->slots[i].dirty_bitmap = NULL;
	}
}
