/*
 * Strategy specs: "NAME[:KEY=VALUE[,KEY=VALUE...]]", the one form in which
 * every strategy family (dirty_log, memslot_protect, vcpu_array, rmap) is
 * named with its options, on the command line and in configs.
 */
#ifndef DLBENCH_UTIL_SPEC_H
#define DLBENCH_UTIL_SPEC_H

#include <stddef.h>

#define SPEC_MAX 160          /* longest spec, terminator included */

/* Called for each KEY=VALUE; 0, or -1 with one line in @err. */
typedef int (*spec_option_fn)(void *arg, const char *key, const char *value, char *err,
			      size_t errlen);

/*
 * Copies NAME into @name (@namelen bytes) and calls @fn for each option in
 * order.  Returns 0; -EINVAL with one line in @err for a spec that is too
 * long, an empty name, an option without '=' (or options when @fn is NULL:
 * the strategy takes none), or whatever @fn refused.
 */
int spec_parse(const char *spec, char *name, size_t namelen, spec_option_fn fn, void *arg,
	       char *err, size_t errlen);

#endif
