/*
 * The one registry every strategy family (dirty_log, memslot_protect,
 * vcpu_array, rmap) keeps of its ops tables: the built-ins, in the order of
 * the family's X-macro list, then the ones tests add with X_register.  An
 * ops table is seen as `const void *` whose first member is its name
 * (`const char *name`).  Each family wraps these in its own typed
 * X_nth / X_find / X_register.
 */
#ifndef DLBENCH_UTIL_REGISTRY_H
#define DLBENCH_UTIL_REGISTRY_H

#include <stddef.h>

#include "lib/util/compiler.h"

struct registry {
	const void *const *builtin; /* the family's X-macro array */
	int nbuiltin;
	const void **registered; /* X_register's, before any thread runs */
	int max_registered;
	int nregistered;
};

/* struct registry r = REGISTRY_INIT(builtin, registered): both arrays. */
#define REGISTRY_INIT(builtin_array, registered_array)                                  \
	{                                                                               \
		.builtin = (builtin_array), .nbuiltin = (int)ARRAY_SIZE(builtin_array), \
		.registered = (registered_array),                                       \
		.max_registered = (int)ARRAY_SIZE(registered_array),                    \
	}

/* The name of ops table @ops (its first member). */
static inline const char *registry_name(const void *ops)
{
	return *(const char *const *)ops;
}

/* The i-th ops table (built-ins first), NULL past the end. */
const void *registry_nth(const struct registry *r, int i);
/* By exact name; NULL when none has it. */
const void *registry_find(const struct registry *r, const char *name);
/* Adds @ops after the built-ins: 0, -EEXIST if its name is taken, -ENOSPC
 * when the registered array is full. */
int registry_add(struct registry *r, const void *ops);
/*
 * Appends " name" for each ops table to @buf, which holds @used bytes of
 * text (an "unknown strategy '...' (one of" line), then ")"; whatever does
 * not fit in @len is cut.
 */
void registry_append_names(const struct registry *r, char *buf, size_t len, size_t used);

#endif
