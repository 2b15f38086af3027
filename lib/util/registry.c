/* The strategy families' registry: see registry.h. */
#include "lib/util/registry.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

const void *registry_nth(const struct registry *r, int i)
{
	if (i < 0)
		return NULL;
	if (i < r->nbuiltin)
		return r->builtin[i];
	i -= r->nbuiltin;
	return i < r->nregistered ? r->registered[i] : NULL;
}

const void *registry_find(const struct registry *r, const char *name)
{
	const void *ops;

	for (int i = 0; (ops = registry_nth(r, i)); i++)
		if (!strcmp(registry_name(ops), name))
			return ops;
	return NULL;
}

int registry_add(struct registry *r, const void *ops)
{
	if (registry_find(r, registry_name(ops)))
		return -EEXIST;
	if (r->nregistered == r->max_registered)
		return -ENOSPC;
	r->registered[r->nregistered++] = ops;
	return 0;
}

void registry_append_names(const struct registry *r, char *buf, size_t len, size_t used)
{
	const void *ops;

	for (int i = 0; (ops = registry_nth(r, i)); i++)
		if (used < len)
			used += (size_t)snprintf(buf + used, len - used, " %s", registry_name(ops));
	if (used < len)
		snprintf(buf + used, len - used, ")");
}
