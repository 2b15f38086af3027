/* Memslot read protection: the registry and the common update path.  See
 * memslot_protect.h. */
#include "lib/memslot_protect/memslot_protect.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/srcu/srcu.h"
#include "lib/util/compiler.h"
#include "lib/util/registry.h"
#include "lib/util/spec.h"

/* ---- the registry */

#define MEMSLOT_PROTECT_OPS_ENTRY(ident, ...) &memslot_protect_##ident##_ops,

static const void *const builtin[] = { MEMSLOT_PROTECT_STRATEGIES(MEMSLOT_PROTECT_OPS_ENTRY) };

static const void *registered[MEMSLOT_PROTECT_MAX_REGISTERED];
static struct registry registry = REGISTRY_INIT(builtin, registered);

const char *memslot_protect_names[ARRAY_SIZE(builtin) + 1];

/* The names from the ops tables, before main (a choice list is a static
 * array, and an ops table's name is not a constant expression). */
__attribute__((constructor)) static void memslot_protect_names_init(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(builtin); i++)
		memslot_protect_names[i] = registry_name(builtin[i]);
	memslot_protect_names[ARRAY_SIZE(builtin)] = NULL;
}

const struct memslot_protect_ops *memslot_protect_nth(int i)
{
	return registry_nth(&registry, i);
}

const struct memslot_protect_ops *memslot_protect_find(const char *name)
{
	return registry_find(&registry, name);
}

int memslot_protect_register(const struct memslot_protect_ops *ops)
{
	return registry_add(&registry, ops);
}

/* ---- specs */

struct spec_arg {
	const struct memslot_protect_ops *ops;
	struct memslot_protect_options *o;
};

static int spec_option(void *arg, const char *key, const char *value, char *err, size_t errlen)
{
	struct spec_arg *a = arg;

	return a->ops->set_option(a->o, key, value, err, errlen);
}

/* Parses @spec into its ops table and @o (which holds the defaults). */
static int spec_apply(const char *spec, const struct memslot_protect_ops **opsp,
		      struct memslot_protect_options *o, char *err, size_t errlen)
{
	char name[SPEC_MAX];
	struct spec_arg a = { .o = o };

	if (spec_name(spec, name, sizeof(name)) < 0) {
		snprintf(err, errlen, "memslot protection '%.40s...': name too long", spec);
		return -EINVAL;
	}
	a.ops = memslot_protect_find(name);
	if (!a.ops) {
		snprintf(err, errlen,
			 "unknown memslot protection '%s' (one of: floor, mutex, rwlock, "
			 "rwlock-cond, srcu-*, urcu; `all`)",
			 name);
		return -EINVAL;
	}
	*opsp = a.ops;
	if (spec_parse(spec, name, sizeof(name), a.ops->set_option ? spec_option : NULL, &a, err,
		       errlen))
		return -EINVAL;
	return 0;
}

int memslot_protect_spec_check(const char *spec, char *err, size_t errlen)
{
	const struct memslot_protect_ops *ops;
	struct memslot_protect_options o;

	memslot_protect_options_default(&o);
	return spec_apply(spec, &ops, &o, err, errlen);
}

int memslot_protect_spec_srcu(const char *spec, struct memslot_protect_options *o, char *err,
			      size_t errlen)
{
	const struct memslot_protect_ops *ops;

	if (spec_apply(spec, &ops, o, err, errlen))
		return -2;
#define SPEC_SRCU_FLAVOUR(ident, str, flavour, sum) \
	if (ops == &memslot_protect_##ident##_ops)  \
		return (int)(flavour);
	MEMSLOT_PROTECT_SRCU_FLAVOURS(SPEC_SRCU_FLAVOUR)
#undef SPEC_SRCU_FLAVOUR
	return -1;
}

int memslot_protect_spec_expand(const char *value, const char **out, int max)
{
	const struct memslot_protect_ops *ops;
	int n = 0, i;

	if (strcmp(value, "all"))
		return spec_split_list(value, out, max);
	memslot_protect_foreach (ops, i) {
		if (n == max)
			return -1;
		out[n++] = ops->name;
	}
	return n;
}

void memslot_protect_list(FILE *f)
{
	const struct memslot_protect_ops *ops;
	int i;

	fprintf(f, "memslot protections (NAME[:KEY=VALUE,...]):\n");
	memslot_protect_foreach (ops, i) {
		fprintf(f, "  %-12s %s\n", ops->name, ops->summary ? ops->summary : "");
		if (ops->options_help)
			fprintf(f, "  %-12s   options: %s\n", "", ops->options_help);
	}
}

/* ---- one protection */

void memslot_protect_options_default(struct memslot_protect_options *o)
{
	memset(o, 0, sizeof(*o));
	o->expedited = false;
	o->srcu_idle_fast_path = true;
	o->srcu_expedited = -1;
	o->floor_retain_bytes = 256ull << 20;
}

struct memslot_protect *memslot_protect_create(const char *spec,
					       const struct memslot_protect_options *o,
					       struct memslot_table *initial, char *err,
					       size_t errlen)
{
	const struct memslot_protect_ops *ops = NULL;
	struct memslot_protect *p = calloc(1, sizeof(*p));
	int rc;

	if (!p) {
		snprintf(err, errlen, "memslot protection %s: out of memory", spec);
		free(initial);
		return NULL;
	}
	if (o)
		p->opt = *o;
	else
		memslot_protect_options_default(&p->opt);
	rc = spec_apply(spec, &ops, &p->opt, err, errlen);
	if (!rc && strlen(spec) >= sizeof(p->spec)) {
		snprintf(err, errlen, "memslot protection '%.40s...': spec too long", spec);
		rc = -EINVAL;
	}
	if (rc) {
		free(p);
		free(initial);
		return NULL;
	}
	p->ops = ops;
	strcpy(p->spec, spec);
	pthread_mutex_init(&p->update_lock, NULL);
	pthread_mutex_init(&p->readers_lock, NULL);
	if (ops->init(p, initial, err, errlen) != 0) {
		pthread_mutex_destroy(&p->update_lock);
		pthread_mutex_destroy(&p->readers_lock);
		free(p);
		return NULL;
	}
	return p;
}

int memslot_protect_destroy(struct memslot_protect *p)
{
	if (!p)
		return 0;
	pthread_mutex_lock(&p->readers_lock);
	if (p->nreaders) {
		pthread_mutex_unlock(&p->readers_lock);
		return -EBUSY;
	}
	pthread_mutex_unlock(&p->readers_lock);
	p->ops->destroy(p);
	pthread_mutex_destroy(&p->update_lock);
	pthread_mutex_destroy(&p->readers_lock);
	free(p);
	return 0;
}

const char *memslot_protect_name(const struct memslot_protect *p)
{
	return p->ops->name;
}

const char *memslot_protect_spec(const struct memslot_protect *p)
{
	return p->spec;
}

void memslot_protect_set_kick(struct memslot_protect *p, void (*kick)(void *arg), void *arg)
{
	p->kick = kick;
	p->kick_arg = arg;
}

struct memslot_reader *memslot_reader_register(struct memslot_protect *p, const char *name)
{
	struct memslot_reader *r = p->ops->reader_register(p, name ? name : "reader");

	if (!r)
		return NULL;
	r->ops = p->ops;
	r->protect = p;
	snprintf(r->name, sizeof(r->name), "%s", name ? name : "reader");
	pthread_mutex_lock(&p->readers_lock);
	r->next = p->readers;
	p->readers = r;
	p->nreaders++;
	pthread_mutex_unlock(&p->readers_lock);
	return r;
}

void memslot_reader_unregister(struct memslot_reader *r)
{
	struct memslot_protect *p;

	if (!r)
		return;
	p = r->protect;
	/* Unlisted first: an updater that walks the list under readers_lock
	 * never reaches a reader being freed. */
	pthread_mutex_lock(&p->readers_lock);
	for (struct memslot_reader **pp = &p->readers; *pp; pp = &(*pp)->next)
		if (*pp == r) {
			*pp = r->next;
			p->nreaders--;
			break;
		}
	pthread_mutex_unlock(&p->readers_lock);
	p->ops->reader_unregister(r);
}

void *memslot_reader_alloc(size_t size)
{
	size_t sz = (size + CACHELINE - 1) / CACHELINE * CACHELINE;
	void *r = aligned_alloc(CACHELINE, sz);

	if (r)
		memset(r, 0, sz);
	else
		errno = ENOMEM;
	return r;
}

struct memslot_table *memslot_protect_current(struct memslot_protect *p)
{
	return p->ops->current(p);
}

int memslot_protect_update(struct memslot_protect *p, memslot_change_fn change, void *arg)
{
	return memslot_protect_update_grow(p, MEMSLOT_UPDATE_EXTRA_SLOTS, change, arg);
}

int memslot_protect_update_grow(struct memslot_protect *p, uint32_t extra_slots,
				memslot_change_fn change, void *arg)
{
	struct memslot_table *old, *next;
	int rc;

	pthread_mutex_lock(&p->update_lock);
	old = p->ops->current(p);
	next = memslot_table_copy(old, extra_slots);
	if (!next) {
		rc = -ENOMEM;
		goto out;
	}
	rc = change(next, arg);
	if (rc) {
		free(next);
		goto out;
	}
	rc = p->ops->replace(p, next);
	if (rc) {
		/* Published all the same (see the ops): readers may hold it. */
		if (p->ops->current(p) != next)
			free(next);
		goto out;
	}
	/* No reader holds @old any more (replace waited for that). */
	if (p->ops->retire)
		rc = p->ops->retire(p, old);
	else
		memslot_table_retire(old);
	p->updates++;
out:
	pthread_mutex_unlock(&p->update_lock);
	return rc;
}

int memslot_rwlock_init(pthread_rwlock_t *lock)
{
	pthread_rwlockattr_t attr;
	int rc;

	rc = pthread_rwlockattr_init(&attr);
	if (rc)
		return -rc;
	rc = pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	if (!rc)
		rc = pthread_rwlock_init(lock, &attr);
	pthread_rwlockattr_destroy(&attr);
	return -rc;
}
