/* Memslot read protection: the registry and the common update path.  See
 * memslot_protect.h. */
#include "lib/memslot_protect/memslot_protect.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const struct memslot_protect_ops memslot_protect_floor_ops;
extern const struct memslot_protect_ops memslot_protect_mutex_ops;
extern const struct memslot_protect_ops memslot_protect_rwlock_ops;
extern const struct memslot_protect_ops memslot_protect_rwlock_cond_ops;
extern const struct memslot_protect_ops memslot_protect_srcu_mb_ops;
extern const struct memslot_protect_ops memslot_protect_srcu_fast_ops;
extern const struct memslot_protect_ops memslot_protect_urcu_ops;

static const struct memslot_protect_ops *const registry[] = {
	&memslot_protect_floor_ops,
	&memslot_protect_mutex_ops,
	&memslot_protect_rwlock_ops,
	&memslot_protect_rwlock_cond_ops,
	&memslot_protect_srcu_mb_ops,
	&memslot_protect_srcu_fast_ops,
	&memslot_protect_urcu_ops,
};

#define NREGISTRY (sizeof(registry) / sizeof(registry[0]))

/* Every name resolves through memslot_protect_find (tests/test_memslot_protect
 * checks it). */
const char *const memslot_protect_names[] = {
	"floor", "mutex", "rwlock", "rwlock-cond", "srcu-mb", "srcu-fast", "urcu", NULL,
};

const struct memslot_protect_ops *memslot_protect_find(const char *name)
{
	for (size_t i = 0; i < NREGISTRY; i++)
		if (!strcmp(registry[i]->name, name))
			return registry[i];
	return NULL;
}

void memslot_protect_options_default(struct memslot_protect_options *o)
{
	memset(o, 0, sizeof(*o));
	o->expedited = false;
	o->floor_retain_bytes = 256ull << 20;
}

struct memslot_protect *memslot_protect_create(const char *name,
					       const struct memslot_protect_options *o,
					       struct memslot_table *initial)
{
	const struct memslot_protect_ops *ops = memslot_protect_find(name);

	if (!ops) {
		fprintf(stderr, "memslot: unknown protection '%s'\n", name);
		free(initial);
		return NULL;
	}
	return memslot_protect_create_ops(ops, o, initial);
}

struct memslot_protect *memslot_protect_create_ops(const struct memslot_protect_ops *ops,
						   const struct memslot_protect_options *o,
						   struct memslot_table *initial)
{
	struct memslot_protect *p = calloc(1, sizeof(*p));

	if (!p) {
		fprintf(stderr, "memslot: out of memory for protection %s\n", ops->name);
		free(initial);
		return NULL;
	}
	p->ops = ops;
	if (o)
		p->opt = *o;
	else
		memslot_protect_options_default(&p->opt);
	pthread_mutex_init(&p->update_lock, NULL);
	pthread_mutex_init(&p->readers_lock, NULL);
	if (ops->init(p, initial) != 0) {
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
		fprintf(stderr, "memslot: %s: %d readers still registered (first: %s)\n",
			p->ops->name, p->nreaders, p->readers->name);
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

void memslot_rwlock_init(pthread_rwlock_t *lock)
{
	pthread_rwlockattr_t attr;

	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(lock, &attr);
	pthread_rwlockattr_destroy(&attr);
}
