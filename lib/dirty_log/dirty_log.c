/* Dirty-log strategy registry and harvest entry points: see dirty_log.h. */
#include "lib/dirty_log/dirty_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/vm/vm.h"

#define DIRTY_LOG_MAX_STRATEGIES 32

static const struct dirty_log_ops *builtin[] = {
	&dirty_log_srcu_swap_ops,
	&dirty_log_xchg_ops,
	&dirty_log_lock_copy_clear_ops,
	&dirty_log_atomic_and_ops,
	&dirty_log_clear_log_ops,
	&dirty_log_dirty_ring_ops,
};

#define NBUILTIN ((int)(sizeof(builtin) / sizeof(builtin[0])))

/* Registered at start-up by tests, before any thread runs. */
static const struct dirty_log_ops *registered[DIRTY_LOG_MAX_STRATEGIES];
static int nregistered;

const struct dirty_log_ops *dirty_log_nth(int i)
{
	if (i < 0)
		return NULL;
	if (i < NBUILTIN)
		return builtin[i];
	i -= NBUILTIN;
	return i < nregistered ? registered[i] : NULL;
}

const struct dirty_log_ops *dirty_log_find(const char *name)
{
	const struct dirty_log_ops *o;

	for (int i = 0; (o = dirty_log_nth(i)); i++)
		if (!strcmp(o->name, name))
			return o;
	return NULL;
}

int dirty_log_register(const struct dirty_log_ops *ops)
{
	if (dirty_log_find(ops->name) || nregistered == DIRTY_LOG_MAX_STRATEGIES)
		return -1;
	registered[nregistered++] = ops;
	return 0;
}

void dirty_log_list(FILE *f)
{
	const struct dirty_log_ops *o;

	for (int i = 0; (o = dirty_log_nth(i)); i++) {
		fprintf(f, "  %-16s %s\n", o->name, o->summary);
		if (o->options_help)
			fprintf(f, "  %-16s   options: %s\n", "", o->options_help);
	}
}

struct dirty_log *dirty_log_create(const char *spec, const struct dirty_log_hints *hints,
				   char *err, size_t errlen)
{
	char buf[sizeof(((struct dirty_log *)0)->spec)];
	char *opts, *save = NULL;
	const struct dirty_log_ops *ops;
	struct dirty_log *log;

	if (strlen(spec) >= sizeof(buf)) {
		snprintf(err, errlen, "strategy '%.40s...' is too long", spec);
		return NULL;
	}
	strcpy(buf, spec);
	opts = strchr(buf, ':');
	if (opts)
		*opts++ = 0;
	ops = dirty_log_find(buf);
	if (!ops) {
		const struct dirty_log_ops *o;
		int used = snprintf(err, errlen, "unknown strategy '%s' (choose from", buf);

		for (int i = 0; (o = dirty_log_nth(i)) && used > 0 && (size_t)used < errlen; i++)
			used += snprintf(err + used, errlen - (size_t)used, " %s", o->name);
		if (used > 0 && (size_t)used < errlen)
			snprintf(err + used, errlen - (size_t)used, ")");
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
	for (char *kv = opts ? strtok_r(opts, ",", &save) : NULL; kv;
	     kv = strtok_r(NULL, ",", &save)) {
		char *val = strchr(kv, '=');

		if (!val || !ops->set_option) {
			snprintf(err, errlen, "strategy %s: bad option '%s' (%s)", ops->name, kv,
				 ops->options_help ? ops->options_help : "it takes no options");
			dirty_log_free(log);
			return NULL;
		}
		*val++ = 0;
		if (ops->set_option(log, kv, val, err, errlen)) {
			dirty_log_free(log);
			return NULL;
		}
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

void dirty_log_get(struct dirty_log *log, unsigned long *dirty, unsigned flags)
{
	log->ops->get_log(log, dirty, flags);
}

void dirty_log_clear(struct dirty_log *log, const unsigned long *dirty)
{
	if (log->ops->clear_log)
		log->ops->clear_log(log, dirty);
}

unsigned dirty_log_report_lag(const struct dirty_log *log)
{
	return log->ops->report_lag ? log->ops->report_lag(log) : 0;
}

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

unsigned long *bitmap_alloc(uint64_t nbits)
{
	size_t bytes = (bitmap_words(nbits) * sizeof(unsigned long) + 63) & ~(size_t)63;
	unsigned long *b = aligned_alloc(64, bytes ? bytes : 64);

	if (b)
		memset(b, 0, bytes);
	return b;
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
			return -1;
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
