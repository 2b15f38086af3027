/*
 * Strategy specs: "NAME[:KEY=VALUE[,KEY=VALUE...]]", the one form in which
 * every strategy family (dirty_log, memslot_protect, vcpu_array, rmap) is
 * named with its options, on the command line and in configs.
 */
#ifndef DLBENCH_UTIL_SPEC_H
#define DLBENCH_UTIL_SPEC_H

#include <stddef.h>
#include <stdint.h>

#define SPEC_MAX 160 /* longest spec, terminator included */

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

/*
 * Copies NAME, the part of @spec before any ':', into @name (@namelen
 * bytes, terminator included): a family looks its strategy up by it before
 * spec_parse calls the strategy's option hook.  Returns NAME's length
 * (0 for an empty one), or -1 when it does not fit.
 */
int spec_name(const char *spec, char *name, size_t namelen);

/*
 * For a strategy's option hook: @value as an integer in [@min, @max]
 * (decimal, 0x hex or 0 octal) into @out; -EINVAL with "KEY=VALUE: not an
 * integer in [MIN, MAX]" in @err otherwise.
 */
int spec_option_u32(const char *key, const char *value, uint32_t min, uint32_t max, uint32_t *out,
		    char *err, size_t errlen);

/*
 * Splits a comma list of specs: "a,b:k=1,j=2,c" is "a", "b:k=1,j=2", "c"
 * (a comma starts a new spec unless what follows it is a KEY=VALUE).
 * Writes the specs into @out (at most @max; the strings are allocated once
 * and live as long as the process) and returns their number; 0 when
 * @value is a single spec (keep it as it is), -1 when there are more than
 * @max or memory ran out.  For an option's expand hook.
 */
int spec_split_list(const char *value, const char **out, int max);

#endif
